/* hmac.c - webhook signatures and shared secrets (webhook.h), with libsodium: HMAC-SHA256
 * over the raw body and constant-time comparisons, so a forger learns nothing from timing. */
#include <sodium.h>
#include <string.h>

#include "handoff/webhook.h"

const char *ho_sig_strerror(int rc)
{
    switch (rc) {
    case HO_SIG_OK:
        return "ok";
    case HO_SIG_MISSING:
        return "missing signature";
    case HO_SIG_PREFIX:
        return "signature has the wrong prefix";
    case HO_SIG_MALFORMED:
        return "malformed signature";
    default:
        return "signature does not match the body";
    }
}

static void s_hmac(const char *secret, const void *body, size_t len,
                   unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof st);
}

void ho_webhook_hmac_hex(const char *secret, const void *body, size_t len, char out[65])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    if (sodium_init() < 0) {
        out[0] = '\0';
        return;
    }
    s_hmac(secret, body, len, mac);
    sodium_bin2hex(out, 65, mac, sizeof mac);
}

/* The part after the prefix, or NULL when the prefix is required and absent. */
static const char *s_after(const char *header, const char *prefix, bool optional)
{
    size_t n = prefix ? strlen(prefix) : 0;
    if (n == 0) {
        return header;
    }
    if (strncasecmp(header, prefix, n) == 0) {
        return header + n;
    }
    return optional ? header : NULL;
}

static int s_compare(const char *secret, const void *body, size_t len, const unsigned char *given,
                     size_t given_len)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    if (given_len != sizeof mac) {
        return HO_SIG_MALFORMED;
    }
    s_hmac(secret, body, len, mac);
    return sodium_memcmp(mac, given, sizeof mac) == 0 ? HO_SIG_OK : HO_SIG_MISMATCH;
}

int ho_webhook_verify_hex(const char *secret, const void *body, size_t len, const char *header,
                          const char *prefix, bool optional_prefix)
{
    if (sodium_init() < 0) {
        return HO_SIG_MISMATCH;
    }
    if (!header || !header[0]) {
        return HO_SIG_MISSING;
    }
    const char *hex = s_after(header, prefix, optional_prefix);
    if (!hex) {
        return HO_SIG_PREFIX;
    }
    unsigned char given[64];
    size_t n = 0;
    const char *end = NULL;
    if (strlen(hex) != 2 * crypto_auth_hmacsha256_BYTES ||
        sodium_hex2bin(given, sizeof given, hex, strlen(hex), NULL, &n, &end) != 0 || *end) {
        return HO_SIG_MALFORMED;
    }
    return s_compare(secret ? secret : "", body, len, given, n);
}

int ho_webhook_verify_base64(const char *secret, const void *body, size_t len, const char *header,
                             const char *prefix)
{
    if (sodium_init() < 0) {
        return HO_SIG_MISMATCH;
    }
    if (!header || !header[0]) {
        return HO_SIG_MISSING;
    }
    const char *b64 = s_after(header, prefix, false);
    if (!b64) {
        return HO_SIG_PREFIX;
    }
    unsigned char given[64];
    size_t n = 0;
    const char *end = NULL;
    if (strlen(b64) > 64 ||
        sodium_base642bin(given, sizeof given, b64, strlen(b64), NULL, &n, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        *end) {
        return HO_SIG_MALFORMED;
    }
    return s_compare(secret ? secret : "", body, len, given, n);
}

bool ho_webhook_secret_equal(const char *given, const char *expected)
{
    if (!given || !expected || !expected[0] || sodium_init() < 0) {
        return false;
    }
    /* Hash both so that neither the length nor the first differing byte shows in timing. */
    unsigned char a[crypto_generichash_BYTES], b[crypto_generichash_BYTES];
    crypto_generichash(a, sizeof a, (const unsigned char *)given, strlen(given), NULL, 0);
    crypto_generichash(b, sizeof b, (const unsigned char *)expected, strlen(expected), NULL, 0);
    return sodium_memcmp(a, b, sizeof a) == 0;
}
