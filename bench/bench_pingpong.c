/* bench/bench_pingpong.c: two actors on one scheduler bounce one-way
 * messages; 2,000,000 messages in total (the count argument overrides).
 * Measures the cost of a local send + dispatch through the runtime: mailbox
 * push, run-queue push, batch drain, table dispatch.
 *   bench_pingpong [--schedulers N] [--spin-us U] [count]     (bench.h)
 * With 2 or more schedulers (--schedulers, or TROUPE_SCHEDULERS when the
 * flag is absent) the two players are pinned on schedulers 0 and 1, so
 * every message crosses between scheduler threads (capacity CAS, inbox
 * node, and a wake-up when the receiver sleeps): the cross-scheduler
 * figure. tr_runtime_run starts scheduler 1's thread and joins it.
 * Output: "pingpong: <msg/s> msg/s", then details. */
#include "bench.h"

#include <inttypes.h>
#include <string.h>

enum { MSG_BALL = TR_MSG_USER };

typedef struct player_s {
    tr_ref_t peer;
} player_t;

static uint64_t t_end;
static int send_failed;

static void on_ball(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    player_t *self = state;
    uint64_t left;
    memcpy(&left, msg->data, sizeof left);
    if (tr_ref_valid(msg->sender))
        self->peer = msg->sender;
    if (--left == 0) {
        t_end = bench_now_ns();
        tr_runtime_stop(tr_ctx_runtime(ctx));
        return;
    }
    if (tr_send(ctx, self->peer, MSG_BALL, &left, sizeof left) != 0) {
        send_failed = 1;
        t_end = bench_now_ns();
        tr_runtime_stop(tr_ctx_runtime(ctx));
    }
}

static int player_init(tr_ctx_t *ctx, void *state, const void *args) {
    ((player_t *)state)->peer = *(const tr_ref_t *)args;
    return 0;
}

static const tr_handler_t player_handlers[] = {
    TR_ON(MSG_BALL, on_ball, uint64_t),
    TR_END
};

static const tr_actor_type_t player_type = {
    .name = "player",
    .state_size = sizeof(player_t),
    .handlers = player_handlers,
    .init = player_init,
};

int main(int argc, char **argv) {
    bench_cli_t cli = {.count = 2000000};
    bench_cli(argc, argv, &cli, 0);
    uint64_t n = cli.count;
    tr_runtime_t *rt = bench_runtime("pingpong", &cli);
    int rc;
    uint16_t nsched = tr_runtime_schedulers(rt);

    /* b is spawned first and learns its peer from the first ball's sender;
     * a knows b from its init args and receives the first ball from main.
     * With several schedulers: a on scheduler 0, b on scheduler 1. Spawned
     * from the owner thread before tr_runtime_run, both init here. */
    tr_ref_t a, b;
    tr_spawn_opts_t so = {0};
    tr_ref_t none = TR_REF_NONE;
    so.args = &none;
    so.args_len = sizeof none;
    if (nsched > 1) {
        so.place = TR_PLACE_PIN;
        so.scheduler = 1;
    }
    if ((rc = tr_spawn(rt, &player_type, &so, &b)) != 0)
        bench_die("pingpong", "tr_spawn", rc);
    so.args = &b;
    so.scheduler = 0;
    if ((rc = tr_spawn(rt, &player_type, &so, &a)) != 0)
        bench_die("pingpong", "tr_spawn", rc);

    uint64_t t0 = bench_now_ns();
    if ((rc = tr_runtime_send(rt, a, MSG_BALL, &n, sizeof n)) != 0)
        bench_die("pingpong", "tr_runtime_send", rc);
    if ((rc = tr_runtime_run(rt)) != 0)
        bench_die("pingpong", "tr_runtime_run", rc);
    if (send_failed) {
        fprintf(stderr, "pingpong: a send failed\n");
        return 1;
    }
    double secs = (double)(t_end - t0) / 1e9;

    tr_stats_t st;
    tr_runtime_stats(rt, &st);
    printf("pingpong: %.0f msg/s\n", (double)n / secs);
    printf("  messages %" PRIu64 ", %.3f s, %.1f ns/msg\n", n, secs, secs * 1e9 / (double)n);
    printf("  msgs_sent %" PRIu64 ", msgs_handled %" PRIu64 ", loop_passes %" PRIu64
           ", dead_letters %" PRIu64 "\n",
           st.msgs_sent, st.msgs_handled, st.loop_passes, st.dead_letters);
    if (nsched > 1)
        printf("  schedulers %u, spin_us %u: players pinned on schedulers 0 and 1, every "
               "message crosses\n",
               (unsigned)nsched, cli.spin_us ? cli.spin_us : 20u);
    bench_print_scheds(rt);
    tr_runtime_destroy(rt);
    return 0;
}
