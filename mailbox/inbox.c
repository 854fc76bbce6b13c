/* mailbox/inbox.c: the scheduler's multi-producer single-consumer inbox for
 * sends from other threads. A Treiber stack: producers CAS a node onto the
 * head (and learn whether the inbox was empty, so one ev_async wake-up
 * serves a whole batch); the scheduler takes the whole stack with one
 * exchange and reverses it, which yields push order. Taking everything at
 * once has no ABA hazard: a node is never popped alone. ev_async coalesces
 * wake-ups, so the consumer always drains to empty (libev ev.pod, ev_async). */
#include "runtime/internal.h"

bool tr__inbox_push(tr__inbox_t *in, tr__inode_t *node) {
    tr__inode_t *head = atomic_load_explicit(&in->head, memory_order_relaxed);
    do {
        node->next = head;
    } while (!atomic_compare_exchange_weak_explicit(&in->head, &head, node,
                                                    memory_order_release,
                                                    memory_order_relaxed));
    return head == NULL;
}

tr__inode_t *tr__inbox_take(tr__inbox_t *in) {
    if (!atomic_load_explicit(&in->head, memory_order_relaxed)) return NULL;
    tr__inode_t *n = atomic_exchange_explicit(&in->head, NULL, memory_order_acquire);
    tr__inode_t *fifo = NULL;
    while (n) {
        tr__inode_t *next = n->next;
        n->next = fifo;
        fifo = n;
        n = next;
    }
    return fifo;
}
