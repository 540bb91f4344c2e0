/* test_csv.c - the streaming CSV reader (libcsv fed line by line): BOM, CRLF and LF, quoted
 * delimiters, quotes and line breaks with the physical line each record starts on, empty
 * fields, blank lines, no final line end, an unclosed quote cut at max_record_bytes, chunk
 * boundaries, the UTF-8 validator and Latin-1 conversion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "handoff/csvio.h"

static const ho_csv_row_t *s_next(ho_csv_t *c)
{
    const ho_csv_row_t *row = NULL;
    ho_err_t err;
    assert_int_equal(ho_csv_next(c, &row, &err), 1);
    return row;
}

static void s_end(ho_csv_t *c)
{
    const ho_csv_row_t *row = NULL;
    ho_err_t err;
    assert_int_equal(ho_csv_next(c, &row, &err), 0);
}

static void test_bom_crlf_quotes(void **state)
{
    (void)state;
    const char text[] = "\xEF\xBB\xBF"
                        "id,name,msg\r\n"
                        "1,\"Orrery Systems, Inc.\",\"line one\r\nline \"\"two\"\"\"\r\n"
                        "2,,\r\n"
                        "\r\n"
                        "3, spaced ,\t\r\n";
    ho_err_t err;
    ho_csv_t *c = ho_csv_open_mem(text, sizeof text - 1, NULL, &err);
    const ho_csv_row_t *r = s_next(c);
    assert_true(ho_csv_had_bom(c));
    assert_int_equal(r->n, 3);
    assert_string_equal(r->fields[0], "id"); /* no BOM in the first header */
    assert_int_equal(r->line, 1);
    r = s_next(c);
    assert_int_equal(r->line, 2);
    assert_int_equal(r->end_line, 3);
    assert_string_equal(r->fields[1], "Orrery Systems, Inc.");
    assert_string_equal(r->fields[2], "line one\r\nline \"two\"");
    r = s_next(c);
    assert_int_equal(r->line, 4);
    assert_int_equal(r->n, 3);
    assert_string_equal(r->fields[1], "");
    assert_int_equal(r->lens[2], 0);
    r = s_next(c);
    assert_int_equal(r->line, 6);                  /* the blank line 5 is skipped but counted */
    assert_string_equal(r->fields[1], " spaced "); /* fields as written */
    assert_string_equal(r->fields[2], "\t");
    s_end(c);
    ho_csv_destroy(&c);
    ho_csv_destroy(&c); /* safe twice */
}

static void test_lf_no_final_newline_and_counts(void **state)
{
    (void)state;
    const char text[] = "a,b\n1,2,3\n4\n\"5\nx\",6";
    ho_err_t err;
    ho_csv_t *c = ho_csv_open_mem(text, sizeof text - 1, NULL, &err);
    assert_false(ho_csv_had_bom(s_next(c) ? c : c));
    const ho_csv_row_t *r = s_next(c);
    assert_int_equal(r->n, 3); /* too many: the caller decides */
    assert_int_equal(r->line, 2);
    r = s_next(c);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->line, 3);
    r = s_next(c);
    assert_int_equal(r->line, 4);
    assert_int_equal(r->end_line, 5);
    assert_string_equal(r->fields[0], "5\nx");
    assert_string_equal(r->fields[1], "6");
    s_end(c);
    assert_int_equal(ho_csv_offset(c), sizeof text - 1);
    ho_csv_destroy(&c);
}

static void test_unclosed_quote_is_bounded(void **state)
{
    (void)state;
    /* a quote that never closes swallows the rest of the file: one record, cut, flagged */
    size_t n = 300000;
    char *text = malloc(n + 64);
    strcpy(text, "a,b\n1,\"never closed\n");
    size_t len = strlen(text);
    while (len < n) {
        memcpy(text + len, "more text, more\n", 16);
        len += 16;
    }
    ho_csv_opts_t opts = {',', 4096};
    ho_err_t err;
    ho_csv_t *c = ho_csv_open_mem(text, len, &opts, &err);
    s_next(c);
    const ho_csv_row_t *r = s_next(c);
    assert_true(r->too_large);
    assert_int_equal(r->line, 2);
    assert_true(r->end_line > 1000);
    s_end(c);
    ho_csv_destroy(&c);
    free(text);
}

static void test_file_chunks_and_semicolon(void **state)
{
    (void)state;
    /* more than one 64 KiB read buffer, records crossing the boundary, another delimiter */
    char path[] = "/tmp/test_csv_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("k;v\n", f);
    for (int i = 0; i < 5000; i++) {
        fprintf(f, "%d;\"value %d;\nwith a line break\"\n", i, i);
    }
    fclose(f);
    ho_csv_opts_t opts = {';', 0};
    ho_err_t err;
    ho_csv_t *c = ho_csv_open(path, &opts, &err);
    assert_non_null(c);
    s_next(c);
    for (int i = 0; i < 5000; i++) {
        const ho_csv_row_t *r = s_next(c);
        char want[64];
        snprintf(want, sizeof want, "value %d;\nwith a line break", i);
        assert_int_equal(r->n, 2);
        assert_int_equal(atoi(r->fields[0]), i);
        assert_string_equal(r->fields[1], want);
        assert_int_equal(r->line, 2 + 2 * i);
    }
    s_end(c);
    ho_csv_destroy(&c);
    unlink(path);
    assert_null(ho_csv_open("/nonexistent/x.csv", NULL, &err));
    assert_int_equal(err.code, HO_ERR_IO);
}

static void test_utf8_and_latin1(void **state)
{
    (void)state;
    assert_int_equal(ho_utf8_invalid_at("plain", 5), -1);
    assert_int_equal(ho_utf8_invalid_at("J\xC3\xB6rg", 5), -1);
    assert_int_equal(ho_utf8_invalid_at("M\xFCnchen", 8), 1);        /* Latin-1 byte */
    assert_int_equal(ho_utf8_invalid_at("ab\xC3", 3), 2);            /* truncated */
    assert_int_equal(ho_utf8_invalid_at("\xC0\xAF", 2), 0);          /* overlong */
    assert_int_equal(ho_utf8_invalid_at("\xED\xA0\x80", 3), 0);      /* surrogate */
    assert_int_equal(ho_utf8_invalid_at("\xF0\x9F\x98\x80", 4), -1); /* emoji */
    char *u = ho_latin1_to_utf8("Z\xFCrich \xE7", 8);
    assert_string_equal(u, "Z\xC3\xBCrich \xC3\xA7");
    free(u);
}

static void test_write_field(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ho_csv_write_field(f, "plain", false);
    fputc('|', f);
    ho_csv_write_field(f, "a,b", false);
    fputc('|', f);
    ho_csv_write_field(f, "say \"hi\"\nbye", false);
    fputc('|', f);
    ho_csv_write_field(f, "x", true);
    fclose(f);
    assert_string_equal(buf, "plain|\"a,b\"|\"say \"\"hi\"\"\nbye\"|\"x\"");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bom_crlf_quotes),
        cmocka_unit_test(test_lf_no_final_newline_and_counts),
        cmocka_unit_test(test_unclosed_quote_is_bounded),
        cmocka_unit_test(test_file_chunks_and_semicolon),
        cmocka_unit_test(test_utf8_and_latin1),
        cmocka_unit_test(test_write_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
