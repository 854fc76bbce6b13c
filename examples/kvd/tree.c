/* examples/kvd/tree.c: kvd's supervision tree (kvd.h), shared by main.c
 * and the tests. */
#include "kvd.h"

#include <stdio.h>

kvd_stats_t kvd_stats;

int kvd_start(tr_runtime_t *rt, const kvd_listener_args_t *largs) {
    const kvd_settings_t *s = &largs->settings;
    for (uint32_t i = 0; i < KVD_SHARDS_MAX; i++)
        atomic_store_explicit(&kvd_stats.shard_starts[i], 0, memory_order_relaxed);
    /* The tree. Start order is shards, clients, listener, so that shutdown
     * (reverse order) first stops accepting, then closes the connections,
     * and stops the shards last, once nobody can call them. */
    tr_child_spec_t shard_specs[KVD_SHARDS_MAX];
    char shard_names[KVD_SHARDS_MAX][24];
    kvd_shard_args_t shard_args[KVD_SHARDS_MAX];
    for (uint32_t i = 0; i < s->shards; i++) {
        snprintf(shard_names[i], sizeof shard_names[i], "shard-%u", i);
        shard_args[i].index = i;
        shard_specs[i] = (tr_child_spec_t){
            .name = shard_names[i], .type = &kvd_shard_type, .restart = TR_PERMANENT,
            .args = &shard_args[i], .args_len = sizeof shard_args[i],
            .mailbox_capacity = s->shard_mailbox};
    }
    tr_sup_spec_t shards = {.strategy = TR_ONE_FOR_ONE, .intensity = 10, .period_ms = 10000,
                            .children = shard_specs, .nchildren = s->shards};
    tr_child_spec_t client_spec = {.name = "client", .type = &kvd_conn_type,
                                   .restart = TR_TEMPORARY, .shutdown_ms = 1000,
                                   .mailbox_capacity = s->client_mailbox};
    tr_sup_spec_t clients = {.strategy = TR_SIMPLE_ONE_FOR_ONE, .children = &client_spec,
                             .nchildren = 1};
    tr_child_spec_t top[] = {
        {.name = "shards", .sup = &shards, .restart = TR_PERMANENT},
        {.name = "clients", .sup = &clients, .restart = TR_PERMANENT},
        /* next to kvd/clients (supervisors live next to their parent), as
         * it starts and counts the clients through the tr_sup_* API */
        {.name = "listener", .type = &kvd_listener_type, .restart = TR_PERMANENT,
         .args = largs, .args_len = sizeof *largs, .place = TR_PLACE_LOCAL},
    };
    tr_sup_spec_t root = {.strategy = TR_ONE_FOR_ONE, .intensity = 3, .period_ms = 5000,
                          .children = top, .nchildren = sizeof top / sizeof top[0]};
    return tr_sup_start(rt, KVD_ROOT, &root, NULL);
}
