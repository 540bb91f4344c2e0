/* test_forms.c - the forms library over fixture payloads in the real shapes
 * (tests/fixtures/webhooks/, written for the project): every shape is recognised and mapped
 * onto the canonical fields with its source, source_ref {webhook, id} and the event id made
 * from the submission id; what cannot be a lead comes back with a quarantine code; test leads,
 * re-deliveries and bare leadgen notifications come back skipped with their reason; documents
 * of the wrong types never crash; the `forms` import connector reads a JSON Lines capture
 * with every quirk into exact lead and quarantine envelopes with file and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "handoff/connector.h"
#include "handoff/forms.h"

static char s_dir[1024];

static void s_path(const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", s_dir, name);
}

static json_t *s_load(const char *name)
{
    char path[1200];
    s_path(name, path, sizeof path);
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc) {
        fail_msg("%s: %s", path, jerr.text);
    }
    return doc;
}

static ho_linkedin_forms_t *s_forms(void)
{
    char path[1200];
    s_path("linkedin_lead_forms.json", path, sizeof path);
    ho_err_t err = {0};
    ho_linkedin_forms_t *f = ho_linkedin_forms_load(path, &err);
    if (!f) {
        fail_msg("%s", err.message);
    }
    return f;
}

/* Map a fixture; exactly n items. */
static void s_map(const char *name, const ho_linkedin_forms_t *li, ho_form_result_t *res, size_t n)
{
    json_t *doc = s_load(name);
    ho_form_opts_t o = {.linkedin = li};
    ho_err_t err = {0};
    int rc = ho_form_map(doc, &o, res, &err);
    json_decref(doc);
    if (rc != HO_OK) {
        fail_msg("%s: %s", name, err.message);
    }
    assert_int_equal(res->n, n);
}

static const json_t *s_fields(const ho_msg_t *m)
{
    return json_object_get(ho_msg_payload(m), "fields");
}

static void s_eq(const json_t *obj, const char *key, const char *want)
{
    const char *got = json_string_value(json_object_get(obj, key));
    if (!got || strcmp(got, want) != 0) {
        fail_msg("%s: got \"%s\", want \"%s\"", key, got ? got : "(absent)", want);
    }
}

/* source, source_ref and id of a lead.raw */
static void s_ident(const ho_msg_t *m, const char *source, const char *subid)
{
    assert_string_equal(ho_msg_type(m), "lead.raw");
    const json_t *p = ho_msg_payload(m);
    s_eq(p, "source", source);
    s_eq(json_object_get(p, "source_ref"), "webhook", source);
    s_eq(json_object_get(p, "source_ref"), "id", subid);
    char prefix[64], id[HO_MSG_MAX_ID];
    snprintf(prefix, sizeof prefix, "lead-%s", source);
    ho_msg_make_id(id, sizeof id, prefix, subid, strlen(subid));
    assert_string_equal(ho_msg_id(m), id);
}

static void test_facebook_lead(void **state)
{
    (void)state;
    ho_form_result_t res;
    s_map("facebook_lead.json", NULL, &res, 1);
    assert_int_equal(res.shape, HO_FORM_FACEBOOK);
    ho_msg_t *m = res.items[0].msg;
    assert_null(res.items[0].qcode);
    s_ident(m, "facebook", "5550001112223334");
    const json_t *f = s_fields(m);
    s_eq(f, "email", "marisol.q@tidewaterfreight.example"); /* work_email */
    s_eq(f, "full_name", "Marisol Quintanilla Ortega");
    s_eq(f, "phone", "+15035550147");
    s_eq(f, "company", "Tidewater Freight Co.");
    s_eq(f, "title", "VP Operations");
    s_eq(f, "employees", "501-1,000"); /* a custom question about company size */
    s_eq(f, "state", "OR");
    s_eq(f, "created_at", "2026-09-14T08:05:11+0000");
    s_eq(f, "original_source", "instagram");
    s_eq(f, "campaign", "Ops Survey 2026");
    s_eq(f, "source_detail", "Ops Survey - Carousel - Ad 2");
    s_eq(f, "source_record_id", "5550001112223334");
    const json_t *extra = json_object_get(ho_msg_payload(m), "extra");
    s_eq(extra, "which_tools_do_you_use?", "Airflow; dbt"); /* multi-select joined */
    s_eq(extra, "form_id", "771100220033");
    s_eq(extra, "adset_name", "Ops Survey - Lookalike 2%");
    assert_true(json_is_false(json_object_get(extra, "is_organic")));
    ho_form_result_clear(&res);
    ho_form_result_clear(&res);
}

static void test_facebook_change(void **state)
{
    (void)state;
    ho_form_result_t res;
    /* a notification with answers: the feed change is not a lead, the leadgen one is */
    s_map("facebook_change.json", NULL, &res, 1);
    assert_int_equal(res.shape, HO_FORM_FACEBOOK_CHANGE);
    assert_null(res.items[0].qcode);
    s_ident(res.items[0].msg, "facebook", "5550001112229999");
    const json_t *f = s_fields(res.items[0].msg);
    s_eq(f, "email", "tobiah.wren@kestrelmills.example");
    s_eq(f, "first_name", "Tobiah");
    s_eq(f, "last_name", "Wren");
    s_eq(f, "created_at", "1789371234"); /* epoch seconds, as Facebook sends them */
    ho_form_result_clear(&res);

    /* only the leadgen_id: cannot be fetched here; not a lead, skipped with a reason */
    s_map("facebook_change_id_only.json", NULL, &res, 1);
    ho_form_item_t *it = &res.items[0];
    assert_null(it->qcode);
    assert_string_equal(it->skip, "notification_only");
    assert_string_equal(it->field, "entry[0].changes[0].value.field_data");
    assert_non_null(strstr(it->reason, "5550001112228888"));
    assert_non_null(strstr(it->reason, "leadgen_id"));
    s_ident(it->msg, "facebook", "5550001112228888");
    const json_t *extra = json_object_get(ho_msg_payload(it->msg), "extra");
    s_eq(json_object_get(extra, "notification"), "leadgen_id", "5550001112228888");
    /* its skip envelope names the submission (and is never sent) */
    ho_msg_t *q = ho_form_skip(it->msg, it->skip, it->reason);
    const json_t *qp = ho_msg_payload(q);
    assert_string_equal(ho_msg_type(q), "skip");
    s_eq(qp, "code", "notification_only");
    s_eq(qp, "event_id", ho_msg_id(it->msg));
    s_eq(qp, "event_type", "lead.raw");
    s_eq(qp, "source", "facebook");
    ho_msg_destroy(&q);
    ho_form_result_clear(&res);
}

static void test_facebook_no_email(void **state)
{
    (void)state;
    ho_form_result_t res;
    /* mapped (ingest or the webhook server refuses it for the missing email) */
    s_map("facebook_no_email.json", NULL, &res, 1);
    assert_null(res.items[0].qcode);
    assert_null(json_object_get(s_fields(res.items[0].msg), "email"));
    s_eq(s_fields(res.items[0].msg), "original_source", "facebook");
    ho_form_result_clear(&res);
}

static void test_linkedin(void **state)
{
    (void)state;
    ho_linkedin_forms_t *li = s_forms();
    assert_int_equal(ho_linkedin_forms_count(li), 2);
    ho_form_result_t res;
    s_map("linkedin_response.json", li, &res, 1);
    assert_int_equal(res.shape, HO_FORM_LINKEDIN);
    assert_null(res.items[0].qcode);
    ho_msg_t *m = res.items[0].msg;
    s_ident(m, "linkedin", "a1b2c3d4-0000-4abc-9def-112233445566-1");
    const json_t *f = s_fields(m);
    s_eq(f, "first_name", "Ingrid");
    s_eq(f, "last_name", "Søderberg");
    s_eq(f, "email", "ingrid.soderberg@fjordlogistik.example");
    s_eq(f, "company", "Fjord Logistik AS");
    s_eq(f, "country", "Norway");
    s_eq(f, "created_at", "1789400000123");
    s_eq(f, "original_source", "linkedin");
    s_eq(f, "campaign", "urn:li:sponsoredCampaign:55500011");
    s_eq(f, "source_detail", "Warehouse Migration Checklist");
    const json_t *extra = json_object_get(ho_msg_payload(m), "extra");
    s_eq(extra, "cloud", "AWS; Azure"); /* option ids 1 and 3 through the definition */
    s_eq(extra, "leadType", "SPONSORED");
    ho_form_result_clear(&res);

    /* a form nobody defined: no way to know which answer is the email */
    s_map("linkedin_unknown_form.json", li, &res, 1);
    assert_string_equal(res.items[0].qcode, "unknown_form");
    assert_string_equal(res.items[0].field, "versionedLeadGenFormUrn");
    assert_non_null(strstr(res.items[0].reason, "7399999 version 1"));
    ho_form_result_clear(&res);
    /* no definitions loaded at all: the same, and the reason says so */
    s_map("linkedin_response.json", NULL, &res, 1);
    assert_string_equal(res.items[0].qcode, "unknown_form");
    assert_non_null(strstr(res.items[0].reason, "none loaded"));
    ho_form_result_clear(&res);
    ho_linkedin_forms_destroy(&li);
    ho_linkedin_forms_destroy(&li);
}

static void test_hubspot(void **state)
{
    (void)state;
    ho_form_result_t res;
    s_map("hubspot_submission.json", NULL, &res, 1);
    assert_int_equal(res.shape, HO_FORM_HUBSPOT);
    ho_msg_t *m = res.items[0].msg;
    s_ident(m, "hubspot_form", "9f8e7d6c5b4a39281706f5e4d3c2b1a0-1789450000456");
    const json_t *f = s_fields(m);
    s_eq(f, "email", "Otto.Brandvold@lindqvist-energi.example"); /* raw: ingest normalizes */
    s_eq(f, "first_name", "Otto");
    s_eq(f, "last_name", "Brandvold");
    s_eq(f, "company", "Lindqvist Energi AB");
    s_eq(f, "title", "Head of Data");
    s_eq(f, "phone", "+46 8 555 012 34");
    s_eq(f, "country", "Sweden");
    s_eq(f, "employees", "500-1000");
    s_eq(f, "message", "We need CDC from Oracle, 30 tables, hourly.");
    s_eq(f, "created_at", "1789450000456");
    s_eq(f, "source_detail", "Contact sales");
    const json_t *extra = json_object_get(ho_msg_payload(m), "extra");
    s_eq(extra, "how_did_you_hear", "podcast");
    s_eq(extra, "pageUri", "https://www.example.com/contact");
    ho_form_result_clear(&res);
}

static void test_typeform(void **state)
{
    (void)state;
    ho_form_result_t res;
    s_map("typeform_response.json", NULL, &res, 1);
    assert_int_equal(res.shape, HO_FORM_TYPEFORM);
    ho_msg_t *m = res.items[0].msg;
    s_ident(m, "typeform", "tok9q8w7e6r5t4y3u2i1o0pzz");
    const json_t *f = s_fields(m);
    s_eq(f, "first_name", "Priyanka");
    s_eq(f, "email", "priyanka@saffronbyte.example"); /* by answer type, whatever the ref */
    s_eq(f, "phone", "+919555012345");
    s_eq(f, "company", "Saffronbyte Labs");
    s_eq(f, "created_at", "2026-09-20T12:01:30Z");
    s_eq(f, "campaign", "sept-digest");
    s_eq(f, "source_detail", "Data stack quiz");
    const json_t *extra = json_object_get(ho_msg_payload(m), "extra");
    s_eq(extra, "warehouses", "Snowflake; BigQuery");
    s_eq(extra, "team_size", "12");
    s_eq(json_object_get(extra, "hidden"), "utm_source", "newsletter");
    ho_form_result_clear(&res);
}

static void test_plain(void **state)
{
    (void)state;
    ho_form_result_t res;
    s_map("plain_form.json", NULL, &res, 1);
    assert_int_equal(res.shape, HO_FORM_PLAIN);
    ho_msg_t *m = res.items[0].msg;
    s_ident(m, "form", "web-000123");
    const json_t *f = s_fields(m);
    s_eq(f, "email", "r.achterberg@polderdata.example");
    s_eq(f, "first_name", "Roos");
    s_eq(f, "last_name", "Achterberg");
    s_eq(f, "title", "Data Engineer");
    s_eq(f, "employees", "85"); /* a number becomes text */
    s_eq(f, "created_at", "2026-09-21T07:30:00Z");
    s_eq(f, "campaign", "docs-cta");
    assert_true(
        json_is_array(json_object_get(json_object_get(ho_msg_payload(m), "extra"), "interests")));
    ho_form_result_clear(&res);

    /* no id: the same document gives the same event id, another one another */
    json_t *a = json_pack("{s:s, s:s}", "email", "x@example.com", "first_name", "X");
    json_t *b = json_pack("{s:s, s:s}", "first_name", "X", "email", "x@example.com");
    json_t *c = json_pack("{s:s, s:s}", "email", "y@example.com", "first_name", "X");
    ho_form_result_t ra, rb, rc;
    ho_err_t err;
    assert_int_equal(ho_form_map(a, NULL, &ra, &err), HO_OK);
    assert_int_equal(ho_form_map(b, NULL, &rb, &err), HO_OK);
    assert_int_equal(ho_form_map(c, NULL, &rc, &err), HO_OK);
    assert_string_equal(ho_msg_id(ra.items[0].msg), ho_msg_id(rb.items[0].msg));
    assert_string_not_equal(ho_msg_id(ra.items[0].msg), ho_msg_id(rc.items[0].msg));
    ho_form_result_clear(&ra);
    ho_form_result_clear(&rb);
    ho_form_result_clear(&rc);
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

static void test_detect_and_expect(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        ho_form_shape_t shape;
    } cases[] = {
        {"facebook_lead.json", HO_FORM_FACEBOOK},
        {"facebook_change.json", HO_FORM_FACEBOOK_CHANGE},
        {"linkedin_response.json", HO_FORM_LINKEDIN},
        {"hubspot_submission.json", HO_FORM_HUBSPOT},
        {"typeform_response.json", HO_FORM_TYPEFORM},
        {"plain_form.json", HO_FORM_PLAIN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *doc = s_load(cases[i].file);
        assert_int_equal(ho_form_detect(doc), cases[i].shape);
        json_decref(doc);
    }
    /* an endpoint for one source refuses another's payload, naming both */
    json_t *doc = s_load("typeform_response.json");
    ho_form_opts_t o = {.expect = HO_FORM_FACEBOOK};
    ho_form_result_t res;
    ho_err_t err = {0};
    assert_int_equal(ho_form_map(doc, &o, &res, &err), HO_ERR_FIELD);
    assert_int_equal(res.n, 0);
    assert_non_null(strstr(err.message, "expected a facebook payload, got a typeform"));
    json_decref(doc);
    /* the Facebook endpoint takes both of Facebook's shapes */
    doc = s_load("facebook_change.json");
    assert_int_equal(ho_form_map(doc, &o, &res, &err), HO_OK);
    ho_form_result_clear(&res);
    json_decref(doc);
    /* nothing recognisable */
    json_t *odd = json_pack("{s:i}", "zzz", 1);
    assert_int_equal(ho_form_map(odd, NULL, &res, &err), HO_ERR_FIELD);
    assert_non_null(strstr(err.message, "known shape"));
    json_decref(odd);
    json_t *arr = json_array();
    assert_int_equal(ho_form_map(arr, NULL, &res, &err), HO_ERR_FIELD);
    json_decref(arr);
    /* a notification with no leadgen change */
    json_t *feed = json_loads("{\"object\":\"page\",\"entry\":[{\"changes\":[{\"field\":\"feed\","
                              "\"value\":{}}]}]}",
                              0, NULL);
    assert_int_equal(ho_form_map(feed, NULL, &res, &err), HO_ERR_FIELD);
    assert_string_equal(err.field, "entry");
    json_decref(feed);
}

/* Wrong JSON types in every place a shape reads: mapped or refused, never a crash. */
static void test_wrong_types(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "{\"field_data\":\"x\",\"id\":5}",
        "{\"field_data\":[1,null,{\"name\":3},{\"name\":\"email\",\"values\":{}}],\"id\":[]}",
        "{\"field_data\":[{\"name\":\"email\",\"values\":[7,8]}],\"created_time\":{}}",
        "{\"object\":\"page\",\"entry\":\"x\"}",
        "{\"object\":\"page\",\"entry\":[1,{\"changes\":7},{\"changes\":[null,{\"field\":"
        "\"leadgen\",\"value\":[]},{\"field\":\"leadgen\",\"value\":{\"leadgen_id\":{}}}]}]}",
        "{\"formResponse\":7,\"versionedLeadGenFormUrn\":12}",
        "{\"formResponse\":{\"answers\":[1,{\"questionId\":\"x\"},{\"answerDetails\":{"
        "\"multipleChoiceAnswer\":{\"options\":[\"a\",null]}}}]},\"versionedLeadGenFormUrn\":"
        "\"urn:li:versionedLeadGenForm:(urn:li:leadGenForm:7300102,1)\"}",
        "{\"fields\":[1,{\"name\":2},{\"name\":\"email\",\"value\":[1]}],\"context\":5}",
        "{\"event_type\":\"form_response\",\"form_response\":{\"answers\":[1,{\"type\":5},{"
        "\"type\":\"choices\",\"choices\":7},{\"type\":\"email\",\"email\":{}}],\"hidden\":3}}",
        "{\"email\":{\"nested\":true},\"first_name\":[1]}",
    };
    ho_linkedin_forms_t *li = s_forms();
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_error_t jerr;
        json_t *doc = json_loads(docs[i], 0, &jerr);
        if (!doc) {
            fail_msg("test doc %zu: %s", i, jerr.text);
        }
        ho_form_opts_t o = {.linkedin = li};
        ho_form_result_t res;
        ho_err_t err = {0};
        int rc = ho_form_map(doc, &o, &res, &err);
        if (rc == HO_OK) {
            assert_true(res.n >= 1);
            for (size_t k = 0; k < res.n; k++) {
                assert_non_null(res.items[k].msg);
                /* every produced envelope encodes */
                char *buf;
                size_t len;
                assert_int_equal(ho_msg_encode(res.items[k].msg, &buf, &len), HO_OK);
                free(buf);
            }
        } else {
            assert_int_equal(res.n, 0);
            assert_true(strlen(err.message) > 0);
        }
        ho_form_result_clear(&res);
        json_decref(doc);
    }
    /* field_data of the wrong type is a bad_record, kept */
    json_t *doc = json_loads(docs[0], 0, NULL);
    ho_form_result_t res;
    ho_err_t err;
    assert_int_equal(ho_form_map(doc, NULL, &res, &err), HO_OK);
    assert_string_equal(res.items[0].qcode, "bad_record");
    assert_string_equal(res.items[0].field, "field_data");
    ho_form_result_clear(&res);
    json_decref(doc);
    ho_linkedin_forms_destroy(&li);
}

static void test_linkedin_forms_errors(void **state)
{
    (void)state;
    ho_err_t err = {0};
    assert_null(ho_linkedin_forms_load("/nonexistent/forms.json", &err));
    assert_non_null(strstr(err.message, "/nonexistent/forms.json"));
    char tmp[] = "/tmp/test_forms_XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("{\"elements\": [\n  {\"id\": 1,\n   \"content\": {}\n  ,\n", f);
    fclose(f);
    assert_null(ho_linkedin_forms_load(tmp, &err));
    assert_non_null(strstr(err.message, tmp));
    assert_non_null(strstr(err.message, ":5:")); /* the line where the JSON breaks off */
    json_t *doc = json_loads("{\"elements\":[{\"id\":1,\"content\":{}}]}", 0, NULL);
    assert_null(ho_linkedin_forms_from_json(doc, "x.json", &err));
    assert_non_null(strstr(err.message, "x.json: elements[0]"));
    json_decref(doc);
    unlink(tmp);
}

/* The `forms` connector over a JSON Lines capture with every quirk. */
static void test_connector(void **state)
{
    (void)state;
    const ho_connector_def_t *conn = ho_connector_find("forms");
    assert_non_null(conn);
    ho_err_t err = {0};
    ho_profile_t *p = ho_profile_load(NULL, "webhooks", &err);
    if (!p) {
        fail_msg("%s", err.message);
    }
    char path[1200];
    s_path("mixed.jsonl", path, sizeof path);
    ho_connector_args_t args = {path, p, NULL};
    void *ctx = NULL;
    assert_int_equal(conn->cb_open(&args, &ctx, &err), HO_OK);
    static const struct {
        const char *type, *code, *email;
        long line;
    } want[] = {
        {"lead.raw", NULL, "first@example.org", 1},  {"quarantine", "bad_json", NULL, 3},
        {"quarantine", "unknown_shape", NULL, 4},    {"skip", "notification_only", NULL, 5},
        {"lead.raw", NULL, "second@example.org", 5}, {"lead.raw", NULL, "third@example.org", 6},
        {"quarantine", "bad_record", NULL, 7},
    };
    size_t n = 0;
    ho_msg_t *m;
    int rc;
    while ((rc = conn->cb_next(ctx, &m, &err)) == 1) {
        if (n >= sizeof want / sizeof want[0]) {
            fail_msg("more messages than expected: %s", ho_msg_type(m));
        }
        assert_string_equal(ho_msg_type(m), want[n].type);
        const json_t *pl = ho_msg_payload(m);
        const json_t *ref = json_object_get(pl, "source_ref");
        s_eq(ref, "file", path);
        assert_int_equal(json_integer_value(json_object_get(ref, "line")), want[n].line);
        if (want[n].code) {
            s_eq(pl, "code", want[n].code);
            if (strcmp(want[n].type, "quarantine") == 0) {
                s_eq(pl, "stage", "import");
            }
            char where[1300];
            snprintf(where, sizeof where, "%s:%ld:", path, want[n].line);
            assert_non_null(strstr(json_string_value(json_object_get(pl, "reason")), where));
        } else {
            s_eq(s_fields(m), "email", want[n].email);
        }
        if (n == 5) {
            /* the LinkedIn form next to the file mapped option 2 of a COMPANY_SIZE question */
            s_eq(s_fields(m), "employees", "201-2000");
        }
        ho_msg_destroy(&m);
        n++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, sizeof want / sizeof want[0]);
    conn->cb_close(&ctx);
    assert_null(ctx);
    ho_profile_destroy(&p);
}

/* Test leads, re-deliveries and bare notifications of a capture (skips.jsonl): skipped with
 * their reason, line by line; the rest are leads (or a lead ingest will refuse). */
static void test_skips(void **state)
{
    (void)state;
    const ho_connector_def_t *conn = ho_connector_find("forms");
    ho_err_t err = {0};
    ho_profile_t *p = ho_profile_load(NULL, "webhooks", &err);
    assert_non_null(p);
    char path[1200];
    s_path("skips.jsonl", path, sizeof path);
    ho_connector_args_t args = {path, p, NULL};
    void *ctx = NULL;
    assert_int_equal(conn->cb_open(&args, &ctx, &err), HO_OK);
    static const struct {
        long line;
        const char *type, *code;
    } want[] = {
        {1, "lead.raw", NULL},
        {2, "skip", "test_lead"},
        {3, "lead.raw", NULL},
        {4, "skip", "notification_only"},
        {5, "skip", "duplicate_delivery"},
        {6, "lead.raw", NULL},
        {7, "skip", "duplicate_delivery"},
        {8, "skip", "test_lead"},
        {9, "skip", "test_lead"},
        {10, "skip", "test_lead"},
        {11, "lead.raw", NULL},
        {12, "skip", "duplicate_delivery"},
        {13, "skip", "duplicate_delivery"},
        {14, "lead.raw", NULL},
        {15, "lead.raw", NULL},
        {16, "lead.raw", NULL},
        {16, "skip", "notification_only"},
    };
    size_t n = 0;
    ho_msg_t *m;
    while (conn->cb_next(ctx, &m, &err) == 1) {
        assert_true(n < sizeof want / sizeof want[0]);
        const json_t *pl = ho_msg_payload(m);
        long line =
            (long)json_integer_value(json_object_get(json_object_get(pl, "source_ref"), "line"));
        if (strcmp(ho_msg_type(m), want[n].type) != 0 || line != want[n].line ||
            (want[n].code &&
             strcmp(json_string_value(json_object_get(pl, "code")), want[n].code) != 0)) {
            fail_msg("#%zu: got %s %s line %ld, expected %s %s line %ld", n, ho_msg_type(m),
                     json_string_value(json_object_get(pl, "code")), line, want[n].type,
                     want[n].code ? want[n].code : "", want[n].line);
        }
        if (want[n].code) {
            char where[1300];
            snprintf(where, sizeof where, "%s:%ld:", path, want[n].line);
            assert_non_null(strstr(json_string_value(json_object_get(pl, "reason")), where));
        } else {
            /* the day's webhook import until `handoff import` stamps the file's own */
            const char *imp = json_string_value(json_object_get(pl, "import_id"));
            char want_prefix[64];
            snprintf(want_prefix, sizeof want_prefix, "webhook-%s-20",
                     json_string_value(json_object_get(pl, "source")));
            assert_non_null(imp);
            assert_int_equal(strncmp(imp, want_prefix, strlen(want_prefix)), 0);
            assert_int_equal(strlen(imp), strlen(want_prefix) + 8); /* YYYY-MM-DD */
        }
        ho_msg_destroy(&m);
        n++;
    }
    assert_int_equal(n, sizeof want / sizeof want[0]);
    conn->cb_close(&ctx);
    ho_profile_destroy(&p);
}

/* Each source's test flag, on its own document. */
static void test_test_flags(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "{\"id\":\"55501\",\"is_test\":true,\"field_data\":[{\"name\":\"email\","
        "\"values\":[\"a@b.co\"]}]}",
        "{\"id\":\"444444444444\",\"field_data\":[{\"name\":\"email\",\"values\":[\"a@b.co\"]}]}",
        "{\"id\":\"x\",\"testLead\":true,\"versionedLeadGenFormUrn\":\"u\",\"formResponse\":"
        "{\"answers\":[]}}",
        "{\"event_type\":\"form_response\",\"form_response\":{\"token\":\"t\",\"hidden\":"
        "{\"is_test\":\"1\"},\"answers\":[]}}",
        "{\"submission_id\":\"w1\",\"email\":\"a@b.co\",\"test\":\"yes\"}",
        NULL};
    for (size_t i = 0; docs[i]; i++) {
        json_t *doc = json_loads(docs[i], 0, NULL);
        assert_non_null(doc);
        ho_form_result_t res;
        ho_err_t err = {0};
        assert_int_equal(ho_form_map(doc, NULL, &res, &err), HO_OK);
        assert_int_equal(res.n, 1);
        if (!res.items[0].skip || strcmp(res.items[0].skip, "test_lead") != 0) {
            fail_msg("%s: not a test lead (qcode %s)", docs[i],
                     res.items[0].qcode ? res.items[0].qcode : "-");
        }
        ho_form_result_clear(&res);
        json_decref(doc);
    }
    /* testLead false, is_test false: leads */
    json_t *doc = json_loads("{\"id\":\"55502\",\"is_test\":false,\"field_data\":[]}", 0, NULL);
    ho_form_result_t res;
    ho_err_t err = {0};
    assert_int_equal(ho_form_map(doc, NULL, &res, &err), HO_OK);
    assert_null(res.items[0].skip);
    ho_form_result_clear(&res);
    json_decref(doc);
    /* the re-delivery set */
    ho_form_seen_t *seen = ho_form_seen_new();
    char id[32];
    for (int k = 0; k < 3000; k++) {
        snprintf(id, sizeof id, "lead-%d", k);
        assert_false(ho_form_seen_add(seen, id));
    }
    assert_true(ho_form_seen_add(seen, "lead-0"));
    assert_true(ho_form_seen_add(seen, "lead-2999"));
    ho_form_seen_destroy(&seen);
    assert_null(seen);
}

int main(void)
{
    const char *src = getenv("HO_SOURCE_DIR");
    snprintf(s_dir, sizeof s_dir, "%s/tests/fixtures/webhooks", src ? src : HO_SOURCE_DIR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_facebook_lead),
        cmocka_unit_test(test_facebook_change),
        cmocka_unit_test(test_facebook_no_email),
        cmocka_unit_test(test_linkedin),
        cmocka_unit_test(test_hubspot),
        cmocka_unit_test(test_typeform),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_detect_and_expect),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_linkedin_forms_errors),
        cmocka_unit_test(test_connector),
        cmocka_unit_test(test_skips),
        cmocka_unit_test(test_test_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
