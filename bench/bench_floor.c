/* bench/bench_floor.c: the C floor for a local send. Plain C, no troupe:
 * two "actors", each a bounded power-of-two ring of message slots (payload
 * copied inline, as troupe does for payloads up to TR_INLINE_MAX bytes) and a
 * dense table of handler function pointers indexed by message type. A loop
 * pops up to a batch of messages per actor and dispatches each through its
 * table; the handler pushes the ball to the other actor's ring. That is the
 * least a same-thread actor send can cost (no run queue, no liveness or
 * size checks, no counters, no event loop), so troupe's bench_pingpong is
 * reported as a fraction of it. 100,000,000 messages (argv[1] overrides).
 * Output: "floor: <msg/s> msg/s" and "floor_latency: <ns> ns/msg". */
#include "bench.h"

#include <inttypes.h>
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
    return handled == n ? 0 : 1;
}
