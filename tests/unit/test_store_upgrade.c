/* test_store_upgrade.c - a read-only opener (`handoff lead`, reports) of a database the store
 * has not migrated yet: a newer binary reads an older schema's leads, the columns of later
 * versions (field_sources_json: 2, score_seq: 3) read as absent, and nothing is migrated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "handoff/store.h"

/* the leads table of version 1 exactly as shipped (docs/store-schema.md) */
static const char s_v1[] =
    "CREATE TABLE schema_version (version INTEGER NOT NULL);"
    "INSERT INTO schema_version VALUES (1);"
    "CREATE TABLE leads (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE,"
    " first_name TEXT, last_name TEXT, title TEXT, phone TEXT,"
    " company TEXT, domain TEXT, personal_email INTEGER NOT NULL DEFAULT 0,"
    " industry TEXT, industry_group TEXT, employees INTEGER, revenue REAL,"
    " country TEXT, state TEXT, city TEXT, timezone TEXT, fields_json TEXT,"
    " stage TEXT NOT NULL DEFAULT 'ML', owner_rep_id TEXT,"
    " original_source TEXT, source_channel TEXT, original_campaign TEXT,"
    " first_touch_at INTEGER, last_touch_at INTEGER,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " fit INTEGER, interest INTEGER, score INTEGER, grade TEXT, quadrant TEXT,"
    " model_version TEXT, scored_at INTEGER, mql_at INTEGER, first_mql_at INTEGER,"
    " erased INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO leads (email, first_name, stage, score, scored_at, created_at, updated_at)"
    " VALUES ('old@acme.com', 'Olga', 'MQL', 80, 160, 100, 100);";

static void test_readonly_reads_older_schema(void **state)
{
    (void)state;
    char dir[] = "/tmp/ho-upg-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/handoff.db", dir);
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, s_v1, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);

    ho_err_t err = {0};
    ho_store_opts_t opts = {.readonly = true};
    ho_store_t *s = ho_store_open_opts(path, &opts, &err);
    assert_non_null(s);
    assert_int_equal(ho_store_schema_version(s), 1);
    ho_lead_t lead;
    ho_lead_init(&lead);
    if (ho_store_lead_get(s, "old@acme.com", 0, &lead, &err) != HO_OK) {
        fail_msg("lead_get: %s", err.message);
    }
    assert_string_equal(lead.first_name, "Olga");
    assert_string_equal(lead.stage, "MQL");
    assert_true(lead.score == 80 && lead.scored_at == 160);
    assert_null(lead.field_sources_json);
    assert_true(lead.score_seq == HO_NULL_INT);
    ho_lead_clear(&lead);
    ho_store_destroy(&s);

    /* the reader migrated nothing: still version 1, no score_seq column */
    assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(h,
                                        "SELECT (SELECT MAX(version) FROM schema_version),"
                                        " (SELECT COUNT(*) FROM pragma_table_info('leads')"
                                        "  WHERE name = 'score_seq')",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    assert_int_equal(sqlite3_column_int(st, 1), 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readonly_reads_older_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
