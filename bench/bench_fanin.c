/* bench/bench_fanin.c: fan-in from two threads. Two producer threads (not
 * actors: foreign threads using tr_runtime_send, the cross-thread path: a
 * capacity CAS on the consumer's slot, an inbox node pushed with one CAS,
 * and one ev_async wake-up when the push finds the scheduler's inbox empty)
 * each send 2,000,000 one-way messages (the count argument overrides the
 * per-producer count) to consumer actors whose mailboxes hold 1,024. A
 * producer that finds the mailbox full (TR_EFULL: backpressure) yields and
 * retries, counted in the details.
 *   bench_fanin [--schedulers N] [--spin-us U] [--consumers C] [count]
 * There is one consumer per scheduler by default, at most two (one per
 * producer): consumer j is pinned on scheduler j and producer i sends to
 * consumer i mod C. So with one scheduler both producers feed one consumer
 * (the figure since issue 7), and with 2 schedulers (--schedulers 2, or
 * TROUPE_SCHEDULERS=2) each producer feeds its own consumer on its own
 * scheduler: 2 producers on 2 schedulers. --consumers 1 keeps a single
 * consumer (on scheduler 0) whatever the scheduler count.
 * Output: "fanin: <msg/s> msg/s" (all messages over the time from the
 * producers' start until the last consumer has them all), then details. */
#include "bench.h"

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

enum { MSG_ITEM = TR_MSG_USER, PRODUCERS = 2, CAPACITY = 1024 };

typedef struct consumer_args_s {
    uint64_t expect;
    uint32_t idx;
} consumer_args_t;

typedef struct consumer_s {
    uint64_t count, sum, expect;
    uint32_t idx;
} consumer_t;

static uint64_t t_end;
static uint32_t nconsumers;
static atomic_uint consumers_done;
static consumer_t result[PRODUCERS];

static void on_item(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    consumer_t *self = state;
    uint64_t v;
    memcpy(&v, msg->data, sizeof v);
    self->sum += v;
    if (++self->count == self->expect) {
        result[self->idx] = *self;
        if (atomic_fetch_add(&consumers_done, 1) + 1 == nconsumers) {
            t_end = bench_now_ns();
            tr_runtime_stop(tr_ctx_runtime(ctx));
        }
    }
}

static int consumer_init(tr_ctx_t *ctx, void *state, const void *args) {
    (void)ctx;
    const consumer_args_t *a = args;
    consumer_t *self = state;
    self->expect = a->expect;
    self->idx = a->idx;
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
    bench_cli_t cli = {.count = 2000000};
    bench_cli(argc, argv, &cli, 1);
    uint64_t n = cli.count;
    uint64_t total = n * PRODUCERS;
    tr_runtime_t *rt = bench_runtime("fanin", &cli);
    int rc;
    uint16_t nsched = tr_runtime_schedulers(rt);
    nconsumers = cli.consumers ? cli.consumers : (nsched < PRODUCERS ? nsched : PRODUCERS);
    if (nconsumers > PRODUCERS || nconsumers > nsched) {
        fprintf(stderr, "fanin: --consumers: at most %d (one per producer) and at most one per "
                        "scheduler (%u here)\n",
                PRODUCERS, (unsigned)nsched);
        return 2;
    }

    tr_ref_t consumer[PRODUCERS];
    for (uint32_t j = 0; j < nconsumers; j++) {
        consumer_args_t ca = {.idx = j};
        for (int i = 0; i < PRODUCERS; i++)
            if ((uint32_t)i % nconsumers == j)
                ca.expect += n;
        tr_spawn_opts_t so = {0};
        so.mailbox_capacity = CAPACITY;
        so.args = &ca;
        so.args_len = sizeof ca;
        if (nsched > 1) {
            so.place = TR_PLACE_PIN;
            so.scheduler = (uint16_t)j;
        }
        if ((rc = tr_spawn(rt, &consumer_type, &so, &consumer[j])) != 0)
            bench_die("fanin", "tr_spawn", rc);
    }

    producer_t prod[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        prod[i] = (producer_t){.rt = rt, .to = consumer[(uint32_t)i % nconsumers], .n = n};
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
    uint64_t got = 0, sum = 0;
    for (uint32_t j = 0; j < nconsumers; j++) {
        got += result[j].count;
        sum += result[j].sum;
    }
    uint64_t want = PRODUCERS * (n * (n + 1) / 2);
    if (got != total || sum != want) {
        fprintf(stderr, "fanin: consumers got %" PRIu64 " messages, sum %" PRIu64
                        " (want %" PRIu64 ", %" PRIu64 ")\n",
                got, sum, total, want);
        return 1;
    }
    double secs = (double)(t_end - t0) / 1e9;
    tr_stats_t st;
    tr_runtime_stats(rt, &st);
    printf("fanin: %.0f msg/s\n", (double)total / secs);
    printf("  %d producer threads x %" PRIu64 " messages, %.3f s; mailbox %d, "
           "EFULL retries %" PRIu64 ", inbox wake-ups %" PRIu64 ", loop passes %" PRIu64 "\n",
           PRODUCERS, n, secs, CAPACITY, retries, st.inbox_wakeups, st.loop_passes);
    printf("  schedulers %u, spin_us %u, consumers %u (consumer j on scheduler j; producer i "
           "sends to consumer i mod %u)\n",
           (unsigned)nsched, cli.spin_us ? cli.spin_us : 20u, nconsumers, nconsumers);
    bench_print_scheds(rt);
    tr_runtime_destroy(rt);
    return 0;
}
