/*
 * reasons.h - the rejected/lost reason taxonomy (deploy/reasons.yaml): codes, labels, the
 * owning side (marketing or sales), which outcomes may use each code, and what a rejection
 * with it does to the lead (recycle or disqualify).
 *
 *     ho_err_t err;
 *     ho_reasons_t *r = ho_reasons_load (config_dir, "reasons.yaml", &err);
 *     const ho_reason_t *why = ho_reasons_find (r, "competitor");
 *     if (why && (why->outcomes & HO_OUTCOME_LOST)) ... why->owner, why->disposition
 *     ho_reasons_destroy (&r);
 *
 * Errors name file, line and key ("reasons.yaml:14: reasons.timing.owner: expected
 * marketing or sales, got \"ops\""). Strings are borrowed from the taxonomy.
 */
#ifndef HO_REASONS_H
#define HO_REASONS_H

#include <stdbool.h>
#include <stddef.h>

#include "handoff/msg.h"

/* Outcomes of sales feedback, as bits (proto/messages.md, lead.outcome). */
typedef enum {
    HO_OUTCOME_ACCEPTED = 1 << 0,
    HO_OUTCOME_REJECTED = 1 << 1,
    HO_OUTCOME_SQL = 1 << 2,
    HO_OUTCOME_OPPORTUNITY = 1 << 3,
    HO_OUTCOME_WON = 1 << 4,
    HO_OUTCOME_LOST = 1 << 5,
} ho_outcome_t;

/* "accepted", "rejected", ... -> its bit; 0 when unknown. Exact, lowercase names only. */
unsigned ho_outcome_parse(const char *name);
const char *ho_outcome_name(unsigned outcome);
/* Outcomes that must carry a reason: rejected and lost. */
bool ho_outcome_needs_reason(unsigned outcome);

typedef struct {
    const char *code;
    const char *label;
    const char *owner;       /* "marketing" or "sales" */
    unsigned outcomes;       /* HO_OUTCOME_REJECTED and/or HO_OUTCOME_LOST */
    const char *disposition; /* "recycle" or "disqualify" (NULL when not usable on rejected) */
    const char *description; /* may be "" */
} ho_reason_t;

typedef struct ho_reasons ho_reasons_t;

/* Load <config_dir>/<name> or the built-in copy (ho_conf_load_named). NULL with err. */
ho_reasons_t *ho_reasons_load(const char *config_dir, const char *name, ho_err_t *err);
/* Parse YAML text; origin names it in errors. */
ho_reasons_t *ho_reasons_parse(const char *text, size_t len, const char *origin, ho_err_t *err);
void ho_reasons_destroy(ho_reasons_t **self_p);

size_t ho_reasons_count(const ho_reasons_t *self);
const ho_reason_t *ho_reasons_at(const ho_reasons_t *self, size_t index);
/* The reason with this code, or NULL. */
const ho_reason_t *ho_reasons_find(const ho_reasons_t *self, const char *code);
/* The code a blank reason on rejected/lost becomes (blank_reason), or NULL = refuse them with
 * missing_reason (the default: the protocol requires a reason). */
const char *ho_reasons_blank(const ho_reasons_t *self);

#endif
