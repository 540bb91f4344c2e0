/* store_worker.c - the `store` service: the one writer of the lead database.
 *
 * Each request batch is applied in one transaction (one SAVEPOINT per message, so a bad
 * message is rolled back and quarantined while the rest of the batch goes on). Every
 * applied event id is recorded: a redelivered message changes nothing. Messages this worker
 * emits (score.request, route.request, handoff.ready, sla.breach) are built after the
 * message's effects are written, and dropped with them when the message is undone.
 * See proto/messages.md for every payload. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "handoff/connector.h"
#include "handoff/lifecycle.h"
#include "handoff/log.h"
#include "handoff/scoring.h"
#include "handoff/store.h"
#include "handoff/tz.h"
#include "handoff/worker.h"

typedef struct {
    ho_store_t *store;
    json_t *conf;
    char *origin;
    int64_t last_rescore;
    bool rescored_once;
    int64_t last_seq; /* score.request seq last handed out */
    /* per batch: lead id -> {reason, as_of, trigger} for the one score.request per lead */
    json_t *to_score;
    /* per message: lead id -> its to_score entry before the message (null: none), so an
     * undone message takes its entries back without copying the whole batch's map */
    json_t *to_score_undo;
} s_ctx_t;

/* data errors: the message is kept in quarantine; anything else retries the batch */
static bool s_data_error(int rc)
{
    return rc == HO_ERR_STATE || rc == HO_ERR_FIELD || rc == HO_ERR_MISSING ||
           rc == HO_ERR_NOT_FOUND || rc == HO_ERR_MALFORMED;
}

static const char *s_str(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int64_t s_int(const json_t *o, const char *k, int64_t def)
{
    const json_t *v = json_object_get(o, k);
    if (json_is_integer(v)) {
        return json_integer_value(v);
    }
    if (json_is_real(v)) {
        return (int64_t)json_real_value(v);
    }
    return def;
}

static json_t *s_jstr(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_null();
}

static json_t *s_jint(int64_t v)
{
    return v == HO_NULL_INT ? json_null() : json_integer(v);
}

static int s_mkdirs(const char *dir)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
                return -1;
            }
            *p = '/';
        }
    }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* ---- lifecycle of the worker ---- */
static void s_exit(void **ctx_p)
{
    if (!ctx_p || !*ctx_p) {
        return;
    }
    s_ctx_t *self = *ctx_p;
    ho_store_destroy(&self->store);
    json_decref(self->conf);
    json_decref(self->to_score);
    json_decref(self->to_score_undo);
    free(self->origin);
    free(self);
    *ctx_p = NULL;
}

static int s_init(const ho_worker_env_t *env, void **ctx_p, ho_err_t *err)
{
    s_ctx_t *self = calloc(1, sizeof *self);
    if (!self) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    void *vp = self;
    self->origin = strdup(env->origin ? env->origin : "store");
    self->to_score = json_object();
    self->to_score_undo = json_object();
    self->conf = ho_store_config_load(env->config_dir, env->conf, env->settings, err);
    if (!self->conf) {
        s_exit(&vp);
        return err->code ? err->code : HO_ERR_CONFIG;
    }
    const char *dir = env->data_dir && env->data_dir[0] ? env->data_dir : "./data";
    if (s_mkdirs(dir) != 0) {
        s_exit(&vp);
        return ho_err_set(err, HO_ERR_IO, "data_dir", "cannot create data dir %s: %s", dir,
                          strerror(errno));
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/handoff.db", dir);
    ho_store_opts_t opts = {
        .strip_plus = strcmp(s_str(self->conf, "plus_addressing"), "strip") == 0,
        .precedence = json_object_get(self->conf, "precedence"),
        .durability = s_str(self->conf, "durability"),
    };
    self->store = ho_store_open_opts(path, &opts, err);
    if (!self->store) {
        s_exit(&vp);
        return err->code ? err->code : HO_ERR_IO;
    }
    /* read back from the engine: what a commit survives (docs/store-schema.md) */
    int sync = ho_store_synchronous(self->store);
    ho_info("store: %s durability %s (synchronous=%d)", path,
            sync == 2 ? "full" : (sync == 1 ? "normal" : "other"), sync);
    *ctx_p = self;
    return HO_OK;
}

/* ---- snapshots ---- */
static json_t *s_activities(s_ctx_t *self, int64_t lead_id, int limit, ho_err_t *err)
{
    json_t *rows = NULL;
    json_t *args = json_pack("{sIsi}", "lead_id", (json_int_t)lead_id, "limit", limit);
    int rc = ho_store_query(self->store, HO_Q_ACTIVITIES, args, &rows, err);
    json_decref(args);
    if (rc != HO_OK) {
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        json_array_append_new(
            out, json_pack("{sOsOsOsOsOsO}", "type", json_object_get(r, "type"), "path",
                           json_object_get(r, "path"), "url", json_object_get(r, "url"),
                           "occurred_at", json_object_get(r, "occurred_at"), "campaign",
                           json_object_get(r, "campaign"), "asset", json_object_get(r, "asset")));
    }
    json_decref(rows);
    return out;
}

static json_t *s_snapshot(s_ctx_t *self, const ho_lead_t *lead, ho_err_t *err)
{
    json_t *acts = s_activities(self, lead->id, 500, err);
    if (!acts) {
        return NULL;
    }
    return json_pack("{sIsososososo}", "lead_id", (json_int_t)lead->id, "email",
                     s_jstr(lead->email), "stage", s_jstr(lead->stage), "owner",
                     s_jstr(lead->owner_rep_id), "fields", ho_store_lead_fields(self->store, lead),
                     "activities", acts);
}

static json_t *s_score_obj(const ho_lead_t *lead)
{
    return json_pack("{sososososo}", "fit", s_jint(lead->fit), "interest", s_jint(lead->interest),
                     "grade", s_jstr(lead->grade), "quadrant", s_jstr(lead->quadrant),
                     "model_version", s_jstr(lead->model_version));
}

static ho_msg_t *s_new_msg(const char *type, const char *id_prefix, const char *key)
{
    ho_msg_t *m = ho_msg_new(type);
    if (m && key) {
        char id[HO_MSG_MAX_ID];
        ho_msg_make_id(id, sizeof id, id_prefix, key, strlen(key));
        ho_msg_set_id(m, id);
    }
    return m;
}

/* route.request fields (also carried by sla.breach so route can reassign alone) */
static int s_route_fields(s_ctx_t *self, const ho_lead_t *lead, json_t *p, int64_t as_of,
                          json_t *exclude, const char *reason, ho_err_t *err)
{
    json_t *snap = s_snapshot(self, lead, err);
    if (!snap) {
        json_decref(exclude);
        return err->code;
    }
    json_object_set_new(snap, "score", s_score_obj(lead));
    json_t *owner = json_null();
    if (lead->domain && !lead->personal_email) {
        json_t *rows = NULL;
        json_t *args = json_pack("{sssI}", "domain", lead->domain, "lead_id", (json_int_t)lead->id);
        int rc = ho_store_query(self->store, HO_Q_DOMAIN_OWNER, args, &rows, err);
        json_decref(args);
        if (rc != HO_OK) {
            json_decref(snap);
            json_decref(exclude);
            return rc;
        }
        json_t *o = json_object_get(json_array_get(rows, 0), "owner_rep_id");
        if (json_is_string(o)) {
            owner = json_incref(o);
        }
        json_decref(rows);
    }
    json_object_set_new(p, "lead", snap);
    json_object_set_new(p, "as_of", json_integer(as_of));
    json_object_set_new(p, "account_owner", owner);
    json_object_set_new(p, "exclude", exclude ? exclude : json_array());
    json_object_set_new(p, "reason", json_string(reason));
    return HO_OK;
}

/* route.request.as_of for an unowned MQL: the time of its ML->MQL transition (messages.md,
 * "Time semantics"), which also keys the request id. A re-score that lands before the router's
 * lead.assigned (a replayed import outruns the router) thus repeats the same request: the
 * router answers a known id with the same decision and the store takes that lead.assigned once.
 * (It used to ask anew as of each re-score: one lead got an assignment per re-score, the last
 * one stamped at its newest activity.) Only a lead the router has already answered without an
 * owner (an open queued assignment) asks anew, as of this score. */
static int64_t s_route_as_of(s_ctx_t *self, const ho_lead_t *lead, int64_t as_of, int *rc,
                             ho_err_t *err)
{
    if (lead->mql_at == HO_NULL_INT || lead->mql_at > as_of) {
        return as_of;
    }
    json_t *open = NULL;
    json_t *args = json_pack("{sI}", "lead_id", (json_int_t)lead->id);
    *rc = ho_store_query(self->store, HO_Q_OPEN_ASSIGNMENTS, args, &open, err);
    json_decref(args);
    int64_t at = *rc == HO_OK && json_array_size(open) == 0 ? lead->mql_at : as_of;
    json_decref(open);
    return at;
}

static int s_emit_route(s_ctx_t *self, const ho_lead_t *lead, int64_t as_of, const char *why,
                        ho_out_t *out, ho_err_t *err)
{
    char key[256];
    snprintf(key, sizeof key, "%s|%lld|%lld", why, (long long)lead->id, (long long)as_of);
    ho_msg_t *m = s_new_msg("route.request", "rr", key);
    if (!m) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    ho_msg_set_ts(m, as_of);
    int rc = s_route_fields(self, lead, ho_msg_payload(m), as_of, NULL, "mql", err);
    if (rc != HO_OK) {
        ho_msg_destroy(&m);
        return rc;
    }
    return ho_out_emit(out, &m);
}

/* One score.request per lead per batch: remember the newest trigger. */
static void s_want_score(s_ctx_t *self, int64_t lead_id, const char *reason, int64_t as_of)
{
    char key[32];
    snprintf(key, sizeof key, "%lld", (long long)lead_id);
    json_t *cur = json_object_get(self->to_score, key);
    if (!json_object_get(self->to_score_undo, key)) {
        json_object_set_new(self->to_score_undo, key, cur ? json_deep_copy(cur) : json_null());
    }
    if (!cur) {
        json_object_set_new(self->to_score, key,
                            json_pack("{sssI}", "reason", reason, "as_of", (json_int_t)as_of));
        return;
    }
    if (as_of > s_int(cur, "as_of", 0)) {
        json_object_set_new(cur, "as_of", json_integer(as_of));
    }
    /* "new" beats "update" beats "activity": the scorer learns the lead is new */
    const char *r = s_str(cur, "reason");
    if (strcmp(reason, "new") == 0 ||
        (strcmp(reason, "update") == 0 && strcmp(r, "activity") == 0)) {
        json_object_set_new(cur, "reason", json_string(reason));
    }
}

static int s_flush_scores(s_ctx_t *self, ho_out_t *out, ho_err_t *err)
{
    const char *key;
    json_t *v;
    int rc = HO_OK;
    ho_lead_t lead;
    ho_lead_init(&lead);
    json_object_foreach(self->to_score, key, v)
    {
        int64_t id = strtoll(key, NULL, 10);
        rc = ho_store_lead_get(self->store, NULL, id, &lead, err);
        if (rc == HO_ERR_NOT_FOUND) {
            rc = HO_OK;
            continue;
        }
        if (rc != HO_OK) {
            break;
        }
        if (lead.erased) {
            continue;
        }
        /* Event time, but never older than the lead's last scoring: a late activity that
         * happened before it would be scored "as of" the past and its lead.scored dropped as
         * an older score (s_on_scored), so the lead's score would never move. Scoring as of
         * the last scoring counts the late activity (it is not after as_of) and decays to
         * the same point in time the lead's score already stands at. */
        int64_t trigger = s_int(v, "as_of", 0), as_of = trigger;
        if (lead.scored_at != HO_NULL_INT && lead.scored_at > as_of) {
            as_of = lead.scored_at;
        }
        json_t *snap = s_snapshot(self, &lead, err);
        /* The id names what is scored, not only when: with as_of clamped, two late records
         * of one lead ask "as of" the same time, and equal ids would make the second reply a
         * duplicate of the first (dropped, the lead keeps the score without the new record).
         * A fingerprint of what the scorer reads (fields, stage, owner, the activities' count
         * and times) tells them apart and is the same when a batch is redelivered. */
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */
        const char *parts[] = {lead.fields_json, lead.stage, lead.owner_rep_id};
        for (size_t pi = 0; pi < sizeof parts / sizeof parts[0]; pi++) {
            for (const char *c = parts[pi] ? parts[pi] : ""; *c; c++) {
                h = (h ^ (unsigned char)*c) * 1099511628211ULL;
            }
            h = (h ^ 0xff) * 1099511628211ULL;
        }
        size_t ai;
        json_t *act;
        json_array_foreach(json_object_get(snap, "activities"), ai, act)
        {
            h = (h ^ (uint64_t)s_int(act, "occurred_at", 0)) * 1099511628211ULL;
        }
        char k[256];
        snprintf(k, sizeof k, "%lld|%lld|%s|%s|%lld|%016llx", (long long)id, (long long)as_of,
                 s_str(v, "reason"), lead.updated_at != HO_NULL_INT ? "u" : "", (long long)trigger,
                 (unsigned long long)h);
        ho_msg_t *m = s_new_msg("score.request", "sr", k);
        if (!m || !snap) {
            ho_msg_destroy(&m);
            json_decref(snap);
            rc = err->code ? err->code : HO_ERR_NOMEM;
            break;
        }
        ho_msg_set_ts(m, as_of);
        json_t *p = ho_msg_payload(m);
        json_object_set_new(p, "as_of", json_integer(as_of));
        /* Two requests of one lead can be as of the same time (as_of clamped above) and be
         * answered in either order by two scorers: seq says which snapshot is newer (the
         * scorer echoes it in lead.scored, s_on_scored compares it after as_of). The clock
         * in microseconds, strictly increasing: it keeps growing across restarts. */
        int64_t seq = ho_now_ms() * 1000;
        self->last_seq = seq > self->last_seq ? seq : self->last_seq + 1;
        json_object_set_new(p, "seq", json_integer(self->last_seq));
        json_object_set(p, "reason", json_object_get(v, "reason"));
        json_object_set_new(p, "lead", snap);
        if ((rc = ho_out_emit(out, &m)) != HO_OK) {
            break;
        }
    }
    ho_lead_clear(&lead);
    json_object_clear(self->to_score);
    return rc;
}

/* ---- quarantine rows written by the store itself ---- */
static int s_quarantine_row(s_ctx_t *self, const char *qid, const char *stage, const char *code,
                            const char *field, const char *reason, const json_t *ref,
                            const char *source, const char *in_id, const char *in_type,
                            const json_t *raw, int64_t at, ho_err_t *err)
{
    json_t *row = json_object();
    json_object_set_new(row, "event_id", json_string(qid));
    json_object_set_new(row, "stage", s_jstr(stage));
    json_object_set_new(row, "code", s_jstr(code));
    json_object_set_new(row, "field", s_jstr(field));
    json_object_set_new(row, "reason", s_jstr(reason));
    json_object_set_new(row, "source", s_jstr(source));
    json_t *file = json_object_get(ref, "file");
    json_object_set(row, "file", file ? file : json_object_get(ref, "webhook"));
    json_object_set(row, "line", json_object_get(ref, "line"));
    json_object_set_new(row, "input_event_id", s_jstr(in_id));
    json_object_set_new(row, "input_type", s_jstr(in_type));
    json_object_set(row, "raw_json", raw ? (json_t *)raw : json_null());
    json_object_set_new(row, "at", json_integer(at));
    int64_t id = 0;
    int rc = ho_store_add(self->store, HO_T_QUARANTINE, row, &id, err);
    json_decref(row);
    if (rc != HO_OK || id != 0) {
        return rc;
    }
    /* The same refusal again (its id derives from the input's). A redelivery changes
     * nothing; but after a `dlq replay` (replayed_at set) a refusal newer than the replay
     * means the replayed record failed again: back into the list of open rows, with the new
     * reason, instead of looking done. */
    json_t *rows = NULL, *args = json_pack("{ss}", "event_id", qid);
    rc = ho_store_query(self->store, HO_Q_QUARANTINE_BY_EVENT, args, &rows, err);
    json_decref(args);
    json_t *old = json_array_get(rows, 0);
    const json_t *replayed = json_object_get(old, "replayed_at");
    if (rc == HO_OK && json_is_integer(replayed) && at >= json_integer_value(replayed)) {
        json_t *set =
            json_pack("{sosssssssI}", "replayed_at", json_null(), "code", code ? code : "", "field",
                      field ? field : "", "reason", reason ? reason : "", "at", (json_int_t)at);
        rc = ho_store_update(self->store, HO_T_QUARANTINE, s_int(old, "id", 0), set, err);
        json_decref(set);
    }
    json_decref(rows);
    return rc;
}

static int s_quarantine_msg(s_ctx_t *self, const ho_msg_t *in, const char *code,
                            const ho_err_t *why, ho_err_t *err)
{
    char key[512], qid[HO_MSG_MAX_ID];
    int len = snprintf(key, sizeof key, "%s|store|%s|%s", ho_msg_id(in), code, why->field);
    ho_msg_make_id(qid, sizeof qid, "q", key, len > 0 ? (size_t)len : 0);
    const json_t *p = ho_msg_payload(in);
    return s_quarantine_row(self, qid, "store", code, why->field, why->message,
                            json_object_get(p, "source_ref"), s_str(p, "source"), ho_msg_id(in),
                            ho_msg_type(in), p, ho_now_ms(), err);
}

/* ---- lead.normalized / activity.normalized ---- */
static int s_apply_pending(s_ctx_t *self, const char *email, ho_out_t *out, ho_err_t *err);

static int s_on_lead(s_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err)
{
    ho_upsert_t res;
    int rc = ho_store_upsert_lead(self->store, ho_msg_id(in), ho_msg_payload(in), &res, err);
    if (rc != HO_OK || res.duplicate) {
        return rc;
    }
    if (res.created || res.changed) {
        int64_t at = s_int(ho_msg_payload(in), "observed_at", ho_msg_ts(in));
        s_want_score(self, res.lead_id, res.created ? "new" : "update", at);
    }
    if (res.created) {
        /* the new lead's email is the record's, normalized as the upsert keyed it (reading
         * the row back by id for it was ~13% of the handler) */
        const json_t *p = ho_msg_payload(in);
        const char *raw = s_str(p, "email");
        if (!raw) {
            raw = s_str(json_object_get(p, "fields"), "email");
        }
        char *email = ho_store_normalize_email(self->store, raw, err);
        if (!email) {
            return err->code;
        }
        rc = s_apply_pending(self, email, out, err);
        free(email);
    }
    return rc;
}

static int s_on_activity(s_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err)
{
    const json_t *p = ho_msg_payload(in);
    const char *type = s_str(p, "type");
    if (!type || !type[0]) {
        return ho_err_set(err, HO_ERR_MISSING, "payload.type", "activity has no type");
    }
    char *email = ho_store_normalize_email(self->store, s_str(p, "email"), err);
    if (!email) {
        snprintf(err->field, sizeof err->field, "payload.email");
        return err->code;
    }
    int64_t at = s_int(p, "occurred_at", ho_msg_ts(in));
    int rc = ho_store_claim_event(self->store, ho_msg_id(in), "activity.normalized", at, err);
    if (rc <= 0) {
        free(email);
        return rc;
    }
    ho_lead_t lead;
    ho_lead_init(&lead);
    bool created = false;
    rc = ho_store_lead_get(self->store, email, 0, &lead, err);
    const char *source = s_str(p, "source_system");
    if (!source || !source[0]) {
        source = s_str(p, "source");
    }
    if (rc == HO_ERR_NOT_FOUND) {
        /* Engagement from someone no lead source has sent yet: a minimal marketing lead,
         * so the activity is never lost and scoring can start. */
        created = true;
        ho_lead_init(&lead);
        lead.email = email;
        email = NULL;
        ho_lead_set(&lead.stage, "ML");
        ho_lead_set(&lead.domain, strchr(lead.email, '@') + 1);
        ho_lead_set(&lead.original_source, source ? source : "activity");
        ho_lead_set(&lead.original_campaign, s_str(p, "campaign"));
        lead.created_at = lead.updated_at = at;
        lead.fields_json = strdup("{}");
        rc = ho_store_lead_put(self->store, &lead, err);
        if (rc == HO_OK) {
            json_t *row =
                json_pack("{sIsssssosososI}", "lead_id", (json_int_t)lead.id, "event_id",
                          ho_msg_id(in), "source", source ? source : "activity", "original_source",
                          s_jstr(source), "campaign", s_jstr(s_str(p, "campaign")), "file",
                          json_incref(json_object_get(json_object_get(p, "source_ref"), "file")
                                          ?: json_null()),
                          "observed_at", (json_int_t)at);
            rc = ho_store_add(self->store, HO_T_LEAD_SOURCES, row, NULL, err);
            json_decref(row);
        }
    }
    free(email);
    if (rc != HO_OK) {
        ho_lead_clear(&lead);
        return rc;
    }
    json_t *row = json_object();
    json_object_set_new(row, "lead_id", json_integer(lead.id));
    json_object_set_new(row, "event_id", json_string(ho_msg_id(in)));
    json_object_set_new(row, "type", json_string(type));
    json_object_set_new(row, "occurred_at", json_integer(at));
    static const char *const cols[] = {"url", "path", "campaign", "asset", "source_system"};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        json_object_set(row, cols[i], json_object_get(p, cols[i]));
    }
    rc = ho_store_add(self->store, HO_T_ACTIVITIES, row, NULL, err);
    json_decref(row);
    if (rc == HO_OK) {
        if (lead.first_touch_at == HO_NULL_INT || at < lead.first_touch_at) {
            lead.first_touch_at = at;
        }
        if (lead.last_touch_at == HO_NULL_INT || at > lead.last_touch_at) {
            lead.last_touch_at = at;
        }
        rc = ho_store_lead_put(self->store, &lead, err);
    }
    if (rc == HO_OK) {
        s_want_score(self, lead.id, created ? "new" : "activity", at);
        if (created) {
            rc = s_apply_pending(self, lead.email, out, err);
        }
    }
    ho_lead_clear(&lead);
    return rc;
}

/* ---- lead.scored ---- */
/* Sales sent the lead back (a rejection, not a decayed score) and nothing has happened since:
 * the score that made it an MQL is still the score it has, so re-qualifying it on the next
 * re-score would hand the rep the lead they just refused. It becomes an MQL again only on
 * engagement (an activity or a lead record) after the rejection. */
static int s_sales_recycled(s_ctx_t *self, const ho_lead_t *lead, bool *hold, ho_err_t *err)
{
    *hold = false;
    json_t *rows = NULL;
    json_t *args = json_pack("{sIsi}", "lead_id", (json_int_t)lead->id, "limit", 1000);
    int rc = ho_store_query(self->store, HO_Q_HISTORY, args, &rows, err);
    json_decref(args);
    const json_t *last = NULL;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *kind = s_str(r, "kind");
        if (!kind || strcmp(kind, "transition") == 0) {
            last = r;
        }
    }
    if (rc == HO_OK && last && s_str(last, "to_stage") &&
        strcmp(s_str(last, "to_stage"), "RECYCLED") == 0 && s_str(last, "actor") &&
        strcmp(s_str(last, "actor"), "score") != 0) {
        int64_t since = s_int(last, "at", 0);
        *hold = lead->last_touch_at == HO_NULL_INT || lead->last_touch_at <= since;
    }
    json_decref(rows);
    return rc;
}

static int s_find_lead(s_ctx_t *self, const json_t *p, ho_lead_t *lead, ho_err_t *err)
{
    int64_t id = s_int(p, "lead_id", 0);
    int rc = HO_ERR_NOT_FOUND;
    if (id > 0) {
        rc = ho_store_lead_get(self->store, NULL, id, lead, err);
    }
    if (rc == HO_ERR_NOT_FOUND && s_str(p, "email")) {
        char *email = ho_store_normalize_email(self->store, s_str(p, "email"), err);
        if (!email) {
            return err->code;
        }
        rc = ho_store_lead_get(self->store, email, 0, lead, err);
        free(email);
    }
    if (rc == HO_ERR_NOT_FOUND) {
        ho_err_set(err, HO_ERR_NOT_FOUND, "payload.lead_id", "no lead with id %lld or email %s",
                   (long long)id, s_str(p, "email") ? s_str(p, "email") : "(none)");
    }
    return rc;
}

static int s_on_scored(s_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err)
{
    const json_t *p = ho_msg_payload(in);
    ho_lead_t lead;
    ho_lead_init(&lead);
    int rc = s_find_lead(self, p, &lead, err);
    if (rc != HO_OK) {
        return rc;
    }
    int64_t as_of = s_int(p, "as_of", ho_msg_ts(in));
    const char *model = s_str(p, "model_version");
    if (!model || !json_is_integer(json_object_get(p, "fit")) ||
        !json_is_integer(json_object_get(p, "interest"))) {
        ho_lead_clear(&lead);
        return ho_err_set(err, HO_ERR_MISSING, "payload.model_version",
                          "lead.scored needs model_version, fit and interest");
    }
    rc = ho_store_claim_event(self->store, ho_msg_id(in), "lead.scored", as_of, err);
    if (rc <= 0) {
        ho_lead_clear(&lead);
        return rc;
    }
    int64_t fit = s_int(p, "fit", 0), interest = s_int(p, "interest", 0);
    int64_t score = s_int(p, "score", fit + interest);
    bool mql = json_is_true(json_object_get(p, "mql"));
    json_t *row = json_object();
    json_object_set_new(row, "lead_id", json_integer(lead.id));
    json_object_set_new(row, "event_id", json_string(ho_msg_id(in)));
    json_object_set_new(row, "at", json_integer(as_of));
    json_object_set_new(row, "model_version", json_string(model));
    json_object_set_new(row, "fit", json_integer(fit));
    json_object_set_new(row, "interest", json_integer(interest));
    json_object_set_new(row, "score", json_integer(score));
    json_object_set(row, "grade", json_object_get(p, "grade"));
    json_object_set(row, "quadrant", json_object_get(p, "quadrant"));
    json_object_set_new(row, "mql", json_integer(mql));
    const json_t *ex = json_object_get(p, "explanation");
    json_object_set(row, "explanation_json", ex ? (json_t *)ex : json_array());
    /* An older score arriving late is kept in scores but does not move the lead: older =
     * as of an earlier time, or as of the same time but answering an earlier request (its
     * seq, when both the reply and the score the lead holds have one). */
    const json_t *jseq = json_object_get(p, "seq");
    int64_t seq = json_is_integer(jseq) ? json_integer_value(jseq) : HO_NULL_INT;
    bool older =
        lead.scored_at != HO_NULL_INT &&
        (as_of < lead.scored_at || (as_of == lead.scored_at && seq != HO_NULL_INT &&
                                    lead.score_seq != HO_NULL_INT && seq < lead.score_seq));
    /* Scores are a history of changes: a re-score that leaves the lead's score as it is
     * (same model, fit, interest, grade, quadrant, and no stage change to come from mql)
     * writes no row; the lead still moves to the newer as_of below. */
    const char *stage = lead.stage ? lead.stage : "";
    bool moves = mql ? (!strcmp(stage, "ML") || !strcmp(stage, "RECYCLED"))
                     : (!strcmp(stage, "MQL") && !lead.owner_rep_id);
    bool same = !older && !moves && lead.scored_at != HO_NULL_INT && lead.fit == fit &&
                lead.interest == interest && lead.model_version &&
                !strcmp(lead.model_version, model) && lead.grade && s_str(p, "grade") &&
                !strcmp(lead.grade, s_str(p, "grade")) && lead.quadrant &&
                s_str(p, "quadrant") && !strcmp(lead.quadrant, s_str(p, "quadrant"));
    rc = same ? HO_OK : ho_store_add(self->store, HO_T_SCORES, row, NULL, err);
    json_decref(row);
    if (rc != HO_OK || older) {
        ho_lead_clear(&lead);
        return rc;
    }
    lead.score_seq = seq;
    lead.fit = fit;
    lead.interest = interest;
    lead.score = score;
    ho_lead_set(&lead.grade, s_str(p, "grade"));
    ho_lead_set(&lead.quadrant, s_str(p, "quadrant"));
    ho_lead_set(&lead.model_version, model);
    lead.scored_at = as_of;
    rc = ho_store_lead_put(self->store, &lead, err);
    char why[160];
    snprintf(why, sizeof why, "score %lld (fit %lld, interest %lld, %s) by model %s",
             (long long)score, (long long)fit, (long long)interest,
             s_str(p, "grade") ? s_str(p, "grade") : "-", model);
    bool qualified = false, hold = false;
    if (rc == HO_OK && mql && lead.stage && strcmp(lead.stage, "RECYCLED") == 0) {
        rc = s_sales_recycled(self, &lead, &hold, err);
    }
    if (rc == HO_OK && mql && !hold && lead.stage &&
        (strcmp(lead.stage, "ML") == 0 || strcmp(lead.stage, "RECYCLED") == 0)) {
        rc = ho_store_transition(self->store, &lead, "qualify", as_of, "score", why, ho_msg_id(in),
                                 err);
        qualified = rc == HO_OK;
    } else if (rc == HO_OK && !mql && lead.stage && strcmp(lead.stage, "MQL") == 0 &&
               !lead.owner_rep_id) {
        rc = ho_store_transition(self->store, &lead, "decay", as_of, "score", "score_decayed",
                                 ho_msg_id(in), err);
    }
    if (rc == HO_OK && mql && strcmp(lead.stage, "MQL") == 0 && !lead.owner_rep_id) {
        int64_t route_as_of = s_route_as_of(self, &lead, as_of, &rc, err);
        if (rc == HO_OK) {
            rc = s_emit_route(self, &lead, route_as_of, "mql", out, err);
        }
    }
    if (rc == HO_OK && qualified) {
        rc = s_apply_pending(self, lead.email, out, err);
    }
    ho_lead_clear(&lead);
    return rc;
}

/* ---- lead.assigned -> handoff.ready ---- */
static const char *const s_stages[] = {"awareness", "consideration", "decision"};

/* Buyer-journey stage of one activity: 0 awareness (early: blog, emails, general pages),
 * 1 consideration (webinars, downloads, product and case-study pages), 2 decision (late:
 * pricing, demo, trial, contact). */
static int s_act_stage(const json_t *a)
{
    static const char *const decision[] = {"/pricing", "/demo", "/trial", "/contact",
                                           "/quote",   "/buy",  NULL};
    static const char *const consider[] = {
        "/case-stud", "/customers",    "/product",   "/compare", "/docs",
        "/features",  "/integrations", "/solutions", "/webinar", NULL};
    const char *t = s_str(a, "type");
    const char *path = s_str(a, "path");
    if (t && (strcmp(t, "demo_request") == 0 || strcmp(t, "free_trial_signup") == 0)) {
        return 2;
    }
    for (int k = 0; path && decision[k]; k++) {
        if (strstr(path, decision[k])) {
            return 2;
        }
    }
    if (t && (strcmp(t, "webinar_attended") == 0 || strcmp(t, "content_download") == 0)) {
        return 1;
    }
    for (int k = 0; path && consider[k]; k++) {
        if (strstr(path, consider[k])) {
            return 1;
        }
    }
    return 0;
}

/* The explanation entries that added most, largest first: why this lead is an MQL. */
static json_t *s_top_reasons(const json_t *explanation, size_t max)
{
    json_t *out = json_array();
    size_t n = json_array_size(explanation);
    bool *used = calloc(n + 1, sizeof *used);
    for (size_t k = 0; used && k < max; k++) {
        size_t best = n;
        for (size_t i = 0; i < n; i++) {
            json_int_t pts =
                json_integer_value(json_object_get(json_array_get(explanation, i), "points"));
            if (!used[i] && pts > 0 &&
                (best == n || pts > json_integer_value(json_object_get(
                                        json_array_get(explanation, best), "points")))) {
                best = i;
            }
        }
        if (best == n) {
            break;
        }
        used[best] = true;
        const json_t *e = json_array_get(explanation, best);
        /* compact explanations (lead.scored) carry no kind: derived from the entry */
        json_array_append_new(out, json_pack("{sssOsOsO}", "kind", ho_score_entry_kind(e), "rule",
                                             json_object_get(e, "rule") ?: json_null(), "points",
                                             json_object_get(e, "points"), "detail",
                                             json_object_get(e, "detail") ?: json_null()));
    }
    free(used);
    return out;
}

static int s_handoff_packet(s_ctx_t *self, const ho_lead_t *lead, const json_t *p,
                            const char *in_id, ho_out_t *out, ho_err_t *err)
{
    json_t *args = json_pack("{sIsi}", "lead_id", (json_int_t)lead->id, "limit", 10);
    json_t *acts = s_activities(self, lead->id, 500, err);
    json_t *top = NULL, *stats = NULL, *scores = NULL, *sources = NULL;
    int rc = acts ? HO_OK : err->code;
    if (rc == HO_OK) {
        rc = ho_store_query(self->store, HO_Q_TOP_PAGES, args, &top, err);
    }
    if (rc == HO_OK) {
        rc = ho_store_query(self->store, HO_Q_ACTIVITY_STATS, args, &stats, err);
    }
    if (rc == HO_OK) {
        rc = ho_store_query(self->store, HO_Q_SCORES, args, &scores, err);
    }
    if (rc == HO_OK) {
        rc = ho_store_query(self->store, HO_Q_SOURCES, args, &sources, err);
    }
    json_decref(args);
    if (rc != HO_OK) {
        json_decref(acts);
        json_decref(top);
        json_decref(stats);
        json_decref(scores);
        json_decref(sources);
        return rc;
    }
    ho_msg_t *m = s_new_msg("handoff.ready", "ho", in_id);
    int64_t at = s_int(p, "assigned_at", ho_now_ms());
    ho_msg_set_ts(m, at);
    json_t *o = ho_msg_payload(m);
    json_object_set_new(o, "lead_id", json_integer(lead->id));
    json_object_set_new(o, "email", s_jstr(lead->email));
    json_object_set_new(o, "rep",
                        json_pack("{sOsOsO}", "rep_id", json_object_get(p, "rep_id") ?: json_null(),
                                  "name", json_object_get(p, "rep_name") ?: json_null(), "email",
                                  json_object_get(p, "rep_email") ?: json_null()));
    json_object_set(o, "queue", json_object_get(p, "queue") ?: json_null());
    json_t *contact = json_object();
    json_object_set_new(contact, "first_name", s_jstr(lead->first_name));
    json_object_set_new(contact, "last_name", s_jstr(lead->last_name));
    json_object_set_new(contact, "title", s_jstr(lead->title));
    json_object_set_new(contact, "phone", s_jstr(lead->phone));
    json_object_set_new(contact, "company", s_jstr(lead->company));
    json_object_set_new(contact, "domain", s_jstr(lead->domain));
    json_object_set_new(contact, "industry", s_jstr(lead->industry));
    json_object_set_new(contact, "employees", s_jint(lead->employees));
    json_object_set_new(contact, "revenue",
                        lead->revenue == lead->revenue ? json_real(lead->revenue) : json_null());
    json_object_set_new(o, "contact", contact);
    /* the lead's zone: given by a source, else the one its country/state lives in */
    const char *tz = lead->timezone ? lead->timezone : ho_tz_guess(lead->country, lead->state);
    json_object_set_new(o, "location",
                        json_pack("{sosososos b}", "country", s_jstr(lead->country), "state",
                                  s_jstr(lead->state), "city", s_jstr(lead->city), "timezone",
                                  s_jstr(tz), "timezone_inferred", !lead->timezone && tz));
    json_object_set_new(o, "stage", s_jstr(lead->stage));
    /* what they engaged with, early (awareness) to late (decision) stage, and how often */
    json_t *recent = json_array();
    int by_stage[3] = {0, 0, 0}, journey = 0, last_7d = 0, last_30d = 0;
    size_t i;
    json_t *a;
    json_array_foreach(acts, i, a)
    {
        int stage = s_act_stage(a);
        int64_t when = s_int(a, "occurred_at", 0);
        by_stage[stage]++;
        journey = stage > journey ? stage : journey;
        last_7d += when <= at && when > at - 7 * 86400000LL;
        last_30d += when <= at && when > at - 30 * 86400000LL;
        if (i < 10) {
            json_array_append_new(
                recent,
                json_pack("{sOsOsOsOsOss}", "type", json_object_get(a, "type"), "path",
                          json_object_get(a, "path") ?: json_null(), "occurred_at",
                          json_object_get(a, "occurred_at"), "campaign",
                          json_object_get(a, "campaign") ?: json_null(), "asset",
                          json_object_get(a, "asset") ?: json_null(), "journey", s_stages[stage]));
        }
    }
    json_object_set_new(o, "journey_stage", json_string(s_stages[journey]));
    json_t *st = json_array_get(stats, 0);
    int64_t first = s_int(st, "first", HO_NULL_INT), last = s_int(st, "last", HO_NULL_INT);
    if (lead->first_touch_at != HO_NULL_INT &&
        (first == HO_NULL_INT || lead->first_touch_at < first)) {
        first = lead->first_touch_at;
    }
    if (lead->last_touch_at != HO_NULL_INT && (last == HO_NULL_INT || lead->last_touch_at > last)) {
        last = lead->last_touch_at;
    }
    int64_t n_acts = s_int(st, "n", 0);
    double weeks = first != HO_NULL_INT && last > first ? (double)(last - first) / 604800000.0 : 0;
    json_object_set_new(
        o, "engagement",
        json_pack("{sososIsisisfsososisisi}", "first_touch_at", s_jint(first), "last_touch_at",
                  s_jint(last), "activity_count", (json_int_t)n_acts, "last_7d", last_7d,
                  "last_30d", last_30d, "per_week",
                  (double)(long long)(10.0 * (double)n_acts / (weeks > 1 ? weeks : 1) + 0.5) / 10,
                  "recent", recent, "top_pages", top, "awareness", by_stage[0], "consideration",
                  by_stage[1], "decision", by_stage[2]));
    json_t *score = s_score_obj(lead);
    json_t *latest = json_array_get(scores, 0);
    const char *ex = s_str(latest, "explanation_json");
    json_t *exj = ex ? json_loads(ex, 0, NULL) : NULL;
    json_object_set_new(score, "score", s_jint(lead->score));
    json_object_set_new(score, "mql_at", s_jint(lead->mql_at));
    json_object_set_new(score, "top_reasons", s_top_reasons(exj, 5));
    json_object_set_new(score, "explanation", exj ? exj : json_array());
    json_object_set_new(o, "score", score);
    json_t *names = json_array();
    json_array_foreach(sources, i, a)
    {
        const json_t *src = json_object_get(a, "source");
        size_t k;
        json_t *seen;
        bool dup = false;
        json_array_foreach(names, k, seen)
        {
            dup = dup || json_equal(seen, src);
        }
        if (!dup && src) {
            json_array_append(names, (json_t *)src);
        }
    }
    json_object_set_new(o, "source",
                        json_pack("{sososo}", "original_source", s_jstr(lead->original_source),
                                  "campaign", s_jstr(lead->original_campaign), "sources", names));
    json_object_set(o, "sla_due", json_object_get(p, "sla_due") ?: json_null());
    json_object_set_new(o, "handed_off_at", json_integer(at));
    json_object_set(o, "reason", json_object_get(p, "reason") ?: json_null());
    json_decref(acts);
    json_decref(stats);
    json_decref(scores);
    json_decref(sources);
    return ho_out_emit(out, &m);
}

static int s_on_assigned(s_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err)
{
    const json_t *p = ho_msg_payload(in);
    ho_lead_t lead;
    ho_lead_init(&lead);
    int rc = s_find_lead(self, p, &lead, err);
    if (rc != HO_OK) {
        return rc;
    }
    int64_t at = s_int(p, "assigned_at", ho_msg_ts(in));
    rc = ho_store_claim_event(self->store, ho_msg_id(in), "lead.assigned", at, err);
    if (rc <= 0) {
        ho_lead_clear(&lead);
        return rc;
    }
    /* Routed while it was an MQL, answered after sales took it (an SLA reassignment in flight
     * when the rep accepted, or the router lagging behind the feedback): the rep who accepted
     * keeps it, no new SLA clock starts and no packet goes out. Kept as a note. The same for a
     * lead that went back to RECYCLED meanwhile (its score decayed, or sales rejected it):
     * it is not sales-ready, so nobody gets it; when it qualifies again it is routed afresh. */
    static const char *const held[] = {"SAL",  "SQL",          "OPPORTUNITY", "WON",
                                       "LOST", "DISQUALIFIED", "RECYCLED"};
    for (size_t k = 0; lead.stage && k < sizeof held / sizeof held[0]; k++) {
        if (strcmp(lead.stage, held[k]) == 0) {
            const char *who = s_str(p, "rep_id") ? s_str(p, "rep_id") : s_str(p, "queue");
            char note[300];
            snprintf(note, sizeof note,
                     "assignment to %.60s ignored: the lead is already %s (owner %.60s)",
                     who ? who : "-", lead.stage, lead.owner_rep_id ? lead.owner_rep_id : "-");
            rc = ho_store_note(self->store, &lead, "assignment_ignored", at, "route", note,
                               ho_msg_id(in), err);
            ho_lead_clear(&lead);
            return rc;
        }
    }
    /* an earlier open assignment of the same lead is superseded */
    json_t *open = NULL;
    json_t *args = json_pack("{sI}", "lead_id", (json_int_t)lead.id);
    rc = ho_store_query(self->store, HO_Q_OPEN_ASSIGNMENTS, args, &open, err);
    json_decref(args);
    size_t i;
    json_t *a;
    json_t *set = json_pack("{ss}", "status", "reassigned");
    json_array_foreach(open, i, a)
    {
        if (rc == HO_OK) {
            rc = ho_store_update(self->store, HO_T_ASSIGNMENTS, s_int(a, "id", 0), set, err);
        }
    }
    json_decref(set);
    json_decref(open);
    int64_t sla_due = s_int(p, "sla_due", HO_NULL_INT);
    int64_t reassign_due = s_int(p, "reassign_due", HO_NULL_INT);
    if (reassign_due == HO_NULL_INT && sla_due != HO_NULL_INT) {
        int64_t after = s_int(self->conf, "reassign_after_ms", 0);
        reassign_due = sla_due + (after > 0 ? after : (sla_due > at ? sla_due - at : 0));
    }
    const char *rep = s_str(p, "rep_id");
    json_t *row = json_object();
    json_object_set_new(row, "lead_id", json_integer(lead.id));
    json_object_set_new(row, "event_id", json_string(ho_msg_id(in)));
    static const char *const cols[] = {"rep_id", "rep_name", "queue", "rule", "reason"};
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
        json_object_set(row, cols[k], json_object_get(p, cols[k]));
    }
    json_object_set_new(row, "assigned_at", json_integer(at));
    json_object_set_new(row, "sla_due", s_jint(sla_due));
    json_object_set_new(row, "reassign_due", s_jint(reassign_due));
    json_object_set_new(row, "status", json_string("open"));
    if (rc == HO_OK) {
        rc = ho_store_add(self->store, HO_T_ASSIGNMENTS, row, NULL, err);
    }
    json_decref(row);
    if (rc == HO_OK) {
        ho_lead_set(&lead.owner_rep_id, rep);
        if (at > lead.updated_at) {
            lead.updated_at = at;
        }
        rc = ho_store_lead_put(self->store, &lead, err);
    }
    if (rc == HO_OK) {
        char why[400];
        snprintf(why, sizeof why, "%s %s%s%s by rule %s: %s", rep ? "assigned to" : "queued in",
                 rep ? (s_str(p, "rep_name") ? s_str(p, "rep_name") : rep)
                     : (s_str(p, "queue") ? s_str(p, "queue") : "(no queue)"),
                 rep ? " " : "", rep ? rep : "", s_str(p, "rule") ? s_str(p, "rule") : "-",
                 s_str(p, "reason") ? s_str(p, "reason") : "");
        rc = ho_store_note(self->store, &lead, "assigned", at, "route", why, ho_msg_id(in), err);
    }
    if (rc == HO_OK) {
        rc = s_handoff_packet(self, &lead, p, ho_msg_id(in), out, err);
    }
    if (rc == HO_OK) {
        rc = s_apply_pending(self, lead.email, out, err);
    }
    ho_lead_clear(&lead);
    return rc;
}

/* ---- lead.outcome ---- */
/* An acceptance after the deadline of an assignment no tick has seen pass (a replayed
 * history has no clock between the two): the breach the tick would have recorded, stamped
 * at the deadline. Step remind, so a tick that did see it pass has the row already
 * (UNIQUE(assignment_id, step): recorded once whichever comes first). No sla.breach goes
 * out: the rep has the lead, there is nobody to remind and nothing to reassign. */
/* The assigned rep's first answer (an acceptance or a rejection) came after the SLA
 * deadline and no tick saw the deadline pass (replayed history, a store that was down): the
 * breach is recorded as of the deadline, once per assignment (UNIQUE(assignment_id, step)),
 * with a note on the lead saying how late. */
static int s_late_answer_breach(s_ctx_t *self, ho_lead_t *lead, const json_t *a, const char *answer,
                                int64_t at, ho_err_t *err)
{
    int64_t due = s_int(a, "sla_due", HO_NULL_INT);
    const char *rep = s_str(a, "rep_id");
    if (!rep || due == HO_NULL_INT || at <= due) {
        return HO_OK;
    }
    json_t *row =
        json_pack("{sIsIsssssI}", "assignment_id", (json_int_t)s_int(a, "id", 0), "lead_id",
                  (json_int_t)lead->id, "rep_id", rep, "step", "remind", "at", (json_int_t)due);
    int64_t bid = 0;
    int rc = ho_store_add(self->store, HO_T_SLA_BREACHES, row, &bid, err);
    json_decref(row);
    if (rc != HO_OK || bid == 0) {
        return rc;
    }
    char why[200];
    snprintf(why, sizeof why, "%s by %.60s %.1f h after the SLA deadline (due %lld)", answer, rep,
             (double)(at - due) / 3600000.0, (long long)due);
    return ho_store_note(self->store, lead,
                         strcmp(answer, "accepted") == 0 ? "sla_late_accept" : "sla_late_reject",
                         at, "store", why, NULL, err);
}

/* Close the lead's open assignments (those of rep only, when rep is set) with status.
 * answer/answered_at: the rep's acceptance or rejection, which stops the SLA clock (an
 * acceptance also sets accepted_at); NULL for closings that are no answer (won, lost). */
static int s_close_assignments(s_ctx_t *self, ho_lead_t *lead, const char *status, const char *rep,
                               const char *answer, int64_t answered_at, ho_err_t *err)
{
    int64_t lead_id = lead->id;
    json_t *open = NULL;
    json_t *args = json_pack("{sI}", "lead_id", (json_int_t)lead_id);
    int rc = ho_store_query(self->store, HO_Q_OPEN_ASSIGNMENTS, args, &open, err);
    json_decref(args);
    size_t i;
    json_t *a;
    json_array_foreach(open, i, a)
    {
        if (rc != HO_OK) {
            break;
        }
        if (rep && (!s_str(a, "rep_id") || strcmp(s_str(a, "rep_id"), rep) != 0)) {
            continue;
        }
        json_t *set = json_pack("{ss}", "status", status);
        if (answer && strcmp(answer, "accepted") == 0) {
            json_object_set_new(set, "accepted_at", json_integer(answered_at));
        }
        if (answer) {
            rc = s_late_answer_breach(self, lead, a, answer, answered_at, err);
        }
        if (rc == HO_OK) {
            rc = ho_store_update(self->store, HO_T_ASSIGNMENTS, s_int(a, "id", 0), set, err);
        }
        json_decref(set);
    }
    json_decref(open);
    return rc;
}

/* Apply an outcome to a known lead. HO_ERR_STATE when the lifecycle refuses it. */
static int s_apply_outcome(s_ctx_t *self, ho_lead_t *lead, const char *event_id, const json_t *p,
                           ho_err_t *err)
{
    const char *outcome = s_str(p, "outcome");
    const char *event = ho_lifecycle_outcome_event(outcome, s_str(p, "disposition"));
    if (!event) {
        return ho_err_set(err, HO_ERR_FIELD, "payload.outcome", "unknown outcome \"%s\"",
                          outcome ? outcome : "(none)");
    }
    const char *reason = s_str(p, "reason");
    if ((strcmp(outcome, "rejected") == 0 || strcmp(outcome, "lost") == 0) &&
        (!reason || !reason[0])) {
        return ho_err_set(err, HO_ERR_MISSING, "payload.reason", "outcome %s needs a reason code",
                          outcome);
    }
    int64_t at = s_int(p, "occurred_at", HO_NULL_INT);
    if (at == HO_NULL_INT) {
        return ho_err_set(err, HO_ERR_MISSING, "payload.occurred_at", "outcome has no occurred_at");
    }
    int rc = ho_store_claim_event(self->store, event_id, "lead.outcome", at, err);
    if (rc <= 0) {
        return rc;
    }
    const char *rep = s_str(p, "rep_id");
    bool not_owner = rep && rep[0] && lead->owner_rep_id && strcmp(rep, lead->owner_rep_id) != 0;
    char *reached = lead->stage ? strdup(lead->stage) : NULL;
    char why[200];
    snprintf(why, sizeof why, "%s%s%s", outcome, reason ? ": " : "", reason ? reason : "");
    rc = ho_store_transition(self->store, lead, event, at, rep && rep[0] ? rep : "feedback", why,
                             event_id, err);
    if (rc != HO_OK) {
        free(reached);
        return rc;
    }
    json_t *row = json_object();
    json_object_set_new(row, "lead_id", json_integer(lead->id));
    json_object_set_new(row, "event_id", json_string(event_id));
    static const char *const cols[] = {"feedback_id",  "rep_id", "outcome", "reason",
                                       "reason_owner", "notes",  "amount"};
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
        json_object_set(row, cols[k], json_object_get(p, cols[k]));
    }
    json_object_set_new(row, "stage_reached", s_jstr(reached));
    json_object_set_new(row, "occurred_at", json_integer(at));
    json_object_set_new(row, "not_owner", json_integer(not_owner));
    rc = ho_store_add(self->store, HO_T_OUTCOMES, row, NULL, err);
    json_decref(row);
    free(reached);
    if (rc == HO_OK && not_owner) {
        char note[200];
        snprintf(note, sizeof note, "%s recorded by %s, who does not own the lead (owner %s)",
                 outcome, rep, lead->owner_rep_id);
        rc = ho_store_note(self->store, lead, "outcome_not_owner", at, rep, note, event_id, err);
    }
    if (rc != HO_OK) {
        return rc;
    }
    /* The SLA clock stops only for the owner's acceptance (a flagged one does not count). */
    if (strcmp(outcome, "accepted") == 0 && !not_owner) {
        rc = s_close_assignments(self, lead, "accepted", lead->owner_rep_id ? NULL : rep,
                                 "accepted", at, err);
        if (rc == HO_OK && !lead->owner_rep_id && rep && rep[0]) {
            /* accepted before (or without) a routing decision: the accepting rep owns it */
            ho_lead_set(&lead->owner_rep_id, rep);
            rc = ho_store_lead_put(self->store, lead, err);
        }
    } else if (strcmp(outcome, "rejected") == 0 && !not_owner) {
        /* the owner's rejection answers the lead too: late, it is a breach */
        rc = s_close_assignments(self, lead, "closed", NULL, "rejected", at, err);
    } else if (strcmp(outcome, "rejected") == 0 || strcmp(outcome, "won") == 0 ||
               strcmp(outcome, "lost") == 0) {
        rc = s_close_assignments(self, lead, "closed", NULL, NULL, HO_NULL_INT, err);
    }
    if (rc == HO_OK && strcmp(outcome, "rejected") == 0 && !not_owner) {
        /* back to marketing: a later MQL is routed afresh */
        ho_lead_set(&lead->owner_rep_id, NULL);
        rc = ho_store_lead_put(self->store, lead, err);
    }
    return rc;
}

static int s_apply_pending(s_ctx_t *self, const char *email, ho_out_t *out, ho_err_t *err)
{
    (void)out;
    json_t *rows = NULL;
    json_t *args = json_pack("{ss}", "email", email);
    int rc = ho_store_query(self->store, HO_Q_PENDING, args, &rows, err);
    json_decref(args);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        if (rc != HO_OK) {
            break;
        }
        json_t *body = json_loads(s_str(r, "body") ? s_str(r, "body") : "", 0, NULL);
        const char *eid = s_str(r, "event_id");
        ho_lead_t lead;
        ho_lead_init(&lead);
        rc = ho_store_lead_get(self->store, email, 0, &lead, err);
        if (rc == HO_OK && (rc = ho_store_save(self->store, err)) == HO_OK) {
            ho_err_t why = {0};
            int arc = s_apply_outcome(self, &lead, eid, json_object_get(body, "payload"), &why);
            if (arc == HO_OK) {
                rc = ho_store_release(self->store, err);
                if (rc == HO_OK) {
                    rc = ho_store_pending_delete(self->store, eid, err);
                }
            } else {
                /* not applicable yet (e.g. accepted before the lead is an MQL): it waits */
                ho_store_undo(self->store);
                if (!s_data_error(arc)) {
                    *err = why;
                    rc = arc;
                }
            }
        }
        ho_lead_clear(&lead);
        json_decref(body);
    }
    json_decref(rows);
    return rc;
}

static int s_on_outcome(s_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err)
{
    (void)out;
    const json_t *p = ho_msg_payload(in);
    char *email = ho_store_normalize_email(self->store, s_str(p, "email"), err);
    if (!email) {
        snprintf(err->field, sizeof err->field, "payload.email");
        return err->code;
    }
    ho_lead_t lead;
    ho_lead_init(&lead);
    int rc = ho_store_lead_get(self->store, email, 0, &lead, err);
    if (rc == HO_ERR_NOT_FOUND) {
        /* Sales spoke about someone marketing has not sent yet: keep it until the lead
         * arrives (applied from s_apply_pending), never lose it. */
        json_t *body = json_pack("{sssssIsO}", "id", ho_msg_id(in), "type", ho_msg_type(in), "ts",
                                 (json_int_t)ho_msg_ts(in), "payload", p);
        json_t *row = json_pack("{sssssosI}", "event_id", ho_msg_id(in), "email", email, "body",
                                body, "received_at", (json_int_t)ho_now_ms());
        rc = ho_store_add(self->store, HO_T_PENDING_OUTCOMES, row, NULL, err);
        json_decref(row);
    } else if (rc == HO_OK) {
        rc = s_apply_outcome(self, &lead, ho_msg_id(in), p, err);
    }
    ho_lead_clear(&lead);
    free(email);
    return rc;
}

/* ---- quarantine, dead letters ---- */
static int s_on_quarantine(s_ctx_t *self, const ho_msg_t *in, ho_err_t *err)
{
    const json_t *p = ho_msg_payload(in);
    const json_t *raw = json_object_get(p, "raw");
    const char *source = s_str(raw, "source");
    return s_quarantine_row(self, ho_msg_id(in), s_str(p, "stage"), s_str(p, "code"),
                            s_str(p, "field"), s_str(p, "reason"), json_object_get(p, "source_ref"),
                            source, s_str(p, "event_id"), s_str(p, "event_type"), raw,
                            ho_msg_ts(in), err);
}

static int s_on_dead_letter(s_ctx_t *self, const ho_msg_t *in, ho_err_t *err)
{
    const json_t *p = ho_msg_payload(in);
    const json_t *first = json_array_get(json_object_get(p, "frames"), 0);
    if (json_is_array(first)) {
        first = json_array_get(first, 0);
    }
    char why[300];
    snprintf(why, sizeof why, "dead letter from service %s after %lld attempts: %s",
             s_str(p, "service") ? s_str(p, "service") : "?", (long long)s_int(p, "attempts", 0),
             s_str(p, "reason") ? s_str(p, "reason") : "");
    return s_quarantine_row(self, ho_msg_id(in), "broker", "dead_letter", "", why, NULL,
                            s_str(p, "service"), s_str(first, "id"), "dead.letter", p,
                            ho_msg_ts(in), err);
}

/* ---- tick: SLA and periodic re-score ---- */
static int s_breach(s_ctx_t *self, const json_t *a, ho_lead_t *lead, const char *step, int64_t now,
                    ho_out_t *out, ho_err_t *err)
{
    int64_t aid = s_int(a, "id", 0);
    const char *rep = s_str(a, "rep_id");
    json_t *row =
        json_pack("{sIsIsssssI}", "assignment_id", (json_int_t)aid, "lead_id", (json_int_t)lead->id,
                  "rep_id", rep ? rep : "", "step", step, "at", (json_int_t)now);
    int64_t bid = 0;
    int rc = ho_store_add(self->store, HO_T_SLA_BREACHES, row, &bid, err);
    json_decref(row);
    if (rc != HO_OK || bid == 0) {
        return rc; /* each step once */
    }
    bool reassign = strcmp(step, "reassign") == 0;
    json_t *set = reassign ? json_pack("{ss}", "status", "reassigned")
                           : json_pack("{sI}", "reminded_at", (json_int_t)now);
    rc = ho_store_update(self->store, HO_T_ASSIGNMENTS, aid, set, err);
    json_decref(set);
    if (rc != HO_OK) {
        return rc;
    }
    char why[200];
    snprintf(why, sizeof why, "%s not accepted by %s within the SLA (due %lld)%s", lead->stage,
             rep ? rep : "?", (long long)s_int(a, "sla_due", 0),
             reassign ? ": reassigning" : ": reminder sent");
    rc = ho_store_note(self->store, lead, reassign ? "sla_reassign" : "sla_remind", now, "store",
                       why, NULL, err);
    if (rc != HO_OK) {
        return rc;
    }
    char key[128];
    snprintf(key, sizeof key, "%lld|%s", (long long)aid, step);
    ho_msg_t *m = s_new_msg("sla.breach", "sla", key);
    ho_msg_set_ts(m, now);
    json_t *o = ho_msg_payload(m);
    json_object_set_new(o, "lead_id", json_integer(lead->id));
    json_object_set_new(o, "email", s_jstr(lead->email));
    json_object_set_new(o, "rep_id", s_jstr(rep));
    json_object_set(o, "assigned_at", json_object_get(a, "assigned_at"));
    json_object_set(o, "sla_due", json_object_get(a, "sla_due"));
    json_object_set_new(o, "now", json_integer(now));
    json_object_set_new(o, "step", json_string(step));
    json_t *exclude = json_array();
    if (rep) {
        json_array_append_new(exclude, json_string(rep));
    }
    rc = s_route_fields(self, lead, o, now, exclude, "sla_breach", err);
    if (rc != HO_OK) {
        ho_msg_destroy(&m);
        return rc;
    }
    return ho_out_emit(out, &m);
}

static int s_on_tick(s_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err)
{
    int64_t now = s_int(ho_msg_payload(in), "now", ho_msg_ts(in));
    json_t *due = NULL;
    json_t *args = json_pack("{sI}", "now", (json_int_t)now);
    int rc = ho_store_query(self->store, HO_Q_SLA_DUE, args, &due, err);
    json_decref(args);
    size_t i;
    json_t *a;
    ho_lead_t lead;
    ho_lead_init(&lead);
    json_array_foreach(due, i, a)
    {
        if (rc != HO_OK) {
            break;
        }
        rc = ho_store_lead_get(self->store, NULL, s_int(a, "lead_id", 0), &lead, err);
        if (rc != HO_OK) {
            break;
        }
        if (!s_int(a, "reminded", 0)) {
            rc = s_breach(self, a, &lead, "remind", now, out, err);
        }
        if (rc == HO_OK && s_int(a, "reassign_due", INT64_MAX) <= now) {
            rc = s_breach(self, a, &lead, "reassign", now, out, err);
        }
    }
    ho_lead_clear(&lead);
    json_decref(due);
    if (rc != HO_OK) {
        return rc;
    }
    int64_t every = s_int(self->conf, "rescore_interval_ms", 3600000);
    if (!self->rescored_once || now < self->last_rescore || now - self->last_rescore >= every) {
        json_t *ids = NULL;
        args = json_pack("{sIsI}", "since",
                         (json_int_t)(now - s_int(self->conf, "rescore_window_ms", 0)), "limit",
                         (json_int_t)s_int(self->conf, "rescore_limit", 1000));
        rc = ho_store_query(self->store, HO_Q_RESCORE, args, &ids, err);
        json_decref(args);
        json_array_foreach(ids, i, a)
        {
            s_want_score(self, s_int(a, "id", 0), "rescore", now);
        }
        json_decref(ids);
        self->rescored_once = true;
        self->last_rescore = now;
    }
    return rc;
}

/* ---- lead.forget, dlq.replay ---- */
static int s_on_forget(s_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err)
{
    const json_t *p = ho_msg_payload(in);
    char *email = ho_store_normalize_email(self->store, s_str(p, "email"), err);
    if (!email) {
        snprintf(err->field, sizeof err->field, "payload.email");
        return err->code;
    }
    ho_lead_t lead;
    ho_lead_init(&lead);
    int rc = ho_store_lead_get(self->store, email, 0, &lead, err);
    int64_t id = rc == HO_OK ? lead.id : 0;
    int64_t now = ho_msg_ts(in);
    if (rc == HO_OK || rc == HO_ERR_NOT_FOUND) {
        rc = ho_store_erase(self->store, id, email, now, err);
    }
    if (rc == HO_OK && id) {
        ho_lead_clear(&lead);
        rc = ho_store_lead_get(self->store, NULL, id, &lead, err);
        if (rc == HO_OK) {
            rc = ho_store_note(self->store, &lead, "forgotten", now, "store",
                               "personal data erased on request", NULL, err);
        }
    }
    if (rc == HO_OK) {
        ho_msg_t *m = s_new_msg("lead.forgotten", "fg", ho_msg_id(in));
        json_t *o = ho_msg_payload(m);
        json_object_set_new(o, "found", json_boolean(id != 0));
        json_object_set_new(o, "lead_id", id ? json_integer(id) : json_null());
        json_object_set_new(o, "erased_at", json_integer(now));
        rc = ho_out_emit(out, &m);
    }
    ho_lead_clear(&lead);
    free(email);
    return rc;
}

/* `dlq replay --set`: the operator's edit of a quarantined record (dlq.replay `set`: field ->
 * text, or null to drop it). Only a raw record (a connector's fields as text, under
 * payload.fields) can be edited: it is validated again from scratch when replayed. A record
 * the store refused is normalized (typed fields, derived keys) and a dead letter is whatever
 * request it was: those are replayed as they are. The names are the text fields a profile may
 * map (connector.h: ho_profile_text_field_known). */

/* Apply `set` to raw.fields (every name checked first: nothing changes on an error) and
 * append {at, set, was} to raw.replay_edits, so the row keeps what the operator changed and
 * every value it replaced. */
static int s_replay_edit(const json_t *row, json_t *raw, const json_t *set, int64_t at,
                         ho_err_t *err)
{
    long long id = (long long)s_int(row, "id", 0);
    const char *type = s_str(row, "input_type") ? s_str(row, "input_type") : "";
    const char *kind = strcmp(type, "lead.raw") == 0       ? "lead"
                       : strcmp(type, "activity.raw") == 0 ? "activity"
                       : strcmp(type, "feedback.raw") == 0 ? "feedback"
                                                           : NULL;
    if (!kind) {
        return ho_err_set(err, HO_ERR_FIELD, "set",
                          "quarantine row %lld holds a %s refused by %s: only a raw record "
                          "(lead.raw, activity.raw, feedback.raw) can be edited; replay it "
                          "without --set",
                          id, type[0] ? type : "record of no type",
                          s_str(row, "stage") ? s_str(row, "stage") : "?");
    }
    json_t *fields = json_object_get(raw, "fields");
    if (!json_is_object(fields)) {
        return ho_err_set(err, HO_ERR_FIELD, "set",
                          "quarantine row %lld has no fields to edit (the importer could not "
                          "read the record: fix the file and import it again)",
                          id);
    }
    json_t *now = json_object(), *was = json_object();
    const char *key;
    json_t *v;
    int rc = HO_OK;
    json_object_foreach((json_t *)set, key, v)
    {
        /* "fields.email" (as the feedback worker names it in `dlq list`) is "email" */
        const char *name = strncmp(key, "fields.", 7) == 0 ? key + 7 : key;
        if (!ho_profile_text_field_known(kind, name)) {
            const char *near = ho_profile_text_field_near(kind, name);
            rc = ho_err_set(err, HO_ERR_FIELD, key,
                            "quarantine row %lld: \"%s\" is not a field of a %s record%s%s%s", id,
                            key, kind, near ? " (did you mean " : "", near ? near : "",
                            near ? "?)" : "");
            break;
        }
        if (!json_is_string(v) && !json_is_null(v)) {
            rc = ho_err_set(err, HO_ERR_FIELD, key,
                            "quarantine row %lld: the new value of %s must be text or null", id,
                            key);
            break;
        }
        if (json_object_get(now, name)) {
            rc = ho_err_set(err, HO_ERR_FIELD, key, "quarantine row %lld: %s is set twice", id,
                            name);
            break;
        }
        json_t *old = json_object_get(fields, name);
        json_object_set_new(was, name, old ? json_incref(old) : json_null());
        json_object_set_new(now, name, json_incref(v));
    }
    if (rc == HO_OK) {
        json_object_foreach(now, key, v)
        {
            if (json_is_null(v)) {
                json_object_del(fields, key);
            } else {
                json_object_set(fields, key, v);
            }
        }
        json_t *log = json_object_get(raw, "replay_edits");
        if (!json_is_array(log)) {
            log = json_array();
            json_object_set_new(raw, "replay_edits", log);
        }
        json_array_append_new(log,
                              json_pack("{sIsOsO}", "at", (json_int_t)at, "set", now, "was", was));
    }
    json_decref(now);
    json_decref(was);
    return rc;
}

/* Re-emit the row's payload; with `set`, edited first (*edited_p: the payload as sent, for
 * the row's raw_json). */
static int s_replay_one(s_ctx_t *self, const json_t *row, const json_t *set, int64_t at,
                        json_t **edited_p, ho_out_t *out, ho_err_t *err)
{
    json_t *raw = s_str(row, "raw_json") ? json_loads(s_str(row, "raw_json"), 0, NULL) : NULL;
    if (!json_is_object(raw)) {
        json_decref(raw);
        return ho_err_set(err, HO_ERR_NOT_FOUND, "raw_json",
                          "quarantine row %lld has no payload to replay (erased?)",
                          (long long)s_int(row, "id", 0));
    }
    const char *type = s_str(row, "input_type");
    int rc = HO_OK;
    if (set && (rc = s_replay_edit(row, raw, set, at, err)) != HO_OK) {
        json_decref(raw);
        return rc;
    }
    if (set) {
        *edited_p = json_deep_copy(raw);
    }
    if (type && strcmp(type, "dead.letter") == 0) {
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(raw, "frames"), i, f)
        {
            json_t *items = json_is_array(f) ? json_incref(f) : json_pack("[O]", f);
            size_t k;
            json_t *e;
            json_array_foreach(items, k, e)
            {
                if (!s_str(e, "type") || !json_is_object(json_object_get(e, "payload"))) {
                    continue;
                }
                ho_msg_t *m = ho_msg_new(s_str(e, "type"));
                if (s_str(e, "id")) {
                    ho_msg_set_id(m, s_str(e, "id"));
                }
                ho_msg_set_payload(m, json_deep_copy(json_object_get(e, "payload")));
                rc = rc == HO_OK ? ho_out_emit(out, &m) : rc;
                ho_msg_destroy(&m);
            }
            json_decref(items);
        }
    } else if (type && type[0]) {
        ho_msg_t *m = ho_msg_new(type);
        if (s_str(row, "input_event_id")) {
            ho_msg_set_id(m, s_str(row, "input_event_id"));
        }
        ho_msg_set_payload(m, json_incref(raw));
        rc = ho_out_emit(out, &m);
    } else {
        rc = ho_err_set(err, HO_ERR_FIELD, "input_type", "quarantine row %lld has no type",
                        (long long)s_int(row, "id", 0));
    }
    json_decref(raw);
    return rc;
}

static int s_on_replay(s_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err)
{
    const json_t *ids = json_object_get(ho_msg_payload(in), "ids");
    if (!json_is_array(ids)) {
        return ho_err_set(err, HO_ERR_MISSING, "payload.ids", "dlq.replay needs ids (a list)");
    }
    const json_t *set = json_object_get(ho_msg_payload(in), "set");
    if (set && !json_is_object(set) && !json_is_null(set)) {
        return ho_err_set(err, HO_ERR_FIELD, "payload.set",
                          "dlq.replay set must be a map of field -> text or null");
    }
    set = json_object_size(set) ? set : NULL;
    json_t *done = json_array(), *failed = json_array();
    size_t i;
    json_t *v;
    int rc = HO_OK;
    json_array_foreach(ids, i, v)
    {
        int64_t id = json_is_integer(v)
                         ? json_integer_value(v)
                         : (json_is_string(v) ? strtoll(json_string_value(v), NULL, 10) : 0);
        json_t *rows = NULL;
        json_t *args = json_pack("{sI}", "id", (json_int_t)id);
        rc = ho_store_query(self->store, HO_Q_QUARANTINE_GET, args, &rows, err);
        json_decref(args);
        if (rc != HO_OK) {
            json_decref(rows);
            break;
        }
        json_t *row = json_array_get(rows, 0);
        ho_err_t why = {0};
        json_t *edited = NULL;
        int r = row ? s_replay_one(self, row, set, ho_msg_ts(in), &edited, out, &why)
                    : ho_err_set(&why, HO_ERR_NOT_FOUND, "ids", "no quarantine row %lld",
                                 (long long)id);
        if (r == HO_OK) {
            json_t *cols = json_pack("{sI}", "replayed_at", (json_int_t)ho_msg_ts(in));
            if (edited) {
                json_object_set_new(cols, "raw_json", edited);
            }
            rc = ho_store_update(self->store, HO_T_QUARANTINE, id, cols, err);
            json_decref(cols);
            json_array_append_new(done, json_integer(id));
        } else {
            json_decref(edited);
            json_array_append_new(failed,
                                  json_pack("{sIss}", "id", (json_int_t)id, "error", why.message));
        }
        json_decref(rows);
        if (rc != HO_OK) {
            break;
        }
    }
    if (rc == HO_OK) {
        ho_msg_t *m = s_new_msg("dlq.replayed", "dr", ho_msg_id(in));
        json_object_set_new(ho_msg_payload(m), "replayed", done);
        json_object_set_new(ho_msg_payload(m), "failed", failed);
        return ho_out_emit(out, &m);
    }
    json_decref(done);
    json_decref(failed);
    return rc;
}

/* ---- dispatch ---- */
static int s_apply(s_ctx_t *self, const ho_msg_t *in, ho_out_t *out, const char **code,
                   ho_err_t *err)
{
    const char *type = ho_msg_type(in);
    *code = "invalid";
    if (strcmp(type, "lead.normalized") == 0) {
        return s_on_lead(self, in, out, err);
    }
    if (strcmp(type, "activity.normalized") == 0) {
        return s_on_activity(self, in, out, err);
    }
    if (strcmp(type, "lead.scored") == 0) {
        return s_on_scored(self, in, out, err);
    }
    if (strcmp(type, "lead.assigned") == 0) {
        return s_on_assigned(self, in, out, err);
    }
    if (strcmp(type, "lead.outcome") == 0) {
        int rc = s_on_outcome(self, in, out, err);
        if (rc == HO_ERR_STATE) {
            *code = "illegal_transition";
        } else if (rc == HO_ERR_FIELD && strcmp(err->field, "payload.outcome") == 0) {
            *code = "unknown_outcome";
        } else if (rc == HO_ERR_MISSING && strcmp(err->field, "payload.reason") == 0) {
            *code = "missing_reason";
        }
        return rc;
    }
    if (strcmp(type, "quarantine") == 0) {
        return s_on_quarantine(self, in, err);
    }
    if (strcmp(type, "dead.letter") == 0) {
        return s_on_dead_letter(self, in, err);
    }
    if (strcmp(type, "tick") == 0) {
        return s_on_tick(self, in, out, err);
    }
    if (strcmp(type, "lead.forget") == 0) {
        return s_on_forget(self, in, out, err);
    }
    if (strcmp(type, "dlq.replay") == 0) {
        return s_on_replay(self, in, out, err);
    }
    *code = "unknown_type";
    return ho_err_set(err, HO_ERR_FIELD, "type", "the store does not handle messages of type %s",
                      type);
}

static int s_move(ho_out_t *from, ho_out_t *to)
{
    size_t n = 0;
    ho_msg_t **msgs = ho_out_take(from, &n);
    int rc = HO_OK;
    for (size_t i = 0; i < n; i++) {
        if (rc == HO_OK) {
            rc = ho_out_emit(to, &msgs[i]);
        }
        ho_msg_destroy(&msgs[i]);
    }
    free(msgs);
    return rc;
}

/* One pass over the batch in one transaction. careful: a savepoint per message, so a refused
 * message is undone and quarantined alone. Not careful (the common case, every message
 * good): no savepoints (a RELEASE costs about a seventh of an upsert); a refused message
 * makes the pass stop with S_CAREFUL after rolling everything back. */
enum { S_DONE, S_RETRY, S_CAREFUL };

static int s_pass(s_ctx_t *self, ho_msg_t *const *in, size_t n, ho_out_t *out, bool careful)
{
    ho_err_t err = {0};
    json_object_clear(self->to_score);
    if (ho_store_begin(self->store, &err) != HO_OK) {
        return S_RETRY;
    }
    ho_out_t *mine = ho_out_new(self->origin);
    int rc = mine ? HO_OK : HO_ERR_NOMEM;
    bool refused = false;
    for (size_t i = 0; rc == HO_OK && !refused && i < n; i++) {
        memset(&err, 0, sizeof err);
        if (careful && (rc = ho_store_save(self->store, &err)) != HO_OK) {
            break;
        }
        /* to_score entries made by a message that is undone must go with it (a per-message
         * undo log: copying the whole map per message was quadratic in the batch size) */
        json_object_clear(self->to_score_undo);
        const char *code = NULL;
        int arc = s_apply(self, in[i], mine, &code, &err);
        if (arc == HO_OK || arc == 1 || arc == 0) {
            if (careful) {
                rc = ho_store_release(self->store, &err);
            }
            if (rc == HO_OK) {
                rc = s_move(mine, out);
            }
        } else if (s_data_error(arc) && !careful) {
            refused = true;
        } else if (s_data_error(arc)) {
            ho_store_undo(self->store);
            ho_out_clear(mine);
            const char *key;
            json_t *was;
            json_object_foreach(self->to_score_undo, key, was)
            {
                if (json_is_null(was)) {
                    json_object_del(self->to_score, key);
                } else {
                    json_object_set(self->to_score, key, was);
                }
            }
            json_object_clear(self->to_score_undo);
            ho_err_t qerr = {0};
            rc = s_quarantine_msg(self, in[i], code, &err, &qerr);
        } else {
            rc = arc;
        }
    }
    if (rc == HO_OK && !refused) {
        rc = s_flush_scores(self, out, &err);
    }
    if (rc == HO_OK && !refused) {
        rc = ho_store_commit(self->store, &err);
    }
    ho_out_destroy(&mine);
    if (rc != HO_OK || refused) {
        ho_store_rollback(self->store);
        json_object_clear(self->to_score);
        ho_out_clear(out);
        return refused && rc == HO_OK ? S_CAREFUL : S_RETRY;
    }
    return S_DONE;
}

static int s_handle(void *ctx, ho_msg_t *const *in, size_t n, ho_out_t *out)
{
    s_ctx_t *self = ctx;
    /* a pass that is rolled back must not leave the tick's re-score clock moved */
    int64_t last_rescore = self->last_rescore;
    bool rescored_once = self->rescored_once;
    int r = s_pass(self, in, n, out, false);
    if (r == S_CAREFUL) {
        self->last_rescore = last_rescore;
        self->rescored_once = rescored_once;
        r = s_pass(self, in, n, out, true);
    }
    if (r != S_DONE) {
        self->last_rescore = last_rescore;
        self->rescored_once = rescored_once;
        return HO_WORKER_RETRY;
    }
    return HO_WORKER_OK;
}

static int s_tick(void *ctx, int64_t now_ms, ho_out_t *out)
{
    (void)ctx;
    ho_msg_t *m = ho_msg_new("tick");
    if (!m) {
        return HO_WORKER_ERROR;
    }
    ho_msg_set_ts(m, now_ms);
    json_object_set_new(ho_msg_payload(m), "now", json_integer(now_ms));
    ho_out_emit(out, &m);
    return HO_WORKER_OK;
}

const ho_worker_def_t ho_worker_store = {
    .name = "store",
    .description = "the lead database: dedup/merge, lifecycle, outcomes, SLA clock",
    .cb_init = s_init,
    .cb_handle = s_handle,
    .cb_tick = s_tick,
    .tick_ms = 60000,
    .cb_exit = s_exit,
};
