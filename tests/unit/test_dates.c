/* test_dates.c: lib/dates: RFC 3339, M3 days and ShipStation V1 Pacific time with DST. */
#include "dates.h"
#include "testutil.h"

START_TEST(rfc3339_round_trip_and_offsets)
{
    time_t t;
    char buf[32];
    ck_assert_int_eq(mlc_dates_parse_rfc3339("2026-11-27T12:34:56Z", &t), 0);
    ck_assert_int_eq((long)t, 1795782896L);
    mlc_dates_format_rfc3339(t, buf);
    ck_assert_str_eq(buf, "2026-11-27T12:34:56Z");
    ck_assert_int_eq(mlc_dates_parse_rfc3339("2026-11-27T13:34:56.123+01:00", &t), 0);
    ck_assert_int_eq((long)t, 1795782896L);
    ck_assert_int_ne(mlc_dates_parse_rfc3339("2026-11-27 12:34:56", &t), 0);
    ck_assert_int_ne(mlc_dates_parse_rfc3339("2026-02-30T00:00:00Z", &t), 0);
    ck_assert_int_ne(mlc_dates_parse_rfc3339("2026-11-27T12:34:56Zjunk", &t), 0);
    ck_assert_int_ne(mlc_dates_parse_rfc3339("", &t), 0);
}
END_TEST

START_TEST(m3_days)
{
    time_t t;
    char buf[9];
    ck_assert_int_eq(mlc_dates_parse_m3("20240229", &t), 0);
    mlc_dates_format_m3(t, buf);
    ck_assert_str_eq(buf, "20240229");
    ck_assert_int_ne(mlc_dates_parse_m3("20230229", &t), 0);
    ck_assert_int_ne(mlc_dates_parse_m3("2024022", &t), 0);
    ck_assert_int_ne(mlc_dates_parse_m3("2024-02-2", &t), 0);
}
END_TEST

START_TEST(pacific_time_follows_us_dst)
{
    time_t t;
    char buf[32];
    /* winter: PST = UTC-8 */
    ck_assert_int_eq(mlc_dates_parse_pacific("2026-01-15 04:00:00", &t), 0);
    mlc_dates_format_rfc3339(t, buf);
    ck_assert_str_eq(buf, "2026-01-15T12:00:00Z");
    /* summer, response format with 7 fractional digits: PDT = UTC-7 */
    ck_assert_int_eq(mlc_dates_parse_pacific("2026-07-01T05:00:00.0000000", &t), 0);
    mlc_dates_format_rfc3339(t, buf);
    ck_assert_str_eq(buf, "2026-07-01T12:00:00Z");
    /* 2026: DST from Sun 8 March 10:00 UTC to Sun 1 November 09:00 UTC */
    ck_assert_int_eq(mlc_dates_parse_rfc3339("2026-03-08T09:59:59Z", &t), 0);
    ck_assert_int_eq(mlc_dates_pacific_offset(t), -8 * 3600);
    ck_assert_int_eq(mlc_dates_parse_rfc3339("2026-03-08T10:00:00Z", &t), 0);
    ck_assert_int_eq(mlc_dates_pacific_offset(t), -7 * 3600);
    ck_assert_int_eq(mlc_dates_parse_rfc3339("2026-11-01T08:59:59Z", &t), 0);
    ck_assert_int_eq(mlc_dates_pacific_offset(t), -7 * 3600);
    ck_assert_int_eq(mlc_dates_parse_rfc3339("2026-11-01T09:00:00Z", &t), 0);
    ck_assert_int_eq(mlc_dates_pacific_offset(t), -8 * 3600);
    /* round trip through the format used in V1 requests */
    ck_assert_int_eq(mlc_dates_parse_rfc3339("2026-11-27T12:00:00Z", &t), 0);
    mlc_dates_format_pacific(t, buf);
    ck_assert_str_eq(buf, "2026-11-27 04:00:00");
    time_t back;
    ck_assert_int_eq(mlc_dates_parse_pacific(buf, &back), 0);
    ck_assert_int_eq((long)back, (long)t);
    ck_assert_int_ne(mlc_dates_parse_pacific("2026-11-27 04:00:00Z", &t), 0);
}
END_TEST

START_TEST(command_line_days_and_ages)
{
    time_t t;
    char day[9];
    ck_assert_int_eq(mlc_dates_parse_day("2026-11-27", &t), 0);
    ck_assert_int_eq((long)t, 1795737600L);
    ck_assert_int_eq(mlc_dates_parse_day("2026-11-27T12:00:00+02:00", &t), 0);
    ck_assert_int_eq((long)t, 1795737600L + 10 * 3600);
    ck_assert_int_ne(mlc_dates_parse_day("yesterday", &t), 0);
    ck_assert_int_ne(mlc_dates_parse_day("2026-02-30", &t), 0);
    ck_assert_int_ne(mlc_dates_parse_day("2026-11-27x", &t), 0);
    ck_assert_int_eq(mlc_dates_since_day("2026-11-27T23:30:00Z", day), 0);
    ck_assert_str_eq(day, "20261127");
    ck_assert_int_ne(mlc_dates_since_day("27.11.2026", day), 0);
    ck_assert_int_eq(mlc_dates_parse_age("90m", 100000, &t), 0);
    ck_assert_int_eq((long)t, 100000L - 5400);
    ck_assert_int_eq(mlc_dates_parse_age("7d", 1000000, &t), 0);
    ck_assert_int_eq((long)t, 1000000L - 7 * 86400);
    ck_assert_int_ne(mlc_dates_parse_age("d", 0, &t), 0);
    ck_assert_int_ne(mlc_dates_parse_age("12x", 0, &t), 0);
    ck_assert_int_ne(mlc_dates_parse_age("1.5h", 0, &t), 0);
    ck_assert_int_ne(mlc_dates_parse_age("2026-11-27", 0, &t), 0);
    ck_assert_int_ne(mlc_dates_parse_age("99999999999999999999d", 0, &t), 0);
    mlc_dates_m3_minus_days("20260301", 1, day);
    ck_assert_str_eq(day, "20260228");
    mlc_dates_m3_minus_days("junk", 3, day);
    ck_assert_str_eq(day, "19000101");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("dates");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, rfc3339_round_trip_and_offsets);
    tcase_add_test(tc, m3_days);
    tcase_add_test(tc, pacific_time_follows_us_dst);
    tcase_add_test(tc, command_line_days_and_ages);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
