/* examples/kvd/resp.c: RESP2 parsing and reply writing, plus kvd's byte
 * buffers and request encoding (resp.h, kvd.h). Pure functions. */
#include "resp.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- buffers ---- */

int kvd_buf_reserve(kvd_buf_t *b, size_t n) {
    if (b->cap - b->len >= n)
        return 0;
    if (n > SIZE_MAX / 2 - b->len)
        return TR_ENOMEM;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return TR_ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

int kvd_buf_add(kvd_buf_t *b, const void *p, size_t n) {
    if (kvd_buf_reserve(b, n) != 0)
        return TR_ENOMEM;
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

void kvd_buf_free(kvd_buf_t *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ---- requests between a connection and a shard ---- */

int kvd_req_start(kvd_buf_t *b, uint32_t flags, int64_t num) {
    kvd_req_hdr_t h = {flags, 0, num};
    b->len = 0;
    return kvd_buf_add(b, &h, sizeof h);
}

int kvd_req_arg(kvd_buf_t *b, const char *p, size_t len) {
    if (len > UINT32_MAX)
        return TR_EINVAL;
    uint32_t n = (uint32_t)len;
    if (kvd_buf_reserve(b, sizeof n + len) != 0)
        return TR_ENOMEM;
    memcpy(b->p + b->len, &n, sizeof n);
    if (len)
        memcpy(b->p + b->len + sizeof n, p, len);
    b->len += sizeof n + len;
    kvd_req_hdr_t h;
    memcpy(&h, b->p, sizeof h);
    h.argc++;
    memcpy(b->p, &h, sizeof h);
    return 0;
}

int kvd_req_open(kvd_req_t *r, const void *data, size_t len) {
    if (len < sizeof r->hdr || !data)
        return -1;
    memcpy(&r->hdr, data, sizeof r->hdr);
    r->cur = (const char *)data + sizeof r->hdr;
    r->end = (const char *)data + len;
    /* Check every length once, so kvd_req_next cannot overrun. */
    const char *c = r->cur;
    for (uint32_t i = 0; i < r->hdr.argc; i++) {
        uint32_t n;
        if ((size_t)(r->end - c) < sizeof n)
            return -1;
        memcpy(&n, c, sizeof n);
        c += sizeof n;
        if ((size_t)(r->end - c) < n)
            return -1;
        c += n;
    }
    return c == r->end ? 0 : -1;
}

int kvd_req_next(kvd_req_t *r, const char **p, size_t *len) {
    uint32_t n;
    if ((size_t)(r->end - r->cur) < sizeof n)
        return -1;
    memcpy(&n, r->cur, sizeof n);
    *p = r->cur + sizeof n;
    *len = n;
    r->cur += sizeof n + n;
    return 0;
}

uint32_t kvd_shard_of(const char *key, size_t len, uint32_t shards) {
    uint64_t h = 14695981039346656037ull; /* FNV-1a, 64 bits */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 1099511628211ull;
    }
    return (uint32_t)(h % shards);
}

/* ---- parsing ---- */

int resp_parse_int(const char *p, size_t len, int64_t *out) {
    if (len == 0 || len > 20)
        return -1;
    size_t i = 0;
    int neg = 0;
    if (p[0] == '-') {
        neg = 1;
        if (++i == len)
            return -1;
    }
    if (p[i] == '0' && len - i > 1)
        return -1; /* no leading zeros, and "-0" is not a number either */
    if (p[i] == '0' && neg)
        return -1;
    uint64_t v = 0;
    for (; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return -1;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return -1;
        *out = (int64_t)v;
    }
    return 0;
}

int resp_eq(const char *p, size_t len, const char *word) {
    return strlen(word) == len && strncasecmp(p, word, len) == 0;
}

static int push_arg(resp_parser_t *p, size_t off, size_t len) {
    if (p->nargs == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        resp_span_t *v = realloc(p->argv, cap * sizeof *v);
        if (!v)
            return RESP_NOMEM;
        p->argv = v;
        p->cap = cap;
    }
    p->argv[p->nargs].off = off;
    p->argv[p->nargs].len = len;
    p->nargs++;
    return 0;
}

static int perr(resp_parser_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(resp_parser_t *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->error, sizeof p->error, fmt, ap);
    va_end(ap);
    return RESP_ERROR;
}

/* A printable rendering of one byte for error messages. */
static const char *show(char c, char buf[8]) {
    if (c >= 0x20 && c < 0x7f)
        snprintf(buf, 8, "%c", c);
    else
        snprintf(buf, 8, "\\x%02x", (unsigned char)c);
    return buf;
}

/* The line at buf[from, len): its length without CRLF, or -1 while the CRLF
 * has not arrived. `max` bounds how far to look. */
static ptrdiff_t line_at(const char *buf, size_t from, size_t len, size_t max) {
    size_t n = len - from;
    if (n > max)
        n = max;
    const char *nl = memchr(buf + from, '\n', n);
    if (!nl)
        return -1;
    return nl - (buf + from);
}

static int parse_inline(resp_parser_t *p, const char *buf, size_t len) {
    ptrdiff_t n = line_at(buf, 0, len, RESP_INLINE_MAX + 2);
    if (n < 0) {
        if (len > RESP_INLINE_MAX)
            return perr(p, "Protocol error: too big inline request");
        return RESP_MORE;
    }
    size_t end = (size_t)n;
    size_t stop = end > 0 && buf[end - 1] == '\r' ? end - 1 : end;
    for (size_t i = 0; i < stop;) {
        while (i < stop && (buf[i] == ' ' || buf[i] == '\t'))
            i++;
        size_t s = i;
        while (i < stop && buf[i] != ' ' && buf[i] != '\t')
            i++;
        if (i > s && push_arg(p, s, i - s) != 0)
            return RESP_NOMEM;
    }
    p->pos = end + 1;
    return RESP_DONE;
}

/* Read "<c><integer>\r\n" at p->pos. Returns RESP_DONE with *v, RESP_MORE,
 * or RESP_ERROR. */
static int header(resp_parser_t *p, const char *buf, size_t len, char c, int64_t *v,
                  size_t *hlen) {
    ptrdiff_t n = line_at(buf, p->pos, len, 32);
    if (n < 0)
        return len - p->pos >= 32 ? perr(p, "Protocol error: invalid %s length",
                                         c == '*' ? "multibulk" : "bulk")
                                  : RESP_MORE;
    size_t l = (size_t)n;
    if (l < 2 || buf[p->pos + l - 1] != '\r' ||
        resp_parse_int(buf + p->pos + 1, l - 2, v) != 0)
        return perr(p, "Protocol error: invalid %s length", c == '*' ? "multibulk" : "bulk");
    *hlen = l + 1;
    return RESP_DONE;
}

int resp_parse(resp_parser_t *p, const char *buf, size_t len) {
    if (p->pos == 0 && p->argc == 0) {
        if (len == 0)
            return RESP_MORE;
        if (buf[0] != '*')
            return parse_inline(p, buf, len);
        int64_t n;
        size_t hl;
        int rc = header(p, buf, len, '*', &n, &hl);
        if (rc != RESP_DONE)
            return rc;
        if (n > RESP_MAX_ARGS)
            return perr(p, "Protocol error: invalid multibulk length");
        p->pos = hl;
        if (n <= 0) /* "*0" and "*-1" are empty requests */
            return RESP_DONE;
        p->argc = n;
    }
    while ((int64_t)p->nargs < p->argc) {
        if (p->pos >= len)
            return RESP_MORE;
        if (buf[p->pos] != '$') {
            char b[8];
            return perr(p, "Protocol error: expected '$', got '%s'", show(buf[p->pos], b));
        }
        int64_t n;
        size_t hl;
        int rc = header(p, buf, len, '$', &n, &hl);
        if (rc != RESP_DONE)
            return rc;
        if (n < 0 || (uint64_t)n > p->max_bulk)
            return perr(p, "Protocol error: invalid bulk length");
        size_t need = hl + (size_t)n + 2;
        if (len - p->pos < need)
            return RESP_MORE;
        const char *d = buf + p->pos + hl;
        if (d[n] != '\r' || d[n + 1] != '\n')
            return perr(p, "Protocol error: bulk string not followed by CRLF");
        if (push_arg(p, p->pos + hl, (size_t)n) != 0)
            return RESP_NOMEM;
        p->pos += need;
    }
    return RESP_DONE;
}

void resp_parser_reset(resp_parser_t *p) {
    p->argc = 0;
    p->nargs = 0;
    p->pos = 0;
    p->error[0] = '\0';
}

void resp_parser_free(resp_parser_t *p) {
    free(p->argv);
    p->argv = NULL;
    p->cap = 0;
    resp_parser_reset(p);
}

/* ---- writing ---- */

/* Decimal digits of v into buf (at least 21 bytes); returns the length. */
static size_t fmt_int(char *buf, int64_t v) {
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t i = 0;
    if (v < 0)
        buf[i++] = '-';
    while (n)
        buf[i++] = tmp[--n];
    return i;
}

static int prefixed_int(kvd_buf_t *b, char c, int64_t v) {
    if (kvd_buf_reserve(b, 24) != 0)
        return TR_ENOMEM;
    char *o = b->p + b->len;
    o[0] = c;
    size_t n = 1 + fmt_int(o + 1, v);
    o[n++] = '\r';
    o[n++] = '\n';
    b->len += n;
    return 0;
}

int resp_simple(kvd_buf_t *b, const char *s) {
    size_t n = strlen(s);
    if (kvd_buf_reserve(b, n + 3) != 0)
        return TR_ENOMEM;
    b->p[b->len++] = '+';
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len++] = '\r';
    b->p[b->len++] = '\n';
    return 0;
}

int resp_error(kvd_buf_t *b, const char *fmt, ...) {
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof text)
        n = sizeof text - 1;
    for (int i = 0; i < n; i++) /* one line: a CR or LF would end the reply early */
        if (text[i] == '\r' || text[i] == '\n')
            text[i] = ' ';
    if (kvd_buf_reserve(b, (size_t)n + 3) != 0)
        return TR_ENOMEM;
    b->p[b->len++] = '-';
    memcpy(b->p + b->len, text, (size_t)n);
    b->len += (size_t)n;
    b->p[b->len++] = '\r';
    b->p[b->len++] = '\n';
    KVD_STAT_ADD(error_replies, 1);
    return 0;
}

int resp_int(kvd_buf_t *b, int64_t v) { return prefixed_int(b, ':', v); }

int resp_array(kvd_buf_t *b, int64_t n) { return prefixed_int(b, '*', n); }

int resp_null(kvd_buf_t *b) { return kvd_buf_add(b, "$-1\r\n", 5); }

int resp_bulk(kvd_buf_t *b, const char *p, size_t len) {
    if (len > INT64_MAX || kvd_buf_reserve(b, len + 26) != 0)
        return TR_ENOMEM;
    prefixed_int(b, '$', (int64_t)len); /* cannot fail: reserved */
    if (len)
        memcpy(b->p + b->len, p, len);
    b->len += len;
    b->p[b->len++] = '\r';
    b->p[b->len++] = '\n';
    return 0;
}

int resp_bulk_str(kvd_buf_t *b, const char *s) { return resp_bulk(b, s, strlen(s)); }

size_t resp_value_len(const char *p, size_t n) {
    if (n < 3)
        return 0;
    const char *nl = memchr(p, '\n', n);
    if (!nl || nl == p || nl[-1] != '\r')
        return 0;
    size_t hl = (size_t)(nl - p) + 1;
    if (p[0] != '$')
        return p[0] == ':' || p[0] == '+' || p[0] == '-' ? hl : 0;
    int64_t len;
    if (resp_parse_int(p + 1, hl - 3, &len) != 0)
        return 0;
    if (len < 0)
        return hl; /* $-1 */
    if ((uint64_t)len > n - hl || n - hl - (size_t)len < 2)
        return 0;
    return hl + (size_t)len + 2;
}
