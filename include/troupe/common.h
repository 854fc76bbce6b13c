/* troupe/common.h: export macro, error codes, actor references.
 * Included by every other public header; include <troupe/troupe.h> instead. */
#ifndef TROUPE_COMMON_H
#define TROUPE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* TR_API marks the exported symbols; everything else in the library is built
 * with hidden visibility (as libuv's UV_EXTERN). */
#if defined(TROUPE_STATIC)
#define TR_API
#elif defined(TROUPE_BUILDING)
#define TR_API __attribute__((visibility("default")))
#else
#define TR_API
#endif

/* Error codes. Every function that can fail returns 0 or one of these
 * negative values. The table is the single source for the codes, their names
 * (tr_err_name) and messages (tr_strerror), after libuv's UV_ERRNO_MAP. */
#define TR_ERRNO_MAP(XX)                                                       \
    XX(EINVAL, -1, "invalid argument")                                         \
    XX(ENOMEM, -2, "out of memory")                                            \
    XX(EDEAD, -3, "actor is dead or the reference is stale")                   \
    XX(EFULL, -4, "mailbox is full")                                           \
    XX(ENOHANDLER, -5, "no handler for this message type")                     \
    XX(EDROPPED, -6, "DropWithoutReport: the reply channel was dropped without a reply") \
    XX(ETIMEDOUT, -7, "call timed out")                                        \
    XX(EREPLY, -8, "the responder replied with an error")                      \
    XX(EBUSY, -9, "resource already owned by another actor")                   \
    XX(EEXIST, -10, "name already registered")                                 \
    XX(ENOTFOUND, -11, "no such name or resource")                             \
    XX(EWRONGTHREAD, -12, "called from a thread where this is not allowed")    \
    XX(ESTOPPED, -13, "runtime is stopping or stopped")                        \
    XX(EALREADY, -14, "already done (reply already sent, timer already gone)") \
    XX(ESYS, -15, "system call failed (see errno)")                            \
    XX(EINIT, -16, "actor init callback failed")                               \
    XX(EESCALATED, -17, "a root supervisor gave up: restart intensity exceeded") \
    XX(ECONFIG, -18, "configuration rejected (see the error's file:line and reason)")

typedef enum {
    TR_OK = 0,
#define TR__ERR_ENUM(name, code, msg) TR_##name = (code),
    TR_ERRNO_MAP(TR__ERR_ENUM)
#undef TR__ERR_ENUM
} tr_err_t;

/* Human-readable message for an error code ("DropWithoutReport: ..." for
 * TR_EDROPPED). Returns a static string; unknown codes give "unknown error".
 * Thread-safe. */
TR_API const char *tr_strerror(int err);

/* Symbolic name of an error code ("TR_EFULL"); static string, thread-safe. */
TR_API const char *tr_err_name(int err);

/* A reference to an actor: a small value, never a pointer. `slot` indexes the
 * runtime's actor table, `gen` is the incarnation stored in that slot (a slot
 * reused by a later actor has a new generation, so a stale ref is detected
 * with TR_EDEAD instead of reaching the wrong actor), and `sched` names the
 * scheduler the actor lives on. Copy it freely; it owns nothing. The all-zero
 * value TR_REF_NONE refers to no actor (generation 0 is never issued). */
typedef struct tr_ref_s {
    uint32_t slot;
    uint32_t gen;
    uint16_t sched;
    uint16_t reserved_;
} tr_ref_t;

#define TR_REF_NONE ((tr_ref_t){0, 0, 0, 0})

/* Nonzero when `a` and `b` name the same incarnation. Thread-safe. */
static inline int tr_ref_eq(tr_ref_t a, tr_ref_t b) {
    return a.slot == b.slot && a.gen == b.gen && a.sched == b.sched;
}

/* Nonzero when `r` is not TR_REF_NONE (it says nothing about liveness: use
 * tr_actor_alive). Thread-safe. */
static inline int tr_ref_valid(tr_ref_t r) { return r.gen != 0; }

/* Opaque handles. */
typedef struct tr_runtime_s tr_runtime_t; /* the runtime: schedulers, actor table */
typedef struct tr_ctx_s tr_ctx_t;         /* a handler's view: self, runtime, message */

/* Payload destructor for moved payloads (tr_send_move and friends). Called
 * exactly once, on the scheduler thread that holds the message when it is
 * consumed or discarded, or on the sending thread when the send fails. */
typedef void (*tr_dtor_fn)(void *ptr);

#ifdef __cplusplus
}
#endif
#endif /* TROUPE_COMMON_H */
