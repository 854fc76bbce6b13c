/* runtime/io.c: fd readiness delivered as messages. One ev_io per watch; on
 * readiness the watcher is stopped and one message is queued (outside the
 * capacity count: there is at most one per watch); it is started again after
 * the handler has seen the message, so a busy fd cannot flood a mailbox and
 * the loop never spins on readiness nobody consumes. Scheduler thread. */
#include <stdlib.h>

#include "runtime/internal.h"

static void on_io(struct ev_loop *loop, ev_io *io, int revents) {
    tr__fdwatch_t *w = (tr__fdwatch_t *)io;
    tr__sched_t *s = io->data;
    tr__actor_t *a = w->actor;
    ev_io_stop(loop, io);
    w->pending = 1;
    tr_fd_event_t ev = {io->fd, ((revents & EV_READ) ? TR_FD_READ : 0) |
                                    ((revents & EV_WRITE) ? TR_FD_WRITE : 0)};
    tr__env_t env;
    env.type = w->type;
    env.flags = TR__F_NOCAP;
    env.sender = a->ref;
    tr__env_set_copy(&env, &ev, sizeof(ev)); /* inline: cannot fail */
    if (tr__deliver_local(s, a, &env, tr__ti_lookup(a->ti, w->type), false) != 0) {
        w->pending = 0;
        ev_io_start(loop, io); /* try again next iteration */
    }
}

void tr__fd_rearm(tr__sched_t *s, tr__actor_t *a, int fd) {
    if (!a->x || (a->flags & TR__A_DEAD)) return;
    for (tr__fdwatch_t *w = a->x->fds; w; w = w->next) {
        if (w->io.fd == fd && w->pending) {
            w->pending = 0;
            ev_io_start(s->loop, &w->io);
            return;
        }
    }
}

int tr_watch_fd(tr_ctx_t *ctx, int fd, int events, int type) {
    if (!ctx || !ctx->actor || fd < 0 || !(events & (TR_FD_READ | TR_FD_WRITE)) ||
        (events & ~(TR_FD_READ | TR_FD_WRITE)))
        return TR_EINVAL;
    tr__actor_t *a = ctx->actor;
    const tr_handler_t *h;
    tr_fd_event_t probe = {0, 0};
    int err = tr__check_type(a->ti, type, sizeof(tr_fd_event_t), &probe, &h);
    if (err) return err;
    tr__extra_t *x = tr__actor_extra(a);
    if (!x) return TR_ENOMEM;
    for (tr__fdwatch_t *w = x->fds; w; w = w->next)
        if (w->io.fd == fd) return TR_EALREADY;
    tr__fdwatch_t *w = calloc(1, sizeof(*w));
    if (!w) return TR_ENOMEM;
    ev_io_init(&w->io, on_io, fd,
               ((events & TR_FD_READ) ? EV_READ : 0) | ((events & TR_FD_WRITE) ? EV_WRITE : 0));
    w->io.data = ctx->s;
    w->actor = a;
    w->type = type;
    w->next = x->fds;
    x->fds = w;
    ev_io_start(ctx->s->loop, &w->io);
    return 0;
}

int tr_unwatch_fd(tr_ctx_t *ctx, int fd) {
    if (!ctx || !ctx->actor || !ctx->actor->x) return TR_ENOTFOUND;
    for (tr__fdwatch_t **pp = &ctx->actor->x->fds; *pp; pp = &(*pp)->next) {
        tr__fdwatch_t *w = *pp;
        if (w->io.fd != fd) continue;
        *pp = w->next;
        ev_io_stop(ctx->s->loop, &w->io);
        free(w);
        return 0;
    }
    return TR_ENOTFOUND;
}

void tr__actor_fds_cancel(tr__sched_t *s, tr__actor_t *a) {
    if (!a->x) return;
    while (a->x->fds) {
        tr__fdwatch_t *w = a->x->fds;
        a->x->fds = w->next;
        ev_io_stop(s->loop, &w->io);
        free(w);
    }
}
