/* test_scoring.c - the scoring model (src/score/model.c): each fit test (regex, list, equals,
 * numeric bands, missing, several fields, groups, disqualify), interest rules by type, path,
 * url and campaign, decay arithmetic at chosen ages (half-life and percent per N days; the expected
 * values are worked out by hand in the comments), the window cut-off, caps per type per day
 * and per rule per day, floors and ceilings, negative rules, grade and quadrant boundaries on
 * and either side of each threshold, the MQL rule, bad model files (file, line and key), the
 * explanation listing exactly the rules that fired, and the shipped deploy/scoring.yaml. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "handoff/scoring.h"
#include "handoff/time.h"

#define DAY 86400000LL
#define HOUR 3600000LL
#define T0 1795165200000LL /* 2026-11-20T09:00:00Z */

static const char s_model_text[] =
    "version: \"t-1\"\n"
    "fit:\n"
    "  floor: -10\n"
    "  ceiling: 50\n"
    "  rules:\n"
    "    - {name: c_level, group: seniority, field: title, match: '\\b(chief|ceo|cto)\\b', "
    "points: 25}\n"
    "    - {name: vp, group: seniority, field: title, match: '\\b(vp|vice president)\\b', "
    "points: 20}\n"
    "    - {name: director, group: seniority, field: title, match: '\\bdirector\\b', points: "
    "15}\n"
    "    - {name: manager, group: seniority, field: title, match: '\\bmanager\\b', points: 8}\n"
    "    - {name: student, field: title, match: '\\b(student|intern)\\b', points: -25}\n"
    "    - {name: software, field: industry_group, in: [software, finance], points: 15}\n"
    "    - {name: nonprofit, field: industry_group, in: [nonprofit], points: -15}\n"
    "    - {name: region, field: country, in: [US, GB], points: 10}\n"
    "    - {name: big, group: size, field: employees, min: 1000, points: 20}\n"
    "    - {name: mid, group: size, field: employees, min: 200, max: 1000, points: 15}\n"
    "    - {name: rev, field: revenue, min: 10000000, points: 5}\n"
    "    - {name: stack, fields: [message, title], match: '\\b(kafka|snowflake)\\b', points: "
    "10}\n"
    "    - {name: personal, field: personal_email, equals: true, points: -20}\n"
    "    - {name: freemail, field: domain, in: [gmail.com, yahoo.com], points: -7}\n"
    "    - {name: no_company, field: company, missing: true, points: -5}\n"
    "    - {name: competitor, field: domain, in: [rival.example], points: -1, disqualify: "
    "true}\n"
    "interest:\n"
    "  floor: -30\n"
    "  ceiling: 60\n"
    "  window_days: 30\n"
    "  decay: {half_life_days: 10}\n"
    "  daily_caps: {email_open: 2}\n"
    "  rules:\n"
    "    - {name: pricing, group: page, type: page_view, path: '^/pricing', points: 10, "
    "max_per_day: 2}\n"
    "    - {name: careers, group: page, type: page_view, path: '^/careers', points: -5, decay: "
    "false}\n"
    "    - {name: any_page, group: page, type: page_view, points: 1}\n"
    "    - {name: demo, type: demo_request, points: 30}\n"
    "    - {name: complaint, type: form_submit, points: -5}\n"
    "    - {name: open, type: email_open, points: 1}\n"
    "    - {name: unsub, type: unsubscribe, points: -20, decay: false}\n"
    "    - {name: webinar, types: [webinar_attended], campaign: 'q4', points: 8}\n"
    "grades:\n"
    "  fit_bands: {A: 40, B: 25, C: 10}\n"
    "  interest_bands: {\"1\": 30, \"2\": 15, \"3\": 5}\n"
    "quadrants: {good_fit: 25, high_interest: 15}\n"
    "mql: {quadrants: [mql_now]}\n";

static ho_score_model_t *s_parse(const char *text)
{
    ho_err_t err = {0};
    ho_score_model_t *m = ho_score_model_parse(text, strlen(text), "test.yaml", &err);
    if (!m) {
        fail_msg("model: %s", err.message);
    }
    return m;
}

/* "rule:points,rule:points" in explanation order: the exact list of what fired. */
static const char *s_fired(const ho_score_result_t *r, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t i = 0; i < r->n_hits; i++) {
        size_t len = strlen(buf);
        snprintf(buf + len, cap - len, "%s%s:%lld", i ? "," : "", r->hits[i].rule,
                 r->hits[i].points);
    }
    return buf;
}

static json_t *s_lead(json_t *fields, json_t *acts)
{
    return json_pack("{s:i,s:s,s:s,s:n,s:o,s:o}", "lead_id", 7, "email", "pat@acme.test", "stage",
                     "ML", "owner", "fields", fields ? fields : json_object(), "activities",
                     acts ? acts : json_array());
}

static json_t *s_act(const char *type, const char *path, int64_t at)
{
    json_t *a = json_pack("{s:s,s:I}", "type", type, "occurred_at", (json_int_t)at);
    json_object_set_new(a, "path", path ? json_string(path) : json_null());
    return a;
}

/* Score and return the fired list; result left in *r for more checks. */
static const char *s_score(const ho_score_model_t *m, json_t *lead, int64_t as_of,
                           ho_score_result_t *r, char *buf, size_t cap)
{
    ho_err_t err = {0};
    int rc = ho_score_lead(m, lead, as_of, r, &err);
    json_decref(lead);
    if (rc != HO_OK) {
        fail_msg("score: %s", err.message);
    }
    return s_fired(r, buf, cap);
}

static void test_fit_rule_types_and_ceiling(void **state)
{
    (void)state;
    ho_score_model_t *m = s_parse(s_model_text);
    ho_score_result_t r;
    char buf[1024];
    /* vp 20 + software 15 (list, any case) + region 10 + big 20 + rev 5 + stack 10 (title
     * holds kafka) = 80, over the ceiling 50: the clamp takes 30 and is listed. */
    json_t *f =
        json_pack("{s:s,s:s,s:s,s:i,s:f,s:s,s:s,s:b}", "title", "VP Data, Kafka", "industry_group",
                  "Software", "country", "US", "employees", 5000, "revenue", 2e7, "company", "Acme",
                  "domain", "acme.com", "personal_email", 0);
    assert_string_equal(s_score(m, s_lead(f, NULL), T0, &r, buf, sizeof buf),
                        "vp:20,software:15,region:10,big:20,rev:5,stack:10,fit.ceiling:-30");
    assert_int_equal(r.fit, 50);
    assert_int_equal(r.interest, 0);
    assert_int_equal(r.score, 50);
    assert_non_null(strstr(r.hits[0].detail, "VP Data, Kafka"));
    ho_score_result_clear(&r);

    /* only the first rule of a group fires; \b keeps "International" from being an intern */
    f = json_pack("{s:s,s:s}", "title", "CEO and VP", "company", "Acme");
    assert_string_equal(s_score(m, s_lead(f, NULL), T0, &r, buf, sizeof buf), "c_level:25");
    ho_score_result_clear(&r);
    f = json_pack("{s:s,s:s}", "title", "International Sales Director", "company", "Acme");
    assert_string_equal(s_score(m, s_lead(f, NULL), T0, &r, buf, sizeof buf), "director:15");
    ho_score_result_clear(&r);
    f = json_pack("{s:s,s:s}", "title", "engineering MANAGER", "company", "Acme");
    assert_string_equal(s_score(m, s_lead(f, NULL), T0, &r, buf, sizeof buf), "manager:8");
    ho_score_result_clear(&r);
    /* several fields: any one matching fires the rule once */
    f = json_pack("{s:s,s:s,s:s}", "title", "Analyst", "message", "we load Snowflake nightly",
                  "company", "Acme");
    assert_string_equal(s_score(m, s_lead(f, NULL), T0, &r, buf, sizeof buf), "stack:10");
    ho_score_result_clear(&r);
    ho_score_model_destroy(&m);
    ho_score_model_destroy(&m); /* safe twice */
}

static void test_fit_bands_on_and_around_edges(void **state)
{
    (void)state;
    ho_score_model_t *m = s_parse(s_model_text);
    ho_score_result_t r;
    char buf[512];
    const struct {
        int employees;
        const char *fired;
    } cases[] = {
        {199, ""}, {200, "mid:15"}, {999, "mid:15"}, {1000, "big:20"}, {1001, "big:20"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *f = json_pack("{s:i,s:s}", "employees", cases[i].employees, "company", "Acme");
        assert_string_equal(s_score(m, s_lead(f, NULL), T0, &r, buf, sizeof buf), cases[i].fired);
        ho_score_result_clear(&r);
    }
    /* min is inclusive for reals too */
    json_t *f = json_pack("{s:f,s:s}", "revenue", 10000000.0, "company", "Acme");
    assert_string_equal(s_score(m, s_lead(f, NULL), T0, &r, buf, sizeof buf), "rev:5");
    ho_score_result_clear(&r);
    f = json_pack("{s:f,s:s}", "revenue", 9999999.99, "company", "Acme");
    assert_string_equal(s_score(m, s_lead(f, NULL), T0, &r, buf, sizeof buf), "");
    ho_score_result_clear(&r);
    ho_score_model_destroy(&m);
}

static void test_negative_fit_rules_and_floor(void **state)
{
    (void)state;
    ho_score_model_t *m = s_parse(s_model_text);
    ho_score_result_t r;
    char buf[512];
    /* -25 -15 -20 -7 -5 = -72, under the floor -10: the clamp adds 62 */
    json_t *f = json_pack("{s:s,s:s,s:b,s:s}", "title", "Student Intern", "industry_group",
                          "nonprofit", "personal_email", 1, "domain", "gmail.com");
    assert_string_equal(s_score(m, s_lead(f, NULL), T0, &r, buf, sizeof buf),
                        "student:-25,nonprofit:-15,personal:-20,freemail:-7,no_company:-5,"
                        "fit.floor:62");
    assert_int_equal(r.fit, -10);
    ho_score_result_clear(&r);
    /* an empty company is missing too; a present one is not */
    f = json_pack("{s:s}", "company", "");
    assert_string_equal(s_score(m, s_lead(f, NULL), T0, &r, buf, sizeof buf), "no_company:-5");
    ho_score_result_clear(&r);
    /* personal_email false does not fire equals: true */
    f = json_pack("{s:b,s:s}", "personal_email", 0, "company", "Acme");
    assert_string_equal(s_score(m, s_lead(f, NULL), T0, &r, buf, sizeof buf), "");
    ho_score_result_clear(&r);
    ho_score_model_destroy(&m);
}

static void test_disqualify_blocks_mql(void **state)
{
    (void)state;
    ho_score_model_t *m = s_parse(s_model_text);
    ho_score_result_t r;
    char buf[512];
    json_t *f = json_pack("{s:s,s:s,s:s,s:s}", "title", "CEO", "industry_group", "software",
                          "domain", "rival.example", "company", "Rival");
    json_t *acts = json_pack("[o]", s_act("demo_request", "/demo", T0));
    assert_string_equal(s_score(m, s_lead(f, acts), T0, &r, buf, sizeof buf),
                        "c_level:25,software:15,competitor:-1,demo:30");
    assert_int_equal(r.fit, 39);
    assert_int_equal(r.interest, 30);
    assert_string_equal(r.quadrant, "mql_now");
    assert_true(r.disqualified);
    assert_false(r.mql);
    ho_score_result_clear(&r);
    ho_score_model_destroy(&m);
}

static void test_half_life_decay_arithmetic(void **state)
{
    (void)state;
    ho_score_model_t *m = s_parse(s_model_text);
    ho_score_result_t r;
    char buf[1024];
    /* half-life 10 days, as of T0; the snapshot is newest first:
     *   pricing  10 at  5 d: 10 x 0.5^0.5 = 7.0711 -> 7
     *   demo     30 at 10 d: 30 x 0.5     = 15     -> 15
     *   any_page  1 at 10 d:  1 x 0.5     = 0.5    -> 1   (half away from zero)
     *   complaint -5 at 10 d: -5 x 0.5    = -2.5   -> -3  (half away from zero)
     *   careers  -5 at 19 d: no decay             -> -5
     *   open      1 at 20 d:  1 x 0.25    = 0.25   -> 0   (fired, worth nothing now)
     * listed oldest first (the order caps are counted in): sum 15 */
    json_t *acts = json_pack(
        "[oooooo]", s_act("page_view", "/pricing", T0 - 5 * DAY),
        s_act("demo_request", "/demo", T0 - 10 * DAY), s_act("page_view", "/blog/x", T0 - 10 * DAY),
        s_act("form_submit", "/contact", T0 - 10 * DAY),
        s_act("page_view", "/careers", T0 - 19 * DAY), s_act("email_open", NULL, T0 - 20 * DAY));
    json_t *f = json_pack("{s:s}", "company", "Acme");
    assert_string_equal(s_score(m, s_lead(f, acts), T0, &r, buf, sizeof buf),
                        "open:0,careers:-5,complaint:-3,any_page:1,demo:15,pricing:7");
    assert_int_equal(r.interest, 15);
    assert_int_equal(r.counted, 6);
    /* each decayed firing carries raw points, factor, exact value and age */
    const ho_score_hit_t *demo = &r.hits[4];
    assert_int_equal(demo->raw, 30);
    assert_true(fabs(demo->factor - 0.5) < 1e-12);
    assert_true(fabs(demo->value - 15.0) < 1e-9);
    assert_true(fabs(demo->age_days - 10.0) < 1e-12);
    assert_true(fabs(r.hits[5].value - 7.0710678) < 1e-6);
    assert_true(fabs(r.hits[0].factor - 0.25) < 1e-12);
    assert_non_null(strstr(r.hits[5].detail, "10 x 0.7071 = 7.07 -> 7"));
    assert_non_null(strstr(r.hits[1].detail, "no decay"));
    json_t *ex = ho_score_explanation_json(&r);
    json_t *e = json_array_get(ex, 4);
    assert_string_equal(json_string_value(json_object_get(e, "rule")), "demo");
    assert_string_equal(json_string_value(json_object_get(e, "kind")), "interest");
    assert_int_equal(json_integer_value(json_object_get(e, "points")), 15);
    assert_int_equal(json_integer_value(json_object_get(e, "raw")), 30);
    assert_true(fabs(json_real_value(json_object_get(e, "factor")) - 0.5) < 1e-9);
    assert_true(fabs(json_real_value(json_object_get(e, "age_days")) - 10.0) < 1e-9);
    assert_int_equal(json_integer_value(json_object_get(e, "occurred_at")), T0 - 10 * DAY);
    /* the points of the explanation add up to fit + interest */
    json_int_t total = 0;
    size_t i;
    json_t *x;
    json_array_foreach(ex, i, x)
    {
        total += json_integer_value(json_object_get(x, "points"));
    }
    assert_int_equal(total, r.score);
    json_decref(ex);
    ho_score_result_clear(&r);
    ho_score_model_destroy(&m);
}

static int s_interest_at(const ho_score_model_t *m, const char *type, int64_t age_ms)
{
    ho_score_result_t r;
    char buf[256];
    json_t *acts = json_pack("[o]", s_act(type, NULL, T0 - age_ms));
    s_score(m, s_lead(json_pack("{s:s}", "company", "Acme"), acts), T0, &r, buf, sizeof buf);
    int v = r.interest;
    ho_score_result_clear(&r);
    return v;
}

static void test_percent_per_n_days_decay(void **state)
{
    (void)state;
    /* 25 % off for every full 7 days: demo 30 ->
     *   6 d 23:59 -> 0 periods: 30
     *   7 d       -> 1 period : 30 x 0.75   = 22.5   -> 23
     *   13 d      -> 1 period : 22.5                 -> 23
     *   14 d      -> 2 periods: 30 x 0.5625 = 16.875 -> 17
     *   21 d      -> 3 periods: 30 x 0.421875 = 12.656 -> 13 */
    char text[sizeof s_model_text + 64];
    snprintf(text, sizeof text, "%s", s_model_text);
    char *d = strstr(text, "{half_life_days: 10}");
    assert_non_null(d);
    const char *step = "{percent: 25, every_days: 7}";
    memmove(d + strlen(step), d + strlen("{half_life_days: 10}"),
            strlen(d + strlen("{half_life_days: 10}")) + 1);
    memcpy(d, step, strlen(step));
    ho_score_model_t *m = s_parse(text);
    assert_int_equal(s_interest_at(m, "demo_request", 7 * DAY - 60000), 30);
    assert_int_equal(s_interest_at(m, "demo_request", 7 * DAY), 23);
    assert_int_equal(s_interest_at(m, "demo_request", 13 * DAY), 23);
    assert_int_equal(s_interest_at(m, "demo_request", 14 * DAY), 17);
    assert_int_equal(s_interest_at(m, "demo_request", 21 * DAY), 13);
    /* -5 (complaint) after one period: -3.75 -> -4 */
    assert_int_equal(s_interest_at(m, "form_submit", 8 * DAY), -4);
    ho_score_model_destroy(&m);
}

static void test_window_cut_off_and_future(void **state)
{
    (void)state;
    ho_score_model_t *m = s_parse(s_model_text);
    ho_score_result_t r;
    char buf[256];
    /* exactly 30 days old is inside the 30-day window: 30 x 0.5^3 = 3.75 -> 4 */
    assert_int_equal(s_interest_at(m, "demo_request", 30 * DAY), 4);
    /* one millisecond older is out; an activity after as_of is ignored too */
    json_t *acts = json_pack("[oo]", s_act("demo_request", NULL, T0 + 1),
                             s_act("demo_request", NULL, T0 - 30 * DAY - 1));
    assert_string_equal(
        s_score(m, s_lead(json_pack("{s:s}", "company", "A"), acts), T0, &r, buf, sizeof buf), "");
    assert_int_equal(r.interest, 0);
    assert_int_equal(r.out_of_window, 1);
    assert_int_equal(r.future, 1);
    assert_int_equal(r.counted, 0);
    assert_int_equal(r.activities, 2);
    ho_score_result_clear(&r);
    ho_score_model_destroy(&m);
}

static void test_caps_per_type_per_day_and_per_rule(void **state)
{
    (void)state;
    ho_score_model_t *m = s_parse(s_model_text);
    ho_score_result_t r;
    char buf[512];
    /* email_open capped at 2 per UTC day: 4 opens on 2026-11-19, 3 on 2026-11-20 (from 00:01)
     * -> the first two of each day count (each ~0.9 day old: 1 x 0.94 -> 1) */
    const int64_t d19 = T0 - 9 * HOUR; /* 2026-11-20T00:00Z */
    json_t *acts = json_pack(
        "[ooooooo]", s_act("email_open", NULL, d19 + 3 * 60000),
        s_act("email_open", NULL, d19 + 2 * 60000), s_act("email_open", NULL, d19 + 1 * 60000),
        s_act("email_open", NULL, d19 - 60000), s_act("email_open", NULL, d19 - 12 * HOUR),
        s_act("email_open", NULL, d19 - 13 * HOUR), s_act("email_open", NULL, d19 - 14 * HOUR));
    assert_string_equal(
        s_score(m, s_lead(json_pack("{s:s}", "company", "A"), acts), T0, &r, buf, sizeof buf),
        "open:1,open:1,open:1,open:1");
    assert_int_equal(r.capped, 3);
    assert_int_equal(r.counted, 4);
    assert_int_equal(r.hits[0].occurred_at, d19 - 14 * HOUR);
    assert_int_equal(r.hits[1].occurred_at, d19 - 13 * HOUR);
    assert_int_equal(r.hits[2].occurred_at, d19 + 1 * 60000);
    assert_int_equal(r.hits[3].occurred_at, d19 + 2 * 60000);
    ho_score_result_clear(&r);
    /* pricing fires at most twice a day; the third view does not fall through to any_page */
    acts = json_pack("[ooo]", s_act("page_view", "/pricing", T0 - 1 * HOUR),
                     s_act("page_view", "/pricing?plan=team", T0 - 2 * HOUR),
                     s_act("page_view", "/pricing", T0 - 3 * HOUR));
    assert_string_equal(
        s_score(m, s_lead(json_pack("{s:s}", "company", "A"), acts), T0, &r, buf, sizeof buf),
        "pricing:10,pricing:10");
    assert_int_equal(r.interest, 20);
    ho_score_result_clear(&r);
    ho_score_model_destroy(&m);
}

static void test_interest_floor_ceiling_negative_campaign(void **state)
{
    (void)state;
    ho_score_model_t *m = s_parse(s_model_text);
    ho_score_result_t r;
    char buf[512];
    /* two unsubscribes (no decay) -40 under the floor -30 */
    json_t *acts = json_pack("[oo]", s_act("unsubscribe", NULL, T0 - 40 * HOUR),
                             s_act("unsubscribe", NULL, T0 - 50 * HOUR));
    assert_string_equal(
        s_score(m, s_lead(json_pack("{s:s}", "company", "A"), acts), T0, &r, buf, sizeof buf),
        "unsub:-20,unsub:-20,interest.floor:10");
    assert_int_equal(r.interest, -30);
    ho_score_result_clear(&r);
    /* three fresh demo requests 90 over the ceiling 60 */
    acts = json_pack("[ooo]", s_act("demo_request", NULL, T0), s_act("demo_request", NULL, T0),
                     s_act("demo_request", NULL, T0));
    assert_string_equal(
        s_score(m, s_lead(json_pack("{s:s}", "company", "A"), acts), T0, &r, buf, sizeof buf),
        "demo:30,demo:30,demo:30,interest.ceiling:-30");
    assert_int_equal(r.interest, 60);
    ho_score_result_clear(&r);
    /* campaign pattern, case-insensitive */
    json_t *a1 = s_act("webinar_attended", NULL, T0), *a2 = s_act("webinar_attended", NULL, T0);
    json_object_set_new(a1, "campaign", json_string("Q4 Launch"));
    json_object_set_new(a2, "campaign", json_string("Q3 Launch"));
    acts = json_pack("[oo]", a1, a2);
    assert_string_equal(
        s_score(m, s_lead(json_pack("{s:s}", "company", "A"), acts), T0, &r, buf, sizeof buf),
        "webinar:8");
    ho_score_result_clear(&r);
    ho_score_model_destroy(&m);
}

static const char s_bands_text[] = "version: b-1\n"
                                   "fit:\n"
                                   "  rules:\n"
                                   "    - {name: f40, field: f40, equals: true, points: 40}\n"
                                   "    - {name: f25, field: f25, equals: true, points: 25}\n"
                                   "    - {name: f10, field: f10, equals: true, points: 10}\n"
                                   "    - {name: fplus, field: fplus, equals: true, points: 1}\n"
                                   "    - {name: fminus, field: fminus, equals: true, points: -1}\n"
                                   "interest:\n"
                                   "  rules:\n"
                                   "    - {name: i30, type: free_trial_signup, points: 30}\n"
                                   "    - {name: i15, type: demo_request, points: 15}\n"
                                   "    - {name: i5, type: content_download, points: 5}\n"
                                   "    - {name: iplus, type: email_click, points: 1}\n"
                                   "    - {name: iminus, type: email_open, points: -1}\n"
                                   "grades:\n"
                                   "  fit_bands: {A: 40, B: 25, C: 10}\n"
                                   "  interest_bands: {\"1\": 30, \"2\": 15, \"3\": 5}\n"
                                   "quadrants: {good_fit: 25, high_interest: 15}\n"
                                   "mql: %s\n";

/* A lead worth exactly fit = base + adj and interest = ibase + iadj (adj in -1, 0, 1). */
static json_t *s_band_lead(int base, int adj, int ibase, int iadj)
{
    json_t *f = json_object();
    if (base) {
        char key[8];
        snprintf(key, sizeof key, "f%d", base);
        json_object_set_new(f, key, json_true());
    }
    if (adj) {
        json_object_set_new(f, adj > 0 ? "fplus" : "fminus", json_true());
    }
    json_t *acts = json_array();
    const char *type = ibase == 30   ? "free_trial_signup"
                       : ibase == 15 ? "demo_request"
                                     : "content_download";
    if (ibase) {
        json_array_append_new(acts, s_act(type, NULL, T0));
    }
    if (iadj) {
        json_array_append_new(acts, s_act(iadj > 0 ? "email_click" : "email_open", NULL, T0));
    }
    return s_lead(f, acts);
}

static void test_grade_and_quadrant_boundaries(void **state)
{
    (void)state;
    char text[2048];
    snprintf(text, sizeof text, s_bands_text, "{quadrants: [mql_now]}");
    ho_score_model_t *m = s_parse(text);
    const struct {
        int base, adj, ibase, iadj, fit, interest;
        const char *grade, *quadrant;
        bool mql;
    } cases[] = {
        {10, -1, 5, -1, 9, 4, "D4", "never", false},
        {10, 0, 5, 0, 10, 5, "C3", "never", false},
        {10, 1, 5, 1, 11, 6, "C3", "never", false},
        {25, -1, 15, -1, 24, 14, "C3", "never", false},
        {25, 0, 15, -1, 25, 14, "B3", "nurture", false},
        {25, -1, 15, 0, 24, 15, "C2", "group_offering", false},
        {25, 0, 15, 0, 25, 15, "B2", "mql_now", true},
        {25, 1, 15, 1, 26, 16, "B2", "mql_now", true},
        {40, -1, 30, -1, 39, 29, "B2", "mql_now", true},
        {40, 0, 30, 0, 40, 30, "A1", "mql_now", true},
        {40, 1, 30, 1, 41, 31, "A1", "mql_now", true},
        {40, 1, 5, -1, 41, 4, "A4", "nurture", false},
        {10, -1, 30, 1, 9, 31, "D1", "group_offering", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ho_score_result_t r;
        char buf[256];
        s_score(m, s_band_lead(cases[i].base, cases[i].adj, cases[i].ibase, cases[i].iadj), T0, &r,
                buf, sizeof buf);
        assert_int_equal(r.fit, cases[i].fit);
        assert_int_equal(r.interest, cases[i].interest);
        assert_string_equal(r.grade, cases[i].grade);
        assert_string_equal(r.quadrant, cases[i].quadrant);
        assert_int_equal(r.mql, cases[i].mql);
        ho_score_result_clear(&r);
    }
    ho_score_model_destroy(&m);
}

static void test_mql_rule_by_thresholds(void **state)
{
    (void)state;
    char text[2048];
    snprintf(text, sizeof text, s_bands_text, "{min_fit: 25, min_score: 40}");
    ho_score_model_t *m = s_parse(text);
    const struct {
        int base, adj, ibase, iadj;
        bool mql;
    } cases[] = {
        {25, 0, 15, 0, true},   /* 25 + 15 = 40 */
        {25, -1, 15, 1, false}, /* fit 24 */
        {25, 0, 15, -1, false}, /* score 39 */
        {25, 1, 15, -1, true},  /* 26 + 14 = 40: nurture quadrant, still MQL by this rule */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ho_score_result_t r;
        char buf[256];
        s_score(m, s_band_lead(cases[i].base, cases[i].adj, cases[i].ibase, cases[i].iadj), T0, &r,
                buf, sizeof buf);
        assert_int_equal(r.mql, cases[i].mql);
        ho_score_result_clear(&r);
    }
    ho_score_model_destroy(&m);
}

/* ---- bad model files ---- */
static const char *const s_base_lines[] = {
    "version: \"x-1\"",                                    /* 1 */
    "fit:",                                                /* 2 */
    "  rules:",                                            /* 3 */
    "    - name: a",                                       /* 4 */
    "      field: title",                                  /* 5 */
    "      match: 'vp'",                                   /* 6 */
    "      points: 5",                                     /* 7 */
    "interest:",                                           /* 8 */
    "  rules:",                                            /* 9 */
    "    - name: b",                                       /* 10 */
    "      type: demo_request",                            /* 11 */
    "      points: 10",                                    /* 12 */
    "grades:",                                             /* 13 */
    "  fit_bands: {A: 30, B: 20, C: 10}",                  /* 14 */
    "  interest_bands: {\"1\": 30, \"2\": 20, \"3\": 10}", /* 15 */
    "quadrants: {good_fit: 20, high_interest: 20}",        /* 16 */
    "mql: {quadrants: [mql_now]}",                         /* 17 */
};

/* Write the base model with line `line` replaced by `with` (NULL: dropped) and load it. */
static ho_score_model_t *s_load_variant(int line, const char *with, ho_err_t *err, char *path,
                                        size_t cap)
{
    char dir[] = "/tmp/ho-scoring-XXXXXX";
    assert_non_null(mkdtemp(dir));
    snprintf(path, cap, "%s/bad.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 1; i <= (int)(sizeof s_base_lines / sizeof s_base_lines[0]); i++) {
        if (i != line) {
            fprintf(f, "%s\n", s_base_lines[i - 1]);
        } else if (with) {
            fprintf(f, "%s\n", with);
        }
    }
    fclose(f);
    ho_score_model_t *m = ho_score_model_load(dir, "bad.yaml", err);
    unlink(path);
    rmdir(dir);
    return m;
}

static void s_expect_error(int line, const char *with, const char *expect)
{
    ho_err_t err = {0};
    char path[128], want[512];
    ho_score_model_t *m = s_load_variant(line, with, &err, path, sizeof path);
    assert_null(m);
    assert_int_equal(err.code, HO_ERR_CONFIG);
    snprintf(want, sizeof want, "%s:%s", path, expect);
    if (!strstr(err.message, want)) {
        fail_msg("expected \"%s\" in \"%s\"", want, err.message);
    }
}

static void test_bad_model_files_name_file_line_key(void **state)
{
    (void)state;
    ho_err_t err = {0};
    char path[128];
    /* the base itself is good */
    ho_score_model_t *m = s_load_variant(0, NULL, &err, path, sizeof path);
    if (!m) {
        fail_msg("%s", err.message);
    }
    assert_string_equal(ho_score_model_version(m), "x-1");
    ho_score_model_destroy(&m);

    s_expect_error(7, "      points: 5\n      colour: red",
                   "8: fit.rules[0].colour: unknown key 'colour'");
    s_expect_error(6, "      match: '([a-z'", "6: fit.rules[0].match: bad regular expression");
    s_expect_error(7, "      points: ten", "7: fit.rules[0].points: expected an integer");
    s_expect_error(7, "      points: [1, 2]", "7: fit.rules[0].points: expected a single value");
    m = s_load_variant(6, "      match: '^[[:alpha:]]{2,8}[]x-]+(\\\\.|[^)(]){0,50}(a|b)+$'", &err,
                       path, sizeof path);
    if (!m) {
        fail_msg("%s", err.message);
    }
    ho_score_model_destroy(&m);
    s_expect_error(1, NULL, "1: (root): missing required key 'version'");
    s_expect_error(1, "version: \"x-1\"\ncolor: blue", "2: color: unknown key 'color'");
    s_expect_error(11, "      type: page_veiw",
                   "11: interest.rules[0].type: unknown activity type 'page_veiw'");
    s_expect_error(14, "  fit_bands: {A: 30, B: 40, C: 10}",
                   "14: grades.fit_bands.B: band B must be below band A");
    s_expect_error(8, "interest:\n  decay: {half_life_days: 10, percent: 5, every_days: 7}",
                   "9: interest.decay: give half_life_days or percent + every_days");
    s_expect_error(8, "interest:\n  decay: {percent: 5}",
                   "9: interest.decay: missing required key 'every_days'");
    s_expect_error(8, "interest:\n  daily_caps: {page_views: 3}",
                   "9: interest.daily_caps.page_views: unknown activity type 'page_views'");
    s_expect_error(6, "      match: 'vp'\n      in: [x]",
                   "4: fit.rules[0]: a fit rule needs exactly one test");
    s_expect_error(17, "mql: {quadrants: [mql_later]}",
                   "17: mql.quadrants[0]: unknown quadrant 'mql_later'");
    s_expect_error(10, "    - name: a", "10: interest.rules[0].name: duplicate rule name 'a'");
    s_expect_error(2, "fit:\n  floor: -2000000000", "3: fit.floor: out of range");
    s_expect_error(6, "      match: 'trainee++++++++++++++++++++++++++++++++++++++++'",
                   "6: fit.rules[0].match: regular expression too complex");
    s_expect_error(6, "      match: '(a{200}){200}'",
                   "6: fit.rules[0].match: regular expression too complex");
    s_expect_error(6,
                   "      match: '((((((((((((((((((((x+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)'",
                   "6: fit.rules[0].match: regular expression too complex");
    /* a repeated group that can match nothing: regcomp takes time cubic in the copies (the
     * first took 29 s; fuzz_scoring found the kind) */
    s_expect_error(6, "      match: '(()*){0,1000}'",
                   "6: fit.rules[0].match: regular expression too complex");
    s_expect_error(6, "      match: '((a?)*){0,400}'",
                   "6: fit.rules[0].match: regular expression too complex");
    s_expect_error(6, "      match: '(vp|)+'",
                   "6: fit.rules[0].match: regular expression too complex");
    s_expect_error(6, "      match: '(a?){0,}'",
                   "6: fit.rules[0].match: regular expression too complex");
    /* ... while optional and anchored groups, and repeated ones that need a character, load */
    m = s_load_variant(6, "      match: '(^|/)(vp|svp)?(\\s*,\\s*)*x{0,1000}(ab){0,500}(a?)?$'",
                       &err, path, sizeof path);
    if (!m) {
        fail_msg("%s", err.message);
    }
    ho_score_model_destroy(&m);
    s_expect_error(8, "interest:\n  window_days: -1",
                   "9: interest.window_days: window_days must be 0 (no window) to 36500");
}

static void test_bad_snapshot_names_the_field(void **state)
{
    (void)state;
    ho_score_model_t *m = s_parse(s_model_text);
    ho_score_result_t r;
    ho_err_t err = {0};
    json_t *lead = json_pack("{s:i,s:s}", "lead_id", 1, "activities", "none");
    assert_int_equal(ho_score_lead(m, lead, T0, &r, &err), HO_ERR_FIELD);
    assert_string_equal(err.field, "lead.activities");
    ho_score_result_clear(&r);
    json_decref(lead);
    json_t *acts = json_pack("[o{s:s}]", s_act("email_open", NULL, T0), "type", "page_view");
    lead = s_lead(NULL, acts);
    assert_int_equal(ho_score_lead(m, lead, T0, &r, &err), HO_ERR_MISSING);
    assert_string_equal(err.field, "lead.activities[1].occurred_at");
    ho_score_result_clear(&r);
    json_decref(lead);
    ho_score_model_destroy(&m);
}

static void test_details_stay_valid_utf8(void **state)
{
    (void)state;
    ho_score_model_t *m = s_parse(s_model_text);
    ho_score_result_t r;
    char buf[512];
    /* the title is cut in the detail at 60 bytes, inside a two-byte "e" with acute accent;
     * a long path with three-byte characters is cut too: every detail must stay valid UTF-8 */
    char title[128], path[256];
    snprintf(title, sizeof title, "%s",
             "VP of Data and Analytics, Pipelines and Platform Group Ref É"
             "gion Europe");
    assert_int_equal((unsigned char)title[59], 0xC3);
    strcpy(path, "/pricing/");
    for (int i = 0; i < 40; i++) {
        strcat(path, "\xe2\x82\xac"); /* the euro sign */
    }
    json_t *f = json_pack("{s:s,s:s}", "title", title, "company", "Acme");
    json_t *acts = json_pack("[o]", s_act("page_view", path, T0 - DAY));
    assert_string_equal(s_score(m, s_lead(f, acts), T0, &r, buf, sizeof buf), "vp:20,pricing:9");
    for (size_t i = 0; i < r.n_hits; i++) {
        json_t *d = json_string(r.hits[i].detail);
        if (!d) {
            fail_msg("detail %zu is not valid UTF-8: %s", i, r.hits[i].detail);
        }
        json_decref(d);
    }
    assert_non_null(strstr(r.hits[0].detail, "\"VP of Data and Analytics, Pipelines and Platform "
                                             "Group Ref ...\""));
    json_t *ex = ho_score_explanation_json(&r);
    assert_non_null(ex);
    assert_int_equal(json_array_size(ex), 2);
    json_decref(ex);
    ho_score_result_clear(&r);
    ho_score_model_destroy(&m);
}

static void test_big_sums_do_not_overflow(void **state)
{
    (void)state;
    /* 10000 activities x two rules of 100000 points = 2e9, beyond an int: summed in 64 bits
     * and clamped to the ceiling 1e9; the clamp entry takes 1e9 */
    ho_score_model_t *m = s_parse("version: big\n"
                                  "fit:\n  rules: []\n"
                                  "interest:\n  ceiling: 1000000000\n  rules:\n"
                                  "    - {name: d1, type: demo_request, points: 100000}\n"
                                  "    - {name: d2, type: demo_request, points: 100000}\n"
                                  "grades:\n  fit_bands: {A: 3, B: 2, C: 1}\n"
                                  "  interest_bands: {\"1\": 3, \"2\": 2, \"3\": 1}\n"
                                  "quadrants: {good_fit: 1, high_interest: 1}\n"
                                  "mql: {min_score: 1}\n");
    json_t *acts = json_array();
    for (int i = 0; i < 10000; i++) {
        json_array_append_new(acts, s_act("demo_request", NULL, T0 - i));
    }
    ho_score_result_t r;
    ho_err_t err = {0};
    json_t *lead = s_lead(NULL, acts);
    assert_int_equal(ho_score_lead(m, lead, T0, &r, &err), HO_OK);
    assert_int_equal(r.interest, 1000000000);
    assert_int_equal(r.n_hits, 20001);
    assert_string_equal(r.hits[20000].rule, "interest.ceiling");
    assert_true(r.hits[20000].points == -1000000000LL);
    ho_score_result_clear(&r);
    /* one more activity is refused, naming the field */
    json_array_append_new(json_object_get(lead, "activities"), s_act("email_open", NULL, T0));
    assert_int_equal(ho_score_lead(m, lead, T0, &r, &err), HO_ERR_TOO_LARGE);
    assert_string_equal(err.field, "lead.activities");
    ho_score_result_clear(&r);
    json_decref(lead);
    /* a time before 1970 is a bad field, not an overflow */
    lead = s_lead(NULL, json_pack("[o]", s_act("demo_request", NULL, INT64_MIN)));
    assert_int_equal(ho_score_lead(m, lead, T0, &r, &err), HO_ERR_FIELD);
    assert_string_equal(err.field, "lead.activities[0].occurred_at");
    ho_score_result_clear(&r);
    json_decref(lead);
    ho_score_model_destroy(&m);
}

static void test_shipped_model(void **state)
{
    (void)state;
    ho_err_t err = {0};
    ho_score_model_t *m = ho_score_model_load(NULL, "scoring.yaml", &err);
    if (!m) {
        fail_msg("built-in scoring.yaml: %s", err.message);
    }
    assert_string_equal(ho_score_model_version(m), "2026.11-1");
    assert_string_equal(ho_score_model_name(m), "(built-in)/scoring.yaml");
    assert_int_equal(ho_score_model_window_ms(m), 90 * DAY);
    ho_score_result_t r;
    char buf[1024];
    /* title_vp 20 + title_data_function 10 + industry_core 15 + region_core 10 +
     * employees_enterprise 20 = 75 (A); demo 30 x 0.5^(1/30) = 29.31 -> 29, pricing
     * 10 x 0.5^(2/30) = 9.55 -> 10: interest 39 (band 2) */
    json_t *f = json_pack("{s:s,s:s,s:s,s:i,s:s,s:s,s:b}", "title", "VP Engineering",
                          "industry_group", "software", "country", "US", "employees", 5000,
                          "company", "Acme", "domain", "acme.example", "personal_email", 0);
    json_t *acts = json_pack("[oo]", s_act("demo_request", "/demo", T0 - DAY),
                             s_act("page_view", "/pricing", T0 - 2 * DAY));
    assert_string_equal(s_score(m, s_lead(f, acts), T0, &r, buf, sizeof buf),
                        "title_vp:20,title_data_function:10,industry_core:15,region_core:10,"
                        "employees_enterprise:20,pricing_page:10,demo_request:29");
    assert_string_equal(r.grade, "A2");
    assert_string_equal(r.quadrant, "mql_now");
    assert_true(r.mql);
    ho_score_result_clear(&r);
    /* a student on gmail: never */
    f = json_pack("{s:s,s:s,s:b}", "title", "Graduate Student", "domain", "gmail.com",
                  "personal_email", 1);
    acts = json_pack("[o]", s_act("page_view", "/careers", T0 - DAY));
    assert_string_equal(s_score(m, s_lead(f, acts), T0, &r, buf, sizeof buf),
                        "title_student_intern:-25,personal_email:-20,no_company:-5,"
                        "fit.floor:50,careers_page:-5,interest.floor:5");
    assert_string_equal(r.grade, "D4");
    assert_string_equal(r.quadrant, "never");
    assert_false(r.mql);
    ho_score_result_clear(&r);
    ho_score_model_destroy(&m);
    /* the file in the tree is the same model */
    const char *src = getenv("HO_SOURCE_DIR");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/deploy", src ? src : ".");
    m = ho_score_model_load(dir, "scoring.yaml", &err);
    if (!m) {
        fail_msg("deploy/scoring.yaml: %s", err.message);
    }
    assert_string_equal(ho_score_model_version(m), "2026.11-1");
    ho_score_model_destroy(&m);
}

static void test_rounding_and_time_parsing(void **state)
{
    (void)state;
    assert_int_equal(ho_score_round(2.5), 3);
    assert_int_equal(ho_score_round(-2.5), -3);
    assert_int_equal(ho_score_round(2.49), 2);
    assert_int_equal(ho_score_round(-2.49), -2);
    assert_int_equal(ho_score_round(0.0), 0);
    int64_t t;
    assert_int_equal(ho_time_parse("2026-11-20", &t), HO_OK);
    assert_int_equal(t, T0 - 9 * HOUR);
    assert_int_equal(ho_time_parse("2026-11-20T09:00", &t), HO_OK);
    assert_int_equal(t, T0);
    assert_int_equal(ho_time_parse("2026-11-20T09:00:00Z", &t), HO_OK);
    assert_int_equal(t, T0);
    assert_int_equal(ho_time_parse("1795165200000", &t), HO_OK);
    assert_int_equal(t, T0);
    assert_int_not_equal(ho_time_parse("2026-13-01", &t), HO_OK);
    assert_int_not_equal(ho_time_parse("2026-02-30", &t), HO_OK);
    assert_int_equal(ho_time_parse("2028-02-29", &t), HO_OK);
    assert_int_not_equal(ho_time_parse("yesterday", &t), HO_OK);
    assert_int_not_equal(ho_time_parse("2026-11-20T09", &t), HO_OK);
}

/* The rule tests the other cases leave out: an interest rule on the full URL (query string
 * included, which `path` never sees), a band with only a maximum (exclusive), `equals` on a
 * number and on text (case-insensitive), a number given as text, a field taken from the lead
 * itself (email) when `fields` does not hold it, and what each firing's detail says. */
static void test_url_rules_and_remaining_fit_tests(void **state)
{
    (void)state;
    ho_score_model_t *m =
        s_parse("version: r-1\n"
                "fit:\n  rules:\n"
                "    - {name: micro, field: employees, max: 10, points: -10}\n"
                "    - {name: eq_num, field: employees, equals: 5, points: 1}\n"
                "    - {name: eq_text, field: lead_status, equals: Working, points: 2}\n"
                "    - {name: mail, field: email, match: '@acme\\.test$', points: 3}\n"
                "interest:\n  rules:\n"
                "    - {name: team_plan, type: page_view, url: 'plan=team', points: 7}\n"
                "    - {name: any_view, type: page_view, points: 1}\n"
                "grades:\n  fit_bands: {A: 3, B: 2, C: 1}\n"
                "  interest_bands: {\"1\": 3, \"2\": 2, \"3\": 1}\n"
                "quadrants: {good_fit: 1, high_interest: 1}\n"
                "mql: {min_score: 1}\n");
    ho_score_result_t r;
    char buf[512];
    /* 5 employees: under max 10 and equal to 5; "working" equals Working; email from the
     * lead: -10 + 1 + 2 + 3 */
    json_t *f = json_pack("{s:i,s:s}", "employees", 5, "lead_status", "working");
    assert_string_equal(s_score(m, s_lead(f, NULL), T0, &r, buf, sizeof buf),
                        "micro:-10,eq_num:1,eq_text:2,mail:3");
    assert_int_equal(r.fit, -4);
    assert_non_null(strstr(r.hits[3].detail, "pat@acme.test"));
    ho_score_result_clear(&r);
    /* max is exclusive; a count given as text is a number */
    f = json_pack("{s:s}", "employees", "10");
    assert_string_equal(s_score(m, s_lead(f, NULL), T0, &r, buf, sizeof buf), "mail:3");
    ho_score_result_clear(&r);
    f = json_pack("{s:s}", "employees", "9");
    assert_string_equal(s_score(m, s_lead(f, NULL), T0, &r, buf, sizeof buf), "micro:-10,mail:3");
    ho_score_result_clear(&r);
    /* url sees the query string; path alone does not; rules without a group both fire;
     * no decay section: points never fade; listed oldest first */
    json_t *a1 = s_act("page_view", "/pricing", T0 - 3 * HOUR);
    json_object_set_new(a1, "url", json_string("https://www.example.com/pricing?plan=team"));
    json_t *a2 = s_act("page_view", "/pricing", T0 - 2 * HOUR);
    json_object_set_new(a2, "url", json_string("https://www.example.com/pricing?plan=free"));
    json_t *a3 = s_act("page_view", "/pricing?plan=team", T0 - HOUR); /* no url: no match */
    assert_string_equal(
        s_score(m, s_lead(NULL, json_pack("[ooo]", a1, a2, a3)), T0, &r, buf, sizeof buf),
        "mail:3,team_plan:7,any_view:1,any_view:1,any_view:1");
    assert_int_equal(r.interest, 10);
    assert_non_null(strstr(r.hits[1].detail, "page_view"));
    ho_score_result_clear(&r);
    ho_score_model_destroy(&m);
}

/* The worker's explanation is compact: one entry per rule (rule id and numbers), firings of
 * one rule added up, the points still adding up to the totals; rendered to text on demand. */
static void test_compact_explanation(void **state)
{
    (void)state;
    ho_score_model_t *m = s_parse(s_model_text);
    ho_score_result_t r;
    ho_err_t err = {0};
    /* pricing twice on one day (7 and 8 after decay), demo once, and a VP title */
    json_t *acts = json_pack("[ooo]", s_act("page_view", "/pricing", T0 - 5 * DAY),
                             s_act("page_view", "/pricing/team", T0 - 4 * DAY - HOUR),
                             s_act("demo_request", "/demo", T0 - 10 * DAY));
    json_t *lead = s_lead(json_pack("{s:s,s:s}", "title", "VP Data", "company", "Acme"), acts);
    assert_int_equal(ho_score_lead_opt(m, lead, T0, 0, &r, &err), HO_OK);
    json_t *ex = ho_score_explanation_compact(&r);
    char *text = json_dumps(ex, JSON_COMPACT);
    assert_string_equal(text, "[{\"rule\":\"vp\",\"points\":20},"
                              "{\"rule\":\"demo\",\"points\":15,\"n\":1,\"raw\":30,"
                              "\"last\":1794301200000},"
                              "{\"rule\":\"pricing\",\"points\":15,\"n\":2,\"raw\":10,"
                              "\"last\":1794816000000}]");
    free(text);
    assert_int_equal(r.fit + r.interest, 20 + 15 + 15);
    char line[300];
    assert_string_equal(ho_score_explain_entry(json_array_get(ex, 0), T0, line, sizeof line),
                        "fit        +20  vp");
    assert_string_equal(ho_score_explain_entry(json_array_get(ex, 2), T0, line, sizeof line),
                        "interest   +15  pricing: 2 x 10 points, decayed (newest "
                        "2026-11-16T08:00Z, 4.0 d before the score)");
    /* the long form of older rows still renders */
    json_t *old = json_pack("{s:s,s:s,s:i,s:s}", "rule", "vp", "kind", "fit", "points", 20,
                            "detail", "title \"VP Data\" matches");
    assert_string_equal(ho_score_explain_entry(old, T0, line, sizeof line),
                        "fit        +20  vp: title \"VP Data\" matches");
    json_decref(old);
    json_decref(ex);
    ho_score_result_clear(&r);
    json_decref(lead);
    ho_score_model_destroy(&m);
}

/* Without texts the scorer gives the same hits and numbers as with them, also where the
 * memoized regular-expression results are reused: the same texts again, and a second model
 * whose patterns differ (loaded after the first is freed, maybe at the same address). */
static void test_fast_path_same_numbers(void **state)
{
    (void)state;
    static const char *const titles[] = {"VP Data", "Chief of Kafka",       "Director", "Student",
                                         "",        "manager of snowflake", "VP Data"};
    for (int round = 0; round < 2; round++) {
        ho_score_model_t *m =
            round == 0 ? s_parse(s_model_text) : ho_score_model_load(NULL, "scoring.yaml", NULL);
        assert_non_null(m);
        for (size_t t = 0; t < sizeof titles / sizeof titles[0]; t++) {
            json_t *acts = json_pack("[ooo]", s_act("page_view", "/pricing", T0 - 5 * DAY),
                                     s_act("page_view", "/careers", T0 - 3 * DAY),
                                     s_act("email_open", NULL, T0 - DAY));
            json_t *lead = s_lead(json_pack("{s:s}", "title", titles[t]), acts);
            ho_score_result_t a, b;
            ho_err_t err = {0};
            assert_int_equal(ho_score_lead(m, lead, T0, &a, &err), HO_OK);
            assert_int_equal(ho_score_lead_opt(m, lead, T0, 0, &b, &err), HO_OK);
            assert_int_equal(a.n_hits, b.n_hits);
            assert_int_equal(a.score, b.score);
            assert_string_equal(a.grade, b.grade);
            for (size_t i = 0; i < a.n_hits; i++) {
                assert_string_equal(a.hits[i].rule, b.hits[i].rule);
                assert_int_equal(a.hits[i].points, b.hits[i].points);
                assert_string_equal(b.hits[i].detail, "");
            }
            ho_score_result_clear(&a);
            ho_score_result_clear(&b);
            json_decref(lead);
        }
        ho_score_model_destroy(&m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_rule_types_and_ceiling),
        cmocka_unit_test(test_fit_bands_on_and_around_edges),
        cmocka_unit_test(test_negative_fit_rules_and_floor),
        cmocka_unit_test(test_disqualify_blocks_mql),
        cmocka_unit_test(test_half_life_decay_arithmetic),
        cmocka_unit_test(test_percent_per_n_days_decay),
        cmocka_unit_test(test_window_cut_off_and_future),
        cmocka_unit_test(test_caps_per_type_per_day_and_per_rule),
        cmocka_unit_test(test_interest_floor_ceiling_negative_campaign),
        cmocka_unit_test(test_grade_and_quadrant_boundaries),
        cmocka_unit_test(test_mql_rule_by_thresholds),
        cmocka_unit_test(test_bad_model_files_name_file_line_key),
        cmocka_unit_test(test_bad_snapshot_names_the_field),
        cmocka_unit_test(test_details_stay_valid_utf8),
        cmocka_unit_test(test_big_sums_do_not_overflow),
        cmocka_unit_test(test_shipped_model),
        cmocka_unit_test(test_compact_explanation),
        cmocka_unit_test(test_fast_path_same_numbers),
        cmocka_unit_test(test_rounding_and_time_parsing),
        cmocka_unit_test(test_url_rules_and_remaining_fit_tests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
