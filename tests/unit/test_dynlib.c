/*
 * test_dynlib.c: unit tests of lib/dynlib (a library loaded with dlopen and a
 * table of its functions): a table is filled once and the library's functions
 * work through it; a library that cannot be loaded, or that lacks a function,
 * is a configuration error naming the library, what it is needed for and its
 * Debian package, and leaves the table empty. Not a test of which libraries mlc
 * loads (test_bod, test_store and the integration tests run those paths).
 */
#include "dynlib.h"
#include "testutil.h"

#include <string.h>

START_TEST(fills_the_table_once)
{
    /* zlib's runtime: on every machine that runs mlc (libcurl needs it), not linked
     * by mlc; typed from zlib's documented prototypes (its header is not a build
     * dependency of mlc) */
    struct {
        const char *(*zlibVersion)(void);
        unsigned long (*crc32)(unsigned long crc, const unsigned char *buf, unsigned len);
    } z = {0};
    const mlc_dynlib_sym syms[] = {{"zlibVersion", &z.zlibVersion}, {"crc32", &z.crc32}};
    int loaded = 0;
    mlc_error e = {0};
    ck_assert_msg(mlc_dynlib_load("libz.so.1", "a test", "zlib1g", syms, 2, &loaded, &e) == MLC_OK, "%s", e.msg);
    ck_assert_int_eq(loaded, 1);
    ck_assert_ptr_nonnull(z.zlibVersion);
    ck_assert_int_eq(z.zlibVersion()[0], '1'); /* zlib 1.x */
    ck_assert_uint_eq(z.crc32(0, (const unsigned char *)"123456789", 9), 0xCBF43926u);
    /* loaded: the table is left as it is */
    z.crc32 = NULL;
    ck_assert_int_eq(mlc_dynlib_load("libz.so.1", "a test", "zlib1g", syms, 2, &loaded, &e), MLC_OK);
    ck_assert_ptr_null(z.crc32);
}
END_TEST

START_TEST(missing_library_names_it)
{
    void (*f)(void) = NULL;
    const mlc_dynlib_sym syms[] = {{"anything", &f}};
    int loaded = 0;
    mlc_error e = {0};
    ck_assert_int_eq(mlc_dynlib_load("libmlc-no-such-library.so.9", "BOD receipts", "libxml2", syms, 1, &loaded, &e),
                     MLC_ERR_CONFIG);
    ck_assert_int_eq(loaded, 0);
    ck_assert_ptr_null(f);
    ck_assert_msg(strstr(e.msg, "libmlc-no-such-library.so.9 is needed for BOD receipts and cannot be loaded") &&
                      strstr(e.msg, "Debian package libxml2"),
                  "%s", e.msg);
}
END_TEST

START_TEST(missing_function_leaves_nothing_filled)
{
    void (*a)(void) = NULL, (*b)(void) = NULL;
    const mlc_dynlib_sym syms[] = {{"zlibVersion", &a}, {"mlc_no_such_function", &b}};
    int loaded = 0;
    mlc_error e = {0};
    ck_assert_int_eq(mlc_dynlib_load("libz.so.1", "a test", "zlib1g", syms, 2, &loaded, &e), MLC_ERR_CONFIG);
    ck_assert_int_eq(loaded, 0);
    ck_assert_ptr_null(a);
    ck_assert_ptr_null(b);
    ck_assert_msg(strstr(e.msg, "libz.so.1 (needed for a test) has no function mlc_no_such_function"), "%s", e.msg);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("dynlib");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, fills_the_table_once);
    tcase_add_test(tc, missing_library_names_it);
    tcase_add_test(tc, missing_function_leaves_nothing_filled);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
