/* bench/bench_floor.c: the C floor for a local send. Plain C, no troupe:
 * two "actors", each a bounded power-of-two ring of message slots (payload
 * copied inline, as troupe does for payloads up to TR_INLINE_MAX bytes) and a
 * dense table of handler function pointers indexed by message type. A loop
 * pops up to a batch of messages per actor and dispatches each through its
 * table; the handler pushes the ball to the other actor's ring. That is the
 * least a same-thread actor send can cost (no run queue, no liveness or
 * size checks, no counters, no event loop), so troupe's bench_pingpong is
 * reported as a fraction of it. 100,000,000 messages (argv[1] overrides).
 * Then the cross-thread floor: a bounded single-producer single-consumer
 * ring (C11 acquire/release, each side caching the other's index) between
 * two threads, 20,000,000 8-byte messages (a tenth of argv[1] when given):
 * the least a message from another thread can cost, for fanin.
 * Output: "floor: <msg/s> msg/s", "floor_latency: <ns> ns/msg" and
 * "floor_spsc: <msg/s> msg/s". */
#include "bench.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

enum { INLINE_MAX = 24, RING_CAP = 1024, BATCH = 64, MSG_BASE = 64, MSG_BALL = MSG_BASE };

typedef struct slot_s {
    int type;
    uint32_t len;
    uint32_t sender;
    unsigned char data[INLINE_MAX];
} slot_t;

typedef struct ring_s {
    slot_t slots[RING_CAP]; /* power of two: index with & (RING_CAP - 1) */
    uint32_t head, tail;    /* free-running counters */
} ring_t;

typedef struct actor_s actor_t;
typedef void (*handler_fn)(actor_t *self, const slot_t *msg);

struct actor_s {
    ring_t ring;
    handler_fn *table; /* dense: table[type - MSG_BASE] */
    uint32_t span;
    uint32_t id, peer;
    uint64_t handled;
};

static actor_t actors[2];
static int done;

static int push(actor_t *to, uint32_t sender, int type, const void *data, uint32_t len) {
    ring_t *r = &to->ring;
    if (r->tail - r->head == RING_CAP || len > INLINE_MAX)
        return -1; /* full: the floor still checks the bound */
    slot_t *s = &r->slots[r->tail & (RING_CAP - 1)];
    s->type = type;
    s->len = len;
    s->sender = sender;
    memcpy(s->data, data, len);
    r->tail++;
    return 0;
}

__attribute__((noinline)) static void on_ball(actor_t *self, const slot_t *msg) {
    uint64_t left;
    memcpy(&left, msg->data, sizeof left);
    if (--left == 0) {
        done = 1;
        return;
    }
    if (push(&actors[self->peer], self->id, MSG_BALL, &left, sizeof left) != 0)
        done = -1;
}

static handler_fn table[1];

/* One turn: up to BATCH messages, each through the function-pointer table. */
static void run_turn(actor_t *a) {
    ring_t *r = &a->ring;
    for (int i = 0; i < BATCH && r->head != r->tail && !done; i++) {
        slot_t *s = &r->slots[r->head & (RING_CAP - 1)];
        uint32_t idx = (uint32_t)(s->type - MSG_BASE);
        handler_fn *tbl = a->table;
        __asm__ volatile("" : "+r"(tbl)); /* keep the indirect call indirect */
        if (idx < a->span && tbl[idx])
            tbl[idx](a, s);
        r->head++;
        a->handled++;
    }
}

/* ---- cross-thread: a bounded SPSC ring ---- */

enum { SPSC_CAP = 1024 };

typedef struct spsc_s {
    _Alignas(64) _Atomic uint64_t head; /* consumer's position */
    _Alignas(64) _Atomic uint64_t tail; /* producer's position */
    _Alignas(64) uint64_t slots[SPSC_CAP];
} spsc_t;

static spsc_t spsc;
static uint64_t spsc_n;

static void *spsc_produce(void *arg) {
    (void)arg;
    uint64_t tail = 0, head_seen = 0;
    for (uint64_t v = 1; v <= spsc_n; v++) {
        while (tail - head_seen == SPSC_CAP) /* full: look again */
            head_seen = atomic_load_explicit(&spsc.head, memory_order_acquire);
        spsc.slots[tail & (SPSC_CAP - 1)] = v;
        atomic_store_explicit(&spsc.tail, ++tail, memory_order_release);
    }
    return NULL;
}

static uint64_t spsc_consume(void) {
    uint64_t head = 0, tail_seen = 0, sum = 0;
    while (head < spsc_n) {
        while (head == tail_seen) /* empty: look again */
            tail_seen = atomic_load_explicit(&spsc.tail, memory_order_acquire);
        sum += spsc.slots[head & (SPSC_CAP - 1)];
        atomic_store_explicit(&spsc.head, ++head, memory_order_release);
    }
    return sum;
}

int main(int argc, char **argv) {
    uint64_t n = bench_arg_count(argc, argv, 100000000);
    table[0] = on_ball;
    for (uint32_t i = 0; i < 2; i++) {
        actors[i].table = table;
        actors[i].span = 1;
        actors[i].id = i;
        actors[i].peer = 1 - i;
    }
    uint64_t t0 = bench_now_ns();
    if (push(&actors[0], UINT32_MAX, MSG_BALL, &n, sizeof n) != 0)
        return 1;
    while (!done) {
        run_turn(&actors[0]);
        run_turn(&actors[1]);
    }
    uint64_t t1 = bench_now_ns();
    if (done < 0) {
        fprintf(stderr, "floor: ring full\n");
        return 1;
    }
    uint64_t handled = actors[0].handled + actors[1].handled;
    double secs = (double)(t1 - t0) / 1e9;
    printf("floor: %.0f msg/s\n", (double)handled / secs);
    printf("floor_latency: %.2f ns/msg\n", secs * 1e9 / (double)handled);
    printf("  messages %" PRIu64 " in %.3f s (ring %d slots, %d-byte inline payload, "
           "batch %d, function-pointer dispatch)\n",
           handled, secs, RING_CAP, INLINE_MAX, BATCH);
    if (handled != n)
        return 1;

    spsc_n = argc > 1 ? (n / 10 ? n / 10 : 1) : 20000000;
    pthread_t producer;
    t0 = bench_now_ns();
    if (pthread_create(&producer, NULL, spsc_produce, NULL) != 0)
        return 1;
    uint64_t sum = spsc_consume();
    t1 = bench_now_ns();
    pthread_join(producer, NULL);
    if (sum != spsc_n * (spsc_n + 1) / 2) {
        fprintf(stderr, "floor: spsc sum %" PRIu64 " is wrong\n", sum);
        return 1;
    }
    secs = (double)(t1 - t0) / 1e9;
    printf("floor_spsc: %.0f msg/s\n", (double)spsc_n / secs);
    printf("  %" PRIu64 " messages between two threads in %.3f s (SPSC ring %d slots, "
           "acquire/release, spinning)\n",
           spsc_n, secs, SPSC_CAP);
    return 0;
}
