/* examples/supervised.c: a worker panics on bad input and its supervisor
 * restarts it.
 *
 *   build/release/examples/supervised          the normal run (exits 0)
 *   build/release/examples/supervised storm    every job is bad: the supervisor
 *                                              gives up (exits non-zero)
 *
 * A root supervisor "app" (one_for_one, at most 5 restarts in 10 s, restart
 * backoff from 10 ms doubling up to 100 ms) starts two children in order:
 *
 *   app/worker  answers MSG_JOB calls with the sum 1 + 2 + ... + n; an input
 *               that is a multiple of 3 is "bad", and the worker gives up on
 *               it with tr_panic
 *   app/client  sends jobs 1..7 with tr_call, one after the other, finding
 *               the worker by name (tr_whereis) before each job
 *
 * What to watch for in the output:
 *  - the panic hook prints the scene of the first panic (the block that the
 *    default hook would write to stderr), then one line per later panic;
 *  - the panicked worker's owned scratch buffer is released (tr_own), then
 *    its terminate runs with "panic";
 *  - the client's call resolves TR_EDROPPED, reason TR_DROP_PANICKED, with the
 *    panic message as detail, and the client's monitor gets a DOWN;
 *  - while the supervisor waits out the backoff the name is unregistered;
 *    then "app/worker" names a new incarnation with fresh state, while the
 *    old ref stays dead (TR_EDEAD): hold names, not refs, across restarts;
 *  - the restart history from tr_sup_which_children, then an ordered
 *    shutdown in reverse start order (client, then worker).
 *
 * With "storm", every job panics: after the 6th panic in 10 s the restart
 * intensity is exceeded, "app" stops its children and gives up, the runtime
 * shuts down and tr_runtime_run returns TR_EESCALATED.
 * See docs/supervision.md. */
#include <troupe/troupe.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MSG_JOB = TR_MSG_USER, MSG_NEXT };

#define NJOBS 7
#define JOB_GAP_MS 5      /* between two jobs, and between two name look-ups */
#define SCRATCH_BYTES 256

static int storm;         /* "storm" on the command line: every input is bad */
static unsigned starts;   /* worker inits so far: the incarnation being started */

/* ---- the worker --------------------------------------------------------- */

typedef struct worker_s {
    unsigned incarnation; /* this example's own count, see worker_init */
    char *scratch;        /* owned through tr_own: released even on panic */
    uint32_t handled;     /* jobs handled by this incarnation: state is fresh
                             after a restart */
} worker_t;

typedef struct job_reply_s {
    int64_t sum;
    uint32_t handled;     /* jobs this incarnation has handled, this one included */
    uint32_t incarnation;
} job_reply_t;

static int is_bad(int64_t n) { return storm || n % 3 == 0; }

static void release_scratch(void *ptr) {
    printf("  [worker] scratch buffer released (owned with tr_own)\n");
    free(ptr);
}

static void on_job(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    worker_t *self = state;
    int64_t n;
    memcpy(&n, msg->data, sizeof n); /* TR_ON(.., int64_t): size checked */

    /* Work in the owned buffer, not in a fresh malloc: tr_panic unwinds with
     * siglongjmp, so memory this handler allocated and did not hand to the
     * runtime would leak. */
    snprintf(self->scratch, SCRATCH_BYTES, "job %" PRId64, n);
    if (is_bad(n))
        tr_panic(ctx, "bad input %" PRId64 " (%s)", n, self->scratch);
    /* Not reached after tr_panic. */

    self->handled++;
    job_reply_t rep = {n * (n + 1) / 2, self->handled, self->incarnation};
    tr_reply(ctx, msg, &rep, sizeof rep);
}

/* Runs at every (re)start, inside tr_sup_start for the first one and inside
 * the supervisor's restart for the others. */
static int worker_init(tr_ctx_t *ctx, void *state, const void *args) {
    worker_t *self = state;
    /* The runtime numbers incarnations too (tr_child_info_t.incarnation, the
     * panic scene); this count is only for the printed lines. */
    self->incarnation = ++starts;
    self->scratch = malloc(SCRATCH_BYTES);
    if (!self->scratch)
        return 1; /* refuse: the start (or restart) fails with TR_EINIT */
    if (tr_own(ctx, self->scratch, release_scratch) != 0)
        return 1; /* TR_ENOMEM: tr_own has already freed the buffer */
    tr_ref_t me = tr_self(ctx);
    printf("  [worker] incarnation %u started as %" PRIu32 ".%" PRIu32 "\n",
           self->incarnation, me.slot, me.gen);
    return 0;
}

/* After a panic, terminate runs after the owned resources were released:
 * self->scratch is already freed here and must not be touched. */
static void worker_terminate(tr_ctx_t *ctx, void *state, tr_stop_reason_t reason) {
    worker_t *self = state;
    printf("  [worker] incarnation %u terminate: %s (handled %" PRIu32 " jobs)\n",
           self->incarnation, tr_stop_reason_str(reason), self->handled);
}

static const tr_handler_t worker_handlers[] = {
    TR_ON(MSG_JOB, on_job, int64_t),
    TR_END
};

static const tr_actor_type_t worker_type = {
    .name = "worker",
    .state_size = sizeof(worker_t),
    .handlers = worker_handlers,
    .init = worker_init,
    .terminate = worker_terminate,
};

/* ---- the client --------------------------------------------------------- */

typedef struct client_s {
    int64_t job;          /* the next job to send, 1..NJOBS */
    tr_ref_t worker;      /* the incarnation the name resolved to last time */
    tr_ref_t stale;       /* an incarnation that panicked */
    int waiting;          /* already said that the name is not registered */
} client_t;

static int unexpected; /* outcomes that differ from what the example expects */

static void expect(int ok, const char *what) {
    if (!ok) {
        printf("  !! unexpected: %s\n", what);
        unexpected++;
    }
}

static void next_after(tr_ctx_t *ctx, uint32_t ms) {
    if (tr_timer_start(ctx, ms, 0, MSG_NEXT, NULL, 0) < 0)
        tr_runtime_shutdown(tr_ctx_runtime(ctx)); /* do not hang */
}

static void print_children(tr_runtime_t *rt) {
    tr_ref_t app;
    tr_child_info_t info[4];
    if (tr_whereis(rt, "app", &app) != 0)
        return;
    int64_t n = tr_sup_which_children(rt, app, info, 4);
    if (n < 0) {
        printf("  tr_sup_which_children: %s\n", tr_strerror((int)n));
        unexpected++;
        return;
    }
    printf("\nChildren of \"app\" (tr_sup_which_children), in start order:\n");
    for (int64_t i = 0; i < n && i < 4; i++) {
        const tr_child_info_t *c = &info[i];
        printf("  %-11s %-8s incarnation %" PRIu32 ", %" PRIu32 " restart(s)\n", c->path,
               c->type_name, c->incarnation, c->restarts);
        for (size_t h = 0; h < c->nhistory; h++)
            printf("      at %" PRIu64 " ms: %s (%s)\n", c->history[h].time_ms,
                   tr_stop_reason_str(c->history[h].reason), c->history[h].detail);
        if (strcmp(c->name, "worker") == 0)
            expect(c->restarts == 2 && c->nhistory == 2 && c->incarnation == 3,
                   "the worker was restarted twice");
    }
}

static void on_job_result(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie) {
    client_t *self = state;
    int64_t n = (int64_t)(intptr_t)cookie;

    if (r->status == TR_OK) {
        job_reply_t rep;
        memcpy(&rep, r->data, sizeof rep);
        printf("  [client] job %" PRId64 " -> sum %" PRId64 " (incarnation %" PRIu32
               ", its job #%" PRIu32 ")\n", n, rep.sum, rep.incarnation, rep.handled);
        expect(!is_bad(n), "a bad job was answered");
    } else if (r->status == TR_EDROPPED) {
        printf("  [client] job %" PRId64 " -> %s, reason \"%s\"\n"
               "           detail: %s\n", n, tr_err_name(r->status),
               tr_drop_reason_str(r->drop_reason), r->detail ? r->detail : "(none)");
        expect(is_bad(n) && r->drop_reason == TR_DROP_PANICKED && r->detail &&
                   strncmp(r->detail, "panicked at ", 12) == 0 && strstr(r->detail, "bad input"),
               "a panicked call resolves TR_EDROPPED / TR_DROP_PANICKED with the message");
        self->stale = r->responder; /* the incarnation that panicked */
    } else {
        printf("  [client] job %" PRId64 " -> %s: %s\n", n, tr_err_name(r->status),
               tr_strerror(r->status));
        expect(0, "a job ended neither with a reply nor with a panic");
    }

    if (++self->job <= NJOBS) {
        next_after(ctx, JOB_GAP_MS);
        return;
    }
    print_children(tr_ctx_runtime(ctx));
    printf("\nThe client calls tr_runtime_shutdown: \"app\" stops its children in reverse "
           "start order.\n");
    tr_runtime_shutdown(tr_ctx_runtime(ctx));
}

static void on_next(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    client_t *self = state;
    tr_runtime_t *rt = tr_ctx_runtime(ctx);
    tr_ref_t w;

    /* Resolve the name before every job: it follows restarts, a ref does not. */
    if (tr_whereis(rt, "app/worker", &w) != 0) {
        if (!self->waiting)
            printf("  [client] \"app/worker\" is not registered: the supervisor is "
                   "waiting out the restart backoff\n");
        self->waiting = 1;
        next_after(ctx, JOB_GAP_MS);
        return;
    }
    self->waiting = 0;

    if (!tr_ref_eq(w, self->worker)) {
        if (tr_ref_valid(self->worker))
            printf("  [client] \"app/worker\" now names %" PRIu32 ".%" PRIu32
                   ", a new incarnation\n", w.slot, w.gen);
        self->worker = w;
        /* Watch this incarnation: DOWN arrives on the system lane when it stops. */
        int64_t mon = tr_monitor(ctx, w);
        expect(mon > 0, "tr_monitor succeeds");
    }

    if (tr_ref_valid(self->stale)) {
        /* The panicked incarnation's ref stays dead; the call is refused at
         * once and no continuation is created. */
        int rc = tr_call(ctx, self->stale, MSG_JOB, &self->job, sizeof self->job,
                         on_job_result, NULL, 1000);
        printf("  [client] a call through the old ref %" PRIu32 ".%" PRIu32 " -> %s\n",
               self->stale.slot, self->stale.gen, tr_err_name(rc));
        expect(rc == TR_EDEAD, "a ref does not follow a restart");
        self->stale = TR_REF_NONE;
    }

    int rc = tr_call(ctx, w, MSG_JOB, &self->job, sizeof self->job, on_job_result,
                     (void *)(intptr_t)self->job, 1000 /* ms */);
    if (rc != 0) {
        printf("  [client] tr_call: %s\n", tr_strerror(rc));
        unexpected++;
        tr_runtime_shutdown(rt);
    }
}

static void on_down(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    tr_down_t down;
    memcpy(&down, msg->data, sizeof down); /* down.detail: valid during this handler */
    printf("  [client] DOWN: %" PRIu32 ".%" PRIu32 " stopped: %s\n", down.actor.slot,
           down.actor.gen, tr_stop_reason_str(down.reason));
}

static int client_init(tr_ctx_t *ctx, void *state, const void *args) {
    client_t *self = state;
    self->job = 1;
    /* The first job goes out on the next loop pass, once tr_sup_start has
     * returned and tr_runtime_run is running. */
    return tr_timer_start(ctx, 0, 0, MSG_NEXT, NULL, 0) > 0 ? 0 : 1;
}

static void client_terminate(tr_ctx_t *ctx, void *state, tr_stop_reason_t reason) {
    printf("  [client] terminate: %s\n", tr_stop_reason_str(reason));
}

static const tr_handler_t client_handlers[] = {
    TR_ON(TR_MSG_DOWN, on_down, tr_down_t),
    TR_ON_EMPTY(MSG_NEXT, on_next),
    TR_END
};

static const tr_actor_type_t client_type = {
    .name = "client",
    .state_size = sizeof(client_t),
    .handlers = client_handlers,
    .init = client_init,
    .terminate = client_terminate,
};

/* ---- the panic hook ----------------------------------------------------- */

/* Runs on the scheduler thread after the handler has been unwound, before the
 * owned resources are released. It may not call into the runtime except
 * tr_panic_scene_format. The full scene once, then one line per panic. */
static void panic_hook(void *arg, const tr_panic_scene_t *scene) {
    int *shown = arg;
    if (!*shown) {
        char block[8192];
        size_t len = tr_panic_scene_format(scene, block, sizeof block);
        printf("  [hook] the first panic, as the default hook would print it:\n%s%s", block,
               len > 0 && len < sizeof block && block[len - 1] == '\n' ? "" : "\n");
        *shown = 1;
        return;
    }
    printf("  [hook] %s (%" PRIu32 ".%" PRIu32 ", incarnation %" PRIu32
           ") panicked handling %s: %s\n", scene->path, scene->actor.slot, scene->actor.gen,
           scene->incarnation, scene->msg_name, scene->reason);
}

/* ---- main --------------------------------------------------------------- */

static void die(const char *what, int rc) {
    fprintf(stderr, "supervised: %s: %s (%s)\n", what, tr_strerror(rc), tr_err_name(rc));
    exit(1);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep our lines in order with the runtime's log */
    if (argc > 2 || (argc == 2 && strcmp(argv[1], "storm") != 0)) {
        fprintf(stderr, "usage: %s [storm]\n", argv[0]);
        return 2;
    }
    storm = argc == 2;

    tr_runtime_opts_t opts = {0};
    opts.handle_signals = 1;                 /* Ctrl-C: ordered shutdown */
    opts.fault_isolation = TR_FAULT_REPORT;  /* the default, said out loud: a
                                                SIGSEGV in a handler is reported,
                                                then the process dies */
    tr_runtime_t *rt;
    int rc = tr_runtime_create(&opts, &rt);
    if (rc != 0)
        die("tr_runtime_create", rc);

    static int hook_shown;
    if ((rc = tr_set_panic_hook(rt, panic_hook, &hook_shown)) != 0)
        die("tr_set_panic_hook", rc);

    printf("troupe %s supervision example%s\n\n", TROUPE_VERSION,
           storm ? " (storm: every job panics)" : "");

    /* Child specs are copied by tr_sup_start: stack memory is fine. */
    tr_child_spec_t children[] = {
        {.name = "worker", .type = &worker_type, .restart = TR_PERMANENT},
        {.name = "client", .type = &client_type, .restart = TR_TRANSIENT},
    };
    tr_sup_spec_t app_spec = {
        .strategy = TR_ONE_FOR_ONE,
        .intensity = 5,        /* more than 5 restarts ...   */
        .period_ms = 10000,    /* ... within 10 s: give up    */
        .backoff_min_ms = 10,  /* then 20, 40, 80, 100, 100 ... */
        .backoff_max_ms = 100,
        .backoff_factor = 2.0,
        .children = children,
        .nchildren = sizeof children / sizeof children[0],
    };

    printf("tr_sup_start(\"app\"): children start in order, each init inside the call:\n");
    tr_ref_t app;
    if ((rc = tr_sup_start(rt, "app", &app_spec, &app)) != 0)
        die("tr_sup_start", rc);
    printf("\nThe client sends jobs 1..%d; multiples of 3 make the worker panic:\n", NJOBS);

    rc = tr_runtime_run(rt);

    tr_stats_t st;
    tr_runtime_stats(rt, &st);
    printf("\nRuntime stats: %" PRIu64 " panics, %" PRIu64 " restarts, %" PRIu64
           " DOWN messages, %" PRIu64 " reply channels (%" PRIu64 " ok, %" PRIu64
           " dropped, %" PRIu64 " pending)\n", st.panics, st.restarts, st.downs,
           st.chan_created, st.chan_ok, st.chan_dropped, st.chan_pending);
    tr_runtime_destroy(rt);

    if (rc != 0) {
        /* TR_EESCALATED: the root supervisor gave up (the "storm" run). */
        printf("\ntr_runtime_run returned %s: %s\n", tr_err_name(rc), tr_strerror(rc));
        return 1;
    }
    expect(st.panics == 2 && st.restarts == 2, "two panics, two restarts");
    expect(st.chan_pending == 0, "every reply channel resolved");
    printf("\n%s\n", unexpected ? "SOME OUTCOMES WERE UNEXPECTED" : "all outcomes as expected");
    return unexpected ? 1 : 0;
}
