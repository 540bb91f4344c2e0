/* test_ingest.c - the ingest worker driven in-process through ho_worker_call with envelopes
 * that went through the codec (as the runtime hands them over): lead.raw -> lead.normalized
 * (every normalization, unknown fields kept, ids and times carried over, profile date
 * formats), activity.raw -> activity.normalized, and each refusal quarantined with stage,
 * code, field, source_ref and the raw payload while the rest of the batch goes through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "handoff/worker.h"

extern const ho_worker_def_t ho_worker_ingest;

/* A message from JSON text, encoded and decoded once so it is exactly what a worker gets. */
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

static ho_out_t *s_call(ho_msg_t **in, size_t n)
{
    void *ctx = NULL;
    ho_err_t err;
    ho_worker_env_t env = {.name = "ingest", .origin = "ingest@test"};
    assert_int_equal(ho_worker_ingest.cb_init(&env, &ctx, &err), HO_OK);
    ho_out_t *out = ho_out_new("ingest@test");
    assert_int_equal(ho_worker_call(&ho_worker_ingest, ctx, in, n, out), HO_WORKER_OK);
    ho_worker_ingest.cb_exit(&ctx);
    /* the output must encode as one batch per type, as the runtime sends it */
    for (size_t i = 0; i < ho_out_count(out); i++) {
        char *buf;
        size_t len;
        assert_int_equal(ho_msg_encode(ho_out_at(out, i), &buf, &len), HO_OK);
        free(buf);
    }
    return out;
}

static const json_t *s_f(const ho_msg_t *m, const char *key)
{
    return json_object_get(json_object_get(ho_msg_payload(m), "fields"), key);
}

static void test_lead_normalized(void **state)
{
    (void)state;
    ho_msg_t *in = s_msg(
        "lead.raw", "lead-hubspot-0001",
        "{\"source\":\"hubspot\",\"source_ref\":{\"file\":\"contacts.csv\",\"line\":7},"
        "\"date_formats\":[\"%d.%m.%Y %H:%M\"],"
        "\"fields\":{\"email\":\"  Ada.Lovelace@Example-Analytics.COM \",\"full_name\":\"Ada King "
        "Lovelace\","
        "\"title\":\" VP, Data Platform \",\"company\":\"Example Analytics, Inc.\","
        "\"industry\":\"Hospital & Health Care\",\"employees\":\"500-1000\",\"revenue\":\"$12.5M\","
        "\"country\":\"United States\",\"state\":\"new york\",\"original_source\":\"Paid Social\","
        "\"created_at\":\"14.10.2026 "
        "09:12\",\"lifecycle_stage\":\"Lead\",\"favourite_tool\":\"Airflow\"},"
        "\"extra\":{\"HubSpot Score\":\"52\"}}");
    ho_out_t *out = s_call(&in, 1);
    assert_int_equal(ho_out_count(out), 1);
    ho_msg_t *m = ho_out_at(out, 0);
    assert_string_equal(ho_msg_type(m), "lead.normalized");
    assert_string_equal(ho_msg_id(m), "lead-hubspot-0001"); /* the raw id, for idempotence */
    assert_int_equal(ho_msg_ts(m), 1790000000000LL);
    const json_t *p = ho_msg_payload(m);
    assert_string_equal(json_string_value(json_object_get(p, "email")),
                        "ada.lovelace@example-analytics.com");
    assert_string_equal(json_string_value(json_object_get(p, "source")), "hubspot");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(p, "source_ref"), "line")),
                     7);
    assert_int_equal(json_integer_value(json_object_get(p, "observed_at")), 1791969120000LL);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(p, "extra"), "HubSpot Score")), "52");
    assert_string_equal(json_string_value(s_f(m, "domain")), "example-analytics.com");
    assert_true(json_is_false(s_f(m, "personal_email")));
    assert_string_equal(json_string_value(s_f(m, "first_name")), "Ada King");
    assert_string_equal(json_string_value(s_f(m, "last_name")), "Lovelace");
    assert_string_equal(json_string_value(s_f(m, "title")), "VP, Data Platform");
    assert_string_equal(json_string_value(s_f(m, "industry")), "Hospital & Health Care");
    assert_string_equal(json_string_value(s_f(m, "industry_group")), "healthcare");
    assert_int_equal(json_integer_value(s_f(m, "employees")), 750);
    assert_string_equal(json_string_value(s_f(m, "employees_label")), "500-1000");
    assert_true(json_number_value(s_f(m, "revenue")) == 12500000.0);
    assert_string_equal(json_string_value(s_f(m, "country")), "US");
    assert_string_equal(json_string_value(s_f(m, "state")), "NY");
    assert_string_equal(json_string_value(s_f(m, "original_source")), "Paid Social");
    assert_string_equal(json_string_value(s_f(m, "source_channel")), "paid_social");
    assert_int_equal(json_integer_value(s_f(m, "created_at")), 1791969120000LL);
    assert_string_equal(json_string_value(s_f(m, "lifecycle_stage")), "Lead");
    assert_string_equal(json_string_value(s_f(m, "favourite_tool")), "Airflow"); /* kept */
    ho_out_destroy(&out);
    ho_msg_destroy(&in);
}

static void test_lead_variants(void **state)
{
    (void)state;
    ho_msg_t *in[3];
    /* no created_at: observed_at is the envelope time; a state name without a country is US;
     * a free-mail domain is flagged; an unknown country is kept as a label */
    in[0] = s_msg("lead.raw", "a",
                  "{\"source\":\"facebook\",\"fields\":{\"email\":\"dev.rao@GMAIL.com\",\"state\":"
                  "\"Texas\"}}");
    in[1] = s_msg("lead.raw", "b",
                  "{\"source\":\"csv\",\"fields\":{\"email\":\"x@example.org\",\"country\":"
                  "\"Atlantis\",\"state\":\"Bavaria\",\"employees\":\"lots\"}}");
    in[2] = s_msg("lead.raw", "c",
                  "{\"source\":\"salesforce\",\"fields\":{\"email\":\"y@example.org\",\"country\":"
                  "\"DE\",\"state\":\"Bayern\",\"original_source\":\"Web\"}}");
    ho_out_t *out = s_call(in, 3);
    assert_int_equal(ho_out_count(out), 3);
    ho_msg_t *a = ho_out_at(out, 0), *b = ho_out_at(out, 1), *c = ho_out_at(out, 2);
    assert_int_equal(json_integer_value(json_object_get(ho_msg_payload(a), "observed_at")),
                     1790000000000LL);
    assert_string_equal(json_string_value(s_f(a, "state")), "TX");
    assert_string_equal(json_string_value(s_f(a, "country")), "US");
    assert_true(json_is_true(s_f(a, "personal_email")));
    assert_string_equal(json_string_value(s_f(a, "source_channel")), "paid_social");
    assert_null(s_f(b, "country"));
    assert_string_equal(json_string_value(s_f(b, "country_label")), "Atlantis");
    assert_string_equal(json_string_value(s_f(b, "state")), "Bavaria");
    assert_null(s_f(b, "employees"));
    assert_string_equal(json_string_value(s_f(b, "employees_label")), "lots");
    assert_string_equal(json_string_value(s_f(c, "state")), "Bayern");
    assert_string_equal(json_string_value(s_f(c, "source_channel")), "form");
    ho_out_destroy(&out);
    for (int i = 0; i < 3; i++) {
        ho_msg_destroy(&in[i]);
    }
}

static void s_expect_q(const ho_msg_t *q, const char *code, const char *field, const char *in_id,
                       const char *reason_part)
{
    assert_string_equal(ho_msg_type(q), "quarantine");
    const json_t *p = ho_msg_payload(q);
    assert_string_equal(json_string_value(json_object_get(p, "stage")), "ingest");
    assert_string_equal(json_string_value(json_object_get(p, "code")), code);
    assert_string_equal(json_string_value(json_object_get(p, "field")), field);
    assert_string_equal(json_string_value(json_object_get(p, "event_id")), in_id);
    const char *why = json_string_value(json_object_get(p, "reason"));
    if (!strstr(why, reason_part)) {
        fail_msg("reason '%s' lacks '%s'", why, reason_part);
    }
    assert_true(json_is_object(json_object_get(p, "raw"))); /* nothing is lost */
}

static void test_lead_refusals(void **state)
{
    (void)state;
    ho_msg_t *in[6];
    in[0] = s_msg("lead.raw", "r0",
                  "{\"source\":\"hubspot\",\"source_ref\":{\"file\":\"c.csv\",\"line\":5},"
                  "\"fields\":{\"first_name\":\"No\"}}");
    in[1] = s_msg("lead.raw", "r1",
                  "{\"source\":\"hubspot\",\"source_ref\":{\"file\":\"c.csv\",\"line\":6},"
                  "\"fields\":{\"email\":\"n/a\"}}");
    in[2] = s_msg("lead.raw", "r2",
                  "{\"source\":\"hubspot\",\"source_ref\":{\"file\":\"c.csv\",\"line\":7},"
                  "\"fields\":{\"email\":\"ok@example.com\",\"created_at\":\"31/13/2026 25:61\"}}");
    in[3] = s_msg("lead.raw", "r3",
                  "{\"source\":\"hubspot\",\"source_ref\":{\"file\":\"c.csv\",\"line\":8},"
                  "\"fields\":{\"email\":\"good@example.com\"}}");
    in[4] = s_msg("lead.raw", "r4",
                  "{\"source\":\"hubspot\",\"source_ref\":{\"webhook\":\"facebook\",\"id\":"
                  "\"8384\"},\"fields\":\"oops\"}");
    in[5] = s_msg("tick", "r5", "{\"now\":1}");
    ho_out_t *out = s_call(in, 6);
    assert_int_equal(ho_out_count(out), 6);
    s_expect_q(ho_out_at(out, 0), "missing_email", "email", "r0", "c.csv:5: no email address");
    s_expect_q(ho_out_at(out, 1), "bad_email", "email", "r1",
               "c.csv:6: \"n/a\" is not an email address");
    s_expect_q(ho_out_at(out, 2), "bad_date", "created_at", "r2",
               "c.csv:7: created_at \"31/13/2026 25:61\"");
    assert_string_equal(ho_msg_type(ho_out_at(out, 3)), "lead.normalized"); /* the batch goes on */
    s_expect_q(ho_out_at(out, 4), "bad_record", "fields", "r4", "facebook 8384:");
    s_expect_q(ho_out_at(out, 5), "unknown_type", "type", "r5", "\"tick\"");
    const json_t *ref = json_object_get(ho_msg_payload(ho_out_at(out, 0)), "source_ref");
    assert_string_equal(json_string_value(json_object_get(ref, "file")), "c.csv");
    assert_int_equal(json_integer_value(json_object_get(ref, "line")), 5);
    ho_out_destroy(&out);
    for (int i = 0; i < 6; i++) {
        ho_msg_destroy(&in[i]);
    }
}

static void test_activities(void **state)
{
    (void)state;
    ho_msg_t *in[5];
    in[0] = s_msg(
        "activity.raw", "act-1",
        "{\"source\":\"activities\",\"source_ref\":{\"file\":\"a.csv\",\"line\":2},\"fields\":{"
        "\"activity_id\":\"45dd\",\"email\":\" Aditi@Tamarind.IN\",\"activity_type\":\"page_view\","
        "\"activity_date\":\"2026-10-01T01:49:29Z\",\"url\":\"https://www.example.com/"
        "pricing?plan=team\","
        "\"campaign\":\"fy27\",\"source_system\":\"website\","
        "\"attributes\":\"{\\\"Referrer URL\\\":\\\"https://www.google.com/\\\"}\"}}");
    in[1] = s_msg("activity.raw", "act-2",
                  "{\"source\":\"activities\",\"fields\":{\"email\":\"a@example.com\",\"activity_"
                  "type\":\"Visit Webpage\","
                  "\"activity_date\":\"2026-10-01 "
                  "02:00:00\",\"url\":\"/blog/x#top\",\"attributes\":\"not json\"}}");
    in[2] = s_msg("activity.raw", "act-3",
                  "{\"source\":\"activities\",\"source_ref\":{\"file\":\"a.csv\",\"line\":4},"
                  "\"fields\":{\"email\":\"a@example.com\",\"activity_type\":\"page_view\"}}");
    in[3] = s_msg("activity.raw", "act-4",
                  "{\"source\":\"activities\",\"source_ref\":{\"file\":\"a.csv\",\"line\":5},"
                  "\"fields\":{\"email\":\"a@example.com\",\"activity_type\":\"fax_received\","
                  "\"activity_date\":\"2026-10-01\"}}");
    in[4] = s_msg("activity.raw", "act-5",
                  "{\"source\":\"activities\",\"source_ref\":{\"file\":\"a.csv\",\"line\":6},"
                  "\"fields\":{\"email\":\"a@example.com\",\"activity_type\":\"email_open\","
                  "\"activity_date\":\"14/10/2026 9h\"}}");
    ho_out_t *out = s_call(in, 5);
    assert_int_equal(ho_out_count(out), 5);
    ho_msg_t *a = ho_out_at(out, 0);
    assert_string_equal(ho_msg_type(a), "activity.normalized");
    assert_string_equal(ho_msg_id(a), "act-1");
    const json_t *p = ho_msg_payload(a);
    assert_string_equal(json_string_value(json_object_get(p, "email")), "aditi@tamarind.in");
    assert_string_equal(json_string_value(json_object_get(p, "activity_id")), "45dd");
    assert_string_equal(json_string_value(json_object_get(p, "type")), "page_view");
    assert_int_equal(json_integer_value(json_object_get(p, "occurred_at")), 1790819369000LL);
    assert_string_equal(json_string_value(json_object_get(p, "path")), "/pricing");
    assert_string_equal(json_string_value(json_object_get(p, "url")),
                        "https://www.example.com/pricing?plan=team");
    assert_string_equal(json_string_value(json_object_get(p, "campaign")), "fy27");
    assert_string_equal(json_string_value(json_object_get(p, "source_system")), "website");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(p, "attributes"), "Referrer URL")),
        "https://www.google.com/");
    p = ho_msg_payload(ho_out_at(out, 1));
    assert_string_equal(json_string_value(json_object_get(p, "type")), "page_view");
    assert_string_equal(json_string_value(json_object_get(p, "path")), "/blog/x");
    assert_string_equal(json_string_value(json_object_get(p, "activity_id")), "act-2");
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "attributes"), "raw")),
                        "not json");
    s_expect_q(ho_out_at(out, 2), "missing_date", "activity_date", "act-3", "a.csv:4:");
    s_expect_q(ho_out_at(out, 3), "unknown_activity_type", "activity_type", "act-4",
               "\"fax_received\"");
    s_expect_q(ho_out_at(out, 4), "bad_date", "activity_date", "act-5", "a.csv:6:");
    ho_out_destroy(&out);
    for (int i = 0; i < 5; i++) {
        ho_msg_destroy(&in[i]);
    }
}

static void test_registered(void **state)
{
    (void)state;
    const ho_worker_def_t *def = ho_worker_find("ingest");
    assert_non_null(def);
    assert_ptr_equal(def, &ho_worker_ingest);
}

/* The import a record came from goes with it: into lead.normalized, activity.normalized and
 * the quarantine of a refused one (CONTRACT-12); crm_stage and owner pass through. */
static void test_import_id_and_crm_fields(void **state)
{
    (void)state;
    ho_msg_t *in[3] = {
        s_msg("lead.raw", "lead-hubspot-77",
              "{\"source\":\"hubspot\",\"import_id\":\"imp-00112233aabbccdd\","
              "\"fields\":{\"email\":\"kim@example.io\",\"crm_stage\":\"SQL\","
              "\"owner\":\"Dana Reyes\"}}"),
        s_msg("lead.raw", "lead-hubspot-78",
              "{\"source\":\"hubspot\",\"import_id\":\"imp-00112233aabbccdd\","
              "\"fields\":{\"email\":\"kim@example..io\"}}"),
        s_msg("activity.raw", "act-1",
              "{\"source\":\"activities\",\"import_id\":\"imp-99\",\"fields\":{\"email\":"
              "\"kim@example.io\",\"activity_type\":\"page_view\",\"activity_date\":"
              "\"2026-10-14T09:12:45Z\"}}"),
    };
    ho_out_t *out = s_call(in, 3);
    assert_int_equal(ho_out_count(out), 3);
    for (size_t i = 0; i < 3; i++) {
        const ho_msg_t *m = ho_out_at(out, i);
        const char *imp = json_string_value(json_object_get(ho_msg_payload(m), "import_id"));
        assert_non_null(imp);
        if (!strcmp(ho_msg_type(m), "lead.normalized")) {
            assert_string_equal(imp, "imp-00112233aabbccdd");
            assert_string_equal(json_string_value(s_f(m, "crm_stage")), "SQL");
            assert_string_equal(json_string_value(s_f(m, "owner")), "Dana Reyes");
        } else if (!strcmp(ho_msg_type(m), "quarantine")) {
            assert_string_equal(imp, "imp-00112233aabbccdd");
            assert_string_equal(json_string_value(json_object_get(ho_msg_payload(m), "code")),
                                "bad_email");
        } else {
            assert_string_equal(ho_msg_type(m), "activity.normalized");
            assert_string_equal(imp, "imp-99");
        }
    }
    ho_out_destroy(&out);
    for (size_t i = 0; i < 3; i++) {
        ho_msg_destroy(&in[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lead_normalized), cmocka_unit_test(test_lead_variants),
        cmocka_unit_test(test_lead_refusals),   cmocka_unit_test(test_activities),
        cmocka_unit_test(test_registered),      cmocka_unit_test(test_import_id_and_crm_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
