/* test_demo.c - the seeded demo-data generator: same seed and now -> byte-identical files,
 * another seed -> different files; the formats are the real ones (BOM + CRLF HubSpot, all
 * quoted 21-field Salesforce); manifest.json's counts are exactly what the connectors and
 * the ingest worker make of the files; the feedback simulation reads a real store database
 * and writes outcomes of the assigned reps, after assigned_at and not after now. */
#include <dirent.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "connectors/demo/demo.h"
#include "handoff/connector.h"
#include "handoff/csvio.h"
#include "handoff/normalize.h"
#include "handoff/store.h"
#include "handoff/worker.h"

extern const ho_worker_def_t ho_worker_ingest;

static const char *const s_files[] = {
    "hubspot_contacts.csv", "salesforce_leads.csv",     "marketo_leads.csv", "activities.csv",
    "form_webhooks.jsonl",  "linkedin_lead_forms.json", "feedback.csv",      "manifest.json"};
#define N_FILES (sizeof s_files / sizeof s_files[0])

static char *s_read(const char *dir, const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail_msg("%s missing", path);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void s_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d) {
        closedir(d);
    }
    rmdir(dir);
}

static void s_gen(const char *dir, uint64_t seed, long leads)
{
    ho_demo_opts_t o = {
        .seed = seed, .now_ms = HO_DEMO_NOW_DEFAULT, .leads = leads, .out_dir = dir};
    ho_err_t err = {0};
    if (ho_demo_generate(&o, &err) != HO_OK) {
        fail_msg("generate: %s", err.message);
    }
}

static void test_deterministic(void **state)
{
    (void)state;
    char a[] = "/tmp/test_demo_a_XXXXXX", b[] = "/tmp/test_demo_b_XXXXXX",
         c[] = "/tmp/test_demo_c_XXXXXX";
    assert_non_null(mkdtemp(a));
    assert_non_null(mkdtemp(b));
    assert_non_null(mkdtemp(c));
    s_gen(a, 42, 300);
    s_gen(b, 42, 300);
    s_gen(c, 43, 300);
    for (size_t i = 0; i < N_FILES; i++) {
        size_t la, lb, lc;
        char *x = s_read(a, s_files[i], &la);
        char *y = s_read(b, s_files[i], &lb);
        char *z = s_read(c, s_files[i], &lc);
        assert_true(la > 0);
        if (la != lb || memcmp(x, y, la) != 0) {
            fail_msg("%s differs between two runs with seed 42", s_files[i]);
        }
        if (strcmp(s_files[i], "linkedin_lead_forms.json") != 0) {
            assert_false(la == lc && memcmp(x, z, la) == 0);
        }
        free(x);
        free(y);
        free(z);
    }
    s_rmdir(a);
    s_rmdir(b);
    s_rmdir(c);
}

static void test_real_formats(void **state)
{
    (void)state;
    char d[] = "/tmp/test_demo_f_XXXXXX";
    assert_non_null(mkdtemp(d));
    s_gen(d, 7, 200);
    size_t len;
    char *hs = s_read(d, "hubspot_contacts.csv", &len);
    assert_memory_equal(hs, "\xEF\xBB\xBFRecord ID,First Name,Last Name,Email,", 40);
    assert_non_null(strstr(hs, "Message\r\n"));
    free(hs);
    char *sf = s_read(d, "salesforce_leads.csv", &len);
    assert_null(strchr(sf, '\r'));
    ho_err_t err;
    ho_csv_t *csv = ho_csv_open_mem(sf, len, NULL, &err);
    const ho_csv_row_t *row;
    long rows = 0, extra_cols = 0;
    while (ho_csv_next(csv, &row, &err) == 1) {
        rows++;
        if (row->n != 21) {
            extra_cols++;
        }
    }
    ho_csv_destroy(&csv);
    assert_true(rows > 10);
    assert_int_equal(extra_cols, 1); /* the one deliberate bad row */
    assert_int_equal(strncmp(sf, "\"Id\",\"FirstName\",", 17), 0);
    free(sf);
    /* every webhook line is one of the four shapes, or the deliberately cut one */
    char *wh = s_read(d, "form_webhooks.jsonl", &len);
    long shapes[4] = {0}, broken = 0;
    for (char *line = strtok(wh, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *j = json_loads(line, 0, NULL);
        if (!j) {
            broken++;
            continue;
        }
        if (json_object_get(j, "field_data")) {
            shapes[0]++;
        } else if (json_object_get(j, "formResponse")) {
            shapes[1]++;
        } else if (json_object_get(j, "fields") && json_object_get(j, "context")) {
            shapes[2]++;
        } else if (json_object_get(j, "form_response")) {
            shapes[3]++;
        } else {
            fail_msg("unknown webhook shape: %.80s", line);
        }
        json_decref(j);
    }
    free(wh);
    assert_int_equal(broken, 1);
    for (int k = 0; k < 4; k++) {
        assert_true(shapes[k] > 0);
    }
    s_rmdir(d);
}

/* Run one generated file through its connector and the ingest worker (feedback rows are only
 * read). */
typedef struct {
    long read, accepted;
    json_t *reasons;
    json_t *emails; /* normalized lead emails seen */
} s_counts_t;

static void s_ingest_batch(ho_msg_t **batch, size_t n, s_counts_t *c)
{
    ho_out_t *out = ho_out_new("test");
    assert_int_equal(ho_worker_call(&ho_worker_ingest, NULL, batch, n, out), HO_WORKER_OK);
    for (size_t i = 0; i < ho_out_count(out); i++) {
        ho_msg_t *m = ho_out_at(out, i);
        const json_t *p = ho_msg_payload(m);
        if (strcmp(ho_msg_type(m), "quarantine") == 0) {
            const char *code = json_string_value(json_object_get(p, "code"));
            json_object_set_new(
                c->reasons, code,
                json_integer(json_integer_value(json_object_get(c->reasons, code)) + 1));
        } else {
            c->accepted++;
            if (strcmp(ho_msg_type(m), "lead.normalized") == 0) {
                const char *e = json_string_value(json_object_get(p, "email"));
                json_object_set_new(
                    c->emails, e,
                    json_integer(json_integer_value(json_object_get(c->emails, e)) + 1));
            }
        }
    }
    ho_out_destroy(&out);
    for (size_t i = 0; i < n; i++) {
        ho_msg_destroy(&batch[i]);
    }
}

static void s_count(const char *dir, const char *file, s_counts_t *c)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    ho_err_t err = {0};
    char format[16];
    char **cols;
    size_t ncols;
    assert_int_equal(ho_connector_sniff(path, format, sizeof format, &cols, &ncols, &err), HO_OK);
    ho_profile_t *p = ho_profile_detect(NULL, format, (const char *const *)cols, ncols, &err);
    ho_connector_cols_free(&cols, ncols);
    if (!p) {
        fail_msg("%s: %s", file, err.message);
    }
    const char *cname = ho_profile_connector(p) ? ho_profile_connector(p) : format;
    const ho_connector_def_t *conn = ho_connector_find(cname);
    assert_non_null(conn);
    ho_connector_args_t args = {path, p, NULL};
    void *ctx = NULL;
    assert_int_equal(conn->cb_open(&args, &ctx, &err), HO_OK);
    bool feedback = ho_profile_kind(p) == HO_KIND_FEEDBACK;
    ho_msg_t *batch[64];
    size_t nb = 0;
    ho_msg_t *m;
    while (conn->cb_next(ctx, &m, &err) == 1) {
        c->read++;
        if (strcmp(ho_msg_type(m), "quarantine") == 0) {
            const char *code = json_string_value(json_object_get(ho_msg_payload(m), "code"));
            json_object_set_new(
                c->reasons, code,
                json_integer(json_integer_value(json_object_get(c->reasons, code)) + 1));
            ho_msg_destroy(&m);
        } else if (feedback) {
            ho_msg_destroy(&m);
        } else {
            batch[nb++] = m;
            if (nb == 64) {
                s_ingest_batch(batch, nb, c);
                nb = 0;
            }
        }
    }
    if (nb) {
        s_ingest_batch(batch, nb, c);
    }
    conn->cb_close(&ctx);
    ho_profile_destroy(&p);
}

static void test_manifest_matches_parser(void **state)
{
    (void)state;
    char d[] = "/tmp/test_demo_m_XXXXXX";
    assert_non_null(mkdtemp(d));
    s_gen(d, 11, 400);
    size_t len;
    char *text = s_read(d, "manifest.json", &len);
    json_t *man = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(man);
    const json_t *files = json_object_get(man, "files");
    const char *checked[] = {"hubspot_contacts.csv", "salesforce_leads.csv", "marketo_leads.csv",
                             "activities.csv", "form_webhooks.jsonl"};
    json_t *csv_emails = json_object();
    long csv_accepted = 0;
    for (size_t i = 0; i < sizeof checked / sizeof checked[0]; i++) {
        const json_t *f = json_object_get(files, checked[i]);
        assert_non_null(f);
        bool webhooks = strcmp(checked[i], "form_webhooks.jsonl") == 0;
        if (webhooks && !ho_connector_find("forms")) {
            /* without the forms library, check the record count by lines */
            char *w = s_read(d, checked[i], &len);
            long lines = 0;
            for (size_t k = 0; k < len; k++) {
                lines += w[k] == '\n';
            }
            free(w);
            assert_int_equal(lines, json_integer_value(json_object_get(f, "records")));
            continue;
        }
        s_counts_t c = {0, 0, json_object(), json_object()};
        s_count(d, checked[i], &c);
        if (c.read != json_integer_value(json_object_get(f, "records")) ||
            c.accepted != json_integer_value(json_object_get(f, "accepted")) ||
            !json_equal(c.reasons, json_object_get(f, "quarantined_by_reason"))) {
            char *got = json_dumps(c.reasons, JSON_COMPACT);
            char *want = json_dumps(f, JSON_COMPACT);
            fail_msg("%s: read %ld accepted %ld reasons %s; manifest %s", checked[i], c.read,
                     c.accepted, got, want);
        }
        if (i < 3) {
            csv_accepted += c.accepted;
            const char *e;
            json_t *v;
            json_object_foreach(c.emails, e, v)
            {
                json_object_set_new(csv_emails, e, json_true());
            }
        }
        json_decref(c.reasons);
        json_decref(c.emails);
    }
    /* duplicates of an import of the three CSV exports in one command */
    const json_t *imp = json_object_get(man, "import_csv_leads");
    assert_int_equal(csv_accepted, json_integer_value(json_object_get(imp, "accepted")));
    assert_int_equal(csv_accepted - (long)json_object_size(csv_emails),
                     json_integer_value(json_object_get(imp, "duplicates")));
    assert_true(json_integer_value(json_object_get(imp, "duplicates")) > 0);
    json_decref(csv_emails);
    /* feedback rows: the connector reads exactly the manifest's records */
    s_counts_t fb = {0, 0, json_object(), json_object()};
    s_count(d, "feedback.csv", &fb);
    assert_int_equal(fb.read, json_integer_value(json_object_get(
                                  json_object_get(files, "feedback.csv"), "records")));
    json_decref(fb.reasons);
    json_decref(fb.emails);
    json_decref(man);
    s_rmdir(d);
}

static void test_feedback_simulation(void **state)
{
    (void)state;
    char d[] = "/tmp/test_demo_s_XXXXXX";
    assert_non_null(mkdtemp(d));
    char db[512], out[512];
    snprintf(db, sizeof db, "%s/handoff.db", d);
    snprintf(out, sizeof out, "%s/feedback.csv", d);
    ho_err_t err = {0};
    ho_store_t *st = ho_store_open(db, &err);
    if (!st) {
        fail_msg("store: %s", err.message);
    }
    ho_store_destroy(&st);
    sqlite3 *sql;
    assert_int_equal(sqlite3_open(db, &sql), SQLITE_OK);
    const int64_t now = HO_DEMO_NOW_DEFAULT, day = 86400000LL;
    char stmt[1024];
    for (int i = 1; i <= 60; i++) {
        /* the reps answer from the lead's stage: 7 decayed to RECYCLED (nothing to answer),
         * 28 is already an SQL (its first answer is about the opportunity) */
        snprintf(stmt, sizeof stmt,
                 "INSERT INTO leads (id, email, created_at, updated_at, grade, title, stage) "
                 "VALUES (%d, 'lead%d@example.com', %lld, %lld, '%s', 'Head of Data', '%s')",
                 i, i, (long long)(now - 40 * day), (long long)(now - 40 * day),
                 i % 2 ? "A1" : "C3",
                 i == 7    ? "RECYCLED"
                 : i == 28 ? "SQL"
                           : "MQL");
        assert_int_equal(sqlite3_exec(sql, stmt, NULL, NULL, NULL), SQLITE_OK);
        /* lead 1..50: assigned (and lead 5's first rep was reassigned); 51..60: queued */
        snprintf(stmt, sizeof stmt,
                 "INSERT INTO assignments (lead_id, event_id, rep_id, assigned_at, status) VALUES "
                 "(%d, 'ev%d', %s, %lld, 'open')",
                 i, i, i <= 50 ? (i % 3 ? "'HE1'" : "'EU1'") : "NULL",
                 (long long)(now - (i % 30 + 1) * day));
        assert_int_equal(sqlite3_exec(sql, stmt, NULL, NULL, NULL), SQLITE_OK);
    }
    assert_int_equal(
        sqlite3_exec(sql,
                     "INSERT INTO assignments (lead_id, event_id, rep_id, assigned_at, status) "
                     "VALUES (5, 'old5', 'XX9', 1, 'reassigned')",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(sql);

    long rows = 0;
    assert_int_equal(ho_demo_feedback(db, 3, now, out, &rows, &err), HO_OK);
    assert_true(rows > 20);
    size_t len;
    char *text = s_read(d, "feedback.csv", &len);
    ho_csv_t *csv = ho_csv_open_mem(text, len, NULL, &err);
    const ho_csv_row_t *row;
    ho_csv_next(csv, &row, &err);
    assert_string_equal(row->fields[0], "feedback_id");
    long n = 0, rejected = 0, accepted = 0, from_sql = 0;
    while (ho_csv_next(csv, &row, &err) == 1) {
        n++;
        assert_int_equal(row->n, 8);
        int lead = atoi(row->fields[1] + 4);
        assert_true(lead >= 1 && lead <= 50);                          /* only assigned leads */
        assert_int_not_equal(lead, 7);                                 /* only open stages */
        assert_string_equal(row->fields[2], lead % 3 ? "HE1" : "EU1"); /* the current rep */
        int64_t at;
        assert_int_equal(ho_norm_date(row->fields[5], NULL, &at), 0);
        assert_true(at > now - (lead % 30 + 1) * day); /* after assigned_at */
        assert_true(at <= now);
        const char *o = row->fields[3];
        if (lead == 28) {
            assert_true(!strcmp(o, "opportunity") || !strcmp(o, "won") || !strcmp(o, "lost"));
            from_sql++;
        }
        assert_true(!strcmp(o, "accepted") || !strcmp(o, "rejected") || !strcmp(o, "sql") ||
                    !strcmp(o, "opportunity") || !strcmp(o, "won") || !strcmp(o, "lost"));
        rejected += !strcmp(o, "rejected");
        accepted += !strcmp(o, "accepted");
        if (strcmp(o, "rejected") && strcmp(o, "lost")) {
            assert_string_equal(row->fields[4], ""); /* reasons only on rejected/lost */
        }
        if (strcmp(o, "won") == 0) {
            assert_true(atof(row->fields[7]) > 0);
        }
    }
    ho_csv_destroy(&csv);
    free(text);
    assert_int_equal(n, rows);
    assert_true(rejected > 0);
    assert_true(accepted > 0);
    assert_true(from_sql > 0);
    /* same seed, same outcomes */
    char out2[600];
    snprintf(out2, sizeof out2, "%s/feedback2.csv", d);
    long rows2;
    assert_int_equal(ho_demo_feedback(db, 3, now, out2, &rows2, &err), HO_OK);
    char *t1 = s_read(d, "feedback.csv", &len);
    size_t len2;
    char *t2 = s_read(d, "feedback2.csv", &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(t1, t2, len);
    free(t1);
    free(t2);
    /* not a store: a clear error */
    assert_int_not_equal(ho_demo_feedback("/nonexistent/handoff.db", 1, now, out2, &rows2, &err),
                         HO_OK);
    snprintf(stmt, sizeof stmt, "%s/handoff.db-wal", d);
    unlink(stmt);
    snprintf(stmt, sizeof stmt, "%s/handoff.db-shm", d);
    unlink(stmt);
    s_rmdir(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_real_formats),
        cmocka_unit_test(test_manifest_matches_parser),
        cmocka_unit_test(test_feedback_simulation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
