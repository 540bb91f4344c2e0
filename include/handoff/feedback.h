/*
 * feedback.h - sales feedback -> lead.outcome: the validation the `feedback` worker applies
 * (proto/messages.md: feedback.raw, lead.outcome), shared with the webhook server's /feedback
 * endpoint so it can answer 422 at once.
 *
 * Rules: outcome is one of accepted, rejected, sql, opportunity, won, lost (trimmed, any
 * case); rejected and lost need a reason code from the taxonomy that lists that outcome
 * (a blank one is refused with missing_reason, unless the taxonomy sets blank_reason); the other
 * outcomes must not carry one; email is required and must be an address (normalized); occurred_at
 * is required and a date (the record's date_formats, then the built-in forms); amount, when given,
 * is a number >= 0 ("$36,000" is fine); notes are kept beside the code. reason_owner and
 * disposition come from the taxonomy. The event id is ho_msg_make_id("outcome", feedback_id) (else
 * from the input's id), so the same row arriving by CSV, HTTP and ZeroMQ is one event.
 */
#ifndef HO_FEEDBACK_H
#define HO_FEEDBACK_H

#include "handoff/msg.h"
#include "handoff/reasons.h"

typedef struct {
    const char *code; /* quarantine code: missing_email, bad_email, unknown_outcome, ... */
    char field[96];   /* "fields.reason", ... */
    char reason[400]; /* a sentence naming the record (feedback id, file:line) */
} ho_feedback_refusal_t;

/* Validate one feedback.raw envelope. HO_OK and *out_p = a new lead.outcome envelope, or
 * HO_ERR_FIELD / HO_ERR_MISSING with why filled (and *out_p NULL). */
int ho_feedback_validate(const ho_reasons_t *reasons, const ho_msg_t *in, ho_msg_t **out_p,
                         ho_feedback_refusal_t *why);
/* The same, reading occurred_at also with the date_formats the record's profile lists now
 * (connector.h, ho_profile_dates_parse; dates may be NULL: the record's formats and the
 * built-in forms only, which is what ho_feedback_validate does). */
struct ho_profile_dates;
int ho_feedback_validate_dates(const ho_reasons_t *reasons, struct ho_profile_dates *dates,
                               const ho_msg_t *in, ho_msg_t **out_p, ho_feedback_refusal_t *why);

#endif
