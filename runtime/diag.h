/* runtime/diag.h: what the stall detector and the watchdog keep for the
 * debug socket (runtime/diag.c writes it, runtime/debug_cmd.c reads it).
 * Everything here is guarded by tr__diag_t.mu: the watchdog reports from
 * its own thread. */
#ifndef TROUPE_RUNTIME_DIAG_H
#define TROUPE_RUNTIME_DIAG_H

#include "runtime/internal.h"

#define TR__ALERTS 64 /* reports kept for `alerts` */

/* A stored copy of a tr_diag_t (every string owned). */
typedef struct tr__alert_s {
    tr_diag_kind_t kind;
    uint64_t seq, runtime_ms, wall_ms, age_ms;
    tr_ref_t actor;
    int msg_type;
    char *path, *msg_name, *text;
    char **chain;
    size_t nchain;
    char **frames;
    size_t nframes;
} tr__alert_t;

typedef struct tr__diag_s {
    pthread_mutex_t mu;
    tr__alert_t *ring[TR__ALERTS]; /* by seq % TR__ALERTS */
    uint64_t seq;                  /* reports so far */
    uint64_t stalls, deadlocks, hung;
    tr_diag_fn hook;
    void *hook_arg;
    /* watchdog thread */
    pthread_cond_t cv;
    pthread_t thread;
    bool started, quit;
    _Atomic int32_t wd_ms; /* threshold, <= 0: off */
    int sig_installed;
} tr__diag_t;

#endif /* TROUPE_RUNTIME_DIAG_H */
