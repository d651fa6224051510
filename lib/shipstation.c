/*
 * shipstation.c: raw ShipStation V2/V1 client (see shipstation.h): auth headers,
 * shared rate limiter around every attempt, error bodies, pagination envelopes,
 * host pinning of absolute URLs.
 * Not here: endpoint semantics (the flows), date conversion.
 */
#include "shipstation.h"
#include "ratelimit.h"
#include "secret.h"
#include "sharing.h"

#include <ctype.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_V2_URL "https://api.shipstation.com"
#define DEFAULT_V1_URL "https://ssapi.shipstation.com"

typedef struct ss_api {
    int present;
    char *base;
    char *auth_header;   /* "api-key: ..." or "Authorization: Basic ..." */
    char fingerprint[9];
    char *source;
    int limit;
    mlc_ratelimit *rl;   /* opened on first use */
    int rl_failed;
} ss_api;

struct mlc_ss {
    ss_api api[3]; /* [MLC_SS_V1], [MLC_SS_V2] */
    mlc_http *http;
    mlc_log *log;
    char *state_dir;
    mlc_store *store;    /* the budget's shared value when set (borrowed) */
    int window_ms;
    mlc_ss_version preferred;
};

static ss_api *api_of(mlc_ss *ss, mlc_ss_version v)
{
    return (v == MLC_SS_V1 || v == MLC_SS_V2) ? &ss->api[v] : NULL;
}

static const ss_api *capi_of(const mlc_ss *ss, mlc_ss_version v)
{
    return (v == MLC_SS_V1 || v == MLC_SS_V2) ? &ss->api[v] : NULL;
}

void mlc_ss_free(mlc_ss *ss)
{
    if (!ss)
        return;
    for (int i = 1; i <= 2; i++) {
        free(ss->api[i].base);
        mlc_secret_free_str(ss->api[i].auth_header);
        free(ss->api[i].source);
        mlc_ratelimit_close(ss->api[i].rl);
    }
    mlc_http_free(ss->http);
    free(ss->state_dir);
    free(ss);
}

static char *strip_slash(const char *u)
{
    size_t n = strlen(u);
    while (n > 0 && u[n - 1] == '/')
        n--;
    return strndup(u, n);
}

mlc_err mlc_ss_new_with(const mlc_ss_opts *o, mlc_ss **out, mlc_error *err)
{
    mlc_ss *ss = calloc(1, sizeof *ss);
    if (!ss)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    ss->log = o->log;
    ss->window_ms = o->rate_window_ms > 0 ? o->rate_window_ms : 60000;
    ss->store = o->store;
    ss->preferred = o->api == MLC_SS_V1 ? MLC_SS_V1 : MLC_SS_V2;
    mlc_err rc = MLC_OK;
    if (o->state_dir && !(ss->state_dir = strdup(o->state_dir)))
        rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    ss->api[MLC_SS_V2].base = strip_slash(o->v2_url ? o->v2_url : DEFAULT_V2_URL);
    ss->api[MLC_SS_V1].base = strip_slash(o->v1_url ? o->v1_url : DEFAULT_V1_URL);
    ss->api[MLC_SS_V2].limit = o->rate_limit_v2 > 0 ? o->rate_limit_v2 : 200;
    ss->api[MLC_SS_V1].limit = o->rate_limit_v1 > 0 ? o->rate_limit_v1 : 40;
    if (!rc && (!ss->api[1].base || !ss->api[2].base))
        rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    if (!rc && o->v2_key && *o->v2_key) {
        ss_api *a = &ss->api[MLC_SS_V2];
        rc = mlc_http_check_url(a->base, err);
        if (!rc) {
            size_t n = strlen(o->v2_key) + 16;
            a->auth_header = malloc(n);
            if (!a->auth_header)
                rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
            else
                snprintf(a->auth_header, n, "api-key: %s", o->v2_key);
            mlc_secret_fingerprint(o->v2_key, a->fingerprint);
            a->present = 1;
            mlc_log_secret(o->log, o->v2_key);
        }
    }
    if (!rc && o->v1_key && *o->v1_key) {
        ss_api *a = &ss->api[MLC_SS_V1];
        if (!o->v1_secret || !*o->v1_secret)
            rc = mlc_error_set(err, MLC_ERR_CONFIG, "ShipStation V1: API key without secret");
        if (!rc)
            rc = mlc_http_check_url(a->base, err);
        if (!rc) {
            size_t un = strlen(o->v1_key) + strlen(o->v1_secret) + 2;
            char *up = malloc(un);
            size_t bn = 4 * ((un + 2) / 3) + 1;
            unsigned char *b64 = malloc(bn);
            a->auth_header = malloc(bn + 32);
            if (!up || !b64 || !a->auth_header) {
                rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
            } else {
                snprintf(up, un, "%s:%s", o->v1_key, o->v1_secret);
                EVP_EncodeBlock(b64, (const unsigned char *)up, (int)strlen(up));
                snprintf(a->auth_header, bn + 32, "Authorization: Basic %s", (char *)b64);
                mlc_secret_fingerprint(up, a->fingerprint);
                a->present = 1;
                mlc_log_secret(o->log, o->v1_key);
                mlc_log_secret(o->log, o->v1_secret);
                mlc_log_secret(o->log, (char *)b64);
            }
            mlc_secret_free_str(up);
            if (b64)
                mlc_secret_free_str((char *)b64);
        }
    }
    if (!rc) {
        mlc_http_opts ho = o->http;
        if (!ho.log)
            ho.log = o->log;
        rc = mlc_http_new(&ho, &ss->http, err);
    }
    if (rc) {
        mlc_ss_free(ss);
        return rc;
    }
    const char *given[3] = {NULL, o->v1_source, o->v2_source};
    for (int i = 1; i <= 2; i++) {
        ss->api[i].source = strdup(!ss->api[i].present ? "" : given[i] ? given[i] : "(given)");
        if (!ss->api[i].source) {
            mlc_ss_free(ss);
            return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        }
    }
    *out = ss;
    return MLC_OK;
}

int mlc_ss_has(const mlc_ss *ss, mlc_ss_version v)
{
    const ss_api *a = capi_of(ss, v);
    return a && a->present;
}

mlc_ss_version mlc_ss_preferred(const mlc_ss *ss) { return ss->preferred; }

const char *mlc_ss_base_url(const mlc_ss *ss, mlc_ss_version v)
{
    const ss_api *a = capi_of(ss, v);
    return a ? a->base : "";
}

const char *mlc_ss_fingerprint(const mlc_ss *ss, mlc_ss_version v)
{
    const ss_api *a = capi_of(ss, v);
    return a && a->present ? a->fingerprint : "";
}

const char *mlc_ss_source(const mlc_ss *ss, mlc_ss_version v)
{
    const ss_api *a = capi_of(ss, v);
    return a && a->source ? a->source : "";
}

/* A wait for the rate window shows on a terminal (lib/log progress); only long
 * enough waits, so a steady paced run does not flicker. */
static void on_rate_wait(void *ud, long wait_ms)
{
    if (wait_ms >= 1000)
        mlc_log_progress_wait(ud, wait_ms, "ShipStation's rate window");
}

static mlc_ratelimit *limiter(mlc_ss *ss, mlc_ss_version v)
{
    ss_api *a = api_of(ss, v);
    if (!a || !a->present || (!ss->state_dir && !ss->store) || a->rl_failed)
        return a ? a->rl : NULL;
    if (!a->rl) {
        mlc_error err = {0};
        const char *sys = v == MLC_SS_V2 ? "shipstation-v2" : "shipstation-v1";
        mlc_err rc = ss->store ? mlc_sharing_ratelimit_open(ss->store, sys, a->fingerprint, a->limit, ss->window_ms,
                                                            &a->rl, &err)
                               : mlc_ratelimit_open(ss->state_dir, sys, a->fingerprint, a->limit, ss->window_ms,
                                                    &a->rl, &err);
        if (rc != MLC_OK) {
            a->rl_failed = 1;
            if (ss->log)
                mlc_log_warn(ss->log, "ShipStation rate limiter unavailable: %s", err.msg);
        } else if (ss->log) {
            mlc_ratelimit_on_wait(a->rl, on_rate_wait, ss->log);
        }
    }
    return a->rl;
}

int mlc_ss_remaining(mlc_ss *ss, mlc_ss_version v)
{
    mlc_ratelimit *rl = limiter(ss, v);
    return rl ? mlc_ratelimit_remaining(rl) : -1;
}

/* ---- URL pinning -------------------------------------------------------- */

static int host_matches(const char *base_host, const char *host)
{
    if (strcasecmp(base_host, host) == 0)
        return 1;
    /* webhook resource_urls may name ssapiN.shipstation.com */
    if (strcasecmp(base_host, "ssapi.shipstation.com") == 0 && strncasecmp(host, "ssapi", 5) == 0) {
        const char *p = host + 5;
        while (isdigit((unsigned char)*p))
            p++;
        return p > host + 5 && strcasecmp(p, ".shipstation.com") == 0;
    }
    return 0;
}

mlc_err mlc_ss_check_url(const mlc_ss *ss, mlc_ss_version v, const char *url, mlc_error *err)
{
    const ss_api *a = capi_of(ss, v);
    if (!a)
        return mlc_error_set(err, MLC_ERR_USAGE, "ShipStation: bad API version");
    CURLU *bu = curl_url(), *uu = curl_url();
    char *bs = NULL, *bh = NULL, *bp = NULL, *us = NULL, *uh = NULL, *up = NULL;
    mlc_err rc = MLC_OK;
    if (!bu || !uu || curl_url_set(bu, CURLUPART_URL, a->base, 0) != CURLUE_OK ||
        curl_url_set(uu, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(bu, CURLUPART_SCHEME, &bs, 0) != CURLUE_OK ||
        curl_url_get(bu, CURLUPART_HOST, &bh, 0) != CURLUE_OK ||
        curl_url_get(uu, CURLUPART_SCHEME, &us, 0) != CURLUE_OK ||
        curl_url_get(uu, CURLUPART_HOST, &uh, 0) != CURLUE_OK) {
        rc = mlc_error_set(err, MLC_ERR_INPUT, "ShipStation: invalid URL '%.200s'", url);
    } else {
        curl_url_get(bu, CURLUPART_PORT, &bp, CURLU_DEFAULT_PORT);
        curl_url_get(uu, CURLUPART_PORT, &up, CURLU_DEFAULT_PORT);
        if (strcasecmp(bs, us) != 0 || !host_matches(bh, uh) ||
            ((bp || up) && (!bp || !up || strcmp(bp, up) != 0)))
            rc = mlc_error_set(err, MLC_ERR_INPUT,
                               "refusing to send the ShipStation key to %s://%s: not the "
                               "configured host %s",
                               us, uh, a->base);
    }
    curl_free(bs);
    curl_free(bh);
    curl_free(bp);
    curl_free(us);
    curl_free(uh);
    curl_free(up);
    curl_url_cleanup(bu);
    curl_url_cleanup(uu);
    return rc;
}

/* ---- errors and pages --------------------------------------------------- */

static void append(char *buf, size_t sz, const char *s)
{
    size_t n = strlen(buf);
    if (n + 1 < sz)
        snprintf(buf + n, sz - n, "%s", s);
}

void mlc_ss_error_text(const cJSON *json, const char *raw, char *buf, size_t bufsz)
{
    if (!bufsz)
        return;
    buf[0] = '\0';
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(json, "errors");
    if (cJSON_IsArray(errors) && cJSON_GetArraySize(errors) > 0) {
        const cJSON *e;
        int i = 0;
        cJSON_ArrayForEach(e, errors)
        {
            if (i++ >= 3) {
                append(buf, bufsz, "; ...");
                break;
            }
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "error_code");
            const cJSON *src = cJSON_GetObjectItemCaseSensitive(e, "error_source");
            if (i > 1)
                append(buf, bufsz, "; ");
            append(buf, bufsz, cJSON_IsString(m) ? m->valuestring : "error");
            if (cJSON_IsString(c)) {
                append(buf, bufsz, " (");
                append(buf, bufsz, c->valuestring);
                if (cJSON_IsString(src) && strcmp(src->valuestring, "ShipStation") != 0) {
                    append(buf, bufsz, ", from ");
                    append(buf, bufsz, src->valuestring);
                }
                append(buf, bufsz, ")");
            }
        }
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(json, "request_id");
        if (cJSON_IsString(rid)) {
            append(buf, bufsz, " [request_id ");
            append(buf, bufsz, rid->valuestring);
            append(buf, bufsz, "]");
        }
        return;
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(json, "Message");
    if (!cJSON_IsString(m))
        m = cJSON_GetObjectItemCaseSensitive(json, "message");
    if (cJSON_IsString(m)) {
        append(buf, bufsz, m->valuestring);
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(json, "ModelState");
        const cJSON *f;
        cJSON_ArrayForEach(f, ms)
        {
            append(buf, bufsz, " ");
            append(buf, bufsz, f->string ? f->string : "");
            append(buf, bufsz, ":");
            const cJSON *x;
            if (cJSON_IsArray(f)) {
                cJSON_ArrayForEach(x, f) if (cJSON_IsString(x))
                {
                    append(buf, bufsz, " ");
                    append(buf, bufsz, x->valuestring);
                }
            } else if (cJSON_IsString(f)) {
                append(buf, bufsz, " ");
                append(buf, bufsz, f->valuestring);
            }
        }
        const cJSON *ex = cJSON_GetObjectItemCaseSensitive(json, "ExceptionMessage");
        if (cJSON_IsString(ex)) {
            append(buf, bufsz, ": ");
            append(buf, bufsz, ex->valuestring);
        }
        return;
    }
    if (raw && *raw) {
        size_t n = 0;
        for (const char *p = raw; *p && n + 1 < bufsz && n < 200; p++)
            buf[n++] = isprint((unsigned char)*p) ? *p : ' ';
        buf[n] = '\0';
    }
}

static int num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsNumber(v))
        return v->valueint; /* cJSON clamps it to int; casting valuedouble is undefined out of range */
    if (cJSON_IsString(v) && isdigit((unsigned char)v->valuestring[0]))
        return atoi(v->valuestring);
    return -1;
}

void mlc_ss_page_info(const cJSON *json, int *page, int *pages, int *total, int *has_next)
{
    int pg = num(json, "page"), pgs = num(json, "pages"), tot = num(json, "total");
    int next = 0;
    if (pg >= 0 && pgs >= 0)
        next = pg < pgs;
    const cJSON *links = cJSON_GetObjectItemCaseSensitive(json, "links");
    const cJSON *nx = cJSON_GetObjectItemCaseSensitive(links, "next");
    const cJSON *href = cJSON_GetObjectItemCaseSensitive(nx, "href");
    if (cJSON_IsString(href) && href->valuestring[0] && (pg < 0 || pgs < 0))
        next = 1;
    if (page)
        *page = pg;
    if (pages)
        *pages = pgs;
    if (total)
        *total = tot;
    if (has_next)
        *has_next = next;
}

/* ---- requests ----------------------------------------------------------- */

typedef struct hook_ud {
    mlc_ss *ss;
    mlc_ratelimit *rl;
} hook_ud;

static mlc_err before_attempt(void *ud, mlc_error *err)
{
    hook_ud *h = ud;
    return h->rl ? mlc_ratelimit_acquire(h->rl, err) : MLC_OK;
}

static void after_attempt(void *ud, const mlc_http_response *r)
{
    hook_ud *h = ud;
    if (h->rl)
        mlc_ratelimit_observe(h->rl, (int)r->status,
                              mlc_http_response_header(r, "X-Rate-Limit-Limit"),
                              mlc_http_response_header(r, "X-Rate-Limit-Remaining"),
                              mlc_http_response_header(r, "X-Rate-Limit-Reset"),
                              mlc_http_response_header(r, "Retry-After"));
}

void mlc_ss_response_free(mlc_ss_response *resp)
{
    if (!resp)
        return;
    cJSON_Delete(resp->json);
    mlc_http_response_free(&resp->http);
    memset(resp, 0, sizeof *resp);
}

const char *mlc_ss_response_header(const mlc_ss_response *resp, const char *name)
{
    return resp ? mlc_http_response_header(&resp->http, name) : NULL;
}

/* A wait in whole seconds (Retry-After's delta-seconds form, X-Rate-Limit-Reset) in
 * ms; 0 when absent or not a number (an HTTP date is not read: the limiter's own
 * window applies then). Capped at an hour. */
static long wait_ms(const char *v)
{
    if (!v)
        return 0;
    char *end;
    long s = strtol(v, &end, 10);
    if (end == v || s < 0)
        return 0;
    return (s > 3600 ? 3600 : s) * 1000;
}

mlc_err mlc_ss_request(mlc_ss *ss, mlc_ss_version v, const char *method,
                       const char *path_and_query, const cJSON *body, int idempotent,
                       mlc_ss_response *resp, mlc_error *err)
{
    memset(resp, 0, sizeof *resp);
    ss_api *a = api_of(ss, v);
    const char *vn = v == MLC_SS_V1 ? "V1" : "V2";
    if (!a)
        return mlc_error_set(err, MLC_ERR_USAGE, "ShipStation: bad API version %d", (int)v);
    if (!a->present)
        return mlc_error_set(err, MLC_ERR_CONFIG,
                             "ShipStation %s: no credentials (run `mlc creds add shipstation`)",
                             vn);
    if (!path_and_query || !*path_and_query)
        return mlc_error_set(err, MLC_ERR_USAGE, "ShipStation: empty path");
    char *url;
    if (strncasecmp(path_and_query, "http://", 7) == 0 ||
        strncasecmp(path_and_query, "https://", 8) == 0) {
        mlc_err rc = mlc_ss_check_url(ss, v, path_and_query, err);
        if (rc)
            return rc;
        url = strdup(path_and_query);
    } else {
        size_t n = strlen(a->base) + strlen(path_and_query) + 2;
        url = malloc(n);
        if (url)
            snprintf(url, n, "%s%s%s", a->base, path_and_query[0] == '/' ? "" : "/",
                     path_and_query);
    }
    char *json = body ? cJSON_PrintUnformatted(body) : NULL;
    if (!url || (body && !json)) {
        free(url);
        free(json);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    const char *hdrs[] = {a->auth_header, "Accept: application/json",
                          json ? "Content-Type: application/json" : NULL, NULL};
    hook_ud hu = {ss, limiter(ss, v)};
    const char *m = method ? method : "GET";
    mlc_http_request req = {.method = m, .url = url, .headers = hdrs, .body = json,
                            .body_len = json ? strlen(json) : 0, .idempotent = idempotent,
                            .before = before_attempt, .after = after_attempt, .hook_ud = &hu};
    mlc_err rc = mlc_http_do(ss->http, &req, &resp->http, err);
    resp->status = resp->http.status;
    if (resp->http.body_len)
        resp->json = cJSON_ParseWithLength(resp->http.body, resp->http.body_len);
    /* the path for messages: without the query (it may be long) */
    char what[160];
    snprintf(what, sizeof what, "ShipStation %s %s %.*s", vn, m,
             (int)strcspn(path_and_query, "?"), path_and_query);
    if (rc == MLC_OK && resp->status / 100 == 2) {
        rc = MLC_OK;
    } else if (resp->status) {
        char text[400];
        mlc_ss_error_text(resp->json, resp->http.body, text, sizeof text);
        long st = resp->status;
        mlc_err code = st == 401 || st == 403 ? MLC_ERR_AUTH
                       : st == 404            ? MLC_ERR_NOTFOUND
                       : mlc_http_status_transient(st) || st >= 500 ? MLC_ERR_TRANSIENT
                                                                   : MLC_ERR_REMOTE;
        const char *hint = st == 401 ? " (API key rejected)" : "";
        if (st == 429) {
            const char *ra = mlc_ss_response_header(resp, "Retry-After");
            const char *rs = mlc_ss_response_header(resp, "X-Rate-Limit-Reset");
            char h[64];
            snprintf(h, sizeof h, " (rate limited; reset in %s s)", ra ? ra : rs ? rs : "?");
            rc = mlc_error_set(err, code, "%s: HTTP 429%s%s%s", what, h, text[0] ? ": " : "",
                               text);
            if (err)
                err->retry_after_ms = wait_ms(ra ? ra : rs);
        } else {
            rc = mlc_error_set(err, code, "%s: HTTP %ld%s%s%s", what, st, hint,
                               text[0] ? ": " : "", text);
        }
        if (err)
            err->http_status = st;
    } else if (err) {
        mlc_error_prefix(err, "ShipStation %s", vn);
    }
    if (err && rc)
        mlc_log_redact(ss->log, err->msg);
    free(url);
    free(json);
    return rc;
}

mlc_err mlc_ss_list_page(mlc_ss *ss, mlc_ss_version v, const char *path_and_query,
                         const char *collection, int page, int page_size, mlc_ss_response *resp,
                         const cJSON **items, int *has_more, mlc_error *err)
{
    *items = NULL;
    *has_more = 0;
    size_t n = strlen(path_and_query) + 64;
    char *p = malloc(n);
    if (!p)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    snprintf(p, n, "%s%spage=%d&%s=%d", path_and_query, strchr(path_and_query, '?') ? "&" : "?",
             page < 1 ? 1 : page, v == MLC_SS_V1 ? "pageSize" : "page_size",
             page_size < 1 ? 1 : page_size);
    mlc_err rc = mlc_ss_request(ss, v, "GET", p, NULL, 1, resp, err);
    free(p);
    if (rc)
        return rc;
    if (cJSON_IsArray(resp->json)) {
        *items = resp->json; /* V1 bare arrays: no paging */
        return MLC_OK;
    }
    const cJSON *arr = collection ? cJSON_GetObjectItemCaseSensitive(resp->json, collection) : NULL;
    if (!cJSON_IsArray(arr))
        return mlc_error_set(err, MLC_ERR_REMOTE, "ShipStation %s %s: response has no \"%s\" array",
                             v == MLC_SS_V1 ? "V1" : "V2", path_and_query,
                             collection ? collection : "(collection)");
    *items = arr;
    int next = 0;
    mlc_ss_page_info(resp->json, NULL, NULL, NULL, &next);
    *has_more = next && cJSON_GetArraySize(arr) > 0;
    return MLC_OK;
}
