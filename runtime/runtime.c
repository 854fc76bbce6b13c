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

#include <errno.h>
#include <unistd.h>

#include "runtime/internal.h"

__thread tr__sched_t *tr__tls_cur;

bool tr__stepping(const tr_runtime_t *rt) {
    return !atomic_load_explicit(&rt->threads_running, memory_order_acquire) &&
           pthread_equal(pthread_self(), rt->owner);
}

bool tr__may_touch(const tr__sched_t *s) {
    tr__sched_t *cur = tr__current(s->rt);
    /* (stepping first: only the owner thread writes sync_spawn) */
    if (tr__stepping(s->rt) && s->rt->sync_spawn) return true; /* see tr__spawn */
    /* scheduler 0 with the world stopped may touch them all (world_depth
     * is its own: read only on its thread) */
    if (cur) return cur == s || (cur->id == 0 && s->rt->world_depth > 0);
    return tr__stepping(s->rt);
}

void tr__wake(tr__sched_t *s) {
    TR__FADD(s->c.inbox_wakeups, 1); /* any thread: a locked add */
    ev_async_send(s->loop, &s->async);
}

static uint64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Runtime time: milliseconds since the runtime was created, from
 * CLOCK_MONOTONIC (a vDSO call, no syscall), or the manual clock. One clock
 * for every scheduler. */
uint64_t tr__now_ms(tr__sched_t *s) {
    tr_runtime_t *rt = s->rt;
    if (rt->opts.manual_clock) return rt->vnow_ms;
    return mono_ms() - rt->mono0_ms;
}

uint64_t tr_runtime_now_ms(tr_runtime_t *rt) { return rt ? tr__now_ms(&rt->sched[0]) : 0; }

uint16_t tr_runtime_schedulers(tr_runtime_t *rt) { return rt ? rt->nsched : 0; }

/* ---- stopping the world ---- */

int tr__world_stop(tr_runtime_t *rt, uint32_t wait_ms) {
    if (!atomic_load_explicit(&rt->threads_running, memory_order_acquire)) return 0;
    if (rt->world_depth++) return 0;
    pthread_mutex_lock(&rt->world_mu);
    atomic_store_explicit(&rt->world_req, 1, memory_order_relaxed);
    pthread_mutex_unlock(&rt->world_mu);
    for (uint16_t k = 1; k < rt->nsched; k++) ev_async_send(rt->sched[k].loop, &rt->sched[k].async);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    uint64_t ns = (uint64_t)dl.tv_nsec + (uint64_t)(wait_ms % 1000) * 1000000u;
    dl.tv_sec += (time_t)(wait_ms / 1000) + (time_t)(ns / 1000000000u);
    dl.tv_nsec = (long)(ns % 1000000000u);
    int r = 0;
    pthread_mutex_lock(&rt->world_mu);
    while (rt->parked < rt->nsched - 1) {
        if (wait_ms == UINT32_MAX) {
            pthread_cond_wait(&rt->world_cv, &rt->world_mu);
        } else if (pthread_cond_timedwait(&rt->world_cv, &rt->world_mu, &dl) == ETIMEDOUT &&
                   rt->parked < rt->nsched - 1) {
            atomic_store_explicit(&rt->world_req, 0, memory_order_relaxed);
            pthread_cond_broadcast(&rt->world_cv);
            r = TR_ETIMEDOUT;
            break;
        }
    }
    pthread_mutex_unlock(&rt->world_mu);
    if (r) rt->world_depth = 0;
    return r;
}

void tr__world_resume(tr_runtime_t *rt) {
    if (!atomic_load_explicit(&rt->threads_running, memory_order_acquire)) return;
    if (--rt->world_depth > 0) return;
    pthread_mutex_lock(&rt->world_mu);
    atomic_store_explicit(&rt->world_req, 0, memory_order_relaxed);
    pthread_cond_broadcast(&rt->world_cv);
    pthread_mutex_unlock(&rt->world_mu);
}

void tr__safepoint(tr__sched_t *s) {
    tr_runtime_t *rt = s->rt;
    if (TR__LIKELY(!atomic_load_explicit(&rt->world_req, memory_order_relaxed)) || s->id == 0)
        return;
    pthread_mutex_lock(&rt->world_mu);
    if (atomic_load_explicit(&rt->world_req, memory_order_relaxed)) {
        rt->parked++;
        pthread_cond_broadcast(&rt->world_cv);
        while (atomic_load_explicit(&rt->world_req, memory_order_relaxed))
            pthread_cond_wait(&rt->world_cv, &rt->world_mu);
        rt->parked--;
    }
    pthread_mutex_unlock(&rt->world_mu);
}

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
    uint64_t live = atomic_load_explicit(&rt->actors_live, memory_order_relaxed);
    size_t cap = live ? live : 1, k = 0;
    tr__actor_t **v = malloc(cap * sizeof(*v));
    *n = 0;
    if (!v) return NULL;
    uint32_t nchunks = atomic_load_explicit(&rt->slot_nchunks, memory_order_acquire);
    for (uint32_t c = 0; c < nchunks; c++) {
        tr__slot_t *chunk = atomic_load_explicit(&rt->slot_chunks[c], memory_order_acquire);
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

/* Tear `a` down on behalf of its own scheduler while stepping (the owner
 * thread is every scheduler's then): its terminate sees that scheduler as
 * the current one. */
static void teardown_as(tr_runtime_t *rt, tr__actor_t *a, tr_stop_reason_t reason) {
    tr__sched_t *s = &rt->sched[a->ref.sched], *prev = tr__tls_cur;
    tr__tls_cur = s;
    tr__actor_teardown(s, a, reason);
    tr__tls_cur = prev;
}

/* Scheduler 0 waits for another scheduler to tear one of its actors down
 * (terminate runs on the actor's own thread, like every handler of it). */
typedef struct tr__done_s {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
} tr__done_t;

void tr__teardown_arrived(tr__sched_t *s, tr__inode_t *n) {
    tr__actor_t *a = tr__actor_get(s, n->to);
    if (a && !(a->flags & (TR__A_DEAD | TR__A_RUNNING)))
        tr__actor_teardown(s, a, (tr_stop_reason_t)n->arg);
    tr__done_t *d = n->ptr;
    pthread_mutex_lock(&d->mu);
    d->done = 1;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

static void teardown_remote(tr_runtime_t *rt, tr_ref_t ref, tr_stop_reason_t reason) {
    tr__done_t d;
    memset(&d, 0, sizeof(d));
    tr__inode_t *n = calloc(1, sizeof(*n));
    TR__ASSERT(n, "out of memory stopping the actors");
    pthread_mutex_init(&d.mu, NULL);
    pthread_cond_init(&d.cv, NULL);
    n->kind = TR__IN_TEARDOWN;
    n->to = ref;
    n->arg = (uint32_t)reason;
    n->ptr = &d;
    tr__post(&rt->sched[ref.sched], n);
    pthread_mutex_lock(&d.mu);
    while (!d.done) pthread_cond_wait(&d.cv, &d.mu);
    pthread_mutex_unlock(&d.mu);
    pthread_mutex_destroy(&d.mu);
    pthread_cond_destroy(&d.cv);
}

/* Stop every live actor of every scheduler, most recently spawned first.
 * Runs outside any handler, so each actor is torn down right away and the
 * order is exact (a stop request would overtake queued user messages
 * anyway: they are discarded and counted the same way). The list is taken
 * with the world stopped; then each actor is torn down on its own
 * scheduler's thread, scheduler 0 waiting for each in turn (while
 * stepping, the owner thread is all of them). A supervisor's teardown
 * kills its children, so the list is walked by ref: an actor already gone
 * is skipped, never touched. */
static void stop_all(tr_runtime_t *rt, tr_stop_reason_t reason) {
    bool stepping = tr__stepping(rt);
    while (atomic_load_explicit(&rt->actors_live, memory_order_relaxed)) {
        size_t n = 0;
        tr__world_stop(rt, UINT32_MAX);
        tr_ref_t *rv = live_refs(rt, &n);
        tr__world_resume(rt);
        for (size_t i = 0; i < n; i++) {
            if (stepping || rv[i].sched == 0) {
                tr__actor_t *a = stepping ? tr__actor_get_any(rt, rv[i])
                                          : tr__actor_get(&rt->sched[0], rv[i]);
                if (a && !(a->flags & TR__A_DEAD)) teardown_as(rt, a, reason);
            } else if (tr_actor_alive(rt, rv[i])) {
                teardown_remote(rt, rv[i], reason);
            }
        }
        free(rv);
    }
}

/* Ask every root supervisor, most recent first, to shut its tree down in
 * order; the rest of the actors are stopped directly once no supervisor is
 * left (finish_shutdown). Scheduler 0. */
static void begin_shutdown(tr__sched_t *s) {
    tr_runtime_t *rt = s->rt;
    atomic_store_explicit(&rt->shutting_down, 1, memory_order_relaxed);
    tr__log(rt, TR_LOG_NOTICE, "ordered shutdown: stopping %llu actor(s)",
            (unsigned long long)atomic_load_explicit(&rt->actors_live, memory_order_relaxed));
    if (atomic_load_explicit(&rt->sups_live, memory_order_relaxed) == 0) {
        stop_all(rt, TR_STOP_SHUTDOWN);
    } else {
        tr__world_stop(rt, UINT32_MAX);
        size_t n = 0;
        tr_ref_t *rv = live_refs(rt, &n);
        for (size_t i = 0; i < n; i++) {
            tr__actor_t *a = tr__actor_get_any(rt, rv[i]);
            if (a && tr__actor_sup(a) && !tr_ref_valid(a->x->parent))
                tr__actor_request_stop(&rt->sched[a->ref.sched], a, TR_STOP_SHUTDOWN);
        }
        free(rv);
        tr__world_resume(rt);
    }
}

static void finish_shutdown(tr__sched_t *s) {
    tr_runtime_t *rt = s->rt;
    if (atomic_load_explicit(&rt->shutting_down, memory_order_relaxed) && !rt->destroying &&
        atomic_load_explicit(&rt->sups_live, memory_order_relaxed) == 0 &&
        atomic_load_explicit(&rt->actors_live, memory_order_relaxed))
        stop_all(rt, TR_STOP_SHUTDOWN);
}

/* ---- libev watchers ---- */

static bool due_timer(tr__sched_t *s) { return tr__timers_next(s) <= tr__now_ms(s); }

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Nothing to do: poll the inbox for spin_us before letting the loop sleep
 * (a wake-up from epoll_wait costs 18-24 us here, a spinning one ~0.5 us).
 * True when work (or a reason to run a pass) showed up. */
static bool spin(tr__sched_t *s) {
    tr_runtime_t *rt = s->rt;
    TR__INC(s->c.spins);
    uint64_t end = tr__mono_ns() + (uint64_t)rt->opts.spin_us * 1000u;
    for (uint32_t i = 1;; i++) {
        if (atomic_load_explicit(&s->inbox.head, memory_order_relaxed) ||
            atomic_load_explicit(&rt->world_req, memory_order_relaxed) ||
            atomic_load_explicit(&s->quit, memory_order_relaxed) ||
            (s->id == 0 && tr__has_work(s))) {
            TR__INC(s->c.spin_hits);
            return true;
        }
        if ((i & 63) == 0 && tr__mono_ns() >= end) return false;
        cpu_relax();
    }
}

#define TR__INNER_PASSES 64

static void after_pass(tr__sched_t *s) {
    tr_runtime_t *rt = s->rt;
    if (s->id == 0) {
        if (atomic_load_explicit(&rt->shutting_down, memory_order_relaxed) &&
            atomic_load_explicit(&rt->actors_live, memory_order_relaxed) == 0 && !rt->stopped) {
            rt->stopped = 1;
            tr__log(rt, TR_LOG_NOTICE, "ordered shutdown complete");
            ev_break(s->loop, EVBREAK_ALL);
        }
        if (atomic_exchange_explicit(&rt->stop_req, 0, memory_order_relaxed))
            ev_break(s->loop, EVBREAK_ALL);
    } else if (atomic_load_explicit(&s->quit, memory_order_relaxed)) {
        ev_break(s->loop, EVBREAK_ALL);
        return;
    }
    /* a timer already due (manual clock: time does not move by itself)
     * fires at the next pass, so the loop must not block before it */
    bool work = tr__has_work(s) || due_timer(s);
    if (!work && rt->opts.spin_us &&
        atomic_load_explicit(&rt->threads_running, memory_order_relaxed))
        work = spin(s);
    if (work) {
        if (!ev_is_active(&s->idle)) ev_idle_start(s->loop, &s->idle);
    } else {
        if (ev_is_active(&s->idle)) ev_idle_stop(s->loop, &s->idle);
        TR__INC(s->c.sleeps);
    }
    tr__timers_rearm(s);
    if (s->until_pred && s->until_pred(s->until_arg)) ev_break(s->loop, EVBREAK_ONE);
}

static void pass(tr__sched_t *s) {
    tr_runtime_t *rt = s->rt;
    tr__sched_t *prev = tr__tls_cur;
    tr__tls_cur = s;
    tr__safepoint(s);
    uint64_t t0 = tr__mono_ns();
    if (s->id == 0) {
        if (atomic_load_explicit(&rt->shutdown_req, memory_order_relaxed) &&
            !atomic_load_explicit(&rt->shutting_down, memory_order_relaxed))
            begin_shutdown(s);
        tr__config_poll(s);
    }
    tr__run_pass(s);
    if (s->id == 0) finish_shutdown(s);
    /* while scheduler threads run, work that arrives through the inbox
     * within spin_us is run here, without going back through libev: a
     * loop iteration costs an epoll_wait system call, per message when two
     * schedulers play ping-pong. Bounded, so IO and timers are still polled
     * every TR__INNER_PASSES passes. */
    for (int k = 0; k < TR__INNER_PASSES && !s->runq_head && rt->opts.spin_us &&
                    atomic_load_explicit(&rt->threads_running, memory_order_relaxed) &&
                    !atomic_load_explicit(&s->quit, memory_order_relaxed) &&
                    !atomic_load_explicit(&rt->world_req, memory_order_relaxed) &&
                    !due_timer(s) && spin(s);
         k++) {
        if (s->id == 0 && tr__has_work(s) && !s->runq_head &&
            !atomic_load_explicit(&s->inbox.head, memory_order_relaxed))
            break; /* a runtime-wide request: the next pass takes it */
        tr__run_pass(s);
        if (s->id == 0) finish_shutdown(s);
    }
    TR__ADD(s->c.busy_ns, tr__mono_ns() - t0);
    after_pass(s);
    tr__tls_cur = prev;
}

static void on_prepare(struct ev_loop *loop, ev_prepare *w, int revents) {
    (void)loop, (void)revents;
    pass(w->data);
}

static void on_idle(struct ev_loop *loop, ev_idle *w, int revents) {
    (void)loop, (void)w, (void)revents; /* only keeps the loop from blocking */
}

static void on_async(struct ev_loop *loop, ev_async *w, int revents) {
    (void)revents;
    tr__sched_t *s = w->data, *prev = tr__tls_cur;
    tr_runtime_t *rt = s->rt;
    tr__tls_cur = s;
    tr__safepoint(s);
    if (s->id && atomic_load_explicit(&s->quit, memory_order_relaxed)) {
        ev_break(loop, EVBREAK_ALL);
    } else {
        tr__drain_inbox(s); /* the prepare pass will run the actors */
        if (s->id == 0 && (atomic_load_explicit(&rt->stop_req, memory_order_relaxed) ||
                           atomic_load_explicit(&rt->shutdown_req, memory_order_relaxed) ||
                           atomic_load_explicit(&rt->shutting_down, memory_order_relaxed)))
            ev_idle_start(loop, &s->idle); /* make sure a pass runs promptly */
    }
    tr__tls_cur = prev;
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents) {
    (void)loop, (void)revents;
    tr__sched_t *s = w->data, *prev = tr__tls_cur;
    tr__tls_cur = s;
    s->timer_armed_ms = TR__UNARMED;
    tr__timers_fire(s, tr__now_ms(s));
    tr__tls_cur = prev;
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents) {
    (void)loop, (void)revents;
    tr_runtime_t *rt = w->data;
    tr__log(rt, TR_LOG_NOTICE, "received %s", w->signum == SIGINT ? "SIGINT" : "SIGTERM");
    tr_runtime_shutdown(rt);
}

/* ---- lifecycle ---- */

/* How many schedulers: [runtime] schedulers (already in opts, 0 there
 * meaning one per CPU), else the option, else TROUPE_SCHEDULERS, else 1.
 * 0 on a bad environment value (logged). */
static uint16_t resolve_schedulers(tr_runtime_t *rt) {
    uint32_t n = rt->opts.schedulers;
    if (n == 0) {
        const char *env = getenv("TROUPE_SCHEDULERS");
        if (!env || !*env) return 1;
        char *end;
        errno = 0;
        long v = strtol(env, &end, 10);
        if (errno || *end || v < 0 || v > TR_SCHEDULERS_MAX) {
            tr__log(rt, TR_LOG_ERROR,
                    "TROUPE_SCHEDULERS=%s: expected 0 (one per CPU) to %d schedulers", env,
                    TR_SCHEDULERS_MAX);
            return 0;
        }
        n = v == 0 ? TR_SCHEDULERS_ONLINE : (uint32_t)v;
    }
    if (n == TR_SCHEDULERS_ONLINE) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus < 1 ? 1 : cpus > TR_SCHEDULERS_MAX ? TR_SCHEDULERS_MAX : (uint32_t)cpus;
    }
    return n > TR_SCHEDULERS_MAX ? 0 : (uint16_t)n;
}

/* Everything of one scheduler but its loop's watchers. 0 or TR_ENOMEM. */
static int sched_init(tr_runtime_t *rt, tr__sched_t *s, uint16_t id, struct ev_loop *loop) {
    s->rt = rt;
    s->id = id;
    s->thread = rt->owner;
    s->loop = loop;
    s->ctx.rt = rt;
    s->ctx.s = s;
    s->chan_free = UINT32_MAX;
    s->timer_armed_ms = TR__UNARMED;
    s->stall_node.heap_idx = UINT32_MAX;
    s->stall_node.kind = TR__TM_STALL;
    if (tr__events_init(s, rt->opts.event_ring) != 0) return TR_ENOMEM;
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
    return 0;
}

static void sched_fini(tr__sched_t *s) {
    if (!s->loop) return;
    ev_prepare_stop(s->loop, &s->prepare);
    ev_idle_stop(s->loop, &s->idle);
    ev_async_stop(s->loop, &s->async);
    ev_timer_stop(s->loop, &s->timer);
    /* balance the ev_unref calls made at creation */
    ev_ref(s->loop);
    ev_ref(s->loop);
    if (s->own_loop) ev_loop_destroy(s->loop);
    s->loop = NULL;
    free(s->ev);
    free(s->heap);
    free(s->wm_ev);
    tr__chan_free_all(s);
}

static void free_runtime(tr_runtime_t *rt) {
    tr__config_fini(rt); /* its signal watcher is on scheduler 0's loop */
    for (uint16_t i = 0; rt->sched && i < rt->nsched; i++) sched_fini(&rt->sched[i]);
    pthread_mutex_destroy(&rt->reg_mu);
    pthread_mutex_destroy(&rt->slot_mu);
    pthread_mutex_destroy(&rt->types_mu);
    pthread_mutex_destroy(&rt->fd_mu);
    pthread_mutex_destroy(&rt->world_mu);
    pthread_cond_destroy(&rt->world_cv);
    free(rt->sched);
    free(rt);
}

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
    if ((opts->schedulers > TR_SCHEDULERS_MAX && opts->schedulers != TR_SCHEDULERS_ONLINE) ||
        opts->spin_us > 10000)
        return TR_EINVAL;
    tr_runtime_t *rt = calloc(1, sizeof(*rt));
    if (!rt) return TR_ENOMEM;
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
    if (!rt->opts.spin_us) rt->opts.spin_us = 20;
    rt->opts.handler_timing = rt->opts.handler_timing != 0;
    atomic_init(&rt->log_level, (int)rt->opts.log_level);
    rt->owner = pthread_self();
    rt->slot_free = UINT32_MAX;
    rt->mono0_ms = mono_ms();
    pthread_mutex_init(&rt->reg_mu, NULL);
    pthread_mutex_init(&rt->slot_mu, NULL);
    pthread_mutex_init(&rt->types_mu, NULL);
    pthread_mutex_init(&rt->fd_mu, NULL);
    pthread_mutex_init(&rt->world_mu, NULL);
    pthread_cond_init(&rt->world_cv, NULL);
    int err = tr__config_init(rt); /* [runtime] may override the options */
    if (err) {
        free_runtime(rt);
        return err;
    }
    opts = &rt->opts;
    uint16_t n = resolve_schedulers(rt);
    if (n == 0 || (opts->loop && n > 1)) {
        if (opts->loop && n > 1)
            tr__log(rt, TR_LOG_ERROR,
                    "%u schedulers need loops of their own: an attached loop allows one", n);
        free_runtime(rt);
        return TR_EINVAL;
    }
    rt->sched = calloc(n, sizeof(*rt->sched));
    if (!rt->sched) {
        free_runtime(rt);
        return TR_ENOMEM;
    }
    rt->nsched = n;
    rt->own_loop = opts->loop == NULL;
    for (uint16_t i = 0; i < n; i++) {
        tr__sched_t *s = &rt->sched[i];
        struct ev_loop *loop = i == 0 && opts->loop ? opts->loop : ev_loop_new(EVFLAG_AUTO);
        if (!loop) {
            free_runtime(rt);
            return TR_ESYS;
        }
        s->own_loop = !(i == 0 && opts->loop);
        s->loop = loop;
        if (sched_init(rt, s, i, loop) != 0) {
            free_runtime(rt);
            return TR_ENOMEM;
        }
    }
    tr__sched_t *s = &rt->sched[0];
    if (opts->fault_isolation != TR_FAULT_OFF) {
        err = tr__faults_install(rt);
        if (err) {
            free_runtime(rt);
            return err;
        }
    }
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
    if (n > 1)
        tr__log(rt, TR_LOG_INFO, "%u schedulers (scheduler 0 on the owner thread)", n);
    *out = rt;
    return 0;
}

/* A scheduler thread: its loop until told to quit. */
static void *sched_main(void *arg) {
    tr__sched_t *s = arg;
    s->thread = pthread_self();
    tr__tls_cur = s;
    if (s->rt->faults_installed && tr__altstack_install(s) != 0)
        tr__log(s->rt, TR_LOG_WARNING,
                "scheduler %u: no alternate signal stack: a stack overflow there kills the process",
                s->id);
    ev_ref(s->loop);
    ev_run(s->loop, 0);
    ev_unref(s->loop);
    tr__altstack_free(s);
    tr__tls_cur = NULL;
    return NULL;
}

/* Ask scheduler threads 1..upto-1 to leave their loops and join them; the
 * owner thread then owns every scheduler again (stepping). */
static void join_threads(tr_runtime_t *rt, uint16_t upto) {
    for (uint16_t k = 1; k < upto; k++) {
        atomic_store_explicit(&rt->sched[k].quit, 1, memory_order_relaxed);
        ev_async_send(rt->sched[k].loop, &rt->sched[k].async);
    }
    for (uint16_t k = 1; k < upto; k++) {
        pthread_join(rt->sched[k].tid, NULL);
        atomic_store_explicit(&rt->sched[k].quit, 0, memory_order_relaxed);
        rt->sched[k].thread = rt->owner;
    }
    atomic_store_explicit(&rt->threads_running, 0, memory_order_release);
    tr__tls_cur = NULL;
}

static int start_threads(tr_runtime_t *rt) {
    atomic_store_explicit(&rt->threads_running, 1, memory_order_release);
    tr__tls_cur = &rt->sched[0];
    for (uint16_t k = 1; k < rt->nsched; k++) {
        tr__sched_t *s = &rt->sched[k];
        if (pthread_create(&s->tid, NULL, sched_main, s) != 0) {
            tr__log(rt, TR_LOG_ERROR, "cannot start the thread of scheduler %u", k);
            join_threads(rt, k);
            return TR_ESYS;
        }
    }
    return 0;
}

/* The owner thread outside handlers and outside tr_runtime_run. */
static bool owner_idle(tr_runtime_t *rt) {
    return tr__stepping(rt) && !rt->sched[0].ctx.actor && !tr__tls_cur;
}

int tr_runtime_run(tr_runtime_t *rt) {
    if (!rt) return TR_EINVAL;
    tr__sched_t *s = &rt->sched[0];
    if (!owner_idle(rt)) return TR_EWRONGTHREAD;
    if (rt->stopped || rt->destroying) return TR_ESTOPPED;
    if (rt->nsched > 1) {
        int err = start_threads(rt);
        if (err) return err;
    }
    ev_ref(s->loop);
    ev_run(s->loop, 0);
    ev_unref(s->loop);
    if (rt->nsched > 1) join_threads(rt, rt->nsched);
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

/* ---- stepping (the owner thread, no scheduler threads) ---- */

static void step(tr__sched_t *s, int flags) {
    tr__sched_t *prev = tr__tls_cur;
    tr__tls_cur = s;
    ev_run(s->loop, flags);
    tr__tls_cur = prev;
}

static bool any_work(tr_runtime_t *rt) {
    for (uint16_t i = 0; i < rt->nsched; i++)
        if (tr__has_work(&rt->sched[i]) || due_timer(&rt->sched[i])) return true;
    return false;
}

static uint64_t handled_total(tr_runtime_t *rt) {
    uint64_t n = 0;
    for (uint16_t i = 0; i < rt->nsched; i++) n += rt->sched[i].handled_total;
    return n;
}

int tr_runtime_poll(tr_runtime_t *rt) {
    if (!rt) return TR_EINVAL;
    if (!owner_idle(rt)) return TR_EWRONGTHREAD;
    uint64_t before = handled_total(rt);
    for (uint16_t i = 0; i < rt->nsched; i++) step(&rt->sched[i], EVRUN_NOWAIT);
    return (int)(handled_total(rt) - before);
}

int64_t tr_runtime_run_until_idle(tr_runtime_t *rt) {
    if (!rt) return TR_EINVAL;
    if (!owner_idle(rt)) return TR_EWRONGTHREAD;
    uint64_t before = handled_total(rt);
    do {
        for (uint16_t i = 0; i < rt->nsched; i++) step(&rt->sched[i], EVRUN_NOWAIT);
    } while (any_work(rt));
    return (int64_t)(handled_total(rt) - before);
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents) {
    (void)loop, (void)w, (void)revents; /* only ends a blocking step */
}

int tr_runtime_run_until(tr_runtime_t *rt, int (*pred)(void *arg), void *arg) {
    if (!rt || !pred) return TR_EINVAL;
    if (!owner_idle(rt)) return TR_EWRONGTHREAD;
    tr__sched_t *s = &rt->sched[0];
    int (*saved_pred)(void *) = s->until_pred;
    void *saved_arg = s->until_arg;
    s->until_pred = pred;
    s->until_arg = arg;
    /* several loops cannot be waited on at once: while none has work, block
     * on scheduler 0's for at most 1 ms, then look at the others */
    ev_timer tick;
    ev_timer_init(&tick, on_tick, 0.001, 0.);
    int r = 0;
    ev_ref(s->loop);
    while (!pred(arg)) {
        if (rt->stopped) {
            r = TR_ESTOPPED;
            break;
        }
        if (rt->nsched == 1) {
            step(s, EVRUN_ONCE);
            continue;
        }
        for (uint16_t i = 1; i < rt->nsched; i++) step(&rt->sched[i], EVRUN_NOWAIT);
        if (any_work(rt)) {
            step(s, EVRUN_NOWAIT);
        } else {
            ev_timer_start(s->loop, &tick);
            step(s, EVRUN_ONCE);
            ev_timer_stop(s->loop, &tick);
        }
    }
    ev_unref(s->loop);
    s->until_pred = saved_pred;
    s->until_arg = saved_arg;
    return r;
}

int tr_runtime_advance(tr_runtime_t *rt, uint64_t ms) {
    if (!rt) return TR_EINVAL;
    if (!rt->opts.manual_clock) return TR_EINVAL;
    if (!owner_idle(rt)) return TR_EWRONGTHREAD;
    uint64_t target = rt->vnow_ms + ms;
    tr_runtime_run_until_idle(rt);
    for (;;) {
        uint64_t next = UINT64_MAX;
        for (uint16_t i = 0; i < rt->nsched; i++) {
            uint64_t t = tr__timers_next(&rt->sched[i]);
            if (t < next) next = t;
        }
        if (next > target) break;
        if (next > rt->vnow_ms) rt->vnow_ms = next;
        for (uint16_t i = 0; i < rt->nsched; i++) {
            tr__sched_t *prev = tr__tls_cur;
            tr__tls_cur = &rt->sched[i];
            tr__timers_fire(&rt->sched[i], rt->vnow_ms);
            tr__tls_cur = prev;
        }
        tr_runtime_run_until_idle(rt);
    }
    rt->vnow_ms = target;
    tr_runtime_run_until_idle(rt);
    return 0;
}

/* What is left in the inboxes once every actor is gone: sends become dead
 * letters, calls resolve (their callers are gone: counted late), blocked
 * tr_call_sync threads are told the runtime was destroyed. Answers may
 * land in other inboxes, so until all are empty. */
static void drain_all(tr_runtime_t *rt) {
    for (bool any = true; any;) {
        any = false;
        for (uint16_t i = 0; i < rt->nsched; i++) {
            tr__sched_t *s = &rt->sched[i], *prev = tr__tls_cur;
            tr__tls_cur = s;
            for (tr__inode_t *n = tr__inbox_take(&s->inbox); n;) {
                tr__inode_t *next = n->next;
                any = true;
                if (n->kind == TR__IN_CALL_SYNC) {
                    tr__env_destroy(&n->env);
                    tr__sync_fail(s, n->sync, n->to, n->env.type, TR_ESTOPPED,
                                  "the runtime was destroyed");
                    free(n);
                } else {
                    tr__inbox_dispatch(s, n); /* frees n */
                }
                n = next;
            }
            tr__tls_cur = prev;
        }
    }
}

void tr_runtime_destroy(tr_runtime_t *rt) {
    if (!rt) return;
    TR__ASSERT(owner_idle(rt),
               "tr_runtime_destroy from the owner thread, outside handlers and tr_runtime_run");
    rt->destroying = 1;
    atomic_store_explicit(&rt->shutting_down, 1, memory_order_relaxed);
    tr__debug_stop(rt);
    /* stop every actor, most recent first; terminate may send to others,
     * whose teardown then discards and counts those messages */
    stop_all(rt, TR_STOP_SHUTDOWN);
    drain_all(rt);
    for (uint16_t i = 0; i < rt->nsched; i++) {
        tr__sched_t *s = &rt->sched[i];
        while (s->runq_head) {
            tr__actor_t *a = s->runq_head;
            s->runq_head = a->runq_next;
            TR__ASSERT(a->flags & TR__A_DEAD, "live actor in the run queue after destroy");
            tr__actor_free(s, a);
        }
        s->runq_tail = NULL;
        atomic_store_explicit(&s->runq_len, 0, memory_order_relaxed);
    }
    tr__diag_fini(rt); /* joins the watchdog, takes the stall checks off the heaps */
    for (uint16_t i = 0; i < rt->nsched; i++) {
        TR__ASSERT(rt->sched[i].heap_len == 0, "timers left after every actor stopped");
        TR__ASSERT(rt->sched[i].chan_count == 0, "reply channels left after every actor stopped");
    }
    tr__sched_t *s = &rt->sched[0];
    if (rt->opts.handle_signals) {
        ev_ref(s->loop);
        ev_ref(s->loop);
        ev_signal_stop(s->loop, &rt->sigint);
        ev_signal_stop(s->loop, &rt->sigterm);
    }
    tr__faults_uninstall(rt);
    tr__typeinfo_free_all(rt);
    tr__registry_free(rt);
    tr__fdown_t *o, *otmp;
    HASH_ITER(hh, rt->fd_owners, o, otmp) {
        HASH_DEL(rt->fd_owners, o);
        free(o);
    }
    uint32_t nchunks = atomic_load_explicit(&rt->slot_nchunks, memory_order_relaxed);
    for (uint32_t c = 0; c < nchunks; c++)
        free(atomic_load_explicit(&rt->slot_chunks[c], memory_order_relaxed));
    free_runtime(rt);
}

/* ---- counters ---- */

int tr_runtime_stats(tr_runtime_t *rt, tr_stats_t *out) {
    if (!rt || !out) return TR_EINVAL;
    memset(out, 0, sizeof(*out));
#define SUM(f)                                                                  \
    do {                                                                        \
        out->f = TR__GET(rt->fc.f);                                             \
        for (uint16_t i = 0; i < rt->nsched; i++) out->f += TR__GET(rt->sched[i].c.f); \
    } while (0)
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

int tr_runtime_sched_stats(tr_runtime_t *rt, uint16_t id, tr_sched_stats_t *out) {
    if (!rt || !out || id >= rt->nsched) return TR_EINVAL;
    tr__sched_t *s = &rt->sched[id];
    memset(out, 0, sizeof(*out));
    out->id = id;
    out->actors = atomic_load_explicit(&s->actors, memory_order_relaxed);
    out->msgs_handled = TR__GET(s->c.msgs_handled);
    out->loop_passes = TR__GET(s->c.loop_passes);
    out->remote_in = TR__GET(s->c.remote_in);
    out->wakeups = TR__GET(s->c.inbox_wakeups);
    out->spins = TR__GET(s->c.spins);
    out->spin_hits = TR__GET(s->c.spin_hits);
    out->sleeps = TR__GET(s->c.sleeps);
    out->busy_ns = TR__GET(s->c.busy_ns);
    out->runq = atomic_load_explicit(&s->runq_len, memory_order_relaxed);
    return 0;
}

/* ---- invariants (our bugs) ---- */

int64_t tr_runtime_verify(tr_runtime_t *rt) {
    if (!rt) return TR_EINVAL;
    if (!owner_idle(rt)) return TR_EWRONGTHREAD;
    int64_t live = 0;
    uint64_t pending_calls = 0, queued_conts = 0, chans = 0, per_sched = 0;
    uint32_t nchunks = atomic_load_explicit(&rt->slot_nchunks, memory_order_relaxed);
    for (uint32_t c = 0; c < nchunks; c++) {
        tr__slot_t *chunk = atomic_load_explicit(&rt->slot_chunks[c], memory_order_relaxed);
        for (uint32_t i = 0; i < TR__SLOT_CHUNK; i++) {
            tr__slot_t *sl = &chunk[i];
            tr__actor_t *a = atomic_load_explicit(&sl->ti, memory_order_relaxed) ? sl->u.actor : NULL;
            if (!a) continue;
            live++;
            uint64_t w = atomic_load_explicit(&sl->word, memory_order_relaxed);
            TR__ASSERT(TR__WORD_GEN(w) == a->ref.gen, "slot generation differs from its actor's");
            TR__ASSERT(a->ref.slot == c * TR__SLOT_CHUNK + i, "actor in the wrong slot");
            TR__ASSERT(a->ref.sched < rt->nsched, "actor on no scheduler");
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
    TR__ASSERT((uint64_t)live == atomic_load_explicit(&rt->actors_live, memory_order_relaxed),
               "live actor count is off");
    for (uint16_t k = 0; k < rt->nsched; k++) {
        tr__sched_t *s = &rt->sched[k];
        chans += s->chan_count;
        per_sched += atomic_load_explicit(&s->actors, memory_order_relaxed);
        uint32_t rq = 0;
        for (tr__actor_t *a = s->runq_head; a; a = a->runq_next) rq++;
        TR__ASSERT(rq == atomic_load_explicit(&s->runq_len, memory_order_relaxed),
                   "run queue length is off");
        for (uint32_t i = 0; i < s->heap_len; i++) {
            TR__ASSERT(s->heap[i]->heap_idx == i, "timer heap index corrupt");
            if (i) TR__ASSERT(s->heap[(i - 1) / 2]->deadline_ms <= s->heap[i]->deadline_ms,
                              "timer heap order violated");
        }
    }
    TR__ASSERT(per_sched == (uint64_t)live, "per-scheduler actor counts are off");
    TR__ASSERT(pending_calls + queued_conts <= chans, "more channels in lists than exist");
    return live;
}
