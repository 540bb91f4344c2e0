/* test_outcome_derive.c - the lead's sales stages derived from its outcome history
 * (lifecycle.h ho_lifecycle_derive): every arrival order of the same rows gives the same
 * stages, flags and implied stages; jumps imply the stages skipped; an outcome below the
 * stage sales reached is flagged out_of_order and moves nothing; an outcome before
 * marketing's first MQL is flagged sales_accepted_without_mql. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "handoff/lifecycle.h"

#define H 3600000LL

typedef struct {
    const char *before, *after;
    unsigned flags;
    int n_implied;
    const char *implied[3];
} s_res_t;

/* Derive rows given in order[] and return the results indexed by the row's position in base. */
static const char *s_run(const ho_outcome_step_t *base, size_t n, const size_t *order,
                         const ho_stage_move_t *moves, size_t n_moves, int64_t mql, s_res_t *res)
{
    ho_outcome_step_t steps[8];
    for (size_t i = 0; i < n; i++) {
        steps[i] = base[order[i]];
        steps[i].ref = order[i];
    }
    const char *final = ho_lifecycle_derive(steps, n, moves, n_moves, mql);
    for (size_t i = 0; i < n; i++) {
        s_res_t *r = &res[steps[i].ref];
        r->before = steps[i].stage_before;
        r->after = steps[i].stage_after;
        r->flags = steps[i].flags;
        r->n_implied = steps[i].n_implied;
        for (int k = 0; k < 3; k++) {
            r->implied[k] = k < steps[i].n_implied ? steps[i].implied[k] : NULL;
        }
    }
    return final;
}

static bool s_next_perm(size_t *a, size_t n)
{
    size_t i = n - 1;
    while (i > 0 && a[i - 1] >= a[i]) {
        i--;
    }
    if (i == 0) {
        return false;
    }
    size_t j = n - 1;
    while (a[j] <= a[i - 1]) {
        j--;
    }
    size_t tmp = a[i - 1];
    a[i - 1] = a[j];
    a[j] = tmp;
    for (size_t l = i, r = n - 1; l < r; l++, r--) {
        tmp = a[l];
        a[l] = a[r];
        a[r] = tmp;
    }
    return true;
}

static void test_every_order_same_result(void **state)
{
    (void)state;
    /* a rejection and a second chance, a same-instant won/lost pair, and two rows at one
     * instant told apart by their feedback ids */
    const ho_outcome_step_t base[] = {
        {.outcome = "accepted", .occurred_at = 3 * H, .tiebreak = "F1"},
        {.outcome = "rejected", .disposition = "recycle", .occurred_at = 4 * H, .tiebreak = "F2"},
        {.outcome = "accepted", .occurred_at = 11 * H, .tiebreak = "F3"},
        {.outcome = "sql", .occurred_at = 12 * H, .tiebreak = "F4"},
        {.outcome = "won", .occurred_at = 13 * H, .tiebreak = "F5"},
        {.outcome = "accepted", .occurred_at = 13 * H, .tiebreak = "F6"},
    };
    const ho_stage_move_t moves[] = {
        {.from = "ML", .to = "MQL", .at = 2 * H},
        {.from = "RECYCLED", .to = "MQL", .at = 10 * H},
    };
    size_t n = sizeof base / sizeof base[0];
    size_t order[] = {0, 1, 2, 3, 4, 5};
    s_res_t first[6], got[6];
    const char *want = s_run(base, n, order, moves, 2, 2 * H, first);
    assert_string_equal(want, "WON");
    /* the history as sales told it */
    assert_string_equal(first[0].before, "MQL");
    assert_string_equal(first[0].after, "SAL");
    assert_string_equal(first[1].after, "RECYCLED");
    assert_string_equal(first[2].before, "MQL"); /* marketing re-qualified it at 10 h */
    assert_string_equal(first[3].after, "SQL");
    assert_string_equal(first[4].before, "SQL");
    assert_int_equal(first[4].n_implied, 1);
    assert_string_equal(first[4].implied[0], "opportunity");
    assert_string_equal(first[4].after, "WON");
    /* accepted at the same instant as won sorts before it: below sql, out of order */
    assert_int_equal(first[5].flags, HO_OFLAG_OUT_OF_ORDER);
    assert_string_equal(first[5].before, "SQL");
    int perms = 0;
    do {
        const char *final = s_run(base, n, order, moves, 2, 2 * H, got);
        assert_string_equal(final, want);
        for (size_t i = 0; i < n; i++) {
            assert_string_equal(got[i].before, first[i].before);
            assert_string_equal(got[i].after, first[i].after);
            assert_int_equal(got[i].flags, first[i].flags);
            assert_int_equal(got[i].n_implied, first[i].n_implied);
            for (int k = 0; k < got[i].n_implied; k++) {
                assert_string_equal(got[i].implied[k], first[i].implied[k]);
            }
        }
        perms++;
    } while (s_next_perm(order, n));
    assert_int_equal(perms, 720);
}

static void test_jumps_imply_stages(void **state)
{
    (void)state;
    s_res_t r[1];
    size_t order[] = {0};
    /* won straight from ML: SAL, SQL and OPPORTUNITY implied; never an MQL: flagged */
    const ho_outcome_step_t won[] = {{.outcome = "won", .occurred_at = 5 * H, .tiebreak = "W"}};
    assert_string_equal(s_run(won, 1, order, NULL, 0, INT64_MIN, r), "WON");
    assert_int_equal(r[0].n_implied, 3);
    assert_string_equal(r[0].implied[0], "accepted");
    assert_string_equal(r[0].implied[1], "sql");
    assert_string_equal(r[0].implied[2], "opportunity");
    assert_int_equal(r[0].flags, HO_OFLAG_WITHOUT_MQL);
    assert_string_equal(r[0].before, "ML");
    /* lost from ML implies SAL only; an MQL made after the outcome still flags it */
    const ho_outcome_step_t lost[] = {{.outcome = "lost", .occurred_at = 5 * H, .tiebreak = "L"}};
    assert_string_equal(s_run(lost, 1, order, NULL, 0, 6 * H, r), "LOST");
    assert_int_equal(r[0].n_implied, 1);
    assert_string_equal(r[0].implied[0], "accepted");
    assert_int_equal(r[0].flags, HO_OFLAG_WITHOUT_MQL);
    /* accepted on an MQL: no flag, nothing implied */
    const ho_stage_move_t q[] = {{.from = "ML", .to = "MQL", .at = 1 * H}};
    const ho_outcome_step_t acc[] = {{.outcome = "accepted", .occurred_at = 2 * H}};
    assert_string_equal(s_run(acc, 1, order, q, 1, 1 * H, r), "SAL");
    assert_int_equal(r[0].flags, 0);
    assert_int_equal(r[0].n_implied, 0);
    /* rejected with disqualify from ML (sales never accepted it): DISQUALIFIED, flagged */
    const ho_outcome_step_t rej[] = {
        {.outcome = "rejected", .disposition = "disqualify", .occurred_at = 2 * H}};
    assert_string_equal(s_run(rej, 1, order, NULL, 0, INT64_MIN, r), "DISQUALIFIED");
    assert_int_equal(r[0].flags, HO_OFLAG_WITHOUT_MQL);
}

static void test_crm_stage_and_out_of_order(void **state)
{
    (void)state;
    s_res_t r[3];
    size_t order[] = {0, 1, 2};
    /* the CRM said SQL at 1 h: sales' accepted (2 h) says nothing new and is not out of
     * order; won moves it on, implying OPPORTUNITY; then sql after won is out of order */
    const ho_stage_move_t crm[] = {{.from = "ML", .to = "SQL", .at = 1 * H, .crm = true}};
    const ho_outcome_step_t rows[] = {
        {.outcome = "accepted", .occurred_at = 2 * H},
        {.outcome = "won", .occurred_at = 3 * H},
        {.outcome = "sql", .occurred_at = 4 * H},
    };
    assert_string_equal(s_run(rows, 3, order, crm, 1, INT64_MIN, r), "WON");
    assert_string_equal(r[0].before, "SQL");
    assert_string_equal(r[0].after, "SQL");
    assert_int_equal(r[0].flags & HO_OFLAG_OUT_OF_ORDER, 0);
    assert_int_equal(r[1].n_implied, 1);
    assert_string_equal(r[1].implied[0], "opportunity");
    assert_int_equal(r[2].flags & HO_OFLAG_OUT_OF_ORDER, HO_OFLAG_OUT_OF_ORDER);
    assert_string_equal(r[2].after, "WON");
    /* unknown outcomes move nothing; no moving outcome: NULL (the lead keeps its stage) */
    const ho_outcome_step_t odd[] = {{.outcome = "maybe", .occurred_at = 2 * H}};
    assert_null(s_run(odd, 1, order, NULL, 0, INT64_MIN, r));
    char buf[64];
    assert_string_equal(
        ho_outcome_flags_text(HO_OFLAG_WITHOUT_MQL | HO_OFLAG_OUT_OF_ORDER, buf, sizeof buf),
        "sales_accepted_without_mql,out_of_order");
    assert_string_equal(ho_outcome_flags_text(0, buf, sizeof buf), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_order_same_result),
        cmocka_unit_test(test_jumps_imply_stages),
        cmocka_unit_test(test_crm_stage_and_out_of_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
