/* actors/slots.c: the actor table. Refs are (slot, generation) pairs
 * resolved here, never pointers (nng's "identifiers wrapped in a structure").
 * Slots live in fixed-size chunks that are only ever added, so a foreign
 * thread may read a slot at any time; the generation in the slot's word
 * tells it whether the slot still holds the actor its ref names.
 * Allocation and release: any scheduler thread, under slot_mu (a spawn
 * or a stop, never a message, takes it). */
#include <stdlib.h>

#include "runtime/internal.h"

#define TR__NO_SLOT UINT32_MAX

static int slot_alloc(tr_runtime_t *rt, uint32_t *idx) {
    if (rt->slot_free == TR__NO_SLOT) {
        uint32_t nchunks = atomic_load_explicit(&rt->slot_nchunks, memory_order_relaxed);
        if (nchunks == TR__SLOT_CHUNKS) return TR_ENOMEM;
        tr__slot_t *c = calloc(TR__SLOT_CHUNK, sizeof(*c));
        if (!c) return TR_ENOMEM;
        uint32_t base = nchunks * TR__SLOT_CHUNK;
        /* free list in ascending order; generation 1 is the first issued */
        for (uint32_t i = 0; i < TR__SLOT_CHUNK; i++) {
            atomic_init(&c[i].word, TR__WORD(1, 0));
            c[i].u.next_free = i + 1 < TR__SLOT_CHUNK ? base + i + 1 : TR__NO_SLOT;
        }
        atomic_store_explicit(&rt->slot_chunks[nchunks], c, memory_order_release);
        atomic_store_explicit(&rt->slot_nchunks, nchunks + 1, memory_order_release);
        rt->slot_free = base;
    }
    *idx = rt->slot_free;
    rt->slot_free = tr__slot_get(rt, *idx)->u.next_free;
    return 0;
}

int tr__slot_alloc(tr_runtime_t *rt, uint32_t *idx) {
    pthread_mutex_lock(&rt->slot_mu);
    int r = slot_alloc(rt, idx);
    pthread_mutex_unlock(&rt->slot_mu);
    return r;
}

void tr__slot_release(tr_runtime_t *rt, uint32_t idx) {
    tr__slot_t *sl = tr__slot_get(rt, idx);
    pthread_mutex_lock(&rt->slot_mu);
    sl->u.next_free = rt->slot_free;
    rt->slot_free = idx;
    pthread_mutex_unlock(&rt->slot_mu);
}
