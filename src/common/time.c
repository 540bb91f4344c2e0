/* time.c - civil days, ISO weeks, instants and zone-local days; see include/handoff/time.h.
 * The one copy of the civil-date algorithms (Howard Hinnant's days_from_civil /
 * civil_from_days) that the zone reader, routing, ingest and the report share. */
#include "handoff/time.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY_MS INT64_C(86400000)

int64_t ho_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) {
        q--;
    }
    return q;
}

/* ------------------------------------------------------------------ civil days */

int64_t ho_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = ho_floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void ho_civil_from_days(int64_t z, int *y_p, int *m_p, int *d_p)
{
    z += 719468;
    int64_t era = ho_floor_div(z, 146097);
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

bool ho_leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int ho_days_in_month(int64_t y, int m)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12) {
        return 0;
    }
    return mdays[m - 1] + (m == 2 && ho_leap_year(y));
}

bool ho_civil_valid(int64_t y, int m, int d)
{
    return d >= 1 && d <= ho_days_in_month(y, m);
}

int ho_weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday */
    int64_t r = (days + 3) % 7;
    return (int)(r < 0 ? r + 7 : r);
}

/* ------------------------------------------------------------------ ISO weeks */

/* Monday of ISO week 1: the Monday of the week that holds 4 January. */
static int64_t s_week1_monday(int year)
{
    int64_t jan4 = ho_days_from_civil(year, 1, 4);
    return jan4 - ho_weekday(jan4);
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
    int64_t thursday = days - ho_weekday(days) + 3;
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

bool ho_week_read(const char *text, ho_week_t *out)
{
    if (!text) {
        return false;
    }
    const char *p = text;
    int year = 0;
    for (int i = 0; i < 4; i++, p++) {
        if (!isdigit((unsigned char)*p)) {
            return false;
        }
        year = year * 10 + (*p - '0');
    }
    if (*p == '-') {
        p++;
    }
    if (*p != 'W' && *p != 'w') {
        return false;
    }
    p++;
    if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) || p[2] != '\0') {
        return false;
    }
    int week = (p[0] - '0') * 10 + (p[1] - '0');
    if (year < 1900 || week < 1 || week > ho_week_count(year)) {
        return false;
    }
    out->year = year;
    out->week = week;
    return true;
}

char *ho_week_format(ho_week_t week, char *out, size_t cap)
{
    snprintf(out, cap, "%04d-W%02d", week.year, week.week);
    return out;
}

/* ------------------------------------------------------------------ instants */

bool ho_read_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) {
            return false;
        }
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

int ho_time_parse(const char *text, int64_t *ms_p)
{
    if (!text || !*text) {
        return HO_ERR_FIELD;
    }
    size_t len = strlen(text);
    if (strspn(text, "0123456789") == len) {
        if (len > 15) {
            return HO_ERR_FIELD;
        }
        *ms_p = strtoll(text, NULL, 10);
        return HO_OK;
    }
    const char *p = text;
    int y, mo, d, h = 0, mi = 0, s = 0;
    if (!ho_read_digits(&p, 4, &y) || *p++ != '-' || !ho_read_digits(&p, 2, &mo) || *p++ != '-' ||
        !ho_read_digits(&p, 2, &d)) {
        return HO_ERR_FIELD;
    }
    if (*p == 'T' || *p == ' ') {
        p++;
        if (!ho_read_digits(&p, 2, &h) || *p++ != ':' || !ho_read_digits(&p, 2, &mi)) {
            return HO_ERR_FIELD;
        }
        if (*p == ':') {
            p++;
            if (!ho_read_digits(&p, 2, &s)) {
                return HO_ERR_FIELD;
            }
        }
    }
    if (*p == 'Z') {
        p++;
    }
    if (*p || !ho_civil_valid(y, mo, d) || h > 23 || mi > 59 || s > 60) {
        return HO_ERR_FIELD;
    }
    *ms_p = ((ho_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + (int64_t)s * 1000;
    return HO_OK;
}

char *ho_time_format(int64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return out;
}

/* ------------------------------------------------------------------ zones */

bool ho_tz_valid(const char *tz)
{
    if (!tz || !*tz) {
        return false;
    }
    ho_tz_t *z = ho_tz_load(tz, NULL);
    bool ok = z != NULL;
    ho_tz_destroy(&z);
    return ok;
}

int64_t ho_tz_midnight_ms(const ho_tz_t *tz, int64_t days)
{
    int64_t local = days * DAY_MS;
    /* the offsets in effect well before and well after the local midnight: a transition
     * near midnight lies between them */
    int64_t o1 = (int64_t)ho_tz_offset(tz, local - 14 * 3600000) * 1000;
    int64_t o2 = (int64_t)ho_tz_offset(tz, local + 14 * 3600000) * 1000;
    int64_t c1 = local - o1, c2 = local - o2;
    bool ok1 = (int64_t)ho_tz_offset(tz, c1) * 1000 == o1;
    bool ok2 = (int64_t)ho_tz_offset(tz, c2) * 1000 == o2;
    if (ok1 && ok2) {
        return c1 < c2 ? c1 : c2; /* midnight happens twice: the first one */
    }
    if (ok1 || ok2) {
        return ok1 ? c1 : c2;
    }
    /* In a gap (clocks jump over midnight, so o2 > o1 and c2 < c1): the day starts at the
     * transition, the first instant whose offset is the new one. */
    int64_t lo = c2 < c1 ? c2 : c1, hi = c2 < c1 ? c1 : c2;
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if ((int64_t)ho_tz_offset(tz, mid) * 1000 == o2) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    return hi;
}

ho_civil_time_t ho_tz_civil(const ho_tz_t *tz, int64_t ms)
{
    int64_t local = ms + (tz ? (int64_t)ho_tz_offset(tz, ms) * 1000 : 0);
    int64_t days = ho_floor_div(local, DAY_MS);
    int64_t in_day = local - days * DAY_MS;
    ho_civil_time_t c;
    ho_civil_from_days(days, &c.year, &c.month, &c.day);
    c.hour = (int)(in_day / 3600000);
    c.minute = (int)(in_day / 60000 % 60);
    c.second = (int)(in_day / 1000 % 60);
    c.millisecond = (int)(in_day % 1000);
    return c;
}
