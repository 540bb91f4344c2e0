/* expl.h - reading a score's explanation text for the Learnings rule pass and the Handoffs
 * sheet's top reason (expl.c). Private to src/report/ (and its tests). */
#ifndef HO_REPORT_EXPL_H
#define HO_REPORT_EXPL_H

#include <stdbool.h>
#include <stddef.h>

/* One element of an explanation array that names a rule: its "rule" is a JSON string and its
 * "points" a non-zero JSON integer. rule / kind point into the text or into a parse that
 * lives only during the call; they hold no NUL (jansson rejects \u0000 without
 * JSON_ALLOW_NUL, and the fast path reads no escapes), so comparing (s, n) pairs byte-wise
 * gives what strcmp gives. kind is NULL when the element has no string "kind". */
/* (ho_expl_read_points gives every element whose "points" is a JSON integer, zero included:
 * there rule is NULL when "rule" is not a string.) detail is NULL when the element has no
 * string "detail"; like rule and kind it holds no NUL. */
typedef struct {
    const char *rule, *kind, *detail;
    size_t rule_n, kind_n, detail_n;
    long long points;
} ho_expl_item_t;

/* items[0..n) live only during the call. */
typedef void ho_expl_fn(void *arg, const ho_expl_item_t *items, size_t n);

/* Calls fn once with the rule elements of text, in array order, exactly as reading text with
 * json_loads(text, 0, NULL) gives them (the last value of a repeated key; none for text that
 * is not a JSON array, nor for text jansson rejects). false when out of memory (fn not
 * called). */
bool ho_expl_read(const char *text, ho_expl_fn *fn, void *arg);

/* Like ho_expl_read, but fn is given every element whose "points" is a JSON integer (zero
 * and negative included), whatever its "rule" (NULL when not a string). */
bool ho_expl_read_points(const char *text, ho_expl_fn *fn, void *arg);

/* The Handoffs sheet's top reason of text into out (cap bytes, cut as snprintf cuts): the
 * element with the greatest integer points (the first on a tie, zero and negative points
 * included) as "rule (+15): detail" ("?" for a rule that is not a string, no ": detail" for
 * a missing or empty detail); "" for NULL or empty text, text without such an element, text
 * that is not a JSON array, and when out of memory, exactly as reading text with
 * json_loads(text, 0, NULL) gives it. */
void ho_expl_top_reason(const char *text, char *out, size_t cap);

/* strcmp's order for (s, n) pairs without NUL: <0, 0, >0. */
int ho_expl_cmp(const char *a, size_t an, const char *b, size_t bn);

#endif
