/* score.c - the `score` worker: score.request -> lead.scored.
 *
 * Stateless: the model is loaded once at start (workers.score.model in handoff.yaml, relative
 * to the config folder, else the built-in deploy/scoring.yaml) and every request carries the
 * whole lead snapshot, so any number of scorers on any machines share the load through the
 * broker. The reply's event id is derived from the request's, so a redelivered request gives
 * the same lead.scored (the store applies it once).
 *
 * The hot path stays msgpack: requests arrive with their payload packed (packed_payload
 * below: the decoder checks it, builds no tree), the snapshot is read from msgpack-c's
 * objects into the model's view (ho_score_snap_from_msgpack) and lead.scored is packed
 * directly. A message with a jansson payload (ho_worker_call in tests, `handoff score`) is
 * packed first and takes the same path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/log.h"
#include "handoff/error.h"
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
    msgpack_zone *zone;          /* the request payload's objects, cleared after each */
    ho_score_snapbuf_t *snapbuf; /* the snapshot view's space, reused */
} s_ctx_t;

static void s_exit(void **ctx_p)
{
    if (!ctx_p || !*ctx_p) {
        return;
    }
    s_ctx_t *ctx = *ctx_p;
    ho_score_model_destroy(&ctx->model);
    msgpack_zone_free(ctx->zone);
    ho_score_snapbuf_destroy(&ctx->snapbuf);
    free(ctx);
    *ctx_p = NULL;
}

static int s_init(const ho_worker_env_t *env, void **ctx_p, ho_err_t *err)
{
    s_settings_t set = {0};
    int rc = ho_config_map_apply(env->conf, env->settings, s_config_map, &set, err);
    s_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (ctx) {
        ctx->zone = msgpack_zone_new(64 * 1024);
        ctx->snapbuf = ho_score_snapbuf_new();
    }
    if (rc == HO_OK && (!ctx || !ctx->zone || !ctx->snapbuf)) {
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

/* The value of key in msgpack map o, or NULL. */
static const msgpack_object *s_get(const msgpack_object *o, const char *key)
{
    size_t len = strlen(key);
    for (uint32_t i = 0; o->type == MSGPACK_OBJECT_MAP && i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == len &&
            memcmp(k->via.str.ptr, key, len) == 0) {
            return &o->via.map.ptr[i].val;
        }
    }
    return NULL;
}

static bool s_is_int(const msgpack_object *o)
{
    return o && (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
                 o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER);
}

static int64_t s_int(const msgpack_object *o)
{
    return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (int64_t)o->via.u64 : o->via.i64;
}

/* lead.scored for the request whose payload is p: lead_id, email, the model's pairs
 * (ho_score_result_pack), seq. */
static ho_msg_t *s_reply(const ho_msg_t *in, const msgpack_object *p, int64_t lead_id,
                         const msgpack_object *email, const ho_score_result_t *res)
{
    const msgpack_object *seq = s_get(p, "seq");
    bool has_seq = s_is_int(seq);
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    int e = msgpack_pack_map(&pk, 2 + HO_SCORE_PAYLOAD_PAIRS + (has_seq ? 1 : 0));
    e |= msgpack_pack_str_with_body(&pk, "lead_id", 7);
    e |= msgpack_pack_int64(&pk, lead_id);
    e |= msgpack_pack_str_with_body(&pk, "email", 5);
    if (email && email->type == MSGPACK_OBJECT_STR) {
        e |= msgpack_pack_str_with_body(&pk, email->via.str.ptr, email->via.str.size);
    } else {
        e |= msgpack_pack_nil(&pk);
    }
    e |= ho_score_result_pack(res, &pk) != HO_OK;
    if (has_seq) {
        e |= msgpack_pack_str_with_body(&pk, "seq", 3);
        e |= msgpack_pack_int64(&pk, s_int(seq));
    }
    ho_msg_t *msg = e ? NULL : ho_msg_new("lead.scored");
    char mid[HO_MSG_MAX_ID];
    ho_msg_make_id(mid, sizeof mid, "scored", ho_msg_id(in), strlen(ho_msg_id(in)));
    if (!msg || ho_msg_set_id(msg, mid) != HO_OK ||
        ho_msg_set_payload_packed(msg, &sbuf.data, sbuf.size) != HO_OK) {
        ho_msg_destroy(&msg);
    }
    free(sbuf.data); /* NULL once the message took it */
    return msg;
}

static int s_score_obj(s_ctx_t *ctx, const ho_msg_t *in, const msgpack_object *p, size_t len,
                       ho_out_t *out)
{
    const msgpack_object *lead = s_get(p, "lead");
    const msgpack_object *as_of = s_get(p, "as_of");
    if (!lead || lead->type != MSGPACK_OBJECT_MAP) {
        return s_refuse(out, in, lead ? "bad_field" : "missing_field", "lead",
                        lead ? "lead: expected the lead snapshot (a map)"
                             : "lead: missing (score.request carries the lead snapshot)");
    }
    if (!as_of || as_of->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
        return s_refuse(out, in, as_of ? "bad_field" : "missing_field", "as_of",
                        as_of ? "as_of: expected a time in ms since the epoch (an integer >= 0)"
                              : "as_of: missing (the time to score at)");
    }
    const msgpack_object *id = s_get(lead, "lead_id");
    if (!s_is_int(id)) {
        return s_refuse(out, in, id ? "bad_field" : "missing_field", "lead.lead_id",
                        id ? "lead.lead_id: expected an integer" : "lead.lead_id: missing");
    }
    const msgpack_object *email = s_get(lead, "email");
    if (email && email->type != MSGPACK_OBJECT_STR && email->type != MSGPACK_OBJECT_NIL) {
        return s_refuse(out, in, "bad_field", "lead.email", "lead.email: expected a string");
    }
    ho_score_snap_t snap;
    if (ho_score_snap_from_msgpack(ctx->snapbuf, lead, len, &snap) != HO_OK) {
        return HO_WORKER_RETRY;
    }
    ho_score_result_t res;
    ho_err_t err = {0};
    int64_t t = s_int(as_of);
    int rc = ho_score_snap(ctx->model, &snap, t, 0, &res, &err);
    if (rc == HO_ERR_NOMEM) {
        ho_score_result_clear(&res);
        return HO_WORKER_RETRY;
    }
    if (rc != HO_OK) {
        ho_score_result_clear(&res);
        return s_refuse(out, in, rc == HO_ERR_MISSING ? "missing_field" : "bad_field", err.field,
                        err.message);
    }
    ho_msg_t *msg = s_reply(in, p, s_int(id), email, &res);
    if (!msg) {
        ho_score_result_clear(&res);
        return HO_WORKER_RETRY;
    }
    /* event time: the score is as of the data that caused it */
    ho_msg_set_ts(msg, t);
    ho_debug("score: lead=%lld fit=%d interest=%d grade=%s quadrant=%s mql=%d rules=%zu",
             (long long)s_int(id), res.fit, res.interest, res.grade, res.quadrant, res.mql,
             res.n_hits);
    ho_score_result_clear(&res);
    return ho_out_emit(out, &msg) == HO_OK ? HO_WORKER_OK : HO_WORKER_RETRY;
}

static int s_score(s_ctx_t *ctx, const ho_msg_t *in, ho_out_t *out)
{
    const char *buf;
    size_t len, off = 0;
    char *owned = NULL;
    if (ho_msg_payload_packed(in, &buf, &len, &owned) != HO_OK) {
        return HO_WORKER_RETRY;
    }
    const msgpack_object *kept = ho_msg_payload_unpacked(in);
    if (kept) { /* the objects the decoder checked: no second unpack */
        return s_score_obj(ctx, in, kept, len, out);
    }
    msgpack_object p;
    msgpack_unpack_return ret = msgpack_unpack(buf, len, &off, ctx->zone, &p);
    int rc;
    if (ret == MSGPACK_UNPACK_SUCCESS) {
        rc = s_score_obj(ctx, in, &p, len, out);
    } else if (ret == MSGPACK_UNPACK_NOMEM_ERROR) {
        rc = HO_WORKER_RETRY;
    } else { /* the decoder checked these bytes: not seen, but never a crash */
        rc = s_refuse(out, in, "bad_field", "payload", "payload: not one msgpack map");
    }
    msgpack_zone_clear(ctx->zone);
    free(owned);
    return rc;
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
    .packed_payload = true,
};
