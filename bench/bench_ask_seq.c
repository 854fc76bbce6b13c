/* bench/bench_ask_seq.c: sequential request/reply. A client actor calls a
 * server with tr_call (timeout 0) 500,000 times (the count argument
 * overrides), one at a time: each continuation issues the next call. The
 * server replies with its argument plus one. One round trip = request send
 * + dispatch + reply + continuation dispatch, all on one scheduler.
 *   bench_ask_seq [--schedulers N] [--spin-us U] [count]      (bench.h)
 * With 2 or more schedulers (--schedulers, or TROUPE_SCHEDULERS when the
 * flag is absent) the server is pinned on scheduler 0 and the client on
 * scheduler 1: every request and every reply crosses between scheduler
 * threads through the other's inbox (the reply channel stays on the
 * client's scheduler): the cross-scheduler figure.
 * Output: "ask_seq: <round trips/s> rt/s" and "ask_seq_latency: <ns> ns/rt". */
#include "bench.h"

#include <inttypes.h>
#include <string.h>

enum { MSG_ADD1 = TR_MSG_USER, MSG_START };

static void on_add1(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    int64_t v;
    memcpy(&v, msg->data, sizeof v);
    v++;
    ++*(uint64_t *)state; /* requests served */
    tr_reply(ctx, msg, &v, sizeof v);
}

static const tr_handler_t server_handlers[] = {
    TR_ON(MSG_ADD1, on_add1, int64_t),
    TR_END
};

static const tr_actor_type_t server_type = {
    .name = "adder", .state_size = sizeof(uint64_t), .handlers = server_handlers,
};

typedef struct client_s {
    tr_ref_t server;
    uint64_t target;
    uint64_t done;
} client_t;

static uint64_t t_start, t_end;
static int failed;

static void on_reply(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie);

static void issue(tr_ctx_t *ctx, client_t *self, int64_t v) {
    int rc = tr_call(ctx, self->server, MSG_ADD1, &v, sizeof v, on_reply, NULL, 0);
    if (rc != 0) {
        fprintf(stderr, "ask_seq: tr_call: %s\n", tr_strerror(rc));
        failed = 1;
        t_end = bench_now_ns();
        tr_runtime_stop(tr_ctx_runtime(ctx));
    }
}

static void on_reply(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie) {
    client_t *self = state;
    int64_t v;
    if (r->status != TR_OK || r->len != sizeof v) {
        fprintf(stderr, "ask_seq: call failed: %s\n", tr_strerror(r->status));
        failed = 1;
        t_end = bench_now_ns();
        tr_runtime_stop(tr_ctx_runtime(ctx));
        return;
    }
    memcpy(&v, r->data, sizeof v);
    if ((uint64_t)v != ++self->done) {
        fprintf(stderr, "ask_seq: wrong reply %" PRId64 " after %" PRIu64 "\n", v, self->done);
        failed = 1;
    }
    if (self->done == self->target || failed) {
        t_end = bench_now_ns();
        tr_runtime_stop(tr_ctx_runtime(ctx));
        return;
    }
    issue(ctx, self, v);
}

static void on_start(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    t_start = bench_now_ns();
    issue(ctx, state, 0);
}

static int client_init(tr_ctx_t *ctx, void *state, const void *args) {
    client_t *self = state;
    memcpy(self, args, sizeof *self);
    return 0;
}

static const tr_handler_t client_handlers[] = {
    TR_ON_EMPTY(MSG_START, on_start),
    TR_END
};

static const tr_actor_type_t client_type = {
    .name = "asker", .state_size = sizeof(client_t), .handlers = client_handlers,
    .init = client_init,
};

int main(int argc, char **argv) {
    bench_cli_t cli = {.count = 500000};
    bench_cli(argc, argv, &cli, 0);
    uint64_t n = cli.count;
    tr_runtime_t *rt = bench_runtime("ask_seq", &cli);
    int rc;
    uint16_t nsched = tr_runtime_schedulers(rt);

    client_t init = {.target = n};
    tr_spawn_opts_t so = {0};
    if (nsched > 1) {
        so.place = TR_PLACE_PIN;
        so.scheduler = 0;
    }
    if ((rc = tr_spawn(rt, &server_type, &so, &init.server)) != 0)
        bench_die("ask_seq", "tr_spawn(server)", rc);
    so.scheduler = 1;
    so.args = &init;
    so.args_len = sizeof init;
    tr_ref_t client;
    if ((rc = tr_spawn(rt, &client_type, &so, &client)) != 0)
        bench_die("ask_seq", "tr_spawn(client)", rc);

    if ((rc = tr_runtime_send(rt, client, MSG_START, NULL, 0)) != 0)
        bench_die("ask_seq", "tr_runtime_send", rc);
    if ((rc = tr_runtime_run(rt)) != 0)
        bench_die("ask_seq", "tr_runtime_run", rc);
    if (failed)
        return 1;

    double secs = (double)(t_end - t_start) / 1e9;
    tr_stats_t st;
    tr_runtime_stats(rt, &st);
    printf("ask_seq: %.0f rt/s\n", (double)n / secs);
    printf("ask_seq_latency: %.1f ns/rt\n", secs * 1e9 / (double)n);
    printf("  round trips %" PRIu64 " in %.3f s, timeout 0 (none)\n", n, secs);
    printf("  chan_created %" PRIu64 ", chan_ok %" PRIu64 ", chan_pending %" PRIu64
           ", msgs_handled %" PRIu64 ", loop_passes %" PRIu64 "\n",
           st.chan_created, st.chan_ok, st.chan_pending, st.msgs_handled, st.loop_passes);
    if (nsched > 1)
        printf("  schedulers %u, spin_us %u: server pinned on scheduler 0, client on "
               "scheduler 1, every request and reply crosses\n",
               (unsigned)nsched, cli.spin_us ? cli.spin_us : 20u);
    bench_print_scheds(rt);
    tr_runtime_destroy(rt);
    return 0;
}
