/* runtime/debug.c: the debug socket server. A Unix stream socket served on
 * scheduler 0's libev loop with non-blocking I/O; each line a client sends
 * is one request (runtime/debug_cmd.c), each answer one line. Scheduler 0
 * is the one that may stop the world, which the commands that look at
 * other schedulers' actors need; the server itself touches only its own
 * clients.
 *
 * Who gets in (design invariant 7): the socket file is 0600 inside a
 * directory that must be 0700 and ours (created if missing); each accepted
 * client's SO_PEERCRED uid must be ours or root, else it gets one `refused`
 * line and is closed. How much a client can take: requests are cut at 64
 * KiB (the rest of an overlong line is skipped, the connection lives on);
 * output is buffered up to 8 MiB per client, and past 256 KiB unsent we stop
 * reading its requests (backpressure, so a client that never reads only
 * stalls itself); an idle client is closed after debug_idle_ms; at the
 * client limit the longest-idle client is evicted to make room. The
 * watchers are unreferenced, so the debug socket never keeps a loop alive.
 * Like libuv's handles: stop the watchers, then free. Scheduler 0's
 * thread (the owner thread; stepping too). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "runtime/internal.h"

#define LINE_MAX_BYTES TR__DEBUG_LINE_MAX
#define OUT_MAX (8u << 20)
#define OUT_PAUSE (256u << 10)
#define READ_CHUNK 16384u

typedef struct dbg_client_s {
    struct dbg_client_s *prev, *next;
    struct tr__debug_s *srv;
    int fd;
    ev_io rio, wio;
    ev_timer idle;
    char *in;
    size_t in_len;
    bool skipping; /* discarding the rest of an overlong line */
    bool closing;  /* close once the output is flushed */
    bool paused;   /* reading stopped: too much unsent output */
    char *out;
    size_t out_off, out_len, out_cap;
    ev_tstamp active; /* last request or write progress */
    pid_t pid;
    uid_t uid;
} dbg_client_t;

typedef struct tr__debug_s {
    tr_runtime_t *rt;
    struct ev_loop *loop;
    int fd;
    ev_io lio;
    dbg_client_t *clients;
    size_t nclients;
    tr__debug_stats_t st;
} tr__debug_t;

/* ---- paths ---- */

int tr_debug_default_path(long pid, char *buf, size_t len) {
    if (!buf || pid <= 0) return TR_EINVAL;
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(buf, len, "%s/troupe/%ld.sock", xdg, pid);
    else
        n = snprintf(buf, len, "/tmp/troupe-%lu/%ld.sock", (unsigned long)geteuid(), pid);
    if (n < 0 || (size_t)n >= len || n > TR_DEBUG_PATH_MAX) return TR_ENOMEM;
    return n;
}

/* The directory of `path` must be ours and private: create it (0700) when
 * missing, refuse it when anyone else could reach the socket through it. */
static int check_dir(tr_runtime_t *rt, const char *path) {
    char dir[TR_DEBUG_PATH_MAX + 1];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) {
        tr__log(rt, TR_LOG_ERROR, "debug socket %s: must be inside a private directory, not /",
                path);
        return TR_ESYS;
    }
    *slash = 0;
    if (mkdir(dir, 0700) == 0) return 0;
    if (errno != EEXIST) {
        tr__log(rt, TR_LOG_ERROR, "debug socket: cannot create directory %s: %s", dir,
                strerror(errno));
        return TR_ESYS;
    }
    struct stat sb;
    if (lstat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        tr__log(rt, TR_LOG_ERROR, "debug socket: %s is not a directory", dir);
        return TR_ESYS;
    }
    if (sb.st_uid != geteuid() || (sb.st_mode & 077)) {
        tr__log(rt, TR_LOG_ERROR,
                "debug socket: directory %s is mode %04o owned by uid %lu; it must be mode 0700 "
                "and owned by uid %lu, so that nobody else can reach the socket",
                dir, (unsigned)(sb.st_mode & 07777), (unsigned long)sb.st_uid,
                (unsigned long)geteuid());
        return TR_ESYS;
    }
    return 0;
}

/* A socket file already at `path`: replace it if nobody answers. */
static int clear_stale(tr_runtime_t *rt, const char *path, const struct sockaddr_un *sa) {
    struct stat sb;
    if (lstat(path, &sb) != 0) return 0;
    if (!S_ISSOCK(sb.st_mode)) {
        tr__log(rt, TR_LOG_ERROR, "debug socket: %s exists and is not a socket", path);
        return TR_ESYS;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return TR_ESYS;
    int r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
    int e = errno;
    close(fd);
    if (r == 0) {
        tr__log(rt, TR_LOG_ERROR, "debug socket: another process already serves %s", path);
        return TR_ESYS;
    }
    if (e != ECONNREFUSED) {
        tr__log(rt, TR_LOG_ERROR, "debug socket: cannot probe %s: %s", path, strerror(e));
        return TR_ESYS;
    }
    unlink(path); /* stale: its process is gone */
    return 0;
}

/* ---- clients ---- */

static void client_close(dbg_client_t *c, const char *why) {
    tr__debug_t *d = c->srv;
    if (why)
        tr__log(d->rt, TR_LOG_INFO, "debug socket: client pid %ld closed: %s", (long)c->pid, why);
    if (!c->paused) {
        ev_ref(d->loop);
        ev_io_stop(d->loop, &c->rio);
    }
    if (ev_is_active(&c->wio)) {
        ev_ref(d->loop);
        ev_io_stop(d->loop, &c->wio);
    }
    ev_ref(d->loop);
    ev_timer_stop(d->loop, &c->idle);
    close(c->fd);
    if (c->prev) c->prev->next = c->next;
    else d->clients = c->next;
    if (c->next) c->next->prev = c->prev;
    d->nclients--;
    free(c->in);
    free(c->out);
    free(c);
}

static void set_writing(dbg_client_t *c, bool on) {
    tr__debug_t *d = c->srv;
    if (on == (bool)ev_is_active(&c->wio)) return;
    if (on) {
        ev_io_start(d->loop, &c->wio);
        ev_unref(d->loop);
    } else {
        ev_ref(d->loop);
        ev_io_stop(d->loop, &c->wio);
    }
}

static void set_reading(dbg_client_t *c, bool on) {
    tr__debug_t *d = c->srv;
    if (on == !c->paused) return;
    c->paused = !on;
    if (on) {
        ev_io_start(d->loop, &c->rio);
        ev_unref(d->loop);
    } else {
        ev_ref(d->loop);
        ev_io_stop(d->loop, &c->rio);
    }
}

/* Write what we can. Returns false if the client was closed. */
static bool flush(dbg_client_t *c) {
    while (c->out_off < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (w > 0) {
            c->out_off += (size_t)w;
            c->active = ev_now(c->srv->loop);
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        client_close(c, w < 0 ? strerror(errno) : "write failed");
        return false;
    }
    if (c->out_off == c->out_len) {
        c->out_off = c->out_len = 0;
        set_writing(c, false);
        if (c->closing) {
            client_close(c, NULL);
            return false;
        }
    } else {
        set_writing(c, true);
    }
    set_reading(c, !c->closing && c->out_len - c->out_off <= OUT_PAUSE);
    return true;
}

/* Queue one line (adds the newline). Returns false if the client was
 * closed (over its output limit). */
static bool queue_line(dbg_client_t *c, const char *line) {
    size_t n = strlen(line);
    size_t pending = c->out_len - c->out_off;
    if (pending + n + 1 > OUT_MAX) {
        c->srv->st.errors++;
        tr__log(c->srv->rt, TR_LOG_WARNING,
                "debug socket: client pid %ld does not read its answers (%zu bytes unsent); "
                "closing it",
                (long)c->pid, pending);
        client_close(c, NULL);
        return false;
    }
    if (c->out_off && c->out_len + n + 1 > c->out_cap) {
        memmove(c->out, c->out + c->out_off, pending);
        c->out_len = pending;
        c->out_off = 0;
    }
    if (c->out_len + n + 1 > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + n + 1) cap *= 2;
        char *p = realloc(c->out, cap);
        if (!p) {
            client_close(c, "out of memory");
            return false;
        }
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, line, n);
    c->out[c->out_len + n] = '\n';
    c->out_len += n + 1;
    return true;
}

/* Tell a client why it goes (refusal, eviction), best effort and without
 * waiting: one line fits in any socket buffer that is not full. */
static void say(int fd, const char *code, const char *why) {
    char *line = tr__debug_error_line(code, "%s", why);
    if (!line) return;
    size_t n = strlen(line);
    line[n] = '\n'; /* replaces the NUL: sent by length */
    (void)!send(fd, line, n + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    free(line);
}

static bool answer(dbg_client_t *c, const char *line, size_t len) {
    tr__debug_t *d = c->srv;
    char *out = NULL;
    bool failed = false;
    int e = tr__debug_exec(d->rt, line, len, &out, &failed);
    if (e) {
        out = tr__debug_error_line("internal", "%s", tr_strerror(e));
        if (!out) {
            client_close(c, "out of memory");
            return false;
        }
    }
    if (!out) return true; /* empty line */
    d->st.requests++;
    if (failed || e) d->st.errors++;
    bool ok = queue_line(c, out);
    free(out);
    return ok;
}

static bool too_long(dbg_client_t *c) {
    c->srv->st.errors++;
    char *line = tr__debug_error_line("too_long", "request line of %u bytes or more; skipped to its end",
                                      LINE_MAX_BYTES);
    bool ok = line && queue_line(c, line);
    if (!line) client_close(c, "out of memory");
    free(line);
    return ok;
}

/* Split the input into lines and answer them. Returns false if closed. */
static bool process(dbg_client_t *c) {
    size_t start = 0;
    for (size_t i = 0; i < c->in_len; i++) {
        if (c->in[i] != '\n') continue;
        if (c->skipping) {
            c->skipping = false;
        } else if (i - start >= LINE_MAX_BYTES) { /* came whole in one read */
            if (!too_long(c)) return false;
        } else if (!answer(c, c->in + start, i - start)) {
            return false;
        }
        start = i + 1;
        c->active = ev_now(c->srv->loop);
    }
    memmove(c->in, c->in + start, c->in_len - start);
    c->in_len -= start;
    if (c->in_len >= LINE_MAX_BYTES) {
        if (!c->skipping && !too_long(c)) return false;
        c->skipping = true;
        c->in_len = 0;
    }
    return true;
}

static void on_read(struct ev_loop *loop, ev_io *w, int revents) {
    (void)loop, (void)revents;
    dbg_client_t *c = w->data;
    ssize_t r = recv(c->fd, c->in + c->in_len, LINE_MAX_BYTES + READ_CHUNK - c->in_len, 0);
    if (r < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) return;
        client_close(c, strerror(errno));
        return;
    }
    if (r == 0) { /* the client is done sending: answer a last unterminated line */
        if (c->in_len && !c->skipping && !answer(c, c->in, c->in_len)) return;
        c->in_len = 0;
        c->closing = true;
        flush(c);
        return;
    }
    c->in_len += (size_t)r;
    if (!process(c)) return;
    flush(c);
}

static void on_write(struct ev_loop *loop, ev_io *w, int revents) {
    (void)loop, (void)revents;
    flush(w->data);
}

static void on_idle(struct ev_loop *loop, ev_timer *w, int revents) {
    (void)revents;
    dbg_client_t *c = w->data;
    ev_tstamp limit = (ev_tstamp)c->srv->rt->opts.debug_idle_ms / 1e3;
    ev_tstamp left = c->active + limit - ev_now(loop);
    if (left > 0) { /* it was active since: wait for the rest */
        w->repeat = left;
        ev_timer_again(loop, w);
        return;
    }
    client_close(c, "idle timeout");
}

static void evict_one(tr__debug_t *d) {
    dbg_client_t *old = NULL;
    for (dbg_client_t *c = d->clients; c; c = c->next)
        if (!old || c->active < old->active) old = c;
    if (!old) return;
    d->st.evicted++;
    tr__log(d->rt, TR_LOG_NOTICE, "debug socket: %zu clients (the limit): evicting the longest idle, pid %ld",
            d->nclients, (long)old->pid);
    say(old->fd, "evicted", "too many debug clients; this one was idle the longest");
    client_close(old, NULL);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents) {
    (void)revents;
    tr__debug_t *d = w->data;
    for (int k = 0; k < 16; k++) {
        int fd = accept4(d->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                tr__log(d->rt, TR_LOG_WARNING, "debug socket: accept: %s", strerror(errno));
            return;
        }
        struct ucred cr;
        socklen_t cl = sizeof(cr);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) != 0) {
            tr__log(d->rt, TR_LOG_WARNING, "debug socket: SO_PEERCRED: %s; closed", strerror(errno));
            close(fd);
            continue;
        }
        if (cr.uid != geteuid() && cr.uid != 0) {
            d->st.refused++;
            tr__log(d->rt, TR_LOG_WARNING,
                    "debug socket: refused pid %ld uid %lu (only uid %lu and root are served)",
                    (long)cr.pid, (unsigned long)cr.uid, (unsigned long)geteuid());
            char why[128];
            snprintf(why, sizeof(why), "uid %lu is not allowed: only uid %lu and root are served",
                     (unsigned long)cr.uid, (unsigned long)geteuid());
            say(fd, "refused", why);
            close(fd);
            continue;
        }
        if (d->nclients >= d->rt->opts.debug_max_clients) evict_one(d);
        dbg_client_t *c = calloc(1, sizeof(*c));
        char *in = malloc(LINE_MAX_BYTES + READ_CHUNK);
        if (!c || !in) {
            free(c);
            free(in);
            close(fd);
            continue;
        }
        c->srv = d;
        c->fd = fd;
        c->in = in;
        c->pid = cr.pid;
        c->uid = cr.uid;
        c->active = ev_now(loop);
        ev_io_init(&c->rio, on_read, fd, EV_READ);
        ev_io_init(&c->wio, on_write, fd, EV_WRITE);
        ev_timer_init(&c->idle, on_idle, 0., (ev_tstamp)d->rt->opts.debug_idle_ms / 1e3);
        c->rio.data = c->wio.data = c->idle.data = c;
        ev_io_start(loop, &c->rio);
        ev_unref(loop);
        ev_timer_again(loop, &c->idle);
        ev_unref(loop);
        c->next = d->clients;
        if (d->clients) d->clients->prev = c;
        d->clients = c;
        d->nclients++;
        d->st.accepted++;
        char *hello = tr__debug_hello();
        if (!hello) {
            client_close(c, "out of memory");
            continue;
        }
        if (queue_line(c, hello)) flush(c);
        free(hello);
    }
}

/* ---- lifecycle ---- */

int tr__debug_start(tr_runtime_t *rt) {
    const char *want = rt->opts.debug_socket; /* the caller's or the config's */
    rt->opts.debug_socket = NULL; /* borrowed during create only */
    if (!want) return 0;
    char path[TR_DEBUG_PATH_MAX + 1];
    if (strcmp(want, TR_DEBUG_SOCKET_DEFAULT) == 0) {
        if (tr_debug_default_path((long)getpid(), path, sizeof(path)) < 0) {
            tr__log(rt, TR_LOG_ERROR, "debug socket: the default path is too long");
            return TR_ESYS;
        }
    } else {
        snprintf(path, sizeof(path), "%s", want);
    }
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int err = check_dir(rt, path);
    if (!err) err = clear_stale(rt, path, &sa);
    if (err) return err;
    tr__debug_t *d = calloc(1, sizeof(*d));
    char *saved = strdup(path);
    if (!d || !saved) {
        free(d);
        free(saved);
        return TR_ENOMEM;
    }
    d->rt = rt;
    d->loop = rt->sched[0].loop;
    d->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d->fd < 0 || bind(d->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        chmod(path, 0600) != 0 || listen(d->fd, 64) != 0) {
        tr__log(rt, TR_LOG_ERROR, "debug socket %s: %s", path, strerror(errno));
        if (d->fd >= 0) {
            close(d->fd);
            unlink(path);
        }
        free(d);
        free(saved);
        return TR_ESYS;
    }
    ev_io_init(&d->lio, on_accept, d->fd, EV_READ);
    d->lio.data = d;
    ev_io_start(d->loop, &d->lio);
    ev_unref(d->loop);
    rt->dbg = d;
    rt->debug_path = saved;
    tr__log(rt, TR_LOG_INFO, "debug socket: %s", path);
    return 0;
}

void tr__debug_stop(tr_runtime_t *rt) {
    tr__debug_t *d = rt->dbg;
    if (d) {
        while (d->clients) client_close(d->clients, NULL);
        ev_ref(d->loop);
        ev_io_stop(d->loop, &d->lio);
        close(d->fd);
        unlink(rt->debug_path);
        free(d);
        rt->dbg = NULL;
    }
    free(rt->debug_path);
    rt->debug_path = NULL;
}

void tr__debug_stats(tr_runtime_t *rt, tr__debug_stats_t *out) {
    memset(out, 0, sizeof(*out));
    if (!rt->dbg) return;
    *out = rt->dbg->st;
    out->clients = rt->dbg->nclients;
}

const char *tr_runtime_debug_socket(tr_runtime_t *rt) { return rt ? rt->debug_path : NULL; }
