/* runtime/events.c: the per-scheduler event rings, a flight recorder of
 * recent runtime events (spawn, send, handle, reply, drop, panic, restart,
 * stop, down, stall). Fixed-size records in a power-of-two ring per
 * scheduler, written with plain stores on that scheduler's thread; the
 * oldest are overwritten. Panic scenes take the panicking actor's events
 * from its scheduler's ring; the debug socket's `trace` and
 * tr_runtime_events merge every ring by time.
 * Threads: a ring is written by its scheduler only, so it is read by that
 * scheduler, or by anyone with the world stopped (tr__world_stop) or
 * stepping: never concurrently with its writer. */
#include <stdlib.h>
#include <string.h>

#include "runtime/diag.h"

int tr__events_init(tr__sched_t *s, uint32_t n) {
    uint32_t size = 1;
    while (size < n) size <<= 1;
    s->ev = calloc(size, sizeof(*s->ev));
    if (!s->ev) return TR_ENOMEM;
    s->ev_mask = size - 1;
    s->ev_n = 0;
    return 0;
}

const char *tr_event_kind_name(tr_event_kind_t kind) {
    switch (kind) {
    case TR_EV_SPAWN: return "spawn";
    case TR_EV_SEND: return "send";
    case TR_EV_HANDLE: return "handle";
    case TR_EV_REPLY: return "reply";
    case TR_EV_DROP: return "drop";
    case TR_EV_PANIC: return "panic";
    case TR_EV_RESTART: return "restart";
    case TR_EV_STOP: return "stop";
    case TR_EV_DOWN: return "down";
    case TR_EV_STALL: return "stall";
    }
    return "unknown";
}

static uint64_t ring_len(const tr__sched_t *s) {
    uint64_t size = (uint64_t)s->ev_mask + 1;
    return s->ev_n < size ? s->ev_n : size;
}

size_t tr__events_of(tr__sched_t *s, tr_ref_t a, tr_event_t *out, size_t cap) {
    size_t k = 0;
    uint64_t len = ring_len(s);
    /* newest first until `cap` are found, then reverse into oldest first */
    for (uint64_t i = 0; i < len && k < cap; i++) {
        const tr_event_t *e = &s->ev[(s->ev_n - 1 - i) & s->ev_mask];
        if (tr_ref_eq(e->actor, a) || tr_ref_eq(e->peer, a)) out[k++] = *e;
    }
    for (size_t i = 0; i < k / 2; i++) {
        tr_event_t t = out[i];
        out[i] = out[k - 1 - i];
        out[k - 1 - i] = t;
    }
    return k;
}

/* Walks every ring from its newest event and fills out from the back, so
 * the result is the most recent `cap` across schedulers, oldest first. Each
 * ring is already in time order; a k-way merge keeps that order, and equal
 * times are ordered by scheduler id (a ring records milliseconds, so events
 * of one millisecond on two schedulers have no truer order). */
size_t tr__events_merged(tr_runtime_t *rt, const tr_ref_t *who, tr_event_t *out, size_t cap) {
    uint64_t left[TR_SCHEDULERS_MAX]; /* events not yet visited, per ring */
    uint16_t ns = rt->nsched <= TR_SCHEDULERS_MAX ? rt->nsched : TR_SCHEDULERS_MAX;
    uint64_t avail = 0;
    for (uint16_t i = 0; i < ns; i++) avail += left[i] = ring_len(&rt->sched[i]);
    size_t k = cap;
    if (!who) /* every event is taken: place them from the right offset */
        k = avail < cap ? (size_t)avail : cap;
    size_t n = k;
    while (k) {
        const tr_event_t *best = NULL;
        uint16_t bi = 0;
        for (uint16_t i = 0; i < ns; i++) {
            if (!left[i]) continue;
            const tr__sched_t *s = &rt->sched[i];
            const tr_event_t *e = &s->ev[(s->ev_n - 1 - (ring_len(s) - left[i])) & s->ev_mask];
            if (!best || e->time_ms >= best->time_ms) { /* >=: a later ring wins a tie */
                best = e;
                bi = i;
            }
        }
        if (!best) break;
        left[bi]--;
        if (who && !tr_ref_eq(best->actor, *who) && !tr_ref_eq(best->peer, *who)) continue;
        out[--k] = *best;
    }
    if (k) { /* `who` had fewer than cap events: close the gap */
        memmove(out, out + k, (n - k) * sizeof(*out));
        n -= k;
    }
    return n;
}

int64_t tr_runtime_events(tr_runtime_t *rt, tr_event_t *out, size_t cap) {
    if (!rt || (!out && cap)) return TR_EINVAL;
    tr__sched_t *s0 = &rt->sched[0];
    /* Alone on the rings: the owner thread stepping (it runs every
     * scheduler), or the single scheduler's own thread (inside handlers
     * too, as always). */
    if (tr__stepping(rt) || (rt->nsched == 1 && tr__may_touch(s0)))
        return (int64_t)tr__events_merged(rt, NULL, out, cap);
    /* Scheduler threads write their rings right now: only scheduler 0's
     * thread outside handlers may stop them to read. */
    if (!tr__may_touch(s0) || s0->ctx.actor) return TR_EWRONGTHREAD;
    int e = tr__world_stop(rt, TR__WORLD_WAIT_MS);
    if (e) return e;
    size_t n = tr__events_merged(rt, NULL, out, cap);
    tr__world_resume(rt);
    return (int64_t)n;
}
