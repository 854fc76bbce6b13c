/* runtime/panic.c: tr_panic, the panic scene and hook, and hardware-fault
 * isolation.
 *
 * A panic is a siglongjmp to the innermost protected region of the
 * scheduler (tr__pframe_t: a pass's actor turns, init, terminate); the
 * region then runs the hook and tears the actor down. Everything the
 * unwinding skips over is the handler's own C frames: runtime state is only
 * ever changed outside them, and the message being handled lives in the
 * scheduler (run_env/run_msg), not on the stack.
 *
 * The backtrace is taken at the panic site with libunwind (from the signal
 * context for faults) and symbolized right away with unw_get_proc_name and
 * dladdr: function+offset (binary), through a per-scheduler cache by
 * instruction pointer, since a name costs a read of /proc/self/maps. Scenes are built into the scheduler's
 * tr__panic_t, so reporting allocates nothing, which matters in the signal
 * handler of TR_FAULT_REPORT. */
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <libunwind.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/internal.h"

__thread tr__sched_t *tr__tls_sched;

/* ---- backtraces ---- */

/* The file name of the module holding ip (dladdr fills di), or "?". */
static const char *module_of(uintptr_t ip, Dl_info *di) {
    if (!dladdr((void *)ip, di) || !di->dli_fname || !di->dli_fname[0]) return "?";
    const char *slash = strrchr(di->dli_fname, '/');
    return slash ? slash + 1 : di->dli_fname;
}

static void bt_walk(tr__panic_t *p, unw_cursor_t *cur) {
    p->nframes = 0;
    do {
        unw_word_t ip = 0, off = 0;
        if (unw_get_reg(cur, UNW_REG_IP, &ip) < 0 || ip == 0) break;
        char *buf = p->frame_buf[p->nframes];
        size_t len = sizeof(p->frame_buf[0]);
        tr__bt_sym_t *sym = &p->sym_cache[((uintptr_t)ip >> 2) & (TR__BT_CACHE - 1)];
        if (sym->ip != (uintptr_t)ip) {
            char name[112];
            Dl_info di;
            const char *mod = module_of((uintptr_t)ip, &di);
            int r = unw_get_proc_name(cur, name, sizeof(name), &off);
            if (r == 0 || r == -UNW_ENOMEM)
                snprintf(sym->text, sizeof(sym->text), "%s+0x%lx (%s)", name,
                         (unsigned long)off, mod);
            else
                snprintf(sym->text, sizeof(sym->text), "0x%lx (%s)", (unsigned long)ip, mod);
            sym->ip = (uintptr_t)ip;
        }
        memcpy(buf, sym->text, len < sizeof(sym->text) ? len : sizeof(sym->text));
        p->frames[p->nframes++] = buf;
    } while (p->nframes < TR__BT_MAX && unw_step(cur) > 0);
}

size_t tr__bt_ips(void *ucontext, uintptr_t *ips, size_t max) {
    unw_cursor_t cur;
    if (unw_init_local2(&cur, (unw_context_t *)ucontext, UNW_INIT_SIGNAL_FRAME) != 0) return 0;
    size_t n = 0;
    do {
        unw_word_t ip = 0;
        if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 || ip == 0) break;
        ips[n++] = (uintptr_t)ip;
    } while (n < max && unw_step(&cur) > 0);
    return n;
}

void tr__bt_name(uintptr_t ip, char *buf, size_t len) {
    Dl_info di;
    const char *mod = module_of(ip, &di);
    if (mod[0] == '?' && !mod[1])
        snprintf(buf, len, "0x%lx (?)", (unsigned long)ip);
    else if (di.dli_sname)
        snprintf(buf, len, "%s+0x%lx (%s)", di.dli_sname,
                 (unsigned long)(ip - (uintptr_t)di.dli_saddr), mod);
    else /* not exported: module-relative, for addr2line -f -e MODULE */
        snprintf(buf, len, "%s+0x%lx", mod, (unsigned long)(ip - (uintptr_t)di.dli_fbase));
}

static void stamp(tr__sched_t *s, tr__panic_t *p) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    p->wall_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    p->runtime_ms = tr__now_ms(s);
}

/* ---- tr_panic ---- */

void tr_panic_at(tr_ctx_t *ctx, const char *file, int line, const char *fmt, ...) {
    tr__sched_t *s = ctx ? ctx->s : NULL;
    va_list ap;
    if (!fmt) fmt = "(no message)";
    if (!s || !ctx->actor || !s->pframe || s->in_panic) {
        /* nothing to unwind to: say so and abort */
        fprintf(stderr, "troupe: tr_panic outside an actor's handler at %s:%d: ",
                file ? file : "?", line);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        abort();
    }
    tr__panic_t *p = &s->panic;
    va_start(ap, fmt);
    vsnprintf(p->reason, sizeof(p->reason), fmt, ap);
    va_end(ap);
    p->kind = TR_PANIC_CALL;
    p->signo = 0;
    p->file = file;
    p->line = line;
    snprintf(p->detail, sizeof(p->detail), "panicked at %s:%d: %s", file ? file : "?", line,
             p->reason);
    stamp(s, p);
    unw_context_t uc;
    unw_cursor_t cur;
    p->nframes = 0;
    if (unw_getcontext(&uc) == 0 && unw_init_local(&cur, &uc) == 0 && unw_step(&cur) > 0)
        bt_walk(p, &cur); /* from tr_panic's caller */
    siglongjmp(s->pframe->jb, 1);
}

/* ---- scenes ---- */

const char *tr__actor_path(tr__sched_t *s, tr__actor_t *a, char *buf, size_t len) {
    if (a->x && a->x->path) {
        snprintf(buf, len, "%s", a->x->path);
        return buf;
    }
    if (tr__registry_name(s->rt, a->ref, buf, len)) return buf;
    snprintf(buf, len, "%s", a->ti->type->name ? a->ti->type->name : "actor");
    return buf;
}

static const char *sys_name(int kind) {
    switch (kind) {
    case TR__SYS_DOWN: return "TR_MSG_DOWN";
    case TR__SYS_EXIT: return "exit signal";
    case TR__SYS_CONFIG: return "UpdateConfig (on_config)";
    default: return "TR_MSG_SHUTDOWN";
    }
}

static void default_hook(void *arg, const tr_panic_scene_t *sc) {
    (void)arg;
    char buf[8192];
    size_t n = tr_panic_scene_format(sc, buf, sizeof(buf));
    if (n >= sizeof(buf)) n = sizeof(buf) - 1;
    for (size_t off = 0; off < n;) { /* write(2): usable in a signal handler */
        ssize_t w = write(STDERR_FILENO, buf + off, n - off);
        if (w <= 0) break;
        off += (size_t)w;
    }
}

void tr__panic_report(tr__sched_t *s, tr__actor_t *a, const char *what) {
    tr__panic_t *p = &s->panic;
    tr_panic_scene_t sc;
    memset(&sc, 0, sizeof(sc));
    sc.kind = p->kind;
    sc.path = tr__actor_path(s, a, p->path, sizeof(p->path));
    sc.actor = a->ref;
    sc.incarnation = a->x && a->x->incarnation ? a->x->incarnation : 1;
    sc.type_name = a->ti->type->name ? a->ti->type->name : "actor";
    if (what) {
        sc.msg_name = what;
    } else if (s->run_kind == TR__RUN_MSG) {
        sc.msg_type = s->run_msg.type;
        sc.msg_name = tr_msg_type_name(a->ti->type, s->run_msg.type);
        if (!sc.msg_name) sc.msg_name = "(default handler)";
        sc.sender = s->run_msg.sender;
        sc.is_call = (s->run_msg.flags_ & TR__F_CALL) != 0;
    } else if (s->run_kind == TR__RUN_CONT) {
        sc.msg_name = "continuation";
        sc.msg_type = s->run_chan->msg_type;
        sc.sender = s->run_chan->callee;
    } else if (s->run_kind == TR__RUN_SYS) {
        sc.msg_name = sys_name(s->run_sys->kind);
        sc.msg_type = s->run_sys->kind == TR__SYS_DOWN     ? TR_MSG_DOWN
                      : s->run_sys->kind == TR__SYS_CONFIG ? 0
                                                           : TR_MSG_SHUTDOWN;
        sc.sender = s->run_sys->from;
    }
    sc.reason = p->reason;
    sc.signo = p->signo;
    sc.file = p->file;
    sc.line = p->line;
    sc.wall_ms = p->wall_ms;
    sc.runtime_ms = p->runtime_ms;
    sc.frames = p->frames;
    sc.nframes = p->nframes;
    tr__ev(s, TR_EV_PANIC, a->ref, sc.sender, sc.msg_type, p->signo);
    p->nevents = tr__events_of(s, a->ref, p->events, TR__SCENE_EVENTS);
    sc.events = p->events;
    sc.nevents = p->nevents;
    TR__INC(s->c.panics);
    s->in_panic = 1;
    if (s->rt->panic_hook) s->rt->panic_hook(s->rt->panic_hook_arg, &sc);
    else default_hook(NULL, &sc);
    s->in_panic = 0;
}

int tr_set_panic_hook(tr_runtime_t *rt, tr_panic_hook_fn fn, void *arg) {
    if (!rt) return TR_EINVAL;
    if (!tr__may_touch(&rt->sched[0]) || rt->sched[0].ctx.actor) return TR_EWRONGTHREAD;
    rt->panic_hook = fn;
    rt->panic_hook_arg = fn ? arg : NULL;
    return 0;
}

/* snprintf into buf at *off, keeping count of the full length. */
static void put(char *buf, size_t len, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t len, size_t *off, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*off < len ? buf + *off : NULL, *off < len ? len - *off : 0, fmt, ap);
    va_end(ap);
    if (n > 0) *off += (size_t)n;
}

static const char *kind_text(tr_panic_kind_t k) {
    switch (k) {
    case TR_PANIC_CALL: return "tr_panic";
    case TR_PANIC_FAULT_ISOLATED: return "hardware fault, isolated (runtime tainted)";
    case TR_PANIC_FAULT_REPORTED: return "hardware fault, reported (the process dies now)";
    }
    return "?";
}

size_t tr_panic_scene_format(const tr_panic_scene_t *sc, char *buf, size_t len) {
    size_t off = 0;
    if (buf && len) buf[0] = '\0';
    else len = 0;
    if (!sc) return 0;
    put(buf, len, &off, "=== troupe panic =================================================\n");
    put(buf, len, &off, "actor:     %s (id %u.%u, incarnation %u, type %s)\n",
        sc->path ? sc->path : "?", sc->actor.slot, sc->actor.gen, sc->incarnation,
        sc->type_name ? sc->type_name : "?");
    if (sc->msg_name) {
        put(buf, len, &off, "handling:  %s", sc->msg_name);
        if (sc->msg_type) put(buf, len, &off, " (type %d)", sc->msg_type);
        if (tr_ref_valid(sc->sender))
            put(buf, len, &off, " from %u.%u", sc->sender.slot, sc->sender.gen);
        put(buf, len, &off, "%s\n", sc->is_call ? ", a call" : "");
    }
    put(buf, len, &off, "reason:    %s\n", sc->reason ? sc->reason : "");
    if (sc->file) put(buf, len, &off, "at:        %s:%d\n", sc->file, sc->line);
    put(buf, len, &off, "kind:      %s\n", kind_text(sc->kind));
    time_t secs = (time_t)(sc->wall_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    put(buf, len, &off, "time:      %04d-%02d-%02dT%02d:%02d:%02d.%03uZ (runtime %llu ms)\n",
        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
        (unsigned)(sc->wall_ms % 1000), (unsigned long long)sc->runtime_ms);
    put(buf, len, &off, "backtrace:\n");
    for (size_t i = 0; i < sc->nframes; i++)
        put(buf, len, &off, "  #%-2zu %s\n", i, sc->frames[i]);
    put(buf, len, &off, "recent events of this actor (oldest first):\n");
    for (size_t i = 0; i < sc->nevents; i++) {
        const tr_event_t *e = &sc->events[i];
        put(buf, len, &off, "  %8llu ms  %-7s %u.%u", (unsigned long long)e->time_ms,
            tr_event_kind_name(e->kind), e->actor.slot, e->actor.gen);
        if (tr_ref_valid(e->peer)) put(buf, len, &off, " peer %u.%u", e->peer.slot, e->peer.gen);
        if (e->msg_type) put(buf, len, &off, " type %d", e->msg_type);
        if (e->arg) put(buf, len, &off, " arg %d", (int)e->arg);
        put(buf, len, &off, "\n");
    }
    put(buf, len, &off, "==================================================================\n");
    return off;
}

/* ---- hardware faults ---- */

static const int fault_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define NFAULT (sizeof(fault_signals) / sizeof(fault_signals[0]))
static pthread_mutex_t fault_mu = PTHREAD_MUTEX_INITIALIZER;
static int fault_users;
static struct sigaction fault_old[NFAULT];

static void die_by(int sig) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
}

/* Not ours to handle: what was installed before us, or the default. */
static void chain(int sig, siginfo_t *si, void *uc) {
    for (size_t i = 0; i < NFAULT; i++) {
        if (fault_signals[i] != sig) continue;
        struct sigaction *o = &fault_old[i];
        if ((o->sa_flags & SA_SIGINFO) && o->sa_sigaction) {
            o->sa_sigaction(sig, si, uc);
            return;
        }
        if (o->sa_handler != SIG_DFL && o->sa_handler != SIG_IGN) {
            o->sa_handler(sig);
            return;
        }
    }
    die_by(sig);
}

static void describe(int sig, const siginfo_t *si, char *buf, size_t len) {
    const char *name = sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS"
                     : sig == SIGFPE ? "SIGFPE" : sig == SIGILL ? "SIGILL" : "SIGABRT";
    const char *what = "";
    switch (sig) {
    case SIGSEGV: what = si->si_code == SEGV_ACCERR ? "access to protected memory" : "invalid address"; break;
    case SIGBUS: what = "bus error at address"; break;
    case SIGFPE: what = si->si_code == FPE_INTDIV ? "integer divide by zero" : "arithmetic exception"; break;
    case SIGILL: what = "illegal instruction"; break;
    default: what = "abort()"; break;
    }
    if (sig == SIGSEGV || sig == SIGBUS)
        snprintf(buf, len, "%s (%s 0x%lx)", name, what, (unsigned long)(uintptr_t)si->si_addr);
    else
        snprintf(buf, len, "%s (%s)", name, what);
}

static void on_fault(int sig, siginfo_t *si, void *ucv) {
    tr__sched_t *s = tr__tls_sched;
    if (!s || !s->pframe || !s->ctx.actor || s->in_panic ||
        s->rt->opts.fault_isolation == TR_FAULT_OFF) {
        chain(sig, si, ucv);
        return;
    }
    tr__actor_t *a = s->ctx.actor;
    tr__panic_t *p = &s->panic;
    describe(sig, si, p->reason, sizeof(p->reason));
    snprintf(p->detail, sizeof(p->detail), "panicked: hardware fault %s", p->reason);
    p->signo = sig;
    p->file = NULL;
    p->line = 0;
    stamp(s, p);
    unw_cursor_t cur;
    p->nframes = 0;
    if (unw_init_local2(&cur, (unw_context_t *)ucv, UNW_INIT_SIGNAL_FRAME) == 0) bt_walk(p, &cur);
    if (s->rt->opts.fault_isolation == TR_FAULT_ISOLATE) {
        p->kind = TR_PANIC_FAULT_ISOLATED;
        TR__INC(s->c.faults_isolated);
        siglongjmp(s->pframe->jb, 1); /* SA_NODEFER: no mask to restore */
    }
    p->kind = TR_PANIC_FAULT_REPORTED;
    tr__panic_report(s, a, s->run_what);
    die_by(sig); /* core dump: memory may be corrupt, do not pretend otherwise */
}

/* Remove and free the alternate signal stack we installed, if any. */
void tr__altstack_free(tr__sched_t *s) {
    if (!s->altstack) return;
    stack_t ds;
    memset(&ds, 0, sizeof(ds));
    ds.ss_flags = SS_DISABLE;
    sigaltstack(&ds, NULL);
    free(s->altstack);
    s->altstack = NULL;
}

int tr__altstack_install(tr__sched_t *s) {
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && (cur.ss_flags & SS_DISABLE)) {
        size_t size = 64 * 1024;
        void *mem = malloc(size);
        if (!mem) return TR_ENOMEM;
        stack_t ns;
        memset(&ns, 0, sizeof(ns));
        ns.ss_sp = mem;
        ns.ss_size = size;
        if (sigaltstack(&ns, NULL) != 0) {
            free(mem);
            return TR_ESYS;
        }
        s->altstack = mem;
    }
    return 0;
}

/* The owner thread's stack here; scheduler threads install theirs when
 * they start (runtime.c). */
int tr__faults_install(tr_runtime_t *rt) {
    tr__sched_t *s = &rt->sched[0];
    int err = tr__altstack_install(s);
    if (err) return err;
    pthread_mutex_lock(&fault_mu);
    if (fault_users == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = on_fault;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < NFAULT && !err; i++)
            if (sigaction(fault_signals[i], &sa, &fault_old[i]) != 0) err = TR_ESYS;
    }
    if (!err) fault_users++;
    pthread_mutex_unlock(&fault_mu);
    if (err) {
        tr__altstack_free(s);
        return err;
    }
    rt->faults_installed = 1;
    return 0;
}

void tr__faults_uninstall(tr_runtime_t *rt) {
    if (!rt->faults_installed) return;
    pthread_mutex_lock(&fault_mu);
    if (--fault_users == 0)
        for (size_t i = 0; i < NFAULT; i++) sigaction(fault_signals[i], &fault_old[i], NULL);
    pthread_mutex_unlock(&fault_mu);
    tr__altstack_free(&rt->sched[0]);
    rt->faults_installed = 0;
}
