/* tests/test_actor.c: actor lifecycle and identity: spawn with args, init
 * refusal (TR_EINIT, resources owned in init released), terminate exactly
 * once with its reason, tr_stop_self / tr_stop, stale and generation-checked
 * refs, the name registry, dispatch by message table (incl. the default
 * handler), tr_msg_type_name and message-table validation. */
#include "tr_test.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

enum {
    MSG_PING = TR_MSG_USER,
    MSG_GET,
    MSG_SET,
    MSG_QUIT,
    /* dispatch table (wide_type) */
    MSG_A = TR_MSG_USER + 100,
    MSG_B,
    MSG_C,
    MSG_HOLE, /* not in the table */
    MSG_FAR = TR_MSG_USER + 100 + 4000
};

/* What the handlers saw; reset before each test. */
typedef struct probe_s {
    int init_calls;
    int state_was_zero;
    tr_ref_t self_in_init;
    const tr_actor_type_t *type_in_init;
    tr_runtime_t *rt_in_init;
    int own_rc, own_fd_rc;
    int owned_freed;
    int terminate_calls;
    int last_reason;
    int terminate_send_rc;
    int pings;
    int gets;
    int last_value;
    int quit_calls;
    int stop_self_rc, stop_self_again_rc;
    int after_stop_self;
    tt_log_t log;     /* actor ids in handling order */
    tt_log_t tlog;    /* actor ids in terminate order */
    int dtor_runs;
    /* dispatch */
    tt_log_t types;
    int last_int;
    uint32_t last_len;
    int default_calls;
    int default_type;
} probe_t;

static probe_t g;

static int setup(void **state) {
    (void)state;
    memset(&g, 0, sizeof g);
    return 0;
}

/* ------------------------------------------------------------------ */
/* basic actor */

typedef struct args_s {
    int initial;
    int id;
    int refuse;
    int own_ptr;     /* tr_own a malloc'd block in init */
    int own_fd;      /* tr_own_fd(fd) in init */
    int fd;
    tr_ref_t notify; /* terminate sends MSG_PING here */
} args_t;

typedef struct basic_s {
    int value;
    int id;
    tr_ref_t notify;
    char pad[64];
} basic_t;

static void counted_free(void *p) {
    g.owned_freed++;
    free(p);
}

static void counted_dtor(void *p) {
    g.dtor_runs++;
    free(p);
}

static int all_zero(const void *p, size_t n) {
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i])
            return 0;
    return 1;
}

static int basic_init(tr_ctx_t *ctx, void *state, const void *args) {
    basic_t *s = state;
    g.init_calls++;
    g.state_was_zero = all_zero(s, sizeof *s);
    g.self_in_init = tr_self(ctx);
    g.type_in_init = tr_ctx_type(ctx);
    g.rt_in_init = tr_ctx_runtime(ctx);
    if (!args)
        return 0;
    const args_t *a = args;
    s->value = a->initial;
    s->id = a->id;
    s->notify = a->notify;
    if (a->own_ptr)
        g.own_rc = tr_own(ctx, malloc(32), counted_free);
    if (a->own_fd)
        g.own_fd_rc = tr_own_fd(ctx, a->fd);
    return a->refuse ? -1 : 0;
}

static void basic_terminate(tr_ctx_t *ctx, void *state, tr_stop_reason_t reason) {
    basic_t *s = state;
    g.terminate_calls++;
    g.last_reason = (int)reason;
    tt_log_push(&g.tlog, s->id);
    if (tr_ref_valid(s->notify))
        g.terminate_send_rc = tr_send(ctx, s->notify, MSG_PING, NULL, 0);
}

static void on_ping(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)m;
    basic_t *s = state;
    g.pings++;
    tt_log_push(&g.log, s->id);
}

static void on_get(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)m;
    basic_t *s = state;
    g.gets++;
    g.last_value = s->value;
}

static void on_set(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    basic_t *s = state;
    memcpy(&s->value, m->data, sizeof(int));
}

static void on_quit(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    (void)m;
    g.quit_calls++;
    g.stop_self_rc = tr_stop_self(ctx);
    g.stop_self_again_rc = tr_stop_self(ctx);
    g.after_stop_self = 1; /* the handler keeps running */
}

static const tr_handler_t basic_handlers[] = {
    TR_ON_EMPTY(MSG_PING, on_ping),
    TR_ON_EMPTY(MSG_GET, on_get),
    TR_ON(MSG_SET, on_set, int),
    TR_ON_EMPTY(MSG_QUIT, on_quit),
    TR_END,
};

static const tr_actor_type_t basic_type = {
    .name = "basic",
    .state_size = sizeof(basic_t),
    .handlers = basic_handlers,
    .init = basic_init,
    .terminate = basic_terminate,
};

static tr_ref_t spawn_basic(tr_runtime_t *rt, int id, const char *name) {
    args_t a;
    memset(&a, 0, sizeof a);
    a.id = id;
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.args = &a;
    o.name = name;
    return tt_spawn(rt, &basic_type, &o);
}

/* ------------------------------------------------------------------ */

static void test_spawn_with_args(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    args_t a;
    memset(&a, 0, sizeof a);
    a.initial = 42;
    a.id = 7;
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.args = &a;
    tr_ref_t r = TR_REF_NONE;
    assert_int_equal(tr_spawn(rt, &basic_type, &o, &r), 0);
    a.initial = -1; /* args are borrowed for the call only */
    assert_true(tr_ref_valid(r));
    assert_int_equal(g.init_calls, 1);
    assert_true(g.state_was_zero);
    assert_true(tr_ref_eq(g.self_in_init, r));
    assert_ptr_equal(g.type_in_init, &basic_type);
    assert_ptr_equal(g.rt_in_init, rt);
    assert_true(tr_actor_alive(rt, r));

    assert_int_equal(tr_runtime_send(rt, r, MSG_GET, NULL, 0), 0);
    tt_drain(rt);
    assert_int_equal(g.gets, 1);
    assert_int_equal(g.last_value, 42);

    int v = 99;
    assert_int_equal(tr_runtime_send(rt, r, MSG_SET, &v, sizeof v), 0);
    assert_int_equal(tr_runtime_send(rt, r, MSG_GET, NULL, 0), 0);
    tt_drain(rt);
    assert_int_equal(g.gets, 2);
    assert_int_equal(g.last_value, 99);

    /* NULL opts and NULL out are accepted. */
    assert_int_equal(tr_spawn(rt, &basic_type, NULL, NULL), 0);
    assert_int_equal(g.init_calls, 2);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.actors_spawned, 2);
    assert_int_equal(s.actors_live, 2);
    assert_int_equal(s.actors_stopped, 0);
    assert_int_equal(g.terminate_calls, 0);
    assert_int_equal(tr_runtime_verify(rt), 2);

    tr_runtime_destroy(rt);
    /* destroy stops the survivors: terminate once each, reason shutdown */
    assert_int_equal(g.terminate_calls, 2);
    assert_int_equal(g.last_reason, TR_STOP_SHUTDOWN);
}

static void test_init_refusal(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    int p[2];
    assert_int_equal(pipe(p), 0);

    args_t a;
    memset(&a, 0, sizeof a);
    a.refuse = 1;
    a.own_ptr = 1;
    a.own_fd = 1;
    a.fd = p[0];
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.args = &a;
    o.name = "refuser";
    tr_ref_t r = TR_REF_NONE;
    assert_int_equal(tr_spawn(rt, &basic_type, &o, &r), TR_EINIT);
    assert_int_equal(g.init_calls, 1);
    assert_int_equal(g.own_rc, 0);
    assert_int_equal(g.own_fd_rc, 0);
    /* resources owned in init are released, terminate is not called */
    assert_int_equal(g.owned_freed, 1);
    errno = 0;
    assert_int_equal(fcntl(p[0], F_GETFD), -1);
    assert_int_equal(errno, EBADF);
    assert_int_equal(g.terminate_calls, 0);

    tr_ref_t w;
    assert_int_equal(tr_whereis(rt, "refuser", &w), TR_ENOTFOUND);
    tt_drain(rt);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.actors_live, 0);
    assert_int_equal(tr_runtime_verify(rt), 0);

    /* the name was never taken: a good spawn can use it */
    a.refuse = 0;
    a.own_ptr = 0;
    a.own_fd = 0;
    assert_int_equal(tr_spawn(rt, &basic_type, &o, &r), 0);
    assert_int_equal(tr_whereis(rt, "refuser", &w), 0);
    assert_true(tr_ref_eq(w, r));

    tr_runtime_destroy(rt);
    assert_int_equal(g.terminate_calls, 1);
    assert_int_equal(g.owned_freed, 1);
    close(p[1]);
}

static void test_terminate_once_with_reason(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t observer = spawn_basic(rt, 1, NULL);
    args_t a;
    memset(&a, 0, sizeof a);
    a.id = 2;
    a.notify = observer;
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.args = &a;
    tr_ref_t r = tt_spawn(rt, &basic_type, &o);

    assert_int_equal(tr_stop(rt, r), 0);
    assert_int_equal(tr_stop(rt, r), TR_EDEAD); /* already stopping */
    tt_drain(rt);
    assert_int_equal(g.terminate_calls, 1);
    assert_int_equal(g.last_reason, TR_STOP_NORMAL);
    assert_int_equal(g.tlog.n, 1);
    assert_int_equal(g.tlog.v[0], 2);
    /* terminate may still send */
    assert_int_equal(g.terminate_send_rc, 0);
    assert_int_equal(g.pings, 1);
    assert_int_equal(g.log.v[0], 1);
    assert_false(tr_actor_alive(rt, r));
    assert_true(tr_actor_alive(rt, observer));
    assert_int_equal(tr_stop(rt, r), TR_EDEAD);

    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.actors_spawned, 2);
    assert_int_equal(s.actors_stopped, 1);
    assert_int_equal(s.actors_live, 1);

    tr_runtime_destroy(rt);
    assert_int_equal(g.terminate_calls, 2); /* the observer, not r again */
    assert_int_equal(g.tlog.v[1], 1);
    assert_int_equal(g.last_reason, TR_STOP_SHUTDOWN);
}

static void test_stop_self(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t r = spawn_basic(rt, 3, NULL);
    assert_int_equal(tr_runtime_send(rt, r, MSG_QUIT, NULL, 0), 0);
    assert_int_equal(tr_runtime_send(rt, r, MSG_PING, NULL, 0), 0); /* queued behind */
    tt_drain(rt);
    assert_int_equal(g.quit_calls, 1);
    assert_int_equal(g.stop_self_rc, 0);
    assert_int_equal(g.stop_self_again_rc, TR_EALREADY);
    assert_int_equal(g.after_stop_self, 1);
    assert_int_equal(g.terminate_calls, 1);
    assert_int_equal(g.last_reason, TR_STOP_NORMAL);
    /* the actor stopped once the QUIT handler returned: the PING behind it
     * is a dead letter, never handled */
    assert_int_equal(g.pings, 0);
    assert_false(tr_actor_alive(rt, r));
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.dead_letters, 1);
    assert_int_equal(s.actors_live, 0);
    assert_int_equal(s.actors_stopped, 1);
    tr_runtime_destroy(rt);
    assert_int_equal(g.terminate_calls, 1);
}

typedef struct stop_thread_arg_s {
    tr_runtime_t *rt;
    tr_ref_t ref;
    int stop_rc;
    int alive_before;
    int spawn_rc;
} stop_thread_arg_t;

static void *stop_thread(void *p) {
    stop_thread_arg_t *a = p;
    a->alive_before = tr_actor_alive(a->rt, a->ref);
    a->spawn_rc = tr_spawn(a->rt, &basic_type, NULL, NULL);
    a->stop_rc = tr_stop(a->rt, a->ref);
    return NULL;
}

static void test_stop_from_outside_and_other_thread(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t r1 = spawn_basic(rt, 1, NULL);
    tr_ref_t r2 = spawn_basic(rt, 2, NULL);

    /* from the scheduler thread, outside any handler */
    assert_int_equal(tr_stop(rt, r1), 0);
    tt_drain(rt);
    assert_false(tr_actor_alive(rt, r1));
    assert_true(tr_actor_alive(rt, r2));
    assert_int_equal(g.terminate_calls, 1);
    assert_int_equal(g.tlog.v[0], 1);

    /* from a foreign thread (tr_stop is thread-safe, tr_spawn is not) */
    stop_thread_arg_t a;
    memset(&a, 0, sizeof a);
    a.rt = rt;
    a.ref = r2;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, stop_thread, &a), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(a.alive_before, 1);
    assert_int_equal(a.spawn_rc, TR_EWRONGTHREAD);
    assert_int_equal(a.stop_rc, 0);
    tt_drain(rt);
    assert_false(tr_actor_alive(rt, r2));
    assert_int_equal(g.terminate_calls, 2);
    assert_int_equal(g.tlog.v[1], 2);
    assert_int_equal(g.last_reason, TR_STOP_NORMAL);
    assert_int_equal(g.init_calls, 2); /* the foreign spawn never ran init */
    assert_int_equal(tt_stats(rt).actors_live, 0);
    tr_runtime_destroy(rt);
    assert_int_equal(g.terminate_calls, 2);
}

static void test_stale_ref_after_stop(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t r = spawn_basic(rt, 1, NULL);
    assert_int_equal(tr_stop(rt, r), 0);
    tt_drain(rt);
    uint64_t rejected0 = tt_stats(rt).sends_rejected;

    assert_int_equal(tr_runtime_send(rt, r, MSG_PING, NULL, 0), TR_EDEAD);
    void *p = malloc(sizeof(int));
    assert_int_equal(tr_runtime_send_move(rt, r, MSG_SET, p, sizeof(int), counted_dtor),
                     TR_EDEAD);
    assert_int_equal(g.dtor_runs, 1); /* already ran on the error return */
    assert_false(tr_actor_alive(rt, r));
    tr_mailbox_info_t mi;
    assert_int_equal(tr_mailbox_info(rt, r, &mi), TR_EDEAD);
    assert_int_equal(tr_set_mailbox_capacity(rt, r, 8), TR_EDEAD);
    assert_int_equal(tr_register(rt, "ghost", r), TR_EDEAD);
    assert_int_equal(tr_stop(rt, r), TR_EDEAD);

    /* refs that never named anything */
    assert_int_equal(tr_runtime_send(rt, TR_REF_NONE, MSG_PING, NULL, 0), TR_EDEAD);
    tr_ref_t bogus = {123456, 1, 0, 0};
    assert_int_equal(tr_runtime_send(rt, bogus, MSG_PING, NULL, 0), TR_EDEAD);
    assert_false(tr_actor_alive(rt, bogus));
    assert_false(tr_actor_alive(rt, TR_REF_NONE));

    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.sends_rejected - rejected0, 4);
    assert_int_equal(g.pings, 0);
    tr_runtime_destroy(rt);
    assert_int_equal(g.dtor_runs, 1);
}

static void test_generation_checked_refs(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t old = spawn_basic(rt, 1, NULL);
    assert_int_equal(tr_stop(rt, old), 0);
    tt_drain(rt);

    /* spawn until the slot is reused (a bounded slot table must reuse it) */
    tr_ref_t nu = TR_REF_NONE;
    int found = 0;
    for (int i = 0; i < 256 && !found; i++) {
        nu = spawn_basic(rt, 2, NULL);
        if (nu.slot == old.slot) {
            found = 1;
        } else {
            assert_int_equal(tr_stop(rt, nu), 0);
            tt_drain(rt);
        }
    }
    assert_true(found);
    assert_int_not_equal(nu.gen, old.gen);
    assert_false(tr_ref_eq(nu, old));
    assert_false(tr_actor_alive(rt, old));
    assert_true(tr_actor_alive(rt, nu));

    /* the old ref does not reach the new incarnation */
    assert_int_equal(tr_runtime_send(rt, old, MSG_PING, NULL, 0), TR_EDEAD);
    assert_int_equal(tr_stop(rt, old), TR_EDEAD);
    assert_int_equal(tr_runtime_send(rt, nu, MSG_PING, NULL, 0), 0);
    tt_drain(rt);
    assert_int_equal(g.pings, 1);
    assert_int_equal(g.log.v[0], 2);
    assert_true(tr_actor_alive(rt, nu));

    /* a forged ref with the right slot and a generation never issued */
    tr_ref_t forged = nu;
    forged.gen = nu.gen + 1000;
    assert_int_equal(tr_runtime_send(rt, forged, MSG_PING, NULL, 0), TR_EDEAD);
    tt_drain(rt);
    assert_int_equal(g.pings, 1);
    tr_runtime_destroy(rt);
}

static void test_name_registry(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    char name[32];
    snprintf(name, sizeof name, "alpha");
    tr_ref_t a = spawn_basic(rt, 1, name);
    memset(name, 'x', sizeof name - 1); /* the name was copied */
    tr_ref_t w = TR_REF_NONE;
    assert_int_equal(tr_whereis(rt, "alpha", &w), 0);
    assert_true(tr_ref_eq(w, a));

    /* spawning under a taken name */
    args_t args;
    memset(&args, 0, sizeof args);
    args.id = 9;
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.args = &args;
    o.name = "alpha";
    tr_ref_t dup = TR_REF_NONE;
    assert_int_equal(tr_spawn(rt, &basic_type, &o, &dup), TR_EEXIST);
    tt_drain(rt);
    assert_int_equal(tt_stats(rt).actors_live, 1);
    assert_int_equal(tr_whereis(rt, "alpha", &w), 0);
    assert_true(tr_ref_eq(w, a));

    /* explicit registration (one name per actor here: whether an actor may
     * hold several names is not specified by the header) */
    tr_ref_t b = spawn_basic(rt, 2, NULL);
    tr_ref_t b2 = spawn_basic(rt, 4, NULL);
    tr_ref_t b3 = spawn_basic(rt, 5, NULL);
    assert_int_equal(tr_register(rt, "beta", b), 0);
    assert_int_equal(tr_register(rt, "beta", b2), TR_EEXIST);
    assert_int_equal(tr_register(rt, "alpha", b2), TR_EEXIST);
    assert_int_equal(tr_register(rt, "", b2), TR_EINVAL);
    assert_int_equal(tr_register(rt, NULL, b2), TR_EINVAL);
    char longname[300];
    memset(longname, 'n', sizeof longname);
    longname[256] = '\0'; /* 256 bytes: over the limit */
    assert_int_equal(tr_register(rt, longname, b2), TR_EINVAL);
    longname[255] = '\0'; /* 255 bytes: accepted */
    assert_int_equal(tr_register(rt, longname, b2), 0);
    assert_int_equal(tr_whereis(rt, longname, &w), 0);
    assert_true(tr_ref_eq(w, b2));
    assert_int_equal(tr_whereis(rt, "beta", &w), 0);
    assert_true(tr_ref_eq(w, b));

    /* messages to a name's ref reach that actor */
    assert_int_equal(tr_runtime_send(rt, w, MSG_PING, NULL, 0), 0);
    tt_drain(rt);
    assert_int_equal(g.pings, 1);
    assert_int_equal(g.log.v[0], 2);

    assert_int_equal(tr_unregister(rt, "beta"), 0);
    assert_int_equal(tr_unregister(rt, "beta"), TR_ENOTFOUND);
    assert_int_equal(tr_whereis(rt, "beta", &w), TR_ENOTFOUND);
    assert_int_equal(tr_unregister(rt, "never"), TR_ENOTFOUND);
    assert_true(tr_actor_alive(rt, b)); /* unregistering does not stop */

    /* names are removed when the actor stops, spawn-given or registered */
    assert_int_equal(tr_register(rt, "gamma", b3), 0);
    assert_int_equal(tr_stop(rt, a), 0);
    assert_int_equal(tr_stop(rt, b2), 0);
    assert_int_equal(tr_stop(rt, b3), 0);
    tt_drain(rt);
    assert_int_equal(tr_whereis(rt, "alpha", &w), TR_ENOTFOUND);
    assert_int_equal(tr_whereis(rt, "gamma", &w), TR_ENOTFOUND);
    assert_int_equal(tr_whereis(rt, longname, &w), TR_ENOTFOUND);

    /* ... so a later incarnation can take them */
    tr_ref_t c = spawn_basic(rt, 3, "alpha");
    assert_int_equal(tr_whereis(rt, "alpha", &w), 0);
    assert_true(tr_ref_eq(w, c));
    tr_ref_t c2 = spawn_basic(rt, 6, NULL);
    assert_int_equal(tr_register(rt, "gamma", c2), 0);
    assert_int_equal(tr_whereis(rt, "gamma", &w), 0);
    assert_true(tr_ref_eq(w, c2));
    assert_int_equal(tr_register(rt, longname, b), 0);
    tr_runtime_destroy(rt);
}

/* ------------------------------------------------------------------ */
/* dispatch */

static void on_a(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    tt_log_push(&g.types, m->type);
    memcpy(&g.last_int, m->data, sizeof(int));
    g.last_len = m->len;
}

static void on_b(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    tt_log_push(&g.types, m->type + 10000); /* tags the handler, not just the type */
    g.last_len = m->len;
}

static void on_c(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    tt_log_push(&g.types, m->type + 20000);
    g.last_len = m->len;
}

static void on_far(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    tt_log_push(&g.types, m->type + 30000);
    memcpy(&g.last_int, m->data, sizeof(int));
}

static void on_default(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    g.default_calls++;
    g.default_type = m->type;
    g.last_len = m->len;
    if (m->len == sizeof(int))
        memcpy(&g.last_int, m->data, sizeof(int));
}

static const tr_handler_t wide_handlers[] = {
    TR_ON(MSG_A, on_a, int),
    TR_ON_EMPTY(MSG_B, on_b),
    TR_ON_ANY(MSG_C, on_c),
    TR_ON(MSG_FAR, on_far, int),
    TR_END,
};

static const tr_actor_type_t wide_type = {
    .name = "wide",
    .state_size = 8,
    .handlers = wide_handlers,
};

static const tr_actor_type_t wide_default_type = {
    .name = "wide_default",
    .state_size = 8,
    .handlers = wide_handlers,
    .default_handler = on_default,
};

static void test_dispatch_by_table(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t r = tt_spawn(rt, &wide_type, NULL);
    int one = 1, two = 2;
    char ten[10] = "123456789";
    assert_int_equal(tr_runtime_send(rt, r, MSG_A, &one, sizeof one), 0);
    assert_int_equal(tr_runtime_send(rt, r, MSG_FAR, &two, sizeof two), 0);
    assert_int_equal(tr_runtime_send(rt, r, MSG_C, ten, sizeof ten), 0);
    assert_int_equal(tr_runtime_send(rt, r, MSG_B, NULL, 0), 0);
    tt_drain(rt);
    assert_int_equal(g.types.n, 4);
    assert_int_equal(g.types.v[0], MSG_A);
    assert_int_equal(g.types.v[1], MSG_FAR + 30000);
    assert_int_equal(g.types.v[2], MSG_C + 20000);
    assert_int_equal(g.types.v[3], MSG_B + 10000);
    assert_int_equal(g.last_int, 2);

    /* no handler, no default handler: TR_ENOHANDLER, counted as dead letter */
    uint64_t dl0 = tt_stats(rt).dead_letters;
    assert_int_equal(tr_runtime_send(rt, r, MSG_HOLE, NULL, 0), TR_ENOHANDLER);
    assert_int_equal(tr_runtime_send(rt, r, MSG_FAR + 1, NULL, 0), TR_ENOHANDLER);
    assert_int_equal(tr_runtime_send(rt, r, MSG_A - 1, NULL, 0), TR_ENOHANDLER);
    void *p = malloc(8);
    assert_int_equal(tr_runtime_send_move(rt, r, MSG_HOLE, p, 8, counted_dtor), TR_ENOHANDLER);
    assert_int_equal(g.dtor_runs, 1);
    assert_int_equal(tt_stats(rt).dead_letters - dl0, 4);
    tt_drain(rt);
    assert_int_equal(g.types.n, 4);

    /* with a default handler: unknown types go there, known ones do not */
    tr_ref_t d = tt_spawn(rt, &wide_default_type, NULL);
    int five = 5;
    assert_int_equal(tr_runtime_send(rt, d, MSG_HOLE, &five, sizeof five), 0);
    tt_drain(rt);
    assert_int_equal(g.default_calls, 1);
    assert_int_equal(g.default_type, MSG_HOLE);
    assert_int_equal(g.last_len, sizeof(int));
    assert_int_equal(g.last_int, 5);
    assert_int_equal(tr_runtime_send(rt, d, TR_MSG_USER + 100000, NULL, 0), 0);
    tt_drain(rt);
    assert_int_equal(g.default_calls, 2);
    assert_int_equal(g.default_type, TR_MSG_USER + 100000);
    assert_int_equal(g.last_len, 0);
    assert_int_equal(tr_runtime_send(rt, d, MSG_A, &two, sizeof two), 0);
    tt_drain(rt);
    assert_int_equal(g.default_calls, 2);
    assert_int_equal(g.types.n, 5);
    assert_int_equal(g.types.v[4], MSG_A);
    /* the table's size check still applies to known types */
    assert_int_equal(tr_runtime_send(rt, d, MSG_A, ten, sizeof ten), TR_EINVAL);

    /* many messages through the far end of the index */
    for (int i = 0; i < 500; i++)
        assert_int_equal(tr_runtime_send(rt, r, MSG_FAR, &i, sizeof i), 0);
    tt_drain(rt);
    assert_int_equal(g.types.n, 505);
    assert_int_equal(g.last_int, 499);
    tr_runtime_destroy(rt);
}

static void test_msg_type_name(void **state) {
    (void)state;
    /* works on the descriptor alone, before any runtime compiled it */
    assert_string_equal(tr_msg_type_name(&wide_type, MSG_A), "MSG_A");
    assert_string_equal(tr_msg_type_name(&wide_type, MSG_FAR), "MSG_FAR");
    assert_null(tr_msg_type_name(&wide_type, MSG_HOLE));
    assert_null(tr_msg_type_name(&wide_type, 0));
    assert_null(tr_msg_type_name(&wide_type, -5));

    tr_runtime_t *rt = tt_runtime(NULL);
    tt_spawn(rt, &wide_type, NULL);
    assert_string_equal(tr_msg_type_name(&wide_type, MSG_B), "MSG_B");
    assert_string_equal(tr_msg_type_name(&wide_type, MSG_C), "MSG_C");
    assert_string_equal(tr_msg_type_name(&basic_type, MSG_QUIT), "MSG_QUIT");
    assert_null(tr_msg_type_name(&basic_type, MSG_A));
    tr_runtime_destroy(rt);
}

static int counting_init(tr_ctx_t *ctx, void *state, const void *args) {
    (void)ctx;
    (void)state;
    (void)args;
    g.init_calls++;
    return 0;
}

static const tr_handler_t dup_handlers[] = {
    TR_ON_EMPTY(MSG_A, on_b),
    TR_ON_EMPTY(MSG_B, on_b),
    TR_ON(MSG_A, on_a, int),
    TR_END,
};
static const tr_actor_type_t dup_type = {
    .name = "dup", .state_size = 4, .handlers = dup_handlers, .init = counting_init};

static const tr_handler_t span_bad_handlers[] = {
    TR_ON_EMPTY(TR_MSG_USER, on_b),
    TR_ON_EMPTY(TR_MSG_USER + TR_MSG_MAX_SPAN, on_b), /* span 4097 */
    TR_END,
};
static const tr_actor_type_t span_bad_type = {
    .name = "span_bad", .state_size = 4, .handlers = span_bad_handlers, .init = counting_init};

static const tr_handler_t span_ok_handlers[] = {
    TR_ON_EMPTY(TR_MSG_USER, on_b),
    TR_ON_EMPTY(TR_MSG_USER + TR_MSG_MAX_SPAN - 1, on_b), /* span exactly 4096 */
    TR_END,
};
static const tr_actor_type_t span_ok_type = {
    .name = "span_ok", .state_size = 4, .handlers = span_ok_handlers, .init = counting_init};

static const tr_handler_t neg_handlers[] = {
    TR_ON_EMPTY(-7, on_b),
    TR_END,
};
static const tr_actor_type_t neg_type = {
    .name = "neg", .state_size = 4, .handlers = neg_handlers, .init = counting_init};

static void test_table_validation(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t r = TR_REF_NONE;
    assert_int_equal(tr_spawn(rt, &dup_type, NULL, &r), TR_EINVAL);
    assert_int_equal(tr_spawn(rt, &dup_type, NULL, &r), TR_EINVAL); /* not cached as ok */
    assert_int_equal(tr_spawn(rt, &span_bad_type, NULL, &r), TR_EINVAL);
    assert_int_equal(tr_spawn(rt, &neg_type, NULL, &r), TR_EINVAL);
    assert_int_equal(tr_spawn(rt, NULL, NULL, &r), TR_EINVAL);
    assert_int_equal(g.init_calls, 0);

    /* spawn options are validated too */
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.mailbox_capacity = TR_MAILBOX_MAX + 1;
    assert_int_equal(tr_spawn(rt, &span_ok_type, &o, &r), TR_EINVAL);
    memset(&o, 0, sizeof o);
    o.mailbox_capacity = 8;
    o.high_watermark = 2;
    o.low_watermark = 6; /* out of order */
    assert_int_equal(tr_spawn(rt, &span_ok_type, &o, &r), TR_EINVAL);
    assert_int_equal(g.init_calls, 0);
    assert_int_equal(tt_stats(rt).actors_live, 0);

    /* the widest legal table works, at both ends */
    r = tt_spawn(rt, &span_ok_type, NULL);
    assert_int_equal(g.init_calls, 1);
    assert_int_equal(tr_runtime_send(rt, r, TR_MSG_USER, NULL, 0), 0);
    assert_int_equal(tr_runtime_send(rt, r, TR_MSG_USER + TR_MSG_MAX_SPAN - 1, NULL, 0), 0);
    assert_int_equal(tr_runtime_send(rt, r, TR_MSG_USER + 1, NULL, 0), TR_ENOHANDLER);
    tt_drain(rt);
    assert_int_equal(g.types.n, 2);
    assert_int_equal(g.types.v[0], TR_MSG_USER + 10000);
    assert_int_equal(g.types.v[1], TR_MSG_USER + TR_MSG_MAX_SPAN - 1 + 10000);
    assert_int_equal(tt_stats(rt).actors_live, 1);
    tr_runtime_destroy(rt);
}

static void test_error_strings(void **state) {
    (void)state;
    assert_string_equal(tr_err_name(TR_EFULL), "TR_EFULL");
    assert_string_equal(tr_err_name(TR_EINIT), "TR_EINIT");
    assert_string_equal(tr_strerror(TR_EDEAD), "actor is dead or the reference is stale");
    assert_string_equal(tr_strerror(-12345), "unknown error");
    assert_int_equal(strncmp(tr_strerror(TR_EDROPPED), "DropWithoutReport", 17), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_spawn_with_args, setup),
        cmocka_unit_test_setup(test_init_refusal, setup),
        cmocka_unit_test_setup(test_terminate_once_with_reason, setup),
        cmocka_unit_test_setup(test_stop_self, setup),
        cmocka_unit_test_setup(test_stop_from_outside_and_other_thread, setup),
        cmocka_unit_test_setup(test_stale_ref_after_stop, setup),
        cmocka_unit_test_setup(test_generation_checked_refs, setup),
        cmocka_unit_test_setup(test_name_registry, setup),
        cmocka_unit_test_setup(test_dispatch_by_table, setup),
        cmocka_unit_test_setup(test_msg_type_name, setup),
        cmocka_unit_test_setup(test_table_validation, setup),
        cmocka_unit_test_setup(test_error_strings, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
