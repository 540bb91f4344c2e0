/*
 * time.h - handoff's one calendar: civil days, ISO weeks, instants, durations and zones.
 *
 * Instants are int64_t milliseconds since 1970-01-01T00:00:00Z (UTC). A calendar day is an
 * int64_t day number, days since 1970-01-01 (proleptic Gregorian, Howard Hinnant's civil
 * algorithms), so calendar arithmetic needs no zone. A zone (ho_tz_t, tz.h) is only needed to
 * go between the two: which local day an instant falls on, and when a local day begins.
 *
 * Nothing here reads or sets the process's TZ or calls localtime/mktime: workers run as
 * threads of one process (`handoff run`), so a zone is always an explicit ho_tz_t.
 *
 *     int64_t day = ho_days_from_civil (2026, 11, 16);          // a Monday
 *     ho_week_t w = ho_week_of_day (day);                       // 2026-W47
 *     ho_tz_t *tz = ho_tz_load ("Europe/Berlin", &err);
 *     int64_t start = ho_tz_midnight_ms (tz, ho_week_monday (w)); // 2026-11-15T23:00:00Z
 *     int64_t now;
 *     ho_time_parse ("2026-11-20T09:00:00Z", &now);
 */
#ifndef HO_TIME_H
#define HO_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handoff/tz.h"

/* ---- arithmetic ---- */
/* a / b rounded towards minus infinity (b > 0): instants before 1970 fall on the right day. */
int64_t ho_floor_div(int64_t a, int64_t b);

/* ---- civil days ---- */
/* Day number of the date y-m-d (m 1..12, d 1..31; not checked: see ho_civil_valid). */
int64_t ho_days_from_civil(int64_t y, int m, int d);
/* The date of a day number. */
void ho_civil_from_days(int64_t days, int *y_p, int *m_p, int *d_p);
bool ho_leap_year(int64_t y);
/* 28..31; 0 for a month outside 1..12. */
int ho_days_in_month(int64_t y, int m);
/* True when y-m-d exists (2026-02-30 does not). */
bool ho_civil_valid(int64_t y, int m, int d);
/* 0 = Monday ... 6 = Sunday. */
int ho_weekday(int64_t days);

/* ---- ISO 8601 weeks ---- */
typedef struct {
    int year; /* ISO week-numbering year */
    int week; /* 1..52 or 53 */
} ho_week_t;

/* Number of ISO weeks in an ISO year: 52 or 53. */
int ho_week_count(int year);
/* Day number of the Monday that starts the week. */
int64_t ho_week_monday(ho_week_t week);
/* The ISO week that contains day number `days`. */
ho_week_t ho_week_of_day(int64_t days);
/* week + n weeks (n may be negative). */
ho_week_t ho_week_add(ho_week_t week, int n);
/* Compare: <0, 0, >0. */
int ho_week_cmp(ho_week_t a, ho_week_t b);
/* Parse "2026-W47" (also "2026W47", "2026-w47"): true and *out, or false for text that is not
 * a week or a week the year does not have. */
bool ho_week_read(const char *text, ho_week_t *out);
/* "2026-W47" into out (at least 9 bytes; 16 is plenty). Returns out. */
char *ho_week_format(ho_week_t week, char *out, size_t cap);

/* ---- instants ---- */
/* Exactly n decimal digits at *p: true, their value in *out and *p moved past them; false
 * (nothing moved) when any of the n is not a digit. The field reader of the parsers. */
bool ho_read_digits(const char **p, int n, int *out);
/* An instant from the command line or a config: milliseconds since the epoch ("1795165200000",
 * at most 15 digits), a UTC date ("2026-11-20" = its midnight), or a UTC date and time
 * ("2026-11-20T09:00", "2026-11-20 09:00:05", an optional trailing "Z"). HO_OK (0) and *ms_p,
 * or HO_ERR_FIELD (a date that does not exist, like 2026-02-30, is refused). */
int ho_time_parse(const char *text, int64_t *ms_p);
/* Instant ms as UTC to the second, "2026-11-20T09:00:00Z", into out (at least 21 bytes; 32 is
 * plenty). Returns out. */
char *ho_time_format(int64_t ms, char *out, size_t cap);

/* ---- zones (ho_tz_t: tz.h) ---- */
/* True if tz names a zone this machine knows: "UTC", "Z", "GMT", "Etc/UTC" or a TZif file
 * under $TZDIR or /usr/share/zoneinfo. NULL and "" are not zones here. */
bool ho_tz_valid(const char *tz);
/* UTC ms of the first instant of local calendar day `days` in zone tz. A midnight that
 * falls in a DST gap does not exist: the day then starts at the first instant that does. */
int64_t ho_tz_midnight_ms(const ho_tz_t *tz, int64_t days);
/* The local wall clock of instant ms in zone tz. */
typedef struct {
    int year, month, day, hour, minute, second, millisecond;
} ho_civil_time_t;
ho_civil_time_t ho_tz_civil(const ho_tz_t *tz, int64_t ms);

#endif
