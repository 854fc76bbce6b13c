/* examples/kvd/commands.c: kvd's command table. A command either answers
 * on the connection (PING, ECHO, CONFIG GET, COMMAND, QUIT, SELECT) or
 * becomes calls to shards: one for a key command (GET, SET, INCR, ...),
 * one per shard holding some of the keys for MGET, MSET, DEL and EXISTS,
 * one per shard for DBSIZE, FLUSHALL, KEYS and INFO. The answers of a
 * multi-shard command are combined here (an "aggregate") before the slot
 * of the reply is done. Multi-shard writes are not atomic across shards:
 * MSET sets the keys of each shard together, not all at once. */
#include "conn.h"

#include <ctype.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void (*cmd_fn)(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc);

/* A command, with what COMMAND reports (Redis's arity convention: n > 0
 * exactly n arguments with the name, n < 0 at least -n). */
typedef struct cmd_s {
    const char *name;
    int arity;
    cmd_fn fn;
    const char *flags; /* space-separated, for COMMAND */
    int first_key, last_key, step;
} cmd_t;

/* ---- aggregates ---- */

enum { AGG_SUM, AGG_OK, AGG_MGET, AGG_KEYS, AGG_INFO };

typedef struct agg_s {
    int kind;
    uint32_t waiting;       /* shard answers still to come */
    int failed;             /* the first error is at err */
    resp_span_t err;
    int64_t sum;            /* AGG_SUM; AGG_KEYS: keys found */
    uint32_t nkeys;         /* AGG_MGET */
    uint32_t *start;        /* per shard: keys of shard s are order[start[s] .. start[s+1]) */
    uint32_t *order;        /* key positions grouped by shard */
    resp_span_t *items;     /* AGG_MGET: each key's value; AGG_KEYS: each shard's keys */
    kvd_shard_info_t *info; /* AGG_INFO: each shard's answer */
    char section[32];       /* AGG_INFO: the section asked for ("" = all) */
} agg_t;

void kvd_agg_free(agg_t *a) {
    if (!a)
        return;
    free(a->start);
    free(a->order);
    free(a->items);
    free(a->info);
    free(a);
}


static void reply_error(conn_t *c, uint32_t slot, const char *text) {
    resp_error(kvd_slot_begin(c, slot), "%s", text);
    kvd_slot_done(c, slot);
}

static void reply_oom(conn_t *c, uint32_t slot) { reply_error(c, slot, "OOM out of memory"); }

/* Append arena[off, off+len) to the arena's end. Reserve first: the copy's
 * source moves if the arena does. */
static int arena_copy(conn_t *c, size_t off, size_t len) {
    if (kvd_buf_reserve(&c->arena, len) != 0)
        return TR_ENOMEM;
    memcpy(c->arena.p + c->arena.len, c->arena.p + off, len);
    c->arena.len += len;
    return 0;
}

static void info_text(tr_ctx_t *ctx, conn_t *c, const agg_t *a, kvd_buf_t *t);

/* Every shard has answered: write the combined reply. */
static void agg_finish(tr_ctx_t *ctx, conn_t *c, uint32_t slot) {
    agg_t *a = c->slots[slot].agg;
    kvd_buf_t *b = kvd_slot_begin(c, slot);
    int rc = 0;
    if (a->failed) {
        rc = arena_copy(c, a->err.off, a->err.len);
    } else if (a->kind == AGG_SUM) {
        rc = resp_int(b, a->sum);
    } else if (a->kind == AGG_OK) {
        rc = resp_simple(b, "OK");
    } else if (a->kind == AGG_MGET) {
        rc = resp_array(b, a->nkeys);
        for (uint32_t i = 0; i < a->nkeys && rc == 0; i++)
            rc = arena_copy(c, a->items[i].off, a->items[i].len);
    } else if (a->kind == AGG_KEYS) {
        rc = resp_array(b, a->sum);
        for (uint32_t s = 0; s < c->nshards && rc == 0; s++)
            rc = arena_copy(c, a->items[s].off, a->items[s].len);
    } else { /* AGG_INFO */
        kvd_buf_t t = {0};
        info_text(ctx, c, a, &t);
        rc = t.p ? resp_bulk(b, t.p, t.len) : TR_ENOMEM;
        kvd_buf_free(&t);
    }
    if (rc != 0) {
        c->arena.len = c->slots[slot].off;
        resp_error(b, "OOM out of memory");
    }
    kvd_slot_done(c, slot);
}

/* Keep the first error of an aggregate, rendered in the arena. */
static void agg_error(conn_t *c, agg_t *a, uint32_t shard, int status, const tr_result_t *r) {
    if (a->failed)
        return;
    a->failed = 1;
    a->err.off = c->arena.len;
    kvd_call_error(&c->arena, c, shard, status, r);
    a->err.len = c->arena.len - a->err.off;
}

/* One shard's answer to an aggregate. */
static void agg_part(conn_t *c, agg_t *a, uint32_t shard, const tr_result_t *r) {
    const char *p = r->data;
    size_t n = r->len;
    int64_t v;
    if (a->kind == AGG_SUM) {
        if (n < 4 || p[0] != ':' || resp_parse_int(p + 1, n - 3, &v) != 0)
            return agg_error(c, a, shard, TR_EREPLY, NULL);
        a->sum += v;
    } else if (a->kind == AGG_MGET) {
        size_t base = c->arena.len;
        if (kvd_buf_add(&c->arena, p, n) != 0)
            return agg_error(c, a, shard, TR_ENOMEM, NULL);
        size_t at = 0;
        for (uint32_t j = a->start[shard]; j < a->start[shard + 1]; j++) {
            size_t l = resp_value_len(p + at, n - at);
            if (l == 0)
                return agg_error(c, a, shard, TR_EREPLY, NULL);
            a->items[a->order[j]].off = base + at;
            a->items[a->order[j]].len = l;
            at += l;
        }
    } else if (a->kind == AGG_KEYS) {
        const char *nl = n > 3 && p[0] == '*' ? memchr(p, '\n', n) : NULL;
        if (!nl || resp_parse_int(p + 1, (size_t)(nl - p) - 2, &v) != 0)
            return agg_error(c, a, shard, TR_EREPLY, NULL);
        size_t hl = (size_t)(nl - p) + 1;
        a->sum += v;
        a->items[shard].off = c->arena.len;
        a->items[shard].len = n - hl;
        if (kvd_buf_add(&c->arena, p + hl, n - hl) != 0)
            return agg_error(c, a, shard, TR_ENOMEM, NULL);
    } else if (a->kind == AGG_INFO) {
        if (n != sizeof(kvd_shard_info_t))
            return agg_error(c, a, shard, TR_EREPLY, NULL);
        memcpy(&a->info[shard], p, n);
    }
}

void kvd_command_reply(tr_ctx_t *ctx, conn_t *c, uint32_t slot, uint32_t shard,
                       const tr_result_t *r) {
    agg_t *a = c->slots[slot].agg;
    if (!a) {
        kvd_buf_t *b = kvd_slot_begin(c, slot);
        if (r->status != TR_OK)
            kvd_call_error(b, c, shard, r->status, r);
        else if (kvd_buf_add(b, r->data, r->len) != 0)
            resp_error(b, "OOM out of memory");
        kvd_slot_done(c, slot);
        return;
    }
    if (r->status != TR_OK)
        agg_error(c, a, shard, r->status, r);
    else
        agg_part(c, a, shard, r);
    if (--a->waiting == 0)
        agg_finish(ctx, c, slot);
}

static agg_t *agg_new(conn_t *c, uint32_t slot, int kind) {
    agg_t *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->kind = kind;
    c->slots[slot].agg = a;
    return a;
}

/* Send the request in c->req_buf to one shard of an aggregate; a call that
 * cannot be made counts as that shard's (failed) answer. */
static void agg_call(tr_ctx_t *ctx, conn_t *c, agg_t *a, uint32_t slot, uint32_t shard,
                     int type, int encode_rc) {
    int rc = encode_rc ? encode_rc : kvd_call_shard(ctx, c, slot, shard, type);
    if (rc != 0) {
        agg_error(c, a, shard, rc, NULL);
        a->waiting--;
    }
}

/* The command is out to its shards: finish now if none of the calls could
 * be made. */
static void agg_sent(tr_ctx_t *ctx, conn_t *c, agg_t *a, uint32_t slot) {
    if (a->waiting == 0)
        agg_finish(ctx, c, slot);
}

/* A command for every shard (DBSIZE, FLUSHALL, KEYS, INFO); `arg` (may be
 * NULL) goes to each. */
static void all_shards(tr_ctx_t *ctx, conn_t *c, uint32_t slot, int kind, int type,
                       const kvd_arg_t *arg, agg_t *a) {
    if (!a && !(a = agg_new(c, slot, kind)))
        return reply_oom(c, slot);
    if (kind == AGG_KEYS && !(a->items = calloc(c->nshards, sizeof *a->items)))
        return reply_oom(c, slot);
    if (kind == AGG_INFO && !(a->info = calloc(c->nshards, sizeof *a->info)))
        return reply_oom(c, slot);
    a->waiting = c->nshards;
    for (uint32_t s = 0; s < c->nshards; s++) {
        int enc = 0;
        c->req_buf.len = 0; /* no argument: an empty payload (TR_ON_EMPTY) */
        if (arg && (enc = kvd_req_start(&c->req_buf, 0, 0)) == 0)
            enc = kvd_req_arg(&c->req_buf, arg->p, arg->len);
        agg_call(ctx, c, a, slot, s, type, enc);
    }
    agg_sent(ctx, c, a, slot);
}

/* A command over keys (MGET, MSET, DEL, EXISTS): group the keys by shard,
 * then one call per shard that holds some. stride is 2 for MSET (key,
 * value pairs), else 1. */
static void by_key(tr_ctx_t *ctx, conn_t *c, uint32_t slot, int kind, int type,
                   kvd_arg_t *keys, size_t nkeys, size_t stride) {
    agg_t *a = agg_new(c, slot, kind);
    if (!a || !(a->start = calloc(c->nshards + 1, sizeof *a->start)) ||
        !(a->order = malloc(nkeys * sizeof *a->order)) ||
        (kind == AGG_MGET && !(a->items = calloc(nkeys, sizeof *a->items))))
        return reply_oom(c, slot);
    a->nkeys = (uint32_t)nkeys;
    uint32_t *cursor = calloc(c->nshards, sizeof *cursor);
    if (!cursor)
        return reply_oom(c, slot);
    for (size_t i = 0; i < nkeys; i++)
        a->start[kvd_shard_of(keys[i * stride].p, keys[i * stride].len, c->nshards) + 1]++;
    for (uint32_t s = 0; s < c->nshards; s++) {
        a->start[s + 1] += a->start[s];
        cursor[s] = a->start[s];
        a->waiting += a->start[s + 1] > a->start[s];
    }
    for (size_t i = 0; i < nkeys; i++)
        a->order[cursor[kvd_shard_of(keys[i * stride].p, keys[i * stride].len, c->nshards)]++] =
            (uint32_t)i;
    free(cursor);
    for (uint32_t s = 0; s < c->nshards; s++) {
        if (a->start[s + 1] == a->start[s])
            continue;
        int enc = kvd_req_start(&c->req_buf, 0, 0);
        for (uint32_t j = a->start[s]; j < a->start[s + 1] && enc == 0; j++) {
            const kvd_arg_t *k = &keys[a->order[j] * stride];
            enc = kvd_req_arg(&c->req_buf, k->p, k->len);
            if (enc == 0 && stride == 2)
                enc = kvd_req_arg(&c->req_buf, k[1].p, k[1].len);
        }
        agg_call(ctx, c, a, slot, s, type, enc);
    }
    agg_sent(ctx, c, a, slot);
}

/* ---- key commands ---- */

/* Send c->req_buf to one shard as the whole command (the counterpart of
 * agg_call); a call that cannot be made, or a failed encoding (encode_rc),
 * is the command's error reply. */
static void call_one(tr_ctx_t *ctx, conn_t *c, uint32_t slot, uint32_t shard, int type,
                     int encode_rc) {
    int rc = encode_rc ? encode_rc : kvd_call_shard(ctx, c, slot, shard, type);
    if (rc != 0) {
        kvd_call_error(kvd_slot_begin(c, slot), c, shard, rc, NULL);
        kvd_slot_done(c, slot);
    }
}

/* One call to the shard owning key; `val` (may be NULL) is a second
 * argument. */
static void single(tr_ctx_t *ctx, conn_t *c, uint32_t slot, int type, uint32_t flags, int64_t num,
                   const kvd_arg_t *key, const kvd_arg_t *val) {
    int rc = kvd_req_start(&c->req_buf, flags, num);
    if (rc == 0)
        rc = kvd_req_arg(&c->req_buf, key->p, key->len);
    if (rc == 0 && val)
        rc = kvd_req_arg(&c->req_buf, val->p, val->len);
    call_one(ctx, c, slot, kvd_shard_of(key->p, key->len, c->nshards), type, rc);
}

static void cmd_get(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    (void)argc;
    single(ctx, c, slot, KVD_GET, 0, 0, &argv[1], NULL);
}

/* SET key value [NX | XX] [EX seconds | PX milliseconds | KEEPTTL] */
static void cmd_set(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    uint32_t flags = 0;
    int64_t ms = 0;
    int timed = 0;
    for (size_t i = 3; i < argc; i++) {
        const kvd_arg_t *o = &argv[i];
        if (resp_eq(o->p, o->len, "nx") && !(flags & KVD_SET_XX)) {
            flags |= KVD_SET_NX;
        } else if (resp_eq(o->p, o->len, "xx") && !(flags & KVD_SET_NX)) {
            flags |= KVD_SET_XX;
        } else if (resp_eq(o->p, o->len, "keepttl") && !timed) {
            flags |= KVD_SET_KEEPTTL;
            timed = 1;
        } else if ((resp_eq(o->p, o->len, "ex") || resp_eq(o->p, o->len, "px")) && !timed &&
                   i + 1 < argc) {
            int64_t v;
            int sec = resp_eq(o->p, o->len, "ex");
            if (resp_parse_int(argv[i + 1].p, argv[i + 1].len, &v) != 0 || v <= 0 ||
                (sec && v > INT64_MAX / 1000))
                return reply_error(c, slot, "ERR invalid expire time in 'set' command");
            ms = sec ? v * 1000 : v;
            timed = 1;
            i++;
        } else {
            return reply_error(c, slot, "ERR syntax error");
        }
    }
    single(ctx, c, slot, KVD_SET, flags, ms, &argv[1], &argv[2]);
}

static void incr_by(tr_ctx_t *ctx, conn_t *c, uint32_t slot, const kvd_arg_t *key, int64_t d) {
    single(ctx, c, slot, KVD_INCRBY, 0, d, key, NULL);
}

static void cmd_incr(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    (void)argc;
    incr_by(ctx, c, slot, &argv[1], 1);
}

static void cmd_decr(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    (void)argc;
    incr_by(ctx, c, slot, &argv[1], -1);
}

static void cmd_incrby(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    int64_t d;
    (void)argc;
    if (resp_parse_int(argv[2].p, argv[2].len, &d) != 0)
        return reply_error(c, slot, "ERR value is not an integer or out of range");
    incr_by(ctx, c, slot, &argv[1], d);
}

static void cmd_decrby(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    int64_t d;
    (void)argc;
    if (resp_parse_int(argv[2].p, argv[2].len, &d) != 0)
        return reply_error(c, slot, "ERR value is not an integer or out of range");
    if (d == INT64_MIN)
        return reply_error(c, slot, "ERR decrement would overflow");
    incr_by(ctx, c, slot, &argv[1], -d);
}

static void cmd_del(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    by_key(ctx, c, slot, AGG_SUM, KVD_DEL, argv + 1, argc - 1, 1);
}

static void cmd_exists(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    by_key(ctx, c, slot, AGG_SUM, KVD_EXISTS, argv + 1, argc - 1, 1);
}

static void cmd_mget(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    by_key(ctx, c, slot, AGG_MGET, KVD_MGET, argv + 1, argc - 1, 1);
}

static void cmd_mset(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    if ((argc - 1) % 2 != 0)
        return reply_error(c, slot, "ERR wrong number of arguments for 'mset' command");
    by_key(ctx, c, slot, AGG_OK, KVD_MSET, argv + 1, (argc - 1) / 2, 2);
}

/* EXPIRE key seconds, PEXPIRE key milliseconds */
static void expire(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, int64_t unit,
                   const char *name) {
    int64_t v;
    if (resp_parse_int(argv[2].p, argv[2].len, &v) != 0)
        return reply_error(c, slot, "ERR value is not an integer or out of range");
    if (v > INT64_MAX / unit / 2 || v < INT64_MIN / unit) {
        resp_error(kvd_slot_begin(c, slot), "ERR invalid expire time in '%s' command", name);
        return kvd_slot_done(c, slot);
    }
    single(ctx, c, slot, KVD_EXPIRE, 0, v * unit, &argv[1], NULL);
}

static void cmd_expire(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    (void)argc;
    expire(ctx, c, slot, argv, 1000, "expire");
}

static void cmd_pexpire(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    (void)argc;
    expire(ctx, c, slot, argv, 1, "pexpire");
}

static void cmd_ttl(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    (void)argc;
    single(ctx, c, slot, KVD_TTL, 0, 0, &argv[1], NULL);
}

static void cmd_pttl(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    (void)argc;
    single(ctx, c, slot, KVD_TTL, KVD_TTL_MS, 0, &argv[1], NULL);
}

static void cmd_persist(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    (void)argc;
    single(ctx, c, slot, KVD_PERSIST, 0, 0, &argv[1], NULL);
}

/* ---- every shard ---- */

static void cmd_dbsize(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    (void)argv;
    (void)argc;
    all_shards(ctx, c, slot, AGG_SUM, KVD_DBSIZE, NULL, NULL);
}

/* FLUSHALL [ASYNC | SYNC] (both flush at once: shards free their tables) */
static void cmd_flushall(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    if (argc > 2 || (argc == 2 && !resp_eq(argv[1].p, argv[1].len, "async") &&
                     !resp_eq(argv[1].p, argv[1].len, "sync")))
        return reply_error(c, slot, "ERR syntax error");
    all_shards(ctx, c, slot, AGG_OK, KVD_FLUSH, NULL, NULL);
}

static void cmd_keys(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    (void)argc;
    all_shards(ctx, c, slot, AGG_KEYS, KVD_KEYS, &argv[1], NULL);
}

/* INFO [section]: server, clients, stats, keyspace, shards, troupe; none,
 * "all", "everything" or "default" means all of them. */
static void cmd_info(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    if (argc > 2)
        return reply_error(c, slot, "ERR syntax error");
    agg_t *a = agg_new(c, slot, AGG_INFO);
    if (!a)
        return reply_oom(c, slot);
    if (argc == 2) {
        size_t n = argv[1].len < sizeof a->section ? argv[1].len : sizeof a->section - 1;
        for (size_t i = 0; i < n; i++)
            a->section[i] = (char)tolower((unsigned char)argv[1].p[i]);
    }
    all_shards(ctx, c, slot, AGG_INFO, KVD_INFO, NULL, a);
}

/* Restarts of shard s since kvd_start: its inits minus the first (a
 * counter the shards keep, read from any scheduler). */
static uint32_t restarts_of(uint32_t s) {
    uint32_t n = s < KVD_SHARDS_MAX
                     ? atomic_load_explicit(&kvd_stats.shard_starts[s], memory_order_relaxed)
                     : 0;
    return n ? n - 1 : 0;
}

static int want_section(const agg_t *a, const char *name) {
    return !a->section[0] || strcmp(a->section, "all") == 0 ||
           strcmp(a->section, "everything") == 0 || strcmp(a->section, "default") == 0 ||
           strcmp(a->section, name) == 0;
}

static void addf(kvd_buf_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(kvd_buf_t *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char line[512];
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    kvd_buf_add(t, line, (size_t)n); /* on failure the text is short; checked by the caller */
}

static void info_text(tr_ctx_t *ctx, conn_t *c, const agg_t *a, kvd_buf_t *t) {
    tr_runtime_t *rt = tr_ctx_runtime(ctx);
    uint64_t now = tr_runtime_now_ms(rt);
    kvd_shard_info_t sum = {0};
    for (uint32_t s = 0; s < c->nshards; s++) {
        sum.keys += a->info[s].keys;
        sum.expires += a->info[s].expires;
        sum.bytes += a->info[s].bytes;
    }
    kvd_buf_reserve(t, 1); /* an empty section list is still a reply */
    if (want_section(a, "server")) {
        addf(t, "# Server\r\nkvd_version:%s\r\ntroupe_version:%s\r\n", KVD_VERSION,
             TROUPE_VERSION);
        /* Clients read redis_version to choose protocol features: kvd
         * answers as the RESP2 subset of Redis 7.0 it implements. */
        addf(t, "redis_version:7.0.0\r\nredis_mode:standalone\r\nprocess_id:%ld\r\n",
             (long)getpid());
        addf(t, "tcp_port:%u\r\nuptime_in_seconds:%" PRIu64 "\r\nshards:%u\r\n\r\n",
             c->settings.port, (now - kvd_stats.start_ms) / 1000, c->nshards);
    }
    if (want_section(a, "clients")) {
        /* a counter, not tr_sup_which_children: this connection may live on
         * another scheduler than kvd/clients */
        addf(t, "# Clients\r\nconnected_clients:%" PRIu64 "\r\nmaxclients:%u\r\n\r\n",
             KVD_STAT_GET(clients_connected), c->settings.max_clients);
    }
    if (want_section(a, "stats")) {
        addf(t, "# Stats\r\ntotal_connections_received:%" PRIu64 "\r\n",
             KVD_STAT_GET(connections_received));
        addf(t, "rejected_connections:%" PRIu64 "\r\ntotal_commands_processed:%" PRIu64 "\r\n",
             KVD_STAT_GET(connections_rejected), KVD_STAT_GET(commands_processed));
        addf(t, "total_error_replies:%" PRIu64 "\r\nprotocol_errors:%" PRIu64 "\r\n",
             KVD_STAT_GET(error_replies), KVD_STAT_GET(protocol_errors));
        addf(t, "total_net_input_bytes:%" PRIu64 "\r\ntotal_net_output_bytes:%" PRIu64 "\r\n",
             KVD_STAT_GET(net_input_bytes), KVD_STAT_GET(net_output_bytes));
        addf(t, "keyspace_hits:%" PRIu64 "\r\nkeyspace_misses:%" PRIu64 "\r\n",
             KVD_STAT_GET(keyspace_hits), KVD_STAT_GET(keyspace_misses));
        addf(t, "expired_keys:%" PRIu64 "\r\n\r\n", KVD_STAT_GET(expired_keys));
    }
    if (want_section(a, "keyspace")) {
        addf(t, "# Keyspace\r\n");
        if (sum.keys)
            addf(t, "db0:keys=%" PRIu64 ",expires=%" PRIu64 ",avg_ttl=0\r\n", sum.keys,
                 sum.expires);
        addf(t, "\r\n");
    }
    if (want_section(a, "shards")) {
        addf(t, "# Shards\r\n");
        for (uint32_t s = 0; s < c->nshards; s++) {
            const kvd_shard_info_t *i = &a->info[s];
            addf(t,
                 "shard_%u:keys=%" PRIu64 ",expires=%" PRIu64 ",bytes=%" PRIu64
                 ",commands=%" PRIu64 ",expired=%" PRIu64 ",restarts=%u\r\n",
                 s, i->keys, i->expires, i->bytes, i->commands, i->expired,
                 restarts_of(s));
        }
        addf(t, "\r\n");
    }
    if (want_section(a, "troupe")) {
        tr_stats_t st;
        tr_runtime_stats(rt, &st);
        addf(t, "# Troupe\r\nactors_live:%" PRIu64 "\r\nactors_spawned:%" PRIu64 "\r\n",
             st.actors_live, st.actors_spawned);
        addf(t, "msgs_sent:%" PRIu64 "\r\nmsgs_handled:%" PRIu64 "\r\n", st.msgs_sent,
             st.msgs_handled);
        addf(t, "calls_created:%" PRIu64 "\r\ncalls_ok:%" PRIu64 "\r\ncalls_error:%" PRIu64 "\r\n",
             st.chan_created, st.chan_ok, st.chan_error);
        addf(t, "calls_timeout:%" PRIu64 "\r\ncalls_dropped:%" PRIu64 "\r\ncalls_pending:%" PRIu64
                "\r\n",
             st.chan_timeout, st.chan_dropped, st.chan_pending);
        addf(t, "dead_letters:%" PRIu64 "\r\npanics:%" PRIu64 "\r\nrestarts:%" PRIu64 "\r\n",
             st.dead_letters, st.panics, st.restarts);
        addf(t, "config_generation:%" PRIu64 "\r\nreloads_ok:%" PRIu64 "\r\nreloads_failed:%" PRIu64
                "\r\n",
             st.config_generation, st.reloads_ok, st.reloads_failed);
    }
}

/* DEBUG PANIC <shard>: crash a shard (debug_commands = yes). */
static void cmd_debug(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    if (!c->settings.debug_commands)
        return reply_error(c, slot,
                           "ERR DEBUG is disabled: set debug_commands = yes in [kvd] and reload");
    if (!resp_eq(argv[1].p, argv[1].len, "panic") || argc != 3)
        return reply_error(c, slot, "ERR DEBUG supports only: DEBUG PANIC <shard>");
    const kvd_arg_t *a = &argv[2];
    size_t skip = a->len > 6 && strncmp(a->p, "shard-", 6) == 0 ? 6 : 0;
    int64_t n;
    if (resp_parse_int(a->p + skip, a->len - skip, &n) != 0 || n < 0 || n >= c->nshards) {
        resp_error(kvd_slot_begin(c, slot), "ERR no such shard (0 to %u)", c->nshards - 1);
        return kvd_slot_done(c, slot);
    }
    c->req_buf.len = 0;
    call_one(ctx, c, slot, (uint32_t)n, KVD_PANIC, 0);
}

/* ---- local commands ---- */

static void cmd_ping(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    (void)ctx;
    if (argc > 2)
        return reply_error(c, slot, "ERR wrong number of arguments for 'ping' command");
    kvd_buf_t *b = kvd_slot_begin(c, slot);
    if ((argc == 2 ? resp_bulk(b, argv[1].p, argv[1].len) : resp_simple(b, "PONG")) != 0)
        return reply_oom(c, slot);
    kvd_slot_done(c, slot);
}

static void cmd_echo(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    (void)ctx;
    (void)argc;
    if (resp_bulk(kvd_slot_begin(c, slot), argv[1].p, argv[1].len) != 0)
        return reply_oom(c, slot);
    kvd_slot_done(c, slot);
}

static void cmd_quit(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    (void)ctx;
    (void)argv;
    (void)argc;
    resp_simple(kvd_slot_begin(c, slot), "OK");
    kvd_slot_done(c, slot);
    c->closing = 1; /* close once the replies are written */
}

static void cmd_select(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    (void)ctx;
    (void)argc;
    if (!resp_eq(argv[1].p, argv[1].len, "0"))
        return reply_error(c, slot, "ERR DB index is out of range");
    resp_simple(kvd_slot_begin(c, slot), "OK");
    kvd_slot_done(c, slot);
}

/* CONFIG GET pattern...: kvd's own settings, as in [kvd] (restart-only ones
 * as running). "save" and "appendonly" say kvd persists nothing (and keep
 * redis-benchmark from warning that it could not read them). */
static void cmd_config(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    (void)ctx;
    if (!resp_eq(argv[1].p, argv[1].len, "get")) {
        if (resp_eq(argv[1].p, argv[1].len, "set"))
            return reply_error(c, slot,
                               "ERR CONFIG SET is not supported: edit kvd.ini and send SIGHUP");
        return reply_error(c, slot, "ERR CONFIG supports only GET");
    }
    if (argc < 3)
        return reply_error(c, slot, "ERR wrong number of arguments for 'config|get' command");
    const kvd_settings_t *s = &c->settings;
    char v[10][KVD_BIND_MAX];
    const char *names[] = {"bind", "port", "shards", "max_clients", "client_mailbox",
                           "shard_mailbox", "request_timeout", "max_bulk", "debug_commands",
                           "appendonly", "save", NULL};
    snprintf(v[0], sizeof v[0], "%s", s->bind);
    snprintf(v[1], sizeof v[1], "%u", s->port);
    snprintf(v[2], sizeof v[2], "%u", c->nshards);
    snprintf(v[3], sizeof v[3], "%u", s->max_clients);
    snprintf(v[4], sizeof v[4], "%u", s->client_mailbox);
    snprintf(v[5], sizeof v[5], "%u", s->shard_mailbox);
    snprintf(v[6], sizeof v[6], "%ums", s->request_timeout_ms);
    snprintf(v[7], sizeof v[7], "%" PRIu64, s->max_bulk);
    snprintf(v[8], sizeof v[8], "%s", s->debug_commands ? "yes" : "no");
    snprintf(v[9], sizeof v[9], "no");
    const char *values[] = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], ""};
    kvd_buf_t items = {0};
    int64_t n = 0;
    int matched[sizeof names / sizeof names[0]] = {0};
    for (size_t i = 2; i < argc; i++) {
        char pat[128];
        if (argv[i].len >= sizeof pat || memchr(argv[i].p, '\0', argv[i].len))
            continue; /* matches nothing we have */
        memcpy(pat, argv[i].p, argv[i].len);
        pat[argv[i].len] = '\0';
        for (size_t k = 0; names[k]; k++) {
            if (matched[k] || fnmatch(pat, names[k], FNM_CASEFOLD) != 0)
                continue;
            matched[k] = 1;
            n += 2;
            if (resp_bulk_str(&items, names[k]) != 0 || resp_bulk_str(&items, values[k]) != 0) {
                kvd_buf_free(&items);
                return reply_oom(c, slot);
            }
        }
    }
    kvd_buf_t *b = kvd_slot_begin(c, slot);
    int rc = resp_array(b, n);
    if (rc == 0 && n)
        rc = kvd_buf_add(b, items.p, items.len);
    kvd_buf_free(&items);
    if (rc != 0)
        return reply_oom(c, slot);
    kvd_slot_done(c, slot);
}

static void cmd_command(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc);

/* Most used first: the lookup is a linear scan. */
static const cmd_t commands[] = {
    {"get", 2, cmd_get, "readonly fast", 1, 1, 1},
    {"set", -3, cmd_set, "write denyoom", 1, 1, 1},
    {"incr", 2, cmd_incr, "write denyoom fast", 1, 1, 1},
    {"mset", -3, cmd_mset, "write denyoom", 1, -1, 2},
    {"mget", -2, cmd_mget, "readonly fast", 1, -1, 1},
    {"decr", 2, cmd_decr, "write denyoom fast", 1, 1, 1},
    {"incrby", 3, cmd_incrby, "write denyoom fast", 1, 1, 1},
    {"decrby", 3, cmd_decrby, "write denyoom fast", 1, 1, 1},
    {"del", -2, cmd_del, "write", 1, -1, 1},
    {"exists", -2, cmd_exists, "readonly fast", 1, -1, 1},
    {"expire", 3, cmd_expire, "write fast", 1, 1, 1},
    {"pexpire", 3, cmd_pexpire, "write fast", 1, 1, 1},
    {"ttl", 2, cmd_ttl, "readonly fast", 1, 1, 1},
    {"pttl", 2, cmd_pttl, "readonly fast", 1, 1, 1},
    {"persist", 2, cmd_persist, "write fast", 1, 1, 1},
    {"ping", -1, cmd_ping, "fast", 0, 0, 0},
    {"echo", 2, cmd_echo, "fast", 0, 0, 0},
    {"dbsize", 1, cmd_dbsize, "readonly fast", 0, 0, 0},
    {"flushall", -1, cmd_flushall, "write", 0, 0, 0},
    {"flushdb", -1, cmd_flushall, "write", 0, 0, 0},
    {"keys", 2, cmd_keys, "readonly", 0, 0, 0},
    {"info", -1, cmd_info, "loading stale", 0, 0, 0},
    {"config", -2, cmd_config, "admin loading stale", 0, 0, 0},
    {"command", -1, cmd_command, "loading stale", 0, 0, 0},
    {"select", 2, cmd_select, "loading stale fast", 0, 0, 0},
    {"quit", -1, cmd_quit, "fast", 0, 0, 0},
    {"debug", -2, cmd_debug, "admin noscript", 0, 0, 0},
};
static const size_t ncommands = sizeof commands / sizeof commands[0];

static const cmd_t *find_command(const char *p, size_t len) {
    for (size_t i = 0; i < ncommands; i++)
        if (resp_eq(p, len, commands[i].name))
            return &commands[i];
    return NULL;
}

static int command_entry(kvd_buf_t *b, const cmd_t *k) {
    int nflags = 0;
    for (const char *f = k->flags; *f; f++)
        nflags += (f == k->flags || f[-1] == ' ') && *f != ' ';
    int rc = resp_array(b, 6) | resp_bulk_str(b, k->name) | resp_int(b, k->arity) |
             resp_array(b, nflags);
    for (const char *f = k->flags; *f && rc == 0;) {
        size_t n = strcspn(f, " ");
        char word[32];
        snprintf(word, sizeof word, "%.*s", (int)n, f);
        rc = resp_simple(b, word);
        f += n;
        f += strspn(f, " ");
    }
    return rc | resp_int(b, k->first_key) | resp_int(b, k->last_key) | resp_int(b, k->step);
}

/* COMMAND, COMMAND COUNT, COMMAND INFO name...: what redis-cli and client
 * libraries ask. Other subcommands (DOCS) are errors, which makes redis-cli
 * fall back to its built-in help. */
static void cmd_command(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    (void)ctx;
    kvd_buf_t *b = kvd_slot_begin(c, slot);
    int rc = 0;
    if (argc == 1) {
        rc = resp_array(b, (int64_t)ncommands);
        for (size_t i = 0; i < ncommands && rc == 0; i++)
            rc = command_entry(b, &commands[i]);
    } else if (resp_eq(argv[1].p, argv[1].len, "count")) {
        rc = resp_int(b, (int64_t)ncommands);
    } else if (resp_eq(argv[1].p, argv[1].len, "info")) {
        rc = resp_array(b, (int64_t)argc - 2);
        for (size_t i = 2; i < argc && rc == 0; i++) {
            const cmd_t *k = find_command(argv[i].p, argv[i].len);
            rc = k ? command_entry(b, k) : resp_null(b);
        }
    } else {
        c->arena.len = c->slots[slot].off;
        resp_error(b, "ERR unknown subcommand '%.*s'. Try COMMAND, COMMAND COUNT, COMMAND INFO",
                   (int)(argv[1].len > 32 ? 32 : argv[1].len), argv[1].p);
    }
    if (rc != 0) {
        c->arena.len = c->slots[slot].off;
        return reply_oom(c, slot);
    }
    kvd_slot_done(c, slot);
}

/* A printable, bounded rendering of an argument for error messages. */
static void quote(char *out, size_t cap, const kvd_arg_t *a) {
    size_t n = 0;
    for (size_t i = 0; i < a->len && n + 5 < cap; i++) {
        unsigned char ch = (unsigned char)a->p[i];
        n += (size_t)snprintf(out + n, cap - n, isprint(ch) && ch != '\'' ? "%c" : "\\x%02x", ch);
    }
    out[n] = '\0';
}

void kvd_command(tr_ctx_t *ctx, conn_t *c, uint32_t slot, kvd_arg_t *argv, size_t argc) {
    const cmd_t *k = find_command(argv[0].p, argv[0].len);
    if (!k) {
        char name[64], arg[48], shown[160] = "";
        quote(name, sizeof name, &argv[0]);
        for (size_t i = 1; i < argc && i < 4; i++) { /* as Redis: the first few */
            quote(arg, sizeof arg, &argv[i]);
            size_t n = strlen(shown);
            snprintf(shown + n, sizeof shown - n, "'%s' ", arg);
        }
        resp_error(kvd_slot_begin(c, slot), "ERR unknown command '%s', with args beginning with: %s",
                   name, shown);
        return kvd_slot_done(c, slot);
    }
    if ((k->arity > 0 && argc != (size_t)k->arity) || (k->arity < 0 && argc < (size_t)-k->arity)) {
        resp_error(kvd_slot_begin(c, slot), "ERR wrong number of arguments for '%s' command", k->name);
        return kvd_slot_done(c, slot);
    }
    k->fn(ctx, c, slot, argv, argc);
}
