/*
 * test_vault.c: unit tests of lib/vault: round trip, wrong key, tampered bytes
 * (every region of the file), loose permissions, atomic write (no temp files left,
 * old contents intact when the write cannot happen), merge of concurrent writers,
 * rekey, key file and env passphrase sources, nothing in clear on disk.
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
    ck_assert_int_eq(mlc_vault_rekey(v, "new key", &err), MLC_OK);
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
    ck_assert_int_eq(mlc_vault_rekey(b, "new", &err), MLC_OK);
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
    ck_assert_int_eq(mlc_vault_seal("{\"a\":1}", 7, "pw", 10, &buf, &len, NULL), MLC_OK);
    char *out;
    size_t olen;
    ck_assert_int_eq(mlc_vault_unseal(buf, len, "pw", "x", &out, &olen, NULL), MLC_OK);
    ck_assert_uint_eq(olen, 7);
    ck_assert_str_eq(out, "{\"a\":1}");
    free(out);
    /* two seals of the same data differ (random salt and nonce) */
    unsigned char *buf2;
    size_t len2;
    ck_assert_int_eq(mlc_vault_seal("{\"a\":1}", 7, "pw", 10, &buf2, &len2, NULL), MLC_OK);
    ck_assert_uint_eq(len, len2);
    ck_assert_int_ne(memcmp(buf, buf2, len), 0);
    ck_assert_int_eq(mlc_vault_unseal(buf, 10, "pw", "x", &out, &olen, NULL), MLC_ERR_CRYPTO);
    free(buf);
    free(buf2);
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
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
