/* runtime/events.c: the per-scheduler event ring, a flight recorder of
 * recent runtime events (spawn, send, handle, reply, drop, panic, restart,
 * stop, down). Fixed-size records in a power-of-two ring, written with plain
 * stores on the scheduler thread; the oldest are overwritten. Panic scenes
 * take the panicking actor's events from it; the debug socket's `trace` will
 * read it whole. Scheduler thread only. */
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

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

int64_t tr_runtime_events(tr_runtime_t *rt, tr_event_t *out, size_t cap) {
    if (!rt || (!out && cap)) return TR_EINVAL;
    tr__sched_t *s = &rt->sched[0];
    if (!tr__on_sched_thread(s)) return TR_EWRONGTHREAD;
    uint64_t len = ring_len(s);
    size_t n = cap < len ? cap : (size_t)len;
    for (size_t i = 0; i < n; i++) out[i] = s->ev[(s->ev_n - n + i) & s->ev_mask];
    return (int64_t)n;
}
