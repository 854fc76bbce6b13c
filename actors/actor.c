/* actors/actor.c: spawn, stop and teardown of actors, and the small
 * accessors handlers use. Teardown follows libuv's handle discipline: a stop
 * requested from inside a handler only marks the actor; the work happens
 * after the handler returns, and the memory is freed only once the actor has
 * left the run queue. Scheduler thread, except tr_stop, tr_actor_alive,
 * tr_set_mailbox_capacity and tr_mailbox_info, which any thread may call. */
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

int tr_spawn(tr_runtime_t *rt, const tr_actor_type_t *type, const tr_spawn_opts_t *opts,
             tr_ref_t *out) {
    static const tr_spawn_opts_t defaults;
    if (!rt || !type) return TR_EINVAL;
    tr__sched_t *s = &rt->sched[0];
    if (!tr__on_sched_thread(s)) return TR_EWRONGTHREAD;
    if (rt->shutting_down || rt->destroying) return TR_ESTOPPED;
    if (!opts) opts = &defaults;
    uint32_t cap = opts->mailbox_capacity ? opts->mailbox_capacity : rt->opts.mailbox_capacity;
    if (cap > TR_MAILBOX_MAX) return TR_EINVAL;
    tr_overflow_t pol = opts->overflow ? opts->overflow : TR_OVERFLOW_FAIL;
    if (pol < TR_OVERFLOW_FAIL || pol > TR_OVERFLOW_DROP_OLDEST) return TR_EINVAL;
    bool custom_wm = opts->high_watermark || opts->low_watermark;
    if (custom_wm && (opts->high_watermark == 0 || opts->low_watermark >= opts->high_watermark ||
                      opts->high_watermark > cap))
        return TR_EINVAL;
    if (opts->name && (!opts->name[0] || strlen(opts->name) > 255)) return TR_EINVAL;
    if (opts->name) {
        tr_ref_t existing;
        if (tr_whereis(rt, opts->name, &existing) == 0) return TR_EEXIST;
    }
    tr__typeinfo_t *ti;
    int err = tr__typeinfo_get(rt, type, &ti);
    if (err) return err;
    if (type->state_size > SIZE_MAX - sizeof(tr__actor_t)) return TR_EINVAL;
    tr__actor_t *a = calloc(1, sizeof(*a) + type->state_size);
    if (!a) return TR_ENOMEM;
    uint32_t idx;
    if (tr__slot_alloc(rt, &idx) != 0) {
        free(a);
        return TR_ENOMEM;
    }
    tr__slot_t *sl = tr__slot_get(rt, idx);
    uint64_t w = atomic_load_explicit(&sl->word, memory_order_relaxed);
    a->ref = (tr_ref_t){idx, TR__WORD_GEN(w), s->id, 0};
    a->slot = sl;
    a->ti = ti;
    a->spawn_seq = ++s->spawn_seq;
    if (custom_wm) {
        a->flags |= TR__A_WM_CUSTOM;
        a->hi_mark = opts->high_watermark;
        a->lo_mark = opts->low_watermark;
    }
    set_marks(a, cap);
    atomic_store_explicit(&sl->cfg, TR__CFG(cap, pol), memory_order_relaxed);
    atomic_store_explicit(&sl->deq, 0, memory_order_relaxed);
    atomic_store_explicit(&sl->ti, ti, memory_order_release);
    sl->u.actor = a;
    /* publish: the generation was already in the word; a release store
     * orders the fields above before any acquire load that sees it */
    atomic_store_explicit(&sl->word, w, memory_order_release);
    rt->actors_live++;
    if (type->init) {
        tr_ctx_t saved;
        tr__ctx_enter(s, a, NULL, &saved);
        int r = type->init(&s->ctx, a->state, opts->args);
        tr__ctx_leave(s, &saved);
        if (r != 0) {
            tr__log(rt, TR_LOG_INFO, "init of %s refused (%d)", type->name, r);
            a->flags |= TR__A_UNSTARTED;
            tr__actor_teardown(s, a, TR_STOP_NORMAL);
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

void tr__actor_sys_push(tr__sched_t *s, tr__actor_t *a, int kind, uint32_t arg) {
    tr__sysmsg_t *m = malloc(sizeof(*m));
    if (!m) {
        /* a stop must not be lost: mark directly, the next turn tears down */
        a->flags |= TR__A_STOP_REQ;
        if (arg == TR_STOP_SHUTDOWN) a->flags |= TR__A_SHUTDOWN;
    } else {
        m->kind = kind;
        m->arg = arg;
        m->next = NULL;
        tr__sysmsg_t **pp = &a->sys;
        while (*pp) pp = &(*pp)->next;
        *pp = m;
    }
    if (kind == TR__IN_STOP) a->flags |= TR__A_STOP_QUEUED;
    if (!(a->flags & (TR__A_IN_RUNQ | TR__A_RUNNING))) tr__schedule(s, a);
}

/* From a foreign thread: hand a control request to the actor's scheduler. */
static int post_control(tr_runtime_t *rt, tr__sched_t *s, int kind, tr_ref_t ref, uint32_t arg) {
    if (!tr_actor_alive(rt, ref)) return TR_EDEAD;
    tr__inode_t *n = calloc(1, sizeof(*n));
    if (!n) return TR_ENOMEM;
    n->kind = kind;
    n->to = ref;
    n->arg = arg;
    if (tr__inbox_push(&s->inbox, n)) tr__wake(s);
    return 0;
}

int tr_stop(tr_runtime_t *rt, tr_ref_t ref) {
    if (!rt) return TR_EINVAL;
    if (ref.gen == 0 || ref.sched >= rt->nsched) return TR_EDEAD;
    tr__sched_t *s = &rt->sched[ref.sched];
    if (tr__on_sched_thread(s)) {
        tr__actor_t *a = tr__actor_get(rt, ref);
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

/* Stop `a` now: terminate, release what it owns, resolve every reply channel
 * it is involved in, count what was queued. Called outside its handlers. */
void tr__actor_teardown(tr__sched_t *s, tr__actor_t *a, tr_stop_reason_t reason) {
    tr_runtime_t *rt = s->rt;
    TR__ASSERT(!(a->flags & (TR__A_DEAD | TR__A_RUNNING)), "teardown of a dead or running actor");
    /* 1. new sends fail with TR_EDEAD from here on; the name goes */
    tr__registry_drop_slot(rt, a->ref);
    uint32_t next_gen = a->ref.gen + 1 ? a->ref.gen + 1 : 1;
    atomic_store_explicit(&a->slot->deq, 0, memory_order_relaxed);
    atomic_store_explicit(&a->slot->word, TR__WORD(next_gen, 0), memory_order_release);
    /* 2. terminate (not after a refused init: the actor never started) */
    bool started = !(a->flags & TR__A_UNSTARTED);
    if (started && a->ti->type->terminate) {
        tr_ctx_t saved;
        tr__ctx_enter(s, a, NULL, &saved);
        a->ti->type->terminate(&s->ctx, a->state, reason);
        tr__ctx_leave(s, &saved);
    }
    /* 3. owned resources, timers, fd watches */
    tr__owned_release_all(s, a);
    tr__actor_timers_cancel(s, a);
    tr__actor_fds_cancel(s, a);
    /* 4. kept reply channels, queued calls and one-way messages */
    tr__kept_drop_all(s, a, TR_DROP_STOPPED);
    while (a->ring.count) {
        tr__env_t env;
        tr__ring_pop(&a->ring, &env);
        if (env.flags & TR__F_NOCAP) continue; /* fd readiness: nothing owned */
        tr__discard_env(s, &env, TR_DROP_DISCARDED, tr_drop_reason_str(TR_DROP_DISCARDED));
    }
    tr__ring_free(&a->ring);
    while (a->sys) {
        tr__sysmsg_t *m = a->sys;
        a->sys = m->next;
        free(m);
    }
    /* 5. its own calls: pending ones are cancelled, queued continuations dropped */
    tr__chan_cancel_actor(s, a);
    free(a->x);
    a->x = NULL;
    /* 6. the slot is free for a new incarnation */
    atomic_store_explicit(&a->slot->ti, NULL, memory_order_relaxed);
    a->slot->u.actor = NULL;
    tr__slot_release(rt, a->ref.slot);
    rt->actors_live--;
    if (started) TR__INC(s->c.actors_stopped);
    a->flags |= TR__A_DEAD;
    if (!(a->flags & TR__A_IN_RUNQ)) tr__actor_free(s, a);
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
    if (tr__on_sched_thread(s)) {
        tr__actor_t *a = tr__actor_get(rt, ref);
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
    uint64_t w = atomic_load_explicit(&sl->word, memory_order_acquire);
    if (TR__WORD_GEN(w) != ref.gen || !atomic_load_explicit(&sl->ti, memory_order_acquire))
        return TR_EDEAD;
    out->depth = TR__WORD_ENQ(w) - atomic_load_explicit(&sl->deq, memory_order_acquire);
    out->capacity = tr__slot_cap(sl);
    if (tr__on_sched_thread(&rt->sched[ref.sched])) {
        tr__actor_t *a = sl->u.actor;
        out->high_water = a->high_water;
        out->handled = a->handled;
        out->high = (a->flags & TR__A_WM_HIGH) != 0;
    }
    return 0;
}
