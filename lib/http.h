/*
 * http.h: the one libcurl wrapper of libmlc.
 *
 * One mlc_http owns one CURL easy handle, so connections are kept alive and
 * reused across requests.  Every request: connect timeout 10 s, a total timeout
 * (default 65 s, just above the ION gateway's 60 s cutoff), TLS peer and host
 * verification always on, redirects never followed, plain http refused unless
 * the host is loopback (127.0.0.0/8, ::1, localhost).  Response headers are
 * captured (for the rate limiter: X-Rate-Limit-*, Retry-After), bodies are
 * capped (default 64 MiB).  Debug logging shows method, URL, status and timing;
 * Authorization and api-key header values and form secrets are masked.
 *
 * Errors:  MLC_OK is returned whenever an HTTP response arrived and its status is
 * not transient; callers map 4xx themselves.  429/500/502/503/504, timeouts,
 * resets and empty replies are MLC_ERR_TRANSIENT (with the response, if any,
 * still filled in); DNS failure, connection refused and TLS failures are
 * MLC_ERR_UNAVAILABLE.  Idempotent requests (GET/HEAD, or idempotent=1) are
 * retried on transient failures with exponential backoff and full jitter
 * (lib/backoff), waiting at least Retry-After when the server sends it (a
 * Retry-After over 5 minutes ends the retries: the caller's queue takes over);
 * non-idempotent requests are never retried here.
 *
 * curl_global_init() must have been called once by the tool (cmd/mlc.c, or the
 * test main) before the first mlc_http_new(); libmlc never calls it.
 *
 * Not here: authentication schemes (ionapi, shipstation add their headers),
 * rate-limit budgets (lib/ratelimit; hook in through before/after callbacks),
 * JSON.
 * Ownership: mlc_http_new() -> mlc_http_free().  A response filled by
 * mlc_http_do() is owned by the caller and released with
 * mlc_http_response_free() (safe on a zeroed or already-freed struct).
 */
#ifndef MLC_HTTP_H
#define MLC_HTTP_H

#include "error.h"
#include "log.h"
#include <stddef.h>

typedef struct mlc_http mlc_http;
struct mlc_trace;

typedef struct mlc_http_opts {
    long timeout_s;          /* total per attempt; 0 = 65 */
    long connect_timeout_s;  /* 0 = 10 */
    size_t max_body;         /* response body cap; 0 = 64 MiB */
    long retry_base_ms;      /* 0 = 500 */
    long retry_cap_ms;       /* 0 = 30000 */
    int max_attempts;        /* total attempts for idempotent requests; 0 = 5, 1 = no retry */
    unsigned long long seed; /* backoff jitter seed; 0 = random */
    mlc_log *log;            /* borrowed; may be NULL */
    const char *user_agent;  /* NULL = "mlc/<version>" */
    struct mlc_trace *trace; /* borrowed; every attempt is added to it (lib/trace); may be NULL */
} mlc_http_opts;

typedef struct mlc_http_header {
    char *name;
    char *value;
} mlc_http_header;

typedef struct mlc_http_response {
    long status;             /* 0 if no HTTP response arrived */
    char *body;              /* NUL-terminated (body_len excludes the NUL); never NULL after a response */
    size_t body_len;
    mlc_http_header *headers;/* of the final response only */
    size_t nheaders;
    double elapsed_ms;       /* of the last attempt */
    int attempts;            /* how many attempts were made */
} mlc_http_response;

/* Called before each attempt (e.g. mlc_ratelimit_acquire). A non-OK return aborts
 * the request with that error. */
typedef mlc_err (*mlc_http_before_fn)(void *ud, mlc_error *err);
/* Called after each attempt (e.g. mlc_ratelimit_observe); resp->status is 0 when
 * no HTTP response came (connect error, reset, timeout). */
typedef void (*mlc_http_after_fn)(void *ud, const mlc_http_response *resp);

/* One part of a multipart/form-data body (curl's mime API builds it). */
typedef struct mlc_http_part {
    const char *name;          /* form field name */
    const char *filename;      /* or NULL */
    const char *content_type;  /* or NULL */
    const char *data;
    size_t len;
} mlc_http_part;

typedef struct mlc_http_request {
    const char *method;            /* "GET", "POST", ... */
    const char *url;
    const char *const *headers;    /* "Name: value" strings, NULL-terminated, or NULL */
    const char *body;              /* or NULL */
    size_t body_len;
    int idempotent;                /* retry POST/PUT/... on transient failures too */
    int form_body;                 /* body is x-www-form-urlencoded: mask its secrets in debug */
    const mlc_http_part *parts;    /* multipart/form-data body instead of body (POST) */
    size_t nparts;
    mlc_http_before_fn before;     /* optional hooks */
    mlc_http_after_fn after;
    void *hook_ud;
} mlc_http_request;

mlc_err mlc_http_new(const mlc_http_opts *opts, mlc_http **out, mlc_error *err);
void mlc_http_free(mlc_http *h);

/* Performs the request (with retries as described above). resp is cleared first. */
mlc_err mlc_http_do(mlc_http *h, const mlc_http_request *req, mlc_http_response *resp,
                    mlc_error *err);
void mlc_http_response_free(mlc_http_response *resp);

/* Last value of a response header, case-insensitive; NULL if absent. */
const char *mlc_http_response_header(const mlc_http_response *resp, const char *name);

/* Checks a URL may be used: https anywhere, http only for loopback hosts.
 * Returns MLC_ERR_CONFIG with a clear message otherwise. */
mlc_err mlc_http_check_url(const char *url, mlc_error *err);
/* url for messages and logs: user information ("user:password@") replaced by
 * "***@", the whole cut to fit cap (text, never a secret). Works on any text,
 * valid URL or not. Returns out. */
const char *mlc_http_url_masked(const char *url, char *out, size_t cap);
/* 1 if host (as in a URL, IPv6 possibly in brackets) is loopback. */
int mlc_http_host_is_loopback(const char *host);

/* Is this HTTP status transient (429, 500, 502, 503, 504)? */
int mlc_http_status_transient(long status);

/* Percent-encodes s (RFC 3986 unreserved kept). Caller frees; NULL on ENOMEM. */
char *mlc_http_urlencode(const char *s);

/* Copies a "Name: value" header line masking the value for Authorization,
 * Proxy-Authorization, api-key and Cookie; returns the length written. */
size_t mlc_http_redact_header(const char *line, char *out, size_t outsz);
/* Masks the values of secret fields (password, client_secret, refresh_token,
 * token, access_token, username, client_assertion) of an x-www-form-urlencoded
 * body in place. */
void mlc_http_redact_form(char *body);

#endif
