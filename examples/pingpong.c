/* examples/pingpong.c: two actors bounce one-way messages N times.
 *
 *   pingpong [N]      N messages in total (default 1,000,000)
 *
 * What it shows: an actor type with a message table (TR_ON checks the payload
 * size of every send), spawning, a first message sent from outside the actors
 * with tr_runtime_send, answering the sender of a message (msg->sender), and
 * stopping the scheduler loop from inside a handler with tr_runtime_stop.
 * This is what `make run` runs. */
#include <troupe/troupe.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MSG_BALL = TR_MSG_USER };

/* Each player's private state: only its own handlers touch it. */
typedef struct player_s {
    tr_ref_t peer;     /* where to send the ball; learnt from the first ball */
    uint64_t received; /* balls this player handled */
} player_t;

/* What main() learns from the actors once the loop stops. Written by the
 * handler on the scheduler thread, read by main() on the same thread after
 * tr_runtime_run returns. */
static struct timespec end_time;

static void on_ball(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    player_t *self = state;
    uint64_t left;

    memcpy(&left, msg->data, sizeof left); /* size checked by TR_ON at send time */
    self->received++;
    if (tr_ref_valid(msg->sender))
        self->peer = msg->sender; /* the first ball comes from main: no sender */
    if (--left == 0) {
        clock_gettime(CLOCK_MONOTONIC, &end_time);
        tr_runtime_stop(tr_ctx_runtime(ctx)); /* tr_runtime_run returns after this pass */
        return;
    }
    int rc = tr_send(ctx, self->peer, MSG_BALL, &left, sizeof left);
    if (rc != 0) {
        fprintf(stderr, "pingpong: tr_send: %s\n", tr_strerror(rc));
        tr_runtime_stop(tr_ctx_runtime(ctx));
    }
}

static int player_init(tr_ctx_t *ctx, void *state, const void *args) {
    player_t *self = state;
    if (args)
        self->peer = *(const tr_ref_t *)args; /* args are borrowed: copy them */
    return 0;
}

static const tr_handler_t player_handlers[] = {
    TR_ON(MSG_BALL, on_ball, uint64_t),
    TR_END
};

static const tr_actor_type_t player_type = {
    .name = "player",
    .state_size = sizeof(player_t),
    .handlers = player_handlers,
    .init = player_init,
};

static double seconds_between(struct timespec a, struct timespec b) {
    return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

static void die(const char *what, int rc) {
    fprintf(stderr, "pingpong: %s: %s (%s)\n", what, tr_strerror(rc), tr_err_name(rc));
    exit(1);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep our lines in order with the runtime's log */
    uint64_t n = 1000000;
    if (argc > 1) {
        char *end;
        unsigned long long v = strtoull(argv[1], &end, 10);
        if (*argv[1] == '\0' || *end != '\0' || v == 0) {
            fprintf(stderr, "usage: %s [messages > 0]\n", argv[0]);
            return 2;
        }
        n = v;
    }

    printf("troupe %s ping-pong example\n\n"
           "Two actors of the same type, \"ping\" and \"pong\", bounce one message back\n"
           "and forth. The message carries a countdown (a uint64_t copied into the\n"
           "mailbox slot, no malloc); each handler decrements it and sends it back to\n"
           "the message's sender with tr_send, which is a push into the peer's bounded\n"
           "mailbox plus a run-queue push on the same scheduler thread. The handler\n"
           "that sees the countdown reach zero calls tr_runtime_stop, and main()\n"
           "prints the rate and the runtime's counters (tr_runtime_stats). Every\n"
           "message is handled one at a time, on one thread, by its own actor: no\n"
           "locks in user code.\n\n",
           TROUPE_VERSION);

    tr_runtime_opts_t opts = {0};
    opts.handle_signals = 1; /* Ctrl-C starts an ordered shutdown */
    tr_runtime_t *rt;
    int rc = tr_runtime_create(&opts, &rt);
    if (rc != 0)
        die("tr_runtime_create", rc);

    tr_ref_t pong, ping;
    tr_spawn_opts_t so = {0};
    so.name = "pong";
    if ((rc = tr_spawn(rt, &player_type, &so, &pong)) != 0)
        die("tr_spawn(pong)", rc);
    so.name = "ping";
    so.args = &pong; /* ping knows pong from the start; pong learns ping */
    if ((rc = tr_spawn(rt, &player_type, &so, &ping)) != 0)
        die("tr_spawn(ping)", rc);

    printf("bouncing %" PRIu64 " messages between ping and pong...\n", n);
    fflush(stdout);

    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    /* The first ball comes from outside the actors: tr_runtime_send. */
    if ((rc = tr_runtime_send(rt, ping, MSG_BALL, &n, sizeof n)) != 0)
        die("tr_runtime_send", rc);
    if ((rc = tr_runtime_run(rt)) != 0)
        die("tr_runtime_run", rc);
    if (end_time.tv_sec == 0 && end_time.tv_nsec == 0) /* interrupted (Ctrl-C) */
        clock_gettime(CLOCK_MONOTONIC, &end_time);

    tr_stats_t st;
    tr_runtime_stats(rt, &st);
    uint64_t resolved = st.chan_ok + st.chan_error + st.chan_timeout + st.chan_dropped +
                        st.chan_undelivered + st.chan_cancelled;
    double secs = seconds_between(start, end_time);
    uint64_t handled = st.msgs_handled;
    int complete = handled >= n;

    printf("\nresults\n");
    printf("  messages        %" PRIu64 "%s\n", handled,
           complete ? "" : " (interrupted before the end)");
    printf("  seconds         %.3f\n", secs);
    printf("  msg/s           %.0f\n", secs > 0 ? (double)handled / secs : 0.0);
    printf("  ns/msg          %.1f\n", handled ? secs * 1e9 / (double)handled : 0.0);
    printf("\nruntime stats (tr_runtime_stats)\n");
    printf("  msgs_sent       %" PRIu64 "  (accepted into a mailbox; the first came from main)\n",
           st.msgs_sent);
    printf("  msgs_handled    %" PRIu64 "\n", st.msgs_handled);
    printf("  dead_letters    %" PRIu64 "%s\n", st.dead_letters,
           st.dead_letters ? "  (the ball in flight when the actors stopped)" : "");
    printf("  channels        %" PRIu64 " created, %" PRIu64
           " resolved  (one-way messages create no reply channel)\n",
           st.chan_created, resolved);
    printf("  loop passes     %" PRIu64 "  (messages are handled in batches per pass)\n",
           st.loop_passes);

    tr_runtime_destroy(rt);
    return complete ? 0 : 1;
}
