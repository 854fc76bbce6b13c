/* supervisor/monitor.c: monitors (OTP's erlang:monitor/2). A monitor is a
 * node in two lists: the target's watchers (mon_in) and the watcher's
 * monitors (mon_out), so either side's stop removes it in O(its monitors).
 * DOWN travels on the watcher's system lane, so a full mailbox cannot lose
 * it. Across schedulers each side keeps its own node (the watcher's with
 * target NULL, the target's with watcher NULL) and they talk through the
 * inboxes: MONITOR and DEMONITOR one way, DOWN the other. A DOWN from a
 * monitor the watcher dropped meanwhile is discarded on arrival, so after
 * tr_demonitor no DOWN of that monitor is ever delivered (OTP's promise).
 * Each scheduler touches only its own actors' nodes. */
#include <stdlib.h>

#include "runtime/internal.h"

static void link_target(tr__extra_t *tx, tr__mon_t *m) {
    m->t_prev = NULL;
    m->t_next = tx->mon_in;
    if (tx->mon_in) tx->mon_in->t_prev = m;
    tx->mon_in = m;
}

static void link_watcher(tr__extra_t *wx, tr__mon_t *m) {
    m->w_prev = NULL;
    m->w_next = wx->mon_out;
    if (wx->mon_out) wx->mon_out->w_prev = m;
    wx->mon_out = m;
}

static void post_demonitor(tr__sched_t *s, tr_ref_t target, tr_ref_t watcher, int64_t id) {
    tr__inode_t *n = calloc(1, sizeof(*n));
    if (!n) return; /* its DOWN, if one comes, is discarded on arrival */
    n->kind = TR__IN_DEMONITOR;
    n->to = target;
    n->from = watcher;
    n->id = id;
    tr__post(&s->rt->sched[target.sched], n);
}

static void unlink_target(tr__mon_t *m) {
    tr__extra_t *x = m->target->x;
    if (m->t_prev) m->t_prev->t_next = m->t_next;
    else x->mon_in = m->t_next;
    if (m->t_next) m->t_next->t_prev = m->t_prev;
}

static void unlink_watcher(tr__mon_t *m) {
    tr__extra_t *x = m->watcher->x;
    if (m->w_prev) m->w_prev->w_next = m->w_next;
    else x->mon_out = m->w_next;
    if (m->w_next) m->w_next->w_prev = m->w_prev;
}

int64_t tr_monitor(tr_ctx_t *ctx, tr_ref_t target) {
    if (!ctx || !ctx->actor) return TR_EWRONGTHREAD;
    tr__sched_t *s = ctx->s;
    tr__actor_t *w = ctx->actor;
    if (!tr__ti_lookup(w->ti, TR_MSG_DOWN)) return TR_ENOHANDLER;
    int64_t id = ++s->next_monitor_id;
    if (target.sched != s->id && target.sched < s->rt->nsched &&
        tr_actor_alive(s->rt, target)) {
        /* the target lives on another scheduler: our node here, its node
         * there */
        tr__extra_t *wx = tr__actor_extra(w);
        tr__mon_t *m = wx ? calloc(1, sizeof(*m)) : NULL;
        tr__inode_t *n = m ? calloc(1, sizeof(*n)) : NULL;
        if (!n) {
            free(m);
            return TR_ENOMEM;
        }
        m->id = id;
        m->watcher = w;
        m->peer = target;
        link_watcher(wx, m);
        n->kind = TR__IN_MONITOR;
        n->to = target;
        n->from = w->ref;
        n->id = id;
        tr__post(&s->rt->sched[target.sched], n);
        return id;
    }
    tr__actor_t *t = tr__actor_get(s, target);
    if (!t || (t->flags & TR__A_DEAD)) {
        /* already dead: DOWN with noproc at once, as OTP */
        TR__INC(s->c.downs);
        tr__actor_sys_notify(s, w, TR__SYS_DOWN, target, id, TR_STOP_NOPROC,
                             "the monitored actor was not alive");
        return id;
    }
    tr__extra_t *wx = tr__actor_extra(w), *tx = tr__actor_extra(t);
    tr__mon_t *m = wx && tx ? calloc(1, sizeof(*m)) : NULL;
    if (!m) return TR_ENOMEM;
    m->id = id;
    m->watcher = w;
    m->target = t;
    link_target(tx, m);
    link_watcher(wx, m);
    return id;
}

int tr_demonitor(tr_ctx_t *ctx, int64_t id) {
    if (!ctx || !ctx->actor) return TR_EWRONGTHREAD;
    tr__actor_t *w = ctx->actor;
    if (!w->x) return TR_ENOTFOUND;
    for (tr__mon_t *m = w->x->mon_out; m; m = m->w_next) {
        if (m->id != id) continue;
        if (m->target) unlink_target(m);
        else post_demonitor(ctx->s, m->peer, w->ref, id);
        unlink_watcher(m);
        free(m);
        return 0;
    }
    return TR_ENOTFOUND;
}

void tr__monitors_on_stop(tr__sched_t *s, tr__actor_t *a, tr_stop_reason_t reason,
                          const char *detail) {
    tr__extra_t *x = a->x;
    if (!x) return;
    while (x->mon_in) { /* watchers of `a` get DOWN */
        tr__mon_t *m = x->mon_in;
        unlink_target(m);
        TR__INC(s->c.downs);
        if (m->watcher) {
            unlink_watcher(m);
            tr__actor_sys_notify(s, m->watcher, TR__SYS_DOWN, a->ref, m->id, reason, detail);
        } else {
            tr__sys_notify_ref(s, m->peer, TR__SYS_DOWN, a->ref, m->id, reason, detail);
        }
        free(m);
    }
    while (x->mon_out) { /* what `a` watched no longer needs telling */
        tr__mon_t *m = x->mon_out;
        if (m->target) unlink_target(m);
        else post_demonitor(s, m->peer, a->ref, m->id);
        unlink_watcher(m);
        free(m);
    }
}

void tr__monitor_remote_add(tr__sched_t *s, tr__inode_t *n) {
    tr__actor_t *t = tr__actor_get(s, n->to);
    tr__extra_t *tx = t && !(t->flags & TR__A_DEAD) ? tr__actor_extra(t) : NULL;
    tr__mon_t *m = tx ? calloc(1, sizeof(*m)) : NULL;
    if (!m) {
        /* gone already (or no memory to watch it): DOWN with noproc */
        TR__INC(s->c.downs);
        tr__sys_notify_ref(s, n->from, TR__SYS_DOWN, n->to, n->id, TR_STOP_NOPROC,
                           tx ? "out of memory monitoring the actor"
                              : "the monitored actor was not alive");
        return;
    }
    m->id = n->id;
    m->target = t;
    m->peer = n->from;
    link_target(tx, m);
}

void tr__monitor_remote_del(tr__sched_t *s, tr__inode_t *n) {
    tr__actor_t *t = tr__actor_get(s, n->to);
    if (!t || !t->x) return;
    for (tr__mon_t *m = t->x->mon_in; m; m = m->t_next) {
        if (m->watcher || m->id != n->id || !tr_ref_eq(m->peer, n->from)) continue;
        unlink_target(m);
        free(m);
        return;
    }
}

bool tr__monitor_down_arrived(tr__actor_t *a, int64_t id) {
    if (!a->x) return false;
    for (tr__mon_t *m = a->x->mon_out; m; m = m->w_next) {
        if (m->target || m->id != id) continue;
        unlink_watcher(m);
        free(m);
        return true;
    }
    return false;
}
