/* test_report_pipeline.c - the report over a database written by the real store worker (not
 * by hand): lead.normalized, lead.scored, lead.assigned and lead.outcome messages go through
 * ho_worker_store exactly as the broker would deliver them, then the workbook is written.
 *
 * Fixture mode for tests/integration/test_report_pipeline.py, which reads the workbook back
 * and checks the numbers this scenario implies:
 *     test_report_pipeline --make-db DIR      (writes DIR/handoff.db and exits)
 *
 * The scenario (T0 = Monday 2026-11-16 00:00 UTC, the start of 2026-W47):
 *   jane  lead T0+1h, MQL T0+2h (score 70), assigned r1, accepted T0+3h, sql T0+1d,
 *         won T0+2d (12000.5)
 *   bob   lead T0+1h, MQL T0+5h (score 75), assigned r2, rejected T0+1d (budget, recycle;
 *         after his 4 h SLA: a breach at its deadline T0+9h);
 *         engages again and qualifies again T0+8d (2026-W48: after the report week, must
 *         not count; without the new activity the store would keep him RECYCLED)
 *   carol lead T0+2h, MQL T0+6h (score 82), assigned r1, accepted T0+30h (after the 4 h
 *         SLA: one breach, recorded at its deadline T0+10h), lost T0+3d (competitor)
 *   dan   lead T0+3h, scored T0+4h (score 20, not MQL)
 *   old   lead T0-3d (2026-W46), MQL T0-3d+1h (score 64), assigned r2, never accepted */
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

#include "handoff/report.h"
#include "handoff/worker.h"
#include "store_worker_fixture.h"

#define H 3600000LL
#define D (24 * H)
#define T0 1794787200000LL /* 2026-11-16T00:00:00Z */

typedef struct {
    void *ctx;
    char db[600];
} s_store_t;

static int s_apply(s_store_t *s, ho_msg_t *m)
{
    ho_out_t *out = ho_out_new("report-test");
    int rc = ho_worker_call(&ho_worker_store, s->ctx, &m, 1, out);
    for (size_t i = 0; i < ho_out_count(out); i++) {
        if (!strcmp(ho_msg_type(ho_out_at(out, i)), "quarantine")) {
            char *j = json_dumps(ho_msg_payload(ho_out_at(out, i)), JSON_COMPACT);
            fprintf(stderr, "store quarantined %s: %s\n", ho_msg_id(m), j);
            free(j);
            rc = -1;
        }
    }
    ho_out_destroy(&out);
    ho_msg_destroy(&m);
    return rc;
}

static long long s_lead_id(s_store_t *s, const char *email)
{
    sqlite3 *h;
    long long id = -1;
    if (sqlite3_open_v2(s->db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(h, "SELECT id FROM leads WHERE email = ?", -1, &st, NULL) ==
            SQLITE_OK) {
            sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
            if (sqlite3_step(st) == SQLITE_ROW) {
                id = sqlite3_column_int64(st, 0);
            }
            sqlite3_finalize(st);
        }
    }
    sqlite3_close(h);
    return id;
}

static int s_lead(s_store_t *s, const char *email, const char *first, const char *source,
                  const char *campaign, long long at)
{
    char id[64];
    snprintf(id, sizeof id, "lead-%s", email);
    json_t *fields = json_pack("{ssssssssssssss}", "email", email, "first_name", first, "last_name",
                               "Example", "company", "Acme", "title", "VP Data", "original_source",
                               source, "campaign", campaign);
    json_object_set_new(fields, "domain", json_string(strchr(email, '@') + 1));
    json_object_set_new(fields, "country", json_string("DE"));
    json_object_set_new(fields, "city", json_string("Berlin"));
    return s_apply(s, s_msg("lead.normalized", id, at,
                            json_pack("{sssss{sssi}sosI}", "source", "hubspot", "email", email,
                                      "source_ref", "file", "export.csv", "line", 2, "fields",
                                      fields, "observed_at", (json_int_t)at)));
}

static int s_scored(s_store_t *s, const char *email, long long at, int fit, int interest, bool mql)
{
    char id[64];
    snprintf(id, sizeof id, "scored-%s-%lld", email, at);
    return s_apply(s, s_msg("lead.scored", id, at,
                            json_pack("{sIsssIsssisisisssssbs[{sssssiss}{sssssiss}]}", "lead_id",
                                      (json_int_t)s_lead_id(s, email), "email", email, "as_of",
                                      (json_int_t)at, "model_version", "m1", "fit", fit, "interest",
                                      interest, "score", fit + interest, "grade", mql ? "A1" : "C3",
                                      "quadrant", mql ? "mql_now" : "nurture", "mql", mql,
                                      "explanation", "rule", "title_vp", "kind", "fit", "points",
                                      fit, "detail", "title contains VP", "rule", "pricing_page",
                                      "kind", "interest", "points", interest, "detail", "")));
}

static int s_assigned(s_store_t *s, const char *email, const char *rep, const char *name,
                      long long at)
{
    char id[64];
    snprintf(id, sizeof id, "assigned-%s", email);
    return s_apply(
        s, s_msg("lead.assigned", id, at,
                 json_pack("{sIsssssssssosssssIsIso}", "lead_id", (json_int_t)s_lead_id(s, email),
                           "email", email, "rep_id", rep, "rep_name", name, "rep_email",
                           "rep@x.com", "queue", json_null(), "rule", "de", "reason",
                           "territory DE", "assigned_at", (json_int_t)at, "sla_due",
                           (json_int_t)(at + 4 * H), "reassigned_from", json_null())));
}

static int s_outcome(s_store_t *s, const char *email, const char *rep, const char *outcome,
                     const char *reason, long long at, double amount)
{
    char id[64];
    snprintf(id, sizeof id, "fb-%s-%s", email, outcome);
    json_t *p = json_pack("{sssssssssI}", "feedback_id", id, "email", email, "rep_id", rep,
                          "outcome", outcome, "occurred_at", (json_int_t)at);
    if (reason) {
        json_object_set_new(p, "reason", json_string(reason));
        json_object_set_new(p, "reason_owner", json_string("sales"));
        json_object_set_new(p, "disposition", json_string("recycle"));
    }
    json_object_set_new(p, "amount", amount > 0 ? json_real(amount) : json_null());
    return s_apply(s, s_msg("lead.outcome", id, at, p));
}

/* New engagement: what lets a lead sales rejected qualify again (the store holds it in
 * RECYCLED until then). */
static int s_activity(s_store_t *s, const char *email, const char *type, long long at)
{
    char id[64];
    snprintf(id, sizeof id, "act-%s-%lld", email, at);
    return s_apply(s, s_msg("activity.normalized", id, at,
                            json_pack("{sssssssIsssssss{sssi}}", "source", "activities", "email",
                                      email, "activity_id", id, "occurred_at", (json_int_t)at,
                                      "type", type, "path", "/pricing", "source_system", "test",
                                      "source_ref", "file", "activities.csv", "line", 2)));
}

static int s_build(const char *dir)
{
    s_store_t s = {0};
    snprintf(s.db, sizeof s.db, "%s/handoff.db", dir);
    ho_worker_env_t env = {.name = "store", .data_dir = dir, .origin = "store@report-test"};
    ho_err_t err = {0};
    if (ho_worker_store.cb_init(&env, &s.ctx, &err) != HO_OK) {
        fprintf(stderr, "store init: %s\n", err.message);
        return -1;
    }
    int rc = 0;
    rc |= s_lead(&s, "old@omega.example", "Olga", "Paid Search", "Q4 Launch", T0 - 3 * D);
    rc |= s_scored(&s, "old@omega.example", T0 - 3 * D + H, 34, 30, true);
    rc |= s_assigned(&s, "old@omega.example", "r2", "Ben Brandt", T0 - 3 * D + H);
    rc |= s_lead(&s, "jane@acme.example", "Jane", "Paid Search", "Q4 Launch", T0 + H);
    rc |= s_lead(&s, "bob@beta.example", "Bob", "Organic Search", "Webinar Nov", T0 + H);
    rc |= s_lead(&s, "carol@gamma.example", "Carol", "Paid Search", "Q4 Launch", T0 + 2 * H);
    rc |= s_lead(&s, "dan@delta.example", "Dan", "Organic Search", "Webinar Nov", T0 + 3 * H);
    rc |= s_scored(&s, "jane@acme.example", T0 + 2 * H, 40, 30, true);
    rc |= s_assigned(&s, "jane@acme.example", "r1", "Ana Alves", T0 + 2 * H);
    rc |= s_scored(&s, "dan@delta.example", T0 + 4 * H, 10, 10, false);
    rc |= s_scored(&s, "bob@beta.example", T0 + 5 * H, 45, 30, true);
    rc |= s_assigned(&s, "bob@beta.example", "r2", "Ben Brandt", T0 + 5 * H);
    rc |= s_scored(&s, "carol@gamma.example", T0 + 6 * H, 50, 32, true);
    rc |= s_assigned(&s, "carol@gamma.example", "r1", "Ana Alves", T0 + 6 * H);
    rc |= s_outcome(&s, "jane@acme.example", "r1", "accepted", NULL, T0 + 3 * H, 0);
    rc |= s_outcome(&s, "bob@beta.example", "r2", "rejected", "budget", T0 + D, 0);
    rc |= s_outcome(&s, "jane@acme.example", "r1", "sql", NULL, T0 + D, 0);
    rc |= s_outcome(&s, "carol@gamma.example", "r1", "accepted", NULL, T0 + 30 * H, 0);
    rc |= s_outcome(&s, "jane@acme.example", "r1", "won", NULL, T0 + 2 * D, 12000.5);
    rc |= s_outcome(&s, "carol@gamma.example", "r1", "lost", "competitor", T0 + 3 * D, 0);
    rc |= s_activity(&s, "bob@beta.example", "page_view", T0 + 8 * D - H);
    rc |= s_scored(&s, "bob@beta.example", T0 + 8 * D, 50, 40, true);
    ho_worker_store.cb_exit(&s.ctx);
    return rc;
}

static void test_report_over_store_worker_data(void **state)
{
    (void)state;
    char dir[] = "/tmp/ho-report-pipe-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(s_build(dir), 0);
    char db[128], out[128];
    snprintf(db, sizeof db, "%s/handoff.db", dir);
    snprintf(out, sizeof out, "%s/w47.xlsx", dir);
    ho_report_opts_t opts = {.db_path = db, .output = out, .timezone = "UTC"};
    ho_week_parse("2026-W47", &opts.week);
    ho_report_result_t res;
    ho_err_t err;
    ho_report_error_t rc = ho_report_write(&opts, &res, &err);
    if (rc != HO_REPORT_OK) {
        fail_msg("%s", err.message);
    }
    assert_int_equal(res.week_start_ms, T0);
    assert_int_equal(res.leads, 4); /* jane, bob, carol, dan */
    assert_int_equal(res.mqls, 3);  /* jane, bob, carol; bob's W48 re-entry is later */
    /* one week later, bob's second MQL is in that week's cohort */
    ho_week_parse("2026-W48", &opts.week);
    assert_int_equal(ho_report_write(&opts, &res, &err), HO_REPORT_OK);
    assert_int_equal(res.leads, 0);
    assert_int_equal(res.mqls, 1);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--make-db")) {
        return s_build(argv[2]) == 0 ? 0 : 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_over_store_worker_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
