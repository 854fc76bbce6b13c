/* tests/test_debug.c: diagnostics (docs/debug-protocol.md, troupe/debug.h):
 * the debug socket (hello line, file and directory permissions, removal at
 * destroy, refusal of a stale or busy path), every command's answer over a
 * real Unix socket and through tr_debug_request, the wait-for graph
 * (cycles, stalls), the stall detector's and the watchdog's reports through
 * the hook, peer-credential refusal (forked clients running as nobody), and
 * hostile clients (overlong lines, binary junk, a flood of idle clients, a
 * client that never reads, idle timeouts).
 * No sleeps: the loop is driven with tr_runtime_run_until until a client
 * has a line (or EOF), the stall detector runs on the manual clock, and the
 * watchdog's hang is released by its own report. Every test makes its own
 * private mkdtemp directory for the socket and removes it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "tr_test.h"

/* ThreadSanitizer does not support fork() from a process it has started
 * threads in (as tests/test_panic.c): the forked test skips in that build.
 * It also defers asynchronous signals, so the watchdog's backtrace may come
 * too late to be in the report. */
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
    MSG_PING = TR_MSG_USER, /* worker: count */
    MSG_BOOM,               /* worker: tr_panic */
    MSG_ASK,                /* worker: call tr_debug_request from a handler */
    MSG_KICK,               /* deadlock A: call B */
    MSG_REQ,                /* B / node: keep the reply (and call on) */
    MSG_REQ_BACK,           /* deadlock A: keep B's request */
    MSG_GO,                 /* node: call next */
    MSG_ARM,                /* node: arm a far timer */
    MSG_TICK,               /* node: the timer */
    MSG_HANG,               /* hanger: block until the watchdog reports */
    MSG_GO_TIMEOUT          /* node: call next with a 5000 ms timeout */
};

/* ------------------------------------------------------------------ */
/* captured log (the watchdog logs from its own thread) */

#define NLOG 256
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_lines[NLOG][512];
static int nlog;

static void cap_log(void *arg, tr_log_level_t level, const char *line) {
    (void)arg, (void)level;
    pthread_mutex_lock(&log_mu);
    if (nlog < NLOG) snprintf(log_lines[nlog], sizeof(log_lines[0]), "%s", line);
    nlog++;
    pthread_mutex_unlock(&log_mu);
}

static void log_reset(void) {
    pthread_mutex_lock(&log_mu);
    nlog = 0;
    pthread_mutex_unlock(&log_mu);
}

static int log_has(const char *needle) {
    int hit = 0;
    pthread_mutex_lock(&log_mu);
    for (int i = 0; i < nlog && i < NLOG && !hit; i++) hit = strstr(log_lines[i], needle) != NULL;
    pthread_mutex_unlock(&log_mu);
    return hit;
}

static void quiet_panic(void *arg, const tr_panic_scene_t *sc) { (void)arg, (void)sc; }

/* ------------------------------------------------------------------ */
/* diagnostic reports (STALL/DEADLOCK on the scheduler thread, HUNG on the
 * watchdog thread: everything under a mutex) */

typedef struct diag_rec_s {
    int n, n_stall, n_deadlock, n_hung;
    tr_diag_kind_t kind; /* of the first report */
    uint64_t seq, runtime_ms, age_ms;
    tr_ref_t actor;
    int msg_type;
    char msg_name[64], path[160], text[1024];
    size_t nchain, nframes;
    char chain[16][160];
    char frames[8192]; /* every frame, ' | ' separated */
} diag_rec_t;

static pthread_mutex_t diag_mu = PTHREAD_MUTEX_INITIALIZER;
static diag_rec_t dr;
static int wd_wake_fd = -1; /* written when a HUNG report arrives */

static void diag_hook(void *arg, const tr_diag_t *d) {
    (void)arg;
    pthread_mutex_lock(&diag_mu);
    if (dr.n == 0) {
        dr.kind = d->kind;
        dr.seq = d->seq;
        dr.runtime_ms = d->runtime_ms;
        dr.age_ms = d->age_ms;
        dr.actor = d->actor;
        dr.msg_type = d->msg_type;
        snprintf(dr.msg_name, sizeof(dr.msg_name), "%s", d->msg_name ? d->msg_name : "");
        snprintf(dr.path, sizeof(dr.path), "%s", d->path ? d->path : "");
        snprintf(dr.text, sizeof(dr.text), "%s", d->text ? d->text : "");
        dr.nchain = d->nchain;
        for (size_t i = 0; i < d->nchain && i < 16; i++)
            snprintf(dr.chain[i], sizeof(dr.chain[i]), "%s", d->chain[i]);
        dr.nframes = d->nframes;
        size_t used = 0;
        for (size_t i = 0; i < d->nframes && used + 1 < sizeof(dr.frames); i++) {
            int w = snprintf(dr.frames + used, sizeof(dr.frames) - used, "%s | ", d->frames[i]);
            if (w < 0) break;
            used += (size_t)w;
            if (used >= sizeof(dr.frames)) used = sizeof(dr.frames) - 1;
        }
    }
    dr.n++;
    if (d->kind == TR_DIAG_STALL) dr.n_stall++;
    else if (d->kind == TR_DIAG_DEADLOCK) dr.n_deadlock++;
    else if (d->kind == TR_DIAG_HUNG) dr.n_hung++;
    int fd = d->kind == TR_DIAG_HUNG ? wd_wake_fd : -1;
    pthread_mutex_unlock(&diag_mu);
    if (fd >= 0) (void)!write(fd, "x", 1);
}

static diag_rec_t diag_snapshot(void) {
    pthread_mutex_lock(&diag_mu);
    diag_rec_t c = dr;
    pthread_mutex_unlock(&diag_mu);
    return c;
}

static void diag_reset(void) {
    pthread_mutex_lock(&diag_mu);
    memset(&dr, 0, sizeof(dr));
    pthread_mutex_unlock(&diag_mu);
}

/* ------------------------------------------------------------------ */
/* private socket directories */

static char cur_dir[64]; /* the current test's directory, removed by teardown */

/* Remove `dir` and the plain files and sockets in it. */
static void rm_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

/* A fresh private directory; writes the socket path into sock. */
static const char *make_dir(char *sock, size_t len) {
    snprintf(cur_dir, sizeof(cur_dir), "/tmp/trdbg-XXXXXX");
    assert_non_null(mkdtemp(cur_dir));
    assert_int_equal(chmod(cur_dir, 0700), 0);
    snprintf(sock, len, "%s/d.sock", cur_dir);
    return cur_dir;
}

static void done_dir(void) {
    if (!cur_dir[0]) return;
    rm_dir(cur_dir);
    struct stat sb;
    assert_int_not_equal(stat(cur_dir, &sb), 0);
    cur_dir[0] = 0;
}

static int teardown(void **state) {
    (void)state;
    if (cur_dir[0]) rm_dir(cur_dir);
    cur_dir[0] = 0;
    wd_wake_fd = -1;
    return 0;
}

static void opts_init(tr_runtime_opts_t *o, const char *sock) {
    memset(o, 0, sizeof(*o));
    o->manual_clock = 1;
    o->log = cap_log;
    o->debug_socket = sock;
    o->on_diag = diag_hook;
    log_reset();
    diag_reset();
}

static tr_runtime_t *rt_make(const tr_runtime_opts_t *o) {
    tr_runtime_t *rt = NULL;
    int rc = tr_runtime_create(o, &rt);
    if (rc) fprintf(stderr, "tr_runtime_create: %s\n", tr_err_name(rc));
    assert_int_equal(rc, 0);
    assert_int_equal(tr_set_panic_hook(rt, quiet_panic, NULL), 0);
    return rt;
}

/* ------------------------------------------------------------------ */
/* JSON helpers (every line is parsed with jansson) */

static json_t *parse_line(const char *line) {
    json_error_t e;
    json_t *j = json_loads(line, 0, &e);
    if (!j) fail_msg("not JSON (%s at %d): %.300s", e.text, e.column, line);
    if (!json_is_object(j)) fail_msg("not a JSON object: %.300s", line);
    json_t *v = json_object_get(j, "v");
    if (!json_is_integer(v) || json_integer_value(v) != 1) fail_msg("no \"v\":1 in %.300s", line);
    return j;
}

static json_t *jo(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    if (!v) {
        char *s = json_dumps(o, JSON_COMPACT);
        fprintf(stderr, "missing key '%s' in %.500s\n", k, s ? s : "?");
        free(s);
        fail_msg("missing key '%s'", k);
    }
    return v;
}

static long long ji(json_t *o, const char *k) {
    json_t *v = jo(o, k);
    if (!json_is_integer(v)) fail_msg("'%s' is not an integer", k);
    return (long long)json_integer_value(v);
}

static const char *js(json_t *o, const char *k) {
    json_t *v = jo(o, k);
    if (!json_is_string(v)) fail_msg("'%s' is not a string", k);
    return json_string_value(v);
}

static json_t *ja(json_t *o, const char *k) {
    json_t *v = jo(o, k);
    if (!json_is_array(v)) fail_msg("'%s' is not an array", k);
    return v;
}

static json_t *jobj(json_t *o, const char *k) {
    json_t *v = jo(o, k);
    if (!json_is_object(v)) fail_msg("'%s' is not an object", k);
    return v;
}

static int jbool(json_t *o, const char *k) {
    json_t *v = jo(o, k);
    if (!json_is_boolean(v)) fail_msg("'%s' is not a boolean", k);
    return json_is_true(v);
}

static void jnull(json_t *o, const char *k) {
    if (!json_is_null(jo(o, k))) fail_msg("'%s' is not null", k);
}

/* The result of a successful response to `cmd` (borrowed from resp). */
static json_t *ok_result(json_t *resp, const char *cmd) {
    if (!json_is_true(json_object_get(resp, "ok"))) {
        char *s = json_dumps(resp, JSON_COMPACT);
        fprintf(stderr, "expected ok for %s, got %.500s\n", cmd, s ? s : "?");
        free(s);
        fail_msg("response to %s is not ok", cmd);
    }
    assert_string_equal(js(resp, "cmd"), cmd);
    return jobj(resp, "result");
}

/* The error code of a failed response (checks its shape). */
static const char *err_code(json_t *resp) {
    assert_false(jbool(resp, "ok"));
    json_t *e = jobj(resp, "error");
    assert_true(strlen(js(e, "message")) > 0);
    assert_null(json_object_get(resp, "result"));
    return js(e, "code");
}

static const char *err_msg(json_t *resp) { return js(jobj(resp, "error"), "message"); }

/* Run one request in process. */
static json_t *dreq(tr_runtime_t *rt, const char *line) {
    char *out = NULL;
    assert_int_equal(tr_debug_request(rt, line, strlen(line), &out), 0);
    assert_non_null(out);
    assert_null(strchr(out, '\n'));
    json_t *j = parse_line(out);
    free(out);
    return j;
}

static void expect_error(tr_runtime_t *rt, const char *line, const char *code) {
    json_t *j = dreq(rt, line);
    const char *got = err_code(j);
    if (strcmp(got, code) != 0) fail_msg("request '%.60s': code %s, expected %s", line, got, code);
    json_decref(j);
}

static void id_str(tr_ref_t r, char *buf, size_t len) {
    snprintf(buf, len, "%u.%u", r.slot, r.gen);
}

/* Does array `a` of strings hold `s`? */
static int arr_has(json_t *a, const char *s) {
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0) return 1;
    }
    return 0;
}

/* The element of array `a` whose `key` is the string `val`, or NULL. */
static json_t *find_by(json_t *a, const char *key, const char *val) {
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        json_t *k = json_object_get(v, key);
        if (json_is_string(k) && strcmp(json_string_value(k), val) == 0) return v;
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* socket clients, read without blocking while the loop runs */

typedef struct cl_s {
    int fd;
    char *buf;
    size_t len, cap;
    int eof; /* the server closed */
    int err; /* errno of a failed read (ECONNRESET) */
    size_t nlines_dropped; /* lines counted and thrown away (counting mode) */
    int counting;
    size_t want; /* pred_counted: lines to wait for */
} cl_t;

/* sun_path from a path known to fit (ours are short). */
static void fill_sun(struct sockaddr_un *sa, const char *path) {
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n >= sizeof(sa->sun_path)) n = sizeof(sa->sun_path) - 1;
    memcpy(sa->sun_path, path, n);
}

static int sock_connect(const char *path, int nonblock) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    assert_true(fd >= 0);
    struct sockaddr_un sa;
    fill_sun(&sa, path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

static void cl_open(cl_t *c, const char *path) {
    memset(c, 0, sizeof(*c));
    c->fd = sock_connect(path, 0);
    if (c->fd < 0) fail_msg("connect %s: %s", path, strerror(-c->fd));
    assert_int_equal(fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK), 0);
}

static void cl_close(cl_t *c) {
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
    c->len = c->cap = 0;
}

/* Read what is there; in counting mode, complete lines are counted and
 * dropped (for clients that receive megabytes). */
static void cl_pump(cl_t *c) {
    while (!c->eof && !c->err) {
        if (c->cap - c->len < 65536) {
            size_t cap = c->cap ? c->cap * 2 : 131072;
            char *p = realloc(c->buf, cap);
            assert_non_null(p);
            c->buf = p;
            c->cap = cap;
        }
        ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
        if (r > 0) {
            c->len += (size_t)r;
            if (c->counting) {
                char *last = NULL;
                for (char *p = c->buf; (p = memchr(p, '\n', c->len - (size_t)(p - c->buf)));
                     p++) {
                    c->nlines_dropped++;
                    last = p;
                }
                if (last) {
                    size_t keep = c->len - (size_t)(last + 1 - c->buf);
                    memmove(c->buf, last + 1, keep);
                    c->len = keep;
                }
            }
            continue;
        }
        if (r == 0) c->eof = 1;
        else if (errno == EINTR) continue;
        else if (errno != EAGAIN && errno != EWOULDBLOCK) c->err = errno;
        return;
    }
}

static int cl_has_line(const cl_t *c) { return c->len && memchr(c->buf, '\n', c->len) != NULL; }

static int pred_line(void *arg) {
    cl_t *c = arg;
    cl_pump(c);
    return cl_has_line(c) || c->eof || c->err;
}

static int pred_counted(void *arg) {
    cl_t *c = arg;
    cl_pump(c);
    return c->nlines_dropped >= c->want || c->eof || c->err;
}

static int pred_closed(void *arg) {
    cl_t *c = arg;
    cl_pump(c);
    return c->eof || c->err;
}

/* The next line (malloc'd, without the newline), or NULL. */
static char *cl_take(cl_t *c) {
    char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
    if (!nl) return NULL;
    size_t n = (size_t)(nl - c->buf);
    char *line = malloc(n + 1);
    assert_non_null(line);
    memcpy(line, c->buf, n);
    line[n] = 0;
    memmove(c->buf, nl + 1, c->len - n - 1);
    c->len -= n + 1;
    return line;
}

/* Drive the loop until the client has a line; return it parsed. */
static json_t *cl_read(tr_runtime_t *rt, cl_t *c) {
    assert_int_equal(tr_runtime_run_until(rt, pred_line, c), 0);
    char *line = cl_take(c);
    if (!line) fail_msg("no line from the server (eof %d, err %s)", c->eof, strerror(c->err));
    json_t *j = parse_line(line);
    free(line);
    return j;
}

static void cl_send(cl_t *c, const char *data, size_t len) {
    size_t off = 0;
    while (off < len) {
        ssize_t w = send(c->fd, data + off, len - off, MSG_NOSIGNAL);
        if (w < 0 && (errno == EINTR || errno == EAGAIN)) {
            struct pollfd p = {c->fd, POLLOUT, 0};
            (void)poll(&p, 1, 1000); /* small requests only: never waits in practice */
            continue;
        }
        if (w < 0) fail_msg("send: %s", strerror(errno));
        off += (size_t)w;
    }
}

static void cl_sends(cl_t *c, const char *s) { cl_send(c, s, strlen(s)); }

/* Send one request line, return the parsed answer. */
static json_t *cl_req(tr_runtime_t *rt, cl_t *c, const char *line) {
    cl_sends(c, line);
    cl_sends(c, "\n");
    return cl_read(rt, c);
}

/* Connect and check the hello line. */
static void cl_hello(tr_runtime_t *rt, cl_t *c, const char *path) {
    cl_open(c, path);
    json_t *h = cl_read(rt, c);
    assert_string_equal(js(h, "hello"), "troupe");
    json_decref(h);
}

/* A stats counter from the in-process request: stats.result[group][key]. */
static long long stat_of(tr_runtime_t *rt, const char *group, const char *key) {
    json_t *j = dreq(rt, "stats");
    long long v = ji(jobj(ok_result(j, "stats"), group), key);
    json_decref(j);
    return v;
}

/* ------------------------------------------------------------------ */
/* actor types */

/* worker: counts pings, panics on MSG_BOOM, describes itself (inspect) */
typedef struct wstate_s {
    int id;
    int pings;
} wstate_t;

static int ask_rc = 99; /* tr_debug_request from inside a handler */

static int w_init(tr_ctx_t *ctx, void *state, const void *args) {
    (void)ctx;
    wstate_t *w = state;
    w->id = args ? *(const int *)args : -1;
    return 0;
}

static void w_ping(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    (void)ctx, (void)msg;
    ((wstate_t *)state)->pings++;
}

static void w_boom(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    (void)msg;
    tr_panic(ctx, "boom from worker %d", ((wstate_t *)state)->id);
}

static void w_ask(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    (void)state, (void)msg;
    char *out = NULL;
    ask_rc = tr_debug_request(tr_ctx_runtime(ctx), "stats", 5, &out);
    free(out);
}

static int inspect_bad_rc = 99; /* tr_inspect_add with NULL arguments */

static void w_inspect(const void *state, tr_inspect_t *wr) {
    const wstate_t *w = state;
    tr_inspect_add(wr, "worker_id", "%d", w->id);
    tr_inspect_add(wr, "pings", "%d pings", w->pings);
    tr_inspect_add(wr, "wide", "%2000d", 7); /* cut at 1024 bytes */
    int a = tr_inspect_add(NULL, "k", "v"), b = tr_inspect_add(wr, NULL, "v");
    inspect_bad_rc = a == TR_EINVAL && b == TR_EINVAL ? 0 : -1;
}

static const tr_handler_t worker_handlers[] = {
    TR_ON_EMPTY(MSG_PING, w_ping),
    TR_ON_EMPTY(MSG_BOOM, w_boom),
    TR_ON_EMPTY(MSG_ASK, w_ask),
    TR_END,
};

static const tr_actor_type_t worker_type = {
    .name = "worker",
    .state_size = sizeof(wstate_t),
    .handlers = worker_handlers,
    .init = w_init,
    .inspect = w_inspect,
};

/* The same without inspect. */
static const tr_actor_type_t plain_type = {
    .name = "plain",
    .state_size = sizeof(wstate_t),
    .handlers = worker_handlers,
    .init = w_init,
};

static const int ids[8] = {0, 1, 2, 3, 4, 5, 6, 7};

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

/* app (one_for_one, 5 in 1000 ms): w1 (permanent), w2 (transient),
 * sub (one_for_all supervisor, 2 in 3000 ms): w3. */
static tr_ref_t start_tree(tr_runtime_t *rt) {
    tr_child_spec_t subkids[1] = {wspec("w3", 3, TR_PERMANENT)};
    tr_sup_spec_t sub = sspec(TR_ONE_FOR_ALL, subkids, 1, 2, 3000);
    tr_child_spec_t kids[3] = {wspec("w1", 1, TR_PERMANENT), wspec("w2", 2, TR_TRANSIENT), {0}};
    kids[2].name = "sub";
    kids[2].sup = &sub;
    kids[2].restart = TR_PERMANENT;
    tr_sup_spec_t app = sspec(TR_ONE_FOR_ONE, kids, 3, 5, 1000);
    tr_ref_t sup = TR_REF_NONE;
    assert_int_equal(tr_sup_start(rt, "app", &app, &sup), 0);
    return sup;
}

static tr_ref_t where(tr_runtime_t *rt, const char *name) {
    tr_ref_t r = TR_REF_NONE;
    assert_int_equal(tr_whereis(rt, name, &r), 0);
    return r;
}

/* deadlock pair: A calls B, B keeps A's reply and calls A, A keeps it */
typedef struct dl_s {
    tr_reply_t *kept;
} dl_t;

static struct {
    tr_ref_t a, b;
    int a_conts, b_conts;
    int b_status;
    tr_drop_reason_t b_drop;
} dlg;

static void a_cont(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie) {
    (void)ctx, (void)state, (void)r, (void)cookie;
    dlg.a_conts++;
}

static void b_cont(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie) {
    (void)ctx, (void)state, (void)cookie;
    dlg.b_conts++;
    dlg.b_status = r->status;
    dlg.b_drop = r->drop_reason;
}

static void a_kick(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    (void)state, (void)msg;
    assert_int_equal(tr_call(ctx, dlg.b, MSG_REQ, NULL, 0, a_cont, NULL, 0), 0);
}

static void a_req_back(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    dl_t *d = state;
    d->kept = tr_reply_keep(ctx, msg);
    assert_non_null(d->kept);
}

static void b_req(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    dl_t *d = state;
    d->kept = tr_reply_keep(ctx, msg);
    assert_non_null(d->kept);
    assert_int_equal(tr_call(ctx, dlg.a, MSG_REQ_BACK, NULL, 0, b_cont, NULL, 0), 0);
}

static const tr_handler_t a_handlers[] = {
    TR_ON_EMPTY(MSG_KICK, a_kick),
    TR_ON_EMPTY(MSG_REQ_BACK, a_req_back),
    TR_END,
};
static const tr_actor_type_t a_type = {
    .name = "dl_a", .state_size = sizeof(dl_t), .handlers = a_handlers};

static const tr_handler_t b_handlers[] = {
    TR_ON_EMPTY(MSG_REQ, b_req),
    TR_END,
};
static const tr_actor_type_t b_type = {
    .name = "dl_b", .state_size = sizeof(dl_t), .handlers = b_handlers};

/* chain node: MSG_GO calls next; MSG_REQ keeps the reply and, when it has
 * a next, calls it too; MSG_ARM arms a timer far in the future */
typedef struct node_s {
    tr_ref_t next;
    tr_reply_t *kept;
    int conts, last_status;
} node_t;

static int node_init(tr_ctx_t *ctx, void *state, const void *args) {
    (void)ctx;
    node_t *n = state;
    if (args) n->next = *(const tr_ref_t *)args;
    return 0;
}

static void node_cont(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie) {
    (void)ctx, (void)cookie;
    node_t *n = state;
    n->conts++;
    n->last_status = r->status;
}

static void node_go(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    (void)msg;
    node_t *n = state;
    assert_int_equal(tr_call(ctx, n->next, MSG_REQ, NULL, 0, node_cont, NULL, 0), 0);
}

static void node_go_timeout(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    (void)msg;
    node_t *n = state;
    assert_int_equal(tr_call(ctx, n->next, MSG_REQ, NULL, 0, node_cont, NULL, 5000), 0);
}

static void node_req(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    node_t *n = state;
    n->kept = tr_reply_keep(ctx, msg);
    assert_non_null(n->kept);
    if (tr_ref_valid(n->next))
        assert_int_equal(tr_call(ctx, n->next, MSG_REQ, NULL, 0, node_cont, NULL, 0), 0);
}

static void node_arm(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    (void)state, (void)msg;
    assert_true(tr_timer_start(ctx, 1000000, 0, MSG_TICK, NULL, 0) > 0);
}

static void node_tick(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    (void)ctx, (void)state, (void)msg;
}

static const tr_handler_t node_handlers[] = {
    TR_ON_EMPTY(MSG_GO, node_go),
    TR_ON_EMPTY(MSG_REQ, node_req),
    TR_ON_EMPTY(MSG_ARM, node_arm),
    TR_ON_EMPTY(MSG_TICK, node_tick),
    TR_ON_EMPTY(MSG_GO_TIMEOUT, node_go_timeout),
    TR_END,
};
static const tr_actor_type_t node_type = {
    .name = "node", .state_size = sizeof(node_t), .handlers = node_handlers, .init = node_init};

static tr_ref_t spawn_node(tr_runtime_t *rt, const char *name, tr_ref_t next) {
    tr_spawn_opts_t so;
    memset(&so, 0, sizeof(so));
    so.name = name;
    so.args = tr_ref_valid(next) ? &next : NULL;
    return tt_spawn(rt, &node_type, &so);
}

/* hanger: its handler blocks until the watchdog's report writes to a pipe */
static struct {
    int rfd;
    int released, timed_out;
} hang;

static void on_hang_blocked(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    (void)ctx, (void)state, (void)msg;
    struct pollfd p = {hang.rfd, POLLIN, 0};
    int r;
    do {
        r = poll(&p, 1, 20000); /* a bound, not a sleep: the report ends it */
    } while (r < 0 && errno == EINTR);
    char b;
    if (r == 1 && read(hang.rfd, &b, 1) == 1) hang.released = 1;
    else hang.timed_out = 1;
}

static const tr_handler_t hang_handlers[] = {
    TR_ON_EMPTY(MSG_HANG, on_hang_blocked),
    TR_END,
};
static const tr_actor_type_t hang_type = {.name = "hanger", .handlers = hang_handlers};

/* ================================================================== */
/* 1. the socket: hello, permissions, removal */

static void test_hello_and_permissions(void **state) {
    (void)state;
    char sock[128];
    const char *dir = make_dir(sock, sizeof(sock));
    tr_runtime_opts_t o;
    opts_init(&o, sock);
    tr_runtime_t *rt = rt_make(&o);

    const char *p = tr_runtime_debug_socket(rt);
    assert_non_null(p);
    assert_string_equal(p, sock);
    assert_null(tr_runtime_debug_socket(NULL));

    struct stat sb;
    assert_int_equal(stat(sock, &sb), 0);
    assert_true(S_ISSOCK(sb.st_mode));
    assert_int_equal(sb.st_mode & 07777, 0600);
    assert_int_equal(sb.st_uid, geteuid());
    assert_int_equal(stat(dir, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 07777, 0700);

    cl_t c;
    cl_open(&c, sock);
    json_t *h = cl_read(rt, &c);
    assert_int_equal(ji(h, "v"), 1);
    assert_string_equal(js(h, "hello"), "troupe");
    assert_int_equal(ji(h, "pid"), (long long)getpid());
    assert_true(strlen(js(h, "version")) > 0);
    json_t *cmds = ja(h, "commands");
    static const char *const want[] = {"help",  "tree",   "actors", "actor",  "waits",
                                       "trace", "stats",  "config", "reload", "alerts",
                                       "schedulers"};
    assert_int_equal(json_array_size(cmds), 11);
    for (size_t i = 0; i < 11; i++)
        assert_string_equal(json_string_value(json_array_get(cmds, i)), want[i]);
    assert_null(json_object_get(h, "ok")); /* a hello, not a response */
    json_decref(h);
    assert_false(cl_has_line(&c)); /* exactly one line until asked */

    /* the hello was counted; the client is still there */
    assert_int_equal(stat_of(rt, "debug", "accepted"), 1);
    assert_int_equal(stat_of(rt, "debug", "clients"), 1);

    tr_runtime_destroy(rt);
    assert_int_not_equal(stat(sock, &sb), 0);
    assert_int_equal(errno, ENOENT);
    /* the client sees the server go */
    assert_true(pred_closed(&c));
    cl_close(&c);
    done_dir();
}

/* The directory rules, a busy path and a stale socket file. */
static void test_socket_path_rules(void **state) {
    (void)state;
    char sock[128];
    const char *dir = make_dir(sock, sizeof(sock));
    tr_runtime_opts_t o;
    tr_runtime_t *rt = NULL;

    /* a directory others can enter is refused (TR_ESYS, logged) */
    assert_int_equal(chmod(dir, 0755), 0);
    opts_init(&o, sock);
    assert_int_equal(tr_runtime_create(&o, &rt), TR_ESYS);
    assert_null(rt);
    assert_true(log_has("0755"));
    assert_int_equal(chmod(dir, 0700), 0);

    /* a missing directory is created 0700 */
    char sub[160], subsock[200];
    snprintf(sub, sizeof(sub), "%s/inner", dir);
    snprintf(subsock, sizeof(subsock), "%s/s.sock", sub);
    opts_init(&o, subsock);
    rt = rt_make(&o);
    struct stat sb;
    assert_int_equal(stat(sub, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0700);
    tr_runtime_destroy(rt);
    rt = NULL;
    assert_int_equal(rmdir(sub), 0);

    /* a path somebody answers on is refused */
    opts_init(&o, sock);
    tr_runtime_t *first = rt_make(&o);
    tr_runtime_opts_t o2;
    opts_init(&o2, sock);
    assert_int_equal(tr_runtime_create(&o2, &rt), TR_ESYS);
    assert_null(rt);
    assert_true(log_has("already serves"));
    assert_int_equal(stat(sock, &sb), 0); /* and left alone */
    tr_runtime_destroy(first);

    /* a stale socket file (nobody answers) is replaced */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa;
    fill_sun(&sa, sock);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    assert_int_equal(stat(sock, &sb), 0);
    opts_init(&o, sock);
    rt = rt_make(&o);
    cl_t c;
    cl_hello(rt, &c, sock);
    cl_close(&c);
    tr_runtime_destroy(rt);

    /* a regular file at the path is not touched */
    FILE *f = fopen(sock, "w");
    assert_non_null(f);
    fclose(f);
    opts_init(&o, sock);
    rt = NULL;
    assert_int_equal(tr_runtime_create(&o, &rt), TR_ESYS);
    assert_int_equal(stat(sock, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));

    /* no socket without the option */
    opts_init(&o, NULL);
    rt = rt_make(&o);
    assert_null(tr_runtime_debug_socket(rt));
    json_t *j = dreq(rt, "stats"); /* the commands work without a socket */
    assert_int_equal(ji(jobj(ok_result(j, "stats"), "debug"), "accepted"), 0);
    json_decref(j);
    tr_runtime_destroy(rt);
    done_dir();
}

/* The default path: $XDG_RUNTIME_DIR/troupe/<pid>.sock, else
 * /tmp/troupe-<uid>/<pid>.sock. */
static void test_default_path(void **state) {
    (void)state;
    char sock[128], buf[TR_DEBUG_PATH_MAX + 1], want[200];
    const char *dir = make_dir(sock, sizeof(sock));
    const char *old = getenv("XDG_RUNTIME_DIR");
    char *saved = old ? strdup(old) : NULL;

    assert_int_equal(unsetenv("XDG_RUNTIME_DIR"), 0);
    int n = tr_debug_default_path(4242, buf, sizeof(buf));
    snprintf(want, sizeof(want), "/tmp/troupe-%lu/4242.sock", (unsigned long)geteuid());
    assert_int_equal(n, (int)strlen(want));
    assert_string_equal(buf, want);
    assert_int_equal(setenv("XDG_RUNTIME_DIR", "relative/dir", 1), 0); /* not absolute: ignored */
    assert_int_equal(tr_debug_default_path(4242, buf, sizeof(buf)), (int)strlen(want));
    assert_string_equal(buf, want);
    assert_int_equal(tr_debug_default_path(0, buf, sizeof(buf)), TR_EINVAL);
    assert_int_equal(tr_debug_default_path(-3, buf, sizeof(buf)), TR_EINVAL);
    assert_int_equal(tr_debug_default_path(4242, NULL, 100), TR_EINVAL);
    assert_int_equal(tr_debug_default_path(4242, buf, 8), TR_ENOMEM);

    assert_int_equal(setenv("XDG_RUNTIME_DIR", dir, 1), 0);
    snprintf(want, sizeof(want), "%s/troupe/%ld.sock", dir, (long)getpid());
    assert_int_equal(tr_debug_default_path((long)getpid(), buf, sizeof(buf)), (int)strlen(want));
    assert_string_equal(buf, want);
    tr_runtime_opts_t o;
    opts_init(&o, TR_DEBUG_SOCKET_DEFAULT);
    tr_runtime_t *rt = rt_make(&o);
    assert_string_equal(tr_runtime_debug_socket(rt), want);
    char sub[160];
    snprintf(sub, sizeof(sub), "%s/troupe", dir);
    struct stat sb;
    assert_int_equal(stat(sub, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0700); /* created private */
    cl_t c;
    cl_hello(rt, &c, want);
    cl_close(&c);
    tr_runtime_destroy(rt);
    assert_int_not_equal(stat(want, &sb), 0);
    assert_int_equal(rmdir(sub), 0);

    if (saved) setenv("XDG_RUNTIME_DIR", saved, 1);
    else unsetenv("XDG_RUNTIME_DIR");
    free(saved);
    done_dir();
}

/* Option checks and the [runtime] keys that drive the diagnostics. */
static void test_options_and_config_keys(void **state) {
    (void)state;
    char sock[128];
    make_dir(sock, sizeof(sock));
    tr_runtime_opts_t o;
    tr_runtime_t *rt = NULL;
    opts_init(&o, "relative.sock");
    assert_int_equal(tr_runtime_create(&o, &rt), TR_EINVAL);
    char longp[300];
    memset(longp, 'a', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = 0;
    opts_init(&o, longp);
    assert_int_equal(tr_runtime_create(&o, &rt), TR_EINVAL);
    opts_init(&o, sock);
    o.debug_max_clients = 1025;
    assert_int_equal(tr_runtime_create(&o, &rt), TR_EINVAL);
    opts_init(&o, sock);
    o.debug_idle_ms = 99;
    assert_int_equal(tr_runtime_create(&o, &rt), TR_EINVAL);
    assert_null(rt);

    /* [runtime] debug_socket = off overrides the option */
    static const char off_ini[] = "[runtime]\ndebug_socket = off\n";
    tr_config_t *cfg = NULL;
    assert_int_equal(tr_config_parse("off.ini", off_ini, strlen(off_ini), &cfg, NULL), 0);
    opts_init(&o, sock);
    o.config = cfg;
    rt = rt_make(&o);
    tr_config_release(cfg);
    assert_null(tr_runtime_debug_socket(rt));
    struct stat sb;
    assert_int_not_equal(stat(sock, &sb), 0);
    tr_runtime_destroy(rt);

    /* the keys set the socket, the client limit and the stall threshold */
    char ini[512];
    snprintf(ini, sizeof(ini),
             "[runtime]\ndebug_socket = %s\ndebug_max_clients = 1\nstall_threshold = 2s\n"
             "debug_idle_timeout = 1h\n",
             sock);
    cfg = NULL;
    tr_config_error_t err;
    assert_int_equal(tr_config_parse("keys.ini", ini, strlen(ini), &cfg, &err), 0);
    opts_init(&o, NULL);
    o.config = cfg;
    rt = rt_make(&o);
    tr_config_release(cfg);
    assert_string_equal(tr_runtime_debug_socket(rt), sock);
    json_t *j = dreq(rt, "waits");
    assert_int_equal(ji(ok_result(j, "waits"), "stall_threshold_ms"), 2000);
    json_decref(j);
    cl_t a, b;
    cl_hello(rt, &a, sock);
    cl_hello(rt, &b, sock); /* one client at a time: a is evicted */
    assert_int_equal(tr_runtime_run_until(rt, pred_closed, &a), 0);
    char *line = cl_take(&a);
    assert_non_null(line);
    j = parse_line(line);
    free(line);
    assert_string_equal(err_code(j), "evicted");
    json_decref(j);
    /* a reload turns the stall detector off */
    static const char noth[] = "[runtime]\nstall_threshold = 0\n";
    cfg = NULL;
    assert_int_equal(tr_config_parse("noth.ini", noth, strlen(noth), &cfg, NULL), 0);
    assert_int_equal(tr_runtime_apply_config(rt, cfg, NULL), 0);
    tr_config_release(cfg);
    j = cl_req(rt, &b, "waits");
    jnull(ok_result(j, "waits"), "stall_threshold_ms");
    json_decref(j);
    cl_close(&a);
    cl_close(&b);
    tr_runtime_destroy(rt);
    done_dir();
}

/* ================================================================== */
/* 2. every command's shape */

static void check_tree(tr_runtime_t *rt, json_t *res, tr_ref_t app) {
    char b[32];
    json_t *roots = ja(res, "roots");
    assert_int_equal(json_array_size(roots), 1);
    json_t *r = json_array_get(roots, 0);
    assert_string_equal(js(r, "name"), "app");
    assert_string_equal(js(r, "path"), "app");
    id_str(app, b, sizeof(b));
    assert_string_equal(js(r, "id"), b);
    assert_string_equal(js(r, "kind"), "supervisor");
    assert_string_equal(js(r, "strategy"), "one_for_one");
    assert_int_equal(ji(r, "intensity"), 5);
    assert_int_equal(ji(r, "period_ms"), 1000);
    assert_int_equal(ji(r, "recent_restarts"), 0);
    json_t *kids = ja(r, "children");
    assert_int_equal(json_array_size(kids), 3);
    static const char *const names[] = {"w1", "w2", "sub"};
    static const char *const restarts[] = {"permanent", "transient", "permanent"};
    for (size_t i = 0; i < 3; i++) {
        json_t *k = json_array_get(kids, i);
        assert_string_equal(js(k, "name"), names[i]); /* start order */
        char path[32];
        snprintf(path, sizeof(path), "app/%s", names[i]);
        assert_string_equal(js(k, "path"), path);
        id_str(where(rt, path), b, sizeof(b));
        assert_string_equal(js(k, "id"), b);
        assert_string_equal(js(k, "kind"), i == 2 ? "supervisor" : "worker");
        assert_string_equal(js(k, "type"), i == 2 ? "supervisor" : "worker");
        assert_string_equal(js(k, "state"), "running");
        assert_string_equal(js(k, "restart"), restarts[i]);
        assert_int_equal(ji(k, "incarnation"), 1);
        assert_int_equal(ji(k, "restarts"), 0);
        assert_int_equal(json_array_size(ja(k, "last_restarts")), 0);
        json_t *mb = jobj(k, "mailbox");
        assert_int_equal(ji(mb, "depth"), 0);
        assert_int_equal(ji(mb, "capacity"), 1024);
    }
    json_t *sub = json_array_get(kids, 2);
    assert_string_equal(js(sub, "strategy"), "one_for_all");
    assert_int_equal(ji(sub, "intensity"), 2);
    assert_int_equal(ji(sub, "period_ms"), 3000);
    json_t *sk = ja(sub, "children");
    assert_int_equal(json_array_size(sk), 1);
    json_t *w3 = json_array_get(sk, 0);
    assert_string_equal(js(w3, "name"), "w3");
    assert_string_equal(js(w3, "path"), "app/sub/w3");
    assert_string_equal(js(w3, "kind"), "worker");
    assert_null(json_object_get(json_array_get(kids, 0), "strategy")); /* workers have none */
    json_t *loose = ja(res, "unsupervised");
    assert_int_equal(json_array_size(loose), 1);
    json_t *l = json_array_get(loose, 0);
    assert_string_equal(js(l, "name"), "loner");
    assert_string_equal(js(l, "type"), "plain");
    id_str(where(rt, "loner"), b, sizeof(b));
    assert_string_equal(js(l, "id"), b);
}

static void test_commands_shape(void **state) {
    (void)state;
    char sock[128];
    make_dir(sock, sizeof(sock));
    tr_config_t *cfg = NULL;
    static const char ini[] = "[runtime]\n"
                              "log_level = notice\n"
                              "[app/w1]\n"
                              "speed = 3\n"
                              "label = first one\n";
    tr_config_error_t cerr;
    assert_int_equal(tr_config_parse("test.ini", ini, strlen(ini), &cfg, &cerr), 0);
    tr_runtime_opts_t o;
    opts_init(&o, sock);
    o.config = cfg;
    o.stall_ms = 1000;
    tr_runtime_t *rt = rt_make(&o);
    tr_config_release(cfg);

    tr_ref_t app = start_tree(rt);
    tr_spawn_opts_t so;
    memset(&so, 0, sizeof(so));
    so.name = "loner";
    so.args = &ids[7];
    tr_ref_t loner = tt_spawn(rt, &plain_type, &so);
    tr_ref_t w1 = where(rt, "app/w1");
    for (int i = 0; i < 3; i++) assert_int_equal(tr_runtime_send(rt, w1, MSG_PING, NULL, 0), 0);
    for (int i = 0; i < 5; i++) assert_int_equal(tr_runtime_send(rt, loner, MSG_PING, NULL, 0), 0);
    tt_drain(rt);
    char b[32], w1id[32], appid[32];
    id_str(w1, w1id, sizeof(w1id));
    id_str(app, appid, sizeof(appid));

    /* ---- over the socket: hello, help, tree, actor ---- */
    cl_t c;
    cl_hello(rt, &c, sock);

    json_t *j = cl_req(rt, &c, "help");
    json_t *res = ok_result(j, "help");
    assert_int_equal(ji(res, "protocol"), 1);
    json_t *cmds = ja(res, "commands");
    assert_int_equal(json_array_size(cmds), 11);
    static const char *const all[] = {"help",  "tree",  "actors", "actor",  "waits",
                                      "trace", "stats", "config", "reload", "alerts",
                                      "schedulers"};
    for (size_t i = 0; i < 11; i++) {
        json_t *e = find_by(cmds, "name", all[i]);
        if (!e) fail_msg("help lacks %s", all[i]);
        assert_true(json_is_string(jo(e, "arg")));
        assert_true(strlen(js(e, "summary")) > 0);
    }
    assert_true(strstr(js(find_by(cmds, "name", "actor"), "arg"), "ID") != NULL);
    assert_null(json_object_get(j, "id")); /* no id asked, none echoed */
    json_decref(j);

    j = cl_req(rt, &c, "tree");
    check_tree(rt, ok_result(j, "tree"), app);
    json_t *inproc = dreq(rt, "tree"); /* the same answer both ways */
    assert_true(json_equal(j, inproc));
    json_decref(inproc);
    json_decref(j);

    /* text shorthand, by path */
    j = cl_req(rt, &c, "actor app/w1");
    res = ok_result(j, "actor");
    assert_string_equal(js(res, "id"), w1id);
    assert_string_equal(js(res, "path"), "app/w1");
    assert_string_equal(js(res, "name"), "app/w1");
    assert_string_equal(js(res, "type"), "worker");
    assert_false(jbool(res, "supervisor"));
    assert_string_equal(js(res, "status"), "idle");
    assert_int_equal(ji(res, "incarnation"), 1);
    assert_string_equal(js(res, "parent"), appid);
    assert_string_equal(js(res, "overflow"), "fail");
    assert_int_equal(ji(res, "timers"), 0);
    assert_int_equal(ji(res, "fds"), 0);
    json_t *mon = jobj(res, "monitors");
    assert_int_equal(ji(mon, "watching"), 0);
    assert_true(ji(mon, "watched_by") >= 0);
    assert_int_equal(json_array_size(ja(res, "calls")), 0);
    assert_int_equal(json_array_size(ja(res, "kept")), 0);
    assert_int_equal(json_array_size(ja(res, "restarts")), 0);
    assert_int_equal(ji(jobj(res, "mailbox"), "capacity"), 1024);
    assert_true(ji(res, "handled") >= 3);
    json_t *cfgo = jobj(res, "config");
    assert_string_equal(js(cfgo, "section"), "app/w1");
    assert_int_equal(ji(cfgo, "generation"), 1);
    json_t *evs = ja(res, "events");
    assert_true(json_array_size(evs) >= 4); /* spawn + 3 handles */
    assert_true(json_array_size(evs) <= 32);
    int handles = 0;
    size_t i;
    json_t *e;
    json_array_foreach(evs, i, e) {
        if (strcmp(js(e, "kind"), "handle") == 0 && ji(e, "msg_type") == MSG_PING) {
            handles++;
            assert_string_equal(js(e, "msg"), "MSG_PING");
        }
    }
    assert_int_equal(handles, 3);
    json_t *st = jobj(res, "state");
    assert_string_equal(js(st, "worker_id"), "1");
    assert_string_equal(js(st, "pings"), "3 pings");
    size_t wide = strlen(js(st, "wide"));
    assert_true(wide >= 1023 && wide <= 1024);
    assert_int_equal(json_object_size(st), 3);
    assert_int_equal(inspect_bad_rc, 0);
    json_t *by_path = json_deep_copy(res);
    json_decref(j);

    /* JSON, by id, with an object id echoed */
    char line[256];
    snprintf(line, sizeof(line),
             "{\"cmd\":\"actor\",\"arg\":\"%s\",\"id\":{\"k\":[1,\"two\"]}}", w1id);
    j = cl_req(rt, &c, line);
    res = ok_result(j, "actor");
    json_t *want_id = json_loads("{\"k\":[1,\"two\"]}", 0, NULL);
    assert_true(json_equal(jo(j, "id"), want_id));
    json_decref(want_id);
    assert_true(json_equal(res, by_path)); /* same actor, same answer */
    json_decref(by_path);
    json_decref(j);

    /* the unsupervised actor: no inspect, no state; two messages queued
     * (tr_debug_request does not run the loop, so they stay queued) */
    for (int k = 0; k < 2; k++) assert_int_equal(tr_runtime_send(rt, loner, MSG_PING, NULL, 0), 0);
    j = dreq(rt, "actor loner");
    res = ok_result(j, "actor");
    assert_null(json_object_get(res, "state"));
    jnull(res, "parent");
    assert_string_equal(js(res, "status"), "ready");
    assert_int_equal(ji(jobj(res, "mailbox"), "depth"), 2);
    json_decref(j);

    /* ---- actors ---- */
    j = dreq(rt, "actors");
    res = ok_result(j, "actors");
    assert_int_equal(ji(res, "total"), 6);
    assert_false(jbool(res, "truncated"));
    json_t *acts = ja(res, "actors");
    assert_int_equal(json_array_size(acts), 6);
    json_t *a = find_by(acts, "path", "app/w1");
    assert_non_null(a);
    assert_string_equal(js(a, "id"), w1id);
    assert_true(ji(a, "handled") >= 3);
    assert_int_equal(ji(a, "drops"), 0);
    assert_int_equal(ji(a, "pending_calls"), 0);
    assert_int_equal(ji(a, "kept_replies"), 0);
    jnull(a, "busy_us"); /* handler_timing is off */
    json_t *l = find_by(acts, "name", "loner");
    assert_non_null(l);
    assert_string_equal(js(l, "path"), "loner"); /* no tree path: the registered name */
    assert_string_equal(js(l, "status"), "ready");
    json_t *lmb = jobj(l, "mailbox");
    assert_int_equal(ji(lmb, "depth"), 2);
    assert_int_equal(ji(lmb, "capacity"), 1024);
    assert_int_equal(ji(lmb, "high_water"), 5);
    assert_int_equal(ji(l, "handled"), 5);
    json_t *sa = find_by(acts, "path", "app");
    assert_non_null(sa);
    assert_true(jbool(sa, "supervisor"));
    assert_non_null(find_by(acts, "path", "app/sub/w3"));
    /* oldest first: app was spawned before its children, loner last */
    assert_string_equal(js(json_array_get(acts, 0), "path"), "app");
    id_str(loner, b, sizeof(b));
    assert_string_equal(js(json_array_get(acts, 5), "id"), b);
    json_decref(j);
    j = dreq(rt, "actors 2");
    res = ok_result(j, "actors");
    assert_int_equal(ji(res, "total"), 6);
    assert_true(jbool(res, "truncated"));
    assert_int_equal(json_array_size(ja(res, "actors")), 2);
    json_decref(j);

    tt_drain(rt);

    /* ---- waits: nothing pending ---- */
    j = dreq(rt, "waits");
    res = ok_result(j, "waits");
    assert_int_equal(json_array_size(ja(res, "edges")), 0);
    assert_int_equal(json_array_size(ja(res, "cycles")), 0);
    assert_int_equal(json_array_size(ja(res, "stalls")), 0);
    assert_int_equal(ji(res, "stall_threshold_ms"), 1000);
    json_decref(j);

    /* ---- trace N ---- */
    j = dreq(rt, "trace 3");
    res = ok_result(j, "trace");
    assert_int_equal(ji(res, "ring"), 1024 * tr_runtime_schedulers(rt)); /* one ring each */
    assert_true(ji(res, "total") > 3);
    evs = ja(res, "events");
    assert_int_equal(json_array_size(evs), 3);
    static const char *const kinds[] = {"spawn", "send",    "handle", "reply", "drop",
                                        "panic", "restart", "stop",   "down",  "stall"};
    long long prev_t = 0;
    json_array_foreach(evs, i, e) {
        int known = 0;
        for (size_t k = 0; k < 10; k++) known = known || strcmp(js(e, "kind"), kinds[k]) == 0;
        assert_true(known);
        assert_true(ji(e, "time_ms") >= prev_t);
        prev_t = ji(e, "time_ms");
        (void)jo(e, "actor");
        (void)jo(e, "peer");
        (void)ji(e, "msg_type");
        (void)ji(e, "arg");
    }
    /* the last events: the second ping sent from outside (no actor), and
     * the loner handling both */
    e = json_array_get(evs, 0);
    assert_string_equal(js(e, "kind"), "send");
    jnull(e, "actor");
    assert_string_equal(js(e, "peer"), b);
    assert_string_equal(js(e, "peer_path"), "loner");
    for (size_t k = 1; k < 3; k++) {
        e = json_array_get(evs, k);
        assert_string_equal(js(e, "kind"), "handle");
        assert_string_equal(js(e, "actor"), b);
        assert_string_equal(js(e, "actor_path"), "loner");
        assert_string_equal(js(e, "msg"), "MSG_PING");
        assert_int_equal(ji(e, "msg_type"), MSG_PING);
    }
    json_decref(j);
    j = dreq(rt, "trace");
    res = ok_result(j, "trace");
    long long total = ji(res, "total");
    assert_int_equal((long long)json_array_size(ja(res, "events")), total < 50 ? total : 50);
    json_decref(j);
    j = dreq(rt, "{\"cmd\":\"trace\",\"arg\":100000}");
    res = ok_result(j, "trace");
    assert_true(json_array_size(ja(res, "events")) <= 1024);
    assert_int_equal((long long)json_array_size(ja(res, "events")),
                     ji(res, "total") < 1024 ? ji(res, "total") : 1024);
    json_decref(j);

    /* ---- stats ---- */
    j = cl_req(rt, &c, "stats");
    res = ok_result(j, "stats");
    assert_int_equal(ji(res, "uptime_ms"), 0); /* manual clock */
    json_t *rs = jobj(res, "runtime");
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(ji(rs, "actors_live"), 6);
    assert_int_equal(ji(rs, "actors_spawned"), (long long)s.actors_spawned);
    assert_int_equal(ji(rs, "msgs_handled"), (long long)s.msgs_handled);
    assert_int_equal(ji(rs, "config_generation"), 1);
    assert_int_equal(json_object_size(rs), 32); /* every tr_stats_t field */
    json_t *rc = jobj(res, "reply_channels");
    static const char *const chk[] = {"created", "ok",        "error",   "timeout",     "dropped",
                                      "undelivered", "cancelled", "pending", "late_replies"};
    for (size_t k = 0; k < 9; k++) assert_int_equal(ji(rc, chk[k]), 0);
    json_t *dbg = jobj(res, "debug");
    assert_int_equal(ji(dbg, "clients"), 1);
    assert_int_equal(ji(dbg, "accepted"), 1);
    assert_int_equal(ji(dbg, "refused"), 0);
    assert_int_equal(ji(dbg, "evicted"), 0);
    assert_int_equal(ji(dbg, "requests"), 4); /* help tree actor actor (socket only; this
                                                 stats counts once it is answered) */
    assert_int_equal(ji(dbg, "errors"), 0);
    json_t *dg = jobj(res, "diagnostics");
    assert_int_equal(ji(dg, "stalls"), 0);
    assert_int_equal(ji(dg, "deadlocks"), 0);
    assert_int_equal(ji(dg, "hung_handlers"), 0);
    json_decref(j);

    /* ---- config ---- */
    j = dreq(rt, "config");
    res = ok_result(j, "config");
    jnull(res, "path");
    assert_string_equal(js(res, "name"), "test.ini");
    assert_int_equal(ji(res, "generation"), 1);
    assert_int_equal(ji(res, "reloads_ok"), 0);
    assert_int_equal(ji(res, "reloads_failed"), 0);
    jnull(res, "last_error");
    json_t *secs = ja(res, "sections");
    assert_int_equal(json_array_size(secs), 2);
    json_t *s0 = json_array_get(secs, 0), *s1 = json_array_get(secs, 1);
    assert_string_equal(js(s0, "name"), "runtime");
    json_t *k0 = json_array_get(ja(s0, "keys"), 0);
    assert_string_equal(js(k0, "key"), "log_level");
    assert_string_equal(js(k0, "value"), "notice");
    assert_int_equal(ji(k0, "line"), 2);
    assert_string_equal(js(s1, "name"), "app/w1");
    json_t *keys = ja(s1, "keys");
    assert_int_equal(json_array_size(keys), 2);
    assert_string_equal(js(json_array_get(keys, 0), "key"), "speed");
    assert_string_equal(js(json_array_get(keys, 0), "value"), "3");
    assert_int_equal(ji(json_array_get(keys, 0), "line"), 4);
    assert_string_equal(js(json_array_get(keys, 1), "key"), "label");
    assert_string_equal(js(json_array_get(keys, 1), "value"), "first one");
    assert_int_equal(ji(json_array_get(keys, 1), "line"), 5);
    json_decref(j);

    /* ---- reload without a config file ---- */
    j = dreq(rt, "{\"cmd\":\"reload\",\"id\":42}");
    assert_string_equal(err_code(j), "bad_argument");
    assert_int_equal(ji(j, "id"), 42);
    json_decref(j);

    /* ---- alerts: none yet ---- */
    j = dreq(rt, "alerts");
    assert_int_equal(json_array_size(ja(ok_result(j, "alerts"), "alerts")), 0);
    json_decref(j);

    /* ---- pipelining, \r\n, empty lines, an unterminated last line ---- */
    cl_sends(&c, "\n  \nhelp\r\n{\"cmd\":\"stats\",\"id\":\"s\"}\n\r\ntree\n");
    j = cl_read(rt, &c);
    ok_result(j, "help");
    json_decref(j);
    j = cl_read(rt, &c);
    ok_result(j, "stats");
    assert_string_equal(js(j, "id"), "s");
    json_decref(j);
    j = cl_read(rt, &c);
    ok_result(j, "tree");
    json_decref(j);
    cl_sends(&c, "alerts");
    assert_int_equal(shutdown(c.fd, SHUT_WR), 0);
    j = cl_read(rt, &c);
    ok_result(j, "alerts");
    json_decref(j);
    assert_int_equal(tr_runtime_run_until(rt, pred_closed, &c), 0);
    assert_int_equal(c.len, 0);
    cl_close(&c);

    tr_runtime_destroy(rt);
    done_dir();
}

/* reload through the socket protocol with a config file */
static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

static void test_config_and_reload(void **state) {
    (void)state;
    char sock[128], ini[160];
    const char *dir = make_dir(sock, sizeof(sock));
    snprintf(ini, sizeof(ini), "%s/app.ini", dir);
    write_file(ini, "[runtime]\nlog_level = notice\n");
    tr_runtime_opts_t o;
    opts_init(&o, NULL);
    o.config_path = ini;
    o.reload_signal = -1;
    tr_runtime_t *rt = rt_make(&o);

    json_t *j = dreq(rt, "config");
    json_t *res = ok_result(j, "config");
    assert_string_equal(js(res, "path"), ini);
    const char *name = js(res, "name");
    assert_true(strlen(name) >= 7 && strcmp(name + strlen(name) - 7, "app.ini") == 0);
    assert_int_equal(ji(res, "generation"), 1);
    json_decref(j);

    write_file(ini, "[runtime]\nlog_level = info\n[extra]\nk = v\n");
    j = dreq(rt, "reload");
    assert_int_equal(ji(ok_result(j, "reload"), "generation"), 2);
    json_decref(j);
    j = dreq(rt, "config");
    res = ok_result(j, "config");
    assert_int_equal(ji(res, "generation"), 2);
    assert_int_equal(ji(res, "reloads_ok"), 1);
    json_t *secs = ja(res, "sections");
    assert_int_equal(json_array_size(secs), 2);
    json_t *k0 = json_array_get(ja(json_array_get(secs, 0), "keys"), 0);
    assert_string_equal(js(k0, "value"), "info");
    assert_string_equal(js(json_array_get(secs, 1), "name"), "extra");
    json_decref(j);

    /* a syntax error on line 3 */
    write_file(ini, "[runtime]\nlog_level = info\nthis line is broken\n");
    j = dreq(rt, "{\"cmd\":\"reload\",\"id\":[1]}");
    assert_string_equal(err_code(j), "config");
    char want[256];
    snprintf(want, sizeof(want), "%s:3:", ini);
    if (strncmp(err_msg(j), want, strlen(want)) != 0)
        fail_msg("reload error '%s' does not start with '%s'", err_msg(j), want);
    assert_true(json_is_array(jo(j, "id")));
    json_decref(j);
    /* a value the runtime refuses, on line 2 */
    write_file(ini, "[runtime]\nlog_level = loud\n");
    j = dreq(rt, "reload");
    assert_string_equal(err_code(j), "config");
    snprintf(want, sizeof(want), "%s:2:", ini);
    assert_true(strncmp(err_msg(j), want, strlen(want)) == 0);
    assert_non_null(strstr(err_msg(j), "log_level"));
    json_decref(j);

    j = dreq(rt, "config");
    res = ok_result(j, "config");
    assert_int_equal(ji(res, "generation"), 2); /* the running config stays */
    assert_int_equal(ji(res, "reloads_ok"), 1);
    assert_int_equal(ji(res, "reloads_failed"), 2);
    assert_non_null(strstr(js(res, "last_error"), want));
    json_decref(j);
    assert_int_equal(stat_of(rt, "runtime", "reloads_failed"), 2);

    tr_runtime_destroy(rt);
    done_dir();
}

/* ================================================================== */
/* 3. a panicked child in the tree */

static void test_tree_shows_restart(void **state) {
    (void)state;
    tr_runtime_opts_t o;
    opts_init(&o, NULL);
    tr_runtime_t *rt = rt_make(&o);
    tr_ref_t app = start_tree(rt);
    tr_ref_t w1 = where(rt, "app/w1");
    assert_int_equal(tr_runtime_advance(rt, 250), 0);
    assert_int_equal(tr_runtime_send(rt, w1, MSG_BOOM, NULL, 0), 0);
    tt_drain(rt);
    tr_ref_t w1b = where(rt, "app/w1");
    assert_false(tr_ref_eq(w1, w1b));

    json_t *j = dreq(rt, "tree");
    json_t *root = json_array_get(ja(ok_result(j, "tree"), "roots"), 0);
    char b[32];
    id_str(app, b, sizeof(b));
    assert_string_equal(js(root, "id"), b);
    assert_int_equal(ji(root, "recent_restarts"), 1);
    json_t *k = find_by(ja(root, "children"), "name", "w1");
    assert_non_null(k);
    id_str(w1b, b, sizeof(b));
    assert_string_equal(js(k, "id"), b);
    assert_string_equal(js(k, "state"), "running");
    assert_int_equal(ji(k, "restarts"), 1);
    assert_int_equal(ji(k, "incarnation"), 2);
    json_t *lr = ja(k, "last_restarts");
    assert_int_equal(json_array_size(lr), 1);
    json_t *r0 = json_array_get(lr, 0);
    assert_string_equal(js(r0, "reason"), tr_stop_reason_str(TR_STOP_PANIC));
    assert_non_null(strstr(js(r0, "detail"), "boom from worker 1"));
    assert_int_equal(ji(r0, "time_ms"), 250);
    json_t *w2 = find_by(ja(root, "children"), "name", "w2");
    assert_int_equal(ji(w2, "restarts"), 0);
    assert_int_equal(ji(w2, "incarnation"), 1);
    json_decref(j);

    /* the actor view agrees; the old id is gone */
    j = dreq(rt, "actor app/w1");
    json_t *res = ok_result(j, "actor");
    assert_int_equal(ji(res, "incarnation"), 2);
    json_t *rs = ja(res, "restarts");
    assert_int_equal(json_array_size(rs), 1);
    assert_string_equal(js(json_array_get(rs, 0), "reason"), tr_stop_reason_str(TR_STOP_PANIC));
    json_decref(j);
    id_str(w1, b, sizeof(b));
    char line[64];
    snprintf(line, sizeof(line), "actor %s", b);
    expect_error(rt, line, "not_found");

    /* the flight recorder saw the panic and the restart */
    j = dreq(rt, "trace 1024");
    json_t *evs = ja(ok_result(j, "trace"), "events");
    int panics = 0, restarts = 0;
    size_t i;
    json_t *e;
    json_array_foreach(evs, i, e) {
        if (!strcmp(js(e, "kind"), "panic") && !strcmp(js(e, "actor"), b)) {
            panics++;
            assert_int_equal(ji(e, "arg"), 0); /* tr_panic, not a signal */
        }
        if (!strcmp(js(e, "kind"), "restart")) {
            restarts++;
            assert_int_equal(ji(e, "arg"), 2); /* the new incarnation */
            assert_string_equal(js(e, "actor_path"), "app/w1");
        }
    }
    assert_int_equal(panics, 1);
    assert_int_equal(restarts, 1);
    json_decref(j);
    assert_int_equal(stat_of(rt, "runtime", "restarts"), 1);
    assert_int_equal(stat_of(rt, "runtime", "panics"), 1);
    tr_runtime_destroy(rt);
}

/* ================================================================== */
/* 4. a deadlock: graph, one report, alert, trace */

static void test_deadlock(void **state) {
    (void)state;
    tr_runtime_opts_t o;
    opts_init(&o, NULL);
    o.stall_ms = 1000;
    tr_runtime_t *rt = rt_make(&o);
    memset(&dlg, 0, sizeof(dlg));
    tr_spawn_opts_t so;
    memset(&so, 0, sizeof(so));
    so.name = "dl-a";
    dlg.a = tt_spawn(rt, &a_type, &so);
    so.name = "dl-b";
    dlg.b = tt_spawn(rt, &b_type, &so);
    char aid[32], bid[32];
    id_str(dlg.a, aid, sizeof(aid));
    id_str(dlg.b, bid, sizeof(bid));
    assert_int_equal(tr_runtime_send(rt, dlg.a, MSG_KICK, NULL, 0), 0);
    tt_drain(rt);

    json_t *j = dreq(rt, "waits");
    json_t *res = ok_result(j, "waits");
    json_t *edges = ja(res, "edges");
    assert_int_equal(json_array_size(edges), 2);
    json_t *ab = find_by(edges, "caller", aid), *ba = find_by(edges, "caller", bid);
    assert_non_null(ab);
    assert_non_null(ba);
    assert_string_equal(js(ab, "callee"), bid);
    assert_string_equal(js(ab, "caller_path"), "dl-a");
    assert_string_equal(js(ab, "callee_path"), "dl-b");
    assert_string_equal(js(ab, "msg"), "MSG_REQ");
    assert_int_equal(ji(ab, "msg_type"), MSG_REQ);
    assert_string_equal(js(ab, "state"), "kept");
    jnull(ab, "timeout_ms");
    assert_int_equal(ji(ab, "age_ms"), 0);
    assert_string_equal(js(ba, "callee"), aid);
    assert_string_equal(js(ba, "msg"), "MSG_REQ_BACK");
    assert_string_equal(js(ba, "state"), "kept");
    json_t *cycles = ja(res, "cycles");
    assert_int_equal(json_array_size(cycles), 1);
    json_t *cy = json_array_get(cycles, 0);
    assert_int_equal(json_array_size(ja(cy, "actors")), 2);
    assert_true(arr_has(ja(cy, "actors"), aid));
    assert_true(arr_has(ja(cy, "actors"), bid));
    assert_true(arr_has(ja(cy, "paths"), "dl-a"));
    assert_true(arr_has(ja(cy, "paths"), "dl-b"));
    assert_int_equal(json_array_size(ja(res, "stalls")), 0);
    json_decref(j);

    /* each side holds one kept reply and one pending call */
    j = dreq(rt, "actor dl-a");
    res = ok_result(j, "actor");
    assert_int_equal(ji(res, "pending_calls"), 1);
    assert_int_equal(ji(res, "kept_replies"), 1);
    json_t *call = json_array_get(ja(res, "calls"), 0);
    assert_string_equal(js(call, "callee"), bid);
    assert_string_equal(js(call, "msg"), "MSG_REQ");
    json_t *kept = json_array_get(ja(res, "kept"), 0);
    assert_string_equal(js(kept, "caller"), bid);
    assert_string_equal(js(kept, "msg"), "MSG_REQ_BACK");
    json_decref(j);

    /* not before the threshold */
    assert_int_equal(tr_runtime_advance(rt, 999), 0);
    assert_int_equal(diag_snapshot().n, 0);
    j = dreq(rt, "waits");
    assert_int_equal(ji(json_array_get(ja(ok_result(j, "waits"), "edges"), 0), "age_ms"), 999);
    json_decref(j);
    /* exactly one report once it is reached, and never again */
    assert_int_equal(tr_runtime_advance(rt, 1), 0);
    diag_rec_t d = diag_snapshot();
    assert_int_equal(d.n, 1);
    assert_int_equal(d.kind, TR_DIAG_DEADLOCK);
    assert_int_equal(d.n_deadlock, 1);
    assert_int_equal(d.seq, 1);
    assert_int_equal(d.runtime_ms, 1000);
    assert_true(d.age_ms >= 1000);
    assert_true(d.nchain >= 3);
    /* the chain loops: its last element is an earlier one */
    char aname[64], bname[64];
    snprintf(aname, sizeof(aname), "(%s)", aid);
    snprintf(bname, sizeof(bname), "(%s)", bid);
    int has_a = 0, has_b = 0;
    for (size_t i = 0; i < d.nchain && i < 16; i++) {
        has_a += strstr(d.chain[i], aname) != NULL;
        has_b += strstr(d.chain[i], bname) != NULL;
    }
    assert_true(has_a >= 1 && has_b >= 1 && has_a + has_b == (int)d.nchain);
    int looped = 0;
    for (size_t i = 0; i + 1 < d.nchain; i++)
        looped = looped || strcmp(d.chain[i], d.chain[d.nchain - 1]) == 0;
    assert_true(looped);
    assert_non_null(strstr(d.text, "deadlock"));
    assert_true(tr_ref_eq(d.actor, dlg.a) || tr_ref_eq(d.actor, dlg.b));
    assert_true(d.msg_type == MSG_REQ || d.msg_type == MSG_REQ_BACK);
    assert_true(log_has("deadlock"));
    assert_int_equal(tr_runtime_advance(rt, 10000), 0);
    assert_int_equal(diag_snapshot().n, 1);

    j = dreq(rt, "alerts");
    json_t *al = ja(ok_result(j, "alerts"), "alerts");
    assert_int_equal(json_array_size(al), 1);
    json_t *a0 = json_array_get(al, 0);
    assert_string_equal(js(a0, "kind"), "deadlock");
    assert_int_equal(ji(a0, "seq"), 1);
    assert_int_equal(ji(a0, "runtime_ms"), 1000);
    assert_true(ji(a0, "wall_ms") > 1600000000000LL);
    assert_int_equal((long long)json_array_size(ja(a0, "chain")), (long long)d.nchain);
    assert_string_equal(js(a0, "text"), d.text);
    assert_int_equal(json_array_size(ja(a0, "backtrace")), 0);
    json_decref(j);

    j = dreq(rt, "trace 1024");
    json_t *evs = ja(ok_result(j, "trace"), "events");
    int stalls = 0;
    size_t i;
    json_t *e;
    json_array_foreach(evs, i, e) {
        if (strcmp(js(e, "kind"), "stall") != 0) continue;
        stalls++;
        assert_string_equal(js(e, "actor"), (tr_ref_eq(d.actor, dlg.a) ? aid : bid));
        assert_int_equal(ji(e, "time_ms"), 1000); /* when found, not the last pass */
        assert_int_equal(ji(e, "arg"), 1000);     /* the call's age */
    }
    /* A's call to B: a send with arg 1 (a call) */
    int calls = 0;
    json_array_foreach(evs, i, e) {
        if (strcmp(js(e, "kind"), "send") != 0 || !json_is_string(jo(e, "actor"))) continue;
        if (strcmp(js(e, "actor"), aid) != 0 || strcmp(js(e, "peer"), bid) != 0) continue;
        calls++;
        assert_int_equal(ji(e, "arg"), 1);
        assert_string_equal(js(e, "msg"), "MSG_REQ");
    }
    assert_int_equal(calls, 1);
    assert_int_equal(stalls, 1);
    json_decref(j);
    j = dreq(rt, "stats");
    json_t *dg = jobj(ok_result(j, "stats"), "diagnostics");
    assert_int_equal(ji(dg, "deadlocks"), 1);
    assert_int_equal(ji(dg, "stalls"), 0);
    json_decref(j);

    /* stop A: the reply it kept resolves DropWithoutReport for B */
    assert_int_equal(tr_stop(rt, dlg.a), 0);
    tt_drain(rt);
    assert_int_equal(dlg.b_conts, 1);
    assert_int_equal(dlg.b_status, TR_EDROPPED);
    assert_int_equal(dlg.b_drop, TR_DROP_STOPPED);
    assert_int_equal(dlg.a_conts, 0);
    j = dreq(rt, "waits");
    res = ok_result(j, "waits");
    assert_int_equal(json_array_size(ja(res, "edges")), 0);
    assert_int_equal(json_array_size(ja(res, "cycles")), 0);
    json_decref(j);
    assert_int_equal(tr_stop(rt, dlg.b), 0);
    tt_drain(rt);
    tt_assert_chan_balance(rt);
    assert_int_equal(tr_runtime_verify(rt), 0);
    tr_runtime_destroy(rt);
}

/* ================================================================== */
/* 5. stalls */

static void test_stall_two(void **state) {
    (void)state;
    tr_runtime_opts_t o;
    opts_init(&o, NULL);
    o.stall_ms = 1000;
    tr_runtime_t *rt = rt_make(&o);
    tr_ref_t y = spawn_node(rt, "y", TR_REF_NONE);
    tr_ref_t x = spawn_node(rt, "x", y);
    char xid[32], yid[32];
    id_str(x, xid, sizeof(xid));
    id_str(y, yid, sizeof(yid));
    assert_int_equal(tr_runtime_send(rt, x, MSG_GO, NULL, 0), 0);
    tt_drain(rt);

    json_t *j = dreq(rt, "waits");
    json_t *res = ok_result(j, "waits");
    assert_int_equal(json_array_size(ja(res, "edges")), 1);
    assert_int_equal(json_array_size(ja(res, "cycles")), 0);
    json_t *stalls = ja(res, "stalls");
    assert_int_equal(json_array_size(stalls), 1);
    json_t *s0 = json_array_get(stalls, 0);
    assert_string_equal(js(s0, "end"), yid);
    assert_string_equal(js(s0, "end_path"), "y");
    json_t *ch = ja(s0, "chain");
    assert_int_equal(json_array_size(ch), 2);
    assert_string_equal(json_string_value(json_array_get(ch, 0)), xid);
    assert_string_equal(json_string_value(json_array_get(ch, 1)), yid);
    json_t *ps = ja(s0, "paths");
    assert_string_equal(json_string_value(json_array_get(ps, 0)), "x");
    assert_string_equal(json_string_value(json_array_get(ps, 1)), "y");
    assert_int_equal(ji(s0, "blocked"), 1);
    assert_int_equal(ji(s0, "age_ms"), 0);
    json_decref(j);

    /* threshold - 1: nothing; at the threshold: one STALL */
    assert_int_equal(tr_runtime_advance(rt, 999), 0);
    assert_int_equal(diag_snapshot().n, 0);
    j = dreq(rt, "waits");
    assert_int_equal(ji(json_array_get(ja(ok_result(j, "waits"), "stalls"), 0), "age_ms"), 999);
    json_decref(j);
    assert_int_equal(tr_runtime_advance(rt, 1), 0);
    diag_rec_t d = diag_snapshot();
    assert_int_equal(d.n, 1);
    assert_int_equal(d.kind, TR_DIAG_STALL);
    assert_true(tr_ref_eq(d.actor, x));
    assert_string_equal(d.path, "x");
    assert_int_equal(d.msg_type, MSG_REQ);
    assert_string_equal(d.msg_name, "MSG_REQ");
    assert_int_equal(d.age_ms, 1000);
    assert_int_equal(d.nchain, 2);
    char want[64];
    snprintf(want, sizeof(want), "x (%s)", xid);
    assert_string_equal(d.chain[0], want);
    snprintf(want, sizeof(want), "y (%s)", yid);
    assert_string_equal(d.chain[1], want);
    assert_non_null(strstr(d.text, "stall"));
    assert_int_equal(tr_runtime_advance(rt, 5000), 0);
    assert_int_equal(diag_snapshot().n, 1);
    j = dreq(rt, "alerts");
    json_t *a0 = json_array_get(ja(ok_result(j, "alerts"), "alerts"), 0);
    assert_string_equal(js(a0, "kind"), "stall");
    assert_string_equal(js(a0, "actor"), xid);
    assert_string_equal(js(a0, "path"), "x");
    assert_string_equal(js(a0, "msg"), "MSG_REQ");
    assert_int_equal(ji(a0, "age_ms"), 1000);
    json_decref(j);
    assert_int_equal(stat_of(rt, "diagnostics", "stalls"), 1);

    /* y answers nothing and stops: x is told, the graph is empty */
    assert_int_equal(tr_stop(rt, y), 0);
    tt_drain(rt);
    j = dreq(rt, "waits");
    assert_int_equal(json_array_size(ja(ok_result(j, "waits"), "stalls")), 0);
    json_decref(j);
    tt_assert_chan_balance(rt);
    tr_runtime_destroy(rt);
}

static void test_stall_chain_and_timer(void **state) {
    (void)state;
    tr_runtime_opts_t o;
    opts_init(&o, NULL);
    o.stall_ms = 1000;
    /* one report per chain needs the chain on one scheduler: each
     * scheduler's detector reports its own callers' calls (across
     * schedulers a chain is reported by each scheduler it starts on) */
    o.schedulers = 1;
    tr_runtime_t *rt = rt_make(&o);
    tr_ref_t z = spawn_node(rt, "z", TR_REF_NONE);
    tr_ref_t y = spawn_node(rt, "y", z);
    tr_ref_t x = spawn_node(rt, "x", y);
    /* a separate pair whose callee has an armed timer: not a stall */
    tr_ref_t q = spawn_node(rt, "q", TR_REF_NONE);
    tr_ref_t p = spawn_node(rt, "p", q);
    assert_int_equal(tr_runtime_send(rt, q, MSG_ARM, NULL, 0), 0);
    tt_drain(rt);
    assert_int_equal(tr_runtime_send(rt, x, MSG_GO, NULL, 0), 0);
    assert_int_equal(tr_runtime_send(rt, p, MSG_GO, NULL, 0), 0);
    tt_drain(rt);
    char xid[32], yid[32], zid[32], qid[32];
    id_str(x, xid, sizeof(xid));
    id_str(y, yid, sizeof(yid));
    id_str(z, zid, sizeof(zid));
    id_str(q, qid, sizeof(qid));

    json_t *j = dreq(rt, "waits");
    json_t *res = ok_result(j, "waits");
    assert_int_equal(json_array_size(ja(res, "edges")), 3);
    json_t *pq = find_by(ja(res, "edges"), "callee", qid);
    assert_non_null(pq);
    assert_string_equal(js(pq, "state"), "kept");
    json_t *stalls = ja(res, "stalls");
    assert_int_equal(json_array_size(stalls), 1); /* q has a timer: it may still answer */
    json_t *s0 = json_array_get(stalls, 0);
    assert_string_equal(js(s0, "end"), zid);
    json_t *ch = ja(s0, "chain");
    assert_int_equal(json_array_size(ch), 3);
    assert_string_equal(json_string_value(json_array_get(ch, 0)), xid);
    assert_string_equal(json_string_value(json_array_get(ch, 1)), yid);
    assert_string_equal(json_string_value(json_array_get(ch, 2)), zid);
    assert_int_equal(ji(s0, "blocked"), 2);
    json_decref(j);
    j = dreq(rt, "actor q");
    assert_int_equal(ji(ok_result(j, "actor"), "timers"), 1);
    json_decref(j);

    /* the detector reports calls by age alone: the chain x -> y -> z once
     * (with its 3 links), and p -> q (timers do not count there) */
    assert_int_equal(tr_runtime_advance(rt, 999), 0);
    assert_int_equal(diag_snapshot().n, 0);
    assert_int_equal(tr_runtime_advance(rt, 1), 0);
    diag_rec_t d = diag_snapshot();
    assert_int_equal(d.n_stall, 2);
    assert_int_equal(d.n, 2);
    assert_true(tr_ref_eq(d.actor, x)); /* the oldest call first */
    assert_int_equal(d.nchain, 3);
    char want[64];
    snprintf(want, sizeof(want), "z (%s)", zid);
    assert_string_equal(d.chain[2], want);
    j = dreq(rt, "alerts");
    json_t *al = ja(ok_result(j, "alerts"), "alerts");
    assert_int_equal(json_array_size(al), 2);
    assert_int_equal(json_array_size(ja(json_array_get(al, 0), "chain")), 3);
    assert_int_equal(json_array_size(ja(json_array_get(al, 1), "chain")), 2);
    assert_string_equal(js(json_array_get(al, 1), "path"), "p");
    json_decref(j);
    j = dreq(rt, "alerts 1"); /* the last one only */
    al = ja(ok_result(j, "alerts"), "alerts");
    assert_int_equal(json_array_size(al), 1);
    assert_int_equal(ji(json_array_get(al, 0), "seq"), 2);
    json_decref(j);
    tr_runtime_destroy(rt);
}

/* The detector must still work for calls made after a quiet period (no call
 * pending when its first check ran). */
static void test_stall_after_quiet_period(void **state) {
    (void)state;
    tr_runtime_opts_t o;
    opts_init(&o, NULL);
    o.stall_ms = 1000;
    tr_runtime_t *rt = rt_make(&o);
    tr_ref_t y = spawn_node(rt, "y", TR_REF_NONE);
    tr_ref_t x = spawn_node(rt, "x", y);
    assert_int_equal(tr_runtime_advance(rt, 5000), 0); /* idle: nothing pending */
    assert_int_equal(tr_runtime_send(rt, x, MSG_GO, NULL, 0), 0);
    tt_drain(rt);
    assert_int_equal(tr_runtime_advance(rt, 3000), 0);
    diag_rec_t d = diag_snapshot();
    if (d.n != 1)
        fprintf(stderr, "runtime/diag.c: a call made after the first stall check found "
                        "nothing pending is not reported (%d reports after 3 thresholds)\n",
                d.n);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.kind, TR_DIAG_STALL);
    assert_true(d.age_ms >= 1000);
    tr_runtime_destroy(rt);
}

/* A tr_call_sync thread is a node of its own ("(thread)"); a call with a
 * timeout shows it, and goes away when it expires. */
typedef struct sync_arg_s {
    tr_runtime_t *rt;
    tr_ref_t to;
    int rc, status;
    tr_drop_reason_t drop;
} sync_arg_t;

static void *sync_caller(void *p) {
    sync_arg_t *a = p;
    tr_result_t r;
    a->rc = tr_call_sync(a->rt, a->to, MSG_REQ, NULL, 0, &r, 0);
    a->status = r.status;
    a->drop = r.drop_reason;
    tr_result_release(&r);
    return NULL;
}

static int edges_now(tr_runtime_t *rt) {
    json_t *j = dreq(rt, "waits");
    int n = (int)json_array_size(ja(ok_result(j, "waits"), "edges"));
    json_decref(j);
    return n;
}

static int pred_two_edges(void *rt) { return edges_now(rt) == 2; }

static void test_waits_thread_and_timeout(void **state) {
    (void)state;
    tr_runtime_opts_t o;
    opts_init(&o, NULL);
    o.stall_ms = 1000;
    tr_runtime_t *rt = rt_make(&o);
    tr_ref_t y = spawn_node(rt, "y", TR_REF_NONE);
    tr_ref_t t = spawn_node(rt, "t", TR_REF_NONE);
    tr_ref_t x = spawn_node(rt, "x", t);
    char yid[32], tid[32], xid[32];
    id_str(y, yid, sizeof(yid));
    id_str(t, tid, sizeof(tid));
    id_str(x, xid, sizeof(xid));
    assert_int_equal(tr_runtime_send(rt, x, MSG_GO_TIMEOUT, NULL, 0), 0);
    tt_drain(rt);
    sync_arg_t a = {rt, y, 99, 99, TR_DROP_NONE};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, sync_caller, &a), 0);
    assert_int_equal(tr_runtime_run_until(rt, pred_two_edges, rt), 0);
    tt_drain(rt); /* y takes the request and keeps its reply */

    json_t *j = dreq(rt, "waits");
    json_t *res = ok_result(j, "waits");
    json_t *te = find_by(ja(res, "edges"), "callee", yid);
    assert_non_null(te);
    jnull(te, "caller");
    assert_string_equal(js(te, "caller_path"), "(thread)");
    assert_string_equal(js(te, "callee_path"), "y");
    assert_string_equal(js(te, "state"), "kept");
    jnull(te, "timeout_ms");
    json_t *xe = find_by(ja(res, "edges"), "caller", xid);
    assert_non_null(xe);
    assert_int_equal(ji(xe, "timeout_ms"), 5000);
    json_t *stalls = ja(res, "stalls");
    assert_int_equal(json_array_size(stalls), 2);
    json_t *ys = find_by(stalls, "end", yid);
    assert_non_null(ys);
    json_t *ch = ja(ys, "chain");
    assert_int_equal(json_array_size(ch), 2);
    assert_true(json_is_null(json_array_get(ch, 0)));
    assert_string_equal(json_string_value(json_array_get(ch, 1)), yid);
    assert_string_equal(json_string_value(json_array_get(ja(ys, "paths"), 0)), "(thread)");
    assert_int_equal(ji(ys, "blocked"), 1);
    assert_non_null(find_by(stalls, "end", tid));
    json_decref(j);

    /* both calls are reported once past the threshold; the thread's with
     * no actor */
    assert_int_equal(tr_runtime_advance(rt, 1000), 0);
    diag_rec_t d = diag_snapshot();
    assert_int_equal(d.n_stall, 2);
    j = dreq(rt, "alerts");
    json_t *al = ja(ok_result(j, "alerts"), "alerts");
    assert_int_equal(json_array_size(al), 2);
    json_t *ta = find_by(al, "path", "(thread)");
    assert_non_null(ta);
    jnull(ta, "actor");
    assert_non_null(find_by(al, "actor", xid));
    json_decref(j);

    /* the timeout expires: that edge goes, the thread's stays */
    assert_int_equal(tr_runtime_advance(rt, 4000), 0);
    assert_int_equal(edges_now(rt), 1);
    assert_int_equal(tr_stop(rt, y), 0);
    tt_drain(rt);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(a.rc, 0);
    assert_int_equal(a.status, TR_EDROPPED);
    assert_int_equal(a.drop, TR_DROP_STOPPED);
    assert_int_equal(edges_now(rt), 0);
    tr_runtime_destroy(rt);
}

/* ================================================================== */
/* 6. the watchdog */

static void test_watchdog_reports_hung_handler(void **state) {
    (void)state;
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    hang.rfd = pfd[0];
    hang.released = hang.timed_out = 0;
    tr_runtime_opts_t o;
    opts_init(&o, NULL);
    o.watchdog_ms = 50;
    o.handler_timing = 1;
    wd_wake_fd = pfd[1];
    tr_runtime_t *rt = rt_make(&o);
    tr_spawn_opts_t so;
    memset(&so, 0, sizeof(so));
    so.name = "sleeper";
    tr_ref_t h = tt_spawn(rt, &hang_type, &so);
    assert_int_equal(tr_runtime_send(rt, h, MSG_HANG, NULL, 0), 0);
    tt_drain(rt); /* returns once the report has released the handler */
    assert_int_equal(hang.timed_out, 0);
    assert_int_equal(hang.released, 1);

    diag_rec_t d = diag_snapshot();
    assert_int_equal(d.n, 1);
    assert_int_equal(d.kind, TR_DIAG_HUNG);
    assert_true(tr_ref_eq(d.actor, h));
    assert_int_equal(d.msg_type, MSG_HANG);
    assert_string_equal(d.msg_name, "MSG_HANG");
    assert_true(d.age_ms >= 50);
    assert_int_equal(d.runtime_ms, 0);
    assert_true(strlen(d.path) > 0);
    assert_non_null(strstr(d.text, "hung handler"));
    assert_int_equal(d.nchain, 0);
    if (!TT_TSAN) {
        assert_true(d.nframes > 0);
        /* frames are named with dladdr (the signal handler may not
         * allocate): exported symbols by name, like libc's poll that the
         * handler blocks in; static functions as module+offset */
        if (!strstr(d.frames, "poll"))
            fprintf(stderr, "note: the watchdog's backtrace misses poll: %.400s\n", d.frames);
        assert_non_null(strstr(d.frames, "poll"));
    }
    assert_true(log_has("hung handler"));

    json_t *j = dreq(rt, "alerts");
    json_t *al = ja(ok_result(j, "alerts"), "alerts");
    assert_int_equal(json_array_size(al), 1);
    json_t *a0 = json_array_get(al, 0);
    assert_string_equal(js(a0, "kind"), "hung_handler");
    char hid[32];
    id_str(h, hid, sizeof(hid));
    assert_string_equal(js(a0, "actor"), hid);
    assert_string_equal(js(a0, "msg"), "MSG_HANG");
    assert_int_equal(ji(a0, "msg_type"), MSG_HANG);
    assert_true(ji(a0, "age_ms") >= 50);
    assert_int_equal((long long)json_array_size(ja(a0, "backtrace")), (long long)d.nframes);
    json_decref(j);
    assert_int_equal(stat_of(rt, "diagnostics", "hung_handlers"), 1);
    j = dreq(rt, "actor sleeper");
    assert_true(ji(ok_result(j, "actor"), "busy_us") >= 50000); /* handler_timing */
    json_decref(j);

    /* a handler that returns in time is not reported */
    assert_int_equal(tr_runtime_send(rt, h, MSG_HANG, NULL, 0), 0);
    assert_int_equal(write(pfd[1], "y", 1), 1); /* already released */
    tt_drain(rt);
    assert_int_equal(diag_snapshot().n, 1);

    tr_runtime_destroy(rt);
    wd_wake_fd = -1;
    close(pfd[0]);
    close(pfd[1]);
}

/* Regression (fixed in 241b99e): the watchdog's SIGURG handler used to
 * symbolize the stack with libunwind's unw_get_proc_name, which mallocs
 * (_Ux86_64_get_elf_image). A handler interrupted while holding the malloc
 * arena lock then deadlocked inside the signal handler, and the watchdog
 * thread waited on wd_bt_done for good: no report, and a slow handler
 * became a permanent hang. Deterministic with glibc: malloc_stats() holds
 * main_arena's lock while it writes to stderr, here a full pipe, and the
 * per-thread cache is emptied first so the next small malloc must lock.
 * Forked, so a deadlock can be killed; skipped under TSan (fork), where
 * test_watchdog_reports_hung_handler catches a malloc in the signal handler
 * as "signal-unsafe call inside of a signal". */
static int mh_err_r = -1, mh_rel_r = -1, mh_rel_w = -1;

static void *mh_drain(void *arg) {
    (void)arg;
    char junk[4096];
    for (;;) { /* until the child exits */
        struct pollfd p = {mh_err_r, POLLIN, 0};
        if (poll(&p, 1, -1) < 0 && errno != EINTR) break;
        while (read(mh_err_r, junk, sizeof(junk)) > 0) {
        }
    }
    return NULL;
}

static void mh_hook(void *arg, const tr_diag_t *d) {
    (void)arg;
    if (d->kind != TR_DIAG_HUNG) return;
    pthread_t t; /* let malloc_stats finish: read stderr from now on */
    if (pthread_create(&t, NULL, mh_drain, NULL) == 0) pthread_detach(t);
    (void)!write(mh_rel_w, "x", 1);
}

static void mh_handler(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    (void)ctx, (void)state, (void)msg;
    /* empty glibc's per-thread cache of small chunks, so that the next
     * small malloc must take the arena lock (the child exits, never frees) */
    static void *volatile keep;
    for (size_t sz = 8; sz <= 1100; sz += 8)
        for (int k = 0; k < 16; k++) keep = malloc(sz);
    (void)keep;
    malloc_stats(); /* glibc: main_arena locked while writing to the full stderr */
    struct pollfd p = {mh_rel_r, POLLIN, 0};
    (void)poll(&p, 1, 20000);
}

static const tr_handler_t mh_handlers[] = {
    TR_ON_EMPTY(MSG_HANG, mh_handler),
    TR_END,
};
static const tr_actor_type_t mh_type = {.name = "malloc_hanger", .handlers = mh_handlers};

static void child_malloc_hang(int done_fd) {
    int ep[2], rp[2];
    if (pipe(ep) || pipe(rp)) _exit(30);
    (void)fcntl(ep[1], F_SETPIPE_SZ, 4096);
    if (fcntl(ep[1], F_SETFL, O_NONBLOCK) || fcntl(ep[0], F_SETFL, O_NONBLOCK)) _exit(31);
    char junk[4096];
    memset(junk, 'j', sizeof(junk));
    while (write(ep[1], junk, sizeof(junk)) > 0) {
    }
    if (fcntl(ep[1], F_SETFL, 0)) _exit(32);
    mh_err_r = ep[0];
    mh_rel_r = rp[0];
    mh_rel_w = rp[1];
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof(o));
    o.watchdog_ms = 50;
    o.log = tt_quiet_log;
    o.on_diag = mh_hook;
    tr_runtime_t *rt = NULL;
    if (tr_runtime_create(&o, &rt)) _exit(33);
    tr_ref_t r;
    if (tr_spawn(rt, &mh_type, NULL, &r)) _exit(34);
    if (dup2(ep[1], 2) < 0) _exit(35); /* stderr is now a full pipe */
    setvbuf(stderr, NULL, _IONBF, 0);   /* and unbuffered: writes block at once */
    if (tr_runtime_send(rt, r, MSG_HANG, NULL, 0)) _exit(36);
    tr_runtime_run_until_idle(rt);
    tr_runtime_destroy(rt);
    (void)!write(done_fd, "k", 1);
    _exit(0);
}

static void test_watchdog_survives_hang_holding_malloc_lock(void **state) {
    (void)state;
    if (TT_TSAN) {
        print_message("skipped: fork() is not supported under ThreadSanitizer\n");
        skip();
    }
    int done[2];
    assert_int_equal(pipe(done), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(done[0]);
        child_malloc_hang(done[1]);
    }
    close(done[1]);
    struct pollfd p = {done[0], POLLIN, 0};
    int r;
    do r = poll(&p, 1, 3000); /* a bound: a fixed runtime answers in ~60 ms */
    while (r < 0 && errno == EINTR);
    char b = 0;
    int ok = r == 1 && read(done[0], &b, 1) == 1 && b == 'k';
    close(done[0]);
    if (!ok) {
        kill(pid, SIGKILL);
        fprintf(stderr, "runtime/diag.c on_wd_signal: no HUNG report within 3 s; the backtrace "
                        "taken in SIGURG must not malloc: a handler hung holding the malloc "
                        "lock deadlocks the scheduler and the watchdog for good\n");
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(ok);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ================================================================== */
/* 7. another uid is refused (root only: the children become nobody) */

static void become_nobody(void) {
    if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(10);
    if (geteuid() != 65534) _exit(11);
}

/* child: connecting through the private directory must fail with EACCES */
static void child_expect_eacces(const char *sock) {
    alarm(20);
    become_nobody();
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) _exit(12);
    struct sockaddr_un sa;
    fill_sun(&sa, sock);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) _exit(13);
    _exit(errno == EACCES ? 0 : 14);
}

/* child: connected, it must read exactly one `refused` line, then EOF */
static void child_expect_refused(const char *sock) {
    alarm(20);
    become_nobody();
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) _exit(12);
    struct sockaddr_un sa;
    fill_sun(&sa, sock);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) _exit(20);
    char buf[4096];
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (r == 0) break;
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) _exit(21);
        len += (size_t)r;
        if (len >= sizeof(buf) - 1) _exit(22);
    }
    buf[len] = 0;
    char *nl = strchr(buf, '\n');
    if (!nl || nl[1] != 0) _exit(23); /* exactly one line */
    if (!strstr(buf, "\"code\":\"refused\"")) _exit(24);
    if (!strstr(buf, "\"ok\":false")) _exit(25);
    if (strstr(buf, "\"hello\"")) _exit(26); /* no hello for a refused peer */
    _exit(0);
}

static int pred_refused(void *arg) { return stat_of(arg, "debug", "refused") >= 1; }

static int wait_child(pid_t pid) {
    int st = 0;
    pid_t r;
    do r = waitpid(pid, &st, 0);
    while (r < 0 && errno == EINTR);
    assert_int_equal(r, pid);
    if (!WIFEXITED(st)) fail_msg("child did not exit normally (status 0x%x)", st);
    return WEXITSTATUS(st);
}

static void test_other_uid_refused(void **state) {
    (void)state;
    if (TT_TSAN) {
        print_message("skipped: fork() is not supported under ThreadSanitizer\n");
        skip();
    }
    if (geteuid() != 0) {
        print_message("skipped: needs root to run a client as uid 65534 (nobody)\n");
        skip();
    }
    char sock[128];
    const char *dir = make_dir(sock, sizeof(sock));
    tr_runtime_opts_t o;
    opts_init(&o, sock);
    o.watchdog_ms = -1; /* no thread: fork is clean */
    tr_runtime_t *rt = rt_make(&o);

    /* first layer: the directory and the file keep nobody out */
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) child_expect_eacces(sock);
    assert_int_equal(wait_child(pid), 0);

    /* second layer: loosen the permissions on purpose; SO_PEERCRED refuses */
    assert_int_equal(chmod(dir, 0711), 0);
    assert_int_equal(chmod(sock, 0666), 0);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) child_expect_refused(sock);
    assert_int_equal(tr_runtime_run_until(rt, pred_refused, rt), 0);
    int code = wait_child(pid);
    if (code) fprintf(stderr, "refused child exited %d\n", code);
    assert_int_equal(code, 0);
    assert_int_equal(stat_of(rt, "debug", "refused"), 1);
    assert_int_equal(stat_of(rt, "debug", "accepted"), 0);
    assert_int_equal(stat_of(rt, "debug", "clients"), 0);
    char want[96];
    snprintf(want, sizeof(want), "refused pid %ld uid 65534", (long)pid);
    assert_true(log_has(want));

    /* our own uid still gets in */
    cl_t c;
    cl_hello(rt, &c, sock);
    cl_close(&c);
    tr_runtime_destroy(rt);
    done_dir();
}

/* ================================================================== */
/* 8. hostile input */

typedef struct bigw_s {
    cl_t *c;
    const char *data;
    size_t len, off;
} bigw_t;

/* Write as much as the socket takes; done when everything is written. */
static int pred_written(void *arg) {
    bigw_t *w = arg;
    while (w->off < w->len) {
        ssize_t n = send(w->c->fd, w->data + w->off, w->len - w->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            w->off += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
        fail_msg("send: %s", strerror(errno));
    }
    cl_pump(w->c);
    return w->off == w->len;
}

/* (a) a 1 MiB line: one too_long, and the connection lives on */
static void test_overlong_line(void **state) {
    (void)state;
    char sock[128];
    make_dir(sock, sizeof(sock));
    tr_runtime_opts_t o;
    opts_init(&o, sock);
    tr_runtime_t *rt = rt_make(&o);
    cl_t c;
    cl_hello(rt, &c, sock);

    size_t n = 1u << 20;
    char *big = malloc(n + 1);
    assert_non_null(big);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        char ch = (char)(' ' + (x >> 16) % 95); /* printable, never a newline */
        big[i] = ch;
    }
    big[0] = '{';
    big[n] = '\n';
    bigw_t w = {&c, big, n + 1, 0};
    assert_int_equal(tr_runtime_run_until(rt, pred_written, &w), 0);
    free(big);

    json_t *j = cl_req(rt, &c, "{\"cmd\":\"stats\",\"id\":1}");
    assert_string_equal(err_code(j), "too_long");
    assert_null(json_object_get(j, "id"));
    json_decref(j);
    j = cl_read(rt, &c);
    json_t *res = ok_result(j, "stats");
    assert_int_equal(ji(j, "id"), 1);
    assert_int_equal(ji(jobj(res, "debug"), "errors"), 1);
    json_decref(j);
    assert_false(cl_has_line(&c));

    /* 65535 bytes is still a request (65536 or more is too_long) */
    size_t m = 65535;
    char *edge = malloc(m + 2);
    assert_non_null(edge);
    static const char head[] = "{\"cmd\":\"help\",\"pad\":\"";
    memcpy(edge, head, sizeof(head) - 1);
    memset(edge + sizeof(head) - 1, 'p', m - (sizeof(head) - 1) - 2);
    memcpy(edge + m - 2, "\"}", 2);
    edge[m] = '\n';
    bigw_t w2 = {&c, edge, m + 1, 0};
    assert_int_equal(tr_runtime_run_until(rt, pred_written, &w2), 0);
    free(edge);
    j = cl_read(rt, &c);
    ok_result(j, "help");
    json_decref(j);
    m = 65536;
    edge = malloc(m + 2);
    assert_non_null(edge);
    memcpy(edge, head, sizeof(head) - 1);
    memset(edge + sizeof(head) - 1, 'p', m - (sizeof(head) - 1) - 2);
    memcpy(edge + m - 2, "\"}", 2);
    edge[m] = '\n';
    bigw_t w3 = {&c, edge, m + 1, 0};
    assert_int_equal(tr_runtime_run_until(rt, pred_written, &w3), 0);
    free(edge);
    j = cl_read(rt, &c);
    assert_string_equal(err_code(j), "too_long");
    json_decref(j);
    j = cl_req(rt, &c, "help");
    ok_result(j, "help");
    json_decref(j);
    assert_false(cl_has_line(&c));

    cl_close(&c);
    tr_runtime_destroy(rt);
    done_dir();
}

/* A request line of `m` bytes (no newline): valid JSON, padded. */
static char *padded_request(size_t m) {
    char *line = malloc(m + 2);
    assert_non_null(line);
    static const char head[] = "{\"cmd\":\"stats\",\"pad\":\"";
    memcpy(line, head, sizeof(head) - 1);
    memset(line + sizeof(head) - 1, 'p', m - (sizeof(head) - 1) - 2);
    memcpy(line + m - 2, "\"}", 2);
    line[m] = '\n';
    line[m + 1] = 0;
    return line;
}

/* A line over the 65536-byte limit that arrives whole (70000 bytes, one
 * write, read by one recv) is too_long too, not answered. */
static void test_line_over_limit_in_one_piece_socket(void **state) {
    (void)state;
    char sock[128];
    make_dir(sock, sizeof(sock));
    tr_runtime_opts_t o;
    opts_init(&o, sock);
    tr_runtime_t *rt = rt_make(&o);
    cl_t c;
    cl_hello(rt, &c, sock);
    size_t m = 70000;
    char *line = padded_request(m);
    cl_send(&c, line, m + 1); /* fits the socket buffer: the server reads it at once */
    free(line);
    json_t *j = cl_read(rt, &c);
    const char *code = json_is_false(json_object_get(j, "ok")) ? err_code(j) : "(answered ok)";
    if (strcmp(code, "too_long") != 0)
        fprintf(stderr, "runtime/debug.c process: a %zu-byte request line read in one recv "
                        "gets %s instead of too_long\n", m, code);
    assert_string_equal(code, "too_long");
    json_decref(j);
    cl_close(&c);
    tr_runtime_destroy(rt);
    done_dir();
}

/* tr_debug_request has "the same parser, commands and limits" as the
 * socket: a 70000-byte request is too_long there too. */
static void test_line_over_limit_in_process(void **state) {
    (void)state;
    tr_runtime_opts_t o;
    opts_init(&o, NULL);
    tr_runtime_t *rt = rt_make(&o);
    size_t m = 70000;
    char *line = padded_request(m);
    char *out = NULL;
    assert_int_equal(tr_debug_request(rt, line, m, &out), 0);
    free(line);
    json_t *j = parse_line(out);
    free(out);
    const char *code = json_is_false(json_object_get(j, "ok")) ? err_code(j) : "(answered ok)";
    if (strcmp(code, "too_long") != 0)
        fprintf(stderr, "runtime/debug_cmd.c tr__debug_exec: tr_debug_request with a %zu-byte "
                        "line gets %s instead of too_long\n", m, code);
    assert_string_equal(code, "too_long");
    json_decref(j);
    tr_runtime_destroy(rt);
}

/* (b) binary junk */
static void test_binary_junk(void **state) {
    (void)state;
    char sock[128];
    make_dir(sock, sizeof(sock));
    tr_runtime_opts_t o;
    opts_init(&o, sock);
    tr_runtime_t *rt = rt_make(&o);
    cl_t c;
    cl_hello(rt, &c, sock);

    static const char junk1[] = "\x00\x01\x02\xff\xfe\xc3\x28 actor \x00\xf0\x28\x8c\x28\n";
    static const char junk2[] = "stats\x00\n";                       /* NUL in a text request */
    static const char junk3[] = "actor \xc3\x28\n";                  /* invalid UTF-8 */
    static const char junk4[] = "{\"cmd\":\"stats\"}\x00trailing\n"; /* NUL after JSON */
    static const char junk5[] = "{\"cmd\":\"st\xff\xfe\"}\n";        /* invalid UTF-8 in JSON */
    static const char junk6[] = "{\"cmd\":\"actor\",\"arg\":\"a\\u0000b\"}\n"; /* escaped NUL */
    const struct {
        const char *p;
        size_t n;
        const char *code;
    } cases[] = {
        {junk1, sizeof(junk1) - 1, "bad_request"},
        {junk2, sizeof(junk2) - 1, "bad_request"},
        {junk3, sizeof(junk3) - 1, "bad_request"},
        {junk4, sizeof(junk4) - 1, "bad_request"},
        {junk5, sizeof(junk5) - 1, "bad_request"},
        {junk6, sizeof(junk6) - 1, "bad_request"}, /* jansson refuses \u0000 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cl_send(&c, cases[i].p, cases[i].n);
        json_t *j = cl_read(rt, &c);
        const char *code = err_code(j);
        if (strcmp(code, cases[i].code) != 0)
            fail_msg("junk %zu: %s, expected %s", i, code, cases[i].code);
        json_decref(j);
        /* the same bytes in process give the same code */
        char *out = NULL;
        assert_int_equal(tr_debug_request(rt, cases[i].p, cases[i].n - 1, &out), 0);
        j = parse_line(out);
        free(out);
        assert_string_equal(err_code(j), cases[i].code);
        json_decref(j);
    }
    /* valid UTF-8 that names nobody is echoed intact */
    json_t *j = cl_req(rt, &c, "actor caf\xc3\xa9");
    assert_string_equal(err_code(j), "not_found");
    assert_non_null(strstr(err_msg(j), "caf\xc3\xa9"));
    json_decref(j);
    /* and the connection still works */
    j = cl_req(rt, &c, "stats");
    json_t *res = ok_result(j, "stats");
    assert_int_equal(ji(jobj(res, "debug"), "errors"), 7);
    assert_int_equal(ji(jobj(res, "debug"), "requests"), 7); /* this one counts once answered */
    json_decref(j);
    cl_close(&c);
    tr_runtime_destroy(rt);
    done_dir();
}

/* A response over 4 MiB is refused with too_large; a smaller one works. */
static void test_too_large(void **state) {
    (void)state;
    char sock[128];
    make_dir(sock, sizeof(sock));
    tr_runtime_opts_t o;
    opts_init(&o, sock);
    o.mailbox_capacity = 2;
    tr_runtime_t *rt = rt_make(&o);
    /* ~10000 actors with 200-byte names: ~6 MiB of `actors` */
    enum { NA = 10000 };
    char name[256];
    memset(name, 'n', 200);
    tr_spawn_opts_t so;
    memset(&so, 0, sizeof(so));
    so.name = name;
    for (int i = 0; i < NA; i++) {
        snprintf(name + 200, sizeof(name) - 200, "-%05d", i);
        tt_spawn(rt, &plain_type, &so);
    }
    cl_t c;
    cl_hello(rt, &c, sock);
    json_t *j = cl_req(rt, &c, "{\"cmd\":\"actors\",\"arg\":100000,\"id\":\"big\"}");
    assert_string_equal(err_code(j), "too_large");
    assert_string_equal(js(j, "id"), "big");
    json_decref(j);
    j = cl_req(rt, &c, "actors 100");
    json_t *res = ok_result(j, "actors");
    assert_int_equal(ji(res, "total"), NA);
    assert_true(jbool(res, "truncated"));
    assert_int_equal(json_array_size(ja(res, "actors")), 100);
    json_decref(j);
    j = dreq(rt, "actors 100000");
    assert_string_equal(err_code(j), "too_large");
    json_decref(j);
    cl_close(&c);
    tr_runtime_destroy(rt);
    done_dir();
}

/* (c) malformed requests: the right codes, ids echoed when readable */
static void test_request_errors(void **state) {
    (void)state;
    tr_runtime_opts_t o;
    opts_init(&o, NULL);
    tr_runtime_t *rt = rt_make(&o);
    tr_spawn_opts_t so;
    memset(&so, 0, sizeof(so));
    so.name = "loner";
    tt_spawn(rt, &plain_type, &so);

    expect_error(rt, "{\"cmd\":", "bad_request");
    expect_error(rt, "{\"cmd\":\"stats\"", "bad_request");
    expect_error(rt, "{\"cmd\":\"stats\"} {}", "bad_request");
    expect_error(rt, "{\"cmd\":\"stats\",\"cmd\":\"help\"}", "bad_request");
    expect_error(rt, "{}", "bad_request");
    expect_error(rt, "{\"arg\":1}", "bad_request");
    expect_error(rt, "{\"cmd\":5}", "bad_request");
    expect_error(rt, "{\"cmd\":null}", "bad_request");
    expect_error(rt, "{\"cmd\":[\"stats\"]}", "bad_request");
    expect_error(rt, "{\"cmd\":\"trace\",\"arg\":1.5}", "bad_request");
    expect_error(rt, "{\"cmd\":\"trace\",\"arg\":true}", "bad_request");
    expect_error(rt, "{\"cmd\":\"actor\",\"arg\":{\"x\":1}}", "bad_request");
    expect_error(rt, "{\"cmd\":\"nope\"}", "unknown_command");
    expect_error(rt, "nope", "unknown_command");
    expect_error(rt, "{\"cmd\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
                 "unknown_command");
    expect_error(rt, "STATS", "unknown_command"); /* commands are lower case */
    expect_error(rt, "actor", "bad_argument");
    expect_error(rt, "{\"cmd\":\"actor\"}", "bad_argument");
    expect_error(rt, "{\"cmd\":\"actor\",\"arg\":null}", "bad_argument");
    expect_error(rt, "actor nobody/here", "not_found");
    expect_error(rt, "actor 999999.1", "not_found");
    expect_error(rt, "actor 4294967295.4294967295", "not_found");
    expect_error(rt, "actor 0.0", "not_found");
    expect_error(rt, "actor -1.1", "not_found");
    expect_error(rt, "actor a b", "bad_request");
    expect_error(rt, "trace 10 20", "bad_request");
    expect_error(rt, "trace -1", "bad_argument");
    expect_error(rt, "trace 0", "bad_argument");
    expect_error(rt, "trace x", "bad_argument");
    expect_error(rt, "trace 99999999999999999999999", "bad_argument");
    expect_error(rt, "{\"cmd\":\"trace\",\"arg\":-5}", "bad_argument");
    expect_error(rt, "actors 0", "bad_argument");
    expect_error(rt, "alerts -1", "bad_argument");
    /* the argument limit: 1023 bytes is an argument, 1024 is too long */
    char longarg[1100];
    memcpy(longarg, "actor ", 6);
    memset(longarg + 6, 'n', 1023);
    longarg[6 + 1023] = 0;
    expect_error(rt, longarg, "not_found");
    memset(longarg + 6, 'n', 1024);
    longarg[6 + 1024] = 0;
    expect_error(rt, longarg, "bad_argument");

    /* JSON values that are not objects */
    expect_error(rt, "[1,2]", "bad_request");
    expect_error(rt, "[\"stats\"]", "bad_request");
    expect_error(rt, "[", "bad_request");

    /* the unknown_command message lists the commands */
    json_t *j = dreq(rt, "{\"cmd\":\"nope\",\"id\":\"x\"}");
    assert_string_equal(err_code(j), "unknown_command");
    assert_string_equal(js(j, "id"), "x");
    assert_non_null(strstr(err_msg(j), "nope"));
    assert_non_null(strstr(err_msg(j), "alerts"));
    assert_non_null(strstr(err_msg(j), "waits"));
    json_decref(j);
    /* ids are echoed on errors when the request could be read */
    j = dreq(rt, "{\"id\":7}");
    assert_string_equal(err_code(j), "bad_request");
    assert_int_equal(ji(j, "id"), 7);
    json_decref(j);
    j = dreq(rt, "{\"id\":null,\"cmd\":\"actor\",\"arg\":\"nobody\"}");
    assert_string_equal(err_code(j), "not_found");
    assert_true(json_is_null(jo(j, "id")));
    assert_non_null(strstr(err_msg(j), "nobody"));
    json_decref(j);
    j = dreq(rt, "{\"id\":7,\"cmd\":");
    assert_string_equal(err_code(j), "bad_request");
    assert_null(json_object_get(j, "id"));
    json_decref(j);
    /* a string arg that is a number works like an integer one */
    j = dreq(rt, "{\"cmd\":\"trace\",\"arg\":\"2\"}");
    assert_int_equal(json_array_size(ja(ok_result(j, "trace"), "events")), 1);
    json_decref(j);
    /* leading blanks before JSON, and a text request with tabs */
    j = dreq(rt, "  {\"cmd\":\"help\"}");
    ok_result(j, "help");
    json_decref(j);
    j = dreq(rt, "\tactor\tloner\t");
    assert_string_equal(js(ok_result(j, "actor"), "name"), "loner");
    json_decref(j);
    tr_runtime_destroy(rt);
}

/* (d) a pile of idle clients cannot lock a person out */
static void test_idle_clients_evicted(void **state) {
    (void)state;
    char sock[128];
    make_dir(sock, sizeof(sock));
    tr_runtime_opts_t o;
    opts_init(&o, sock);
    o.debug_max_clients = 16;
    tr_runtime_t *rt = rt_make(&o);
    enum { N = 100 };
    cl_t *cs = calloc(N, sizeof(*cs));
    assert_non_null(cs);
    for (int i = 0; i < N; i++) {
        cl_open(&cs[i], sock);
        assert_int_equal(tr_runtime_run_until(rt, pred_line, &cs[i]), 0);
        char *h = cl_take(&cs[i]);
        assert_non_null(h);
        assert_non_null(strstr(h, "\"hello\":\"troupe\""));
        free(h);
    }
    assert_int_equal(stat_of(rt, "debug", "evicted"), N - 16);
    assert_int_equal(stat_of(rt, "debug", "clients"), 16);

    cl_t late;
    cl_hello(rt, &late, sock);
    json_t *j = cl_req(rt, &late, "stats");
    json_t *dbg = jobj(ok_result(j, "stats"), "debug");
    assert_true(ji(dbg, "evicted") >= 84);
    assert_int_equal(ji(dbg, "evicted"), N + 1 - 16);
    assert_int_equal(ji(dbg, "accepted"), N + 1);
    assert_int_equal(ji(dbg, "clients"), 16);
    json_decref(j);

    /* the evicted were told why, then closed; the rest are still open */
    int evicted = 0, open = 0;
    for (int i = 0; i < N; i++) {
        cl_pump(&cs[i]);
        char *line = cl_take(&cs[i]);
        if (line) {
            json_t *e = parse_line(line);
            free(line);
            assert_string_equal(err_code(e), "evicted");
            json_decref(e);
            assert_false(cl_has_line(&cs[i]));
            assert_true(cs[i].eof || cs[i].err);
            evicted++;
        } else {
            assert_false(cs[i].eof || cs[i].err);
            open++;
        }
        if (i == 0) assert_int_not_equal(evicted, 0); /* the oldest went first */
    }
    assert_int_equal(evicted, N + 1 - 16);
    assert_int_equal(open, 15);
    for (int i = 0; i < N; i++) cl_close(&cs[i]);
    free(cs);
    cl_close(&late);
    tr_runtime_destroy(rt);
    done_dir();
}

static void test_eviction_picks_longest_idle(void **state) {
    (void)state;
    char sock[128];
    make_dir(sock, sizeof(sock));
    tr_runtime_opts_t o;
    opts_init(&o, sock);
    o.debug_max_clients = 2;
    tr_runtime_t *rt = rt_make(&o);
    /* clients that hang up at once, before or after their hello */
    for (int i = 0; i < 20; i++) {
        int fd = sock_connect(sock, 0);
        assert_true(fd >= 0);
        close(fd);
        if (i % 2) assert_true(tr_runtime_poll(rt) >= 0);
    }
    tt_drain(rt);
    cl_t b, a, c;
    cl_hello(rt, &b, sock); /* the oldest connection... */
    cl_hello(rt, &a, sock);
    json_t *j = cl_req(rt, &b, "help"); /* ...but the most recently active */
    ok_result(j, "help");
    json_decref(j);
    cl_hello(rt, &c, sock); /* at the limit: a goes */
    assert_int_equal(tr_runtime_run_until(rt, pred_closed, &a), 0);
    char *line = cl_take(&a);
    assert_non_null(line);
    j = parse_line(line);
    free(line);
    assert_string_equal(err_code(j), "evicted");
    json_decref(j);
    j = cl_req(rt, &b, "stats");
    json_t *dbg = jobj(ok_result(j, "stats"), "debug");
    assert_int_equal(ji(dbg, "evicted"), 1);
    assert_int_equal(ji(dbg, "clients"), 2);
    json_decref(j);
    j = cl_req(rt, &c, "help");
    ok_result(j, "help");
    json_decref(j);
    cl_close(&a);
    cl_close(&b);
    cl_close(&c);
    tr_runtime_destroy(rt);
    done_dir();
}

/* Fill the flight recorder so that `trace 1000` answers ~100+ KiB. */
static void fill_ring(tr_runtime_t *rt) {
    tr_spawn_opts_t so;
    memset(&so, 0, sizeof(so));
    so.name = "busy-actor-with-a-long-name";
    tr_ref_t r = tt_spawn(rt, &plain_type, &so);
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 600; i++)
            assert_int_equal(tr_runtime_send(rt, r, MSG_PING, NULL, 0), 0);
        tt_drain(rt);
    }
}

static int pred_flooder_cut(void *arg) { return stat_of(arg, "debug", "errors") >= 1; }

/* (e1) a client that never reads, pipelining a flood: it is cut off at the
 * output limit, while another client is answered */
static void test_nonreader_flood_closed(void **state) {
    (void)state;
    char sock[128];
    make_dir(sock, sizeof(sock));
    tr_runtime_opts_t o;
    opts_init(&o, sock);
    tr_runtime_t *rt = rt_make(&o);
    fill_ring(rt);

    cl_t nr, rd;
    cl_open(&nr, sock);
    static const char req[] = "trace 1000\n";
    size_t nreq = 200;
    char *flood = malloc(nreq * (sizeof(req) - 1));
    assert_non_null(flood);
    for (size_t i = 0; i < nreq; i++) memcpy(flood + i * (sizeof(req) - 1), req, sizeof(req) - 1);
    cl_send(&nr, flood, nreq * (sizeof(req) - 1));
    free(flood);
    cl_open(&rd, sock);
    /* run until the flooder has been cut off (its answers pass 8 MiB) */
    assert_int_equal(tr_runtime_run_until(rt, pred_flooder_cut, rt), 0);

    json_t *j = cl_read(rt, &rd);
    assert_string_equal(js(j, "hello"), "troupe");
    json_decref(j);
    j = cl_req(rt, &rd, "stats");
    json_t *dbg = jobj(ok_result(j, "stats"), "debug");
    assert_int_equal(ji(dbg, "clients"), 1); /* the flooder is gone */
    assert_int_equal(ji(dbg, "accepted"), 2);
    assert_true(ji(dbg, "errors") >= 1);
    long long answered = ji(dbg, "requests"); /* a response counts after it is made */
    assert_true(answered >= 8 && answered < (long long)nreq); /* 8 MiB of answers, not 200 */
    json_decref(j);
    assert_true(log_has("does not read its answers"));
    /* the flooder sees its connection end: nothing past the limit came */
    nr.counting = 1;
    assert_int_equal(tr_runtime_run_until(rt, pred_closed, &nr), 0);
    assert_true(nr.nlines_dropped < (size_t)answered + 1);
    j = cl_req(rt, &rd, "help");
    ok_result(j, "help");
    json_decref(j);
    cl_close(&nr);
    cl_close(&rd);
    tr_runtime_destroy(rt);
    done_dir();
}

/* (e2) a client that stops reading while it keeps asking: the server stops
 * reading its requests (backpressure), keeps answering others, loses
 * nothing, and resumes when the client reads again */
static void test_nonreader_paused(void **state) {
    (void)state;
    char sock[128];
    make_dir(sock, sizeof(sock));
    tr_runtime_opts_t o;
    opts_init(&o, sock);
    tr_runtime_t *rt = rt_make(&o);
    fill_ring(rt);

    cl_t nr, rd;
    cl_hello(rt, &nr, sock);
    cl_hello(rt, &rd, sock);
    /* requests padded with blanks (4 KiB each) fill the socket quickly */
    size_t rl = 4096;
    char *req = malloc(rl);
    assert_non_null(req);
    memset(req, ' ', rl);
    memcpy(req, "trace 1000", 10);
    req[rl - 1] = '\n';
    size_t sent = 0;
    int blocked = 0;
    for (int it = 0; it < 100000 && !blocked; it++) {
        ssize_t w = send(nr.fd, req, rl, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w == (ssize_t)rl) {
            sent++;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* the server no longer reads: let it run, then check again */
            assert_true(tr_runtime_poll(rt) >= 0);
            w = send(nr.fd, req, rl, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w == (ssize_t)rl) sent++;
            else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) blocked = 1;
            else fail_msg("send after poll: %zd %s", w, strerror(errno));
        } else {
            fail_msg("send: %zd %s (after %zu requests)", w, w < 0 ? strerror(errno) : "", sent);
        }
        if (w > 0 && w != (ssize_t)rl) fail_msg("partial send %zd", w); /* whole 4 KiB or none */
        assert_true(tr_runtime_poll(rt) >= 0);
    }
    free(req);
    assert_true(blocked);
    assert_true(sent >= 2);

    /* the other client is served meanwhile; the slow one is still connected */
    json_t *j = cl_req(rt, &rd, "stats");
    json_t *dbg = jobj(ok_result(j, "stats"), "debug");
    assert_int_equal(ji(dbg, "clients"), 2);
    assert_int_equal(ji(dbg, "errors"), 0);
    long long answered = ji(dbg, "requests");
    assert_true(answered < (long long)sent); /* some requests wait, unread */
    json_decref(j);
    assert_false(log_has("does not read its answers"));

    /* it reads again: every request gets its answer, in order, none lost */
    nr.counting = 1;
    nr.want = sent;
    assert_int_equal(tr_runtime_run_until(rt, pred_counted, &nr), 0);
    assert_false(nr.eof || nr.err);
    assert_int_equal(nr.nlines_dropped, sent);
    cl_close(&nr);
    cl_close(&rd);
    tr_runtime_destroy(rt);
    done_dir();
}

/* (f) an idle client is closed after debug_idle_ms, in real time */
static uint64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void test_idle_timeout(void **state) {
    (void)state;
    char sock[128];
    make_dir(sock, sizeof(sock));
    tr_runtime_opts_t o;
    opts_init(&o, sock);
    o.debug_idle_ms = 100;
    o.log_level = TR_LOG_INFO; /* the close is logged at info */
    tr_runtime_t *rt = rt_make(&o);
    uint64_t t0 = mono_ms();
    cl_t c;
    cl_hello(rt, &c, sock);
    assert_int_equal(tr_runtime_run_until(rt, pred_closed, &c), 0);
    uint64_t took = mono_ms() - t0;
    assert_true(took >= 90);
    assert_true(took < 10000);
    assert_int_equal(c.len, 0); /* closed without a word */
    assert_true(log_has("idle timeout"));
    assert_int_equal(stat_of(rt, "debug", "clients"), 0);
    cl_close(&c);
    tr_runtime_destroy(rt);
    done_dir();
}

/* ================================================================== */
/* 9. tr_debug_request's own rules */

typedef struct thr_arg_s {
    tr_runtime_t *rt;
    int rc;
    char *out;
} thr_arg_t;

static void *other_thread(void *p) {
    thr_arg_t *a = p;
    a->rc = tr_debug_request(a->rt, "stats", 5, &a->out);
    return NULL;
}

static void test_request_api_rules(void **state) {
    (void)state;
    tr_runtime_opts_t o;
    opts_init(&o, NULL);
    tr_runtime_t *rt = rt_make(&o);
    char *out = (char *)"untouched";
    assert_int_equal(tr_debug_request(NULL, "stats", 5, &out), TR_EINVAL);
    assert_int_equal(tr_debug_request(rt, "stats", 5, NULL), TR_EINVAL);
    assert_int_equal(tr_debug_request(rt, NULL, 5, &out), TR_EINVAL);

    /* another thread */
    thr_arg_t a = {rt, 99, NULL};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, other_thread, &a), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(a.rc, TR_EWRONGTHREAD);
    assert_null(a.out);

    /* inside a handler */
    tr_ref_t w = tt_spawn(rt, &plain_type, NULL);
    ask_rc = 99;
    assert_int_equal(tr_runtime_send(rt, w, MSG_ASK, NULL, 0), 0);
    tt_drain(rt);
    assert_int_equal(ask_rc, TR_EWRONGTHREAD);

    /* an empty request is an error object, not an error */
    out = NULL;
    assert_int_equal(tr_debug_request(rt, NULL, 0, &out), 0);
    json_t *j = parse_line(out);
    free(out);
    assert_string_equal(err_code(j), "bad_request");
    json_decref(j);
    out = NULL;
    assert_int_equal(tr_debug_request(rt, "   ", 3, &out), 0);
    j = parse_line(out);
    free(out);
    assert_string_equal(err_code(j), "bad_request");
    json_decref(j);
    /* len is respected: the bytes after it are not read */
    out = NULL;
    assert_int_equal(tr_debug_request(rt, "helpXXXX", 4, &out), 0);
    j = parse_line(out);
    free(out);
    ok_result(j, "help");
    json_decref(j);
    tr_runtime_destroy(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_hello_and_permissions, teardown),
        cmocka_unit_test_teardown(test_socket_path_rules, teardown),
        cmocka_unit_test_teardown(test_default_path, teardown),
        cmocka_unit_test_teardown(test_options_and_config_keys, teardown),
        cmocka_unit_test_teardown(test_commands_shape, teardown),
        cmocka_unit_test_teardown(test_config_and_reload, teardown),
        cmocka_unit_test_teardown(test_tree_shows_restart, teardown),
        cmocka_unit_test_teardown(test_deadlock, teardown),
        cmocka_unit_test_teardown(test_stall_two, teardown),
        cmocka_unit_test_teardown(test_stall_chain_and_timer, teardown),
        cmocka_unit_test_teardown(test_stall_after_quiet_period, teardown),
        cmocka_unit_test_teardown(test_waits_thread_and_timeout, teardown),
        cmocka_unit_test_teardown(test_other_uid_refused, teardown),
        cmocka_unit_test_teardown(test_overlong_line, teardown),
        cmocka_unit_test_teardown(test_line_over_limit_in_one_piece_socket, teardown),
        cmocka_unit_test_teardown(test_line_over_limit_in_process, teardown),
        cmocka_unit_test_teardown(test_binary_junk, teardown),
        cmocka_unit_test_teardown(test_request_errors, teardown),
        cmocka_unit_test_teardown(test_too_large, teardown),
        cmocka_unit_test_teardown(test_idle_clients_evicted, teardown),
        cmocka_unit_test_teardown(test_eviction_picks_longest_idle, teardown),
        cmocka_unit_test_teardown(test_nonreader_flood_closed, teardown),
        cmocka_unit_test_teardown(test_nonreader_paused, teardown),
        cmocka_unit_test_teardown(test_idle_timeout, teardown),
        cmocka_unit_test_teardown(test_request_api_rules, teardown),
        cmocka_unit_test_teardown(test_watchdog_reports_hung_handler, teardown),
        cmocka_unit_test_teardown(test_watchdog_survives_hang_holding_malloc_lock, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
