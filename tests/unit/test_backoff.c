/*
 * test_backoff.c: unit tests for lib/backoff (bounds, overflow safety, jitter
 * spread, determinism by seed). All randomness uses fixed seeds, so the
 * statistical checks are deterministic; their bounds are generous anyway.
 * Not here: retry policy of the http layer.
 */
#include <check.h>
#include <limits.h>
#include <stdlib.h>

#include "backoff.h"

static long bound_of(long base, long cap, int n)
{
    /* reference: min(cap, base*2^n) computed in long double to avoid overflow */
    long double v = (long double)base;
    for (int i = 0; i < n && v <= (long double)cap; i++)
        v *= 2;
    return v > (long double)cap ? cap : (long)v;
}

START_TEST(test_bounds_per_attempt)
{
    mlc_backoff *b = mlc_backoff_new(100, 30000, 5, 42);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(mlc_backoff_max_attempts(b), 5);
    for (int n = 0; n < 20; n++) {
        long hi = bound_of(100, 30000, n);
        for (int i = 0; i < 2000; i++) {
            long d = mlc_backoff_delay_ms(b, n);
            ck_assert_int_ge(d, 0);
            ck_assert_int_le(d, hi);
        }
    }
    mlc_backoff_free(b);
}
END_TEST

START_TEST(test_never_above_cap_huge_attempts)
{
    long caps[] = { 1, 1000, 30000, LONG_MAX / 3, LONG_MAX };
    int attempts[] = { 30, 31, 32, 62, 63, 64, 65, 1000, INT_MAX };
    for (size_t c = 0; c < sizeof caps / sizeof *caps; c++) {
        mlc_backoff *b = mlc_backoff_new(250, caps[c], 10, 7 + c);
        ck_assert_ptr_nonnull(b);
        for (size_t a = 0; a < sizeof attempts / sizeof *attempts; a++) {
            for (int i = 0; i < 200; i++) {
                long d = mlc_backoff_delay_ms(b, attempts[a]);
                ck_assert_int_ge(d, 0);
                ck_assert_int_le(d, caps[c]);
            }
        }
        mlc_backoff_free(b);
    }
    /* base larger than cap: still capped; base 0: always 0; negative attempt = 0 */
    mlc_backoff *b = mlc_backoff_new(LONG_MAX, 500, 3, 9);
    for (int i = 0; i < 1000; i++)
        ck_assert_int_le(mlc_backoff_delay_ms(b, i), 500);
    mlc_backoff_free(b);
    b = mlc_backoff_new(0, 500, 3, 9);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(mlc_backoff_delay_ms(b, i), 0);
    mlc_backoff_free(b);
    b = mlc_backoff_new(10, 500, 3, 9);
    for (int i = 0; i < 1000; i++)
        ck_assert_int_le(mlc_backoff_delay_ms(b, -5), 10);
    mlc_backoff_free(b);
}
END_TEST

START_TEST(test_invalid_args)
{
    ck_assert_ptr_null(mlc_backoff_new(-1, 100, 3, 1));
    ck_assert_ptr_null(mlc_backoff_new(1, -100, 3, 1));
    ck_assert_ptr_null(mlc_backoff_new(1, 100, -3, 1));
    mlc_backoff_free(NULL);
}
END_TEST

/* Over 10,000 draws the mean is near half the bound and the values cover the range. */
START_TEST(test_jitter_spread)
{
    mlc_backoff *b = mlc_backoff_new(100, 60000, 8, 12345);
    const int N = 10000;
    const int attempt = 4;          /* bound 1600 ms */
    const long hi = 1600;
    int buckets[10] = { 0 };
    double sum = 0;
    long mn = hi, mx = 0;
    for (int i = 0; i < N; i++) {
        long d = mlc_backoff_delay_ms(b, attempt);
        sum += (double)d;
        if (d < mn) mn = d;
        if (d > mx) mx = d;
        int k = (int)(d * 10 / (hi + 1));
        buckets[k]++;
    }
    double mean = sum / N;
    /* expected 800, stddev of the mean ~4.6: allow +-5% of the bound */
    ck_assert_msg(mean > hi * 0.45 && mean < hi * 0.55, "mean %.1f not near %ld", mean, hi / 2);
    ck_assert_int_le(mn, hi / 100);          /* reaches the bottom 1% */
    ck_assert_int_ge(mx, hi - hi / 100);     /* and the top 1% */
    for (int k = 0; k < 10; k++)             /* each tenth ~1000 draws */
        ck_assert_msg(buckets[k] > 800 && buckets[k] < 1200, "bucket %d has %d", k, buckets[k]);
    mlc_backoff_free(b);

    /* small bound: every value 0..3 appears */
    b = mlc_backoff_new(3, 3, 1, 99);
    int seen[4] = { 0 };
    for (int i = 0; i < 1000; i++)
        seen[mlc_backoff_delay_ms(b, 0)]++;
    for (int k = 0; k < 4; k++)
        ck_assert_int_gt(seen[k], 150);
    mlc_backoff_free(b);
}
END_TEST

START_TEST(test_same_seed_same_sequence)
{
    mlc_backoff *a = mlc_backoff_new(50, 10000, 6, 777);
    mlc_backoff *b = mlc_backoff_new(50, 10000, 6, 777);
    mlc_backoff *c = mlc_backoff_new(50, 10000, 6, 778);
    int differ = 0;
    for (int i = 0; i < 500; i++) {
        long x = mlc_backoff_delay_ms(a, i % 10), y = mlc_backoff_delay_ms(b, i % 10);
        long z = mlc_backoff_delay_ms(c, i % 10);
        ck_assert_int_eq(x, y);
        differ += (x != z);
    }
    ck_assert_int_gt(differ, 400);
    mlc_backoff_free(a);
    mlc_backoff_free(b);
    mlc_backoff_free(c);
}
END_TEST

START_TEST(test_random_seed)
{
    /* seed 0 draws from getrandom(): two generators almost surely differ */
    mlc_backoff *a = mlc_backoff_new(1000, 1000000, 3, 0);
    mlc_backoff *b = mlc_backoff_new(1000, 1000000, 3, 0);
    int same = 0;
    for (int i = 0; i < 20; i++)
        same += mlc_backoff_delay_ms(a, 10) == mlc_backoff_delay_ms(b, 10);
    ck_assert_int_lt(same, 20);
    mlc_backoff_free(a);
    mlc_backoff_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("backoff");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_bounds_per_attempt);
    tcase_add_test(tc, test_never_above_cap_huge_attempts);
    tcase_add_test(tc, test_invalid_args);
    tcase_add_test(tc, test_jitter_spread);
    tcase_add_test(tc, test_same_seed_same_sequence);
    tcase_add_test(tc, test_random_seed);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
