/* mailbox/chan.c: one-shot reply channels. A channel is a request in
 * libuv's sense: created by a call, completed exactly once (value, error,
 * timeout, DropWithoutReport, undeliverable, or cancelled because the caller
 * died), never closed by the user. Channels live in the caller's scheduler
 * table, addressed by (index, generation) so a stale answer is detected and
 * counted as a late reply instead of touching reused memory. A resolved
 * channel becomes the continuation message itself: it is queued on the
 * caller's reply lane, so resolution allocates nothing.
 * Scheduler thread only, except the sync waiter handshake (mutex/condvar). */
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

#define TR__CHAN_CHUNK 1024u
#define TR__NO_CHAN UINT32_MAX

static tr__chan_t *chan_at(tr__sched_t *s, uint32_t idx) {
    return &s->chan_chunks[idx / TR__CHAN_CHUNK][idx % TR__CHAN_CHUNK];
}

tr__chan_t *tr__chan_new(tr__sched_t *s) {
    if (s->chan_free == TR__NO_CHAN) {
        tr__chan_t **nc = realloc(s->chan_chunks, (s->chan_nchunks + 1) * sizeof(*nc));
        if (!nc) return NULL;
        s->chan_chunks = nc;
        tr__chan_t *chunk = calloc(TR__CHAN_CHUNK, sizeof(*chunk));
        if (!chunk) return NULL;
        uint32_t base = s->chan_nchunks * TR__CHAN_CHUNK;
        for (uint32_t i = 0; i < TR__CHAN_CHUNK; i++) {
            chunk[i].idx = base + i;
            chunk[i].gen = 1;
            chunk[i].timer.heap_idx = UINT32_MAX;
            chunk[i].timer.kind = TR__TM_CALL;
            chunk[i].next = i + 1 < TR__CHAN_CHUNK ? &chunk[i + 1] : NULL;
        }
        nc[s->chan_nchunks++] = chunk;
        s->chan_free = base;
    }
    tr__chan_t *c = chan_at(s, s->chan_free);
    s->chan_free = c->next ? c->next->idx : TR__NO_CHAN;
    c->state = TR__CH_PENDING;
    c->stall_seen = 0;
    c->prev = c->next = NULL;
    c->caller = c->callee = TR_REF_NONE;
    c->caller_actor = NULL;
    c->sync = NULL;
    c->cont = NULL;
    c->cookie = NULL;
    c->created_ms = s->pass_now_ms; /* for diagnostics: the pass's time is enough */
    memset(&c->res, 0, sizeof(c->res));
    s->chan_count++;
    return c;
}

tr__chan_t *tr__chan_lookup(tr__sched_t *s, uint32_t idx, uint32_t gen) {
    if (idx / TR__CHAN_CHUNK >= s->chan_nchunks) return NULL;
    tr__chan_t *c = chan_at(s, idx);
    return c->gen == gen && c->state == TR__CH_PENDING ? c : NULL;
}

tr__chan_t *tr__chan_at_index(tr__sched_t *s, uint32_t idx) {
    return idx / TR__CHAN_CHUNK < s->chan_nchunks ? chan_at(s, idx) : NULL;
}

void tr__chan_release(tr__sched_t *s, tr__chan_t *c) {
    if (TR__UNLIKELY(c->res.heap_ != NULL)) {
        free(c->res.heap_);
        c->res.heap_ = NULL;
    }
    c->state = TR__CH_FREE;
    if (++c->gen == 0) c->gen = 1;
    c->next = s->chan_free == TR__NO_CHAN ? NULL : chan_at(s, s->chan_free);
    s->chan_free = c->idx;
    s->chan_count--;
}

void tr__chan_free_all(tr__sched_t *s) {
    for (uint32_t i = 0; i < s->chan_nchunks; i++) {
        for (uint32_t j = 0; j < TR__CHAN_CHUNK; j++) free(s->chan_chunks[i][j].res.heap_);
        free(s->chan_chunks[i]);
    }
    free(s->chan_chunks);
    s->chan_chunks = NULL;
    s->chan_nchunks = 0;
    s->chan_free = TR__NO_CHAN;
}

static void unlink_pending(tr__chan_t *c) {
    tr__actor_t *a = c->caller_actor;
    if (!a) return;
    if (c->prev) c->prev->next = c->next;
    else a->calls = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/* Store the outcome in `res`: the payload inline in `inl` when it fits and
 * `heap_ok` is false, else with a user-supplied detail in one heap block.
 * Static (runtime) details are kept as pointers. Returns false on OOM. */
static bool fill_result(tr_result_t *res, unsigned char *inl, const void *data, size_t len,
                        const char *detail, bool detail_static, bool force_heap) {
    size_t dlen = detail && !detail_static ? strlen(detail) + 1 : 0;
    bool data_heap = len && (force_heap || len > TR_INLINE_MAX);
    res->detail = detail_static ? detail : NULL;
    res->data = NULL;
    res->len = len;
    if (data_heap || dlen) {
        char *p = malloc((data_heap ? len : 0) + dlen);
        if (!p) return false;
        res->heap_ = p;
        if (data_heap) {
            memcpy(p, data, len);
            res->data = p;
            p += len;
        }
        if (dlen) {
            memcpy(p, detail, dlen);
            res->detail = p;
        }
    }
    if (len && !data_heap) {
        memcpy(inl, data, len);
        res->data = inl;
    }
    return true;
}

static void count_outcome(tr__sched_t *s, int status) {
    switch (status) {
    case TR_OK: TR__INC(s->c.chan_ok); break;
    case TR_EREPLY: TR__INC(s->c.chan_error); break;
    case TR_ETIMEDOUT: TR__INC(s->c.chan_timeout); break;
    case TR_EDROPPED: TR__INC(s->c.chan_dropped); break;
    default: TR__INC(s->c.chan_undelivered); break;
    }
}

/* Hand a result to a tr_call_sync waiter (it takes res->heap_) and wake it. */
static void sync_finish(tr__sync_t *w, const tr_result_t *res) {
    pthread_mutex_lock(&w->mu);
    w->res = *res;
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* `copy_detail`: the detail is the application's (tr_reply_error,
 * tr_reply_drop) and is copied; the runtime's own details are static. */
static void resolve(tr__sched_t *s, tr__chan_t *c, int status, int error, tr_drop_reason_t why,
                    const char *detail, bool copy_detail, const void *data, size_t len) {
    TR__ASSERT(c->state == TR__CH_PENDING, "a reply channel resolves exactly once");
    if (c->timer.heap_idx != UINT32_MAX) tr__heap_remove(s, &c->timer);
    unlink_pending(c);
    tr_result_t *res = &c->res;
    if (!fill_result(res, c->inl, data, len, detail, !copy_detail, c->sync != NULL)) {
        status = TR_EDROPPED;
        why = TR_DROP_RETURNED;
        res->detail = "out of memory while copying the reply";
        res->data = NULL;
        res->len = 0;
        error = 0;
    }
    res->status = status;
    res->error = error;
    res->drop_reason = status == TR_EDROPPED ? why : TR_DROP_NONE;
    res->responder = c->callee;
    if (status == TR_EDROPPED) {
        if (!res->detail) res->detail = tr_drop_reason_str(why);
        tr__ev(s, TR_EV_DROP, c->callee, c->caller, c->msg_type, (int32_t)why);
    } else if (status == TR_OK || status == TR_EREPLY) {
        tr__ev(s, TR_EV_REPLY, c->callee, c->caller, c->msg_type, status);
    }
    count_outcome(s, status);
    if (c->sync) {
        sync_finish(c->sync, res);
        res->heap_ = NULL; /* the waiter owns it now */
        tr__chan_release(s, c);
        return;
    }
    tr__actor_t *a = c->caller_actor;
    c->state = TR__CH_QUEUED;
    c->next = NULL;
    if (a->rq_tail) a->rq_tail->next = c;
    else a->rq_head = c;
    a->rq_tail = c;
    if (!(a->flags & (TR__A_IN_RUNQ | TR__A_RUNNING | TR__A_DEAD))) tr__schedule(s, a);
}

void tr__chan_resolve(tr__sched_t *s, tr__chan_t *c, int status, int error,
                      tr_drop_reason_t why, const char *detail, const void *data, size_t len) {
    resolve(s, c, status, error, why, detail, false, data, len);
}

void tr__chan_drop(tr__sched_t *s, tr__chan_t *c, tr_drop_reason_t why, const char *detail) {
    resolve(s, c, TR_EDROPPED, 0, why, detail, detail != NULL, NULL, 0);
}

void tr__chan_open(tr__sched_t *s, tr__chan_t *c, tr__actor_t *caller, tr__sync_t *sync,
                   tr_ref_t to, int type, tr_cont_fn cont, void *cookie) {
    TR__INC(s->c.chan_created);
    c->caller = caller ? caller->ref : TR_REF_NONE;
    c->caller_actor = caller;
    c->sync = sync;
    c->callee = to;
    c->msg_type = type;
    c->cont = cont;
    c->cookie = cookie;
    if (s->stall_node.heap_idx == UINT32_MAX) tr__stall_arm(s); /* a check is due */
    if (caller) {
        c->next = caller->calls;
        if (caller->calls) caller->calls->prev = c;
        caller->calls = c;
    }
}

void tr__sync_fail(tr__sched_t *s, tr__sync_t *w, tr_ref_t to, int type, int status,
                   const char *detail) {
    tr__chan_t *c = tr__chan_new(s);
    if (!c) { /* no channel to count it with, but the waiter is still told */
        tr_result_t res;
        memset(&res, 0, sizeof(res));
        res.status = TR_ENOMEM;
        res.responder = to;
        sync_finish(w, &res);
        return;
    }
    tr__chan_open(s, c, NULL, w, to, type, NULL, NULL);
    tr__chan_resolve(s, c, status, 0, TR_DROP_NONE, detail, NULL, 0);
}

void tr__chan_run_cont(tr__sched_t *s, tr__actor_t *a, tr__chan_t *c) {
    tr_ctx_t saved;
    tr__ctx_enter(s, a, NULL, &saved);
    c->cont(&s->ctx, a->state, &c->res, c->cookie);
    tr__ctx_leave(s, &saved);
    tr__chan_release(s, c);
}

void tr__chan_timeout(tr__sched_t *s, tr__chan_t *c) {
    tr__chan_resolve(s, c, TR_ETIMEDOUT, 0, TR_DROP_NONE, "no reply within the call's timeout",
                     NULL, 0);
}

void tr__chan_cancel_actor(tr__sched_t *s, tr__actor_t *a) {
    while (a->calls) {
        tr__chan_t *c = a->calls;
        unlink_pending(c);
        if (c->timer.heap_idx != UINT32_MAX) tr__heap_remove(s, &c->timer);
        TR__INC(s->c.chan_cancelled);
        TR__INC(s->c.conts_cancelled);
        tr__chan_release(s, c);
    }
    while (a->rq_head) {
        tr__chan_t *c = a->rq_head;
        a->rq_head = c->next;
        TR__INC(s->c.conts_cancelled);
        tr__chan_release(s, c);
    }
    a->rq_tail = NULL;
}

void tr__chan_after_handler(tr__sched_t *s, tr_msg_t *msg) {
    if (msg->flags_ & (TR__F_REPLIED | TR__F_KEPT)) return;
    tr__chan_answer(s, tr__chan_home(s, msg->sender), msg->chan_idx_, msg->chan_gen_,
                    TR_EDROPPED, 0, TR_DROP_RETURNED, tr_drop_reason_str(TR_DROP_RETURNED), false,
                    NULL, 0);
}

/* ---- outcomes from any scheduler ---- */

static int answer_ex(tr__sched_t *s, uint16_t home, uint32_t idx, uint32_t gen, int status,
                     int error, tr_drop_reason_t why, const char *detail, bool copy_detail,
                     const void *data, size_t len, bool count_late) {
    if (home == s->id || home >= s->rt->nsched) {
        tr__chan_t *c = tr__chan_lookup(s, idx, gen);
        if (!c) {
            if (count_late) TR__INC(s->c.late_replies);
            return 0;
        }
        resolve(s, c, status, error, why, detail, copy_detail, data, len);
        return status == TR_OK && c->res.status != TR_OK ? TR_ENOMEM : 0;
    }
    /* the channel lives on the caller's scheduler: send the outcome home */
    tr__inode_t *n = malloc(sizeof(*n));
    if (!n) {
        tr__log(s->rt, TR_LOG_ERROR,
                "out of memory: the outcome of a call from scheduler %u is lost (its caller "
                "waits for its timeout)", home);
        return TR_ENOMEM;
    }
    int r = 0;
    memset(n, 0, sizeof(*n));
    n->kind = TR__IN_REPLY;
    n->env.chan_idx = idx;
    n->env.chan_gen = gen;
    if (len && tr__env_set_copy(&n->env, data, len) != 0) {
        status = TR_EDROPPED;
        why = TR_DROP_RETURNED;
        detail = "out of memory while copying the reply";
        error = 0;
        r = TR_ENOMEM;
    }
    n->arg = (uint32_t)status;
    n->id = error;
    n->timeout_ms = (uint32_t)why;
    n->to.gen = count_late; /* reused as a flag: count it late if not pending */
    n->ptr = detail ? strdup(detail) : NULL; /* NULL on OOM: the reason's text */
    tr__post(&s->rt->sched[home], n);
    return r;
}

int tr__chan_answer(tr__sched_t *s, uint16_t home, uint32_t idx, uint32_t gen, int status,
                    int error, tr_drop_reason_t why, const char *detail, bool copy_detail,
                    const void *data, size_t len) {
    return answer_ex(s, home, idx, gen, status, error, why, detail, copy_detail, data, len, false);
}

void tr__chan_reply_arrived(tr__sched_t *s, tr__inode_t *n) {
    tr__chan_t *c = tr__chan_lookup(s, n->env.chan_idx, n->env.chan_gen);
    int status = (int)n->arg;
    if (!c) {
        if (n->to.gen) TR__INC(s->c.late_replies);
    } else {
        tr_drop_reason_t why = (tr_drop_reason_t)n->timeout_ms;
        const char *detail = n->ptr;
        if (!detail && status == TR_EDROPPED) detail = tr_drop_reason_str(why);
        resolve(s, c, status, (int)n->id, why, detail, n->ptr != NULL, tr__env_data(&n->env),
                n->env.len);
    }
    free(n->ptr);
    tr__env_destroy(&n->env);
}

/* ---- replies ---- */

static int check_current_call(tr_ctx_t *ctx, const tr_msg_t *msg) {
    if (!ctx || !ctx->actor || !msg || ctx->msg != msg || !(msg->flags_ & TR__F_CALL))
        return TR_EINVAL;
    if (msg->flags_ & (TR__F_REPLIED | TR__F_KEPT)) return TR_EALREADY;
    return 0;
}

static int answer(tr__sched_t *s, uint16_t home, uint32_t idx, uint32_t gen, int status,
                  int error, const char *detail, const void *data, size_t len) {
    return answer_ex(s, home, idx, gen, status, error,
                     status == TR_EDROPPED ? TR_DROP_RETURNED : TR_DROP_NONE, detail, true, data,
                     len, true);
}

int tr_reply(tr_ctx_t *ctx, const tr_msg_t *msg, const void *data, size_t len) {
    int err = check_current_call(ctx, msg);
    if (err) return err;
    if (len && !data) return TR_EINVAL;
    ctx->msg->flags_ |= TR__F_REPLIED;
    return answer(ctx->s, tr__chan_home(ctx->s, msg->sender), msg->chan_idx_, msg->chan_gen_,
                  TR_OK, 0, NULL, data, len);
}

int tr_reply_error(tr_ctx_t *ctx, const tr_msg_t *msg, int error, const char *detail) {
    int err = check_current_call(ctx, msg);
    if (err) return err;
    ctx->msg->flags_ |= TR__F_REPLIED;
    return answer(ctx->s, tr__chan_home(ctx->s, msg->sender), msg->chan_idx_, msg->chan_gen_,
                  TR_EREPLY, error, detail, NULL, 0);
}

tr_reply_t *tr_reply_keep(tr_ctx_t *ctx, const tr_msg_t *msg) {
    if (check_current_call(ctx, msg)) return NULL;
    tr__extra_t *x = tr__actor_extra(ctx->actor);
    tr_reply_t *r = x ? malloc(sizeof(*r)) : NULL;
    if (!r) return NULL;
    r->chan_idx = msg->chan_idx_;
    r->chan_gen = msg->chan_gen_;
    r->home = tr__chan_home(ctx->s, msg->sender);
    r->owner = ctx->actor;
    r->prev = NULL;
    r->next = x->kept;
    if (x->kept) x->kept->prev = r;
    x->kept = r;
    ctx->msg->flags_ |= TR__F_KEPT;
    return r;
}

static void kept_unlink(tr_reply_t *r) {
    tr__extra_t *x = r->owner->x;
    if (r->prev) r->prev->next = r->next;
    else x->kept = r->next;
    if (r->next) r->next->prev = r->prev;
}

static int answer_kept(tr_ctx_t *ctx, tr_reply_t *r, int status, int error, const char *detail,
                       const void *data, size_t len) {
    if (!ctx || !ctx->actor || !r || r->owner != ctx->actor || (len && !data)) return TR_EINVAL;
    kept_unlink(r);
    uint32_t idx = r->chan_idx, gen = r->chan_gen;
    uint16_t home = r->home;
    free(r);
    return answer(ctx->s, home, idx, gen, status, error, detail, data, len);
}

int tr_reply_to(tr_ctx_t *ctx, tr_reply_t *r, const void *data, size_t len) {
    return answer_kept(ctx, r, TR_OK, 0, NULL, data, len);
}

int tr_reply_error_to(tr_ctx_t *ctx, tr_reply_t *r, int error, const char *detail) {
    return answer_kept(ctx, r, TR_EREPLY, error, detail, NULL, 0);
}

int tr_reply_drop(tr_ctx_t *ctx, tr_reply_t *r, const char *detail) {
    return answer_kept(ctx, r, TR_EDROPPED, 0,
                       detail ? detail : tr_drop_reason_str(TR_DROP_RETURNED), NULL, 0);
}

void tr__kept_drop_all(tr__sched_t *s, tr__actor_t *a, tr_drop_reason_t why,
                       const char *detail) {
    if (!a->x) return;
    while (a->x->kept) {
        tr_reply_t *r = a->x->kept;
        a->x->kept = r->next;
        tr__chan_answer(s, r->home, r->chan_idx, r->chan_gen, TR_EDROPPED, 0, why,
                        detail ? detail : tr_drop_reason_str(why), detail != NULL, NULL, 0);
        free(r);
    }
}
