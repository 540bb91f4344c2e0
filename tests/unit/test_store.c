/* test_store.c - the store API on a real SQLite file: schema creation and reopening,
 * identity (case, whitespace, NFC, plus addressing), the merge rule with per-field
 * precedence, idempotent upserts, read-only opening. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "db_file_fixture.h"
#include "handoff/scoring.h"
#include "handoff/store.h"

static int s_setup(void **state)
{
    return s_tmp_setup(state, "/tmp/ho-store-XXXXXX");
}

static int s_teardown(void **state)
{
    return s_tmp_teardown(state);
}

static void s_expect(const char *db, const char *sql, const char *want)
{
    s_db_expect(db, sql, want);
}

static void s_upsert(ho_store_t *s, const char *id, const char *source, const char *email,
                     long long at, json_t *fields)
{
    json_t *p = json_pack("{sssssosI}", "email", email, "source", source, "fields", fields,
                          "observed_at", (json_int_t)at);
    ho_upsert_t res;
    ho_err_t err = {0};
    int rc = ho_store_upsert_lead(s, id, p, &res, &err);
    if (rc != HO_OK) {
        fail_msg("upsert %s: %s", id, err.message);
    }
    json_decref(p);
}

static void test_create_and_reopen(void **state)
{
    s_tmp_t *t = *state;
    ho_err_t err = {0};
    ho_store_t *s = ho_store_open(t->path, &err);
    assert_non_null(s);
    assert_int_equal(ho_store_schema_version(s), HO_STORE_SCHEMA_VERSION);
    assert_string_equal(ho_store_backend_name(s), "sqlite");
    s_upsert(s, "ev-1", "hubspot", "a@acme.com", 1000, json_pack("{ss}", "first_name", "Ann"));
    ho_store_destroy(&s);
    ho_store_destroy(&s);
    s_expect(t->path, "PRAGMA journal_mode", "wal");
    s_expect(t->path, "SELECT group_concat(version) FROM schema_version", HO_FIX_SCHEMA_V);
    s_expect(t->path,
             "SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name IN ('leads',"
             "'lead_sources','activities','stage_history','scores','assignments','sla_breaches',"
             "'outcomes','pending_outcomes','quarantine','events','erasures','schema_version')",
             "13");
    s_expect(t->path,
             "SELECT COUNT(*) FROM pragma_table_info('leads') WHERE name="
             "'field_sources_json'",
             "1");
    /* reopening keeps the data and does not migrate twice */
    s = ho_store_open(t->path, &err);
    assert_non_null(s);
    assert_int_equal(ho_store_schema_version(s), HO_STORE_SCHEMA_VERSION);
    ho_store_destroy(&s);
    s_expect(t->path, "SELECT COUNT(*) FROM schema_version", "1");
    s_expect(t->path, "SELECT first_name FROM leads WHERE email='a@acme.com'", "Ann");
}

static void test_migrate_from_v1(void **state)
{
    s_tmp_t *t = *state;
    /* a version-1 database as the report engineer may have made it: v1 tables, no v2 columns
     * (leads has the columns later migrations index: domain, owner_rep_id, mql_at) */
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(t->path, &h), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(
            h,
            "CREATE TABLE schema_version (version INTEGER NOT NULL);"
            "INSERT INTO schema_version VALUES (1);"
            "CREATE TABLE leads (id INTEGER PRIMARY KEY, email TEXT NOT NULL "
            "UNIQUE, stage TEXT NOT NULL DEFAULT 'ML', last_touch_at INTEGER, created_at INTEGER "
            "NOT NULL, updated_at INTEGER NOT NULL, domain TEXT, owner_rep_id TEXT, "
            "mql_at INTEGER);"
            "CREATE TABLE assignments (id INTEGER PRIMARY KEY, lead_id "
            "INTEGER, status TEXT, sla_due INTEGER);"
            "CREATE TABLE stage_history (id INTEGER PRIMARY KEY, lead_id "
            "INTEGER, to_stage TEXT, at INTEGER);"
            "CREATE TABLE pending_outcomes (event_id TEXT PRIMARY KEY, email "
            "TEXT);"
            "CREATE TABLE lead_sources (id INTEGER PRIMARY KEY, lead_id "
            "INTEGER);"
            "INSERT INTO leads (email, created_at, updated_at) VALUES "
            "('old@acme.com', 1, 1);",
            NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(h);
    ho_err_t err = {0};
    ho_store_t *s = ho_store_open(t->path, &err);
    assert_non_null(s);
    assert_int_equal(ho_store_schema_version(s), HO_STORE_SCHEMA_VERSION);
    ho_store_destroy(&s);
    s_expect(t->path, "SELECT version FROM schema_version", HO_FIX_SCHEMA_V);
    s_expect(t->path, "SELECT COUNT(*) FROM pragma_table_info('leads') WHERE name='score_seq'",
             "1");
    s_expect(t->path,
             "SELECT COUNT(*) FROM pragma_table_info('assignments') WHERE name="
             "'reassign_due'",
             "1");
    s_expect(t->path, "SELECT email FROM leads", "old@acme.com");
}

/* The version-1 schema exactly as shipped (docs/store-schema.md, version 1), written out
 * here independently of the migration code. */
static const char s_v1_schema[] =
    "CREATE TABLE schema_version (version INTEGER NOT NULL);"
    "CREATE TABLE leads ("
    " id INTEGER PRIMARY KEY,"
    " email TEXT NOT NULL UNIQUE,"
    " first_name TEXT, last_name TEXT, title TEXT, phone TEXT,"
    " company TEXT, domain TEXT, personal_email INTEGER NOT NULL DEFAULT 0,"
    " industry TEXT, industry_group TEXT, employees INTEGER, revenue REAL,"
    " country TEXT, state TEXT, city TEXT, timezone TEXT,"
    " fields_json TEXT,"
    " stage TEXT NOT NULL DEFAULT 'ML',"
    " owner_rep_id TEXT,"
    " original_source TEXT, source_channel TEXT, original_campaign TEXT,"
    " first_touch_at INTEGER, last_touch_at INTEGER,"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " fit INTEGER, interest INTEGER, score INTEGER, grade TEXT, quadrant TEXT, model_version TEXT,"
    " scored_at INTEGER,"
    " mql_at INTEGER,"
    " first_mql_at INTEGER,"
    " erased INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX leads_domain ON leads(domain);"
    "CREATE INDEX leads_mql_at ON leads(mql_at);"
    "CREATE TABLE lead_sources ("
    " id INTEGER PRIMARY KEY,"
    " lead_id INTEGER NOT NULL REFERENCES leads(id),"
    " event_id TEXT NOT NULL UNIQUE,"
    " source TEXT NOT NULL,"
    " source_record_id TEXT,"
    " original_source TEXT, campaign TEXT,"
    " file TEXT, line INTEGER,"
    " observed_at INTEGER NOT NULL);"
    "CREATE TABLE activities ("
    " id INTEGER PRIMARY KEY,"
    " lead_id INTEGER NOT NULL REFERENCES leads(id),"
    " event_id TEXT NOT NULL UNIQUE,"
    " type TEXT NOT NULL, occurred_at INTEGER NOT NULL,"
    " url TEXT, path TEXT, campaign TEXT, asset TEXT, source_system TEXT);"
    "CREATE INDEX activities_lead ON activities(lead_id, occurred_at);"
    "CREATE TABLE stage_history ("
    " id INTEGER PRIMARY KEY,"
    " lead_id INTEGER NOT NULL REFERENCES leads(id),"
    " from_stage TEXT, to_stage TEXT NOT NULL,"
    " at INTEGER NOT NULL,"
    " actor TEXT NOT NULL,"
    " reason TEXT,"
    " score INTEGER, fit INTEGER, interest INTEGER,"
    " event_id TEXT);"
    "CREATE INDEX stage_history_lead ON stage_history(lead_id, at);"
    "CREATE TABLE scores ("
    " id INTEGER PRIMARY KEY,"
    " lead_id INTEGER NOT NULL REFERENCES leads(id),"
    " event_id TEXT NOT NULL UNIQUE,"
    " at INTEGER NOT NULL, model_version TEXT NOT NULL,"
    " fit INTEGER NOT NULL, interest INTEGER NOT NULL, score INTEGER NOT NULL,"
    " grade TEXT, quadrant TEXT, mql INTEGER NOT NULL,"
    " explanation_json TEXT);"
    "CREATE TABLE assignments ("
    " id INTEGER PRIMARY KEY,"
    " lead_id INTEGER NOT NULL REFERENCES leads(id),"
    " event_id TEXT NOT NULL UNIQUE,"
    " rep_id TEXT, rep_name TEXT, queue TEXT, rule TEXT, reason TEXT,"
    " assigned_at INTEGER NOT NULL,"
    " sla_due INTEGER,"
    " accepted_at INTEGER,"
    " reminded_at INTEGER,"
    " status TEXT NOT NULL DEFAULT 'open');"
    "CREATE INDEX assignments_lead ON assignments(lead_id);"
    "CREATE TABLE sla_breaches ("
    " id INTEGER PRIMARY KEY,"
    " assignment_id INTEGER NOT NULL REFERENCES assignments(id),"
    " lead_id INTEGER NOT NULL, rep_id TEXT,"
    " step TEXT NOT NULL,"
    " at INTEGER NOT NULL,"
    " UNIQUE(assignment_id, step));"
    "CREATE TABLE outcomes ("
    " id INTEGER PRIMARY KEY,"
    " lead_id INTEGER NOT NULL REFERENCES leads(id),"
    " event_id TEXT NOT NULL UNIQUE,"
    " feedback_id TEXT,"
    " rep_id TEXT, outcome TEXT NOT NULL,"
    " reason TEXT, reason_owner TEXT,"
    " stage_reached TEXT,"
    " occurred_at INTEGER NOT NULL,"
    " notes TEXT, amount REAL,"
    " not_owner INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX outcomes_lead ON outcomes(lead_id, occurred_at);"
    "CREATE TABLE pending_outcomes ("
    " event_id TEXT PRIMARY KEY, email TEXT NOT NULL, body TEXT NOT NULL, received_at INTEGER);"
    "CREATE TABLE quarantine ("
    " id INTEGER PRIMARY KEY,"
    " event_id TEXT NOT NULL UNIQUE,"
    " stage TEXT, code TEXT, field TEXT, reason TEXT,"
    " source TEXT, file TEXT, line INTEGER,"
    " input_event_id TEXT, input_type TEXT,"
    " raw_json TEXT,"
    " at INTEGER NOT NULL,"
    " replayed_at INTEGER);"
    "CREATE TABLE events ("
    " event_id TEXT PRIMARY KEY, type TEXT NOT NULL, applied_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE erasures (id INTEGER PRIMARY KEY, lead_id INTEGER, at INTEGER NOT NULL);";

/* A full version-1 database with a row in every table: the migration to version 2 keeps
 * every row, adds the new columns with their defaults and the new indexes, and the store
 * then works on it (an upsert merges into the old lead). */
static void test_migrate_full_v1(void **state)
{
    s_tmp_t *t = *state;
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(t->path, &h), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(h, s_v1_schema, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        fail_msg("v1 schema: %s", msg);
    }
    assert_int_equal(
        sqlite3_exec(
            h,
            "INSERT INTO schema_version VALUES (1);"
            "INSERT INTO leads (id, email, first_name, stage, created_at, updated_at, "
            "fields_json, original_source) VALUES (7, 'old@acme.com', 'Olga', 'MQL', 100, 100, "
            "'{\"first_name\":\"Olga\",\"city\":\"Oslo\"}', 'Trade Show');"
            "INSERT INTO lead_sources (lead_id, event_id, source, observed_at) VALUES "
            "(7, 'ev-old', 'hubspot', 100);"
            "INSERT INTO activities (lead_id, event_id, type, occurred_at) VALUES "
            "(7, 'act-old', 'page_view', 150);"
            "INSERT INTO stage_history (lead_id, from_stage, to_stage, at, actor) VALUES "
            "(7, 'ML', 'MQL', 160, 'score');"
            "INSERT INTO scores (lead_id, event_id, at, model_version, fit, interest, score, "
            "mql) VALUES (7, 'sc-old', 160, 'm0', 50, 30, 80, 1);"
            "INSERT INTO assignments (lead_id, event_id, assigned_at, sla_due) VALUES "
            "(7, 'as-old', 170, 180);"
            "INSERT INTO sla_breaches (assignment_id, lead_id, step, at) VALUES (1, 7, "
            "'remind', 181);"
            "INSERT INTO outcomes (lead_id, event_id, outcome, occurred_at) VALUES "
            "(7, 'oc-old', 'accepted', 190);"
            "INSERT INTO pending_outcomes VALUES ('po-old', 'new@acme.com', '{}', 191);"
            "INSERT INTO quarantine (event_id, at) VALUES ('q-old', 192);"
            "INSERT INTO events VALUES ('ev-old', 'lead.normalized', 100);"
            "INSERT INTO erasures (lead_id, at) VALUES (3, 193);",
            NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(h);
    ho_err_t err = {0};
    ho_store_t *s = ho_store_open(t->path, &err);
    assert_non_null(s);
    assert_int_equal(ho_store_schema_version(s), HO_STORE_SCHEMA_VERSION);
    /* the old event id is still known: replaying it changes nothing */
    s_upsert(s, "ev-old", "hubspot", "old@acme.com", 100, json_pack("{ss}", "city", "Rome"));
    s_upsert(s, "ev-new", "salesforce", "old@acme.com", 200, json_pack("{ss}", "title", "CTO"));
    ho_store_destroy(&s);
    s_expect(t->path, "SELECT group_concat(version) FROM schema_version", HO_FIX_SCHEMA_V);
    s_expect(t->path,
             "SELECT (SELECT COUNT(*) FROM leads) || (SELECT COUNT(*) FROM lead_sources) ||"
             " (SELECT COUNT(*) FROM activities) || (SELECT COUNT(*) FROM stage_history) ||"
             " (SELECT COUNT(*) FROM scores) || (SELECT COUNT(*) FROM assignments) ||"
             " (SELECT COUNT(*) FROM sla_breaches) || (SELECT COUNT(*) FROM outcomes) ||"
             " (SELECT COUNT(*) FROM pending_outcomes) || (SELECT COUNT(*) FROM quarantine) ||"
             " (SELECT COUNT(*) FROM events) || (SELECT COUNT(*) FROM erasures)",
             "121111111121");
    /* version 6: the activity rows kept (ids, columns), without the UNIQUE(event_id) index,
     * with the (lead_id, occurred_at) one */
    s_expect(t->path,
             "SELECT group_concat(id || ' ' || lead_id || ' ' || event_id || ' ' || type, ';')"
             " FROM activities",
             "1 7 act-old page_view");
    s_expect(t->path,
             "SELECT group_concat(name) FROM sqlite_master WHERE type = 'index'"
             " AND tbl_name = 'activities'",
             "activities_lead");
    s_expect(t->path,
             "SELECT stage || ' ' || first_name || ' ' || title || ' ' || city || ' ' || "
             "original_source || ' ' || json_extract(field_sources_json, '$.title[0]') FROM leads",
             "MQL Olga CTO Oslo Trade Show salesforce");
    s_expect(t->path, "SELECT kind FROM stage_history", "transition");
    s_expect(t->path, "SELECT IFNULL(reassign_due, 'null') || ' ' || status FROM assignments",
             "null open");
    s_expect(t->path,
             "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN "
             "('pending_outcomes_email', 'lead_sources_lead', 'assignments_open', "
             "'leads_last_touch')",
             "4");
}

/* Versions 2 and 3 as shipped (docs/store-schema.md), written out here independently of the
 * migration code: applied to s_v1_schema they make a version-3 database. */
static const char s_v2_v3_schema[] =
    "ALTER TABLE leads ADD COLUMN field_sources_json TEXT;"
    "ALTER TABLE assignments ADD COLUMN reassign_due INTEGER;"
    "ALTER TABLE stage_history ADD COLUMN kind TEXT NOT NULL DEFAULT 'transition';"
    "CREATE INDEX pending_outcomes_email ON pending_outcomes(email);"
    "CREATE INDEX lead_sources_lead ON lead_sources(lead_id);"
    "CREATE INDEX assignments_open ON assignments(status, sla_due);"
    "CREATE INDEX leads_last_touch ON leads(last_touch_at);"
    "ALTER TABLE leads ADD COLUMN score_seq INTEGER;";

/* The EXPLAIN QUERY PLAN lines of sql, joined with ';'. */
static char *s_plan(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    char q[1024];
    snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql);
    assert_int_equal(sqlite3_prepare_v2(h, q, -1, &st, NULL), SQLITE_OK);
    char out[1024] = "";
    size_t used = 0;
    while (sqlite3_step(st) == SQLITE_ROW && used < sizeof out) {
        used += (size_t)snprintf(out + used, sizeof out - used, "%s;",
                                 (const char *)sqlite3_column_text(st, 3));
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return strdup(out);
}

/* A populated version-3 database: version 4 keeps every row (lead_sources rows keep their ids
 * and columns through the table copy), lead_sources.event_id has no unique index any more,
 * the domain and mql_at indexes are partial and still serve their queries, and idempotency
 * (events) holds: an old event id replayed changes nothing, a new one adds its source row. */
static void test_migrate_populated_v3(void **state)
{
    s_tmp_t *t = *state;
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(t->path, &h), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(h, s_v1_schema, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(h, s_v2_v3_schema, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("v3 schema: %s", msg);
    }
    if (sqlite3_exec(
            h,
            "INSERT INTO schema_version VALUES (3);"
            "INSERT INTO leads (id, email, first_name, domain, owner_rep_id, stage, mql_at, "
            "created_at, updated_at, last_touch_at, fields_json, field_sources_json, "
            "original_source, score_seq) VALUES "
            "(7, 'ann@acme.com', 'Ann', 'acme.com', 'rep-1', 'SAL', 150, 100, 150, 150, "
            "'{\"first_name\":\"Ann\"}', '{\"_\":[\"hubspot\",100]}', 'Trade Show', 4),"
            "(8, 'bob@acme.com', 'Bob', 'acme.com', NULL, 'ML', NULL, 110, 110, 110, "
            "'{\"first_name\":\"Bob\"}', '{\"_\":[\"hubspot\",110]}', 'Webinar', NULL);"
            "INSERT INTO lead_sources (id, lead_id, event_id, source, source_record_id, "
            "original_source, campaign, file, line, observed_at) VALUES "
            "(3, 7, 'ev-a', 'hubspot', 'hs-1', 'Trade Show', 'q1', 'a.csv', 2, 100),"
            "(5, 7, 'ev-b', 'salesforce', 'sf-1', NULL, NULL, 'b.xlsx', 9, 120),"
            "(6, 8, 'ev-c', 'hubspot', 'hs-2', 'Webinar', NULL, 'a.csv', 3, 110);"
            "INSERT INTO events VALUES ('ev-a', 'lead.normalized', 100),"
            "('ev-b', 'lead.normalized', 120), ('ev-c', 'lead.normalized', 110);"
            "INSERT INTO activities (lead_id, event_id, type, occurred_at) VALUES "
            "(7, 'act-1', 'page_view', 130);"
            "INSERT INTO stage_history (lead_id, from_stage, to_stage, at, actor, kind) VALUES "
            "(7, 'ML', 'MQL', 150, 'score', 'transition');"
            "INSERT INTO scores (lead_id, event_id, at, model_version, fit, interest, score, "
            "mql) VALUES (7, 'sc-1', 150, 'm1', 50, 30, 80, 1);"
            "INSERT INTO assignments (lead_id, event_id, rep_id, assigned_at, sla_due, status) "
            "VALUES (7, 'as-1', 'rep-1', 160, 170, 'accepted');"
            "INSERT INTO outcomes (lead_id, event_id, rep_id, outcome, occurred_at) VALUES "
            "(7, 'oc-1', 'rep-1', 'accepted', 165);",
            NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("v3 rows: %s", msg);
    }
    sqlite3_close(h);

    ho_err_t err = {0};
    ho_store_t *s = ho_store_open(t->path, &err);
    assert_non_null(s);
    assert_int_equal(ho_store_schema_version(s), HO_STORE_SCHEMA_VERSION);
    /* the domain owner query still finds the owned lead of the domain */
    json_t *rows = NULL;
    json_t *args = json_pack("{sssi}", "domain", "acme.com", "lead_id", 8);
    assert_int_equal(ho_store_query(s, HO_Q_DOMAIN_OWNER, args, &rows, &err), HO_OK);
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "owner_rep_id")),
                        "rep-1");
    json_decref(rows);
    json_decref(args);
    /* replayed old event: nothing changes; new event: one more source row with file and line */
    s_upsert(s, "ev-b", "salesforce", "ann@acme.com", 120, json_pack("{ss}", "title", "CEO"));
    json_t *p = json_pack("{sssss{sssi}s{ss}sI}", "email", "Ann@Acme.com", "source", "webform",
                          "source_ref", "file", "c.csv", "line", 4, "fields", "title", "CTO",
                          "observed_at", (json_int_t)200);
    ho_upsert_t res;
    assert_int_equal(ho_store_upsert_lead(s, "ev-d", p, &res, &err), HO_OK);
    assert_false(res.created);
    assert_int_equal(res.lead_id, 7);
    assert_int_equal(ho_store_upsert_lead(s, "ev-d", p, &res, &err), HO_OK);
    assert_true(res.duplicate);
    json_decref(p);
    ho_store_destroy(&s);

    s_expect(t->path, "SELECT group_concat(version) FROM schema_version", HO_FIX_SCHEMA_V);
    s_expect(t->path, "PRAGMA integrity_check", "ok");
    s_expect(t->path,
             "SELECT group_concat(id || ':' || lead_id || ':' || event_id || ':' || source || ':'"
             " || IFNULL(source_record_id, '-') || ':' || IFNULL(original_source, '-') || ':' ||"
             " IFNULL(campaign, '-') || ':' || file || ':' || line || ':' || observed_at, ' ')"
             " FROM (SELECT * FROM lead_sources ORDER BY id)",
             "3:7:ev-a:hubspot:hs-1:Trade Show:q1:a.csv:2:100 "
             "5:7:ev-b:salesforce:sf-1:-:-:b.xlsx:9:120 "
             "6:8:ev-c:hubspot:hs-2:Webinar:-:a.csv:3:110 "
             "7:7:ev-d:webform:-:-:-:c.csv:4:200");
    s_expect(t->path,
             "SELECT (SELECT COUNT(*) FROM leads) || (SELECT COUNT(*) FROM activities) ||"
             " (SELECT COUNT(*) FROM stage_history) || (SELECT COUNT(*) FROM scores) ||"
             " (SELECT COUNT(*) FROM assignments) || (SELECT COUNT(*) FROM outcomes) ||"
             " (SELECT COUNT(*) FROM events)",
             "2111114");
    s_expect(t->path,
             "SELECT title || ' ' || score_seq || ' ' || owner_rep_id FROM leads WHERE id = 7",
             "CTO 4 rep-1");
    /* indexes: no unique one on lead_sources, the lead_id one kept; two partial on leads */
    s_expect(t->path,
             "SELECT group_concat(name || ':' || \"unique\" || ':' || partial, ' ') FROM"
             " (SELECT * FROM pragma_index_list('lead_sources') ORDER BY name)",
             "lead_sources_lead:0:0");
    s_expect(t->path,
             "SELECT group_concat(name, ' ') FROM (SELECT name FROM pragma_index_list('leads')"
             " WHERE partial ORDER BY name)",
             "leads_domain leads_mql_at");
    /* ... and they hold what their queries ask for */
    s_expect(t->path,
             "SELECT group_concat(id) FROM leads INDEXED BY leads_domain WHERE domain = "
             "'acme.com' AND owner_rep_id IS NOT NULL",
             "7");
    s_expect(t->path,
             "SELECT group_concat(id) FROM leads INDEXED BY leads_mql_at WHERE mql_at >= 0", "7");
    char *plan = s_plan(t->path, "SELECT owner_rep_id FROM leads WHERE domain = 'acme.com'"
                                 " AND personal_email = 0 AND id <> 8 AND erased = 0"
                                 " AND owner_rep_id IS NOT NULL ORDER BY updated_at DESC, id"
                                 " LIMIT 1");
    if (!strstr(plan, "USING INDEX leads_domain")) {
        fail_msg("domain owner query plan: %s", plan);
    }
    free(plan);
}

/* Versions 4-6 as shipped (docs/store-schema.md), written out here independently of the
 * migration code: applied to a version-3 database (s_v1_schema, s_v2_v3_schema) they make a
 * version-6 one (lead_sources keeps its UNIQUE index: version 4 only dropped it). */
static const char s_v4_v6_schema[] =
    "DROP INDEX leads_mql_at;"
    "CREATE INDEX leads_mql_at ON leads(mql_at) WHERE mql_at IS NOT NULL;"
    "DROP INDEX leads_domain;"
    "CREATE INDEX leads_domain ON leads(domain) WHERE owner_rep_id IS NOT NULL;"
    "ALTER TABLE outcomes ADD COLUMN flags TEXT;"
    "ALTER TABLE outcomes ADD COLUMN implied INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE outcomes ADD COLUMN import_id TEXT;"
    "ALTER TABLE outcomes ADD COLUMN disposition TEXT;"
    "ALTER TABLE stage_history ADD COLUMN implied INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE leads ADD COLUMN crm_stage TEXT;"
    "ALTER TABLE pending_outcomes ADD COLUMN status TEXT NOT NULL DEFAULT 'pending';"
    "ALTER TABLE pending_outcomes ADD COLUMN import_id TEXT;"
    "ALTER TABLE pending_outcomes ADD COLUMN unknown_at INTEGER;"
    "CREATE INDEX pending_outcomes_status ON pending_outcomes(status, received_at);"
    "ALTER TABLE quarantine ADD COLUMN import_id TEXT;"
    "CREATE INDEX quarantine_import ON quarantine(import_id) WHERE import_id IS NOT NULL;"
    "CREATE INDEX scores_lead ON scores(lead_id, at);"
    "CREATE TABLE store_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO store_counters VALUES ('score_seq', 0);"
    "CREATE TABLE unmatched_activities (id INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE,"
    " email TEXT NOT NULL, body TEXT NOT NULL, occurred_at INTEGER NOT NULL, import_id TEXT);"
    "CREATE INDEX unmatched_activities_email ON unmatched_activities(email);"
    "CREATE TABLE imports (import_id TEXT PRIMARY KEY, source TEXT, kind TEXT, file TEXT,"
    " read INT, accepted INT, skipped_json TEXT, quarantined_json TEXT, finished_at INT);"
    "CREATE TABLE import_results (import_id TEXT NOT NULL, result TEXT NOT NULL,"
    " n INT NOT NULL DEFAULT 0, PRIMARY KEY(import_id, result)) WITHOUT ROWID;"
    "DROP TABLE activities;"
    "CREATE TABLE activities (id INTEGER PRIMARY KEY,"
    " lead_id INTEGER NOT NULL REFERENCES leads(id), event_id TEXT NOT NULL,"
    " type TEXT NOT NULL, occurred_at INTEGER NOT NULL,"
    " url TEXT, path TEXT, campaign TEXT, asset TEXT, source_system TEXT);"
    "CREATE INDEX activities_lead ON activities(lead_id, occurred_at);";

#define S_HEX1 "0123456789abcdef0123456789abcdef"
#define S_HEX2 "ffeeddccbbaa99887766554433221100"
/* every column of every activity, as readers see them */
#define S_ACTS_SQL                                                                                 \
    "SELECT group_concat(id || '|' || lead_id || '|' || event_id || '|' || type || '|' ||"         \
    " occurred_at || '|' || IFNULL(url, '-') || '|' || quote(path) || '|' ||"                      \
    " IFNULL(campaign, '-') || '|' || IFNULL(asset, '-') || '|' || quote(source_system), ';')"     \
    " FROM (SELECT * FROM activities ORDER BY id)"

/* A populated version-6 database: version 7 keeps every activity as readers see it (event
 * ids, types, paths and source systems given back by the generated columns, in any form:
 * compact or not), stores the usual forms compactly, keeps every event id known (a
 * redelivered event is still a duplicate), and a forget keeps the path of an erased url. */
static void s_said_migrate(int from, int to, void *arg)
{
    int *said = arg;
    said[0]++;
    said[1] = from;
    said[2] = to;
}

static void test_migrate_v6_compact(void **state)
{
    s_tmp_t *t = *state;
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(t->path, &h), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(h, s_v1_schema, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(h, s_v2_v3_schema, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(h, s_v4_v6_schema, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("v6 schema: %s", msg);
    }
    if (sqlite3_exec(
            h,
            "INSERT INTO schema_version VALUES (6);"
            "INSERT INTO leads (id, email, stage, created_at, updated_at, fields_json) VALUES "
            "(7, 'ann@acme.com', 'ML', 100, 100, '{}');"
            "INSERT INTO activities (id, lead_id, event_id, type, occurred_at, url, path,"
            " campaign, asset, source_system) VALUES "
            "(3, 7, 'act-" S_HEX1 "', 'page_view', 130,"
            " 'https://www.acme.com/pricing?utm_source=x', '/pricing', 'Q4', 'Deck', 'website'),"
            "(4, 7, 'act-old', 'custom_touch', 131, 'https://b\xc3\xbc" "cher.example/x', '/x',"
            " NULL, NULL, 'crm-x'),"
            "(5, 7, 'act-UPPER" S_HEX2 "', 'email_open', 132, '', '', 'C', 'A', 'sendgrid'),"
            "(6, 7, 'x-" S_HEX2 "', 'form_submit', 133, NULL, NULL, NULL, NULL, NULL),"
            "(9, 7, 'act-" S_HEX2 "', 'page_view', 134, 'https://acme.com/Pricing/', '/pricing',"
            " NULL, NULL, '42');"
            "INSERT INTO events VALUES ('act-" S_HEX1 "', 'A', 130), ('act-old', 'A', 131),"
            "('act-UPPER" S_HEX2 "', 'A', 132), ('x-" S_HEX2 "', 'A', 133),"
            "('act-" S_HEX2 "', 'A', 134), ('lead-hubspot-" S_HEX1 "', 'L', 100),"
            "('scored-" S_HEX2 "', 'lead.scored', 140);",
            NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("v6 rows: %s", msg);
    }
    sqlite3_close(h);
    char *before = s_db_text(t->path, S_ACTS_SQL);
    assert_non_null(before);

    ho_err_t err = {0};
    int said[3] = {0, 0, 0}; /* calls, from, to */
    ho_store_opts_t opts = {.on_migrate = s_said_migrate, .migrate_arg = said};
    ho_store_t *s = ho_store_open_opts(t->path, &opts, &err);
    assert_non_null(s);
    assert_int_equal(ho_store_schema_version(s), HO_STORE_SCHEMA_VERSION);
    /* the caller was told once, before, from which version to which */
    assert_int_equal(said[0], 1);
    assert_int_equal(said[1], 6);
    assert_int_equal(said[2], HO_STORE_SCHEMA_VERSION);
    /* every old event id is still applied; a new one is not */
    static const char *const old[] = {"act-" S_HEX1,         "act-old", "act-UPPER" S_HEX2,
                                      "x-" S_HEX2,           "act-" S_HEX2,
                                      "lead-hubspot-" S_HEX1, "scored-" S_HEX2};
    for (size_t i = 0; i < sizeof old / sizeof old[0]; i++) {
        if (ho_store_claim_event(s, old[i], "activity.normalized", 200, &err) != 0) {
            fail_msg("%s claimed again after the migration", old[i]);
        }
    }
    assert_int_equal(ho_store_claim_event(s, "act-" S_HEX1 "0", "activity.normalized", 200, &err),
                     1);
    assert_int_equal(ho_store_claim_event(s, "act-" S_HEX1 "0", "activity.normalized", 200, &err),
                     0);
    /* version 10: an activity stored before is found again by its row (lead, time, event id),
     * whatever else the redelivery says; the same id at another time is another activity */
    static const struct {
        const char *id;
        long long at;
    } acts[] = {{"act-" S_HEX1, 130},
                {"act-old", 131},
                {"act-UPPER" S_HEX2, 132},
                {"x-" S_HEX2, 133},
                {"act-" S_HEX2, 134}};
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        ho_activity_row_t row = {
            .lead_id = 7, .event_id = acts[i].id, .type = "page_view", .occurred_at = acts[i].at};
        if (ho_store_add_activity(s, &row, &err) != 0) {
            fail_msg("%s stored again after the migration", acts[i].id);
        }
    }
    ho_store_destroy(&s);
    s_expect(t->path, "SELECT sql FROM sqlite_master WHERE name = 'activities_lead'",
             "CREATE UNIQUE INDEX activities_lead ON activities(lead_id, occurred_at, event_key)");

    s_expect(t->path, "SELECT group_concat(version) FROM schema_version", HO_FIX_SCHEMA_V);
    s_expect(t->path, "PRAGMA integrity_check", "ok");
    s_expect(t->path, S_ACTS_SQL, before);
    free(before);
    /* the usual forms are stored compactly, the others as they were */
    s_expect(t->path,
             "SELECT group_concat(id || ':' || typeof(event_key) || ':' || typeof(type_key) || ':'"
             " || typeof(url_key) || ':' || typeof(path_key) || ':' || typeof(source_key), ' ')"
             " FROM (SELECT * FROM activities ORDER BY id)",
             "3:blob:integer:blob:integer:integer 4:text:text:blob:text:text "
             "5:text:integer:text:text:integer 6:blob:integer:null:null:null "
             "9:blob:integer:blob:text:text");
    s_expect(t->path,
             "SELECT length(event_key) || ' ' || length(url_key) FROM activities WHERE id = 3",
             "17 30");
    s_expect(t->path, "SELECT COUNT(*) || ' ' || SUM(typeof(event_id) = 'blob') FROM events",
             "8 5");
    s_expect(t->path,
             "SELECT group_concat(name) FROM sqlite_master WHERE type = 'index'"
             " AND tbl_name = 'activities'",
             "activities_lead");
    /* forget: the url goes, the path it held stays */
    s = ho_store_open(t->path, &err);
    assert_non_null(s);
    assert_int_equal(ho_store_erase(s, 7, "ann@acme.com", 300, &err), HO_OK);
    ho_store_destroy(&s);
    s_expect(t->path,
             "SELECT group_concat(quote(url) || ' ' || quote(path), ';')"
             " FROM (SELECT * FROM activities ORDER BY id)",
             "NULL '/pricing';NULL '/x';NULL '';NULL NULL;NULL '/pricing'");
}

/* Activities added through the store read back as given, whatever their form: every type
 * and source system code, paths in and out of their url, ids compact or not. */
static void test_activity_compact_round_trip(void **state)
{
    s_tmp_t *t = *state;
    ho_err_t err = {0};
    ho_store_t *s = ho_store_open(t->path, &err);
    assert_non_null(s);
    s_upsert(s, "ev-1", "hubspot", "ann@acme.com", 100, json_object());
    static const char *const types[] = {
        "email_open",   "email_click",       "page_view",   "webinar_attended", "content_download",
        "demo_request", "free_trial_signup", "unsubscribe", "form_submit",      "other_thing"};
    static const char *const sources[] = {"website",    "sendgrid", "marketo",  "on24", "hubspot",
                                          "salesforce", "linkedin", "facebook", "zoho", NULL};
    static const char *const urls[][2] = {
        {"https://www.acme.com/a/b?x=1", "/a/b"}, {"http://acme.com/", "/"},
        {"www.acme.com/pricing/", "/pricing"},     {"http://www.acme.com/q?p=/r", "/r"},
        {"https://\xc3\xa9.com/p", "/p"},          {NULL, "/only-path"},
        {"https://www.", NULL},                    {"", ""},
        {"https://acme.com/x", "/y"},              {"https://acme.com/x", "3"}};
    char id[64], want[4096] = "";
    size_t used = 0;
    for (int i = 0; i < 10; i++) {
        static const char *const forms[] = {"ev-%d", "act-%032x", "scored-%032x", "lead-x-%032x",
                                            "a-%032x"};
        snprintf(id, sizeof id, forms[i % 5], i);
        json_t *url = urls[i][0] ? json_string(urls[i][0]) : NULL;
        json_t *path = urls[i][1] ? json_string(urls[i][1]) : NULL;
        json_t *src = sources[i] ? json_string(sources[i]) : NULL;
        ho_activity_row_t row = {.lead_id = 1,
                                 .event_id = id,
                                 .type = types[i],
                                 .occurred_at = 1000 + i,
                                 .url = url,
                                 .path = path,
                                 .source_system = src};
        assert_int_equal(ho_store_add_activity(s, &row, &err), 1);
        /* the same event at the same time is the same activity (schema version 10) */
        assert_int_equal(ho_store_add_activity(s, &row, &err), 0);
        used += (size_t)snprintf(want + used, sizeof want - used, "%s%s|%s|%s|%s|%s", i ? ";" : "",
                                 id, types[i], urls[i][0] ? urls[i][0] : "-",
                                 urls[i][1] ? urls[i][1] : "-", sources[i] ? sources[i] : "-");
        json_decref(url);
        json_decref(path);
        json_decref(src);
    }
    ho_store_destroy(&s);
    s_expect(t->path,
             "SELECT group_concat(event_id || '|' || type || '|' || IFNULL(url, '-') || '|' ||"
             " IFNULL(path, '-') || '|' || IFNULL(source_system, '-'), ';')"
             " FROM (SELECT * FROM activities ORDER BY id)",
             want);
    /* the lead's own query (handoff lead) and the top pages read the same */
    s_expect(t->path,
             "SELECT COUNT(*) FROM activities WHERE type = 'page_view' AND path = '/pricing'", "1");
}

/* An empty (zero-byte) file, as `touch data/handoff.db` leaves it, is a new database. */
static void test_migrate_empty_file(void **state)
{
    s_tmp_t *t = *state;
    FILE *f = fopen(t->path, "w");
    assert_non_null(f);
    fclose(f);
    ho_err_t err = {0};
    int said[3] = {0, 0, 0};
    ho_store_opts_t opts = {.on_migrate = s_said_migrate, .migrate_arg = said};
    ho_store_t *s = ho_store_open_opts(t->path, &opts, &err);
    assert_non_null(s);
    assert_int_equal(ho_store_schema_version(s), HO_STORE_SCHEMA_VERSION);
    assert_int_equal(said[0], 0); /* a new database is made, not migrated */
    s_upsert(s, "ev-1", "hubspot", "a@acme.com", 1000, json_pack("{ss}", "first_name", "Ann"));
    ho_store_destroy(&s);
    s_expect(t->path, "SELECT group_concat(version) FROM schema_version", HO_FIX_SCHEMA_V);
    s_expect(t->path, "PRAGMA journal_mode", "wal");
    s_expect(t->path, "SELECT first_name FROM leads", "Ann");
    /* a read-only opener refuses an empty file that is not a store yet */
    char side[160];
    snprintf(side, sizeof side, "%s-wal", t->path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", t->path);
    unlink(side);
    f = fopen(t->path, "w");
    fclose(f);
    ho_store_opts_t ro = {.readonly = true};
    assert_null(ho_store_open_opts(t->path, &ro, &err));
    assert_int_equal(err.code, HO_ERR_VERSION);
}

/* Equal rank and equal observed_at: the record that arrived last wins (documented rule 4);
 * an older record of a field without precedence never beats a newer one. */
static void test_merge_tie_and_order(void **state)
{
    s_tmp_t *t = *state;
    ho_err_t err = {0};
    ho_store_t *s = ho_store_open(t->path, &err);
    s_upsert(s, "ev-1", "hubspot", "p@acme.com", 5000, json_pack("{ss}", "city", "Boston"));
    s_upsert(s, "ev-2", "salesforce", "p@acme.com", 5000, json_pack("{ss}", "city", "Denver"));
    s_upsert(s, "ev-3", "form", "p@acme.com", 4999, json_pack("{ss}", "city", "Austin"));
    ho_store_destroy(&s);
    s_expect(t->path, "SELECT city FROM leads", "Denver");
    s_expect(t->path, "SELECT json_extract(field_sources_json, '$.city') FROM leads",
             "[\"salesforce\",5000]");
    s_expect(t->path, "SELECT first_touch_at || ' ' || last_touch_at FROM leads", "4999 5000");
}

/* The stored text of the merged fields is exactly what jansson's compact dump writes, for
 * every kind of value (escapes, control characters, UTF-8, nesting, numbers), so the store's
 * own writer can never store something else than the JSON it means. */
static void test_fields_json_text(void **state)
{
    s_tmp_t *t = *state;
    ho_err_t err = {0};
    ho_store_t *s = ho_store_open(t->path, &err);
    json_t *fields = json_pack("{sssssssssIsIsfsbsbs{sss[iss]}s[]s{}}", "first_name",
                               "Ann \"the\" O'Neil \\ /x", "city", "Z\xc3\xbcrich \xf0\x9f\x98\x80",
                               "notes", "tab\tnl\ncr\rff\fbs\bctl\x01\x1f\x7f", "title", "VP",
                               "employees", (json_int_t)-42, "big", (json_int_t)9007199254740993LL,
                               "revenue", 1.5, "personal_email", 0, "verified", 1, "extra", "k",
                               "v", "list", 1, "a", "", "empty_list", "empty_map");
    s_upsert(s, "ev-1", "hubspot", "a@acme.com", 1000, json_deep_copy(fields));
    ho_store_destroy(&s);
    /* what the store keeps: every non-empty field but the email, in arrival order */
    json_object_del(fields, "empty_list");
    json_object_del(fields, "empty_map");
    char *want = json_dumps(fields, JSON_COMPACT);
    s_expect(t->path, "SELECT fields_json FROM leads", want);
    free(want);
    json_decref(fields);
    s_expect(t->path, "SELECT field_sources_json FROM leads", "{\"_\":[\"hubspot\",1000]}");
}

/* lead_put writes only changed columns when it knows the row as last read; a put of a lead
 * read before another one, or after an undone savepoint, must still write what it holds. */
static void test_lead_put_after_other_read_and_undo(void **state)
{
    s_tmp_t *t = *state;
    ho_err_t err = {0};
    ho_store_t *s = ho_store_open(t->path, &err);
    s_upsert(s, "ev-a", "hubspot", "a@acme.com", 1000, json_pack("{ss}", "city", "Boston"));
    s_upsert(s, "ev-b", "hubspot", "b@acme.com", 1000, json_pack("{ss}", "city", "Denver"));
    ho_lead_t a, b;
    ho_lead_init(&a);
    ho_lead_init(&b);
    assert_int_equal(ho_store_lead_get(s, "a@acme.com", 0, &a, &err), HO_OK);
    assert_int_equal(ho_store_lead_get(s, "b@acme.com", 0, &b, &err), HO_OK);
    ho_lead_set(&a.city, "Austin");
    a.score = 7;
    assert_int_equal(ho_store_lead_put(s, &a, &err), HO_OK);
    ho_lead_set(&b.city, "Dallas");
    assert_int_equal(ho_store_lead_put(s, &b, &err), HO_OK);
    /* a put undone by its savepoint, then the same lead put again unchanged */
    assert_int_equal(ho_store_begin(s, &err), HO_OK);
    assert_int_equal(ho_store_lead_get(s, "a@acme.com", 0, &a, &err), HO_OK);
    assert_int_equal(ho_store_save(s, &err), HO_OK);
    ho_lead_set(&a.city, "El Paso");
    assert_int_equal(ho_store_lead_put(s, &a, &err), HO_OK);
    ho_store_undo(s);
    assert_int_equal(ho_store_lead_put(s, &a, &err), HO_OK);
    assert_int_equal(ho_store_commit(s, &err), HO_OK);
    /* a rolled-back batch, then the put again */
    assert_int_equal(ho_store_begin(s, &err), HO_OK);
    assert_int_equal(ho_store_lead_get(s, "b@acme.com", 0, &b, &err), HO_OK);
    ho_lead_set(&b.city, "Houston");
    assert_int_equal(ho_store_lead_put(s, &b, &err), HO_OK);
    ho_store_rollback(s);
    assert_int_equal(ho_store_lead_put(s, &b, &err), HO_OK);
    /* clearing a column is a change too */
    assert_int_equal(ho_store_lead_get(s, "a@acme.com", 0, &a, &err), HO_OK);
    a.score = HO_NULL_INT;
    assert_int_equal(ho_store_lead_put(s, &a, &err), HO_OK);
    ho_lead_clear(&a);
    ho_lead_clear(&b);
    ho_store_destroy(&s);
    s_expect(t->path, "SELECT group_concat(city || ':' || IFNULL(score, '-'), ',') FROM leads",
             "El Paso:-,Houston:-");
}

/* Original source and campaign are the earliest record's, in whatever order the records
 * arrive: an earlier record without an original source names its own source, and without a
 * campaign leaves none (as if it had come first). */
static void test_origin_order_independent(void **state)
{
    s_tmp_t *t = *state;
    char other[160];
    snprintf(other, sizeof other, "%s/other.db", t->dir);
    const char *paths[2] = {t->path, other};
    for (int order = 0; order < 2; order++) {
        ho_err_t err = {0};
        ho_store_t *s = ho_store_open(paths[order], &err);
        for (int k = 0; k < 3; k++) {
            int i = order ? 2 - k : k;
            if (i == 0) {
                s_upsert(s, "ev-form", "typeform", "p@acme.com", 500,
                         json_pack("{ss}", "campaign", "spring-promo"));
            } else if (i == 1) {
                s_upsert(s, "ev-hs", "hubspot", "p@acme.com", 1000,
                         json_pack("{ss}", "original_source", "Paid Search"));
            } else {
                s_upsert(s, "ev-sf", "salesforce", "q@acme.com", 2000,
                         json_pack("{ssss}", "original_source", "Trade Show", "campaign", "expo"));
                s_upsert(s, "ev-fb", "facebook", "q@acme.com", 1500, json_object());
            }
        }
        ho_store_destroy(&s);
        s_expect(paths[order],
                 "SELECT group_concat(email || ':' || original_source || ':' || "
                 "IFNULL(original_campaign, '-') || ':' || first_touch_at || ':' || "
                 "last_touch_at, ',') FROM (SELECT * FROM leads ORDER BY email)",
                 "p@acme.com:typeform:spring-promo:500:1000,q@acme.com:facebook:-:1500:2000");
    }
}

/* ho_store_lead_fields: the merged fields as stored, from the memory of recent upserts or
 * parsed; a copy the caller may change; never stale when the row's text changed since. */
static void test_lead_fields(void **state)
{
    s_tmp_t *t = *state;
    ho_err_t err = {0};
    ho_store_t *s = ho_store_open(t->path, &err);
    s_upsert(s, "ev-1", "hubspot", "a@acme.com", 1000,
             json_pack("{sssisf}", "city", "Boston", "employees", 40, "revenue", 2.0));
    ho_lead_t lead;
    ho_lead_init(&lead);
    assert_int_equal(ho_store_lead_get(s, "a@acme.com", 0, &lead, &err), HO_OK);
    json_t *parsed = json_loads(lead.fields_json, 0, NULL);
    json_t *f = ho_store_lead_fields(s, &lead);
    assert_true(json_equal(f, parsed));
    json_object_set_new(f, "city", json_string("changed by the caller"));
    json_decref(f);
    f = ho_store_lead_fields(s, &lead);
    assert_true(json_equal(f, parsed));
    json_decref(f);
    json_decref(parsed);
    /* the row changed behind the memory (any writer through lead_put): the new text wins */
    ho_lead_set(&lead.fields_json, "{\"city\":\"Denver\"}");
    assert_int_equal(ho_store_lead_put(s, &lead, &err), HO_OK);
    f = ho_store_lead_fields(s, &lead);
    assert_string_equal(json_string_value(json_object_get(f, "city")), "Denver");
    json_decref(f);
    ho_lead_set(&lead.fields_json, NULL);
    f = ho_store_lead_fields(s, &lead);
    assert_int_equal(json_object_size(f), 0);
    json_decref(f);
    ho_lead_clear(&lead);
    ho_store_destroy(&s);
}

/* The store reads its own stored text back with a reader of the subset it writes (objects,
 * arrays, plain strings, integers, literals) and json_loads for anything else: what comes back
 * is what json_loads makes of the text, whatever the text (here through ho_store_lead_fields
 * after the row's text changed, and through a merge into such a row). */
static void test_stored_text_read_back(void **state)
{
    s_tmp_t *t = *state;
    ho_err_t err = {0};
    ho_store_t *s = ho_store_open(t->path, &err);
    s_upsert(s, "ev-1", "hubspot", "a@acme.com", 1000, json_pack("{ss}", "city", "Boston"));
    static const char *const texts[] = {
        "{}",
        "{\"a\":\"x\",\"b\":-12,\"c\":true,\"d\":false,\"e\":null,\"f\":[1,[],{}],\"g\":{\"h\":["
        "\"i\"]}}",
        "{\"a\":\"tab\\tq\\\"\\u00e9\"}",
        "{\"a\":1.5,\"b\":2e3,\"c\":-0}",
        "{ \"a\" : 1 }",
        "{\"a\":1,\"a\":2,\"b\":3}",
        "{\"a\":123456789012345678,\"b\":1234567890123456789,\"c\":-9223372036854775808}",
        "{\"a\":99999999999999999999}",
        "{\"a\":01}",
        "{\"a\":-}",
        "{\"a\":\"Z\xc3\xbcrich\"}",
        "{\"a\":\"bad \xff utf8\"}",
        "{\"\xff\":1}",
        "{\"a\":1}x",
        "{\"a\":1",
        "{\"a\":tru}",
        "[1,2]",
        "\"str\"",
        "",
        "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
        "{\"a\":\"raw\x01"
        "control\"}",
        /* escapes and reals: read directly, and the same values as json_loads */
        "{\"m\":\"line\\nbreak \\\"quoted\\\" back\\\\slash \\/ \\b\\f\\r\\t\"}",
        "{\"k\\u00e9y\":\"\\u00E9\\u20ac\\ud83d\\ude00\"}",
        "{\"a\":\"\\ud83d\"}",
        "{\"a\":\"\\ude00x\"}",
        "{\"a\":\"\\ud83d\\u0041\"}",
        "{\"a\":\"\\u0000\"}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"end\\",
        "{\"a\":\"\\u00\",\"b\":1}",
        "{\"revenue\":474660004.0,\"r\":0.1,\"s\":-2.5e-3,\"t\":1E+2,\"u\":-0.0,\"v\":1e-400}",
        "{\"a\":1e400}",
        "{\"a\":-1e400}",
        "{\"a\":1.}",
        "{\"a\":.5}",
        "{\"a\":1e}",
        "{\"a\":1e+}",
        "{\"a\":-01.5}",
        "{\"a\":0.30000000000000004,\"b\":123456789.123456789}",
    };
    ho_lead_t lead;
    ho_lead_init(&lead);
    assert_int_equal(ho_store_lead_get(s, "a@acme.com", 0, &lead, &err), HO_OK);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        ho_lead_set(&lead.fields_json, texts[i]);
        assert_int_equal(ho_store_lead_put(s, &lead, &err), HO_OK);
        json_t *want = json_loads(texts[i], 0, NULL);
        if (!json_is_object(want)) {
            json_decref(want);
            want = json_object();
        }
        json_t *got = ho_store_lead_fields(s, &lead);
        if (!json_equal(got, want)) {
            char *g = json_dumps(got, JSON_COMPACT), *w = json_dumps(want, JSON_COMPACT);
            fail_msg("text %zu %s: got %s, want %s", i, texts[i], g, w);
        }
        json_decref(got);
        json_decref(want);
    }
    /* a merge into a row whose stored text needs json_loads (escapes, a real) */
    ho_lead_set(&lead.fields_json, "{\"city\":\"Bo\\\"ston\",\"revenue\":2.5,\"title\":\"VP\"}");
    ho_lead_set(&lead.field_sources_json,
                "{\"_\":[\"hubspot\",1000],\"title\":[\"hubspot\",1500]}");
    assert_int_equal(ho_store_lead_put(s, &lead, &err), HO_OK);
    ho_lead_clear(&lead);
    s_upsert(s, "ev-2", "salesforce", "a@acme.com", 2000,
             json_pack("{ssss}", "phone", "555", "timezone", "EST"));
    s_upsert(s, "ev-3", "form", "a@acme.com", 1200,
             json_pack("{ssss}", "title", "CEO", "state", "MA"));
    ho_store_destroy(&s);
    s_expect(t->path, "SELECT fields_json FROM leads",
             "{\"city\":\"Bo\\\"ston\",\"revenue\":2.5,\"title\":\"VP\",\"phone\":\"555\","
             "\"timezone\":\"EST\",\"state\":\"MA\"}");
    s_expect(t->path, "SELECT field_sources_json FROM leads",
             "{\"_\":[\"hubspot\",1000],\"title\":[\"hubspot\",1500],\"phone\":[\"salesforce\","
             "2000],\"timezone\":[\"salesforce\",2000],"
             "\"state\":[\"form\",1200]}");
}

/* The merged fields projected onto the typed columns, for a new lead and after a merge: every
 * projected field, non-string values leaving a text column empty, the domain from the email
 * when no record names one. */
static void test_projection(void **state)
{
    s_tmp_t *t = *state;
    ho_err_t err = {0};
    ho_store_t *s = ho_store_open(t->path, &err);
    s_upsert(s, "ev-1", "hubspot", "a@acme.com", 1000,
             json_pack("{sssssssssssssssssssssisbsisf}", "first_name", "Ann", "last_name", "Lee",
                       "title", "VP", "phone", "555", "company", "Acme", "industry", "Software",
                       "industry_group", "Tech", "country", "US", "state", "MA", "city", "Boston",
                       "timezone", 7, "personal_email", 1, "employees", 40, "revenue", 2.5));
    s_upsert(s, "ev-2", "hubspot", "b@beta.io", 1000, json_pack("{ss}", "city", "Austin"));
    const char *q = "SELECT first_name||'|'||last_name||'|'||title||'|'||phone||'|'||company||'|'||"
                    "industry||'|'||industry_group||'|'||country||'|'||state||'|'||city||'|'||"
                    "IFNULL(timezone,'-')||'|'||domain||'|'||personal_email||'|'||employees||'|'||"
                    "revenue FROM leads WHERE email = 'a@acme.com'";
    s_expect(t->path, q, "Ann|Lee|VP|555|Acme|Software|Tech|US|MA|Boston|-|acme.com|1|40|2.5");
    s_upsert(s, "ev-3", "salesforce", "a@acme.com", 2000,
             json_pack("{sssssssbsisfss}", "title", "CEO", "city", "Denver", "domain", "acme.io",
                       "personal_email", 0, "employees", 50, "revenue", 3.0, "timezone", "EST"));
    s_expect(t->path, q, "Ann|Lee|CEO|555|Acme|Software|Tech|US|MA|Denver|EST|acme.io|0|50|3.0");
    s_expect(t->path, "SELECT domain || '|' || city FROM leads WHERE email = 'b@beta.io'",
             "beta.io|Austin");
    /* empty values are not fields of the lead: a blank title leaves the column empty */
    s_upsert(s, "ev-4", "hubspot", "c@gamma.io", 1000,
             json_pack("{sssssn}", "title", "  ", "city", "Lima", "revenue"));
    s_expect(t->path,
             "SELECT IFNULL(title, '-') || '|' || city || '|' || IFNULL(revenue, '-') || '|' || "
             "fields_json FROM leads WHERE email = 'c@gamma.io'",
             "-|Lima|-|{\"city\":\"Lima\"}");
    ho_store_destroy(&s);
}

static void test_newer_schema_refused(void **state)
{
    s_tmp_t *t = *state;
    ho_err_t err = {0};
    ho_store_t *s = ho_store_open(t->path, &err);
    ho_store_destroy(&s);
    sqlite3 *h = NULL;
    sqlite3_open(t->path, &h);
    sqlite3_exec(h, "UPDATE schema_version SET version = 99", NULL, NULL, NULL);
    sqlite3_close(h);
    s = ho_store_open(t->path, &err);
    assert_null(s);
    assert_int_equal(err.code, HO_ERR_VERSION);
    assert_non_null(strstr(err.message, "newer"));
}

static void test_readonly(void **state)
{
    s_tmp_t *t = *state;
    ho_err_t err = {0};
    ho_store_opts_t ro = {.readonly = true};
    ho_store_t *s = ho_store_open_opts(t->path, &ro, &err);
    assert_null(s);
    assert_int_equal(err.code, HO_ERR_NOT_FOUND);
    s = ho_store_open(t->path, &err);
    s_upsert(s, "ev-1", "hubspot", "a@acme.com", 1000, json_pack("{ss}", "first_name", "Ann"));
    ho_store_t *r = ho_store_open_opts(t->path, &ro, &err);
    assert_non_null(r);
    json_t *view = NULL;
    assert_int_equal(ho_store_lead_view(r, " A@ACME.com ", &view, &err), HO_OK);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(view, "lead"), "first_name")), "Ann");
    json_decref(view);
    /* a read-only store cannot write */
    ho_upsert_t res;
    json_t *p = json_pack("{sss{}}", "email", "b@acme.com", "fields");
    assert_int_not_equal(ho_store_upsert_lead(r, "ev-2", p, &res, &err), HO_OK);
    json_decref(p);
    assert_int_equal(ho_store_lead_view(r, "nobody@acme.com", &view, &err), HO_ERR_NOT_FOUND);
    ho_store_destroy(&r);
    ho_store_destroy(&s);
}

static void test_normalize_email(void **state)
{
    (void)state;
    ho_err_t err = {0};
    char *e = ho_store_normalize_email(NULL, "  Jane.DOE@Example.COM\t", &err);
    assert_string_equal(e, "jane.doe@example.com");
    free(e);
    /* the shared policy (email.h): an address with non-ASCII letters is not valid */
    assert_null(ho_store_normalize_email(NULL, "Jose\xcc\x81@acme.com", &err));
    assert_null(ho_store_normalize_email(NULL, "jos\xc3\xa9@ACME.com", &err));
    assert_null(ho_store_normalize_email(NULL, "not an email", &err));
    assert_string_equal(err.field, "email");
    assert_null(ho_store_normalize_email(NULL, "   ", &err));
    assert_null(ho_store_normalize_email(NULL, "a@b@c.com", &err));
    assert_null(ho_store_normalize_email(NULL, "\xff\xfe@x.com", &err));
    e = ho_store_normalize_email(NULL, "a+tag@x.com", &err);
    assert_string_equal(e, "a+tag@x.com");
    free(e);
}

/* The writer answers "new email" from a set of the emails it knows (store_sqlite.c): a lead
 * another connection stored since, one rolled back, one upserted outside a transaction and
 * one erased must still give the right answer. */
static bool s_created(ho_store_t *s, const char *id, const char *email, long long at)
{
    json_t *p = json_pack("{sssssosI}", "email", email, "source", "form", "fields", json_object(),
                          "observed_at", (json_int_t)at);
    ho_upsert_t res;
    ho_err_t err = {0};
    int rc = ho_store_upsert_lead(s, id, p, &res, &err);
    json_decref(p);
    if (rc != HO_OK) {
        fail_msg("upsert %s: %s", id, err.message);
    }
    return res.created;
}

static void test_known_emails_other_writer(void **state)
{
    s_tmp_t *t = *state;
    ho_err_t err = {0};
    ho_store_t *a = ho_store_open(t->path, &err);
    ho_store_t *b = ho_store_open(t->path, &err);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(ho_store_begin(a, &err), HO_OK);
    assert_true(s_created(a, "ev-1", "one@acme.com", 1000));
    assert_false(s_created(a, "ev-2", "one@acme.com", 1001));
    assert_int_equal(ho_store_commit(a, &err), HO_OK);
    /* the other connection stores two people, one inside a transaction, one without */
    assert_int_equal(ho_store_begin(b, &err), HO_OK);
    assert_true(s_created(b, "ev-3", "two@acme.com", 1000));
    assert_int_equal(ho_store_commit(b, &err), HO_OK);
    assert_true(s_created(b, "ev-4", "three@acme.com", 1000));
    assert_int_equal(ho_store_begin(a, &err), HO_OK);
    assert_false(s_created(a, "ev-5", "two@acme.com", 2000));
    assert_false(s_created(a, "ev-6", "three@acme.com", 2000));
    assert_int_equal(ho_store_commit(a, &err), HO_OK);
    /* a rolled-back new lead is new again */
    assert_int_equal(ho_store_begin(a, &err), HO_OK);
    assert_true(s_created(a, "ev-7", "four@acme.com", 1000));
    ho_store_rollback(a);
    assert_int_equal(ho_store_begin(a, &err), HO_OK);
    assert_true(s_created(a, "ev-8", "four@acme.com", 1000));
    assert_int_equal(ho_store_commit(a, &err), HO_OK);
    /* an erased person who comes back is a new lead; the others are still found */
    ho_lead_t lead;
    ho_lead_init(&lead);
    assert_int_equal(ho_store_lead_get(a, "four@acme.com", 0, &lead, &err), HO_OK);
    assert_int_equal(ho_store_begin(a, &err), HO_OK);
    assert_int_equal(ho_store_erase(a, lead.id, "four@acme.com", 3000, &err), HO_OK);
    assert_true(s_created(a, "ev-9", "four@acme.com", 4000));
    assert_false(s_created(a, "ev-10", "one@acme.com", 4000));
    assert_int_equal(ho_store_commit(a, &err), HO_OK);
    ho_lead_clear(&lead);
    ho_store_destroy(&a);
    ho_store_destroy(&b);
    s_expect(t->path, "SELECT COUNT(*) FROM leads", "5");
    s_expect(t->path, "SELECT COUNT(*) FROM lead_sources", "9");
}

static void test_dedup(void **state)
{
    s_tmp_t *t = *state;
    ho_err_t err = {0};
    ho_store_t *s = ho_store_open(t->path, &err);
    s_upsert(s, "ev-1", "hubspot", "Jane.Doe@Acme.com", 1000, json_object());
    s_upsert(s, "ev-2", "salesforce", "  jane.doe@ACME.COM ", 2000, json_object());
    s_upsert(s, "ev-3", "form", "jane.doe@acme.com", 3000, json_object());
    s_upsert(s, "ev-4", "hubspot", "Jose@acme.com", 1000, json_object());
    s_upsert(s, "ev-5", "form", "\tjose@ACME.com", 1000, json_object());
    s_upsert(s, "ev-6", "form", "jane.doe+webinar@acme.com", 1000, json_object());
    ho_store_destroy(&s);
    s_expect(t->path, "SELECT COUNT(*) FROM leads", "3");
    s_expect(
        t->path,
        "SELECT group_concat(source, ',') FROM (SELECT source FROM lead_sources s JOIN leads l "
        "ON l.id = s.lead_id WHERE l.email = 'jane.doe@acme.com' ORDER BY s.id)",
        "hubspot,salesforce,form");
    s_expect(t->path,
             "SELECT first_touch_at || '-' || last_touch_at FROM leads WHERE email = "
             "'jane.doe@acme.com'",
             "1000-3000");
}

static void test_plus_addressing_strip(void **state)
{
    s_tmp_t *t = *state;
    ho_err_t err = {0};
    ho_store_opts_t opts = {.strip_plus = true};
    ho_store_t *s = ho_store_open_opts(t->path, &opts, &err);
    s_upsert(s, "ev-1", "hubspot", "jane+webinar@acme.com", 1000, json_object());
    s_upsert(s, "ev-2", "hubspot", "jane@acme.com", 1000, json_object());
    s_upsert(s, "ev-3", "hubspot", "Jane+Other@acme.com", 1000, json_object());
    ho_store_destroy(&s);
    s_expect(t->path, "SELECT COUNT(*) || ' ' || MIN(email) FROM leads", "1 jane@acme.com");
}

static void test_merge_rules(void **state)
{
    s_tmp_t *t = *state;
    ho_err_t err = {0};
    json_t *prec = json_pack("{s[ss]}", "title", "salesforce", "hubspot");
    ho_store_opts_t opts = {.precedence = prec};
    ho_store_t *s = ho_store_open_opts(t->path, &opts, &err);
    json_decref(prec);
    /* salesforce says Director (older record); hubspot says Manager (newer): precedence wins */
    s_upsert(s, "ev-sf", "salesforce", "p@acme.com", 1000,
             json_pack("{ssssssssss}", "title", "Director", "city", "Boston", "company", "Acme",
                       "original_source", "Trade Show", "campaign", "expo-2026"));
    s_upsert(s, "ev-hs", "hubspot", "p@acme.com", 2000,
             json_pack("{ssssssssss}", "title", "Manager", "city", "New York", "company", "",
                       "original_source", "Paid Search", "phone", "555-1"));
    /* an older form record: fills the empty field but does not beat newer values */
    s_upsert(s, "ev-form", "form", "p@acme.com", 500,
             json_pack("{ssssssss}", "city", "Chicago", "industry", "Software", "first_name", "Pat",
                       "original_source", "Web Form"));
    /* a newer unlisted source for a listed field: salesforce still wins the title */
    s_upsert(s, "ev-fb", "facebook", "p@acme.com", 9000, json_pack("{ss}", "title", "CEO"));
    ho_store_destroy(&s);
    s_expect(t->path, "SELECT title FROM leads", "Director");
    s_expect(t->path, "SELECT city FROM leads", "New York"); /* newest wins */
    s_expect(t->path, "SELECT company FROM leads", "Acme");  /* empty never overwrites */
    s_expect(t->path, "SELECT phone FROM leads", "555-1");
    s_expect(t->path, "SELECT first_name FROM leads", "Pat"); /* fills the empty field */
    s_expect(t->path, "SELECT industry FROM leads", "Software");
    s_expect(t->path, "SELECT original_source FROM leads", "Web Form"); /* earliest record */
    s_expect(t->path, "SELECT created_at FROM leads", "500");
    /* the merge trail: "_" names the first record, fields set later have their own entry */
    s_expect(t->path, "SELECT json_extract(field_sources_json, '$._[0]') FROM leads", "salesforce");
    s_expect(t->path, "SELECT json_extract(field_sources_json, '$.title') FROM leads", "(null)");
    s_expect(t->path, "SELECT json_extract(field_sources_json, '$.city') FROM leads",
             "[\"hubspot\",2000]");
    s_expect(t->path, "SELECT json_extract(field_sources_json, '$.first_name') FROM leads",
             "[\"form\",500]");
    s_expect(t->path, "SELECT json_extract(fields_json, '$.city') FROM leads", "New York");
    s_expect(t->path, "SELECT COUNT(*) FROM lead_sources", "4");
}

static void test_idempotent_upsert(void **state)
{
    s_tmp_t *t = *state;
    ho_err_t err = {0};
    ho_store_t *s = ho_store_open(t->path, &err);
    json_t *p = json_pack("{sssss{ss}sI}", "email", "a@acme.com", "source", "hubspot", "fields",
                          "title", "VP", "observed_at", (json_int_t)1000);
    ho_upsert_t res;
    assert_int_equal(ho_store_upsert_lead(s, "ev-1", p, &res, &err), HO_OK);
    assert_true(res.created);
    assert_false(res.duplicate);
    assert_int_equal(ho_store_upsert_lead(s, "ev-1", p, &res, &err), HO_OK);
    assert_true(res.duplicate);
    assert_false(res.created);
    json_decref(p);
    /* a bad email is refused with the field named, nothing is written */
    p = json_pack("{sss{}}", "email", "nobody", "fields");
    assert_int_equal(ho_store_upsert_lead(s, "ev-2", p, &res, &err), HO_ERR_FIELD);
    assert_string_equal(err.field, "payload.email");
    json_decref(p);
    ho_store_destroy(&s);
    s_expect(t->path, "SELECT COUNT(*) FROM lead_sources", "1");
    s_expect(t->path, "SELECT COUNT(*) FROM events", "1");
}

static void test_config(void **state)
{
    s_tmp_t *t = *state;
    ho_err_t err = {0};
    /* the shipped defaults */
    json_t *c = ho_store_config_load(NULL, NULL, NULL, &err);
    assert_non_null(c);
    assert_string_equal(json_string_value(json_object_get(c, "plus_addressing")), "keep");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_object_get(c, "precedence"), "title"), 0)),
                        "salesforce");
    /* the re-score window reaches as far back as the shipped model counts activities, or
     * interest of leads last touched between the two would never decay */
    ho_score_model_t *model = ho_score_model_load(NULL, "scoring.yaml", &err);
    assert_non_null(model);
    assert_true(ho_score_model_window_ms(model) > 0);
    assert_true(json_integer_value(json_object_get(c, "rescore_window_ms")) >=
                ho_score_model_window_ms(model));
    ho_score_model_destroy(&model);
    json_decref(c);
    /* a config-dir copy, then workers.store of handoff.yaml overriding it */
    char path[256];
    snprintf(path, sizeof path, "%s/store.yaml", t->dir);
    FILE *f = fopen(path, "w");
    fputs("plus_addressing: keep\nprecedence:\n  city: [form]\n", f);
    fclose(f);
    const char *gw = "workers:\n  store:\n    plus_addressing: strip\n";
    ho_conf_t *conf = ho_conf_parse(gw, strlen(gw), "handoff.yaml", &err);
    assert_non_null(conf);
    const ho_node_t *settings = ho_node_get(ho_node_get(ho_conf_root(conf), "workers"), "store");
    c = ho_store_config_load(t->dir, conf, settings, &err);
    assert_non_null(c);
    assert_string_equal(json_string_value(json_object_get(c, "plus_addressing")), "strip");
    assert_non_null(json_object_get(json_object_get(c, "precedence"), "city"));
    assert_null(json_object_get(json_object_get(c, "precedence"), "title"));
    ho_store_opts_t opts = {.strip_plus = true, .precedence = json_object_get(c, "precedence")};
    ho_store_t *s = ho_store_open_opts(t->path, &opts, &err);
    s_upsert(s, "ev-1", "hubspot", "a+x@acme.com", 2000, json_pack("{ss}", "city", "Boston"));
    s_upsert(s, "ev-2", "form", "a@acme.com", 1000, json_pack("{ss}", "city", "Chicago"));
    ho_store_destroy(&s);
    json_decref(c);
    ho_conf_destroy(&conf);
    s_expect(t->path, "SELECT COUNT(*) || ' ' || city FROM leads", "1 Chicago");
    /* errors name the file, line and key */
    f = fopen(path, "w");
    fputs("plus_addressing: keep\nprecedence:\n  city: form\n", f);
    fclose(f);
    assert_null(ho_store_config_load(t->dir, NULL, NULL, &err));
    assert_non_null(strstr(err.message, "store.yaml:3"));
    assert_non_null(strstr(err.message, "precedence.city"));
    f = fopen(path, "w");
    fputs("plus_addressing: sometimes\n", f);
    fclose(f);
    assert_null(ho_store_config_load(t->dir, NULL, NULL, &err));
    assert_non_null(strstr(err.message, "keep or strip"));
    f = fopen(path, "w");
    fputs("plus_adressing: strip\n", f);
    fclose(f);
    assert_null(ho_store_config_load(t->dir, NULL, NULL, &err));
    assert_non_null(strstr(err.message, "plus_adressing"));
}

static long s_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* The writer's WAL is copied into the database file by a thread of its own: after commits
 * of more than 1000 WAL pages the background checkpoint count rises and the database file
 * grows while the writer sits inside an open transaction doing nothing (a checkpoint inside
 * COMMIT, SQLite's default, could not do that). Nothing is lost across the close. */
static void test_background_checkpoint(void **state)
{
    s_tmp_t *t = *state;
    ho_err_t err = {0};
    ho_store_t *s = ho_store_open(t->path, &err);
    assert_non_null(s);
    assert_int_equal(ho_store_background_checkpoints(s), 0);
    char note[600];
    memset(note, 'n', sizeof note - 1);
    note[sizeof note - 1] = '\0';
    int n = 0;
    for (int batch = 0; batch < 8; batch++) {
        assert_int_equal(ho_store_begin(s, &err), HO_OK);
        for (int i = 0; i < 500; i++, n++) {
            char id[32], email[48];
            snprintf(id, sizeof id, "ev-%d", n);
            snprintf(email, sizeof email, "p%d@acme%d.com", n, n % 97);
            s_upsert(s, id, "hubspot", email, 1000 + n, json_pack("{ss}", "notes", note));
        }
        assert_int_equal(ho_store_commit(s, &err), HO_OK);
    }
    /* hold the write lock with nothing to commit: only the background thread can copy */
    assert_int_equal(ho_store_begin(s, &err), HO_OK);
    char wal[200];
    snprintf(wal, sizeof wal, "%s-wal", t->path);
    assert_true(s_file_size(wal) > 1000L * 4096);
    long done = 0;
    for (int waited = 0; waited < 200 && (done = ho_store_background_checkpoints(s)) < 1;
         waited++) {
        usleep(100 * 1000);
    }
    assert_true(done >= 1);
    assert_true(s_file_size(t->path) > 4000L * 600);
    assert_int_equal(ho_store_commit(s, &err), HO_OK);
    ho_store_destroy(&s);
    s_expect(t->path, "SELECT count(*) FROM leads", "4000");
    /* a reader runs no checkpointer */
    ho_store_opts_t ro = {.readonly = true};
    s = ho_store_open_opts(t->path, &ro, &err);
    assert_non_null(s);
    assert_int_equal(ho_store_background_checkpoints(s), -1);
    ho_store_destroy(&s);
}

/* The store config with text as the config folder's store.yaml (NULL when refused, err set). */
static json_t *s_store_yaml(const s_tmp_t *t, const char *text, ho_err_t *err)
{
    char path[256];
    snprintf(path, sizeof path, "%s/store.yaml", t->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    json_t *c = ho_store_config_load(t->dir, NULL, NULL, err);
    unlink(path);
    return c;
}

/* store.yaml durability reaches SQLite: PRAGMA synchronous of the writer's connection, read
 * back from that connection (another connection has its own). */
static void test_durability(void **state)
{
    s_tmp_t *t = *state;
    ho_err_t err = {0};
    ho_store_t *s = ho_store_open(t->path, &err);
    assert_non_null(s);
    assert_int_equal(ho_store_synchronous(s), 1); /* NORMAL */
    ho_store_destroy(&s);
    ho_store_opts_t opts = {.durability = "full"};
    s = ho_store_open_opts(t->path, &opts, &err);
    assert_non_null(s);
    assert_int_equal(ho_store_synchronous(s), 2); /* FULL */
    ho_store_destroy(&s);
    opts.durability = "normal";
    s = ho_store_open_opts(t->path, &opts, &err);
    assert_int_equal(ho_store_synchronous(s), 1);
    ho_store_destroy(&s);
    opts.durability = "paranoid";
    assert_null(ho_store_open_opts(t->path, &opts, &err));
    assert_non_null(strstr(err.message, "normal or full"));
    /* the config: normal by default; store.yaml, then workers.store, may say full */
    json_t *c = ho_store_config_load(NULL, NULL, NULL, &err);
    assert_string_equal(json_string_value(json_object_get(c, "durability")), "normal");
    json_decref(c);
    c = s_store_yaml(t, "plus_addressing: keep\ndurability: full\n", &err);
    assert_non_null(c);
    assert_string_equal(json_string_value(json_object_get(c, "durability")), "full");
    json_decref(c);
    assert_null(s_store_yaml(t, "plus_addressing: keep\ndurability: always\n", &err));
    assert_non_null(strstr(err.message, "store.yaml:2"));
    assert_non_null(strstr(err.message, "normal or full"));
}

/* store.yaml cache_mb reaches SQLite: PRAGMA cache_size of the writer's connection, read back;
 * out of range refused before the file is opened, and in store.yaml naming the line. */
static void test_cache_mb(void **state)
{
    s_tmp_t *t = *state;
    ho_err_t err = {0};
    ho_store_t *s = ho_store_open(t->path, &err);
    assert_non_null(s);
    assert_int_equal(ho_store_cache_mb(s), HO_STORE_CACHE_MB);
    ho_store_destroy(&s);
    ho_store_opts_t opts = {.cache_mb = 256};
    s = ho_store_open_opts(t->path, &opts, &err);
    assert_non_null(s);
    assert_int_equal(ho_store_cache_mb(s), 256);
    ho_store_destroy(&s);
    opts.cache_mb = HO_STORE_CACHE_MB_MAX + 1;
    assert_null(ho_store_open_opts(t->path, &opts, &err));
    assert_non_null(strstr(err.message, "cache_mb"));
    /* the config: 64 by default; store.yaml may say otherwise, within 1-16384 */
    json_t *c = ho_store_config_load(NULL, NULL, NULL, &err);
    assert_non_null(c);
    assert_int_equal(json_integer_value(json_object_get(c, "cache_mb")), HO_STORE_CACHE_MB);
    json_decref(c);
    c = s_store_yaml(t, "plus_addressing: keep\ncache_mb: 512\n", &err);
    assert_non_null(c);
    assert_int_equal(json_integer_value(json_object_get(c, "cache_mb")), 512);
    json_decref(c);
    assert_null(s_store_yaml(t, "plus_addressing: keep\ncache_mb: 0\n", &err));
    assert_non_null(strstr(err.message, "store.yaml:2"));
    assert_non_null(strstr(err.message, "1-16384"));
}

/* A score's explanation is stored as the text json_dumps(COMPACT | SORT_KEYS) writes, byte for
 * byte, whichever writer the store uses (its own for the common values, jansson's otherwise). */
static void test_json_column_text(void **state)
{
    s_tmp_t *t = *state;
    ho_err_t err = {0};
    ho_store_t *s = ho_store_open(t->path, &err);
    assert_non_null(s);
    s_upsert(s, "e1", "hubspot", "json@example.com", 1000, json_object());
    const char *cases[] = {
        "[]",
        "[{\"rule\":\"fit.title\",\"points\":20},{\"rule\":\"interest.web\",\"points\":-3,"
        "\"n\":2,\"raw\":9223372036854775807,\"last\":-9223372036854775807}]",
        "[{\"z\":true,\"a\":false,\"m\":null,\"b\":\"say \\\"hi\\\" \\\\ back/slash\","
        "\"\xc3\xa9t\xc3\xa9\":\"caf\xc3\xa9 \xe2\x82\xac\"}]",
        "[{\"b\":[1,[2,{\"y\":1,\"x\":2}]],\"a\":{}}]",
        "[{\"real\":0.1,\"line\":\"a\\nb\\t\\u0001\"}]",
        "[{\"k01\":1,\"k02\":2,\"k03\":3,\"k04\":4,\"k05\":5,\"k06\":6,\"k07\":7,\"k08\":8,"
        "\"k09\":9,\"k10\":10,\"k11\":11,\"k12\":12,\"k13\":13,\"k14\":14,\"k15\":15,\"k16\":16,"
        "\"k17\":17}]",
        "[[[[[[[[[[[1]]]]]]]]]]]",
    };
    assert_int_equal(ho_store_begin(s, &err), HO_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *ex = json_loads(cases[i], 0, NULL);
        assert_non_null(ex);
        char eid[16];
        snprintf(eid, sizeof eid, "sc%zu", i);
        json_t *row = json_pack("{sIsssIsssisisisssssisO}", "lead_id", (json_int_t)1, "event_id",
                                eid, "at", (json_int_t)(2000 + i), "model_version", "m", "fit", 1,
                                "interest", 2, "score", 3, "grade", "A1", "quadrant", "nurture",
                                "mql", 0, "explanation_json", ex);
        assert_int_equal(ho_store_add(s, HO_T_SCORES, row, NULL, &err), HO_OK);
        json_decref(row);
        json_decref(ex);
    }
    assert_int_equal(ho_store_commit(s, &err), HO_OK);
    json_t *rows = NULL, *args = json_pack("{sI}", "lead_id", (json_int_t)1);
    assert_int_equal(ho_store_query(s, HO_Q_SCORES, args, &rows, &err), HO_OK);
    assert_int_equal(json_array_size(rows), sizeof cases / sizeof cases[0]);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* newest first */
        const json_t *r = json_array_get(rows, sizeof cases / sizeof cases[0] - 1 - i);
        json_t *ex = json_loads(cases[i], 0, NULL);
        char *want = json_dumps(ex, JSON_COMPACT | JSON_SORT_KEYS);
        assert_string_equal(json_string_value(json_object_get(r, "explanation_json")), want);
        free(want);
        json_decref(ex);
    }
    json_decref(args);
    json_decref(rows);
    ho_store_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_reopen, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_from_v1, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_full_v1, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_empty_file, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_populated_v3, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_v6_compact, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_activity_compact_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_merge_tie_and_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_fields_json_text, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_lead_put_after_other_read_and_undo, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_origin_order_independent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_lead_fields, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_stored_text_read_back, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_projection, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_readonly, s_setup, s_teardown),
        cmocka_unit_test(test_normalize_email),
        cmocka_unit_test_setup_teardown(test_dedup, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_plus_addressing_strip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_merge_rules, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_idempotent_upsert, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_config, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_durability, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cache_mb, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_json_column_text, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_background_checkpoint, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_known_emails_other_writer, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
