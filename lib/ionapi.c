/*
 * ionapi.c: .ionapi parsing and the ION OAuth2 token life cycle (see ionapi.h):
 * password grant, refresh grant, revoke, encrypted cache in the vault with a
 * cross-process lock so concurrent runs log in once, or in a cache shared
 * between hosts (sealed here with AES-256-GCM) with its own lock.
 * Not here: M3 calls, vault crypto, HTTP plumbing.
 */
#include "ionapi.h"
#include "dates.h"
#include "secret.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOGIN_LOCK_TIMEOUT_S 90

struct mlc_ionapi {
    char *ti, *cn, *ci, *cs, *iu, *pu, *ot, *oa, *or_, *saak, *sask;
    char *token_url, *revoke_url, *api_base;
    char fingerprint[9];
    /* session */
    mlc_http *http;
    mlc_vault *vault;
    mlc_log *log;
    long margin_s;
    char *access_token, *refresh_token, *token_type;
    char *auth_header;
    long long expires_at, refresh_at;
    int invalid;
    int logins, refreshes;
    char token_entry[48];   /* vault entry of the cached token */
    /* the token cache shared between hosts, when set (instead of the vault) */
    int has_cache;
    mlc_ionapi_cache cache;
    char cache_name[96], login_lock[48];
};

/* ---- small helpers ------------------------------------------------------ */

/* Drops a secret string member: mlc_secret_free_str, and the pointer cleared. */
static void forget(char **s)
{
    mlc_secret_free_str(*s);
    *s = NULL;
}

static long long now_s(void) { return (long long)time(NULL); }

char *mlc_ionapi_join_url(const char *a, const char *b)
{
    if (!a || !b)
        return NULL;
    size_t la = strlen(a);
    while (la > 0 && a[la - 1] == '/')
        la--;
    while (*b == '/')
        b++;
    size_t n = la + 1 + strlen(b) + 1;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%.*s/%s", (int)la, a, b);
    return out;
}

/* ---- parsing ------------------------------------------------------------ */

static const char *const required_keys[] = {"ti", "ci", "cs", "iu", "pu", "ot"};

static mlc_err take_str(const cJSON *obj, const char *key, int required, const char *name,
                        char **dst, mlc_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return mlc_error_set(err, MLC_ERR_CONFIG, "%s: missing required key \"%s\"", name, key);
        return MLC_OK;
    }
    if (!cJSON_IsString(v) || !v->valuestring)
        return mlc_error_set(err, MLC_ERR_CONFIG, "%s: key \"%s\" must be a string", name, key);
    const char *s = v->valuestring;
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    if (n == 0) {
        if (required)
            return mlc_error_set(err, MLC_ERR_CONFIG, "%s: key \"%s\" is empty", name, key);
        return MLC_OK;
    }
    *dst = strndup(s, n);
    return *dst ? MLC_OK : mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
}

/* Over everything that identifies the credentials, secrets included, so that a
 * changed secret also invalidates a cached token. 32 bits of SHA-256 reveal
 * nothing usable about the secrets. */
static void compute_fingerprint(mlc_ionapi *ion)
{
    const char *parts[] = {ion->ti, ion->ci, ion->cs, ion->pu, ion->ot,
                           ion->saak ? ion->saak : "", ion->sask ? ion->sask : ""};
    size_t n = 1;
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        n += strlen(parts[i]) + 1;
    char *buf = malloc(n);
    memset(ion->fingerprint, '0', 8);
    ion->fingerprint[8] = '\0';
    if (!buf)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        strcat(buf, parts[i]);
        strcat(buf, "\n");
    }
    mlc_secret_fingerprint(buf, ion->fingerprint);
    mlc_secret_free(buf, n);
}

mlc_err mlc_ionapi_from_json(const cJSON *obj, const char *name, mlc_ionapi **out,
                             mlc_error *err)
{
    if (!name)
        name = ".ionapi";
    if (!cJSON_IsObject(obj))
        return mlc_error_set(err, MLC_ERR_CONFIG, "%s: not a JSON object", name);
    mlc_ionapi *ion = calloc(1, sizeof *ion);
    if (ion)
        snprintf(ion->token_entry, sizeof ion->token_entry, "%s", MLC_IONAPI_TOKEN_ENTRY);
    if (!ion)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    mlc_err rc = MLC_OK;
    /* report the first missing required key, in the documented order */
    for (size_t i = 0; !rc && i < sizeof required_keys / sizeof *required_keys; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, required_keys[i]);
        if (!v || cJSON_IsNull(v))
            rc = mlc_error_set(err, MLC_ERR_CONFIG, "%s: missing required key \"%s\"", name,
                               required_keys[i]);
    }
    if (!rc)
        rc = take_str(obj, "ti", 1, name, &ion->ti, err);
    if (!rc)
        rc = take_str(obj, "ci", 1, name, &ion->ci, err);
    if (!rc)
        rc = take_str(obj, "cs", 1, name, &ion->cs, err);
    if (!rc)
        rc = take_str(obj, "iu", 1, name, &ion->iu, err);
    if (!rc)
        rc = take_str(obj, "pu", 1, name, &ion->pu, err);
    if (!rc)
        rc = take_str(obj, "ot", 1, name, &ion->ot, err);
    if (!rc)
        rc = take_str(obj, "cn", 0, name, &ion->cn, err);
    if (!rc)
        rc = take_str(obj, "oa", 0, name, &ion->oa, err);
    if (!rc)
        rc = take_str(obj, "or", 0, name, &ion->or_, err);
    if (!rc)
        rc = take_str(obj, "saak", 0, name, &ion->saak, err);
    if (!rc)
        rc = take_str(obj, "sask", 0, name, &ion->sask, err);
    if (!rc && (!ion->saak) != (!ion->sask))
        rc = mlc_error_set(err, MLC_ERR_CONFIG,
                           "%s: has \"%s\" but not \"%s\" (service account keys come in pairs)",
                           name, ion->saak ? "saak" : "sask", ion->saak ? "sask" : "saak");
    if (!rc) {
        ion->token_url = mlc_ionapi_join_url(ion->pu, ion->ot);
        ion->revoke_url = ion->or_ ? mlc_ionapi_join_url(ion->pu, ion->or_) : NULL;
        ion->api_base = mlc_ionapi_join_url(ion->iu, ion->ti);
        if (!ion->token_url || !ion->api_base || (ion->or_ && !ion->revoke_url))
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    if (!rc && strncmp(ion->pu, "https://", 8) != 0 && strncmp(ion->pu, "http://", 7) != 0)
        rc = mlc_error_set(err, MLC_ERR_CONFIG, "%s: \"pu\" is not an http(s) URL", name);
    if (!rc && strncmp(ion->iu, "https://", 8) != 0 && strncmp(ion->iu, "http://", 7) != 0)
        rc = mlc_error_set(err, MLC_ERR_CONFIG, "%s: \"iu\" is not an http(s) URL", name);
    if (rc) {
        mlc_ionapi_free(ion);
        return rc;
    }
    compute_fingerprint(ion);
    *out = ion;
    return MLC_OK;
}

mlc_err mlc_ionapi_parse(const char *text, size_t len, const char *name, mlc_ionapi **out,
                         mlc_error *err)
{
    if (!name)
        name = ".ionapi";
    if (len > MLC_IONAPI_MAX_FILE)
        return mlc_error_set(err, MLC_ERR_CONFIG, "%s: too large (%zu bytes; an .ionapi file is "
                             "under 1 MiB)", name, len);
    /* binary data: NUL bytes or control characters other than whitespace */
    size_t start = 0;
    if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
        (unsigned char)text[2] == 0xBF)
        start = 3; /* UTF-8 BOM, as some Windows tools write */
    for (size_t i = start; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch == 0 || (ch < 0x20 && ch != '\n' && ch != '\r' && ch != '\t'))
            return mlc_error_set(err, MLC_ERR_CONFIG,
                                 "%s: binary data (byte %zu), not an .ionapi JSON file", name, i);
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text + start, len - start, &end, 0);
    if (!root) {
        size_t off = end && end >= text ? (size_t)(end - text) : 0;
        /* line number of the error, never the text (it may hold a secret) */
        int line = 1;
        for (size_t i = 0; i < off && i < len; i++)
            line += text[i] == '\n';
        return mlc_error_set(err, MLC_ERR_CONFIG, "%s: not valid JSON (near line %d)", name, line);
    }
    mlc_err rc = cJSON_IsObject(root)
                     ? mlc_ionapi_from_json(root, name, out, err)
                     : mlc_error_set(err, MLC_ERR_CONFIG, "%s: not a JSON object", name);
    /* wipe parsed secrets before freeing */
    mlc_secret_json_free(root);
    return rc;
}

mlc_err mlc_ionapi_read(const char *path, int flags, mlc_ionapi **out, mlc_error *err)
{
    char *buf = NULL;
    size_t n = 0;
    int from_stdin = (flags & MLC_SECRET_STDIN) && !strcmp(path, "-");
    mlc_err rc = mlc_secret_read(path, MLC_IONAPI_MAX_FILE, from_stdin ? NULL : ".ionapi file", flags, &buf, &n, err);
    if (rc == MLC_ERR_NOTFOUND)
        return mlc_error_set(err, MLC_ERR_CONFIG, ".ionapi file %s: no such file", path);
    if (rc)
        return rc;
    rc = mlc_ionapi_parse(buf, n, from_stdin ? "(stdin)" : path, out, err);
    mlc_secret_free(buf, n + 1);
    return rc;
}

mlc_err mlc_ionapi_load(const char *path, mlc_ionapi **out, mlc_error *err)
{
    return mlc_ionapi_read(path, 0, out, err);
}

/* The credentials named by vault entry `entry`, else by the config file setting `key`. */
static mlc_err resolve_named(const mlc_config *cfg, const mlc_vault *vault, const char *entry, const char *key,
                             const char *what, mlc_ionapi **out, char **source, mlc_error *err)
{
    const cJSON *e = vault ? mlc_vault_get(vault, entry) : NULL;
    if (e) {
        char name[600];
        snprintf(name, sizeof name, "vault %s entry \"%s\"", mlc_vault_file(vault), entry);
        const cJSON *inner = cJSON_GetObjectItemCaseSensitive(e, "ionapi");
        mlc_err rc = mlc_ionapi_from_json(inner ? inner : e, name, out, err);
        if (rc == MLC_OK && source)
            *source = strdup("vault");
        return rc;
    }
    char *path = cfg ? mlc_config_file(cfg, key) : NULL;
    if (!path)
        return mlc_error_set(err, MLC_ERR_CONFIG,
                             "no %s credentials: run `mlc creds add %s --ionapi "
                             "FILE`, or set %s in %s",
                             what, entry, key, cfg ? mlc_config_path(cfg) : "the config");
    mlc_err rc = mlc_secret_check_private(path, ".ionapi file", err);
    if (rc == MLC_ERR_NOTFOUND)
        rc = mlc_error_set(err, MLC_ERR_CONFIG, "%s: %s: no such file", key, path);
    if (rc == MLC_OK)
        rc = mlc_ionapi_read(path, 0, out, err);
    if (rc == MLC_OK && source)
        *source = path;
    else
        free(path);
    return rc;
}

mlc_err mlc_ionapi_resolve(const mlc_config *cfg, const mlc_vault *vault, mlc_ionapi **out,
                           char **source, mlc_error *err)
{
    return resolve_named(cfg, vault, MLC_IONAPI_VAULT_ENTRY, "cloudsuite.ionapi", "CloudSuite", out, source, err);
}

mlc_err mlc_ionapi_resolve_bod(const mlc_config *cfg, const mlc_vault *vault, mlc_ionapi **out, char **source,
                               mlc_error *err)
{
    if (!(vault && mlc_vault_get(vault, MLC_IONAPI_BOD_ENTRY)) && !(cfg && mlc_config_str(cfg, "bod.ionapi"))) {
        if (out)
            *out = NULL;
        return MLC_ERR_NOTFOUND;
    }
    mlc_err rc = resolve_named(cfg, vault, MLC_IONAPI_BOD_ENTRY, "bod.ionapi", "ION connection point", out,
                               source, err);
    if (rc == MLC_OK)
        snprintf((*out)->token_entry, sizeof (*out)->token_entry, "%s", MLC_IONAPI_BOD_TOKEN_ENTRY);
    return rc;
}

cJSON *mlc_ionapi_to_json(const mlc_ionapi *ion)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    struct {
        const char *k;
        const char *v;
    } kv[] = {{"ti", ion->ti}, {"cn", ion->cn},     {"ci", ion->ci},     {"cs", ion->cs},
              {"iu", ion->iu}, {"pu", ion->pu},     {"oa", ion->oa},     {"ot", ion->ot},
              {"or", ion->or_}, {"saak", ion->saak}, {"sask", ion->sask}};
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++)
        if (kv[i].v && !cJSON_AddStringToObject(o, kv[i].k, kv[i].v)) {
            cJSON_Delete(o);
            return NULL;
        }
    return o;
}

static void clear_token(mlc_ionapi *ion)
{
    forget(&ion->access_token);
    forget(&ion->refresh_token);
    forget(&ion->auth_header);
    free(ion->token_type);
    ion->token_type = NULL;
    ion->expires_at = ion->refresh_at = 0;
}

void mlc_ionapi_free(mlc_ionapi *ion)
{
    if (!ion)
        return;
    clear_token(ion);
    forget(&ion->cs);
    forget(&ion->sask);
    forget(&ion->saak);
    free(ion->ti);
    free(ion->cn);
    free(ion->ci);
    free(ion->iu);
    free(ion->pu);
    free(ion->ot);
    free(ion->oa);
    free(ion->or_);
    free(ion->token_url);
    free(ion->revoke_url);
    free(ion->api_base);
    free(ion);
}

const char *mlc_ionapi_tenant(const mlc_ionapi *ion) { return ion->ti; }
const char *mlc_ionapi_client_id(const mlc_ionapi *ion) { return ion->ci; }
const char *mlc_ionapi_app_name(const mlc_ionapi *ion) { return ion->cn ? ion->cn : ""; }
const char *mlc_ionapi_token_url(const mlc_ionapi *ion) { return ion->token_url; }
const char *mlc_ionapi_revoke_url(const mlc_ionapi *ion) { return ion->revoke_url; }
const char *mlc_ionapi_api_base(const mlc_ionapi *ion) { return ion->api_base; }
const char *mlc_ionapi_fingerprint(const mlc_ionapi *ion) { return ion->fingerprint; }
int mlc_ionapi_has_service_account(const mlc_ionapi *ion) { return ion->saak && ion->sask; }
long long mlc_ionapi_token_expiry(const mlc_ionapi *ion) { return ion->access_token ? ion->expires_at : 0; }

long long mlc_ionapi_cached_expiry(const mlc_vault *vault)
{
    const cJSON *e = vault ? mlc_vault_get(vault, MLC_IONAPI_TOKEN_ENTRY) : NULL;
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(e, "expires_at");
    return cJSON_IsNumber(ex) ? (long long)ex->valuedouble : 0;
}
int mlc_ionapi_login_count(const mlc_ionapi *ion) { return ion->logins; }
int mlc_ionapi_refresh_count(const mlc_ionapi *ion) { return ion->refreshes; }

void mlc_ionapi_register_secrets(const mlc_ionapi *ion, mlc_log *log)
{
    if (!log)
        return;
    mlc_log_secret(log, ion->cs);
    mlc_log_secret(log, ion->sask);
    mlc_log_secret(log, ion->saak);
    mlc_log_secret(log, ion->access_token);
    mlc_log_secret(log, ion->refresh_token);
}

void mlc_ionapi_attach(mlc_ionapi *ion, mlc_http *http, mlc_vault *vault, mlc_log *log,
                       long margin_s)
{
    ion->http = http;
    ion->vault = vault;
    ion->log = log;
    ion->margin_s = margin_s >= 0 ? margin_s : 300;
    mlc_ionapi_register_secrets(ion, log);
}

/* ---- token state -------------------------------------------------------- */

static int token_fresh(const mlc_ionapi *ion)
{
    return ion->access_token && !ion->invalid && now_s() < ion->refresh_at;
}

static mlc_err set_token(mlc_ionapi *ion, const char *access, const char *refresh,
                         const char *type, long long expires_at, long long refresh_at,
                         mlc_error *err)
{
    char *a = strdup(access);
    char *r = refresh && *refresh ? strdup(refresh) : NULL;
    char *t = strdup(type && *type ? type : "Bearer");
    size_t hn = strlen(access) + 64;
    char *h = malloc(hn);
    if (!a || !t || !h || (refresh && *refresh && !r)) {
        free(a);
        free(r);
        free(t);
        free(h);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    /* ION answers token_type "Bearer"; normalise the case of the scheme */
    snprintf(h, hn, "Authorization: %s %s", strcasecmp(t, "bearer") == 0 ? "Bearer" : t, a);
    /* keep a refresh token we already had if the refresh response did not rotate it */
    if (!r && ion->refresh_token) {
        r = ion->refresh_token;
        ion->refresh_token = NULL;
    }
    clear_token(ion);
    ion->access_token = a;
    ion->refresh_token = r;
    ion->token_type = t;
    ion->auth_header = h;
    ion->expires_at = expires_at;
    ion->refresh_at = refresh_at;
    ion->invalid = 0;
    mlc_log_secret(ion->log, a);
    mlc_log_secret(ion->log, r);
    return MLC_OK;
}

/* ---- the token cache shared between hosts ------------------------------ */

/* The sealed value: magic | expires_at (8 bytes, big-endian) | nonce | tag |
 * ciphertext. The expiry stands in clear so that `mlc status` reads it without
 * opening the token (an expiry is no secret); it is authenticated with the
 * value's name as associated data, so a changed expiry fails the decryption
 * like a changed token. "mlct1" values (no expiry header: mlc before it) are
 * still opened. */
#define SEAL_MAGIC "mlct2"
#define SEAL_MAGIC_V1 "mlct1"
#define SEAL_MAGIC_LEN 5
#define SEAL_EXPIRY 8
#define SEAL_HEAD (SEAL_MAGIC_LEN + SEAL_EXPIRY)
#define SEAL_NONCE 12
#define SEAL_TAG 16
#define SEAL_SALT "mlc ion token cache 1"

void mlc_ionapi_set_cache(mlc_ionapi *ion, const mlc_ionapi_cache *cache)
{
    ion->has_cache = cache != NULL;
    if (cache) {
        ion->cache = *cache;
        snprintf(ion->cache_name, sizeof ion->cache_name, "ion-token:%s:%s", ion->token_entry, ion->fingerprint);
        snprintf(ion->login_lock, sizeof ion->login_lock, "ion-login:%s", ion->fingerprint);
    }
}

void mlc_ionapi_share_cache_of(mlc_ionapi *ion, const mlc_ionapi *src)
{
    if (src && src->has_cache)
        mlc_ionapi_set_cache(ion, &src->cache);
}

/* The key of the cache: HKDF-SHA256 over the credentials' secrets, with the
 * value's name as info. Why these secrets and not the vault key: every host
 * that runs the profile holds the same .ionapi credentials (the token belongs
 * to them: the fingerprint checks it), while each host may have its own vault
 * and vault key; and whoever holds cs and sask can log in anyway, so the cache
 * gives nobody a token they could not obtain. Both are random secrets of the
 * ION API gateway, so extract-and-expand is enough (no stretching). */
static int seal_key(const mlc_ionapi *ion, const char *name, unsigned char key[32])
{
    size_t cn = strlen(ion->cs), sn = ion->sask ? strlen(ion->sask) : 0;
    unsigned char *ikm = malloc(cn + sn + 1);
    if (!ikm)
        return 0;
    memcpy(ikm, ion->cs, cn);
    ikm[cn] = 0;
    if (sn)
        memcpy(ikm + cn + 1, ion->sask, sn);
    EVP_KDF *k = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *c = k ? EVP_KDF_CTX_new(k) : NULL;
    EVP_KDF_free(k);
    int ok = 0;
    if (c) {
        OSSL_PARAM params[5];
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
        params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm, cn + sn + 1);
        params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)SEAL_SALT, sizeof SEAL_SALT - 1);
        params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)name, strlen(name));
        params[4] = OSSL_PARAM_construct_end();
        ok = EVP_KDF_derive(c, key, 32, params) == 1;
        EVP_KDF_CTX_free(c);
    }
    mlc_secret_free(ikm, cn + sn + 1);
    return ok;
}

/* plain -> magic | expiry | nonce | tag | ciphertext (name and the header as
 * associated data). */
static int seal(const mlc_ionapi *ion, const char *name, const char *plain, long long expires_at,
                unsigned char **out, size_t *outlen)
{
    unsigned char key[32];
    size_t pn = strlen(plain), n = SEAL_HEAD + SEAL_NONCE + SEAL_TAG + pn;
    unsigned char *b = malloc(n);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0, ok = b && c && pn <= INT32_MAX && seal_key(ion, name, key);
    if (ok) {
        unsigned char *nonce = b + SEAL_HEAD, *tag = nonce + SEAL_NONCE, *ct = tag + SEAL_TAG;
        unsigned long long ex = expires_at > 0 ? (unsigned long long)expires_at : 0;
        memcpy(b, SEAL_MAGIC, SEAL_MAGIC_LEN);
        for (int i = 0; i < SEAL_EXPIRY; i++)
            b[SEAL_MAGIC_LEN + i] = (unsigned char)(ex >> (8 * (SEAL_EXPIRY - 1 - i)));
        ok = RAND_bytes(nonce, SEAL_NONCE) == 1 && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE, NULL) == 1 &&
             EVP_EncryptInit_ex(c, NULL, NULL, key, nonce) == 1 &&
             EVP_EncryptUpdate(c, NULL, &len, (const unsigned char *)name, (int)strlen(name)) == 1 &&
             EVP_EncryptUpdate(c, NULL, &len, b, SEAL_HEAD) == 1 &&
             EVP_EncryptUpdate(c, ct, &len, (const unsigned char *)plain, (int)pn) == 1 &&
             EVP_EncryptFinal_ex(c, ct + len, &len) == 1 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SEAL_TAG, tag) == 1;
    }
    mlc_secret_wipe(key, sizeof key);
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        free(b);
        return 0;
    }
    *out = b;
    *outlen = n;
    return 1;
}

/* The expiry in a sealed value's clear header: > 0; 0 when it has none (an
 * "mlct1" value); -1 when it is not a sealed value at all. Nothing is decrypted
 * (and nothing verified: the header is authenticated only when opened). */
static long long sealed_expiry(const unsigned char *b, size_t n)
{
    if (n >= SEAL_MAGIC_LEN && memcmp(b, SEAL_MAGIC_V1, SEAL_MAGIC_LEN) == 0)
        return 0;
    if (n < SEAL_HEAD + SEAL_NONCE + SEAL_TAG || memcmp(b, SEAL_MAGIC, SEAL_MAGIC_LEN) != 0)
        return -1;
    unsigned long long ex = 0;
    for (int i = 0; i < SEAL_EXPIRY; i++)
        ex = (ex << 8) | b[SEAL_MAGIC_LEN + i];
    return ex > 0 && ex <= (unsigned long long)INT64_MAX ? (long long)ex : -1;
}

/* The plain text of a sealed value (NUL-terminated, malloc'd), or NULL when it
 * is not one of ours or does not verify. */
static char *unseal(const mlc_ionapi *ion, const char *name, const unsigned char *b, size_t n)
{
    int v1 = n >= SEAL_MAGIC_LEN && memcmp(b, SEAL_MAGIC_V1, SEAL_MAGIC_LEN) == 0;
    size_t head = v1 ? SEAL_MAGIC_LEN : SEAL_HEAD;
    if (n < head + SEAL_NONCE + SEAL_TAG || n > MLC_IONAPI_MAX_FILE ||
        (!v1 && memcmp(b, SEAL_MAGIC, SEAL_MAGIC_LEN) != 0))
        return NULL;
    unsigned char key[32];
    const unsigned char *nonce = b + head, *tag = nonce + SEAL_NONCE, *ct = tag + SEAL_TAG;
    size_t cn = n - (head + SEAL_NONCE + SEAL_TAG);
    char *plain = malloc(cn + 1);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0;
    int ok = plain && c && seal_key(ion, name, key) &&
             EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE, NULL) == 1 &&
             EVP_DecryptInit_ex(c, NULL, NULL, key, nonce) == 1 &&
             EVP_DecryptUpdate(c, NULL, &len, (const unsigned char *)name, (int)strlen(name)) == 1 &&
             (v1 || EVP_DecryptUpdate(c, NULL, &len, b, SEAL_HEAD) == 1) &&
             EVP_DecryptUpdate(c, (unsigned char *)plain, &len, ct, (int)cn) == 1 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SEAL_TAG, (void *)tag) == 1 &&
             EVP_DecryptFinal_ex(c, (unsigned char *)plain + len, &fin) == 1;
    mlc_secret_wipe(key, sizeof key);
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        mlc_secret_free(plain, cn + 1);
        return NULL;
    }
    plain[len + fin] = '\0';
    return plain;
}

/* The cached token entry of the shared cache (a JSON object, caller deletes
 * with mlc_secret_json_free), or NULL. */
static cJSON *shared_get(mlc_ionapi *ion)
{
    unsigned char *data = NULL;
    size_t n = 0;
    mlc_error err = {0};
    if (ion->cache.load(ion->cache.ud, ion->cache_name, &data, &n, &err) != MLC_OK) {
        if (ion->log)
            mlc_log_warn(ion->log, "shared token cache unreadable: %s", err.msg);
        return NULL;
    }
    if (!data || n == 0) {
        free(data);
        return NULL;
    }
    char *plain = unseal(ion, ion->cache_name, data, n);
    free(data);
    if (!plain) {
        if (ion->log)
            mlc_log_debug(ion->log, "shared token cache: the value does not decrypt with these credentials");
        return NULL;
    }
    cJSON *e = cJSON_Parse(plain);
    mlc_secret_free_str(plain);
    return e;
}

static void shared_put(mlc_ionapi *ion, const cJSON *e)
{
    mlc_error err = {0};
    mlc_err rc;
    if (!e) {
        rc = ion->cache.save(ion->cache.ud, ion->cache_name, NULL, 0, &err);
    } else {
        char *plain = cJSON_PrintUnformatted(e);
        unsigned char *b = NULL;
        size_t n = 0;
        const cJSON *ex = cJSON_GetObjectItemCaseSensitive(e, "expires_at");
        if (!plain || !seal(ion, ion->cache_name, plain, cJSON_IsNumber(ex) ? (long long)ex->valuedouble : 0, &b, &n))
            rc = mlc_error_set(&err, MLC_ERR_CRYPTO, "cannot encrypt the token");
        else
            rc = ion->cache.save(ion->cache.ud, ion->cache_name, b, n, &err);
        mlc_secret_free_str(plain);
        free(b);
    }
    if (rc != MLC_OK && ion->log)
        mlc_log_warn(ion->log, "token not cached: %s", err.msg);
}

long long mlc_ionapi_shared_expiry(mlc_ionapi *ion, mlc_error *err)
{
    if (!ion->has_cache) {
        mlc_error_set(err, MLC_ERR_USAGE, "ionapi: no shared token cache attached");
        return -1;
    }
    unsigned char *data = NULL;
    size_t n = 0;
    if (ion->cache.load(ion->cache.ud, ion->cache_name, &data, &n, err) != MLC_OK)
        return -1;
    if (!data || n == 0) {
        free(data);
        return 0;
    }
    long long ex = sealed_expiry(data, n);
    if (ex == 0) {
        /* written before the clear header: open it for expires_at alone (the
         * next login or refresh rewrites it with the header) */
        char *plain = unseal(ion, ion->cache_name, data, n);
        cJSON *e = plain ? cJSON_Parse(plain) : NULL;
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(e, "expires_at");
        ex = cJSON_IsNumber(x) && x->valuedouble > 0 ? (long long)x->valuedouble : -1;
        mlc_secret_json_free(e);
        mlc_secret_free_str(plain);
    }
    free(data);
    if (ex < 0)
        mlc_error_set(err, MLC_ERR_CRYPTO, "the cached token in %s is not one these credentials sealed",
                      ion->cache_name);
    return ex;
}

/* Cached token from the vault (or the shared cache) if it belongs to these
 * credentials and is fresh (and, when avoid is given, differs from the token
 * known to be rejected). */
static int adopt_cached(mlc_ionapi *ion, const cJSON *e, const char *avoid)
{
    if (!cJSON_IsObject(e))
        return 0;
    const cJSON *fp = cJSON_GetObjectItemCaseSensitive(e, "fingerprint");
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(e, "access_token");
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(e, "refresh_token");
    const cJSON *tt = cJSON_GetObjectItemCaseSensitive(e, "token_type");
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(e, "expires_at");
    const cJSON *ra = cJSON_GetObjectItemCaseSensitive(e, "refresh_at");
    if (!cJSON_IsString(fp) || strcmp(fp->valuestring, ion->fingerprint) != 0 ||
        !cJSON_IsString(at) || !cJSON_IsNumber(ex) || !cJSON_IsNumber(ra))
        return 0;
    /* adopt its refresh token even if the access token is stale */
    if (cJSON_IsString(rt) && (!ion->refresh_token || strcmp(ion->refresh_token, rt->valuestring))) {
        forget(&ion->refresh_token);
        ion->refresh_token = strdup(rt->valuestring);
        mlc_log_secret(ion->log, ion->refresh_token);
    }
    if (avoid && strcmp(avoid, at->valuestring) == 0)
        return 0;
    if (now_s() >= (long long)ra->valuedouble)
        return 0;
    return set_token(ion, at->valuestring, cJSON_IsString(rt) ? rt->valuestring : NULL,
                     cJSON_IsString(tt) ? tt->valuestring : NULL, (long long)ex->valuedouble,
                     (long long)ra->valuedouble, NULL) == MLC_OK;
}

static int load_cached(mlc_ionapi *ion, const char *avoid)
{
    if (ion->has_cache) {
        cJSON *e = shared_get(ion);
        int ok = adopt_cached(ion, e, avoid);
        mlc_secret_json_free(e);
        return ok;
    }
    if (!ion->vault)
        return 0;
    return adopt_cached(ion, mlc_vault_get(ion->vault, ion->token_entry), avoid);
}

static void store_cached(mlc_ionapi *ion)
{
    if ((!ion->vault && !ion->has_cache) || !ion->access_token)
        return;
    cJSON *e = cJSON_CreateObject();
    if (!e)
        return;
    cJSON_AddStringToObject(e, "fingerprint", ion->fingerprint);
    cJSON_AddStringToObject(e, "tenant", ion->ti);
    cJSON_AddStringToObject(e, "access_token", ion->access_token);
    if (ion->refresh_token)
        cJSON_AddStringToObject(e, "refresh_token", ion->refresh_token);
    cJSON_AddStringToObject(e, "token_type", ion->token_type ? ion->token_type : "Bearer");
    cJSON_AddNumberToObject(e, "expires_at", (double)ion->expires_at);
    cJSON_AddNumberToObject(e, "refresh_at", (double)ion->refresh_at);
    cJSON_AddNumberToObject(e, "obtained_at", (double)now_s());
    if (ion->has_cache) {
        shared_put(ion, e);
        mlc_secret_json_free(e);
        return;
    }
    mlc_error err = {0};
    if (mlc_vault_set(ion->vault, ion->token_entry, e, &err) != MLC_OK ||
        mlc_vault_save(ion->vault, &err) != MLC_OK) {
        if (ion->log)
            mlc_log_warn(ion->log, "token not cached: %s", err.msg);
    }
}

/* Appends "&key=value" (url-encoded) to a growing buffer. */
static int form_add(char **buf, size_t *len, const char *key, const char *value)
{
    char *ev = mlc_http_urlencode(value ? value : "");
    if (!ev)
        return -1;
    size_t add = strlen(key) + strlen(ev) + 2;
    char *nb = realloc(*buf, *len + add + 1);
    if (!nb) {
        mlc_secret_wipe(ev, strlen(ev));
        free(ev);
        return -1;
    }
    *buf = nb;
    *len += (size_t)snprintf(nb + *len, add + 1, "%s%s=%s", *len ? "&" : "", key, ev);
    mlc_secret_wipe(ev, strlen(ev));
    free(ev);
    return 0;
}

/* Error from a token endpoint response, without echoing secrets. */
static mlc_err token_error(mlc_ionapi *ion, const mlc_http_response *resp, const char *what,
                           mlc_error *err)
{
    char code[64] = "", desc[200] = "";
    cJSON *j = cJSON_ParseWithLength(resp->body, resp->body_len);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "error_description");
    if (cJSON_IsString(e))
        snprintf(code, sizeof code, "%s", e->valuestring);
    if (cJSON_IsString(d))
        snprintf(desc, sizeof desc, ": %s", d->valuestring);
    cJSON_Delete(j);
    mlc_log_redact(ion->log, desc);
    mlc_log_redact(ion->log, code);
    if (mlc_http_status_transient(resp->status))
        return mlc_error_set(err, MLC_ERR_TRANSIENT, "ION %s: token endpoint answered HTTP %ld",
                             what, resp->status);
    if (strcmp(code, "invalid_client") == 0 || resp->status == 401)
        return mlc_error_set(err, MLC_ERR_AUTH,
                             "ION %s refused for tenant %s: client id/secret (ci/cs) rejected "
                             "(HTTP %ld %s%s); re-download the .ionapi file",
                             what, ion->ti, resp->status, code[0] ? code : "", desc);
    if (strcmp(code, "invalid_grant") == 0)
        return mlc_error_set(err, MLC_ERR_AUTH,
                             "ION %s refused for tenant %s: service account keys (saak/sask) or "
                             "refresh token rejected (HTTP %ld invalid_grant%s); is the app a "
                             "Backend Service with a service account?",
                             what, ion->ti, resp->status, desc);
    return mlc_error_set(err, resp->status >= 400 && resp->status < 500 ? MLC_ERR_AUTH
                                                                         : MLC_ERR_REMOTE,
                         "ION %s refused for tenant %s: HTTP %ld %s%s", what, ion->ti,
                         resp->status, code, desc);
}

/* grant: "password" or "refresh_token". */
static mlc_err token_request(mlc_ionapi *ion, const char *grant, mlc_error *err)
{
    if (!ion->http)
        return mlc_error_set(err, MLC_ERR_USAGE, "ionapi: no http client attached");
    char *form = NULL;
    size_t flen = 0;
    int bad = form_add(&form, &flen, "grant_type", grant);
    if (strcmp(grant, "password") == 0) {
        bad |= form_add(&form, &flen, "username", ion->saak);
        bad |= form_add(&form, &flen, "password", ion->sask);
    } else {
        bad |= form_add(&form, &flen, "refresh_token", ion->refresh_token);
    }
    bad |= form_add(&form, &flen, "client_id", ion->ci);
    bad |= form_add(&form, &flen, "client_secret", ion->cs);
    if (bad) {
        if (form)
            mlc_secret_wipe(form, flen);
        free(form);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    static const char *const hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
                                       "Accept: application/json", NULL};
    mlc_http_request req = {.method = "POST", .url = ion->token_url, .headers = hdrs,
                            .body = form, .body_len = flen, .form_body = 1,
                            /* a token request creates nothing that a repeat would double */
                            .idempotent = 1};
    mlc_http_response resp;
    const char *what = strcmp(grant, "password") == 0 ? "login" : "token refresh";
    long long t0 = now_s();
    mlc_err rc = mlc_http_do(ion->http, &req, &resp, err);
    mlc_secret_wipe(form, flen);
    free(form);
    if (rc == MLC_OK && resp.status / 100 != 2)
        rc = token_error(ion, &resp, what, err);
    else if (rc == MLC_ERR_TRANSIENT && resp.status)
        rc = token_error(ion, &resp, what, err);
    else if (rc)
        mlc_error_prefix(err, "ION %s", what);
    if (rc) {
        if (resp.body)
            mlc_secret_wipe(resp.body, resp.body_len);
        mlc_http_response_free(&resp);
        return rc;
    }
    cJSON *j = cJSON_ParseWithLength(resp.body, resp.body_len);
    mlc_secret_wipe(resp.body, resp.body_len);
    mlc_http_response_free(&resp);
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(j, "access_token");
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(j, "refresh_token");
    const cJSON *tt = cJSON_GetObjectItemCaseSensitive(j, "token_type");
    const cJSON *ei = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
    if (!cJSON_IsString(at) || !at->valuestring[0]) {
        mlc_secret_json_free(j);
        return mlc_error_set(err, MLC_ERR_REMOTE, "ION %s: response has no access_token", what);
    }
    long long lifetime = 3600;
    if (cJSON_IsNumber(ei) && ei->valuedouble > 0)
        lifetime = (long long)ei->valuedouble;
    else if (cJSON_IsString(ei) && atoll(ei->valuestring) > 0)
        lifetime = atoll(ei->valuestring);
    long long margin = ion->margin_s;
    if (margin > lifetime / 4)
        margin = lifetime / 4;
    rc = set_token(ion, at->valuestring, cJSON_IsString(rt) ? rt->valuestring : NULL,
                   cJSON_IsString(tt) ? tt->valuestring : NULL, t0 + lifetime,
                   t0 + lifetime - margin, err);
    if (strcmp(grant, "password") == 0)
        ion->logins++;
    else
        ion->refreshes++;
    if (ion->log)
        mlc_log_debug(ion->log, "ION %s ok for tenant %s: token valid %lld s%s", what, ion->ti,
                      lifetime, ion->refresh_token ? " (refresh token issued)" : "");
    mlc_secret_json_free(j);
    return rc;
}

/* Refresh if we can, else log in. */
static mlc_err obtain(mlc_ionapi *ion, mlc_error *err)
{
    if (ion->refresh_token) {
        mlc_error rerr = {0};
        mlc_err rc = token_request(ion, "refresh_token", &rerr);
        if (rc == MLC_OK)
            return MLC_OK;
        if (rc != MLC_ERR_AUTH) {
            if (err)
                *err = rerr;
            return rc;
        }
        if (ion->log)
            mlc_log_info(ion->log, "refresh token refused; logging in again");
        forget(&ion->refresh_token);
    }
    if (!mlc_ionapi_has_service_account(ion))
        return mlc_error_set(err, MLC_ERR_CONFIG,
                             "ION credentials for tenant %s have no service account keys "
                             "(saak/sask): create the app as a Backend Service with "
                             "\"Create Service Account\" and download the .ionapi file again",
                             ion->ti);
    return token_request(ion, "password", err);
}

/* The lock that serialises logins: the shared cache's (across hosts), else the vault's. */
static mlc_err login_lock(mlc_ionapi *ion, mlc_error *err)
{
    if (ion->has_cache)
        return ion->cache.lock(ion->cache.ud, ion->login_lock, LOGIN_LOCK_TIMEOUT_S, err);
    return mlc_vault_lock(ion->vault, LOGIN_LOCK_TIMEOUT_S, err);
}

static void login_unlock(mlc_ionapi *ion)
{
    if (ion->has_cache)
        ion->cache.unlock(ion->cache.ud, ion->login_lock);
    else
        mlc_vault_unlock(ion->vault);
}

mlc_err mlc_ionapi_authorization(mlc_ionapi *ion, const char **header, mlc_error *err)
{
    if (token_fresh(ion)) {
        *header = ion->auth_header;
        return MLC_OK;
    }
    char *rejected = ion->invalid && ion->access_token ? strdup(ion->access_token) : NULL;
    mlc_err rc;
    int locked = 0;
    /* the vault as loaded at open time (or the shared cache) may already hold a
     * fresh token: no lock, no re-read (each vault re-read costs a key derivation) */
    if ((ion->vault || ion->has_cache) && load_cached(ion, rejected)) {
        rc = MLC_OK;
        goto done;
    }
    if (ion->vault || ion->has_cache) {
        /* serialise logins across processes (and hosts); re-read what others cached */
        mlc_error lerr = {0};
        if (login_lock(ion, &lerr) == MLC_OK) {
            locked = 1;
            if (!ion->has_cache && mlc_vault_reload(ion->vault, &lerr) != MLC_OK && ion->log)
                mlc_log_warn(ion->log, "token cache unreadable: %s", lerr.msg);
        } else if (ion->log) {
            mlc_log_warn(ion->log, "%s", lerr.msg);
        }
        if (load_cached(ion, rejected)) {
            if (ion->log)
                mlc_log_debug(ion->log, "using cached ION token (expires in %lld s)",
                              ion->expires_at - now_s());
            rc = MLC_OK;
            goto done;
        }
    }
    rc = obtain(ion, err);
    if (rc == MLC_OK)
        store_cached(ion);
done:
    if (locked)
        login_unlock(ion);
    mlc_secret_free_str(rejected);
    if (rc == MLC_OK)
        *header = ion->auth_header;
    return rc;
}

void mlc_ionapi_invalidate(mlc_ionapi *ion) { ion->invalid = 1; }

static mlc_err revoke_one(mlc_ionapi *ion, const char *token, const char *hint, mlc_error *err)
{
    char *form = NULL;
    size_t flen = 0;
    int bad = form_add(&form, &flen, "token", token);
    bad |= form_add(&form, &flen, "token_type_hint", hint);
    /* Basic ci:cs */
    size_t un = strlen(ion->ci) + strlen(ion->cs) + 2;
    char *up = malloc(un);
    unsigned char *b64 = malloc(4 * ((un + 2) / 3) + 1);
    char *auth = malloc(4 * ((un + 2) / 3) + 32);
    mlc_err rc = MLC_OK;
    if (bad || !up || !b64 || !auth) {
        rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        goto out;
    }
    snprintf(up, un, "%s:%s", ion->ci, ion->cs);
    EVP_EncodeBlock(b64, (const unsigned char *)up, (int)strlen(up));
    sprintf(auth, "Authorization: Basic %s", (char *)b64);
    mlc_log_secret(ion->log, (char *)b64);
    const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
                          "Accept: application/json", auth, NULL};
    mlc_http_request req = {.method = "POST", .url = ion->revoke_url, .headers = hdrs,
                            .body = form, .body_len = flen, .form_body = 1, .idempotent = 1};
    mlc_http_response resp;
    rc = mlc_http_do(ion->http, &req, &resp, err);
    if (rc == MLC_OK && resp.status / 100 != 2)
        rc = token_error(ion, &resp, "token revocation", err);
    mlc_http_response_free(&resp);
out:
    mlc_secret_free(form, flen);
    mlc_secret_free_str(up);
    mlc_secret_free_str((char *)b64);
    mlc_secret_free_str(auth);
    return rc;
}

mlc_err mlc_ionapi_revoke(mlc_ionapi *ion, mlc_error *err)
{
    mlc_err rc = MLC_OK;
    int locked = 0;
    if (ion->vault || ion->has_cache) {
        mlc_error lerr = {0};
        if (login_lock(ion, &lerr) == MLC_OK) {
            locked = 1;
            if (!ion->has_cache)
                mlc_vault_reload(ion->vault, &lerr);
        }
        cJSON *shared = ion->has_cache ? shared_get(ion) : NULL;
        const cJSON *e = ion->has_cache ? shared : mlc_vault_get(ion->vault, ion->token_entry);
        const cJSON *fp = cJSON_GetObjectItemCaseSensitive(e, "fingerprint");
        if (cJSON_IsString(fp) && strcmp(fp->valuestring, ion->fingerprint) == 0 &&
            !ion->access_token) {
            const cJSON *at = cJSON_GetObjectItemCaseSensitive(e, "access_token");
            const cJSON *rt = cJSON_GetObjectItemCaseSensitive(e, "refresh_token");
            if (cJSON_IsString(at))
                set_token(ion, at->valuestring, cJSON_IsString(rt) ? rt->valuestring : NULL,
                          NULL, 0, 0, NULL);
        }
        mlc_secret_json_free(shared);
    }
    if (ion->access_token || ion->refresh_token) {
        if (!ion->revoke_url) {
            if (ion->log)
                mlc_log_warn(ion->log, "the .ionapi file has no \"or\" (revoke path): token not "
                                       "revoked, it expires on its own");
        } else if (!ion->http) {
            rc = mlc_error_set(err, MLC_ERR_USAGE, "ionapi: no http client attached");
        } else {
            if (ion->refresh_token)
                rc = revoke_one(ion, ion->refresh_token, "refresh_token", err);
            if (rc == MLC_OK && ion->access_token)
                rc = revoke_one(ion, ion->access_token, "access_token", err);
        }
    }
    clear_token(ion);
    if (ion->has_cache) {
        shared_put(ion, NULL);
    } else if (ion->vault) {
        mlc_error verr = {0};
        if (mlc_vault_remove(ion->vault, ion->token_entry, &verr) == MLC_OK &&
            mlc_vault_save(ion->vault, &verr) != MLC_OK && rc == MLC_OK)
            rc = mlc_error_set(err, verr.code, "%s", verr.msg);
    }
    if (locked)
        login_unlock(ion);
    return rc;
}

/* ---- the vault entries `mlc creds` writes ------------------------------- */

static const char *entry_of(int bod) { return bod ? MLC_IONAPI_BOD_ENTRY : MLC_IONAPI_VAULT_ENTRY; }

mlc_err mlc_ionapi_check_urls(const mlc_ionapi *ion, mlc_error *err)
{
    mlc_err rc = mlc_http_check_url(ion->api_base, err);
    return rc ? rc : mlc_http_check_url(ion->token_url, err);
}

mlc_err mlc_ionapi_store(const mlc_ionapi *ion, mlc_vault *v, int bod, mlc_error *err)
{
    cJSON *entry = cJSON_CreateObject();
    cJSON *j = mlc_ionapi_to_json(ion);
    if (!entry || !j) {
        cJSON_Delete(entry);
        mlc_secret_json_free(j);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    char when[32];
    mlc_dates_format_rfc3339(time(NULL), when);
    cJSON_AddItemToObject(entry, "ionapi", j);
    cJSON_AddStringToObject(entry, "added_at", when);
    mlc_err rc = mlc_vault_lock(v, 30, err);
    if (rc) {
        mlc_secret_json_free(entry);
        return rc;
    }
    rc = mlc_vault_reload(v, err);
    if (rc == MLC_OK)
        rc = mlc_vault_set(v, entry_of(bod), entry, err);
    else
        mlc_secret_json_free(entry);
    if (rc == MLC_OK)
        rc = mlc_vault_save(v, err);
    mlc_vault_unlock(v);
    return rc;
}

mlc_err mlc_ionapi_remove(mlc_vault *v, int bod, const mlc_http_opts *http, mlc_log *log, mlc_error *err)
{
    mlc_err rc = mlc_vault_lock(v, 30, err);
    if (!rc)
        rc = mlc_vault_reload(v, err);
    const cJSON *e = rc ? NULL : mlc_vault_get(v, entry_of(bod));
    if (!rc && !e)
        rc = mlc_error_set(err, MLC_ERR_NOTFOUND, "no %s credentials in %s", bod ? "bod" : "cloudsuite",
                           mlc_vault_file(v));
    if (!rc) {
        mlc_ionapi *ion = NULL;
        mlc_error ierr = {0};
        const cJSON *inner = cJSON_GetObjectItemCaseSensitive(e, "ionapi");
        if (mlc_ionapi_from_json(inner ? inner : e, "vault entry", &ion, &ierr) == MLC_OK) {
            mlc_http *h = NULL;
            if (bod)
                snprintf(ion->token_entry, sizeof ion->token_entry, "%s", MLC_IONAPI_BOD_TOKEN_ENTRY);
            if (mlc_http_new(http, &h, &ierr) == MLC_OK) {
                mlc_ionapi_attach(ion, h, v, log, 0);
                if (mlc_ionapi_revoke(ion, &ierr) != MLC_OK)
                    mlc_log_warn(log, "token not revoked (%s); it expires on its own", ierr.msg);
            }
            mlc_http_free(h);
            mlc_ionapi_free(ion);
        }
        mlc_vault_remove(v, bod ? MLC_IONAPI_BOD_TOKEN_ENTRY : MLC_IONAPI_TOKEN_ENTRY, NULL);
        mlc_vault_remove(v, entry_of(bod), NULL);
        rc = mlc_vault_save(v, err);
    }
    mlc_vault_unlock(v);
    return rc;
}

cJSON *mlc_ionapi_describe(const mlc_ionapi *ion, const char *source, const mlc_vault *vault)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "kind", "credential");
    cJSON_AddStringToObject(o, "name", "cloudsuite");
    cJSON_AddStringToObject(o, "source", source);
    cJSON_AddStringToObject(o, "tenant", ion->ti);
    cJSON_AddStringToObject(o, "fingerprint", ion->fingerprint);
    cJSON_AddBoolToObject(o, "service_account", mlc_ionapi_has_service_account(ion));
    const cJSON *t = vault ? mlc_vault_get(vault, MLC_IONAPI_TOKEN_ENTRY) : NULL;
    const cJSON *tfp = cJSON_GetObjectItemCaseSensitive(t, "fingerprint");
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(t, "expires_at");
    if (cJSON_IsString(tfp) && !strcmp(tfp->valuestring, ion->fingerprint) && cJSON_IsNumber(ex)) {
        char when[32];
        mlc_dates_format_rfc3339((time_t)ex->valuedouble, when);
        cJSON_AddStringToObject(o, "token_expires", when);
        cJSON_AddBoolToObject(o, "token_valid", (long long)ex->valuedouble > now_s());
    } else {
        cJSON_AddStringToObject(o, "token_expires", "none");
    }
    return o;
}

cJSON *mlc_ionapi_describe_profile(const mlc_config *cfg, const mlc_vault *vault, mlc_log *log)
{
    mlc_ionapi *ion = NULL;
    char *src = NULL;
    mlc_error err = {0};
    cJSON *o = NULL;
    if (mlc_ionapi_resolve(cfg, vault, &ion, &src, &err) == MLC_OK)
        o = mlc_ionapi_describe(ion, src, vault);
    else if (vault && mlc_vault_get(vault, MLC_IONAPI_VAULT_ENTRY))
        mlc_log_warn(log, "%s", err.msg);
    mlc_ionapi_free(ion);
    free(src);
    return o;
}
