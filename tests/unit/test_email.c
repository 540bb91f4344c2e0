/* test_email.c - the shared e-mail identity (email.h, CONTRACT-12 section 3): the key trims
 * ASCII whitespace and lower-cases, nothing else; validity is a table of addresses as exports
 * write them (plus-tags, dots, unicode, trailing dot, '-' at label edges, numeric TLD, two @),
 * and the store's key check refuses exactly what ingest refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "handoff/email.h"
#include "handoff/normalize.h"
#include "handoff/store.h"

static void s_key_is(const char *in, const char *want)
{
    char *k = ho_email_key(in);
    assert_non_null(k);
    assert_string_equal(k, want);
    free(k);
}

static void test_key(void **state)
{
    (void)state;
    s_key_is(" \tAda.Lovelace@Example.COM\r\n", "ada.lovelace@example.com");
    s_key_is("ada+news@acme.io", "ada+news@acme.io"); /* plus-tags kept */
    s_key_is("a.d.a@acme.io", "a.d.a@acme.io");       /* dots kept */
    s_key_is("   ", "");
    s_key_is("\xC2\xA0jo@x.io", "\xC2\xA0jo@x.io");   /* no-break space is not ASCII space */
    s_key_is("J\xC3\x96RG@X.DE", "j\xC3\x96rg@x.de"); /* only ASCII letters change */
    s_key_is("a b@x.io ", "a b@x.io");                /* inner space kept (then invalid) */
    assert_null(ho_email_key(NULL));
    char small[4];
    assert_int_equal(ho_email_key_into("abcdef", small, sizeof small), -1);
    assert_string_equal(small, "");
    char buf[32];
    assert_int_equal(ho_email_key_into(" X@Y.ZZ ", buf, sizeof buf), 6);
    assert_string_equal(buf, "x@y.zz");
}

static const struct {
    const char *addr;
    bool valid;
} s_table[] = {
    {"ada@acme.io", true},
    {"ada+newsletter@acme.io", true},
    {"a.d.a@acme.io", true},
    {"first.last@sub.example.co.uk", true},
    {"o'brien@example.ie", true},
    {"under_score%x-y@example.com", true},
    {"7@123.example.com", true},
    {"a@b-c.example.com", true},
    {"a@xn--bcher-kva.ch", true}, /* punycode labels are plain ASCII */
    {"", false},
    {"n/a", false},
    {"no-at-sign.example.com", false},
    {"two@@example.com", false},
    {"a@b@example.com", false},
    {"@example.com", false},
    {"cut.off@", false},
    {".ada@example.com", false},
    {"ada.@example.com", false},
    {"a..b@example.com", false},
    {"a b@example.com", false},
    {"\"ada\"@example.com", false},
    {"ada!@example.com", false},
    {"j\xC3\xB6rg@example.de", false}, /* unicode local part */
    {"jorg@b\xC3\xBC"
     "cher.de",
     false},                     /* unicode domain */
    {"ada@example.com.", false}, /* trailing dot */
    {"ada@.example.com", false},
    {"ada@example..com", false},
    {"ada@-example.com", false},
    {"ada@example-.com", false},
    {"ada@sub.-x.com", false},
    {"ada@example.com-", false},
    {"ada@example", false},     /* one label */
    {"ada@example.c", false},   /* 1-letter TLD */
    {"ada@example.123", false}, /* numeric TLD */
    {"ada@example.c0m", false},
    {"ada@10.0.0.1", false},
    {"ada@[10.0.0.1]", false},
    {"ada@exa_mple.com", false},
    {"Ada@Example.com", false}, /* validity is checked on a key (lower case) */
    {" ada@example.com", false},
};

static void test_valid_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof s_table / sizeof s_table[0]; i++) {
        bool got = ho_email_valid(s_table[i].addr);
        if (got != s_table[i].valid) {
            fail_msg("\"%s\": expected %s", s_table[i].addr,
                     s_table[i].valid ? "valid" : "invalid");
        }
        /* ingest's wrapper is the same policy */
        assert_int_equal(ho_norm_email_valid(s_table[i].addr), s_table[i].valid);
        const char *why = ho_email_problem(s_table[i].addr);
        assert_int_equal(why == NULL, s_table[i].valid);
    }
    assert_false(ho_email_valid(NULL));
    assert_string_equal(ho_email_problem("a@@b.co"), "more than one @");
    assert_string_equal(ho_email_problem("a@b.c1"), "the last domain label is not alphabetic");
}

/* The store keys and refuses as ingest does (plus_addressing off: nothing else changes). */
static void test_store_agrees(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof s_table / sizeof s_table[0]; i++) {
        const char *a = s_table[i].addr;
        char *key = ho_email_key(a);
        bool ingest_ok = key && ho_email_valid(key);
        ho_err_t err = {0};
        char *stored = ho_store_normalize_email(NULL, a, &err);
        if (ingest_ok) {
            assert_non_null(stored);
            assert_string_equal(stored, key);
        } else if (stored) {
            fail_msg("store accepted \"%s\" (as \"%s\") that ingest refuses", a, stored);
        }
        free(stored);
        free(key);
    }
    ho_err_t err = {0};
    char *k = ho_store_normalize_email(NULL, "  ADA+X@Acme.IO\n", &err);
    assert_non_null(k);
    assert_string_equal(k, "ada+x@acme.io");
    free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_valid_table),
        cmocka_unit_test(test_store_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
