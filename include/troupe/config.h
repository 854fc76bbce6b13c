/* troupe/config.h: INI configuration, immutable snapshots, typed getters and
 * transactional live reload (SIGHUP, or an API call).
 *
 * The model: a config file is parsed whole into an immutable,
 * reference-counted snapshot (a tr_config_t). A runtime holds one current
 * snapshot and swaps it atomically on reload, after every affected actor
 * type has accepted its new section (validate_config); only then does
 * UpdateConfig travel to the actors (on_config). Readers that took a
 * reference keep their snapshot as long as they like (arc_swap's idea in
 * Rust; elfo's validate-then-update, without elfo#68's hole: an actor that
 * is restarting when a reload lands starts with the new snapshot).
 * See docs/configuration.md for the file format and every key. */
#ifndef TROUPE_CONFIG_H
#define TROUPE_CONFIG_H

#include <troupe/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An immutable config snapshot. Reference-counted: tr_config_retain and
 * tr_config_release are thread-safe (atomic count); everything else only
 * reads, so a snapshot may be shared by any number of threads. */
typedef struct tr_config_s tr_config_t;

/* Why a config was rejected. Filled by the parser, by the typed getters and
 * by tr_config_refuse; all strings are NUL-terminated and truncated to fit.
 * `file` and `line` locate the offending line (line 0: the whole file, e.g.
 * it could not be opened); `actor` names who refused (an actor path or
 * "runtime"), empty for plain parse errors. */
typedef struct tr_config_error_s {
    char file[256];
    int line;
    char section[256];
    char key[64];
    char actor[256];
    char reason[384];
} tr_config_error_t;

/* Format an error as one line:
 *   "app.ini:12: [runtime] log_level: unknown value 'loud' (expected ...)"
 *   "app.ini:30: [app/db] pool_size: refused by app/db (db): must be even"
 * into buf (len bytes, truncated, always NUL-terminated). Returns buf.
 * Thread-safe. */
TR_API const char *tr_config_error_str(const tr_config_error_t *err, char *buf, size_t len);

/* Parse the INI file at `path` (read whole, then parsed with inih) into a new
 * snapshot with one reference, written to *out. Syntax: `[section]` headers,
 * `key = value` (or `key: value`) lines, comments starting with ';' or '#'
 * (and inline after " ;"), lines of at most 199 bytes (after indentation,
 * which is ignored: there are no continuation lines). Section names and keys
 * are case-sensitive. Keys before any section header, a key
 * repeated in a section, empty section names and malformed lines are
 * errors. A repeated [section] header continues that section.
 * On failure nothing is allocated, *out is NULL, and *err (may be NULL) says
 * where and why. Thread-safe (no shared state).
 * Returns 0, TR_EINVAL (NULL path or out), TR_ESYS (cannot open or read the
 * file: err->reason has strerror), TR_ECONFIG (syntax error: err has
 * file:line), TR_ENOMEM. */
TR_API int tr_config_load(const char *path, tr_config_t **out, tr_config_error_t *err);

/* Same as tr_config_load for `len` bytes of INI text in memory; `name` is
 * the file name used in errors (NULL: "<string>"). The text is copied.
 * Returns 0, TR_EINVAL, TR_ECONFIG, TR_ENOMEM. */
TR_API int tr_config_parse(const char *name, const char *text, size_t len, tr_config_t **out,
                           tr_config_error_t *err);

/* Take one more reference (returns cfg; NULL is passed through). */
TR_API tr_config_t *tr_config_retain(tr_config_t *cfg);

/* Drop a reference; the last one frees the snapshot. NULL is accepted. */
TR_API void tr_config_release(tr_config_t *cfg);

/* The file name the snapshot was parsed from (valid while the snapshot is). */
TR_API const char *tr_config_name(const tr_config_t *cfg);

/* A view of the settings that apply to one actor: up to three sections,
 * most specific first, searched key by key. For an actor at path
 * "app/pool/worker#3" they are [app/pool/worker#3], [app/pool/worker] (the
 * dynamic children's template) and [worker] (the child-spec name); for
 * "app/db": [app/db] then [db]. A value and its views are borrowed from the
 * snapshot: valid while it is (during on_config, validate_config and the
 * handler that obtained it, or while you hold a reference to `config`).
 * An empty view (config NULL or no section) makes every getter return its
 * default. */
typedef struct tr_config_section_s {
    const tr_config_t *config;
    const char *name;       /* the name that was looked up (the actor path) */
    const void *layers_[3]; /* private */
    unsigned nlayers_;      /* private */
} tr_config_section_t;

/* The view for `name` (an actor path or a plain section name) in cfg, as
 * described above. cfg may be NULL (empty view). "runtime" names only the
 * [runtime] section. Returns 0 (at least one section exists), TR_ENOTFOUND
 * (none: *out is an empty view, still usable), TR_EINVAL (NULL name/out). */
TR_API int tr_config_section(const tr_config_t *cfg, const char *name, tr_config_section_t *out);

/* Nonzero when `key` is set in the view. */
TR_API int tr_config_has(const tr_config_section_t *sec, const char *key);

/* Typed getters. Each writes the key's value, or `def` when the key is not
 * set, to *out. A value that is set but malformed or out of range is an
 * error: *out is left unchanged, *err (may be NULL) gets the key's
 * file:line and the reason, and the getter returns TR_ECONFIG. Every getter
 * returns 0, TR_ECONFIG, or TR_EINVAL (NULL sec, key or out; min > max;
 * an enum without names). Thread-safe (read-only).
 *  - str: the raw value, surrounding whitespace removed (may be "").
 *  - int: decimal integer, optional sign, in [min, max].
 *  - duration: integer with a unit: "250ms", "5s", "2m" (or "2min"), "1h",
 *    "1d" (a bare number is milliseconds), in [min_ms, max_ms] milliseconds.
 *  - size: integer with a unit: "512", "512B", "64KiB", "1MiB", "2GiB",
 *    "1TiB" (IEC, powers of 1024) or "64KB", "1MB", "2GB", "1TB" (SI,
 *    powers of 1000); bytes, in [min, max].
 *    Units are case-insensitive and may follow the number after spaces
 *    ("10 ms").
 *  - bool: yes/no, true/false, on/off, 1/0 (case-insensitive).
 *  - enum: one of `names` (a NULL-terminated array, case-insensitive);
 *    *out is its index. The error lists the accepted names.
 *  - double: a finite decimal number (strtod syntax), in [min, max]. */
TR_API int tr_config_str(const tr_config_section_t *sec, const char *key, const char *def,
                         const char **out, tr_config_error_t *err);
TR_API int tr_config_int(const tr_config_section_t *sec, const char *key, int64_t def,
                         int64_t min, int64_t max, int64_t *out, tr_config_error_t *err);
TR_API int tr_config_duration(const tr_config_section_t *sec, const char *key, uint64_t def_ms,
                              uint64_t min_ms, uint64_t max_ms, uint64_t *out_ms,
                              tr_config_error_t *err);
TR_API int tr_config_size(const tr_config_section_t *sec, const char *key, uint64_t def,
                          uint64_t min, uint64_t max, uint64_t *out, tr_config_error_t *err);
TR_API int tr_config_bool(const tr_config_section_t *sec, const char *key, int def, int *out,
                          tr_config_error_t *err);
TR_API int tr_config_enum(const tr_config_section_t *sec, const char *key,
                          const char *const *names, int def, int *out, tr_config_error_t *err);
TR_API int tr_config_double(const tr_config_section_t *sec, const char *key, double def,
                            double min, double max, double *out, tr_config_error_t *err);

/* For validate_config: refuse the new config with a reason (printf format).
 * Fills *err with the file:line of `key` in the view (or of the section
 * when key is NULL or not set; line 0 when there is no section) and returns
 * TR_ECONFIG, so `return tr_config_refuse(err, sec, "size", "must be
 * even");` reads naturally. The runtime adds the actor that refused. */
TR_API int tr_config_refuse(tr_config_error_t *err, const tr_config_section_t *sec,
                            const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Visit every key of the snapshot: sections in the order they first
 * appear, and each section's keys in the order they were set, with the
 * line each was set on. Stops early when fn returns nonzero (that value
 * is returned). Returns 0 when every key was visited, or TR_EINVAL. */
typedef int (*tr_config_each_fn)(void *arg, const char *section, const char *key,
                                 const char *value, int line);
TR_API int tr_config_each(const tr_config_t *cfg, tr_config_each_fn fn, void *arg);

/* ---- a runtime's configuration ----
 * Runtime options (troupe/runtime.h) name the initial snapshot
 * (`config`) and the file reloads re-read (`config_path`); keys in
 * [runtime] override the corresponding options. */

/* Re-read the runtime's config_path and apply it transactionally:
 *  1. parse the whole file (any error rejects the reload);
 *  2. check the runtime's own keys: [runtime], and mailbox_capacity,
 *     overflow and the supervisor keys in every section;
 *  3. call validate_config of every live actor's type, and of every child
 *     spec's type whose child is not running (restarting or waiting for
 *     its backoff), with its new view; the first refusal rejects the reload;
 *  4. commit: swap the snapshot, bump the generation, apply [runtime]
 *     (log level, batch, pass_budget, default mailbox capacity), then queue
 *     UpdateConfig on the system lane of every live actor with something to
 *     apply (a supervisor, an on_config callback, or a section), which
 *     applies mailbox_capacity / overflow / restart intensity and backoff
 *     and calls on_config. Actors started later read the new snapshot.
 * A rejected reload leaves everything as it was; it is logged at error
 * level ("config: reload of app.ini rejected: app.ini:12: ...") and kept in
 * the status (tr_runtime_config_status). A committed reload is logged at
 * notice level, with the [runtime] keys whose change needs a restart.
 * Scheduler thread, outside or inside a handler (UpdateConfig is then
 * handled after the current handler returns).
 * Returns 0, TR_EINVAL (no config_path), TR_ECONFIG (rejected: *err, may be
 * NULL, says why), TR_ESYS (file unreadable), TR_ENOMEM, TR_EWRONGTHREAD,
 * TR_ESTOPPED (shutting down), TR_EALREADY (called from a validate_config
 * during a reload). */
TR_API int tr_runtime_reload(tr_runtime_t *rt, tr_config_error_t *err);

/* Apply a snapshot built by the caller (tr_config_parse), through the same
 * steps 2-4. The runtime takes its own reference; the caller keeps theirs.
 * Same thread rules and errors as tr_runtime_reload (TR_EINVAL: NULL cfg). */
TR_API int tr_runtime_apply_config(tr_runtime_t *rt, tr_config_t *cfg, tr_config_error_t *err);

/* Ask for a reload of config_path at the start of the next loop pass (what
 * the reload signal does). Thread-safe: it sets a flag and wakes the loop.
 * The result shows in tr_runtime_config_status and the log. Returns 0, or
 * TR_EINVAL (NULL rt, or the runtime has no config_path). */
TR_API int tr_runtime_request_reload(tr_runtime_t *rt);

/* A new reference to the runtime's current snapshot (release it with
 * tr_config_release), or NULL when the runtime has no config. Thread-safe. */
TR_API tr_config_t *tr_runtime_config(tr_runtime_t *rt);

/* The result of reloads so far. */
typedef struct tr_config_status_s {
    uint64_t generation;     /* 0: no config; 1: the initial one; +1 per commit */
    uint64_t reloads_ok;     /* committed reloads (not counting the initial config) */
    uint64_t reloads_failed; /* rejected reloads */
    uint64_t last_ms;        /* runtime time of the last attempt (0: none) */
    int last_result;         /* 0, or the error code of the last attempt */
    tr_config_error_t last_error; /* the last rejection (kept after later successes) */
    char path[256];          /* the file reloads read ("" when none) */
} tr_config_status_t;

/* Copy the reload status. Thread-safe. Returns 0 or TR_EINVAL. */
TR_API int tr_runtime_config_status(tr_runtime_t *rt, tr_config_status_t *out);

/* The calling actor's view of the runtime's current snapshot (see
 * tr_config_section_t for the sections searched): what init reads its
 * settings from. Borrowed: valid until the current handler, init or
 * on_config returns; retain out->config to keep it longer. Scheduler
 * thread, inside an actor's init, handler or on_config. Returns 0 (an
 * empty view when there is no config or no section: getters give
 * defaults) or TR_EWRONGTHREAD (no current actor). */
TR_API int tr_ctx_config(tr_ctx_t *ctx, tr_config_section_t *out);

/* The config generation the calling actor runs: the one current when it
 * started, or the last one whose UpdateConfig it applied. 0 when there is no
 * config or no current actor. Scheduler thread. */
TR_API uint64_t tr_ctx_config_generation(tr_ctx_t *ctx);

/* The config generation a live actor runs (as above). Scheduler thread.
 * Returns 0 and writes *out, TR_EDEAD, TR_EINVAL, TR_EWRONGTHREAD. */
TR_API int tr_actor_config_generation(tr_runtime_t *rt, tr_ref_t ref, uint64_t *out);

#ifdef __cplusplus
}
#endif
#endif /* TROUPE_CONFIG_H */
