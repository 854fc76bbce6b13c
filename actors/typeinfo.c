/* actors/typeinfo.c: compiles an actor type's message table into a dense
 * dispatch index (message type - min type -> handler entry) once per
 * runtime, so dispatch is one bounds check and one load. Validates the
 * table: handlers present, types >= TR_MSG_FD_READY, no duplicates, a span
 * of at most TR_MSG_MAX_SPAN. Any scheduler thread (types_mu); an entry,
 * once added, is never changed or freed while the runtime lives, so it is
 * read without the lock afterwards. */
#include <stdlib.h>

#include "runtime/internal.h"

static int typeinfo_get(tr_runtime_t *rt, const tr_actor_type_t *type, tr__typeinfo_t **out) {
    tr__typeinfo_t *ti;
    HASH_FIND_PTR(rt->types, &type, ti);
    if (ti) {
        *out = ti;
        return 0;
    }
    if (!type->handlers) return TR_EINVAL;
    int lo = 0, hi = 0, n = 0;
    for (const tr_handler_t *h = type->handlers; h->type != 0; h++, n++) {
        if (!h->fn || h->type < TR_MSG_FD_READY) return TR_EINVAL;
        if (h->overflow < TR_OVERFLOW_DEFAULT || h->overflow > TR_OVERFLOW_DROP_OLDEST)
            return TR_EINVAL;
        if (n == 0 || h->type < lo) lo = h->type;
        if (n == 0 || h->type > hi) hi = h->type;
    }
    if (n > 0 && (int64_t)hi - lo >= TR_MSG_MAX_SPAN) return TR_EINVAL;
    ti = calloc(1, sizeof(*ti));
    if (!ti) return TR_ENOMEM;
    ti->type = type;
    ti->min_type = lo;
    ti->span = n ? (uint32_t)(hi - lo + 1) : 0;
    if (n) {
        ti->index = calloc(ti->span, sizeof(*ti->index));
        if (!ti->index) {
            free(ti);
            return TR_ENOMEM;
        }
        for (const tr_handler_t *h = type->handlers; h->type != 0; h++) {
            uint32_t off = (uint32_t)(h->type - lo);
            if (ti->index[off]) { /* duplicate type */
                free(ti->index);
                free(ti);
                return TR_EINVAL;
            }
            ti->index[off] = h;
        }
    }
    HASH_ADD_PTR(rt->types, type, ti);
    *out = ti;
    return 0;
}

int tr__typeinfo_get(tr_runtime_t *rt, const tr_actor_type_t *type, tr__typeinfo_t **out) {
    pthread_mutex_lock(&rt->types_mu);
    int r = typeinfo_get(rt, type, out);
    pthread_mutex_unlock(&rt->types_mu);
    return r;
}

void tr__typeinfo_free_all(tr_runtime_t *rt) {
    tr__typeinfo_t *ti, *tmp;
    HASH_ITER(hh, rt->types, ti, tmp) {
        HASH_DEL(rt->types, ti);
        free(ti->index);
        free(ti);
    }
}

const char *tr_msg_type_name(const tr_actor_type_t *type, int msg_type) {
    if (!type || !type->handlers) return NULL;
    for (const tr_handler_t *h = type->handlers; h->type != 0; h++)
        if (h->type == msg_type) return h->name;
    return NULL;
}
