/* runtime/runtime.c: the runtime object: creation on the calling thread,
 * libev watchers (a prepare watcher runs a pass before the loop blocks, an
 * idle watcher keeps it from blocking while actors have work, an async
 * watcher wakes it for foreign sends, one timer for the deadline heap,
 * signal watchers for ordered shutdown), the clock, logging, counters and
 * destruction. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/internal.h"

bool tr__on_sched_thread(const tr__sched_t *s) { return pthread_equal(pthread_self(), s->thread); }

void tr__wake(tr__sched_t *s) {
    TR__FADD(s->rt->fc.inbox_wakeups, 1);
    ev_async_send(s->loop, &s->async);
}

static uint64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Runtime time: milliseconds since the runtime was created, from
 * CLOCK_MONOTONIC (a vDSO call, no syscall), or the manual clock. */
uint64_t tr__now_ms(tr__sched_t *s) {
    if (s->rt->opts.manual_clock) return s->vnow_ms;
    return mono_ms() - s->mono0_ms;
}

uint64_t tr_runtime_now_ms(tr_runtime_t *rt) { return rt ? tr__now_ms(&rt->sched[0]) : 0; }

/* ---- logging ---- */

static const char *level_name(tr_log_level_t l) {
    switch (l) {
    case TR_LOG_ERROR: return "error";
    case TR_LOG_WARNING: return "warning";
    case TR_LOG_NOTICE: return "notice";
    case TR_LOG_INFO: return "info";
    case TR_LOG_DEBUG: return "debug";
    }
    return "log";
}

static void vlog(tr_runtime_t *rt, tr_log_level_t level, const char *fmt, va_list ap) {
    if ((int)level > atomic_load_explicit(&rt->log_level, memory_order_relaxed)) return;
    char line[1024];
    vsnprintf(line, sizeof(line), fmt, ap);
    if (rt->opts.log) {
        rt->opts.log(rt->opts.log_arg, level, line);
        return;
    }
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ troupe %s: %s\n", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
            level_name(level), line);
}

void tr__log(tr_runtime_t *rt, tr_log_level_t level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog(rt, level, fmt, ap);
    va_end(ap);
}

void tr_log(tr_runtime_t *rt, tr_log_level_t level, const char *fmt, ...) {
    if (!rt || !fmt) return;
    va_list ap;
    va_start(ap, fmt);
    vlog(rt, level, fmt, ap);
    va_end(ap);
}

void tr_runtime_set_log_level(tr_runtime_t *rt, tr_log_level_t level) {
    if (rt) atomic_store_explicit(&rt->log_level, (int)level, memory_order_relaxed);
}

/* ---- ordered shutdown ---- */

static int cmp_seq(const void *x, const void *y) {
    const tr__actor_t *a = *(tr__actor_t *const *)x, *b = *(tr__actor_t *const *)y;
    return a->spawn_seq < b->spawn_seq ? -1 : a->spawn_seq > b->spawn_seq;
}

static int cmp_seq_desc(const void *x, const void *y) { return cmp_seq(y, x); }

tr__actor_t **tr__live_actors(tr_runtime_t *rt, bool newest_first, size_t *n) {
    size_t cap = rt->actors_live ? rt->actors_live : 1, k = 0;
    tr__actor_t **v = malloc(cap * sizeof(*v));
    *n = 0;
    if (!v) return NULL;
    for (uint32_t c = 0; c < rt->slot_nchunks; c++) {
        tr__slot_t *chunk = atomic_load_explicit(&rt->slot_chunks[c], memory_order_relaxed);
        for (uint32_t i = 0; i < TR__SLOT_CHUNK && k < cap; i++) {
            tr__actor_t *a = chunk[i].u.actor;
            if (a && atomic_load_explicit(&chunk[i].ti, memory_order_relaxed) &&
                !(a->flags & TR__A_DEAD))
                v[k++] = a;
        }
    }
    qsort(v, k, sizeof(*v), newest_first ? cmp_seq_desc : cmp_seq);
    *n = k;
    return v;
}

/* Refs of the live actors, most recently spawned first (refs, not
 * pointers: stopping one actor may stop others). The caller frees it. */
static tr_ref_t *live_refs(tr_runtime_t *rt, size_t *n) {
    tr__actor_t **v = tr__live_actors(rt, true, n);
    tr_ref_t *refs = v ? malloc((*n ? *n : 1) * sizeof(*refs)) : NULL;
    TR__ASSERT(refs, "out of memory listing live actors");
    for (size_t i = 0; i < *n; i++) refs[i] = v[i]->ref;
    free(v);
    return refs;
}

/* Stop every live actor, most recently spawned first. Runs outside any
 * handler, so each actor is torn down right here and the order is exact (a
 * stop request would overtake queued user messages anyway: they are
 * discarded and counted the same way). A supervisor's teardown kills its
 * children, so the list is walked by ref: an actor already gone is skipped,
 * never touched. */
static void stop_all(tr__sched_t *s, tr_stop_reason_t reason) {
    tr_runtime_t *rt = s->rt;
    while (rt->actors_live) {
        size_t n = 0;
        tr_ref_t *rv = live_refs(rt, &n);
        for (size_t i = 0; i < n; i++) {
            tr__actor_t *a = tr__actor_get(rt, rv[i]);
            if (a && !(a->flags & TR__A_DEAD)) tr__actor_teardown(s, a, reason);
        }
        free(rv);
    }
}

/* Ask every root supervisor, most recent first, to shut its tree down in
 * order; the rest of the actors are stopped directly once no supervisor is
 * left (finish_shutdown). */
static void begin_shutdown(tr__sched_t *s) {
    tr_runtime_t *rt = s->rt;
    rt->shutting_down = 1;
    tr__log(rt, TR_LOG_NOTICE, "ordered shutdown: stopping %llu actor(s)",
            (unsigned long long)rt->actors_live);
    if (rt->sups_live == 0) {
        stop_all(s, TR_STOP_SHUTDOWN);
        return;
    }
    size_t n = 0;
    tr_ref_t *rv = live_refs(rt, &n);
    for (size_t i = 0; i < n; i++) {
        tr__actor_t *a = tr__actor_get(rt, rv[i]);
        if (a && tr__actor_sup(a) && !tr_ref_valid(a->x->parent))
            tr__actor_request_stop(s, a, TR_STOP_SHUTDOWN);
    }
    free(rv);
}

static void finish_shutdown(tr__sched_t *s) {
    tr_runtime_t *rt = s->rt;
    if (rt->shutting_down && !rt->destroying && rt->sups_live == 0 && rt->actors_live)
        stop_all(s, TR_STOP_SHUTDOWN);
}

/* ---- libev watchers ---- */

static bool due_timer(tr__sched_t *s) { return tr__timers_next(s) <= tr__now_ms(s); }

static void after_pass(tr__sched_t *s) {
    tr_runtime_t *rt = s->rt;
    if (rt->shutting_down && rt->actors_live == 0 && !rt->stopped) {
        rt->stopped = 1;
        tr__log(rt, TR_LOG_NOTICE, "ordered shutdown complete");
        ev_break(s->loop, EVBREAK_ALL);
    }
    if (atomic_exchange_explicit(&rt->stop_req, 0, memory_order_relaxed))
        ev_break(s->loop, EVBREAK_ALL);
    /* a timer already due (manual clock: time does not move by itself)
     * fires at the next pass, so the loop must not block before it */
    if (tr__has_work(s) || due_timer(s)) {
        if (!ev_is_active(&s->idle)) ev_idle_start(s->loop, &s->idle);
    } else if (ev_is_active(&s->idle)) {
        ev_idle_stop(s->loop, &s->idle);
    }
    tr__timers_rearm(s);
    if (s->until_pred && s->until_pred(s->until_arg)) ev_break(s->loop, EVBREAK_ONE);
}

static void pass(tr__sched_t *s) {
    tr_runtime_t *rt = s->rt;
    if (atomic_load_explicit(&rt->shutdown_req, memory_order_relaxed) && !rt->shutting_down)
        begin_shutdown(s);
    tr__config_poll(s);
    tr__run_pass(s);
    finish_shutdown(s);
    after_pass(s);
}

static void on_prepare(struct ev_loop *loop, ev_prepare *w, int revents) {
    (void)loop, (void)revents;
    pass(w->data);
}

static void on_idle(struct ev_loop *loop, ev_idle *w, int revents) {
    (void)loop, (void)w, (void)revents; /* only keeps the loop from blocking */
}

static void on_async(struct ev_loop *loop, ev_async *w, int revents) {
    (void)loop, (void)revents;
    tr__sched_t *s = w->data;
    tr__drain_inbox(s); /* the prepare pass will run the actors */
    if (atomic_load_explicit(&s->rt->stop_req, memory_order_relaxed) ||
        atomic_load_explicit(&s->rt->shutdown_req, memory_order_relaxed))
        ev_idle_start(loop, &s->idle); /* make sure a pass runs promptly */
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents) {
    (void)loop, (void)revents;
    tr__sched_t *s = w->data;
    s->timer_armed_ms = TR__UNARMED;
    tr__timers_fire(s, tr__now_ms(s));
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents) {
    (void)loop, (void)revents;
    tr_runtime_t *rt = w->data;
    tr__log(rt, TR_LOG_NOTICE, "received %s", w->signum == SIGINT ? "SIGINT" : "SIGTERM");
    tr_runtime_shutdown(rt);
}

/* ---- lifecycle ---- */

int tr_runtime_create(const tr_runtime_opts_t *opts, tr_runtime_t **out) {
    static const tr_runtime_opts_t defaults;
    if (!out) return TR_EINVAL;
    *out = NULL;
    if (!opts) opts = &defaults;
    if (opts->mailbox_capacity > TR_MAILBOX_MAX || opts->batch > (1u << 20) ||
        opts->pass_budget > (1u << 20))
        return TR_EINVAL;
    if (opts->log_level && (opts->log_level < TR_LOG_ERROR || opts->log_level > TR_LOG_DEBUG))
        return TR_EINVAL;
    if (opts->fault_isolation < TR_FAULT_REPORT || opts->fault_isolation > TR_FAULT_OFF ||
        opts->event_ring > (1u << 20))
        return TR_EINVAL;
    if (opts->debug_max_clients > 1024 ||
        (opts->debug_idle_ms && opts->debug_idle_ms < 100) ||
        (opts->debug_socket && strcmp(opts->debug_socket, TR_DEBUG_SOCKET_DEFAULT) != 0 &&
         (opts->debug_socket[0] != '/' || strlen(opts->debug_socket) > TR_DEBUG_PATH_MAX)))
        return TR_EINVAL;
    tr_runtime_t *rt = calloc(1, sizeof(*rt));
    tr__sched_t *s = calloc(1, sizeof(*s));
    if (!rt || !s) {
        free(rt);
        free(s);
        return TR_ENOMEM;
    }
    rt->opts = *opts;
    if (!rt->opts.mailbox_capacity) rt->opts.mailbox_capacity = 1024;
    if (!rt->opts.batch) rt->opts.batch = 64;
    if (!rt->opts.pass_budget) rt->opts.pass_budget = 256;
    if (!rt->opts.log_level) rt->opts.log_level = TR_LOG_NOTICE;
    if (!rt->opts.event_ring) rt->opts.event_ring = 1024;
    if (!rt->opts.stall_ms) rt->opts.stall_ms = 5000;
    if (!rt->opts.watchdog_ms) rt->opts.watchdog_ms = 1000;
    if (!rt->opts.debug_max_clients) rt->opts.debug_max_clients = 16;
    if (!rt->opts.debug_idle_ms) rt->opts.debug_idle_ms = 60000;
    rt->opts.handler_timing = rt->opts.handler_timing != 0;
    atomic_init(&rt->log_level, (int)rt->opts.log_level);
    int cerr = tr__config_init(rt); /* [runtime] may override the options */
    if (cerr) {
        tr__config_fini(rt);
        free(rt);
        free(s);
        return cerr;
    }
    opts = &rt->opts;
    rt->own_loop = opts->loop == NULL;
    s->loop = opts->loop ? opts->loop : ev_loop_new(EVFLAG_AUTO);
    if (!s->loop) {
        tr__config_fini(rt);
        free(rt);
        free(s);
        return TR_ESYS;
    }
    rt->sched = s;
    rt->nsched = 1;
    rt->slot_free = UINT32_MAX;
    pthread_mutex_init(&rt->reg_mu, NULL);
    s->rt = rt;
    s->id = 0;
    s->thread = pthread_self();
    s->ctx.rt = rt;
    s->ctx.s = s;
    s->chan_free = UINT32_MAX;
    s->mono0_ms = mono_ms();
    s->timer_armed_ms = TR__UNARMED;
    if (tr__events_init(s, opts->event_ring) != 0) {
        if (rt->own_loop) ev_loop_destroy(s->loop);
        tr__config_fini(rt);
        pthread_mutex_destroy(&rt->reg_mu);
        free(rt);
        free(s);
        return TR_ENOMEM;
    }
    if (opts->fault_isolation != TR_FAULT_OFF) {
        int err = tr__faults_install(rt);
        if (err) {
            if (rt->own_loop) ev_loop_destroy(s->loop);
            tr__config_fini(rt);
            pthread_mutex_destroy(&rt->reg_mu);
            free(s->ev);
            free(rt);
            free(s);
            return err;
        }
    }
    ev_prepare_init(&s->prepare, on_prepare);
    s->prepare.data = s;
    ev_prepare_start(s->loop, &s->prepare);
    ev_unref(s->loop);
    ev_idle_init(&s->idle, on_idle);
    s->idle.data = s;
    ev_async_init(&s->async, on_async);
    s->async.data = s;
    ev_async_start(s->loop, &s->async);
    ev_unref(s->loop); /* tr_runtime_run holds its own reference */
    ev_timer_init(&s->timer, on_timer, 0., 0.);
    s->timer.data = s;
    if (opts->handle_signals) {
        ev_signal_init(&rt->sigint, on_signal, SIGINT);
        ev_signal_init(&rt->sigterm, on_signal, SIGTERM);
        rt->sigint.data = rt->sigterm.data = rt;
        ev_signal_start(s->loop, &rt->sigint);
        ev_signal_start(s->loop, &rt->sigterm);
        ev_unref(s->loop);
        ev_unref(s->loop);
    }
    tr__config_started(rt);
    int derr = tr__diag_init(rt);
    if (!derr) derr = tr__debug_start(rt);
    if (derr) {
        tr_runtime_destroy(rt);
        return derr;
    }
    *out = rt;
    return 0;
}

int tr_runtime_run(tr_runtime_t *rt) {
    if (!rt) return TR_EINVAL;
    tr__sched_t *s = &rt->sched[0];
    if (!tr__on_sched_thread(s) || s->ctx.actor) return TR_EWRONGTHREAD;
    if (rt->stopped || rt->destroying) return TR_ESTOPPED;
    ev_ref(s->loop);
    ev_run(s->loop, 0);
    ev_unref(s->loop);
    return atomic_load_explicit(&rt->exit_status, memory_order_relaxed);
}

int tr_runtime_exit_status(tr_runtime_t *rt) {
    return rt ? atomic_load_explicit(&rt->exit_status, memory_order_relaxed) : TR_EINVAL;
}

int tr_runtime_shutdown(tr_runtime_t *rt) {
    if (!rt) return TR_EINVAL;
    atomic_store_explicit(&rt->shutdown_req, 1, memory_order_relaxed);
    ev_async_send(rt->sched[0].loop, &rt->sched[0].async);
    return 0;
}

void tr_runtime_stop(tr_runtime_t *rt) {
    if (!rt) return;
    atomic_store_explicit(&rt->stop_req, 1, memory_order_relaxed);
    ev_async_send(rt->sched[0].loop, &rt->sched[0].async);
}

struct ev_loop *tr_runtime_loop(tr_runtime_t *rt) { return rt ? rt->sched[0].loop : NULL; }

int tr_runtime_poll(tr_runtime_t *rt) {
    if (!rt) return TR_EINVAL;
    tr__sched_t *s = &rt->sched[0];
    if (!tr__on_sched_thread(s) || s->ctx.actor) return TR_EWRONGTHREAD;
    uint64_t before = s->handled_total;
    ev_run(s->loop, EVRUN_NOWAIT);
    return (int)(s->handled_total - before);
}


int64_t tr_runtime_run_until_idle(tr_runtime_t *rt) {
    if (!rt) return TR_EINVAL;
    tr__sched_t *s = &rt->sched[0];
    if (!tr__on_sched_thread(s) || s->ctx.actor) return TR_EWRONGTHREAD;
    uint64_t before = s->handled_total;
    do {
        ev_run(s->loop, EVRUN_NOWAIT);
    } while (tr__has_work(s) || due_timer(s));
    return (int64_t)(s->handled_total - before);
}

int tr_runtime_run_until(tr_runtime_t *rt, int (*pred)(void *arg), void *arg) {
    if (!rt || !pred) return TR_EINVAL;
    tr__sched_t *s = &rt->sched[0];
    if (!tr__on_sched_thread(s) || s->ctx.actor) return TR_EWRONGTHREAD;
    int (*saved_pred)(void *) = s->until_pred;
    void *saved_arg = s->until_arg;
    s->until_pred = pred;
    s->until_arg = arg;
    int r = 0;
    ev_ref(s->loop);
    while (!pred(arg)) {
        if (rt->stopped) {
            r = TR_ESTOPPED;
            break;
        }
        ev_run(s->loop, EVRUN_ONCE);
    }
    ev_unref(s->loop);
    s->until_pred = saved_pred;
    s->until_arg = saved_arg;
    return r;
}

int tr_runtime_advance(tr_runtime_t *rt, uint64_t ms) {
    if (!rt) return TR_EINVAL;
    tr__sched_t *s = &rt->sched[0];
    if (!rt->opts.manual_clock) return TR_EINVAL;
    if (!tr__on_sched_thread(s) || s->ctx.actor) return TR_EWRONGTHREAD;
    uint64_t target = s->vnow_ms + ms;
    tr_runtime_run_until_idle(rt);
    for (;;) {
        uint64_t next = tr__timers_next(s);
        if (next > target) break;
        if (next > s->vnow_ms) s->vnow_ms = next;
        tr__timers_fire(s, s->vnow_ms);
        tr_runtime_run_until_idle(rt);
    }
    s->vnow_ms = target;
    tr_runtime_run_until_idle(rt);
    return 0;
}

void tr_runtime_destroy(tr_runtime_t *rt) {
    if (!rt) return;
    tr__sched_t *s = &rt->sched[0];
    TR__ASSERT(tr__on_sched_thread(s) && !s->ctx.actor,
               "tr_runtime_destroy from the scheduler thread, outside handlers");
    rt->destroying = 1;
    rt->shutting_down = 1;
    tr__debug_stop(rt);
    /* stop every actor, most recent first; terminate may send to others,
     * whose teardown then discards and counts those messages */
    stop_all(s, TR_STOP_SHUTDOWN);
    /* what foreign threads left in flight */
    for (tr__inode_t *n = tr__inbox_take(&s->inbox); n;) {
        tr__inode_t *next = n->next;
        if (n->kind == TR__IN_SEND) {
            tr__dead_letter(s, &n->env);
        } else if (n->kind == TR__IN_CALL_SYNC) {
            tr__env_destroy(&n->env);
            tr__sync_fail(s, n->sync, n->to, n->env.type, TR_ESTOPPED, "the runtime was destroyed");
        }
        free(n);
        n = next;
    }
    while (s->runq_head) {
        tr__actor_t *a = s->runq_head;
        s->runq_head = a->runq_next;
        TR__ASSERT(a->flags & TR__A_DEAD, "live actor in the run queue after destroy");
        tr__actor_free(s, a);
    }
    s->runq_tail = NULL;
    tr__diag_fini(rt); /* joins the watchdog, takes the stall check off the heap */
    TR__ASSERT(s->heap_len == 0, "timers left after every actor stopped");
    TR__ASSERT(s->chan_count == 0, "reply channels left after every actor stopped");
    ev_prepare_stop(s->loop, &s->prepare);
    ev_idle_stop(s->loop, &s->idle);
    ev_async_stop(s->loop, &s->async);
    ev_timer_stop(s->loop, &s->timer);
    /* balance the ev_unref calls made at creation */
    ev_ref(s->loop);
    ev_ref(s->loop);
    if (rt->opts.handle_signals) {
        ev_ref(s->loop);
        ev_ref(s->loop);
        ev_signal_stop(s->loop, &rt->sigint);
        ev_signal_stop(s->loop, &rt->sigterm);
    }
    tr__config_fini(rt);
    if (rt->own_loop) ev_loop_destroy(s->loop);
    tr__faults_uninstall(rt);
    free(s->ev);
    free(s->heap);
    free(s->wm_ev);
    tr__chan_free_all(s);
    tr__typeinfo_free_all(rt);
    tr__registry_free(rt);
    tr__fdown_t *o, *otmp;
    HASH_ITER(hh, rt->fd_owners, o, otmp) {
        HASH_DEL(rt->fd_owners, o);
        free(o);
    }
    for (uint32_t c = 0; c < rt->slot_nchunks; c++)
        free(atomic_load_explicit(&rt->slot_chunks[c], memory_order_relaxed));
    pthread_mutex_destroy(&rt->reg_mu);
    free(s);
    free(rt);
}

/* ---- counters ---- */

int tr_runtime_stats(tr_runtime_t *rt, tr_stats_t *out) {
    if (!rt || !out) return TR_EINVAL;
    memset(out, 0, sizeof(*out));
#define SUM(f) out->f = TR__GET(rt->fc.f) + TR__GET(rt->sched[0].c.f)
    SUM(actors_spawned);
    SUM(actors_stopped);
    SUM(msgs_sent);
    SUM(msgs_handled);
    SUM(sends_rejected);
    SUM(dead_letters);
    SUM(drops_newest);
    SUM(drops_oldest);
    SUM(chan_created);
    SUM(chan_ok);
    SUM(chan_error);
    SUM(chan_timeout);
    SUM(chan_dropped);
    SUM(chan_undelivered);
    SUM(chan_cancelled);
    SUM(late_replies);
    SUM(conts_cancelled);
    SUM(watermark_high);
    SUM(watermark_low);
    SUM(inbox_wakeups);
    SUM(loop_passes);
    SUM(panics);
    SUM(faults_isolated);
    SUM(restarts);
    SUM(downs);
    SUM(exits);
    SUM(config_updates);
#undef SUM
    tr_config_status_t cs;
    tr_runtime_config_status(rt, &cs);
    out->config_generation = cs.generation;
    out->reloads_ok = cs.reloads_ok;
    out->reloads_failed = cs.reloads_failed;
    out->actors_live = out->actors_spawned - out->actors_stopped;
    uint64_t resolved = out->chan_ok + out->chan_error + out->chan_timeout + out->chan_dropped +
                        out->chan_undelivered + out->chan_cancelled;
    out->chan_pending = out->chan_created - resolved;
    return 0;
}

/* ---- invariants (our bugs) ---- */

int64_t tr_runtime_verify(tr_runtime_t *rt) {
    if (!rt) return TR_EINVAL;
    tr__sched_t *s = &rt->sched[0];
    if (!tr__on_sched_thread(s) || s->ctx.actor) return TR_EWRONGTHREAD;
    int64_t live = 0;
    uint64_t pending_calls = 0, queued_conts = 0;
    for (uint32_t c = 0; c < rt->slot_nchunks; c++) {
        tr__slot_t *chunk = atomic_load_explicit(&rt->slot_chunks[c], memory_order_relaxed);
        for (uint32_t i = 0; i < TR__SLOT_CHUNK; i++) {
            tr__slot_t *sl = &chunk[i];
            tr__actor_t *a = atomic_load_explicit(&sl->ti, memory_order_relaxed) ? sl->u.actor : NULL;
            if (!a) continue;
            live++;
            uint64_t w = atomic_load_explicit(&sl->word, memory_order_relaxed);
            TR__ASSERT(TR__WORD_GEN(w) == a->ref.gen, "slot generation differs from its actor's");
            TR__ASSERT(a->ref.slot == c * TR__SLOT_CHUNK + i, "actor in the wrong slot");
            TR__ASSERT(!(a->flags & (TR__A_DEAD | TR__A_RUNNING)), "dead or running actor in a slot");
            uint32_t counted = 0;
            for (uint32_t k = 0; k < a->ring.count; k++)
                if (!(a->ring.buf[(a->ring.head + k) & a->ring.mask].flags & TR__F_NOCAP)) counted++;
            TR__ASSERT(counted <= TR__WORD_ENQ(w) - atomic_load_explicit(&sl->deq, memory_order_relaxed),
                       "ring holds more than the depth counts");
            if (a->ring.count || a->rq_head || a->sys)
                TR__ASSERT(a->flags & TR__A_IN_RUNQ, "actor with work is not in the run queue");
            for (tr__chan_t *ch = a->calls; ch; ch = ch->next) {
                TR__ASSERT(ch->state == TR__CH_PENDING && ch->caller_actor == a,
                           "pending call list corrupt");
                TR__ASSERT(!ch->next || ch->next->prev == ch, "pending call links corrupt");
                pending_calls++;
            }
            for (tr__chan_t *ch = a->rq_head; ch; ch = ch->next) {
                TR__ASSERT(ch->state == TR__CH_QUEUED, "reply queue holds an unresolved channel");
                queued_conts++;
            }
        }
    }
    TR__ASSERT((uint64_t)live == rt->actors_live, "live actor count is off");
    TR__ASSERT(pending_calls + queued_conts <= s->chan_count, "more channels in lists than exist");
    for (uint32_t i = 0; i < s->heap_len; i++) {
        TR__ASSERT(s->heap[i]->heap_idx == i, "timer heap index corrupt");
        if (i) TR__ASSERT(s->heap[(i - 1) / 2]->deadline_ms <= s->heap[i]->deadline_ms,
                          "timer heap order violated");
    }
    return live;
}
