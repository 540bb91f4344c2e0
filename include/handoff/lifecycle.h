/*
 * lifecycle.h - the lead lifecycle as a state machine with named transitions.
 *
 *     ML -> MQL -> SAL -> SQL -> OPPORTUNITY -> WON / LOST
 *     MQL/SAL --reject--> RECYCLED (or DISQUALIFIED, per the reason's disposition)
 *     RECYCLED --qualify--> MQL;  LOST --recycle--> RECYCLED
 *     DISQUALIFIED is terminal unless re-opened explicitly (reopen -> RECYCLED)
 *
 * The table (event x from -> to) is data in src/store/lifecycle.c; anything not in it is
 * illegal and refused (HO_ERR_STATE with a sentence naming event, from-stage and what
 * would be legal). The table guards marketing's automatic moves (qualify, decay, recycle).
 * Sales' word is not refused: a lead's sales stages are derived from its whole outcome
 * history (ho_lifecycle_derive), so every outcome is recorded whatever the stage. Stored stage
 * values are the canonical names; display names come from deploy/lifecycle.yaml.
 */
#ifndef HO_LIFECYCLE_H
#define HO_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handoff/msg.h"

typedef enum {
    HO_STAGE_ML = 0,
    HO_STAGE_MQL,
    HO_STAGE_SAL,
    HO_STAGE_SQL,
    HO_STAGE_OPPORTUNITY,
    HO_STAGE_WON,
    HO_STAGE_LOST,
    HO_STAGE_RECYCLED,
    HO_STAGE_DISQUALIFIED,
    HO_STAGE__COUNT
} ho_stage_t;

typedef struct {
    const char *event; /* qualify, decay, accept, reject_recycle, ... */
    ho_stage_t from;
    ho_stage_t to;
} ho_transition_t;

/* Canonical name ("MQL") of a stage; NULL when out of range. */
const char *ho_stage_name(ho_stage_t stage);
/* Stage of a canonical name (case-sensitive), or -1. */
int ho_stage_parse(const char *name);

/* The whole transition table. */
const ho_transition_t *ho_lifecycle_table(size_t *n_p);
/* True when event names a transition of the table (for any from-stage). */
bool ho_lifecycle_event_known(const char *event);
/* Where event takes a lead in stage from. HO_OK and *to_p, or HO_ERR_STATE (illegal, or
 * unknown event/stage) with err->message a full sentence. */
int ho_lifecycle_next(const char *from, const char *event, const char **to_p, ho_err_t *err);

/* The lifecycle event an outcome causes: accepted -> accept, rejected -> reject_recycle or
 * reject_disqualify (by disposition), sql -> convert_sql, opportunity -> open_opportunity,
 * won -> win, lost -> lose. NULL for an unknown outcome. */
const char *ho_lifecycle_outcome_event(const char *outcome, const char *disposition);

/* ---- sales stages derived from the outcome history ----
 * Outcomes are sorted by occurred_at, then outcome rank (accepted, rejected, sql,
 * opportunity, won, lost), then tiebreak (feedback id, else event id): the same set of
 * outcomes in any arrival order gives the same stages, flags and implied stages.
 * Funnel ranks: before sales (ML, MQL, RECYCLED, DISQUALIFIED) 0, SAL 1, SQL 2,
 * OPPORTUNITY 3, WON/LOST 4.
 *   - accepted/sql/opportunity/won move the lead forward to their stage; the stages skipped
 *     are implied (won straight from ML implies SAL, SQL and OPPORTUNITY), so funnels stay
 *     monotone. lost from before sales implies SAL.
 *   - rejected (from before sales or SAL) sends the lead back: RECYCLED, or DISQUALIFIED
 *     when its disposition is disqualify.
 *   - an outcome below the stage sales already took the lead to (accepted after sql, any
 *     outcome after won/lost, rejected after SQL) moves nothing and is flagged out_of_order.
 *   - any outcome dated before marketing first made the lead an MQL (or on a lead never
 *     MQL) is flagged sales_accepted_without_mql. */
#define HO_OFLAG_WITHOUT_MQL 1u  /* sales_accepted_without_mql */
#define HO_OFLAG_OUT_OF_ORDER 2u /* out_of_order */

typedef struct {
    /* in */
    const char *outcome;     /* accepted, rejected, sql, opportunity, won, lost */
    const char *disposition; /* rejected: "disqualify" or anything else (recycle) */
    int64_t occurred_at;
    const char *tiebreak; /* feedback_id, else event id */
    size_t ref;           /* the caller's index: steps are sorted in place */
    /* out */
    const char *stage_before, *stage_after; /* canonical names */
    unsigned flags;                         /* HO_OFLAG_* */
    bool moved;                             /* the stage changed at this outcome */
    int n_implied;                          /* implied stages just before this one */
    const char *implied[3];                 /* their outcomes: accepted, sql, opportunity */
} ho_outcome_step_t;

/* A stage move not made by sales (stage_history): marketing's model (applied when the lead
 * is in its from-stage at that time) or a CRM export (crm: applied when it moves the lead
 * forward). */
typedef struct {
    const char *from, *to;
    int64_t at;
    bool crm;
} ho_stage_move_t;

/* Derive the sales stages. moves: the lead's other moves, oldest first (the lead starts at
 * ML); a move at the same instant as an outcome comes first. first_mql_at: when marketing
 * first made it an MQL (INT64_MIN: never). Returns the lead's stage after everything, or
 * NULL when no outcome moved it (the lead keeps what the other moves made it). Unknown
 * outcomes are skipped (stage_before == stage_after, moved false). */
const char *ho_lifecycle_derive(ho_outcome_step_t *steps, size_t n, const ho_stage_move_t *moves,
                                size_t n_moves, int64_t first_mql_at);
/* "sales_accepted_without_mql,out_of_order" for flags (buf, cap); "" for 0. */
const char *ho_outcome_flags_text(unsigned flags, char *buf, size_t cap);

/* ---- display names (deploy/lifecycle.yaml) ---- */
typedef struct ho_lifecycle ho_lifecycle_t;
/* config_dir may be NULL (built-in copy). NULL with err naming file/line/key on error. */
ho_lifecycle_t *ho_lifecycle_load(const char *config_dir, ho_err_t *err);
void ho_lifecycle_destroy(ho_lifecycle_t **self_p);
/* Display name of a canonical stage name; the name itself when not configured. */
const char *ho_lifecycle_display(const ho_lifecycle_t *self, const char *stage);

#endif
