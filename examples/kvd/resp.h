/* examples/kvd/resp.h: the RESP2 request parser and reply writers.
 * Pure functions over caller-owned buffers: no actors, no I/O, so the
 * tests drive them byte by byte.
 *
 * A request is either a multibulk array of bulk strings
 * ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", what redis-cli and redis-benchmark
 * send) or an inline command ("GET k\r\n", split on spaces and tabs, for
 * telnet and nc). The limits are Redis's own: at most 1,048,576 arguments,
 * bulk strings up to `max_bulk` bytes, inline lines up to 64 KiB. */
#ifndef KVD_RESP_H
#define KVD_RESP_H

#include "kvd.h"

#define RESP_MAX_ARGS (1024 * 1024)
#define RESP_INLINE_MAX (64 * 1024)

/* One argument: an offset into the input buffer and a length (offsets, not
 * pointers, so the buffer may move between reads). */
typedef struct resp_span_s {
    size_t off, len;
} resp_span_t;

/* The parse state of the request at the head of the buffer. Zero it to
 * start; resp_parse resumes where it stopped when more bytes arrive, so a
 * large request arriving in many reads is parsed in linear time. */
typedef struct resp_parser_s {
    int64_t argc;       /* arguments announced by '*' (0: not read yet) */
    size_t nargs;       /* arguments parsed so far */
    size_t pos;         /* bytes of the request parsed so far */
    resp_span_t *argv;  /* nargs spans, into the buffer */
    size_t cap;
    uint64_t max_bulk;  /* largest bulk string accepted, bytes */
    char error[128];    /* the protocol error, after RESP_ERROR */
} resp_parser_t;

enum { RESP_ERROR = -1, RESP_MORE = 0, RESP_DONE = 1, RESP_NOMEM = -2 };

/* Parse the request starting at buf (len bytes available).
 * RESP_DONE: p->nargs arguments in p->argv; the request took p->pos bytes.
 *   An empty request (a blank inline line, "*0\r\n") has nargs 0: skip it.
 * RESP_MORE: incomplete; call again with the same buffer start and more
 *   bytes. RESP_ERROR: malformed; p->error says why ("Protocol error:
 *   expected '$', got 'x'"): reply with it and close the connection, as
 *   Redis does. RESP_NOMEM: out of memory.
 * After RESP_DONE, call resp_parser_reset before parsing the next request. */
int resp_parse(resp_parser_t *p, const char *buf, size_t len);
void resp_parser_reset(resp_parser_t *p);
void resp_parser_free(resp_parser_t *p);

/* Reply writers: append one RESP value to b. Return 0 or TR_ENOMEM. */
int resp_simple(kvd_buf_t *b, const char *s);            /* +s */
int resp_error(kvd_buf_t *b, const char *fmt, ...)       /* -text (CR/LF made spaces) */
    __attribute__((format(printf, 2, 3)));
int resp_int(kvd_buf_t *b, int64_t v);                   /* :v */
int resp_bulk(kvd_buf_t *b, const char *p, size_t len);  /* $len p */
int resp_null(kvd_buf_t *b);                             /* $-1 */
int resp_array(kvd_buf_t *b, int64_t n);                 /* *n */
int resp_bulk_str(kvd_buf_t *b, const char *s);

/* Length of the one RESP value at the start of p (n bytes): a bulk string,
 * null, integer, simple string or error; arrays are not walked. Returns
 * the length, or 0 when p does not start with a whole value. */
size_t resp_value_len(const char *p, size_t n);

/* Strict integer parse as Redis's string2ll: optional '-', no spaces, no
 * '+', no leading zeros, within int64_t. Returns 0 or -1. */
int resp_parse_int(const char *p, size_t len, int64_t *out);

/* Case-insensitive compare of an argument with a NUL-terminated word. */
int resp_eq(const char *p, size_t len, const char *word);

#endif /* KVD_RESP_H */
