/* runtime/debug_cmd.c: the debug protocol's requests and answers
 * (docs/debug-protocol.md): parse one request line (JSON or the text
 * shorthand), run the command against the runtime's own structures, and
 * write one JSON response line with jansson. No sockets here: the server
 * (runtime/debug.c), tr_debug_request and the fuzz target all come through
 * tr__debug_exec. Scheduler 0's thread (or the owner stepping), outside
 * handlers.
 *
 * Actors, channels and event rings belong to their schedulers' threads, so
 * a command that reads them runs with the world stopped (tr__world_stop):
 * every other scheduler parked at a safe point, for the few milliseconds a
 * JSON answer takes. A scheduler that does not park in time is running one
 * long handler; the request is then answered `busy` instead of waiting
 * (the watchdog's `alerts` tell which handler). Commands that read only
 * counters, the config or the alerts do not stop anything, so they still
 * answer while a handler hangs. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "runtime/diag.h"
#include "runtime/waits.h"

#define ARG_MAX 1024
#define RESPONSE_MAX (4u << 20)
#define ACTORS_DEFAULT 1000
#define ACTORS_MAX 100000
#define TRACE_DEFAULT 50
#define ALERTS_DEFAULT 20

typedef struct req_s {
    char cmd[32];
    bool has_arg, arg_is_int;
    long long arg_int;
    char arg[ARG_MAX];
    json_t *id; /* owned reference, or NULL */
} req_t;

/* A command failure: protocol error code + message. */
typedef struct fail_s {
    const char *code;
    char msg[512];
} fail_t;

static int failf(fail_t *f, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int failf(fail_t *f, const char *code, const char *fmt, ...) {
    f->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- JSON helpers ---- */

/* A JSON string from any bytes: invalid UTF-8 becomes '?', so a strange
 * actor name can never make the line invalid JSON. */
static json_t *jstr(const char *p) {
    if (!p) return json_null();
    json_t *j = json_string(p);
    if (j) return j;
    char *c = strdup(p);
    if (!c) return json_null();
    for (unsigned char *q = (unsigned char *)c; *q; q++)
        if (*q >= 0x80 || *q < 0x20) *q = '?';
    j = json_string(c);
    free(c);
    return j ? j : json_null();
}

static json_t *jid(tr_ref_t r) {
    if (!tr_ref_valid(r)) return json_null();
    char b[32];
    snprintf(b, sizeof(b), "%u.%u", r.slot, r.gen);
    return json_string(b);
}

static json_t *ju(uint64_t v) { return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v); }

static void set(json_t *o, const char *k, json_t *v) { json_object_set_new(o, k, v ? v : json_null()); }

/* Tree path or registered name of `a`, else NULL. */
static const char *path_of(tr_runtime_t *rt, tr__actor_t *a, char *buf, size_t len) {
    if (a->x && a->x->path) return a->x->path;
    return tr__registry_name(rt, a->ref, buf, len);
}

static json_t *jpath(tr_runtime_t *rt, tr_ref_t r) {
    if (!tr_ref_valid(r)) return json_string("(thread)");
    tr__actor_t *a = tr__actor_get_any(rt, r);
    if (!a) return json_null();
    char b[256];
    return jstr(path_of(rt, a, b, sizeof(b)));
}

static json_t *jmsg(const tr_actor_type_t *type, int msg_type) {
    return jstr(type ? tr_msg_type_name(type, msg_type) : NULL);
}

static const char *const strategy_names[] = {"one_for_one", "one_for_all", "rest_for_one",
                                             "simple_one_for_one"};
static const char *const restart_names[] = {"permanent", "transient", "temporary"};
static const char *const child_state_names[] = {"running", "restarting", "stopping", "stopped"};
static const char *const overflow_names[] = {"fail", "fail", "drop_newest", "drop_oldest"};

static const char *pick(const char *const *names, size_t n, int v) {
    return v >= 0 && (size_t)v < n ? names[v] : "unknown";
}
#define PICK(names, v) pick(names, sizeof(names) / sizeof(names[0]), (int)(v))

/* ---- actors ---- */

static size_t list_len(const tr__chan_t *c) {
    size_t n = 0;
    for (; c; c = c->next) n++;
    return n;
}

static size_t kept_len(const tr__actor_t *a) {
    size_t n = 0;
    for (const struct tr_reply_s *r = a->x ? a->x->kept : NULL; r; r = r->next) n++;
    return n;
}

static json_t *actor_brief(tr_runtime_t *rt, tr__actor_t *a) {
    char pb[256], nb[256];
    json_t *o = json_object();
    set(o, "id", jid(a->ref));
    set(o, "path", jstr(path_of(rt, a, pb, sizeof(pb))));
    set(o, "name", jstr(tr__registry_name(rt, a->ref, nb, sizeof(nb))));
    set(o, "type", jstr(a->ti->type->name));
    set(o, "sched", json_integer(a->ref.sched));
    set(o, "supervisor", json_boolean(tr__actor_sup(a) != NULL));
    const char *status = (a->flags & (TR__A_STOP_REQ | TR__A_STOP_QUEUED | TR__A_TRAPPED))
                             ? "stopping"
                         : (a->ring.count || a->sys || a->rq_head) ? "ready"
                                                                   : "idle";
    set(o, "status", json_string(status));
    json_t *mb = json_object();
    set(mb, "depth", ju(tr__slot_depth(a->slot)));
    set(mb, "capacity", ju(tr__slot_cap(a->slot)));
    set(mb, "high_water", ju(a->high_water));
    set(o, "mailbox", mb);
    set(o, "handled", ju(a->handled));
    set(o, "drops", ju(a->x ? a->x->drops : 0));
    set(o, "pending_calls", ju(list_len(a->calls)));
    set(o, "kept_replies", ju(kept_len(a)));
    uint64_t busy = a->x ? a->x->busy_ns : 0;
    set(o, "busy_us", busy || rt->opts.handler_timing ? ju(busy / 1000) : json_null());
    return o;
}

/* Find a live actor of any scheduler by "slot.gen", tree path or
 * registered name. Slots are shared by all schedulers, so "slot.gen" names
 * one actor without its scheduler. */
static tr__actor_t *find_actor(tr_runtime_t *rt, const char *arg) {
    unsigned slot, gen;
    char tail;
    if (sscanf(arg, "%u.%u%c", &slot, &gen, &tail) == 2) {
        tr_ref_t r = TR_REF_NONE;
        r.slot = slot;
        r.gen = gen;
        tr__actor_t *a = tr__actor_get_any(rt, r);
        return a && !(a->flags & TR__A_DEAD) ? a : NULL;
    }
    size_t n = 0;
    tr__actor_t **v = tr__live_actors(rt, false, &n);
    tr__actor_t *found = NULL;
    for (size_t i = 0; i < n && !found; i++)
        if (v[i]->x && v[i]->x->path && strcmp(v[i]->x->path, arg) == 0) found = v[i];
    free(v);
    if (found) return found;
    tr_ref_t r;
    if (tr_whereis(rt, arg, &r) == 0) return tr__actor_get_any(rt, r);
    return NULL;
}

static json_t *event_json(tr_runtime_t *rt, const tr_event_t *e) {
    json_t *o = json_object();
    set(o, "time_ms", ju(e->time_ms));
    set(o, "kind", json_string(tr_event_kind_name(e->kind)));
    set(o, "actor", jid(e->actor));
    set(o, "actor_path", tr_ref_valid(e->actor) ? jpath(rt, e->actor) : json_null());
    set(o, "peer", jid(e->peer));
    set(o, "peer_path", tr_ref_valid(e->peer) ? jpath(rt, e->peer) : json_null());
    set(o, "msg_type", json_integer(e->msg_type));
    /* the name comes from the handling side's table when it is alive */
    tr_ref_t side = e->kind == TR_EV_SEND || e->kind == TR_EV_STALL ? e->peer : e->actor;
    tr__actor_t *a = e->msg_type ? tr__actor_get_any(rt, side) : NULL;
    set(o, "msg", a ? jmsg(a->ti->type, e->msg_type) : json_null());
    set(o, "arg", json_integer(e->arg));
    return o;
}

/* ---- inspect ---- */

struct tr_inspect_s {
    json_t *obj;
};

int tr_inspect_add(tr_inspect_t *w, const char *key, const char *fmt, ...) {
    if (!w || !key || !fmt) return TR_EINVAL;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    json_t *v = jstr(buf);
    if (json_is_null(v) || json_object_set_new(w->obj, key, v) != 0) return TR_ENOMEM;
    return 0;
}

/* ---- commands ---- */

typedef int (*cmd_fn)(tr_runtime_t *rt, const req_t *r, json_t *res, fail_t *f);
typedef struct cmd_s {
    const char *name, *arg, *summary;
    cmd_fn fn;
    bool world; /* reads actors, channels or rings: stop the world around it */
} cmd_t;

static const cmd_t commands[];
static const size_t ncommands;

static int cmd_help(tr_runtime_t *rt, const req_t *r, json_t *res, fail_t *f) {
    (void)rt, (void)r, (void)f;
    set(res, "protocol", json_integer(TR_DEBUG_PROTOCOL));
    json_t *a = json_array();
    for (size_t i = 0; i < ncommands; i++) {
        json_t *c = json_object();
        set(c, "name", json_string(commands[i].name));
        set(c, "arg", json_string(commands[i].arg));
        set(c, "summary", json_string(commands[i].summary));
        json_array_append_new(a, c);
    }
    set(res, "commands", a);
    return 0;
}

static json_t *sup_json(tr_runtime_t *rt, tr__actor_t *a, int depth);

/* The children of supervisor `sup` (malloc'd, caller frees), NULL when it
 * has none or on OOM. */
static tr_child_info_t *children_of(tr_runtime_t *rt, tr_ref_t sup, int64_t *n) {
    *n = tr_sup_which_children(rt, sup, NULL, 0);
    tr_child_info_t *ci = *n > 0 ? calloc((size_t)*n, sizeof(*ci)) : NULL;
    if (ci) *n = tr_sup_which_children(rt, sup, ci, (size_t)*n);
    return ci;
}

static json_t *history_json(const tr_child_info_t *c) {
    json_t *h = json_array();
    for (size_t j = 0; j < c->nhistory; j++) {
        json_t *e = json_object();
        set(e, "time_ms", ju(c->history[j].time_ms));
        set(e, "reason", json_string(tr_stop_reason_str(c->history[j].reason)));
        set(e, "detail", jstr(c->history[j].detail));
        json_array_append_new(h, e);
    }
    return h;
}

static void sup_fields(tr_runtime_t *rt, tr__actor_t *a, json_t *o, int depth) {
    tr__sup_info_t si;
    tr__sup_info(&rt->sched[a->ref.sched], a, &si);
    set(o, "strategy", json_string(PICK(strategy_names, si.strategy)));
    set(o, "intensity", ju(si.intensity));
    set(o, "period_ms", ju(si.period_ms));
    set(o, "recent_restarts", ju(si.recent));
    json_t *kids = json_array();
    int64_t n;
    tr_child_info_t *ci = children_of(rt, a->ref, &n);
    for (int64_t i = 0; ci && i < n; i++) {
        const tr_child_info_t *c = &ci[i];
        tr__actor_t *ca = tr_ref_valid(c->ref) ? tr__actor_get_any(rt, c->ref) : NULL;
        json_t *k = ca && c->is_supervisor && depth < 64 ? sup_json(rt, ca, depth + 1)
                                                          : json_object();
        set(k, "name", jstr(c->name));
        set(k, "path", jstr(c->path));
        set(k, "id", ca ? jid(c->ref) : json_null());
        set(k, "sched", ca ? json_integer(ca->ref.sched) : json_null());
        set(k, "kind", json_string(c->is_supervisor ? "supervisor" : "worker"));
        set(k, "type", jstr(c->type_name));
        set(k, "state", json_string(PICK(child_state_names, c->state)));
        set(k, "restart", json_string(PICK(restart_names, c->restart)));
        set(k, "incarnation", ju(c->incarnation ? c->incarnation : 1));
        set(k, "restarts", ju(c->restarts));
        set(k, "last_restarts", history_json(c));
        if (ca) {
            json_t *mb = json_object();
            set(mb, "depth", ju(tr__slot_depth(ca->slot)));
            set(mb, "capacity", ju(tr__slot_cap(ca->slot)));
            set(k, "mailbox", mb);
        }
        json_array_append_new(kids, k);
    }
    free(ci);
    set(o, "children", kids);
}

static json_t *sup_json(tr_runtime_t *rt, tr__actor_t *a, int depth) {
    json_t *o = json_object();
    sup_fields(rt, a, o, depth);
    return o;
}

static int cmd_tree(tr_runtime_t *rt, const req_t *r, json_t *res, fail_t *f) {
    (void)r;
    size_t n = 0;
    tr__actor_t **v = tr__live_actors(rt, false, &n);
    if (!v && atomic_load_explicit(&rt->actors_live, memory_order_relaxed))
        return failf(f, "internal", "out of memory");
    json_t *roots = json_array(), *loose = json_array();
    for (size_t i = 0; i < n; i++) {
        tr__actor_t *a = v[i];
        bool parented = a->x && tr_ref_valid(a->x->parent);
        if (parented) continue;
        if (tr__actor_sup(a)) {
            json_t *o = json_object();
            const char *p = a->x->path ? a->x->path : a->ti->type->name;
            set(o, "name", jstr(p));
            set(o, "path", jstr(p));
            set(o, "id", jid(a->ref));
            set(o, "sched", json_integer(a->ref.sched));
            set(o, "kind", json_string("supervisor"));
            sup_fields(rt, a, o, 0);
            json_array_append_new(roots, o);
        } else {
            char nb[256];
            json_t *o = json_object();
            set(o, "id", jid(a->ref));
            set(o, "name", jstr(tr__registry_name(rt, a->ref, nb, sizeof(nb))));
            set(o, "type", jstr(a->ti->type->name));
            set(o, "sched", json_integer(a->ref.sched));
            json_array_append_new(loose, o);
        }
    }
    free(v);
    set(res, "roots", roots);
    set(res, "unsupervised", loose);
    return 0;
}

static int int_arg(const req_t *r, long long def, long long max, long long *out, fail_t *f) {
    *out = def;
    if (!r->has_arg) return 0;
    if (!r->arg_is_int || r->arg_int < 1) return failf(f, "bad_argument", "%s: expected a count >= 1, got '%s'", r->cmd, r->arg);
    *out = r->arg_int < max ? r->arg_int : max;
    return 0;
}

static int cmd_actors(tr_runtime_t *rt, const req_t *r, json_t *res, fail_t *f) {
    long long limit;
    if (int_arg(r, ACTORS_DEFAULT, ACTORS_MAX, &limit, f)) return -1;
    size_t n = 0;
    tr__actor_t **v = tr__live_actors(rt, false, &n);
    if (!v && atomic_load_explicit(&rt->actors_live, memory_order_relaxed))
        return failf(f, "internal", "out of memory");
    json_t *a = json_array();
    for (size_t i = 0; i < n && i < (size_t)limit; i++) json_array_append_new(a, actor_brief(rt, v[i]));
    free(v);
    set(res, "total", ju(n));
    set(res, "truncated", json_boolean(n > (size_t)limit));
    set(res, "actors", a);
    return 0;
}

static int cmd_actor(tr_runtime_t *rt, const req_t *r, json_t *res, fail_t *f) {
    if (!r->has_arg) return failf(f, "bad_argument", "actor: which one? give a path, a name or an id (slot.gen)");
    tr__actor_t *a = find_actor(rt, r->arg);
    if (!a) return failf(f, "not_found", "no live actor named '%s'", r->arg);
    json_t *b = actor_brief(rt, a);
    json_object_update(res, b);
    json_decref(b);
    tr__extra_t *x = a->x;
    set(res, "incarnation", ju(x && x->incarnation ? x->incarnation : 1));
    set(res, "parent", jid(x ? x->parent : TR_REF_NONE));
    set(res, "overflow", json_string(PICK(overflow_names, TR__CFG_POL(atomic_load_explicit(&a->slot->cfg, memory_order_relaxed)))));
    size_t nt = 0, nf = 0, mw = 0, mb = 0;
    for (tr__atimer_t *t = x ? x->timers : NULL; t; t = t->next) nt++;
    for (tr__fdwatch_t *w = x ? x->fds : NULL; w; w = w->next) nf++;
    for (tr__mon_t *m = x ? x->mon_out : NULL; m; m = m->w_next) mw++;
    for (tr__mon_t *m = x ? x->mon_in : NULL; m; m = m->t_next) mb++;
    set(res, "timers", ju(nt));
    set(res, "fds", ju(nf));
    json_t *mon = json_object();
    set(mon, "watching", ju(mw));
    set(mon, "watched_by", ju(mb));
    set(res, "monitors", mon);
    uint64_t now = tr__now_ms(&rt->sched[0]); /* one clock for every scheduler */
    json_t *calls = json_array();
    for (tr__chan_t *c = a->calls; c; c = c->next) { /* channels of a's scheduler */
        json_t *e = json_object();
        tr__actor_t *callee = tr__actor_get_any(rt, c->callee);
        set(e, "callee", jid(c->callee));
        set(e, "callee_path", jpath(rt, c->callee));
        set(e, "msg_type", json_integer(c->msg_type));
        set(e, "msg", jmsg(callee ? callee->ti->type : NULL, c->msg_type));
        set(e, "age_ms", ju(now - c->created_ms));
        json_array_append_new(calls, e);
    }
    set(res, "calls", calls);
    json_t *kept = json_array();
    for (struct tr_reply_s *k = x ? x->kept : NULL; k; k = k->next) {
        /* the channel lives with its caller, maybe on another scheduler */
        tr__chan_t *c = k->home < rt->nsched
                            ? tr__chan_lookup(&rt->sched[k->home], k->chan_idx, k->chan_gen)
                            : NULL;
        if (!c) continue;
        json_t *e = json_object();
        set(e, "caller", jid(c->caller));
        set(e, "caller_path", jpath(rt, c->caller));
        set(e, "msg_type", json_integer(c->msg_type));
        set(e, "msg", jmsg(a->ti->type, c->msg_type));
        set(e, "age_ms", ju(now - c->created_ms));
        json_array_append_new(kept, e);
    }
    set(res, "kept", kept);
    char cb[256];
    json_t *cfg = json_object();
    set(cfg, "section", jstr(tr__actor_config_name(rt, a, cb, sizeof(cb))));
    set(cfg, "generation", ju(a->ring.owner_cfg_gen));
    set(res, "config", cfg);
    json_t *rs = NULL;
    int64_t nc = 0;
    tr__actor_t *p = x && tr_ref_valid(x->parent) ? tr__actor_get_any(rt, x->parent) : NULL;
    tr_child_info_t *ci = p ? children_of(rt, p->ref, &nc) : NULL;
    for (int64_t i = 0; ci && i < nc && !rs; i++)
        if (tr_ref_eq(ci[i].ref, a->ref)) rs = history_json(&ci[i]);
    free(ci);
    set(res, "restarts", rs ? rs : json_array());
    /* every ring: its own scheduler's has what it did, the others' hold
     * what actors there sent it */
    tr_event_t ev[TR__SCENE_EVENTS];
    size_t ne = tr__events_merged(rt, &a->ref, ev, TR__SCENE_EVENTS);
    json_t *evs = json_array();
    for (size_t i = 0; i < ne; i++) json_array_append_new(evs, event_json(rt, &ev[i]));
    set(res, "events", evs);
    if (a->ti->type->inspect) {
        tr_inspect_t w = {json_object()};
        a->ti->type->inspect(a->state, &w);
        set(res, "state", w.obj);
    }
    return 0;
}

static json_t *chain_json(tr_runtime_t *rt, const tr__wnode_t *nodes, const uint32_t *ix,
                          size_t n, bool paths) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, paths ? jpath(rt, nodes[ix[i]].ref) : jid(nodes[ix[i]].ref));
    return a;
}

static int cmd_waits(tr_runtime_t *rt, const req_t *r, json_t *res, fail_t *f) {
    (void)r;
    tr__waits_t g;
    if (tr__waits_build(rt, &g) != 0) return failf(f, "internal", "out of memory");
    json_t *edges = json_array();
    for (size_t i = 0; i < g.nedges; i++) {
        const tr__wedge_t *e = &g.edges[i];
        json_t *o = json_object();
        tr_ref_t caller = g.nodes[e->from].ref, callee = g.nodes[e->to].ref;
        tr__actor_t *ca = tr__actor_get_any(rt, callee);
        set(o, "caller", jid(caller));
        set(o, "caller_path", jpath(rt, caller));
        set(o, "callee", jid(callee));
        set(o, "callee_path", jpath(rt, callee));
        set(o, "msg_type", json_integer(e->msg_type));
        set(o, "msg", jmsg(ca ? ca->ti->type : NULL, e->msg_type));
        set(o, "age_ms", ju(e->age_ms));
        set(o, "timeout_ms", e->timeout_ms ? ju(e->timeout_ms) : json_null());
        set(o, "state", json_string(e->kept ? "kept" : "queued"));
        json_array_append_new(edges, o);
    }
    json_t *cycles = json_array();
    for (size_t i = 0; i < g.ncycles; i++) {
        json_t *o = json_object();
        set(o, "actors", chain_json(rt, g.nodes, g.cycles[i].ix, g.cycles[i].n, false));
        set(o, "paths", chain_json(rt, g.nodes, g.cycles[i].ix, g.cycles[i].n, true));
        json_array_append_new(cycles, o);
    }
    json_t *stalls = json_array();
    for (size_t i = 0; i < g.nstalls; i++) {
        const tr__wstall_t *st = &g.stalls[i];
        json_t *o = json_object();
        set(o, "end", jid(g.nodes[st->end].ref));
        set(o, "end_path", jpath(rt, g.nodes[st->end].ref));
        set(o, "chain", chain_json(rt, g.nodes, st->chain.ix, st->chain.n, false));
        set(o, "paths", chain_json(rt, g.nodes, st->chain.ix, st->chain.n, true));
        set(o, "age_ms", ju(st->age_ms));
        set(o, "blocked", ju(st->blocked));
        json_array_append_new(stalls, o);
    }
    tr__waits_free(&g);
    set(res, "edges", edges);
    set(res, "cycles", cycles);
    set(res, "stalls", stalls);
    set(res, "stall_threshold_ms", rt->opts.stall_ms > 0 ? ju((uint64_t)rt->opts.stall_ms) : json_null());
    return 0;
}

/* Every scheduler has its own ring: `ring` is what they keep together,
 * `total` what they recorded, and the events are merged by time. */
static int cmd_trace(tr_runtime_t *rt, const req_t *r, json_t *res, fail_t *f) {
    uint64_t ring = 0, total = 0;
    for (uint16_t i = 0; i < rt->nsched; i++) {
        ring += (uint64_t)rt->sched[i].ev_mask + 1;
        total += rt->sched[i].ev_n;
    }
    long long want;
    if (int_arg(r, TRACE_DEFAULT, (long long)ring, &want, f)) return -1;
    tr_event_t *ev = malloc((size_t)want * sizeof(*ev));
    if (!ev) return failf(f, "internal", "out of memory");
    size_t n = tr__events_merged(rt, NULL, ev, (size_t)want);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, event_json(rt, &ev[i]));
    free(ev);
    set(res, "ring", ju(ring));
    set(res, "total", ju(total));
    set(res, "events", a);
    return 0;
}

/* Real time since creation, in ns: scheduler busy time is measured in real
 * time even under a manual clock, so its load is too. */
static uint64_t real_uptime_ns(tr_runtime_t *rt) {
    uint64_t now = tr__mono_ns(), t0 = rt->mono0_ms * 1000000u;
    return now > t0 ? now - t0 : 0;
}

/* A fraction with three decimals (0.125), or null without a time base. */
static json_t *jfrac(uint64_t part, uint64_t whole) {
    if (!whole) return json_null();
    double permille = (double)part * 1000.0 / (double)whole + 0.5;
    return json_real((double)(uint64_t)permille / 1000.0);
}

static int cmd_schedulers(tr_runtime_t *rt, const req_t *r, json_t *res, fail_t *f) {
    (void)r;
    uint64_t up = real_uptime_ns(rt);
    json_t *a = json_array();
    for (uint16_t i = 0; i < rt->nsched; i++) {
        tr_sched_stats_t st;
        int e = tr_runtime_sched_stats(rt, i, &st);
        if (e) {
            json_decref(a);
            return failf(f, "internal", "scheduler %u: %s", i, tr_strerror(e));
        }
        json_t *o = json_object();
        set(o, "id", json_integer(st.id));
        set(o, "actors", ju(st.actors));
        set(o, "runq", ju(st.runq)); /* exact: its scheduler is parked */
        set(o, "msgs_handled", ju(st.msgs_handled));
        set(o, "loop_passes", ju(st.loop_passes));
        set(o, "remote_in", ju(st.remote_in));
        set(o, "wakeups", ju(st.wakeups));
        set(o, "spins", ju(st.spins));
        set(o, "spin_hits", ju(st.spin_hits));
        set(o, "sleeps", ju(st.sleeps));
        set(o, "busy_ms", ju(st.busy_ns / 1000000u));
        set(o, "load", jfrac(st.busy_ns, up));
        json_array_append_new(a, o);
    }
    set(res, "uptime_ms", ju(tr__now_ms(&rt->sched[0])));
    set(res, "schedulers", a);
    return 0;
}

static int cmd_stats(tr_runtime_t *rt, const req_t *r, json_t *res, fail_t *f) {
    (void)r, (void)f;
    tr_stats_t st;
    tr_runtime_stats(rt, &st);
    set(res, "uptime_ms", ju(tr__now_ms(&rt->sched[0])));
    set(res, "schedulers", json_integer(rt->nsched)); /* each: `schedulers` */
    json_t *o = json_object();
#define S(field) set(o, #field, ju(st.field))
    S(actors_spawned); S(actors_stopped); S(actors_live); S(msgs_sent); S(msgs_handled);
    S(sends_rejected); S(dead_letters); S(drops_newest); S(drops_oldest); S(chan_created);
    S(chan_ok); S(chan_error); S(chan_timeout); S(chan_dropped); S(chan_undelivered);
    S(chan_cancelled); S(chan_pending); S(late_replies); S(conts_cancelled);
    S(watermark_high); S(watermark_low); S(inbox_wakeups); S(loop_passes); S(panics);
    S(faults_isolated); S(restarts); S(downs); S(exits); S(config_generation);
    S(reloads_ok); S(reloads_failed); S(config_updates);
#undef S
    set(res, "runtime", o);
    json_t *c = json_object();
    set(c, "created", ju(st.chan_created));
    set(c, "ok", ju(st.chan_ok));
    set(c, "error", ju(st.chan_error));
    set(c, "timeout", ju(st.chan_timeout));
    set(c, "dropped", ju(st.chan_dropped));
    set(c, "undelivered", ju(st.chan_undelivered));
    set(c, "cancelled", ju(st.chan_cancelled));
    set(c, "pending", ju(st.chan_pending));
    set(c, "late_replies", ju(st.late_replies));
    set(res, "reply_channels", c);
    tr__debug_stats_t ds;
    tr__debug_stats(rt, &ds);
    json_t *d = json_object();
    set(d, "clients", ju(ds.clients));
    set(d, "accepted", ju(ds.accepted));
    set(d, "refused", ju(ds.refused));
    set(d, "evicted", ju(ds.evicted));
    set(d, "requests", ju(ds.requests));
    set(d, "errors", ju(ds.errors));
    set(res, "debug", d);
    tr__diag_t *g = rt->diag;
    json_t *dg = json_object();
    pthread_mutex_lock(&g->mu);
    set(dg, "stalls", ju(g->stalls));
    set(dg, "deadlocks", ju(g->deadlocks));
    set(dg, "hung_handlers", ju(g->hung));
    pthread_mutex_unlock(&g->mu);
    set(res, "diagnostics", dg);
    return 0;
}

typedef struct cfg_walk_s {
    json_t *sections, *cur_keys;
    const char *cur;
} cfg_walk_t;

static int cfg_key(void *arg, const char *section, const char *key, const char *value, int line) {
    cfg_walk_t *w = arg;
    if (!w->cur || strcmp(w->cur, section) != 0) {
        json_t *s = json_object();
        set(s, "name", jstr(section));
        w->cur_keys = json_array();
        set(s, "keys", w->cur_keys);
        json_array_append_new(w->sections, s);
        w->cur = section;
    }
    json_t *k = json_object();
    set(k, "key", jstr(key));
    set(k, "value", jstr(value));
    set(k, "line", json_integer(line));
    json_array_append_new(w->cur_keys, k);
    return 0;
}

static int cmd_config(tr_runtime_t *rt, const req_t *r, json_t *res, fail_t *f) {
    (void)r, (void)f;
    tr_config_status_t st;
    tr_runtime_config_status(rt, &st);
    tr_config_t *cfg = tr_runtime_config(rt);
    set(res, "path", st.path[0] ? jstr(st.path) : json_null());
    set(res, "name", cfg ? jstr(tr_config_name(cfg)) : json_null());
    set(res, "generation", ju(st.generation));
    set(res, "reloads_ok", ju(st.reloads_ok));
    set(res, "reloads_failed", ju(st.reloads_failed));
    char line[1024];
    set(res, "last_error", st.reloads_failed ? jstr(tr_config_error_str(&st.last_error, line, sizeof(line))) : json_null());
    cfg_walk_t w = {json_array(), NULL, NULL};
    if (cfg) tr_config_each(cfg, cfg_key, &w);
    tr_config_release(cfg);
    set(res, "sections", w.sections);
    return 0;
}

static int cmd_reload(tr_runtime_t *rt, const req_t *r, json_t *res, fail_t *f) {
    (void)r;
    tr_config_error_t err;
    memset(&err, 0, sizeof(err));
    int e = tr_runtime_reload(rt, &err);
    if (e == TR_ECONFIG) {
        char line[1024];
        return failf(f, "config", "%s", tr_config_error_str(&err, line, sizeof(line)));
    }
    if (e == TR_EINVAL) return failf(f, "bad_argument", "this runtime has no config file to reload");
    if (e) return failf(f, e == TR_ENOMEM ? "internal" : "config", "reload failed: %s", tr_strerror(e));
    tr_config_status_t st;
    tr_runtime_config_status(rt, &st);
    set(res, "generation", ju(st.generation));
    return 0;
}

static json_t *strv(char **v, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, jstr(v[i]));
    return a;
}

static int cmd_alerts(tr_runtime_t *rt, const req_t *r, json_t *res, fail_t *f) {
    long long want;
    if (int_arg(r, ALERTS_DEFAULT, TR__ALERTS, &want, f)) return -1;
    static const char *const kinds[] = {"?", "stall", "deadlock", "hung_handler"};
    tr__diag_t *g = rt->diag;
    json_t *a = json_array();
    pthread_mutex_lock(&g->mu);
    uint64_t first = g->seq > (uint64_t)want ? g->seq - (uint64_t)want + 1 : 1;
    for (uint64_t q = first; q <= g->seq; q++) {
        const tr__alert_t *al = g->ring[q % TR__ALERTS];
        if (!al || al->seq != q) continue;
        json_t *o = json_object();
        set(o, "seq", ju(al->seq));
        set(o, "kind", json_string(PICK(kinds, al->kind)));
        set(o, "wall_ms", ju(al->wall_ms));
        set(o, "runtime_ms", ju(al->runtime_ms));
        set(o, "actor", jid(al->actor));
        set(o, "path", jstr(al->path));
        set(o, "msg_type", json_integer(al->msg_type));
        set(o, "msg", jstr(al->msg_name));
        set(o, "age_ms", ju(al->age_ms));
        set(o, "chain", strv(al->chain, al->nchain));
        set(o, "backtrace", strv(al->frames, al->nframes));
        set(o, "text", jstr(al->text));
        json_array_append_new(a, o);
    }
    pthread_mutex_unlock(&g->mu);
    set(res, "alerts", a);
    return 0;
}

/* New commands go at the end: clients may rely on the order of the hello's
 * list. `reload` must not stop the world: it stops it itself for as long as
 * it needs (tr_runtime_reload). */
static const cmd_t commands[] = {
    {"help", "", "this list", cmd_help, false},
    {"tree", "", "the supervision tree: strategies, intensity, children, restarts, schedulers", cmd_tree, true},
    {"actors", "[LIMIT]", "every live actor: scheduler, mailbox, handled, drops, pending calls, busy time", cmd_actors, true},
    {"actor", "<PATH|NAME|ID>", "one actor in detail, with its type's inspect output", cmd_actor, true},
    {"waits", "", "the wait-for graph across schedulers: pending calls, deadlock cycles, stalls", cmd_waits, true},
    {"trace", "[N]", "the flight recorder's last N events, every scheduler's merged by time (default 50)", cmd_trace, true},
    {"stats", "", "runtime counters, reply channels by outcome, debug and detector counters", cmd_stats, false},
    {"config", "", "the running config, its generation and the last reload result", cmd_config, false},
    {"reload", "", "re-read the config file now (as the reload signal does)", cmd_reload, false},
    {"alerts", "[N]", "the last N stall, deadlock and hung-handler reports (default 20)", cmd_alerts, false},
    {"schedulers", "", "each scheduler: actors, run queue, messages, wake-ups, spins, sleeps, load", cmd_schedulers, true},
};
static const size_t ncommands = sizeof(commands) / sizeof(commands[0]);

/* ---- parsing ---- */

static bool utf8_ok(const char *p, size_t len) {
    json_t *j = json_stringn(p, len); /* jansson's validator (NUL passes: the
                                         text parser refuses control bytes) */
    bool ok = j != NULL;
    json_decref(j);
    return ok;
}

static void set_arg(req_t *r, const char *p, size_t len) {
    r->has_arg = true;
    memcpy(r->arg, p, len);
    r->arg[len] = 0;
    char *end;
    errno = 0;
    long long v = strtoll(r->arg, &end, 10);
    r->arg_is_int = len && *end == 0 && errno == 0 && (isdigit((unsigned char)r->arg[0]) || r->arg[0] == '-');
    r->arg_int = v;
}

static int parse_text(const char *line, size_t len, req_t *r, fail_t *f) {
    if (!utf8_ok(line, len)) return failf(f, "bad_request", "request is not valid UTF-8 text");
    const char *w[3];
    size_t wl[3], nw = 0, i = 0;
    while (i < len && nw < 3) {
        while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
        if (i == len) break;
        size_t st = i;
        while (i < len && line[i] != ' ' && line[i] != '\t') i++;
        w[nw] = line + st;
        wl[nw++] = i - st;
    }
    if (nw == 0) return failf(f, "bad_request", "empty request");
    if (nw == 3) return failf(f, "bad_request", "too many words: a text request is `COMMAND [ARG]`");
    for (size_t k = 0; k < len; k++)
        if ((unsigned char)line[k] < 0x20 && line[k] != '\t')
            return failf(f, "bad_request", "control character in request");
    if (wl[0] >= sizeof(r->cmd)) return failf(f, "unknown_command", "unknown command (too long)");
    memcpy(r->cmd, w[0], wl[0]);
    r->cmd[wl[0]] = 0;
    if (nw == 2) {
        if (wl[1] >= ARG_MAX) return failf(f, "bad_argument", "argument longer than %d bytes", ARG_MAX - 1);
        set_arg(r, w[1], wl[1]);
    }
    return 0;
}

static int parse_json(const char *line, size_t len, req_t *r, fail_t *f) {
    json_error_t je;
    json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) return failf(f, "bad_request", "invalid JSON at column %d: %s", je.column, je.text);
    int rc = 0;
    if (!json_is_object(root)) {
        rc = failf(f, "bad_request", "a request is a JSON object");
        goto out;
    }
    json_t *id = json_object_get(root, "id");
    if (id) r->id = json_incref(id);
    json_t *cmd = json_object_get(root, "cmd");
    if (!json_is_string(cmd)) {
        rc = failf(f, "bad_request", "\"cmd\" must be a string");
        goto out;
    }
    if (json_string_length(cmd) >= sizeof(r->cmd) || strlen(json_string_value(cmd)) != json_string_length(cmd)) {
        rc = failf(f, "unknown_command", "unknown command (too long or contains NUL)");
        goto out;
    }
    strcpy(r->cmd, json_string_value(cmd));
    json_t *arg = json_object_get(root, "arg");
    if (json_is_string(arg)) {
        size_t al = json_string_length(arg);
        if (al >= ARG_MAX || strlen(json_string_value(arg)) != al) {
            rc = failf(f, "bad_argument", "\"arg\" longer than %d bytes or contains NUL", ARG_MAX - 1);
            goto out;
        }
        set_arg(r, json_string_value(arg), al);
    } else if (json_is_integer(arg)) {
        char b[32];
        int n = snprintf(b, sizeof(b), "%" JSON_INTEGER_FORMAT, json_integer_value(arg));
        set_arg(r, b, (size_t)n);
    } else if (arg && !json_is_null(arg)) {
        rc = failf(f, "bad_request", "\"arg\" must be a string or an integer");
    }
out:
    json_decref(root);
    return rc;
}

/* ---- responses ---- */

static char *dump_line(json_t *o) {
    /* reals are fractions rounded to 3 decimals: 6 digits print them exactly */
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(o);
    return s;
}

static char *error_obj(json_t *id, const char *code, const char *msg) {
    json_t *o = json_object();
    set(o, "v", json_integer(TR_DEBUG_PROTOCOL));
    if (id) set(o, "id", json_incref(id));
    set(o, "ok", json_false());
    json_t *e = json_object();
    set(e, "code", json_string(code));
    set(e, "message", jstr(msg));
    set(o, "error", e);
    return dump_line(o);
}

char *tr__debug_hello(void) {
    json_t *o = json_object();
    set(o, "v", json_integer(TR_DEBUG_PROTOCOL));
    set(o, "hello", json_string("troupe"));
    set(o, "version", json_string(TROUPE_VERSION_STRING));
    set(o, "pid", json_integer(getpid()));
    json_t *names = json_array();
    for (size_t i = 0; i < ncommands; i++) json_array_append_new(names, json_string(commands[i].name));
    set(o, "commands", names);
    return dump_line(o);
}

char *tr__debug_error_line(const char *code, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return error_obj(NULL, code, msg);
}

/* Run one command; with the world stopped when it reads what belongs to
 * the schedulers' threads. The answer is a tree of jansson copies, so the
 * world resumes before it is serialized. */
static int run(tr_runtime_t *rt, const cmd_t *cmd, const req_t *r, json_t *res, fail_t *f) {
    if (!cmd->world) return cmd->fn(rt, r, res, f);
    int e = tr__world_stop(rt, TR__WORLD_WAIT_MS);
    if (e == TR_ETIMEDOUT)
        return failf(f, "busy",
                     "%s: a scheduler did not reach a safe point within %u ms; a handler is "
                     "probably running long (see `alerts`); try again",
                     cmd->name, TR__WORLD_WAIT_MS);
    if (e) return failf(f, "internal", "%s: cannot stop the schedulers: %s", cmd->name, tr_strerror(e));
    int rc = cmd->fn(rt, r, res, f);
    tr__world_resume(rt);
    return rc;
}

int tr__debug_exec(tr_runtime_t *rt, const char *line, size_t len, char **out, bool *failed) {
    *out = NULL;
    *failed = false;
    while (len && (line[len - 1] == '\r')) len--;
    size_t lead = 0;
    while (lead < len && (line[lead] == ' ' || line[lead] == '\t')) lead++;
    if (lead == len) return 0; /* an empty line: nothing to answer */
    req_t r;
    memset(&r, 0, sizeof(r));
    fail_t f = {NULL, ""};
    int rc;
    if (len >= TR__DEBUG_LINE_MAX)
        rc = failf(&f, "too_long", "request line of %u bytes or more", TR__DEBUG_LINE_MAX);
    else if (line[lead] == '{' || line[lead] == '[') /* JSON (an array is refused there) */
        rc = parse_json(line + lead, len - lead, &r, &f);
    else
        rc = parse_text(line + lead, len - lead, &r, &f);
    const cmd_t *cmd = NULL;
    if (rc == 0) {
        for (size_t i = 0; i < ncommands && !cmd; i++)
            if (strcmp(commands[i].name, r.cmd) == 0) cmd = &commands[i];
        if (!cmd) {
            char list[256] = "";
            size_t used = 0;
            for (size_t i = 0; i < ncommands; i++)
                used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? " " : "", commands[i].name);
            rc = failf(&f, "unknown_command", "unknown command '%s'; commands: %s", r.cmd, list);
        }
    }
    json_t *res = rc == 0 ? json_object() : NULL;
    if (rc == 0) rc = run(rt, cmd, &r, res, &f);
    char *s;
    if (rc == 0) {
        json_t *o = json_object();
        set(o, "v", json_integer(TR_DEBUG_PROTOCOL));
        if (r.id) set(o, "id", json_incref(r.id));
        set(o, "ok", json_true());
        set(o, "cmd", json_string(cmd->name));
        set(o, "result", res);
        s = dump_line(o);
        if (s && strlen(s) > RESPONSE_MAX) {
            free(s);
            s = error_obj(r.id, "too_large", "the response exceeds 4 MiB; ask for fewer items (e.g. `actors 1000`)");
        }
    } else {
        json_decref(res);
        s = error_obj(r.id, f.code, f.msg);
    }
    json_decref(r.id);
    *failed = rc != 0;
    if (!s) return TR_ENOMEM;
    *out = s;
    return 0;
}

int tr_debug_request(tr_runtime_t *rt, const char *line, size_t len, char **out) {
    if (!rt || !out || (!line && len)) return TR_EINVAL;
    *out = NULL;
    /* scheduler 0's thread (the owner thread, or stepping) outside any
     * handler: the only place that may stop the world */
    tr__sched_t *s = &rt->sched[0];
    if (!tr__may_touch(s) || s->ctx.actor) return TR_EWRONGTHREAD;
    bool failed;
    int e = tr__debug_exec(rt, line ? line : "", len, out, &failed);
    if (e) return e;
    if (!*out) *out = error_obj(NULL, "bad_request", "empty request");
    return *out ? 0 : TR_ENOMEM;
}
