/*
 * sim_sign.c: the RSA key that signs V2 webhook deliveries and the JWKS document that
 * publishes it (GET /jwks on the sim; ShipEngine's is api.shipengine.com/jwks). The scheme
 * follows ShipStation's webhook-validation guide and independent verifiers [3P]: headers
 * x-shipengine-rsa-sha256-key-id, x-shipengine-rsa-sha256-signature (base64 RSASSA-PKCS1-v1_5
 * SHA-256) and x-shipengine-timestamp (ISO 8601, real wall-clock time), over the string
 * "<timestamp>.<raw body>". The key is made lazily, once, on first use.
 *
 * Not here: delivering (sim_webhook.c).
 */
#include "sim.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SIM_KID "mlc-sim-webhook-key-1"

static pthread_once_t ONCE = PTHREAD_ONCE_INIT;
static pthread_mutex_t SIGN_MU = PTHREAD_MUTEX_INITIALIZER;
static EVP_PKEY *KEY;
static char *JWKS;

static char *b64(const unsigned char *in, size_t n, int url)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (!out)
        return NULL;
    int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    if (url) {
        while (len > 0 && out[len - 1] == '=')
            out[--len] = 0;
        for (int i = 0; i < len; i++)
            out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    }
    return out;
}

static char *bn_b64url(const char *param)
{
    BIGNUM *bn = NULL;
    if (!EVP_PKEY_get_bn_param(KEY, param, &bn))
        return NULL;
    int n = BN_num_bytes(bn);
    unsigned char *buf = malloc((size_t)n + 1);
    char *s = NULL;
    if (buf) {
        BN_bn2bin(bn, buf);
        s = b64(buf, (size_t)n, 1);
    }
    free(buf);
    BN_free(bn);
    return s;
}

static void make_key(void)
{
    KEY = EVP_RSA_gen(2048);
    if (!KEY)
        return;
    char *n = bn_b64url(OSSL_PKEY_PARAM_RSA_N), *e = bn_b64url(OSSL_PKEY_PARAM_RSA_E);
    if (n && e) {
        cJSON *doc = cJSON_CreateObject(), *keys = cJSON_AddArrayToObject(doc, "keys"), *k = cJSON_CreateObject();
        jset_str(k, "kty", "RSA");
        jset_str(k, "kid", SIM_KID);
        jset_str(k, "alg", "RS256");
        jset_str(k, "use", "sig");
        jset_str(k, "n", n);
        jset_str(k, "e", e);
        cJSON_AddItemToArray(keys, k);
        JWKS = cJSON_PrintUnformatted(doc);
        cJSON_Delete(doc);
    }
    free(n);
    free(e);
}

const char *sign_jwks(void)
{
    pthread_once(&ONCE, make_key);
    return JWKS ? JWKS : "{\"keys\":[]}";
}

/* fills the three header values; 0 on success */
int sign_webhook(const char *body, char *kid, size_t kl, char *ts, size_t tl, char **sig)
{
    pthread_once(&ONCE, make_key);
    if (!KEY)
        return -1;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, tl, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(kid, kl, "%s", SIM_KID);
    size_t n = strlen(ts) + 1 + strlen(body);
    char *msg = malloc(n + 1);
    if (!msg)
        return -1;
    snprintf(msg, n + 1, "%s.%s", ts, body);
    unsigned char out[512];
    size_t olen = sizeof out;
    int ok = 0;
    pthread_mutex_lock(&SIGN_MU);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, KEY) == 1 &&
        EVP_DigestSign(ctx, out, &olen, (const unsigned char *)msg, n) == 1)
        ok = 1;
    EVP_MD_CTX_free(ctx);
    pthread_mutex_unlock(&SIGN_MU);
    free(msg);
    *sig = ok ? b64(out, olen, 0) : NULL;
    return *sig ? 0 : -1;
}

void sign_free(void)
{
    EVP_PKEY_free(KEY);
    KEY = NULL;
    free(JWKS);
    JWKS = NULL;
}
