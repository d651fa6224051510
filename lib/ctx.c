/*
 * ctx.c: the per-run context: log, lazily loaded config, lazily opened store
 * (SQLite or PostgreSQL, as the profile's `state` says, with the password from a
 * private file or the vault).
 * Not here: anything a subcommand does with them; SQL (lib/store).
 */
#include "ctx.h"
#include "store.h"
#include "trace.h"
#include "secret.h"
#include "vault.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <time.h>
#include <limits.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mlc_ctx {
    mlc_log *log;
    char *config_path;
    char *profile;
    mlc_config *config;
    mlc_store *store;
    mlc_trace *trace;
    char run_command[64];      /* "" = not recording */
    int64_t run_started;
    int64_t run_id;            /* 0 until the row exists */
    int stop_sig;              /* the stop signal, once seen */
};

#define RUN_KEEP_DAYS 90

static void run_begin_row(mlc_ctx *ctx)
{
    mlc_error e = {0};
    if (!ctx->run_command[0] || ctx->run_id || !ctx->store)
        return;
    if (mlc_store_run_begin(ctx->store, ctx->run_command, ctx->run_started, &ctx->run_id, &e))
        mlc_log_debug(ctx->log, "run record: %s", e.msg);
}

/* The documented exception to "no global mutable state outside the context"
 * (ctx.h): a signal handler can only set a volatile sig_atomic_t. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig) { stop_signal = sig; }

mlc_ctx *mlc_ctx_new(const mlc_ctx_opts *opts)
{
    mlc_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    ctx->log = mlc_log_new(NULL, opts->log_format, opts->log_level);
    if (ctx->log && opts->no_progress)
        mlc_log_set_progress(ctx->log, 0);
    mlc_error e;
    if (ctx->log && mlc_trace_open(NULL, ctx->log, &ctx->trace, &e)) {
        mlc_ctx_free(ctx);
        return NULL;
    }
    ctx->config_path = opts->config_path ? strdup(opts->config_path) : NULL;
    ctx->profile = opts->profile ? strdup(opts->profile) : NULL;
    if (!ctx->log || (opts->config_path && !ctx->config_path) || (opts->profile && !ctx->profile)) {
        mlc_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

void mlc_ctx_free(mlc_ctx *ctx)
{
    if (!ctx)
        return;
    mlc_error e = {0};
    if (mlc_trace_close(ctx->trace, &e))
        mlc_log_error(ctx->log, "%s", e.msg);
    mlc_log_progress_done(ctx->log);
    mlc_store_close(ctx->store);
    mlc_config_free(ctx->config);
    mlc_log_free(ctx->log);
    free(ctx->config_path);
    free(ctx->profile);
    free(ctx);
}

mlc_log *mlc_ctx_log(mlc_ctx *ctx) { return ctx->log; }

mlc_err mlc_ctx_config(mlc_ctx *ctx, const mlc_config **out, mlc_error *err)
{
    if (!ctx->config) {
        mlc_err rc = mlc_config_load(ctx->config_path, ctx->profile, &ctx->config, err);
        if (rc)
            return rc;
    }
    *out = ctx->config;
    return MLC_OK;
}

void mlc_ctx_free_password(char *password) { mlc_secret_free_str(password); }

/* A password file: private (0600, ours), at most 1 KiB; its first line. */
static mlc_err read_password_file(const char *path, char **out, mlc_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    mlc_err rc = mlc_secret_read(path, 1024, "state_password_file", MLC_SECRET_PRIVATE, &buf, &len, err);
    if (rc)
        return rc;
    size_t n = strcspn(buf, "\r\n");
    mlc_secret_wipe(buf + n, len - n); /* what follows the first line */
    if (n == 0) {
        mlc_secret_free(buf, len + 1);
        return mlc_error_set(err, MLC_ERR_CONFIG, "state_password_file %s: empty", path);
    }
    *out = buf;
    return MLC_OK;
}

mlc_err mlc_ctx_state_password(mlc_ctx *ctx, char **password, mlc_error *err)
{
    const mlc_config *cfg;
    *password = NULL;
    mlc_err rc = mlc_ctx_config(ctx, &cfg, err);
    if (rc)
        return rc;
    if (mlc_config_str(cfg, "state_password_file")) {
        char *path = mlc_config_file(cfg, "state_password_file");
        if (!path)
            return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        rc = read_password_file(path, password, err);
        free(path);
    } else if (mlc_vault_key_available()) {
        mlc_vault *v = NULL;
        rc = mlc_vault_open_profile(cfg, ctx->log, 0, &v, err);
        if (rc == MLC_ERR_NOTFOUND) /* no vault: no password from it */
            return MLC_OK;
        if (rc == MLC_OK) {
            const cJSON *pw = cJSON_GetObjectItemCaseSensitive(mlc_vault_get(v, MLC_CTX_STATE_VAULT_ENTRY), "password");
            if (cJSON_IsString(pw) && *pw->valuestring && !(*password = strdup(pw->valuestring)))
                rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        }
        mlc_vault_free(v);
    }
    if (*password)
        mlc_log_secret(ctx->log, *password);
    return rc;
}

mlc_err mlc_ctx_state_password_save(mlc_ctx *ctx, const char *password, char **vault_file, mlc_error *err)
{
    const mlc_config *cfg;
    mlc_vault *v = NULL;
    *vault_file = NULL;
    mlc_err rc = mlc_ctx_config(ctx, &cfg, err);
    if (!rc)
        rc = mlc_vault_open_for_update(cfg, ctx->log, &v, err);
    if (!rc && (rc = mlc_vault_lock(v, 30, err)) == MLC_OK) {
        cJSON *entry = cJSON_CreateObject();
        if (!entry || !cJSON_AddStringToObject(entry, "password", password)) {
            mlc_secret_json_free(entry);
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        }
        if (!rc && (rc = mlc_vault_reload(v, err)) != MLC_OK)
            mlc_secret_json_free(entry);
        if (!rc && (rc = mlc_vault_set(v, MLC_CTX_STATE_VAULT_ENTRY, entry, err)) == MLC_OK)
            rc = mlc_vault_save(v, err);
        mlc_vault_unlock(v);
    }
    if (!rc && !(*vault_file = strdup(mlc_vault_file(v))))
        rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    mlc_vault_free(v);
    return rc;
}

/* "file:line:col: " of a setting, for messages. */
static void where(const mlc_config *cfg, const char *key, char *out, size_t cap)
{
    const mlc_config_node *n = mlc_config_node_at(cfg, key);
    snprintf(out, cap, "%s:%d:%d: %s", mlc_config_path(cfg), mlc_config_node_line(n), mlc_config_node_col(n), key);
}

/* The location only (no password read). */
static mlc_err state_location(mlc_ctx *ctx, char **location, mlc_error *err)
{
    const mlc_config *cfg;
    char at[600];
    *location = NULL;
    mlc_err rc = mlc_ctx_config(ctx, &cfg, err);
    if (rc)
        return rc;
    const char *state = mlc_config_str(cfg, "state"), *url = mlc_config_str(cfg, "state_url");
    const char *key = url ? "state_url" : "state";
    if (state && url) {
        where(cfg, "state_url", at, sizeof at);
        return mlc_error_set(err, MLC_ERR_CONFIG, "%s: set either state or state_url, not both", at);
    }
    const char *value = url ? url : state;
    if (value && mlc_store_is_url(value)) {
        if ((rc = mlc_store_url_check(value, err)) != MLC_OK) {
            where(cfg, key, at, sizeof at);
            return mlc_error_prefix(err, "%s", at);
        }
        *location = strdup(value);
        return *location ? MLC_OK : mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    if (value && strcmp(value, "sqlite") != 0) {
        where(cfg, key, at, sizeof at);
        return mlc_error_set(err, MLC_ERR_CONFIG, "%s: must be sqlite or a postgresql:// URL, not '%s'", at, value);
    }
    char *dir = mlc_config_state_dir(cfg);
    char path[PATH_MAX];
    if (!dir)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    snprintf(path, sizeof path, "%s/%s.db", dir, mlc_config_profile(cfg));
    free(dir);
    *location = strdup(path);
    return *location ? MLC_OK : mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
}

mlc_err mlc_ctx_state_location(mlc_ctx *ctx, char **location, char **password, mlc_error *err)
{
    *password = NULL;
    mlc_err rc = state_location(ctx, location, err);
    if (rc || !mlc_store_is_url(*location))
        return rc;
    if ((rc = mlc_ctx_state_password(ctx, password, err)) != MLC_OK) {
        free(*location);
        *location = NULL;
    }
    return rc;
}

int mlc_ctx_state_exists(mlc_ctx *ctx)
{
    char *location = NULL;
    mlc_error err;
    if (state_location(ctx, &location, &err) != MLC_OK)
        return 0;
    int yes = mlc_store_is_url(location) || access(location, F_OK) == 0;
    free(location);
    return yes;
}

mlc_err mlc_ctx_store(mlc_ctx *ctx, mlc_store **out, mlc_error *err)
{
    if (!ctx->store) {
        const mlc_config *cfg;
        char *location, *password;
        mlc_err rc = mlc_ctx_config(ctx, &cfg, err);
        if (rc || (rc = mlc_ctx_state_location(ctx, &location, &password, err)) != MLC_OK)
            return rc;
        mlc_store_opts o = {.location = location, .password = password, .profile = mlc_config_profile(cfg)};
        rc = mlc_store_open_with(&o, &ctx->store, err);
        free(location);
        mlc_ctx_free_password(password);
        if (rc)
            return rc;
        run_begin_row(ctx);
    }
    *out = ctx->store;
    return MLC_OK;
}

mlc_trace *mlc_ctx_trace(mlc_ctx *ctx) { return ctx->trace; }

mlc_err mlc_ctx_open_trace(mlc_ctx *ctx, const char *path, mlc_error *err)
{
    mlc_trace *t;
    mlc_err rc = mlc_trace_open(path, ctx->log, &t, err);
    if (rc)
        return rc;
    mlc_trace_close(ctx->trace, NULL);
    ctx->trace = t;
    return MLC_OK;
}

void mlc_ctx_run_start(mlc_ctx *ctx, const char *command)
{
    snprintf(ctx->run_command, sizeof ctx->run_command, "%s", command);
    ctx->run_started = (int64_t)time(NULL);
    ctx->run_id = 0;
}

void mlc_ctx_run_finish(mlc_ctx *ctx, int exit_code)
{
    mlc_error e = {0};
    mlc_store *st;
    if (!ctx->run_command[0])
        return;
    if (mlc_ctx_store(ctx, &st, &e)) {
        mlc_log_debug(ctx->log, "run record: %s", e.msg);
        return;
    }
    run_begin_row(ctx);
    if (!ctx->run_id)
        return;
    cJSON *c = cJSON_CreateObject();
    cJSON_AddNumberToObject(c, "errors", (double)mlc_log_count(ctx->log, MLC_LOG_ERROR));
    cJSON_AddNumberToObject(c, "warnings", (double)mlc_log_count(ctx->log, MLC_LOG_WARN));
    cJSON_AddNumberToObject(c, "http_requests", (double)mlc_trace_count(ctx->trace));
    if (*mlc_log_last_info(ctx->log))
        cJSON_AddStringToObject(c, "summary", mlc_log_last_info(ctx->log));
    char *counts = c ? cJSON_PrintUnformatted(c) : NULL;
    cJSON_Delete(c);
    const char *error = mlc_log_last_error(ctx->log);
    int64_t now = (int64_t)time(NULL);
    if (mlc_store_run_end(st, ctx->run_id, now, exit_code, counts, *error ? error : NULL, &e) ||
        mlc_store_run_prune(st, now - RUN_KEEP_DAYS * 86400, &e))
        mlc_log_debug(ctx->log, "run record: %s", e.msg);
    free(counts);
    ctx->run_command[0] = '\0';
}

int mlc_ctx_catch_stop_signals(mlc_ctx *ctx)
{
    struct sigaction sa;
    (void)ctx;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESTART | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
        return -1;
    return 0;
}

int mlc_ctx_stopping(mlc_ctx *ctx)
{
    if (!ctx->stop_sig && stop_signal) {
        ctx->stop_sig = (int)stop_signal;
        mlc_log_warn(ctx->log, "%s received: finishing the call in flight, starting nothing new",
                     ctx->stop_sig == SIGINT ? "SIGINT" : "SIGTERM");
    }
    return ctx->stop_sig;
}

int mlc_ctx_exit_code(mlc_ctx *ctx, int rc)
{
    int sig = mlc_ctx_stopping(ctx);
    return sig ? 128 + sig : rc;
}
