/* runtime/errors.c: error names and messages from the TR_ERRNO_MAP table,
 * drop-reason names, and the fatal path for internal invariant violations. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "runtime/internal.h"

const char *tr_strerror(int err) {
    switch (err) {
    case 0: return "success";
#define XX(name, code, msg) case TR_##name: return msg;
        TR_ERRNO_MAP(XX)
#undef XX
    default: return "unknown error";
    }
}

const char *tr_err_name(int err) {
    switch (err) {
    case 0: return "TR_OK";
#define XX(name, code, msg) case TR_##name: return "TR_" #name;
        TR_ERRNO_MAP(XX)
#undef XX
    default: return "TR_UNKNOWN";
    }
}

const char *tr_drop_reason_str(tr_drop_reason_t reason) {
    switch (reason) {
    case TR_DROP_NONE: return "none";
    case TR_DROP_RETURNED: return "handler returned without replying";
    case TR_DROP_STOPPED: return "responder stopped while holding the channel";
    case TR_DROP_DISCARDED: return "request discarded from the mailbox of a stopping actor";
    case TR_DROP_OVERFLOW: return "request dropped by the mailbox overflow policy";
    case TR_DROP_PANICKED: return "responder panicked";
    }
    return "unknown";
}

void tr__fatal(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "troupe: internal error at %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}
