/* bench/bench_ring.c: a ring of 1,000 actors on one scheduler passes one
 * token around; 2,000,000 hops in total (argv[1] overrides). Unlike
 * pingpong, every hop goes to a different actor, so the run queue turns
 * over and each actor's state and mailbox are cold more often.
 * Output: "ring: <hops/s> hops/s", then details. */
#include "bench.h"

#include <inttypes.h>
#include <string.h>

enum { MSG_TOKEN = TR_MSG_USER, MSG_LINK, RING_SIZE = 1000 };

typedef struct node_s {
    tr_ref_t next;
} node_t;

static uint64_t t_end;
static int send_failed;

static void on_token(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    node_t *self = state;
    uint64_t left;
    memcpy(&left, msg->data, sizeof left);
    if (--left == 0) {
        t_end = bench_now_ns();
        tr_runtime_stop(tr_ctx_runtime(ctx));
        return;
    }
    if (tr_send(ctx, self->next, MSG_TOKEN, &left, sizeof left) != 0) {
        send_failed = 1;
        t_end = bench_now_ns();
        tr_runtime_stop(tr_ctx_runtime(ctx));
    }
}

/* Wiring, before the timed part: each node learns its successor. */
static void on_link(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    (void)ctx;
    memcpy(&((node_t *)state)->next, msg->data, sizeof(tr_ref_t));
}

static const tr_handler_t node_handlers[] = {
    TR_ON(MSG_TOKEN, on_token, uint64_t),
    TR_ON(MSG_LINK, on_link, tr_ref_t),
    TR_END
};

static const tr_actor_type_t node_type = {
    .name = "ring_node", .state_size = sizeof(node_t), .handlers = node_handlers,
};

int main(int argc, char **argv) {
    uint64_t n = bench_arg_count(argc, argv, 2000000);
    tr_runtime_t *rt;
    int rc = tr_runtime_create(NULL, &rt);
    if (rc)
        bench_die("ring", "tr_runtime_create", rc);

    static tr_ref_t nodes[RING_SIZE];
    tr_spawn_opts_t so = {0};
    so.mailbox_capacity = 16;
    for (int i = 0; i < RING_SIZE; i++)
        if ((rc = tr_spawn(rt, &node_type, &so, &nodes[i])) != 0)
            bench_die("ring", "tr_spawn", rc);
    for (int i = 0; i < RING_SIZE; i++)
        if ((rc = tr_runtime_send(rt, nodes[i], MSG_LINK, &nodes[(i + 1) % RING_SIZE],
                                  sizeof(tr_ref_t))) != 0)
            bench_die("ring", "tr_runtime_send", rc);
    tr_runtime_run_until_idle(rt);

    uint64_t t0 = bench_now_ns();
    if ((rc = tr_runtime_send(rt, nodes[0], MSG_TOKEN, &n, sizeof n)) != 0)
        bench_die("ring", "tr_runtime_send", rc);
    if ((rc = tr_runtime_run(rt)) != 0)
        bench_die("ring", "tr_runtime_run", rc);
    if (send_failed) {
        fprintf(stderr, "ring: a send failed\n");
        return 1;
    }
    double secs = (double)(t_end - t0) / 1e9;
    tr_stats_t st;
    tr_runtime_stats(rt, &st);
    printf("ring: %.0f hops/s\n", (double)n / secs);
    printf("  %d actors, %" PRIu64 " hops, %.3f s, %.1f ns/hop, loop_passes %" PRIu64 "\n",
           RING_SIZE, n, secs, secs * 1e9 / (double)n, st.loop_passes);
    tr_runtime_destroy(rt);
    return 0;
}
