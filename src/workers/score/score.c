/* score.c - the `score` worker: score.request -> lead.scored.
 *
 * Stateless: the model is loaded once at start (workers.score.model in handoff.yaml, relative
 * to the config folder, else the built-in deploy/scoring.yaml) and every request carries the
 * whole lead snapshot, so any number of scorers on any machines share the load through the
 * broker. The reply's event id is derived from the request's, so a redelivered request gives
 * the same lead.scored (the store applies it once). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/log.h"
#include "handoff/scoring.h"
#include "handoff/worker.h"

typedef struct {
    char *model; /* scoring model file, relative to the config dir */
} s_settings_t;

static const ho_config_map_t s_config_map[] = {
    {HO_CFG_STR, "model", "scoring.yaml", offsetof(s_settings_t, model),
     "scoring model (fit/interest rules, decay, bands), in the config folder"},
    {0},
};

typedef struct {
    ho_score_model_t *model;
} s_ctx_t;

static void s_exit(void **ctx_p)
{
    if (!ctx_p || !*ctx_p) {
        return;
    }
    s_ctx_t *ctx = *ctx_p;
    ho_score_model_destroy(&ctx->model);
    free(ctx);
    *ctx_p = NULL;
}

static int s_init(const ho_worker_env_t *env, void **ctx_p, ho_err_t *err)
{
    s_settings_t set = {0};
    int rc = ho_config_map_apply(env->conf, env->settings, s_config_map, &set, err);
    s_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (rc == HO_OK && !ctx) {
        rc = ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    if (rc == HO_OK) {
        ctx->model = ho_score_model_load(env->config_dir, set.model, err);
        rc = ctx->model ? HO_OK : err->code;
    }
    if (rc == HO_OK) {
        ho_info("score: model %s version %s", ho_score_model_name(ctx->model),
                ho_score_model_version(ctx->model));
    }
    ho_config_map_free(s_config_map, &set);
    if (rc != HO_OK) {
        s_exit((void **)&ctx);
        return rc;
    }
    *ctx_p = ctx;
    return HO_OK;
}

static int s_refuse(ho_out_t *out, const ho_msg_t *in, const char *code, const char *field,
                    const char *reason)
{
    return ho_out_quarantine(out, in, "score", code, field, reason) == HO_OK ? HO_WORKER_OK
                                                                             : HO_WORKER_RETRY;
}

static int s_score(s_ctx_t *ctx, const ho_msg_t *in, ho_out_t *out)
{
    const json_t *p = ho_msg_payload(in);
    const json_t *lead = json_object_get(p, "lead");
    const json_t *as_of = json_object_get(p, "as_of");
    if (!json_is_object(lead)) {
        return s_refuse(out, in, lead ? "bad_field" : "missing_field", "lead",
                        lead ? "lead: expected the lead snapshot (a map)"
                             : "lead: missing (score.request carries the lead snapshot)");
    }
    if (!json_is_integer(as_of) || json_integer_value(as_of) < 0) {
        return s_refuse(out, in, as_of ? "bad_field" : "missing_field", "as_of",
                        as_of ? "as_of: expected a time in ms since the epoch (an integer >= 0)"
                              : "as_of: missing (the time to score at)");
    }
    const json_t *id = json_object_get(lead, "lead_id");
    if (!json_is_integer(id)) {
        return s_refuse(out, in, id ? "bad_field" : "missing_field", "lead.lead_id",
                        id ? "lead.lead_id: expected an integer" : "lead.lead_id: missing");
    }
    const json_t *email = json_object_get(lead, "email");
    if (email && !json_is_string(email) && !json_is_null(email)) {
        return s_refuse(out, in, "bad_field", "lead.email", "lead.email: expected a string");
    }
    ho_score_result_t res;
    ho_err_t err = {0};
    int rc = ho_score_lead_opt(ctx->model, lead, json_integer_value(as_of), 0, &res, &err);
    if (rc == HO_ERR_NOMEM) {
        ho_score_result_clear(&res);
        return HO_WORKER_RETRY;
    }
    if (rc != HO_OK) {
        ho_score_result_clear(&res);
        return s_refuse(out, in, rc == HO_ERR_MISSING ? "missing_field" : "bad_field", err.field,
                        err.message);
    }
    ho_msg_t *msg = ho_msg_new("lead.scored");
    char mid[HO_MSG_MAX_ID];
    ho_msg_make_id(mid, sizeof mid, "scored", ho_msg_id(in), strlen(ho_msg_id(in)));
    json_t *r = msg ? ho_msg_payload(msg) : NULL;
    if (!msg || ho_msg_set_id(msg, mid) != HO_OK ||
        json_object_set_new(r, "lead_id", json_integer(json_integer_value(id))) != 0 ||
        json_object_set_new(r, "email", email ? json_incref((json_t *)email) : json_null()) != 0 ||
        ho_score_result_to_payload(&res, r) != HO_OK ||
        (json_is_integer(json_object_get(p, "seq")) &&
         json_object_set(r, "seq", json_object_get(p, "seq")) != 0)) {
        ho_msg_destroy(&msg);
        ho_score_result_clear(&res);
        return HO_WORKER_RETRY;
    }
    /* event time: the score is as of the data that caused it */
    ho_msg_set_ts(msg, json_integer_value(as_of));
    ho_debug("score: lead=%lld fit=%d interest=%d grade=%s quadrant=%s mql=%d rules=%zu",
             (long long)json_integer_value(id), res.fit, res.interest, res.grade, res.quadrant,
             res.mql, res.n_hits);
    ho_score_result_clear(&res);
    return ho_out_emit(out, &msg) == HO_OK ? HO_WORKER_OK : HO_WORKER_RETRY;
}

static int s_handle(void *ctx_v, ho_msg_t *const *in, size_t n, ho_out_t *out)
{
    s_ctx_t *ctx = ctx_v;
    for (size_t i = 0; i < n; i++) {
        int rc;
        if (strcmp(ho_msg_type(in[i]), "score.request") == 0) {
            rc = s_score(ctx, in[i], out);
        } else {
            char why[160];
            snprintf(why, sizeof why, "type: score handles score.request, not %.64s",
                     ho_msg_type(in[i]));
            rc = s_refuse(out, in[i], "unknown_type", "type", why);
        }
        if (rc != HO_WORKER_OK) {
            return rc;
        }
    }
    return HO_WORKER_OK;
}

const ho_worker_def_t ho_worker_score = {
    .name = "score",
    .description = "fit x interest scoring with decay and an explanation (stateless)",
    .cb_init = s_init,
    .cb_handle = s_handle,
    .cb_exit = s_exit,
    .config_map = s_config_map,
};
