/*
 * shipstation.h: the raw ShipStation client, V2 and V1.
 *
 * V2: base shipstation.v2_url (https://api.shipstation.com), paths "/v2/...",
 * header `api-key: <key>`.  V1: base shipstation.v1_url
 * (https://ssapi.shipstation.com), HTTP Basic key:secret.  A profile may have
 * either or both.  Keys (lib/sscreds): vault entry "shipstation" ({"v2_key",
 * "v1_key", "v1_secret"}), else the files named by shipstation.api_key_file (the
 * V2 key) and shipstation.v1_key_file ("key:secret"); key files must not be
 * group- or world-readable.
 *
 * Every attempt first takes a slot from the cross-process rate limiter
 * (lib/ratelimit, one per (system "shipstation-v2"/"shipstation-v1", key
 * fingerprint), budget shipstation.rate_limit_v2/_v1 per shipstation.rate_window)
 * and every response is reported back to it (X-Rate-Limit-Limit/-Remaining/
 * -Reset, Retry-After).  Idempotent requests are retried by lib/http on 429/5xx.
 *
 * Return codes of mlc_ss_request(): MLC_OK for 2xx; MLC_ERR_AUTH for 401/403;
 * MLC_ERR_NOTFOUND for 404; MLC_ERR_TRANSIENT for 429/5xx/timeouts/resets;
 * MLC_ERR_REMOTE for other 4xx; MLC_ERR_UNAVAILABLE if unreachable;
 * MLC_ERR_CONFIG if that API version has no key.  Error messages carry the
 * parsed error body (V2 {request_id, errors[]}, V1 {Message, ModelState} or
 * {message}), never a key.
 *
 * Not here: what the endpoints mean (the flows build paths and bodies),
 * date conversion (V1 Pacific time), webhooks.
 * Ownership: mlc_ss_new*() -> mlc_ss_free().  A response filled by
 * mlc_ss_request() belongs to the caller: mlc_ss_response_free() (also after an
 * error; safe on a zeroed struct).  Items returned by mlc_ss_list_page() are
 * borrowed from the response.
 */
#ifndef MLC_SHIPSTATION_H
#define MLC_SHIPSTATION_H

#include "ctx.h"
#include "error.h"
#include "http.h"
#include "vault.h"
#include <cjson/cJSON.h>

typedef struct mlc_ss mlc_ss;

typedef enum mlc_ss_version { MLC_SS_V1 = 1, MLC_SS_V2 = 2 } mlc_ss_version;

#define MLC_SS_VAULT_ENTRY "shipstation"

typedef struct mlc_ss_response {
    long status;            /* 0 if no HTTP response arrived */
    cJSON *json;            /* parsed body, or NULL (empty or not JSON) */
    mlc_http_response http; /* raw body and headers */
} mlc_ss_response;

/* What a client is made of (libcurl style: zero is the default for every field). */
typedef struct mlc_ss_opts {
    const char *v2_url, *v1_url;  /* shipstation.v2_url/v1_url; NULL = the public hosts */
    const char *v2_key;           /* copied; NULL = no V2 */
    const char *v1_key, *v1_secret; /* copied; NULL = no V1 */
    const char *v2_source, *v1_source; /* where the keys came from; copied; NULL = "(given)" */
    mlc_ss_version api;           /* shipstation.api: the preferred version; 0 = V2 */
    const char *state_dir;        /* rate-limit state; NULL = no shared limiter */
    struct mlc_store *store;      /* borrowed; non-NULL: the rate budget is the store's
                                   * shared value (a state several hosts share,
                                   * lib/sharing) instead of the file in state_dir */
    int rate_limit_v2, rate_limit_v1; /* per window; 0 = 200 / 40 */
    int rate_window_ms;           /* shipstation.rate_window; 0 = 60000 */
    mlc_http_opts http;           /* shipstation.timeout, retry.*, trace, log */
    mlc_log *log;                 /* borrowed; secrets get registered */
} mlc_ss_opts;

mlc_err mlc_ss_new_with(const mlc_ss_opts *opts, mlc_ss **out, mlc_error *err);
/* From the context: lib/setup turns the profile's config into mlc_ss_opts
 * (mlc_setup_ss_opts, keys from lib/sscreds) and calls
 * mlc_ss_new_with(). Defined in lib/setup.c. vault borrowed, may be NULL (then the
 * profile's vault is opened if it exists and a key is available). */
mlc_err mlc_ss_new(mlc_ctx *ctx, mlc_vault *vault, mlc_ss **out, mlc_error *err);
void mlc_ss_free(mlc_ss *ss);

int mlc_ss_has(const mlc_ss *ss, mlc_ss_version v);          /* credentials for v? */
mlc_ss_version mlc_ss_preferred(const mlc_ss *ss);           /* shipstation.api */
const char *mlc_ss_base_url(const mlc_ss *ss, mlc_ss_version v);
/* First 8 hex digits of SHA-256 of the key (V1: "key:secret"); "" if none. */
const char *mlc_ss_fingerprint(const mlc_ss *ss, mlc_ss_version v);
/* Where the keys came from ("vault", a file path, "(given)"); "" if none. */
const char *mlc_ss_source(const mlc_ss *ss, mlc_ss_version v);
/* Requests left in the shared budget (-1 if unknown). */
int mlc_ss_remaining(mlc_ss *ss, mlc_ss_version v);

/* method: "GET", "POST", ...; path_and_query: "/v2/shipments?page=2" (or an
 * absolute URL on the configured host, e.g. a webhook resource_url: any other
 * host is refused so the key never goes elsewhere).  body: JSON or NULL. */
mlc_err mlc_ss_request(mlc_ss *ss, mlc_ss_version v, const char *method,
                       const char *path_and_query, const cJSON *body, int idempotent,
                       mlc_ss_response *resp, mlc_error *err);
void mlc_ss_response_free(mlc_ss_response *resp);
const char *mlc_ss_response_header(const mlc_ss_response *resp, const char *name);

/* One page of a list: appends page and page size (V2 page/page_size, V1
 * page/pageSize) to path_and_query.  *items: the collection array (the V2/V1
 * envelope member `collection`, or the body itself for V1's bare arrays);
 * *has_more: another page follows. */
mlc_err mlc_ss_list_page(mlc_ss *ss, mlc_ss_version v, const char *path_and_query,
                         const char *collection, int page, int page_size, mlc_ss_response *resp,
                         const cJSON **items, int *has_more, mlc_error *err);
/* Page info of an envelope (V2 {page, pages, total, links}; V1 {page, pages,
 * total}); -1 for absent numbers. *has_next from pages, or V2 links.next.href. */
void mlc_ss_page_info(const cJSON *json, int *page, int *pages, int *total, int *has_next);
/* Human message from an error body (V2 errors[], V1 Message/ModelState/message),
 * written to buf; falls back to the start of the raw body. */
void mlc_ss_error_text(const cJSON *json, const char *raw, char *buf, size_t bufsz);

/* Checks an absolute URL's scheme and host against the version's base URL
 * (V1 also accepts ssapiN.shipstation.com when the base is ssapi.shipstation.com). */
mlc_err mlc_ss_check_url(const mlc_ss *ss, mlc_ss_version v, const char *url, mlc_error *err);

#endif
