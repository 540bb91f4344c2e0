/* tz.c - TZif reader and POSIX TZ rules (RFC 8536), so a time zone is a value, not the
 * process-wide TZ. See include/handoff/tz.h. */
#include "handoff/tz.h"

#include "handoff/time.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DAY_S 86400LL
#define MAX_FILE (1 << 20)

typedef struct {
    char kind; /* 'J' (1..365, no Feb 29), 'N' (0..365), 'M' (month.week.weekday) */
    int a, b, c;
    int32_t time; /* seconds after local midnight, may be negative or past 24 h */
} s_date_t;

typedef struct {
    bool ok, has_dst;
    int32_t std_off, dst_off; /* seconds east of UTC */
    s_date_t start, end;
} s_rule_t;

struct ho_tz {
    char *name;
    size_t n;       /* transitions */
    int64_t *times; /* seconds since the epoch, ascending */
    uint8_t *idx;   /* type of each transition */
    size_t n_types;
    int32_t *utoff;
    s_rule_t rule; /* footer: after the last transition */
};

/* ------------------------------------------------------------------ calendar */

/* The civil-date arithmetic is time.c's (one copy for the whole program). */

/* Day number (since the epoch) of a rule date in year y. */
static int64_t s_rule_day(const s_date_t *d, int64_t y)
{
    int64_t jan1 = ho_days_from_civil(y, 1, 1);
    switch (d->kind) {
    case 'J':
        return jan1 + d->a - 1 + (ho_leap_year(y) && d->a >= 60 ? 1 : 0);
    case 'N':
        return jan1 + d->a;
    default: {
        int64_t first = ho_days_from_civil(y, d->a, 1);
        int dow_first = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday; 0 = Sun */
        int dd = 1 + (d->c - dow_first + 7) % 7 + (d->b - 1) * 7;
        int len = ho_days_in_month(y, d->a);
        while (dd > len) {
            dd -= 7;
        }
        return first + dd - 1;
    }
    }
}

static int32_t s_rule_offset(const s_rule_t *r, int64_t t)
{
    if (!r->has_dst) {
        return r->std_off;
    }
    int yy, mm, dd;
    ho_civil_from_days(ho_floor_div(t + r->std_off, DAY_S), &yy, &mm, &dd);
    int64_t y = yy;
    /* the change to DST happens at local standard time, the change back at local DST */
    int64_t start = s_rule_day(&r->start, y) * DAY_S + r->start.time - r->std_off;
    int64_t end = s_rule_day(&r->end, y) * DAY_S + r->end.time - r->dst_off;
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? r->dst_off : r->std_off;
}

/* ------------------------------------------------------------------ POSIX TZ string */

static bool s_name(const char **s)
{
    const char *p = *s;
    if (*p == '<') {
        const char *e = strchr(p, '>');
        if (!e || e == p + 1) {
            return false;
        }
        *s = e + 1;
        return true;
    }
    while (isalpha((unsigned char)*p)) {
        p++;
    }
    if (p - *s < 3) {
        return false;
    }
    *s = p;
    return true;
}

/* [+-]hh[:mm[:ss]] -> seconds (sign as written); hh up to 167 (RFC 8536 extension). */
static bool s_hms(const char **s, int32_t *out)
{
    const char *p = *s;
    int sign = 1;
    if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
    }
    if (!isdigit((unsigned char)*p)) {
        return false;
    }
    long v[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        char *end;
        v[i] = strtol(p, &end, 10);
        if (end == p || end - p > 3) {
            return false;
        }
        p = end;
        if (i < 2 && *p == ':' && isdigit((unsigned char)p[1])) {
            p++;
        } else {
            break;
        }
    }
    if (v[0] > 167 || v[1] > 59 || v[2] > 59) {
        return false;
    }
    *out = (int32_t)(sign * (v[0] * 3600 + v[1] * 60 + v[2]));
    *s = p;
    return true;
}

static bool s_num(const char **s, int lo, int hi, int *out)
{
    char *end;
    if (!isdigit((unsigned char)**s)) {
        return false;
    }
    long v = strtol(*s, &end, 10);
    if (v < lo || v > hi) {
        return false;
    }
    *out = (int)v;
    *s = end;
    return true;
}

static bool s_date(const char **s, s_date_t *d)
{
    const char *p = *s;
    d->time = 7200;
    if (*p == 'M') {
        p++;
        d->kind = 'M';
        if (!s_num(&p, 1, 12, &d->a) || *p++ != '.' || !s_num(&p, 1, 5, &d->b) || *p++ != '.' ||
            !s_num(&p, 0, 6, &d->c)) {
            return false;
        }
    } else if (*p == 'J') {
        p++;
        d->kind = 'J';
        if (!s_num(&p, 1, 365, &d->a)) {
            return false;
        }
    } else {
        d->kind = 'N';
        if (!s_num(&p, 0, 365, &d->a)) {
            return false;
        }
    }
    if (*p == '/') {
        p++;
        if (!s_hms(&p, &d->time)) {
            return false;
        }
    }
    *s = p;
    return true;
}

static s_rule_t s_posix(const char *s)
{
    s_rule_t r = {0};
    int32_t off;
    if (!s_name(&s) || !s_hms(&s, &off)) {
        return r;
    }
    r.std_off = -off; /* POSIX offsets are west of UTC */
    if (!*s) {
        r.ok = true;
        return r;
    }
    if (!s_name(&s)) {
        return r;
    }
    r.has_dst = true;
    r.dst_off = r.std_off + 3600;
    if (*s && *s != ',') {
        if (!s_hms(&s, &off)) {
            return r;
        }
        r.dst_off = -off;
    }
    if (!*s) { /* no rule: the US rules, as glibc assumes */
        r.start = (s_date_t){'M', 3, 2, 0, 7200};
        r.end = (s_date_t){'M', 11, 1, 0, 7200};
        r.ok = true;
        return r;
    }
    if (*s++ != ',' || !s_date(&s, &r.start) || *s++ != ',' || !s_date(&s, &r.end) || *s) {
        return r;
    }
    r.ok = true;
    return r;
}

/* ------------------------------------------------------------------ TZif */

static uint32_t s_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t s_be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)s_be32(p) << 32 | s_be32(p + 4));
}

static bool s_utc_name(const char *name)
{
    static const char *const utc[] = {"",    "UTC",     "Etc/UTC", "Z",         "GMT",
                                      "UCT", "Etc/GMT", "Etc/UCT", "Universal", "Zulu"};
    for (size_t i = 0; i < sizeof utc / sizeof utc[0]; i++) {
        if (strcasecmp(name, utc[i]) == 0) {
            return true;
        }
    }
    return false;
}

void ho_tz_destroy(ho_tz_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_tz_t *self = *self_p;
    free(self->name);
    free(self->times);
    free(self->idx);
    free(self->utoff);
    free(self);
    *self_p = NULL;
}

static ho_tz_t *s_new(const char *name)
{
    ho_tz_t *self = calloc(1, sizeof *self);
    if (self && !(self->name = strdup(name))) {
        free(self);
        self = NULL;
    }
    return self;
}

static ho_tz_t *s_bad(ho_tz_t *self, const char *name, ho_err_t *err, const char *why)
{
    ho_tz_destroy(&self);
    ho_err_set(err, HO_ERR_CONFIG, "timezone", "time zone \"%.60s\": %s", name, why);
    return NULL;
}

ho_tz_t *ho_tz_parse(const char *name, const unsigned char *d, size_t len, ho_err_t *err)
{
    ho_tz_t *self = s_new(name);
    if (!self) {
        ho_err_set(err, HO_ERR_NOMEM, "timezone", "out of memory");
        return NULL;
    }
    if (len < 44 || memcmp(d, "TZif", 4) != 0) {
        return s_bad(self, name, err, "not a TZif time zone file");
    }
    int version = d[4] ? d[4] - '0' : 1;
    const unsigned char *h = d;
    size_t tsize = 4, pos = 44;
    for (int pass = 0; pass < 2; pass++) {
        uint64_t isut = s_be32(h + 20), isstd = s_be32(h + 24), leap = s_be32(h + 28),
                 timecnt = s_be32(h + 32), typecnt = s_be32(h + 36), charcnt = s_be32(h + 40);
        if (timecnt > 100000 || typecnt == 0 || typecnt > 256 || charcnt > 65536 || leap > 100000 ||
            isut > 256 || isstd > 256) {
            return s_bad(self, name, err, "TZif header out of range");
        }
        uint64_t body =
            timecnt * tsize + timecnt + typecnt * 6 + charcnt + leap * (tsize + 4) + isstd + isut;
        if (pos + body > len) {
            return s_bad(self, name, err, "TZif file is truncated");
        }
        if (pass == 0 && version >= 2) {
            /* skip the 32-bit block; the 64-bit one follows with its own header */
            pos += body;
            if (pos + 44 > len || memcmp(d + pos, "TZif", 4) != 0) {
                return s_bad(self, name, err, "TZif second header missing");
            }
            h = d + pos;
            pos += 44;
            tsize = 8;
            continue;
        }
        const unsigned char *p = d + pos;
        self->n = timecnt;
        self->n_types = typecnt;
        self->times = calloc(timecnt + 1, sizeof *self->times);
        self->idx = calloc(timecnt + 1, 1);
        self->utoff = calloc(typecnt, sizeof *self->utoff);
        if (!self->times || !self->idx || !self->utoff) {
            ho_tz_destroy(&self);
            ho_err_set(err, HO_ERR_NOMEM, "timezone", "out of memory");
            return NULL;
        }
        for (size_t i = 0; i < timecnt; i++) {
            self->times[i] = tsize == 8 ? s_be64(p + i * 8) : (int32_t)s_be32(p + i * 4);
            if (i && self->times[i] <= self->times[i - 1]) {
                return s_bad(self, name, err, "TZif transitions out of order");
            }
        }
        p += timecnt * tsize;
        for (size_t i = 0; i < timecnt; i++) {
            if ((self->idx[i] = p[i]) >= typecnt) {
                return s_bad(self, name, err, "TZif transition names no type");
            }
        }
        p += timecnt;
        for (size_t i = 0; i < typecnt; i++) {
            self->utoff[i] = (int32_t)s_be32(p + i * 6);
            if (self->utoff[i] < -89999 || self->utoff[i] > 93599) {
                return s_bad(self, name, err, "TZif offset out of range");
            }
        }
        pos += body;
        break;
    }
    if (version >= 2 && pos < len && d[pos] == '\n') {
        const char *start = (const char *)d + pos + 1;
        const char *nl = memchr(start, '\n', len - pos - 1);
        if (nl && nl - start < 256) {
            char footer[256];
            memcpy(footer, start, (size_t)(nl - start));
            footer[nl - start] = '\0';
            self->rule = s_posix(footer);
        }
    }
    return self;
}

ho_tz_t *ho_tz_load(const char *name, ho_err_t *err)
{
    if (!name) {
        name = "";
    }
    if (s_utc_name(name)) {
        ho_tz_t *self = s_new(name[0] ? name : "UTC");
        if (!self) {
            ho_err_set(err, HO_ERR_NOMEM, "timezone", "out of memory");
        }
        return self;
    }
    if (name[0] == '/' || strstr(name, "..") || strlen(name) > 200) {
        return s_bad(NULL, name, err, "expected an IANA name like Europe/Berlin");
    }
    for (const char *p = name; *p; p++) {
        if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p)) {
            return s_bad(NULL, name, err, "expected an IANA name like Europe/Berlin");
        }
    }
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && dir[0] ? dir : "/usr/share/zoneinfo", name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        char why[600];
        snprintf(why, sizeof why, "unknown time zone (%.500s: %s; is tzdata installed?)", path,
                 strerror(errno));
        return s_bad(NULL, name, err, why);
    }
    unsigned char *buf = malloc(MAX_FILE);
    size_t len = buf ? fread(buf, 1, MAX_FILE, f) : 0;
    fclose(f);
    if (!buf) {
        ho_err_set(err, HO_ERR_NOMEM, "timezone", "out of memory");
        return NULL;
    }
    ho_tz_t *self = ho_tz_parse(name, buf, len, err);
    free(buf);
    return self;
}

const char *ho_tz_name(const ho_tz_t *self)
{
    return self->name;
}

int32_t ho_tz_offset(const ho_tz_t *self, int64_t at_ms)
{
    int64_t t = ho_floor_div(at_ms, 1000);
    if (self->n == 0 || t >= self->times[self->n - 1]) {
        if (self->rule.ok) {
            return s_rule_offset(&self->rule, t);
        }
        if (self->n == 0) {
            return self->n_types ? self->utoff[0] : 0;
        }
    }
    if (t < self->times[0]) {
        return self->utoff[0];
    }
    size_t lo = 0, hi = self->n; /* times[lo] <= t < times[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->times[mid] <= t) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return self->utoff[self->idx[lo]];
}

int64_t ho_tz_day(const ho_tz_t *self, int64_t at_ms)
{
    return ho_floor_div(at_ms + (int64_t)ho_tz_offset(self, at_ms) * 1000, DAY_S * 1000);
}

/* ------------------------------------------------------------------ guessing */

typedef struct {
    const char *code, *zone;
} s_pair_t;

static const char *s_find(const s_pair_t *t, const char *code)
{
    for (; code && t->code; t++) {
        if (strcasecmp(t->code, code) == 0) {
            return t->zone;
        }
    }
    return NULL;
}

const char *ho_tz_guess(const char *country, const char *state)
{
    /* countries of one zone (or one that almost everyone lives in) */
    static const s_pair_t one[] = {
        {"GB", "Europe/London"},     {"IE", "Europe/Dublin"},
        {"DE", "Europe/Berlin"},     {"FR", "Europe/Paris"},
        {"NL", "Europe/Amsterdam"},  {"BE", "Europe/Brussels"},
        {"LU", "Europe/Luxembourg"}, {"CH", "Europe/Zurich"},
        {"AT", "Europe/Vienna"},     {"IT", "Europe/Rome"},
        {"ES", "Europe/Madrid"},     {"PT", "Europe/Lisbon"},
        {"DK", "Europe/Copenhagen"}, {"SE", "Europe/Stockholm"},
        {"NO", "Europe/Oslo"},       {"FI", "Europe/Helsinki"},
        {"PL", "Europe/Warsaw"},     {"CZ", "Europe/Prague"},
        {"GR", "Europe/Athens"},     {"RO", "Europe/Bucharest"},
        {"HU", "Europe/Budapest"},   {"IS", "Atlantic/Reykjavik"},
        {"IL", "Asia/Jerusalem"},    {"AE", "Asia/Dubai"},
        {"SA", "Asia/Riyadh"},       {"IN", "Asia/Kolkata"},
        {"SG", "Asia/Singapore"},    {"JP", "Asia/Tokyo"},
        {"KR", "Asia/Seoul"},        {"HK", "Asia/Hong_Kong"},
        {"CN", "Asia/Shanghai"},     {"TW", "Asia/Taipei"},
        {"MY", "Asia/Kuala_Lumpur"}, {"PH", "Asia/Manila"},
        {"TH", "Asia/Bangkok"},      {"VN", "Asia/Ho_Chi_Minh"},
        {"NZ", "Pacific/Auckland"},  {"ZA", "Africa/Johannesburg"},
        {"NG", "Africa/Lagos"},      {"KE", "Africa/Nairobi"},
        {"EG", "Africa/Cairo"},      {"AR", "America/Argentina/Buenos_Aires"},
        {"CL", "America/Santiago"},  {"CO", "America/Bogota"},
        {"PE", "America/Lima"},      {NULL, NULL},
    };
    static const s_pair_t us[] = {
        {"CT", "America/New_York"},
        {"DC", "America/New_York"},
        {"DE", "America/New_York"},
        {"FL", "America/New_York"},
        {"GA", "America/New_York"},
        {"IN", "America/Indiana/Indianapolis"},
        {"KY", "America/New_York"},
        {"MA", "America/New_York"},
        {"MD", "America/New_York"},
        {"ME", "America/New_York"},
        {"MI", "America/Detroit"},
        {"NC", "America/New_York"},
        {"NH", "America/New_York"},
        {"NJ", "America/New_York"},
        {"NY", "America/New_York"},
        {"OH", "America/New_York"},
        {"PA", "America/New_York"},
        {"RI", "America/New_York"},
        {"SC", "America/New_York"},
        {"VA", "America/New_York"},
        {"VT", "America/New_York"},
        {"WV", "America/New_York"},
        {"AL", "America/Chicago"},
        {"AR", "America/Chicago"},
        {"IA", "America/Chicago"},
        {"IL", "America/Chicago"},
        {"KS", "America/Chicago"},
        {"LA", "America/Chicago"},
        {"MN", "America/Chicago"},
        {"MO", "America/Chicago"},
        {"MS", "America/Chicago"},
        {"ND", "America/Chicago"},
        {"NE", "America/Chicago"},
        {"OK", "America/Chicago"},
        {"SD", "America/Chicago"},
        {"TN", "America/Chicago"},
        {"TX", "America/Chicago"},
        {"WI", "America/Chicago"},
        {"AZ", "America/Phoenix"},
        {"CO", "America/Denver"},
        {"ID", "America/Boise"},
        {"MT", "America/Denver"},
        {"NM", "America/Denver"},
        {"UT", "America/Denver"},
        {"WY", "America/Denver"},
        {"CA", "America/Los_Angeles"},
        {"NV", "America/Los_Angeles"},
        {"OR", "America/Los_Angeles"},
        {"WA", "America/Los_Angeles"},
        {"AK", "America/Anchorage"},
        {"HI", "Pacific/Honolulu"},
        {"PR", "America/Puerto_Rico"},
        {NULL, NULL},
    };
    static const s_pair_t ca[] = {
        {"ON", "America/Toronto"},  {"QC", "America/Toronto"},    {"BC", "America/Vancouver"},
        {"AB", "America/Edmonton"}, {"MB", "America/Winnipeg"},   {"SK", "America/Regina"},
        {"NS", "America/Halifax"},  {"NB", "America/Moncton"},    {"PE", "America/Halifax"},
        {"NL", "America/St_Johns"}, {"YT", "America/Whitehorse"}, {NULL, NULL},
    };
    static const s_pair_t au[] = {
        {"NSW", "Australia/Sydney"}, {"ACT", "Australia/Sydney"},   {"VIC", "Australia/Melbourne"},
        {"TAS", "Australia/Hobart"}, {"QLD", "Australia/Brisbane"}, {"SA", "Australia/Adelaide"},
        {"WA", "Australia/Perth"},   {"NT", "Australia/Darwin"},    {NULL, NULL},
    };
    if (!country) {
        return NULL;
    }
    if (strcasecmp(country, "US") == 0) {
        return s_find(us, state);
    }
    if (strcasecmp(country, "CA") == 0) {
        return s_find(ca, state);
    }
    if (strcasecmp(country, "AU") == 0) {
        return s_find(au, state);
    }
    return s_find(one, country);
}
