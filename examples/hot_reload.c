/* examples/hot_reload.c: live configuration. Edit the INI file, send SIGHUP,
 * and a running actor changes what it does, without a restart.
 *
 *   build/release/examples/hot_reload [FILE] [--ticks N]
 *
 * FILE defaults to examples/hot_reload.ini in the source tree; --ticks N
 * shuts down after N ticks (for tests). Ctrl-C or SIGTERM shuts down too,
 * in order, and the program exits 0.
 *
 * A root supervisor "hot_reload" (one_for_one) starts one worker,
 * "hot_reload/ticker", which prints one line per tick:
 *
 *   tick 3 (generation 1): hello
 *
 * The ticker reads its settings from [hot_reload/ticker], then [ticker]:
 *
 *   interval = 1s      time between ticks, 10ms to 1h
 *   message = hello    the text of each tick, not empty
 *
 * Things to try while it runs (it prints its PID):
 *  - change message and interval, then kill -HUP PID: the reload commits
 *    (the runtime logs it), the ticker's on_config restarts its timer, and
 *    the next tick prints the new message with generation 2;
 *  - set interval = 5ms, interval = 5xs or an empty message, then
 *    kill -HUP PID: the ticker's validate_config refuses the new config, the
 *    runtime logs the rejection with file:line and reason, and the ticker
 *    goes on with what it had (same generation);
 *  - set log_level = loud in [runtime]: the runtime itself rejects it.
 * See docs/configuration.md. */
#include <troupe/troupe.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef HOT_RELOAD_INI
#define HOT_RELOAD_INI "hot_reload.ini" /* the build sets the source tree's copy */
#endif

enum { MSG_TICK = TR_MSG_USER };

#define INTERVAL_MIN_MS 10u
#define INTERVAL_MAX_MS (60u * 60u * 1000u) /* fits tr_timer_start's uint32_t */
#define MESSAGE_MAX 200                      /* a line has at most 199 bytes */

/* ---- the ticker --------------------------------------------------------- */

typedef struct ticker_settings_s {
    uint64_t interval_ms;
    char message[MESSAGE_MAX];
} ticker_settings_t;

typedef struct ticker_s {
    ticker_settings_t settings; /* what this incarnation runs */
    int64_t timer;              /* the repeating tick timer */
    uint64_t ticks;             /* ticks printed by this incarnation */
    uint64_t max_ticks;         /* --ticks: shut down after this many; 0: never */
} ticker_t;

/* Read the ticker's settings from its view. validate_config, init and
 * on_config all call it, so what was validated is what gets applied.
 * The view's strings are borrowed from the snapshot: the message is copied. */
static int ticker_read(const tr_config_section_t *sec, ticker_settings_t *out,
                       tr_config_error_t *err) {
    /* The range check is the getter's: "5ms" and "5xs" are refused here. */
    int rc = tr_config_duration(sec, "interval", 1000, INTERVAL_MIN_MS, INTERVAL_MAX_MS,
                                &out->interval_ms, err);
    if (rc != 0)
        return rc;
    const char *message;
    if ((rc = tr_config_str(sec, "message", "hello", &message, err)) != 0)
        return rc;
    /* A rule no getter can express: refuse it ourselves, with file:line. */
    if (message[0] == '\0')
        return tr_config_refuse(err, sec, "message", "must not be empty");
    snprintf(out->message, sizeof out->message, "%s", message);
    return 0;
}

/* Step 3 of a reload, and before every start of a ticker. No actor, no
 * state: it may run while the ticker is not running (waiting for a restart). */
static int ticker_validate_config(const tr_config_section_t *sec, tr_config_error_t *err) {
    ticker_settings_t settings;
    return ticker_read(sec, &settings, err);
}

static int start_timer(tr_ctx_t *ctx, ticker_t *self) {
    uint32_t ms = (uint32_t)self->settings.interval_ms; /* at most INTERVAL_MAX_MS */
    self->timer = tr_timer_start(ctx, ms, ms, MSG_TICK, NULL, 0);
    return self->timer > 0 ? 0 : (int)self->timer;
}

/* Runs at every (re)start: the settings come from the snapshot current now,
 * so a ticker restarted during a reload starts with the new config. */
static int ticker_init(tr_ctx_t *ctx, void *state, const void *args) {
    ticker_t *self = state;
    memcpy(&self->max_ticks, args, sizeof self->max_ticks); /* the spec's args */

    tr_config_section_t sec;
    tr_config_error_t err;
    char why[1024];
    if (tr_ctx_config(ctx, &sec) != 0)
        return 1;
    if (ticker_read(&sec, &self->settings, &err) != 0) {
        /* Not reached in practice: validate_config accepted this view. */
        fprintf(stderr, "hot_reload: %s\n", tr_config_error_str(&err, why, sizeof why));
        return 1;
    }
    if (start_timer(ctx, self) != 0)
        return 1;
    printf("[ticker] started with generation %" PRIu64 ": every %" PRIu64 " ms, \"%s\"\n",
           tr_ctx_config_generation(ctx), self->settings.interval_ms, self->settings.message);
    fflush(stdout);
    return 0;
}

/* A committed reload: the runtime has already applied mailbox_capacity and
 * overflow, if the view sets them. This cannot refuse; validate_config did
 * the checking. Apply what changed. */
static void ticker_on_config(tr_ctx_t *ctx, void *state, const tr_config_section_t *sec) {
    ticker_t *self = state;
    ticker_settings_t next;
    tr_config_error_t err;
    if (ticker_read(sec, &next, &err) != 0)
        return; /* cannot happen: validate_config accepted this view */

    printf("[ticker] config generation %" PRIu64 ": every %" PRIu64 " ms, \"%s\"\n",
           tr_ctx_config_generation(ctx), next.interval_ms, next.message);
    fflush(stdout);

    int restart = next.interval_ms != self->settings.interval_ms;
    self->settings = next;
    if (!restart)
        return; /* leave the timer alone: restarting it would shift the ticks */
    tr_timer_cancel(ctx, self->timer);
    int rc = start_timer(ctx, self);
    if (rc != 0) /* out of memory: let the supervisor start us afresh */
        tr_panic(ctx, "cannot restart the tick timer: %s", tr_strerror(rc));
}

static void on_tick(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    ticker_t *self = state;
    (void)msg; /* MSG_TICK has no payload */
    self->ticks++;
    printf("tick %" PRIu64 " (generation %" PRIu64 "): %s\n", self->ticks,
           tr_ctx_config_generation(ctx), self->settings.message);
    fflush(stdout); /* stdout may be a file (the test reads it) */
    if (self->max_ticks && self->ticks == self->max_ticks)
        tr_runtime_shutdown(tr_ctx_runtime(ctx));
}

static const tr_handler_t ticker_handlers[] = {
    TR_ON_EMPTY(MSG_TICK, on_tick),
    TR_END
};

static const tr_actor_type_t ticker_type = {
    .name = "ticker",
    .state_size = sizeof(ticker_t),
    .handlers = ticker_handlers,
    .init = ticker_init,
    .validate_config = ticker_validate_config,
    .on_config = ticker_on_config,
};

/* ---- main --------------------------------------------------------------- */

static void usage(const char *argv0) {
    fprintf(stderr, "usage: %s [FILE] [--ticks N]\n  FILE defaults to %s\n", argv0,
            HOT_RELOAD_INI);
    exit(2);
}

static int fail(const char *what, int rc) {
    fprintf(stderr, "hot_reload: %s: %s (%s)\n", what, tr_strerror(rc), tr_err_name(rc));
    return 1;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep our lines in order with the runtime's log */

    const char *path = NULL;
    uint64_t max_ticks = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--ticks") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(argv[++i], &end, 10);
            if (errno != 0 || *end != '\0' || end == argv[i] || argv[i][0] == '-' || n == 0)
                usage(argv[0]);
            max_ticks = n;
        } else if (argv[i][0] != '-' && !path) {
            path = argv[i];
        } else {
            usage(argv[0]);
        }
    }
    if (!path)
        path = HOT_RELOAD_INI;

    /* Load the file ourselves, to say what is wrong with it our own way. */
    tr_config_t *cfg;
    tr_config_error_t err;
    char why[1024];
    int rc = tr_config_load(path, &cfg, &err);
    if (rc != 0) {
        fprintf(stderr, "hot_reload: %s\n", tr_config_error_str(&err, why, sizeof why));
        return 2;
    }

    tr_runtime_opts_t opts = {0};
    opts.config = cfg;          /* the initial config: the runtime takes a reference */
    opts.config_path = path;    /* what a reload re-reads (SIGHUP, the default signal) */
    opts.handle_signals = 1;    /* SIGINT, SIGTERM: ordered shutdown */
    tr_runtime_t *rt;
    rc = tr_runtime_create(&opts, &rt);
    tr_config_release(cfg);     /* ours; the runtime keeps its own */
    if (rc == TR_ECONFIG) {     /* its [runtime] keys, say: logged with file:line */
        fprintf(stderr, "hot_reload: the runtime rejected %s\n", path);
        return 2;
    }
    if (rc != 0)
        return fail("tr_runtime_create", rc);

    printf("troupe %s hot reload example, pid %ld, config %s\n", TROUPE_VERSION,
           (long)getpid(), path);
    printf("edit %s, then: kill -HUP %ld\n", path, (long)getpid());
    fflush(stdout);

    /* The spec is copied by tr_sup_start, args included (args_len > 0). */
    tr_child_spec_t children[] = {
        {.name = "ticker", .type = &ticker_type, .restart = TR_PERMANENT,
         .args = &max_ticks, .args_len = sizeof max_ticks},
    };
    tr_sup_spec_t spec = {
        .strategy = TR_ONE_FOR_ONE,
        .intensity = 3,       /* [hot_reload] intensity = ... overrides these */
        .period_ms = 10000,
        .children = children,
        .nchildren = sizeof children / sizeof children[0],
    };
    if ((rc = tr_sup_start(rt, "hot_reload", &spec, NULL)) != 0) {
        /* TR_EINIT: the ticker's init, or its validate_config, refused (logged) */
        tr_runtime_destroy(rt);
        return fail("tr_sup_start", rc);
    }

    rc = tr_runtime_run(rt);

    tr_config_status_t st;
    if (tr_runtime_config_status(rt, &st) == 0) {
        printf("config generation %" PRIu64 ": %" PRIu64 " reload(s) committed, %" PRIu64
               " rejected\n", st.generation, st.reloads_ok, st.reloads_failed);
        if (st.reloads_failed > 0)
            printf("last rejection: %s\n",
                   tr_config_error_str(&st.last_error, why, sizeof why));
    }
    tr_runtime_destroy(rt);

    if (rc != 0) {
        /* TR_EESCALATED: the supervisor gave up on the ticker. */
        fprintf(stderr, "hot_reload: tr_runtime_run: %s\n", tr_strerror(rc));
        return 1;
    }
    return 0;
}
