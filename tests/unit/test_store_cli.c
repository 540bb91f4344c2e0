/* test_store_cli.c - `handoff lead` and `handoff dlq list|show` run as real processes
 * ($HO_BIN) against a real database the store worker wrote (read-only access while it is
 * open), plus their usage errors and exit codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "handoff/worker.h"
#include "store_worker_fixture.h"

static void s_send(s_t *t, const char *type, const char *id, const char *json)
{
    json_error_t je;
    json_t *p = json_loads(json, 0, &je);
    assert_non_null(p);
    ho_msg_t *m = ho_msg_new(type);
    ho_msg_set_id(m, id);
    ho_msg_set_payload(m, p);
    ho_out_t *out = ho_out_new("test");
    assert_int_equal(ho_worker_call(&ho_worker_store, t->ctx, &m, 1, out), HO_WORKER_OK);
    ho_out_destroy(&out);
    ho_msg_destroy(&m);
}

static int s_setup(void **state)
{
    if (s_store_setup(state, "/tmp/ho-cli-XXXXXX") != 0) {
        return -1;
    }
    s_t *t = *state;
    s_send(
        t, "lead.normalized", "l1",
        "{\"source\":\"hubspot\",\"email\":\"jane@acme.com\",\"source_ref\":{\"file\":\"hs.csv\","
        "\"line\":2},\"observed_at\":1795000000000,\"fields\":{\"first_name\":\"Jane\","
        "\"last_name\":\"Doe\",\"title\":\"VP Marketing\",\"company\":\"Acme\",\"domain\":"
        "\"acme.com\",\"country\":\"US\",\"city\":\"New York\",\"original_source\":\"Paid "
        "Search\",\"campaign\":\"q4-search\",\"source_record_id\":\"hs-1\"}}");
    s_send(t, "lead.normalized", "l2",
           "{\"source\":\"salesforce\",\"email\":\"Jane@Acme.com\",\"source_ref\":{\"file\":"
           "\"sf.csv\",\"line\":5},\"observed_at\":1795100000000,\"fields\":{\"phone\":\"+1 555 "
           "0100\"}}");
    s_send(t, "activity.normalized", "a1",
           "{\"source\":\"web\",\"email\":\"jane@acme.com\",\"type\":\"page_view\",\"occurred_at\":"
           "1795200000000,\"url\":\"https://acme.example/pricing\",\"path\":\"/pricing\"}");
    s_send(t, "lead.scored", "s1",
           "{\"lead_id\":1,\"as_of\":1795300000000,\"model_version\":\"m7\",\"fit\":55,"
           "\"interest\":40,\"score\":95,\"grade\":\"A1\",\"quadrant\":\"mql_now\",\"mql\":true,"
           "\"explanation\":[{\"rule\":\"title_vp\",\"kind\":\"fit\",\"points\":25,\"detail\":"
           "\"title contains VP\"}]}");
    s_send(t, "lead.assigned", "as1",
           "{\"lead_id\":1,\"rep_id\":\"r1\",\"rep_name\":\"Rita Rep\",\"rule\":\"us-east\","
           "\"reason\":\"territory US-NY\",\"assigned_at\":1795300000000,\"sla_due\":"
           "1795307200000}");
    /* dated before jane's lead was created: it cannot be a fact about her, quarantined */
    s_send(t, "lead.outcome", "o1",
           "{\"email\":\"jane@acme.com\",\"rep_id\":\"r1\",\"outcome\":\"won\",\"occurred_at\":"
           "1794000000000}");
    return 0;
}

/* Run `handoff <args>`, capture stdout, return the exit code. */
static int s_run(const char *args, char *out, size_t cap)
{
    const char *bin = getenv("HO_BIN");
    assert_non_null(bin);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>/dev/null", bin, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void s_has(const char *text, const char *needle)
{
    if (!strstr(text, needle)) {
        fail_msg("missing \"%s\" in:\n%s", needle, text);
    }
}

static void test_lead_screen(void **state)
{
    s_t *t = *state;
    static char out[65536];
    char args[256];
    /* the store still has the database open: the reader opens it read-only */
    snprintf(args, sizeof args, "lead ' JANE@acme.com' --data-dir %s", t->dir);
    assert_int_equal(s_run(args, out, sizeof out), 0);
    s_has(out, "lead jane@acme.com id=1 stage=MQL (Marketing qualified) owner=r1");
    s_has(out, "Jane Doe, VP Marketing, Acme (acme.com) phone=+1 555 0100");
    s_has(out, "original=Paid Search");
    s_has(out, "score=95 fit=55 interest=40 grade=A1");
    s_has(out, "title contains VP");
    s_has(out, "hubspot");
    s_has(out, "salesforce");
    s_has(out, "page_view          /pricing");
    s_has(out, "ML -> MQL  by score");
    s_has(out, "[assigned] by route: assigned to Rita Rep r1 by rule us-east");
    s_has(out, "rep=r1 (Rita Rep)");

    snprintf(args, sizeof args, "lead jane@acme.com --json --data-dir %s", t->dir);
    assert_int_equal(s_run(args, out, sizeof out), 0);
    json_error_t je;
    json_t *v = json_loads(out, 0, &je);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(json_object_get(v, "lead"), "stage")),
                        "MQL");
    assert_int_equal(json_array_size(json_object_get(v, "sources")), 2);
    assert_int_equal(json_array_size(json_object_get(v, "history")), 2);
    json_decref(v);

    snprintf(args, sizeof args, "lead nobody@acme.com --data-dir %s", t->dir);
    assert_int_equal(s_run(args, out, sizeof out), 1);
    snprintf(args, sizeof args, "lead --data-dir %s", t->dir);
    assert_int_equal(s_run(args, out, sizeof out), 2);
    assert_int_equal(s_run("lead x@y.com --data-dir /nonexistent-dir", out, sizeof out), 1);
    assert_int_equal(s_run("lead --help", out, sizeof out), 0);
    s_has(out, "usage: handoff lead EMAIL");
}

static void test_dlq_list_show(void **state)
{
    s_t *t = *state;
    static char out[65536];
    char args[256];
    snprintf(args, sizeof args, "dlq list --data-dir %s", t->dir);
    assert_int_equal(s_run(args, out, sizeof out), 0);
    s_has(out, "id=1 ");
    s_has(out, "code=before_lead_created");
    s_has(out, "type=lead.outcome event=o1");
    s_has(out, "before lead 1 was created");
    snprintf(args, sizeof args, "dlq show 1 --data-dir %s", t->dir);
    assert_int_equal(s_run(args, out, sizeof out), 0);
    s_has(out, "\"outcome\": \"won\"");
    snprintf(args, sizeof args, "dlq list --json --data-dir %s", t->dir);
    assert_int_equal(s_run(args, out, sizeof out), 0);
    json_error_t je;
    json_t *v = json_loads(out, 0, &je);
    assert_int_equal(json_array_size(v), 1);
    json_decref(v);
    snprintf(args, sizeof args, "dlq show 42 --data-dir %s", t->dir);
    assert_int_equal(s_run(args, out, sizeof out), 1);
    snprintf(args, sizeof args, "dlq show abc --data-dir %s", t->dir);
    assert_int_equal(s_run(args, out, sizeof out), 2);
    assert_int_equal(s_run("dlq frobnicate", out, sizeof out), 2);
    assert_int_equal(s_run("dlq --help", out, sizeof out), 0);
    assert_int_equal(s_run("forget --help", out, sizeof out), 0);
    assert_int_equal(s_run("forget", out, sizeof out), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lead_screen, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_dlq_list_show, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
