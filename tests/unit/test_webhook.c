/* test_webhook.c: lib/webhook: path token, method, size, payload checks, and V2
 * RSA-SHA256 signatures (PEM and JWKS keys, bad signature, stale timestamp). */
#include "webhook.h"
#include "dates.h"
#include "testutil.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

static mlc_store *st;
static mlc_log *lg;
static EVP_PKEY *key;
static char pem[4096];

static void setup(void)
{
    char *d = tu_tmpdir(), path[512];
    mlc_error e;
    snprintf(path, sizeof path, "%s/w.db", d);
    free(d);
    ck_assert_int_eq(mlc_store_open(path, 0, &st, &e), MLC_OK);
    lg = mlc_log_new(fopen("/dev/null", "w"), MLC_LOG_TEXT, MLC_LOG_ERROR);
    key = EVP_RSA_gen(2048);
    ck_assert_ptr_nonnull(key);
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(b, key);
    int n = BIO_read(b, pem, sizeof pem - 1);
    pem[n > 0 ? n : 0] = '\0';
    BIO_free(b);
}

static void teardown(void)
{
    mlc_store_close(st);
    mlc_log_free(lg);
    EVP_PKEY_free(key);
}

static char *sign(const char *ts, const char *body)
{
    char msg[8192];
    unsigned char sig[512];
    size_t n = sizeof sig;
    snprintf(msg, sizeof msg, "%s.%s", ts, body);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    ck_assert_int_eq(EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, key), 1);
    ck_assert_int_eq(EVP_DigestSign(c, sig, &n, (unsigned char *)msg, strlen(msg)), 1);
    EVP_MD_CTX_free(c);
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, sig, (int)n);
    return out;
}

static long inbox_count(void)
{
    mlc_store_inbox_item *items;
    size_t n;
    mlc_error e;
    mlc_store_inbox_pending(st, 100, &items, &n, &e);
    mlc_store_inbox_free(items, n);
    return (long)n;
}

static const char body[] = "{\"resource_url\":\"https://api.shipstation.com/v2/labels/se-1\","
                           "\"resource_type\":\"LABEL_CREATED_V2\"}";

START_TEST(path_method_size_payload)
{
    mlc_webhook *wh;
    mlc_error e;
    char msg[160];
    ck_assert_int_eq(mlc_webhook_new(st, lg, "s3cret-token", NULL, &wh, &e), MLC_OK);
    mlc_webhook_request rq = {.method = "POST", .path = "/s3cret-token", .body = body, .body_len = strlen(body),
                              .now = time(NULL)};
    ck_assert_int_eq(mlc_webhook_handle(wh, &rq, msg, sizeof msg), 200);
    ck_assert_int_eq(inbox_count(), 1);
    rq.path = "/s3cret-tokeX";
    ck_assert_int_eq(mlc_webhook_handle(wh, &rq, msg, sizeof msg), 404);
    rq.path = "/s3cret-token/";
    ck_assert_int_eq(mlc_webhook_handle(wh, &rq, msg, sizeof msg), 404);
    rq.path = "/s3cret-token";
    rq.method = "GET";
    ck_assert_int_eq(mlc_webhook_handle(wh, &rq, msg, sizeof msg), 405);
    rq.method = "POST";
    rq.body_len = MLC_WEBHOOK_MAX_BODY + 1;
    ck_assert_int_eq(mlc_webhook_handle(wh, &rq, msg, sizeof msg), 413);
    const char *bad[] = {"{\"resource_url\":", "[1,2]", "{\"resource_url\":\"https://x\"}",
                         "{\"resource_type\":\"X\",\"resource_url\":\"javascript:1\"}", "\xff\xfe", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rq.body = bad[i];
        rq.body_len = strlen(bad[i]);
        ck_assert_msg(mlc_webhook_handle(wh, &rq, msg, sizeof msg) == 400, "case %zu", i);
    }
    ck_assert_int_eq(inbox_count(), 1);
    mlc_webhook_free(wh);
}
END_TEST

START_TEST(signatures_pem)
{
    mlc_webhook *wh;
    mlc_error e;
    char msg[160], ts[32];
    time_t now = time(NULL);
    mlc_dates_format_rfc3339(now, ts);
    ck_assert_int_eq(mlc_webhook_new(st, lg, NULL, pem, &wh, &e), MLC_OK);
    char *sig = sign(ts, body);
    mlc_webhook_request rq = {.method = "POST", .path = "/", .body = body, .body_len = strlen(body),
                              .signature = sig, .timestamp = ts, .now = now};
    ck_assert_int_eq(mlc_webhook_handle(wh, &rq, msg, sizeof msg), 200);
    /* a changed body, a stale timestamp, no signature: refused */
    char other[sizeof body];
    memcpy(other, body, sizeof body);
    other[strlen(other) - 3] = 'X';
    rq.body = other;
    ck_assert_int_eq(mlc_webhook_handle(wh, &rq, msg, sizeof msg), 400);
    ck_assert_str_eq(msg, "signature does not verify");
    rq.body = body;
    rq.now = now + 3600;
    ck_assert_int_eq(mlc_webhook_handle(wh, &rq, msg, sizeof msg), 400);
    rq.now = now;
    rq.signature = NULL;
    ck_assert_int_eq(mlc_webhook_handle(wh, &rq, msg, sizeof msg), 400);
    ck_assert_int_eq(inbox_count(), 1);
    free(sig);
    mlc_webhook_free(wh);
    ck_assert_int_eq(mlc_webhook_new(st, lg, NULL, "not a key", &wh, &e), MLC_ERR_CONFIG);
}
END_TEST

static char *b64url_bn(const BIGNUM *bn)
{
    unsigned char buf[600];
    int n = BN_bn2bin(bn, buf);
    char *out = malloc(4 * ((size_t)(n + 2) / 3) + 1);
    int len = EVP_EncodeBlock((unsigned char *)out, buf, n);
    while (len > 0 && out[len - 1] == '=')
        out[--len] = '\0';
    for (int i = 0; i < len; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    return out;
}

START_TEST(signatures_jwks)
{
    BIGNUM *n = NULL, *ee = NULL;
    ck_assert_int_eq(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
    ck_assert_int_eq(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &ee), 1);
    char *ns = b64url_bn(n), *es = b64url_bn(ee), jwks[2048];
    snprintf(jwks, sizeof jwks, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"n\":\"%s\",\"e\":\"%s\"}]}", ns, es);
    mlc_webhook *wh;
    mlc_error e;
    char msg[160], ts[32];
    time_t now = time(NULL);
    mlc_dates_format_rfc3339(now, ts);
    ck_assert_int_eq(mlc_webhook_new(st, lg, NULL, jwks, &wh, &e), MLC_OK);
    char *sig = sign(ts, body);
    mlc_webhook_request rq = {.method = "POST", .path = "/", .body = body, .body_len = strlen(body),
                              .signature = sig, .timestamp = ts, .now = now};
    ck_assert_int_eq(mlc_webhook_handle(wh, &rq, msg, sizeof msg), 200);
    free(sig);
    free(ns);
    free(es);
    BN_free(n);
    BN_free(ee);
    mlc_webhook_free(wh);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("webhook");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, path_method_size_payload);
    tcase_add_test(tc, signatures_pem);
    tcase_add_test(tc, signatures_jwks);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
