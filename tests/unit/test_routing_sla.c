/* test_routing_sla.c - the SLA clock counts only working hours (routing.yaml
 * sla.business_hours, reps CSV working_hours), in the rep's zone: assignments outside hours,
 * deadlines across nights and weekends, both DST changes, lunch breaks, 24/7 reps, queued
 * leads in sla.timezone, long deadlines; config errors naming file, line and field; and an
 * ignored lead (reassigned after its SLA) leaving the rep's open load but not the day's count,
 * once, also in a router.db of the previous schema. Every date is fixed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <sqlite3.h>

#include "handoff/routing.h"
#include "route/route_internal.h"
#include "routing_fixture.h"

#define MIN 60000LL
#define HOUR 3600000LL

/* y-m-d h:mi UTC in ms */
static int64_t s_utc(int y, int m, int d, int h, int mi)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm) * 1000;
}

static const char s_reps[] =
    "rep_id,name,email,region,countries,timezone,working_hours\n"
    "NY,Nina York,nina@x.test,US,US,America/New_York,\n"
    "LON,Liam Lond,liam@x.test,UK,GB,Europe/London,08:00-12:00 13:00-16:00 Mon-Thu\n"
    "AL,Al Ways,al@x.test,APAC,AU,Australia/Sydney,24/7\n"
    "SUN,Sunny Day,sun@x.test,CA,CA,America/New_York,00:00-24:00 Sun\n";

static const char s_rules[] = "reps: reps.csv\n"
                              "rules:\n"
                              "  - name: nurture\n"
                              "    when: {grade: [D]}\n"
                              "    queue: nurture\n"
                              "  - {name: us, when: {country: [US]}, team: [NY]}\n"
                              "  - {name: uk, when: {country: [GB]}, team: [LON]}\n"
                              "  - {name: au, when: {country: [AU]}, team: [AL]}\n"
                              "  - {name: ca, when: {country: [CA]}, team: [SUN]}\n"
                              "sla:\n"
                              "  deadline: 2h\n"
                              "  reassign_after: 2h\n"
                              "  business_hours: \"09:00-18:00 Mon-Fri\"\n"
                              "  timezone: Europe/Berlin\n"
                              "  rules:\n"
                              "    - when: {grade: [A]}\n"
                              "      deadline: 24h\n";

static json_t *s_req(long long id, const char *country, const char *grade, int64_t as_of)
{
    json_t *lead = json_pack("{s:I,s:s,s:{s:s},s:{s:s,s:s}}", "lead_id", (json_int_t)id, "email",
                             "lead@acme.test", "fields", "country", country, "score", "grade",
                             grade, "quadrant", "mql_now");
    return json_pack("{s:o,s:I,s:[],s:s}", "lead", lead, "as_of", (json_int_t)as_of, "exclude",
                     "reason", "mql");
}

static int64_t s_int(const json_t *p, const char *key)
{
    return json_integer_value(json_object_get(p, key));
}

typedef struct {
    const char *what, *country, *grade, *who;
    int64_t at, due, reassign;
} s_case_t;

static void s_check(const ho_routing_t *r, const s_case_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_t *out =
            s_decide(r, NULL, NULL, s_req(100 + (long long)i, c[i].country, c[i].grade, c[i].at));
        const char *who =
            strcmp(s_s(out, "rep_id"), "(null)") ? s_s(out, "rep_id") : s_s(out, "queue");
        if (strcmp(who, c[i].who) != 0 || s_int(out, "assigned_at") != c[i].at ||
            s_int(out, "sla_due") != c[i].due || s_int(out, "reassign_due") != c[i].reassign) {
            fail_msg("%s: %s sla_due %lld reassign_due %lld, want %s %lld %lld", c[i].what, who,
                     (long long)s_int(out, "sla_due"), (long long)s_int(out, "reassign_due"),
                     c[i].who, (long long)c[i].due, (long long)c[i].reassign);
        }
        json_decref(out);
    }
}

/* America/New_York, 09:00-18:00 Mon-Fri (the default), November 2026 (EST, UTC-5) */
static void test_sla_counts_the_reps_working_hours(void **state)
{
    (void)state;
    ho_routing_t *r = s_load(s_rules, s_reps);
    const s_case_t cases[] = {
        {"inside hours", "US", "B1", "NY", s_utc(2026, 11, 16, 15, 0), /* Mon 10:00 */
         s_utc(2026, 11, 16, 17, 0), s_utc(2026, 11, 16, 19, 0)},
        {"Friday 17:55: 5 min Friday, the rest Monday", "US", "B1", "NY",
         s_utc(2026, 11, 20, 22, 55), /* Fri 17:55 */
         s_utc(2026, 11, 23, 15, 55), /* Mon 10:55 */
         s_utc(2026, 11, 23, 17, 55)},
        {"Saturday: the clock starts Monday 09:00", "US", "B1", "NY", s_utc(2026, 11, 21, 16, 0),
         s_utc(2026, 11, 23, 16, 0), s_utc(2026, 11, 23, 18, 0)},
        {"before opening", "US", "B1", "NY", s_utc(2026, 11, 17, 11, 0), /* Tue 06:00 */
         s_utc(2026, 11, 17, 16, 0), s_utc(2026, 11, 17, 18, 0)},
        {"after closing: next morning", "US", "B1", "NY", s_utc(2026, 11, 19, 1, 0), /* Wed 20:00 */
         s_utc(2026, 11, 19, 16, 0), s_utc(2026, 11, 19, 18, 0)},
        {"due at closing time, reassign next morning", "US", "B1", "NY",
         s_utc(2026, 11, 19, 21, 0), /* Thu 16:00 */
         s_utc(2026, 11, 19, 23, 0), /* Thu 18:00 */
         s_utc(2026, 11, 20, 16, 0)},
        {"24 h of working time spans two nights", "US", "A1", "NY",
         s_utc(2026, 11, 16, 15, 0), /* Mon 10:00: 8 h Mon, 9 h Tue, 7 h Wed */
         s_utc(2026, 11, 18, 21, 0), s_utc(2026, 11, 18, 23, 0)},
        {"24 h from Thursday spans the weekend", "US", "A1", "NY",
         s_utc(2026, 11, 19, 14, 0), /* Thu 09:00: 9 h Thu, 9 h Fri, 6 h Mon */
         s_utc(2026, 11, 23, 20, 0), s_utc(2026, 11, 23, 22, 0)},
    };
    s_check(r, cases, sizeof cases / sizeof cases[0]);
    ho_routing_destroy(&r);
}

/* 2026-03-08 clocks go forward (EST -> EDT), 2026-11-01 back (EDT -> EST) in New York */
static void test_sla_across_dst_changes(void **state)
{
    (void)state;
    ho_routing_t *r = s_load(s_rules, s_reps);
    const s_case_t cases[] = {
        {"spring forward weekend", "US", "B1", "NY", s_utc(2026, 3, 6, 22, 0), /* Fri 17:00 EST */
         s_utc(2026, 3, 9, 14, 0),                                             /* Mon 10:00 EDT */
         s_utc(2026, 3, 9, 16, 0)},
        {"fall back weekend", "US", "B1", "NY", s_utc(2026, 10, 30, 21, 0), /* Fri 17:00 EDT */
         s_utc(2026, 11, 2, 15, 0),                                         /* Mon 10:00 EST */
         s_utc(2026, 11, 2, 17, 0)},
        {"a working Sunday of 23 hours", "CA", "A1", "SUN",
         s_utc(2026, 3, 8, 5, 0),  /* Sun 00:00 EST: 23 h that Sunday, 1 h the next */
         s_utc(2026, 3, 15, 5, 0), /* Sun 01:00 EDT */
         s_utc(2026, 3, 15, 7, 0)},
        {"a working Sunday of 25 hours", "CA", "A1", "SUN",
         s_utc(2026, 11, 1, 4, 0),  /* Sun 00:00 EDT: the whole 24 h fit in its 25 */
         s_utc(2026, 11, 2, 4, 0),  /* Sun 23:00 EST */
         s_utc(2026, 11, 8, 6, 0)}, /* 1 h left that Sunday, 1 h the next (EST) */
    };
    s_check(r, cases, sizeof cases / sizeof cases[0]);
    ho_routing_destroy(&r);
}

static void test_sla_own_hours_24_7_and_queue(void **state)
{
    (void)state;
    ho_routing_t *r = s_load(s_rules, s_reps);
    const s_case_t cases[] = {
        /* London, own hours with a lunch break, GMT in November */
        {"lunch break", "GB", "B1", "LON", s_utc(2026, 11, 16, 11, 0), /* Mon 11:00 */
         s_utc(2026, 11, 16, 14, 0), s_utc(2026, 11, 16, 16, 0)},
        {"no Fridays", "GB", "B1", "LON", s_utc(2026, 11, 19, 15, 30), /* Thu 15:30 */
         s_utc(2026, 11, 23, 9, 30), s_utc(2026, 11, 23, 11, 30)},
        /* 24/7 overrides the default: around the clock on a Saturday */
        {"24/7 rep", "AU", "B1", "AL", s_utc(2026, 11, 21, 3, 0), s_utc(2026, 11, 21, 5, 0),
         s_utc(2026, 11, 21, 7, 0)},
        /* no rep: the default hours in sla.timezone (Europe/Berlin, CET) */
        {"queue", "US", "D", "nurture", s_utc(2026, 11, 20, 16, 30), /* Fri 17:30 CET */
         s_utc(2026, 11, 23, 9, 30),                                 /* Mon 10:30 CET */
         s_utc(2026, 11, 23, 11, 30)},
    };
    s_check(r, cases, sizeof cases / sizeof cases[0]);
    ho_routing_destroy(&r);

    /* without business_hours and without the column: around the clock, as before */
    const char *yaml = "rules:\n  - {name: us, team: [NY]}\nsla: {deadline: 2h}\n";
    r = s_load(yaml, "rep_id,name,email,timezone\nNY,Nina,n@x.test,America/New_York\n");
    const s_case_t plain[] = {
        {"around the clock", "US", "B1", "NY", s_utc(2026, 11, 20, 22, 55),
         s_utc(2026, 11, 21, 0, 55), s_utc(2026, 11, 21, 2, 55)},
    };
    s_check(r, plain, 1);
    /* the reminder's fallback computation is the same clock */
    int64_t due, re_due;
    json_t *req = s_req(1, "US", "B1", 0);
    ho_routing_sla(r, req, "NY", s_utc(2026, 11, 20, 22, 55), &due, &re_due);
    assert_int_equal(due, s_utc(2026, 11, 21, 0, 55));
    ho_routing_destroy(&r);
    r = s_load(s_rules, s_reps);
    ho_routing_sla(r, req, "NY", s_utc(2026, 11, 20, 22, 55), &due, &re_due);
    assert_int_equal(due, s_utc(2026, 11, 23, 15, 55));
    assert_int_equal(re_due, s_utc(2026, 11, 23, 17, 55));
    ho_routing_sla(r, req, NULL, s_utc(2026, 11, 20, 16, 30), &due, &re_due);
    assert_int_equal(due, s_utc(2026, 11, 23, 9, 30));
    json_decref(req);
    ho_routing_destroy(&r);
}

static void test_hours_parse_and_long_deadlines(void **state)
{
    (void)state;
    char why[160];
    ho_rt_hours_t *h = NULL;
    assert_int_equal(ho_rt_hours_parse("09:00-18:00 Mon-Fri", &h, why, sizeof why), HO_OK);
    assert_int_equal(h->week_min, 5 * 9 * 60);
    free(h);
    assert_int_equal(
        ho_rt_hours_parse("08:00-12:00 13:00-16:00 Mon-Thu, 08:00-14:00 Fri", &h, why, sizeof why),
        HO_OK);
    assert_int_equal(h->week_min, 4 * 7 * 60 + 6 * 60);
    free(h);
    assert_int_equal(ho_rt_hours_parse("10:00-16:00 Sun-Thu", &h, why, sizeof why), HO_OK);
    assert_int_equal(h->week_min, 5 * 6 * 60); /* the range wraps around the week */
    free(h);
    assert_int_equal(
        ho_rt_hours_parse("9:30-24:00 saturday; 00:00-01:00 Sunday", &h, why, sizeof why), HO_OK);
    assert_int_equal(h->week_min, 14 * 60 + 30 + 60);
    free(h);
    assert_int_equal(ho_rt_hours_parse("24/7", &h, why, sizeof why), HO_OK);
    assert_null(h);
    assert_int_equal(ho_rt_hours_parse("Always", &h, why, sizeof why), HO_OK);
    assert_null(h);

    /* 450 h = 10 weeks of 45 h: the last weeks walked, the first skipped */
    ho_err_t err = {0};
    ho_tz_t *utc = ho_tz_load("UTC", &err), *ny = ho_tz_load("America/New_York", &err);
    assert_non_null(ny);
    assert_int_equal(ho_rt_hours_parse("09:00-18:00 Mon-Fri", &h, why, sizeof why), HO_OK);
    assert_int_equal(ho_rt_hours_add(h, utc, s_utc(2026, 1, 5, 9, 0), 450 * HOUR),
                     s_utc(2026, 3, 13, 18, 0));
    /* skipped weeks across the March DST change keep the local wall time */
    assert_int_equal(ho_rt_hours_add(h, ny, s_utc(2026, 2, 2, 14, 0), 450 * HOUR),
                     s_utc(2026, 4, 10, 22, 0));
    /* the same walked week by week (under the skipping threshold) agrees */
    assert_int_equal(ho_rt_hours_add(h, ny, s_utc(2026, 2, 2, 14, 0), 45 * 7 * HOUR),
                     s_utc(2026, 3, 20, 22, 0));
    /* a deadline of ten thousand days (a century of working weeks) ends, in working time */
    int64_t far = ho_rt_hours_add(h, ny, s_utc(2026, 2, 2, 14, 0), 10000 * 24 * HOUR);
    assert_true(far > s_utc(2026, 2, 2, 14, 0) + 10000 * 24 * HOUR);
    assert_int_equal(ho_rt_hours_add(NULL, ny, 5, 7), 12);
    /* absurd input (fuzzers): no overflow, no endless walk */
    assert_int_equal(ho_rt_hours_add(h, ny, INT64_MAX - 10, 100000000LL * 24 * HOUR), INT64_MAX);
    assert_int_equal(ho_rt_hours_add(h, ny, 0, 100000000LL * 24 * HOUR), 100000000LL * 24 * HOUR);
    free(h);
    ho_tz_destroy(&utc);
    ho_tz_destroy(&ny);
}

static void test_config_errors_name_file_line_field(void **state)
{
    (void)state;
    const char *csv = "rep_id,name,email\nR1,Ann,a@x.test\n";
    const char *rules = "rules:\n  - {name: all, team: [R1]}\nsla:\n  deadline: 2h\n";
    char yaml[512];
    static const struct {
        const char *value, *want;
    } bad[] = {
        {"\"18:00-09:00 Mon-Fri\"", "routing.yaml:5: sla.business_hours: \"18:00-09:00\": the "
                                    "end must be after the start"},
        {"\"09:00-18:00\"", "routing.yaml:5: sla.business_hours: hours without days"},
        {"\"9-5 Mon-Fri\"", "routing.yaml:5: sla.business_hours: \"9-5\": expected a time range"},
        {"\"09:00-18:00 Mon-Fry\"", "routing.yaml:5: sla.business_hours: \"Mon-Fry\": expected"},
        {"\"Mon-Fri 09:00-18:00\"", "sla.business_hours: \"Mon-Fri\": the hours come first"},
        {"\"09:00-25:00 Mon\"", "sla.business_hours: \"09:00-25:00\": expected a time range"},
        {"\"\"", "routing.yaml:5: sla.business_hours: expected working hours"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(yaml, sizeof yaml, "%s  business_hours: %s\n", rules, bad[i].value);
        s_expect_error(yaml, csv, bad[i].want);
    }
    snprintf(yaml, sizeof yaml, "%s  timezone: Mars/Olympus_Mons\n", rules);
    s_expect_error(yaml, csv, "routing.yaml:5: sla.timezone: time zone \"Mars/Olympus_Mons\"");
    s_expect_error(rules,
                   "rep_id,name,email,working_hours\nR1,Ann,a@x.test,24/7\n"
                   "R2,Ben,b@x.test,09:00-17:00 Mo-Fr\n",
                   "reps.csv:3: working_hours: \"Mo-Fr\": expected a time range");
    s_expect_error(rules, "rep_id,name,email,working_hours\nR1,Ann,a@x.test,17:00-09:00 Mon\n",
                   "reps.csv:2: working_hours: \"17:00-09:00\": the end must be after the start");
}

/* ------------------------------------------------------------------ open load */

static const char s_pair_reps[] = "rep_id,name,email,countries,weekly_capacity,timezone\n"
                                  "A,Ann,a@x.test,US,1,America/New_York\n"
                                  "B,Ben,b@x.test,US,1,America/New_York\n";

static ho_routing_t *s_pair(int per_day)
{
    char yaml[256];
    snprintf(yaml, sizeof yaml,
             "capacity: {per_day: %d}\n"
             "rules:\n  - {name: us, team: [A, B], overflow: busy}\n"
             "sla: {deadline: 2h}\n",
             per_day);
    return s_load(yaml, s_pair_reps);
}

static json_t *s_breach(long long id, const char *rep, int64_t assigned_at, int64_t now)
{
    json_t *b = s_req(id, "US", "B1", now);
    json_object_set_new(b, "lead_id", json_integer(id));
    json_object_set_new(b, "rep_id", json_string(rep));
    json_object_set_new(b, "step", json_string("reassign"));
    json_object_set_new(b, "now", json_integer(now));
    json_object_set_new(b, "assigned_at", json_integer(assigned_at));
    json_object_set_new(b, "sla_due", json_integer(assigned_at + 2 * HOUR));
    json_object_set_new(b, "reason", json_string("sla_breach"));
    json_object_set_new(b, "exclude", json_pack("[s]", rep));
    return b;
}

static const char *s_who(json_t *out, char *buf)
{
    snprintf(buf, 16, "%s",
             strcmp(s_s(out, "rep_id"), "(null)") ? s_s(out, "rep_id") : s_s(out, "queue"));
    json_decref(out);
    return buf;
}

static void test_ignored_lead_leaves_the_open_load(void **state)
{
    (void)state;
    ho_routing_t *r = s_pair(0);
    ho_route_state_t *st = ho_route_state_open(":memory:", NULL);
    char who[16];
    int64_t mon = s_utc(2026, 11, 16, 15, 0), tue = s_utc(2026, 11, 17, 15, 0);
    assert_string_equal(s_who(s_decide(r, st, "ev-1", s_req(1, "US", "B1", mon)), who), "A");
    /* A ignores it: reassigned to B (A excluded); both are at their weekly capacity of 1 */
    assert_string_equal(
        s_who(s_decide(r, st, "ev-br-1", s_breach(1, "A", mon, mon + 5 * HOUR)), who), "B");
    int day_n = -1, week_n = -1;
    ho_route_state_counts(r, st, "A", mon, &day_n, &week_n);
    assert_int_equal(day_n, 1);  /* handed one lead that day */
    assert_int_equal(week_n, 0); /* holds none */
    ho_route_state_counts(r, st, "B", mon, NULL, &week_n);
    assert_int_equal(week_n, 1);
    /* so A gets the next lead (the same day: two counted, one released), instead of the
     * overflow queue */
    assert_string_equal(s_who(s_decide(r, st, "ev-2", s_req(2, "US", "B1", mon + 6 * HOUR)), who),
                        "A");
    ho_route_state_counts(r, st, "A", tue, NULL, &week_n);
    assert_int_equal(week_n, 1);
    /* the same breach delivered again, or reported again under another id: released once */
    assert_string_equal(
        s_who(s_decide(r, st, "ev-br-1", s_breach(1, "A", mon, mon + 5 * HOUR)), who), "B");
    s_who(s_decide(r, st, "ev-br-1b", s_breach(1, "A", mon, mon + 6 * HOUR)), who);
    ho_route_state_counts(r, st, "A", tue, NULL, &week_n);
    assert_int_equal(week_n, 1);
    assert_string_equal(s_who(s_decide(r, st, "ev-3", s_req(3, "US", "B1", tue)), who), "busy");
    ho_route_state_destroy(&st);
    ho_routing_destroy(&r);

    /* with a daily cap of 1 the ignored lead still counts that day: A waits for Tuesday */
    r = s_pair(1);
    st = ho_route_state_open(":memory:", NULL);
    assert_string_equal(s_who(s_decide(r, st, "ev-1", s_req(1, "US", "B1", mon)), who), "A");
    assert_string_equal(
        s_who(s_decide(r, st, "ev-br-1", s_breach(1, "A", mon, mon + 1 * HOUR)), who), "B");
    assert_string_equal(s_who(s_decide(r, st, "ev-2", s_req(2, "US", "B1", mon + 2 * HOUR)), who),
                        "busy");
    assert_string_equal(s_who(s_decide(r, st, "ev-3", s_req(3, "US", "B1", tue)), who), "A");
    ho_route_state_destroy(&st);
    ho_routing_destroy(&r);
}

/* a router.db of schema 2 (no released column) opens, keeps its counts, and releases */
static void test_open_load_in_an_older_router_db(void **state)
{
    (void)state;
    char dir[] = "/tmp/ho-routing-sla-XXXXXX";
    char path[256];
    s_db_dir(dir, path, sizeof path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    int64_t mon = s_utc(2026, 11, 16, 15, 0);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "CREATE TABLE router_meta (key TEXT PRIMARY KEY, value TEXT);"
             "INSERT INTO router_meta VALUES ('schema_version', '2');"
             "CREATE TABLE rotation (team TEXT NOT NULL, rep_id TEXT NOT NULL,"
             " current INTEGER NOT NULL, PRIMARY KEY (team, rep_id)) WITHOUT ROWID;"
             "CREATE TABLE counts (rep_id TEXT NOT NULL, day INTEGER NOT NULL,"
             " n INTEGER NOT NULL, PRIMARY KEY (rep_id, day)) WITHOUT ROWID;"
             "CREATE TABLE decisions (event_id TEXT PRIMARY KEY, payload TEXT NOT NULL,"
             " at INTEGER NOT NULL, decided_at INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
             "CREATE TABLE breaches (lead_id INTEGER NOT NULL, rep_id TEXT NOT NULL,"
             " at INTEGER NOT NULL, PRIMARY KEY (lead_id, rep_id)) WITHOUT ROWID;"
             "INSERT INTO counts VALUES ('A', %lld, 1), ('B', %lld, 1);",
             (long long)(mon / (24 * HOUR)), (long long)(mon / (24 * HOUR)));
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    ho_routing_t *r = s_pair(0);
    ho_err_t err = {0};
    ho_route_state_t *st = ho_route_state_open(path, &err);
    if (!st) {
        fail_msg("open: %s", err.message);
    }
    int week_n = -1;
    ho_route_state_counts(r, st, "A", mon, NULL, &week_n);
    assert_int_equal(week_n, 1);
    char who[16];
    assert_string_equal(s_who(s_decide(r, st, "ev-4", s_req(4, "US", "B1", mon + HOUR)), who),
                        "busy");
    s_who(s_decide(r, st, "ev-br-9", s_breach(9, "A", mon, mon + 5 * HOUR)), who);
    ho_route_state_counts(r, st, "A", mon, NULL, &week_n);
    assert_int_equal(week_n, 0);
    ho_route_state_destroy(&st);
    ho_routing_destroy(&r);

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT value FROM router_meta WHERE key = "
                                        "'schema_version'",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "3");
    sqlite3_finalize(q);
    sqlite3_close(db);
    s_rm_db(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sla_counts_the_reps_working_hours),
        cmocka_unit_test(test_sla_across_dst_changes),
        cmocka_unit_test(test_sla_own_hours_24_7_and_queue),
        cmocka_unit_test(test_hours_parse_and_long_deadlines),
        cmocka_unit_test(test_config_errors_name_file_line_field),
        cmocka_unit_test(test_ignored_lead_leaves_the_open_load),
        cmocka_unit_test(test_open_load_in_an_older_router_db),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
