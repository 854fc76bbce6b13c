/* runtime/diag.c: the two detectors behind "who is stuck, and why".
 *
 * Stall detector (per scheduler, on its own thread). While calls are
 * pending in a scheduler's channel table, a check runs on that scheduler's
 * timer heap every stall_ms/4 (10 ms .. 1 s). A call pending for stall_ms
 * or more is reported once, with its wait-for chain: the caller, the
 * callee, then the oldest call the callee itself waits for, and so on until
 * an actor that waits for nobody (a stall) or an actor already in the chain
 * (a deadlock). Every call of the chain that is over the threshold counts
 * as reported, so one cycle gives one report. A check looks only inside
 * its own scheduler's actors (another scheduler's are that thread's): a
 * chain that reaches an actor of another scheduler ends there, named from
 * what any thread may read (registry, slot type). Stepping, one thread runs
 * every scheduler and the chain is followed everywhere. Runtime time, so a
 * manual clock drives it in tests.
 *
 * Watchdog (its own thread, real time). Each scheduler marks each handler
 * invocation with its own heartbeat (an odd sequence number while it runs,
 * three relaxed stores). The watchdog samples every scheduler's every
 * threshold/4; when the same odd number is still there after the
 * threshold, that scheduler's handler is hung. It asks that scheduler's
 * thread for its stack with SIGURG (whose default action is to ignore it,
 * so a late signal harms nobody); the handler records the interrupted
 * context's return addresses with libunwind (no malloc, no lock: the hung
 * code may hold the malloc lock) and posts a semaphore; the watchdog names
 * them with dladdr. The report then goes to the log, the alerts ring and
 * the hook, all from the watchdog thread, because the scheduler thread is
 * the one that is stuck.
 *
 * OTP has no equivalent of either (its scheduler preempts, and a process
 * stuck in receive is just waiting); sysmon's long_schedule is the closest
 * to the watchdog, kameo's deadlock detection to the stall detector. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/diag.h"

#define CHAIN_MAX 16
#define WD_SIGNAL SIGURG
#define WD_BT_WAIT_MS 250

uint64_t tr__mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- reports ---- */

static char *dupstr(const char *p) { return p ? strdup(p) : NULL; }

static char **dupv(const char *const *v, size_t n) {
    if (!n) return NULL;
    char **out = calloc(n, sizeof(*out));
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) out[i] = dupstr(v[i]);
    return out;
}

static void alert_free(tr__alert_t *al) {
    if (!al) return;
    for (size_t i = 0; i < al->nchain; i++) free(al->chain ? al->chain[i] : NULL);
    for (size_t i = 0; i < al->nframes; i++) free(al->frames ? al->frames[i] : NULL);
    free(al->chain);
    free(al->frames);
    free(al->path);
    free(al->msg_name);
    free(al->text);
    free(al);
}

static tr__alert_t *alert_copy(const tr_diag_t *d) {
    tr__alert_t *al = calloc(1, sizeof(*al));
    if (!al) return NULL;
    al->kind = d->kind;
    al->seq = d->seq;
    al->runtime_ms = d->runtime_ms;
    al->wall_ms = d->wall_ms;
    al->age_ms = d->age_ms;
    al->actor = d->actor;
    al->msg_type = d->msg_type;
    al->path = dupstr(d->path);
    al->msg_name = dupstr(d->msg_name);
    al->text = dupstr(d->text);
    al->chain = dupv(d->chain, d->nchain);
    al->nchain = al->chain ? d->nchain : 0;
    al->frames = dupv(d->frames, d->nframes);
    al->nframes = al->frames ? d->nframes : 0;
    return al;
}

/* Log, keep for `alerts`, call the hook. Any thread. */
static void report(tr_runtime_t *rt, tr_diag_t *d) {
    tr__diag_t *g = rt->diag;
    d->wall_ms = wall_ms();
    pthread_mutex_lock(&g->mu);
    d->seq = ++g->seq;
    if (d->kind == TR_DIAG_STALL) g->stalls++;
    else if (d->kind == TR_DIAG_DEADLOCK) g->deadlocks++;
    else g->hung++;
    tr_diag_fn hook = g->hook;
    void *hook_arg = g->hook_arg;
    pthread_mutex_unlock(&g->mu);
    tr__alert_t *al = alert_copy(d); /* outside the lock: it allocates */
    pthread_mutex_lock(&g->mu);
    tr__alert_t **slot = &g->ring[d->seq % TR__ALERTS];
    tr__alert_t *old = *slot;
    *slot = al; /* NULL when out of memory: the log and the hook still see it */
    pthread_mutex_unlock(&g->mu);
    alert_free(old);
    tr__log(rt, TR_LOG_WARNING, "%s", d->text);
    for (size_t i = 0; i < d->nframes; i++) tr__log(rt, TR_LOG_WARNING, "  #%zu %s", i, d->frames[i]);
    if (hook) hook(hook_arg, d);
}

int tr_set_diag_hook(tr_runtime_t *rt, tr_diag_fn fn, void *arg) {
    if (!rt) return TR_EINVAL;
    pthread_mutex_lock(&rt->diag->mu);
    rt->diag->hook = fn;
    rt->diag->hook_arg = arg;
    pthread_mutex_unlock(&rt->diag->mu);
    return 0;
}

/* ---- stall detector ---- */

static uint64_t stall_period(int32_t ms) {
    uint64_t p = (uint64_t)ms / 4;
    return p < 10 ? 10 : p > 1000 ? 1000 : p;
}

void tr__stall_arm(tr__sched_t *s) {
    int32_t ms = s->rt->opts.stall_ms;
    if (ms <= 0 || s->stall_node.heap_idx != UINT32_MAX) return;
    /* on OOM no check is armed; the next call tries again */
    (void)tr__heap_push(s, &s->stall_node, tr__now_ms(s) + stall_period(ms));
}

/* The oldest pending call `a` itself makes, or NULL. */
static tr__chan_t *oldest_call(tr__actor_t *a) {
    tr__chan_t *best = NULL;
    for (tr__chan_t *c = a->calls; c; c = c->next)
        if (!best || c->created_ms < best->created_ms) best = c;
    return best;
}

/* The actor at one hop of a chain, if this check may look inside it: an
 * actor of s, or of any scheduler while stepping (one thread runs them
 * all). An actor of another running scheduler is that thread's alone: the
 * chain stops there and is named from what any thread may read. */
static tr__actor_t *hop_actor(tr__sched_t *s, tr_ref_t ref) {
    if (ref.sched == s->id) return tr__actor_get(s, ref);
    return tr__stepping(s->rt) ? tr__actor_get_any(s->rt, ref) : NULL;
}

/* The type of the actor a ref names, from its slot (any thread): NULL when
 * the slot holds another incarnation. The generation is read on both sides
 * of the type so a slot reused in between is not believed. Typeinfo lives
 * as long as the runtime, so the pointer stays valid either way. */
static const tr_actor_type_t *slot_type(tr_runtime_t *rt, tr_ref_t ref) {
    tr__slot_t *sl = tr_ref_valid(ref) ? tr__slot_get(rt, ref.slot) : NULL;
    if (!sl) return NULL;
    uint64_t w1 = atomic_load_explicit(&sl->word, memory_order_acquire);
    tr__typeinfo_t *ti = atomic_load_explicit(&sl->ti, memory_order_acquire);
    uint64_t w2 = atomic_load_explicit(&sl->word, memory_order_acquire);
    if (!ti || TR__WORD_GEN(w1) != ref.gen || TR__WORD_GEN(w2) != ref.gen) return NULL;
    return ti->type;
}

static void node_name(tr__sched_t *s, tr_ref_t ref, char *buf, size_t len) {
    if (!tr_ref_valid(ref)) {
        snprintf(buf, len, "(thread)");
        return;
    }
    tr__actor_t *a = hop_actor(s, ref);
    char p[256];
    const char *name = NULL;
    if (a) {
        name = tr__actor_path(s, a, p, sizeof(p));
    } else if (!(name = tr__registry_name(s->rt, ref, p, sizeof(p)))) {
        /* supervised children are registered under their path; else the
         * slot's type, as tr__actor_path would say */
        const tr_actor_type_t *t = slot_type(s->rt, ref);
        name = t ? (t->name ? t->name : "actor") : "(stopped)";
    }
    if (!a && ref.sched != s->id && s->rt->nsched > 1) /* a hop not followed */
        snprintf(buf, len, "%s (%u.%u, scheduler %u)", name, ref.slot, ref.gen, ref.sched);
    else
        snprintf(buf, len, "%s (%u.%u)", name, ref.slot, ref.gen);
}

/* names[from..n) joined with " -> " into buf (cut at its size). */
static void join(char *buf, size_t len, char names[][160], size_t from, size_t n) {
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = from; i < n; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i > from ? " -> " : "", names[i]);
        if (w > 0) used = used + (size_t)w < len ? used + (size_t)w : len - 1;
    }
}

/* Why the chain ends where it does, for the stall text. */
static const char *chain_end_note(tr__sched_t *s, tr_ref_t last, tr__actor_t *end) {
    if (end) return !end->ring.count && !end->calls ? " (the last one waits for nobody)" : "";
    if (tr_ref_valid(last) && last.sched != s->id)
        return " (the last one runs on another scheduler: `waits` shows the whole graph)";
    return "";
}

static void report_chain(tr__sched_t *s, tr__chan_t *c, uint64_t now, uint64_t thr) {
    tr_ref_t refs[CHAIN_MAX];
    size_t n = 0;
    bool cycle = false;
    refs[n++] = c->caller;
    refs[n++] = c->callee;
    c->stall_seen = 1;
    tr__actor_t *end = NULL;
    while (n < CHAIN_MAX) {
        /* a->calls are channels of a's own scheduler: s's when a is, and
         * any while stepping, so marking them is this thread's to do */
        tr__actor_t *a = hop_actor(s, refs[n - 1]);
        tr__chan_t *next = a ? oldest_call(a) : NULL;
        end = a;
        if (!next) break;
        if (now - next->created_ms >= thr) next->stall_seen = 1;
        for (size_t i = 0; i < n && !cycle; i++) cycle = tr_ref_eq(refs[i], next->callee);
        refs[n++] = next->callee;
        if (cycle) break;
    }
    char names[CHAIN_MAX][160];
    const char *chain[CHAIN_MAX];
    char list[1024];
    for (size_t i = 0; i < n; i++) {
        node_name(s, refs[i], names[i], sizeof(names[i]));
        chain[i] = names[i];
    }
    join(list, sizeof(list), names, 0, n);
    const tr_actor_type_t *ct = slot_type(s->rt, c->callee);
    const char *msg = ct ? tr_msg_type_name(ct, c->msg_type) : NULL;
    uint64_t age = now - c->created_ms;
    char text[1536];
    if (cycle) {
        /* name the loop itself, then who waits on it */
        size_t first = 0;
        while (!tr_ref_eq(refs[first], refs[n - 1])) first++;
        char loop[1024];
        join(loop, sizeof(loop), names, first, n);
        if (first == 0)
            snprintf(text, sizeof(text), "deadlock: %s; the call (%s) has waited %llu ms", loop,
                     msg ? msg : "?", (unsigned long long)age);
        else
            snprintf(text, sizeof(text), "deadlock: %s; %s waits on it (%s, %llu ms)", loop,
                     names[0], msg ? msg : "?", (unsigned long long)age);
    } else
        snprintf(text, sizeof(text), "stall: %s has waited %llu ms for a reply to %s; chain: %s%s",
                 names[0], (unsigned long long)age, msg ? msg : "?", list,
                 chain_end_note(s, refs[n - 1], end));
    tr__ev(s, TR_EV_STALL, c->caller, c->callee, c->msg_type,
           age > INT32_MAX ? INT32_MAX : (int32_t)age);
    s->ev[(s->ev_n - 1) & s->ev_mask].time_ms = now; /* found now, maybe outside a pass */
    tr__actor_t *caller = c->caller_actor; /* an actor of s: its channel is homed here */
    char cp[256];
    tr_diag_t d = {
        .kind = cycle ? TR_DIAG_DEADLOCK : TR_DIAG_STALL,
        .runtime_ms = now,
        .actor = c->caller,
        .path = caller ? tr__actor_path(s, caller, cp, sizeof(cp)) : "(thread)",
        .msg_type = c->msg_type,
        .msg_name = msg,
        .age_ms = age,
        .chain = chain,
        .nchain = n,
        .text = text,
    };
    report(s->rt, &d);
}

/* s's own channels: the calls its actors made and the tr_call_sync calls
 * into its actors. A chain that leaves s is followed no further (its next
 * hop's calls are another thread's), so a deadlock through two schedulers
 * shows here as a stall on each side, and as one cycle in `waits`, which
 * stops the world to read every table. */
void tr__stall_check(tr__sched_t *s) {
    int32_t thr = s->rt->opts.stall_ms;
    if (thr <= 0) return; /* turned off by a reload: the check is not re-armed */
    uint64_t now = tr__now_ms(s);
    bool pending = false;
    for (uint32_t idx = 0;; idx++) {
        tr__chan_t *c = tr__chan_at_index(s, idx);
        if (!c) break;
        if (c->state != TR__CH_PENDING) continue;
        pending = true;
        if (!c->stall_seen && now - c->created_ms >= (uint64_t)thr) report_chain(s, c, now, (uint64_t)thr);
    }
    if (pending) tr__stall_arm(s);
}

/* ---- watchdog ---- */

static pthread_mutex_t sig_mu = PTHREAD_MUTEX_INITIALIZER;
static int sig_users;
static struct sigaction sig_old;

static void on_wd_signal(int sig, siginfo_t *si, void *uc) {
    (void)sig, (void)si;
    int saved = errno;
    tr__sched_t *s = tr__tls_sched;
    if (s && atomic_exchange_explicit(&s->wd_bt_req, 0, memory_order_acq_rel)) {
        /* on the scheduler thread itself, so the running actor's tree path
         * can be read; no registry lookup (its lock may be held here) */
        tr__actor_t *a = s->run_actor;
        s->wd_actor = a ? a->ref : TR_REF_NONE;
        s->wd_type = s->run_kind == TR__RUN_MSG    ? s->run_env.type
                     : s->run_kind == TR__RUN_CONT ? s->run_chan->msg_type
                                                   : 0;
        s->wd_type_name = a ? a->ti->type->name : NULL;
        const char *p = a && a->x && a->x->path ? a->x->path : "";
        size_t i = 0;
        for (; p[i] && i + 1 < sizeof(s->wd_path); i++) s->wd_path[i] = p[i];
        s->wd_path[i] = 0;
        s->wd_nframes = tr__bt_ips(uc, s->wd_ips, TR__BT_MAX); /* named later */
        sem_post(&s->wd_bt_done);
    }
    errno = saved;
}

static int sig_install(void) {
    int err = 0;
    pthread_mutex_lock(&sig_mu);
    if (sig_users == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = on_wd_signal;
        sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        if (sigaction(WD_SIGNAL, &sa, &sig_old) != 0) err = TR_ESYS;
    }
    if (!err) sig_users++;
    pthread_mutex_unlock(&sig_mu);
    return err;
}

static void sig_uninstall(void) {
    pthread_mutex_lock(&sig_mu);
    if (--sig_users == 0) sigaction(WD_SIGNAL, &sig_old, NULL);
    pthread_mutex_unlock(&sig_mu);
}

/* Ask s's thread for its stack; false when it did not come. s->thread
 * names the thread that runs s's handlers (its own, or the owner thread
 * while stepping); it was written before the handler's heartbeat, which the
 * watchdog read with acquire. If that thread has gone on to another
 * scheduler's handler meanwhile (stepping), the signal finds that one's
 * request flag clear and the wait below times out: no report is mixed up. */
static bool take_backtrace(tr__sched_t *s) {
    s->wd_nframes = 0;
    atomic_store_explicit(&s->wd_bt_req, 1, memory_order_release);
    if (pthread_kill(s->thread, WD_SIGNAL) != 0) {
        atomic_store_explicit(&s->wd_bt_req, 0, memory_order_relaxed);
        return false;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += WD_BT_WAIT_MS * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    for (;;) {
        if (sem_timedwait(&s->wd_bt_done, &ts) == 0) return true;
        if (errno != EINTR) break;
    }
    /* timed out: withdraw the request, unless the handler already took it
     * (then it is walking the stack right now and will post soon) */
    if (atomic_exchange_explicit(&s->wd_bt_req, 0, memory_order_acq_rel)) return false;
    while (sem_wait(&s->wd_bt_done) != 0 && errno == EINTR) {
    }
    return true;
}

static void report_hung(tr_runtime_t *rt, tr__sched_t *s, uint64_t seq, uint64_t ran_ms) {
    s->wd_path[0] = 0;
    s->wd_actor = TR_REF_NONE;
    s->wd_type = 0;
    s->wd_type_name = NULL;
    /* What runs is read by the signal handler, on the scheduler thread; the
     * semaphore orders it before what follows. Without it (the thread could
     * not be interrupted in time) the report says less. */
    bool bt = take_backtrace(s);
    bool still = atomic_load_explicit(&s->wd_seq, memory_order_acquire) == seq;
    for (size_t i = 0; bt && i < s->wd_nframes; i++) { /* here, not in the signal handler */
        tr__bt_name(s->wd_ips[i], s->wd_frame_buf[i], sizeof(s->wd_frame_buf[i]));
        s->wd_frames[i] = s->wd_frame_buf[i];
    }
    tr_ref_t ref = bt ? s->wd_actor : TR_REF_NONE;
    int type = bt ? s->wd_type : 0;
    const char *type_name = bt && s->wd_type_name ? s->wd_type_name : "?";
    const tr_actor_type_t *at = type ? slot_type(rt, ref) : NULL;
    const char *msg = at ? tr_msg_type_name(at, type) : NULL;
    const char *path = bt && s->wd_path[0] ? s->wd_path : bt ? type_name : "an actor (the scheduler thread did not answer the backtrace signal)";
    char where[32] = "";
    if (rt->nsched > 1) snprintf(where, sizeof(where), " on scheduler %u", s->id);
    char text[800];
    snprintf(text, sizeof(text),
             "hung handler: %s (%u.%u, type %s)%s has been handling %s (type %d) for %llu ms%s",
             path, ref.slot, ref.gen, type_name, where, msg ? msg : "a message", type,
             (unsigned long long)ran_ms, still ? "" : " (it returned while being reported)");
    tr_diag_t d = {
        .kind = TR_DIAG_HUNG,
        .actor = ref,
        .path = path,
        .msg_type = type,
        .msg_name = msg,
        .age_ms = ran_ms,
        .frames = bt ? s->wd_frames : NULL,
        .nframes = bt ? s->wd_nframes : 0,
        .text = text,
    };
    report(rt, &d);
}

/* What the watchdog remembers of one scheduler's heartbeat. */
typedef struct wd_track_s {
    uint64_t last_seq, since_ns;
    bool reported;
} wd_track_t;

/* One sample of scheduler s: a handler still running under the same odd
 * heartbeat for the threshold is hung, reported once per invocation. */
static void wd_sample(tr_runtime_t *rt, tr__sched_t *s, wd_track_t *t, int32_t ms) {
    uint64_t q = atomic_load_explicit(&s->wd_seq, memory_order_acquire);
    uint64_t now = tr__mono_ns();
    if (!(q & 1) || q != t->last_seq) {
        t->last_seq = q;
        t->since_ns = now;
        t->reported = false;
    } else if (!t->reported && now - t->since_ns >= (uint64_t)ms * 1000000u) {
        t->reported = true;
        report_hung(rt, s, q, (now - t->since_ns) / 1000000u);
    }
}

static void *watchdog_main(void *arg) {
    tr_runtime_t *rt = arg;
    tr__diag_t *g = rt->diag;
    wd_track_t track[TR_SCHEDULERS_MAX];
    memset(track, 0, sizeof(track));
    uint16_t ns = rt->nsched <= TR_SCHEDULERS_MAX ? rt->nsched : TR_SCHEDULERS_MAX;
    pthread_mutex_lock(&g->mu);
    while (!g->quit) {
        int32_t ms = atomic_load_explicit(&g->wd_ms, memory_order_relaxed);
        uint64_t period = ms > 0 ? (uint64_t)ms / 4 : 250;
        if (period < 5) period = 5;
        if (period > 250) period = 250;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t dl = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + period * 1000000u;
        ts.tv_sec = (time_t)(dl / 1000000000u);
        ts.tv_nsec = (long)(dl % 1000000000u);
        pthread_cond_timedwait(&g->cv, &g->mu, &ts);
        if (g->quit || ms <= 0) continue;
        pthread_mutex_unlock(&g->mu);
        /* every scheduler, each with its own heartbeat; a hung one is
         * reported (up to WD_BT_WAIT_MS for its stack) before the next is
         * sampled, which only delays that one's report */
        for (uint16_t i = 0; i < ns; i++) wd_sample(rt, &rt->sched[i], &track[i], ms);
        pthread_mutex_lock(&g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

void tr__diag_apply(tr_runtime_t *rt) {
    tr__diag_t *g = rt->diag;
    if (!g) return; /* at create, before tr__diag_init: it applies them */
    int32_t ms = rt->opts.watchdog_ms;
    atomic_store_explicit(&g->wd_ms, ms, memory_order_relaxed);
    if (ms > 0 && !g->started) {
        if (!g->sig_installed && sig_install() == 0) g->sig_installed = 1;
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&g->cv, &ca);
        pthread_condattr_destroy(&ca);
        if (pthread_create(&g->thread, NULL, watchdog_main, rt) == 0) {
            g->started = true;
        } else {
            pthread_cond_destroy(&g->cv);
            tr__log(rt, TR_LOG_ERROR, "watchdog: cannot start its thread: %s", strerror(errno));
        }
    }
    /* A stall check lives on its scheduler's heap, so only a thread that
     * may touch that scheduler arms it here. Another scheduler's check is
     * armed by the next call it opens (mailbox/chan.c); calls it opened
     * while stall_ms was off are checked from then on. */
    if (rt->opts.stall_ms > 0)
        for (uint16_t i = 0; i < rt->nsched; i++)
            if (tr__may_touch(&rt->sched[i])) tr__stall_arm(&rt->sched[i]);
}

/* The diagnostics fields of every scheduler (its semaphore for the
 * watchdog's backtraces, its stall check's timer node); `n` schedulers
 * have their semaphore when this fails. */
static int sched_init(tr_runtime_t *rt, uint16_t *n) {
    for (*n = 0; *n < rt->nsched; (*n)++) {
        tr__sched_t *s = &rt->sched[*n];
        if (sem_init(&s->wd_bt_done, 0, 0) != 0) return TR_ESYS;
        s->stall_node.kind = TR__TM_STALL;
        s->stall_node.heap_idx = UINT32_MAX;
    }
    return 0;
}

int tr__diag_init(tr_runtime_t *rt) {
    tr__diag_t *g = calloc(1, sizeof(*g));
    if (!g) return TR_ENOMEM;
    pthread_mutex_init(&g->mu, NULL);
    g->hook = rt->opts.on_diag;
    g->hook_arg = rt->opts.diag_arg;
    uint16_t n;
    if (sched_init(rt, &n) != 0) {
        while (n) sem_destroy(&rt->sched[--n].wd_bt_done);
        pthread_mutex_destroy(&g->mu);
        free(g);
        return TR_ESYS;
    }
    rt->diag = g;
    tr__diag_apply(rt);
    return 0;
}

void tr__diag_fini(tr_runtime_t *rt) {
    tr__diag_t *g = rt->diag;
    if (!g) return;
    if (g->started) {
        pthread_mutex_lock(&g->mu);
        g->quit = true;
        pthread_cond_signal(&g->cv);
        pthread_mutex_unlock(&g->mu);
        pthread_join(g->thread, NULL);
        pthread_cond_destroy(&g->cv);
    }
    if (g->sig_installed) sig_uninstall();
    /* no scheduler thread runs any more: every heap is ours */
    for (uint16_t i = 0; i < rt->nsched; i++) {
        tr__sched_t *s = &rt->sched[i];
        if (s->stall_node.heap_idx != UINT32_MAX) tr__heap_remove(s, &s->stall_node);
        sem_destroy(&s->wd_bt_done);
    }
    for (size_t i = 0; i < TR__ALERTS; i++) alert_free(g->ring[i]);
    pthread_mutex_destroy(&g->mu);
    free(g);
    rt->diag = NULL;
}
