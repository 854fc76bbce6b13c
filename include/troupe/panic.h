/* troupe/panic.h: panics, hardware-fault isolation, the panic hook and the
 * per-scheduler event ring (flight recorder). See docs/supervision.md. */
#ifndef TROUPE_PANIC_H
#define TROUPE_PANIC_H

#include <troupe/actor.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Panic: give up on the current message and on the actor. Records the call
 * site (file:line) and a backtrace, then unwinds the running handler (or
 * continuation, init or terminate) back to the scheduler with siglongjmp:
 * the code after tr_panic never runs. Then, in order:
 *  1. the panic hook runs with the scene (tr_set_panic_hook);
 *  2. resources the actor owns (tr_own, tr_own_fd, timers, fd watches) are
 *     released;
 *  3. terminate runs with TR_STOP_PANIC (state may be half-updated and owned
 *     resources are gone: terminate must not rely on them);
 *  4. the call being handled, reply channels the actor kept and calls still
 *     queued in its mailbox resolve with TR_EDROPPED, reason
 *     TR_DROP_PANICKED, detail "panicked at FILE:LINE: MESSAGE";
 *  5. queued one-way messages are dead letters (destructors run);
 *  6. its supervisor receives an exit signal (TR_STOP_PANIC) and monitors a
 *     DOWN message; the supervisor decides what happens next.
 * A panic in init makes tr_spawn return TR_EINIT (steps 1, 2, 4, 5; terminate
 * is not called for an actor that never started). A panic in terminate ends
 * terminate; the stop goes on.
 * Unwinding skips the C frames in between: memory the handler malloc'd and
 * did not hand to the runtime (tr_own) leaks, locks it took stay taken. Own
 * what must be released. Do not call tr_panic from payload destructors, log
 * or watermark callbacks: they run inside the runtime.
 * Scheduler thread, inside a handler, continuation, init or terminate. With
 * no current actor (ctx NULL, outside handlers) there is nothing to unwind
 * to: the message is written to stderr and the process aborts.
 * After Erlang's erlang:error/1 and Rust's panic!, with Pony's rule that a
 * failure never crosses an actor boundary. */
#define tr_panic(ctx, ...) tr_panic_at((ctx), __FILE__, __LINE__, __VA_ARGS__)
TR_API void tr_panic_at(tr_ctx_t *ctx, const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));

/* Hardware faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) raised while a
 * handler runs (tr_runtime_opts_t.fault_isolation):
 *  - TR_FAULT_REPORT (default): the panic hook runs with the full scene on an
 *    alternate signal stack, then the signal is re-raised with its default
 *    action, so the process dies with a core dump. Memory may be corrupt
 *    after a wild write, so the runtime does not pretend to recover.
 *  - TR_FAULT_ISOLATE (opt-in): the fault becomes a panic of that actor (its
 *    supervisor restarts it) and the runtime is marked tainted
 *    (tr_stats_t.faults_isolated > 0). Use it when losing the process costs
 *    more than the risk of running on with corrupted memory.
 *  - TR_FAULT_OFF: no signal handlers are installed.
 * Faults outside handlers go to the handler that was installed before the
 * runtime (or the default action). The handlers are process-wide: installed
 * by the first runtime that wants them, restored by the last one destroyed.
 * The design (report by default) follows Rust's panic=abort reasoning and
 * OTP's view that only a process boundary truly isolates memory. */
typedef enum {
    TR_FAULT_REPORT = 0,
    TR_FAULT_ISOLATE,
    TR_FAULT_OFF
} tr_fault_isolation_t;

/* Runtime events, one fixed-size record each, kept in a ring per scheduler
 * (tr_runtime_opts_t.event_ring entries, oldest overwritten). */
typedef enum {
    TR_EV_SPAWN = 1, /* actor spawned (peer: its supervisor, if any) */
    TR_EV_SEND,      /* actor sent msg_type to peer (one-way or call) */
    TR_EV_HANDLE,    /* actor handled msg_type sent by peer */
    TR_EV_REPLY,     /* actor answered a call from peer */
    TR_EV_DROP,      /* a reply channel from peer dropped at actor (arg: tr_drop_reason_t),
                        or a dead letter (arg 0) */
    TR_EV_PANIC,     /* actor panicked (arg: signal number, 0 for tr_panic) */
    TR_EV_RESTART,   /* supervisor `peer` restarted child `actor` (arg: incarnation) */
    TR_EV_STOP,      /* actor stopped (arg: tr_stop_reason_t) */
    TR_EV_DOWN,      /* actor received DOWN about peer (arg: tr_stop_reason_t) */
    TR_EV_STALL      /* the stall detector found actor's call to peer pending past
                        its threshold (arg: age in ms, saturated) */
} tr_event_kind_t;

typedef struct tr_event_s {
    uint64_t time_ms;     /* runtime time (tr_runtime_now_ms) at the pass */
    tr_event_kind_t kind;
    int msg_type;         /* message type, 0 when none */
    tr_ref_t actor;       /* the actor the event is about */
    tr_ref_t peer;        /* the other side, or TR_REF_NONE */
    int32_t arg;          /* kind-specific, see above */
} tr_event_t;

/* Name of an event kind ("send"); static string. Thread-safe. */
TR_API const char *tr_event_kind_name(tr_event_kind_t kind);

/* Copy the most recent events (at most `cap`) into out, oldest first. Each
 * scheduler has its own ring; their events are merged by time (events of
 * the same millisecond ordered by scheduler id). A ring is written by its
 * scheduler's thread, so this may be called:
 *  - on the owner thread while no scheduler thread runs (outside
 *    tr_runtime_run, where that thread steps every scheduler), or on the
 *    thread of a runtime with one scheduler: anywhere, inside handlers too;
 *  - with several schedulers inside tr_runtime_run, only on scheduler 0's
 *    thread (the owner thread) outside handlers: it parks the other
 *    schedulers at a safe point while it copies, and gives up with
 *    TR_ETIMEDOUT when one does not get there within 1000 ms (a handler
 *    running that long).
 * Returns the number copied, TR_EINVAL (NULL rt, or NULL out with cap > 0),
 * TR_EWRONGTHREAD (any other thread, or a handler while several scheduler
 * threads run) or TR_ETIMEDOUT. */
TR_API int64_t tr_runtime_events(tr_runtime_t *rt, tr_event_t *out, size_t cap);

/* What the panic hook is told. Every pointer is valid during the hook call
 * only (copy what you keep). */
typedef enum {
    TR_PANIC_CALL = 0,       /* tr_panic */
    TR_PANIC_FAULT_ISOLATED, /* hardware fault turned into a panic */
    TR_PANIC_FAULT_REPORTED  /* hardware fault; the process dies after the hook */
} tr_panic_kind_t;

typedef struct tr_panic_scene_s {
    tr_panic_kind_t kind;
    const char *path;        /* place in the supervision tree ("app/db/shard-3"),
                                else the registered name, else the type name */
    tr_ref_t actor;          /* id: slot.generation */
    uint32_t incarnation;    /* 1 for the first start, +1 per supervisor restart */
    const char *type_name;
    const char *msg_name;    /* the message being handled ("MSG_GET"), or
                                "continuation", "init", "terminate" */
    int msg_type;            /* 0 when not handling a message */
    tr_ref_t sender;         /* its sender, or TR_REF_NONE */
    int is_call;             /* the message carries a reply channel */
    const char *reason;      /* tr_panic's message, or "SIGSEGV (invalid
                                address 0x0)" for faults */
    int signo;               /* fault signal, 0 for tr_panic */
    const char *file;        /* tr_panic call site; NULL for faults */
    int line;
    uint64_t wall_ms;        /* CLOCK_REALTIME, ms since the Unix epoch */
    uint64_t runtime_ms;     /* tr_runtime_now_ms at the panic */
    const char *const *frames; /* symbolized backtrace, innermost first:
                                  "function+0x1c (binary)" (libunwind) */
    size_t nframes;
    const tr_event_t *events;  /* the actor's recent events, oldest first */
    size_t nevents;
} tr_panic_scene_t;

/* The panic hook. Called on the thread of the panicking actor's scheduler
 * (with several schedulers, from several threads) after the handler has been
 * unwound (for TR_PANIC_FAULT_REPORTED: inside the signal handler, on the
 * alternate signal stack, where only best-effort output is possible). It
 * must not call back into the runtime except tr_panic_scene_format. */
typedef void (*tr_panic_hook_fn)(void *arg, const tr_panic_scene_t *scene);

/* Install the panic hook (NULL restores the default, which writes one
 * structured block to stderr with tr_panic_scene_format). `arg` is passed
 * through. Scheduler 0's thread (the owner thread), outside handlers.
 * Returns 0, TR_EINVAL (NULL rt) or TR_EWRONGTHREAD. */
TR_API int tr_set_panic_hook(tr_runtime_t *rt, tr_panic_hook_fn fn, void *arg);

/* Format the scene as the default hook prints it (a multi-line block that
 * starts with "=== troupe panic" and ends with a line of '='), truncated to
 * fit `len` bytes including the terminating NUL. Returns the length the full
 * block would have (as snprintf). No allocation. Thread-safe. */
TR_API size_t tr_panic_scene_format(const tr_panic_scene_t *scene, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* TROUPE_PANIC_H */
