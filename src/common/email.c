/* email.c - the shared e-mail key and validity policy; see include/handoff/email.h */
#include <stdlib.h>
#include <string.h>

#include "handoff/email.h"

static bool s_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

long ho_email_key_into(const char *in, char *buf, size_t cap)
{
    if (!in || cap == 0) {
        return -1;
    }
    size_t n = strlen(in);
    while (n > 0 && s_space(*in)) {
        in++;
        n--;
    }
    while (n > 0 && s_space(in[n - 1])) {
        n--;
    }
    if (n >= cap) {
        buf[0] = '\0';
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        buf[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; /* ASCII only: no locale */
    }
    buf[n] = '\0';
    return (long)n;
}

char *ho_email_key(const char *in)
{
    if (!in) {
        return NULL;
    }
    size_t cap = strlen(in) + 1;
    char *out = malloc(cap);
    if (out && ho_email_key_into(in, out, cap) < 0) {
        free(out);
        return NULL;
    }
    return out;
}

static bool s_local_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '%' || c == '+' ||
           c == '\'' || c == '-';
}

static bool s_label_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* The local part [b, e): dot-separated non-empty atoms. */
static const char *s_local_problem(const char *b, const char *e)
{
    if (b == e) {
        return "empty local part";
    }
    size_t atom = 0;
    for (const char *p = b; p < e; p++) {
        if (*p == '.') {
            if (atom == 0) {
                return "empty atom in the local part (a leading, trailing or double dot)";
            }
            atom = 0;
        } else if (!s_local_char(*p)) {
            return "a character outside [a-z0-9_%+'-] in the local part";
        } else {
            atom++;
        }
    }
    return atom == 0 ? "empty atom in the local part (a leading, trailing or double dot)" : NULL;
}

/* The domain d: two or more labels of [a-z0-9-], no `-` at a label's edge, last label
 * alphabetic and >= 2 characters. */
static const char *s_domain_problem(const char *d)
{
    size_t labels = 0;
    const char *label = d;
    for (const char *p = d;; p++) {
        if (*p == '.' || *p == '\0') {
            size_t len = (size_t)(p - label);
            if (len == 0) {
                return "empty label in the domain (a leading, trailing or double dot)";
            }
            if (label[0] == '-' || p[-1] == '-') {
                return "a domain label starts or ends with '-'";
            }
            labels++;
            if (*p == '\0') {
                break;
            }
            label = p + 1;
        } else if (!s_label_char(*p)) {
            return "a character outside [a-z0-9-] in the domain";
        }
    }
    if (labels < 2) {
        return "the domain has a single label";
    }
    size_t len = strlen(label);
    for (size_t i = 0; i < len; i++) {
        if (!(label[i] >= 'a' && label[i] <= 'z')) {
            return "the last domain label is not alphabetic";
        }
    }
    return len < 2 ? "the last domain label is shorter than 2 letters" : NULL;
}

const char *ho_email_problem(const char *key)
{
    if (!key || !key[0]) {
        return "empty";
    }
    const char *at = strchr(key, '@');
    if (!at) {
        return "no @";
    }
    if (strchr(at + 1, '@')) {
        return "more than one @";
    }
    const char *lp = s_local_problem(key, at);
    return lp ? lp : s_domain_problem(at + 1);
}

bool ho_email_valid(const char *key)
{
    return ho_email_problem(key) == NULL;
}
