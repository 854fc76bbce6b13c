/* tests/test_runtime.c: the runtime as a whole: create/destroy, embedding in
 * a caller-owned ev_loop, poll / run_until_idle counts, fairness between
 * actors (batch), IO and timers never starved by busy actors, ordered
 * shutdown (tr_runtime_shutdown and a real SIGTERM), destroy with live actors
 * and pending calls, counters and tr_runtime_verify. */
#include "tr_test.h"

#include <ev.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

enum {
    MSG_REC = TR_MSG_USER, /* record own id into g.order */
    MSG_FWD,               /* int n: forward n-1 to the peer while n > 0 */
    MSG_PEER,              /* tr_ref_t: set the peer */
    MSG_BALL,              /* ping-pong forever */
    MSG_SPAWN_CHILD,       /* int id: spawn a child with that id */
    MSG_SHUTDOWN,          /* tr_runtime_shutdown from a handler */
    MSG_RT_STOP,           /* tr_runtime_stop from a handler */
    MSG_RAISE,             /* raise(SIGTERM) */
    MSG_ITEM,              /* moved payload */
    MSG_CALL,              /* tr_ref_t: call it with MSG_KEEP and MSG_ECHO */
    MSG_KEEP,              /* keep the reply channel */
    MSG_ECHO,              /* reply with nothing */
    MSG_REENTER,           /* try to drive the loop from inside a handler */
    MSG_HOLE
};

typedef struct probe_s {
    tt_log_t order;   /* ids in handling order */
    tt_log_t tlog;    /* ids in terminate order */
    tt_log_t reasons; /* terminate reasons */
    int handled;
    int64_t balls;
    int spawn_rc;
    int shutdown_rc;
    int dtor_runs;
    int conts;
    int call_rc1, call_rc2;
    int kept;
    int timer_fires, io_fires;
    int reenter_rc[4];
} probe_t;

static probe_t g;

static int setup(void **state) {
    (void)state;
    memset(&g, 0, sizeof g);
    return 0;
}

typedef struct act_s {
    int id;
    tr_ref_t peer;
    tr_reply_t *kept;
} act_t;

static int act_init(tr_ctx_t *ctx, void *state, const void *args) {
    (void)ctx;
    act_t *s = state;
    if (args)
        memcpy(&s->id, args, sizeof(int));
    return 0;
}

static void act_terminate(tr_ctx_t *ctx, void *state, tr_stop_reason_t reason) {
    (void)ctx;
    act_t *s = state;
    tt_log_push(&g.tlog, s->id);
    tt_log_push(&g.reasons, (int)reason);
}

static void on_rec(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)m;
    act_t *s = state;
    g.handled++;
    tt_log_push(&g.order, s->id);
}

static void on_fwd(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    act_t *s = state;
    int n;
    memcpy(&n, m->data, sizeof n);
    g.handled++;
    if (n > 0) {
        n--;
        (void)tr_send(ctx, s->peer, MSG_FWD, &n, sizeof n);
    }
}

static void on_peer(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    act_t *s = state;
    memcpy(&s->peer, m->data, sizeof s->peer);
}

static void on_ball(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)m;
    act_t *s = state;
    g.balls++;
    (void)tr_send(ctx, s->peer, MSG_BALL, NULL, 0);
}

static const tr_actor_type_t act_type;

static void on_spawn_child(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.args = m->data;
    g.spawn_rc = tr_spawn(tr_ctx_runtime(ctx), &act_type, &o, NULL);
}

static void on_shutdown(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    (void)m;
    g.shutdown_rc = tr_runtime_shutdown(tr_ctx_runtime(ctx));
}

static void on_rt_stop(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    (void)m;
    g.handled++;
    tr_runtime_stop(tr_ctx_runtime(ctx));
}

static void on_raise(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    (void)m;
    raise(SIGTERM);
}

static void on_item(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    (void)m;
    g.handled++;
}

static void on_cont(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie) {
    (void)ctx;
    (void)state;
    (void)r;
    (void)cookie;
    g.conts++;
}

static void on_call(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    tr_ref_t to;
    memcpy(&to, m->data, sizeof to);
    g.call_rc1 = tr_call(ctx, to, MSG_KEEP, NULL, 0, on_cont, NULL, 1000);
    g.call_rc2 = tr_call(ctx, to, MSG_ECHO, NULL, 0, on_cont, NULL, 0);
}

static void on_keep(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    act_t *s = state;
    s->kept = tr_reply_keep(ctx, m);
    g.kept += s->kept != NULL;
}

static void on_echo(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    (void)tr_reply(ctx, m, NULL, 0);
}

static int never(void *arg) {
    (void)arg;
    return 0;
}
static void on_reenter(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    (void)m;
    tr_runtime_t *rt = tr_ctx_runtime(ctx);
    g.reenter_rc[0] = tr_runtime_poll(rt);
    g.reenter_rc[1] = (int)tr_runtime_run_until_idle(rt);
    g.reenter_rc[2] = tr_runtime_run_until(rt, never, NULL);
    g.reenter_rc[3] = tr_runtime_run(rt);
    g.handled++;
}
static const tr_handler_t act_handlers[] = {
    TR_ON_EMPTY(MSG_REC, on_rec),
    TR_ON(MSG_FWD, on_fwd, int),
    TR_ON(MSG_PEER, on_peer, tr_ref_t),
    TR_ON_EMPTY(MSG_BALL, on_ball),
    TR_ON(MSG_SPAWN_CHILD, on_spawn_child, int),
    TR_ON_EMPTY(MSG_SHUTDOWN, on_shutdown),
    TR_ON_EMPTY(MSG_RT_STOP, on_rt_stop),
    TR_ON_EMPTY(MSG_RAISE, on_raise),
    TR_ON(MSG_ITEM, on_item, int),
    TR_ON(MSG_CALL, on_call, tr_ref_t),
    TR_ON_EMPTY(MSG_KEEP, on_keep),
    TR_ON_EMPTY(MSG_ECHO, on_echo),
    TR_ON_EMPTY(MSG_REENTER, on_reenter),
    TR_END,
};

static const tr_actor_type_t act_type = {
    .name = "act",
    .state_size = sizeof(act_t),
    .handlers = act_handlers,
    .init = act_init,
    .terminate = act_terminate,
};

static tr_ref_t spawn_act(tr_runtime_t *rt, int id, uint32_t cap) {
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.args = &id;
    o.mailbox_capacity = cap;
    return tt_spawn(rt, &act_type, &o);
}

static void set_peer(tr_runtime_t *rt, tr_ref_t a, tr_ref_t peer) {
    assert_int_equal(tr_runtime_send(rt, a, MSG_PEER, &peer, sizeof peer), 0);
}

static void int_dtor(void *p) {
    g.dtor_runs++;
    free(p);
}

/* ------------------------------------------------------------------ */

static void test_create_destroy(void **state) {
    (void)state;
    tr_runtime_t *rt = NULL;
    assert_int_equal(tr_runtime_create(NULL, &rt), 0);
    assert_non_null(rt);
    assert_non_null(tr_runtime_loop(rt));
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.actors_live, 0);
    assert_int_equal(s.actors_spawned, 0);
    assert_int_equal(s.chan_created, 0);
    assert_int_equal(tr_runtime_verify(rt), 0);
    assert_int_equal(tr_runtime_poll(rt), 0);
    assert_int_equal(tr_runtime_run_until_idle(rt), 0);
    assert_int_equal(tr_runtime_stats(rt, NULL), TR_EINVAL);
    assert_int_equal(tr_runtime_stats(NULL, &s), TR_EINVAL);
    /* the real clock: advance is refused */
    assert_int_equal(tr_runtime_advance(rt, 10), TR_EINVAL);
    tr_runtime_destroy(rt);
    tr_runtime_destroy(NULL);

    assert_int_equal(tr_runtime_create(NULL, NULL), TR_EINVAL);
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.mailbox_capacity = TR_MAILBOX_MAX + 1;
    rt = NULL;
    assert_int_equal(tr_runtime_create(&o, &rt), TR_EINVAL);

    /* two runtimes side by side are independent */
    tr_runtime_t *r1 = tt_runtime(NULL), *r2 = tt_runtime(NULL);
    assert_ptr_not_equal(tr_runtime_loop(r1), tr_runtime_loop(r2));
    tr_ref_t a = spawn_act(r1, 1, 0);
    (void)a;
    assert_int_equal(tt_stats(r1).actors_live, 1);
    assert_int_equal(tt_stats(r2).actors_live, 0);
    tr_runtime_destroy(r2);
    tr_runtime_destroy(r1);
    assert_int_equal(g.tlog.n, 1);

    /* manual clock starts at 0 */
    rt = tt_runtime_manual();
    assert_int_equal(tr_runtime_now_ms(rt), 0);
    assert_int_equal(tr_runtime_advance(rt, 250), 0);
    assert_int_equal(tr_runtime_now_ms(rt), 250);
    tr_runtime_destroy(rt);
}

static void test_attached_loop(void **state) {
    (void)state;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    assert_non_null(loop);
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.loop = loop;
    /* other schedulers would need loops of their own: refused, whatever
     * TROUPE_SCHEDULERS says, unless one scheduler is asked for */
    o.schedulers = 2;
    tr_runtime_t *rt = NULL;
    assert_int_equal(tr_runtime_create(&o, &rt), TR_EINVAL);
    assert_null(rt);
    o.schedulers = 1;
    rt = tt_runtime(&o);
    assert_ptr_equal(tr_runtime_loop(rt), loop);
    tr_ref_t a = spawn_act(rt, 1, 0);
    tr_ref_t b = spawn_act(rt, 2, 0);
    set_peer(rt, a, b);
    set_peer(rt, b, a);
    for (int i = 0; i < 10; i++)
        assert_int_equal(tr_runtime_send(rt, a, MSG_REC, NULL, 0), 0);
    int n = 9;
    assert_int_equal(tr_runtime_send(rt, a, MSG_FWD, &n, sizeof n), 0);
    /* the application runs its own loop; the runtime's watchers do the work */
    for (int i = 0; i < 10000 && g.handled < 20; i++)
        ev_run(loop, EVRUN_NOWAIT);
    assert_int_equal(g.handled, 20);
    assert_int_equal(g.order.n, 10);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.msgs_handled, 2 + 10 + 10);
    tr_runtime_destroy(rt);
    assert_int_equal(g.tlog.n, 2);
    /* the loop is still the caller's, alive and usable */
    ev_run(loop, EVRUN_NOWAIT);
    ev_loop_destroy(loop);
}

static void test_poll_and_idle_counts(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t a = spawn_act(rt, 1, 0);
    tr_ref_t b = spawn_act(rt, 2, 0);
    set_peer(rt, a, b);
    set_peer(rt, b, a);
    assert_int_equal(tr_runtime_run_until_idle(rt), 2);
    for (int i = 0; i < 5; i++)
        assert_int_equal(tr_runtime_send(rt, a, MSG_REC, NULL, 0), 0);
    assert_int_equal(tr_runtime_poll(rt), 5);
    assert_int_equal(tr_runtime_poll(rt), 0);
    int n = 99;
    assert_int_equal(tr_runtime_send(rt, a, MSG_FWD, &n, sizeof n), 0);
    assert_int_equal(tr_runtime_run_until_idle(rt), 100);
    assert_int_equal(tr_runtime_run_until_idle(rt), 0);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.msgs_handled, 2 + 5 + 100);
    assert_int_equal(s.msgs_sent, 2 + 5 + 100);
    assert_true(s.loop_passes > 0);
    tr_runtime_destroy(rt);
}

static void test_fairness_batch(void **state) {
    (void)state;
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.batch = 4;
    o.schedulers = 1; /* turns alternate within one scheduler's run queue */
    tr_runtime_t *rt = tt_runtime(&o);
    tr_ref_t a = spawn_act(rt, 1, 0);
    tr_ref_t b = spawn_act(rt, 2, 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(tr_runtime_send(rt, a, MSG_REC, NULL, 0), 0);
    assert_int_equal(tr_runtime_send(rt, b, MSG_REC, NULL, 0), 0);
    tt_drain(rt);
    assert_int_equal(g.order.n, 101);
    /* B's single message waits for one turn of A (4 messages), not 100 */
    int pos = tt_log_find(&g.order, 2);
    assert_true(pos >= 0);
    assert_true(pos <= 8);

    /* two busy actors alternate in turns of at most `batch` messages */
    memset(&g.order, 0, sizeof g.order);
    for (int i = 0; i < 40; i++) {
        assert_int_equal(tr_runtime_send(rt, a, MSG_REC, NULL, 0), 0);
        assert_int_equal(tr_runtime_send(rt, b, MSG_REC, NULL, 0), 0);
    }
    tt_drain(rt);
    assert_int_equal(g.order.n, 80);
    int run = 1, maxrun = 1, done_a = 0, done_b = 0;
    for (int i = 0; i < 80; i++) {
        if (g.order.v[i] == 1)
            done_a++;
        else
            done_b++;
        if (done_a == 40 || done_b == 40)
            break; /* one of them ran out: the rest is one actor alone */
        if (i > 0) {
            run = g.order.v[i] == g.order.v[i - 1] ? run + 1 : 1;
            if (run > maxrun)
                maxrun = run;
        }
    }
    assert_true(maxrun <= 4);
    assert_true(maxrun >= 1);
    tr_runtime_destroy(rt);
}

typedef struct starve_s {
    int timer_fires;
    int io_fires;
    int pipe_r;
} starve_t;

static starve_t sv;

static void starve_timer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    (void)loop;
    (void)w;
    (void)revents;
    sv.timer_fires++;
}

static void starve_io_cb(struct ev_loop *loop, ev_io *w, int revents) {
    (void)loop;
    (void)w;
    (void)revents;
    sv.io_fires++; /* level-triggered: the byte stays unread */
}

static int starve_pred(void *arg) {
    (void)arg;
    /* the second clause bounds the test if IO were starved */
    return (sv.timer_fires >= 3 && sv.io_fires >= 3) || g.balls > 20000000;
}

static void test_io_not_starved(void **state) {
    (void)state;
    memset(&sv, 0, sizeof sv);
    tr_runtime_t *rt = tt_runtime(NULL);
    struct ev_loop *loop = tr_runtime_loop(rt);
    tr_ref_t a = spawn_act(rt, 1, 0);
    tr_ref_t b = spawn_act(rt, 2, 0);
    set_peer(rt, a, b);
    set_peer(rt, b, a);
    tt_drain(rt);
    for (int i = 0; i < 8; i++)
        assert_int_equal(tr_runtime_send(rt, a, MSG_BALL, NULL, 0), 0);

    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], "x", 1), 1);
    ev_timer t;
    ev_timer_init(&t, starve_timer_cb, 0.001, 0.001);
    ev_timer_start(loop, &t);
    ev_io io;
    ev_io_init(&io, starve_io_cb, p[0], EV_READ);
    ev_io_start(loop, &io);

    /* the actors never go idle: they bounce 8 balls forever */
    assert_int_equal(tr_runtime_run_until(rt, starve_pred, NULL), 0);
    assert_true(sv.timer_fires >= 3);
    assert_true(sv.io_fires >= 3);
    assert_true(g.balls > 100);
    assert_true(g.balls <= 20000000);

    ev_timer_stop(loop, &t);
    ev_io_stop(loop, &io);
    close(p[0]);
    close(p[1]);
    tr_runtime_destroy(rt); /* with balls in flight */
    assert_int_equal(g.tlog.n, 2);
}

static void test_ordered_shutdown(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t a = spawn_act(rt, 1, 0);
    spawn_act(rt, 2, 0);
    spawn_act(rt, 3, 0);
    int child = 4;
    assert_int_equal(tr_runtime_send(rt, a, MSG_SPAWN_CHILD, &child, sizeof child), 0);
    tt_drain(rt);
    assert_int_equal(g.spawn_rc, 0);
    assert_int_equal(tt_stats(rt).actors_live, 4);

    assert_int_equal(tr_runtime_shutdown(rt), 0);
    assert_int_equal(tr_runtime_shutdown(rt), 0); /* again: still 0 */
    assert_int_equal(tr_runtime_run(rt), 0);
    assert_int_equal(g.tlog.n, 4);
    assert_int_equal(g.tlog.v[0], 4);
    assert_int_equal(g.tlog.v[1], 3);
    assert_int_equal(g.tlog.v[2], 2);
    assert_int_equal(g.tlog.v[3], 1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(g.reasons.v[i], TR_STOP_SHUTDOWN);
    assert_int_equal(tt_stats(rt).actors_live, 0);
    tr_ref_t r;
    assert_int_equal(tr_spawn(rt, &act_type, NULL, &r), TR_ESTOPPED);
    assert_int_equal(tr_runtime_run(rt), TR_ESTOPPED);
    tt_assert_chan_balance(rt);
    tr_runtime_destroy(rt);
    assert_int_equal(g.tlog.n, 4);
}

/* The oldest actor is busy (queued messages put it at the head of the run
 * queue) when the shutdown begins: the order must still be newest first, and
 * its queued messages are dead letters. */
static void test_ordered_shutdown_busy(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t a = spawn_act(rt, 1, 0);
    spawn_act(rt, 2, 0);
    spawn_act(rt, 3, 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(tr_runtime_send(rt, a, MSG_REC, NULL, 0), 0);
    uint64_t dead_before = tt_stats(rt).dead_letters;
    assert_int_equal(tr_runtime_shutdown(rt), 0);
    assert_int_equal(tr_runtime_run(rt), 0);
    assert_int_equal(g.tlog.n, 3);
    assert_int_equal(g.tlog.v[0], 3);
    assert_int_equal(g.tlog.v[1], 2);
    assert_int_equal(g.tlog.v[2], 1);
    assert_int_equal(g.handled, 0);
    assert_int_equal(tt_stats(rt).dead_letters - dead_before, 5);
    tr_runtime_destroy(rt);
}

/* Driving the loop from inside a handler would run a second handler of an
 * actor whose handler is on the stack: refused. */
static void test_reentry_refused(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t a = spawn_act(rt, 1, 0);
    spawn_act(rt, 2, 0);
    assert_int_equal(tr_runtime_send(rt, a, MSG_REENTER, NULL, 0), 0);
    tt_drain(rt);
    assert_int_equal(g.handled, 1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(g.reenter_rc[i], TR_EWRONGTHREAD);
    tr_runtime_destroy(rt);
}

static void test_shutdown_from_handler(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t a = spawn_act(rt, 1, 0);
    spawn_act(rt, 2, 0);
    assert_int_equal(tr_runtime_send(rt, a, MSG_SHUTDOWN, NULL, 0), 0);
    assert_int_equal(tr_runtime_run(rt), 0);
    assert_int_equal(g.shutdown_rc, 0);
    assert_int_equal(g.tlog.n, 2);
    assert_int_equal(g.tlog.v[0], 2);
    assert_int_equal(g.tlog.v[1], 1);
    assert_int_equal(tt_stats(rt).actors_live, 0);
    tr_runtime_destroy(rt);
}

static void test_runtime_stop_keeps_actors(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t a = spawn_act(rt, 1, 0);
    assert_int_equal(tr_runtime_send(rt, a, MSG_RT_STOP, NULL, 0), 0);
    assert_int_equal(tr_runtime_run(rt), 0);
    assert_int_equal(g.handled, 1);
    assert_true(tr_actor_alive(rt, a));
    assert_int_equal(g.tlog.n, 0);
    /* run again */
    assert_int_equal(tr_runtime_send(rt, a, MSG_REC, NULL, 0), 0);
    assert_int_equal(tr_runtime_send(rt, a, MSG_RT_STOP, NULL, 0), 0);
    assert_int_equal(tr_runtime_run(rt), 0);
    assert_int_equal(g.handled, 3);
    assert_true(tr_actor_alive(rt, a));
    tr_runtime_destroy(rt);
    assert_int_equal(g.tlog.n, 1);
    assert_int_equal(g.reasons.v[0], TR_STOP_SHUTDOWN);
}

typedef struct wrong_thread_s {
    tr_runtime_t *rt;
    int poll_rc, run_rc, idle_rc, advance_rc, spawn_rc, send_rc;
    tr_ref_t a;
} wrong_thread_t;

static void *wrong_thread(void *p) {
    wrong_thread_t *w = p;
    w->poll_rc = tr_runtime_poll(w->rt);
    w->idle_rc = (int)tr_runtime_run_until_idle(w->rt);
    w->run_rc = tr_runtime_run(w->rt);
    w->spawn_rc = tr_spawn(w->rt, &act_type, NULL, NULL);
    w->send_rc = tr_runtime_send(w->rt, w->a, MSG_REC, NULL, 0); /* allowed */
    return NULL;
}

static void test_wrong_thread(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    wrong_thread_t w;
    memset(&w, 0, sizeof w);
    w.rt = rt;
    w.a = spawn_act(rt, 1, 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, wrong_thread, &w), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(w.poll_rc, TR_EWRONGTHREAD);
    assert_int_equal(w.idle_rc, TR_EWRONGTHREAD);
    assert_int_equal(w.run_rc, TR_EWRONGTHREAD);
    assert_int_equal(w.spawn_rc, TR_EWRONGTHREAD);
    assert_int_equal(w.send_rc, 0);
    tt_drain(rt);
    assert_int_equal(g.handled, 1);
    assert_int_equal(tt_stats(rt).actors_live, 1);
    tr_runtime_destroy(rt);
}

static void test_destroy_resolves_everything(void **state) {
    (void)state;
    /* one turn of one message per poll, so the test controls what is queued */
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.batch = 1;
    o.pass_budget = 1;
    o.manual_clock = 1;
    tr_runtime_t *rt = tt_runtime(&o);
    tr_ref_t srv = spawn_act(rt, 1, 0);
    tr_ref_t cli = spawn_act(rt, 2, 0);
    tr_ref_t cli2 = spawn_act(rt, 3, 0);
    /* cli2's call is kept by srv (a held channel) */
    assert_int_equal(tr_runtime_send(rt, cli2, MSG_CALL, &srv, sizeof srv), 0);
    tt_drain(rt);
    assert_int_equal(g.kept, 1);
    assert_int_equal(g.conts, 1); /* the echo answered */
    /* cli's two calls are queued in srv's mailbox, unhandled */
    assert_int_equal(tr_runtime_send(rt, cli, MSG_CALL, &srv, sizeof srv), 0);
    for (int i = 0; i < 100 && tt_depth(rt, srv) < 2; i++)
        assert_true(tr_runtime_poll(rt) >= 0);
    assert_int_equal(g.call_rc1, 0);
    assert_int_equal(g.call_rc2, 0);
    assert_int_equal(tt_depth(rt, srv), 2);
    /* and moved one-way payloads are queued too */
    for (int i = 0; i < 5; i++) {
        int *p = malloc(sizeof *p);
        *p = i;
        assert_int_equal(tr_runtime_send_move(rt, srv, MSG_ITEM, p, sizeof *p, int_dtor), 0);
    }
    int handled_before = g.handled;
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.chan_created, 4);
    assert_int_equal(s.chan_pending, 3);
    tr_runtime_destroy(rt);
    /* every actor terminated once, with the shutdown reason */
    assert_int_equal(g.tlog.n, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(g.reasons.v[i], TR_STOP_SHUTDOWN);
    /* queued payloads destroyed, not handled; continuations of dead callers
     * never ran; ASan reports any channel or message left behind */
    assert_int_equal(g.dtor_runs, 5);
    assert_int_equal(g.handled, handled_before);
    assert_int_equal(g.conts, 1);
}

static void test_shutdown_balances_channels(void **state) {
    (void)state;
    /* as above, but through an ordered shutdown so the stats can be read */
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.batch = 1;
    o.pass_budget = 1;
    tr_runtime_t *rt = tt_runtime(&o);
    tr_ref_t srv = spawn_act(rt, 1, 0);
    tr_ref_t cli = spawn_act(rt, 2, 0);
    tr_ref_t cli2 = spawn_act(rt, 3, 0);
    assert_int_equal(tr_runtime_send(rt, cli2, MSG_CALL, &srv, sizeof srv), 0);
    tt_drain(rt);
    assert_int_equal(tr_runtime_send(rt, cli, MSG_CALL, &srv, sizeof srv), 0);
    for (int i = 0; i < 100 && tt_depth(rt, srv) < 2; i++)
        assert_true(tr_runtime_poll(rt) >= 0);
    assert_int_equal(tt_depth(rt, srv), 2);
    for (int i = 0; i < 3; i++) {
        int *p = malloc(sizeof *p);
        *p = i;
        assert_int_equal(tr_runtime_send_move(rt, srv, MSG_ITEM, p, sizeof *p, int_dtor), 0);
    }
    assert_int_equal(tr_runtime_shutdown(rt), 0);
    assert_int_equal(tr_runtime_run(rt), 0);
    assert_int_equal(g.tlog.n, 3);
    assert_int_equal(g.dtor_runs, 3);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.chan_created, 4);
    assert_true(s.dead_letters >= 3); /* the one-way items (discarded calls may count) */
    assert_int_equal(s.actors_live, 0);
    tt_assert_chan_balance(rt);
    tr_runtime_destroy(rt);
}

static void test_stats_counters(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t a = spawn_act(rt, 1, 2);
    tr_ref_t b = spawn_act(rt, 2, 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(tr_runtime_send(rt, a, MSG_REC, NULL, 0), 0);
    assert_int_equal(tr_runtime_send(rt, a, MSG_REC, NULL, 0), TR_EFULL);
    assert_int_equal(tr_runtime_send(rt, b, MSG_HOLE, NULL, 0), TR_ENOHANDLER);
    assert_int_equal(tr_runtime_send(rt, b, MSG_REC, NULL, 0), 0);
    tt_drain(rt);
    assert_int_equal(tr_runtime_send(rt, b, MSG_REC, NULL, 0), 0);
    assert_int_equal(tr_stop(rt, b), 0); /* its queued REC becomes a dead letter */
    tt_drain(rt);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.actors_spawned, 2);
    assert_int_equal(s.actors_stopped, 1);
    assert_int_equal(s.actors_live, 1);
    assert_int_equal(s.msgs_sent, 4);
    assert_int_equal(s.msgs_handled, 3);
    assert_int_equal(s.sends_rejected, 2);
    assert_int_equal(s.dead_letters, 2); /* ENOHANDLER + the one at stop */
    assert_int_equal(s.drops_newest, 0);
    assert_int_equal(s.drops_oldest, 0);
    assert_int_equal(s.chan_created, 0);
    assert_int_equal(s.chan_pending, 0);
    assert_true(s.loop_passes >= 1);
    assert_int_equal(g.handled, 3);
    tr_runtime_destroy(rt);
}

static void test_verify(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    assert_int_equal(tr_runtime_verify(rt), 0);
    tr_ref_t a = spawn_act(rt, 1, 0);
    spawn_act(rt, 2, 0);
    spawn_act(rt, 3, 4);
    assert_int_equal(tr_runtime_verify(rt), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(tr_runtime_send(rt, a, MSG_REC, NULL, 0), 0);
    assert_int_equal(tr_runtime_verify(rt), 3); /* with queued messages */
    assert_int_equal(tr_stop(rt, a), 0);
    tt_drain(rt);
    assert_int_equal(tr_runtime_verify(rt), 2);
    tr_runtime_destroy(rt);
}

static void test_sigterm_ordered_shutdown(void **state) {
    (void)state;
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.handle_signals = 1;
    tr_runtime_t *rt = tt_runtime(&o);
    tr_ref_t a = spawn_act(rt, 1, 0);
    spawn_act(rt, 2, 0);
    spawn_act(rt, 3, 0);
    tt_drain(rt);
    assert_int_equal(tr_runtime_send(rt, a, MSG_RAISE, NULL, 0), 0);
    assert_int_equal(tr_runtime_run(rt), 0); /* returns after the ordered shutdown */
    assert_int_equal(g.tlog.n, 3);
    assert_int_equal(g.tlog.v[0], 3);
    assert_int_equal(g.tlog.v[1], 2);
    assert_int_equal(g.tlog.v[2], 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(g.reasons.v[i], TR_STOP_SHUTDOWN);
    assert_int_equal(tt_stats(rt).actors_live, 0);
    tr_runtime_destroy(rt);
    signal(SIGTERM, SIG_DFL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_create_destroy, setup),
        cmocka_unit_test_setup(test_attached_loop, setup),
        cmocka_unit_test_setup(test_poll_and_idle_counts, setup),
        cmocka_unit_test_setup(test_fairness_batch, setup),
        cmocka_unit_test_setup(test_io_not_starved, setup),
        cmocka_unit_test_setup(test_ordered_shutdown, setup),
        cmocka_unit_test_setup(test_ordered_shutdown_busy, setup),
        cmocka_unit_test_setup(test_reentry_refused, setup),
        cmocka_unit_test_setup(test_shutdown_from_handler, setup),
        cmocka_unit_test_setup(test_runtime_stop_keeps_actors, setup),
        cmocka_unit_test_setup(test_wrong_thread, setup),
        cmocka_unit_test_setup(test_destroy_resolves_everything, setup),
        cmocka_unit_test_setup(test_shutdown_balances_channels, setup),
        cmocka_unit_test_setup(test_stats_counters, setup),
        cmocka_unit_test_setup(test_verify, setup),
        /* last: if the runtime failed to catch SIGTERM the process dies */
        cmocka_unit_test_setup(test_sigterm_ordered_shutdown, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
