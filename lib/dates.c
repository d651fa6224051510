/*
 * dates.c: date conversions at the edges (see dates.h). Pure functions.
 */
#include "dates.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), no libc time zone state. */
static long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int valid_ymd(int y, int mo, int d)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
        return 0;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 0;
    return 1;
}

static time_t make_utc(int y, int mo, int d, int h, int mi, int s)
{
    return (time_t)(days_from_civil(y, mo, d) * 86400L + h * 3600L + mi * 60L + s);
}

/* Parses "yyyy-mm-dd[T| ]hh:mm:ss[.frac]" and returns the pointer after it. */
static const char *parse_naive(const char *s, time_t *out)
{
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
        return NULL;
    if (!valid_ymd(y, mo, d) || h > 23 || mi > 59 || sec > 60)
        return NULL;
    s += n;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9')
            return NULL;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    *out = make_utc(y, mo, d, h, mi, sec);
    return s;
}

int mlc_dates_parse_rfc3339(const char *s, time_t *out)
{
    time_t t;
    const char *p = s ? parse_naive(s, &t) : NULL;
    if (!p)
        return -1;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        *out = t;
        return 0;
    }
    int oh, om, n = 0;
    if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2 && n == 5 && p[6] == '\0' &&
        oh < 24 && om < 60) {
        long off = oh * 3600L + om * 60L;
        *out = *p == '+' ? t - off : t + off;
        return 0;
    }
    return -1;
}

void mlc_dates_format_rfc3339(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int mlc_dates_parse_m3(const char *s, time_t *out)
{
    int y, mo, d, n = 0;
    if (!s || strlen(s) != 8 || sscanf(s, "%4d%2d%2d%n", &y, &mo, &d, &n) != 3 || n != 8 || !valid_ymd(y, mo, d))
        return -1;
    *out = make_utc(y, mo, d, 0, 0, 0);
    return 0;
}

void mlc_dates_format_m3(time_t t, char out[9])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 9, "%Y%m%d", &tm);
}

int mlc_dates_parse_day(const char *s, time_t *out)
{
    char buf[40];
    if (!s)
        return -1;
    if (mlc_dates_parse_rfc3339(s, out) == 0)
        return 0;
    if (strlen(s) != 10)
        return -1;
    snprintf(buf, sizeof buf, "%sT00:00:00Z", s);
    return mlc_dates_parse_rfc3339(buf, out);
}

int mlc_dates_since_day(const char *s, char day[9])
{
    time_t t;
    if (mlc_dates_parse_day(s, &t))
        return -1;
    mlc_dates_format_m3(t, day);
    return 0;
}

int mlc_dates_parse_age(const char *s, time_t now, time_t *out)
{
    char *end;
    size_t len = s ? strlen(s) : 0;
    if (len < 2 || !isdigit((unsigned char)s[0]) || !strchr("smhd", s[len - 1]))
        return -1;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end != s + len - 1 || v < 0 || errno)
        return -1;
    long long unit = s[len - 1] == 's' ? 1 : s[len - 1] == 'm' ? 60 : s[len - 1] == 'h' ? 3600 : 86400;
    if (v > (long long)1e12 / unit)
        return -1;
    *out = now - (time_t)(v * unit);
    return 0;
}

void mlc_dates_m3_minus_days(const char *day, int days, char out[9])
{
    time_t t;
    if (mlc_dates_parse_m3(day, &t)) {
        snprintf(out, 9, "19000101");
        return;
    }
    mlc_dates_format_m3(t - (time_t)days * 86400, out);
}

/* Day of month of the n-th Sunday (n >= 1) of month m in year y. */
static int nth_sunday(int y, int m, int n)
{
    long days = days_from_civil(y, m, 1);
    int wday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */
    int first = 1 + (7 - wday) % 7;
    return first + 7 * (n - 1);
}

int mlc_dates_pacific_offset(time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    int y = tm.tm_year + 1900;
    /* DST starts 02:00 PST (10:00 UTC) on the 2nd Sunday of March and ends
     * 02:00 PDT (09:00 UTC) on the 1st Sunday of November. */
    time_t start = make_utc(y, 3, nth_sunday(y, 3, 2), 10, 0, 0);
    time_t end = make_utc(y, 11, nth_sunday(y, 11, 1), 9, 0, 0);
    return (t >= start && t < end) ? -7 * 3600 : -8 * 3600;
}

int mlc_dates_parse_pacific(const char *s, time_t *out)
{
    time_t naive;
    const char *p = s ? parse_naive(s, &naive) : NULL;
    if (!p || *p)
        return -1;
    /* naive local -> UTC: try standard time first; if that instant is in DST,
     * use the DST offset. The repeated hour in November resolves to PDT. */
    time_t guess = naive + 8 * 3600;
    if (mlc_dates_pacific_offset(guess - 3600) == -7 * 3600)
        guess = naive + 7 * 3600;
    *out = guess;
    return 0;
}

void mlc_dates_format_pacific(time_t t, char out[32])
{
    time_t local = t + mlc_dates_pacific_offset(t);
    struct tm tm;
    gmtime_r(&local, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
}
