/* tools/troupectl/render.c: troupectl's output for people, one renderer per
 * command of docs/debug-protocol.md (--json bypasses all of this).
 * The server may be newer than troupectl, or wrong: every field is optional
 * and may have any type. All reads go through the accessors below, so a
 * missing or mistyped field prints as "-" and never crashes; fields
 * troupectl does not know are ignored. Text from the server is printed with
 * control characters escaped, so one item stays on one line. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "troupectl.h"

static bool use_ascii;

/* ---- a growing string ---- */

typedef struct {
    char *s;
    size_t len, cap;
} sb_t;

static void sb_reserve(sb_t *b, size_t add) {
    if (b->len + add < b->cap) return;
    size_t cap = b->cap ? b->cap : 128;
    while (cap <= b->len + add) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) ctl_die(CTL_EIO, "out of memory");
    b->s = s;
    b->cap = cap;
}

static void sb_putn(sb_t *b, const char *s, size_t n) {
    sb_reserve(b, n);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_puts(sb_t *b, const char *s) { sb_putn(b, s, strlen(s)); }

static void sb_printf(sb_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sb_t *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0) return;
    sb_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* s with control characters escaped. */
static void sb_text(sb_t *b, const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x20 && *p != 0x7f) sb_putn(b, (const char *)p, 1);
        else if (*p == '\n') sb_puts(b, "\\n");
        else if (*p == '\t') sb_puts(b, "\\t");
        else if (*p == '\r') sb_puts(b, "\\r");
        else sb_printf(b, "\\x%02x", *p);
    }
}

static void sb_clear(sb_t *b) {
    b->len = 0;
    if (b->s) b->s[0] = '\0';
}

/* The contents, which the caller frees; b is empty afterwards. */
static char *sb_take(sb_t *b) {
    char *s = b->s ? b->s : strdup("");
    if (!s) ctl_die(CTL_EIO, "out of memory");
    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}

/* Print b as one line and empty it. */
static void sb_line(sb_t *b) {
    if (b->len) fwrite(b->s, 1, b->len, stdout);
    fputc('\n', stdout);
    sb_clear(b);
}

void ctl_put_clean(FILE *f, const char *s) {
    sb_t b = {0};
    sb_text(&b, s);
    if (b.len) fwrite(b.s, 1, b.len, f);
    free(b.s);
}

/* ---- reading fields of any type ---- */

static const json_t *get(const json_t *o, const char *key) {
    return json_is_object(o) ? json_object_get(o, key) : NULL;
}

static const char *str(const json_t *o, const char *key) {
    const json_t *v = get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool num(const json_t *o, const char *key, long long *out) {
    const json_t *v = get(o, key);
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d > -9.0e18 && d < 9.0e18)) return false; /* NaN too */
        *out = (long long)d;
        return true;
    }
    return false;
}

static const json_t *arr(const json_t *o, const char *key) {
    const json_t *v = get(o, key);
    return json_is_array(v) ? v : NULL;
}

static size_t arr_len(const json_t *a) { return json_is_array(a) ? json_array_size(a) : 0; }

/* Any value: strings escaped, numbers, yes/no, "-" for null or missing,
 * arrays and objects as compact JSON. */
static void put_val(sb_t *b, const json_t *v) {
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING: sb_text(b, json_string_value(v)); break;
    case JSON_INTEGER: sb_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v)); break;
    case JSON_REAL: sb_printf(b, "%g", json_real_value(v)); break;
    case JSON_TRUE: sb_puts(b, "yes"); break;
    case JSON_FALSE: sb_puts(b, "no"); break;
    case JSON_NULL: sb_puts(b, "-"); break;
    default: {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        sb_text(b, s ? s : "-");
        free(s);
    }
    }
}

static void put_field(sb_t *b, const json_t *o, const char *key) { put_val(b, get(o, key)); }

static void put_num(sb_t *b, const json_t *o, const char *key) {
    long long v;
    if (num(o, key, &v)) sb_printf(b, "%lld", v);
    else sb_puts(b, "-");
}

/* A duration: 850ms, 1.2s, 2m05s, 1h02m, 3d04h. */
static void put_dur(sb_t *b, long long ms) {
    if (ms < 1000) sb_printf(b, "%lldms", ms);
    else if (ms < 60000) sb_printf(b, "%lld.%llds", ms / 1000, ms % 1000 / 100);
    else if (ms < 3600000) sb_printf(b, "%lldm%02llds", ms / 60000, ms % 60000 / 1000);
    else if (ms < 86400000) sb_printf(b, "%lldh%02lldm", ms / 3600000, ms % 3600000 / 60000);
    else sb_printf(b, "%lldd%02lldh", ms / 86400000, ms % 86400000 / 3600000);
}

static void put_dur_field(sb_t *b, const json_t *o, const char *key) {
    long long ms;
    if (num(o, key, &ms)) put_dur(b, ms);
    else sb_puts(b, "-");
}

/* A point in runtime time, in seconds: 12.345s. */
static void put_time_field(sb_t *b, const json_t *o, const char *key) {
    long long ms;
    if (num(o, key, &ms) && ms >= 0) sb_printf(b, "%lld.%03llds", ms / 1000, ms % 1000);
    else sb_puts(b, "-");
}

/* An actor: "path (id)", or whichever of the two there is, or "-". */
static void put_who(sb_t *b, const json_t *o, const char *idkey, const char *pathkey) {
    const char *id = str(o, idkey), *path = str(o, pathkey);
    if (path) sb_text(b, path);
    if (path && id) sb_puts(b, " (");
    if (id) sb_text(b, id);
    if (path && id) sb_puts(b, ")");
    if (!path && !id) sb_puts(b, "-");
}

/* A message: its name, else "#type", else "-". */
static void put_msg(sb_t *b, const json_t *o) {
    const char *name = str(o, "msg");
    long long type;
    if (name) sb_text(b, name);
    else if (num(o, "msg_type", &type) && type != 0) sb_printf(b, "#%lld", type);
    else sb_puts(b, "-");
}

static const char *arrow(void) { return use_ascii ? "->" : "\u2192"; }

/* ---- aligned columns ---- */

/* Cells are added row by row; head may be NULL (no header line), align has
 * one 'l' or 'r' per column. */
typedef struct {
    size_t ncol;
    const char *const *head;
    const char *align;
    const char *indent;
    char **cell;
    size_t ncell, cap;
} table_t;

/* Columns on screen: UTF-8 continuation bytes take none. */
static size_t width(const char *s) {
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80) w++;
    return w;
}

static void table_add(table_t *t, sb_t *b) {
    if (t->ncell == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        char **cell = realloc(t->cell, cap * sizeof(*cell));
        if (!cell) ctl_die(CTL_EIO, "out of memory");
        t->cell = cell;
        t->cap = cap;
    }
    t->cell[t->ncell++] = sb_take(b);
}

static void table_row(const table_t *t, const char *const *row, const size_t *w) {
    size_t last = t->ncol;
    while (last > 1 && !row[last - 1][0]) last--; /* no trailing blanks */
    fputs(t->indent ? t->indent : "", stdout);
    for (size_t i = 0; i < last; i++) {
        size_t pad = w[i] - width(row[i]);
        bool right = t->align[i] == 'r';
        if (i) fputs("  ", stdout);
        if (right) printf("%*s", (int)pad, "");
        fputs(row[i], stdout);
        if (!right && i + 1 < last) printf("%*s", (int)pad, "");
    }
    fputc('\n', stdout);
}

/* Print the table and free its cells. */
static void table_print(table_t *t) {
    size_t *w = calloc(t->ncol, sizeof(*w));
    if (!w) ctl_die(CTL_EIO, "out of memory");
    for (size_t i = 0; i < t->ncol; i++)
        if (t->head) w[i] = width(t->head[i]);
    for (size_t i = 0; i < t->ncell; i++) {
        size_t cw = width(t->cell[i]);
        if (cw > w[i % t->ncol]) w[i % t->ncol] = cw;
    }
    if (t->head) table_row(t, t->head, w);
    for (size_t r = 0; (r + 1) * t->ncol <= t->ncell; r++)
        table_row(t, (const char *const *)t->cell + r * t->ncol, w);
    for (size_t i = 0; i < t->ncell; i++) free(t->cell[i]);
    free(t->cell);
    free(w);
    t->cell = NULL;
    t->ncell = t->cap = 0;
}

/* A "key:" / value row of a two-column table. */
static void kv_add(table_t *t, sb_t *b, const char *key) {
    sb_t k = {0};
    sb_text(&k, key);
    sb_puts(&k, ":");
    table_add(t, &k);
    table_add(t, b);
}

static const char *const kv_align = "ll";

/* ---- help ---- */

static void render_help(const json_t *r) {
    long long proto;
    if (num(r, "protocol", &proto)) printf("debug protocol %lld\n", proto);
    const json_t *cmds = arr(r, "commands");
    if (!arr_len(cmds)) {
        puts("no commands");
        return;
    }
    puts("commands:");
    table_t t = {.ncol = 2, .align = kv_align, .indent = "  "};
    sb_t b = {0};
    size_t i;
    const json_t *c;
    json_array_foreach(cmds, i, c) {
        const char *name = json_is_string(c) ? json_string_value(c) : str(c, "name");
        const char *arg = str(c, "arg");
        sb_text(&b, name ? name : "-");
        if (arg && arg[0]) {
            sb_puts(&b, " ");
            sb_text(&b, arg);
        }
        table_add(&t, &b);
        const char *summary = str(c, "summary");
        sb_text(&b, summary ? summary : "");
        table_add(&t, &b);
    }
    table_print(&t);
}

/* ---- tree ---- */

/* One node of the tree: "name (strategy, intensity I/Pms) id" for a
 * supervisor, "name <type> id" for a worker; for a child (not a root) then
 * its state and what is worth knowing: policy unless permanent, a non-empty
 * mailbox, restarts, incarnation, the last restart's reason. */
static void describe(sb_t *b, const json_t *n, bool child) {
    const char *name = str(n, "name");
    if (!name) name = str(n, "path");
    sb_text(b, name ? name : "-");
    const char *kind = str(n, "kind");
    bool sup = (kind && strcmp(kind, "supervisor") == 0) || arr(n, "children") ||
               get(n, "strategy");
    long long v, w;
    if (sup) {
        sb_puts(b, " (");
        put_field(b, n, "strategy");
        if (num(n, "intensity", &v) && num(n, "period_ms", &w))
            sb_printf(b, ", intensity %lld/%lldms", v, w);
        if (num(n, "recent_restarts", &v) && v > 0)
            sb_printf(b, ", %lld recent restart%s", v, v == 1 ? "" : "s");
        sb_puts(b, ")");
    } else {
        sb_puts(b, " <");
        put_field(b, n, "type");
        sb_puts(b, ">");
    }
    const char *id = str(n, "id");
    if (id) {
        sb_puts(b, " ");
        sb_text(b, id);
    }
    if (!child) return;

    sb_puts(b, " ");
    put_field(b, n, "state");
    const char *policy = str(n, "restart");
    if (policy && strcmp(policy, "permanent") != 0) {
        sb_puts(b, ", ");
        sb_text(b, policy);
    }
    const json_t *mbox = get(n, "mailbox");
    if (num(mbox, "depth", &v) && v > 0) {
        sb_printf(b, ", mailbox %lld/", v);
        put_num(b, mbox, "capacity");
    }
    if (num(n, "restarts", &v) && v > 0) sb_printf(b, ", restarts %lld", v);
    if (num(n, "incarnation", &v) && v > 1) sb_printf(b, ", incarnation %lld", v);
    const json_t *last = arr(n, "last_restarts");
    if (arr_len(last)) {
        const json_t *r = json_array_get(last, json_array_size(last) - 1);
        const char *detail = str(r, "detail");
        sb_puts(b, ", last: ");
        put_field(b, r, "reason");
        if (detail && detail[0]) {
            sb_puts(b, " (");
            sb_text(b, detail);
            sb_puts(b, ")");
        }
    }
}

static void tree_children(const json_t *sup, sb_t *prefix) {
    const json_t *kids = arr(sup, "children");
    size_t n = arr_len(kids);
    sb_t line = {0};
    for (size_t i = 0; i < n; i++) {
        bool last = i + 1 == n;
        const json_t *kid = json_array_get(kids, i);
        sb_puts(&line, prefix->s ? prefix->s : "");
        if (use_ascii) sb_puts(&line, last ? "`- " : "|- ");
        else sb_puts(&line, last ? "\u2514\u2500 " : "\u251c\u2500 ");
        describe(&line, kid, true);
        sb_line(&line);
        size_t keep = prefix->len;
        if (last) sb_puts(prefix, "   ");
        else sb_puts(prefix, use_ascii ? "|  " : "\u2502  ");
        tree_children(kid, prefix);
        prefix->len = keep;
        prefix->s[keep] = '\0';
    }
    free(line.s);
}

static void render_tree(const json_t *r) {
    const json_t *roots = arr(r, "roots");
    sb_t line = {0}, prefix = {0};
    size_t i;
    const json_t *root;
    json_array_foreach(roots, i, root) {
        describe(&line, root, false);
        sb_line(&line);
        tree_children(root, &prefix);
    }
    if (!arr_len(roots)) puts("no supervision tree");

    const json_t *loose = arr(r, "unsupervised");
    if (arr_len(loose)) {
        puts("\nunsupervised actors:");
        const json_t *a;
        json_array_foreach(loose, i, a) {
            const char *name = str(a, "name");
            sb_puts(&line, "  ");
            sb_text(&line, name ? name : "-");
            sb_puts(&line, " <");
            put_field(&line, a, "type");
            sb_puts(&line, "> ");
            put_field(&line, a, "id");
            sb_line(&line);
        }
    }
    free(line.s);
    free(prefix.s);
}

/* ---- actors ---- */

static void put_busy(sb_t *b, const json_t *o) {
    long long us;
    if (num(o, "busy_us", &us) && us >= 0) sb_printf(b, "%lld.%lld", us / 1000, us % 1000 / 100);
    else sb_puts(b, "-");
}

static void render_actors(const json_t *r) {
    static const char *const head[] = {"ID",        "PATH/NAME", "TYPE",  "SCHED",
                                       "STATUS",    "DEPTH/CAP", "HWM",   "HANDLED",
                                       "DROPS",     "CALLS",     "KEPT",  "BUSY(ms)"};
    const json_t *list = arr(r, "actors");
    if (!arr_len(list)) {
        puts("no live actors");
        return;
    }
    table_t t = {.ncol = 12, .head = head, .align = "lllrllrrrrrr"};
    sb_t b = {0};
    size_t i;
    const json_t *a;
    json_array_foreach(list, i, a) {
        const json_t *mbox = get(a, "mailbox");
        const char *path = str(a, "path");
        if (!path) path = str(a, "name");
        put_field(&b, a, "id");
        table_add(&t, &b);
        sb_text(&b, path ? path : "-");
        table_add(&t, &b);
        put_field(&b, a, "type");
        table_add(&t, &b);
        put_num(&b, a, "sched");
        table_add(&t, &b);
        put_field(&b, a, "status");
        table_add(&t, &b);
        put_num(&b, mbox, "depth");
        sb_puts(&b, "/");
        put_num(&b, mbox, "capacity");
        table_add(&t, &b);
        put_num(&b, mbox, "high_water");
        table_add(&t, &b);
        put_num(&b, a, "handled");
        table_add(&t, &b);
        put_num(&b, a, "drops");
        table_add(&t, &b);
        put_num(&b, a, "pending_calls");
        table_add(&t, &b);
        put_num(&b, a, "kept_replies");
        table_add(&t, &b);
        put_busy(&b, a);
        table_add(&t, &b);
    }
    table_print(&t);
    long long total;
    if (json_is_true(get(r, "truncated"))) {
        if (num(r, "total", &total))
            printf("(%zu of %lld actors shown: pass a larger LIMIT, e.g. troupectl actors %lld)\n",
                   json_array_size(list), total, total);
        else
            printf("(%zu actors shown, more not: pass a larger LIMIT)\n", json_array_size(list));
    }
}

/* ---- trace, and an actor's events ---- */

/* The kind-specific number of an event, as troupe/panic.h documents it. */
static void event_arg(sb_t *b, const char *kind, long long v) {
    if (!kind) kind = "";
    if (strcmp(kind, "restart") == 0) sb_printf(b, " incarnation %lld", v);
    else if (strcmp(kind, "panic") == 0) sb_printf(b, " signal %lld", v);
    else if (strcmp(kind, "stall") == 0) {
        sb_puts(b, " after ");
        put_dur(b, v);
    } else sb_printf(b, " arg=%lld", v);
}

static void events_table(const json_t *events, const char *indent) {
    static const char *const head[] = {"TIME", "KIND", "ACTOR", "PEER", "MESSAGE"};
    table_t t = {.ncol = 5, .head = head, .align = "rllll", .indent = indent};
    sb_t b = {0};
    size_t i;
    const json_t *e;
    json_array_foreach(events, i, e) {
        long long argv;
        put_time_field(&b, e, "time_ms");
        table_add(&t, &b);
        put_field(&b, e, "kind");
        table_add(&t, &b);
        put_who(&b, e, "actor", "actor_path");
        table_add(&t, &b);
        put_who(&b, e, "peer", "peer_path");
        table_add(&t, &b);
        put_msg(&b, e);
        if (num(e, "arg", &argv) && argv != 0) event_arg(&b, str(e, "kind"), argv);
        table_add(&t, &b);
    }
    table_print(&t);
}

static void render_trace(const json_t *r) {
    const json_t *events = arr(r, "events");
    long long total, ring;
    printf("%zu event%s", arr_len(events), arr_len(events) == 1 ? "" : "s");
    if (num(r, "total", &total)) printf(" of %lld recorded", total);
    if (num(r, "ring", &ring)) printf(" (the ring keeps %lld)", ring);
    puts(arr_len(events) ? ":" : "");
    if (arr_len(events)) events_table(events, NULL);
}

/* ---- actor ---- */

static void render_actor(const json_t *r) {
    table_t t = {.ncol = 2, .align = kv_align};
    sb_t b = {0};
    static const char *const plain[] = {"id", "path", "name", "type"};
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        put_field(&b, r, plain[i]);
        kv_add(&t, &b, plain[i]);
    }
    put_num(&b, r, "sched");
    kv_add(&t, &b, "scheduler");
    put_field(&b, r, "supervisor");
    kv_add(&t, &b, "supervisor");
    put_field(&b, r, "status");
    kv_add(&t, &b, "status");
    put_field(&b, r, "incarnation");
    kv_add(&t, &b, "incarnation");
    put_field(&b, r, "parent");
    kv_add(&t, &b, "parent");

    const json_t *mbox = get(r, "mailbox");
    put_num(&b, mbox, "depth");
    sb_puts(&b, "/");
    put_num(&b, mbox, "capacity");
    sb_puts(&b, ", high water ");
    put_num(&b, mbox, "high_water");
    sb_puts(&b, ", overflow ");
    put_field(&b, r, "overflow");
    kv_add(&t, &b, "mailbox");

    put_num(&b, r, "handled");
    kv_add(&t, &b, "handled");
    put_num(&b, r, "drops");
    kv_add(&t, &b, "drops");
    put_num(&b, r, "pending_calls");
    kv_add(&t, &b, "pending calls");
    put_num(&b, r, "kept_replies");
    kv_add(&t, &b, "kept replies");
    put_busy(&b, r);
    sb_puts(&b, " ms");
    kv_add(&t, &b, "busy");
    put_num(&b, r, "timers");
    kv_add(&t, &b, "timers");
    put_num(&b, r, "fds");
    kv_add(&t, &b, "fds");

    const json_t *mon = get(r, "monitors");
    sb_puts(&b, "watching ");
    put_num(&b, mon, "watching");
    sb_puts(&b, ", watched by ");
    put_num(&b, mon, "watched_by");
    kv_add(&t, &b, "monitors");

    const json_t *cfg = get(r, "config");
    if (json_is_object(cfg)) {
        sb_puts(&b, "section ");
        put_field(&b, cfg, "section");
        sb_puts(&b, ", generation ");
        put_num(&b, cfg, "generation");
    } else {
        sb_puts(&b, "-");
    }
    kv_add(&t, &b, "config");
    table_print(&t);

    const json_t *a, *x;
    size_t i;
    if ((a = arr(r, "calls"))) {
        printf("\ncalls waiting for an answer:%s\n", arr_len(a) ? "" : " none");
        json_array_foreach(a, i, x) {
            sb_puts(&b, "  --[");
            put_msg(&b, x);
            sb_puts(&b, ", ");
            put_dur_field(&b, x, "age_ms");
            sb_puts(&b, "]--> ");
            put_who(&b, x, "callee", "callee_path");
            sb_line(&b);
        }
    }
    if ((a = arr(r, "kept"))) {
        printf("\nreplies it owes (kept):%s\n", arr_len(a) ? "" : " none");
        json_array_foreach(a, i, x) {
            sb_puts(&b, "  ");
            put_who(&b, x, "caller", "caller_path");
            sb_puts(&b, " waits for ");
            put_msg(&b, x);
            sb_puts(&b, ", ");
            put_dur_field(&b, x, "age_ms");
            sb_line(&b);
        }
    }
    if ((a = arr(r, "restarts"))) {
        printf("\nrestarts:%s\n", arr_len(a) ? "" : " none");
        json_array_foreach(a, i, x) {
            const char *detail = str(x, "detail");
            sb_puts(&b, "  at ");
            put_time_field(&b, x, "time_ms");
            sb_puts(&b, ": ");
            put_field(&b, x, "reason");
            if (detail && detail[0]) {
                sb_puts(&b, " (");
                sb_text(&b, detail);
                sb_puts(&b, ")");
            }
            sb_line(&b);
        }
    }
    const json_t *state = get(r, "state");
    if (json_is_object(state)) {
        const char *key;
        printf("\nstate:%s\n", json_object_size(state) ? "" : " none");
        t.indent = "  ";
        json_object_foreach((json_t *)state, key, x) {
            put_val(&b, x);
            kv_add(&t, &b, key);
        }
        table_print(&t);
    }
    if ((a = arr(r, "events"))) {
        printf("\nrecent events:%s\n", arr_len(a) ? "" : " none");
        if (arr_len(a)) events_table(a, "  ");
    }
    free(b.s);
}

/* ---- waits ---- */

static void render_waits(const json_t *r) {
    const json_t *edges = arr(r, "edges"), *cycles = arr(r, "cycles"),
                 *stalls = arr(r, "stalls");
    sb_t b = {0};
    size_t i, j;
    const json_t *x;
    if (!arr_len(edges)) puts("no pending calls");
    else printf("pending calls (%zu):\n", json_array_size(edges));
    json_array_foreach(edges, i, x) {
        long long tmo;
        sb_puts(&b, "  ");
        put_who(&b, x, "caller", "caller_path");
        sb_puts(&b, " --[");
        put_msg(&b, x);
        sb_puts(&b, ", ");
        put_dur_field(&b, x, "age_ms");
        sb_puts(&b, ", ");
        put_field(&b, x, "state");
        if (num(x, "timeout_ms", &tmo)) {
            sb_puts(&b, ", timeout ");
            put_dur(&b, tmo);
        }
        sb_puts(&b, "]--> ");
        put_who(&b, x, "callee", "callee_path");
        sb_line(&b);
    }

    json_array_foreach(cycles, i, x) {
        const json_t *ids = arr(x, "actors"), *paths = arr(x, "paths");
        size_t n = arr_len(ids) > arr_len(paths) ? arr_len(ids) : arr_len(paths);
        printf("\nDEADLOCK: %zu actor%s wait for each other in a cycle:\n", n,
               n == 1 ? "" : "s");
        sb_puts(&b, "  ");
        for (j = 0; j <= n && n; j++) {
            const json_t *id = json_array_get(ids, j % n), *path = json_array_get(paths, j % n);
            if (j) sb_printf(&b, " %s ", arrow());
            if (json_is_string(path)) {
                put_val(&b, path);
                if (json_is_string(id)) sb_puts(&b, " (");
            }
            if (json_is_string(id)) put_val(&b, id);
            if (json_is_string(path) && json_is_string(id)) sb_puts(&b, ")");
            if (!json_is_string(path) && !json_is_string(id)) sb_puts(&b, "-");
        }
        if (!n) sb_puts(&b, "-");
        sb_line(&b);
        puts("  nothing will answer unless a call times out");
    }

    json_array_foreach(stalls, i, x) {
        const json_t *ids = arr(x, "chain"), *paths = arr(x, "paths");
        size_t n = arr_len(ids) > arr_len(paths) ? arr_len(ids) : arr_len(paths);
        long long blocked;
        sb_t end = {0};
        if (str(x, "end_path") && str(x, "end_path")[0]) sb_text(&end, str(x, "end_path"));
        else if (str(x, "end") && str(x, "end")[0]) sb_text(&end, str(x, "end"));
        else sb_puts(&end, "-");
        printf("\nSTALL: %s owes an answer\n", end.s);
        sb_puts(&b, "  ");
        for (j = 0; j < n; j++) {
            const json_t *path = json_array_get(paths, j);
            if (j) sb_printf(&b, " %s ", arrow());
            put_val(&b, json_is_string(path) ? path : json_array_get(ids, j));
        }
        if (!n) sb_puts(&b, "-");
        sb_line(&b);
        printf("  %s has an empty mailbox and nothing pending: nothing will answer\n", end.s);
        sb_puts(&b, "  waiting for ");
        put_dur_field(&b, x, "age_ms");
        if (num(x, "blocked", &blocked))
            sb_printf(&b, ", %lld actor%s blocked", blocked, blocked == 1 ? "" : "s");
        sb_line(&b);
        free(end.s);
    }

    if (arr_len(edges) && !arr_len(cycles) && !arr_len(stalls)) {
        sb_puts(&b, "\nno deadlock and no stall");
        long long thr;
        if (num(r, "stall_threshold_ms", &thr)) {
            sb_puts(&b, " (a call is looked at after ");
            put_dur(&b, thr);
            sb_puts(&b, ")");
        }
        sb_line(&b);
    }
    free(b.s);
}

/* ---- stats ---- */

static void stats_group(table_t *t, sb_t *b, const json_t *o, const char *prefix) {
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)o, key, v) {
        sb_t k = {0};
        if (prefix) sb_printf(&k, "%s.", prefix);
        sb_text(&k, key);
        if (json_is_object(v)) {
            stats_group(t, b, v, k.s);
        } else {
            put_val(b, v);
            kv_add(t, b, k.s);
        }
        free(k.s);
    }
}

static void render_stats(const json_t *r) {
    static const char *const titles[][2] = {{"reply_channels", "reply channels"},
                                            {"debug", "debug socket"}};
    table_t t = {.ncol = 2, .align = kv_align};
    sb_t b = {0};
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)r, key, v) {
        long long ms;
        if (json_is_object(v)) continue;
        if (strcmp(key, "uptime_ms") == 0 && num(r, key, &ms)) {
            put_dur(&b, ms);
            sb_printf(&b, " (%lld ms)", ms);
            kv_add(&t, &b, "uptime");
        } else {
            put_val(&b, v);
            kv_add(&t, &b, key);
        }
    }
    table_print(&t);
    json_object_foreach((json_t *)r, key, v) {
        if (!json_is_object(v)) continue;
        const char *title = key;
        for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
            if (strcmp(key, titles[i][0]) == 0) title = titles[i][1];
        fputc('\n', stdout);
        ctl_put_clean(stdout, title);
        puts(":");
        t.indent = "  ";
        stats_group(&t, &b, v, NULL);
        table_print(&t);
    }
    free(b.s);
}

/* ---- config, reload ---- */

static void render_config(const json_t *r) {
    table_t t = {.ncol = 2, .align = kv_align};
    sb_t b = {0};
    put_field(&b, r, "generation");
    kv_add(&t, &b, "generation");
    put_field(&b, r, "path");
    kv_add(&t, &b, "file");
    put_num(&b, r, "reloads_ok");
    sb_puts(&b, " ok, ");
    put_num(&b, r, "reloads_failed");
    sb_puts(&b, " failed");
    kv_add(&t, &b, "reloads");
    put_field(&b, r, "last_error");
    kv_add(&t, &b, "last error");
    table_print(&t);

    const json_t *secs = arr(r, "sections");
    if (!arr_len(secs)) {
        puts(str(r, "path") ? "\n(no sections)" : "\n(no configuration file)");
        return;
    }
    size_t i, j;
    const json_t *s, *k;
    json_array_foreach(secs, i, s) {
        sb_puts(&b, "\n[");
        put_field(&b, s, "name");
        sb_puts(&b, "]");
        sb_line(&b);
        json_array_foreach(arr(s, "keys"), j, k) {
            long long line;
            put_field(&b, k, "key");
            sb_puts(&b, " = ");
            if (str(k, "value")) sb_text(&b, str(k, "value"));
            else put_field(&b, k, "value");
            if (num(k, "line", &line)) sb_printf(&b, "  ; line %lld", line);
            sb_line(&b);
        }
    }
    free(b.s);
}

static void render_reload(const json_t *r) {
    sb_t b = {0};
    sb_puts(&b, "reloaded: generation ");
    put_field(&b, r, "generation");
    sb_line(&b);
    free(b.s);
}

/* ---- alerts ---- */

static void put_wall(sb_t *b, const json_t *o, const char *key) {
    long long ms;
    struct tm tm;
    char when[64];
    time_t sec;
    if (!num(o, key, &ms) || ms < 0) {
        sb_puts(b, "-");
        return;
    }
    sec = (time_t)(ms / 1000);
    if (!localtime_r(&sec, &tm) || !strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm)) {
        sb_printf(b, "%lld", ms);
        return;
    }
    sb_printf(b, "%s.%03lld", when, ms % 1000);
}

static void render_alerts(const json_t *r) {
    const json_t *alerts = arr(r, "alerts");
    if (!arr_len(alerts)) {
        puts("no alerts");
        return;
    }
    sb_t b = {0};
    size_t i, j;
    const json_t *a, *x;
    json_array_foreach(alerts, i, a) {
        const char *kind = str(a, "kind");
        bool hung = kind && strcmp(kind, "hung_handler") == 0;
        if (i) fputc('\n', stdout);
        sb_puts(&b, "alert ");
        put_field(&b, a, "seq");
        sb_puts(&b, ": ");
        put_field(&b, a, "kind");
        sb_puts(&b, " at ");
        put_wall(&b, a, "wall_ms");
        if (!hung) {
            sb_puts(&b, " (runtime ");
            put_time_field(&b, a, "runtime_ms");
            sb_puts(&b, ")");
        }
        sb_line(&b);
        if (str(a, "text")) {
            sb_puts(&b, "  ");
            sb_text(&b, str(a, "text"));
            sb_line(&b);
        }
        sb_puts(&b, hung ? "  handler: " : "  caller: ");
        put_who(&b, a, "actor", "path");
        sb_puts(&b, ", message ");
        put_msg(&b, a);
        sb_puts(&b, hung ? ", running for " : ", waiting for ");
        put_dur_field(&b, a, "age_ms");
        sb_line(&b);
        const json_t *chain = arr(a, "chain");
        if (arr_len(chain)) {
            sb_puts(&b, "  chain: ");
            json_array_foreach(chain, j, x) {
                if (j) sb_printf(&b, " %s ", arrow());
                put_val(&b, x);
            }
            sb_line(&b);
        }
        const json_t *bt = arr(a, "backtrace");
        if (arr_len(bt)) {
            puts("  backtrace:");
            json_array_foreach(bt, j, x) {
                sb_puts(&b, "    ");
                put_val(&b, x);
                sb_line(&b);
            }
        } else if (hung) {
            puts("  backtrace: (not taken)");
        }
    }
    free(b.s);
}

/* ---- schedulers ---- */

/* A fraction (0.125) as a percentage with one decimal (12.5%), "-" when it
 * is not a number (null: no time base yet). */
static void put_pct(sb_t *b, const json_t *o, const char *key) {
    const json_t *v = get(o, key);
    double d;
    if (json_is_real(v)) d = json_real_value(v);
    else if (json_is_integer(v)) d = (double)json_integer_value(v);
    else {
        sb_puts(b, "-");
        return;
    }
    if (!(d >= 0.0 && d < 1.0e6)) { /* NaN too */
        sb_puts(b, "-");
        return;
    }
    sb_printf(b, "%.1f%%", d * 100.0);
}

static void render_schedulers(const json_t *r) {
    static const char *const head[] = {"ID",     "ACTORS",    "RUNQ",    "HANDLED",
                                       "PASSES", "REMOTE_IN", "WAKEUPS", "SPINS",
                                       "HITS",   "SLEEPS",    "BUSY_MS", "LOAD"};
    /* the columns before LOAD, in order */
    static const char *const fields[] = {"id",          "actors",    "runq",    "msgs_handled",
                                         "loop_passes", "remote_in", "wakeups", "spins",
                                         "spin_hits",   "sleeps",    "busy_ms"};
    const json_t *list = arr(r, "schedulers");
    long long up;
    printf("%zu scheduler%s", arr_len(list), arr_len(list) == 1 ? "" : "s");
    if (num(r, "uptime_ms", &up)) {
        sb_t u = {0};
        put_dur(&u, up);
        printf(", uptime %s", u.s);
        free(u.s);
    }
    puts(arr_len(list) ? ":" : "");
    if (!arr_len(list)) return;
    table_t t = {.ncol = 12, .head = head, .align = "rrrrrrrrrrrr"};
    sb_t b = {0};
    size_t i;
    const json_t *s;
    json_array_foreach(list, i, s) {
        for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
            put_num(&b, s, fields[k]);
            table_add(&t, &b);
        }
        put_pct(&b, s, "load");
        table_add(&t, &b);
    }
    table_print(&t);
}

/* ---- dispatch ---- */

static void render_json(const json_t *r) {
    char *s = json_dumps(r ? r : json_null(), JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (!s) ctl_die(CTL_EIO, "out of memory");
    puts(s);
    free(s);
}

void ctl_render(const char *cmd, const json_t *result, bool ascii) {
    static const struct {
        const char *name;
        void (*fn)(const json_t *r);
    } renderers[] = {
        {"help", render_help},     {"tree", render_tree},     {"actors", render_actors},
        {"actor", render_actor},   {"waits", render_waits},   {"trace", render_trace},
        {"stats", render_stats},   {"config", render_config}, {"reload", render_reload},
        {"alerts", render_alerts}, {"schedulers", render_schedulers},
    };
    use_ascii = ascii;
    for (size_t i = 0; i < sizeof(renderers) / sizeof(renderers[0]); i++) {
        if (strcmp(cmd, renderers[i].name) == 0) {
            /* A result that is not an object is from a server troupectl
             * does not understand: show it as it is. */
            if (json_is_object(result)) renderers[i].fn(result);
            else render_json(result);
            return;
        }
    }
    render_json(result);
}
