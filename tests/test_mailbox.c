/* tests/test_mailbox.c: bounded mailboxes: overflow policies (fail, drop
 * newest, drop oldest, per-type override), payload checks, inline and large
 * copied payloads, moved payloads whose destructor runs exactly once on every
 * path, watermark events with hysteresis, live capacity changes, the system
 * lane (stop a full actor) and FIFO order per sender. */
#include "tr_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

enum {
    MSG_ITEM = TR_MSG_USER, /* item_t (copied or moved) */
    MSG_NOTE,               /* int, per-type policy override */
    MSG_ANY,                /* any size */
    MSG_EMPTY,              /* no payload */
    MSG_SEQ,                /* seq_t */
    MSG_BURST,              /* int: send that many MSG_SEQ to the ref in state */
    MSG_HOLE                /* not in any table */
};

typedef struct item_s {
    int id;
    int pad;
} item_t;

typedef struct seq_s {
    int sender;
    int seq;
} seq_t;

#define MAX_IDS 256
#define BIG (1u << 20)

typedef struct probe_s {
    tt_log_t handled;  /* item ids in handling order */
    tt_log_t notes;    /* MSG_NOTE values */
    tt_log_t events;   /* ordered: +id handled, -(id+1) destroyed */
    int dtor_runs;
    int dtor_per_id[MAX_IDS];
    int take;          /* handlers take moved payloads */
    void *taken[MAX_IDS];
    int take_copy_null;
    const void *seen_data[MAX_IDS];
    /* MSG_ANY */
    int any_calls;
    uint32_t any_len[16];
    unsigned any_sum[16];
    int any_ok[16];
    /* watermarks */
    int wm_n;
    int wm_high[16];
    uint32_t wm_depth[16], wm_cap[16];
    tr_ref_t wm_actor[16];
    int wm_name_ok[16];
    /* FIFO */
    int last_seq[8];
    int fifo_violations;
    _Atomic int seq_count;
    int empties;
} probe_t;

static probe_t g;

static int setup(void **state) {
    (void)state;
    memset(&g, 0, sizeof g);
    for (int i = 0; i < 8; i++)
        g.last_seq[i] = -1;
    return 0;
}

static void item_dtor(void *p) {
    item_t *it = p;
    g.dtor_runs++;
    if (it->id >= 0 && it->id < MAX_IDS)
        g.dtor_per_id[it->id]++;
    tt_log_push(&g.events, -(it->id + 1));
    free(p);
}

static item_t *new_item(int id) {
    item_t *it = malloc(sizeof *it);
    assert_non_null(it);
    it->id = id;
    it->pad = 0;
    return it;
}

static void on_item(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    const item_t *it = m->data;
    tt_log_push(&g.handled, it->id);
    tt_log_push(&g.events, it->id);
    if (it->id >= 0 && it->id < MAX_IDS) {
        g.seen_data[it->id] = m->data;
        if (g.take) {
            void *p = tr_msg_take(ctx, m);
            if (p)
                g.taken[it->id] = p;
            else
                g.take_copy_null++;
        }
    }
}

static void on_note(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    int v;
    memcpy(&v, m->data, sizeof v);
    tt_log_push(&g.notes, v);
}

static void on_any(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    int i = g.any_calls++;
    if (i >= 16)
        return;
    g.any_len[i] = m->len;
    /* the expected pattern is byte k = (k * 7 + len) & 0xff */
    const unsigned char *b = m->data;
    int ok = (m->len == 0) ? (m->data == NULL) : 1;
    unsigned sum = 0;
    for (uint32_t k = 0; k < m->len; k++) {
        if (b[k] != (unsigned char)((k * 7 + m->len) & 0xff))
            ok = 0;
        sum += b[k];
    }
    g.any_ok[i] = ok;
    g.any_sum[i] = sum;
}

static void on_empty(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    (void)m;
    g.empties++;
}

typedef struct seq_state_s {
    tr_ref_t dest;
    int id;
    int next;
} seq_state_t;

static int seq_init(tr_ctx_t *ctx, void *state, const void *args) {
    (void)ctx;
    seq_state_t *s = state;
    if (args)
        memcpy(s, args, sizeof *s);
    return 0;
}

static void on_seq(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    const seq_t *q = m->data;
    if (q->sender < 0 || q->sender >= 8 || q->seq != g.last_seq[q->sender] + 1)
        g.fifo_violations++;
    else
        g.last_seq[q->sender] = q->seq;
    atomic_fetch_add(&g.seq_count, 1);
}

static void on_burst(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    seq_state_t *s = state;
    int n;
    memcpy(&n, m->data, sizeof n);
    for (int i = 0; i < n; i++) {
        seq_t q = {s->id, s->next++};
        if (tr_send(ctx, s->dest, MSG_SEQ, &q, sizeof q) != 0)
            g.fifo_violations += 1000; /* capacity is large: must not fail */
    }
}

static const tr_handler_t sink_handlers[] = {
    TR_ON(MSG_ITEM, on_item, item_t),
    TR_ON_POLICY(MSG_NOTE, on_note, sizeof(int), TR_OVERFLOW_DROP_NEWEST),
    TR_ON_ANY(MSG_ANY, on_any),
    TR_ON_EMPTY(MSG_EMPTY, on_empty),
    TR_ON(MSG_SEQ, on_seq, seq_t),
    TR_ON(MSG_BURST, on_burst, int),
    TR_END,
};

static const tr_actor_type_t sink_type = {
    .name = "sink",
    .state_size = sizeof(seq_state_t),
    .handlers = sink_handlers,
    .init = seq_init,
};

/* The same table but MSG_NOTE must fail when full, whatever the actor's policy. */
static const tr_handler_t strict_handlers[] = {
    TR_ON(MSG_ITEM, on_item, item_t),
    TR_ON_POLICY(MSG_NOTE, on_note, sizeof(int), TR_OVERFLOW_FAIL),
    TR_END,
};

static const tr_actor_type_t strict_type = {
    .name = "strict",
    .state_size = 8,
    .handlers = strict_handlers,
};

static tr_ref_t spawn_sink(tr_runtime_t *rt, uint32_t cap, tr_overflow_t policy) {
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.mailbox_capacity = cap;
    o.overflow = policy;
    return tt_spawn(rt, &sink_type, &o);
}

static int send_item(tr_runtime_t *rt, tr_ref_t r, int id) {
    item_t it = {id, 0};
    return tr_runtime_send(rt, r, MSG_ITEM, &it, sizeof it);
}

static int move_item(tr_runtime_t *rt, tr_ref_t r, int id) {
    return tr_runtime_send_move(rt, r, MSG_ITEM, new_item(id), sizeof(item_t), item_dtor);
}

/* ------------------------------------------------------------------ */

static void test_full_fail(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t r = spawn_sink(rt, 4, TR_OVERFLOW_DEFAULT); /* default means FAIL */
    for (int i = 0; i < 4; i++)
        assert_int_equal(send_item(rt, r, i), 0);
    assert_int_equal(send_item(rt, r, 4), TR_EFULL);
    assert_int_equal(move_item(rt, r, 5), TR_EFULL);
    assert_int_equal(g.dtor_per_id[5], 1); /* ran on the error return */
    tr_mailbox_info_t mi;
    assert_int_equal(tr_mailbox_info(rt, r, &mi), 0);
    assert_int_equal(mi.depth, 4);
    assert_int_equal(mi.capacity, 4);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.sends_rejected, 2);
    assert_int_equal(s.msgs_sent, 4);
    assert_int_equal(s.drops_newest + s.drops_oldest, 0);

    tt_drain(rt);
    assert_int_equal(g.handled.n, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(g.handled.v[i], i);
    assert_int_equal(tr_mailbox_info(rt, r, &mi), 0);
    assert_int_equal(mi.depth, 0);
    assert_int_equal(mi.high_water, 4);
    assert_int_equal(mi.handled, 4);
    /* room again */
    assert_int_equal(send_item(rt, r, 6), 0);
    tt_drain(rt);
    assert_int_equal(g.handled.v[4], 6);
    tr_runtime_destroy(rt);
    assert_int_equal(g.dtor_runs, 1);
}

static void test_drop_newest(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t r = spawn_sink(rt, 4, TR_OVERFLOW_DROP_NEWEST);
    for (int i = 0; i < 6; i++)
        assert_int_equal(move_item(rt, r, i), 0);
    tt_drain(rt);
    assert_int_equal(g.handled.n, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(g.handled.v[i], i);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.drops_newest, 2);
    assert_int_equal(s.drops_oldest, 0);
    assert_int_equal(s.dead_letters, 2);
    assert_int_equal(s.sends_rejected, 0);
    /* every destructor ran once: the dropped ones and the delivered ones */
    for (int i = 0; i < 6; i++)
        assert_int_equal(g.dtor_per_id[i], 1);
    assert_int_equal(g.dtor_runs, 6);
    /* the dropped ones (4, 5) were destroyed without being handled */
    assert_int_equal(tt_log_find(&g.handled, 4), -1);
    assert_int_equal(tt_log_find(&g.handled, 5), -1);
    tr_runtime_destroy(rt);
    assert_int_equal(g.dtor_runs, 6);
}

static void test_drop_oldest(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t r = spawn_sink(rt, 4, TR_OVERFLOW_DROP_OLDEST);
    for (int i = 0; i < 6; i++)
        assert_int_equal(move_item(rt, r, i), 0);
    tt_drain(rt);
    assert_int_equal(g.handled.n, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(g.handled.v[i], i + 2);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.drops_oldest, 2);
    assert_int_equal(s.drops_newest, 0);
    assert_int_equal(s.dead_letters, 2);
    for (int i = 0; i < 6; i++)
        assert_int_equal(g.dtor_per_id[i], 1);
    /* the discarded ones were destroyed before anything was handled */
    int d0 = tt_log_find(&g.events, -1), d1 = tt_log_find(&g.events, -2);
    int h2 = tt_log_find(&g.events, 2);
    assert_true(d0 >= 0 && d1 >= 0 && h2 >= 0);
    assert_true(d0 < h2);
    assert_true(d1 < h2);
    tr_runtime_destroy(rt);
    assert_int_equal(g.dtor_runs, 6);
}

static void test_per_type_policy(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    /* actor policy FAIL, MSG_NOTE overridden to DROP_NEWEST */
    tr_ref_t r = spawn_sink(rt, 2, TR_OVERFLOW_FAIL);
    assert_int_equal(send_item(rt, r, 0), 0);
    assert_int_equal(send_item(rt, r, 1), 0);
    assert_int_equal(send_item(rt, r, 2), TR_EFULL);
    int v = 7;
    assert_int_equal(tr_runtime_send(rt, r, MSG_NOTE, &v, sizeof v), 0); /* dropped */
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.drops_newest, 1);
    assert_int_equal(s.dead_letters, 1);
    assert_int_equal(s.sends_rejected, 1);
    tt_drain(rt);
    assert_int_equal(g.handled.n, 2);
    assert_int_equal(g.notes.n, 0);
    /* with room, a NOTE is delivered normally */
    assert_int_equal(tr_runtime_send(rt, r, MSG_NOTE, &v, sizeof v), 0);
    tt_drain(rt);
    assert_int_equal(g.notes.n, 1);
    assert_int_equal(g.notes.v[0], 7);

    /* actor policy DROP_NEWEST, MSG_NOTE overridden to FAIL */
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.mailbox_capacity = 2;
    o.overflow = TR_OVERFLOW_DROP_NEWEST;
    tr_ref_t q = tt_spawn(rt, &strict_type, &o);
    assert_int_equal(send_item(rt, q, 10), 0);
    assert_int_equal(send_item(rt, q, 11), 0);
    assert_int_equal(send_item(rt, q, 12), 0); /* dropped by the actor policy */
    v = 8;
    assert_int_equal(tr_runtime_send(rt, q, MSG_NOTE, &v, sizeof v), TR_EFULL);
    s = tt_stats(rt);
    assert_int_equal(s.drops_newest, 2);
    assert_int_equal(s.sends_rejected, 2);
    tt_drain(rt);
    assert_int_equal(g.handled.n, 4);
    assert_int_equal(g.handled.v[2], 10);
    assert_int_equal(g.handled.v[3], 11);
    assert_int_equal(g.notes.n, 1);
    tr_runtime_destroy(rt);
}

static void test_payload_checks(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t r = spawn_sink(rt, 16, TR_OVERFLOW_FAIL);
    char buf[64] = {0};
    assert_int_equal(tr_runtime_send(rt, r, MSG_ITEM, buf, sizeof(item_t) + 1), TR_EINVAL);
    assert_int_equal(tr_runtime_send(rt, r, MSG_ITEM, buf, sizeof(item_t) - 1), TR_EINVAL);
    assert_int_equal(tr_runtime_send(rt, r, MSG_ITEM, NULL, 0), TR_EINVAL);
    assert_int_equal(tr_runtime_send(rt, r, MSG_ITEM, NULL, sizeof(item_t)), TR_EINVAL);
    assert_int_equal(tr_runtime_send(rt, r, MSG_EMPTY, buf, 4), TR_EINVAL);
    assert_int_equal(tr_runtime_send(rt, r, MSG_ANY, NULL, 5), TR_EINVAL);
    /* moved payload with a wrong size: error, destructor already ran */
    assert_int_equal(tr_runtime_send_move(rt, r, MSG_ITEM, new_item(3), 3, item_dtor),
                     TR_EINVAL);
    assert_int_equal(g.dtor_per_id[3], 1);
    /* unknown type */
    assert_int_equal(tr_runtime_send(rt, r, MSG_HOLE, NULL, 0), TR_ENOHANDLER);
    assert_int_equal(tr_runtime_send_move(rt, r, MSG_HOLE, new_item(4), sizeof(item_t),
                                          item_dtor),
                     TR_ENOHANDLER);
    assert_int_equal(g.dtor_per_id[4], 1);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.sends_rejected, 9);
    assert_int_equal(s.dead_letters, 2); /* the two TR_ENOHANDLER */
    assert_int_equal(s.msgs_sent, 0);
    /* the right sizes pass */
    assert_int_equal(tr_runtime_send(rt, r, MSG_ITEM, buf, sizeof(item_t)), 0);
    assert_int_equal(tr_runtime_send(rt, r, MSG_EMPTY, NULL, 0), 0);
    assert_int_equal(tr_runtime_send(rt, r, MSG_ANY, NULL, 0), 0);
    tt_drain(rt);
    assert_int_equal(g.handled.n, 1);
    assert_int_equal(g.empties, 1);
    assert_int_equal(g.any_calls, 1);
    assert_int_equal(g.any_len[0], 0);
    tr_runtime_destroy(rt);
    assert_int_equal(g.dtor_runs, 2);
}

static void fill_pattern(unsigned char *b, size_t len) {
    for (size_t k = 0; k < len; k++)
        b[k] = (unsigned char)((k * 7 + len) & 0xff);
}

static void test_inline_and_large_payloads(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t r = spawn_sink(rt, 16, TR_OVERFLOW_FAIL);
    const size_t sizes[] = {1, 7, TR_INLINE_MAX - 1, TR_INLINE_MAX, TR_INLINE_MAX + 1,
                            100, 4096, BIG};
    const size_t n = sizeof sizes / sizeof sizes[0];
    unsigned char *src = malloc(BIG);
    assert_non_null(src);
    unsigned expect_sum[16];
    /* queue them all before any runs, overwriting the source each time: the
     * payload is copied at send time and slots do not alias */
    for (size_t i = 0; i < n; i++) {
        fill_pattern(src, sizes[i]);
        unsigned sum = 0;
        for (size_t k = 0; k < sizes[i]; k++)
            sum += src[k];
        expect_sum[i] = sum;
        assert_int_equal(tr_runtime_send(rt, r, MSG_ANY, src, sizes[i]), 0);
        memset(src, 0xEE, sizes[i]);
    }
    tt_drain(rt);
    assert_int_equal(g.any_calls, (int)n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(g.any_len[i], sizes[i]);
        assert_true(g.any_ok[i]);
        assert_int_equal(g.any_sum[i], expect_sum[i]);
    }

    /* a large moved payload arrives as the same pointer, intact */
    unsigned char *mv = malloc(BIG);
    assert_non_null(mv);
    fill_pattern(mv, BIG);
    assert_int_equal(tr_runtime_send_move(rt, r, MSG_ANY, mv, BIG, free), 0);
    tt_drain(rt);
    assert_int_equal(g.any_calls, (int)n + 1);
    assert_true(g.any_ok[n]);
    assert_int_equal(g.any_len[n], BIG);
    free(src);
    tr_runtime_destroy(rt);
}

static void test_moved_payload_dtor_once(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t r = spawn_sink(rt, 16, TR_OVERFLOW_FAIL);

    /* 1. delivered: the handler sees the moved pointer itself; the
     *    destructor runs once, after handling */
    item_t *it = new_item(1);
    assert_int_equal(tr_runtime_send_move(rt, r, MSG_ITEM, it, sizeof *it, item_dtor), 0);
    assert_int_equal(g.dtor_per_id[1], 0);
    tt_drain(rt);
    assert_int_equal(g.handled.n, 1);
    assert_ptr_equal(g.seen_data[1], it);
    assert_int_equal(g.dtor_per_id[1], 1);

    /* 2. send error (dead ref): ran before the call returned */
    tr_ref_t dead = spawn_sink(rt, 4, TR_OVERFLOW_FAIL);
    assert_int_equal(tr_stop(rt, dead), 0);
    tt_drain(rt);
    assert_int_equal(move_item(rt, dead, 2), TR_EDEAD);
    assert_int_equal(g.dtor_per_id[2], 1);

    /* 3. dead letter: queued, then the actor stops before handling it */
    tr_ref_t victim = spawn_sink(rt, 4, TR_OVERFLOW_FAIL);
    assert_int_equal(move_item(rt, victim, 3), 0);
    assert_int_equal(move_item(rt, victim, 4), 0);
    uint64_t dl0 = tt_stats(rt).dead_letters;
    assert_int_equal(tr_stop(rt, victim), 0);
    tt_drain(rt);
    assert_int_equal(tt_log_find(&g.handled, 3), -1);
    assert_int_equal(tt_log_find(&g.handled, 4), -1);
    assert_int_equal(g.dtor_per_id[3], 1);
    assert_int_equal(g.dtor_per_id[4], 1);
    assert_int_equal(tt_stats(rt).dead_letters - dl0, 2);

    /* 4. tr_msg_take: the handler owns it, the runtime does not run dtor */
    g.take = 1;
    item_t *tk = new_item(5);
    assert_int_equal(tr_runtime_send_move(rt, r, MSG_ITEM, tk, sizeof *tk, item_dtor), 0);
    assert_int_equal(send_item(rt, r, 6), 0); /* copied: take gives NULL */
    tt_drain(rt);
    assert_ptr_equal(g.taken[5], tk);
    assert_int_equal(g.dtor_per_id[5], 0);
    assert_null(g.taken[6]);
    assert_int_equal(g.take_copy_null, 1);
    g.take = 0;

    /* 5. still queued when the runtime is destroyed */
    assert_int_equal(move_item(rt, r, 7), 0);
    assert_int_equal(move_item(rt, r, 8), 0);
    int before = g.dtor_runs;
    tr_runtime_destroy(rt);
    assert_int_equal(g.dtor_per_id[7], 1);
    assert_int_equal(g.dtor_per_id[8], 1);
    assert_int_equal(g.dtor_runs, before + 2);
    assert_int_equal(g.dtor_per_id[5], 0); /* taken: never by the runtime */
    item_dtor(tk);
    for (int i = 1; i <= 8; i++)
        if (i != 6)
            assert_int_equal(g.dtor_per_id[i], 1);
}

/* ------------------------------------------------------------------ */

static void on_wm(void *arg, tr_ref_t actor, const char *type_name, uint32_t depth,
                  uint32_t capacity, int high) {
    (void)arg;
    int i = g.wm_n++;
    if (i >= 16)
        return;
    g.wm_high[i] = high;
    g.wm_depth[i] = depth;
    g.wm_cap[i] = capacity;
    g.wm_actor[i] = actor;
    g.wm_name_ok[i] = type_name && strcmp(type_name, "sink") == 0;
}

static void poll_until_depth(tr_runtime_t *rt, tr_ref_t r, uint32_t depth, int *low_seen_early,
                             uint32_t low) {
    for (int i = 0; i < 1000 && tt_depth(rt, r) > depth; i++) {
        assert_true(tr_runtime_poll(rt) >= 0);
        /* no low event while still above the low watermark */
        if (tt_depth(rt, r) > low && g.wm_n > 0 && g.wm_high[(g.wm_n - 1) & 15] == 0)
            (*low_seen_early)++;
    }
    assert_int_equal(tt_depth(rt, r), depth);
}

static void test_watermark_hysteresis(void **state) {
    (void)state;
    tr_runtime_opts_t ro;
    memset(&ro, 0, sizeof ro);
    ro.batch = 1;       /* one message per actor turn ... */
    ro.pass_budget = 1; /* ... and one turn per poll */
    ro.on_watermark = on_wm;
    tr_runtime_t *rt = tt_runtime(&ro);
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.mailbox_capacity = 8;
    o.high_watermark = 6;
    o.low_watermark = 2;
    tr_ref_t r = tt_spawn(rt, &sink_type, &o);
    int early = 0;

    for (int i = 0; i < 7; i++)
        assert_int_equal(send_item(rt, r, i), 0);
    assert_int_equal(tr_runtime_poll(rt), 1); /* depth 6 */
    assert_int_equal(g.wm_n, 1);
    assert_int_equal(g.wm_high[0], 1);
    assert_true(g.wm_depth[0] >= 6);
    assert_int_equal(g.wm_cap[0], 8);
    assert_true(tr_ref_eq(g.wm_actor[0], r));
    assert_true(g.wm_name_ok[0]);
    tr_mailbox_info_t mi;
    assert_int_equal(tr_mailbox_info(rt, r, &mi), 0);
    assert_int_equal(mi.high, 1);

    /* back above the high mark without having cleared it: no new event */
    assert_int_equal(send_item(rt, r, 7), 0);
    assert_int_equal(send_item(rt, r, 8), 0); /* depth 8 */
    assert_int_equal(tr_runtime_poll(rt), 1);
    assert_int_equal(g.wm_n, 1);

    /* drain to 3: still above low: nothing; then to 1: one low event */
    poll_until_depth(rt, r, 3, &early, 2);
    assert_int_equal(g.wm_n, 1);
    poll_until_depth(rt, r, 1, &early, 2);
    assert_int_equal(early, 0);
    assert_int_equal(g.wm_n, 2);
    assert_int_equal(g.wm_high[1], 0);
    assert_true(g.wm_depth[1] <= 2);
    assert_int_equal(tr_mailbox_info(rt, r, &mi), 0);
    assert_int_equal(mi.high, 0);

    /* oscillate under the high mark: nothing */
    for (int i = 0; i < 4; i++)
        assert_int_equal(send_item(rt, r, 100 + i), 0); /* depth 5 */
    poll_until_depth(rt, r, 1, &early, 2);
    assert_int_equal(g.wm_n, 2);

    /* a second crossing gives a second pair */
    for (int i = 0; i < 7; i++)
        assert_int_equal(send_item(rt, r, 200 + i), 0); /* depth 8 */
    tt_drain(rt);
    assert_int_equal(g.wm_n, 4);
    assert_int_equal(g.wm_high[2], 1);
    assert_int_equal(g.wm_high[3], 0);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.watermark_high, 2);
    assert_int_equal(s.watermark_low, 2);
    assert_int_equal(g.handled.n, 7 + 2 + 4 + 7);
    tr_runtime_destroy(rt);
}

static void test_live_capacity_change(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t r = spawn_sink(rt, 8, TR_OVERFLOW_FAIL);
    tr_ref_t d = spawn_sink(rt, 8, TR_OVERFLOW_DROP_OLDEST);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(send_item(rt, r, i), 0);
        assert_int_equal(send_item(rt, d, 100 + i), 0);
    }
    assert_int_equal(tr_set_mailbox_capacity(rt, r, 2), 0);
    assert_int_equal(tr_set_mailbox_capacity(rt, d, 2), 0);
    assert_int_equal(tr_set_mailbox_capacity(rt, r, 0), TR_EINVAL);
    assert_int_equal(tr_set_mailbox_capacity(rt, r, TR_MAILBOX_MAX + 1), TR_EINVAL);
    tt_drain(rt);
    /* shrinking below the depth lost nothing, in either policy */
    assert_int_equal(g.handled.n, 16);
    for (int i = 0; i < 8; i++) {
        assert_int_not_equal(tt_log_find(&g.handled, i), -1);
        assert_int_not_equal(tt_log_find(&g.handled, 100 + i), -1);
    }
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.dead_letters, 0);
    assert_int_equal(s.drops_oldest, 0);
    tr_mailbox_info_t mi;
    assert_int_equal(tr_mailbox_info(rt, r, &mi), 0);
    assert_int_equal(mi.capacity, 2);
    assert_int_equal(mi.depth, 0);

    /* the new capacity holds */
    assert_int_equal(send_item(rt, r, 20), 0);
    assert_int_equal(send_item(rt, r, 21), 0);
    assert_int_equal(send_item(rt, r, 22), TR_EFULL);
    tt_drain(rt);

    /* grow live */
    assert_int_equal(tr_set_mailbox_capacity(rt, r, 32), 0);
    tt_drain(rt);
    for (int i = 0; i < 32; i++)
        assert_int_equal(send_item(rt, r, 30 + i), 0);
    assert_int_equal(send_item(rt, r, 99), TR_EFULL);
    assert_int_equal(tr_mailbox_info(rt, r, &mi), 0);
    assert_int_equal(mi.capacity, 32);
    assert_int_equal(mi.depth, 32);
    tt_drain(rt);
    assert_int_equal(g.handled.n, 16 + 2 + 32);
    tr_runtime_destroy(rt);
}

static void test_system_lane_stop_full(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t r = spawn_sink(rt, 2, TR_OVERFLOW_FAIL);
    assert_int_equal(move_item(rt, r, 0), 0);
    assert_int_equal(move_item(rt, r, 1), 0);
    assert_int_equal(move_item(rt, r, 2), TR_EFULL);
    /* control messages are not subject to the capacity */
    assert_int_equal(tr_set_mailbox_capacity(rt, r, 3), 0);
    assert_int_equal(tr_stop(rt, r), 0);
    tt_drain(rt);
    assert_false(tr_actor_alive(rt, r));
    assert_int_equal(g.dtor_runs, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(g.dtor_per_id[i], 1);
    assert_int_equal(tt_stats(rt).actors_live, 0);
    tr_runtime_destroy(rt);
    assert_int_equal(g.dtor_runs, 3);
}

typedef struct fifo_thread_s {
    tr_runtime_t *rt;
    tr_ref_t dest;
    int id;
    int n;
    int failures;
    _Atomic int *done;
} fifo_thread_t;

static void *fifo_thread(void *p) {
    fifo_thread_t *a = p;
    for (int i = 0; i < a->n; i++) {
        seq_t q = {a->id, i};
        if (tr_runtime_send(a->rt, a->dest, MSG_SEQ, &q, sizeof q) != 0)
            a->failures++;
    }
    atomic_fetch_add(a->done, 1);
    /* a last message after the flag: FIFO puts it behind every MSG_SEQ, and
     * its arrival wakes the scheduler to re-check the predicate */
    if (tr_runtime_send(a->rt, a->dest, MSG_EMPTY, NULL, 0) != 0)
        a->failures++;
    return NULL;
}

typedef struct fifo_pred_s {
    _Atomic int *done;
    int expect;
} fifo_pred_t;

static int fifo_pred(void *arg) {
    fifo_pred_t *p = arg;
    (void)p->expect;
    return atomic_load(p->done) == 1 && g.empties >= 1;
}

static void test_fifo_per_sender(void **state) {
    (void)state;
    tr_runtime_t *rt = tt_runtime(NULL);
    tr_ref_t dest = spawn_sink(rt, 8192, TR_OVERFLOW_FAIL);
    seq_state_t a1 = {dest, 1, 0}, a2 = {dest, 2, 0};
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.args = &a1;
    tr_ref_t s1 = tt_spawn(rt, &sink_type, &o);
    o.args = &a2;
    tr_ref_t s2 = tt_spawn(rt, &sink_type, &o);

    /* two actors and the outside interleave; each sender's order holds */
    int n = 100;
    for (int round = 0; round < 5; round++) {
        assert_int_equal(tr_runtime_send(rt, s1, MSG_BURST, &n, sizeof n), 0);
        assert_int_equal(tr_runtime_send(rt, s2, MSG_BURST, &n, sizeof n), 0);
        for (int i = 0; i < 50; i++) {
            seq_t q = {0, round * 50 + i};
            assert_int_equal(tr_runtime_send(rt, dest, MSG_SEQ, &q, sizeof q), 0);
        }
    }
    tt_drain(rt);
    assert_int_equal(g.fifo_violations, 0);
    assert_int_equal(g.last_seq[0], 249);
    assert_int_equal(g.last_seq[1], 499);
    assert_int_equal(g.last_seq[2], 499);
    assert_int_equal(atomic_load(&g.seq_count), 250 + 1000);

    /* a foreign thread's sends arrive in order too */
    _Atomic int done = 0;
    fifo_thread_t ft = {rt, dest, 3, 4000, 0, &done};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, fifo_thread, &ft), 0);
    fifo_pred_t fp = {&done, 1250 + 4000};
    assert_int_equal(tr_runtime_run_until(rt, fifo_pred, &fp), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(ft.failures, 0);
    tt_drain(rt);
    assert_int_equal(g.fifo_violations, 0);
    assert_int_equal(g.last_seq[3], 3999);
    assert_int_equal(atomic_load(&g.seq_count), 1250 + 4000);
    tr_runtime_destroy(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_full_fail, setup),
        cmocka_unit_test_setup(test_drop_newest, setup),
        cmocka_unit_test_setup(test_drop_oldest, setup),
        cmocka_unit_test_setup(test_per_type_policy, setup),
        cmocka_unit_test_setup(test_payload_checks, setup),
        cmocka_unit_test_setup(test_inline_and_large_payloads, setup),
        cmocka_unit_test_setup(test_moved_payload_dtor_once, setup),
        cmocka_unit_test_setup(test_watermark_hysteresis, setup),
        cmocka_unit_test_setup(test_live_capacity_change, setup),
        cmocka_unit_test_setup(test_system_lane_stop_full, setup),
        cmocka_unit_test_setup(test_fifo_per_sender, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
