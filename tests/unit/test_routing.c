/* test_routing.c - the routing engine: every rule type, round robin fairness with weights and
 * caps, out of office, inactive reps, account match, fallback, SLA, reassign, idempotence,
 * router.db persistence, and config errors that name file, line and key. */
#include <math.h>
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
#include "routing_fixture.h"

#define HOUR 3600000LL

static const char s_reps[] =
    "rep_id,name,email,region,countries,us_states,segments,employee_min,employee_max,"
    "weekly_capacity,timezone,out_of_office,ooo_start,ooo_end,backup_rep_id,weight,active\n"
    "R1,Ann Abbot,ann@x.test,US East,US,NY;NJ;MA,Enterprise,1001,,,America/New_York,FALSE,,,,1,"
    "TRUE\n"
    "R2,Ben Bright,ben@x.test,US East,US,NY;NJ;MA,SMB;Mid-Market,1,1000,,America/New_York,TRUE,"
    "2026-11-02,2026-11-13,R1,1,TRUE\n"
    "R3,Cal Cole,cal@x.test,US West,US,CA;WA;TX,All,1,,,America/Los_Angeles,FALSE,,,,1,TRUE\n"
    "R4,Dee Dunn,dee@x.test,UK & Ireland,GB;IE,,All,1,,,Europe/London,FALSE,,,,1,TRUE\n"
    "R5,Eva Ernst,eva@x.test,Continental Europe,DE;FR;AT,,All,1,,,Europe/Berlin,FALSE,,,,1,TRUE\n"
    "R6,Fay Fong,fay@x.test,APAC,AU;SG,,All,1,,,Asia/Singapore,FALSE,,,,1,FALSE\n"
    "R7,Gus Grey,gus@x.test,APAC,AU;SG,,All,1,,,Asia/Singapore,FALSE,,,,1,TRUE\n";

static const char s_rules[] = "reps: reps.csv\n"
                              "fallback_queue: unassigned\n"
                              "segments:\n"
                              "  - {name: SMB, employee_min: 1, employee_max: 200}\n"
                              "  - {name: Mid-Market, employee_min: 201, employee_max: 1000}\n"
                              "  - {name: Enterprise, employee_min: 1001}\n"
                              "regions:\n"
                              "  DACH: {countries: [DE, AT, CH]}\n"
                              "rules:\n"
                              "  - name: grade-d\n"
                              "    when: {grade: [D]}\n"
                              "    queue: nurture\n"
                              "  - name: group\n"
                              "    when: {quadrant: [group_offering]}\n"
                              "    queue: group-sales\n"
                              "  - name: finance\n"
                              "    when: {industry: [finance]}\n"
                              "    team: [R4]\n"
                              "  - name: texas\n"
                              "    when: {state: [TX]}\n"
                              "    team: [R3]\n"
                              "  - name: france\n"
                              "    when: {country: [FR]}\n"
                              "    team: [R5]\n"
                              "  - name: dach\n"
                              "    when: {region: [DACH]}\n"
                              "    team: [R5]\n"
                              "  - name: apac\n"
                              "    when: {region: [APAC]}\n"
                              "    team: {region: APAC}\n"
                              "  - name: uk-a1\n"
                              "    when: {grade: [A1], country: [GB]}\n"
                              "    team: [R4]\n"
                              "  - name: us-enterprise\n"
                              "    when: {country: [US], segment: [Enterprise]}\n"
                              "    team: territory\n"
                              "  - name: big-revenue\n"
                              "    when: {revenue: {min: 500000000}}\n"
                              "    team: [R3]\n"
                              "  - name: mid-band\n"
                              "    when: {country: [IE], employees: {min: 201, max: 1000}}\n"
                              "    team: [R5]\n"
                              "  - name: territory\n"
                              "    when: {country: [US, GB, IE]}\n"
                              "    team: territory\n"
                              "sla:\n"
                              "  deadline: 24h\n"
                              "  reassign_after: 2h\n"
                              "  rules:\n"
                              "    - when: {grade: [A]}\n"
                              "      deadline: 2h\n"
                              "    - when: {segment: [Enterprise]}\n"
                              "      deadline: 4h\n"
                              "      reassign_after: 1h\n";

/* 2026-11-20 09:00 UTC, a Friday */
static int64_t s_at(int y, int m, int d, int h)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = h};
    return (int64_t)timegm(&tm) * 1000;
}

typedef struct {
    long long id;
    const char *country, *state, *industry, *grade, *quadrant, *owner;
    long long employees; /* < 0: unknown */
    double revenue;      /* < 0: unknown */
    int64_t as_of;
} s_lead_t;

static json_t *s_req(const s_lead_t *l)
{
    json_t *fields = json_object();
    json_object_set_new(fields, "email", json_sprintf("lead%lld@acme.test", l->id));
    json_object_set_new(fields, "domain", json_string("acme.test"));
    if (l->country) {
        json_object_set_new(fields, "country", json_string(l->country));
    }
    if (l->state) {
        json_object_set_new(fields, "state", json_string(l->state));
    }
    if (l->industry) {
        json_object_set_new(fields, "industry_group", json_string(l->industry));
    }
    if (l->employees >= 0) {
        json_object_set_new(fields, "employees", json_integer(l->employees));
    }
    if (l->revenue >= 0) {
        json_object_set_new(fields, "revenue", json_real(l->revenue));
    }
    json_t *score =
        json_pack("{s:i,s:i,s:s,s:s}", "fit", 50, "interest", 40, "grade",
                  l->grade ? l->grade : "B2", "quadrant", l->quadrant ? l->quadrant : "mql_now");
    json_t *lead = json_pack("{s:I,s:s,s:s,s:o,s:o}", "lead_id", (json_int_t)l->id, "email",
                             json_string_value(json_object_get(fields, "email")), "stage", "MQL",
                             "fields", fields, "score", score);
    return json_pack("{s:o,s:I,s:s?,s:[],s:s}", "lead", lead, "as_of",
                     (json_int_t)(l->as_of ? l->as_of : s_at(2026, 11, 20, 9)), "account_owner",
                     l->owner, "exclude", "reason", "mql");
}

/* Route one lead with a throwaway state and check rule and rep (or queue). */
static void s_expect(const s_lead_t *l, const char *rule, const char *rep, const char *queue)
{
    ho_routing_t *r = s_load(s_rules, s_reps);
    json_t *out = s_decide(r, NULL, NULL, s_req(l));
    assert_string_equal(s_s(out, "rule"), rule);
    assert_string_equal(s_s(out, "rep_id"), rep ? rep : "(null)");
    assert_string_equal(s_s(out, "queue"), queue ? queue : "(null)");
    assert_int_equal(json_integer_value(json_object_get(out, "lead_id")), l->id);
    assert_true(strlen(s_s(out, "reason")) > 10);
    json_decref(out);
    ho_routing_destroy(&r);
}

static void test_rule_country(void **state)
{
    (void)state;
    s_lead_t l = {.id = 1, .country = "FR", .employees = 50, .revenue = -1};
    s_expect(&l, "france", "R5", NULL);
}

static void test_rule_us_state(void **state)
{
    (void)state;
    s_lead_t l = {.id = 2, .country = "US", .state = "TX", .employees = 5000, .revenue = -1};
    s_expect(&l, "texas", "R3", NULL);
    /* the same size in another state is not the texas rule */
    s_lead_t l2 = {.id = 3, .country = "US", .state = "NY", .employees = 5000, .revenue = -1};
    s_expect(&l2, "us-enterprise", "R1", NULL);
}

static void test_rule_region(void **state)
{
    (void)state;
    /* a region defined in routing.yaml */
    s_lead_t l = {.id = 4, .country = "AT", .employees = 50, .revenue = -1};
    s_expect(&l, "dach", "R5", NULL);
    /* a region taken from the reps file; R6 is inactive, so R7 */
    s_lead_t l2 = {.id = 5, .country = "SG", .employees = 50, .revenue = -1};
    s_expect(&l2, "apac", "R7", NULL);
}

static void test_rule_segment_band(void **state)
{
    (void)state;
    /* Enterprise by employee band: territory team narrows to the Enterprise rep of NY */
    s_lead_t l = {.id = 6, .country = "US", .state = "NJ", .employees = 1001, .revenue = -1};
    s_expect(&l, "us-enterprise", "R1", NULL);
    /* one employee less is Mid-Market: falls through to the territory rule, R2's band */
    s_lead_t l2 = {.id = 7,
                   .country = "US",
                   .state = "NJ",
                   .employees = 1000,
                   .revenue = -1,
                   .as_of = s_at(2026, 11, 20, 9)};
    s_expect(&l2, "territory", "R2", NULL);
    /* employees band condition in a rule */
    s_lead_t l3 = {.id = 8, .country = "IE", .employees = 500, .revenue = -1};
    s_expect(&l3, "mid-band", "R5", NULL);
    s_lead_t l4 = {.id = 9, .country = "IE", .employees = 1500, .revenue = -1};
    s_expect(&l4, "territory", "R4", NULL);
    /* revenue band */
    s_lead_t l5 = {.id = 10, .country = "US", .state = "MA", .employees = 100, .revenue = 6e8};
    s_expect(&l5, "big-revenue", "R3", NULL);
}

static void test_rule_industry(void **state)
{
    (void)state;
    s_lead_t l = {.id = 11,
                  .country = "US",
                  .state = "NY",
                  .employees = 50,
                  .revenue = -1,
                  .industry = "finance"};
    s_expect(&l, "finance", "R4", NULL);
}

static void test_rule_grade_and_quadrant(void **state)
{
    (void)state;
    /* letter matches every grade of that band */
    s_lead_t l = {
        .id = 12, .country = "US", .state = "NY", .employees = 50, .revenue = -1, .grade = "D3"};
    s_expect(&l, "grade-d", NULL, "nurture");
    /* exact grade */
    s_lead_t l2 = {.id = 13, .country = "GB", .employees = 50, .revenue = -1, .grade = "A1"};
    s_expect(&l2, "uk-a1", "R4", NULL);
    s_lead_t l3 = {.id = 14, .country = "GB", .employees = 50, .revenue = -1, .grade = "A2"};
    s_expect(&l3, "territory", "R4", NULL);
    s_lead_t l4 = {.id = 15,
                   .country = "US",
                   .state = "NY",
                   .employees = 50,
                   .revenue = -1,
                   .grade = "B3",
                   .quadrant = "group_offering"};
    s_expect(&l4, "group", NULL, "group-sales");
}

static void test_fallback_queue(void **state)
{
    (void)state;
    s_lead_t l = {.id = 16, .country = "BR", .employees = 50, .revenue = -1};
    s_expect(&l, "fallback", NULL, "unassigned");
    /* a rule matched but its team covers nobody: the fallback queue, not another rule */
    s_lead_t l2 = {.id = 17, .country = "US", .state = "OR", .employees = 50, .revenue = -1};
    s_expect(&l2, "territory", NULL, "unassigned");
}

static void test_ooo_dates_and_backup(void **state)
{
    (void)state;
    ho_routing_t *r = s_load(s_rules, s_reps);
    /* R2 (NY SMB, America/New_York) is away 2026-11-02..13 with backup R1; the dates are
     * New York days (EST, UTC-5 after 2026-11-01) */
    s_lead_t l = {.id = 20,
                  .country = "US",
                  .state = "NY",
                  .employees = 50,
                  .revenue = -1,
                  .as_of = s_at(2026, 11, 13, 23)};
    json_t *out = s_decide(r, NULL, NULL, s_req(&l));
    assert_string_equal(s_s(out, "rep_id"), "R1");
    assert_non_null(strstr(s_s(out, "reason"), "R2 out of office until 2026-11-13, backup R1"));
    json_decref(out);
    /* 2026-11-14 00:00 UTC is still 11-13 19:00 in New York: still away */
    l.as_of = s_at(2026, 11, 14, 0);
    out = s_decide(r, NULL, NULL, s_req(&l));
    assert_string_equal(s_s(out, "rep_id"), "R1");
    json_decref(out);
    /* New York midnight: the first day back R2 takes it again, although the flag in the file
     * still says TRUE */
    l.as_of = s_at(2026, 11, 14, 5);
    out = s_decide(r, NULL, NULL, s_req(&l));
    assert_string_equal(s_s(out, "rep_id"), "R2");
    json_decref(out);
    /* the absence starts at New York midnight too: 11-02 04:59 UTC is 11-01 23:59 there */
    l.as_of = s_at(2026, 11, 2, 5) - 60000;
    out = s_decide(r, NULL, NULL, s_req(&l));
    assert_string_equal(s_s(out, "rep_id"), "R2");
    json_decref(out);
    l.as_of = s_at(2026, 11, 2, 5);
    out = s_decide(r, NULL, NULL, s_req(&l));
    assert_string_equal(s_s(out, "rep_id"), "R1");
    json_decref(out);
    ho_routing_destroy(&r);
}

static const char s_pool_reps[] =
    "rep_id,name,email,region,countries,us_states,segments,employee_min,employee_max,"
    "weekly_capacity,timezone,out_of_office,ooo_start,ooo_end,backup_rep_id,weight,active\n"
    "A,Al,a@x.test,Pool,US,,All,,,%s,UTC,%s,,,%s,%d,%s\n"
    "B,Bo,b@x.test,Pool,US,,All,,,%s,UTC,FALSE,,,,%d,TRUE\n"
    "C,Cy,c@x.test,Pool,US,,All,,,%s,UTC,FALSE,,,,%d,TRUE\n";

static const char s_pool_rules[] = "fallback_queue: nobody\n"
                                   "capacity: {per_day: %d, window: %s}\n"
                                   "rules:\n"
                                   "  - name: pool\n"
                                   "    team: [A, B, C]\n"
                                   "    overflow: busy\n";

typedef struct {
    const char *cap_a, *cap_b, *cap_c; /* weekly_capacity, "" = none */
    const char *ooo_a, *backup_a, *active_a;
    int wa, wb, wc, per_day;
    const char *window;
} s_pool_t;

static ho_routing_t *s_pool(const s_pool_t *p)
{
    char csv[1024], yaml[512];
    snprintf(csv, sizeof csv, s_pool_reps, p->cap_a, p->ooo_a ? p->ooo_a : "FALSE",
             p->backup_a ? p->backup_a : "", p->wa, p->active_a ? p->active_a : "TRUE", p->cap_b,
             p->wb, p->cap_c, p->wc);
    snprintf(yaml, sizeof yaml, s_pool_rules, p->per_day, p->window ? p->window : "week");
    return s_load(yaml, csv);
}

/* Route n leads, as_of_fn(i) each; counts[0..2] = A, B, C, counts[3] = queued. */
static void s_run(ho_routing_t *r, ho_route_state_t *st, int from, int n, int64_t (*at)(int),
                  int counts[4])
{
    for (int i = from; i < from + n; i++) {
        s_lead_t l = {
            .id = 1000 + i, .country = "US", .employees = 50, .revenue = -1, .as_of = at(i)};
        json_t *out = s_decide(r, st, NULL, s_req(&l));
        const char *rep = json_string_value(json_object_get(out, "rep_id"));
        counts[rep ? rep[0] - 'A' : 3]++;
        json_decref(out);
    }
}

static int64_t s_same_day(int i)
{
    return s_at(2026, 11, 16, 8) + i;
}

/* 100 leads a week for 100 weeks, starting Monday 2026-01-05 */
static int64_t s_weekly(int i)
{
    return s_at(2026, 1, 5, 0) + (int64_t)(i / 100) * 7 * 24 * HOUR + (i % 100) * 60000;
}

static void test_round_robin_weights_10000(void **state)
{
    (void)state;
    s_pool_t p = {.cap_a = "", .cap_b = "", .cap_c = "", .wa = 3, .wb = 2, .wc = 1};
    ho_routing_t *r = s_pool(&p);
    ho_route_state_t *st = ho_route_state_open(":memory:", NULL);
    assert_non_null(st);
    int counts[4] = {0};
    int max_dev_x6 = 0; /* |6*count - k*w| over every prefix k, in sixths of a lead */
    for (int k = 0; k < 10000; k++) {
        s_run(r, st, k, 1, s_same_day, counts);
        int w[3] = {3, 2, 1};
        for (int i = 0; i < 3; i++) {
            int dev = abs(6 * counts[i] - (k + 1) * w[i]);
            max_dev_x6 = dev > max_dev_x6 ? dev : max_dev_x6;
        }
    }
    /* 10000 = 1666 * 6 + 4: each full cycle of 6 gives 3/2/1, the first 4 of a cycle
     * (A B A C with smooth weighted round robin) give 2/1/1 */
    assert_int_equal(counts[0], 1666 * 3 + 2);
    assert_int_equal(counts[1], 1666 * 2 + 1);
    assert_int_equal(counts[2], 1666 * 1 + 1);
    assert_int_equal(counts[3], 0);
    /* fair at every point, not only at the end: never more than one lead off its share */
    assert_true(max_dev_x6 < 6);
    ho_route_state_destroy(&st);
    ho_routing_destroy(&r);
}

static void test_round_robin_weekly_caps_10000(void **state)
{
    (void)state;
    /* A has weight 2 but only 40 a week; 100 leads a week. Unconstrained A would take 50;
     * capped at 40, the other 60 split evenly between B and C (equal weights). */
    s_pool_t p = {.cap_a = "40", .cap_b = "", .cap_c = "", .wa = 2, .wb = 1, .wc = 1};
    ho_routing_t *r = s_pool(&p);
    ho_route_state_t *st = ho_route_state_open(":memory:", NULL);
    int counts[4] = {0};
    for (int week = 0; week < 100; week++) {
        int before = counts[0];
        s_run(r, st, week * 100, 100, s_weekly, counts);
        assert_int_equal(counts[0] - before, 40);
        int day_n, week_n;
        ho_route_state_counts(r, st, "A", s_weekly(week * 100), &day_n, &week_n);
        assert_int_equal(week_n, 40);
    }
    assert_int_equal(counts[0], 4000);
    assert_int_equal(counts[1], 3000);
    assert_int_equal(counts[2], 3000);
    assert_int_equal(counts[3], 0);
    ho_route_state_destroy(&st);
    ho_routing_destroy(&r);
}

static void test_daily_cap_and_overflow(void **state)
{
    (void)state;
    s_pool_t p = {.cap_a = "", .cap_b = "", .cap_c = "", .wa = 1, .wb = 1, .wc = 1, .per_day = 5};
    ho_routing_t *r = s_pool(&p);
    ho_route_state_t *st = ho_route_state_open(":memory:", NULL);
    int counts[4] = {0};
    s_run(r, st, 0, 20, s_same_day, counts);
    assert_int_equal(counts[0], 5);
    assert_int_equal(counts[1], 5);
    assert_int_equal(counts[2], 5);
    assert_int_equal(counts[3], 5);
    /* queued leads go to the rule's overflow queue, with the reason */
    s_lead_t l = {
        .id = 99, .country = "US", .employees = 50, .revenue = -1, .as_of = s_same_day(30)};
    json_t *out = s_decide(r, st, NULL, s_req(&l));
    assert_string_equal(s_s(out, "queue"), "busy");
    assert_non_null(strstr(s_s(out, "reason"), "A at daily capacity 5/5"));
    json_decref(out);
    /* the next day everyone has room again */
    int next[4] = {0};
    l.as_of = s_same_day(0) + 24 * HOUR;
    s_run(r, st, 100, 3, s_same_day, next); /* still the full day: nothing changes */
    assert_int_equal(next[3], 3);
    memset(next, 0, sizeof next);
    for (int i = 0; i < 3; i++) {
        l.id = 200 + i;
        out = s_decide(r, st, NULL, s_req(&l));
        next[json_is_string(json_object_get(out, "rep_id")) ? 0 : 3]++;
        json_decref(out);
    }
    assert_int_equal(next[0], 3);
    ho_route_state_destroy(&st);
    ho_routing_destroy(&r);
}

static void test_rolling_window_days(void **state)
{
    (void)state;
    /* capacity counted over a rolling 3 days instead of the calendar week */
    s_pool_t p = {
        .cap_a = "2", .cap_b = "0", .cap_c = "0", .wa = 1, .wb = 1, .wc = 1, .window = "3"};
    ho_routing_t *r = s_pool(&p);
    ho_route_state_t *st = ho_route_state_open(":memory:", NULL);
    int got[6];
    for (int d = 0; d < 6; d++) {
        s_lead_t l = {.id = 300 + d,
                      .country = "US",
                      .employees = 50,
                      .revenue = -1,
                      .as_of = s_at(2026, 3, 2 + d, 12)};
        json_t *out = s_decide(r, st, NULL, s_req(&l));
        got[d] = json_is_string(json_object_get(out, "rep_id"));
        json_decref(out);
    }
    /* days 0,1 fill A's 2 in 3 days; day 2 is still within the window; day 3 day 0 left */
    int want[6] = {1, 1, 0, 1, 1, 0};
    for (int d = 0; d < 6; d++) {
        assert_int_equal(got[d], want[d]);
    }
    ho_route_state_destroy(&st);
    ho_routing_destroy(&r);
}

/* ---- the rep's own calendar ---- */

static const char s_tz_reps[] =
    "rep_id,name,email,region,countries,us_states,segments,employee_min,employee_max,"
    "weekly_capacity,timezone,out_of_office,ooo_start,ooo_end,backup_rep_id,weight,"
    "daily_capacity\n"
    "LA,Lu,lu@x.test,West,US,,All,,,,America/Los_Angeles,FALSE,,,,1,2\n"
    "SG,Si,si@x.test,Asia,SG,,All,,,1,Asia/Singapore,FALSE,,,,1,\n";

static const char s_tz_rules[] = "fallback_queue: nobody\n"
                                 "rules:\n"
                                 "  - {name: la, when: {country: [US]}, team: [LA]}\n"
                                 "  - {name: sg, when: {country: [SG]}, team: [SG]}\n";

static const char *s_route_at(ho_routing_t *r, ho_route_state_t *st, long long id,
                              const char *country, int64_t at, char *reason, size_t cap)
{
    static char rep[16];
    s_lead_t l = {.id = id, .country = country, .employees = 50, .revenue = -1, .as_of = at};
    json_t *out = s_decide(r, st, NULL, s_req(&l));
    snprintf(rep, sizeof rep, "%s", s_s(out, "rep_id"));
    if (reason) {
        snprintf(reason, cap, "%s", s_s(out, "reason"));
    }
    json_decref(out);
    return rep;
}

static void test_daily_cap_counts_the_reps_local_day(void **state)
{
    (void)state;
    ho_routing_t *r = s_load(s_tz_rules, s_tz_reps);
    ho_route_state_t *st = ho_route_state_open(":memory:", NULL);
    char why[1024];
    /* LA takes 2 a day. 2026-11-16 10:00 and 20:00 Los Angeles (PST, UTC-8) are both
     * Monday there; the second is already Tuesday 04:00 in UTC */
    assert_string_equal(s_route_at(r, st, 1, "US", s_at(2026, 11, 16, 18), NULL, 0), "LA");
    assert_string_equal(s_route_at(r, st, 2, "US", s_at(2026, 11, 17, 4), NULL, 0), "LA");
    int day_n = 0;
    ho_route_state_counts(r, st, "LA", s_at(2026, 11, 17, 4), &day_n, NULL);
    assert_int_equal(day_n, 2);
    /* 23:30 Monday in LA (Tuesday 07:30 UTC): Monday is full. Counting UTC days would have
     * given this lead a fresh Tuesday. */
    assert_string_equal(
        s_route_at(r, st, 3, "US", s_at(2026, 11, 17, 7) + 30 * 60000, why, sizeof why), "(null)");
    assert_non_null(strstr(why, "LA at daily capacity 2/2"));
    /* 00:30 Tuesday in LA: a new day */
    assert_string_equal(
        s_route_at(r, st, 4, "US", s_at(2026, 11, 17, 8) + 30 * 60000, why, sizeof why), "LA");
    assert_non_null(strstr(why, "1/2 today"));
    ho_route_state_destroy(&st);
    ho_routing_destroy(&r);
}

static void test_weekly_cap_counts_the_reps_local_week(void **state)
{
    (void)state;
    ho_routing_t *r = s_load(s_tz_rules, s_tz_reps);
    ho_route_state_t *st = ho_route_state_open(":memory:", NULL);
    /* SG takes 1 a week (ISO week in Singapore, UTC+8) */
    assert_string_equal(s_route_at(r, st, 1, "SG", s_at(2026, 11, 18, 3), NULL, 0), "SG");
    /* Sunday 2026-11-22 20:00 in Singapore: the same week, full */
    assert_string_equal(s_route_at(r, st, 2, "SG", s_at(2026, 11, 22, 12), NULL, 0), "(null)");
    /* Sunday 17:00 UTC is Monday 01:00 in Singapore: a new week there (not yet in UTC) */
    assert_string_equal(s_route_at(r, st, 3, "SG", s_at(2026, 11, 22, 17), NULL, 0), "SG");
    int week_n = 0;
    ho_route_state_counts(r, st, "SG", s_at(2026, 11, 22, 17), NULL, &week_n);
    assert_int_equal(week_n, 1);
    ho_route_state_destroy(&st);
    ho_routing_destroy(&r);
}

/* Oracle for the test below: the local date of t in zone, by glibc (this test is
 * single-threaded, so it may set TZ), as days since the epoch. */
static int64_t s_libc_day(const char *zone, int64_t t_ms)
{
    setenv("TZ", zone, 1);
    tzset();
    time_t t = (time_t)(t_ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    struct tm d = {.tm_year = tm.tm_year, .tm_mon = tm.tm_mon, .tm_mday = tm.tm_mday};
    return (int64_t)timegm(&d) / 86400;
}

static int s_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_fairness_weights_caps_zones_10000(void **state)
{
    (void)state;
    /* Three reps in three zones, weights 3/2/1; A may take 60 a week, everyone 15 a day.
     * 10,000 leads at random instants over 50 weeks (200 a week): unconstrained A would
     * take 100 a week, so A's weekly cap binds every week; the daily caps bind on busy days. */
    static const char csv[] =
        "rep_id,name,email,region,countries,us_states,segments,employee_min,employee_max,"
        "weekly_capacity,timezone,out_of_office,ooo_start,ooo_end,backup_rep_id,weight\n"
        "A,Al,a@x.test,Pool,US,,All,,,60,America/New_York,FALSE,,,,3\n"
        "B,Bo,b@x.test,Pool,US,,All,,,,Europe/London,FALSE,,,,2\n"
        "C,Cy,c@x.test,Pool,US,,All,,,,Asia/Singapore,FALSE,,,,1\n";
    static const char yaml[] = "fallback_queue: nobody\n"
                               "capacity: {per_day: 15}\n"
                               "rules:\n"
                               "  - {name: pool, team: [A, B, C], overflow: busy}\n";
    static const char *const zone[3] = {"America/New_York", "Europe/London", "Asia/Singapore"};
    static const int weekly[3] = {60, -1, -1};
    enum { N = 10000, WEEKS = 50 };
    ho_routing_t *r = s_load(yaml, csv);
    ho_route_state_t *st = ho_route_state_open(":memory:", NULL);
    /* random instants, sorted: leads arrive in time order */
    int64_t *at = calloc(N, sizeof *at);
    srand(47);
    int64_t t0 = s_at(2026, 1, 5, 0);
    for (int i = 0; i < N; i++) {
        at[i] = t0 + (int64_t)((double)rand() / RAND_MAX * WEEKS * 7 * 24 * HOUR);
    }
    qsort(at, N, sizeof *at, s_cmp_i64);
    /* the oracle's own counts per rep per local day and per local ISO week */
    enum { DAYS = WEEKS * 7 + 4 };
    int64_t day0 = t0 / (24 * HOUR) - 2;
    int day_n[3][DAYS] = {{0}}, week_n[3][DAYS / 7 + 2] = {{0}};
    int total[4] = {0};
    static const int w[3] = {3, 2, 1};
    double debt[3] = {0}, max_debt = 0;
    for (int i = 0; i < N; i++) {
        int64_t d[3];
        int room = 0;
        for (int k = 0; k < 3; k++) {
            d[k] = s_libc_day(zone[k], at[i]) - day0;
            int64_t wk = (d[k] + day0 + 3) / 7; /* weeks since Monday 1969-12-29 */
            int64_t w0 = (day0 + 3) / 7;
            bool ok = day_n[k][d[k]] < 15 && (weekly[k] < 0 || week_n[k][wk - w0] < weekly[k]);
            room |= ok << k;
        }
        s_lead_t l = {
            .id = 50000 + i, .country = "US", .employees = 50, .revenue = -1, .as_of = at[i]};
        json_t *out = s_decide(r, st, NULL, s_req(&l));
        const char *rep = json_string_value(json_object_get(out, "rep_id"));
        /* fairness debt: each rep with room is owed its weight's share of this lead */
        int wsum = 0;
        for (int k = 0; k < 3; k++) {
            wsum += room & (1 << k) ? w[k] : 0;
        }
        for (int k = 0; k < 3; k++) {
            debt[k] += room & (1 << k) ? (double)w[k] / wsum : 0;
            debt[k] -= rep && rep[0] - 'A' == k ? 1 : 0;
            max_debt = fabs(debt[k]) > max_debt ? fabs(debt[k]) : max_debt;
        }
        if (!rep) {
            /* queued only when nobody had room */
            if (room) {
                fail_msg("lead %d queued while reps %#x had room: %s", i, room, s_s(out, "reason"));
            }
            total[3]++;
        } else {
            int k = rep[0] - 'A';
            if (!(room & (1 << k))) {
                fail_msg("lead %d went to %s over its cap: %s", i, rep, s_s(out, "reason"));
            }
            day_n[k][d[k]]++;
            week_n[k][(d[k] + day0 + 3) / 7 - (day0 + 3) / 7]++;
            total[k]++;
        }
        json_decref(out);
    }
    unsetenv("TZ");
    tzset();
    /* A's cap binds every full week of its own: exactly 60 */
    int full_weeks = 0;
    for (int wk = 1; wk < WEEKS; wk++) {
        full_weeks += week_n[0][wk] == 60;
        assert_true(week_n[0][wk] <= 60);
    }
    assert_true(full_weeks >= WEEKS - 2);
    /* Weighted fairness while the set of reps with room changes all the time (A drops out
     * every week, daily caps cut in on busy days): at no point is a rep more than a few
     * leads ahead of or behind its weight's share of the leads it could have taken
     * (measured: 6.0 at most; smooth weighted round robin with a fixed set keeps it < 1). */
    assert_true(max_debt < 8);
    assert_true(total[3] > 0); /* the daily caps did bind */
    assert_int_equal(total[0] + total[1] + total[2] + total[3], N);
    printf("fairness: A=%d B=%d C=%d queued=%d max_debt=%.3f\n", total[0], total[1], total[2],
           total[3], max_debt);
    ho_route_state_destroy(&st);
    ho_routing_destroy(&r);
    free(at);
}

static void test_ooo_without_backup_and_inactive_skip(void **state)
{
    (void)state;
    /* A away (no dates: until further notice), no backup: B and C share everything */
    s_pool_t p = {
        .cap_a = "", .cap_b = "", .cap_c = "", .wa = 5, .wb = 1, .wc = 1, .ooo_a = "TRUE"};
    ho_routing_t *r = s_pool(&p);
    int counts[4] = {0};
    ho_route_state_t *st = ho_route_state_open(":memory:", NULL);
    s_run(r, st, 0, 100, s_same_day, counts);
    assert_int_equal(counts[0], 0);
    assert_int_equal(counts[1], 50);
    assert_int_equal(counts[2], 50);
    ho_route_state_destroy(&st);
    ho_routing_destroy(&r);

    /* A away with backup C: A's turns (weight 2 of 4) go to C */
    s_pool_t p2 = {.cap_a = "",
                   .cap_b = "",
                   .cap_c = "",
                   .wa = 2,
                   .wb = 1,
                   .wc = 1,
                   .ooo_a = "TRUE",
                   .backup_a = "C"};
    r = s_pool(&p2);
    st = ho_route_state_open(":memory:", NULL);
    memset(counts, 0, sizeof counts);
    s_run(r, st, 0, 100, s_same_day, counts);
    assert_int_equal(counts[0], 0);
    assert_int_equal(counts[1], 25);
    assert_int_equal(counts[2], 75);
    ho_route_state_destroy(&st);
    ho_routing_destroy(&r);

    /* A inactive: never assigned, whatever its weight */
    s_pool_t p3 = {
        .cap_a = "", .cap_b = "", .cap_c = "", .wa = 5, .wb = 1, .wc = 1, .active_a = "FALSE"};
    r = s_pool(&p3);
    st = ho_route_state_open(":memory:", NULL);
    memset(counts, 0, sizeof counts);
    s_run(r, st, 0, 100, s_same_day, counts);
    assert_int_equal(counts[0], 0);
    assert_int_equal(counts[1], 50);
    assert_int_equal(counts[2], 50);
    ho_route_state_destroy(&st);
    ho_routing_destroy(&r);
}

static void test_account_match(void **state)
{
    (void)state;
    /* a US enterprise lead whose domain is owned by R5 goes to R5, not to the rules */
    s_lead_t l = {
        .id = 40, .country = "US", .state = "NY", .employees = 5000, .revenue = -1, .owner = "R5"};
    s_expect(&l, "account_match", "R5", NULL);
    ho_routing_t *r = s_load(s_rules, s_reps);
    json_t *out = s_decide(r, NULL, NULL, s_req(&l));
    assert_non_null(strstr(s_s(out, "reason"), "acme.test is owned by R5 (Eva Ernst)"));
    json_decref(out);
    ho_routing_destroy(&r);
    /* an inactive owner: the rules decide */
    l.owner = "R6";
    s_expect(&l, "us-enterprise", "R1", NULL);
    /* an unknown owner id: the rules decide */
    l.owner = "R99";
    s_expect(&l, "us-enterprise", "R1", NULL);
    /* the owner is away: the owner's backup */
    s_lead_t l2 = {.id = 41,
                   .country = "DE",
                   .employees = 10,
                   .revenue = -1,
                   .owner = "R2",
                   .as_of = s_at(2026, 11, 5, 10)};
    s_expect(&l2, "account_match", "R1", NULL);
}

static void test_sla_due_per_segment(void **state)
{
    (void)state;
    ho_routing_t *r = s_load(s_rules, s_reps);
    int64_t t = s_at(2026, 11, 20, 9);
    struct {
        s_lead_t l;
        int64_t due, reassign;
    } cases[] = {
        /* A grade: 2 h, then the default 2 h more */
        {{.id = 50, .country = "GB", .employees = 50, .revenue = -1, .grade = "A2", .as_of = t},
         2 * HOUR,
         4 * HOUR},
        /* Enterprise: 4 h, then 1 h */
        {{.id = 51,
          .country = "US",
          .state = "NY",
          .employees = 5000,
          .revenue = -1,
          .grade = "B1",
          .as_of = t},
         4 * HOUR,
         5 * HOUR},
        /* everyone else: 24 h, then 2 h */
        {{.id = 52,
          .country = "US",
          .state = "NY",
          .employees = 50,
          .revenue = -1,
          .grade = "C2",
          .as_of = t},
         24 * HOUR,
         26 * HOUR},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *out = s_decide(r, NULL, NULL, s_req(&cases[i].l));
        assert_int_equal(json_integer_value(json_object_get(out, "assigned_at")), t);
        assert_int_equal(json_integer_value(json_object_get(out, "sla_due")), t + cases[i].due);
        assert_int_equal(json_integer_value(json_object_get(out, "reassign_due")),
                         t + cases[i].reassign);
        json_decref(out);
    }
    ho_routing_destroy(&r);
}

static json_t *s_breach(const s_lead_t *l, const char *rep, int64_t now)
{
    json_t *b = s_req(l);
    json_object_set_new(b, "lead_id", json_integer(l->id));
    json_object_set_new(b, "rep_id", json_string(rep));
    json_object_set_new(b, "step", json_string("reassign"));
    json_object_set_new(b, "now", json_integer(now));
    json_object_set_new(b, "assigned_at", json_integer(l->as_of));
    json_object_set_new(b, "sla_due", json_integer(l->as_of + 2 * HOUR));
    return b;
}

static void test_sla_breach_reassign_excludes_breachers(void **state)
{
    (void)state;
    s_pool_t p = {.cap_a = "", .cap_b = "", .cap_c = "", .wa = 1, .wb = 1, .wc = 1};
    ho_routing_t *r = s_pool(&p);
    ho_route_state_t *st = ho_route_state_open(":memory:", NULL);
    int64_t t0 = s_at(2026, 11, 16, 9);
    s_lead_t l = {.id = 60, .country = "US", .employees = 50, .revenue = -1, .as_of = t0};
    json_t *first = s_decide(r, st, "ev-route-60", s_req(&l));
    char rep1[8];
    snprintf(rep1, sizeof rep1, "%s", s_s(first, "rep_id"));
    json_decref(first);

    /* the controllable clock: the breach happens 4 h later */
    json_t *second = s_decide(r, st, "ev-breach-60-1", s_breach(&l, rep1, t0 + 4 * HOUR));
    char rep2[8];
    snprintf(rep2, sizeof rep2, "%s", s_s(second, "rep_id"));
    assert_true(json_is_string(json_object_get(second, "rep_id")));
    assert_string_not_equal(rep2, rep1);
    assert_string_equal(s_s(second, "reassigned_from"), rep1);
    assert_int_equal(json_integer_value(json_object_get(second, "assigned_at")), t0 + 4 * HOUR);
    assert_int_equal(json_integer_value(json_object_get(second, "sla_due")),
                     t0 + 4 * HOUR + 24 * HOUR);
    json_decref(second);

    /* the new rep breaches too: neither of them gets it (router.db remembers the first) */
    json_t *third = s_decide(r, st, "ev-breach-60-2", s_breach(&l, rep2, t0 + 40 * HOUR));
    assert_true(json_is_string(json_object_get(third, "rep_id")));
    assert_string_not_equal(s_s(third, "rep_id"), rep1);
    assert_string_not_equal(s_s(third, "rep_id"), rep2);
    char rep3[8];
    snprintf(rep3, sizeof rep3, "%s", s_s(third, "rep_id"));
    json_decref(third);

    /* everyone breached: the overflow queue */
    json_t *fourth = s_decide(r, st, "ev-breach-60-3", s_breach(&l, rep3, t0 + 80 * HOUR));
    assert_true(json_is_null(json_object_get(fourth, "rep_id")));
    assert_string_equal(s_s(fourth, "queue"), "busy");
    assert_non_null(strstr(s_s(fourth, "reason"), "excluded"));
    json_decref(fourth);
    ho_route_state_destroy(&st);
    ho_routing_destroy(&r);
}

static void test_idempotent_by_event_id(void **state)
{
    (void)state;
    s_pool_t p = {.cap_a = "", .cap_b = "", .cap_c = "", .wa = 1, .wb = 1, .wc = 1};
    ho_routing_t *r = s_pool(&p);
    ho_route_state_t *st = ho_route_state_open(":memory:", NULL);
    s_lead_t l = {
        .id = 70, .country = "US", .employees = 50, .revenue = -1, .as_of = s_same_day(0)};
    ho_err_t err = {0};
    json_t *a = NULL, *b = NULL;
    bool replayed = true;
    json_t *req = s_req(&l);
    assert_int_equal(ho_routing_decide(r, st, "ev-70", req, &a, &replayed, &err), HO_OK);
    assert_false(replayed);
    assert_int_equal(ho_routing_decide(r, st, "ev-70", req, &b, &replayed, &err), HO_OK);
    assert_true(replayed);
    assert_true(json_equal(a, b));
    int day_n = -1;
    ho_route_state_counts(r, st, s_s(a, "rep_id"), s_same_day(0), &day_n, NULL);
    assert_int_equal(day_n, 1);
    json_decref(b);
    /* a new event id is a new decision: the rotation moves on */
    assert_int_equal(ho_routing_decide(r, st, "ev-71", req, &b, NULL, &err), HO_OK);
    assert_string_not_equal(s_s(a, "rep_id"), s_s(b, "rep_id"));
    json_decref(a);
    json_decref(b);
    json_decref(req);
    ho_route_state_destroy(&st);
    ho_routing_destroy(&r);
}

static void test_state_survives_reopen(void **state)
{
    (void)state;
    char dir[] = "/tmp/ho-routing-XXXXXX";
    char path[256];
    s_db_dir(dir, path, sizeof path);
    s_pool_t p = {.cap_a = "", .cap_b = "", .cap_c = "", .wa = 3, .wb = 2, .wc = 1};
    ho_routing_t *r = s_pool(&p);

    /* the reference: 12 leads without interruption */
    char want[13] = {0}, got[13] = {0};
    ho_route_state_t *mem = ho_route_state_open(":memory:", NULL);
    for (int i = 0; i < 12; i++) {
        s_lead_t l = {
            .id = 80 + i, .country = "US", .employees = 50, .revenue = -1, .as_of = s_same_day(i)};
        json_t *out = s_decide(r, mem, NULL, s_req(&l));
        want[i] = s_s(out, "rep_id")[0];
        json_decref(out);
    }
    ho_route_state_destroy(&mem);

    /* the same with a restart after 5 leads */
    for (int run = 0; run < 2; run++) {
        ho_err_t err = {0};
        ho_route_state_t *st = ho_route_state_open(path, &err);
        assert_non_null(st);
        for (int i = run ? 5 : 0; i < (run ? 12 : 5); i++) {
            s_lead_t l = {.id = 80 + i,
                          .country = "US",
                          .employees = 50,
                          .revenue = -1,
                          .as_of = s_same_day(i)};
            json_t *out = s_decide(r, st, NULL, s_req(&l));
            got[i] = s_s(out, "rep_id")[0];
            json_decref(out);
        }
        if (run == 1) {
            int day_a = 0;
            ho_route_state_counts(r, st, "A", s_same_day(0), &day_a, NULL);
            assert_int_equal(day_a, 6); /* counts of the first run are still there */
        }
        ho_route_state_destroy(&st);
    }
    assert_string_equal(got, want);
    s_rm_db(path);
    rmdir(dir);
    ho_routing_destroy(&r);
}

static bool s_replayed(ho_routing_t *r, ho_route_state_t *st, const char *event_id,
                       const s_lead_t *l)
{
    ho_err_t err = {0};
    json_t *out = NULL, *req = s_req(l);
    bool replayed = false;
    assert_int_equal(ho_routing_decide(r, st, event_id, req, &out, &replayed, &err), HO_OK);
    json_decref(req);
    json_decref(out);
    return replayed;
}

static void test_state_retention(void **state)
{
    (void)state;
    char dir[] = "/tmp/ho-routing-XXXXXX";
    char path[256];
    s_db_dir(dir, path, sizeof path);
    s_pool_t p = {.cap_a = "", .cap_b = "", .cap_c = "", .wa = 1, .wb = 1, .wc = 1};
    ho_routing_t *r = s_pool(&p);
    ho_err_t err = {0};
    ho_route_state_t *st = ho_route_state_open(path, &err);
    assert_non_null(st);
    int64_t wall = (int64_t)time(NULL) * 1000;
    /* 40 leads, one a day at noon UTC, from 44 to 5 days before yesterday */
    int64_t yesterday = (wall / (24 * HOUR) - 1) * 24 * HOUR + 12 * HOUR;
    int64_t t0 = yesterday - 44 * 24 * HOUR;
    for (int i = 0; i < 40; i++) {
        char id[32];
        snprintf(id, sizeof id, "ev-ret-%d", i);
        s_lead_t l = {.id = 500 + i,
                      .country = "US",
                      .employees = 50,
                      .revenue = -1,
                      .as_of = t0 + i * 24 * HOUR};
        json_decref(s_decide(r, st, id, s_req(&l)));
    }
    /* two SLA breaches, recorded 40 days and 1 day ago (the store's tick clock) */
    s_lead_t b1 = {.id = 600, .country = "US", .employees = 50, .revenue = -1, .as_of = t0};
    json_decref(s_decide(r, st, "ev-br-old", s_breach(&b1, "A", wall - 40 * 24 * HOUR)));
    s_lead_t b2 = {.id = 601, .country = "US", .employees = 50, .revenue = -1, .as_of = t0};
    json_decref(s_decide(r, st, "ev-br-new", s_breach(&b2, "B", wall - 24 * HOUR)));

    /* keep 30 days: decisions are young (recorded just now) and stay; counts more than 30
     * days before the newest counted day (yesterday's reassignment) go: the leads of days
     * 0..13 and the reassignment 40 days ago; the 40-day-old breach goes */
    ho_routing_pruned_t n;
    assert_int_equal(ho_route_state_prune(r, st, wall, 30 * 24 * HOUR, &n, &err), HO_OK);
    assert_int_equal(n.decisions, 0);
    assert_int_equal(n.breaches, 1);
    assert_true(n.counts >= 14 && n.counts <= 15);
    const char *reps[] = {"A", "B", "C"};
    int sum = 0, old = 0;
    for (int k = 0; k < 3; k++) {
        int d = 0;
        ho_route_state_counts(r, st, reps[k], t0 + 14 * 24 * HOUR, &d, NULL);
        sum += d;
        ho_route_state_counts(r, st, reps[k], t0, &d, NULL);
        old += d;
    }
    assert_int_equal(old, 0); /* day 0 forgotten */
    assert_int_equal(sum, 1); /* the oldest day within the retention is intact */
    /* a redelivered request is still recognised */
    s_lead_t l = {.id = 539, .country = "US", .employees = 50, .revenue = -1, .as_of = t0};
    assert_true(s_replayed(r, st, "ev-ret-39", &l));
    /* nothing to do the second time; keep 0 never removes anything */
    assert_int_equal(ho_route_state_prune(r, st, wall, 30 * 24 * HOUR, &n, &err), HO_OK);
    assert_int_equal(n.decisions + n.counts + n.breaches, 0);
    /* B breached a day ago: still excluded when lead 601 is reassigned again */
    json_t *again = s_decide(r, st, "ev-br-new-2", s_breach(&b2, "C", wall));
    assert_string_equal(s_s(again, "rep_id"), "A");
    json_decref(again);
    assert_int_equal(ho_route_state_prune(r, st, wall + 1000 * 24 * HOUR, 0, &n, &err), HO_OK);
    assert_int_equal(n.decisions + n.counts + n.breaches, 0);
    /* 31 days on, every decision is older than the retention: redelivery after that long is
     * a new decision (the documented trade-off) */
    assert_int_equal(ho_route_state_prune(r, st, wall + 31 * 24 * HOUR, 30 * 24 * HOUR, &n, &err),
                     HO_OK);
    assert_int_equal(n.decisions, 43);
    assert_false(s_replayed(r, st, "ev-ret-39", &l));
    ho_route_state_destroy(&st);
    s_rm_db(path);

    /* a router.db of schema 1 (no decided_at) is upgraded in place; its decisions count as
     * recorded at the upgrade */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "CREATE TABLE router_meta (key TEXT PRIMARY KEY, value TEXT);"
                     "INSERT INTO router_meta VALUES ('schema_version', '1');"
                     "CREATE TABLE decisions (event_id TEXT PRIMARY KEY, payload TEXT NOT NULL,"
                     " at INTEGER NOT NULL) WITHOUT ROWID;"
                     "INSERT INTO decisions VALUES ('ev-v1', '{\"lead_id\": 1, \"rep_id\": \"B\"}',"
                     " 0);",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    st = ho_route_state_open(path, &err);
    if (!st) {
        fail_msg("upgrade: %s", err.message);
    }
    assert_int_equal(ho_route_state_prune(r, st, wall, 30 * 24 * HOUR, &n, &err), HO_OK);
    assert_int_equal(n.decisions, 0);
    assert_true(s_replayed(r, st, "ev-v1", &l));
    ho_route_state_destroy(&st);
    s_rm_db(path);
    rmdir(dir);
    ho_routing_destroy(&r);
}

static void test_reason_sentence_with_shipped_config(void **state)
{
    (void)state;
    const char *src = getenv("HO_SOURCE_DIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/deploy", src ? src : HO_SOURCE_DIR);
    ho_err_t err = {0};
    ho_routing_t *r = ho_routing_load(dir, "routing.yaml", &err);
    assert_non_null(r);
    assert_int_equal(ho_routing_rep_count(r), 10);
    ho_route_state_t *st = ho_route_state_open(":memory:", NULL);
    s_lead_t l = {.id = 90,
                  .country = "US",
                  .state = "NY",
                  .employees = 5000,
                  .revenue = -1,
                  .grade = "B1",
                  .as_of = s_at(2026, 11, 18, 9)};
    json_t *out = s_decide(r, st, "ev-90", s_req(&l));
    assert_string_equal(s_s(out, "rep_id"), "HE1");
    assert_string_equal(s_s(out, "rep_name"), "Odalys Brennick");
    assert_string_equal(s_s(out, "reason"),
                        "rule us-east-enterprise: territory US East (NY), Enterprise 1001+ "
                        "employees, round robin weight 2, 1/30 this week, 1/12 today");
    json_decref(out);
    ho_route_state_destroy(&st);
    ho_routing_destroy(&r);
}

static void test_config_errors_name_file_line_key(void **state)
{
    (void)state;
    const char *hdr = "rep_id,name,email,weekly_capacity,out_of_office,ooo_start,backup_rep_id\n";
    const char *ok = "rules:\n  - name: all\n    team: territory\n";
    char csv[512];
    snprintf(csv, sizeof csv, "%sR1,Ann,a@x,10,FALSE,,\nR2,Ben,b@x,ten,FALSE,,\n", hdr);
    s_expect_error(ok, csv, "reps.csv:3: weekly_capacity: expected a whole number");
    /* a quoted field spanning two lines: the bad record is still reported on its own line */
    snprintf(csv, sizeof csv, "%sR1,\"Ann\nAbbot\",a@x,10,FALSE,,\nR2,Ben,b@x,1,maybe,,\n", hdr);
    s_expect_error(ok, csv, "reps.csv:4: out_of_office: expected TRUE or FALSE");
    snprintf(csv, sizeof csv, "%sR1,Ann,a@x,10,FALSE,2026-13-01,\n", hdr);
    s_expect_error(ok, csv, "reps.csv:2: ooo_start: expected a date");
    snprintf(csv, sizeof csv, "%sR1,Ann,a@x,10,FALSE,,R9\n", hdr);
    s_expect_error(ok, csv, "reps.csv:2: backup_rep_id: \"R9\" is not another rep");
    snprintf(csv, sizeof csv, "%sR1,Ann,a@x,10\n", hdr);
    s_expect_error(ok, csv, "reps.csv:2: expected 7 columns, found 4");
    snprintf(csv, sizeof csv, "%sR1,Ann,a@x,10,FALSE,,\nR1,Ann,a@x,10,FALSE,,\n", hdr);
    s_expect_error(ok, csv, "reps.csv:3: rep_id: duplicate rep id \"R1\" (first on line 2)");
    s_expect_error(ok, "name,email\nAnn,a@x\n", "reps.csv:1: rep_id: required column missing");
    s_expect_error(ok, "rep_id,name,email,timezone\nR1,Ann,a@x,Europe/Berlin\nR2,Ben,b@x,GMT +1\n",
                   "reps.csv:3: timezone: time zone \"GMT +1\": expected an IANA name");
    s_expect_error(ok, "rep_id,name,email,timezone\nR1,Ann,a@x,America/Nwe_York\n",
                   "reps.csv:2: timezone: time zone \"America/Nwe_York\": unknown time zone");

    snprintf(csv, sizeof csv, "%sR1,Ann,a@x,10,FALSE,,\n", hdr);
    s_expect_error("rules:\n  - name: x\n    team: [R1, R9]\n", csv,
                   "routing.yaml:3: rules[0].team[1]: unknown rep \"R9\"");
    s_expect_error("rules:\n  - name: x\n    when: {contry: [US]}\n    team: territory\n", csv,
                   "routing.yaml:3: rules[0].when.contry: unknown key 'contry'");
    s_expect_error("rules:\n  - name: x\n    when: {segment: [Huge]}\n    team: territory\n", csv,
                   "unknown segment \"Huge\"");
    s_expect_error("rules:\n  - name: x\n    team: territory\nsla:\n  deadline: soon\n", csv,
                   "routing.yaml:5: sla.deadline: expected a duration");
    s_expect_error("rules:\n  - name: x\n", csv, "rule \"x\" needs team: or queue:");
    s_expect_error("capacity: {window: fortnight}\nrules: []\n", csv,
                   "routing.yaml:1: capacity.window: expected week or a number of days");
}

static void test_bad_request_names_field(void **state)
{
    (void)state;
    ho_routing_t *r = s_load(s_rules, s_reps);
    ho_err_t err = {0};
    json_t *out = NULL;
    json_t *req = json_pack("{s:{s:s},s:I}", "lead", "email", "x@y.test", "as_of", (json_int_t)1);
    assert_int_equal(ho_routing_decide(r, NULL, NULL, req, &out, NULL, &err), HO_ERR_MISSING);
    assert_string_equal(err.field, "lead.lead_id");
    assert_null(out);
    json_decref(req);
    req = json_pack("{s:{s:I}}", "lead", "lead_id", (json_int_t)5);
    assert_int_equal(ho_routing_decide(r, NULL, NULL, req, &out, NULL, &err), HO_ERR_MISSING);
    assert_string_equal(err.field, "as_of");
    json_decref(req);
    ho_routing_destroy(&r);
}

static void test_duration_parse(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(ho_parse_duration_ms("1h30m", &ms), HO_OK);
    assert_int_equal(ms, 90 * 60000LL);
    assert_int_equal(ho_parse_duration_ms("2d", &ms), HO_OK);
    assert_int_equal(ms, 48 * HOUR);
    assert_int_not_equal(ho_parse_duration_ms("2 hours", &ms), HO_OK);
    assert_int_not_equal(ho_parse_duration_ms("", &ms), HO_OK);
    assert_int_not_equal(ho_parse_duration_ms("h", &ms), HO_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_country),
        cmocka_unit_test(test_rule_us_state),
        cmocka_unit_test(test_rule_region),
        cmocka_unit_test(test_rule_segment_band),
        cmocka_unit_test(test_rule_industry),
        cmocka_unit_test(test_rule_grade_and_quadrant),
        cmocka_unit_test(test_fallback_queue),
        cmocka_unit_test(test_ooo_dates_and_backup),
        cmocka_unit_test(test_round_robin_weights_10000),
        cmocka_unit_test(test_round_robin_weekly_caps_10000),
        cmocka_unit_test(test_daily_cap_and_overflow),
        cmocka_unit_test(test_rolling_window_days),
        cmocka_unit_test(test_daily_cap_counts_the_reps_local_day),
        cmocka_unit_test(test_weekly_cap_counts_the_reps_local_week),
        cmocka_unit_test(test_fairness_weights_caps_zones_10000),
        cmocka_unit_test(test_ooo_without_backup_and_inactive_skip),
        cmocka_unit_test(test_account_match),
        cmocka_unit_test(test_sla_due_per_segment),
        cmocka_unit_test(test_sla_breach_reassign_excludes_breachers),
        cmocka_unit_test(test_idempotent_by_event_id),
        cmocka_unit_test(test_state_survives_reopen),
        cmocka_unit_test(test_state_retention),
        cmocka_unit_test(test_reason_sentence_with_shipped_config),
        cmocka_unit_test(test_config_errors_name_file_line_key),
        cmocka_unit_test(test_bad_request_names_field),
        cmocka_unit_test(test_duration_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
