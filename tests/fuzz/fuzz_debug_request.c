/* tests/fuzz/fuzz_debug_request.c: libFuzzer target for the debug
 * protocol's request handling. Each input is one request line, run through
 * tr_debug_request against a live runtime (a supervision tree, a registered
 * actor, a config, a deadlock and a stall), exactly as a socket client's
 * line would be: parser, command and JSON writer. Every answer must be one
 * JSON object with "v" 1 and "ok"; anything else (or a sanitizer report) is
 * a finding. Built when the compiler is clang (TROUPE_FUZZ=ON, see the
 * Makefile's test-fuzz); `make test` runs it briefly on tests/fuzz/corpus. */
#include <troupe/troupe.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

enum { MSG_ASK = TR_MSG_USER, MSG_KICK };

typedef struct w_s {
    tr_reply_t *held;
    int n;
} w_t;

static void w_ask(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    w_t *w = state;
    if (!w->held) w->held = tr_reply_keep(ctx, msg); /* the stall: never answered */
}

static void w_kick(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    (void)state;
    const tr_ref_t *to = msg->data;
    tr_call(ctx, *to, MSG_ASK, NULL, 0, NULL, NULL, 0);
}

static void w_inspect(const void *state, tr_inspect_t *w) {
    const w_t *s = state;
    tr_inspect_add(w, "held", "%s", s->held ? "yes" : "no");
    tr_inspect_add(w, "n", "%d", s->n);
}

static const tr_handler_t w_handlers[] = {
    TR_ON_EMPTY(MSG_ASK, w_ask),
    TR_ON(MSG_KICK, w_kick, tr_ref_t),
    TR_END,
};
static const tr_actor_type_t w_type = {
    .name = "w",
    .state_size = sizeof(w_t),
    .handlers = w_handlers,
    .inspect = w_inspect,
};

static void quiet(void *arg, tr_log_level_t level, const char *line) {
    (void)arg, (void)level, (void)line;
}

static tr_runtime_t *rt;

static void setup(void) {
    static const char ini[] = "[runtime]\nlog_level = error\n[app/a]\nmailbox_capacity = 64\n";
    tr_config_t *cfg = NULL;
    tr_config_error_t err;
    if (tr_config_parse("fuzz.ini", ini, sizeof(ini) - 1, &cfg, &err) != 0) abort();
    tr_runtime_opts_t o = {.manual_clock = 1, .config = cfg, .log = quiet, .watchdog_ms = -1};
    if (tr_runtime_create(&o, &rt) != 0) abort();
    tr_config_release(cfg);
    const tr_child_spec_t kids[] = {{.name = "a", .type = &w_type}, {.name = "b", .type = &w_type}};
    const tr_sup_spec_t sup = {.strategy = TR_ONE_FOR_ALL, .children = kids, .nchildren = 2};
    tr_ref_t a, b, c;
    if (tr_sup_start(rt, "app", &sup, NULL) != 0 || tr_whereis(rt, "app/a", &a) != 0 ||
        tr_whereis(rt, "app/b", &b) != 0 || tr_spawn(rt, &w_type, &(tr_spawn_opts_t){.name = "loose"}, &c) != 0)
        abort();
    /* a calls b, which keeps the reply (a stall); loose calls a, which
     * keeps that one too (a chain of two) */
    tr_runtime_send(rt, a, MSG_KICK, &b, sizeof(b));
    tr_runtime_send(rt, c, MSG_KICK, &a, sizeof(a));
    tr_runtime_run_until_idle(rt);
    tr_runtime_advance(rt, 10000); /* past the stall threshold: alerts exist */
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (!rt) setup();
    char *out = NULL;
    if (tr_debug_request(rt, (const char *)data, size, &out) != 0 || !out) abort();
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j || !json_is_object(j) || json_integer_value(json_object_get(j, "v")) != 1 ||
        !json_is_boolean(json_object_get(j, "ok")) || strchr(out, '\n')) {
        fprintf(stderr, "bad answer: %s\n", out);
        abort();
    }
    json_decref(j);
    free(out);
    return 0;
}
