/* fuzz_import.c - libFuzzer target: arbitrary bytes as a CSV export through the streaming
 * reader (small max_record_bytes so the runaway-record path is hit), every field through
 * every normalization, and each row as a lead.raw and an activity.raw (columns taken in
 * order as canonical fields) through the ingest worker's handler. Must never crash or leak;
 * bad records must come out as quarantine envelopes, never as nothing.
 *     cmake -DHO_FUZZ=ON -DCMAKE_C_COMPILER=clang ... && ./fuzz_import tests/fixtures */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/csvio.h"
#include "handoff/normalize.h"
#include "handoff/worker.h"

extern const ho_worker_def_t ho_worker_ingest;

static const char *const s_lead_fields[] = {
    "email",    "created_at",      "country",   "state",      "employees", "revenue",
    "industry", "original_source", "full_name", "first_name", "title",     "updated_at"};
static const char *const s_act_fields[] = {"email",      "activity_type", "activity_date", "url",
                                           "attributes", "activity_id",   "source_system"};

static void s_normalize(const char *s)
{
    char *t = ho_norm_text(s);
    free(t);
    char *e = ho_norm_email(s);
    if (e) {
        (void)ho_norm_email_valid(e);
        const char *at = strrchr(e, '@');
        (void)ho_norm_personal_domain(at ? at + 1 : e);
    }
    free(e);
    (void)ho_norm_country(s);
    (void)ho_norm_us_state(s);
    long long n;
    (void)ho_norm_employees(s, &n);
    double d;
    (void)ho_norm_revenue(s, &d);
    int64_t ms;
    static const char *const fmts[] = {"%d.%m.%Y %H:%M", NULL};
    (void)ho_norm_date(s, fmts, &ms);
    (void)ho_norm_industry_group(s);
    (void)ho_norm_source_channel(s, s);
    (void)ho_norm_activity_type(s);
    char *p = ho_norm_url_path(s);
    free(p);
}

static void s_ingest(const ho_csv_row_t *row, const char *type, const char *const *names,
                     size_t n_names)
{
    ho_msg_t *m = ho_msg_new(type);
    json_t *p = ho_msg_payload(m);
    json_t *fields = json_object();
    for (size_t i = 0; i < row->n && i < n_names; i++) {
        json_t *v = json_stringn(row->fields[i], row->lens[i]);
        if (v) {
            json_object_set_new(fields, names[i], v);
        }
    }
    json_object_set_new(p, "source", json_string("fuzz"));
    json_object_set_new(p, "source_ref",
                        json_pack("{s:s, s:I}", "file", "fuzz.csv", "line", (json_int_t)row->line));
    json_object_set_new(p, "date_formats", json_pack("[s]", "%Y/%m/%d"));
    json_object_set_new(p, "fields", fields);
    ho_out_t *out = ho_out_new("fuzz");
    if (ho_worker_call(&ho_worker_ingest, NULL, &m, 1, out) == HO_WORKER_OK &&
        ho_out_count(out) != 1) {
        abort(); /* one record in, exactly one envelope out (normalized or quarantine) */
    }
    ho_out_destroy(&out);
    ho_msg_destroy(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ho_csv_opts_t opts = {size > 0 && data[0] == ';' ? ';' : ',', 512};
    ho_err_t err;
    ho_csv_t *csv = ho_csv_open_mem(data, size, &opts, &err);
    if (!csv) {
        return 0;
    }
    const ho_csv_row_t *row;
    int rows = 0;
    while (ho_csv_next(csv, &row, &err) == 1 && rows++ < 64) {
        if (row->line < 1 || row->end_line < row->line) {
            abort();
        }
        for (size_t i = 0; i < row->n && i < 32; i++) {
            if (ho_utf8_invalid_at(row->fields[i], row->lens[i]) < 0 &&
                strlen(row->fields[i]) == row->lens[i]) {
                s_normalize(row->fields[i]);
            } else {
                char *u = ho_latin1_to_utf8(row->fields[i], row->lens[i]);
                free(u);
            }
        }
        s_ingest(row, "lead.raw", s_lead_fields, sizeof s_lead_fields / sizeof s_lead_fields[0]);
        s_ingest(row, "activity.raw", s_act_fields, sizeof s_act_fields / sizeof s_act_fields[0]);
    }
    ho_csv_destroy(&csv);
    return 0;
}
