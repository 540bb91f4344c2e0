/* model_internal.h - the scoring model's parts shared by its loader (model_load.c: reads
 * and checks scoring.yaml) and its scorer (model.c: scores a lead snapshot). Not public. */
#ifndef HO_SCORE_MODEL_INTERNAL_H
#define HO_SCORE_MODEL_INTERNAL_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handoff/scoring.h"

/* Floors and ceilings stay within +-1e9 so fit + interest fits an int; sums are 64-bit. */
#define HO_SM_LIMIT 1000000000LL
/* Bounds that keep every sum far from overflow: rules per section, activities per lead. */
#define HO_SM_MAX_RULES 1000
#define HO_SM_MAX_ACTIVITIES 10000

#define HO_SM_N_TYPES 9 /* ho_sm_activity_types */

typedef enum { HO_SM_MATCH = 1, HO_SM_IN, HO_SM_EQUALS, HO_SM_RANGE, HO_SM_MISSING } ho_sm_test_t;
typedef enum { HO_SM_EQ_TEXT = 0, HO_SM_EQ_BOOL, HO_SM_EQ_NUM } ho_sm_eq_kind_t;

typedef struct {
    char *name;
    int group; /* index into the model's group names, -1 = none */
    long long points;
    bool disqualify;
    char **fields;
    size_t n_fields;
    ho_sm_test_t test;
    regex_t re;
    bool has_re;
    char *pattern;
    char **values;
    size_t n_values;
    ho_sm_eq_kind_t eq_kind;
    bool eq_bool;
    double eq_num;
    bool has_min, has_max;
    double min, max;
} ho_sm_fit_rule_t;

typedef struct {
    char *name;
    int group;
    long long points;
    bool decay;
    long long max_per_day; /* 0 = no cap */
    char **types;
    size_t n_types;
    unsigned type_mask; /* bit per ho_sm_activity_types index; 0 = any type */
    regex_t path, url, campaign;
    bool has_path, has_url, has_campaign;
} ho_sm_int_rule_t;

typedef enum { HO_SM_DECAY_NONE = 0, HO_SM_DECAY_HALF_LIFE, HO_SM_DECAY_STEP } ho_sm_decay_t;

struct ho_score_model {
    uint64_t serial; /* unique per loaded model in this process: keys the match memo */
    char *name;
    char *version;
    char **groups;
    size_t n_groups;
    ho_sm_fit_rule_t *fit;
    size_t n_fit;
    long long fit_floor, fit_ceiling;
    ho_sm_int_rule_t *irules;
    size_t n_int;
    long long int_floor, int_ceiling;
    int64_t window_ms; /* 0 = no window */
    ho_sm_decay_t decay;
    double half_life_days;
    double percent;
    long long every_days;
    char **cap_types;
    long long *cap_n;
    size_t n_caps;
    int cap_of_type[HO_SM_N_TYPES]; /* index into cap_types per activity type, -1 = none */
    long long fit_bands[3];
    long long int_bands[3];
    long long good_fit, high_interest;
    unsigned mql_quadrants; /* bit per quadrant, 0 = no quadrant condition */
    bool has_min_fit, has_min_interest, has_min_score;
    long long min_fit, min_interest, min_score;
};

static const char *const s_quadrants[] = {"mql_now", "group_offering", "nurture", "never", NULL};

/* The activity types the model knows, NULL-terminated; bit i of a type mask is type i. */
extern const char *const ho_sm_activity_types[HO_SM_N_TYPES + 1];
/* Index of an activity type in ho_sm_activity_types, -1 for a type the model does not know. */
int ho_sm_type_index(const char *type);
void ho_sm_strv_free(char **v, size_t n);
bool ho_sm_in_list(const char *const *list, const char *s);
/* Copy at most max bytes of in to out (which holds max + 4), never cutting a UTF-8 sequence,
 * and mark a cut with "...". Returns out. */
const char *ho_sm_clip(const char *in, size_t max, char *out);
/* After a snprintf that may have truncated: drop an incomplete UTF-8 sequence at the end. */
void ho_sm_utf8_tail(char *s);

/* snapshot.c: the view of a jansson snapshot (lead: an object), its arrays in mem (free
 * with ho_sm_jview_free, whatever the result). HO_OK or HO_ERR_NOMEM. */
typedef struct {
    ho_score_kv_t *top, *fields;
    ho_score_act_t *acts;
} ho_sm_jview_t;
int ho_sm_snap_from_json(const json_t *lead, ho_score_snap_t *snap, ho_sm_jview_t *mem);
void ho_sm_jview_free(ho_sm_jview_t *mem);

#endif
