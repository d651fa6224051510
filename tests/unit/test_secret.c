/*
 * test_secret.c: lib/secret: the one private-file reader (contents, a loose or
 * foreign file refused with the chmod to run, missing file, size limit, stdin)
 * and the helpers around it (wipe, trim, single line, fingerprint).
 */
#include "secret.h"
#include "testutil.h"

#include <fcntl.h>
#include <sys/stat.h>

static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

START_TEST(reads_private_file)
{
    char *dir = tu_tmpdir(), *p = path_in(dir, "k");
    tu_write(p, "  key-123\n", 10);
    chmod(p, 0600);
    char *buf = NULL;
    size_t len = 0;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_secret_read(p, 1024, "key file", MLC_SECRET_PRIVATE, &buf, &len, &err), MLC_OK);
    ck_assert_uint_eq(len, 10);
    ck_assert_str_eq(buf, "  key-123\n");
    ck_assert_str_eq(mlc_secret_trim(buf), "key-123");
    mlc_secret_free(buf, len + 1);
    free(p);
    free(dir);
}
END_TEST

START_TEST(refuses_loose_file)
{
    char *dir = tu_tmpdir(), *p = path_in(dir, "k");
    tu_write(p, "secret", 6);
    chmod(p, 0644);
    char *buf = NULL;
    size_t len = 0;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_secret_read(p, 1024, "key file", MLC_SECRET_PRIVATE, &buf, &len, &err), MLC_ERR_CONFIG);
    ck_assert_ptr_null(buf);
    ck_assert_ptr_nonnull(strstr(err.msg, "chmod 600"));
    ck_assert_ptr_nonnull(strstr(err.msg, "key file"));
    ck_assert_ptr_null(strstr(err.msg, "secret"));
    /* group-readable only is refused too */
    chmod(p, 0640);
    ck_assert_int_eq(mlc_secret_read(p, 1024, NULL, MLC_SECRET_PRIVATE, &buf, &len, &err), MLC_ERR_CONFIG);
    /* without MLC_SECRET_PRIVATE (a public key) it is read */
    ck_assert_int_eq(mlc_secret_read(p, 1024, NULL, 0, &buf, &len, &err), MLC_OK);
    ck_assert_str_eq(buf, "secret");
    mlc_secret_free_str(buf);
    /* not a regular file */
    ck_assert_int_eq(mlc_secret_check_private(dir, "vault", &err), MLC_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "not a regular file"));
    free(p);
    free(dir);
}
END_TEST

START_TEST(missing_and_too_large)
{
    char *dir = tu_tmpdir(), *p = path_in(dir, "k");
    char *buf = NULL;
    size_t len = 0;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_secret_read(p, 1024, "key file", MLC_SECRET_PRIVATE, &buf, &len, &err), MLC_ERR_NOTFOUND);
    ck_assert_int_eq(mlc_secret_read(p, 1024, "key file", 0, &buf, &len, &err), MLC_ERR_NOTFOUND);
    char big[2048];
    memset(big, 'x', sizeof big);
    tu_write(p, big, 1025);
    chmod(p, 0600);
    ck_assert_int_eq(mlc_secret_read(p, 1024, "key file", MLC_SECRET_PRIVATE, &buf, &len, &err), MLC_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "larger than 1 KiB"));
    tu_write(p, big, 1024); /* exactly the limit */
    ck_assert_int_eq(mlc_secret_read(p, 1024, "key file", MLC_SECRET_PRIVATE, &buf, &len, &err), MLC_OK);
    ck_assert_uint_eq(len, 1024);
    ck_assert_uint_eq(strlen(buf), 1024);
    mlc_secret_free(buf, len + 1);
    free(p);
    free(dir);
}
END_TEST

START_TEST(reads_stdin_only_when_asked)
{
    char *dir = tu_tmpdir(), *p = path_in(dir, "in");
    tu_write(p, "from-stdin\n", 11);
    int saved = dup(0), fd = open(p, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    dup2(fd, 0);
    close(fd);
    char *buf = NULL;
    size_t len = 0;
    mlc_error err = {0};
    /* "-" without MLC_SECRET_STDIN is a file named "-" (absent here) */
    ck_assert_int_eq(mlc_secret_read("-", 1024, NULL, 0, &buf, &len, &err), MLC_ERR_NOTFOUND);
    ck_assert_int_eq(mlc_secret_read("-", 1024, NULL, MLC_SECRET_STDIN | MLC_SECRET_PRIVATE, &buf, &len, &err), MLC_OK);
    ck_assert_str_eq(buf, "from-stdin\n");
    mlc_secret_free(buf, len + 1);
    dup2(saved, 0);
    close(saved);
    free(p);
    free(dir);
}
END_TEST

START_TEST(helpers)
{
    char b[16];
    memset(b, 'A', sizeof b);
    mlc_secret_wipe(b, sizeof b);
    for (size_t i = 0; i < sizeof b; i++)
        ck_assert_int_eq(b[i], 0);
    mlc_secret_wipe(NULL, 4);
    mlc_secret_free(NULL, 4);
    mlc_secret_free_str(NULL);
    mlc_secret_json_free(NULL);
    cJSON *j = cJSON_Parse("{\"a\":\"s1\",\"b\":{\"c\":[\"s2\",{\"d\":\"s3\"}]}}");
    mlc_secret_json_free(j); /* every level (ASan would see a leak or overflow) */
    char t[] = " \t key \r\n";
    ck_assert_str_eq(mlc_secret_trim(t), "key");
    char e[] = "   ";
    ck_assert_str_eq(mlc_secret_trim(e), "");
    ck_assert_int_eq(mlc_secret_single_line("abc:def"), 1);
    ck_assert_int_eq(mlc_secret_single_line("abc\ndef"), 0);
    ck_assert_int_eq(mlc_secret_single_line("abc\x7f"), 0);
    char fp[9];
    mlc_secret_fingerprint("abc", fp); /* SHA-256("abc") = ba7816bf 8f01cfea ... */
    ck_assert_str_eq(fp, "ba7816bf");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("secret");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, reads_private_file);
    tcase_add_test(tc, refuses_loose_file);
    tcase_add_test(tc, missing_and_too_large);
    tcase_add_test(tc, reads_stdin_only_when_asked);
    tcase_add_test(tc, helpers);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
