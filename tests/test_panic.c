/* tests/test_panic.c: tr_panic and what follows it. The caller of a call
 * whose handler panics gets DropWithoutReport (TR_DROP_PANICKED) with the
 * panic message, and so do kept replies and calls still queued; queued
 * one-way messages become dead letters; the order hook -> owned resources ->
 * terminate; panics in init, terminate and continuations; the panic hook's
 * scene (path, incarnation, message, sender, file:line, backtrace, events)
 * and its formatted block; the default hook; tr_runtime_events; hardware
 * faults under TR_FAULT_ISOLATE and TR_FAULT_REPORT, each in a forked child
 * so the suite survives; a restart storm of 10,000 panics. */
#include "tr_test.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* ThreadSanitizer does not support fork() from a process it has started
 * threads in, nor deliberate SIGSEGV through its own signal interception:
 * the forked fault tests are skipped in that build. */
#if defined(__SANITIZE_THREAD__)
#define TT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TT_TSAN 1
#endif
#endif
#ifndef TT_TSAN
#define TT_TSAN 0
#endif

enum {
    MSG_BOOM = TR_MSG_USER, /* server: int n: tr_panic("boom <n>") (one-way or call) */
    MSG_ECHO,               /* server: int -> reply 2x */
    MSG_KEEP,               /* server: keep the call's channel */
    MSG_NOTE,               /* server: int, one-way: count */
    MSG_OWNBOOM,            /* server: own a block, an fd and a timer, then panic */
    MSG_SEGV,               /* faulty: write through a NULL pointer */
    MSG_PING,               /* faulty: count */
    MSG_CALL,               /* client: call_req_t: tr_call */
    MSG_SENDBOOM,           /* client: tr_ref_t: tr_send MSG_BOOM 42 */
    MSG_BURST,              /* client: tr_ref_t: call BOOM, call ECHO, send_move NOTE, send NOTE */
    MSG_CONTBOOM            /* client: tr_ref_t: call ECHO; the continuation panics */
};

#define MAXC 16
#define MAXS 4
#define MAXEV 64

/* A copy of what the panic hook was told (the scene's pointers are valid
 * during the hook only). */
typedef struct scene_copy_s {
    int kind;
    char path[128];
    tr_ref_t actor;
    uint32_t incarnation;
    char type_name[64];
    char msg_name[64];
    int msg_type;
    tr_ref_t sender;
    int is_call;
    char reason[256];
    int signo;
    int has_file;
    char file[256];
    int line;
    uint64_t wall_ms, runtime_ms;
    size_t nframes;
    int frame_hit; /* some frame names g.expect_frame */
    char frames_dump[1024];
    size_t nevents;
    size_t ncopied;
    tr_event_t events[MAXEV]; /* the most recent ones, oldest first */
    char formatted[8192];
    size_t fmt_len;
    char small[16];
    size_t small_len;
} scene_copy_t;

typedef struct probe_s {
    tt_log_t order; /* 1 hook, 2 owned dtor, 3 terminate, 4 continuation */
    /* client */
    int ncalls;
    int call_rc[MAXC];
    int conts;
    int status[MAXC];
    int drop_reason[MAXC];
    int has_detail[MAXC];
    char detail[MAXC][256];
    int value[MAXC];
    int send_rc, move_rc, note_rc, contboom_rc;
    int move_dtors;
    int cont_runs;
    /* server */
    int depth;       /* frames between the handler and tr_panic */
    int boom_line;   /* line of the tr_panic that fired */
    int after_panic; /* code after a panicking call: must stay 0 */
    int echoes, notes, kept;
    int server_terms, server_term_reason;
    int own_rc, own_fd_rc, own_dtors;
    int owned_fd, other_fd;
    int64_t timer_id;
    int term_enter;
    /* faulty */
    int pings;
    int after_fault;
    /* hooks */
    int hooks;
    int hook_arg_ok;
    const char *expect_frame;
    scene_copy_t scene[MAXS];
    int storm_hooks;
    /* foreign thread */
    int64_t thr_events_rc;
    int thr_hook_rc;
} probe_t;

static probe_t g;
static int hook_marker;

static int setup(void **state) {
    (void)state;
    memset(&g, 0, sizeof g);
    g.owned_fd = -1;
    g.other_fd = -1;
    return 0;
}

/* The running test's runtime, destroyed by teardown if a failed assertion
 * left it behind: a leaked runtime keeps the process-wide fault handlers
 * counted as installed while cmocka swaps its own handlers around each
 * test, which would make every later fault test fail as well. */
static tr_runtime_t *live_rt;

static tr_runtime_t *new_rt(const tr_runtime_opts_t *o) {
    tr_runtime_t *rt = tt_runtime(o);
    live_rt = rt;
    return rt;
}

static void free_rt(tr_runtime_t *rt) {
    if (rt == live_rt)
        live_rt = NULL;
    tr_runtime_destroy(rt);
}

static int teardown(void **state) {
    (void)state;
    if (live_rt) {
        tr_runtime_destroy(live_rt);
        live_rt = NULL;
    }
    return 0;
}

static void cpy(char *dst, size_t cap, const char *src) {
    snprintf(dst, cap, "%s", src ? src : "(null)");
}

static void copy_scene(scene_copy_t *c, const tr_panic_scene_t *s) {
    c->kind = (int)s->kind;
    cpy(c->path, sizeof c->path, s->path);
    c->actor = s->actor;
    c->incarnation = s->incarnation;
    cpy(c->type_name, sizeof c->type_name, s->type_name);
    cpy(c->msg_name, sizeof c->msg_name, s->msg_name);
    c->msg_type = s->msg_type;
    c->sender = s->sender;
    c->is_call = s->is_call;
    cpy(c->reason, sizeof c->reason, s->reason);
    c->signo = s->signo;
    c->has_file = s->file != NULL;
    cpy(c->file, sizeof c->file, s->file);
    c->line = s->line;
    c->wall_ms = s->wall_ms;
    c->runtime_ms = s->runtime_ms;
    c->nframes = s->nframes;
    c->frame_hit = 0;
    size_t used = 0;
    for (size_t i = 0; s->frames && i < s->nframes; i++) {
        const char *f = s->frames[i];
        if (!f)
            continue;
        if (g.expect_frame && strstr(f, g.expect_frame))
            c->frame_hit = 1;
        if (used + 2 < sizeof c->frames_dump) {
            int w = snprintf(c->frames_dump + used, sizeof c->frames_dump - used, "  %s\n", f);
            if (w > 0)
                used += (size_t)w;
        }
    }
    c->nevents = s->nevents;
    c->ncopied = 0;
    if (s->events && s->nevents > 0) {
        size_t from = s->nevents > MAXEV ? s->nevents - MAXEV : 0;
        for (size_t i = from; i < s->nevents; i++)
            c->events[c->ncopied++] = s->events[i];
    }
    c->fmt_len = tr_panic_scene_format(s, c->formatted, sizeof c->formatted);
    memset(c->small, 0x7f, sizeof c->small);
    c->small_len = tr_panic_scene_format(s, c->small, sizeof c->small);
}

static void capture_hook(void *arg, const tr_panic_scene_t *s) {
    int i = g.hooks++;
    g.hook_arg_ok = arg == &hook_marker;
    tt_log_push(&g.order, 1);
    if (i < MAXS)
        copy_scene(&g.scene[i], s);
}

static void storm_hook(void *arg, const tr_panic_scene_t *s) {
    (void)arg;
    (void)s;
    g.storm_hooks++;
}

/* A manual-clock runtime, quiet, with the capturing hook. */
static tr_runtime_t *rt_new(void) {
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.manual_clock = 1;
    o.log = tt_quiet_log;
    tr_runtime_t *rt = new_rt(&o);
    assert_int_equal(tr_set_panic_hook(rt, capture_hook, &hook_marker), 0);
    return rt;
}

/* ------------------------------------------------------------------ */
/* server */

typedef struct server_s {
    tr_reply_t *kept[4];
    int nkept;
} server_t;

static __attribute__((noinline)) void do_panic(tr_ctx_t *ctx, int n) {
    g.boom_line = __LINE__; tr_panic(ctx, "boom %d", n);
}

/* Called through a volatile pointer so the compiler cannot tell that the
 * frames below never return (and keeps them). */
static void (*volatile panic_fn)(tr_ctx_t *, int) = do_panic;

static __attribute__((noinline)) void panic_deep(tr_ctx_t *ctx, int depth, int n) {
    if (depth > 0)
        panic_deep(ctx, depth - 1, n);
    else
        panic_fn(ctx, n);
    g.after_panic++;
}

static __attribute__((noinline)) void on_boom(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    int n;
    memcpy(&n, m->data, sizeof n);
    panic_deep(ctx, g.depth, n);
    g.after_panic++;
}

static void on_echo(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    int v;
    memcpy(&v, m->data, sizeof v);
    g.echoes++;
    v *= 2;
    (void)tr_reply(ctx, m, &v, sizeof v);
}

static void on_keep(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    server_t *s = state;
    tr_reply_t *r = tr_reply_keep(ctx, m);
    if (r && s->nkept < 4) {
        s->kept[s->nkept++] = r;
        g.kept++;
    }
}

static void on_note(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    (void)m;
    g.notes++;
}

static void own_dtor(void *p) {
    tt_log_push(&g.order, 2);
    g.own_dtors++;
    free(p);
}

static void on_ownboom(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    (void)m;
    g.own_rc = tr_own(ctx, malloc(32), own_dtor);
    int fds[2];
    if (pipe(fds) == 0) {
        g.owned_fd = fds[0];
        g.other_fd = fds[1];
        g.own_fd_rc = tr_own_fd(ctx, fds[0]);
    } else {
        g.own_fd_rc = 777;
    }
    int v = 1;
    g.timer_id = tr_timer_start(ctx, 50, 0, MSG_NOTE, &v, sizeof v);
    g.boom_line = __LINE__; tr_panic(ctx, "owned boom");
}

static void server_terminate(tr_ctx_t *ctx, void *state, tr_stop_reason_t reason) {
    (void)ctx;
    (void)state;
    tt_log_push(&g.order, 3);
    g.server_terms++;
    g.server_term_reason = (int)reason;
}

static const tr_handler_t server_handlers[] = {
    TR_ON(MSG_BOOM, on_boom, int),
    TR_ON(MSG_ECHO, on_echo, int),
    TR_ON_EMPTY(MSG_KEEP, on_keep),
    TR_ON(MSG_NOTE, on_note, int),
    TR_ON_EMPTY(MSG_OWNBOOM, on_ownboom),
    TR_END,
};

static const tr_actor_type_t server_type = {
    .name = "server",
    .state_size = sizeof(server_t),
    .handlers = server_handlers,
    .terminate = server_terminate,
};

/* init panics */

static int initboom_init(tr_ctx_t *ctx, void *state, const void *args) {
    (void)state;
    (void)args;
    (void)tr_own(ctx, malloc(16), own_dtor);
    g.boom_line = __LINE__; tr_panic(ctx, "init boom");
}

static const tr_handler_t empty_handlers[] = {
    TR_ON(MSG_NOTE, on_note, int),
    TR_END,
};

static const tr_actor_type_t initboom_type = {
    .name = "initboom",
    .state_size = sizeof(int),
    .handlers = empty_handlers,
    .init = initboom_init,
    .terminate = server_terminate,
};

/* terminate panics */

static int termboom_init(tr_ctx_t *ctx, void *state, const void *args) {
    (void)state;
    (void)args;
    return tr_own(ctx, malloc(16), own_dtor);
}

static void termboom_terminate(tr_ctx_t *ctx, void *state, tr_stop_reason_t reason) {
    (void)state;
    (void)reason;
    g.term_enter++;
    tr_panic(ctx, "terminate boom");
}

static const tr_actor_type_t termboom_type = {
    .name = "termboom",
    .state_size = sizeof(int),
    .handlers = empty_handlers,
    .init = termboom_init,
    .terminate = termboom_terminate,
};

/* faulty: a real NULL dereference. UBSan's null check would turn it into
 * an abort and ASan's into its own report, so both are off here; the
 * pointer is volatile so the compiler cannot see it is NULL. */

__attribute__((noinline, no_sanitize("undefined"), no_sanitize("address"))) static void
on_segv(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    (void)m;
    volatile int *volatile p = NULL;
    *p = 42;
    /* a volatile access too, so it cannot be moved before the fault */
    *(volatile int *)&g.after_fault += 1;
}

static void on_fping(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    (void)m;
    g.pings++;
}

static const tr_handler_t faulty_handlers[] = {
    TR_ON_EMPTY(MSG_SEGV, on_segv),
    TR_ON_EMPTY(MSG_PING, on_fping),
    TR_END,
};

static const tr_actor_type_t faulty_type = {
    .name = "crasher",
    .state_size = sizeof(int),
    .handlers = faulty_handlers,
};

/* ------------------------------------------------------------------ */
/* client */

typedef struct call_req_s {
    tr_ref_t target;
    int type;
    int arg;
    int has_arg;
} call_req_t;

static void on_result(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie) {
    (void)ctx;
    (void)state;
    (void)cookie;
    int i = g.conts++;
    tt_log_push(&g.order, 4);
    if (i >= MAXC)
        return;
    g.status[i] = r->status;
    g.drop_reason[i] = (int)r->drop_reason;
    g.has_detail[i] = r->detail != NULL;
    if (r->detail)
        snprintf(g.detail[i], sizeof g.detail[i], "%s", r->detail);
    if (r->status == TR_OK && r->len == sizeof(int))
        memcpy(&g.value[i], r->data, sizeof(int));
}

static void do_call(tr_ctx_t *ctx, tr_ref_t to, int type, const int *arg) {
    int rc = tr_call(ctx, to, type, arg, arg ? sizeof(int) : 0, on_result, NULL, 0);
    if (g.ncalls < MAXC)
        g.call_rc[g.ncalls] = rc;
    g.ncalls++;
}

static void on_call(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    call_req_t q;
    memcpy(&q, m->data, sizeof q);
    do_call(ctx, q.target, q.type, q.has_arg ? &q.arg : NULL);
}

static void on_sendboom(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    tr_ref_t t;
    memcpy(&t, m->data, sizeof t);
    int v = 42;
    g.send_rc = tr_send(ctx, t, MSG_BOOM, &v, sizeof v);
}

static void move_dtor(void *p) {
    g.move_dtors++;
    free(p);
}

static void on_burst(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    tr_ref_t t;
    memcpy(&t, m->data, sizeof t);
    int one = 1, two = 2;
    do_call(ctx, t, MSG_BOOM, &one);
    do_call(ctx, t, MSG_ECHO, &two);
    int *p = malloc(sizeof *p);
    *p = 3;
    g.move_rc = tr_send_move(ctx, t, MSG_NOTE, p, sizeof *p, move_dtor);
    g.note_rc = tr_send(ctx, t, MSG_NOTE, &one, sizeof one);
}

static __attribute__((noinline)) void cont_boom(tr_ctx_t *ctx, void *state, const tr_result_t *r,
                                                void *cookie) {
    (void)state;
    (void)r;
    (void)cookie;
    g.cont_runs++;
    tr_panic(ctx, "cont boom");
}

static void on_contboom(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    tr_ref_t t;
    memcpy(&t, m->data, sizeof t);
    int v = 4;
    g.contboom_rc = tr_call(ctx, t, MSG_ECHO, &v, sizeof v, cont_boom, NULL, 0);
}

static const tr_handler_t client_handlers[] = {
    TR_ON(MSG_CALL, on_call, call_req_t),
    TR_ON(MSG_SENDBOOM, on_sendboom, tr_ref_t),
    TR_ON(MSG_BURST, on_burst, tr_ref_t),
    TR_ON(MSG_CONTBOOM, on_contboom, tr_ref_t),
    TR_END,
};

static const tr_actor_type_t client_type = {
    .name = "client",
    .state_size = sizeof(int),
    .handlers = client_handlers,
};

/* ------------------------------------------------------------------ */
/* helpers */

static void call(tr_runtime_t *rt, tr_ref_t cli, tr_ref_t to, int type, const int *arg) {
    call_req_t q;
    memset(&q, 0, sizeof q);
    q.target = to;
    q.type = type;
    if (arg) {
        q.arg = *arg;
        q.has_arg = 1;
    }
    assert_int_equal(tr_runtime_send(rt, cli, MSG_CALL, &q, sizeof q), 0);
}

static tr_ref_t where(tr_runtime_t *rt, const char *name) {
    tr_ref_t r = TR_REF_NONE;
    assert_int_equal(tr_whereis(rt, name, &r), 0);
    assert_true(tr_actor_alive(rt, r));
    return r;
}

static tr_ref_t start_app(tr_runtime_t *rt, const tr_actor_type_t *type, const char *child,
                          uint32_t intensity) {
    tr_child_spec_t kid;
    memset(&kid, 0, sizeof kid);
    kid.name = child;
    kid.type = type;
    kid.restart = TR_PERMANENT;
    tr_sup_spec_t sp;
    memset(&sp, 0, sizeof sp);
    sp.strategy = TR_ONE_FOR_ONE;
    sp.intensity = intensity;
    sp.period_ms = 1000;
    sp.children = &kid;
    sp.nchildren = 1;
    tr_ref_t sup = TR_REF_NONE;
    assert_int_equal(tr_sup_start(rt, "app", &sp, &sup), 0);
    return sup;
}

static void assert_panicked_detail(int i, const char *msg) {
    char want[128];
    assert_int_equal(g.status[i], TR_EDROPPED);
    assert_int_equal(g.drop_reason[i], TR_DROP_PANICKED);
    assert_true(g.has_detail[i]);
    snprintf(want, sizeof want, ":%d: %s", g.boom_line, msg);
    if (!strstr(g.detail[i], want) || !strstr(g.detail[i], "panicked at "))
        fprintf(stderr, "detail[%d] = \"%s\", want \"panicked at ...%s\"\n", i, g.detail[i], want);
    assert_non_null(strstr(g.detail[i], "panicked at "));
    assert_non_null(strstr(g.detail[i], "test_panic.c"));
    assert_non_null(strstr(g.detail[i], want));
}

/* ------------------------------------------------------------------ */
/* panics and reply channels */

static void test_panic_in_call_drops_with_message(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.name = "solo";
    tr_ref_t srv = tt_spawn(rt, &server_type, &o);
    tr_ref_t other = tt_spawn(rt, &server_type, NULL);
    tr_ref_t cli = tt_spawn(rt, &client_type, NULL);
    g.depth = 3; /* unwind through three frames below the handler */
    int v = 42;
    call(rt, cli, srv, MSG_BOOM, &v);
    tt_drain(rt);
    assert_int_equal(g.call_rc[0], 0);
    assert_int_equal(g.conts, 1);
    assert_panicked_detail(0, "boom 42");
    assert_int_equal(g.after_panic, 0);
    assert_false(tr_actor_alive(rt, srv));
    assert_int_equal(g.server_terms, 1);
    assert_int_equal(g.server_term_reason, TR_STOP_PANIC);
    tr_ref_t r = TR_REF_NONE;
    assert_int_equal(tr_whereis(rt, "solo", &r), TR_ENOTFOUND);
    /* the hook saw a call from the client */
    assert_int_equal(g.hooks, 1);
    assert_true(g.hook_arg_ok);
    assert_int_equal(g.scene[0].is_call, 1);
    assert_true(tr_ref_eq(g.scene[0].sender, cli));
    assert_string_equal(g.scene[0].path, "solo"); /* unsupervised: its name */
    assert_string_equal(g.scene[0].reason, "boom 42");

    /* everyone else keeps running */
    v = 5;
    call(rt, cli, other, MSG_ECHO, &v);
    tt_drain(rt);
    assert_int_equal(g.conts, 2);
    assert_int_equal(g.status[1], TR_OK);
    assert_int_equal(g.value[1], 10);
    (void)tt_spawn(rt, &server_type, &o); /* the name is free again */

    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.panics, 1);
    assert_int_equal(s.chan_dropped, 1);
    assert_int_equal(s.chan_ok, 1);
    tt_assert_chan_balance(rt);
    const char *why = tr_drop_reason_str(TR_DROP_PANICKED);
    assert_non_null(why);
    assert_true(strlen(why) > 0);
    free_rt(rt);
}

static void test_panic_order_hook_owned_terminate(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_ref_t srv = tt_spawn(rt, &server_type, NULL);
    tr_ref_t cli = tt_spawn(rt, &client_type, NULL);
    call(rt, cli, srv, MSG_OWNBOOM, NULL);
    tt_drain(rt);
    assert_int_equal(g.own_rc, 0);
    assert_int_equal(g.own_fd_rc, 0);
    assert_true(g.timer_id > 0);
    /* hook, then owned resources, then terminate; the caller hears last */
    const int want[] = {1, 2, 3, 4};
    if (g.order.n != 4)
        fprintf(stderr, "order has %d entries\n", g.order.n);
    assert_int_equal(g.order.n, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(g.order.v[i], want[i]);
    assert_int_equal(g.own_dtors, 1);
    assert_int_equal(g.server_term_reason, TR_STOP_PANIC);
    /* the owned fd was closed */
    errno = 0;
    assert_int_equal(fcntl(g.owned_fd, F_GETFD), -1);
    assert_int_equal(errno, EBADF);
    close(g.other_fd);
    /* the owned timer is gone */
    assert_int_equal(tr_runtime_advance(rt, 100), 0);
    tt_drain(rt);
    assert_int_equal(g.notes, 0);
    assert_int_equal(g.conts, 1);
    assert_panicked_detail(0, "owned boom");
    tt_assert_chan_balance(rt);
    free_rt(rt);
    assert_int_equal(g.own_dtors, 1);
}

static void test_panic_with_kept_replies(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_ref_t srv = tt_spawn(rt, &server_type, NULL);
    tr_ref_t cli = tt_spawn(rt, &client_type, NULL);
    call(rt, cli, srv, MSG_KEEP, NULL);
    call(rt, cli, srv, MSG_KEEP, NULL);
    tt_drain(rt);
    assert_int_equal(g.kept, 2);
    assert_int_equal(g.conts, 0);
    int v = 7;
    assert_int_equal(tr_runtime_send(rt, srv, MSG_BOOM, &v, sizeof v), 0);
    tt_drain(rt);
    /* both kept channels say the holder panicked, and why */
    assert_int_equal(g.conts, 2);
    assert_panicked_detail(0, "boom 7");
    assert_panicked_detail(1, "boom 7");
    assert_int_equal(g.hooks, 1);
    assert_int_equal(g.scene[0].is_call, 0);
    assert_false(tr_ref_valid(g.scene[0].sender)); /* sent from outside */
    assert_string_equal(g.scene[0].path, "server"); /* no tree, no name: the type */
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.chan_dropped, 2);
    assert_int_equal(s.panics, 1);
    tt_assert_chan_balance(rt);
    free_rt(rt);
}

static void test_panic_with_queued_calls_and_messages(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_ref_t srv = tt_spawn(rt, &server_type, NULL);
    tr_ref_t cli = tt_spawn(rt, &client_type, NULL);
    /* one handler queues: call BOOM, call ECHO, moved NOTE, copied NOTE */
    assert_int_equal(tr_runtime_send(rt, cli, MSG_BURST, &srv, sizeof srv), 0);
    tt_drain(rt);
    assert_int_equal(g.ncalls, 2);
    assert_int_equal(g.call_rc[0], 0);
    assert_int_equal(g.call_rc[1], 0);
    assert_int_equal(g.move_rc, 0);
    assert_int_equal(g.note_rc, 0);
    /* the call being handled and the queued one: panicked, with the message */
    assert_int_equal(g.conts, 2);
    assert_panicked_detail(0, "boom 1");
    assert_panicked_detail(1, "boom 1");
    assert_int_equal(g.echoes, 0);
    /* the one-way messages: dead letters, destructor run once */
    assert_int_equal(g.notes, 0);
    assert_int_equal(g.move_dtors, 1);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.dead_letters, 2);
    assert_int_equal(s.chan_dropped, 2);
    assert_int_equal(s.panics, 1);
    tt_assert_chan_balance(rt);
    free_rt(rt);
    assert_int_equal(g.move_dtors, 1);
}

static void test_panic_in_init(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.name = "ib";
    tr_ref_t r = TR_REF_NONE;
    assert_int_equal(tr_spawn(rt, &initboom_type, &o, &r), TR_EINIT);
    /* hook, owned block released, terminate not called */
    assert_int_equal(g.order.n, 2);
    assert_int_equal(g.order.v[0], 1);
    assert_int_equal(g.order.v[1], 2);
    assert_int_equal(g.own_dtors, 1);
    assert_int_equal(g.server_terms, 0);
    assert_int_equal(g.hooks, 1);
    assert_string_equal(g.scene[0].msg_name, "init");
    assert_string_equal(g.scene[0].reason, "init boom");
    assert_int_equal(g.scene[0].line, g.boom_line);
    assert_int_equal(tr_whereis(rt, "ib", &r), TR_ENOTFOUND);
    tt_drain(rt);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.panics, 1);
    assert_int_equal(s.actors_live, 0);
    free_rt(rt);
    assert_int_equal(g.own_dtors, 1);
}

static void test_panic_in_terminate(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_ref_t t = tt_spawn(rt, &termboom_type, NULL);
    tr_ref_t srv = tt_spawn(rt, &server_type, NULL);
    tr_ref_t cli = tt_spawn(rt, &client_type, NULL);
    assert_int_equal(tr_stop(rt, t), 0);
    tt_drain(rt);
    /* terminate ended early, the stop went on */
    assert_int_equal(g.term_enter, 1);
    assert_false(tr_actor_alive(rt, t));
    assert_int_equal(g.own_dtors, 1);
    assert_int_equal(g.hooks, 1);
    assert_string_equal(g.scene[0].msg_name, "terminate");
    assert_string_equal(g.scene[0].reason, "terminate boom");
    assert_string_equal(g.scene[0].type_name, "termboom");
    int v = 3;
    call(rt, cli, srv, MSG_ECHO, &v);
    tt_drain(rt);
    assert_int_equal(g.conts, 1);
    assert_int_equal(g.status[0], TR_OK);
    assert_int_equal(g.value[0], 6);
    assert_int_equal(tt_stats(rt).actors_live, 2);
    tt_assert_chan_balance(rt);
    free_rt(rt);
    assert_int_equal(g.term_enter, 1);
    assert_int_equal(g.own_dtors, 1);
}

static void test_panic_in_continuation(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_ref_t srv = tt_spawn(rt, &server_type, NULL);
    tr_ref_t cli = tt_spawn(rt, &client_type, NULL);
    assert_int_equal(tr_runtime_send(rt, cli, MSG_CONTBOOM, &srv, sizeof srv), 0);
    tt_drain(rt);
    assert_int_equal(g.contboom_rc, 0);
    assert_int_equal(g.echoes, 1);
    assert_int_equal(g.cont_runs, 1);
    assert_false(tr_actor_alive(rt, cli));
    assert_true(tr_actor_alive(rt, srv));
    assert_int_equal(g.hooks, 1);
    assert_string_equal(g.scene[0].msg_name, "continuation");
    assert_string_equal(g.scene[0].reason, "cont boom");
    assert_true(tr_ref_eq(g.scene[0].actor, cli));
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.panics, 1);
    assert_int_equal(s.chan_ok, 1);
    tt_assert_chan_balance(rt);
    free_rt(rt);
}

/* ------------------------------------------------------------------ */
/* the panic hook and its scene */

static int last_line_is_equals(const char *s) {
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    if (n == 0)
        return 0;
    size_t start = n;
    while (start > 0 && s[start - 1] != '\n')
        start--;
    for (size_t i = start; i < n; i++)
        if (s[i] != '=')
            return 0;
    return 1;
}

static void test_panic_hook_scene(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_ref_t sup = start_app(rt, &server_type, "worker", 10);
    tr_ref_t w = where(rt, "app/worker");
    tr_ref_t cli = tt_spawn(rt, &client_type, NULL);
    tt_drain(rt);
    assert_int_equal(tr_runtime_advance(rt, 1234), 0);
    g.expect_frame = "on_boom";
    assert_int_equal(tr_runtime_send(rt, cli, MSG_SENDBOOM, &w, sizeof w), 0);
    tt_drain(rt);
    assert_int_equal(g.send_rc, 0);
    assert_int_equal(g.hooks, 1);
    const scene_copy_t *c = &g.scene[0];
    assert_int_equal(c->kind, TR_PANIC_CALL);
    assert_string_equal(c->path, "app/worker");
    assert_true(tr_ref_eq(c->actor, w));
    assert_int_equal(c->incarnation, 1);
    assert_string_equal(c->type_name, "server");
    assert_string_equal(c->msg_name, "MSG_BOOM");
    assert_int_equal(c->msg_type, MSG_BOOM);
    assert_true(tr_ref_eq(c->sender, cli));
    assert_int_equal(c->is_call, 0);
    assert_string_equal(c->reason, "boom 42");
    assert_int_equal(c->signo, 0);
    assert_true(c->has_file);
    assert_non_null(strstr(c->file, "test_panic.c"));
    assert_int_equal(c->line, g.boom_line);
    assert_int_equal(c->runtime_ms, 1234);
    assert_true(c->wall_ms > 1577836800000ull); /* after 2020-01-01 */
    /* a symbolized backtrace that names the handler */
    assert_true(c->nframes > 0);
    if (!c->frame_hit)
        fprintf(stderr, "no frame names on_boom:\n%s", c->frames_dump);
    assert_true(c->frame_hit);
    /* the actor's recent events, oldest first, with the message handled */
    assert_true(c->nevents > 0);
    assert_true(c->ncopied > 0);
    int handle = 0;
    for (size_t i = 0; i < c->ncopied; i++) {
        const tr_event_t *e = &c->events[i];
        assert_true(tr_ref_eq(e->actor, w) || tr_ref_eq(e->peer, w));
        assert_true(e->time_ms <= 1234);
        if (i > 0)
            assert_true(e->time_ms >= c->events[i - 1].time_ms);
        if (e->kind == TR_EV_HANDLE && e->msg_type == MSG_BOOM && tr_ref_eq(e->actor, w) &&
            tr_ref_eq(e->peer, cli))
            handle++;
    }
    assert_int_equal(handle, 1);
    /* the formatted block */
    assert_true(c->fmt_len < sizeof c->formatted);
    assert_int_equal(c->fmt_len, strlen(c->formatted));
    assert_int_equal(strncmp(c->formatted, "=== troupe panic", 16), 0);
    assert_non_null(strstr(c->formatted, "app/worker"));
    assert_non_null(strstr(c->formatted, "boom 42"));
    assert_non_null(strstr(c->formatted, "MSG_BOOM"));
    assert_non_null(strstr(c->formatted, "server"));
    assert_true(last_line_is_equals(c->formatted));
    /* truncated like snprintf: same length returned, a NUL-terminated prefix */
    assert_int_equal(c->small_len, c->fmt_len);
    assert_int_equal(strnlen(c->small, sizeof c->small), sizeof c->small - 1);
    assert_int_equal(strncmp(c->small, c->formatted, sizeof c->small - 1), 0);

    /* the restarted incarnation panics: incarnation 2, same path */
    tr_ref_t w2 = where(rt, "app/worker");
    assert_false(tr_ref_eq(w, w2));
    assert_int_equal(tr_runtime_send(rt, cli, MSG_SENDBOOM, &w2, sizeof w2), 0);
    tt_drain(rt);
    assert_int_equal(g.hooks, 2);
    assert_int_equal(g.scene[1].incarnation, 2);
    assert_true(tr_ref_eq(g.scene[1].actor, w2));
    assert_string_equal(g.scene[1].path, "app/worker");
    assert_true(tr_actor_alive(rt, sup));
    free_rt(rt);
}

typedef struct thr_arg_s {
    tr_runtime_t *rt;
} thr_arg_t;

static void *foreign_thread(void *p) {
    thr_arg_t *a = p;
    tr_event_t ev[4];
    g.thr_events_rc = tr_runtime_events(a->rt, ev, 4);
    g.thr_hook_rc = tr_set_panic_hook(a->rt, capture_hook, NULL);
    return NULL;
}

static void test_default_hook_writes_stderr(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    assert_int_equal(tr_set_panic_hook(NULL, capture_hook, NULL), TR_EINVAL);
    /* from a foreign thread */
    thr_arg_t ta = {rt};
    g.thr_hook_rc = 12345;
    g.thr_events_rc = 12345;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, foreign_thread, &ta), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(g.thr_hook_rc, TR_EWRONGTHREAD);
    assert_int_equal(g.thr_events_rc, TR_EWRONGTHREAD);
    /* NULL restores the default hook */
    assert_int_equal(tr_set_panic_hook(rt, NULL, NULL), 0);
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.name = "loud";
    tr_ref_t srv = tt_spawn(rt, &server_type, &o);

    FILE *tf = tmpfile();
    assert_non_null(tf);
    fflush(stderr);
    int saved = dup(2);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tf), 2) >= 0);
    int v = 42;
    int send_rc = tr_runtime_send(rt, srv, MSG_BOOM, &v, sizeof v);
    int64_t handled = tr_runtime_run_until_idle(rt);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    static char buf[16384];
    rewind(tf);
    size_t n = fread(buf, 1, sizeof buf - 1, tf);
    buf[n] = '\0';
    fclose(tf);

    assert_int_equal(send_rc, 0);
    assert_true(handled >= 1);
    assert_int_equal(g.hooks, 0);
    assert_false(tr_actor_alive(rt, srv));
    if (!strstr(buf, "=== troupe panic"))
        fprintf(stderr, "stderr was:\n%s\n", buf);
    assert_non_null(strstr(buf, "=== troupe panic"));
    assert_non_null(strstr(buf, "boom 42"));
    assert_non_null(strstr(buf, "server"));
    assert_non_null(strstr(buf, "loud"));
    free_rt(rt);
}

static int find_event(const tr_event_t *ev, int64_t n, tr_event_kind_t kind, tr_ref_t actor,
                      int by_actor) {
    for (int64_t i = 0; i < n; i++)
        if (ev[i].kind == kind && (!by_actor || tr_ref_eq(ev[i].actor, actor)))
            return (int)i;
    return -1;
}

static void test_runtime_events(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_new();
    tr_ref_t sup = start_app(rt, &server_type, "worker", 10);
    tr_ref_t w = where(rt, "app/worker");
    tt_drain(rt);
    assert_int_equal(tr_runtime_advance(rt, 7), 0);
    int v = 1;
    assert_int_equal(tr_runtime_send(rt, w, MSG_BOOM, &v, sizeof v), 0);
    tt_drain(rt);
    tr_ref_t w2 = where(rt, "app/worker");

    static tr_event_t ev[1024];
    int64_t n = tr_runtime_events(rt, ev, 1024);
    assert_true(n > 0);
    assert_true(n <= 1024);
    int spawn = find_event(ev, n, TR_EV_SPAWN, w, 1);
    int handle = -1;
    for (int64_t i = 0; i < n; i++)
        if (ev[i].kind == TR_EV_HANDLE && tr_ref_eq(ev[i].actor, w) && ev[i].msg_type == MSG_BOOM)
            handle = (int)i;
    int panic = find_event(ev, n, TR_EV_PANIC, w, 1);
    int stop = find_event(ev, n, TR_EV_STOP, w, 1);
    int restart = -1;
    for (int64_t i = 0; i < n; i++)
        if (ev[i].kind == TR_EV_RESTART && tr_ref_eq(ev[i].peer, sup))
            restart = (int)i;
    assert_true(spawn >= 0);
    assert_true(handle >= 0);
    assert_true(panic >= 0);
    assert_true(stop >= 0);
    assert_true(restart >= 0);
    assert_true(tr_ref_eq(ev[spawn].peer, sup));
    assert_true(spawn < handle);
    assert_true(handle < panic);
    assert_true(panic < restart);
    assert_int_equal(ev[panic].arg, 0);
    assert_int_equal(ev[panic].time_ms, 7);
    assert_int_equal(ev[stop].arg, TR_STOP_PANIC);
    assert_int_equal(ev[restart].arg, 2);
    assert_true(tr_ref_eq(ev[restart].actor, w2) || tr_ref_eq(ev[restart].actor, w));
    for (int64_t i = 1; i < n; i++)
        assert_true(ev[i].time_ms >= ev[i - 1].time_ms);

    /* a smaller buffer gets the most recent ones */
    tr_event_t last[2];
    assert_int_equal(tr_runtime_events(rt, last, 2), 2);
    for (int i = 0; i < 2; i++) {
        const tr_event_t *e = &ev[n - 2 + i];
        assert_int_equal(last[i].kind, e->kind);
        assert_int_equal(last[i].msg_type, e->msg_type);
        assert_int_equal(last[i].arg, e->arg);
        assert_int_equal(last[i].time_ms, e->time_ms);
        assert_true(tr_ref_eq(last[i].actor, e->actor));
        assert_true(tr_ref_eq(last[i].peer, e->peer));
    }
    assert_int_equal(tr_runtime_events(NULL, ev, 4), TR_EINVAL);
    assert_int_equal(tr_runtime_events(rt, NULL, 4), TR_EINVAL);
    assert_int_equal(tr_runtime_events(rt, NULL, 0), 0);

    /* kind names: static, distinct */
    assert_string_equal(tr_event_kind_name(TR_EV_SEND), "send");
    for (int k = TR_EV_SPAWN; k <= TR_EV_DOWN; k++) {
        const char *a = tr_event_kind_name((tr_event_kind_t)k);
        assert_non_null(a);
        assert_true(strlen(a) > 0);
        for (int j = TR_EV_SPAWN; j < k; j++)
            assert_string_not_equal(a, tr_event_kind_name((tr_event_kind_t)j));
    }
    free_rt(rt);

    /* the ring keeps event_ring entries, rounded up to a power of two */
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.manual_clock = 1;
    o.log = tt_quiet_log;
    o.event_ring = 5;
    rt = new_rt(&o);
    tr_ref_t srv = tt_spawn(rt, &server_type, NULL);
    for (int i = 0; i < 20; i++)
        assert_int_equal(tr_runtime_send(rt, srv, MSG_NOTE, &i, sizeof i), 0);
    tt_drain(rt);
    assert_int_equal(g.notes, 20);
    assert_int_equal(tr_runtime_events(rt, ev, 1024), 8);
    free_rt(rt);
}

static void test_options_and_names(void **state) {
    (void)state;
    tr_runtime_opts_t o;
    tr_runtime_t *rt = NULL;
    memset(&o, 0, sizeof o);
    o.fault_isolation = (tr_fault_isolation_t)7;
    assert_int_equal(tr_runtime_create(&o, &rt), TR_EINVAL);
    memset(&o, 0, sizeof o);
    o.event_ring = (1u << 20) + 1;
    assert_int_equal(tr_runtime_create(&o, &rt), TR_EINVAL);
    memset(&o, 0, sizeof o);
    o.fault_isolation = TR_FAULT_OFF;
    o.manual_clock = 1;
    rt = new_rt(&o);
    free_rt(rt);

    assert_string_equal(tr_stop_reason_str(TR_STOP_NORMAL), "normal");
    assert_string_equal(tr_stop_reason_str(TR_STOP_PANIC), "panic");
    for (int r = TR_STOP_NORMAL; r <= TR_STOP_NOPROC; r++) {
        const char *a = tr_stop_reason_str((tr_stop_reason_t)r);
        assert_non_null(a);
        for (int j = TR_STOP_NORMAL; j < r; j++)
            assert_string_not_equal(a, tr_stop_reason_str((tr_stop_reason_t)j));
    }
    assert_string_equal(tr_err_name(TR_EESCALATED), "TR_EESCALATED");
    assert_non_null(strstr(tr_strerror(TR_EESCALATED), "supervisor"));
}

/* ------------------------------------------------------------------ */
/* restart storm */

/* 10,000 panics: the leak check is ASan's. ThreadSanitizer has no leak
 * check and makes each panic (backtrace capture and symbolization) many
 * times slower, so it runs a shorter storm to stay well inside the ctest
 * timeout. */
#define STORM (TT_TSAN ? 2000 : 10000)

static void test_restart_storm(void **state) {
    (void)state;
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.manual_clock = 1; /* time does not move: every panic falls in one period */
    o.log = tt_quiet_log;
    tr_runtime_t *rt = new_rt(&o);
    assert_int_equal(tr_set_panic_hook(rt, storm_hook, NULL), 0);
    tr_child_spec_t kid;
    memset(&kid, 0, sizeof kid);
    kid.name = "storm";
    kid.type = &server_type;
    kid.restart = TR_PERMANENT;
    tr_sup_spec_t sp;
    memset(&sp, 0, sizeof sp);
    sp.strategy = TR_ONE_FOR_ONE;
    sp.intensity = 20000;
    sp.period_ms = 1000;
    sp.children = &kid;
    sp.nchildren = 1;
    tr_ref_t sup = TR_REF_NONE;
    assert_int_equal(tr_sup_start(rt, "app", &sp, &sup), 0);
    int failed_at = -1;
    for (int i = 0; i < STORM && failed_at < 0; i++) {
        tr_ref_t r = TR_REF_NONE;
        if (tr_whereis(rt, "app/storm", &r) != 0 ||
            tr_runtime_send(rt, r, MSG_BOOM, &i, sizeof i) != 0 ||
            tr_runtime_run_until_idle(rt) < 0)
            failed_at = i;
    }
    assert_int_equal(failed_at, -1);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.panics, STORM);
    assert_int_equal(s.restarts, STORM);
    assert_int_equal(g.storm_hooks, STORM);
    assert_int_equal(g.server_terms, STORM);
    assert_int_equal(s.actors_live, 2);
    tr_child_info_t ci[1];
    assert_int_equal(tr_sup_which_children(rt, sup, ci, 1), 1);
    assert_int_equal(ci[0].incarnation, STORM + 1);
    assert_int_equal(ci[0].restarts, STORM);
    assert_int_equal(ci[0].nhistory, TR_SUP_HISTORY);
    assert_int_equal(ci[0].state, TR_CHILD_RUNNING);
    assert_int_equal(tr_runtime_exit_status(rt), 0);
    free_rt(rt);
}

/* ------------------------------------------------------------------ */
/* hardware faults, in forked children */

typedef struct fork_out_s {
    int exited, code, signaled, sig;
    char err[65536];
    size_t errlen;
    unsigned char res[4096];
    size_t reslen;
} fork_out_t;

static fork_out_t fo;

static void read_all(int fd, void *buf, size_t cap, size_t *len) {
    char *p = buf;
    *len = 0;
    for (;;) {
        char tmp[4096];
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size_t take = (size_t)n;
        if (*len + take > cap)
            take = cap - *len;
        memcpy(p + *len, tmp, take);
        *len += take;
    }
}

/* Run body(resfd) in a child whose stderr goes to fo.err; results written
 * to resfd land in fo.res. The child never returns into cmocka. */
static void run_forked(void (*body)(int resfd)) {
    memset(&fo, 0, sizeof fo);
    int errp[2], resp[2];
    assert_int_equal(pipe(errp), 0);
    assert_int_equal(pipe(resp), 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(errp[0]);
        close(resp[0]);
        dup2(errp[1], 2);
        close(errp[1]);
        struct rlimit rl = {0, 0}; /* no core file */
        (void)setrlimit(RLIMIT_CORE, &rl);
        /* cmocka's own handlers (installed around each test) must not catch
         * a fault here and run the rest of the suite in the child */
        const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
            (void)signal(sigs[i], SIG_DFL);
        body(resp[1]);
        _exit(99);
    }
    close(errp[1]);
    close(resp[1]);
    read_all(errp[0], fo.err, sizeof fo.err - 1, &fo.errlen);
    fo.err[fo.errlen] = '\0';
    read_all(resp[0], fo.res, sizeof fo.res, &fo.reslen);
    close(errp[0]);
    close(resp[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    fo.exited = WIFEXITED(st);
    fo.code = fo.exited ? WEXITSTATUS(st) : -1;
    fo.signaled = WIFSIGNALED(st);
    fo.sig = fo.signaled ? WTERMSIG(st) : 0;
}

static void put(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        c += w;
        n -= (size_t)w;
    }
}

typedef struct iso_res_s {
    int stage;
    int create_rc, start_rc;
    int hooks, kind, signo, has_file, reason_sigsegv, path_ok, msg_ok, type_ok;
    int conts, status, drop_reason;
    uint64_t panics, faults_isolated, restarts;
    int old_alive, new_found, new_differs, pings, after_fault;
    int hooks2, new2_found;
    uint64_t faults2, panics2;
    int destroyed;
} iso_res_t;

static void isolate_body(int resfd) {
    iso_res_t r;
    memset(&r, 0, sizeof r);
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.manual_clock = 1;
    o.log = tt_quiet_log;
    o.fault_isolation = TR_FAULT_ISOLATE;
    tr_runtime_t *rt = NULL;
    r.create_rc = tr_runtime_create(&o, &rt);
    if (r.create_rc != 0)
        goto out;
    r.stage = 1;
    (void)tr_set_panic_hook(rt, capture_hook, &hook_marker);
    tr_child_spec_t kid;
    memset(&kid, 0, sizeof kid);
    kid.name = "faulty";
    kid.type = &faulty_type;
    kid.restart = TR_PERMANENT;
    tr_sup_spec_t sp;
    memset(&sp, 0, sizeof sp);
    sp.strategy = TR_ONE_FOR_ONE;
    sp.intensity = 10;
    sp.period_ms = 1000;
    sp.children = &kid;
    sp.nchildren = 1;
    r.start_rc = tr_sup_start(rt, "app", &sp, NULL);
    if (r.start_rc != 0)
        goto out;
    tr_ref_t f = TR_REF_NONE, cli = TR_REF_NONE;
    (void)tr_whereis(rt, "app/faulty", &f);
    (void)tr_spawn(rt, &client_type, NULL, &cli);
    call_req_t q;
    memset(&q, 0, sizeof q);
    q.target = f;
    q.type = MSG_SEGV;
    (void)tr_runtime_send(rt, cli, MSG_CALL, &q, sizeof q);
    r.stage = 2;
    put(resfd, &r, sizeof r);
    (void)tr_runtime_run_until_idle(rt);
    r.stage = 3;
    r.hooks = g.hooks;
    r.kind = g.scene[0].kind;
    r.signo = g.scene[0].signo;
    r.has_file = g.scene[0].has_file;
    r.reason_sigsegv = strstr(g.scene[0].reason, "SIGSEGV") != NULL;
    r.path_ok = strcmp(g.scene[0].path, "app/faulty") == 0;
    r.msg_ok = strcmp(g.scene[0].msg_name, "MSG_SEGV") == 0;
    r.type_ok = strcmp(g.scene[0].type_name, "crasher") == 0;
    r.conts = g.conts;
    r.status = g.status[0];
    r.drop_reason = g.drop_reason[0];
    r.after_fault = g.after_fault;
    tr_stats_t s;
    memset(&s, 0, sizeof s);
    (void)tr_runtime_stats(rt, &s);
    r.panics = s.panics;
    r.faults_isolated = s.faults_isolated;
    r.restarts = s.restarts;
    r.old_alive = tr_actor_alive(rt, f);
    tr_ref_t f2 = TR_REF_NONE;
    r.new_found = tr_whereis(rt, "app/faulty", &f2) == 0;
    r.new_differs = !tr_ref_eq(f, f2);
    (void)tr_runtime_send(rt, f2, MSG_PING, NULL, 0);
    (void)tr_runtime_run_until_idle(rt);
    r.pings = g.pings;
    /* a second fault: the handlers are still armed after the first */
    r.stage = 4;
    put(resfd, &r, sizeof r);
    (void)tr_runtime_send(rt, f2, MSG_SEGV, NULL, 0);
    (void)tr_runtime_run_until_idle(rt);
    r.stage = 5;
    r.hooks2 = g.hooks;
    memset(&s, 0, sizeof s);
    (void)tr_runtime_stats(rt, &s);
    r.faults2 = s.faults_isolated;
    r.panics2 = s.panics;
    tr_ref_t f3 = TR_REF_NONE;
    r.new2_found = tr_whereis(rt, "app/faulty", &f3) == 0 && !tr_ref_eq(f3, f2);
    tr_runtime_destroy(rt);
    r.destroyed = 1;
out:
    put(resfd, &r, sizeof r);
    _exit(0);
}

static void skip_under_tsan(void) {
    if (TT_TSAN)
        skip(); /* see TT_TSAN above */
}

static void test_isolate_null_deref(void **state) {
    (void)state;
    skip_under_tsan();
    run_forked(isolate_body);
    if (!fo.exited || fo.code != 0)
        fprintf(stderr, "child: exited=%d code=%d signaled=%d sig=%d\nstderr:\n%s\n", fo.exited,
                fo.code, fo.signaled, fo.sig, fo.err);
    assert_true(fo.reslen >= sizeof(iso_res_t));
    iso_res_t r;
    memcpy(&r, fo.res + (fo.reslen / sizeof r - 1) * sizeof r, sizeof r);
    if (r.stage != 5)
        fprintf(stderr, "child stopped at stage %d\n", r.stage);
    assert_int_equal(fo.signaled, 0);
    assert_true(fo.exited);
    assert_int_equal(fo.code, 0);
    assert_int_equal(r.create_rc, 0);
    assert_int_equal(r.start_rc, 0);
    assert_int_equal(r.stage, 5);
    /* the fault became a panic of that actor */
    assert_int_equal(r.hooks, 1);
    assert_int_equal(r.kind, TR_PANIC_FAULT_ISOLATED);
    assert_int_equal(r.signo, SIGSEGV);
    assert_true(r.reason_sigsegv);
    assert_false(r.has_file);
    assert_true(r.path_ok);
    assert_true(r.msg_ok);
    assert_true(r.type_ok);
    assert_int_equal(r.after_fault, 0);
    /* the caller was told */
    assert_int_equal(r.conts, 1);
    assert_int_equal(r.status, TR_EDROPPED);
    assert_int_equal(r.drop_reason, TR_DROP_PANICKED);
    /* counted, tainted, restarted */
    assert_int_equal(r.panics, 1);
    assert_int_equal(r.faults_isolated, 1);
    assert_int_equal(r.restarts, 1);
    assert_false(r.old_alive);
    assert_true(r.new_found);
    assert_true(r.new_differs);
    assert_int_equal(r.pings, 1);
    /* and again */
    assert_int_equal(r.hooks2, 2);
    assert_int_equal(r.faults2, 2);
    assert_int_equal(r.panics2, 2);
    assert_true(r.new2_found);
    assert_true(r.destroyed);
}

static void report_body(int resfd) {
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.manual_clock = 1;
    o.log = tt_quiet_log; /* fault_isolation 0: TR_FAULT_REPORT */
    tr_runtime_t *rt = NULL;
    int stage = 1;
    if (tr_runtime_create(&o, &rt) != 0) {
        put(resfd, &stage, sizeof stage);
        _exit(2);
    }
    tr_spawn_opts_t so;
    memset(&so, 0, sizeof so);
    so.name = "crash-site";
    tr_ref_t c = TR_REF_NONE;
    (void)tr_spawn(rt, &faulty_type, &so, &c);
    (void)tr_runtime_send(rt, c, MSG_SEGV, NULL, 0);
    stage = 2;
    put(resfd, &stage, sizeof stage);
    (void)tr_runtime_run_until_idle(rt);
    stage = 3; /* survived the fault: wrong in report mode */
    put(resfd, &stage, sizeof stage);
    _exit(3);
}

static void test_report_mode_fault(void **state) {
    (void)state;
    skip_under_tsan();
    run_forked(report_body);
    if (!fo.signaled || fo.sig != SIGSEGV || !strstr(fo.err, "=== troupe panic"))
        fprintf(stderr, "child: exited=%d code=%d signaled=%d sig=%d\nstderr:\n%s\n", fo.exited,
                fo.code, fo.signaled, fo.sig, fo.err);
    assert_true(fo.reslen >= sizeof(int));
    int stage;
    memcpy(&stage, fo.res + fo.reslen - sizeof stage, sizeof stage);
    assert_int_equal(stage, 2);
    /* the process died of the fault itself */
    assert_true(fo.signaled);
    assert_int_equal(fo.sig, SIGSEGV);
    /* after the default hook printed the scene */
    assert_non_null(strstr(fo.err, "=== troupe panic"));
    assert_non_null(strstr(fo.err, "crasher"));
    assert_non_null(strstr(fo.err, "SIGSEGV"));
    assert_non_null(strstr(fo.err, "MSG_SEGV"));
}

static void report_hook(void *arg, const tr_panic_scene_t *s) {
    (void)arg;
    char line[160];
    int n = snprintf(line, sizeof line, "REPORT-HOOK kind=%d signo=%d type=%s\n", (int)s->kind,
                     s->signo, s->type_name ? s->type_name : "(null)");
    if (n > 0)
        put(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void report_hook_body(int resfd) {
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.manual_clock = 1;
    o.log = tt_quiet_log;
    o.fault_isolation = TR_FAULT_REPORT;
    tr_runtime_t *rt = NULL;
    int stage = 1;
    if (tr_runtime_create(&o, &rt) != 0) {
        put(resfd, &stage, sizeof stage);
        _exit(2);
    }
    (void)tr_set_panic_hook(rt, report_hook, NULL);
    tr_ref_t c = TR_REF_NONE;
    (void)tr_spawn(rt, &faulty_type, NULL, &c);
    (void)tr_runtime_send(rt, c, MSG_SEGV, NULL, 0);
    stage = 2;
    put(resfd, &stage, sizeof stage);
    (void)tr_runtime_run_until_idle(rt);
    stage = 3;
    put(resfd, &stage, sizeof stage);
    _exit(3);
}

static void test_report_mode_custom_hook(void **state) {
    (void)state;
    skip_under_tsan();
    run_forked(report_hook_body);
    char want[96];
    snprintf(want, sizeof want, "REPORT-HOOK kind=%d signo=%d type=crasher",
             (int)TR_PANIC_FAULT_REPORTED, SIGSEGV);
    if (!fo.signaled || !strstr(fo.err, want))
        fprintf(stderr, "child: exited=%d code=%d signaled=%d sig=%d\nstderr:\n%s\n", fo.exited,
                fo.code, fo.signaled, fo.sig, fo.err);
    assert_non_null(strstr(fo.err, want));
    assert_true(fo.signaled);
    assert_int_equal(fo.sig, SIGSEGV);
    /* the custom hook replaced the default block */
    assert_null(strstr(fo.err, "=== troupe panic"));
}

static void outside_body(int resfd) {
    int stage = 1;
    put(resfd, &stage, sizeof stage);
    tr_panic(NULL, "lost in space %d", 7);
}

static void test_panic_outside_handler_aborts(void **state) {
    (void)state;
    skip_under_tsan();
    run_forked(outside_body);
    if (!fo.signaled || fo.sig != SIGABRT)
        fprintf(stderr, "child: exited=%d code=%d signaled=%d sig=%d\nstderr:\n%s\n", fo.exited,
                fo.code, fo.signaled, fo.sig, fo.err);
    assert_true(fo.signaled);
    assert_int_equal(fo.sig, SIGABRT);
    assert_non_null(strstr(fo.err, "lost in space 7"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_panic_in_call_drops_with_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_panic_order_hook_owned_terminate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_panic_with_kept_replies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_panic_with_queued_calls_and_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_panic_in_init, setup, teardown),
        cmocka_unit_test_setup_teardown(test_panic_in_terminate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_panic_in_continuation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_panic_hook_scene, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_hook_writes_stderr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runtime_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_options_and_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_storm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_isolate_null_deref, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_mode_fault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_mode_custom_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_panic_outside_handler_aborts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
