/* tests/install/consumer.c: a program outside the build tree that uses an
 * installed troupe, found through pkg-config or find_package(troupe). It
 * makes one call to an actor and checks the reply. */
#include <stdio.h>
#include <troupe/troupe.h>

enum { MSG_DOUBLE = TR_MSG_USER };

static void on_double(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    (void)state;
    int v = *(const int *)msg->data * 2;
    tr_reply(ctx, msg, &v, sizeof v);
}

static const tr_handler_t handlers[] = {TR_ON(MSG_DOUBLE, on_double, int), TR_END};
static const tr_actor_type_t doubler = {.name = "doubler", .handlers = handlers};

static int got = -1;

static void on_reply(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie) {
    (void)ctx, (void)state, (void)cookie;
    got = r->status == TR_OK ? *(const int *)r->data : r->status;
}

static void on_go(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    (void)state;
    int v = 21;
    tr_call(ctx, *(const tr_ref_t *)msg->data, MSG_DOUBLE, &v, sizeof v, on_reply, NULL, 0);
}

static const tr_handler_t client_handlers[] = {TR_ON(MSG_DOUBLE, on_go, tr_ref_t), TR_END};
static const tr_actor_type_t client = {.name = "client", .handlers = client_handlers};

int main(void) {
    tr_runtime_t *rt;
    tr_ref_t d, c;
    if (tr_runtime_create(NULL, &rt) || tr_spawn(rt, &doubler, NULL, &d) ||
        tr_spawn(rt, &client, NULL, &c) || tr_runtime_send(rt, c, MSG_DOUBLE, &d, sizeof d))
        return 1;
    tr_runtime_run_until_idle(rt);
    tr_runtime_destroy(rt);
    printf("troupe %s: 21 * 2 = %d\n", TROUPE_VERSION, got);
    return got == 42 ? 0 : 1;
}
