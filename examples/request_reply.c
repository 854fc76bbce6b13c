/* examples/request_reply.c: calls with one-shot reply channels, and every way
 * a call can end.
 *
 * A "counter" server actor answers requests; a "client" actor calls it with
 * tr_call and a continuation, one request after the other, and prints each
 * outcome with tr_strerror. Then a foreign thread (not an actor, not the
 * scheduler thread) calls the same server with the blocking tr_call_sync.
 *
 *   MSG_INCR  int64_t  add to the count and reply with the new count;
 *                      a negative increment is refused with tr_reply_error
 *   MSG_GET   empty    reply with the count
 *   MSG_FORGET empty   a buggy handler that returns without replying: the
 *                      runtime resolves the channel with DropWithoutReport
 *   MSG_SLOW  empty    keeps the channel (tr_reply_keep) and answers 150 ms
 *                      later from a timer; the client's 50 ms timeout fires
 *                      first, so the answer becomes a counted late reply
 *
 * A call to an actor that has already stopped fails at call time with
 * TR_EDEAD: the continuation is not created, so it never runs.
 * The program checks every outcome against what it expects and exits 0 when
 * all match and every reply channel created has been resolved. */
#include <troupe/troupe.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the counter server ------------------------------------------------- */

enum { MSG_INCR = TR_MSG_USER, MSG_GET, MSG_FORGET, MSG_SLOW, MSG_SLOW_DONE };

/* Application error codes, carried by tr_reply_error: they are the
 * application's own numbers, not TR_ codes. */
enum { COUNTER_ERR_NEGATIVE = 1, COUNTER_ERR_BUSY = 2 };

typedef struct counter_s {
    int64_t count;
    tr_reply_t *kept; /* the channel MSG_SLOW keeps until its timer fires */
} counter_t;

static void on_incr(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    counter_t *self = state;
    int64_t delta;
    memcpy(&delta, msg->data, sizeof delta); /* TR_ON(.., int64_t): size checked */
    if (delta < 0) {
        tr_reply_error(ctx, msg, COUNTER_ERR_NEGATIVE, "negative increments are refused");
        return;
    }
    self->count += delta;
    tr_reply(ctx, msg, &self->count, sizeof self->count);
}

static void on_get(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    counter_t *self = state;
    tr_reply(ctx, msg, &self->count, sizeof self->count);
}

static void on_forget(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    /* Bug on purpose: no tr_reply, no tr_reply_keep. When this returns, the
     * runtime resolves the caller's channel with TR_EDROPPED
     * (TR_DROP_RETURNED): the caller is told at once, it never hangs. */
}

static void on_slow(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    counter_t *self = state;
    if (self->kept) { /* one at a time in this example */
        tr_reply_error(ctx, msg, COUNTER_ERR_BUSY, "a slow request is already pending");
        return;
    }
    self->kept = tr_reply_keep(ctx, msg); /* answer after this handler returns */
    int64_t id = tr_timer_start(ctx, 150, 0, MSG_SLOW_DONE, NULL, 0);
    if (id < 0) { /* could not arm the timer: answer now rather than never */
        tr_reply_error_to(ctx, self->kept, (int)id, tr_strerror((int)id));
        self->kept = NULL;
    }
}

static void on_slow_done(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    counter_t *self = state;
    if (!self->kept)
        return;
    /* The caller gave up after 50 ms, so the channel has already resolved
     * with TR_ETIMEDOUT: this returns 0 and counts a late reply. */
    int rc = tr_reply_to(ctx, self->kept, &self->count, sizeof self->count);
    printf("  [counter] answered the kept MSG_SLOW channel 150 ms later: %s "
           "(late: the caller already timed out)\n", rc == 0 ? "ok" : tr_strerror(rc));
    self->kept = NULL; /* tr_reply_to freed the handle */
}

static void counter_terminate(tr_ctx_t *ctx, void *state, tr_stop_reason_t reason) {
    counter_t *self = state;
    printf("  [counter] terminate (%s), final count %" PRId64 "\n",
           reason == TR_STOP_SHUTDOWN ? "shutdown" : "stopped", self->count);
}

static const tr_handler_t counter_handlers[] = {
    TR_ON(MSG_INCR, on_incr, int64_t),
    TR_ON_EMPTY(MSG_GET, on_get),
    TR_ON_EMPTY(MSG_FORGET, on_forget),
    TR_ON_EMPTY(MSG_SLOW, on_slow),
    TR_ON_EMPTY(MSG_SLOW_DONE, on_slow_done),
    TR_END
};

static const tr_actor_type_t counter_type = {
    .name = "counter",
    .state_size = sizeof(counter_t),
    .handlers = counter_handlers,
    .terminate = counter_terminate,
};

/* ---- printing an outcome ------------------------------------------------ */

/* Print what a tr_result_t says. Used by the continuations and by the
 * foreign thread alike: both see the same tr_result_t. */
static void print_result(const char *who, const char *what, const tr_result_t *r) {
    printf("  [%s] %-26s -> %s: ", who, what, tr_err_name(r->status));
    switch (r->status) {
    case TR_OK: {
        int64_t v = 0;
        if (r->len == sizeof v)
            memcpy(&v, r->data, sizeof v);
        printf("count = %" PRId64 "\n", v);
        break;
    }
    case TR_EREPLY:
        printf("%s; application error %d (%s)\n", tr_strerror(r->status), r->error,
               r->detail ? r->detail : "no detail");
        break;
    case TR_EDROPPED: {
        const char *reason = tr_drop_reason_str(r->drop_reason);
        int extra = r->detail && strcmp(r->detail, reason) != 0;
        printf("%s; reason: %s%s%s\n", tr_strerror(r->status), reason, extra ? " - " : "",
               extra ? r->detail : "");
        break;
    }
    default: /* TR_ETIMEDOUT, TR_EDEAD, TR_EFULL, TR_ENOHANDLER, TR_ESTOPPED */
        printf("%s\n", tr_strerror(r->status));
        break;
    }
}

static int unexpected; /* outcomes that differ from the script's expectation */

static void check(const char *what, int got, int want) {
    if (got != want) {
        printf("  !! %s: expected %s, got %s\n", what, tr_err_name(want), tr_err_name(got));
        unexpected++;
    }
}

/* ---- the foreign thread ------------------------------------------------- */

typedef struct foreign_s {
    tr_runtime_t *rt;
    tr_ref_t counter;
    tr_ref_t client;
} foreign_t;

static foreign_t foreign;
static pthread_t foreign_thread;
static int foreign_started;

enum { MSG_START = TR_MSG_USER, MSG_THREAD_DONE, MSG_FINISH };

static void *foreign_main(void *arg) {
    foreign_t *f = arg;
    tr_result_t r;
    int64_t ten = 10, minus_one = -1;

    /* tr_call_sync blocks this thread (never a scheduler thread) until the
     * channel resolves or the timeout passes. *out is always initialised, so
     * tr_result_release is always safe. */
    int rc = tr_call_sync(f->rt, f->counter, MSG_INCR, &ten, sizeof ten, &r, 1000);
    if (rc == 0) {
        print_result("thread", "sync INCR 10", &r);
        check("sync INCR 10", r.status, TR_OK);
    } else {
        printf("  [thread] tr_call_sync: %s\n", tr_strerror(rc));
        unexpected++;
    }
    tr_result_release(&r);

    rc = tr_call_sync(f->rt, f->counter, MSG_INCR, &minus_one, sizeof minus_one, &r, 1000);
    if (rc == 0) {
        print_result("thread", "sync INCR -1", &r);
        check("sync INCR -1", r.status, TR_EREPLY);
    } else {
        printf("  [thread] tr_call_sync: %s\n", tr_strerror(rc));
        unexpected++;
    }
    tr_result_release(&r);

    rc = tr_call_sync(f->rt, f->counter, MSG_GET, NULL, 0, &r, 1000);
    if (rc == 0) {
        print_result("thread", "sync GET", &r);
        check("sync GET", r.status, TR_OK);
    } else {
        printf("  [thread] tr_call_sync: %s\n", tr_strerror(rc));
        unexpected++;
    }
    tr_result_release(&r);

    /* Tell the client we are done: a one-way send from a foreign thread goes
     * through the scheduler's MPSC inbox and wakes the loop with ev_async. */
    rc = tr_runtime_send(f->rt, f->client, MSG_THREAD_DONE, NULL, 0);
    if (rc != 0) {
        printf("  [thread] tr_runtime_send: %s\n", tr_strerror(rc));
        unexpected++;
        tr_runtime_shutdown(f->rt); /* do not leave the loop running forever */
    }
    return NULL;
}

/* ---- the client --------------------------------------------------------- */

typedef struct client_args_s {
    tr_ref_t counter; /* the live server */
    tr_ref_t gone;    /* an actor that has already stopped */
} client_args_t;

typedef struct client_s {
    client_args_t refs;
    size_t step;
} client_t;

/* The script: one call after the other, each started from the previous
 * call's continuation. */
typedef struct step_s {
    const char *what;
    int type;
    int has_arg;
    int64_t arg;
    uint32_t timeout_ms;
    int to_gone; /* call the stopped actor */
    int expect;  /* expected tr_call return (if nonzero) or result status */
} step_t;

static const step_t steps[] = {
    {"INCR 5", MSG_INCR, 1, 5, 1000, 0, TR_OK},
    {"INCR 2", MSG_INCR, 1, 2, 1000, 0, TR_OK},
    {"INCR -3 (refused)", MSG_INCR, 1, -3, 1000, 0, TR_EREPLY},
    {"FORGET (no reply)", MSG_FORGET, 0, 0, 1000, 0, TR_EDROPPED},
    {"SLOW, timeout 50 ms", MSG_SLOW, 0, 0, 50, 0, TR_ETIMEDOUT},
    {"GET", MSG_GET, 0, 0, 1000, 0, TR_OK},
    {"GET on a stopped actor", MSG_GET, 0, 0, 1000, 1, TR_EDEAD},
};
#define NSTEPS (sizeof steps / sizeof steps[0])

static void run_steps(tr_ctx_t *ctx, client_t *self);

/* The continuation: runs exactly once per successful tr_call, as a message on
 * the client's own scheduler thread, never concurrently with its handlers,
 * so it may touch the client's state freely. */
static void on_result(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie) {
    client_t *self = state;
    const step_t *s = &steps[(uintptr_t)cookie];
    print_result("client", s->what, r);
    check(s->what, r->status, s->expect);
    self->step++;
    run_steps(ctx, self);
}

static void run_steps(tr_ctx_t *ctx, client_t *self) {
    while (self->step < NSTEPS) {
        const step_t *s = &steps[self->step];
        tr_ref_t to = s->to_gone ? self->refs.gone : self->refs.counter;
        int rc = tr_call(ctx, to, s->type, s->has_arg ? &s->arg : NULL,
                         s->has_arg ? sizeof s->arg : 0, on_result,
                         (void *)(uintptr_t)self->step, s->timeout_ms);
        if (rc == 0)
            return; /* on_result will run exactly once and continue */
        /* Not sent: nothing was created and on_result will not run. */
        printf("  [client] %-26s -> tr_call returned %s: %s\n", s->what, tr_err_name(rc),
               tr_strerror(rc));
        check(s->what, rc, s->expect);
        self->step++;
    }

    printf("\nA foreign thread calls the counter with tr_call_sync (blocking):\n");
    foreign.rt = tr_ctx_runtime(ctx);
    foreign.counter = self->refs.counter;
    foreign.client = tr_self(ctx);
    if (pthread_create(&foreign_thread, NULL, foreign_main, &foreign) != 0) {
        printf("  pthread_create failed\n");
        unexpected++;
        tr_runtime_shutdown(tr_ctx_runtime(ctx));
        return;
    }
    foreign_started = 1;
}

static void on_start(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    printf("\nThe client calls the counter with tr_call and a continuation:\n");
    run_steps(ctx, state);
}

static void on_thread_done(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    /* Give the counter's kept MSG_SLOW answer time to arrive (it is due 150 ms
     * after the request) so the late reply shows in the stats. */
    if (tr_timer_start(ctx, 200, 0, MSG_FINISH, NULL, 0) < 0)
        tr_runtime_shutdown(tr_ctx_runtime(ctx));
}

static void on_finish(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    printf("\nOrdered shutdown (tr_runtime_shutdown): newest actor first.\n");
    tr_runtime_shutdown(tr_ctx_runtime(ctx));
}

static int client_init(tr_ctx_t *ctx, void *state, const void *args) {
    client_t *self = state;
    self->refs = *(const client_args_t *)args; /* args are borrowed: copy */
    return 0;
}

static const tr_handler_t client_handlers[] = {
    TR_ON_EMPTY(MSG_START, on_start),
    TR_ON_EMPTY(MSG_THREAD_DONE, on_thread_done),
    TR_ON_EMPTY(MSG_FINISH, on_finish),
    TR_END
};

static const tr_actor_type_t client_type = {
    .name = "client",
    .state_size = sizeof(client_t),
    .handlers = client_handlers,
    .init = client_init,
};

/* ---- main --------------------------------------------------------------- */

static void die(const char *what, int rc) {
    fprintf(stderr, "request_reply: %s: %s (%s)\n", what, tr_strerror(rc), tr_err_name(rc));
    exit(1);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep our lines in order with the runtime's log */
    tr_runtime_opts_t opts = {0};
    opts.handle_signals = 1;
    tr_runtime_t *rt;
    int rc = tr_runtime_create(&opts, &rt);
    if (rc != 0)
        die("tr_runtime_create", rc);

    printf("troupe %s request/reply example\n\n", TROUPE_VERSION);

    /* An actor that stops before anyone calls it: its ref goes stale. */
    printf("A counter is spawned and stopped at once (its ref goes stale):\n");
    client_args_t args;
    if ((rc = tr_spawn(rt, &counter_type, NULL, &args.gone)) != 0)
        die("tr_spawn(gone)", rc);
    if ((rc = tr_stop(rt, args.gone)) != 0)
        die("tr_stop", rc);
    tr_runtime_run_until_idle(rt); /* let the stop complete */

    tr_spawn_opts_t so = {0};
    so.name = "counter";
    if ((rc = tr_spawn(rt, &counter_type, &so, &args.counter)) != 0)
        die("tr_spawn(counter)", rc);
    tr_ref_t client;
    so.name = "client";
    so.args = &args;
    if ((rc = tr_spawn(rt, &client_type, &so, &client)) != 0)
        die("tr_spawn(client)", rc);

    if ((rc = tr_runtime_send(rt, client, MSG_START, NULL, 0)) != 0)
        die("tr_runtime_send", rc);
    if ((rc = tr_runtime_run(rt)) != 0)
        die("tr_runtime_run", rc);
    if (foreign_started)
        pthread_join(foreign_thread, NULL);

    tr_stats_t st;
    tr_runtime_stats(rt, &st);
    uint64_t resolved = st.chan_ok + st.chan_error + st.chan_timeout + st.chan_dropped +
                        st.chan_undelivered + st.chan_cancelled;
    printf("\nReply channels (tr_runtime_stats): every channel resolves exactly once\n");
    printf("  created %" PRIu64 " = ok %" PRIu64 " + error %" PRIu64 " + timeout %" PRIu64
           " + dropped %" PRIu64 " + undelivered %" PRIu64 " + cancelled %" PRIu64
           "  (pending %" PRIu64 ")\n",
           st.chan_created, st.chan_ok, st.chan_error, st.chan_timeout, st.chan_dropped,
           st.chan_undelivered, st.chan_cancelled, st.chan_pending);
    printf("  late replies %" PRIu64 ", sends rejected %" PRIu64 ", dead letters %" PRIu64
           "\n", st.late_replies, st.sends_rejected, st.dead_letters);

    int ok = unexpected == 0 && st.chan_created == resolved && st.chan_pending == 0;
    if (st.late_replies != 1) {
        printf("  !! expected exactly 1 late reply\n");
        ok = 0;
    }
    printf("\n%s\n", ok ? "all outcomes as expected" : "SOME OUTCOMES WERE UNEXPECTED");
    tr_runtime_destroy(rt);
    return ok ? 0 : 1;
}
