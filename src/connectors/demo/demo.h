/*
 * demo.h - the seeded demo-data generator (`handoff demo-data`).
 *
 * Writes the project's own demo world in the real export formats (HubSpot contacts,
 * Salesforce leads, Marketo leads, activities, form webhooks, LinkedIn form definitions,
 * sales feedback) plus manifest.json with the exact counts a correct import must report.
 * Deterministic: the same seed and now give byte-identical files (own PRNG, no clock).
 */
#ifndef HO_DEMO_H
#define HO_DEMO_H

#include <stdint.h>

#include "handoff/msg.h"

typedef struct {
    uint64_t seed;
    int64_t now_ms; /* end of the 12-week window (default 2026-11-23T00:00:00Z) */
    long leads;     /* people in the world (default 600) */
    const char *out_dir;
    const char *config_dir; /* where reps.csv is looked up (NULL: built-in copy) */
    const char *only;       /* comma list of file groups: hubspot,salesforce,marketo,
                               activities,webhooks,feedback; NULL = all */
} ho_demo_opts_t;

#define HO_DEMO_NOW_DEFAULT 1795392000000LL /* 2026-11-23T00:00:00Z */

int ho_demo_generate(const ho_demo_opts_t *opts, ho_err_t *err);

/* The realistic corpus (issue 12): every lead source in its real export format with the dirt
 * of real data planted in it, activities heavy-tailed over people, a dozen reps' feedback in
 * their own zones. Streaming (flat memory); the same options give byte-identical files. */
typedef struct {
    uint64_t seed;
    int64_t now_ms;     /* end of the window (0: HO_DEMO_NOW_DEFAULT) */
    long people;        /* persons behind the lead sources */
    long activities;    /* activity rows, about (dirty rows and re-sends come on top) */
    long feedback;      /* feedback rows, about */
    int activity_files; /* activities_NN.csv parts (0: 3) */
    const char *out_dir;
} ho_demo_corpus_opts_t;

int ho_demo_corpus(const ho_demo_corpus_opts_t *opts, ho_err_t *err);

/* Feedback simulation: outcomes of the reps the store assigned (read-only SQLite at db_path),
 * written as feedback.csv to out_path. *rows_p = rows written. */
int ho_demo_feedback(const char *db_path, uint64_t seed, int64_t now_ms, const char *out_path,
                     long *rows_p, ho_err_t *err);

#endif
