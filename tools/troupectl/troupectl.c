/* tools/troupectl/troupectl.c: troupectl, the command-line client of a troupe
 * runtime's debug socket (docs/debug-protocol.md; the manual is
 * troupectl.1). This file: options, which socket, the request, the answer's
 * exit status. socket.c finds the socket and runs the exchange; render.c
 * prints answers for people.
 *
 *   troupectl [-s SOCKET | -p PID] [--json] [--ascii] [-t TIMEOUT_MS] COMMAND [ARG]
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <troupe/debug.h>
#include <troupe/troupe.h>

#include "troupectl.h"

#define DEFAULT_TIMEOUT_MS 5000
#define MAX_TIMEOUT_MS 86400000 /* a day */

typedef enum {
    ARG_NONE,  /* takes no argument */
    ARG_COUNT, /* an optional integer, sent as a JSON integer */
    ARG_NAME   /* a required string */
} arg_kind_t;

/* The commands of protocol version 1. Others are sent as they are (a newer
 * server may know them), with a string argument. */
static const struct command {
    const char *name;
    arg_kind_t arg;
    const char *usage;
    const char *summary;
} commands[] = {
    {"help", ARG_NONE, "", "the server's list of commands"},
    {"tree", ARG_NONE, "", "the supervision tree, and the actors outside it"},
    {"actors", ARG_COUNT, "[LIMIT]", "live actors, mailboxes and counters (default 1000)"},
    {"actor", ARG_NAME, "PATH|ID", "one actor in detail"},
    {"waits", ARG_NONE, "", "who waits for whom: pending calls, deadlocks, stalls"},
    {"trace", ARG_COUNT, "[N]", "the flight recorder's last N events (default 50)"},
    {"stats", ARG_NONE, "", "runtime, reply-channel and debug-socket counters"},
    {"config", ARG_NONE, "", "the configuration and its reload history"},
    {"reload", ARG_NONE, "", "re-read the configuration file, as SIGHUP does"},
    {"alerts", ARG_COUNT, "[N]", "the last N stall/deadlock/hung-handler reports (default 20)"},
    {"schedulers", ARG_NONE, "", "each scheduler: actors, run queue, messages, wake-ups, load"},
};

static const char *progname = "troupectl";

void ctl_die(int status, const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "%s: ", progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(status);
}

void ctl_warn(const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s: warning: ", progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static _Noreturn void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static _Noreturn void usage_error(const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s: ", progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help' for more information.\n", progname);
    exit(CTL_EUSAGE);
}

static void help(void) {
    printf("Usage: %s [-s SOCKET | -p PID] [--json] [--ascii] [-t TIMEOUT_MS] COMMAND [ARG]\n"
           "Ask a running troupe runtime about itself through its debug socket.\n"
           "\n"
           "Options:\n"
           "  -s, --socket=SOCKET   the debug socket to talk to\n"
           "  -p, --pid=PID         the debug socket of process PID: its default path,\n"
           "                        else the listening *.sock socket among its open files\n"
           "      --json            print the answer's result as JSON, and nothing else\n"
           "      --ascii           draw trees and arrows with ASCII characters only\n"
           "  -t, --timeout=MS      give up when the exchange takes longer than MS\n"
           "                        milliseconds (default %d; 0 waits forever)\n"
           "  -h, --help            print this help and exit\n"
           "  -V, --version         print the version and exit\n"
           "\n"
           "Commands:\n",
           progname, DEFAULT_TIMEOUT_MS);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        char left[32];
        snprintf(left, sizeof(left), "%s %s", commands[i].name, commands[i].usage);
        printf("  %-20s  %s\n", left, commands[i].summary);
    }
    printf("\n"
           "Without -s or -p, the socket is $TROUPE_SOCKET. The default socket path\n"
           "of a process is $XDG_RUNTIME_DIR/troupe/PID.sock, or /tmp/troupe-UID/PID.sock\n"
           "when XDG_RUNTIME_DIR is not set.\n"
           "\n"
           "Exit status: 0 ok; 1 the server answered with an error; 2 usage error;\n"
           "3 cannot connect, I/O error, timeout or a malformed answer.\n"
           "See troupectl(1).\n");
}

static const struct command *find_command(const char *name) {
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0) return &commands[i];
    return NULL;
}

static bool parse_ll(const char *s, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end) return false;
    *out = v;
    return true;
}

/* The request line, '\n' included, malloc'd. Checks the argument first:
 * a usage error exits before anything is allocated. */
static char *build_request(const char *cmd, const char *arg, size_t *len) {
    const struct command *c = find_command(cmd);
    long long n = 0;
    if (c && c->arg == ARG_NONE && arg) usage_error("%s takes no argument", cmd);
    if (c && c->arg == ARG_NAME && !arg) usage_error("%s needs an argument: %s", cmd, c->usage);
    bool numeric = arg && c && c->arg == ARG_COUNT;
    if (numeric && !parse_ll(arg, &n))
        usage_error("%s: the argument (%s) must be an integer, not '%s'", cmd, c->usage, arg);

    json_t *jcmd = json_string(cmd);
    if (!jcmd) usage_error("COMMAND is not valid UTF-8");
    json_t *jarg = NULL;
    if (arg) {
        jarg = numeric ? json_integer(n) : json_string(arg);
        if (!jarg) {
            json_decref(jcmd);
            usage_error("the argument of %s is not valid UTF-8", cmd);
        }
    }
    json_t *req = json_object();
    if (!req || json_object_set_new(req, "cmd", jcmd) != 0 ||
        (jarg && json_object_set_new(req, "arg", jarg) != 0))
        ctl_die(CTL_EIO, "out of memory");
    char *s = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!s) ctl_die(CTL_EIO, "out of memory");
    *len = strlen(s);
    char *line = realloc(s, *len + 2);
    if (!line) ctl_die(CTL_EIO, "out of memory");
    line[(*len)++] = '\n';
    line[*len] = '\0';
    return line;
}

/* An error answer: "troupectl: CODE: MESSAGE" on stderr, and a hint for the
 * codes that end the connection. */
static void report_error(const json_t *resp) {
    const json_t *err = json_object_get(resp, "error");
    const json_t *code = json_is_object(err) ? json_object_get(err, "code") : NULL;
    const json_t *msg = json_is_object(err) ? json_object_get(err, "message") : NULL;
    const char *c = json_is_string(code) ? json_string_value(code) : "error";
    fflush(stdout);
    fprintf(stderr, "%s: ", progname);
    ctl_put_clean(stderr, c);
    fputs(": ", stderr);
    ctl_put_clean(stderr, json_is_string(msg) ? json_string_value(msg) : "-");
    fputc('\n', stderr);
    if (strcmp(c, "refused") == 0)
        fprintf(stderr, "%s: (the debug socket serves only its runtime's user and root)\n",
                progname);
    else if (strcmp(c, "evicted") == 0)
        fprintf(stderr, "%s: (the runtime has too many debug clients; try again)\n", progname);
}

int main(int argc, char **argv) {
    static const struct option longopts[] = {
        {"socket", required_argument, NULL, 's'}, {"pid", required_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},         {"ascii", no_argument, NULL, 'a'},
        {"timeout", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
    };
    const char *socket_opt = NULL;
    long pid = 0;
    bool json = false, ascii = false;
    int timeout_ms = DEFAULT_TIMEOUT_MS;
    long long n;
    int opt;

    opterr = 0; /* we say it ourselves, with the usage hint */
    while ((opt = getopt_long(argc, argv, ":s:p:t:hV", longopts, NULL)) != -1) {
        switch (opt) {
        case 's':
            if (!optarg[0]) usage_error("-s needs a socket path");
            socket_opt = optarg;
            break;
        case 'p':
            if (!parse_ll(optarg, &n) || n <= 0 || n > INT_MAX)
                usage_error("-p needs a process id, not '%s'", optarg);
            pid = (long)n;
            break;
        case 't':
            if (!parse_ll(optarg, &n) || n < 0 || n > MAX_TIMEOUT_MS)
                usage_error("-t needs a timeout in milliseconds (0 to %d), not '%s'",
                            MAX_TIMEOUT_MS, optarg);
            timeout_ms = (int)n;
            break;
        case 'j': json = true; break;
        case 'a': ascii = true; break;
        case 'h': help(); return CTL_OK;
        case 'V':
            printf("troupectl (troupe) %s, debug protocol %d\n", TROUPE_VERSION,
                   TR_DEBUG_PROTOCOL);
            return CTL_OK;
        case ':': usage_error("option '%s' needs an argument", argv[optind - 1]);
        default:
            if (optopt) usage_error("unknown option '-%c'", optopt);
            usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (socket_opt && pid) usage_error("-s and -p are exclusive: pass one");
    if (optind >= argc) usage_error("no COMMAND (try: tree, actors, waits; or help)");
    const char *cmd = argv[optind];
    const char *arg = optind + 1 < argc ? argv[optind + 1] : NULL;
    if (optind + 2 < argc) usage_error("too many arguments: '%s'", argv[optind + 2]);
    if (!cmd[0]) usage_error("empty COMMAND");

    size_t reqlen;
    char *request = build_request(cmd, arg, &reqlen);

    char found[TR_DEBUG_PATH_MAX + 1];
    const char *path = socket_opt;
    if (!path && pid) {
        ctl_socket_for_pid(pid, found, sizeof(found));
        path = found;
    }
    if (!path) {
        path = getenv("TROUPE_SOCKET");
        if (!path || !path[0])
            usage_error("which runtime? pass -s SOCKET or -p PID (or set TROUPE_SOCKET)");
    }

    json_t *resp = ctl_exchange(path, timeout_ms, request, reqlen);
    free(request);
    int status = CTL_OK;
    const json_t *ok = json_object_get(resp, "ok");
    if (json_is_true(ok)) {
        const json_t *result = json_object_get(resp, "result");
        if (json) {
            char *s = json_dumps(result ? result : json_null(), JSON_INDENT(2) | JSON_ENCODE_ANY);
            if (!s) ctl_die(CTL_EIO, "out of memory");
            puts(s);
            free(s);
        } else {
            ctl_render(cmd, result, ascii);
        }
    } else if (json_is_false(ok)) {
        report_error(resp);
        status = CTL_ESERVER;
    } else {
        ctl_die(CTL_EIO, "malformed response from %s: no \"ok\"", path);
    }
    json_decref(resp);
    if (fflush(stdout) != 0 || ferror(stdout))
        ctl_die(CTL_EIO, "cannot write the output: %s", strerror(errno));
    return status;
}
