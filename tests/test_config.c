/* tests/test_config.c: the INI parser and the typed getters (troupe/config.h,
 * runtime/config.c), without a runtime. A well-formed file (comments,
 * indentation, CRLF, a BOM, a repeated header, empty values), every syntax
 * error with its line and reason, tr_config_load on a real file and on a
 * missing one, tr_config_error_str, every getter (defaults, accepted forms,
 * range and syntax errors with the key's file:line, *out left unchanged on
 * error, misuse), layered views (most specific section wins per key, the
 * reserved [runtime]), tr_config_refuse, tr_config_each (order, early stop),
 * reference counting (also from several threads), and robustness against
 * binary junk and megabyte inputs (run under ASan/UBSan). Reload through a
 * runtime is tests/test_reload.c. */
#include "tr_test.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- helpers ---- */

#define NAME "t.ini"

/* Fail with both strings when `needle` is not in `hay`. */
static void assert_contains(const char *hay, const char *needle) {
    if (!strstr(hay, needle)) {
        print_error("expected \"%s\" to contain \"%s\"\n", hay, needle);
        fail();
    }
}

static tr_config_t *parse_len(const char *text, size_t len) {
    tr_config_t *cfg = (tr_config_t *)(uintptr_t)0x1; /* must be overwritten */
    tr_config_error_t err;
    memset(&err, 0, sizeof err);
    int rc = tr_config_parse(NAME, text, len, &cfg, &err);
    if (rc != 0) {
        char buf[1024];
        print_error("parse failed (%d): %s\n", rc, tr_config_error_str(&err, buf, sizeof buf));
    }
    assert_int_equal(rc, 0);
    assert_non_null(cfg);
    assert_true(cfg != (tr_config_t *)(uintptr_t)0x1);
    return cfg;
}

static tr_config_t *parse_ok(const char *text) { return parse_len(text, strlen(text)); }

/* Parse `len` bytes that must be rejected on `line` with a reason containing
 * `why`; *out must be NULL afterwards. Returns the error for more checks. */
static tr_config_error_t parse_bad_len(const char *text, size_t len, int line, const char *why) {
    tr_config_t *cfg = (tr_config_t *)(uintptr_t)0x1;
    tr_config_error_t err;
    memset(&err, 0x5A, sizeof err); /* garbage: the parser must fill it */
    int rc = tr_config_parse(NAME, text, len, &cfg, &err);
    if (rc != TR_ECONFIG || err.line != line) {
        char buf[1024];
        print_error("rc %d line %d: %s\n", rc, err.line,
                    rc == 0 ? "(parsed)" : tr_config_error_str(&err, buf, sizeof buf));
    }
    assert_int_equal(rc, TR_ECONFIG);
    assert_null(cfg);
    assert_string_equal(err.file, NAME);
    assert_int_equal(err.line, line);
    assert_contains(err.reason, why);
    assert_string_equal(err.actor, "");
    /* NULL err is accepted too */
    cfg = (tr_config_t *)(uintptr_t)0x1;
    assert_int_equal(tr_config_parse(NAME, text, len, &cfg, NULL), TR_ECONFIG);
    assert_null(cfg);
    return err;
}

static tr_config_error_t parse_bad(const char *text, int line, const char *why) {
    return parse_bad_len(text, strlen(text), line, why);
}

/* The 1-based line of "\n<key> =" in text (keys at the start of a line). */
static int line_of(const char *text, const char *key) {
    char needle[96];
    snprintf(needle, sizeof needle, "\n%s =", key);
    const char *p = strstr(text, needle);
    if (!p) {
        print_error("no key %s in the test file\n", key);
        fail();
    }
    int line = 2; /* the key is after the newline that p points at */
    for (const char *q = text; q < p; q++)
        if (*q == '\n')
            line++;
    return line;
}

/* A getter error: TR_ECONFIG already checked by the caller. */
static void check_err(const tr_config_error_t *e, int line, const char *section, const char *key,
                      const char *why) {
    assert_string_equal(e->file, NAME);
    assert_int_equal(e->line, line);
    assert_string_equal(e->section, section);
    assert_string_equal(e->key, key);
    assert_contains(e->reason, why);
    assert_string_equal(e->actor, "");
}

static tr_config_section_t view(const tr_config_t *cfg, const char *name, int expect_rc) {
    tr_config_section_t v;
    memset(&v, 0x5A, sizeof v);
    assert_int_equal(tr_config_section(cfg, name, &v), expect_rc);
    assert_ptr_equal(v.config, cfg);
    assert_ptr_equal(v.name, name);
    return v;
}

/* tr_config_each into a list. */
#define MAXKV 64
typedef struct kvrec_s {
    int n;
    int stop_at; /* return 7 at this visit (1-based); 0: never */
    char section[MAXKV][256], key[MAXKV][64], value[MAXKV][128];
    int line[MAXKV];
} kvrec_t;

static int record_kv(void *arg, const char *section, const char *key, const char *value,
                     int line) {
    kvrec_t *r = arg;
    assert_non_null(section);
    assert_non_null(key);
    assert_non_null(value);
    if (r->n < MAXKV) {
        snprintf(r->section[r->n], sizeof r->section[0], "%s", section);
        snprintf(r->key[r->n], sizeof r->key[0], "%s", key);
        snprintf(r->value[r->n], sizeof r->value[0], "%s", value);
        r->line[r->n] = line;
    }
    r->n++;
    return r->stop_at && r->n == r->stop_at ? 7 : 0;
}

static void check_kv(const kvrec_t *r, int i, const char *section, const char *key,
                     const char *value, int line) {
    assert_true(i < r->n);
    assert_string_equal(r->section[i], section);
    assert_string_equal(r->key[i], key);
    assert_string_equal(r->value[i], value);
    assert_int_equal(r->line[i], line);
}

/* ---- a well-formed file ---- */

/* Line numbers are in the comments on the right. */
static const char WELL_FORMED[] =
    "\xEF\xBB\xBF[app]\r\n"                  /* 1: BOM, then a header */
    "; a semicolon comment\r\n"              /* 2 */
    "# a hash comment\r\n"                   /* 3 */
    "name = alpha\r\n"                       /* 4 */
    "  indented = 1\r\n"                     /* 5: indentation stripped */
    "\tpool   =   8   ; inline comment\r\n"  /* 6 */
    "empty =\r\n"                            /* 7 */
    "\r\n"                                   /* 8 */
    "   ; an indented comment\r\n"           /* 9 */
    "   # another\r\n"                       /* 10 */
    "semi = a;b\r\n"                         /* 11: ';' without a space is kept */
    "url = postgres://db/app#main\r\n"       /* 12: '#' inside a value is kept */
    "quoted = \"hi\"\r\n"                    /* 13 */
    "eq = a = b\r\n"                         /* 14 */
    "[db]   ; header with a comment\r\n"     /* 15 */
    "  [ app/db ]\r\n"                       /* 16: indented header, spaces trimmed */
    "pool_size = 16\r\n"                     /* 17 */
    "Pool_Size = 17\r\n"                     /* 18: keys are case-sensitive */
    "[db]\r\n"                               /* 19 */
    "timeout = 2500ms\r\n"                   /* 20 */
    "name = beta";                           /* 21: no final newline */

static void test_well_formed(void **state) {
    (void)state;
    tr_config_t *cfg = parse_ok(WELL_FORMED);
    assert_string_equal(tr_config_name(cfg), NAME);

    tr_config_section_t app = view(cfg, "app", 0);
    const char *s = NULL;
    assert_int_equal(tr_config_str(&app, "name", "dflt", &s, NULL), 0);
    assert_string_equal(s, "alpha"); /* no '\r' left */
    int64_t i = 0;
    assert_int_equal(tr_config_int(&app, "indented", 0, 0, 10, &i, NULL), 0);
    assert_int_equal(i, 1);
    assert_int_equal(tr_config_int(&app, "pool", 0, 0, 100, &i, NULL), 0);
    assert_int_equal(i, 8);
    assert_true(tr_config_has(&app, "empty"));
    assert_int_equal(tr_config_str(&app, "empty", "dflt", &s, NULL), 0);
    assert_string_equal(s, "");
    assert_int_equal(tr_config_str(&app, "semi", NULL, &s, NULL), 0);
    assert_string_equal(s, "a;b");
    assert_int_equal(tr_config_str(&app, "url", NULL, &s, NULL), 0);
    assert_string_equal(s, "postgres://db/app#main");
    assert_int_equal(tr_config_str(&app, "quoted", NULL, &s, NULL), 0);
    assert_string_equal(s, "\"hi\"");
    assert_int_equal(tr_config_str(&app, "eq", NULL, &s, NULL), 0);
    assert_string_equal(s, "a = b");
    /* comments are not keys */
    assert_false(tr_config_has(&app, "; a semicolon comment"));
    assert_false(tr_config_has(&app, "#"));
    assert_false(tr_config_has(&app, "pool_size"));

    /* [db] appears twice: one section with the keys of both headers */
    tr_config_section_t db = view(cfg, "db", 0);
    assert_int_equal(tr_config_str(&db, "name", NULL, &s, NULL), 0);
    assert_string_equal(s, "beta");
    uint64_t ms = 0;
    assert_int_equal(tr_config_duration(&db, "timeout", 0, 0, UINT64_MAX, &ms, NULL), 0);
    assert_int_equal(ms, 2500);
    assert_false(tr_config_has(&db, "pool_size"));

    /* "[ app/db ]" is the section app/db, which sees [app/db] then [db] */
    tr_config_section_t appdb = view(cfg, "app/db", 0);
    assert_int_equal(tr_config_int(&appdb, "pool_size", 0, 0, 100, &i, NULL), 0);
    assert_int_equal(i, 16);
    assert_int_equal(tr_config_int(&appdb, "Pool_Size", 0, 0, 100, &i, NULL), 0);
    assert_int_equal(i, 17);
    assert_false(tr_config_has(&appdb, "POOL_SIZE"));
    assert_int_equal(tr_config_str(&appdb, "name", NULL, &s, NULL), 0);
    assert_string_equal(s, "beta"); /* from [db] */

    /* every key, with its line */
    kvrec_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(tr_config_each(cfg, record_kv, &r), 0);
    assert_int_equal(r.n, 12);
    check_kv(&r, 0, "app", "name", "alpha", 4);
    check_kv(&r, 1, "app", "indented", "1", 5);
    check_kv(&r, 2, "app", "pool", "8", 6);
    check_kv(&r, 3, "app", "empty", "", 7);
    check_kv(&r, 4, "app", "semi", "a;b", 11);
    check_kv(&r, 5, "app", "url", "postgres://db/app#main", 12);
    check_kv(&r, 6, "app", "quoted", "\"hi\"", 13);
    check_kv(&r, 7, "app", "eq", "a = b", 14);
    /* sections in order of first appearance: [db] (header on line 15, even
     * without keys there) before [app/db] (line 16) */
    check_kv(&r, 8, "db", "timeout", "2500ms", 20);
    check_kv(&r, 9, "db", "name", "beta", 21);
    check_kv(&r, 10, "app/db", "pool_size", "16", 17);
    check_kv(&r, 11, "app/db", "Pool_Size", "17", 18);
    tr_config_release(cfg);
}

static void test_same_file_lf_and_crlf(void **state) {
    (void)state;
    const char *lf = "[a]\nk = v\n  j = w  \n";
    const char *crlf = "[a]\r\nk = v\r\n  j = w  \r\n";
    tr_config_t *c1 = parse_ok(lf), *c2 = parse_ok(crlf);
    kvrec_t r1, r2;
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    assert_int_equal(tr_config_each(c1, record_kv, &r1), 0);
    assert_int_equal(tr_config_each(c2, record_kv, &r2), 0);
    assert_int_equal(r1.n, 2);
    assert_int_equal(r2.n, 2);
    for (int i = 0; i < 2; i++)
        check_kv(&r2, i, r1.section[i], r1.key[i], r1.value[i], r1.line[i]);
    check_kv(&r1, 1, "a", "j", "w", 3);
    tr_config_release(c1);
    tr_config_release(c2);
}

static void test_empty_and_comment_only_files(void **state) {
    (void)state;
    const char *texts[] = {"", "\n\n\n", "; nothing\n# here\n", "\xEF\xBB\xBF",
                           "\xEF\xBB\xBF; bom and a comment\r\n", "   \t  \r\n"};
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        tr_config_t *cfg = parse_ok(texts[t]);
        kvrec_t r;
        memset(&r, 0, sizeof r);
        assert_int_equal(tr_config_each(cfg, record_kv, &r), 0);
        assert_int_equal(r.n, 0);
        tr_config_section_t v = view(cfg, "app", TR_ENOTFOUND);
        assert_false(tr_config_has(&v, "k"));
        tr_config_release(cfg);
    }
    /* NULL text with length 0 is an empty file; with a length it is misuse */
    tr_config_t *cfg = NULL;
    assert_int_equal(tr_config_parse(NULL, NULL, 0, &cfg, NULL), 0);
    assert_non_null(cfg);
    assert_string_equal(tr_config_name(cfg), "<string>");
    tr_config_release(cfg);
    cfg = (tr_config_t *)(uintptr_t)0x1;
    assert_int_equal(tr_config_parse(NAME, NULL, 3, &cfg, NULL), TR_EINVAL);
    assert_null(cfg);
    assert_int_equal(tr_config_parse(NAME, "[a]\n", 4, NULL, NULL), TR_EINVAL);
}

static void test_header_without_keys(void **state) {
    (void)state;
    tr_config_t *cfg = parse_ok("[empty]\n[full]\nk = 1\n");
    tr_config_section_t v = view(cfg, "full", 0);
    assert_true(tr_config_has(&v, "k"));
    /* a header without keys adds no key */
    kvrec_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(tr_config_each(cfg, record_kv, &r), 0);
    assert_int_equal(r.n, 1);
    check_kv(&r, 0, "full", "k", "1", 3);
    tr_config_release(cfg);
}

/* ---- syntax errors ---- */

static void test_error_line_without_equals(void **state) {
    (void)state;
    tr_config_error_t e = parse_bad("[a]\nk = 1\njust some words\nj = 2\n", 3,
                                    "expected 'key = value', '[section]' or a comment");
    char buf[512];
    assert_string_equal(tr_config_error_str(&e, buf, sizeof buf),
                        NAME ":3: expected 'key = value', '[section]' or a comment");
    /* CRLF and indentation do not change the line */
    parse_bad("[a]\r\nk = 1\r\n\r\n   oops\r\n", 4, "expected 'key = value'");
}

static void test_error_unclosed_section(void **state) {
    (void)state;
    tr_config_error_t e = parse_bad("[a]\nk = 1\n[b\nj = 2\n", 3, "without a closing ']'");
    char buf[512];
    assert_string_equal(tr_config_error_str(&e, buf, sizeof buf),
                        NAME ":3: section header without a closing ']'");
    /* an inline comment before the ']' leaves it unclosed */
    parse_bad("\n[b ; c]\n", 2, "without a closing ']'");
}

static void test_error_empty_section_name(void **state) {
    (void)state;
    parse_bad("[a]\nk = 1\n[]\nj = 2\n", 3, "empty section name");
    parse_bad("[  ]\nj = 2\n", 1, "empty section name");
    parse_bad("; c\n  []  ; empty\n", 2, "empty section name");
}

static void test_error_key_outside_section(void **state) {
    (void)state;
    tr_config_error_t e = parse_bad("; header comment\nk = 1\n[a]\nj = 2\n", 2,
                                    "outside any [section]");
    assert_string_equal(e.key, "k");
    assert_string_equal(e.section, "");
    /* at the very start, after a BOM */
    parse_bad("\xEF\xBB\xBFk = 1\n", 1, "outside any [section]");
}

static void test_error_duplicate_key(void **state) {
    (void)state;
    tr_config_error_t e = parse_bad("[a]\nk = 1\nj = 2\nk = 3\n", 4,
                                    "duplicate key (first set on line 2)");
    assert_string_equal(e.section, "a");
    assert_string_equal(e.key, "k");
    char buf[512];
    assert_string_equal(tr_config_error_str(&e, buf, sizeof buf),
                        NAME ":4: [a] k: duplicate key (first set on line 2)");
    /* the same key under a repeated header is a duplicate too */
    e = parse_bad("[a]\nk = 1\n[b]\nk = 1\n[a]\nk = 2\n", 6,
                  "duplicate key (first set on line 2)");
    assert_string_equal(e.section, "a");
    /* even with the same value */
    parse_bad("[a]\nk = 1\nk = 1\n", 3, "duplicate key (first set on line 2)");
    /* the same key in two sections is fine */
    tr_config_t *cfg = parse_ok("[a]\nk = 1\n[b]\nk = 2\n");
    tr_config_release(cfg);
}

static void test_error_long_line(void **state) {
    (void)state;
    char text[600];
    /* a line of 198 bytes is fine */
    int n = snprintf(text, sizeof text, "[a]\nk = ");
    memset(text + n, 'v', 198 - 4);
    n += 198 - 4;
    snprintf(text + n, sizeof text - (size_t)n, "\nj = 1\n");
    tr_config_t *cfg = parse_ok(text);
    tr_config_section_t v = view(cfg, "a", 0);
    const char *s = NULL;
    assert_int_equal(tr_config_str(&v, "k", NULL, &s, NULL), 0);
    assert_int_equal(strlen(s), 198 - 4);
    tr_config_release(cfg);
    /* a line of 200 bytes is an error on its line, not split silently */
    n = snprintf(text, sizeof text, "[a]\nj = 1\nk = ");
    memset(text + n, 'v', 200 - 4);
    n += 200 - 4;
    snprintf(text + n, sizeof text - (size_t)n, "\nl = 1\n");
    parse_bad(text, 3, "line too long");
    /* a very long comment line is still too long */
    memset(text, ';', 500);
    snprintf(text + 500, sizeof text - 500, "\n[a]\n");
    parse_bad(text, 1, "line too long");
    /* and a long last line without a newline */
    n = snprintf(text, sizeof text, "[a]\nk = ");
    memset(text + n, 'v', 300);
    text[n + 300] = '\0';
    parse_bad(text, 2, "line too long");
}

/* The header promises lines of at most 199 bytes. */
static void test_line_of_199_bytes_accepted(void **state) {
    (void)state;
    char text[400];
    int n = snprintf(text, sizeof text, "[a]\nk = ");
    memset(text + n, 'v', 199 - 4);
    n += 199 - 4;
    snprintf(text + n, sizeof text - (size_t)n, "\n");
    tr_config_t *cfg = parse_ok(text);
    tr_config_section_t v = view(cfg, "a", 0);
    const char *s = NULL;
    assert_int_equal(tr_config_str(&v, "k", NULL, &s, NULL), 0);
    assert_int_equal(strlen(s), 199 - 4);
    tr_config_release(cfg);
}

static void test_error_nul_byte(void **state) {
    (void)state;
    static const char text[] = "[a]\nk = 1\nj = a\0b\nl = 2\n";
    parse_bad_len(text, sizeof text - 1, 3, "NUL byte");
    static const char text2[] = "[a]\0\n";
    parse_bad_len(text2, sizeof text2 - 1, 1, "NUL byte");
}

static void test_error_empty_and_long_key(void **state) {
    (void)state;
    tr_config_error_t e = parse_bad("[a]\n = v\n", 2, "empty key name");
    assert_string_equal(e.section, "a");
    char text[256];
    snprintf(text, sizeof text, "[a]\n%064d = 1\n", 0); /* a 64-byte key */
    parse_bad(text, 2, "key name too long");
    snprintf(text, sizeof text, "[a]\n%063d = 1\n", 0); /* 63 bytes: fine */
    tr_config_t *cfg = parse_ok(text);
    tr_config_release(cfg);
}

/* The first error in the file is the one reported, whoever detects it. */
static void test_error_first_one_wins(void **state) {
    (void)state;
    /* two errors of the same kind */
    parse_bad("[a]\nk = 1\nk = 2\nj = 1\nj = 2\n", 3, "duplicate key (first set on line 2)");
    parse_bad("[a]\nbad one\n[b\n", 2, "expected 'key = value'");
    parse_bad("[a]\n[]\nk = 1\nk = 2\n", 2, "empty section name");
}

/* Errors the parser finds itself and errors inih finds: still the first
 * line in the file is the one reported. */
static void test_error_earliest_line_reported(void **state) {
    (void)state;
    tr_config_t *cfg = NULL;
    tr_config_error_t e1, e2;
    char b1[512], b2[512];
    /* a malformed line (inih), then a duplicate key (ours) */
    assert_int_equal(tr_config_parse(NAME, "[a]\nbroken\nk = 1\nk = 2\n", 23, &cfg, &e1),
                     TR_ECONFIG);
    /* an unclosed header (inih), then a line too long (ours) */
    char text[600];
    int n = snprintf(text, sizeof text, "[a\nk = ");
    memset(text + n, 'v', 300);
    snprintf(text + n + 300, sizeof text - (size_t)n - 300, "\n");
    assert_int_equal(tr_config_parse(NAME, text, strlen(text), &cfg, &e2), TR_ECONFIG);
    print_message("got: %s | %s\n", tr_config_error_str(&e1, b1, sizeof b1),
                  tr_config_error_str(&e2, b2, sizeof b2));
    assert_string_equal(b1, NAME ":2: expected 'key = value', '[section]' or a comment");
    assert_string_equal(b2, NAME ":1: section header without a closing ']'");
}

/* Section names as long as an actor path may be (err->section holds 255). */
static void test_long_section_names(void **state) {
    (void)state;
    char name1[121], name2[121], text[512], buf[512];
    memset(name1, 'x', 120);
    name1[120] = '\0';
    memcpy(name2, name1, sizeof name2);
    name1[119] = '1';
    name2[119] = '2';
    /* one long name is found under its full name (results are collected
     * before the asserts so that a failure leaks nothing) */
    snprintf(text, sizeof text, "[%s]\nk = 1\n", name1);
    tr_config_t *cfg = parse_ok(text);
    tr_config_section_t v0;
    int rc0 = tr_config_section(cfg, name1, &v0);
    int has0 = tr_config_has(&v0, "k");
    kvrec_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(tr_config_each(cfg, record_kv, &r), 0);
    tr_config_release(cfg);
    assert_int_equal(r.n, 1);
    print_message("stored section name: %zu bytes\n", strlen(r.section[0]));
    assert_string_equal(r.section[0], name1);
    assert_int_equal(rc0, 0);
    assert_true(has0);
    /* two long names that differ only at the end are two sections */
    snprintf(text, sizeof text, "[%s]\nk = 1\n[%s]\nk = 2\n", name1, name2);
    tr_config_error_t e;
    int rc = tr_config_parse(NAME, text, strlen(text), &cfg, &e);
    if (rc)
        print_message("got: %s\n", tr_config_error_str(&e, buf, sizeof buf));
    assert_int_equal(rc, 0);
    tr_config_section_t v1 = view(cfg, name1, 0), v2 = view(cfg, name2, 0);
    int64_t i1 = 0, i2 = 0;
    int rc1 = tr_config_int(&v1, "k", 0, 0, 9, &i1, NULL);
    int rc2 = tr_config_int(&v2, "k", 0, 0, 9, &i2, NULL);
    tr_config_release(cfg);
    assert_int_equal(rc1, 0);
    assert_int_equal(rc2, 0);
    assert_true(i1 == 1 && i2 == 2);
}

/* ---- tr_config_load ---- */

static void write_temp(char *path, const char *data, size_t len) {
    strcpy(path, "/tmp/troupe_cfg_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        assert_true(w > 0);
        off += (size_t)w;
    }
    assert_int_equal(close(fd), 0);
}

static void test_load_file(void **state) {
    (void)state;
    char path[64];
    write_temp(path, WELL_FORMED, sizeof WELL_FORMED - 1);
    tr_config_t *cfg = NULL;
    tr_config_error_t err;
    memset(&err, 0, sizeof err);
    int rc = tr_config_load(path, &cfg, &err);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rc, 0);
    assert_non_null(cfg);
    assert_string_equal(tr_config_name(cfg), path);
    tr_config_section_t v = view(cfg, "app/db", 0);
    int64_t i = 0;
    assert_int_equal(tr_config_int(&v, "pool_size", 0, 0, 100, &i, NULL), 0);
    assert_int_equal(i, 16);
    /* same snapshot as parsing the text */
    kvrec_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(tr_config_each(cfg, record_kv, &r), 0);
    assert_int_equal(r.n, 12);
    check_kv(&r, 9, "db", "name", "beta", 21); /* [db] comes first: see test_well_formed */
    /* getter errors name the file */
    tr_config_section_t app = view(cfg, "app", 0);
    i = -1;
    assert_int_equal(tr_config_int(&app, "name", 0, 0, 10, &i, &err), TR_ECONFIG);
    assert_int_equal(i, -1);
    assert_string_equal(err.file, path);
    assert_int_equal(err.line, 4);
    tr_config_release(cfg);
}

static void test_load_syntax_error(void **state) {
    (void)state;
    char path[64];
    const char text[] = "[a]\nk = 1\n\nk = 2\n";
    write_temp(path, text, sizeof text - 1);
    tr_config_t *cfg = (tr_config_t *)(uintptr_t)0x1;
    tr_config_error_t err;
    memset(&err, 0, sizeof err);
    int rc = tr_config_load(path, &cfg, &err);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rc, TR_ECONFIG);
    assert_null(cfg);
    assert_string_equal(err.file, path);
    assert_int_equal(err.line, 4);
    assert_contains(err.reason, "duplicate key (first set on line 2)");
    char buf[512], want[512];
    snprintf(want, sizeof want, "%s:4: [a] k: duplicate key (first set on line 2)", path);
    assert_string_equal(tr_config_error_str(&err, buf, sizeof buf), want);
}

static void test_load_missing_file(void **state) {
    (void)state;
    char path[96];
    snprintf(path, sizeof path, "/tmp/troupe_cfg_missing_%ld.ini", (long)getpid());
    unlink(path);
    tr_config_t *cfg = (tr_config_t *)(uintptr_t)0x1;
    tr_config_error_t err;
    memset(&err, 0x5A, sizeof err);
    assert_int_equal(tr_config_load(path, &cfg, &err), TR_ESYS);
    assert_null(cfg);
    assert_string_equal(err.file, path);
    assert_int_equal(err.line, 0);
    assert_string_equal(err.section, "");
    assert_string_equal(err.key, "");
    assert_contains(err.reason, strerror(ENOENT));
    char buf[512], want[512];
    snprintf(want, sizeof want, "%s: cannot open: %s", path, strerror(ENOENT));
    assert_string_equal(tr_config_error_str(&err, buf, sizeof buf), want);
    /* a directory cannot be read as a file */
    cfg = (tr_config_t *)(uintptr_t)0x1;
    memset(&err, 0, sizeof err);
    int rc = tr_config_load("/tmp", &cfg, &err);
    assert_true(rc == TR_ESYS);
    assert_null(cfg);
    assert_string_equal(err.file, "/tmp");
    assert_int_equal(err.line, 0);
    /* NULL err is fine */
    assert_int_equal(tr_config_load(path, &cfg, NULL), TR_ESYS);
    assert_null(cfg);
}

static void test_load_misuse(void **state) {
    (void)state;
    tr_config_t *cfg = (tr_config_t *)(uintptr_t)0x1;
    tr_config_error_t err;
    assert_int_equal(tr_config_load(NULL, &cfg, &err), TR_EINVAL);
    assert_null(cfg);
    assert_int_equal(tr_config_load("/tmp/x.ini", NULL, &err), TR_EINVAL);
    assert_int_equal(tr_config_load(NULL, NULL, NULL), TR_EINVAL);
}

/* ---- tr_config_error_str ---- */

static void test_error_str(void **state) {
    (void)state;
    tr_config_error_t e;
    memset(&e, 0, sizeof e);
    char buf[512];
    snprintf(e.file, sizeof e.file, "app.ini");
    e.line = 12;
    snprintf(e.section, sizeof e.section, "runtime");
    snprintf(e.key, sizeof e.key, "log_level");
    snprintf(e.reason, sizeof e.reason, "unknown value 'loud' (expected ...)");
    assert_string_equal(tr_config_error_str(&e, buf, sizeof buf),
                        "app.ini:12: [runtime] log_level: unknown value 'loud' (expected ...)");
    e.line = 30;
    snprintf(e.section, sizeof e.section, "app/db");
    snprintf(e.key, sizeof e.key, "pool_size");
    snprintf(e.actor, sizeof e.actor, "app/db (db)");
    snprintf(e.reason, sizeof e.reason, "must be even");
    assert_string_equal(tr_config_error_str(&e, buf, sizeof buf),
                        "app.ini:30: [app/db] pool_size: refused by app/db (db): must be even");
    /* section without key, no line, nothing but a reason */
    memset(&e, 0, sizeof e);
    snprintf(e.file, sizeof e.file, "app.ini");
    snprintf(e.section, sizeof e.section, "app");
    snprintf(e.reason, sizeof e.reason, "r");
    assert_string_equal(tr_config_error_str(&e, buf, sizeof buf), "app.ini: [app]: r");
    memset(&e, 0, sizeof e);
    snprintf(e.reason, sizeof e.reason, "just this");
    assert_string_equal(tr_config_error_str(&e, buf, sizeof buf), "just this");
    /* NULL error, truncation, zero length */
    assert_string_equal(tr_config_error_str(NULL, buf, sizeof buf), "no error");
    memset(&e, 0, sizeof e);
    snprintf(e.file, sizeof e.file, "app.ini");
    e.line = 7;
    snprintf(e.reason, sizeof e.reason, "a long reason");
    char small[8];
    memset(small, 'Z', sizeof small);
    assert_ptr_equal(tr_config_error_str(&e, small, sizeof small), small);
    assert_string_equal(small, "app.ini");
    char one = 'Z';
    assert_ptr_equal(tr_config_error_str(&e, &one, 0), &one);
    assert_int_equal(one, 'Z');
    assert_ptr_equal(tr_config_error_str(&e, &one, 1), &one);
    assert_int_equal(one, '\0');
}

/* ---- typed getters ---- */

static const char GETTERS[] =
    "[num]\n"
    "i_plain = 42\n"
    "i_neg = -17\n"
    "i_plus = +3\n"
    "i_zero = 0\n"
    "i_min = -9223372036854775808\n"
    "i_max = 9223372036854775807\n"
    "i_over = 9223372036854775808\n"
    "i_under = -9223372036854775809\n"
    "i_huge = 99999999999999999999999\n"
    "i_junk = 12x\n"
    "i_empty =\n"
    "i_space = 1 2\n"
    "i_hex = 0x10\n"
    "i_float = 1.5\n"
    "i_big = 100\n"
    "i_sign = -\n"
    "\n"
    "[dur]\n"
    "d_ms = 250ms\n"
    "d_s = 5s\n"
    "d_m = 2m\n"
    "d_h = 1h\n"
    "d_d = 1d\n"
    "d_bare = 40\n"
    "d_space = 10 ms\n"
    "d_zero = 0\n"
    "d_badunit = 5xs\n"
    "d_unitonly = ms\n"
    "d_neg = -5s\n"
    "d_frac = 1.5s\n"
    "d_empty =\n"
    "d_big = 10s\n"
    "d_ovf = 99999999999999999999999ms\n"
    "d_mulovf = 300000000000d\n"
    "\n"
    "[size]\n"
    "s_kib = 64KiB\n"
    "s_mib = 1MiB\n"
    "s_gib = 2GiB\n"
    "s_kb = 64KB\n"
    "s_mb = 1MB\n"
    "s_gb = 2GB\n"
    "s_b = 512B\n"
    "s_bare = 512\n"
    "s_space = 4 KiB\n"
    "s_bad = 10XB\n"
    "s_neg = -1\n"
    "s_frac = 1.5MiB\n"
    "s_big = 2GiB\n"
    "s_ovf = 99999999999999999999999\n"
    "\n"
    "[bool]\n"
    "b_yes = yes\n"
    "b_No = No\n"
    "b_TRUE = TRUE\n"
    "b_false = false\n"
    "b_On = On\n"
    "b_off = off\n"
    "b_1 = 1\n"
    "b_0 = 0\n"
    "b_maybe = maybe\n"
    "b_2 = 2\n"
    "b_empty =\n"
    "b_yess = yess\n"
    "\n"
    "[enum]\n"
    "e_notice = notice\n"
    "e_case = WARNING\n"
    "e_first = debug\n"
    "e_bad = loud\n"
    "e_empty =\n"
    "e_prefix = warn\n"
    "\n"
    "[dbl]\n"
    "f_15 = 1.5\n"
    "f_int = 2\n"
    "f_exp = 2.5e0\n"
    "f_neg = -0.25\n"
    "f_abc = abc\n"
    "f_trail = 1.5x\n"
    "f_nan = nan\n"
    "f_inf = inf\n"
    "f_huge = 1e999\n"
    "f_big = 10.5\n"
    "f_empty =\n"
    "\n"
    "[str]\n"
    "s_plain = hello world\n"
    "s_pad =     padded    \n"
    "s_empty =\n"
    "s_comment = value ; a comment\n";

static int getters_setup(void **state) {
    tr_config_t *cfg = NULL;
    if (tr_config_parse(NAME, GETTERS, sizeof GETTERS - 1, &cfg, NULL) != 0)
        return -1;
    *state = cfg;
    return 0;
}

static int getters_teardown(void **state) {
    tr_config_release(*state);
    return 0;
}

#define L(key) line_of(GETTERS, key)

static void int_ok(const tr_config_section_t *v, const char *key, int64_t min, int64_t max,
                   int64_t want) {
    int64_t out = 777;
    tr_config_error_t e;
    int rc = tr_config_int(v, key, 777, min, max, &out, &e);
    if (rc) {
        char buf[512];
        print_error("%s: %s\n", key, tr_config_error_str(&e, buf, sizeof buf));
    }
    assert_int_equal(rc, 0);
    assert_true(out == want);
}

static void int_bad(const tr_config_section_t *v, const char *key, int64_t min, int64_t max,
                    const char *why) {
    int64_t out = 777;
    tr_config_error_t e;
    memset(&e, 0x5A, sizeof e);
    assert_int_equal(tr_config_int(v, key, 5, min, max, &out, &e), TR_ECONFIG);
    assert_true(out == 777);
    check_err(&e, L(key), "num", key, why);
    assert_int_equal(tr_config_int(v, key, 5, min, max, &out, NULL), TR_ECONFIG);
    assert_true(out == 777);
}

static void test_get_int(void **state) {
    const tr_config_t *cfg = *state;
    tr_config_section_t v = view(cfg, "num", 0);
    int_ok(&v, "i_plain", INT64_MIN, INT64_MAX, 42);
    int_ok(&v, "i_neg", INT64_MIN, INT64_MAX, -17);
    int_ok(&v, "i_neg", -17, -17, -17);
    int_ok(&v, "i_plus", 0, 10, 3);
    int_ok(&v, "i_zero", 0, 0, 0);
    int_ok(&v, "i_min", INT64_MIN, INT64_MAX, INT64_MIN);
    int_ok(&v, "i_max", INT64_MIN, INT64_MAX, INT64_MAX);
    int_ok(&v, "i_big", 100, 100, 100);
    /* default when absent (even outside [min, max]: it is the caller's) */
    int_ok(&v, "absent", 0, 10, 777);
    int64_t out = 0;
    assert_int_equal(tr_config_int(&v, "absent", -5, 0, 10, &out, NULL), 0);
    assert_true(out == -5);

    int_bad(&v, "i_big", 0, 99, "100 out of range (0..99)");
    int_bad(&v, "i_big", 101, 200, "out of range (101..200)");
    int_bad(&v, "i_neg", 0, 10, "-17 out of range (0..10)");
    int_bad(&v, "i_over", INT64_MIN, INT64_MAX, "out of range");
    int_bad(&v, "i_under", INT64_MIN, INT64_MAX, "out of range");
    int_bad(&v, "i_huge", INT64_MIN, INT64_MAX, "out of range");
    int_bad(&v, "i_junk", INT64_MIN, INT64_MAX, "'12x' is not an integer");
    int_bad(&v, "i_empty", INT64_MIN, INT64_MAX, "'' is not an integer");
    int_bad(&v, "i_space", INT64_MIN, INT64_MAX, "'1 2' is not an integer");
    int_bad(&v, "i_hex", INT64_MIN, INT64_MAX, "'0x10' is not an integer");
    int_bad(&v, "i_float", INT64_MIN, INT64_MAX, "'1.5' is not an integer");
    int_bad(&v, "i_sign", INT64_MIN, INT64_MAX, "'-' is not an integer");
    /* the formatted line */
    tr_config_error_t e;
    assert_int_equal(tr_config_int(&v, "i_junk", 0, 0, 100, &out, &e), TR_ECONFIG);
    char buf[512], want[512];
    snprintf(want, sizeof want, NAME ":%d: [num] i_junk: '12x' is not an integer", L("i_junk"));
    assert_string_equal(tr_config_error_str(&e, buf, sizeof buf), want);
}

static void dur_ok(const tr_config_section_t *v, const char *key, uint64_t want) {
    uint64_t out = 777;
    tr_config_error_t e;
    int rc = tr_config_duration(v, key, 777, 0, UINT64_MAX, &out, &e);
    if (rc) {
        char buf[512];
        print_error("%s: %s\n", key, tr_config_error_str(&e, buf, sizeof buf));
    }
    assert_int_equal(rc, 0);
    assert_true(out == want);
}

static void dur_bad(const tr_config_section_t *v, const char *key, uint64_t min, uint64_t max,
                    const char *why) {
    uint64_t out = 777;
    tr_config_error_t e;
    memset(&e, 0x5A, sizeof e);
    assert_int_equal(tr_config_duration(v, key, 5, min, max, &out, &e), TR_ECONFIG);
    assert_true(out == 777);
    check_err(&e, L(key), "dur", key, why);
}

static void test_get_duration(void **state) {
    const tr_config_t *cfg = *state;
    tr_config_section_t v = view(cfg, "dur", 0);
    dur_ok(&v, "d_ms", 250);
    dur_ok(&v, "d_s", 5000);
    dur_ok(&v, "d_m", 120000);
    dur_ok(&v, "d_h", 3600000);
    dur_ok(&v, "d_d", 86400000);
    dur_ok(&v, "d_bare", 40);
    dur_ok(&v, "d_space", 10);
    dur_ok(&v, "d_zero", 0);
    dur_ok(&v, "absent", 777);
    /* bounds are inclusive */
    uint64_t out = 0;
    assert_int_equal(tr_config_duration(&v, "d_s", 0, 5000, 5000, &out, NULL), 0);
    assert_true(out == 5000);

    dur_bad(&v, "d_badunit", 0, UINT64_MAX, "bad unit 'xs' in '5xs'");
    dur_bad(&v, "d_unitonly", 0, UINT64_MAX, "'ms' is not a duration");
    dur_bad(&v, "d_neg", 0, UINT64_MAX, "'-5s' is not a duration");
    dur_bad(&v, "d_frac", 0, UINT64_MAX, "bad unit");
    dur_bad(&v, "d_empty", 0, UINT64_MAX, "is not a duration");
    dur_bad(&v, "d_big", 0, 5000, "10s out of range (0..5000 ms)");
    dur_bad(&v, "d_s", 5001, 10000, "5s out of range (5001..10000 ms)");
    dur_bad(&v, "d_zero", 1, 10, "out of range (1..10 ms)");
    dur_bad(&v, "d_ovf", 0, UINT64_MAX, "out of range");
    dur_bad(&v, "d_mulovf", 0, UINT64_MAX, "out of range");
}

static void size_ok(const tr_config_section_t *v, const char *key, uint64_t want) {
    uint64_t out = 777;
    tr_config_error_t e;
    int rc = tr_config_size(v, key, 777, 0, UINT64_MAX, &out, &e);
    if (rc) {
        char buf[512];
        print_error("%s: %s\n", key, tr_config_error_str(&e, buf, sizeof buf));
    }
    assert_int_equal(rc, 0);
    assert_true(out == want);
}

static void size_bad(const tr_config_section_t *v, const char *key, uint64_t min, uint64_t max,
                     const char *why) {
    uint64_t out = 777;
    tr_config_error_t e;
    memset(&e, 0x5A, sizeof e);
    assert_int_equal(tr_config_size(v, key, 5, min, max, &out, &e), TR_ECONFIG);
    assert_true(out == 777);
    check_err(&e, L(key), "size", key, why);
}

static void test_get_size(void **state) {
    const tr_config_t *cfg = *state;
    tr_config_section_t v = view(cfg, "size", 0);
    size_ok(&v, "s_kib", 65536);
    size_ok(&v, "s_mib", 1048576);
    size_ok(&v, "s_gib", 2147483648ull);
    size_ok(&v, "s_kb", 64000);
    size_ok(&v, "s_mb", 1000000);
    size_ok(&v, "s_gb", 2000000000ull);
    size_ok(&v, "s_b", 512);
    size_ok(&v, "s_bare", 512);
    size_ok(&v, "s_space", 4096);
    size_ok(&v, "absent", 777);

    size_bad(&v, "s_bad", 0, UINT64_MAX, "bad unit 'XB' in '10XB'");
    size_bad(&v, "s_neg", 0, UINT64_MAX, "'-1' is not a size");
    size_bad(&v, "s_frac", 0, UINT64_MAX, "bad unit");
    size_bad(&v, "s_big", 0, 1ull << 30, "2GiB out of range (0..1073741824 bytes)");
    size_bad(&v, "s_bare", 513, 1024, "out of range (513..1024 bytes)");
    size_bad(&v, "s_ovf", 0, UINT64_MAX, "out of range");
}

static void bool_is(const tr_config_section_t *v, const char *key, int want) {
    int out = 42;
    assert_int_equal(tr_config_bool(v, key, 42, &out, NULL), 0);
    assert_int_equal(out, want);
}

static void bool_bad(const tr_config_section_t *v, const char *key, const char *why) {
    int out = 42;
    tr_config_error_t e;
    memset(&e, 0x5A, sizeof e);
    assert_int_equal(tr_config_bool(v, key, 1, &out, &e), TR_ECONFIG);
    assert_int_equal(out, 42);
    check_err(&e, L(key), "bool", key, why);
}

static void test_get_bool(void **state) {
    const tr_config_t *cfg = *state;
    tr_config_section_t v = view(cfg, "bool", 0);
    bool_is(&v, "b_yes", 1);
    bool_is(&v, "b_No", 0);
    bool_is(&v, "b_TRUE", 1);
    bool_is(&v, "b_false", 0);
    bool_is(&v, "b_On", 1);
    bool_is(&v, "b_off", 0);
    bool_is(&v, "b_1", 1);
    bool_is(&v, "b_0", 0);
    bool_is(&v, "absent", 42);
    bool_bad(&v, "b_maybe", "'maybe' is not a boolean (expected yes/no, true/false, on/off, 1/0)");
    bool_bad(&v, "b_2", "'2' is not a boolean");
    bool_bad(&v, "b_empty", "'' is not a boolean");
    bool_bad(&v, "b_yess", "'yess' is not a boolean");
}

static const char *const LEVELS[] = {"error", "warning", "notice", "info", "debug", NULL};

static void enum_is(const tr_config_section_t *v, const char *key, int want) {
    int out = 42;
    assert_int_equal(tr_config_enum(v, key, LEVELS, 42, &out, NULL), 0);
    assert_int_equal(out, want);
}

static void enum_bad(const tr_config_section_t *v, const char *key, const char *why) {
    int out = 42;
    tr_config_error_t e;
    memset(&e, 0x5A, sizeof e);
    assert_int_equal(tr_config_enum(v, key, LEVELS, 1, &out, &e), TR_ECONFIG);
    assert_int_equal(out, 42);
    check_err(&e, L(key), "enum", key, why);
}

static void test_get_enum(void **state) {
    const tr_config_t *cfg = *state;
    tr_config_section_t v = view(cfg, "enum", 0);
    enum_is(&v, "e_notice", 2);
    enum_is(&v, "e_case", 1);
    enum_is(&v, "e_first", 4);
    enum_is(&v, "absent", 42);
    enum_bad(&v, "e_bad",
             "unknown value 'loud' (expected error, warning, notice, info, debug)");
    enum_bad(&v, "e_empty", "unknown value ''");
    enum_bad(&v, "e_prefix", "unknown value 'warn'");
    /* index 0 is a real answer */
    static const char *const one[] = {"Debug", NULL};
    int out = 42;
    assert_int_equal(tr_config_enum(&v, "e_first", one, 9, &out, NULL), 0);
    assert_int_equal(out, 0);
}

static void dbl_ok(const tr_config_section_t *v, const char *key, double want) {
    double out = 777;
    assert_int_equal(tr_config_double(v, key, 777, -1e9, 1e9, &out, NULL), 0);
    assert_true(out == want);
}

static void dbl_bad(const tr_config_section_t *v, const char *key, double min, double max,
                    const char *why) {
    double out = 777;
    tr_config_error_t e;
    memset(&e, 0x5A, sizeof e);
    assert_int_equal(tr_config_double(v, key, 5, min, max, &out, &e), TR_ECONFIG);
    assert_true(out == 777);
    check_err(&e, L(key), "dbl", key, why);
}

static void test_get_double(void **state) {
    const tr_config_t *cfg = *state;
    tr_config_section_t v = view(cfg, "dbl", 0);
    dbl_ok(&v, "f_15", 1.5);
    dbl_ok(&v, "f_int", 2.0);
    dbl_ok(&v, "f_exp", 2.5);
    dbl_ok(&v, "f_neg", -0.25);
    dbl_ok(&v, "absent", 777);
    double out = 0;
    assert_int_equal(tr_config_double(&v, "f_big", 0, 10.5, 10.5, &out, NULL), 0);
    assert_true(out == 10.5);

    dbl_bad(&v, "f_abc", -1e9, 1e9, "'abc' is not a number");
    dbl_bad(&v, "f_trail", -1e9, 1e9, "'1.5x' is not a number");
    dbl_bad(&v, "f_nan", -INFINITY, INFINITY, "'nan' is not a number");
    dbl_bad(&v, "f_inf", -INFINITY, INFINITY, "'inf' is not a number");
    dbl_bad(&v, "f_huge", -INFINITY, INFINITY, "'1e999' is not a number");
    dbl_bad(&v, "f_empty", -1e9, 1e9, "'' is not a number");
    dbl_bad(&v, "f_big", 0, 10, "10.5 out of range (0..10)");
    dbl_bad(&v, "f_neg", 0, 1, "-0.25 out of range (0..1)");
}

static void test_get_str(void **state) {
    const tr_config_t *cfg = *state;
    tr_config_section_t v = view(cfg, "str", 0);
    const char *s = "unchanged";
    tr_config_error_t e;
    assert_int_equal(tr_config_str(&v, "s_plain", "d", &s, &e), 0);
    assert_string_equal(s, "hello world");
    assert_int_equal(tr_config_str(&v, "s_pad", "d", &s, &e), 0);
    assert_string_equal(s, "padded");
    assert_int_equal(tr_config_str(&v, "s_empty", "d", &s, &e), 0);
    assert_string_equal(s, "");
    assert_int_equal(tr_config_str(&v, "s_comment", "d", &s, &e), 0);
    assert_string_equal(s, "value");
    assert_int_equal(tr_config_str(&v, "absent", "dflt", &s, &e), 0);
    assert_string_equal(s, "dflt");
    assert_int_equal(tr_config_str(&v, "absent", NULL, &s, NULL), 0);
    assert_null(s);
    /* every getter reads the raw text: an int key is also a string */
    tr_config_section_t num = view(cfg, "num", 0);
    assert_int_equal(tr_config_str(&num, "i_plus", NULL, &s, NULL), 0);
    assert_string_equal(s, "+3");
    assert_true(tr_config_has(&v, "s_empty"));
    assert_false(tr_config_has(&v, "absent"));
    assert_false(tr_config_has(&v, "i_plus")); /* other section */
    assert_false(tr_config_has(NULL, "s_plain"));
    assert_false(tr_config_has(&v, NULL));
}

static void test_getters_misuse(void **state) {
    const tr_config_t *cfg = *state;
    tr_config_section_t v = view(cfg, "num", 0);
    const char *s = "x";
    int64_t i = 9;
    uint64_t u = 9;
    int b = 9;
    double d = 9;
    assert_int_equal(tr_config_str(NULL, "i_plain", "d", &s, NULL), TR_EINVAL);
    assert_int_equal(tr_config_str(&v, NULL, "d", &s, NULL), TR_EINVAL);
    assert_int_equal(tr_config_str(&v, "i_plain", "d", NULL, NULL), TR_EINVAL);
    assert_int_equal(tr_config_int(NULL, "i_plain", 0, 0, 9, &i, NULL), TR_EINVAL);
    assert_int_equal(tr_config_int(&v, NULL, 0, 0, 9, &i, NULL), TR_EINVAL);
    assert_int_equal(tr_config_int(&v, "i_plain", 0, 0, 9, NULL, NULL), TR_EINVAL);
    assert_int_equal(tr_config_int(&v, "i_plain", 0, 10, 9, &i, NULL), TR_EINVAL);
    assert_int_equal(tr_config_int(&v, "absent", 0, 10, 9, &i, NULL), TR_EINVAL);
    assert_int_equal(tr_config_duration(NULL, "k", 0, 0, 9, &u, NULL), TR_EINVAL);
    assert_int_equal(tr_config_duration(&v, NULL, 0, 0, 9, &u, NULL), TR_EINVAL);
    assert_int_equal(tr_config_duration(&v, "k", 0, 0, 9, NULL, NULL), TR_EINVAL);
    assert_int_equal(tr_config_duration(&v, "k", 0, 10, 9, &u, NULL), TR_EINVAL);
    assert_int_equal(tr_config_size(NULL, "k", 0, 0, 9, &u, NULL), TR_EINVAL);
    assert_int_equal(tr_config_size(&v, NULL, 0, 0, 9, &u, NULL), TR_EINVAL);
    assert_int_equal(tr_config_size(&v, "k", 0, 0, 9, NULL, NULL), TR_EINVAL);
    assert_int_equal(tr_config_size(&v, "k", 0, 10, 9, &u, NULL), TR_EINVAL);
    assert_int_equal(tr_config_bool(NULL, "k", 0, &b, NULL), TR_EINVAL);
    assert_int_equal(tr_config_bool(&v, NULL, 0, &b, NULL), TR_EINVAL);
    assert_int_equal(tr_config_bool(&v, "k", 0, NULL, NULL), TR_EINVAL);
    static const char *const none[] = {NULL};
    assert_int_equal(tr_config_enum(NULL, "k", LEVELS, 0, &b, NULL), TR_EINVAL);
    assert_int_equal(tr_config_enum(&v, NULL, LEVELS, 0, &b, NULL), TR_EINVAL);
    assert_int_equal(tr_config_enum(&v, "k", LEVELS, 0, NULL, NULL), TR_EINVAL);
    assert_int_equal(tr_config_enum(&v, "k", NULL, 0, &b, NULL), TR_EINVAL);
    assert_int_equal(tr_config_enum(&v, "k", none, 0, &b, NULL), TR_EINVAL);
    assert_int_equal(tr_config_double(NULL, "k", 0, 0, 9, &d, NULL), TR_EINVAL);
    assert_int_equal(tr_config_double(&v, NULL, 0, 0, 9, &d, NULL), TR_EINVAL);
    assert_int_equal(tr_config_double(&v, "k", 0, 0, 9, NULL, NULL), TR_EINVAL);
    assert_int_equal(tr_config_double(&v, "k", 0, 10, 9, &d, NULL), TR_EINVAL);
    assert_int_equal(tr_config_double(&v, "k", 0, NAN, 9, &d, NULL), TR_EINVAL);
    /* nothing was written */
    assert_string_equal(s, "x");
    assert_true(i == 9 && u == 9 && b == 9 && d == 9);
}

/* An empty view: every getter gives its default. */
static void test_empty_view_defaults(void **state) {
    (void)state;
    tr_config_section_t v = view(NULL, "app/db", TR_ENOTFOUND);
    assert_int_equal(v.nlayers_, 0);
    const char *s = NULL;
    int64_t i = 0;
    uint64_t u = 0;
    int b = 0, en = 0;
    double d = 0;
    assert_false(tr_config_has(&v, "k"));
    assert_int_equal(tr_config_str(&v, "k", "dflt", &s, NULL), 0);
    assert_string_equal(s, "dflt");
    assert_int_equal(tr_config_int(&v, "k", -3, -10, 10, &i, NULL), 0);
    assert_true(i == -3);
    assert_int_equal(tr_config_duration(&v, "k", 1500, 0, 10000, &u, NULL), 0);
    assert_true(u == 1500);
    assert_int_equal(tr_config_size(&v, "k", 4096, 0, 1 << 20, &u, NULL), 0);
    assert_true(u == 4096);
    assert_int_equal(tr_config_bool(&v, "k", 1, &b, NULL), 0);
    assert_int_equal(b, 1);
    assert_int_equal(tr_config_enum(&v, "k", LEVELS, 3, &en, NULL), 0);
    assert_int_equal(en, 3);
    assert_int_equal(tr_config_double(&v, "k", 0.5, 0, 1, &d, NULL), 0);
    assert_true(d == 0.5);
    /* a snapshot without the sections: also an empty view, also defaults */
    tr_config_t *cfg = parse_ok("[other]\nk = 99\n");
    tr_config_section_t w = view(cfg, "app/db", TR_ENOTFOUND);
    assert_false(tr_config_has(&w, "k"));
    assert_int_equal(tr_config_int(&w, "k", 7, 0, 10, &i, NULL), 0);
    assert_true(i == 7);
    tr_config_release(cfg);
    /* misuse */
    tr_config_section_t x;
    assert_int_equal(tr_config_section(NULL, NULL, &x), TR_EINVAL);
    assert_int_equal(tr_config_section(NULL, "app", NULL), TR_EINVAL);
}

/* ---- layered views ---- */

static const char LAYERS[] =
    "[worker]\n"              /* 1 */
    "a = worker\n"            /* 2 */
    "b = worker\n"            /* 3 */
    "c = worker\n"            /* 4 */
    "bad = 1x\n"              /* 5 */
    "[app/pool/worker]\n"     /* 6 */
    "a = template\n"          /* 7 */
    "b = template\n"          /* 8 */
    "[app/pool/worker#3]\n"   /* 9 */
    "a = exact\n"             /* 10 */
    "[app/db]\n"              /* 11 */
    "x = appdb\n"             /* 12 */
    "[db]\n"                  /* 13 */
    "x = db\n"                /* 14 */
    "y = db\n"                /* 15 */
    "[runtime]\n"             /* 16 */
    "log_level = debug\n"     /* 17 */
    "[app/runtime]\n"         /* 18 */
    "own = 1\n"               /* 19 */
    "[app]\n"                 /* 20 */
    "intensity = 5\n";        /* 21 */

static const char *str_of(const tr_config_section_t *v, const char *key) {
    const char *s = NULL;
    assert_int_equal(tr_config_str(v, key, NULL, &s, NULL), 0);
    return s;
}

static void test_layers_dynamic_child(void **state) {
    (void)state;
    tr_config_t *cfg = parse_ok(LAYERS);
    tr_config_section_t v = view(cfg, "app/pool/worker#3", 0);
    assert_int_equal(v.nlayers_, 3);
    assert_string_equal(str_of(&v, "a"), "exact");
    assert_string_equal(str_of(&v, "b"), "template");
    assert_string_equal(str_of(&v, "c"), "worker");
    assert_null(str_of(&v, "x"));
    assert_false(tr_config_has(&v, "log_level"));
    assert_false(tr_config_has(&v, "intensity"));
    /* an error in a less specific layer names that layer and its line */
    int64_t i = 99;
    tr_config_error_t e;
    memset(&e, 0x5A, sizeof e);
    assert_int_equal(tr_config_int(&v, "bad", 0, 0, 9, &i, &e), TR_ECONFIG);
    assert_true(i == 99);
    check_err(&e, 5, "worker", "bad", "'1x' is not an integer");

    /* another instance: no exact section, the template then the name */
    tr_config_section_t w = view(cfg, "app/pool/worker#12", 0);
    assert_int_equal(w.nlayers_, 2);
    assert_string_equal(str_of(&w, "a"), "template");
    assert_string_equal(str_of(&w, "c"), "worker");
    /* the template itself */
    tr_config_section_t t = view(cfg, "app/pool/worker", 0);
    assert_int_equal(t.nlayers_, 2);
    assert_string_equal(str_of(&t, "a"), "template");
    assert_string_equal(str_of(&t, "c"), "worker");
    /* the same child name under another supervisor sees [worker] only */
    tr_config_section_t o = view(cfg, "other/worker", 0);
    assert_int_equal(o.nlayers_, 1);
    assert_string_equal(str_of(&o, "a"), "worker");
    /* nothing at all */
    tr_config_section_t n = view(cfg, "app/pool/nobody#1", TR_ENOTFOUND);
    assert_int_equal(n.nlayers_, 0);
    assert_null(str_of(&n, "a"));
    tr_config_release(cfg);
}

static void test_layers_static_child_and_root(void **state) {
    (void)state;
    tr_config_t *cfg = parse_ok(LAYERS);
    tr_config_section_t v = view(cfg, "app/db", 0);
    assert_int_equal(v.nlayers_, 2);
    assert_string_equal(str_of(&v, "x"), "appdb");
    assert_string_equal(str_of(&v, "y"), "db");
    assert_false(tr_config_has(&v, "a"));
    /* a nested child with only the name section */
    tr_config_section_t n = view(cfg, "app/sub/db", 0);
    assert_int_equal(n.nlayers_, 1);
    assert_string_equal(str_of(&n, "x"), "db");
    /* a root supervisor: its own section; it does not inherit from children */
    tr_config_section_t r = view(cfg, "app", 0);
    assert_int_equal(r.nlayers_, 1);
    assert_string_equal(str_of(&r, "intensity"), "5");
    assert_false(tr_config_has(&r, "x"));
    /* a plain section name */
    tr_config_section_t d = view(cfg, "db", 0);
    assert_int_equal(d.nlayers_, 1);
    assert_string_equal(str_of(&d, "x"), "db");
    tr_config_release(cfg);
}

static void test_layers_runtime_reserved(void **state) {
    (void)state;
    tr_config_t *cfg = parse_ok(LAYERS);
    tr_config_section_t rt = view(cfg, "runtime", 0);
    assert_int_equal(rt.nlayers_, 1);
    assert_string_equal(str_of(&rt, "log_level"), "debug");
    assert_false(tr_config_has(&rt, "own"));
    /* a child named "runtime" reads its own path, never [runtime] */
    tr_config_section_t child = view(cfg, "app/runtime", 0);
    assert_int_equal(child.nlayers_, 1);
    assert_string_equal(str_of(&child, "own"), "1");
    assert_false(tr_config_has(&child, "log_level"));
    tr_config_section_t other = view(cfg, "sup/runtime", TR_ENOTFOUND);
    assert_false(tr_config_has(&other, "log_level"));
    tr_config_section_t dyn = view(cfg, "sup/runtime#2", TR_ENOTFOUND);
    assert_false(tr_config_has(&dyn, "log_level"));
    tr_config_release(cfg);
    /* without a [runtime] section, "runtime" finds nothing (not [x/runtime]) */
    cfg = parse_ok("[app/runtime]\nk = 1\n");
    tr_config_section_t none = view(cfg, "runtime", TR_ENOTFOUND);
    assert_false(tr_config_has(&none, "k"));
    tr_config_release(cfg);
}

/* ---- tr_config_refuse ---- */

static void test_refuse(void **state) {
    (void)state;
    tr_config_t *cfg = parse_ok(LAYERS);
    tr_config_section_t v = view(cfg, "app/pool/worker#3", 0);
    tr_config_error_t e;
    char buf[512];

    /* the key is set (in the most specific layer) */
    memset(&e, 0x5A, sizeof e);
    assert_int_equal(tr_config_refuse(&e, &v, "a", "must be %s (got %d)", "even", 3), TR_ECONFIG);
    check_err(&e, 10, "app/pool/worker#3", "a", "must be even (got 3)");
    assert_string_equal(e.reason, "must be even (got 3)");
    assert_string_equal(tr_config_error_str(&e, buf, sizeof buf),
                        NAME ":10: [app/pool/worker#3] a: must be even (got 3)");
    /* the key is set in a less specific layer: that layer's line */
    memset(&e, 0x5A, sizeof e);
    assert_int_equal(tr_config_refuse(&e, &v, "c", "no"), TR_ECONFIG);
    check_err(&e, 4, "worker", "c", "no");
    memset(&e, 0x5A, sizeof e);
    assert_int_equal(tr_config_refuse(&e, &v, "b", "no"), TR_ECONFIG);
    check_err(&e, 8, "app/pool/worker", "b", "no");
    /* the key is not set: the (most specific) section, its name and the key */
    memset(&e, 0x5A, sizeof e);
    assert_int_equal(tr_config_refuse(&e, &v, "size", "is required"), TR_ECONFIG);
    assert_string_equal(e.file, NAME);
    assert_true(e.line > 0);
    assert_string_equal(e.section, "app/pool/worker#3");
    assert_string_equal(e.key, "size");
    assert_string_equal(e.reason, "is required");
    memset(&e, 0x5A, sizeof e);
    assert_int_equal(tr_config_refuse(&e, &v, NULL, "whole section"), TR_ECONFIG);
    assert_string_equal(e.section, "app/pool/worker#3");
    assert_string_equal(e.key, "");
    assert_string_equal(e.reason, "whole section");
    /* the view's first layer may be a less specific one */
    tr_config_section_t w = view(cfg, "app/pool/worker#12", 0);
    memset(&e, 0x5A, sizeof e);
    assert_int_equal(tr_config_refuse(&e, &w, "missing", "x"), TR_ECONFIG);
    assert_string_equal(e.section, "app/pool/worker");
    /* no section: line 0 */
    tr_config_section_t n = view(cfg, "nobody", TR_ENOTFOUND);
    memset(&e, 0x5A, sizeof e);
    assert_int_equal(tr_config_refuse(&e, &n, "k", "x"), TR_ECONFIG);
    assert_int_equal(e.line, 0);
    assert_string_equal(e.file, NAME);
    assert_string_equal(e.reason, "x");
    tr_config_section_t empty = view(NULL, "nobody", TR_ENOTFOUND);
    memset(&e, 0x5A, sizeof e);
    assert_int_equal(tr_config_refuse(&e, &empty, "k", "why %d", 1), TR_ECONFIG);
    assert_int_equal(e.line, 0);
    assert_string_equal(e.file, "");
    assert_string_equal(e.reason, "why 1");
    assert_int_equal(tr_config_refuse(&e, NULL, NULL, "x"), TR_ECONFIG);
    assert_int_equal(e.line, 0);
    /* NULL err */
    assert_int_equal(tr_config_refuse(NULL, &v, "a", "x"), TR_ECONFIG);
    tr_config_release(cfg);
}

/* "the file:line ... of the section when key is NULL or not set": the line
 * of the section's (first) header. */
static void test_refuse_section_line(void **state) {
    (void)state;
    tr_config_t *cfg = parse_ok(LAYERS);
    tr_config_section_t v = view(cfg, "app/pool/worker#3", 0);
    tr_config_section_t w = view(cfg, "app/pool/worker#12", 0);
    tr_config_error_t e1, e2, e3;
    char buf[512];
    assert_int_equal(tr_config_refuse(&e1, &v, "size", "is required"), TR_ECONFIG);
    assert_int_equal(tr_config_refuse(&e2, &v, NULL, "whole section"), TR_ECONFIG);
    assert_int_equal(tr_config_refuse(&e3, &w, "missing", "x"), TR_ECONFIG);
    tr_config_release(cfg);
    print_message("got: %s\n", tr_config_error_str(&e1, buf, sizeof buf));
    assert_int_equal(e1.line, 9);
    assert_string_equal(tr_config_error_str(&e2, buf, sizeof buf),
                        NAME ":9: [app/pool/worker#3]: whole section");
    assert_int_equal(e3.line, 6);
}

static void test_refuse_repeated_section_line(void **state) {
    (void)state;
    /* the section's line is its first header's */
    tr_config_t *cfg = parse_ok("; c\n[a]\nk = 1\n[b]\n[a]\nj = 2\n");
    tr_config_section_t v = view(cfg, "a", 0);
    tr_config_error_t e1, e2;
    assert_int_equal(tr_config_refuse(&e1, &v, "zz", "r"), TR_ECONFIG);
    assert_int_equal(tr_config_refuse(&e2, &v, "j", "r"), TR_ECONFIG);
    tr_config_release(cfg);
    assert_int_equal(e2.line, 6);
    assert_int_equal(e1.line, 2);
}

/* ---- tr_config_each ---- */

static void test_each(void **state) {
    (void)state;
    tr_config_t *cfg = parse_ok(LAYERS);
    kvrec_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(tr_config_each(cfg, record_kv, &r), 0);
    assert_int_equal(r.n, 13);
    check_kv(&r, 0, "worker", "a", "worker", 2);
    check_kv(&r, 3, "worker", "bad", "1x", 5);
    check_kv(&r, 4, "app/pool/worker", "a", "template", 7);
    check_kv(&r, 6, "app/pool/worker#3", "a", "exact", 10);
    check_kv(&r, 7, "app/db", "x", "appdb", 12);
    check_kv(&r, 10, "runtime", "log_level", "debug", 17);
    check_kv(&r, 11, "app/runtime", "own", "1", 19);
    check_kv(&r, 12, "app", "intensity", "5", 21);
    /* lines only grow in a file without repeated headers */
    for (int i = 1; i < r.n; i++)
        assert_true(r.line[i] > r.line[i - 1]);

    /* stop early: the callback's value comes back */
    for (int stop = 1; stop <= 13; stop++) {
        memset(&r, 0, sizeof r);
        r.stop_at = stop;
        assert_int_equal(tr_config_each(cfg, record_kv, &r), 7);
        assert_int_equal(r.n, stop);
    }
    memset(&r, 0, sizeof r);
    r.stop_at = 3;
    assert_int_equal(tr_config_each(cfg, record_kv, &r), 7);
    check_kv(&r, 2, "worker", "c", "worker", 4);

    /* misuse */
    assert_int_equal(tr_config_each(NULL, record_kv, &r), TR_EINVAL);
    assert_int_equal(tr_config_each(cfg, NULL, &r), TR_EINVAL);
    tr_config_release(cfg);
}

static int each_negative(void *arg, const char *section, const char *key, const char *value,
                         int line) {
    (void)section;
    (void)key;
    (void)value;
    (void)line;
    ++*(int *)arg;
    return -42;
}

static void test_each_negative_return(void **state) {
    (void)state;
    tr_config_t *cfg = parse_ok("[a]\nk = 1\nj = 2\n");
    int calls = 0;
    assert_int_equal(tr_config_each(cfg, each_negative, &calls), -42);
    assert_int_equal(calls, 1);
    tr_config_release(cfg);
}

/* The header: "Visit every key of the snapshot in file order". */
static void test_each_order_with_repeated_header(void **state) {
    (void)state;
    tr_config_t *cfg = parse_ok("[a]\n"     /* 1 */
                                "k = 1\n"   /* 2 */
                                "[b]\n"     /* 3 */
                                "k = 2\n"   /* 4 */
                                "[a]\n"     /* 5 */
                                "j = 3\n"); /* 6 */
    kvrec_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(tr_config_each(cfg, record_kv, &r), 0);
    assert_int_equal(r.n, 3);
    tr_config_release(cfg);
    /* documented order: sections in order of first appearance, each
     * section's keys in the order they were set */
    check_kv(&r, 0, "a", "k", "1", 2);
    check_kv(&r, 1, "a", "j", "3", 6);
    check_kv(&r, 2, "b", "k", "2", 4);
}

/* ---- reference counting and names ---- */

static void test_refcount_and_name(void **state) {
    (void)state;
    char name[32] = "first.ini";
    char *text = strdup("[a]\nk = hello\n");
    assert_non_null(text);
    tr_config_t *cfg = NULL;
    assert_int_equal(tr_config_parse(name, text, strlen(text), &cfg, NULL), 0);
    /* both the name and the text were copied */
    memset(text, 'Z', strlen(text));
    free(text);
    strcpy(name, "changed");
    assert_string_equal(tr_config_name(cfg), "first.ini");

    assert_ptr_equal(tr_config_retain(cfg), cfg);
    assert_ptr_equal(tr_config_retain(cfg), cfg);
    tr_config_section_t v = view(cfg, "a", 0);
    const char *s = str_of(&v, "k");
    tr_config_release(cfg);
    tr_config_release(cfg);
    /* one reference left: still readable */
    assert_string_equal(s, "hello");
    assert_string_equal(tr_config_name(cfg), "first.ini");
    tr_config_release(cfg); /* freed here (ASan: no leak, no double free) */

    assert_null(tr_config_retain(NULL));
    tr_config_release(NULL);
    assert_null(tr_config_name(NULL));

    /* "<string>" when no name is given */
    assert_int_equal(tr_config_parse(NULL, "[a]\n", 4, &cfg, NULL), 0);
    assert_string_equal(tr_config_name(cfg), "<string>");
    tr_config_release(cfg);
    tr_config_error_t e;
    assert_int_equal(tr_config_parse(NULL, "k=1\n", 4, &cfg, &e), TR_ECONFIG);
    assert_string_equal(e.file, "<string>");
    char buf[256];
    assert_string_equal(tr_config_error_str(&e, buf, sizeof buf),
                        "<string>:1: key outside any [section]");
    tr_config_release(cfg); /* NULL after the failed parse */
}

#define NTHREADS 4
#define NROUNDS 20000

static void *refcount_thread(void *arg) {
    tr_config_t *cfg = arg;
    for (int i = 0; i < NROUNDS; i++) {
        tr_config_t *c = tr_config_retain(cfg);
        tr_config_section_t v;
        if (tr_config_section(c, "a", &v) != 0 || !tr_config_has(&v, "k"))
            return (void *)1;
        tr_config_release(c);
    }
    tr_config_release(cfg); /* the reference main took for this thread */
    return NULL;
}

static void test_refcount_threads(void **state) {
    (void)state;
    tr_config_t *cfg = parse_ok("[a]\nk = 1\n");
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, refcount_thread, tr_config_retain(cfg)), 0);
    tr_config_release(cfg); /* the threads hold the rest */
    for (int i = 0; i < NTHREADS; i++) {
        void *ret = (void *)2;
        assert_int_equal(pthread_join(th[i], &ret), 0);
        assert_null(ret);
    }
}

/* ---- robustness ---- */

static uint32_t lcg(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static int count_kv(void *arg, const char *section, const char *key, const char *value,
                    int line) {
    assert_true(section[0] != '\0');
    assert_true(key[0] != '\0');
    assert_non_null(value);
    assert_true(line >= 1);
    ++*(size_t *)arg;
    return 0;
}

/* Parse; anything but 0 or TR_ECONFIG (with a line and a reason) fails. */
static void parse_anything(const char *buf, size_t len) {
    tr_config_t *cfg = (tr_config_t *)(uintptr_t)0x1;
    tr_config_error_t e;
    memset(&e, 0, sizeof e);
    int rc = tr_config_parse("junk", buf, len, &cfg, &e);
    if (rc == 0) {
        assert_non_null(cfg);
        size_t n = 0;
        assert_int_equal(tr_config_each(cfg, count_kv, &n), 0);
        tr_config_section_t v;
        (void)tr_config_section(cfg, "a", &v);
        int64_t i;
        (void)tr_config_int(&v, "k", 0, INT64_MIN, INT64_MAX, &i, NULL);
        tr_config_release(cfg);
    } else {
        assert_int_equal(rc, TR_ECONFIG);
        assert_null(cfg);
        assert_true(e.line >= 1);
        assert_true(e.reason[0] != '\0');
        assert_string_equal(e.file, "junk");
    }
}

static void test_junk_bytes(void **state) {
    (void)state;
    enum { LEN = 4096 };
    char *buf = malloc(LEN);
    assert_non_null(buf);
    uint32_t seed = 12345;
    for (int n = 0; n < 64; n++) {
        for (size_t i = 0; i < LEN; i++)
            buf[i] = (char)(lcg(&seed) & 0xFF);
        parse_anything(buf, LEN);
    }
    /* junk made of the characters that matter to the parser */
    static const char alpha[] = "[]=;#: \t\r\n\n\nab/#0\xEF\xBB\xBF";
    for (int n = 0; n < 2000; n++) {
        size_t len = lcg(&seed) % 256;
        for (size_t i = 0; i < len; i++)
            buf[i] = alpha[lcg(&seed) % (sizeof alpha - 1)];
        parse_anything(buf, len);
    }
    /* mutations of a valid file */
    for (int n = 0; n < 2000; n++) {
        size_t len = sizeof GETTERS - 1;
        char *m = malloc(len);
        assert_non_null(m);
        memcpy(m, GETTERS, len);
        for (int k = 0; k < 4; k++)
            m[lcg(&seed) % len] = (char)(lcg(&seed) & 0xFF);
        parse_anything(m, len);
        free(m);
    }
    free(buf);
}

static void test_megabyte_inputs(void **state) {
    (void)state;
    enum { MB = 1 << 20 };
    char *buf = malloc(MB + 1);
    assert_non_null(buf);
    /* 1 MiB of 1 KiB lines: too long at line 2 (after a header) */
    memcpy(buf, "[a]\n", 4);
    for (size_t i = 4; i < MB; i++)
        buf[i] = (i % 1024 == 1023) ? '\n' : (char)('a' + i % 26);
    tr_config_t *cfg = (tr_config_t *)(uintptr_t)0x1;
    tr_config_error_t e;
    assert_int_equal(tr_config_parse(NAME, buf, MB, &cfg, &e), TR_ECONFIG);
    assert_null(cfg);
    assert_int_equal(e.line, 2);
    assert_contains(e.reason, "line too long");
    /* one line of 1 MiB, no newline at all */
    memset(buf, 'k', MB);
    assert_int_equal(tr_config_parse(NAME, buf, MB, &cfg, &e), TR_ECONFIG);
    assert_int_equal(e.line, 1);
    assert_contains(e.reason, "line too long");
    /* 1 MiB of valid lines of 128 bytes: every key is there */
    size_t off = 0, nkeys = 0;
    off += (size_t)sprintf(buf, "[big]\n");
    while (off + 128 <= MB) {
        int n = sprintf(buf + off, "key%07zu = ", nkeys);
        memset(buf + off + n, 'v', 127 - (size_t)n);
        buf[off + 127] = '\n';
        off += 128;
        nkeys++;
    }
    assert_int_equal(tr_config_parse(NAME, buf, off, &cfg, &e), 0);
    size_t seen = 0;
    assert_int_equal(tr_config_each(cfg, count_kv, &seen), 0);
    assert_int_equal(seen, nkeys);
    tr_config_section_t v = view(cfg, "big", 0);
    char key[32];
    snprintf(key, sizeof key, "key%07zu", nkeys - 1);
    assert_true(tr_config_has(&v, key));
    tr_config_release(cfg);
    /* the same through a file (tr_config_load grows its buffer) */
    char path[64];
    write_temp(path, buf, off);
    cfg = NULL;
    int rc = tr_config_load(path, &cfg, &e);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rc, 0);
    seen = 0;
    assert_int_equal(tr_config_each(cfg, count_kv, &seen), 0);
    assert_int_equal(seen, nkeys);
    tr_config_release(cfg);
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        /* a well-formed file */
        cmocka_unit_test(test_well_formed),
        cmocka_unit_test(test_same_file_lf_and_crlf),
        cmocka_unit_test(test_empty_and_comment_only_files),
        cmocka_unit_test(test_header_without_keys),
        /* syntax errors */
        cmocka_unit_test(test_error_line_without_equals),
        cmocka_unit_test(test_error_unclosed_section),
        cmocka_unit_test(test_error_empty_section_name),
        cmocka_unit_test(test_error_key_outside_section),
        cmocka_unit_test(test_error_duplicate_key),
        cmocka_unit_test(test_error_long_line),
        cmocka_unit_test(test_line_of_199_bytes_accepted),
        cmocka_unit_test(test_error_nul_byte),
        cmocka_unit_test(test_error_empty_and_long_key),
        cmocka_unit_test(test_error_first_one_wins),
        cmocka_unit_test(test_error_earliest_line_reported),
        cmocka_unit_test(test_long_section_names),
        /* files */
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_load_syntax_error),
        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_load_misuse),
        cmocka_unit_test(test_error_str),
        /* getters */
        cmocka_unit_test_setup_teardown(test_get_int, getters_setup, getters_teardown),
        cmocka_unit_test_setup_teardown(test_get_duration, getters_setup, getters_teardown),
        cmocka_unit_test_setup_teardown(test_get_size, getters_setup, getters_teardown),
        cmocka_unit_test_setup_teardown(test_get_bool, getters_setup, getters_teardown),
        cmocka_unit_test_setup_teardown(test_get_enum, getters_setup, getters_teardown),
        cmocka_unit_test_setup_teardown(test_get_double, getters_setup, getters_teardown),
        cmocka_unit_test_setup_teardown(test_get_str, getters_setup, getters_teardown),
        cmocka_unit_test_setup_teardown(test_getters_misuse, getters_setup, getters_teardown),
        cmocka_unit_test(test_empty_view_defaults),
        /* views */
        cmocka_unit_test(test_layers_dynamic_child),
        cmocka_unit_test(test_layers_static_child_and_root),
        cmocka_unit_test(test_layers_runtime_reserved),
        cmocka_unit_test(test_refuse),
        cmocka_unit_test(test_refuse_section_line),
        cmocka_unit_test(test_refuse_repeated_section_line),
        /* each */
        cmocka_unit_test(test_each),
        cmocka_unit_test(test_each_negative_return),
        cmocka_unit_test(test_each_order_with_repeated_header),
        /* lifetime */
        cmocka_unit_test(test_refcount_and_name),
        cmocka_unit_test(test_refcount_threads),
        /* robustness */
        cmocka_unit_test(test_junk_bytes),
        cmocka_unit_test(test_megabyte_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
