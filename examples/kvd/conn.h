/* examples/kvd/conn.h: the connection actor's state, shared by conn.c (I/O,
 * batching, replies in order) and commands.c (the command table). */
#ifndef KVD_CONN_H
#define KVD_CONN_H

#include "kvd.h"
#include "resp.h"

/* One argument of a command, pointing into the input buffer (valid while
 * the command is being dispatched). */
typedef struct kvd_arg_s {
    const char *p;
    size_t len;
} kvd_arg_t;

struct agg_s; /* a command answered by several shards (commands.c) */

/* The reply to one command of the current batch. */
typedef struct slot_s {
    size_t off, len;    /* the finished reply, in the arena */
    int done;
    struct agg_s *agg;  /* several shards answer: NULL otherwise */
} slot_t;

typedef struct conn_s {
    int fd;
    uint32_t id;
    uint32_t nshards;
    char peer[64];
    tr_ref_t *shards;        /* cached shard refs, looked up by name */
    kvd_settings_t settings; /* the live part is updated on UpdateConfig */
    uint64_t started_ms;

    kvd_buf_t in;            /* bytes read; [in_off, len) not yet dispatched */
    size_t in_off;
    resp_parser_t req;       /* the request at in_off */
    kvd_arg_t *argv;         /* the command being dispatched */
    size_t argcap;

    slot_t *slots;           /* the batch: one slot per command, in order */
    uint32_t nslots, slotcap;
    uint32_t pending;        /* calls of this batch not resolved yet */
    kvd_buf_t arena;         /* reply bytes of the batch, slots point here */
    kvd_buf_t req_buf;       /* the request being encoded for a shard */

    kvd_buf_t out;           /* replies to write; [out_off, len) unsent */
    size_t out_off;
    int events;              /* TR_FD_* being watched (0: none) */
    int closing;             /* close once out is written (QUIT, bad RESP) */
    int eof;                 /* the client shut down its side: close once its
                                last requests are answered */
    int dead;                /* stopping: do nothing more */

    uint64_t commands, bytes_in, bytes_out, errors;
} conn_t;

/* commands.c: run one command (argc >= 1) whose reply goes to `slot`:
 * either a local reply (slot done at once) or calls to shards (the
 * continuations finish the slot). */
void kvd_command(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc);

/* commands.c: a shard's answer to call `part` of slot's command. */
void kvd_command_reply(tr_ctx_t *ctx, conn_t *c, uint32_t slot, uint32_t shard,
                       const tr_result_t *r);

/* commands.c: free an aggregate (the batch is done or the connection
 * stops). */
void kvd_agg_free(struct agg_s *agg);

/* conn.c: helpers for commands.c. */

/* Start a reply for `slot` at the end of the arena: returns the arena, to
 * append one RESP value to, then call kvd_slot_done. */
kvd_buf_t *kvd_slot_begin(conn_t *c, uint32_t slot);
void kvd_slot_done(conn_t *c, uint32_t slot);

/* Send c->req_buf as a call of `type` to shard `shard`; the answer comes
 * to kvd_command_reply. Returns 0 (c->pending counts it) or the tr_call
 * error (nothing is pending; the caller replies). */
int kvd_call_shard(tr_ctx_t *ctx, conn_t *c, uint32_t slot, uint32_t shard, int type);

/* The error reply text for a failed call (tr_call's return, or a result). */
void kvd_call_error(kvd_buf_t *b, const conn_t *c, uint32_t shard, int status,
                    const tr_result_t *r);

/* conn.c: move the connection forward as far as it goes without waiting:
 * finish a complete batch, write, start the next batch, re-watch the
 * socket. */
void kvd_conn_pump(tr_ctx_t *ctx, conn_t *c);

#endif /* KVD_CONN_H */
