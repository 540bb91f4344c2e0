/* store_worker_int.h - what the files of the store worker share (not a public header).
 *
 * The worker is a dispatch table {type, handler} (store_worker.c); handlers live by message
 * family: store_leads.c (lead.normalized, activity.normalized, the scoring snapshot),
 * store_scores.c (lead.scored), store_assign.c (lead.assigned), store_outcomes.c
 * (lead.outcome, pending outcomes), store_admin.c (quarantine, dead.letter, lead.forget,
 * dlq.replay), store_imports.c (import.summary, import.stats), store_tick.c (tick). Handlers return
 * HO_OK, a data error (sw_data_error: the message is quarantined alone) or another error (the batch
 * is retried). */
#ifndef HO_STORE_WORKER_INT_H
#define HO_STORE_WORKER_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "handoff/lifecycle.h"
#include "handoff/log.h"
#include "handoff/store.h"
#include "handoff/worker.h"

typedef struct {
    ho_store_t *store;
    json_t *conf;
    char *origin;
    int64_t last_rescore;
    bool rescored_once;
    /* per batch: lead id -> {reason, as_of, trigger} for the one score.request per lead */
    json_t *to_score;
    /* per message: lead id -> its to_score entry before the message (null: none), so an
     * undone message takes its entries back without copying the whole batch's map */
    json_t *to_score_undo;
    /* unmatched_activities may have rows (false: empty when the worker started and none
     * added since, so a new lead skips the lookup) */
    bool unmatched_maybe;
    /* the same for pending_outcomes: a new lead skips the lookup of feedback waiting for it
     * (~8k instructions, a twentieth of a lead.normalized) while none can be waiting */
    bool pending_maybe;
} sw_ctx_t;

/* data errors: the message is kept in quarantine; anything else retries the batch */
static inline bool sw_data_error(int rc)
{
    return rc == HO_ERR_STATE || rc == HO_ERR_FIELD || rc == HO_ERR_MISSING ||
           rc == HO_ERR_NOT_FOUND || rc == HO_ERR_MALFORMED;
}

static inline const char *sw_str(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static inline int64_t sw_int(const json_t *o, const char *k, int64_t def)
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

static inline json_t *sw_jstr(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_null();
}

static inline json_t *sw_jint(int64_t v)
{
    return v == HO_NULL_INT ? json_null() : json_integer(v);
}

/* store_leads.c */
ho_msg_t *sw_new_msg(const char *type, const char *id_prefix, const char *key);
json_t *sw_activities(sw_ctx_t *self, int64_t lead_id, int limit, ho_err_t *err);
json_t *sw_score_obj(const ho_lead_t *lead);
/* trigger: the id of the event that asks (it names the request); again: that event was
 * applied before (a redelivery), so the request is the one its first delivery emitted */
void sw_want_score(sw_ctx_t *self, int64_t lead_id, const char *reason, int64_t as_of,
                   const char *trigger, bool again);
int sw_flush_scores(sw_ctx_t *self, ho_out_t *out, ho_err_t *err);
int sw_on_lead(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err);
int sw_on_activity(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err);

/* store_scores.c */
int sw_route_fields(sw_ctx_t *self, const ho_lead_t *lead, json_t *p, int64_t as_of,
                    json_t *exclude, const char *reason, ho_err_t *err);
int sw_emit_route(sw_ctx_t *self, const ho_lead_t *lead, int64_t as_of, const char *why,
                  ho_out_t *out, ho_err_t *err);
int sw_find_lead(sw_ctx_t *self, const json_t *p, ho_lead_t *lead, ho_err_t *err);
/* The payload's email, normalized (the caller frees it); NULL with err naming payload.email. */
char *sw_payload_email(sw_ctx_t *self, const json_t *p, ho_err_t *err);
int sw_on_scored(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err);

/* store_assign.c */
int sw_on_assigned(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err);

/* store_outcomes.c */
int sw_apply_pending(sw_ctx_t *self, const char *email, ho_out_t *out, ho_err_t *err);
int sw_on_outcome(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err);

/* store_admin.c */
int sw_quarantine_row(sw_ctx_t *self, const char *qid, const char *stage, const char *code,
                      const char *field, const char *reason, const json_t *ref, const char *source,
                      const char *in_id, const char *in_type, const json_t *raw, int64_t at,
                      ho_err_t *err);
int sw_quarantine_msg(sw_ctx_t *self, const ho_msg_t *in, const char *code, const ho_err_t *why,
                      ho_err_t *err);
int sw_on_quarantine(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err);
int sw_on_dead_letter(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err);
int sw_on_forget(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err);
int sw_on_replay(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err);

/* store_imports.c */
int sw_on_import_summary(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err);
int sw_on_import_stats(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err);

/* store_tick.c */
int sw_on_tick(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err);

#endif
