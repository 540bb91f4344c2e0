/* demo_internal.h - what the files of the demo-data generator share (demo.c, demo_vocab.c,
 * demo_world.c, demo_leads.c, demo_webhooks.c, demo_activities.c, demo_feedback.c,
 * demo_corpus.c, demo_corpus_events.c): the seeded PRNG, the vocabulary, the world's
 * people and companies, the CSV row writer and the per-file writers. Not public. */
#ifndef HO_DEMO_INTERNAL_H
#define HO_DEMO_INTERNAL_H

#include "connectors/demo/demo.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "handoff/csvio.h"
#include "handoff/defaults.h"
#include "handoff/tz.h"

#define DAY 86400000LL
#define HOUR 3600000LL
#define WINDOW (84 * DAY)
/* people appear over two more weeks than the report's 12: the first report week then has
 * leads that qualify in it, as any week of a going concern does */
#define HISTORY (WINDOW + 14 * DAY)

/* ---- PRNG: splitmix64 ---- */
typedef struct {
    uint64_t s;
} ho_demo_rng_t;

static inline uint64_t ho_demo_next(ho_demo_rng_t *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline ho_demo_rng_t ho_demo_rng(uint64_t seed, uint64_t tag, uint64_t i, uint64_t k)
{
    ho_demo_rng_t r = {seed ^ (tag * 0xD6E8FEB86659FD93ULL)};
    r.s ^= ho_demo_next(&r) + i * 0x9E3779B97F4A7C15ULL;
    r.s ^= ho_demo_next(&r) + k * 0xC2B2AE3D27D4EB4FULL;
    ho_demo_next(&r);
    return r;
}

static inline uint64_t ho_demo_below(ho_demo_rng_t *r, uint64_t n)
{
    return n ? ho_demo_next(r) % n : 0;
}

static inline double ho_demo_unit(ho_demo_rng_t *r)
{
    return (double)(ho_demo_next(r) >> 11) / 9007199254740992.0;
}

static inline bool ho_demo_chance(ho_demo_rng_t *r, double p)
{
    return ho_demo_unit(r) < p;
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(r, a) ((a)[ho_demo_below((r), N_OF(a))])

enum { T_PERSON = 1, T_COMPANY, T_ACT, T_FILE, T_DIRTY, T_FEEDBACK, T_SIM };

typedef struct {
    const char *hubspot;    /* HubSpot industry label */
    const char *salesforce; /* Salesforce picklist value */
    const char *sector[3];  /* words for company names */
} ho_demo_industry_t;

#define IND_NONPROFIT 100
#define IND_EDU 101

typedef struct {
    const char *code;
    const char *names[3]; /* how exports write it: [0] English name, [1] alias, [2] native */
    const char *tld;
    const char *legal[2];
    int weight;
} ho_demo_country_t;

typedef struct {
    const char *code, *name, *city, *phone_prefix;
} ho_demo_state_t;

/* ---- the world ---- */
typedef enum { P_NORMAL = 0, P_PERSONAL, P_STUDENT, P_NONPROFIT } ho_demo_pkind_t;
typedef enum { F_HUBSPOT = 0, F_SALESFORCE, F_MARKETO, F_WEBHOOK, F_NFILES } ho_demo_file_t;
typedef enum { W_FACEBOOK = 0, W_LINKEDIN, W_HSFORM, W_TYPEFORM } ho_demo_wshape_t;

typedef struct {
    long company;
    int industry; /* index into ho_demo_industries, or IND_NONPROFIT / IND_EDU */
    int country;  /* index into ho_demo_countries */
    int state;    /* index into ho_demo_us_states (US only), else -1 */
    int city;
    long employees;
    long long revenue; /* 0 = unknown */
    char name[200];
    char domain[200];
} ho_demo_company_t;

typedef struct {
    long i;
    ho_demo_pkind_t kind;
    int temp;     /* 2 hot, 1 warm, 0 cold */
    bool at_work; /* P_PERSONAL: names a real employer; P_STUDENT: an intern at one */
    char first[48], last[48];
    char email[384];
    char title[64];
    ho_demo_company_t co;
    int64_t created_at;
    bool in_file[F_NFILES];
    ho_demo_wshape_t shape;
    int64_t file_created[F_NFILES];
} ho_demo_person_t;

typedef struct {
    const ho_demo_opts_t *o;
    long n_companies;
} ho_demo_world_t;

/* A CSV line writer: fields joined by commas, RFC 4180 quoting. */
typedef struct {
    FILE *f;
    bool first;
    bool all_quoted;
    const char *eol;
} ho_demo_csvw_t;

/* ---- manifest bookkeeping ---- */
typedef struct {
    const char *file;
    const char *profile;
    const char *kind;
    long records, accepted;
    long q_missing_email, q_bad_email, q_bad_date, q_columns, q_type, q_json, q_outcome;
} ho_demo_count_t;

typedef struct {
    int64_t at;
    const char *type;
    char id[64];
    char url[200];
    const char *campaign, *asset, *system;
    char attrs[400];
} ho_demo_activity_t;

enum { T_CP_SRC = 40, T_CP_DIRT, T_CP_ACT, T_CP_FB, T_CP_WH, T_CP_W };

#define CP_NREPS 12
#define CP_MAX_PARTS 16

typedef struct {
    const char *id, *name, *email, *region, *countries, *states, *segments, *emin, *emax, *cap, *tz,
        *ooo, *ooo_start, *ooo_end, *backup;
} ho_demo_cp_rep_t;

/* Stage of a person's first CRM record (what the export says), before the file's wording. */
typedef enum { CP_ML = 0, CP_MQL, CP_SAL, CP_SQL, CP_OPP, CP_WON, CP_DISQ } ho_demo_cp_stage_t;

typedef struct {
    ho_demo_opts_t wo; /* the demo world's options (seed, now, people) for ho_demo_person */
    ho_demo_world_t w;
    const ho_demo_corpus_opts_t *o;
    ho_tz_t *tz[CP_NREPS];
    double act_weight_sum;
    long act_seq; /* numbering of Marketo and ON24 activity ids: unique by construction */
} ho_demo_cp_t;

typedef struct {
    ho_demo_person_t p;
    ho_demo_file_t primary;
    ho_demo_cp_stage_t stage;
    bool owned;
    int rep; /* index into ho_demo_cp_reps */
    bool second_form;
} ho_demo_cp_person_t;

/* What kind of dirty row, if any, goes before person i in a file (about 1 in 60 each). */
typedef enum {
    D_NONE = 0,
    D_MISSING_EMAIL,
    D_BLANK_EMAIL,
    D_BAD_EMAIL,
    D_BAD_DATE,
    D_CP1252,
    D_FEW_FIELDS,
    D_MANY_FIELDS,
    D_N
} ho_demo_cp_dirt_t;

typedef struct {
    FILE *part[CP_MAX_PARTS];
    int nparts;
} ho_demo_cp_parts_t;

/* ---- demo_vocab.c ---- */
extern const char *const ho_demo_first[80];
extern const char *const ho_demo_last[80];
extern const char *const ho_demo_words[48];
extern const ho_demo_industry_t ho_demo_industries[12];
extern const ho_demo_country_t ho_demo_countries[20];
extern const ho_demo_state_t ho_demo_us_states[18];
extern const char *const ho_demo_cities[20][3];
extern const char *const ho_demo_phone_prefix[20];
extern const char *const ho_demo_title_hot[9];
extern const char *const ho_demo_title_mid[10];
extern const char *const ho_demo_title_cold[8];
extern const char *const ho_demo_title_student[4];
extern const char *const ho_demo_title_personal[4];
extern const char *const ho_demo_title_intern[4];
extern const char *const ho_demo_personal_domains[8];
extern const char *const ho_demo_hs_sources[10][2];
extern const char *const ho_demo_sf_sources[7];
extern const char *const ho_demo_mk_sources[8];
extern const char *const ho_demo_conversions[6];
extern const char *const ho_demo_messages_hot[4];
extern const char *const ho_demo_messages_cold[5];

/* ---- demo_world.c ---- */
void ho_demo_company(const ho_demo_world_t *w, long c, ho_demo_company_t *co);
void ho_demo_person(const ho_demo_world_t *w, long i, ho_demo_person_t *p);
void ho_demo_email_variant(ho_demo_rng_t *r, const char *email, char *out, size_t cap);
void ho_demo_fmt_time(int64_t ms, const char *fmt, char *out, size_t cap);
void ho_demo_iso(int64_t ms, char *out, size_t cap);
const char *ho_demo_hs_bucket(long n);
const char *ho_demo_industry_hs(const ho_demo_person_t *p);
const char *ho_demo_industry_sf(const ho_demo_person_t *p);
const char *ho_demo_city(const ho_demo_person_t *p);
void ho_demo_phone(ho_demo_rng_t *r, const ho_demo_person_t *p, char *out, size_t cap);
void ho_demo_cell(ho_demo_csvw_t *w, const char *s);
void ho_demo_cellf(ho_demo_csvw_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ho_demo_endrow(ho_demo_csvw_t *w);
/* n cells then the end of the row: an export's header line */
void ho_demo_row(ho_demo_csvw_t *w, const char *const *v, size_t n);
/* doc (stolen) as one compact JSON line; nothing when it cannot be written */
void ho_demo_json_line(FILE *f, json_t *doc);

/* ---- demo.c ---- */
long ho_demo_dirty_every(long n, long k);
int ho_demo_dirty_slot(long i, long every, long k, long *dirty_no);
FILE *ho_demo_open(const char *dir, const char *name, char *path, size_t cap, ho_err_t *err);
int ho_demo_close(FILE *f, int wrc, const char *path, ho_err_t *err);

/* ---- demo_leads.c ---- */
extern const char *const ho_demo_hubspot_cols[26];
extern const char *const ho_demo_salesforce_cols[21];
extern const char *const ho_demo_marketo_cols[18];
int ho_demo_write_hubspot(const ho_demo_world_t *w, FILE *f, ho_demo_count_t *c, char *seen);
void ho_demo_sf_id(ho_demo_rng_t *r, const char *prefix, char *out);
int ho_demo_write_salesforce(const ho_demo_world_t *w, FILE *f, ho_demo_count_t *c, char *seen);
int ho_demo_write_marketo(const ho_demo_world_t *w, FILE *f, ho_demo_count_t *c, char *seen);

/* ---- demo_webhooks.c ---- */
json_t *ho_demo_linkedin_forms(void);
json_t *ho_demo_webhook(const ho_demo_person_t *p, ho_demo_rng_t *r, const char *email);
int ho_demo_write_webhooks(const ho_demo_world_t *w, FILE *f, ho_demo_count_t *c, char *seen);

/* ---- demo_activities.c ---- */
void ho_demo_activity(const ho_demo_world_t *w, const ho_demo_person_t *p, int k,
                      ho_demo_activity_t *a);
int ho_demo_write_activities(const ho_demo_world_t *w, FILE *f, ho_demo_count_t *c);

/* ---- demo_feedback.c ---- */
int ho_demo_write_feedback(const ho_demo_world_t *w, FILE *f, ho_demo_count_t *c);

/* ---- demo_corpus.c ---- */
extern const ho_demo_cp_rep_t ho_demo_cp_reps[CP_NREPS];
void ho_demo_cp_person(const ho_demo_cp_t *cp, long i, ho_demo_cp_person_t *cpp);
void ho_demo_cp_ghost_email(const ho_demo_cp_t *cp, long i, char *out, size_t cap);
void ho_demo_cp_email(ho_demo_rng_t *r, const char *email, char *out, size_t cap);
extern const char *const ho_demo_cp_bad_emails[12];
extern const char *const ho_demo_cp_bad_dates[6];
ho_demo_cp_dirt_t ho_demo_cp_dirt(const ho_demo_cp_t *cp, long i, int file);
void ho_demo_cp_emit(ho_demo_csvw_t *cw, const char **v, int n, ho_demo_cp_dirt_t dirt, int i_email,
                     int i_date, int i_text, ho_demo_rng_t *r);

/* ---- demo_corpus_events.c ---- */
int ho_demo_cp_webhooks(const ho_demo_cp_t *cp, FILE *f);
double ho_demo_cp_act_weight(const ho_demo_cp_t *cp, long i);
int ho_demo_cp_activities(ho_demo_cp_t *cp, ho_demo_cp_parts_t *parts);
int ho_demo_cp_feedback(const ho_demo_cp_t *cp, FILE *f);
int ho_demo_cp_reps_file(const ho_demo_cp_t *cp, FILE *f);

#endif
