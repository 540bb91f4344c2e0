/* week.c - the report's week boundaries in its zone, and the median.
 *
 * The calendar (civil days, ISO weeks) is time.c's; the step from a local midnight to a UTC
 * instant goes through an explicit ho_tz_t (tz.h), never the process's TZ, so a report can
 * be written by a thread of `handoff run` while other threads keep their own zones. */
#include "handoff/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/time.h"
#include "report/report_int.h"

ho_report_error_t ho_week_parse(const char *text, ho_week_t *out)
{
    return ho_week_read(text, out) ? HO_REPORT_OK : HO_REPORT_ERR_WEEK;
}

ho_tz_t *ho_report_tz_load(const char *tz, ho_err_t *err)
{
    if (!tz) {
        tz = "UTC";
    }
    /* "" is a mistake in a report's config, not a request for UTC */
    ho_tz_t *zone = *tz ? ho_tz_load(tz, NULL) : NULL;
    if (!zone) {
        ho_err_set(err, HO_ERR_CONFIG, "timezone",
                   "timezone: unknown IANA time zone \"%s\" (e.g. Europe/Berlin, UTC)", tz);
    }
    return zone;
}

ho_report_error_t ho_week_bounds(ho_week_t week, const char *tz, int64_t *start_ms, int64_t *end_ms,
                                 ho_err_t *err)
{
    ho_tz_t *zone = ho_report_tz_load(tz, err);
    if (!zone) {
        return HO_REPORT_ERR_TIMEZONE;
    }
    int64_t monday = ho_week_monday(week);
    *start_ms = ho_tz_midnight_ms(zone, monday);
    *end_ms = ho_tz_midnight_ms(zone, monday + 7);
    ho_tz_destroy(&zone);
    return HO_REPORT_OK;
}

ho_report_error_t ho_week_of_ms(int64_t ms, const char *tz, ho_week_t *out, ho_err_t *err)
{
    ho_tz_t *zone = ho_report_tz_load(tz, err);
    if (!zone) {
        return HO_REPORT_ERR_TIMEZONE;
    }
    *out = ho_week_of_day(ho_tz_day(zone, ms));
    ho_tz_destroy(&zone);
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
