/* tools/troupectl/troupectl.h: what troupectl's three files share. Internal
 * to troupectl: troupectl.c (options, the request, the exit status),
 * socket.c (finding the debug socket and one exchange on it) and render.c
 * (the human output). The protocol is docs/debug-protocol.md. */
#ifndef TROUPECTL_H
#define TROUPECTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* Exit statuses (troupectl(1), EXIT STATUS). */
enum {
    CTL_OK = 0,      /* the server answered ok */
    CTL_ESERVER = 1, /* the server answered with an error (refused, evicted too) */
    CTL_EUSAGE = 2,  /* bad options or arguments */
    CTL_EIO = 3      /* cannot find or connect to the socket, I/O error, timeout,
                        a malformed answer */
};

/* Print "troupectl: " and the message to stderr, then exit with `status`. */
_Noreturn void ctl_die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print "troupectl: warning: " and the message to stderr. */
void ctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- socket.c ---- */

/* Write the debug socket path of process `pid` to buf (len bytes): the
 * default path (tr_debug_default_path) when a socket is there, else the
 * listening Unix socket whose path ends in ".sock" among the process's open
 * files (/proc/PID/fd matched against /proc/PID/net/unix). Exits with
 * CTL_EIO when there is none. */
void ctl_socket_for_pid(long pid, char *buf, size_t len);

/* One exchange with the debug socket at `path`: connect, read and check the
 * hello, send `request` (one JSON line including its '\n', reqlen bytes),
 * read and parse the response line. timeout_ms bounds the whole exchange
 * (0: no limit). Returns the response object, owned by the caller. When the
 * server sends an error line in place of its hello (`refused`, `evicted`),
 * that line is returned instead. Every failure (cannot connect, I/O error,
 * timeout, a line that is not a JSON object) prints why and exits with
 * CTL_EIO. */
json_t *ctl_exchange(const char *path, int timeout_ms, const char *request, size_t reqlen);

/* ---- render.c ---- */

/* Print `result` (any JSON value, possibly NULL) of command `cmd` for
 * people on stdout. ascii: draw with ASCII only (no box-drawing characters or
 * arrows). A command it does not know is printed as indented JSON. */
void ctl_render(const char *cmd, const json_t *result, bool ascii);

/* Write s to f with control characters escaped (\n, \t, \xNN), so text from
 * the server cannot break lines or drive the terminal. */
void ctl_put_clean(FILE *f, const char *s);

#endif /* TROUPECTL_H */
