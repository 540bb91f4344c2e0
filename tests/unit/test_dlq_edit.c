/* test_dlq_edit.c - `handoff dlq replay ID --set F=V`: the store worker's handling of the
 * dlq.replay `set` map, driven in-process (ho_worker_call) with real envelopes, a real SQLite
 * file in a temp dir and the real ingest worker for the second refusal:
 *   - the replayed lead.raw carries the edited fields (null drops one), same event id;
 *   - the row is marked replayed and its raw_json keeps the edited record plus
 *     replay_edits [{at, set, was}] (the original values), appended edit after edit;
 *   - an edited record that ingest refuses again reopens the row with the new reason and the
 *     original value is still in raw_json;
 *   - a field the kind does not have, a non-text value, a normalized record the store refused,
 *     a dead letter and an import row without fields are refused per row (failed, naming the
 *     field), the row unchanged; the other ids of the request still go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "handoff/worker.h"
#include "store_worker_fixture.h"

extern const ho_worker_def_t ho_worker_ingest;

#define H 3600000LL

static int s_setup(void **state)
{
    return s_store_setup(state, "/tmp/ho-dlqedit-XXXXXX");
}

/* One message to the store through the wire codec, as the runtime hands it. */
static void s_call(s_t *t, ho_msg_t *m)
{
    char *frame = NULL;
    size_t len = 0;
    assert_int_equal(ho_msg_encode_batch(&m, 1, &frame, &len), HO_OK);
    ho_msg_destroy(&m);
    ho_msg_t **in = NULL;
    size_t got = 0;
    ho_err_t err = {0};
    assert_int_equal(ho_msg_decode_frame(frame, len, &in, &got, NULL, NULL, &err), HO_OK);
    free(frame);
    ho_out_clear(t->out);
    assert_int_equal(ho_worker_call(&ho_worker_store, t->ctx, in, got, t->out), HO_WORKER_OK);
    ho_msg_batch_free(&in, got);
}

static ho_msg_t *s_out(s_t *t, const char *type)
{
    for (size_t i = 0; i < ho_out_count(t->out); i++) {
        if (strcmp(ho_msg_type(ho_out_at(t->out, i)), type) == 0) {
            return ho_out_at(t->out, i);
        }
    }
    fail_msg("no %s in the output", type);
    return NULL;
}

/* The quarantine message ingest makes of a lead.raw it refuses for its email (ho_out_quarantine
 * of the real ingest worker, so the row is exactly what a pipeline stores). */
static ho_msg_t *s_ingest_refusal(ho_msg_t *raw)
{
    void *ctx = NULL;
    ho_err_t err = {0};
    ho_worker_env_t env = {.name = "ingest", .origin = "ingest@test"};
    assert_int_equal(ho_worker_ingest.cb_init(&env, &ctx, &err), HO_OK);
    ho_out_t *out = ho_out_new("ingest@test");
    assert_int_equal(ho_worker_call(&ho_worker_ingest, ctx, &raw, 1, out), HO_WORKER_OK);
    ho_worker_ingest.cb_exit(&ctx);
    ho_msg_destroy(&raw);
    ho_msg_t *q = NULL;
    for (size_t i = 0; i < ho_out_count(out); i++) {
        if (strcmp(ho_msg_type(ho_out_at(out, i)), "quarantine") == 0) {
            ho_msg_t *m = ho_out_at(out, i);
            q = s_msg("quarantine", ho_msg_id(m), ho_msg_ts(m), json_deep_copy(ho_msg_payload(m)));
        }
    }
    ho_out_destroy(&out);
    assert_non_null(q);
    return q;
}

static ho_msg_t *s_raw_lead(const char *email, long long ts)
{
    return s_msg("lead.raw", "lead-acme-7", ts,
                 json_pack("{sss{sssi}s{ssssss}}", "source", "acme", "source_ref", "file",
                           "leads.csv", "line", 7, "fields", "email", email, "first_name", "Jane",
                           "employees", "lots"));
}

/* dlq.replay of `ids` with `set` (JSON text, NULL: no set) */
static ho_msg_t *s_replay(const char *id, long long ts, const char *ids, const char *set)
{
    json_t *p = json_object();
    json_t *v = json_loads(ids, 0, NULL);
    assert_non_null(v);
    json_object_set_new(p, "ids", v);
    if (set) {
        assert_non_null(v = json_loads(set, 0, NULL));
        json_object_set_new(p, "set", v);
    }
    return s_msg("dlq.replay", id, ts, p);
}

static const char *s_path(const json_t *o, const char *a, const char *b)
{
    return json_string_value(json_object_get(json_object_get(o, a), b));
}

static void test_set_replays_the_edited_record(void **state)
{
    s_t *t = *state;
    s_call(t, s_ingest_refusal(s_raw_lead("jane@@acme", 1 * H)));
    s_expect(t, "SELECT code || ' ' || field || ' ' || input_type FROM quarantine WHERE id = 1",
             "bad_email email lead.raw");

    /* email fixed (named as `dlq list` may show it), employees dropped, a new field set */
    s_call(t, s_replay("r-1", 2 * H, "[1]",
                       "{\"fields.email\": \"jane@acme.com\", \"employees\": null, "
                       "\"country\": \"DE\"}"));
    ho_msg_t *m = s_out(t, "lead.raw");
    assert_string_equal(ho_msg_id(m), "lead-acme-7");
    json_t *p = ho_msg_payload(m);
    assert_string_equal(s_path(p, "fields", "email"), "jane@acme.com");
    assert_string_equal(s_path(p, "fields", "first_name"), "Jane");
    assert_string_equal(s_path(p, "fields", "country"), "DE");
    assert_null(json_object_get(json_object_get(p, "fields"), "employees"));
    assert_string_equal(s_path(p, "source_ref", "file"), "leads.csv");
    json_t *rep = ho_msg_payload(s_out(t, "dlq.replayed"));
    assert_int_equal(json_array_size(json_object_get(rep, "replayed")), 1);
    assert_int_equal(json_array_size(json_object_get(rep, "failed")), 0);

    /* the row: replayed, the record as sent, every edit with the values it replaced */
    s_expect(t, "SELECT replayed_at FROM quarantine WHERE id = 1", "7200000");
    s_expect(t, "SELECT json_extract(raw_json, '$.fields.email') FROM quarantine", "jane@acme.com");
    s_expect(t, "SELECT json_extract(raw_json, '$.replay_edits') FROM quarantine",
             "[{\"at\":7200000,\"set\":{\"country\":\"DE\",\"email\":\"jane@acme.com\","
             "\"employees\":null},\"was\":{\"country\":null,\"email\":\"jane@@acme\","
             "\"employees\":\"lots\"}}]");

    /* ingest refuses the edited record again (a second, still bad edit): the same row opens
     * again with the new reason, the first value still in replay_edits */
    s_call(t, s_replay("r-2", 3 * H, "[1]", "{\"email\": \"jane at acme.com\"}"));
    m = s_out(t, "lead.raw");
    assert_string_equal(s_path(ho_msg_payload(m), "fields", "email"), "jane at acme.com");
    ho_msg_t *again = s_msg("lead.raw", ho_msg_id(m), 4 * H, json_deep_copy(ho_msg_payload(m)));
    s_call(t, s_ingest_refusal(again));
    s_expect(t, "SELECT COUNT(*) FROM quarantine", "1");
    s_expect(t,
             "SELECT IFNULL(replayed_at, 'open') || ' ' || code || ' ' || reason FROM quarantine",
             "open bad_email leads.csv:7: \"jane at acme.com\" is not an email address");
    s_expect(t,
             "SELECT json_extract(raw_json, '$.replay_edits[0].was.email') || ' -> ' || "
             "json_extract(raw_json, '$.replay_edits[1].was.email') || ' -> ' || "
             "json_extract(raw_json, '$.fields.email') FROM quarantine",
             "jane@@acme -> jane@acme.com -> jane at acme.com");
    s_expect(t, "SELECT json_array_length(raw_json, '$.replay_edits') FROM quarantine", "2");

    /* a plain replay sends the record as last edited */
    s_call(t, s_replay("r-3", 5 * H, "[1]", NULL));
    assert_string_equal(s_path(ho_msg_payload(s_out(t, "lead.raw")), "fields", "email"),
                        "jane at acme.com");
    s_expect(t, "SELECT json_array_length(raw_json, '$.replay_edits') FROM quarantine", "2");
}

static void test_set_refused_per_row(void **state)
{
    s_t *t = *state;
    s_call(t, s_ingest_refusal(s_raw_lead("jane@@acme", 1 * H))); /* 1: lead.raw */
    /* 2: an outcome the store refused (kim unknown -> it waits; so date it before kim's lead
     * was created: before_lead_created) */
    s_call(t, s_msg("lead.normalized", "l-1", 1 * H,
                    json_pack("{sssss{sssi}s{ss}sI}", "source", "hubspot", "email", "kim@acme.com",
                              "source_ref", "file", "x.csv", "line", 2, "fields", "email",
                              "kim@acme.com", "observed_at", (json_int_t)(1 * H))));
    s_call(t, s_msg("lead.outcome", "o-bad", 2 * H,
                    json_pack("{sssssssssssI}", "feedback_id", "f1", "email", "kim@acme.com",
                              "rep_id", "r1", "outcome", "sql", "notes", "", "occurred_at",
                              (json_int_t)(H / 2))));
    s_expect(t, "SELECT code || ' ' || input_type FROM quarantine WHERE id = 2",
             "before_lead_created lead.outcome");
    /* 3: a dead letter; 4: a row the importer could not read (no fields) */
    s_call(t, s_msg("dead.letter", "dl-1", 3 * H,
                    json_pack("{sssisss[{sssss{ss}}]}", "service", "score", "attempts", 5, "reason",
                              "worker died", "frames", "type", "score.request", "id", "sr-1",
                              "payload", "reason", "new")));
    s_call(t, s_msg("quarantine", "q-imp-1", 3 * H,
                    json_pack("{ssssssssssss s{sssi} s{sss{sssi}s[ss]}}", "stage", "import", "code",
                              "bad_column_count", "field", "", "reason", "x.csv:9: 2 columns",
                              "event_id", "imp-9", "event_type", "lead.raw", "source_ref", "file",
                              "x.csv", "line", 9, "raw", "source", "acme", "source_ref", "file",
                              "x.csv", "line", 9, "record", "a", "b")));
    s_expect(t, "SELECT COUNT(*) FROM quarantine", "4");
    char *before = s_q(t, "SELECT group_concat(IFNULL(replayed_at, '-') || raw_json, '|') FROM "
                          "quarantine");

    /* a field a lead does not have (a typo), with a good one: nothing of it applied */
    s_call(t, s_replay("r-1", 4 * H, "[1]", "{\"email\": \"jane@acme.com\", \"emial\": \"x\"}"));
    json_t *rep = ho_msg_payload(s_out(t, "dlq.replayed"));
    assert_int_equal(json_array_size(json_object_get(rep, "replayed")), 0);
    const char *why = json_string_value(
        json_object_get(json_array_get(json_object_get(rep, "failed"), 0), "error"));
    assert_non_null(why);
    assert_non_null(strstr(why, "\"emial\" is not a field of a lead record (did you mean email?)"));
    for (size_t i = 0; i < ho_out_count(t->out); i++) {
        assert_string_not_equal(ho_msg_type(ho_out_at(t->out, i)), "lead.raw");
    }
    /* an activity field on a lead, a value that is not text */
    s_call(t, s_replay("r-2", 4 * H, "[1]", "{\"activity_type\": \"x\"}"));
    why = json_string_value(json_object_get(
        json_array_get(json_object_get(ho_msg_payload(s_out(t, "dlq.replayed")), "failed"), 0),
        "error"));
    assert_non_null(strstr(why, "\"activity_type\" is not a field of a lead record"));
    s_call(t, s_replay("r-3", 4 * H, "[1]", "{\"employees\": 50}"));
    why = json_string_value(json_object_get(
        json_array_get(json_object_get(ho_msg_payload(s_out(t, "dlq.replayed")), "failed"), 0),
        "error"));
    assert_non_null(strstr(why, "the new value of employees must be text or null"));

    /* the normalized outcome, the dead letter, the unreadable row: one failure each */
    s_call(t, s_replay("r-4", 4 * H, "[2, 3, 4]", "{\"email\": \"kim@acme.com\"}"));
    json_t *failed = json_object_get(ho_msg_payload(s_out(t, "dlq.replayed")), "failed");
    assert_int_equal(json_array_size(failed), 3);
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(failed, 0), "error")),
                           "holds a lead.outcome refused by store: only a raw record"));
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(failed, 1), "error")),
                           "holds a dead.letter refused by broker"));
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(failed, 2), "error")),
                           "has no fields to edit"));
    assert_int_equal(ho_out_count(t->out), 1); /* the dlq.replayed answer only */

    char *after = s_q(t, "SELECT group_concat(IFNULL(replayed_at, '-') || raw_json, '|') FROM "
                         "quarantine");
    assert_string_equal(before, after);
    free(before);
    free(after);

    /* one bad id does not stop the good one */
    s_call(t, s_replay("r-5", 5 * H, "[2, 1]", "{\"email\": \"jane@acme.com\"}"));
    rep = ho_msg_payload(s_out(t, "dlq.replayed"));
    assert_int_equal(json_array_size(json_object_get(rep, "failed")), 1);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(rep, "replayed"), 0)), 1);
    assert_string_equal(s_path(ho_msg_payload(s_out(t, "lead.raw")), "fields", "email"),
                        "jane@acme.com");
}

/* activity.raw and feedback.raw have fields of their own; an empty set is a plain replay */
static void test_set_on_activity_and_feedback(void **state)
{
    s_t *t = *state;
    s_call(t, s_msg("quarantine", "q-act", 1 * H,
                    json_pack("{ssssssssssss s{sssi} s{sss{sssi}s{ssss}}}", "stage", "ingest",
                              "code", "unknown_activity_type", "field", "activity_type", "reason",
                              "a.csv:2: no such type", "event_id", "act-1", "event_type",
                              "activity.raw", "source_ref", "file", "a.csv", "line", 2, "raw",
                              "source", "web", "source_ref", "file", "a.csv", "line", 2, "fields",
                              "email", "kim@acme.com", "activity_type", "pageview")));
    s_call(t, s_msg("quarantine", "q-fb", 1 * H,
                    json_pack("{ssssssssssss s{sssi} s{sss{sssi}s{ssss}}}", "stage", "feedback",
                              "code", "unknown_outcome", "field", "fields.outcome", "reason",
                              "f.csv:2: no such outcome", "event_id", "fb-1", "event_type",
                              "feedback.raw", "source_ref", "file", "f.csv", "line", 2, "raw",
                              "source", "feedback", "source_ref", "file", "f.csv", "line", 2,
                              "fields", "email", "kim@acme.com", "outcome", "acepted")));
    s_call(t, s_replay("r-1", 2 * H, "[1]", "{\"activity_type\": \"page_view\"}"));
    assert_string_equal(s_path(ho_msg_payload(s_out(t, "activity.raw")), "fields", "activity_type"),
                        "page_view");
    s_call(t, s_replay("r-2", 2 * H, "[2]", "{\"outcome\": \"x\"}"));
    assert_string_equal(s_path(ho_msg_payload(s_out(t, "feedback.raw")), "fields", "outcome"), "x");
    s_call(t, s_replay("r-3", 2 * H, "[2]", "{\"rep_idd\": \"x\"}"));
    assert_non_null(strstr(
        json_string_value(json_object_get(
            json_array_get(json_object_get(ho_msg_payload(s_out(t, "dlq.replayed")), "failed"), 0),
            "error")),
        "\"rep_idd\" is not a field of a feedback record (did you mean rep_id?)"));
    s_call(t, s_replay("r-4", 3 * H, "[2]", "{}"));
    assert_string_equal(s_path(ho_msg_payload(s_out(t, "feedback.raw")), "fields", "outcome"), "x");
    s_expect(t, "SELECT json_array_length(raw_json, '$.replay_edits') FROM quarantine WHERE id = 2",
             "1");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T(test_set_replays_the_edited_record),
        T(test_set_refused_per_row),
        T(test_set_on_activity_and_feedback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
