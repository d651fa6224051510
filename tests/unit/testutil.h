/*
 * testutil.h: small helpers for the check unit tests (temporary directories and
 * files, a main() that runs one suite). Header-only so every test binary stays
 * one file. Not for production code.
 */
#ifndef MLC_TESTUTIL_H
#define MLC_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Makes a fresh temporary directory; returns a static-per-call malloc'd path. */
static inline char *tu_tmpdir(void)
{
    char tmpl[] = "/tmp/mlc-unit.XXXXXX";
    char *d = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(d);
    return strdup(d);
}

static inline void tu_write(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static inline FILE *tu_memfile(const char *data, size_t len)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    if (len)
        ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    rewind(f);
    return f;
}

#define TU_MAIN(suite_fn)                                                  \
    int main(void)                                                         \
    {                                                                      \
        SRunner *sr = srunner_create(suite_fn());                          \
        srunner_run_all(sr, CK_NORMAL);                                    \
        int failed = srunner_ntests_failed(sr);                            \
        srunner_free(sr);                                                  \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;                       \
    }

#endif
