/* bench/bench.h: helpers shared by the benchmarks (header-only, static
 * functions): the monotonic clock, RSS from /proc/self/statm, and a
 * fatal-error helper. Not part of the library. */
#ifndef TROUPE_BENCH_H
#define TROUPE_BENCH_H

#include <troupe/troupe.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Monotonic time in nanoseconds (CLOCK_MONOTONIC). */
static inline uint64_t bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Resident set size in bytes, from the second field of /proc/self/statm
 * (pages). Returns 0 if it cannot be read. */
static inline uint64_t bench_rss_bytes(void) {
    unsigned long long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%llu %llu", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Parse argv[1] as a positive count, or return `def`. */
static inline uint64_t bench_arg_count(int argc, char **argv, uint64_t def) {
    if (argc < 2)
        return def;
    char *end;
    unsigned long long v = strtoull(argv[1], &end, 10);
    if (*argv[1] == '\0' || *end != '\0' || v == 0) {
        fprintf(stderr, "usage: %s [count > 0]\n", argv[0]);
        exit(2);
    }
    return v;
}

/* Command line of the programs that run on several schedulers
 * (bench_pingpong, bench_ask_seq, bench_fanin):
 *   PROG [--schedulers N] [--spin-us U] [--consumers C] [count]
 * --schedulers N sets tr_runtime_opts_t.schedulers; without it (0) the
 * count comes from TROUPE_SCHEDULERS, else 1, as for any troupe program.
 * --spin-us U sets tr_runtime_opts_t.spin_us (0, the default: the
 * runtime's 20 us). --consumers is accepted only when `with_consumers` is
 * nonzero (bench_fanin). Exits 2 with a usage line on anything else. */
typedef struct bench_cli_s {
    uint64_t count;      /* the program's default unless given */
    uint16_t schedulers; /* 0: not given */
    uint32_t spin_us;    /* 0: not given */
    uint32_t consumers;  /* 0: not given */
} bench_cli_t;

static inline void bench_cli(int argc, char **argv, bench_cli_t *cli, int with_consumers) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *end;
        unsigned long long v;
        int flag = strcmp(a, "--schedulers") == 0 ? 1
                   : strcmp(a, "--spin-us") == 0  ? 2
                   : (with_consumers && strcmp(a, "--consumers") == 0) ? 3
                                                                       : 0;
        if (flag) {
            if (i + 1 >= argc)
                goto usage;
            v = strtoull(argv[++i], &end, 10);
            if (*argv[i] == '\0' || *end != '\0' || v == 0 ||
                v > (flag == 2 ? 10000u : TR_SCHEDULERS_MAX))
                goto usage;
            if (flag == 1)
                cli->schedulers = (uint16_t)v;
            else if (flag == 2)
                cli->spin_us = (uint32_t)v;
            else
                cli->consumers = (uint32_t)v;
            continue;
        }
        v = strtoull(a, &end, 10);
        if (*a == '\0' || *end != '\0' || v == 0)
            goto usage;
        cli->count = v;
    }
    return;
usage:
    fprintf(stderr, "usage: %s [--schedulers N] [--spin-us U]%s [count > 0]\n", argv[0],
            with_consumers ? " [--consumers C]" : "");
    exit(2);
}

/* A runtime with default options but for the command line's schedulers
 * and spin_us; prints the error and exits 1 on failure. */
static inline tr_runtime_t *bench_runtime(const char *bench, const bench_cli_t *cli) {
    tr_runtime_opts_t ro = {0};
    ro.schedulers = cli->schedulers;
    ro.spin_us = cli->spin_us;
    tr_runtime_t *rt;
    int rc = tr_runtime_create(&ro, &rt);
    if (rc) {
        fprintf(stderr, "%s: tr_runtime_create: %s (%s)\n", bench, tr_strerror(rc),
                tr_err_name(rc));
        exit(1);
    }
    return rt;
}

/* One indented detail line per scheduler (tr_runtime_sched_stats), for
 * runtimes with more than one. */
static inline void bench_print_scheds(tr_runtime_t *rt) {
    uint16_t n = tr_runtime_schedulers(rt);
    if (n < 2)
        return;
    for (uint16_t k = 0; k < n; k++) {
        tr_sched_stats_t ss;
        if (tr_runtime_sched_stats(rt, k, &ss) != 0)
            continue;
        printf("  scheduler %u: msgs_handled %llu, remote_in %llu, wakeups %llu, spins %llu, "
               "spin_hits %llu, sleeps %llu, loop_passes %llu, busy %.3f s\n",
               (unsigned)ss.id, (unsigned long long)ss.msgs_handled,
               (unsigned long long)ss.remote_in, (unsigned long long)ss.wakeups,
               (unsigned long long)ss.spins, (unsigned long long)ss.spin_hits,
               (unsigned long long)ss.sleeps, (unsigned long long)ss.loop_passes,
               (double)ss.busy_ns / 1e9);
    }
}

/* Print a troupe error and exit 1. */
static inline void bench_die(const char *bench, const char *what, int rc) {
    fprintf(stderr, "%s: %s: %s (%s)\n", bench, what, tr_strerror(rc), tr_err_name(rc));
    exit(1);
}

#endif /* TROUPE_BENCH_H */
