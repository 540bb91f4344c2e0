/* test_store_snapshot.c - ho_store_score_snapshot, the one scoring snapshot the store worker
 * sends and `handoff score` scores: every activity field the scorer gets (asset too, which
 * the CLI's own copy used to leave out), newest first, and --as-of's cut-off. A real SQLite
 * file: the store creates it, the activities go in by plain SQL as the store writes them.
 * The packed snapshot (ho_store_score_snapshot_pack, the store worker's score.request) is the
 * same map as the tree, for leads with and without fields, over the 500-activity limit, with
 * and without a cut-off. */
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

/* A new store (in a temp dir: dir, db) holding one lead (owner and fields may be NULL). */
static ho_store_t *s_store_with_lead(char dir[64], char db[128], ho_lead_t *lead,
                                     const char *email, const char *stage, const char *owner,
                                     const char *fields)
{
    assert_int_equal(s_tmp_dir_new(dir, 64, db, 128, "/tmp/ho-snap-XXXXXX"), 0);
    ho_err_t err = {0};
    ho_store_t *st = ho_store_open(db, &err);
    assert_non_null(st);
    ho_lead_init(lead);
    ho_lead_set(&lead->email, email);
    ho_lead_set(&lead->stage, stage);
    if (owner) {
        ho_lead_set(&lead->owner_rep_id, owner);
    }
    if (fields) {
        ho_lead_set(&lead->fields_json, fields);
    }
    if (ho_store_lead_put(st, lead, &err) != HO_OK) {
        fail_msg("lead %s: %s", email, err.message);
    }
    return st;
}

static void test_snapshot(void **state)
{
    (void)state;
    char dir[64], db[128];
    ho_err_t err = {0};
    ho_lead_t lead;
    ho_store_t *st =
        s_store_with_lead(dir, db, &lead, "ada@example.com", "MQL", NULL, "{\"title\":\"CTO\"}");
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
        assert_int_equal(ho_store_add_activity(st, &row, &err), 1);
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


/* The packed snapshot, read back by the codec, as a tree. */
static json_t *s_packed(ho_store_t *st, const ho_lead_t *lead, int64_t until)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    ho_err_t err = {0};
    assert_int_equal(ho_store_score_snapshot_pack(st, lead, until, &pk, &err), HO_OK);
    ho_msg_t *m = ho_msg_new("score.request");
    assert_int_equal(ho_msg_set_payload_packed(m, &sb.data, sb.size), HO_OK);
    json_t *tree = ho_msg_payload(m);
    assert_non_null(tree); /* the decoder's checks pass */
    json_incref(tree);
    ho_msg_destroy(&m);
    return tree;
}

static void s_same(ho_store_t *st, const ho_lead_t *lead, int64_t until, size_t want_acts)
{
    ho_err_t err = {0};
    json_t *tree = ho_store_score_snapshot(st, lead, until, &err);
    assert_non_null(tree);
    json_t *packed = s_packed(st, lead, until);
    if (!json_equal(tree, packed)) {
        char *a = json_dumps(tree, JSON_SORT_KEYS), *b = json_dumps(packed, JSON_SORT_KEYS);
        fail_msg("lead %lld until %lld:\ntree   %.600s\npacked %.600s", (long long)lead->id,
                 (long long)until, a, b);
    }
    assert_int_equal(json_array_size(json_object_get(packed, "activities")), want_acts);
    json_decref(tree);
    json_decref(packed);
}

static void test_packed_snapshot_same_as_tree(void **state)
{
    (void)state;
    char dir[64], db[128];
    ho_err_t err = {0};
    /* a lead with every kind of field value, and 620 activities (over the limit of 500) */
    ho_lead_t a;
    ho_store_t *st = s_store_with_lead(
        dir, db, &a, "z\xc3\xa9lie@example.com", "MQL", "rep-7",
        "{\"title\":\"Directrice des donn\\u00e9es\",\"employees\":1200,\"revenue\":2.5e8,"
        "\"personal_email\":false,\"tags\":[\"a\",1,null],\"address\":{\"city\":\"Lyon\"},"
        "\"empty\":\"\",\"nothing\":null}");
    static const char *const types[] = {"page_view", "email_open", "demo_request", "form_submit"};
    for (int i = 0; i < 620; i++) {
        char id[32], path[32];
        snprintf(id, sizeof id, "act-%d", i);
        snprintf(path, sizeof path, "/p/%d", i % 7);
        json_t *url = i % 3 ? json_string("https://example.com/x?y=1") : NULL;
        json_t *p = i % 5 ? json_string(path) : NULL;
        json_t *camp = i % 11 == 0 ? json_string("Q4 \xe2\x80\x94 launch") : NULL;
        json_t *asset = i % 13 == 0 ? json_string("deck.pdf") : NULL;
        ho_activity_row_t row = {.lead_id = a.id,
                                 .event_id = id,
                                 .type = types[i % 4],
                                 .occurred_at = 1000000 + (i / 2) * 1000, /* pairs at one time */
                                 .url = url,
                                 .path = p,
                                 .campaign = camp,
                                 .asset = asset};
        assert_int_equal(ho_store_add_activity(st, &row, &err), 1);
        json_decref(url);
        json_decref(p);
        json_decref(camp);
        json_decref(asset);
    }
    /* a lead with nothing: no fields, no owner, no activities (a stage it must have) */
    ho_lead_t b;
    ho_lead_init(&b);
    ho_lead_set(&b.email, "bare@example.com");
    ho_lead_set(&b.stage, "subscriber");
    if (ho_store_lead_put(st, &b, &err) != HO_OK) {
        fail_msg("lead b: %s", err.message);
    }

    s_same(st, &a, 0, 500);
    s_same(st, &a, 1000000 + 100 * 1000, 202); /* the cut-off: times 0..100 s, two each */
    s_same(st, &a, 999, 0);
    s_same(st, &b, 0, 0);
    ho_lead_clear(&a);
    ho_lead_clear(&b);
    ho_store_destroy(&st);
    s_tmp_dir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_snapshot),
                                       cmocka_unit_test(test_packed_snapshot_same_as_tree)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
