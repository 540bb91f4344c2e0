/* test_hmac.c - webhook signatures: HMAC-SHA256 against the RFC 4231 vector, Facebook's
 * "sha256=<hex>" header (good, bad, missing, wrong prefix, malformed, other body, other
 * secret), LinkedIn's optional prefix, Typeform's "sha256=<base64>", and shared secrets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "handoff/webhook.h"

/* RFC 4231, test case 2 */
static const char *const s_key = "Jefe";
static const char *const s_data = "what do ya want for nothing?";
static const char *const s_mac_hex =
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
/* the same 32 bytes in base64 */
static const char *const s_mac_b64 = "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=";

static void test_rfc4231(void **state)
{
    (void)state;
    char hex[65];
    ho_webhook_hmac_hex(s_key, s_data, strlen(s_data), hex);
    assert_string_equal(hex, s_mac_hex);
}

static int s_fb(const char *header)
{
    return ho_webhook_verify_hex(s_key, s_data, strlen(s_data), header, "sha256=", false);
}

static void test_facebook_header(void **state)
{
    (void)state;
    char good[100], upper[100], flipped[100];
    snprintf(good, sizeof good, "sha256=%s", s_mac_hex);
    assert_int_equal(s_fb(good), HO_SIG_OK);
    /* hex digits in capitals are the same bytes */
    snprintf(upper, sizeof upper, "sha256=%s", s_mac_hex);
    for (char *p = upper + 7; *p; p++) {
        if (*p >= 'a' && *p <= 'f') {
            *p = (char)(*p - 'a' + 'A');
        }
    }
    assert_int_equal(s_fb(upper), HO_SIG_OK);
    /* one bit off */
    snprintf(flipped, sizeof flipped, "%s", good);
    flipped[strlen(flipped) - 1] = flipped[strlen(flipped) - 1] == '3' ? '2' : '3';
    assert_int_equal(s_fb(flipped), HO_SIG_MISMATCH);
    assert_int_equal(s_fb(NULL), HO_SIG_MISSING);
    assert_int_equal(s_fb(""), HO_SIG_MISSING);
    /* the old SHA-1 header's prefix, or none */
    char sha1[100];
    snprintf(sha1, sizeof sha1, "sha1=%s", s_mac_hex);
    assert_int_equal(s_fb(sha1), HO_SIG_PREFIX);
    assert_int_equal(s_fb(s_mac_hex), HO_SIG_PREFIX);
    /* not 32 bytes of hex */
    assert_int_equal(s_fb("sha256=abcd"), HO_SIG_MALFORMED);
    assert_int_equal(s_fb("sha256="), HO_SIG_MALFORMED);
    char junk[100];
    snprintf(junk, sizeof junk, "sha256=%.62szz", s_mac_hex);
    assert_int_equal(s_fb(junk), HO_SIG_MALFORMED);
    char longer[120];
    snprintf(longer, sizeof longer, "%s00", good);
    assert_int_equal(s_fb(longer), HO_SIG_MALFORMED);
    /* right signature, other body / other secret */
    const char *other = "what do ya want for nothing!";
    assert_int_equal(ho_webhook_verify_hex(s_key, other, strlen(other), good, "sha256=", false),
                     HO_SIG_MISMATCH);
    assert_int_equal(ho_webhook_verify_hex("jefe", s_data, strlen(s_data), good, "sha256=", false),
                     HO_SIG_MISMATCH);
    assert_string_equal(ho_sig_strerror(HO_SIG_MISSING), "missing signature");
}

static void test_linkedin_optional_prefix(void **state)
{
    (void)state;
    char with[100];
    snprintf(with, sizeof with, "hmacsha256=%s", s_mac_hex);
    assert_int_equal(
        ho_webhook_verify_hex(s_key, s_data, strlen(s_data), with, "hmacsha256=", true), HO_SIG_OK);
    assert_int_equal(
        ho_webhook_verify_hex(s_key, s_data, strlen(s_data), s_mac_hex, "hmacsha256=", true),
        HO_SIG_OK);
}

static int s_tf(const char *header)
{
    return ho_webhook_verify_base64(s_key, s_data, strlen(s_data), header, "sha256=");
}

static void test_typeform_header(void **state)
{
    (void)state;
    char good[100];
    snprintf(good, sizeof good, "sha256=%s", s_mac_b64);
    assert_int_equal(s_tf(good), HO_SIG_OK);
    assert_int_equal(s_tf(NULL), HO_SIG_MISSING);
    assert_int_equal(s_tf(s_mac_b64), HO_SIG_PREFIX);
    assert_int_equal(s_tf("sha256=***"), HO_SIG_MALFORMED);
    assert_int_equal(s_tf("sha256=AAAA"), HO_SIG_MALFORMED); /* 3 bytes */
    /* hex where base64 is expected: decodes to the wrong length */
    char hex[100];
    snprintf(hex, sizeof hex, "sha256=%s", s_mac_hex);
    assert_int_equal(s_tf(hex), HO_SIG_MALFORMED);
    char bad[100];
    snprintf(bad, sizeof bad, "sha256=%s", s_mac_b64);
    bad[7] = bad[7] == 'W' ? 'X' : 'W';
    assert_int_equal(s_tf(bad), HO_SIG_MISMATCH);
}

static void test_shared_secret(void **state)
{
    (void)state;
    assert_true(ho_webhook_secret_equal("s3cret-token", "s3cret-token"));
    assert_false(ho_webhook_secret_equal("s3cret-tokeN", "s3cret-token"));
    assert_false(ho_webhook_secret_equal("s3cret", "s3cret-token"));
    assert_false(ho_webhook_secret_equal(NULL, "s3cret-token"));
    /* an empty configured secret never matches (it means: not configured) */
    assert_false(ho_webhook_secret_equal("", ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4231),
        cmocka_unit_test(test_facebook_header),
        cmocka_unit_test(test_linkedin_optional_prefix),
        cmocka_unit_test(test_typeform_header),
        cmocka_unit_test(test_shared_secret),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
