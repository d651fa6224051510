/*
 * webhook.c: checks and stores one ShipStation webhook notification (see webhook.h).
 * Not here: sockets, threads, fetching the resource.
 */
#include "webhook.h"

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "jsonl.h"
#include "secret.h"

#define MAX_URL 2048
#define MAX_SKEW 300

struct mlc_webhook {
    mlc_store *st;
    mlc_log *log;
    char *token;
    EVP_PKEY *key;
};

/* base64url (or base64) -> bytes; returns length or -1. */
static int b64_decode(const char *in, unsigned char *out, size_t cap)
{
    size_t n = strlen(in);
    char *tmp = malloc(n + 4);
    if (!tmp)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        tmp[k++] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    while (k % 4)
        tmp[k++] = '=';
    tmp[k] = '\0';
    if (k / 4 * 3 > cap) {
        free(tmp);
        return -1;
    }
    int len = EVP_DecodeBlock(out, (const unsigned char *)tmp, (int)k);
    if (len >= 0) {
        size_t pad = 0;
        while (k > 0 && tmp[k - 1] == '=' && pad < 2) {
            pad++;
            k--;
        }
        len -= (int)pad;
    }
    free(tmp);
    return len;
}

static EVP_PKEY *key_from_jwks(const char *text)
{
    cJSON *j = cJSON_Parse(text);
    const cJSON *k = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "keys"), 0);
    const cJSON *n = cJSON_GetObjectItem(k, "n"), *e = cJSON_GetObjectItem(k, "e");
    EVP_PKEY *pkey = NULL;
    unsigned char nb[1024], eb[16];
    int nl, el;
    if (cJSON_IsString(n) && cJSON_IsString(e) && (nl = b64_decode(n->valuestring, nb, sizeof nb)) > 0 &&
        (el = b64_decode(e->valuestring, eb, sizeof eb)) > 0) {
        BIGNUM *bn = BN_bin2bn(nb, nl, NULL), *be = BN_bin2bn(eb, el, NULL);
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        OSSL_PARAM *params = NULL;
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
        if (bn && be && bld && ctx && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) && (params = OSSL_PARAM_BLD_to_param(bld)) &&
            EVP_PKEY_fromdata_init(ctx) == 1)
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
        OSSL_PARAM_free(params);
        OSSL_PARAM_BLD_free(bld);
        EVP_PKEY_CTX_free(ctx);
        BN_free(bn);
        BN_free(be);
    }
    cJSON_Delete(j);
    return pkey;
}

mlc_err mlc_webhook_new(mlc_store *st, mlc_log *log, const char *token, const char *key_text, mlc_webhook **out,
                        mlc_error *err)
{
    mlc_webhook *wh = calloc(1, sizeof *wh);
    *out = NULL;
    if (!wh)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    wh->st = st;
    wh->log = log;
    if (token && *token) {
        wh->token = strdup(token);
        mlc_log_secret(log, token);
    }
    if (key_text) {
        const char *p = key_text;
        while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
            p++;
        if (*p == '{') {
            wh->key = key_from_jwks(p);
        } else {
            BIO *bio = BIO_new_mem_buf(key_text, -1);
            wh->key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
            BIO_free(bio);
        }
        if (!wh->key) {
            mlc_webhook_free(wh);
            return mlc_error_set(err, MLC_ERR_CONFIG, "webhook public key: neither a PEM public key nor a JWKS");
        }
    }
    *out = wh;
    return MLC_OK;
}

void mlc_webhook_free(mlc_webhook *wh)
{
    if (!wh)
        return;
    mlc_secret_free_str(wh->token);
    EVP_PKEY_free(wh->key);
    free(wh);
}

/* Constant-time comparison of the path token. */
static int path_ok(const mlc_webhook *wh, const char *path)
{
    if (!wh->token)
        return path && strcmp(path, "/") == 0;
    if (!path || path[0] != '/')
        return 0;
    size_t a = strlen(path + 1), b = strlen(wh->token);
    return a == b && CRYPTO_memcmp(path + 1, wh->token, b) == 0;
}

static int signature_ok(const mlc_webhook *wh, const mlc_webhook_request *rq, char *msg, size_t cap)
{
    time_t ts;
    unsigned char sig[1024];
    int siglen;
    if (!rq->signature || !rq->timestamp) {
        snprintf(msg, cap, "missing signature headers");
        return 0;
    }
    if (mlc_dates_parse_rfc3339(rq->timestamp, &ts) != 0 || ts > rq->now + MAX_SKEW || ts < rq->now - MAX_SKEW) {
        snprintf(msg, cap, "timestamp missing or more than %d s off", MAX_SKEW);
        return 0;
    }
    if ((siglen = b64_decode(rq->signature, sig, sizeof sig)) <= 0) {
        snprintf(msg, cap, "signature is not base64");
        return 0;
    }
    size_t n = strlen(rq->timestamp) + 1 + rq->body_len;
    char *signed_text = malloc(n + 1);
    if (!signed_text) {
        snprintf(msg, cap, "out of memory");
        return 0;
    }
    snprintf(signed_text, n + 1, "%s.", rq->timestamp);
    memcpy(signed_text + strlen(rq->timestamp) + 1, rq->body, rq->body_len);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, wh->key) == 1 &&
             EVP_DigestVerify(ctx, sig, (size_t)siglen, (const unsigned char *)signed_text, n) == 1;
    EVP_MD_CTX_free(ctx);
    free(signed_text);
    if (!ok)
        snprintf(msg, cap, "signature does not verify");
    return ok;
}

int mlc_webhook_handle(mlc_webhook *wh, const mlc_webhook_request *rq, char *msg, size_t cap)
{
    mlc_error e;
    snprintf(msg, cap, "stored");
    if (!path_ok(wh, rq->path)) {
        snprintf(msg, cap, "not found");
        return 404;
    }
    if (!rq->method || strcmp(rq->method, "POST") != 0) {
        snprintf(msg, cap, "only POST");
        return 405;
    }
    if (rq->body_len > MLC_WEBHOOK_MAX_BODY) {
        snprintf(msg, cap, "body larger than %d bytes", MLC_WEBHOOK_MAX_BODY);
        return 413;
    }
    if (!rq->body || rq->body_len == 0 || memchr(rq->body, '\0', rq->body_len) ||
        !mlc_jsonl_utf8_valid(rq->body, rq->body_len)) {
        snprintf(msg, cap, "body must be UTF-8 JSON");
        return 400;
    }
    if (wh->key && !signature_ok(wh, rq, msg, cap))
        return 400;
    cJSON *j = cJSON_ParseWithLength(rq->body, rq->body_len);
    const cJSON *url = cJSON_GetObjectItem(j, "resource_url"), *type = cJSON_GetObjectItem(j, "resource_type");
    int status = 200;
    if (!cJSON_IsObject(j)) {
        snprintf(msg, cap, "body must be a JSON object");
        status = 400;
    } else if (!cJSON_IsString(type) || !type->valuestring[0] || strlen(type->valuestring) > 64) {
        snprintf(msg, cap, "resource_type missing or invalid");
        status = 400;
    } else if (url && !cJSON_IsNull(url) &&
               (!cJSON_IsString(url) || strlen(url->valuestring) > MAX_URL || strncmp(url->valuestring, "http", 4))) {
        snprintf(msg, cap, "resource_url invalid");
        status = 400;
    } else {
        /* The body is kept as received (already checked to be small, valid JSON). */
        char *body = strndup(rq->body, rq->body_len);
        if (!body || mlc_store_inbox_add(wh->st, type->valuestring, cJSON_IsString(url) ? url->valuestring : NULL,
                                         body, &e) != MLC_OK) {
            mlc_log_error(wh->log, "webhook: %s", body ? e.msg : "out of memory");
            snprintf(msg, cap, "cannot store");
            status = 500;
        }
        free(body);
    }
    cJSON_Delete(j);
    return status;
}

/* ---- from the profile's configuration ---------------------------------- */

/* The file named by config key `key`, or NULL (*out) if the key is unset. */
static mlc_err config_file_text(const mlc_config *cfg, const char *key, int flags, char **out, mlc_error *err)
{
    char *path = mlc_config_file(cfg, key);
    *out = NULL;
    if (!path)
        return MLC_OK;
    size_t len = 0;
    mlc_err rc = mlc_secret_read(path, MLC_WEBHOOK_MAX_FILE, key, flags, out, &len, err);
    if (rc == MLC_ERR_NOTFOUND)
        rc = mlc_error_set(err, MLC_ERR_CONFIG, "%s %s: no such file", key, path);
    free(path);
    return rc;
}

mlc_err mlc_webhook_token(const mlc_config *cfg, char **token, mlc_error *err)
{
    mlc_err rc = config_file_text(cfg, "shipstation.webhook_secret_file", MLC_SECRET_PRIVATE, token, err);
    if (rc == MLC_OK && *token) {
        char *t = mlc_secret_trim(*token);
        memmove(*token, t, strlen(t) + 1);
    }
    return rc;
}

mlc_err mlc_webhook_open(mlc_store *st, const mlc_config *cfg, mlc_log *log, mlc_webhook **out, mlc_error *err)
{
    char *token = NULL, *key = NULL;
    mlc_err rc = mlc_webhook_token(cfg, &token, err);
    if (!rc)
        rc = config_file_text(cfg, "shipstation.webhook_public_key_file", 0, &key, err);
    if (!rc && !token)
        mlc_log_warn(log, "no shipstation.webhook_secret_file: anyone who can reach the listener can "
                          "store notifications (they are only hints: nothing is fetched off-host)");
    if (!rc)
        rc = mlc_webhook_new(st, log, token, key, out, err);
    free(key);
    mlc_secret_free_str(token);
    return rc;
}

mlc_err mlc_webhook_subscribe(mlc_ss *ss, mlc_ss_version v, const char *target, const char *event, long long store_id,
                              cJSON **result, mlc_error *err)
{
    cJSON *body = cJSON_CreateObject();
    if (!body)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    if (v == MLC_SS_V1) {
        cJSON_AddStringToObject(body, "target_url", target);
        cJSON_AddStringToObject(body, "event", event);
        if (store_id)
            cJSON_AddNumberToObject(body, "store_id", (double)store_id);
        cJSON_AddStringToObject(body, "friendly_name", "mlc");
    } else {
        cJSON_AddStringToObject(body, "event", event);
        cJSON_AddStringToObject(body, "url", target);
    }
    mlc_ss_response resp = {0};
    mlc_err rc = mlc_ss_request(ss, v, "POST", v == MLC_SS_V1 ? "/webhooks/subscribe" : "/v2/environment/webhooks",
                                body, 0, &resp, err);
    cJSON_Delete(body);
    if (!rc) {
        /* V1 answers {"id":..} or {"WebHookID":..} (sources disagree); V2 {"webhook_id":..} */
        const cJSON *id = cJSON_GetObjectItem(resp.json, v == MLC_SS_V1 ? "id" : "webhook_id");
        if (!id && v == MLC_SS_V1)
            id = cJSON_GetObjectItem(resp.json, "WebHookID");
        cJSON *out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "kind", "webhook_subscription");
        cJSON_AddStringToObject(out, "event", event);
        cJSON_AddStringToObject(out, "api", v == MLC_SS_V1 ? "v1" : "v2");
        if (cJSON_IsNumber(id))
            cJSON_AddNumberToObject(out, "webhook_id", id->valuedouble);
        else if (cJSON_IsString(id))
            cJSON_AddStringToObject(out, "webhook_id", id->valuestring);
        *result = out;
        if (!out)
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    mlc_ss_response_free(&resp);
    return rc;
}
