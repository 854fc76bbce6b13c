/* tests/tr_test.h: helpers shared by the cmocka suites (header only, every
 * function static inline so each suite uses what it needs).
 * Conventions: every test creates and destroys its own runtime, drives the
 * loop explicitly (tr_runtime_poll / tr_runtime_run_until_idle /
 * tr_runtime_advance under manual_clock) and never sleeps. */
#ifndef TR_TEST_H
#define TR_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <troupe/troupe.h>

/* A bounded log of ints (event order, ids). */
#define TT_LOG_MAX 4096
typedef struct tt_log_s {
    int n;
    int v[TT_LOG_MAX];
} tt_log_t;

static inline void tt_log_push(tt_log_t *l, int v) {
    if (l->n < TT_LOG_MAX)
        l->v[l->n] = v;
    l->n++;
}

/* Index of the first `v` in the log, or -1. */
static inline int tt_log_find(const tt_log_t *l, int v) {
    for (int i = 0; i < l->n && i < TT_LOG_MAX; i++)
        if (l->v[i] == v)
            return i;
    return -1;
}

static inline tr_runtime_t *tt_runtime(const tr_runtime_opts_t *opts) {
    tr_runtime_t *rt = NULL;
    assert_int_equal(tr_runtime_create(opts, &rt), 0);
    assert_non_null(rt);
    return rt;
}

/* A runtime with the manual clock (time moves only with tr_runtime_advance). */
static inline tr_runtime_t *tt_runtime_manual(void) {
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.manual_clock = 1;
    return tt_runtime(&o);
}

static inline tr_stats_t tt_stats(tr_runtime_t *rt) {
    tr_stats_t s;
    memset(&s, 0xAB, sizeof s);
    assert_int_equal(tr_runtime_stats(rt, &s), 0);
    return s;
}

/* Invariant 1: every reply channel created resolved exactly once. */
static inline void tt_assert_chan_balance(tr_runtime_t *rt) {
    tr_stats_t s = tt_stats(rt);
    if (s.chan_pending != 0 ||
        s.chan_created != s.chan_ok + s.chan_error + s.chan_timeout + s.chan_dropped +
                              s.chan_undelivered + s.chan_cancelled)
        fprintf(stderr,
                "chan stats: created=%llu ok=%llu error=%llu timeout=%llu dropped=%llu "
                "undelivered=%llu cancelled=%llu pending=%llu\n",
                (unsigned long long)s.chan_created, (unsigned long long)s.chan_ok,
                (unsigned long long)s.chan_error, (unsigned long long)s.chan_timeout,
                (unsigned long long)s.chan_dropped, (unsigned long long)s.chan_undelivered,
                (unsigned long long)s.chan_cancelled, (unsigned long long)s.chan_pending);
    assert_int_equal(s.chan_pending, 0);
    assert_int_equal(s.chan_created, s.chan_ok + s.chan_error + s.chan_timeout +
                                         s.chan_dropped + s.chan_undelivered +
                                         s.chan_cancelled);
}

static inline tr_ref_t tt_spawn(tr_runtime_t *rt, const tr_actor_type_t *type,
                                const tr_spawn_opts_t *opts) {
    tr_ref_t r = TR_REF_NONE;
    assert_int_equal(tr_spawn(rt, type, opts, &r), 0);
    assert_true(tr_ref_valid(r));
    return r;
}

/* Run until idle; returns the number of messages handled. */
static inline int64_t tt_drain(tr_runtime_t *rt) {
    int64_t n = tr_runtime_run_until_idle(rt);
    assert_true(n >= 0);
    return n;
}

static inline uint32_t tt_depth(tr_runtime_t *rt, tr_ref_t r) {
    tr_mailbox_info_t mi;
    memset(&mi, 0, sizeof mi);
    assert_int_equal(tr_mailbox_info(rt, r, &mi), 0);
    return mi.depth;
}

/* A logger that drops everything (for suites that provoke many warnings). */
static inline void tt_quiet_log(void *arg, tr_log_level_t level, const char *line) {
    (void)arg;
    (void)level;
    (void)line;
}

#endif /* TR_TEST_H */
