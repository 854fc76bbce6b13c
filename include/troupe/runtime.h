/* troupe/runtime.h: create, run, embed, shut down and observe a runtime. */
#ifndef TROUPE_RUNTIME_H
#define TROUPE_RUNTIME_H

#include <troupe/common.h>
#include <troupe/panic.h>
#include <troupe/config.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ev_loop;
struct tr_diag_s; /* troupe/debug.h */

/* Log levels, syslog's numbering (as nng_log and redis serverLog). */
typedef enum {
    TR_LOG_ERROR = 3,
    TR_LOG_WARNING = 4,
    TR_LOG_NOTICE = 5,
    TR_LOG_INFO = 6,
    TR_LOG_DEBUG = 7
} tr_log_level_t;

/* Logger: receives a formatted line (no trailing newline). Called on the
 * thread that logs (usually the scheduler thread); must be thread-safe if
 * several threads may log. */
typedef void (*tr_log_fn)(void *arg, tr_log_level_t level, const char *line);

/* Watermark events: a mailbox reached its high watermark (high = 1), or fell
 * back to its low watermark after that (high = 0). Hysteresis: one event per
 * crossing. Called on the scheduler thread, outside any handler. */
typedef void (*tr_watermark_fn)(void *arg, tr_ref_t actor, const char *type_name,
                                uint32_t depth, uint32_t capacity, int high);

/* Runtime options; zero-initialise and set what you need. */
typedef struct tr_runtime_opts_s {
    struct ev_loop *loop;      /* attach to this loop (the caller owns and runs it);
                                  NULL: the runtime creates and owns its own loop */
    uint32_t mailbox_capacity; /* default per-actor capacity; 0: 1024 */
    uint32_t batch;            /* messages per actor per turn; 0: 64 */
    uint32_t pass_budget;      /* actor turns per loop pass before IO/timers are
                                  polled again; 0: 256 */
    int handle_signals;        /* 1: SIGINT/SIGTERM start an ordered shutdown */
    int manual_clock;          /* 1: time only moves with tr_runtime_advance;
                                  timers already due still fire on the next pass
                                  (deterministic tests) */
    tr_log_level_t log_level;  /* 0: TR_LOG_NOTICE */
    tr_log_fn log;             /* NULL: one line per message on stderr */
    void *log_arg;
    tr_watermark_fn on_watermark;
    void *watermark_arg;
    tr_fault_isolation_t fault_isolation; /* hardware faults in handlers
                                  (troupe/panic.h); 0: TR_FAULT_REPORT */
    uint32_t event_ring;       /* events kept per scheduler for panic scenes
                                  and tracing, rounded up to a power of two;
                                  0: 1024 (at most 1 << 20) */
    tr_config_t *config;       /* initial config (troupe/config.h); the runtime
                                  takes its own reference. Its [runtime] keys
                                  override the fields above. NULL: loaded from
                                  config_path when that is set, else none */
    const char *config_path;   /* file reloads re-read (copied); NULL: reloads
                                  only through tr_runtime_apply_config */
    int reload_signal;         /* with config_path: the signal that requests a
                                  reload; 0: SIGHUP, -1: none. One runtime per
                                  process watches a given signal (libev's
                                  rule): a second one logs a warning and
                                  reloads only through the API */
    /* Diagnostics (troupe/debug.h, docs/diagnostics.md). */
    const char *debug_socket;  /* debug socket path (copied), or
                                  TR_DEBUG_SOCKET_DEFAULT; NULL: no socket.
                                  [runtime] debug_socket overrides it */
    uint32_t debug_max_clients;/* debug clients served at once; 0: 16 */
    uint32_t debug_idle_ms;    /* a debug client idle this long is closed;
                                  0: 60000 */
    int32_t stall_ms;          /* stall detector: report a call pending this
                                  long, with its wait-for chain; 0: 5000,
                                  < 0: off */
    int32_t watchdog_ms;       /* watchdog: report a handler running this
                                  long, from its own thread; 0: 1000,
                                  < 0: off (no thread) */
    int handler_timing;        /* 1: measure time spent in each actor's
                                  handlers (the debug socket's busy_us); costs
                                  two clock reads per actor turn (20-40 ns
                                  each measured here), so it is off by
                                  default. [runtime] handler_timing */
    void (*on_diag)(void *arg, const struct tr_diag_s *d); /* tr_diag_fn */
    void *diag_arg;
    /* Multi-core (docs/concepts.md, "Schedulers and placement"). */
    uint16_t schedulers;       /* schedulers, each one thread with its own
                                  ev_loop, run queue, timers and inbox
                                  (thread-per-core, as Seastar and Glommio);
                                  0: the TROUPE_SCHEDULERS environment
                                  variable if set (as Go's GOMAXPROCS), else
                                  1; TR_SCHEDULERS_ONLINE: one per online CPU;
                                  at most TR_SCHEDULERS_MAX. [runtime]
                                  schedulers (0 there: one per online CPU);
                                  read at creation only */
    uint32_t spin_us;          /* microseconds an idle scheduler keeps polling
                                  its inbox before it sleeps in epoll_wait
                                  (only while scheduler threads run); 0: 20,
                                  at most 10000. A wake-up from sleep costs
                                  18-24 us here, a spinning one ~0.5 us.
                                  [runtime] spin_us */
} tr_runtime_opts_t;

/* tr_runtime_opts_t.schedulers: one scheduler per online CPU
 * (sysconf(_SC_NPROCESSORS_ONLN)). */
#define TR_SCHEDULERS_ONLINE UINT16_MAX
/* The most schedulers a runtime may have. */
#define TR_SCHEDULERS_MAX 64

/* Create a runtime. Scheduler 0 belongs to the calling thread (the owner
 * thread: the one that runs the loop); schedulers 1..n-1 get their own
 * threads while tr_runtime_run runs (see "Threads and stepping" below).
 * `opts` may be NULL; it is copied. Writes the runtime to *out. Unless
 * fault_isolation is TR_FAULT_OFF, installs the process-wide fault handlers
 * (troupe/panic.h) and an alternate signal stack for this thread.
 * With a config (opts->config, or config_path loaded here) its [runtime]
 * section and the runtime's keys in every section are checked first; a
 * rejected config is logged at error level with file:line and reason.
 * Returns 0, TR_EINVAL (NULL out, batch/pass_budget/capacity/event_ring/
 * fault_isolation/reload_signal/schedulers/spin_us out of range, or an
 * attached loop with more than one scheduler: the other schedulers need
 * loops of their own), TR_ECONFIG (the config was
 * rejected), TR_ENOMEM, TR_ESYS (loop creation or sigaction failed, or
 * config_path unreadable). */
TR_API int tr_runtime_create(const tr_runtime_opts_t *opts, tr_runtime_t **out);

/* Threads and stepping. With one scheduler everything runs on the owner
 * thread. With n > 1, tr_runtime_run starts one thread per scheduler 1..n-1
 * (scheduler 0 stays on the owner thread), and stops and joins them all
 * before it returns, so no scheduler thread outlives a run. Outside
 * tr_runtime_run no scheduler thread exists: tr_runtime_poll,
 * _run_until_idle, _run_until and _advance step every scheduler in turn on
 * the owner thread (deterministic, for tests and tools); messages between
 * schedulers still travel through their inboxes, exactly as with threads.
 *
 * Driving the loop. tr_runtime_run, _poll, _run_until_idle, _run_until,
 * _advance and _verify run on the owner thread and never from inside a
 * handler, continuation, init or terminate (re-entering the loop there would
 * run a second handler of an actor whose handler is still on the stack):
 * both cases return TR_EWRONGTHREAD. */

/* Run the scheduler loops until the runtime stops (tr_runtime_stop, or an
 * ordered shutdown has stopped every actor). Blocks; owner thread only.
 * With n > 1 schedulers, starts the other scheduler threads first (TR_ESYS
 * if pthread_create fails: none is left running) and joins them before
 * returning.
 * With an attached loop, prefer running that loop yourself: the runtime's
 * watchers live on it. Returns 0, TR_EESCALATED (a root supervisor gave up
 * and the runtime shut down because of it: exit non-zero),
 * TR_EWRONGTHREAD, TR_ESTOPPED (already stopped), TR_ESYS. */
TR_API int tr_runtime_run(tr_runtime_t *rt);

/* How many schedulers the runtime has (1..TR_SCHEDULERS_MAX); 0 for NULL.
 * Any thread. */
TR_API uint16_t tr_runtime_schedulers(tr_runtime_t *rt);

/* One scheduler's counters (the debug socket's `schedulers` command shows
 * the same). Written by that scheduler only and read here without
 * stopping it, so a running scheduler's figures are a sample. */
typedef struct tr_sched_stats_s {
    uint16_t id;
    uint64_t actors;       /* live actors placed on it */
    uint64_t msgs_handled; /* messages, continuations and control messages */
    uint64_t loop_passes;
    uint64_t remote_in;    /* inbox nodes it took (from other schedulers and
                              foreign threads) */
    uint64_t wakeups;      /* ev_async wake-ups sent to it (one per
                              empty-to-non-empty transition of its inbox) */
    uint64_t spins;        /* times it polled its inbox before sleeping */
    uint64_t spin_hits;    /* ... and found work without sleeping */
    uint64_t sleeps;       /* times it blocked in epoll_wait */
    uint64_t busy_ns;      /* time in passes (load = busy_ns / uptime) */
    uint32_t runq;         /* actors in its run queue */
} tr_sched_stats_t;

/* Copy scheduler `id`'s counters into *out. Any thread. Returns 0 or
 * TR_EINVAL (NULL rt/out, id out of range). */
TR_API int tr_runtime_sched_stats(tr_runtime_t *rt, uint16_t id, tr_sched_stats_t *out);

/* Start an ordered shutdown. At the start of the next pass every root
 * supervisor (most recent first) is asked to shut down: each stops its
 * children in reverse start order, giving each its shutdown timeout (OTP's
 * shutdown), then exits. Once no supervisor is left, every remaining actor
 * is stopped directly (terminate with TR_STOP_SHUTDOWN, resources released,
 * queued messages discarded and counted), strictly most recently spawned
 * first; then tr_runtime_run returns. Spawning is refused from then on
 * (TR_ESTOPPED). Safe from any thread and from signal-watcher context.
 * Returns 0 (also when already shutting down) or TR_EINVAL (NULL rt). */
TR_API int tr_runtime_shutdown(tr_runtime_t *rt);

/* Make tr_runtime_run return after the current pass, leaving actors alive
 * (tr_runtime_run may be called again). Thread-safe. */
TR_API void tr_runtime_stop(tr_runtime_t *rt);

/* Destroy the runtime: every remaining actor is stopped (terminate with
 * TR_STOP_SHUTDOWN, resources released), every pending reply channel
 * resolves (continuations of dead callers are not run), in-flight messages
 * become dead letters with destructors run, then all memory is freed and,
 * if the runtime created its loop, the loop is destroyed. Owner thread,
 * outside tr_runtime_run (no scheduler thread runs then) and not from
 * inside a handler, with no foreign thread still sending.
 * NULL is accepted. */
TR_API void tr_runtime_destroy(tr_runtime_t *rt);

/* The scheduler loop (the attached one, or the runtime's own). */
TR_API struct ev_loop *tr_runtime_loop(tr_runtime_t *rt);

/* One non-blocking pass: drain the foreign inbox, fire due timers, poll IO
 * once without waiting and run up to pass_budget actor turns. Returns the
 * number of messages handled in the pass (>= 0) or TR_EWRONGTHREAD. */
TR_API int tr_runtime_poll(tr_runtime_t *rt);

/* Poll until no actor has work and the inbox is empty (timers in the future
 * and idle fds do not count). Returns the number of messages handled, or
 * TR_EWRONGTHREAD. Blocks only while the runtime is busy. */
TR_API int64_t tr_runtime_run_until_idle(tr_runtime_t *rt);

/* Run the loop (blocking in libev when idle, so foreign-thread sends wake
 * it) until pred(arg) returns nonzero; pred is checked after every pass.
 * Returns 0, TR_EWRONGTHREAD, or TR_ESTOPPED if the runtime stopped first. */
TR_API int tr_runtime_run_until(tr_runtime_t *rt, int (*pred)(void *arg), void *arg);

/* Why the runtime stopped: 0, or TR_EESCALATED once a root supervisor has
 * given up (the value tr_runtime_run returns). Thread-safe. */
TR_API int tr_runtime_exit_status(tr_runtime_t *rt);

/* Current runtime time in milliseconds since tr_runtime_create
 * (CLOCK_MONOTONIC, so wall-clock changes do not move it; under
 * manual_clock the virtual time, starting at 0). Scheduler thread. */
TR_API uint64_t tr_runtime_now_ms(tr_runtime_t *rt);

/* Under manual_clock: move virtual time forward by `ms` milliseconds and run
 * every timer (actor timers, call timeouts) that becomes due, in deadline
 * order, handling the messages they produce. Returns 0, TR_EINVAL (the
 * runtime uses the real clock), TR_EWRONGTHREAD. */
TR_API int tr_runtime_advance(tr_runtime_t *rt, uint64_t ms);

/* Change the log level at run time. Thread-safe. */
TR_API void tr_runtime_set_log_level(tr_runtime_t *rt, tr_log_level_t level);

/* Log through the runtime's logger if `level` is enabled (checked before
 * formatting). Thread-safe if the logger is. */
TR_API void tr_log(tr_runtime_t *rt, tr_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Runtime counters. Every reply channel created resolves exactly once, so
 * once nothing is pending:
 *   chan_created == chan_ok + chan_error + chan_timeout + chan_dropped
 *                 + chan_undelivered + chan_cancelled.
 * All counts since tr_runtime_create. */
typedef struct tr_stats_s {
    uint64_t actors_spawned, actors_stopped, actors_live;
    uint64_t msgs_sent;        /* accepted into a mailbox (one-way and calls) */
    uint64_t msgs_handled;     /* handler invocations (incl. continuations) */
    uint64_t sends_rejected;   /* send calls that returned an error */
    uint64_t dead_letters;     /* accepted, then discarded: destructor ran */
    uint64_t drops_newest, drops_oldest; /* discards per overflow policy */
    uint64_t chan_created;
    uint64_t chan_ok;          /* replied with a value */
    uint64_t chan_error;       /* replied with an application error */
    uint64_t chan_timeout;
    uint64_t chan_dropped;     /* DropWithoutReport, all reasons */
    uint64_t chan_undelivered; /* target dead / full / no handler after queueing */
    uint64_t chan_cancelled;   /* caller stopped (or runtime destroyed) first */
    uint64_t chan_pending;     /* created - resolved */
    uint64_t late_replies;     /* replies to channels already resolved */
    uint64_t conts_cancelled;  /* continuations not run because the caller died */
    uint64_t watermark_high, watermark_low;
    uint64_t inbox_wakeups;    /* ev_async wake-ups sent by foreign threads */
    uint64_t loop_passes;
    uint64_t panics;           /* tr_panic and isolated faults */
    uint64_t faults_isolated;  /* hardware faults turned into panics: > 0 means
                                  the runtime is tainted (memory may be corrupt) */
    uint64_t restarts;         /* children restarted by supervisors */
    uint64_t downs;            /* DOWN messages queued for monitors */
    uint64_t exits;            /* exit signals queued for supervisors */
    uint64_t config_generation;/* 0: no config; +1 per committed reload */
    uint64_t reloads_ok, reloads_failed;
    uint64_t config_updates;   /* UpdateConfig messages applied by actors */
} tr_stats_t;

/* Fill *out with a snapshot of the counters. Thread-safe (relaxed atomic
 * reads: each counter is exact, the set is not one instant). Returns 0 or
 * TR_EINVAL. */
TR_API int tr_runtime_stats(tr_runtime_t *rt, tr_stats_t *out);

/* Walk every internal invariant (slot table, mailboxes, run queue, channel
 * lists, counters) and abort with a message on the first violation: for
 * our bugs, like libev's ev_verify. Scheduler thread, outside handlers.
 * Returns the number of live actors checked. */
TR_API int64_t tr_runtime_verify(tr_runtime_t *rt);

#ifdef __cplusplus
}
#endif
#endif /* TROUPE_RUNTIME_H */
