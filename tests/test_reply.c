/* tests/test_reply.c: request/reply: a reply channel resolves exactly once,
 * with the value, the responder's error, DropWithoutReport (returned,
 * stopped, discarded), TR_ETIMEDOUT, or the caller is told at once (dead,
 * full, no handler); late replies and cancelled continuations are counted;
 * tr_call_sync from foreign threads only. Every test ends by checking that
 * chan_created equals the sum of the outcomes and nothing is pending. */
#include "tr_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

enum {
    MSG_GO = TR_MSG_USER, /* client: go_t */
    MSG_SYNC_HERE,        /* client: try tr_call_sync inside a handler */
    MSG_ECHO,             /* server: int -> reply int*2 */
    MSG_FAIL,             /* server: reply_error(42, "bad thing") */
    MSG_NOREPLY,          /* server: return without replying */
    MSG_KEEP,             /* server: keep the channel */
    MSG_RELEASE,          /* server: int: answer the kept channel */
    MSG_TWICE,            /* server: reply twice */
    MSG_FWD,              /* server: int: keep, call the backend, answer later */
    MSG_NOOP,             /* server: one-way; tries to reply to it */
    MSG_DROPKEPT,         /* server: tr_reply_drop the kept channel */
    MSG_HOLE              /* in no table */
};

typedef struct go_s {
    tr_ref_t target;
    int type;
    int arg;
    int with_arg;        /* send arg as an int payload */
    uint32_t timeout_ms;
    int prefill;         /* tr_send(target, MSG_NOOP) first */
    int stop_target;     /* tr_stop(target) right after the call */
    int bad_len;         /* send a wrong payload size */
    int null_cont;
    int postfill;        /* tr_send(target, MSG_NOOP) right after the call */
    int move;            /* tr_call_move a malloc'd int (counting dtor) */
} go_t;

#define MAXC 64

typedef struct probe_s {
    int call_rc, prefill_rc, stop_rc, bad_len_rc, null_cont_rc;
    int conts;
    int status[MAXC];
    int error[MAXC];
    int drop_reason[MAXC];
    char detail[MAXC][64];
    int has_detail[MAXC];
    int value[MAXC];
    size_t len[MAXC];
    tr_ref_t responder[MAXC];
    void *cookie[MAXC];
    int state_ok[MAXC];
    int self_ok[MAXC];
    void *client_state;
    tr_ref_t client_ref;
    /* server */
    int echoes, noops, kept_ok, release_calls;
    int reply_to_rc;
    int twice_rc1, twice_rc2, twice_rc3, twice_keep_null;
    int oneway_reply_rc, oneway_keep_null;
    int fwd_call_rc, fwd_reply_rc;
    tt_log_t order; /* 1 backend echo, 2 middle answers, 3 client cont */
    int sync_here_rc;
    int postfill_rc;
    int move_dtors;
    int drop_rc, drop_again_rc;
} probe_t;

static probe_t g;
static int cookie_marker;

static int setup(void **state) {
    (void)state;
    memset(&g, 0, sizeof g);
    return 0;
}

/* ------------------------------------------------------------------ */
/* client */

typedef struct client_s {
    int dummy;
} client_t;

static void on_result(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie) {
    int i = g.conts++;
    tt_log_push(&g.order, 3);
    if (i >= MAXC)
        return;
    g.status[i] = r->status;
    g.error[i] = r->error;
    g.drop_reason[i] = (int)r->drop_reason;
    g.has_detail[i] = r->detail != NULL;
    if (r->detail)
        snprintf(g.detail[i], sizeof g.detail[i], "%s", r->detail);
    g.len[i] = r->len;
    if (r->status == TR_OK && r->len == sizeof(int))
        memcpy(&g.value[i], r->data, sizeof(int));
    g.responder[i] = r->responder;
    g.cookie[i] = cookie;
    g.state_ok[i] = state == g.client_state;
    g.self_ok[i] = tr_ref_eq(tr_self(ctx), g.client_ref);
}

static void move_dtor(void *p) {
    g.move_dtors++;
    free(p);
}

static void on_go(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    go_t go;
    memcpy(&go, m->data, sizeof go);
    g.client_state = state;
    g.client_ref = tr_self(ctx);
    if (go.prefill)
        g.prefill_rc = tr_send(ctx, go.target, MSG_NOOP, NULL, 0);
    if (go.bad_len) {
        char buf[16] = {0};
        g.bad_len_rc = tr_call(ctx, go.target, MSG_ECHO, buf, sizeof buf, on_result,
                               &cookie_marker, 0);
    }
    if (go.null_cont)
        g.null_cont_rc = tr_call(ctx, go.target, MSG_ECHO, &go.arg, sizeof(int), NULL, NULL, 0);
    if (go.move) {
        int *p = malloc(sizeof *p);
        *p = go.arg;
        g.call_rc = tr_call_move(ctx, go.target, go.type, p, sizeof *p, move_dtor, on_result,
                                 &cookie_marker, go.timeout_ms);
    } else {
        g.call_rc = tr_call(ctx, go.target, go.type, go.with_arg ? &go.arg : NULL,
                            go.with_arg ? sizeof(int) : 0, on_result, &cookie_marker,
                            go.timeout_ms);
    }
    if (go.postfill)
        g.postfill_rc = tr_send(ctx, go.target, MSG_NOOP, NULL, 0);
    if (go.stop_target)
        g.stop_rc = tr_stop(tr_ctx_runtime(ctx), go.target);
}

static void on_sync_here(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    tr_ref_t target;
    memcpy(&target, m->data, sizeof target);
    int x = 1;
    tr_result_t res;
    g.sync_here_rc = tr_call_sync(tr_ctx_runtime(ctx), target, MSG_ECHO, &x, sizeof x, &res, 0);
    tr_result_release(&res);
}

static const tr_handler_t client_handlers[] = {
    TR_ON(MSG_GO, on_go, go_t),
    TR_ON(MSG_SYNC_HERE, on_sync_here, tr_ref_t),
    TR_END,
};

static const tr_actor_type_t client_type = {
    .name = "client",
    .state_size = sizeof(client_t),
    .handlers = client_handlers,
};

/* ------------------------------------------------------------------ */
/* server */

typedef struct server_s {
    tr_reply_t *kept;
    tr_ref_t backend;
} server_t;

static int server_init(tr_ctx_t *ctx, void *state, const void *args) {
    (void)ctx;
    server_t *s = state;
    if (args)
        memcpy(&s->backend, args, sizeof s->backend);
    return 0;
}

static void on_echo(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    int v;
    memcpy(&v, m->data, sizeof v);
    g.echoes++;
    tt_log_push(&g.order, 1);
    v *= 2;
    (void)tr_reply(ctx, m, &v, sizeof v);
}

static void on_fail(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    (void)tr_reply_error(ctx, m, 42, "bad thing");
}

static void on_noreply(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    (void)m;
}

static void on_keep(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    server_t *s = state;
    s->kept = tr_reply_keep(ctx, m);
    g.kept_ok = s->kept != NULL;
}

static void on_release(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    server_t *s = state;
    int v;
    memcpy(&v, m->data, sizeof v);
    g.release_calls++;
    if (s->kept) {
        g.reply_to_rc = tr_reply_to(ctx, s->kept, &v, sizeof v);
        s->kept = NULL;
    } else {
        g.reply_to_rc = 12345;
    }
}

static void on_dropkept(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)m;
    server_t *s = state;
    g.drop_rc = tr_reply_drop(ctx, s->kept, "changed my mind");
    s->kept = NULL;
    g.drop_again_rc = tr_reply_drop(ctx, NULL, "nothing");
}

static void on_twice(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    int one = 1, two = 2;
    g.twice_rc1 = tr_reply(ctx, m, &one, sizeof one);
    g.twice_rc2 = tr_reply(ctx, m, &two, sizeof two);
    g.twice_rc3 = tr_reply_error(ctx, m, 5, "late error");
    g.twice_keep_null = tr_reply_keep(ctx, m) == NULL;
}

static void on_fwd_result(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie) {
    (void)cookie;
    server_t *s = state;
    int v = -1;
    if (r->status == TR_OK && r->len == sizeof(int))
        memcpy(&v, r->data, sizeof v);
    tt_log_push(&g.order, 2);
    g.fwd_reply_rc = s->kept ? tr_reply_to(ctx, s->kept, &(int){v + 1}, sizeof(int)) : 777;
    s->kept = NULL;
}

static void on_fwd(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    server_t *s = state;
    s->kept = tr_reply_keep(ctx, m);
    g.kept_ok = s->kept != NULL;
    g.fwd_call_rc = tr_call(ctx, s->backend, MSG_ECHO, m->data, sizeof(int), on_fwd_result,
                            NULL, 0);
}

static void on_noop(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    g.noops++;
    g.oneway_reply_rc = tr_reply(ctx, m, NULL, 0);
    g.oneway_keep_null = tr_reply_keep(ctx, m) == NULL;
}

static const tr_handler_t server_handlers[] = {
    TR_ON(MSG_ECHO, on_echo, int),
    TR_ON_EMPTY(MSG_FAIL, on_fail),
    TR_ON_EMPTY(MSG_NOREPLY, on_noreply),
    TR_ON_EMPTY(MSG_KEEP, on_keep),
    TR_ON(MSG_RELEASE, on_release, int),
    TR_ON_EMPTY(MSG_TWICE, on_twice),
    TR_ON(MSG_FWD, on_fwd, int),
    TR_ON_EMPTY(MSG_NOOP, on_noop),
    TR_ON_EMPTY(MSG_DROPKEPT, on_dropkept),
    TR_END,
};

static const tr_actor_type_t server_type = {
    .name = "server",
    .state_size = sizeof(server_t),
    .handlers = server_handlers,
    .init = server_init,
};

/* ------------------------------------------------------------------ */

static tr_ref_t spawn_server(tr_runtime_t *rt, uint32_t cap, const tr_ref_t *backend) {
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.mailbox_capacity = cap;
    o.args = backend;
    return tt_spawn(rt, &server_type, &o);
}

static tr_ref_t spawn_client(tr_runtime_t *rt) { return tt_spawn(rt, &client_type, NULL); }

static void go(tr_runtime_t *rt, tr_ref_t client, const go_t *gg) {
    assert_int_equal(tr_runtime_send(rt, client, MSG_GO, gg, sizeof *gg), 0);
}

static go_t mkgo(tr_ref_t target, int type) {
    go_t x;
    memset(&x, 0, sizeof x);
    x.target = target;
    x.type = type;
    return x;
}

static void test_call_reply_ok(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t srv = spawn_server(rt, 0, NULL);
    tr_ref_t cli = spawn_client(rt);
    go_t x = mkgo(srv, MSG_ECHO);
    x.with_arg = 1;
    x.arg = 21;
    go(rt, cli, &x);
    tt_drain(rt);
    assert_int_equal(g.call_rc, 0);
    assert_int_equal(g.conts, 1);
    assert_int_equal(g.status[0], TR_OK);
    assert_int_equal(g.len[0], sizeof(int));
    assert_int_equal(g.value[0], 42);
    assert_true(tr_ref_eq(g.responder[0], srv));
    assert_ptr_equal(g.cookie[0], &cookie_marker);
    assert_true(g.state_ok[0]);
    assert_true(g.self_ok[0]);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.chan_created, 1);
    assert_int_equal(s.chan_ok, 1);
    tt_assert_chan_balance(rt);
    tr_runtime_destroy(rt);
    assert_int_equal(g.conts, 1);
}

static void test_reply_error(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t srv = spawn_server(rt, 0, NULL);
    tr_ref_t cli = spawn_client(rt);
    go_t x = mkgo(srv, MSG_FAIL);
    go(rt, cli, &x);
    tt_drain(rt);
    assert_int_equal(g.call_rc, 0);
    assert_int_equal(g.conts, 1);
    assert_int_equal(g.status[0], TR_EREPLY);
    assert_int_equal(g.error[0], 42);
    assert_true(g.has_detail[0]);
    assert_string_equal(g.detail[0], "bad thing");
    assert_true(tr_ref_eq(g.responder[0], srv));
    assert_int_equal(tt_stats(rt).chan_error, 1);
    tt_assert_chan_balance(rt);
    tr_runtime_destroy(rt);
}

static void test_return_without_reply(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t srv = spawn_server(rt, 0, NULL);
    tr_ref_t cli = spawn_client(rt);
    go_t x = mkgo(srv, MSG_NOREPLY);
    go(rt, cli, &x);
    tt_drain(rt);
    assert_int_equal(g.call_rc, 0);
    assert_int_equal(g.conts, 1);
    assert_int_equal(g.status[0], TR_EDROPPED);
    assert_int_equal(g.drop_reason[0], TR_DROP_RETURNED);
    assert_int_equal(strncmp(tr_strerror(TR_EDROPPED), "DropWithoutReport", 17), 0);
    assert_non_null(tr_drop_reason_str(TR_DROP_RETURNED));
    assert_true(strlen(tr_drop_reason_str(TR_DROP_RETURNED)) > 0);
    assert_int_equal(tt_stats(rt).chan_dropped, 1);
    tt_assert_chan_balance(rt);
    tr_runtime_destroy(rt);
}

static void test_keep_answer_after_own_call(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t backend = spawn_server(rt, 0, NULL);
    tr_ref_t middle = spawn_server(rt, 0, &backend);
    tr_ref_t cli = spawn_client(rt);
    go_t x = mkgo(middle, MSG_FWD);
    x.with_arg = 1;
    x.arg = 10;
    go(rt, cli, &x);
    tt_drain(rt);
    assert_int_equal(g.call_rc, 0);
    assert_true(g.kept_ok);
    assert_int_equal(g.fwd_call_rc, 0);
    assert_int_equal(g.fwd_reply_rc, 0);
    assert_int_equal(g.conts, 1);
    assert_int_equal(g.status[0], TR_OK);
    assert_int_equal(g.value[0], 21); /* backend 2*10, middle +1 */
    assert_true(tr_ref_eq(g.responder[0], middle));
    /* backend answered, then the middle, then the client's continuation */
    assert_int_equal(g.order.n, 3);
    assert_int_equal(g.order.v[0], 1);
    assert_int_equal(g.order.v[1], 2);
    assert_int_equal(g.order.v[2], 3);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.chan_created, 2);
    assert_int_equal(s.chan_ok, 2);
    tt_assert_chan_balance(rt);

    /* kept in one handler, answered from another one (a later message) */
    x = mkgo(middle, MSG_KEEP);
    go(rt, cli, &x);
    tt_drain(rt);
    assert_true(g.kept_ok);
    assert_int_equal(g.conts, 1);
    int v = 77;
    assert_int_equal(tr_runtime_send(rt, middle, MSG_RELEASE, &v, sizeof v), 0);
    tt_drain(rt);
    assert_int_equal(g.reply_to_rc, 0);
    assert_int_equal(g.conts, 2);
    assert_int_equal(g.status[1], TR_OK);
    assert_int_equal(g.value[1], 77);
    tt_assert_chan_balance(rt);
    tr_runtime_destroy(rt);
}

static void test_kept_then_stopped(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t srv = spawn_server(rt, 0, NULL);
    tr_ref_t cli = spawn_client(rt);
    go_t x = mkgo(srv, MSG_KEEP);
    go(rt, cli, &x);
    tt_drain(rt);
    assert_true(g.kept_ok);
    assert_int_equal(g.conts, 0);
    assert_int_equal(tr_stop(rt, srv), 0);
    tt_drain(rt);
    assert_int_equal(g.conts, 1);
    assert_int_equal(g.status[0], TR_EDROPPED);
    assert_int_equal(g.drop_reason[0], TR_DROP_STOPPED);
    assert_true(tr_ref_eq(g.responder[0], srv));
    assert_int_equal(tt_stats(rt).chan_dropped, 1);
    tt_assert_chan_balance(rt);
    tr_runtime_destroy(rt);
    assert_int_equal(g.conts, 1);
}

static void test_queued_call_discarded(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t srv = spawn_server(rt, 0, NULL);
    tr_ref_t cli = spawn_client(rt);
    go_t x = mkgo(srv, MSG_ECHO);
    x.with_arg = 1;
    x.arg = 1;
    x.stop_target = 1; /* the stop overtakes the queued call (system lane) */
    go(rt, cli, &x);
    tt_drain(rt);
    assert_int_equal(g.call_rc, 0);
    assert_int_equal(g.stop_rc, 0);
    assert_int_equal(g.echoes, 0);
    assert_int_equal(g.conts, 1);
    assert_int_equal(g.status[0], TR_EDROPPED);
    assert_int_equal(g.drop_reason[0], TR_DROP_DISCARDED);
    assert_int_equal(tt_stats(rt).chan_dropped, 1);
    tt_assert_chan_balance(rt);
    tr_runtime_destroy(rt);
}

static void test_call_errors_at_once(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t cli = spawn_client(rt);

    /* stale ref */
    tr_ref_t dead = spawn_server(rt, 0, NULL);
    assert_int_equal(tr_stop(rt, dead), 0);
    tt_drain(rt);
    go_t x = mkgo(dead, MSG_ECHO);
    x.with_arg = 1;
    go(rt, cli, &x);
    tt_drain(rt);
    assert_int_equal(g.call_rc, TR_EDEAD);
    assert_int_equal(g.conts, 0);

    /* full mailbox (capacity 1, filled by the client just before) */
    tr_ref_t full = spawn_server(rt, 1, NULL);
    x = mkgo(full, MSG_ECHO);
    x.with_arg = 1;
    x.prefill = 1;
    go(rt, cli, &x);
    tt_drain(rt);
    assert_int_equal(g.prefill_rc, 0);
    assert_int_equal(g.call_rc, TR_EFULL);
    assert_int_equal(g.noops, 1);
    assert_int_equal(g.echoes, 0);
    assert_int_equal(g.conts, 0);

    /* unknown type, wrong payload size, NULL continuation */
    tr_ref_t srv = spawn_server(rt, 0, NULL);
    x = mkgo(srv, MSG_HOLE);
    x.bad_len = 1;
    x.null_cont = 1;
    go(rt, cli, &x);
    tt_drain(rt);
    assert_int_equal(g.call_rc, TR_ENOHANDLER);
    assert_int_equal(g.bad_len_rc, TR_EINVAL);
    assert_int_equal(g.null_cont_rc, TR_EINVAL);
    assert_int_equal(g.echoes, 0);
    assert_int_equal(g.conts, 0);

    /* nothing was created for any of them */
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.chan_created, 0);
    tt_assert_chan_balance(rt);
    tr_runtime_destroy(rt);
    assert_int_equal(g.conts, 0);
}

static void test_kept_then_dropped_explicitly(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t srv = spawn_server(rt, 0, NULL);
    tr_ref_t cli = spawn_client(rt);
    go_t x = mkgo(srv, MSG_KEEP);
    go(rt, cli, &x);
    tt_drain(rt);
    assert_true(g.kept_ok);
    assert_int_equal(tr_runtime_send(rt, srv, MSG_DROPKEPT, NULL, 0), 0);
    tt_drain(rt);
    assert_int_equal(g.drop_rc, 0);
    assert_int_equal(g.drop_again_rc, TR_EINVAL);
    assert_int_equal(g.conts, 1);
    assert_int_equal(g.status[0], TR_EDROPPED);
    assert_int_equal(g.drop_reason[0], TR_DROP_RETURNED);
    assert_true(g.has_detail[0]);
    assert_string_equal(g.detail[0], "changed my mind");
    assert_int_equal(tt_stats(rt).chan_dropped, 1);
    tt_assert_chan_balance(rt);
    tr_runtime_destroy(rt);
    assert_int_equal(g.conts, 1);
}

static tr_ref_t spawn_server_policy(tr_runtime_t *rt, uint32_t cap, tr_overflow_t policy) {
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.mailbox_capacity = cap;
    o.overflow = policy;
    return tt_spawn(rt, &server_type, &o);
}

static void test_call_dropped_by_overflow_policy(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t cli = spawn_client(rt);

    /* drop_newest: the call is accepted (0) and its channel says why */
    tr_ref_t dn = spawn_server_policy(rt, 1, TR_OVERFLOW_DROP_NEWEST);
    go_t x = mkgo(dn, MSG_ECHO);
    x.with_arg = 1;
    x.prefill = 1;
    go(rt, cli, &x);
    tt_drain(rt);
    assert_int_equal(g.prefill_rc, 0);
    assert_int_equal(g.call_rc, 0);
    assert_int_equal(g.echoes, 0);
    assert_int_equal(g.noops, 1);
    assert_int_equal(g.conts, 1);
    assert_int_equal(g.status[0], TR_EDROPPED);
    assert_int_equal(g.drop_reason[0], TR_DROP_OVERFLOW);

    /* drop_oldest: the queued call is evicted by a later message */
    tr_ref_t dold = spawn_server_policy(rt, 1, TR_OVERFLOW_DROP_OLDEST);
    x = mkgo(dold, MSG_ECHO);
    x.with_arg = 1;
    x.postfill = 1;
    go(rt, cli, &x);
    tt_drain(rt);
    assert_int_equal(g.call_rc, 0);
    assert_int_equal(g.postfill_rc, 0);
    assert_int_equal(g.echoes, 0);
    assert_int_equal(g.noops, 2);
    assert_int_equal(g.conts, 2);
    assert_int_equal(g.status[1], TR_EDROPPED);
    assert_int_equal(g.drop_reason[1], TR_DROP_OVERFLOW);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.chan_created, 2);
    assert_int_equal(s.drops_newest, 1);
    assert_int_equal(s.drops_oldest, 1);
    tt_assert_chan_balance(rt);
    tr_runtime_destroy(rt);
    assert_int_equal(g.conts, 2);
}

static void test_call_move_dtor_once(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t srv = spawn_server(rt, 0, NULL);
    tr_ref_t cli = spawn_client(rt);
    /* delivered and answered */
    go_t x = mkgo(srv, MSG_ECHO);
    x.move = 1;
    x.arg = 8;
    go(rt, cli, &x);
    tt_drain(rt);
    assert_int_equal(g.call_rc, 0);
    assert_int_equal(g.conts, 1);
    assert_int_equal(g.status[0], TR_OK);
    assert_int_equal(g.value[0], 16);
    assert_int_equal(g.move_dtors, 1);
    /* error at send time: the destructor has already run */
    x = mkgo(srv, MSG_HOLE);
    x.move = 1;
    go(rt, cli, &x);
    tt_drain(rt);
    assert_int_equal(g.call_rc, TR_ENOHANDLER);
    assert_int_equal(g.move_dtors, 2);
    /* discarded from a stopping actor's mailbox */
    x = mkgo(srv, MSG_ECHO);
    x.move = 1;
    x.stop_target = 1;
    go(rt, cli, &x);
    tt_drain(rt);
    assert_int_equal(g.call_rc, 0);
    assert_int_equal(g.conts, 2);
    assert_int_equal(g.status[1], TR_EDROPPED);
    assert_int_equal(g.drop_reason[1], TR_DROP_DISCARDED);
    assert_int_equal(g.move_dtors, 3);
    /* stale target */
    x = mkgo(srv, MSG_ECHO);
    x.move = 1;
    go(rt, cli, &x);
    tt_drain(rt);
    assert_int_equal(g.call_rc, TR_EDEAD);
    assert_int_equal(g.move_dtors, 4);
    assert_int_equal(g.conts, 2);
    tt_assert_chan_balance(rt);
    tr_runtime_destroy(rt);
    assert_int_equal(g.move_dtors, 4);
}

static void test_timeout_then_late_reply(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime_manual();
    tr_ref_t srv = spawn_server(rt, 0, NULL);
    tr_ref_t cli = spawn_client(rt);
    go_t x = mkgo(srv, MSG_KEEP);
    x.timeout_ms = 100;
    go(rt, cli, &x);
    tt_drain(rt);
    assert_int_equal(g.call_rc, 0);
    assert_true(g.kept_ok);
    assert_int_equal(tr_runtime_advance(rt, 99), 0);
    tt_drain(rt);
    assert_int_equal(g.conts, 0);
    assert_int_equal(tr_runtime_advance(rt, 1), 0);
    tt_drain(rt);
    assert_int_equal(g.conts, 1);
    assert_int_equal(g.status[0], TR_ETIMEDOUT);
    assert_int_equal(tr_runtime_now_ms(rt), 100);

    /* the reply after the deadline is discarded and counted */
    int v = 5;
    assert_int_equal(tr_runtime_send(rt, srv, MSG_RELEASE, &v, sizeof v), 0);
    tt_drain(rt);
    assert_int_equal(g.reply_to_rc, 0);
    assert_int_equal(tr_runtime_advance(rt, 1000), 0);
    tt_drain(rt);
    assert_int_equal(g.conts, 1);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.chan_timeout, 1);
    assert_int_equal(s.late_replies, 1);
    assert_int_equal(s.chan_ok, 0);

    /* a reply in time cancels the timeout */
    x = mkgo(srv, MSG_ECHO);
    x.with_arg = 1;
    x.arg = 4;
    x.timeout_ms = 50;
    go(rt, cli, &x);
    tt_drain(rt);
    assert_int_equal(g.conts, 2);
    assert_int_equal(g.status[1], TR_OK);
    assert_int_equal(g.value[1], 8);
    assert_int_equal(tr_runtime_advance(rt, 100), 0);
    tt_drain(rt);
    assert_int_equal(g.conts, 2);
    s = tt_stats(rt);
    assert_int_equal(s.chan_timeout, 1);
    assert_int_equal(s.chan_ok, 1);
    tt_assert_chan_balance(rt);
    tr_runtime_destroy(rt);
}

static void test_caller_stops_before_reply(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime_manual();
    tr_ref_t srv = spawn_server(rt, 0, NULL);
    tr_ref_t cli = spawn_client(rt);
    go_t x = mkgo(srv, MSG_KEEP);
    x.timeout_ms = 100;
    go(rt, cli, &x);
    tt_drain(rt);
    assert_true(g.kept_ok);
    assert_int_equal(tr_stop(rt, cli), 0);
    tt_drain(rt);
    /* past the deadline: the cancelled call does not time out either */
    assert_int_equal(tr_runtime_advance(rt, 200), 0);
    tt_drain(rt);
    assert_int_equal(g.conts, 0);
    int v = 3;
    assert_int_equal(tr_runtime_send(rt, srv, MSG_RELEASE, &v, sizeof v), 0);
    tt_drain(rt);
    assert_int_equal(g.release_calls, 1);
    assert_int_equal(g.reply_to_rc, 0);
    assert_int_equal(g.conts, 0);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.chan_cancelled, 1);
    assert_int_equal(s.conts_cancelled, 1);
    assert_int_equal(s.chan_timeout, 0);
    assert_int_equal(s.chan_ok, 0);
    assert_int_equal(s.late_replies, 1);
    tt_assert_chan_balance(rt);
    tr_runtime_destroy(rt);
    assert_int_equal(g.conts, 0);
}

static void test_reply_twice(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t srv = spawn_server(rt, 0, NULL);
    tr_ref_t cli = spawn_client(rt);
    go_t x = mkgo(srv, MSG_TWICE);
    go(rt, cli, &x);
    tt_drain(rt);
    assert_int_equal(g.twice_rc1, 0);
    assert_int_equal(g.twice_rc2, TR_EALREADY);
    assert_int_equal(g.twice_rc3, TR_EALREADY);
    assert_true(g.twice_keep_null);
    assert_int_equal(g.conts, 1);
    assert_int_equal(g.status[0], TR_OK);
    assert_int_equal(g.value[0], 1);

    /* replying to a one-way message is refused */
    assert_int_equal(tr_runtime_send(rt, srv, MSG_NOOP, NULL, 0), 0);
    tt_drain(rt);
    assert_int_equal(g.noops, 1);
    assert_int_equal(g.oneway_reply_rc, TR_EINVAL);
    assert_true(g.oneway_keep_null);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.chan_created, 1);
    assert_int_equal(s.chan_ok, 1);
    tt_assert_chan_balance(rt);
    tr_runtime_destroy(rt);
}

/* ------------------------------------------------------------------ */
/* tr_call_sync */

typedef struct sync_arg_s {
    tr_runtime_t *rt;
    tr_ref_t srv, dead;
    _Atomic int done;
    int n;
    int rc_fail;         /* calls that did not return 0 */
    int ok, bad_value;
    int fail_status, fail_error, fail_detail_ok;
    int drop_status, drop_reason;
    int dead_rc, dead_status;
} sync_arg_t;

static void *sync_thread(void *p) {
    sync_arg_t *a = p;
    for (int i = 0; i < a->n; i++) {
        tr_result_t res;
        int rc = tr_call_sync(a->rt, a->srv, MSG_ECHO, &i, sizeof i, &res, 0);
        if (rc != 0) {
            a->rc_fail++;
        } else if (res.status == TR_OK && res.len == sizeof(int)) {
            int v;
            memcpy(&v, res.data, sizeof v);
            if (v == 2 * i)
                a->ok++;
            else
                a->bad_value++;
        }
        tr_result_release(&res);
    }
    tr_result_t res;
    if (tr_call_sync(a->rt, a->srv, MSG_FAIL, NULL, 0, &res, 0) == 0) {
        a->fail_status = res.status;
        a->fail_error = res.error;
        a->fail_detail_ok = res.detail && strcmp(res.detail, "bad thing") == 0;
    } else {
        a->rc_fail++;
    }
    tr_result_release(&res);
    tr_result_release(&res); /* idempotent */
    if (tr_call_sync(a->rt, a->srv, MSG_NOREPLY, NULL, 0, &res, 0) == 0) {
        a->drop_status = res.status;
        a->drop_reason = (int)res.drop_reason;
    } else {
        a->rc_fail++;
    }
    tr_result_release(&res);
    a->dead_rc = tr_call_sync(a->rt, a->dead, MSG_ECHO, &a->n, sizeof a->n, &res, 0);
    a->dead_status = res.status;
    tr_result_release(&res);

    atomic_store(&a->done, 1);
    /* wake the scheduler so it re-checks the predicate */
    (void)tr_runtime_send(a->rt, a->srv, MSG_NOOP, NULL, 0);
    return NULL;
}

static int sync_done(void *p) {
    sync_arg_t *a = p;
    return atomic_load(&a->done) != 0;
}

static void test_call_sync_foreign_thread(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t srv = spawn_server(rt, 0, NULL);
    tr_ref_t dead = spawn_server(rt, 0, NULL);
    assert_int_equal(tr_stop(rt, dead), 0);
    tt_drain(rt);

    sync_arg_t *a = calloc(1, sizeof *a);
    assert_non_null(a);
    a->rt = rt;
    a->srv = srv;
    a->dead = dead;
    a->n = 200;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, sync_thread, a), 0);
    assert_int_equal(tr_runtime_run_until(rt, sync_done, a), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    tt_drain(rt);
    assert_int_equal(a->rc_fail, 0);
    assert_int_equal(a->ok, 200);
    assert_int_equal(a->bad_value, 0);
    assert_int_equal(a->fail_status, TR_EREPLY);
    assert_int_equal(a->fail_error, 42);
    assert_true(a->fail_detail_ok);
    assert_int_equal(a->drop_status, TR_EDROPPED);
    assert_int_equal(a->drop_reason, TR_DROP_RETURNED);
    /* a dead target: the call returns 0 and the outcome says why */
    assert_int_equal(a->dead_rc, 0);
    assert_int_equal(a->dead_status, TR_EDEAD);
    assert_int_equal(g.echoes, 200);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.chan_ok, 200);
    assert_int_equal(s.chan_error, 1);
    assert_int_equal(s.chan_dropped, 1);
    tt_assert_chan_balance(rt);
    free(a);
    tr_runtime_destroy(rt);
}

static void test_call_sync_wrong_thread(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t srv = spawn_server(rt, 0, NULL);
    tr_ref_t cli = spawn_client(rt);
    int x = 1;
    tr_result_t res;
    memset(&res, 0x5A, sizeof res);
    /* the scheduler thread, outside handlers: would deadlock */
    assert_int_equal(tr_call_sync(rt, srv, MSG_ECHO, &x, sizeof x, &res, 0), TR_EWRONGTHREAD);
    tr_result_release(&res); /* *out is initialised even on error */
    /* inside a handler */
    g.sync_here_rc = 999;
    assert_int_equal(tr_runtime_send(rt, cli, MSG_SYNC_HERE, &srv, sizeof srv), 0);
    tt_drain(rt);
    assert_int_equal(g.sync_here_rc, TR_EWRONGTHREAD);
    assert_int_equal(g.echoes, 0);
    tt_assert_chan_balance(rt);
    tr_runtime_destroy(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_call_reply_ok, setup),
        cmocka_unit_test_setup(test_reply_error, setup),
        cmocka_unit_test_setup(test_return_without_reply, setup),
        cmocka_unit_test_setup(test_keep_answer_after_own_call, setup),
        cmocka_unit_test_setup(test_kept_then_stopped, setup),
        cmocka_unit_test_setup(test_queued_call_discarded, setup),
        cmocka_unit_test_setup(test_call_errors_at_once, setup),
        cmocka_unit_test_setup(test_kept_then_dropped_explicitly, setup),
        cmocka_unit_test_setup(test_call_dropped_by_overflow_policy, setup),
        cmocka_unit_test_setup(test_call_move_dtor_once, setup),
        cmocka_unit_test_setup(test_timeout_then_late_reply, setup),
        cmocka_unit_test_setup(test_caller_stops_before_reply, setup),
        cmocka_unit_test_setup(test_reply_twice, setup),
        cmocka_unit_test_setup(test_call_sync_foreign_thread, setup),
        cmocka_unit_test_setup(test_call_sync_wrong_thread, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
