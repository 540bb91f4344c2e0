/* test_route_worker.c - the `route` worker driven in-process through ho_worker_call with real
 * envelopes (encoded and decoded with the codec, as the runtime would hand them over):
 * route.request -> lead.assigned, idempotent redelivery, sla.breach remind -> rep.reminder,
 * sla.breach reassign -> another rep, bad input quarantined, state across a restart. */
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
#include "handoff/worker.h"

extern const ho_worker_def_t ho_worker_route;

#define HOUR 3600000LL
#define T0 1795165200000LL /* 2026-11-20T09:00:00Z */

static const char s_reps[] =
    "rep_id,name,email,region,countries,us_states,segments,employee_min,employee_max,"
    "weekly_capacity,timezone,out_of_office,ooo_start,ooo_end,backup_rep_id,weight,active\n"
    "R1,Ann Abbot,ann@x.test,US,US,,All,,,2,America/New_York,FALSE,,,,1,TRUE\n"
    "R2,Ben Bright,ben@x.test,US,US,,All,,,2,America/New_York,FALSE,,,,1,TRUE\n";

static const char s_rules[] = "reps: team.csv\n"
                              "rules:\n"
                              "  - name: us\n"
                              "    when: {country: [US]}\n"
                              "    team: territory\n"
                              "sla:\n"
                              "  deadline: 24h\n"
                              "  reassign_after: 2h\n"
                              "  rules:\n"
                              "    - when: {grade: [A]}\n"
                              "      deadline: 2h\n";

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

static void s_start(s_w_t *w)
{
    const char *yaml = "workers:\n  route:\n    rules: my-routing.yaml\n";
    ho_err_t err = {0};
    w->conf = ho_conf_parse(yaml, strlen(yaml), "handoff.yaml", &err);
    ho_worker_env_t env = {
        .name = "route",
        .data_dir = w->dir,
        .config_dir = w->dir,
        .conf = w->conf,
        .settings = ho_node_get(ho_node_get(ho_conf_root(w->conf), "workers"), "route"),
        .origin = "route@test",
    };
    if (ho_worker_route.cb_init(&env, &w->ctx, &err) != HO_OK) {
        fail_msg("init: %s", err.message);
    }
}

static void s_stop(s_w_t *w)
{
    ho_worker_route.cb_exit(&w->ctx);
    ho_conf_destroy(&w->conf);
}

static void s_setup(s_w_t *w)
{
    snprintf(w->dir, sizeof w->dir, "/tmp/ho-route-XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    s_write(w->dir, "team.csv", s_reps);
    s_write(w->dir, "my-routing.yaml", s_rules);
    s_start(w);
}

static void s_teardown(s_w_t *w)
{
    s_stop(w);
    const char *files[] = {"team.csv", "my-routing.yaml", "router.db", "router.db-wal",
                           "router.db-shm"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", w->dir, files[i]);
        unlink(path);
    }
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

static json_t *s_lead(long long id, const char *grade)
{
    return json_pack("{s:I,s:s,s:s,s:n,s:{s:s,s:s,s:s,s:i},s:{s:i,s:i,s:s,s:s}}", "lead_id",
                     (json_int_t)id, "email", "pat@acme.test", "stage", "MQL", "owner", "fields",
                     "email", "pat@acme.test", "country", "US", "state", "NY", "employees", 300,
                     "score", "fit", 60, "interest", 50, "grade", grade, "quadrant", "mql_now");
}

static json_t *s_route_request(long long id, const char *grade, int64_t as_of)
{
    return json_pack("{s:o,s:I,s:n,s:[],s:s}", "lead", s_lead(id, grade), "as_of",
                     (json_int_t)as_of, "account_owner", "exclude", "reason", "mql");
}

/* Handle one message; returns the output (caller destroys). */
static ho_out_t *s_handle(s_w_t *w, ho_msg_t *in)
{
    ho_out_t *out = ho_out_new("route@test");
    assert_int_equal(ho_worker_call(&ho_worker_route, w->ctx, &in, 1, out), HO_WORKER_OK);
    ho_msg_destroy(&in);
    return out;
}

static const char *s_str(const ho_msg_t *m, const char *key)
{
    const char *v = json_string_value(json_object_get(ho_msg_payload(m), key));
    return v ? v : "(null)";
}

static long long s_int(const ho_msg_t *m, const char *key)
{
    return (long long)json_integer_value(json_object_get(ho_msg_payload(m), key));
}

static void test_route_request_assigns_and_redelivery_is_idempotent(void **state)
{
    (void)state;
    s_w_t w;
    s_setup(&w);
    ho_out_t *out = s_handle(&w, s_wire("route.request", "rr-1", s_route_request(1, "A2", T0)));
    assert_int_equal(ho_out_count(out), 1);
    ho_msg_t *a = ho_out_at(out, 0);
    assert_string_equal(ho_msg_type(a), "lead.assigned");
    assert_string_equal(s_str(a, "rep_id"), "R1");
    assert_string_equal(s_str(a, "rep_name"), "Ann Abbot");
    assert_string_equal(s_str(a, "rule"), "us");
    assert_int_equal(s_int(a, "assigned_at"), T0);
    assert_int_equal(s_int(a, "sla_due"), T0 + 2 * HOUR);
    assert_int_equal(s_int(a, "reassign_due"), T0 + 4 * HOUR);
    assert_true(json_is_null(json_object_get(ho_msg_payload(a), "reassigned_from")));
    char first_id[HO_MSG_MAX_ID];
    snprintf(first_id, sizeof first_id, "%s", ho_msg_id(a));
    ho_out_destroy(&out);

    /* the broker redelivers the same request twice: same assignment, same id */
    for (int i = 0; i < 2; i++) {
        out = s_handle(&w, s_wire("route.request", "rr-1", s_route_request(1, "A2", T0)));
        assert_string_equal(s_str(ho_out_at(out, 0), "rep_id"), "R1");
        assert_string_equal(ho_msg_id(ho_out_at(out, 0)), first_id);
        ho_out_destroy(&out);
    }
    /* capacity was counted once: R1 (weekly 2) still has room for one more */
    out = s_handle(&w, s_wire("route.request", "rr-2", s_route_request(2, "B2", T0)));
    assert_string_equal(s_str(ho_out_at(out, 0), "rep_id"), "R2");
    ho_out_destroy(&out);
    out = s_handle(&w, s_wire("route.request", "rr-3", s_route_request(3, "B2", T0)));
    assert_string_equal(s_str(ho_out_at(out, 0), "rep_id"), "R1");
    assert_non_null(strstr(s_str(ho_out_at(out, 0), "reason"), "2/2 this week"));
    ho_out_destroy(&out);
    s_teardown(&w);
}

static json_t *s_breach(long long id, const char *rep, const char *step, int64_t now)
{
    json_t *b = s_route_request(id, "A1", T0);
    json_object_set_new(b, "lead_id", json_integer(id));
    json_object_set_new(b, "email", json_string("pat@acme.test"));
    json_object_set_new(b, "rep_id", json_string(rep));
    json_object_set_new(b, "assigned_at", json_integer(T0));
    json_object_set_new(b, "sla_due", json_integer(T0 + 2 * HOUR));
    json_object_set_new(b, "now", json_integer(now));
    json_object_set_new(b, "step", json_string(step));
    return b;
}

static void test_sla_breach_remind_then_reassign(void **state)
{
    (void)state;
    s_w_t w;
    s_setup(&w);
    ho_out_t *out = s_handle(&w, s_wire("route.request", "rr-9", s_route_request(9, "A1", T0)));
    assert_string_equal(s_str(ho_out_at(out, 0), "rep_id"), "R1");
    ho_out_destroy(&out);

    /* the clock passes sla_due: remind */
    out = s_handle(
        &w, s_wire("sla.breach", "br-9-remind", s_breach(9, "R1", "remind", T0 + 2 * HOUR + 1)));
    assert_int_equal(ho_out_count(out), 1);
    ho_msg_t *r = ho_out_at(out, 0);
    assert_string_equal(ho_msg_type(r), "rep.reminder");
    assert_string_equal(s_str(r, "rep_id"), "R1");
    assert_string_equal(s_str(r, "rep_email"), "ann@x.test");
    assert_int_equal(s_int(r, "lead_id"), 9);
    assert_int_equal(s_int(r, "sla_due"), T0 + 2 * HOUR);
    assert_int_equal(s_int(r, "reassign_due"), T0 + 4 * HOUR);
    assert_non_null(strstr(s_str(r, "message"), "pat@acme.test"));
    ho_out_destroy(&out);

    /* the clock passes reassign_due: someone else */
    out = s_handle(&w, s_wire("sla.breach", "br-9-reassign",
                              s_breach(9, "R1", "reassign", T0 + 4 * HOUR + 1)));
    assert_int_equal(ho_out_count(out), 1);
    ho_msg_t *a = ho_out_at(out, 0);
    assert_string_equal(ho_msg_type(a), "lead.assigned");
    assert_string_equal(s_str(a, "rep_id"), "R2");
    assert_string_equal(s_str(a, "reassigned_from"), "R1");
    assert_int_equal(s_int(a, "assigned_at"), T0 + 4 * HOUR + 1);
    assert_int_equal(s_int(a, "sla_due"), T0 + 6 * HOUR + 1);
    ho_out_destroy(&out);

    /* redelivered breach: the same answer, R2 not counted twice */
    out = s_handle(&w, s_wire("sla.breach", "br-9-reassign",
                              s_breach(9, "R1", "reassign", T0 + 4 * HOUR + 1)));
    assert_string_equal(s_str(ho_out_at(out, 0), "rep_id"), "R2");
    ho_out_destroy(&out);
    s_teardown(&w);
}

static void test_bad_input_is_quarantined(void **state)
{
    (void)state;
    s_w_t w;
    s_setup(&w);
    ho_out_t *out = s_handle(&w, s_wire("route.request", "rr-bad",
                                        json_pack("{s:{s:s},s:I}", "lead", "email", "x@y.test",
                                                  "as_of", (json_int_t)T0)));
    assert_int_equal(ho_out_count(out), 1);
    ho_msg_t *q = ho_out_at(out, 0);
    assert_string_equal(ho_msg_type(q), "quarantine");
    assert_string_equal(s_str(q, "field"), "lead.lead_id");
    assert_string_equal(s_str(q, "stage"), "route");
    assert_string_equal(s_str(q, "event_id"), "rr-bad");
    ho_out_destroy(&out);
    out = s_handle(&w, s_wire("sla.breach", "br-bad", s_breach(1, "R1", "escalate", T0)));
    assert_string_equal(s_str(ho_out_at(out, 0), "field"), "step");
    ho_out_destroy(&out);
    out = s_handle(&w, s_wire("lead.scored", "ls-1", json_object()));
    assert_string_equal(s_str(ho_out_at(out, 0), "code"), "unknown_type");
    ho_out_destroy(&out);
    s_teardown(&w);
}

static void test_rotation_survives_worker_restart(void **state)
{
    (void)state;
    s_w_t w;
    s_setup(&w);
    ho_out_t *out = s_handle(&w, s_wire("route.request", "rr-a", s_route_request(1, "B1", T0)));
    assert_string_equal(s_str(ho_out_at(out, 0), "rep_id"), "R1");
    ho_out_destroy(&out);
    s_stop(&w);
    s_start(&w);
    /* a fresh process would start with R1 again; the persisted rotation says R2 */
    out = s_handle(&w, s_wire("route.request", "rr-b", s_route_request(2, "B1", T0)));
    assert_string_equal(s_str(ho_out_at(out, 0), "rep_id"), "R2");
    ho_out_destroy(&out);
    /* and the decision made before the restart is still remembered */
    out = s_handle(&w, s_wire("route.request", "rr-a", s_route_request(1, "B1", T0)));
    assert_string_equal(s_str(ho_out_at(out, 0), "rep_id"), "R1");
    ho_out_destroy(&out);
    s_teardown(&w);
}

/* A request of several envelopes is decided in one router.db transaction: decisions inside
 * it see each other (rotation, a repeated event id replays), a bad envelope is quarantined
 * without undoing the others, and everything is durable once the handler returns. */
static void test_batch_decided_in_one_transaction(void **state)
{
    (void)state;
    s_w_t w;
    s_setup(&w);
    ho_msg_t *in[4] = {
        s_wire("route.request", "rb-1", s_route_request(1, "B1", T0)),
        s_wire("route.request", "rb-bad", json_pack("{s:I}", "as_of", (json_int_t)T0)),
        s_wire("route.request", "rb-2", s_route_request(2, "B1", T0)),
        s_wire("route.request", "rb-1", s_route_request(1, "B1", T0)),
    };
    ho_out_t *out = ho_out_new("route@test");
    assert_int_equal(ho_worker_call(&ho_worker_route, w.ctx, in, 4, out), HO_WORKER_OK);
    assert_int_equal(ho_out_count(out), 4);
    assert_string_equal(s_str(ho_out_at(out, 0), "rep_id"), "R1");
    assert_string_equal(ho_msg_type(ho_out_at(out, 1)), "quarantine");
    assert_string_equal(s_str(ho_out_at(out, 2), "rep_id"), "R2");
    assert_string_equal(s_str(ho_out_at(out, 3), "rep_id"), "R1");
    assert_string_equal(ho_msg_id(ho_out_at(out, 3)), ho_msg_id(ho_out_at(out, 0)));
    ho_out_destroy(&out);
    for (int i = 0; i < 4; i++) {
        ho_msg_destroy(&in[i]);
    }
    /* committed: a restarted worker replays both decisions and counted each once */
    s_stop(&w);
    s_start(&w);
    out = s_handle(&w, s_wire("route.request", "rb-2", s_route_request(2, "B1", T0)));
    assert_string_equal(s_str(ho_out_at(out, 0), "rep_id"), "R2");
    ho_out_destroy(&out);
    out = s_handle(&w, s_wire("route.request", "rb-3", s_route_request(3, "B1", T0)));
    assert_string_equal(s_str(ho_out_at(out, 0), "rep_id"), "R1");
    assert_non_null(strstr(s_str(ho_out_at(out, 0), "reason"), "2/2 this week"));
    ho_out_destroy(&out);
    s_teardown(&w);
}

static void test_config_error_fails_init_with_file_and_line(void **state)
{
    (void)state;
    s_w_t w;
    snprintf(w.dir, sizeof w.dir, "/tmp/ho-route-XXXXXX");
    assert_non_null(mkdtemp(w.dir));
    s_write(w.dir, "team.csv", s_reps);
    s_write(w.dir, "my-routing.yaml", "reps: team.csv\nrules:\n  - name: x\n    team: [R1, RX]\n");
    const char *yaml = "workers:\n  route:\n    rules: my-routing.yaml\n";
    ho_err_t err = {0};
    w.conf = ho_conf_parse(yaml, strlen(yaml), "handoff.yaml", &err);
    ho_worker_env_t env = {.name = "route",
                           .data_dir = w.dir,
                           .config_dir = w.dir,
                           .conf = w.conf,
                           .settings =
                               ho_node_get(ho_node_get(ho_conf_root(w.conf), "workers"), "route")};
    w.ctx = NULL;
    assert_int_not_equal(ho_worker_route.cb_init(&env, &w.ctx, &err), HO_OK);
    assert_null(w.ctx);
    assert_non_null(strstr(err.message, "my-routing.yaml:4: rules[0].team[1]: unknown rep"));
    ho_conf_destroy(&w.conf);

    /* a retention that is not a duration */
    s_write(w.dir, "my-routing.yaml", "reps: team.csv\nrules:\n  - name: x\n    team: [R1]\n");
    yaml = "workers:\n  route:\n    rules: my-routing.yaml\n    retention: a while\n";
    w.conf = ho_conf_parse(yaml, strlen(yaml), "handoff.yaml", &err);
    env.conf = w.conf;
    env.settings = ho_node_get(ho_node_get(ho_conf_root(w.conf), "workers"), "route");
    assert_int_not_equal(ho_worker_route.cb_init(&env, &w.ctx, &err), HO_OK);
    assert_null(w.ctx);
    assert_non_null(strstr(err.message, "workers.route.retention: expected a duration"));
    s_teardown(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_request_assigns_and_redelivery_is_idempotent),
        cmocka_unit_test(test_sla_breach_remind_then_reassign),
        cmocka_unit_test(test_bad_input_is_quarantined),
        cmocka_unit_test(test_rotation_survives_worker_restart),
        cmocka_unit_test(test_batch_decided_in_one_transaction),
        cmocka_unit_test(test_config_error_fails_init_with_file_and_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
