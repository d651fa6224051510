/*
 * ionapi.h: Infor ION API credentials (.ionapi files) and the OAuth2 token that
 * goes with them.
 *
 * Parsing is lenient: the file is JSON; ti ci cs iu pu ot are required, saak and
 * sask are needed for the service-account (password) grant, oa/or/cn and unknown
 * keys are accepted.  Non-JSON, binary data, files over 1 MiB and missing or
 * non-string keys are refused with an error that names the file and the key and
 * never shows a value.  URLs: token = pu + ot and revoke = pu + or, joined with
 * exactly one '/'; API base = iu + "/" + ti.
 *
 * Tokens: password grant (form POST to the token URL, client_id/client_secret in
 * the body), refresh_token grant when a refresh token was issued (falling back to
 * a new login if it is refused), revoke (Basic ci:cs, RFC 7009 form).  The token
 * is cached in the vault entry "cloudsuite.token" (when a vault is attached) so
 * separate processes reuse it; logins are serialised across processes with the
 * vault lock so a burst of cron jobs logs in once.  A token is refreshed when it
 * has less than the margin left (min(margin, lifetime/4)).  Every secret and
 * token is registered with the log.
 *
 * The vault entries "cloudsuite" and "bod" are written and removed here too
 * (mlc_ionapi_store, mlc_ionapi_remove, for `mlc creds`).
 *
 * Not here: M3 calls (lib/m3 uses mlc_ionapi_authorization() and calls
 * mlc_ionapi_invalidate() + retries once on a 401), the vault format.
 * Ownership: mlc_ionapi_parse()/mlc_ionapi_load()/mlc_ionapi_from_json() return
 * an object freed by mlc_ionapi_free() (which wipes the secrets).  http, vault
 * and log given to mlc_ionapi_attach() are borrowed and must outlive it.  Strings
 * returned by getters live as long as the object (the authorization header until
 * the next token change).
 */
#ifndef MLC_IONAPI_H
#define MLC_IONAPI_H

#include "config.h"
#include "error.h"
#include "http.h"
#include "log.h"
#include "vault.h"
#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct mlc_ionapi mlc_ionapi;

#define MLC_IONAPI_MAX_FILE (1u << 20)
#define MLC_IONAPI_VAULT_ENTRY "cloudsuite"
#define MLC_IONAPI_TOKEN_ENTRY "cloudsuite.token"
#define MLC_IONAPI_BOD_ENTRY "bod"
#define MLC_IONAPI_BOD_TOKEN_ENTRY "bod.token"

/* text: the file contents (need not be NUL-terminated); name: for messages. */
mlc_err mlc_ionapi_parse(const char *text, size_t len, const char *name, mlc_ionapi **out,
                         mlc_error *err);
mlc_err mlc_ionapi_load(const char *path, mlc_ionapi **out, mlc_error *err);
/* mlc_ionapi_load with lib/secret flags: MLC_SECRET_STDIN ("-" is stdin, named
 * "(stdin)"), MLC_SECRET_PRIVATE. A missing file is MLC_ERR_CONFIG. */
mlc_err mlc_ionapi_read(const char *path, int flags, mlc_ionapi **out, mlc_error *err);
/* From a JSON object (the vault entry), validated like a file. */
mlc_err mlc_ionapi_from_json(const cJSON *obj, const char *name, mlc_ionapi **out,
                             mlc_error *err);
/* The profile's credentials: vault entry "cloudsuite" if vault has one, else the
 * file named by config cloudsuite.ionapi (relative to the config file's dir; it
 * must not be group/world readable).  *source (caller frees) is "vault" or the
 * path.  MLC_ERR_CONFIG with a how-to if there are none. */
mlc_err mlc_ionapi_resolve(const mlc_config *cfg, const mlc_vault *vault, mlc_ionapi **out,
                           char **source, mlc_error *err);
/* The second credentials of a BOD profile (receipts.transport: bod), whose client
 * id is the one entered on the IMS connection point: vault entry "bod", else the
 * file named by bod.ionapi.  MLC_ERR_NOTFOUND when the profile has neither (the
 * profile's own credentials serve).  Their token is cached in "bod.token". */
mlc_err mlc_ionapi_resolve_bod(const mlc_config *cfg, const mlc_vault *vault, mlc_ionapi **out, char **source,
                               mlc_error *err);
/* The credentials as a JSON object (for the vault). Caller owns. */
cJSON *mlc_ionapi_to_json(const mlc_ionapi *ion);
/* Writes the vault entry "cloudsuite" (bod: "bod"), {"ionapi": {...}, "added_at":
 * RFC 3339}, and saves, under the vault lock. */
mlc_err mlc_ionapi_store(const mlc_ionapi *ion, mlc_vault *v, int bod, mlc_error *err);
/* Revokes the entry's cached token (warns if that fails: it expires on its own),
 * then removes the entry and its token cache and saves. http: for the revoke
 * call. MLC_ERR_NOTFOUND if the vault has no such entry. */
mlc_err mlc_ionapi_remove(mlc_vault *v, int bod, const mlc_http_opts *http, mlc_log *log, mlc_error *err);
/* What `mlc creds list` shows: {"kind":"credential","name":"cloudsuite",
 * "source", "tenant", "fingerprint", "service_account", "token_expires" (RFC 3339
 * or "none"), "token_valid"}: the cached token's expiry only when it belongs to
 * these credentials; never a secret. Caller deletes. */
cJSON *mlc_ionapi_describe(const mlc_ionapi *ion, const char *source, const mlc_vault *vault);
/* mlc_ionapi_describe of the profile's credentials (mlc_ionapi_resolve); NULL
 * when it has none (a vault entry that does not parse is warned about on log). */
cJSON *mlc_ionapi_describe_profile(const mlc_config *cfg, const mlc_vault *vault, mlc_log *log);
/* The API base and token URLs are https (plain http only to loopback: lib/http). */
mlc_err mlc_ionapi_check_urls(const mlc_ionapi *ion, mlc_error *err);
void mlc_ionapi_free(mlc_ionapi *ion);

const char *mlc_ionapi_tenant(const mlc_ionapi *ion);      /* ti */
const char *mlc_ionapi_client_id(const mlc_ionapi *ion);   /* ci (not a secret) */
const char *mlc_ionapi_app_name(const mlc_ionapi *ion);    /* cn, or "" */
const char *mlc_ionapi_token_url(const mlc_ionapi *ion);   /* pu + ot */
const char *mlc_ionapi_revoke_url(const mlc_ionapi *ion);  /* pu + or, or NULL */
const char *mlc_ionapi_api_base(const mlc_ionapi *ion);    /* iu + "/" + ti */
int mlc_ionapi_has_service_account(const mlc_ionapi *ion); /* saak and sask present */
/* First 8 hex digits of SHA-256 over ti, ci, cs, pu, ot, saak, sask: identifies
 * the credentials (a cached token belongs to exactly these). */
const char *mlc_ionapi_fingerprint(const mlc_ionapi *ion);

/* a + b with exactly one '/' between them. Caller frees. */
char *mlc_ionapi_join_url(const char *a, const char *b);

/* Registers cs, sask, saak (and later tokens) with log. */
void mlc_ionapi_register_secrets(const mlc_ionapi *ion, mlc_log *log);

/* Attaches what the token functions need. vault may be NULL (no cache);
 * margin_s: refresh this long before expiry (config cloudsuite.token_margin). */
void mlc_ionapi_attach(mlc_ionapi *ion, mlc_http *http, mlc_vault *vault, mlc_log *log,
                       long margin_s);

/* ---- a token cache shared between hosts ----
 * Where several hosts run one profile on a shared state database, the token is
 * cached there (lib/sharing binds this to the store) instead of in each host's
 * vault, so that together they log in once per token lifetime. Logins are then
 * serialised with the cache's lock, across hosts. The cache only ever sees the
 * token encrypted: AES-256-GCM under a key derived (HKDF-SHA256) from the
 * credentials' secrets (cs, and sask when present), which every host running
 * the profile holds, with a fresh random nonce per write and the value's name
 * as associated data. The token's expiry stands in clear before the sealed
 * part (authenticated with it), for `mlc status`. A value that does not decrypt
 * (other credentials, tampering) is ignored and replaced by the next login. */
typedef struct mlc_ionapi_cache {
    void *ud;
    /* Takes the named lock, waiting at most timeout_s (MLC_ERR_BUSY after). */
    mlc_err (*lock)(void *ud, const char *name, int timeout_s, mlc_error *err);
    void (*unlock)(void *ud, const char *name);
    /* The value called name: *data malloc'd (NULL, *len 0 when none). */
    mlc_err (*load)(void *ud, const char *name, unsigned char **data, size_t *len, mlc_error *err);
    /* Writes the value (len 0: forgets it). */
    mlc_err (*save)(void *ud, const char *name, const unsigned char *data, size_t len, mlc_error *err);
} mlc_ionapi_cache;
/* Caches the token through cache (copied; its ud borrowed) instead of the vault;
 * NULL goes back to the vault. Call after mlc_ionapi_attach. Value names:
 * "ion-token:<entry>:<fingerprint>"; lock "ion-login:<fingerprint>". */
void mlc_ionapi_set_cache(mlc_ionapi *ion, const mlc_ionapi_cache *cache);
/* Gives ion the shared cache src has, if any (its own value and lock names). */
void mlc_ionapi_share_cache_of(mlc_ionapi *ion, const mlc_ionapi *src);

/* A valid token, from memory, the vault cache, a refresh or a login (in that
 * order); *header is "Authorization: Bearer ...", owned by ion.  Errors:
 * MLC_ERR_AUTH (credentials refused), MLC_ERR_CONFIG (no service account keys),
 * MLC_ERR_UNAVAILABLE / MLC_ERR_TRANSIENT (token endpoint). */
mlc_err mlc_ionapi_authorization(mlc_ionapi *ion, const char **header, mlc_error *err);
/* Marks the current token as rejected (after a 401): the next
 * mlc_ionapi_authorization() refreshes it, unless another process already did. */
void mlc_ionapi_invalidate(mlc_ionapi *ion);
/* Revokes the refresh and access tokens (if the file has `or`) and removes the
 * cached token from the vault.  MLC_OK also when there was nothing to revoke. */
mlc_err mlc_ionapi_revoke(mlc_ionapi *ion, mlc_error *err);

/* Expiry (epoch seconds) of the token held, 0 if none. */
long long mlc_ionapi_token_expiry(const mlc_ionapi *ion);
/* Expiry (epoch seconds) of the token cached in the vault entry
 * "cloudsuite.token", 0 if none; reads expires_at only, never the token. */
long long mlc_ionapi_cached_expiry(const mlc_vault *vault);
/* Expiry (epoch seconds) of the token in the shared cache (mlc_ionapi_set_cache):
 * 0 if none, -1 with err set if the cache is unreadable or its value is not one
 * of ours. Reads the sealed value's clear expiry header only (the token stays
 * sealed and is not verified); a value written by mlc before that header is
 * opened for its expires_at, wiped with the rest. */
long long mlc_ionapi_shared_expiry(mlc_ionapi *ion, mlc_error *err);
/* Password-grant logins / refresh grants this object performed (diagnostics, tests). */
int mlc_ionapi_login_count(const mlc_ionapi *ion);
int mlc_ionapi_refresh_count(const mlc_ionapi *ion);

#endif
