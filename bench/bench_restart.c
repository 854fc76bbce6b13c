/* bench/bench_restart.c: supervised restarts. A one_for_one supervisor
 * (intensity 65535 per 1 ms: it never gives up here) runs one permanent
 * worker. Each worker incarnation tells a driver actor it is up (from
 * init); the driver asks it to crash; it calls tr_panic; the supervisor
 * restarts it; 100,000 restarts in a row (argv[1] overrides). A panic is
 * the full path: unwinding, the scene (with its libunwind backtrace) for
 * the panic hook (here one that only counts, as the peers turn their crash
 * logging off), terminate, the exit signal, the restart and init.
 * Output: "restart: <restarts/s> restarts/s", then details. */
#include "bench.h"

#include <inttypes.h>
#include <string.h>

enum { MSG_UP = TR_MSG_USER, MSG_CRASH };

typedef struct driver_s {
    uint64_t ups, target;
} driver_t;

static uint64_t t_start, t_end;
static uint64_t panics_seen;

static void on_up(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    driver_t *self = state;
    if (self->ups++ == 0)
        t_start = bench_now_ns(); /* the first incarnation is not a restart */
    if (self->ups > self->target) {
        t_end = bench_now_ns();
        tr_runtime_stop(tr_ctx_runtime(ctx));
        return;
    }
    if (tr_send(ctx, msg->sender, MSG_CRASH, NULL, 0) != 0) {
        fprintf(stderr, "restart: the crash request was refused\n");
        exit(1);
    }
}

static int driver_init(tr_ctx_t *ctx, void *state, const void *args) {
    (void)ctx;
    ((driver_t *)state)->target = *(const uint64_t *)args;
    return 0;
}

static const tr_handler_t driver_handlers[] = {
    TR_ON_EMPTY(MSG_UP, on_up),
    TR_END
};

static const tr_actor_type_t driver_type = {
    .name = "driver", .state_size = sizeof(driver_t), .handlers = driver_handlers,
    .init = driver_init,
};

static void on_crash(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    (void)state;
    (void)msg;
    tr_panic(ctx, "asked to crash");
}

static int worker_init(tr_ctx_t *ctx, void *state, const void *args) {
    (void)state;
    return tr_send(ctx, *(const tr_ref_t *)args, MSG_UP, NULL, 0) == 0 ? 0 : 1;
}

static const tr_handler_t worker_handlers[] = {
    TR_ON_EMPTY(MSG_CRASH, on_crash),
    TR_END
};

static const tr_actor_type_t worker_type = {
    .name = "worker", .state_size = 8, .handlers = worker_handlers, .init = worker_init,
};

static void count_panic(void *arg, const tr_panic_scene_t *scene) {
    (void)arg;
    (void)scene;
    panics_seen++;
}

int main(int argc, char **argv) {
    uint64_t n = bench_arg_count(argc, argv, 100000);
    tr_runtime_opts_t o = {0};
    o.log_level = TR_LOG_ERROR; /* a restart is logged at notice level */
    tr_runtime_t *rt;
    int rc = tr_runtime_create(&o, &rt);
    if (rc)
        bench_die("restart", "tr_runtime_create", rc);
    tr_set_panic_hook(rt, count_panic, NULL);

    tr_ref_t driver;
    tr_spawn_opts_t so = {0};
    so.args = &n;
    if ((rc = tr_spawn(rt, &driver_type, &so, &driver)) != 0)
        bench_die("restart", "tr_spawn", rc);
    tr_child_spec_t child = {.name = "worker", .type = &worker_type, .restart = TR_PERMANENT,
                             .args = &driver, .args_len = sizeof driver};
    tr_sup_spec_t spec = {.strategy = TR_ONE_FOR_ONE, .intensity = 65535, .period_ms = 1,
                          .children = &child, .nchildren = 1};
    if ((rc = tr_sup_start(rt, "bench", &spec, NULL)) != 0)
        bench_die("restart", "tr_sup_start", rc);
    if ((rc = tr_runtime_run(rt)) != 0)
        bench_die("restart", "tr_runtime_run", rc);

    tr_stats_t st;
    tr_runtime_stats(rt, &st);
    if (st.restarts != n || panics_seen != n) {
        fprintf(stderr, "restart: %" PRIu64 " restarts, %" PRIu64 " panics (want %" PRIu64 ")\n",
                st.restarts, panics_seen, n);
        return 1;
    }
    double secs = (double)(t_end - t_start) / 1e9;
    printf("restart: %.0f restarts/s\n", (double)n / secs);
    printf("  %" PRIu64 " panics and restarts, %.3f s, %.2f us each (scene with backtrace, "
           "terminate, exit signal, restart, init)\n",
           n, secs, secs * 1e6 / (double)n);
    tr_runtime_destroy(rt);
    return 0;
}
