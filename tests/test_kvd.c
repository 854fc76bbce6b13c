/* tests/test_kvd.c: the kvd example server (examples/kvd).
 *
 *  - the RESP2 request parser (resp_parse): multibulk and inline requests,
 *    a pipelined buffer, byte-by-byte feeding, empty requests, every
 *    protocol error with its message, the argument and inline limits;
 *  - the reply writers and helpers: resp_int/bulk/null/array/simple/error,
 *    resp_value_len, resp_parse_int, resp_eq, the connection-to-shard
 *    request encoding (kvd_req_*), kvd_shard_of;
 *  - the [kvd] settings: defaults, parsed values, each bad value refused
 *    with its line, the restart-only keys;
 *  - the server in process: kvd_start on a manual-clock runtime, and a
 *    connection actor started under kvd/clients on one end of a socketpair
 *    (the test holds the other end and checks the exact reply bytes):
 *    every command, TTLs driven by tr_runtime_advance (lazy and active
 *    expiry), pipelining and reply order across batches and shards,
 *    protocol errors, QUIT, DEBUG PANIC (DropWithoutReport, the restarted
 *    shard is empty, the others keep their keys), the peer closing with
 *    calls in flight, and the ordered shutdown.
 *
 * Conventions (tests/tr_test.h): every test makes and destroys its own
 * runtime, drives the loop explicitly (never sleeps) and checks that every
 * reply channel resolved exactly once. KVD_TEST_LOG=1 prints the runtime's
 * log lines and panic scenes.
 *
 * Regression tests for bugs this suite found: test_shard_of_is_fnv1a (the
 * hash's offset basis), test_server_no_config_conn_settings and
 * test_server_no_config_shard_mailbox (without a config, defaults overrode
 * the settings given to kvd_start), test_server_half_close_full_read
 * (requests read in the same event as the client's EOF were dropped). */
#include "tr_test.h"

#include "kvd.h"
#include "resp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PASSES 2000 /* loop passes a reply may take before the test fails */

/* ------------------------------------------------------------------ */
/* the runtime's log: kept (for asserts) and printed with KVD_TEST_LOG=1 */

static char g_log[16384];
static size_t g_log_len;

static void capture_log(void *arg, tr_log_level_t level, const char *line) {
    (void)arg;
    if (getenv("KVD_TEST_LOG"))
        fprintf(stderr, "[log %d] %s\n", (int)level, line);
    size_t n = strlen(line);
    if (g_log_len + n + 2 < sizeof g_log) {
        memcpy(g_log + g_log_len, line, n);
        g_log_len += n;
        g_log[g_log_len++] = '\n';
        g_log[g_log_len] = '\0';
    }
}

/* Panics seen by the hook (the default one prints a block on stderr). */
static int g_panics;
static char g_panic_path[128], g_panic_msg[64], g_panic_reason[256];
static uint32_t g_panic_incarnation;

static void record_panic(void *arg, const tr_panic_scene_t *scene) {
    (void)arg;
    g_panics++;
    snprintf(g_panic_path, sizeof g_panic_path, "%s", scene->path ? scene->path : "");
    snprintf(g_panic_msg, sizeof g_panic_msg, "%s", scene->msg_name ? scene->msg_name : "");
    snprintf(g_panic_reason, sizeof g_panic_reason, "%s", scene->reason ? scene->reason : "");
    g_panic_incarnation = scene->incarnation;
    if (getenv("KVD_TEST_LOG")) {
        char buf[4096];
        tr_panic_scene_format(scene, buf, sizeof buf);
        fprintf(stderr, "%s\n", buf);
    }
}

static int setup(void **state) {
    (void)state;
    g_log[0] = '\0';
    g_log_len = 0;
    g_panics = 0;
    g_panic_path[0] = g_panic_msg[0] = g_panic_reason[0] = '\0';
    g_panic_incarnation = 0;
    return 0;
}

/* ------------------------------------------------------------------ */
/* 1. the RESP parser */

static void parser_init(resp_parser_t *p, uint64_t max_bulk) {
    memset(p, 0, sizeof *p);
    p->max_bulk = max_bulk;
}

/* The parsed arguments are exactly the NULL-terminated list. */
static void expect_args(const resp_parser_t *p, const char *buf, ...) {
    va_list ap;
    va_start(ap, buf);
    size_t i = 0;
    for (const char *w; (w = va_arg(ap, const char *)) != NULL; i++) {
        assert_true(i < p->nargs);
        size_t n = strlen(w);
        if (p->argv[i].len != n || memcmp(buf + p->argv[i].off, w, n) != 0)
            fail_msg("argument %zu: got '%.*s', want '%s'", i, (int)p->argv[i].len,
                     buf + p->argv[i].off, w);
    }
    va_end(ap);
    assert_int_equal(p->nargs, i);
}

static void expect_perr(const char *in, size_t len, uint64_t max_bulk, const char *msg) {
    resp_parser_t p;
    parser_init(&p, max_bulk);
    int rc = resp_parse(&p, in, len);
    if (rc != RESP_ERROR)
        fail_msg("'%.*s': rc %d, want RESP_ERROR (%s)", (int)(len > 40 ? 40 : len), in, rc, msg);
    assert_string_equal(p.error, msg);
    resp_parser_free(&p);
}

#define S(lit) (lit), (sizeof(lit) - 1)

static void test_resp_multibulk_and_inline(void **state) {
    (void)state;
    resp_parser_t p;
    parser_init(&p, 1024);

    const char *mb = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhe\r\no\r\n";
    assert_int_equal(resp_parse(&p, mb, strlen(mb)), RESP_DONE);
    expect_args(&p, mb, "SET", "k", "he\r\no", NULL);
    assert_int_equal(p.pos, strlen(mb));
    resp_parser_reset(&p);

    /* an empty bulk string is an argument */
    const char *e = "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n";
    assert_int_equal(resp_parse(&p, e, strlen(e)), RESP_DONE);
    expect_args(&p, e, "ECHO", "", NULL);
    assert_int_equal(p.pos, strlen(e));
    resp_parser_reset(&p);

    /* inline: split on spaces and tabs, CRLF or a bare LF */
    const char *il = "  SET\tk  \t v  \r\n";
    assert_int_equal(resp_parse(&p, il, strlen(il)), RESP_DONE);
    expect_args(&p, il, "SET", "k", "v", NULL);
    assert_int_equal(p.pos, strlen(il));
    resp_parser_reset(&p);

    assert_int_equal(resp_parse(&p, S("PING\nrest")), RESP_DONE);
    expect_args(&p, "PING\nrest", "PING", NULL);
    assert_int_equal(p.pos, 5);
    resp_parser_reset(&p);

    /* nothing yet, or no line end yet */
    assert_int_equal(resp_parse(&p, "", 0), RESP_MORE);
    assert_int_equal(resp_parse(&p, S("PING")), RESP_MORE);
    assert_int_equal(resp_parse(&p, S("*2\r\n$3\r\nGET\r\n")), RESP_MORE);
    resp_parser_free(&p);
}

static void test_resp_pipelined_buffer(void **state) {
    (void)state;
    const char buf[] = "*1\r\n$4\r\nPING\r\n"
                       "ECHO hi\r\n"
                       "\r\n"
                       "*0\r\n"
                       "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"
                       "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$2\r\nbc\r\n"
                       "*2\r\n$3\r\nGET"; /* incomplete tail */
    size_t len = sizeof buf - 1, off = 0;
    resp_parser_t p;
    parser_init(&p, 1024);
    const char *want[][4] = {{"PING"}, {"ECHO", "hi"}, {NULL}, {NULL},
                             {"GET", "key"}, {"SET", "a", "bc"}};
    for (size_t r = 0; r < sizeof want / sizeof want[0]; r++) {
        assert_int_equal(resp_parse(&p, buf + off, len - off), RESP_DONE);
        size_t n = 0;
        while (n < 4 && want[r][n])
            n++;
        assert_int_equal(p.nargs, n);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(p.argv[i].len, strlen(want[r][i]));
            assert_memory_equal(buf + off + p.argv[i].off, want[r][i], strlen(want[r][i]));
        }
        off += p.pos;
        resp_parser_reset(&p);
    }
    assert_int_equal(resp_parse(&p, buf + off, len - off), RESP_MORE);
    assert_string_equal(buf + off, "*2\r\n$3\r\nGET");
    resp_parser_free(&p);
}

/* Fed one more byte at a time, a request is RESP_MORE until its last byte,
 * then RESP_DONE with the same arguments as when fed whole. */
static void byte_by_byte(const char *req, size_t len) {
    resp_parser_t whole, p;
    parser_init(&whole, 1 << 20);
    parser_init(&p, 1 << 20);
    assert_int_equal(resp_parse(&whole, req, len), RESP_DONE);
    assert_int_equal(whole.pos, len);
    for (size_t i = 0; i < len; i++) {
        int rc = resp_parse(&p, req, i);
        if (rc != RESP_MORE)
            fail_msg("'%s' after %zu of %zu bytes: rc %d, want RESP_MORE", req, i, len, rc);
    }
    assert_int_equal(resp_parse(&p, req, len), RESP_DONE);
    assert_int_equal(p.pos, len);
    assert_int_equal(p.nargs, whole.nargs);
    for (size_t i = 0; i < p.nargs; i++) {
        assert_int_equal(p.argv[i].off, whole.argv[i].off);
        assert_int_equal(p.argv[i].len, whole.argv[i].len);
    }
    resp_parser_free(&whole);
    resp_parser_free(&p);
}

static void test_resp_byte_by_byte(void **state) {
    (void)state;
    byte_by_byte(S("*3\r\n$3\r\nSET\r\n$9\r\nkey\r\nwith\r\n$0\r\n\r\n"));
    byte_by_byte(S("*1\r\n$4\r\nPING\r\n"));
    byte_by_byte(S("*2\r\n$4\r\nECHO\r\n$12\r\n0123456789ab\r\n"));
    byte_by_byte(S("SET key value\r\n"));
    /* the args are the same as parsed whole */
    const char *r = "*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n";
    resp_parser_t p;
    parser_init(&p, 64);
    for (size_t i = 0; i < strlen(r); i++)
        assert_int_equal(resp_parse(&p, r, i), RESP_MORE);
    assert_int_equal(resp_parse(&p, r, strlen(r)), RESP_DONE);
    expect_args(&p, r, "GET", "hello", NULL);
    resp_parser_free(&p);
}

static void test_resp_empty_requests(void **state) {
    (void)state;
    resp_parser_t p;
    parser_init(&p, 64);
    assert_int_equal(resp_parse(&p, S("\r\n")), RESP_DONE);
    assert_int_equal(p.nargs, 0);
    assert_int_equal(p.pos, 2);
    resp_parser_reset(&p);
    assert_int_equal(resp_parse(&p, S("\n")), RESP_DONE);
    assert_int_equal(p.nargs, 0);
    assert_int_equal(p.pos, 1);
    resp_parser_reset(&p);
    assert_int_equal(resp_parse(&p, S(" \t \r\n")), RESP_DONE);
    assert_int_equal(p.nargs, 0);
    assert_int_equal(p.pos, 5);
    resp_parser_reset(&p);
    assert_int_equal(resp_parse(&p, S("*0\r\nPING\r\n")), RESP_DONE);
    assert_int_equal(p.nargs, 0);
    assert_int_equal(p.pos, 4);
    resp_parser_reset(&p);
    assert_int_equal(resp_parse(&p, S("*-1\r\n")), RESP_DONE);
    assert_int_equal(p.nargs, 0);
    assert_int_equal(p.pos, 5);
    resp_parser_free(&p);
}

static void test_resp_protocol_errors(void **state) {
    (void)state;
    expect_perr(S("*1\r\nx\r\n"), 64, "Protocol error: expected '$', got 'x'");
    expect_perr(S("*2\r\n$3\r\nGET\r\n:1\r\n"), 64, "Protocol error: expected '$', got ':'");
    expect_perr(S("*1\r\n\x01"), 64, "Protocol error: expected '$', got '\\x01'");
    expect_perr(S("*abc\r\n"), 64, "Protocol error: invalid multibulk length");
    expect_perr(S("*\r\n"), 64, "Protocol error: invalid multibulk length");
    expect_perr(S("*1\n"), 64, "Protocol error: invalid multibulk length");
    expect_perr(S("*+1\r\n"), 64, "Protocol error: invalid multibulk length");
    expect_perr(S("*99999999999999999999\r\n"), 64, "Protocol error: invalid multibulk length");
    /* a header line that never ends is refused after 32 bytes */
    expect_perr(S("*1111111111111111111111111111111111111111"), 64,
                "Protocol error: invalid multibulk length");
    expect_perr(S("*1\r\n$abc\r\n"), 64, "Protocol error: invalid bulk length");
    expect_perr(S("*1\r\n$-1\r\n"), 64, "Protocol error: invalid bulk length");
    expect_perr(S("*1\r\n$01\r\nx\r\n"), 64, "Protocol error: invalid bulk length");
    expect_perr(S("*1\r\n$33333333333333333333333333333333333"), 64,
                "Protocol error: invalid bulk length");
    /* over max_bulk: refused on the header, before the data arrives */
    expect_perr(S("*1\r\n$65\r\n"), 64, "Protocol error: invalid bulk length");
    expect_perr(S("*2\r\n$3\r\nSET\r\n$5\r\nhello\r\n"), 4, "Protocol error: invalid bulk length");
    {
        resp_parser_t p;
        parser_init(&p, 5);
        assert_int_equal(resp_parse(&p, S("*1\r\n$5\r\nhello\r\n")), RESP_DONE);
        resp_parser_free(&p);
    }
    expect_perr(S("*1\r\n$3\r\nabcXY"), 64, "Protocol error: bulk string not followed by CRLF");
    expect_perr(S("*1\r\n$3\r\nabc\rX"), 64, "Protocol error: bulk string not followed by CRLF");
    expect_perr(S("*1\r\n$3\r\nabc\n\r"), 64, "Protocol error: bulk string not followed by CRLF");
}

static void test_resp_limits(void **state) {
    (void)state;
    /* inline: 64 KiB without a newline is too big; up to that it waits */
    size_t n = RESP_INLINE_MAX + 1;
    char *big = malloc(n + 2);
    assert_non_null(big);
    memset(big, 'a', n + 2);
    resp_parser_t p;
    parser_init(&p, 64);
    assert_int_equal(resp_parse(&p, big, RESP_INLINE_MAX), RESP_MORE);
    assert_int_equal(resp_parse(&p, big, n), RESP_ERROR);
    assert_string_equal(p.error, "Protocol error: too big inline request");
    resp_parser_reset(&p);
    /* an inline line of exactly 64 KiB (plus CRLF) is accepted */
    big[RESP_INLINE_MAX] = '\r';
    big[RESP_INLINE_MAX + 1] = '\n';
    assert_int_equal(resp_parse(&p, big, RESP_INLINE_MAX + 2), RESP_DONE);
    assert_int_equal(p.nargs, 1);
    assert_int_equal(p.argv[0].len, RESP_INLINE_MAX);
    resp_parser_free(&p);
    free(big);

    /* RESP_MAX_ARGS arguments are announced fine, one more is refused */
    char hdr[32];
    snprintf(hdr, sizeof hdr, "*%d\r\n", RESP_MAX_ARGS);
    parser_init(&p, 64);
    assert_int_equal(resp_parse(&p, hdr, strlen(hdr)), RESP_MORE);
    resp_parser_free(&p);
    snprintf(hdr, sizeof hdr, "*%d\r\n", RESP_MAX_ARGS + 1);
    expect_perr(hdr, strlen(hdr), 64, "Protocol error: invalid multibulk length");
}

/* ------------------------------------------------------------------ */
/* 2. writers and helpers */

static void expect_buf(kvd_buf_t *b, const char *want, size_t len) {
    if (b->len != len || memcmp(b->p, want, len) != 0)
        fail_msg("got '%.*s' (%zu bytes), want '%.*s' (%zu bytes)", (int)b->len, b->p, b->len,
                 (int)len, want, len);
    b->len = 0;
}

static void test_resp_writers(void **state) {
    (void)state;
    kvd_buf_t b = {0};
    assert_int_equal(resp_int(&b, 0), 0);
    expect_buf(&b, S(":0\r\n"));
    assert_int_equal(resp_int(&b, -42), 0);
    expect_buf(&b, S(":-42\r\n"));
    assert_int_equal(resp_int(&b, INT64_MAX), 0);
    expect_buf(&b, S(":9223372036854775807\r\n"));
    assert_int_equal(resp_int(&b, INT64_MIN), 0);
    expect_buf(&b, S(":-9223372036854775808\r\n"));
    assert_int_equal(resp_bulk(&b, "hello", 5), 0);
    expect_buf(&b, S("$5\r\nhello\r\n"));
    assert_int_equal(resp_bulk(&b, "", 0), 0);
    expect_buf(&b, S("$0\r\n\r\n"));
    assert_int_equal(resp_bulk(&b, "a\0\r\nb", 5), 0);
    expect_buf(&b, S("$5\r\na\0\r\nb\r\n"));
    assert_int_equal(resp_bulk_str(&b, "xyz"), 0);
    expect_buf(&b, S("$3\r\nxyz\r\n"));
    assert_int_equal(resp_null(&b), 0);
    expect_buf(&b, S("$-1\r\n"));
    assert_int_equal(resp_array(&b, 3), 0);
    expect_buf(&b, S("*3\r\n"));
    assert_int_equal(resp_array(&b, 0), 0);
    expect_buf(&b, S("*0\r\n"));
    assert_int_equal(resp_simple(&b, "OK"), 0);
    expect_buf(&b, S("+OK\r\n"));
    assert_int_equal(resp_error(&b, "ERR %s %d", "bad", 7), 0);
    expect_buf(&b, S("-ERR bad 7\r\n"));
    assert_int_equal(resp_error(&b, "ERR line\r\nbreak\nand\rmore"), 0);
    expect_buf(&b, S("-ERR line  break and more\r\n"));
    /* appending keeps what is there, across reallocations */
    for (int i = 0; i < 1000; i++)
        assert_int_equal(resp_int(&b, i), 0);
    assert_memory_equal(b.p, ":0\r\n:1\r\n", 8);
    assert_memory_equal(b.p + b.len - 6, ":999\r\n", 6);
    kvd_buf_free(&b);
    assert_null(b.p);
}

static void test_resp_value_len(void **state) {
    (void)state;
    assert_int_equal(resp_value_len(S("$3\r\nabc\r\n")), 9);
    assert_int_equal(resp_value_len(S("$3\r\nabc\r\n:1\r\n")), 9); /* the first value only */
    assert_int_equal(resp_value_len(S("$0\r\n\r\n")), 6);
    assert_int_equal(resp_value_len(S("$4\r\na\r\nb\r\n")), 10);
    assert_int_equal(resp_value_len(S("$-1\r\n")), 5);
    assert_int_equal(resp_value_len(S("$-1\r\n$-1\r\n")), 5);
    assert_int_equal(resp_value_len(S(":42\r\n")), 5);
    assert_int_equal(resp_value_len(S(":-1\r\n+OK\r\n")), 5);
    assert_int_equal(resp_value_len(S("+OK\r\n")), 5);
    assert_int_equal(resp_value_len(S("-ERR x\r\n")), 8);
    /* partial or not a value: 0 */
    assert_int_equal(resp_value_len(S("$3\r\nab")), 0);
    assert_int_equal(resp_value_len(S("$3\r\nabc")), 0);
    assert_int_equal(resp_value_len(S("$3\r\nabc\r")), 0);
    assert_int_equal(resp_value_len(S("$3")), 0);
    assert_int_equal(resp_value_len(S(":1\r")), 0);
    assert_int_equal(resp_value_len(S(":1\n")), 0);
    assert_int_equal(resp_value_len(S("$x\r\nabc\r\n")), 0);
    assert_int_equal(resp_value_len(S("*1\r\n$1\r\na\r\n")), 0); /* arrays are not walked */
    assert_int_equal(resp_value_len("", 0), 0);
}

static void expect_int(const char *s, int ok, int64_t want) {
    int64_t v = 12345;
    int rc = resp_parse_int(s, strlen(s), &v);
    if (ok) {
        if (rc != 0 || v != want)
            fail_msg("resp_parse_int('%s'): rc %d v %" PRId64 ", want %" PRId64, s, rc, v, want);
    } else if (rc != -1 || v != 12345) {
        fail_msg("resp_parse_int('%s'): rc %d v %" PRId64 ", want -1 and no write", s, rc, v);
    }
}

static void test_resp_parse_int(void **state) {
    (void)state;
    expect_int("0", 1, 0);
    expect_int("7", 1, 7);
    expect_int("-7", 1, -7);
    expect_int("1234567890", 1, 1234567890);
    expect_int("9223372036854775807", 1, INT64_MAX);
    expect_int("-9223372036854775808", 1, INT64_MIN);
    expect_int("9223372036854775808", 0, 0);
    expect_int("-9223372036854775809", 0, 0);
    expect_int("18446744073709551615", 0, 0);
    expect_int("18446744073709551616", 0, 0);
    expect_int("99999999999999999999", 0, 0);
    expect_int("123456789012345678901", 0, 0);
    expect_int("+1", 0, 0);
    expect_int("01", 0, 0);
    expect_int("-01", 0, 0);
    expect_int("-0", 0, 0);
    expect_int("-", 0, 0);
    expect_int("", 0, 0);
    expect_int("1 ", 0, 0);
    expect_int(" 1", 0, 0);
    expect_int("1a", 0, 0);
    expect_int("0x10", 0, 0);
    /* only `len` bytes are read */
    int64_t v = 0;
    assert_int_equal(resp_parse_int("12junk", 2, &v), 0);
    assert_int_equal(v, 12);

    assert_true(resp_eq("GeT", 3, "get"));
    assert_true(resp_eq("get", 3, "GET"));
    assert_false(resp_eq("gets", 4, "get"));
    assert_false(resp_eq("ge", 2, "get"));
    assert_false(resp_eq("getx", 3, "gex"));
}

static void test_req_round_trip(void **state) {
    (void)state;
    kvd_buf_t b = {0};
    assert_int_equal(kvd_req_start(&b, 5, -7), 0);
    assert_int_equal(kvd_req_arg(&b, "key", 3), 0);
    assert_int_equal(kvd_req_arg(&b, "", 0), 0);
    assert_int_equal(kvd_req_arg(&b, "v\0v", 3), 0);
    kvd_req_t r;
    assert_int_equal(kvd_req_open(&r, b.p, b.len), 0);
    assert_int_equal(r.hdr.flags, 5);
    assert_int_equal(r.hdr.argc, 3);
    assert_int_equal(r.hdr.num, -7);
    const char *p;
    size_t n;
    assert_int_equal(kvd_req_next(&r, &p, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(p, "key", 3);
    assert_int_equal(kvd_req_next(&r, &p, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(kvd_req_next(&r, &p, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(p, "v\0v", 3);
    assert_int_equal(kvd_req_next(&r, &p, &n), -1);

    /* truncated anywhere, or with trailing bytes: refused */
    for (size_t cut = 0; cut < b.len; cut++)
        assert_int_equal(kvd_req_open(&r, b.p, cut), -1);
    assert_int_equal(kvd_buf_add(&b, "x", 1), 0);
    assert_int_equal(kvd_req_open(&r, b.p, b.len), -1);
    assert_int_equal(kvd_req_open(&r, NULL, 100), -1);

    /* an argc larger than what follows */
    kvd_req_hdr_t h = {0, 1000000, 0};
    assert_int_equal(kvd_req_open(&r, &h, sizeof h), -1);
    /* a length past the end */
    kvd_buf_t c = {0};
    assert_int_equal(kvd_req_start(&c, 0, 0), 0);
    assert_int_equal(kvd_req_arg(&c, "abcd", 4), 0);
    uint32_t huge = 0xffffffffu;
    memcpy(c.p + sizeof(kvd_req_hdr_t), &huge, sizeof huge);
    assert_int_equal(kvd_req_open(&r, c.p, c.len), -1);

    /* kvd_req_start resets the buffer; no argument is a valid request */
    assert_int_equal(kvd_req_start(&b, 0, 99), 0);
    assert_int_equal(b.len, sizeof(kvd_req_hdr_t));
    assert_int_equal(kvd_req_open(&r, b.p, b.len), 0);
    assert_int_equal(r.hdr.argc, 0);
    assert_int_equal(r.hdr.num, 99);
    assert_int_equal(kvd_req_next(&r, &p, &n), -1);
    kvd_buf_free(&b);
    kvd_buf_free(&c);
}

/* FNV-1a (64 bits) then modulo, written again here. */
static uint32_t fnv_mod(const char *k, size_t n, uint32_t shards) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 0x100000001b3ull;
    }
    return (uint32_t)(h % shards);
}

static void test_shard_of(void **state) {
    (void)state;
    const uint32_t counts[] = {1, 2, 3, 4, 7, 16, 256};
    char key[32];
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        uint32_t seen[256] = {0};
        for (int i = 0; i < 2000; i++) {
            int n = snprintf(key, sizeof key, "key:%d", i);
            uint32_t s = kvd_shard_of(key, (size_t)n, counts[c]);
            assert_true(s < counts[c]);
            assert_int_equal(s, kvd_shard_of(key, (size_t)n, counts[c])); /* stable */
            assert_int_equal(s, kvd_shard_of(key, (size_t)n, 4 * counts[c]) % counts[c]);
            seen[s]++;
        }
        for (uint32_t s = 0; s < counts[c] && counts[c] <= 16; s++)
            assert_true(seen[s] > 0); /* every shard gets keys */
    }
    assert_int_equal(kvd_shard_of("anything", 8, 1), 0);
    assert_true(kvd_shard_of("", 0, 4) < 4);
}

/* kvd.h documents kvd_shard_of as "FNV-1a, then modulo". FNV-1a 64 of "a"
 * is 0xaf63dc4c8601ec8c (the published test vector). */
static void test_shard_of_is_fnv1a(void **state) {
    (void)state;
    assert_int_equal(fnv_mod("a", 1, 256), 0x8c);
    assert_int_equal(kvd_shard_of("a", 1, 256), 0x8c);
    assert_int_equal(kvd_shard_of("", 0, 256), 0x25); /* the offset basis itself */
    char key[32];
    for (int i = 0; i < 100; i++) {
        int n = snprintf(key, sizeof key, "key:%d", i);
        assert_int_equal(kvd_shard_of(key, (size_t)n, 7), fnv_mod(key, (size_t)n, 7));
    }
}

/* ------------------------------------------------------------------ */
/* 3. settings */

static tr_config_t *parse_ini(const char *text) {
    tr_config_t *cfg = NULL;
    tr_config_error_t err;
    memset(&err, 0, sizeof err);
    int rc = tr_config_parse("test.ini", text, strlen(text), &cfg, &err);
    if (rc != 0)
        fail_msg("tr_config_parse: %d at line %d: %s", rc, err.line, err.reason);
    return cfg;
}

static void test_settings_defaults_and_values(void **state) {
    (void)state;
    kvd_settings_t s;
    tr_config_error_t err;
    memset(&s, 0xff, sizeof s);
    assert_int_equal(kvd_settings_read(NULL, &s, &err), 0);
    assert_string_equal(s.bind, "127.0.0.1");
    assert_int_equal(s.port, 6380);
    assert_int_equal(s.shards, 4);
    assert_int_equal(s.max_clients, 10000);
    assert_int_equal(s.client_mailbox, 256);
    assert_int_equal(s.shard_mailbox, 4096);
    assert_int_equal(s.request_timeout_ms, 1000);
    assert_int_equal(s.max_bulk, 512ull << 20);
    assert_int_equal(s.debug_commands, 0);

    /* a config without [kvd]: the defaults too */
    tr_config_t *cfg = parse_ini("[runtime]\nlog_level = info\n");
    kvd_settings_t d;
    assert_int_equal(kvd_settings_read(cfg, &d, &err), 0);
    assert_string_equal(d.bind, s.bind);
    assert_int_equal(d.port, s.port);
    assert_int_equal(d.shards, s.shards);
    assert_int_equal(d.max_clients, s.max_clients);
    assert_int_equal(d.client_mailbox, s.client_mailbox);
    assert_int_equal(d.shard_mailbox, s.shard_mailbox);
    assert_int_equal(d.request_timeout_ms, s.request_timeout_ms);
    assert_int_equal(d.max_bulk, s.max_bulk);
    assert_int_equal(d.debug_commands, s.debug_commands);
    tr_config_release(cfg);

    cfg = parse_ini("[kvd]\n"
                    "bind = ::1\n"
                    "port = 0\n"
                    "shards = 256\n"
                    "max_clients = 5\n"
                    "client_mailbox = 64\n"
                    "shard_mailbox = 128\n"
                    "request_timeout = 250ms\n"
                    "max_bulk = 1KiB\n"
                    "debug_commands = on\n");
    assert_int_equal(kvd_settings_read(cfg, &s, &err), 0);
    assert_string_equal(s.bind, "::1");
    assert_int_equal(s.port, 0);
    assert_int_equal(s.shards, 256);
    assert_int_equal(s.max_clients, 5);
    assert_int_equal(s.client_mailbox, 64);
    assert_int_equal(s.shard_mailbox, 128);
    assert_int_equal(s.request_timeout_ms, 250);
    assert_int_equal(s.max_bulk, 1024);
    assert_int_equal(s.debug_commands, 1);
    tr_config_release(cfg);

    cfg = parse_ini("[kvd]\nbind = 0.0.0.0\nport = 65535\nrequest_timeout = 2s\n"
                    "max_bulk = 10MB\ndebug_commands = no\n");
    assert_int_equal(kvd_settings_read(cfg, &s, &err), 0);
    assert_string_equal(s.bind, "0.0.0.0");
    assert_int_equal(s.port, 65535);
    assert_int_equal(s.request_timeout_ms, 2000);
    assert_int_equal(s.max_bulk, 10000000);
    assert_int_equal(s.debug_commands, 0);
    assert_int_equal(s.shards, 4);
    tr_config_release(cfg);
}

/* `line` (the 5th of the file) is refused with its line and key. */
static void expect_bad_setting(const char *line, const char *key) {
    char text[512];
    snprintf(text, sizeof text, "[runtime]\nlog_level = notice\n[kvd]\n; line 4\n%s\n"
             "; line 6\n", line);
    tr_config_t *cfg = parse_ini(text);
    kvd_settings_t s;
    memset(&s, 0x5a, sizeof s);
    kvd_settings_t before = s;
    tr_config_error_t err;
    memset(&err, 0, sizeof err);
    int rc = kvd_settings_read(cfg, &s, &err);
    if (rc != TR_ECONFIG)
        fail_msg("'%s': rc %d, want TR_ECONFIG", line, rc);
    if (err.line != 5)
        fail_msg("'%s': error at line %d, want 5 (%s)", line, err.line, err.reason);
    assert_string_equal(err.key, key);
    assert_string_equal(err.file, "test.ini");
    assert_true(err.reason[0] != '\0');
    assert_memory_equal(&s, &before, sizeof s); /* nothing written */
    tr_config_release(cfg);
}

static void test_settings_bad_values(void **state) {
    (void)state;
    expect_bad_setting("port = 70000", "port");
    expect_bad_setting("port = -1", "port");
    expect_bad_setting("port = http", "port");
    expect_bad_setting("shards = 0", "shards");
    expect_bad_setting("shards = 257", "shards");
    expect_bad_setting("bind = nope", "bind");
    expect_bad_setting("bind = 1.2.3.4.5", "bind");
    expect_bad_setting("request_timeout = 5xs", "request_timeout");
    expect_bad_setting("request_timeout = 0", "request_timeout");
    expect_bad_setting("debug_commands = maybe", "debug_commands");
    expect_bad_setting("max_bulk = 0", "max_bulk");
    expect_bad_setting("max_clients = 0", "max_clients");
    expect_bad_setting("shard_mailbox = 16777217", "shard_mailbox");
}

static void test_settings_restart_keys(void **state) {
    (void)state;
    kvd_settings_t a, b;
    assert_int_equal(kvd_settings_read(NULL, &a, NULL), 0);
    b = a;
    char buf[64];
    memset(buf, 'x', sizeof buf);
    kvd_settings_restart_keys(&a, &b, buf, sizeof buf);
    assert_string_equal(buf, "");
    /* live keys do not need a restart */
    b.max_clients = 1;
    b.request_timeout_ms = 5;
    b.debug_commands = 1;
    b.max_bulk = 1;
    b.client_mailbox = b.shard_mailbox = 1;
    kvd_settings_restart_keys(&a, &b, buf, sizeof buf);
    assert_string_equal(buf, "");
    b.port = 1;
    kvd_settings_restart_keys(&a, &b, buf, sizeof buf);
    assert_string_equal(buf, "port");
    b.shards = 8;
    kvd_settings_restart_keys(&a, &b, buf, sizeof buf);
    assert_string_equal(buf, "port, shards");
    snprintf(b.bind, sizeof b.bind, "::1");
    kvd_settings_restart_keys(&a, &b, buf, sizeof buf);
    assert_string_equal(buf, "bind, port, shards");
    b.port = a.port;
    kvd_settings_restart_keys(&a, &b, buf, sizeof buf);
    assert_string_equal(buf, "bind, shards");
    /* a small buffer: truncated, terminated, no overflow */
    b.port = 1;
    char small[10];
    memset(small, 'x', sizeof small);
    kvd_settings_restart_keys(&a, &b, small, 8);
    assert_string_equal(small, "bind, p");
    assert_int_equal(small[8], 'x');
    assert_int_equal(small[9], 'x');
}

/* ------------------------------------------------------------------ */
/* 4. the server in process */

static const char KV_INI[] = "[kvd]\nport = 0\nshards = 4\ndebug_commands = yes\n";

/* A client: the test's end of a socketpair whose other end a connection
 * actor (kvd/clients) owns. */
typedef struct client_s {
    int fd;
    tr_ref_t ref;
    int eof;
    kvd_buf_t in;    /* bytes read, [in_off, len) not consumed */
    size_t in_off;
    kvd_buf_t reply; /* the replies of the last exchange, NUL-terminated */
} client_t;

typedef struct kv_s {
    tr_runtime_t *rt;
    tr_config_t *cfg;
    kvd_settings_t settings;
    uint32_t next_id;
    client_t c; /* the default client */
} kv_t;

static void client_open(kv_t *k, client_t *c) {
    memset(c, 0, sizeof *c);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    tr_ref_t sup;
    assert_int_equal(tr_whereis(k->rt, KVD_CLIENTS_SUP, &sup), 0);
    kvd_conn_args_t a;
    memset(&a, 0, sizeof a);
    a.fd = sv[1];
    a.settings = k->settings;
    a.id = ++k->next_id;
    a.shards = k->settings.shards;
    snprintf(a.peer, sizeof a.peer, "test");
    assert_int_equal(tr_sup_start_child(k->rt, sup, &a, sizeof a, &c->ref), 0);
    assert_true(tr_actor_alive(k->rt, c->ref));
    c->fd = sv[0];
    tt_drain(k->rt);
}

static void client_free(client_t *c) {
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    kvd_buf_free(&c->in);
    kvd_buf_free(&c->reply);
}

static void kv_start_opts(kv_t *k, const char *ini, const tr_runtime_opts_t *base) {
    memset(k, 0, sizeof *k);
    k->c.fd = -1;
    k->cfg = parse_ini(ini);
    tr_config_error_t err;
    assert_int_equal(kvd_settings_read(k->cfg, &k->settings, &err), 0);
    tr_runtime_opts_t o;
    if (base)
        o = *base;
    else
        memset(&o, 0, sizeof o);
    o.manual_clock = 1;
    o.config = k->cfg;
    o.log = capture_log;
    o.watchdog_ms = -1; /* no watchdog thread, no stall reports: nothing timed */
    o.stall_ms = -1;
    k->rt = tt_runtime(&o);
    assert_int_equal(tr_set_panic_hook(k->rt, record_panic, NULL), 0);
    kvd_listener_args_t largs;
    memset(&largs, 0, sizeof largs);
    largs.settings = k->settings;
    assert_int_equal(kvd_start(k->rt, &largs), 0);
    tt_drain(k->rt);
    /* port 0: the listener logs the port the kernel chose */
    const char *l = strstr(g_log, "kvd: listening on 127.0.0.1:");
    assert_non_null(l);
    assert_true(atoi(l + strlen("kvd: listening on 127.0.0.1:")) > 0);
    client_open(k, &k->c);
}

static void kv_start(kv_t *k, const char *ini) { kv_start_opts(k, ini, NULL); }

static uint64_t live_actors(tr_runtime_t *rt) { return tt_stats(rt).actors_live; }

/* Ordered shutdown, then the invariants, then destroy. */
static void kv_stop(kv_t *k) {
    tt_drain(k->rt);
    assert_true(tr_runtime_verify(k->rt) > 0);
    assert_int_equal(tr_runtime_shutdown(k->rt), 0);
    int pass = 0;
    while (live_actors(k->rt) != 0 && pass++ < MAX_PASSES)
        assert_true(tr_runtime_poll(k->rt) >= 0);
    assert_int_equal(live_actors(k->rt), 0);
    tr_ref_t r;
    assert_int_equal(tr_whereis(k->rt, KVD_ROOT, &r), TR_ENOTFOUND);
    assert_int_equal(tr_whereis(k->rt, KVD_SHARDS_SUP, &r), TR_ENOTFOUND);
    tt_assert_chan_balance(k->rt);
    assert_int_equal(tr_runtime_verify(k->rt), 0);
    assert_int_equal(tr_runtime_exit_status(k->rt), 0);
    tr_runtime_destroy(k->rt);
    tr_config_release(k->cfg);
    client_free(&k->c);
}

static void drive(kv_t *k) {
    assert_true(tr_runtime_poll(k->rt) >= 0);
    tt_drain(k->rt);
}

/* Length of the one RESP value (arrays walked) at p, or 0 if incomplete. */
static size_t value_len(const char *p, size_t n) {
    const char *nl = n ? memchr(p, '\n', n) : NULL;
    if (!nl)
        return 0;
    if (nl == p || nl[-1] != '\r')
        fail_msg("not a RESP line: '%.*s'", (int)(nl - p), p);
    size_t hl = (size_t)(nl - p) + 1;
    long long v = strtoll(p + 1, NULL, 10);
    switch (p[0]) {
    case '+':
    case '-':
    case ':':
        return hl;
    case '$':
        if (v < 0)
            return hl;
        return n - hl < (size_t)v + 2 ? 0 : hl + (size_t)v + 2;
    case '*': {
        size_t at = hl;
        for (long long i = 0; i < v; i++) {
            size_t l = value_len(p + at, n - at);
            if (!l)
                return 0;
            at += l;
        }
        return at;
    }
    default:
        fail_msg("not a RESP value: '%.*s'", (int)(nl - p), p);
    }
    return 0;
}

static size_t count_values(const client_t *c) {
    size_t n = 0, at = c->in_off, l;
    while ((l = value_len(c->in.p + at, c->in.len - at)) != 0) {
        at += l;
        n++;
    }
    return n;
}

/* Read what is there (non-blocking); notes EOF. */
static void read_avail(client_t *c) {
    for (;;) {
        assert_int_equal(kvd_buf_reserve(&c->in, 65536), 0);
        ssize_t n = read(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len);
        if (n > 0) {
            c->in.len += (size_t)n;
            continue;
        }
        if (n == 0) {
            c->eof = 1;
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        fail_msg("read: %s", strerror(errno));
    }
}

/* Write req (as the socket takes it) and drive the runtime until `nreplies`
 * whole replies have come back. Returns them, NUL-terminated (valid until
 * the next exchange on c). Fails after MAX_PASSES passes. */
static const char *exchange(kv_t *k, client_t *c, const char *req, size_t len, size_t nreplies) {
    size_t sent = 0;
    for (int pass = 0;; pass++) {
        while (sent < len) {
            ssize_t n = send(c->fd, req + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                sent += (size_t)n;
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                break;
            fail_msg("send: %s", strerror(errno));
        }
        read_avail(c);
        size_t got = count_values(c);
        if (sent == len && got >= nreplies)
            break;
        if (c->eof || pass >= MAX_PASSES)
            fail_msg("%zu of %zu replies after %d passes%s; got '%.*s'", got, nreplies, pass,
                     c->eof ? " and EOF" : "", (int)(c->in.len - c->in_off),
                     c->in.p ? c->in.p + c->in_off : "");
        drive(k);
    }
    size_t at = c->in_off;
    for (size_t i = 0; i < nreplies; i++)
        at += value_len(c->in.p + at, c->in.len - at);
    c->reply.len = 0;
    assert_int_equal(kvd_buf_add(&c->reply, c->in.p + c->in_off, at - c->in_off), 0);
    assert_int_equal(kvd_buf_add(&c->reply, "", 1), 0);
    c->reply.len--;
    c->in_off = at;
    if (c->in_off == c->in.len)
        c->in.len = c->in_off = 0;
    return c->reply.p;
}

/* Append a multibulk request of the NULL-terminated arguments. */
static void mb_vadd(kvd_buf_t *b, const char *a0, va_list ap) {
    const char *args[64];
    size_t n = 0;
    for (const char *a = a0; a; a = va_arg(ap, const char *)) {
        assert_true(n < 64);
        args[n++] = a;
    }
    char hdr[32];
    int l = snprintf(hdr, sizeof hdr, "*%zu\r\n", n);
    assert_int_equal(kvd_buf_add(b, hdr, (size_t)l), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(resp_bulk_str(b, args[i]), 0);
}

static void mb_add(kvd_buf_t *b, const char *a0, ...) {
    va_list ap;
    va_start(ap, a0);
    mb_vadd(b, a0, ap);
    va_end(ap);
}

/* One command on client c; returns its reply. */
static const char *ccmd(kv_t *k, client_t *c, const char *a0, ...) {
    kvd_buf_t b = {0};
    va_list ap;
    va_start(ap, a0);
    mb_vadd(&b, a0, ap);
    va_end(ap);
    const char *r = exchange(k, c, b.p, b.len, 1);
    kvd_buf_free(&b);
    return r;
}

/* The default client. */
#define cmd(k, ...) ccmd((k), &(k)->c, __VA_ARGS__, NULL)

/* Drive until the connection closes its end (EOF), with no stray bytes. */
static void expect_eof(kv_t *k, client_t *c) {
    for (int pass = 0; !c->eof; pass++) {
        read_avail(c);
        if (c->eof)
            break;
        if (pass >= MAX_PASSES)
            fail_msg("no EOF after %d passes", pass);
        drive(k);
    }
    if (c->in.len != c->in_off)
        fail_msg("unexpected bytes before EOF: '%.*s'", (int)(c->in.len - c->in_off),
                 c->in.p + c->in_off);
}

/* The n-th key "<prefix><i>" (i counting up from *seq) that lives on shard. */
static void key_on(char *out, size_t cap, const char *prefix, uint32_t shard, int *seq) {
    for (;; (*seq)++) {
        int n = snprintf(out, cap, "%s%d", prefix, *seq);
        if (kvd_shard_of(out, (size_t)n, 4) == shard) {
            (*seq)++;
            return;
        }
    }
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An array reply of bulk strings as "a,b,c" sorted (caller frees). */
static char *sorted_array(const char *reply) {
    assert_int_equal(reply[0], '*');
    long n = strtol(reply + 1, NULL, 10);
    assert_true(n >= 0 && n < 1000);
    const char *p = strchr(reply, '\n') + 1;
    char **items = calloc((size_t)n + 1, sizeof *items);
    size_t total = 1;
    for (long i = 0; i < n; i++) {
        assert_int_equal(p[0], '$');
        long l = strtol(p + 1, NULL, 10);
        p = strchr(p, '\n') + 1;
        items[i] = strndup(p, (size_t)l);
        total += (size_t)l + 1;
        p += l + 2;
    }
    assert_int_equal(*p, '\0'); /* nothing after the array */
    qsort(items, (size_t)n, sizeof *items, cmp_str);
    char *out = calloc(1, total);
    for (long i = 0; i < n; i++) {
        if (i)
            strcat(out, ",");
        strcat(out, items[i]);
        free(items[i]);
    }
    free(items);
    return out;
}

static void expect_sorted(const char *reply, const char *want) {
    char *got = sorted_array(reply);
    assert_string_equal(got, want);
    free(got);
}

static void test_server_basics(void **state) {
    (void)state;
    kv_t k;
    kv_start(&k, KV_INI);
    assert_string_equal(cmd(&k, "PING"), "+PONG\r\n");
    assert_string_equal(cmd(&k, "ping", "hello"), "$5\r\nhello\r\n");
    assert_string_equal(cmd(&k, "PING", "a", "b"),
                        "-ERR wrong number of arguments for 'ping' command\r\n");
    assert_string_equal(cmd(&k, "ECHO", "hi there"), "$8\r\nhi there\r\n");
    assert_string_equal(cmd(&k, "ECHO", ""), "$0\r\n\r\n");
    assert_string_equal(cmd(&k, "GET", "missing"), "$-1\r\n");
    assert_string_equal(cmd(&k, "SET", "a", "1"), "+OK\r\n");
    assert_string_equal(cmd(&k, "GET", "a"), "$1\r\n1\r\n");
    assert_string_equal(cmd(&k, "set", "a", "two words"), "+OK\r\n");
    assert_string_equal(cmd(&k, "gEt", "a"), "$9\r\ntwo words\r\n");
    assert_string_equal(cmd(&k, "SET", "empty", ""), "+OK\r\n");
    assert_string_equal(cmd(&k, "GET", "empty"), "$0\r\n\r\n");
    /* binary-safe keys and values */
    {
        const char req[] = "*3\r\n$3\r\nSET\r\n$3\r\nb\0k\r\n$4\r\n\r\n\0x\r\n"
                           "*2\r\n$3\r\nGET\r\n$3\r\nb\0k\r\n";
        const char want[] = "+OK\r\n$4\r\n\r\n\0x\r\n";
        exchange(&k, &k.c, req, sizeof req - 1, 2);
        assert_int_equal(k.c.reply.len, sizeof want - 1);
        assert_memory_equal(k.c.reply.p, want, sizeof want - 1);
    }
    assert_string_equal(cmd(&k, "SELECT", "0"), "+OK\r\n");
    assert_string_equal(cmd(&k, "SELECT", "1"), "-ERR DB index is out of range\r\n");
    assert_string_equal(cmd(&k, "FOO", "a", "b"),
                        "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n");
    assert_string_equal(cmd(&k, "NOPE"), "-ERR unknown command 'NOPE', with args beginning with: \r\n");
    assert_string_equal(cmd(&k, "GET"), "-ERR wrong number of arguments for 'get' command\r\n");
    assert_string_equal(cmd(&k, "GET", "a", "b"),
                        "-ERR wrong number of arguments for 'get' command\r\n");
    assert_string_equal(cmd(&k, "SET", "a"), "-ERR wrong number of arguments for 'set' command\r\n");
    assert_string_equal(cmd(&k, "MSET", "a", "1", "b"),
                        "-ERR wrong number of arguments for 'mset' command\r\n");
    assert_string_equal(cmd(&k, "DBSIZE", "x"),
                        "-ERR wrong number of arguments for 'dbsize' command\r\n");
    /* errors leave the connection usable */
    assert_string_equal(cmd(&k, "PING"), "+PONG\r\n");
    kv_stop(&k);
}

static void test_server_set_options(void **state) {
    (void)state;
    kv_t k;
    kv_start(&k, KV_INI);
    assert_string_equal(cmd(&k, "SET", "nx", "1", "NX"), "+OK\r\n");
    assert_string_equal(cmd(&k, "SET", "nx", "2", "nx"), "$-1\r\n");
    assert_string_equal(cmd(&k, "GET", "nx"), "$1\r\n1\r\n");
    assert_string_equal(cmd(&k, "SET", "xx", "1", "XX"), "$-1\r\n");
    assert_string_equal(cmd(&k, "GET", "xx"), "$-1\r\n");
    assert_string_equal(cmd(&k, "SET", "nx", "3", "XX"), "+OK\r\n");
    assert_string_equal(cmd(&k, "GET", "nx"), "$1\r\n3\r\n");

    assert_string_equal(cmd(&k, "SET", "ex", "v", "EX", "10"), "+OK\r\n");
    assert_string_equal(cmd(&k, "TTL", "ex"), ":10\r\n");
    assert_string_equal(cmd(&k, "PTTL", "ex"), ":10000\r\n");
    assert_string_equal(cmd(&k, "SET", "px", "v", "px", "1500"), "+OK\r\n");
    assert_string_equal(cmd(&k, "PTTL", "px"), ":1500\r\n");
    assert_string_equal(cmd(&k, "TTL", "px"), ":2\r\n"); /* rounded, as Redis */
    assert_string_equal(cmd(&k, "SET", "both", "v", "NX", "EX", "5"), "+OK\r\n");
    assert_string_equal(cmd(&k, "TTL", "both"), ":5\r\n");
    /* KEEPTTL keeps it; a plain SET clears it */
    assert_string_equal(cmd(&k, "SET", "ex", "w", "KEEPTTL"), "+OK\r\n");
    assert_string_equal(cmd(&k, "TTL", "ex"), ":10\r\n");
    assert_string_equal(cmd(&k, "GET", "ex"), "$1\r\nw\r\n");
    assert_string_equal(cmd(&k, "SET", "ex", "z"), "+OK\r\n");
    assert_string_equal(cmd(&k, "TTL", "ex"), ":-1\r\n");

    const char *inval = "-ERR invalid expire time in 'set' command\r\n";
    assert_string_equal(cmd(&k, "SET", "e", "v", "EX", "0"), inval);
    assert_string_equal(cmd(&k, "SET", "e", "v", "EX", "-5"), inval);
    assert_string_equal(cmd(&k, "SET", "e", "v", "PX", "0"), inval);
    assert_string_equal(cmd(&k, "SET", "e", "v", "EX", "abc"), inval);
    assert_string_equal(cmd(&k, "SET", "e", "v", "EX", "9223372036854776"), inval);
    assert_string_equal(cmd(&k, "SET", "e", "v", "PX", "1.5"), inval);
    const char *syntax = "-ERR syntax error\r\n";
    assert_string_equal(cmd(&k, "SET", "e", "v", "EX"), syntax);
    assert_string_equal(cmd(&k, "SET", "e", "v", "NX", "XX"), syntax);
    assert_string_equal(cmd(&k, "SET", "e", "v", "XX", "NX"), syntax);
    assert_string_equal(cmd(&k, "SET", "e", "v", "EX", "10", "PX", "100"), syntax);
    assert_string_equal(cmd(&k, "SET", "e", "v", "EX", "10", "KEEPTTL"), syntax);
    assert_string_equal(cmd(&k, "SET", "e", "v", "FOO"), syntax);
    assert_string_equal(cmd(&k, "GET", "e"), "$-1\r\n"); /* none of these set it */
    kv_stop(&k);
}

static void test_server_incr_decr(void **state) {
    (void)state;
    kv_t k;
    kv_start(&k, KV_INI);
    assert_string_equal(cmd(&k, "INCR", "n"), ":1\r\n");
    assert_string_equal(cmd(&k, "INCR", "n"), ":2\r\n");
    assert_string_equal(cmd(&k, "INCRBY", "n", "10"), ":12\r\n");
    assert_string_equal(cmd(&k, "DECR", "n"), ":11\r\n");
    assert_string_equal(cmd(&k, "DECRBY", "n", "20"), ":-9\r\n");
    assert_string_equal(cmd(&k, "INCRBY", "n", "-1"), ":-10\r\n");
    assert_string_equal(cmd(&k, "GET", "n"), "$3\r\n-10\r\n");
    assert_string_equal(cmd(&k, "DECR", "fresh"), ":-1\r\n");

    const char *notint = "-ERR value is not an integer or out of range\r\n";
    assert_string_equal(cmd(&k, "INCRBY", "n", "abc"), notint);
    assert_string_equal(cmd(&k, "INCRBY", "n", "01"), notint);
    assert_string_equal(cmd(&k, "DECRBY", "n", "1.0"), notint);
    assert_string_equal(cmd(&k, "INCRBY", "n", "9223372036854775808"), notint);
    assert_string_equal(cmd(&k, "SET", "s", "abc"), "+OK\r\n");
    assert_string_equal(cmd(&k, "INCR", "s"), notint);
    assert_string_equal(cmd(&k, "SET", "s", " 1"), "+OK\r\n");
    assert_string_equal(cmd(&k, "DECR", "s"), notint);
    assert_string_equal(cmd(&k, "SET", "s", ""), "+OK\r\n");
    assert_string_equal(cmd(&k, "INCR", "s"), notint);
    assert_string_equal(cmd(&k, "GET", "s"), "$0\r\n\r\n"); /* unchanged */

    const char *over = "-ERR increment or decrement would overflow\r\n";
    assert_string_equal(cmd(&k, "SET", "big", "9223372036854775807"), "+OK\r\n");
    assert_string_equal(cmd(&k, "INCR", "big"), over);
    assert_string_equal(cmd(&k, "INCRBY", "big", "1"), over);
    assert_string_equal(cmd(&k, "GET", "big"), "$19\r\n9223372036854775807\r\n");
    assert_string_equal(cmd(&k, "DECRBY", "big", "9223372036854775807"), ":0\r\n");
    assert_string_equal(cmd(&k, "SET", "small", "-9223372036854775808"), "+OK\r\n");
    assert_string_equal(cmd(&k, "DECR", "small"), over);
    assert_string_equal(cmd(&k, "INCRBY", "small", "-1"), over);
    assert_string_equal(cmd(&k, "INCR", "small"), ":-9223372036854775807\r\n");
    assert_string_equal(cmd(&k, "DECRBY", "x", "-9223372036854775808"),
                        "-ERR decrement would overflow\r\n");
    assert_string_equal(cmd(&k, "INCRBY", "x", "-9223372036854775808"),
                        ":-9223372036854775808\r\n");
    /* INCR keeps a TTL, as Redis */
    assert_string_equal(cmd(&k, "SET", "t", "5", "EX", "100"), "+OK\r\n");
    assert_string_equal(cmd(&k, "INCR", "t"), ":6\r\n");
    assert_string_equal(cmd(&k, "TTL", "t"), ":100\r\n");
    kv_stop(&k);
}

/* Keys k0..k7 span shards; returns how many shards they cover. */
static int distinct_shards(const char *const *keys, size_t n) {
    int seen[4] = {0}, d = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t s = kvd_shard_of(keys[i], strlen(keys[i]), 4);
        d += !seen[s];
        seen[s] = 1;
    }
    return d;
}

static void test_server_multi_key(void **state) {
    (void)state;
    kv_t k;
    kv_start(&k, KV_INI);
    const char *keys[] = {"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"};
    assert_int_equal(distinct_shards(keys, 8), 4); /* the test spans every shard */

    assert_string_equal(cmd(&k, "MSET", "k0", "v0", "k1", "v1", "k2", "v2", "k3", "v3", "k4",
                            "v4", "k5", "v5", "k6", "v6", "k7", "v7"),
                        "+OK\r\n");
    assert_string_equal(cmd(&k, "DBSIZE"), ":8\r\n");
    for (int i = 0; i < 8; i++) {
        char want[32];
        snprintf(want, sizeof want, "$2\r\nv%d\r\n", i);
        assert_string_equal(cmd(&k, "GET", keys[i]), want);
    }
    /* MGET: the request's order, nulls for missing keys */
    assert_string_equal(cmd(&k, "MGET", "k7", "nope", "k0", "k3", "k3", "k5", "zz"),
                        "*7\r\n$2\r\nv7\r\n$-1\r\n$2\r\nv0\r\n$2\r\nv3\r\n$2\r\nv3\r\n"
                        "$2\r\nv5\r\n$-1\r\n");
    assert_string_equal(cmd(&k, "MGET", "nope"), "*1\r\n$-1\r\n");
    /* MSET: a later pair wins over an earlier one for the same key */
    assert_string_equal(cmd(&k, "MSET", "k1", "x", "k6", "y", "k1", "z"), "+OK\r\n");
    assert_string_equal(cmd(&k, "MGET", "k1", "k6"), "*2\r\n$1\r\nz\r\n$1\r\ny\r\n");
    /* MSET clears a TTL */
    assert_string_equal(cmd(&k, "SET", "k2", "t", "EX", "50"), "+OK\r\n");
    assert_string_equal(cmd(&k, "MSET", "k2", "v2"), "+OK\r\n");
    assert_string_equal(cmd(&k, "TTL", "k2"), ":-1\r\n");

    /* EXISTS counts repeats; DEL counts what it removed */
    assert_string_equal(cmd(&k, "EXISTS", "k0", "k1", "nope", "k0", "k7"), ":4\r\n");
    assert_string_equal(cmd(&k, "EXISTS", "nope"), ":0\r\n");
    assert_string_equal(cmd(&k, "DEL", "k0", "k1", "k2", "nope", "k0"), ":3\r\n");
    assert_string_equal(cmd(&k, "EXISTS", "k0", "k1", "k2"), ":0\r\n");
    assert_string_equal(cmd(&k, "DBSIZE"), ":5\r\n");
    assert_string_equal(cmd(&k, "DEL", "k3", "k4", "k5", "k6", "k7"), ":5\r\n");
    assert_string_equal(cmd(&k, "DBSIZE"), ":0\r\n");
    assert_string_equal(cmd(&k, "DEL", "k3"), ":0\r\n");

    /* KEYS: order across shards is not defined, so sort */
    assert_string_equal(cmd(&k, "MSET", "user:1", "a", "user:2", "b", "user:10", "c", "other",
                            "d", "usr:3", "e"),
                        "+OK\r\n");
    expect_sorted(cmd(&k, "KEYS", "user:*"), "user:1,user:10,user:2");
    expect_sorted(cmd(&k, "KEYS", "*"), "other,user:1,user:10,user:2,usr:3");
    expect_sorted(cmd(&k, "KEYS", "user:?"), "user:1,user:2");
    expect_sorted(cmd(&k, "KEYS", "us[a-q]*"), "user:1,user:10,user:2");
    expect_sorted(cmd(&k, "KEYS", "us[a-r]*"), "user:1,user:10,user:2,usr:3");
    expect_sorted(cmd(&k, "KEYS", "u*:[!1]*"), "user:2,usr:3");
    assert_string_equal(cmd(&k, "KEYS", "none*"), "*0\r\n");

    assert_string_equal(cmd(&k, "FLUSHALL"), "+OK\r\n");
    assert_string_equal(cmd(&k, "DBSIZE"), ":0\r\n");
    assert_string_equal(cmd(&k, "KEYS", "*"), "*0\r\n");
    assert_string_equal(cmd(&k, "GET", "user:1"), "$-1\r\n");
    assert_string_equal(cmd(&k, "SET", "a", "1"), "+OK\r\n");
    assert_string_equal(cmd(&k, "FLUSHDB", "ASYNC"), "+OK\r\n");
    assert_string_equal(cmd(&k, "DBSIZE"), ":0\r\n");
    assert_string_equal(cmd(&k, "FLUSHALL", "SYNC"), "+OK\r\n");
    assert_string_equal(cmd(&k, "FLUSHALL", "NOW"), "-ERR syntax error\r\n");
    kv_stop(&k);
}

static void test_server_expire_commands(void **state) {
    (void)state;
    kv_t k;
    kv_start(&k, KV_INI);
    assert_string_equal(cmd(&k, "SET", "a", "1"), "+OK\r\n");
    assert_string_equal(cmd(&k, "TTL", "a"), ":-1\r\n");
    assert_string_equal(cmd(&k, "PTTL", "a"), ":-1\r\n");
    assert_string_equal(cmd(&k, "TTL", "nope"), ":-2\r\n");
    assert_string_equal(cmd(&k, "PTTL", "nope"), ":-2\r\n");
    assert_string_equal(cmd(&k, "EXPIRE", "a", "10"), ":1\r\n");
    assert_string_equal(cmd(&k, "EXPIRE", "nope", "10"), ":0\r\n");
    assert_string_equal(cmd(&k, "TTL", "a"), ":10\r\n");
    assert_int_equal(tr_runtime_advance(k.rt, 1500), 0);
    assert_string_equal(cmd(&k, "PTTL", "a"), ":8500\r\n");
    assert_string_equal(cmd(&k, "TTL", "a"), ":9\r\n");
    assert_string_equal(cmd(&k, "PEXPIRE", "a", "1234"), ":1\r\n");
    assert_string_equal(cmd(&k, "PTTL", "a"), ":1234\r\n");
    assert_string_equal(cmd(&k, "PERSIST", "a"), ":1\r\n");
    assert_string_equal(cmd(&k, "TTL", "a"), ":-1\r\n");
    assert_string_equal(cmd(&k, "PERSIST", "a"), ":0\r\n");
    assert_string_equal(cmd(&k, "PERSIST", "nope"), ":0\r\n");
    assert_int_equal(tr_runtime_advance(k.rt, 5000), 0);
    assert_string_equal(cmd(&k, "GET", "a"), "$1\r\n1\r\n"); /* persisted: still there */

    /* a deadline now or in the past deletes */
    assert_string_equal(cmd(&k, "EXPIRE", "a", "-1"), ":1\r\n");
    assert_string_equal(cmd(&k, "GET", "a"), "$-1\r\n");
    assert_string_equal(cmd(&k, "SET", "b", "1"), "+OK\r\n");
    assert_string_equal(cmd(&k, "PEXPIRE", "b", "0"), ":1\r\n");
    assert_string_equal(cmd(&k, "EXISTS", "b"), ":0\r\n");

    const char *notint = "-ERR value is not an integer or out of range\r\n";
    assert_string_equal(cmd(&k, "EXPIRE", "a", "abc"), notint);
    assert_string_equal(cmd(&k, "PEXPIRE", "a", "1s"), notint);
    assert_string_equal(cmd(&k, "EXPIRE", "a", "9223372036854775807"),
                        "-ERR invalid expire time in 'expire' command\r\n");
    assert_string_equal(cmd(&k, "PEXPIRE", "a", "9223372036854775807"),
                        "-ERR invalid expire time in 'pexpire' command\r\n");
    assert_string_equal(cmd(&k, "EXPIRE", "a"),
                        "-ERR wrong number of arguments for 'expire' command\r\n");
    kv_stop(&k);
}

/* Lazy expiry (a read after the deadline, before any tick) and active
 * expiry (the shard's 100 ms tick, with no read at all). */
static void test_server_expiry_with_the_clock(void **state) {
    (void)state;
    kv_t k;
    kv_start(&k, KV_INI);
    assert_int_equal(tr_runtime_now_ms(k.rt), 0);
    uint64_t expired0 = KVD_STAT_GET(expired_keys);

    /* lazy: the first tick is at 100 ms, the key expires at 50 */
    assert_string_equal(cmd(&k, "SET", "lazy", "v", "PX", "50"), "+OK\r\n");
    assert_string_equal(cmd(&k, "SET", "keep", "v"), "+OK\r\n");
    assert_int_equal(tr_runtime_advance(k.rt, 49), 0);
    assert_string_equal(cmd(&k, "GET", "lazy"), "$1\r\nv\r\n");
    assert_string_equal(cmd(&k, "PTTL", "lazy"), ":1\r\n");
    assert_int_equal(tr_runtime_advance(k.rt, 11), 0); /* now 60 */
    assert_string_equal(cmd(&k, "KEYS", "*"), "*1\r\n$4\r\nkeep\r\n"); /* KEYS hides it */
    assert_string_equal(cmd(&k, "DBSIZE"), ":2\r\n"); /* not removed yet */
    assert_int_equal(KVD_STAT_GET(expired_keys), expired0);
    assert_string_equal(cmd(&k, "GET", "lazy"), "$-1\r\n");
    assert_int_equal(KVD_STAT_GET(expired_keys), expired0 + 1);
    assert_string_equal(cmd(&k, "DBSIZE"), ":1\r\n");
    assert_string_equal(cmd(&k, "TTL", "lazy"), ":-2\r\n");

    /* active: no read, the tick removes it */
    assert_string_equal(cmd(&k, "SET", "a1", "v", "PX", "150"), "+OK\r\n"); /* at 210 */
    assert_string_equal(cmd(&k, "SET", "a2", "v", "EX", "1"), "+OK\r\n");   /* at 1060 */
    assert_string_equal(cmd(&k, "SET", "a3", "v", "PX", "100000"), "+OK\r\n");
    assert_string_equal(cmd(&k, "DBSIZE"), ":4\r\n");
    assert_int_equal(tr_runtime_advance(k.rt, 240), 0); /* now 300: tick at 300 ran */
    assert_int_equal(tr_runtime_now_ms(k.rt), 300);
    assert_string_equal(cmd(&k, "DBSIZE"), ":3\r\n");
    assert_int_equal(KVD_STAT_GET(expired_keys), expired0 + 2);
    assert_int_equal(tr_runtime_advance(k.rt, 800), 0); /* now 1100 */
    assert_string_equal(cmd(&k, "DBSIZE"), ":2\r\n");
    assert_int_equal(KVD_STAT_GET(expired_keys), expired0 + 3);
    expect_sorted(cmd(&k, "KEYS", "*"), "a3,keep");
    assert_string_equal(cmd(&k, "PTTL", "a3"), ":98960\r\n"); /* set at 60 + 100000 */
    /* a key whose TTL was removed is not expired by the tick */
    assert_string_equal(cmd(&k, "PERSIST", "a3"), ":1\r\n");
    assert_int_equal(tr_runtime_advance(k.rt, 200000), 0);
    assert_string_equal(cmd(&k, "DBSIZE"), ":2\r\n");
    assert_string_equal(cmd(&k, "GET", "a3"), "$1\r\nv\r\n");

    /* many keys with interleaved deadlines (the expiry heap) */
    kvd_buf_t req = {0};
    char key[16], ms[16];
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof key, "h%d", i);
        snprintf(ms, sizeof ms, "%d", 1 + (i * 37) % 1000);
        mb_add(&req, "SET", key, "v", "PX", ms, NULL);
    }
    exchange(&k, &k.c, req.p, req.len, 200);
    kvd_buf_free(&req);
    assert_string_equal(cmd(&k, "DBSIZE"), ":202\r\n");
    assert_string_equal(cmd(&k, "PERSIST", "h3"), ":1\r\n"); /* out of the heap's middle */
    assert_string_equal(cmd(&k, "DEL", "h5"), ":1\r\n");
    assert_int_equal(tr_runtime_advance(k.rt, 500), 0);
    int alive = 0;
    for (int i = 0; i < 200; i++)
        alive += i != 5 && (i == 3 || 1 + (i * 37) % 1000 > 500);
    char want[32];
    snprintf(want, sizeof want, ":%d\r\n", alive + 2);
    /* ticks at multiples of 100 ms: at now (+500) every deadline <= 500 is gone */
    assert_string_equal(cmd(&k, "DBSIZE"), want);
    assert_int_equal(tr_runtime_advance(k.rt, 600), 0);
    assert_string_equal(cmd(&k, "DBSIZE"), ":3\r\n");
    expect_sorted(cmd(&k, "KEYS", "*"), "a3,h3,keep");
    kv_stop(&k);
}

static void test_server_config_command_info(void **state) {
    (void)state;
    kv_t k;
    kv_start(&k, KV_INI);
    assert_string_equal(cmd(&k, "CONFIG", "GET", "port"), "*2\r\n$4\r\nport\r\n$1\r\n0\r\n");
    assert_string_equal(cmd(&k, "config", "get", "SHARDS"), "*2\r\n$6\r\nshards\r\n$1\r\n4\r\n");
    assert_string_equal(cmd(&k, "CONFIG", "GET", "nothing"), "*0\r\n");
    assert_string_equal(cmd(&k, "CONFIG", "GET", "save", "appendonly", "save"),
                        "*4\r\n$4\r\nsave\r\n$0\r\n\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
    assert_string_equal(cmd(&k, "CONFIG", "GET", "*"),
                        "*22\r\n"
                        "$4\r\nbind\r\n$9\r\n127.0.0.1\r\n"
                        "$4\r\nport\r\n$1\r\n0\r\n"
                        "$6\r\nshards\r\n$1\r\n4\r\n"
                        "$11\r\nmax_clients\r\n$5\r\n10000\r\n"
                        "$14\r\nclient_mailbox\r\n$3\r\n256\r\n"
                        "$13\r\nshard_mailbox\r\n$4\r\n4096\r\n"
                        "$15\r\nrequest_timeout\r\n$6\r\n1000ms\r\n"
                        "$8\r\nmax_bulk\r\n$9\r\n536870912\r\n"
                        "$14\r\ndebug_commands\r\n$3\r\nyes\r\n"
                        "$10\r\nappendonly\r\n$2\r\nno\r\n"
                        "$4\r\nsave\r\n$0\r\n\r\n");
    assert_string_equal(cmd(&k, "CONFIG", "GET"),
                        "-ERR wrong number of arguments for 'config|get' command\r\n");
    assert_string_equal(cmd(&k, "CONFIG", "SET", "port", "1"),
                        "-ERR CONFIG SET is not supported: edit kvd.ini and send SIGHUP\r\n");
    assert_string_equal(cmd(&k, "CONFIG", "REWRITE"), "-ERR CONFIG supports only GET\r\n");
    assert_string_equal(cmd(&k, "CONFIG"),
                        "-ERR wrong number of arguments for 'config' command\r\n");

    assert_string_equal(cmd(&k, "COMMAND", "COUNT"), ":27\r\n");
    assert_string_equal(cmd(&k, "COMMAND", "INFO", "get", "nope"),
                        "*2\r\n*6\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n"
                        ":1\r\n:1\r\n:1\r\n$-1\r\n");
    assert_string_equal(cmd(&k, "COMMAND", "INFO", "MSET"),
                        "*1\r\n*6\r\n$4\r\nmset\r\n:-3\r\n*2\r\n+write\r\n+denyoom\r\n"
                        ":1\r\n:-1\r\n:2\r\n");
    const char *all = cmd(&k, "COMMAND");
    assert_true(strncmp(all, "*27\r\n*6\r\n$3\r\nget\r\n:2\r\n", 22) == 0);
    assert_non_null(strstr(all, "$5\r\ndebug\r\n:-2\r\n*2\r\n+admin\r\n+noscript\r\n"));
    assert_string_equal(cmd(&k, "COMMAND", "DOCS"),
                        "-ERR unknown subcommand 'DOCS'. Try COMMAND, COMMAND COUNT, "
                        "COMMAND INFO\r\n");

    /* INFO keyspace: the sum over the shards */
    assert_string_equal(cmd(&k, "MSET", "k0", "a", "k1", "b", "k2", "c"), "+OK\r\n");
    assert_string_equal(cmd(&k, "EXPIRE", "k1", "100"), ":1\r\n");
    const char body[] = "# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=0\r\n\r\n";
    char want[128];
    snprintf(want, sizeof want, "$%zu\r\n%s\r\n", sizeof body - 1, body);
    assert_string_equal(cmd(&k, "INFO", "keyspace"), want);
    const char *info = cmd(&k, "INFO");
    assert_non_null(strstr(info, "# Server\r\n"));
    assert_non_null(strstr(info, "shards:4\r\n"));
    assert_non_null(strstr(info, "connected_clients:1\r\n"));
    assert_non_null(strstr(info, "# Shards\r\nshard_0:keys="));
    assert_non_null(strstr(info, "calls_pending:"));
    assert_string_equal(cmd(&k, "INFO", "a", "b"), "-ERR syntax error\r\n");
    kv_stop(&k);
}

static void test_server_inline_and_split_input(void **state) {
    (void)state;
    kv_t k;
    kv_start(&k, KV_INI);
    const char *r = exchange(&k, &k.c, S("PING\r\n"), 1);
    assert_string_equal(r, "+PONG\r\n");
    r = exchange(&k, &k.c, S("SET il  inline\r\n\r\n\r\nGET il\nECHO x\r\n"), 3);
    assert_string_equal(r, "+OK\r\n$6\r\ninline\r\n$1\r\nx\r\n");
    /* empty requests get no reply */
    r = exchange(&k, &k.c, S("*0\r\n\r\n*-1\r\nPING\r\n"), 1);
    assert_string_equal(r, "+PONG\r\n");

    /* a request arriving one byte at a time */
    const char req[] = "*3\r\n$3\r\nSET\r\n$5\r\nsplit\r\n$3\r\nyes\r\n";
    for (size_t i = 0; i + 1 < sizeof req - 1; i++) {
        assert_int_equal(send(k.c.fd, req + i, 1, MSG_NOSIGNAL), 1);
        drive(&k);
        read_avail(&k.c);
        assert_int_equal(k.c.in.len, 0); /* no reply before the last byte */
    }
    r = exchange(&k, &k.c, req + sizeof req - 2, 1, 1);
    assert_string_equal(r, "+OK\r\n");
    assert_string_equal(cmd(&k, "GET", "split"), "$3\r\nyes\r\n");

    /* a large value: many reads in, many writes out */
    size_t big = 600 * 1024;
    char *v = malloc(big + 1);
    for (size_t i = 0; i < big; i++)
        v[i] = (char)('a' + i % 26);
    v[big] = '\0';
    assert_string_equal(cmd(&k, "SET", "big", v), "+OK\r\n");
    r = cmd(&k, "GET", "big");
    char hdr[32];
    int hl = snprintf(hdr, sizeof hdr, "$%zu\r\n", big);
    assert_int_equal(k.c.reply.len, (size_t)hl + big + 2);
    assert_memory_equal(r, hdr, (size_t)hl);
    assert_memory_equal(r + hl, v, big);
    assert_memory_equal(r + hl + big, "\r\n", 2);
    free(v);
    kv_stop(&k);
}

static void test_server_quit(void **state) {
    (void)state;
    kv_t k;
    kv_start(&k, KV_INI);
    assert_string_equal(cmd(&k, "SET", "q", "1"), "+OK\r\n");
    /* QUIT: +OK, then the connection closes; what follows is not run */
    const char *r = exchange(&k, &k.c, S("GET q\r\nQUIT\r\nSET q 2\r\nPING\r\n"), 2);
    assert_string_equal(r, "$1\r\n1\r\n+OK\r\n");
    expect_eof(&k, &k.c);
    tt_drain(k.rt);
    assert_false(tr_actor_alive(k.rt, k.c.ref));
    /* the server goes on */
    client_t c2;
    client_open(&k, &c2);
    assert_string_equal(ccmd(&k, &c2, "GET", "q", NULL), "$1\r\n1\r\n");
    assert_string_equal(ccmd(&k, &c2, "quit", NULL), "+OK\r\n");
    expect_eof(&k, &c2);
    client_free(&c2);
    kv_stop(&k);
}

static void test_server_pipelining(void **state) {
    (void)state;
    kv_t k;
    kv_start(&k, KV_INI);
    /* 100 mixed commands in one write: replies in request order */
    kvd_buf_t req = {0}, want = {0};
    char key[32], val[32], line[96];
    int counter = 0;
    for (int i = 0; i < 100; i++) {
        int j = i / 5;
        snprintf(key, sizeof key, "k%d", j);
        snprintf(val, sizeof val, "v%d", j);
        switch (i % 5) {
        case 0:
            mb_add(&req, "SET", key, val, NULL);
            kvd_buf_add(&want, S("+OK\r\n"));
            break;
        case 1:
            mb_add(&req, "GET", key, NULL);
            resp_bulk_str(&want, val);
            break;
        case 2:
            mb_add(&req, "INCR", "counter", NULL);
            resp_int(&want, ++counter);
            break;
        case 3:
            mb_add(&req, "PING", NULL);
            kvd_buf_add(&want, S("+PONG\r\n"));
            break;
        default:
            mb_add(&req, "MGET", key, "missing", "k0", NULL);
            snprintf(line, sizeof line, "*3\r\n$%zu\r\n%s\r\n$-1\r\n$2\r\nv0\r\n", strlen(val),
                     val);
            kvd_buf_add(&want, line, strlen(line));
            break;
        }
    }
    const char *r = exchange(&k, &k.c, req.p, req.len, 100);
    assert_int_equal(k.c.reply.len, want.len);
    assert_memory_equal(r, want.p, want.len);

    /* 3000 commands (several batches of at most 1024) over every shard */
    req.len = want.len = 0;
    int shards_hit[4] = {0};
    for (int i = 0; i < 1500; i++) {
        int n = snprintf(key, sizeof key, "key:%d", i);
        shards_hit[kvd_shard_of(key, (size_t)n, 4)]++;
        snprintf(val, sizeof val, "value-%d", i * 7);
        mb_add(&req, "SET", key, val, NULL);
        kvd_buf_add(&want, S("+OK\r\n"));
        snprintf(key, sizeof key, "key:%d", i / 2); /* set earlier (or just now) */
        snprintf(val, sizeof val, "value-%d", (i / 2) * 7);
        mb_add(&req, "GET", key, NULL);
        resp_bulk_str(&want, val);
    }
    for (int s = 0; s < 4; s++)
        assert_true(shards_hit[s] > 0);
    r = exchange(&k, &k.c, req.p, req.len, 3000);
    assert_int_equal(k.c.reply.len, want.len);
    assert_memory_equal(r, want.p, want.len);
    assert_string_equal(cmd(&k, "DBSIZE"), ":1521\r\n");
    kvd_buf_free(&req);
    kvd_buf_free(&want);
    kv_stop(&k);
}

static void test_server_protocol_error(void **state) {
    (void)state;
    kv_t k;
    kv_start(&k, KV_INI);
    uint64_t perrs = KVD_STAT_GET(protocol_errors);
    /* the commands before the bad one are answered, then the error, then EOF */
    const char *r = exchange(&k, &k.c, S("*1\r\n$4\r\nPING\r\nSET a 1\r\n*1\r\nx\r\nPING\r\n"), 3);
    assert_string_equal(r, "+PONG\r\n+OK\r\n-ERR Protocol error: expected '$', got 'x'\r\n");
    expect_eof(&k, &k.c);
    tt_drain(k.rt);
    assert_int_equal(tr_actor_alive(k.rt, k.c.ref), 0);
    assert_int_equal(KVD_STAT_GET(protocol_errors), perrs + 1);

    client_t c;
    client_open(&k, &c);
    assert_string_equal(ccmd(&k, &c, "GET", "a", NULL), "$1\r\n1\r\n"); /* the SET ran */
    r = exchange(&k, &c, S("*abc\r\n"), 1);
    assert_string_equal(r, "-ERR Protocol error: invalid multibulk length\r\n");
    expect_eof(&k, &c);
    tt_drain(k.rt);
    assert_int_equal(tr_actor_alive(k.rt, c.ref), 0);
    client_free(&c);

    client_open(&k, &c);
    r = exchange(&k, &c, S("*2\r\n$3\r\nGET\r\n$1\r\nabc\r\n"), 1);
    assert_string_equal(r, "-ERR Protocol error: bulk string not followed by CRLF\r\n");
    expect_eof(&k, &c);
    client_free(&c);
    assert_int_equal(KVD_STAT_GET(protocol_errors), perrs + 3);
    kv_stop(&k);

    /* max_bulk from the config */
    kv_start(&k, "[kvd]\nport = 0\nmax_bulk = 8\n");
    assert_string_equal(cmd(&k, "SET", "a", "12345678"), "+OK\r\n");
    r = exchange(&k, &k.c, S("*3\r\n$3\r\nSET\r\n$1\r\na\r\n$9\r\n"), 1);
    assert_string_equal(r, "-ERR Protocol error: invalid bulk length\r\n");
    expect_eof(&k, &k.c);
    kv_stop(&k);
}

static void expect_drop(const char *reply) {
    if (strncmp(reply, "-ERR DropWithoutReport: shard-1 ", 32) != 0)
        fail_msg("want a DropWithoutReport error from shard-1, got '%s'", reply);
}

/* Restarts of each shard. */
static void shard_restarts(kv_t *k, uint32_t out[4]) {
    tr_ref_t sup;
    assert_int_equal(tr_whereis(k->rt, KVD_SHARDS_SUP, &sup), 0);
    tr_child_info_t kids[4];
    assert_int_equal(tr_sup_which_children(k->rt, sup, kids, 4), 4);
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "shard-%d", i);
        assert_string_equal(kids[i].name, name);
        assert_int_equal(kids[i].state, TR_CHILD_RUNNING);
        out[i] = kids[i].restarts;
    }
}

static void test_server_debug_panic(void **state) {
    (void)state;
    kv_t k;
    kv_start(&k, KV_INI);
    char key1[16];
    int seq = 0;
    key_on(key1, sizeof key1, "s1-", 1, &seq);
    assert_string_equal(cmd(&k, "SET", key1, "v"), "+OK\r\n");
    tr_ref_t old;
    assert_int_equal(tr_whereis(k.rt, "kvd/shards/shard-1", &old), 0);

    const char *r = cmd(&k, "DEBUG", "PANIC", "1");
    expect_drop(r);
    assert_non_null(strstr(r, "panicked"));
    assert_non_null(strstr(r, "DEBUG PANIC: shard-1 asked to crash, losing its 1 key(s)"));
    assert_ptr_equal(strchr(r, '\n') + 1, r + strlen(r)); /* one line */
    assert_int_equal(g_panics, 1);
    assert_string_equal(g_panic_path, "kvd/shards/shard-1");
    assert_string_equal(g_panic_msg, "KVD_PANIC");
    assert_string_equal(g_panic_reason, "DEBUG PANIC: shard-1 asked to crash, losing its 1 key(s)");
    assert_int_equal(g_panic_incarnation, 1);
    tt_drain(k.rt);
    uint32_t restarts[4];
    shard_restarts(&k, restarts);
    assert_int_equal(restarts[0], 0);
    assert_int_equal(restarts[1], 1);
    assert_int_equal(restarts[2], 0);
    assert_int_equal(restarts[3], 0);
    tr_ref_t fresh;
    assert_int_equal(tr_whereis(k.rt, "kvd/shards/shard-1", &fresh), 0);
    assert_false(tr_ref_eq(old, fresh));
    assert_false(tr_actor_alive(k.rt, old));
    /* the new shard is empty and serves (the connection finds it by name) */
    assert_string_equal(cmd(&k, "GET", key1), "$-1\r\n");
    assert_string_equal(cmd(&k, "SET", key1, "again"), "+OK\r\n");
    assert_string_equal(cmd(&k, "GET", key1), "$5\r\nagain\r\n");
    assert_true(tr_actor_alive(k.rt, k.c.ref)); /* the connection was not hurt */

    /* argument checks */
    assert_string_equal(cmd(&k, "DEBUG", "PANIC", "4"), "-ERR no such shard (0 to 3)\r\n");
    assert_string_equal(cmd(&k, "DEBUG", "PANIC", "-1"), "-ERR no such shard (0 to 3)\r\n");
    assert_string_equal(cmd(&k, "DEBUG", "PANIC", "x"), "-ERR no such shard (0 to 3)\r\n");
    assert_string_equal(cmd(&k, "DEBUG", "PANIC"),
                        "-ERR DEBUG supports only: DEBUG PANIC <shard>\r\n");
    assert_string_equal(cmd(&k, "DEBUG", "SLEEP", "0"),
                        "-ERR DEBUG supports only: DEBUG PANIC <shard>\r\n");
    expect_drop(cmd(&k, "DEBUG", "panic", "shard-1"));
    tt_drain(k.rt);
    shard_restarts(&k, restarts);
    assert_int_equal(restarts[1], 2);
    kv_stop(&k);
}

static void test_server_debug_panic_pipelined(void **state) {
    (void)state;
    kv_t k;
    kv_start(&k, KV_INI);
    /* keys on the other shards survive the panic of shard-1 */
    char other[3][16];
    int seq = 0;
    for (int s = 0, i = 0; s < 4; s++) {
        if (s == 1)
            continue;
        key_on(other[i], sizeof other[i], "o-", (uint32_t)s, &seq);
        assert_string_equal(cmd(&k, "SET", other[i], "kept"), "+OK\r\n");
        i++;
    }
    char a[3][16];
    seq = 0;
    kvd_buf_t req = {0};
    for (int i = 0; i < 3; i++) {
        key_on(a[i], sizeof a[i], "a", 1, &seq);
        mb_add(&req, "SET", a[i], "x", NULL);
    }
    mb_add(&req, "DEBUG", "PANIC", "1", NULL);
    mb_add(&req, "GET", a[0], NULL);
    mb_add(&req, "GET", other[0], NULL);
    const char *r = exchange(&k, &k.c, req.p, req.len, 6);
    kvd_buf_free(&req);
    /* every request has its reply, in order: a value or DropWithoutReport */
    const char *p = r;
    for (int i = 0; i < 6; i++) {
        size_t l = value_len(p, strlen(p));
        assert_true(l > 0);
        char one[512];
        snprintf(one, sizeof one, "%.*s", (int)l, p);
        if (i < 3) {
            if (strcmp(one, "+OK\r\n") != 0)
                expect_drop(one);
        } else if (i == 3) {
            expect_drop(one);
            assert_non_null(strstr(one, "panicked"));
        } else if (i == 4) {
            if (strcmp(one, "$1\r\nx\r\n") != 0)
                expect_drop(one);
        } else {
            assert_string_equal(one, "$4\r\nkept\r\n");
        }
        p += l;
    }
    assert_string_equal(p, "");
    tt_drain(k.rt);
    uint32_t restarts[4];
    shard_restarts(&k, restarts);
    assert_int_equal(restarts[0], 0);
    assert_int_equal(restarts[1], 1);
    assert_int_equal(restarts[2], 0);
    assert_int_equal(restarts[3], 0);
    /* shard-1 starts empty, the others kept their keys */
    for (int i = 0; i < 3; i++)
        assert_string_equal(cmd(&k, "GET", a[i]), "$-1\r\n");
    for (int i = 0; i < 3; i++)
        assert_string_equal(cmd(&k, "GET", other[i]), "$4\r\nkept\r\n");
    assert_string_equal(cmd(&k, "DBSIZE"), ":3\r\n");
    assert_string_equal(cmd(&k, "EXISTS", a[0], other[0], other[1], other[2]), ":3\r\n");
    kv_stop(&k);
}

static void test_server_debug_disabled(void **state) {
    (void)state;
    kv_t k;
    kv_start(&k, "[kvd]\nport = 0\nshards = 4\ndebug_commands = no\n");
    assert_string_equal(cmd(&k, "DEBUG", "PANIC", "1"),
                        "-ERR DEBUG is disabled: set debug_commands = yes in [kvd] and reload\r\n");
    assert_string_equal(cmd(&k, "CONFIG", "GET", "debug_commands"),
                        "*2\r\n$14\r\ndebug_commands\r\n$2\r\nno\r\n");
    uint32_t restarts[4];
    shard_restarts(&k, restarts);
    for (int i = 0; i < 4; i++)
        assert_int_equal(restarts[i], 0);
    kv_stop(&k);
}

/* kvd_start on a runtime without a config (opts.config NULL, as an
 * application embedding kvd with settings built in code would): the tree
 * and the connections must serve with the settings they were given. */
static void kv_start_no_config(kv_t *k, const kvd_settings_t *s) {
    memset(k, 0, sizeof *k);
    k->c.fd = -1;
    k->settings = *s;
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.manual_clock = 1;
    o.log = capture_log;
    o.watchdog_ms = -1;
    o.stall_ms = -1;
    k->rt = tt_runtime(&o);
    assert_int_equal(tr_set_panic_hook(k->rt, record_panic, NULL), 0);
    kvd_listener_args_t largs;
    memset(&largs, 0, sizeof largs);
    largs.settings = k->settings;
    assert_int_equal(kvd_start(k->rt, &largs), 0);
    tt_drain(k->rt);
    client_open(k, &k->c);
}

static void test_server_no_config_conn_settings(void **state) {
    (void)state;
    kvd_settings_t s;
    assert_int_equal(kvd_settings_read(NULL, &s, NULL), 0);
    s.port = 0;
    s.debug_commands = 1;
    s.max_bulk = 20; /* every argument below fits; a default would be 512 MiB */
    s.client_mailbox = 16;
    kv_t k;
    kv_start_no_config(&k, &s);
    assert_string_equal(cmd(&k, "PING"), "+PONG\r\n");
    /* collect, shut down, then compare (a failure must not leak the runtime) */
    char *bulk = strdup(cmd(&k, "CONFIG", "GET", "max_bulk"));
    char *debug = strdup(cmd(&k, "CONFIG", "GET", "debug_commands"));
    char *panic = strdup(cmd(&k, "DEBUG", "PANIC", "9"));
    tr_mailbox_info_t mi;
    assert_int_equal(tr_mailbox_info(k.rt, k.c.ref, &mi), 0);
    kv_stop(&k);
    char got[512];
    snprintf(got, sizeof got, "%s|%s|%s|%u", bulk, debug, panic, mi.capacity);
    free(bulk);
    free(debug);
    free(panic);
    assert_string_equal(got, "*2\r\n$8\r\nmax_bulk\r\n$2\r\n20\r\n|"
                             "*2\r\n$14\r\ndebug_commands\r\n$3\r\nyes\r\n|"
                             "-ERR no such shard (0 to 3)\r\n|16");
}

static void test_server_no_config_shard_mailbox(void **state) {
    (void)state;
    /* with a config, [kvd] shard_mailbox sizes the shards' mailboxes */
    kv_t k;
    kv_start(&k, "[kvd]\nport = 0\nshard_mailbox = 32\n");
    tr_ref_t shard;
    tr_mailbox_info_t mi;
    assert_int_equal(tr_whereis(k.rt, "kvd/shards/shard-0", &shard), 0);
    assert_int_equal(tr_mailbox_info(k.rt, shard, &mi), 0);
    assert_int_equal(mi.capacity, 32);
    kv_stop(&k);
    /* without one, the settings given to kvd_start do */
    kvd_settings_t s;
    assert_int_equal(kvd_settings_read(NULL, &s, NULL), 0);
    s.port = 0;
    s.shard_mailbox = 32;
    kv_start_no_config(&k, &s);
    assert_int_equal(tr_whereis(k.rt, "kvd/shards/shard-0", &shard), 0);
    assert_int_equal(tr_mailbox_info(k.rt, shard, &mi), 0);
    kv_stop(&k);
    assert_int_equal(mi.capacity, 32);
}

/* The client sends its requests, then shuts down its sending side
 * (shutdown(SHUT_WR), as `printf 'SET k v\r\n' | nc -N host port` does):
 * the requests that arrived before the EOF are run and answered, then the
 * connection closes. (Redis reads once per readable event, so it runs
 * them.) */
static void test_server_half_close(void **state) {
    (void)state;
    kv_t k;
    kv_start(&k, KV_INI);
    assert_int_equal(send(k.c.fd, S("SET hc 1\r\nPING\r\n"), MSG_NOSIGNAL), 16);
    assert_int_equal(shutdown(k.c.fd, SHUT_WR), 0);
    for (int pass = 0; !k.c.eof && pass < MAX_PASSES; pass++) {
        drive(&k);
        read_avail(&k.c);
    }
    assert_true(k.c.eof);
    tt_drain(k.rt);
    assert_false(tr_actor_alive(k.rt, k.c.ref));
    client_t c;
    client_open(&k, &c);
    const char *set = ccmd(&k, &c, "GET", "hc", NULL);
    char got[64];
    snprintf(got, sizeof got, "%.*s", (int)k.c.in.len, k.c.in.p ? k.c.in.p : "");
    int executed = strcmp(set, "$1\r\n1\r\n") == 0;
    client_free(&c);
    if (!executed || strcmp(got, "+OK\r\n+PONG\r\n") != 0) {
        kv_stop(&k);
        fail_msg("requests before the client's EOF: replies '%s' (want '+OK\\r\\n+PONG\\r\\n'), "
                 "SET %s", got, executed ? "ran" : "did not run");
    }
    kv_stop(&k);
}

/* The same with exactly 16 KiB before the EOF: one read(2) fills the
 * connection's fresh 16 KiB input buffer, so it reads again and gets the
 * EOF in the same event. The requests already read must still run. */
static void test_server_half_close_full_read(void **state) {
    (void)state;
    kv_t k;
    kv_start(&k, KV_INI);
    kvd_buf_t req = {0};
    size_t n = 16384 - 60;
    char *v = NULL;
    for (;; n++) { /* the value length that makes the whole write 16384 bytes */
        free(v);
        v = malloc(n + 1);
        memset(v, 'x', n);
        v[n] = '\0';
        req.len = 0;
        mb_add(&req, "SET", "hf", v, NULL);
        mb_add(&req, "PING", NULL);
        if (req.len >= 16384)
            break;
    }
    assert_int_equal(req.len, 16384);
    assert_int_equal(send(k.c.fd, req.p, req.len, MSG_NOSIGNAL), 16384);
    kvd_buf_free(&req);
    assert_int_equal(shutdown(k.c.fd, SHUT_WR), 0);
    for (int pass = 0; !k.c.eof && pass < MAX_PASSES; pass++) {
        drive(&k);
        read_avail(&k.c);
    }
    assert_true(k.c.eof);
    char got[64];
    snprintf(got, sizeof got, "%.*s", (int)k.c.in.len, k.c.in.p ? k.c.in.p : "");
    client_t c;
    client_open(&k, &c);
    int executed = strcmp(ccmd(&k, &c, "EXISTS", "hf", NULL), ":1\r\n") == 0;
    client_free(&c);
    free(v);
    if (!executed || strcmp(got, "+OK\r\n+PONG\r\n") != 0) {
        kv_stop(&k);
        fail_msg("16384 bytes then EOF: replies '%s' (want '+OK\\r\\n+PONG\\r\\n'), SET %s",
                 got, executed ? "ran" : "did not run");
    }
    kv_stop(&k);
}

/* The peer closes its end while calls to the shards are in flight: the
 * connection stops and every call resolves. */
static void test_server_peer_closes_in_flight(void **state) {
    (void)state;
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.pass_budget = 1; /* one actor turn per pass, to stop in the middle */
    kv_t k;
    kv_start_opts(&k, KV_INI, &o);
    kvd_buf_t req = {0};
    char key[32];
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof key, "key:%d", i);
        mb_add(&req, i % 3 ? "GET" : "INCR", key, NULL);
    }
    mb_add(&req, "DBSIZE", NULL);
    mb_add(&req, "MGET", "key:1", "key:2", "key:3", "key:4", NULL);
    assert_int_equal(send(k.c.fd, req.p, req.len, MSG_NOSIGNAL), (ssize_t)req.len);
    kvd_buf_free(&req);
    int pass = 0;
    while (tt_stats(k.rt).chan_pending == 0 && pass++ < MAX_PASSES)
        assert_true(tr_runtime_poll(k.rt) >= 0);
    assert_true(tt_stats(k.rt).chan_pending > 0);
    close(k.c.fd);
    k.c.fd = -1;
    tt_drain(k.rt);
    assert_false(tr_actor_alive(k.rt, k.c.ref));
    tt_assert_chan_balance(k.rt);
    assert_true(tr_runtime_verify(k.rt) > 0);
    /* the shards are fine: a new connection sees the INCRs that ran */
    client_t c;
    client_open(&k, &c);
    assert_string_equal(ccmd(&k, &c, "PING", NULL), "+PONG\r\n");
    const char *r = ccmd(&k, &c, "DBSIZE", NULL);
    assert_int_equal(r[0], ':');
    assert_true(atoi(r + 1) <= 100);
    client_free(&c);
    kv_stop(&k);
}

/* Ordered shutdown with a connection open and a batch in flight. */
static void test_server_ordered_shutdown(void **state) {
    (void)state;
    tr_runtime_opts_t o;
    memset(&o, 0, sizeof o);
    o.pass_budget = 1;
    kv_t k;
    kv_start_opts(&k, KV_INI, &o);
    assert_string_equal(cmd(&k, "SET", "a", "1"), "+OK\r\n");
    client_t idle;
    client_open(&k, &idle);
    tr_ref_t shards, clients, listener, root;
    assert_int_equal(tr_whereis(k.rt, KVD_SHARDS_SUP, &shards), 0);
    assert_int_equal(tr_whereis(k.rt, KVD_CLIENTS_SUP, &clients), 0);
    assert_int_equal(tr_whereis(k.rt, "kvd/listener", &listener), 0);
    assert_int_equal(tr_whereis(k.rt, KVD_ROOT, &root), 0);
    assert_int_equal(tr_sup_which_children(k.rt, clients, NULL, 0), 2);

    kvd_buf_t req = {0};
    for (int i = 0; i < 50; i++)
        mb_add(&req, "GET", "a", NULL);
    assert_int_equal(send(k.c.fd, req.p, req.len, MSG_NOSIGNAL), (ssize_t)req.len);
    kvd_buf_free(&req);
    int pass = 0;
    while (tt_stats(k.rt).chan_pending == 0 && pass++ < MAX_PASSES)
        assert_true(tr_runtime_poll(k.rt) >= 0);
    assert_true(tt_stats(k.rt).chan_pending > 0);

    assert_int_equal(tr_runtime_shutdown(k.rt), 0);
    pass = 0;
    while (live_actors(k.rt) != 0 && pass++ < MAX_PASSES)
        assert_true(tr_runtime_poll(k.rt) >= 0);
    assert_int_equal(live_actors(k.rt), 0);
    assert_non_null(strstr(g_log, "ordered shutdown complete"));
    assert_false(tr_actor_alive(k.rt, listener));
    assert_false(tr_actor_alive(k.rt, root));
    tr_ref_t r;
    assert_int_equal(tr_whereis(k.rt, "kvd/shards/shard-0", &r), TR_ENOTFOUND);
    assert_int_equal(tr_whereis(k.rt, "kvd/listener", &r), TR_ENOTFOUND);
    tt_assert_chan_balance(k.rt);
    assert_int_equal(tr_runtime_verify(k.rt), 0);
    assert_int_equal(tr_runtime_exit_status(k.rt), 0);
    /* both clients see their connection closed (some replies may precede) */
    read_avail(&idle);
    assert_true(idle.eof);
    assert_int_equal(idle.in.len, 0);
    read_avail(&k.c);
    assert_true(k.c.eof);
    for (size_t at = 0; at < k.c.in.len; at += 7) { /* whole replies only */
        assert_true(k.c.in.len - at >= 7);
        assert_memory_equal(k.c.in.p + at, "$1\r\n1\r\n", 7);
    }
    tr_runtime_destroy(k.rt);
    tr_config_release(k.cfg);
    client_free(&idle);
    client_free(&k.c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_resp_multibulk_and_inline, setup),
        cmocka_unit_test_setup(test_resp_pipelined_buffer, setup),
        cmocka_unit_test_setup(test_resp_byte_by_byte, setup),
        cmocka_unit_test_setup(test_resp_empty_requests, setup),
        cmocka_unit_test_setup(test_resp_protocol_errors, setup),
        cmocka_unit_test_setup(test_resp_limits, setup),
        cmocka_unit_test_setup(test_resp_writers, setup),
        cmocka_unit_test_setup(test_resp_value_len, setup),
        cmocka_unit_test_setup(test_resp_parse_int, setup),
        cmocka_unit_test_setup(test_req_round_trip, setup),
        cmocka_unit_test_setup(test_shard_of, setup),
        cmocka_unit_test_setup(test_shard_of_is_fnv1a, setup),
        cmocka_unit_test_setup(test_settings_defaults_and_values, setup),
        cmocka_unit_test_setup(test_settings_bad_values, setup),
        cmocka_unit_test_setup(test_settings_restart_keys, setup),
        cmocka_unit_test_setup(test_server_basics, setup),
        cmocka_unit_test_setup(test_server_set_options, setup),
        cmocka_unit_test_setup(test_server_incr_decr, setup),
        cmocka_unit_test_setup(test_server_multi_key, setup),
        cmocka_unit_test_setup(test_server_expire_commands, setup),
        cmocka_unit_test_setup(test_server_expiry_with_the_clock, setup),
        cmocka_unit_test_setup(test_server_config_command_info, setup),
        cmocka_unit_test_setup(test_server_inline_and_split_input, setup),
        cmocka_unit_test_setup(test_server_quit, setup),
        cmocka_unit_test_setup(test_server_pipelining, setup),
        cmocka_unit_test_setup(test_server_protocol_error, setup),
        cmocka_unit_test_setup(test_server_debug_panic, setup),
        cmocka_unit_test_setup(test_server_debug_panic_pipelined, setup),
        cmocka_unit_test_setup(test_server_debug_disabled, setup),
        cmocka_unit_test_setup(test_server_no_config_conn_settings, setup),
        cmocka_unit_test_setup(test_server_no_config_shard_mailbox, setup),
        cmocka_unit_test_setup(test_server_half_close, setup),
        cmocka_unit_test_setup(test_server_half_close_full_read, setup),
        cmocka_unit_test_setup(test_server_peer_closes_in_flight, setup),
        cmocka_unit_test_setup(test_server_ordered_shutdown, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
