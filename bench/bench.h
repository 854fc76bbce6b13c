/* bench/bench.h: helpers shared by the benchmarks (header-only, static
 * functions): the monotonic clock, RSS from /proc/self/statm, and a
 * fatal-error helper. Not part of the library. */
#ifndef TROUPE_BENCH_H
#define TROUPE_BENCH_H

#include <troupe/troupe.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Print a troupe error and exit 1. */
static inline void bench_die(const char *bench, const char *what, int rc) {
    fprintf(stderr, "%s: %s: %s (%s)\n", bench, what, tr_strerror(rc), tr_err_name(rc));
    exit(1);
}

#endif /* TROUPE_BENCH_H */
