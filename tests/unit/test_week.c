/* test_week.c - ISO 8601 week arithmetic (year edges, 53-week years) and week boundaries in
 * IANA time zones (offsets, DST weeks of 167 and 169 hours), plus the report's median. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handoff/report.h"

/* Expected instants come from libc's timegm, not from the code under test. */
static int64_t s_utc_ms(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return (int64_t)timegm(&tm) * 1000;
}

static int64_t s_days(int y, int mo, int d)
{
    return s_utc_ms(y, mo, d, 0, 0) / 86400000;
}

static ho_week_t W(int y, int w)
{
    ho_week_t x = {y, w};
    return x;
}

static void s_assert_week(ho_week_t got, int y, int w)
{
    if (got.year != y || got.week != w) {
        fail_msg("got %d-W%02d, want %d-W%02d", got.year, got.week, y, w);
    }
}

static void test_parse_and_format(void **state)
{
    (void)state;
    ho_week_t w;
    char buf[16];
    assert_int_equal(ho_week_parse("2026-W47", &w), HO_REPORT_OK);
    s_assert_week(w, 2026, 47);
    assert_string_equal(ho_week_format(w, buf, sizeof buf), "2026-W47");
    assert_int_equal(ho_week_parse("2026W05", &w), HO_REPORT_OK);
    assert_string_equal(ho_week_format(w, buf, sizeof buf), "2026-W05");
    assert_int_equal(ho_week_parse("2026-W53", &w), HO_REPORT_OK); /* 2026 has 53 weeks */
    const char *bad[] = {"2025-W53",  "2026-W54", "2026-W00", "2026-47", "26-W47",  "2026-W4",
                         "2026-W470", "2026-W4x", "",         "W47",     "2026-X47"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (ho_week_parse(bad[i], &w) != HO_REPORT_ERR_WEEK) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
    assert_int_equal(ho_week_parse(NULL, &w), HO_REPORT_ERR_WEEK);
}

static void test_weeks_per_year(void **state)
{
    (void)state;
    /* 53 weeks when 1 January is a Thursday, or a Wednesday in a leap year. */
    assert_int_equal(ho_week_count(2015), 53);
    assert_int_equal(ho_week_count(2020), 53);
    assert_int_equal(ho_week_count(2021), 52);
    assert_int_equal(ho_week_count(2025), 52);
    assert_int_equal(ho_week_count(2026), 53);
    assert_int_equal(ho_week_count(2027), 52);
    assert_int_equal(ho_week_count(2032), 53);
}

static void test_year_edges(void **state)
{
    (void)state;
    assert_int_equal(ho_week_monday(W(2026, 1)), s_days(2025, 12, 29));
    assert_int_equal(ho_week_monday(W(2026, 47)), s_days(2026, 11, 16));
    assert_int_equal(ho_week_monday(W(2026, 53)), s_days(2026, 12, 28));
    assert_int_equal(ho_week_monday(W(2027, 1)), s_days(2027, 1, 4));
    s_assert_week(ho_week_of_day(s_days(2027, 1, 3)), 2026, 53); /* Sunday */
    s_assert_week(ho_week_of_day(s_days(2027, 1, 4)), 2027, 1);
    s_assert_week(ho_week_of_day(s_days(2025, 12, 29)), 2026, 1); /* December, next year */
    s_assert_week(ho_week_of_day(s_days(2021, 1, 1)), 2020, 53);  /* January, last year */
    s_assert_week(ho_week_of_day(s_days(2008, 12, 29)), 2009, 1);
    s_assert_week(ho_week_of_day(s_days(1970, 1, 1)), 1970, 1);
    s_assert_week(ho_week_of_day(s_days(1969, 12, 28)), 1969, 52); /* before the epoch */
    s_assert_week(ho_week_add(W(2026, 53), 1), 2027, 1);
    s_assert_week(ho_week_add(W(2027, 1), -1), 2026, 53);
    s_assert_week(ho_week_add(W(2026, 52), 1), 2026, 53);
    s_assert_week(ho_week_add(W(2025, 52), 1), 2026, 1);
    s_assert_week(ho_week_add(W(2026, 47), -11), 2026, 36);
    s_assert_week(ho_week_add(W(2026, 3), -4), 2025, 51);
    s_assert_week(ho_week_add(W(2026, 47), 0), 2026, 47);
    assert_true(ho_week_cmp(W(2026, 53), W(2027, 1)) < 0);
    assert_true(ho_week_cmp(W(2027, 1), W(2026, 53)) > 0);
    assert_int_equal(ho_week_cmp(W(2026, 5), W(2026, 5)), 0);
    /* every day of a span maps into the week whose Monday precedes it */
    for (int64_t d = s_days(2019, 12, 1); d < s_days(2033, 2, 1); d++) {
        ho_week_t w = ho_week_of_day(d);
        int64_t mon = ho_week_monday(w);
        if (d < mon || d >= mon + 7) {
            fail_msg("day %lld not in %d-W%02d", (long long)d, w.year, w.week);
        }
    }
}

static void s_bounds(const char *tz, ho_week_t w, int64_t *a, int64_t *b)
{
    ho_err_t err;
    if (ho_week_bounds(w, tz, a, b, &err) != HO_REPORT_OK) {
        fail_msg("%s: %s", tz, err.message);
    }
}

static void test_bounds_in_zones(void **state)
{
    (void)state;
    int64_t a, b;
    s_bounds("UTC", W(2026, 47), &a, &b);
    assert_int_equal(a, s_utc_ms(2026, 11, 16, 0, 0));
    assert_int_equal(b, s_utc_ms(2026, 11, 23, 0, 0));
    s_bounds("Europe/Berlin", W(2026, 47), &a, &b); /* CET, UTC+1 */
    assert_int_equal(a, s_utc_ms(2026, 11, 15, 23, 0));
    assert_int_equal(b, s_utc_ms(2026, 11, 22, 23, 0));
    s_bounds("America/New_York", W(2026, 47), &a, &b); /* EST, UTC-5 */
    assert_int_equal(a, s_utc_ms(2026, 11, 16, 5, 0));
    s_bounds("Asia/Kolkata", W(2026, 47), &a, &b); /* UTC+5:30 */
    assert_int_equal(a, s_utc_ms(2026, 11, 15, 18, 30));
    s_bounds("Pacific/Kiritimati", W(2026, 47), &a, &b); /* UTC+14: Monday starts Sunday */
    assert_int_equal(a, s_utc_ms(2026, 11, 15, 10, 0));
    /* year edge in a zone: 2026-W53 ends where 2027-W01 begins */
    int64_t a2, b2;
    s_bounds("Europe/Berlin", W(2026, 53), &a, &b);
    s_bounds("Europe/Berlin", W(2027, 1), &a2, &b2);
    assert_int_equal(b, a2);
    assert_int_equal(a, s_utc_ms(2026, 12, 27, 23, 0));
}

static void test_dst_weeks(void **state)
{
    (void)state;
    int64_t a, b;
    /* Berlin leaves DST on Sunday 25 Oct 2026: the week 19..25 Oct has 169 hours. */
    s_bounds("Europe/Berlin", W(2026, 43), &a, &b);
    assert_int_equal(a, s_utc_ms(2026, 10, 18, 22, 0));
    assert_int_equal(b, s_utc_ms(2026, 10, 25, 23, 0));
    assert_int_equal(b - a, 169LL * 3600 * 1000);
    /* and enters it on Sunday 29 Mar 2026: 167 hours. */
    s_bounds("Europe/Berlin", W(2026, 13), &a, &b);
    assert_int_equal(b - a, 167LL * 3600 * 1000);
    /* New York changes on Sunday 1 Nov 2026. */
    s_bounds("America/New_York", W(2026, 44), &a, &b);
    assert_int_equal(a, s_utc_ms(2026, 10, 26, 4, 0));
    assert_int_equal(b, s_utc_ms(2026, 11, 2, 5, 0));
    /* Southern hemisphere: Sydney leaves DST on Sunday 5 Apr 2026. */
    s_bounds("Australia/Sydney", W(2026, 14), &a, &b);
    assert_int_equal(a, s_utc_ms(2026, 3, 29, 13, 0)); /* AEDT, UTC+11 */
    assert_int_equal(b, s_utc_ms(2026, 4, 5, 14, 0));  /* AEST, UTC+10 */
}

static void test_week_of_instant(void **state)
{
    (void)state;
    ho_week_t w;
    ho_err_t err;
    int64_t t = s_utc_ms(2026, 11, 15, 23, 30); /* Monday 00:30 in Berlin, Sunday in UTC */
    assert_int_equal(ho_week_of_ms(t, "Europe/Berlin", &w, &err), HO_REPORT_OK);
    s_assert_week(w, 2026, 47);
    assert_int_equal(ho_week_of_ms(t, "UTC", &w, &err), HO_REPORT_OK);
    s_assert_week(w, 2026, 46);
    /* the first instant of a week belongs to it; the last millisecond before does not */
    int64_t a, b;
    s_bounds("Europe/Berlin", W(2026, 47), &a, &b);
    ho_week_of_ms(a, "Europe/Berlin", &w, &err);
    s_assert_week(w, 2026, 47);
    ho_week_of_ms(a - 1, "Europe/Berlin", &w, &err);
    s_assert_week(w, 2026, 46);
    ho_week_of_ms(b, "Europe/Berlin", &w, &err);
    s_assert_week(w, 2026, 48);
    /* last complete week: the one before the current */
    assert_int_equal(ho_week_last_complete(s_utc_ms(2026, 11, 23, 19, 44), "UTC", &w, &err),
                     HO_REPORT_OK);
    s_assert_week(w, 2026, 47);
    ho_week_last_complete(s_utc_ms(2027, 1, 4, 0, 0), "UTC", &w, &err);
    s_assert_week(w, 2026, 53);
    ho_week_last_complete(s_utc_ms(2027, 1, 3, 23, 30), "Europe/Berlin", &w, &err);
    s_assert_week(w, 2026, 53); /* already Monday 4 Jan 00:30 in Berlin */
}

static void test_zones_validated_and_tz_restored(void **state)
{
    (void)state;
    assert_true(ho_tz_valid("UTC"));
    assert_true(ho_tz_valid("Europe/Berlin"));
    assert_true(ho_tz_valid("America/Argentina/Buenos_Aires"));
    assert_false(ho_tz_valid("Mars/Olympus"));
    assert_false(ho_tz_valid(""));
    assert_false(ho_tz_valid(NULL));
    assert_false(ho_tz_valid("../../etc/passwd"));
    assert_false(ho_tz_valid("/usr/share/zoneinfo/UTC"));
    assert_false(ho_tz_valid("Europe")); /* a folder, not a zone */
    int64_t a, b;
    ho_err_t err;
    assert_int_equal(ho_week_bounds(W(2026, 47), "Mars/Olympus", &a, &b, &err),
                     HO_REPORT_ERR_TIMEZONE);
    assert_non_null(strstr(err.message, "Mars/Olympus"));
    /* the caller's TZ is put back */
    setenv("TZ", "Asia/Tokyo", 1);
    s_bounds("Europe/Berlin", W(2026, 47), &a, &b);
    assert_string_equal(getenv("TZ"), "Asia/Tokyo");
    unsetenv("TZ");
    s_bounds("Europe/Berlin", W(2026, 47), &a, &b);
    assert_null(getenv("TZ"));
}

static void test_median(void **state)
{
    (void)state;
    double m = -1;
    int64_t none[1] = {0};
    assert_false(ho_report_median(none, 0, &m));
    assert_true(m == -1);
    int64_t one[] = {7};
    assert_true(ho_report_median(one, 1, &m));
    assert_true(m == 7.0);
    int64_t odd[] = {9, 1, 5, 3, 7};
    assert_true(ho_report_median(odd, 5, &m));
    assert_true(m == 5.0);
    int64_t even[] = {10, 2, 4, 8};
    assert_true(ho_report_median(even, 4, &m));
    assert_true(m == 6.0);
    int64_t half[] = {1, 2};
    assert_true(ho_report_median(half, 2, &m));
    assert_true(m == 1.5);
    int64_t neg[] = {-5, -1, -3};
    assert_true(ho_report_median(neg, 3, &m));
    assert_true(m == -3.0);
    int64_t big[] = {3600000LL * 24 * 365 * 50, 1, 3600000LL * 24 * 365 * 50};
    assert_true(ho_report_median(big, 3, &m));
    assert_true(m == (double)(3600000LL * 24 * 365 * 50));
    int64_t dup[] = {4, 4, 4, 4, 1, 9};
    assert_true(ho_report_median(dup, 6, &m));
    assert_true(m == 4.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_format),
        cmocka_unit_test(test_weeks_per_year),
        cmocka_unit_test(test_year_edges),
        cmocka_unit_test(test_bounds_in_zones),
        cmocka_unit_test(test_dst_weeks),
        cmocka_unit_test(test_week_of_instant),
        cmocka_unit_test(test_zones_validated_and_tz_restored),
        cmocka_unit_test(test_median),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
