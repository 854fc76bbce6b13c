/* examples/kvd/kvd.h: kvd's shared definitions: settings, the messages a
 * connection sends to a shard, the request encoding, process-wide counters.
 *
 * kvd is a Redis-protocol (RESP2) key-value server built on troupe:
 *
 *   kvd (one_for_one)
 *   ├── shards (one_for_one)      shard-0 … shard-N-1: each owns 1/N of the keys
 *   ├── clients (simple_one_for_one, temporary children): one actor per connection
 *   └── listener                  accepts connections, starts clients
 *
 * A connection actor parses RESP from its socket (pipelining included),
 * routes each key's command by hash to its shard with tr_call and a
 * timeout, and writes the replies in request order. See docs/kvd.md. */
#ifndef KVD_H
#define KVD_H

#include <troupe/troupe.h>

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define KVD_VERSION "0.1.0"
#define KVD_SHARDS_MAX 256
#define KVD_BIND_MAX 64

/* ---- settings ([kvd] section of kvd.ini) ---- */

typedef struct kvd_settings_s {
    /* restart to change */
    char bind[KVD_BIND_MAX];  /* IPv4 or IPv6 address to listen on */
    uint32_t port;            /* TCP port */
    uint32_t shards;          /* number of shard actors, 1..KVD_SHARDS_MAX */
    /* live on SIGHUP */
    uint32_t max_clients;     /* connections served at once */
    uint32_t client_mailbox;  /* mailbox capacity of each connection actor */
    uint32_t shard_mailbox;   /* mailbox capacity of each shard */
    uint32_t request_timeout_ms; /* tr_call timeout for each shard request */
    uint64_t max_bulk;        /* largest bulk string accepted, bytes */
    int debug_commands;       /* DEBUG PANIC is allowed */
} kvd_settings_t;

/* Read the [kvd] section of `cfg` (NULL: all defaults) into *out.
 * Returns 0 or TR_ECONFIG with *err filled (file:line, key, reason). */
int kvd_settings_read(const tr_config_t *cfg, kvd_settings_t *out, tr_config_error_t *err);

/* Copy the keys that apply live (all but bind, port and shards) from next
 * into *r. */
void kvd_settings_take_live(kvd_settings_t *r, const kvd_settings_t *next);

/* Which settings differ and need a restart: writes "port, shards" (or "")
 * into buf. */
void kvd_settings_restart_keys(const kvd_settings_t *running, const kvd_settings_t *next,
                               char *buf, size_t len);

/* ---- process-wide counters, for INFO ----
 * Relaxed atomics, as Redis's server.stat_* fields: statistics, not actor
 * state (no actor reads them to decide anything). */
typedef struct kvd_stats_s {
    _Atomic uint64_t connections_received;
    _Atomic uint64_t connections_rejected; /* max_clients reached */
    _Atomic uint64_t commands_processed;
    _Atomic uint64_t error_replies;        /* every -ERR/-... written */
    _Atomic uint64_t protocol_errors;      /* connections closed for bad RESP */
    _Atomic uint64_t net_input_bytes, net_output_bytes;
    _Atomic uint64_t keyspace_hits, keyspace_misses;
    _Atomic uint64_t expired_keys;
    _Atomic uint64_t clients_connected;    /* connection actors alive */
    _Atomic uint32_t shard_starts[KVD_SHARDS_MAX]; /* inits per shard index,
                                              since kvd_start (restarts + 1) */
    uint64_t start_ms;                     /* runtime time at start */
} kvd_stats_t;
extern kvd_stats_t kvd_stats;

#define KVD_STAT_ADD(field, n) atomic_fetch_add_explicit(&kvd_stats.field, (n), memory_order_relaxed)
#define KVD_STAT_GET(field) atomic_load_explicit(&kvd_stats.field, memory_order_relaxed)

/* ---- actor types ---- */

extern const tr_actor_type_t kvd_shard_type;
extern const tr_actor_type_t kvd_conn_type;
extern const tr_actor_type_t kvd_listener_type;

/* Start args of a shard (copied into its child spec). */
typedef struct kvd_shard_args_s {
    uint32_t index;
} kvd_shard_args_t;

/* Start args of the listener (copied into its child spec): the settings
 * kvd started with (the restart-only ones stay these until a restart). */
typedef struct kvd_listener_args_s {
    kvd_settings_t settings;
} kvd_listener_args_t;

/* Start args of a connection actor (copied by tr_sup_start_child). */
typedef struct kvd_conn_args_s {
    int fd;                  /* accepted socket: once tr_sup_start_child returns 0
                                or TR_EINIT, it is the connection's (its init
                                owns it, or closes it when it cannot); init
                                may run later, on another scheduler */
    kvd_settings_t settings; /* the listener's current settings */
    uint32_t id;             /* connection number, for INFO and logs */
    uint32_t shards;         /* the running shard count (not the config's) */
    char peer[64];           /* "127.0.0.1:51234" */
} kvd_conn_args_t;

/* Start kvd's tree on rt (scheduler thread, before tr_runtime_run): the
 * root supervisor "kvd" with shards, clients and the listener, from the
 * settings in largs (copied). Returns tr_sup_start's result: 0, or
 * TR_EINIT when a child could not start (the log says why: a port in use,
 * say), TR_EEXIST when kvd already runs on rt, ... */
int kvd_start(tr_runtime_t *rt, const kvd_listener_args_t *largs);

/* Registered names. */
#define KVD_ROOT "kvd"
#define KVD_SHARDS_SUP "kvd/shards"
#define KVD_CLIENTS_SUP "kvd/clients"
#define KVD_SHARD_NAME_FMT "kvd/shards/shard-%u"

/* ---- connection → shard messages ----
 * Every shard message is a call. The payload is a request (below); the reply
 * is RESP bytes ready to be written to the client, or tr_reply_error with
 * the RESP error text (without '-' and CRLF). KVD_MGET replies with one
 * bulk string (or null) per key, concatenated; KVD_KEYS with a RESP array
 * header and bulk strings; KVD_INFO with a kvd_shard_info_t. */
enum {
    KVD_GET = TR_MSG_USER,
    KVD_SET,      /* args: key value; flags KVD_SET_*; num: expire in ms (0: none) */
    KVD_INCRBY,   /* args: key; num: delta */
    KVD_DEL,      /* args: keys; reply :count */
    KVD_EXISTS,   /* args: keys; reply :count (repeats count again) */
    KVD_MGET,     /* args: keys */
    KVD_MSET,     /* args: key value ...; reply +OK */
    KVD_EXPIRE,   /* args: key; num: ms from now (<= 0: delete); reply :0/:1 */
    KVD_PERSIST,  /* args: key; reply :0/:1 */
    KVD_TTL,      /* args: key; flags KVD_TTL_MS for PTTL */
    KVD_DBSIZE,   /* no args; reply :count */
    KVD_FLUSH,    /* no args; reply +OK */
    KVD_KEYS,     /* args: pattern */
    KVD_INFO,     /* no args; reply kvd_shard_info_t */
    KVD_PANIC,    /* no args; the shard panics (DEBUG PANIC) */
    KVD_SHARD_TICK /* the shard's own timer: active expiry */
};

enum { KVD_SET_NX = 1, KVD_SET_XX = 2, KVD_SET_KEEPTTL = 4, KVD_TTL_MS = 8 };

typedef struct kvd_shard_info_s {
    uint64_t keys, expires;   /* keys, keys with a TTL */
    uint64_t bytes;           /* key and value bytes stored */
    uint64_t expired;         /* keys removed because their TTL passed */
    uint64_t commands;        /* requests handled by this incarnation */
} kvd_shard_info_t;

/* A request: a fixed header, then `argc` arguments, each a uint32_t
 * length (native byte order: requests never leave the process) and that
 * many bytes. */
typedef struct kvd_req_hdr_s {
    uint32_t flags;
    uint32_t argc;
    int64_t num;
} kvd_req_hdr_t;

/* A growable byte buffer. */
typedef struct kvd_buf_s {
    char *p;
    size_t len, cap;
} kvd_buf_t;

/* Make room for `n` more bytes. Returns 0 or TR_ENOMEM (buffer unchanged). */
int kvd_buf_reserve(kvd_buf_t *b, size_t n);
int kvd_buf_add(kvd_buf_t *b, const void *p, size_t n);
void kvd_buf_free(kvd_buf_t *b);

/* Request encoding: kvd_req_start resets `b` and writes the header;
 * kvd_req_arg appends one argument and bumps argc. Return 0 or TR_ENOMEM. */
int kvd_req_start(kvd_buf_t *b, uint32_t flags, int64_t num);
int kvd_req_arg(kvd_buf_t *b, const char *p, size_t len);

/* Request decoding: kvd_req_open checks the header and every length
 * against `len` (returns 0, or -1 for a malformed request); kvd_req_next
 * walks the arguments. */
typedef struct kvd_req_s {
    kvd_req_hdr_t hdr;
    const char *cur, *end;
} kvd_req_t;
int kvd_req_open(kvd_req_t *r, const void *data, size_t len);
int kvd_req_next(kvd_req_t *r, const char **p, size_t *len);

/* Which shard owns `key` (FNV-1a, then modulo). */
uint32_t kvd_shard_of(const char *key, size_t len, uint32_t shards);

#endif /* KVD_H */
