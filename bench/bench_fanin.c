/* bench/bench_fanin.c: fan-in from two threads. Two producer threads (not
 * actors: troupe has one scheduler until issue 8, so they are foreign
 * threads using tr_runtime_send, the cross-thread path: the lock-free
 * inbox plus one ev_async wake-up per batch) each send 2,000,000 one-way
 * messages (argv[1] overrides the per-producer count) to one consumer
 * actor, whose mailbox holds 1,024. A producer that finds the mailbox full
 * (TR_EFULL: backpressure) yields and retries, counted in the details.
 * Output: "fanin: <msg/s> msg/s" (all messages over the time from the
 * producers' start until the consumer has them all), then details. */
#include "bench.h"

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

enum { MSG_ITEM = TR_MSG_USER, PRODUCERS = 2, CAPACITY = 1024 };

typedef struct consumer_s {
    uint64_t count, sum, expect;
} consumer_t;

static uint64_t t_end;
static consumer_t result;

static void on_item(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    consumer_t *self = state;
    uint64_t v;
    memcpy(&v, msg->data, sizeof v);
    self->sum += v;
    if (++self->count == self->expect) {
        t_end = bench_now_ns();
        result = *self;
        tr_runtime_stop(tr_ctx_runtime(ctx));
    }
}

static int consumer_init(tr_ctx_t *ctx, void *state, const void *args) {
    (void)ctx;
    ((consumer_t *)state)->expect = *(const uint64_t *)args;
    return 0;
}

static const tr_handler_t consumer_handlers[] = {
    TR_ON(MSG_ITEM, on_item, uint64_t),
    TR_END
};

static const tr_actor_type_t consumer_type = {
    .name = "consumer", .state_size = sizeof(consumer_t), .handlers = consumer_handlers,
    .init = consumer_init,
};

typedef struct producer_s {
    pthread_t thread;
    tr_runtime_t *rt;
    tr_ref_t to;
    uint64_t n, full_retries;
    int error;
} producer_t;

static atomic_int go;

static void *produce(void *arg) {
    producer_t *p = arg;
    while (!atomic_load_explicit(&go, memory_order_acquire))
        ;
    for (uint64_t i = 1; i <= p->n; i++) {
        int rc;
        while ((rc = tr_runtime_send(p->rt, p->to, MSG_ITEM, &i, sizeof i)) == TR_EFULL) {
            p->full_retries++;
            sched_yield();
        }
        if (rc != 0) {
            p->error = rc;
            break;
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    uint64_t n = bench_arg_count(argc, argv, 2000000);
    uint64_t total = n * PRODUCERS;
    tr_runtime_t *rt;
    int rc = tr_runtime_create(NULL, &rt);
    if (rc)
        bench_die("fanin", "tr_runtime_create", rc);
    tr_ref_t consumer;
    tr_spawn_opts_t so = {0};
    so.mailbox_capacity = CAPACITY;
    so.args = &total;
    if ((rc = tr_spawn(rt, &consumer_type, &so, &consumer)) != 0)
        bench_die("fanin", "tr_spawn", rc);

    producer_t prod[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        prod[i] = (producer_t){.rt = rt, .to = consumer, .n = n};
        if (pthread_create(&prod[i].thread, NULL, produce, &prod[i]) != 0) {
            fprintf(stderr, "fanin: pthread_create failed\n");
            return 1;
        }
    }
    uint64_t t0 = bench_now_ns();
    atomic_store_explicit(&go, 1, memory_order_release);
    if ((rc = tr_runtime_run(rt)) != 0)
        bench_die("fanin", "tr_runtime_run", rc);
    uint64_t retries = 0;
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_join(prod[i].thread, NULL);
        retries += prod[i].full_retries;
        if (prod[i].error) {
            bench_die("fanin", "tr_runtime_send", prod[i].error);
        }
    }
    uint64_t want = PRODUCERS * (n * (n + 1) / 2);
    if (result.count != total || result.sum != want) {
        fprintf(stderr, "fanin: consumer got %" PRIu64 " messages, sum %" PRIu64
                        " (want %" PRIu64 ", %" PRIu64 ")\n",
                result.count, result.sum, total, want);
        return 1;
    }
    double secs = (double)(t_end - t0) / 1e9;
    tr_stats_t st;
    tr_runtime_stats(rt, &st);
    printf("fanin: %.0f msg/s\n", (double)total / secs);
    printf("  %d producer threads x %" PRIu64 " messages, %.3f s; mailbox %d, "
           "EFULL retries %" PRIu64 ", inbox wake-ups %" PRIu64 ", loop passes %" PRIu64 "\n",
           PRODUCERS, n, secs, CAPACITY, retries, st.inbox_wakeups, st.loop_passes);
    tr_runtime_destroy(rt);
    return 0;
}
