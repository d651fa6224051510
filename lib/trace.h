/*
 * trace.h: HTTP traces for support: every HTTP exchange of a run written as an
 * HTTP Archive (HAR 1.2, http://www.softwareishard.com/blog/har-12-spec/) file,
 * the `--trace FILE` option of every command. lib/http calls mlc_trace_add()
 * after each attempt when its opts name a trace.
 *
 * Redaction (a trace is what a customer sends to support, so it must hold no
 * secret): the values of Authorization, Proxy-Authorization, api-key, x-api-key,
 * Cookie and Set-Cookie headers are "***" (the Authorization scheme word stays);
 * a form body (the ION token and revoke requests: client secret, password,
 * refresh token) is never written, only its size; a response body that holds a
 * token (access_token, refresh_token, id_token) is never written; every string
 * (URL, headers, bodies) is also passed through the log's secret registry
 * (client secrets, API keys, webhook tokens, tokens), so a registered secret that
 * appears anywhere shows as "***".
 *
 * The file is streamed: the HAR head is written at open, each entry as it
 * happens, the closing brackets at close; the file is created 0600 and is valid
 * JSON once closed. Without a path the trace only counts exchanges (for the run
 * record).
 *
 * Not here: HTTP itself (lib/http), replaying a HAR (mlc-sim --replay).
 * Ownership: mlc_trace_open() -> mlc_trace_close(); the log is borrowed.
 */
#ifndef MLC_TRACE_H
#define MLC_TRACE_H

#include "error.h"
#include "log.h"
#include <stddef.h>

typedef struct mlc_trace mlc_trace;
struct mlc_http_response;

/* path NULL: count only. The file is truncated. */
mlc_err mlc_trace_open(const char *path, mlc_log *log, mlc_trace **out, mlc_error *err);
/* Writes the end of the file and frees. NULL-safe. Returns MLC_ERR_IO if any
 * write failed (after logging it once). */
mlc_err mlc_trace_close(mlc_trace *t, mlc_error *err);

typedef struct mlc_trace_request {
    const char *method;
    const char *url;
    const char *const *headers;  /* "Name: value", NULL-terminated, or NULL */
    const char *body;
    size_t body_len;
    int secret_body;             /* form body with secrets: size only */
} mlc_trace_request;

/* One exchange. resp may be NULL or have status 0 (no response: error says why).
 * started_ms: wall clock (epoch ms) at the start; elapsed_ms: its duration. */
void mlc_trace_add(mlc_trace *t, const mlc_trace_request *req, const struct mlc_http_response *resp,
                   double started_ms, double elapsed_ms, const char *error);

/* Exchanges seen so far. */
long mlc_trace_count(const mlc_trace *t);

#endif
