/*
 * dates.h: the date formats at mlc's edges, converted to and from one internal
 * form (Unix seconds, UTC):
 *   - RFC 3339 UTC in records and cursors ("2026-11-27T12:00:00Z");
 *   - M3's yyyyMMdd days;
 *   - ShipStation V1's naive Pacific time ("2026-11-27 04:00:00" in requests,
 *     "2026-11-27T04:00:00.0000000" in responses), with US daylight saving
 *     (second Sunday of March 02:00 to first Sunday of November 02:00, rules
 *     since 2007) computed here, so no process-wide TZ juggling is needed.
 * Not here: clocks for rate limits or backoff (they use CLOCK_* directly).
 */
#ifndef MLC_DATES_H
#define MLC_DATES_H

#include <stddef.h>
#include <time.h>

/* Returns 0 on success. Accepts "Z" or a numeric offset, optional fraction. */
int mlc_dates_parse_rfc3339(const char *s, time_t *out);
void mlc_dates_format_rfc3339(time_t t, char out[32]);
/* yyyyMMdd (M3) -> midnight UTC; 0 on success. */
int mlc_dates_parse_m3(const char *s, time_t *out);
void mlc_dates_format_m3(time_t t, char out[9]);
/* A day given on the command line (--since): "yyyy-mm-dd" (midnight UTC) or
 * RFC 3339; 0 on success. */
int mlc_dates_parse_day(const char *s, time_t *out);
/* The same, as M3's yyyyMMdd day; 0 on success. */
int mlc_dates_since_day(const char *s, char day[9]);
/* An age: a count and a unit s, m, h or d ("90m", "7d"): now minus that; 0 on success. */
int mlc_dates_parse_age(const char *s, time_t now, time_t *out);
/* The M3 day `days` before day (yyyyMMdd); "19000101" when day is not one. */
void mlc_dates_m3_minus_days(const char *day, int days, char out[9]);
/* Pacific naive "yyyy-mm-dd hh:mm:ss" or "yyyy-mm-ddThh:mm:ss[.fffffff]" -> UTC. */
int mlc_dates_parse_pacific(const char *s, time_t *out);
/* UTC -> Pacific naive "yyyy-mm-dd hh:mm:ss". */
void mlc_dates_format_pacific(time_t t, char out[32]);
/* Offset of Pacific time from UTC at instant t, in seconds (-8h or -7h). */
int mlc_dates_pacific_offset(time_t t);

#endif
