/*
 * ctx.h: the mlc context, the one place that holds per-run state: the log, the
 * configuration and chosen profile, and the lazily opened store. Subcommands get
 * one from cmd/mlc.c; library code receives what it needs from it. There is no
 * global mutable state outside it, with one exception: the flag a SIGTERM/SIGINT
 * handler sets (a handler may only set a volatile sig_atomic_t, C11 7.14.1.1),
 * which the context reads and keeps (mlc_ctx_stopping).
 *
 * Not here: argv parsing (cmd/), any network client (they are built from the
 * context by their own modules, e.g. mlc_m3_new(ctx, ...)).
 * Ownership: mlc_ctx_new() returns a context freed by mlc_ctx_free(), which also
 * frees the config, store and log it opened. Pointers returned by getters are
 * owned by the context.
 */
#ifndef MLC_CTX_H
#define MLC_CTX_H

#include "config.h"
#include "error.h"
#include "log.h"

typedef struct mlc_ctx mlc_ctx;
struct mlc_store;
struct mlc_trace;

typedef struct mlc_ctx_opts {
    const char *config_path;   /* --config, or NULL */
    const char *profile;       /* --profile, or NULL */
    mlc_log_format log_format;
    mlc_log_level log_level;
    int no_progress;           /* --no-progress */
} mlc_ctx_opts;

mlc_ctx *mlc_ctx_new(const mlc_ctx_opts *opts);
void mlc_ctx_free(mlc_ctx *ctx);

mlc_log *mlc_ctx_log(mlc_ctx *ctx);
/* Loads the config on first use; later calls return the same one. */
mlc_err mlc_ctx_config(mlc_ctx *ctx, const mlc_config **out, mlc_error *err);
/* Opens (and migrates) the profile's store on first use. */
mlc_err mlc_ctx_store(mlc_ctx *ctx, struct mlc_store **out, mlc_error *err);
/* Where the profile's state lives: *location is the SQLite file
 * (<state_dir>/<profile>.db) unless the profile says `state:` / `state_url:` with
 * a postgresql:// URL (checked: no password in it, verify-full off loopback;
 * errors name file:line:col, MLC_ERR_CONFIG); then *password is the PostgreSQL
 * password (mlc_ctx_state_password) or NULL. Caller frees *location and
 * *password (free_password wipes). */
mlc_err mlc_ctx_state_location(mlc_ctx *ctx, char **location, char **password, mlc_error *err);
/* The PostgreSQL password of the profile: state_password_file (refused unless
 * private, 0600), else the vault's "state" entry ({"password": ...}) when a vault
 * key is at hand without a prompt, else *password NULL (libpq's own ways: peer,
 * certificates, ~/.pgpass). Registered with the log as a secret. */
mlc_err mlc_ctx_state_password(mlc_ctx *ctx, char **password, mlc_error *err);
#define MLC_CTX_STATE_VAULT_ENTRY "state" /* the vault entry of the state password */
void mlc_ctx_free_password(char *password);
/* 1 if the profile has a state to read without creating one: its SQLite file
 * exists, or its state is a PostgreSQL URL (a database is there by definition;
 * opening it creates the tables if new). 0 on a fresh SQLite state or when the
 * config does not load. For read-only runs (push-shipments --dry-run). */
int mlc_ctx_state_exists(mlc_ctx *ctx);
/* Stores password as the vault's state entry (the vault created if new; the key
 * from MLC_VAULT_KEY(_FILE) or a prompt). *vault_file: which vault (caller frees). */
mlc_err mlc_ctx_state_password_save(mlc_ctx *ctx, const char *password, char **vault_file, mlc_error *err);

/* The run's HTTP trace (lib/trace): counts every exchange, and writes a HAR file
 * once mlc_ctx_open_trace() named one (--trace FILE). Network clients built from
 * the context pass it to lib/http. */
struct mlc_trace *mlc_ctx_trace(mlc_ctx *ctx);
mlc_err mlc_ctx_open_trace(mlc_ctx *ctx, const char *path, mlc_error *err);

/* ---- the run record (what `mlc status` reads) ----
 * mlc_ctx_run_start() names the run ("pull-pos", "webhook serve") and takes its
 * start time; the run's row is written to the store as soon as the command
 * opens it (so a long run shows as running). mlc_ctx_run_finish() completes it
 * with the exit code, counts (errors and warnings logged, HTTP exchanges, the
 * last summary line) and the last error logged (redacted); it opens the store
 * itself if the command did not, and records nothing if the configuration does
 * not load. Failures to record are logged at debug level only: the run's own
 * exit code stands. */
void mlc_ctx_run_start(mlc_ctx *ctx, const char *command);
void mlc_ctx_run_finish(mlc_ctx *ctx, int exit_code);

/* Clean stop. mlc_ctx_catch_stop_signals() makes SIGTERM and SIGINT a request
 * to stop: the call in flight finishes (up to its own deadline) and its outcome
 * is recorded; loops ask mlc_ctx_stopping() between records and calls and start
 * nothing new. The handlers are one-shot (SA_RESETHAND): a second signal ends
 * the process the default way. System calls restart (SA_RESTART), so a write in
 * progress is never cut. Returns 0, or -1 if sigaction failed. */
int mlc_ctx_catch_stop_signals(mlc_ctx *ctx);
/* 0, or the number of the stop signal received (logged once). */
int mlc_ctx_stopping(mlc_ctx *ctx);
/* rc, or 128 + the stop signal (143 SIGTERM, 130 SIGINT) if one was received. */
int mlc_ctx_exit_code(mlc_ctx *ctx, int rc);

#endif
