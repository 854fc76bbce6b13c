/* tools/troupectl/socket.c: troupectl's side of the transport. Where the
 * debug socket of a process is (-p: the default path, else a search of the
 * process's open files), and one exchange on a socket: connect, read the
 * hello, send one request, read one response line.
 * The socket is non-blocking and every wait is a poll() against one
 * deadline for the whole exchange, so a runtime whose event loop is stuck
 * (a hung handler stops the debug socket too) cannot hang troupectl. Any
 * failure prints why and exits with CTL_EIO. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <troupe/debug.h>

#include "troupectl.h"

/* The protocol's response line limit is 4 MiB; accept a little more, in
 * case the server counts it without the envelope around `result`. */
#define LINE_MAX_BYTES (((size_t)4 << 20) + ((size_t)64 << 10))
#define LINE_FIRST_CAP ((size_t)64 << 10)

/* /proc/net/unix: the flag of a listening socket (__SO_ACCEPTCON). */
#define UNIX_ACCEPTCON 0x10000ul

/* ---- finding the socket of a pid ---- */

static bool is_socket(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

typedef struct {
    unsigned long *v;
    size_t n, cap;
} inodes_t;

static bool has_inode(const inodes_t *set, unsigned long ino) {
    for (size_t i = 0; i < set->n; i++)
        if (set->v[i] == ino) return true;
    return false;
}

/* The inodes of the sockets among pid's open files. Returns 0 or an errno. */
static int socket_inodes(long pid, inodes_t *set) {
    char dir[64];
    snprintf(dir, sizeof(dir), "/proc/%ld/fd", pid);
    DIR *d = opendir(dir);
    if (!d) return errno;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char link[64];
        ssize_t n = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
        if (n < 0) continue; /* closed meanwhile */
        link[n] = '\0';
        unsigned long ino;
        if (sscanf(link, "socket:[%lu]", &ino) != 1) continue;
        if (set->n == set->cap) {
            size_t cap = set->cap ? set->cap * 2 : 16;
            unsigned long *v = realloc(set->v, cap * sizeof(*v));
            if (!v) ctl_die(CTL_EIO, "out of memory");
            set->v = v;
            set->cap = cap;
        }
        set->v[set->n++] = ino;
    }
    closedir(d);
    return 0;
}

/* Among the listening Unix stream sockets of pid's network namespace, the
 * first whose inode is in `set` and whose path ends in ".sock", into buf.
 * A relative path (bound relative to the process's working directory) is
 * reached through /proc/PID/cwd. Returns how many matched. */
static int listening_path(long pid, const inodes_t *set, char *buf, size_t len) {
    char file[64];
    snprintf(file, sizeof(file), "/proc/%ld/net/unix", pid);
    FILE *f = fopen(file, "r");
    if (!f) f = fopen("/proc/net/unix", "r");
    if (!f) return 0;
    int found = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f); /* the header */
    while (n >= 0 && (n = getline(&line, &cap, f)) > 0) {
        /* Num RefCount Protocol Flags Type St Inode Path */
        unsigned long flags, type, st, ino;
        int pos = 0;
        if (sscanf(line, "%*s %*x %*x %lx %lx %lx %lu%n", &flags, &type, &st, &ino, &pos) != 4)
            continue;
        if (!(flags & UNIX_ACCEPTCON) || type != SOCK_STREAM || !has_inode(set, ino)) continue;
        char *path = line + pos;
        while (*path == ' ') path++;
        path[strcspn(path, "\n")] = '\0';
        /* '@' is an abstract socket: never a troupe debug socket. */
        if (path[0] == '\0' || path[0] == '@' || !ends_with(path, ".sock")) continue;
        if (found++) continue;
        int w = path[0] == '/' ? snprintf(buf, len, "%s", path)
                               : snprintf(buf, len, "/proc/%ld/cwd/%s", pid, path);
        if (w < 0 || (size_t)w >= len) found--; /* too long to connect to */
    }
    free(line);
    fclose(f);
    return found;
}

void ctl_socket_for_pid(long pid, char *buf, size_t len) {
    char def[TR_DEBUG_PATH_MAX + 1];
    int rc = tr_debug_default_path(pid, def, sizeof(def));
    if (rc >= 0 && is_socket(def)) {
        if ((size_t)rc >= len) ctl_die(CTL_EIO, "socket path too long: %s", def);
        memcpy(buf, def, (size_t)rc + 1);
        return;
    }
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/%ld", pid);
    struct stat st;
    if (stat(proc, &st) != 0) ctl_die(CTL_EIO, "no process with pid %ld", pid);

    inodes_t set = {0};
    int err = socket_inodes(pid, &set);
    if (err)
        ctl_die(CTL_EIO,
                "no debug socket at %s, and cannot search pid %ld's open files: %s "
                "(pass -s SOCKET)",
                rc >= 0 ? def : "the default path", pid, strerror(err));
    int found = listening_path(pid, &set, buf, len);
    free(set.v);
    if (found == 0)
        ctl_die(CTL_EIO,
                "no debug socket for pid %ld: nothing at %s and no listening *.sock socket "
                "among its open files (is it running with a debug socket?)",
                pid, rc >= 0 ? def : "the default path");
    if (found > 1)
        ctl_warn("pid %ld listens on %d *.sock sockets; using %s (pass -s to choose)", pid,
                 found, buf);
}

/* ---- the exchange ---- */

typedef struct {
    int fd;
    const char *path;
    int timeout_ms;
    int64_t deadline; /* CLOCK_MONOTONIC ms; INT64_MAX without a timeout */
    char *buf;        /* received bytes; [off, len) not yet returned */
    size_t off, len, cap;
    size_t scan; /* [off, scan) has no '\n' */
} conn_t;

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left for poll(), -1 for no limit; exits when none are left. */
static int time_left(const conn_t *c, const char *what) {
    if (c->deadline == INT64_MAX) return -1;
    int64_t left = c->deadline - now_ms();
    if (left <= 0)
        ctl_die(CTL_EIO,
                "timed out after %d ms waiting for %s from %s (is the runtime's event loop "
                "blocked? try a longer -t)",
                c->timeout_ms, what, c->path);
    return left > INT_MAX ? INT_MAX : (int)left;
}

/* Wait until fd is ready for `events` (or has hung up), or exit at the
 * deadline. */
static void wait_for(const conn_t *c, short events, const char *what) {
    for (;;) {
        struct pollfd p = {.fd = c->fd, .events = events};
        int r = poll(&p, 1, time_left(c, what));
        if (r > 0) return;
        if (r < 0 && errno != EINTR) ctl_die(CTL_EIO, "poll: %s", strerror(errno));
        /* r == 0: time_left() decides whether the deadline has passed */
    }
}

static _Noreturn void connect_failed(const char *path, int err) {
    struct stat st;
    switch (err) {
    case ENOENT:
    case ENOTDIR:
        ctl_die(CTL_EIO, "no debug socket at %s (is the process running with a debug socket?)",
                path);
    case EACCES:
    case EPERM:
        ctl_die(CTL_EIO,
                "permission denied connecting to %s (the socket is 0600, owned by the "
                "runtime's user: run troupectl as that user or root)",
                path);
    case ECONNREFUSED:
        if (stat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
            ctl_die(CTL_EIO, "%s is not a socket", path);
        ctl_die(CTL_EIO,
                "stale socket %s: nobody is listening (the process has probably exited)", path);
    default:
        ctl_die(CTL_EIO, "cannot connect to %s: %s", path, strerror(err));
    }
}

static void do_connect(conn_t *c) {
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    size_t n = strlen(c->path);
    if (n >= sizeof(sa.sun_path))
        ctl_die(CTL_EUSAGE, "socket path too long (%zu bytes, at most %zu): %s", n,
                sizeof(sa.sun_path) - 1, c->path);
    memcpy(sa.sun_path, c->path, n);

    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (c->fd < 0) ctl_die(CTL_EIO, "socket: %s", strerror(errno));
    for (;;) {
        if (connect(c->fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0) return;
        int err = errno;
        if (err == EISCONN) return; /* an interrupted connect completed */
        if (err == EINTR) continue;
        if (err == EAGAIN || err == EINPROGRESS) {
            /* A full listen backlog: the runtime has not accepted for a
             * while. Try again until the deadline. */
            time_left(c, "the connection to be accepted");
            struct timespec ts = {0, 10 * 1000000};
            nanosleep(&ts, NULL);
            continue;
        }
        connect_failed(c->path, err);
    }
}

/* The next non-empty line, NUL-terminated, without its "\n" or "\r\n";
 * valid until the next call. NULL when the server closed the connection
 * between lines; closing in the middle of a line is an error. */
static char *read_line(conn_t *c, size_t *n_out, const char *what) {
    if (c->off) { /* drop what was returned */
        memmove(c->buf, c->buf + c->off, c->len - c->off);
        c->len -= c->off;
        c->scan -= c->off;
        c->off = 0;
    }
    for (;;) {
        char *nl = c->scan < c->len ? memchr(c->buf + c->scan, '\n', c->len - c->scan) : NULL;
        if (nl) {
            char *line = c->buf + c->off;
            size_t n = (size_t)(nl - line);
            *nl = '\0';
            c->off = c->scan = (size_t)(nl - c->buf) + 1;
            if (n && line[n - 1] == '\r') line[--n] = '\0';
            if (n == 0) continue; /* an empty line says nothing */
            *n_out = n;
            return line;
        }
        c->scan = c->len;
        if (c->len - c->off > LINE_MAX_BYTES)
            ctl_die(CTL_EIO, "%s from %s is longer than the protocol's 4 MiB line limit", what,
                    c->path);
        if (c->len == c->cap) {
            if (c->off) { /* only empty lines before: drop them */
                memmove(c->buf, c->buf + c->off, c->len - c->off);
                c->len -= c->off;
                c->scan -= c->off;
                c->off = 0;
            } else {
                size_t cap = c->cap ? c->cap * 2 : LINE_FIRST_CAP;
                if (cap > LINE_MAX_BYTES + 2) cap = LINE_MAX_BYTES + 2;
                char *buf = realloc(c->buf, cap + 1); /* + 1: room for a NUL */
                if (!buf) ctl_die(CTL_EIO, "out of memory");
                c->buf = buf;
                c->cap = cap;
            }
        }
        ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
        if (r > 0) {
            c->len += (size_t)r;
            continue;
        }
        if (r == 0) {
            if (c->len > c->off)
                ctl_die(CTL_EIO,
                        "%s closed the connection in the middle of %s (after %zu bytes)",
                        c->path, what, c->len - c->off);
            return NULL;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            wait_for(c, POLLIN, what);
            continue;
        }
        if (errno == ECONNRESET)
            ctl_die(CTL_EIO, "%s reset the connection while sending %s", c->path, what);
        ctl_die(CTL_EIO, "cannot read from %s: %s", c->path, strerror(errno));
    }
}

static void write_all(conn_t *c, const char *p, size_t n) {
    while (n) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w >= 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            wait_for(c, POLLOUT, "the server to read the request");
            continue;
        }
        if (errno == EPIPE || errno == ECONNRESET)
            ctl_die(CTL_EIO, "%s closed the connection before reading the request", c->path);
        ctl_die(CTL_EIO, "cannot write to %s: %s", c->path, strerror(errno));
    }
}

static json_t *parse_line(const conn_t *c, const char *line, size_t n, const char *what) {
    json_error_t err;
    json_t *v = json_loadb(line, n, 0, &err);
    if (!v)
        ctl_die(CTL_EIO, "%s from %s is not valid JSON: %s (column %d)", what, c->path,
                err.text, err.column);
    if (!json_is_object(v)) ctl_die(CTL_EIO, "%s from %s is not a JSON object", what, c->path);
    return v;
}

static void check_hello(const conn_t *c, const json_t *hello) {
    const json_t *h = json_object_get(hello, "hello");
    if (!json_is_string(h) || strcmp(json_string_value(h), "troupe") != 0)
        ctl_die(CTL_EIO, "%s does not speak the troupe debug protocol (no troupe hello)",
                c->path);
    const json_t *v = json_object_get(hello, "v");
    if (!json_is_integer(v))
        ctl_die(CTL_EIO, "the hello from %s has no protocol version", c->path);
    json_int_t ver = json_integer_value(v);
    if (ver < TR_DEBUG_PROTOCOL)
        ctl_die(CTL_EIO, "%s speaks debug protocol %" JSON_INTEGER_FORMAT
                ", which troupectl does not know (it speaks %d)",
                c->path, ver, TR_DEBUG_PROTOCOL);
    if (ver > TR_DEBUG_PROTOCOL)
        ctl_warn("%s speaks debug protocol %" JSON_INTEGER_FORMAT ", newer than troupectl's %d: "
                 "some of the answer may not be shown (--json shows all of it)",
                 c->path, ver, TR_DEBUG_PROTOCOL);
}

static void conn_close(conn_t *c) {
    if (c->fd >= 0) close(c->fd);
    free(c->buf);
}

json_t *ctl_exchange(const char *path, int timeout_ms, const char *request, size_t reqlen) {
    conn_t c = {.fd = -1, .path = path, .timeout_ms = timeout_ms};
    c.deadline = timeout_ms > 0 ? now_ms() + timeout_ms : INT64_MAX;
    do_connect(&c);

    size_t n;
    char *line = read_line(&c, &n, "the hello");
    if (!line) ctl_die(CTL_EIO, "%s closed the connection without a hello", path);
    json_t *hello = parse_line(&c, line, n, "the hello");
    if (json_is_boolean(json_object_get(hello, "ok"))) {
        /* an error in place of the hello: refused, evicted */
        conn_close(&c);
        return hello;
    }
    check_hello(&c, hello);
    json_decref(hello);

    write_all(&c, request, reqlen);
    line = read_line(&c, &n, "the response");
    if (!line) ctl_die(CTL_EIO, "%s closed the connection without answering", path);
    json_t *resp = parse_line(&c, line, n, "the response");
    conn_close(&c);
    return resp;
}
