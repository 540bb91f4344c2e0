/*
 * scoring.h - the scoring model: fit x interest with recency decay, grade, quadrant, MQL,
 * and an explanation of every rule that fired.
 *
 * The model is data (deploy/scoring.yaml, documented there): it is the qualification
 * agreement between marketing and sales. A model is loaded once and is read-only afterwards,
 * so one model may score from several threads.
 *
 *     ho_err_t err = {0};
 *     ho_score_model_t *m = ho_score_model_load (config_dir, "scoring.yaml", &err);
 *     if (!m) fprintf (stderr, "%s\n", err.message);   // "scoring.yaml:14: fit.rules[2]..."
 *     ho_score_result_t r;
 *     if (ho_score_lead (m, lead, as_of, &r, &err) == HO_OK) { ... r.grade ... }
 *     ho_score_result_clear (&r);
 *     ho_score_model_destroy (&m);
 *
 * `lead` is the score.request snapshot (proto/messages.md): {lead_id, email, stage, owner,
 * fields: {...normalized fields...}, activities: [{type, path, url, occurred_at, campaign}]}.
 *
 * Arithmetic (deterministic, documented in deploy/scoring.yaml): every firing of a rule
 * contributes points x decay factor, rounded half away from zero to an integer ONCE PER
 * FIRING; a dimension is the sum of its firings' rounded points, then clamped to its floor
 * and ceiling (the clamp is itself listed in the explanation). So the points of the
 * explanation always add up to fit and interest exactly.
 */
#ifndef HO_SCORING_H
#define HO_SCORING_H

#include <jansson.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handoff/conf.h"
#include "handoff/msg.h"

#define HO_DAY_MS 86400000LL

typedef struct ho_score_model ho_score_model_t;

/* Load <config_dir>/<name> (or the built-in copy, or an absolute name) with
 * ho_conf_load_named. NULL with err naming file, line and key on any error. */
ho_score_model_t *ho_score_model_load(const char *config_dir, const char *name, ho_err_t *err);
/* Load a model file by path (relative to the current directory). */
ho_score_model_t *ho_score_model_load_file(const char *path, ho_err_t *err);
/* Parse model text; name stands for the file in error messages. */
ho_score_model_t *ho_score_model_parse(const char *text, size_t len, const char *name,
                                       ho_err_t *err);
/* Build from an already parsed YAML document (borrowed; only read during the call). */
ho_score_model_t *ho_score_model_from_conf(const ho_conf_t *conf, ho_err_t *err);
void ho_score_model_destroy(ho_score_model_t **self_p);

const char *ho_score_model_version(const ho_score_model_t *self);
/* Where the model came from ("deploy/scoring.yaml", "(built-in)/scoring.yaml"). */
const char *ho_score_model_name(const ho_score_model_t *self);
/* The interest window in ms (activities older than as_of - window are ignored). */
int64_t ho_score_model_window_ms(const ho_score_model_t *self);
/* One line for operators: "fit_rules=24 interest_rules=13 groups=8 window_days=90
 * decay=half_life_days:30 caps=3 fit_bands=60/40/20 interest_bands=40/20/8 good_fit=40
 * high_interest=20 mql=quadrants:mql_now". Writes into buf; returns buf. */
char *ho_score_model_describe(const ho_score_model_t *self, char *buf, size_t cap);

/* One rule firing. Strings are owned by the result (rule names borrowed from the model). */
typedef struct {
    const char *rule;    /* rule name (or "fit.floor", "interest.ceiling", ...) */
    const char *kind;    /* "fit" | "interest" */
    long long points;    /* rounded contribution: what the total is made of */
    int raw;             /* the rule's points before decay */
    double value;        /* exact contribution before rounding (raw x factor) */
    double factor;       /* decay factor applied (1 for fit rules and undecayed rules) */
    double age_days;     /* age of the activity at as_of (-1 for fit rules) */
    int64_t occurred_at; /* the activity's time (0 for fit rules) */
    char detail[200];    /* for people: what matched, and the decay arithmetic */
} ho_score_hit_t;

typedef struct {
    const char *model_version; /* borrowed from the model */
    int64_t as_of;
    int fit, interest, score; /* score = fit + interest */
    char grade[4];            /* fit band letter A-D + interest band digit 1-4, e.g. "A1" */
    const char *quadrant;     /* "mql_now" | "group_offering" | "nurture" | "never" */
    bool mql;
    bool disqualified;    /* a disqualify rule fired (mql forced false) */
    ho_score_hit_t *hits; /* every rule that fired, fit rules first, in model order */
    size_t n_hits;
    size_t activities;    /* activities in the snapshot */
    size_t counted;       /* activities inside the window that were looked at */
    size_t out_of_window; /* older than the window (ignored) */
    size_t future;        /* after as_of (ignored) */
    size_t capped;        /* dropped by a per type per day cap */
} ho_score_result_t;

/* Score one lead snapshot at as_of (ms). HO_OK, or HO_ERR_FIELD/HO_ERR_MISSING with err.field
 * naming the offending snapshot field ("lead.activities[3].occurred_at"). res is always
 * initialized (clear it either way). Every hit has its detail text. */
int ho_score_lead(const ho_score_model_t *model, const json_t *lead, int64_t as_of,
                  ho_score_result_t *res, ho_err_t *err);

/* ho_score_lead_opt flags */
#define HO_SCORE_DETAIL 1u /* write each hit's detail text (else detail is ""): for people */

/* ho_score_lead with flags; without HO_SCORE_DETAIL it is the scorer's hot path (the worker
 * sends the compact explanation, which needs no text). Same totals, hits and numbers. */
int ho_score_lead_opt(const ho_score_model_t *model, const json_t *lead, int64_t as_of,
                      unsigned flags, ho_score_result_t *res, ho_err_t *err);
void ho_score_result_clear(ho_score_result_t *res);

/* ---- the snapshot as the model reads it ----
 * ho_score_lead takes a jansson tree; a scorer on the hot path reads the score.request's
 * msgpack straight into this view instead (ho_score_snap_from_msgpack) and scores it with
 * ho_score_snap: no tree, no allocation per value. Both routes give the same result, errors
 * included (ho_score_lead builds this view from its tree). Everything is borrowed. */
typedef enum {
    HO_SV_ABSENT = 0, /* no such key */
    HO_SV_NULL,
    HO_SV_STR,
    HO_SV_INT,
    HO_SV_REAL,
    HO_SV_BOOL,
    HO_SV_MAP,
    HO_SV_ARRAY,
} ho_sv_kind_t;

typedef struct {
    ho_sv_kind_t kind;
    const char *s; /* HO_SV_STR: NUL-terminated (a string holding a NUL reads up to it) */
    int64_t i;     /* HO_SV_INT */
    double d;      /* HO_SV_REAL */
    bool b;        /* HO_SV_BOOL */
} ho_sv_t;

typedef struct {
    const char *key; /* klen bytes, not NUL-terminated */
    size_t klen;
    ho_sv_t v;
} ho_score_kv_t;

typedef struct {
    bool is_map; /* the element is a map (else the other members are absent) */
    ho_sv_t occurred_at, type, path, url, campaign;
} ho_score_act_t;

typedef struct {
    const ho_score_kv_t *top; /* every key of the lead map */
    size_t n_top;
    ho_sv_kind_t fields_kind; /* lead.fields: ABSENT, NULL, MAP, or another kind (refused) */
    const ho_score_kv_t *fields;
    size_t n_fields;
    ho_sv_kind_t acts_kind; /* lead.activities: ABSENT, NULL, ARRAY, or another kind (refused) */
    const ho_score_act_t *acts; /* NULL when n_acts > the model's limit (refused unread) */
    size_t n_acts;
} ho_score_snap_t;

/* Score a snapshot view (the lead map's own shape is the caller's to check). Same contract
 * as ho_score_lead_opt. */
int ho_score_snap(const ho_score_model_t *model, const ho_score_snap_t *snap, int64_t as_of,
                  unsigned flags, ho_score_result_t *res, ho_err_t *err);

/* Space for a view of a msgpack snapshot, reused from lead to lead (one per thread). */
typedef struct ho_score_snapbuf ho_score_snapbuf_t;
ho_score_snapbuf_t *ho_score_snapbuf_new(void);
void ho_score_snapbuf_destroy(ho_score_snapbuf_t **self_p);
/* The view of a lead map unpacked by msgpack-c (of type MAP) from packed_len bytes that
 * passed the message decoder's checks, valid until the next call on buf. Strings are copied
 * NUL-terminated into buf (they fit in packed_len: each has a header byte at least).
 * HO_OK or HO_ERR_NOMEM. */
int ho_score_snap_from_msgpack(ho_score_snapbuf_t *buf, const msgpack_object *lead,
                               size_t packed_len, ho_score_snap_t *snap);

/* The lead.scored fields of ho_score_result_to_payload as msgpack key/value pairs (no map
 * header: the caller's map counts HO_SCORE_PAYLOAD_PAIRS more than its own pairs). Same
 * values and key order as the jansson form. HO_OK or HO_ERR_NOMEM. */
#define HO_SCORE_PAYLOAD_PAIRS 9
int ho_score_result_pack(const ho_score_result_t *res, msgpack_packer *pk);

/* The explanation array of lead.scored: [{rule, kind, points, detail, ...}] (new reference).
 * Interest entries also carry raw, factor, value, age_days, occurred_at. */
json_t *ho_score_explanation_json(const ho_score_result_t *res);
/* The compact explanation of lead.scored (proto/messages.md): one entry per rule that fired,
 * in hit order, {rule, points} for a fit rule or a clamp, and for an interest rule also
 * n (firings), raw (points per firing before decay) and last (the newest firing's activity
 * time, ms). The points still add up to fit and interest exactly. New reference. */
json_t *ho_score_explanation_compact(const ho_score_result_t *res);
/* "fit" or "interest" for an explanation entry, compact (no kind: an entry with n, or a rule
 * named interest.*, is interest) or long form. */
const char *ho_score_entry_kind(const json_t *entry);
/* One explanation entry as text for people, compact or the older long form ({rule, kind,
 * points, detail}): "interest  +17  pricing_page: 3 x 10 points, decayed (newest
 * 2026-11-18T09:00Z, 2.0 d before the score)". as_of is the score's time (0 = unknown).
 * Writes into buf; returns buf. */
char *ho_score_explain_entry(const json_t *entry, int64_t as_of, char *buf, size_t cap);
/* Fill a lead.scored payload object with model_version, fit, interest, score, grade,
 * quadrant, mql, explanation (compact) and as_of. */
int ho_score_result_to_payload(const ho_score_result_t *res, json_t *payload);

/* Round half away from zero (the model's only rounding). */
int ho_score_round(double v);

#endif
