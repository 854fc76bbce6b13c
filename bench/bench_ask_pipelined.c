/* bench/bench_ask_pipelined.c: pipelined request/reply. A client actor keeps
 * up to 1,000 tr_call requests in flight to a server whose mailbox capacity is
 * 1,024, for 2,000,000 requests in total (argv[1] overrides). Each
 * continuation issues the next request, so the window stays full; batching
 * (many messages per actor turn) is what this measures.
 * Output: "ask_pipelined: <req/s> req/s", then details. */
#include "bench.h"

#include <inttypes.h>
#include <string.h>

enum { MSG_ADD1 = TR_MSG_USER, MSG_START };
enum { WINDOW = 1000, SERVER_CAPACITY = 1024 };

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
    uint64_t issued, done;
    uint64_t sum; /* of replies: must be 1 + 2 + ... + target */
    uint32_t max_in_flight;
} client_t;

static uint64_t t_start, t_end;
static int failed;

static void on_reply(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie);

static client_t result; /* copied from the client's state at the end */

static void finish(tr_ctx_t *ctx, const client_t *self) {
    t_end = bench_now_ns();
    result = *self;
    tr_runtime_stop(tr_ctx_runtime(ctx));
}

static int issue(tr_ctx_t *ctx, client_t *self) {
    int64_t v = (int64_t)self->issued;
    int rc = tr_call(ctx, self->server, MSG_ADD1, &v, sizeof v, on_reply, NULL, 0);
    if (rc != 0) {
        fprintf(stderr, "ask_pipelined: tr_call #%" PRIu64 " (%" PRIu64 " in flight): %s\n",
                self->issued, self->issued - self->done, tr_strerror(rc));
        failed = 1;
        finish(ctx, self);
        return rc;
    }
    self->issued++;
    if (self->issued - self->done > self->max_in_flight)
        self->max_in_flight = (uint32_t)(self->issued - self->done);
    return 0;
}

static void on_reply(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie) {
    client_t *self = state;
    int64_t v;
    if (failed)
        return;
    if (r->status != TR_OK || r->len != sizeof v) {
        fprintf(stderr, "ask_pipelined: call failed: %s\n", tr_strerror(r->status));
        failed = 1;
        finish(ctx, self);
        return;
    }
    memcpy(&v, r->data, sizeof v);
    self->sum += (uint64_t)v;
    if (++self->done == self->target) {
        finish(ctx, self);
        return;
    }
    if (self->issued < self->target)
        issue(ctx, self);
}

static void on_start(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    client_t *self = state;
    t_start = bench_now_ns();
    while (self->issued < self->target && self->issued < WINDOW)
        if (issue(ctx, self) != 0)
            return;
}

static int client_init(tr_ctx_t *ctx, void *state, const void *args) {
    memcpy(state, args, sizeof(client_t));
    return 0;
}

static const tr_handler_t client_handlers[] = {
    TR_ON_EMPTY(MSG_START, on_start),
    TR_END
};

static const tr_actor_type_t client_type = {
    .name = "pipeliner", .state_size = sizeof(client_t), .handlers = client_handlers,
    .init = client_init,
};

int main(int argc, char **argv) {
    uint64_t n = bench_arg_count(argc, argv, 2000000);
    tr_runtime_t *rt;
    int rc = tr_runtime_create(NULL, &rt);
    if (rc)
        bench_die("ask_pipelined", "tr_runtime_create", rc);

    client_t init = {.target = n};
    tr_spawn_opts_t so = {0};
    so.mailbox_capacity = SERVER_CAPACITY;
    if ((rc = tr_spawn(rt, &server_type, &so, &init.server)) != 0)
        bench_die("ask_pipelined", "tr_spawn(server)", rc);
    so = (tr_spawn_opts_t){0};
    so.args = &init;
    tr_ref_t client;
    if ((rc = tr_spawn(rt, &client_type, &so, &client)) != 0)
        bench_die("ask_pipelined", "tr_spawn(client)", rc);

    if ((rc = tr_runtime_send(rt, client, MSG_START, NULL, 0)) != 0)
        bench_die("ask_pipelined", "tr_runtime_send", rc);
    if ((rc = tr_runtime_run(rt)) != 0)
        bench_die("ask_pipelined", "tr_runtime_run", rc);
    if (failed)
        return 1;
    if (result.done != n || result.sum != n * (n + 1) / 2) {
        fprintf(stderr, "ask_pipelined: %" PRIu64 " replies summing to %" PRIu64
                        ", expected %" PRIu64 " summing to %" PRIu64 "\n",
                result.done, result.sum, n, n * (n + 1) / 2);
        return 1;
    }

    double secs = (double)(t_end - t_start) / 1e9;
    tr_stats_t st;
    tr_runtime_stats(rt, &st);
    tr_mailbox_info_t mi;
    int have_mi = tr_mailbox_info(rt, init.server, &mi) == 0;
    printf("ask_pipelined: %.0f req/s\n", (double)n / secs);
    printf("  requests %" PRIu64 " in %.3f s, %.1f ns/req, window %d (max in flight %u), "
           "server capacity %d\n",
           n, secs, secs * 1e9 / (double)n, WINDOW, result.max_in_flight, SERVER_CAPACITY);
    if (have_mi)
        printf("  server mailbox high water %u of %u\n", mi.high_water, mi.capacity);
    printf("  chan_created %" PRIu64 ", chan_ok %" PRIu64 ", chan_pending %" PRIu64
           ", msgs_handled %" PRIu64 ", loop_passes %" PRIu64 ", sends_rejected %" PRIu64 "\n",
           st.chan_created, st.chan_ok, st.chan_pending, st.msgs_handled, st.loop_passes,
           st.sends_rejected);
    tr_runtime_destroy(rt);
    return 0;
}
