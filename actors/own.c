/* actors/own.c: resources owned through the runtime. C has no Drop, so the
 * runtime provides it: each owned fd or pointer is released exactly once,
 * most recent first, when its actor stops. An fd has one owner across the
 * runtime (a table by fd), which is what stops two actors from closing the
 * same descriptor twice. The actor's own scheduler thread; the fd table is
 * shared by every scheduler, behind fd_mu. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/internal.h"

static tr__fdown_t *fd_owner(tr_runtime_t *rt, int fd) {
    tr__fdown_t *o;
    HASH_FIND_INT(rt->fd_owners, &fd, o);
    return o;
}

static void fd_forget(tr_runtime_t *rt, int fd) {
    pthread_mutex_lock(&rt->fd_mu);
    tr__fdown_t *o = fd_owner(rt, fd);
    if (o) HASH_DEL(rt->fd_owners, o);
    pthread_mutex_unlock(&rt->fd_mu);
    free(o);
}

static tr__owned_t *unlink_owned(tr__actor_t *a, int fd, void *ptr) {
    if (!a->x) return NULL;
    for (tr__owned_t **pp = &a->x->owned; *pp; pp = &(*pp)->next) {
        tr__owned_t *o = *pp;
        if ((fd >= 0 && o->fd == fd) || (fd < 0 && o->fd < 0 && o->ptr == ptr)) {
            *pp = o->next;
            return o;
        }
    }
    return NULL;
}

int tr_own_fd(tr_ctx_t *ctx, int fd) {
    if (!ctx || !ctx->actor || fd < 0) return TR_EINVAL;
    tr_runtime_t *rt = ctx->rt;
    tr__actor_t *a = ctx->actor;
    tr__extra_t *x = tr__actor_extra(a);
    tr__owned_t *n = x ? malloc(sizeof(*n)) : NULL;
    tr__fdown_t *o = n ? malloc(sizeof(*o)) : NULL;
    if (!o) {
        free(n);
        return TR_ENOMEM;
    }
    pthread_mutex_lock(&rt->fd_mu);
    tr__fdown_t *cur = fd_owner(rt, fd);
    if (!cur) {
        o->fd = fd;
        o->owner = a->ref;
        HASH_ADD_INT(rt->fd_owners, fd, o);
    }
    pthread_mutex_unlock(&rt->fd_mu);
    if (cur) {
        int r = tr_ref_eq(cur->owner, a->ref) ? TR_EALREADY : TR_EBUSY;
        free(o);
        free(n);
        return r;
    }
    n->fd = fd;
    n->ptr = NULL;
    n->dtor = NULL;
    n->next = x->owned;
    x->owned = n;
    return 0;
}

int tr_close_fd(tr_ctx_t *ctx, int fd) {
    if (!ctx || !ctx->actor || fd < 0) return TR_ENOTFOUND;
    tr__owned_t *n = unlink_owned(ctx->actor, fd, NULL);
    if (!n) return TR_ENOTFOUND;
    free(n);
    fd_forget(ctx->rt, fd);
    return close(fd) == 0 || errno == EINTR ? 0 : TR_ESYS;
}

int tr_disown_fd(tr_ctx_t *ctx, int fd) {
    if (!ctx || !ctx->actor || fd < 0) return TR_ENOTFOUND;
    tr__owned_t *n = unlink_owned(ctx->actor, fd, NULL);
    if (!n) return TR_ENOTFOUND;
    free(n);
    fd_forget(ctx->rt, fd);
    return 0;
}

int tr_own(tr_ctx_t *ctx, void *ptr, tr_dtor_fn dtor) {
    if (!dtor) return TR_EINVAL;
    if (!ctx || !ctx->actor) {
        return TR_EINVAL;
    }
    tr__extra_t *x = tr__actor_extra(ctx->actor);
    tr__owned_t *n = x ? malloc(sizeof(*n)) : NULL;
    if (!n) {
        dtor(ptr);
        return TR_ENOMEM;
    }
    n->fd = -1;
    n->ptr = ptr;
    n->dtor = dtor;
    n->next = x->owned;
    x->owned = n;
    return 0;
}

int tr_release(tr_ctx_t *ctx, void *ptr) {
    if (!ctx || !ctx->actor) return TR_ENOTFOUND;
    tr__owned_t *n = unlink_owned(ctx->actor, -1, ptr);
    if (!n) return TR_ENOTFOUND;
    n->dtor(n->ptr);
    free(n);
    return 0;
}

void tr__owned_release_all(tr__sched_t *s, tr__actor_t *a) {
    if (!a->x) return;
    while (a->x->owned) {
        tr__owned_t *n = a->x->owned;
        a->x->owned = n->next;
        if (n->fd >= 0) {
            fd_forget(s->rt, n->fd);
            close(n->fd);
        } else {
            n->dtor(n->ptr);
        }
        free(n);
    }
}
