/* examples/kvd/main.c: kvd, a Redis-protocol key-value server on troupe.
 *
 *   kvd [-c FILE] [-p PORT]
 *
 * Reads FILE (default: examples/kvd/kvd.ini in the source tree), starts the
 * supervision tree and serves until SIGINT or SIGTERM, which shut it down in
 * order (listener, then clients, then shards); it exits 0 then, 1 if a
 * supervisor gave up, 2 for a bad config or command line. SIGHUP reloads
 * FILE. See docs/kvd.md. */
#include "kvd.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef KVD_INI
#define KVD_INI "kvd.ini"
#endif

static void usage(FILE *f) {
    fprintf(f,
            "usage: kvd [-c FILE] [-p PORT]\n"
            "  -c, --config FILE  settings (default %s); SIGHUP re-reads it\n"
            "  -p, --port PORT    listen on PORT instead of [kvd] port (0: any free port)\n"
            "  -h, --help         this text\n"
            "  -V, --version      print the version\n",
            KVD_INI);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *path = KVD_INI;
    long port = -1;
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"port", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "c:p:hV", longopts, NULL)) != -1) {
        char *end;
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 'p':
            errno = 0;
            port = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || port < 0 || port > 65535) {
                fprintf(stderr, "kvd: --port: not a port number: '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("kvd %s (troupe %s)\n", KVD_VERSION, TROUPE_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }

    tr_config_t *cfg;
    tr_config_error_t err;
    char why[1024];
    if (tr_config_load(path, &cfg, &err) != 0) {
        fprintf(stderr, "kvd: %s\n", tr_config_error_str(&err, why, sizeof why));
        return 2;
    }
    kvd_listener_args_t largs;
    if (kvd_settings_read(cfg, &largs.settings, &err) != 0) {
        fprintf(stderr, "kvd: %s\n", tr_config_error_str(&err, why, sizeof why));
        tr_config_release(cfg);
        return 2;
    }
    kvd_settings_t *s = &largs.settings;
    if (port >= 0)
        s->port = (uint32_t)port;

    /* Writes to a closed client fail with EPIPE instead of killing us (the
     * connections also send with MSG_NOSIGNAL). */
    signal(SIGPIPE, SIG_IGN);

    tr_runtime_opts_t opts = {0};
    opts.config = cfg;
    opts.config_path = path;        /* SIGHUP re-reads it */
    opts.handle_signals = 1;        /* SIGINT, SIGTERM: ordered shutdown */
    opts.debug_socket = TR_DEBUG_SOCKET_DEFAULT; /* [runtime] debug_socket overrides */
    tr_runtime_t *rt;
    int rc = tr_runtime_create(&opts, &rt);
    tr_config_release(cfg);
    if (rc != 0) {
        fprintf(stderr, "kvd: cannot start the runtime: %s%s\n", tr_strerror(rc),
                rc == TR_ECONFIG ? " (the log above says where)" : "");
        return 2;
    }
    kvd_stats.start_ms = tr_runtime_now_ms(rt);

    if ((rc = kvd_start(rt, &largs)) != 0) {
        fprintf(stderr, "kvd: cannot start: %s (the log above says why)\n", tr_strerror(rc));
        tr_runtime_destroy(rt);
        return 1;
    }

    const char *dbg = tr_runtime_debug_socket(rt);
    printf("kvd %s (troupe %s), pid %ld, config %s\n", KVD_VERSION, TROUPE_VERSION,
           (long)getpid(), path);
    if (s->port)
        printf("  redis-cli -p %u                   talk to it (redis-benchmark -p %u too)\n",
               s->port, s->port);
    printf("  troupectl -p %ld tree              the supervision tree%s%s\n", (long)getpid(),
           dbg ? "; debug socket " : "", dbg ? dbg : " (no debug socket)");
    printf("  kill -HUP %ld                      reload %s\n", (long)getpid(), path);
    printf("  Ctrl-C or kill %ld                 ordered shutdown\n", (long)getpid());

    rc = tr_runtime_run(rt);
    tr_stats_t st;
    tr_runtime_stats(rt, &st);
    tr_runtime_destroy(rt);
    if (rc == TR_EESCALATED) {
        fprintf(stderr, "kvd: a supervisor gave up (restart intensity); exiting\n");
        return 1;
    }
    printf("kvd: shut down cleanly: %llu commands, %llu connections, %llu calls, %llu pending\n",
           (unsigned long long)KVD_STAT_GET(commands_processed),
           (unsigned long long)KVD_STAT_GET(connections_received),
           (unsigned long long)st.chan_created, (unsigned long long)st.chan_pending);
    return rc == 0 ? 0 : 1;
}
