/* tests/test_timer_io.c: timers as messages under the manual clock (one-shot
 * at its deadline, periodic, cancel, cancelled at stop), fd readiness as
 * messages (socketpair, at most one pending readiness message, unwatch) and
 * resource ownership (tr_own_fd closes exactly once, one owner per fd,
 * tr_own destructors in reverse order at stop, tr_release early). */
#include "tr_test.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
    MSG_TICK = TR_MSG_USER, /* int payload, from timers */
    MSG_START,              /* start_t */
    MSG_CANCEL,             /* int64_t timer id */
    MSG_READY,              /* tr_fd_event_t */
    MSG_WATCH,              /* int fd */
    MSG_UNWATCH,            /* int fd */
    MSG_OWNFD,              /* int fd */
    MSG_CLOSEFD,            /* int fd */
    MSG_DISOWN,             /* int fd */
    MSG_OWNP,               /* int n: own n objects, ids 1..n */
    MSG_RELEASEP,           /* int id */
    MSG_NOOP
};

typedef struct start_s {
    uint32_t after_ms, repeat_ms;
    int payload;
    int type; /* 0: MSG_TICK */
} start_t;

#define MAXT 64

typedef struct probe_s {
    int64_t timer_id;
    int64_t start_rc_bad_type;
    int cancel_rc;
    int ticks;
    uint64_t tick_at[MAXT];
    int tick_payload[MAXT];
    int tick_from_self[MAXT];
    /* fd */
    int watch_rc, watch_again_rc, watch_neg_rc, watch_ev0_rc, watch_noh_rc;
    int unwatch_rc;
    int ready;
    int ready_fd, ready_events;
    int read_bytes;
    int own_rc, close_rc, disown_rc;
    int noops;
    /* pointers */
    int own_p_rc[8];
    int own_null_dtor_rc;
    int release_rc;
    tt_log_t log; /* dtor ids; -1 marks terminate */
    int terminates;
} probe_t;

static probe_t g;

static int setup(void **state) {
    (void)state;
    memset(&g, 0, sizeof g);
    return 0;
}

typedef struct obj_s {
    int id;
} obj_t;

static void obj_dtor(void *p) {
    obj_t *o = p;
    tt_log_push(&g.log, o->id);
    free(p);
}

typedef struct act_s {
    obj_t *objs[8];
    int watched_fd;
} act_t;

static void act_terminate(tr_ctx_t *ctx, void *state, tr_stop_reason_t reason) {
    (void)ctx;
    (void)state;
    (void)reason;
    g.terminates++;
    tt_log_push(&g.log, -1);
}

static void on_tick(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    int i = g.ticks++;
    if (i >= MAXT)
        return;
    g.tick_at[i] = tr_runtime_now_ms(tr_ctx_runtime(ctx));
    memcpy(&g.tick_payload[i], m->data, sizeof(int));
    g.tick_from_self[i] = tr_ref_eq(m->sender, tr_self(ctx));
}

static void on_start(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    start_t st;
    memcpy(&st, m->data, sizeof st);
    if (st.type) {
        g.start_rc_bad_type =
            tr_timer_start(ctx, st.after_ms, st.repeat_ms, st.type, &st.payload, sizeof(int));
        return;
    }
    g.timer_id = tr_timer_start(ctx, st.after_ms, st.repeat_ms, MSG_TICK, &st.payload,
                                sizeof(int));
}

static void on_cancel(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    int64_t id;
    memcpy(&id, m->data, sizeof id);
    g.cancel_rc = tr_timer_cancel(ctx, id);
}

static void on_ready(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    tr_fd_event_t ev;
    memcpy(&ev, m->data, sizeof ev);
    g.ready++;
    g.ready_fd = ev.fd;
    g.ready_events = ev.events;
    char buf[256];
    ssize_t n;
    while ((n = recv(ev.fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
        g.read_bytes += (int)n;
}

static void on_watch(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    act_t *s = state;
    int fd;
    memcpy(&fd, m->data, sizeof fd);
    s->watched_fd = fd;
    /* invalid requests first: they must not register anything */
    g.watch_ev0_rc = tr_watch_fd(ctx, fd, 0, MSG_READY);
    g.watch_noh_rc = tr_watch_fd(ctx, fd, TR_FD_READ, TR_MSG_USER + 999);
    g.watch_rc = tr_watch_fd(ctx, fd, TR_FD_READ, MSG_READY);
    g.watch_again_rc = tr_watch_fd(ctx, fd, TR_FD_READ, MSG_READY);
    g.watch_neg_rc = tr_watch_fd(ctx, -1, TR_FD_READ, MSG_READY);
}

static void on_unwatch(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    int fd;
    memcpy(&fd, m->data, sizeof fd);
    g.unwatch_rc = tr_unwatch_fd(ctx, fd);
}

static void on_ownfd(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    int fd;
    memcpy(&fd, m->data, sizeof fd);
    g.own_rc = tr_own_fd(ctx, fd);
}

static void on_closefd(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    int fd;
    memcpy(&fd, m->data, sizeof fd);
    g.close_rc = tr_close_fd(ctx, fd);
}

static void on_disown(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    int fd;
    memcpy(&fd, m->data, sizeof fd);
    g.disown_rc = tr_disown_fd(ctx, fd);
}

static void on_ownp(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    act_t *s = state;
    int n;
    memcpy(&n, m->data, sizeof n);
    for (int i = 1; i <= n && i < 8; i++) {
        obj_t *o = malloc(sizeof *o);
        o->id = i;
        s->objs[i] = o;
        g.own_p_rc[i] = tr_own(ctx, o, obj_dtor);
    }
    g.own_null_dtor_rc = tr_own(ctx, s, NULL);
}

static void on_releasep(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    act_t *s = state;
    int id;
    memcpy(&id, m->data, sizeof id);
    g.release_rc = tr_release(ctx, s->objs[id]);
}

static void on_noop(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    (void)m;
    g.noops++;
}

static const tr_handler_t act_handlers[] = {
    TR_ON(MSG_TICK, on_tick, int),
    TR_ON(MSG_START, on_start, start_t),
    TR_ON(MSG_CANCEL, on_cancel, int64_t),
    TR_ON(MSG_READY, on_ready, tr_fd_event_t),
    TR_ON(MSG_WATCH, on_watch, int),
    TR_ON(MSG_UNWATCH, on_unwatch, int),
    TR_ON(MSG_OWNFD, on_ownfd, int),
    TR_ON(MSG_CLOSEFD, on_closefd, int),
    TR_ON(MSG_DISOWN, on_disown, int),
    TR_ON(MSG_OWNP, on_ownp, int),
    TR_ON(MSG_RELEASEP, on_releasep, int),
    TR_ON_EMPTY(MSG_NOOP, on_noop),
    TR_END,
};

static const tr_actor_type_t act_type = {
    .name = "timer_io",
    .state_size = sizeof(act_t),
    .handlers = act_handlers,
    .terminate = act_terminate,
};

static tr_ref_t spawn_act(tr_runtime_t *rt, uint32_t cap) {
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.mailbox_capacity = cap;
    return tt_spawn(rt, &act_type, &o);
}

static void send_int(tr_runtime_t *rt, tr_ref_t r, int type, int v) {
    assert_int_equal(tr_runtime_send(rt, r, type, &v, sizeof v), 0);
}

static void start_timer(tr_runtime_t *rt, tr_ref_t r, uint32_t after, uint32_t repeat,
                        int payload) {
    start_t st = {after, repeat, payload, 0};
    assert_int_equal(tr_runtime_send(rt, r, MSG_START, &st, sizeof st), 0);
    tt_drain(rt);
    assert_true(g.timer_id > 0);
}

static void cancel_timer(tr_runtime_t *rt, tr_ref_t r, int64_t id) {
    g.cancel_rc = 999;
    assert_int_equal(tr_runtime_send(rt, r, MSG_CANCEL, &id, sizeof id), 0);
    tt_drain(rt);
}

static void advance(tr_runtime_t *rt, uint64_t ms) {
    assert_int_equal(tr_runtime_advance(rt, ms), 0);
    tt_drain(rt);
}

static int fd_is_closed(int fd) {
    errno = 0;
    return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

/* ------------------------------------------------------------------ */
/* timers */

static void test_one_shot_at_deadline(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime_manual();
    tr_ref_t a = spawn_act(rt, 0);
    start_timer(rt, a, 100, 0, 7);
    advance(rt, 99);
    assert_int_equal(g.ticks, 0);
    advance(rt, 1);
    assert_int_equal(g.ticks, 1);
    assert_int_equal(g.tick_at[0], 100);
    assert_int_equal(g.tick_payload[0], 7);
    assert_true(g.tick_from_self[0]);
    advance(rt, 1000);
    assert_int_equal(g.ticks, 1);
    /* a fired one-shot cannot be cancelled */
    cancel_timer(rt, a, g.timer_id);
    assert_int_equal(g.cancel_rc, TR_EALREADY);
    /* unknown type */
    start_t bad = {10, 0, 1, TR_MSG_USER + 999};
    assert_int_equal(tr_runtime_send(rt, a, MSG_START, &bad, sizeof bad), 0);
    tt_drain(rt);
    assert_int_equal(g.start_rc_bad_type, TR_ENOHANDLER);

    /* in one jump past several deadlines, in deadline order */
    g.ticks = 0;
    start_timer(rt, a, 30, 0, 3);
    start_timer(rt, a, 10, 0, 1);
    start_timer(rt, a, 20, 0, 2);
    advance(rt, 50);
    assert_int_equal(g.ticks, 3);
    assert_int_equal(g.tick_payload[0], 1);
    assert_int_equal(g.tick_payload[1], 2);
    assert_int_equal(g.tick_payload[2], 3);
    tr_runtime_destroy(rt);
}

static void test_zero_delay_timer_real_clock(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t a = spawn_act(rt, 0);
    start_timer(rt, a, 0, 0, 6); /* fires on the next pass */
    for (int i = 0; i < 10 && g.ticks == 0; i++)
        assert_true(tr_runtime_poll(rt) >= 0);
    tt_drain(rt);
    assert_int_equal(g.ticks, 1);
    assert_int_equal(g.tick_payload[0], 6);
    assert_true(g.tick_from_self[0]);
    tr_runtime_destroy(rt);
}

/* Same under the manual clock: the deadline (now + 0) is already due, so a
 * pass (tr_runtime_poll) must fire it without moving time. */
static void test_zero_delay_timer(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime_manual();
    tr_ref_t a = spawn_act(rt, 0);
    start_timer(rt, a, 0, 0, 5); /* fires on the next pass */
    for (int i = 0; i < 10 && g.ticks == 0; i++)
        assert_true(tr_runtime_poll(rt) >= 0);
    tt_drain(rt);
    assert_int_equal(g.ticks, 1);
    assert_int_equal(g.tick_at[0], 0);
    assert_int_equal(g.tick_payload[0], 5);
    advance(rt, 100);
    assert_int_equal(g.ticks, 1);
    tr_runtime_destroy(rt);
}

static void test_periodic(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime_manual();
    tr_ref_t a = spawn_act(rt, 0);
    start_timer(rt, a, 10, 10, 9);
    int64_t id = g.timer_id;
    for (int i = 0; i < 55; i++)
        advance(rt, 1);
    assert_int_equal(g.ticks, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(g.tick_at[i], 10 * (uint64_t)(i + 1));
        assert_int_equal(g.tick_payload[i], 9);
    }
    cancel_timer(rt, a, id);
    assert_int_equal(g.cancel_rc, 0);
    advance(rt, 100);
    assert_int_equal(g.ticks, 5);
    cancel_timer(rt, a, id);
    assert_int_equal(g.cancel_rc, TR_EALREADY);
    cancel_timer(rt, a, 987654321);
    assert_int_equal(g.cancel_rc, TR_EALREADY);
    tr_runtime_destroy(rt);
}

static void test_cancel_prevents_firing(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime_manual();
    tr_ref_t a = spawn_act(rt, 0);
    start_timer(rt, a, 50, 0, 1);
    int64_t id1 = g.timer_id;
    start_timer(rt, a, 60, 0, 2);
    assert_true(g.timer_id != id1);
    advance(rt, 20);
    cancel_timer(rt, a, id1);
    assert_int_equal(g.cancel_rc, 0);
    advance(rt, 100);
    assert_int_equal(g.ticks, 1); /* only the second */
    assert_int_equal(g.tick_payload[0], 2);
    assert_int_equal(g.tick_at[0], 60);
    tr_runtime_destroy(rt);
}

static void test_timers_cancelled_at_stop(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime_manual();
    tr_ref_t a = spawn_act(rt, 0);
    tr_ref_t b = spawn_act(rt, 0);
    start_timer(rt, a, 10, 10, 1);
    start_timer(rt, a, 500, 0, 2);
    start_timer(rt, b, 1000, 0, 3); /* pending at destroy */
    advance(rt, 25);
    assert_int_equal(g.ticks, 2);
    assert_int_equal(tr_stop(rt, a), 0);
    tt_drain(rt);
    advance(rt, 600);
    assert_int_equal(g.ticks, 2);
    assert_int_equal(tt_stats(rt).actors_live, 1);
    tr_runtime_destroy(rt);
    assert_int_equal(g.terminates, 2);
}

/* ------------------------------------------------------------------ */
/* fd readiness */

static void poll_n(tr_runtime_t *rt, int n) {
    for (int i = 0; i < n; i++)
        assert_true(tr_runtime_poll(rt) >= 0);
}

static void test_fd_readiness(void **state) {
    (void)state;
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.manual_clock = 1;
    o.batch = 1;       /* one message per poll: the backlog below takes */
    o.pass_budget = 1; /* 50 polls, each of which also polls IO */
    tr_runtime_t *rt = tt_runtime(&o);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    tr_ref_t a = spawn_act(rt, 128);
    send_int(rt, a, MSG_WATCH, sv[0]);
    tt_drain(rt);
    assert_int_equal(g.watch_rc, 0);
    assert_int_equal(g.watch_again_rc, TR_EALREADY);
    assert_int_equal(g.watch_neg_rc, TR_EINVAL);
    assert_int_equal(g.watch_ev0_rc, TR_EINVAL);
    assert_int_equal(g.watch_noh_rc, TR_ENOHANDLER);

    /* nothing to read: no message */
    poll_n(rt, 20);
    assert_int_equal(g.ready, 0);

    /* a backlog keeps the actor busy while IO is polled 50 times: still a
     * single readiness message must be queued */
    for (int i = 0; i < 50; i++)
        assert_int_equal(tr_runtime_send(rt, a, MSG_NOOP, NULL, 0), 0);
    assert_int_equal(send(sv[1], "hello", 5, 0), 5);
    for (int i = 0; i < 50; i++) {
        assert_true(tr_runtime_poll(rt) >= 0);
        assert_true(tt_depth(rt, a) <= 51);
    }
    for (int i = 0; i < 1000 && (g.noops < 50 || g.ready == 0); i++)
        assert_true(tr_runtime_poll(rt) >= 0);
    poll_n(rt, 50);
    tt_drain(rt);
    assert_int_equal(g.noops, 50);
    assert_int_equal(g.ready, 1);
    assert_int_equal(g.ready_fd, sv[0]);
    assert_true(g.ready_events & TR_FD_READ);
    assert_int_equal(g.read_bytes, 5);

    /* again: one more byte, one more message */
    assert_int_equal(send(sv[1], "x", 1, 0), 1);
    for (int i = 0; i < 1000 && g.ready < 2; i++)
        assert_true(tr_runtime_poll(rt) >= 0);
    poll_n(rt, 20);
    assert_int_equal(g.ready, 2);
    assert_int_equal(g.read_bytes, 6);

    /* unwatch: no more messages */
    send_int(rt, a, MSG_UNWATCH, sv[0]);
    tt_drain(rt);
    assert_int_equal(g.unwatch_rc, 0);
    send_int(rt, a, MSG_UNWATCH, sv[0]);
    tt_drain(rt);
    assert_int_equal(g.unwatch_rc, TR_ENOTFOUND);
    assert_int_equal(send(sv[1], "y", 1, 0), 1);
    poll_n(rt, 50);
    tt_drain(rt);
    assert_int_equal(g.ready, 2);

    /* watch again, then stop the actor: the watch ends, the fd stays open */
    send_int(rt, a, MSG_WATCH, sv[0]);
    tt_drain(rt);
    assert_int_equal(g.watch_rc, 0);
    for (int i = 0; i < 1000 && g.ready < 3; i++)
        assert_true(tr_runtime_poll(rt) >= 0);
    assert_int_equal(g.ready, 3); /* the pending "y" */
    assert_int_equal(tr_stop(rt, a), 0);
    tt_drain(rt);
    assert_int_equal(send(sv[1], "z", 1, 0), 1);
    poll_n(rt, 50);
    tt_drain(rt);
    assert_int_equal(g.ready, 3);
    assert_false(fd_is_closed(sv[0]));
    tr_runtime_destroy(rt);
    assert_false(fd_is_closed(sv[0]));
    close(sv[0]);
    close(sv[1]);
}

static void test_watch_errors(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime_manual();
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    tr_ref_t a = spawn_act(rt, 0);
    send_int(rt, a, MSG_UNWATCH, sv[0]);
    tt_drain(rt);
    assert_int_equal(g.unwatch_rc, TR_ENOTFOUND);
    tr_runtime_destroy(rt);
    close(sv[0]);
    close(sv[1]);
}

/* ------------------------------------------------------------------ */
/* ownership */

static void test_own_fd_closed_once(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime_manual();
    int p[2];
    assert_int_equal(pipe(p), 0);
    tr_ref_t a = spawn_act(rt, 0);
    tr_ref_t b = spawn_act(rt, 0);

    send_int(rt, a, MSG_OWNFD, p[0]);
    tt_drain(rt);
    assert_int_equal(g.own_rc, 0);
    send_int(rt, a, MSG_OWNFD, p[0]);
    tt_drain(rt);
    assert_int_equal(g.own_rc, TR_EALREADY);
    /* a second actor cannot own the same descriptor */
    send_int(rt, b, MSG_OWNFD, p[0]);
    tt_drain(rt);
    assert_int_equal(g.own_rc, TR_EBUSY);
    send_int(rt, b, MSG_OWNFD, -1);
    tt_drain(rt);
    assert_int_equal(g.own_rc, TR_EINVAL);
    /* b stopping does not touch it */
    assert_int_equal(tr_stop(rt, b), 0);
    tt_drain(rt);
    assert_false(fd_is_closed(p[0]));

    /* a stopping closes it, right away */
    assert_int_equal(tr_stop(rt, a), 0);
    tt_drain(rt);
    assert_true(fd_is_closed(p[0]));

    /* the number is free again: a new descriptor likely reuses it, and
     * nobody must close it a second time (checked after destroy) */
    int q[2];
    assert_int_equal(pipe(q), 0);
    tr_ref_t c = spawn_act(rt, 0);
    /* ownership was forgotten with the close: a new owner is accepted */
    send_int(rt, c, MSG_OWNFD, q[0]);
    tt_drain(rt);
    assert_int_equal(g.own_rc, 0);
    send_int(rt, c, MSG_CLOSEFD, q[0]);
    tt_drain(rt);
    assert_int_equal(g.close_rc, 0);
    assert_true(fd_is_closed(q[0]));
    send_int(rt, c, MSG_CLOSEFD, q[0]);
    tt_drain(rt);
    assert_int_equal(g.close_rc, TR_ENOTFOUND);

    int r[2];
    assert_int_equal(pipe(r), 0); /* likely reuses p[0] / q[0] */
    tr_runtime_destroy(rt);
    assert_false(fd_is_closed(r[0]));
    assert_false(fd_is_closed(r[1]));
    close(r[0]);
    close(r[1]);
    close(p[1]);
    close(q[1]);
}

static void test_disown_fd(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime_manual();
    int p[2];
    assert_int_equal(pipe(p), 0);
    tr_ref_t a = spawn_act(rt, 0);
    send_int(rt, a, MSG_OWNFD, p[0]);
    tt_drain(rt);
    assert_int_equal(g.own_rc, 0);
    send_int(rt, a, MSG_DISOWN, p[0]);
    tt_drain(rt);
    assert_int_equal(g.disown_rc, 0);
    send_int(rt, a, MSG_DISOWN, p[0]);
    tt_drain(rt);
    assert_int_equal(g.disown_rc, TR_ENOTFOUND);
    assert_int_equal(tr_stop(rt, a), 0);
    tt_drain(rt);
    assert_false(fd_is_closed(p[0]));

    /* an fd owned by an actor alive at destroy is closed by destroy */
    tr_ref_t b = spawn_act(rt, 0);
    send_int(rt, b, MSG_OWNFD, p[0]);
    tt_drain(rt);
    assert_int_equal(g.own_rc, 0);
    tr_runtime_destroy(rt);
    assert_true(fd_is_closed(p[0]));
    close(p[1]);
}

static void test_own_ptr_reverse_order(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime_manual();
    tr_ref_t a = spawn_act(rt, 0);
    send_int(rt, a, MSG_OWNP, 3);
    tt_drain(rt);
    for (int i = 1; i <= 3; i++)
        assert_int_equal(g.own_p_rc[i], 0);
    assert_int_equal(g.own_null_dtor_rc, TR_EINVAL);
    assert_int_equal(g.log.n, 0);
    assert_int_equal(tr_stop(rt, a), 0);
    tt_drain(rt);
    /* terminate first, then the resources, last acquired first, once each */
    assert_int_equal(g.log.n, 4);
    assert_int_equal(g.log.v[0], -1);
    assert_int_equal(g.log.v[1], 3);
    assert_int_equal(g.log.v[2], 2);
    assert_int_equal(g.log.v[3], 1);
    tr_runtime_destroy(rt);
    assert_int_equal(g.log.n, 4);
}

static void test_release_early(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime_manual();
    tr_ref_t a = spawn_act(rt, 0);
    send_int(rt, a, MSG_OWNP, 3);
    tt_drain(rt);
    send_int(rt, a, MSG_RELEASEP, 2);
    tt_drain(rt);
    assert_int_equal(g.release_rc, 0);
    assert_int_equal(g.log.n, 1);
    assert_int_equal(g.log.v[0], 2);
    send_int(rt, a, MSG_RELEASEP, 2);
    tt_drain(rt);
    assert_int_equal(g.release_rc, TR_ENOTFOUND);
    assert_int_equal(g.log.n, 1);
    assert_int_equal(tr_stop(rt, a), 0);
    tt_drain(rt);
    assert_int_equal(g.log.n, 4);
    assert_int_equal(g.log.v[1], -1);
    assert_int_equal(g.log.v[2], 3);
    assert_int_equal(g.log.v[3], 1);

    /* owned by an actor alive at destroy: released by destroy, once */
    tr_ref_t b = spawn_act(rt, 0);
    send_int(rt, b, MSG_OWNP, 2);
    tt_drain(rt);
    tr_runtime_destroy(rt);
    assert_int_equal(g.log.n, 7);
    assert_int_equal(g.log.v[4], -1);
    assert_int_equal(g.log.v[5], 2);
    assert_int_equal(g.log.v[6], 1);
}

/* ---- a due timer must never leave tr_runtime_run blocked in libev ----
 * The actor starts a 0 ms timer from a handler during the first pass (so
 * after the pass has fired due timers, at runtime time 0) and stops the
 * runtime when it fires. A watchdog ev_timer on the same loop, far longer
 * than any pass, catches a loop that blocks instead: it breaks the loop and
 * the test fails (this is a hang detector, not a timing measurement). */
enum { MSG_FIRE = TR_MSG_USER + 200, MSG_ARM };
static int fired, watchdog_fired;

static void on_fire(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state, (void)m;
    fired++;
    tr_runtime_stop(tr_ctx_runtime(ctx));
}
static void on_arm(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state, (void)m;
    assert_true(tr_timer_start(ctx, 0, 0, MSG_FIRE, NULL, 0) > 0);
}
static int firer_init(tr_ctx_t *ctx, void *state, const void *args) {
    (void)state, (void)args;
    return tr_send(ctx, tr_self(ctx), MSG_ARM, NULL, 0);
}
static const tr_handler_t firer_handlers[] = {
    TR_ON_EMPTY(MSG_FIRE, on_fire), TR_ON_EMPTY(MSG_ARM, on_arm), TR_END};
static const tr_actor_type_t firer_type = {
    .name = "firer", .handlers = firer_handlers, .init = firer_init};

static void on_watchdog(struct ev_loop *loop, ev_timer *w, int revents) {
    (void)w, (void)revents;
    watchdog_fired = 1;
    ev_break(loop, EVBREAK_ALL);
}

static void run_due_timer(int manual) {
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.manual_clock = manual;
    tr_runtime_t *rt = tt_runtime(&o);
    fired = watchdog_fired = 0;
    assert_int_equal(tr_spawn(rt, &firer_type, NULL, NULL), 0);
    ev_timer wd;
    ev_timer_init(&wd, on_watchdog, 20., 0.);
    ev_timer_start(tr_runtime_loop(rt), &wd);
    assert_int_equal(tr_runtime_run(rt), 0);
    ev_timer_stop(tr_runtime_loop(rt), &wd);
    assert_int_equal(watchdog_fired, 0);
    assert_int_equal(fired, 1);
    tr_runtime_destroy(rt);
}

static void test_due_timer_manual_clock_run(void **state) {
    (void)state;
    run_due_timer(1);
}

static void test_due_timer_at_time_zero_real_clock(void **state) {
    (void)state;
    run_due_timer(0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_one_shot_at_deadline, setup),
        cmocka_unit_test_setup(test_zero_delay_timer_real_clock, setup),
        cmocka_unit_test_setup(test_zero_delay_timer, setup),
        cmocka_unit_test_setup(test_periodic, setup),
        cmocka_unit_test_setup(test_cancel_prevents_firing, setup),
        cmocka_unit_test_setup(test_timers_cancelled_at_stop, setup),
        cmocka_unit_test_setup(test_fd_readiness, setup),
        cmocka_unit_test_setup(test_watch_errors, setup),
        cmocka_unit_test_setup(test_own_fd_closed_once, setup),
        cmocka_unit_test_setup(test_disown_fd, setup),
        cmocka_unit_test_setup(test_own_ptr_reverse_order, setup),
        cmocka_unit_test_setup(test_release_early, setup),
        cmocka_unit_test_setup(test_due_timer_manual_clock_run, setup),
        cmocka_unit_test_setup(test_due_timer_at_time_zero_real_clock, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
