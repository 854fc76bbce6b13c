/* examples/kvd/shard.c: a shard actor. It owns the keys that hash to it,
 * in a uthash table, and answers the calls of connection actors (kvd.h
 * lists the messages). Keys with a TTL sit in a binary min-heap ordered by
 * deadline: a key is removed when it is read after its deadline (lazy, as
 * Redis) and by a 100 ms timer that pops every passed deadline (active
 * expiry, exact instead of Redis's sampling).
 *
 * A shard keeps nothing on disk: a shard that panics is restarted by its
 * supervisor with an empty table (docs/kvd.md). */
#include "kvd.h"
#include "resp.h"

#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

/* uthash doubles its buckets when one chain reaches HASH_BKT_CAPACITY_THRESH
 * entries (10 by default), which lets the average chain grow to about two
 * entries on a big table: each step is a cache miss, and perf showed a
 * third of kvd's time walking chains under redis-benchmark -r 1000000. A
 * chain of 4 expands earlier and keeps chains short, for 16 bytes per
 * bucket. The macro is read where HASH_ADD expands, in this file. */
#undef HASH_BKT_CAPACITY_THRESH
#define HASH_BKT_CAPACITY_THRESH 4U

#define TICK_MS 100
#define EXPIRE_PER_TICK 10000 /* the rest waits for the next tick */

/* An entry is one allocation: the struct, the key, and room for a small
 * value (up to INLINE_MAX bytes, rounded up to 8), so reading a small value
 * touches the entry's own cache lines; a value that outgrows the room goes
 * to its own allocation. */
#define INLINE_MAX 64

typedef struct entry_s {
    UT_hash_handle hh;
    uint64_t expire_at; /* runtime ms; 0: no TTL */
    size_t hidx;        /* position in the heap + 1; 0: not in it */
    size_t vlen, vcap;
    char *val;          /* inside the entry, or its own allocation */
    uint32_t klen;
    char key[];         /* then the inline value room */
} entry_t;

static int val_inline(const entry_t *e) { return e->val == e->key + e->klen; }

static void val_free(entry_t *e) {
    if (!val_inline(e))
        free(e->val);
}

typedef struct shard_s {
    uint32_t index;
    entry_t *table;
    entry_t **heap; /* keys with a TTL, min-heap on expire_at */
    size_t nheap, heapcap;
    uint64_t bytes;    /* key + value bytes */
    uint64_t expired;  /* removed because the TTL passed */
    uint64_t commands; /* requests handled */
    kvd_buf_t out;     /* the reply being built */
    kvd_buf_t scratch; /* NUL-terminated key copies for KEYS */
} shard_t;

/* ---- the expiry heap ---- */

static void heap_set(shard_t *self, size_t i, entry_t *e) {
    self->heap[i] = e;
    e->hidx = i + 1;
}

static void heap_up(shard_t *self, size_t i) {
    entry_t *e = self->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (self->heap[parent]->expire_at <= e->expire_at)
            break;
        heap_set(self, i, self->heap[parent]);
        i = parent;
    }
    heap_set(self, i, e);
}

static void heap_down(shard_t *self, size_t i) {
    entry_t *e = self->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= self->nheap)
            break;
        if (c + 1 < self->nheap && self->heap[c + 1]->expire_at < self->heap[c]->expire_at)
            c++;
        if (e->expire_at <= self->heap[c]->expire_at)
            break;
        heap_set(self, i, self->heap[c]);
        i = c;
    }
    heap_set(self, i, e);
}

static void heap_remove(shard_t *self, entry_t *e) {
    if (!e->hidx)
        return;
    size_t i = e->hidx - 1;
    e->hidx = 0;
    entry_t *last = self->heap[--self->nheap];
    if (i == self->nheap)
        return;
    heap_set(self, i, last);
    heap_up(self, i);
    heap_down(self, last->hidx - 1);
}

/* Give e a deadline (0: none). Returns 0 or TR_ENOMEM (e unchanged). */
static int set_expire(shard_t *self, entry_t *e, uint64_t at) {
    if (at == 0) {
        heap_remove(self, e);
        e->expire_at = 0;
        return 0;
    }
    if (e->hidx) {
        e->expire_at = at;
        heap_up(self, e->hidx - 1);
        heap_down(self, e->hidx - 1);
        return 0;
    }
    if (self->nheap == self->heapcap) {
        size_t cap = self->heapcap ? self->heapcap * 2 : 64;
        entry_t **h = realloc(self->heap, cap * sizeof *h);
        if (!h)
            return TR_ENOMEM;
        self->heap = h;
        self->heapcap = cap;
    }
    e->expire_at = at;
    self->heap[self->nheap++] = e;
    heap_up(self, self->nheap - 1);
    return 0;
}

/* ---- the table ---- */

static void entry_delete(shard_t *self, entry_t *e) {
    HASH_DEL(self->table, e);
    heap_remove(self, e);
    self->bytes -= e->klen + e->vlen;
    val_free(e);
    free(e);
}

static uint64_t now_ms(tr_ctx_t *ctx) { return tr_runtime_now_ms(tr_ctx_runtime(ctx)); }

/* The live entry for key, or NULL. A key past its deadline is removed here. */
static entry_t *lookup(tr_ctx_t *ctx, shard_t *self, const char *key, size_t klen) {
    entry_t *e;
    HASH_FIND(hh, self->table, key, klen, e);
    if (e && e->expire_at && e->expire_at <= now_ms(ctx)) {
        entry_delete(self, e);
        self->expired++;
        KVD_STAT_ADD(expired_keys, 1);
        e = NULL;
    }
    return e;
}

/* Set key's value, creating the entry. Returns it, or NULL when out of
 * memory (nothing changed). */
static entry_t *store(shard_t *self, entry_t *e, const char *key, size_t klen, const char *val,
                      size_t vlen) {
    char *nv = NULL; /* a new value allocation, when the room is too small */
    if (!e) {
        size_t room = vlen <= INLINE_MAX ? (vlen + 8) & ~(size_t)7 : 0;
        if (klen > UINT32_MAX || (!room && !(nv = malloc(vlen))))
            return NULL;
        if (!(e = calloc(1, sizeof *e + klen + room))) {
            free(nv);
            return NULL;
        }
        memcpy(e->key, key, klen);
        e->klen = (uint32_t)klen;
        e->val = room ? e->key + klen : nv;
        e->vcap = room ? room : vlen;
        HASH_ADD_KEYPTR(hh, self->table, e->key, klen, e);
        self->bytes += klen;
    } else if (vlen > e->vcap) {
        if (!(nv = malloc(vlen)))
            return NULL;
        val_free(e);
        e->val = nv;
        e->vcap = vlen;
    }
    if (vlen)
        memcpy(e->val, val, vlen);
    self->bytes = self->bytes - e->vlen + vlen;
    e->vlen = vlen;
    return e;
}

static void flush_all(shard_t *self) {
    entry_t *e, *tmp;
    HASH_ITER(hh, self->table, e, tmp) {
        HASH_DEL(self->table, e);
        val_free(e);
        free(e);
    }
    self->nheap = 0;
    self->bytes = 0;
}

/* ---- replies ---- */

static void reply_out(tr_ctx_t *ctx, shard_t *self, const tr_msg_t *msg) {
    tr_reply(ctx, msg, self->out.p, self->out.len);
}

/* Open a request; a malformed one (not from our connections) is refused. */
static void begin(shard_t *self) {
    self->commands++;
    self->out.len = 0;
}

static int open_req(tr_ctx_t *ctx, shard_t *self, const tr_msg_t *msg, kvd_req_t *r,
                    uint32_t min_args) {
    begin(self);
    if (kvd_req_open(r, msg->data, msg->len) != 0 || r->hdr.argc < min_args) {
        tr_reply_error(ctx, msg, 1, "ERR malformed shard request");
        return -1;
    }
    return 0;
}

/* Open a request whose first argument is a key, and look the key up: *e is
 * its live entry or NULL. Returns 0, or -1 when the request was refused. */
static int open_key(tr_ctx_t *ctx, shard_t *self, const tr_msg_t *msg, kvd_req_t *r,
                    const char **k, size_t *kl, entry_t **e) {
    if (open_req(ctx, self, msg, r, 1) != 0)
        return -1;
    kvd_req_next(r, k, kl);
    *e = lookup(ctx, self, *k, *kl);
    return 0;
}

static void oom(tr_ctx_t *ctx, const tr_msg_t *msg) {
    tr_reply_error(ctx, msg, 1, "OOM out of memory");
}

/* ---- handlers ---- */

static void on_get(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    shard_t *self = state;
    kvd_req_t r;
    const char *k;
    size_t kl;
    entry_t *e;
    if (open_key(ctx, self, msg, &r, &k, &kl, &e) != 0)
        return;
    KVD_STAT_ADD(keyspace_hits, e != NULL);
    KVD_STAT_ADD(keyspace_misses, e == NULL);
    int rc = e ? resp_bulk(&self->out, e->val, e->vlen) : resp_null(&self->out);
    if (rc != 0)
        return oom(ctx, msg);
    reply_out(ctx, self, msg);
}

static void on_set(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    shard_t *self = state;
    kvd_req_t r;
    const char *k, *v;
    size_t kl, vl;
    if (open_req(ctx, self, msg, &r, 2) != 0)
        return;
    kvd_req_next(&r, &k, &kl);
    kvd_req_next(&r, &v, &vl);
    uint32_t fl = r.hdr.flags;
    entry_t *e = lookup(ctx, self, k, kl);
    if (((fl & KVD_SET_NX) && e) || ((fl & KVD_SET_XX) && !e)) {
        resp_null(&self->out); /* not set: a null bulk, as Redis */
        return reply_out(ctx, self, msg);
    }
    uint64_t at = r.hdr.num > 0 ? now_ms(ctx) + (uint64_t)r.hdr.num : 0;
    if (!(e = store(self, e, k, kl, v, vl)))
        return oom(ctx, msg);
    if (!(fl & KVD_SET_KEEPTTL) && set_expire(self, e, at) != 0) {
        entry_delete(self, e); /* better gone than without its TTL */
        return oom(ctx, msg);
    }
    resp_simple(&self->out, "OK");
    reply_out(ctx, self, msg);
}

static void on_incrby(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    shard_t *self = state;
    kvd_req_t r;
    const char *k;
    size_t kl;
    entry_t *e;
    if (open_key(ctx, self, msg, &r, &k, &kl, &e) != 0)
        return;
    int64_t v = 0, d = r.hdr.num;
    if (e && resp_parse_int(e->val, e->vlen, &v) != 0)
        return (void)tr_reply_error(ctx, msg, 1, "ERR value is not an integer or out of range");
    if ((d > 0 && v > INT64_MAX - d) || (d < 0 && v < INT64_MIN - d))
        return (void)tr_reply_error(ctx, msg, 1, "ERR increment or decrement would overflow");
    v += d;
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRId64, v);
    if (!store(self, e, k, kl, num, (size_t)n)) /* keeps the TTL, as Redis */
        return oom(ctx, msg);
    resp_int(&self->out, v);
    reply_out(ctx, self, msg);
}

/* DEL and EXISTS: count the keys (EXISTS counts a repeated key again). */
static void count_keys(tr_ctx_t *ctx, shard_t *self, const tr_msg_t *msg, int del) {
    kvd_req_t r;
    const char *k;
    size_t kl;
    if (open_req(ctx, self, msg, &r, 1) != 0)
        return;
    int64_t n = 0;
    for (uint32_t i = 0; i < r.hdr.argc; i++) {
        kvd_req_next(&r, &k, &kl);
        entry_t *e = lookup(ctx, self, k, kl);
        if (!e)
            continue;
        n++;
        if (del)
            entry_delete(self, e);
    }
    resp_int(&self->out, n);
    reply_out(ctx, self, msg);
}

static void on_del(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    count_keys(ctx, state, msg, 1);
}

static void on_exists(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    count_keys(ctx, state, msg, 0);
}

static void on_mget(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    shard_t *self = state;
    kvd_req_t r;
    const char *k;
    size_t kl;
    if (open_req(ctx, self, msg, &r, 1) != 0)
        return;
    for (uint32_t i = 0; i < r.hdr.argc; i++) {
        kvd_req_next(&r, &k, &kl);
        entry_t *e = lookup(ctx, self, k, kl);
        KVD_STAT_ADD(keyspace_hits, e != NULL);
        KVD_STAT_ADD(keyspace_misses, e == NULL);
        if ((e ? resp_bulk(&self->out, e->val, e->vlen) : resp_null(&self->out)) != 0)
            return oom(ctx, msg);
    }
    reply_out(ctx, self, msg);
}

static void on_mset(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    shard_t *self = state;
    kvd_req_t r;
    const char *k, *v;
    size_t kl, vl;
    if (open_req(ctx, self, msg, &r, 2) != 0)
        return;
    if (r.hdr.argc % 2)
        return (void)tr_reply_error(ctx, msg, 1, "ERR malformed shard request");
    for (uint32_t i = 0; i < r.hdr.argc; i += 2) {
        kvd_req_next(&r, &k, &kl);
        kvd_req_next(&r, &v, &vl);
        entry_t *e = store(self, lookup(ctx, self, k, kl), k, kl, v, vl);
        if (!e)
            return oom(ctx, msg); /* the pairs before this one are set */
        set_expire(self, e, 0);   /* MSET clears TTLs, as SET; never fails */
    }
    resp_simple(&self->out, "OK");
    reply_out(ctx, self, msg);
}

static void on_expire(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    shard_t *self = state;
    kvd_req_t r;
    const char *k;
    size_t kl;
    entry_t *e;
    if (open_key(ctx, self, msg, &r, &k, &kl, &e) != 0)
        return;
    if (e && r.hdr.num <= 0) {
        entry_delete(self, e); /* a deadline in the past deletes, as Redis */
    } else if (e && set_expire(self, e, now_ms(ctx) + (uint64_t)r.hdr.num) != 0) {
        return oom(ctx, msg);
    }
    resp_int(&self->out, e != NULL);
    reply_out(ctx, self, msg);
}

static void on_persist(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    shard_t *self = state;
    kvd_req_t r;
    const char *k;
    size_t kl;
    entry_t *e;
    if (open_key(ctx, self, msg, &r, &k, &kl, &e) != 0)
        return;
    int had = e && e->expire_at;
    if (had)
        set_expire(self, e, 0);
    resp_int(&self->out, had);
    reply_out(ctx, self, msg);
}

static void on_ttl(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    shard_t *self = state;
    kvd_req_t r;
    const char *k;
    size_t kl;
    entry_t *e;
    if (open_key(ctx, self, msg, &r, &k, &kl, &e) != 0)
        return;
    int64_t v = -2; /* no such key */
    if (e && !e->expire_at) {
        v = -1; /* no TTL */
    } else if (e) {
        uint64_t left = e->expire_at - now_ms(ctx); /* > 0: lookup removed passed ones */
        v = (r.hdr.flags & KVD_TTL_MS) ? (int64_t)left : (int64_t)((left + 500) / 1000);
    }
    resp_int(&self->out, v);
    reply_out(ctx, self, msg);
}

static void on_dbsize(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    shard_t *self = state;
    begin(self);
    resp_int(&self->out, (int64_t)HASH_COUNT(self->table));
    reply_out(ctx, self, msg);
}

static void on_flush(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    shard_t *self = state;
    begin(self);
    flush_all(self);
    resp_simple(&self->out, "OK");
    reply_out(ctx, self, msg);
}

/* KEYS: a RESP array of the live keys matching a glob pattern (fnmatch(3):
 * '*', '?', '[a-z]', '[!a]' or '[^a]', '\' escapes, as Redis's patterns).
 * fnmatch needs NUL-terminated strings, so a key holding a NUL byte
 * matches only "*". */
static void on_keys(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    shard_t *self = state;
    kvd_req_t r;
    const char *pat;
    size_t pl;
    if (open_req(ctx, self, msg, &r, 1) != 0)
        return;
    kvd_req_next(&r, &pat, &pl);
    int all = pl == 1 && pat[0] == '*';
    kvd_buf_t *s = &self->scratch;
    s->len = 0;
    if (kvd_buf_add(s, pat, pl) != 0 || kvd_buf_add(s, "", 1) != 0)
        return oom(ctx, msg);
    size_t keyoff = s->len; /* the pattern stays at the start of scratch */
    uint64_t now = now_ms(ctx);
    int64_t n = 0;
    kvd_buf_t items = {0};
    entry_t *e, *tmp;
    HASH_ITER(hh, self->table, e, tmp) {
        if (e->expire_at && e->expire_at <= now)
            continue; /* left for the expiry tick: KEYS only reads */
        if (!all) {
            if (memchr(e->key, '\0', e->klen))
                continue;
            s->len = keyoff;
            if (kvd_buf_add(s, e->key, e->klen) != 0 || kvd_buf_add(s, "", 1) != 0)
                goto nomem;
            if (fnmatch(s->p, s->p + keyoff, 0) != 0)
                continue;
        }
        if (resp_bulk(&items, e->key, e->klen) != 0)
            goto nomem;
        n++;
    }
    if (resp_array(&self->out, n) != 0 || kvd_buf_add(&self->out, items.p, items.len) != 0)
        goto nomem;
    kvd_buf_free(&items);
    return reply_out(ctx, self, msg);
nomem:
    kvd_buf_free(&items);
    oom(ctx, msg);
}

static void on_info(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    shard_t *self = state;
    self->commands++;
    kvd_shard_info_t info = {
        .keys = HASH_COUNT(self->table),
        .expires = self->nheap,
        .bytes = self->bytes,
        .expired = self->expired,
        .commands = self->commands,
    };
    tr_reply(ctx, msg, &info, sizeof info);
}

/* DEBUG PANIC: the connection checked debug_commands. The request being
 * handled, and every request queued behind it, resolve DropWithoutReport
 * (reason panicked); the supervisor starts a new, empty shard. */
static void on_panic(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    shard_t *self = state;
    (void)msg;
    tr_panic(ctx, "DEBUG PANIC: shard-%u asked to crash, losing its %" PRIu64 " key(s)", self->index,
             (uint64_t)HASH_COUNT(self->table));
}

/* Active expiry: remove the keys whose deadline has passed. */
static void on_tick(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    shard_t *self = state;
    (void)msg;
    uint64_t now = now_ms(ctx);
    for (int i = 0; i < EXPIRE_PER_TICK && self->nheap && self->heap[0]->expire_at <= now; i++) {
        entry_delete(self, self->heap[0]);
        self->expired++;
        KVD_STAT_ADD(expired_keys, 1);
    }
}

static const tr_handler_t shard_handlers[] = {
    TR_ON_ANY(KVD_GET, on_get),
    TR_ON_ANY(KVD_SET, on_set),
    TR_ON_ANY(KVD_INCRBY, on_incrby),
    TR_ON_ANY(KVD_DEL, on_del),
    TR_ON_ANY(KVD_EXISTS, on_exists),
    TR_ON_ANY(KVD_MGET, on_mget),
    TR_ON_ANY(KVD_MSET, on_mset),
    TR_ON_ANY(KVD_EXPIRE, on_expire),
    TR_ON_ANY(KVD_PERSIST, on_persist),
    TR_ON_ANY(KVD_TTL, on_ttl),
    TR_ON_EMPTY(KVD_DBSIZE, on_dbsize),
    TR_ON_EMPTY(KVD_FLUSH, on_flush),
    TR_ON_ANY(KVD_KEYS, on_keys),
    TR_ON_EMPTY(KVD_INFO, on_info),
    TR_ON_EMPTY(KVD_PANIC, on_panic),
    TR_ON_EMPTY(KVD_SHARD_TICK, on_tick),
    TR_END
};

/* ---- lifecycle and config ---- */

/* shard_mailbox from [kvd], unless the shard's own section sets the
 * runtime's mailbox_capacity (which the runtime applies itself). */
static void apply_mailbox(tr_ctx_t *ctx, const tr_config_section_t *own) {
    kvd_settings_t s;
    if (!own->config || tr_config_has(own, "mailbox_capacity") ||
        kvd_settings_read(own->config, &s, NULL) != 0)
        return; /* no config: the child spec's capacity stands */
    tr_set_mailbox_capacity(tr_ctx_runtime(ctx), tr_self(ctx), s.shard_mailbox);
}

static int shard_init(tr_ctx_t *ctx, void *state, const void *args) {
    shard_t *self = state;
    memcpy(&self->index, args, sizeof self->index);
    if (self->index < KVD_SHARDS_MAX)
        atomic_fetch_add_explicit(&kvd_stats.shard_starts[self->index], 1, memory_order_relaxed);
    if (tr_timer_start(ctx, TICK_MS, TICK_MS, KVD_SHARD_TICK, NULL, 0) < 0)
        return 1;
    tr_config_section_t sec;
    if (tr_ctx_config(ctx, &sec) == 0)
        apply_mailbox(ctx, &sec);
    return 0;
}

static void shard_terminate(tr_ctx_t *ctx, void *state, tr_stop_reason_t reason) {
    shard_t *self = state;
    (void)ctx;
    (void)reason;
    flush_all(self);
    free(self->heap);
    kvd_buf_free(&self->out);
    kvd_buf_free(&self->scratch);
}

static void shard_on_config(tr_ctx_t *ctx, void *state, const tr_config_section_t *sec) {
    (void)state;
    apply_mailbox(ctx, sec);
}

static void shard_inspect(const void *state, tr_inspect_t *w) {
    const shard_t *self = state;
    tr_inspect_add(w, "index", "%u", self->index);
    tr_inspect_add(w, "keys", "%u", (unsigned)HASH_COUNT(self->table));
    tr_inspect_add(w, "keys_with_ttl", "%zu", self->nheap);
    tr_inspect_add(w, "bytes", "%" PRIu64, self->bytes);
    tr_inspect_add(w, "expired", "%" PRIu64, self->expired);
    tr_inspect_add(w, "commands", "%" PRIu64, self->commands);
}

const tr_actor_type_t kvd_shard_type = {
    .name = "kvd_shard",
    .state_size = sizeof(shard_t),
    .handlers = shard_handlers,
    .init = shard_init,
    .terminate = shard_terminate,
    .on_config = shard_on_config,
    .inspect = shard_inspect,
};
