/* troupe/debug.h: diagnostics. The debug socket (what troupectl talks to),
 * the stall detector, the hung-handler watchdog and their hook. The wire
 * protocol is docs/debug-protocol.md; how to read what it shows is
 * docs/diagnostics.md. */
#ifndef TROUPE_DEBUG_H
#define TROUPE_DEBUG_H

#include <stddef.h>
#include <stdint.h>

#include <troupe/runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the debug protocol spoken on the socket (the "v" of every
 * line). Bumped when a field changes meaning or goes away; new fields and
 * commands do not bump it. */
#define TR_DEBUG_PROTOCOL 1

/* tr_runtime_opts_t.debug_socket value that asks for the default path:
 * $XDG_RUNTIME_DIR/troupe/<pid>.sock when XDG_RUNTIME_DIR is set (and
 * absolute), else /tmp/troupe-<uid>/<pid>.sock. */
#define TR_DEBUG_SOCKET_DEFAULT "default"

/* Longest socket path, in bytes without the NUL (sun_path's limit). */
#define TR_DEBUG_PATH_MAX 107

/* What a diagnostic report is about. */
typedef enum {
    TR_DIAG_STALL = 1, /* a call has waited longer than the stall threshold */
    TR_DIAG_DEADLOCK,  /* same, and its wait-for chain loops back: a cycle */
    TR_DIAG_HUNG       /* a handler has run longer than the watchdog threshold */
} tr_diag_kind_t;

/* One report of the stall detector or the watchdog. Everything it points to
 * is valid only during the hook call: copy what you keep. */
typedef struct tr_diag_s {
    tr_diag_kind_t kind;
    uint64_t seq;            /* 1, 2, ... per runtime, across kinds */
    uint64_t runtime_ms;     /* tr_runtime_now_ms when detected (STALL,
                                DEADLOCK); 0 for HUNG (the watchdog runs on
                                its own thread, in real time) */
    uint64_t wall_ms;        /* CLOCK_REALTIME, ms since the Unix epoch */
    tr_ref_t actor;          /* STALL/DEADLOCK: the waiting caller
                                (TR_REF_NONE for a tr_call_sync thread);
                                HUNG: the actor whose handler runs */
    const char *path;        /* that actor's tree path, name or type name */
    int msg_type;            /* the request (STALL) or message being handled
                                (HUNG) */
    const char *msg_name;    /* its name from the handler table, or NULL */
    uint64_t age_ms;         /* STALL: how long the call has waited; HUNG: how
                                long the handler had run when detected */
    const char *const *chain; /* STALL/DEADLOCK: the wait-for chain as
                                "path (id)" strings, the waiting caller first,
                                each one waiting for the next; for a DEADLOCK
                                the last one waits for an earlier one */
    size_t nchain;
    const char *const *frames; /* HUNG: backtrace of the scheduler thread,
                                innermost first, "function+0xoff (module)";
                                may be empty when it could not be taken in
                                time */
    size_t nframes;
    const char *text;        /* the one-line summary that was logged */
} tr_diag_t;

/* Called for every report, after it is logged (warning level) and stored
 * for the debug socket's `alerts` command. STALL and DEADLOCK reports come
 * from the thread of the scheduler whose stall check found them (each
 * scheduler checks the calls in its own table), outside handlers (the hook
 * must not block it for long, and must not call back into actor APIs that
 * need a handler context); with several schedulers that is several
 * threads, maybe at once. HUNG reports come from the watchdog thread while
 * the hung scheduler's thread is stuck, so the hook must only touch
 * thread-safe state. Each pending call is reported once, each hung handler
 * invocation once. */
typedef void (*tr_diag_fn)(void *arg, const tr_diag_t *d);

/* Set (or with NULL clear) the diagnostic hook; it replaces
 * tr_runtime_opts_t.on_diag. Any thread; takes effect for the next report.
 * Errors: TR_EINVAL when rt is NULL. */
TR_API int tr_set_diag_hook(tr_runtime_t *rt, tr_diag_fn fn, void *arg);

/* The path the debug socket is bound to, or NULL when there is none. Owned
 * by the runtime, valid until tr_runtime_destroy. Any thread. */
TR_API const char *tr_runtime_debug_socket(tr_runtime_t *rt);

/* Write the default debug socket path of process `pid` into buf (the same
 * rule as TR_DEBUG_SOCKET_DEFAULT, evaluated with this process's uid and
 * environment). Returns the length, or TR_EINVAL (NULL buf, pid <= 0) or
 * TR_ENOMEM when it does not fit in len bytes (or in TR_DEBUG_PATH_MAX).
 * Thread-safe (reads the environment). troupectl -p uses it. */
TR_API int tr_debug_default_path(long pid, char *buf, size_t len);

/* Run one debug request in process, exactly as if a socket client had sent
 * `line` (len bytes, without the newline): the same parser, commands and
 * limits. *out receives one malloc'd, NUL-terminated JSON response line
 * (without the newline) that the caller frees; it is an error object for a
 * bad request. Scheduler 0's thread (the owner thread, inside
 * tr_runtime_run or stepping outside it), outside handlers: the only
 * thread that may park the other schedulers, which the commands that read
 * actors do (a scheduler that does not reach a safe point within 1000 ms
 * gives a `busy` error object, not an error of this function).
 * Errors: TR_EINVAL (NULL rt/out, or line NULL with len > 0),
 * TR_EWRONGTHREAD (another thread, another scheduler's thread, or inside a
 * handler), TR_ENOMEM. A bad request is not an error of this function: it
 * returns 0 with an error object in *out. */
TR_API int tr_debug_request(tr_runtime_t *rt, const char *line, size_t len, char **out);

/* Describe an actor's state for `troupectl actor` (tr_actor_type_t.inspect),
 * after OTP's format_status/1: the callback adds key/value pairs, shown as a
 * JSON object. Keys are copied; values are formatted with printf rules and
 * cut at 1024 bytes. Call only inside an inspect callback, which the `actor`
 * command runs on scheduler 0's thread with the other schedulers parked.
 * Errors: TR_EINVAL (NULL w/key/fmt), TR_ENOMEM (the pair is left out). */
typedef struct tr_inspect_s tr_inspect_t;
TR_API int tr_inspect_add(tr_inspect_t *w, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
#endif /* TROUPE_DEBUG_H */
