/* runtime/config.c: INI snapshots (parsed with inih), layered section views
 * and the typed getters. A snapshot is immutable once built; only its
 * reference count changes, atomically, so any thread may read it.
 * inih reads lines through our reader, which counts them (inih reports only
 * the first failing line, and we want the line of every key), strips
 * indentation (so an indented key is a key, never a continuation of the
 * previous value) and catches lines too long for inih's buffer, which inih
 * would otherwise split silently. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "runtime/internal.h"

#define CFG_MAX_FILE (16u << 20) /* bytes */

typedef struct cfg_kv_s {
    char *key, *value;
    int line;
} cfg_kv_t;

typedef struct cfg_sec_s {
    char *name;
    int line; /* of its first header */
    cfg_kv_t *kv;
    size_t nkv, cap;
    UT_hash_handle hh;
} cfg_sec_t;

struct tr_config_s {
    _Atomic uint32_t refs;
    char *name;
    cfg_sec_t *by_name;  /* uthash */
    cfg_sec_t **order;   /* sections in order of first appearance */
    size_t nsec, seccap;
};

/* ---- errors ---- */

static void copy_str(char *dst, size_t cap, const char *src) {
    size_t n = src ? strnlen(src, cap - 1) : 0;
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}

static void err_set(tr_config_error_t *err, const char *file, int line, const char *section,
                    const char *key, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void err_set(tr_config_error_t *err, const char *file, int line, const char *section,
                    const char *key, const char *fmt, ...) {
    if (!err) return;
    memset(err, 0, sizeof(*err));
    copy_str(err->file, sizeof(err->file), file);
    err->line = line;
    copy_str(err->section, sizeof(err->section), section);
    copy_str(err->key, sizeof(err->key), key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
    va_end(ap);
}

const char *tr_config_error_str(const tr_config_error_t *err, char *buf, size_t len) {
    if (!buf || !len) return buf;
    if (!err) {
        copy_str(buf, len, "no error");
        return buf;
    }
    char where[320] = "", what[340] = "";
    if (err->file[0] && err->line > 0) snprintf(where, sizeof(where), "%s:%d: ", err->file, err->line);
    else if (err->file[0]) snprintf(where, sizeof(where), "%s: ", err->file);
    if (err->section[0] && err->key[0])
        snprintf(what, sizeof(what), "[%s] %s: ", err->section, err->key);
    else if (err->section[0])
        snprintf(what, sizeof(what), "[%s]: ", err->section);
    if (err->actor[0])
        snprintf(buf, len, "%s%srefused by %s: %s", where, what, err->actor, err->reason);
    else
        snprintf(buf, len, "%s%s%s", where, what, err->reason);
    return buf;
}

/* ---- snapshots ---- */

static void cfg_free(tr_config_t *cfg) {
    HASH_CLEAR(hh, cfg->by_name); /* before the sections it points into */
    for (size_t i = 0; i < cfg->nsec; i++) {
        cfg_sec_t *sec = cfg->order[i];
        for (size_t k = 0; k < sec->nkv; k++) {
            free(sec->kv[k].key);
            free(sec->kv[k].value);
        }
        free(sec->kv);
        free(sec->name);
        free(sec);
    }
    free(cfg->order);
    free(cfg->name);
    free(cfg);
}

tr_config_t *tr_config_retain(tr_config_t *cfg) {
    if (cfg) atomic_fetch_add_explicit(&cfg->refs, 1, memory_order_relaxed);
    return cfg;
}

void tr_config_release(tr_config_t *cfg) {
    if (!cfg) return;
    if (atomic_fetch_sub_explicit(&cfg->refs, 1, memory_order_acq_rel) == 1) cfg_free(cfg);
}

const char *tr_config_name(const tr_config_t *cfg) { return cfg ? cfg->name : NULL; }

static cfg_sec_t *sec_find(const tr_config_t *cfg, const char *name) {
    cfg_sec_t *sec = NULL;
    if (cfg) HASH_FIND_STR(cfg->by_name, name, sec);
    return sec;
}

/* ---- parsing ---- */

typedef struct parse_s {
    tr_config_t *cfg;
    const char *p, *end;
    int line;
    cfg_sec_t *cur; /* the section of the last header (NULL before any) */
    int err_line; /* our own first error (0: none) */
    char reason[384];
    char err_section[256], err_key[64];
    bool oom;
} parse_t;

static void parse_fail(parse_t *ps, const char *section, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void parse_fail(parse_t *ps, const char *section, const char *key, const char *fmt, ...) {
    if (ps->err_line) return; /* keep the first */
    ps->err_line = ps->line;
    copy_str(ps->err_section, sizeof(ps->err_section), section);
    copy_str(ps->err_key, sizeof(ps->err_key), key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->reason, sizeof(ps->reason), fmt, ap);
    va_end(ap);
}

static const char *skip_space(const char *s, const char *end) {
    while (s < end && (*s == ' ' || *s == '\t')) s++;
    return s;
}

static cfg_sec_t *sec_add(parse_t *ps, const char *name, size_t len);

/* A header line "[name]...": the section is taken here, from the raw line,
 * because inih keeps only the first 49 bytes of a section name and calls
 * nothing for a header without keys. */
static void header(parse_t *ps, const char *start, size_t n) {
    const char *close = memchr(start, ']', n);
    if (!close) return; /* inih reports it */
    const char *b = skip_space(start + 1, close), *e = close;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t')) e--;
    if (b == e) {
        parse_fail(ps, NULL, NULL, "empty section name");
    } else if ((size_t)(e - b) > 255) {
        parse_fail(ps, NULL, NULL, "section name too long (at most 255 bytes)");
    } else if (!(ps->cur = sec_add(ps, b, (size_t)(e - b)))) {
        ps->oom = true;
    }
}

/* inih's line source: one physical line per call, indentation stripped. */
static char *reader(char *str, int num, void *stream) {
    parse_t *ps = stream;
    if (ps->p >= ps->end) return NULL;
    const char *nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
    const char *eol = nl ? nl : ps->end;
    ps->line++;
    const char *start = ps->line == 1 && eol - ps->p >= 3 && memcmp(ps->p, "\xEF\xBB\xBF", 3) == 0
                            ? ps->p + 3 /* UTF-8 byte order mark */
                            : ps->p;
    start = skip_space(start, eol);
    size_t n = (size_t)(eol - start);
    if (n && start[n - 1] == '\r') n--;
    if (memchr(start, '\0', n)) {
        parse_fail(ps, NULL, NULL, "NUL byte in line");
        n = 0;
    }
    if (n + 1 > (size_t)num) { /* room for the NUL */
        parse_fail(ps, NULL, NULL, "line too long (%zu bytes; at most %d)", n, num - 1);
        n = 0;
    }
    if (n && start[0] == '[') header(ps, start, n);
    memcpy(str, start, n);
    str[n] = '\0';
    ps->p = nl ? nl + 1 : ps->end;
    return str;
}

static cfg_sec_t *sec_add(parse_t *ps, const char *name, size_t len) {
    tr_config_t *cfg = ps->cfg;
    char key[256];
    memcpy(key, name, len);
    key[len] = '\0';
    cfg_sec_t *sec = sec_find(cfg, key);
    if (sec) return sec;
    if (cfg->nsec == cfg->seccap) {
        size_t ncap = cfg->seccap ? cfg->seccap * 2 : 8;
        cfg_sec_t **nv = realloc(cfg->order, ncap * sizeof(*nv));
        if (!nv) return NULL;
        cfg->order = nv;
        cfg->seccap = ncap;
    }
    sec = calloc(1, sizeof(*sec));
    if (!sec || !(sec->name = strdup(key))) {
        free(sec);
        return NULL;
    }
    sec->line = ps->line;
    cfg->order[cfg->nsec++] = sec;
    HASH_ADD_KEYPTR(hh, cfg->by_name, sec->name, strlen(sec->name), sec);
    return sec;
}

static int handler(void *user, const char *section, const char *name, const char *value) {
    (void)section; /* inih's copy may be truncated: ps->cur has the whole name */
    parse_t *ps = user;
    if (ps->oom) return 0;
    cfg_sec_t *sec = ps->cur;
    const char *sname = sec ? sec->name : NULL;
    if (!sec) {
        parse_fail(ps, NULL, name, "key outside any [section]");
        return 0;
    }
    if (!name[0]) {
        parse_fail(ps, sname, NULL, "empty key name");
        return 0;
    }
    if (strlen(name) > 63) {
        parse_fail(ps, sname, NULL, "key name too long (at most 63 bytes)");
        return 0;
    }
    for (size_t i = 0; i < sec->nkv; i++) {
        if (strcmp(sec->kv[i].key, name) == 0) {
            parse_fail(ps, sname, name, "duplicate key (first set on line %d)", sec->kv[i].line);
            return 0;
        }
    }
    if (sec->nkv == sec->cap) {
        size_t ncap = sec->cap ? sec->cap * 2 : 8;
        cfg_kv_t *nv = realloc(sec->kv, ncap * sizeof(*nv));
        if (!nv) {
            ps->oom = true;
            return 0;
        }
        sec->kv = nv;
        sec->cap = ncap;
    }
    cfg_kv_t *kv = &sec->kv[sec->nkv];
    kv->key = strdup(name);
    kv->value = strdup(value ? value : "");
    kv->line = ps->line;
    if (!kv->key || !kv->value) {
        free(kv->key);
        free(kv->value);
        ps->oom = true;
        return 0;
    }
    sec->nkv++;
    return 1;
}

/* Why inih refused line `line` (it gives only the number). */
static void syntax_reason(const char *text, size_t len, int line, char *out, size_t cap) {
    const char *p = text, *end = text + len;
    for (int l = 1; l < line && p < end; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    p = skip_space(p, end);
    if (p < end && *p == '[')
        copy_str(out, cap, "section header without a closing ']'");
    else
        copy_str(out, cap, "expected 'key = value', '[section]' or a comment");
}

int tr_config_parse(const char *name, const char *text, size_t len, tr_config_t **out,
                    tr_config_error_t *err) {
    if (out) *out = NULL;
    if (!out || (!text && len)) return TR_EINVAL;
    if (!name) name = "<string>";
    tr_config_t *cfg = calloc(1, sizeof(*cfg));
    if (!cfg || !(cfg->name = strdup(name))) {
        free(cfg);
        err_set(err, name, 0, NULL, NULL, "out of memory");
        return TR_ENOMEM;
    }
    atomic_init(&cfg->refs, 1);
    parse_t ps;
    memset(&ps, 0, sizeof(ps));
    ps.cfg = cfg;
    ps.p = text;
    ps.end = text + len;
    int line = ini_parse_stream(reader, &ps, handler, &ps);
    if (ps.oom || line == -2) {
        cfg_free(cfg);
        err_set(err, name, 0, NULL, NULL, "out of memory");
        return TR_ENOMEM;
    }
    if (ps.err_line || line != 0) {
        /* the first error wins: ours (the handler's or the reader's), or a
         * syntax error inih found on an earlier line */
        if (ps.err_line && (line <= 0 || ps.err_line <= line)) {
            err_set(err, name, ps.err_line, ps.err_section, ps.err_key, "%s", ps.reason);
        } else {
            char why[128];
            syntax_reason(text, len, line, why, sizeof(why));
            err_set(err, name, line, NULL, NULL, "%s", why);
        }
        cfg_free(cfg);
        return TR_ECONFIG;
    }
    *out = cfg;
    return 0;
}

int tr_config_load(const char *path, tr_config_t **out, tr_config_error_t *err) {
    if (out) *out = NULL;
    if (!path || !out) return TR_EINVAL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(err, path, 0, NULL, NULL, "cannot open: %s", strerror(errno));
        return TR_ESYS;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    int rc = buf ? 0 : TR_ENOMEM;
    while (rc == 0) {
        if (len == cap) {
            if (cap >= CFG_MAX_FILE) {
                err_set(err, path, 0, NULL, NULL, "file too large (over %u bytes)", CFG_MAX_FILE);
                rc = TR_ECONFIG;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                rc = TR_ENOMEM;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) {
                err_set(err, path, 0, NULL, NULL, "cannot read: %s", strerror(errno));
                rc = TR_ESYS;
            }
            break;
        }
    }
    fclose(f);
    if (rc == TR_ENOMEM) err_set(err, path, 0, NULL, NULL, "out of memory");
    if (rc == 0) rc = tr_config_parse(path, buf, len, out, err);
    free(buf);
    return rc;
}

/* ---- views ---- */

static void view_add(tr_config_section_t *v, const tr_config_t *cfg, const char *name, size_t n) {
    char tmp[512];
    if (n == 0 || n >= sizeof(tmp)) return;
    memcpy(tmp, name, n);
    tmp[n] = '\0';
    if (strcmp(tmp, "runtime") == 0) return; /* reserved for the runtime */
    cfg_sec_t *sec = sec_find(cfg, tmp);
    if (!sec) return;
    for (unsigned i = 0; i < v->nlayers_; i++)
        if (v->layers_[i] == sec) return;
    v->layers_[v->nlayers_++] = sec;
}

int tr_config_section(const tr_config_t *cfg, const char *name, tr_config_section_t *out) {
    if (!out) return TR_EINVAL;
    memset(out, 0, sizeof(*out));
    if (!name) return TR_EINVAL;
    out->config = cfg;
    out->name = name;
    if (!cfg) return TR_ENOTFOUND;
    if (strcmp(name, "runtime") == 0) {
        cfg_sec_t *sec = sec_find(cfg, name);
        if (sec) out->layers_[out->nlayers_++] = sec;
        return out->nlayers_ ? 0 : TR_ENOTFOUND;
    }
    size_t len = strlen(name);
    view_add(out, cfg, name, len);
    const char *hash = strrchr(name, '#');
    size_t base = len;
    if (hash && !strchr(hash, '/') && hash[1]) { /* "sup/name#7": the template */
        bool digits = true;
        for (const char *q = hash + 1; *q; q++) digits = digits && isdigit((unsigned char)*q);
        if (digits) base = (size_t)(hash - name);
    }
    view_add(out, cfg, name, base);
    const char *slash = memrchr(name, '/', base);
    if (slash) view_add(out, cfg, slash + 1, base - (size_t)(slash + 1 - name));
    return out->nlayers_ ? 0 : TR_ENOTFOUND;
}

static const cfg_kv_t *view_find(const tr_config_section_t *v, const char *key,
                                 const cfg_sec_t **where) {
    for (unsigned i = 0; i < v->nlayers_ && i < 3; i++) {
        const cfg_sec_t *sec = v->layers_[i];
        for (size_t k = 0; k < sec->nkv; k++) {
            if (strcmp(sec->kv[k].key, key) == 0) {
                if (where) *where = sec;
                return &sec->kv[k];
            }
        }
    }
    return NULL;
}

int tr_config_has(const tr_config_section_t *sec, const char *key) {
    return sec && key && view_find(sec, key, NULL) != NULL;
}

int tr_config_each(const tr_config_t *cfg, tr_config_each_fn fn, void *arg) {
    if (!cfg || !fn) return TR_EINVAL;
    for (size_t i = 0; i < cfg->nsec; i++) {
        const cfg_sec_t *sec = cfg->order[i];
        for (size_t k = 0; k < sec->nkv; k++) {
            int r = fn(arg, sec->name, sec->kv[k].key, sec->kv[k].value, sec->kv[k].line);
            if (r) return r;
        }
    }
    return 0;
}

/* ---- typed getters ---- */

/* Look a key up for a getter: 1 found (*val set), 0 not set, <0 error. */
typedef struct found_s {
    const cfg_kv_t *kv;
    const cfg_sec_t *sec;
    const char *file;
} found_t;

/* Every getter starts here: TR_EINVAL for bad arguments (`bad_args` covers
 * the getter's own, e.g. min > max), 0 when the key is not set (the getter
 * then writes its default), 1 when it is (f says where). */
static int lookup(const tr_config_section_t *v, const char *key, const void *out, bool bad_args,
                  found_t *f) {
    if (!v || !key || !out || bad_args) return TR_EINVAL;
    f->sec = NULL;
    f->kv = view_find(v, key, &f->sec);
    f->file = v->config ? v->config->name : NULL;
    return f->kv != NULL;
}

static int bad(const found_t *f, tr_config_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(const found_t *f, tr_config_error_t *err, const char *fmt, ...) {
    if (err) {
        char why[384];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, sizeof(why), fmt, ap);
        va_end(ap);
        err_set(err, f->file, f->kv->line, f->sec->name, f->kv->key, "%s", why);
    }
    return TR_ECONFIG;
}

int tr_config_str(const tr_config_section_t *sec, const char *key, const char *def,
                  const char **out, tr_config_error_t *err) {
    (void)err;
    found_t f;
    int r = lookup(sec, key, out, false, &f);
    if (r < 0) return r;
    *out = r ? f.kv->value : def;
    return 0;
}

/* Split "  123 unit " into a number and a unit; false when no digits. */
static bool split_unit(const char *s, uint64_t *num, const char **unit, bool *overflow) {
    while (isspace((unsigned char)*s)) s++;
    if (!isdigit((unsigned char)*s)) return false;
    uint64_t v = 0;
    *overflow = false;
    for (; isdigit((unsigned char)*s); s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) *overflow = true;
        else v = v * 10 + d;
    }
    while (isspace((unsigned char)*s)) s++;
    *num = v;
    *unit = s;
    return true;
}

typedef struct unit_s {
    const char *name;
    uint64_t mul;
} unit_t;

static int with_unit(const tr_config_section_t *sec, const char *key, uint64_t def, uint64_t min,
                     uint64_t max, uint64_t *out, tr_config_error_t *err, const unit_t *units,
                     const char *what, const char *expected, const char *base_unit) {
    found_t f;
    int r = lookup(sec, key, out, min > max, &f);
    if (r <= 0) {
        if (r == 0) *out = def;
        return r;
    }
    uint64_t n;
    const char *unit;
    bool ovf;
    if (!split_unit(f.kv->value, &n, &unit, &ovf))
        return bad(&f, err, "'%s' is not a %s (expected a number with a unit: %s)", f.kv->value,
                   what, expected);
    uint64_t mul = 0;
    for (const unit_t *u = units; u->name; u++)
        if (strcasecmp(unit, u->name) == 0) mul = u->mul;
    if (!mul)
        return bad(&f, err, "bad unit '%s' in '%s' (expected %s)", unit, f.kv->value, expected);
    if (ovf || (n && mul > UINT64_MAX / n) || n * mul < min || n * mul > max)
        return bad(&f, err, "%s out of range (%llu..%llu %s)", f.kv->value,
                   (unsigned long long)min, (unsigned long long)max, base_unit);
    *out = n * mul;
    return 0;
}

static const unit_t duration_units[] = {
    {"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"min", 60000},
    {"h", 3600000}, {"d", 86400000}, {NULL, 0}};

int tr_config_duration(const tr_config_section_t *sec, const char *key, uint64_t def_ms,
                       uint64_t min_ms, uint64_t max_ms, uint64_t *out_ms,
                       tr_config_error_t *err) {
    return with_unit(sec, key, def_ms, min_ms, max_ms, out_ms, err, duration_units, "duration",
                     "ms, s, m, h, d", "ms");
}

static const unit_t size_units[] = {
    {"", 1}, {"B", 1}, {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30},
    {"TiB", 1ull << 40}, {"KB", 1000}, {"MB", 1000000}, {"GB", 1000000000},
    {"TB", 1000000000000ull}, {NULL, 0}};

int tr_config_size(const tr_config_section_t *sec, const char *key, uint64_t def, uint64_t min,
                   uint64_t max, uint64_t *out, tr_config_error_t *err) {
    return with_unit(sec, key, def, min, max, out, err, size_units, "size",
                     "B, KiB, MiB, GiB, TiB, KB, MB, GB, TB", "bytes");
}

int tr_config_int(const tr_config_section_t *sec, const char *key, int64_t def, int64_t min,
                  int64_t max, int64_t *out, tr_config_error_t *err) {
    found_t f;
    int r = lookup(sec, key, out, min > max, &f);
    if (r <= 0) {
        if (r == 0) *out = def;
        return r;
    }
    const char *s = f.kv->value;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    while (isspace((unsigned char)*end)) end++;
    if (end == s || *end || !*s || isspace((unsigned char)*s))
        return bad(&f, err, "'%s' is not an integer", s);
    if (errno == ERANGE || v < min || v > max)
        return bad(&f, err, "%s out of range (%lld..%lld)", s, (long long)min, (long long)max);
    *out = v;
    return 0;
}

int tr_config_bool(const tr_config_section_t *sec, const char *key, int def, int *out,
                   tr_config_error_t *err) {
    static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false", "off", "0"};
    found_t f;
    int r = lookup(sec, key, out, false, &f);
    if (r <= 0) {
        if (r == 0) *out = def;
        return r;
    }
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(f.kv->value, yes[i]) == 0) return *out = 1, 0;
        if (strcasecmp(f.kv->value, no[i]) == 0) return *out = 0, 0;
    }
    return bad(&f, err, "'%s' is not a boolean (expected yes/no, true/false, on/off, 1/0)",
               f.kv->value);
}

int tr_config_enum(const tr_config_section_t *sec, const char *key, const char *const *names,
                   int def, int *out, tr_config_error_t *err) {
    found_t f;
    int r = lookup(sec, key, out, !names || !names[0], &f);
    if (r <= 0) {
        if (r == 0) *out = def;
        return r;
    }
    char list[256] = "";
    size_t used = 0;
    for (int i = 0; names[i]; i++) {
        if (strcasecmp(f.kv->value, names[i]) == 0) return *out = i, 0;
        int n = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", names[i]);
        if (n > 0 && (size_t)n < sizeof(list) - used) used += (size_t)n;
    }
    return bad(&f, err, "unknown value '%s' (expected %s)", f.kv->value, list);
}

int tr_config_double(const tr_config_section_t *sec, const char *key, double def, double min,
                     double max, double *out, tr_config_error_t *err) {
    found_t f;
    int r = lookup(sec, key, out, !(min <= max), &f);
    if (r <= 0) {
        if (r == 0) *out = def;
        return r;
    }
    const char *s = f.kv->value;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (isspace((unsigned char)*end)) end++;
    if (end == s || *end || !isfinite(v) || errno == ERANGE)
        return bad(&f, err, "'%s' is not a number", s);
    if (v < min || v > max) return bad(&f, err, "%s out of range (%g..%g)", s, min, max);
    *out = v;
    return 0;
}

int tr_config_refuse(tr_config_error_t *err, const tr_config_section_t *sec, const char *key,
                     const char *fmt, ...) {
    if (!err) return TR_ECONFIG;
    char why[384] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, sizeof(why), fmt, ap);
        va_end(ap);
    }
    const cfg_sec_t *where = NULL;
    const cfg_kv_t *kv = sec && key ? view_find(sec, key, &where) : NULL;
    const char *file = sec && sec->config ? sec->config->name : NULL;
    if (kv) {
        err_set(err, file, kv->line, where->name, kv->key, "%s", why);
    } else {
        const cfg_sec_t *first = sec && sec->nlayers_ ? sec->layers_[0] : NULL;
        err_set(err, file, first ? first->line : 0, first ? first->name : (sec ? sec->name : NULL),
                key, "%s", why);
    }
    return TR_ECONFIG;
}

/* ---- for the runtime ---- */

int tr__config_check_keys(const tr_config_section_t *sec, const char *const *known,
                          tr_config_error_t *err) {
    for (unsigned i = 0; i < sec->nlayers_; i++) {
        const cfg_sec_t *s = sec->layers_[i];
        for (size_t k = 0; k < s->nkv; k++) {
            bool ok = false;
            for (size_t j = 0; known[j] && !ok; j++) ok = strcmp(known[j], s->kv[k].key) == 0;
            if (!ok) {
                found_t f = {&s->kv[k], s, sec->config ? sec->config->name : NULL};
                return bad(&f, err, "unknown key");
            }
        }
    }
    return 0;
}

size_t tr__config_nsections(const tr_config_t *cfg) { return cfg ? cfg->nsec : 0; }

/* A single-layer view of section i. */
void tr__config_section_at(const tr_config_t *cfg, size_t i, tr_config_section_t *out) {
    memset(out, 0, sizeof(*out));
    out->config = cfg;
    out->name = cfg->order[i]->name;
    out->layers_[0] = cfg->order[i];
    out->nlayers_ = 1;
}

/* Same value for `key` in both views (both unset counts as the same). */
bool tr__config_same(const tr_config_section_t *a, const tr_config_section_t *b, const char *key) {
    const cfg_kv_t *x = view_find(a, key, NULL), *y = view_find(b, key, NULL);
    if (!x || !y) return x == y;
    return strcmp(x->value, y->value) == 0;
}

const char *tr__config_view_first(const tr_config_section_t *v) {
    return v->nlayers_ ? ((const cfg_sec_t *)v->layers_[0])->name : NULL;
}
