/* test_tz.c - time zones read from tzdata without the process TZ: offsets and local days
 * against glibc's own localtime_r (the oracle: this test is single-threaded, so it may set
 * TZ), at random instants from 1900 to 2100 and at every DST edge of a few years, in zones
 * north and south, with half-hour and 45-minute offsets; bad names and bad files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handoff/tz.h"

static const char *const s_zones[] = {
    "America/New_York",  "America/Chicago",   "America/Denver",   "America/Los_Angeles",
    "Europe/London",     "Europe/Berlin",     "Europe/Madrid",    "Asia/Singapore",
    "Asia/Kolkata",      "Asia/Kathmandu",    "Australia/Sydney", "Pacific/Auckland",
    "America/Sao_Paulo", "Africa/Casablanca", "Pacific/Chatham",  "America/St_Johns",
};

static long s_glibc_offset(const char *zone, time_t t)
{
    setenv("TZ", zone, 1);
    tzset();
    struct tm tm;
    localtime_r(&t, &tm);
    return tm.tm_gmtoff;
}

static void test_offsets_match_libc(void **state)
{
    (void)state;
    srand(20261120);
    for (size_t z = 0; z < sizeof s_zones / sizeof s_zones[0]; z++) {
        ho_err_t err = {0};
        ho_tz_t *tz = ho_tz_load(s_zones[z], &err);
        if (!tz) {
            fail_msg("%s: %s", s_zones[z], err.message);
        }
        /* random instants 1900..2100 (the far future runs on the file's POSIX rule) */
        for (int i = 0; i < 3000; i++) {
            int64_t t = -2208988800LL + (int64_t)((double)rand() / RAND_MAX * 6311433600.0);
            long want = s_glibc_offset(s_zones[z], (time_t)t);
            if (ho_tz_offset(tz, t * 1000) != want) {
                fail_msg("%s at %lld: got %d, libc %ld", s_zones[z], (long long)t,
                         ho_tz_offset(tz, t * 1000), want);
            }
        }
        /* every hour of 2026 and of 2045, +-1 s around each change libc sees */
        for (int year = 0; year < 2; year++) {
            int64_t from = year ? 2366841600LL : 1767225600LL; /* 2045-01-01, 2026-01-01 */
            long prev = s_glibc_offset(s_zones[z], (time_t)from);
            for (int64_t t = from; t < from + 366 * 86400LL; t += 3600) {
                long now = s_glibc_offset(s_zones[z], (time_t)t);
                if (now != prev) {
                    /* find the exact second of the change */
                    int64_t lo = t - 3600, hi = t;
                    while (hi - lo > 1) {
                        int64_t mid = lo + (hi - lo) / 2;
                        if (s_glibc_offset(s_zones[z], (time_t)mid) == prev) {
                            lo = mid;
                        } else {
                            hi = mid;
                        }
                    }
                    assert_int_equal(ho_tz_offset(tz, lo * 1000), prev);
                    assert_int_equal(ho_tz_offset(tz, lo * 1000 + 999), prev);
                    assert_int_equal(ho_tz_offset(tz, hi * 1000), now);
                }
                assert_int_equal(ho_tz_offset(tz, t * 1000), now);
                prev = now;
            }
        }
        ho_tz_destroy(&tz);
        ho_tz_destroy(&tz); /* safe twice */
    }
    unsetenv("TZ");
    tzset();
}

static int64_t s_ms(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm) * 1000;
}

static void test_local_day(void **state)
{
    (void)state;
    ho_err_t err = {0};
    ho_tz_t *ny = ho_tz_load("America/New_York", &err);
    ho_tz_t *sg = ho_tz_load("Asia/Singapore", &err);
    ho_tz_t *utc = ho_tz_load("UTC", &err);
    assert_non_null(ny);
    assert_non_null(sg);
    assert_non_null(utc);
    int64_t nov20 = s_ms(2026, 11, 20, 0, 0) / 86400000;
    /* 2026-11-20 03:30 UTC is still the 19th in New York (EST, -5) and already the 20th in
     * Singapore (+8) */
    int64_t t = s_ms(2026, 11, 20, 3, 30);
    assert_int_equal(ho_tz_day(utc, t), nov20);
    assert_int_equal(ho_tz_day(ny, t), nov20 - 1);
    assert_int_equal(ho_tz_day(sg, t), nov20);
    /* 2026-11-20 17:00 UTC is the 21st in Singapore */
    assert_int_equal(ho_tz_day(sg, s_ms(2026, 11, 20, 17, 0)), nov20 + 1);
    assert_int_equal(ho_tz_day(sg, s_ms(2026, 11, 20, 15, 59)), nov20);
    /* before 1970 the day number is negative and floors */
    assert_int_equal(ho_tz_day(utc, -1), -1);
    assert_int_equal(ho_tz_day(ny, s_ms(1969, 12, 31, 4, 59)), -2);
    assert_string_equal(ho_tz_name(ny), "America/New_York");
    assert_string_equal(ho_tz_name(utc), "UTC");
    ho_tz_destroy(&ny);
    ho_tz_destroy(&sg);
    ho_tz_destroy(&utc);
}

static void test_bad_names_and_files(void **state)
{
    (void)state;
    static const char *const bad[] = {"America/Nwe_York", "../../etc/passwd",  "/etc/localtime",
                                      "Europe/Berlin;rm", "Mars/Olympus_Mons", "America"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ho_err_t err = {0};
        ho_tz_t *tz = ho_tz_load(bad[i], &err);
        if (tz) {
            fail_msg("\"%s\" loaded as a time zone", bad[i]);
        }
        assert_int_equal(err.code, HO_ERR_CONFIG);
        assert_non_null(strstr(err.message, "time zone \""));
    }
    ho_err_t err = {0};
    assert_null(ho_tz_load("America/Nwe_York", &err));
    assert_non_null(strstr(err.message, "unknown time zone"));

    /* a real file cut anywhere is refused, never read past its end */
    FILE *f = fopen("/usr/share/zoneinfo/Europe/Berlin", "rb");
    assert_non_null(f);
    unsigned char buf[8192];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(len > 100);
    ho_tz_t *whole = ho_tz_parse("Europe/Berlin", buf, len, &err);
    assert_non_null(whole);
    ho_tz_destroy(&whole);
    for (size_t cut = 0; cut < len; cut += 7) {
        unsigned char *copy = malloc(cut + 1); /* exact size: ASan sees any over-read */
        memcpy(copy, buf, cut);
        ho_tz_t *tz = ho_tz_parse("Europe/Berlin", copy, cut, &err);
        /* cut inside the footer only: the transitions are whole and still usable */
        if (tz) {
            assert_int_equal(ho_tz_offset(tz, s_ms(2026, 7, 1, 12, 0)), 7200);
            ho_tz_destroy(&tz);
        }
        free(copy);
    }
    assert_null(ho_tz_parse("x", (const unsigned char *)"TZif2", 5, &err));
    assert_null(ho_tz_parse("x",
                            (const unsigned char *)"not a zone file at all, not at all, no "
                                                   "not a zone file at all",
                            62, &err));
    assert_non_null(strstr(err.message, "not a TZif"));
}

static void test_guess_from_country_and_state(void **state)
{
    (void)state;
    assert_string_equal(ho_tz_guess("US", "NY"), "America/New_York");
    assert_string_equal(ho_tz_guess("us", "tx"), "America/Chicago");
    assert_string_equal(ho_tz_guess("US", "AZ"), "America/Phoenix");
    assert_string_equal(ho_tz_guess("DE", NULL), "Europe/Berlin");
    assert_string_equal(ho_tz_guess("AU", "QLD"), "Australia/Brisbane");
    assert_string_equal(ho_tz_guess("CA", "BC"), "America/Vancouver");
    assert_null(ho_tz_guess("US", NULL)); /* several zones: cannot tell */
    assert_null(ho_tz_guess("US", "ZZ"));
    assert_null(ho_tz_guess("XX", NULL));
    assert_null(ho_tz_guess(NULL, "NY"));
    /* every zone the table can answer exists in tzdata */
    static const char *const states[] = {
        "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "ID",
        "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO",
        "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA",
        "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "PR"};
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        const char *z = ho_tz_guess("US", states[i]);
        if (!z) {
            fail_msg("no zone for US-%s", states[i]);
        }
        ho_err_t err = {0};
        ho_tz_t *tz = ho_tz_load(z, &err);
        if (!tz) {
            fail_msg("US-%s: %s", states[i], err.message);
        }
        ho_tz_destroy(&tz);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offsets_match_libc),
        cmocka_unit_test(test_local_day),
        cmocka_unit_test(test_bad_names_and_files),
        cmocka_unit_test(test_guess_from_country_and_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
