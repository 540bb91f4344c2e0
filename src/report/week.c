/* week.c - ISO 8601 week arithmetic and local-time week boundaries.
 *
 * Calendar arithmetic is done on day numbers (days since 1970-01-01, proleptic Gregorian;
 * Howard Hinnant's civil-date algorithms), so it needs no time zone. Only the step from a
 * local midnight to a UTC instant uses the C library, with TZ set to the requested zone for
 * the duration of the call: glibc's tz database then handles DST and historical offsets. */
#include "handoff/report.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "report/report_int.h"

static int64_t s_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) {
        q--;
    }
    return q;
}

static int64_t s_mod(int64_t a, int64_t b)
{
    return a - s_floor_div(a, b) * b;
}

int64_t ho_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = s_floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void ho_civil_from_days(int64_t z, int *y_p, int *m_p, int *d_p)
{
    z += 719468;
    int64_t era = s_floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    *y_p = (int)(y + (m <= 2));
    *m_p = (int)m;
    *d_p = (int)d;
}

/* 0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday). */
static int s_weekday(int64_t days)
{
    return (int)s_mod(days + 3, 7);
}

/* Monday of ISO week 1: the Monday of the week that holds 4 January. */
static int64_t s_week1_monday(int year)
{
    int64_t jan4 = ho_days_from_civil(year, 1, 4);
    return jan4 - s_weekday(jan4);
}

int ho_week_count(int year)
{
    return (int)((s_week1_monday(year + 1) - s_week1_monday(year)) / 7);
}

int64_t ho_week_monday(ho_week_t week)
{
    return s_week1_monday(week.year) + 7 * (int64_t)(week.week - 1);
}

ho_week_t ho_week_of_day(int64_t days)
{
    /* The ISO year of a week is the calendar year of its Thursday. */
    int64_t thursday = days - s_weekday(days) + 3;
    int y, m, d;
    ho_civil_from_days(thursday, &y, &m, &d);
    ho_week_t w = {.year = y, .week = (int)((thursday - s_week1_monday(y)) / 7 + 1)};
    return w;
}

ho_week_t ho_week_add(ho_week_t week, int n)
{
    return ho_week_of_day(ho_week_monday(week) + 7 * (int64_t)n);
}

int ho_week_cmp(ho_week_t a, ho_week_t b)
{
    if (a.year != b.year) {
        return a.year < b.year ? -1 : 1;
    }
    return a.week < b.week ? -1 : (a.week > b.week ? 1 : 0);
}

ho_report_error_t ho_week_parse(const char *text, ho_week_t *out)
{
    if (!text) {
        return HO_REPORT_ERR_WEEK;
    }
    const char *p = text;
    int year = 0;
    for (int i = 0; i < 4; i++, p++) {
        if (!isdigit((unsigned char)*p)) {
            return HO_REPORT_ERR_WEEK;
        }
        year = year * 10 + (*p - '0');
    }
    if (*p == '-') {
        p++;
    }
    if (*p != 'W' && *p != 'w') {
        return HO_REPORT_ERR_WEEK;
    }
    p++;
    if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) || p[2] != '\0') {
        return HO_REPORT_ERR_WEEK;
    }
    int week = (p[0] - '0') * 10 + (p[1] - '0');
    if (year < 1900 || week < 1 || week > ho_week_count(year)) {
        return HO_REPORT_ERR_WEEK;
    }
    out->year = year;
    out->week = week;
    return HO_REPORT_OK;
}

char *ho_week_format(ho_week_t week, char *out, size_t cap)
{
    snprintf(out, cap, "%04d-W%02d", week.year, week.week);
    return out;
}

bool ho_tz_valid(const char *tz)
{
    if (!tz || !*tz || tz[0] == '/' || tz[0] == ':' || strstr(tz, "..")) {
        return false;
    }
    if (!strcmp(tz, "UTC")) {
        return true;
    }
    for (const char *p = tz; *p; p++) {
        if (!isalnum((unsigned char)*p) && !strchr("/_-+", *p)) {
            return false;
        }
    }
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", tz);
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---- TZ switching: set the zone for a call, restore the caller's afterwards ---- */

ho_report_error_t ho_tz_push(const char *tz, ho_tz_saved_t *saved, ho_err_t *err)
{
    if (!tz) {
        tz = "UTC";
    }
    if (!ho_tz_valid(tz)) {
        ho_err_set(err, HO_ERR_CONFIG, "timezone",
                   "timezone: unknown IANA time zone \"%s\" (e.g. Europe/Berlin, UTC)", tz);
        return HO_REPORT_ERR_TIMEZONE;
    }
    const char *old = getenv("TZ");
    saved->had = old != NULL;
    snprintf(saved->value, sizeof saved->value, "%s", old ? old : "");
    setenv("TZ", tz, 1);
    tzset();
    return HO_REPORT_OK;
}

void ho_tz_pop(const ho_tz_saved_t *saved)
{
    if (saved->had) {
        setenv("TZ", saved->value, 1);
    } else {
        unsetenv("TZ");
    }
    tzset();
}

int64_t ho_local_midnight_ms(int64_t days)
{
    int y, m, d;
    ho_civil_from_days(days, &y, &m, &d);
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    tm.tm_isdst = -1;
    /* A midnight that falls in a DST gap is normalized forward by mktime: the week then
     * starts at the first instant that exists on that Monday. */
    time_t t = mktime(&tm);
    return (int64_t)t * 1000;
}

int64_t ho_local_day_of_ms(int64_t ms)
{
    time_t t = (time_t)s_floor_div(ms, 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    return ho_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

ho_report_error_t ho_week_bounds(ho_week_t week, const char *tz, int64_t *start_ms, int64_t *end_ms,
                                 ho_err_t *err)
{
    ho_tz_saved_t saved;
    ho_report_error_t rc = ho_tz_push(tz, &saved, err);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    int64_t monday = ho_week_monday(week);
    *start_ms = ho_local_midnight_ms(monday);
    *end_ms = ho_local_midnight_ms(monday + 7);
    ho_tz_pop(&saved);
    return HO_REPORT_OK;
}

ho_report_error_t ho_week_of_ms(int64_t ms, const char *tz, ho_week_t *out, ho_err_t *err)
{
    ho_tz_saved_t saved;
    ho_report_error_t rc = ho_tz_push(tz, &saved, err);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    *out = ho_week_of_day(ho_local_day_of_ms(ms));
    ho_tz_pop(&saved);
    return HO_REPORT_OK;
}

ho_report_error_t ho_week_last_complete(int64_t now_ms, const char *tz, ho_week_t *out,
                                        ho_err_t *err)
{
    ho_week_t cur;
    ho_report_error_t rc = ho_week_of_ms(now_ms, tz, &cur, err);
    if (rc == HO_REPORT_OK) {
        *out = ho_week_add(cur, -1);
    }
    return rc;
}

static int s_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

bool ho_report_median(int64_t *v, size_t n, double *out)
{
    if (n == 0) {
        return false;
    }
    qsort(v, n, sizeof *v, s_cmp_i64);
    if (n % 2) {
        *out = (double)v[n / 2];
    } else {
        *out = ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2.0;
    }
    return true;
}
