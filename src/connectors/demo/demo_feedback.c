/* demo_feedback.c - sales feedback: the demo world's initial feedback.csv, and ho_demo_feedback
 * (outcomes simulated from the store's database); see demo_internal.h */
#include "connectors/demo/demo_internal.h"

#include "handoff/reader.h"

/* ---- feedback (initial demo log: reps chosen by territory from reps.csv) ---- */
typedef struct {
    char id[16];
    char countries[200];
    char states[400];
    long emin, emax;
} s_rep_t;

static int s_load_reps(const char *config_dir, s_rep_t **reps_p, size_t *n_p)
{
    *reps_p = NULL;
    *n_p = 0;
    size_t len;
    char from[256];
    ho_err_t err;
    char *text = ho_file_load_named(config_dir, "reps.csv", &len, from, sizeof from, &err);
    if (!text) {
        return -1;
    }
    ho_csv_t *csv = ho_csv_open_mem(text, len, NULL, &err);
    const ho_csv_row_t *row;
    int col_id = -1, col_c = -1, col_s = -1, col_min = -1, col_max = -1;
    s_rep_t *reps = NULL;
    size_t n = 0;
    bool header = true;
    while (csv && ho_csv_next(csv, &row, &err) == 1) {
        if (header) {
            for (size_t k = 0; k < row->n; k++) {
                const char *h = row->fields[k];
                if (!strcmp(h, "rep_id")) {
                    col_id = (int)k;
                } else if (!strcmp(h, "countries")) {
                    col_c = (int)k;
                } else if (!strcmp(h, "us_states")) {
                    col_s = (int)k;
                } else if (!strcmp(h, "employee_min")) {
                    col_min = (int)k;
                } else if (!strcmp(h, "employee_max")) {
                    col_max = (int)k;
                }
            }
            header = false;
            continue;
        }
        if (col_id < 0 || col_c < 0 || (size_t)col_id >= row->n || (size_t)col_c >= row->n) {
            continue;
        }
        s_rep_t *g = realloc(reps, (n + 1) * sizeof *g);
        if (!g) {
            break;
        }
        reps = g;
        s_rep_t *rep = &reps[n++];
        memset(rep, 0, sizeof *rep);
        snprintf(rep->id, sizeof rep->id, "%s", row->fields[col_id]);
        snprintf(rep->countries, sizeof rep->countries, ";%s;", row->fields[col_c]);
        if (col_s >= 0 && (size_t)col_s < row->n && row->fields[col_s][0]) {
            snprintf(rep->states, sizeof rep->states, ";%s;", row->fields[col_s]);
        }
        rep->emin = col_min >= 0 && (size_t)col_min < row->n ? atol(row->fields[col_min]) : 0;
        rep->emax = col_max >= 0 && (size_t)col_max < row->n && row->fields[col_max][0]
                        ? atol(row->fields[col_max])
                        : 0;
    }
    ho_csv_destroy(&csv);
    free(text);
    *reps_p = reps;
    *n_p = n;
    return 0;
}

static const char *s_rep_for(const s_rep_t *reps, size_t n, const ho_demo_person_t *p)
{
    char cc[8], st[8];
    snprintf(cc, sizeof cc, ";%s;", ho_demo_countries[p->co.country].code);
    snprintf(st, sizeof st, ";%s;", p->co.state >= 0 ? ho_demo_us_states[p->co.state].code : "");
    for (size_t k = 0; k < n; k++) {
        if (!strstr(reps[k].countries, cc)) {
            continue;
        }
        if (reps[k].states[0] && !strstr(reps[k].states, st)) {
            continue;
        }
        long e = p->co.employees ? p->co.employees : 1;
        if ((reps[k].emin && e < reps[k].emin) || (reps[k].emax && e > reps[k].emax)) {
            continue;
        }
        return reps[k].id;
    }
    return NULL;
}

/* What reps answer, weighted. A rejection mostly says the lead should not have reached sales
 * (marketing's codes), sometimes that the moment is wrong (sales'); a loss after acceptance is
 * sales' own. "unspecified" is the rep choosing not to say: a blank reason would be refused. */
typedef struct {
    const char *code;
    int weight;
    const char *note;
} s_why_t;

static const s_why_t s_reject_why[] = {
    {"not_a_fit", 30, "Three pipelines in total, far below our floor"},
    {"bad_contact_data", 22, "Phone number dead and the email bounced"},
    {"no_decision_maker", 14, "Researching for their manager, no project of their own"},
    {"timing", 14, "Interested, but not before next budget year"},
    {"budget", 8, ""},
    {"unresponsive", 7, "No reply to three calls and two emails"},
    {"unspecified", 5, ""},
};
static const s_why_t s_lost_sal_why[] = {
    {"unresponsive", 30, "Went dark after the first call"},
    {"no_decision_maker", 22, "Our contact cannot sign, the buyer will not meet"},
    {"timing", 18, "Platform migration first, back in two quarters"},
    {"budget", 12, "Budget frozen until next FY"},
    {"not_a_fit", 10, "Needs on-prem only"},
    {"unspecified", 8, ""},
};
static const s_why_t s_lost_deal_why[] = {
    {"competitor", 34, "Chose an open-source stack"},
    {"budget", 22, "Budget frozen until next FY"},
    {"timing", 20, "Pushed to next fiscal year"},
    {"unresponsive", 10, "Went dark after the demo"},
    {"no_decision_maker", 8, "Champion left the company"},
    {"unspecified", 6, ""},
};
static const char *const s_notes_accept[] = {"Accepted - calling Thursday",
                                             "Inbound demo request, real project", "",
                                             "Good fit, booked discovery"};

static const s_why_t *s_pick_why(ho_demo_rng_t *r, const s_why_t *list, size_t n)
{
    int total = 0;
    for (size_t k = 0; k < n; k++) {
        total += list[k].weight;
    }
    int x = (int)ho_demo_below(r, (uint64_t)total);
    for (size_t k = 0; k < n; k++) {
        if (x < list[k].weight) {
            return &list[k];
        }
        x -= list[k].weight;
    }
    return &list[0];
}
#define PICK_WHY(r, a) s_pick_why((r), (a), N_OF(a))

typedef struct {
    int64_t at;
    long seq;
    char id[48]; /* "" = numbered in time order when written */
    char *text;  /* the row after its id, without the line end */
} s_fb_line_t;

/* Rows are collected and written sorted by time, like a real outcome log. */
typedef struct {
    FILE *f;
    long rows;
    long seq;
    uint64_t seed;
    s_fb_line_t *lines;
    size_t n, cap;
    const char *tag; /* simulation: ids SIM-<tag>-<step>, stable across runs */
    int step;
} s_fb_t;

static void s_fb_row(s_fb_t *fb, const char *email, const char *rep, const char *outcome,
                     const char *reason, int64_t at, const char *notes, double amount)
{
    char when[40], amt[32] = "";
    ho_demo_iso(at, when, sizeof when);
    if (amount > 0) {
        snprintf(amt, sizeof amt, "%.0f", amount);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) {
        return;
    }
    ho_demo_csvw_t cw = {mem, false, false, "\n"};
    ho_demo_cell(&cw, email);
    ho_demo_cell(&cw, rep);
    ho_demo_cell(&cw, outcome);
    ho_demo_cell(&cw, reason);
    ho_demo_cell(&cw, when);
    ho_demo_cell(&cw, notes);
    ho_demo_cell(&cw, amt);
    fclose(mem);
    if (fb->n == fb->cap) {
        size_t cap = fb->cap ? fb->cap * 2 : 256;
        s_fb_line_t *g = realloc(fb->lines, cap * sizeof *g);
        if (!g) {
            free(buf);
            return;
        }
        fb->lines = g;
        fb->cap = cap;
    }
    s_fb_line_t *ln = &fb->lines[fb->n++];
    ln->at = at;
    ln->seq = fb->seq++;
    ln->text = buf;
    ln->id[0] = '\0';
    if (fb->tag) {
        snprintf(ln->id, sizeof ln->id, "SIM-%.30s-%d", fb->tag, ++fb->step);
    }
    fb->rows++;
}

static int s_cmp_fb(const void *a, const void *b)
{
    const s_fb_line_t *x = a, *y = b;
    if (x->at != y->at) {
        return x->at < y->at ? -1 : 1;
    }
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void s_fb_flush(s_fb_t *fb)
{
    qsort(fb->lines, fb->n, sizeof *fb->lines, s_cmp_fb);
    for (size_t k = 0; k < fb->n; k++) {
        if (fb->lines[k].id[0]) {
            fprintf(fb->f, "%s%s\n", fb->lines[k].id, fb->lines[k].text);
        } else {
            fprintf(fb->f, "NWF-%05zu%s\n", k + 1, fb->lines[k].text);
        }
        free(fb->lines[k].text);
    }
    free(fb->lines);
    fb->lines = NULL;
    fb->n = fb->cap = 0;
}

/* One lead's outcome history, from the stage it is in (1 MQL, 2 SAL, 3 SQL, 4 OPPORTUNITY)
 * at `since` on, each outcome legal from the stage the previous one left it in; stops at now.
 * grade: the lead's fit letter ('A'..'D'); kind: 0 a company lead, 1 personal mailbox,
 * 2 student or intern, 3 non-profit. */
static void s_fb_story(s_fb_t *fb, ho_demo_rng_t *r, const char *email, const char *rep, char grade,
                       int kind, int stage, int64_t since, int64_t now)
{
    int g = grade == 'A' ? 0 : grade == 'B' ? 1 : grade == 'C' ? 2 : 3;
    int64_t t = since;
    if (stage == 1) {
        /* time to the first answer: mostly within the hour or the day, some days late */
        double u = ho_demo_unit(r);
        t += u < 0.45   ? 10 * 60000 + (int64_t)ho_demo_below(r, 3 * HOUR)
             : u < 0.85 ? 3 * HOUR + (int64_t)ho_demo_below(r, 21 * HOUR)
                        : DAY + (int64_t)ho_demo_below(r, 3 * DAY);
        t -= t % 1000;
        if (t >= now || ho_demo_chance(r, 0.04)) {
            return; /* not worked yet */
        }
        static const double reject_p[] = {0.16, 0.26, 0.38, 0.5};
        if (ho_demo_chance(r, kind ? 0.85 : reject_p[g])) {
            const s_why_t *why = PICK_WHY(r, s_reject_why);
            const char *code = kind == 1   ? "personal_email"
                               : kind == 2 ? "student_or_intern"
                               : kind == 3 ? "nonprofit_no_budget"
                                           : why->code;
            s_fb_row(fb, email, rep, "rejected", code, t, kind ? "" : why->note, 0);
            return;
        }
        s_fb_row(fb, email, rep, "accepted", "", t, PICK(r, s_notes_accept), 0);
        stage = 2;
    }
    if (stage == 2) {
        t += DAY + (int64_t)ho_demo_below(r, 8 * DAY);
        if (t >= now) {
            return;
        }
        static const double sql_p[] = {0.5, 0.4, 0.28, 0.18};
        if (!ho_demo_chance(r, sql_p[g])) {
            if (ho_demo_chance(r, 0.8)) {
                const s_why_t *why = PICK_WHY(r, s_lost_sal_why);
                s_fb_row(fb, email, rep, "lost", why->code, t, why->note, 0);
            }
            return; /* lost, or still being worked */
        }
        s_fb_row(fb, email, rep, "sql", "", t, "Champion identified, security review next", 0);
        stage = 3;
    }
    if (stage == 3) {
        t += 2 * DAY + (int64_t)ho_demo_below(r, 8 * DAY);
        if (t >= now) {
            return;
        }
        if (!ho_demo_chance(r, 0.75)) {
            const s_why_t *why = PICK_WHY(r, s_lost_deal_why);
            s_fb_row(fb, email, rep, "lost", why->code, t, why->note, 0);
            return;
        }
        s_fb_row(fb, email, rep, "opportunity", "", t, "Opportunity created, stage 2", 0);
        stage = 4;
    }
    if (stage == 4) {
        t += 5 * DAY + (int64_t)ho_demo_below(r, 25 * DAY);
        if (t >= now || ho_demo_chance(r, 0.12)) {
            return; /* still open */
        }
        if (ho_demo_chance(r, 0.5)) {
            double base = g == 0 ? 30000.0 : 12000.0;
            s_fb_row(fb, email, rep, "won", "", t, "Signed annual plan",
                     base + (double)ho_demo_below(r, 70) * 1000.0);
        } else {
            const s_why_t *why = PICK_WHY(r, s_lost_deal_why);
            s_fb_row(fb, email, rep, "lost", why->code, t, why->note, 0);
        }
    }
}

int ho_demo_write_feedback(const ho_demo_world_t *w, FILE *f, ho_demo_count_t *c)
{
    s_rep_t *reps;
    size_t nreps;
    s_load_reps(w->o->config_dir, &reps, &nreps);
    fputs("feedback_id,lead_email,rep_id,outcome,reason,occurred_at,notes,amount\n", f);
    s_fb_t fb = {f, 0, 0, w->o->seed, NULL, 0, 0, NULL, 0};
    for (long i = 0; i < w->o->leads; i++) {
        ho_demo_person_t p;
        ho_demo_person(w, i, &p);
        if (p.temp == 0 && p.kind == P_NORMAL) {
            continue;
        }
        const char *rep = s_rep_for(reps, nreps, &p);
        if (!rep) {
            continue;
        }
        ho_demo_rng_t r = ho_demo_rng(w->o->seed, T_FEEDBACK, (uint64_t)i, 0);
        if (!ho_demo_chance(&r, p.temp == 2 ? 0.9 : 0.35)) {
            continue;
        }
        int64_t assigned = p.created_at + HOUR + (int64_t)ho_demo_below(&r, 3 * DAY);
        char email[512];
        ho_demo_email_variant(&r, p.email, email, sizeof email);
        s_fb_story(&fb, &r, email, rep, p.temp == 2 ? 'A' : 'C',
                   p.kind == P_PERSONAL    ? 1
                   : p.kind == P_STUDENT   ? 2
                   : p.kind == P_NONPROFIT ? 3
                                           : 0,
                   1, assigned, w->o->now_ms);
    }
    /* one row the feedback worker must refuse: an outcome code nobody defined */
    s_fb_row(&fb, "horatio.yardley@osprey-health.com", nreps ? reps[0].id : "R01", "maybe_later",
             "", w->o->now_ms - 2 * DAY, "", 0);
    s_fb_flush(&fb);
    c->records = fb.rows;
    c->accepted = fb.rows - 1;
    c->q_outcome = 1;
    free(reps);
    return ferror(f) ? -1 : 0;
}

/* The funnel step a rep answers a lead from (1 MQL .. 4 OPPORTUNITY), 0 for none. A lead
 * the CRM gave an owner is worked by that owner although marketing never qualified it. */
static int s_sim_stage(const char *stage_name, bool crm_owned)
{
    static const char *const open_stages[] = {"MQL", "SAL", "SQL", "OPPORTUNITY"};
    for (int k = 0; stage_name && k < 4; k++) {
        if (strcmp(stage_name, open_stages[k]) == 0) {
            return k + 1;
        }
    }
    return crm_owned && stage_name && strcmp(stage_name, "ML") == 0 ? 1 : 0;
}

int ho_demo_feedback(const char *db_path, uint64_t seed, int64_t now_ms, const char *out_path,
                     long *rows_p, ho_err_t *err)
{
    *rows_p = 0;
    if (!now_ms) {
        now_ms = HO_DEMO_NOW_DEFAULT;
    }
    ho_reader_t *db = ho_reader_open(db_path, 5000, err);
    if (!db) {
        return err ? err->code : HO_ERR_IO;
    }
    sqlite3_stmt *st = NULL;
    if (ho_reader_stmt(db, HO_RQ_DEMO_FEEDBACK_OWNERS, &st, NULL) != HO_OK) {
        int rc = ho_err_set(err, HO_ERR_IO, "", "%s: %s (is it a handoff store?)", db_path,
                            ho_reader_errmsg(db));
        ho_reader_destroy(&db);
        return rc;
    }
    sqlite3_bind_int64(st, 1, now_ms);
    FILE *f = fopen(out_path, "wb");
    if (!f) {
        ho_reader_destroy(&db);
        return ho_err_set(err, HO_ERR_IO, "", "%s: %s", out_path, strerror(errno));
    }
    fputs("feedback_id,lead_email,rep_id,outcome,reason,occurred_at,notes,amount\n", f);
    s_fb_t fb = {f, 0, 0, seed, NULL, 0, 0, NULL, 0};
    long long last_lead = -1;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        long long lead = sqlite3_column_int64(st, 0);
        if (lead == last_lead) {
            continue;
        }
        last_lead = lead;
        const char *email = (const char *)sqlite3_column_text(st, 1);
        const char *rep = (const char *)sqlite3_column_text(st, 2);
        int64_t assigned = sqlite3_column_int64(st, 3);
        bool personal = sqlite3_column_int(st, 4) != 0;
        const char *grade = (const char *)sqlite3_column_text(st, 5);
        const char *title = (const char *)sqlite3_column_text(st, 6);
        if (!email || !rep) {
            continue;
        }
        const char *group = (const char *)sqlite3_column_text(st, 7);
        const char *stage_name = (const char *)sqlite3_column_text(st, 8);
        int64_t entered = sqlite3_column_int64(st, 9);
        bool crm_owned = sqlite3_column_int(st, 10) != 0;
        int stage = s_sim_stage(stage_name, crm_owned);
        if (stage == 0) {
            continue; /* nothing a rep can answer (recycled, decided, or never qualified) */
        }
        int64_t since = entered > assigned ? entered : assigned;
        int kind = personal ? 1 : 0;
        if (title &&
            (strstr(title, "Student") || strstr(title, "Intern") || strstr(title, "PhD"))) {
            kind = 2;
        } else if (group && strcmp(group, "nonprofit") == 0) {
            kind = 3;
        }
        uint64_t h = 1469598103934665603ULL;
        for (const char *c = email; *c; c++) {
            h = (h ^ (unsigned char)*c) * 1099511628211ULL;
        }
        ho_demo_rng_t r = ho_demo_rng(seed, T_SIM, h, 0);
        char tag[32];
        snprintf(tag, sizeof tag, "%lld", lead);
        fb.tag = tag;
        fb.step = stage - 1; /* ids SIM-<lead>-<funnel step>: a later run goes on, no clash */
        /* a rep works the leads the CRM gave them as their own pipeline: answered like
         * the best-fit routed ones (fewer rejections), whatever the model's grade says */
        char letter = crm_owned ? 'A' : grade && grade[0] ? grade[0] : 'C';
        s_fb_story(&fb, &r, email, rep, letter, kind, stage, since, now_ms);
    }
    s_fb_flush(&fb);
    int rc = HO_OK;
    if (src != SQLITE_DONE) {
        rc = ho_err_set(err, HO_ERR_IO, "", "%s: %s", db_path, ho_reader_errmsg(db));
    }
    ho_reader_destroy(&db);
    if (fclose(f) != 0 && rc == HO_OK) {
        rc = ho_err_set(err, HO_ERR_IO, "", "%s: write failed", out_path);
    }
    *rows_p = fb.rows;
    return rc;
}
