/* mailbox/ring.c: the bounded power-of-two ring of envelopes behind each
 * actor's user lane. Scheduler thread only. The ring is allocated on the
 * first message and doubles as needed; the capacity bound itself is enforced
 * by the slot's reservation word (mailbox/send.c), not here, so a live
 * capacity change never has to move or drop what is queued. */
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

#define TR__RING_MIN 8u

int tr__ring_grow(tr__ring_t *r) {
    uint32_t size = r->buf ? r->mask + 1 : 0;
    uint32_t nsize = size ? size * 2 : TR__RING_MIN;
    tr__env_t *nbuf = malloc((size_t)nsize * sizeof(*nbuf));
    if (!nbuf) return TR_ENOMEM;
    /* unwrap into the new buffer, oldest first */
    for (uint32_t i = 0; i < r->count; i++) nbuf[i] = r->buf[(r->head + i) & r->mask];
    free(r->buf);
    r->buf = nbuf;
    r->mask = nsize - 1;
    r->head = 0;
    return 0;
}

void tr__ring_free(tr__ring_t *r) {
    free(r->buf);
    memset(r, 0, sizeof(*r));
}

int tr__env_set_heap_copy(tr__env_t *env, const void *data, size_t len) {
    void *p = malloc(len);
    if (!p) return TR_ENOMEM;
    memcpy(p, data, len);
    tr__env_set_move(env, p, len, free);
    return 0;
}
