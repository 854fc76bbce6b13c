/* examples/kvd/listener.c: the listener actor (kvd/listener). It owns the
 * listening socket, accepts connections and starts one connection actor per
 * client under kvd/clients (simple_one_for_one, temporary children), up to
 * max_clients; beyond that a client gets Redis's "-ERR max number of
 * clients reached" and is closed.
 *
 * Its type also checks the [kvd] section on every reload
 * (validate_config): a bad value rejects the whole reload, with file:line.
 * On a committed reload it logs what changed, and which changed keys only
 * take effect after a restart (bind, port, shards). */
#include "kvd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPT_PER_EVENT 64

enum { MSG_ACCEPT = TR_MSG_USER };

typedef struct listener_s {
    int fd;
    kvd_settings_t running; /* bind/port/shards as started; the rest as last applied */
    kvd_settings_t applied; /* the [kvd] settings of the last config applied */
    uint32_t next_id;
    tr_ref_t clients;       /* kvd/clients, looked up when first needed */
    uint64_t accepted, rejected;
    int emfile_logged;
} listener_t;

static void format_peer(const struct sockaddr_storage *ss, char *buf, size_t len) {
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
    }
    snprintf(buf, len, ss->ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, port);
}

/* Refuse a client politely: one error line, then close. */
static void refuse(int fd, const char *line) {
    ssize_t n = send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)n; /* best effort: the client is being turned away */
    close(fd);
}

static void start_client(tr_ctx_t *ctx, listener_t *self, int fd, const char *peer) {
    tr_runtime_t *rt = tr_ctx_runtime(ctx);
    if (!tr_ref_valid(self->clients) || !tr_actor_alive(rt, self->clients))
        tr_whereis(rt, KVD_CLIENTS_SUP, &self->clients);
    /* the clients supervisor lives next to the listener (both children of
     * kvd, placed locally), so its children can be counted from here */
    int64_t live = tr_sup_which_children(rt, self->clients, NULL, 0);
    if (live < 0) {
        refuse(fd, "-ERR server is shutting down\r\n");
        return;
    }
    if ((uint64_t)live >= self->running.max_clients) {
        self->rejected++;
        KVD_STAT_ADD(connections_rejected, 1);
        refuse(fd, "-ERR max number of clients reached\r\n");
        return;
    }
    kvd_conn_args_t args = {.fd = fd, .settings = self->running, .id = ++self->next_id,
                            .shards = self->running.shards};
    snprintf(args.peer, sizeof args.peer, "%s", peer);
    int rc = tr_sup_start_child(rt, self->clients, &args, sizeof args, NULL);
    if (rc != 0) {
        tr_log(rt, TR_LOG_WARNING, "kvd: cannot serve %s: %s", peer, tr_strerror(rc));
        if (rc != TR_EINIT) /* else init owned it (or closed it) */
            refuse(fd, rc == TR_ESTOPPED ? "-ERR server is shutting down\r\n"
                                         : "-ERR cannot serve this connection\r\n");
        return;
    }
    self->accepted++;
    KVD_STAT_ADD(connections_received, 1);
}

static void on_accept(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    listener_t *self = state;
    (void)msg;
    for (int i = 0; i < ACCEPT_PER_EVENT; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(self->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if ((errno == EMFILE || errno == ENFILE) && !self->emfile_logged) {
                self->emfile_logged = 1; /* once per burst: the socket stays readable */
                tr_log(tr_ctx_runtime(ctx), TR_LOG_WARNING,
                       "kvd: accept: %s (raise ulimit -n or lower max_clients)", strerror(errno));
            }
            return; /* EAGAIN: all accepted */
        }
        self->emfile_logged = 0;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        char peer[64];
        format_peer(&ss, peer, sizeof peer);
        start_client(ctx, self, fd, peer);
    }
}

static const tr_handler_t listener_handlers[] = {
    TR_ON(MSG_ACCEPT, on_accept, tr_fd_event_t),
    TR_END
};

/* Bind and listen, or say why not (the spawn fails: kvd does not start). */
static int open_socket(tr_ctx_t *ctx, listener_t *self) {
    tr_runtime_t *rt = tr_ctx_runtime(ctx);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, self->running.bind, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)self->running.port);
        sl = sizeof *in;
    } else if (inet_pton(AF_INET6, self->running.bind, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)self->running.port);
        sl = sizeof *in6;
    } else {
        tr_log(rt, TR_LOG_ERROR, "kvd: bind = %s is not an address", self->running.bind);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || tr_own_fd(ctx, fd) != 0) {
        tr_log(rt, TR_LOG_ERROR, "kvd: socket: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* restarts rebind at once */
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 511) != 0) {
        tr_log(rt, TR_LOG_ERROR, "kvd: cannot listen on %s:%u: %s", self->running.bind,
               self->running.port, strerror(errno));
        return -1;
    }
    sl = sizeof ss; /* port 0: the kernel chose one; say which */
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        self->running.port = ntohs(ss.ss_family == AF_INET6 ? in6->sin6_port : in->sin_port);
    self->fd = fd;
    return 0;
}

static int listener_init(tr_ctx_t *ctx, void *state, const void *args) {
    listener_t *self = state;
    const kvd_listener_args_t *a = args;
    self->running = a->settings;
    self->applied = a->settings;
    /* A restarted listener starts from the current config, not from the
     * settings kvd started with (a reload may have come between). */
    tr_config_section_t sec;
    if (tr_ctx_config(ctx, &sec) == 0 && sec.config &&
        kvd_settings_read(sec.config, &self->applied, NULL) == 0)
        kvd_settings_take_live(&self->running, &self->applied);
    if (open_socket(ctx, self) != 0)
        return 1;
    if (tr_watch_fd(ctx, self->fd, TR_FD_READ, MSG_ACCEPT) != 0)
        return 1;
    tr_log(tr_ctx_runtime(ctx), TR_LOG_NOTICE, "kvd: listening on %s:%u (%u shards, max %u clients)",
           self->running.bind, self->running.port, self->running.shards,
           self->running.max_clients);
    return 0;
}

static int listener_validate_config(const tr_config_section_t *sec, tr_config_error_t *err) {
    kvd_settings_t s;
    return kvd_settings_read(sec->config, &s, err);
}

static void listener_on_config(tr_ctx_t *ctx, void *state, const tr_config_section_t *sec) {
    listener_t *self = state;
    tr_runtime_t *rt = tr_ctx_runtime(ctx);
    kvd_settings_t next;
    if (kvd_settings_read(sec->config, &next, NULL) != 0)
        return; /* validate_config accepted it: cannot happen */
    kvd_settings_t *r = &self->running;
    if (next.max_clients != r->max_clients)
        tr_log(rt, TR_LOG_NOTICE, "kvd: max_clients %u -> %u", r->max_clients, next.max_clients);
    if (next.request_timeout_ms != r->request_timeout_ms)
        tr_log(rt, TR_LOG_NOTICE, "kvd: request_timeout %u ms -> %u ms", r->request_timeout_ms,
               next.request_timeout_ms);
    if (next.client_mailbox != r->client_mailbox)
        tr_log(rt, TR_LOG_NOTICE, "kvd: client_mailbox %u -> %u", r->client_mailbox,
               next.client_mailbox);
    if (next.shard_mailbox != r->shard_mailbox)
        tr_log(rt, TR_LOG_NOTICE, "kvd: shard_mailbox %u -> %u", r->shard_mailbox,
               next.shard_mailbox);
    if (next.debug_commands != r->debug_commands)
        tr_log(rt, TR_LOG_NOTICE, "kvd: debug_commands %s -> %s",
               r->debug_commands ? "yes" : "no", next.debug_commands ? "yes" : "no");
    if (next.max_bulk != r->max_bulk)
        tr_log(rt, TR_LOG_NOTICE, "kvd: max_bulk %llu -> %llu", (unsigned long long)r->max_bulk,
               (unsigned long long)next.max_bulk);
    /* Restart-only keys are compared with the previous config, not with
     * what runs (a --port on the command line is not a config change). */
    char keys[64];
    kvd_settings_restart_keys(&self->applied, &next, keys, sizeof keys);
    if (keys[0])
        tr_log(rt, TR_LOG_WARNING,
               "kvd: changed %s: needs a restart; still serving %s:%u with %u shards", keys,
               r->bind, r->port, r->shards);
    self->applied = next;
    kvd_settings_take_live(r, &next);
}

static void listener_inspect(const void *state, tr_inspect_t *w) {
    const listener_t *self = state;
    tr_inspect_add(w, "address", "%s:%u", self->running.bind, self->running.port);
    tr_inspect_add(w, "accepted", "%llu", (unsigned long long)self->accepted);
    tr_inspect_add(w, "rejected", "%llu", (unsigned long long)self->rejected);
    tr_inspect_add(w, "max_clients", "%u", self->running.max_clients);
}

const tr_actor_type_t kvd_listener_type = {
    .name = "kvd_listener",
    .state_size = sizeof(listener_t),
    .handlers = listener_handlers,
    .init = listener_init,
    .validate_config = listener_validate_config,
    .on_config = listener_on_config,
    .inspect = listener_inspect,
};
