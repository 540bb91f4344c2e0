/*
 * store.h - the lead store: the one owner of handoff's state (docs/store-schema.md).
 *
 * The interface is engine-agnostic (Redis ae style): src/store/store.c holds the logic that
 * is the same for every engine (identity, merge rules, lifecycle application), and calls a
 * small backend vtable (src/store/store_backend.h) for persistence. SQLite (WAL) is the
 * default and only backend today (src/store/store_sqlite.c); another engine is one more
 * vtable, workers do not change.
 *
 *     ho_err_t err;
 *     ho_store_t *s = ho_store_open ("data/handoff.db", &err);   // creates + migrates
 *     if (!s) { fprintf (stderr, "%s\n", err.message); return 1; }
 *     ho_store_begin (s, &err);
 *     ho_store_upsert_lead (s, "ev-1", payload, &res, &err);      // lead.normalized payload
 *     ho_store_commit (s, &err);
 *     ho_store_destroy (&s);
 *
 * Everything is returned, never printed. Strings in ho_lead_t are owned by the struct
 * (free with ho_lead_clear). JSON results (query, lead view) are new references the caller
 * releases with json_decref.
 *
 * Who may read the database besides the store worker, what each reader reads and what it
 * can rely on: "the read contract", near the end of this file.
 */
#ifndef HO_STORE_H
#define HO_STORE_H

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "handoff/conf.h"
#include "handoff/msg.h"

#define HO_STORE_SCHEMA_VERSION 10 /* newest migration this build knows */
#define HO_NULL_INT INT64_MIN     /* an absent INTEGER column in ho_lead_t */

typedef struct ho_store ho_store_t;

/* ---- options (deploy/store.yaml, workers.store in handoff.yaml) ---- */
typedef struct {
    bool readonly;       /* open an existing database read-only (reports, `handoff lead`) */
    bool strip_plus;     /* plus_addressing: strip -> a+tag@x.com is a@x.com */
    const char *backend; /* "sqlite" (default) */
    /* Per-field source precedence: field -> ordered source names (json object of arrays).
     * Borrowed reference; may be NULL. */
    const json_t *precedence;
    /* store.yaml durability: "normal" (default; NULL too) or "full" (PRAGMA synchronous
     * NORMAL / FULL of the writer, docs/store-schema.md "Write path and durability") */
    const char *durability;
    /* store.yaml cache_mb: the writer's page cache in MB (0 = HO_STORE_CACHE_MB). More keeps
     * more of the growing indexes in memory, so an insert reads fewer pages back, at as
     * much more resident memory (docs/throughput.md). */
    int cache_mb;
    /* Called once before a writer migrates an existing database (schema version from >= 1)
     * to `to`, so a caller can say so: on a large store a migration takes minutes
     * (docs/store-schema.md gives each version's time at full size). May be NULL. */
    void (*on_migrate)(int from, int to, void *arg);
    void *migrate_arg;
} ho_store_opts_t;
#define HO_STORE_CACHE_MB 64
#define HO_STORE_CACHE_MB_MAX 16384

/* Load deploy/store.yaml (config dir copy or built-in) into a json object
 * {plus_addressing, precedence, sla: {...}, rescore: {...}}; settings (workers.store of
 * handoff.yaml, may be NULL) override its top-level keys. NULL with err on a config error. */
json_t *ho_store_config_load(const char *config_dir, const ho_conf_t *gateway,
                             const ho_node_t *settings, ho_err_t *err);

/* Open (create and migrate when writable) the database at path. NULL with err on failure. */
ho_store_t *ho_store_open(const char *path, ho_err_t *err);
ho_store_t *ho_store_open_opts(const char *path, const ho_store_opts_t *opts, ho_err_t *err);
void ho_store_destroy(ho_store_t **self_p);

int ho_store_schema_version(const ho_store_t *self);
/* The engine's durability level in force on this connection, read back from the engine
 * (SQLite: PRAGMA synchronous, 1 NORMAL, 2 FULL); -1 when it cannot be read. */
int ho_store_synchronous(const ho_store_t *self);
/* Checkpoints run beside the writer so far (SQLite: WAL pages copied into the database file
 * by a thread of its own, so no commit waits for that), or -1 when this connection runs none
 * (read-only, or the thread could not start: the engine then checkpoints inside commits). */
long ho_store_background_checkpoints(const ho_store_t *self);
/* The page cache in force on this connection, in MB (SQLite: PRAGMA cache_size read back);
 * -1 when it cannot be read. */
int ho_store_cache_mb(const ho_store_t *self);
const char *ho_store_backend_name(const ho_store_t *self);

/* ---- transactions: begin/commit wrap a whole batch; save/release/undo nest inside it so
 * one bad message can be rolled back without losing the rest of the batch ---- */
int ho_store_begin(ho_store_t *self, ho_err_t *err);
int ho_store_commit(ho_store_t *self, ho_err_t *err);
void ho_store_rollback(ho_store_t *self);
int ho_store_save(ho_store_t *self, ho_err_t *err);
int ho_store_release(ho_store_t *self, ho_err_t *err);
void ho_store_undo(ho_store_t *self);

/* ---- identity ---- */
/* Normalize an email the way the store keys leads: trim, lowercase, NFC, and (when
 * strip_plus) drop a "+tag" from the local part. Returns a malloc'd string, or NULL with err
 * when it does not look like an address. */
char *ho_store_normalize_email(const ho_store_t *self, const char *email, ho_err_t *err);

/* Idempotency: record that event id was applied. 1 = new (apply it), 0 = seen before
 * (skip it), < 0 = error. */
int ho_store_claim_event(ho_store_t *self, const char *event_id, const char *type, int64_t at,
                         ho_err_t *err);
/* Whether event id was claimed: 1 yes, 0 no, < 0 error. Writes nothing (a reader of the key,
 * for a message whose application is recorded by a row of its own when it writes one). */
int ho_store_event_seen(ho_store_t *self, const char *event_id, ho_err_t *err);
/* Whether a scores row has event id (the lead.scored that wrote it): 1 yes, 0 no, < 0 error. */
int ho_store_score_seen(ho_store_t *self, const char *event_id, ho_err_t *err);

/* ---- the lead row ---- */
typedef struct {
    int64_t id;
    char *email, *first_name, *last_name, *title, *phone, *company, *domain;
    int personal_email;
    char *industry, *industry_group;
    int64_t employees; /* HO_NULL_INT when unknown */
    double revenue;    /* NAN when unknown */
    char *country, *state, *city, *timezone;
    char *fields_json;        /* every normalized field, merged */
    char *field_sources_json; /* field -> [source, observed_at]: the merge trail */
    char *stage, *owner_rep_id;
    char *original_source, *source_channel, *original_campaign;
    int64_t first_touch_at, last_touch_at, created_at, updated_at;
    int64_t fit, interest, score;
    char *grade, *quadrant, *model_version;
    int64_t scored_at, mql_at, first_mql_at;
    int erased;
    int64_t score_seq; /* score.request seq of the score held (HO_NULL_INT: none, or unknown) */
    char *crm_stage;   /* furthest stage a CRM export gave (lead.normalized fields.crm_stage) */
} ho_lead_t;

void ho_lead_init(ho_lead_t *lead);
void ho_lead_clear(ho_lead_t *lead);
/* Replace a string slot with a copy of value (NULL or "" -> NULL). */
int ho_lead_set(char **slot, const char *value);

/* By email (when not NULL) or id. HO_ERR_NOT_FOUND when absent. lead is re-initialized. */
int ho_store_lead_get(ho_store_t *self, const char *email, int64_t id, ho_lead_t *lead,
                      ho_err_t *err);
/* Insert (lead->id == 0, sets it) or update every column. */
int ho_store_lead_put(ho_store_t *self, ho_lead_t *lead, ho_err_t *err);

/* ---- upsert/merge from lead.normalized ----
 * The merge rule (documented in deploy/store.yaml): for every field, a non-empty incoming
 * value replaces the stored one when (a) the stored one is empty, or (b) the field has a
 * precedence list and the incoming source ranks higher (listed sources rank by position,
 * unlisted ones after all listed ones), or (c) both rank equal and the incoming record is at
 * least as new (observed_at) as the one that set the stored value. Empty values never
 * overwrite. Original source/campaign come from the earliest observed record. */
typedef struct {
    int64_t lead_id;
    bool created;   /* a new lead row */
    bool changed;   /* some field or touch time changed */
    bool duplicate; /* event id seen before: nothing changed */
} ho_upsert_t;
int ho_store_upsert_lead(ho_store_t *self, const char *event_id, const json_t *payload,
                         ho_upsert_t *res, ho_err_t *err);

/* ---- rows and queries (names are the contract every backend implements) ---- */
typedef enum {
    HO_T_LEAD_SOURCES = 0,
    HO_T_ACTIVITIES,
    HO_T_STAGE_HISTORY,
    HO_T_SCORES,
    HO_T_ASSIGNMENTS,
    HO_T_SLA_BREACHES,
    HO_T_OUTCOMES,
    HO_T_PENDING_OUTCOMES,
    HO_T_QUARANTINE,
    HO_T_ERASURES,
    HO_T_UNMATCHED_ACTIVITIES,
    HO_T__COUNT
} ho_table_t;

/* One scores row (docs/store-schema.md), bound column by column: building a JSON row for
 * ho_store_add was ~6k instructions of a lead.scored. grade, quadrant and explanation bind as
 * ho_store_add binds json values (NULL json_t: SQL NULL; explanation as compact JSON text). */
typedef struct {
    int64_t lead_id;
    const char *event_id, *model_version;
    int64_t at, fit, interest, score;
    const json_t *grade, *quadrant, *explanation;
    bool mql;
} ho_score_row_t;
/* Insert a scores row: 1 inserted, 0 a row with that event id is there (nothing inserted:
 * the reply was applied before), < 0 error. */
int ho_store_add_score(ho_store_t *self, const ho_score_row_t *row, ho_err_t *err);

/* One activities row, bound column by column (the JSON row of ho_store_add was ~6k
 * instructions of an activity). url .. source_system bind as ho_store_add binds json values. */
typedef struct {
    int64_t lead_id;
    const char *event_id, *type;
    int64_t occurred_at;
    const json_t *url, *path, *campaign, *asset, *source_system;
} ho_activity_row_t;
/* 1 = inserted; 0 = not inserted because the lead already holds this event id at this
 * occurred_at (the activity's idempotency key, schema version 10: a redelivery); < 0 = error
 * (an event id or type missing: HO_ERR_MISSING). */
int ho_store_add_activity(ho_store_t *self, const ho_activity_row_t *row, ho_err_t *err);

/* Insert a row (a json object: column -> value; absent columns are NULL). *id_p = the new
 * row id, or 0 when a UNIQUE constraint made it a duplicate (nothing inserted). */
int ho_store_add(ho_store_t *self, ho_table_t table, const json_t *row, int64_t *id_p,
                 ho_err_t *err);
/* Set columns (json object) of row id. */
int ho_store_update(ho_store_t *self, ho_table_t table, int64_t id, const json_t *set,
                    ho_err_t *err);

typedef enum {
    HO_Q_ACTIVITIES = 0,      /* {lead_id, limit, until (optional)}: newest first */
    HO_Q_SOURCES,             /* {lead_id} */
    HO_Q_SCORES,              /* {lead_id}: newest first */
    HO_Q_HISTORY,             /* {lead_id}: oldest first */
    HO_Q_ASSIGNMENTS,         /* {lead_id}: newest first, with their breaches */
    HO_Q_OUTCOMES,            /* {lead_id}: oldest first */
    HO_Q_OPEN_ASSIGNMENTS,    /* {lead_id}: status open, newest first */
    HO_Q_SLA_DUE,             /* {now}: open assignments with a step due */
    HO_Q_DOMAIN_OWNER,        /* {domain, lead_id}: owner of another lead of that domain */
    HO_Q_PENDING,             /* {email}: pending outcomes, oldest occurred first */
    HO_Q_RESCORE,             /* {since, limit}: unowned ML/MQL/RECYCLED with touch >= since,
                               * never scored first, then least recently scored */
    HO_Q_QUARANTINE_LIST,     /* {limit, all}: newest first (all=0: not yet replayed) */
    HO_Q_QUARANTINE_GET,      /* {id} */
    HO_Q_TOP_PAGES,           /* {lead_id, limit}: page paths by views */
    HO_Q_COUNTS,              /* {}: rows per table */
    HO_Q_ACTIVITY_STATS,      /* {lead_id}: n, first, last occurred_at */
    HO_Q_LEAD_IDS,            /* {}: every lead id, ascending */
    HO_Q_QUARANTINE_BY_EVENT, /* {event_id}: id, replayed_at, at of that quarantine row */
    HO_Q_OUTCOMES_RECORDED,   /* {lead_id}: outcomes as recorded (not implied), with id */
    HO_Q_UNMATCHED,           /* {email}: unmatched activities waiting for that lead */
    HO_Q_PENDING_DUE,         /* {before}: pending outcomes received at or before */
    HO_Q_PENDING_GET,         /* {event_id}: status, import_id of one pending outcome */
    HO_Q_IMPORT_RESULTS,      /* {import_id}: result, n */
    HO_Q_IMPORT_QUARANTINED,  /* {import_id}: n quarantine rows of that import, failed of
                               * them a worker could not apply (retries_exhausted,
                               * worker_error) */
    HO_Q_FIRST_SOURCE,        /* {lead_id}: event_id of the record that created the lead */
    HO_Q_UNMATCHED_ANY,       /* {}: one row when unmatched_activities has any */
    HO_Q_PENDING_ANY,         /* {}: one row when pending_outcomes has any */
    HO_Q_COUNTER,             /* {name}: value of a store counter */
    HO_X_COUNTER_SET,         /* {name, value} */
    HO_Q_ASSIGNMENT_BY_EVENT, /* {event_id}: id, status of the assignment that event made */
    HO_Q_SNAPSHOT_ACTIVITIES, /* {lead_id, limit, until (optional)}: newest first, the six
                               * columns of a snapshot activity (ho_store_score_snapshot) */
    /* writes, used through the typed operations below */
    HO_X_IMPLIED_CLEAR,       /* {lead_id} */
    HO_X_SALES_HISTORY_CLEAR, /* {lead_id} */
    HO_X_IMPORT_COUNT,        /* {import_id, result, delta} */
    HO_X_IMPORT_PUT,          /* the imports row */
    HO_X_PENDING_STATUS,      /* {event_id, status, at} */
    HO_X_UNMATCHED_DELETE,    /* {event_id} */
    HO_Q__COUNT
} ho_query_t;

/* The SQL text of a named query (NULL for one out of range): what tests/unit/test_store_plans.c
 * runs EXPLAIN QUERY PLAN on, so every per-message query is checked against the real schema. */
const char *ho_store_query_sql(ho_query_t query);
/* Run a named query with named arguments; *rows_p = a json array of row objects. */
int ho_store_query(ho_store_t *self, ho_query_t query, const json_t *args, json_t **rows_p,
                   ho_err_t *err);
/* Delete pending outcome by event id. */
int ho_store_pending_delete(ho_store_t *self, const char *event_id, ho_err_t *err);

/* Erase a person's personal data (handoff forget): the lead row's PII columns, activity
 * URLs, outcome notes, source record ids, pending outcomes and quarantined raw payloads
 * that mention the email. Anonymous rows stay so counts stay right; an erasures row is
 * added. lead_id may be 0 (unknown person: only pending/quarantine are scrubbed). */
int ho_store_erase(ho_store_t *self, int64_t lead_id, const char *email, int64_t at, ho_err_t *err);

/* ---- lifecycle ---- */
/* Apply lifecycle event (lifecycle.h names: "qualify", "accept", ...) to the lead: checks
 * the transition table, sets lead->stage (and mql_at/first_mql_at on entry to MQL), writes
 * the lead and appends a stage_history row with time, actor, reason and the lead's score.
 * HO_ERR_STATE with a clear message when the transition is illegal (nothing written). */
int ho_store_transition(ho_store_t *self, ho_lead_t *lead, const char *event, int64_t at,
                        const char *actor, const char *reason, const char *event_id, ho_err_t *err);
/* Set the lead's stage as a fact from outside the model (a CRM export: actor crm_import),
 * without the transition table, and append the stage_history row. */
int ho_store_set_stage(ho_store_t *self, ho_lead_t *lead, const char *stage, int64_t at,
                       const char *actor, const char *reason, const char *event_id, ho_err_t *err);
/* Append a non-transition note to the lead's history (kind = assigned, sla_remind,
 * sla_reassign, ...; from_stage = to_stage = the current stage). */
int ho_store_note(ho_store_t *self, const ho_lead_t *lead, const char *kind, int64_t at,
                  const char *actor, const char *reason, const char *event_id, ho_err_t *err);

/* ---- sales outcomes (src/store/outcomes.c) ---- */
/* One outcomes row as recorded (implied rows are written by ho_store_derive_stages). */
typedef struct {
    int64_t lead_id;
    const char *event_id, *feedback_id, *rep_id, *outcome, *reason, *reason_owner;
    const char *disposition, *notes, *import_id;
    const char *flags; /* the feedback worker's flags (reason_*), comma-separated, or NULL */
    int64_t occurred_at;
    double amount; /* NAN: none */
    bool not_owner;
} ho_outcome_row_t;
/* Insert it. *id_p = the row id, 0 when the event is recorded already. */
int ho_store_outcome_add(ho_store_t *self, const ho_outcome_row_t *row, int64_t *id_p,
                         ho_err_t *err);
/* Re-derive the lead's sales stages from all its recorded outcomes (lifecycle.h,
 * ho_lifecycle_derive): rewrites its implied outcomes and its `sales` stage_history rows, the
 * stage_reached and derived flags of every recorded outcome, and the lead's stage when the
 * derivation's result differs from what it was without new_event_id (the outcome just
 * recorded; NULL: rows and flags only, the stage stays). *flags_p (may be NULL):
 * new_event_id's row's flags. */
int ho_store_derive_stages(ho_store_t *self, ho_lead_t *lead, const char *new_event_id,
                           char **flags_p, ho_err_t *err);

/* ---- imports (import.summary, import.stats; src/store/outcomes.c) ---- */
/* import_results[import_id][result] += delta (nothing when import_id is NULL or ""). */
int ho_store_import_count(ho_store_t *self, const char *import_id, const char *result, int delta,
                          ho_err_t *err);
/* Upsert the imports row from an import.summary payload (a re-import replaces it). */
int ho_store_import_put(ho_store_t *self, const json_t *summary, ho_err_t *err);
/* {import_id, applied, new, merged, matched, unmatched, recorded, pending, unknown_lead,
 * before_lead_created, flagged, quarantined, failed} of one import. */
int ho_store_import_stats(ho_store_t *self, const char *import_id, json_t **stats_p, ho_err_t *err);
/* pending_outcomes.status = status (pending | unknown_lead), unknown_at = at. */
int ho_store_pending_mark(ho_store_t *self, const char *event_id, const char *status, int64_t at,
                          ho_err_t *err);
/* Hand out n values of a persistent counter (store_counters: no clock, so the same inputs
 * give the same rows): *first_p = the first of them, each greater than any handed out
 * before. In the caller's transaction (a rollback takes them back). */
int ho_store_counter_take(ho_store_t *self, const char *name, int64_t n, int64_t *first_p,
                          ho_err_t *err);
/* Drop an unmatched activity (it was attached to its lead). */
int ho_store_unmatched_delete(ho_store_t *self, const char *event_id, ho_err_t *err);

/* The lead's merged fields (its fields_json) as a new json object the caller owns; an empty
 * object when there are none. Served from the store's memory of recent upserts when that
 * holds exactly this text, else parsed. */
json_t *ho_store_lead_fields(ho_store_t *self, const ho_lead_t *lead);

/* The scoring snapshot of a lead, the `lead` of a score.request (proto/messages.md): {lead_id,
 * email, stage, owner, fields, activities (newest HO_STORE_SNAPSHOT_ACTIVITIES, each {type,
 * path, url, occurred_at, campaign, asset})}. until_ms > 0 leaves out activities after it
 * (`handoff score --as-of`). The one builder: the store worker and `handoff score` both call
 * it, so a dry run scores what the scorer would get. New reference, or NULL with err. */
#define HO_STORE_SNAPSHOT_ACTIVITIES 500
/* The same without activities: the `lead` of a route.request and sla.breach (routing reads
 * fields and scores only). New reference, or NULL when out of memory. */
json_t *ho_store_lead_snapshot(ho_store_t *self, const ho_lead_t *lead);
/* The activities part alone (also in the handoff packet): the newest `limit` of the lead,
 * at or before until_ms when > 0. New array, or NULL with err. */
json_t *ho_store_snapshot_activities(ho_store_t *self, int64_t lead_id, int limit, int64_t until_ms,
                                     ho_err_t *err);
json_t *ho_store_score_snapshot(ho_store_t *self, const ho_lead_t *lead, int64_t until_ms,
                                ho_err_t *err);
/* The same snapshot packed into pk as one msgpack map, the same keys and values, with no
 * tree in between: the store worker's score.request on its hot path (a snapshot is up to
 * HO_STORE_SNAPSHOT_ACTIVITIES activities of six values). HO_OK or the error. */
int ho_store_score_snapshot_pack(ho_store_t *self, const ho_lead_t *lead, int64_t until_ms,
                                 msgpack_packer *pk, ho_err_t *err);

/* ---- the read contract ----
 * What other processes may read, and what they may rely on. Keep it true: a change to what a
 * reader below reads, or to a guarantee, changes this comment in the same commit.
 *
 * Writer and readers. The store worker is the database's only writer (one writable
 * ho_store_t). Every other process opens the same file read-only: through ho_store_open_opts
 * with .readonly (`handoff lead`, `handoff dlq`, `handoff score`'s snapshots), or through the
 * read model, reader.h (the report, `handoff metrics`, `handoff score`'s lead rows, `handoff
 * forget`'s preview, `handoff demo-data feedback`): ho_reader_open opens the file read-only
 * with PRAGMA query_only and refuses a file without schema_version or newer than
 * HO_STORE_SCHEMA_VERSION, and every query it runs is named (ho_rq_t, its SQL in
 * src/store/read_queries_*.c), so no reader carries SQL. (`handoff forget` then VACUUMs the
 * file: a compaction after the store's erasure, no read.) The database is in WAL mode: a
 * reader never blocks the writer and the writer never blocks a reader; a reader sees
 * committed data only.
 *
 * Unit of visibility. The worker applies a batch of messages in one transaction
 * (ho_store_begin .. ho_store_commit; a refused message is undone alone inside it and
 * quarantined): a reader sees every effect of a batch or none of it, never half a message
 * (e.g. a lead.scored's scores row without the lead row's new score, or an outcome without
 * its stage_history rows).
 *
 * The read model, by reader (HO_Q_ names are the store's engine-agnostic queries, HO_RQ_
 * names the read model's SQL over the tables and columns of docs/store-schema.md):
 *   - `handoff lead EMAIL`: ho_store_lead_view (below: the lead row, then HO_Q_SOURCES,
 *     HO_Q_ACTIVITIES (newest 50), HO_Q_SCORES, HO_Q_HISTORY, HO_Q_ASSIGNMENTS,
 *     HO_Q_OUTCOMES, HO_Q_TOP_PAGES, HO_Q_ACTIVITY_STATS) and HO_Q_PENDING (outcomes waiting
 *     for that email).
 *   - `handoff dlq list | show`: HO_Q_QUARANTINE_LIST, HO_Q_QUARANTINE_GET (a replay is a
 *     dlq.replay message to the worker, not a read).
 *   - `handoff score --explain | --dry-run`: ho_store_lead_get, ho_store_score_snapshot (the
 *     same snapshot the worker sends the scorer), and HO_RQ_SCORE_EXPLAIN_LEAD (one lead by
 *     email) / HO_RQ_SCORE_DRY_RUN_LEADS (every lead not erased) over leads (id, email,
 *     stage, owner_rep_id, fields_json, the score columns).
 *   - the report (worker and `handoff report`, and `handoff score --suggest` through
 *     ho_report_rules): the HO_RQ_REPORT_ names, over leads, stage_history, scores,
 *     assignments, sla_breaches, outcomes, pending_outcomes, imports and import_results, and
 *     lead_facts (schema 8: the per-lead roll-up the store keeps by trigger in the
 *     transaction of each write; a kept value at or after the report's end sends that lead to
 *     its history); HO_RQ_REPORT_SETUP_ ones build its temp tables first (the only statements
 *     a reader may run that write, to temp only): reach, score_asof and lead_rows as views
 *     over lead_facts (the _FACTS names) when the file has it, from the raw tables otherwise
 *     (same numbers). It reads each big table once and groups in C (src/report/agg.c):
 *     the transitions in (lead_id, at, id) order, which the index stage_history_lead serves
 *     without a sort (HO_RQ_REPORT_STAGES_SCAN: stage counts, velocity, cohorts); outcomes,
 *     assignments and sla_breaches in table order (HO_RQ_REPORT_SCAN_OUTCOMES, _ASSIGNMENTS,
 *     _SLA); the leads created in the 12 weeks (HO_RQ_REPORT_SCAN_LEADS_FACTS: lead_facts'
 *     kept values as they are when every one is before the report's end, the lead's
 *     lead_asof row otherwise, then their won amounts by HO_RQ_REPORT_SCAN_LEADS_AMOUNTS;
 *     HO_RQ_REPORT_SCAN_LEADS on a store without lead_facts). It
 *     looks a table or column up (ho_reader_has) before it relies on one an older schema
 *     lacks, and then picks the _WITHOUT_ variant or reads NULL for it.
 *   - `handoff metrics`: HO_RQ_METRICS_QUARANTINE (quarantine by code, replayed or not) and
 *     HO_RQ_METRICS_IMPORTS (imports by profile).
 *   - `handoff forget`'s preview: HO_RQ_FORGET_NEEDLES (the lead's name and phone by email).
 *   - `handoff demo-data feedback`: HO_RQ_DEMO_FEEDBACK_OWNERS over leads, assignments,
 *     stage_history.
 *   - `handoff status` reads no store: the broker's counters and outbox.db.
 *
 * Consistency a reader gets:
 *   - one statement (one named query, one SELECT) reads one committed state;
 *   - the report reads every sheet inside one read transaction (ho_reader_begin): the whole
 *     workbook is one moment of the store, so its sheets agree with each other. When it
 *     reads through two connections in two threads (src/report/side.c), their transactions
 *     begin while a third connection of the report holds the write lock
 *     (ho_reader_begin_pair: a few microseconds; the store worker's busy timeout waits), so
 *     both read the same moment; when that lock cannot be had it reads through one;
 *   - ho_store_lead_view runs its parts as separate statements without a read transaction:
 *     each part is consistent in itself, but a batch the worker commits between two parts
 *     can show in the later parts only (a score in `scores` newer than the lead row's
 *     score). `handoff lead` is an operator's look, not an audit; read it again for a
 *     settled picture;
 *   - nothing orders two readers: two commands may see two different moments.
 *
 * Stability: the schema only grows (docs/store-schema.md: new tables and columns, new
 * indexes; a table copied to drop a constraint keeps its columns and ids; version 7 stores
 * activities compactly and keeps each of its columns, with the same values, as a generated
 * column, while events.event_id becomes a compact key that only counts read), so a reader built
 * for version N reads every older version (looking up what it lacks) and its queries would
 * still prepare on N+1; yet both read-only opens refuse a file newer than the build
 * (HO_ERR_VERSION, the file named): a skew is said, not half-read, and the readers are
 * upgraded with the store. Stored values are canonical (stage names, rep ids, epoch ms in
 * UTC); display names are the readers' business. Erased people (handoff forget) stay as rows
 * (erased = 1, no personal data), so every count that included them still does. */

/* The lead row as a json object (fields and field_sources parsed). Caller owns it. */
json_t *ho_store_lead_json(const ho_lead_t *lead);

/* Everything about one lead, for `handoff lead`: {lead, sources, activities, scores,
 * history, assignments, outcomes}. HO_ERR_NOT_FOUND when there is no such lead. */
int ho_store_lead_view(ho_store_t *self, const char *email, json_t **view_p, ho_err_t *err);

#endif
