/* tests/test_reload.c: a runtime's configuration: the initial config,
 * transactional reloads (file, API, real SIGHUP, another thread), refusals,
 * UpdateConfig (mailbox capacity, overflow, supervisor intensity,
 * on_config), generations, and the restart-during-reload case (elfo#68).
 * Every test drives the loop explicitly; the SIGHUP and foreign-thread
 * tests block in libev until the reload has happened, never sleep. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "tr_test.h"

/* ---- fixtures ---- */

enum { MSG_NOTE = TR_MSG_USER, MSG_BOOM, MSG_HOLD };

typedef struct g_s {
    char log[64][512];
    int nlog;
    int validations, refusals, configs, inits, notes, panics;
    int stale_inits; /* inits that did not see the runtime's newest generation */
    uint64_t init_gen[64]; /* generation seen by each init, in order */
    int64_t last_speed;
    char refuse_path[128]; /* validate_config refuses for this actor path */
} g_t;
static g_t g;

static void cap_log(void *arg, tr_log_level_t level, const char *line) {
    (void)arg, (void)level;
    if (g.nlog < 64) snprintf(g.log[g.nlog++], sizeof(g.log[0]), "%s", line);
}

static int log_has(const char *needle) {
    for (int i = 0; i < g.nlog; i++)
        if (strstr(g.log[i], needle)) return 1;
    return 0;
}

static void count_hook(void *arg, const tr_panic_scene_t *sc) {
    (void)arg, (void)sc;
    g.panics++;
}

/* A worker with a `speed` setting (1..100). */
typedef struct worker_s {
    int64_t speed;
    uint64_t gen;
} worker_t;

static int worker_validate(const tr_config_section_t *sec, tr_config_error_t *err) {
    g.validations++;
    int64_t speed;
    int r = tr_config_int(sec, "speed", 1, 1, 100, &speed, err);
    if (r) return r;
    if (g.refuse_path[0] && sec->name && strcmp(sec->name, g.refuse_path) == 0) {
        g.refusals++;
        return tr_config_refuse(err, sec, "speed", "this worker refuses speed %lld",
                                (long long)speed);
    }
    return 0;
}

static int worker_init(tr_ctx_t *ctx, void *state, const void *args) {
    (void)args;
    worker_t *w = state;
    tr_config_section_t sec;
    assert_int_equal(tr_ctx_config(ctx, &sec), 0);
    assert_int_equal(tr_config_int(&sec, "speed", 1, 1, 100, &w->speed, NULL), 0);
    w->gen = tr_ctx_config_generation(ctx);
    tr_config_status_t st;
    assert_int_equal(tr_runtime_config_status(tr_ctx_runtime(ctx), &st), 0);
    if (w->gen != st.generation) g.stale_inits++;
    if (g.inits < 64) g.init_gen[g.inits] = w->gen;
    g.inits++;
    return 0;
}

static void worker_on_config(tr_ctx_t *ctx, void *state, const tr_config_section_t *sec) {
    worker_t *w = state;
    g.configs++;
    assert_int_equal(tr_config_int(sec, "speed", 1, 1, 100, &w->speed, NULL), 0);
    if (w->speed == 66) tr_panic(ctx, "on_config does not like %d", 66);
    w->gen = tr_ctx_config_generation(ctx);
    g.last_speed = w->speed;
}

static void on_note(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    (void)ctx, (void)msg;
    worker_t *w = state;
    g.notes++;
    g.last_speed = w->speed;
}

static void on_boom(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    (void)state, (void)msg;
    tr_panic(ctx, "boom");
}

static const tr_handler_t worker_handlers[] = {
    TR_ON_EMPTY(MSG_NOTE, on_note),
    TR_ON_EMPTY(MSG_BOOM, on_boom),
    TR_END,
};

static const tr_actor_type_t worker_type = {
    .name = "worker",
    .state_size = sizeof(worker_t),
    .handlers = worker_handlers,
    .init = worker_init,
    .validate_config = worker_validate,
    .on_config = worker_on_config,
};

/* A plain actor (no config callbacks). */
static const tr_handler_t plain_handlers[] = {
    TR_ON_EMPTY(MSG_NOTE, on_note),
    TR_END,
};
static const tr_actor_type_t plain_type = {
    .name = "plain", .state_size = sizeof(worker_t), .handlers = plain_handlers};

static tr_config_t *parse(const char *text) {
    tr_config_t *cfg = NULL;
    tr_config_error_t err;
    int r = tr_config_parse("test.ini", text, strlen(text), &cfg, &err);
    if (r) {
        char line[1024];
        fprintf(stderr, "parse: %s\n", tr_config_error_str(&err, line, sizeof(line)));
    }
    assert_int_equal(r, 0);
    return cfg;
}

/* A runtime with the manual clock, the capturing logger and a config. */
static tr_runtime_t *rt_with(const char *text, const char *path) {
    memset(&g, 0, sizeof(g));
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof(o));
    o.manual_clock = 1;
    o.log = cap_log;
    o.config_path = path;
    tr_config_t *cfg = text ? parse(text) : NULL;
    o.config = cfg;
    tr_runtime_t *rt = tt_runtime(&o);
    tr_config_release(cfg); /* the runtime has its own reference */
    assert_int_equal(tr_set_panic_hook(rt, count_hook, NULL), 0);
    return rt;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void temp_path(char *buf, size_t len) {
    snprintf(buf, len, "/tmp/troupe-test-reload-XXXXXX");
    int fd = mkstemp(buf);
    assert_true(fd >= 0);
    close(fd);
}

static uint64_t gen_of(tr_runtime_t *rt, tr_ref_t r) {
    uint64_t gen = 99;
    assert_int_equal(tr_actor_config_generation(rt, r, &gen), 0);
    return gen;
}

static tr_config_status_t status(tr_runtime_t *rt) {
    tr_config_status_t st;
    assert_int_equal(tr_runtime_config_status(rt, &st), 0);
    return st;
}

/* ---- the initial config ---- */

static void test_initial_config_applies(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_with("[runtime]\n"
                               "log_level = debug\n"
                               "mailbox_capacity = 7\n"
                               "[fast]\n"
                               "speed = 9\n",
                               NULL);
    tr_spawn_opts_t so = {.name = "fast"};
    tr_ref_t fast = tt_spawn(rt, &worker_type, &so);
    tr_ref_t other = tt_spawn(rt, &worker_type, NULL);
    tr_mailbox_info_t mi;
    assert_int_equal(tr_mailbox_info(rt, fast, &mi), 0);
    assert_int_equal(mi.capacity, 7); /* [runtime] mailbox_capacity */
    assert_int_equal(g.inits, 2);
    assert_int_equal(g.init_gen[0], 1);
    assert_int_equal(gen_of(rt, fast), 1);
    assert_int_equal(gen_of(rt, other), 1);
    assert_int_equal(g.validations, 1); /* only the named actor has a section to check */
    /* the named actor read its section in init */
    assert_int_equal(tr_runtime_send(rt, fast, MSG_NOTE, NULL, 0), 0);
    tt_drain(rt);
    assert_int_equal(g.last_speed, 9);
    tr_log(rt, TR_LOG_DEBUG, "debug is on");
    assert_true(log_has("debug is on"));
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.config_generation, 1);
    assert_int_equal(s.reloads_ok, 0);
    tr_config_t *cur = tr_runtime_config(rt);
    assert_non_null(cur);
    assert_string_equal(tr_config_name(cur), "test.ini");
    tr_config_release(cur);
    tr_runtime_destroy(rt);
}

static void test_create_rejects_bad_config(void **state) {
    (void)state;
    static const char *const bad[] = {
        "[runtime]\nlog_level = loud\n",          /* unknown enum */
        "[runtime]\nmailbox_capacity = 0\n",      /* out of range */
        "[runtime]\nlog_levle = debug\n",         /* unknown key in [runtime] */
        "[runtime]\nschedulers = 65\n",           /* over TR_SCHEDULERS_MAX */
        "[runtime]\ndebug_socket = relative.sock\n",
        "[app/db]\nmailbox_capacity = lots\n",    /* an actor section's runtime key */
        "[app]\nperiod = 5 parsecs\n",            /* bad unit */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&g, 0, sizeof(g));
        tr_config_t *cfg = parse(bad[i]);
        tr_runtime_opts_t o;
        memset(&o, 0, sizeof(o));
        o.log = cap_log;
        o.config = cfg;
        tr_runtime_t *rt = (tr_runtime_t *)&o; /* must be overwritten with NULL */
        assert_int_equal(tr_runtime_create(&o, &rt), TR_ECONFIG);
        assert_null(rt);
        assert_true(log_has("config rejected: test.ini:2: "));
        tr_config_release(cfg);
    }
    /* a missing file named by config_path */
    memset(&g, 0, sizeof(g));
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof(o));
    o.log = cap_log;
    o.config_path = "/nonexistent/troupe.ini";
    tr_runtime_t *rt = NULL;
    assert_int_equal(tr_runtime_create(&o, &rt), TR_ESYS);
    assert_true(log_has("/nonexistent/troupe.ini: cannot open"));
    o.config_path = NULL;
    o.reload_signal = NSIG;
    assert_int_equal(tr_runtime_create(&o, &rt), TR_EINVAL);
}

/* ---- committed reloads ---- */

static void test_apply_config_updates_actors(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_with("[w]\nspeed = 2\n", NULL);
    tr_spawn_opts_t so = {.name = "w"};
    tr_ref_t w = tt_spawn(rt, &worker_type, &so);
    tr_ref_t p = tt_spawn(rt, &plain_type, NULL);
    tt_drain(rt);
    tr_config_t *next = parse("[runtime]\nlog_level = warning\n[w]\nspeed = 5\n");
    tr_config_error_t err;
    assert_int_equal(tr_runtime_apply_config(rt, next, &err), 0);
    /* committed at once; UpdateConfig is on w's system lane */
    assert_int_equal(status(rt).generation, 2);
    assert_int_equal(gen_of(rt, w), 1);
    assert_int_equal(gen_of(rt, p), 2); /* nothing to apply: no message needed */
    assert_int_equal(g.configs, 0);
    /* a user message queued before the drain is handled after on_config */
    assert_int_equal(tr_runtime_send(rt, w, MSG_NOTE, NULL, 0), 0);
    tt_drain(rt);
    assert_int_equal(g.configs, 1);
    assert_int_equal(g.notes, 1);
    assert_int_equal(g.last_speed, 5);
    assert_int_equal(gen_of(rt, w), 2);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.config_generation, 2);
    assert_int_equal(s.reloads_ok, 1);
    assert_int_equal(s.config_updates, 1);
    /* log_level went live: info is now filtered */
    int before = g.nlog;
    tr_log(rt, TR_LOG_NOTICE, "not shown");
    assert_int_equal(g.nlog, before);
    /* the caller's reference is still theirs */
    tr_config_release(next);
    tr_runtime_destroy(rt);
}

static void test_rejected_reload_changes_nothing(void **state) {
    (void)state;
    char path[64];
    temp_path(path, sizeof(path));
    const char *good = "[runtime]\nlog_level = info\n[w]\nspeed = 3\nmailbox_capacity = 8\n";
    write_file(path, good);
    tr_runtime_t *rt = rt_with(NULL, path);
    assert_int_equal(status(rt).generation, 1);
    tr_spawn_opts_t so = {.name = "w"};
    tr_ref_t w = tt_spawn(rt, &worker_type, &so);
    tt_drain(rt);
    static const struct {
        const char *text;
        int line;
        const char *why;
    } bad[] = {
        {"[runtime]\nlog_level = info\n[w\nspeed = 4\n", 3, "without a closing ']'"},
        {"[runtime]\nlog_level = info\n[w]\nspeed 4\n", 4, "expected 'key = value'"},
        {"[w]\nspeed = 4\nspeed = 5\n", 3, "duplicate key"},
        {"[app]\nbackoff_min = 10 furlongs\n", 2, "bad unit 'furlongs'"},
        {"[w]\nspeed = 4\nmailbox_capacity = 99999999\n", 3, "out of range"},
        {"[runtime]\nfault_isolation = maybe\n", 2, "unknown value 'maybe'"},
        {"[w]\nspeed = 400\n", 2, "out of range (1..100)"}, /* the type's own check */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_file(path, bad[i].text);
        tr_config_error_t err;
        int nlog = g.nlog;
        assert_int_equal(tr_runtime_reload(rt, &err), TR_ECONFIG);
        assert_string_equal(err.file, path);
        assert_int_equal(err.line, bad[i].line);
        assert_non_null(strstr(err.reason, bad[i].why));
        /* logged with file:line, and the generation unchanged */
        char where[128];
        snprintf(where, sizeof(where), "%s:%d: ", path, bad[i].line);
        assert_true(g.nlog > nlog);
        assert_non_null(strstr(g.log[g.nlog - 1], "rejected"));
        assert_non_null(strstr(g.log[g.nlog - 1], where));
        assert_non_null(strstr(g.log[g.nlog - 1], "generation 1 unchanged"));
        tr_config_status_t st = status(rt);
        assert_int_equal(st.generation, 1);
        assert_int_equal(st.reloads_failed, i + 1);
        assert_int_equal(st.last_result, TR_ECONFIG);
        assert_int_equal(st.last_error.line, bad[i].line);
        tt_drain(rt);
        assert_int_equal(g.configs, 0);
        assert_int_equal(gen_of(rt, w), 1);
        tr_mailbox_info_t mi;
        assert_int_equal(tr_mailbox_info(rt, w, &mi), 0);
        assert_int_equal(mi.capacity, 8);
        /* the running snapshot is the old one */
        tr_config_t *cur = tr_runtime_config(rt);
        tr_config_section_t sec;
        assert_int_equal(tr_config_section(cur, "w", &sec), 0);
        int64_t speed = 0;
        assert_int_equal(tr_config_int(&sec, "speed", 0, 0, 1000, &speed, NULL), 0);
        assert_int_equal(speed, 3);
        tr_config_release(cur);
    }
    /* an unreadable file is rejected the same way */
    unlink(path);
    tr_config_error_t err;
    assert_int_equal(tr_runtime_reload(rt, &err), TR_ESYS);
    assert_int_equal(status(rt).generation, 1);
    /* and a good one still applies afterwards */
    write_file(path, good);
    assert_int_equal(tr_runtime_reload(rt, &err), 0);
    assert_int_equal(status(rt).generation, 2);
    assert_int_equal(status(rt).last_error.line, 0); /* ESYS: no line */
    unlink(path);
    tr_runtime_destroy(rt);
}

static void test_one_refusal_rejects_the_whole_reload(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_with("[a]\nspeed = 1\n[b]\nspeed = 1\n[c]\nspeed = 1\n", NULL);
    tr_ref_t r[3];
    const char *names[3] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        tr_spawn_opts_t so = {.name = names[i]};
        r[i] = tt_spawn(rt, &worker_type, &so);
    }
    tt_drain(rt);
    snprintf(g.refuse_path, sizeof(g.refuse_path), "b");
    tr_config_t *next = parse("[a]\nspeed = 7\n[b]\nspeed = 7\n[c]\nspeed = 7\n");
    tr_config_error_t err;
    assert_int_equal(tr_runtime_apply_config(rt, next, &err), TR_ECONFIG);
    assert_int_equal(g.refusals, 1);
    assert_string_equal(err.actor, "b (worker)");
    assert_int_equal(err.line, 4); /* b's speed line */
    char line[1024];
    tr_config_error_str(&err, line, sizeof(line));
    assert_string_equal(line, "test.ini:4: [b] speed: refused by b (worker): this worker refuses speed 7");
    tt_drain(rt);
    assert_int_equal(g.configs, 0); /* nobody applied anything, a included */
    for (int i = 0; i < 3; i++) assert_int_equal(gen_of(rt, r[i]), 1);
    /* without the refusal the same snapshot commits */
    g.refuse_path[0] = '\0';
    assert_int_equal(tr_runtime_apply_config(rt, next, &err), 0);
    tt_drain(rt);
    assert_int_equal(g.configs, 3);
    for (int i = 0; i < 3; i++) assert_int_equal(gen_of(rt, r[i]), 2);
    tr_config_release(next);
    tr_runtime_destroy(rt);
}

/* ---- the reload signal ---- */

static int gen_reached(void *arg) {
    tr_runtime_t *rt = arg;
    tr_config_status_t st;
    tr_runtime_config_status(rt, &st);
    return st.generation >= 2 || st.reloads_failed > 0;
}

static void test_sighup_reloads_the_file(void **state) {
    (void)state;
    char path[64];
    temp_path(path, sizeof(path));
    write_file(path, "[w]\nspeed = 4\n");
    memset(&g, 0, sizeof(g));
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof(o));
    o.log = cap_log;
    o.config_path = path; /* reload_signal 0: SIGHUP */
    tr_runtime_t *rt = tt_runtime(&o);
    tr_spawn_opts_t so = {.name = "w"};
    tr_ref_t w = tt_spawn(rt, &worker_type, &so);
    tt_drain(rt);
    write_file(path, "[w]\nspeed = 11\n");
    /* a real signal to this process; the loop blocks in libev until the
     * signal watcher has run and the reload has happened */
    assert_int_equal(kill(getpid(), SIGHUP), 0);
    assert_int_equal(tr_runtime_run_until(rt, gen_reached, rt), 0);
    assert_int_equal(status(rt).generation, 2);
    tt_drain(rt);
    assert_int_equal(g.last_speed, 11);
    assert_int_equal(gen_of(rt, w), 2);
    assert_true(log_has("received signal"));
    tr_runtime_destroy(rt);
    /* with no runtime watching, SIGHUP must not be left to kill us: the
     * watcher is gone and the default disposition is back */
    struct sigaction sa;
    assert_int_equal(sigaction(SIGHUP, NULL, &sa), 0);
    assert_true(sa.sa_handler == SIG_DFL);
    unlink(path);
}

static void *request_from_thread(void *arg) {
    tr_runtime_request_reload(arg);
    return NULL;
}

static void test_reload_requested_from_another_thread(void **state) {
    (void)state;
    char path[64];
    temp_path(path, sizeof(path));
    write_file(path, "[w]\nspeed = 4\n");
    tr_runtime_t *rt = rt_with(NULL, path);
    tr_spawn_opts_t so = {.name = "w"};
    tt_spawn(rt, &worker_type, &so);
    write_file(path, "[w]\nspeed = 12\n");
    /* a second runtime with a config_path cannot take SIGHUP too (libev
     * allows one loop per signal): it says so and reloads through the API */
    tr_runtime_opts_t o2;
    memset(&o2, 0, sizeof(o2));
    o2.log = cap_log;
    o2.config_path = path;
    tr_runtime_t *rt3 = tt_runtime(&o2);
    assert_true(log_has("already reloads another runtime"));
    assert_int_equal(tr_runtime_reload(rt3, NULL), 0);
    tr_runtime_destroy(rt3);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, request_from_thread, rt), 0);
    assert_int_equal(tr_runtime_run_until(rt, gen_reached, rt), 0);
    pthread_join(th, NULL);
    tt_drain(rt);
    assert_int_equal(g.last_speed, 12);
    /* without a path there is nothing to re-read */
    tr_runtime_t *rt2 = rt_with(NULL, NULL);
    assert_int_equal(tr_runtime_request_reload(rt2), TR_EINVAL);
    tr_config_error_t err;
    assert_int_equal(tr_runtime_reload(rt2, &err), TR_EINVAL);
    tr_runtime_destroy(rt2);
    tr_runtime_destroy(rt);
    unlink(path);
}

/* ---- mailboxes ---- */

static void test_capacity_shrink_keeps_queued_messages(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_with("[w]\nspeed = 1\n", NULL);
    tr_spawn_opts_t so = {.name = "w", .mailbox_capacity = 100};
    tr_ref_t w = tt_spawn(rt, &worker_type, &so);
    for (int i = 0; i < 50; i++) assert_int_equal(tr_runtime_send(rt, w, MSG_NOTE, NULL, 0), 0);
    tr_config_t *next = parse("[w]\nspeed = 1\nmailbox_capacity = 10\n");
    assert_int_equal(tr_runtime_apply_config(rt, next, NULL), 0);
    tr_config_release(next);
    /* UpdateConfig travels on the system lane: one pass applies it before
     * any of the 50 queued messages */
    assert_int_equal(tr_runtime_poll(rt), 51); /* on_config counts as one */
    tr_mailbox_info_t mi;
    assert_int_equal(tr_mailbox_info(rt, w, &mi), 0);
    assert_int_equal(mi.capacity, 10);
    assert_int_equal(g.notes, 50); /* none lost */
    assert_int_equal(tt_stats(rt).dead_letters, 0);
    /* the new bound holds */
    for (int i = 0; i < 10; i++) assert_int_equal(tr_runtime_send(rt, w, MSG_NOTE, NULL, 0), 0);
    assert_int_equal(tr_runtime_send(rt, w, MSG_NOTE, NULL, 0), TR_EFULL);
    tt_drain(rt);
    /* removing the key restores the capacity it was started with */
    next = parse("[w]\nspeed = 1\n");
    assert_int_equal(tr_runtime_apply_config(rt, next, NULL), 0);
    tr_config_release(next);
    tt_drain(rt);
    assert_int_equal(tr_mailbox_info(rt, w, &mi), 0);
    assert_int_equal(mi.capacity, 100);
    tr_runtime_destroy(rt);
}

static void test_shrink_while_filling_then_overflow_policy(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_with(NULL, NULL);
    tr_spawn_opts_t so = {.name = "p", .mailbox_capacity = 4};
    tr_ref_t p = tt_spawn(rt, &plain_type, &so);
    tr_config_t *next = parse("[p]\nmailbox_capacity = 2\noverflow = drop_newest\n");
    assert_int_equal(tr_runtime_apply_config(rt, next, NULL), 0);
    tr_config_release(next);
    assert_int_equal(tr_runtime_poll(rt), 0); /* applies UpdateConfig only */
    for (int i = 0; i < 5; i++) assert_int_equal(tr_runtime_send(rt, p, MSG_NOTE, NULL, 0), 0);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.drops_newest, 3); /* drop_newest went live with capacity 2 */
    tt_drain(rt);
    assert_int_equal(g.notes, 2);
    tr_runtime_destroy(rt);
}

/* ---- supervisors ---- */

static tr_child_spec_t worker_child(const char *name) {
    tr_child_spec_t c;
    memset(&c, 0, sizeof(c));
    c.name = name;
    c.type = &worker_type;
    c.restart = TR_PERMANENT;
    return c;
}

static void test_restart_intensity_is_live(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_with("[runtime]\nlog_level = error\n", NULL);
    tr_child_spec_t kids[] = {worker_child("w")};
    tr_sup_spec_t spec = {.strategy = TR_ONE_FOR_ONE, .intensity = 1, .period_ms = 5000,
                          .children = kids, .nchildren = 1};
    tr_ref_t sup;
    assert_int_equal(tr_sup_start(rt, "app", &spec, &sup), 0);
    tr_config_t *next = parse("[app]\nintensity = 5\nperiod = 10s\n");
    assert_int_equal(tr_runtime_apply_config(rt, next, NULL), 0);
    tr_config_release(next);
    tt_drain(rt);
    /* three panics within the period: the spec alone (1 in 5 s) would give
     * up at the second; the live intensity of 5 allows them */
    for (int i = 0; i < 3; i++) {
        tr_ref_t w;
        assert_int_equal(tr_whereis(rt, "app/w", &w), 0);
        assert_int_equal(tr_runtime_send(rt, w, MSG_BOOM, NULL, 0), 0);
        tt_drain(rt);
    }
    assert_int_equal(g.panics, 3);
    assert_true(tr_actor_alive(rt, sup));
    assert_int_equal(tt_stats(rt).restarts, 3);
    /* back to the spec's 1 in 5 s: the ring keeps the recent restarts, so
     * the next panic is one too many */
    next = parse("[runtime]\nlog_level = error\n");
    assert_int_equal(tr_runtime_apply_config(rt, next, NULL), 0);
    tr_config_release(next);
    tt_drain(rt);
    tr_ref_t w;
    assert_int_equal(tr_whereis(rt, "app/w", &w), 0);
    assert_int_equal(tr_runtime_send(rt, w, MSG_BOOM, NULL, 0), 0);
    tt_drain(rt);
    assert_false(tr_actor_alive(rt, sup));
    assert_int_equal(tr_runtime_exit_status(rt), TR_EESCALATED);
    tr_runtime_destroy(rt);
}

static void test_bad_supervisor_keys_are_refused(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_with(NULL, NULL);
    tr_child_spec_t kids[] = {worker_child("w")};
    tr_sup_spec_t spec = {.strategy = TR_ONE_FOR_ONE, .backoff_min_ms = 100,
                          .children = kids, .nchildren = 1};
    assert_int_equal(tr_sup_start(rt, "app", &spec, NULL), 0);
    tr_config_t *next = parse("[app]\nbackoff_max = 50ms\n");
    tr_config_error_t err;
    assert_int_equal(tr_runtime_apply_config(rt, next, &err), TR_ECONFIG);
    assert_string_equal(err.actor, "supervisor app");
    assert_string_equal(err.key, "backoff_max");
    assert_int_equal(err.line, 2);
    tr_config_release(next);
    assert_int_equal(status(rt).generation, 0);
    tr_runtime_destroy(rt);
}

/* A reload lands while a child is down waiting for its backoff delay: the
 * idle child's type validates its new section, and the restart that
 * follows starts with the new snapshot (elfo#68 missed exactly this). */
static void test_reload_during_restart_storm(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_with("[runtime]\nlog_level = error\n[w]\nspeed = 1\n", NULL);
    tr_child_spec_t kids[] = {worker_child("w"), worker_child("v")};
    tr_sup_spec_t spec = {.strategy = TR_ONE_FOR_ONE, .intensity = 60000, .period_ms = 1000,
                          .backoff_min_ms = 10, .backoff_max_ms = 10,
                          .children = kids, .nchildren = 2};
    tr_ref_t sup;
    assert_int_equal(tr_sup_start(rt, "app", &spec, &sup), 0);
    int committed = 0;
    tr_ref_t w;
    for (int round = 0; round < 40; round++) {
        assert_int_equal(tr_whereis(rt, "app/w", &w), 0);
        assert_int_equal(tr_runtime_send(rt, w, MSG_BOOM, NULL, 0), 0);
        tt_drain(rt); /* w panicked and waits 10 ms for its restart */
        assert_int_equal(tr_whereis(rt, "app/w", &w), TR_ENOTFOUND);
        if (round == 20) {
            int validations = g.validations;
            tr_config_t *next = parse("[runtime]\nlog_level = error\n[w]\nspeed = 2\n");
            assert_int_equal(tr_runtime_apply_config(rt, next, NULL), 0);
            tr_config_release(next);
            /* v (running) and w (down, waiting) were both validated */
            assert_int_equal(g.validations - validations, 2);
            committed = g.inits;
        }
        assert_int_equal(tr_runtime_advance(rt, 10), 0);
        tt_drain(rt);
        assert_int_equal(tr_whereis(rt, "app/w", &w), 0);
        assert_int_equal(gen_of(rt, w), round >= 20 ? 2 : 1);
    }
    /* every init after the commit saw generation 2; none before did */
    assert_true(committed > 0);
    for (int i = 0; i < g.inits && i < 64; i++)
        assert_int_equal(g.init_gen[i], i < committed ? 1 : 2);
    assert_int_equal(g.panics, 40);
    /* a longer storm: both children panic over and over (a pending restart,
     * a running child, a child between the two) while reloads land at every
     * phase; every start must see the newest generation */
    for (int round = 0; round < 300; round++) {
        const char *victim = round % 2 ? "app/v" : "app/w";
        tr_ref_t r;
        if (tr_whereis(rt, victim, &r) == 0) assert_int_equal(tr_runtime_send(rt, r, MSG_BOOM, NULL, 0), 0);
        if (round % 3 == 0) tr_runtime_poll(rt); /* sometimes the panic is still queued */
        if (round % 4 != 3) {
            char text[64];
            snprintf(text, sizeof(text), "[runtime]\nlog_level = error\n[w]\nspeed = %d\n",
                     round % 100 + 1);
            tr_config_t *cfg = parse(text);
            assert_int_equal(tr_runtime_apply_config(rt, cfg, NULL), 0);
            tr_config_release(cfg);
        }
        tt_drain(rt);
        if (round % 2 == 0) {
            assert_int_equal(tr_runtime_advance(rt, 10), 0);
            tt_drain(rt);
        }
    }
    assert_int_equal(tr_runtime_advance(rt, 10), 0);
    tt_drain(rt);
    assert_int_equal(g.stale_inits, 0);
    assert_true(g.panics > 150); /* 191 when written: a storm, not a drizzle */
    assert_int_equal(g.inits, g.panics + 2); /* every panic was followed by a start */
    uint64_t gen_now = status(rt).generation;
    assert_true(gen_now > 200);
    assert_int_equal(tr_whereis(rt, "app/w", &w), 0);
    assert_int_equal(gen_of(rt, w), gen_now);
    assert_int_equal(tr_whereis(rt, "app/v", &w), 0);
    assert_int_equal(gen_of(rt, w), gen_now);
    assert_true(tr_actor_alive(rt, sup));
    /* and a refusal that concerns only the down child still rejects */
    assert_int_equal(tr_whereis(rt, "app/w", &w), 0);
    assert_int_equal(tr_runtime_send(rt, w, MSG_BOOM, NULL, 0), 0);
    tt_drain(rt);
    snprintf(g.refuse_path, sizeof(g.refuse_path), "app/w");
    tr_config_t *next = parse("[w]\nspeed = 3\n");
    tr_config_error_t err;
    assert_int_equal(tr_runtime_apply_config(rt, next, &err), TR_ECONFIG);
    assert_string_equal(err.actor, "app/w (worker, not running)");
    tr_config_release(next);
    tt_assert_chan_balance(rt);
    tr_runtime_destroy(rt);
}

static void test_on_config_panic_restarts_with_the_new_config(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_with("[runtime]\nlog_level = error\n", NULL);
    tr_child_spec_t kids[] = {worker_child("w")};
    tr_sup_spec_t spec = {.strategy = TR_ONE_FOR_ONE, .intensity = 5, .period_ms = 1000,
                          .children = kids, .nchildren = 1};
    assert_int_equal(tr_sup_start(rt, "app", &spec, NULL), 0);
    tt_drain(rt);
    tr_config_t *next = parse("[runtime]\nlog_level = error\n[w]\nspeed = 66\n");
    assert_int_equal(tr_runtime_apply_config(rt, next, NULL), 0);
    tr_config_release(next);
    tt_drain(rt);
    assert_int_equal(g.panics, 1); /* on_config panicked: a panic of the actor */
    tr_ref_t w;
    assert_int_equal(tr_whereis(rt, "app/w", &w), 0);
    assert_int_equal(gen_of(rt, w), 2); /* the restart read the new snapshot */
    assert_int_equal(g.inits, 2);
    assert_int_equal(g.init_gen[1], 2);
    tr_runtime_destroy(rt);
}

/* ---- restart-only keys, many reloads ---- */

static void test_restart_only_keys_are_reported(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_with("[runtime]\nfault_isolation = report\n", NULL);
    tr_config_t *next = parse("[runtime]\nfault_isolation = isolate\nevent_ring = 64\n");
    assert_int_equal(tr_runtime_apply_config(rt, next, NULL), 0);
    tr_config_release(next);
    assert_true(log_has("fault_isolation, event_ring changed: takes effect after a restart"));
    tr_runtime_destroy(rt);
}

static void test_hundred_reloads(void **state) {
    (void)state;
    char path[64];
    temp_path(path, sizeof(path));
    write_file(path, "[runtime]\nlog_level = error\n[app/w]\nspeed = 1\n");
    tr_runtime_t *rt = rt_with(NULL, path);
    tr_child_spec_t kids[] = {worker_child("w")};
    tr_sup_spec_t spec = {.strategy = TR_ONE_FOR_ONE, .children = kids, .nchildren = 1};
    assert_int_equal(tr_sup_start(rt, "app", &spec, NULL), 0);
    tr_spawn_opts_t so = {.name = "w2"};
    tt_spawn(rt, &worker_type, &so);
    for (int i = 0; i < 100; i++) {
        char text[160];
        snprintf(text, sizeof(text),
                 "[runtime]\nlog_level = error\n[app/w]\nspeed = %d\nmailbox_capacity = %d\n"
                 "[w2]\nspeed = %d\n",
                 i % 100 + 1, 16 + i % 7, 100 - i % 100);
        write_file(path, text);
        assert_int_equal(tr_runtime_reload(rt, NULL), 0);
        if (i % 3) tt_drain(rt); /* sometimes stack two UpdateConfigs */
    }
    tt_drain(rt);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.config_generation, 101);
    assert_int_equal(s.reloads_ok, 100);
    tr_ref_t w;
    assert_int_equal(tr_whereis(rt, "app/w", &w), 0);
    assert_int_equal(gen_of(rt, w), 101);
    assert_int_equal(g.last_speed != 0, 1);
    /* stacked updates are applied once each at most, never backwards */
    assert_true(s.config_updates <= 300);
    tr_runtime_destroy(rt); /* ASan: no snapshot or message leaks */
    unlink(path);
}

static void test_api_misuse(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_with(NULL, NULL);
    assert_int_equal(tr_runtime_apply_config(rt, NULL, NULL), TR_EINVAL);
    assert_int_equal(tr_runtime_apply_config(NULL, NULL, NULL), TR_EINVAL);
    assert_int_equal(tr_runtime_config_status(rt, NULL), TR_EINVAL);
    assert_null(tr_runtime_config(rt)); /* no config */
    assert_int_equal(tt_stats(rt).config_generation, 0);
    uint64_t gen;
    assert_int_equal(tr_actor_config_generation(rt, TR_REF_NONE, &gen), TR_EDEAD);
    tr_config_section_t sec;
    assert_int_equal(tr_ctx_config(NULL, &sec), TR_EWRONGTHREAD);
    assert_int_equal(tr_ctx_config_generation(NULL), 0);
    /* an actor without a config reads defaults */
    tr_ref_t w = tt_spawn(rt, &worker_type, NULL);
    assert_int_equal(gen_of(rt, w), 0);
    assert_int_equal(g.init_gen[0], 0);
    tr_runtime_destroy(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_config_applies),
        cmocka_unit_test(test_create_rejects_bad_config),
        cmocka_unit_test(test_apply_config_updates_actors),
        cmocka_unit_test(test_rejected_reload_changes_nothing),
        cmocka_unit_test(test_one_refusal_rejects_the_whole_reload),
        cmocka_unit_test(test_sighup_reloads_the_file),
        cmocka_unit_test(test_reload_requested_from_another_thread),
        cmocka_unit_test(test_capacity_shrink_keeps_queued_messages),
        cmocka_unit_test(test_shrink_while_filling_then_overflow_policy),
        cmocka_unit_test(test_restart_intensity_is_live),
        cmocka_unit_test(test_bad_supervisor_keys_are_refused),
        cmocka_unit_test(test_reload_during_restart_storm),
        cmocka_unit_test(test_on_config_panic_restarts_with_the_new_config),
        cmocka_unit_test(test_restart_only_keys_are_reported),
        cmocka_unit_test(test_hundred_reloads),
        cmocka_unit_test(test_api_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
