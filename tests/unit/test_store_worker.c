/* test_store_worker.c - the store worker driven in-process (ho_worker_call) with real
 * envelopes and a real SQLite file in a temp dir: batches, idempotent replay, scoring and
 * routing requests, the handoff packet, outcomes (pending, out of order, not owner,
 * illegal), the SLA clock with a chosen `now`, erasure, dead letters and replay, and the
 * whole ML -> ... -> WON path. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "handoff/worker.h"
#include "store_worker_calls.h"
#include "store_worker_fixture.h"

#define H 3600000LL

static int s_setup(void **state)
{
    return s_store_setup(state, "/tmp/ho-sw-XXXXXX");
}

static ho_msg_t *s_lead(const char *id, const char *email, const char *source, long long at,
                        json_t *fields)
{
    if (!fields) {
        fields = json_object();
    }
    json_object_set_new(fields, "email", json_string(email));
    if (!json_object_get(fields, "domain")) {
        json_object_set_new(fields, "domain", json_string(strchr(email, '@') + 1));
    }
    return s_msg("lead.normalized", id, at,
                 json_pack("{sssss{sssi}sosI}", "source", source, "email", email, "source_ref",
                           "file", "export.csv", "line", 2, "fields", fields, "observed_at",
                           (json_int_t)at));
}

static ho_msg_t *s_act(const char *id, const char *email, const char *type, const char *path,
                       long long at)
{
    char url[128];
    snprintf(url, sizeof url, "https://acme.example%s?utm=x", path);
    return s_msg("activity.normalized", id, at,
                 json_pack("{sssssssIsssssss{}}", "source", "web", "email", email, "type", type,
                           "occurred_at", (json_int_t)at, "url", url, "path", path, "source_system",
                           "web", "attributes"));
}

static ho_msg_t *s_scored(const char *id, long long lead_id, long long as_of, int fit, int interest,
                          bool mql)
{
    return s_msg("lead.scored", id, as_of,
                 json_pack("{sIsIsssisisisssssbs[{sssssiss}]}", "lead_id", (json_int_t)lead_id,
                           "as_of", (json_int_t)as_of, "model_version", "m1", "fit", fit,
                           "interest", interest, "score", fit + interest, "grade",
                           mql ? "A1" : "C3", "quadrant", mql ? "mql_now" : "nurture", "mql", mql,
                           "explanation", "rule", "title_vp", "kind", "fit", "points", fit,
                           "detail", "title contains VP"));
}

static ho_msg_t *s_assigned(const char *id, long long lead_id, const char *rep, long long at,
                            long long sla_due)
{
    return s_msg("lead.assigned", id, at,
                 json_pack("{sIsssssssssosssssIsIso}", "lead_id", (json_int_t)lead_id, "email", "",
                           "rep_id", rep, "rep_name", "Rep One", "rep_email", "r@x.com", "queue",
                           json_null(), "rule", "east", "reason", "territory east", "assigned_at",
                           (json_int_t)at, "sla_due", (json_int_t)sla_due, "reassigned_from",
                           json_null()));
}

static ho_msg_t *s_outcome(const char *id, const char *email, const char *rep, const char *outcome,
                           const char *reason, const char *disposition, long long at)
{
    json_t *p = json_pack("{sssssssssIsssO}", "feedback_id", id, "email", email, "rep_id", rep,
                          "outcome", outcome, "occurred_at", (json_int_t)at, "notes",
                          "called, note with jane@acme.com", "amount", json_null());
    if (reason) {
        json_object_set_new(p, "reason", json_string(reason));
        json_object_set_new(p, "reason_owner", json_string("sales"));
    }
    if (disposition) {
        json_object_set_new(p, "disposition", json_string(disposition));
    }
    if (strcmp(outcome, "won") == 0) {
        json_object_set_new(p, "amount", json_real(12000.5));
    }
    return s_msg("lead.outcome", id, at, p);
}

static ho_msg_t *s_tick(long long now)
{
    return s_msg("tick", NULL, now, json_pack("{sI}", "now", (json_int_t)now));
}

/* Every row of every table, as text, for "the database did not change" checks. */
static char *s_dump(s_t *t)
{
    static const char *const tables[] = {"leads",         "lead_sources", "activities",
                                         "stage_history", "scores",       "assignments",
                                         "sla_breaches",  "outcomes",     "pending_outcomes",
                                         "quarantine",    "events",       "erasures"};
    size_t cap = 1 << 16, used = 0;
    char *buf = calloc(1, cap);
    sqlite3 *h = NULL;
    sqlite3_open_v2(t->db, &h, SQLITE_OPEN_READONLY, NULL);
    for (size_t k = 0; k < sizeof tables / sizeof tables[0]; k++) {
        char sql[96];
        snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY 1", tables[k]);
        sqlite3_stmt *st = NULL;
        sqlite3_prepare_v2(h, sql, -1, &st, NULL);
        while (sqlite3_step(st) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(st); c++) {
                const char *v = (const char *)sqlite3_column_text(st, c);
                size_t need = strlen(v ? v : "~") + 2;
                if (used + need >= cap) {
                    cap *= 2;
                    buf = realloc(buf, cap);
                }
                used += (size_t)snprintf(buf + used, cap - used, "%s|", v ? v : "~");
            }
            buf[used++] = '\n';
            buf[used] = '\0';
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return buf;
}

/* ---------------------------------------------------------------------------------------- */

static void s_import(s_t *t)
{
    s_call(t, 5,
           s_lead("l-hs-1", "jane@acme.com", "hubspot", 1 * H,
                  json_pack("{ssssssss}", "first_name", "Jane", "title", "Manager", "company",
                            "Acme", "original_source", "Paid Search")),
           s_lead("l-sf-1", "jane@acme.com", "salesforce", 2 * H,
                  json_pack("{ssss}", "title", "VP Marketing", "phone", "555-0100")),
           s_act("a-1", "jane@acme.com", "page_view", "/pricing", 3 * H),
           s_act("a-2", "jane@acme.com", "page_view", "/pricing", 4 * H),
           s_lead("l-hs-2", "bob@beta.com", "hubspot", 1 * H, NULL));
}

static void test_batch_once_per_lead_and_replay(void **state)
{
    s_t *t = *state;
    s_import(t);
    /* one score.request per lead per batch, with the newest event time as as_of */
    assert_int_equal(s_count_out(t, "score.request"), 2);
    json_t *sr = s_first_out(t, "score.request");
    assert_string_equal(json_string_value(json_object_get(sr, "reason")), "new");
    json_t *lead = json_object_get(sr, "lead");
    assert_string_equal(json_string_value(json_object_get(lead, "email")), "jane@acme.com");
    assert_int_equal(json_integer_value(json_object_get(sr, "as_of")), 4 * H);
    assert_int_equal(json_array_size(json_object_get(lead, "activities")), 2);
    s_expect(t, "SELECT COUNT(*) FROM leads", "2");
    long long jane = s_lead_id(t, "jane@acme.com");
    s_call(t, 5, s_scored("s-1", jane, 5 * H, 60, 40, true),
           s_assigned("as-1", jane, "r1", 5 * H, 7 * H),
           s_outcome("o-1", "jane@acme.com", "r1", "accepted", NULL, NULL, 6 * H),
           s_outcome("o-2", "jane@acme.com", "r1", "sql", NULL, NULL, 8 * H),
           s_outcome("o-3", "jane@acme.com", "r1", "won", NULL, NULL, 9 * H));
    s_expect(t, "SELECT stage FROM leads WHERE email='jane@acme.com'", "WON");
    char *before = s_dump(t);
    /* the whole import again, twice: nothing changes in the database, and the same effects
     * go out again (issue 14: idempotent is "the same effects again", not silence): one
     * score.request per lead, the handoff.ready of the assignment; the won lead is not
     * routed again */
    for (int round = 0; round < 2; round++) {
        s_import(t);
        assert_int_equal(s_count_out(t, "score.request"), 2);
        assert_int_equal((int)ho_out_count(t->out), 2);
        s_call(t, 5, s_scored("s-1", jane, 5 * H, 60, 40, true),
               s_assigned("as-1", jane, "r1", 5 * H, 7 * H),
               s_outcome("o-1", "jane@acme.com", "r1", "accepted", NULL, NULL, 6 * H),
               s_outcome("o-2", "jane@acme.com", "r1", "sql", NULL, NULL, 8 * H),
               s_outcome("o-3", "jane@acme.com", "r1", "won", NULL, NULL, 9 * H));
        assert_int_equal(s_count_out(t, "handoff.ready"), 1);
        assert_int_equal(s_count_out(t, "route.request"), 0);
        assert_int_equal((int)ho_out_count(t->out), 1);
        char *after = s_dump(t);
        assert_string_equal(before, after);
        free(after);
    }
    free(before);
}

static void test_scored_mql_routes_with_account_owner(void **state)
{
    s_t *t = *state;
    s_import(t);
    long long jane = s_lead_id(t, "jane@acme.com");
    s_call(t, 2, s_scored("s-1", jane, 5 * H, 60, 40, true),
           s_assigned("as-1", jane, "r1", 5 * H, 7 * H));
    s_call(t, 1, s_lead("l-3", "tom@acme.com", "form", 6 * H, NULL));
    long long tom = s_lead_id(t, "tom@acme.com");
    s_call(t, 1, s_scored("s-2", tom, 7 * H, 50, 40, true));
    assert_int_equal(s_count_out(t, "route.request"), 1);
    json_t *rr = s_first_out(t, "route.request");
    assert_string_equal(json_string_value(json_object_get(rr, "account_owner")), "r1");
    assert_string_equal(json_string_value(json_object_get(rr, "reason")), "mql");
    assert_int_equal(json_integer_value(json_object_get(rr, "as_of")), 7 * H);
    json_t *score = json_object_get(json_object_get(rr, "lead"), "score");
    assert_int_equal(json_integer_value(json_object_get(score, "fit")), 50);
    assert_string_equal(json_string_value(json_object_get(score, "model_version")), "m1");
    /* the lead's fields go to the router, its activities do not (routing reads none) */
    json_t *rl = json_object_get(rr, "lead");
    assert_true(json_is_object(json_object_get(rl, "fields")));
    assert_int_equal(json_integer_value(json_object_get(rl, "lead_id")), tom);
    assert_null(json_object_get(rl, "activities"));
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT stage || ' ' || mql_at || ' ' || (SELECT actor || ':' || score || ':' || "
             "reason FROM stage_history WHERE lead_id = %lld AND kind = 'transition') FROM leads "
             "WHERE id = %lld",
             tom, tom);
    char want[200];
    snprintf(want, sizeof want, "MQL %lld score:90:score 90 (fit 50, interest 40, A1) by model m1",
             7 * H);
    s_expect(t, sql, want);
    /* a free-mail lead gets no account owner */
    s_call(
        t, 1,
        s_lead("l-4", "someone@gmail.com", "form", 6 * H, json_pack("{sb}", "personal_email", 1)));
    s_call(t, 1, s_scored("s-3", s_lead_id(t, "someone@gmail.com"), 7 * H, 50, 40, true));
    assert_true(json_is_null(json_object_get(s_first_out(t, "route.request"), "account_owner")));
}

/* A replayed import outruns the router: re-scores of an MQL land before its lead.assigned.
 * They repeat the same route.request (same id, as of the MQL time) instead of asking anew as
 * of each re-score, so the lead gets one assignment stamped when it became an MQL. */
static void test_rescore_before_assignment_repeats_route(void **state)
{
    s_t *t = *state;
    s_import(t);
    long long jane = s_lead_id(t, "jane@acme.com");
    s_call(t, 1, s_scored("s-1", jane, 5 * H, 60, 40, true));
    assert_int_equal(s_count_out(t, "route.request"), 1);
    char first[HO_MSG_MAX_ID];
    for (size_t i = 0; i < ho_out_count(t->out); i++) {
        if (strcmp(ho_msg_type(ho_out_at(t->out, i)), "route.request") == 0) {
            snprintf(first, sizeof first, "%s", ho_msg_id(ho_out_at(t->out, i)));
        }
    }
    s_call(t, 1, s_scored("s-2", jane, 9 * H, 62, 45, true));
    assert_int_equal(s_count_out(t, "route.request"), 1);
    json_t *rr = s_first_out(t, "route.request");
    assert_int_equal(json_integer_value(json_object_get(rr, "as_of")), 5 * H);
    for (size_t i = 0; i < ho_out_count(t->out); i++) {
        if (strcmp(ho_msg_type(ho_out_at(t->out, i)), "route.request") == 0) {
            assert_string_equal(ho_msg_id(ho_out_at(t->out, i)), first);
        }
    }
    /* the router answers both with the same lead.assigned: taken once */
    s_call(t, 2, s_assigned("as-1", jane, "r1", 5 * H, 7 * H),
           s_assigned("as-1", jane, "r1", 5 * H, 7 * H));
    s_expect(t, "SELECT COUNT(*) || ' ' || min(assigned_at) FROM assignments", "1 18000000");
    /* owned now: a further re-score asks nothing */
    s_call(t, 1, s_scored("s-3", jane, 11 * H, 62, 46, true));
    assert_int_equal(s_count_out(t, "route.request"), 0);
}

static void test_handoff_packet(void **state)
{
    s_t *t = *state;
    s_import(t);
    long long jane = s_lead_id(t, "jane@acme.com");
    s_call(t, 1, s_scored("s-1", jane, 5 * H, 60, 40, true));
    s_call(t, 1, s_assigned("as-1", jane, "r1", 5 * H, 7 * H));
    assert_int_equal(s_count_out(t, "handoff.ready"), 1);
    json_t *p = s_first_out(t, "handoff.ready");
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "rep"), "rep_id")),
                        "r1");
    json_t *contact = json_object_get(p, "contact");
    assert_string_equal(json_string_value(json_object_get(contact, "first_name")), "Jane");
    assert_string_equal(json_string_value(json_object_get(contact, "title")), "VP Marketing");
    assert_string_equal(json_string_value(json_object_get(p, "journey_stage")), "decision");
    assert_string_equal(json_string_value(json_object_get(p, "stage")), "MQL");
    json_t *eng = json_object_get(p, "engagement");
    assert_int_equal(json_integer_value(json_object_get(eng, "activity_count")), 2);
    assert_int_equal(json_integer_value(json_object_get(eng, "first_touch_at")), 1 * H);
    assert_int_equal(json_integer_value(json_object_get(eng, "last_touch_at")), 4 * H);
    json_t *top = json_array_get(json_object_get(eng, "top_pages"), 0);
    assert_string_equal(json_string_value(json_object_get(top, "path")), "/pricing");
    assert_int_equal(json_integer_value(json_object_get(top, "views")), 2);
    json_t *score = json_object_get(p, "score");
    assert_int_equal(json_array_size(json_object_get(score, "explanation")), 1);
    json_t *src = json_object_get(p, "source");
    assert_string_equal(json_string_value(json_object_get(src, "original_source")), "Paid Search");
    assert_int_equal(json_array_size(json_object_get(src, "sources")), 2); /* hubspot, salesforce */
    assert_int_equal(json_integer_value(json_object_get(p, "sla_due")), 7 * H);
    assert_int_equal(json_integer_value(json_object_get(p, "handed_off_at")), 5 * H);
    s_expect(t, "SELECT owner_rep_id FROM leads WHERE email='jane@acme.com'", "r1");
    s_expect(t, "SELECT kind || ':' || actor FROM stage_history WHERE kind <> 'transition'",
             "assigned:route");
}

/* The packet answers who / where / what / when / why / how without another lookup: the
 * lead's time zone (inferred from US state when no source gave one), every engaged item with
 * its journey stage (early awareness .. late decision), how often lately, and the score's
 * strongest reasons. */
static void test_handoff_packet_full_context(void **state)
{
    s_t *t = *state;
    const long long D = 24 * H, at = 40 * D;
    s_call(t, 5,
           s_lead("l-1", "kim@acme.com", "hubspot", 5 * D,
                  json_pack("{ssss}", "country", "US", "state", "TX")),
           s_act("a-1", "kim@acme.com", "page_view", "/blog/etl-101", 5 * D),
           s_act("a-2", "kim@acme.com", "webinar_attended", "/webinars/pipelines", 15 * D),
           s_act("a-3", "kim@acme.com", "page_view", "/pricing", 36 * D),
           s_act("a-4", "kim@acme.com", "demo_request", "/demo", 39 * D));
    long long kim = s_lead_id(t, "kim@acme.com");
    s_call(
        t, 1,
        s_msg("lead.scored", "s-ctx", at,
              json_pack("{sIsIsssisisisssssbs[{sssssiss}{sssssiss}{sssssiss}{sssssiss}]}",
                        "lead_id", (json_int_t)kim, "as_of", (json_int_t)at, "model_version", "m1",
                        "fit", 30, "interest", 30, "score", 60, "grade", "A1", "quadrant",
                        "mql_now", "mql", true, "explanation", "rule", "title_vp", "kind", "fit",
                        "points", 30, "detail", "title contains VP", "rule", "unsub", "kind",
                        "interest", "points", -5, "detail", "unsubscribed once", "rule", "pricing",
                        "kind", "interest", "points", 10, "detail", "/pricing", "rule", "demo",
                        "kind", "interest", "points", 25, "detail", "demo_request")));
    s_call(t, 1, s_assigned("as-ctx", kim, "r1", at, at + 2 * H));
    json_t *p = s_first_out(t, "handoff.ready");
    assert_non_null(p);
    json_t *loc = json_object_get(p, "location");
    assert_string_equal(json_string_value(json_object_get(loc, "timezone")), "America/Chicago");
    assert_true(json_is_true(json_object_get(loc, "timezone_inferred")));
    assert_string_equal(json_string_value(json_object_get(p, "journey_stage")), "decision");
    json_t *eng = json_object_get(p, "engagement");
    assert_int_equal(json_integer_value(json_object_get(eng, "activity_count")), 4);
    assert_int_equal(json_integer_value(json_object_get(eng, "awareness")), 1);
    assert_int_equal(json_integer_value(json_object_get(eng, "consideration")), 1);
    assert_int_equal(json_integer_value(json_object_get(eng, "decision")), 2);
    assert_int_equal(json_integer_value(json_object_get(eng, "last_7d")), 2);
    assert_int_equal(json_integer_value(json_object_get(eng, "last_30d")), 3);
    /* 4 activities from day 5 to day 39: 34 days = 4.86 weeks, 0.8 a week */
    assert_true(fabs(json_real_value(json_object_get(eng, "per_week")) - 0.8) < 1e-9);
    json_t *recent = json_object_get(eng, "recent");
    assert_int_equal(json_array_size(recent), 4);
    static const char *const want[][2] = {{"demo_request", "decision"},
                                          {"page_view", "decision"},
                                          {"webinar_attended", "consideration"},
                                          {"page_view", "awareness"}};
    for (size_t i = 0; i < 4; i++) {
        json_t *r = json_array_get(recent, i);
        assert_string_equal(json_string_value(json_object_get(r, "type")), want[i][0]);
        assert_string_equal(json_string_value(json_object_get(r, "journey")), want[i][1]);
        assert_non_null(json_object_get(r, "asset"));
        assert_non_null(json_object_get(r, "campaign"));
    }
    json_t *score = json_object_get(p, "score");
    assert_int_equal(json_integer_value(json_object_get(score, "mql_at")), at);
    json_t *top = json_object_get(score, "top_reasons");
    assert_int_equal(json_array_size(top), 3); /* the negative one is not a reason */
    static const char *const rules[] = {"title_vp", "demo", "pricing"};
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(json_string_value(json_object_get(json_array_get(top, i), "rule")),
                            rules[i]);
    }
    assert_int_equal(json_array_size(json_object_get(score, "explanation")), 4);
    assert_string_equal(json_string_value(json_object_get(p, "reason")), "territory east");
}

static void test_outcomes(void **state)
{
    s_t *t = *state;
    s_import(t);
    long long jane = s_lead_id(t, "jane@acme.com");
    s_call(t, 2, s_scored("s-1", jane, 5 * H, 60, 40, true),
           s_assigned("as-1", jane, "r1", 5 * H, 7 * H));
    /* won straight from MQL is no longer refused (issue 12): recorded, and the stages it
     * skipped are implied, so the funnel stays monotone; accepted at the same instant sorts
     * before won */
    s_call(t, 2, s_outcome("o-acc", "jane@acme.com", "r1", "accepted", NULL, NULL, 6 * H),
           s_outcome("o-won", "jane@acme.com", "r1", "won", NULL, NULL, 6 * H));
    s_expect(t, "SELECT stage FROM leads WHERE email='jane@acme.com'", "WON");
    s_expect(t, "SELECT COUNT(*) FROM quarantine", "0");
    s_expect(t,
             "SELECT group_concat(outcome || ':' || implied || ':' || stage_reached, ',') FROM "
             "(SELECT * FROM outcomes ORDER BY occurred_at, implied DESC, outcome)",
             "opportunity:1:SQL,sql:1:SAL,accepted:0:MQL,won:0:OPPORTUNITY");
    s_expect(t,
             "SELECT group_concat(from_stage || '>' || to_stage || ':' || implied, ',') FROM "
             "(SELECT * FROM stage_history WHERE actor = 'sales' ORDER BY at, id)",
             "MQL>SAL:0,SAL>SQL:1,SQL>OPPORTUNITY:1,OPPORTUNITY>WON:0");
    s_expect(t, "SELECT status || ' ' || accepted_at FROM assignments", "accepted 21600000");
    /* a rep who does not own the lead, after it was won: recorded, flagged twice */
    s_call(t, 1, s_outcome("o-sql", "jane@acme.com", "r9", "sql", NULL, NULL, 7 * H));
    s_expect(t,
             "SELECT not_owner || ' ' || stage_reached || ' ' || rep_id || ' ' || flags FROM "
             "outcomes WHERE event_id = 'o-sql'",
             "1 WON r9 out_of_order");
    /* one fact, one row: no history note of its own besides the outcome (issue 12) */
    s_expect(t,
             "SELECT COUNT(*) FROM stage_history WHERE actor NOT IN ('sales', 'score', "
             "'route', 'store', 'crm_import')",
             "0");
    s_expect(t, "SELECT stage FROM leads WHERE email='jane@acme.com'", "WON");
    /* a blank reason on lost is recorded as unspecified; only an unknown outcome cannot be a
     * fact and is quarantined */
    s_call(t, 2, s_outcome("o-lost", "jane@acme.com", "r1", "lost", NULL, NULL, 8 * H),
           s_outcome("o-what", "jane@acme.com", "r1", "maybe", "x", NULL, 8 * H));
    s_expect(t, "SELECT group_concat(code, ',') FROM (SELECT code FROM quarantine ORDER BY id)",
             "unknown_outcome");
    s_expect(t, "SELECT reason FROM outcomes WHERE event_id='o-lost'", "unspecified");
    /* rejected with disposition disqualify */
    long long bob = s_lead_id(t, "bob@beta.com");
    s_call(t, 3, s_scored("s-2", bob, 5 * H, 60, 40, true),
           s_assigned("as-2", bob, "r2", 5 * H, 7 * H),
           s_outcome("o-rej", "bob@beta.com", "r2", "rejected", "student", "disqualify", 6 * H));
    s_expect(t, "SELECT stage FROM leads WHERE email='bob@beta.com'", "DISQUALIFIED");
    s_expect(t, "SELECT status FROM assignments WHERE event_id='as-2'", "closed");
}

static void test_pending_outcome_out_of_order(void **state)
{
    s_t *t = *state;
    /* sales speaks first */
    s_call(t, 1, s_outcome("o-1", "New.Person@Gamma.com", "r1", "accepted", NULL, NULL, 6 * H));
    s_expect(t, "SELECT COUNT(*) || ' ' || email FROM pending_outcomes", "1 new.person@gamma.com");
    s_expect(t, "SELECT COUNT(*) FROM leads", "0");
    /* the lead arrives (ML): the acceptance is recorded at once, never refused for stage
     * order, and flagged: marketing never made the lead an MQL */
    s_call(t, 1, s_lead("l-1", "new.person@gamma.com", "hubspot", 1 * H, NULL));
    s_expect(t, "SELECT COUNT(*) FROM pending_outcomes", "0");
    s_expect(t, "SELECT COUNT(*) FROM quarantine", "0");
    s_expect(t, "SELECT stage FROM leads", "SAL");
    s_expect(t, "SELECT outcome || ' ' || occurred_at || ' ' || flags FROM outcomes",
             "accepted 21600000 sales_accepted_without_mql");
    /* a later score cannot move a lead sales has (the state machine guards marketing) */
    long long id = s_lead_id(t, "new.person@gamma.com");
    s_call(t, 1, s_scored("s-1", id, 7 * H, 60, 40, true));
    s_expect(t, "SELECT stage FROM leads", "SAL");
    /* the same outcome again (redelivery) changes nothing */
    char *before = s_dump(t);
    s_call(t, 1, s_outcome("o-1", "New.Person@Gamma.com", "r1", "accepted", NULL, NULL, 6 * H));
    char *after = s_dump(t);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

/* The import, then jane and bob scored MQL at 5 h and assigned (as-1 to r1, as-2 to r2), SLA
 * due at 7 h. */
static void s_jane_and_bob_assigned(s_t *t, long long *jane_p, long long *bob_p)
{
    s_import(t);
    *jane_p = s_lead_id(t, "jane@acme.com");
    *bob_p = s_lead_id(t, "bob@beta.com");
    s_call(t, 4, s_scored("s-1", *jane_p, 5 * H, 60, 40, true),
           s_assigned("as-1", *jane_p, "r1", 5 * H, 7 * H),
           s_scored("s-2", *bob_p, 5 * H, 60, 40, true),
           s_assigned("as-2", *bob_p, "r2", 5 * H, 7 * H));
}

static void test_sla_remind_then_reassign(void **state)
{
    s_t *t = *state;
    long long jane, bob;
    s_jane_and_bob_assigned(t, &jane, &bob);
    /* bob's rep accepts in time: his clock stops */
    s_call(t, 1, s_outcome("o-1", "bob@beta.com", "r2", "accepted", NULL, NULL, 6 * H));
    s_call(t, 1, s_tick(6 * H));
    assert_int_equal(s_count_out(t, "sla.breach"), 0);
    s_call(t, 1, s_tick(7 * H));
    assert_int_equal(s_count_out(t, "sla.breach"), 1);
    json_t *b = s_first_out(t, "sla.breach");
    assert_string_equal(json_string_value(json_object_get(b, "step")), "remind");
    assert_string_equal(json_string_value(json_object_get(b, "rep_id")), "r1");
    assert_int_equal(json_integer_value(json_object_get(b, "lead_id")), jane);
    s_call(t, 1, s_tick(8 * H)); /* reminded already, reassign due at 9h (2h SLA again) */
    assert_int_equal(s_count_out(t, "sla.breach"), 0);
    s_call(t, 1, s_tick(9 * H));
    assert_int_equal(s_count_out(t, "sla.breach"), 1);
    b = s_first_out(t, "sla.breach");
    assert_string_equal(json_string_value(json_object_get(b, "step")), "reassign");
    assert_string_equal(json_string_value(json_array_get(json_object_get(b, "exclude"), 0)), "r1");
    assert_string_equal(json_string_value(json_object_get(b, "reason")), "sla_breach");
    assert_non_null(json_object_get(json_object_get(b, "lead"), "score"));
    s_call(t, 1, s_tick(20 * H));
    assert_int_equal(s_count_out(t, "sla.breach"), 0);
    s_expect(t,
             "SELECT group_concat(step || '@' || at, ',') FROM (SELECT * FROM sla_breaches "
             "ORDER BY id)",
             "remind@25200000,reassign@32400000");
    s_expect(t, "SELECT status || ' ' || reminded_at FROM assignments WHERE event_id = 'as-1'",
             "reassigned 25200000");
    s_expect(t,
             "SELECT group_concat(kind, ',') FROM (SELECT kind FROM stage_history WHERE "
             "kind LIKE 'sla%' ORDER BY id)",
             "sla_remind,sla_reassign");
    /* route's new assignment supersedes; the new rep's clock runs */
    s_call(t, 1, s_assigned("as-3", jane, "r3", 9 * H, 10 * H));
    s_expect(t,
             "SELECT owner_rep_id FROM leads WHERE id = (SELECT lead_id FROM assignments "
             "WHERE event_id = 'as-3')",
             "r3");
    s_call(t, 1, s_tick(10 * H));
    assert_int_equal(s_count_out(t, "sla.breach"), 1);
    assert_string_equal(json_string_value(json_object_get(s_first_out(t, "sla.breach"), "rep_id")),
                        "r3");
}

static void test_score_decay_and_owner_kept(void **state)
{
    s_t *t = *state;
    s_import(t);
    long long jane = s_lead_id(t, "jane@acme.com");
    long long bob = s_lead_id(t, "bob@beta.com");
    s_call(t, 3, s_scored("s-1", jane, 5 * H, 60, 40, true),
           s_scored("s-2", bob, 5 * H, 60, 40, true), s_assigned("as-2", bob, "r2", 5 * H, 7 * H));
    s_call(t, 2, s_scored("s-3", jane, 6 * H, 60, 5, false),
           s_scored("s-4", bob, 6 * H, 60, 5, false));
    s_expect(t, "SELECT stage FROM leads WHERE email='jane@acme.com'", "RECYCLED");
    s_expect(t, "SELECT stage || ' ' || owner_rep_id FROM leads WHERE email='bob@beta.com'",
             "MQL r2");
    s_expect(t, "SELECT reason FROM stage_history WHERE to_stage = 'RECYCLED'", "score_decayed");
    /* a late, older score is recorded but does not move the lead */
    s_call(t, 1, s_scored("s-5", jane, 5 * H + 1, 90, 90, true));
    s_expect(t, "SELECT stage || ' ' || score FROM leads WHERE email='jane@acme.com'",
             "RECYCLED 65");
    s_expect(t, "SELECT COUNT(*) FROM scores", "5");
}

/* A batch is first applied without a savepoint per message; one refused message makes it
 * start again with savepoints: the good messages of the batch are applied once with their
 * replies and requests, the refused one is quarantined alone. */
static void test_batch_with_refused_message(void **state)
{
    s_t *t = *state;
    /* o-bad is dated before ann's lead was created (before_lead_created) */
    s_call(t, 4, s_lead("l-a", "ann@acme.com", "hubspot", 1 * H, NULL),
           s_outcome("o-bad", "ann@acme.com", "r1", "won", NULL, NULL, H / 2),
           s_act("a-1", "ann@acme.com", "page_view", "/pricing", 3 * H),
           s_lead("l-b", "ben@beta.com", "hubspot", 1 * H, NULL));
    s_expect(t, "SELECT COUNT(*) || ' ' || group_concat(email, ',') FROM leads",
             "2 ann@acme.com,ben@beta.com");
    s_expect(t, "SELECT COUNT(*) FROM activities", "1");
    s_expect(t, "SELECT code || ' ' || input_event_id FROM quarantine",
             "before_lead_created o-bad");
    s_expect(t, "SELECT COUNT(*) FROM events", "2");
    /* the claimed types by their one-letter codes (docs/store-schema.md, events); a known
     * person's activity is its own key (activities_lead, schema version 10), no events row */
    s_expect(t, "SELECT group_concat(type, ',') FROM (SELECT type FROM events ORDER BY type)",
             "L,L");
    assert_int_equal(s_count_out(t, "score.request"), 2);
    assert_int_equal(json_integer_value(json_object_get(s_first_out(t, "score.request"), "as_of")),
                     3 * H);
    char *before = s_dump(t);
    s_call(t, 4, s_lead("l-a", "ann@acme.com", "hubspot", 1 * H, NULL),
           s_outcome("o-bad", "ann@acme.com", "r1", "won", NULL, NULL, H / 2),
           s_act("a-1", "ann@acme.com", "page_view", "/pricing", 3 * H),
           s_lead("l-b", "ben@beta.com", "hubspot", 1 * H, NULL));
    char *after = s_dump(t);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

/* A replayed record that is refused again is open again in the quarantine (not "replayed"
 * and gone from `dlq list`); a late redelivery of the first refusal changes nothing. */
static void test_replay_refused_again_reopens(void **state)
{
    s_t *t = *state;
    s_call(t, 1, s_lead("l-1", "kim@acme.com", "hubspot", 1 * H, NULL));
    /* dated before kim's lead was created: it cannot be a fact about that lead */
    s_call(t, 1, s_outcome("o-bad", "kim@acme.com", "r1", "sql", NULL, NULL, H / 2));
    s_call(t, 1,
           s_msg("quarantine", "q-ing-1", 3 * H,
                 json_pack("{sssssssssssss{sssi}s{ss}}", "stage", "ingest", "code", "bad_date",
                           "field", "created_at", "reason", "x.csv:7: not a date", "event_id",
                           "raw-7", "event_type", "lead.raw", "source_ref", "file", "x.csv", "line",
                           7, "raw", "source", "hubspot")));
    s_call(t, 1, s_msg("dlq.replay", "r-1", 4 * H, json_pack("{s[ii]}", "ids", 1, 2)));
    s_expect(t, "SELECT group_concat(IFNULL(replayed_at, '-'), ',') FROM quarantine",
             "14400000,14400000");
    /* the replayed outcome is still dated before the lead: the store refuses it again */
    ho_msg_t *again = NULL;
    for (size_t i = 0; i < ho_out_count(t->out); i++) {
        if (strcmp(ho_msg_type(ho_out_at(t->out, i)), "lead.outcome") == 0) {
            again = s_msg("lead.outcome", ho_msg_id(ho_out_at(t->out, i)), 5 * H,
                          json_deep_copy(ho_msg_payload(ho_out_at(t->out, i))));
        }
    }
    assert_non_null(again);
    s_call(t, 1, again);
    /* a late redelivery of the first ingest refusal (older than the replay): still replayed */
    s_call(t, 1,
           s_msg("quarantine", "q-ing-1", 3 * H,
                 json_pack("{ssss}", "stage", "ingest", "code", "bad_date")));
    s_expect(t, "SELECT group_concat(IFNULL(replayed_at, '-'), ',') FROM quarantine", "-,14400000");
    /* ingest refuses the replayed record again, after the replay: open again, new reason */
    s_call(t, 1,
           s_msg("quarantine", "q-ing-1", 6 * H,
                 json_pack("{ssssssss}", "stage", "ingest", "code", "bad_date", "field",
                           "created_at", "reason", "x.csv:7: still not a date")));
    s_expect(t, "SELECT group_concat(IFNULL(replayed_at, '-') || ' ' || code, ',') FROM quarantine",
             "- before_lead_created,- bad_date");
    s_expect(t, "SELECT at FROM quarantine WHERE id = 2", "21600000");
    s_expect(t, "SELECT reason FROM quarantine WHERE id = 2", "x.csv:7: still not a date");
    s_expect(t, "SELECT COUNT(*) FROM quarantine", "2");
}

/* An activity that arrives after the lead was scored but happened before that scoring (a
 * late CSV, a webhook retried for hours) must still move the score: the request is made as of
 * the lead's last scoring, never older, or the store drops the reply as "older score". */
static void test_late_activity_rescored_as_of_last_scoring(void **state)
{
    s_t *t = *state;
    s_import(t);
    long long jane = s_lead_id(t, "jane@acme.com");
    s_call(t, 1, s_scored("s-1", jane, 5 * H, 60, 40, true));
    s_call(t, 1, s_act("a-late", "jane@acme.com", "demo_request", "/demo", 2 * H));
    assert_int_equal(s_count_out(t, "score.request"), 1);
    json_t *sr = s_first_out(t, "score.request");
    assert_string_equal(json_string_value(json_object_get(sr, "reason")), "activity");
    long long as_of = json_integer_value(json_object_get(sr, "as_of"));
    assert_int_equal(as_of, 5 * H);
    /* the scorer answers as of that time: the lead takes the new score */
    char first_id[HO_MSG_MAX_ID];
    snprintf(first_id, sizeof first_id, "%s", ho_msg_id(ho_out_at(t->out, 0)));
    s_call(t, 1, s_scored("s-2", jane, as_of, 60, 70, true));
    s_expect(t, "SELECT score || ' ' || scored_at FROM leads WHERE email='jane@acme.com'",
             "130 18000000");
    /* a second late activity asks as of the same time, under another id: the scorer's reply
     * id derives from it, so an equal id would make the new score a duplicate */
    s_call(t, 1, s_act("a-late-2", "jane@acme.com", "webinar_attended", "/webinar", 3 * H));
    assert_int_equal(s_count_out(t, "score.request"), 1);
    assert_int_equal(json_integer_value(json_object_get(s_first_out(t, "score.request"), "as_of")),
                     5 * H);
    assert_string_not_equal(ho_msg_id(ho_out_at(t->out, 0)), first_id);
    /* an activity newer than the last scoring keeps its own time */
    s_call(t, 1, s_act("a-new", "jane@acme.com", "page_view", "/pricing", 8 * H));
    assert_int_equal(json_integer_value(json_object_get(s_first_out(t, "score.request"), "as_of")),
                     8 * H);
}

static void test_activity_for_unknown_email(void **state)
{
    s_t *t = *state;
    /* only lead sources create leads (issue 12): engagement from an unknown email is kept
     * unmatched and counted, nothing is scored */
    ho_msg_t *a = s_act("a-9", "  Visitor@Delta.io ", "webinar_attended", "/webinars/x", 2 * H);
    json_object_set_new(ho_msg_payload(a), "import_id", json_string("imp-a"));
    s_call(t, 1, a);
    s_expect(t, "SELECT COUNT(*) FROM leads", "0");
    s_expect(t, "SELECT COUNT(*) FROM activities", "0");
    s_expect(t, "SELECT email || ' ' || event_id || ' ' || import_id FROM unmatched_activities",
             "visitor@delta.io a-9 imp-a");
    s_expect(t, "SELECT result || '=' || n FROM import_results", "unmatched=1");
    assert_int_equal(s_count_out(t, "score.request"), 0);
    /* the redelivered activity changes nothing */
    s_call(t, 1, s_act("a-9", "  Visitor@Delta.io ", "webinar_attended", "/webinars/x", 2 * H));
    s_expect(t, "SELECT COUNT(*) FROM unmatched_activities", "1");
    /* the person arrives: the activity is attached and scored; its import's count stays as
     * when it was first applied (unmatched for that import: CONTRACT-12 section 2) */
    s_call(t, 1, s_lead("l-9", "visitor@delta.io", "hubspot", 3 * H, NULL));
    s_expect(t, "SELECT COUNT(*) FROM unmatched_activities", "0");
    s_expect(t, "SELECT type || ' ' || (occurred_at / 3600000) FROM activities",
             "webinar_attended 2");
    s_expect(t, "SELECT group_concat(result || '=' || n, ',') FROM import_results", "unmatched=1");
    json_t *sr = s_first_out(t, "score.request");
    assert_non_null(sr);
    assert_int_equal(json_array_size(json_object_get(json_object_get(sr, "lead"), "activities")),
                     1);
    /* redelivered once its person is known: the attached row is its key (the events row it
     * claimed while unmatched is no longer asked), so no second row, the counts stay, and the
     * lead's score.request goes out again */
    s_call(t, 1, s_act("a-9", "  Visitor@Delta.io ", "webinar_attended", "/webinars/x", 2 * H));
    s_expect(t, "SELECT COUNT(*) FROM activities", "1");
    s_expect(t, "SELECT group_concat(result || '=' || n, ',') FROM import_results", "unmatched=1");
    assert_int_equal(s_count_out(t, "score.request"), 1);
    /* a bad activity is quarantined with the field named, not lost */
    s_call(t, 1, s_act("a-10", "nope", "page_view", "/x", 2 * H));
    s_expect(t, "SELECT field || ' ' || input_event_id FROM quarantine", "payload.email a-10");
}

static void test_forget_keeps_counts(void **state)
{
    s_t *t = *state;
    s_import(t);
    long long jane = s_lead_id(t, "jane@acme.com");
    s_call(t, 3, s_scored("s-1", jane, 5 * H, 60, 40, true),
           s_assigned("as-1", jane, "r1", 5 * H, 7 * H),
           s_outcome("o-1", "jane@acme.com", "r1", "accepted", NULL, NULL, 6 * H));
    s_call(t, 1, s_outcome("o-bad", "jane@acme.com", "r1", "maybe", NULL, NULL, 6 * H));
    s_call(t, 1, s_msg("lead.forget", "f-1", 10 * H, json_pack("{ss}", "email", "JANE@acme.com")));
    json_t *r = s_first_out(t, "lead.forgotten");
    assert_true(json_is_true(json_object_get(r, "found")));
    assert_int_equal(json_integer_value(json_object_get(r, "lead_id")), jane);
    s_expect(t, "SELECT COUNT(*) FROM leads", "2");
    s_expect(t,
             "SELECT COUNT(*) FROM leads WHERE email LIKE '%jane%' OR first_name IS NOT NULL "
             "OR title IS NOT NULL OR phone IS NOT NULL",
             "0");
    char want[64];
    snprintf(want, sizeof want, "erased-%lld@invalid 1 SAL Paid Search", jane);
    s_expect(t,
             "SELECT email || ' ' || erased || ' ' || stage || ' ' || original_source FROM "
             "leads WHERE erased = 1",
             want);
    s_expect(t, "SELECT COUNT(*) || ' ' || COUNT(url) FROM activities", "2 0");
    s_expect(t, "SELECT COUNT(*) || ' ' || COUNT(notes) FROM outcomes", "1 0");
    s_expect(t, "SELECT COUNT(*) || ' ' || COUNT(raw_json) FROM quarantine", "1 0");
    s_expect(t, "SELECT COUNT(*) FROM erasures", "1");
    s_expect(t, "SELECT COUNT(*) FROM stage_history WHERE kind = 'transition'", "2");
    /* nothing anywhere still spells the address */
    s_expect(
        t,
        "SELECT (SELECT COUNT(*) FROM leads WHERE fields_json LIKE '%jane%') + (SELECT COUNT(*) "
        "FROM pending_outcomes WHERE body LIKE '%jane%')",
        "0");
}

static void test_full_path_history(void **state)
{
    s_t *t = *state;
    s_call(t, 1, s_lead("l-1", "kim@acme.com", "hubspot", 1 * H, NULL));
    long long kim = s_lead_id(t, "kim@acme.com");
    s_call(t, 1, s_scored("s-1", kim, 2 * H, 60, 40, true));
    assert_int_equal(s_count_out(t, "route.request"), 1);
    s_call(t, 1, s_assigned("as-1", kim, "r1", 2 * H, 4 * H));
    s_call(t, 1, s_outcome("o-1", "kim@acme.com", "r1", "accepted", NULL, NULL, 3 * H));
    s_call(t, 1, s_outcome("o-2", "kim@acme.com", "r1", "rejected", "timing", "recycle", 4 * H));
    s_expect(t, "SELECT stage || ' ' || IFNULL(owner_rep_id, '-') FROM leads", "RECYCLED -");
    s_call(t, 1, s_act("a-2", "kim@acme.com", "demo_request", "/demo", 9 * H));
    s_call(t, 1, s_scored("s-2", kim, 10 * H, 70, 45, true));
    assert_int_equal(s_count_out(t, "route.request"), 1);
    s_call(t, 1, s_assigned("as-2", kim, "r2", 10 * H, 12 * H));
    s_call(t, 1, s_outcome("o-3", "kim@acme.com", "r2", "accepted", NULL, NULL, 11 * H));
    s_call(t, 1, s_outcome("o-4", "kim@acme.com", "r2", "sql", NULL, NULL, 12 * H));
    s_call(t, 1, s_outcome("o-5", "kim@acme.com", "r2", "won", NULL, NULL, 13 * H));
    s_expect(t,
             "SELECT group_concat(from_stage || '>' || to_stage || '@' || (at / 3600000) || ':' || "
             "actor || ':' || IFNULL(score, '-'), ' ') FROM (SELECT * FROM stage_history WHERE "
             "kind = 'transition' ORDER BY at, id)",
             "ML>MQL@2:score:100 MQL>SAL@3:sales:100 SAL>RECYCLED@4:sales:100 "
             "RECYCLED>MQL@10:score:115 MQL>SAL@11:sales:115 SAL>SQL@12:sales:115 "
             "SQL>OPPORTUNITY@13:sales:115 OPPORTUNITY>WON@13:sales:115");
    s_expect(t,
             "SELECT group_concat(implied, '') FROM (SELECT implied FROM stage_history WHERE "
             "actor = 'sales' ORDER BY at, id)",
             "000010");
    s_expect(t, "SELECT (first_mql_at / 3600000) || ' ' || (mql_at / 3600000) FROM leads", "2 10");
    s_expect(t, "SELECT amount FROM outcomes WHERE outcome = 'won'", "12000.5");
    s_expect(t,
             "SELECT group_concat(status, ',') FROM (SELECT status FROM assignments ORDER BY id)",
             "accepted,accepted");
}

/* Rejected with a recycle reason: the unchanged score does not make it an MQL again (the rep
 * would get back the lead they just refused); new engagement after the rejection does. */
static void test_sales_recycled_needs_new_engagement(void **state)
{
    s_t *t = *state;
    s_call(t, 1, s_lead("l-1", "kim@acme.com", "hubspot", 1 * H, NULL));
    long long kim = s_lead_id(t, "kim@acme.com");
    s_call(t, 3, s_scored("s-1", kim, 2 * H, 60, 40, true),
           s_assigned("as-1", kim, "r1", 2 * H, 4 * H),
           s_outcome("o-1", "kim@acme.com", "r1", "rejected", "timing", "recycle", 3 * H));
    s_call(t, 1, s_scored("s-2", kim, 5 * H, 60, 40, true)); /* a re-score, same data */
    s_expect(t, "SELECT stage || ' ' || IFNULL(owner_rep_id, '-') FROM leads", "RECYCLED -");
    assert_int_equal(s_count_out(t, "route.request"), 0);
    /* an activity from before the rejection is not new engagement */
    s_call(t, 1, s_act("a-0", "kim@acme.com", "page_view", "/pricing", 2 * H + 1));
    s_call(t, 1, s_scored("s-3", kim, 6 * H, 60, 45, true));
    s_expect(t, "SELECT stage FROM leads", "RECYCLED");
    s_call(t, 1, s_act("a-1", "kim@acme.com", "demo_request", "/demo", 7 * H));
    s_call(t, 1, s_scored("s-4", kim, 7 * H, 60, 85, true));
    s_expect(t, "SELECT stage FROM leads", "MQL");
    assert_int_equal(s_count_out(t, "route.request"), 1);
    /* a score decay is not a rejection: a decayed lead re-qualifies on its score alone */
    s_call(t, 1, s_lead("l-2", "bo@beta.com", "hubspot", 1 * H, NULL));
    long long bo = s_lead_id(t, "bo@beta.com");
    s_call(t, 1, s_scored("s-5", bo, 2 * H, 60, 40, true));
    s_call(t, 1, s_scored("s-6", bo, 3 * H, 60, 5, false));
    s_expect(t, "SELECT stage FROM leads WHERE id = (SELECT MAX(id) FROM leads)", "RECYCLED");
    s_call(t, 1, s_scored("s-7", bo, 4 * H, 80, 40, true));
    s_expect(t, "SELECT stage FROM leads WHERE id = (SELECT MAX(id) FROM leads)", "MQL");
}

/* The rep accepted while an SLA reassignment was in flight: the late lead.assigned does not
 * take the lead from them, start a new SLA clock or send a packet. */
static void test_assignment_after_accept_ignored(void **state)
{
    s_t *t = *state;
    s_import(t);
    long long jane = s_lead_id(t, "jane@acme.com");
    s_call(t, 3, s_scored("s-1", jane, 5 * H, 60, 40, true),
           s_assigned("as-1", jane, "r1", 5 * H, 7 * H),
           s_outcome("o-1", "jane@acme.com", "r1", "accepted", NULL, NULL, 8 * H));
    s_call(t, 1, s_assigned("as-2", jane, "r2", 9 * H, 11 * H));
    assert_int_equal(s_count_out(t, "handoff.ready"), 0);
    s_expect(t, "SELECT stage || ' ' || owner_rep_id FROM leads WHERE email='jane@acme.com'",
             "SAL r1");
    s_expect(t, "SELECT group_concat(status, ',') FROM assignments", "accepted");
    s_expect(t,
             "SELECT instr(reason, 'assignment to r2 ignored: the lead is already SAL') > 0 FROM "
             "stage_history WHERE kind = 'assignment_ignored'",
             "1");
    s_call(t, 1, s_tick(20 * H));
    assert_int_equal(s_count_out(t, "sla.breach"), 0);
    /* accepted on a lead nobody was assigned yet: the accepting rep owns it */
    long long bob = s_lead_id(t, "bob@beta.com");
    s_call(t, 2, s_scored("s-2", bob, 5 * H, 60, 40, true),
           s_outcome("o-2", "bob@beta.com", "r7", "accepted", NULL, NULL, 6 * H));
    s_expect(t, "SELECT stage || ' ' || owner_rep_id FROM leads WHERE email='bob@beta.com'",
             "SAL r7");
}

static void test_quarantine_dead_letter_and_replay(void **state)
{
    s_t *t = *state;
    s_call(t, 1, s_lead("l-1", "kim@acme.com", "hubspot", 1 * H, NULL));
    s_call(t, 1, s_outcome("o-bad", "kim@acme.com", "r1", "sql", NULL, NULL, H / 2));
    /* a quarantine message from ingest and a dead letter from the broker */
    s_call(t, 2,
           s_msg("quarantine", "q-ing-1", 3 * H,
                 json_pack("{sssssssssssss{sssi}s{ss}}", "stage", "ingest", "code", "bad_email",
                           "field", "fields.email", "reason", "fields.email: not an address",
                           "event_id", "raw-7", "event_type", "lead.raw", "source_ref", "file",
                           "x.csv", "line", 7, "raw", "source", "hubspot")),
           s_msg("dead.letter", "dl-1", 3 * H,
                 json_pack("{sssisss[{sssss{ss}}]}", "service", "score", "attempts", 5, "reason",
                           "worker died", "frames", "type", "score.request", "id", "sr-1",
                           "payload", "reason", "new")));
    s_expect(t,
             "SELECT group_concat(code || ':' || IFNULL(file, '-') || ':' || IFNULL(line, '-'), "
             "',') FROM (SELECT * FROM quarantine ORDER BY id)",
             "before_lead_created:-:-,bad_email:x.csv:7,dead_letter:-:-");
    /* the same quarantine message again is one row */
    s_call(t, 1,
           s_msg("quarantine", "q-ing-1", 3 * H,
                 json_pack("{ssss}", "stage", "ingest", "code", "bad_email")));
    s_expect(t, "SELECT COUNT(*) FROM quarantine", "3");
    s_call(t, 1, s_msg("dlq.replay", "r-1", 4 * H, json_pack("{s[iii]}", "ids", 1, 3, 99)));
    assert_int_equal(s_count_out(t, "lead.outcome"), 1);
    assert_int_equal(s_count_out(t, "score.request"), 1);
    for (size_t i = 0; i < ho_out_count(t->out); i++) {
        ho_msg_t *m = ho_out_at(t->out, i);
        if (strcmp(ho_msg_type(m), "lead.outcome") == 0) {
            assert_string_equal(ho_msg_id(m), "o-bad");
            assert_string_equal(json_string_value(json_object_get(ho_msg_payload(m), "outcome")),
                                "sql");
        }
    }
    json_t *rep = s_first_out(t, "dlq.replayed");
    assert_int_equal(json_array_size(json_object_get(rep, "replayed")), 2);
    assert_int_equal(json_array_size(json_object_get(rep, "failed")), 1);
    s_expect(t,
             "SELECT group_concat(IFNULL(replayed_at, '-'), ',') FROM (SELECT * FROM "
             "quarantine ORDER BY id)",
             "14400000,-,14400000");
}

static void test_tick_rescore(void **state)
{
    s_t *t = *state;
    s_import(t);
    long long bob = s_lead_id(t, "bob@beta.com");
    s_call(t, 2, s_scored("s-2", bob, 5 * H, 60, 40, true),
           s_assigned("as-2", bob, "r2", 5 * H, 100 * H));
    /* jane (unowned, touched within the week) is re-scored; bob is owned */
    s_call(t, 1, s_tick(24 * H));
    assert_int_equal(s_count_out(t, "score.request"), 1);
    json_t *sr = s_first_out(t, "score.request");
    assert_string_equal(json_string_value(json_object_get(sr, "reason")), "rescore");
    assert_int_equal(json_integer_value(json_object_get(sr, "as_of")), 24 * H);
    assert_string_equal(json_string_value(json_object_get(json_object_get(sr, "lead"), "email")),
                        "jane@acme.com");
    /* not again before the interval */
    s_call(t, 1, s_tick(24 * H + 60000));
    assert_int_equal(s_count_out(t, "score.request"), 0);
}

/* A lead last touched a month ago still has decaying interest (the model counts 90 days):
 * the tick re-scores it. With a 7-day window it kept its month-old score for ever. */
static void test_rescore_reaches_model_window(void **state)
{
    s_t *t = *state;
    s_import(t);
    s_call(t, 1, s_tick(30 * 24 * H));
    assert_int_equal(s_count_out(t, "score.request"), 2);
    /* past the model window there is nothing left to decay */
    s_call(t, 1, s_tick(100 * 24 * H));
    assert_int_equal(s_count_out(t, "score.request"), 0);
}

/* With more leads in the window than `limit`, every tick takes the least recently scored
 * (never scored first): each lead gets its turn instead of the lowest ids every time. */
static void test_rescore_rotates_past_limit(void **state)
{
    s_t *t = *state;
    ho_worker_store.cb_exit(&t->ctx);
    const char *yaml = "workers:\n  store:\n    rescore:\n      limit: 1\n";
    ho_err_t err = {0};
    ho_conf_t *conf = ho_conf_parse(yaml, strlen(yaml), "handoff.yaml", &err);
    assert_non_null(conf);
    ho_worker_env_t env = {.name = "store",
                           .data_dir = t->dir,
                           .origin = "store@test",
                           .conf = conf,
                           .settings =
                               ho_node_get(ho_node_get(ho_conf_root(conf), "workers"), "store")};
    assert_int_equal(ho_worker_store.cb_init(&env, &t->ctx, &err), HO_OK);
    ho_conf_destroy(&conf);
    s_import(t);
    long long jane = s_lead_id(t, "jane@acme.com"), bob = s_lead_id(t, "bob@beta.com");
    const long long D = 24 * H;
    long long want[] = {jane, bob, jane, bob};
    for (int i = 0; i < 4; i++) {
        long long now = 10 * D + i * H;
        s_call(t, 1, s_tick(now));
        assert_int_equal(s_count_out(t, "score.request"), 1);
        json_t *lead = json_object_get(s_first_out(t, "score.request"), "lead");
        long long id = json_integer_value(json_object_get(lead, "lead_id"));
        assert_int_equal(id, want[i]);
        char sid[32];
        snprintf(sid, sizeof sid, "s-rot-%d", i);
        s_call(t, 1, s_scored(sid, id, now, 10, 5, false));
    }
}

/* A replayed history (an import of last quarter, the demo) has no clock ticks between the
 * assignment and the acceptance: an acceptance after sla_due records the breach the tick
 * would have recorded, stamped at the deadline, once (a later tick or a replay adds
 * nothing). An acceptance in time, or at the deadline itself, is no breach. */
static void test_late_accept_records_breach_at_deadline(void **state)
{
    s_t *t = *state;
    long long jane, bob;
    s_jane_and_bob_assigned(t, &jane, &bob);
    s_call(t, 2, s_outcome("o-1", "jane@acme.com", "r1", "accepted", NULL, NULL, 8 * H),
           s_outcome("o-2", "bob@beta.com", "r2", "accepted", NULL, NULL, 7 * H));
    assert_int_equal(s_count_out(t, "sla.breach"), 0); /* nothing to remind: accepted */
    s_expect(t,
             "SELECT group_concat(a.event_id || ' ' || b.step || '@' || b.at || ' ' || b.rep_id, "
             "',') FROM sla_breaches b JOIN assignments a ON a.id = b.assignment_id",
             "as-1 remind@25200000 r1");
    s_expect(t, "SELECT group_concat(status || ' ' || accepted_at, ',') FROM assignments",
             "accepted 28800000,accepted 25200000");
    /* a later tick, the same outcome again, the whole history again: still one breach */
    s_call(t, 1, s_tick(20 * H));
    assert_int_equal(s_count_out(t, "sla.breach"), 0);
    s_call(t, 1, s_outcome("o-1", "jane@acme.com", "r1", "accepted", NULL, NULL, 8 * H));
    s_expect(t, "SELECT COUNT(*) FROM sla_breaches", "1");
    /* a tick that saw the deadline pass first keeps its own row: the acceptance adds none */
    s_call(t, 1, s_lead("l-3", "kim@gamma.com", "hubspot", 1 * H, NULL));
    long long kim = s_lead_id(t, "kim@gamma.com");
    s_call(t, 2, s_scored("s-4", kim, 5 * H, 60, 40, true),
           s_assigned("as-3", kim, "r3", 5 * H, 7 * H));
    s_call(t, 1, s_tick(7 * H + 5));
    assert_int_equal(s_count_out(t, "sla.breach"), 1);
    s_call(t, 1, s_outcome("o-3", "kim@gamma.com", "r3", "accepted", NULL, NULL, 8 * H));
    s_expect(t,
             "SELECT group_concat(step || '@' || at, ',') FROM sla_breaches WHERE lead_id = "
             "(SELECT id FROM leads WHERE email = 'kim@gamma.com')",
             "remind@25200005");
}

/* A rejection is the rep's answer too: one after the deadline that no tick saw records the
 * breach at the deadline (and a note), one in time none; won/lost closings are no answer. */
static void test_late_reject_records_breach_at_deadline(void **state)
{
    s_t *t = *state;
    long long jane, bob;
    s_jane_and_bob_assigned(t, &jane, &bob);
    s_call(t, 2, s_outcome("o-1", "jane@acme.com", "r1", "rejected", "timing", "recycle", 9 * H),
           s_outcome("o-2", "bob@beta.com", "r2", "rejected", "timing", "recycle", 6 * H));
    s_expect(t,
             "SELECT group_concat(a.event_id || ' ' || b.step || '@' || b.at || ' ' || b.rep_id, "
             "',') FROM sla_breaches b JOIN assignments a ON a.id = b.assignment_id",
             "as-1 remind@25200000 r1");
    s_expect(t, "SELECT group_concat(status, ',') FROM assignments", "closed,closed");
    s_expect(t,
             "SELECT count(*) FROM stage_history WHERE kind = 'sla_late_reject' AND "
             "instr(reason, 'rejected by r1 2.0 h after the SLA deadline') > 0",
             "1");
    /* the same rejection again: still one breach */
    s_call(t, 1, s_outcome("o-1", "jane@acme.com", "r1", "rejected", "timing", "recycle", 9 * H));
    s_expect(t, "SELECT COUNT(*) FROM sla_breaches", "1");
}

/* The lead decayed back to RECYCLED while its route.request was being answered: the late
 * lead.assigned is a note, the lead stays RECYCLED without owner, SLA clock or packet, and
 * when it qualifies again it is routed afresh. */
static void test_assignment_after_decay_ignored(void **state)
{
    s_t *t = *state;
    s_import(t);
    long long jane = s_lead_id(t, "jane@acme.com");
    s_call(t, 1, s_scored("s-1", jane, 5 * H, 60, 40, true));
    assert_int_equal(s_count_out(t, "route.request"), 1);
    s_call(t, 1, s_scored("s-2", jane, 6 * H, 60, 5, false));
    s_expect(t, "SELECT stage FROM leads WHERE email='jane@acme.com'", "RECYCLED");
    s_call(t, 1, s_assigned("as-1", jane, "r1", 5 * H, 7 * H));
    assert_int_equal(s_count_out(t, "handoff.ready"), 0);
    s_expect(t,
             "SELECT stage || ' ' || IFNULL(owner_rep_id, '-') FROM leads WHERE "
             "email='jane@acme.com'",
             "RECYCLED -");
    s_expect(t, "SELECT COUNT(*) FROM assignments", "0");
    s_expect(t,
             "SELECT instr(reason, 'assignment to r1 ignored: the lead is already RECYCLED') > 0 "
             "FROM stage_history WHERE kind = 'assignment_ignored'",
             "1");
    s_call(t, 1, s_tick(20 * H));
    assert_int_equal(s_count_out(t, "sla.breach"), 0);
    /* engaged again, qualified again: a new routing request */
    s_call(t, 1, s_act("a-9", "jane@acme.com", "demo_request", "/demo", 21 * H));
    s_call(t, 1, s_scored("s-3", jane, 21 * H, 60, 60, true));
    s_expect(t, "SELECT stage FROM leads WHERE email='jane@acme.com'", "MQL");
    assert_int_equal(s_count_out(t, "route.request"), 1);
    assert_int_equal(json_integer_value(json_object_get(s_first_out(t, "route.request"), "as_of")),
                     21 * H);
}

/* The reply to the request made from the older snapshot of a lead. */
static ho_msg_t *s_scored_for(const char *id, json_t *request, int interest)
{
    long long lead_id =
        json_integer_value(json_object_get(json_object_get(request, "lead"), "lead_id"));
    ho_msg_t *m = s_scored(id, lead_id, json_integer_value(json_object_get(request, "as_of")), 60,
                           interest, true);
    json_object_set(ho_msg_payload(m), "seq", json_object_get(request, "seq"));
    return m;
}

/* With several scorers two requests for one lead can be answered in either order. The lead
 * takes the score of the newer request (as_of, then the store's request seq, which the scorer
 * echoes); the older one is kept in the score history only. */
static void test_scores_applied_in_request_order(void **state)
{
    s_t *t = *state;
    s_import(t);
    long long ids[2] = {s_lead_id(t, "jane@acme.com"), s_lead_id(t, "bob@beta.com")};
    const char *emails[2] = {"jane@acme.com", "bob@beta.com"};
    for (int reversed = 0; reversed < 2; reversed++) {
        const char *email = emails[reversed];
        char sid[32], aid[32], sql[160];
        snprintf(sid, sizeof sid, "s0-%d", reversed);
        s_call(t, 1, s_scored(sid, ids[reversed], 5 * H, 60, 40, true));
        /* two late activities, two requests as of the same time (the last scoring) */
        json_t *req[2];
        for (int k = 0; k < 2; k++) {
            snprintf(aid, sizeof aid, "late-%d-%d", reversed, k);
            s_call(t, 1, s_act(aid, email, "page_view", "/docs", (2 + k) * H));
            req[k] = json_incref(s_first_out(t, "score.request"));
            assert_int_equal(json_integer_value(json_object_get(req[k], "as_of")), 5 * H);
        }
        assert_true(json_is_integer(json_object_get(req[0], "seq")));
        assert_true(json_integer_value(json_object_get(req[1], "seq")) >
                    json_integer_value(json_object_get(req[0], "seq")));
        char old_id[32], new_id[32];
        snprintf(old_id, sizeof old_id, "old-%d", reversed);
        snprintf(new_id, sizeof new_id, "new-%d", reversed);
        if (reversed) {
            s_call(t, 1, s_scored_for(new_id, req[1], 11));
            s_call(t, 1, s_scored_for(old_id, req[0], 7));
        } else {
            s_call(t, 1, s_scored_for(old_id, req[0], 7));
            s_call(t, 1, s_scored_for(new_id, req[1], 11));
        }
        snprintf(sql, sizeof sql, "SELECT interest || ' ' || scored_at FROM leads WHERE email='%s'",
                 email);
        s_expect(t, sql, "11 18000000");
        snprintf(sql, sizeof sql,
                 "SELECT group_concat(interest, ',') FROM (SELECT interest FROM scores WHERE "
                 "lead_id = %lld ORDER BY id)",
                 ids[reversed]);
        s_expect(t, sql, reversed ? "40,11,7" : "40,7,11");
        json_decref(req[0]);
        json_decref(req[1]);
    }
    /* a newer as_of still wins over any seq; a reply without seq (an older scorer) is ordered
     * by as_of alone, as before */
    s_call(t, 1, s_scored("s-later", ids[0], 6 * H, 60, 3, true));
    s_expect(t, "SELECT interest FROM leads WHERE email='jane@acme.com'", "3");
    s_call(t, 1, s_scored("s-noseq", ids[0], 6 * H, 60, 4, true));
    s_expect(t, "SELECT interest FROM leads WHERE email='jane@acme.com'", "4");
}

/* A lead.scored is recorded by its scores row when it writes one, by an events row only when
 * it changes nothing (issue 13: no events insert per reply). Every redelivery, whichever way it
 * was recorded and whether a newer reply came since, changes nothing in the database and sends
 * the unowned MQL's route.request again. */
static void test_scored_recorded_by_row_or_claim(void **state)
{
    s_t *t = *state;
    s_import(t);
    const char *jane = "jane@acme.com";
    json_t *req[3];
    for (int k = 0; k < 3; k++) {
        char aid[32];
        snprintf(aid, sizeof aid, "r-%d", k);
        s_call(t, 1, s_act(aid, jane, "page_view", "/docs", (5 + k) * H));
        req[k] = json_incref(s_first_out(t, "score.request"));
    }
    /* a row; the same values again (no row: a claim); new values (a row) */
    s_call(t, 1, s_scored_for("sc-0", req[0], 40));
    s_call(t, 1, s_scored_for("sc-1", req[1], 40));
    s_call(t, 1, s_scored_for("sc-2", req[2], 45));
    s_expect(t, "SELECT group_concat(event_id, ',') FROM (SELECT event_id FROM scores ORDER BY id)",
             "sc-0,sc-2");
    s_expect(t, "SELECT COUNT(*) FROM events WHERE type = 'S'", "1");
    s_expect(t, "SELECT interest || ' ' || stage FROM leads WHERE email = 'jane@acme.com'",
             "45 MQL");
    char *before = s_dump(t);
    /* the held reply (its seq), an older one with a row, an older one with a claim */
    static const char *const again[] = {"sc-2", "sc-0", "sc-1"};
    for (int k = 0; k < 3; k++) {
        int which = again[k][3] - '0';
        s_call(t, 1, s_scored_for(again[k], req[which], which == 2 ? 45 : 40));
        assert_int_equal(s_count_out(t, "route.request"), 1);
        char *after = s_dump(t);
        assert_string_equal(before, after);
        free(after);
    }
    free(before);
    for (int k = 0; k < 3; k++) {
        json_decref(req[k]);
    }
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T(test_batch_once_per_lead_and_replay),
        T(test_scored_recorded_by_row_or_claim),
        T(test_scored_mql_routes_with_account_owner),
        T(test_rescore_before_assignment_repeats_route),
        T(test_handoff_packet),
        T(test_handoff_packet_full_context),
        T(test_outcomes),
        T(test_pending_outcome_out_of_order),
        T(test_sla_remind_then_reassign),
        T(test_score_decay_and_owner_kept),
        T(test_late_activity_rescored_as_of_last_scoring),
        T(test_activity_for_unknown_email),
        T(test_forget_keeps_counts),
        T(test_full_path_history),
        T(test_sales_recycled_needs_new_engagement),
        T(test_assignment_after_accept_ignored),
        T(test_quarantine_dead_letter_and_replay),
        T(test_replay_refused_again_reopens),
        T(test_batch_with_refused_message),
        T(test_tick_rescore),
        T(test_rescore_reaches_model_window),
        T(test_rescore_rotates_past_limit),
        T(test_late_accept_records_breach_at_deadline),
        T(test_late_reject_records_breach_at_deadline),
        T(test_assignment_after_decay_ignored),
        T(test_scores_applied_in_request_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
