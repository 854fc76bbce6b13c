/* actors/actor.c: spawn, stop and teardown of actors, and the small
 * accessors handlers use. Teardown follows libuv's handle discipline: a stop
 * requested from inside a handler only marks the actor; the work happens
 * after the handler returns, and the memory is freed only once the actor has
 * left the run queue. Scheduler thread, except tr_stop, tr_actor_alive,
 * tr_set_mailbox_capacity and tr_mailbox_info, which any thread may call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

tr__extra_t *tr__actor_extra(tr__actor_t *a) {
    if (!a->x) a->x = calloc(1, sizeof(*a->x));
    return a->x;
}

static void set_marks(tr__actor_t *a, uint32_t cap) {
    if (a->flags & TR__A_WM_CUSTOM) return;
    a->hi_mark = cap - cap / 4; /* 3/4, at least 1 */
    if (a->hi_mark == 0) a->hi_mark = 1;
    a->lo_mark = cap / 4;
}

void tr__actor_set_capacity(tr__sched_t *s, tr__actor_t *a, uint32_t cap) {
    (void)s;
    uint32_t cfg = atomic_load_explicit(&a->slot->cfg, memory_order_relaxed);
    atomic_store_explicit(&a->slot->cfg, TR__CFG(cap, TR__CFG_POL(cfg)), memory_order_relaxed);
    set_marks(a, cap);
}

/* Value init returns when it panicked (init's own refusals are any other
 * nonzero value). */
#define TR__INIT_PANICKED INT32_MIN

/* init or terminate, run inside a protected region by run_protected. */
typedef struct lifecycle_call_s {
    const void *args;        /* init */
    tr_stop_reason_t reason; /* terminate */
    int r;                   /* init's return */
} lifecycle_call_t;

static void call_init(tr__sched_t *s, tr__actor_t *a, lifecycle_call_t *lc) {
    lc->r = a->ti->type->init(&s->ctx, a->state, lc->args);
}

static void call_terminate(tr__sched_t *s, tr__actor_t *a, lifecycle_call_t *lc) {
    a->ti->type->terminate(&s->ctx, a->state, lc->reason);
}

/* Run `what` ("init", "terminate") of `a` as its current actor inside a
 * protected region. Returns false when it panicked (the panic hook has run
 * with the scene). */
static bool run_protected(tr__sched_t *s, tr__actor_t *a, const char *what,
                          void (*call)(tr__sched_t *, tr__actor_t *, lifecycle_call_t *),
                          lifecycle_call_t *lc) {
    tr_ctx_t saved;
    tr__pframe_t f;
    volatile bool ok = true;
    const char *volatile prev_what = s->run_what;
    tr__ctx_enter(s, a, NULL, &saved);
    s->run_what = what;
    tr__pframe_push(s, &f);
    if (sigsetjmp(f.jb, 0) == 0) {
        call(s, a, lc);
    } else {
        tr__panic_report(s, a, what);
        ok = false;
    }
    tr__pframe_pop(s, &f);
    s->run_what = prev_what;
    tr__ctx_leave(s, &saved);
    return ok;
}

/* A panic in init makes the spawn fail with TR_EINIT. */
static int run_init(tr__sched_t *s, tr__actor_t *a, const void *args) {
    lifecycle_call_t lc = {args, TR_STOP_NORMAL, 0};
    return run_protected(s, a, "init", call_init, &lc) ? lc.r : TR__INIT_PANICKED;
}

/* A panic in terminate ends terminate early; the stop goes on. */
static void run_terminate(tr__sched_t *s, tr__actor_t *a, tr_stop_reason_t reason) {
    lifecycle_call_t lc = {NULL, reason, 0};
    if (!run_protected(s, a, "terminate", call_terminate, &lc))
        tr__log(s->rt, TR_LOG_WARNING, "terminate of %s (actor %u.%u) panicked: %s",
                a->ti->type->name, a->ref.slot, a->ref.gen, s->panic.reason);
}

int tr_spawn(tr_runtime_t *rt, const tr_actor_type_t *type, const tr_spawn_opts_t *opts,
             tr_ref_t *out) {
    return tr__spawn(rt, type, opts, NULL, out);
}

int tr__place(tr_runtime_t *rt, const tr_spawn_opts_t *opts) {
    tr__sched_t *cur = tr__current(rt);
    switch (opts->place) {
    case TR_PLACE_ANY:
        if (rt->nsched == 1) return 0;
        return (int)(atomic_fetch_add_explicit(&rt->place_rr, 1, memory_order_relaxed) %
                     rt->nsched);
    case TR_PLACE_LOCAL:
        return cur ? cur->id : 0;
    case TR_PLACE_PIN:
        return opts->scheduler < rt->nsched ? opts->scheduler : -1;
    case TR_PLACE_NEAR:
        return opts->near.gen && opts->near.sched < rt->nsched ? opts->near.sched : -1;
    }
    return -1;
}

/* The spawn itself, on scheduler `s` (the new actor's) run by this thread
 * (`cur` is NULL while stepping, else s) or, for a remote spawn, by
 * scheduler `cur` for s. */
static int spawn_on(tr_runtime_t *rt, tr__sched_t *s, tr__sched_t *cur,
                    const tr_actor_type_t *type, const tr_spawn_opts_t *opts,
                    const tr__spawn_ex_t *ex, tr_ref_t *out) {
    bool remote = cur && cur != s;
    tr__sched_t *here = remote ? cur : s; /* whose counters and messages */
    uint32_t cap = opts->mailbox_capacity ? opts->mailbox_capacity : rt->opts.mailbox_capacity;
    if (cap > TR_MAILBOX_MAX) return TR_EINVAL;
    tr_overflow_t pol = opts->overflow ? opts->overflow : TR_OVERFLOW_FAIL;
    if (pol < TR_OVERFLOW_FAIL || pol > TR_OVERFLOW_DROP_OLDEST) return TR_EINVAL;
    bool custom_wm = opts->high_watermark || opts->low_watermark;
    if (custom_wm && (opts->high_watermark == 0 || opts->low_watermark >= opts->high_watermark ||
                      opts->high_watermark > cap))
        return TR_EINVAL;
    if (opts->name && (!opts->name[0] || strlen(opts->name) > 255)) return TR_EINVAL;
    if (opts->args_len && !opts->args) return TR_EINVAL;
    if (opts->name) {
        tr_ref_t existing;
        if (tr_whereis(rt, opts->name, &existing) == 0) return TR_EEXIST;
    }
    tr__typeinfo_t *ti;
    int err = tr__typeinfo_get(rt, type, &ti);
    if (err) return err;
    if (type->state_size > SIZE_MAX - sizeof(tr__actor_t)) return TR_EINVAL;
    /* the config (the newest snapshot, also for a restarting child) may
     * override capacity and overflow, and the type may refuse its section */
    tr__spawn_cfg_t sc = {cap, pol, 0};
    if ((err = tr__config_spawn(here, type, ex && ex->path ? ex->path : opts->name, &sc)) != 0)
        return err;
    /* a remote init runs later: what it needs is allocated now, so nothing
     * can fail once the actor is visible */
    tr__inode_t *node = NULL;
    void *args_copy = NULL;
    if (remote) {
        node = calloc(1, sizeof(*node));
        args_copy = opts->args_len ? malloc(opts->args_len) : NULL;
        if (!node || (opts->args_len && !args_copy)) {
            free(node);
            free(args_copy);
            return TR_ENOMEM;
        }
        if (args_copy) memcpy(args_copy, opts->args, opts->args_len);
    }
    tr__actor_t *a = calloc(1, sizeof(*a) + type->state_size);
    if (!a) {
        free(node);
        free(args_copy);
        return TR_ENOMEM;
    }
    if (ex || sc.cap != cap || sc.pol != pol) {
        tr__extra_t *x = tr__actor_extra(a);
        char *path = ex && ex->path ? strdup(ex->path) : NULL;
        if (!x || (ex && ex->path && !path)) {
            free(path);
            free(a->x);
            free(a);
            free(node);
            free(args_copy);
            return TR_ENOMEM;
        }
        if (ex) {
            x->parent = ex->parent;
            x->path = path;
            x->incarnation = ex->incarnation;
        }
        if (sc.cap != cap) x->base_cap = cap;
        if (sc.pol != pol) x->base_pol = (uint8_t)pol;
    }
    cap = sc.cap;
    pol = sc.pol;
    a->ring.owner_cfg_gen = sc.gen;
    uint32_t idx;
    if (tr__slot_alloc(rt, &idx) != 0) {
        free(a->x ? a->x->path : NULL);
        free(a->x);
        free(a);
        free(node);
        free(args_copy);
        return TR_ENOMEM;
    }
    tr__slot_t *sl = tr__slot_get(rt, idx);
    uint64_t w = atomic_load_explicit(&sl->word, memory_order_relaxed);
    a->ref = (tr_ref_t){idx, TR__WORD_GEN(w), s->id, 0};
    a->slot = sl;
    a->ti = ti;
    a->spawn_seq = atomic_fetch_add_explicit(&rt->spawn_seq, 1, memory_order_relaxed) + 1;
    if (custom_wm) {
        a->flags |= TR__A_WM_CUSTOM;
        a->hi_mark = opts->high_watermark;
        a->lo_mark = opts->low_watermark;
    }
    set_marks(a, cap);
    if (remote) a->flags |= TR__A_UNSTARTED | TR__A_REMOTE_INIT;
    atomic_store_explicit(&sl->cfg, TR__CFG(cap, pol), memory_order_relaxed);
    atomic_store_explicit(&sl->deq, 0, memory_order_relaxed);
    atomic_store_explicit(&sl->ti, ti, memory_order_release);
    sl->u.actor = a;
    /* publish: the generation was already in the word; a release store
     * orders the fields above before any acquire load that sees it */
    atomic_store_explicit(&sl->word, w, memory_order_release);
    atomic_fetch_add_explicit(&rt->actors_live, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->actors, 1, memory_order_relaxed);
    if (remote) {
        /* the init request goes first into s's inbox: anything sent to
         * the new actor from now on (the ref and the name are not out yet)
         * lands behind it */
        tr_ref_t ref = a->ref; /* once posted, `a` is s's: it may be gone */
        node->kind = TR__IN_SPAWN;
        node->to = ref;
        node->ptr = args_copy ? args_copy : (void *)opts->args;
        node->arg = args_copy != NULL;
        tr__post(s, node);
        if (opts->name && (err = tr_register(rt, opts->name, ref)) != 0) {
            tr__stop_ref(here, ref, TR_STOP_NORMAL);
            return err;
        }
        if (out) *out = ref;
        return 0;
    }
    tr__ev(s, TR_EV_SPAWN, a->ref, ex ? ex->parent : TR_REF_NONE, 0,
           ex ? (int32_t)ex->incarnation : 1);
    if (type->init) {
        tr__actor_t *prev_actor = s->init_actor; /* init may spawn */
        const char *prev_name = s->init_name;
        s->init_actor = a;
        s->init_name = opts->name;
        int r = run_init(s, a, opts->args);
        s->init_actor = prev_actor;
        s->init_name = prev_name;
        if (r != 0) {
            a->flags |= TR__A_UNSTARTED;
            if (r == TR__INIT_PANICKED) {
                snprintf(s->spawn_err, sizeof(s->spawn_err), "init %s", s->panic.detail);
                tr__log(rt, TR_LOG_INFO, "init of %s panicked: %s", type->name, s->panic.detail);
                tr__actor_teardown_ex(s, a, TR_STOP_PANIC, s->panic.detail);
            } else {
                snprintf(s->spawn_err, sizeof(s->spawn_err), "init returned %d", r);
                tr__log(rt, TR_LOG_INFO, "init of %s refused (%d)", type->name, r);
                tr__actor_teardown(s, a, TR_STOP_NORMAL);
            }
            return TR_EINIT;
        }
    }
    TR__INC(s->c.actors_spawned);
    if (opts->name && (err = tr_register(rt, opts->name, a->ref)) != 0) {
        a->flags |= TR__A_STOP_REQ;
        tr__actor_teardown(s, a, TR_STOP_NORMAL);
        return err;
    }
    if (out) *out = a->ref;
    return 0;
}

int tr__spawn(tr_runtime_t *rt, const tr_actor_type_t *type, const tr_spawn_opts_t *opts,
              const tr__spawn_ex_t *ex, tr_ref_t *out) {
    static const tr_spawn_opts_t defaults;
    if (!rt || !type) return TR_EINVAL;
    tr__sched_t *cur = tr__current(rt);
    if (!cur && !tr__stepping(rt)) return TR_EWRONGTHREAD;
    /* sync_spawn is the owner's while it steps; no other thread spawns then */
    if (!tr__stepping(rt) && rt->sync_spawn) return TR_EWRONGTHREAD;
    if (atomic_load_explicit(&rt->shutting_down, memory_order_relaxed) || rt->destroying)
        return TR_ESTOPPED;
    if (!opts) opts = &defaults;
    int k = tr__place(rt, opts);
    if (k < 0) return TR_EINVAL;
    tr__sched_t *s = &rt->sched[k];
    /* a spawn from the owner thread while no scheduler thread runs (a tree
     * built in main before tr_runtime_run, or a test) may touch every
     * scheduler: it runs init at once wherever the actor lands, and so do
     * the spawns that init makes (a supervisor starting its children), so
     * such trees start synchronously and in order, as OTP's do */
    if (cur && !rt->sync_spawn) return spawn_on(rt, s, cur, type, opts, ex, out);
    tr__sched_t *prev = tr__tls_cur;
    tr__tls_cur = s;
    rt->sync_spawn++;
    int err = spawn_on(rt, s, NULL, type, opts, ex, out);
    rt->sync_spawn--;
    tr__tls_cur = prev;
    return err;
}

void tr__spawn_remote_init(tr__sched_t *s, tr__inode_t *n) {
    tr_runtime_t *rt = s->rt;
    tr__actor_t *a = tr__actor_get(s, n->to);
    bool owned = n->arg != 0;
    if (!a || !(a->flags & TR__A_REMOTE_INIT)) { /* stopped before its init ran */
        if (owned) free(n->ptr);
        return;
    }
    a->flags &= ~TR__A_REMOTE_INIT;
    tr__ev(s, TR_EV_SPAWN, a->ref, a->x ? a->x->parent : TR_REF_NONE, 0,
           a->x && a->x->incarnation ? (int32_t)a->x->incarnation : 1);
    int r = 0;
    if (a->ti->type->init) {
        tr__actor_t *prev_actor = s->init_actor;
        const char *prev_name = s->init_name;
        s->init_actor = a;
        s->init_name = NULL;
        r = run_init(s, a, n->ptr);
        s->init_actor = prev_actor;
        s->init_name = prev_name;
    }
    if (owned) free(n->ptr);
    /* a supervisor waits for this before it starts its next child (OTP's
     * start order); it learns of a failure the same way */
    tr_ref_t parent = a->x ? a->x->parent : TR_REF_NONE;
    if (r == 0) {
        a->flags &= ~TR__A_UNSTARTED;
        TR__INC(s->c.actors_spawned);
        if (tr_ref_valid(parent))
            tr__sys_notify_ref(s, parent, TR__SYS_STARTED, a->ref, 0, TR_STOP_NORMAL, NULL);
        return;
    }
    char detail[440];
    if (r == TR__INIT_PANICKED) snprintf(detail, sizeof(detail), "init %s", s->panic.detail);
    else snprintf(detail, sizeof(detail), "init returned %d", r);
    tr__log(rt, TR_LOG_INFO, "init of %s on scheduler %u failed: %s", a->ti->type->name, s->id,
            detail);
    tr_ref_t self = a->ref;
    tr__actor_teardown_ex(s, a, TR_STOP_PANIC, detail);
    if (tr_ref_valid(parent))
        tr__sys_notify_ref(s, parent, TR__SYS_STARTED, self, 0, TR_STOP_PANIC, detail);
}

void tr__actor_sys_append(tr__sched_t *s, tr__actor_t *a, tr__sysmsg_t *m) {
    m->next = NULL;
    tr__sysmsg_t **pp = &a->sys;
    while (*pp) pp = &(*pp)->next;
    *pp = m;
    if (!(a->flags & (TR__A_IN_RUNQ | TR__A_RUNNING))) tr__schedule(s, a);
}

void tr__actor_sys_push(tr__sched_t *s, tr__actor_t *a, int kind, uint32_t arg) {
    tr__sysmsg_t *m = calloc(1, sizeof(*m));
    if (kind == TR__IN_STOP) a->flags |= TR__A_STOP_QUEUED;
    if (!m) {
        /* a stop must not be lost: mark directly, the next turn tears down */
        a->flags |= TR__A_STOP_REQ;
        tr__set_stop_reason(a, (tr_stop_reason_t)arg);
        if (!(a->flags & (TR__A_IN_RUNQ | TR__A_RUNNING))) tr__schedule(s, a);
        return;
    }
    m->kind = kind;
    m->arg = arg;
    tr__actor_sys_append(s, a, m);
}

/* A control message about `from` for `to`, or NULL (logged: out of
 * memory, the message is lost). `detail` is copied. */
static tr__sysmsg_t *sysmsg_new(tr__sched_t *s, tr_ref_t to, int kind, tr_ref_t from, int64_t id,
                                tr_stop_reason_t reason, const char *detail) {
    tr__sysmsg_t *m = calloc(1, sizeof(*m));
    char *d = m && detail ? strdup(detail) : NULL;
    if (!m || (detail && !d)) {
        free(m);
        tr__log(s->rt, TR_LOG_ERROR, "out of memory: %s about actor %u.%u for actor %u.%u lost",
                kind == TR__SYS_EXIT ? "exit signal" : kind == TR__SYS_DOWN ? "DOWN" : "start report",
                from.slot, from.gen, to.slot, to.gen);
        return NULL;
    }
    m->kind = kind;
    m->arg = (uint32_t)reason;
    m->from = from;
    m->id = id;
    m->detail = d;
    return m;
}

void tr__actor_sys_notify(tr__sched_t *s, tr__actor_t *a, int kind, tr_ref_t from, int64_t id,
                          tr_stop_reason_t reason, const char *detail) {
    tr__sysmsg_t *m = sysmsg_new(s, a->ref, kind, from, id, reason, detail);
    if (m) tr__actor_sys_append(s, a, m);
}

void tr__sysmsg_free(tr__sysmsg_t *m) {
    if (!m) return;
    tr_config_release(m->cfg);
    free(m->detail);
    free(m);
}

void tr__actor_request_stop(tr__sched_t *s, tr__actor_t *a, tr_stop_reason_t reason) {
    if (a->flags & (TR__A_STOP_QUEUED | TR__A_STOP_REQ | TR__A_DEAD)) return;
    tr__actor_sys_push(s, a, TR__IN_STOP, (uint32_t)reason);
}

void tr__actor_kill(tr__sched_t *s, tr__actor_t *a, const char *detail) {
    TR__ASSERT(!(a->flags & TR__A_RUNNING), "kill of a running actor");
    tr__actor_teardown_ex(s, a, TR_STOP_KILLED, detail ? detail : "killed");
}

const char *tr_stop_reason_str(tr_stop_reason_t reason) {
    switch (reason) {
    case TR_STOP_NORMAL: return "normal";
    case TR_STOP_SHUTDOWN: return "shutdown";
    case TR_STOP_PANIC: return "panic";
    case TR_STOP_KILLED: return "killed";
    case TR_STOP_ESCALATED: return "escalated";
    case TR_STOP_NOPROC: return "noproc";
    }
    return "unknown";
}

/* From a thread that may not touch s: hand a control request to the
 * actor's scheduler. */
static int post_control(tr_runtime_t *rt, tr__sched_t *s, int kind, tr_ref_t ref, uint32_t arg) {
    if (!tr_actor_alive(rt, ref)) return TR_EDEAD;
    tr__inode_t *n = calloc(1, sizeof(*n));
    if (!n) return TR_ENOMEM;
    n->kind = kind;
    n->to = ref;
    n->arg = arg;
    tr__post(s, n);
    return 0;
}

/* ---- control messages by ref, across schedulers ---- */

void tr__sys_send(tr__sched_t *s, tr_ref_t to, tr__sysmsg_t *m) {
    tr__sched_t *ts = tr__sched_of(s->rt, to);
    if (ts == s) {
        tr__actor_t *a = tr__actor_get(s, to);
        if (a && !(a->flags & TR__A_DEAD)) tr__actor_sys_append(s, a, m);
        else tr__sysmsg_free(m);
        return;
    }
    tr__inode_t *n = ts ? calloc(1, sizeof(*n)) : NULL;
    if (!n) {
        if (ts)
            tr__log(s->rt, TR_LOG_ERROR,
                    "out of memory: a control message for actor %u.%u on scheduler %u is lost",
                    to.slot, to.gen, to.sched);
        tr__sysmsg_free(m);
        return;
    }
    m->remote = 1;
    n->kind = TR__IN_SYS;
    n->to = to;
    n->ptr = m;
    tr__post(ts, n);
}

void tr__sys_notify_ref(tr__sched_t *s, tr_ref_t to, int kind, tr_ref_t from, int64_t id,
                        tr_stop_reason_t reason, const char *detail) {
    tr__sysmsg_t *m = sysmsg_new(s, to, kind, from, id, reason, detail);
    if (m) tr__sys_send(s, to, m); /* local: appended at once; else via to's inbox */
}

void tr__stop_ref(tr__sched_t *s, tr_ref_t to, tr_stop_reason_t reason) {
    if (to.sched == s->id) {
        tr__actor_t *a = tr__actor_get(s, to);
        if (a) tr__actor_request_stop(s, a, reason);
        return;
    }
    if (to.sched < s->rt->nsched &&
        post_control(s->rt, &s->rt->sched[to.sched], TR__IN_STOP, to, (uint32_t)reason) ==
            TR_ENOMEM)
        tr__log(s->rt, TR_LOG_ERROR, "out of memory: stop request for actor %u.%u lost", to.slot,
                to.gen);
}

void tr__kill_ref(tr__sched_t *s, tr_ref_t to, const char *detail) {
    if (to.sched == s->id) {
        tr__actor_t *a = tr__actor_get(s, to);
        if (a && !(a->flags & (TR__A_DEAD | TR__A_RUNNING))) tr__actor_kill(s, a, detail);
        return;
    }
    if (to.sched >= s->rt->nsched || !tr_actor_alive(s->rt, to)) return;
    tr__inode_t *n = calloc(1, sizeof(*n));
    char *d = n && detail ? strdup(detail) : NULL;
    if (!n || (detail && !d)) {
        free(n);
        tr__log(s->rt, TR_LOG_ERROR, "out of memory: kill of actor %u.%u lost", to.slot, to.gen);
        return;
    }
    n->kind = TR__IN_KILL;
    n->to = to;
    n->ptr = d;
    tr__post(&s->rt->sched[to.sched], n);
}

int tr_stop(tr_runtime_t *rt, tr_ref_t ref) {
    if (!rt) return TR_EINVAL;
    if (ref.gen == 0 || ref.sched >= rt->nsched) return TR_EDEAD;
    tr__sched_t *s = &rt->sched[ref.sched];
    if (tr__may_touch(s)) {
        tr__actor_t *a = tr__actor_get(s, ref);
        if (!a || (a->flags & TR__A_STOP_QUEUED)) return TR_EDEAD;
        tr__actor_sys_push(s, a, TR__IN_STOP, TR_STOP_NORMAL);
        return 0;
    }
    return post_control(rt, s, TR__IN_STOP, ref, TR_STOP_NORMAL);
}

int tr_stop_self(tr_ctx_t *ctx) {
    if (!ctx || !ctx->actor) return TR_EWRONGTHREAD;
    if (ctx->actor->flags & TR__A_STOP_REQ) return TR_EALREADY;
    ctx->actor->flags |= TR__A_STOP_REQ | TR__A_STOP_QUEUED;
    return 0;
}

int tr_actor_alive(tr_runtime_t *rt, tr_ref_t ref) {
    if (!rt || ref.gen == 0 || ref.sched >= rt->nsched) return 0;
    tr__slot_t *sl = tr__slot_get(rt, ref.slot);
    if (!sl) return 0;
    return TR__WORD_GEN(atomic_load_explicit(&sl->word, memory_order_acquire)) == ref.gen &&
           atomic_load_explicit(&sl->ti, memory_order_acquire) != NULL;
}

void tr__actor_free(tr__sched_t *s, tr__actor_t *a) {
    (void)s;
    free(a);
}

static void release_resources(tr__sched_t *s, tr__actor_t *a) {
    tr__owned_release_all(s, a);
    tr__actor_timers_cancel(s, a);
    tr__actor_fds_cancel(s, a);
}

/* Stop `a` now, outside its handlers. In order:
 *  1. its generation moves on (new sends fail with TR_EDEAD), its name goes;
 *  2. terminate(reason) runs (not after a refused init, not when killed),
 *     then owned resources, timers and fd watches are released; after a
 *     panic the order is reversed (the panic contract: resources first);
 *  3. a supervisor's remaining children are killed, newest first;
 *  4. reply channels it holds and calls queued for it resolve
 *     DropWithoutReport, queued one-way messages are dead letters;
 *  5. its own pending calls are cancelled;
 *  6. its supervisor gets an exit signal, its monitors DOWN;
 *  7. the slot is freed for a new incarnation. */
static void teardown(tr__sched_t *s, tr__actor_t *a, tr_stop_reason_t reason,
                     const char *detail_in, bool panic_current) {
    tr_runtime_t *rt = s->rt;
    TR__ASSERT(!(a->flags & (TR__A_DEAD | TR__A_RUNNING)), "teardown of a dead or running actor");
    /* the detail may live in s->panic, which a panic in terminate reuses */
    char *detail = detail_in ? strdup(detail_in) : NULL;
    /* 1. */
    tr__registry_drop_slot(rt, a->ref);
    uint32_t next_gen = a->ref.gen + 1 ? a->ref.gen + 1 : 1;
    atomic_store_explicit(&a->slot->deq, 0, memory_order_relaxed);
    atomic_store_explicit(&a->slot->word, TR__WORD(next_gen, 0), memory_order_release);
    /* 2. */
    bool started = !(a->flags & TR__A_UNSTARTED);
    bool call_terminate = started && reason != TR_STOP_KILLED && a->ti->type->terminate;
    if (reason == TR_STOP_PANIC) release_resources(s, a);
    if (call_terminate) run_terminate(s, a, reason);
    /* 3. */
    if (tr__actor_sup(a)) tr__sup_teardown(s, a, reason, detail);
    if (reason != TR_STOP_PANIC) release_resources(s, a);
    /* 4. */
    bool panicked = reason == TR_STOP_PANIC && detail;
    if (panic_current) tr__panic_drop_current(s);
    if (panicked) {
        tr__kept_drop_all(s, a, TR_DROP_PANICKED, detail);
    } else {
        tr__kept_drop_all(s, a, TR_DROP_STOPPED,
                          reason == TR_STOP_KILLED ? "responder was killed while holding the channel"
                                                   : NULL);
    }
    while (a->ring.count) {
        tr__env_t env;
        tr__ring_pop(&a->ring, &env);
        if (env.flags & TR__F_NOCAP) continue; /* fd readiness: nothing owned */
        if (panicked)
            tr__discard_env(s, &env, TR_DROP_PANICKED, detail, true);
        else
            tr__discard_env(s, &env, TR_DROP_DISCARDED, tr_drop_reason_str(TR_DROP_DISCARDED),
                            false);
    }
    tr__ring_free(&a->ring);
    while (a->sys) {
        tr__sysmsg_t *m = a->sys;
        a->sys = m->next;
        tr__sysmsg_free(m);
    }
    /* 5. */
    tr__chan_cancel_actor(s, a);
    /* 6. */
    tr__ev(s, TR_EV_STOP, a->ref, a->x ? a->x->parent : TR_REF_NONE, 0, (int32_t)reason);
    if (a->x) {
        if (started && tr_ref_valid(a->x->parent) &&
            tr_actor_alive(rt, a->x->parent)) {
            TR__INC(s->c.exits);
            tr__sys_notify_ref(s, a->x->parent, TR__SYS_EXIT, a->ref, 0, reason, detail);
        }
        tr__monitors_on_stop(s, a, reason, detail);
        free(a->x->path);
        free(a->x->exit_detail);
        free(a->x);
        a->x = NULL;
    }
    free(detail);
    /* 7. */
    atomic_store_explicit(&a->slot->ti, NULL, memory_order_relaxed);
    a->slot->u.actor = NULL;
    tr__slot_release(rt, a->ref.slot);
    atomic_fetch_sub_explicit(&s->actors, 1, memory_order_relaxed);
    uint64_t left = atomic_fetch_sub_explicit(&rt->actors_live, 1, memory_order_relaxed) - 1;
    if (started) TR__INC(s->c.actors_stopped);
    a->flags |= TR__A_DEAD;
    if (!(a->flags & TR__A_IN_RUNQ)) tr__actor_free(s, a);
    /* scheduler 0 ends an ordered shutdown: let it see the count move */
    if (s->id != 0 && atomic_load_explicit(&rt->shutting_down, memory_order_relaxed) &&
        (left == 0 || atomic_load_explicit(&rt->sups_live, memory_order_relaxed) == 0))
        tr__wake(&rt->sched[0]);
}

void tr__actor_teardown(tr__sched_t *s, tr__actor_t *a, tr_stop_reason_t reason) {
    teardown(s, a, reason, NULL, false);
}

void tr__actor_teardown_ex(tr__sched_t *s, tr__actor_t *a, tr_stop_reason_t reason,
                           const char *detail) {
    teardown(s, a, reason, detail, false);
}

void tr__actor_teardown_panic(tr__sched_t *s, tr__actor_t *a) {
    teardown(s, a, TR_STOP_PANIC, s->panic.detail, true);
}

tr_ref_t tr_self(tr_ctx_t *ctx) { return ctx && ctx->actor ? ctx->actor->ref : TR_REF_NONE; }

tr_runtime_t *tr_ctx_runtime(tr_ctx_t *ctx) { return ctx ? ctx->rt : NULL; }

const tr_actor_type_t *tr_ctx_type(tr_ctx_t *ctx) {
    return ctx && ctx->actor ? ctx->actor->ti->type : NULL;
}

void *tr_msg_take(tr_ctx_t *ctx, const tr_msg_t *msg) {
    if (!ctx || !msg || ctx->msg != msg) return NULL;
    if (!(msg->flags_ & TR__F_MOVED) || (msg->flags_ & TR__F_TAKEN)) return NULL;
    ctx->msg->flags_ |= TR__F_TAKEN;
    return (void *)msg->data;
}

int tr_set_mailbox_capacity(tr_runtime_t *rt, tr_ref_t ref, uint32_t capacity) {
    if (!rt || capacity == 0 || capacity > TR_MAILBOX_MAX) return TR_EINVAL;
    if (ref.gen == 0 || ref.sched >= rt->nsched) return TR_EDEAD;
    tr__sched_t *s = &rt->sched[ref.sched];
    if (tr__may_touch(s)) {
        tr__actor_t *a = tr__actor_get(s, ref);
        if (!a) return TR_EDEAD;
        tr__actor_set_capacity(s, a, capacity);
        return 0;
    }
    return post_control(rt, s, TR__IN_SET_CAP, ref, capacity);
}

int tr_mailbox_info(tr_runtime_t *rt, tr_ref_t ref, tr_mailbox_info_t *out) {
    if (!rt || !out) return TR_EINVAL;
    memset(out, 0, sizeof(*out));
    if (ref.gen == 0 || ref.sched >= rt->nsched) return TR_EDEAD;
    tr__slot_t *sl = tr__slot_get(rt, ref.slot);
    if (!sl) return TR_EDEAD;
    uint32_t deq = atomic_load_explicit(&sl->deq, memory_order_acquire); /* first: see reserve */
    uint64_t w = atomic_load_explicit(&sl->word, memory_order_acquire);
    if (TR__WORD_GEN(w) != ref.gen || !atomic_load_explicit(&sl->ti, memory_order_acquire))
        return TR_EDEAD;
    out->depth = TR__WORD_ENQ(w) - deq;
    out->capacity = tr__slot_cap(sl);
    if (tr__may_touch(&rt->sched[ref.sched])) {
        tr__actor_t *a = sl->u.actor;
        out->high_water = a->high_water;
        out->handled = a->handled;
        out->high = (a->flags & TR__A_WM_HIGH) != 0;
    }
    return 0;
}
