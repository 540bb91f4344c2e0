/* test_score_history.c - scores are a history of changes: the store worker writes a scores
 * row for a lead.scored that changes the lead's score, and none for a re-score that leaves
 * model, fit, interest, grade and quadrant as they are (the lead still moves to the newer
 * as_of). Real store worker, real SQLite file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store_worker_fixture.h"

#define T0 1795165200000LL

static int s_setup(void **state)
{
    return s_store_setup(state, "/tmp/ho-sh-XXXXXX");
}

static void s_apply(s_t *t, ho_msg_t *m)
{
    assert_int_equal(ho_worker_call(&ho_worker_store, t->ctx, &m, 1, t->out), HO_WORKER_OK);
    ho_msg_destroy(&m);
    ho_out_clear(t->out);
}

static ho_msg_t *s_scored(const char *id, long long lead_id, long long as_of, int fit, int interest,
                          const char *grade)
{
    return s_msg("lead.scored", id, as_of,
                 json_pack("{sIsIsssisisisssssbs[{sssi}{sssisisisI}]}", "lead_id",
                           (json_int_t)lead_id, "as_of", (json_int_t)as_of, "model_version", "m1",
                           "fit", fit, "interest", interest, "score", fit + interest, "grade",
                           grade, "quadrant", "nurture", "mql", 0, "explanation", "rule",
                           "title_vp", "points", fit, "rule", "pricing_page", "points", interest,
                           "n", 1, "raw", interest, "last", (json_int_t)as_of));
}

static void test_no_change_writes_no_row(void **state)
{
    s_t *t = *state;
    s_apply(t,
            s_msg("lead.normalized", "l-1", T0,
                  json_pack("{sssss{ssss}s{ss}sI}", "source", "hubspot", "email",
                            "ada@acme.example", "source_ref", "file", "x.csv", "line", "2",
                            "fields", "email", "ada@acme.example", "observed_at", (json_int_t)T0)));
    char *id = s_q(t, "SELECT id FROM leads");
    long long lead = atoll(id);
    free(id);
    s_apply(t, s_scored("s-1", lead, T0 + 1000, 30, 10, "B3"));
    s_expect(t, "SELECT count(*) FROM scores", "1");
    /* the same score again, later: no row, but the lead holds the newer as_of */
    s_apply(t, s_scored("s-2", lead, T0 + 2000, 30, 10, "B3"));
    s_expect(t, "SELECT count(*) FROM scores", "1");
    s_expect(t, "SELECT scored_at FROM leads", "1795165202000");
    /* a change: a row, with its compact explanation kept as sent */
    s_apply(t, s_scored("s-3", lead, T0 + 3000, 30, 12, "B3"));
    s_expect(t, "SELECT count(*) FROM scores", "2");
    s_expect(t, "SELECT interest FROM scores ORDER BY id DESC LIMIT 1", "12");
    s_expect(t,
             "SELECT json_extract(explanation_json, '$[1].n') FROM scores ORDER BY id DESC "
             "LIMIT 1",
             "1");
    /* the grade alone changing is a change too (a model with other bands) */
    s_apply(t, s_scored("s-4", lead, T0 + 4000, 30, 12, "B2"));
    s_expect(t, "SELECT count(*) FROM scores", "3");
    /* back to an earlier score: a change against what the lead holds */
    s_apply(t, s_scored("s-5", lead, T0 + 5000, 30, 10, "B3"));
    s_expect(t, "SELECT count(*) FROM scores", "4");
    s_expect(t, "SELECT group_concat(interest) FROM (SELECT interest FROM scores ORDER BY id)",
             "10,12,12,10");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_change_writes_no_row, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
