/* test_feedback.c - the feedback worker driven in-process (cb_init with a gateway-less env,
 * ho_worker_call) with envelopes that went through the codec: every outcome becomes a
 * lead.outcome with the taxonomy's owner and disposition; a blank reason on lost/rejected is
 * `unspecified`; unknown or misplaced reasons and bad amounts are kept and flagged (sales'
 * word is never thrown away, issue 12); only what cannot be a fact (unknown outcomes, bad
 * emails and dates) is quarantined with stage, code, field and the raw row while the rest of
 * the batch goes on;
 * the same feedback_id gives the same event id whichever way it came. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "handoff/feedback.h"
#include "handoff/worker.h"

extern const ho_worker_def_t ho_worker_feedback;

static ho_msg_t *s_msg(const char *type, const char *id, const char *payload_json)
{
    ho_msg_t *m = ho_msg_new(type);
    ho_msg_set_id(m, id);
    ho_msg_set_ts(m, 1790000000000LL);
    json_error_t jerr;
    json_t *p = json_loads(payload_json, 0, &jerr);
    if (!p) {
        fail_msg("bad test JSON: %s", jerr.text);
    }
    ho_msg_set_payload(m, p);
    char *buf;
    size_t len;
    assert_int_equal(ho_msg_encode(m, &buf, &len), HO_OK);
    ho_msg_destroy(&m);
    ho_err_t err;
    assert_int_equal(ho_msg_decode(buf, len, &m, &err), HO_OK);
    free(buf);
    return m;
}

/* A feedback.raw row as the CSV connector makes it. */
static ho_msg_t *s_row(const char *fid, const char *email, const char *outcome, const char *reason,
                       const char *at, const char *notes, const char *amount, long line)
{
    json_t *fields = json_pack("{s:s, s:s, s:s, s:s, s:s}", "feedback_id", fid, "email", email,
                               "rep_id", "R05", "outcome", outcome, "occurred_at", at);
    if (reason) {
        json_object_set_new(fields, "reason", json_string(reason));
    }
    if (notes) {
        json_object_set_new(fields, "notes", json_string(notes));
    }
    if (amount) {
        json_object_set_new(fields, "amount", json_string(amount));
    }
    json_t *p = json_pack("{s:s, s:{s:s, s:i}, s:o}", "source", "feedback", "source_ref", "file",
                          "fb_test.csv", "line", (int)line, "fields", fields);
    char *text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    char id[64];
    snprintf(id, sizeof id, "fb-feedback-%s", fid);
    ho_msg_t *m = s_msg("feedback.raw", id, text);
    free(text);
    return m;
}

static ho_out_t *s_run(ho_msg_t **in, size_t n)
{
    void *ctx = NULL;
    ho_err_t err = {0};
    ho_worker_env_t env = {.name = "feedback", .origin = "feedback@test"};
    assert_int_equal(ho_worker_feedback.cb_init(&env, &ctx, &err), HO_OK);
    ho_out_t *out = ho_out_new("feedback@test");
    assert_int_equal(ho_worker_call(&ho_worker_feedback, ctx, in, n, out), HO_WORKER_OK);
    ho_worker_feedback.cb_exit(&ctx);
    assert_null(ctx);
    for (size_t i = 0; i < n; i++) {
        ho_msg_destroy(&in[i]);
    }
    return out;
}

static const json_t *s_p(ho_out_t *out, size_t i)
{
    return ho_msg_payload(ho_out_at(out, i));
}

static const char *s_s(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void test_every_outcome(void **state)
{
    (void)state;
    ho_msg_t *in[] = {
        s_row("T1", " Ada@Example.COM ", "accepted", "", "2026-10-01T12:20:41Z", "calling Thu", "",
              2),
        s_row("T2", "ada@example.com", "sql", NULL, "2026-10-02T00:00:00Z", NULL, NULL, 3),
        s_row("T3", "ada@example.com", "opportunity", "", "2026-10-03", "", "", 4),
        s_row("T4", "ada@example.com", "won", "", "2026-10-04T10:00:00Z", "Signed", "$36,000", 5),
        s_row("T5", "bo@example.com", "rejected", "not_a_fit", "2026-10-05T10:00:00Z",
              "Needs mainframe connectors, we don't have them", "", 6),
        s_row("T6", "cy@example.com", "lost", "competitor", "2026-10-06T10:00:00Z", "open source",
              "", 7),
        s_row("T7", "di@example.com", "rejected", "timing", "2026-10-07T10:00:00Z", "", "", 8),
    };
    ho_out_t *out = s_run(in, 7);
    assert_int_equal(ho_out_count(out), 7);
    static const char *const outcomes[] = {"accepted", "sql",  "opportunity", "won",
                                           "rejected", "lost", "rejected"};
    for (size_t i = 0; i < 7; i++) {
        assert_string_equal(ho_msg_type(ho_out_at(out, i)), "lead.outcome");
        assert_string_equal(s_s(s_p(out, i), "outcome"), outcomes[i]);
    }
    /* accepted: normalized email, no reason, notes kept, the row's own time */
    const json_t *a = s_p(out, 0);
    assert_string_equal(s_s(a, "email"), "ada@example.com");
    assert_string_equal(s_s(a, "feedback_id"), "T1");
    assert_string_equal(s_s(a, "rep_id"), "R05");
    assert_true(json_is_null(json_object_get(a, "reason")));
    assert_true(json_is_null(json_object_get(a, "amount")));
    assert_string_equal(s_s(a, "notes"), "calling Thu");
    assert_int_equal(json_integer_value(json_object_get(a, "occurred_at")), 1790857241000LL);
    assert_string_equal(s_s(json_object_get(a, "source_ref"), "file"), "fb_test.csv");
    /* a date without a time is midnight UTC */
    assert_int_equal(json_integer_value(json_object_get(s_p(out, 2), "occurred_at")),
                     1790985600000LL);
    /* won: the amount as a number */
    assert_true(json_real_value(json_object_get(s_p(out, 3), "amount")) == 36000.0);
    /* rejected, marketing's reason: owner and disposition from the taxonomy, notes beside */
    const json_t *r = s_p(out, 4);
    assert_string_equal(s_s(r, "reason"), "not_a_fit");
    assert_string_equal(s_s(r, "reason_owner"), "marketing");
    assert_string_equal(s_s(r, "disposition"), "disqualify");
    assert_string_equal(s_s(r, "notes"), "Needs mainframe connectors, we don't have them");
    /* lost: sales' reason, no disposition (that is for rejections) */
    const json_t *l = s_p(out, 5);
    assert_string_equal(s_s(l, "reason"), "competitor");
    assert_string_equal(s_s(l, "reason_owner"), "sales");
    assert_true(json_is_null(json_object_get(l, "disposition")));
    /* rejected for timing: recycled to nurture */
    assert_string_equal(s_s(s_p(out, 6), "disposition"), "recycle");
    ho_out_destroy(&out);
}

/* payload.flags of output i as "a,b" ("" for none) */
static const char *s_flags(ho_out_t *out, size_t i, char *buf, size_t cap)
{
    buf[0] = '\0';
    size_t used = 0, k;
    json_t *f;
    json_array_foreach(json_object_get(s_p(out, i), "flags"), k, f)
    {
        used +=
            (size_t)snprintf(buf + used, cap - used, "%s%s", used ? "," : "", json_string_value(f));
    }
    return buf;
}

static void test_blank_reason_unspecified(void **state)
{
    (void)state;
    /* a rejection or loss without a reason is recorded as unspecified (issue 12: reasons
     * never cost an outcome), trimmed and in any case */
    ho_msg_t *in[] = {
        s_row("U1", "ilse@example.nl", "lost", "", "2026-10-22T09:44:16Z", "Closed lost", "", 2),
        s_row("U2", "ilse@example.nl", "rejected", "  ", "2026-10-22T09:44:16Z", NULL, NULL, 3),
        s_row("U3", "ilse@example.nl", " Rejected ", NULL, "2026-10-22T09:44:16Z", NULL, NULL, 4),
        s_row("U4", "ilse@example.nl", "lost", " Unspecified ", "2026-10-22T09:44:16Z", NULL, NULL,
              5),
    };
    ho_out_t *out = s_run(in, 4);
    assert_int_equal(ho_out_count(out), 4);
    char buf[128];
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(ho_msg_type(ho_out_at(out, i)), "lead.outcome");
        assert_string_equal(s_s(s_p(out, i), "reason"), "unspecified");
        assert_string_equal(s_s(s_p(out, i), "reason_owner"), "sales");
        assert_string_equal(s_flags(out, i, buf, sizeof buf), "");
    }
    assert_string_equal(s_s(s_p(out, 2), "outcome"), "rejected");
    ho_out_destroy(&out);
}

static void test_blank_reason_when_configured(void **state)
{
    (void)state;
    /* a deployment whose sales tool leaves blanks may name a code for them */
    const char *yaml = "blank_reason: unspecified\n"
                       "reasons:\n"
                       "  unspecified: {label: No reason given, owner: sales, outcomes: [rejected, "
                       "lost], disposition: recycle}\n";
    ho_err_t err = {0};
    ho_reasons_t *r = ho_reasons_parse(yaml, strlen(yaml), "lenient.yaml", &err);
    if (!r) {
        fail_msg("%s", err.message);
    }
    ho_msg_t *in = s_row("U5", "ilse@example.nl", "rejected", "", "2026-10-22", "", "", 2);
    ho_msg_t *o = NULL;
    ho_feedback_refusal_t why;
    assert_int_equal(ho_feedback_validate(r, in, &o, &why), HO_OK);
    assert_string_equal(s_s(ho_msg_payload(o), "reason"), "unspecified");
    assert_string_equal(s_s(ho_msg_payload(o), "disposition"), "recycle");
    ho_msg_destroy(&o);
    ho_msg_destroy(&in);
    ho_reasons_destroy(&r);
}

static void s_expect_q(ho_out_t *out, size_t i, const char *code, const char *field,
                       const char *needle)
{
    ho_msg_t *m = ho_out_at(out, i);
    assert_string_equal(ho_msg_type(m), "quarantine");
    const json_t *p = ho_msg_payload(m);
    assert_string_equal(s_s(p, "stage"), "feedback");
    assert_string_equal(s_s(p, "code"), code);
    assert_string_equal(s_s(p, "field"), field);
    const char *reason = s_s(p, "reason");
    if (!strstr(reason, needle) || !strstr(reason, "fb_test.csv:")) {
        fail_msg("reason \"%s\" lacks \"%s\" or the file:line", reason, needle);
    }
    /* the refused row is kept whole */
    assert_non_null(json_object_get(json_object_get(p, "raw"), "fields"));
    assert_string_equal(s_s(p, "event_type"), "feedback.raw");
}

static void test_refusals(void **state)
{
    (void)state;
    ho_msg_t *in[] = {
        s_row("Q1", "a@example.com", "lost", " Weather ", "2026-10-01T00:00:00Z", "", "", 2),
        s_row("Q2", "a@example.com", "accepted", "timing", "2026-10-01T00:00:00Z", "", "", 3),
        s_row("Q3", "a@example.com", "lost", "bad_contact_data", "2026-10-01T00:00:00Z", "", "", 4),
        s_row("Q4", "a@example.com", "on_hold", "", "2026-10-01T00:00:00Z", "", "", 5),
        s_row("Q5", "", "accepted", "", "2026-10-01T00:00:00Z", "", "", 6),
        s_row("Q6", "not-an-address", "accepted", "", "2026-10-01T00:00:00Z", "", "", 7),
        s_row("Q7", "a@example.com", "accepted", "", "yesterday", "", "", 8),
        s_row("Q8", "a@example.com", "won", "", "2026-10-01T00:00:00Z", "", "-5", 9),
        s_row("Q9", "a@example.com", "won", "", "2026-10-01T00:00:00Z", "", "lots", 10),
        s_row("Q10", "a@example.com", "accepted", "", "", "", "", 11),
        s_row("OK1", "good@example.com", "won", "", "2026-10-01T00:00:00Z", "", "18750", 12),
    };
    ho_out_t *out = s_run(in, 11);
    assert_int_equal(ho_out_count(out), 11);
    char buf[128];
    /* a reason outside the taxonomy, or not listed for the outcome: kept as given, flagged */
    assert_string_equal(ho_msg_type(ho_out_at(out, 0)), "lead.outcome");
    assert_string_equal(s_s(s_p(out, 0), "reason"), "weather");
    assert_true(json_is_null(json_object_get(s_p(out, 0), "reason_owner")));
    assert_string_equal(s_flags(out, 0, buf, sizeof buf), "reason_outside_taxonomy");
    assert_string_equal(ho_msg_type(ho_out_at(out, 1)), "lead.outcome");
    assert_string_equal(s_s(s_p(out, 1), "reason"), "timing");
    assert_string_equal(s_flags(out, 1, buf, sizeof buf), "reason_not_for_outcome");
    assert_string_equal(s_flags(out, 2, buf, sizeof buf), "reason_not_for_outcome");
    assert_string_equal(s_s(s_p(out, 2), "reason"), "bad_contact_data");
    /* what cannot be a fact is quarantined */
    s_expect_q(out, 3, "unknown_outcome", "fields.outcome", "\"on_hold\"");
    s_expect_q(out, 4, "missing_email", "fields.email", "Q5");
    s_expect_q(out, 5, "bad_email", "fields.email", "not-an-address");
    s_expect_q(out, 6, "bad_date", "fields.occurred_at", "yesterday");
    /* an amount that is not one: the outcome without it, flagged */
    for (size_t i = 7; i <= 8; i++) {
        assert_string_equal(ho_msg_type(ho_out_at(out, i)), "lead.outcome");
        assert_true(json_is_null(json_object_get(s_p(out, i), "amount")));
        assert_string_equal(s_flags(out, i, buf, sizeof buf), "bad_amount");
    }
    s_expect_q(out, 9, "missing_date", "fields.occurred_at", "Q10");
    /* the good row of the same batch went through */
    assert_string_equal(ho_msg_type(ho_out_at(out, 10)), "lead.outcome");
    assert_true(json_real_value(json_object_get(s_p(out, 10), "amount")) == 18750.0);
    assert_string_equal(s_flags(out, 10, buf, sizeof buf), "");
    ho_out_destroy(&out);
}

static void test_duplicates_same_event(void **state)
{
    (void)state;
    /* the same feedback id by CSV and by HTTP (other envelope id, other source_ref) */
    ho_msg_t *csv =
        s_row("NWF-7", "x@example.com", "lost", "budget", "2026-10-01T00:00:00Z", "", "", 2);
    ho_msg_t *http = s_msg("feedback.raw", "fb-http-1",
                           "{\"source\":\"http\",\"source_ref\":{\"webhook\":\"feedback\",\"id\":"
                           "\"NWF-7\"},\"fields\":{\"feedback_id\":\"NWF-7\",\"email\":\"X@example."
                           "com\",\"outcome\":\"lost\",\"reason\":\"budget\",\"occurred_at\":"
                           "\"2026-10-01T00:00:00Z\"}}");
    ho_msg_t *other =
        s_row("NWF-8", "x@example.com", "lost", "budget", "2026-10-01T00:00:00Z", "", "", 3);
    ho_msg_t *in[] = {csv, http, other};
    ho_out_t *out = s_run(in, 3);
    assert_int_equal(ho_out_count(out), 3);
    assert_string_equal(ho_msg_id(ho_out_at(out, 0)), ho_msg_id(ho_out_at(out, 1)));
    assert_string_not_equal(ho_msg_id(ho_out_at(out, 0)), ho_msg_id(ho_out_at(out, 2)));
    /* and a rerun of the same row gives the same id again */
    ho_msg_t *again[] = {
        s_row("NWF-7", "x@example.com", "lost", "budget", "2026-10-01T00:00:00Z", "", "", 2)};
    ho_out_t *out2 = s_run(again, 1);
    assert_string_equal(ho_msg_id(ho_out_at(out2, 0)), ho_msg_id(ho_out_at(out, 0)));
    /* a redelivered bad row is quarantined under the same id too */
    ho_msg_t *bad1[] = {s_row("B1", "x@example.com", "lost", "budget", "never", "", "", 2)};
    ho_msg_t *bad2[] = {s_row("B1", "x@example.com", "lost", "budget", "never", "", "", 2)};
    ho_out_t *q1 = s_run(bad1, 1), *q2 = s_run(bad2, 1);
    assert_string_equal(ho_msg_id(ho_out_at(q1, 0)), ho_msg_id(ho_out_at(q2, 0)));
    ho_out_destroy(&q1);
    ho_out_destroy(&q2);
    ho_out_destroy(&out2);
    ho_out_destroy(&out);
}

static void test_not_feedback(void **state)
{
    (void)state;
    ho_msg_t *in[] = {s_msg("lead.raw", "x-1", "{\"fields\":{}}"),
                      s_msg("feedback.raw", "x-2", "{\"fields\":\"nope\"}")};
    ho_out_t *out = s_run(in, 2);
    assert_int_equal(ho_out_count(out), 2);
    assert_string_equal(s_s(s_p(out, 0), "code"), "unknown_type");
    assert_string_equal(s_s(s_p(out, 1), "code"), "bad_record");
    ho_out_destroy(&out);
}

static void test_blank_with_strict_taxonomy(void **state)
{
    (void)state;
    /* a taxonomy without blank_reason and without the code: a blank is still unspecified,
     * recorded and flagged as outside that taxonomy (never refused) */
    const char *yaml = "blank_reason: \"\"\n"
                       "reasons:\n"
                       "  budget: {label: No budget, owner: sales, outcomes: [lost]}\n";
    ho_err_t err = {0};
    ho_reasons_t *r = ho_reasons_parse(yaml, strlen(yaml), "strict.yaml", &err);
    if (!r) {
        fail_msg("%s", err.message);
    }
    ho_msg_t *in = s_row("S1", "a@example.com", "lost", "", "2026-10-01", "", "", 2);
    ho_msg_t *o = NULL;
    ho_feedback_refusal_t why;
    assert_int_equal(ho_feedback_validate(r, in, &o, &why), HO_OK);
    assert_string_equal(s_s(ho_msg_payload(o), "reason"), "unspecified");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(ho_msg_payload(o), "flags"), 0)),
        "reason_outside_taxonomy");
    ho_msg_destroy(&o);
    ho_msg_destroy(&in);
    in = s_row("S2", "a@example.com", "lost", "budget", "2026-10-01", "", "", 3);
    assert_int_equal(ho_feedback_validate(r, in, &o, &why), HO_OK);
    assert_string_equal(s_s(ho_msg_payload(o), "reason"), "budget");
    assert_int_equal(json_array_size(json_object_get(ho_msg_payload(o), "flags")), 0);
    ho_msg_destroy(&o);
    ho_msg_destroy(&in);
    ho_reasons_destroy(&r);
    ho_reasons_destroy(&r);
}

static void test_registered(void **state)
{
    (void)state;
    const ho_worker_def_t *def = ho_worker_find("feedback");
    assert_non_null(def);
    assert_ptr_equal(def, &ho_worker_feedback);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_outcome),
        cmocka_unit_test(test_blank_reason_unspecified),
        cmocka_unit_test(test_blank_reason_when_configured),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_duplicates_same_event),
        cmocka_unit_test(test_not_feedback),
        cmocka_unit_test(test_blank_with_strict_taxonomy),
        cmocka_unit_test(test_registered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
