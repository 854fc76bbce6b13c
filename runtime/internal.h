/* runtime/internal.h: the runtime's private data structures, shared by
 * runtime/, actors/ and mailbox/. Nothing here is public.
 *
 * Threads. Everything is owned by the scheduler thread except what is marked
 * "atomic": the slot words (generation + reserved mailbox depth, read and
 * CAS'd by foreign senders), the slot chunk pointers, the inbox head, the
 * foreign-side counters and the runtime's request flags. */
#ifndef TROUPE_RUNTIME_INTERNAL_H
#define TROUPE_RUNTIME_INTERNAL_H

#include <ev.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <troupe/troupe.h>
#include <uthash.h>

#define TR__UNARMED UINT64_MAX
#define TR__CONTAINER_OF(p, T, field) ((T *)((char *)(p) - offsetof(T, field)))
#define TR__LIKELY(x) __builtin_expect(!!(x), 1)
#define TR__UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Asserts are for our bugs (never for OOM or peer input). */
#define TR__ASSERT(cond, msg)                                                   \
    do {                                                                        \
        if (TR__UNLIKELY(!(cond))) tr__fatal(__FILE__, __LINE__, "%s: %s", #cond, msg); \
    } while (0)
void tr__fatal(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

/* Single-writer counters: relaxed load + store compiles to a plain add, and
 * readers on other threads see a torn-free value. */
typedef _Atomic uint64_t tr__ctr_t;
#define TR__INC(c) TR__ADD(c, 1)
#define TR__ADD(c, n)                                                           \
    atomic_store_explicit(&(c), atomic_load_explicit(&(c), memory_order_relaxed) + (n), \
                          memory_order_relaxed)
#define TR__FADD(c, n) atomic_fetch_add_explicit(&(c), (n), memory_order_relaxed)
#define TR__GET(c) atomic_load_explicit(&(c), memory_order_relaxed)

typedef struct tr__counters_s {
    tr__ctr_t actors_spawned, actors_stopped;
    tr__ctr_t msgs_sent, msgs_handled, sends_rejected, dead_letters;
    tr__ctr_t drops_newest, drops_oldest;
    tr__ctr_t chan_created, chan_ok, chan_error, chan_timeout, chan_dropped;
    tr__ctr_t chan_undelivered, chan_cancelled, late_replies, conts_cancelled;
    tr__ctr_t watermark_high, watermark_low, inbox_wakeups, loop_passes;
    tr__ctr_t panics, faults_isolated, restarts, downs, exits, config_updates;
    /* per scheduler only (not summed into tr_stats_t) */
    tr__ctr_t remote_in, spins, spin_hits, sleeps, busy_ns;
} tr__counters_t;

/* Runtime-private message types (below TR_MSG_USER, above the public ones). */
enum {
    TR__MSG_EXIT = 8,      /* payload tr__exit_t: a child stopped (to its supervisor) */
    TR__MSG_SUP_TIMER = 9, /* payload tr__sup_tick_t: a supervisor's own timer */
    TR__MSG_STARTED = 10,  /* payload tr__exit_t: a child whose init ran on
                              another scheduler is up (reason TR_STOP_NORMAL)
                              or failed (TR_STOP_PANIC, detail why) */
};
typedef struct tr__exit_s {
    tr_ref_t child;
    tr_stop_reason_t reason;
    const char *detail; /* valid during the handler */
} tr__exit_t;

/* ---- envelopes: a message as it sits in a mailbox slot (56 bytes) ---- */
enum {
    TR__F_MOVED = 1u << 0,   /* p.mv holds an owned pointer + destructor */
    TR__F_CALL = 1u << 1,    /* chan_idx/chan_gen name a reply channel */
    TR__F_EVICT = 1u << 2,   /* foreign drop_oldest send past capacity */
    TR__F_NOCAP = 1u << 3,   /* not counted against capacity (fd readiness) */
    TR__F_REPLIED = 1u << 4, /* in tr_msg_t.flags_: answered */
    TR__F_KEPT = 1u << 5,    /* in tr_msg_t.flags_: channel kept */
    TR__F_TAKEN = 1u << 6,   /* in tr_msg_t.flags_: payload taken */
};

typedef struct tr__env_s {
    int32_t type;
    uint32_t len;
    uint32_t flags;
    uint32_t chan_idx, chan_gen;
    tr_ref_t sender;
    union {
        unsigned char inl[TR_INLINE_MAX];
        struct {
            void *ptr;
            tr_dtor_fn dtor;
        } mv;
    } p;
} tr__env_t;

/* Fill env's payload: copy inline, heap-copy (as a moved pointer with free),
 * or move. On TR_ENOMEM nothing is held. */
int tr__env_set_heap_copy(tr__env_t *env, const void *data, size_t len);
static inline void tr__env_set_move(tr__env_t *env, void *ptr, size_t len, tr_dtor_fn dtor) {
    env->len = (uint32_t)len;
    env->flags |= TR__F_MOVED;
    env->p.mv.ptr = ptr;
    env->p.mv.dtor = dtor;
}
static inline int tr__env_set_copy(tr__env_t *env, const void *data, size_t len) {
    if (TR__UNLIKELY(len > TR_INLINE_MAX)) return tr__env_set_heap_copy(env, data, len);
    env->len = (uint32_t)len;
    env->flags &= ~TR__F_MOVED;
    if (len) __builtin_memcpy(env->p.inl, data, len);
    return 0;
}
/* Run the payload's destructor if it has one. */
static inline void tr__env_destroy(tr__env_t *env) {
    if (TR__UNLIKELY(env->flags & TR__F_MOVED)) {
        if (env->p.mv.dtor) env->p.mv.dtor(env->p.mv.ptr);
        env->flags &= ~TR__F_MOVED;
    }
}
static inline const void *tr__env_data(const tr__env_t *env) {
    if (env->flags & TR__F_MOVED) return env->p.mv.ptr;
    return env->len ? env->p.inl : NULL;
}

/* ---- bounded ring (mailbox/ring.c), scheduler-thread only ---- */
typedef struct tr__ring_s {
    tr__env_t *buf; /* NULL until the first message: idle actors are cheap */
    uint32_t mask;  /* size - 1, size a power of two */
    uint32_t head;
    uint32_t count;
    uint32_t owner_cfg_gen; /* not the ring's: the owning actor's config
                               generation, kept in what would be padding so
                               tr__actor_t does not grow */
} tr__ring_t;
int tr__ring_grow(tr__ring_t *r); /* 0 or TR_ENOMEM */
static inline int tr__ring_push(tr__ring_t *r, const tr__env_t *env) {
    if (TR__UNLIKELY(!r->buf || r->count == r->mask + 1) && tr__ring_grow(r) != 0)
        return TR_ENOMEM;
    r->buf[(r->head + r->count) & r->mask] = *env;
    r->count++;
    return 0;
}
static inline void tr__ring_pop(tr__ring_t *r, tr__env_t *out) {
    *out = r->buf[r->head];
    r->head = (r->head + 1) & r->mask;
    r->count--;
}
void tr__ring_free(tr__ring_t *r);

/* ---- MPSC inbox (mailbox/inbox.c) ---- */
/* Inbox node kinds (IN_*) and system-lane kinds (SYS_*): one numbering,
 * since a stop request is both. Every node names its target actor `to`
 * (except REPLY, addressed to a channel homed on the receiving scheduler). */
enum {
    TR__IN_SEND,      /* env: a one-way message, its place already reserved
                         (TR__F_EVICT: drop_oldest must make room) */
    TR__IN_CALL_SYNC, /* env + sync: a tr_call_sync from a foreign thread */
    TR__IN_STOP,      /* arg: the tr_stop_reason_t */
    TR__IN_SET_CAP,   /* arg: the new capacity */
    TR__SYS_EXIT,
    TR__SYS_DOWN,
    TR__SYS_CONFIG,   /* UpdateConfig: apply the snapshot in tr__sysmsg_t.cfg */
    TR__SYS_STARTED,  /* to a supervisor: a child's remote init ran (arg: 0 up,
                         else failed; detail why) */
    TR__IN_CALL,      /* env (TR__F_CALL): a call from an actor on another
                         scheduler; the channel's home is env.sender.sched */
    TR__IN_REPLY,     /* the outcome of channel env.chan_idx/chan_gen, homed
                         here: arg status, id error, timeout_ms drop reason,
                         ptr the detail (malloc'd or NULL), env's payload
                         the reply data, to.gen 1 when an outcome for a
                         channel no longer pending counts as a late reply */
    TR__IN_SYS,       /* ptr: a tr__sysmsg_t for `to`'s system lane */
    TR__IN_KILL,      /* brutal kill of `to`; ptr: the detail (malloc'd) */
    TR__IN_SPAWN,     /* run the init of `to` (created by another scheduler);
                         ptr: the args, arg 1 when ptr is a copy to free */
    TR__IN_MONITOR,   /* `from` monitors `to` under id */
    TR__IN_DEMONITOR, /* `from` dropped monitor id on `to` */
    TR__IN_TEARDOWN   /* ordered shutdown: tear `to` down now (arg: reason),
                         then signal ptr (scheduler 0 waits for it) */
};
typedef struct tr__sync_s tr__sync_t;
typedef struct tr__inode_s {
    struct tr__inode_s *next;
    int kind;
    tr_ref_t to;
    uint32_t arg;
    tr__sync_t *sync;
    uint32_t timeout_ms;
    tr_ref_t from;
    int64_t id;
    void *ptr;
    tr__env_t env;
} tr__inode_t;
typedef struct tr__inbox_s {
    _Atomic(tr__inode_t *) head; /* Treiber stack, drained whole */
} tr__inbox_t;
/* Push; returns true if the inbox was empty (the caller then wakes the
 * scheduler: one wake-up per batch). Any thread. */
bool tr__inbox_push(tr__inbox_t *in, tr__inode_t *node);
/* Take everything, oldest first. Scheduler thread. */
tr__inode_t *tr__inbox_take(tr__inbox_t *in);

/* ---- timers (runtime/timer.c): one min-heap per scheduler ---- */
enum { TR__TM_CALL, TR__TM_ACTOR, TR__TM_STALL };
typedef struct tr__tnode_s {
    uint64_t deadline_ms;
    uint64_t seq;
    uint32_t heap_idx; /* UINT32_MAX when not in the heap */
    uint8_t kind;
} tr__tnode_t;

typedef struct tr__atimer_s { /* an actor's timer */
    tr__tnode_t node;
    int64_t id;
    uint32_t repeat_ms;
    struct tr__actor_s *actor;
    struct tr__atimer_s *next;
    tr__env_t tmpl; /* payload template */
} tr__atimer_t;

/* ---- reply channels (mailbox/chan.c) ---- */
enum { TR__CH_FREE = 0, TR__CH_PENDING, TR__CH_QUEUED };
typedef struct tr__chan_s {
    uint32_t idx, gen;
    uint8_t state;
    uint8_t stall_seen; /* the stall detector reported it (once per call) */
    tr_ref_t caller, callee;
    struct tr__actor_s *caller_actor; /* NULL for sync callers */
    tr__sync_t *sync;
    int msg_type;
    tr_cont_fn cont;
    void *cookie;
    struct tr__chan_s *prev, *next; /* caller's pending list, then its reply queue */
    tr__tnode_t timer;
    uint64_t created_ms;
    tr_result_t res;
    unsigned char inl[TR_INLINE_MAX];
} tr__chan_t;

struct tr__sync_s { /* lives on the tr_call_sync caller's stack */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    tr_result_t res;
    unsigned char inl[TR_INLINE_MAX];
};

struct tr_reply_s { /* a kept reply channel */
    uint32_t chan_idx, chan_gen;
    uint16_t home; /* the scheduler whose table holds the channel */
    struct tr__actor_s *owner;
    struct tr_reply_s *prev, *next;
};

/* ---- actors ---- */
typedef struct tr__typeinfo_s {
    const tr_actor_type_t *type;
    int min_type;
    uint32_t span;
    const tr_handler_t **index; /* span entries, NULL where no handler */
    UT_hash_handle hh;          /* keyed by the type descriptor's address */
} tr__typeinfo_t;

static inline const tr_handler_t *tr__ti_lookup(const tr__typeinfo_t *ti, int type) {
    uint32_t off = (uint32_t)(type - ti->min_type);
    return off < ti->span ? ti->index[off] : NULL;
}

/* A slot of the actor table. Slots are never freed while the runtime lives
 * (chunks only grow), so foreign threads may read them at any time; the
 * generation in `word` tells whether what they read is still the actor their
 * ref names.
 * Mailbox accounting: word = gen << 32 | enq, where enq counts places ever
 * reserved (mod 2^32) and is advanced only by CAS, from any sender thread;
 * deq counts places ever released and is written only by the scheduler, with
 * a plain store. depth = enq - deq. A sender reads deq first, then the word:
 * its deq may be stale (smaller), so it sees a larger depth than the truth,
 * never a smaller one (nor a wrapped one), and the capacity bound is exact
 * across threads while dequeuing costs no locked instruction. */
typedef struct tr__slot_s {
    _Atomic uint64_t word;
    _Atomic uint32_t deq;
    _Atomic uint32_t cfg; /* capacity | overflow policy << 28 */
    _Atomic(tr__typeinfo_t *) ti;
    union {
        struct tr__actor_s *actor; /* scheduler-thread only */
        uint32_t next_free;
    } u;
} tr__slot_t;

#define TR__SLOT_CHUNK 4096u
#define TR__SLOT_CHUNKS 4096u /* up to 16M actors */
#define TR__WORD(gen, depth) (((uint64_t)(gen) << 32) | (uint32_t)(depth))
#define TR__WORD_GEN(w) ((uint32_t)((w) >> 32))
#define TR__WORD_ENQ(w) ((uint32_t)(w))
#define TR__CFG(cap, pol) ((uint32_t)(cap) | ((uint32_t)(pol) << 28))
#define TR__CFG_CAP(c) ((c) & 0x0fffffffu)
#define TR__CFG_POL(c) ((tr_overflow_t)((c) >> 28))

/* A control message on an actor's system lane: a stop request (arg: the
 * tr_stop_reason_t), an exit signal from a child (TR__SYS_EXIT), a DOWN for
 * a monitor (TR__SYS_DOWN) or an UpdateConfig (TR__SYS_CONFIG). Never
 * counted against the mailbox capacity. */
typedef struct tr__sysmsg_s {
    struct tr__sysmsg_s *next;
    int kind;
    uint32_t arg;   /* stop reason; CONFIG: the generation */
    tr_ref_t from;  /* EXIT/DOWN: the actor that stopped */
    int64_t id;     /* DOWN: monitor id */
    char *detail;   /* owned, may be NULL */
    tr_config_t *cfg; /* CONFIG: a reference to the snapshot */
    int remote;     /* DOWN: came from another scheduler's monitor node */
} tr__sysmsg_t;

enum {
    TR__A_IN_RUNQ = 1u << 0,
    TR__A_RUNNING = 1u << 1,
    TR__A_STOP_REQ = 1u << 2, /* stop at the end of this turn */
    TR__A_DEAD = 1u << 3,     /* torn down; freed when it leaves the run queue */
    TR__A_WM_HIGH = 1u << 4,
    TR__A_WM_CUSTOM = 1u << 5,
    TR__A_STOP_QUEUED = 1u << 8, /* a stop request is on the system lane */
    TR__A_UNSTARTED = 1u << 9,   /* init refused or not run yet: no terminate,
                                    not counted */
    TR__A_REMOTE_INIT = 1u << 10, /* created by another scheduler, init not run
                                     yet (its parent learns how init went by
                                     TR__SYS_STARTED) */
    TR__A_TRAPPED = 1u << 11,    /* TR_MSG_SHUTDOWN delivered: next stop is final */
};
/* The reason of a requested stop lives in flags bits 16..19. */
#define TR__A_REASON_SHIFT 16
#define TR__A_REASON_MASK (0xfu << TR__A_REASON_SHIFT)
static inline void tr__set_stop_reason(struct tr__actor_s *a, tr_stop_reason_t r);
static inline tr_stop_reason_t tr__stop_reason(const struct tr__actor_s *a);

typedef struct tr__owned_s {
    struct tr__owned_s *next;
    int fd; /* -1 for pointers */
    void *ptr;
    tr_dtor_fn dtor;
} tr__owned_t;

typedef struct tr__fdwatch_s {
    ev_io io;
    struct tr__actor_s *actor;
    int type;
    int pending;
    struct tr__fdwatch_s *next;
} tr__fdwatch_t;

/* A monitor: `watcher` gets DOWN when `target` stops. Both actors are alive
 * while it exists (each one's teardown removes its monitors). */
typedef struct tr__mon_s {
    int64_t id;
    /* Both set for a monitor inside one scheduler. Across schedulers each
     * side keeps its own node: the watcher's has target NULL, the target's
     * has watcher NULL, and `peer` names the other side. */
    struct tr__actor_s *watcher, *target;
    tr_ref_t peer;
    struct tr__mon_s *t_prev, *t_next; /* in the target's mon_in list */
    struct tr__mon_s *w_prev, *w_next; /* in the watcher's mon_out list */
} tr__mon_t;

struct tr__sup_s; /* supervisor/supervisor.c */

/* Rarely used parts, allocated on first use so idle actors stay small. */
typedef struct tr__extra_s {
    tr__owned_t *owned;
    tr__atimer_t *timers;
    tr__fdwatch_t *fds;
    struct tr_reply_s *kept;
    tr__mon_t *mon_in, *mon_out;
    tr_ref_t parent;       /* supervisor, TR_REF_NONE when unsupervised */
    char *path;            /* place in the tree, set by the supervisor */
    uint32_t incarnation;  /* 0 means 1 */
    struct tr__sup_s *sup; /* a supervisor's state (set by its init), else NULL */
    char *exit_detail;     /* why it asked to stop (a supervisor giving up) */
    uint32_t base_cap;     /* capacity before the config overrode it (0: not
                              overridden) */
    uint8_t base_pol;      /* overflow before the config overrode it (0: not) */
    uint64_t busy_ns;      /* time in handlers (handler_timing on) */
    uint64_t drops;        /* messages its mailbox refused or discarded
                              (scheduler-side sends and overflow policies) */
} tr__extra_t;

typedef struct tr__actor_s {
    tr_ref_t ref;
    uint32_t flags;
    tr__slot_t *slot;
    tr__typeinfo_t *ti;
    struct tr__actor_s *runq_next;
    tr__ring_t ring;
    tr__sysmsg_t *sys;           /* system lane, FIFO by append */
    tr__chan_t *rq_head, *rq_tail; /* resolved calls awaiting their continuation */
    tr__chan_t *calls;           /* pending outgoing calls */
    tr__extra_t *x;
    uint64_t handled;
    uint32_t high_water, hi_mark, lo_mark;
    uint32_t spawn_seq;
    max_align_t state[];
} tr__actor_t;

/* The supervisor state of `a`, or NULL when it is not a supervisor. */
static inline struct tr__sup_s *tr__actor_sup(const tr__actor_t *a) {
    return a->x ? a->x->sup : NULL;
}

static inline void tr__set_stop_reason(tr__actor_t *a, tr_stop_reason_t r) {
    a->flags = (a->flags & ~TR__A_REASON_MASK) | ((uint32_t)r << TR__A_REASON_SHIFT);
}
static inline tr_stop_reason_t tr__stop_reason(const tr__actor_t *a) {
    return (tr_stop_reason_t)((a->flags & TR__A_REASON_MASK) >> TR__A_REASON_SHIFT);
}

/* ---- scheduler and runtime ---- */
typedef struct tr__wm_event_s {
    tr_ref_t ref;
    const char *type_name;
    uint32_t depth, capacity;
    int high;
} tr__wm_event_t;

struct tr_ctx_s {
    tr_runtime_t *rt;
    struct tr__sched_s *s;
    tr__actor_t *actor; /* current actor, NULL outside handlers */
    tr_msg_t *msg;      /* current message, NULL in continuations/init */
};

/* A protected region: tr_panic (and isolated faults) siglongjmp to the
 * innermost one. Regions: a pass's actor turns, init inside tr_spawn,
 * terminate inside teardown. */
typedef struct tr__pframe_s {
    sigjmp_buf jb;
    struct tr__pframe_s *prev;
    struct tr__sched_s *prev_tls;
} tr__pframe_t;

/* What is being run when a panic unwinds a turn. */
enum { TR__RUN_NONE = 0, TR__RUN_MSG, TR__RUN_CONT, TR__RUN_SYS };

#define TR__BT_MAX 32
#define TR__SCENE_EVENTS 32
#define TR__BT_CACHE 128 /* symbolized frames kept per scheduler (a power of two) */

/* One symbolized frame, by instruction pointer (see bt_walk in panic.c). */
typedef struct tr__bt_sym_s {
    uintptr_t ip; /* 0: empty */
    char text[160];
} tr__bt_sym_t;

typedef struct tr__panic_s {
    tr_panic_kind_t kind;
    int signo;
    const char *file;
    int line;
    char reason[256];
    char detail[384]; /* "panicked at FILE:LINE: REASON", the drop detail */
    uint64_t wall_ms, runtime_ms;
    const char *frames[TR__BT_MAX];
    size_t nframes;
    char frame_buf[TR__BT_MAX][160];
    /* unw_get_proc_name reads /proc/self/maps on every call (libunwind's
     * get_elf_image): about 0.7 ms per backtrace, most of a restart. A
     * crash loop panics at the same places, so names are cached by ip,
     * direct-mapped (a collision replaces the older entry). Fixed size, so
     * the fault path still allocates nothing. */
    tr__bt_sym_t sym_cache[TR__BT_CACHE];
    tr_event_t events[TR__SCENE_EVENTS];
    size_t nevents;
    char path[256];
} tr__panic_t;

typedef struct tr__sched_s {
    tr_runtime_t *rt;
    uint16_t id;
    pthread_t thread;  /* the owner thread until its own thread starts */
    _Atomic int quit;  /* its thread should leave its loop */
    int own_loop;      /* the runtime created this loop */
    struct ev_loop *loop;
    ev_prepare prepare;
    ev_idle idle;
    ev_async async;
    ev_timer timer;
    uint64_t timer_armed_ms; /* deadline the ev_timer is armed for, TR__UNARMED: none
                                (0 is a real deadline: runtime time starts at 0) */
    tr__inbox_t inbox;
    tr__actor_t *runq_head, *runq_tail;
    tr_ctx_t ctx;
    /* timers */
    tr__tnode_t **heap;
    uint32_t heap_len, heap_cap;
    uint64_t timer_seq;
    int64_t next_timer_id;
    uint64_t pass_now_ms; /* runtime time at the start of the current pass */
    /* reply channels: chunked table + free list */
    tr__chan_t **chan_chunks;
    uint32_t chan_nchunks, chan_free, chan_count;
    /* watermark events waiting to be reported outside handlers */
    tr__wm_event_t *wm_ev;
    uint32_t wm_len, wm_cap;
    uint64_t handled_total;
    _Atomic uint64_t actors; /* live actors placed here */
    _Atomic uint32_t runq_len; /* single writer: this scheduler */
    pthread_t tid;             /* its thread, while one runs (for the join) */
    int (*until_pred)(void *);
    void *until_arg;
    /* the turn being run, kept here (not on the stack) so a panic can clean up */
    tr__actor_t *run_actor;
    int run_kind;
    uint32_t turns_left;
    uint32_t run_n;
    tr__env_t run_env;
    tr_msg_t run_msg;
    tr__chan_t *run_chan;
    tr__sysmsg_t *run_sys;
    const char *run_what; /* "init", "terminate" while those run */
    char spawn_err[400];  /* why the last init failed (for supervisors' logs) */
    tr__actor_t *init_actor; /* whose init is running (not registered yet) */
    const char *init_name;   /* the name it will be registered under */
    tr__pframe_t *pframe;
    tr__panic_t panic;
    int in_panic; /* building a scene / running the hook */
    /* event ring */
    tr_event_t *ev;
    uint32_t ev_mask;
    uint64_t ev_n;
    int64_t next_monitor_id;
    void *altstack; /* our sigaltstack, if we installed one */
    /* diagnostics (runtime/diag.c) */
    tr__tnode_t stall_node;    /* the stall detector's next check (TR__TM_STALL) */
    _Atomic uint64_t wd_seq;   /* watchdog heartbeat: odd while a handler runs */
    _Atomic int wd_bt_req;     /* the watchdog asked this thread for a backtrace */
    sem_t wd_bt_done;          /* posted by the signal handler when it is taken */
    size_t wd_nframes;
    uintptr_t wd_ips[TR__BT_MAX];
    char wd_path[256];         /* the hung actor's tree path, from the signal */
    tr_ref_t wd_actor;         /* the hung actor and message, from the signal */
    int wd_type;
    const char *wd_type_name;
    uint64_t turn_t0;          /* handler_timing: tr__mono_ns at the turn start */
    const char *wd_frames[TR__BT_MAX];
    char wd_frame_buf[TR__BT_MAX][160];
    tr__counters_t c; /* written by this scheduler only */
} tr__sched_t;

typedef struct tr__regent_s {
    char *name;
    tr_ref_t ref;
    UT_hash_handle hh;   /* by name */
    UT_hash_handle hs;   /* by slot */
} tr__regent_t;

typedef struct tr__fdown_s {
    int fd;
    tr_ref_t owner;
    UT_hash_handle hh;
} tr__fdown_t;

struct tr_runtime_s {
    tr_runtime_opts_t opts;
    int own_loop;
    _Atomic int log_level;
    _Atomic int stop_req;     /* tr_runtime_stop */
    _Atomic int shutdown_req; /* tr_runtime_shutdown */
    _Atomic int shutting_down; /* set by scheduler 0, read by all */
    int stopped;              /* ordered shutdown completed */
    int destroying;
    ev_signal sigint, sigterm;
    tr__sched_t *sched; /* nsched of them; refs carry the index */
    uint16_t nsched;
    pthread_t owner;            /* the thread that created the runtime */
    _Atomic int threads_running; /* scheduler threads 1..n-1 are running */
    _Atomic uint32_t place_rr;  /* round-robin placement */
    _Atomic uint32_t spawn_seq; /* spawn order, across schedulers */
    int sync_spawn;             /* spawns from the stepping owner thread in
                                   progress (nested: init spawning) */
    uint64_t vnow_ms;           /* manual clock (owner thread moves it) */
    uint64_t mono0_ms;          /* CLOCK_MONOTONIC at creation: runtime time 0 */
    /* stopping the world: scheduler 0 parks the others at a safe point */
    pthread_mutex_t world_mu;
    pthread_cond_t world_cv;
    _Atomic int world_req;
    int parked;
    int world_depth; /* nested stops by the same (scheduler 0) thread */
    /* actor table (slot_mu: allocation and release) */
    pthread_mutex_t slot_mu;
    _Atomic(tr__slot_t *) slot_chunks[TR__SLOT_CHUNKS];
    _Atomic uint32_t slot_nchunks;
    uint32_t slot_free; /* free list head, UINT32_MAX when empty */
    _Atomic uint64_t actors_live;
    pthread_mutex_t types_mu;
    tr__typeinfo_t *types; /* uthash by descriptor */
    /* registry */
    pthread_mutex_t reg_mu;
    tr__regent_t *reg_by_name, *reg_by_slot;
    /* fd ownership (fd_mu) */
    pthread_mutex_t fd_mu;
    tr__fdown_t *fd_owners;
    tr__counters_t fc; /* foreign threads: atomic fetch_add */
    /* supervision */
    tr_panic_hook_fn panic_hook;
    void *panic_hook_arg;
    _Atomic int exit_status;
    _Atomic uint64_t sups_live;
    int faults_installed;
    /* configuration (runtime/reload.c) */
    tr_runtime_opts_t base_opts; /* the options before [runtime] overrode them */
    pthread_mutex_t cfg_mu;      /* guards config and cfg_status for other threads */
    tr_config_t *config;         /* current snapshot, NULL: none */
    char *config_path;
    tr_config_status_t cfg_status;
    _Atomic int reload_req;
    ev_signal sigreload;
    int reloading;               /* inside a reload: no nested one */
    /* diagnostics */
    struct tr__diag_s *diag;     /* alerts, hook, watchdog (runtime/diag.c) */
    struct tr__debug_s *dbg;     /* debug socket (runtime/debug.c), NULL: none */
    char *debug_path;            /* where it is bound */
};

/* runtime/config.c: what the runtime needs beyond the public getters */
int tr__config_check_keys(const tr_config_section_t *sec, const char *const *known,
                          tr_config_error_t *err);
size_t tr__config_nsections(const tr_config_t *cfg);
void tr__config_section_at(const tr_config_t *cfg, size_t i, tr_config_section_t *out);
bool tr__config_same(const tr_config_section_t *a, const tr_config_section_t *b, const char *key);
/* Name of the most specific section in a view, or NULL when it is empty. */
const char *tr__config_view_first(const tr_config_section_t *v);

/* runtime/reload.c */
/* At create: take opts->config (or load config_path) and apply [runtime] to
 * rt->opts. Returns 0 or the error (logged). */
int tr__config_init(tr_runtime_t *rt);
void tr__config_fini(tr_runtime_t *rt);
/* At spawn, before the actor exists: apply the section of `name` (its
 * path or registered name) to capacity and overflow, run the type's
 * validate_config, give the generation. 0 or TR_EINIT (s->spawn_err says
 * why). */
typedef struct tr__spawn_cfg_s {
    uint32_t cap;      /* in: from the spawn options; out: after the config */
    tr_overflow_t pol; /* same */
    uint32_t gen;      /* out: the generation the actor starts with */
} tr__spawn_cfg_t;
int tr__config_spawn(tr__sched_t *s, const tr_actor_type_t *type, const char *name,
                     tr__spawn_cfg_t *sc);
/* After the loop exists: start the reload signal watcher. */
void tr__config_started(tr_runtime_t *rt);
/* Handle an UpdateConfig from the system lane (inside the actor's turn).
 * Returns 1 if on_config ran. */
int tr__config_update(tr__sched_t *s, tr__actor_t *a, tr__sysmsg_t *m);
/* The section name of an actor (tree path or registered name), or NULL. */
const char *tr__actor_config_name(tr_runtime_t *rt, tr__actor_t *a, char *buf, size_t len);
/* Run type->validate_config (if any) on `view`; on a refusal make sure
 * *err has a reason. 0 or TR_ECONFIG (the caller names the refuser). */
int tr__config_validate(const tr_actor_type_t *type, const tr_config_section_t *view,
                        tr_config_error_t *err);
/* A reload requested by signal or another thread, run at a pass start. */
void tr__config_poll(tr__sched_t *s);

/* runtime/diag.c: the stall detector and the hung-handler watchdog */
int tr__diag_init(tr_runtime_t *rt);  /* 0, TR_ENOMEM or TR_ESYS */
void tr__diag_fini(tr_runtime_t *rt);
/* The thresholds in rt->opts changed (create, reload): start the watchdog
 * thread if it is now wanted. Scheduler thread. */
void tr__diag_apply(tr_runtime_t *rt);
/* A call was opened: make sure a stall check is due. */
void tr__stall_arm(tr__sched_t *s);
/* The stall check's timer fired. */
void tr__stall_check(tr__sched_t *s);
/* Handler heartbeats for the watchdog: a plain load and store each, no
 * locked instruction (the watchdog thread only samples the number; what
 * runs is read on the scheduler thread itself, by the backtrace signal). */
static inline void tr__wd_enter(tr__sched_t *s) {
    atomic_store_explicit(&s->wd_seq, atomic_load_explicit(&s->wd_seq, memory_order_relaxed) + 1,
                          memory_order_release);
}
#define tr__wd_leave tr__wd_enter /* back to even */
/* After a panic unwound a handler: back to even if it was odd. */
static inline void tr__wd_reset(tr__sched_t *s) {
    uint64_t q = atomic_load_explicit(&s->wd_seq, memory_order_relaxed);
    if (q & 1) atomic_store_explicit(&s->wd_seq, q + 1, memory_order_release);
}
uint64_t tr__mono_ns(void);

/* runtime/debug.c: the debug socket */
#define TR__DEBUG_LINE_MAX 65536u /* request lines this long or longer: too_long */
int tr__debug_start(tr_runtime_t *rt); /* 0 or TR_ESYS/TR_ENOMEM (logged) */
void tr__debug_stop(tr_runtime_t *rt);
/* runtime/debug_cmd.c: run one request line; *out is a malloc'd JSON line
 * (no newline), or NULL when the line is empty (nothing to answer). 0 or
 * TR_ENOMEM. *failed: the answer is an error object. */
int tr__debug_exec(tr_runtime_t *rt, const char *line, size_t len, char **out, bool *failed);
typedef struct tr__debug_stats_s {
    uint64_t clients, accepted, refused, evicted, requests, errors;
} tr__debug_stats_t;
void tr__debug_stats(tr_runtime_t *rt, tr__debug_stats_t *out);
/* The hello line a client gets on connect (malloc'd; NULL on OOM). */
char *tr__debug_hello(void);
/* An error response line (malloc'd) for the server's own errors. */
char *tr__debug_error_line(const char *code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* runtime/runtime.c */
/* The live actors (not torn down) of every scheduler, in spawn order or
 * newest first; the caller frees the array. NULL when out of memory (*n is
 * then 0). With the world stopped (or stepping). */
tr__actor_t **tr__live_actors(tr_runtime_t *rt, bool newest_first, size_t *n);
/* The scheduler this thread is running right now (a scheduler thread, the
 * owner thread inside tr_runtime_run, or the owner stepping one), or NULL. */
extern __thread tr__sched_t *tr__tls_cur;
/* tr__tls_cur if it is one of rt's schedulers, else NULL (a foreign
 * thread, the owner outside a pass, or another runtime's scheduler). */
static inline tr__sched_t *tr__current(const tr_runtime_t *rt) {
    tr__sched_t *cur = tr__tls_cur;
    return cur && cur->rt == rt ? cur : NULL;
}
/* May this thread touch s's structures directly? True on s's own thread,
 * and on the owner thread outside any pass while no scheduler thread runs
 * (stepping: every scheduler is the owner thread's). */
bool tr__may_touch(const tr__sched_t *s);
/* The owner thread, stepping (no scheduler threads): it may touch all. */
bool tr__stepping(const tr_runtime_t *rt);
static inline tr__sched_t *tr__sched_of(tr_runtime_t *rt, tr_ref_t ref) {
    return ref.sched < rt->nsched ? &rt->sched[ref.sched] : NULL;
}
void tr__wake(tr__sched_t *s);
/* Push a node onto s's inbox, waking s if the inbox was empty. */
static inline void tr__post(tr__sched_t *s, tr__inode_t *n);
/* Stop the world: park every running scheduler thread other than the
 * caller's at a safe point (between passes, no handler on its stack), so
 * the caller may read and change every scheduler's actors. Scheduler 0's
 * thread (or the stepping owner) only, outside handlers. 0, or
 * TR_ETIMEDOUT when a scheduler did not park within `wait_ms` (a handler
 * running that long): nothing is parked then. No-op when stepping. */
int tr__world_stop(tr_runtime_t *rt, uint32_t wait_ms);
void tr__world_resume(tr_runtime_t *rt);
/* A scheduler's safe point: park here while the world is stopped. */
void tr__safepoint(tr__sched_t *s);
/* TR__IN_TEARDOWN reached `to`'s scheduler. */
void tr__teardown_arrived(tr__sched_t *s, tr__inode_t *n);
uint64_t tr__now_ms(tr__sched_t *s);
void tr__log(tr_runtime_t *rt, tr_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* runtime/events.c */
static inline void tr__ev(tr__sched_t *s, tr_event_kind_t kind, tr_ref_t actor, tr_ref_t peer,
                          int msg_type, int32_t arg) {
    tr_event_t *e = &s->ev[s->ev_n++ & s->ev_mask];
    e->time_ms = s->pass_now_ms;
    e->kind = kind;
    e->msg_type = msg_type;
    e->actor = actor;
    e->peer = peer;
    e->arg = arg;
}
int tr__events_init(tr__sched_t *s, uint32_t n);
/* Copy `a`'s most recent events (as actor or peer) into out, oldest first. */
size_t tr__events_of(tr__sched_t *s, tr_ref_t a, tr_event_t *out, size_t cap);

/* runtime/panic.c */
extern __thread tr__sched_t *tr__tls_sched;
static inline void tr__pframe_push(tr__sched_t *s, tr__pframe_t *f) {
    f->prev = s->pframe;
    f->prev_tls = tr__tls_sched;
    s->pframe = f;
    tr__tls_sched = s;
}
static inline void tr__pframe_pop(tr__sched_t *s, tr__pframe_t *f) {
    s->pframe = f->prev;
    tr__tls_sched = f->prev_tls;
}
/* After a region caught a panic (s->panic filled): run the panic hook for
 * actor `a` with what it was doing. */
void tr__panic_report(tr__sched_t *s, tr__actor_t *a, const char *what);
int tr__faults_install(tr_runtime_t *rt);
/* An alternate signal stack for the calling (scheduler) thread, so a stack
 * overflow in a handler can still be reported; freed by altstack_free. */
int tr__altstack_install(tr__sched_t *s);
void tr__altstack_free(tr__sched_t *s);
/* Return addresses of the context a signal interrupted (ucontext from an
 * SA_SIGINFO handler), innermost first: no allocation, no lock, so it is
 * safe even when the interrupted code holds the malloc lock. */
size_t tr__bt_ips(void *ucontext, uintptr_t *ips, size_t max);
/* Name one address with dladdr ("sym+0xoff (module)", or "module+0xoff"
 * when the symbol is not exported). Any thread, not in signal handlers. */
void tr__bt_name(uintptr_t ip, char *buf, size_t len);
void tr__faults_uninstall(tr_runtime_t *rt);
/* Path of an actor for scenes and logs: its tree path, registered name or
 * type name, written into buf. */
const char *tr__actor_path(tr__sched_t *s, tr__actor_t *a, char *buf, size_t len);

/* runtime/sched.c */
static inline void tr__schedule(tr__sched_t *s, tr__actor_t *a) {
    atomic_store_explicit(&s->runq_len,
                          atomic_load_explicit(&s->runq_len, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    a->flags |= TR__A_IN_RUNQ;
    a->runq_next = NULL;
    if (s->runq_tail) s->runq_tail->runq_next = a;
    else s->runq_head = a;
    s->runq_tail = a;
}
int tr__run_pass(tr__sched_t *s);
void tr__drain_inbox(tr__sched_t *s);
bool tr__has_work(tr__sched_t *s);
void tr__wm_check_high(tr__sched_t *s, tr__actor_t *a, uint32_t depth);
void tr__flush_wm_events(tr__sched_t *s);
void tr__ctx_enter(tr__sched_t *s, tr__actor_t *a, tr_msg_t *msg, tr_ctx_t *saved);
void tr__ctx_leave(tr__sched_t *s, const tr_ctx_t *saved);
void tr__panic_drop_current(tr__sched_t *s);

/* runtime/timer.c */
int tr__heap_push(tr__sched_t *s, tr__tnode_t *n, uint64_t deadline_ms);
void tr__heap_remove(tr__sched_t *s, tr__tnode_t *n);
/* Fire every timer due at or before `now`; returns how many fired. */
int tr__timers_fire(tr__sched_t *s, uint64_t now);
void tr__timers_rearm(tr__sched_t *s);
uint64_t tr__timers_next(tr__sched_t *s); /* UINT64_MAX when none */
void tr__actor_timers_cancel(tr__sched_t *s, tr__actor_t *a);

/* runtime/io.c */
void tr__fd_rearm(tr__sched_t *s, tr__actor_t *a, int fd);
void tr__actor_fds_cancel(tr__sched_t *s, tr__actor_t *a);

/* actors/slots.c */
int tr__slot_alloc(tr_runtime_t *rt, uint32_t *idx);
void tr__slot_release(tr_runtime_t *rt, uint32_t idx);

/* The slot for `idx`, or NULL if no such chunk. Any thread. */
static inline tr__slot_t *tr__slot_get(tr_runtime_t *rt, uint32_t idx) {
    uint32_t chunk = idx / TR__SLOT_CHUNK;
    if (TR__UNLIKELY(chunk >= TR__SLOT_CHUNKS)) return NULL;
    tr__slot_t *c = atomic_load_explicit(&rt->slot_chunks[chunk], memory_order_acquire);
    return TR__LIKELY(c != NULL) ? &c[idx % TR__SLOT_CHUNK] : NULL;
}

static inline uint32_t tr__slot_cap(tr__slot_t *sl) {
    return TR__CFG_CAP(atomic_load_explicit(&sl->cfg, memory_order_relaxed));
}

/* User messages queued or reserved. Any thread (an upper bound off it). */
static inline uint32_t tr__slot_depth(tr__slot_t *sl) {
    uint32_t deq = atomic_load_explicit(&sl->deq, memory_order_acquire); /* first: see reserve */
    return TR__WORD_ENQ(atomic_load_explicit(&sl->word, memory_order_acquire)) - deq;
}

/* Release `n` places. Scheduler thread only (single writer). */
static inline void tr__slot_release_places(tr__slot_t *sl, uint32_t n) {
    atomic_store_explicit(&sl->deq, atomic_load_explicit(&sl->deq, memory_order_relaxed) + n,
                          memory_order_release);
}

/* The live actor a ref names on any scheduler, or NULL. Only with the
 * world stopped or stepping (tr__world_stop), or for refs of the calling
 * scheduler (use tr__actor_get). */
static inline tr__actor_t *tr__actor_get_any(tr_runtime_t *rt, tr_ref_t ref) {
    if (TR__UNLIKELY(ref.gen == 0 || ref.sched >= rt->nsched)) return NULL;
    tr__slot_t *sl = tr__slot_get(rt, ref.slot);
    if (TR__UNLIKELY(!sl)) return NULL;
    uint64_t w = atomic_load_explicit(&sl->word, memory_order_relaxed);
    if (TR__UNLIKELY(TR__WORD_GEN(w) != ref.gen)) return NULL;
    return sl->u.actor;
}

/* The live actor a ref names if it lives on s, else NULL (an actor of
 * another scheduler is reached through that scheduler's inbox only).
 * s's thread. */
static inline tr__actor_t *tr__actor_get(tr__sched_t *s, tr_ref_t ref) {
    if (TR__UNLIKELY(ref.sched != s->id)) return NULL;
    return tr__actor_get_any(s->rt, ref);
}

static inline void tr__post(tr__sched_t *s, tr__inode_t *n) {
    if (tr__inbox_push(&s->inbox, n)) tr__wake(s);
}

/* Validate a send against the target's table; 0, TR_ENOHANDLER, TR_EINVAL.
 * *out is the table entry (NULL when the default handler takes it). */
static inline int tr__check_type(const tr__typeinfo_t *ti, int type, size_t len,
                                 const void *data, const tr_handler_t **out) {
    if (TR__UNLIKELY(type <= 0 || len > UINT32_MAX || (len && !data))) return TR_EINVAL;
    const tr_handler_t *h = tr__ti_lookup(ti, type);
    *out = h;
    if (TR__UNLIKELY(!h)) return ti->type->default_handler ? 0 : TR_ENOHANDLER;
    if (TR__UNLIKELY(h->size != TR_SIZE_ANY && h->size != len)) return TR_EINVAL;
    return 0;
}

/* actors/typeinfo.c */
int tr__typeinfo_get(tr_runtime_t *rt, const tr_actor_type_t *type, tr__typeinfo_t **out);
void tr__typeinfo_free_all(tr_runtime_t *rt);

/* actors/actor.c */
/* Who spawns: supervisors pass the parent, the child's path and incarnation
 * so they are in place before init runs. */
typedef struct tr__spawn_ex_s {
    tr_ref_t parent;
    const char *path;
    uint32_t incarnation;
} tr__spawn_ex_t;
int tr__spawn(tr_runtime_t *rt, const tr_actor_type_t *type, const tr_spawn_opts_t *opts,
              const tr__spawn_ex_t *ex, tr_ref_t *out);
/* Stop `a` now, outside its handlers: see the order in actor.c. `detail`
 * (may be NULL) explains the reason to the supervisor, monitors and reply
 * channels; it is copied. */
void tr__actor_teardown(tr__sched_t *s, tr__actor_t *a, tr_stop_reason_t reason);
void tr__actor_teardown_ex(tr__sched_t *s, tr__actor_t *a, tr_stop_reason_t reason,
                           const char *detail);
/* Teardown after a panic caught by run_turns (s->panic holds it): also
 * finishes the interrupted work item (tr__panic_drop_current). */
void tr__actor_teardown_panic(tr__sched_t *s, tr__actor_t *a);
/* Queue a control message (kind TR__SYS_EXIT/TR__SYS_DOWN) on a's system lane;
 * `detail` is copied. */
void tr__actor_sys_notify(tr__sched_t *s, tr__actor_t *a, int kind, tr_ref_t from,
                          int64_t id, tr_stop_reason_t reason, const char *detail);
void tr__sysmsg_free(tr__sysmsg_t *m);
/* Stop a whole actor at once (brutal kill): no terminate. */
void tr__actor_kill(tr__sched_t *s, tr__actor_t *a, const char *detail);
/* Ask to stop with a reason (system lane). */
void tr__actor_request_stop(tr__sched_t *s, tr__actor_t *a, tr_stop_reason_t reason);
void tr__actor_free(tr__sched_t *s, tr__actor_t *a);
void tr__actor_sys_push(tr__sched_t *s, tr__actor_t *a, int kind, uint32_t arg);
/* Append a prepared control message to a's system lane and schedule it. */
void tr__actor_sys_append(tr__sched_t *s, tr__actor_t *a, tr__sysmsg_t *m);
tr__extra_t *tr__actor_extra(tr__actor_t *a);
void tr__actor_set_capacity(tr__sched_t *s, tr__actor_t *a, uint32_t cap);
/* By ref, on any scheduler, from scheduler s's thread: directly when the
 * actor is s's, else through its scheduler's inbox. A dead target is a
 * no-op (the control message is freed). */
void tr__sys_send(tr__sched_t *s, tr_ref_t to, tr__sysmsg_t *m);
void tr__sys_notify_ref(tr__sched_t *s, tr_ref_t to, int kind, tr_ref_t from, int64_t id,
                        tr_stop_reason_t reason, const char *detail);
void tr__stop_ref(tr__sched_t *s, tr_ref_t to, tr_stop_reason_t reason);
void tr__kill_ref(tr__sched_t *s, tr_ref_t to, const char *detail);
/* Run the init of an actor another scheduler created (TR__IN_SPAWN). */
void tr__spawn_remote_init(tr__sched_t *s, tr__inode_t *n);
/* The scheduler a spawn with `opts` lands on (0..n-1), or -1 (TR_EINVAL). */
int tr__place(tr_runtime_t *rt, const tr_spawn_opts_t *opts);

/* actors/registry.c */
void tr__registry_drop_slot(tr_runtime_t *rt, tr_ref_t ref);
void tr__registry_free(tr_runtime_t *rt);
const char *tr__registry_name(tr_runtime_t *rt, tr_ref_t ref, char *buf, size_t len);

/* actors/own.c */
void tr__owned_release_all(tr__sched_t *s, tr__actor_t *a);

/* supervisor/monitor.c */
/* `a` stopped: DOWN to its watchers; its own monitors are removed. */
void tr__monitors_on_stop(tr__sched_t *s, tr__actor_t *a, tr_stop_reason_t reason,
                          const char *detail);
/* Inbox: a watcher on another scheduler monitors / stops monitoring n->to. */
void tr__monitor_remote_add(tr__sched_t *s, tr__inode_t *n);
void tr__monitor_remote_del(tr__sched_t *s, tr__inode_t *n);
/* A DOWN from another scheduler reached watcher `a`: false when the
 * monitor was dropped meanwhile (the DOWN is then discarded, as OTP's
 * demonitor promises). */
bool tr__monitor_down_arrived(tr__actor_t *a, int64_t id);

/* supervisor/supervisor.c */
typedef struct tr__sup_info_s {
    tr_strategy_t strategy;
    uint32_t intensity, period_ms;
    uint32_t recent; /* restarts inside the current period */
} tr__sup_info_t;
/* What the debug socket shows of supervisor `a` (zeroes if it is none). */
void tr__sup_info(tr__sched_t *s, const tr__actor_t *a, tr__sup_info_t *out);
/* A supervisor is being torn down: kill what is left of its children
 * (reverse start order) and free its state. */
void tr__sup_teardown(tr__sched_t *s, tr__actor_t *a, tr_stop_reason_t reason,
                      const char *detail);
/* Config: check a supervisor's keys in `sec` against its spec (0 or
 * TR_ECONFIG), and apply them (restart intensity, backoff). */
int tr__sup_check_config(const tr__actor_t *a, const tr_config_section_t *sec,
                         tr_config_error_t *err);
void tr__sup_apply_config(tr__sched_t *s, tr__actor_t *a, const tr_config_section_t *sec);
/* Config: run validate_config for each child of supervisor `a` that is not
 * running (its new section in cfg). 0 or TR_ECONFIG (err filled). */
int tr__sup_validate_idle(tr__sched_t *s, tr__actor_t *a, const tr_config_t *cfg,
                          tr_config_error_t *err);

/* mailbox/send.c */
/* Deliver env to a live local actor, applying capacity and overflow policy.
 * Takes ownership of env's payload on every path. `reserved`: a foreign
 * sender already reserved the place. Returns 0 (queued, or dropped and
 * counted under a drop policy) or a send error. */
int tr__deliver_local(tr__sched_t *s, tr__actor_t *a, tr__env_t *env,
                      const tr_handler_t *h, bool reserved);
/* Count a one-way message that was accepted and then discarded. */
void tr__dead_letter(tr__sched_t *s, tr__env_t *env);
/* Discard a queued env (call -> DropWithoutReport with `reason`; `detail`
 * is copied when `copy` is set, else it must be static). */
void tr__discard_env(tr__sched_t *s, tr__env_t *env, tr_drop_reason_t reason,
                     const char *detail, bool copy);
void tr__inbox_dispatch(tr__sched_t *s, tr__inode_t *n);

/* mailbox/chan.c */
/* The scheduler whose table holds the channel of a call from `sender`:
 * the caller's for actors, the callee's own for tr_call_sync. */
static inline uint16_t tr__chan_home(const tr__sched_t *s, tr_ref_t sender) {
    return sender.gen ? sender.sched : s->id;
}
/* Give channel (home, idx, gen) its outcome, from scheduler s (the
 * responder's): resolved here when home is s, else sent home through its
 * inbox (data and detail copied). A channel no longer pending counts as a
 * late reply. `copy_detail`: the detail is the application's and is
 * copied, else it must be static. Returns 0 or TR_ENOMEM (the outcome is
 * then an out-of-memory drop, or lost when even that cannot be sent). */
int tr__chan_answer(tr__sched_t *s, uint16_t home, uint32_t idx, uint32_t gen, int status,
                    int error, tr_drop_reason_t why, const char *detail, bool copy_detail,
                    const void *data, size_t len);
/* Inbox: an outcome for a channel homed on s (TR__IN_REPLY). */
void tr__chan_reply_arrived(tr__sched_t *s, tr__inode_t *n);
tr__chan_t *tr__chan_new(tr__sched_t *s);
tr__chan_t *tr__chan_lookup(tr__sched_t *s, uint32_t idx, uint32_t gen);
/* The channel at table index idx (any state), NULL past the table: lets
 * diagnostics visit every channel. */
tr__chan_t *tr__chan_at_index(tr__sched_t *s, uint32_t idx);
void tr__chan_free_all(tr__sched_t *s);
/* Resolve a pending channel with an outcome (exactly once); moves it to the
 * caller's reply queue, or wakes the sync waiter. */
void tr__chan_resolve(tr__sched_t *s, tr__chan_t *c, int status, int error,
                      tr_drop_reason_t why, const char *detail, const void *data,
                      size_t len);
void tr__chan_run_cont(tr__sched_t *s, tr__actor_t *a, tr__chan_t *c);
/* Count a new channel and record who waits for whom; an actor caller keeps
 * it in its pending list so its death can cancel it. */
void tr__chan_open(tr__sched_t *s, tr__chan_t *c, tr__actor_t *caller, tr__sync_t *sync,
                   tr_ref_t to, int type, tr_cont_fn cont, void *cookie);
/* Tell a tr_call_sync waiter that its call failed with `status` (through a
 * counted channel; without one if even that cannot be allocated). */
void tr__sync_fail(tr__sched_t *s, tr__sync_t *w, tr_ref_t to, int type, int status,
                   const char *detail);
void tr__chan_release(tr__sched_t *s, tr__chan_t *c);
/* Caller died: cancel its pending calls and queued continuations. */
void tr__chan_cancel_actor(tr__sched_t *s, tr__actor_t *a);
void tr__chan_timeout(tr__sched_t *s, tr__chan_t *c);
void tr__kept_drop_all(tr__sched_t *s, tr__actor_t *a, tr_drop_reason_t why,
                       const char *detail);
/* Resolve DropWithoutReport with a copied detail. */
void tr__chan_drop(tr__sched_t *s, tr__chan_t *c, tr_drop_reason_t why, const char *detail);
/* After a handler for a call returned: resolve DropWithoutReport if it
 * neither replied nor kept the channel. */
void tr__chan_after_handler(tr__sched_t *s, tr_msg_t *msg);
int tr__call_start(tr__sched_t *s, tr__actor_t *caller, tr__sync_t *sync, tr_ref_t to,
                   tr__env_t *env, tr_cont_fn cont, void *cookie, uint32_t timeout_ms);

#endif /* TROUPE_RUNTIME_INTERNAL_H */
