/* test_score_worker.c - the `score` worker driven in-process through ho_worker_call with real
 * envelopes (encoded and decoded by the codec, as the runtime hands them over):
 * score.request -> lead.scored with every catalog field, an event id derived from the request
 * (redelivery gives the same reply), malformed requests quarantined with the field named while
 * the good ones of the same batch go through, the model file from workers.score.model in the
 * config folder, the built-in model by default, and a bad model failing init with file:line.
 * The packed hot path (payloads kept as msgpack, HO_MSG_RAW_PAYLOAD) answers 300 seeded leads
 * of every field kind and shape exactly as the model's jansson route does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "handoff/conf.h"
#include "handoff/scoring.h"
#include "handoff/worker.h"

extern const ho_worker_def_t ho_worker_score;

#define DAY 86400000LL
#define T0 1795165200000LL /* 2026-11-20T09:00:00Z */

static const char s_model[] = "version: w-7\n"
                              "fit:\n"
                              "  rules:\n"
                              "    - {name: vp, field: title, match: '\\bvp\\b', points: 30}\n"
                              "interest:\n"
                              "  decay: {half_life_days: 10}\n"
                              "  rules:\n"
                              "    - {name: demo, type: demo_request, points: 30}\n"
                              "grades:\n"
                              "  fit_bands: {A: 30, B: 20, C: 10}\n"
                              "  interest_bands: {\"1\": 30, \"2\": 10, \"3\": 5}\n"
                              "quadrants: {good_fit: 20, high_interest: 10}\n"
                              "mql: {quadrants: [mql_now]}\n";

typedef struct {
    char dir[64];
    ho_conf_t *conf;
    void *ctx;
} s_w_t;

static void s_write(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int s_start(s_w_t *w, const char *gateway_yaml, ho_err_t *err)
{
    snprintf(w->dir, sizeof w->dir, "/tmp/ho-scorew-XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    s_write(w->dir, "my-model.yaml", s_model);
    w->conf = ho_conf_parse(gateway_yaml, strlen(gateway_yaml), "handoff.yaml", err);
    assert_non_null(w->conf);
    ho_worker_env_t env = {
        .name = "score",
        .data_dir = w->dir,
        .config_dir = w->dir,
        .conf = w->conf,
        .settings = ho_node_get(ho_node_get(ho_conf_root(w->conf), "workers"), "score"),
        .origin = "score@test",
    };
    return ho_worker_score.cb_init(&env, &w->ctx, err);
}

static void s_stop(s_w_t *w)
{
    ho_worker_score.cb_exit(&w->ctx);
    ho_worker_score.cb_exit(&w->ctx); /* safe twice */
    ho_conf_destroy(&w->conf);
    char path[256];
    snprintf(path, sizeof path, "%s/my-model.yaml", w->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/bad.yaml", w->dir);
    unlink(path);
    rmdir(w->dir);
}

/* An envelope as it arrives from the broker: built, encoded to msgpack, decoded again. */
static ho_msg_t *s_wire(const char *type, const char *id, json_t *payload)
{
    ho_msg_t *m = ho_msg_new(type);
    ho_msg_set_id(m, id);
    ho_msg_set_origin(m, "store@test");
    ho_msg_set_payload(m, payload);
    char *buf;
    size_t len;
    assert_int_equal(ho_msg_encode(m, &buf, &len), HO_OK);
    ho_msg_destroy(&m);
    ho_err_t err = {0};
    assert_int_equal(ho_msg_decode(buf, len, &m, &err), HO_OK);
    free(buf);
    return m;
}

static json_t *s_request(long long lead_id, const char *title, json_t *acts)
{
    return json_pack("{s:I,s:s,s:{s:I,s:s,s:s,s:n,s:{s:s,s:s},s:o}}", "as_of", (json_int_t)T0,
                     "reason", "activity", "lead", "lead_id", (json_int_t)lead_id, "email",
                     "pat@acme.test", "stage", "ML", "owner", "fields", "title", title, "company",
                     "Acme", "activities", acts ? acts : json_array());
}

/* Encode what the worker emitted and decode it again, as the broker would see it. */
static ho_msg_t **s_reply(ho_out_t *out, size_t *n)
{
    size_t cnt = ho_out_count(out);
    ho_msg_t **msgs = ho_out_take(out, &cnt);
    char *buf;
    size_t len;
    assert_int_equal(ho_msg_encode_batch(msgs, cnt, &buf, &len), HO_OK);
    ho_msg_batch_free(&msgs, cnt);
    ho_err_t err = {0};
    ho_msg_t **back = NULL;
    assert_int_equal(ho_msg_decode_frame(buf, len, &back, n, NULL, NULL, &err), HO_OK);
    free(buf);
    return back;
}

static void test_request_scored_with_every_field_and_stable_id(void **state)
{
    (void)state;
    s_w_t w = {0};
    ho_err_t err = {0};
    if (s_start(&w, "workers:\n  score:\n    model: my-model.yaml\n", &err) != HO_OK) {
        fail_msg("init: %s", err.message);
    }
    /* demo 10 days old: 30 x 0.5 = 15 */
    json_t *acts = json_pack("[{s:s,s:s,s:n,s:I,s:n}]", "type", "demo_request", "path", "/demo",
                             "url", "occurred_at", (json_int_t)(T0 - 10 * DAY), "campaign");
    char ids[2][HO_MSG_MAX_ID];
    char *bodies[2];
    for (int round = 0; round < 2; round++) {
        ho_msg_t *in =
            s_wire("score.request", "sr-1", s_request(41, "VP Data", json_deep_copy(acts)));
        ho_out_t *out = ho_out_new("score@test");
        assert_int_equal(ho_worker_call(&ho_worker_score, w.ctx, &in, 1, out), HO_WORKER_OK);
        size_t n = 0;
        ho_msg_t **rep = s_reply(out, &n);
        assert_int_equal(n, 1);
        assert_string_equal(ho_msg_type(rep[0]), "lead.scored");
        assert_string_equal(ho_msg_origin(rep[0]), "score@test");
        assert_int_equal(ho_msg_ts(rep[0]), T0);
        const json_t *p = ho_msg_payload(rep[0]);
        assert_int_equal(json_integer_value(json_object_get(p, "lead_id")), 41);
        assert_string_equal(json_string_value(json_object_get(p, "email")), "pat@acme.test");
        assert_int_equal(json_integer_value(json_object_get(p, "as_of")), T0);
        assert_string_equal(json_string_value(json_object_get(p, "model_version")), "w-7");
        assert_int_equal(json_integer_value(json_object_get(p, "fit")), 30);
        assert_int_equal(json_integer_value(json_object_get(p, "interest")), 15);
        assert_int_equal(json_integer_value(json_object_get(p, "score")), 45);
        assert_string_equal(json_string_value(json_object_get(p, "grade")), "A2");
        assert_string_equal(json_string_value(json_object_get(p, "quadrant")), "mql_now");
        assert_true(json_is_true(json_object_get(p, "mql")));
        const json_t *ex = json_object_get(p, "explanation");
        assert_int_equal(json_array_size(ex), 2);
        assert_string_equal(json_string_value(json_object_get(json_array_get(ex, 0), "rule")),
                            "vp");
        /* compact: rule ids and numbers, no texts; kind follows from the entry */
        assert_null(json_object_get(json_array_get(ex, 0), "detail"));
        assert_null(json_object_get(json_array_get(ex, 0), "n"));
        assert_string_equal(ho_score_entry_kind(json_array_get(ex, 0)), "fit");
        assert_string_equal(ho_score_entry_kind(json_array_get(ex, 1)), "interest");
        assert_int_equal(json_integer_value(json_object_get(json_array_get(ex, 1), "n")), 1);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(ex, 1), "last")),
                         T0 - 10 * DAY);
        assert_string_equal(json_string_value(json_object_get(json_array_get(ex, 1), "rule")),
                            "demo");
        assert_int_equal(json_integer_value(json_object_get(json_array_get(ex, 1), "points")), 15);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(ex, 1), "raw")), 30);
        snprintf(ids[round], sizeof ids[round], "%s", ho_msg_id(rep[0]));
        bodies[round] = json_dumps(p, JSON_SORT_KEYS);
        ho_msg_batch_free(&rep, n);
        ho_out_destroy(&out);
        ho_msg_destroy(&in);
    }
    /* redelivery of the same request: same event id, same payload */
    assert_string_equal(ids[0], ids[1]);
    assert_string_equal(bodies[0], bodies[1]);
    assert_int_equal(strncmp(ids[0], "scored-", 7), 0);
    /* another request id gives another event id */
    ho_msg_t *in = s_wire("score.request", "sr-2", s_request(41, "VP Data", NULL));
    ho_out_t *out = ho_out_new("score@test");
    assert_int_equal(ho_worker_call(&ho_worker_score, w.ctx, &in, 1, out), HO_WORKER_OK);
    assert_int_equal(ho_out_count(out), 1);
    assert_string_not_equal(ho_msg_id(ho_out_at(out, 0)), ids[0]);
    ho_out_destroy(&out);
    ho_msg_destroy(&in);
    free(bodies[0]);
    free(bodies[1]);
    json_decref(acts);
    s_stop(&w);
}

static void test_malformed_requests_quarantined_rest_go_through(void **state)
{
    (void)state;
    s_w_t w = {0};
    ho_err_t err = {0};
    if (s_start(&w, "workers:\n  score:\n    model: my-model.yaml\n", &err) != HO_OK) {
        fail_msg("init: %s", err.message);
    }
    json_t *no_lead = json_pack("{s:I}", "as_of", (json_int_t)T0);
    json_t *bad_as_of = s_request(2, "VP", NULL);
    json_object_set_new(bad_as_of, "as_of", json_string("yesterday"));
    json_t *bad_id = s_request(3, "VP", NULL);
    json_object_set_new(json_object_get(bad_id, "lead"), "lead_id", json_string("x"));
    json_t *bad_act = s_request(
        4, "VP", json_pack("[{s:s,s:s}]", "type", "demo_request", "occurred_at", "2026-11-20"));
    ho_msg_t *in[7] = {
        s_wire("score.request", "ok-1", s_request(1, "VP", NULL)),
        s_wire("score.request", "bad-1", no_lead),
        s_wire("score.request", "bad-2", bad_as_of),
        s_wire("score.request", "bad-3", bad_id),
        s_wire("score.request", "bad-4", bad_act),
        s_wire("lead.scored", "bad-5", json_object()),
        s_wire("score.request", "ok-2", s_request(5, "Analyst", NULL)),
    };
    ho_out_t *out = ho_out_new("score@test");
    assert_int_equal(ho_worker_call(&ho_worker_score, w.ctx, in, 7, out), HO_WORKER_OK);
    size_t n = 0;
    ho_msg_t **rep = s_reply(out, &n);
    assert_int_equal(n, 7);
    const struct {
        const char *type, *code, *field;
        long long lead_id;
    } want[] = {
        {"lead.scored", NULL, NULL, 1},
        {"quarantine", "missing_field", "lead", 0},
        {"quarantine", "bad_field", "as_of", 0},
        {"quarantine", "bad_field", "lead.lead_id", 0},
        {"quarantine", "bad_field", "lead.activities[0].occurred_at", 0},
        {"quarantine", "unknown_type", "type", 0},
        {"lead.scored", NULL, NULL, 5},
    };
    for (size_t i = 0; i < n; i++) {
        const json_t *p = ho_msg_payload(rep[i]);
        assert_string_equal(ho_msg_type(rep[i]), want[i].type);
        if (want[i].code) {
            assert_string_equal(json_string_value(json_object_get(p, "stage")), "score");
            assert_string_equal(json_string_value(json_object_get(p, "code")), want[i].code);
            assert_string_equal(json_string_value(json_object_get(p, "field")), want[i].field);
            assert_non_null(strstr(json_string_value(json_object_get(p, "reason")), want[i].field));
            assert_string_equal(json_string_value(json_object_get(p, "event_id")),
                                ho_msg_id(in[i]));
            assert_true(json_is_object(json_object_get(p, "raw")));
        } else {
            assert_int_equal(json_integer_value(json_object_get(p, "lead_id")), want[i].lead_id);
        }
    }
    ho_msg_batch_free(&rep, n);
    ho_out_destroy(&out);
    for (size_t i = 0; i < 7; i++) {
        ho_msg_destroy(&in[i]);
    }
    s_stop(&w);
}

static void test_model_settings(void **state)
{
    (void)state;
    /* no settings: the built-in deploy/scoring.yaml */
    s_w_t w = {0};
    ho_err_t err = {0};
    if (s_start(&w, "routes: {}\n", &err) != HO_OK) {
        fail_msg("init: %s", err.message);
    }
    ho_msg_t *in = s_wire("score.request", "sr-b", s_request(9, "VP", NULL));
    ho_out_t *out = ho_out_new("score@test");
    assert_int_equal(ho_worker_call(&ho_worker_score, w.ctx, &in, 1, out), HO_WORKER_OK);
    assert_string_equal(
        json_string_value(json_object_get(ho_msg_payload(ho_out_at(out, 0)), "model_version")),
        "2026.11-1");
    ho_out_destroy(&out);
    ho_msg_destroy(&in);
    s_stop(&w);

    /* a bad model file: init fails naming file, line and key */
    memset(&w, 0, sizeof w);
    snprintf(w.dir, sizeof w.dir, "/tmp/ho-scorew-XXXXXX");
    assert_non_null(mkdtemp(w.dir));
    s_write(w.dir, "bad.yaml",
            "version: x\nfit:\n  rules:\n    - {name: a, field: title, "
            "match: '(', points: 1}\n");
    const char *yaml = "workers:\n  score:\n    model: bad.yaml\n";
    w.conf = ho_conf_parse(yaml, strlen(yaml), "handoff.yaml", &err);
    ho_worker_env_t env = {
        .name = "score",
        .config_dir = w.dir,
        .conf = w.conf,
        .settings = ho_node_get(ho_node_get(ho_conf_root(w.conf), "workers"), "score"),
    };
    assert_int_equal(ho_worker_score.cb_init(&env, &w.ctx, &err), HO_ERR_CONFIG);
    assert_null(w.ctx);
    assert_non_null(strstr(err.message, "bad.yaml:4: fit.rules[0].match: bad regular expression"));
    s_stop(&w);

    /* an unknown setting is refused */
    memset(&w, 0, sizeof w);
    assert_int_not_equal(s_start(&w, "workers:\n  score:\n    modle: my-model.yaml\n", &err),
                         HO_OK);
    assert_non_null(strstr(err.message, "modle"));
    s_stop(&w);
}

/* score.request.seq (the store's request order) comes back in lead.scored.seq, through the
 * wire both ways; a request without one gets a reply without one. */
static void test_request_seq_echoed(void **state)
{
    (void)state;
    s_w_t w = {0};
    ho_err_t err = {0};
    if (s_start(&w, "workers:\n  score:\n    model: my-model.yaml\n", &err) != HO_OK) {
        fail_msg("init: %s", err.message);
    }
    json_t *with = s_request(41, "VP Data", NULL);
    json_object_set_new(with, "seq", json_integer(1780000000000123LL));
    ho_msg_t *in[2] = {s_wire("score.request", "sr-s1", with),
                       s_wire("score.request", "sr-s2", s_request(42, "VP Data", NULL))};
    ho_out_t *out = ho_out_new("score@test");
    assert_int_equal(ho_worker_call(&ho_worker_score, w.ctx, in, 2, out), HO_WORKER_OK);
    size_t n = 0;
    ho_msg_t **rep = s_reply(out, &n);
    assert_int_equal(n, 2);
    const json_t *seq = json_object_get(ho_msg_payload(rep[0]), "seq");
    assert_true(json_is_integer(seq));
    assert_true(json_integer_value(seq) == 1780000000000123LL);
    assert_null(json_object_get(ho_msg_payload(rep[1]), "seq"));
    ho_msg_batch_free(&rep, n);
    ho_out_destroy(&out);
    ho_msg_destroy(&in[0]);
    ho_msg_destroy(&in[1]);
    s_stop(&w);
}


/* ---- the packed path against the model's jansson route ---- */

static uint64_t s_rng = 0x2545F4914F6CDD1Dull;

static uint32_t s_rand(uint32_t n)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (uint32_t)((s_rng >> 16) % n);
}

/* A field value of any kind the model may meet. */
static json_t *s_any(const char *const *texts, size_t n_texts)
{
    switch (s_rand(9)) {
    case 0:
        return json_null();
    case 1:
        return json_integer((json_int_t)s_rand(20000));
    case 2:
        return json_real((double)s_rand(100000) * 1234.5);
    case 3:
        return json_boolean(s_rand(2));
    case 4:
        return json_string("");
    case 5:
        return json_pack("[i]", 1);
    default:
        return json_string(texts[s_rand((uint32_t)n_texts)]);
    }
}

static json_t *s_random_lead(long long id, int *bad)
{
    static const char *const texts[] = {"VP Data Engineering", "Student", "Head of BI",
                                        "Director", "software", "US", "DE", "gmail.com",
                                        "true", "1500", "2.5e8", "kafka and dbt", "caf\xc3\xa9"};
    static const char *const types[] = {"page_view", "email_open", "demo_request", "unsubscribe",
                                        "webinar_attended", "free_trial_signup", "mystery"};
    static const char *const paths[] = {"/pricing", "/demo", "/careers", "/blog/x", ""};
    static const char *const names[] = {"title", "industry_group", "country", "employees",
                                        "revenue", "domain", "personal_email", "company",
                                        "message"};
    json_t *fields = json_object();
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (s_rand(4)) {
            json_object_set_new(fields, names[i], s_any(texts, sizeof texts / sizeof texts[0]));
        }
    }
    json_t *acts = json_array();
    uint32_t k = s_rand(4) == 0 ? 60 + s_rand(80) : s_rand(30);
    for (uint32_t i = 0; i < k; i++) {
        json_t *a = json_pack("{s:s,s:I}", "type", types[s_rand(7)], "occurred_at",
                              (json_int_t)(T0 - (int64_t)s_rand(200 * 24) * 3600000LL +
                                           (s_rand(20) == 0 ? 5 * DAY : 0)));
        if (s_rand(3)) {
            json_object_set_new(a, "path", json_string(paths[s_rand(5)]));
        }
        if (s_rand(4) == 0) {
            json_object_set_new(a, "url", s_rand(2) ? json_string("https://x.example/pricing")
                                                    : json_null());
        }
        if (s_rand(5) == 0) {
            json_object_set_new(a, "campaign", s_rand(2) ? json_string("Q4-launch")
                                                         : json_integer(4));
        }
        json_array_append_new(acts, a);
    }
    json_t *lead = json_pack("{s:I,s:s,s:s,s:n,s:o,s:o}", "lead_id", (json_int_t)id, "email",
                             "pat@acme.test", "stage", "ML", "owner", "fields", fields,
                             "activities", acts);
    if (s_rand(4) == 0) { /* a buyer who asked for a demo: an MQL unless something else fires */
        json_object_set_new(fields, "title", json_string("VP Data Engineering"));
        json_object_set_new(fields, "industry_group", json_string("software"));
        json_object_set_new(fields, "country", json_string("US"));
        json_object_set_new(fields, "employees", json_integer(5000));
        json_array_append_new(acts, json_pack("{s:s,s:I}", "type", "demo_request",
                                              "occurred_at", (json_int_t)(T0 - DAY)));
    }
    if (s_rand(5) == 0) { /* a field at the top, not in fields */
        json_object_set_new(lead, "title", json_string("VP Data"));
    }
    *bad = 0;
    switch (s_rand(40)) { /* shapes the model refuses, naming the field */
    case 0:
        json_array_append_new(acts, json_integer(3));
        *bad = 1;
        break;
    case 1:
        json_array_append_new(acts, json_pack("{s:s}", "type", "page_view"));
        *bad = 1;
        break;
    case 2:
        json_array_append_new(acts, json_pack("{s:s,s:s}", "type", "x", "occurred_at", "soon"));
        *bad = 1;
        break;
    case 3:
        json_array_append_new(acts, json_pack("{s:i,s:I}", "type", 7, "occurred_at",
                                              (json_int_t)T0));
        *bad = 1;
        break;
    case 4:
        json_object_set_new(lead, "fields", json_string("nope"));
        *bad = 1;
        break;
    case 5:
        json_object_set_new(lead, "activities", json_object());
        *bad = 1;
        break;
    case 6:
        json_object_set_new(lead, "email", json_null());
        break;
    case 7:
        json_object_del(lead, "email");
        break;
    }
    return lead;
}

static json_t *s_outputs(ho_out_t *out)
{
    json_t *all = json_array();
    for (size_t i = 0; i < ho_out_count(out); i++) {
        json_array_append_new(all, ho_msg_to_json(ho_out_at(out, i)));
    }
    return all;
}

/* Every test and match a model has: equals on a flag and on text, in, ranges, missing, a
 * regex over two fields; interest on path, url and campaign, a cap, a per-day limit, groups. */
static const char s_rich[] =
    "version: rich-1\n"
    "fit:\n"
    "  rules:\n"
    "    - {name: vp, fields: [title, message], match: '\\b(vp|head)\\b', points: 20}\n"
    "    - {name: soft, field: industry_group, in: [software, finance], points: 10}\n"
    "    - {name: us, field: country, equals: US, points: 5}\n"
    "    - {name: big, field: employees, min: 1000, points: 10, group: size}\n"
    "    - {name: mid, field: employees, min: 50, max: 1000, points: 5, group: size}\n"
    "    - {name: rich, field: revenue, min: 100000000, points: 5}\n"
    "    - {name: free, field: personal_email, equals: true, points: -20}\n"
    "    - {name: nodomain, field: domain, missing: true, points: -5}\n"
    "    - {name: student, field: title, match: 'student', disqualify: true, points: -50}\n"
    "interest:\n"
    "  window_days: 90\n"
    "  decay: {half_life_days: 20}\n"
    "  daily_caps: {page_view: 3}\n"
    "  rules:\n"
    "    - {name: pricing_url, type: page_view, url: 'pricing', points: 9}\n"
    "    - {name: pricing, type: page_view, path: '^/pricing', points: 8, group: pages}\n"
    "    - {name: page, type: page_view, points: 1, group: pages, max_per_day: 2}\n"
    "    - {name: launch, campaign: 'launch', points: 4}\n"
    "    - {name: demo, type: demo_request, points: 30, decay: false}\n"
    "    - {name: unsub, type: unsubscribe, points: -10}\n"
    "grades:\n"
    "  fit_bands: {A: 30, B: 20, C: 10}\n"
    "  interest_bands: {\"1\": 30, \"2\": 10, \"3\": 5}\n"
    "quadrants: {good_fit: 20, high_interest: 10}\n"
    "mql: {quadrants: [mql_now]}\n";

/* 300 seeded leads through the worker, packed and as trees, against the model's own
 * jansson route (ho_score_lead_opt + ho_score_result_to_payload). */
static void s_same_as_model(void *ctx, const ho_score_model_t *model)
{
    enum { N = 300 };
    ho_msg_t *reqs[N];
    json_t *leads[N];
    int bad[N], n_bad = 0, n_mql = 0;
    ho_err_t err = {0};
    for (int i = 0; i < N; i++) {
        leads[i] = s_random_lead(1000 + i, &bad[i]);
        n_bad += bad[i];
        char id[32];
        snprintf(id, sizeof id, "sr-p%d", i);
        reqs[i] = ho_msg_new("score.request");
        ho_msg_set_id(reqs[i], id);
        ho_msg_set_payload(reqs[i], json_pack("{s:I,s:O,s:I}", "as_of", (json_int_t)T0, "lead",
                                              leads[i], "seq", (json_int_t)i));
    }
    char *frame;
    size_t len;
    assert_int_equal(ho_msg_encode_batch(reqs, N, &frame, &len), HO_OK);
    /* as the runtime hands them to the scorer (packed) and as before (trees) */
    ho_msg_t **packed = NULL, **tree = NULL;
    size_t np = 0, nt = 0;
    assert_int_equal(ho_msg_decode_frame_opt(frame, len, HO_MSG_RAW_PAYLOAD, &packed, &np, NULL,
                                             NULL, &err),
                     HO_OK);
    assert_int_equal(ho_msg_decode_frame(frame, len, &tree, &nt, NULL, NULL, &err), HO_OK);
    assert_int_equal(np, N);
    assert_int_equal(nt, N);
    ho_out_t *op = ho_out_new("score@test"), *ot = ho_out_new("score@test");
    assert_int_equal(ho_worker_call(&ho_worker_score, ctx, packed, np, op), HO_WORKER_OK);
    assert_int_equal(ho_worker_call(&ho_worker_score, ctx, tree, nt, ot), HO_WORKER_OK);
    json_t *jp = s_outputs(op), *jt = s_outputs(ot);
    assert_int_equal(json_array_size(jp), N);
    assert_true(json_equal(jp, jt));
    for (int i = 0; i < N; i++) {
        const json_t *got = json_object_get(json_array_get(jp, (size_t)i), "payload");
        const char *type =
            json_string_value(json_object_get(json_array_get(jp, (size_t)i), "type"));
        ho_score_result_t r;
        ho_err_t e = {0};
        int rc = ho_score_lead_opt(model, leads[i], T0, 0, &r, &e);
        if (bad[i]) {
            assert_int_not_equal(rc, HO_OK);
            assert_string_equal(type, "quarantine");
            assert_string_equal(json_string_value(json_object_get(got, "field")), e.field);
            assert_string_equal(json_string_value(json_object_get(got, "reason")), e.message);
        } else {
            assert_int_equal(rc, HO_OK);
            assert_string_equal(type, "lead.scored");
            json_t *want = json_object();
            assert_int_equal(ho_score_result_to_payload(&r, want), HO_OK);
            json_object_set_new(want, "lead_id", json_integer(1000 + i));
            const json_t *email = json_object_get(leads[i], "email");
            json_object_set_new(want, "email", email ? json_deep_copy(email) : json_null());
            json_object_set_new(want, "seq", json_integer(i));
            if (!json_equal(want, got)) {
                char *a = json_dumps(want, JSON_SORT_KEYS), *b = json_dumps(got, JSON_SORT_KEYS);
                fail_msg("lead %d: model says %s, worker sent %s", i, a, b);
            }
            n_mql += r.mql;
            json_decref(want);
        }
        ho_score_result_clear(&r);
    }
    /* the sample reaches both kinds of answer */
    assert_true(n_bad >= 10 && n_bad < N / 2);
    assert_true(n_mql >= 5);
    json_decref(jp);
    json_decref(jt);
    ho_out_destroy(&op);
    ho_out_destroy(&ot);
    ho_msg_batch_free(&packed, np);
    ho_msg_batch_free(&tree, nt);
    free(frame);
    for (int i = 0; i < N; i++) {
        ho_msg_destroy(&reqs[i]);
        json_decref(leads[i]);
    }
}

static void test_packed_path_same_as_model(void **state)
{
    (void)state;
    /* the shipped model */
    s_w_t w = {0};
    ho_err_t err = {0};
    if (s_start(&w, "routes: {}\n", &err) != HO_OK) {
        fail_msg("init: %s", err.message);
    }
    ho_score_model_t *model = ho_score_model_load(NULL, "scoring.yaml", &err);
    assert_non_null(model);
    s_same_as_model(w.ctx, model);
    ho_score_model_destroy(&model);
    /* a model with every kind of test */
    ho_worker_score.cb_exit(&w.ctx);
    s_write(w.dir, "rich.yaml", s_rich);
    char path[256];
    snprintf(path, sizeof path, "%s/rich.yaml", w.dir);
    model = ho_score_model_load_file(path, &err);
    if (!model) {
        fail_msg("rich.yaml: %s", err.message);
    }
    const char *yaml = "workers:\n  score:\n    model: rich.yaml\n";
    ho_conf_t *conf = ho_conf_parse(yaml, strlen(yaml), "handoff.yaml", &err);
    ho_worker_env_t env = {
        .name = "score",
        .data_dir = w.dir,
        .config_dir = w.dir,
        .conf = conf,
        .settings = ho_node_get(ho_node_get(ho_conf_root(conf), "workers"), "score"),
        .origin = "score@test",
    };
    assert_int_equal(ho_worker_score.cb_init(&env, &w.ctx, &err), HO_OK);
    s_same_as_model(w.ctx, model);
    ho_score_model_destroy(&model);
    ho_conf_destroy(&conf);
    unlink(path);
    s_stop(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_scored_with_every_field_and_stable_id),
        cmocka_unit_test(test_malformed_requests_quarantined_rest_go_through),
        cmocka_unit_test(test_model_settings),
        cmocka_unit_test(test_request_seq_echoed),
        cmocka_unit_test(test_packed_path_same_as_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
