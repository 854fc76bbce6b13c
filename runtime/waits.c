/* runtime/waits.c: the wait-for graph. Every pending call is an edge
 * caller -> callee (a tr_call_sync thread is a node of its own). Cycles are
 * the strongly connected groups (Tarjan's algorithm, iterative so a long
 * chain cannot overflow the stack): each member waits, through calls, for
 * itself, so without a timeout none will ever answer. A stall is a chain
 * that ends at an actor that owes an answer but has nothing to do: empty
 * mailbox and system lane, no queued continuation, no pending call of its
 * own, no timer, no watched fd. Nothing can wake it, so nothing will
 * answer: the "vegetative state" with no CPU and no blocked thread.
 * Calls cross schedulers: a call's channel lives in its caller's
 * scheduler's table (a tr_call_sync's in its callee's), so the graph is
 * built from every table at once, with the world stopped
 * (tr__world_stop) or stepping, from scheduler 0's thread outside
 * handlers. */
#include <stdlib.h>
#include <string.h>

#include "runtime/waits.h"

static int cmp_u64(const void *x, const void *y) {
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

static uint64_t key_of(tr_ref_t r) { return ((uint64_t)r.slot << 32) | r.gen; }

static uint32_t node_of(const tr__waits_t *g, uint64_t key) {
    size_t lo = 0, hi = g->nnodes;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g->nodes[mid].key < key) lo = mid + 1;
        else hi = mid;
    }
    return (uint32_t)lo;
}

void tr__waits_free(tr__waits_t *g) {
    for (size_t i = 0; i < g->ncycles; i++) free(g->cycles[i].ix);
    for (size_t i = 0; i < g->nstalls; i++) free(g->stalls[i].chain.ix);
    free(g->cycles);
    free(g->stalls);
    free(g->nodes);
    free(g->edges);
    free(g->out);
    free(g->in);
    memset(g, 0, sizeof(*g));
}

/* Channel table sizes, whole chunks (tr__chan_at_index is NULL past the
 * table): off[h] is where scheduler h's indexes start in one array over
 * every table. Returns the total. */
static size_t table_sizes(tr_runtime_t *rt, size_t *off) {
    size_t total = 0;
    for (uint16_t h = 0; h < rt->nsched; h++) {
        size_t cap = 0;
        while (tr__chan_at_index(&rt->sched[h], (uint32_t)cap)) cap += 1024;
        off[h] = total;
        total += cap;
    }
    off[rt->nsched] = total;
    return total;
}

/* The generation of every kept reply channel, at its home's offset: a
 * kept channel lives in its caller's scheduler's table, not in the table
 * of the actor that holds it. */
static uint32_t *kept_gens(tr_runtime_t *rt, const size_t *off, size_t total) {
    uint32_t *kept = calloc(total ? total : 1, sizeof(*kept));
    if (!kept) return NULL;
    size_t na = 0;
    tr__actor_t **v = tr__live_actors(rt, false, &na);
    if (!v) { /* out of memory: without them every edge would look queued */
        free(kept);
        return NULL;
    }
    for (size_t i = 0; i < na; i++)
        for (struct tr_reply_s *r = v[i]->x ? v[i]->x->kept : NULL; r; r = r->next)
            if (r->home < rt->nsched && off[r->home] + r->chan_idx < off[r->home + 1])
                kept[off[r->home] + r->chan_idx] = r->chan_gen;
    free(v);
    return kept;
}

/* Edges from every scheduler's channel table; nodes keyed, sorted and
 * deduplicated. *ckeys and *crefs: caller and callee per edge. */
static int collect(tr_runtime_t *rt, tr__waits_t *g, uint64_t **ckeys, tr_ref_t **crefs) {
    size_t off[TR_SCHEDULERS_MAX + 1], n = 0;
    size_t total = table_sizes(rt, off);
    uint32_t *kept = kept_gens(rt, off, total);
    if (!kept) return TR_ENOMEM;
    for (uint16_t h = 0; h < rt->nsched; h++)
        for (size_t i = 0; off[h] + i < off[h + 1]; i++)
            if (tr__chan_at_index(&rt->sched[h], (uint32_t)i)->state == TR__CH_PENDING) n++;
    g->edges = calloc(n ? n : 1, sizeof(*g->edges));
    uint64_t *keys = calloc(2 * n + 1, sizeof(*keys));
    uint64_t *ek = calloc(2 * n + 1, sizeof(*ek)); /* caller, callee key per edge */
    tr_ref_t *er = calloc(2 * n + 1, sizeof(*er));
    if (!g->edges || !keys || !ek || !er) {
        free(kept);
        free(keys);
        free(ek);
        free(er);
        return TR_ENOMEM;
    }
    uint64_t now = tr__now_ms(&rt->sched[0]); /* one clock for all */
    size_t e = 0;
    for (uint16_t h = 0; h < rt->nsched; h++) {
        for (size_t i = 0; off[h] + i < off[h + 1] && e < n; i++) {
            tr__chan_t *c = tr__chan_at_index(&rt->sched[h], (uint32_t)i);
            if (c->state != TR__CH_PENDING) continue;
            tr__wedge_t *w = &g->edges[e];
            w->msg_type = c->msg_type;
            w->age_ms = now > c->created_ms ? now - c->created_ms : 0;
            if (c->timer.heap_idx != UINT32_MAX)
                w->timeout_ms = c->timer.deadline_ms - c->created_ms;
            w->kept = kept[off[h] + i] == c->gen;
            ek[2 * e] = tr_ref_valid(c->caller) ? key_of(c->caller) : (uint64_t)e << 32;
            ek[2 * e + 1] = key_of(c->callee);
            er[2 * e] = c->caller;
            er[2 * e + 1] = c->callee;
            keys[2 * e] = ek[2 * e];
            keys[2 * e + 1] = ek[2 * e + 1];
            e++;
        }
    }
    free(kept);
    g->nedges = e;
    qsort(keys, 2 * e, sizeof(*keys), cmp_u64);
    size_t u = 0;
    for (size_t i = 0; i < 2 * e; i++)
        if (u == 0 || keys[u - 1] != keys[i]) keys[u++] = keys[i];
    g->nodes = calloc(u ? u : 1, sizeof(*g->nodes));
    if (!g->nodes) {
        free(keys);
        free(ek);
        free(er);
        return TR_ENOMEM;
    }
    g->nnodes = u;
    for (size_t i = 0; i < u; i++) {
        g->nodes[i].key = keys[i];
        g->nodes[i].ref = TR_REF_NONE; /* an actor's ref comes with its edges */
    }
    free(keys);
    *ckeys = ek;
    *crefs = er;
    return 0;
}

static int adjacency(tr__waits_t *g, const uint64_t *ek, const tr_ref_t *er) {
    g->out = calloc(g->nedges + 1, sizeof(*g->out));
    g->in = calloc(g->nedges + 1, sizeof(*g->in));
    if (!g->out || !g->in) return TR_ENOMEM;
    for (size_t e = 0; e < g->nedges; e++) {
        g->edges[e].from = node_of(g, ek[2 * e]);
        g->edges[e].to = node_of(g, ek[2 * e + 1]);
        g->nodes[g->edges[e].from].ref = er[2 * e]; /* TR_REF_NONE for a thread */
        g->nodes[g->edges[e].to].ref = er[2 * e + 1];
        g->nodes[g->edges[e].from].nout++;
        g->nodes[g->edges[e].to].nin++;
    }
    uint32_t o = 0, i = 0;
    for (size_t k = 0; k < g->nnodes; k++) {
        g->nodes[k].out0 = o;
        g->nodes[k].in0 = i;
        o += g->nodes[k].nout;
        i += g->nodes[k].nin;
        g->nodes[k].nout = g->nodes[k].nin = 0;
    }
    for (size_t e = 0; e < g->nedges; e++) {
        tr__wnode_t *f = &g->nodes[g->edges[e].from], *t = &g->nodes[g->edges[e].to];
        g->out[f->out0 + f->nout++] = (uint32_t)e;
        g->in[t->in0 + t->nin++] = (uint32_t)e;
    }
    return 0;
}

static bool push_path(tr__wpath_t **arr, size_t *n, uint32_t *ix, size_t len) {
    tr__wpath_t *na = realloc(*arr, (*n + 1) * sizeof(**arr));
    if (!na) return false;
    *arr = na;
    (*arr)[*n].ix = ix;
    (*arr)[*n].n = len;
    (*n)++;
    return true;
}

/* Tarjan's strongly connected components, iteratively. */
static int cycles(tr__waits_t *g) {
    size_t n = g->nnodes;
    if (!n) return 0;
    uint32_t *index = malloc(n * sizeof(*index)), *low = malloc(n * sizeof(*low));
    uint32_t *stack = malloc(n * sizeof(*stack)), *cs = malloc(n * sizeof(*cs));
    uint32_t *cpos = malloc(n * sizeof(*cpos));
    bool *on = calloc(n, sizeof(*on));
    int rc = 0;
    if (!index || !low || !stack || !cs || !cpos || !on) {
        rc = TR_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) index[i] = UINT32_MAX;
    uint32_t next = 0;
    size_t sp = 0;
    for (uint32_t root = 0; root < n && !rc; root++) {
        if (index[root] != UINT32_MAX) continue;
        size_t csp = 0; /* call stack of (node, next out-edge position) */
        cs[csp] = root;
        cpos[csp++] = 0;
        index[root] = low[root] = next++;
        stack[sp++] = root;
        on[root] = true;
        while (csp) {
            uint32_t v = cs[csp - 1];
            tr__wnode_t *nv = &g->nodes[v];
            if (cpos[csp - 1] < nv->nout) {
                uint32_t w = g->edges[g->out[nv->out0 + cpos[csp - 1]++]].to;
                if (index[w] == UINT32_MAX) {
                    index[w] = low[w] = next++;
                    stack[sp++] = w;
                    on[w] = true;
                    cs[csp] = w;
                    cpos[csp++] = 0;
                } else if (on[w] && index[w] < low[v]) {
                    low[v] = index[w];
                }
                continue;
            }
            csp--;
            if (csp && low[v] < low[cs[csp - 1]]) low[cs[csp - 1]] = low[v];
            if (low[v] != index[v]) continue;
            size_t k = sp;
            do k--;
            while (stack[k] != v);
            size_t len = sp - k;
            bool self = false;
            for (uint32_t j = 0; len == 1 && j < nv->nout; j++)
                self = self || g->edges[g->out[nv->out0 + j]].to == v;
            if (len > 1 || self) {
                uint32_t *ix = malloc(len * sizeof(*ix));
                if (!ix) {
                    rc = TR_ENOMEM;
                    break;
                }
                memcpy(ix, &stack[k], len * sizeof(*ix)); /* discovery order */
                if (!push_path(&g->cycles, &g->ncycles, ix, len)) {
                    free(ix);
                    rc = TR_ENOMEM;
                    break;
                }
            }
            for (size_t j = k; j < sp; j++) on[stack[j]] = false;
            sp = k;
        }
    }
out:
    free(index);
    free(low);
    free(stack);
    free(cs);
    free(cpos);
    free(on);
    return rc;
}

/* Does actor node `k` have nothing that could make it answer? */
static bool idle_end(tr_runtime_t *rt, const tr__waits_t *g, uint32_t k) {
    const tr__wnode_t *nd = &g->nodes[k];
    if (!nd->nin || nd->nout || !tr_ref_valid(nd->ref)) return false;
    tr__actor_t *a = tr__actor_get_any(rt, nd->ref);
    if (!a || (a->flags & (TR__A_DEAD | TR__A_IN_RUNQ | TR__A_RUNNING))) return false;
    /* the slot's depth also counts messages other schedulers and threads
     * reserved a place for and that are still in its scheduler's inbox */
    if (a->ring.count || tr__slot_depth(a->slot) || a->sys || a->rq_head || a->calls)
        return false;
    return !(a->x && (a->x->timers || a->x->fds));
}

static int stalls(tr_runtime_t *rt, tr__waits_t *g) {
    size_t n = g->nnodes;
    uint32_t *seen = calloc(n ? n : 1, sizeof(*seen)); /* stamp per end */
    uint32_t *queue = malloc((n ? n : 1) * sizeof(*queue));
    if (!seen || !queue) {
        free(seen);
        free(queue);
        return TR_ENOMEM;
    }
    int rc = 0;
    for (uint32_t k = 0; k < n && !rc; k++) {
        if (!idle_end(rt, g, k)) continue;
        uint32_t stamp = k + 1;
        /* everyone who waits on k: reverse breadth-first search */
        size_t qh = 0, qt = 0;
        queue[qt++] = k;
        seen[k] = stamp;
        while (qh < qt) {
            const tr__wnode_t *nd = &g->nodes[queue[qh++]];
            for (uint32_t j = 0; j < nd->nin; j++) {
                uint32_t f = g->edges[g->in[nd->in0 + j]].from;
                if (seen[f] != stamp) {
                    seen[f] = stamp;
                    queue[qt++] = f;
                }
            }
        }
        /* one chain back from k along the oldest waits */
        uint32_t *ix = malloc(qt * sizeof(*ix));
        if (!ix) {
            rc = TR_ENOMEM;
            break;
        }
        size_t len = 0;
        uint64_t age = 0;
        uint32_t cur = k;
        uint32_t vis = stamp + (uint32_t)n; /* a second stamp for the walk */
        for (;;) {
            ix[len++] = cur;
            seen[cur] = vis;
            const tr__wnode_t *nd = &g->nodes[cur];
            const tr__wedge_t *best = NULL;
            for (uint32_t j = 0; j < nd->nin; j++) {
                const tr__wedge_t *e = &g->edges[g->in[nd->in0 + j]];
                if (seen[e->from] != vis && (!best || e->age_ms > best->age_ms)) best = e;
            }
            if (cur == k && best) age = best->age_ms;
            if (!best || len == qt) break;
            cur = best->from;
        }
        for (size_t a = 0, b = len - 1; a < b; a++, b--) {
            uint32_t t = ix[a];
            ix[a] = ix[b];
            ix[b] = t;
        }
        tr__wstall_t *ns = realloc(g->stalls, (g->nstalls + 1) * sizeof(*ns));
        if (!ns) {
            free(ix);
            rc = TR_ENOMEM;
            break;
        }
        g->stalls = ns;
        ns[g->nstalls++] = (tr__wstall_t){k, {ix, len}, age, qt - 1};
    }
    free(seen);
    free(queue);
    return rc;
}

int tr__waits_build(tr_runtime_t *rt, tr__waits_t *g) {
    memset(g, 0, sizeof(*g));
    uint64_t *ek = NULL;
    tr_ref_t *er = NULL;
    int rc = collect(rt, g, &ek, &er);
    if (!rc) rc = adjacency(g, ek, er);
    free(ek);
    free(er);
    if (!rc) rc = cycles(g);
    if (!rc) rc = stalls(rt, g);
    if (rc) tr__waits_free(g);
    return rc;
}
