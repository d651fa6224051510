/*
 * http.c: the one libcurl wrapper (see http.h): timeouts, TLS, loopback-only
 * plain http, header capture, body cap, transient classification, retries of
 * idempotent requests with lib/backoff, redacted debug logging.
 * Not here: authentication, JSON, rate-limit budgets.
 */
#include "http.h"
#include "backoff.h"
#include "trace.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifndef MLC_VERSION
#define MLC_VERSION "dev"
#endif

#define HTTP_DEFAULT_TIMEOUT 65
#define HTTP_DEFAULT_CONNECT 10
#define HTTP_DEFAULT_MAX_BODY ((size_t)64 << 20)
#define HTTP_MAX_RETRY_AFTER_MS (300L * 1000) /* longer waits are left to the caller */

struct mlc_http {
    CURL *curl;
    mlc_backoff *backoff;
    mlc_log *log;
    mlc_trace *trace;
    long timeout_s;
    long connect_timeout_s;
    size_t max_body;
    char user_agent[64];
};

/* Per-attempt receive state. */
typedef struct rx {
    mlc_http_response *resp;
    size_t cap;
    size_t max_body;
    int too_big;
    int nomem;
} rx;

mlc_err mlc_http_new(const mlc_http_opts *opts, mlc_http **out, mlc_error *err)
{
    mlc_http_opts o = {0};
    if (opts)
        o = *opts;
    mlc_http *h = calloc(1, sizeof *h);
    if (!h)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    h->curl = curl_easy_init();
    if (!h->curl) {
        free(h);
        return mlc_error_set(err, MLC_ERR_NOMEM, "curl_easy_init failed");
    }
    h->log = o.log;
    h->trace = o.trace;
    h->timeout_s = o.timeout_s > 0 ? o.timeout_s : HTTP_DEFAULT_TIMEOUT;
    h->connect_timeout_s = o.connect_timeout_s > 0 ? o.connect_timeout_s : HTTP_DEFAULT_CONNECT;
    h->max_body = o.max_body > 0 ? o.max_body : HTTP_DEFAULT_MAX_BODY;
    h->backoff = mlc_backoff_new(o.retry_base_ms > 0 ? o.retry_base_ms : 500,
                                 o.retry_cap_ms > 0 ? o.retry_cap_ms : 30000,
                                 o.max_attempts > 0 ? o.max_attempts : 5, o.seed);
    if (!h->backoff) {
        curl_easy_cleanup(h->curl);
        free(h);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    snprintf(h->user_agent, sizeof h->user_agent, "%s",
             o.user_agent ? o.user_agent : "mlc/" MLC_VERSION);
    *out = h;
    return MLC_OK;
}

void mlc_http_free(mlc_http *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->curl);
    mlc_backoff_free(h->backoff);
    free(h);
}

static void free_headers(mlc_http_response *r)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    r->headers = NULL;
    r->nheaders = 0;
}

void mlc_http_response_free(mlc_http_response *resp)
{
    if (!resp)
        return;
    free(resp->body);
    free_headers(resp);
    memset(resp, 0, sizeof *resp);
}

const char *mlc_http_response_header(const mlc_http_response *resp, const char *name)
{
    if (!resp || !name)
        return NULL;
    for (size_t i = resp->nheaders; i-- > 0;)
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    return NULL;
}

int mlc_http_status_transient(long status)
{
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

/* ---- URL policy --------------------------------------------------------- */

int mlc_http_host_is_loopback(const char *host)
{
    if (!host || !*host)
        return 0;
    if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0)
        return 1;
    if (strcmp(host, "::1") == 0 || strcmp(host, "[::1]") == 0)
        return 1;
    /* 127.0.0.0/8 as a dotted quad of decimal numbers */
    int parts[4], n = 0;
    const char *p = host;
    while (n < 4) {
        if (!isdigit((unsigned char)*p))
            return 0;
        long v = 0;
        int digits = 0;
        while (isdigit((unsigned char)*p) && digits < 4) {
            v = v * 10 + (*p - '0');
            p++;
            digits++;
        }
        if (digits == 0 || digits > 3 || v > 255)
            return 0;
        parts[n++] = (int)v;
        if (n < 4) {
            if (*p != '.')
                return 0;
            p++;
        }
    }
    return *p == '\0' && parts[0] == 127;
}

const char *mlc_http_url_masked(const char *url, char *out, size_t cap)
{
    if (!cap)
        return out;
    if (!url) {
        snprintf(out, cap, "%s", "(null)");
        return out;
    }
    /* the authority runs from after "//" (or the start) to the first / ? # */
    const char *auth = strstr(url, "//");
    auth = auth ? auth + 2 : url;
    size_t alen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@')
            at = auth + i; /* the last '@' ends the user information */
    if (at)
        snprintf(out, cap, "%.*s***%s", (int)(auth - url), url, at);
    else
        snprintf(out, cap, "%s", url);
    return out;
}

mlc_err mlc_http_check_url(const char *url, mlc_error *err)
{
    char shown[256];
    if (!url || !*url)
        return mlc_error_set(err, MLC_ERR_CONFIG, "empty URL");
    CURLU *u = curl_url();
    if (!u)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    char *scheme = NULL, *host = NULL;
    mlc_err rc = MLC_OK;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        rc = mlc_error_set(err, MLC_ERR_CONFIG, "invalid URL '%.200s'", mlc_http_url_masked(url, shown, sizeof shown));
    } else if (strcasecmp(scheme, "https") == 0) {
        rc = MLC_OK;
    } else if (strcasecmp(scheme, "http") == 0) {
        if (!mlc_http_host_is_loopback(host))
            rc = mlc_error_set(err, MLC_ERR_CONFIG,
                               "refusing plain http to non-loopback host '%.100s': use https "
                               "(http is allowed only for 127.0.0.0/8, ::1 and localhost)",
                               host);
    } else {
        rc = mlc_error_set(err, MLC_ERR_CONFIG, "unsupported URL scheme '%.20s' in '%.200s'", scheme,
                           mlc_http_url_masked(url, shown, sizeof shown));
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

char *mlc_http_urlencode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = malloc(n * 3 + 1), *o = out;
    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

/* ---- redaction ---------------------------------------------------------- */

static const char *secret_headers[] = {"authorization", "proxy-authorization", "api-key",
                                       "cookie", "set-cookie", "x-api-key"};

size_t mlc_http_redact_header(const char *line, char *out, size_t outsz)
{
    if (!outsz)
        return 0;
    const char *colon = strchr(line, ':');
    size_t nlen = colon ? (size_t)(colon - line) : strlen(line);
    int secret = 0;
    for (size_t i = 0; colon && i < sizeof secret_headers / sizeof *secret_headers; i++)
        if (strlen(secret_headers[i]) == nlen && strncasecmp(line, secret_headers[i], nlen) == 0)
            secret = 1;
    int w;
    if (secret) {
        /* keep the scheme word of Authorization ("Bearer", "Basic") */
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        const char *sp = strchr(v, ' ');
        if (sp && strncasecmp(line, "authorization", nlen) == 0 && sp - v < 16)
            w = snprintf(out, outsz, "%.*s: %.*s ***", (int)nlen, line, (int)(sp - v), v);
        else
            w = snprintf(out, outsz, "%.*s: ***", (int)nlen, line);
    } else {
        w = snprintf(out, outsz, "%s", line);
    }
    if (w < 0)
        return 0;
    return (size_t)w < outsz ? (size_t)w : outsz - 1;
}

static const char *secret_fields[] = {"password", "client_secret", "refresh_token", "token",
                                      "access_token", "username", "client_assertion"};

void mlc_http_redact_form(char *body)
{
    if (!body)
        return;
    char *p = body;
    while (*p) {
        char *amp = strchr(p, '&');
        char *end = amp ? amp : p + strlen(p);
        char *eq = memchr(p, '=', (size_t)(end - p));
        if (eq) {
            size_t klen = (size_t)(eq - p);
            int secret = 0;
            for (size_t i = 0; i < sizeof secret_fields / sizeof *secret_fields; i++)
                if (strlen(secret_fields[i]) == klen && strncmp(p, secret_fields[i], klen) == 0)
                    secret = 1;
            if (secret && end > eq + 1) {
                /* replace the value with *** */
                size_t tail = strlen(end);
                memcpy(eq + 1, "***", 3);
                memmove(eq + 4, end, tail + 1);
                end = eq + 4;
            }
        }
        if (!*end)
            break;
        p = end + 1;
    }
}

/* ---- curl callbacks ----------------------------------------------------- */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    rx *r = ud;
    size_t n = size * nmemb;
    mlc_http_response *resp = r->resp;
    if (resp->body_len + n > r->max_body) {
        r->too_big = 1;
        return 0; /* aborts the transfer */
    }
    if (resp->body_len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < resp->body_len + n + 1)
            cap *= 2;
        char *nb = realloc(resp->body, cap);
        if (!nb) {
            r->nomem = 1;
            return 0;
        }
        resp->body = nb;
        r->cap = cap;
    }
    memcpy(resp->body + resp->body_len, ptr, n);
    resp->body_len += n;
    resp->body[resp->body_len] = '\0';
    return n;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
    rx *r = ud;
    size_t n = size * nitems;
    mlc_http_response *resp = r->resp;
    if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        /* a new status line (100 Continue, ...): keep only the last response's headers */
        free_headers(resp);
        return n;
    }
    const char *colon = memchr(buf, ':', n);
    if (!colon)
        return n;
    size_t nlen = (size_t)(colon - buf);
    const char *v = colon + 1;
    const char *end = buf + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    if (resp->nheaders >= 256)
        return n;
    mlc_http_header *nh = realloc(resp->headers, (resp->nheaders + 1) * sizeof *nh);
    if (!nh) {
        r->nomem = 1;
        return 0;
    }
    resp->headers = nh;
    nh[resp->nheaders].name = strndup(buf, nlen);
    nh[resp->nheaders].value = strndup(v, (size_t)(end - v));
    if (!nh[resp->nheaders].name || !nh[resp->nheaders].value) {
        free(nh[resp->nheaders].name);
        free(nh[resp->nheaders].value);
        r->nomem = 1;
        return 0;
    }
    resp->nheaders++;
    return n;
}

/* ---- request ------------------------------------------------------------ */

static void sleep_ms(long ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* Retry-After in ms (delta-seconds form only; HTTP dates are ignored); -1 if absent. */
static long retry_after_ms(const mlc_http_response *resp)
{
    const char *v = mlc_http_response_header(resp, "Retry-After");
    if (!v || !isdigit((unsigned char)*v))
        return -1;
    char *end;
    long s = strtol(v, &end, 10);
    if (s < 0)
        return -1;
    if (s > 3600)
        s = 3600;
    return s * 1000;
}

static mlc_err classify_curl(CURLcode cc, const char *errbuf, const char *method, const char *url,
                             mlc_error *err)
{
    const char *detail = errbuf && *errbuf ? errbuf : curl_easy_strerror(cc);
    char shown[256];
    url = mlc_http_url_masked(url, shown, sizeof shown);
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return mlc_error_set(err, MLC_ERR_UNAVAILABLE, "%s %.200s: %s", method, url, detail);
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return mlc_error_set(err, MLC_ERR_TRANSIENT, "%s %.200s: %s", method, url, detail);
    default:
        return mlc_error_set(err, MLC_ERR_UNAVAILABLE, "%s %.200s: %s", method, url, detail);
    }
}

static void debug_request(mlc_http *h, const mlc_http_request *req, int attempt)
{
    if (!h->log || mlc_log_get_level(h->log) < MLC_LOG_DEBUG)
        return;
    char shown[512];
    mlc_log_debug(h->log, "> %s %s%s", req->method, mlc_http_url_masked(req->url, shown, sizeof shown),
                  attempt > 0 ? " (retry)" : "");
    for (const char *const *hp = req->headers; hp && *hp; hp++) {
        char line[512];
        mlc_http_redact_header(*hp, line, sizeof line);
        mlc_log_debug(h->log, "> %s", line);
    }
    if (req->body && req->body_len) {
        size_t n = req->body_len < 2048 ? req->body_len : 2048;
        char *copy = strndup(req->body, n);
        if (copy) {
            if (req->form_body)
                mlc_http_redact_form(copy);
            mlc_log_debug(h->log, "> body (%zu bytes): %s%s", req->body_len, copy,
                          n < req->body_len ? "..." : "");
            free(copy);
        }
    }
}

static void debug_response(mlc_http *h, const mlc_http_response *resp)
{
    if (!h->log || mlc_log_get_level(h->log) < MLC_LOG_DEBUG)
        return;
    mlc_log_debug(h->log, "< %ld (%zu bytes, %.0f ms)", resp->status, resp->body_len,
                  resp->elapsed_ms);
    for (size_t i = 0; i < resp->nheaders; i++) {
        char raw[600], line[600];
        snprintf(raw, sizeof raw, "%s: %s", resp->headers[i].name, resp->headers[i].value);
        mlc_http_redact_header(raw, line, sizeof line);
        mlc_log_debug(h->log, "< %s", line);
    }
    if (resp->body_len) {
        size_t n = resp->body_len < 2048 ? resp->body_len : 2048;
        char *copy = strndup(resp->body, n);
        if (copy) {
            /* token responses carry secrets; log's registry masks known ones */
            if (strstr(copy, "access_token") || strstr(copy, "refresh_token"))
                mlc_log_debug(h->log, "< body: (token response, not shown)");
            else
                mlc_log_debug(h->log, "< body: %s%s", copy, n < resp->body_len ? "..." : "");
            free(copy);
        }
    }
}

/* One attempt. Returns MLC_OK if any HTTP response arrived. */
static mlc_err attempt_once(mlc_http *h, const mlc_http_request *req, mlc_http_response *resp,
                            mlc_error *err)
{
    CURL *c = h->curl;
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = NULL;
    rx r = {.resp = resp, .max_body = h->max_body};

    const char *method = req->method ? req->method : "GET";
    int idempotent = req->idempotent || !strcmp(method, "GET") || !strcmp(method, "HEAD");
    curl_easy_reset(c); /* keeps the connection cache */
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, h->connect_timeout_s);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, h->timeout_s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, h->user_agent);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    /* libcurl silently re-sends a request whose reused connection died before any
     * response byte: harmless for reads, a double post for a receipt the server
     * already applied. Non-idempotent requests therefore never ride on a reused
     * connection, so a failure reaches the caller (who reconciles) instead. */
    curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, idempotent ? 0L : 1L);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->max_body);

    for (const char *const *hp = req->headers; hp && *hp; hp++) {
        struct curl_slist *n = curl_slist_append(hdrs, *hp);
        if (!n) {
            curl_slist_free_all(hdrs);
            return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        }
        hdrs = n;
    }
    /* no "Expect: 100-continue" round trip */
    struct curl_slist *n = curl_slist_append(hdrs, "Expect:");
    if (n)
        hdrs = n;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);

    const char *m = req->method ? req->method : "GET";
    curl_mime *mime = NULL;
    if (strcmp(m, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(m, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else {
        if (strcmp(m, "POST") != 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
        if (req->nparts) {
            mime = curl_mime_init(c);
            for (size_t i = 0; mime && i < req->nparts; i++) {
                const mlc_http_part *p = &req->parts[i];
                curl_mimepart *mp = curl_mime_addpart(mime);
                if (!mp || curl_mime_name(mp, p->name) != CURLE_OK ||
                    curl_mime_data(mp, p->data, p->len) != CURLE_OK ||
                    (p->filename && curl_mime_filename(mp, p->filename) != CURLE_OK) ||
                    (p->content_type && curl_mime_type(mp, p->content_type) != CURLE_OK)) {
                    curl_mime_free(mime);
                    mime = NULL;
                }
            }
            if (!mime) {
                curl_slist_free_all(hdrs);
                curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
                return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory building a multipart body");
            }
            curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
        } else {
            curl_easy_setopt(c, CURLOPT_POST, 1L);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)(req->body ? req->body_len : 0));
        }
    }

    double t0 = now_ms();
    CURLcode cc = curl_easy_perform(c);
    resp->elapsed_ms = now_ms() - t0;
    curl_slist_free_all(hdrs);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    if (mime) {
        curl_easy_setopt(c, CURLOPT_MIMEPOST, NULL);
        curl_mime_free(mime);
    }

    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);

    if (r.nomem)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory reading response");
    if (r.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
        char shown[256];
        return mlc_error_set(err, MLC_ERR_REMOTE, "%s %.200s: response body exceeds %zu bytes", m,
                             mlc_http_url_masked(req->url, shown, sizeof shown), h->max_body);
    }
    if (cc != CURLE_OK) {
        resp->status = 0;
        return classify_curl(cc, errbuf, m, req->url, err);
    }
    resp->status = status;
    if (!resp->body) {
        resp->body = calloc(1, 1);
        if (!resp->body)
            return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    return MLC_OK;
}

mlc_err mlc_http_do(mlc_http *h, const mlc_http_request *req, mlc_http_response *resp,
                    mlc_error *err)
{
    memset(resp, 0, sizeof *resp);
    if (!req || !req->url)
        return mlc_error_set(err, MLC_ERR_USAGE, "http: no URL");
    mlc_err rc = mlc_http_check_url(req->url, err);
    if (rc)
        return rc;
    const char *m = req->method ? req->method : "GET";
    int idem = req->idempotent || strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
    int max_attempts = idem ? mlc_backoff_max_attempts(h->backoff) : 1;
    if (max_attempts < 1)
        max_attempts = 1;

    for (int attempt = 0;; attempt++) {
        mlc_http_response_free(resp);
        resp->attempts = attempt + 1;
        if (req->before) {
            rc = req->before(req->hook_ud, err);
            if (rc)
                return rc;
        }
        debug_request(h, req, attempt);
        double started = h->trace ? wall_ms() : 0;
        rc = attempt_once(h, req, resp, err);
        resp->attempts = attempt + 1;
        if (h->trace) {
            mlc_trace_request tr = {m, req->url, req->headers, req->body, req->body_len, req->form_body};
            mlc_trace_add(h->trace, &tr, rc == MLC_OK ? resp : NULL, started, resp->elapsed_ms,
                          rc && err ? err->msg : NULL);
        }
        if (rc == MLC_OK) {
            debug_response(h, resp);
            if (req->after)
                req->after(req->hook_ud, resp);
            if (!mlc_http_status_transient(resp->status))
                return MLC_OK;
            char shown[256];
            rc = mlc_error_set(err, MLC_ERR_TRANSIENT, "%s %.200s: HTTP %ld", m,
                               mlc_http_url_masked(req->url, shown, sizeof shown), resp->status);
        } else {
            if (h->log)
                mlc_log_debug(h->log, "< %s", err ? err->msg : mlc_err_name(rc));
            /* no answer (status 0): the attempt is over all the same (a budget's
             * in-flight request ends here) */
            if (req->after)
                req->after(req->hook_ud, resp);
        }
        if (rc != MLC_ERR_TRANSIENT || attempt + 1 >= max_attempts) {
            if (rc == MLC_ERR_TRANSIENT && attempt > 0 && err)
                mlc_error_prefix(err, "after %d attempts", attempt + 1);
            return rc;
        }
        long delay = mlc_backoff_delay_ms(h->backoff, attempt);
        long ra = retry_after_ms(resp);
        if (ra > HTTP_MAX_RETRY_AFTER_MS) {
            /* not worth holding a run for: let the caller's queue retry later */
            if (err)
                mlc_error_prefix(err, "server asks to retry after %ld s", ra / 1000);
            return rc;
        }
        if (ra > delay)
            delay = ra;
        char shown[512];
        if (h->log)
            mlc_log_info(h->log, "%s %s: %s; retrying in %ld ms (attempt %d of %d)", m,
                         mlc_http_url_masked(req->url, shown, sizeof shown),
                         resp->status ? "transient HTTP status" : "transient failure", delay, attempt + 2,
                         max_attempts);
        sleep_ms(delay);
    }
}
