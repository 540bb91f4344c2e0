/* test_time.c - time.h: the civil calendar against libc's timegm, instants parsed from the
 * command line, local midnights in zones whose clocks jump over midnight, and the zone names
 * every part of handoff accepts alike ("Z" too: routing took it, the report did not). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handoff/time.h"

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

static void test_civil_round_trip(void **state)
{
    (void)state;
    /* every day from 1899 to 2101, both directions, against timegm */
    for (int64_t day = -25567; day < 48000; day++) {
        int y, m, d;
        ho_civil_from_days(day, &y, &m, &d);
        assert_int_equal(ho_days_from_civil(y, m, d), day);
        assert_int_equal(s_utc_ms(y, m, d, 0, 0) / 1000, day * 86400);
        assert_true(ho_civil_valid(y, m, d));
    }
    assert_int_equal(ho_weekday(ho_days_from_civil(2026, 11, 16)), 0); /* a Monday */
    assert_int_equal(ho_weekday(ho_days_from_civil(1969, 12, 28)), 6); /* a Sunday */
    assert_false(ho_civil_valid(2026, 2, 29));
    assert_true(ho_civil_valid(2028, 2, 29));
    assert_false(ho_civil_valid(2100, 2, 29));
    assert_false(ho_civil_valid(2026, 13, 1));
    assert_int_equal(ho_floor_div(-1, 1000), -1);
    assert_int_equal(ho_floor_div(999, 1000), 0);
}

static void test_parse_instants(void **state)
{
    (void)state;
    int64_t t = 0;
    assert_int_equal(ho_time_parse("2026-11-20", &t), HO_OK);
    assert_int_equal(t, s_utc_ms(2026, 11, 20, 0, 0));
    assert_int_equal(ho_time_parse("2026-11-20 09:00", &t), HO_OK);
    assert_int_equal(t, s_utc_ms(2026, 11, 20, 9, 0));
    assert_int_equal(ho_time_parse("2026-11-20T09:00:07Z", &t), HO_OK);
    assert_int_equal(t, s_utc_ms(2026, 11, 20, 9, 0) + 7000);
    assert_int_equal(ho_time_parse("1795165200000", &t), HO_OK);
    assert_int_equal(t, 1795165200000);
    assert_int_not_equal(ho_time_parse("2026-02-30", &t), HO_OK);
    assert_int_not_equal(ho_time_parse("2026-11-20T9:00", &t), HO_OK);
    assert_int_not_equal(ho_time_parse("2026-11-20T09:00+01:00", &t), HO_OK);
    assert_int_not_equal(ho_time_parse("1234567890123456", &t), HO_OK);
    assert_int_not_equal(ho_time_parse("", &t), HO_OK);
}

/* ho_time_format is what dlq, outbox, score, run and the log print; ho_read_digits is the
 * field reader of ho_time_parse and of normalize's date parser. */
static void test_format_and_digits(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(ho_time_format(s_utc_ms(2026, 11, 20, 9, 5) + 7999, buf, sizeof buf),
                        "2026-11-20T09:05:07Z"); /* milliseconds are cut, not rounded */
    assert_string_equal(ho_time_format(0, buf, sizeof buf), "1970-01-01T00:00:00Z");
    int64_t t = 0;
    assert_int_equal(ho_time_parse(ho_time_format(1795165200000, buf, sizeof buf), &t), HO_OK);
    assert_int_equal(t, 1795165200000);

    const char *p = "2026x";
    int v = -1;
    assert_true(ho_read_digits(&p, 4, &v));
    assert_int_equal(v, 2026);
    assert_string_equal(p, "x");
    p = "12x4";
    v = -1;
    assert_false(ho_read_digits(&p, 4, &v)); /* not moved, nothing set */
    assert_string_equal(p, "12x4");
    assert_int_equal(v, -1);
    p = "07";
    assert_true(ho_read_digits(&p, 2, &v));
    assert_int_equal(v, 7);
    assert_string_equal(p, "");
}

static void test_midnights(void **state)
{
    (void)state;
    ho_err_t err;
    ho_tz_t *berlin = ho_tz_load("Europe/Berlin", &err);
    assert_non_null(berlin);
    /* winter +01:00, summer +02:00; the change itself is at 02:00, not midnight */
    assert_int_equal(ho_tz_midnight_ms(berlin, ho_days_from_civil(2026, 1, 5)),
                     s_utc_ms(2026, 1, 4, 23, 0));
    assert_int_equal(ho_tz_midnight_ms(berlin, ho_days_from_civil(2026, 3, 30)),
                     s_utc_ms(2026, 3, 29, 22, 0));
    ho_civil_time_t c = ho_tz_civil(berlin, s_utc_ms(2026, 7, 1, 22, 30));
    assert_int_equal(c.day, 2);
    assert_int_equal(c.hour, 0);
    assert_int_equal(c.minute, 30);
    ho_tz_destroy(&berlin);

    /* Sao Paulo (2018): clocks jumped from 00:00 to 01:00 on 4 November, so that day's
     * midnight does not exist and the day starts at the jump, 03:00Z. On 18 February clocks
     * went back at the first stroke of midnight to 23:00 on the 17th, so the 17th had 25
     * hours and the 18th began once, at 00:00 -03 = 03:00Z. */
    ho_tz_t *sp = ho_tz_load("America/Sao_Paulo", &err);
    assert_non_null(sp);
    int64_t nov4 = ho_tz_midnight_ms(sp, ho_days_from_civil(2018, 11, 4));
    assert_int_equal(nov4, s_utc_ms(2018, 11, 4, 3, 0));
    assert_int_equal(ho_tz_day(sp, nov4), ho_days_from_civil(2018, 11, 4));
    assert_int_equal(ho_tz_day(sp, nov4 - 1), ho_days_from_civil(2018, 11, 3));
    int64_t feb18 = ho_tz_midnight_ms(sp, ho_days_from_civil(2018, 2, 18));
    assert_int_equal(ho_tz_day(sp, feb18), ho_days_from_civil(2018, 2, 18));
    assert_int_equal(feb18, s_utc_ms(2018, 2, 18, 3, 0));
    assert_int_equal(ho_tz_day(sp, feb18 - 1), ho_days_from_civil(2018, 2, 17));
    ho_tz_destroy(&sp);
}

static void test_zone_names(void **state)
{
    (void)state;
    assert_true(ho_tz_valid("UTC"));
    assert_true(ho_tz_valid("Z"));
    assert_true(ho_tz_valid("Etc/UTC"));
    assert_true(ho_tz_valid("Asia/Kolkata"));
    assert_false(ho_tz_valid(""));
    assert_false(ho_tz_valid(NULL));
    assert_false(ho_tz_valid("Mars/Olympus"));
    assert_false(ho_tz_valid("../../etc/passwd"));
    assert_false(ho_tz_valid("Europe")); /* a folder, not a zone */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_civil_round_trip),
        cmocka_unit_test(test_parse_instants),
        cmocka_unit_test(test_format_and_digits),
        cmocka_unit_test(test_midnights),
        cmocka_unit_test(test_zone_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
