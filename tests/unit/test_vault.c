/*
 * test_vault.c: unit tests of lib/vault: round trip, wrong key, tampered bytes
 * (every region of the file), loose permissions, atomic write (no temp files left,
 * old contents intact when the write cannot happen), merge of concurrent writers,
 * rekey, key file and env passphrase sources, nothing in clear on disk; the key
 * derivation (HKDF for key files, scrypt for passphrases) recorded in the header,
 * and a format-1 vault (fixture written before format 2) still opening.
 */
#include "testutil.h"
#include "vault.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    unsigned char *b = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void make_vault(const char *path, const char *pass)
{
    mlc_vault *v = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_vault_open(path, pass, 1, NULL, &v, &err), MLC_OK);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "v2_key", "SECRET_V2_KEY_12345");
    ck_assert_int_eq(mlc_vault_set(v, "shipstation", e, &err), MLC_OK);
    ck_assert_int_eq(mlc_vault_save(v, &err), MLC_OK);
    mlc_vault_free(v);
}

START_TEST(round_trip_and_mode)
{
    char *dir = tu_tmpdir();
    char *p = path_in(dir, "sub/dir/p.vault");
    make_vault(p, "correct horse");
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    mlc_vault *v = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_vault_open(p, "correct horse", 0, NULL, &v, &err), MLC_OK);
    const cJSON *e = mlc_vault_get(v, "shipstation");
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(cJSON_GetObjectItem(e, "v2_key")->valuestring, "SECRET_V2_KEY_12345");
    mlc_vault_free(v);
    /* nothing in clear on disk */
    size_t len;
    unsigned char *b = slurp(p, &len);
    ck_assert_ptr_null(memmem(b, len, "SECRET_V2", 9));
    ck_assert_ptr_null(memmem(b, len, "shipstation", 11));
    free(b);
    free(p);
    free(dir);
}
END_TEST

START_TEST(missing_file)
{
    char *dir = tu_tmpdir();
    char *p = path_in(dir, "none.vault");
    mlc_vault *v = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_vault_open(p, "k", 0, NULL, &v, &err), MLC_ERR_NOTFOUND);
    ck_assert_int_eq(mlc_vault_open(p, "k", 1, NULL, &v, &err), MLC_OK);
    ck_assert_ptr_null(mlc_vault_get(v, "x"));
    mlc_vault_free(v);
    ck_assert_int_ne(access(p, F_OK), 0); /* not written until saved */
    free(p);
    free(dir);
}
END_TEST

START_TEST(wrong_key)
{
    char *dir = tu_tmpdir();
    char *p = path_in(dir, "w.vault");
    make_vault(p, "right key");
    mlc_vault *v = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_vault_open(p, "wrong key", 0, NULL, &v, &err), MLC_ERR_CRYPTO);
    ck_assert_ptr_null(v);
    ck_assert_ptr_nonnull(strstr(err.msg, "wrong vault key"));
    ck_assert_ptr_null(strstr(err.msg, "wrong key\""));
    free(p);
    free(dir);
}
END_TEST

START_TEST(tampered_bytes)
{
    char *dir = tu_tmpdir();
    char *p = path_in(dir, "t.vault");
    make_vault(p, "k1");
    size_t len;
    unsigned char *orig = slurp(p, &len);
    /* flip one bit in each region: magic, params, salt, nonce, ciphertext, tag */
    size_t offs[] = {0, 9, 12, 20, 30, 40, len / 2, len - 17, len - 1};
    for (size_t i = 0; i < sizeof offs / sizeof *offs; i++) {
        unsigned char *b = malloc(len);
        memcpy(b, orig, len);
        b[offs[i]] ^= 0x01;
        char *t = path_in(dir, "t2.vault");
        int fd = open(t, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ck_assert_int_eq(write(fd, b, len), (ssize_t)len);
        close(fd);
        mlc_vault *v = NULL;
        mlc_error err = {0};
        mlc_err rc = mlc_vault_open(t, "k1", 0, NULL, &v, &err);
        ck_assert_msg(rc == MLC_ERR_CRYPTO, "flip at %zu: rc %d", offs[i], rc);
        ck_assert_ptr_null(v);
        ck_assert(err.msg[0]);
        free(t);
        free(b);
    }
    /* truncated */
    int fd = open(p, O_WRONLY | O_TRUNC);
    ck_assert_int_eq(write(fd, orig, 20), 20);
    close(fd);
    mlc_vault *v = NULL;
    ck_assert_int_eq(mlc_vault_open(p, "k1", 0, NULL, &v, NULL), MLC_ERR_CRYPTO);
    free(orig);
    free(p);
    free(dir);
}
END_TEST

START_TEST(loose_permissions_refused)
{
    char *dir = tu_tmpdir();
    char *p = path_in(dir, "l.vault");
    make_vault(p, "k");
    mode_t modes[] = {0640, 0604, 0660, 0644, 0610};
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
        chmod(p, modes[i]);
        mlc_vault *v = NULL;
        mlc_error err = {0};
        ck_assert_int_eq(mlc_vault_open(p, "k", 0, NULL, &v, &err), MLC_ERR_CONFIG);
        ck_assert_ptr_nonnull(strstr(err.msg, "chmod 600"));
    }
    chmod(p, 0600);
    mlc_vault *v = NULL;
    ck_assert_int_eq(mlc_vault_open(p, "k", 0, NULL, &v, NULL), MLC_OK);
    mlc_vault_free(v);
    free(p);
    free(dir);
}
END_TEST

START_TEST(atomic_write)
{
    char *dir = tu_tmpdir();
    char *p = path_in(dir, "a.vault");
    make_vault(p, "k");
    struct stat before;
    stat(p, &before);
    mlc_vault *v = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_vault_open(p, "k", 0, NULL, &v, &err), MLC_OK);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "x", "y");
    mlc_vault_set(v, "other", e, &err);
    ck_assert_int_eq(mlc_vault_save(v, &err), MLC_OK);
    struct stat after;
    stat(p, &after);
    /* replaced by rename: a new inode, never rewritten in place */
    ck_assert_uint_ne(before.st_ino, after.st_ino);
    /* no temp files left behind */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c tmp", dir);
    FILE *f = popen(cmd, "r");
    int n = -1;
    ck_assert_int_eq(fscanf(f, "%d", &n), 1);
    pclose(f);
    ck_assert_int_eq(n, 0);
    /* a save that cannot write leaves the old file intact */
    chmod(dir, 0500);
    if (geteuid() != 0) {
        cJSON *e2 = cJSON_CreateObject();
        mlc_vault_set(v, "third", e2, &err);
        ck_assert_int_ne(mlc_vault_save(v, &err), MLC_OK);
    }
    chmod(dir, 0700);
    mlc_vault_free(v);
    ck_assert_int_eq(mlc_vault_open(p, "k", 0, NULL, &v, &err), MLC_OK);
    ck_assert_ptr_nonnull(mlc_vault_get(v, "other"));
    ck_assert_ptr_nonnull(mlc_vault_get(v, "shipstation"));
    mlc_vault_free(v);
    free(p);
    free(dir);
}
END_TEST

START_TEST(concurrent_writers_merge)
{
    char *dir = tu_tmpdir();
    char *p = path_in(dir, "m.vault");
    make_vault(p, "k");
    mlc_vault *a = NULL, *b = NULL;
    ck_assert_int_eq(mlc_vault_open(p, "k", 0, NULL, &a, NULL), MLC_OK);
    ck_assert_int_eq(mlc_vault_open(p, "k", 0, NULL, &b, NULL), MLC_OK);
    mlc_vault_set(a, "from_a", cJSON_CreateString("A"), NULL);
    mlc_vault_set(b, "from_b", cJSON_CreateString("B"), NULL);
    mlc_vault_remove(b, "shipstation", NULL);
    ck_assert_int_eq(mlc_vault_save(a, NULL), MLC_OK);
    ck_assert_int_eq(mlc_vault_save(b, NULL), MLC_OK);
    mlc_vault_free(a);
    mlc_vault_free(b);
    mlc_vault *v = NULL;
    ck_assert_int_eq(mlc_vault_open(p, "k", 0, NULL, &v, NULL), MLC_OK);
    ck_assert_ptr_nonnull(mlc_vault_get(v, "from_a"));
    ck_assert_ptr_nonnull(mlc_vault_get(v, "from_b"));
    ck_assert_ptr_null(mlc_vault_get(v, "shipstation"));
    mlc_vault_free(v);
    free(p);
    free(dir);
}
END_TEST

START_TEST(rekey)
{
    char *dir = tu_tmpdir();
    char *p = path_in(dir, "r.vault");
    make_vault(p, "old key");
    mlc_vault *v = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_vault_open(p, "old key", 0, NULL, &v, &err), MLC_OK);
    ck_assert_int_eq(mlc_vault_rekey(v, "new key", MLC_VAULT_KDF_SCRYPT, &err), MLC_OK);
    mlc_vault_free(v);
    ck_assert_int_eq(mlc_vault_open(p, "old key", 0, NULL, &v, &err), MLC_ERR_CRYPTO);
    ck_assert_int_eq(mlc_vault_open(p, "new key", 0, NULL, &v, &err), MLC_OK);
    ck_assert_ptr_nonnull(mlc_vault_get(v, "shipstation"));
    mlc_vault_free(v);
    free(p);
    free(dir);
}
END_TEST

START_TEST(save_after_foreign_rekey_fails_cleanly)
{
    char *dir = tu_tmpdir();
    char *p = path_in(dir, "fr.vault");
    make_vault(p, "old");
    mlc_vault *a = NULL, *b = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_vault_open(p, "old", 0, NULL, &a, &err), MLC_OK);
    ck_assert_int_eq(mlc_vault_open(p, "old", 0, NULL, &b, &err), MLC_OK);
    ck_assert_int_eq(mlc_vault_rekey(b, "new", MLC_VAULT_KDF_SCRYPT, &err), MLC_OK);
    mlc_vault_set(a, "late", cJSON_CreateString("x"), &err);
    /* a still holds the old key: it must not overwrite the re-keyed file */
    ck_assert_int_eq(mlc_vault_save(a, &err), MLC_ERR_CRYPTO);
    mlc_vault_free(a);
    mlc_vault_free(b);
    ck_assert_int_eq(mlc_vault_open(p, "new", 0, NULL, &a, &err), MLC_OK);
    ck_assert_ptr_null(mlc_vault_get(a, "late"));
    ck_assert_ptr_nonnull(mlc_vault_get(a, "shipstation"));
    mlc_vault_free(a);
    free(p);
    free(dir);
}
END_TEST

START_TEST(passphrase_sources)
{
    char *dir = tu_tmpdir();
    char *kf = path_in(dir, "key");
    tu_write(kf, "file passphrase\n", 16);
    chmod(kf, 0600);
    char *pass = NULL;
    mlc_error err = {0};
    unsetenv("T_KEY");
    setenv("T_KEY_FILE", kf, 1);
    ck_assert_int_eq(mlc_vault_passphrase("T_KEY", "T_KEY_FILE", 0, 0, &pass, &err), MLC_OK);
    ck_assert_str_eq(pass, "file passphrase");
    mlc_vault_passphrase_free(pass);
    /* env wins over the file */
    setenv("T_KEY", "env passphrase", 1);
    ck_assert_int_eq(mlc_vault_passphrase("T_KEY", "T_KEY_FILE", 0, 0, &pass, &err), MLC_OK);
    ck_assert_str_eq(pass, "env passphrase");
    mlc_vault_passphrase_free(pass);
    unsetenv("T_KEY");
    /* a loose key file is refused */
    chmod(kf, 0644);
    ck_assert_int_eq(mlc_vault_passphrase("T_KEY", "T_KEY_FILE", 0, 0, &pass, &err), MLC_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "too open"));
    ck_assert_ptr_null(strstr(err.msg, "file passphrase"));
    /* nothing at all */
    unsetenv("T_KEY_FILE");
    ck_assert_int_eq(mlc_vault_passphrase("T_KEY", "T_KEY_FILE", 0, 0, &pass, &err), MLC_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "T_KEY"));
    free(kf);
    free(dir);
}
END_TEST

START_TEST(seal_unseal)
{
    unsigned char *buf;
    size_t len;
    ck_assert_int_eq(mlc_vault_seal("{\"a\":1}", 7, "pw", MLC_VAULT_KDF_SCRYPT, 10, &buf, &len, NULL), MLC_OK);
    char *out;
    size_t olen;
    ck_assert_int_eq(mlc_vault_unseal(buf, len, "pw", "x", &out, &olen, NULL), MLC_OK);
    ck_assert_uint_eq(olen, 7);
    ck_assert_str_eq(out, "{\"a\":1}");
    free(out);
    /* two seals of the same data differ (random salt and nonce) */
    unsigned char *buf2;
    size_t len2;
    ck_assert_int_eq(mlc_vault_seal("{\"a\":1}", 7, "pw", MLC_VAULT_KDF_SCRYPT, 10, &buf2, &len2, NULL), MLC_OK);
    ck_assert_uint_eq(len, len2);
    ck_assert_int_ne(memcmp(buf, buf2, len), 0);
    ck_assert_int_eq(mlc_vault_unseal(buf, 10, "pw", "x", &out, &olen, NULL), MLC_ERR_CRYPTO);
    free(buf);
    free(buf2);
}
END_TEST

/* ---- key derivation: HKDF for key files, scrypt for passphrases (issue 19) ---- */

#define FIXTURE_V1 "tests/unit/fixtures/vault-v1.vault"
/* the key of the fixture, a 64-hex-digit key file's contents */
#define FIXTURE_KEY "a9c3f0e1b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f2a3b5c7d9e1f3a4b6c8d0e2"

static void header_is(const char *path, int b8, int b9, int b10, int b11)
{
    size_t len;
    unsigned char *b = slurp(path, &len);
    ck_assert_uint_ge(len, 12);
    ck_assert_int_eq(b[8], b8);
    ck_assert_int_eq(b[9], b9);
    ck_assert_int_eq(b[10], b10);
    ck_assert_int_eq(b[11], b11);
    free(b);
}

static char *copy_fixture(const char *dir, const char *name)
{
    size_t len;
    unsigned char *b = slurp(FIXTURE_V1, &len);
    char *p = path_in(dir, name);
    tu_write(p, (const char *)b, len);
    chmod(p, 0600);
    free(b);
    return p;
}

static void expect_fixture_entry(mlc_vault *v)
{
    const cJSON *ss = mlc_vault_get(v, "shipstation");
    ck_assert_ptr_nonnull(ss);
    ck_assert_str_eq(cJSON_GetObjectItem(ss, "v2_key")->valuestring, "old-format-v2-key");
}

START_TEST(old_format_vault_still_opens)
{
    /* the fixture was written by mlc 0.1.0 before this change: format 1, scrypt 2^15, r 8, p 1 */
    header_is(FIXTURE_V1, 1, 15, 8, 1);
    char *dir = tu_tmpdir();
    mlc_error err = {0};
    mlc_vault *v = NULL;
    /* opened with a passphrase: read, and rewritten as format 2, still scrypt */
    char *p = copy_fixture(dir, "pass.vault");
    ck_assert_int_eq(mlc_vault_open(p, FIXTURE_KEY, 0, NULL, &v, &err), MLC_OK);
    expect_fixture_entry(v);
    ck_assert_int_eq(mlc_vault_kdf(v), MLC_VAULT_KDF_SCRYPT);
    ck_assert_int_eq(mlc_vault_set(v, "x", cJSON_CreateString("y"), &err), MLC_OK);
    ck_assert_int_eq(mlc_vault_save(v, &err), MLC_OK);
    mlc_vault_free(v);
    header_is(p, 2, MLC_VAULT_KDF_SCRYPT, 15, 8);
    ck_assert_int_eq(mlc_vault_open(p, FIXTURE_KEY, 0, NULL, &v, &err), MLC_OK);
    expect_fixture_entry(v);
    mlc_vault_free(v);
    /* opened with a key file's key: read with scrypt, moved to HKDF on the next write */
    char *k = copy_fixture(dir, "key.vault");
    ck_assert_int_eq(mlc_vault_open_kdf(k, FIXTURE_KEY, MLC_VAULT_KDF_HKDF, 0, NULL, &v, &err), MLC_OK);
    expect_fixture_entry(v);
    ck_assert_int_eq(mlc_vault_kdf(v), MLC_VAULT_KDF_SCRYPT);
    ck_assert_int_eq(mlc_vault_set(v, "x", cJSON_CreateString("y"), &err), MLC_OK);
    ck_assert_int_eq(mlc_vault_save(v, &err), MLC_OK);
    ck_assert_int_eq(mlc_vault_kdf(v), MLC_VAULT_KDF_HKDF);
    mlc_vault_free(v);
    header_is(k, 2, MLC_VAULT_KDF_HKDF, 0, 0);
    /* any source of the same key opens it; a write keeps HKDF */
    ck_assert_int_eq(mlc_vault_open(k, FIXTURE_KEY, 0, NULL, &v, &err), MLC_OK);
    expect_fixture_entry(v);
    ck_assert_int_eq(mlc_vault_save(v, &err), MLC_OK);
    mlc_vault_free(v);
    header_is(k, 2, MLC_VAULT_KDF_HKDF, 0, 0);
    ck_assert_int_eq(mlc_vault_open(k, "not the key", 0, NULL, &v, &err), MLC_ERR_CRYPTO);
    free(p);
    free(k);
    free(dir);
}
END_TEST

static int kdf_of_file(const char *kf, const char *content)
{
    tu_write(kf, content, strlen(content));
    chmod(kf, 0600);
    char *pass = NULL;
    int kdf = 0;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_vault_key("T_KEY", "T_KEY_FILE", 0, 0, &pass, &kdf, &err), MLC_OK);
    mlc_vault_passphrase_free(pass);
    return kdf;
}

START_TEST(key_source_decides_kdf)
{
    char *dir = tu_tmpdir();
    char *kf = path_in(dir, "key");
    unsetenv("T_KEY");
    setenv("T_KEY_FILE", kf, 1);
    /* 32 random bytes as hex (openssl rand -hex 32), with its newline */
    ck_assert_int_eq(kdf_of_file(kf, FIXTURE_KEY "\n"), MLC_VAULT_KDF_HKDF);
    /* exactly 32 bytes; 31 bytes is a passphrase */
    ck_assert_int_eq(kdf_of_file(kf, "0123456789abcdef0123456789abcdef"), MLC_VAULT_KDF_HKDF);
    ck_assert_int_eq(kdf_of_file(kf, "0123456789abcdef0123456789abcde\n"), MLC_VAULT_KDF_SCRYPT);
    /* a long sentence someone typed into the file is still a passphrase */
    ck_assert_int_eq(kdf_of_file(kf, "correct horse battery staple and more words\n"),
                     MLC_VAULT_KDF_SCRYPT);
    /* MLC_VAULT_KEY is typed (or pasted) by a person: scrypt, however long */
    setenv("T_KEY", FIXTURE_KEY, 1);
    ck_assert_int_eq(kdf_of_file(kf, FIXTURE_KEY), MLC_VAULT_KDF_SCRYPT);
    unsetenv("T_KEY");
    unsetenv("T_KEY_FILE");
    unlink(kf);
    free(kf);
    free(dir);
}
END_TEST

START_TEST(new_vault_records_kdf)
{
    char *dir = tu_tmpdir();
    char *h = path_in(dir, "h.vault"), *s = path_in(dir, "s.vault");
    mlc_error err = {0};
    mlc_vault *v = NULL;
    ck_assert_int_eq(mlc_vault_open_kdf(h, FIXTURE_KEY, MLC_VAULT_KDF_HKDF, 1, NULL, &v, &err), MLC_OK);
    ck_assert_int_eq(mlc_vault_set(v, "a", cJSON_CreateString("b"), &err), MLC_OK);
    ck_assert_int_eq(mlc_vault_save(v, &err), MLC_OK);
    mlc_vault_free(v);
    header_is(h, 2, MLC_VAULT_KDF_HKDF, 0, 0);
    ck_assert_int_eq(mlc_vault_open_kdf(s, "typed", MLC_VAULT_KDF_SCRYPT, 1, NULL, &v, &err), MLC_OK);
    ck_assert_int_eq(mlc_vault_set(v, "a", cJSON_CreateString("b"), &err), MLC_OK);
    ck_assert_int_eq(mlc_vault_save(v, &err), MLC_OK);
    mlc_vault_free(v);
    header_is(s, 2, MLC_VAULT_KDF_SCRYPT, 15, 8);
    /* rekey to a passphrase moves an HKDF vault back to scrypt, and the other way */
    ck_assert_int_eq(mlc_vault_open(h, FIXTURE_KEY, 0, NULL, &v, &err), MLC_OK);
    ck_assert_int_eq(mlc_vault_rekey(v, "typed now", MLC_VAULT_KDF_SCRYPT, &err), MLC_OK);
    mlc_vault_free(v);
    header_is(h, 2, MLC_VAULT_KDF_SCRYPT, 15, 8);
    ck_assert_int_eq(mlc_vault_open(s, "typed", 0, NULL, &v, &err), MLC_OK);
    ck_assert_int_eq(mlc_vault_rekey(v, FIXTURE_KEY, MLC_VAULT_KDF_HKDF, &err), MLC_OK);
    mlc_vault_free(v);
    header_is(s, 2, MLC_VAULT_KDF_HKDF, 0, 0);
    ck_assert_int_eq(mlc_vault_open(s, FIXTURE_KEY, 0, NULL, &v, &err), MLC_OK);
    ck_assert_str_eq(mlc_vault_get(v, "a")->valuestring, "b");
    mlc_vault_free(v);
    free(h);
    free(s);
    free(dir);
}
END_TEST

START_TEST(hkdf_seal_unseal_and_header_checks)
{
    unsigned char *buf;
    size_t len;
    char *out;
    size_t olen;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_vault_seal("{\"a\":1}", 7, FIXTURE_KEY, MLC_VAULT_KDF_HKDF, 0, &buf, &len, NULL),
                     MLC_OK);
    ck_assert_int_eq(buf[8], 2);
    ck_assert_int_eq(buf[9], MLC_VAULT_KDF_HKDF);
    ck_assert_int_eq(mlc_vault_unseal(buf, len, FIXTURE_KEY, "x", &out, &olen, NULL), MLC_OK);
    ck_assert_str_eq(out, "{\"a\":1}");
    free(out);
    ck_assert_int_eq(mlc_vault_unseal(buf, len, "wrong", "x", &out, &olen, NULL), MLC_ERR_CRYPTO);
    /* a KDF byte claiming scrypt (header authenticated and key differs), an unknown
     * KDF, stray parameter bytes, an unknown format: all refused, none crash */
    unsigned char bad[][4] = {{2, 1, 15, 8}, {2, 3, 0, 0}, {2, 2, 1, 0}, {3, 2, 0, 0}, {0, 2, 0, 0}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        unsigned char save[4];
        memcpy(save, buf + 8, 4);
        memcpy(buf + 8, bad[i], 4);
        ck_assert_int_eq(mlc_vault_unseal(buf, len, FIXTURE_KEY, "x", &out, &olen, &err), MLC_ERR_CRYPTO);
        memcpy(buf + 8, save, 4);
    }
    ck_assert_ptr_nonnull(strstr(err.msg, "unsupported vault format"));
    free(buf);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("vault");
    TCase *tc = tcase_create("vault");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, round_trip_and_mode);
    tcase_add_test(tc, missing_file);
    tcase_add_test(tc, wrong_key);
    tcase_add_test(tc, tampered_bytes);
    tcase_add_test(tc, loose_permissions_refused);
    tcase_add_test(tc, atomic_write);
    tcase_add_test(tc, concurrent_writers_merge);
    tcase_add_test(tc, rekey);
    tcase_add_test(tc, save_after_foreign_rekey_fails_cleanly);
    tcase_add_test(tc, passphrase_sources);
    tcase_add_test(tc, seal_unseal);
    tcase_add_test(tc, old_format_vault_still_opens);
    tcase_add_test(tc, key_source_decides_kdf);
    tcase_add_test(tc, new_vault_records_kdf);
    tcase_add_test(tc, hkdf_seal_unseal_and_header_checks);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
