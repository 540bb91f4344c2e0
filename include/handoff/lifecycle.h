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
 * would be legal). Stored stage values are the canonical names; display names come from
 * deploy/lifecycle.yaml.
 */
#ifndef HO_LIFECYCLE_H
#define HO_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>

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

/* ---- display names (deploy/lifecycle.yaml) ---- */
typedef struct ho_lifecycle ho_lifecycle_t;
/* config_dir may be NULL (built-in copy). NULL with err naming file/line/key on error. */
ho_lifecycle_t *ho_lifecycle_load(const char *config_dir, ho_err_t *err);
void ho_lifecycle_destroy(ho_lifecycle_t **self_p);
/* Display name of a canonical stage name; the name itself when not configured. */
const char *ho_lifecycle_display(const ho_lifecycle_t *self, const char *stage);

#endif
