/*
 * setup.h: the one place that turns a profile's configuration into the clients'
 * options (mlc_m3_opts, mlc_ss_opts), and reads shipstation.api.
 *
 *     mlc_setup_m3 s;
 *     rc = mlc_setup_m3_opts(cfg, log, trace, NULL, &s, &err);   // config -> options
 *     rc = mlc_m3_new_with(&s.opts, &m3, &err);                 // options -> client
 *     mlc_setup_m3_release(&s);
 *
 * mlc_m3_new() and mlc_ss_new() (declared in m3.h and shipstation.h) are these
 * steps with the context's config, log and trace, and are defined here.
 * shipstation.api is parsed here only (any case, as mlc.yaml(5) documents; lib/config
 * refuses any other value at load): mlc_setup_ss_api() is what every command and
 * module asks.
 *
 * Not here: the clients themselves (lib/m3, lib/shipstation), the schema and its
 * defaults (lib/config), the credential formats (lib/ionapi, lib/sscreds).
 * Ownership: a mlc_setup_* filled by mlc_setup_*_opts() is the caller's, emptied by
 * mlc_setup_*_release() (keys wiped); release is safe on a zeroed struct and after
 * a failed setup. mlc_m3_new_with() takes the ion and vault of mlc_setup_m3.opts
 * (own_ion/own_vault): release after it frees only what the client copied.
 */
#ifndef MLC_SETUP_H
#define MLC_SETUP_H

#include "config.h"
#include "error.h"
#include "log.h"
#include "m3.h"
#include "shipstation.h"
#include "sscreds.h"
#include "vault.h"

struct mlc_trace;

/* Options for mlc_m3_new_with() and what they point to. */
typedef struct mlc_setup_m3 {
    mlc_m3_opts opts; /* ion (own_ion), vault (own_vault when opened here) */
    char *source;     /* opts.source: "vault" or the .ionapi path */
} mlc_setup_m3;

/* cloudsuite.cono, .divi, .timeout, .token_margin, .select_columns, .bulk_company, retry.base_ms,
 * .cap_ms, .max_attempts, and the credentials: vault entry "cloudsuite" (vault
 * borrowed; NULL: the profile's vault is opened, created when a key is at hand, for
 * the token cache) else cloudsuite.ionapi. log and trace borrowed, may be NULL.
 * mlc_m3_new() warns when the token will not be cached at all (no vault and no
 * state shared between hosts). */
mlc_err mlc_setup_m3_opts(const mlc_config *cfg, mlc_log *log, struct mlc_trace *trace, mlc_vault *vault,
                          mlc_setup_m3 *out, mlc_error *err);
/* Frees source, and ion/vault when mlc_m3_new_with() was not given them (call
 * mlc_setup_m3_handed_over() after handing them over). */
void mlc_setup_m3_release(mlc_setup_m3 *s);
/* Marks ion and vault as the client's (after mlc_m3_new_with(), whatever its outcome). */
void mlc_setup_m3_handed_over(mlc_setup_m3 *s);

/* Options for mlc_ss_new_with() and what they point to. */
typedef struct mlc_setup_ss {
    mlc_ss_opts opts;   /* points into creds and state_dir */
    mlc_sscreds creds;  /* from mlc_sscreds_resolve() */
    char *state_dir;    /* opts.state_dir */
} mlc_setup_ss;

/* shipstation.api, .v2_url, .v1_url, .timeout, .rate_limit_v2, .rate_limit_v1,
 * .rate_window (0.001-604800 s, else MLC_ERR_CONFIG), retry.base_ms, .cap_ms,
 * .max_attempts, the state directory, and the keys (lib/sscreds: vault entry
 * "shipstation", else shipstation.api_key_file, .v1_key_file; vault borrowed, NULL:
 * the profile's vault is opened if it exists and a key is available). MLC_ERR_CONFIG
 * with no key at all. log and trace borrowed. */
mlc_err mlc_setup_ss_opts(const mlc_config *cfg, mlc_log *log, struct mlc_trace *trace, mlc_vault *vault,
                          mlc_setup_ss *out, mlc_error *err);
void mlc_setup_ss_release(mlc_setup_ss *s);

/* The ShipStation API version to use: override ("v1"/"v2", e.g. a command's --api)
 * when given, else the profile's shipstation.api; any case; V2 unless it says v1. */
mlc_ss_version mlc_setup_ss_api(const mlc_config *cfg, const char *override);

#endif
