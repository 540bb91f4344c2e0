/* test_report_worker.c - the `report` worker driven in-process (ho_worker_call) against a
 * real store database: report.request -> a workbook on disk + report.ready; bad requests go
 * to quarantine; the weekly schedule emits one report.request per week boundary and
 * remembers it across restarts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "handoff/report.h"
#include "handoff/store.h"
#include "handoff/worker.h"

extern const ho_worker_def_t ho_worker_report;

static char s_dir[256];

static int64_t s_utc_ms(int y, int mo, int d, int h)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    return (int64_t)timegm(&tm) * 1000;
}

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/ho-report-worker-XXXXXX");
    if (!mkdtemp(s_dir)) {
        return -1;
    }
    /* A store database with three leads created in 2026-W47 (UTC), one of them an MQL. */
    char db[300];
    snprintf(db, sizeof db, "%s/handoff.db", s_dir);
    ho_err_t err;
    ho_store_t *s = ho_store_open(db, &err);
    if (!s) {
        return -1;
    }
    ho_store_destroy(&s);
    sqlite3 *h;
    if (sqlite3_open(db, &h) != SQLITE_OK) {
        return -1;
    }
    char sql[2048];
    int64_t t = s_utc_ms(2026, 11, 17, 10);
    snprintf(sql, sizeof sql,
             "INSERT INTO leads (id, email, created_at, updated_at) VALUES"
             " (1, 'a@x.com', %lld, %lld), (2, 'b@x.com', %lld, %lld), (3, 'c@x.com', %lld, %lld);"
             "INSERT INTO stage_history (lead_id, from_stage, to_stage, at, actor)"
             " VALUES (1, 'ML', 'MQL', %lld, 'score');",
             (long long)t, (long long)t, (long long)t, (long long)t, (long long)t, (long long)t,
             (long long)t + 3600000);
    int rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
    sqlite3_close(h);
    return rc == SQLITE_OK ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void *s_start(const char *yaml)
{
    ho_err_t err;
    ho_conf_t *conf = ho_conf_parse(yaml, strlen(yaml), "test.yaml", &err);
    assert_non_null(conf);
    ho_worker_env_t env = {.name = "report",
                           .data_dir = s_dir,
                           .config_dir = NULL,
                           .conf = conf,
                           .settings = ho_conf_root(conf),
                           .origin = "test"};
    void *ctx = NULL;
    int rc = ho_worker_report.cb_init(&env, &ctx, &err);
    ho_conf_destroy(&conf);
    if (rc != HO_OK) {
        fail_msg("init: %s", err.message);
    }
    return ctx;
}

static ho_out_t *s_call(void *ctx, const char *type, json_t *payload)
{
    ho_msg_t *m = ho_msg_new(type);
    ho_msg_set_payload(m, payload);
    ho_out_t *out = ho_out_new("test");
    assert_int_equal(ho_worker_call(&ho_worker_report, ctx, &m, 1, out), HO_WORKER_OK);
    ho_msg_destroy(&m);
    return out;
}

static void test_request_writes_workbook_and_ready(void **state)
{
    (void)state;
    void *ctx = s_start("timezone: UTC\n");
    ho_out_t *out = s_call(ctx, "report.request",
                           json_pack("{s:s, s:I}", "week", "2026-W47", "now", (json_int_t)42));
    assert_int_equal(ho_out_count(out), 1);
    ho_msg_t *ready = ho_out_at(out, 0);
    assert_string_equal(ho_msg_type(ready), "report.ready");
    json_t *p = ho_msg_payload(ready);
    assert_string_equal(json_string_value(json_object_get(p, "week")), "2026-W47");
    assert_int_equal(json_integer_value(json_object_get(p, "leads")), 3);
    assert_int_equal(json_integer_value(json_object_get(p, "generated_at")), 42);
    assert_int_equal(json_array_size(json_object_get(p, "sheets")), HO_REPORT_SHEETS);
    assert_string_equal(json_string_value(json_array_get(json_object_get(p, "sheets"), 3)),
                        "Lost reasons");
    char want[400];
    snprintf(want, sizeof want, "%s/reports/handoff-2026-W47.xlsx", s_dir);
    assert_string_equal(json_string_value(json_object_get(p, "path")), want);
    struct stat st;
    assert_int_equal(stat(want, &st), 0);
    assert_true(st.st_size > 5000);
    ho_out_destroy(&out);

    /* in Tokyo (UTC+9) the week starts 9 hours earlier: same leads; an explicit output */
    out = s_call(ctx, "report.request",
                 json_pack("{s:s, s:s, s:s}", "week", "2026-W47", "timezone", "Asia/Tokyo",
                           "output", "tokyo.xlsx"));
    assert_int_equal(ho_out_count(out), 1);
    p = ho_msg_payload(ho_out_at(out, 0));
    snprintf(want, sizeof want, "%s/tokyo.xlsx", s_dir);
    assert_string_equal(json_string_value(json_object_get(p, "path")), want);
    assert_int_equal(stat(want, &st), 0);
    assert_int_equal(json_integer_value(json_object_get(p, "leads")), 3);
    assert_null(json_object_get(p, "html")); /* no page unless asked */
    ho_out_destroy(&out);

    /* payload.html: the same report as an HTML page too, named in report.ready */
    out = s_call(ctx, "report.request",
                 json_pack("{s:s, s:s, s:s}", "week", "2026-W47", "output", "w47.xlsx", "html",
                           "w47.html"));
    assert_int_equal(ho_out_count(out), 1);
    p = ho_msg_payload(ho_out_at(out, 0));
    snprintf(want, sizeof want, "%s/w47.html", s_dir);
    assert_string_equal(json_string_value(json_object_get(p, "html")), want);
    FILE *f = fopen(want, "r");
    assert_non_null(f);
    char head[32] = "";
    assert_non_null(fgets(head, sizeof head, f));
    fclose(f);
    assert_string_equal(head, "<!DOCTYPE html>\n");
    ho_out_destroy(&out);
    ho_worker_report.cb_exit(&ctx);
    assert_null(ctx);

    /* workers.report.html: every report gets its page beside the workbook */
    ctx = s_start("timezone: UTC\nhtml: true\n");
    out = s_call(ctx, "report.request", json_pack("{s:s}", "week", "2026-W46"));
    p = ho_msg_payload(ho_out_at(out, 0));
    snprintf(want, sizeof want, "%s/reports/handoff-2026-W46.html", s_dir);
    assert_string_equal(json_string_value(json_object_get(p, "html")), want);
    assert_int_equal(stat(want, &st), 0);
    ho_out_destroy(&out);
    ho_worker_report.cb_exit(&ctx);
    assert_null(ctx);
}

static void s_expect_quarantine(void *ctx, const char *type, json_t *payload, const char *code)
{
    ho_out_t *out = s_call(ctx, type, payload);
    assert_int_equal(ho_out_count(out), 1);
    ho_msg_t *q = ho_out_at(out, 0);
    assert_string_equal(ho_msg_type(q), "quarantine");
    assert_string_equal(json_string_value(json_object_get(ho_msg_payload(q), "code")), code);
    ho_out_destroy(&out);
}

static void test_bad_requests_are_quarantined(void **state)
{
    (void)state;
    void *ctx = s_start("timezone: UTC\n");
    s_expect_quarantine(ctx, "report.request", json_pack("{s:s}", "week", "2026-W99"), "bad_week");
    s_expect_quarantine(ctx, "report.request", json_pack("{s:i}", "week", 47), "bad_week");
    s_expect_quarantine(ctx, "report.request",
                        json_pack("{s:s, s:s}", "week", "2026-W47", "timezone", "Nowhere/City"),
                        "bad_timezone");
    s_expect_quarantine(ctx, "report.request",
                        json_pack("{s:s, s:s}", "week", "2026-W47", "output", "no/such/dir/x.xlsx"),
                        "report_failed");
    s_expect_quarantine(ctx, "lead.raw", json_object(), "unknown_type");
    ho_worker_report.cb_exit(&ctx);
}

static void test_bad_settings_refused(void **state)
{
    (void)state;
    ho_err_t err;
    const char *yaml = "timezone: Atlantis/Capital\n";
    ho_conf_t *conf = ho_conf_parse(yaml, strlen(yaml), "t.yaml", &err);
    ho_worker_env_t env = {.data_dir = s_dir, .conf = conf, .settings = ho_conf_root(conf)};
    void *ctx = NULL;
    assert_int_not_equal(ho_worker_report.cb_init(&env, &ctx, &err), HO_OK);
    assert_non_null(strstr(err.message, "Atlantis/Capital"));
    assert_null(ctx);
    ho_conf_destroy(&conf);
}

static int s_tick(void *ctx, int64_t now, char *week, size_t cap)
{
    ho_out_t *out = ho_out_new("test");
    assert_int_equal(ho_worker_report.cb_tick(ctx, now, out), HO_WORKER_OK);
    int n = (int)ho_out_count(out);
    if (n == 1) {
        ho_msg_t *m = ho_out_at(out, 0);
        assert_string_equal(ho_msg_type(m), "report.request");
        snprintf(week, cap, "%s", json_string_value(json_object_get(ho_msg_payload(m), "week")));
        assert_string_equal(json_string_value(json_object_get(ho_msg_payload(m), "timezone")),
                            "Europe/Berlin");
    }
    ho_out_destroy(&out);
    return n;
}

static void test_weekly_schedule(void **state)
{
    (void)state;
    void *ctx = s_start("timezone: Europe/Berlin\nstate: sched.state\n");
    char week[16] = "";
    /* first tick: remembers the last complete week (W46), requests nothing */
    assert_int_equal(s_tick(ctx, s_utc_ms(2026, 11, 18, 12), week, sizeof week), 0);
    assert_int_equal(s_tick(ctx, s_utc_ms(2026, 11, 22, 22), week, sizeof week), 0);
    /* Sunday 23:30 UTC = Monday 00:30 in Berlin: W47 just ended */
    assert_int_equal(s_tick(ctx, s_utc_ms(2026, 11, 22, 23) + 1800000, week, sizeof week), 1);
    assert_string_equal(week, "2026-W47");
    assert_int_equal(s_tick(ctx, s_utc_ms(2026, 11, 23, 9), week, sizeof week), 0);
    ho_worker_report.cb_exit(&ctx);
    /* a restart keeps the state: no second request for W47 */
    ctx = s_start("timezone: Europe/Berlin\nstate: sched.state\n");
    assert_int_equal(s_tick(ctx, s_utc_ms(2026, 11, 24, 9), week, sizeof week), 0);
    /* down for two weeks: only the latest complete week is requested */
    assert_int_equal(s_tick(ctx, s_utc_ms(2026, 12, 8, 9), week, sizeof week), 1);
    assert_string_equal(week, "2026-W49");
    ho_worker_report.cb_exit(&ctx);
    ctx = s_start("timezone: Europe/Berlin\nstate: sched.state\nschedule: false\n");
    assert_int_equal(s_tick(ctx, s_utc_ms(2026, 12, 20, 9), week, sizeof week), 0);
    ho_worker_report.cb_exit(&ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_writes_workbook_and_ready),
        cmocka_unit_test(test_bad_requests_are_quarantined),
        cmocka_unit_test(test_bad_settings_refused),
        cmocka_unit_test(test_weekly_schedule),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
