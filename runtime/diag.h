/* runtime/diag.h: what the stall detector and the watchdog keep for the
 * debug socket (runtime/diag.c writes it, runtime/debug_cmd.c reads it),
 * and the other cross-scheduler views the debug socket needs. The alerts
 * are guarded by tr__diag_t.mu: the watchdog and every scheduler's stall
 * check report from their own threads. */
#ifndef TROUPE_RUNTIME_DIAG_H
#define TROUPE_RUNTIME_DIAG_H

#include "runtime/internal.h"

#define TR__ALERTS 64 /* reports kept for `alerts` */

/* How long the debug socket and tr_runtime_events wait for every scheduler
 * to reach a safe point (tr__world_stop) before giving up: a handler that
 * runs longer is the watchdog's business, not something to wait for. */
#define TR__WORLD_WAIT_MS 1000u

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

/* runtime/events.c: the most recent `cap` events of every scheduler's ring
 * merged by time, oldest first (only those naming `who` as actor or peer
 * when it is not NULL). With the world stopped (tr__world_stop) or
 * stepping: it reads every ring. Returns how many were copied. */
size_t tr__events_merged(tr_runtime_t *rt, const tr_ref_t *who, tr_event_t *out, size_t cap);

#endif /* TROUPE_RUNTIME_DIAG_H */
