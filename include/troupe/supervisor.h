/* troupe/supervisor.h: supervisors (child specs, strategies, restart
 * intensity, backoff, ordered start and shutdown) and monitors. The model is
 * Erlang/OTP's supervisor behaviour; see docs/supervision.md. */
#ifndef TROUPE_SUPERVISOR_H
#define TROUPE_SUPERVISOR_H

#include <troupe/actor.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- monitors ---- */

/* Payload of TR_MSG_DOWN. `detail` explains the reason ("panicked at f.c:12:
 * bad input", "killed after the 5000 ms shutdown timeout", ...); it and the
 * struct are valid during the handler only. */
typedef struct tr_down_s {
    int64_t monitor;         /* the id tr_monitor returned */
    tr_ref_t actor;          /* the incarnation that stopped */
    tr_stop_reason_t reason; /* TR_STOP_NOPROC: it was already dead */
    const char *detail;
} tr_down_t;

/* Monitor `target`: when it stops, for any reason, the calling actor
 * receives one TR_MSG_DOWN message (payload tr_down_t) on its system lane, so
 * a full mailbox cannot lose it. Monitoring an actor that is already dead
 * queues DOWN with TR_STOP_NOPROC at once. Monitors are one-way and
 * stackable: each call makes a new one (OTP's erlang:monitor/2). A monitor
 * ends with its DOWN, with tr_demonitor, or when the watcher stops.
 * The watcher's table must handle TR_MSG_DOWN:
 *   TR_ON(TR_MSG_DOWN, on_down, tr_down_t)
 * Scheduler thread, inside a handler or init of the watcher.
 * Returns a monitor id > 0, or TR_EWRONGTHREAD (no current actor),
 * TR_ENOHANDLER (no TR_MSG_DOWN handler), TR_ENOMEM. */
TR_API int64_t tr_monitor(tr_ctx_t *ctx, tr_ref_t target);

/* Remove a monitor. A DOWN already queued is still delivered (OTP's demonitor
 * without the flush option). Scheduler thread, inside a handler of the
 * watcher. Returns 0, TR_EWRONGTHREAD, or TR_ENOTFOUND (unknown id, not this
 * actor's, or DOWN already sent). */
TR_API int tr_demonitor(tr_ctx_t *ctx, int64_t monitor);

/* ---- supervisors ---- */

/* Schedulers (docs/concepts.md, "Supervisors and their scheduler"). A
 * supervisor always lives on the scheduler of whoever spawned it: a root
 * supervisor on the scheduler that called tr_sup_start (scheduler 0 from
 * the owner thread), a child supervisor next to its parent, so a whole tree
 * of supervisors shares one scheduler. Its workers go where their child
 * spec's `place` says. Its state belongs to that scheduler's thread, so
 * tr_sup_start_child, tr_sup_add_child, tr_sup_terminate_child and
 * tr_sup_which_children must be called on the supervisor's own scheduler
 * (from a handler of an actor placed there with TR_PLACE_LOCAL or
 * TR_PLACE_NEAR, for instance); elsewhere they return TR_EWRONGTHREAD
 * (tr_is_supervisor returns 0). From the owner thread while no scheduler
 * thread runs (outside tr_runtime_run) they always work. */

/* Restart type of a child (OTP's restart => permanent | transient |
 * temporary). Abnormal exits are TR_STOP_PANIC, TR_STOP_KILLED and
 * TR_STOP_ESCALATED. */
typedef enum {
    TR_PERMANENT = 0, /* always restarted */
    TR_TRANSIENT,     /* restarted only after an abnormal exit */
    TR_TEMPORARY      /* never restarted; its spec is removed when it stops */
} tr_restart_t;

/* Restart strategy (OTP's strategy). */
typedef enum {
    TR_ONE_FOR_ONE = 0,   /* restart only the child that stopped */
    TR_ONE_FOR_ALL,       /* stop the others (reverse start order), restart all */
    TR_REST_FOR_ONE,      /* stop the children started after it (reverse order),
                             restart it and them in start order */
    TR_SIMPLE_ONE_FOR_ONE /* one_for_one over dynamic children of one spec,
                             started with tr_sup_start_child */
} tr_strategy_t;

/* Child shutdown: milliseconds a child may take to stop after it is asked
 * (it may trap the request with a TR_MSG_SHUTDOWN handler) before it is
 * killed. 0 in a spec means the OTP default: 5000 ms for workers,
 * TR_SHUTDOWN_INFINITY for supervisors. */
#define TR_SHUTDOWN_BRUTAL_KILL 0xfffffffeu /* kill at once: terminate is not called */
#define TR_SHUTDOWN_INFINITY 0xffffffffu    /* wait as long as it takes */

typedef struct tr_sup_spec_s tr_sup_spec_t;

/* A child specification (OTP's child_spec()). Copied by the supervisor
 * (names, args when args_len > 0, nested specs), so it may live on the
 * caller's stack.
 * The child is registered as "<supervisor path>/<name>" (tr_whereis), and a
 * restarted child keeps that name, so refs by name reach the new
 * incarnation. Dynamic children (simple_one_for_one) are not registered;
 * their path in panic scenes is "<supervisor path>/<name>#<n>". */
typedef struct tr_child_spec_s {
    const char *name;             /* child id, unique among its siblings; no '/' */
    const tr_actor_type_t *type;  /* the worker's type (NULL when sup is set) */
    const tr_sup_spec_t *sup;     /* non-NULL: the child is a supervisor */
    const void *args;             /* passed to init at every (re)start */
    size_t args_len;              /* > 0: args are copied (bytes); 0: the pointer
                                     is passed as is and must outlive the child */
    tr_restart_t restart;
    uint32_t shutdown_ms;         /* see TR_SHUTDOWN_*; 0: the OTP default */
    uint32_t mailbox_capacity;    /* 0: the runtime default */
    tr_overflow_t overflow;       /* TR_OVERFLOW_DEFAULT: fail */
    tr_placement_t place;         /* which scheduler each incarnation lives on
                                     (troupe/actor.h): TR_PLACE_ANY
                                     round-robin, TR_PLACE_LOCAL next to its
                                     supervisor, TR_PLACE_PIN `scheduler`;
                                     TR_PLACE_NEAR is refused (TR_EINVAL) */
    uint16_t scheduler;           /* TR_PLACE_PIN only */
} tr_child_spec_t;

/* A supervisor specification (OTP's sup_flags() plus its child specs).
 * Restart intensity: more than `intensity` restarts within `period_ms`
 * milliseconds and the supervisor gives up: it stops all its children in
 * reverse start order and exits with TR_STOP_ESCALATED, which its own
 * supervisor handles like any abnormal exit. When a root supervisor gives
 * up, the runtime logs why, shuts down, and tr_runtime_run returns
 * TR_EESCALATED (exit non-zero). intensity = period_ms = 0 means OTP's
 * default, 1 restart in 5000 ms; intensity 0 with a period allows none.
 * Backoff (optional, absent from OTP, see erlang/otp#1287): when
 * backoff_min_ms > 0, a restart waits backoff_min_ms * factor^(k-1)
 * milliseconds, capped at backoff_max_ms, where k counts the child's
 * consecutive restarts; k resets once the child has stayed up for
 * period_ms. factor 0 means 2.0; backoff_max_ms 0 means 32 * backoff_min_ms. */
struct tr_sup_spec_s {
    tr_strategy_t strategy;
    uint32_t intensity;        /* restarts allowed per period (at most 65535) */
    uint32_t period_ms;
    uint32_t backoff_min_ms;   /* 0: restart at once */
    uint32_t backoff_max_ms;
    double backoff_factor;     /* >= 1.0, or 0 for 2.0 */
    const tr_child_spec_t *children; /* started in this order */
    size_t nchildren;          /* simple_one_for_one: exactly 1, the template */
};

/* Start a root supervisor registered as `name` (also the first element of
 * its children's paths), on the calling scheduler (scheduler 0 from the
 * owner thread). The spec is copied.
 * Its children start in order. From the owner thread while no scheduler
 * thread runs (a tree built in main before tr_runtime_run, or a test), or
 * when every child lands on the calling scheduler, they start
 * synchronously (each init runs inside this call); if one fails, the ones
 * already started are stopped in reverse order, the reason is logged at
 * error level ("supervisor app: child db failed to start: ...") and nothing
 * is left running. Started from a scheduler's thread while scheduler
 * threads run (from a handler, say), a child placed on another scheduler
 * has its init run later, there: the supervisor starts the next children
 * only once that init has answered, so the order holds, but this call has
 * already returned 0. A failure of such a child, or of one started after
 * it, then counts as a restart (the supervisor retries after its backoff,
 * or gives up past its intensity), as for a child that crashes.
 * Any scheduler's thread (inside a handler or outside), or the owner thread
 * outside tr_runtime_run.
 * Returns 0 and writes the supervisor's ref to *out (may be NULL);
 * TR_EINVAL (NULL/invalid spec: no type and no sup, duplicate or empty child
 * names, names with '/', a path over 255 bytes, simple_one_for_one without
 * exactly one child, backoff_max_ms < backoff_min_ms, factor < 1,
 * intensity over 65535); TR_EEXIST (name taken); TR_ENOMEM; TR_ESTOPPED;
 * TR_EWRONGTHREAD; TR_EINIT (a child failed to start). */
TR_API int tr_sup_start(tr_runtime_t *rt, const char *name, const tr_sup_spec_t *spec,
                        tr_ref_t *out);

/* simple_one_for_one: start a dynamic child from the template spec, with
 * these init args (args_len > 0: copied; 0: passed as is and must outlive
 * the child). The supervisor's own scheduler (see above). Returns 0 and
 * writes the child's ref to *out (may be NULL); TR_EINVAL (sup is not a
 * simple_one_for_one supervisor), TR_EDEAD (sup not alive), TR_ESTOPPED
 * (sup shutting down), TR_ENOMEM, TR_EINIT (the child's init refused;
 * nothing is kept), TR_EWRONGTHREAD. A child placed on another scheduler
 * while scheduler threads run has its init run later, there: this returns
 * 0 at once, and an init that refuses (or panics) is logged and the child
 * dropped. */
TR_API int tr_sup_start_child(tr_runtime_t *rt, tr_ref_t sup, const void *args,
                              size_t args_len, tr_ref_t *out);
/* (tr_sup_start_child, tr_sup_add_child and tr_sup_terminate_child also
 * return TR_EBUSY when called from inside the supervisor's own work, e.g.
 * from a child's init while the supervisor starts it.) */

/* Add a child spec to a running one_for_one / one_for_all / rest_for_one
 * supervisor and start it (last in start order). The supervisor's own
 * scheduler (see above). Returns 0 and the child's ref in *out (may be
 * NULL); TR_EINVAL (invalid spec, or a simple_one_for_one supervisor),
 * TR_EEXIST (a sibling has that name), TR_EDEAD, TR_ESTOPPED, TR_ENOMEM,
 * TR_EINIT (init refused; the spec is not kept), TR_EWRONGTHREAD. A child
 * placed on another scheduler while scheduler threads run has its init run
 * later, there: this returns 0 at once, and an init that refuses (or
 * panics) counts as a restart (a temporary child is dropped). */
TR_API int tr_sup_add_child(tr_runtime_t *rt, tr_ref_t sup, const tr_child_spec_t *spec,
                            tr_ref_t *out);

/* Stop a child of `sup` with its shutdown (ask, wait up to shutdown_ms,
 * kill) and delete its spec, so it is not restarted (OTP's terminate_child
 * followed by delete_child). Returns at once; the child stops
 * asynchronously. The supervisor's own scheduler (see above). Returns 0;
 * TR_ENOTFOUND (not a current child of sup); TR_EDEAD (sup not alive);
 * TR_EWRONGTHREAD. */
TR_API int tr_sup_terminate_child(tr_runtime_t *rt, tr_ref_t sup, tr_ref_t child);

/* One entry of a child's restart history. */
typedef struct tr_restart_record_s {
    uint64_t time_ms;        /* runtime time of the exit that caused the restart */
    tr_stop_reason_t reason; /* why the previous incarnation stopped */
    char detail[112];        /* its detail, truncated */
} tr_restart_record_t;

#define TR_SUP_HISTORY 8 /* restart records kept per child (most recent) */

typedef enum {
    TR_CHILD_RUNNING = 0,
    TR_CHILD_RESTARTING, /* waiting for its backoff delay or group restart */
    TR_CHILD_STOPPING,   /* asked to stop, waiting for it to exit */
    TR_CHILD_STOPPED     /* not running and not going to be restarted */
} tr_child_state_t;

/* What a supervisor reports about one child (OTP's which_children/1 plus the
 * restart history, for the debug socket). */
typedef struct tr_child_info_s {
    const char *name;        /* child id */
    const char *path;        /* full path ("app/db") */
    tr_ref_t ref;            /* current incarnation, TR_REF_NONE when not running */
    const char *type_name;   /* worker type name, or "supervisor" */
    int is_supervisor;
    int dynamic;             /* started with tr_sup_start_child */
    tr_restart_t restart;
    tr_child_state_t state;
    uint32_t incarnation;    /* starts so far (1 = never restarted) */
    uint32_t restarts;       /* total restarts */
    size_t nhistory;         /* valid records in history, oldest first */
    tr_restart_record_t history[TR_SUP_HISTORY];
} tr_child_info_t;

/* Copy up to `cap` children of `sup`, in start order, into out. The string
 * pointers stay valid until the supervisor next handles a message or is
 * called again. The supervisor's own scheduler (see above). Returns the
 * total number of children (which may exceed cap), TR_EINVAL (NULL out with
 * cap > 0, or sup is not a supervisor), TR_EDEAD, TR_EWRONGTHREAD. */
TR_API int64_t tr_sup_which_children(tr_runtime_t *rt, tr_ref_t sup, tr_child_info_t *out,
                                     size_t cap);

/* Nonzero when `ref` is a live supervisor. On ref's own scheduler, or the
 * owner thread outside tr_runtime_run; 0 anywhere else. */
TR_API int tr_is_supervisor(tr_runtime_t *rt, tr_ref_t ref);

#ifdef __cplusplus
}
#endif
#endif /* TROUPE_SUPERVISOR_H */
