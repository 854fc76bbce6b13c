/* runtime/sched.c: the scheduler's run queue and actor turns. An actor with
 * work sits once in a FIFO run queue; a turn handles its system lane, then up
 * to `batch` continuations and user messages, then the actor goes to the back
 * of the queue (Pony's PONY_SCHED_BATCH). A pass runs up to `pass_budget`
 * turns and then returns to libev so IO and timers are never starved, while
 * one epoll_wait serves many dispatches. Scheduler thread only. */
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

bool tr__has_work(tr__sched_t *s) {
    return s->runq_head != NULL ||
           atomic_load_explicit(&s->inbox.head, memory_order_relaxed) != NULL;
}

void tr__ctx_enter(tr__sched_t *s, tr__actor_t *a, tr_msg_t *msg, tr_ctx_t *saved) {
    *saved = s->ctx;
    s->ctx.actor = a;
    s->ctx.msg = msg;
}

void tr__ctx_leave(tr__sched_t *s, const tr_ctx_t *saved) { s->ctx = *saved; }

static void wm_event(tr__sched_t *s, tr__actor_t *a, uint32_t depth, int high) {
    if (high) TR__INC(s->c.watermark_high);
    else TR__INC(s->c.watermark_low);
    tr__log(s->rt, TR_LOG_DEBUG, "mailbox of %s (actor %u.%u) %s watermark: %u/%u",
            a->ti->type->name, a->ref.slot, a->ref.gen, high ? "above high" : "back to low",
            depth, tr__slot_cap(a->slot));
    if (!s->rt->opts.on_watermark) return;
    if (s->wm_len == s->wm_cap) {
        uint32_t ncap = s->wm_cap ? s->wm_cap * 2 : 16;
        tr__wm_event_t *nv = realloc(s->wm_ev, ncap * sizeof(*nv));
        if (!nv) return; /* the counter above still records it */
        s->wm_ev = nv;
        s->wm_cap = ncap;
    }
    s->wm_ev[s->wm_len++] = (tr__wm_event_t){
        a->ref, a->ti->type->name, depth,
        tr__slot_cap(a->slot), high};
}

void tr__wm_check_high(tr__sched_t *s, tr__actor_t *a, uint32_t depth) {
    if (a->flags & TR__A_WM_HIGH) return;
    a->flags |= TR__A_WM_HIGH;
    wm_event(s, a, depth, 1);
}

static void wm_check_low(tr__sched_t *s, tr__actor_t *a) {
    uint32_t depth = tr__slot_depth(a->slot);
    if (depth > a->lo_mark) return;
    a->flags &= ~TR__A_WM_HIGH;
    wm_event(s, a, depth, 0);
}

/* Report queued watermark events, outside any handler. */
void tr__flush_wm_events(tr__sched_t *s) {
    for (uint32_t i = 0; i < s->wm_len; i++) {
        tr__wm_event_t *e = &s->wm_ev[i];
        s->rt->opts.on_watermark(s->rt->opts.watermark_arg, e->ref, e->type_name, e->depth,
                                 e->capacity, e->high);
    }
    s->wm_len = 0;
}

static void run_sys(tr__sched_t *s, tr__actor_t *a) {
    while (a->sys) {
        tr__sysmsg_t *m = a->sys;
        a->sys = m->next;
        if (m->kind == TR__IN_STOP) {
            a->flags |= TR__A_STOP_REQ;
            if (m->arg == TR_STOP_SHUTDOWN) a->flags |= TR__A_SHUTDOWN;
        }
        free(m);
    }
}

static void dispatch(tr__sched_t *s, tr__actor_t *a, tr__env_t *env) {
    const tr_handler_t *h = tr__ti_lookup(a->ti, env->type);
    tr_handler_fn fn = h ? h->fn : a->ti->type->default_handler;
    tr_msg_t msg;
    msg.type = env->type;
    msg.len = env->len;
    msg.data = tr__env_data(env);
    msg.sender = env->sender;
    msg.flags_ = env->flags;
    msg.chan_idx_ = env->chan_idx;
    msg.chan_gen_ = env->chan_gen;
    if (TR__UNLIKELY(!fn)) { /* validated at send time; defensive */
        tr__discard_env(s, env, TR_DROP_DISCARDED, "no handler for this message type");
        return;
    }
    s->ctx.actor = a;
    s->ctx.msg = &msg;
    fn(&s->ctx, a->state, &msg);
    s->ctx.msg = NULL;
    if (msg.flags_ & TR__F_CALL) tr__chan_after_handler(s, &msg);
    if (!(msg.flags_ & TR__F_TAKEN)) tr__env_destroy(env);
    if (TR__UNLIKELY(env->flags & TR__F_NOCAP)) {
        const tr_fd_event_t *ev = (const tr_fd_event_t *)env->p.inl;
        tr__fd_rearm(s, a, ev->fd);
    }
}

static void run_actor(tr__sched_t *s, tr__actor_t *a) {
    uint32_t batch = s->rt->opts.batch, n = 0;
    a->flags |= TR__A_RUNNING;
    s->ctx.actor = a;
    while (n < batch) {
        if (TR__UNLIKELY(a->sys != NULL)) run_sys(s, a);
        if (TR__UNLIKELY(a->flags & TR__A_STOP_REQ)) break;
        if (a->rq_head) {
            tr__chan_t *c = a->rq_head;
            a->rq_head = c->next;
            if (!a->rq_head) a->rq_tail = NULL;
            tr__chan_run_cont(s, a, c);
        } else if (a->ring.count) {
            tr__env_t env;
            tr__ring_pop(&a->ring, &env);
            /* the place is free as soon as the message leaves the ring */
            if (TR__LIKELY(!(env.flags & TR__F_NOCAP))) tr__slot_release_places(a->slot, 1);
            dispatch(s, a, &env);
        } else {
            break;
        }
        n++;
    }
    s->ctx.actor = NULL;
    a->handled += n;
    s->handled_total += n;
    TR__ADD(s->c.msgs_handled, n);
    a->flags &= ~TR__A_RUNNING;
    if (TR__UNLIKELY(a->flags & TR__A_WM_HIGH)) wm_check_low(s, a);
    if (TR__UNLIKELY(a->flags & TR__A_STOP_REQ)) {
        tr__actor_teardown(s, a, (a->flags & TR__A_SHUTDOWN) ? TR_STOP_SHUTDOWN : TR_STOP_NORMAL);
    } else if (a->ring.count || a->rq_head || a->sys) {
        tr__schedule(s, a);
    }
}

void tr__drain_inbox(tr__sched_t *s) {
    tr__inode_t *n = tr__inbox_take(&s->inbox);
    while (n) {
        tr__inode_t *next = n->next;
        tr__inbox_dispatch(s, n);
        n = next;
    }
}

int tr__run_pass(tr__sched_t *s) {
    uint64_t before = s->handled_total;
    TR__INC(s->c.loop_passes);
    s->pass_now_ms = tr__now_ms(s);
    tr__drain_inbox(s);
    tr__timers_fire(s, s->pass_now_ms); /* manual clock: only what is already due */
    for (uint32_t budget = s->rt->opts.pass_budget; budget && s->runq_head; budget--) {
        tr__actor_t *a = s->runq_head;
        s->runq_head = a->runq_next;
        if (!s->runq_head) s->runq_tail = NULL;
        a->flags &= ~TR__A_IN_RUNQ;
        if (TR__UNLIKELY(a->flags & TR__A_DEAD)) {
            tr__actor_free(s, a);
            continue;
        }
        run_actor(s, a);
        if (TR__UNLIKELY(s->wm_len)) tr__flush_wm_events(s);
    }
    if (s->wm_len) tr__flush_wm_events(s);
    return (int)(s->handled_total - before);
}
