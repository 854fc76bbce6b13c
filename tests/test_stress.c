/* tests/test_stress.c: one million sends and calls from 4 foreign threads
 * and 2 actors into small mailboxes with random overflow policies, while the
 * scheduler thread keeps stopping those actors and spawning replacements.
 * No sleeps: the scheduler runs tr_runtime_run_until() until every producer
 * has signalled done. Checked at the end: every moved payload's destructor
 * ran exactly once (allocated == destroyed after tr_runtime_destroy), every
 * reply channel resolved exactly once (stats balance), every continuation
 * ran exactly once, every send returned one of the documented codes.
 * Randomness is rand_r with fixed seeds (the interleaving of threads is of
 * course not deterministic; the invariants must hold for all of them). */
#include "tr_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define N_THREADS 4
#define N_PUSHERS 2
#define N_SINKS 8
#define TOTAL_OPS 1000000
#define PUSHER_OPS 100000 /* per pusher actor */
#define THREAD_OPS ((TOTAL_OPS - N_PUSHERS * PUSHER_OPS) / N_THREADS)
#define SYNC_EVERY 64   /* one tr_call_sync per this many thread ops */
#define CALL_EVERY 16   /* one tr_call per this many pusher ops */
#define PUSHER_BATCH 256
#define MAX_RESPAWNS 5000
#define SYNC_TIMEOUT_MS 60000 /* a call that never resolves fails, not hangs */

enum {
    MSG_DATA = TR_MSG_USER, /* pl_t, moved */
    MSG_CALL,               /* int -> reply int + 1 */
    MSG_NUDGE,              /* empty: wakes the scheduler */
    MSG_TICK                /* pusher: next batch */
};

#define PL_MAGIC 0x5EED5EED5EED5EEDull

typedef struct pl_s {
    uint64_t magic;
    int v;
} pl_t;

static _Atomic uint64_t allocated, destroyed, bad_dtor;
static _Atomic int threads_done;
static int pushers_done; /* scheduler thread only */

static pthread_mutex_t sinks_mu = PTHREAD_MUTEX_INITIALIZER;
static tr_ref_t sinks[N_SINKS];
static tr_ref_t monitor;

/* tallies, scheduler thread only */
static struct {
    uint64_t sink_data, sink_calls, nudges;
    uint64_t calls_made, call_rejected, conts_run, cont_bad_status, cont_bad_value;
    uint64_t push_sends_ok, push_sends_rejected, push_bad_rc;
    uint64_t respawns, chaos_errors, pred_calls;
} S;

typedef struct thread_s {
    pthread_t th;
    tr_runtime_t *rt;
    unsigned seed;
    uint64_t ops, sends_ok, sends_full, sends_dead, bad_rc;
    uint64_t syncs, sync_ok, sync_bad_rc, sync_bad_value, sync_timeouts;
    uint64_t sync_status[8]; /* OK, EDEAD, EFULL, EDROPPED, other */
} thread_t;

static void pl_dtor(void *p) {
    pl_t *pl = p;
    if (pl->magic != PL_MAGIC)
        atomic_fetch_add(&bad_dtor, 1);
    pl->magic = 0;
    free(pl);
    atomic_fetch_add_explicit(&destroyed, 1, memory_order_relaxed);
}

static pl_t *new_pl(int v) {
    pl_t *pl = malloc(sizeof *pl);
    if (!pl)
        abort();
    pl->magic = PL_MAGIC;
    pl->v = v;
    atomic_fetch_add_explicit(&allocated, 1, memory_order_relaxed);
    return pl;
}

static tr_ref_t get_sink(int i) {
    pthread_mutex_lock(&sinks_mu);
    tr_ref_t r = sinks[i];
    pthread_mutex_unlock(&sinks_mu);
    return r;
}

/* ------------------------------------------------------------------ */
/* sinks */

static void on_data(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    const pl_t *pl = m->data;
    if (pl->magic != PL_MAGIC)
        atomic_fetch_add(&bad_dtor, 1);
    S.sink_data++;
}

static void on_call(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    int v;
    memcpy(&v, m->data, sizeof v);
    v++;
    S.sink_calls++;
    (void)tr_reply(ctx, m, &v, sizeof v);
}

static void on_nudge(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    (void)m;
    S.nudges++;
}

static const tr_handler_t sink_handlers[] = {
    TR_ON(MSG_DATA, on_data, pl_t),
    TR_ON(MSG_CALL, on_call, int),
    TR_ON_EMPTY(MSG_NUDGE, on_nudge),
    TR_END,
};

static const tr_actor_type_t sink_type = {
    .name = "sink",
    .state_size = 16,
    .handlers = sink_handlers,
};

static int spawn_sink(tr_runtime_t *rt, unsigned *seed, tr_ref_t *out) {
    static const tr_overflow_t policies[] = {TR_OVERFLOW_FAIL, TR_OVERFLOW_DROP_NEWEST,
                                             TR_OVERFLOW_DROP_OLDEST};
    static const uint32_t caps[] = {16, 64, 64, 128};
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.overflow = policies[rand_r(seed) % 3];
    o.mailbox_capacity = caps[rand_r(seed) % 4];
    return tr_spawn(rt, &sink_type, &o, out);
}

/* ------------------------------------------------------------------ */
/* pusher actors */

typedef struct pusher_s {
    int left;
    unsigned seed;
} pusher_t;

static int pusher_init(tr_ctx_t *ctx, void *state, const void *args) {
    (void)ctx;
    pusher_t *p = state;
    p->left = PUSHER_OPS;
    memcpy(&p->seed, args, sizeof p->seed);
    return 0;
}

static void pusher_cont(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie) {
    (void)ctx;
    (void)state;
    S.conts_run++;
    switch (r->status) {
    case TR_OK: {
        int v;
        if (r->len != sizeof v) {
            S.cont_bad_value++;
            break;
        }
        memcpy(&v, r->data, sizeof v);
        if (v != (int)(intptr_t)cookie + 1)
            S.cont_bad_value++;
        break;
    }
    case TR_EDROPPED:
    case TR_EDEAD:
    case TR_EFULL:
        break;
    default:
        S.cont_bad_status++;
    }
}

static void on_tick(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)m;
    pusher_t *p = state;
    for (int k = 0; k < PUSHER_BATCH && p->left > 0; k++) {
        p->left--;
        tr_ref_t to = get_sink((int)(rand_r(&p->seed) % N_SINKS));
        if (p->left % CALL_EVERY == 0) {
            int v = p->left;
            int rc = tr_call(ctx, to, MSG_CALL, &v, sizeof v, pusher_cont, (void *)(intptr_t)v, 0);
            if (rc == 0)
                S.calls_made++;
            else if (rc == TR_EDEAD || rc == TR_EFULL)
                S.call_rejected++;
            else
                S.push_bad_rc++;
        } else {
            int rc = tr_send_move(ctx, to, MSG_DATA, new_pl(p->left), sizeof(pl_t), pl_dtor);
            if (rc == 0)
                S.push_sends_ok++;
            else if (rc == TR_EDEAD || rc == TR_EFULL)
                S.push_sends_rejected++;
            else
                S.push_bad_rc++;
        }
    }
    if (p->left > 0) {
        if (tr_send(ctx, tr_self(ctx), MSG_TICK, NULL, 0) != 0)
            S.push_bad_rc++;
    } else {
        pushers_done++;
    }
}

static const tr_handler_t pusher_handlers[] = {
    TR_ON_EMPTY(MSG_TICK, on_tick),
    TR_END,
};

static const tr_actor_type_t pusher_type = {
    .name = "pusher",
    .state_size = sizeof(pusher_t),
    .handlers = pusher_handlers,
    .init = pusher_init,
};

/* ------------------------------------------------------------------ */
/* foreign threads */

static void *producer(void *arg) {
    thread_t *t = arg;
    for (uint64_t i = 0; i < THREAD_OPS; i++) {
        int which = (int)(rand_r(&t->seed) % N_SINKS);
        tr_ref_t to = get_sink(which);
        t->ops++;
        if (i % SYNC_EVERY == 0) {
            int v = (int)i;
            tr_result_t res;
            int rc = tr_call_sync(t->rt, to, MSG_CALL, &v, sizeof v, &res, SYNC_TIMEOUT_MS);
            t->syncs++;
            if (rc != 0) {
                t->sync_bad_rc++;
            } else {
                switch (res.status) {
                case TR_OK: {
                    int got = 0;
                    if (res.len == sizeof got)
                        memcpy(&got, res.data, sizeof got);
                    if (got == v + 1)
                        t->sync_ok++;
                    else
                        t->sync_bad_value++;
                    t->sync_status[0]++;
                    break;
                }
                case TR_EDEAD: t->sync_status[1]++; break;
                case TR_EFULL: t->sync_status[2]++; break;
                case TR_EDROPPED: t->sync_status[3]++; break;
                case TR_ETIMEDOUT: t->sync_timeouts++; break;
                default: t->sync_status[4]++;
                }
            }
            tr_result_release(&res);
        } else {
            int rc = tr_runtime_send_move(t->rt, to, MSG_DATA, new_pl((int)i), sizeof(pl_t),
                                          pl_dtor);
            switch (rc) {
            case 0: t->sends_ok++; break;
            case TR_EFULL: t->sends_full++; break;
            case TR_EDEAD: t->sends_dead++; break;
            default: t->bad_rc++;
            }
        }
    }
    atomic_fetch_add(&threads_done, 1);
    /* wake the scheduler so it re-checks the predicate (the monitor is
     * never stopped and has room for one nudge per thread) */
    if (tr_runtime_send(t->rt, monitor, MSG_NUDGE, NULL, 0) != 0)
        t->bad_rc++;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* the scheduler thread: chaos between passes, until everyone is done */

typedef struct chaos_s {
    tr_runtime_t *rt;
    unsigned seed;
} chaos_t;

static int all_done(void *arg) {
    chaos_t *c = arg;
    S.pred_calls++;
    if (S.respawns < MAX_RESPAWNS && rand_r(&c->seed) % 8 == 0) {
        int i = (int)(rand_r(&c->seed) % N_SINKS);
        tr_ref_t old = get_sink(i), nu = TR_REF_NONE;
        if (tr_stop(c->rt, old) != 0)
            S.chaos_errors++;
        if (spawn_sink(c->rt, &c->seed, &nu) != 0) {
            S.chaos_errors++;
        } else {
            pthread_mutex_lock(&sinks_mu);
            sinks[i] = nu;
            pthread_mutex_unlock(&sinks_mu);
        }
        S.respawns++;
    }
    return atomic_load(&threads_done) == N_THREADS && pushers_done == N_PUSHERS;
}

static void test_stress_million(void **state) {
    (void)state;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.log = tt_quiet_log;
    tr_runtime_t *rt = tt_runtime(&o);
    chaos_t chaos = {rt, 0xC0FFEEu};
    for (int i = 0; i < N_SINKS; i++)
        assert_int_equal(spawn_sink(rt, &chaos.seed, &sinks[i]), 0);
    tr_spawn_opts_t mo;
    memset(&mo, 0, sizeof mo);
    mo.mailbox_capacity = 1024;
    monitor = tt_spawn(rt, &sink_type, &mo);
    tr_ref_t pushers[N_PUSHERS];
    for (int i = 0; i < N_PUSHERS; i++) {
        unsigned seed = 1000u + (unsigned)i;
        tr_spawn_opts_t po;
        memset(&po, 0, sizeof po);
        po.args = &seed;
        pushers[i] = tt_spawn(rt, &pusher_type, &po);
        assert_int_equal(tr_runtime_send(rt, pushers[i], MSG_TICK, NULL, 0), 0);
    }

    thread_t *th = calloc(N_THREADS, sizeof *th);
    assert_non_null(th);
    for (int i = 0; i < N_THREADS; i++) {
        th[i].rt = rt;
        th[i].seed = 42u + (unsigned)i;
        assert_int_equal(pthread_create(&th[i].th, NULL, producer, &th[i]), 0);
    }
    assert_int_equal(tr_runtime_run_until(rt, all_done, &chaos), 0);
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_join(th[i].th, NULL), 0);
    /* let the pushers' last calls resolve */
    tt_drain(rt);

    uint64_t ops = (uint64_t)N_PUSHERS * PUSHER_OPS, syncs = 0, sends_ok = 0, full = 0, dead = 0;
    uint64_t sync_status[8] = {0};
    for (int i = 0; i < N_THREADS; i++) {
        thread_t *t = &th[i];
        ops += t->ops;
        syncs += t->syncs;
        sends_ok += t->sends_ok;
        full += t->sends_full;
        dead += t->sends_dead;
        for (int k = 0; k < 8; k++)
            sync_status[k] += t->sync_status[k];
        assert_int_equal(t->bad_rc, 0);
        assert_int_equal(t->sync_bad_rc, 0);
        assert_int_equal(t->sync_bad_value, 0);
        assert_int_equal(t->sync_timeouts, 0);
        assert_int_equal(t->sync_status[4], 0);
    }
    assert_int_equal(ops, TOTAL_OPS);
    assert_int_equal(S.push_bad_rc, 0);
    assert_int_equal(S.chaos_errors, 0);
    assert_true(S.respawns > 0);
    /* every accepted call's continuation ran exactly once */
    assert_int_equal(S.conts_run, S.calls_made);
    assert_int_equal(S.cont_bad_status, 0);
    assert_int_equal(S.cont_bad_value, 0);
    assert_int_equal(S.nudges, N_THREADS);
    assert_int_equal(atomic_load(&bad_dtor), 0);

    tr_stats_t s = tt_stats(rt);
    tt_assert_chan_balance(rt);
    assert_true(s.chan_created >= S.calls_made);
    assert_int_equal(tr_runtime_verify(rt), N_SINKS + N_PUSHERS + 1);
    tr_runtime_destroy(rt);

    /* every payload allocated was destroyed exactly once */
    assert_int_equal(atomic_load(&allocated), atomic_load(&destroyed));
    assert_true(atomic_load(&allocated) > 0);

    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr,
            "stress: %llu ops in %.2f s; thread sends ok=%llu full=%llu dead=%llu; "
            "syncs=%llu (ok=%llu dead=%llu full=%llu dropped=%llu); pusher calls=%llu "
            "sends ok=%llu rejected=%llu; sink data=%llu calls=%llu; respawns=%llu; "
            "dead_letters=%llu drops new/old=%llu/%llu; chan created=%llu; payloads=%llu; "
            "scheduler passes checked=%llu\n",
            (unsigned long long)ops, secs, (unsigned long long)sends_ok,
            (unsigned long long)full, (unsigned long long)dead, (unsigned long long)syncs,
            (unsigned long long)sync_status[0], (unsigned long long)sync_status[1],
            (unsigned long long)sync_status[2], (unsigned long long)sync_status[3],
            (unsigned long long)S.calls_made, (unsigned long long)S.push_sends_ok,
            (unsigned long long)S.push_sends_rejected, (unsigned long long)S.sink_data,
            (unsigned long long)S.sink_calls, (unsigned long long)S.respawns,
            (unsigned long long)s.dead_letters, (unsigned long long)s.drops_newest,
            (unsigned long long)s.drops_oldest, (unsigned long long)s.chan_created,
            (unsigned long long)atomic_load(&allocated), (unsigned long long)S.pred_calls);
    free(th);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stress_million),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
