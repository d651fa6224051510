/*
 * ctx.c: the per-run context: log, lazily loaded config, lazily opened store.
 * Not here: anything a subcommand does with them.
 */
#include "ctx.h"
#include "store.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mlc_ctx {
    mlc_log *log;
    char *config_path;
    char *profile;
    mlc_config *config;
    mlc_store *store;
};

mlc_ctx *mlc_ctx_new(const mlc_ctx_opts *opts)
{
    mlc_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    ctx->log = mlc_log_new(NULL, opts->log_format, opts->log_level);
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

mlc_err mlc_ctx_store(mlc_ctx *ctx, mlc_store **out, mlc_error *err)
{
    if (!ctx->store) {
        const mlc_config *cfg;
        char path[PATH_MAX];
        mlc_err rc = mlc_ctx_config(ctx, &cfg, err);
        if (rc)
            return rc;
        char *dir = mlc_config_state_dir(cfg);
        if (!dir)
            return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        snprintf(path, sizeof path, "%s/%s.db", dir, mlc_config_profile(cfg));
        free(dir);
        if ((rc = mlc_store_open(path, 0, &ctx->store, err)) != MLC_OK)
            return rc;
    }
    *out = ctx->store;
    return MLC_OK;
}
