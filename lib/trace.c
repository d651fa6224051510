/*
 * trace.c: HAR 1.2 trace files with redaction (see trace.h).
 * Not here: HTTP (lib/http calls in), replay (mlc-sim).
 */
#include "trace.h"
#include "http.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#ifndef MLC_VERSION
#define MLC_VERSION "dev"
#endif

struct mlc_trace {
    FILE *f;
    mlc_log *log;
    long count;
    int failed;
    char path[512];
};

mlc_err mlc_trace_open(const char *path, mlc_log *log, mlc_trace **out, mlc_error *err)
{
    mlc_trace *t = calloc(1, sizeof *t);
    *out = NULL;
    if (!t)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    t->log = log;
    if (path) {
        snprintf(t->path, sizeof t->path, "%s", path);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || !(t->f = fdopen(fd, "w"))) {
            int e = errno;
            if (fd >= 0)
                close(fd);
            free(t);
            return mlc_error_set(err, MLC_ERR_IO, "--trace %s: %s", path, strerror(e));
        }
        fprintf(t->f, "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"mlc\",\"version\":\"%s\"},"
                      "\"pages\":[],\"entries\":[",
                MLC_VERSION);
    }
    *out = t;
    return MLC_OK;
}

mlc_err mlc_trace_close(mlc_trace *t, mlc_error *err)
{
    if (!t)
        return MLC_OK;
    mlc_err rc = MLC_OK;
    if (t->f) {
        fputs("\n]}}\n", t->f);
        if (fclose(t->f) != 0 || t->failed)
            rc = mlc_error_set(err, MLC_ERR_IO, "--trace %s: write failed", t->path);
    }
    free(t);
    return rc;
}

long mlc_trace_count(const mlc_trace *t) { return t ? t->count : 0; }

/* ---- building an entry ---- */

static void add_str(mlc_trace *t, cJSON *o, const char *k, const char *v, size_t n)
{
    char *c = strndup(v ? v : "", v ? n : 0);
    if (!c)
        return;
    mlc_log_redact(t->log, c);
    cJSON_AddStringToObject(o, k, c);
    free(c);
}

static void add_pair(mlc_trace *t, cJSON *arr, const char *name, size_t nlen, const char *value)
{
    cJSON *p = cJSON_CreateObject();
    add_str(t, p, "name", name, nlen);
    add_str(t, p, "value", value, strlen(value));
    cJSON_AddItemToArray(arr, p);
}

/* A header line, redacted by lib/http's rules, as {name, value}. */
static void add_header(mlc_trace *t, cJSON *arr, const char *line)
{
    char red[2048];
    mlc_http_redact_header(line, red, sizeof red);
    const char *colon = strchr(red, ':');
    if (!colon)
        return;
    const char *v = colon + 1;
    while (*v == ' ')
        v++;
    add_pair(t, arr, red, (size_t)(colon - red), v);
}

static void add_query(mlc_trace *t, cJSON *arr, const char *url)
{
    const char *q = strchr(url, '?');
    if (!q)
        return;
    q++;
    const char *hash = strchr(q, '#');
    const char *end = hash ? hash : q + strlen(q);
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *e = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(e - q));
        if (e > q) {
            char *val = strndup(eq ? eq + 1 : "", eq ? (size_t)(e - eq - 1) : 0);
            if (val) {
                add_pair(t, arr, q, (size_t)((eq ? eq : e) - q), val);
                free(val);
            }
        }
        q = e + 1;
    }
}

static const char *reason(long s)
{
    switch (s) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
    }
}

static const char *req_header(const char *const *h, const char *name)
{
    size_t n = strlen(name);
    for (; h && *h; h++)
        if (strncasecmp(*h, name, n) == 0 && (*h)[n] == ':') {
            const char *v = *h + n + 1;
            while (*v == ' ')
                v++;
            return v;
        }
    return NULL;
}

static int holds_token(const char *body)
{
    return strstr(body, "access_token") || strstr(body, "refresh_token") || strstr(body, "id_token");
}

void mlc_trace_add(mlc_trace *t, const mlc_trace_request *req, const struct mlc_http_response *resp,
                   double started_ms, double elapsed_ms, const char *error)
{
    if (!t)
        return;
    t->count++;
    if (!t->f || t->failed)
        return;
    cJSON *e = cJSON_CreateObject();
    char when[40];
    time_t secs = (time_t)(started_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t w = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + w, sizeof when - w, ".%03dZ", (int)((long long)started_ms % 1000));
    cJSON_AddStringToObject(e, "startedDateTime", when);
    cJSON_AddNumberToObject(e, "time", elapsed_ms);

    cJSON *rq = cJSON_AddObjectToObject(e, "request");
    cJSON_AddStringToObject(rq, "method", req->method ? req->method : "GET");
    add_str(t, rq, "url", req->url, strlen(req->url));
    cJSON_AddStringToObject(rq, "httpVersion", "HTTP/1.1");
    cJSON_AddArrayToObject(rq, "cookies");
    cJSON *hs = cJSON_AddArrayToObject(rq, "headers");
    for (const char *const *h = req->headers; h && *h; h++)
        add_header(t, hs, *h);
    add_query(t, cJSON_AddArrayToObject(rq, "queryString"), req->url);
    if (req->body && req->body_len) {
        cJSON *pd = cJSON_AddObjectToObject(rq, "postData");
        const char *ct = req_header(req->headers, "Content-Type");
        cJSON_AddStringToObject(pd, "mimeType",
                                ct ? ct : req->secret_body ? "application/x-www-form-urlencoded" : "");
        if (req->secret_body)
            cJSON_AddStringToObject(pd, "text", "");
        else
            add_str(t, pd, "text", req->body, req->body_len);
        if (req->secret_body)
            cJSON_AddStringToObject(pd, "comment", "form body with credentials: not recorded");
    }
    cJSON_AddNumberToObject(rq, "headersSize", -1);
    cJSON_AddNumberToObject(rq, "bodySize", req->body ? (double)req->body_len : 0);

    cJSON *rs = cJSON_AddObjectToObject(e, "response");
    long status = resp ? resp->status : 0;
    cJSON_AddNumberToObject(rs, "status", (double)status);
    cJSON_AddStringToObject(rs, "statusText", reason(status));
    cJSON_AddStringToObject(rs, "httpVersion", status ? "HTTP/1.1" : "");
    cJSON_AddArrayToObject(rs, "cookies");
    hs = cJSON_AddArrayToObject(rs, "headers");
    const char *mime = "";
    for (size_t i = 0; status && i < resp->nheaders; i++) {
        char line[2048];
        snprintf(line, sizeof line, "%s: %s", resp->headers[i].name, resp->headers[i].value);
        add_header(t, hs, line);
        if (strcasecmp(resp->headers[i].name, "Content-Type") == 0)
            mime = resp->headers[i].value;
    }
    cJSON *ct = cJSON_AddObjectToObject(rs, "content");
    size_t blen = status && resp->body ? resp->body_len : 0;
    cJSON_AddNumberToObject(ct, "size", (double)blen);
    cJSON_AddStringToObject(ct, "mimeType", mime);
    if (blen) {
        if (req->secret_body || holds_token(resp->body))
            cJSON_AddStringToObject(ct, "comment", "token response: not recorded");
        else
            add_str(t, ct, "text", resp->body, blen);
    }
    const char *loc = status ? mlc_http_response_header(resp, "Location") : NULL;
    add_str(t, rs, "redirectURL", loc ? loc : "", loc ? strlen(loc) : 0);
    cJSON_AddNumberToObject(rs, "headersSize", -1);
    cJSON_AddNumberToObject(rs, "bodySize", status ? (double)blen : -1);
    if (!status && error)
        add_str(t, rs, "_error", error, strlen(error));

    cJSON_AddObjectToObject(e, "cache");
    cJSON *tm_ = cJSON_AddObjectToObject(e, "timings");
    cJSON_AddNumberToObject(tm_, "send", 0);
    cJSON_AddNumberToObject(tm_, "wait", elapsed_ms);
    cJSON_AddNumberToObject(tm_, "receive", 0);

    char *s = cJSON_PrintUnformatted(e);
    cJSON_Delete(e);
    if (!s || fprintf(t->f, "%s\n%s", t->count > 1 ? "," : "", s) < 0 || fflush(t->f) != 0) {
        t->failed = 1;
        mlc_log_error(t->log, "--trace %s: cannot write (%s); tracing stops", t->path,
                      s ? strerror(errno) : "out of memory");
    }
    free(s);
}
