/* test_profile_crm.c - CRM lifecycle stage / lead status / owner mapped onto crm_stage and
 * owner by the shipped profiles' `crm:` data (CONTRACT-12 section 1): HubSpot's default
 * lifecycle stages and eight Lead Status values, Salesforce's Lead Status picklist with
 * IsConverted and queue owners, Marketo and Mautic; then two fixture exports in the real
 * layouts read through the csv connector and the ingest handler, checking what arrives in
 * lead.normalized.fields; and the profile errors a wrong crm: map gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "handoff/connector.h"
#include "handoff/worker.h"

extern const ho_worker_def_t ho_worker_ingest;

static const char *s_stage(const ho_profile_t *p, const char *life, const char *status,
                           const char *converted)
{
    json_t *f = json_object();
    if (life) {
        json_object_set_new(f, "lifecycle_stage", json_string(life));
    }
    if (status) {
        json_object_set_new(f, "lead_status", json_string(status));
    }
    if (converted) {
        json_object_set_new(f, "is_converted", json_string(converted));
    }
    const char *s = ho_profile_crm_stage(p, f);
    json_decref(f);
    return s;
}

static void s_expect(const ho_profile_t *p, const char *life, const char *status,
                     const char *converted, const char *want)
{
    const char *got = s_stage(p, life, status, converted);
    int same = got && want ? strcmp(got, want) == 0 : got == want;
    if (!same) {
        fail_msg("%s: lifecycle=%s status=%s converted=%s: expected %s, got %s", ho_profile_name(p),
                 life ? life : "-", status ? status : "-", converted ? converted : "-",
                 want ? want : "(none)", got ? got : "(none)");
    }
}

static ho_profile_t *s_load(const char *name)
{
    ho_err_t err = {0};
    ho_profile_t *p = ho_profile_load(NULL, name, &err);
    if (!p) {
        fail_msg("%s: %s", name, err.message);
    }
    return p;
}

static void test_hubspot_rules(void **state)
{
    (void)state;
    ho_profile_t *p = s_load("hubspot");
    /* lifecycle stages alone */
    s_expect(p, "Subscriber", NULL, NULL, "ML");
    s_expect(p, "Lead", NULL, NULL, "ML");
    s_expect(p, "Other", NULL, NULL, "ML");
    s_expect(p, "Marketing Qualified Lead", NULL, NULL, "MQL");
    s_expect(p, "Sales Qualified Lead", NULL, NULL, "SQL");
    s_expect(p, "Opportunity", NULL, NULL, "OPPORTUNITY");
    s_expect(p, "Customer", NULL, NULL, "WON");
    s_expect(p, "Evangelist", NULL, NULL, "WON");
    s_expect(p, " marketing QUALIFIED lead ", NULL, NULL, "MQL"); /* trimmed, any case */
    s_expect(p, "salesqualifiedlead", NULL, NULL, "SQL");         /* API internal name */
    s_expect(p, "Champion", NULL, NULL, NULL);                    /* not a default stage */
    s_expect(p, NULL, NULL, NULL, NULL);
    /* the eight default Lead Status values */
    s_expect(p, "Lead", "New", NULL, "ML");
    s_expect(p, "Marketing Qualified Lead", "Open", NULL, "MQL");
    s_expect(p, "Sales Qualified Lead", "Bad Timing", NULL, "SQL");
    s_expect(p, "Lead", "Unqualified", NULL, "DISQUALIFIED");
    s_expect(p, "Subscriber", "Unqualified", NULL, "DISQUALIFIED");
    s_expect(p, NULL, "Unqualified", NULL, "DISQUALIFIED");
    s_expect(p, "Marketing Qualified Lead", "Unqualified", NULL, "MQL"); /* only at most Lead */
    s_expect(p, "Opportunity", "Unqualified", NULL, "OPPORTUNITY");
    s_expect(p, "Lead", "Open Deal", NULL, "OPPORTUNITY");
    s_expect(p, "Customer", "Open Deal", NULL, "WON"); /* at least: never lowers */
    s_expect(p, NULL, "Open Deal", NULL, "OPPORTUNITY");
    s_expect(p, "Marketing Qualified Lead", "In Progress", NULL, "SAL");
    s_expect(p, "Marketing Qualified Lead", "Attempted to Contact", NULL, "SAL");
    s_expect(p, "Marketing Qualified Lead", "Connected", NULL, "SAL");
    s_expect(p, "Sales Qualified Lead", "Connected", NULL, "SQL");
    s_expect(p, "Lead", "In Progress", NULL, "ML"); /* only if at least MQL, else ML */
    s_expect(p, "Subscriber", "Attempted to Contact", NULL, "ML");
    s_expect(p, NULL, "Connected", NULL, "ML");
    s_expect(p, "Marketing Qualified Lead", "IN_PROGRESS", NULL, "SAL");
    s_expect(p, NULL, "New", NULL, NULL); /* known status, says nothing, no stage */
    ho_profile_destroy(&p);
}

static void test_salesforce_rules(void **state)
{
    (void)state;
    ho_profile_t *p = s_load("salesforce");
    s_expect(p, NULL, "Open - Not Contacted", "false", "ML");
    s_expect(p, NULL, "Working - Contacted", "false", "SAL");
    s_expect(p, NULL, "Closed - Converted", "true", "SQL");
    s_expect(p, NULL, "Closed - Converted", NULL, "SQL");
    s_expect(p, NULL, "Closed - Not Converted", "false", "DISQUALIFIED");
    s_expect(p, NULL, "Open - Not Contacted", "true", "SQL"); /* IsConverted says SQL */
    s_expect(p, NULL, NULL, "true", "SQL");
    s_expect(p, NULL, NULL, "false", NULL);
    assert_true(ho_profile_not_owner(p, "00G8d0000XyZaBcEEE"));
    assert_false(ho_profile_not_owner(p, "0058d0000AbCdEfAAA"));
    assert_false(ho_profile_not_owner(p, NULL));
    ho_profile_destroy(&p);
}

static void test_marketo_mautic_rules(void **state)
{
    (void)state;
    ho_profile_t *p = s_load("marketo");
    s_expect(p, NULL, "Working - Contacted", NULL, "SAL");
    s_expect(p, NULL, "Marketing Qualified", NULL, "MQL");
    s_expect(p, NULL, "Sales Qualified", NULL, "SQL");
    s_expect(p, NULL, "Disqualified", NULL, "DISQUALIFIED");
    s_expect(p, NULL, "Nurture", NULL, "ML");
    ho_profile_destroy(&p);
    p = s_load("mautic");
    s_expect(p, "Lead", NULL, NULL, "ML");
    s_expect(p, "MQL", NULL, NULL, "MQL");
    s_expect(p, "SQL", NULL, NULL, "SQL");
    s_expect(p, "Customer", NULL, NULL, "WON");
    s_expect(p, "Lost", NULL, NULL, "LOST");
    ho_profile_destroy(&p);
    p = s_load("csv"); /* no crm: map: nothing is invented */
    s_expect(p, "Customer", "Open Deal", "true", NULL);
    ho_profile_destroy(&p);
}

/* The fixture through the csv connector and ingest: the normalized fields by email. */
static json_t *s_import(const char *name)
{
    char path[4096];
    const char *root = getenv("HO_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/fixtures/crm/%s", root ? root : HO_SOURCE_DIR, name);
    ho_err_t err = {0};
    char format[16];
    char **cols = NULL;
    size_t ncols = 0;
    assert_int_equal(ho_connector_sniff(path, format, sizeof format, &cols, &ncols, &err), HO_OK);
    ho_profile_t *p = ho_profile_detect(NULL, format, (const char *const *)cols, ncols, &err);
    ho_connector_cols_free(&cols, ncols);
    assert_non_null(p);
    const ho_connector_def_t *conn = ho_connector_find("csv");
    ho_connector_args_t args = {path, p, NULL};
    void *ctx = NULL;
    assert_int_equal(conn->cb_open(&args, &ctx, &err), HO_OK);
    json_t *by_email = json_object();
    ho_msg_t *m = NULL;
    while (conn->cb_next(ctx, &m, &err) == 1) {
        ho_out_t *out = ho_out_new("test");
        assert_int_equal(ho_worker_call(&ho_worker_ingest, NULL, &m, 1, out), HO_WORKER_OK);
        for (size_t i = 0; i < ho_out_count(out); i++) {
            const json_t *np = ho_msg_payload(ho_out_at(out, i));
            if (strcmp(ho_msg_type(ho_out_at(out, i)), "lead.normalized") == 0) {
                json_t *rec = json_pack("{s:O, s:O*}", "fields", json_object_get(np, "fields"),
                                        "extra", json_object_get(np, "extra"));
                json_object_set_new(by_email, json_string_value(json_object_get(np, "email")), rec);
            }
        }
        ho_out_destroy(&out);
        ho_msg_destroy(&m);
    }
    conn->cb_close(&ctx);
    ho_profile_destroy(&p);
    return by_email;
}

static const char *s_field(const json_t *by_email, const char *email, const char *key)
{
    const json_t *rec = json_object_get(by_email, email);
    if (!rec) {
        fail_msg("%s was not accepted", email);
    }
    return json_string_value(json_object_get(json_object_get(rec, "fields"), key));
}

static void s_is(const char *got, const char *want)
{
    if (!want) {
        assert_null(got);
    } else {
        assert_non_null(got);
        assert_string_equal(got, want);
    }
}

static void test_hubspot_export(void **state)
{
    (void)state;
    json_t *r = s_import("hubspot_stages.csv");
    assert_int_equal(json_object_size(r), 15); /* 17 rows: one person twice, one bad address */
    s_is(s_field(r, "luca.brandt@kestrel-logistics.de", "crm_stage"), "DISQUALIFIED");
    s_is(s_field(r, "mirela.vance@ashgrove-bank.co.uk", "crm_stage"), "MQL");
    s_is(s_field(r, "tomas.ekberg@fjordline-data.no", "crm_stage"), "SAL");
    s_is(s_field(r, "tomas.ekberg@fjordline-data.no", "owner"), "Dana Reyes");
    s_is(s_field(r, "tomas.ekberg@fjordline-data.no", "lifecycle_stage"),
         "Marketing Qualified Lead");
    s_is(s_field(r, "ines.castell@corvina-retail.es", "crm_stage"), "ML");
    s_is(s_field(r, "oren.hale@bluestem-health.com", "crm_stage"), "SQL");
    s_is(s_field(r, "priya.natarajan@quillfeather.io", "crm_stage"), "OPPORTUNITY");
    s_is(s_field(r, "georg.lindqvist@northpier-insurance.se", "crm_stage"), "OPPORTUNITY");
    s_is(s_field(r, "amara.osei@saltmarsh-energy.com", "crm_stage"), "WON");
    s_is(s_field(r, "felix.moreau@larkspur-media.fr", "crm_stage"), "WON");
    s_is(s_field(r, "hana.kobayashi@ironbark-systems.com", "crm_stage"), "ML");
    s_is(s_field(r, "hana.kobayashi@ironbark-systems.com", "owner"), NULL);
    s_is(s_field(r, "rafael.dominguez@pinecrest-labs.com", "crm_stage"), "ML");
    s_is(s_field(r, "elena.petrova@granite-point.com", "crm_stage"), NULL);
    s_is(s_field(r, "kwame.mensah@harborlight.com", "crm_stage"), NULL);
    s_is(s_field(r, "yara.haddad@cedarline-telecom.com", "crm_stage"), "MQL");
    /* the later row of the same person (last one read here) */
    s_is(s_field(r, "sabine.okafor@tidewater-analytics.com", "crm_stage"), "ML");
    json_decref(r);
}

static void test_salesforce_export(void **state)
{
    (void)state;
    json_t *r = s_import("salesforce_stages.csv");
    assert_int_equal(json_object_size(r), 7);
    s_is(s_field(r, "maren.solberg@fernhill-data.no", "crm_stage"), "ML");
    s_is(s_field(r, "maren.solberg@fernhill-data.no", "owner"), "0058d0000AbCdEfAAA");
    s_is(s_field(r, "viktor.hale@quarrystone.com", "crm_stage"), "SAL");
    s_is(s_field(r, "viktor.hale@quarrystone.com", "owner"), NULL); /* a queue */
    const json_t *extra =
        json_object_get(json_object_get(r, "viktor.hale@quarrystone.com"), "extra");
    s_is(json_string_value(json_object_get(extra, "owner_queue")), "00G8d0000XyZaBcEEE");
    s_is(s_field(r, "leila.farouk@sandpiper-finance.com", "crm_stage"), "SQL");
    s_is(s_field(r, "jonas.weber@eisvogel-maschinen.de", "crm_stage"), "DISQUALIFIED");
    s_is(s_field(r, "chloe.durand@marigold-health.fr", "crm_stage"), "SQL");
    s_is(s_field(r, "arjun.mehta@tealwater.in", "crm_stage"), NULL);
    s_is(s_field(r, "arjun.mehta@tealwater.in", "owner"), NULL);
    s_is(s_field(r, "tomas.ekberg@fjordline-data.no", "crm_stage"), "SAL");
    json_decref(r);
}

static void s_bad(const char *yaml, const char *want)
{
    ho_err_t err = {0};
    ho_profile_t *p = ho_profile_parse(yaml, strlen(yaml), "bad.yaml", &err);
    if (p) {
        ho_profile_destroy(&p);
        fail_msg("accepted: %s", yaml);
    }
    if (!strstr(err.message, want)) {
        fail_msg("error \"%s\" does not say \"%s\"", err.message, want);
    }
}

static void test_bad_crm_maps(void **state)
{
    (void)state;
    const char *head = "name: x\nkind: lead\ncolumns: {Email: email}\n";
    char y[600];
    snprintf(y, sizeof y, "%scrm:\n  lifecycle_stage:\n    Lead: LEAD\n", head);
    s_bad(y, "bad.yaml:6");
    s_bad(y, "expected a stage code");
    snprintf(y, sizeof y, "%scrm:\n  lead_status:\n    Open: {at_lest: SAL}\n", head);
    s_bad(y, "at_lest");
    snprintf(y, sizeof y, "%scrm:\n  lead_status:\n    Open: SAL\n", head);
    s_bad(y, "expected a rule map");
    snprintf(y, sizeof y, "%scrm:\n  owners: []\n", head);
    s_bad(y, "owners");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hubspot_rules),        cmocka_unit_test(test_salesforce_rules),
        cmocka_unit_test(test_marketo_mautic_rules), cmocka_unit_test(test_hubspot_export),
        cmocka_unit_test(test_salesforce_export),    cmocka_unit_test(test_bad_crm_maps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
