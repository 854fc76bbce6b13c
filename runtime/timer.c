/* runtime/timer.c: one binary min-heap of deadlines per scheduler, holding
 * call timeouts and actor timers, ordered by (deadline, creation sequence) so
 * equal deadlines fire in creation order. In real-clock mode one ev_timer is
 * armed for the earliest deadline (re-armed lazily before the loop blocks,
 * so a call that completes quickly costs a heap insert and remove, not a
 * libev timer restart); under the manual clock, time moves only with
 * tr_runtime_advance. Durations are integer milliseconds; ev_tstamp appears
 * only in tr__timers_rearm. Scheduler thread only. */
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

static bool before(const tr__tnode_t *a, const tr__tnode_t *b) {
    return a->deadline_ms < b->deadline_ms ||
           (a->deadline_ms == b->deadline_ms && a->seq < b->seq);
}

static void place(tr__sched_t *s, uint32_t i, tr__tnode_t *n) {
    s->heap[i] = n;
    n->heap_idx = i;
}

static void sift_up(tr__sched_t *s, uint32_t i) {
    tr__tnode_t *n = s->heap[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!before(n, s->heap[p])) break;
        place(s, i, s->heap[p]);
        i = p;
    }
    place(s, i, n);
}

static void sift_down(tr__sched_t *s, uint32_t i) {
    tr__tnode_t *n = s->heap[i];
    for (;;) {
        uint32_t l = 2 * i + 1, m = i;
        tr__tnode_t *best = n;
        if (l < s->heap_len && before(s->heap[l], best)) m = l, best = s->heap[l];
        if (l + 1 < s->heap_len && before(s->heap[l + 1], best)) m = l + 1, best = s->heap[l + 1];
        if (m == i) break;
        place(s, i, best);
        i = m;
    }
    place(s, i, n);
}

int tr__heap_push(tr__sched_t *s, tr__tnode_t *n, uint64_t deadline_ms) {
    if (s->heap_len == s->heap_cap) {
        uint32_t ncap = s->heap_cap ? s->heap_cap * 2 : 64;
        tr__tnode_t **nh = realloc(s->heap, ncap * sizeof(*nh));
        if (!nh) return TR_ENOMEM;
        s->heap = nh;
        s->heap_cap = ncap;
    }
    n->deadline_ms = deadline_ms;
    n->seq = s->timer_seq++;
    place(s, s->heap_len++, n);
    sift_up(s, n->heap_idx);
    return 0;
}

void tr__heap_remove(tr__sched_t *s, tr__tnode_t *n) {
    uint32_t i = n->heap_idx;
    TR__ASSERT(i < s->heap_len && s->heap[i] == n, "timer not in the heap");
    tr__tnode_t *last = s->heap[--s->heap_len];
    n->heap_idx = UINT32_MAX;
    if (i == s->heap_len) return;
    place(s, i, last);
    sift_down(s, i);
    sift_up(s, last->heap_idx);
}

uint64_t tr__timers_next(tr__sched_t *s) {
    return s->heap_len ? s->heap[0]->deadline_ms : UINT64_MAX;
}

static void fire_actor_timer(tr__sched_t *s, tr__atimer_t *t, uint64_t now) {
    tr__actor_t *a = t->actor;
    tr__env_t env = t->tmpl;
    bool last = t->repeat_ms == 0;
    if (!last && (env.flags & TR__F_MOVED)) {
        /* a repeating timer keeps its template; each firing gets a copy */
        env.flags &= ~TR__F_MOVED;
        if (tr__env_set_copy(&env, t->tmpl.p.mv.ptr, t->tmpl.len) != 0) {
            TR__INC(s->c.dead_letters);
            goto rearm;
        }
    }
    if (last) {
        /* one-shot: unlink, the envelope takes the template's payload */
        tr__atimer_t **pp = &a->x->timers;
        while (*pp != t) pp = &(*pp)->next;
        *pp = t->next;
        free(t);
    }
    if (tr__deliver_local(s, a, &env, tr__ti_lookup(a->ti, env.type), false) == TR_EFULL)
        TR__INC(s->c.dead_letters);
    if (last) return;
rearm:;
    uint64_t next = t->node.deadline_ms + t->repeat_ms;
    if (next <= now) next = now + t->repeat_ms;
    if (tr__heap_push(s, &t->node, next) != 0) {
        /* cannot re-arm: stop the timer and say so */
        tr__log(s->rt, TR_LOG_ERROR, "out of memory re-arming a periodic timer of %s",
                a->ti->type->name);
        tr__atimer_t **pp = &a->x->timers;
        while (*pp != t) pp = &(*pp)->next;
        *pp = t->next;
        tr__env_destroy(&t->tmpl);
        free(t);
    }
}

int tr__timers_fire(tr__sched_t *s, uint64_t now) {
    int fired = 0;
    while (s->heap_len && s->heap[0]->deadline_ms <= now) {
        tr__tnode_t *n = s->heap[0];
        tr__heap_remove(s, n);
        fired++;
        if (n->kind == TR__TM_CALL)
            tr__chan_timeout(s, TR__CONTAINER_OF(n, tr__chan_t, timer));
        else if (n->kind == TR__TM_STALL)
            tr__stall_check(s);
        else
            fire_actor_timer(s, TR__CONTAINER_OF(n, tr__atimer_t, node), now);
    }
    return fired;
}

void tr__timers_rearm(tr__sched_t *s) {
    if (s->rt->opts.manual_clock) return;
    uint64_t next = tr__timers_next(s);
    if (next == UINT64_MAX) {
        if (s->timer_armed_ms != TR__UNARMED) {
            ev_timer_stop(s->loop, &s->timer);
            s->timer_armed_ms = TR__UNARMED;
        }
        return;
    }
    if (s->timer_armed_ms == next) return;
    uint64_t now = tr__now_ms(s);
    ev_timer_stop(s->loop, &s->timer);
    ev_timer_set(&s->timer, next > now ? (ev_tstamp)(next - now) / 1e3 : 0., 0.);
    ev_timer_start(s->loop, &s->timer);
    s->timer_armed_ms = next;
}

void tr__actor_timers_cancel(tr__sched_t *s, tr__actor_t *a) {
    if (!a->x) return;
    while (a->x->timers) {
        tr__atimer_t *t = a->x->timers;
        a->x->timers = t->next;
        if (t->node.heap_idx != UINT32_MAX) tr__heap_remove(s, &t->node);
        tr__env_destroy(&t->tmpl);
        free(t);
    }
}

int64_t tr_timer_start(tr_ctx_t *ctx, uint32_t after_ms, uint32_t repeat_ms, int type,
                       const void *data, size_t len) {
    if (!ctx || !ctx->actor) return TR_EINVAL;
    tr__sched_t *s = ctx->s;
    tr__actor_t *a = ctx->actor;
    const tr_handler_t *h;
    int err = tr__check_type(a->ti, type, len, data, &h);
    if (err) return err;
    tr__extra_t *x = tr__actor_extra(a);
    tr__atimer_t *t = x ? malloc(sizeof(*t)) : NULL;
    if (!t) return TR_ENOMEM;
    memset(t, 0, sizeof(*t));
    t->node.kind = TR__TM_ACTOR;
    t->node.heap_idx = UINT32_MAX;
    t->repeat_ms = repeat_ms;
    t->actor = a;
    t->tmpl.type = type;
    t->tmpl.flags = 0;
    t->tmpl.sender = a->ref;
    if (tr__env_set_copy(&t->tmpl, data, len) != 0 ||
        tr__heap_push(s, &t->node, tr__now_ms(s) + after_ms) != 0) {
        tr__env_destroy(&t->tmpl);
        free(t);
        return TR_ENOMEM;
    }
    t->id = ++s->next_timer_id;
    t->next = x->timers;
    x->timers = t;
    return t->id;
}

int tr_timer_cancel(tr_ctx_t *ctx, int64_t timer_id) {
    if (!ctx || !ctx->actor) return TR_EINVAL;
    tr__actor_t *a = ctx->actor;
    if (!a->x) return TR_EALREADY;
    for (tr__atimer_t **pp = &a->x->timers; *pp; pp = &(*pp)->next) {
        tr__atimer_t *t = *pp;
        if (t->id != timer_id) continue;
        *pp = t->next;
        if (t->node.heap_idx != UINT32_MAX) tr__heap_remove(ctx->s, &t->node);
        tr__env_destroy(&t->tmpl);
        free(t);
        return 0;
    }
    return TR_EALREADY;
}
