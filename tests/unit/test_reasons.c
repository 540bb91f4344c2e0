/* test_reasons.c - the reason taxonomy: the shipped deploy/reasons.yaml has every code the
 * sales feedback uses with its owner, outcomes and disposition; a config folder's copy wins
 * over the built-in one; every mistake in the file is reported with file:line and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "handoff/reasons.h"

static void test_shipped_taxonomy(void **state)
{
    (void)state;
    ho_err_t err = {0};
    ho_reasons_t *r = ho_reasons_load(NULL, "reasons.yaml", &err);
    if (!r) {
        fail_msg("%s", err.message);
    }
    static const struct {
        const char *code, *owner, *disposition;
        unsigned outcomes;
    } want[] = {
        {"bad_contact_data", "marketing", "disqualify", HO_OUTCOME_REJECTED},
        {"personal_email", "marketing", "recycle", HO_OUTCOME_REJECTED},
        {"student_or_intern", "marketing", "disqualify", HO_OUTCOME_REJECTED},
        {"nonprofit_no_budget", "marketing", "disqualify", HO_OUTCOME_REJECTED | HO_OUTCOME_LOST},
        {"not_a_fit", "marketing", "disqualify", HO_OUTCOME_REJECTED | HO_OUTCOME_LOST},
        {"timing", "sales", "recycle", HO_OUTCOME_REJECTED | HO_OUTCOME_LOST},
        {"competitor", "sales", "recycle", HO_OUTCOME_REJECTED | HO_OUTCOME_LOST},
        {"no_decision_maker", "sales", "recycle", HO_OUTCOME_REJECTED | HO_OUTCOME_LOST},
        {"unresponsive", "sales", "recycle", HO_OUTCOME_REJECTED | HO_OUTCOME_LOST},
        {"budget", "sales", "recycle", HO_OUTCOME_REJECTED | HO_OUTCOME_LOST},
        {"unspecified", "sales", "recycle", HO_OUTCOME_REJECTED | HO_OUTCOME_LOST},
    };
    assert_int_equal(ho_reasons_count(r), sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const ho_reason_t *x = ho_reasons_find(r, want[i].code);
        if (!x) {
            fail_msg("reason %s missing", want[i].code);
        }
        assert_string_equal(x->owner, want[i].owner);
        assert_string_equal(x->disposition, want[i].disposition);
        assert_int_equal(x->outcomes, want[i].outcomes);
        assert_true(strlen(x->label) > 0);
    }
    assert_null(ho_reasons_find(r, "weather"));
    /* a blank reason on lost/rejected is counted as unspecified (issue 12: reasons never
     * cost an outcome) */
    assert_string_equal(ho_reasons_blank(r), "unspecified");
    ho_reasons_destroy(&r);
    ho_reasons_destroy(&r);
}

static void test_outcomes(void **state)
{
    (void)state;
    const char *names[] = {"accepted", "rejected", "sql", "opportunity", "won", "lost"};
    for (size_t i = 0; i < 6; i++) {
        unsigned o = ho_outcome_parse(names[i]);
        assert_int_equal(o, 1u << i);
        assert_string_equal(ho_outcome_name(o), names[i]);
        assert_int_equal(ho_outcome_needs_reason(o), i == 1 || i == 5);
    }
    assert_int_equal(ho_outcome_parse("on_hold"), 0);
    assert_int_equal(ho_outcome_parse(NULL), 0);
}

static void test_config_dir_wins(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_reasons_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/reasons.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("reasons:\n  unspecified: {label: Nobody said, owner: sales, outcomes: [lost]}\n"
          "  security_review: {label: Failed security review, owner: sales,\n"
          "                    outcomes: [rejected, lost], disposition: disqualify}\n",
          f);
    fclose(f);
    ho_err_t err = {0};
    ho_reasons_t *r = ho_reasons_load(dir, "reasons.yaml", &err);
    if (!r) {
        fail_msg("%s", err.message);
    }
    assert_int_equal(ho_reasons_count(r), 2);
    assert_string_equal(ho_reasons_find(r, "security_review")->label, "Failed security review");
    assert_null(ho_reasons_find(r, "budget"));
    ho_reasons_destroy(&r);
    unlink(path);
    rmdir(dir);
}

static void s_bad(const char *yaml, const char *where, const char *needle)
{
    ho_err_t err = {0};
    ho_reasons_t *r = ho_reasons_parse(yaml, strlen(yaml), "r.yaml", &err);
    if (r) {
        ho_reasons_destroy(&r);
        fail_msg("accepted bad taxonomy:\n%s", yaml);
    }
    if (!strstr(err.message, where) || !strstr(err.message, needle)) {
        fail_msg("error \"%s\" lacks \"%s\" / \"%s\"", err.message, where, needle);
    }
    assert_int_equal(err.code, HO_ERR_CONFIG);
}

static void test_errors_name_file_line_key(void **state)
{
    (void)state;
    s_bad("reasons:\n  timing:\n    label: x\n    owner: ops\n    outcomes: [lost]\n", "r.yaml:4",
          "owner");
    s_bad("reasons:\n  timing:\n    label: x\n    owner: sales\n    outcomes: [won]\n", "r.yaml:5",
          "only rejected and lost");
    s_bad("reasons:\n  timing:\n    label: x\n    owner: sales\n    outcomes: [rejected]\n",
          "r.yaml:3", "disposition");
    s_bad("reasons:\n  timing:\n    label: x\n    owner: sales\n    outcomes: [rejected]\n"
          "    disposition: burn\n",
          "r.yaml:6", "recycle or disqualify");
    s_bad("reasons:\n  timing:\n    owner: sales\n    outcomes: [lost]\n", "r.yaml:3", "label");
    s_bad("reasons:\n  timing:\n    label: x\n    owner: sales\n    outcomes: [lost]\n"
          "    colour: red\n",
          "r.yaml:6", "colour");
    s_bad("reasons:\n  Timing!:\n    label: x\n    owner: sales\n    outcomes: [lost]\n",
          "r.yaml:3", "Timing!");
    s_bad("blank_reason: nothing\nreasons:\n  timing: {label: x, owner: sales, outcomes: [lost]}\n",
          "r.yaml:1", "blank_reason");
    s_bad("reasons: []\n", "r.yaml:1", "reasons");
    s_bad("reason:\n  timing: {label: x, owner: sales, outcomes: [lost]}\n", "r.yaml:2", "reason");
    s_bad("reasons:\n  timing: {label: x, owner: sales, outcomes: lost}\n", "r.yaml:2", "outcomes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_taxonomy),
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_config_dir_wins),
        cmocka_unit_test(test_errors_name_file_line_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
