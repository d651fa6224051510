/*
 * sim_time.c: the virtual clock (seeded start, --time-scale, admin clock) and the date
 * formats of the three systems: RFC 3339 UTC (V2, admin), yyyyMMdd (M3, UTC days) and
 * ShipStation V1's naive Pacific time (America/Los_Angeles, US DST rules since 2007,
 * computed here so no thread ever touches TZ).
 *
 * Not here: rate-limit windows or token expiry (they only read sim_now()).
 */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double real_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double sim_now(void)
{
    return SIM->virt_base + (real_now() - SIM->real_base) * SIM->time_scale;
}

void clock_set(double virt)
{
    SIM->virt_base = virt;
    SIM->real_base = real_now();
}

static void fmt_tm(double t, struct tm *tm, long *frac7)
{
    double fl = floor(t);
    time_t s = (time_t)fl;
    gmtime_r(&s, tm);
    if (frac7)
        *frac7 = (long)((t - fl) * 1e7);
}

void fmt_rfc3339(double t, char out[40])
{
    struct tm tm;
    long f;
    fmt_tm(t, &tm, &f);
    snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, f / 10000);
}

static int parse_datetime(const char *s, struct tm *tm, double *frac, const char **rest)
{
    memset(tm, 0, sizeof *tm);
    int y, mo, d, h = 0, mi = 0, se = 0, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        return -1;
    s += n;
    *frac = 0;
    if (*s == 'T' || *s == 't' || *s == ' ') {
        if (sscanf(s + 1, "%2d:%2d:%2d%n", &h, &mi, &se, &n) != 3 || n != 8)
            return -1;
        s += 1 + n;
        if (*s == '.') {
            double scale = 0.1;
            s++;
            if (*s < '0' || *s > '9')
                return -1;
            while (*s >= '0' && *s <= '9') {
                *frac += (*s - '0') * scale;
                scale /= 10;
                s++;
            }
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    tm->tm_year = y - 1900;
    tm->tm_mon = mo - 1;
    tm->tm_mday = d;
    tm->tm_hour = h;
    tm->tm_min = mi;
    tm->tm_sec = se;
    *rest = s;
    return 0;
}

int parse_rfc3339(const char *s, double *t)
{
    struct tm tm;
    double frac;
    const char *r;
    if (!s || parse_datetime(s, &tm, &frac, &r) != 0)
        return -1;
    double v = (double)timegm(&tm) + frac;
    if (*r == 'Z' || *r == 'z')
        r++;
    else if (*r == '+' || *r == '-') {
        int oh, om, n = 0;
        if (sscanf(r + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5)
            return -1;
        double off = oh * 3600.0 + om * 60.0;
        v -= (*r == '+') ? off : -off;
        r += 6;
    } else if (*r != '\0')
        return -1;
    if (*r)
        return -1;
    *t = v;
    return 0;
}

void fmt_m3date(double t, char out[12])
{
    struct tm tm;
    fmt_tm(t, &tm, NULL);
    snprintf(out, 12, "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

int parse_m3date(const char *s, long *ymd)
{
    if (!s || strlen(s) != 8)
        return -1;
    for (int i = 0; i < 8; i++)
        if (s[i] < '0' || s[i] > '9')
            return -1;
    long v = atol(s);
    int m = (int)(v / 100 % 100), d = (int)(v % 100);
    if (m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    *ymd = v;
    return 0;
}

/* day of month of the n-th Sunday of month mon (1-12) in year y */
static int nth_sunday(int y, int mon, int n)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = 1;
    tm.tm_hour = 12;
    time_t t = timegm(&tm);
    struct tm g;
    gmtime_r(&t, &g);
    int first = 1 + (7 - g.tm_wday) % 7;
    return first + 7 * (n - 1);
}

static double utc_at(int y, int mon, int d, int h)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    return (double)timegm(&tm);
}

/* US DST: from the 2nd Sunday of March 02:00 PST (10:00 UTC) to the 1st Sunday of
 * November 02:00 PDT (09:00 UTC). */
static int pacific_dst(double t)
{
    struct tm tm;
    fmt_tm(t - 8 * 3600, &tm, NULL);
    int y = tm.tm_year + 1900;
    double start = utc_at(y, 3, nth_sunday(y, 3, 2), 10);
    double end = utc_at(y, 11, nth_sunday(y, 11, 1), 9);
    return t >= start && t < end;
}

void fmt_pacific(double t, char out[40])
{
    double local = t - (pacific_dst(t) ? 7 : 8) * 3600.0;
    struct tm tm;
    long f;
    fmt_tm(local, &tm, &f);
    snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%07ld", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, f);
}

/* Naive Pacific local time -> UTC. In the repeated November hour the first (PDT)
 * instant wins; a time in the skipped March hour is read as PST. */
int parse_pacific(const char *s, double *t)
{
    struct tm tm;
    double frac;
    const char *r;
    if (!s || parse_datetime(s, &tm, &frac, &r) != 0 || *r)
        return -1;
    double local = (double)timegm(&tm) + frac;
    double u = local + 7 * 3600.0;
    if (!pacific_dst(u))
        u = local + 8 * 3600.0;
    *t = u;
    return 0;
}
