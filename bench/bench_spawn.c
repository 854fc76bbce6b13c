/* bench/bench_spawn.c: spawn 1,000,000 idle actors (argv[1] overrides) with
 * 16 bytes of state and a mailbox capacity of 64, from the scheduler thread
 * outside any handler. Reports the spawn rate and the memory per idle actor
 * measured from RSS (/proc/self/statm): the baseline is taken after
 * tr_runtime_create, so the runtime's own fixed cost is excluded and
 * everything an actor costs (slot, state, mailbox, run-queue and table
 * growth) is included.
 * Output: "spawn: <actors/s> actors/s" and "spawn_mem: <bytes> bytes/actor". */
#include "bench.h"

#include <inttypes.h>

enum { MSG_PING = TR_MSG_USER };

typedef struct idle_s {
    uint64_t a, b; /* 16 bytes of state */
} idle_t;

static uint64_t pings;

static void on_ping(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    ((idle_t *)state)->a++;
    pings++;
}

static const tr_handler_t idle_handlers[] = {
    TR_ON_EMPTY(MSG_PING, on_ping),
    TR_END
};

static const tr_actor_type_t idle_type = {
    .name = "idle", .state_size = sizeof(idle_t), .handlers = idle_handlers,
};

int main(int argc, char **argv) {
    uint64_t n = bench_arg_count(argc, argv, 1000000);
    tr_runtime_t *rt;
    int rc = tr_runtime_create(NULL, &rt);
    if (rc)
        bench_die("spawn", "tr_runtime_create", rc);

    uint64_t rss0 = bench_rss_bytes();
    tr_spawn_opts_t so = {0};
    so.mailbox_capacity = 64;
    tr_ref_t first = TR_REF_NONE, last = TR_REF_NONE;

    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        if ((rc = tr_spawn(rt, &idle_type, &so, &last)) != 0) {
            fprintf(stderr, "spawn: tr_spawn #%" PRIu64 ": %s\n", i, tr_strerror(rc));
            return 1;
        }
        if (i == 0)
            first = last;
    }
    uint64_t t1 = bench_now_ns();
    uint64_t rss1 = bench_rss_bytes();

    /* Sanity: the first and last actors are alive and answer a message. */
    if ((rc = tr_runtime_send(rt, first, MSG_PING, NULL, 0)) != 0 ||
        (rc = tr_runtime_send(rt, last, MSG_PING, NULL, 0)) != 0)
        bench_die("spawn", "tr_runtime_send", rc);
    tr_runtime_run_until_idle(rt);
    uint64_t rss2 = bench_rss_bytes();

    tr_stats_t st;
    tr_runtime_stats(rt, &st);
    uint64_t t2 = bench_now_ns();
    tr_runtime_destroy(rt);
    uint64_t t3 = bench_now_ns();

    double secs = (double)(t1 - t0) / 1e9;
    double per_actor = rss1 > rss0 ? (double)(rss1 - rss0) / (double)n : 0.0;
    printf("spawn: %.0f actors/s\n", (double)n / secs);
    printf("spawn_mem: %.0f bytes/actor\n", per_actor);
    printf("  actors %" PRIu64 " (state %zu bytes, mailbox capacity 64) in %.3f s, "
           "%.0f ns/spawn\n", n, sizeof(idle_t), secs, secs * 1e9 / (double)n);
    printf("  RSS after tr_runtime_create %.1f MiB, after spawning %.1f MiB, "
           "after 2 messages %.1f MiB\n",
           (double)rss0 / 1048576.0, (double)rss1 / 1048576.0, (double)rss2 / 1048576.0);
    printf("  actors_live %" PRIu64 ", pings handled %" PRIu64
           ", tr_runtime_destroy %.3f s\n",
           st.actors_live, pings, (double)(t3 - t2) / 1e9);
    return pings == 2 ? 0 : 1;
}
