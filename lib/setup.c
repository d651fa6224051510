/*
 * setup.c: profile config -> client options (see setup.h): mlc_setup_m3_opts,
 * mlc_setup_ss_opts, the one reading of shipstation.api, and mlc_m3_new /
 * mlc_ss_new (setup, then the client's _new_with).
 * Not here: the clients (lib/m3.c, lib/shipstation.c), the schema (lib/config.c),
 * credential formats (lib/ionapi.c, lib/sscreds.c).
 */
#include "setup.h"
#include "ctx.h"
#include "ionapi.h"
#include "sharing.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

mlc_ss_version mlc_setup_ss_api(const mlc_config *cfg, const char *override)
{
    const char *api = override ? override : mlc_config_str(cfg, "shipstation.api");
    return api && strcasecmp(api, "v1") == 0 ? MLC_SS_V1 : MLC_SS_V2;
}

static mlc_http_opts http_opts(const mlc_config *cfg, const char *timeout_key, mlc_log *log,
                               struct mlc_trace *trace)
{
    mlc_http_opts ho = {.timeout_s = (long)mlc_config_int(cfg, timeout_key),
                        .retry_base_ms = (long)mlc_config_int(cfg, "retry.base_ms"),
                        .retry_cap_ms = (long)mlc_config_int(cfg, "retry.cap_ms"),
                        .max_attempts = (int)mlc_config_int(cfg, "retry.max_attempts"),
                        .log = log,
                        .trace = trace};
    return ho;
}

/* ---- M3 ----------------------------------------------------------------- */

void mlc_setup_m3_handed_over(mlc_setup_m3 *s)
{
    s->opts.own_ion = 0;
    s->opts.own_vault = 0;
}

void mlc_setup_m3_release(mlc_setup_m3 *s)
{
    if (!s)
        return;
    if (s->opts.own_ion)
        mlc_ionapi_free(s->opts.ion);
    if (s->opts.own_vault)
        mlc_vault_free(s->opts.vault);
    free(s->source);
    memset(s, 0, sizeof *s);
}

mlc_err mlc_setup_m3_opts(const mlc_config *cfg, mlc_log *log, struct mlc_trace *trace, mlc_vault *vault,
                          mlc_setup_m3 *out, mlc_error *err)
{
    memset(out, 0, sizeof *out);
    int own_vault = 0;
    mlc_err rc;
    if (!vault) {
        mlc_error verr = {0};
        /* create the vault only to cache tokens when a key is at hand */
        int flags = mlc_vault_key_available() ? MLC_VAULT_CREATE : MLC_VAULT_PROMPT;
        rc = mlc_vault_open_profile(cfg, log, flags, &vault, &verr);
        if (rc == MLC_OK) {
            own_vault = 1;
        } else if (rc == MLC_ERR_NOTFOUND) {
            vault = NULL;
        } else if (rc == MLC_ERR_CONFIG && mlc_config_str(cfg, "cloudsuite.ionapi")) {
            mlc_log_debug(log, "%s", verr.msg);
            vault = NULL;
        } else {
            if (err)
                *err = verr;
            return rc;
        }
    }
    mlc_ionapi *ion = NULL;
    rc = mlc_ionapi_resolve(cfg, vault, &ion, &out->source, err);
    if (rc) {
        if (own_vault)
            mlc_vault_free(vault);
        return rc;
    }
    out->opts = (mlc_m3_opts){
        .ion = ion,
        .own_ion = 1,
        .vault = vault,
        .own_vault = own_vault,
        .http_opts = http_opts(cfg, "cloudsuite.timeout", log, trace),
        .token_margin = (long)mlc_config_int(cfg, "cloudsuite.token_margin"),
        .log = log,
        .cono = mlc_config_int(cfg, "cloudsuite.cono"),
        .divi = mlc_config_str(cfg, "cloudsuite.divi"),
        .all_columns = !mlc_config_bool(cfg, "cloudsuite.select_columns"),
        .bulk_company = !strcmp(mlc_config_str(cfg, "cloudsuite.bulk_company"), "body")    ? MLC_M3_BULK_COMPANY_BODY
                        : !strcmp(mlc_config_str(cfg, "cloudsuite.bulk_company"), "query") ? MLC_M3_BULK_COMPANY_QUERY
                                                                                          : MLC_M3_BULK_COMPANY_BOTH,
        .source = out->source,
    };
    return MLC_OK;
}

mlc_err mlc_m3_new(mlc_ctx *ctx, mlc_vault *vault, mlc_m3 **out, mlc_error *err)
{
    const mlc_config *cfg = NULL;
    mlc_err rc = mlc_ctx_config(ctx, &cfg, err);
    if (rc)
        return rc;
    mlc_setup_m3 s;
    rc = mlc_setup_m3_opts(cfg, mlc_ctx_log(ctx), mlc_ctx_trace(ctx), vault, &s, err);
    if (!rc) {
        rc = mlc_m3_new_with(&s.opts, out, err);
        mlc_setup_m3_handed_over(&s);
    }
    /* a state shared between hosts caches the ION token for all of them (lib/sharing) */
    mlc_store *shared = rc ? NULL : mlc_sharing_store(ctx);
    if (shared)
        mlc_sharing_ionapi_cache(mlc_m3_ionapi(*out), shared);
    else if (!rc && !s.opts.vault)
        mlc_log_warn(mlc_ctx_log(ctx), "no vault key (MLC_VAULT_KEY or MLC_VAULT_KEY_FILE): the ION token "
                                       "cannot be cached, so every run logs in again (Infor allows about "
                                       "1,000 logins a day)");
    mlc_setup_m3_release(&s);
    return rc;
}

/* ---- ShipStation -------------------------------------------------------- */

void mlc_setup_ss_release(mlc_setup_ss *s)
{
    if (!s)
        return;
    mlc_sscreds_clear(&s->creds);
    free(s->state_dir);
    memset(s, 0, sizeof *s);
}

mlc_err mlc_setup_ss_opts(const mlc_config *cfg, mlc_log *log, struct mlc_trace *trace, mlc_vault *vault,
                          mlc_setup_ss *out, mlc_error *err)
{
    memset(out, 0, sizeof *out);
    mlc_vault *own = NULL;
    mlc_err rc;
    if (!vault) {
        mlc_error verr = {0};
        rc = mlc_vault_open_profile(cfg, log, MLC_VAULT_PROMPT, &own, &verr);
        if (rc == MLC_OK)
            vault = own;
        else if (rc != MLC_ERR_NOTFOUND &&
                 !(rc == MLC_ERR_CONFIG && (mlc_config_str(cfg, "shipstation.api_key_file") ||
                                            mlc_config_str(cfg, "shipstation.v1_key_file")))) {
            if (err)
                *err = verr;
            return rc;
        }
    }
    rc = mlc_sscreds_resolve(cfg, vault, &out->creds, err);
    mlc_vault_free(own);
    if (!rc && !out->creds.v2_key && !out->creds.v1_key)
        rc = mlc_error_set(err, MLC_ERR_CONFIG,
                           "no ShipStation credentials: run `mlc creds add shipstation "
                           "--v2-key-file FILE` (or --v1-key-file), or set "
                           "shipstation.api_key_file in %s",
                           mlc_config_path(cfg));
    if (rc) {
        mlc_setup_ss_release(out);
        return rc;
    }
    double window_s = mlc_config_double(cfg, "shipstation.rate_window");
    if (!(window_s >= 0.001 && window_s <= 7 * 24 * 3600)) {
        const mlc_config_node *n = mlc_config_node_at(cfg, "shipstation.rate_window");
        mlc_setup_ss_release(out);
        return mlc_error_set(err, MLC_ERR_CONFIG,
                             "%s:%d:%d: shipstation.rate_window: %g is not between 0.001 and 604800 seconds",
                             mlc_config_path(cfg), mlc_config_node_line(n), mlc_config_node_col(n), window_s);
    }
    out->state_dir = mlc_config_state_dir(cfg);
    if (!out->state_dir) {
        mlc_setup_ss_release(out);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    out->opts = (mlc_ss_opts){
        .v2_url = mlc_config_str(cfg, "shipstation.v2_url"),
        .v1_url = mlc_config_str(cfg, "shipstation.v1_url"),
        .v2_key = out->creds.v2_key,
        .v1_key = out->creds.v1_key,
        .v1_secret = out->creds.v1_secret,
        .v2_source = out->creds.v2_source,
        .v1_source = out->creds.v1_source,
        .api = mlc_setup_ss_api(cfg, NULL),
        .state_dir = out->state_dir,
        .rate_limit_v2 = (int)mlc_config_int(cfg, "shipstation.rate_limit_v2"),
        .rate_limit_v1 = (int)mlc_config_int(cfg, "shipstation.rate_limit_v1"),
        .rate_window_ms = (int)(window_s * 1000 + 0.5), /* in range: checked above */
        .http = http_opts(cfg, "shipstation.timeout", log, trace),
        .log = log,
    };
    return MLC_OK;
}

mlc_err mlc_ss_new(mlc_ctx *ctx, mlc_vault *vault, mlc_ss **out, mlc_error *err)
{
    const mlc_config *cfg = NULL;
    mlc_err rc = mlc_ctx_config(ctx, &cfg, err);
    if (rc)
        return rc;
    mlc_setup_ss s;
    rc = mlc_setup_ss_opts(cfg, mlc_ctx_log(ctx), mlc_ctx_trace(ctx), vault, &s, err);
    /* a state shared between hosts keeps the rate budget (lib/sharing), so that
     * every host's processes together stay within it; a local one, its file */
    if (!rc)
        s.opts.store = mlc_sharing_store(ctx);
    if (!rc)
        rc = mlc_ss_new_with(&s.opts, out, err);
    mlc_setup_ss_release(&s);
    return rc;
}
