/* runtime/waits.h: the wait-for graph (runtime/waits.c), for the debug
 * socket's `waits`. With the world stopped (tr__world_stop) or stepping:
 * it reads every scheduler's channels and actors. */
#ifndef TROUPE_RUNTIME_WAITS_H
#define TROUPE_RUNTIME_WAITS_H

#include "runtime/internal.h"

typedef struct tr__wnode_s {
    tr_ref_t ref; /* TR_REF_NONE: a tr_call_sync thread */
    uint64_t key; /* slot << 32 | gen (slots are global, so this names one
                     actor of any scheduler); a thread: its edge index (gen 0) */
    uint32_t out0, nout; /* out-edges: out[out0 .. out0 + nout) */
    uint32_t in0, nin;   /* in-edges:  in[in0 .. in0 + nin) */
} tr__wnode_t;

typedef struct tr__wedge_s {
    uint32_t from, to; /* node indexes: caller waits for callee */
    int msg_type;
    uint64_t age_ms, timeout_ms; /* timeout 0: none */
    bool kept;                   /* the callee holds the reply channel */
} tr__wedge_t;

typedef struct tr__wpath_s {
    uint32_t *ix; /* node indexes */
    size_t n;
} tr__wpath_t;

typedef struct tr__wstall_s {
    uint32_t end;      /* the actor that owes an answer and has nothing to do */
    tr__wpath_t chain; /* one path to it, first waiter first, end last */
    uint64_t age_ms;   /* oldest call into `end` */
    size_t blocked;    /* nodes that wait on `end`, directly or not */
} tr__wstall_t;

typedef struct tr__waits_s {
    tr__wnode_t *nodes;
    size_t nnodes;
    tr__wedge_t *edges;
    size_t nedges;
    uint32_t *out, *in; /* edge indexes grouped by node */
    tr__wpath_t *cycles; /* strongly connected groups of waiting actors */
    size_t ncycles;
    tr__wstall_t *stalls;
    size_t nstalls;
} tr__waits_t;

/* Build the graph from every pending reply channel of every scheduler
 * (edges caller -> callee; `kept` when the callee holds the channel).
 * World stopped or stepping. 0 or TR_ENOMEM (then nothing is held). */
int tr__waits_build(tr_runtime_t *rt, tr__waits_t *g);
void tr__waits_free(tr__waits_t *g);

#endif /* TROUPE_RUNTIME_WAITS_H */
