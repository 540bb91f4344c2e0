/* demo.c - the seeded demo world; see demo.h
 *
 * Every person, company and event is a pure function of (seed, index): person i is drawn
 * from a PRNG seeded with (seed, "person", i), so a file can be written by walking the
 * indexes without holding the world in memory (the 1 GB benchmark file), and two runs with
 * the same seed and now write the same bytes. All names and domains are invented.
 *
 * This file is the driver (ho_demo_generate) and manifest.json; the world, the vocabulary
 * and each file's writer are in the files demo_internal.h lists. */
#include "connectors/demo/demo_internal.h"

/* ---- manifest bookkeeping ---- */

static json_t *s_count_json(const ho_demo_count_t *c)
{
    json_t *q = json_object();
    if (c->q_columns) {
        json_object_set_new(q, "bad_column_count", json_integer(c->q_columns));
    }
    if (c->q_json) {
        json_object_set_new(q, "bad_json", json_integer(c->q_json));
    }
    if (c->q_missing_email) {
        json_object_set_new(q, "missing_email", json_integer(c->q_missing_email));
    }
    if (c->q_bad_email) {
        json_object_set_new(q, "bad_email", json_integer(c->q_bad_email));
    }
    if (c->q_bad_date) {
        json_object_set_new(q, "bad_date", json_integer(c->q_bad_date));
    }
    if (c->q_type) {
        json_object_set_new(q, "unknown_activity_type", json_integer(c->q_type));
    }
    if (c->q_outcome) {
        json_object_set_new(q, "unknown_outcome", json_integer(c->q_outcome));
    }
    long total = c->q_columns + c->q_json + c->q_missing_email + c->q_bad_email + c->q_bad_date +
                 c->q_type + c->q_outcome;
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:o}", "profile", c->profile, "kind", c->kind,
                     "records", (json_int_t)c->records, "accepted", (json_int_t)c->accepted,
                     "quarantined", (json_int_t)total, "quarantined_by_reason", q);
}

/* Where dirty rows go: k evenly spread positions among n good rows, deterministic. */
long ho_demo_dirty_every(long n, long k)
{
    return k > 0 ? (n / (k + 1) > 0 ? n / (k + 1) : 1) : 0;
}

/* Which of the k dirty kinds goes before good row i (every from ho_demo_dirty_every;
 * *dirty_no counts the ones written), or -1 for none. */
int ho_demo_dirty_slot(long i, long every, long k, long *dirty_no)
{
    if (every && i > 0 && i % every == 0 && *dirty_no < k) {
        return (int)(*dirty_no)++;
    }
    return -1;
}

/* ---- driver ---- */
static bool s_wanted(const ho_demo_opts_t *o, const char *group)
{
    if (!o->only || !o->only[0]) {
        return true;
    }
    size_t gl = strlen(group);
    for (const char *p = o->only; *p;) {
        size_t n = strcspn(p, ",");
        if (n == gl && strncmp(p, group, n) == 0) {
            return true;
        }
        p += n;
        if (*p == ',') {
            p++;
        }
    }
    return false;
}

FILE *ho_demo_open(const char *dir, const char *name, char *path, size_t cap, ho_err_t *err)
{
    int len = snprintf(path, cap, "%s/%s", dir, name);
    if (len < 0 || (size_t)len >= cap) {
        ho_err_set(err, HO_ERR_IO, "", "%s/%s: path too long", dir, name);
        return NULL;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        ho_err_set(err, HO_ERR_IO, "", "%s: %s", path, strerror(errno));
    }
    return f;
}

int ho_demo_close(FILE *f, int wrc, const char *path, ho_err_t *err)
{
    int rc = fclose(f);
    if (wrc != 0 || rc != 0) {
        return ho_err_set(err, HO_ERR_IO, "", "%s: write failed", path);
    }
    return HO_OK;
}

/* What manifest.json says: per file, and the lead files imported together. */
typedef struct {
    json_t *files, *lead_files, *lead_reasons;
    long lead_read, lead_acc, lead_q;
} s_manifest_t;

/* The people behind the accepted lead records (seen[i]: bit per lead file that accepted
 * person i; the low three bits are the CSV exports). */
typedef struct {
    long distinct, hot, personal, students, nonprofits;
    long csv_distinct, csv_acc;
} s_people_count_t;

/* The demo world's files in manifest order; which picks the writer (s_write_one). */
static const struct {
    const char *group, *file, *profile, *kind;
    int which;
} s_plan[] = {
    {"hubspot", "hubspot_contacts.csv", "hubspot", "lead", 0},
    {"salesforce", "salesforce_leads.csv", "salesforce", "lead", 1},
    {"marketo", "marketo_leads.csv", "marketo", "lead", 2},
    {"webhooks", "form_webhooks.jsonl", "webhooks", "lead", 3},
    {"activities", "activities.csv", "activities", "activity", 4},
    {"feedback", "feedback.csv", "feedback", "feedback", 5},
};

static int s_write_one(const ho_demo_world_t *w, int which, FILE *f, ho_demo_count_t *c, char *seen)
{
    switch (which) {
    case 0:
        return ho_demo_write_hubspot(w, f, c, seen);
    case 1:
        return ho_demo_write_salesforce(w, f, c, seen);
    case 2:
        return ho_demo_write_marketo(w, f, c, seen);
    case 3:
        return ho_demo_write_webhooks(w, f, c, seen);
    case 4:
        return ho_demo_write_activities(w, f, c);
    default:
        return ho_demo_write_feedback(w, f, c);
    }
}

/* DIR/NAME as indented JSON (the document stays the caller's). */
static int s_write_json(const char *dir, const char *name, json_t *doc, ho_err_t *err)
{
    char path[4096];
    FILE *f = ho_demo_open(dir, name, path, sizeof path, err);
    if (!f) {
        return HO_ERR_IO;
    }
    int drc = json_dumpf(doc, f, JSON_INDENT(2));
    fputc('\n', f);
    return ho_demo_close(f, drc, path, err);
}

/* A lead file's counts into the totals of importing every lead file at once. */
static void s_add_lead_file(s_manifest_t *m, const char *file, const ho_demo_count_t *c, json_t *cj)
{
    json_array_append_new(m->lead_files, json_string(file));
    m->lead_read += c->records;
    m->lead_acc += c->accepted;
    const char *key;
    json_t *val;
    json_object_foreach(json_object_get(cj, "quarantined_by_reason"), key, val)
    {
        m->lead_q += (long)json_integer_value(val);
        json_int_t prev = json_integer_value(json_object_get(m->lead_reasons, key));
        json_object_set_new(m->lead_reasons, key, json_integer(prev + json_integer_value(val)));
    }
}

/* Every wanted file of the plan (and LinkedIn's form definitions with the webhooks). */
static int s_write_files(const ho_demo_world_t *w, char *seen, s_manifest_t *m, ho_err_t *err)
{
    const ho_demo_opts_t *o = w->o;
    char path[4096];
    int rc = HO_OK;
    for (size_t k = 0; k < N_OF(s_plan) && rc == HO_OK; k++) {
        if (!s_wanted(o, s_plan[k].group)) {
            continue;
        }
        ho_demo_count_t c = {
            s_plan[k].file, s_plan[k].profile, s_plan[k].kind, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        FILE *f = ho_demo_open(o->out_dir, s_plan[k].file, path, sizeof path, err);
        if (!f) {
            return HO_ERR_IO;
        }
        rc = ho_demo_close(f, s_write_one(w, s_plan[k].which, f, &c, seen), path, err);
        json_t *cj = s_count_json(&c);
        json_object_set_new(m->files, s_plan[k].file, cj);
        if (s_plan[k].which <= 3) {
            s_add_lead_file(m, s_plan[k].file, &c, cj);
        }
        if (s_plan[k].which == 3 && rc == HO_OK) {
            json_t *forms = ho_demo_linkedin_forms();
            rc = s_write_json(o->out_dir, "linkedin_lead_forms.json", forms, err);
            json_decref(forms);
        }
    }
    return rc;
}

static void s_count_people(const ho_demo_world_t *w, const char *seen, s_people_count_t *n)
{
    memset(n, 0, sizeof *n);
    for (long i = 0; i < w->o->leads; i++) {
        int csv_bits = seen[i] & 7;
        n->csv_distinct += csv_bits != 0;
        n->csv_acc += (csv_bits & 1) + ((csv_bits >> 1) & 1) + ((csv_bits >> 2) & 1);
        if (!seen[i]) {
            continue;
        }
        n->distinct++;
        ho_demo_person_t p;
        ho_demo_person(w, i, &p);
        n->hot += p.temp == 2 && p.kind == P_NORMAL;
        n->personal += p.kind == P_PERSONAL;
        n->students += p.kind == P_STUDENT;
        n->nonprofits += p.kind == P_NONPROFIT;
    }
}

/* manifest.json; takes the manifest's JSON (m's objects are consumed). */
static int s_write_manifest(const ho_demo_opts_t *o, s_manifest_t *mf, const s_people_count_t *n,
                            ho_err_t *err)
{
    char now[40];
    ho_demo_iso(o->now_ms, now, sizeof now);
    json_t *m = json_pack(
        "{s:s, s:I, s:s, s:I, s:o, s:{s:o, s:I, s:I, s:I, s:I, s:o}, s:{s:I, s:I, s:I, s:I}}",
        "generator", "handoff demo-data", "seed", (json_int_t)o->seed, "now", now, "people",
        (json_int_t)o->leads, "files", mf->files, "import_all_leads", "files", mf->lead_files,
        "read", (json_int_t)mf->lead_read, "accepted", (json_int_t)mf->lead_acc, "duplicates",
        (json_int_t)(mf->lead_acc - n->distinct), "quarantined", (json_int_t)mf->lead_q,
        "quarantined_by_reason", mf->lead_reasons, "people_in_lead_files", "distinct_emails",
        (json_int_t)n->distinct, "hot", (json_int_t)n->hot, "personal_email",
        (json_int_t)n->personal, "students", (json_int_t)n->students);
    json_object_set_new(json_object_get(m, "people_in_lead_files"), "nonprofits",
                        json_integer(n->nonprofits));
    /* the three CSV lead exports alone (no webhooks) in one command */
    json_object_set_new(m, "import_csv_leads",
                        json_pack("{s:[sss], s:I, s:I}", "files", "hubspot_contacts.csv",
                                  "salesforce_leads.csv", "marketo_leads.csv", "accepted",
                                  (json_int_t)n->csv_acc, "duplicates",
                                  (json_int_t)(n->csv_acc - n->csv_distinct)));
    int rc = s_write_json(o->out_dir, "manifest.json", m, err);
    json_decref(m);
    return rc;
}

int ho_demo_generate(const ho_demo_opts_t *opts, ho_err_t *err)
{
    ho_demo_opts_t o = *opts;
    if (o.leads <= 0) {
        o.leads = 600;
    }
    if (!o.now_ms) {
        o.now_ms = HO_DEMO_NOW_DEFAULT;
    }
    if (mkdir(o.out_dir, 0755) != 0 && errno != EEXIST) {
        return ho_err_set(err, HO_ERR_IO, "", "%s: %s", o.out_dir, strerror(errno));
    }
    ho_demo_world_t w = {&o, o.leads / 4 > 12 ? o.leads / 4 : 12};
    if (w.n_companies > 20000) {
        w.n_companies = 20000;
    }
    char *seen = calloc((size_t)o.leads, 1);
    if (!seen) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    s_manifest_t m = {json_object(), json_array(), json_object(), 0, 0, 0};
    int rc = s_write_files(&w, seen, &m, err);
    s_people_count_t people;
    s_count_people(&w, seen, &people);
    free(seen);
    if (rc == HO_OK) {
        rc = s_write_manifest(&o, &m, &people, err);
    } else {
        json_decref(m.files);
        json_decref(m.lead_files);
        json_decref(m.lead_reasons);
    }
    return rc;
}
