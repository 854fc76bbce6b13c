/* tests/test_supervisor.c: supervisors and monitors. Ordered start (and a
 * child whose init fails or panics), the four strategies, the three restart
 * types, restart intensity (sliding period, defaults, escalation from a
 * nested supervisor to its parent, a root giving up with TR_EESCALATED),
 * restart backoff on the manual clock, reverse-ordered shutdown with trapped
 * shutdown requests and the kill after shutdown_ms, tr_sup_add_child /
 * tr_sup_start_child / tr_sup_terminate_child / tr_sup_which_children
 * (restart history), the name of a restarted child, misuse error codes, and
 * monitors (DOWN with reason and detail, NOPROC, demonitor, ENOHANDLER). */
#include "tr_test.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

enum {
    MSG_BOOM = TR_MSG_USER, /* worker: int n: tr_panic("boom id=<id> n=<n>;") */
    MSG_QUIT,               /* worker: tr_stop_self */
    MSG_PING,               /* worker, watcher: count */
    MSG_WATCH,              /* worker, watcher: tr_ref_t: tr_monitor it */
    MSG_UNWATCH,            /* watcher: int64_t monitor id: tr_demonitor */
    MSG_SELFBOOM            /* looper: panic (sent by its own timer) */
};

/* Codes pushed to g.log (worker ids are < MAXW). */
#define L_TRY(id) (100 + (id))  /* init entered */
#define L_INIT(id) (200 + (id)) /* init succeeded */
#define L_TERM(id) (300 + (id)) /* terminate ran */
#define L_SHUT(id) (400 + (id)) /* TR_MSG_SHUTDOWN handled (trapper) */

#define MAXW 32
#define MAXD 16

/* What the actors saw; reset before each test. */
typedef struct probe_s {
    tt_log_t log;
    int inits[MAXW];       /* successful inits per worker id */
    int terms[MAXW];
    int term_reason[MAXW];
    int fail_init[MAXW];   /* > 0: init refuses (that many times) */
    int panic_init[MAXW];  /* > 0: init panics (that many times) */
    int init_panics[MAXW];
    int pings[MAXW];
    int trap_stop[MAXW];   /* trapper: 1 = tr_stop_self when told to shut down */
    int shut_reason[MAXW];
    /* monitors */
    int64_t last_monitor;  /* last tr_monitor return value */
    int monitor_calls;
    int64_t monitor_ids[MAXD];
    int demonitor_rc;
    int downs;
    int64_t down_monitor[MAXD];
    tr_ref_t down_actor[MAXD];
    int down_reason[MAXD];
    int down_has_detail[MAXD];
    char down_detail[MAXD][160];
    /* panic hook */
    int hook_calls;
    char hook_path[128];
    char hook_msg_name[64];
    uint32_t hook_incarnation;
    /* logger: error-level lines */
    int errlines;
    char errlog[8192];
    /* looper */
    int looper_inits;
    /* foreign thread results */
    int thr_start_rc;
    int64_t thr_which_rc;
} probe_t;

static probe_t g;

static int setup(void **state) {
    (void)state;
    memset(&g, 0, sizeof g);
    return 0;
}

static const int ids[MAXW] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                              11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                              22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

/* ------------------------------------------------------------------ */
/* worker: logs init/terminate, panics on MSG_BOOM */

typedef struct worker_s {
    int id;
} worker_t;

static int worker_init(tr_ctx_t *ctx, void *state, const void *args) {
    worker_t *w = state;
    int id = 0;
    if (args)
        memcpy(&id, args, sizeof id);
    if (id < 0 || id >= MAXW)
        return -1;
    w->id = id;
    tt_log_push(&g.log, L_TRY(id));
    if (g.panic_init[id] > 0) {
        g.panic_init[id]--;
        g.init_panics[id]++;
        tr_panic(ctx, "init panic id=%d", id);
    }
    if (g.fail_init[id] > 0) {
        g.fail_init[id]--;
        return -1;
    }
    g.inits[id]++;
    tt_log_push(&g.log, L_INIT(id));
    return 0;
}

static void worker_terminate(tr_ctx_t *ctx, void *state, tr_stop_reason_t reason) {
    (void)ctx;
    worker_t *w = state;
    g.terms[w->id]++;
    g.term_reason[w->id] = (int)reason;
    tt_log_push(&g.log, L_TERM(w->id));
}

static void on_boom(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    worker_t *w = state;
    int n;
    memcpy(&n, m->data, sizeof n);
    tr_panic(ctx, "boom id=%d n=%d;", w->id, n);
}

static void on_quit(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    (void)m;
    (void)tr_stop_self(ctx);
}

static void on_ping(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)m;
    worker_t *w = state;
    g.pings[w->id]++;
}

static void on_worker_watch(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    tr_ref_t target;
    memcpy(&target, m->data, sizeof target);
    g.monitor_calls++;
    g.last_monitor = tr_monitor(ctx, target);
}

static const tr_handler_t worker_handlers[] = {
    TR_ON(MSG_BOOM, on_boom, int),
    TR_ON_EMPTY(MSG_QUIT, on_quit),
    TR_ON_EMPTY(MSG_PING, on_ping),
    TR_ON(MSG_WATCH, on_worker_watch, tr_ref_t),
    TR_END,
};

static const tr_actor_type_t worker_type = {
    .name = "worker",
    .state_size = sizeof(worker_t),
    .handlers = worker_handlers,
    .init = worker_init,
    .terminate = worker_terminate,
};

/* trapper: a worker that handles TR_MSG_SHUTDOWN itself */

static void on_shutdown(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    worker_t *w = state;
    tr_stop_reason_t reason;
    memcpy(&reason, m->data, sizeof reason);
    g.shut_reason[w->id] = (int)reason;
    tt_log_push(&g.log, L_SHUT(w->id));
    if (g.trap_stop[w->id])
        (void)tr_stop_self(ctx);
}

static const tr_handler_t trapper_handlers[] = {
    TR_ON(TR_MSG_SHUTDOWN, on_shutdown, tr_stop_reason_t),
    TR_ON(MSG_BOOM, on_boom, int),
    TR_ON_EMPTY(MSG_QUIT, on_quit),
    TR_ON_EMPTY(MSG_PING, on_ping),
    TR_END,
};

static const tr_actor_type_t trapper_type = {
    .name = "trapper",
    .state_size = sizeof(worker_t),
    .handlers = trapper_handlers,
    .init = worker_init,
    .terminate = worker_terminate,
};

/* watcher: monitors what it is told to, records DOWN messages */

typedef struct watcher_s {
    int dummy;
} watcher_t;

static int watcher_init(tr_ctx_t *ctx, void *state, const void *args) {
    (void)state;
    if (args) {
        tr_ref_t target;
        memcpy(&target, args, sizeof target);
        g.last_monitor = tr_monitor(ctx, target);
        if (g.monitor_calls < MAXD)
            g.monitor_ids[g.monitor_calls] = g.last_monitor;
        g.monitor_calls++;
    }
    return 0;
}

static void on_watch(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    tr_ref_t target;
    memcpy(&target, m->data, sizeof target);
    g.last_monitor = tr_monitor(ctx, target);
    if (g.monitor_calls < MAXD)
        g.monitor_ids[g.monitor_calls] = g.last_monitor;
    g.monitor_calls++;
}

static void on_unwatch(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    int64_t id;
    memcpy(&id, m->data, sizeof id);
    g.demonitor_rc = tr_demonitor(ctx, id);
}

static void on_down(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    const tr_down_t *d = m->data;
    int i = g.downs++;
    if (i >= MAXD)
        return;
    g.down_monitor[i] = d->monitor;
    g.down_actor[i] = d->actor;
    g.down_reason[i] = (int)d->reason;
    g.down_has_detail[i] = d->detail != NULL;
    if (d->detail)
        snprintf(g.down_detail[i], sizeof g.down_detail[i], "%s", d->detail);
}

static void on_watcher_ping(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    (void)m;
    g.pings[0]++;
}

static const tr_handler_t watcher_handlers[] = {
    TR_ON(TR_MSG_DOWN, on_down, tr_down_t),
    TR_ON(MSG_WATCH, on_watch, tr_ref_t),
    TR_ON(MSG_UNWATCH, on_unwatch, int64_t),
    TR_ON_EMPTY(MSG_PING, on_watcher_ping),
    TR_END,
};

static const tr_actor_type_t watcher_type = {
    .name = "watcher",
    .state_size = sizeof(watcher_t),
    .handlers = watcher_handlers,
    .init = watcher_init,
};

/* looper: panics on MSG_SELFBOOM (sent by a foreign thread while
 * tr_runtime_run drives the loop) */

static int looper_init(tr_ctx_t *ctx, void *state, const void *args) {
    (void)state;
    (void)args;
    g.looper_inits++;
    if (g.looper_inits > 50) /* the supervisor never gave up: end the test */
        tr_runtime_stop(tr_ctx_runtime(ctx));
    return 0;
}

static void on_selfboom(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    (void)m;
    tr_panic(ctx, "looper boom %d", g.looper_inits);
}

static const tr_handler_t looper_handlers[] = {
    TR_ON_EMPTY(MSG_SELFBOOM, on_selfboom),
    TR_END,
};

static const tr_actor_type_t looper_type = {
    .name = "looper",
    .state_size = sizeof(worker_t),
    .handlers = looper_handlers,
    .init = looper_init,
};

/* ------------------------------------------------------------------ */
/* helpers */

static void count_hook(void *arg, const tr_panic_scene_t *s) {
    (void)arg;
    g.hook_calls++;
    snprintf(g.hook_path, sizeof g.hook_path, "%s", s->path ? s->path : "(null)");
    snprintf(g.hook_msg_name, sizeof g.hook_msg_name, "%s",
             s->msg_name ? s->msg_name : "(null)");
    g.hook_incarnation = s->incarnation;
}

static void capture_log(void *arg, tr_log_level_t level, const char *line) {
    (void)arg;
    if (level > TR_LOG_ERROR || !line)
        return;
    g.errlines++;
    size_t used = strlen(g.errlog);
    if (used + 1 < sizeof g.errlog)
        snprintf(g.errlog + used, sizeof g.errlog - used, "%s\n", line);
}

/* A manual-clock runtime with a quiet, capturing logger and a counting
 * panic hook (so nothing is printed). */
static tr_runtime_t *rt_new(void) {
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.manual_clock = 1;
    o.log = capture_log;
    tr_runtime_t *rt = tt_runtime(&o);
    assert_int_equal(tr_set_panic_hook(rt, count_hook, NULL), 0);
    return rt;
}

static tr_child_spec_t wspec(const char *name, int id, tr_restart_t restart) {
    tr_child_spec_t c;
    memset(&c, 0, sizeof c);
    c.name = name;
    c.type = &worker_type;
    c.args = &ids[id];
    c.args_len = sizeof(int);
    c.restart = restart;
    return c;
}

static tr_child_spec_t supspec(const char *name, const tr_sup_spec_t *sup, tr_restart_t restart) {
    tr_child_spec_t c;
    memset(&c, 0, sizeof c);
    c.name = name;
    c.sup = sup;
    c.restart = restart;
    return c;
}

static tr_sup_spec_t sspec(tr_strategy_t st, const tr_child_spec_t *kids, size_t n,
                           uint32_t intensity, uint32_t period_ms) {
    tr_sup_spec_t s;
    memset(&s, 0, sizeof s);
    s.strategy = st;
    s.children = kids;
    s.nchildren = n;
    s.intensity = intensity;
    s.period_ms = period_ms;
    return s;
}

static tr_ref_t start_sup(tr_runtime_t *rt, const char *name, const tr_sup_spec_t *sp) {
    tr_ref_t sup = TR_REF_NONE;
    assert_int_equal(tr_sup_start(rt, name, sp, &sup), 0);
    assert_true(tr_ref_valid(sup));
    assert_true(tr_is_supervisor(rt, sup));
    return sup;
}

static int registered(tr_runtime_t *rt, const char *name) {
    tr_ref_t r = TR_REF_NONE;
    return tr_whereis(rt, name, &r) == 0;
}

static tr_ref_t where(tr_runtime_t *rt, const char *name) {
    tr_ref_t r = TR_REF_NONE;
    int rc = tr_whereis(rt, name, &r);
    if (rc != 0)
        fprintf(stderr, "tr_whereis(%s) = %s\n", name, tr_err_name(rc));
    assert_int_equal(rc, 0);
    assert_true(tr_actor_alive(rt, r));
    return r;
}

static void send_boom(tr_runtime_t *rt, tr_ref_t r, int n) {
    assert_int_equal(tr_runtime_send(rt, r, MSG_BOOM, &n, sizeof n), 0);
}

static void boom(tr_runtime_t *rt, const char *name, int n) { send_boom(rt, where(rt, name), n); }

static void log_clear(void) { g.log.n = 0; }

static void assert_log(const int *expect, int n) {
    int same = g.log.n == n;
    for (int i = 0; same && i < n; i++)
        same = g.log.v[i] == expect[i];
    if (!same) {
        fprintf(stderr, "log expected:");
        for (int i = 0; i < n; i++)
            fprintf(stderr, " %d", expect[i]);
        fprintf(stderr, "\nlog got:     ");
        for (int i = 0; i < g.log.n && i < TT_LOG_MAX; i++)
            fprintf(stderr, " %d", g.log.v[i]);
        fprintf(stderr, "\n");
    }
    assert_int_equal(g.log.n, n);
    for (int i = 0; i < n; i++)
        assert_int_equal(g.log.v[i], expect[i]);
}

#define ASSERT_LOG(...)                                                                      \
    do {                                                                                     \
        const int expect_[] = {__VA_ARGS__};                                                 \
        assert_log(expect_, (int)(sizeof expect_ / sizeof expect_[0]));                      \
    } while (0)

#define MAXCI 8

/* which_children into ci (MAXCI entries); returns the total. */
static int64_t kids_of(tr_runtime_t *rt, tr_ref_t sup, tr_child_info_t *ci) {
    memset(ci, 0, sizeof(tr_child_info_t) * MAXCI);
    int64_t n = tr_sup_which_children(rt, sup, ci, MAXCI);
    assert_true(n >= 0);
    return n;
}

static const tr_child_info_t *find_kid(const tr_child_info_t *ci, int64_t n, const char *name) {
    for (int64_t i = 0; i < n && i < MAXCI; i++)
        if (ci[i].name && strcmp(ci[i].name, name) == 0)
            return &ci[i];
    return NULL;
}

static const tr_child_info_t *kid(tr_runtime_t *rt, tr_ref_t sup, tr_child_info_t *ci,
                                  const char *name) {
    int64_t n = kids_of(rt, sup, ci);
    const tr_child_info_t *k = find_kid(ci, n, name);
    assert_non_null(k);
    return k;
}

/* ------------------------------------------------------------------ */
/* ordered start, registry, which_children */

static void test_start_registers_children_in_order(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    char names[3][16];
    snprintf(names[0], sizeof names[0], "alpha");
    snprintf(names[1], sizeof names[1], "bravo");
    snprintf(names[2], sizeof names[2], "charlie");
    tr_child_spec_t kids[3] = {wspec(names[0], 1, TR_PERMANENT), wspec(names[1], 2, TR_TRANSIENT),
                               wspec(names[2], 3, TR_TEMPORARY)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 3, 5, 1000);
    tr_ref_t sup = start_sup(rt, "app", &sp);
    /* every init ran inside tr_sup_start, in spec order */
    ASSERT_LOG(L_TRY(1), L_INIT(1), L_TRY(2), L_INIT(2), L_TRY(3), L_INIT(3));
    /* the spec was copied: scribble over ours */
    memset(names, 'x', sizeof names);
    for (int i = 0; i < 3; i++)
        names[i][15] = '\0';
    memset(kids, 0, sizeof kids);
    memset(&sp, 0, sizeof sp);

    assert_true(tr_actor_alive(rt, sup));
    assert_true(tr_ref_eq(where(rt, "app"), sup));
    tr_ref_t a = where(rt, "app/alpha");
    tr_ref_t b = where(rt, "app/bravo");
    tr_ref_t c = where(rt, "app/charlie");
    assert_false(tr_ref_eq(a, b));
    assert_false(tr_ref_eq(b, c));
    assert_false(tr_ref_eq(a, sup));
    assert_false(tr_is_supervisor(rt, a));
    assert_false(tr_is_supervisor(rt, TR_REF_NONE));
    tt_drain(rt);

    tr_child_info_t ci[MAXCI];
    assert_int_equal(kids_of(rt, sup, ci), 3);
    const char *nm[3] = {"alpha", "bravo", "charlie"};
    const tr_ref_t refs[3] = {a, b, c};
    const tr_restart_t rs[3] = {TR_PERMANENT, TR_TRANSIENT, TR_TEMPORARY};
    for (int i = 0; i < 3; i++) {
        char path[32];
        snprintf(path, sizeof path, "app/%s", nm[i]);
        assert_non_null(ci[i].name);
        assert_string_equal(ci[i].name, nm[i]);
        assert_non_null(ci[i].path);
        assert_string_equal(ci[i].path, path);
        assert_true(tr_ref_eq(ci[i].ref, refs[i]));
        assert_non_null(ci[i].type_name);
        assert_string_equal(ci[i].type_name, "worker");
        assert_int_equal(ci[i].is_supervisor, 0);
        assert_int_equal(ci[i].dynamic, 0);
        assert_int_equal(ci[i].restart, rs[i]);
        assert_int_equal(ci[i].state, TR_CHILD_RUNNING);
        assert_int_equal(ci[i].incarnation, 1);
        assert_int_equal(ci[i].restarts, 0);
        assert_int_equal(ci[i].nhistory, 0);
    }
    /* a smaller buffer still reports the total, and fills what fits */
    memset(ci, 0, sizeof ci);
    assert_int_equal(tr_sup_which_children(rt, sup, ci, 1), 3);
    assert_non_null(ci[0].name);
    assert_string_equal(ci[0].name, "alpha");
    assert_null(ci[1].name);
    assert_int_equal(tr_sup_which_children(rt, sup, NULL, 0), 3);

    /* the copied spec is what restarts use */
    send_boom(rt, a, 0);
    tt_drain(rt);
    assert_int_equal(g.inits[1], 2);
    tr_ref_t a2 = where(rt, "app/alpha");
    assert_false(tr_ref_eq(a, a2));
    assert_int_equal(tt_stats(rt).actors_live, 4);
    tr_runtime_destroy(rt);
    assert_int_equal(g.terms[1], 2);
    assert_int_equal(g.terms[2], 1);
    assert_int_equal(g.terms[3], 1);
}

static void test_ordered_start_failure(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t kids[4] = {wspec("alpha", 1, TR_PERMANENT), wspec("bravo", 2, TR_PERMANENT),
                               wspec("charlie", 3, TR_PERMANENT), wspec("delta", 4, TR_PERMANENT)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 4, 5, 1000);
    g.fail_init[3] = 1;
    tr_ref_t sup = TR_REF_NONE;
    assert_int_equal(tr_sup_start(rt, "app", &sp, &sup), TR_EINIT);
    /* alpha and bravo started, charlie refused, they were stopped in
     * reverse order, delta never started */
    ASSERT_LOG(L_TRY(1), L_INIT(1), L_TRY(2), L_INIT(2), L_TRY(3), L_TERM(2), L_TERM(1));
    assert_int_equal(g.term_reason[1], TR_STOP_SHUTDOWN);
    assert_int_equal(g.term_reason[2], TR_STOP_SHUTDOWN);
    assert_int_equal(g.inits[4], 0);
    assert_false(registered(rt, "app"));
    assert_false(registered(rt, "app/alpha"));
    assert_false(registered(rt, "app/bravo"));
    tt_drain(rt);
    assert_int_equal(tt_stats(rt).actors_live, 0);
    assert_int_equal(g.terms[1], 1);
    assert_int_equal(g.terms[2], 1);
    /* the reason was logged at error level, naming the child */
    assert_true(g.errlines > 0);
    assert_non_null(strstr(g.errlog, "charlie"));

    /* nothing is left: the same name and spec start once init agrees */
    log_clear();
    sup = start_sup(rt, "app", &sp);
    ASSERT_LOG(L_TRY(1), L_INIT(1), L_TRY(2), L_INIT(2), L_TRY(3), L_INIT(3), L_TRY(4),
               L_INIT(4));
    assert_true(registered(rt, "app/delta"));
    tt_drain(rt);
    assert_int_equal(tt_stats(rt).actors_live, 5);

    /* a panic in init aborts the start the same way */
    log_clear();
    tr_child_spec_t kids2[3] = {wspec("echo", 5, TR_PERMANENT), wspec("foxtrot", 6, TR_PERMANENT),
                                wspec("golf", 7, TR_PERMANENT)};
    tr_sup_spec_t sp2 = sspec(TR_ONE_FOR_ONE, kids2, 3, 5, 1000);
    g.panic_init[6] = 1;
    assert_int_equal(tr_sup_start(rt, "app2", &sp2, NULL), TR_EINIT);
    ASSERT_LOG(L_TRY(5), L_INIT(5), L_TRY(6), L_TERM(5));
    assert_int_equal(g.init_panics[6], 1);
    assert_int_equal(g.inits[7], 0);
    assert_int_equal(g.hook_calls, 1);
    assert_string_equal(g.hook_msg_name, "init");
    assert_false(registered(rt, "app2"));
    assert_false(registered(rt, "app2/echo"));
    tt_drain(rt);
    assert_int_equal(tt_stats(rt).actors_live, 5);
    assert_true(tr_actor_alive(rt, sup));
    tr_runtime_destroy(rt);
}

/* ------------------------------------------------------------------ */
/* strategies and restart types */

static void test_one_for_one_restarts_only_the_failed_child(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t kids[3] = {wspec("alpha", 1, TR_PERMANENT), wspec("bravo", 2, TR_PERMANENT),
                               wspec("charlie", 3, TR_PERMANENT)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 3, 5, 1000);
    tr_ref_t sup = start_sup(rt, "app", &sp);
    tr_ref_t a = where(rt, "app/alpha");
    tr_ref_t b = where(rt, "app/bravo");
    tr_ref_t c = where(rt, "app/charlie");
    tt_drain(rt);
    log_clear();
    assert_int_equal(tr_runtime_advance(rt, 40), 0);

    send_boom(rt, b, 7);
    tt_drain(rt);
    ASSERT_LOG(L_TERM(2), L_TRY(2), L_INIT(2));
    assert_int_equal(g.term_reason[2], TR_STOP_PANIC);
    assert_false(tr_actor_alive(rt, b));
    tr_ref_t b2 = where(rt, "app/bravo");
    assert_false(tr_ref_eq(b, b2));
    assert_true(tr_ref_eq(where(rt, "app/alpha"), a));
    assert_true(tr_ref_eq(where(rt, "app/charlie"), c));
    assert_int_equal(g.inits[1], 1);
    assert_int_equal(g.inits[2], 2);
    assert_int_equal(g.inits[3], 1);
    assert_int_equal(g.hook_calls, 1);
    assert_string_equal(g.hook_path, "app/bravo");
    assert_int_equal(g.hook_incarnation, 1);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.panics, 1);
    assert_int_equal(s.restarts, 1);
    assert_int_equal(s.exits, 1);
    assert_int_equal(s.actors_live, 4);

    tr_child_info_t ci[MAXCI];
    const tr_child_info_t *k = kid(rt, sup, ci, "bravo");
    assert_true(tr_ref_eq(k->ref, b2));
    assert_int_equal(k->state, TR_CHILD_RUNNING);
    assert_int_equal(k->incarnation, 2);
    assert_int_equal(k->restarts, 1);
    assert_int_equal(k->nhistory, 1);
    assert_int_equal(k->history[0].reason, TR_STOP_PANIC);
    assert_int_equal(k->history[0].time_ms, 40);
    assert_non_null(strstr(k->history[0].detail, "boom id=2 n=7;"));
    k = kid(rt, sup, ci, "alpha");
    assert_int_equal(k->incarnation, 1);
    assert_int_equal(k->restarts, 0);
    assert_int_equal(k->nhistory, 0);

    /* the old ref is stale; the name reaches the new incarnation */
    assert_int_equal(tr_runtime_send(rt, b, MSG_PING, NULL, 0), TR_EDEAD);
    assert_int_equal(tr_runtime_send(rt, b2, MSG_PING, NULL, 0), 0);
    tt_drain(rt);
    assert_int_equal(g.pings[2], 1);
    assert_true(tr_actor_alive(rt, sup));
    assert_int_equal(tr_runtime_exit_status(rt), 0);
    tr_runtime_destroy(rt);
}

static void test_restart_types_after_normal_exit(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t kids[3] = {wspec("perm", 1, TR_PERMANENT), wspec("trans", 2, TR_TRANSIENT),
                               wspec("temp", 3, TR_TEMPORARY)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 3, 5, 1000);
    tr_ref_t sup = start_sup(rt, "app", &sp);
    tr_ref_t p = where(rt, "app/perm");
    tr_ref_t t = where(rt, "app/trans");
    tr_ref_t x = where(rt, "app/temp");
    assert_int_equal(tr_stop(rt, p), 0);
    assert_int_equal(tr_stop(rt, t), 0);
    assert_int_equal(tr_runtime_send(rt, x, MSG_QUIT, NULL, 0), 0); /* tr_stop_self */
    tt_drain(rt);
    for (int id = 1; id <= 3; id++) {
        assert_int_equal(g.terms[id], 1);
        assert_int_equal(g.term_reason[id], TR_STOP_NORMAL);
    }
    /* permanent: restarted; transient and temporary: not */
    assert_int_equal(g.inits[1], 2);
    assert_int_equal(g.inits[2], 1);
    assert_int_equal(g.inits[3], 1);
    tr_ref_t p2 = where(rt, "app/perm");
    assert_false(tr_ref_eq(p, p2));
    assert_false(registered(rt, "app/trans"));
    assert_false(registered(rt, "app/temp"));

    tr_child_info_t ci[MAXCI];
    int64_t n = kids_of(rt, sup, ci);
    assert_int_equal(n, 2); /* the temporary child's spec is gone */
    assert_null(find_kid(ci, n, "temp"));
    const tr_child_info_t *k = find_kid(ci, n, "perm");
    assert_non_null(k);
    assert_int_equal(k->state, TR_CHILD_RUNNING);
    assert_int_equal(k->incarnation, 2);
    assert_int_equal(k->nhistory, 1);
    assert_int_equal(k->history[0].reason, TR_STOP_NORMAL);
    k = find_kid(ci, n, "trans");
    assert_non_null(k);
    assert_int_equal(k->state, TR_CHILD_STOPPED);
    assert_false(tr_ref_valid(k->ref));
    assert_int_equal(k->restarts, 0);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.restarts, 1);
    assert_int_equal(s.panics, 0);
    assert_true(tr_actor_alive(rt, sup));
    assert_int_equal(tr_runtime_exit_status(rt), 0);
    tr_runtime_destroy(rt);
}

static void test_restart_types_after_panic(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t kids[3] = {wspec("perm", 1, TR_PERMANENT), wspec("trans", 2, TR_TRANSIENT),
                               wspec("temp", 3, TR_TEMPORARY)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 3, 5, 1000);
    tr_ref_t sup = start_sup(rt, "app", &sp);
    tr_ref_t t = where(rt, "app/trans");
    boom(rt, "app/perm", 1);
    boom(rt, "app/trans", 2);
    boom(rt, "app/temp", 3);
    tt_drain(rt);
    for (int id = 1; id <= 3; id++) {
        assert_int_equal(g.terms[id], 1);
        assert_int_equal(g.term_reason[id], TR_STOP_PANIC);
    }
    /* permanent and transient: restarted; temporary: not, and forgotten */
    assert_int_equal(g.inits[1], 2);
    assert_int_equal(g.inits[2], 2);
    assert_int_equal(g.inits[3], 1);
    assert_true(registered(rt, "app/perm"));
    assert_false(tr_ref_eq(where(rt, "app/trans"), t));
    assert_false(registered(rt, "app/temp"));
    tr_child_info_t ci[MAXCI];
    int64_t n = kids_of(rt, sup, ci);
    assert_int_equal(n, 2);
    assert_null(find_kid(ci, n, "temp"));
    const tr_child_info_t *k = find_kid(ci, n, "trans");
    assert_non_null(k);
    assert_int_equal(k->state, TR_CHILD_RUNNING);
    assert_int_equal(k->incarnation, 2);
    assert_int_equal(k->nhistory, 1);
    assert_int_equal(k->history[0].reason, TR_STOP_PANIC);
    assert_non_null(strstr(k->history[0].detail, "boom id=2 n=2;"));
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.panics, 3);
    assert_int_equal(s.restarts, 2);
    assert_int_equal(tr_runtime_exit_status(rt), 0);
    tr_runtime_destroy(rt);
}

static void test_one_for_all(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t kids[3] = {wspec("alpha", 1, TR_PERMANENT), wspec("bravo", 2, TR_PERMANENT),
                               wspec("charlie", 3, TR_PERMANENT)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ALL, kids, 3, 10, 1000);
    tr_ref_t sup = start_sup(rt, "app", &sp);
    tr_ref_t old[3] = {where(rt, "app/alpha"), where(rt, "app/bravo"), where(rt, "app/charlie")};
    tt_drain(rt);
    log_clear();

    /* bravo fails: charlie then alpha are stopped, then all start in order */
    send_boom(rt, old[1], 1);
    tt_drain(rt);
    ASSERT_LOG(L_TERM(2), L_TERM(3), L_TERM(1), L_TRY(1), L_INIT(1), L_TRY(2), L_INIT(2), L_TRY(3),
               L_INIT(3));
    assert_int_equal(g.term_reason[2], TR_STOP_PANIC);
    assert_int_equal(g.term_reason[3], TR_STOP_SHUTDOWN);
    assert_int_equal(g.term_reason[1], TR_STOP_SHUTDOWN);
    tr_ref_t now[3] = {where(rt, "app/alpha"), where(rt, "app/bravo"), where(rt, "app/charlie")};
    for (int i = 0; i < 3; i++) {
        assert_false(tr_actor_alive(rt, old[i]));
        assert_false(tr_ref_eq(old[i], now[i]));
    }
    tr_child_info_t ci[MAXCI];
    assert_int_equal(kids_of(rt, sup, ci), 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ci[i].incarnation, 2);
        assert_int_equal(ci[i].state, TR_CHILD_RUNNING);
        assert_true(tr_ref_eq(ci[i].ref, now[i]));
    }
    const tr_child_info_t *k = find_kid(ci, 3, "bravo");
    assert_non_null(k);
    assert_true(k->nhistory >= 1);
    assert_int_equal(k->history[k->nhistory - 1].reason, TR_STOP_PANIC);

    /* the last child fails: the others still stop in reverse start order */
    log_clear();
    send_boom(rt, now[2], 2);
    tt_drain(rt);
    ASSERT_LOG(L_TERM(3), L_TERM(2), L_TERM(1), L_TRY(1), L_INIT(1), L_TRY(2), L_INIT(2), L_TRY(3),
               L_INIT(3));
    assert_int_equal(tt_stats(rt).panics, 2);
    assert_int_equal(tr_runtime_exit_status(rt), 0);
    assert_true(tr_actor_alive(rt, sup));
    tr_runtime_destroy(rt);
}

static void test_rest_for_one(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t kids[4] = {wspec("alpha", 1, TR_PERMANENT), wspec("bravo", 2, TR_PERMANENT),
                               wspec("charlie", 3, TR_PERMANENT), wspec("delta", 4, TR_PERMANENT)};
    tr_sup_spec_t sp = sspec(TR_REST_FOR_ONE, kids, 4, 10, 1000);
    tr_ref_t sup = start_sup(rt, "app", &sp);
    tr_ref_t a = where(rt, "app/alpha");
    tr_ref_t c = where(rt, "app/charlie");
    tt_drain(rt);

    /* bravo fails: delta, charlie stopped; bravo, charlie, delta restart */
    log_clear();
    boom(rt, "app/bravo", 1);
    tt_drain(rt);
    ASSERT_LOG(L_TERM(2), L_TERM(4), L_TERM(3), L_TRY(2), L_INIT(2), L_TRY(3), L_INIT(3), L_TRY(4),
               L_INIT(4));
    assert_int_equal(g.term_reason[4], TR_STOP_SHUTDOWN);
    assert_int_equal(g.term_reason[3], TR_STOP_SHUTDOWN);
    assert_true(tr_ref_eq(where(rt, "app/alpha"), a));
    assert_false(tr_ref_eq(where(rt, "app/charlie"), c));
    assert_int_equal(g.inits[1], 1);

    /* the last child fails: only it restarts */
    log_clear();
    boom(rt, "app/delta", 2);
    tt_drain(rt);
    ASSERT_LOG(L_TERM(4), L_TRY(4), L_INIT(4));

    /* the first child fails: everything after it restarts too */
    log_clear();
    boom(rt, "app/alpha", 3);
    tt_drain(rt);
    ASSERT_LOG(L_TERM(1), L_TERM(4), L_TERM(3), L_TERM(2), L_TRY(1), L_INIT(1), L_TRY(2), L_INIT(2),
               L_TRY(3), L_INIT(3), L_TRY(4), L_INIT(4));
    assert_false(tr_ref_eq(where(rt, "app/alpha"), a));
    tr_child_info_t ci[MAXCI];
    assert_int_equal(kids_of(rt, sup, ci), 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(ci[i].state, TR_CHILD_RUNNING);
    assert_int_equal(tt_stats(rt).panics, 3);
    assert_int_equal(tr_runtime_exit_status(rt), 0);
    tr_runtime_destroy(rt);
}

static void test_simple_one_for_one(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t tmpl = wspec("conn", 0, TR_PERMANENT);
    tmpl.args = NULL;
    tmpl.args_len = 0;
    tr_sup_spec_t sp = sspec(TR_SIMPLE_ONE_FOR_ONE, &tmpl, 1, 10, 1000);
    tr_ref_t pool = start_sup(rt, "pool", &sp);
    assert_int_equal(g.log.n, 0); /* the template starts nothing */
    assert_int_equal(tr_sup_which_children(rt, pool, NULL, 0), 0);

    tr_ref_t r[3];
    for (int i = 0; i < 3; i++) {
        int v = 5 + i; /* copied: args_len > 0 */
        r[i] = TR_REF_NONE;
        assert_int_equal(tr_sup_start_child(rt, pool, &v, sizeof v, &r[i]), 0);
        assert_true(tr_actor_alive(rt, r[i]));
    }
    ASSERT_LOG(L_TRY(5), L_INIT(5), L_TRY(6), L_INIT(6), L_TRY(7), L_INIT(7));
    tt_drain(rt);

    tr_child_info_t ci[MAXCI];
    assert_int_equal(kids_of(rt, pool, ci), 3);
    for (int i = 0; i < 3; i++) {
        assert_true(tr_ref_eq(ci[i].ref, r[i]));
        assert_int_equal(ci[i].dynamic, 1);
        assert_int_equal(ci[i].is_supervisor, 0);
        assert_int_equal(ci[i].state, TR_CHILD_RUNNING);
        assert_int_equal(ci[i].incarnation, 1);
        assert_int_equal(ci[i].restart, TR_PERMANENT);
        assert_non_null(ci[i].path);
        assert_int_equal(strncmp(ci[i].path, "pool/conn#", 10), 0);
        /* dynamic children are not registered */
        assert_false(registered(rt, ci[i].path));
    }

    /* a dynamic child panics: restarted with the same (copied) args */
    send_boom(rt, r[1], 1);
    tt_drain(rt);
    assert_int_equal(g.inits[6], 2);
    assert_int_equal(g.term_reason[6], TR_STOP_PANIC);
    assert_int_equal(g.hook_calls, 1);
    assert_int_equal(strncmp(g.hook_path, "pool/conn#", 10), 0);
    int64_t n = kids_of(rt, pool, ci);
    assert_int_equal(n, 3);
    int fresh = 0;
    tr_ref_t r6 = TR_REF_NONE;
    for (int i = 0; i < 3; i++) {
        if (!tr_ref_eq(ci[i].ref, r[0]) && !tr_ref_eq(ci[i].ref, r[2])) {
            fresh++;
            r6 = ci[i].ref;
            assert_int_equal(ci[i].incarnation, 2);
            assert_int_equal(ci[i].nhistory, 1);
            assert_int_equal(ci[i].history[0].reason, TR_STOP_PANIC);
        }
    }
    assert_int_equal(fresh, 1);
    assert_false(tr_ref_eq(r6, r[1]));
    assert_true(tr_actor_alive(rt, r6));
    assert_false(tr_actor_alive(rt, r[1]));

    /* terminate_child: stopped with SHUTDOWN, not restarted, forgotten */
    assert_int_equal(tr_sup_terminate_child(rt, pool, r[0]), 0);
    tt_drain(rt);
    assert_int_equal(g.terms[5], 1);
    assert_int_equal(g.term_reason[5], TR_STOP_SHUTDOWN);
    assert_int_equal(g.inits[5], 1);
    assert_false(tr_actor_alive(rt, r[0]));
    assert_int_equal(kids_of(rt, pool, ci), 2);
    assert_int_equal(tr_sup_terminate_child(rt, pool, r[0]), TR_ENOTFOUND);
    tr_ref_t stranger = tt_spawn(rt, &worker_type, &(tr_spawn_opts_t){.args = &ids[9]});
    assert_int_equal(tr_sup_terminate_child(rt, pool, stranger), TR_ENOTFOUND);
    assert_true(tr_actor_alive(rt, stranger));

    /* a child whose init refuses is not kept */
    g.fail_init[8] = 1;
    tr_ref_t r8 = TR_REF_NONE;
    assert_int_equal(tr_sup_start_child(rt, pool, &ids[8], sizeof(int), &r8), TR_EINIT);
    assert_int_equal(kids_of(rt, pool, ci), 2);
    assert_int_equal(g.inits[8], 0);

    /* the dynamic API on the wrong kind of supervisor and vice versa */
    assert_int_equal(tr_sup_add_child(rt, pool, &tmpl, NULL), TR_EINVAL);

    assert_int_equal(tr_runtime_shutdown(rt), 0);
    tt_drain(rt);
    assert_false(tr_actor_alive(rt, pool));
    assert_int_equal(g.terms[6], 2);
    assert_int_equal(g.terms[7], 1);
    assert_int_equal(g.term_reason[7], TR_STOP_SHUTDOWN);
    assert_int_equal(tt_stats(rt).actors_live, 0);
    assert_int_equal(tr_runtime_exit_status(rt), 0);
    tr_runtime_destroy(rt);
}

static void test_simple_one_for_one_restart_types(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    /* temporary template: never restarted, forgotten when it stops */
    tr_child_spec_t tmp = wspec("tmp", 0, TR_TEMPORARY);
    tr_sup_spec_t sp = sspec(TR_SIMPLE_ONE_FOR_ONE, &tmp, 1, 10, 1000);
    tr_ref_t tpool = start_sup(rt, "tpool", &sp);
    tr_ref_t r = TR_REF_NONE;
    assert_int_equal(tr_sup_start_child(rt, tpool, &ids[10], sizeof(int), &r), 0);
    send_boom(rt, r, 1);
    tt_drain(rt);
    assert_int_equal(g.terms[10], 1);
    assert_int_equal(g.inits[10], 1);
    assert_int_equal(tr_sup_which_children(rt, tpool, NULL, 0), 0);

    /* transient template: a normal exit is final, a panic restarts */
    tr_child_spec_t trt = wspec("tr", 0, TR_TRANSIENT);
    tr_sup_spec_t sp2 = sspec(TR_SIMPLE_ONE_FOR_ONE, &trt, 1, 10, 1000);
    tr_ref_t trpool = start_sup(rt, "trpool", &sp2);
    tr_ref_t r11 = TR_REF_NONE, r12 = TR_REF_NONE;
    assert_int_equal(tr_sup_start_child(rt, trpool, &ids[11], sizeof(int), &r11), 0);
    assert_int_equal(tr_sup_start_child(rt, trpool, &ids[12], sizeof(int), &r12), 0);
    assert_int_equal(tr_runtime_send(rt, r11, MSG_QUIT, NULL, 0), 0);
    send_boom(rt, r12, 2);
    tt_drain(rt);
    assert_int_equal(g.inits[11], 1);
    assert_int_equal(g.inits[12], 2);
    tr_child_info_t ci[MAXCI];
    int64_t n = kids_of(rt, trpool, ci);
    int running = 0;
    for (int64_t i = 0; i < n && i < MAXCI; i++)
        if (ci[i].state == TR_CHILD_RUNNING)
            running++;
    assert_int_equal(running, 1);

    /* a stopped supervisor takes no more children */
    assert_int_equal(tr_stop(rt, tpool), 0);
    tt_drain(rt);
    assert_int_equal(tr_sup_start_child(rt, tpool, &ids[13], sizeof(int), NULL), TR_EDEAD);
    assert_int_equal(g.inits[13], 0);
    tr_runtime_destroy(rt);
}

/* ------------------------------------------------------------------ */
/* restart intensity and escalation */

static void test_intensity_root_gives_up(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t kids[3] = {wspec("alpha", 1, TR_PERMANENT), wspec("bravo", 2, TR_PERMANENT),
                               wspec("charlie", 3, TR_PERMANENT)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 3, 2, 1000);
    tr_ref_t sup = start_sup(rt, "app", &sp);
    tr_ref_t bystander = tt_spawn(rt, &worker_type, &(tr_spawn_opts_t){.args = &ids[9]});
    tt_drain(rt);

    boom(rt, "app/bravo", 1);
    tt_drain(rt);
    assert_int_equal(g.inits[2], 2);
    assert_int_equal(tr_runtime_exit_status(rt), 0);
    assert_int_equal(tr_runtime_advance(rt, 10), 0);
    boom(rt, "app/bravo", 2);
    tt_drain(rt);
    assert_int_equal(g.inits[2], 3);
    assert_int_equal(tr_runtime_exit_status(rt), 0);

    /* the third restart within 1000 ms is one too many */
    log_clear();
    boom(rt, "app/bravo", 3);
    tt_drain(rt);
    assert_int_equal(tr_runtime_exit_status(rt), TR_EESCALATED);
    assert_int_equal(g.inits[2], 3);
    /* children stopped in reverse order, then the runtime shut down */
    ASSERT_LOG(L_TERM(2), L_TERM(3), L_TERM(1), L_TERM(9));
    assert_int_equal(g.term_reason[3], TR_STOP_SHUTDOWN);
    assert_int_equal(g.term_reason[1], TR_STOP_SHUTDOWN);
    assert_int_equal(g.term_reason[9], TR_STOP_SHUTDOWN);
    assert_false(tr_actor_alive(rt, sup));
    assert_false(tr_actor_alive(rt, bystander));
    assert_false(registered(rt, "app"));
    assert_false(registered(rt, "app/alpha"));
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.restarts, 2);
    assert_int_equal(s.panics, 3);
    assert_int_equal(s.actors_live, 0);
    /* the runtime said why, and refuses new work */
    assert_true(g.errlines > 0);
    assert_non_null(strstr(g.errlog, "app"));
    tr_ref_t r = TR_REF_NONE;
    assert_int_equal(tr_spawn(rt, &worker_type, NULL, &r), TR_ESTOPPED);
    assert_int_equal(tr_sup_start(rt, "again", &sp, NULL), TR_ESTOPPED);
    tr_runtime_destroy(rt);
}

static void test_intensity_period_slides(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t kids[1] = {wspec("alpha", 1, TR_PERMANENT)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 1, 1, 1000);
    (void)start_sup(rt, "app", &sp);
    boom(rt, "app/alpha", 1);
    tt_drain(rt);
    assert_int_equal(g.inits[1], 2);
    /* the first restart has left the 1000 ms window */
    assert_int_equal(tr_runtime_advance(rt, 1500), 0);
    boom(rt, "app/alpha", 2);
    tt_drain(rt);
    assert_int_equal(g.inits[1], 3);
    assert_int_equal(tr_runtime_exit_status(rt), 0);
    /* two within the window: more than 1 */
    assert_int_equal(tr_runtime_advance(rt, 10), 0);
    boom(rt, "app/alpha", 3);
    tt_drain(rt);
    assert_int_equal(g.inits[1], 3);
    assert_int_equal(tr_runtime_exit_status(rt), TR_EESCALATED);
    assert_int_equal(tt_stats(rt).actors_live, 0);
    tr_runtime_destroy(rt);
}

static void test_intensity_defaults_and_zero(void **state) {
    (void)state;
    /* intensity = period = 0: OTP's 1 restart in 5000 ms */
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t kids[1] = {wspec("alpha", 1, TR_PERMANENT)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 1, 0, 0);
    (void)start_sup(rt, "app", &sp);
    boom(rt, "app/alpha", 1);
    tt_drain(rt);
    assert_int_equal(g.inits[1], 2);
    assert_int_equal(tr_runtime_exit_status(rt), 0);
    assert_int_equal(tr_runtime_advance(rt, 4000), 0);
    boom(rt, "app/alpha", 2);
    tt_drain(rt);
    assert_int_equal(g.inits[1], 2);
    assert_int_equal(tr_runtime_exit_status(rt), TR_EESCALATED);
    tr_runtime_destroy(rt);

    /* intensity 0 with a period: no restart at all */
    rt = rt_new();
    tr_child_spec_t kids2[1] = {wspec("bravo", 2, TR_PERMANENT)};
    tr_sup_spec_t sp2 = sspec(TR_ONE_FOR_ONE, kids2, 1, 0, 1000);
    (void)start_sup(rt, "app", &sp2);
    boom(rt, "app/bravo", 1);
    tt_drain(rt);
    assert_int_equal(g.inits[2], 1);
    assert_int_equal(tr_runtime_exit_status(rt), TR_EESCALATED);
    assert_int_equal(tt_stats(rt).restarts, 0);
    tr_runtime_destroy(rt);
}

/* Sends MSG_SELFBOOM once to every incarnation of app/looper until the
 * runtime reports why it stopped (or the test says stop). */
typedef struct boomer_arg_s {
    tr_runtime_t *rt;
    _Atomic int quit;
    int sent;
} boomer_arg_t;

static void *boomer_thread(void *p) {
    boomer_arg_t *a = p;
    tr_ref_t last = TR_REF_NONE;
    while (!atomic_load(&a->quit) && tr_runtime_exit_status(a->rt) == 0) {
        tr_ref_t r = TR_REF_NONE;
        if (tr_whereis(a->rt, "app/looper", &r) == 0 && !tr_ref_eq(r, last) &&
            tr_runtime_send(a->rt, r, MSG_SELFBOOM, NULL, 0) == 0) {
            last = r;
            a->sent++;
        }
        sched_yield();
    }
    return NULL;
}

static void test_root_gives_up_run_returns_eescalated(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t kid1;
    memset(&kid1, 0, sizeof kid1);
    kid1.name = "looper";
    kid1.type = &looper_type;
    kid1.restart = TR_PERMANENT;
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, &kid1, 1, 2, 1000);
    (void)start_sup(rt, "app", &sp);
    assert_int_equal(g.looper_inits, 1);
    /* A foreign thread makes every incarnation panic while tr_runtime_run
     * blocks in the loop; the third restart is one too many and
     * tr_runtime_run returns the escalation. (Not a 0 ms timer started in
     * init: under the manual clock tr_runtime_run does not count a due timer
     * as work, so the loop blocks in libev for up to a minute first.) */
    boomer_arg_t *ba = calloc(1, sizeof *ba);
    assert_non_null(ba);
    ba->rt = rt;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, boomer_thread, ba), 0);
    int rc = tr_runtime_run(rt);
    atomic_store(&ba->quit, 1);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(rc, TR_EESCALATED);
    assert_int_equal(ba->sent, 3);
    free(ba);
    assert_int_equal(g.looper_inits, 3);
    assert_int_equal(tr_runtime_exit_status(rt), TR_EESCALATED);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.panics, 3);
    assert_int_equal(s.restarts, 2);
    assert_int_equal(s.actors_live, 0);
    tr_runtime_destroy(rt);
}

static void test_nested_escalation(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t subkids[1] = {wspec("w", 1, TR_PERMANENT)};
    tr_sup_spec_t subsp = sspec(TR_ONE_FOR_ONE, subkids, 1, 1, 1000);
    tr_child_spec_t kids[3] = {wspec("alpha", 2, TR_PERMANENT),
                               supspec("sub", &subsp, TR_PERMANENT),
                               wspec("charlie", 3, TR_PERMANENT)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 3, 1, 1000);
    tr_ref_t app = start_sup(rt, "app", &sp);
    /* ordered start goes depth first */
    ASSERT_LOG(L_TRY(2), L_INIT(2), L_TRY(1), L_INIT(1), L_TRY(3), L_INIT(3));
    tr_ref_t sub = where(rt, "app/sub");
    assert_true(tr_is_supervisor(rt, sub));
    (void)where(rt, "app/sub/w");
    tr_child_info_t ci[MAXCI];
    const tr_child_info_t *k = kid(rt, app, ci, "sub");
    assert_int_equal(k->is_supervisor, 1);
    assert_string_equal(k->type_name, "supervisor");
    assert_string_equal(k->path, "app/sub");
    assert_true(tr_ref_eq(k->ref, sub));
    k = kid(rt, sub, ci, "w");
    assert_string_equal(k->path, "app/sub/w");

    /* first failure: the sub-supervisor restarts its worker */
    boom(rt, "app/sub/w", 1);
    tt_drain(rt);
    assert_int_equal(g.inits[1], 2);
    assert_string_equal(g.hook_path, "app/sub/w");
    assert_true(tr_ref_eq(where(rt, "app/sub"), sub));

    /* second failure: sub gives up, app restarts sub (and with it w) */
    log_clear();
    boom(rt, "app/sub/w", 2);
    tt_drain(rt);
    ASSERT_LOG(L_TERM(1), L_TRY(1), L_INIT(1));
    assert_int_equal(tr_runtime_exit_status(rt), 0);
    assert_true(tr_actor_alive(rt, app));
    assert_false(tr_actor_alive(rt, sub));
    tr_ref_t sub2 = where(rt, "app/sub");
    assert_false(tr_ref_eq(sub, sub2));
    assert_true(tr_is_supervisor(rt, sub2));
    (void)where(rt, "app/sub/w");
    assert_int_equal(g.inits[2], 1);
    assert_int_equal(g.inits[3], 1);
    k = kid(rt, app, ci, "sub");
    assert_int_equal(k->incarnation, 2);
    assert_int_equal(k->restarts, 1);
    assert_int_equal(k->nhistory, 1);
    assert_int_equal(k->history[0].reason, TR_STOP_ESCALATED);
    assert_int_equal(tt_stats(rt).restarts, 2);

    /* the new sub starts with a fresh count: one more restart is fine */
    assert_int_equal(tr_runtime_advance(rt, 10), 0);
    boom(rt, "app/sub/w", 3);
    tt_drain(rt);
    assert_int_equal(g.inits[1], 4);
    assert_int_equal(tr_runtime_exit_status(rt), 0);

    /* sub gives up again: app's second restart within 1000 ms is too many */
    log_clear();
    boom(rt, "app/sub/w", 4);
    tt_drain(rt);
    assert_int_equal(tr_runtime_exit_status(rt), TR_EESCALATED);
    ASSERT_LOG(L_TERM(1), L_TERM(3), L_TERM(2));
    assert_int_equal(g.inits[1], 4);
    assert_false(tr_actor_alive(rt, app));
    assert_int_equal(tt_stats(rt).actors_live, 0);
    tr_runtime_destroy(rt);
}

static void test_panic_in_init_during_restart_counts(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t kids[2] = {wspec("alpha", 1, TR_PERMANENT), wspec("bravo", 2, TR_PERMANENT)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 2, 3, 1000);
    (void)start_sup(rt, "app", &sp);
    /* from now on alpha's init panics every time */
    g.panic_init[1] = 1000;
    boom(rt, "app/alpha", 1);
    tt_drain(rt);
    /* three restart attempts are allowed; each fails in init; the fourth
     * would be more than the intensity: the root gives up */
    assert_int_equal(g.init_panics[1], 3);
    assert_int_equal(g.inits[1], 1);
    assert_int_equal(tr_runtime_exit_status(rt), TR_EESCALATED);
    assert_int_equal(g.terms[2], 1);
    assert_int_equal(g.term_reason[2], TR_STOP_SHUTDOWN);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.panics, 4);
    assert_int_equal(s.actors_live, 0);
    tr_runtime_destroy(rt);

    /* one failed attempt: the next attempt succeeds and the tree lives on */
    memset(&g, 0, sizeof g);
    rt = rt_new();
    (void)start_sup(rt, "app", &sp);
    g.panic_init[1] = 1;
    boom(rt, "app/alpha", 1);
    tt_drain(rt);
    assert_int_equal(g.init_panics[1], 1);
    assert_int_equal(g.inits[1], 2);
    assert_true(registered(rt, "app/alpha"));
    assert_int_equal(tr_runtime_exit_status(rt), 0);
    tr_child_info_t ci[MAXCI];
    const tr_child_info_t *k = kid(rt, where(rt, "app"), ci, "alpha");
    assert_int_equal(k->state, TR_CHILD_RUNNING);
    assert_true(k->restarts >= 1);
    tr_runtime_destroy(rt);
}

/* ------------------------------------------------------------------ */
/* backoff */

static void assert_kid_state(tr_runtime_t *rt, tr_ref_t sup, const char *name,
                             tr_child_state_t st) {
    tr_child_info_t ci[MAXCI];
    const tr_child_info_t *k = kid(rt, sup, ci, name);
    assert_int_equal(k->state, st);
    if (st == TR_CHILD_RUNNING)
        assert_true(tr_ref_valid(k->ref));
    else
        assert_false(tr_ref_valid(k->ref));
}

/* Panic alpha (id 1) and check it comes back exactly `delay` ms later. */
static void check_backoff(tr_runtime_t *rt, tr_ref_t sup, uint32_t delay, int restarts_before) {
    tr_ref_t old = where(rt, "app/alpha");
    int inits = g.inits[1];
    send_boom(rt, old, restarts_before);
    tt_drain(rt);
    assert_false(tr_actor_alive(rt, old));
    assert_false(registered(rt, "app/alpha"));
    assert_kid_state(rt, sup, "alpha", TR_CHILD_RESTARTING);
    assert_int_equal(tr_runtime_advance(rt, delay - 1), 0);
    tt_drain(rt);
    if (g.inits[1] != inits)
        fprintf(stderr, "restarted before its %u ms backoff\n", delay);
    assert_int_equal(g.inits[1], inits);
    assert_false(registered(rt, "app/alpha"));
    assert_kid_state(rt, sup, "alpha", TR_CHILD_RESTARTING);
    assert_int_equal(tt_stats(rt).restarts, (uint64_t)restarts_before);
    assert_int_equal(tr_runtime_advance(rt, 1), 0);
    tt_drain(rt);
    if (g.inits[1] != inits + 1)
        fprintf(stderr, "not restarted after its %u ms backoff\n", delay);
    assert_int_equal(g.inits[1], inits + 1);
    assert_true(registered(rt, "app/alpha"));
    assert_kid_state(rt, sup, "alpha", TR_CHILD_RUNNING);
    assert_int_equal(tt_stats(rt).restarts, (uint64_t)restarts_before + 1);
}

static void test_backoff_timing(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t kids[2] = {wspec("alpha", 1, TR_PERMANENT), wspec("bravo", 2, TR_PERMANENT)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 2, 100, 100000);
    sp.backoff_min_ms = 100;
    sp.backoff_max_ms = 300;
    sp.backoff_factor = 2.0;
    tr_ref_t sup = start_sup(rt, "app", &sp);
    tr_ref_t b = where(rt, "app/bravo");
    /* 100, 200, then 400 capped at 300, and 300 again */
    check_backoff(rt, sup, 100, 0);
    check_backoff(rt, sup, 200, 1);
    check_backoff(rt, sup, 300, 2);
    check_backoff(rt, sup, 300, 3);
    assert_int_equal(tr_runtime_now_ms(rt), 900);
    /* the sibling was never touched */
    assert_true(tr_ref_eq(where(rt, "app/bravo"), b));
    assert_int_equal(g.inits[2], 1);
    tr_child_info_t ci[MAXCI];
    const tr_child_info_t *k = kid(rt, sup, ci, "alpha");
    assert_int_equal(k->incarnation, 5);
    assert_int_equal(k->restarts, 4);
    assert_int_equal(k->nhistory, 4);
    assert_int_equal(k->history[0].time_ms, 0);
    assert_int_equal(k->history[1].time_ms, 100);
    assert_int_equal(k->history[2].time_ms, 300);
    assert_int_equal(k->history[3].time_ms, 600);
    assert_int_equal(tr_runtime_exit_status(rt), 0);
    tr_runtime_destroy(rt);
}

static void test_backoff_defaults(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t kids[1] = {wspec("alpha", 1, TR_PERMANENT)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 1, 100, 100000);
    sp.backoff_min_ms = 10; /* factor 0: 2.0; max 0: 32 * min = 320 */
    tr_ref_t sup = start_sup(rt, "app", &sp);
    const uint32_t delays[] = {10, 20, 40, 80, 160, 320, 320};
    for (int i = 0; i < 7; i++)
        check_backoff(rt, sup, delays[i], i);
    tr_runtime_destroy(rt);
}

static void test_backoff_resets_after_period(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t kids[1] = {wspec("alpha", 1, TR_PERMANENT)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 1, 10, 1000);
    sp.backoff_min_ms = 100;
    sp.backoff_max_ms = 1000;
    sp.backoff_factor = 2.0;
    tr_ref_t sup = start_sup(rt, "app", &sp);
    check_backoff(rt, sup, 100, 0);
    /* up for longer than period_ms: the next delay is the minimum again */
    assert_int_equal(tr_runtime_advance(rt, 1500), 0);
    check_backoff(rt, sup, 100, 1);
    /* failing again at once: consecutive, so it doubles */
    check_backoff(rt, sup, 200, 2);
    tr_runtime_destroy(rt);
}

/* ------------------------------------------------------------------ */
/* shutdown */

static void test_shutdown_reverse_order(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t subkids[2] = {wspec("xray", 4, TR_PERMANENT), wspec("yankee", 5, TR_PERMANENT)};
    tr_sup_spec_t subsp = sspec(TR_ONE_FOR_ONE, subkids, 2, 5, 1000);
    tr_child_spec_t kids[3] = {wspec("alpha", 1, TR_PERMANENT),
                               supspec("sub", &subsp, TR_PERMANENT),
                               wspec("charlie", 3, TR_PERMANENT)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 3, 5, 1000);
    tr_ref_t app = start_sup(rt, "app", &sp);
    tt_drain(rt);
    log_clear();
    assert_int_equal(tr_runtime_shutdown(rt), 0);
    tt_drain(rt);
    ASSERT_LOG(L_TERM(3), L_TERM(5), L_TERM(4), L_TERM(1));
    for (int id = 1; id <= 5; id++) {
        if (id == 2)
            continue;
        assert_int_equal(g.term_reason[id], TR_STOP_SHUTDOWN);
        assert_int_equal(g.inits[id], 1); /* nothing was restarted */
    }
    assert_false(tr_actor_alive(rt, app));
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.actors_live, 0);
    assert_int_equal(s.restarts, 0);
    assert_int_equal(tr_runtime_exit_status(rt), 0);
    tr_ref_t r = TR_REF_NONE;
    assert_int_equal(tr_spawn(rt, &worker_type, NULL, &r), TR_ESTOPPED);
    tr_runtime_destroy(rt);
}

static void test_stop_supervisor_stops_children_in_reverse(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t kids[3] = {wspec("alpha", 1, TR_PERMANENT), wspec("bravo", 2, TR_PERMANENT),
                               wspec("charlie", 3, TR_PERMANENT)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 3, 5, 1000);
    tr_ref_t app = start_sup(rt, "app", &sp);
    tt_drain(rt);
    log_clear();
    assert_int_equal(tr_stop(rt, app), 0);
    tt_drain(rt);
    ASSERT_LOG(L_TERM(3), L_TERM(2), L_TERM(1));
    for (int id = 1; id <= 3; id++)
        assert_int_equal(g.term_reason[id], TR_STOP_SHUTDOWN);
    assert_false(tr_actor_alive(rt, app));
    assert_false(registered(rt, "app"));
    assert_false(registered(rt, "app/alpha"));
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.actors_live, 0);
    assert_int_equal(s.restarts, 0);
    /* not an escalation: the runtime goes on */
    assert_int_equal(tr_runtime_exit_status(rt), 0);
    (void)start_sup(rt, "app", &sp);
    assert_int_equal(g.inits[1], 2);
    tr_runtime_destroy(rt);
}

static tr_child_spec_t trapspec(const char *name, int id, uint32_t shutdown_ms) {
    tr_child_spec_t c = wspec(name, id, TR_PERMANENT);
    c.type = &trapper_type;
    c.shutdown_ms = shutdown_ms;
    return c;
}

static void test_trap_shutdown_timeout_kill(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t kids[4] = {wspec("alpha", 1, TR_PERMANENT), trapspec("slow", 2, 500),
                               trapspec("polite", 3, 500), wspec("brutal", 4, TR_PERMANENT)};
    kids[3].shutdown_ms = TR_SHUTDOWN_BRUTAL_KILL;
    g.trap_stop[3] = 1;
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 4, 5, 1000);
    tr_ref_t app = start_sup(rt, "app", &sp);
    tr_ref_t alpha = where(rt, "app/alpha");
    tr_ref_t slow = where(rt, "app/slow");
    tr_ref_t brutal = where(rt, "app/brutal");
    tr_ref_t w = tt_spawn(rt, &watcher_type, NULL);
    assert_int_equal(tr_runtime_send(rt, w, MSG_WATCH, &slow, sizeof slow), 0);
    tt_drain(rt);
    assert_true(g.last_monitor > 0);
    log_clear();

    assert_int_equal(tr_stop(rt, app), 0);
    tt_drain(rt);
    /* brutal: killed at once (no terminate); polite: told, stops itself;
     * slow: told, ignores it; alpha waits for slow */
    ASSERT_LOG(L_SHUT(3), L_TERM(3), L_SHUT(2));
    assert_int_equal(g.shut_reason[3], TR_STOP_SHUTDOWN);
    assert_int_equal(g.shut_reason[2], TR_STOP_SHUTDOWN);
    assert_false(tr_actor_alive(rt, brutal));
    assert_int_equal(g.terms[4], 0);
    assert_true(tr_actor_alive(rt, slow));
    assert_true(tr_actor_alive(rt, alpha));
    assert_true(tr_actor_alive(rt, app));

    assert_int_equal(tr_runtime_advance(rt, 499), 0);
    tt_drain(rt);
    assert_true(tr_actor_alive(rt, slow));
    assert_true(tr_actor_alive(rt, alpha));
    assert_int_equal(g.log.n, 3);
    assert_int_equal(g.downs, 0);

    assert_int_equal(tr_runtime_advance(rt, 1), 0);
    tt_drain(rt);
    /* slow was killed (terminate not called), then alpha was stopped */
    assert_false(tr_actor_alive(rt, slow));
    assert_false(tr_actor_alive(rt, alpha));
    assert_false(tr_actor_alive(rt, app));
    ASSERT_LOG(L_SHUT(3), L_TERM(3), L_SHUT(2), L_TERM(1));
    assert_int_equal(g.terms[2], 0);
    assert_int_equal(g.term_reason[1], TR_STOP_SHUTDOWN);
    assert_int_equal(g.downs, 1);
    assert_true(tr_ref_eq(g.down_actor[0], slow));
    assert_int_equal(g.down_reason[0], TR_STOP_KILLED);
    assert_int_equal(g.down_monitor[0], g.last_monitor);
    assert_true(g.down_has_detail[0]);
    assert_true(strlen(g.down_detail[0]) > 0);
    assert_true(tr_actor_alive(rt, w));
    assert_int_equal(tr_runtime_exit_status(rt), 0);
    tr_runtime_destroy(rt);
}

static void test_trap_default_shutdown_timeout(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t kids[1] = {trapspec("slow", 2, 0)}; /* 0: 5000 ms for a worker */
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 1, 5, 1000);
    tr_ref_t app = start_sup(rt, "app", &sp);
    tr_ref_t slow = where(rt, "app/slow");
    assert_int_equal(tr_runtime_shutdown(rt), 0);
    tt_drain(rt);
    assert_int_equal(g.shut_reason[2], TR_STOP_SHUTDOWN);
    assert_int_equal(tt_log_find(&g.log, L_SHUT(2)), 2); /* after TRY, INIT */
    assert_true(tr_actor_alive(rt, slow));
    assert_int_equal(tr_runtime_advance(rt, 4999), 0);
    tt_drain(rt);
    assert_true(tr_actor_alive(rt, slow));
    assert_int_equal(tr_runtime_advance(rt, 1), 0);
    tt_drain(rt);
    assert_false(tr_actor_alive(rt, slow));
    assert_false(tr_actor_alive(rt, app));
    assert_int_equal(g.terms[2], 0);
    assert_int_equal(tt_stats(rt).actors_live, 0);
    tr_runtime_destroy(rt);
}

static void test_terminate_child(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t kids[3] = {wspec("alpha", 1, TR_PERMANENT), trapspec("slow", 2, 300),
                               wspec("charlie", 3, TR_PERMANENT)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 3, 5, 1000);
    tr_ref_t app = start_sup(rt, "app", &sp);
    tr_ref_t alpha = where(rt, "app/alpha");
    tr_ref_t slow = where(rt, "app/slow");
    tr_ref_t w = tt_spawn(rt, &watcher_type, &(tr_spawn_opts_t){.args = &slow}); /* init monitors */
    assert_true(g.last_monitor > 0);
    tt_drain(rt);

    /* a permanent child terminated on purpose is not restarted */
    assert_int_equal(tr_sup_terminate_child(rt, app, alpha), 0);
    tt_drain(rt);
    assert_int_equal(g.terms[1], 1);
    assert_int_equal(g.term_reason[1], TR_STOP_SHUTDOWN);
    assert_int_equal(g.inits[1], 1);
    assert_false(registered(rt, "app/alpha"));
    tr_child_info_t ci[MAXCI];
    int64_t n = kids_of(rt, app, ci);
    assert_int_equal(n, 2);
    assert_null(find_kid(ci, n, "alpha"));
    assert_int_equal(tr_sup_terminate_child(rt, app, alpha), TR_ENOTFOUND);
    assert_int_equal(tr_sup_terminate_child(rt, app, w), TR_ENOTFOUND);

    /* one that traps the request is killed after its shutdown_ms */
    assert_int_equal(tr_sup_terminate_child(rt, app, slow), 0);
    tt_drain(rt);
    assert_true(tt_log_find(&g.log, L_SHUT(2)) >= 0);
    assert_true(tr_actor_alive(rt, slow));
    assert_int_equal(tr_runtime_advance(rt, 299), 0);
    tt_drain(rt);
    assert_true(tr_actor_alive(rt, slow));
    assert_int_equal(tr_runtime_advance(rt, 1), 0);
    tt_drain(rt);
    assert_false(tr_actor_alive(rt, slow));
    assert_int_equal(g.terms[2], 0);
    assert_int_equal(g.inits[2], 1);
    assert_int_equal(g.downs, 1);
    assert_int_equal(g.down_reason[0], TR_STOP_KILLED);
    n = kids_of(rt, app, ci);
    assert_int_equal(n, 1);
    assert_non_null(find_kid(ci, n, "charlie"));
    assert_int_equal(tt_stats(rt).restarts, 0);

    tr_ref_t charlie = where(rt, "app/charlie");
    assert_int_equal(tr_stop(rt, app), 0);
    tt_drain(rt);
    assert_false(tr_actor_alive(rt, charlie));
    assert_int_equal(tr_sup_terminate_child(rt, app, charlie), TR_EDEAD);
    tr_runtime_destroy(rt);
}

/* ------------------------------------------------------------------ */
/* which_children history, add_child, names */

static void test_which_children_history(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t kids[1] = {wspec("alpha", 1, TR_PERMANENT)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 1, 100, 100000);
    tr_ref_t app = start_sup(rt, "app", &sp);
    assert_int_equal(tr_runtime_advance(rt, 50), 0);
    boom(rt, "app/alpha", 0);
    tt_drain(rt);
    tr_child_info_t ci[MAXCI];
    const tr_child_info_t *k = kid(rt, app, ci, "alpha");
    assert_int_equal(k->nhistory, 1);
    assert_int_equal(k->history[0].time_ms, 50);
    assert_int_equal(k->history[0].reason, TR_STOP_PANIC);
    assert_non_null(strstr(k->history[0].detail, "boom id=1 n=0;"));
    assert_non_null(memchr(k->history[0].detail, '\0', sizeof k->history[0].detail));

    for (int i = 1; i < 10; i++) {
        assert_int_equal(tr_runtime_advance(rt, 10), 0);
        boom(rt, "app/alpha", i);
        tt_drain(rt);
    }
    k = kid(rt, app, ci, "alpha");
    assert_int_equal(k->incarnation, 11);
    assert_int_equal(k->restarts, 10);
    assert_int_equal(k->nhistory, TR_SUP_HISTORY);
    /* the most recent 8, oldest first: n=2 .. n=9 */
    for (int j = 0; j < TR_SUP_HISTORY; j++) {
        char want[32];
        snprintf(want, sizeof want, "boom id=1 n=%d;", j + 2);
        assert_int_equal(k->history[j].reason, TR_STOP_PANIC);
        assert_int_equal(k->history[j].time_ms, 50 + 10 * (uint64_t)(j + 2));
        if (!strstr(k->history[j].detail, want))
            fprintf(stderr, "history[%d] = \"%s\", want \"%s\"\n", j, k->history[j].detail, want);
        assert_non_null(strstr(k->history[j].detail, want));
    }
    /* a normal exit of a permanent child is recorded too */
    assert_int_equal(tr_stop(rt, where(rt, "app/alpha")), 0);
    tt_drain(rt);
    k = kid(rt, app, ci, "alpha");
    assert_int_equal(k->restarts, 11);
    assert_int_equal(k->nhistory, TR_SUP_HISTORY);
    assert_int_equal(k->history[TR_SUP_HISTORY - 1].reason, TR_STOP_NORMAL);
    assert_non_null(strstr(k->history[TR_SUP_HISTORY - 2].detail, "n=9;"));
    tr_runtime_destroy(rt);
}

static void test_add_child(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t kids[1] = {wspec("alpha", 1, TR_PERMANENT)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 1, 5, 1000);
    tr_ref_t app = start_sup(rt, "app", &sp);

    char name[16];
    snprintf(name, sizeof name, "bravo");
    tr_child_spec_t nb = wspec(name, 2, TR_PERMANENT);
    tr_ref_t b = TR_REF_NONE;
    assert_int_equal(tr_sup_add_child(rt, app, &nb, &b), 0);
    memset(name, 'z', sizeof name - 1); /* copied */
    assert_int_equal(g.inits[2], 1);
    assert_true(tr_ref_eq(where(rt, "app/bravo"), b));
    tr_child_info_t ci[MAXCI];
    assert_int_equal(kids_of(rt, app, ci), 2);
    assert_string_equal(ci[1].name, "bravo");
    assert_string_equal(ci[1].path, "app/bravo");

    tr_child_spec_t bad = wspec("alpha", 5, TR_PERMANENT);
    assert_int_equal(tr_sup_add_child(rt, app, &bad, NULL), TR_EEXIST);
    bad = wspec("a/b", 6, TR_PERMANENT);
    assert_int_equal(tr_sup_add_child(rt, app, &bad, NULL), TR_EINVAL);
    bad = wspec("", 6, TR_PERMANENT);
    assert_int_equal(tr_sup_add_child(rt, app, &bad, NULL), TR_EINVAL);
    bad = wspec("notype", 6, TR_PERMANENT);
    bad.type = NULL;
    assert_int_equal(tr_sup_add_child(rt, app, &bad, NULL), TR_EINVAL);
    assert_int_equal(tr_sup_add_child(rt, app, NULL, NULL), TR_EINVAL);
    g.fail_init[7] = 1;
    bad = wspec("golf", 7, TR_PERMANENT);
    assert_int_equal(tr_sup_add_child(rt, app, &bad, NULL), TR_EINIT);
    assert_false(registered(rt, "app/golf"));
    assert_int_equal(g.inits[5], 0);
    assert_int_equal(g.inits[6], 0);
    assert_int_equal(kids_of(rt, app, ci), 2);

    /* an added child is supervised like the others */
    send_boom(rt, b, 1);
    tt_drain(rt);
    assert_int_equal(g.inits[2], 2);
    assert_true(registered(rt, "app/bravo"));
    /* and stops first (last in start order) */
    log_clear();
    assert_int_equal(tr_stop(rt, app), 0);
    tt_drain(rt);
    ASSERT_LOG(L_TERM(2), L_TERM(1));
    nb = wspec("charlie", 3, TR_PERMANENT);
    assert_int_equal(tr_sup_add_child(rt, app, &nb, NULL), TR_EDEAD);
    assert_int_equal(g.inits[3], 0);
    tr_runtime_destroy(rt);
}

static void test_restarted_child_keeps_name(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t kids[1] = {wspec("alpha", 1, TR_PERMANENT)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 1, 10, 1000);
    tr_ref_t app = start_sup(rt, "app", &sp);
    for (int i = 1; i <= 3; i++) {
        tr_ref_t r = where(rt, "app/alpha");
        send_boom(rt, r, i);
        tt_drain(rt);
        /* the panic scene names the incarnation that panicked */
        assert_int_equal(g.hook_calls, i);
        assert_int_equal(g.hook_incarnation, (uint32_t)i);
        assert_string_equal(g.hook_path, "app/alpha");
        tr_ref_t r2 = where(rt, "app/alpha");
        assert_false(tr_ref_eq(r, r2));
        assert_false(tr_actor_alive(rt, r));
        assert_int_equal(tr_runtime_send(rt, r2, MSG_PING, NULL, 0), 0);
        tt_drain(rt);
        assert_int_equal(g.pings[1], i);
    }
    tr_child_info_t ci[MAXCI];
    const tr_child_info_t *k = kid(rt, app, ci, "alpha");
    assert_int_equal(k->incarnation, 4);
    assert_int_equal(k->restarts, 3);
    assert_true(tr_ref_eq(k->ref, where(rt, "app/alpha")));
    tr_runtime_destroy(rt);
}

/* ------------------------------------------------------------------ */
/* misuse */

typedef struct thr_arg_s {
    tr_runtime_t *rt;
    tr_ref_t sup;
    const tr_sup_spec_t *sp;
} thr_arg_t;

static void *foreign_thread(void *p) {
    thr_arg_t *a = p;
    g.thr_start_rc = tr_sup_start(a->rt, "thr", a->sp, NULL);
    tr_child_info_t ci[1];
    g.thr_which_rc = tr_sup_which_children(a->rt, a->sup, ci, 1);
    return NULL;
}

static void test_misuse_errors(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_sup_spec_t sp;
    assert_int_equal(tr_sup_start(rt, "app", NULL, NULL), TR_EINVAL);

    tr_child_spec_t dup[2] = {wspec("alpha", 1, TR_PERMANENT), wspec("alpha", 2, TR_PERMANENT)};
    sp = sspec(TR_ONE_FOR_ONE, dup, 2, 5, 1000);
    assert_int_equal(tr_sup_start(rt, "app", &sp, NULL), TR_EINVAL);

    tr_child_spec_t one = wspec("a/b", 1, TR_PERMANENT);
    sp = sspec(TR_ONE_FOR_ONE, &one, 1, 5, 1000);
    assert_int_equal(tr_sup_start(rt, "app", &sp, NULL), TR_EINVAL);
    one = wspec("", 1, TR_PERMANENT);
    assert_int_equal(tr_sup_start(rt, "app", &sp, NULL), TR_EINVAL);
    one = wspec(NULL, 1, TR_PERMANENT);
    assert_int_equal(tr_sup_start(rt, "app", &sp, NULL), TR_EINVAL);
    one = wspec("notype", 1, TR_PERMANENT);
    one.type = NULL;
    assert_int_equal(tr_sup_start(rt, "app", &sp, NULL), TR_EINVAL);
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    one = wspec(longname, 1, TR_PERMANENT); /* path over 255 bytes */
    assert_int_equal(tr_sup_start(rt, "app", &sp, NULL), TR_EINVAL);

    tr_child_spec_t two[2] = {wspec("alpha", 1, TR_PERMANENT), wspec("bravo", 2, TR_PERMANENT)};
    sp = sspec(TR_SIMPLE_ONE_FOR_ONE, two, 2, 5, 1000);
    assert_int_equal(tr_sup_start(rt, "app", &sp, NULL), TR_EINVAL);
    sp = sspec(TR_SIMPLE_ONE_FOR_ONE, two, 0, 5, 1000);
    assert_int_equal(tr_sup_start(rt, "app", &sp, NULL), TR_EINVAL);

    one = wspec("alpha", 1, TR_PERMANENT);
    sp = sspec(TR_ONE_FOR_ONE, &one, 1, 5, 1000);
    sp.backoff_min_ms = 100;
    sp.backoff_max_ms = 50;
    assert_int_equal(tr_sup_start(rt, "app", &sp, NULL), TR_EINVAL);
    sp.backoff_max_ms = 200;
    sp.backoff_factor = 0.5;
    assert_int_equal(tr_sup_start(rt, "app", &sp, NULL), TR_EINVAL);
    sp = sspec(TR_ONE_FOR_ONE, &one, 1, 70000, 1000);
    assert_int_equal(tr_sup_start(rt, "app", &sp, NULL), TR_EINVAL);

    /* nothing started for any of them */
    assert_int_equal(g.log.n, 0);
    assert_false(registered(rt, "app"));
    tt_drain(rt);
    assert_int_equal(tt_stats(rt).actors_live, 0);

    /* name taken */
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.name = "taken";
    o.args = &ids[9];
    tr_ref_t taken = tt_spawn(rt, &worker_type, &o);
    sp = sspec(TR_ONE_FOR_ONE, &one, 1, 5, 1000);
    assert_int_equal(tr_sup_start(rt, "taken", &sp, NULL), TR_EEXIST);
    tt_drain(rt);
    assert_int_equal(tt_stats(rt).actors_live, 1);
    assert_false(registered(rt, "taken/alpha"));

    tr_ref_t app = start_sup(rt, "app", &sp);
    assert_int_equal(tr_sup_start(rt, "app", &sp, NULL), TR_EEXIST);
    tr_ref_t alpha = where(rt, "app/alpha");
    /* dynamic children only for simple_one_for_one */
    assert_int_equal(tr_sup_start_child(rt, app, &ids[3], sizeof(int), NULL), TR_EINVAL);
    assert_int_equal(g.inits[3], 0);
    /* which_children on a worker, or with a NULL buffer */
    tr_child_info_t ci[MAXCI];
    assert_int_equal(tr_sup_which_children(rt, alpha, ci, MAXCI), TR_EINVAL);
    assert_int_equal(tr_sup_which_children(rt, app, NULL, 4), TR_EINVAL);
    assert_false(tr_is_supervisor(rt, alpha));
    assert_false(tr_is_supervisor(rt, taken));
    assert_int_equal(tr_sup_terminate_child(rt, app, taken), TR_ENOTFOUND);

    /* from a foreign thread */
    thr_arg_t ta = {rt, app, &sp};
    g.thr_start_rc = 12345;
    g.thr_which_rc = 12345;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, foreign_thread, &ta), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(g.thr_start_rc, TR_EWRONGTHREAD);
    assert_int_equal(g.thr_which_rc, TR_EWRONGTHREAD);
    assert_false(registered(rt, "thr"));

    /* a dead supervisor */
    assert_int_equal(tr_stop(rt, app), 0);
    tt_drain(rt);
    assert_int_equal(tr_sup_which_children(rt, app, ci, MAXCI), TR_EDEAD);
    assert_int_equal(tr_sup_terminate_child(rt, app, alpha), TR_EDEAD);
    assert_false(tr_is_supervisor(rt, app));
    tr_runtime_destroy(rt);
}

/* ------------------------------------------------------------------ */
/* monitors */

static void test_monitor_down_reasons(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_ref_t w = tt_spawn(rt, &watcher_type, NULL);
    tr_ref_t t1 = tt_spawn(rt, &worker_type, &(tr_spawn_opts_t){.args = &ids[1]});
    tr_ref_t t2 = tt_spawn(rt, &worker_type, &(tr_spawn_opts_t){.args = &ids[2]});
    assert_int_equal(tr_runtime_send(rt, w, MSG_WATCH, &t1, sizeof t1), 0);
    assert_int_equal(tr_runtime_send(rt, w, MSG_WATCH, &t2, sizeof t2), 0);
    tt_drain(rt);
    assert_int_equal(g.monitor_calls, 2);
    assert_true(g.monitor_ids[0] > 0);
    assert_true(g.monitor_ids[1] > 0);
    assert_true(g.monitor_ids[0] != g.monitor_ids[1]);
    assert_int_equal(g.downs, 0);

    /* normal stop */
    assert_int_equal(tr_stop(rt, t1), 0);
    tt_drain(rt);
    assert_int_equal(g.downs, 1);
    assert_int_equal(g.down_monitor[0], g.monitor_ids[0]);
    assert_true(tr_ref_eq(g.down_actor[0], t1));
    assert_int_equal(g.down_reason[0], TR_STOP_NORMAL);

    /* panic: the reason and the panic message */
    send_boom(rt, t2, 5);
    tt_drain(rt);
    assert_int_equal(g.downs, 2);
    assert_int_equal(g.down_monitor[1], g.monitor_ids[1]);
    assert_true(tr_ref_eq(g.down_actor[1], t2));
    assert_int_equal(g.down_reason[1], TR_STOP_PANIC);
    assert_true(g.down_has_detail[1]);
    assert_non_null(strstr(g.down_detail[1], "boom id=2 n=5;"));
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.downs, 2);

    /* a monitor is gone with its DOWN */
    int64_t id = g.monitor_ids[0];
    g.demonitor_rc = 12345;
    assert_int_equal(tr_runtime_send(rt, w, MSG_UNWATCH, &id, sizeof id), 0);
    tt_drain(rt);
    assert_int_equal(g.demonitor_rc, TR_ENOTFOUND);
    assert_true(tr_actor_alive(rt, w));
    tr_runtime_destroy(rt);
}

static void test_monitor_noproc(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_ref_t w = tt_spawn(rt, &watcher_type, NULL);
    tr_ref_t t = tt_spawn(rt, &worker_type, &(tr_spawn_opts_t){.args = &ids[1]});
    assert_int_equal(tr_stop(rt, t), 0);
    tt_drain(rt);
    assert_int_equal(tr_runtime_send(rt, w, MSG_WATCH, &t, sizeof t), 0);
    tt_drain(rt);
    assert_true(g.last_monitor > 0);
    assert_int_equal(g.downs, 1);
    assert_int_equal(g.down_monitor[0], g.last_monitor);
    assert_true(tr_ref_eq(g.down_actor[0], t));
    assert_int_equal(g.down_reason[0], TR_STOP_NOPROC);
    tr_runtime_destroy(rt);
}

static void test_demonitor(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_ref_t w = tt_spawn(rt, &watcher_type, NULL);
    tr_ref_t t = tt_spawn(rt, &worker_type, &(tr_spawn_opts_t){.args = &ids[1]});
    assert_int_equal(tr_runtime_send(rt, w, MSG_WATCH, &t, sizeof t), 0);
    tt_drain(rt);
    int64_t id = g.last_monitor;
    assert_true(id > 0);
    g.demonitor_rc = 12345;
    assert_int_equal(tr_runtime_send(rt, w, MSG_UNWATCH, &id, sizeof id), 0);
    tt_drain(rt);
    assert_int_equal(g.demonitor_rc, 0);
    /* twice, or an id never issued */
    assert_int_equal(tr_runtime_send(rt, w, MSG_UNWATCH, &id, sizeof id), 0);
    tt_drain(rt);
    assert_int_equal(g.demonitor_rc, TR_ENOTFOUND);
    int64_t bogus = id + 1000;
    g.demonitor_rc = 12345;
    assert_int_equal(tr_runtime_send(rt, w, MSG_UNWATCH, &bogus, sizeof bogus), 0);
    tt_drain(rt);
    assert_int_equal(g.demonitor_rc, TR_ENOTFOUND);
    send_boom(rt, t, 1);
    tt_drain(rt);
    assert_false(tr_actor_alive(rt, t));
    assert_int_equal(g.downs, 0);
    assert_int_equal(tt_stats(rt).downs, 0);
    tr_runtime_destroy(rt);
}

static void test_monitor_stackable_and_from_init(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_ref_t t = tt_spawn(rt, &worker_type, &(tr_spawn_opts_t){.args = &ids[1]});
    /* one monitor made in init, two more from a handler: three DOWNs */
    tr_ref_t w = tt_spawn(rt, &watcher_type, &(tr_spawn_opts_t){.args = &t});
    assert_true(g.last_monitor > 0);
    assert_int_equal(tr_runtime_send(rt, w, MSG_WATCH, &t, sizeof t), 0);
    assert_int_equal(tr_runtime_send(rt, w, MSG_WATCH, &t, sizeof t), 0);
    tt_drain(rt);
    assert_int_equal(g.monitor_calls, 3);
    assert_true(g.monitor_ids[0] > 0 && g.monitor_ids[1] > 0 && g.monitor_ids[2] > 0);
    assert_true(g.monitor_ids[0] != g.monitor_ids[1]);
    assert_true(g.monitor_ids[1] != g.monitor_ids[2]);
    assert_true(g.monitor_ids[0] != g.monitor_ids[2]);
    assert_int_equal(tr_stop(rt, t), 0);
    tt_drain(rt);
    assert_int_equal(g.downs, 3);
    int seen = 0;
    for (int i = 0; i < 3; i++) {
        assert_true(tr_ref_eq(g.down_actor[i], t));
        for (int j = 0; j < 3; j++)
            if (g.down_monitor[i] == g.monitor_ids[j])
                seen |= 1 << j;
    }
    assert_int_equal(seen, 7);
    assert_int_equal(tt_stats(rt).downs, 3);
    tr_runtime_destroy(rt);
}

static void test_monitor_enohandler_and_watcher_stop(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    /* the worker's table has no TR_MSG_DOWN handler */
    tr_ref_t nw = tt_spawn(rt, &worker_type, &(tr_spawn_opts_t){.args = &ids[1]});
    tr_ref_t t = tt_spawn(rt, &worker_type, &(tr_spawn_opts_t){.args = &ids[2]});
    assert_int_equal(tr_runtime_send(rt, nw, MSG_WATCH, &t, sizeof t), 0);
    tt_drain(rt);
    assert_int_equal(g.monitor_calls, 1);
    assert_int_equal(g.last_monitor, TR_ENOHANDLER);

    /* a monitor ends when its watcher stops */
    tr_ref_t w = tt_spawn(rt, &watcher_type, NULL);
    assert_int_equal(tr_runtime_send(rt, w, MSG_WATCH, &t, sizeof t), 0);
    tt_drain(rt);
    assert_true(g.last_monitor > 0);
    assert_int_equal(tr_stop(rt, w), 0);
    tt_drain(rt);
    assert_int_equal(tr_stop(rt, t), 0);
    tt_drain(rt);
    assert_int_equal(g.downs, 0);
    assert_int_equal(tt_stats(rt).downs, 0);
    tr_runtime_destroy(rt);
}

static void test_monitor_full_mailbox_and_restart(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_child_spec_t kids[1] = {wspec("alpha", 1, TR_PERMANENT)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 1, 5, 1000);
    (void)start_sup(rt, "app", &sp);
    tr_ref_t a = where(rt, "app/alpha");
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.mailbox_capacity = 1;
    tr_ref_t w = tt_spawn(rt, &watcher_type, &o);
    assert_int_equal(tr_runtime_send(rt, w, MSG_WATCH, &a, sizeof a), 0);
    tt_drain(rt);
    assert_true(g.last_monitor > 0);
    /* fill the watcher's mailbox, then make the target panic: DOWN travels
     * on the system lane and still arrives */
    assert_int_equal(tr_runtime_send(rt, w, MSG_PING, NULL, 0), 0);
    assert_int_equal(tr_runtime_send(rt, w, MSG_PING, NULL, 0), TR_EFULL);
    send_boom(rt, a, 3);
    tt_drain(rt);
    assert_int_equal(g.downs, 1);
    assert_true(tr_ref_eq(g.down_actor[0], a));
    assert_int_equal(g.down_reason[0], TR_STOP_PANIC);
    assert_non_null(strstr(g.down_detail[0], "boom id=1 n=3;"));
    assert_int_equal(g.pings[0], 1);
    /* the monitor watched that incarnation only */
    tr_ref_t a2 = where(rt, "app/alpha");
    assert_false(tr_ref_eq(a, a2));
    send_boom(rt, a2, 4);
    tt_drain(rt);
    assert_int_equal(g.downs, 1);
    tr_runtime_destroy(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_start_registers_children_in_order, setup),
        cmocka_unit_test_setup(test_ordered_start_failure, setup),
        cmocka_unit_test_setup(test_one_for_one_restarts_only_the_failed_child, setup),
        cmocka_unit_test_setup(test_restart_types_after_normal_exit, setup),
        cmocka_unit_test_setup(test_restart_types_after_panic, setup),
        cmocka_unit_test_setup(test_one_for_all, setup),
        cmocka_unit_test_setup(test_rest_for_one, setup),
        cmocka_unit_test_setup(test_simple_one_for_one, setup),
        cmocka_unit_test_setup(test_simple_one_for_one_restart_types, setup),
        cmocka_unit_test_setup(test_intensity_root_gives_up, setup),
        cmocka_unit_test_setup(test_intensity_period_slides, setup),
        cmocka_unit_test_setup(test_intensity_defaults_and_zero, setup),
        cmocka_unit_test_setup(test_root_gives_up_run_returns_eescalated, setup),
        cmocka_unit_test_setup(test_nested_escalation, setup),
        cmocka_unit_test_setup(test_panic_in_init_during_restart_counts, setup),
        cmocka_unit_test_setup(test_backoff_timing, setup),
        cmocka_unit_test_setup(test_backoff_defaults, setup),
        cmocka_unit_test_setup(test_backoff_resets_after_period, setup),
        cmocka_unit_test_setup(test_shutdown_reverse_order, setup),
        cmocka_unit_test_setup(test_stop_supervisor_stops_children_in_reverse, setup),
        cmocka_unit_test_setup(test_trap_shutdown_timeout_kill, setup),
        cmocka_unit_test_setup(test_trap_default_shutdown_timeout, setup),
        cmocka_unit_test_setup(test_terminate_child, setup),
        cmocka_unit_test_setup(test_which_children_history, setup),
        cmocka_unit_test_setup(test_add_child, setup),
        cmocka_unit_test_setup(test_restarted_child_keeps_name, setup),
        cmocka_unit_test_setup(test_misuse_errors, setup),
        cmocka_unit_test_setup(test_monitor_down_reasons, setup),
        cmocka_unit_test_setup(test_monitor_noproc, setup),
        cmocka_unit_test_setup(test_demonitor, setup),
        cmocka_unit_test_setup(test_monitor_stackable_and_from_init, setup),
        cmocka_unit_test_setup(test_monitor_enohandler_and_watcher_stop, setup),
        cmocka_unit_test_setup(test_monitor_full_mailbox_and_restart, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
