/* test_import.c - hand-written fixture files with every quirk (BOM, CRLF, quoted commas and
 * line breaks, too many / too few columns, invalid UTF-8, Latin-1 by profile, missing email,
 * bad dates, broken JSON lines) read through the real connectors and profiles and the ingest
 * worker's handler (ho_worker_call), asserting exact accepted / quarantined counts and each
 * quarantine's code, field, file and line. Also profile auto-detection and its errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "handoff/connector.h"
#include "handoff/worker.h"

extern const ho_worker_def_t ho_worker_ingest;

typedef struct {
    ho_msg_t **ok; /* normalized records */
    size_t n_ok;
    ho_msg_t **q; /* quarantine envelopes (connector's and ingest's), in input order */
    size_t n_q;
    long read;
} s_result_t;

static void s_push(ho_msg_t ***arr, size_t *n, ho_msg_t *m)
{
    *arr = realloc(*arr, (*n + 1) * sizeof **arr);
    (*arr)[(*n)++] = m;
}

static void s_result_free(s_result_t *r)
{
    ho_msg_batch_free(&r->ok, r->n_ok);
    ho_msg_batch_free(&r->q, r->n_q);
    memset(r, 0, sizeof *r);
}

static char *s_fixture(const char *name)
{
    const char *root = getenv("HO_SOURCE_DIR");
    char *path = malloc(4096);
    snprintf(path, 4096, "%s/tests/fixtures/%s", root ? root : HO_SOURCE_DIR, name);
    return path;
}

/* Read path with profile (auto-detected when NULL) and push every raw record through the
 * ingest handler in batches of 3 (so batch boundaries are exercised). */
static void s_run(const char *path, ho_profile_t *profile, s_result_t *res)
{
    memset(res, 0, sizeof *res);
    ho_err_t err = {0};
    char format[16];
    char **cols = NULL;
    size_t ncols = 0;
    assert_int_equal(ho_connector_sniff(path, format, sizeof format, &cols, &ncols, &err), HO_OK);
    bool own = false;
    if (!profile) {
        profile = ho_profile_detect(NULL, format, (const char *const *)cols, ncols, &err);
        if (!profile) {
            fail_msg("detect: %s", err.message);
        }
        own = true;
    }
    ho_connector_cols_free(&cols, ncols);
    const char *cname = ho_profile_connector(profile) ? ho_profile_connector(profile) : format;
    const ho_connector_def_t *conn = ho_connector_find(cname);
    assert_non_null(conn);
    ho_connector_args_t args = {path, profile, NULL};
    void *ctx = NULL;
    if (conn->cb_open(&args, &ctx, &err) != HO_OK) {
        fail_msg("open: %s", err.message);
    }
    ho_msg_t *batch[3];
    size_t nb = 0;
    for (;;) {
        ho_msg_t *m = NULL;
        int rc = conn->cb_next(ctx, &m, &err);
        if (rc == 0) {
            break;
        }
        assert_int_equal(rc, 1);
        res->read++;
        if (strcmp(ho_msg_type(m), "quarantine") == 0) {
            s_push(&res->q, &res->n_q, m);
            continue;
        }
        batch[nb++] = m;
        if (nb == 3) {
            ho_out_t *out = ho_out_new("test");
            assert_int_equal(ho_worker_call(&ho_worker_ingest, NULL, batch, nb, out), HO_WORKER_OK);
            size_t n;
            ho_msg_t **got = ho_out_take(out, &n);
            for (size_t i = 0; i < n; i++) {
                if (strcmp(ho_msg_type(got[i]), "quarantine") == 0) {
                    s_push(&res->q, &res->n_q, got[i]);
                } else {
                    s_push(&res->ok, &res->n_ok, got[i]);
                }
            }
            free(got);
            ho_out_destroy(&out);
            for (size_t i = 0; i < nb; i++) {
                ho_msg_destroy(&batch[i]);
            }
            nb = 0;
        }
    }
    if (nb) {
        ho_out_t *out = ho_out_new("test");
        assert_int_equal(ho_worker_call(&ho_worker_ingest, NULL, batch, nb, out), HO_WORKER_OK);
        size_t n;
        ho_msg_t **got = ho_out_take(out, &n);
        for (size_t i = 0; i < n; i++) {
            if (strcmp(ho_msg_type(got[i]), "quarantine") == 0) {
                s_push(&res->q, &res->n_q, got[i]);
            } else {
                s_push(&res->ok, &res->n_ok, got[i]);
            }
        }
        free(got);
        ho_out_destroy(&out);
        for (size_t i = 0; i < nb; i++) {
            ho_msg_destroy(&batch[i]);
        }
    }
    conn->cb_close(&ctx);
    if (own) {
        ho_profile_destroy(&profile);
    }
}

static const char *s_q(const ho_msg_t *q, const char *key)
{
    return json_string_value(json_object_get(ho_msg_payload(q), key));
}

static long s_q_line(const ho_msg_t *q)
{
    return (long)json_integer_value(
        json_object_get(json_object_get(ho_msg_payload(q), "source_ref"), "line"));
}

/* The quarantine of a given line; fails the test if there is none. */
static const ho_msg_t *s_q_at(const s_result_t *r, long line)
{
    for (size_t i = 0; i < r->n_q; i++) {
        if (s_q_line(r->q[i]) == line) {
            return r->q[i];
        }
    }
    fail_msg("no quarantine for line %ld", line);
    return NULL;
}

static const json_t *s_ok_email(const s_result_t *r, const char *email)
{
    for (size_t i = 0; i < r->n_ok; i++) {
        const json_t *p = ho_msg_payload(r->ok[i]);
        if (strcmp(json_string_value(json_object_get(p, "email")), email) == 0) {
            return p;
        }
    }
    fail_msg("no accepted record for %s", email);
    return NULL;
}

static void s_expect_q(const s_result_t *r, long line, const char *stage, const char *code,
                       const char *field, const char *file)
{
    const ho_msg_t *q = s_q_at(r, line);
    assert_string_equal(s_q(q, "stage"), stage);
    assert_string_equal(s_q(q, "code"), code);
    assert_string_equal(s_q(q, "field"), field);
    const json_t *ref = json_object_get(ho_msg_payload(q), "source_ref");
    assert_string_equal(json_string_value(json_object_get(ref, "file")), file);
    /* the sentence names the file and the line too */
    char where[4200];
    snprintf(where, sizeof where, "%s:%ld:", file, line);
    assert_non_null(strstr(s_q(q, "reason"), where));
}

static void test_hubspot_quirks(void **state)
{
    (void)state;
    char *path = s_fixture("hubspot_quirks.csv");
    s_result_t r;
    s_run(path, NULL, &r); /* auto-detected as hubspot: BOM stripped from "Record ID" */
    assert_int_equal(r.read, 10);
    assert_int_equal(r.n_ok, 4);
    assert_int_equal(r.n_q, 6);
    s_expect_q(&r, 5, "ingest", "missing_email", "email", path);
    s_expect_q(&r, 6, "ingest", "bad_date", "created_at", path);
    s_expect_q(&r, 7, "import", "bad_column_count", "", path);
    assert_non_null(strstr(s_q(s_q_at(&r, 7), "reason"), "6 fields, the header has 26"));
    s_expect_q(&r, 8, "import", "bad_column_count", "", path);
    assert_non_null(strstr(s_q(s_q_at(&r, 8), "reason"), "27 fields"));
    s_expect_q(&r, 9, "import", "bad_utf8", "City", path);
    s_expect_q(&r, 12, "ingest", "bad_email", "email", path); /* line 11 is blank */

    /* CRLF + a quoted line break: the record starts on line 2, the next on line 4 */
    const json_t *ada = s_ok_email(&r, "ada.lovelace@example-analytics.com");
    const json_t *f = json_object_get(ada, "fields");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(ada, "source_ref"), "line")), 2);
    assert_string_equal(json_string_value(json_object_get(f, "message")),
                        "Needs SSO, audit logs\r\nand an EU region");
    assert_string_equal(json_string_value(json_object_get(f, "company")),
                        "Example Analytics, Inc.");
    assert_string_equal(json_string_value(json_object_get(f, "country")), "US");
    assert_string_equal(json_string_value(json_object_get(f, "state")), "NY");
    assert_int_equal(json_integer_value(json_object_get(f, "employees")), 1001);
    assert_string_equal(json_string_value(json_object_get(f, "employees_label")), "1000+");
    assert_true(json_number_value(json_object_get(f, "revenue")) == 193556000.0);
    assert_string_equal(json_string_value(json_object_get(f, "industry_group")), "software");
    assert_string_equal(json_string_value(json_object_get(f, "source_channel")), "paid_search");
    assert_int_equal(json_integer_value(json_object_get(f, "created_at")), 1791969120000LL);
    assert_int_equal(json_integer_value(json_object_get(ada, "observed_at")), 1791969120000LL);
    /* unmapped columns are kept, empty ones left out */
    const json_t *extra = json_object_get(ada, "extra");
    assert_null(json_object_get(extra, "HubSpot Score"));

    const json_t *barnaby = s_ok_email(&r, "barnaby@quillfeather.co.uk");
    f = json_object_get(barnaby, "fields");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(barnaby, "source_ref"), "line")), 4);
    assert_string_equal(json_string_value(json_object_get(f, "company")), "Quill, Feather & Co");
    assert_string_equal(json_string_value(json_object_get(f, "message")),
                        "She said \"call me\" twice");
    assert_string_equal(json_string_value(json_object_get(f, "country")), "GB");
    assert_int_equal(json_integer_value(json_object_get(f, "employees")), 300);
    assert_string_equal(json_string_value(json_object_get(f, "source_channel")), "referral");

    /* a row of empty fields but an email is a lead */
    const json_t *only = s_ok_email(&r, "only.email@example-analytics.com");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(only, "source_ref"), "line")), 10);

    const json_t *joerg = s_ok_email(&r, "joerg.weiss@beispiel-logistik.de");
    f = json_object_get(joerg, "fields");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(joerg, "source_ref"), "line")), 13);
    assert_string_equal(json_string_value(json_object_get(f, "first_name")), "Jörg");
    assert_string_equal(json_string_value(json_object_get(f, "country")), "DE");
    assert_string_equal(json_string_value(json_object_get(f, "message")),
                        "Line one\r\nline two, with comma\r\nline three");
    assert_string_equal(json_string_value(json_object_get(f, "industry_group")), "logistics");
    s_result_free(&r);
    free(path);
}

static void test_salesforce_quirks(void **state)
{
    (void)state;
    char *path = s_fixture("salesforce_quirks.csv");
    s_result_t r;
    s_run(path, NULL, &r);
    assert_int_equal(r.read, 4);
    assert_int_equal(r.n_ok, 2);
    assert_int_equal(r.n_q, 2);
    s_expect_q(&r, 5, "import", "bad_column_count", "", path);
    assert_non_null(strstr(s_q(s_q_at(&r, 5), "reason"), "22 fields, the header has 21"));
    s_expect_q(&r, 6, "ingest", "bad_date", "created_at", path); /* February 30th */
    const json_t *cora = s_ok_email(&r, "cora.vane@example-bank.com");
    const json_t *f = json_object_get(cora, "fields");
    assert_string_equal(json_string_value(json_object_get(f, "message")),
                        "Wants a demo.\nAsked about \"SOC 2\".");
    assert_int_equal(json_integer_value(json_object_get(f, "employees")), 980);
    assert_string_equal(json_string_value(json_object_get(f, "country")), "GB");
    assert_string_equal(json_string_value(json_object_get(f, "industry_group")), "finance");
    assert_string_equal(json_string_value(json_object_get(f, "source_channel")), "webinar");
    assert_int_equal(json_integer_value(json_object_get(f, "created_at")), 1795003660000LL);
    const json_t *dev = s_ok_email(&r, "dev.rao@gmail.com");
    f = json_object_get(dev, "fields");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(dev, "source_ref"), "line")), 4);
    assert_true(json_is_true(json_object_get(f, "personal_email")));
    assert_string_equal(json_string_value(json_object_get(f, "state")), "TX");
    assert_string_equal(json_string_value(json_object_get(f, "source_channel")), "form");
    s_result_free(&r);
    free(path);
}

static void test_latin1_only_when_profile_says_so(void **state)
{
    (void)state;
    char *path = s_fixture("latin1_leads.csv");
    char *ppath = s_fixture("profiles/latin1_csv.yaml");
    ho_err_t err;
    ho_profile_t *latin1 = ho_profile_load_file(ppath, &err);
    assert_non_null(latin1);
    s_result_t r;
    s_run(path, latin1, &r);
    assert_int_equal(r.read, 3);
    assert_int_equal(r.n_ok, 3);
    assert_int_equal(r.n_q, 0);
    const json_t *f =
        json_object_get(s_ok_email(&r, "jurgen.muller@example-maschinen.de"), "fields");
    assert_string_equal(json_string_value(json_object_get(f, "first_name")), "Jürgen");
    assert_string_equal(json_string_value(json_object_get(f, "city")), "Zürich");
    assert_string_equal(json_string_value(json_object_get(f, "country")), "CH");
    f = json_object_get(s_ok_email(&r, "francoise@example-conseil.fr"), "fields");
    assert_string_equal(json_string_value(json_object_get(f, "last_name")), "Lefèvre");
    s_result_free(&r);
    ho_profile_destroy(&latin1);

    /* the same bytes under a UTF-8 profile: reported, quarantined, the ASCII row goes on */
    ho_profile_t *utf8 = ho_profile_load(NULL, "csv", &err);
    assert_non_null(utf8);
    s_run(path, utf8, &r);
    assert_int_equal(r.read, 3);
    assert_int_equal(r.n_ok, 1);
    assert_int_equal(r.n_q, 2);
    s_expect_q(&r, 2, "import", "bad_utf8", "first_name", path);
    s_expect_q(&r, 3, "import", "bad_utf8", "first_name", path);
    assert_non_null(strstr(s_q(s_q_at(&r, 2), "reason"), "invalid UTF-8 at byte 2"));
    /* the refused record is kept, readable (bytes shown as Latin-1) */
    const json_t *rec =
        json_object_get(json_object_get(ho_msg_payload(s_q_at(&r, 2)), "raw"), "record");
    assert_string_equal(json_string_value(json_array_get(rec, 1)), "Jürgen");
    s_result_free(&r);
    ho_profile_destroy(&utf8);
    free(path);
    free(ppath);
}

static void test_activities_jsonl(void **state)
{
    (void)state;
    char *path = s_fixture("activities_quirks.jsonl");
    s_result_t r;
    s_run(path, NULL, &r); /* detected as activities from the first object's keys */
    assert_int_equal(r.read, 7);
    assert_int_equal(r.n_ok, 3);
    assert_int_equal(r.n_q, 4);
    s_expect_q(&r, 3, "import", "bad_json", "", path);
    s_expect_q(&r, 5, "ingest", "unknown_activity_type", "activity_type", path);
    s_expect_q(&r, 6, "ingest", "bad_date", "activity_date", path);
    s_expect_q(&r, 7, "ingest", "missing_email", "email", path);
    const json_t *a1 = NULL;
    for (size_t i = 0; i < r.n_ok; i++) {
        const json_t *p = ho_msg_payload(r.ok[i]);
        if (strcmp(json_string_value(json_object_get(p, "activity_id")), "a-1") == 0) {
            a1 = p;
            assert_string_equal(ho_msg_type(r.ok[i]), "activity.normalized");
        }
        if (strcmp(json_string_value(json_object_get(p, "activity_id")), "698554701") == 0) {
            assert_int_equal(
                json_integer_value(json_object_get(json_object_get(p, "source_ref"), "line")), 8);
            assert_string_equal(json_string_value(json_object_get(p, "type")), "email_open");
        }
    }
    assert_non_null(a1);
    assert_string_equal(json_string_value(json_object_get(a1, "email")),
                        "ada.lovelace@example-analytics.com");
    assert_string_equal(json_string_value(json_object_get(a1, "path")), "/pricing");
    assert_string_equal(json_string_value(json_object_get(a1, "type")), "page_view");
    assert_int_equal(json_integer_value(json_object_get(a1, "occurred_at")), 1791969165000LL);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(a1, "attributes"), "Referrer URL")),
        "https://www.google.com/");
    s_result_free(&r);
    free(path);
}

static void test_reimport_same_ids(void **state)
{
    (void)state;
    char *path = s_fixture("hubspot_quirks.csv");
    s_result_t a, b;
    s_run(path, NULL, &a);
    s_run(path, NULL, &b);
    assert_int_equal(a.n_ok, b.n_ok);
    for (size_t i = 0; i < a.n_ok; i++) {
        assert_string_equal(ho_msg_id(a.ok[i]), ho_msg_id(b.ok[i]));
    }
    for (size_t i = 0; i < a.n_q; i++) {
        assert_string_equal(ho_msg_id(a.q[i]), ho_msg_id(b.q[i]));
    }
    /* ids follow the record's bytes (the CRM profiles' id_fields: []), not the HubSpot record
     * id alone: a later export in which record 1001 changed is a new fact, not a duplicate */
    char id[HO_MSG_MAX_ID];
    ho_msg_make_id(id, sizeof id, "lead-hubspot", "1001", 4);
    for (size_t i = 0; i < a.n_ok; i++) {
        assert_string_not_equal(ho_msg_id(a.ok[i]), id);
        for (size_t k = 0; k < i; k++) {
            assert_string_not_equal(ho_msg_id(a.ok[i]), ho_msg_id(a.ok[k]));
        }
    }
    s_result_free(&a);
    s_result_free(&b);
    free(path);
}

static void test_detect_errors(void **state)
{
    (void)state;
    ho_err_t err = {0};
    const char *unknown[] = {"a", "b"};
    assert_null(ho_profile_detect(NULL, "csv", unknown, 2, &err));
    /* names every profile so the operator can pick one */
    assert_non_null(strstr(err.message, "hubspot"));
    assert_non_null(strstr(err.message, "salesforce"));
    assert_non_null(strstr(err.message, "--source"));
    const char *sf[] = {"Id", "FirstName", "LastName", "Email", "LeadSource", "CreatedDate"};
    ho_profile_t *p = ho_profile_detect(NULL, "csv", sf, 6, &err);
    assert_non_null(p);
    assert_string_equal(ho_profile_name(p), "salesforce");
    ho_profile_destroy(&p);
    const char *fb[] = {"field_data", "id", "created_time"};
    p = ho_profile_detect(NULL, "jsonl", fb, 3, &err);
    assert_non_null(p);
    assert_string_equal(ho_profile_name(p), "webhooks");
    ho_profile_destroy(&p);
    /* a CSV header never picks a JSON-shaped profile */
    const char *ctx[] = {"context"};
    assert_null(ho_profile_detect(NULL, "csv", ctx, 1, &err));
}

static void test_profile_errors(void **state)
{
    (void)state;
    ho_err_t err = {0};
    const char *bad = "name: x\nkind: lead\ncolumns:\n  Email: emial\n";
    assert_null(ho_profile_parse(bad, strlen(bad), "x.yaml", &err));
    assert_non_null(strstr(err.message, "x.yaml:4"));
    assert_non_null(strstr(err.message, "emial"));
    const char *kind = "name: x\nkind: leads\ncolumns: {}\n";
    assert_null(ho_profile_parse(kind, strlen(kind), "k.yaml", &err));
    assert_non_null(strstr(err.message, "k.yaml:2"));
    const char *enc = "name: x\nkind: lead\nencoding: ebcdic\ncolumns: {}\n";
    assert_null(ho_profile_parse(enc, strlen(enc), "e.yaml", &err));
    assert_non_null(strstr(err.message, "ebcdic"));
    /* every shipped profile loads */
    char **names = ho_profile_names(NULL);
    size_t n = 0;
    for (; names[n]; n++) {
        ho_profile_t *p = ho_profile_load(NULL, names[n], &err);
        if (!p) {
            fail_msg("%s: %s", names[n], err.message);
        }
        ho_profile_destroy(&p);
    }
    assert_true(n >= 8);
    ho_profile_names_free(&names);
}

/* The text fields of each kind (what `dlq replay --set` may edit) and the "did you mean". */
static void test_text_fields(void **state)
{
    (void)state;
    assert_true(ho_profile_text_field_known("lead", "email"));
    assert_true(ho_profile_text_field_known("lead", "updated_at"));
    assert_true(ho_profile_text_field_known("activity", "source_system"));
    assert_true(ho_profile_text_field_known("feedback", "amount"));
    assert_false(ho_profile_text_field_known("lead", "activity_type"));
    assert_false(ho_profile_text_field_known("activity", "attributes")); /* a map */
    assert_false(ho_profile_text_field_known("feedback", "Email"));
    assert_false(ho_profile_text_field_known("leads", "email"));
    assert_false(ho_profile_text_field_known(NULL, "email"));
    assert_false(ho_profile_text_field_known("lead", NULL));
    assert_string_equal(ho_profile_text_field_near("lead", "emial"), "email");
    assert_string_equal(ho_profile_text_field_near("feedback", "rep_idd"), "rep_id");
    /* the nearest wins (city 1 edit, title 2 but listed first) */
    assert_string_equal(ho_profile_text_field_near("lead", "tity"), "city");
    /* of equals (first_name, last_name, full_name: 2 edits), the first in the profile's order */
    assert_string_equal(ho_profile_text_field_near("lead", "fust_name"), "first_name");
    assert_null(ho_profile_text_field_near("lead", "telephone_number"));
    assert_null(ho_profile_text_field_near("activity", "attribute")); /* not a text field */
    assert_null(ho_profile_text_field_near("lead", "a_name_longer_than_thirty_two_chars"));
    assert_null(ho_profile_text_field_near("nope", "email"));
}

/* Adding a source is a config change: a profile in <config dir>/profiles/ is listed,
 * auto-detected from its header and used; a config-dir file of a shipped name wins. */
static void test_config_dir_profiles(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_import_cfg_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[300], path[400];
    snprintf(sub, sizeof sub, "%s/profiles", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(path, sizeof path, "%s/mycrm.yaml", sub);
    FILE *f = fopen(path, "w");
    fputs("name: mycrm\nkind: lead\ndetect: [Contact Mail, Org]\nid_fields: [source_record_id]\n"
          "columns:\n  Contact Mail: email\n  Org: company\n  Ref: source_record_id\n",
          f);
    fclose(f);
    snprintf(path, sizeof path, "%s/hubspot.yaml", sub);
    f = fopen(path, "w");
    fputs("name: hubspot\ndescription: local override\nkind: lead\ndetect: [Email]\n"
          "columns:\n  Email: email\n",
          f);
    fclose(f);
    char **names = ho_profile_names(dir);
    bool mycrm = false;
    size_t hubspots = 0;
    for (size_t i = 0; names[i]; i++) {
        mycrm = mycrm || strcmp(names[i], "mycrm") == 0;
        hubspots += strcmp(names[i], "hubspot") == 0;
    }
    ho_profile_names_free(&names);
    assert_true(mycrm);
    assert_int_equal(hubspots, 1);
    ho_err_t err;
    ho_profile_t *p = ho_profile_load(dir, "hubspot", &err);
    assert_non_null(p);
    assert_string_equal(ho_profile_description(p), "local override");
    ho_profile_destroy(&p);

    snprintf(path, sizeof path, "%s/export.csv", dir);
    f = fopen(path, "w");
    fputs("Ref,Contact Mail,Org,Shoe size\nC-1,Zoe@Example-Org.com,Example Org,42\n", f);
    fclose(f);
    const char *cols[] = {"Ref", "Contact Mail", "Org", "Shoe size"};
    p = ho_profile_detect(dir, "csv", cols, 4, &err);
    assert_non_null(p);
    assert_string_equal(ho_profile_name(p), "mycrm");
    s_result_t r;
    s_run(path, p, &r);
    assert_int_equal(r.n_ok, 1);
    const json_t *zoe = s_ok_email(&r, "zoe@example-org.com");
    assert_string_equal(json_string_value(json_object_get(zoe, "source")), "mycrm");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(zoe, "extra"), "Shoe size")), "42");
    char id[HO_MSG_MAX_ID];
    ho_msg_make_id(id, sizeof id, "lead-mycrm", "C-1", 3);
    assert_string_equal(ho_msg_id(r.ok[0]), id);
    s_result_free(&r);
    ho_profile_destroy(&p);
    unlink(path);
    snprintf(path, sizeof path, "%s/mycrm.yaml", sub);
    unlink(path);
    snprintf(path, sizeof path, "%s/hubspot.yaml", sub);
    unlink(path);
    rmdir(sub);
    rmdir(dir);
}

/* Mautic's export: recognised by its aliases, its date format from the profile. */
static void test_mautic(void **state)
{
    (void)state;
    char *path = s_fixture("mautic_contacts.csv");
    s_result_t r;
    s_run(path, NULL, &r);
    assert_int_equal(r.read, 2);
    assert_int_equal(r.n_ok, 1);
    assert_int_equal(r.n_q, 1);
    s_expect_q(&r, 3, "ingest", "bad_date", "created_at", path); /* 14/10/2026: not Mautic's */
    const json_t *imke = s_ok_email(&r, "imke.brandt@example-werke.de");
    assert_string_equal(json_string_value(json_object_get(imke, "source")), "mautic");
    const json_t *f = json_object_get(imke, "fields");
    assert_string_equal(json_string_value(json_object_get(f, "title")), "Head of Data");
    assert_string_equal(json_string_value(json_object_get(f, "country")), "DE");
    assert_string_equal(json_string_value(json_object_get(f, "source_record_id")), "17");
    assert_int_equal(json_integer_value(json_object_get(f, "created_at")), 1791969165000LL);
    /* points and date_modified are not mapped: kept in extra */
    const json_t *extra = json_object_get(imke, "extra");
    assert_string_equal(json_string_value(json_object_get(extra, "points")), "12");
    assert_string_equal(json_string_value(json_object_get(extra, "date_modified")),
                        "2026-10-15 10:00:00");
    s_result_free(&r);
    free(path);
}

/* A profile's options reach its connector (config map); an unclosed quote is cut at
 * max_record_bytes and quarantined; a JSON line that is not UTF-8 is refused with its line. */
static void test_options_and_limits(void **state)
{
    (void)state;
    const char *yaml =
        "name: semi\nkind: lead\ndetect: [mail]\ncolumns:\n  mail: email\n"
        "  name: first_name\noptions:\n  delimiter: \";\"\n  max_record_bytes: 300\n";
    ho_err_t err;
    ho_profile_t *p = ho_profile_parse(yaml, strlen(yaml), "semi.yaml", &err);
    assert_non_null(p);
    char path[] = "/tmp/test_import_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fputs("mail;name\nann@example.com;Ann\nbob@example.com;\"Bob\n", f);
    for (int i = 0; i < 50; i++) {
        fputs("a line inside a quote that is never closed\n", f);
    }
    fclose(f);
    s_result_t r;
    s_run(path, p, &r);
    assert_int_equal(r.read, 2);
    assert_int_equal(r.n_ok, 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(ho_msg_payload(r.ok[0]), "fields"), "first_name")),
                        "Ann");
    s_expect_q(&r, 3, "import", "record_too_large", "", path);
    s_result_free(&r);
    unlink(path);
    ho_profile_destroy(&p);

    /* an unknown option is a configuration error naming the file and line */
    const char *bad =
        "name: x\nkind: lead\ncolumns: {email: email}\noptions:\n  delimeter: \";\"\n";
    p = ho_profile_parse(bad, strlen(bad), "x.yaml", &err);
    assert_non_null(p);
    ho_connector_args_t args = {"/dev/null", p, NULL};
    void *ctx = NULL;
    assert_int_not_equal(ho_connector_find("csv")->cb_open(&args, &ctx, &err), HO_OK);
    assert_non_null(strstr(err.message, "delimeter"));
    ho_profile_destroy(&p);

    char jpath[] = "/tmp/test_import_j_XXXXXX";
    fd = mkstemp(jpath);
    f = fdopen(fd, "w");
    fputs("{\"activity_id\":\"1\",\"email\":\"a@example.com\",\"activity_type\":\"page_view\","
          "\"activity_date\":\"2026-10-01T00:00:00Z\",\"url\":\"/m\xfcnchen\"}\n",
          f);
    fclose(f);
    p = ho_profile_load(NULL, "activities", &err);
    s_run(jpath, p, &r);
    assert_int_equal(r.read, 1);
    assert_int_equal(r.n_q, 1);
    s_expect_q(&r, 1, "import", "bad_json", "", jpath);
    s_result_free(&r);
    ho_profile_destroy(&p);
    unlink(jpath);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hubspot_quirks),
        cmocka_unit_test(test_salesforce_quirks),
        cmocka_unit_test(test_latin1_only_when_profile_says_so),
        cmocka_unit_test(test_activities_jsonl),
        cmocka_unit_test(test_reimport_same_ids),
        cmocka_unit_test(test_detect_errors),
        cmocka_unit_test(test_profile_errors),
        cmocka_unit_test(test_text_fields),
        cmocka_unit_test(test_options_and_limits),
        cmocka_unit_test(test_mautic),
        cmocka_unit_test(test_config_dir_profiles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
