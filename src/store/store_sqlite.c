/* store_sqlite.c - the SQLite (WAL) storage engine; see src/store/store_backend.h and
 * docs/store-schema.md. Statements are prepared once and cached: the store worker applies
 * whole batches inside one transaction, so the per-row cost is a few sqlite3_step calls.
 * Over 1,000 lines: this is the only file that holds the store's SQL connection, its schema
 * and migrations, its named queries and its statement cache, all static, so nothing outside
 * it can write the database except through store_backend.h (the one-writer rule of store.h's
 * read contract). Splitting it would put the connection struct in a header every part could
 * reach; the parts are marked by "---- ... ----" headings instead. */
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/msg_internal.h"
#include "store/store_backend.h"

/* ---- lead_facts (version 8, docs/store-schema.md): one row per lead with what the weekly
 * report otherwise recomputes from all history on every run. reach_* = the lead's LATEST
 * stage change into each "at least" stage set (MQL+, SAL+, SQL+, OPPORTUNITY+, WON),
 * first_mql = its first MQL entry, score_* = its latest scores row by (at, id). A reader
 * asking "as of T" uses a value that is < T as it is, and looks the lead's history up
 * otherwise (a report re-run for an older week). Kept by triggers, so no write path (new
 * lead, merge, stage change, sales history re-derived, score, erasure) can forget it. ---- */
/* SQL assembled from macros, one clause a line */
// clang-format off
#define S_STAGES_MQL "('MQL','SAL','SQL','OPPORTUNITY','WON')"
#define S_STAGES_SAL "('SAL','SQL','OPPORTUNITY','WON')"
#define S_STAGES_SQL "('SQL','OPPORTUNITY','WON')"
#define S_STAGES_OPP "('OPPORTUNITY','WON')"
#define S_FACTS_TABLE                                                                              \
    "CREATE TABLE lead_facts ("                                                                    \
    " id INTEGER PRIMARY KEY,"                                                                     \
    " created_at INTEGER, source_channel TEXT, original_source TEXT, original_campaign TEXT,"      \
    " reach_mql INTEGER, reach_sal INTEGER, reach_sql INTEGER, reach_opp INTEGER,"                 \
    " reach_won INTEGER, first_mql INTEGER,"                                                       \
    " score_id INTEGER, score_at INTEGER, score INTEGER, grade TEXT, quadrant TEXT,"               \
    " fit INTEGER, interest INTEGER);"
/* the reach columns of lead L recomputed from its stage_history rows */
#define S_REACH_OF(L, set, agg)                                                                    \
    "(SELECT " agg "(h.at) FROM stage_history h WHERE h.lead_id = " L                              \
    " AND h.kind = 'transition' AND h.to_stage IN " set ")"
#define S_FACTS_REACH_RECOMPUTE(L)                                                                 \
    "UPDATE lead_facts SET reach_mql = " S_REACH_OF(L, S_STAGES_MQL, "max") ","                    \
    " reach_sal = " S_REACH_OF(L, S_STAGES_SAL, "max") ","                                         \
    " reach_sql = " S_REACH_OF(L, S_STAGES_SQL, "max") ","                                         \
    " reach_opp = " S_REACH_OF(L, S_STAGES_OPP, "max") ","                                         \
    " reach_won = " S_REACH_OF(L, "('WON')", "max") ","                                            \
    " first_mql = " S_REACH_OF(L, "('MQL')", "min") " WHERE id = " L ";"
/* the score columns of lead L recomputed from its scores rows */
#define S_FACTS_SCORE_RECOMPUTE(L)                                                                 \
    "UPDATE lead_facts SET score_id = NULL, score_at = NULL, score = NULL, grade = NULL,"          \
    " quadrant = NULL, fit = NULL, interest = NULL WHERE id = " L ";"                              \
    "UPDATE lead_facts SET score_id = s.id, score_at = s.at, score = s.score, grade = s.grade,"    \
    " quadrant = s.quadrant, fit = s.fit, interest = s.interest FROM (SELECT id, at, score,"       \
    " grade, quadrant, fit, interest FROM scores WHERE lead_id = " L                               \
    " ORDER BY at DESC, id DESC LIMIT 1) s WHERE lead_facts.id = " L ";"
/* From history: every lead, and every lead id history names (a row the report could join). */
#define S_FACTS_BACKFILL                                                                           \
    "INSERT INTO lead_facts (id, created_at, source_channel, original_source, original_campaign)"  \
    " SELECT id, created_at, source_channel, original_source, original_campaign FROM leads;"       \
    "INSERT OR IGNORE INTO lead_facts (id) SELECT DISTINCT lead_id FROM stage_history"             \
    " WHERE kind = 'transition' AND to_stage IN " S_STAGES_MQL ";"                                 \
    "INSERT OR IGNORE INTO lead_facts (id) SELECT DISTINCT lead_id FROM scores;"                   \
    "UPDATE lead_facts SET reach_mql = r.m, reach_sal = r.sa, reach_sql = r.sq, reach_opp = r.o,"  \
    " reach_won = r.w, first_mql = r.f FROM (SELECT lead_id,"                                      \
    " max(CASE WHEN to_stage IN " S_STAGES_MQL " THEN at END) AS m,"                               \
    " max(CASE WHEN to_stage IN " S_STAGES_SAL " THEN at END) AS sa,"                              \
    " max(CASE WHEN to_stage IN " S_STAGES_SQL " THEN at END) AS sq,"                              \
    " max(CASE WHEN to_stage IN " S_STAGES_OPP " THEN at END) AS o,"                               \
    " max(CASE WHEN to_stage = 'WON' THEN at END) AS w,"                                           \
    " min(CASE WHEN to_stage = 'MQL' THEN at END) AS f"                                            \
    " FROM stage_history WHERE kind = 'transition' AND to_stage IN " S_STAGES_MQL                  \
    " GROUP BY lead_id) r WHERE lead_facts.id = r.lead_id;"                                        \
    "UPDATE lead_facts SET score_id = s.id, score_at = s.at, score = s.score, grade = s.grade,"    \
    " quadrant = s.quadrant, fit = s.fit, interest = s.interest FROM (SELECT lead_id, id, at,"     \
    " score, grade, quadrant, fit, interest, row_number() OVER (PARTITION BY lead_id"              \
    " ORDER BY at DESC, id DESC) AS rn FROM scores) s"                                             \
    " WHERE s.rn = 1 AND lead_facts.id = s.lead_id;"
/* A deleted transition changes a max or min only when its time is one of them: the others
 * leave the row as it is without reading the lead's history.
 * Row statements only (INSERT OR IGNORE + UPDATE, never an upsert or REPLACE): an outer
 * INSERT OR IGNORE (the kept row INSERTs) imposes its policy on a trigger's statements. */
#define S_FACTS_TRIGGERS                                                                           \
    "CREATE TRIGGER lead_facts_lead_new AFTER INSERT ON leads BEGIN"                               \
    " INSERT OR IGNORE INTO lead_facts (id) VALUES (NEW.id);"                                      \
    " UPDATE lead_facts SET created_at = NEW.created_at, source_channel = NEW.source_channel,"     \
    " original_source = NEW.original_source, original_campaign = NEW.original_campaign"            \
    " WHERE id = NEW.id; END;"                                                                     \
    "CREATE TRIGGER lead_facts_lead_set AFTER UPDATE OF created_at, source_channel,"               \
    " original_source, original_campaign ON leads BEGIN"                                           \
    " UPDATE lead_facts SET created_at = NEW.created_at, source_channel = NEW.source_channel,"     \
    " original_source = NEW.original_source, original_campaign = NEW.original_campaign"            \
    " WHERE id = NEW.id; END;"                                                                     \
    "CREATE TRIGGER lead_facts_stage_new AFTER INSERT ON stage_history"                            \
    " WHEN NEW.kind = 'transition' AND NEW.to_stage IN " S_STAGES_MQL " BEGIN"                     \
    " INSERT OR IGNORE INTO lead_facts (id) VALUES (NEW.lead_id);"                                 \
    " UPDATE lead_facts SET reach_mql = max(coalesce(reach_mql, NEW.at), NEW.at),"                 \
    " reach_sal = CASE WHEN NEW.to_stage IN " S_STAGES_SAL                                         \
    " THEN max(coalesce(reach_sal, NEW.at), NEW.at) ELSE reach_sal END,"                           \
    " reach_sql = CASE WHEN NEW.to_stage IN " S_STAGES_SQL                                         \
    " THEN max(coalesce(reach_sql, NEW.at), NEW.at) ELSE reach_sql END,"                           \
    " reach_opp = CASE WHEN NEW.to_stage IN " S_STAGES_OPP                                         \
    " THEN max(coalesce(reach_opp, NEW.at), NEW.at) ELSE reach_opp END,"                           \
    " reach_won = CASE WHEN NEW.to_stage = 'WON'"                                                  \
    " THEN max(coalesce(reach_won, NEW.at), NEW.at) ELSE reach_won END,"                           \
    " first_mql = CASE WHEN NEW.to_stage = 'MQL'"                                                  \
    " THEN min(coalesce(first_mql, NEW.at), NEW.at) ELSE first_mql END"                            \
    " WHERE id = NEW.lead_id; END;"                                                                \
    "CREATE TRIGGER lead_facts_stage_gone AFTER DELETE ON stage_history"                           \
    " WHEN OLD.kind = 'transition' AND OLD.to_stage IN " S_STAGES_MQL                              \
    " AND EXISTS (SELECT 1 FROM lead_facts WHERE id = OLD.lead_id AND OLD.at IN (reach_mql,"       \
    " reach_sal, reach_sql, reach_opp, reach_won, first_mql)) BEGIN "                              \
    S_FACTS_REACH_RECOMPUTE("OLD.lead_id") " END;"                                                 \
    "CREATE TRIGGER lead_facts_stage_set AFTER UPDATE OF lead_id, to_stage, at, kind"              \
    " ON stage_history BEGIN "                                                                     \
    " INSERT OR IGNORE INTO lead_facts (id) VALUES (NEW.lead_id);"                                 \
    S_FACTS_REACH_RECOMPUTE("OLD.lead_id") S_FACTS_REACH_RECOMPUTE("NEW.lead_id") " END;"          \
    "CREATE TRIGGER lead_facts_score_new AFTER INSERT ON scores BEGIN"                             \
    " INSERT OR IGNORE INTO lead_facts (id) VALUES (NEW.lead_id);"                                 \
    " UPDATE lead_facts SET score_id = NEW.id, score_at = NEW.at, score = NEW.score,"              \
    " grade = NEW.grade, quadrant = NEW.quadrant, fit = NEW.fit, interest = NEW.interest"          \
    " WHERE id = NEW.lead_id AND (score_at IS NULL OR NEW.at > score_at"                           \
    " OR (NEW.at = score_at AND NEW.id > score_id)); END;"                                         \
    "CREATE TRIGGER lead_facts_score_gone AFTER DELETE ON scores BEGIN "                           \
    S_FACTS_SCORE_RECOMPUTE("OLD.lead_id") " END;"                                                 \
    "CREATE TRIGGER lead_facts_score_set AFTER UPDATE OF lead_id, at, score, grade, quadrant,"     \
    " fit, interest ON scores BEGIN"                                                               \
    " INSERT OR IGNORE INTO lead_facts (id) VALUES (NEW.lead_id); "                                \
    S_FACTS_SCORE_RECOMPUTE("OLD.lead_id") S_FACTS_SCORE_RECOMPUTE("NEW.lead_id") " END;"
// clang-format on

/* ---- migrations: index i brings the schema from version i to i+1; never edit a shipped
 * one, append a new one ---- */
static const char *const s_migrations[] = {
    /* 1: the schema of docs/store-schema.md, version 1 */
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
    "CREATE TABLE erasures (id INTEGER PRIMARY KEY, lead_id INTEGER, at INTEGER NOT NULL);",
    /* 2: additive: the merge trail, the reassign deadline, history notes, lookup indexes */
    "ALTER TABLE leads ADD COLUMN field_sources_json TEXT;"
    "ALTER TABLE assignments ADD COLUMN reassign_due INTEGER;"
    "ALTER TABLE stage_history ADD COLUMN kind TEXT NOT NULL DEFAULT 'transition';"
    "CREATE INDEX pending_outcomes_email ON pending_outcomes(email);"
    "CREATE INDEX lead_sources_lead ON lead_sources(lead_id);"
    "CREATE INDEX assignments_open ON assignments(status, sla_due);"
    "CREATE INDEX leads_last_touch ON leads(last_touch_at);",
    /* 3: additive: the score.request seq of the score a lead holds (replies out of order) */
    "ALTER TABLE leads ADD COLUMN score_seq INTEGER;",
    /* 4: a new lead writes 6 B-tree entries instead of 9 (docs/store-schema.md, version 4):
     * the domain index holds owned leads only (its one query, HO_Q_DOMAIN_OWNER, asks for an
     * owner), the mql_at index leads that reached MQL only, and lead_sources.event_id loses
     * its UNIQUE index (s_lead_sources_rebuild runs before this SQL): events(event_id) is
     * the idempotency key, claimed in the same transaction before any lead_sources row */
    "DROP INDEX IF EXISTS leads_mql_at;"
    "CREATE INDEX leads_mql_at ON leads(mql_at) WHERE mql_at IS NOT NULL;"
    "DROP INDEX IF EXISTS leads_domain;"
    "CREATE INDEX leads_domain ON leads(domain) WHERE owner_rep_id IS NOT NULL;"
    "CREATE INDEX lead_sources_lead ON lead_sources(lead_id);",
    /* 5: sales' word is the record (issue 12): outcomes are never refused for stage order
     * (flags, implied stages), CRM stage, unmatched activities, imports and their results.
     * The added columns and their indexes come from s_v5_columns, which runs before this SQL
     * and skips a table a hand-made older database lacks */
    "CREATE TABLE unmatched_activities ("
    " id INTEGER PRIMARY KEY,"
    " event_id TEXT NOT NULL UNIQUE,"
    " email TEXT NOT NULL,"
    " body TEXT NOT NULL,"
    " occurred_at INTEGER NOT NULL,"
    " import_id TEXT);"
    "CREATE INDEX unmatched_activities_email ON unmatched_activities(email);"
    "CREATE TABLE imports ("
    " import_id TEXT PRIMARY KEY, source TEXT, kind TEXT, file TEXT, read INT,"
    " accepted INT, skipped_json TEXT, quarantined_json TEXT, finished_at INT);"
    "CREATE TABLE import_results ("
    " import_id TEXT NOT NULL, result TEXT NOT NULL, n INT NOT NULL DEFAULT 0,"
    " PRIMARY KEY(import_id, result)) WITHOUT ROWID;"
    /* counters the store keeps instead of reading the clock (score.request seq), starting
     * above every seq a lead already holds (earlier versions used the clock) */
    "CREATE TABLE store_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO store_counters SELECT 'score_seq', COALESCE(MAX(score_seq), 0) FROM leads;",
    /* 6: activities without UNIQUE(event_id) (issue 13: ~65 of ~470 bytes per activity):
     * events(event_id) is the idempotency key, claimed in the same transaction before an
     * activity row is written, and no query looks an activity up by its event id. The table
     * is copied by s_activities_rebuild, which runs before this (empty) SQL and skips a
     * hand-made older database without the table */
    "",
    /* 7: compact activities and events (issue 13: bytes per activity): event ids of the
     * form <prefix>-<32 hex digits> as prefix + 16 bytes, activity types and source systems
     * as small codes, a path that is a piece of the url as its place in it; the text
     * columns readers know are virtual generated columns of the stored ones (only built-in
     * SQL, so any SQLite reader sees the same values). s_v7_compact copies both tables
     * before this (empty) SQL and skips a table a hand-made older database lacks */
    "",
    /* 8: the report's per-lead roll-up (issue 17), kept by the triggers of S_FACTS_TRIGGERS in
     * the transaction of the write that changes it, built once from history by s_facts_build,
     * which runs before this (empty) SQL */
    "",
    /* 9: stage_history_lead covers what is read of a lead's transitions (issue 13, the report
     * inside the benchmark): (lead_id, at, id, kind, to_stage). The report's stage pass reads
     * every transition in (lead_id, at, id) order and the roll-up's triggers a lead's
     * transitions by kind and stage; through the two-column index each row was a seek into
     * the table, whose rows a lead gathers over weeks (1M leads: 90k page reads for a
     * 28.7k-page table). s_v9_stage_index builds it before this (empty) SQL, and skips a
     * hand-made older database whose stage_history lacks a column */
    "",
    /* 10: a matched activity is its own idempotency key (issue 13, cost per activity as the
     * store grows): activities_lead is UNIQUE (lead_id, occurred_at, event_key) and an
     * activity of a known lead is inserted OR IGNOREd against it instead of claiming an
     * events row first. The events row was a second random B-tree insert per activity (the
     * events keys are hashes: every insert lands on another leaf, ~45% of the WAL pages an
     * activity wrote at 2M activities), and the index's leaf is the one the activity row's
     * entry is written to anyway. Activities of unknown people (unmatched_activities) still
     * claim events rows; the rows of activities applied before this version stay (and a
     * redelivery of one finds its activity through the index). s_v10_activity_key builds
     * the index before this (empty) SQL, and skips a hand-made older database without the
     * columns */
    "",
};
#define S_N_MIGRATIONS ((int)(sizeof s_migrations / sizeof s_migrations[0]))
_Static_assert(S_N_MIGRATIONS == HO_STORE_SCHEMA_VERSION, "store.h names the newest migration");
/* the migration (its version) that rebuilds lead_sources before its SQL runs */
#define S_V_LEAD_SOURCES_REBUILD 4
/* the migration (its version) whose columns s_v5_columns adds before its SQL runs */
#define S_V_COLUMNS_5 5
/* the migration (its version) that rebuilds activities */
#define S_V_ACTIVITIES_REBUILD 6
/* the migration (its version) that copies activities and events into their compact form */
#define S_V_COMPACT 7
/* the migration (its version) that builds lead_facts */
#define S_V_FACTS 8
/* the migration (its version) that makes stage_history_lead a covering index */
#define S_V_STAGE_INDEX 9
/* the migration (its version) that makes activities_lead the activities' idempotency key */
#define S_V_ACTIVITY_KEY 10

/* ---- the lead row, column by column ---- */
typedef enum { C_S, C_I, C_D, C_B } s_ctype_t;
typedef struct {
    const char *name;
    s_ctype_t type;
    size_t off;
} s_col_t;

#define S_COL(n, t)                                                                                \
    {                                                                                              \
#n, t, offsetof(ho_lead_t, n)                                                              \
    }
static const s_col_t s_lead_cols[] = {
    S_COL(email, C_S),
    S_COL(first_name, C_S),
    S_COL(last_name, C_S),
    S_COL(title, C_S),
    S_COL(phone, C_S),
    S_COL(company, C_S),
    S_COL(domain, C_S),
    S_COL(personal_email, C_B),
    S_COL(industry, C_S),
    S_COL(industry_group, C_S),
    S_COL(employees, C_I),
    S_COL(revenue, C_D),
    S_COL(country, C_S),
    S_COL(state, C_S),
    S_COL(city, C_S),
    S_COL(timezone, C_S),
    S_COL(fields_json, C_S),
    S_COL(stage, C_S),
    S_COL(owner_rep_id, C_S),
    S_COL(original_source, C_S),
    S_COL(source_channel, C_S),
    S_COL(original_campaign, C_S),
    S_COL(first_touch_at, C_I),
    S_COL(last_touch_at, C_I),
    S_COL(created_at, C_I),
    S_COL(updated_at, C_I),
    S_COL(fit, C_I),
    S_COL(interest, C_I),
    S_COL(score, C_I),
    S_COL(grade, C_S),
    S_COL(quadrant, C_S),
    S_COL(model_version, C_S),
    S_COL(scored_at, C_I),
    S_COL(mql_at, C_I),
    S_COL(first_mql_at, C_I),
    S_COL(erased, C_B),
    S_COL(field_sources_json, C_S),
    S_COL(score_seq, C_I),
    S_COL(crm_stage, C_S),
};
#define S_N_LEAD_COLS (sizeof s_lead_cols / sizeof s_lead_cols[0])
_Static_assert(S_N_LEAD_COLS <= 64, "changed-column masks are 64 bits");

/* the columns an index reads (see S_UPD_CACHE) and the ones a new lead from a record never
 * has (see s_lead_insert), by name so a reordered s_lead_cols cannot break them */
static uint64_t s_cols_mask(const char *const *names)
{
    uint64_t m = 0;
    for (; *names; names++) {
        for (size_t i = 0; i < S_N_LEAD_COLS; i++) {
            if (strcmp(s_lead_cols[i].name, *names) == 0) {
                m |= 1ULL << i;
            }
        }
    }
    return m;
}
#define S_ALL_COLS (S_N_LEAD_COLS == 64 ? ~0ULL : (1ULL << S_N_LEAD_COLS) - 1)
static const char *const s_indexed_names[] = {"email",  "domain",        "owner_rep_id",
                                              "mql_at", "last_touch_at", NULL};
static const char *const s_late_names[] = {
    "owner_rep_id",  "fit",       "interest", "score",        "grade",     "quadrant",
    "model_version", "scored_at", "mql_at",   "first_mql_at", "score_seq", NULL};

/* ---- insertable tables ---- */
typedef struct {
    const char *table;
    const char *const cols[16];
} s_table_t;

static const s_table_t s_tables[HO_T__COUNT] = {
    [HO_T_LEAD_SOURCES] = {"lead_sources",
                           {"lead_id", "event_id", "source", "source_record_id", "original_source",
                            "campaign", "file", "line", "observed_at"}},
    [HO_T_ACTIVITIES] = {"activities",
                         /* the stored columns of version 7 (s_activity_add binds them) */
                         {"lead_id", "event_key", "type_key", "occurred_at", "url_key", "path_key",
                          "campaign", "asset", "source_key"}},
    [HO_T_STAGE_HISTORY] = {"stage_history",
                            {"lead_id", "from_stage", "to_stage", "at", "actor", "reason", "score",
                             "fit", "interest", "event_id", "kind", "implied"}},
    [HO_T_SCORES] = {"scores",
                     {"lead_id", "event_id", "at", "model_version", "fit", "interest", "score",
                      "grade", "quadrant", "mql", "explanation_json"}},
    [HO_T_ASSIGNMENTS] = {"assignments",
                          {"lead_id", "event_id", "rep_id", "rep_name", "queue", "rule", "reason",
                           "assigned_at", "sla_due", "reassign_due", "accepted_at", "reminded_at",
                           "status"}},
    [HO_T_SLA_BREACHES] = {"sla_breaches", {"assignment_id", "lead_id", "rep_id", "step", "at"}},
    [HO_T_OUTCOMES] = {"outcomes",
                       {"lead_id", "event_id", "feedback_id", "rep_id", "outcome", "reason",
                        "reason_owner", "stage_reached", "occurred_at", "notes", "amount",
                        "not_owner", "flags", "implied", "import_id", "disposition"}},
    [HO_T_PENDING_OUTCOMES] = {"pending_outcomes",
                               {"event_id", "email", "body", "received_at", "status", "import_id",
                                "unknown_at"}},
    [HO_T_QUARANTINE] = {"quarantine",
                         {"event_id", "stage", "code", "field", "reason", "source", "file", "line",
                          "input_event_id", "input_type", "raw_json", "at", "replayed_at",
                          "import_id"}},
    [HO_T_ERASURES] = {"erasures", {"lead_id", "at"}},
    [HO_T_UNMATCHED_ACTIVITIES] = {"unmatched_activities",
                                   {"event_id", "email", "body", "occurred_at", "import_id"}},
};

/* ---- named queries (:name parameters are bound from the args object) ---- */
static const char *const s_queries[HO_Q__COUNT] = {
    [HO_Q_ACTIVITIES] = "SELECT id, type, occurred_at, url, path, campaign, asset, source_system,"
                        " event_id FROM activities WHERE lead_id = :lead_id"
                        " AND (:until IS NULL OR occurred_at <= :until)"
                        " ORDER BY occurred_at DESC, id DESC LIMIT :limit",
    [HO_Q_SOURCES] = "SELECT source, source_record_id, original_source, campaign, file, line,"
                     " observed_at, event_id FROM lead_sources WHERE lead_id = :lead_id"
                     " ORDER BY observed_at, id",
    [HO_Q_SCORES] = "SELECT at, model_version, fit, interest, score, grade, quadrant, mql,"
                    " explanation_json, event_id FROM scores WHERE lead_id = :lead_id"
                    " ORDER BY at DESC, id DESC",
    [HO_Q_HISTORY] = "SELECT from_stage, to_stage, at, actor, reason, score, fit, interest, kind,"
                     " event_id FROM stage_history WHERE lead_id = :lead_id ORDER BY at, id",
    [HO_Q_ASSIGNMENTS] =
        "SELECT a.id, a.rep_id, a.rep_name, a.queue, a.rule, a.reason, a.assigned_at, a.sla_due,"
        " a.reassign_due, a.accepted_at, a.reminded_at, a.status,"
        " (SELECT group_concat(step, ',') FROM sla_breaches b WHERE b.assignment_id = a.id)"
        " AS breaches FROM assignments a WHERE a.lead_id = :lead_id"
        " ORDER BY a.assigned_at DESC, a.id DESC",
    [HO_Q_OUTCOMES] = "SELECT outcome, rep_id, reason, reason_owner, stage_reached, occurred_at,"
                      " notes, amount, not_owner, feedback_id, event_id FROM outcomes"
                      " WHERE lead_id = :lead_id ORDER BY occurred_at, id",
    /* +status: without it SQLite picks assignments_open (status, sla_due), i.e. every open
     * assignment of every lead per outcome, over assignments_lead (test_store_plans). */
    [HO_Q_OPEN_ASSIGNMENTS] = "SELECT id, rep_id, assigned_at, sla_due, reassign_due"
                              " FROM assignments WHERE lead_id = :lead_id AND +status = 'open'"
                              " ORDER BY assigned_at DESC, id DESC",
    [HO_Q_SLA_DUE] =
        "SELECT a.id, a.lead_id, a.rep_id, a.assigned_at, a.sla_due,"
        " COALESCE(a.reassign_due, a.sla_due + (a.sla_due - a.assigned_at)) AS reassign_due,"
        " EXISTS (SELECT 1 FROM sla_breaches b WHERE b.assignment_id = a.id"
        "   AND b.step = 'remind') AS reminded"
        " FROM assignments a WHERE a.status = 'open' AND a.rep_id IS NOT NULL"
        " AND a.accepted_at IS NULL AND a.sla_due IS NOT NULL AND a.sla_due <= :now"
        " ORDER BY a.sla_due, a.id",
    [HO_Q_DOMAIN_OWNER] = "SELECT owner_rep_id FROM leads WHERE domain = :domain"
                          " AND personal_email = 0 AND id <> :lead_id AND erased = 0"
                          " AND owner_rep_id IS NOT NULL ORDER BY updated_at DESC, id LIMIT 1",
    [HO_Q_PENDING] = "SELECT event_id, body, status FROM pending_outcomes WHERE email = :email"
                     " ORDER BY json_extract(body, '$.payload.occurred_at'), event_id",
    [HO_Q_RESCORE] = "SELECT id FROM leads WHERE owner_rep_id IS NULL"
                     " AND stage IN ('ML', 'MQL', 'RECYCLED') AND erased = 0"
                     " AND last_touch_at >= :since"
                     " ORDER BY scored_at IS NOT NULL, scored_at, id LIMIT :limit",
    [HO_Q_QUARANTINE_LIST] =
        "SELECT id, stage, code, field, reason, source, file, line, input_event_id, input_type,"
        " at, replayed_at,"
        " CASE WHEN json_valid(raw_json) THEN json_extract(raw_json, '$.replay_edits') END"
        " AS replay_edits_json FROM quarantine WHERE (:all OR replayed_at IS NULL)"
        " ORDER BY id DESC LIMIT :limit",
    [HO_Q_QUARANTINE_GET] =
        "SELECT id, event_id, stage, code, field, reason, source, file, line, input_event_id,"
        " input_type, raw_json, at, replayed_at FROM quarantine WHERE id = :id",
    [HO_Q_TOP_PAGES] = "SELECT path, COUNT(*) AS views FROM activities WHERE lead_id = :lead_id"
                       " AND type = 'page_view' AND path IS NOT NULL AND path <> ''"
                       " GROUP BY path ORDER BY views DESC, path LIMIT :limit",
    [HO_Q_COUNTS] = "SELECT (SELECT COUNT(*) FROM leads) AS leads,"
                    " (SELECT COUNT(*) FROM lead_sources) AS lead_sources,"
                    " (SELECT COUNT(*) FROM activities) AS activities,"
                    " (SELECT COUNT(*) FROM stage_history) AS stage_history,"
                    " (SELECT COUNT(*) FROM scores) AS scores,"
                    " (SELECT COUNT(*) FROM assignments) AS assignments,"
                    " (SELECT COUNT(*) FROM outcomes) AS outcomes,"
                    " (SELECT COUNT(*) FROM pending_outcomes) AS pending_outcomes,"
                    " (SELECT COUNT(*) FROM quarantine) AS quarantine,"
                    " (SELECT COUNT(*) FROM events) AS events,"
                    " (SELECT COUNT(*) FROM erasures) AS erasures",
    [HO_Q_ACTIVITY_STATS] = "SELECT COUNT(*) AS n, MIN(occurred_at) AS first,"
                            " MAX(occurred_at) AS last FROM activities WHERE lead_id = :lead_id",
    [HO_Q_LEAD_IDS] = "SELECT id FROM leads ORDER BY id",
    [HO_Q_QUARANTINE_BY_EVENT] = "SELECT id, replayed_at, at FROM quarantine"
                                 " WHERE event_id = :event_id",
    [HO_Q_OUTCOMES_RECORDED] =
        "SELECT id, outcome, disposition, occurred_at, feedback_id, event_id, rep_id, reason,"
        " flags FROM outcomes WHERE lead_id = :lead_id AND implied = 0 ORDER BY occurred_at, id",
    [HO_Q_UNMATCHED] = "SELECT event_id, body FROM unmatched_activities WHERE email = :email"
                       " ORDER BY occurred_at, event_id",
    [HO_Q_PENDING_DUE] = "SELECT event_id, import_id FROM pending_outcomes"
                         " WHERE status = 'pending' AND received_at <= :before"
                         " ORDER BY received_at, event_id",
    [HO_Q_PENDING_GET] = "SELECT event_id, status, import_id FROM pending_outcomes"
                         " WHERE event_id = :event_id",
    [HO_Q_IMPORT_RESULTS] = "SELECT result, n FROM import_results WHERE import_id = :import_id"
                            " ORDER BY result",
    [HO_Q_IMPORT_QUARANTINED] =
        "SELECT COUNT(*) AS n, COALESCE(SUM(code IN ('retries_exhausted', 'worker_error')), 0)"
        " AS failed FROM quarantine WHERE import_id = :import_id",
    [HO_Q_UNMATCHED_ANY] = "SELECT 1 AS any FROM unmatched_activities LIMIT 1",
    [HO_Q_PENDING_ANY] = "SELECT 1 AS any FROM pending_outcomes LIMIT 1",
    [HO_Q_COUNTER] = "SELECT value FROM store_counters WHERE name = :name",
    [HO_X_COUNTER_SET] = "INSERT INTO store_counters (name, value) VALUES (:name, :value)"
                         " ON CONFLICT (name) DO UPDATE SET value = :value",
    [HO_Q_FIRST_SOURCE] = "SELECT event_id FROM lead_sources WHERE lead_id = :lead_id"
                          " ORDER BY id LIMIT 1",
    [HO_Q_ASSIGNMENT_BY_EVENT] = "SELECT id, status FROM assignments WHERE event_id = :event_id",
    /* the rows are the snapshot's activity objects as they are (no copy into new objects) */
    [HO_Q_SNAPSHOT_ACTIVITIES] = "SELECT type, path, url, occurred_at, campaign, asset"
                                 " FROM activities WHERE lead_id = :lead_id"
                                 " AND (:until IS NULL OR occurred_at <= :until)"
                                 " ORDER BY occurred_at DESC, id DESC LIMIT :limit",
    /* writes behind the typed operations of store.h (they return no rows) */
    [HO_X_IMPLIED_CLEAR] = "DELETE FROM outcomes WHERE lead_id = :lead_id AND implied = 1",
    [HO_X_SALES_HISTORY_CLEAR] = "DELETE FROM stage_history WHERE lead_id = :lead_id"
                                 " AND actor = 'sales' AND kind = 'transition'",
    [HO_X_IMPORT_COUNT] = "INSERT INTO import_results (import_id, result, n)"
                          " VALUES (:import_id, :result, :delta)"
                          " ON CONFLICT (import_id, result) DO UPDATE SET n = n + :delta",
    [HO_X_IMPORT_PUT] =
        "INSERT OR REPLACE INTO imports (import_id, source, kind, file, read, accepted,"
        " skipped_json, quarantined_json, finished_at) VALUES (:import_id, :source, :kind,"
        " :file, :read, :accepted, :skipped_json, :quarantined_json, :finished_at)",
    [HO_X_PENDING_STATUS] = "UPDATE pending_outcomes SET status = :status, unknown_at = :at"
                            " WHERE event_id = :event_id",
    [HO_X_UNMATCHED_DELETE] = "DELETE FROM unmatched_activities WHERE event_id = :event_id",
};

const char *ho_store_query_sql(ho_query_t query)
{
    return (int)query >= 0 && query < HO_Q__COUNT ? s_queries[query] : NULL;
}

/* UPDATE statements of the lead row by the set of columns that changed (bit i = column i
 * of s_lead_cols): an UPDATE that names an indexed column (email, domain, mql_at,
 * last_touch_at, and owner_rep_id, the domain index's condition) rewrites that index entry
 * even when the value is the same, so those are named only when they changed; every other
 * column is always named (rebinding an unchanged value costs little, the row is rewritten
 * whole anyway). So there are at most 32 shapes, whatever mix of fields real records change,
 * and the cache below never thrashes (with a shape per set of changed columns, real exports
 * re-prepared a statement for most merges). */
#define S_UPD_CACHE 32
typedef struct {
    uint64_t mask;
    sqlite3_stmt *st;
} s_upd_t;

typedef struct {
    sqlite3 *db;
    bool readonly;
    int version;
    int save_depth;
    sqlite3_stmt *claim, *seen, *score_seen, *get_email, *get_id, *update;
    /* SAVEPOINT, RELEASE, ROLLBACK TO: one pair per message of a batch, so prepared once
     * (sqlite3_exec parsed them again for every message) */
    sqlite3_stmt *sp_save, *sp_release, *sp_undo;
    s_upd_t upd[S_UPD_CACHE];
    unsigned upd_next;
    /* INSERTs of a new lead by the set of its non-NULL columns (s_lead_insert) */
    s_upd_t ins[S_UPD_CACHE];
    unsigned ins_next;
    uint64_t indexed_cols, late_cols; /* s_cols_mask of the name lists, computed once */
    /* the lead row as last read or written (id 0 = none): lead_put of that id writes only
     * the columns that differ. Dropped on rollback, undo and erase. */
    ho_lead_t last;
    /* Hashes of every email in leads (a superset: rolled-back and erased ones stay), read
     * once per connection and kept by lead_put, so a lookup by an email that was never
     * stored is answered without a query (~6% of an insert upsert). Used only inside a
     * transaction of this writer whose PRAGMA data_version showed no other connection's
     * commit since it was read (BEGIN IMMEDIATE: no other writer until COMMIT). */
    uint64_t *known;
    size_t known_cap, known_n;
    bool known_ok, in_tx;
    int64_t data_version;
    sqlite3_stmt *dv;
    sqlite3_stmt *add[HO_T__COUNT];
    sqlite3_stmt *query[HO_Q__COUNT];
    /* the background checkpointer of a writer (s_ckpt_start): its own connection and
     * thread copy the WAL into the database file, so a commit never waits for that copy
     * and its fsyncs (~13% of the store worker's time in a real import, perf) */
    sqlite3 *ckpt_db;
    pthread_t ckpt_th;
    pthread_mutex_t ckpt_mu;
    pthread_cond_t ckpt_cv;
    bool ckpt_on, ckpt_want, ckpt_stop;
    long ckpt_done; /* checkpoints that copied pages; under ckpt_mu */
    pid_t ckpt_pid;
} s_db_t;

static void s_known_drop(s_db_t *self);

static int s_fail(s_db_t *self, ho_err_t *err, const char *what)
{
    int code = sqlite3_errcode(self->db);
    return ho_err_set(err, code == SQLITE_BUSY || code == SQLITE_LOCKED ? HO_ERR_IO : HO_ERR_IO, "",
                      "sqlite: %s: %s", what, sqlite3_errmsg(self->db));
}

static int s_exec(s_db_t *self, const char *sql, ho_err_t *err)
{
    char *msg = NULL;
    if (sqlite3_exec(self->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        ho_err_set(err, HO_ERR_IO, "", "sqlite: %s", msg ? msg : sqlite3_errmsg(self->db));
        sqlite3_free(msg);
        return HO_ERR_IO;
    }
    return HO_OK;
}

static int s_prepare(s_db_t *self, sqlite3_stmt **stmt, const char *sql, ho_err_t *err)
{
    if (*stmt) {
        sqlite3_reset(*stmt);
        sqlite3_clear_bindings(*stmt);
        return HO_OK;
    }
    if (sqlite3_prepare_v3(self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL) != SQLITE_OK) {
        return s_fail(self, err, "prepare");
    }
    return HO_OK;
}

static int s_read_version(s_db_t *self)
{
    sqlite3_stmt *st = NULL;
    int version = 0;
    if (sqlite3_prepare_v2(self->db,
                           "SELECT name FROM sqlite_master WHERE type='table' AND "
                           "name='schema_version'",
                           -1, &st, NULL) != SQLITE_OK) {
        return -1;
    }
    int has = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (!has) {
        return 0;
    }
    if (sqlite3_prepare_v2(self->db, "SELECT MAX(version) FROM schema_version", -1, &st, NULL) !=
        SQLITE_OK) {
        return -1;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        version = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    return version;
}

/* Version 5's columns, each added when its table exists and lacks it (a hand-made older
 * database may lack a table or have a column already), then the indexes over them. */
static int s_v5_columns(s_db_t *self, ho_err_t *err)
{
    static const char *const cols[][3] = {
        {"outcomes", "flags", "TEXT"},
        {"outcomes", "implied", "INTEGER NOT NULL DEFAULT 0"},
        {"outcomes", "import_id", "TEXT"},
        {"outcomes", "disposition", "TEXT"},
        {"stage_history", "implied", "INTEGER NOT NULL DEFAULT 0"},
        {"leads", "crm_stage", "TEXT"},
        {"pending_outcomes", "received_at", "INTEGER"},
        {"pending_outcomes", "status", "TEXT NOT NULL DEFAULT 'pending'"},
        {"pending_outcomes", "import_id", "TEXT"},
        {"pending_outcomes", "unknown_at", "INTEGER"},
        {"quarantine", "import_id", "TEXT"},
    };
    static const char *const idx[][2] = {
        {"pending_outcomes", "CREATE INDEX pending_outcomes_status ON pending_outcomes(status,"
                             " received_at)"},
        {"quarantine", "CREATE INDEX quarantine_import ON quarantine(import_id)"
                       " WHERE import_id IS NOT NULL"},
        /* the derivation of an outcome reads the lead's scores (a scan per outcome without) */
        {"scores", "CREATE INDEX scores_lead ON scores(lead_id, at)"},
    };
    sqlite3_stmt *has_t = NULL, *has_c = NULL;
    int rc = HO_OK;
    if (sqlite3_prepare_v2(self->db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                           -1, &has_t, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(self->db, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?", -1,
                           &has_c, NULL) != SQLITE_OK) {
        rc = s_fail(self, err, "migrate to version 5");
    }
    for (size_t i = 0; rc == HO_OK && i < sizeof cols / sizeof cols[0]; i++) {
        sqlite3_bind_text(has_t, 1, cols[i][0], -1, SQLITE_STATIC);
        bool table = sqlite3_step(has_t) == SQLITE_ROW;
        sqlite3_reset(has_t);
        sqlite3_bind_text(has_c, 1, cols[i][0], -1, SQLITE_STATIC);
        sqlite3_bind_text(has_c, 2, cols[i][1], -1, SQLITE_STATIC);
        bool col = sqlite3_step(has_c) == SQLITE_ROW;
        sqlite3_reset(has_c);
        if (table && !col) {
            char sql[200];
            snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", cols[i][0], cols[i][1],
                     cols[i][2]);
            rc = s_exec(self, sql, err);
        }
    }
    for (size_t i = 0; rc == HO_OK && i < sizeof idx / sizeof idx[0]; i++) {
        sqlite3_bind_text(has_t, 1, idx[i][0], -1, SQLITE_STATIC);
        bool table = sqlite3_step(has_t) == SQLITE_ROW;
        sqlite3_reset(has_t);
        rc = table ? s_exec(self, idx[i][1], err) : HO_OK;
    }
    sqlite3_finalize(has_t);
    sqlite3_finalize(has_c);
    return rc;
}

/* ---- compact keys of activities and events (version 7, docs/store-schema.md) ----
 * Each is undone by the SQL of the generated columns in S_ACTIVITIES_V7 (built-in functions
 * only); test_store_compact checks that every value reads back as it was given. */
#define S_HEX_DIGITS 32
#define S_KEY_MAX 256 /* longest compact event key: longer ids stay text */

static int s_hex_val(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* An event id "<prefix>-<32 lowercase hex digits>" (act-..., scored-..., lead-hubspot-...:
 * what ingest and the scorer make) as its prefix followed by the 16 bytes the digits spell:
 * the prefixes act and scored (an activity's, a score's) as one byte 0x01 / 0x02, any other
 * as its bytes (its first byte printable, so never one of those codes): 17-28 bytes instead
 * of 36-45. Returns the key's length, or 0 when the id has another form (it is stored as
 * text, as it was). */
static size_t s_event_key(const char *id, unsigned char out[S_KEY_MAX])
{
    size_t n = id ? strlen(id) : 0;
    if (n < S_HEX_DIGITS + 2 || n - S_HEX_DIGITS - 1 + S_HEX_DIGITS / 2 > S_KEY_MAX ||
        id[n - S_HEX_DIGITS - 1] != '-' || (unsigned char)id[0] < 0x20) {
        return 0;
    }
    size_t pre = n - S_HEX_DIGITS - 1;
    const char *hex = id + pre + 1;
    size_t at = pre;
    if (pre == 3 && memcmp(id, "act", 3) == 0) {
        out[0] = 0x01;
        at = 1;
    } else if (pre == 6 && memcmp(id, "scored", 6) == 0) {
        out[0] = 0x02;
        at = 1;
    } else {
        memcpy(out, id, pre);
    }
    for (size_t i = 0; i < S_HEX_DIGITS / 2; i++) {
        int hi = s_hex_val(hex[2 * i]), lo = s_hex_val(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return 0;
        }
        out[at + i] = (unsigned char)(hi << 4 | lo);
    }
    return at + S_HEX_DIGITS / 2;
}

static void s_bind_event_key(sqlite3_stmt *st, int i, const char *id)
{
    unsigned char key[S_KEY_MAX];
    size_t n = s_event_key(id, key);
    if (n) {
        sqlite3_bind_blob(st, i, key, (int)n, SQLITE_TRANSIENT);
    } else if (id) {
        sqlite3_bind_text(st, i, id, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, i);
    }
}

/* The codes of activities.type_key and source_key (1..n; anything else is kept as text).
 * Never reorder or remove: stored rows hold the numbers. */
static const char *const s_type_codes[] = {
    "email_open",   "email_click", "page_view",   "webinar_attended", "content_download",
    "demo_request", "free_trial_signup", "unsubscribe", "form_submit"};
static const char *const s_source_codes[] = {"website", "sendgrid", "marketo",    "on24",
                                             "hubspot", "salesforce", "linkedin", "facebook"};

static int s_code(const char *const *codes, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++) {
        if (strcmp(codes[i], s) == 0) {
            return (int)i + 1;
        }
    }
    return 0;
}
#define S_TYPE_CODE(s) s_code(s_type_codes, sizeof s_type_codes / sizeof s_type_codes[0], s)
#define S_SOURCE_CODE(s) s_code(s_source_codes, sizeof s_source_codes / sizeof s_source_codes[0], s)

/* The url's usual beginnings, as one byte 0x01..0x04 before the rest of it (url_key). */
static const char *const s_url_codes[] = {"https://www.", "https://", "http://www.", "http://"};

/* The code of url's beginning (1..4; *skip = its length), or 0. */
static int s_url_code(const char *url, size_t *skip)
{
    for (size_t k = 0; url && k < sizeof s_url_codes / sizeof s_url_codes[0]; k++) {
        size_t n = strlen(s_url_codes[k]);
        if (strncmp(url, s_url_codes[k], n) == 0) {
            *skip = n;
            return (int)k + 1;
        }
    }
    *skip = 0;
    return 0;
}

/* url_key: the code byte and the rest of the url (a BLOB), or the url as text. Returns a
 * malloc'd key (*n bytes), or NULL when the url is kept as text (or out of memory). */
static unsigned char *s_url_key(const char *url, size_t *n)
{
    size_t skip;
    int code = s_url_code(url, &skip);
    if (!code) {
        return NULL;
    }
    size_t rest = strlen(url + skip);
    unsigned char *key = malloc(rest + 1);
    if (key) {
        key[0] = (unsigned char)code;
        memcpy(key + 1, url + skip, rest);
        *n = rest + 1;
    }
    return key;
}

static void s_bind_url_key(sqlite3_stmt *st, int i, const char *url)
{
    size_t n = 0;
    unsigned char *key = s_url_key(url, &n);
    if (key) {
        sqlite3_bind_blob(st, i, key, (int)n, free);
    } else if (url) {
        sqlite3_bind_text(st, i, url, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, i);
    }
}

/* A path that is a piece of its url (what ingest derives: "/pricing" of
 * "https://www.example.com/pricing?utm_source=x") as its place in url_key: (1-based offset
 * << 7 | length), 2 bytes instead of the text, read back without rebuilding the url. 0 when
 * it is not one, or url_key before it is not plain ASCII (SQL's substr counts characters of
 * a text). */
static int64_t s_path_key(const char *url, const char *path)
{
    size_t skip;
    int code = url ? s_url_code(url, &skip) : 0;
    if (!url || !path || !path[0]) {
        return 0;
    }
    const char *base = url + skip;
    const char *at = strstr(base, path);
    size_t len = strlen(path);
    if (!at || len >= 128) {
        return 0;
    }
    size_t end = (size_t)(at - base) + len;
    for (size_t i = 0; i < end; i++) {
        if ((unsigned char)base[i] >= 0x80) {
            return 0;
        }
    }
    return (int64_t)((size_t)(at - base) + 1 + (code ? 1 : 0)) << 7 | (int64_t)len;
}

/* The same as SQL functions, for the migration's copy of the stored rows. */
static void s_fn_event_key(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    unsigned char key[S_KEY_MAX];
    const char *id = (const char *)sqlite3_value_text(argv[0]);
    size_t n = sqlite3_value_type(argv[0]) == SQLITE_TEXT ? s_event_key(id, key) : 0;
    if (n) {
        sqlite3_result_blob(cx, key, (int)n, SQLITE_TRANSIENT);
    } else {
        sqlite3_result_value(cx, argv[0]);
    }
}

static void s_fn_url_key(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
        sqlite3_result_value(cx, argv[0]);
        return;
    }
    size_t n = 0;
    unsigned char *key = s_url_key((const char *)sqlite3_value_text(argv[0]), &n);
    if (key) {
        sqlite3_result_blob(cx, key, (int)n, free);
    } else {
        sqlite3_result_value(cx, argv[0]);
    }
}

static void s_fn_code(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    bool type = sqlite3_user_data(cx) != NULL;
    int code = 0;
    if (sqlite3_value_type(argv[0]) == SQLITE_TEXT) {
        const char *s = (const char *)sqlite3_value_text(argv[0]);
        code = type ? S_TYPE_CODE(s) : S_SOURCE_CODE(s);
    }
    if (code) {
        sqlite3_result_int(cx, code);
    } else {
        sqlite3_result_value(cx, argv[0]);
    }
}

static void s_fn_path_key(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    int64_t key = 0;
    if (sqlite3_value_type(argv[0]) == SQLITE_TEXT && sqlite3_value_type(argv[1]) == SQLITE_TEXT) {
        key = s_path_key((const char *)sqlite3_value_text(argv[0]),
                         (const char *)sqlite3_value_text(argv[1]));
    }
    if (key) {
        sqlite3_result_int64(cx, key);
    } else {
        sqlite3_result_value(cx, argv[1]);
    }
}

/* Version 7's activities: the stored columns and, under the names readers know, virtual
 * columns that give back the values as they were given (%s: the table's name). */
#define S_ACTIVITIES_V7                                                                            \
    "CREATE TABLE %s ("                                                                            \
    " id INTEGER PRIMARY KEY,"                                                                     \
    " lead_id INTEGER NOT NULL REFERENCES leads(id),"                                              \
    " event_key BLOB NOT NULL,"                                                                    \
    " type_key BLOB NOT NULL,"                                                                     \
    " occurred_at INTEGER NOT NULL,"                                                               \
    " url_key BLOB,"                                                                               \
    " path_key BLOB,"                                                                              \
    " campaign TEXT, asset TEXT,"                                                                  \
    " source_key BLOB,"                                                                            \
    " event_id TEXT GENERATED ALWAYS AS (CASE WHEN typeof(event_key) = 'blob' THEN"                \
    " CASE WHEN length(event_key) = 17 AND substr(event_key, 1, 1) = X'01' THEN 'act'"             \
    " WHEN length(event_key) = 17 AND substr(event_key, 1, 1) = X'02' THEN 'scored'"               \
    " ELSE CAST(substr(event_key, 1, length(event_key) - 16) AS TEXT) END || '-' ||"               \
    " lower(hex(substr(event_key, -16))) ELSE event_key END) VIRTUAL,"                             \
    " url TEXT GENERATED ALWAYS AS (CASE WHEN typeof(url_key) = 'blob' THEN"                       \
    " CASE substr(url_key, 1, 1) WHEN X'01' THEN 'https://www.' WHEN X'02' THEN 'https://'"        \
    " WHEN X'03' THEN 'http://www.' WHEN X'04' THEN 'http://' END ||"                              \
    " CAST(substr(url_key, 2) AS TEXT) ELSE url_key END) VIRTUAL,"                                 \
    " type TEXT GENERATED ALWAYS AS (CASE type_key WHEN 1 THEN 'email_open'"                       \
    " WHEN 2 THEN 'email_click' WHEN 3 THEN 'page_view' WHEN 4 THEN 'webinar_attended'"            \
    " WHEN 5 THEN 'content_download' WHEN 6 THEN 'demo_request'"                                   \
    " WHEN 7 THEN 'free_trial_signup' WHEN 8 THEN 'unsubscribe' WHEN 9 THEN 'form_submit'"         \
    " ELSE type_key END) VIRTUAL,"                                                                 \
    " path TEXT GENERATED ALWAYS AS (CASE WHEN typeof(path_key) = 'integer' THEN"                  \
    " CAST(substr(url_key, path_key >> 7, path_key & 127) AS TEXT) ELSE path_key END) VIRTUAL,"    \
    " source_system TEXT GENERATED ALWAYS AS (CASE source_key WHEN 1 THEN 'website'"               \
    " WHEN 2 THEN 'sendgrid' WHEN 3 THEN 'marketo' WHEN 4 THEN 'on24' WHEN 5 THEN 'hubspot'"       \
    " WHEN 6 THEN 'salesforce' WHEN 7 THEN 'linkedin' WHEN 8 THEN 'facebook'"                      \
    " ELSE source_key END) VIRTUAL);"

/* Version 7: activities and events copied into their compact form (rows keep their ids;
 * the events keys are sorted, so the copy's pages are full). */
static int s_v7_compact(s_db_t *self, ho_err_t *err)
{
    if (sqlite3_create_function_v2(self->db, "ho_event_key", 1,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, s_fn_event_key, NULL,
                                   NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function_v2(self->db, "ho_type_key", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                   (void *)s_type_codes, s_fn_code, NULL, NULL,
                                   NULL) != SQLITE_OK ||
        sqlite3_create_function_v2(self->db, "ho_source_key", 1,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, s_fn_code, NULL,
                                   NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function_v2(self->db, "ho_path_key", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                   NULL, s_fn_path_key, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function_v2(self->db, "ho_url_key", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                   NULL, s_fn_url_key, NULL, NULL, NULL) != SQLITE_OK) {
        return s_fail(self, err, "migrate to version 7");
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                           -1, &st, NULL) != SQLITE_OK) {
        return s_fail(self, err, "migrate to version 7");
    }
    bool has[2];
    static const char *const names[] = {"activities", "events"};
    for (int i = 0; i < 2; i++) {
        sqlite3_bind_text(st, 1, names[i], -1, SQLITE_STATIC);
        has[i] = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    char sql[4096];
    int rc = HO_OK;
    if (has[0]) {
        snprintf(sql, sizeof sql,
                 S_ACTIVITIES_V7
                 "INSERT INTO activities_v7 (id, lead_id, event_key, type_key, occurred_at, url_key,"
                 " path_key, campaign, asset, source_key) SELECT id, lead_id,"
                 " ho_event_key(event_id), ho_type_key(type), occurred_at, ho_url_key(url),"
                 " ho_path_key(url, path), campaign, asset, ho_source_key(source_system)"
                 " FROM activities ORDER BY id;"
                 "DROP TABLE activities;"
                 "ALTER TABLE activities_v7 RENAME TO activities;"
                 "CREATE INDEX activities_lead ON activities(lead_id, occurred_at);",
                 "activities_v7");
        rc = s_exec(self, sql, err);
    }
    if (rc == HO_OK && has[1]) {
        rc = s_exec(self,
                    "CREATE TABLE events_v7 ("
                    " event_id BLOB PRIMARY KEY, type TEXT NOT NULL, applied_at INTEGER NOT NULL"
                    ") WITHOUT ROWID;"
                    "INSERT INTO events_v7 (event_id, type, applied_at) SELECT"
                    " ho_event_key(event_id), type, applied_at FROM events ORDER BY 1;"
                    "DROP TABLE events;"
                    "ALTER TABLE events_v7 RENAME TO events;",
                    err);
    }
    return rc;
}

/* lead_sources without UNIQUE(event_id): SQLite drops a constraint only by copying the table
 * into a new one (rows keep their ids; the migration's SQL makes the lead_id index again).
 * Only the columns the old table has are copied: a hand-made older database may lack some. */
static int s_lead_sources_rebuild(s_db_t *self, ho_err_t *err)
{
    static const char *const cols[] = {
        "id",       "lead_id", "event_id", "source",     "source_record_id", "original_source",
        "campaign", "file",    "line",     "observed_at"};
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db,
                           "SELECT 1 FROM pragma_table_info('lead_sources') WHERE name = ?", -1,
                           &st, NULL) != SQLITE_OK) {
        return s_fail(self, err, "migrate lead_sources");
    }
    char list[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        sqlite3_bind_text(st, 1, cols[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "",
                                     cols[i]);
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (used == 0) {
        return ho_err_set(err, HO_ERR_VERSION, "schema_version",
                          "migrate: the database has no lead_sources table");
    }
    char sql[1024];
    snprintf(sql, sizeof sql,
             "CREATE TABLE lead_sources_v4 ("
             " id INTEGER PRIMARY KEY,"
             " lead_id INTEGER NOT NULL REFERENCES leads(id),"
             " event_id TEXT NOT NULL,"
             " source TEXT NOT NULL,"
             " source_record_id TEXT,"
             " original_source TEXT, campaign TEXT,"
             " file TEXT, line INTEGER,"
             " observed_at INTEGER NOT NULL);"
             "INSERT INTO lead_sources_v4 (%s) SELECT %s FROM lead_sources ORDER BY id;"
             "DROP TABLE lead_sources;"
             "ALTER TABLE lead_sources_v4 RENAME TO lead_sources;",
             list, list);
    return s_exec(self, sql, err);
}

/* activities without UNIQUE(event_id), rows keeping their ids, and its (lead_id,
 * occurred_at) index made again. Every column is from version 1. */
static int s_activities_rebuild(s_db_t *self, ho_err_t *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(
            self->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'activities'",
            -1, &st, NULL) != SQLITE_OK) {
        return s_fail(self, err, "migrate activities");
    }
    bool has = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (!has) {
        return HO_OK;
    }
    return s_exec(self,
                  "CREATE TABLE activities_v6 ("
                  " id INTEGER PRIMARY KEY,"
                  " lead_id INTEGER NOT NULL REFERENCES leads(id),"
                  " event_id TEXT NOT NULL,"
                  " type TEXT NOT NULL, occurred_at INTEGER NOT NULL,"
                  " url TEXT, path TEXT, campaign TEXT, asset TEXT, source_system TEXT);"
                  "INSERT INTO activities_v6 (id, lead_id, event_id, type, occurred_at, url, path,"
                  " campaign, asset, source_system) SELECT id, lead_id, event_id, type,"
                  " occurred_at, url, path, campaign, asset, source_system FROM activities"
                  " ORDER BY id;"
                  "DROP TABLE activities;"
                  "ALTER TABLE activities_v6 RENAME TO activities;"
                  "CREATE INDEX activities_lead ON activities(lead_id, occurred_at);",
                  err);
}

/* Whether every (table, column) of need[n] exists; -1 when that cannot be asked. */
static int s_has_columns(s_db_t *self, const char *const (*need)[2], size_t n)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?", -1, &st,
                           NULL) != SQLITE_OK) {
        return -1;
    }
    bool all = true;
    for (size_t i = 0; all && i < n; i++) {
        sqlite3_bind_text(st, 1, need[i][0], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, need[i][1], -1, SQLITE_STATIC);
        all = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return all;
}

/* lead_facts, its backfill from history and its triggers, when the database has every
 * column they read; a hand-made older database that lacks one gets no roll-up (a reader then
 * computes from the raw tables, as it does on a file not migrated yet). */
static int s_facts_build(s_db_t *self, ho_err_t *err)
{
    static const char *const need[][2] = {
        {"leads", "created_at"},      {"leads", "source_channel"},
        {"leads", "original_source"}, {"leads", "original_campaign"},
        {"stage_history", "lead_id"}, {"stage_history", "to_stage"},
        {"stage_history", "at"},      {"stage_history", "kind"},
        {"scores", "lead_id"},        {"scores", "at"},
        {"scores", "score"},          {"scores", "grade"},
        {"scores", "quadrant"},       {"scores", "fit"},
        {"scores", "interest"},
    };
    int all = s_has_columns(self, need, sizeof need / sizeof need[0]);
    if (all < 0) {
        return s_fail(self, err, "migrate to version 8");
    }
    return all ? s_exec(self, S_FACTS_TABLE S_FACTS_BACKFILL S_FACTS_TRIGGERS, err) : HO_OK;
}

/* stage_history_lead as a covering index of what is read of a lead's transitions (version 9),
 * when the table has those columns. */
static int s_v9_stage_index(s_db_t *self, ho_err_t *err)
{
    static const char *const need[][2] = {
        {"stage_history", "lead_id"}, {"stage_history", "at"},   {"stage_history", "id"},
        {"stage_history", "kind"},    {"stage_history", "to_stage"},
    };
    int has = s_has_columns(self, need, sizeof need / sizeof need[0]);
    if (has < 0) {
        return s_fail(self, err, "migrate to version 9");
    }
    return has ? s_exec(self,
                        "DROP INDEX IF EXISTS stage_history_lead;"
                        "CREATE INDEX stage_history_lead ON stage_history(lead_id, at, id, kind,"
                        " to_stage);",
                        err)
               : HO_OK;
}

/* Version 10: activities_lead UNIQUE (lead_id, occurred_at, event_key). Every stored
 * activity's event id was claimed once in events, so no two rows share an event_key and the
 * index builds on any store this build migrated. */
static int s_v10_activity_key(s_db_t *self, ho_err_t *err)
{
    static const char *const need[][2] = {
        {"activities", "lead_id"}, {"activities", "occurred_at"}, {"activities", "event_key"}};
    int has = s_has_columns(self, need, sizeof need / sizeof need[0]);
    if (has < 0) {
        return s_fail(self, err, "migrate to version 10");
    }
    return has ? s_exec(self,
                        "DROP INDEX IF EXISTS activities_lead;"
                        "CREATE UNIQUE INDEX activities_lead ON activities(lead_id, occurred_at,"
                        " event_key);",
                        err)
               : HO_OK;
}

static int s_migrate(s_db_t *self, const char *path, const ho_store_opts_t *opts,
                     ho_err_t *err)
{
    /* IMMEDIATE: two processes opening a fresh file at once must not both migrate. */
    if (s_exec(self, "BEGIN IMMEDIATE", err) != HO_OK) {
        return HO_ERR_IO;
    }
    int version = s_read_version(self);
    if (version < 0) {
        s_exec(self, "ROLLBACK", NULL);
        return s_fail(self, err, "read schema_version");
    }
    if (version > S_N_MIGRATIONS) {
        s_exec(self, "ROLLBACK", NULL);
        return ho_err_set(err, HO_ERR_VERSION, "schema_version",
                          "%s: schema version %d is newer than this build knows (%d)", path,
                          version, S_N_MIGRATIONS);
    }
    if (version >= 1 && version < S_N_MIGRATIONS && opts->on_migrate) {
        opts->on_migrate(version, S_N_MIGRATIONS, opts->migrate_arg);
    }
    for (int v = version; v < S_N_MIGRATIONS; v++) {
        if ((v + 1 == S_V_LEAD_SOURCES_REBUILD && s_lead_sources_rebuild(self, err) != HO_OK) ||
            (v + 1 == S_V_COLUMNS_5 && s_v5_columns(self, err) != HO_OK) ||
            (v + 1 == S_V_ACTIVITIES_REBUILD && s_activities_rebuild(self, err) != HO_OK) ||
            (v + 1 == S_V_COMPACT && s_v7_compact(self, err) != HO_OK) ||
            (v + 1 == S_V_FACTS && s_facts_build(self, err) != HO_OK) ||
            (v + 1 == S_V_STAGE_INDEX && s_v9_stage_index(self, err) != HO_OK) ||
            (v + 1 == S_V_ACTIVITY_KEY && s_v10_activity_key(self, err) != HO_OK) ||
            s_exec(self, s_migrations[v], err) != HO_OK) {
            s_exec(self, "ROLLBACK", NULL);
            return HO_ERR_IO;
        }
        char sql[96];
        snprintf(sql, sizeof sql,
                 v == 0 ? "INSERT INTO schema_version (version) VALUES (%d)"
                        : "UPDATE schema_version SET version = %d",
                 v + 1);
        if (s_exec(self, sql, err) != HO_OK) {
            s_exec(self, "ROLLBACK", NULL);
            return HO_ERR_IO;
        }
    }
    if (s_exec(self, "COMMIT", err) != HO_OK) {
        s_exec(self, "ROLLBACK", NULL);
        return HO_ERR_IO;
    }
    self->version = S_N_MIGRATIONS;
    return HO_OK;
}

/* ---- the background checkpointer ----
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses wal_autocheckpoint
 * pages: the writer copies the WAL into the database file and fsyncs both before its commit
 * returns. A writer opened here turns that off and registers a WAL hook instead, which wakes
 * a thread with a connection of its own to run the same PASSIVE checkpoint beside the
 * writer (WAL mode allows that; a checkpoint changes no content, so PRAGMA data_version and
 * readers are unaffected). Durability is unchanged: with synchronous=NORMAL the WAL is
 * synced at checkpoints, wherever they run. If the thread falls far behind (a reader keeps
 * old frames alive), the writer checkpoints itself again, as SQLite would. */
#define S_CKPT_FRAMES 1000 /* SQLite's default wal_autocheckpoint */
#define S_CKPT_BEHIND (16 * S_CKPT_FRAMES)

static void *s_ckpt_main(void *arg)
{
    s_db_t *self = arg;
    pthread_mutex_lock(&self->ckpt_mu);
    for (;;) {
        while (!self->ckpt_want && !self->ckpt_stop) {
            pthread_cond_wait(&self->ckpt_cv, &self->ckpt_mu);
        }
        if (self->ckpt_stop) {
            break;
        }
        self->ckpt_want = false;
        pthread_mutex_unlock(&self->ckpt_mu);
        int copied = 0;
        int rc = sqlite3_wal_checkpoint_v2(self->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
                                           &copied);
        pthread_mutex_lock(&self->ckpt_mu);
        self->ckpt_done += rc == SQLITE_OK && copied > 0;
    }
    pthread_mutex_unlock(&self->ckpt_mu);
    return NULL;
}

static int s_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    s_db_t *self = arg;
    if (frames >= S_CKPT_BEHIND) {
        (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    } else if (frames >= S_CKPT_FRAMES) {
        pthread_mutex_lock(&self->ckpt_mu);
        self->ckpt_want = true;
        pthread_cond_signal(&self->ckpt_cv);
        pthread_mutex_unlock(&self->ckpt_mu);
    }
    return SQLITE_OK;
}

/* Start the checkpointer of a writer; without it (no second connection, no thread) the
 * writer keeps SQLite's automatic checkpoint. */
static void s_ckpt_start(s_db_t *self, const char *path)
{
    /* one read first: a connection that has never read has not opened the WAL, and its
     * checkpoint copies nothing (and says SQLITE_OK) */
    if (sqlite3_open_v2(path, &self->ckpt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(self->ckpt_db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) !=
            SQLITE_OK) {
        sqlite3_close(self->ckpt_db);
        self->ckpt_db = NULL;
        return;
    }
    pthread_mutex_init(&self->ckpt_mu, NULL);
    pthread_cond_init(&self->ckpt_cv, NULL);
    if (pthread_create(&self->ckpt_th, NULL, s_ckpt_main, self) != 0) {
        pthread_cond_destroy(&self->ckpt_cv);
        pthread_mutex_destroy(&self->ckpt_mu);
        sqlite3_close(self->ckpt_db);
        self->ckpt_db = NULL;
        return;
    }
    self->ckpt_on = true;
    self->ckpt_pid = getpid();
    sqlite3_wal_hook(self->db, s_wal_hook, self); /* replaces the automatic checkpoint */
}

static long s_background_checkpoints(void *db)
{
    s_db_t *self = db;
    if (!self->ckpt_on) {
        return -1;
    }
    pthread_mutex_lock(&self->ckpt_mu);
    long n = self->ckpt_done;
    pthread_mutex_unlock(&self->ckpt_mu);
    return n;
}

static void s_ckpt_stop(s_db_t *self)
{
    if (!self->ckpt_on) {
        return;
    }
    self->ckpt_on = false;
    sqlite3_wal_hook(self->db, NULL, NULL);
    if (self->ckpt_pid != getpid()) {
        return; /* a forked child: the thread is its parent's */
    }
    pthread_mutex_lock(&self->ckpt_mu);
    self->ckpt_stop = true;
    pthread_cond_signal(&self->ckpt_cv);
    pthread_mutex_unlock(&self->ckpt_mu);
    pthread_join(self->ckpt_th, NULL);
    pthread_cond_destroy(&self->ckpt_cv);
    pthread_mutex_destroy(&self->ckpt_mu);
    sqlite3_close(self->ckpt_db); /* the writer's close checkpoints the rest */
    self->ckpt_db = NULL;
}

static void s_close(void **db_p)
{
    if (!db_p || !*db_p) {
        return;
    }
    s_db_t *self = *db_p;
    s_ckpt_stop(self);
    sqlite3_finalize(self->claim);
    sqlite3_finalize(self->seen);
    sqlite3_finalize(self->score_seen);
    sqlite3_finalize(self->get_email);
    sqlite3_finalize(self->get_id);
    sqlite3_finalize(self->update);
    sqlite3_finalize(self->sp_save);
    sqlite3_finalize(self->sp_release);
    sqlite3_finalize(self->sp_undo);
    for (int i = 0; i < S_UPD_CACHE; i++) {
        sqlite3_finalize(self->upd[i].st);
        sqlite3_finalize(self->ins[i].st);
    }
    ho_lead_clear(&self->last);
    s_known_drop(self);
    sqlite3_finalize(self->dv);
    for (int i = 0; i < HO_T__COUNT; i++) {
        sqlite3_finalize(self->add[i]);
    }
    for (int i = 0; i < HO_Q__COUNT; i++) {
        sqlite3_finalize(self->query[i]);
    }
    sqlite3_close(self->db);
    free(self);
    *db_p = NULL;
}

/* SQLite's memory statistics (sqlite3_memory_used, soft heap limit: nothing in handoff uses
 * them) take a global mutex around every allocation; this build of SQLite has no lookaside,
 * so every cursor and record goes through it: ~4k instructions of a ~104k insert upsert
 * (callgrind). The setting is process-wide and only possible before SQLite initializes: the
 * first store opened in a process turns it off; when something else initialized SQLite
 * first, sqlite3_config refuses (SQLITE_MISUSE) and nothing changes. Worker processes are
 * single-threaded where SQLite is concerned (sqlite3_config is not thread-safe). */
static void s_config_once(void)
{
    static bool done;
    if (!done) {
        done = true;
        (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    }
}

/* The name of an SQLite result code an operator can search for (SQLITE_CORRUPT, ...). */
static const char *s_code_name(int rc)
{
    switch (rc) {
    case SQLITE_IOERR_READ:
        return "SQLITE_IOERR_READ";
    case SQLITE_IOERR_SHORT_READ:
        return "SQLITE_IOERR_SHORT_READ";
    case SQLITE_IOERR_WRITE:
        return "SQLITE_IOERR_WRITE";
    case SQLITE_IOERR_FSYNC:
        return "SQLITE_IOERR_FSYNC";
    default:
        break;
    }
    switch (rc & 0xff) {
    case SQLITE_CORRUPT:
        return "SQLITE_CORRUPT";
    case SQLITE_NOTADB:
        return "SQLITE_NOTADB";
    case SQLITE_IOERR:
        return "SQLITE_IOERR";
    case SQLITE_FULL:
        return "SQLITE_FULL";
    case SQLITE_CANTOPEN:
        return "SQLITE_CANTOPEN";
    case SQLITE_READONLY:
        return "SQLITE_READONLY";
    case SQLITE_BUSY:
        return "SQLITE_BUSY";
    default:
        return "SQLITE_ERROR";
    }
}

/* PRAGMA quick_check before the store writes anything (issue 14 item 7): on a corrupt
 * file every later write fails one by one and the records end in the quarantine as
 * retries_exhausted under a vague warning; refusing to start says what is wrong, once. */
static int s_quick_check(s_db_t *self, const char *path, ho_err_t *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(self->db, "PRAGMA quick_check(5)", -1, &st, NULL);
    char first[300] = "";
    int rows = 0;
    bool ok = false;
    while ((rc == SQLITE_OK || rc == SQLITE_ROW) && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        ok = rows == 0 && t && strcmp(t, "ok") == 0;
        if (rows++ == 0) {
            snprintf(first, sizeof first, "%s", t ? t : "?");
        }
    }
    if (rc == SQLITE_DONE && ok && rows == 1) {
        sqlite3_finalize(st);
        return HO_OK;
    }
    int code = rc == SQLITE_DONE ? SQLITE_CORRUPT : sqlite3_extended_errcode(self->db);
    if (rc != SQLITE_DONE) {
        snprintf(first, sizeof first, "%s", sqlite3_errmsg(self->db));
    }
    sqlite3_finalize(st);
    return ho_err_set(err, HO_ERR_IO, "",
                      "%s: %s: the database failed PRAGMA quick_check (%s%s); the store will "
                      "not write to it. Restore it from a backup, or move it away and re-run "
                      "the imports",
                      path, s_code_name(code), first, rows > 1 ? ", ..." : "");
}

static int s_open(const char *path, const ho_store_opts_t *opts, void **db_p, ho_err_t *err)
{
    bool readonly = opts->readonly;
    s_config_once();
    s_db_t *self = calloc(1, sizeof *self);
    if (!self) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    self->readonly = readonly;
    ho_lead_init(&self->last);
    struct stat st;
    if (readonly && stat(path, &st) != 0) {
        free(self);
        return ho_err_set(err, HO_ERR_NOT_FOUND, "", "%s: no database here (has the store run?)",
                          path);
    }
    int flags = readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    int orc = sqlite3_open_v2(path, &self->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (orc != SQLITE_OK) {
        ho_err_set(err, HO_ERR_IO, "", "%s: cannot open: %s: %s", path, s_code_name(orc),
                   self->db ? sqlite3_errmsg(self->db) : "out of memory");
        void *p = self;
        s_close(&p);
        return HO_ERR_IO;
    }
    sqlite3_busy_timeout(self->db, 5000);
    int rc = HO_OK;
    if (!readonly) {
        rc = s_quick_check(self, path, err);
    }
    if (!readonly && rc == HO_OK) {
        /* WAL lets the report worker and `handoff lead` read while the store writes;
         * NORMAL sync is durable across process crashes. A power loss can lose the commits
         * since the last WAL sync, and nothing replays them: the broker journal forgets a
         * request once the store has answered it. Re-running the imports restores them
         * (event ids), or store.yaml `durability: full` syncs every commit (s_synchronous;
         * docs/store-schema.md, "Write path and durability"). */
        rc = s_exec(self,
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                    " PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
                    " PRAGMA cache_size=-65536;", /* HO_STORE_CACHE_MB; cache_mb sets it */
                    err);
        if (rc == HO_OK) {
            rc = s_migrate(self, path, opts, err);
        }
        if (rc == HO_OK) {
            s_ckpt_start(self, path);
        }
    } else if (readonly) {
        self->version = s_read_version(self);
        if (self->version <= 0) {
            rc = ho_err_set(err, HO_ERR_VERSION, "schema_version",
                            "%s: not a handoff store (no schema_version)", path);
        } else if (self->version > S_N_MIGRATIONS) {
            rc = ho_err_set(err, HO_ERR_VERSION, "schema_version",
                            "%s: schema version %d is newer than this build knows (%d)", path,
                            self->version, S_N_MIGRATIONS);
        }
    }
    if (rc != HO_OK) {
        void *p = self;
        s_close(&p);
        return rc;
    }
    *db_p = self;
    return HO_OK;
}

static int s_version(void *db)
{
    return ((s_db_t *)db)->version;
}

/* Run a statement without parameters or rows, prepared on first use and kept. */
static int s_step_once(s_db_t *self, sqlite3_stmt **stp, const char *sql, ho_err_t *err)
{
    if (s_prepare(self, stp, sql, err) != HO_OK) {
        return HO_ERR_IO;
    }
    int rc = sqlite3_step(*stp);
    sqlite3_reset(*stp);
    if (rc != SQLITE_DONE) {
        return ho_err_set(err, HO_ERR_IO, "", "sqlite: %s: %s", sql, sqlite3_errmsg(self->db));
    }
    return HO_OK;
}

/* ---- the known-email set (s_db_t.known) ---- */
static uint64_t s_email_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return h ? h : 1; /* 0 marks an empty slot */
}

static bool s_known_has(const s_db_t *self, uint64_t h)
{
    if (!self->known_cap) {
        return false;
    }
    for (size_t i = h & (self->known_cap - 1);; i = (i + 1) & (self->known_cap - 1)) {
        if (self->known[i] == h) {
            return true;
        }
        if (!self->known[i]) {
            return false;
        }
    }
}

static void s_known_drop(s_db_t *self)
{
    free(self->known);
    self->known = NULL;
    self->known_cap = self->known_n = 0;
    self->known_ok = false;
}

/* Add an email's hash; false (set dropped, lookups query again) when out of memory. */
static bool s_known_add(s_db_t *self, const char *email)
{
    if (!self->known_ok || !email) {
        return self->known_ok;
    }
    if (2 * (self->known_n + 1) > self->known_cap) {
        size_t cap = self->known_cap ? 2 * self->known_cap : 1024;
        uint64_t *t = calloc(cap, sizeof *t), *old = self->known;
        if (!t) {
            s_known_drop(self);
            return false;
        }
        size_t oldcap = self->known_cap;
        self->known = t;
        self->known_cap = cap;
        for (size_t i = 0; i < oldcap; i++) {
            if (old[i]) {
                size_t j = old[i] & (cap - 1);
                while (t[j]) {
                    j = (j + 1) & (cap - 1);
                }
                t[j] = old[i];
            }
        }
        free(old);
    }
    uint64_t h = s_email_hash(email);
    size_t i = h & (self->known_cap - 1);
    while (self->known[i] && self->known[i] != h) {
        i = (i + 1) & (self->known_cap - 1);
    }
    if (!self->known[i]) {
        self->known[i] = h;
        self->known_n++;
    }
    return true;
}

/* Read every stored email into the set (inside the writer's transaction). */
static bool s_known_load(s_db_t *self)
{
    s_known_drop(self);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db, "SELECT email FROM leads", -1, &st, NULL) != SQLITE_OK) {
        return false;
    }
    self->known_ok = true;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!s_known_add(self, (const char *)sqlite3_column_text(st, 0))) {
            break;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        s_known_drop(self);
    }
    return self->known_ok;
}

/* After BEGIN IMMEDIATE: keep the set only when no other connection committed since. */
static void s_known_check(s_db_t *self)
{
    int64_t v = -1;
    if (self->dv || sqlite3_prepare_v3(self->db, "PRAGMA data_version", -1,
                                       SQLITE_PREPARE_PERSISTENT, &self->dv, NULL) == SQLITE_OK) {
        if (sqlite3_step(self->dv) == SQLITE_ROW) {
            v = sqlite3_column_int64(self->dv, 0);
        }
        sqlite3_reset(self->dv);
    }
    if (v < 0 || v != self->data_version) {
        s_known_drop(self);
    }
    self->data_version = v;
}

static int s_tx(void *db, ho_tx_t op, ho_err_t *err)
{
    s_db_t *self = db;
    switch (op) {
    case HO_TX_BEGIN: {
        self->save_depth = 0;
        int rc = s_exec(self, "BEGIN IMMEDIATE", err);
        if (rc == HO_OK && !self->readonly) {
            s_known_check(self);
            self->in_tx = true;
        }
        return rc;
    }
    case HO_TX_COMMIT:
        self->in_tx = false;
        return s_exec(self, "COMMIT", err);
    case HO_TX_ROLLBACK:
        self->in_tx = false;
        self->save_depth = 0;
        ho_lead_clear(&self->last);
        return s_exec(self, "ROLLBACK", err);
    case HO_TX_SAVE:
        return s_step_once(self, &self->sp_save, "SAVEPOINT ho_msg", err);
    case HO_TX_RELEASE:
        return s_step_once(self, &self->sp_release, "RELEASE ho_msg", err);
    case HO_TX_UNDO: {
        ho_lead_clear(&self->last);
        int rc = s_step_once(self, &self->sp_undo, "ROLLBACK TO ho_msg", err);
        if (rc == HO_OK) {
            rc = s_step_once(self, &self->sp_release, "RELEASE ho_msg", err);
        }
        return rc;
    }
    }
    return HO_ERR_STATE;
}

static void s_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s) {
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, i);
    }
}

/* events.type as a one-letter code for the five types the pipeline claims per message (the
 * column is only ever counted; "activity.normalized" in full was ~18 of an events row's ~76
 * bytes, and there is an events row per activity); any other type is kept in full. */
static const char *s_event_code(const char *type)
{
    static const char *const types[][2] = {{"activity.normalized", "A"}, {"lead.normalized", "L"},
                                           {"lead.scored", "S"},         {"lead.assigned", "G"},
                                           {"lead.outcome", "O"}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(type, types[i][0]) == 0) {
            return types[i][1];
        }
    }
    return type;
}

static int s_event_claim(void *db, const char *event_id, const char *type, int64_t at,
                         ho_err_t *err)
{
    s_db_t *self = db;
    /* Statements of the write path bind every parameter before each step, so they skip
     * s_prepare's reset + clear_bindings of a kept statement (a ~1% of an upsert). */
    if (!self->claim &&
        s_prepare(self, &self->claim,
                  "INSERT OR IGNORE INTO events (event_id, type, applied_at) VALUES (?, ?, ?)",
                  err) != HO_OK) {
        return HO_ERR_IO;
    }
    s_bind_event_key(self->claim, 1, event_id); /* version 7: compact when it can be */
    s_bind_text(self->claim, 2, s_event_code(type));
    sqlite3_bind_int64(self->claim, 3, at);
    int rc = sqlite3_step(self->claim);
    sqlite3_reset(self->claim);
    if (rc != SQLITE_DONE) {
        return s_fail(self, err, "record event");
    }
    return sqlite3_changes(self->db) > 0 ? 1 : 0;
}

/* Step a kept one-row lookup with its key bound: 1 a row, 0 none. */
static int s_seen_step(s_db_t *self, sqlite3_stmt *st, ho_err_t *err)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return s_fail(self, err, "look up event");
    }
    return rc == SQLITE_ROW ? 1 : 0;
}

static int s_event_seen(void *db, const char *event_id, ho_err_t *err)
{
    s_db_t *self = db;
    if (!self->seen &&
        s_prepare(self, &self->seen, "SELECT 1 FROM events WHERE event_id = ?", err) != HO_OK) {
        return HO_ERR_IO;
    }
    s_bind_event_key(self->seen, 1, event_id);
    return s_seen_step(self, self->seen, err);
}

static int s_score_seen(void *db, const char *event_id, ho_err_t *err)
{
    s_db_t *self = db;
    if (!self->score_seen &&
        s_prepare(self, &self->score_seen, "SELECT 1 FROM scores WHERE event_id = ?", err) !=
            HO_OK) {
        return HO_ERR_IO;
    }
    s_bind_text(self->score_seen, 1, event_id);
    return s_seen_step(self, self->score_seen, err);
}

/* ---- leads ---- */
static char *s_dup_col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? strdup((const char *)t) : NULL;
}

/* The columns in mask of src into the snapshot dst (the others already hold src's values):
 * after a merge's UPDATE a handful of columns, not a copy of every string. */
static int s_lead_copy_cols(ho_lead_t *dst, const ho_lead_t *src, uint64_t mask)
{
    for (size_t i = 0; i < S_N_LEAD_COLS; i++) {
        if (!(mask & (1ULL << i))) {
            continue;
        }
        const char *from = (const char *)src + s_lead_cols[i].off;
        char *to = (char *)dst + s_lead_cols[i].off;
        switch (s_lead_cols[i].type) {
        case C_S: {
            const char *v = *(char *const *)from;
            char *copy = NULL;
            if (v && !(copy = strdup(v))) {
                ho_lead_clear(dst);
                return HO_ERR_NOMEM;
            }
            free(*(char **)to);
            *(char **)to = copy;
            break;
        }
        case C_I:
            *(int64_t *)to = *(const int64_t *)from;
            break;
        case C_D:
            *(double *)to = *(const double *)from;
            break;
        case C_B:
            *(int *)to = *(const int *)from;
            break;
        }
    }
    return HO_OK;
}

/* Copy every column of src into dst (dst cleared first). HO_ERR_NOMEM leaves dst empty. */
static int s_lead_copy(ho_lead_t *dst, const ho_lead_t *src)
{
    ho_lead_clear(dst);
    dst->id = src->id;
    return s_lead_copy_cols(dst, src, UINT64_MAX);
}

/* Bit i set when column i of a and b differ (NULL and "" differ, as they do when bound). */
static uint64_t s_lead_diff(const ho_lead_t *a, const ho_lead_t *b)
{
    uint64_t mask = 0;
    for (size_t i = 0; i < S_N_LEAD_COLS; i++) {
        const char *pa = (const char *)a + s_lead_cols[i].off;
        const char *pb = (const char *)b + s_lead_cols[i].off;
        bool same = true;
        switch (s_lead_cols[i].type) {
        case C_S: {
            const char *x = *(char *const *)pa, *y = *(char *const *)pb;
            same = (!x || !y) ? x == y : strcmp(x, y) == 0;
            break;
        }
        case C_I:
            same = *(const int64_t *)pa == *(const int64_t *)pb;
            break;
        case C_D: {
            double x = *(const double *)pa, y = *(const double *)pb;
            same = (isnan(x) && isnan(y)) || memcmp(&x, &y, sizeof x) == 0;
            break;
        }
        case C_B:
            same = (*(const int *)pa != 0) == (*(const int *)pb != 0);
            break;
        }
        if (!same) {
            mask |= 1ULL << i;
        }
    }
    return mask;
}

/* The schema version that added a lead column (1 = the first schema). */
static int s_lead_col_since(const char *name)
{
    if (strcmp(name, "crm_stage") == 0) {
        return 5;
    }
    return strcmp(name, "score_seq") == 0 ? 3 : (strcmp(name, "field_sources_json") == 0 ? 2 : 1);
}

static int s_lead_get(void *db, const char *email, int64_t id, ho_lead_t *lead, ho_err_t *err)
{
    s_db_t *self = db;
    sqlite3_stmt **stp = email ? &self->get_email : &self->get_id;
    if (!*stp) {
        char sql[1024] = "SELECT id";
        for (size_t i = 0; i < S_N_LEAD_COLS; i++) {
            /* a read-only opener (`handoff lead`) of a database the store has not migrated
             * yet: a column of a later version reads as NULL */
            strcat(sql, ", ");
            strcat(sql, self->version < s_lead_col_since(s_lead_cols[i].name)
                            ? "NULL"
                            : s_lead_cols[i].name);
        }
        strcat(sql, email ? " FROM leads WHERE email = ?" : " FROM leads WHERE id = ?");
        if (s_prepare(self, stp, sql, err) != HO_OK) {
            return HO_ERR_IO;
        }
    }
    if (email && self->in_tx && (self->known_ok || s_known_load(self)) &&
        !s_known_has(self, s_email_hash(email))) {
        return HO_ERR_NOT_FOUND;
    }
    sqlite3_stmt *st = *stp;
    if (email) {
        s_bind_text(st, 1, email);
    } else {
        sqlite3_bind_int64(st, 1, id);
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return HO_ERR_NOT_FOUND;
    }
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return s_fail(self, err, "read lead");
    }
    ho_lead_clear(lead);
    lead->id = sqlite3_column_int64(st, 0);
    for (size_t i = 0; i < S_N_LEAD_COLS; i++) {
        char *base = (char *)lead + s_lead_cols[i].off;
        int c = (int)i + 1;
        bool null = sqlite3_column_type(st, c) == SQLITE_NULL;
        switch (s_lead_cols[i].type) {
        case C_S:
            *(char **)base = s_dup_col(st, c);
            break;
        case C_I:
            *(int64_t *)base = null ? HO_NULL_INT : sqlite3_column_int64(st, c);
            break;
        case C_D:
            *(double *)base = null ? NAN : sqlite3_column_double(st, c);
            break;
        case C_B:
            *(int *)base = sqlite3_column_int(st, c);
            break;
        }
    }
    sqlite3_reset(st);
    if (!self->readonly && s_lead_copy(&self->last, lead) != HO_OK) {
        ho_lead_clear(&self->last); /* no snapshot: the next put writes every column */
    }
    return HO_OK;
}

static void s_bind_lead_mask(sqlite3_stmt *st, const ho_lead_t *lead, uint64_t mask)
{
    for (size_t i = 0; i < S_N_LEAD_COLS; i++) {
        if (!(mask & (1ULL << i))) {
            continue;
        }
        const char *base = (const char *)lead + s_lead_cols[i].off;
        int c = (int)i + 1;
        switch (s_lead_cols[i].type) {
        case C_S:
            s_bind_text(st, c, *(char *const *)base);
            break;
        case C_I: {
            int64_t v = *(const int64_t *)base;
            if (v == HO_NULL_INT) {
                sqlite3_bind_null(st, c);
            } else {
                sqlite3_bind_int64(st, c, v);
            }
            break;
        }
        case C_D: {
            double v = *(const double *)base;
            if (isnan(v)) {
                sqlite3_bind_null(st, c);
            } else {
                sqlite3_bind_double(st, c, v);
            }
            break;
        }
        case C_B:
            sqlite3_bind_int(st, c, *(const int *)base);
            break;
        }
    }
}

/* UPDATE of the columns in mask only (mask != 0, lead->id set). */
static void s_bind_lead(sqlite3_stmt *st, const ho_lead_t *lead)
{
    s_bind_lead_mask(st, lead, ~0ULL);
}

/* The kept statement of one shape (mask) of a cache of S_UPD_CACHE, or NULL. */
static sqlite3_stmt *s_shape_find(const s_upd_t *cache, uint64_t mask)
{
    for (int i = 0; i < S_UPD_CACHE; i++) {
        if (cache[i].st && cache[i].mask == mask) {
            return cache[i].st;
        }
    }
    return NULL;
}

/* Prepare sql as the statement of shape mask in the cache's next slot (round robin). */
static sqlite3_stmt *s_shape_put(s_db_t *self, s_upd_t *cache, unsigned *next, uint64_t mask,
                                 const char *sql, const char *what, ho_err_t *err)
{
    s_upd_t *slot = &cache[(*next)++ % S_UPD_CACHE];
    sqlite3_finalize(slot->st);
    slot->st = NULL;
    if (sqlite3_prepare_v3(self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &slot->st, NULL) !=
        SQLITE_OK) {
        s_fail(self, err, what);
        return NULL;
    }
    slot->mask = mask;
    return slot->st;
}

static int s_lead_update_some(s_db_t *self, const ho_lead_t *lead, uint64_t mask, ho_err_t *err)
{
    if (!self->indexed_cols) {
        self->indexed_cols = s_cols_mask(s_indexed_names);
    }
    mask |= S_ALL_COLS & ~self->indexed_cols;
    sqlite3_stmt *st = s_shape_find(self->upd, mask);
    if (!st) {
        char sql[2048];
        size_t used = (size_t)snprintf(sql, sizeof sql, "UPDATE leads SET ");
        int n = 0;
        for (size_t i = 0; i < S_N_LEAD_COLS; i++) {
            if (mask & (1ULL << i)) {
                used += (size_t)snprintf(sql + used, sizeof sql - used, "%s%s = ?%zu",
                                         n++ ? ", " : "", s_lead_cols[i].name, i + 1);
            }
        }
        snprintf(sql + used, sizeof sql - used, " WHERE id = ?%zu", S_N_LEAD_COLS + 1);
        st = s_shape_put(self, self->upd, &self->upd_next, mask, sql, "prepare update lead", err);
        if (!st) {
            return HO_ERR_IO;
        }
    }
    /* ?N is the column's number in s_lead_cols, as in the full statement */
    s_bind_lead_mask(st, lead, mask);
    sqlite3_bind_int64(st, (int)S_N_LEAD_COLS + 1, lead->id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? HO_OK : s_fail(self, err, "update lead");
}

/* Bit i set when column i of lead is not SQL NULL. */
static uint64_t s_lead_nonnull(const ho_lead_t *lead)
{
    uint64_t mask = 0;
    for (size_t i = 0; i < S_N_LEAD_COLS; i++) {
        const char *p = (const char *)lead + s_lead_cols[i].off;
        bool null = false;
        switch (s_lead_cols[i].type) {
        case C_S:
            null = *(char *const *)p == NULL;
            break;
        case C_I:
            null = *(const int64_t *)p == HO_NULL_INT;
            break;
        case C_D:
            null = isnan(*(const double *)p);
            break;
        case C_B:
            break;
        }
        if (!null) {
            mask |= 1ULL << i;
        }
    }
    return mask;
}

/* INSERT of a new lead naming every column except the "late" ones it does not have: a new
 * lead from a record has no score, owner or MQL times yet (11 columns not bound), and an
 * omitted column is NULL exactly as a bound NULL is (every column with a DEFAULT is NOT NULL,
 * so never omitted). The profile columns are always named, whether the record had them or
 * not, so real records with their varying blanks share one statement. */
static int s_lead_insert(s_db_t *self, ho_lead_t *lead, ho_err_t *err)
{
    if (!self->late_cols) {
        self->late_cols = s_cols_mask(s_late_names);
    }
    uint64_t mask = s_lead_nonnull(lead) | (S_ALL_COLS & ~self->late_cols);
    sqlite3_stmt *st = s_shape_find(self->ins, mask);
    if (!st) {
        char sql[2048];
        size_t used = (size_t)snprintf(sql, sizeof sql, "INSERT INTO leads (");
        int n = 0;
        for (size_t i = 0; i < S_N_LEAD_COLS; i++) {
            if (mask & (1ULL << i)) {
                used += (size_t)snprintf(sql + used, sizeof sql - used, "%s%s", n++ ? ", " : "",
                                         s_lead_cols[i].name);
            }
        }
        used += (size_t)snprintf(sql + used, sizeof sql - used, ") VALUES (");
        n = 0;
        for (size_t i = 0; i < S_N_LEAD_COLS; i++) {
            if (mask & (1ULL << i)) {
                used += (size_t)snprintf(sql + used, sizeof sql - used, "%s?%zu", n++ ? ", " : "",
                                         i + 1);
            }
        }
        snprintf(sql + used, sizeof sql - used, ")");
        st = s_shape_put(self, self->ins, &self->ins_next, mask, sql, "prepare insert lead", err);
        if (!st) {
            return HO_ERR_IO;
        }
    }
    /* ?N is the column's number in s_lead_cols */
    s_bind_lead_mask(st, lead, mask);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        return s_fail(self, err, "insert lead");
    }
    lead->id = sqlite3_last_insert_rowid(self->db);
    s_known_add(self, lead->email);
    /* No snapshot of a new row (copying its strings was ~5% of an insert upsert): what
     * changes a lead again reads it first (lead_get snapshots it); a put without that read
     * writes every column, as it would for any lead not last read. */
    ho_lead_clear(&self->last);
    return HO_OK;
}

static int s_lead_put(void *db, ho_lead_t *lead, ho_err_t *err)
{
    s_db_t *self = db;
    if (lead->id) {
        s_known_add(self, lead->email); /* an UPDATE may set another email */
    }
    if (lead->id && self->last.id == lead->id) {
        uint64_t mask = s_lead_diff(lead, &self->last);
        int rc = mask ? s_lead_update_some(self, lead, mask, err) : HO_OK;
        if (rc == HO_OK && mask && s_lead_copy_cols(&self->last, lead, mask) != HO_OK) {
            ho_lead_clear(&self->last);
        }
        if (rc != HO_OK) {
            ho_lead_clear(&self->last);
        }
        return rc;
    }
    if (!lead->id) {
        return s_lead_insert(self, lead, err);
    }
    sqlite3_stmt **stp = &self->update;
    if (!*stp) {
        char sql[2048];
        size_t used = (size_t)snprintf(sql, sizeof sql, "UPDATE leads SET ");
        for (size_t i = 0; i < S_N_LEAD_COLS; i++) {
            used += (size_t)snprintf(sql + used, sizeof sql - used, "%s%s = ?%zu", i ? ", " : "",
                                     s_lead_cols[i].name, i + 1);
        }
        snprintf(sql + used, sizeof sql - used, " WHERE id = ?%zu", S_N_LEAD_COLS + 1);
        if (s_prepare(self, stp, sql, err) != HO_OK) {
            return HO_ERR_IO;
        }
    }
    sqlite3_stmt *st = *stp;
    s_bind_lead(st, lead);
    sqlite3_bind_int64(st, (int)S_N_LEAD_COLS + 1, lead->id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        return s_fail(self, err, "update lead");
    }
    if (s_lead_copy(&self->last, lead) != HO_OK) {
        ho_lead_clear(&self->last);
    }
    return HO_OK;
}

/* ---- generic rows ---- */
typedef struct {
    char *p;
    size_t n, cap;
} s_buf_t;

static bool s_buf_put(s_buf_t *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->n + n + 1) {
            cap *= 2;
        }
        char *p = realloc(b->p, cap);
        if (!p) {
            return false;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return true;
}

/* An integer as json_dumps writes it ("%lld"), without snprintf (a tenth of a scores row). */
static bool s_buf_int(s_buf_t *b, json_int_t v)
{
    char tmp[24];
    size_t n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) {
        tmp[sizeof tmp - 1 - n++] = '-';
    }
    return s_buf_put(b, tmp + sizeof tmp - n, n);
}

/* The text json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) writes, for the values a score's
 * explanation holds (arrays, small objects, strings, integers, booleans): jansson's dump sorts
 * every object's keys through a callback writer and was ~32k instructions per scores row, a
 * quarter of a lead.scored. false: a value it does not write byte for byte as jansson does (a
 * real, a control character, a big object, deep nesting); the caller uses json_dumps. */
static bool s_dump_fast(s_buf_t *b, const json_t *v, int depth)
{
    if (depth > 8) {
        return false;
    }
    switch (json_typeof(v)) {
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v), from = 0;
        if (!s_buf_put(b, "\"", 1)) {
            return false;
        }
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c < 0x20) {
                return false;
            }
            if (c == '"' || c == '\\') {
                if (!s_buf_put(b, s + from, i - from) || !s_buf_put(b, "\\", 1)) {
                    return false;
                }
                from = i;
            }
        }
        return s_buf_put(b, s + from, n - from) && s_buf_put(b, "\"", 1);
    }
    case JSON_INTEGER:
        return s_buf_int(b, json_integer_value(v));
    case JSON_TRUE:
        return s_buf_put(b, "true", 4);
    case JSON_FALSE:
        return s_buf_put(b, "false", 5);
    case JSON_NULL:
        return s_buf_put(b, "null", 4);
    case JSON_ARRAY: {
        size_t i;
        const json_t *e;
        bool ok = s_buf_put(b, "[", 1);
        json_array_foreach(v, i, e)
        {
            ok = ok && (i == 0 || s_buf_put(b, ",", 1)) && s_dump_fast(b, e, depth + 1);
        }
        return ok && s_buf_put(b, "]", 1);
    }
    case JSON_OBJECT: {
        /* its members in key order (insertion sort: a handful of keys) */
        struct {
            const char *k;
            json_t *v;
        } m[16];
        size_t nk = 0, klen;
        const char *k;
        json_t *e;
        if (json_object_size(v) > sizeof m / sizeof m[0]) {
            return false;
        }
        json_object_keylen_foreach((json_t *)v, k, klen, e)
        {
            if (strlen(k) != klen) {
                return false; /* a key with a NUL byte */
            }
            size_t at = nk++;
            while (at > 0 && strcmp(m[at - 1].k, k) > 0) {
                m[at] = m[at - 1];
                at--;
            }
            m[at].k = k;
            m[at].v = e;
        }
        bool ok = s_buf_put(b, "{", 1);
        for (size_t i = 0; ok && i < nk; i++) {
            ok = (i == 0 || s_buf_put(b, ",", 1)) && s_buf_put(b, "\"", 1);
            for (const char *c = m[i].k; ok && *c; c++) {
                unsigned char uc = (unsigned char)*c;
                ok = uc >= 0x20 && uc != '"' && uc != '\\';
            }
            ok = ok && s_buf_put(b, m[i].k, strlen(m[i].k)) && s_buf_put(b, "\":", 2) &&
                 s_dump_fast(b, m[i].v, depth + 1);
        }
        return ok && s_buf_put(b, "}", 1);
    }
    default:
        return false; /* reals: jansson's own formatting */
    }
}

static void s_bind_json(sqlite3_stmt *st, int i, const json_t *v)
{
    if (!v || json_is_null(v)) {
        sqlite3_bind_null(st, i);
    } else if (json_is_string(v)) {
        /* the row outlives the step that reads the binding */
        sqlite3_bind_text(st, i, json_string_value(v), (int)json_string_length(v), SQLITE_STATIC);
    } else if (json_is_integer(v)) {
        sqlite3_bind_int64(st, i, json_integer_value(v));
    } else if (json_is_real(v)) {
        sqlite3_bind_double(st, i, json_real_value(v));
    } else if (json_is_boolean(v)) {
        sqlite3_bind_int(st, i, json_is_true(v));
    } else {
        s_buf_t b = {0};
        if (s_dump_fast(&b, v, 0) && b.p) {
            sqlite3_bind_text(st, i, b.p, (int)b.n, free);
            return;
        }
        free(b.p);
        char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
        if (text) {
            sqlite3_bind_text(st, i, text, -1, free);
        } else {
            sqlite3_bind_null(st, i);
        }
    }
}

static int s_ncols(const s_table_t *t)
{
    int n = 0;
    while (n < 16 && t->cols[n]) {
        n++;
    }
    return n;
}

static int s_add_prepare(s_db_t *self, ho_table_t table, ho_err_t *err);

static int s_row_add(void *db, ho_table_t table, const json_t *row, int64_t *id_p, ho_err_t *err)
{
    s_db_t *self = db;
    if ((int)table < 0 || table >= HO_T__COUNT) {
        return ho_err_set(err, HO_ERR_FIELD, "table", "unknown table %d", (int)table);
    }
    const s_table_t *t = &s_tables[table];
    int n = s_ncols(t);
    if (s_add_prepare(self, table, err) != HO_OK) {
        return HO_ERR_IO;
    }
    sqlite3_stmt *st = self->add[table];
    for (int i = 0; i < n; i++) {
        s_bind_json(st, i + 1, json_object_get(row, t->cols[i]));
    }
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        char what[64];
        snprintf(what, sizeof what, "insert into %s", t->table);
        return s_fail(self, err, what);
    }
    if (id_p) {
        *id_p = sqlite3_changes(self->db) > 0 ? sqlite3_last_insert_rowid(self->db) : 0;
    }
    return HO_OK;
}

/* The kept INSERT of a typed add (s_source_add, s_score_add, s_activity_add), or NULL. Each
 * binds every parameter before each step: no reset + clear_bindings of the kept statement
 * (s_add_prepare only prepares it once). */
static sqlite3_stmt *s_typed_add_stmt(s_db_t *self, ho_table_t table, ho_err_t *err)
{
    if (!self->add[table] && s_add_prepare(self, table, err) != HO_OK) {
        return NULL;
    }
    return self->add[table];
}

/* Step a typed add's INSERT and leave it ready for the next row. */
static int s_typed_add_step(s_db_t *self, sqlite3_stmt *st, const char *what, ho_err_t *err)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? HO_OK : s_fail(self, err, what);
}

static int s_source_add(void *db, const ho_source_row_t *row, ho_err_t *err)
{
    s_db_t *self = db;
    sqlite3_stmt *st = s_typed_add_stmt(self, HO_T_LEAD_SOURCES, err);
    if (!st) {
        return HO_ERR_IO;
    }
    /* the column order of s_tables[HO_T_LEAD_SOURCES] */
    sqlite3_bind_int64(st, 1, row->lead_id);
    s_bind_text(st, 2, row->event_id);
    s_bind_text(st, 3, row->source);
    s_bind_json(st, 4, row->source_record_id);
    s_bind_json(st, 5, row->original_source);
    s_bind_json(st, 6, row->campaign);
    s_bind_json(st, 7, row->file);
    s_bind_json(st, 8, row->line);
    sqlite3_bind_int64(st, 9, row->observed_at);
    return s_typed_add_step(self, st, "insert into lead_sources", err);
}

static int s_score_add(void *db, const ho_score_row_t *row, ho_err_t *err)
{
    s_db_t *self = db;
    sqlite3_stmt *st = s_typed_add_stmt(self, HO_T_SCORES, err);
    if (!st) {
        return HO_ERR_IO;
    }
    /* the column order of s_tables[HO_T_SCORES] */
    sqlite3_bind_int64(st, 1, row->lead_id);
    s_bind_text(st, 2, row->event_id);
    sqlite3_bind_int64(st, 3, row->at);
    s_bind_text(st, 4, row->model_version);
    sqlite3_bind_int64(st, 5, row->fit);
    sqlite3_bind_int64(st, 6, row->interest);
    sqlite3_bind_int64(st, 7, row->score);
    s_bind_json(st, 8, row->grade);
    s_bind_json(st, 9, row->quadrant);
    sqlite3_bind_int(st, 10, row->mql ? 1 : 0);
    s_bind_json(st, 11, row->explanation);
    int rc = s_typed_add_step(self, st, "insert into scores", err);
    return rc != HO_OK ? rc : sqlite3_changes(self->db) > 0 ? 1 : 0;
}

/* A JSON string's text when it has no NUL in it, else NULL. */
static const char *s_plain_text(const json_t *v)
{
    const char *s = json_string_value(v);
    return s && strlen(s) == json_string_length(v) ? s : NULL;
}

/* 1 = inserted, 0 = the lead already has this event at this time (version 10's UNIQUE
 * activities_lead: a redelivery), < 0 = error. The columns OR IGNORE would also skip for a
 * NULL are refused first, so 0 only ever means the same activity. */
static int s_activity_add(void *db, const ho_activity_row_t *row, ho_err_t *err)
{
    s_db_t *self = db;
    if (!row->event_id || !row->event_id[0] || !row->type) {
        return ho_err_set(err, HO_ERR_MISSING, !row->type ? "payload.type" : "id",
                          "an activity needs an event id and a type");
    }
    sqlite3_stmt *st = s_typed_add_stmt(self, HO_T_ACTIVITIES, err);
    if (!st) {
        return HO_ERR_IO;
    }
    /* the column order of s_tables[HO_T_ACTIVITIES] */
    sqlite3_bind_int64(st, 1, row->lead_id);
    s_bind_event_key(st, 2, row->event_id);
    int code = S_TYPE_CODE(row->type);
    if (code) {
        sqlite3_bind_int(st, 3, code);
    } else {
        s_bind_text(st, 3, row->type);
    }
    sqlite3_bind_int64(st, 4, row->occurred_at);
    /* the compact forms only for strings without a NUL in them (C string functions) */
    const char *url = s_plain_text(row->url), *path_text = s_plain_text(row->path);
    if (url) {
        s_bind_url_key(st, 5, url);
    } else {
        s_bind_json(st, 5, row->url);
    }
    int64_t path = url && path_text ? s_path_key(url, path_text) : 0;
    if (path) {
        sqlite3_bind_int64(st, 6, path);
    } else {
        s_bind_json(st, 6, row->path);
    }
    s_bind_json(st, 7, row->campaign);
    s_bind_json(st, 8, row->asset);
    code = S_SOURCE_CODE(s_plain_text(row->source_system));
    if (code) {
        sqlite3_bind_int(st, 9, code);
    } else {
        s_bind_json(st, 9, row->source_system);
    }
    int rc = s_typed_add_step(self, st, "insert into activities", err);
    return rc != HO_OK ? rc : sqlite3_changes(self->db) > 0 ? 1 : 0;
}

/* The kept INSERT of a table (prepared on first use; reset and unbound when kept). */
static int s_add_prepare(s_db_t *self, ho_table_t table, ho_err_t *err)
{
    const s_table_t *t = &s_tables[table];
    int n = s_ncols(t);
    if (!self->add[table]) {
        char sql[1024];
        size_t used = (size_t)snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO %s (", t->table);
        for (int i = 0; i < n; i++) {
            used +=
                (size_t)snprintf(sql + used, sizeof sql - used, "%s%s", i ? ", " : "", t->cols[i]);
        }
        used += (size_t)snprintf(sql + used, sizeof sql - used, ") VALUES (");
        for (int i = 0; i < n; i++) {
            used += (size_t)snprintf(sql + used, sizeof sql - used, "%s?", i ? ", " : "");
        }
        snprintf(sql + used, sizeof sql - used, ")");
        return s_prepare(self, &self->add[table], sql, err);
    }
    return s_prepare(self, &self->add[table], NULL, err);
}

static int s_row_update(void *db, ho_table_t table, int64_t id, const json_t *set, ho_err_t *err)
{
    s_db_t *self = db;
    if ((int)table < 0 || table >= HO_T__COUNT || table == HO_T_PENDING_OUTCOMES) {
        return ho_err_set(err, HO_ERR_FIELD, "table", "table %d has no row id", (int)table);
    }
    const s_table_t *t = &s_tables[table];
    int n = s_ncols(t);
    char sql[1024];
    size_t used = (size_t)snprintf(sql, sizeof sql, "UPDATE %s SET ", t->table);
    const json_t *vals[16];
    int nv = 0;
    /* Only known column names go into the SQL text: values are always bound. */
    for (int i = 0; i < n; i++) {
        const json_t *v = json_object_get(set, t->cols[i]);
        if (v) {
            used += (size_t)snprintf(sql + used, sizeof sql - used, "%s%s = ?", nv ? ", " : "",
                                     t->cols[i]);
            vals[nv++] = v;
        }
    }
    if (nv == 0) {
        return HO_OK;
    }
    snprintf(sql + used, sizeof sql - used, " WHERE id = ?");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return s_fail(self, err, "prepare update");
    }
    for (int i = 0; i < nv; i++) {
        s_bind_json(st, i + 1, vals[i]);
    }
    sqlite3_bind_int64(st, nv + 1, id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        return s_fail(self, err, "update");
    }
    return HO_OK;
}

static json_t *s_col_json(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(st, i));
    case SQLITE_TEXT: {
        json_t *s = json_stringn((const char *)sqlite3_column_text(st, i),
                                 (size_t)sqlite3_column_bytes(st, i));
        return s ? s : json_string("(invalid UTF-8)");
    }
    case SQLITE_BLOB:
        return json_stringn((const char *)sqlite3_column_blob(st, i),
                            (size_t)sqlite3_column_bytes(st, i));
    default:
        return json_null();
    }
}

/* Query q prepared (cached) with args bound, in *st_p. */
static int s_query_bind(s_db_t *self, ho_query_t q, const json_t *args, sqlite3_stmt **st_p,
                        ho_err_t *err)
{
    if ((int)q < 0 || q >= HO_Q__COUNT || !s_queries[q]) {
        return ho_err_set(err, HO_ERR_FIELD, "query", "unknown query %d", (int)q);
    }
    if (s_prepare(self, &self->query[q], s_queries[q], err) != HO_OK) {
        return HO_ERR_IO;
    }
    sqlite3_stmt *st = self->query[q];
    int np = sqlite3_bind_parameter_count(st);
    for (int i = 1; i <= np; i++) {
        const char *name = sqlite3_bind_parameter_name(st, i);
        const json_t *v = name ? json_object_get(args, name + 1) : NULL;
        if (!v && name && strcmp(name + 1, "limit") == 0) {
            sqlite3_bind_int64(st, i, -1);
        } else if (!v && name && strcmp(name + 1, "lead_id") == 0) {
            sqlite3_bind_int64(st, i, 0);
        } else {
            s_bind_json(st, i, v);
        }
    }
    *st_p = st;
    return HO_OK;
}

static int s_query(void *db, ho_query_t q, const json_t *args, json_t **rows_p, ho_err_t *err)
{
    s_db_t *self = db;
    sqlite3_stmt *st;
    int brc = s_query_bind(self, q, args, &st, err);
    if (brc != HO_OK) {
        return brc;
    }
    json_t *rows = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *row = json_object();
        int nc = sqlite3_column_count(st);
        for (int c = 0; c < nc; c++) {
            json_object_set_new(row, sqlite3_column_name(st, c), s_col_json(st, c));
        }
        json_array_append_new(rows, row);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        json_decref(rows);
        return s_fail(self, err, "query");
    }
    *rows_p = rows;
    return HO_OK;
}

/* A column as s_col_json gives it, packed; false when that gives no value (a BLOB that is
 * not UTF-8, an infinite REAL: the key is left out, as json_object_set_new leaves it). */
static bool s_col_packable(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_BLOB:
        return ho_msg_utf8_valid(sqlite3_column_blob(st, i), (size_t)sqlite3_column_bytes(st, i));
    case SQLITE_FLOAT:
        return isfinite(sqlite3_column_double(st, i));
    default:
        return true;
    }
}

static int s_col_pack(msgpack_packer *pk, sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        return msgpack_pack_int64(pk, sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
        return msgpack_pack_double(pk, sqlite3_column_double(st, i));
    case SQLITE_TEXT: {
        const char *t = (const char *)sqlite3_column_text(st, i);
        size_t n = (size_t)sqlite3_column_bytes(st, i);
        if (!t || !ho_msg_utf8_valid(t, n)) {
            t = "(invalid UTF-8)";
            n = strlen(t);
        }
        return msgpack_pack_str_with_body(pk, t, n);
    }
    case SQLITE_BLOB:
        return msgpack_pack_str_with_body(pk, sqlite3_column_blob(st, i),
                                          (size_t)sqlite3_column_bytes(st, i));
    default:
        return msgpack_pack_nil(pk);
    }
}

static int s_query_pack(void *db, ho_query_t q, const json_t *args, msgpack_packer *pk,
                        ho_err_t *err)
{
    s_db_t *self = db;
    sqlite3_stmt *st;
    int brc = s_query_bind(self, q, args, &st, err);
    if (brc != HO_OK) {
        return brc;
    }
    /* the rows into a buffer of their own first: the array's header counts them */
    msgpack_sbuffer rows;
    msgpack_packer rp;
    msgpack_sbuffer_init(&rows);
    msgpack_packer_init(&rp, &rows, msgpack_sbuffer_write);
    uint32_t n = 0;
    int e = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int nc = sqlite3_column_count(st), keys = 0;
        bool ok[64]; /* the named queries have a handful of columns */
        for (int c = 0; c < nc; c++) {
            bool k = s_col_packable(st, c);
            if (c < 64) {
                ok[c] = k;
            }
            keys += k;
        }
        e |= msgpack_pack_map(&rp, (size_t)keys);
        for (int c = 0; c < nc; c++) {
            if (c < 64 ? ok[c] : s_col_packable(st, c)) {
                const char *name = sqlite3_column_name(st, c);
                e |= msgpack_pack_str_with_body(&rp, name, strlen(name));
                e |= s_col_pack(&rp, st, c);
            }
        }
        n++;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        msgpack_sbuffer_destroy(&rows);
        return s_fail(self, err, "query");
    }
    e |= msgpack_pack_array(pk, n);
    if (rows.size) {
        e |= pk->callback(pk->data, rows.data, rows.size);
    }
    msgpack_sbuffer_destroy(&rows);
    return e ? ho_err_set(err, HO_ERR_NOMEM, "", "out of memory packing query rows") : HO_OK;
}

static int s_pending_delete(void *db, const char *event_id, ho_err_t *err)
{
    s_db_t *self = db;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db, "DELETE FROM pending_outcomes WHERE event_id = ?", -1, &st,
                           NULL) != SQLITE_OK) {
        return s_fail(self, err, "prepare delete");
    }
    s_bind_text(st, 1, event_id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? HO_OK : s_fail(self, err, "delete pending outcome");
}

static int s_erase(void *db, int64_t lead_id, const char *email, int64_t at, ho_err_t *err)
{
    s_db_t *self = db;
    ho_lead_clear(&self->last);
    s_known_drop(self); /* the email becomes erased-<id>@invalid: read again when needed */
    /* Order matters: quarantine rows are found through the lead's event ids before the
     * lead's own rows lose their identifying columns. */
    static const char *const sql[] = {
        "UPDATE quarantine SET raw_json = NULL WHERE raw_json IS NOT NULL AND "
        "(instr(lower(raw_json), "
        ":email) > 0 OR input_event_id IN (SELECT event_id FROM lead_sources WHERE lead_id = :id"
        " UNION SELECT event_id FROM activities WHERE lead_id = :id"
        " UNION SELECT event_id FROM outcomes WHERE lead_id = :id))",
        "DELETE FROM pending_outcomes WHERE email = :email",
        /* kept (they are counted) but anonymous: never attached to anyone */
        "UPDATE unmatched_activities SET email = 'erased@invalid', body = '{}'"
        " WHERE email = :email",
        "UPDATE leads SET email = 'erased-' || id || '@invalid', first_name = NULL,"
        " last_name = NULL, title = NULL, phone = NULL, company = NULL, city = NULL,"
        " domain = NULL, timezone = NULL, fields_json = '{}', field_sources_json = NULL,"
        " erased = 1, updated_at = :at WHERE id = :id",
        /* a path kept as a piece of the url becomes text first (path: the old row's) */
        "UPDATE activities SET path_key = path, url_key = NULL WHERE lead_id = :id",
        "UPDATE lead_sources SET source_record_id = NULL WHERE lead_id = :id",
        "UPDATE outcomes SET notes = NULL WHERE lead_id = :id",
        "UPDATE scores SET explanation_json = NULL WHERE lead_id = :id",
        "INSERT INTO erasures (lead_id, at) SELECT :id, :at WHERE :id > 0",
    };
    for (size_t k = 0; k < sizeof sql / sizeof sql[0]; k++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(self->db, sql[k], -1, &st, NULL) != SQLITE_OK) {
            return s_fail(self, err, "prepare erase");
        }
        int np = sqlite3_bind_parameter_count(st);
        for (int i = 1; i <= np; i++) {
            const char *name = sqlite3_bind_parameter_name(st, i);
            if (strcmp(name, ":email") == 0) {
                s_bind_text(st, i, email ? email : "\x01");
            } else if (strcmp(name, ":id") == 0) {
                sqlite3_bind_int64(st, i, lead_id);
            } else {
                sqlite3_bind_int64(st, i, at);
            }
        }
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
            return s_fail(self, err, "erase");
        }
    }
    return HO_OK;
}

/* PRAGMA synchronous of this connection: set it when level >= 0 (1 NORMAL, 2 FULL), then
 * read it back. The level in force, or -1 with err. */
static int s_synchronous(void *db, int level, ho_err_t *err)
{
    s_db_t *self = db;
    char sql[48];
    snprintf(sql, sizeof sql, "PRAGMA synchronous=%d", level);
    if (level >= 0 && s_exec(self, sql, err) != HO_OK) {
        return -1;
    }
    sqlite3_stmt *st = NULL;
    int got = -1;
    if (sqlite3_prepare_v2(self->db, "PRAGMA synchronous", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        got = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    if (got < 0) {
        s_fail(self, err, "PRAGMA synchronous");
    }
    return got;
}

/* PRAGMA cache_size of this connection in MB (negative in the pragma: KiB). */
static int s_cache_mb(void *db, int mb, ho_err_t *err)
{
    s_db_t *self = db;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size=%lld", -(long long)mb * 1024);
    if (mb > 0 && s_exec(self, sql, err) != HO_OK) {
        return -1;
    }
    sqlite3_stmt *st = NULL;
    long long got = 0;
    bool ok = sqlite3_prepare_v2(self->db, "PRAGMA cache_size", -1, &st, NULL) == SQLITE_OK &&
              sqlite3_step(st) == SQLITE_ROW;
    if (ok) {
        got = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (!ok) {
        s_fail(self, err, "PRAGMA cache_size");
        return -1;
    }
    /* negative: KiB; positive: pages */
    long long bytes = got < 0 ? -got * 1024 : 0;
    if (got > 0) {
        int page = 4096;
        sqlite3_stmt *ps = NULL;
        if (sqlite3_prepare_v2(self->db, "PRAGMA page_size", -1, &ps, NULL) == SQLITE_OK &&
            sqlite3_step(ps) == SQLITE_ROW) {
            page = sqlite3_column_int(ps, 0);
        }
        sqlite3_finalize(ps);
        bytes = got * page;
    }
    return (int)(bytes / (1024 * 1024));
}

const ho_store_backend_t ho_store_backend_sqlite = {
    .name = "sqlite",
    .open = s_open,
    .close = s_close,
    .version = s_version,
    .tx = s_tx,
    .event_claim = s_event_claim,
    .event_seen = s_event_seen,
    .score_seen = s_score_seen,
    .lead_get = s_lead_get,
    .lead_put = s_lead_put,
    .row_add = s_row_add,
    .source_add = s_source_add,
    .score_add = s_score_add,
    .activity_add = s_activity_add,
    .row_update = s_row_update,
    .query = s_query,
    .query_pack = s_query_pack,
    .cache_mb = s_cache_mb,
    .pending_delete = s_pending_delete,
    .erase = s_erase,
    .synchronous = s_synchronous,
    .background_checkpoints = s_background_checkpoints,
};
