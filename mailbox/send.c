/* mailbox/send.c: the send path. Admission into a bounded mailbox (one CAS
 * on the target slot's word reserves a place, from any thread), overflow
 * policies, delivery into the ring, and cross-thread sends through the
 * scheduler's inbox. Every path either queues the message, tells the sender
 * (an error code, or a reply channel resolved with an error), or counts a
 * dead letter and runs the payload destructor: nothing is lost silently. */
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

/* Reserve one place in `sl` for generation `gen` under capacity `cap`.
 * Returns 0 (and the new depth), TR_EDEAD, or TR_EFULL. Any thread. */
static int reserve(tr__slot_t *sl, uint32_t gen, uint32_t *depth) {
    uint32_t cap = tr__slot_cap(sl);
    for (;;) {
        /* deq before the word: deq only grows and never passes enq, so a
         * deq read first is at most the enq read after it, and the depth
         * can only be overestimated. Read the other way round, a dequeue
         * in between made enq - deq wrap to ~4G: a false TR_EFULL. */
        uint32_t deq = atomic_load_explicit(&sl->deq, memory_order_acquire);
        uint64_t w = atomic_load_explicit(&sl->word, memory_order_acquire);
        if (TR__UNLIKELY(TR__WORD_GEN(w) != gen)) return TR_EDEAD;
        uint32_t d = TR__WORD_ENQ(w) - deq;
        if (TR__UNLIKELY(d >= cap)) return TR_EFULL;
        uint64_t nw = TR__WORD(gen, TR__WORD_ENQ(w) + 1); /* enq wraps inside 32 bits */
        if (TR__LIKELY(atomic_compare_exchange_weak_explicit(
                &sl->word, &w, nw, memory_order_acq_rel, memory_order_acquire))) {
            *depth = d + 1;
            return 0;
        }
    }
}

static void unreserve(tr__actor_t *a) { tr__slot_release_places(a->slot, 1); }

static tr_overflow_t policy_for(tr__slot_t *sl, const tr_handler_t *h) {
    if (h && h->overflow != TR_OVERFLOW_DEFAULT) return h->overflow;
    return TR__CFG_POL(atomic_load_explicit(&sl->cfg, memory_order_relaxed));
}

void tr__dead_letter(tr__sched_t *s, tr__env_t *env) {
    TR__INC(s->c.dead_letters);
    tr__ev(s, TR_EV_DROP, TR_REF_NONE, env->sender, env->type, 0);
    tr__env_destroy(env);
}

void tr__discard_env(tr__sched_t *s, tr__env_t *env, tr_drop_reason_t reason,
                     const char *detail, bool copy) {
    if (env->flags & TR__F_CALL) {
        tr__chan_answer(s, tr__chan_home(s, env->sender), env->chan_idx, env->chan_gen,
                        TR_EDROPPED, 0, reason, detail, copy && detail, NULL, 0);
        tr__env_destroy(env);
    } else {
        tr__dead_letter(s, env);
    }
}

/* One more message a's mailbox refused or discarded (for the debug
 * socket's per-actor `drops`). */
static void count_drop(tr__actor_t *a) {
    tr__extra_t *x = tr__actor_extra(a);
    if (x) x->drops++;
}

/* Drop the oldest counted message to make room; false if there is none in
 * the ring (every counted place is held by in-flight foreign sends). */
static bool evict_oldest(tr__sched_t *s, tr__actor_t *a) {
    if (a->ring.count == 0 || (a->ring.buf[a->ring.head].flags & TR__F_NOCAP)) return false;
    tr__env_t old;
    tr__ring_pop(&a->ring, &old);
    tr__slot_release_places(a->slot, 1);
    TR__INC(s->c.drops_oldest);
    count_drop(a);
    tr__discard_env(s, &old, TR_DROP_OVERFLOW,
                    "mailbox full: oldest message dropped (drop_oldest policy)", false);
    return true;
}

/* Queue an admitted env (its place already counted unless NOCAP). */
static int enqueue(tr__sched_t *s, tr__actor_t *a, tr__env_t *env, uint32_t depth) {
    if (TR__UNLIKELY(tr__ring_push(&a->ring, env) != 0)) return TR_ENOMEM;
    TR__INC(s->c.msgs_sent);
    tr__ev(s, TR_EV_SEND, env->sender, a->ref, env->type, 0);
    if (depth) {
        if (depth > a->high_water) a->high_water = depth;
        if (TR__UNLIKELY(depth >= a->hi_mark)) tr__wm_check_high(s, a, depth);
    }
    if (!(a->flags & (TR__A_IN_RUNQ | TR__A_RUNNING))) tr__schedule(s, a);
    return 0;
}

static uint32_t current_depth(const tr__actor_t *a) { return tr__slot_depth(a->slot); }

int tr__deliver_local(tr__sched_t *s, tr__actor_t *a, tr__env_t *env, const tr_handler_t *h,
                      bool reserved) {
    uint32_t depth = 0;
    int r = 0;
    if (env->flags & TR__F_NOCAP) {
        depth = 0;
    } else if (reserved) {
        depth = current_depth(a);
    } else {
        r = reserve(a->slot, a->ref.gen, &depth);
    }
    if (TR__LIKELY(r == 0)) {
        if (TR__UNLIKELY(enqueue(s, a, env, depth) != 0)) {
            if (!(env->flags & TR__F_NOCAP)) unreserve(a);
            tr__dead_letter(s, env); /* accepted, then lost to OOM: counted */
            return TR_ENOMEM;
        }
        return 0;
    }
    if (r == TR_EDEAD) {
        TR__INC(s->c.sends_rejected);
        tr__env_destroy(env);
        return r;
    }
    switch (policy_for(a->slot, h)) {
    case TR_OVERFLOW_DROP_OLDEST:
        if (evict_oldest(s, a) && reserve(a->slot, a->ref.gen, &depth) == 0) {
            if (enqueue(s, a, env, depth) == 0) return 0;
            unreserve(a);
            tr__dead_letter(s, env);
            return TR_ENOMEM;
        }
        /* nothing to evict: the newest is dropped */
        __attribute__((fallthrough));
    case TR_OVERFLOW_DROP_NEWEST:
        TR__INC(s->c.drops_newest);
        count_drop(a);
        tr__dead_letter(s, env);
        return 0;
    default:
        TR__INC(s->c.sends_rejected);
        count_drop(a);
        tr__env_destroy(env);
        return TR_EFULL;
    }
}

/* ---- one-way sends ---- */

static int remote_send(tr_runtime_t *rt, tr__sched_t *s, tr_ref_t sender, tr_ref_t to,
                       int type, const void *data, size_t len, void *mptr, tr_dtor_fn dtor,
                       bool move);

static int send_common(tr__sched_t *s, tr_ref_t sender, tr_ref_t to, int type,
                       const void *data, size_t len, void *mptr, tr_dtor_fn dtor, bool move) {
    const tr_handler_t *h = NULL;
    int err;
    if (TR__UNLIKELY(to.sched != s->id) && to.sched < s->rt->nsched)
        return remote_send(s->rt, s, sender, to, type, data, len, mptr, dtor, move);
    tr__actor_t *a = tr__actor_get(s, to);
    if (TR__UNLIKELY(!a)) {
        err = TR_EDEAD;
    } else {
        err = tr__check_type(a->ti, type, len, move ? mptr : data, &h);
        if (err == TR_ENOHANDLER) TR__INC(s->c.dead_letters);
    }
    if (TR__UNLIKELY(err)) {
        if (move && dtor) dtor(mptr);
        TR__INC(s->c.sends_rejected);
        return err;
    }
    tr__env_t env;
    env.type = type;
    env.flags = 0;
    env.sender = sender;
    if (move) {
        tr__env_set_move(&env, mptr, len, dtor);
    } else if (TR__UNLIKELY(tr__env_set_copy(&env, data, len) != 0)) {
        TR__INC(s->c.sends_rejected);
        return TR_ENOMEM;
    }
    return tr__deliver_local(s, a, &env, h, false);
}

int tr_send(tr_ctx_t *ctx, tr_ref_t to, int type, const void *data, size_t len) {
    if (TR__UNLIKELY(!ctx || !ctx->actor)) return TR_EWRONGTHREAD;
    return send_common(ctx->s, ctx->actor->ref, to, type, data, len, NULL, NULL, false);
}

int tr_send_move(tr_ctx_t *ctx, tr_ref_t to, int type, void *ptr, size_t len, tr_dtor_fn dtor) {
    if (TR__UNLIKELY(!ctx || !ctx->actor)) {
        if (dtor) dtor(ptr);
        return TR_EWRONGTHREAD;
    }
    return send_common(ctx->s, ctx->actor->ref, to, type, NULL, len, ptr, dtor, true);
}

/* Count on the sending scheduler (single writer) or, from a foreign
 * thread, on the runtime's shared counters (a locked add). */
#define TR__COUNT(rt, s, field)                                                 \
    do {                                                                        \
        if (s) TR__INC((s)->c.field);                                           \
        else TR__FADD((rt)->fc.field, 1);                                       \
    } while (0)

/* A send to an actor of another scheduler, from scheduler `s` or (s NULL)
 * from a foreign thread: validate and reserve against the slot (atomics
 * only), then hand the message to the target's scheduler through its
 * inbox. A sender always reaches a given target through the same inbox,
 * so the order per sender-receiver pair holds. */
static int remote_send(tr_runtime_t *rt, tr__sched_t *s, tr_ref_t sender, tr_ref_t to,
                       int type, const void *data, size_t len, void *mptr, tr_dtor_fn dtor,
                       bool move) {
    int err = 0;
    const tr_handler_t *h = NULL;
    tr__inode_t *n = NULL;
    tr__slot_t *sl = to.gen && to.sched < rt->nsched ? tr__slot_get(rt, to.slot) : NULL;
    tr__typeinfo_t *ti = NULL;
    if (!sl || TR__WORD_GEN(atomic_load_explicit(&sl->word, memory_order_acquire)) != to.gen ||
        !(ti = atomic_load_explicit(&sl->ti, memory_order_acquire))) {
        err = TR_EDEAD;
        goto fail;
    }
    err = tr__check_type(ti, type, len, move ? mptr : data, &h);
    if (err) {
        if (err == TR_ENOHANDLER) TR__COUNT(rt, s, dead_letters);
        goto fail;
    }
    n = malloc(sizeof(*n));
    if (!n) {
        err = TR_ENOMEM;
        goto fail;
    }
    n->kind = TR__IN_SEND;
    n->to = to;
    n->sync = NULL;
    n->env.type = type;
    n->env.flags = 0;
    n->env.sender = sender;
    if (move) {
        tr__env_set_move(&n->env, mptr, len, dtor);
        move = false; /* the node owns it now */
    } else if (tr__env_set_copy(&n->env, data, len) != 0) {
        err = TR_ENOMEM;
        goto fail;
    }
    uint32_t depth;
    err = reserve(sl, to.gen, &depth);
    if (err == TR_EFULL) {
        switch (policy_for(sl, h)) {
        case TR_OVERFLOW_DROP_OLDEST:
            n->env.flags |= TR__F_EVICT; /* the scheduler evicts at delivery */
            err = 0;
            break;
        case TR_OVERFLOW_DROP_NEWEST:
            TR__COUNT(rt, s, drops_newest);
            TR__COUNT(rt, s, dead_letters);
            tr__env_destroy(&n->env);
            free(n);
            return 0;
        default:
            break;
        }
    }
    if (err) {
        tr__env_destroy(&n->env);
        goto fail;
    }
    tr__post(&rt->sched[to.sched], n);
    return 0;
fail:
    free(n);
    if (move && dtor) dtor(mptr);
    TR__COUNT(rt, s, sends_rejected);
    return err;
}

int tr_runtime_send(tr_runtime_t *rt, tr_ref_t to, int type, const void *data, size_t len) {
    if (!rt) return TR_EINVAL;
    tr__sched_t *s = tr__sched_of(rt, to);
    if (s && tr__may_touch(s)) {
        if (rt->destroying) return TR_ESTOPPED;
        return send_common(s, TR_REF_NONE, to, type, data, len, NULL, NULL, false);
    }
    return remote_send(rt, tr__current(rt), TR_REF_NONE, to, type, data, len, NULL, NULL, false);
}

int tr_runtime_send_move(tr_runtime_t *rt, tr_ref_t to, int type, void *ptr, size_t len,
                         tr_dtor_fn dtor) {
    if (!rt) {
        if (dtor) dtor(ptr);
        return TR_EINVAL;
    }
    tr__sched_t *s = tr__sched_of(rt, to);
    if (s && tr__may_touch(s)) {
        if (rt->destroying) {
            if (dtor) dtor(ptr);
            return TR_ESTOPPED;
        }
        return send_common(s, TR_REF_NONE, to, type, NULL, len, ptr, dtor, true);
    }
    return remote_send(rt, tr__current(rt), TR_REF_NONE, to, type, NULL, len, ptr, dtor, true);
}

/* ---- calls ---- */

/* Start a call from an actor (`caller`) or a foreign thread (`sync`). Owns
 * env's payload. For actor callers an error return means nothing was
 * created; sync callers always learn the outcome through their channel. */
/* A call from actor `caller` to an actor of another scheduler. The channel
 * (and its timeout) lives here, on the caller's scheduler; the request goes
 * through the callee's inbox with its place reserved, and the outcome comes
 * back through ours (tr__chan_answer). */
static int call_remote(tr__sched_t *s, tr__actor_t *caller, tr_ref_t to, tr__env_t *env,
                       tr_cont_fn cont, void *cookie, uint32_t timeout_ms) {
    tr_runtime_t *rt = s->rt;
    const tr_handler_t *h = NULL;
    tr__slot_t *sl = to.gen ? tr__slot_get(rt, to.slot) : NULL;
    tr__typeinfo_t *ti = NULL;
    tr__inode_t *n = NULL;
    tr__chan_t *c = NULL;
    uint32_t depth;
    int err = 0;
    if (!sl || TR__WORD_GEN(atomic_load_explicit(&sl->word, memory_order_acquire)) != to.gen ||
        !(ti = atomic_load_explicit(&sl->ti, memory_order_acquire))) {
        err = TR_EDEAD;
    } else {
        err = tr__check_type(ti, env->type, env->len, tr__env_data(env), &h);
        if (err == TR_ENOHANDLER) TR__INC(s->c.dead_letters);
    }
    if (!err && (!(n = malloc(sizeof(*n))) || !(c = tr__chan_new(s)))) err = TR_ENOMEM;
    if (!err && timeout_ms && tr__heap_push(s, &c->timer, tr__now_ms(s) + timeout_ms) != 0)
        err = TR_ENOMEM;
    if (!err && (err = reserve(sl, to.gen, &depth)) == TR_EFULL) {
        tr_overflow_t pol = policy_for(sl, h);
        if (pol == TR_OVERFLOW_DROP_OLDEST) {
            env->flags |= TR__F_EVICT; /* the callee's scheduler makes room */
            err = 0;
        } else if (pol == TR_OVERFLOW_DROP_NEWEST) {
            TR__INC(s->c.drops_newest);
            free(n);
            tr__chan_open(s, c, caller, NULL, to, env->type, cont, cookie);
            tr__env_destroy(env);
            tr__chan_resolve(s, c, TR_EDROPPED, 0, TR_DROP_OVERFLOW,
                             "mailbox full: request dropped (drop_newest policy)", NULL, 0);
            return 0;
        }
    }
    if (err) {
        if (c) {
            if (c->timer.heap_idx != UINT32_MAX) tr__heap_remove(s, &c->timer);
            tr__chan_release(s, c);
        }
        free(n);
        tr__env_destroy(env);
        TR__INC(s->c.sends_rejected);
        return err;
    }
    tr__chan_open(s, c, caller, NULL, to, env->type, cont, cookie);
    env->flags |= TR__F_CALL;
    env->chan_idx = c->idx;
    env->chan_gen = c->gen;
    n->kind = TR__IN_CALL;
    n->to = to;
    n->sync = NULL;
    n->env = *env;
    tr__ev(s, TR_EV_SEND, env->sender, to, env->type, 1);
    tr__post(&rt->sched[to.sched], n);
    return 0;
}

int tr__call_start(tr__sched_t *s, tr__actor_t *caller, tr__sync_t *sync, tr_ref_t to,
                   tr__env_t *env, tr_cont_fn cont, void *cookie, uint32_t timeout_ms) {
    const tr_handler_t *h = NULL;
    tr__chan_t *c = NULL;
    uint32_t depth = 0;
    int err;
    if (caller && to.sched != s->id && to.sched < s->rt->nsched)
        return call_remote(s, caller, to, env, cont, cookie, timeout_ms);
    tr__actor_t *a = tr__actor_get(s, to);
    if (!a) {
        err = TR_EDEAD;
    } else {
        err = tr__check_type(a->ti, env->type, env->len, tr__env_data(env), &h);
        if (err == TR_ENOHANDLER) TR__INC(s->c.dead_letters);
    }
    if (!err) {
        err = reserve(a->slot, a->ref.gen, &depth);
        if (err == TR_EFULL) {
            tr_overflow_t pol = policy_for(a->slot, h);
            if (pol == TR_OVERFLOW_DROP_OLDEST && evict_oldest(s, a) &&
                reserve(a->slot, a->ref.gen, &depth) == 0) {
                err = 0;
            } else if (pol != TR_OVERFLOW_FAIL) {
                /* dropped as the newest: the caller is told via its channel */
                c = tr__chan_new(s);
                if (!c) {
                    err = TR_ENOMEM;
                } else {
                    TR__INC(s->c.drops_newest);
                    count_drop(a);
                    tr__chan_open(s, c, caller, sync, to, env->type, cont, cookie);
                    tr__env_destroy(env);
                    tr__chan_resolve(s, c, TR_EDROPPED, 0, TR_DROP_OVERFLOW,
                                     "mailbox full: request dropped (drop_newest policy)",
                                     NULL, 0);
                    return 0;
                }
            }
        }
    }
    if (!err) {
        c = tr__chan_new(s);
        if (!c) {
            unreserve(a);
            err = TR_ENOMEM;
        }
    }
    if (!err && timeout_ms && tr__heap_push(s, &c->timer, tr__now_ms(s) + timeout_ms) != 0) {
        tr__chan_release(s, c);
        unreserve(a);
        err = TR_ENOMEM;
    }
    if (!err) {
        env->flags |= TR__F_CALL;
        env->chan_idx = c->idx;
        env->chan_gen = c->gen;
        if (tr__ring_push(&a->ring, env) != 0) {
            if (timeout_ms) tr__heap_remove(s, &c->timer);
            tr__chan_release(s, c);
            unreserve(a);
            err = TR_ENOMEM;
        }
    }
    if (err) {
        if (err == TR_EFULL) count_drop(a);
        tr__env_destroy(env);
        TR__INC(s->c.sends_rejected);
        if (!sync) return err;
        tr__sync_fail(s, sync, to, env->type, err, NULL); /* told through its channel */
        return 0;
    }
    tr__chan_open(s, c, caller, sync, to, env->type, cont, cookie);
    TR__INC(s->c.msgs_sent);
    tr__ev(s, TR_EV_SEND, env->sender, a->ref, env->type, 1);
    if (depth > a->high_water) a->high_water = depth;
    if (depth >= a->hi_mark) tr__wm_check_high(s, a, depth);
    if (!(a->flags & (TR__A_IN_RUNQ | TR__A_RUNNING))) tr__schedule(s, a);
    return 0;
}

static int call_common(tr_ctx_t *ctx, tr_ref_t to, int type, const void *data, size_t len,
                       void *mptr, tr_dtor_fn dtor, bool move, tr_cont_fn cont, void *cookie,
                       uint32_t timeout_ms) {
    int err = 0;
    if (!ctx || !ctx->actor) err = TR_EWRONGTHREAD;
    else if (!cont || type <= 0 || len > UINT32_MAX || (len && !(move ? mptr : data)))
        err = TR_EINVAL;
    if (err) {
        if (move && dtor) dtor(mptr);
        return err;
    }
    tr__env_t env;
    env.type = type;
    env.flags = 0;
    env.sender = ctx->actor->ref;
    if (move) tr__env_set_move(&env, mptr, len, dtor);
    else if (tr__env_set_copy(&env, data, len) != 0) return TR_ENOMEM;
    return tr__call_start(ctx->s, ctx->actor, NULL, to, &env, cont, cookie, timeout_ms);
}

int tr_call(tr_ctx_t *ctx, tr_ref_t to, int type, const void *data, size_t len,
            tr_cont_fn cont, void *cookie, uint32_t timeout_ms) {
    return call_common(ctx, to, type, data, len, NULL, NULL, false, cont, cookie, timeout_ms);
}

int tr_call_move(tr_ctx_t *ctx, tr_ref_t to, int type, void *ptr, size_t len, tr_dtor_fn dtor,
                 tr_cont_fn cont, void *cookie, uint32_t timeout_ms) {
    return call_common(ctx, to, type, NULL, len, ptr, dtor, true, cont, cookie, timeout_ms);
}

/* ---- inbox dispatch (scheduler thread) ---- */

/* A call from another scheduler reached its callee's scheduler: queue it
 * (its place was reserved by the caller), or tell the caller why not. */
static void call_arrived(tr__sched_t *s, tr__inode_t *n) {
    tr__env_t *env = &n->env;
    uint16_t home = tr__chan_home(s, env->sender);
    tr__actor_t *a = tr__actor_get(s, n->to);
    bool evict = env->flags & TR__F_EVICT;
    env->flags &= ~TR__F_EVICT;
    int status = 0;
    tr_drop_reason_t why = TR_DROP_NONE;
    const char *detail = NULL;
    uint32_t depth = 0;
    if (!a) {
        /* accepted, then its actor stopped: the reservation died with the
         * old generation */
        status = TR_EDEAD;
        detail = "the actor stopped before the request reached its mailbox";
    } else if (evict) {
        int r = reserve(a->slot, a->ref.gen, &depth);
        if (r == TR_EFULL && evict_oldest(s, a)) r = reserve(a->slot, a->ref.gen, &depth);
        if (r) {
            TR__INC(s->c.drops_newest);
            count_drop(a);
            status = TR_EDROPPED;
            why = TR_DROP_OVERFLOW;
            detail = "mailbox full: request dropped (drop_oldest policy, nothing to evict)";
        }
    } else {
        depth = current_depth(a);
    }
    if (!status && tr__ring_push(&a->ring, env) != 0) {
        unreserve(a);
        status = TR_ENOMEM;
        detail = "out of memory queueing the request";
    }
    if (status) {
        tr__chan_answer(s, home, env->chan_idx, env->chan_gen, status, 0, why, detail, false,
                        NULL, 0);
        tr__env_destroy(env);
        return;
    }
    TR__INC(s->c.msgs_sent);
    if (depth > a->high_water) a->high_water = depth;
    if (depth >= a->hi_mark) tr__wm_check_high(s, a, depth);
    if (!(a->flags & (TR__A_IN_RUNQ | TR__A_RUNNING))) tr__schedule(s, a);
}

void tr__inbox_dispatch(tr__sched_t *s, tr__inode_t *n) {
    tr__actor_t *a;
    switch (n->kind) {
    case TR__IN_CALL:
        call_arrived(s, n);
        break;
    case TR__IN_REPLY:
        tr__chan_reply_arrived(s, n);
        break;
    case TR__IN_SYS:
        a = tr__actor_get(s, n->to);
        if (a && !(a->flags & TR__A_DEAD)) tr__actor_sys_append(s, a, n->ptr);
        else tr__sysmsg_free(n->ptr);
        break;
    case TR__IN_KILL:
        a = tr__actor_get(s, n->to);
        if (a && !(a->flags & (TR__A_DEAD | TR__A_RUNNING))) tr__actor_kill(s, a, n->ptr);
        free(n->ptr);
        break;
    case TR__IN_SPAWN:
        tr__spawn_remote_init(s, n);
        break;
    case TR__IN_MONITOR:
        tr__monitor_remote_add(s, n);
        break;
    case TR__IN_DEMONITOR:
        tr__monitor_remote_del(s, n);
        break;
    case TR__IN_TEARDOWN:
        tr__teardown_arrived(s, n);
        break;
    case TR__IN_SEND:
        a = tr__actor_get(s, n->to);
        if (!a) {
            /* accepted, then its actor died: the reservation died with the
             * old generation, the message is a dead letter */
            tr__dead_letter(s, &n->env);
        } else {
            bool reserved = !(n->env.flags & TR__F_EVICT);
            n->env.flags &= ~TR__F_EVICT;
            tr__deliver_local(s, a, &n->env, tr__ti_lookup(a->ti, n->env.type), reserved);
        }
        break;
    case TR__IN_CALL_SYNC:
        tr__call_start(s, NULL, n->sync, n->to, &n->env, NULL, NULL, n->timeout_ms);
        break;
    case TR__IN_STOP:
        a = tr__actor_get(s, n->to);
        if (a && !(a->flags & TR__A_STOP_QUEUED)) tr__actor_sys_push(s, a, TR__IN_STOP, n->arg);
        break;
    case TR__IN_SET_CAP:
        a = tr__actor_get(s, n->to);
        if (a) tr__actor_set_capacity(s, a, n->arg);
        break;
    default:
        TR__ASSERT(0, "unknown inbox node kind");
    }
    free(n);
}

int tr_call_sync(tr_runtime_t *rt, tr_ref_t to, int type, const void *data, size_t len,
                 tr_result_t *out, uint32_t timeout_ms) {
    if (out) memset(out, 0, sizeof(*out));
    if (!rt || !out || type <= 0 || len > UINT32_MAX || (len && !data)) return TR_EINVAL;
    /* a scheduler thread (or the owner, which runs scheduler 0 or steps)
     * would wait for itself */
    if (tr__current(rt) || pthread_equal(pthread_self(), rt->owner)) return TR_EWRONGTHREAD;
    if (rt->stopped) return TR_ESTOPPED;
    tr__sched_t *s = &rt->sched[to.sched < rt->nsched ? to.sched : 0];
    tr__inode_t *n = malloc(sizeof(*n));
    if (!n) return TR_ENOMEM;
    tr__sync_t w;
    memset(&w, 0, sizeof(w));
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    n->kind = TR__IN_CALL_SYNC;
    n->to = to;
    n->sync = &w;
    n->timeout_ms = timeout_ms;
    n->env.type = type;
    n->env.flags = 0;
    n->env.sender = TR_REF_NONE;
    if (tr__env_set_copy(&n->env, data, len) != 0) {
        free(n);
        pthread_mutex_destroy(&w.mu);
        pthread_cond_destroy(&w.cv);
        return TR_ENOMEM;
    }
    tr__post(s, n);
    pthread_mutex_lock(&w.mu);
    while (!w.done) pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    *out = w.res;
    return 0;
}

void tr_result_release(tr_result_t *r) {
    if (!r) return;
    free(r->heap_);
    memset(r, 0, sizeof(*r));
}
