/* actors/registry.c: the name registry (uthash). A name maps to one live
 * actor, an actor has at most one name (as OTP's register/2); the entry goes
 * when the actor stops, so a restarted incarnation can take the name again.
 * Two hash handles: by name for lookups, by slot so teardown finds an
 * actor's name without a scan. Thread-safe (one mutex). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

static void drop_entry(tr_runtime_t *rt, tr__regent_t *e) {
    HASH_DELETE(hh, rt->reg_by_name, e);
    HASH_DELETE(hs, rt->reg_by_slot, e);
    free(e->name);
    free(e);
}

int tr_register(tr_runtime_t *rt, const char *name, tr_ref_t ref) {
    if (!rt || !name || !name[0]) return TR_EINVAL;
    size_t len = strlen(name);
    if (len > 255) return TR_EINVAL;
    if (!tr_actor_alive(rt, ref)) return TR_EDEAD;
    tr__regent_t *e = calloc(1, sizeof(*e));
    char *copy = malloc(len + 1);
    if (!e || !copy) {
        free(e);
        free(copy);
        return TR_ENOMEM;
    }
    memcpy(copy, name, len + 1);
    int err = 0;
    pthread_mutex_lock(&rt->reg_mu);
    tr__regent_t *old;
    HASH_FIND(hh, rt->reg_by_name, name, len, old);
    if (old && !tr_actor_alive(rt, old->ref)) drop_entry(rt, old), old = NULL;
    if (old) err = TR_EEXIST;
    if (!err) {
        HASH_FIND(hs, rt->reg_by_slot, &ref.slot, sizeof(ref.slot), old);
        if (old && !tr_ref_eq(old->ref, ref)) drop_entry(rt, old), old = NULL;
        if (old) err = TR_EEXIST; /* one name per actor */
    }
    if (!err) {
        e->name = copy;
        e->ref = ref;
        HASH_ADD_KEYPTR(hh, rt->reg_by_name, e->name, len, e);
        HASH_ADD(hs, rt->reg_by_slot, ref.slot, sizeof(e->ref.slot), e);
    }
    pthread_mutex_unlock(&rt->reg_mu);
    if (err) {
        free(e);
        free(copy);
    }
    return err;
}

int tr_unregister(tr_runtime_t *rt, const char *name) {
    if (!rt || !name) return TR_ENOTFOUND;
    tr__regent_t *e;
    pthread_mutex_lock(&rt->reg_mu);
    HASH_FIND(hh, rt->reg_by_name, name, strlen(name), e);
    if (e) drop_entry(rt, e);
    pthread_mutex_unlock(&rt->reg_mu);
    return e ? 0 : TR_ENOTFOUND;
}

int tr_whereis(tr_runtime_t *rt, const char *name, tr_ref_t *out) {
    if (!rt || !name) return TR_ENOTFOUND;
    tr__regent_t *e;
    tr_ref_t ref = TR_REF_NONE;
    pthread_mutex_lock(&rt->reg_mu);
    HASH_FIND(hh, rt->reg_by_name, name, strlen(name), e);
    if (e) ref = e->ref;
    pthread_mutex_unlock(&rt->reg_mu);
    if (!e || !tr_actor_alive(rt, ref)) return TR_ENOTFOUND;
    if (out) *out = ref;
    return 0;
}

void tr__registry_drop_slot(tr_runtime_t *rt, tr_ref_t ref) {
    if (!rt->reg_by_slot) return; /* racy peek is fine: registration happens on live actors */
    tr__regent_t *e;
    pthread_mutex_lock(&rt->reg_mu);
    HASH_FIND(hs, rt->reg_by_slot, &ref.slot, sizeof(ref.slot), e);
    if (e) drop_entry(rt, e);
    pthread_mutex_unlock(&rt->reg_mu);
}

void tr__registry_free(tr_runtime_t *rt) {
    tr__regent_t *e, *tmp;
    HASH_ITER(hh, rt->reg_by_name, e, tmp) drop_entry(rt, e);
}

/* The registered name of `ref` copied into buf, or NULL. Never blocks (a
 * trylock), so panic scenes built in a signal handler cannot deadlock. */
const char *tr__registry_name(tr_runtime_t *rt, tr_ref_t ref, char *buf, size_t len) {
    const char *out = NULL;
    if (!rt->reg_by_slot || len == 0 || pthread_mutex_trylock(&rt->reg_mu) != 0) return NULL;
    tr__regent_t *e;
    HASH_FIND(hs, rt->reg_by_slot, &ref.slot, sizeof(ref.slot), e);
    if (e && tr_ref_eq(e->ref, ref)) {
        snprintf(buf, len, "%s", e->name);
        out = buf;
    }
    pthread_mutex_unlock(&rt->reg_mu);
    return out;
}
