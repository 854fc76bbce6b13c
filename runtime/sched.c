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
    tr_runtime_t *rt = s->rt;
    if (s->runq_head != NULL || atomic_load_explicit(&s->inbox.head, memory_order_relaxed) != NULL)
        return true;
    if (s->id != 0) return false; /* the runtime-wide requests are scheduler 0's */
    return (!atomic_load_explicit(&rt->shutting_down, memory_order_relaxed) &&
            atomic_load_explicit(&rt->shutdown_req, memory_order_relaxed)) ||
           atomic_load_explicit(&rt->reload_req, memory_order_relaxed);
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

/* Deliver a control message to a handler as a message of `type`. */
static void dispatch_sys(tr__sched_t *s, tr__actor_t *a, tr__sysmsg_t *m, int type,
                         const void *data, size_t len) {
    const tr_handler_t *h = tr__ti_lookup(a->ti, type);
    tr_msg_t *msg = &s->run_msg;
    msg->type = type;
    msg->len = (uint32_t)len;
    msg->data = data;
    msg->sender = m->from;
    msg->flags_ = 0;
    msg->chan_idx_ = msg->chan_gen_ = 0;
    s->run_kind = TR__RUN_SYS;
    s->run_sys = m;
    s->ctx.msg = msg;
    h->fn(&s->ctx, a->state, msg);
    s->ctx.msg = NULL;
    s->run_kind = TR__RUN_NONE;
}

/* Handle one control message. Returns 1 if a handler ran (it counts as a
 * message of the turn), 0 otherwise. */
static int run_sys_one(tr__sched_t *s, tr__actor_t *a) {
    tr__sysmsg_t *m = a->sys;
    a->sys = m->next;
    int ran = 0;
    switch (m->kind) {
    case TR__IN_STOP: {
        tr_stop_reason_t reason = (tr_stop_reason_t)m->arg;
        if (!(a->flags & TR__A_TRAPPED) && tr__ti_lookup(a->ti, TR_MSG_SHUTDOWN)) {
            /* trapped: tell the actor, which stops itself when done */
            a->flags |= TR__A_TRAPPED;
            a->flags &= ~TR__A_STOP_QUEUED; /* a second request stops it at once */
            tr__set_stop_reason(a, reason); /* what tr_stop_self will report */
            dispatch_sys(s, a, m, TR_MSG_SHUTDOWN, &reason, sizeof(reason));
            ran = 1;
        } else if (!(a->flags & TR__A_STOP_REQ)) {
            a->flags |= TR__A_STOP_REQ;
            tr__set_stop_reason(a, reason);
        }
        break;
    }
    case TR__SYS_EXIT:
        if (tr__ti_lookup(a->ti, TR__MSG_EXIT)) {
            tr__exit_t ex = {m->from, (tr_stop_reason_t)m->arg, m->detail ? m->detail : ""};
            dispatch_sys(s, a, m, TR__MSG_EXIT, &ex, sizeof(ex));
            ran = 1;
        }
        break;
    case TR__SYS_CONFIG:
        ran = tr__config_update(s, a, m);
        break;
    case TR__SYS_STARTED:
        if (tr__ti_lookup(a->ti, TR__MSG_STARTED)) {
            tr__exit_t ex = {m->from, m->arg ? TR_STOP_PANIC : TR_STOP_NORMAL,
                             m->detail ? m->detail : ""};
            dispatch_sys(s, a, m, TR__MSG_STARTED, &ex, sizeof(ex));
            ran = 1;
        }
        break;
    case TR__SYS_DOWN:
        if (m->remote && !tr__monitor_down_arrived(a, m->id)) break; /* demonitored */
        if (tr__ti_lookup(a->ti, TR_MSG_DOWN)) {
            tr_down_t d = {m->id, m->from, (tr_stop_reason_t)m->arg,
                           m->detail ? m->detail : tr_stop_reason_str((tr_stop_reason_t)m->arg)};
            tr__ev(s, TR_EV_DOWN, a->ref, m->from, TR_MSG_DOWN, (int32_t)m->arg);
            dispatch_sys(s, a, m, TR_MSG_DOWN, &d, sizeof(d));
            ran = 1;
        }
        break;
    default:
        break;
    }
    tr__sysmsg_free(m);
    return ran;
}

static void dispatch(tr__sched_t *s, tr__actor_t *a) {
    tr__env_t *env = &s->run_env;
    const tr_handler_t *h = tr__ti_lookup(a->ti, env->type);
    tr_handler_fn fn = h ? h->fn : a->ti->type->default_handler;
    tr_msg_t *msg = &s->run_msg;
    msg->type = env->type;
    msg->len = env->len;
    msg->data = tr__env_data(env);
    msg->sender = env->sender;
    msg->flags_ = env->flags;
    msg->chan_idx_ = env->chan_idx;
    msg->chan_gen_ = env->chan_gen;
    if (TR__UNLIKELY(!fn)) { /* validated at send time; defensive */
        tr__discard_env(s, env, TR_DROP_DISCARDED, "no handler for this message type", false);
        return;
    }
    tr__ev(s, TR_EV_HANDLE, a->ref, env->sender, env->type, 0);
    s->run_kind = TR__RUN_MSG;
    s->ctx.msg = msg;
    fn(&s->ctx, a->state, msg);
    s->ctx.msg = NULL;
    s->run_kind = TR__RUN_NONE;
    if (msg->flags_ & TR__F_CALL) tr__chan_after_handler(s, msg);
    if (!(msg->flags_ & TR__F_TAKEN)) tr__env_destroy(env);
    if (TR__UNLIKELY(env->flags & TR__F_NOCAP)) {
        const tr_fd_event_t *ev = (const tr_fd_event_t *)env->p.inl;
        tr__fd_rearm(s, a, ev->fd);
    }
}

/* The end of a turn (also after a panic): counters, watermarks, and either
 * teardown, requeue or rest. */
static void end_turn(tr__sched_t *s, tr__actor_t *a) {
    uint32_t n = s->run_n;
    tr__wd_reset(s);
    if (TR__UNLIKELY(s->turn_t0)) {
        tr__extra_t *x = tr__actor_extra(a);
        if (x) x->busy_ns += tr__mono_ns() - s->turn_t0;
        s->turn_t0 = 0;
    }
    s->ctx.actor = NULL;
    s->run_actor = NULL;
    a->handled += n;
    s->handled_total += n;
    TR__ADD(s->c.msgs_handled, n);
    a->flags &= ~TR__A_RUNNING;
}

static void run_actor(tr__sched_t *s, tr__actor_t *a) {
    uint32_t batch = s->rt->opts.batch;
    s->run_n = 0;
    s->run_actor = a;
    if (TR__UNLIKELY(s->rt->opts.handler_timing)) s->turn_t0 = tr__mono_ns();
    a->flags |= TR__A_RUNNING;
    s->ctx.actor = a;
    while (s->run_n < batch) {
        if (TR__UNLIKELY(a->flags & TR__A_STOP_REQ)) break;
        if (TR__UNLIKELY(a->sys != NULL)) {
            tr__wd_enter(s);
            s->run_n += (uint32_t)run_sys_one(s, a);
            tr__wd_leave(s);
            continue;
        }
        if (a->rq_head) {
            tr__chan_t *c = a->rq_head;
            a->rq_head = c->next;
            if (!a->rq_head) a->rq_tail = NULL;
            s->run_kind = TR__RUN_CONT;
            s->run_chan = c;
            tr__wd_enter(s);
            tr__chan_run_cont(s, a, c);
            tr__wd_leave(s);
            s->run_kind = TR__RUN_NONE;
        } else if (a->ring.count) {
            tr__ring_pop(&a->ring, &s->run_env);
            /* the place is free as soon as the message leaves the ring */
            if (TR__LIKELY(!(s->run_env.flags & TR__F_NOCAP))) tr__slot_release_places(a->slot, 1);
            tr__wd_enter(s);
            dispatch(s, a);
            tr__wd_leave(s);
        } else {
            break;
        }
        s->run_n++;
    }
    end_turn(s, a);
    if (TR__UNLIKELY(a->flags & TR__A_WM_HIGH)) wm_check_low(s, a);
    if (TR__UNLIKELY(a->flags & TR__A_STOP_REQ)) {
        tr__actor_teardown_ex(s, a, tr__stop_reason(a), a->x ? a->x->exit_detail : NULL);
    } else if (a->ring.count || a->rq_head || a->sys) {
        tr__schedule(s, a);
    }
}

/* A handler (or continuation, or control handler) of the running actor
 * panicked and was unwound to run_turns: report, clean up the work item
 * and tear the actor down (actor.c finishes the work item's channel). */
static void recover(tr__sched_t *s) {
    tr__actor_t *a = s->run_actor;
    TR__ASSERT(a != NULL, "panic without a running actor");
    s->ctx.msg = NULL;
    s->run_what = NULL;
    tr__panic_report(s, a, NULL);
    s->run_n++; /* the message that panicked was handled, after a fashion */
    end_turn(s, a);
    tr__actor_teardown_panic(s, a);
}

/* The work item a panic interrupted, cleaned up once its actor is torn
 * down: a call resolves DropWithoutReport (panicked), a payload's destructor
 * runs, a continuation's channel is released. Called from teardown. */
void tr__panic_drop_current(tr__sched_t *s) {
    switch (s->run_kind) {
    case TR__RUN_MSG: {
        tr_msg_t *m = &s->run_msg;
        if ((m->flags_ & TR__F_CALL) && !(m->flags_ & (TR__F_REPLIED | TR__F_KEPT)))
            tr__chan_answer(s, tr__chan_home(s, m->sender), m->chan_idx_, m->chan_gen_,
                            TR_EDROPPED, 0, TR_DROP_PANICKED, s->panic.detail, true, NULL, 0);
        if (!(m->flags_ & TR__F_TAKEN)) tr__env_destroy(&s->run_env);
        break;
    }
    case TR__RUN_CONT:
        tr__chan_release(s, s->run_chan);
        break;
    case TR__RUN_SYS:
        tr__sysmsg_free(s->run_sys);
        break;
    default:
        break;
    }
    s->run_kind = TR__RUN_NONE;
    s->run_chan = NULL;
    s->run_sys = NULL;
}

/* Run actor turns until the budget or the run queue is spent, inside one
 * protected region: a panic lands back here, the panicking actor is torn
 * down, and the pass goes on with the next actor (one sigsetjmp per pass,
 * not per message). */
static void run_turns(tr__sched_t *s) {
    tr__pframe_t f;
    tr__pframe_push(s, &f);
    if (sigsetjmp(f.jb, 0) != 0) recover(s);
    while (s->turns_left && s->runq_head) {
        s->turns_left--;
        tr__actor_t *a = s->runq_head;
        s->runq_head = a->runq_next;
        if (!s->runq_head) s->runq_tail = NULL;
        a->flags &= ~TR__A_IN_RUNQ;
        atomic_store_explicit(&s->runq_len,
                              atomic_load_explicit(&s->runq_len, memory_order_relaxed) - 1,
                              memory_order_relaxed);
        if (TR__UNLIKELY(a->flags & TR__A_DEAD)) {
            tr__actor_free(s, a);
            continue;
        }
        run_actor(s, a);
        if (TR__UNLIKELY(s->wm_len)) tr__flush_wm_events(s);
    }
    tr__pframe_pop(s, &f);
}

void tr__drain_inbox(tr__sched_t *s) {
    tr__inode_t *n = tr__inbox_take(&s->inbox);
    uint64_t k = 0;
    while (n) {
        tr__inode_t *next = n->next;
        tr__inbox_dispatch(s, n);
        n = next;
        k++;
    }
    if (k) TR__ADD(s->c.remote_in, k);
}

int tr__run_pass(tr__sched_t *s) {
    uint64_t before = s->handled_total;
    TR__INC(s->c.loop_passes);
    s->pass_now_ms = tr__now_ms(s);
    tr__drain_inbox(s);
    tr__timers_fire(s, s->pass_now_ms); /* manual clock: only what is already due */
    s->turns_left = s->rt->opts.pass_budget;
    if (s->runq_head) run_turns(s);
    if (s->wm_len) tr__flush_wm_events(s);
    return (int)(s->handled_total - before);
}
