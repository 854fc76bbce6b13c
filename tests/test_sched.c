/* tests/test_sched.c: multi-core schedulers (issue #8). Every runtime here
 * names its scheduler count explicitly, so this suite has no _s2/_s4
 * variants in tests/CMakeLists.txt.
 *
 * Deterministic part (no threads, no sleeps): outside tr_runtime_run the
 * owner thread steps every scheduler in turn, and messages between
 * schedulers still go through their inboxes. Placement (ANY round-robin,
 * LOCAL, PIN, NEAR, child specs, nested supervisors), per-pair FIFO with
 * calls interleaved, mailbox capacity counted across schedulers, calls
 * across schedulers (value, continuation on the caller's scheduler,
 * DropWithoutReport returned / panicked / discarded, timeout then late
 * reply, caller stopped first), spawns onto another scheduler from a
 * handler (asynchronous init, refusals, under a supervisor), supervisors
 * with children on other schedulers (one_for_all, ordered shutdown, the
 * tr_sup_* thread rule), monitors and UpdateConfig across schedulers. Each
 * test ends with tr_runtime_verify and the reply-channel balance.
 *
 * Threaded part (tr_runtime_run with real scheduler threads, 2 and 4
 * schedulers): a stress of 1,000,000 accepted sends and calls with panics
 * and stops under a supervisor, per-pair FIFO with backpressure, foreign
 * producers, tr_call_sync to every scheduler, ordered shutdown, and a
 * supervisor started from a handler. These end deterministically (an actor
 * or the foreign thread calls tr_runtime_shutdown / tr_runtime_stop once it
 * has seen everything), never sleep, assert nothing about timing, and
 * assert only on the main thread after tr_runtime_run has returned:
 * handlers only count, in atomics or under a mutex. Handlers also check
 * that each scheduler runs on one thread of its own, scheduler 0 on the
 * owner thread (tid_check). They are what the ThreadSanitizer build is for.
 * TROUPE_SCHED_STRESS_OPS scales the stress (default 1,000,000; the TSan
 * build sets 250,000 in tests/CMakeLists.txt). */
#include "tr_test.h"

#include <ev.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum {
    MSG_NOTE = TR_MSG_USER, /* node: log L_NOTE(id) */
    MSG_ECHO,               /* node: int -> reply int * 2 */
    MSG_NOREPLY,            /* node: return without replying */
    MSG_BOOM,               /* node: int n: tr_panic("boom id=<id> n=<n>") */
    MSG_KEEP,               /* node: keep the reply channel */
    MSG_RELEASE,            /* node: int: answer the kept channel */
    MSG_WHERE,              /* node: record tr_self().sched */
    MSG_SPAWN,              /* node: spawn_req_t: tr_spawn from a handler */
    MSG_GO,                 /* node: go_t: make calls */
    MSG_FLOOD,              /* node: flood_t: send until an error */
    MSG_WATCH,              /* node: tr_ref_t: tr_monitor it */
    MSG_UNWATCH,            /* node: int64_t: tr_demonitor it */
    MSG_UNWATCH_STOP,       /* node: unwatch_t: tr_demonitor, then tr_stop */
    MSG_SEQ_START,          /* node: seq_start_t: become a numbered sender */
    MSG_SEQ_TICK,           /* node: the sender's next batch */
    MSG_SEQ,                /* node: seq_t: numbered one-way message */
    MSG_SEQ_CALL,           /* node: seq_t: numbered call, reply the seq */
    MSG_SUPQ                /* node: supq_t: tr_sup_* calls on a supervisor */
};

#define MAXN 32 /* node ids */
#define MAXC 64 /* continuation results kept */
#define MAXD 16 /* DOWN messages kept */

/* Codes pushed to g.log. */
#define L_TRY(id) (100 + (id))  /* init entered */
#define L_INIT(id) (200 + (id)) /* init succeeded */
#define L_TERM(id) (300 + (id)) /* terminate ran */
#define L_NOTE(id) (400 + (id)) /* MSG_NOTE handled */
#define L_ECHO(id) (500 + (id)) /* MSG_ECHO handled */

typedef struct res_s {
    int status, error, drop_reason, value, has_detail;
    char detail[160];
    size_t len;
    tr_ref_t responder;
    int sched;   /* tr_self(ctx).sched in the continuation */
    int self_ok; /* tr_self(ctx) is the caller */
    intptr_t cookie;
} res_t;

/* What the actors of the deterministic tests saw (owner thread only). */
typedef struct probe_s {
    tt_log_t log;
    int inits[MAXN], terms[MAXN], term_reason[MAXN], notes[MAXN];
    int init_sched[MAXN]; /* scheduler of the last init, +1 (0: none) */
    int fail_init[MAXN];  /* > 0: init refuses (that many times) */
    int panic_init[MAXN]; /* > 0: init panics (that many times) */
    int where[MAXN];      /* MSG_WHERE: scheduler + 1 */
    int hook_calls;
    char hook_reason[160];
    /* MSG_SPAWN */
    int spawn_rc;
    tr_ref_t spawn_ref;
    int spawner_sched;
    int inits_at_return; /* g.inits[child] right after tr_spawn returned */
    int spawn_note_rc, spawn_call_rc;
    int64_t spawn_monitor;
    /* MSG_GO */
    int call_rc[MAXC];
    int ncall_rc;
    int note_rc, stop_rc;
    int conts;
    res_t res[MAXC];
    int kept_ok, release_rc;
    /* MSG_FLOOD */
    int flood_accepted, flood_first_err, flood_again_rc;
    /* per-pair FIFO */
    int seq_seen[MAXN], seq_errors, seq_send_errors;
    int seq_conts, seq_cont_errors, seq_cont_wrong_sched;
    int seq_last_cont[MAXN];
    /* monitors */
    int64_t last_monitor;
    int demonitor_rc, unwatch_stop_rc;
    int downs;
    int64_t down_monitor[MAXD];
    tr_ref_t down_actor[MAXD];
    int down_reason[MAXD];
    char down_detail[MAXD][160];
    /* config */
    int configs, validations;
    int config_sched[MAXN]; /* + 1 */
    int64_t speed[MAXN];
    char refuse[64]; /* validate_config refuses this section name */
    /* MSG_SUPQ */
    int64_t supq_which;
    int supq_term, supq_add;
    int supq_sched;
} probe_t;

static probe_t g;

static int setup(void **state) {
    (void)state;
    memset(&g, 0, sizeof g);
    return 0;
}

static void count_hook(void *arg, const tr_panic_scene_t *sc) {
    (void)arg;
    g.hook_calls++;
    snprintf(g.hook_reason, sizeof g.hook_reason, "%s", sc->reason ? sc->reason : "(null)");
}

/* ------------------------------------------------------------------ */
/* node: one actor type for the deterministic tests */

typedef struct node_s {
    int id;
    tr_ref_t self;
    tr_reply_t *kept;
    /* numbered sender */
    tr_ref_t seq_to;
    int seq_next, seq_n;
    /* numbered receiver: next expected seq per sender id */
    int expect[MAXN];
} node_t;

typedef struct spawn_req_s {
    tr_placement_t place;
    uint16_t scheduler;
    tr_ref_t near;
    int id;         /* the child's id (its init args, copied) */
    int note_after; /* tr_send(child, MSG_NOTE) right after tr_spawn */
    int call_after; /* tr_call(child, MSG_ECHO, 5) right after tr_spawn */
    int monitor_after;
} spawn_req_t;

typedef struct go_s {
    tr_ref_t target;
    int type;
    int arg;
    int with_arg;   /* send arg as an int payload */
    int ncalls;     /* 0: 1 */
    uint32_t timeout_ms;
    int note_first; /* a one-way MSG_NOTE to target before the calls */
    int stop_after; /* tr_stop(target) after the calls */
} go_t;

typedef struct flood_s {
    tr_ref_t target;
    int calls; /* tr_call MSG_ECHO instead of tr_send MSG_NOTE */
    int max;
} flood_t;

typedef struct unwatch_s {
    int64_t id;
    tr_ref_t target;
} unwatch_t;

typedef struct seq_start_s {
    tr_ref_t to;
    int n;
} seq_start_t;

typedef struct seq_s {
    int from; /* sender id */
    int seq;
} seq_t;

typedef struct supq_s {
    tr_ref_t sup;
    tr_ref_t child; /* tr_sup_terminate_child it */
} supq_t;

#define SEQ_BATCH 250
#define SEQ_CALL_EVERY 7

static int node_init(tr_ctx_t *ctx, void *state, const void *args) {
    node_t *n = state;
    int id = 0;
    if (args)
        memcpy(&id, args, sizeof id);
    if (id < 0 || id >= MAXN)
        return -1;
    n->id = id;
    n->self = tr_self(ctx);
    tt_log_push(&g.log, L_TRY(id));
    g.init_sched[id] = n->self.sched + 1;
    if (g.panic_init[id] > 0) {
        g.panic_init[id]--;
        tr_panic(ctx, "init panic id=%d", id);
    }
    if (g.fail_init[id] > 0) {
        g.fail_init[id]--;
        return -1;
    }
    g.inits[id]++;
    tt_log_push(&g.log, L_INIT(id));
    return 0;
}

static void node_terminate(tr_ctx_t *ctx, void *state, tr_stop_reason_t reason) {
    (void)ctx;
    node_t *n = state;
    g.terms[n->id]++;
    g.term_reason[n->id] = (int)reason;
    tt_log_push(&g.log, L_TERM(n->id));
}

static int node_validate(const tr_config_section_t *sec, tr_config_error_t *err) {
    g.validations++;
    int64_t speed;
    int r = tr_config_int(sec, "speed", 1, 0, 100, &speed, err);
    if (r)
        return r;
    if (g.refuse[0] && sec->name && strcmp(sec->name, g.refuse) == 0)
        return tr_config_refuse(err, sec, "speed", "refused by test");
    return 0;
}

static void node_on_config(tr_ctx_t *ctx, void *state, const tr_config_section_t *sec) {
    node_t *n = state;
    g.configs++;
    g.config_sched[n->id] = tr_self(ctx).sched + 1;
    int64_t speed = -1;
    if (tr_config_int(sec, "speed", 1, 0, 100, &speed, NULL) == 0)
        g.speed[n->id] = speed;
}

static void on_result(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie) {
    node_t *n = state;
    int i = g.conts++;
    if (i >= MAXC)
        return;
    res_t *x = &g.res[i];
    x->status = r->status;
    x->error = r->error;
    x->drop_reason = (int)r->drop_reason;
    x->has_detail = r->detail != NULL;
    if (r->detail)
        snprintf(x->detail, sizeof x->detail, "%s", r->detail);
    x->len = r->len;
    if (r->status == TR_OK && r->len == sizeof(int))
        memcpy(&x->value, r->data, sizeof(int));
    x->responder = r->responder;
    x->sched = tr_self(ctx).sched;
    x->self_ok = tr_ref_eq(tr_self(ctx), n->self);
    x->cookie = (intptr_t)cookie;
}

static void on_note(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)m;
    node_t *n = state;
    g.notes[n->id]++;
    tt_log_push(&g.log, L_NOTE(n->id));
}

static void on_echo(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    node_t *n = state;
    int v;
    memcpy(&v, m->data, sizeof v);
    tt_log_push(&g.log, L_ECHO(n->id));
    v *= 2;
    (void)tr_reply(ctx, m, &v, sizeof v);
}

static void on_noreply(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    (void)m;
}

static void on_boom(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    node_t *n = state;
    int v;
    memcpy(&v, m->data, sizeof v);
    tr_panic(ctx, "boom id=%d n=%d", n->id, v);
}

static void on_keep(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    node_t *n = state;
    n->kept = tr_reply_keep(ctx, m);
    g.kept_ok = n->kept != NULL;
}

static void on_release(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    node_t *n = state;
    int v;
    memcpy(&v, m->data, sizeof v);
    g.release_rc = n->kept ? tr_reply_to(ctx, n->kept, &v, sizeof v) : 12345;
    n->kept = NULL;
}

static void on_where(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)m;
    node_t *n = state;
    g.where[n->id] = tr_self(ctx).sched + 1;
}

static const tr_actor_type_t node_type; /* below: the handlers reference it */

static void on_spawn(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    spawn_req_t rq;
    memcpy(&rq, m->data, sizeof rq);
    int child_id = rq.id;
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.place = rq.place;
    o.scheduler = rq.scheduler;
    o.near = rq.near;
    o.args = &child_id;
    o.args_len = sizeof child_id; /* copied: child_id is scribbled over below */
    g.spawner_sched = tr_self(ctx).sched;
    g.spawn_ref = TR_REF_NONE;
    g.spawn_rc = tr_spawn(tr_ctx_runtime(ctx), &node_type, &o, &g.spawn_ref);
    g.inits_at_return = (rq.id >= 0 && rq.id < MAXN) ? g.inits[rq.id] : -1;
    child_id = -7;
    if (g.spawn_rc != 0)
        return;
    if (rq.note_after)
        g.spawn_note_rc = tr_send(ctx, g.spawn_ref, MSG_NOTE, NULL, 0);
    if (rq.call_after) {
        int v = 5;
        g.spawn_call_rc = tr_call(ctx, g.spawn_ref, MSG_ECHO, &v, sizeof v, on_result,
                                  (void *)(intptr_t)5, 0);
    }
    if (rq.monitor_after)
        g.spawn_monitor = tr_monitor(ctx, g.spawn_ref);
}

static void on_go(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    go_t go;
    memcpy(&go, m->data, sizeof go);
    if (go.note_first)
        g.note_rc = tr_send(ctx, go.target, MSG_NOTE, NULL, 0);
    int n = go.ncalls > 0 ? go.ncalls : 1;
    for (int i = 0; i < n; i++) {
        int rc = tr_call(ctx, go.target, go.type, go.with_arg ? &go.arg : NULL,
                         go.with_arg ? sizeof(int) : 0, on_result, (void *)(intptr_t)(i + 1),
                         go.timeout_ms);
        if (g.ncall_rc < MAXC)
            g.call_rc[g.ncall_rc] = rc;
        g.ncall_rc++;
    }
    if (go.stop_after)
        g.stop_rc = tr_stop(tr_ctx_runtime(ctx), go.target);
}

static void on_flood(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    flood_t f;
    memcpy(&f, m->data, sizeof f);
    g.flood_accepted = 0;
    g.flood_first_err = 0;
    for (int i = 0; i < f.max; i++) {
        int v = i;
        int rc = f.calls ? tr_call(ctx, f.target, MSG_ECHO, &v, sizeof v, on_result,
                                   (void *)(intptr_t)i, 0)
                         : tr_send(ctx, f.target, MSG_NOTE, NULL, 0);
        if (rc != 0) {
            g.flood_first_err = rc;
            break;
        }
        g.flood_accepted++;
    }
    g.flood_again_rc = tr_send(ctx, f.target, MSG_NOTE, NULL, 0);
}

static void on_watch(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    tr_ref_t target;
    memcpy(&target, m->data, sizeof target);
    g.last_monitor = tr_monitor(ctx, target);
}

static void on_unwatch(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    int64_t id;
    memcpy(&id, m->data, sizeof id);
    g.demonitor_rc = tr_demonitor(ctx, id);
}

static void on_unwatch_stop(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    unwatch_t u;
    memcpy(&u, m->data, sizeof u);
    g.demonitor_rc = tr_demonitor(ctx, u.id);
    g.unwatch_stop_rc = tr_stop(tr_ctx_runtime(ctx), u.target);
}

static void on_down(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    (void)state;
    const tr_down_t *d = m->data;
    int i = g.downs++;
    if (i >= MAXD)
        return;
    g.down_monitor[i] = d->monitor;
    g.down_actor[i] = d->actor;
    g.down_reason[i] = (int)d->reason;
    snprintf(g.down_detail[i], sizeof g.down_detail[i], "%s", d->detail ? d->detail : "");
}

static void on_seq_result(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie) {
    node_t *n = state;
    g.seq_conts++;
    int v = -1;
    if (r->status == TR_OK && r->len == sizeof v)
        memcpy(&v, r->data, sizeof v);
    /* the reply carries the seq; replies come back in call order */
    if (v != (int)(intptr_t)cookie || v <= g.seq_last_cont[n->id])
        g.seq_cont_errors++;
    g.seq_last_cont[n->id] = v;
    if (tr_self(ctx).sched != n->self.sched)
        g.seq_cont_wrong_sched++;
}

static void seq_batch(tr_ctx_t *ctx, node_t *n) {
    for (int k = 0; k < SEQ_BATCH && n->seq_next < n->seq_n; k++) {
        seq_t s = {n->id, n->seq_next++};
        int rc;
        if (s.seq % SEQ_CALL_EVERY == 3)
            rc = tr_call(ctx, n->seq_to, MSG_SEQ_CALL, &s, sizeof s, on_seq_result,
                         (void *)(intptr_t)s.seq, 0);
        else
            rc = tr_send(ctx, n->seq_to, MSG_SEQ, &s, sizeof s);
        if (rc != 0)
            g.seq_send_errors++;
    }
    if (n->seq_next < n->seq_n && tr_send(ctx, tr_self(ctx), MSG_SEQ_TICK, NULL, 0) != 0)
        g.seq_send_errors++;
}

static void on_seq_start(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    node_t *n = state;
    seq_start_t st;
    memcpy(&st, m->data, sizeof st);
    n->seq_to = st.to;
    n->seq_next = 1; /* seqs run 1..n: the receiver's expect[] starts at 0 */
    n->seq_n = st.n + 1;
    seq_batch(ctx, n);
}

static void on_seq_tick(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)m;
    seq_batch(ctx, state);
}

static void seq_check(node_t *n, const seq_t *s) {
    if (s->from < 0 || s->from >= MAXN) {
        g.seq_errors++;
        return;
    }
    if (s->seq != n->expect[s->from] + 1)
        g.seq_errors++;
    n->expect[s->from] = s->seq;
    g.seq_seen[s->from]++;
}

static void on_seq(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)ctx;
    seq_t s;
    memcpy(&s, m->data, sizeof s);
    seq_check(state, &s);
}

static void on_seq_call(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    seq_t s;
    memcpy(&s, m->data, sizeof s);
    seq_check(state, &s);
    (void)tr_reply(ctx, m, &s.seq, sizeof s.seq);
}

static void on_supq(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    supq_t q;
    memcpy(&q, m->data, sizeof q);
    tr_runtime_t *rt = tr_ctx_runtime(ctx);
    g.supq_sched = tr_self(ctx).sched;
    g.supq_which = tr_sup_which_children(rt, q.sup, NULL, 0);
    static const int extra_id = 30;
    tr_child_spec_t c;
    memset(&c, 0, sizeof c);
    c.name = "extra";
    c.type = &node_type;
    c.args = &extra_id;
    c.args_len = sizeof extra_id;
    c.restart = TR_TEMPORARY;
    c.place = TR_PLACE_PIN;
    c.scheduler = 3;
    g.supq_add = tr_sup_add_child(rt, q.sup, &c, NULL);
    g.supq_term = tr_sup_terminate_child(rt, q.sup, q.child);
}

static const tr_handler_t node_handlers[] = {
    TR_ON_EMPTY(MSG_NOTE, on_note),
    TR_ON(MSG_ECHO, on_echo, int),
    TR_ON_EMPTY(MSG_NOREPLY, on_noreply),
    TR_ON(MSG_BOOM, on_boom, int),
    TR_ON_EMPTY(MSG_KEEP, on_keep),
    TR_ON(MSG_RELEASE, on_release, int),
    TR_ON_EMPTY(MSG_WHERE, on_where),
    TR_ON(MSG_SPAWN, on_spawn, spawn_req_t),
    TR_ON(MSG_GO, on_go, go_t),
    TR_ON(MSG_FLOOD, on_flood, flood_t),
    TR_ON(MSG_WATCH, on_watch, tr_ref_t),
    TR_ON(MSG_UNWATCH, on_unwatch, int64_t),
    TR_ON(MSG_UNWATCH_STOP, on_unwatch_stop, unwatch_t),
    TR_ON(MSG_SEQ_START, on_seq_start, seq_start_t),
    TR_ON_EMPTY(MSG_SEQ_TICK, on_seq_tick),
    TR_ON(MSG_SEQ, on_seq, seq_t),
    TR_ON(MSG_SEQ_CALL, on_seq_call, seq_t),
    TR_ON(MSG_SUPQ, on_supq, supq_t),
    TR_ON(TR_MSG_DOWN, on_down, tr_down_t),
    TR_END,
};

static const tr_actor_type_t node_type = {
    .name = "node",
    .state_size = sizeof(node_t),
    .handlers = node_handlers,
    .init = node_init,
    .terminate = node_terminate,
    .validate_config = node_validate,
    .on_config = node_on_config,
};

/* ------------------------------------------------------------------ */
/* helpers */

/* A runtime with `n` schedulers (stepped by the owner thread unless
 * tr_runtime_run runs), a quiet logger and the counting panic hook. */
static tr_runtime_t *rt_sched_cfg(uint16_t n, int manual, tr_config_t *cfg) {
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.schedulers = n;
    o.manual_clock = manual;
    o.log = tt_quiet_log;
    o.config = cfg;
    tr_runtime_t *rt = tt_runtime(&o);
    assert_int_equal(tr_runtime_schedulers(rt), n);
    assert_int_equal(tr_set_panic_hook(rt, count_hook, NULL), 0);
    return rt;
}

static tr_runtime_t *rt_sched(uint16_t n) { return rt_sched_cfg(n, 1, NULL); }

/* A node with `id` pinned on scheduler `sched` (capacity 0: default). */
static tr_ref_t node_on(tr_runtime_t *rt, uint16_t sched, int id, uint32_t cap) {
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.place = TR_PLACE_PIN;
    o.scheduler = sched;
    o.args = &id;
    o.args_len = sizeof id;
    o.mailbox_capacity = cap;
    tr_ref_t r = tt_spawn(rt, &node_type, &o);
    assert_int_equal(r.sched, sched);
    return r;
}

static void send_to(tr_runtime_t *rt, tr_ref_t to, int type, const void *data, size_t len) {
    assert_int_equal(tr_runtime_send(rt, to, type, data, len), 0);
}

static go_t mkgo(tr_ref_t target, int type) {
    go_t x;
    memset(&x, 0, sizeof x);
    x.target = target;
    x.type = type;
    return x;
}

/* The end of every deterministic test: run to idle, walk the invariants,
 * check the channel balance, destroy. */
static void finish(tr_runtime_t *rt) {
    tt_drain(rt);
    assert_true(tr_runtime_verify(rt) >= 0);
    tt_assert_chan_balance(rt);
    tr_runtime_destroy(rt);
}

static int log_index(int code) { return tt_log_find(&g.log, code); }

#define MAXCI 8

static int64_t kids_of(tr_runtime_t *rt, tr_ref_t sup, tr_child_info_t *ci) {
    memset(ci, 0, sizeof(tr_child_info_t) * MAXCI);
    int64_t n = tr_sup_which_children(rt, sup, ci, MAXCI);
    assert_true(n >= 0);
    return n;
}

static tr_child_spec_t cspec(const char *name, const int *id, tr_placement_t place,
                             uint16_t sched) {
    tr_child_spec_t c;
    memset(&c, 0, sizeof c);
    c.name = name;
    c.type = &node_type;
    c.args = id;
    c.args_len = sizeof *id;
    c.restart = TR_PERMANENT;
    c.place = place;
    c.scheduler = sched;
    return c;
}

static tr_sup_spec_t sspec(tr_strategy_t st, const tr_child_spec_t *kids, size_t n,
                           uint32_t intensity, uint32_t period_ms) {
    tr_sup_spec_t s;
    memset(&s, 0, sizeof s);
    s.strategy = st;
    s.intensity = intensity;
    s.period_ms = period_ms;
    s.children = kids;
    s.nchildren = n;
    return s;
}

static const int ids[MAXN] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                              11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                              22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

/* ------------------------------------------------------------------ */
/* scheduler count */

static void test_scheduler_count(void **state) {
    (void)state;
    tr_runtime_t *rt = NULL;
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.log = tt_quiet_log;

    /* 0: TROUPE_SCHEDULERS if set, else 1 (this suite runs without it) */
    char *saved = getenv("TROUPE_SCHEDULERS");
    char keep[32] = "";
    if (saved)
        snprintf(keep, sizeof keep, "%s", saved);
    assert_int_equal(unsetenv("TROUPE_SCHEDULERS"), 0);
    rt = tt_runtime(&o);
    assert_int_equal(tr_runtime_schedulers(rt), 1);
    tr_runtime_destroy(rt);
    assert_int_equal(setenv("TROUPE_SCHEDULERS", "3", 1), 0);
    rt = tt_runtime(&o);
    assert_int_equal(tr_runtime_schedulers(rt), 3);
    tr_runtime_destroy(rt);
    /* an explicit count wins over the environment */
    o.schedulers = 2;
    rt = tt_runtime(&o);
    assert_int_equal(tr_runtime_schedulers(rt), 2);
    tr_runtime_destroy(rt);
    if (keep[0])
        assert_int_equal(setenv("TROUPE_SCHEDULERS", keep, 1), 0);
    else
        assert_int_equal(unsetenv("TROUPE_SCHEDULERS"), 0);

    /* one per online CPU */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    o.schedulers = TR_SCHEDULERS_ONLINE;
    rt = tt_runtime(&o);
    uint16_t n = tr_runtime_schedulers(rt);
    assert_true(n >= 1 && n <= TR_SCHEDULERS_MAX);
    if (cpus >= 1 && cpus <= TR_SCHEDULERS_MAX)
        assert_int_equal(n, cpus);
    tr_runtime_destroy(rt);

    /* out of range */
    rt = NULL;
    o.schedulers = TR_SCHEDULERS_MAX + 1;
    assert_int_equal(tr_runtime_create(&o, &rt), TR_EINVAL);
    assert_null(rt);

    /* an attached loop serves one scheduler only */
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    assert_non_null(loop);
    o.schedulers = 2;
    o.loop = loop;
    rt = NULL;
    assert_int_equal(tr_runtime_create(&o, &rt), TR_EINVAL);
    assert_null(rt);
    ev_loop_destroy(loop);
    o.loop = NULL;

    /* [runtime] schedulers in the initial config */
    tr_config_t *cfg = NULL;
    const char *text = "[runtime]\nschedulers = 3\n";
    assert_int_equal(tr_config_parse("test.ini", text, strlen(text), &cfg, NULL), 0);
    o.schedulers = 0;
    o.config = cfg;
    rt = tt_runtime(&o);
    tr_config_release(cfg);
    assert_int_equal(tr_runtime_schedulers(rt), 3);

    /* per-scheduler counters */
    tr_sched_stats_t st;
    for (uint16_t i = 0; i < 3; i++) {
        memset(&st, 0xAB, sizeof st);
        assert_int_equal(tr_runtime_sched_stats(rt, i, &st), 0);
        assert_int_equal(st.id, i);
        assert_int_equal(st.actors, 0);
    }
    assert_int_equal(tr_runtime_sched_stats(rt, 3, &st), TR_EINVAL);
    assert_int_equal(tr_runtime_sched_stats(rt, 0, NULL), TR_EINVAL);
    assert_int_equal(tr_runtime_sched_stats(NULL, 0, &st), TR_EINVAL);
    assert_int_equal(tr_runtime_schedulers(NULL), 0);
    tr_runtime_destroy(rt);
}

/* ------------------------------------------------------------------ */
/* placement */

static void test_place_any_round_robin(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_sched(4);
    tr_ref_t r[8];
    int per[4] = {0};
    for (int i = 0; i < 8; i++) {
        tr_spawn_opts_t o;
        memset(&o, 0, sizeof o); /* TR_PLACE_ANY */
        o.args = &ids[i];
        r[i] = tt_spawn(rt, &node_type, &o);
        assert_true(r[i].sched < 4);
        per[r[i].sched]++;
        /* from the owner thread while stepping, init ran inside tr_spawn */
        assert_int_equal(g.inits[i], 1);
        assert_int_equal(g.init_sched[i], r[i].sched + 1);
    }
    for (int i = 1; i < 8; i++)
        assert_int_equal(r[i].sched, (r[i - 1].sched + 1) % 4);
    for (int s = 0; s < 4; s++) {
        assert_int_equal(per[s], 2);
        tr_sched_stats_t st;
        assert_int_equal(tr_runtime_sched_stats(rt, (uint16_t)s, &st), 0);
        assert_int_equal(st.actors, 2);
    }
    /* every actor handles its messages on its own scheduler */
    for (int i = 0; i < 8; i++)
        send_to(rt, r[i], MSG_WHERE, NULL, 0);
    tt_drain(rt);
    for (int i = 0; i < 8; i++)
        assert_int_equal(g.where[i], r[i].sched + 1);
    assert_int_equal(tr_runtime_verify(rt), 8);
    assert_int_equal(tt_stats(rt).actors_live, 8);
    finish(rt);
}

static void test_place_local_pin_near(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_sched(4);
    tr_spawn_opts_t o;

    /* LOCAL from the owner thread: scheduler 0 */
    memset(&o, 0, sizeof o);
    o.place = TR_PLACE_LOCAL;
    o.args = &ids[1];
    tr_ref_t a = tt_spawn(rt, &node_type, &o);
    assert_int_equal(a.sched, 0);

    /* PIN */
    tr_ref_t p = node_on(rt, 2, 2, 0);
    tr_ref_t q = node_on(rt, 3, 3, 0);
    assert_int_equal(g.init_sched[2], 3);
    assert_int_equal(g.init_sched[3], 4);

    /* LOCAL from a handler: the handler's scheduler; same scheduler, so
     * init runs inside tr_spawn */
    spawn_req_t rq;
    memset(&rq, 0, sizeof rq);
    rq.place = TR_PLACE_LOCAL;
    rq.id = 4;
    send_to(rt, p, MSG_SPAWN, &rq, sizeof rq);
    tt_drain(rt);
    assert_int_equal(g.spawn_rc, 0);
    assert_int_equal(g.spawner_sched, 2);
    assert_int_equal(g.spawn_ref.sched, 2);
    assert_int_equal(g.inits_at_return, 1);
    assert_int_equal(g.init_sched[4], 3);
    /* init saw the copied args, not the scribbled-over original */
    assert_int_equal(g.inits[4], 1);

    /* a same-scheduler init that refuses: TR_EINIT at once */
    g.fail_init[5] = 1;
    rq.id = 5;
    send_to(rt, p, MSG_SPAWN, &rq, sizeof rq);
    tt_drain(rt);
    assert_int_equal(g.spawn_rc, TR_EINIT);
    assert_int_equal(g.inits[5], 0);

    /* NEAR a live actor, and NEAR one that is gone (its scheduler still) */
    memset(&o, 0, sizeof o);
    o.place = TR_PLACE_NEAR;
    o.near = q;
    o.args = &ids[6];
    tr_ref_t n1 = tt_spawn(rt, &node_type, &o);
    assert_int_equal(n1.sched, 3);
    assert_int_equal(tr_stop(rt, q), 0);
    tt_drain(rt);
    assert_false(tr_actor_alive(rt, q));
    o.args = &ids[7];
    tr_ref_t n2 = tt_spawn(rt, &node_type, &o);
    assert_int_equal(n2.sched, 3);
    /* NEAR from a handler on another scheduler: lands next to its target
     * (asynchronously: init runs on scheduler 3 later) */
    rq.place = TR_PLACE_NEAR;
    rq.near = n1;
    rq.id = 8;
    send_to(rt, a, MSG_SPAWN, &rq, sizeof rq);
    tt_drain(rt);
    assert_int_equal(g.spawn_rc, 0);
    assert_int_equal(g.spawn_ref.sched, 3);
    assert_int_equal(g.init_sched[8], 4);
    assert_true(tr_actor_alive(rt, g.spawn_ref));

    /* out of range: TR_EINVAL, nothing spawned */
    uint64_t live = tt_stats(rt).actors_live;
    tr_ref_t bad = TR_REF_NONE;
    memset(&o, 0, sizeof o);
    o.place = TR_PLACE_PIN;
    o.scheduler = 4;
    o.args = &ids[9];
    assert_int_equal(tr_spawn(rt, &node_type, &o, &bad), TR_EINVAL);
    o.scheduler = TR_SCHEDULERS_MAX;
    assert_int_equal(tr_spawn(rt, &node_type, &o, &bad), TR_EINVAL);
    o.place = (tr_placement_t)99;
    o.scheduler = 0;
    assert_int_equal(tr_spawn(rt, &node_type, &o, &bad), TR_EINVAL);
    /* from a handler too */
    rq.place = TR_PLACE_PIN;
    rq.scheduler = 4;
    rq.id = 10;
    send_to(rt, a, MSG_SPAWN, &rq, sizeof rq);
    tt_drain(rt);
    assert_int_equal(g.spawn_rc, TR_EINVAL);
    assert_int_equal(g.inits[9], 0);
    assert_int_equal(g.inits[10], 0);
    assert_int_equal(tt_stats(rt).actors_live, live);
    finish(rt);
}

static void test_place_child_specs(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_sched(4);
    /* a nested supervisor whose own workers are pinned */
    tr_child_spec_t inner_kids[2] = {cspec("i1", &ids[11], TR_PLACE_PIN, 2),
                                     cspec("i2", &ids[12], TR_PLACE_LOCAL, 0)};
    tr_sup_spec_t inner = sspec(TR_ONE_FOR_ONE, inner_kids, 2, 5, 1000);
    tr_child_spec_t kids[5] = {cspec("a", &ids[1], TR_PLACE_PIN, 3),
                               cspec("b", &ids[2], TR_PLACE_LOCAL, 0),
                               cspec("c", &ids[3], TR_PLACE_PIN, 1),
                               cspec("d", &ids[4], TR_PLACE_ANY, 0),
                               cspec("inner", &ids[0], TR_PLACE_ANY, 0)};
    kids[4].type = NULL;
    kids[4].sup = &inner;
    kids[4].args = NULL;
    kids[4].args_len = 0;
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 5, 5, 1000);
    tr_ref_t sup = TR_REF_NONE;
    assert_int_equal(tr_sup_start(rt, "app", &sp, &sup), 0);
    /* a root supervisor lives on its spawner's scheduler: the owner's, 0 */
    assert_int_equal(sup.sched, 0);

    tr_child_info_t ci[MAXCI];
    assert_int_equal(kids_of(rt, sup, ci), 5);
    assert_int_equal(ci[0].ref.sched, 3);
    assert_int_equal(ci[1].ref.sched, sup.sched);
    assert_int_equal(ci[2].ref.sched, 1);
    assert_true(ci[3].ref.sched < 4);
    /* a child supervisor lives next to its parent whatever its spec says */
    assert_int_equal(ci[4].is_supervisor, 1);
    assert_int_equal(ci[4].ref.sched, sup.sched);
    for (int i = 1; i <= 4; i++)
        assert_int_equal(g.init_sched[i], ci[i - 1].ref.sched + 1);
    tr_ref_t inner_ref = ci[4].ref;
    assert_int_equal(kids_of(rt, inner_ref, ci), 2);
    assert_int_equal(ci[0].ref.sched, 2);
    assert_int_equal(ci[1].ref.sched, inner_ref.sched);

    /* a restarted pinned child stays where its spec puts it */
    assert_int_equal(kids_of(rt, sup, ci), 5);
    tr_ref_t a1 = ci[0].ref;
    send_to(rt, a1, MSG_BOOM, &(int){1}, sizeof(int));
    tt_drain(rt);
    assert_int_equal(kids_of(rt, sup, ci), 5);
    assert_int_equal(ci[0].incarnation, 2);
    assert_false(tr_ref_eq(ci[0].ref, a1));
    assert_int_equal(ci[0].ref.sched, 3);
    assert_true(tr_actor_alive(rt, ci[0].ref));
    assert_int_equal(g.init_sched[1], 4);

    /* NEAR is refused in a child spec, before anything starts */
    uint64_t live = tt_stats(rt).actors_live;
    tr_child_spec_t bad[2] = {cspec("x", &ids[20], TR_PLACE_PIN, 1),
                              cspec("y", &ids[21], TR_PLACE_NEAR, 0)};
    tr_sup_spec_t bsp = sspec(TR_ONE_FOR_ONE, bad, 2, 5, 1000);
    tr_ref_t none = TR_REF_NONE;
    assert_int_equal(tr_sup_start(rt, "bad1", &bsp, &none), TR_EINVAL);
    assert_int_equal(g.inits[20], 0);
    tr_child_spec_t add = cspec("z", &ids[22], TR_PLACE_NEAR, 0);
    assert_int_equal(tr_sup_add_child(rt, sup, &add, &none), TR_EINVAL);
    assert_int_equal(tt_stats(rt).actors_live, live);
    assert_int_equal(tr_whereis(rt, "bad1", &none), TR_ENOTFOUND);
    /* tr_sup_add_child with a pin works across schedulers */
    add = cspec("z", &ids[22], TR_PLACE_PIN, 2);
    tr_ref_t z = TR_REF_NONE;
    assert_int_equal(tr_sup_add_child(rt, sup, &add, &z), 0);
    assert_int_equal(z.sched, 2);
    tt_drain(rt);
    assert_true(tr_actor_alive(rt, z));
    assert_int_equal(g.inits[22], 1);
    assert_int_equal(g.init_sched[22], 3);
    finish(rt);
}

/* A pinned scheduler out of range makes the spec invalid: TR_EINVAL, as
 * for NEAR, with no sibling started (not TR_EINIT after starting and
 * stopping the siblings before it). */
static void test_place_child_spec_pin_out_of_range(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_sched(4);
    tr_child_spec_t bad[2] = {cspec("x", &ids[20], TR_PLACE_PIN, 1),
                              cspec("y", &ids[21], TR_PLACE_PIN, 4)};
    tr_sup_spec_t bsp = sspec(TR_ONE_FOR_ONE, bad, 2, 5, 1000);
    tr_ref_t none = TR_REF_NONE;
    int rc = tr_sup_start(rt, "bad2", &bsp, &none);
    tr_ref_t gone = TR_REF_NONE;
    assert_int_equal(tr_whereis(rt, "bad2", &gone), TR_ENOTFOUND);
    assert_int_equal(tt_stats(rt).actors_live, 0);
    assert_int_equal(rc, TR_EINVAL);
    assert_int_equal(g.inits[20], 0);
    /* tr_sup_add_child: the same */
    tr_child_spec_t ok[1] = {cspec("x", &ids[20], TR_PLACE_PIN, 1)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, ok, 1, 5, 1000);
    tr_ref_t sup = TR_REF_NONE;
    assert_int_equal(tr_sup_start(rt, "app", &sp, &sup), 0);
    tr_child_spec_t add = cspec("z", &ids[22], TR_PLACE_PIN, 4);
    assert_int_equal(tr_sup_add_child(rt, sup, &add, &none), TR_EINVAL);
    finish(rt);
}

/* tr_sup_* run on the supervisor's own scheduler: from a handler on
 * another one they return TR_EWRONGTHREAD (and change nothing); from a
 * handler on the supervisor's scheduler, and from the owner thread while it
 * steps, they work. */
static void test_sup_api_thread_rules(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_sched(4);
    tr_child_spec_t kids[2] = {cspec("a", &ids[1], TR_PLACE_PIN, 2),
                               cspec("b", &ids[2], TR_PLACE_PIN, 1)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 2, 5, 60000);
    tr_ref_t sup = TR_REF_NONE;
    assert_int_equal(tr_sup_start(rt, "app", &sp, &sup), 0);
    assert_int_equal(sup.sched, 0);
    tr_child_info_t ci[MAXCI];
    assert_int_equal(kids_of(rt, sup, ci), 2);
    tr_ref_t a = ci[0].ref;
    tr_ref_t other = node_on(rt, 2, 10, 0); /* next to child a, not to sup */
    tr_ref_t same = node_on(rt, 0, 11, 0);  /* next to sup */

    supq_t q = {sup, a};
    send_to(rt, other, MSG_SUPQ, &q, sizeof q);
    tt_drain(rt);
    assert_int_equal(g.supq_sched, 2);
    assert_int_equal(g.supq_which, TR_EWRONGTHREAD);
    assert_int_equal(g.supq_add, TR_EWRONGTHREAD);
    assert_int_equal(g.supq_term, TR_EWRONGTHREAD);
    assert_int_equal(kids_of(rt, sup, ci), 2);
    assert_true(tr_actor_alive(rt, a));
    assert_int_equal(g.inits[30], 0);

    send_to(rt, same, MSG_SUPQ, &q, sizeof q);
    tt_drain(rt);
    assert_int_equal(g.supq_sched, 0);
    assert_int_equal(g.supq_which, 2);
    assert_int_equal(g.supq_add, 0);
    assert_int_equal(g.supq_term, 0);
    assert_int_equal(g.inits[30], 1);
    assert_int_equal(g.init_sched[30], 4);
    assert_false(tr_actor_alive(rt, a));
    assert_int_equal(g.term_reason[1], TR_STOP_SHUTDOWN);
    /* a is gone for good; b and the extra child remain */
    assert_int_equal(kids_of(rt, sup, ci), 2);
    assert_string_equal(ci[0].name, "b");
    assert_string_equal(ci[1].name, "extra");
    assert_int_equal(ci[1].ref.sched, 3);
    finish(rt);
}

/* ------------------------------------------------------------------ */
/* per-pair FIFO: two senders on schedulers 1 and 3, one receiver on 2 */

#define SEQ_N 10000

static void test_fifo_per_pair(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_sched(4);
    tr_ref_t a = node_on(rt, 1, 1, 0);
    tr_ref_t c = node_on(rt, 3, 3, 0);
    /* room for everything, so order is the only thing under test */
    tr_ref_t b = node_on(rt, 2, 2, 4 * SEQ_N);
    seq_start_t st = {b, SEQ_N};
    send_to(rt, a, MSG_SEQ_START, &st, sizeof st);
    send_to(rt, c, MSG_SEQ_START, &st, sizeof st);
    tt_drain(rt);
    assert_int_equal(g.seq_send_errors, 0);
    assert_int_equal(g.seq_errors, 0);
    assert_int_equal(g.seq_seen[1], SEQ_N);
    assert_int_equal(g.seq_seen[3], SEQ_N);
    int calls_each = 0;
    for (int s = 1; s <= SEQ_N; s++)
        calls_each += s % SEQ_CALL_EVERY == 3;
    assert_int_equal(g.seq_conts, 2 * calls_each);
    assert_int_equal(g.seq_cont_errors, 0);
    assert_int_equal(g.seq_cont_wrong_sched, 0);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.chan_created, 2 * calls_each);
    assert_int_equal(s.chan_ok, 2 * calls_each);
    /* B's scheduler took them through its inbox */
    tr_sched_stats_t ss;
    assert_int_equal(tr_runtime_sched_stats(rt, 2, &ss), 0);
    assert_true(ss.remote_in >= 2 * SEQ_N);
    finish(rt);
}

/* ------------------------------------------------------------------ */
/* capacity across schedulers */

static void test_capacity_across_schedulers(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_sched(4);
    tr_ref_t a = node_on(rt, 1, 1, 0);
    tr_ref_t b = node_on(rt, 2, 2, 8);

    /* one handler on scheduler 1 sends while B (scheduler 2) cannot run */
    flood_t f = {b, 0, 100};
    send_to(rt, a, MSG_FLOOD, &f, sizeof f);
    tt_drain(rt);
    assert_int_equal(g.flood_accepted, 8);
    assert_int_equal(g.flood_first_err, TR_EFULL);
    assert_int_equal(g.flood_again_rc, TR_EFULL);
    assert_int_equal(g.notes[2], 8);
    assert_int_equal(tt_depth(rt, b), 0);

    /* the owner thread's sends count against the same capacity */
    for (int i = 0; i < 3; i++)
        send_to(rt, b, MSG_NOTE, NULL, 0);
    assert_int_equal(tt_depth(rt, b), 3);
    send_to(rt, a, MSG_FLOOD, &f, sizeof f);
    tt_drain(rt);
    assert_int_equal(g.flood_accepted, 5);
    assert_int_equal(g.flood_first_err, TR_EFULL);
    assert_int_equal(g.notes[2], 16);

    /* calls: the same count, and every accepted one resolves */
    f.calls = 1;
    send_to(rt, a, MSG_FLOOD, &f, sizeof f);
    tt_drain(rt);
    assert_int_equal(g.flood_accepted, 8);
    assert_int_equal(g.flood_first_err, TR_EFULL);
    assert_int_equal(g.conts, 8);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(g.res[i].status, TR_OK);
        assert_int_equal(g.res[i].value, 2 * (int)g.res[i].cookie);
        assert_int_equal(g.res[i].sched, 1);
    }
    tr_mailbox_info_t mi;
    assert_int_equal(tr_mailbox_info(rt, b, &mi), 0);
    assert_int_equal(mi.capacity, 8);
    assert_int_equal(mi.depth, 0);
    assert_true(mi.high_water <= 8);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.chan_created, 8);
    assert_true(s.sends_rejected >= 4);
    finish(rt);
}

/* ------------------------------------------------------------------ */
/* calls across schedulers */

static void test_call_value_and_caller_scheduler(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_sched(4);
    tr_ref_t cli = node_on(rt, 1, 1, 0);
    tr_ref_t srv = node_on(rt, 3, 3, 0);
    go_t x = mkgo(srv, MSG_ECHO);
    x.with_arg = 1;
    x.arg = 21;
    send_to(rt, cli, MSG_GO, &x, sizeof x);
    tt_drain(rt);
    assert_int_equal(g.call_rc[0], 0);
    assert_int_equal(g.conts, 1);
    assert_int_equal(g.res[0].status, TR_OK);
    assert_int_equal(g.res[0].len, sizeof(int));
    assert_int_equal(g.res[0].value, 42);
    assert_true(tr_ref_eq(g.res[0].responder, srv));
    assert_int_equal(g.res[0].cookie, 1);
    /* the continuation ran on the caller's scheduler, as the caller */
    assert_int_equal(g.res[0].sched, cli.sched);
    assert_true(g.res[0].self_ok);

    /* the same from a caller on scheduler 0 to a callee on 2, and back */
    tr_ref_t c0 = node_on(rt, 0, 4, 0);
    tr_ref_t s2 = node_on(rt, 2, 5, 0);
    x = mkgo(s2, MSG_ECHO);
    x.with_arg = 1;
    x.arg = 5;
    x.ncalls = 3;
    send_to(rt, c0, MSG_GO, &x, sizeof x);
    x.target = c0;
    send_to(rt, s2, MSG_GO, &x, sizeof x);
    tt_drain(rt);
    assert_int_equal(g.conts, 7);
    for (int i = 1; i < 7; i++) {
        assert_int_equal(g.res[i].status, TR_OK);
        assert_int_equal(g.res[i].value, 10);
        assert_true(g.res[i].self_ok);
        assert_int_equal(g.res[i].sched, tr_ref_eq(g.res[i].responder, s2) ? 0 : 2);
    }
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.chan_created, 7);
    assert_int_equal(s.chan_ok, 7);
    finish(rt);
}

static void test_call_drop_without_report(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_sched(4);
    tr_ref_t cli = node_on(rt, 1, 1, 0);
    tr_ref_t srv = node_on(rt, 3, 3, 0);

    /* the handler returned without replying */
    go_t x = mkgo(srv, MSG_NOREPLY);
    send_to(rt, cli, MSG_GO, &x, sizeof x);
    tt_drain(rt);
    assert_int_equal(g.conts, 1);
    assert_int_equal(g.res[0].status, TR_EDROPPED);
    assert_int_equal(g.res[0].drop_reason, TR_DROP_RETURNED);
    assert_int_equal(g.res[0].sched, 1);
    assert_true(tr_ref_eq(g.res[0].responder, srv));

    /* the callee panicked holding the call */
    x = mkgo(srv, MSG_BOOM);
    x.with_arg = 1;
    x.arg = 7;
    send_to(rt, cli, MSG_GO, &x, sizeof x);
    tt_drain(rt);
    assert_int_equal(g.conts, 2);
    assert_int_equal(g.res[1].status, TR_EDROPPED);
    assert_int_equal(g.res[1].drop_reason, TR_DROP_PANICKED);
    assert_true(g.res[1].has_detail);
    assert_non_null(strstr(g.res[1].detail, "boom id=3 n=7"));
    assert_int_equal(g.res[1].sched, 1);
    assert_int_equal(g.hook_calls, 1);
    assert_non_null(strstr(g.hook_reason, "boom id=3 n=7"));
    assert_false(tr_actor_alive(rt, srv));
    assert_int_equal(g.term_reason[3], TR_STOP_PANIC);

    /* the callee is stopped with calls (and a one-way message) queued */
    tr_ref_t srv2 = node_on(rt, 2, 4, 0);
    uint64_t dead_before = tt_stats(rt).dead_letters;
    x = mkgo(srv2, MSG_ECHO);
    x.with_arg = 1;
    x.arg = 1;
    x.ncalls = 3;
    x.note_first = 1;
    x.stop_after = 1;
    send_to(rt, cli, MSG_GO, &x, sizeof x);
    tt_drain(rt);
    assert_int_equal(g.note_rc, 0);
    assert_int_equal(g.stop_rc, 0);
    assert_int_equal(g.conts, 5);
    for (int i = 2; i < 5; i++) {
        assert_int_equal(g.res[i].status, TR_EDROPPED);
        assert_int_equal(g.res[i].drop_reason, TR_DROP_DISCARDED);
        assert_int_equal(g.res[i].sched, 1);
    }
    assert_int_equal(g.notes[4], 0);
    assert_int_equal(tt_stats(rt).dead_letters, dead_before + 1);
    assert_false(tr_actor_alive(rt, srv2));

    /* a call to an actor on another scheduler that is already dead: refused
     * at once, or accepted and resolved TR_EDEAD; never silence */
    int before = g.conts;
    x = mkgo(srv2, MSG_ECHO);
    x.with_arg = 1;
    send_to(rt, cli, MSG_GO, &x, sizeof x);
    tt_drain(rt);
    int rc = g.call_rc[g.ncall_rc - 1];
    if (rc == 0) {
        assert_int_equal(g.conts, before + 1);
        assert_int_equal(g.res[before].status, TR_EDEAD);
    } else {
        assert_int_equal(rc, TR_EDEAD);
        assert_int_equal(g.conts, before);
    }
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.chan_dropped, 5);
    assert_int_equal(s.panics, 1);
    finish(rt);
}

static void test_call_timeout_then_late_reply(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_sched(4);
    tr_ref_t cli = node_on(rt, 1, 1, 0);
    tr_ref_t srv = node_on(rt, 3, 3, 0);
    go_t x = mkgo(srv, MSG_KEEP);
    x.timeout_ms = 100;
    send_to(rt, cli, MSG_GO, &x, sizeof x);
    tt_drain(rt);
    assert_true(g.kept_ok);
    assert_int_equal(g.conts, 0);
    assert_int_equal(tr_runtime_advance(rt, 99), 0);
    tt_drain(rt);
    assert_int_equal(g.conts, 0);
    assert_int_equal(tt_stats(rt).chan_pending, 1);
    assert_int_equal(tr_runtime_advance(rt, 1), 0);
    tt_drain(rt);
    assert_int_equal(g.conts, 1);
    assert_int_equal(g.res[0].status, TR_ETIMEDOUT);
    assert_int_equal(g.res[0].sched, 1);
    assert_true(g.res[0].self_ok);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.chan_timeout, 1);
    assert_int_equal(s.late_replies, 0);
    /* the kept channel answered after the timeout: a late reply, counted,
     * and the continuation does not run again */
    send_to(rt, srv, MSG_RELEASE, &(int){9}, sizeof(int));
    tt_drain(rt);
    assert_int_equal(g.release_rc, 0);
    assert_int_equal(g.conts, 1);
    s = tt_stats(rt);
    assert_int_equal(s.late_replies, 1);
    assert_int_equal(s.chan_created, 1);
    assert_int_equal(s.chan_ok, 0);
    finish(rt);
}

static void test_call_caller_stops_first(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_sched(4);
    tr_ref_t cli = node_on(rt, 1, 1, 0);
    tr_ref_t srv = node_on(rt, 2, 2, 0);
    go_t x = mkgo(srv, MSG_KEEP);
    send_to(rt, cli, MSG_GO, &x, sizeof x);
    tt_drain(rt);
    assert_true(g.kept_ok);
    assert_int_equal(tt_stats(rt).chan_pending, 1);
    assert_int_equal(tr_stop(rt, cli), 0);
    tt_drain(rt);
    assert_false(tr_actor_alive(rt, cli));
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.chan_cancelled, 1);
    assert_int_equal(s.conts_cancelled, 1);
    assert_int_equal(s.chan_pending, 0);
    /* the callee answers later: a late reply, no continuation */
    send_to(rt, srv, MSG_RELEASE, &(int){3}, sizeof(int));
    tt_drain(rt);
    assert_int_equal(g.release_rc, 0);
    assert_int_equal(g.conts, 0);
    assert_int_equal(tt_stats(rt).late_replies, 1);
    finish(rt);
}

/* ------------------------------------------------------------------ */
/* spawn onto another scheduler from a handler */

static void test_remote_spawn_from_handler(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_sched(4);
    tr_ref_t p = node_on(rt, 1, 1, 0);
    spawn_req_t rq;
    memset(&rq, 0, sizeof rq);
    rq.place = TR_PLACE_PIN;
    rq.scheduler = 3;
    rq.id = 5;
    rq.note_after = 1;
    rq.call_after = 1;
    send_to(rt, p, MSG_SPAWN, &rq, sizeof rq);
    tt_drain(rt);
    assert_int_equal(g.spawn_rc, 0);
    assert_int_equal(g.spawn_ref.sched, 3);
    /* the ref came back before init ran ... */
    assert_int_equal(g.inits_at_return, 0);
    /* ... which then ran on scheduler 3 with the copied args, before any
     * message reached the actor */
    assert_int_equal(g.inits[5], 1);
    assert_int_equal(g.init_sched[5], 4);
    assert_int_equal(g.spawn_note_rc, 0);
    assert_int_equal(g.spawn_call_rc, 0);
    int i_init = log_index(L_INIT(5)), i_note = log_index(L_NOTE(5)),
        i_echo = log_index(L_ECHO(5));
    assert_true(i_init >= 0);
    assert_true(i_note > i_init);
    assert_true(i_echo > i_note);
    assert_int_equal(g.conts, 1);
    assert_int_equal(g.res[0].status, TR_OK);
    assert_int_equal(g.res[0].value, 10);
    assert_int_equal(g.res[0].sched, 1);
    assert_true(tr_actor_alive(rt, g.spawn_ref));
    tr_ref_t first = g.spawn_ref;

    /* an init that refuses on the other scheduler: the actor stops; the
     * message sent meanwhile is a dead letter, the call resolves, the
     * monitor set meanwhile reports it */
    uint64_t dead_before = tt_stats(rt).dead_letters;
    g.fail_init[6] = 1;
    rq.scheduler = 2;
    rq.id = 6;
    rq.monitor_after = 1;
    send_to(rt, p, MSG_SPAWN, &rq, sizeof rq);
    tt_drain(rt);
    assert_int_equal(g.spawn_rc, 0);
    assert_int_equal(g.spawn_ref.sched, 2);
    assert_int_equal(g.spawn_note_rc, 0);
    assert_int_equal(g.spawn_call_rc, 0);
    assert_true(g.spawn_monitor > 0);
    assert_int_equal(g.inits[6], 0);
    assert_true(log_index(L_TRY(6)) >= 0);
    assert_int_equal(g.init_sched[6], 3);
    assert_false(tr_actor_alive(rt, g.spawn_ref));
    assert_int_equal(g.notes[6], 0);
    assert_int_equal(g.terms[6], 0); /* never started: no terminate */
    assert_int_equal(tt_stats(rt).dead_letters, dead_before + 1);
    assert_int_equal(g.conts, 2);
    assert_true(g.res[1].status == TR_EDROPPED || g.res[1].status == TR_EDEAD);
    assert_int_equal(g.res[1].sched, 1);
    assert_int_equal(g.downs, 1);
    assert_int_equal(g.down_monitor[0], g.spawn_monitor);
    assert_true(tr_ref_eq(g.down_actor[0], g.spawn_ref));
    assert_true(g.down_reason[0] == TR_STOP_PANIC || g.down_reason[0] == TR_STOP_NOPROC);

    /* an init that panics there: the same, and the panic hook ran */
    g.panic_init[7] = 1;
    rq.id = 7;
    rq.scheduler = 0;
    send_to(rt, p, MSG_SPAWN, &rq, sizeof rq);
    tt_drain(rt);
    assert_int_equal(g.spawn_rc, 0);
    assert_int_equal(g.spawn_ref.sched, 0);
    assert_false(tr_actor_alive(rt, g.spawn_ref));
    assert_int_equal(g.hook_calls, 1);
    assert_non_null(strstr(g.hook_reason, "init panic id=7"));
    assert_int_equal(g.conts, 3);
    assert_true(g.res[2].status == TR_EDROPPED || g.res[2].status == TR_EDEAD);
    assert_int_equal(g.downs, 2);

    assert_true(tr_actor_alive(rt, first));
    assert_int_equal(tr_runtime_verify(rt), 2);
    finish(rt);
}

static void test_remote_init_refusal_under_supervisor(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_sched(4);
    tr_child_spec_t kids[1] = {cspec("w", &ids[4], TR_PLACE_PIN, 2)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 1, 10, 60000);
    tr_ref_t sup = TR_REF_NONE;
    assert_int_equal(tr_sup_start(rt, "app", &sp, &sup), 0);
    tr_child_info_t ci[MAXCI];
    assert_int_equal(kids_of(rt, sup, ci), 1);
    tr_ref_t w1 = ci[0].ref;
    assert_int_equal(w1.sched, 2);
    assert_int_equal(g.inits[4], 1);

    /* crash it; the restarts (spawned by the supervisor on scheduler 0
     * onto scheduler 2) panic in init once, then refuse once, then work */
    g.panic_init[4] = 1;
    g.fail_init[4] = 1;
    send_to(rt, w1, MSG_BOOM, &(int){1}, sizeof(int));
    tt_drain(rt);
    assert_int_equal(kids_of(rt, sup, ci), 1);
    assert_int_equal(ci[0].state, TR_CHILD_RUNNING);
    assert_int_equal(ci[0].incarnation, 4);
    assert_int_equal(ci[0].restarts, 3);
    assert_int_equal(ci[0].nhistory, 3);
    assert_int_equal(ci[0].history[0].reason, TR_STOP_PANIC);
    assert_non_null(strstr(ci[0].history[0].detail, "boom id=4 n=1"));
    assert_int_equal(ci[0].history[1].reason, TR_STOP_PANIC);
    assert_non_null(strstr(ci[0].history[1].detail, "init"));
    assert_int_equal(ci[0].history[2].reason, TR_STOP_PANIC);
    assert_non_null(strstr(ci[0].history[2].detail, "init"));
    assert_int_equal(ci[0].ref.sched, 2);
    assert_true(tr_actor_alive(rt, ci[0].ref));
    assert_int_equal(g.inits[4], 2);
    assert_int_equal(g.init_sched[4], 3);
    assert_int_equal(g.hook_calls, 2); /* the boom and the init panic */
    assert_int_equal(g.terms[4], 1);   /* only the incarnation that started */
    /* the name follows the new incarnation */
    tr_ref_t named = TR_REF_NONE;
    assert_int_equal(tr_whereis(rt, "app/w", &named), 0);
    assert_true(tr_ref_eq(named, ci[0].ref));
    assert_true(tt_stats(rt).restarts >= 3);
    finish(rt);
}

/* ------------------------------------------------------------------ */
/* supervisor on scheduler 0, children on 1, 2, 3 */

static void test_sup_one_for_all_and_shutdown(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_sched(4);
    tr_child_spec_t kids[3] = {cspec("c1", &ids[1], TR_PLACE_PIN, 1),
                               cspec("c2", &ids[2], TR_PLACE_PIN, 2),
                               cspec("c3", &ids[3], TR_PLACE_PIN, 3)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ALL, kids, 3, 5, 60000);
    tr_ref_t sup = TR_REF_NONE;
    assert_int_equal(tr_sup_start(rt, "app", &sp, &sup), 0);
    assert_int_equal(sup.sched, 0);
    tt_drain(rt);
    tr_child_info_t ci[MAXCI];
    assert_int_equal(kids_of(rt, sup, ci), 3);
    tr_ref_t old[3];
    for (int i = 0; i < 3; i++) {
        old[i] = ci[i].ref;
        assert_int_equal(old[i].sched, i + 1);
    }

    /* c2 panics: c3 then c1 are stopped (reverse start order), then all
     * three start again in start order, each on its own scheduler */
    memset(&g.log, 0, sizeof g.log);
    send_to(rt, old[1], MSG_BOOM, &(int){2}, sizeof(int));
    tt_drain(rt);
    const int expect[] = {L_TERM(2), L_TERM(3), L_TERM(1), L_TRY(1), L_INIT(1),
                          L_TRY(2),  L_INIT(2), L_TRY(3),  L_INIT(3)};
    assert_int_equal(g.log.n, 9);
    for (int i = 0; i < 9; i++)
        assert_int_equal(g.log.v[i], expect[i]);
    assert_int_equal(g.term_reason[2], TR_STOP_PANIC);
    assert_int_equal(g.term_reason[1], TR_STOP_SHUTDOWN);
    assert_int_equal(g.term_reason[3], TR_STOP_SHUTDOWN);
    assert_int_equal(kids_of(rt, sup, ci), 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ci[i].incarnation, 2);
        assert_int_equal(ci[i].state, TR_CHILD_RUNNING);
        assert_int_equal(ci[i].ref.sched, i + 1);
        assert_int_equal(g.init_sched[i + 1], i + 2);
        assert_false(tr_actor_alive(rt, old[i]));
        assert_true(tr_actor_alive(rt, ci[i].ref));
    }
    assert_int_equal(tr_runtime_verify(rt), 4);

    /* ordered shutdown: c3, c2, c1, then the supervisor */
    memset(&g.log, 0, sizeof g.log);
    assert_int_equal(tr_runtime_shutdown(rt), 0);
    tt_drain(rt);
    assert_int_equal(g.log.n, 3);
    assert_int_equal(g.log.v[0], L_TERM(3));
    assert_int_equal(g.log.v[1], L_TERM(2));
    assert_int_equal(g.log.v[2], L_TERM(1));
    for (int i = 1; i <= 3; i++)
        assert_int_equal(g.term_reason[i], TR_STOP_SHUTDOWN);
    assert_false(tr_actor_alive(rt, sup));
    assert_int_equal(tt_stats(rt).actors_live, 0);
    assert_int_equal(tr_runtime_verify(rt), 0);
    /* spawning is refused from now on, on every scheduler */
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.place = TR_PLACE_PIN;
    o.scheduler = 3;
    assert_int_equal(tr_spawn(rt, &node_type, &o, NULL), TR_ESTOPPED);
    finish(rt);
}

/* ------------------------------------------------------------------ */
/* monitors across schedulers */

static void test_monitors_across_schedulers(void **state) {
    (void)state;
    tr_runtime_t *rt = rt_sched(4);
    tr_ref_t w = node_on(rt, 1, 1, 0);
    tr_ref_t t1 = node_on(rt, 2, 2, 0);
    tr_ref_t t2 = node_on(rt, 3, 3, 0);
    tr_ref_t t3 = node_on(rt, 0, 4, 0);
    tr_ref_t t4 = node_on(rt, 2, 5, 0);

    /* a panic */
    send_to(rt, w, MSG_WATCH, &t1, sizeof t1);
    tt_drain(rt);
    int64_t m1 = g.last_monitor;
    assert_true(m1 > 0);
    send_to(rt, t1, MSG_BOOM, &(int){4}, sizeof(int));
    tt_drain(rt);
    assert_int_equal(g.downs, 1);
    assert_int_equal(g.down_monitor[0], m1);
    assert_true(tr_ref_eq(g.down_actor[0], t1));
    assert_int_equal(g.down_reason[0], TR_STOP_PANIC);
    assert_non_null(strstr(g.down_detail[0], "boom id=2 n=4"));

    /* a normal stop from the owner thread */
    send_to(rt, w, MSG_WATCH, &t2, sizeof t2);
    tt_drain(rt);
    int64_t m2 = g.last_monitor;
    assert_true(m2 > 0 && m2 != m1);
    assert_int_equal(tr_stop(rt, t2), 0);
    tt_drain(rt);
    assert_int_equal(g.downs, 2);
    assert_int_equal(g.down_monitor[1], m2);
    assert_true(tr_ref_eq(g.down_actor[1], t2));
    assert_int_equal(g.down_reason[1], TR_STOP_NORMAL);

    /* demonitor, then the target stops: no DOWN */
    send_to(rt, w, MSG_WATCH, &t3, sizeof t3);
    tt_drain(rt);
    int64_t m3 = g.last_monitor;
    assert_true(m3 > 0);
    send_to(rt, w, MSG_UNWATCH, &m3, sizeof m3);
    tt_drain(rt);
    assert_int_equal(g.demonitor_rc, 0);
    assert_int_equal(tr_stop(rt, t3), 0);
    tt_drain(rt);
    assert_int_equal(g.downs, 2);

    /* demonitor and stop in one handler: the demonitor comes first, so
     * still no DOWN */
    send_to(rt, w, MSG_WATCH, &t4, sizeof t4);
    tt_drain(rt);
    unwatch_t u = {g.last_monitor, t4};
    assert_true(u.id > 0);
    send_to(rt, w, MSG_UNWATCH_STOP, &u, sizeof u);
    tt_drain(rt);
    assert_int_equal(g.demonitor_rc, 0);
    assert_int_equal(g.unwatch_stop_rc, 0);
    assert_false(tr_actor_alive(rt, t4));
    assert_int_equal(g.downs, 2);

    /* an actor on another scheduler that is already dead: NOPROC */
    send_to(rt, w, MSG_WATCH, &t1, sizeof t1);
    tt_drain(rt);
    assert_int_equal(g.downs, 3);
    assert_int_equal(g.down_monitor[2], g.last_monitor);
    assert_int_equal(g.down_reason[2], TR_STOP_NOPROC);

    /* a watcher that stops first: its monitor goes with it */
    tr_ref_t t5 = node_on(rt, 3, 6, 0);
    send_to(rt, w, MSG_WATCH, &t5, sizeof t5);
    tt_drain(rt);
    assert_int_equal(tr_stop(rt, w), 0);
    tt_drain(rt);
    assert_int_equal(tr_stop(rt, t5), 0);
    tt_drain(rt);
    assert_int_equal(g.downs, 3);
    assert_int_equal(tt_stats(rt).downs, 3);
    assert_int_equal(tr_runtime_verify(rt), 0);
    finish(rt);
}

/* ------------------------------------------------------------------ */
/* UpdateConfig across schedulers */

static tr_config_t *parse(const char *text) {
    tr_config_t *cfg = NULL;
    tr_config_error_t err;
    int r = tr_config_parse("test.ini", text, strlen(text), &cfg, &err);
    if (r) {
        char line[1024];
        fprintf(stderr, "parse: %s\n", tr_config_error_str(&err, line, sizeof line));
    }
    assert_int_equal(r, 0);
    return cfg;
}

static void test_update_config_across_schedulers(void **state) {
    (void)state;
    tr_config_t *cfg = parse("[w0]\nspeed = 1\n[w1]\nspeed = 1\n");
    tr_runtime_t *rt = rt_sched_cfg(4, 1, cfg);
    tr_config_release(cfg);
    tr_ref_t w[4];
    for (int i = 0; i < 4; i++) {
        char name[8];
        snprintf(name, sizeof name, "w%d", i);
        tr_spawn_opts_t o;
        memset(&o, 0, sizeof o);
        o.name = name;
        o.place = TR_PLACE_PIN;
        o.scheduler = (uint16_t)i;
        o.args = &ids[i];
        o.args_len = sizeof(int);
        w[i] = tt_spawn(rt, &node_type, &o);
        assert_int_equal(w[i].sched, i);
    }
    tr_child_spec_t kids[1] = {cspec("c", &ids[9], TR_PLACE_PIN, 3)};
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 1, 5, 60000);
    tr_ref_t sup = TR_REF_NONE;
    assert_int_equal(tr_sup_start(rt, "sup", &sp, &sup), 0);
    tr_child_info_t ci[MAXCI];
    assert_int_equal(kids_of(rt, sup, ci), 1);
    tr_ref_t c = ci[0].ref;
    assert_int_equal(c.sched, 3);
    tt_drain(rt);
    assert_int_equal(g.configs, 0);

    tr_config_t *next = parse("[w0]\nspeed = 10\n[w1]\nspeed = 11\n[w2]\nspeed = 12\n"
                              "[w3]\nspeed = 13\n[sup/c]\nspeed = 19\nmailbox_capacity = 4\n");
    tr_config_error_t err;
    assert_int_equal(tr_runtime_apply_config(rt, next, &err), 0);
    tr_config_release(next);
    tt_drain(rt);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(g.config_sched[i], i + 1);
        assert_int_equal(g.speed[i], 10 + i);
        uint64_t gen = 0;
        assert_int_equal(tr_actor_config_generation(rt, w[i], &gen), 0);
        assert_int_equal(gen, 2);
    }
    assert_int_equal(g.config_sched[9], 4);
    assert_int_equal(g.speed[9], 19);
    tr_mailbox_info_t mi;
    assert_int_equal(tr_mailbox_info(rt, c, &mi), 0);
    assert_int_equal(mi.capacity, 4);
    assert_int_equal(g.configs, 5);
    assert_true(tt_stats(rt).config_updates >= 5);

    /* a refusal by an actor on scheduler 3 rejects the whole reload */
    snprintf(g.refuse, sizeof g.refuse, "w3");
    next = parse("[w0]\nspeed = 20\n[w3]\nspeed = 23\n");
    memset(&err, 0, sizeof err);
    assert_int_equal(tr_runtime_apply_config(rt, next, &err), TR_ECONFIG);
    tr_config_release(next);
    assert_non_null(strstr(err.actor, "w3"));
    tt_drain(rt);
    assert_int_equal(g.configs, 5);
    assert_int_equal(g.speed[0], 10);
    uint64_t gen = 0;
    assert_int_equal(tr_actor_config_generation(rt, w[0], &gen), 0);
    assert_int_equal(gen, 2);
    assert_int_equal(tt_stats(rt).reloads_failed, 1);

    /* a child restarted on scheduler 3 starts with the newest config */
    g.refuse[0] = '\0';
    send_to(rt, c, MSG_BOOM, &(int){0}, sizeof(int));
    tt_drain(rt);
    assert_int_equal(kids_of(rt, sup, ci), 1);
    assert_int_equal(ci[0].incarnation, 2);
    assert_int_equal(tr_mailbox_info(rt, ci[0].ref, &mi), 0);
    assert_int_equal(mi.capacity, 4);
    assert_int_equal(tr_actor_config_generation(rt, ci[0].ref, &gen), 0);
    assert_int_equal(gen, 2);
    finish(rt);
}

/* ================================================================== */
/* threaded tests: tr_runtime_run with real scheduler threads */

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Per-scheduler thread identity, checked by handlers: scheduler i always
 * runs on the same thread, scheduler 0 on the owner thread. */
static pthread_mutex_t tid_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_t tid_of[TR_SCHEDULERS_MAX];
static int tid_set[TR_SCHEDULERS_MAX];
static _Atomic uint64_t tid_mismatch;
static _Atomic int tid_armed; /* only while tr_runtime_run runs: stepping
                                 runs every scheduler on the owner thread */

/* Before tr_runtime_run. */
static void tid_arm(void) {
    pthread_mutex_lock(&tid_mu);
    memset(tid_set, 0, sizeof tid_set);
    pthread_mutex_unlock(&tid_mu);
    atomic_store(&tid_mismatch, 0);
    atomic_store(&tid_armed, 1);
}

static void tid_check_at(tr_ctx_t *ctx, const char *where) {
    if (!atomic_load(&tid_armed))
        return;
    uint16_t s = tr_self(ctx).sched;
    if (s >= TR_SCHEDULERS_MAX) {
        atomic_fetch_add(&tid_mismatch, 1);
        return;
    }
    pthread_t me = pthread_self();
    pthread_mutex_lock(&tid_mu);
    if (!tid_set[s]) {
        tid_set[s] = 1;
        tid_of[s] = me;
    } else if (!pthread_equal(tid_of[s], me)) {
        /* say where, so a failure can be diagnosed */
        if (atomic_fetch_add(&tid_mismatch, 1) < 4)
            fprintf(stderr, "tid_check: %s of actor %u.%u (scheduler %u) ran on thread %#lx, "
                    "scheduler %u's handlers on %#lx%s\n", where, tr_self(ctx).slot,
                    tr_self(ctx).gen, (unsigned)s, (unsigned long)me, (unsigned)s,
                    (unsigned long)tid_of[s],
                    tid_set[0] && pthread_equal(me, tid_of[0]) ? " (scheduler 0's thread)" : "");
    }
    pthread_mutex_unlock(&tid_mu);
}

#define tid_check(ctx) tid_check_at((ctx), __func__)

/* Right after tr_runtime_run: every scheduler that ran a checked handler
 * had its own thread, and scheduler 0 was the owner thread. Disarms. */
static void tid_assert(uint16_t nsched) {
    atomic_store(&tid_armed, 0);
    assert_int_equal(atomic_load(&tid_mismatch), 0);
    pthread_mutex_lock(&tid_mu);
    for (uint16_t i = 0; i < nsched; i++) {
        if (!tid_set[i])
            continue;
        if (i == 0)
            assert_true(pthread_equal(tid_of[0], pthread_self()));
        for (uint16_t j = 0; j < i; j++)
            if (tid_set[j])
                assert_false(pthread_equal(tid_of[i], tid_of[j]));
    }
    pthread_mutex_unlock(&tid_mu);
}

/* A runtime on the real clock for threaded tests. */
static tr_runtime_t *rt_threaded(uint16_t n) {
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.schedulers = n;
    o.log = tt_quiet_log;
    tr_runtime_t *rt = tt_runtime(&o);
    assert_int_equal(tr_runtime_schedulers(rt), n);
    atomic_store(&tid_armed, 0);
    return rt;
}

/* ------------------------------------------------------------------ */
/* stress: 1,000,000 accepted sends and calls (3 in 4 one-way, 1 in 4 a
 * call with a continuation, a few with a 20 ms timeout) between 16 workers
 * pinned over the schedulers, to random peers with a fixed-seed PRNG,
 * under a one_for_one supervisor, with panics (in handlers, while holding
 * calls, in continuations) and tr_stop of random workers. Refused attempts
 * (TR_EFULL, and TR_EDEAD while a peer restarts) are counted but do not
 * count toward the total. A referee on scheduler 0 starts the ordered
 * shutdown once every operation is done and every call has run its
 * continuation or been cancelled. TROUPE_SCHED_STRESS_OPS scales the
 * count (default 1,000,000); the 2-scheduler run does a quarter. */

enum {
    MSG_ST_TICK = TR_MSG_USER + 100, /* worker: next batch (self-sent) */
    MSG_ST_TIMER,                    /* worker: backstop timer, 1 ms */
    MSG_ST_DATA,                     /* worker: int, one-way */
    MSG_ST_REQ,                      /* worker: int -> reply int + 1 */
    MSG_ST_CHECK                     /* referee: timer, 1 ms */
};

#define ST_WORKERS 16
#define ST_BATCH 64
#define ST_DEFAULT_OPS 1000000

static struct {
    uint16_t nsched;
    uint64_t total;
    _Atomic int64_t ops_left;   /* not yet claimed (a refused attempt gives back) */
    _Atomic uint64_t ops_done;  /* accepted sends and calls */
    _Atomic uint64_t sends_ok, sends_full, sends_dead;
    _Atomic uint64_t calls_made, calls_full, calls_dead;
    _Atomic uint64_t bad_rc;
    _Atomic uint64_t conts_run, cont_bad;
    _Atomic uint64_t st_ok, st_ereply, st_dropped, st_dead, st_full, st_timeout;
    _Atomic uint64_t data_handled, req_handled;
    _Atomic uint64_t chaos_panics, chaos_stops, hook_calls;
    _Atomic uint64_t wrong_sched, inits, shutdowns;
    _Atomic uint64_t next_call, conts_twice;
    _Atomic uint8_t *ran; /* per call id: continuations run (0 or 1) */
    uint64_t nran;
    _Atomic uint64_t refs[ST_WORKERS]; /* slot << 32 | gen of the current incarnation */
    _Atomic uint32_t incarnation[ST_WORKERS];
} S;

typedef struct stw_s {
    int idx;
    unsigned seed;
    int chain;        /* a MSG_ST_TICK is queued */
    int64_t spare_id; /* a call id not used yet, or -1 */
} stw_t;

static tr_ref_t st_ref(int idx) {
    uint64_t v = atomic_load_explicit(&S.refs[idx], memory_order_acquire);
    tr_ref_t r = TR_REF_NONE;
    r.slot = (uint32_t)(v >> 32);
    r.gen = (uint32_t)v;
    r.sched = (uint16_t)(idx % S.nsched);
    return r;
}

static void st_hook(void *arg, const tr_panic_scene_t *sc) {
    (void)arg;
    (void)sc;
    atomic_fetch_add(&S.hook_calls, 1);
}

static void st_where(tr_ctx_t *ctx, const stw_t *w) {
    if (tr_self(ctx).sched != w->idx % S.nsched)
        atomic_fetch_add(&S.wrong_sched, 1);
}

static void st_cont(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie) {
    stw_t *w = state;
    atomic_fetch_add(&S.conts_run, 1);
    st_where(ctx, w);
    int v = (int)(intptr_t)cookie; /* the call's id, also its payload */
    if (v < 0 || (uint64_t)v >= S.nran || atomic_fetch_add(&S.ran[v], 1) != 0)
        atomic_fetch_add(&S.conts_twice, 1);
    switch (r->status) {
    case TR_OK: {
        int got = 0;
        if (r->len == sizeof got)
            memcpy(&got, r->data, sizeof got);
        if (r->len != sizeof got || got != v + 1)
            atomic_fetch_add(&S.cont_bad, 1);
        atomic_fetch_add(&S.st_ok, 1);
        break;
    }
    case TR_EREPLY:
        if (r->error != v)
            atomic_fetch_add(&S.cont_bad, 1);
        atomic_fetch_add(&S.st_ereply, 1);
        break;
    case TR_EDROPPED: atomic_fetch_add(&S.st_dropped, 1); break;
    case TR_EDEAD: atomic_fetch_add(&S.st_dead, 1); break;
    case TR_EFULL: atomic_fetch_add(&S.st_full, 1); break;
    case TR_ETIMEDOUT: atomic_fetch_add(&S.st_timeout, 1); break;
    default: atomic_fetch_add(&S.cont_bad, 1);
    }
    if (rand_r(&w->seed) % 16384 == 0) {
        atomic_fetch_add(&S.chaos_panics, 1);
        tr_panic(ctx, "chaos in a continuation");
    }
}

static void st_batch(tr_ctx_t *ctx, stw_t *w) {
    for (int k = 0; k < ST_BATCH; k++) {
        /* claim one operation; a refused send (TR_EFULL, TR_EDEAD: cheap,
         * and frequent while a peer is being restarted) gives it back, so
         * the total counts messages and calls the runtime accepted */
        if (atomic_fetch_sub(&S.ops_left, 1) <= 0) {
            atomic_fetch_add(&S.ops_left, 1);
            break;
        }
        int peer = (int)(rand_r(&w->seed) % ST_WORKERS);
        tr_ref_t to = st_ref(peer);
        unsigned r = (unsigned)rand_r(&w->seed);
        int v = (int)(r & 0xffffff);
        int rc;
        if (r % 4 == 0) {
            /* a unique id per accepted call: a refused call keeps its id
             * for the next one, so ids stay below total + incarnations */
            if (w->spare_id < 0)
                w->spare_id = (int64_t)atomic_fetch_add(&S.next_call, 1);
            v = (int)w->spare_id;
            uint32_t timeout = (r >> 8) % 64 == 0 ? 20 : 0;
            rc = tr_call(ctx, to, MSG_ST_REQ, &v, sizeof v, st_cont, (void *)(intptr_t)v,
                         timeout);
            if (rc == 0) {
                atomic_fetch_add(&S.calls_made, 1);
                w->spare_id = -1;
            } else if (rc == TR_EFULL) {
                atomic_fetch_add(&S.calls_full, 1);
            } else if (rc == TR_EDEAD) {
                atomic_fetch_add(&S.calls_dead, 1);
            } else {
                atomic_fetch_add(&S.bad_rc, 1);
            }
        } else {
            rc = tr_send(ctx, to, MSG_ST_DATA, &v, sizeof v);
            if (rc == 0)
                atomic_fetch_add(&S.sends_ok, 1);
            else if (rc == TR_EFULL)
                atomic_fetch_add(&S.sends_full, 1);
            else if (rc == TR_EDEAD)
                atomic_fetch_add(&S.sends_dead, 1);
            else
                atomic_fetch_add(&S.bad_rc, 1);
        }
        if (rc == 0)
            atomic_fetch_add(&S.ops_done, 1);
        else
            atomic_fetch_add(&S.ops_left, 1);
    }
    w->chain = 0;
    if (atomic_load(&S.ops_left) > 0)
        w->chain = tr_send(ctx, tr_self(ctx), MSG_ST_TICK, NULL, 0) == 0;
}

static int stw_init(tr_ctx_t *ctx, void *state, const void *args) {
    stw_t *w = state;
    memcpy(&w->idx, args, sizeof w->idx);
    uint32_t inc = atomic_fetch_add(&S.incarnation[w->idx], 1) + 1;
    w->seed = (unsigned)w->idx * 7919u + inc * 104729u;
    w->spare_id = -1;
    st_where(ctx, w);
    tr_ref_t me = tr_self(ctx);
    atomic_store_explicit(&S.refs[w->idx], ((uint64_t)me.slot << 32) | me.gen,
                          memory_order_release);
    atomic_fetch_add(&S.inits, 1);
    /* the backstop: restarts the batch chain if a self-send found the
     * mailbox full, and starts it in the first place */
    return tr_timer_start(ctx, 0, 1, MSG_ST_TIMER, NULL, 0) > 0 ? 0 : -1;
}

static void on_st_tick(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)m;
    stw_t *w = state;
    st_where(ctx, w);
    st_batch(ctx, w);
}

static void on_st_timer(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)m;
    stw_t *w = state;
    tid_check(ctx);
    if (!w->chain && atomic_load(&S.ops_left) > 0)
        st_batch(ctx, w);
}

static void on_st_data(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)m;
    stw_t *w = state;
    atomic_fetch_add(&S.data_handled, 1);
    st_where(ctx, w);
    unsigned r = (unsigned)rand_r(&w->seed) % 32768;
    if (r == 0) {
        atomic_fetch_add(&S.chaos_panics, 1);
        tr_panic(ctx, "chaos in a handler");
    }
    if (r == 1) {
        int rc = tr_stop(tr_ctx_runtime(ctx), st_ref((int)(rand_r(&w->seed) % ST_WORKERS)));
        if (rc == 0)
            atomic_fetch_add(&S.chaos_stops, 1);
        else if (rc != TR_EDEAD)
            atomic_fetch_add(&S.bad_rc, 1);
    }
}

static void on_st_req(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    stw_t *w = state;
    atomic_fetch_add(&S.req_handled, 1);
    st_where(ctx, w);
    int v;
    memcpy(&v, m->data, sizeof v);
    unsigned r = (unsigned)rand_r(&w->seed) % 8192;
    if (r == 0) {
        atomic_fetch_add(&S.chaos_panics, 1);
        tr_panic(ctx, "chaos holding a call");
    }
    if (r < 32)
        return; /* DropWithoutReport */
    if (r < 64) {
        (void)tr_reply_error(ctx, m, v, "chaos");
        return;
    }
    v++;
    if (tr_reply(ctx, m, &v, sizeof v) != 0)
        atomic_fetch_add(&S.bad_rc, 1);
}

static const tr_handler_t stw_handlers[] = {
    TR_ON_EMPTY(MSG_ST_TICK, on_st_tick),
    TR_ON_EMPTY(MSG_ST_TIMER, on_st_timer),
    TR_ON(MSG_ST_DATA, on_st_data, int),
    TR_ON(MSG_ST_REQ, on_st_req, int),
    TR_END,
};

static const tr_actor_type_t stw_type = {
    .name = "stw",
    .state_size = sizeof(stw_t),
    .handlers = stw_handlers,
    .init = stw_init,
};

/* The referee: once every operation is done and every call has either run
 * its continuation or been cancelled, start the ordered shutdown. */
static void on_st_check(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    (void)m;
    if (atomic_load(&S.ops_done) != S.total)
        return;
    tr_runtime_t *rt = tr_ctx_runtime(ctx);
    uint64_t made = atomic_load(&S.calls_made);
    uint64_t run = atomic_load(&S.conts_run);
    tr_stats_t s;
    if (tr_runtime_stats(rt, &s) != 0)
        return;
    if (run + s.conts_cancelled == made && atomic_load(&S.shutdowns) == 0) {
        atomic_fetch_add(&S.shutdowns, 1);
        (void)tr_runtime_shutdown(rt);
    }
}

static int referee_init(tr_ctx_t *ctx, void *state, const void *args) {
    (void)state;
    (void)args;
    return tr_timer_start(ctx, 1, 1, MSG_ST_CHECK, NULL, 0) > 0 ? 0 : -1;
}

static const tr_handler_t referee_handlers[] = {
    TR_ON_EMPTY(MSG_ST_CHECK, on_st_check),
    TR_END,
};

static const tr_actor_type_t referee_type = {
    .name = "referee",
    .state_size = 8,
    .handlers = referee_handlers,
    .init = referee_init,
};

static int64_t stress_ops(void) {
    const char *e = getenv("TROUPE_SCHED_STRESS_OPS");
    if (e && *e) {
        long long v = strtoll(e, NULL, 10);
        if (v > 0)
            return v;
    }
    return ST_DEFAULT_OPS;
}

static void run_stress(uint16_t nsched, int64_t total) {
    double t0 = now_s();
    /* reset S (a static of atomics: field by field through memset is fine
     * before any thread exists) */
    memset(&S, 0, sizeof S);
    S.nsched = nsched;
    S.total = (uint64_t)total;
    S.nran = (uint64_t)total + 65536; /* ids: accepted calls + incarnations */
    S.ran = calloc((size_t)S.nran, 1);
    assert_non_null(S.ran);
    atomic_store(&S.ops_left, total);

    tr_runtime_t *rt = rt_threaded(nsched);
    assert_int_equal(tr_set_panic_hook(rt, st_hook, NULL), 0);
    int idx[ST_WORKERS];
    tr_child_spec_t kids[ST_WORKERS];
    char names[ST_WORKERS][8];
    for (int i = 0; i < ST_WORKERS; i++) {
        idx[i] = i;
        snprintf(names[i], sizeof names[i], "w%d", i);
        kids[i] = cspec(names[i], &idx[i], TR_PLACE_PIN, (uint16_t)(i % nsched));
        kids[i].type = &stw_type;
        kids[i].mailbox_capacity = 4096;
    }
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, ST_WORKERS, 65535, 1000);
    tr_ref_t sup = TR_REF_NONE;
    assert_int_equal(tr_sup_start(rt, "stress", &sp, &sup), 0);
    tr_spawn_opts_t ro;
    memset(&ro, 0, sizeof ro);
    ro.place = TR_PLACE_PIN;
    ro.scheduler = 0;
    tt_spawn(rt, &referee_type, &ro);
    assert_int_equal(atomic_load(&S.inits), ST_WORKERS);

    tid_arm();
    assert_int_equal(tr_runtime_run(rt), 0);
    double t1 = now_s();
    tid_assert(nsched);

    tr_stats_t s = tt_stats(rt);
    uint64_t made = atomic_load(&S.calls_made), run = atomic_load(&S.conts_run);
    fprintf(stderr,
            "sched stress (%u schedulers): %lld ops in %.2f s; sends ok=%llu full=%llu "
            "dead=%llu; calls made=%llu full=%llu dead=%llu; conts run=%llu cancelled=%llu "
            "(ok=%llu ereply=%llu dropped=%llu dead=%llu full=%llu timeout=%llu); "
            "handled data=%llu req=%llu; panics=%llu (hook %llu) stops=%llu restarts=%llu; "
            "chan created=%llu late=%llu dead_letters=%llu\n",
            (unsigned)nsched, (long long)total, t1 - t0,
            (unsigned long long)atomic_load(&S.sends_ok),
            (unsigned long long)atomic_load(&S.sends_full),
            (unsigned long long)atomic_load(&S.sends_dead), (unsigned long long)made,
            (unsigned long long)atomic_load(&S.calls_full),
            (unsigned long long)atomic_load(&S.calls_dead), (unsigned long long)run,
            (unsigned long long)s.conts_cancelled, (unsigned long long)atomic_load(&S.st_ok),
            (unsigned long long)atomic_load(&S.st_ereply),
            (unsigned long long)atomic_load(&S.st_dropped),
            (unsigned long long)atomic_load(&S.st_dead),
            (unsigned long long)atomic_load(&S.st_full),
            (unsigned long long)atomic_load(&S.st_timeout),
            (unsigned long long)atomic_load(&S.data_handled),
            (unsigned long long)atomic_load(&S.req_handled),
            (unsigned long long)atomic_load(&S.chaos_panics),
            (unsigned long long)atomic_load(&S.hook_calls),
            (unsigned long long)atomic_load(&S.chaos_stops), (unsigned long long)s.restarts,
            (unsigned long long)s.chan_created, (unsigned long long)s.late_replies,
            (unsigned long long)s.dead_letters);
    for (uint16_t i = 0; i < nsched; i++) {
        tr_sched_stats_t ss;
        assert_int_equal(tr_runtime_sched_stats(rt, i, &ss), 0);
        fprintf(stderr,
                "  sched %u: handled=%llu passes=%llu remote_in=%llu wakeups=%llu spins=%llu "
                "spin_hits=%llu sleeps=%llu\n",
                (unsigned)i, (unsigned long long)ss.msgs_handled,
                (unsigned long long)ss.loop_passes, (unsigned long long)ss.remote_in,
                (unsigned long long)ss.wakeups, (unsigned long long)ss.spins,
                (unsigned long long)ss.spin_hits, (unsigned long long)ss.sleeps);
        assert_true(ss.msgs_handled > 0);
        assert_true(ss.remote_in > 0);
        assert_int_equal(ss.actors, 0);
    }

    assert_int_equal(atomic_load(&S.ops_done), (uint64_t)total);
    assert_int_equal(atomic_load(&S.bad_rc), 0);
    assert_int_equal(atomic_load(&S.cont_bad), 0);
    assert_int_equal(atomic_load(&S.conts_twice), 0); /* no continuation ran twice */
    assert_int_equal(atomic_load(&S.wrong_sched), 0);
    assert_int_equal(atomic_load(&S.shutdowns), 1);
    /* every call made either ran its continuation once or was cancelled
     * because its caller died; no tr_call_sync here */
    assert_int_equal(run + s.conts_cancelled, made);
    assert_int_equal(s.chan_created, made);
    tt_assert_chan_balance(rt);
    assert_int_equal(s.chan_pending, 0);
    assert_int_equal(s.actors_live, 0);
    assert_int_equal(s.panics, atomic_load(&S.chaos_panics));
    assert_int_equal(atomic_load(&S.hook_calls), atomic_load(&S.chaos_panics));
    if (total >= ST_DEFAULT_OPS) {
        assert_true(atomic_load(&S.chaos_panics) > 0);
        assert_true(atomic_load(&S.chaos_stops) > 0);
        assert_true(s.restarts > 0);
        assert_true(made > 0);
        assert_true(atomic_load(&S.st_ok) > 0);
        assert_true(atomic_load(&S.st_dropped) > 0);
    }
    assert_int_equal(tr_runtime_verify(rt), 0);
    tr_runtime_destroy(rt);
    /* destroy runs no continuation of a dead caller */
    assert_int_equal(atomic_load(&S.conts_run), run);
    free((void *)S.ran);
    S.ran = NULL;
}

static void test_threaded_stress_4(void **state) {
    (void)state;
    run_stress(4, stress_ops());
}

static void test_threaded_stress_2(void **state) {
    (void)state;
    run_stress(2, stress_ops() / 4);
}

/* ------------------------------------------------------------------ */
/* per-pair FIFO across threads, with backpressure: A (scheduler 1) sends
 * numbered messages and calls to B (scheduler 0, capacity 64) until
 * TR_EFULL, then waits for a credit (B sends one per FB_CREDIT_EVERY
 * messages it handles: at least capacity / FB_CREDIT_EVERY of them come
 * after any TR_EFULL, so no wake-up is lost) and retries the same number.
 * B must see 1..N in order, and never more than its capacity queued. */

enum {
    MSG_FB_TICK = TR_MSG_USER + 200,
    MSG_FB_SEQ,   /* int */
    MSG_FB_CALL,  /* int -> reply int */
    MSG_FB_CREDIT /* A: B made room */
};

#define FB_N 100000
#define FB_CAP 64
#define FB_CREDIT_EVERY 16

static struct {
    _Atomic uint64_t order_errors, received, efull, bad_rc, conts, cont_bad;
    _Atomic uint64_t wrong_sched, credits, credits_lost;
} FB;

typedef struct fb_s {
    tr_ref_t to;  /* sender: the receiver */
    int next;     /* sender: next seq to send; receiver: last seen */
    int last_reply;
    int blocked;  /* sender: waiting for a credit */
} fb_t;

static void fb_cont(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie) {
    fb_t *a = state;
    atomic_fetch_add(&FB.conts, 1);
    tid_check(ctx);
    int v = -1;
    if (r->status == TR_OK && r->len == sizeof v)
        memcpy(&v, r->data, sizeof v);
    if (v != (int)(intptr_t)cookie || v <= a->last_reply)
        atomic_fetch_add(&FB.cont_bad, 1);
    a->last_reply = v;
    if (tr_self(ctx).sched != 1)
        atomic_fetch_add(&FB.wrong_sched, 1);
}

static int fb_init(tr_ctx_t *ctx, void *state, const void *args) {
    (void)ctx;
    fb_t *a = state;
    if (args)
        memcpy(&a->to, args, sizeof a->to);
    return 0;
}

static void fb_push(tr_ctx_t *ctx, fb_t *a) {
    tid_check(ctx);
    if (a->next == 0)
        a->next = 1;
    for (int k = 0; k < 64 && a->next <= FB_N; k++) {
        int v = a->next;
        int rc = v % 8 == 5 ? tr_call(ctx, a->to, MSG_FB_CALL, &v, sizeof v, fb_cont,
                                      (void *)(intptr_t)v, 0)
                            : tr_send(ctx, a->to, MSG_FB_SEQ, &v, sizeof v);
        if (rc == TR_EFULL) {
            atomic_fetch_add(&FB.efull, 1);
            a->blocked = 1; /* retry the same number after a credit */
            return;
        }
        if (rc != 0) {
            atomic_fetch_add(&FB.bad_rc, 1);
            return;
        }
        a->next++;
    }
    if (a->next <= FB_N && tr_send(ctx, tr_self(ctx), MSG_FB_TICK, NULL, 0) != 0)
        atomic_fetch_add(&FB.bad_rc, 1);
}

static void on_fb_tick(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)m;
    fb_push(ctx, state);
}

static void on_fb_credit(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)m;
    fb_t *a = state;
    atomic_fetch_add(&FB.credits, 1);
    if (a->blocked) {
        a->blocked = 0;
        fb_push(ctx, a);
    }
}

static void fb_got(tr_ctx_t *ctx, fb_t *b, tr_ref_t sender, int v) {
    tid_check(ctx);
    if (tr_self(ctx).sched != 0)
        atomic_fetch_add(&FB.wrong_sched, 1);
    if (v != b->next + 1)
        atomic_fetch_add(&FB.order_errors, 1);
    b->next = v;
    if (v % FB_CREDIT_EVERY == 0 && tr_send(ctx, sender, MSG_FB_CREDIT, NULL, 0) != 0)
        atomic_fetch_add(&FB.credits_lost, 1);
    if (atomic_fetch_add(&FB.received, 1) + 1 == FB_N)
        tr_runtime_stop(tr_ctx_runtime(ctx));
}

static void on_fb_seq(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    int v;
    memcpy(&v, m->data, sizeof v);
    fb_got(ctx, state, m->sender, v);
}

static void on_fb_call(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    int v;
    memcpy(&v, m->data, sizeof v);
    (void)tr_reply(ctx, m, &v, sizeof v);
    fb_got(ctx, state, m->sender, v);
}

static const tr_handler_t fb_handlers[] = {
    TR_ON_EMPTY(MSG_FB_TICK, on_fb_tick),
    TR_ON(MSG_FB_SEQ, on_fb_seq, int),
    TR_ON(MSG_FB_CALL, on_fb_call, int),
    TR_ON_EMPTY(MSG_FB_CREDIT, on_fb_credit),
    TR_END,
};

static const tr_actor_type_t fb_type = {
    .name = "fb",
    .state_size = sizeof(fb_t),
    .handlers = fb_handlers,
    .init = fb_init,
};

static void test_threaded_fifo_backpressure(void **state) {
    (void)state;
    memset(&FB, 0, sizeof FB);
    tr_runtime_t *rt = rt_threaded(2);
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.place = TR_PLACE_PIN;
    o.scheduler = 0;
    o.mailbox_capacity = FB_CAP;
    tr_ref_t b = tt_spawn(rt, &fb_type, &o);
    memset(&o, 0, sizeof o);
    o.place = TR_PLACE_PIN;
    o.scheduler = 1;
    o.args = &b;
    o.args_len = sizeof b;
    o.mailbox_capacity = 8192; /* room for every credit */
    tr_ref_t a = tt_spawn(rt, &fb_type, &o);
    assert_int_equal(a.sched, 1);
    assert_int_equal(tr_runtime_send(rt, a, MSG_FB_TICK, NULL, 0), 0);
    double t0 = now_s();
    tid_arm();
    assert_int_equal(tr_runtime_run(rt), 0);
    double t1 = now_s();
    tid_assert(2);
    /* the run stopped when B had seen the last number; the last calls'
     * replies may still be on their way to A: step until idle */
    tt_drain(rt);
    assert_int_equal(atomic_load(&FB.received), FB_N);
    assert_int_equal(atomic_load(&FB.order_errors), 0);
    assert_int_equal(atomic_load(&FB.bad_rc), 0);
    assert_int_equal(atomic_load(&FB.conts), FB_N / 8);
    assert_int_equal(atomic_load(&FB.cont_bad), 0);
    assert_int_equal(atomic_load(&FB.wrong_sched), 0);
    assert_int_equal(atomic_load(&FB.credits_lost), 0);
    assert_int_equal(atomic_load(&FB.credits), FB_N / FB_CREDIT_EVERY);
    tr_mailbox_info_t mi;
    assert_int_equal(tr_mailbox_info(rt, b, &mi), 0);
    assert_int_equal(mi.capacity, FB_CAP);
    assert_true(mi.high_water <= FB_CAP);
    assert_int_equal(mi.depth, 0);
    fprintf(stderr, "sched fifo: %d in %.2f s, TR_EFULL (then wait for a credit)=%llu, "
            "high_water=%u\n", FB_N, t1 - t0, (unsigned long long)atomic_load(&FB.efull),
            mi.high_water);
    tt_assert_chan_balance(rt);
    assert_int_equal(tt_stats(rt).chan_created, FB_N / 8);
    assert_int_equal(tr_runtime_verify(rt), 2);
    tr_runtime_destroy(rt);
}

/* ------------------------------------------------------------------ */
/* foreign producers: 2 threads tr_runtime_send to one sink per scheduler */

enum {
    MSG_FP = TR_MSG_USER + 300, /* fp_t */
    MSG_FP_DONE                 /* a producer sent everything to this sink */
};

#define FP_PRODUCERS 2
#define FP_N 20000 /* per producer per sink */

typedef struct fp_s {
    int producer;
    int seq;
} fp_t;

static struct {
    _Atomic uint64_t received, order_errors, bad, send_bad, dones;
    _Atomic int first_bad_rc; /* the first error tr_runtime_send returned */
    _Atomic uint64_t count[FP_PRODUCERS][TR_SCHEDULERS_MAX];
    uint64_t total, all_dones;
} FP;

typedef struct fp_sink_s {
    int expect[FP_PRODUCERS]; /* last seq seen per producer */
} fp_sink_t;

static void on_fp(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    fp_sink_t *k = state;
    fp_t f;
    memcpy(&f, m->data, sizeof f);
    tid_check(ctx);
    uint16_t s = tr_self(ctx).sched;
    if (f.producer < 0 || f.producer >= FP_PRODUCERS) {
        atomic_fetch_add(&FP.bad, 1);
        return;
    }
    if (f.seq != k->expect[f.producer] + 1)
        atomic_fetch_add(&FP.order_errors, 1);
    k->expect[f.producer] = f.seq;
    atomic_fetch_add(&FP.count[f.producer][s], 1);
    atomic_fetch_add(&FP.received, 1);
}

/* Per-pair order: once every producer's DONE reached every sink, each sink
 * has had everything those producers sent it. */
static void on_fp_done(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    (void)m;
    tid_check(ctx);
    if (atomic_fetch_add(&FP.dones, 1) + 1 == FP.all_dones)
        tr_runtime_stop(tr_ctx_runtime(ctx));
}

static const tr_handler_t fp_handlers[] = {
    TR_ON(MSG_FP, on_fp, fp_t),
    TR_ON_EMPTY(MSG_FP_DONE, on_fp_done),
    TR_END,
};

static const tr_actor_type_t fp_type = {
    .name = "fp_sink",
    .state_size = sizeof(fp_sink_t),
    .handlers = fp_handlers,
};

typedef struct fp_thread_s {
    pthread_t th;
    tr_runtime_t *rt;
    int producer;
    uint16_t nsinks;
    tr_ref_t sinks[TR_SCHEDULERS_MAX];
} fp_thread_t;

static void *fp_producer(void *arg) {
    fp_thread_t *t = arg;
    int seq[TR_SCHEDULERS_MAX] = {0};
    unsigned seed = 77u + (unsigned)t->producer;
    for (int i = 0; i < FP_N * t->nsinks; i++) {
        /* a random sink each time, so the two inboxes interleave */
        int k = (int)(rand_r(&seed) % t->nsinks);
        if (seq[k] == FP_N) {
            for (k = 0; k < t->nsinks && seq[k] == FP_N; k++)
                ;
        }
        fp_t f = {t->producer, ++seq[k]};
        int rc = tr_runtime_send(t->rt, t->sinks[k], MSG_FP, &f, sizeof f);
        if (rc != 0) {
            int zero = 0;
            atomic_compare_exchange_strong(&FP.first_bad_rc, &zero, rc);
            atomic_fetch_add(&FP.send_bad, 1);
        }
    }
    for (int k = 0; k < t->nsinks; k++) {
        if (tr_runtime_send(t->rt, t->sinks[k], MSG_FP_DONE, NULL, 0) != 0) {
            /* the test fails on its counts; it must not hang */
            atomic_fetch_add(&FP.send_bad, 1);
            tr_runtime_stop(t->rt);
        }
    }
    return NULL;
}

static void run_foreign_producers(uint16_t nsched) {
    memset(&FP, 0, sizeof FP);
    FP.total = (uint64_t)FP_PRODUCERS * FP_N * nsched;
    FP.all_dones = (uint64_t)FP_PRODUCERS * nsched;
    tr_runtime_t *rt = rt_threaded(nsched);
    fp_thread_t th[FP_PRODUCERS];
    tr_ref_t sinks[TR_SCHEDULERS_MAX];
    for (uint16_t i = 0; i < nsched; i++) {
        tr_spawn_opts_t o;
        memset(&o, 0, sizeof o);
        o.place = TR_PLACE_PIN;
        o.scheduler = i;
        /* room for everything: this test is about delivery and order */
        o.mailbox_capacity = FP_PRODUCERS * (FP_N + 1);
        sinks[i] = tt_spawn(rt, &fp_type, &o);
    }
    for (int p = 0; p < FP_PRODUCERS; p++) {
        th[p].rt = rt;
        th[p].producer = p;
        th[p].nsinks = nsched;
        memcpy(th[p].sinks, sinks, sizeof(tr_ref_t) * nsched);
        assert_int_equal(pthread_create(&th[p].th, NULL, fp_producer, &th[p]), 0);
    }
    double t0 = now_s();
    tid_arm();
    assert_int_equal(tr_runtime_run(rt), 0);
    double t1 = now_s();
    tid_assert(nsched);
    for (int p = 0; p < FP_PRODUCERS; p++)
        assert_int_equal(pthread_join(th[p].th, NULL), 0);
    /* nothing more arrives after the last one */
    tt_drain(rt);
    if (atomic_load(&FP.send_bad))
        fprintf(stderr, "foreign producers: %llu sends failed, the first with %s\n",
                (unsigned long long)atomic_load(&FP.send_bad),
                tr_err_name(atomic_load(&FP.first_bad_rc)));
    assert_int_equal(atomic_load(&FP.first_bad_rc), 0);
    assert_int_equal(atomic_load(&FP.send_bad), 0);
    assert_int_equal(atomic_load(&FP.dones), FP.all_dones);
    assert_int_equal(atomic_load(&FP.bad), 0);
    assert_int_equal(atomic_load(&FP.order_errors), 0);
    assert_int_equal(atomic_load(&FP.received), FP.total);
    for (int p = 0; p < FP_PRODUCERS; p++)
        for (uint16_t i = 0; i < nsched; i++)
            assert_int_equal(atomic_load(&FP.count[p][i]), FP_N);
    uint64_t remote = 0;
    for (uint16_t i = 0; i < nsched; i++) {
        tr_sched_stats_t ss;
        assert_int_equal(tr_runtime_sched_stats(rt, i, &ss), 0);
        remote += ss.remote_in;
        assert_int_equal(tt_depth(rt, sinks[i]), 0);
    }
    assert_true(remote >= FP.total);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.sends_rejected, 0);
    assert_int_equal(s.dead_letters, 0);
    fprintf(stderr, "sched foreign producers (%u schedulers): %llu messages in %.2f s\n",
            (unsigned)nsched, (unsigned long long)FP.total, t1 - t0);
    tt_assert_chan_balance(rt);
    assert_int_equal(tr_runtime_verify(rt), nsched);
    tr_runtime_destroy(rt);
}

static void test_threaded_foreign_producers_2(void **state) {
    (void)state;
    run_foreign_producers(2);
}

static void test_threaded_foreign_producers_4(void **state) {
    (void)state;
    run_foreign_producers(4);
}

/* ------------------------------------------------------------------ */
/* tr_call_sync from a foreign thread to an actor on every scheduler */

enum { MSG_CS_ECHO = TR_MSG_USER + 400, MSG_CS_NOREPLY, MSG_CS_BOOM };

#define CS_N 1000 /* calls per scheduler */

static struct {
    _Atomic uint64_t handled, wrong_sched;
} CS;

typedef struct cs_arg_s {
    tr_runtime_t *rt;
    uint16_t n;
    tr_ref_t echo[TR_SCHEDULERS_MAX];
    tr_ref_t dead;
    /* results, read by the main thread after join */
    uint64_t calls, ok, bad_rc, bad_value, bad_responder;
    int noreply_status[TR_SCHEDULERS_MAX], noreply_reason[TR_SCHEDULERS_MAX];
    int boom_status, boom_reason;
    int boom_detail_ok;
    int dead_rc, dead_status;
    int spawn_rc; /* tr_spawn from this foreign thread */
    int shutdown_rc;
} cs_arg_t;

static void on_cs_echo(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    tid_check(ctx);
    atomic_fetch_add(&CS.handled, 1);
    int v;
    memcpy(&v, m->data, sizeof v);
    v = v * 2 + tr_self(ctx).sched;
    (void)tr_reply(ctx, m, &v, sizeof v);
}

static void on_cs_noreply(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    (void)m;
    tid_check(ctx);
}

static void on_cs_boom(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    (void)m;
    tr_panic(ctx, "sync boom on %u", (unsigned)tr_self(ctx).sched);
}

static const tr_handler_t cs_handlers[] = {
    TR_ON(MSG_CS_ECHO, on_cs_echo, int),
    TR_ON_EMPTY(MSG_CS_NOREPLY, on_cs_noreply),
    TR_ON_EMPTY(MSG_CS_BOOM, on_cs_boom),
    TR_END,
};

static const tr_actor_type_t cs_type = {
    .name = "cs",
    .state_size = 8,
    .handlers = cs_handlers,
};

static void cs_quiet_hook(void *arg, const tr_panic_scene_t *sc) {
    (void)arg;
    (void)sc;
}

static void *cs_thread(void *arg) {
    cs_arg_t *a = arg;
    for (int i = 0; i < CS_N * a->n; i++) {
        uint16_t k = (uint16_t)(i % a->n);
        int v = i;
        tr_result_t res;
        int rc = tr_call_sync(a->rt, a->echo[k], MSG_CS_ECHO, &v, sizeof v, &res, 0);
        a->calls++;
        if (rc != 0 || res.status != TR_OK) {
            a->bad_rc++;
        } else {
            int got = -1;
            if (res.len == sizeof got)
                memcpy(&got, res.data, sizeof got);
            if (got == 2 * v + k)
                a->ok++;
            else
                a->bad_value++;
            if (!tr_ref_eq(res.responder, a->echo[k]))
                a->bad_responder++;
        }
        tr_result_release(&res);
    }
    for (uint16_t k = 0; k < a->n; k++) {
        tr_result_t res;
        int rc = tr_call_sync(a->rt, a->echo[k], MSG_CS_NOREPLY, NULL, 0, &res, 0);
        a->calls++;
        a->noreply_status[k] = rc == 0 ? res.status : rc;
        a->noreply_reason[k] = (int)res.drop_reason;
        tr_result_release(&res);
    }
    /* the last actor panics holding the call */
    tr_result_t res;
    int rc = tr_call_sync(a->rt, a->echo[a->n - 1], MSG_CS_BOOM, NULL, 0, &res, 0);
    a->calls++;
    a->boom_status = rc == 0 ? res.status : rc;
    a->boom_reason = (int)res.drop_reason;
    a->boom_detail_ok = res.detail && strstr(res.detail, "sync boom on") != NULL;
    tr_result_release(&res);
    /* a dead actor on another scheduler */
    int v = 1;
    a->dead_rc = tr_call_sync(a->rt, a->dead, MSG_CS_ECHO, &v, sizeof v, &res, 0);
    a->calls++;
    a->dead_status = res.status;
    tr_result_release(&res);
    /* spawning is for scheduler threads */
    tr_ref_t r = TR_REF_NONE;
    a->spawn_rc = tr_spawn(a->rt, &cs_type, NULL, &r);
    a->shutdown_rc = tr_runtime_shutdown(a->rt);
    return NULL;
}

static void run_call_sync(uint16_t nsched) {
    memset(&CS, 0, sizeof CS);
    tr_runtime_t *rt = rt_threaded(nsched);
    assert_int_equal(tr_set_panic_hook(rt, cs_quiet_hook, NULL), 0);
    cs_arg_t *a = calloc(1, sizeof *a);
    assert_non_null(a);
    a->rt = rt;
    a->n = nsched;
    for (uint16_t i = 0; i < nsched; i++) {
        tr_spawn_opts_t o;
        memset(&o, 0, sizeof o);
        o.place = TR_PLACE_PIN;
        o.scheduler = i;
        a->echo[i] = tt_spawn(rt, &cs_type, &o);
        assert_int_equal(a->echo[i].sched, i);
    }
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.place = TR_PLACE_PIN;
    o.scheduler = 1;
    a->dead = tt_spawn(rt, &cs_type, &o);
    assert_int_equal(tr_stop(rt, a->dead), 0);
    tt_drain(rt);
    assert_false(tr_actor_alive(rt, a->dead));

    /* from the owner thread: refused (it is a scheduler thread) */
    tr_result_t res;
    int v = 0;
    assert_int_equal(tr_call_sync(rt, a->echo[1], MSG_CS_ECHO, &v, sizeof v, &res, 0),
                     TR_EWRONGTHREAD);
    tr_result_release(&res);

    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cs_thread, a), 0);
    double t0 = now_s();
    tid_arm();
    assert_int_equal(tr_runtime_run(rt), 0);
    double t1 = now_s();
    tid_assert(nsched);
    assert_int_equal(pthread_join(th, NULL), 0);

    assert_int_equal(a->shutdown_rc, 0);
    assert_int_equal(a->spawn_rc, TR_EWRONGTHREAD);
    assert_int_equal(a->bad_rc, 0);
    assert_int_equal(a->bad_value, 0);
    assert_int_equal(a->bad_responder, 0);
    assert_int_equal(a->ok, (uint64_t)CS_N * nsched);
    for (uint16_t k = 0; k < nsched; k++) {
        assert_int_equal(a->noreply_status[k], TR_EDROPPED);
        assert_int_equal(a->noreply_reason[k], TR_DROP_RETURNED);
    }
    assert_int_equal(a->boom_status, TR_EDROPPED);
    assert_int_equal(a->boom_reason, TR_DROP_PANICKED);
    assert_true(a->boom_detail_ok);
    assert_true(a->dead_rc == 0 || a->dead_rc == TR_EDEAD);
    if (a->dead_rc == 0)
        assert_int_equal(a->dead_status, TR_EDEAD);
    assert_int_equal(atomic_load(&CS.handled), (uint64_t)CS_N * nsched);
    tr_stats_t s = tt_stats(rt);
    /* every sync call made a channel, except perhaps the one to the dead
     * actor when it was refused at once */
    assert_true(s.chan_created == a->calls || s.chan_created + 1 == a->calls);
    tt_assert_chan_balance(rt);
    assert_int_equal(s.actors_live, 0);
    fprintf(stderr, "sched call_sync (%u schedulers): %llu calls in %.2f s\n",
            (unsigned)nsched, (unsigned long long)a->calls, t1 - t0);
    free(a);
    tr_runtime_destroy(rt);
}

static void test_threaded_call_sync_2(void **state) {
    (void)state;
    run_call_sync(2);
}

static void test_threaded_call_sync_4(void **state) {
    (void)state;
    run_call_sync(4);
}

/* ------------------------------------------------------------------ */
/* ordered shutdown with real threads: a supervisor on scheduler 0 and
 * children on every scheduler stop in reverse start order, then
 * tr_runtime_run returns with every scheduler thread joined */

typedef struct sd_s {
    int id;
} sd_t;

static pthread_mutex_t sd_mu = PTHREAD_MUTEX_INITIALIZER;
static tt_log_t sd_log; /* L_INIT and L_TERM, under sd_mu */
static int sd_reason[MAXN];
static int sd_init_sched[MAXN]; /* + 1 */
static _Atomic int sd_inits;

static void sd_reset(void) {
    pthread_mutex_lock(&sd_mu);
    memset(&sd_log, 0, sizeof sd_log);
    memset(sd_reason, 0, sizeof sd_reason);
    memset(sd_init_sched, 0, sizeof sd_init_sched);
    pthread_mutex_unlock(&sd_mu);
    atomic_store(&sd_inits, 0);
}

static int sd_init(tr_ctx_t *ctx, void *state, const void *args) {
    sd_t *w = state;
    memcpy(&w->id, args, sizeof w->id);
    tid_check(ctx);
    pthread_mutex_lock(&sd_mu);
    tt_log_push(&sd_log, L_INIT(w->id));
    if (w->id >= 0 && w->id < MAXN)
        sd_init_sched[w->id] = tr_self(ctx).sched + 1;
    pthread_mutex_unlock(&sd_mu);
    atomic_fetch_add(&sd_inits, 1);
    return 0;
}

static void sd_terminate(tr_ctx_t *ctx, void *state, tr_stop_reason_t reason) {
    sd_t *w = state;
    tid_check(ctx);
    pthread_mutex_lock(&sd_mu);
    tt_log_push(&sd_log, L_TERM(w->id));
    if (w->id >= 0 && w->id < MAXN)
        sd_reason[w->id] = (int)reason;
    pthread_mutex_unlock(&sd_mu);
}

static void on_sd_note(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)state;
    (void)m;
    tid_check(ctx);
}

static const tr_handler_t sd_handlers[] = {
    TR_ON_EMPTY(MSG_NOTE, on_sd_note),
    TR_END,
};

static const tr_actor_type_t sd_type = {
    .name = "sd",
    .state_size = sizeof(sd_t),
    .handlers = sd_handlers,
    .init = sd_init,
    .terminate = sd_terminate,
};

static void test_threaded_ordered_shutdown(void **state) {
    (void)state;
    sd_reset();
    tr_runtime_t *rt = rt_threaded(4);
    /* start order 1..8, spread so that neighbours sit on other schedulers */
    tr_child_spec_t kids[8];
    char names[8][8];
    for (int i = 0; i < 8; i++) {
        snprintf(names[i], sizeof names[i], "k%d", i + 1);
        kids[i] = cspec(names[i], &ids[i + 1], TR_PLACE_PIN, (uint16_t)((i * 3 + 1) % 4));
        kids[i].type = &sd_type;
    }
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, 8, 5, 60000);
    tr_ref_t sup = TR_REF_NONE;
    assert_int_equal(tr_sup_start(rt, "app", &sp, &sup), 0);
    tr_child_info_t ci[MAXCI];
    assert_int_equal(kids_of(rt, sup, ci), 8);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(ci[i].ref.sched, (i * 3 + 1) % 4);
        send_to(rt, ci[i].ref, MSG_NOTE, NULL, 0);
    }
    /* one actor outside the tree, on scheduler 2: stopped after the tree */
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.place = TR_PLACE_PIN;
    o.scheduler = 2;
    o.args = &ids[20];
    o.args_len = sizeof(int);
    tt_spawn(rt, &sd_type, &o);
    assert_int_equal(tr_runtime_shutdown(rt), 0);
    pthread_mutex_lock(&sd_mu);
    assert_int_equal(sd_log.n, 9); /* the inits, in start order */
    for (int i = 0; i < 8; i++)
        assert_int_equal(sd_log.v[i], L_INIT(i + 1));
    assert_int_equal(sd_log.v[8], L_INIT(20));
    memset(&sd_log, 0, sizeof sd_log);
    pthread_mutex_unlock(&sd_mu);
    tid_arm();
    assert_int_equal(tr_runtime_run(rt), 0);
    /* every scheduler thread was joined: nothing runs now, so the log is
     * ours to read */
    pthread_mutex_lock(&sd_mu);
    assert_int_equal(sd_log.n, 9);
    for (int i = 0; i < 8; i++)
        assert_int_equal(sd_log.v[i], L_TERM(8 - i));
    assert_int_equal(sd_log.v[8], L_TERM(20));
    for (int i = 1; i <= 8; i++)
        assert_int_equal(sd_reason[i], TR_STOP_SHUTDOWN);
    assert_int_equal(sd_reason[20], TR_STOP_SHUTDOWN);
    pthread_mutex_unlock(&sd_mu);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.actors_live, 0);
    tt_assert_chan_balance(rt);
    assert_int_equal(tr_runtime_verify(rt), 0);
    /* a stopped runtime does not run again */
    assert_int_equal(tr_runtime_run(rt), TR_ESTOPPED);
    /* invariant 3: every terminate ran on its actor's scheduler thread,
     * also for the actors outside any tree that the shutdown stops last */
    tid_assert(4);
    tr_runtime_destroy(rt);
}

/* ------------------------------------------------------------------ */
/* a supervisor started from a handler on scheduler 1 while the scheduler
 * threads run: its children on other schedulers run init there, later,
 * and still in start order; tr_sup_add_child the same; the supervisor's
 * own scheduler may call tr_sup_*; the ordered shutdown reverses it all */

enum { MSG_TREE_GO = TR_MSG_USER + 500, MSG_TREE_POLL };

#define TREE_KIDS 6

static struct {
    int start_rc, add_rc, is_sup;
    int64_t which;
    tr_ref_t sup;
    int kid_sched[TREE_KIDS + 1];
    int polls_bad;
} TREE; /* written by the starter (scheduler 1), read after the run */

typedef struct starter_s {
    tr_ref_t sup;
    int phase;
} starter_t;

static uint16_t tree_sched(int i) { return (uint16_t)((i * 3 + 2) % 4); }

static void on_tree_go(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)m;
    starter_t *p = state;
    tid_check(ctx);
    tr_child_spec_t kids[TREE_KIDS];
    char names[TREE_KIDS][8];
    for (int i = 0; i < TREE_KIDS; i++) {
        snprintf(names[i], sizeof names[i], "t%d", i + 1);
        kids[i] = cspec(names[i], &ids[i + 1], TR_PLACE_PIN, tree_sched(i));
        kids[i].type = &sd_type;
    }
    tr_sup_spec_t sp = sspec(TR_ONE_FOR_ONE, kids, TREE_KIDS, 5, 60000);
    TREE.start_rc = tr_sup_start(tr_ctx_runtime(ctx), "tree", &sp, &p->sup);
    TREE.sup = p->sup;
    /* poll until the children have started (no sleeps in the test; the
     * poll is only how the starter learns it is time to go on) */
    if (TREE.start_rc == 0 && tr_timer_start(ctx, 1, 1, MSG_TREE_POLL, NULL, 0) <= 0)
        TREE.polls_bad++;
}

static void on_tree_poll(tr_ctx_t *ctx, void *state, const tr_msg_t *m) {
    (void)m;
    starter_t *p = state;
    tr_runtime_t *rt = tr_ctx_runtime(ctx);
    tid_check(ctx);
    if (p->phase == 0 && atomic_load(&sd_inits) == TREE_KIDS) {
        tr_child_info_t ci[TREE_KIDS + 2];
        TREE.which = tr_sup_which_children(rt, p->sup, ci, TREE_KIDS + 2);
        for (int i = 0; i < TREE_KIDS && i < TREE.which; i++)
            TREE.kid_sched[i] = ci[i].ref.sched + 1;
        TREE.is_sup = tr_is_supervisor(rt, p->sup);
        tr_child_spec_t c = cspec("t7", &ids[TREE_KIDS + 1], TR_PLACE_PIN, 3);
        c.type = &sd_type;
        TREE.add_rc = tr_sup_add_child(rt, p->sup, &c, NULL);
        p->phase = 1;
    } else if (p->phase == 1 && atomic_load(&sd_inits) == TREE_KIDS + 1) {
        p->phase = 2;
        if (tr_runtime_shutdown(rt) != 0)
            TREE.polls_bad++;
    }
}

static const tr_handler_t starter_handlers[] = {
    TR_ON_EMPTY(MSG_TREE_GO, on_tree_go),
    TR_ON_EMPTY(MSG_TREE_POLL, on_tree_poll),
    TR_END,
};

static const tr_actor_type_t starter_type = {
    .name = "starter",
    .state_size = sizeof(starter_t),
    .handlers = starter_handlers,
};

static void test_threaded_sup_start_from_handler(void **state) {
    (void)state;
    sd_reset();
    memset(&TREE, 0, sizeof TREE);
    tr_runtime_t *rt = rt_threaded(4);
    tr_spawn_opts_t o;
    memset(&o, 0, sizeof o);
    o.place = TR_PLACE_PIN;
    o.scheduler = 1;
    tr_ref_t p = tt_spawn(rt, &starter_type, &o);
    send_to(rt, p, MSG_TREE_GO, NULL, 0);
    tid_arm();
    assert_int_equal(tr_runtime_run(rt), 0);
    tid_assert(4);
    assert_int_equal(TREE.start_rc, 0);
    assert_int_equal(TREE.polls_bad, 0);
    /* the supervisor lives where it was started */
    assert_int_equal(TREE.sup.sched, 1);
    assert_int_equal(TREE.which, TREE_KIDS);
    assert_int_equal(TREE.is_sup, 1);
    assert_int_equal(TREE.add_rc, 0);
    pthread_mutex_lock(&sd_mu);
    /* inits in start order, each on its child's scheduler; then the
     * shutdown in reverse */
    assert_int_equal(sd_log.n, 2 * (TREE_KIDS + 1));
    for (int i = 0; i <= TREE_KIDS; i++) {
        assert_int_equal(sd_log.v[i], L_INIT(i + 1));
        assert_int_equal(sd_log.v[TREE_KIDS + 1 + i], L_TERM(TREE_KIDS + 1 - i));
        assert_int_equal(sd_reason[i + 1], TR_STOP_SHUTDOWN);
    }
    for (int i = 0; i < TREE_KIDS; i++) {
        assert_int_equal(sd_init_sched[i + 1], tree_sched(i) + 1);
        assert_int_equal(TREE.kid_sched[i], tree_sched(i) + 1);
    }
    assert_int_equal(sd_init_sched[TREE_KIDS + 1], 4);
    pthread_mutex_unlock(&sd_mu);
    tr_stats_t s = tt_stats(rt);
    assert_int_equal(s.actors_live, 0);
    assert_int_equal(s.restarts, 0);
    tt_assert_chan_balance(rt);
    assert_int_equal(tr_runtime_verify(rt), 0);
    tr_runtime_destroy(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_scheduler_count, setup),
        cmocka_unit_test_setup(test_place_any_round_robin, setup),
        cmocka_unit_test_setup(test_place_local_pin_near, setup),
        cmocka_unit_test_setup(test_place_child_specs, setup),
        cmocka_unit_test_setup(test_place_child_spec_pin_out_of_range, setup),
        cmocka_unit_test_setup(test_sup_api_thread_rules, setup),
        cmocka_unit_test_setup(test_fifo_per_pair, setup),
        cmocka_unit_test_setup(test_capacity_across_schedulers, setup),
        cmocka_unit_test_setup(test_call_value_and_caller_scheduler, setup),
        cmocka_unit_test_setup(test_call_drop_without_report, setup),
        cmocka_unit_test_setup(test_call_timeout_then_late_reply, setup),
        cmocka_unit_test_setup(test_call_caller_stops_first, setup),
        cmocka_unit_test_setup(test_remote_spawn_from_handler, setup),
        cmocka_unit_test_setup(test_remote_init_refusal_under_supervisor, setup),
        cmocka_unit_test_setup(test_sup_one_for_all_and_shutdown, setup),
        cmocka_unit_test_setup(test_monitors_across_schedulers, setup),
        cmocka_unit_test_setup(test_update_config_across_schedulers, setup),
        cmocka_unit_test_setup(test_threaded_stress_4, setup),
        cmocka_unit_test_setup(test_threaded_stress_2, setup),
        cmocka_unit_test_setup(test_threaded_fifo_backpressure, setup),
        cmocka_unit_test_setup(test_threaded_foreign_producers_2, setup),
        cmocka_unit_test_setup(test_threaded_foreign_producers_4, setup),
        cmocka_unit_test_setup(test_threaded_call_sync_2, setup),
        cmocka_unit_test_setup(test_threaded_call_sync_4, setup),
        cmocka_unit_test_setup(test_threaded_ordered_shutdown, setup),
        cmocka_unit_test_setup(test_threaded_sup_start_from_handler, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
