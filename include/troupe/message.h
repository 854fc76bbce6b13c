/* troupe/message.h: one-way sends, calls with one-shot reply channels,
 * replies. */
#ifndef TROUPE_MESSAGE_H
#define TROUPE_MESSAGE_H

#include <troupe/actor.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Payloads up to this many bytes are stored inline in the mailbox slot (no
 * malloc); larger copied payloads are heap-copied once. */
#define TR_INLINE_MAX 24

/* Send a one-way message to `to`. The payload is copied (len bytes; len 0 and
 * data NULL for none). Scheduler thread, inside a handler (sender = self).
 * From other threads, or outside handlers, use tr_runtime_send.
 * Returns 0 (queued, or discarded under TR_OVERFLOW_DROP_NEWEST and counted);
 * TR_EFULL (mailbox at capacity under TR_OVERFLOW_FAIL); TR_EDEAD (stale or
 * unknown ref); TR_ENOHANDLER (type not in the target's table and no default
 * handler; counted as a dead letter); TR_EINVAL (len differs from the
 * declared payload size, or data NULL with len > 0); TR_ENOMEM;
 * TR_EWRONGTHREAD (ctx is not the current handler's context). */
TR_API int tr_send(tr_ctx_t *ctx, tr_ref_t to, int type, const void *data, size_t len);

/* As tr_send, but moves `ptr` (len bytes, checked like a copy) instead of
 * copying: the runtime owns it from this call on and runs dtor(ptr) exactly
 * once, whatever happens, unless the receiving handler takes it with
 * tr_msg_take. On any error return the destructor has already run.
 * dtor may be NULL for memory that needs no release. */
TR_API int tr_send_move(tr_ctx_t *ctx, tr_ref_t to, int type, void *ptr, size_t len,
                        tr_dtor_fn dtor);

/* The outcome of a call, as the continuation (or tr_call_sync) sees it.
 *  status:  TR_OK (data/len is the reply), TR_EREPLY (the responder replied
 *           with an error: `error` and `detail`), TR_ETIMEDOUT, TR_EDROPPED
 *           (DropWithoutReport: `drop_reason` says why, `detail` explains),
 *           or not delivered: TR_EDEAD, TR_EFULL, TR_ENOHANDLER, TR_ESTOPPED
 *           (the runtime shut down with the call pending).
 *  The memory behind data and detail belongs to the runtime and is valid
 *  during the continuation only (tr_call_sync: until tr_result_release). */
typedef enum {
    TR_DROP_NONE = 0,
    TR_DROP_RETURNED,  /* handler returned without replying or keeping */
    TR_DROP_STOPPED,   /* responder stopped while holding the kept channel */
    TR_DROP_DISCARDED, /* request discarded from the mailbox of a stopping actor */
    TR_DROP_OVERFLOW,  /* request dropped by a drop_newest/drop_oldest policy */
    TR_DROP_PANICKED   /* responder panicked (supervision) */
} tr_drop_reason_t;

typedef struct tr_result_s {
    int status;
    int error;                    /* responder's code when status == TR_EREPLY */
    tr_drop_reason_t drop_reason; /* when status == TR_EDROPPED */
    const char *detail;           /* reason text or NULL */
    const void *data;             /* reply payload when status == TR_OK */
    size_t len;
    tr_ref_t responder;           /* the callee */
    /* private */
    void *heap_;
} tr_result_t;

/* Continuation of a call: runs exactly once, as a message on the caller's
 * scheduler, never concurrently with the caller's handlers, with `state` the
 * caller's state. If the caller stops first, it never runs (counted as
 * cancelled). */
typedef void (*tr_cont_fn)(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie);

/* Call `to` with a request and a one-shot reply channel. The request payload
 * is copied. `cont(ctx, state, result, cookie)` runs exactly once when the
 * channel resolves: reply, responder error, timeout after `timeout_ms`
 * milliseconds (0: no timeout; the channel still always resolves because
 * the runtime resolves it with TR_EDROPPED on every path where no reply can
 * come), or DropWithoutReport. Scheduler thread, inside a handler.
 * Returns 0: the continuation will run exactly once. Any error: nothing was
 * created and the continuation will not run: TR_EDEAD, TR_EFULL,
 * TR_ENOHANDLER, TR_EINVAL (size mismatch, NULL cont), TR_ENOMEM,
 * TR_EWRONGTHREAD. After the CAF response promise / OTP gen_server:call. */
TR_API int tr_call(tr_ctx_t *ctx, tr_ref_t to, int type, const void *data, size_t len,
                   tr_cont_fn cont, void *cookie, uint32_t timeout_ms);

/* As tr_call with a moved payload (see tr_send_move); on error the
 * destructor has already run. */
TR_API int tr_call_move(tr_ctx_t *ctx, tr_ref_t to, int type, void *ptr, size_t len,
                        tr_dtor_fn dtor, tr_cont_fn cont, void *cookie, uint32_t timeout_ms);

/* Reply to the request being handled (msg must be the current message, a
 * call). The payload is copied. Scheduler thread, inside the handler.
 * Returns 0; TR_EINVAL (msg is not a call or not the current message);
 * TR_EALREADY (already replied or kept); TR_ENOMEM. A reply to a channel
 * that already resolved (timed out, caller died) returns 0 and is counted as
 * a late reply. */
TR_API int tr_reply(tr_ctx_t *ctx, const tr_msg_t *msg, const void *data, size_t len);

/* Reply with an application error: the caller sees status TR_EREPLY with
 * `error` (any int of the application's choosing) and a copy of `detail`
 * (may be NULL). Same returns as tr_reply. */
TR_API int tr_reply_error(tr_ctx_t *ctx, const tr_msg_t *msg, int error, const char *detail);

/* A kept reply channel, to answer after the current handler returns (after
 * the responder's own calls complete, from another handler of the same
 * actor). Owned by the actor that kept it until answered; if the actor stops
 * first it resolves TR_EDROPPED (TR_DROP_STOPPED). */
typedef struct tr_reply_s tr_reply_t;

/* Keep the current request's reply channel. Returns the handle, or NULL if
 * msg is not the current call or was already answered/kept (no error is
 * lost: the channel stays as it was). Scheduler thread, inside the handler. */
TR_API tr_reply_t *tr_reply_keep(tr_ctx_t *ctx, const tr_msg_t *msg);

/* Answer a kept channel (value or error) and free the handle. Scheduler
 * thread, inside a handler of the actor that kept it.
 * Returns 0; TR_EINVAL (NULL handle or another actor's); TR_ENOMEM (the
 * channel then resolves TR_EDROPPED so the caller is still told). */
TR_API int tr_reply_to(tr_ctx_t *ctx, tr_reply_t *r, const void *data, size_t len);
TR_API int tr_reply_error_to(tr_ctx_t *ctx, tr_reply_t *r, int error, const char *detail);

/* Drop a kept channel explicitly: it resolves TR_EDROPPED with
 * TR_DROP_RETURNED and `detail`. Returns 0 or TR_EINVAL. */
TR_API int tr_reply_drop(tr_ctx_t *ctx, tr_reply_t *r, const char *detail);

/* From outside actors (any thread, including the scheduler thread outside
 * handlers): send a one-way message; sender is TR_REF_NONE. Cross-thread sends
 * go through the scheduler's lock-free inbox plus one ev_async wake-up per
 * batch; capacity is reserved atomically, so TR_EFULL is exact. A message to
 * an actor that stops while the message is in flight becomes a dead letter.
 * Returns as tr_send (minus TR_EWRONGTHREAD), plus TR_ESTOPPED. */
TR_API int tr_runtime_send(tr_runtime_t *rt, tr_ref_t to, int type, const void *data,
                           size_t len);
TR_API int tr_runtime_send_move(tr_runtime_t *rt, tr_ref_t to, int type, void *ptr,
                                size_t len, tr_dtor_fn dtor);

/* Blocking call from a foreign thread (not a scheduler thread: that would
 * deadlock, so it returns TR_EWRONGTHREAD). The request is copied and handed
 * to the scheduler through its inbox; the calling thread blocks on a condvar
 * until the channel resolves. timeout_ms (0: none) is measured by the
 * runtime's clock on the scheduler thread, like any call timeout, so the
 * scheduler must be running (tr_runtime_run or a loop that runs it); the
 * channel always resolves, also when the runtime is destroyed (TR_ESTOPPED).
 * Returns 0 when the call was made: out->status then says what happened,
 * exactly as for continuations (including TR_EDEAD, TR_EFULL,
 * TR_ENOHANDLER and TR_EINVAL for a payload size mismatch); release *out
 * with tr_result_release (reply data and detail are heap copies owned by
 * *out). Returns TR_EINVAL (NULL rt/out, bad type, data NULL with len > 0),
 * TR_EWRONGTHREAD, TR_ESTOPPED (runtime already stopped) or TR_ENOMEM when
 * nothing was sent; *out is always initialised, so releasing it is safe.
 * Thread-safe. */
TR_API int tr_call_sync(tr_runtime_t *rt, tr_ref_t to, int type, const void *data, size_t len,
                        tr_result_t *out, uint32_t timeout_ms);

/* Free what a tr_call_sync result holds. Idempotent. */
TR_API void tr_result_release(tr_result_t *r);

/* Human-readable name of a drop reason ("returned without reply"). */
TR_API const char *tr_drop_reason_str(tr_drop_reason_t reason);

#ifdef __cplusplus
}
#endif
#endif /* TROUPE_MESSAGE_H */
