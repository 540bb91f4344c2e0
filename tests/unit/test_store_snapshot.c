/* test_store_snapshot.c - ho_store_score_snapshot, the one scoring snapshot the store worker
 * sends and `handoff score` scores: every activity field the scorer gets (asset too, which
 * the CLI's own copy used to leave out), newest first, and --as-of's cut-off. A real SQLite
 * file: the store creates it, the activities go in by plain SQL as the store writes them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_file_fixture.h"
#include "handoff/store.h"

static void test_snapshot(void **state)
{
    (void)state;
    char dir[64], db[128];
    assert_int_equal(s_tmp_dir_new(dir, sizeof dir, db, sizeof db, "/tmp/ho-snap-XXXXXX"), 0);
    ho_err_t err = {0};
    ho_store_t *st = ho_store_open(db, &err);
    assert_non_null(st);
    ho_lead_t lead;
    ho_lead_init(&lead);
    ho_lead_set(&lead.email, "ada@example.com");
    ho_lead_set(&lead.stage, "MQL");
    ho_lead_set(&lead.fields_json, "{\"title\":\"CTO\"}");
    assert_int_equal(ho_store_lead_put(st, &lead, &err), HO_OK);
    /* through the store (schema version 7 stores activities in compact columns) */
    static const char *const rows[][7] = {
        {"a1", "page_view", "u1", "/pricing", "c1", NULL},
        {"a2", "content_download", "u2", "/wp", "c2", "whitepaper.pdf"},
        {"a3", "demo_request", NULL, NULL, NULL, NULL}};
    for (int i = 0; i < 3; i++) {
        json_t *v[4];
        for (int k = 0; k < 4; k++) {
            v[k] = rows[i][2 + k] ? json_string(rows[i][2 + k]) : NULL;
        }
        ho_activity_row_t row = {.lead_id = lead.id,
                                 .event_id = rows[i][0],
                                 .type = rows[i][1],
                                 .occurred_at = 1000 * (i + 1),
                                 .url = v[0],
                                 .path = v[1],
                                 .campaign = v[2],
                                 .asset = v[3]};
        assert_int_equal(ho_store_add_activity(st, &row, &err), HO_OK);
        for (int k = 0; k < 4; k++) {
            json_decref(v[k]);
        }
    }
    ho_store_destroy(&st);

    st = ho_store_open(db, &err);
    assert_non_null(st);
    json_t *snap = ho_store_score_snapshot(st, &lead, 0, &err);
    assert_non_null(snap);
    assert_string_equal(json_string_value(json_object_get(snap, "email")), "ada@example.com");
    assert_string_equal(json_string_value(json_object_get(snap, "stage")), "MQL");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(snap, "fields"), "title")), "CTO");
    json_t *acts = json_object_get(snap, "activities");
    assert_int_equal(json_array_size(acts), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(acts, 0), "type")),
                        "demo_request");
    json_t *dl = json_array_get(acts, 1);
    assert_string_equal(json_string_value(json_object_get(dl, "asset")), "whitepaper.pdf");
    assert_string_equal(json_string_value(json_object_get(dl, "path")), "/wp");
    assert_int_equal(json_integer_value(json_object_get(dl, "occurred_at")), 2000);
    json_decref(snap);

    /* --as-of 2000: the demo request of 3000 has not happened yet */
    snap = ho_store_score_snapshot(st, &lead, 2000, &err);
    assert_non_null(snap);
    acts = json_object_get(snap, "activities");
    assert_int_equal(json_array_size(acts), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(acts, 0), "type")),
                        "content_download");
    json_decref(snap);
    ho_lead_clear(&lead);
    ho_store_destroy(&st);
    s_tmp_dir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_snapshot)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
