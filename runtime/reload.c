/* runtime/reload.c: a runtime's configuration: the initial snapshot, the
 * [runtime] keys, transactional reloads and UpdateConfig.
 *
 * A reload is parse -> check -> validate -> commit. Everything that can
 * fail (parsing, the runtime's own checks, every validate_config, the
 * allocation of every UpdateConfig message) happens before the commit; the
 * commit itself cannot fail, so a reload is applied whole or not at all.
 * The commit swaps the snapshot and queues UpdateConfig on the system lane
 * of the actors concerned in one synchronous step on the scheduler thread:
 * an actor alive at that moment gets the message, and an actor started
 * after it (a child restarting, a backoff ending) reads the new snapshot at
 * spawn. No actor can fall between the two (elfo#68's hole).
 * Scheduler thread, except tr_runtime_config, tr_runtime_config_status and
 * tr_runtime_request_reload (cfg_mu / atomics). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

static const char *const log_names[] = {"error", "warning", "notice", "info", "debug", NULL};
static const char *const fault_names[] = {"report", "isolate", "off", NULL};
static const char *const overflow_names[] = {"fail", "drop_newest", "drop_oldest", NULL};
static const char *const runtime_keys[] = {
    "log_level",       "mailbox_capacity",   "batch",          "pass_budget",
    "fault_isolation", "event_ring",         "debug_socket",   "schedulers",
    "stall_threshold", "watchdog_threshold", "handler_timing", "debug_max_clients",
    "debug_idle_timeout", "spin_us", NULL};

/* The [runtime] values in effect. */
typedef struct rt_eff_s {
    int log_level;
    int64_t cap, batch, budget, event_ring, schedulers, spin_us; /* schedulers: -1 absent */
    int fault;
    const char *debug_socket;
    int64_t dbg_clients;
    uint64_t stall_ms, watchdog_ms, dbg_idle_ms; /* 0: off (thresholds) */
    int timing;
} rt_eff_t;

/* A threshold option (0: default already applied, < 0: off) as a config
 * default (0: off). */
static uint64_t threshold_default(int32_t opt) { return opt < 0 ? 0 : (uint64_t)opt; }

static int read_runtime(const tr_config_t *cfg, const tr_runtime_opts_t *base, rt_eff_t *e,
                        tr_config_error_t *err) {
    tr_config_section_t v;
    tr_config_section(cfg, "runtime", &v);
    int r, lvl;
    if ((r = tr__config_check_keys(&v, runtime_keys, err)) ||
        (r = tr_config_enum(&v, "log_level", log_names, (int)base->log_level - TR_LOG_ERROR, &lvl,
                            err)) ||
        (r = tr_config_int(&v, "mailbox_capacity", base->mailbox_capacity, 1, TR_MAILBOX_MAX,
                           &e->cap, err)) ||
        (r = tr_config_int(&v, "batch", base->batch, 1, 1 << 20, &e->batch, err)) ||
        (r = tr_config_int(&v, "pass_budget", base->pass_budget, 1, 1 << 20, &e->budget, err)) ||
        (r = tr_config_enum(&v, "fault_isolation", fault_names, (int)base->fault_isolation,
                            &e->fault, err)) ||
        (r = tr_config_int(&v, "event_ring", base->event_ring ? base->event_ring : 1024, 16,
                           1 << 20, &e->event_ring, err)) ||
        (r = tr_config_str(&v, "debug_socket", NULL, &e->debug_socket, err)) ||
        (r = tr_config_int(&v, "schedulers", -1, 0, TR_SCHEDULERS_MAX, &e->schedulers, err)) ||
        (r = tr_config_int(&v, "spin_us", base->spin_us, 0, 10000, &e->spin_us, err)) ||
        (r = tr_config_duration(&v, "stall_threshold", threshold_default(base->stall_ms), 0,
                                INT32_MAX, &e->stall_ms, err)) ||
        (r = tr_config_duration(&v, "watchdog_threshold", threshold_default(base->watchdog_ms),
                                0, INT32_MAX, &e->watchdog_ms, err)) ||
        (r = tr_config_bool(&v, "handler_timing", base->handler_timing != 0, &e->timing, err)) ||
        (r = tr_config_int(&v, "debug_max_clients", base->debug_max_clients, 1, 1024,
                           &e->dbg_clients, err)) ||
        (r = tr_config_duration(&v, "debug_idle_timeout", base->debug_idle_ms, 100, INT32_MAX,
                                &e->dbg_idle_ms, err)))
        goto fail;
    e->log_level = lvl + TR_LOG_ERROR;
    if (e->debug_socket && strcmp(e->debug_socket, "off") != 0 &&
        strcmp(e->debug_socket, TR_DEBUG_SOCKET_DEFAULT) != 0 &&
        (e->debug_socket[0] != '/' || strlen(e->debug_socket) > TR_DEBUG_PATH_MAX)) {
        r = tr_config_refuse(err, &v, "debug_socket",
                             "must be `default`, `off` or an absolute path of at most 107 bytes");
        goto fail;
    }
    return 0;
fail:
    return r;
}

/* The runtime's keys in an actor's (or any) section: well-formed and in
 * range. Supervisor keys are checked in every section; where no supervisor
 * reads them they are ignored. */
static int check_actor_keys(const tr_config_section_t *v, tr_config_error_t *err) {
    int64_t i;
    int e;
    uint64_t d;
    double f;
    int r;
    if ((r = tr_config_int(v, "mailbox_capacity", 1, 1, TR_MAILBOX_MAX, &i, err)) ||
        (r = tr_config_enum(v, "overflow", overflow_names, 0, &e, err)) ||
        (r = tr_config_int(v, "intensity", 0, 0, 65535, &i, err)) ||
        (r = tr_config_duration(v, "period", 1, 1, UINT32_MAX, &d, err)) ||
        (r = tr_config_duration(v, "backoff_min", 0, 0, UINT32_MAX, &d, err)) ||
        (r = tr_config_duration(v, "backoff_max", 0, 0, UINT32_MAX, &d, err)) ||
        (r = tr_config_double(v, "backoff_factor", 2.0, 1.0, 1e6, &f, err)))
        return r;
    return 0;
}

/* Step 2: the runtime's own keys, in [runtime] and in every section. */
static int check_config(tr_runtime_t *rt, const tr_config_t *cfg, rt_eff_t *eff,
                        tr_config_error_t *err) {
    int r = read_runtime(cfg, &rt->base_opts, eff, err);
    if (r) return r;
    size_t n = tr__config_nsections(cfg);
    for (size_t i = 0; i < n; i++) {
        tr_config_section_t v;
        tr__config_section_at(cfg, i, &v);
        if (strcmp(v.name, "runtime") == 0) continue;
        if ((r = check_actor_keys(&v, err))) return r;
    }
    return 0;
}

static void apply_runtime(tr_runtime_t *rt, const rt_eff_t *e) {
    rt->opts.log_level = (tr_log_level_t)e->log_level;
    atomic_store_explicit(&rt->log_level, e->log_level, memory_order_relaxed);
    rt->opts.mailbox_capacity = (uint32_t)e->cap;
    rt->opts.batch = (uint32_t)e->batch;
    rt->opts.pass_budget = (uint32_t)e->budget;
    rt->opts.stall_ms = e->stall_ms ? (int32_t)e->stall_ms : -1;
    rt->opts.watchdog_ms = e->watchdog_ms ? (int32_t)e->watchdog_ms : -1;
    rt->opts.handler_timing = e->timing;
    rt->opts.debug_max_clients = (uint32_t)e->dbg_clients;
    rt->opts.debug_idle_ms = (uint32_t)e->dbg_idle_ms;
    rt->opts.spin_us = (uint32_t)e->spin_us; /* 0: never spin */
    tr__diag_apply(rt);
}

static void status_set(tr_runtime_t *rt, int result, const tr_config_error_t *err, bool commit) {
    pthread_mutex_lock(&rt->cfg_mu);
    tr_config_status_t *st = &rt->cfg_status;
    st->last_ms = tr__now_ms(&rt->sched[0]);
    st->last_result = result;
    if (result) {
        st->reloads_failed++;
        if (err) st->last_error = *err;
    } else if (commit) {
        st->reloads_ok++;
    }
    pthread_mutex_unlock(&rt->cfg_mu);
}

const char *tr__actor_config_name(tr_runtime_t *rt, tr__actor_t *a, char *buf, size_t len) {
    if (a->x && a->x->path) return a->x->path;
    tr__sched_t *s = &rt->sched[a->ref.sched];
    if (a == s->init_actor && s->init_name) { /* registered after init */
        snprintf(buf, len, "%s", s->init_name);
        return buf;
    }
    return tr__registry_name(rt, a->ref, buf, len);
}

static void on_reload_signal(struct ev_loop *loop, ev_signal *w, int revents) {
    (void)loop, (void)revents;
    tr_runtime_t *rt = w->data;
    tr__log(rt, TR_LOG_NOTICE, "received signal %d: reloading %s", w->signum, rt->config_path);
    tr_runtime_request_reload(rt);
}

int tr__config_init(tr_runtime_t *rt) {
    tr_runtime_opts_t *o = &rt->opts;
    pthread_mutex_init(&rt->cfg_mu, NULL);
    rt->base_opts = *o;
    if (o->reload_signal < -1 || o->reload_signal >= NSIG) return TR_EINVAL;
    if (o->config_path) {
        if (!(rt->config_path = strdup(o->config_path))) return TR_ENOMEM;
        snprintf(rt->cfg_status.path, sizeof(rt->cfg_status.path), "%s", rt->config_path);
    }
    o->config_path = rt->config_path;
    tr_config_error_t err;
    memset(&err, 0, sizeof(err));
    tr_config_t *cfg = tr_config_retain(o->config);
    o->config = rt->base_opts.config = NULL; /* the runtime's reference is rt->config */
    rt->base_opts.config_path = rt->config_path;
    int r = 0;
    if (!cfg && rt->config_path) r = tr_config_load(rt->config_path, &cfg, &err);
    rt_eff_t eff;
    if (r == 0 && cfg) r = check_config(rt, cfg, &eff, &err);
    if (r) {
        char line[1024];
        tr__log(rt, TR_LOG_ERROR, "config rejected: %s",
                tr_config_error_str(&err, line, sizeof(line)));
        tr_config_release(cfg);
        return r;
    }
    if (cfg) {
        apply_runtime(rt, &eff);
        o->fault_isolation = (tr_fault_isolation_t)eff.fault;
        o->event_ring = (uint32_t)eff.event_ring;
        if (eff.schedulers >= 0) /* 0 in a config: one per online CPU */
            o->schedulers = eff.schedulers ? (uint16_t)eff.schedulers : TR_SCHEDULERS_ONLINE;
        /* points into cfg, which is rt->config until create has bound
         * the socket (tr__debug_start clears it) */
        if (eff.debug_socket)
            o->debug_socket = strcmp(eff.debug_socket, "off") == 0 ? NULL : eff.debug_socket;
        rt->config = cfg;
        rt->cfg_status.generation = 1;
    }
    return 0;
}

/* libev lets one loop at a time watch a signal (it asserts otherwise), so
 * the reload signal belongs to the first runtime that asks for it. */
static _Atomic(tr_runtime_t *) sig_owner[NSIG];

/* After the loop exists: the reload signal. */
void tr__config_started(tr_runtime_t *rt) {
    if (!rt->config_path || rt->opts.reload_signal < 0) return;
    tr__sched_t *s = &rt->sched[0];
    int signo = rt->opts.reload_signal ? rt->opts.reload_signal : SIGHUP;
    tr_runtime_t *none = NULL;
    if (!atomic_compare_exchange_strong(&sig_owner[signo], &none, rt)) {
        tr__log(rt, TR_LOG_WARNING,
                "config: signal %d already reloads another runtime in this process; "
                "this one reloads only through tr_runtime_reload/tr_runtime_request_reload",
                signo);
        return;
    }
    ev_signal_init(&rt->sigreload, on_reload_signal, signo);
    rt->sigreload.data = rt;
    ev_signal_start(s->loop, &rt->sigreload);
    ev_unref(s->loop); /* a reload signal alone does not keep the loop running */
}

void tr__config_fini(tr_runtime_t *rt) {
    if (ev_is_active(&rt->sigreload)) {
        ev_ref(rt->sched[0].loop);
        ev_signal_stop(rt->sched[0].loop, &rt->sigreload);
        atomic_store(&sig_owner[rt->sigreload.signum], NULL);
    }
    tr_config_release(rt->config);
    rt->config = NULL;
    free(rt->config_path);
    rt->config_path = NULL;
    pthread_mutex_destroy(&rt->cfg_mu);
}

/* ---- spawn ---- */

int tr__config_spawn(tr__sched_t *s, const tr_actor_type_t *type, const char *name,
                     tr__spawn_cfg_t *sc) {
    tr_runtime_t *rt = s->rt;
    sc->gen = (uint32_t)rt->cfg_status.generation;
    if (!rt->config || !name) return 0;
    tr_config_section_t v;
    tr_config_section(rt->config, name, &v);
    int64_t cap;
    int pol;
    tr_config_error_t err;
    memset(&err, 0, sizeof(err));
    int r = tr_config_int(&v, "mailbox_capacity", 0, 1, TR_MAILBOX_MAX, &cap, &err);
    if (r == 0) r = tr_config_enum(&v, "overflow", overflow_names, -1, &pol, &err);
    if (r == 0 && cap) sc->cap = (uint32_t)cap;
    if (r == 0 && pol >= 0) sc->pol = (tr_overflow_t)(pol + 1);
    if (r == 0) r = tr__config_validate(type, &v, &err);
    if (r == 0) return 0;
    char line[1024];
    snprintf(s->spawn_err, sizeof(s->spawn_err), "config refused: %s",
             tr_config_error_str(&err, line, sizeof(line)));
    tr__log(rt, TR_LOG_WARNING, "spawn of %s (%s): %s", name, type->name, s->spawn_err);
    return TR_EINIT;
}

/* ---- reload ---- */

int tr__config_validate(const tr_actor_type_t *type, const tr_config_section_t *view,
                        tr_config_error_t *err) {
    int r = type->validate_config ? type->validate_config(view, err) : 0;
    if (r == 0) return 0;
    if (!err->reason[0]) snprintf(err->reason, sizeof(err->reason), "validate_config returned %d", r);
    return TR_ECONFIG;
}

/* Step 3: every live actor's type, and every idle child spec, accepts its
 * new view. */
static int validate_actors(tr__sched_t *s, const tr_config_t *cfg, tr__actor_t **v, size_t n,
                           tr_config_error_t *err) {
    char buf[256];
    for (size_t i = 0; i < n; i++) {
        tr__actor_t *a = v[i];
        const tr_actor_type_t *type = a->ti->type;
        const char *name = tr__actor_config_name(s->rt, a, buf, sizeof(buf));
        bool sup = tr__actor_sup(a) != NULL;
        if (!type->validate_config && !sup) continue;
        tr_config_section_t view;
        tr_config_section(cfg, name ? name : "", &view);
        int r = 0;
        if (sup) {
            r = tr__sup_check_config(a, &view, err);
            if (r == 0) r = tr__sup_validate_idle(s, a, cfg, err);
            if (r) return r; /* err names who refused */
        }
        if ((r = tr__config_validate(type, &view, err)) != 0) {
            snprintf(err->actor, sizeof(err->actor), "%.200s (%.48s)",
                     name ? name : "an unnamed actor", type->name);
            return r;
        }
    }
    return 0;
}

/* Does `a` have something to apply from cfg? */
static bool wants_update(tr_runtime_t *rt, tr__actor_t *a, const tr_config_t *cfg) {
    if (a->ti->type->on_config || tr__actor_sup(a)) return true;
    if (a->x && (a->x->base_cap || a->x->base_pol)) return true; /* may revert */
    char buf[256];
    const char *name = tr__actor_config_name(rt, a, buf, sizeof(buf));
    tr_config_section_t view;
    return name && tr_config_section(cfg, name, &view) == 0 &&
           (tr_config_has(&view, "mailbox_capacity") || tr_config_has(&view, "overflow"));
}

/* [runtime] keys whose change waits for a restart. */
static void note_restart_keys(tr_runtime_t *rt, const tr_config_t *old, const tr_config_t *cfg) {
    static const char *const keys[] = {"fault_isolation", "event_ring", "debug_socket",
                                       "schedulers", NULL};
    tr_config_section_t a, b;
    tr_config_section(old, "runtime", &a);
    tr_config_section(cfg, "runtime", &b);
    char list[256] = "";
    size_t used = 0;
    for (size_t i = 0; keys[i]; i++) {
        if (tr__config_same(&a, &b, keys[i])) continue;
        int w = snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "", keys[i]);
        if (w > 0 && (size_t)w < sizeof(list) - used) used += (size_t)w;
    }
    if (used)
        tr__log(rt, TR_LOG_NOTICE, "config: [runtime] %s changed: takes effect after a restart",
                list);
}

/* Steps 2-4 for a parsed snapshot. */
static int apply(tr__sched_t *s, tr_config_t *cfg, tr_config_error_t *err) {
    tr_runtime_t *rt = s->rt;
    rt_eff_t eff;
    int r = check_config(rt, cfg, &eff, err);
    size_t n = 0, nmsg = 0;
    /* the world stands still from the validation to the commit: no actor
     * starts, stops or changes its config meanwhile, on any scheduler */
    if (r == 0 && tr__world_stop(rt, 1000) != 0) {
        if (err) {
            memset(err, 0, sizeof(*err));
            snprintf(err->reason, sizeof(err->reason),
                     "a scheduler did not reach a safe point within 1000 ms (a handler running "
                     "that long?): try again");
        }
        return TR_ETIMEDOUT;
    }
    bool stopped = r == 0;
    tr__actor_t **v = r ? NULL : tr__live_actors(rt, false, &n);
    tr__sysmsg_t **msgs = NULL;
    if (r == 0 && !v) r = TR_ENOMEM;
    if (r == 0) r = validate_actors(s, cfg, v, n, err);
    if (r == 0 && n && !(msgs = calloc(n, sizeof(*msgs)))) r = TR_ENOMEM;
    for (size_t i = 0; r == 0 && i < n; i++) {
        /* an init still to run reads the newest config itself */
        if ((v[i]->flags & TR__A_REMOTE_INIT) || !wants_update(rt, v[i], cfg)) continue;
        if (!(msgs[i] = calloc(1, sizeof(**msgs)))) r = TR_ENOMEM;
        nmsg++;
    }
    if (r) {
        if (r == TR_ENOMEM && err) {
            memset(err, 0, sizeof(*err));
            snprintf(err->reason, sizeof(err->reason), "out of memory");
        }
        for (size_t i = 0; msgs && i < n; i++) free(msgs[i]);
        free(msgs);
        free(v);
        if (stopped) tr__world_resume(rt);
        return r;
    }
    /* commit: nothing below can fail */
    pthread_mutex_lock(&rt->cfg_mu);
    tr_config_t *old = rt->config;
    rt->config = tr_config_retain(cfg);
    uint64_t gen = ++rt->cfg_status.generation;
    pthread_mutex_unlock(&rt->cfg_mu);
    apply_runtime(rt, &eff);
    for (size_t i = 0; i < n; i++) {
        if (!msgs[i]) {
            v[i]->ring.owner_cfg_gen = (uint32_t)gen; /* nothing to apply */
            continue;
        }
        msgs[i]->kind = TR__SYS_CONFIG;
        msgs[i]->arg = (uint32_t)gen;
        msgs[i]->cfg = tr_config_retain(cfg);
        /* the world is stopped: straight onto its lane and run queue */
        tr__actor_sys_append(&rt->sched[v[i]->ref.sched], v[i], msgs[i]);
    }
    free(msgs);
    free(v);
    tr__world_resume(rt);
    tr__log(rt, TR_LOG_NOTICE, "config: %s applied, generation %llu (%zu actor(s) to update)",
            tr_config_name(cfg), (unsigned long long)gen, nmsg);
    note_restart_keys(rt, old, cfg);
    tr_config_release(old);
    return 0;
}

static int reload_common(tr_runtime_t *rt, tr_config_t *cfg, tr_config_error_t *err) {
    tr__sched_t *s = &rt->sched[0];
    tr_config_error_t local;
    if (!err) err = &local;
    memset(err, 0, sizeof(*err));
    int r;
    if (!tr__may_touch(s) || s->ctx.actor) r = TR_EWRONGTHREAD;
    else if (atomic_load_explicit(&rt->shutting_down, memory_order_relaxed) || rt->destroying)
        r = TR_ESTOPPED;
    else if (rt->reloading) r = TR_EALREADY;
    else if (!cfg && !rt->config_path) r = TR_EINVAL;
    else r = 0;
    if (r) return r;
    rt->reloading = 1;
    tr_config_t *loaded = NULL;
    if (!cfg) {
        r = tr_config_load(rt->config_path, &loaded, err);
        cfg = loaded;
    }
    if (r == 0) r = apply(s, cfg, err);
    rt->reloading = 0;
    status_set(rt, r, err, r == 0);
    if (r) {
        char line[1024];
        tr__log(rt, TR_LOG_ERROR, "config: reload of %s rejected: %s; generation %llu unchanged",
                cfg ? tr_config_name(cfg) : rt->config_path,
                tr_config_error_str(err, line, sizeof(line)),
                (unsigned long long)rt->cfg_status.generation);
    }
    tr_config_release(loaded);
    return r;
}

int tr_runtime_reload(tr_runtime_t *rt, tr_config_error_t *err) {
    if (!rt) return TR_EINVAL;
    return reload_common(rt, NULL, err);
}

int tr_runtime_apply_config(tr_runtime_t *rt, tr_config_t *cfg, tr_config_error_t *err) {
    if (!rt || !cfg) return TR_EINVAL;
    return reload_common(rt, cfg, err);
}

int tr_runtime_request_reload(tr_runtime_t *rt) {
    if (!rt || !rt->config_path) return TR_EINVAL;
    atomic_store_explicit(&rt->reload_req, 1, memory_order_release);
    tr__wake(&rt->sched[0]);
    return 0;
}

void tr__config_poll(tr__sched_t *s) {
    tr_runtime_t *rt = s->rt;
    if (TR__LIKELY(!atomic_load_explicit(&rt->reload_req, memory_order_relaxed))) return;
    atomic_store_explicit(&rt->reload_req, 0, memory_order_relaxed);
    tr_runtime_reload(rt, NULL); /* logged and kept in the status */
}

tr_config_t *tr_runtime_config(tr_runtime_t *rt) {
    if (!rt) return NULL;
    pthread_mutex_lock(&rt->cfg_mu);
    tr_config_t *cfg = tr_config_retain(rt->config);
    pthread_mutex_unlock(&rt->cfg_mu);
    return cfg;
}

int tr_runtime_config_status(tr_runtime_t *rt, tr_config_status_t *out) {
    if (!rt || !out) return TR_EINVAL;
    pthread_mutex_lock(&rt->cfg_mu);
    *out = rt->cfg_status;
    pthread_mutex_unlock(&rt->cfg_mu);
    return 0;
}

/* ---- UpdateConfig ---- */

/* Apply a key that overrides a spawn value, or restore the spawn value
 * when the key is gone. */
static void apply_mailbox(tr__sched_t *s, tr__actor_t *a, const tr_config_section_t *view) {
    int64_t cap = 0;
    int pol = -1;
    tr_config_int(view, "mailbox_capacity", 0, 1, TR_MAILBOX_MAX, &cap, NULL);
    tr_config_enum(view, "overflow", overflow_names, -1, &pol, NULL);
    uint32_t cfgw = atomic_load_explicit(&a->slot->cfg, memory_order_relaxed);
    uint32_t cur_cap = TR__CFG_CAP(cfgw);
    tr_overflow_t cur_pol = TR__CFG_POL(cfgw);
    tr__extra_t *x = (cap || pol >= 0) ? tr__actor_extra(a) : a->x;
    if (!x) return; /* nothing overridden, nothing to restore */
    uint32_t new_cap = cur_cap;
    tr_overflow_t new_pol = cur_pol;
    if (cap) {
        if (!x->base_cap) x->base_cap = cur_cap;
        new_cap = (uint32_t)cap;
    } else if (x->base_cap) {
        new_cap = x->base_cap;
        x->base_cap = 0;
    }
    if (pol >= 0) {
        if (!x->base_pol) x->base_pol = (uint8_t)cur_pol;
        new_pol = (tr_overflow_t)(pol + 1);
    } else if (x->base_pol) {
        new_pol = (tr_overflow_t)x->base_pol;
        x->base_pol = 0;
    }
    if (new_cap != cur_cap) tr__actor_set_capacity(s, a, new_cap);
    if (new_pol != cur_pol) {
        cfgw = atomic_load_explicit(&a->slot->cfg, memory_order_relaxed);
        atomic_store_explicit(&a->slot->cfg, TR__CFG(TR__CFG_CAP(cfgw), new_pol),
                              memory_order_relaxed);
    }
}

int tr__config_update(tr__sched_t *s, tr__actor_t *a, tr__sysmsg_t *m) {
    /* generations only grow; an actor started after this reload already
     * has it (it read the snapshot at spawn) */
    if ((int32_t)(m->arg - a->ring.owner_cfg_gen) <= 0) return 0;
    char buf[256];
    const char *name = tr__actor_config_name(s->rt, a, buf, sizeof(buf));
    tr_config_section_t view;
    tr_config_section(m->cfg, name ? name : "", &view);
    apply_mailbox(s, a, &view);
    if (tr__actor_sup(a)) tr__sup_apply_config(s, a, &view);
    a->ring.owner_cfg_gen = m->arg;
    TR__INC(s->c.config_updates);
    if (!a->ti->type->on_config) return 0;
    /* like a handler: a panic in it is a panic of the actor (run_turns'
     * region catches it; run_sys names what was running) */
    s->run_kind = TR__RUN_SYS;
    s->run_sys = m;
    a->ti->type->on_config(&s->ctx, a->state, &view);
    s->run_kind = TR__RUN_NONE;
    s->run_sys = NULL;
    return 1;
}

/* ---- the calling actor's view ---- */

int tr_ctx_config(tr_ctx_t *ctx, tr_config_section_t *out) {
    if (!out) return TR_EINVAL;
    memset(out, 0, sizeof(*out));
    if (!ctx || !ctx->actor) return TR_EWRONGTHREAD;
    char buf[256];
    const char *name = tr__actor_config_name(ctx->rt, ctx->actor, buf, sizeof(buf));
    tr_config_section(ctx->rt->config, name ? name : "", out);
    /* out->name must outlive this call: a path lives as long as the actor;
     * a registered name from buf is replaced by the section's own name */
    if (name == buf) out->name = tr__config_view_first(out);
    return 0;
}

uint64_t tr_ctx_config_generation(tr_ctx_t *ctx) {
    if (!ctx || !ctx->actor) return 0;
    return ctx->actor->ring.owner_cfg_gen;
}

int tr_actor_config_generation(tr_runtime_t *rt, tr_ref_t ref, uint64_t *out) {
    if (!rt || !out) return TR_EINVAL;
    tr__sched_t *s = tr__sched_of(rt, ref);
    if (!s) return TR_EDEAD;
    if (!tr__may_touch(s)) return TR_EWRONGTHREAD;
    tr__actor_t *a = tr__actor_get(s, ref);
    if (!a || (a->flags & TR__A_DEAD)) return TR_EDEAD;
    *out = a->ring.owner_cfg_gen;
    return 0;
}
