/* troupe/actor.h: actor types, message tables, spawn/stop, the name
 * registry, resource ownership, timers and fd readiness as messages. */
#ifndef TROUPE_ACTOR_H
#define TROUPE_ACTOR_H

#include <troupe/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Message types. Values below TR_MSG_USER are reserved for the runtime;
 * applications number their own from TR_MSG_USER up. A message table may span
 * at most TR_MSG_MAX_SPAN consecutive type values (the dispatch index is a
 * dense array, so dispatch is one bounds check and one load). */
enum {
    TR_MSG_FD_READY = 1, /* payload tr_fd_event_t; type chosen by tr_watch_fd */
    TR_MSG_DOWN = 2,     /* payload tr_down_t: a monitored actor stopped
                            (troupe/supervisor.h, tr_monitor) */
    TR_MSG_SHUTDOWN = 3, /* payload tr_stop_reason_t: a stop request, delivered
                            instead of stopping to actors whose table handles
                            it (see tr_stop) */
    TR_MSG_USER = 64,
    TR_MSG_MAX_SPAN = 4096
};

/* Overflow policy: what a send does when the target's user mailbox is at
 * capacity. Per actor (tr_spawn_opts_t), overridable per message type in the
 * message table. Control messages (stop, capacity changes) travel on the
 * system lane and are never subject to it.
 *  - TR_OVERFLOW_FAIL: the send fails with TR_EFULL (backpressure to the
 *    sender); a call is not created. The payload destructor runs.
 *  - TR_OVERFLOW_DROP_NEWEST: the new message is discarded: the send returns
 *    0, the payload destructor runs, the drop is counted (drops_newest and
 *    dead_letters); a call's reply channel resolves with TR_EDROPPED
 *    (reason TR_DROP_OVERFLOW) so the caller is told.
 *  - TR_OVERFLOW_DROP_OLDEST: the oldest queued message is discarded the
 *    same way (destructor, counted, its call resolves TR_EDROPPED) and the new
 *    one is queued. Akka and Tokio's broadcast channel have the same choices. */
typedef enum {
    TR_OVERFLOW_DEFAULT = 0, /* in a table entry: use the actor's policy */
    TR_OVERFLOW_FAIL,
    TR_OVERFLOW_DROP_NEWEST,
    TR_OVERFLOW_DROP_OLDEST
} tr_overflow_t;

/* A message as a handler sees it. Valid only during the handler call; the
 * payload memory belongs to the runtime unless taken with tr_msg_take. */
typedef struct tr_msg_s {
    int type;           /* message type (>= TR_MSG_USER for application ones) */
    uint32_t len;       /* payload size in bytes */
    const void *data;   /* payload (NULL when len == 0) */
    tr_ref_t sender;    /* sending actor, or TR_REF_NONE from outside actors */
    /* private to the runtime */
    uint32_t flags_;
    uint32_t chan_idx_;
    uint32_t chan_gen_;
} tr_msg_t;

/* A message handler. `state` is the actor's private state (state_size bytes,
 * zeroed at spawn, owned by the runtime). Runs on the actor's scheduler
 * thread, never concurrently with another handler of the same actor. */
typedef void (*tr_handler_fn)(tr_ctx_t *ctx, void *state, const tr_msg_t *msg);

/* Size value for a table entry that accepts any payload size. */
#define TR_SIZE_ANY ((size_t)-1)

/* One entry of a message table. Use the TR_ON* macros. */
typedef struct tr_handler_s {
    int type;              /* message type; 0 ends the table (TR_END) */
    tr_handler_fn fn;      /* handler */
    size_t size;           /* payload bytes checked at send time, or TR_SIZE_ANY */
    const char *name;      /* type name for logs, traces and the debug socket */
    tr_overflow_t overflow;/* TR_OVERFLOW_DEFAULT or a per-type override */
} tr_handler_t;

/* Table entries. TR_ON checks that every payload is exactly sizeof(T) bytes;
 * TR_ON_EMPTY expects no payload; TR_ON_ANY accepts any size; TR_ON_POLICY
 * also overrides the overflow policy for that type. */
#define TR_ON(type, fn, T) {(type), (fn), sizeof(T), #type, TR_OVERFLOW_DEFAULT}
#define TR_ON_EMPTY(type, fn) {(type), (fn), 0, #type, TR_OVERFLOW_DEFAULT}
#define TR_ON_ANY(type, fn) {(type), (fn), TR_SIZE_ANY, #type, TR_OVERFLOW_DEFAULT}
#define TR_ON_POLICY(type, fn, size, policy) {(type), (fn), (size), #type, (policy)}
#define TR_END {0, NULL, 0, NULL, TR_OVERFLOW_DEFAULT}

/* Why an actor stopped: passed to terminate, carried by exit signals to its
 * supervisor and by DOWN messages to its monitors. NORMAL and SHUTDOWN are
 * normal exits; PANIC, KILLED and ESCALATED are abnormal (a transient child
 * is restarted only after an abnormal exit, as in OTP). */
typedef enum {
    TR_STOP_NORMAL = 0, /* tr_stop / tr_stop_self */
    TR_STOP_SHUTDOWN,   /* ordered shutdown: supervisor, tr_runtime_shutdown, destroy */
    TR_STOP_PANIC,      /* tr_panic, or a hardware fault under TR_FAULT_ISOLATE */
    TR_STOP_KILLED,     /* brutal kill (shutdown timeout passed or brutal_kill
                           child spec): terminate is not called */
    TR_STOP_ESCALATED,  /* a supervisor gave up: restart intensity exceeded */
    TR_STOP_NOPROC      /* DOWN only: the monitored actor was already dead */
} tr_stop_reason_t;

/* Name of a stop reason ("normal", "panic", ...); static string. Thread-safe. */
TR_API const char *tr_stop_reason_str(tr_stop_reason_t reason);

struct tr_config_section_s; /* troupe/config.h */
struct tr_config_error_s;
struct tr_inspect_s; /* troupe/debug.h */

/* An actor type: a constant descriptor, usually `static const`. Its memory
 * must outlive every actor of the type (the runtime keeps a pointer).
 * Compiled once per runtime into a dispatch index on first spawn.
 *  - init(ctx, state, args): optional; runs on the actor's scheduler
 *    before any message reaches it: inside tr_spawn when the actor lands on
 *    the caller's scheduler (or the owner thread spawns while no scheduler
 *    thread runs), else soon after, on its own scheduler (see tr_spawn).
 *    Return 0, or any nonzero value to refuse: the spawn then fails with
 *    TR_EINIT (or, when init ran later, the supervisor gets an exit signal)
 *    and nothing needs cleaning (resources already owned through tr_own*
 *    are released, terminate is not called).
 *  - terminate(ctx, state, reason): optional; runs once when the actor stops,
 *    before owned resources are released; it may still send messages.
 *  - default_handler: optional; receives types absent from the table (then
 *    TR_ENOHANDLER is never returned for this actor), as OTP's handle_info.
 *  - validate_config(sec, err): optional; checks an actor's new section
 *    (troupe/config.h) before a reload commits, and before each spawn while
 *    a config is installed. Must not touch actor state (it has none: it may
 *    run for a child that is not running). Return 0 to accept; to refuse,
 *    return nonzero, best with tr_config_refuse (which fills *err): the
 *    whole reload is rejected, or the spawn fails with TR_EINIT. Scheduler
 *    thread; must not spawn, send or reload.
 *  - on_config(ctx, state, sec): optional; applies a committed config
 *    (UpdateConfig, on the system lane, before any later user message),
 *    after the runtime has applied mailbox_capacity and overflow. Runs like
 *    a handler (it may send; a panic in it is a panic of the actor). Not
 *    called at spawn: init reads its settings with tr_ctx_config.
 *  - inspect(state, w): optional; describes the state for the debug
 *    socket's `actor` command with tr_inspect_add (troupe/debug.h), after
 *    OTP's format_status. Runs on scheduler 0's thread outside handlers,
 *    while the actor's own scheduler is parked (the world is stopped), so
 *    the actor is not running; it must only read the state, must not
 *    block, and must not call tr_panic (there is no handler to unwind). */
typedef struct tr_actor_type_s {
    const char *name;
    size_t state_size;               /* bytes of private state, zeroed */
    const tr_handler_t *handlers;    /* ends with TR_END */
    int (*init)(tr_ctx_t *ctx, void *state, const void *args);
    void (*terminate)(tr_ctx_t *ctx, void *state, tr_stop_reason_t reason);
    tr_handler_fn default_handler;
    int (*validate_config)(const struct tr_config_section_s *sec, struct tr_config_error_s *err);
    void (*on_config)(tr_ctx_t *ctx, void *state, const struct tr_config_section_s *sec);
    void (*inspect)(const void *state, struct tr_inspect_s *w);
} tr_actor_type_t;

/* Placement: which scheduler a new actor lives on (its ref's `sched`).
 * An actor never moves. */
typedef enum {
    TR_PLACE_ANY = 0, /* round-robin over the schedulers (the default) */
    TR_PLACE_LOCAL,   /* the spawner's scheduler: next to its parent (a
                         supervisor's children), or scheduler 0 from outside
                         the schedulers */
    TR_PLACE_PIN,     /* scheduler `scheduler` */
    TR_PLACE_NEAR     /* the scheduler of actor `near` (alive or not) */
} tr_placement_t;

/* Spawn options; zero-initialise and set what you need. */
typedef struct tr_spawn_opts_s {
    const char *name;          /* register under this name (copied); NULL: none */
    uint32_t mailbox_capacity; /* user messages; 0: the runtime default */
    tr_overflow_t overflow;    /* TR_OVERFLOW_DEFAULT means TR_OVERFLOW_FAIL */
    uint32_t high_watermark;   /* depth that raises a high event; 0: 3/4 of capacity */
    uint32_t low_watermark;    /* depth that clears it; 0: 1/4 of capacity */
    const void *args;          /* passed to init; see args_len */
    size_t args_len;           /* > 0: args are copied (bytes) and the copy
                                  lives until init returns; 0: args is
                                  borrowed, and must stay valid until init
                                  has run: inside tr_spawn for an actor on
                                  the spawner's own scheduler, later for one
                                  placed on another scheduler */
    tr_placement_t place;      /* TR_PLACE_ANY: round-robin */
    uint16_t scheduler;        /* TR_PLACE_PIN: 0..tr_runtime_schedulers()-1 */
    tr_ref_t near;             /* TR_PLACE_NEAR: the actor to sit next to */
} tr_spawn_opts_t;

/* Spawn an actor of `type` on the scheduler `opts->place` picks. Registers
 * the type on first use (compiling its table), allocates zeroed state, runs
 * init, registers the name, and writes the new ref to *out (may be NULL).
 * When the new actor lives on the caller's own scheduler (or the caller is
 * the owner thread outside tr_runtime_run, which may touch every
 * scheduler), init runs inside this call. When it lives on another
 * scheduler, the actor is created and named here, its ref is returned at
 * once, and init runs on its own scheduler before any message reaches it
 * (messages sent meanwhile wait in that scheduler's inbox, in order): an
 * init that refuses or panics then stops the actor, and its supervisor, if
 * any, gets the exit signal (reason TR_STOP_PANIC, detail "init ...") as
 * for any crash. This is Akka's and CAF's asynchronous start; OTP's
 * synchronous start_link holds only on one scheduler.
 * Thread: a scheduler thread (inside a handler or outside, e.g. before
 * tr_runtime_run); other threads get TR_EWRONGTHREAD.
 * Returns 0; TR_EINVAL (NULL type, a table with duplicate/invalid types or a
 * span over TR_MSG_MAX_SPAN, capacity over TR_MAILBOX_MAX, watermarks out of
 * order, a placement or pinned scheduler out of range); TR_EEXIST (name
 * taken); TR_ENOMEM; TR_ESTOPPED (runtime shutting down); TR_EINIT (init
 * refused, same-scheduler spawns only). */
TR_API int tr_spawn(tr_runtime_t *rt, const tr_actor_type_t *type,
                    const tr_spawn_opts_t *opts, tr_ref_t *out);

/* Largest mailbox capacity accepted (messages). */
#define TR_MAILBOX_MAX (1u << 24)

/* Ask an actor to stop. The request travels on the system lane, so it is
 * never refused for a full mailbox. If the actor's table handles
 * TR_MSG_SHUTDOWN, that handler receives the request instead (payload: the
 * tr_stop_reason_t) and the actor stops when it calls tr_stop_self, after
 * finishing what it wants to finish: OTP's trapped exit. Its supervisor's
 * shutdown timeout bounds how long that may take; a second request stops it
 * at once. Otherwise the actor finishes its current message, then:
 * terminate runs; owned resources are released; its timers and fd
 * watchers are cancelled; reply channels it holds resolve TR_EDROPPED
 * (TR_DROP_STOPPED); calls still queued resolve TR_EDROPPED
 * (TR_DROP_DISCARDED); queued one-way messages are dead letters (destructors
 * run); its own pending calls are cancelled; its name is unregistered.
 * Thread-safe (any thread). Returns 0, or TR_EDEAD (stale ref or already
 * stopping), TR_ENOMEM, TR_ESTOPPED. */
TR_API int tr_stop(tr_runtime_t *rt, tr_ref_t ref);

/* Stop the calling actor once the current handler returns (the handler may
 * keep running and sending). Scheduler thread, inside a handler only.
 * Returns 0, TR_EWRONGTHREAD (no current actor), TR_EALREADY. */
TR_API int tr_stop_self(tr_ctx_t *ctx);

/* Nonzero if `ref` names a live (not stopped) incarnation. A racy snapshot
 * from other threads; exact on the actor's scheduler thread. Thread-safe. */
TR_API int tr_actor_alive(tr_runtime_t *rt, tr_ref_t ref);

/* The calling actor's ref, its runtime, and its type. Scheduler thread,
 * inside a handler (or init/terminate); outside they return TR_REF_NONE /
 * the runtime / NULL. */
TR_API tr_ref_t tr_self(tr_ctx_t *ctx);
TR_API tr_runtime_t *tr_ctx_runtime(tr_ctx_t *ctx);
TR_API const tr_actor_type_t *tr_ctx_type(tr_ctx_t *ctx);

/* Name registry (uthash). A name maps to one live actor and an actor has at
 * most one name (as OTP's register/2); the entry is removed when the actor
 * stops, so a later incarnation can take it (supervisors re-register
 * restarted children). Names are copied. Thread-safe (mutex).
 * tr_register returns 0, TR_EINVAL (NULL/empty name or over 255 bytes),
 * TR_EDEAD (ref not alive), TR_EEXIST (name taken, or the actor already has
 * a name: tr_unregister it first), TR_ENOMEM.
 * tr_unregister returns 0 or TR_ENOTFOUND.
 * tr_whereis returns 0 and writes *out, or TR_ENOTFOUND. */
TR_API int tr_register(tr_runtime_t *rt, const char *name, tr_ref_t ref);
TR_API int tr_unregister(tr_runtime_t *rt, const char *name);
TR_API int tr_whereis(tr_runtime_t *rt, const char *name, tr_ref_t *out);

/* Resource ownership: the runtime releases owned resources exactly once, in
 * reverse order of acquisition, when the actor stops (C has no Drop, so the
 * runtime provides it). Scheduler thread, inside the owning actor's handler,
 * init or terminate.
 * tr_own_fd: `fd` is closed with close(2) at stop. One owner per fd across the
 *   runtime: returns 0, TR_EINVAL (fd < 0 or no current actor), TR_EBUSY
 *   (another actor owns it), TR_EALREADY (this actor owns it), TR_ENOMEM.
 * tr_close_fd: close an owned fd now and forget it: 0, TR_ENOTFOUND (not
 *   owned by the caller), TR_ESYS (close failed; it is forgotten anyway).
 * tr_disown_fd: forget ownership without closing (hand it to someone else):
 *   0 or TR_ENOTFOUND.
 * tr_own: `dtor(ptr)` runs at stop: 0, TR_EINVAL (NULL dtor, no actor),
 *   TR_ENOMEM (then dtor(ptr) has already run, so nothing leaks).
 * tr_release: run the destructor of an owned pointer now: 0 or TR_ENOTFOUND. */
TR_API int tr_own_fd(tr_ctx_t *ctx, int fd);
TR_API int tr_close_fd(tr_ctx_t *ctx, int fd);
TR_API int tr_disown_fd(tr_ctx_t *ctx, int fd);
TR_API int tr_own(tr_ctx_t *ctx, void *ptr, tr_dtor_fn dtor);
TR_API int tr_release(tr_ctx_t *ctx, void *ptr);

/* Timers deliver a message of `type` to the calling actor after `after_ms`
 * milliseconds, and then every `repeat_ms` (0: once). The payload is copied
 * at creation (len bytes, checked against the table like a send) and
 * delivered with each firing; sender is the actor itself. A firing that finds
 * the mailbox full follows the overflow policy; under TR_OVERFLOW_FAIL it is
 * counted as a dead letter. Timers belong to the actor and are cancelled when
 * it stops. Time comes from the runtime clock (real, or manual under the
 * manual_clock option). Scheduler thread, inside a handler/init.
 * tr_timer_start returns a timer id > 0, or TR_EINVAL (no actor, after_ms and
 * repeat_ms both 0 is allowed: fires on the next pass), TR_ENOHANDLER,
 * TR_ENOMEM.
 * tr_timer_cancel returns 0, or TR_EALREADY (fired one-shot or unknown id). */
TR_API int64_t tr_timer_start(tr_ctx_t *ctx, uint32_t after_ms, uint32_t repeat_ms,
                              int type, const void *data, size_t len);
TR_API int tr_timer_cancel(tr_ctx_t *ctx, int64_t timer_id);

/* Payload of fd readiness messages. */
typedef struct tr_fd_event_s {
    int fd;
    int events; /* TR_FD_READ | TR_FD_WRITE that are ready */
} tr_fd_event_t;

enum { TR_FD_READ = 1, TR_FD_WRITE = 2 };

/* Deliver fd readiness to the calling actor as messages of `type` (payload
 * tr_fd_event_t; the table entry should be TR_ON(type, fn, tr_fd_event_t)).
 * Level-triggered, but at most one readiness message per watch is queued at a
 * time: the next is sent after the handler has seen the previous one, so a
 * busy socket cannot flood the mailbox. Readiness messages bypass the
 * capacity check (there is at most one per watch). The watch ends at
 * tr_unwatch_fd or when the actor stops; it does not close the fd (use
 * tr_own_fd for that). Scheduler thread, inside a handler/init.
 * tr_watch_fd returns 0, TR_EINVAL (fd < 0, events 0, no actor),
 * TR_ENOHANDLER (type not in the table), TR_EALREADY (fd already watched by
 * this actor: use tr_unwatch_fd first), TR_ENOMEM.
 * tr_unwatch_fd returns 0 or TR_ENOTFOUND. */
TR_API int tr_watch_fd(tr_ctx_t *ctx, int fd, int events, int type);
TR_API int tr_unwatch_fd(tr_ctx_t *ctx, int fd);

/* Change a live actor's mailbox capacity (and with it the default
 * watermarks). Travels on the system lane; queued messages are never lost: a
 * capacity below the current depth only makes sends fail (or drop, per
 * policy) until the actor drains below it. Thread-safe.
 * Returns 0, TR_EINVAL (0 or over TR_MAILBOX_MAX), TR_EDEAD, TR_ENOMEM. */
TR_API int tr_set_mailbox_capacity(tr_runtime_t *rt, tr_ref_t ref, uint32_t capacity);

/* Mailbox facts for one actor. Scheduler thread (exact) or any thread (a
 * racy snapshot of the atomics, depth may include in-flight sends).
 * Returns 0 or TR_EDEAD. */
typedef struct tr_mailbox_info_s {
    uint32_t depth;       /* user messages queued or reserved by senders */
    uint32_t capacity;
    uint32_t high_water;  /* largest depth seen */
    uint64_t handled;     /* messages handled */
    int high;             /* 1 while above the high watermark (hysteresis) */
} tr_mailbox_info_t;
TR_API int tr_mailbox_info(tr_runtime_t *rt, tr_ref_t ref, tr_mailbox_info_t *out);

/* Take ownership of a moved payload (sent with tr_send_move/tr_call_move)
 * inside its handler: returns the pointer and the runtime will not run the
 * destructor; the caller now owns it. For a copied payload returns NULL
 * (copy msg->data instead). Scheduler thread, inside the handler of `msg`. */
TR_API void *tr_msg_take(tr_ctx_t *ctx, const tr_msg_t *msg);

/* Name of a message type in an actor type's table ("MSG_GET"), or NULL. */
TR_API const char *tr_msg_type_name(const tr_actor_type_t *type, int msg_type);

#ifdef __cplusplus
}
#endif
#endif /* TROUPE_ACTOR_H */
