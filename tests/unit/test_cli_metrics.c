/* test_cli_metrics.c - the did-you-mean distance and choice (cli_util.c) and the metrics
 * module's exposition text and readiness from a broker status object (metrics.c): label
 * escaping, one sample per service and worker, handoff_up 0 without a status, readiness
 * naming the services without workers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/cli.h"
#include "handoff/metrics.h"

static void test_distance_and_nearest(void **state)
{
    (void)state;
    assert_int_equal(ho_cli_distance("import", "import"), 0);
    assert_int_equal(ho_cli_distance("imprt", "import"), 1);
    assert_int_equal(ho_cli_distance("improt", "import"), 1); /* a swap of neighbours */
    assert_int_equal(ho_cli_distance("", "abc"), 3);
    static const char *cmds[] = {"run", "import", "status", NULL, "report"};
    assert_string_equal(ho_cli_nearest("imprt", cmds, 5), "import");
    assert_string_equal(ho_cli_nearest("stauts", cmds, 5), "status");
    assert_string_equal(ho_cli_nearest("repo", cmds, 5), "report"); /* a prefix */
    assert_null(ho_cli_nearest("xyz", cmds, 5));
    assert_null(ho_cli_nearest("run", cmds, 5)); /* exact: nothing to suggest */
    assert_null(ho_cli_nearest("", cmds, 5));
    assert_null(ho_cli_nearest(NULL, cmds, 5));
}

static const char *s_status =
    "{\"uptime_ms\": 1500, \"counters\": {\"requests\": 7, \"dead_letters\": 2},"
    " \"services\": [{\"name\": \"score\", \"workers\": 2, \"queued\": 5, \"in_flight\": 1},"
    "               {\"name\": \"we\\\"ird\", \"workers\": 0, \"queued\": 0}],"
    " \"workers\": [{\"id\": \"w1\", \"service\": \"score\", \"handled\": 9,"
    " \"last_seen_ms\": 250}]}";

static void test_render(void **state)
{
    (void)state;
    json_t *st = json_loads(s_status, 0, NULL);
    assert_non_null(st);
    ho_err_t err = {0};
    char *text = ho_metrics_render(st, NULL, &err);
    assert_non_null(text);
    const char *want[] = {
        "# TYPE handoff_up gauge\nhandoff_up 1\n",
        "handoff_broker_uptime_seconds 1.500\n",
        "handoff_broker_requests_total 7\n",
        "handoff_broker_dead_letters_total 2\n",
        "handoff_service_queue_depth{service=\"score\"} 5\n",
        "handoff_service_workers{service=\"we\\\"ird\"} 0\n",
        "handoff_worker_handled_total{service=\"score\",worker=\"w1\"} 9\n",
        "handoff_worker_heartbeat_age_seconds{service=\"score\",worker=\"w1\"} 0.250\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!strstr(text, want[i])) {
            fail_msg("missing %s in:\n%s", want[i], text);
        }
    }
    free(text);
    text = ho_metrics_render(NULL, NULL, &err);
    assert_non_null(text);
    assert_non_null(strstr(text, "handoff_up 0\n"));
    assert_null(strstr(text, "handoff_service_"));
    free(text);
    json_decref(st);
}

static void test_ready(void **state)
{
    (void)state;
    json_t *st = json_loads(s_status, 0, NULL);
    char why[128];
    assert_false(ho_metrics_ready(NULL, NULL, 0, why, sizeof why));
    assert_string_equal(why, "broker unreachable");
    assert_false(ho_metrics_ready(st, NULL, 0, why, sizeof why));
    assert_string_equal(why, "no worker for: we\"ird");
    const char *score[] = {"score"};
    assert_true(ho_metrics_ready(st, score, 1, why, sizeof why));
    assert_string_equal(why, "ready");
    const char *more[] = {"score", "store", "route"};
    assert_false(ho_metrics_ready(st, more, 3, why, sizeof why));
    assert_string_equal(why, "no worker for: store route");
    json_decref(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distance_and_nearest),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_ready),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
