/*
 * vault.c: encrypted credential store (see vault.h): AES-256-GCM with OpenSSL EVP
 * under a key from scrypt (typed passphrases) or HKDF-SHA256 (key files of 32+
 * bytes), atomic 0600 writes, permission checks, inter-process lock and
 * merge-on-save, passphrase from env / key file / terminal.
 * Not here: what the entries mean (lib/ionapi, lib/sscreds), reading files and
 * wiping (lib/secret).
 */
#include "vault.h"
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAGIC "MLCVAULT"
#define MAGIC_LEN 8
#define SALT_LEN 16
#define NONCE_LEN 12
#define TAG_LEN 16
#define HDR_LEN (MAGIC_LEN + 4 + SALT_LEN + NONCE_LEN)
#define KEY_LEN 32
#define DEFAULT_LOG2N 15
#define FORMAT_VERSION 2
#define HKDF_MIN_KEY 32
#define HKDF_INFO "mlc vault 2 aes-256-gcm"
#define MAX_VAULT_BYTES (16u << 20)


/* ---- helpers ------------------------------------------------------------ */

/* Entry members whose values are secrets (tenant names, URLs are not: masking
 * them would make every log line useless). */
static const char *secret_keys[] = {"cs", "sask", "saak", "access_token", "refresh_token",
                                    "api_key", "v2_key", "v1_key", "v1_secret", "key",
                                    "secret", "password", "passphrase"};

static int is_secret_key(const char *k)
{
    for (size_t i = 0; k && i < sizeof secret_keys / sizeof *secret_keys; i++)
        if (strcmp(k, secret_keys[i]) == 0)
            return 1;
    return 0;
}

static void register_secrets(mlc_log *log, const cJSON *j)
{
    if (!log)
        return;
    for (const cJSON *c = j; c; c = c->next) {
        if (cJSON_IsString(c) && c->valuestring && is_secret_key(c->string))
            mlc_log_secret(log, c->valuestring);
        if (c->child)
            register_secrets(log, c->child);
    }
}

/* What a header says about the key derivation: format 1 is always scrypt with
 * (log2n, r, p); format 2 names its KDF (scrypt with p = 1, or HKDF-SHA256). */
typedef struct kdf_params {
    int kdf; /* MLC_VAULT_KDF_* */
    int log2n, r, p;
} kdf_params;

/* Parses bytes 8..11 of a header; 0 = a version or KDF this code does not know. */
static int parse_params(const unsigned char *h, kdf_params *kp)
{
    memset(kp, 0, sizeof *kp);
    if (h[8] == 1) {
        *kp = (kdf_params){MLC_VAULT_KDF_SCRYPT, h[9], h[10], h[11]};
        return 1;
    }
    if (h[8] != FORMAT_VERSION)
        return 0;
    if (h[9] == MLC_VAULT_KDF_SCRYPT) {
        *kp = (kdf_params){MLC_VAULT_KDF_SCRYPT, h[10], h[11], 1};
        return 1;
    }
    if (h[9] == MLC_VAULT_KDF_HKDF && h[10] == 0 && h[11] == 0) {
        kp->kdf = MLC_VAULT_KDF_HKDF;
        return 1;
    }
    return 0;
}

static void write_params(unsigned char *h, const kdf_params *kp)
{
    h[8] = FORMAT_VERSION;
    h[9] = (unsigned char)kp->kdf;
    h[10] = kp->kdf == MLC_VAULT_KDF_SCRYPT ? (unsigned char)kp->log2n : 0;
    h[11] = kp->kdf == MLC_VAULT_KDF_SCRYPT ? (unsigned char)kp->r : 0;
}

static int same_params(const kdf_params *a, const kdf_params *b)
{
    return a->kdf == b->kdf && a->log2n == b->log2n && a->r == b->r && a->p == b->p;
}

/* HKDF-SHA256 (RFC 5869): the key file is already 256 bits of randomness, so
 * extract-and-expand is enough; no stretching, no memory cost. */
static int derive_hkdf(const char *pass, const unsigned char *salt, unsigned char key[KEY_LEN])
{
    EVP_KDF *k = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *c = k ? EVP_KDF_CTX_new(k) : NULL;
    EVP_KDF_free(k);
    if (!c)
        return 0;
    OSSL_PARAM params[5];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)pass, strlen(pass));
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, SALT_LEN);
    params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)HKDF_INFO,
                                                  sizeof HKDF_INFO - 1);
    params[4] = OSSL_PARAM_construct_end();
    int ok = EVP_KDF_derive(c, key, KEY_LEN, params) == 1;
    EVP_KDF_CTX_free(c);
    return ok;
}

static int derive_key(const char *pass, const unsigned char *salt, const kdf_params *kp,
                      unsigned char key[KEY_LEN])
{
    if (kp->kdf == MLC_VAULT_KDF_HKDF)
        return derive_hkdf(pass, salt, key);
    int log2n = kp->log2n, r = kp->r, p = kp->p;
    if (kp->kdf != MLC_VAULT_KDF_SCRYPT || log2n < 10 || log2n > 22 || r < 1 || r > 32 || p < 1 ||
        p > 16)
        return 0;
    uint64_t N = (uint64_t)1 << log2n;
    uint64_t maxmem = 128ull * N * (uint64_t)r * (uint64_t)p + (64ull << 20);
    return EVP_PBE_scrypt(pass, strlen(pass), salt, SALT_LEN, N, (uint64_t)r, (uint64_t)p,
                          maxmem, key, KEY_LEN) == 1;
}

/* The derived key of the last salt/parameters seen, so that re-reading and
 * re-writing a vault in one process costs one scrypt, not one per operation.
 * Every write still uses a fresh random nonce. */
typedef struct key_cache {
    int valid;
    kdf_params params;
    unsigned char salt[SALT_LEN];
    unsigned char key[KEY_LEN];
} key_cache;

struct mlc_vault {
    char *path;
    char *lockpath;
    char *pass;
    kdf_params file;  /* the derivation of the file as last read or written */
    int want_kdf;     /* what the key source asks for (mlc_vault_open_kdf) */
    cJSON *root;
    cJSON *dirty;   /* names changed by this process: {"name": true (set) | false (removed)} */
    int lockfd;
    int lockdepth;
    mlc_log *log;
    key_cache kc;
};

static void kc_clear(key_cache *kc)
{
    if (kc)
        mlc_secret_wipe(kc, sizeof *kc);
}

static int kc_match(const key_cache *kc, const kdf_params *params, const unsigned char *salt)
{
    return kc && kc->valid && same_params(&kc->params, params) &&
           CRYPTO_memcmp(kc->salt, salt, SALT_LEN) == 0;
}

static void kc_store(key_cache *kc, const kdf_params *params, const unsigned char *salt,
                     const unsigned char *key)
{
    if (!kc)
        return;
    kc->params = *params;
    memcpy(kc->salt, salt, SALT_LEN);
    memcpy(kc->key, key, KEY_LEN);
    kc->valid = 1;
}

static mlc_err seal_kc(const char *plain, size_t len, const char *passphrase,
                       const kdf_params *kp, key_cache *kc, unsigned char **out, size_t *outlen,
                       mlc_error *err);
static mlc_err unseal_kc(const unsigned char *buf, size_t len, const char *passphrase,
                         const char *name, key_cache *kc, char **out, size_t *outlen,
                         mlc_error *err);

mlc_err mlc_vault_seal(const char *plain, size_t len, const char *passphrase, int kdf,
                       int scrypt_log2n, unsigned char **out, size_t *outlen, mlc_error *err)
{
    kdf_params kp = {kdf == MLC_VAULT_KDF_HKDF ? MLC_VAULT_KDF_HKDF : MLC_VAULT_KDF_SCRYPT,
                     scrypt_log2n > 0 ? scrypt_log2n : DEFAULT_LOG2N, 8, 1};
    return seal_kc(plain, len, passphrase, &kp, NULL, out, outlen, err);
}

mlc_err mlc_vault_unseal(const unsigned char *buf, size_t len, const char *passphrase,
                         const char *name, char **out, size_t *outlen, mlc_error *err)
{
    return unseal_kc(buf, len, passphrase, name, NULL, out, outlen, err);
}

static mlc_err seal_kc(const char *plain, size_t len, const char *passphrase,
                       const kdf_params *kp, key_cache *kc, unsigned char **out, size_t *outlen,
                       mlc_error *err)
{
    size_t total = HDR_LEN + len + TAG_LEN;
    unsigned char *buf = malloc(total);
    unsigned char key[KEY_LEN];
    if (!buf)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    memcpy(buf, MAGIC, MAGIC_LEN);
    write_params(buf, kp);
    unsigned char *salt = buf + 12, *nonce = salt + SALT_LEN;
    int reuse = kc && kc->valid && same_params(&kc->params, kp);
    if (reuse)
        memcpy(salt, kc->salt, SALT_LEN);
    if ((!reuse && RAND_bytes(salt, SALT_LEN) != 1) || RAND_bytes(nonce, NONCE_LEN) != 1) {
        free(buf);
        return mlc_error_set(err, MLC_ERR_CRYPTO, "vault: no randomness (RAND_bytes failed)");
    }
    if (reuse) {
        memcpy(key, kc->key, KEY_LEN);
    } else if (!derive_key(passphrase, salt, kp, key)) {
        free(buf);
        return mlc_error_set(err, MLC_ERR_CRYPTO, "vault: %s key derivation failed",
                             kp->kdf == MLC_VAULT_KDF_HKDF ? "HKDF" : "scrypt");
    } else {
        kc_store(kc, kp, salt, key);
    }
    mlc_err rc = MLC_OK;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, f = 0;
    if (!c || EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
        EVP_EncryptInit_ex(c, NULL, NULL, key, nonce) != 1 ||
        EVP_EncryptUpdate(c, NULL, &n, buf, HDR_LEN) != 1 ||
        EVP_EncryptUpdate(c, buf + HDR_LEN, &n, (const unsigned char *)plain, (int)len) != 1 ||
        EVP_EncryptFinal_ex(c, buf + HDR_LEN + n, &f) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, buf + HDR_LEN + len) != 1)
        rc = mlc_error_set(err, MLC_ERR_CRYPTO, "vault: encryption failed");
    EVP_CIPHER_CTX_free(c);
    mlc_secret_wipe(key, sizeof key);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *outlen = total;
    return MLC_OK;
}

static mlc_err unseal_kc(const unsigned char *buf, size_t len, const char *passphrase,
                         const char *name, key_cache *kc, char **out, size_t *outlen,
                         mlc_error *err)
{
    if (!name)
        name = "vault";
    if (len < HDR_LEN + TAG_LEN || memcmp(buf, MAGIC, MAGIC_LEN) != 0)
        return mlc_error_set(err, MLC_ERR_CRYPTO, "%s: not an mlc vault (bad header)", name);
    kdf_params kp;
    if (!parse_params(buf, &kp))
        return mlc_error_set(err, MLC_ERR_CRYPTO,
                             "%s: unsupported vault format %d (key derivation %d)", name, buf[8],
                             buf[9]);
    unsigned char key[KEY_LEN];
    const unsigned char *salt = buf + 12, *nonce = salt + SALT_LEN;
    int cached = kc_match(kc, &kp, salt);
    if (cached)
        memcpy(key, kc->key, KEY_LEN);
    else if (!derive_key(passphrase, salt, &kp, key))
        return mlc_error_set(err, MLC_ERR_CRYPTO,
                             "%s: cannot derive key (bad or tampered header parameters)", name);
    size_t clen = len - HDR_LEN - TAG_LEN;
    char *plain = malloc(clen + 1);
    if (!plain) {
        mlc_secret_wipe(key, sizeof key);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, f = 0, ok = 0;
    unsigned char tag[TAG_LEN];
    memcpy(tag, buf + len - TAG_LEN, TAG_LEN);
    if (c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
        EVP_DecryptInit_ex(c, NULL, NULL, key, nonce) == 1 &&
        EVP_DecryptUpdate(c, NULL, &n, buf, HDR_LEN) == 1 &&
        EVP_DecryptUpdate(c, (unsigned char *)plain, &n, buf + HDR_LEN, (int)clen) == 1 &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1 &&
        EVP_DecryptFinal_ex(c, (unsigned char *)plain + n, &f) == 1)
        ok = 1;
    EVP_CIPHER_CTX_free(c);
    if (ok && !cached)
        kc_store(kc, &kp, salt, key);
    mlc_secret_wipe(key, sizeof key);
    if (!ok) {
        mlc_secret_free(plain, clen + 1);
        return mlc_error_set(err, MLC_ERR_CRYPTO,
                             "%s: cannot decrypt: wrong vault key, or the file was modified "
                             "(authentication tag mismatch)",
                             name);
    }
    plain[clen] = '\0';
    *out = plain;
    *outlen = clen;
    return MLC_OK;
}

mlc_err mlc_vault_check_private(const char *path, const char *what, mlc_error *err)
{
    return mlc_secret_check_private(path, what, err);
}

/* ---- passphrase --------------------------------------------------------- */

static char *prompt_tty(const char *prompt)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return NULL;
    struct termios old, noecho;
    if (tcgetattr(fd, &old) != 0) {
        close(fd);
        return NULL;
    }
    noecho = old;
    noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
    noecho.c_lflag |= ICANON;
    if (write(fd, prompt, strlen(prompt)) < 0) {
        close(fd);
        return NULL;
    }
    tcsetattr(fd, TCSAFLUSH, &noecho);
    char buf[1024];
    size_t n = 0;
    for (;;) {
        char ch;
        ssize_t r = read(fd, &ch, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || ch == '\n' || ch == '\r')
            break;
        if (n + 1 < sizeof buf)
            buf[n++] = ch;
    }
    buf[n] = '\0';
    tcsetattr(fd, TCSAFLUSH, &old);
    if (write(fd, "\n", 1) < 0) { /* nothing to do */
    }
    close(fd);
    char *s = strdup(buf);
    mlc_secret_wipe(buf, sizeof buf);
    return s;
}

void mlc_vault_passphrase_free(char *pass)
{
    if (pass)
        mlc_secret_free(pass, strlen(pass));
}

mlc_err mlc_vault_passphrase(const char *env_key, const char *env_file, int allow_prompt,
                             int confirm, char **out, mlc_error *err)
{
    return mlc_vault_key(env_key, env_file, allow_prompt, confirm, out, NULL, err);
}

/* A key file strong enough for HKDF: at least HKDF_MIN_KEY bytes and no blank, so
 * a sentence someone typed into a file is still stretched with scrypt. */
static int strong_key_file(const unsigned char *k, size_t len)
{
    return len >= HKDF_MIN_KEY && !memchr(k, ' ', len) && !memchr(k, '\t', len);
}

mlc_err mlc_vault_key(const char *env_key, const char *env_file, int allow_prompt, int confirm,
                      char **out, int *kdf, mlc_error *err)
{
    if (kdf)
        *kdf = MLC_VAULT_KDF_SCRYPT;
    const char *v = env_key ? getenv(env_key) : NULL;
    if (v && *v) {
        *out = strdup(v);
        return *out ? MLC_OK : mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    const char *f = env_file ? getenv(env_file) : NULL;
    if (f && *f) {
        char *buf;
        size_t len;
        mlc_err rc = mlc_secret_read(f, 64 * 1024, "key file", MLC_SECRET_PRIVATE, &buf, &len, err);
        if (rc)
            return rc == MLC_ERR_NOTFOUND ? mlc_error_set(err, MLC_ERR_CONFIG,
                                                          "%s=%s: no such file", env_file, f)
                                          : rc;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            buf[--len] = '\0';
        if (len == 0 || memchr(buf, '\0', len)) {
            mlc_secret_free(buf, len + 1);
            return mlc_error_set(err, MLC_ERR_CONFIG, "key file %s: empty or binary", f);
        }
        if (kdf && strong_key_file((const unsigned char *)buf, len))
            *kdf = MLC_VAULT_KDF_HKDF;
        *out = buf;
        return MLC_OK;
    }
    if (allow_prompt && isatty(STDIN_FILENO)) {
        char *p = prompt_tty(confirm ? "New vault passphrase: " : "Vault passphrase: ");
        if (p && confirm) {
            char *q = prompt_tty("Repeat passphrase: ");
            int same = q && strcmp(p, q) == 0;
            mlc_vault_passphrase_free(q);
            if (!same) {
                mlc_vault_passphrase_free(p);
                return mlc_error_set(err, MLC_ERR_CONFIG, "passphrases do not match");
            }
        }
        if (p && *p) {
            *out = p;
            return MLC_OK;
        }
        mlc_vault_passphrase_free(p);
        return mlc_error_set(err, MLC_ERR_CONFIG, "no vault passphrase given");
    }
    return mlc_error_set(err, MLC_ERR_CONFIG,
                         "no vault key: set %s or %s (a file readable only by you)%s",
                         env_key ? env_key : "MLC_VAULT_KEY",
                         env_file ? env_file : "MLC_VAULT_KEY_FILE",
                         allow_prompt ? ", or run on a terminal" : "");
}

char *mlc_vault_path(const mlc_config *cfg)
{
    const char *v = cfg ? mlc_config_str(cfg, "vault") : NULL;
    if (v && *v)
        return mlc_config_file(cfg, "vault");
    char *dir = mlc_config_state_dir(cfg);
    if (!dir)
        return NULL;
    const char *prof = cfg ? mlc_config_profile(cfg) : NULL;
    if (!prof || !*prof)
        prof = "default";
    size_t n = strlen(dir) + strlen(prof) + 16;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s.vault", dir, prof);
    free(dir);
    return p;
}

int mlc_vault_key_available(void)
{
    const char *k = getenv("MLC_VAULT_KEY"), *f = getenv("MLC_VAULT_KEY_FILE");
    return (k && *k) || (f && *f);
}

mlc_err mlc_vault_open_profile(const mlc_config *cfg, mlc_log *log, int flags, mlc_vault **out,
                               mlc_error *err)
{
    char *path = mlc_vault_path(cfg);
    if (!path)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT && !(flags & MLC_VAULT_CREATE)) {
        mlc_err rc = mlc_error_set(err, MLC_ERR_NOTFOUND, "no vault at %s", path);
        free(path);
        return rc;
    }
    /* An unsafe vault is refused before any key is looked for: "no key" must
     * never hide it (MLC_ERR_CRYPTO is not taken for "no vault" by callers). */
    mlc_err rc = mlc_vault_check_private(path, "vault", err);
    if (rc == MLC_ERR_CONFIG) {
        free(path);
        if (err)
            err->code = MLC_ERR_CRYPTO;
        return MLC_ERR_CRYPTO;
    }
    char *pass = NULL;
    int kdf = MLC_VAULT_KDF_SCRYPT;
    rc = mlc_vault_key("MLC_VAULT_KEY", "MLC_VAULT_KEY_FILE", (flags & MLC_VAULT_PROMPT) != 0, 0, &pass, &kdf, err);
    if (rc == MLC_OK) {
        rc = mlc_vault_open_kdf(path, pass, kdf, (flags & MLC_VAULT_CREATE) != 0, log, out, err);
        mlc_vault_passphrase_free(pass);
    } else {
        const char *k = getenv("MLC_VAULT_KEY"), *kf = getenv("MLC_VAULT_KEY_FILE");
        if (rc == MLC_ERR_CONFIG && ((k && *k) || (kf && *kf))) {
            rc = MLC_ERR_CRYPTO; /* a key was given but is unusable (e.g. a key file at 0644) */
            if (err)
                err->code = rc;
        }
        if (err)
            mlc_error_prefix(err, "vault %s", path);
    }
    free(path);
    return rc;
}

mlc_err mlc_vault_open_for_update(const mlc_config *cfg, mlc_log *log, mlc_vault **out, mlc_error *err)
{
    char *path = mlc_vault_path(cfg);
    if (!path)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    struct stat st;
    int exists = stat(path, &st) == 0;
    char *pass = NULL;
    int kdf = MLC_VAULT_KDF_SCRYPT;
    mlc_err rc = mlc_vault_key("MLC_VAULT_KEY", "MLC_VAULT_KEY_FILE", 1, !exists, &pass, &kdf, err);
    if (rc == MLC_OK) {
        rc = mlc_vault_open_kdf(path, pass, kdf, 1, log, out, err);
        mlc_vault_passphrase_free(pass);
    } else if (err) {
        mlc_error_prefix(err, "vault %s", path);
    }
    free(path);
    return rc;
}

/* ---- open/load/save ----------------------------------------------------- */

static mlc_err load(mlc_vault *v, int create, mlc_error *err)
{
    mlc_err rc = mlc_vault_check_private(v->path, "vault", err);
    if (rc == MLC_ERR_NOTFOUND && create) {
        mlc_secret_json_free(v->root);
        v->root = cJSON_CreateObject();
        return v->root ? MLC_OK : mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    if (rc)
        return rc;
    char *sealed;
    size_t len;
    rc = mlc_secret_read(v->path, MAX_VAULT_BYTES, "vault", 0, &sealed, &len, err);
    if (rc)
        return rc;
    const unsigned char *buf = (const unsigned char *)sealed;
    char *plain;
    size_t plen;
    rc = unseal_kc(buf, len, v->pass, v->path, &v->kc, &plain, &plen, err);
    if (rc == MLC_OK)
        parse_params(buf, &v->file);
    free(sealed);
    if (rc)
        return rc;
    cJSON *root = cJSON_ParseWithLength(plain, plen);
    mlc_secret_free(plain, plen + 1);
    if (!root || !cJSON_IsObject(root)) {
        mlc_secret_json_free(root);
        return mlc_error_set(err, MLC_ERR_CRYPTO, "vault %s: decrypted contents are not a JSON object",
                             v->path);
    }
    mlc_secret_json_free(v->root);
    v->root = root;
    register_secrets(v->log, root->child);
    return MLC_OK;
}

static int mkdir_p(const char *dir)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

mlc_err mlc_vault_open(const char *path, const char *passphrase, int create, mlc_log *log,
                       mlc_vault **out, mlc_error *err)
{
    return mlc_vault_open_kdf(path, passphrase, MLC_VAULT_KDF_SCRYPT, create, log, out, err);
}

mlc_err mlc_vault_open_kdf(const char *path, const char *passphrase, int kdf, int create,
                           mlc_log *log, mlc_vault **out, mlc_error *err)
{
    if (!path || !passphrase || !*passphrase)
        return mlc_error_set(err, MLC_ERR_CONFIG, "vault: no path or empty passphrase");
    mlc_vault *v = calloc(1, sizeof *v);
    if (!v)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    v->lockfd = -1;
    v->log = log;
    v->want_kdf = kdf == MLC_VAULT_KDF_HKDF ? MLC_VAULT_KDF_HKDF : MLC_VAULT_KDF_SCRYPT;
    v->file = (kdf_params){v->want_kdf, DEFAULT_LOG2N, 8, 1};
    v->path = strdup(path);
    v->pass = strdup(passphrase);
    v->dirty = cJSON_CreateObject();
    size_t ln = strlen(path) + 6;
    v->lockpath = malloc(ln);
    if (!v->path || !v->pass || !v->dirty || !v->lockpath) {
        mlc_vault_free(v);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    snprintf(v->lockpath, ln, "%s.lock", path);
    mlc_log_secret(log, passphrase);
    mlc_err rc = load(v, create, err);
    if (rc) {
        mlc_vault_free(v);
        return rc;
    }
    *out = v;
    return MLC_OK;
}

void mlc_vault_free(mlc_vault *v)
{
    if (!v)
        return;
    if (v->lockfd >= 0)
        close(v->lockfd);
    mlc_secret_json_free(v->root);
    cJSON_Delete(v->dirty);
    kc_clear(&v->kc);
    if (v->pass)
        mlc_secret_free(v->pass, strlen(v->pass));
    free(v->path);
    free(v->lockpath);
    free(v);
}

const char *mlc_vault_file(const mlc_vault *v) { return v->path; }
int mlc_vault_kdf(const mlc_vault *v) { return v->file.kdf; }
const cJSON *mlc_vault_entries(const mlc_vault *v) { return v->root; }

const cJSON *mlc_vault_get(const mlc_vault *v, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(v->root, name);
}

static void mark_dirty(mlc_vault *v, const char *name, int set)
{
    cJSON_DeleteItemFromObjectCaseSensitive(v->dirty, name);
    cJSON_AddBoolToObject(v->dirty, name, set);
}

mlc_err mlc_vault_set(mlc_vault *v, const char *name, cJSON *value, mlc_error *err)
{
    if (!value)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    register_secrets(v->log, value);
    cJSON *old = cJSON_DetachItemFromObjectCaseSensitive(v->root, name);
    mlc_secret_json_free(old);
    if (!cJSON_AddItemToObject(v->root, name, value)) {
        mlc_secret_json_free(value);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    mark_dirty(v, name, 1);
    return MLC_OK;
}

mlc_err mlc_vault_remove(mlc_vault *v, const char *name, mlc_error *err)
{
    cJSON *old = cJSON_DetachItemFromObjectCaseSensitive(v->root, name);
    mark_dirty(v, name, 0);
    if (!old)
        return mlc_error_set(err, MLC_ERR_NOTFOUND, "vault %s: no entry '%s'", v->path, name);
    mlc_secret_json_free(old);
    return MLC_OK;
}

mlc_err mlc_vault_lock(mlc_vault *v, int timeout_s, mlc_error *err)
{
    if (v->lockdepth > 0) {
        v->lockdepth++;
        return MLC_OK;
    }
    char *dir = dir_of(v->path);
    if (!dir || mkdir_p(dir) != 0) {
        int e = errno;
        free(dir);
        return mlc_error_set(err, MLC_ERR_IO, "vault directory for %s: %s", v->path, strerror(e));
    }
    free(dir);
    int fd = open(v->lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return mlc_error_set(err, MLC_ERR_IO, "vault lock %s: %s", v->lockpath, strerror(errno));
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            int e = errno;
            close(fd);
            return mlc_error_set(err, MLC_ERR_IO, "vault lock %s: %s", v->lockpath, strerror(e));
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= timeout_s) {
            close(fd);
            return mlc_error_set(err, MLC_ERR_BUSY, "vault %s is locked by another process",
                                 v->path);
        }
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    v->lockfd = fd;
    v->lockdepth = 1;
    return MLC_OK;
}

void mlc_vault_unlock(mlc_vault *v)
{
    if (v->lockdepth <= 0)
        return;
    if (--v->lockdepth == 0) {
        flock(v->lockfd, LOCK_UN);
        close(v->lockfd);
        v->lockfd = -1;
    }
}

mlc_err mlc_vault_reload(mlc_vault *v, mlc_error *err)
{
    mlc_err rc = load(v, 1, err);
    if (rc == MLC_OK) {
        cJSON_Delete(v->dirty);
        v->dirty = cJSON_CreateObject();
    }
    return rc;
}

static mlc_err write_atomic(const char *path, const unsigned char *buf, size_t len,
                            mlc_error *err)
{
    char *dir = dir_of(path);
    if (!dir)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    if (mkdir_p(dir) != 0) {
        int e = errno;
        free(dir);
        return mlc_error_set(err, MLC_ERR_IO, "vault directory for %s: %s", path, strerror(e));
    }
    size_t tn = strlen(path) + 32;
    char *tmp = malloc(tn);
    if (!tmp) {
        free(dir);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    snprintf(tmp, tn, "%s.tmp.%ld", path, (long)getpid());
    mlc_err rc = MLC_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        rc = mlc_error_set(err, MLC_ERR_IO, "vault %s: cannot create %s: %s", path, tmp,
                           strerror(errno));
        goto out;
    }
    fchmod(fd, 0600);
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = mlc_error_set(err, MLC_ERR_IO, "vault %s: write: %s", tmp, strerror(errno));
            break;
        }
        off += (size_t)w;
    }
    if (!rc && fsync(fd) != 0)
        rc = mlc_error_set(err, MLC_ERR_IO, "vault %s: fsync: %s", tmp, strerror(errno));
    if (close(fd) != 0 && !rc)
        rc = mlc_error_set(err, MLC_ERR_IO, "vault %s: close: %s", tmp, strerror(errno));
    if (!rc && rename(tmp, path) != 0)
        rc = mlc_error_set(err, MLC_ERR_IO, "vault %s: rename: %s", path, strerror(errno));
    if (rc) {
        unlink(tmp);
        goto out;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
out:
    free(tmp);
    free(dir);
    return rc;
}

static mlc_err write_root(mlc_vault *v, const cJSON *root, mlc_error *err)
{
    char *plain = cJSON_PrintUnformatted(root);
    if (!plain)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    size_t plen = strlen(plain);
    unsigned char *sealed;
    size_t slen;
    /* A key file asks for HKDF: a scrypt vault opened with one moves to HKDF on this
     * write. A vault already on HKDF stays there (its key is that strong secret). A
     * passphrase vault keeps its scrypt cost; format 1 files are rewritten as 2. */
    kdf_params kp = v->file;
    if (v->want_kdf == MLC_VAULT_KDF_HKDF || kp.kdf == MLC_VAULT_KDF_HKDF)
        kp = (kdf_params){MLC_VAULT_KDF_HKDF, 0, 0, 0};
    else if (kp.kdf != MLC_VAULT_KDF_SCRYPT || kp.p != 1)
        kp = (kdf_params){MLC_VAULT_KDF_SCRYPT, DEFAULT_LOG2N, 8, 1};
    mlc_err rc = seal_kc(plain, plen, v->pass, &kp, &v->kc, &sealed, &slen, err);
    if (rc == MLC_OK)
        v->file = kp;
    mlc_secret_free(plain, plen);
    if (rc)
        return rc;
    rc = write_atomic(v->path, sealed, slen, err);
    free(sealed);
    return rc;
}

mlc_err mlc_vault_save(mlc_vault *v, mlc_error *err)
{
    mlc_err rc = mlc_vault_lock(v, 30, err);
    if (rc)
        return rc;
    /* merge: the file as it is now, plus this process's changes */
    cJSON *mine = v->root;
    v->root = NULL;
    rc = load(v, 1, err);
    if (rc) {
        mlc_secret_json_free(v->root);
        v->root = mine;
        mlc_vault_unlock(v);
        return rc;
    }
    cJSON *d;
    cJSON_ArrayForEach(d, v->dirty)
    {
        cJSON *old = cJSON_DetachItemFromObjectCaseSensitive(v->root, d->string);
        mlc_secret_json_free(old);
        if (cJSON_IsTrue(d)) {
            cJSON *val = cJSON_DetachItemFromObjectCaseSensitive(mine, d->string);
            if (val)
                cJSON_AddItemToObject(v->root, d->string, val);
        }
    }
    mlc_secret_json_free(mine);
    rc = write_root(v, v->root, err);
    if (rc == MLC_OK) {
        cJSON_Delete(v->dirty);
        v->dirty = cJSON_CreateObject();
    }
    mlc_vault_unlock(v);
    return rc;
}

mlc_err mlc_vault_rekey(mlc_vault *v, const char *new_passphrase, int kdf, mlc_error *err)
{
    if (!new_passphrase || !*new_passphrase)
        return mlc_error_set(err, MLC_ERR_CONFIG, "empty new vault key");
    mlc_err rc = mlc_vault_lock(v, 30, err);
    if (rc)
        return rc;
    /* take in the current file (under the old key), apply our changes, then switch keys */
    rc = mlc_vault_save(v, err);
    if (rc == MLC_OK) {
        char *np = strdup(new_passphrase);
        if (!np) {
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        } else {
            char *old = v->pass;
            key_cache oldkc = v->kc;
            kdf_params oldfile = v->file;
            int oldwant = v->want_kdf;
            v->pass = np;
            kc_clear(&v->kc); /* new key: new salt */
            /* the new key's own derivation, whatever the old one was */
            v->want_kdf = kdf == MLC_VAULT_KDF_HKDF ? MLC_VAULT_KDF_HKDF : MLC_VAULT_KDF_SCRYPT;
            v->file = (kdf_params){v->want_kdf, DEFAULT_LOG2N, 8, 1};
            mlc_log_secret(v->log, np);
            rc = write_root(v, v->root, err);
            if (rc) {
                v->pass = old;
                v->kc = oldkc;
                v->file = oldfile;
                v->want_kdf = oldwant;
                mlc_secret_free(np, strlen(np));
            } else {
                mlc_secret_free(old, strlen(old));
            }
            kc_clear(&oldkc);
        }
    }
    mlc_vault_unlock(v);
    return rc;
}

mlc_err mlc_vault_rotate(mlc_vault *v, mlc_error *err)
{
    char *np = NULL;
    int kdf = MLC_VAULT_KDF_SCRYPT;
    mlc_err rc = mlc_vault_key("MLC_VAULT_NEW_KEY", "MLC_VAULT_NEW_KEY_FILE", 1, 1, &np, &kdf, err);
    if (!rc)
        rc = mlc_vault_rekey(v, np, kdf, err);
    mlc_vault_passphrase_free(np);
    return rc;
}
