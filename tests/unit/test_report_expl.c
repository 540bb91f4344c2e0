/* test_report_expl.c - the Learnings pass's explanation reader (src/report/expl.c) gives
 * exactly what reading the text with json_loads gives: the same rule elements in the same
 * order (rule, kind, points), hence the same per-rule sums, for the scorer's texts (read
 * without jansson) and for every text it hands to jansson: escapes, non-ASCII, repeated
 * keys and rules, odd points, missing members, nesting, truncation, garbage, non-arrays.
 * The same texts give the Handoffs sheet's reading (every element with integer points, its
 * rule or none, its detail) and top reason exactly as the sheet's jansson code gave them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expl_reference.h"
#include "report/expl.h"

#define S_MAX 512

/* A list of rule elements with their own copies of the strings. */
typedef struct {
    char *rule[S_MAX], *kind[S_MAX], *detail[S_MAX];
    long long points[S_MAX];
    size_t n;
    const char *text; /* the text read, to tell the fast path from jansson's */
    size_t in_text;   /* elements whose rule points into the text */
} s_list_t;

static void s_push(s_list_t *l, const char *rule, size_t rn, const char *kind, size_t kn,
                   const char *detail, size_t dn, long long points)
{
    assert_true(l->n < S_MAX);
    l->rule[l->n] = rule ? strndup(rule, rn) : NULL;
    l->kind[l->n] = kind ? strndup(kind, kn) : NULL;
    l->detail[l->n] = detail ? strndup(detail, dn) : NULL;
    l->points[l->n] = points;
    l->n++;
}

static void s_collect(void *arg, const ho_expl_item_t *items, size_t n)
{
    s_list_t *l = arg;
    for (size_t i = 0; i < n; i++) {
        s_push(l, items[i].rule, items[i].rule_n, items[i].kind, items[i].kind_n, items[i].detail,
               items[i].detail_n, items[i].points);
        size_t tn = strlen(l->text);
        l->in_text += items[i].rule && items[i].rule >= l->text && items[i].rule < l->text + tn;
    }
}

/* The reference: the rule pass's reading before expl.c, straight from jansson's tree (all:
 * the Handoffs reading, every element with integer points whatever its rule). */
static void s_reference(const char *text, bool all, s_list_t *l)
{
    json_t *arr = json_loads(text, 0, NULL);
    if (json_is_array(arr)) {
        size_t i;
        json_t *e;
        json_array_foreach(arr, i, e)
        {
            const char *rule = json_string_value(json_object_get(e, "rule"));
            const char *kind = json_string_value(json_object_get(e, "kind"));
            const char *detail = json_string_value(json_object_get(e, "detail"));
            json_t *p = json_object_get(e, "points");
            if (all ? json_is_integer(p)
                    : rule && json_is_integer(p) && json_integer_value(p) != 0) {
                s_push(l, rule, rule ? strlen(rule) : 0, kind, kind ? strlen(kind) : 0, detail,
                       detail ? strlen(detail) : 0, json_integer_value(p));
            }
        }
    }
    json_decref(arr);
}

static void s_free(s_list_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->rule[i]);
        free(l->kind[i]);
        free(l->detail[i]);
    }
    free(l);
}

/* Per-rule sums of points (in first-seen order), as the rule pass adds them. */
static size_t s_sums(const s_list_t *l, const char **rules, long long *sums)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++) {
        size_t k = 0;
        while (k < n && strcmp(rules[k], l->rule[i]) != 0) {
            k++;
        }
        if (k == n) {
            rules[n] = l->rule[i];
            sums[n++] = 0;
        }
        sums[k] += l->points[i];
    }
    return n;
}

static void s_str_eq(const char *a, const char *b)
{
    assert_int_equal(!a, !b);
    if (a) {
        assert_string_equal(a, b);
    }
}

/* The Handoffs reading of text both ways: the same elements, the same top reason (whole and
 * cut short as the sheet's buffer and a tiny one cut it). */
static size_t s_check_points(const char *text)
{
    s_list_t *got = calloc(1, sizeof *got), *want = calloc(1, sizeof *want);
    assert_non_null(got);
    assert_non_null(want);
    got->text = text;
    assert_true(ho_expl_read_points(text, s_collect, got));
    s_reference(text, true, want);
    if (got->n != want->n) {
        fail_msg("%s: %zu elements, jansson %zu", text, got->n, want->n);
    }
    for (size_t i = 0; i < got->n; i++) {
        s_str_eq(got->rule[i], want->rule[i]);
        s_str_eq(got->kind[i], want->kind[i]);
        s_str_eq(got->detail[i], want->detail[i]);
        assert_int_equal(got->points[i], want->points[i]);
    }
    size_t fast = got->in_text;
    s_free(got);
    s_free(want);
    static const size_t caps[] = {1024, 9, 1};
    for (size_t k = 0; k < sizeof caps / sizeof *caps; k++) {
        char g[1024], w[1024];
        memset(g, 'g', sizeof g);
        memset(w, 'w', sizeof w);
        ho_expl_top_reason(text, g, caps[k]);
        s_top_reason(text, w, caps[k]);
        assert_string_equal(g, w);
    }
    return fast;
}

/* text read both ways gives the same elements; returns how many were read without jansson. */
static size_t s_check(const char *text)
{
    s_check_points(text);
    s_list_t *got = calloc(1, sizeof *got), *want = calloc(1, sizeof *want);
    assert_non_null(got);
    assert_non_null(want);
    got->text = text;
    assert_true(ho_expl_read(text, s_collect, got));
    s_reference(text, false, want);
    if (got->n != want->n) {
        fail_msg("%s: %zu elements, jansson %zu", text, got->n, want->n);
    }
    for (size_t i = 0; i < got->n; i++) {
        assert_string_equal(got->rule[i], want->rule[i]);
        assert_int_equal(got->points[i], want->points[i]);
        assert_int_equal(!got->kind[i], !want->kind[i]);
        if (want->kind[i]) {
            assert_string_equal(got->kind[i], want->kind[i]);
        }
    }
    const char *gr[S_MAX], *wr[S_MAX];
    long long gs[S_MAX], ws[S_MAX];
    size_t gn = s_sums(got, gr, gs), wn = s_sums(want, wr, ws);
    assert_int_equal(gn, wn);
    for (size_t k = 0; k < gn; k++) {
        assert_string_equal(gr[k], wr[k]);
        assert_int_equal(gs[k], ws[k]);
    }
    size_t fast = got->in_text;
    s_free(got);
    s_free(want);
    return fast;
}

#define S_CANON                                                                                    \
    "[{\"rule\":\"title\",\"kind\":\"fit\",\"points\":24,\"detail\":\"title\"},"                   \
    "{\"rule\":\"pricing\",\"kind\":\"interest\",\"points\":5,\"detail\":\"\"}]"

/* What the scorers write is read without jansson, and the same as jansson reads it. */
static void test_scorer_texts_fast(void **state)
{
    (void)state;
    assert_int_equal(s_check(S_CANON), 2);
    assert_int_equal(
        s_check("[{\"points\":10,\"rule\":\"region_core\"},{\"points\":-20,"
                "\"rule\":\"personal_email\"},{\"points\":15,\"rule\":\"fit.floor\"}]"),
        3);
    /* reordered keys, jansson's whitespace, repeated rules and keys, literals */
    assert_int_equal(s_check(" \t\n\r[ {\"detail\" : null , \"points\" :\t-7,\"kind\":\"a\","
                             "\"rule\":\"x\"} ,\r\n{\"rule\":\"x\",\"kind\":\"b\",\"points\":3,"
                             "\"ok\":true,\"no\":false} ] \n"),
                     2);
    assert_int_equal(s_check("[{\"rule\":\"a\",\"rule\":\"b\",\"points\":1,\"points\":2}]"), 1);
    assert_int_equal(s_check("[{\"rule\":\"a\",\"points\":999999999999999999},"
                             "{\"rule\":\"b\",\"points\":-999999999999999999}]"),
                     2);
    /* elements that name no rule, and non-object elements */
    assert_int_equal(s_check("[{\"rule\":\"a\",\"points\":0},{\"rule\":\"a\",\"points\":-0},"
                             "{\"rule\":5,\"points\":1},{\"points\":1},{\"rule\":\"a\"},"
                             "{\"rule\":\"a\",\"points\":\"5\"},{\"rule\":\"a\",\"points\":null},"
                             "{\"rule\":\"a\",\"points\":true},{},1,\"s\",null,true,"
                             "{\"rule\":\"a\",\"points\":1,\"rule\":null},"
                             "{\"rule\":\"k\",\"kind\":7,\"points\":1},"
                             "{\"rule\":\"k\",\"kind\":\"\",\"points\":1},"
                             "{\"rule\":\"\",\"points\":1},{\"rule\":\"\x7f\",\"points\":1}]"),
                     4);
    assert_int_equal(s_check("[]"), 0);
    assert_int_equal(s_check(" [ ] "), 0);
}

/* Text the reader hands to jansson: the same elements as jansson's reading, or none. */
static void test_other_texts_as_jansson(void **state)
{
    (void)state;
    static const char *const texts[] = {
        /* escapes and non-ASCII in what is read, and in what is not */
        "[{\"rule\":\"ti\\\"tle\",\"points\":1},{\"rule\":\"a\\\\b\",\"points\":2}]",
        "[{\"rule\":\"caf\\u00e9\",\"kind\":\"fit\",\"points\":3}]",
        "[{\"rule\":\"caf\xc3\xa9\",\"kind\":\"f\xc3\xaft\",\"points\":3}]",
        "[{\"\\u0072ule\":\"x\",\"points\":4}]",
        "[{\"rule\":\"x\",\"points\":4,\"detail\":\"line\\nbreak \\ud83d\\ude00\"}]",
        "[{\"rule\":\"x\",\"points\":4,\"detail\":\"bad \\ud83d\"}]",
        "[{\"rule\":\"x\",\"points\":4,\"detail\":\"nul \\u0000\"}]",
        "[{\"rule\":\"x\\u0000y\",\"points\":4}]",
        "[{\"rule\":\"x\",\"points\":4,\"detail\":\"\xff\"}]",
        "[{\"rule\":\"x\",\"points\":4,\"detail\":\"\xc3\"}]",
        "[{\"rule\":\"x\",\"points\":4,\"detail\":\"\xed\xa0\x80\"}]",
        "[{\"rule\":\"x\",\"points\":4,\"detail\":\"tab\there\"}]",
        "[{\"rule\":\"x\",\"points\":4,\"detail\":\"\\q\"}]",
        /* numbers */
        "[{\"rule\":\"x\",\"points\":1.0}]",
        "[{\"rule\":\"x\",\"points\":1e2},{\"rule\":\"y\",\"points\":2E0}]",
        "[{\"rule\":\"x\",\"points\":1e999}]",
        "[{\"rule\":\"x\",\"points\":9223372036854775807}]",
        "[{\"rule\":\"x\",\"points\":-9223372036854775808}]",
        "[{\"rule\":\"x\",\"points\":9223372036854775808}]",
        "[{\"rule\":\"x\",\"points\":1000000000000000000}]",
        "[{\"rule\":\"x\",\"points\":01}]",
        "[{\"rule\":\"x\",\"points\":-}]",
        "[{\"rule\":\"x\",\"points\":+1}]",
        "[{\"rule\":\"x\",\"points\":1.}]",
        "[{\"rule\":\"x\",\"points\":.5}]",
        "[{\"rule\":\"x\",\"points\":1x}]",
        "[{\"rule\":\"x\",\"points\":2,\"detail\":0.25}]",
        /* nesting */
        "[{\"rule\":\"x\",\"points\":2,\"detail\":{\"a\":[1,{\"b\":2}]}}]",
        "[{\"rule\":{\"x\":1},\"points\":2},[{\"rule\":\"y\",\"points\":1}],{}]",
        "[{\"rule\":\"z\",\"points\":1},[{\"rule\":\"y\",\"points\":1}]]",
        "[[[[[]]]]]",
        /* literals and syntax */
        "[{\"rule\":\"x\",\"points\":2,\"ok\":truex}]",
        "[{\"rule\":\"x\",\"points\":2,\"ok\":tru}]",
        "[{\"rule\":\"x\",\"points\":2,\"ok\":True}]",
        "[{\"rule\":\"x\",\"points\":2,}]",
        "[{\"rule\":\"x\",\"points\":2},]",
        "[,]",
        "[{,}]",
        "[{\"rule\" \"x\"}]",
        "[{rule:\"x\",\"points\":1}]",
        "[{'rule':'x','points':1}]",
        "[{\"rule\":\"x\",\"points\":2}\f]",
        "[{\"rule\":\"x\",\"points\":2}] x",
        "[{\"rule\":\"x\",\"points\":2}][]",
        "\xef\xbb\xbf[{\"rule\":\"x\",\"points\":2}]",
        /* not an array */
        "",
        " ",
        "{}",
        "{\"rule\":\"x\",\"points\":2}",
        "\"[]\"",
        "5",
        "null",
        "garbage",
        "]",
        "[",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        assert_int_equal(s_check(texts[i]), 0);
    }
}

/* Every prefix of the scorer's text (a truncated row) reads as jansson reads it: nothing. */
static void test_truncated(void **state)
{
    (void)state;
    char buf[sizeof S_CANON];
    for (size_t n = 0; n < sizeof S_CANON - 1; n++) {
        memcpy(buf, S_CANON, n);
        buf[n] = '\0';
        assert_int_equal(s_check(buf), 0);
    }
}

/* More rule elements than the fast path holds: jansson's reading, all of them. */
static void test_many_elements(void **state)
{
    (void)state;
    size_t cap = 300 * 40 + 3;
    char *t = malloc(cap), *p = t;
    assert_non_null(t);
    *p++ = '[';
    for (int i = 0; i < 300; i++) {
        p += snprintf(p, cap - (size_t)(p - t), "%s{\"rule\":\"r%d\",\"points\":%d}", i ? "," : "",
                      i % 70, i - 150);
    }
    strcpy(p, "]");
    assert_int_equal(s_check(t), 0); /* past what the fast path holds */
    t[1] = '[';                      /* no longer valid JSON */
    assert_int_equal(s_check(t), 0);
    free(t);
}

/* Random edits of the scorer's text with the bytes JSON cares about: any result (mostly
 * invalid, some valid) reads as jansson reads it. Seeded: the same texts every run. */
static void test_mutations(void **state)
{
    (void)state;
    static const char alphabet[] = "[]{},:\"\\ \t\n-0123456789.eEtrufalsn\x01\x7f\xc3\xa9";
    uint32_t seed = 20261207;
    char buf[sizeof S_CANON + 64];
    size_t fast = 0;
    for (int round = 0; round < 20000; round++) {
        size_t n = sizeof S_CANON - 1;
        memcpy(buf, S_CANON, n + 1);
        int edits = 1 + round % 4;
        for (int e = 0; e < edits; e++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % (n + 1);
            char c = alphabet[(seed >> 20) % (sizeof alphabet - 1)];
            switch ((seed >> 28) % 3) {
            case 0: /* replace */
                if (at < n) {
                    buf[at] = c;
                }
                break;
            case 1: /* insert */
                if (n + 1 < sizeof buf) {
                    memmove(buf + at + 1, buf + at, n - at + 1);
                    buf[at] = c;
                    n++;
                }
                break;
            default: /* delete */
                if (at < n) {
                    memmove(buf + at, buf + at + 1, n - at);
                    n--;
                }
            }
        }
        fast += s_check(buf);
    }
    assert_true(fast > 0); /* some edits stay in what the fast path reads */
}

/* The Handoffs top reason: greatest integer points, first on a tie, zero and negative points
 * and rules that are not strings included, details present, empty, repeated or not strings;
 * the scorers' texts without jansson. */
static void test_top_reasons(void **state)
{
    (void)state;
    /* bench/e2e's scorer: eight elements with more members */
    assert_int_equal(
        s_check_points(
            "[{\"points\":8,\"rule\":\"title_manager\"},{\"points\":15,\"rule\":\"industry_core\"},"
            "{\"points\":15,\"rule\":\"employees_midmarket\"},{\"last\":1795245225000,\"n\":1,"
            "\"points\":3,\"raw\":3,\"rule\":\"email_click\"}]"),
        4);
    assert_int_equal(s_check_points("[{\"rule\":\"title\",\"kind\":\"fit\",\"points\":0,"
                                    "\"detail\":\"title\"},{\"rule\":\"pricing\",\"points\":0}]"),
                     2);
    assert_int_equal(s_check_points("[{\"rule\":\"a\",\"points\":-5,\"detail\":\"x\"},"
                                    "{\"rule\":\"b\",\"points\":-3,\"detail\":\"\"}]"),
                     2);
    assert_int_equal(s_check_points("[{\"rule\":7,\"points\":9,\"detail\":\"d\"},"
                                    "{\"rule\":\"b\",\"points\":3}]"),
                     1);
    assert_int_equal(s_check_points("[{\"points\":9},{\"rule\":null,\"points\":9}]"), 0);
    assert_int_equal(s_check_points("[{\"rule\":\"a\",\"points\":4,\"detail\":\"one\","
                                    "\"detail\":\"two\"},{\"rule\":\"b\",\"points\":4,"
                                    "\"detail\":\"three\",\"detail\":5}]"),
                     2);
    assert_int_equal(s_check_points("[{\"rule\":\"a\",\"points\":\"9\",\"detail\":\"s\"},"
                                    "{\"rule\":\"b\",\"points\":1,\"detail\":null},"
                                    "1,\"x\"]"),
                     1);
    assert_int_equal(
        s_check_points("[{\"rule\":\"c\",\"points\":1.5},{\"rule\":\"d\",\"points\":-1}]"),
        0); /* a real: jansson's reading */
    assert_int_equal(s_check_points("[{\"rule\":\"a\",\"points\":1,\"rule\":false}]"), 0);
    assert_int_equal(s_check_points("[{\"rule\":\"a\",\"points\":2,\"detail\":\"caf\\u00e9\"}]"),
                     0);
    assert_int_equal(s_check_points("[{\"rule\":\"\\u0041\",\"points\":2}]"), 0);
    assert_int_equal(s_check_points("[{\"rule\":\"a\",\"points\":999999999999999999},"
                                    "{\"rule\":\"b\",\"points\":-999999999999999999}]"),
                     2);
    /* a detail longer than the sheet's buffer is cut as snprintf cuts it */
    char t[3000];
    int n = snprintf(t, sizeof t, "[{\"rule\":\"long\",\"points\":1,\"detail\":\"");
    memset(t + n, 'd', 2000);
    strcpy(t + n + 2000, "\"}]");
    assert_int_equal(s_check_points(t), 1);
    s_check_points(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scorer_texts_fast), cmocka_unit_test(test_other_texts_as_jansson),
        cmocka_unit_test(test_truncated),         cmocka_unit_test(test_many_elements),
        cmocka_unit_test(test_mutations),         cmocka_unit_test(test_top_reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
