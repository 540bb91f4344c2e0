/* test_util.c - util.h: mkdir -p over a real temporary folder, base64 against the RFC 4648
 * test vectors, and the truncating ho_fmt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handoff/util.h"

static void test_mkdirs(void **state)
{
    (void)state;
    char root[] = "/tmp/ho-util-XXXXXX";
    assert_non_null(mkdtemp(root));
    char deep[256];
    snprintf(deep, sizeof deep, "%s/a/b/c", root);
    assert_int_equal(ho_mkdirs(deep), 0);
    struct stat st;
    assert_int_equal(stat(deep, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(ho_mkdirs(deep), 0); /* existing: not an error */
    /* a file in the way is an error, with errno */
    char file[256];
    snprintf(file, sizeof file, "%s/f", root);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    char under[300];
    snprintf(under, sizeof under, "%s/x", file);
    errno = 0;
    assert_int_equal(ho_mkdirs(under), -1);
    assert_int_equal(errno, ENOTDIR);
    unlink(file);
    rmdir(deep);
    snprintf(deep, sizeof deep, "%s/a/b", root);
    rmdir(deep);
    snprintf(deep, sizeof deep, "%s/a", root);
    rmdir(deep);
    assert_int_equal(rmdir(root), 0);
}

static void test_base64(void **state)
{
    (void)state;
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        char *got = ho_base64(in[i], strlen(in[i]));
        assert_non_null(got);
        assert_string_equal(got, want[i]);
        free(got);
    }
    const unsigned char bin[] = {0xff, 0x00, 0xfe};
    char *got = ho_base64(bin, sizeof bin);
    assert_string_equal(got, "/wD+");
    free(got);
}

static void test_fmt(void **state)
{
    (void)state;
    char buf[8];
    ho_fmt(buf, sizeof buf, "%s/%d", "ab", 42);
    assert_string_equal(buf, "ab/42");
    ho_fmt(buf, sizeof buf, "%s", "a longer text"); /* cut to the buffer, terminated */
    assert_string_equal(buf, "a longe");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mkdirs),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_fmt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
