/*
 * ims.c: ION Messaging Service v3 client through the ION API gateway (see
 * ims.h).  It sends what lib/bod builds; it does not decide when to send.
 *
 * Documented vs inferred (research: ion-bod.md):
 *  - [DOC] endpoint names, the part names ParameterRequest/MessagePayload, 202,
 *    400 vs 412, 5 MB, lid://default for implicit routing, field length limits.
 *  - [CODE] the IONSERVICES/api/ion/messaging prefix (every public client uses it).
 *  - [INF] the acceptedDocuments path takes the lid without "lid://" (the Postman
 *    guide says so for its variable); the response shape of acceptedDocuments
 *    (read leniently below); encoding "NONE" (what public clients send).
 */
#include "ims.h"
#include "m3.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMS_PREFIX "IONSERVICES/api/ion/messaging/service/"

struct mlc_ims {
    mlc_http *http;
    mlc_ionapi *ion;
    mlc_log *log;
    char *from, *to;
    char *base; /* {iu}/{ti}/IONSERVICES/api/ion/messaging/service/ */
    mlc_ionapi *own_ion;
    mlc_http *own_http;
};

mlc_err mlc_ims_new(mlc_http *http, mlc_ionapi *ion, const char *logical_id, const char *to_logical_id, mlc_log *log,
                    mlc_ims **out, mlc_error *err)
{
    *out = NULL;
    /* [DOC] lid://[provider].[productcode]..., lowercase a-z 0-9 . _ -, <= 250 */
    if (!logical_id || strncmp(logical_id, "lid://", 6) || strlen(logical_id) > 250 || !logical_id[6])
        return mlc_error_set(err, MLC_ERR_CONFIG,
                             "bod.logical_id must be the IMS connection point's logical id, e.g. "
                             "lid://infor.ims.mlc (got '%s')",
                             logical_id ? logical_id : "(none)");
    for (const char *p = logical_id + 6; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
            return mlc_error_set(err, MLC_ERR_CONFIG,
                                 "bod.logical_id '%s': only a-z, 0-9, '.', '_' and '-' after lid://", logical_id);
    mlc_ims *m = calloc(1, sizeof *m);
    if (!m)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    m->http = http;
    m->ion = ion;
    m->log = log;
    m->from = strdup(logical_id);
    m->to = strdup(to_logical_id ? to_logical_id : "lid://default");
    m->base = mlc_ionapi_join_url(mlc_ionapi_api_base(ion), IMS_PREFIX);
    if (!m->from || !m->to || !m->base) {
        mlc_ims_free(m);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    *out = m;
    return MLC_OK;
}

void mlc_ims_free(mlc_ims *m)
{
    if (!m)
        return;
    free(m->from);
    free(m->to);
    free(m->base);
    mlc_ionapi_free(m->own_ion);
    mlc_http_free(m->own_http);
    free(m);
}

mlc_ionapi *mlc_ims_ionapi(mlc_ims *m) { return m->ion; }

mlc_err mlc_ims_for_profile(const mlc_config *cfg, mlc_m3 *m3, mlc_log *log, mlc_ims **out, mlc_error *err)
{
    *out = NULL;
    mlc_ionapi *ion = NULL;
    mlc_http *http = NULL;
    char *source = NULL;
    mlc_err rc = mlc_ionapi_resolve_bod(cfg, mlc_m3_vault(m3), &ion, &source, err);
    free(source);
    if (rc == MLC_ERR_NOTFOUND) {
        rc = mlc_ims_new(mlc_m3_http(m3), mlc_m3_ionapi(m3), mlc_config_str(cfg, "bod.logical_id"),
                         mlc_config_str(cfg, "bod.to_logical_id"), log, out, err);
        return rc;
    }
    if (rc)
        return rc;
    mlc_ionapi_register_secrets(ion, log);
    rc = mlc_http_check_url(mlc_ionapi_api_base(ion), err);
    if (!rc)
        rc = mlc_http_check_url(mlc_ionapi_token_url(ion), err);
    if (!rc) {
        mlc_http_opts ho = {.timeout_s = (long)mlc_config_int(cfg, "cloudsuite.timeout"),
                            .retry_base_ms = (long)mlc_config_int(cfg, "retry.base_ms"),
                            .retry_cap_ms = (long)mlc_config_int(cfg, "retry.cap_ms"),
                            .max_attempts = (int)mlc_config_int(cfg, "retry.max_attempts"),
                            .log = log};
        rc = mlc_http_new(&ho, &http, err);
    }
    if (!rc)
        rc = mlc_ims_new(http, ion, mlc_config_str(cfg, "bod.logical_id"), mlc_config_str(cfg, "bod.to_logical_id"),
                         log, out, err);
    if (rc) {
        mlc_http_free(http);
        mlc_ionapi_free(ion);
        return rc;
    }
    mlc_ionapi_attach(ion, http, mlc_m3_vault(m3), log, (long)mlc_config_int(cfg, "cloudsuite.token_margin"));
    mlc_ionapi_share_cache_of(ion, mlc_m3_ionapi(m3)); /* shared between hosts, if the profile's is */
    (*out)->own_ion = ion;
    (*out)->own_http = http;
    return MLC_OK;
}

/* One request with the bearer token; repeated once after a 401 (refused before
 * anything was taken). */
static mlc_err call(mlc_ims *m, mlc_http_request *req, const char *what, mlc_http_response *resp, mlc_error *err)
{
    const char *hdrs[3];
    for (int attempt = 0; attempt < 2; attempt++) {
        const char *auth = NULL;
        mlc_err rc = mlc_ionapi_authorization(m->ion, &auth, err);
        if (rc)
            return rc;
        hdrs[0] = auth;
        hdrs[1] = "Accept: application/json";
        hdrs[2] = NULL;
        req->headers = hdrs;
        rc = mlc_http_do(m->http, req, resp, err);
        if (rc == MLC_OK && resp->status == 401 && attempt == 0) {
            if (m->log)
                mlc_log_info(m->log, "IMS %s: 401, refreshing the token and retrying once", what);
            mlc_ionapi_invalidate(m->ion);
            mlc_http_response_free(resp);
            continue;
        }
        return rc;
    }
    return MLC_OK;
}

/* The message IMS put in an error body, if any (JSON "message"/"error"), else the start of the body. */
static void reason(const mlc_http_response *resp, char *out, size_t n)
{
    out[0] = '\0';
    cJSON *j = resp->body ? cJSON_Parse(resp->body) : NULL;
    const cJSON *msg = j ? cJSON_GetObjectItemCaseSensitive(j, "message") : NULL;
    if (!cJSON_IsString(msg) && j)
        msg = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (cJSON_IsString(msg))
        snprintf(out, n, "%s", msg->valuestring);
    else if (resp->body)
        snprintf(out, n, "%.200s", resp->body);
    cJSON_Delete(j);
}

static mlc_err map_status(const mlc_http_response *resp, const char *what, mlc_error *err)
{
    char why[256];
    reason(resp, why, sizeof why);
    long st = resp->status;
    if (st >= 200 && st < 300)
        return MLC_OK;
    if (st == 412)
        return mlc_error_set(err, MLC_ERR_CONFIG,
                             "IMS %s: HTTP 412: the connection point is inactive or does not exist (ION Desk: "
                             "the connection point must be in an active document flow)%s%s",
                             what, *why ? ": " : "", why);
    if (st == 503 && !strcmp(what, "ping"))
        return mlc_error_set(err, MLC_ERR_CONFIG,
                             "IMS ping: HTTP 503: the document flow, and so the connection point, is "
                             "inactive (activate the flow in ION Desk)%s%s",
                             *why ? ": " : "", why);
    if (mlc_http_status_transient(st))
        return mlc_error_set(err, MLC_ERR_TRANSIENT, "IMS %s: HTTP %ld%s%s", what, st, *why ? ": " : "", why);
    if (st == 401 || st == 403)
        return mlc_error_set(err, MLC_ERR_AUTH,
                             "IMS %s: HTTP %ld: the client id of the .ionapi is not the one on the connection "
                             "point, or fromLogicalId does not match it%s%s",
                             what, st, *why ? ": " : "", why);
    if (st == 400)
        return mlc_error_set(err, MLC_ERR_REMOTE, "IMS %s: HTTP 400: message refused%s%s", what, *why ? ": " : "", why);
    return mlc_error_set(err, MLC_ERR_REMOTE, "IMS %s: HTTP %ld%s%s", what, st, *why ? ": " : "", why);
}

mlc_err mlc_ims_ping(mlc_ims *m, mlc_error *err)
{
    char *url = mlc_ionapi_join_url(m->base, "ping");
    if (!url)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    mlc_http_request req = {.method = "GET", .url = url};
    mlc_http_response resp = {0};
    mlc_err rc = call(m, &req, "ping", &resp, err);
    if (rc == MLC_OK || resp.status)
        rc = map_status(&resp, "ping", err);
    mlc_http_response_free(&resp);
    free(url);
    return rc;
}

void mlc_ims_list_free(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

int mlc_ims_list_has(char *const *names, size_t n, const char *document)
{
    char flat[160];
    const char *dot = strchr(document, '.');
    snprintf(flat, sizeof flat, "%.*s%s", dot ? (int)(dot - document) : 0, document, dot ? dot + 1 : document);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], document) || !strcmp(names[i], flat))
            return 1;
    return 0;
}

/* [INF] the shape is not public: a list of strings, or of objects with a
 * documentName/name/document field, bare or under "acceptedDocuments"/"documents". */
static const cJSON *doc_list(const cJSON *j)
{
    if (cJSON_IsArray(j))
        return j;
    const char *keys[] = {"acceptedDocuments", "documents", "documentNames"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, keys[i]);
        if (cJSON_IsArray(a))
            return a;
    }
    return NULL;
}

mlc_err mlc_ims_accepted_documents(mlc_ims *m, char ***names, size_t *n, mlc_error *err)
{
    *names = NULL;
    *n = 0;
    char *esc = mlc_http_urlencode(m->from + 6);
    char path[400];
    snprintf(path, sizeof path, "v3/%s/acceptedDocuments", esc ? esc : "");
    free(esc);
    char *url = mlc_ionapi_join_url(m->base, path);
    if (!url)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    mlc_http_request req = {.method = "GET", .url = url};
    mlc_http_response resp = {0};
    mlc_err rc = call(m, &req, "acceptedDocuments", &resp, err);
    if (rc == MLC_OK || resp.status)
        rc = map_status(&resp, "acceptedDocuments", err);
    if (rc == MLC_OK) {
        cJSON *j = cJSON_ParseWithLength(resp.body, resp.body_len);
        const cJSON *a = doc_list(j);
        if (!a) {
            rc = mlc_error_set(err, MLC_ERR_REMOTE, "IMS acceptedDocuments: the answer is not a list of documents");
        } else {
            size_t cnt = (size_t)cJSON_GetArraySize(a), k = 0;
            char **v = calloc(cnt + 1, sizeof *v);
            const cJSON *it;
            cJSON_ArrayForEach(it, a)
            {
                const cJSON *s = it;
                if (cJSON_IsObject(it)) {
                    s = cJSON_GetObjectItemCaseSensitive(it, "documentName");
                    if (!cJSON_IsString(s))
                        s = cJSON_GetObjectItemCaseSensitive(it, "name");
                    if (!cJSON_IsString(s))
                        s = cJSON_GetObjectItemCaseSensitive(it, "document");
                }
                if (v && cJSON_IsString(s) && (v[k] = strdup(s->valuestring)) != NULL)
                    k++;
            }
            if (!v) {
                rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
            } else {
                *names = v;
                *n = k;
            }
        }
        cJSON_Delete(j);
    }
    mlc_http_response_free(&resp);
    free(url);
    return rc;
}

char *mlc_ims_parameter_request(const mlc_ims *m, const mlc_ims_message *msg)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "documentName", msg->document_name);
    cJSON_AddStringToObject(o, "messageId", msg->message_id);
    cJSON_AddStringToObject(o, "fromLogicalId", m->from);
    cJSON_AddStringToObject(o, "toLogicalId", m->to);
    cJSON_AddStringToObject(o, "encoding", "NONE"); /* [INF] enum not public; public clients send NONE */
    cJSON_AddStringToObject(o, "characterSet", "UTF-8");
    if (msg->accounting_entity)
        cJSON_AddStringToObject(o, "accountingEntity", msg->accounting_entity);
    if (msg->location)
        cJSON_AddStringToObject(o, "location", msg->location);
    if (msg->document_id)
        cJSON_AddStringToObject(o, "documentId", msg->document_id);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

mlc_err mlc_ims_send(mlc_ims *m, const mlc_ims_message *msg, long *status, mlc_error *err)
{
    *status = 0;
    if (!msg->document_name || !msg->message_id || !msg->payload)
        return mlc_error_set(err, MLC_ERR_INPUT, "IMS send: document name, message id and payload are required");
    if (msg->len > MLC_IMS_MAX_MESSAGE)
        return mlc_error_set(err, MLC_ERR_INPUT,
                             "IMS send: message %s is %zu bytes, over ION's %u-byte limit; not sent", msg->message_id,
                             msg->len, MLC_IMS_MAX_MESSAGE);
    /* [DOC] length limits: Document Id <= 100, Accounting Entity and Location <= 22 */
    if ((msg->document_id && strlen(msg->document_id) > 100) ||
        (msg->accounting_entity && strlen(msg->accounting_entity) > 22) ||
        (msg->location && strlen(msg->location) > 22))
        return mlc_error_set(err, MLC_ERR_INPUT,
                             "IMS send: documentId (<= 100), accountingEntity or location (<= 22) too long");
    char *params = mlc_ims_parameter_request(m, msg);
    char *url = mlc_ionapi_join_url(m->base, "v3/multipartMessage");
    if (!params || !url) {
        free(params);
        free(url);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    mlc_http_part parts[2] = {
        {"ParameterRequest", "ParameterRequest.json", "application/json", params, strlen(params)},
        {"MessagePayload", "MessagePayload.xml", "application/octet-stream", msg->payload, msg->len},
    };
    mlc_http_request req = {.method = "POST", .url = url, .parts = parts, .nparts = 2};
    mlc_http_response resp = {0};
    mlc_err rc = call(m, &req, "multipartMessage", &resp, err);
    *status = resp.status;
    if (rc == MLC_OK || resp.status)
        rc = map_status(&resp, "multipartMessage", err);
    if (rc == MLC_OK && m->log)
        mlc_log_debug(m->log, "IMS: %s %s queued in ION (HTTP %ld)", msg->document_name, msg->message_id, resp.status);
    mlc_http_response_free(&resp);
    free(params);
    free(url);
    return rc;
}
