/* test_dupcount.c - the duplicate counter behind `handoff import`'s duplicates= (src/cli/
 * dupcount.c): exact counts within a group and across groups (files), in memory and when the
 * keys spill into sorted runs on disk (tiny buffers here, so every path of the merge runs:
 * many runs, the earlier groups' set in memory and on disk), compared with a plain count;
 * and a temporary folder that cannot be written is an error naming it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/dupcount.h"

static void s_add(ho_dupcount_t *d, const char *key)
{
    ho_err_t err = {0};
    if (ho_dupcount_add(d, key, &err) != HO_OK) {
        fail_msg("add %s: %s", key, err.message);
    }
}

static long s_close(ho_dupcount_t *d)
{
    ho_err_t err = {0};
    long dups = -1;
    if (ho_dupcount_close_group(d, &dups, &err) != HO_OK) {
        fail_msg("close: %s", err.message);
    }
    return dups;
}

static void test_in_memory_groups(void **state)
{
    (void)state;
    ho_dupcount_t *d = ho_dupcount_new(0, NULL);
    assert_non_null(d);
    assert_int_equal(s_close(d), 0); /* an empty group */
    s_add(d, "ann@example.com");
    s_add(d, "bob@example.com");
    s_add(d, "ann@example.com");
    s_add(d, "ann@example.com");
    assert_int_equal(s_close(d), 2); /* ann twice more */
    assert_int_equal(ho_dupcount_distinct(d), 2);
    /* the second file: bob was in the first (1), cy is new, cy again (1), dee new */
    s_add(d, "bob@example.com");
    s_add(d, "cy@example.com");
    s_add(d, "cy@example.com");
    s_add(d, "dee@example.com");
    assert_int_equal(s_close(d), 2);
    assert_int_equal(ho_dupcount_distinct(d), 4);
    assert_int_equal(ho_dupcount_spills(d), 0);
    /* keys differing in one byte are different keys */
    s_add(d, "ann@example.co");
    s_add(d, "Ann@example.com");
    assert_int_equal(s_close(d), 0);
    ho_dupcount_destroy(&d);
    ho_dupcount_destroy(&d); /* safe twice */
}

/* Groups of keys drawn with repeats, counted by the counter and by brute force. */
static void s_compare(size_t mem_keys, int groups, int per_group, int space)
{
    ho_dupcount_t *d = ho_dupcount_new(mem_keys, NULL);
    assert_non_null(d);
    unsigned char *seen = calloc((size_t)space, 1);
    unsigned seed = 12345;
    size_t distinct = 0;
    for (int g = 0; g < groups; g++) {
        long want = 0;
        for (int i = 0; i < per_group; i++) {
            seed = seed * 1103515245u + 12345u;
            int k = (int)((seed >> 8) % (unsigned)space);
            char key[64];
            snprintf(key, sizeof key, "person-%d@example-%d.com", k, k % 7);
            s_add(d, key);
            if (seen[k]) {
                want++;
            } else {
                seen[k] = 1;
                distinct++;
            }
        }
        long got = s_close(d);
        if (got != want) {
            fail_msg("mem_keys=%zu group %d: %ld duplicates, want %ld", mem_keys, g, got, want);
        }
        assert_int_equal(ho_dupcount_distinct(d), distinct);
    }
    if (mem_keys > 0 && mem_keys < (size_t)per_group) {
        assert_true(ho_dupcount_spills(d) > 0);
    }
    free(seen);
    ho_dupcount_destroy(&d);
}

static void test_spilled_runs_match_a_plain_count(void **state)
{
    (void)state;
    s_compare(0, 3, 5000, 4000);   /* default buffer: all in memory */
    s_compare(64, 4, 3000, 2500);  /* ~47 runs per group, the earlier set on disk */
    s_compare(7, 2, 100, 60);      /* odd sizes, runs of 7 */
    s_compare(2, 3, 40, 1000);     /* mostly distinct, runs of 2 */
    s_compare(1024, 5, 600, 1500); /* the earlier set moves from memory to disk midway */
}

static void test_unwritable_tmp_dir_is_an_error(void **state)
{
    (void)state;
    ho_dupcount_t *d = ho_dupcount_new(2, "/nonexistent-handoff-dir");
    assert_non_null(d);
    ho_err_t err = {0};
    assert_int_equal(ho_dupcount_add(d, "a@x.com", &err), HO_OK);
    assert_int_equal(ho_dupcount_add(d, "b@x.com", &err), HO_OK);
    assert_int_equal(ho_dupcount_add(d, "c@x.com", &err), HO_ERR_IO); /* the first spill */
    assert_non_null(strstr(err.message, "/nonexistent-handoff-dir"));
    /* and stays failed */
    long dups = 7;
    assert_int_equal(ho_dupcount_close_group(d, &dups, &err), HO_ERR_IO);
    assert_int_equal(dups, 0);
    ho_dupcount_destroy(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_memory_groups),
        cmocka_unit_test(test_spilled_runs_match_a_plain_count),
        cmocka_unit_test(test_unwritable_tmp_dir_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
