/* supervisor/supervisor.c: supervisors, after Erlang/OTP's supervisor
 * behaviour. A supervisor is an actor of a runtime-private type whose state
 * is the tr__sup_t below. Its children are linked to it by their `parent`
 * ref: every stop of a child (normal, shutdown, panic, kill) reaches it as an
 * exit signal on its system lane, which a full mailbox cannot block.
 *
 * Everything the supervisor does is driven by one function, advance(), run
 * after each event (an exit signal, a timer, a shutdown request, an API
 * call). It applies, in this order:
 *  1. if a child is being stopped, wait for its exit (one at a time, so
 *     stops happen strictly in reverse start order, as OTP);
 *  2. stop the next child that must go: when shutting down, the last running
 *     one; else the last running child marked for restart (one_for_all /
 *     rest_for_one groups) or for removal (tr_sup_terminate_child);
 *  3. when shutting down and nothing runs any more, exit;
 *  4. if children are marked for restart: wait for the backoff delay (a
 *     timer), then start them in start order.
 * Stopping a child asks it (system lane) and arms a timer of its shutdown
 * timeout; when it fires the child is killed. Restart intensity keeps the
 * times of the last `intensity` restarts in a ring.
 * Scheduler thread only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

enum { TICK_RESTART = 1, TICK_KILL };
typedef struct sup_tick_s {
    int kind;
    uint64_t uid; /* TICK_KILL: the child */
} sup_tick_t;

typedef struct sup_child_s {
    struct sup_child_s *prev, *next; /* start order */
    UT_hash_handle hh;               /* by the running incarnation's ref */
    uint64_t key;                    /* slot << 32 | generation */
    bool hashed;
    uint64_t uid;
    char *name, *path;
    const tr_actor_type_t *type;
    tr_sup_spec_t *sup; /* deep copy when the child is a supervisor */
    void *args;
    size_t args_len; /* > 0: args is our copy */
    tr_restart_t restart;
    uint32_t shutdown_ms, cap;
    tr_overflow_t overflow;
    tr_placement_t place;
    uint16_t sched;
    bool dynamic, want_start, remove;
    tr_ref_t ref;
    tr_child_state_t state;
    uint32_t incarnation, restarts, backoff_k;
    uint64_t started_ms;
    int64_t kill_timer;
    tr_restart_record_t hist[TR_SUP_HISTORY];
    uint32_t nhist; /* total recorded; the ring holds the last TR_SUP_HISTORY */
} sup_child_t;

typedef struct tr__sup_s {
    char *path;
    tr_strategy_t strategy;
    uint32_t intensity, period_ms, bmin, bmax;
    double bfactor;
    tr_sup_spec_t spec_flags; /* the spec's intensity/period/backoff (no children):
                                 what a config key that is removed reverts to */
    sup_child_t *head, *tail;
    sup_child_t *by_ref;
    size_t nchildren;
    tr_child_spec_t tmpl; /* simple_one_for_one: the template (owned copies) */
    tr_sup_spec_t *tmpl_sup;
    uint64_t *rs; /* restart times, a ring of intensity + 1 */
    uint32_t rs_cap, rs_head, rs_len;
    bool shutting_down, busy;
    tr_stop_reason_t exit_reason;
    char exit_detail[384];
    sup_child_t *stopping;
    sup_child_t *starting; /* init running on another scheduler: the next
                              start waits for it (OTP's start order) */
    uint64_t pending_delay;
    int64_t restart_timer;
    uint64_t next_uid, dyn_seq;
} tr__sup_t;

typedef struct sup_args_s {
    const tr_sup_spec_t *spec;
    const char *path;
} sup_args_t;

static void sup_on_shutdown(tr_ctx_t *ctx, void *state, const tr_msg_t *msg);
static void sup_on_exit(tr_ctx_t *ctx, void *state, const tr_msg_t *msg);
static void sup_on_started(tr_ctx_t *ctx, void *state, const tr_msg_t *msg);
static void sup_on_tick(tr_ctx_t *ctx, void *state, const tr_msg_t *msg);
static int sup_init(tr_ctx_t *ctx, void *state, const void *args);

static const tr_handler_t sup_handlers[] = {
    TR_ON(TR_MSG_SHUTDOWN, sup_on_shutdown, tr_stop_reason_t),
    TR_ON(TR__MSG_EXIT, sup_on_exit, tr__exit_t),
    TR_ON(TR__MSG_STARTED, sup_on_started, tr__exit_t),
    TR_ON(TR__MSG_SUP_TIMER, sup_on_tick, sup_tick_t),
    TR_END,
};

static const tr_actor_type_t sup_type = {
    .name = "supervisor",
    .state_size = sizeof(tr__sup_t),
    .handlers = sup_handlers,
    .init = sup_init,
};

#define DEFAULT_WORKER_SHUTDOWN_MS 5000u
#define MAX_DEPTH 32

/* ---- specs: validation and deep copies ---- */

static bool valid_name(const char *name) {
    return name && name[0] && !strchr(name, '/');
}

static int validate_sup(const tr_sup_spec_t *spec, size_t base_len, int depth);

static int validate_child(const tr_child_spec_t *c, size_t base_len, int depth) {
    if (!c || !valid_name(c->name)) return TR_EINVAL;
    if (!!c->type == !!c->sup) return TR_EINVAL; /* exactly one */
    if (c->restart < TR_PERMANENT || c->restart > TR_TEMPORARY) return TR_EINVAL;
    if (c->overflow < TR_OVERFLOW_DEFAULT || c->overflow > TR_OVERFLOW_DROP_OLDEST) return TR_EINVAL;
    if (c->mailbox_capacity > TR_MAILBOX_MAX) return TR_EINVAL;
    if (c->args_len && !c->args) return TR_EINVAL;
    if (c->place < TR_PLACE_ANY || c->place > TR_PLACE_PIN) return TR_EINVAL; /* not NEAR */
    size_t len = base_len + 1 + strlen(c->name) + 24; /* room for a "#n" suffix */
    if (len > 255) return TR_EINVAL;
    if (c->sup) return validate_sup(c->sup, len, depth + 1);
    return 0;
}

static int validate_sup(const tr_sup_spec_t *spec, size_t base_len, int depth) {
    if (!spec || depth > MAX_DEPTH) return TR_EINVAL;
    if (spec->strategy < TR_ONE_FOR_ONE || spec->strategy > TR_SIMPLE_ONE_FOR_ONE) return TR_EINVAL;
    if (spec->intensity > 65535) return TR_EINVAL;
    if (spec->backoff_min_ms) {
        if (spec->backoff_factor != 0 && !(spec->backoff_factor >= 1.0)) return TR_EINVAL;
        if (spec->backoff_max_ms && spec->backoff_max_ms < spec->backoff_min_ms) return TR_EINVAL;
    }
    if (spec->nchildren && !spec->children) return TR_EINVAL;
    if (spec->strategy == TR_SIMPLE_ONE_FOR_ONE && spec->nchildren != 1) return TR_EINVAL;
    for (size_t i = 0; i < spec->nchildren; i++) {
        int err = validate_child(&spec->children[i], base_len, depth);
        if (err) return err;
        for (size_t j = 0; j < i; j++)
            if (strcmp(spec->children[i].name, spec->children[j].name) == 0) return TR_EINVAL;
    }
    return 0;
}

static void spec_free(tr_sup_spec_t *spec);

static void child_spec_free_fields(tr_child_spec_t *c) {
    free((char *)c->name);
    if (c->args_len) free((void *)c->args);
    if (c->sup) spec_free((tr_sup_spec_t *)c->sup);
}

static void spec_free(tr_sup_spec_t *spec) {
    if (!spec) return;
    for (size_t i = 0; i < spec->nchildren; i++)
        child_spec_free_fields((tr_child_spec_t *)&spec->children[i]);
    free((void *)spec->children);
    free(spec);
}

static tr_sup_spec_t *spec_dup(const tr_sup_spec_t *src);

static int child_spec_copy(tr_child_spec_t *dst, const tr_child_spec_t *src) {
    *dst = *src;
    dst->name = NULL;
    dst->sup = NULL;
    if (src->args_len) dst->args = NULL;
    char *name = strdup(src->name);
    void *args = src->args_len ? malloc(src->args_len) : NULL;
    tr_sup_spec_t *sup = src->sup ? spec_dup(src->sup) : NULL;
    if (!name || (src->args_len && !args) || (src->sup && !sup)) {
        free(name);
        free(args);
        spec_free(sup);
        return TR_ENOMEM;
    }
    if (args) {
        memcpy(args, src->args, src->args_len);
        dst->args = args;
    }
    dst->name = name;
    dst->sup = sup;
    return 0;
}

static tr_sup_spec_t *spec_dup(const tr_sup_spec_t *src) {
    tr_sup_spec_t *d = calloc(1, sizeof(*d));
    tr_child_spec_t *kids = src->nchildren ? calloc(src->nchildren, sizeof(*kids)) : NULL;
    if (!d || (src->nchildren && !kids)) {
        free(d);
        free(kids);
        return NULL;
    }
    *d = *src;
    d->children = kids;
    d->nchildren = 0;
    for (size_t i = 0; i < src->nchildren; i++) {
        if (child_spec_copy(&kids[i], &src->children[i]) != 0) {
            spec_free(d);
            return NULL;
        }
        d->nchildren++;
    }
    return d;
}

/* ---- children ---- */

static void child_free(sup_child_t *c) {
    free(c->name);
    free(c->path);
    if (c->args_len) free(c->args);
    spec_free(c->sup);
    free(c);
}

/* A child record from a spec; dynamic children take `args` instead. */
static sup_child_t *child_new(tr__sup_t *sup, const tr_child_spec_t *cs, bool dynamic,
                              const void *args, size_t args_len) {
    sup_child_t *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    char path[300];
    if (dynamic)
        snprintf(path, sizeof(path), "%s/%s#%llu", sup->path, cs->name,
                 (unsigned long long)++sup->dyn_seq);
    else
        snprintf(path, sizeof(path), "%s/%s", sup->path, cs->name);
    c->name = strdup(cs->name);
    c->path = strdup(path);
    const void *a = dynamic ? args : cs->args;
    size_t alen = dynamic ? args_len : cs->args_len;
    if (alen) {
        c->args = malloc(alen);
        if (c->args) memcpy(c->args, a, alen);
        c->args_len = alen;
    } else {
        c->args = (void *)a;
    }
    c->sup = cs->sup ? spec_dup(cs->sup) : NULL;
    if (!c->name || !c->path || (alen && !c->args) || (cs->sup && !c->sup)) {
        if (alen && !c->args) c->args_len = 0;
        child_free(c);
        return NULL;
    }
    c->uid = ++sup->next_uid;
    c->type = cs->type;
    c->restart = cs->restart;
    c->shutdown_ms = cs->shutdown_ms
                         ? cs->shutdown_ms
                         : (cs->sup ? TR_SHUTDOWN_INFINITY : DEFAULT_WORKER_SHUTDOWN_MS);
    c->cap = cs->mailbox_capacity;
    c->overflow = cs->overflow;
    c->place = cs->place;
    c->sched = cs->scheduler;
    c->dynamic = dynamic;
    c->state = TR_CHILD_STOPPED;
    return c;
}

static void child_append(tr__sup_t *sup, sup_child_t *c) {
    c->prev = sup->tail;
    c->next = NULL;
    if (sup->tail) sup->tail->next = c;
    else sup->head = c;
    sup->tail = c;
    sup->nchildren++;
}

static void child_unhash(tr__sup_t *sup, sup_child_t *c) {
    if (!c->hashed) return;
    HASH_DEL(sup->by_ref, c);
    c->hashed = false;
}

static void child_delete(tr__sup_t *sup, sup_child_t *c) {
    child_unhash(sup, c);
    if (c->prev) c->prev->next = c->next;
    else sup->head = c->next;
    if (c->next) c->next->prev = c->prev;
    else sup->tail = c->prev;
    sup->nchildren--;
    if (sup->stopping == c) sup->stopping = NULL;
    if (sup->starting == c) sup->starting = NULL;
    child_free(c);
}

/* Keyed by slot and generation: a slot freed by a child whose exit signal
 * is still queued may already hold the next child. */
static uint64_t ref_key(tr_ref_t ref) { return (uint64_t)ref.slot << 32 | ref.gen; }

static sup_child_t *child_by_ref(tr__sup_t *sup, tr_ref_t ref) {
    sup_child_t *c;
    uint64_t key = ref_key(ref);
    HASH_FIND(hh, sup->by_ref, &key, sizeof(key), c);
    return c && tr_ref_eq(c->ref, ref) ? c : NULL;
}

static sup_child_t *child_by_uid(tr__sup_t *sup, uint64_t uid) {
    for (sup_child_t *c = sup->head; c; c = c->next)
        if (c->uid == uid) return c;
    return NULL;
}

/* Its incarnation is alive (on any scheduler: the slot's generation is
 * read atomically). */
static bool child_running(tr__sched_t *s, sup_child_t *c) {
    return tr_ref_valid(c->ref) && tr_actor_alive(s->rt, c->ref);
}

/* A context for calls made on the supervisor's behalf outside its handlers
 * (API calls from other actors or from the scheduler thread). */
static tr_ctx_t sup_ctx(tr__sched_t *s, tr__actor_t *self) {
    tr_ctx_t c = {s->rt, s, self, NULL};
    return c;
}

static int64_t sup_timer(tr__sched_t *s, tr__actor_t *self, uint64_t ms, int kind, uint64_t uid) {
    tr_ctx_t ctx = sup_ctx(s, self);
    sup_tick_t t = {kind, uid};
    int64_t id = tr_timer_start(&ctx, ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms, 0,
                                TR__MSG_SUP_TIMER, &t, sizeof(t));
    if (id < 0)
        tr__log(s->rt, TR_LOG_ERROR, "supervisor %s: cannot start a timer (%s)",
                self->x && self->x->sup ? self->x->sup->path : "?", tr_strerror((int)id));
    return id > 0 ? id : 0;
}

static void sup_timer_cancel(tr__sched_t *s, tr__actor_t *self, int64_t *id) {
    if (!*id) return;
    tr_ctx_t ctx = sup_ctx(s, self);
    tr_timer_cancel(&ctx, *id);
    *id = 0;
}

/* Start (or restart) a child. 0 or the spawn's error. When its init runs
 * later on another scheduler and `wait` is set, sup->starting holds it
 * until that init has answered (sup_on_started). */
static int start_child(tr__sched_t *s, tr__actor_t *self, tr__sup_t *sup, sup_child_t *c,
                       bool wait) {
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof(o));
    o.name = c->dynamic ? NULL : c->path;
    o.mailbox_capacity = c->cap;
    o.overflow = c->overflow;
    o.args = c->args;
    /* a copy for an init that may run later on another scheduler: this
     * record may be gone by then */
    o.args_len = c->args_len;
    o.place = c->place;
    o.scheduler = c->sched;
    sup_args_t sa = {c->sup, c->path};
    if (c->sup) { /* supervisors live next to their parent: init runs now */
        o.args = &sa;
        o.args_len = 0;
        o.place = TR_PLACE_LOCAL;
    }
    tr__spawn_ex_t ex = {self->ref, c->path, c->incarnation + 1};
    tr_ref_t ref;
    sup->busy = true;
    int err = tr__spawn(s->rt, c->sup ? &sup_type : c->type, &o, &ex, &ref);
    sup->busy = false;
    if (err) return err;
    if (wait && ref.sched != s->id && !tr__may_touch(&s->rt->sched[ref.sched]))
        sup->starting = c;
    c->ref = ref;
    c->incarnation++;
    c->state = TR_CHILD_RUNNING;
    c->started_ms = tr__now_ms(s);
    c->key = ref_key(ref);
    HASH_ADD(hh, sup->by_ref, key, sizeof(c->key), c);
    c->hashed = true;
    if (c->incarnation > 1) {
        c->restarts++;
        TR__INC(s->c.restarts);
        tr__ev(s, TR_EV_RESTART, ref, self->ref, 0, (int32_t)c->incarnation);
        tr__log(s->rt, TR_LOG_INFO, "supervisor %s: restarted %s (incarnation %u)", sup->path,
                c->path, c->incarnation);
    }
    return 0;
}

/* Restart intensity: record a restart at `now`; false when it is one too
 * many (more than `intensity` within `period_ms`). */
static bool add_restart(tr__sup_t *sup, uint64_t now) {
    while (sup->rs_len && now - sup->rs[sup->rs_head] >= sup->period_ms) {
        sup->rs_head = (sup->rs_head + 1) % sup->rs_cap;
        sup->rs_len--;
    }
    if (sup->rs_len == sup->rs_cap) { /* full: drop the oldest (we give up anyway) */
        sup->rs_head = (sup->rs_head + 1) % sup->rs_cap;
        sup->rs_len--;
    }
    sup->rs[(sup->rs_head + sup->rs_len) % sup->rs_cap] = now;
    sup->rs_len++;
    return sup->rs_len <= sup->intensity;
}

static uint64_t backoff_delay(tr__sup_t *sup, sup_child_t *c, uint64_t now) {
    if (!sup->bmin) return 0;
    if (c->incarnation && now - c->started_ms >= sup->period_ms) c->backoff_k = 0;
    c->backoff_k++;
    uint64_t max = sup->bmax ? sup->bmax : (uint64_t)sup->bmin * 32;
    double d = sup->bmin;
    for (uint32_t i = 1; i < c->backoff_k && d < (double)max; i++) d *= sup->bfactor;
    return d >= (double)max ? max : (uint64_t)d;
}

static void record(sup_child_t *c, uint64_t now, tr_stop_reason_t reason, const char *detail) {
    tr_restart_record_t *r = &c->hist[c->nhist % TR_SUP_HISTORY];
    r->time_ms = now;
    r->reason = reason;
    const char *d = detail ? detail : tr_stop_reason_str(reason);
    size_t n = strnlen(d, sizeof(r->detail) - 1); /* truncated on purpose */
    memcpy(r->detail, d, n);
    r->detail[n] = '\0';
    c->nhist++;
}

/* Stop `c`: ask it (or kill it for brutal_kill) and arm its shutdown
 * timer. On another scheduler both travel through its inbox; either way
 * its exit signal comes back on our system lane. */
static void stop_child(tr__sched_t *s, tr__actor_t *self, tr__sup_t *sup, sup_child_t *c) {
    sup->stopping = c;
    c->state = TR_CHILD_STOPPING;
    if (c->shutdown_ms == TR_SHUTDOWN_BRUTAL_KILL) {
        tr__kill_ref(s, c->ref, "killed: its child spec says brutal_kill");
        return;
    }
    tr__stop_ref(s, c->ref, TR_STOP_SHUTDOWN);
    if (c->shutdown_ms != TR_SHUTDOWN_INFINITY)
        c->kill_timer = sup_timer(s, self, c->shutdown_ms, TICK_KILL, c->uid);
}

static void sup_exit(tr__sched_t *s, tr__actor_t *self, tr__sup_t *sup) {
    tr__extra_t *x = self->x;
    if (sup->exit_reason != TR_STOP_SHUTDOWN && sup->exit_reason != TR_STOP_NORMAL && x &&
        !x->exit_detail)
        x->exit_detail = strdup(sup->exit_detail);
    self->flags |= TR__A_STOP_REQ | TR__A_STOP_QUEUED;
    tr__set_stop_reason(self, sup->exit_reason);
    if (!(self->flags & (TR__A_IN_RUNQ | TR__A_RUNNING))) tr__schedule(s, self);
}

static void give_up(tr__sched_t *s, tr__actor_t *self, tr__sup_t *sup, sup_child_t *c,
                    tr_stop_reason_t reason, const char *detail) {
    snprintf(sup->exit_detail, sizeof(sup->exit_detail),
             "supervisor %s gave up: more than %u restart(s) in %u ms; last: %s stopped (%s): %s",
             sup->path, sup->intensity, sup->period_ms, c->path, tr_stop_reason_str(reason),
             detail && detail[0] ? detail : tr_stop_reason_str(reason));
    tr__log(s->rt, TR_LOG_ERROR, "%s", sup->exit_detail);
    sup->shutting_down = true;
    sup->exit_reason = TR_STOP_ESCALATED;
    sup->pending_delay = 0;
    sup_timer_cancel(s, self, &sup->restart_timer);
    for (sup_child_t *k = sup->head; k; k = k->next) {
        k->want_start = false;
        if (k->state == TR_CHILD_RESTARTING) k->state = TR_CHILD_STOPPED;
    }
}

static void advance(tr__sched_t *s, tr__actor_t *self, tr__sup_t *sup);
static void start_failed(tr__sched_t *s, tr__actor_t *self, tr__sup_t *sup, sup_child_t *c,
                         const char *why);

/* Start every child marked for (re)start, in start order. */
static void start_marked(tr__sched_t *s, tr__actor_t *self, tr__sup_t *sup) {
    for (sup_child_t *c = sup->head, *next; c; c = next) {
        next = c->next;
        if (!c->want_start) continue;
        if (s->rt->shutting_down) { /* no restarts during a runtime shutdown */
            c->want_start = false;
            c->state = TR_CHILD_STOPPED;
            continue;
        }
        c->want_start = false;
        int err = start_child(s, self, sup, c, true);
        if (err == 0) {
            if (sup->starting) return; /* the rest once its init has run */
            continue;
        }
        start_failed(s, self, sup, c, err == TR_EINIT ? s->spawn_err : tr_strerror(err));
        return;
    }
}

/* A (re)start of `c` failed: count it as a restart, then try again after
 * the backoff, or give up. */
static void start_failed(tr__sched_t *s, tr__actor_t *self, tr__sup_t *sup, sup_child_t *c,
                         const char *why) {
    uint64_t now = tr__now_ms(s);
    char detail[440];
    snprintf(detail, sizeof(detail), "restart failed: %s", why);
    tr__log(s->rt, TR_LOG_ERROR, "supervisor %s: (re)start of %s failed: %s", sup->path, c->path,
            why);
    record(c, now, TR_STOP_PANIC, detail);
    if (!add_restart(sup, now)) {
        give_up(s, self, sup, c, TR_STOP_PANIC, detail);
        advance(s, self, sup);
        return;
    }
    /* try again after the backoff, or on the next turn */
    c->want_start = true;
    c->state = TR_CHILD_RESTARTING;
    uint64_t d = backoff_delay(sup, c, now);
    if (!sup->restart_timer) sup->restart_timer = sup_timer(s, self, d, TICK_RESTART, 0);
}

static void advance(tr__sched_t *s, tr__actor_t *self, tr__sup_t *sup) {
    if (sup->stopping || sup->starting) return; /* 1. one stop or start at a time */
    /* 2. the next child to stop, in reverse start order */
    for (sup_child_t *c = sup->tail; c; c = c->prev) {
        if (!child_running(s, c)) continue;
        if (sup->shutting_down || c->want_start || c->remove) {
            stop_child(s, self, sup, c);
            return;
        }
    }
    /* 3. */
    if (sup->shutting_down) {
        sup_exit(s, self, sup);
        return;
    }
    /* 4. */
    bool marked = false;
    for (sup_child_t *c = sup->head; c && !marked; c = c->next) marked = c->want_start;
    if (!marked || sup->restart_timer) return;
    if (sup->pending_delay) {
        uint64_t d = sup->pending_delay;
        sup->pending_delay = 0;
        sup->restart_timer = sup_timer(s, self, d, TICK_RESTART, 0);
        if (sup->restart_timer) return;
    }
    start_marked(s, self, sup);
}

/* ---- the supervisor actor ---- */

static tr__sup_t *self_sup(tr_ctx_t *ctx) { return ctx->actor->x->sup; }

static void sup_on_shutdown(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    (void)state;
    tr__sup_t *sup = self_sup(ctx);
    tr_stop_reason_t reason = *(const tr_stop_reason_t *)msg->data;
    if (!sup->shutting_down) {
        sup->shutting_down = true;
        sup->exit_reason = reason == TR_STOP_NORMAL ? TR_STOP_NORMAL : TR_STOP_SHUTDOWN;
        sup->pending_delay = 0;
        sup_timer_cancel(ctx->s, ctx->actor, &sup->restart_timer);
        for (sup_child_t *c = sup->head; c; c = c->next) {
            c->want_start = false;
            if (c->state == TR_CHILD_RESTARTING) c->state = TR_CHILD_STOPPED;
        }
    }
    advance(ctx->s, ctx->actor, sup);
}

static void sup_on_exit(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    (void)state;
    tr__sched_t *s = ctx->s;
    tr__actor_t *self = ctx->actor;
    tr__sup_t *sup = self_sup(ctx);
    const tr__exit_t *ex = msg->data;
    sup_child_t *c = child_by_ref(sup, ex->child);
    if (!c) return; /* an incarnation we no longer track */
    child_unhash(sup, c);
    c->ref = TR_REF_NONE;
    bool was_stopping = c->state == TR_CHILD_STOPPING;
    if (sup->stopping == c) {
        sup->stopping = NULL;
        sup_timer_cancel(s, self, &c->kill_timer);
    }
    if (sup->shutting_down || was_stopping) {
        c->state = c->want_start ? TR_CHILD_RESTARTING : TR_CHILD_STOPPED;
        if (c->remove || (c->restart == TR_TEMPORARY && !c->want_start) ||
            (c->dynamic && !c->want_start))
            child_delete(sup, c);
        advance(s, self, sup);
        return;
    }
    /* an exit nobody asked for */
    uint64_t now = tr__now_ms(s);
    bool abnormal = ex->reason == TR_STOP_PANIC || ex->reason == TR_STOP_KILLED ||
                    ex->reason == TR_STOP_ESCALATED;
    bool restart = c->restart == TR_PERMANENT || (c->restart == TR_TRANSIENT && abnormal);
    if (!restart || s->rt->shutting_down) {
        c->state = TR_CHILD_STOPPED;
        if (c->restart == TR_TEMPORARY || c->dynamic) child_delete(sup, c);
        advance(s, self, sup);
        return;
    }
    record(c, now, ex->reason, ex->detail);
    if (!add_restart(sup, now)) {
        give_up(s, self, sup, c, ex->reason, ex->detail);
        advance(s, self, sup);
        return;
    }
    uint64_t d = backoff_delay(sup, c, now);
    if (d > sup->pending_delay) sup->pending_delay = d;
    c->want_start = true;
    c->state = TR_CHILD_RESTARTING;
    if (sup->strategy == TR_ONE_FOR_ALL || sup->strategy == TR_REST_FOR_ONE) {
        sup_child_t *k = sup->strategy == TR_ONE_FOR_ALL ? sup->head : c->next;
        for (; k; k = k->next) {
            if (k == c) continue;
            if (k->restart == TR_TEMPORARY) k->remove = true; /* OTP: not restarted */
            else k->want_start = true;
        }
    }
    advance(s, self, sup);
}

/* A child whose init ran on another scheduler answered. */
static void sup_on_started(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    (void)state;
    tr__sched_t *s = ctx->s;
    tr__actor_t *self = ctx->actor;
    tr__sup_t *sup = self_sup(ctx);
    const tr__exit_t *ex = msg->data;
    sup_child_t *c = child_by_ref(sup, ex->child);
    if (!c) return; /* an incarnation we no longer track */
    bool waited = sup->starting == c;
    if (waited) sup->starting = NULL;
    if (ex->reason == TR_STOP_NORMAL) {
        if (waited) advance(s, self, sup);
        return;
    }
    /* its init refused or panicked: it is gone, no exit signal follows */
    child_unhash(sup, c);
    c->ref = TR_REF_NONE;
    if (sup->shutting_down || c->remove || c->dynamic || c->restart == TR_TEMPORARY ||
        s->rt->shutting_down) {
        c->state = TR_CHILD_STOPPED;
        tr__log(s->rt, TR_LOG_ERROR, "supervisor %s: start of %s failed: %s", sup->path, c->path,
                ex->detail);
        if (c->remove || c->dynamic || c->restart == TR_TEMPORARY) child_delete(sup, c);
        advance(s, self, sup);
        return;
    }
    start_failed(s, self, sup, c, ex->detail);
    if (!sup->stopping && !sup->restart_timer) advance(s, self, sup);
}

static void sup_on_tick(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    (void)state;
    tr__sched_t *s = ctx->s;
    tr__sup_t *sup = self_sup(ctx);
    const sup_tick_t *t = msg->data;
    if (t->kind == TICK_RESTART) {
        sup->restart_timer = 0;
    } else {
        sup_child_t *c = child_by_uid(sup, t->uid);
        if (!c) return;
        c->kill_timer = 0;
        if (c->state == TR_CHILD_STOPPING && child_running(s, c)) {
            char detail[128];
            snprintf(detail, sizeof(detail), "killed after the %u ms shutdown timeout",
                     c->shutdown_ms);
            tr__log(s->rt, TR_LOG_WARNING, "supervisor %s: %s did not stop within %u ms: killed",
                    sup->path, c->path, c->shutdown_ms);
            tr__kill_ref(s, c->ref, detail); /* its exit signal follows on our lane */
            return;
        }
    }
    advance(s, ctx->actor, sup);
}

/* ---- configuration ---- */

/* Restart intensity and backoff: the spec's values, overridden by the keys
 * of the supervisor's config section. */
typedef struct sup_flags_s {
    uint32_t intensity, period_ms, bmin, bmax;
    double bfactor;
} sup_flags_t;

/* The flags from the spec and `view` (NULL: the spec alone). 0, or
 * TR_ECONFIG with *err (may be NULL) naming the key. */
static int sup_flags(const tr__sup_t *sup, const tr_config_section_t *view, sup_flags_t *f,
                     tr_config_error_t *err) {
    const tr_sup_spec_t *sp = &sup->spec_flags;
    f->intensity = sp->intensity;
    f->period_ms = sp->period_ms;
    if (!sp->intensity && !sp->period_ms) f->intensity = 1, f->period_ms = 5000;
    f->bmin = sp->backoff_min_ms;
    f->bmax = sp->backoff_max_ms;
    f->bfactor = sp->backoff_factor ? sp->backoff_factor : 2.0;
    if (!view) return 0;
    int64_t i;
    uint64_t pm, bmin, bmax;
    double bf;
    int r;
    if ((r = tr_config_int(view, "intensity", f->intensity, 0, 65535, &i, err)) ||
        (r = tr_config_duration(view, "period", f->period_ms, 1, UINT32_MAX, &pm, err)) ||
        (r = tr_config_duration(view, "backoff_min", f->bmin, 0, UINT32_MAX, &bmin, err)) ||
        (r = tr_config_duration(view, "backoff_max", f->bmax, 0, UINT32_MAX, &bmax, err)) ||
        (r = tr_config_double(view, "backoff_factor", f->bfactor, 1.0, 1e6, &bf, err)))
        return r;
    if (bmin && bmax && bmax < bmin)
        return tr_config_refuse(err, view,
                                tr_config_has(view, "backoff_max") ? "backoff_max" : "backoff_min",
                                "backoff_max (%llu ms) is below backoff_min (%llu ms)",
                                (unsigned long long)bmax, (unsigned long long)bmin);
    f->intensity = (uint32_t)i;
    f->period_ms = (uint32_t)pm;
    f->bmin = (uint32_t)bmin;
    f->bmax = (uint32_t)bmax;
    f->bfactor = bf;
    return 0;
}

/* Install flags; the restart-time ring is resized keeping the most recent
 * restarts, so a live change of intensity counts what already happened. */
static int set_flags(tr__sup_t *sup, const sup_flags_t *f) {
    uint32_t ncap = f->intensity + 1;
    if (ncap != sup->rs_cap) {
        uint64_t *nr = calloc(ncap, sizeof(*nr));
        if (!nr) return TR_ENOMEM;
        uint32_t keep = sup->rs_len < ncap ? sup->rs_len : ncap;
        for (uint32_t k = 0; k < keep; k++) /* the newest `keep`, oldest first */
            nr[k] = sup->rs[(sup->rs_head + sup->rs_len - keep + k) % sup->rs_cap];
        free(sup->rs);
        sup->rs = nr;
        sup->rs_cap = ncap;
        sup->rs_head = 0;
        sup->rs_len = keep;
    }
    sup->intensity = f->intensity;
    sup->period_ms = f->period_ms;
    sup->bmin = f->bmin;
    sup->bmax = f->bmax;
    sup->bfactor = f->bfactor;
    return 0;
}

int tr__sup_check_config(const tr__actor_t *a, const tr_config_section_t *view,
                         tr_config_error_t *err) {
    const tr__sup_t *sup = tr__actor_sup(a);
    sup_flags_t f;
    int r = sup_flags(sup, view, &f, err);
    if (r && err) snprintf(err->actor, sizeof(err->actor), "supervisor %s", sup->path);
    return r;
}

void tr__sup_apply_config(tr__sched_t *s, tr__actor_t *a, const tr_config_section_t *view) {
    tr__sup_t *sup = tr__actor_sup(a);
    sup_flags_t f;
    if (sup_flags(sup, view, &f, NULL) != 0) return; /* checked before the commit */
    uint32_t old_i = sup->intensity, old_p = sup->period_ms;
    if (set_flags(sup, &f) != 0) {
        tr__log(s->rt, TR_LOG_ERROR,
                "supervisor %s: out of memory applying the config: restart intensity unchanged",
                sup->path);
        return;
    }
    if (old_i != f.intensity || old_p != f.period_ms)
        tr__log(s->rt, TR_LOG_INFO, "supervisor %s: restart intensity now %u in %u ms", sup->path,
                f.intensity, f.period_ms);
}

int tr__sup_validate_idle(tr__sched_t *s, tr__actor_t *a, const tr_config_t *cfg,
                          tr_config_error_t *err) {
    tr__sup_t *sup = tr__actor_sup(a);
    for (sup_child_t *c = sup->head; c; c = c->next) {
        if (child_running(s, c) || !c->type || !c->type->validate_config) continue;
        tr_config_section_t view;
        tr_config_section(cfg, c->path, &view);
        int r = tr__config_validate(c->type, &view, err);
        if (r) {
            snprintf(err->actor, sizeof(err->actor), "%.180s (%.48s, not running)", c->path,
                     c->type->name);
            return r;
        }
    }
    return 0;
}

static int sup_init(tr_ctx_t *ctx, void *state, const void *args) {
    tr__sup_t *sup = state;
    const sup_args_t *sa = args;
    const tr_sup_spec_t *spec = sa->spec;
    tr__sched_t *s = ctx->s;
    tr__actor_t *self = ctx->actor;
    self->x->sup = sup;
    atomic_fetch_add_explicit(&s->rt->sups_live, 1, memory_order_relaxed);
    sup->path = strdup(sa->path);
    sup->strategy = spec->strategy;
    sup->spec_flags = *spec;
    sup->spec_flags.children = NULL;
    sup->spec_flags.nchildren = 0;
    if (!sup->path) return TR_ENOMEM;
    tr_config_section_t view;
    tr_ctx_config(ctx, &view);
    sup_flags_t f;
    tr_config_error_t cerr;
    if (sup_flags(sup, &view, &f, &cerr) != 0) { /* a section no reload has checked yet */
        char line[1024];
        tr__log(s->rt, TR_LOG_WARNING, "supervisor %s: config ignored, using its spec: %s",
                sup->path, tr_config_error_str(&cerr, line, sizeof(line)));
        sup_flags(sup, NULL, &f, NULL);
    }
    if (set_flags(sup, &f) != 0) return TR_ENOMEM;
    if (spec->strategy == TR_SIMPLE_ONE_FOR_ONE) {
        if (child_spec_copy(&sup->tmpl, &spec->children[0]) != 0) return TR_ENOMEM;
        return 0;
    }
    for (size_t i = 0; i < spec->nchildren; i++) {
        sup_child_t *c = child_new(sup, &spec->children[i], false, NULL, 0);
        if (!c) return TR_ENOMEM;
        child_append(sup, c);
    }
    for (sup_child_t *c = sup->head; c; c = c->next) {
        int err = start_child(s, self, sup, c, true);
        if (err == 0 && sup->starting) {
            /* its init runs on another scheduler: the ones after it start
             * once it has answered (a failure then counts as a restart) */
            for (sup_child_t *k = c->next; k; k = k->next) k->want_start = true;
            return 0;
        }
        if (err == 0) continue;
        tr__log(s->rt, TR_LOG_ERROR, "supervisor %s: child %s failed to start: %s%s%s", sup->path,
                c->name, tr_strerror(err), err == TR_EINIT ? ": " : "",
                err == TR_EINIT ? s->spawn_err : "");
        /* stop the ones already started, in reverse order */
        for (sup_child_t *k = c->prev; k; k = k->prev) {
            tr_ref_t kref = k->ref;
            tr__sched_t *ks = tr__sched_of(s->rt, kref);
            tr__actor_t *a = ks && tr__may_touch(ks) ? tr__actor_get(ks, kref) : NULL;
            child_unhash(sup, k);
            k->ref = TR_REF_NONE;
            k->state = TR_CHILD_STOPPED;
            if (a) { /* here, or a tree started synchronously from the owner thread */
                tr__sched_t *prev = tr__tls_cur;
                tr__tls_cur = ks;
                tr__actor_teardown_ex(ks, a, TR_STOP_SHUTDOWN, "its supervisor failed to start");
                tr__tls_cur = prev;
            } else {
                tr__kill_ref(s, kref, "killed: its supervisor failed to start");
            }
        }
        return err;
    }
    return 0;
}

/* ---- teardown ---- */

void tr__sup_teardown(tr__sched_t *s, tr__actor_t *a, tr_stop_reason_t reason, const char *detail) {
    tr__sup_t *sup = a->x ? a->x->sup : NULL;
    if (!sup) return;
    /* children still alive (the supervisor was killed, or the runtime is
     * being destroyed): kill them, newest first */
    for (sup_child_t *c = sup->tail; c; c = c->prev) {
        tr_ref_t kref = c->ref;
        child_unhash(sup, c);
        c->ref = TR_REF_NONE;
        if (tr_ref_valid(kref)) tr__kill_ref(s, kref, "killed: its supervisor stopped");
    }
    if (reason == TR_STOP_ESCALATED && !tr_ref_valid(a->x->parent)) {
        tr__log(s->rt, TR_LOG_ERROR,
                "root supervisor %s gave up: shutting the runtime down (exit status %s)",
                sup->path ? sup->path : "?", tr_err_name(TR_EESCALATED));
        (void)detail; /* logged by give_up */
        atomic_store_explicit(&s->rt->exit_status, TR_EESCALATED, memory_order_relaxed);
        tr_runtime_shutdown(s->rt);
    }
    while (sup->head) child_delete(sup, sup->head);
    if (sup->tmpl.name) child_spec_free_fields(&sup->tmpl);
    free(sup->rs);
    free(sup->path);
    memset(sup, 0, sizeof(*sup));
    a->x->sup = NULL;
    atomic_fetch_sub_explicit(&s->rt->sups_live, 1, memory_order_relaxed);
}

/* ---- API ---- */

/* The supervisor `ref` names, on this thread's own scheduler (the tr_sup_*
 * API reaches into its state, which only its scheduler may touch). */
static int sup_lookup(tr_runtime_t *rt, tr_ref_t ref, tr__actor_t **out_a, tr__sup_t **out) {
    if (!rt) return TR_EINVAL;
    tr__sched_t *s = tr__sched_of(rt, ref);
    if (!s) return TR_EDEAD;
    if (!tr__may_touch(s)) return TR_EWRONGTHREAD;
    tr__actor_t *a = tr__actor_get(s, ref);
    if (!a || (a->flags & TR__A_DEAD)) return TR_EDEAD;
    if (!tr__actor_sup(a)) return TR_EINVAL;
    if (a->x->sup->busy || (a->flags & TR__A_RUNNING)) return TR_EBUSY;
    *out_a = a;
    *out = a->x->sup;
    return 0;
}

/* Pinned children name an existing scheduler (checked here, where the
 * runtime is known; validate_sup checks the rest). */
static bool pins_ok(tr_runtime_t *rt, const tr_child_spec_t *c) {
    if (c->place == TR_PLACE_PIN && c->scheduler >= rt->nsched) return false;
    if (!c->sup) return true;
    for (size_t i = 0; i < c->sup->nchildren; i++)
        if (!pins_ok(rt, &c->sup->children[i])) return false;
    return true;
}

int tr_sup_start(tr_runtime_t *rt, const char *name, const tr_sup_spec_t *spec, tr_ref_t *out) {
    if (!rt || !valid_name(name) || strlen(name) > 200) return TR_EINVAL;
    int err = validate_sup(spec, strlen(name), 0);
    if (err) return err;
    for (size_t i = 0; i < spec->nchildren; i++)
        if (!pins_ok(rt, &spec->children[i])) return TR_EINVAL;
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof(o));
    o.name = name;
    o.place = TR_PLACE_LOCAL; /* init (and the children's start) runs now */
    sup_args_t sa = {spec, name};
    o.args = &sa;
    tr__spawn_ex_t ex = {TR_REF_NONE, name, 1};
    return tr__spawn(rt, &sup_type, &o, &ex, out);
}

/* Append a new child record and start it; on failure it is deleted. */
static int append_and_start(tr_runtime_t *rt, tr__actor_t *self, tr__sup_t *sup, sup_child_t *c,
                            tr_ref_t *out) {
    if (!c) return TR_ENOMEM;
    child_append(sup, c);
    int err = start_child(&rt->sched[self->ref.sched], self, sup, c, false);
    if (err) {
        child_delete(sup, c);
        return err;
    }
    if (out) *out = c->ref;
    return 0;
}

int tr_sup_start_child(tr_runtime_t *rt, tr_ref_t ref, const void *args, size_t args_len,
                       tr_ref_t *out) {
    tr__actor_t *self;
    tr__sup_t *sup;
    int err = sup_lookup(rt, ref, &self, &sup);
    if (err) return err;
    if (sup->strategy != TR_SIMPLE_ONE_FOR_ONE || (args_len && !args)) return TR_EINVAL;
    if (sup->shutting_down || rt->shutting_down) return TR_ESTOPPED;
    return append_and_start(rt, self, sup, child_new(sup, &sup->tmpl, true, args, args_len), out);
}

int tr_sup_add_child(tr_runtime_t *rt, tr_ref_t ref, const tr_child_spec_t *spec, tr_ref_t *out) {
    tr__actor_t *self;
    tr__sup_t *sup;
    int err = sup_lookup(rt, ref, &self, &sup);
    if (err) return err;
    if (sup->strategy == TR_SIMPLE_ONE_FOR_ONE) return TR_EINVAL;
    err = validate_child(spec, strlen(sup->path), 0);
    if (!err && !pins_ok(rt, spec)) err = TR_EINVAL;
    if (err) return err;
    for (sup_child_t *c = sup->head; c; c = c->next)
        if (strcmp(c->name, spec->name) == 0) return TR_EEXIST;
    if (sup->shutting_down || rt->shutting_down) return TR_ESTOPPED;
    return append_and_start(rt, self, sup, child_new(sup, spec, false, NULL, 0), out);
}

int tr_sup_terminate_child(tr_runtime_t *rt, tr_ref_t ref, tr_ref_t child) {
    tr__actor_t *self;
    tr__sup_t *sup;
    int err = sup_lookup(rt, ref, &self, &sup);
    if (err) return err;
    sup_child_t *c = child_by_ref(sup, child);
    if (!c) return TR_ENOTFOUND;
    c->remove = true;
    c->want_start = false;
    advance(&rt->sched[self->ref.sched], self, sup);
    return 0;
}

int tr_is_supervisor(tr_runtime_t *rt, tr_ref_t ref) {
    tr__sched_t *s = rt ? tr__sched_of(rt, ref) : NULL;
    if (!s || !tr__may_touch(s)) return 0;
    tr__actor_t *a = tr__actor_get(s, ref);
    return a && !(a->flags & TR__A_DEAD) && tr__actor_sup(a);
}

int64_t tr_sup_which_children(tr_runtime_t *rt, tr_ref_t ref, tr_child_info_t *out, size_t cap) {
    if (!out && cap) return TR_EINVAL;
    if (!rt) return TR_EINVAL;
    tr__sched_t *s = tr__sched_of(rt, ref);
    if (!s) return TR_EDEAD;
    if (!tr__may_touch(s)) return TR_EWRONGTHREAD;
    tr__actor_t *a = tr__actor_get(s, ref);
    if (!a || (a->flags & TR__A_DEAD)) return TR_EDEAD;
    tr__sup_t *sup = tr__actor_sup(a);
    if (!sup) return TR_EINVAL;
    size_t i = 0;
    for (sup_child_t *c = sup->head; c; c = c->next, i++) {
        if (i >= cap) continue;
        tr_child_info_t *o = &out[i];
        memset(o, 0, sizeof(*o));
        o->name = c->name;
        o->path = c->path;
        o->ref = child_running(s, c) ? c->ref : TR_REF_NONE;
        o->type_name = c->sup ? "supervisor" : c->type->name;
        o->is_supervisor = c->sup != NULL;
        o->dynamic = c->dynamic;
        o->restart = c->restart;
        o->state = c->state;
        o->incarnation = c->incarnation;
        o->restarts = c->restarts;
        uint32_t n = c->nhist < TR_SUP_HISTORY ? c->nhist : TR_SUP_HISTORY;
        for (uint32_t k = 0; k < n; k++)
            o->history[k] = c->hist[(c->nhist - n + k) % TR_SUP_HISTORY];
        o->nhistory = n;
    }
    return (int64_t)sup->nchildren;
}

void tr__sup_info(tr__sched_t *s, const tr__actor_t *a, tr__sup_info_t *out) {
    const tr__sup_t *sup = tr__actor_sup(a);
    memset(out, 0, sizeof(*out));
    if (!sup) return;
    out->strategy = sup->strategy;
    out->intensity = sup->intensity;
    out->period_ms = sup->period_ms;
    uint64_t now = tr__now_ms(s);
    for (uint32_t k = 0; k < sup->rs_len; k++)
        if (now - sup->rs[(sup->rs_head + k) % sup->rs_cap] < sup->period_ms) out->recent++;
}
