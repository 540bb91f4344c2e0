/* fuzz_scoring.c - libFuzzer target for the scoring model (src/score/model.c): a model YAML and
 * a score.request lead snapshot through ho_score_model_parse and ho_score_lead, then the
 * explanation and the lead.scored payload encoded as an envelope (what the score worker
 * sends).
 *
 * The input is split at its first NUL byte: model YAML before, the lead as JSON after
 * ({lead_id, email, fields: {...}, activities: [{type, path, url, campaign, occurred_at}],
 * as_of}). No NUL: the whole input is the model, scored over a few built-in leads. An empty
 * model part means the shipped deploy/scoring.yaml (built-in copy). The lead's own "as_of"
 * (an integer >= 0, as the worker accepts it) is the scoring time, else 2026-11-20T09:00Z.
 *
 * Invariants checked (abort on violation): a refused model names file:line; a scored lead's
 * explanation adds up exactly to fit + interest (the model's promise in scoring.h), the grade
 * is a letter A-D and a digit 1-4, the quadrant is one of four, a disqualified lead is never
 * an MQL, the explanation is valid JSON text (UTF-8) and the payload encodes; a refused lead
 * names the snapshot field. The score worker's route (the lead packed as msgpack, read into
 * the model's view by ho_score_snap_from_msgpack, the result packed by
 * ho_score_result_pack) gives the same result, refusal and payload as the jansson route.
 * Never crash, leak or run without bound.
 *     CC=clang cmake -DHO_FUZZ=ON ... && ./fuzz_scoring -max_total_time=120 corpus */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/msg.h"
#include "handoff/scoring.h"

#define T0 1795165200000LL /* 2026-11-20T09:00:00Z */

static const char *const s_leads[] = {
    "{\"lead_id\":1,\"email\":\"pat@acme.example\",\"stage\":\"ML\",\"owner\":null,"
    "\"fields\":{\"title\":\"VP Data Engineering\",\"industry_group\":\"software\","
    "\"country\":\"US\",\"employees\":5000,\"revenue\":2e8,\"company\":\"Acme\","
    "\"domain\":\"acme.example\",\"personal_email\":false,\"message\":\"kafka + dbt\"},"
    "\"activities\":[{\"type\":\"demo_request\",\"path\":\"/demo\",\"occurred_at\":1795078800000},"
    "{\"type\":\"page_view\",\"path\":\"/pricing\",\"url\":\"https://x.example/pricing?a=1\","
    "\"occurred_at\":1794992400000},{\"type\":\"email_open\",\"campaign\":\"Q4\","
    "\"occurred_at\":1790000000000},{\"type\":\"unsubscribe\",\"occurred_at\":1795000000000}]}",
    "{\"lead_id\":2,\"email\":\"kid@gmail.com\",\"fields\":{\"title\":\"Student\","
    "\"personal_email\":true,\"domain\":\"gmail.com\",\"employees\":\"n/a\"},\"activities\":[]}",
    "{\"lead_id\":3,\"fields\":{},\"activities\":[{\"type\":\"page_view\",\"occurred_at\":0},"
    "{\"type\":\"page_view\",\"path\":\"/careers\",\"occurred_at\":1795165200001}]}",
};

static void s_check_scored(const ho_score_result_t *r)
{
    long long sum = 0;
    for (size_t i = 0; i < r->n_hits; i++) {
        if (!r->hits[i].rule || !r->hits[i].kind) {
            abort();
        }
        sum += r->hits[i].points;
    }
    if (sum != (long long)r->fit + (long long)r->interest ||
        (long long)r->score != (long long)r->fit + (long long)r->interest) {
        abort(); /* the explanation must add up to the score exactly */
    }
    if (strlen(r->grade) != 2 || r->grade[0] < 'A' || r->grade[0] > 'D' || r->grade[1] < '1' ||
        r->grade[1] > '4') {
        abort();
    }
    if (!r->quadrant || (strcmp(r->quadrant, "mql_now") && strcmp(r->quadrant, "group_offering") &&
                         strcmp(r->quadrant, "nurture") && strcmp(r->quadrant, "never"))) {
        abort();
    }
    if (r->disqualified && r->mql) {
        abort();
    }
    if (r->counted + r->out_of_window + r->future > r->activities) {
        abort();
    }
    json_t *ex = ho_score_explanation_json(r);
    if (!ex || json_array_size(ex) != r->n_hits) {
        abort(); /* NULL here: a detail that is not valid UTF-8 */
    }
    json_decref(ex);
    ho_msg_t *msg = ho_msg_new("lead.scored");
    if (ho_score_result_to_payload(r, ho_msg_payload(msg)) != HO_OK) {
        abort();
    }
    char *buf = NULL;
    size_t len = 0;
    if (ho_msg_encode(msg, &buf, &len) != HO_OK) {
        abort();
    }
    free(buf);
    ho_msg_destroy(&msg);
}

/* The packed route agrees with ho_score_lead's result r (rc and err from it). */
static void s_same_packed(const ho_score_model_t *m, json_t *lead, int64_t as_of, int rc,
                          const ho_score_result_t *r, const ho_err_t *err)
{
    ho_msg_t *req = ho_msg_new("score.request");
    const char *buf;
    size_t len, off = 0;
    char *owned = NULL;
    if (!req || json_object_set(ho_msg_payload(req), "lead", lead) != 0 ||
        ho_msg_payload_packed(req, &buf, &len, &owned) != HO_OK) {
        abort();
    }
    msgpack_zone *zone = msgpack_zone_new(8192);
    msgpack_object p;
    if (!zone || msgpack_unpack(buf, len, &off, zone, &p) != MSGPACK_UNPACK_SUCCESS ||
        p.type != MSGPACK_OBJECT_MAP || p.via.map.size != 1) {
        abort();
    }
    ho_score_snapbuf_t *sb = ho_score_snapbuf_new();
    ho_score_snap_t snap;
    ho_score_result_t r2;
    ho_err_t err2 = {0};
    if (!sb || ho_score_snap_from_msgpack(sb, &p.via.map.ptr[0].val, len, &snap) != HO_OK) {
        abort();
    }
    int rc2 = ho_score_snap(m, &snap, as_of, HO_SCORE_DETAIL, &r2, &err2);
    if (rc2 != rc || strcmp(err2.field, err->field) != 0 ||
        strcmp(err2.message, err->message) != 0) {
        abort();
    }
    if (rc == HO_OK) {
        if (r2.fit != r->fit || r2.interest != r->interest || r2.mql != r->mql ||
            r2.n_hits != r->n_hits || strcmp(r2.grade, r->grade) != 0 ||
            r2.counted != r->counted || r2.capped != r->capped) {
            abort();
        }
        for (size_t i = 0; i < r->n_hits; i++) {
            if (r2.hits[i].rule != r->hits[i].rule || r2.hits[i].points != r->hits[i].points ||
                strcmp(r2.hits[i].detail, r->hits[i].detail) != 0) {
                abort();
            }
        }
        /* the packed payload decodes to the jansson one */
        msgpack_sbuffer sbuf;
        msgpack_packer pk;
        msgpack_sbuffer_init(&sbuf);
        msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
        ho_msg_t *a = ho_msg_new("lead.scored"), *b = ho_msg_new("lead.scored");
        if (msgpack_pack_map(&pk, HO_SCORE_PAYLOAD_PAIRS) != 0 ||
            ho_score_result_pack(&r2, &pk) != HO_OK ||
            ho_msg_set_payload_packed(a, &sbuf.data, sbuf.size) != HO_OK ||
            ho_score_result_to_payload(r, ho_msg_payload(b)) != HO_OK ||
            !json_equal(ho_msg_payload(a), ho_msg_payload(b))) {
            abort();
        }
        ho_msg_destroy(&a);
        ho_msg_destroy(&b);
    }
    ho_score_result_clear(&r2);
    ho_score_snapbuf_destroy(&sb);
    msgpack_zone_free(zone);
    free(owned);
    ho_msg_destroy(&req);
}

static void s_score(const ho_score_model_t *m, json_t *lead)
{
    int64_t as_of = T0;
    const json_t *a = json_object_get(lead, "as_of");
    if (json_is_integer(a) && json_integer_value(a) >= 0) {
        as_of = json_integer_value(a);
    }
    ho_score_result_t r;
    ho_err_t err = {0};
    int rc = ho_score_lead(m, lead, as_of, &r, &err);
    if (json_is_object(lead)) {
        s_same_packed(m, lead, as_of, rc, &r, &err);
    }
    if (rc == HO_OK) {
        s_check_scored(&r);
    } else if (err.field[0] == '\0' || err.message[0] == '\0') {
        abort(); /* a refused snapshot names its field */
    }
    ho_score_result_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ho_score_model_t *shipped;
    ho_err_t err = {0};
    if (!shipped) {
        shipped = ho_score_model_load(NULL, "scoring.yaml", &err);
        if (!shipped) {
            abort();
        }
    }
    const char *text = (const char *)data;
    const char *nul = memchr(text, 0, size);
    size_t yaml_len = nul ? (size_t)(nul - text) : size;

    ho_score_model_t *own = NULL;
    const ho_score_model_t *m = shipped;
    if (yaml_len > 0) {
        own = ho_score_model_parse(text, yaml_len, "fuzz.yaml", &err);
        if (!own) {
            if (err.code == HO_OK || strncmp(err.message, "fuzz.yaml:", 10) != 0) {
                abort(); /* a refused model says file:line */
            }
            return 0;
        }
        m = own;
        char desc[512];
        ho_score_model_describe(m, desc, sizeof desc);
        if (!ho_score_model_version(m)) {
            abort();
        }
    }
    if (nul) {
        json_error_t jerr;
        json_t *lead = json_loadb(nul + 1, size - yaml_len - 1, 0, &jerr);
        if (lead) {
            s_score(m, lead);
            json_decref(lead);
        }
    } else {
        for (size_t i = 0; i < sizeof s_leads / sizeof s_leads[0]; i++) {
            json_error_t jerr;
            json_t *lead = json_loads(s_leads[i], 0, &jerr);
            if (!lead) {
                abort();
            }
            s_score(m, lead);
            json_decref(lead);
        }
    }
    ho_score_model_destroy(&own);
    return 0;
}
