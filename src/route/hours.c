/* hours.c - working hours ("09:00-18:00 Mon-Fri") and the SLA clock that counts only them.
 *
 * A schedule is a week of local minutes, open or closed, per day of the week. Adding a
 * duration walks forward in UTC one segment at a time: a segment is a run of open (or
 * closed) minutes of one local day, cut short where the zone's UTC offset changes (DST), so
 * every local time is computed with the offset in effect at that instant. See the comments in
 * deploy/routing.yaml (sla.business_hours) for the syntax. */
#include "route/route_internal.h"

#include "handoff/time.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MIN_MS 60000LL
#define MIN_T (-62167219200000LL) /* 0000-01-01T00:00:00Z */
#define MAX_T 253402300799000LL   /* 9999-12-31T23:59:59Z */

static const char *const s_days[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
static const char *const s_long[7] = {"monday", "tuesday",  "wednesday", "thursday",
                                      "friday", "saturday", "sunday"};

static bool s_open(const ho_rt_hours_t *h, int dow, int minute)
{
    return (h->open[dow][minute >> 3] >> (minute & 7)) & 1;
}

static void s_set(ho_rt_hours_t *h, int dow, int from, int to)
{
    for (int m = from; m < to; m++) {
        h->open[dow][m >> 3] |= (uint8_t)(1u << (m & 7));
    }
}

static int s_fail(char *why, size_t cap, const char *fmt, const char *tok, size_t len)
{
    snprintf(why, cap, fmt, (int)(len > 20 ? 20 : len), tok);
    return HO_ERR_CONFIG;
}

/* "9:00" or "09:30" (24:00 allowed as an end) -> minutes after midnight, -1 if not a time. */
static int s_clock(const char *s, size_t len)
{
    int h = 0, m = 0;
    size_t i = 0;
    if (!len || !isdigit((unsigned char)s[0])) {
        return -1;
    }
    while (i < len && i < 2 && isdigit((unsigned char)s[i])) {
        h = h * 10 + (s[i++] - '0');
    }
    if (i >= len || s[i++] != ':' || len - i != 2 || !isdigit((unsigned char)s[i]) ||
        !isdigit((unsigned char)s[i + 1])) {
        return -1;
    }
    m = (s[i] - '0') * 10 + (s[i + 1] - '0');
    if (m > 59 || h > 24 || (h == 24 && m)) {
        return -1;
    }
    return h * 60 + m;
}

static int s_day(const char *s, size_t len)
{
    for (int d = 0; d < 7; d++) {
        if ((len == 3 && strncasecmp(s, s_days[d], 3) == 0) ||
            (len == strlen(s_long[d]) && strncasecmp(s, s_long[d], len) == 0)) {
            return d;
        }
    }
    return -1;
}

int ho_rt_hours_parse(const char *text, ho_rt_hours_t **hours_p, char *why, size_t cap)
{
    *hours_p = NULL;
    while (isspace((unsigned char)*text)) {
        text++;
    }
    if (strcasecmp(text, "24/7") == 0 || strcasecmp(text, "always") == 0) {
        return HO_OK;
    }
    ho_rt_hours_t *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(why, cap, "out of memory");
        return HO_ERR_NOMEM;
    }
    /* groups of one or more time ranges followed by one or more days or day ranges */
    int times[16][2];
    int n_times = 0;
    bool days = false, any = false;
    const char *s = text;
    int rc = HO_OK;
    while (rc == HO_OK) {
        while (*s && (isspace((unsigned char)*s) || *s == ',' || *s == ';')) {
            s++;
        }
        if (!*s) {
            break;
        }
        const char *tok = s;
        while (*s && !isspace((unsigned char)*s) && *s != ',' && *s != ';') {
            s++;
        }
        size_t len = (size_t)(s - tok);
        const char *dash = memchr(tok, '-', len);
        size_t left = dash ? (size_t)(dash - tok) : len;
        if (isdigit((unsigned char)tok[0])) {
            int from = dash ? s_clock(tok, left) : -1;
            int to = dash ? s_clock(dash + 1, len - left - 1) : -1;
            if (from < 0 || to < 0) {
                rc = s_fail(why, cap, "\"%.*s\": expected a time range like 09:00-18:00", tok, len);
            } else if (to <= from) {
                rc = s_fail(why, cap,
                            "\"%.*s\": the end must be after the start (a night shift is two "
                            "ranges, split at midnight)",
                            tok, len);
            } else if (n_times == 16) {
                rc = s_fail(why, cap, "\"%.*s\": at most 16 time ranges before their days", tok,
                            len);
            } else {
                if (days) { /* a new group */
                    n_times = 0;
                    days = false;
                }
                times[n_times][0] = from;
                times[n_times][1] = to;
                n_times++;
            }
            continue;
        }
        int d0 = s_day(tok, left), d1 = dash ? s_day(dash + 1, len - left - 1) : d0;
        if (d0 < 0 || d1 < 0) {
            rc = s_fail(why, cap,
                        "\"%.*s\": expected a time range (09:00-18:00) or days (Mon-Fri, Sat)", tok,
                        len);
        } else if (!n_times) {
            rc = s_fail(why, cap, "\"%.*s\": the hours come first, e.g. 09:00-18:00 Mon-Fri", tok,
                        len);
        } else {
            for (int d = d0;; d = (d + 1) % 7) { /* Sun-Thu wraps around the week */
                for (int k = 0; k < n_times; k++) {
                    s_set(h, d, times[k][0], times[k][1]);
                }
                if (d == d1) {
                    break;
                }
            }
            days = any = true;
        }
    }
    if (rc == HO_OK && n_times && !days) {
        snprintf(why, cap, "hours without days: write them like 09:00-18:00 Mon-Fri");
        rc = HO_ERR_CONFIG;
    }
    if (rc == HO_OK && !any) {
        snprintf(why, cap, "expected working hours like \"09:00-18:00 Mon-Fri\", or 24/7");
        rc = HO_ERR_CONFIG;
    }
    if (rc != HO_OK) {
        free(h);
        return rc;
    }
    for (int d = 0; d < 7; d++) {
        for (int m = 0; m < 1440; m++) {
            h->week_min += s_open(h, d, m);
        }
    }
    *hours_p = h;
    return HO_OK;
}

int64_t ho_rt_hours_add(const ho_rt_hours_t *h, const ho_tz_t *tz, int64_t t, int64_t dur_ms)
{
    int64_t left = dur_ms > 0 ? dur_ms : 0;
    int64_t week_ms = h ? h->week_min * MIN_MS : 0;
    /* around the clock; and degenerate input (over a thousand years of working time, an
     * instant outside the years 0..9999): the plain sum, saturated */
    if (!h || left / week_ms > 52 * 1000 || t < MIN_T || t > MAX_T) {
        return t > 0 && left > INT64_MAX - t ? INT64_MAX : t + left;
    }
    /* Far deadlines skip whole weeks first (same local wall time, whatever the offset did),
     * so a deadline of years costs no more than one of weeks; this is exact unless a DST
     * change falls inside working hours (then within that hour per change). The last weeks
     * are always walked. */
    if (left > 8 * week_ms) {
        int64_t k = left / week_ms - 4;
        int32_t before = ho_tz_offset(tz, t);
        int64_t t2 = t + k * 7 * DAY_MS;
        t2 -= (int64_t)(ho_tz_offset(tz, t2) - before) * 1000;
        t = t2;
        left -= k * week_ms;
    }
    /* each pass ends an open or closed run of one local day, or a UTC offset period: a few
     * passes per day; the bound only guards against a broken zone */
    for (int pass = 0; pass < 1000000; pass++) {
        int32_t off = ho_tz_offset(tz, t);
        int64_t local = t + (int64_t)off * 1000;
        int64_t day = ho_floor_div(local, DAY_MS);
        int64_t in_day = local - day * DAY_MS;
        int dow = (int)(((day + 3) % 7 + 7) % 7); /* 1970-01-01 was a Thursday; 0 = Monday */
        int m = (int)(in_day / MIN_MS);
        bool open = s_open(h, dow, m);
        int e = m + 1;
        while (e < 1440 && s_open(h, dow, e) == open) {
            e++;
        }
        int64_t end = t + ((int64_t)e * MIN_MS - in_day);
        if (ho_tz_offset(tz, end - 1) != off) {
            /* the offset changes inside the run: stop at the change, recompute local time */
            int64_t lo = t, hi = end - 1;
            while (hi - lo > 1) {
                int64_t mid = lo + (hi - lo) / 2;
                if (ho_tz_offset(tz, mid) == off) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            end = hi;
        }
        if (open) {
            if (left <= end - t) {
                return t + left;
            }
            left -= end - t;
        }
        t = end;
    }
    return t + left;
}
