/* examples/kvd/conn.c: the connection actor: one per client socket, a
 * temporary child of kvd/clients.
 *
 * The flow is batch by batch, as Redis processes one read buffer at a time:
 * parse every complete request in the input (up to BATCH_MAX), run each
 * (local ones answer at once, key commands become tr_calls to shards), and
 * when every call of the batch has resolved, copy the replies in request
 * order into the output and write it. Until the output is written, no new
 * batch starts, and input beyond QUERY_PAUSE bytes stops being read: a
 * client that does not read its replies is slowed down, not buffered for.
 * Every call resolves exactly once (reply, error, timeout or
 * DropWithoutReport), so a batch always finishes. */
#include "conn.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK (16 * 1024)       /* bytes per read(2), Redis's PROTO_IOBUF_LEN */
#define READ_PER_EVENT (256 * 1024)  /* then let other actors run */
#define QUERY_PAUSE (1024 * 1024)    /* unread input that pauses reading */
#define BATCH_MAX 1024               /* commands per batch */

enum { MSG_IO = TR_MSG_USER };

/* ---- slots ---- */

static uint32_t slot_new(conn_t *c) {
    if (c->nslots == c->slotcap) {
        uint32_t cap = c->slotcap ? c->slotcap * 2 : 16;
        slot_t *s = realloc(c->slots, cap * sizeof *s);
        if (!s)
            return UINT32_MAX;
        c->slots = s;
        c->slotcap = cap;
    }
    slot_t *s = &c->slots[c->nslots];
    memset(s, 0, sizeof *s);
    return c->nslots++;
}

kvd_buf_t *kvd_slot_begin(conn_t *c, uint32_t slot) {
    c->slots[slot].off = c->arena.len;
    return &c->arena;
}

void kvd_slot_done(conn_t *c, uint32_t slot) {
    slot_t *s = &c->slots[slot];
    s->len = c->arena.len - s->off;
    s->done = 1;
}

/* ---- calls ---- */

static tr_ref_t shard_ref(tr_ctx_t *ctx, conn_t *c, uint32_t shard, int refresh) {
    if (refresh || !tr_ref_valid(c->shards[shard])) {
        char name[64];
        snprintf(name, sizeof name, KVD_SHARD_NAME_FMT, shard);
        /* Not found: restarting (backoff) or gone; the call fails with EDEAD. */
        if (tr_whereis(tr_ctx_runtime(ctx), name, &c->shards[shard]) != 0)
            c->shards[shard] = TR_REF_NONE;
    }
    return c->shards[shard];
}

static void on_reply(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie) {
    conn_t *c = state;
    uintptr_t k = (uintptr_t)cookie;
    uint32_t slot = (uint32_t)(k >> 9), shard = (uint32_t)(k & 511);
    c->pending--;
    if (c->dead)
        return;
    kvd_command_reply(ctx, c, slot, shard, r);
    if (c->pending == 0)
        kvd_conn_pump(ctx, c);
}

int kvd_call_shard(tr_ctx_t *ctx, conn_t *c, uint32_t slot, uint32_t shard, int type) {
    void *cookie = (void *)(((uintptr_t)slot << 9) | shard);
    uint32_t timeout = c->settings.request_timeout_ms;
    const void *data = c->req_buf.len ? c->req_buf.p : NULL;
    int rc = tr_call(ctx, shard_ref(ctx, c, shard, 0), type, data, c->req_buf.len, on_reply,
                     cookie, timeout);
    if (rc == TR_EDEAD) /* the shard was restarted since we looked it up */
        rc = tr_call(ctx, shard_ref(ctx, c, shard, 1), type, data, c->req_buf.len, on_reply,
                     cookie, timeout);
    if (rc == 0)
        c->pending++;
    return rc;
}

void kvd_call_error(kvd_buf_t *b, const conn_t *c, uint32_t shard, int status,
                    const tr_result_t *r) {
    switch (status) {
    case TR_EREPLY: /* the shard's own error text */
        resp_error(b, "%s", r && r->detail ? r->detail : "ERR shard error");
        break;
    case TR_EDROPPED:
        resp_error(b, "ERR DropWithoutReport: shard-%u %s: %s", shard,
                   tr_drop_reason_str(r ? r->drop_reason : TR_DROP_NONE),
                   r && r->detail ? r->detail : "no reply");
        break;
    case TR_ETIMEDOUT:
        resp_error(b, "ERR timeout: shard-%u did not answer within %u ms", shard,
                   c->settings.request_timeout_ms);
        break;
    case TR_EFULL:
        resp_error(b, "TRYAGAIN shard-%u mailbox is full, retry later", shard);
        break;
    case TR_EDEAD:
        resp_error(b, "TRYAGAIN shard-%u is restarting, retry later", shard);
        break;
    case TR_ENOMEM:
        resp_error(b, "OOM out of memory");
        break;
    case TR_ESTOPPED:
        resp_error(b, "ERR server is shutting down");
        break;
    default:
        resp_error(b, "ERR shard-%u: %s", shard, tr_strerror(status));
        break;
    }
}

/* ---- output ---- */

/* Write what can be written. Returns 0, or -1 when the connection broke
 * (the actor is stopping). */
static int flush(tr_ctx_t *ctx, conn_t *c) {
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            c->dead = 1;
            tr_stop_self(ctx);
            return -1;
        }
        c->out_off += (size_t)n;
        c->bytes_out += (uint64_t)n;
        KVD_STAT_ADD(net_output_bytes, (uint64_t)n);
    }
    c->out.len = c->out_off = 0;
    return 0;
}

/* The batch is complete: its replies, in request order, go to the output. */
static int gather(conn_t *c) {
    size_t total = 0;
    for (uint32_t i = 0; i < c->nslots; i++)
        total += c->slots[i].len;
    int rc = kvd_buf_reserve(&c->out, total);
    for (uint32_t i = 0; i < c->nslots; i++) {
        slot_t *s = &c->slots[i];
        if (rc == 0)
            kvd_buf_add(&c->out, c->arena.p + s->off, s->len); /* reserved */
        kvd_agg_free(s->agg);
        s->agg = NULL;
    }
    c->nslots = 0;
    c->arena.len = 0;
    return rc;
}

/* ---- input ---- */

/* Read what is there (up to READ_PER_EVENT). Returns 0, or -1 when the peer
 * closed or the socket failed (the actor is stopping). */
static int read_input(tr_ctx_t *ctx, conn_t *c) {
    if (c->in_off > 0) { /* drop what was dispatched */
        memmove(c->in.p, c->in.p + c->in_off, c->in.len - c->in_off);
        c->in.len -= c->in_off;
        c->in_off = 0;
    }
    size_t got = 0;
    while (got < READ_PER_EVENT) {
        if (kvd_buf_reserve(&c->in, READ_CHUNK) != 0)
            break; /* out of memory: serve what we have, read later */
        size_t room = c->in.cap - c->in.len;
        ssize_t n = read(c->fd, c->in.p + c->in.len, room);
        if (n > 0) {
            c->in.len += (size_t)n;
            got += (size_t)n;
            if ((size_t)n < room)
                break; /* drained: a read that would say EAGAIN costs a syscall */
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n == 0) { /* the client is done sending: answer what it sent, then close */
            c->eof = 1;
            break;
        }
        c->dead = 1; /* a socket error: nobody is left to answer */
        tr_stop_self(ctx);
        return -1;
    }
    c->bytes_in += got;
    KVD_STAT_ADD(net_input_bytes, got);
    return 0;
}

/* Start a batch: run the complete requests in the input. Returns how many
 * commands were started. */
static int dispatch(tr_ctx_t *ctx, conn_t *c) {
    int started = 0;
    c->req.max_bulk = c->settings.max_bulk;
    while (started < BATCH_MAX && !c->closing && !c->dead) {
        const char *base = c->in.p + c->in_off;
        int rc = resp_parse(&c->req, base, c->in.len - c->in_off);
        if (rc == RESP_MORE)
            break;
        if (rc == RESP_DONE && c->req.nargs == 0) { /* empty line, "*0" */
            c->in_off += c->req.pos;
            resp_parser_reset(&c->req);
            continue;
        }
        uint32_t slot = slot_new(c);
        if (slot == UINT32_MAX) { /* cannot even say it: drop the client */
            c->dead = 1;
            tr_stop_self(ctx);
            break;
        }
        started++;
        if (rc != RESP_DONE) { /* Redis replies, then closes */
            kvd_buf_t *b = kvd_slot_begin(c, slot);
            if (rc == RESP_NOMEM)
                resp_error(b, "OOM out of memory");
            else
                resp_error(b, "ERR %s", c->req.error);
            kvd_slot_done(c, slot);
            KVD_STAT_ADD(protocol_errors, rc == RESP_ERROR);
            c->closing = 1;
            break;
        }
        if (c->req.nargs > c->argcap) {
            kvd_arg_t *v = realloc(c->argv, c->req.nargs * sizeof *v);
            if (!v) {
                resp_error(kvd_slot_begin(c, slot), "OOM out of memory");
                kvd_slot_done(c, slot);
                c->closing = 1;
                break;
            }
            c->argv = v;
            c->argcap = c->req.nargs;
        }
        for (size_t i = 0; i < c->req.nargs; i++) {
            c->argv[i].p = base + c->req.argv[i].off;
            c->argv[i].len = c->req.argv[i].len;
        }
        c->commands++;
        KVD_STAT_ADD(commands_processed, 1);
        kvd_command(ctx, c, slot, c->argv, c->req.nargs);
        c->in_off += c->req.pos;
        resp_parser_reset(&c->req);
    }
    return started;
}

/* What to watch: read unless closing or the input backlog is at its limit
 * while the batch or the output holds us up; write while output waits. */
static void rewatch(tr_ctx_t *ctx, conn_t *c) {
    if (c->dead)
        return;
    int busy = c->pending || c->out_off < c->out.len;
    int want = 0;
    if (!c->closing && !c->eof && !(busy && c->in.len - c->in_off >= QUERY_PAUSE))
        want |= TR_FD_READ;
    if (c->out_off < c->out.len)
        want |= TR_FD_WRITE;
    if (want == c->events)
        return;
    if (c->events)
        tr_unwatch_fd(ctx, c->fd);
    c->events = 0;
    if (want && tr_watch_fd(ctx, c->fd, want, MSG_IO) == 0)
        c->events = want;
    else if (want) { /* out of memory: a connection we cannot watch is lost */
        c->dead = 1;
        tr_stop_self(ctx);
    }
}

void kvd_conn_pump(tr_ctx_t *ctx, conn_t *c) {
    while (!c->dead && c->pending == 0) {
        if (c->nslots && gather(c) != 0) { /* no memory for the replies */
            c->dead = 1;
            tr_stop_self(ctx);
            return;
        }
        if (flush(ctx, c) != 0 || c->out_off < c->out.len)
            break; /* broken, or the socket is full: wait for TR_FD_WRITE */
        if (c->closing) {
            c->dead = 1;
            tr_stop_self(ctx);
            return;
        }
        if (dispatch(ctx, c) == 0) {
            if (c->eof) { /* no more input will come: done */
                c->dead = 1;
                tr_stop_self(ctx);
                return;
            }
            break; /* no complete request: wait for input */
        }
    }
    rewatch(ctx, c);
}

static void on_io(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    conn_t *c = state;
    const tr_fd_event_t *ev = msg->data;
    if (c->dead)
        return;
    if ((ev->events & TR_FD_READ) && (c->events & TR_FD_READ) && read_input(ctx, c) != 0)
        return;
    kvd_conn_pump(ctx, c);
}

static const tr_handler_t conn_handlers[] = {
    TR_ON(MSG_IO, on_io, tr_fd_event_t),
    TR_END
};

/* ---- lifecycle ---- */

/* client_mailbox from [kvd], unless the connection's own sections set the
 * runtime's mailbox_capacity. */
static void apply_config(tr_ctx_t *ctx, conn_t *c, const tr_config_section_t *own) {
    kvd_settings_t s;
    if (!own->config) /* no config: the listener's settings stand */
        return;
    if (kvd_settings_read(own->config, &s, NULL) != 0)
        return; /* validated by the listener before any commit */
    kvd_settings_take_live(&c->settings, &s);
    if (!tr_config_has(own, "mailbox_capacity"))
        tr_set_mailbox_capacity(tr_ctx_runtime(ctx), tr_self(ctx), s.client_mailbox);
}

static int conn_init(tr_ctx_t *ctx, void *state, const void *args) {
    conn_t *c = state;
    const kvd_conn_args_t *a = args;
    /* Own the socket first: from here on the runtime closes it whatever
     * happens. The listener let go of it already (this init may run later,
     * on another scheduler), so a socket that cannot be owned is closed
     * here. */
    if (tr_own_fd(ctx, a->fd) != 0) {
        close(a->fd);
        return 1;
    }
    c->fd = a->fd;
    c->id = a->id;
    c->nshards = a->shards;
    c->settings = a->settings;
    snprintf(c->peer, sizeof c->peer, "%s", a->peer);
    c->started_ms = tr_runtime_now_ms(tr_ctx_runtime(ctx));
    if (!(c->shards = calloc(c->nshards, sizeof *c->shards)))
        return 1;
    tr_config_section_t sec;
    if (tr_ctx_config(ctx, &sec) == 0)
        apply_config(ctx, c, &sec);
    c->req.max_bulk = c->settings.max_bulk;
    rewatch(ctx, c);
    if (!c->events)
        return 1;
    KVD_STAT_ADD(clients_connected, 1);
    return 0;
}

static void conn_terminate(tr_ctx_t *ctx, void *state, tr_stop_reason_t reason) {
    conn_t *c = state;
    (void)ctx;
    (void)reason;
    KVD_STAT_ADD(clients_connected, (uint64_t)-1);
    for (uint32_t i = 0; i < c->nslots; i++)
        kvd_agg_free(c->slots[i].agg);
    free(c->slots);
    free(c->shards);
    free(c->argv);
    resp_parser_free(&c->req);
    kvd_buf_free(&c->in);
    kvd_buf_free(&c->out);
    kvd_buf_free(&c->arena);
    kvd_buf_free(&c->req_buf);
}

static void conn_on_config(tr_ctx_t *ctx, void *state, const tr_config_section_t *sec) {
    apply_config(ctx, state, sec);
}

static void conn_inspect(const void *state, tr_inspect_t *w) {
    const conn_t *c = state;
    tr_inspect_add(w, "peer", "%s", c->peer);
    tr_inspect_add(w, "id", "%u", c->id);
    tr_inspect_add(w, "commands", "%" PRIu64, c->commands);
    tr_inspect_add(w, "bytes_in", "%" PRIu64, c->bytes_in);
    tr_inspect_add(w, "bytes_out", "%" PRIu64, c->bytes_out);
    tr_inspect_add(w, "batch", "%u commands, %u calls pending", c->nslots, c->pending);
    tr_inspect_add(w, "input_unparsed", "%zu", c->in.len - c->in_off);
    tr_inspect_add(w, "output_unsent", "%zu", c->out.len - c->out_off);
    tr_inspect_add(w, "watching", "%s%s", (c->events & TR_FD_READ) ? "read " : "",
                   (c->events & TR_FD_WRITE) ? "write" : "");
}

const tr_actor_type_t kvd_conn_type = {
    .name = "kvd_client",
    .state_size = sizeof(conn_t),
    .handlers = conn_handlers,
    .init = conn_init,
    .terminate = conn_terminate,
    .on_config = conn_on_config,
    .inspect = conn_inspect,
};
