/* test_import_hints.c - `handoff import` says what a file is when it is not UTF-8 text
 * (UTF-16 with and without a byte-order mark, .xlsx / .xls workbooks, gzip, binary) and when a
 * CSV header is one column holding ';', and the sentence never contains the file's bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/import_hints.h"

static void s_hint(const void *bytes, size_t n, const char *want)
{
    char out[1200];
    bool got = ho_import_hint_bytes(bytes, n, "in.csv", out, sizeof out);
    if (!want) {
        if (got) {
            fail_msg("unexpected hint: %s", out);
        }
        return;
    }
    assert_true(got);
    if (!strstr(out, want)) {
        fail_msg("\"%s\" does not say \"%s\"", out, want);
    }
    assert_non_null(strstr(out, "in.csv"));
    for (const char *p = out; *p; p++) {
        assert_true((unsigned char)*p >= 0x20); /* never a control byte of the file */
    }
}

static void test_bytes(void **state)
{
    (void)state;
    static const unsigned char bom_le[] = {0xFF, 0xFE, 'e', 0, 'm', 0, 'a', 0, 'i', 0, 'l', 0};
    static const unsigned char bom_be[] = {0xFE, 0xFF, 0, 'e', 0, 'm', 0, 'a', 0, 'i', 0, 'l'};
    static const unsigned char le[] = {'e', 0, 'm', 0, 'a', 0, 'i', 0, 'l', 0, ',', 0, 'n', 0};
    s_hint(bom_le, sizeof bom_le, "UTF-16");
    s_hint(bom_be, sizeof bom_be, "UTF-16");
    s_hint(le, sizeof le, "iconv -f UTF-16");
    s_hint("PK\x03\x04\x14\x00\x06\x00", 8, ".xlsx");
    s_hint("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8, ".xls");
    s_hint("\x1F\x8B\x08\x00", 4, "zcat");
    static const unsigned char bin[] = {0x7F, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    s_hint(bin, sizeof bin, "binary");
    s_hint("a,b\x1b[2J\x1b]0;x\x07\x01\x02\x03", 16, "binary");
    /* text is text: UTF-8 with a BOM, CRLF, tabs, accents, a JSON line */
    s_hint("\xEF\xBB\xBFRecord ID,Email\r\n1,a@b.co\r\n", 29, NULL);
    s_hint("email\tname\nj\xC3\xB6rg@x.de\tJ\xC3\xB6rg\n", 28, NULL);
    s_hint("{\"id\": 1, \"field_data\": []}\n", 28, NULL);
    s_hint("", 0, NULL);
}

static void test_header(void **state)
{
    (void)state;
    char out[600];
    const char *semi[] = {"Record ID;First Name;Email"};
    assert_true(ho_import_hint_header(semi, 1, out, sizeof out));
    assert_non_null(strstr(out, "delimiter"));
    const char *two[] = {"a;b", "c"};
    assert_false(ho_import_hint_header(two, 2, out, sizeof out));
    const char *one[] = {"email"};
    assert_false(ho_import_hint_header(one, 1, out, sizeof out));
    assert_false(ho_import_hint_file("/nonexistent/file.csv", out, sizeof out));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
