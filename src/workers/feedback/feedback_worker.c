/* feedback_worker.c - the `feedback` worker: the adapter between feedback.raw requests and
 * the feedback validator (src/feedback/validate.c). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/connector.h"
#include "handoff/feedback.h"
#include "handoff/worker.h"

#define STAGE "feedback"

/* ---- the worker ---- */

typedef struct {
    char *reasons;
} s_settings_t;

static const ho_config_map_t s_config[] = {
    {HO_CFG_STR, "reasons", "reasons.yaml", offsetof(s_settings_t, reasons),
     "reason taxonomy (config folder, else built-in)"},
    {0},
};

typedef struct {
    ho_reasons_t *reasons;
    ho_profile_dates_t *dates; /* the profiles' current date formats */
} s_ctx_t;

static int s_init(const ho_worker_env_t *env, void **ctx_p, ho_err_t *err)
{
    s_settings_t set = {0};
    if (ho_config_map_apply(env ? env->conf : NULL, env ? env->settings : NULL, s_config, &set,
                            err) != HO_OK) {
        return err->code;
    }
    s_ctx_t *self = calloc(1, sizeof *self);
    if (!self) {
        ho_config_map_free(s_config, &set);
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    self->reasons = ho_reasons_load(env ? env->config_dir : NULL, set.reasons, err);
    ho_config_map_free(s_config, &set);
    if (!self->reasons) {
        free(self);
        return err->code ? err->code : HO_ERR_CONFIG;
    }
    self->dates = ho_profile_dates_new(env ? env->config_dir : NULL);
    if (!self->dates) {
        ho_reasons_destroy(&self->reasons);
        free(self);
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    *ctx_p = self;
    return HO_OK;
}

static void s_exit(void **ctx_p)
{
    if (!ctx_p || !*ctx_p) {
        return;
    }
    s_ctx_t *self = *ctx_p;
    ho_reasons_destroy(&self->reasons);
    ho_profile_dates_destroy(&self->dates);
    free(self);
    *ctx_p = NULL;
}

static int s_handle(void *ctx, ho_msg_t *const *in, size_t n, ho_out_t *out)
{
    s_ctx_t *self = ctx;
    ho_reasons_t *own = NULL;
    if (!self) {
        /* driven without init (ho_worker_call in tests): the built-in taxonomy */
        ho_err_t err = {0};
        own = ho_reasons_load(NULL, "reasons.yaml", &err);
        if (!own) {
            return HO_WORKER_ERROR;
        }
    }
    const ho_reasons_t *reasons = self ? self->reasons : own;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ho_msg_type(in[i]), "feedback.raw") != 0) {
            char why[200];
            snprintf(why, sizeof why, "the feedback worker takes feedback.raw, not %s",
                     ho_msg_type(in[i]));
            ho_out_quarantine(out, in[i], STAGE, "unknown_type", "type", why);
            continue;
        }
        ho_msg_t *o = NULL;
        ho_feedback_refusal_t why;
        if (ho_feedback_validate_dates(reasons, self ? self->dates : NULL, in[i], &o, &why) ==
            HO_OK) {
            ho_out_emit(out, &o);
        } else {
            ho_out_quarantine(out, in[i], STAGE, why.code, why.field, why.reason);
        }
    }
    ho_reasons_destroy(&own);
    return HO_WORKER_OK;
}

const ho_worker_def_t ho_worker_feedback = {
    .name = "feedback",
    .description = "sales feedback -> lead.outcome, reasons checked against reasons.yaml",
    .cb_init = s_init,
    .cb_handle = s_handle,
    .cb_exit = s_exit,
    .config_map = s_config,
};
