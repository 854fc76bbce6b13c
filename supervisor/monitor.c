/* supervisor/monitor.c: monitors (OTP's erlang:monitor/2). A monitor is a
 * node in two lists: the target's watchers (mon_in) and the watcher's
 * monitors (mon_out), so either side's stop removes it in O(its monitors).
 * DOWN travels on the watcher's system lane, so a full mailbox cannot lose
 * it. Scheduler thread only. */
#include <stdlib.h>

#include "runtime/internal.h"

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
    tr__actor_t *t = tr__actor_get(s->rt, target);
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
    m->t_next = tx->mon_in;
    if (tx->mon_in) tx->mon_in->t_prev = m;
    tx->mon_in = m;
    m->w_next = wx->mon_out;
    if (wx->mon_out) wx->mon_out->w_prev = m;
    wx->mon_out = m;
    return id;
}

int tr_demonitor(tr_ctx_t *ctx, int64_t id) {
    if (!ctx || !ctx->actor) return TR_EWRONGTHREAD;
    tr__actor_t *w = ctx->actor;
    if (!w->x) return TR_ENOTFOUND;
    for (tr__mon_t *m = w->x->mon_out; m; m = m->w_next) {
        if (m->id != id) continue;
        unlink_target(m);
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
        unlink_watcher(m);
        TR__INC(s->c.downs);
        tr__actor_sys_notify(s, m->watcher, TR__SYS_DOWN, a->ref, m->id, reason, detail);
        free(m);
    }
    while (x->mon_out) { /* what `a` watched no longer needs telling */
        tr__mon_t *m = x->mon_out;
        unlink_target(m);
        unlink_watcher(m);
        free(m);
    }
}
