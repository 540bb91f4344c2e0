/*
 * connector.h - import connectors and their mapping profiles.
 *
 * A connector turns one input file into raw envelopes (lead.raw, activity.raw, feedback.raw)
 * and, for records it cannot read at all (wrong column count, invalid UTF-8, broken JSON),
 * `quarantine` envelopes with the file and line; records that are deliberately not leads
 * (a form's test lead, a re-delivery) come back as `skip` envelopes. Connectors register like
 * workers: a descriptor with a name, a config map (settings read from the profile's `options:`) and
 * open/next/close callbacks, listed in src/connectors/registry.c; a new source is one folder.
 *
 * What a source's columns mean is data, not code: a profile (deploy/profiles/<name>.yaml,
 * compiled in; a file of the same name in the config folder wins) maps columns to the
 * canonical fields of proto/messages.md, names the record kind, the text encoding, the
 * date formats and the header signature used to recognise the file.
 *
 * Ownership: profiles from ho_profile_* are freed with ho_profile_destroy (&p); messages
 * returned by cb_next belong to the caller.
 */
#ifndef HO_CONNECTOR_H
#define HO_CONNECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handoff/conf.h"
#include "handoff/msg.h"

typedef enum { HO_KIND_LEAD = 1, HO_KIND_ACTIVITY, HO_KIND_FEEDBACK } ho_kind_t;

/* ---- profiles ---- */
typedef struct ho_profile ho_profile_t;

/* Load profiles/<name>.yaml from config_dir (may be NULL) or the built-in copy. */
ho_profile_t *ho_profile_load(const char *config_dir, const char *name, ho_err_t *err);
/* Load a profile from any path (`handoff import --profile-file`). */
ho_profile_t *ho_profile_load_file(const char *path, ho_err_t *err);
/* Parse profile YAML text; origin names it in error messages. */
ho_profile_t *ho_profile_parse(const char *text, size_t len, const char *origin, ho_err_t *err);
void ho_profile_destroy(ho_profile_t **self_p);

const char *ho_profile_name(const ho_profile_t *self);
const char *ho_profile_description(const ho_profile_t *self);
/* The `source` stamped on records (default: the profile name). */
const char *ho_profile_source(const ho_profile_t *self);
ho_kind_t ho_profile_kind(const ho_profile_t *self);
const char *ho_profile_kind_name(ho_kind_t kind); /* "lead", "activity", "feedback" */
/* Connector name from the profile, or NULL = chosen by the file's content (csv or jsonl). */
const char *ho_profile_connector(const ho_profile_t *self);
bool ho_profile_latin1(const ho_profile_t *self);
/* NULL-terminated strptime formats tried before the built-in ones. */
const char *const *ho_profile_date_formats(const ho_profile_t *self);
/* Canonical field of a source column, or NULL when unmapped (kept in `extra`). */
const char *ho_profile_field(const ho_profile_t *self, const char *column);
/* Whether name is a text field of a kind's raw records (kind "lead", "activity", "feedback";
 * false for another): a canonical field a profile may map, but for an activity's `attributes`
 * (a map). What `dlq replay --set` may edit. */
bool ho_profile_text_field_known(const char *kind, const char *name);
/* The text field of kind nearest to name, at most 2 single-character edits away (the first in
 * the profile's field order of the nearest ones), or NULL: for a "did you mean". */
const char *ho_profile_text_field_near(const char *kind, const char *name);
/* Canonical fields whose values make the record's id ("-"-joined); n = 0: whole record. */
const char *const *ho_profile_id_fields(const ho_profile_t *self, size_t *n_p);
/* The profile's `options:` map for the connector's config map (may be NULL). */
const ho_conf_t *ho_profile_conf(const ho_profile_t *self);
const ho_node_t *ho_profile_options(const ho_profile_t *self);
/* How well a header (or the keys of a first JSON object) matches the signature: the number
 * of `detect` columns, all present; 1 if any `detect_any` key is present; 0 = no match. */
int ho_profile_match(const ho_profile_t *self, const char *const *cols, size_t n);

/* ---- what a CRM export says about stage and owner (the profile's `crm:` map) ----
 * lifecycle_stage values -> our stage codes (ML, MQL, SAL, SQL, OPPORTUNITY, WON, LOST,
 * DISQUALIFIED), lead_status values -> rules raising or replacing that stage, is_converted,
 * and owner id prefixes that are queues (deploy/profiles/hubspot.yaml documents the rules). */
/* The crm_stage of a lead record's canonical fields, or NULL (no crm: map, no known value). */
const char *ho_profile_crm_stage(const ho_profile_t *self, const json_t *fields);
/* Whether an owner value is not a person (a Salesforce queue 00G...). */
bool ho_profile_not_owner(const ho_profile_t *self, const char *owner);
/* For lead profiles: set fields.crm_stage; move an owner that is a queue to extra.owner_queue
 * (extra may be NULL: the owner is then only dropped). */
void ho_profile_crm_apply(const ho_profile_t *self, json_t *fields, json_t *extra);

/* Names of every profile (built-in and in <config_dir>/profiles/), sorted, deduplicated.
 * Returns a NULL-terminated malloc'd array; free with ho_profile_names_free. */
char **ho_profile_names(const char *config_dir);
void ho_profile_names_free(char ***names_p);
/* The profile matching a file's header best. NULL with err listing the profiles tried when
 * none (or two equally) match. format is "csv" or "jsonl". */
ho_profile_t *ho_profile_detect(const char *config_dir, const char *format, const char *const *cols,
                                size_t n, ho_err_t *err);

/* ---- a profile's date formats as the config folder lists them now ----
 * For a date a record's own date_formats (its profile's when it was imported) do not read:
 * an operator adds the format to the profile and replays the record (`handoff dlq replay`).
 * Profiles are found by payload.profile, else payload.source, and re-read when their file in
 * the config folder changes. Not thread-safe: one per worker. */
typedef struct ho_profile_dates ho_profile_dates_t;

ho_profile_dates_t *ho_profile_dates_new(const char *config_dir); /* NULL: out of memory */
void ho_profile_dates_destroy(ho_profile_dates_t **self_p);
/* Read raw with the payload's date_formats and the built-in forms, then (self not NULL) with
 * the formats its profile lists now. 0 and *ms, or -1; then `tried` (may be NULL) names the
 * profile and its current formats when there is one ("the date_formats of profile acme
 * [\"%d.%m.%Y\"]"), else is "". */
int ho_profile_dates_parse(ho_profile_dates_t *self, const json_t *payload, const char *raw,
                           int64_t *ms, char *tried, size_t cap);
/* A record's own date_formats (the text items of payload.date_formats, at most cap - 1) as a
 * NULL-terminated list in buf; returns buf. */
const char *const *ho_profile_payload_formats(const json_t *payload, const char **buf, size_t cap);

/* ---- connectors ---- */
typedef struct {
    const char *path;            /* the file ("-" = stdin) */
    const ho_profile_t *profile; /* borrowed for the connector's life */
    const char *config_dir;      /* for files a connector needs next to the profile */
} ho_connector_args_t;

typedef struct {
    const char *name;        /* "csv", "jsonl", "forms" */
    const char *description; /* one line for `handoff import --list` */
    /* settings in the profile's `options:`, applied with ho_config_map_apply */
    const ho_config_map_t *config_map;
    int (*cb_open)(const ho_connector_args_t *args, void **ctx_p, ho_err_t *err);
    /* 1 and *msg_p = next envelope (a raw record, a `quarantine`, or a `skip`: a record
     * deliberately not imported, payload {code, reason, event_id, source_ref}, counted by
     * `handoff import` and never sent), 0 at the end, or an error (HO_ERR_IO: the file
     * cannot be read further) with err filled. */
    int (*cb_next)(void *ctx, ho_msg_t **msg_p, ho_err_t *err);
    /* Bytes of input consumed so far (progress). */
    uint64_t (*cb_offset)(void *ctx);
    void (*cb_close)(void **ctx_p);
} ho_connector_def_t;

const ho_connector_def_t *ho_connector_find(const char *name);
const ho_connector_def_t *ho_connector_at(size_t i);

/* "csv" or "jsonl" from the first bytes of a file; fills the header columns (CSV) or the
 * keys of the first JSON object. Free cols with ho_connector_cols_free. */
int ho_connector_sniff(const char *path, char *format, size_t cap, char ***cols_p, size_t *n_p,
                       ho_err_t *err);
void ho_connector_cols_free(char ***cols_p, size_t n);

/* ---- helpers for connector implementations ---- */
/* The raw envelope type of a kind: lead.raw, activity.raw, feedback.raw. */
const char *ho_connector_raw_type(ho_kind_t kind);
/* Build the raw envelope for a mapped record: fields (canonical, stolen), extra (stolen, may
 * be NULL), the source_ref {file, line}, the event id from the profile's id fields or from
 * record bytes. */
ho_msg_t *ho_connector_record(const ho_profile_t *profile, const char *file, long line,
                              json_t *fields, json_t *extra, const void *rec_bytes, size_t rec_len);
/* A `quarantine` envelope for a record the connector could not read (stage "import"). raw
 * is the record as text (may be NULL); it is kept so nothing is lost. */
ho_msg_t *ho_connector_quarantine(const ho_profile_t *profile, const char *file, long line,
                                  const char *code, const char *field, const char *reason,
                                  json_t *raw);

/* The next non-blank line of a line-oriented file (JSON Lines): getline into *line (cap *cap,
 * reused), *lineno and *offset advanced by the line read, a UTF-8 BOM dropped on line 1, the
 * line end cut and the text NUL-terminated. Lines of only blanks and tabs are skipped.
 * Returns 1 with *text_p / *len_p (inside *line), 0 at the end of the file, or HO_ERR_IO with
 * err naming the file. */
int ho_connector_next_line(FILE *f, const char *file, char **line, size_t *cap, long *lineno,
                           uint64_t *offset, char **text_p, size_t *len_p, ho_err_t *err);

#endif
