/*
 * email.h - the one e-mail identity every worker shares (issue 12, CONTRACT-12.md section 3).
 *
 * Key: trim ASCII whitespace (space, tab, CR, LF) at both ends and lower-case ASCII letters;
 * nothing else. Plus-tags and dots are kept: ada+x@acme.com and ada@acme.com are two people.
 *
 * Valid: exactly one `@`; the local part is dot-separated, non-empty atoms of
 * [a-z0-9_%+'-]; the domain is two or more dot-separated labels of [a-z0-9-], none starting
 * or ending with `-`; the last label is alphabetic and at least 2 characters. Checked on a
 * key (lower case); anything else (unicode, quotes, an IP literal, a trailing dot) is invalid.
 *
 * Ingest, the store, the feedback worker and the webhook server all use these two functions,
 * so the verifier, the database and the workbook count the same people.
 */
#ifndef HO_EMAIL_H
#define HO_EMAIL_H

#include <stdbool.h>
#include <stddef.h>

/* The key of a raw address: malloc'd, "" when in is blank; NULL when in is NULL or out of
 * memory. The caller frees it. */
char *ho_email_key(const char *in);
/* Into buf (cap bytes): the key's length, or -1 when it does not fit (buf is then ""). */
long ho_email_key_into(const char *in, char *buf, size_t cap);
/* Whether a key is a valid address by the policy above (false for NULL). */
bool ho_email_valid(const char *key);
/* The first rule a key fails, for a reason text ("no @", "two @", "empty local part", ...),
 * or NULL when valid. A static string. */
const char *ho_email_problem(const char *key);

#endif
