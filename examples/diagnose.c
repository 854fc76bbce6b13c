/* examples/diagnose.c: a small shop that gets stuck on purpose, to be looked
 * at with troupectl (docs/diagnostics.md walks through it).
 *
 *   build/release/examples/diagnose [-s SOCKET] [--stall-ms MS]
 *
 * The tree:
 *
 *   shop (one_for_one)
 *   ├─ frontend    takes an order: reserves stock, authorizes the payment
 *   ├─ inventory   to reserve, it asks billing to charge; it answers later
 *   ├─ billing     to charge, it asks inventory for the price; answers later
 *   └─ payments (one_for_one)
 *      └─ gateway  keeps the authorization request, waiting for an upstream
 *                  bank that never answers
 *
 * Two bugs, one of each kind the wait-for graph finds:
 *  - a deadlock: inventory waits for billing, which waits for inventory.
 *    Both keep the reply channel of the request they are answering
 *    (tr_reply_keep), so neither call ends;
 *  - a stall: frontend waits for gateway, which kept the reply channel and
 *    has nothing left to do: empty mailbox, no timer, no call of its own.
 * No call has a timeout: nothing but the stall detector will notice. It
 * reports both after --stall-ms (default 2000).
 * With --hang-ms MS, frontend also blocks its handler for MS milliseconds at
 * start (a blocking lookup): past 1000 ms the watchdog reports it, with the
 * scheduler thread's backtrace.
 *
 * Prints "ready SOCKET" when the debug socket is up, then runs until
 * SIGINT/SIGTERM (ordered shutdown: every kept reply resolves
 * DropWithoutReport). Default socket: troupectl -p PID finds it. */
#include <troupe/troupe.h>

#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MSG_ORDER = TR_MSG_USER, MSG_RESERVE, MSG_CHARGE, MSG_PRICE, MSG_AUTHORIZE, MSG_LOOKUP };

typedef struct order_s {
    int id;
    int qty;
} order_t;

static tr_ref_t sibling(tr_ctx_t *ctx, const char *name) {
    tr_ref_t r = TR_REF_NONE;
    tr_whereis(tr_ctx_runtime(ctx), name, &r);
    return r;
}

static void on_result(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie) {
    (void)state;
    tr_log(tr_ctx_runtime(ctx), TR_LOG_NOTICE, "frontend: %s answered: %s", (const char *)cookie,
           tr_strerror(r->status));
}

/* ---- frontend ---- */

typedef struct frontend_s {
    int orders;
} frontend_t;

static void frontend_order(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    frontend_t *f = state;
    const order_t *o = msg->data;
    f->orders++;
    tr_call(ctx, sibling(ctx, "shop/inventory"), MSG_RESERVE, o, sizeof(*o), on_result,
            "inventory", 0);
    tr_call(ctx, sibling(ctx, "shop/payments/gateway"), MSG_AUTHORIZE, o, sizeof(*o), on_result,
            "gateway", 0);
}

/* A blocking call in a handler (think of a synchronous DNS lookup): the
 * whole scheduler stops with it, and the watchdog says where. */
static void frontend_lookup(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    (void)ctx, (void)state;
    poll(NULL, 0, *(const int *)msg->data);
}

static void frontend_inspect(const void *state, tr_inspect_t *w) {
    const frontend_t *f = state;
    tr_inspect_add(w, "orders", "%d", f->orders);
}

static const tr_handler_t frontend_handlers[] = {
    TR_ON(MSG_ORDER, frontend_order, order_t),
    TR_ON(MSG_LOOKUP, frontend_lookup, int),
    TR_END,
};
static const tr_actor_type_t frontend_type = {
    .name = "frontend",
    .state_size = sizeof(frontend_t),
    .handlers = frontend_handlers,
    .inspect = frontend_inspect,
};

/* ---- inventory: reserve waits for billing; price waits for reserve ---- */

typedef struct inventory_s {
    int stock;
    tr_reply_t *reserve, *price; /* kept reply channels */
} inventory_t;

static int inventory_init(tr_ctx_t *ctx, void *state, const void *args) {
    (void)ctx, (void)args;
    ((inventory_t *)state)->stock = 12;
    return 0;
}

static void inventory_charged(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie) {
    inventory_t *inv = state;
    (void)cookie;
    if (inv->reserve) tr_reply_error_to(ctx, inv->reserve, r->status, "charge failed");
    inv->reserve = NULL;
}

static void inventory_reserve(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    inventory_t *inv = state;
    inv->reserve = tr_reply_keep(ctx, msg); /* answered once billing charged */
    tr_call(ctx, sibling(ctx, "shop/billing"), MSG_CHARGE, msg->data, msg->len,
            inventory_charged, NULL, 0);
}

static void inventory_price(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    inventory_t *inv = state;
    /* the bug: prices are "locked" while a reservation is open, so the
     * answer waits for the reservation, which waits for this answer */
    inv->price = tr_reply_keep(ctx, msg);
}

static void inventory_inspect(const void *state, tr_inspect_t *w) {
    const inventory_t *inv = state;
    tr_inspect_add(w, "stock", "%d", inv->stock);
    tr_inspect_add(w, "reservation_open", "%s", inv->reserve ? "yes" : "no");
    tr_inspect_add(w, "price_requests_held", "%d", inv->price ? 1 : 0);
}

static const tr_handler_t inventory_handlers[] = {
    TR_ON(MSG_RESERVE, inventory_reserve, order_t),
    TR_ON(MSG_PRICE, inventory_price, order_t),
    TR_END,
};
static const tr_actor_type_t inventory_type = {
    .name = "inventory",
    .state_size = sizeof(inventory_t),
    .handlers = inventory_handlers,
    .init = inventory_init,
    .inspect = inventory_inspect,
};

/* ---- billing: charge needs the price first ---- */

typedef struct billing_s {
    tr_reply_t *charge;
} billing_t;

static void billing_priced(tr_ctx_t *ctx, void *state, const tr_result_t *r, void *cookie) {
    billing_t *b = state;
    (void)cookie;
    if (b->charge) tr_reply_error_to(ctx, b->charge, r->status, "no price");
    b->charge = NULL;
}

static void billing_charge(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    billing_t *b = state;
    b->charge = tr_reply_keep(ctx, msg);
    tr_call(ctx, sibling(ctx, "shop/inventory"), MSG_PRICE, msg->data, msg->len,
            billing_priced, NULL, 0);
}

static const tr_handler_t billing_handlers[] = {
    TR_ON(MSG_CHARGE, billing_charge, order_t),
    TR_END,
};
static const tr_actor_type_t billing_type = {
    .name = "billing",
    .state_size = sizeof(billing_t),
    .handlers = billing_handlers,
};

/* ---- gateway: keeps the request for an upstream that never answers ---- */

typedef struct gateway_s {
    tr_reply_t *pending;
} gateway_t;

static void gateway_authorize(tr_ctx_t *ctx, void *state, const tr_msg_t *msg) {
    gateway_t *g = state;
    g->pending = tr_reply_keep(ctx, msg); /* the bank's answer would reply */
}

static void gateway_inspect(const void *state, tr_inspect_t *w) {
    const gateway_t *g = state;
    tr_inspect_add(w, "upstream", "%s", "bank.example: connection never opened");
    tr_inspect_add(w, "authorizations_waiting", "%d", g->pending ? 1 : 0);
}

static const tr_handler_t gateway_handlers[] = {
    TR_ON(MSG_AUTHORIZE, gateway_authorize, order_t),
    TR_END,
};
static const tr_actor_type_t gateway_type = {
    .name = "gateway",
    .state_size = sizeof(gateway_t),
    .handlers = gateway_handlers,
    .inspect = gateway_inspect,
};

static void usage(FILE *to) {
    fprintf(to, "usage: diagnose [-s SOCKET] [--stall-ms MS] [--hang-ms MS]\n"
                "  -s, --socket PATH   debug socket (default: the per-user default path)\n"
                "      --stall-ms MS   stall detector threshold (default 2000)\n"
                "      --hang-ms MS    block a handler for MS ms at start (watchdog demo)\n");
}

int main(int argc, char **argv) {
    const char *sock = TR_DEBUG_SOCKET_DEFAULT;
    long stall_ms = 2000, hang_ms = 0;
    static const struct option longopts[] = {
        {"socket", required_argument, NULL, 's'},
        {"stall-ms", required_argument, NULL, 'S'},
        {"hang-ms", required_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "s:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 's': sock = optarg; break;
        case 'S':
        case 'H': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 86400000) {
                fprintf(stderr, "diagnose: --%s wants 1..86400000, got '%s'\n",
                        ch == 'S' ? "stall-ms" : "hang-ms", optarg);
                return 2;
            }
            *(ch == 'S' ? &stall_ms : &hang_ms) = v;
            break;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    tr_runtime_opts_t opts = {
        .handle_signals = 1,
        .debug_socket = sock,
        .stall_ms = (int32_t)stall_ms,
        .handler_timing = 1,
    };
    tr_runtime_t *rt;
    int err = tr_runtime_create(&opts, &rt);
    if (err) {
        fprintf(stderr, "diagnose: cannot start the runtime: %s\n", tr_strerror(err));
        return 1;
    }
    const tr_child_spec_t pay_children[] = {{.name = "gateway", .type = &gateway_type}};
    const tr_sup_spec_t payments = {.strategy = TR_ONE_FOR_ONE, .intensity = 3,
                                    .period_ms = 5000, .children = pay_children, .nchildren = 1};
    const tr_child_spec_t shop_children[] = {
        {.name = "frontend", .type = &frontend_type},
        {.name = "inventory", .type = &inventory_type},
        {.name = "billing", .type = &billing_type},
        {.name = "payments", .sup = &payments},
    };
    const tr_sup_spec_t shop = {.strategy = TR_ONE_FOR_ONE, .intensity = 3, .period_ms = 5000,
                                .children = shop_children, .nchildren = 4};
    tr_ref_t frontend;
    if ((err = tr_sup_start(rt, "shop", &shop, NULL)) != 0 ||
        (err = tr_whereis(rt, "shop/frontend", &frontend)) != 0) {
        fprintf(stderr, "diagnose: cannot start the tree: %s\n", tr_strerror(err));
        tr_runtime_destroy(rt);
        return 1;
    }
    order_t o = {1, 3};
    tr_runtime_send(rt, frontend, MSG_ORDER, &o, sizeof(o));
    if (hang_ms) {
        int ms = (int)hang_ms;
        tr_runtime_send(rt, frontend, MSG_LOOKUP, &ms, sizeof(ms));
    }
    printf("ready %s\n", tr_runtime_debug_socket(rt));
    printf("try: troupectl -s %s tree | waits | actor shop/inventory | alerts\n",
           tr_runtime_debug_socket(rt));
    fflush(stdout);
    err = tr_runtime_run(rt);
    tr_runtime_destroy(rt);
    return err ? 1 : 0;
}
