/* demo_corpus_events.c - the realistic corpus (issue 12): form webhooks, activities, sales
 * feedback, the reps file; see demo_internal.h */
#include "connectors/demo/demo_internal.h"

/* ---- corpus: form webhooks ---- */

/* A Facebook leadgen webhook notification: names the lead, carries none of its fields. */
static json_t *s_cp_fb_notification(ho_demo_rng_t *r, int64_t at)
{
    char lead[24];
    snprintf(lead, sizeof lead, "%llu",
             8000000000000000ULL + (unsigned long long)ho_demo_below(r, 999999999999999ULL));
    return json_pack("{s:s, s:[{s:s, s:I, s:[{s:s, s:{s:s, s:s, s:s, s:I, s:s, s:s}}]}]}", "object",
                     "page", "entry", "id", "104839201928374", "time", (json_int_t)(at / 1000),
                     "changes", "field", "leadgen", "value", "ad_id", "120210938475610381",
                     "form_id", "1187045529931620", "leadgen_id", lead, "created_time",
                     (json_int_t)(at / 1000), "page_id", "104839201928374", "adgroup_id",
                     "120210938475610378");
}

/* Remove the email answer from a Facebook lead (a form that did not ask for it). */
static void s_cp_fb_drop_email(json_t *doc)
{
    json_t *fd = json_object_get(doc, "field_data");
    for (size_t k = json_array_size(fd); k-- > 0;) {
        const char *nm = json_string_value(json_object_get(json_array_get(fd, k), "name"));
        if (nm && (!strcmp(nm, "email") || !strcmp(nm, "work_email"))) {
            json_array_remove(fd, k);
        }
    }
}

static void s_cp_webhook_dirt(const ho_demo_cp_t *cp, ho_demo_cp_person_t *cpp, FILE *f,
                              ho_demo_cp_dirt_t dirt)
{
    ho_demo_person_t p = cpp->p;
    ho_demo_rng_t r = ho_demo_rng(cp->wo.seed, T_CP_WH, (uint64_t)p.i, 7);
    p.file_created[F_WEBHOOK] = p.created_at + (int64_t)ho_demo_below(&r, DAY);
    if (p.file_created[F_WEBHOOK] >= cp->wo.now_ms) {
        p.file_created[F_WEBHOOK] = p.created_at;
    }
    switch (dirt) {
    case D_CP1252:
        fputs("{\"id\":\"8384085734441234\",\"created_time\":\"2026-10-21T10:00:00+0000\","
              "\"field_data\":[{\"name\":\"full_name\",\"values\":[\"Ren\xe9 Caf\xe9\"]},"
              "{\"name\":\"email\",\"values\":[\"rene.cafe@basalt-bank.de\"]}]}\n",
              f);
        return;
    case D_FEW_FIELDS:
        fputs("{\"id\":\"8384085734440999\",\"created_time\":\"2026-11-03T10:00:00+0000\","
              "\"field_data\":[{\"name\":\"email\",\"values\":[\"cut.off@\n",
              f);
        return;
    case D_MANY_FIELDS:
        ho_demo_json_line(f, s_cp_fb_notification(&r, p.file_created[F_WEBHOOK]));
        return;
    default:
        break;
    }
    char email[512];
    ho_demo_cp_email(&r, p.email, email, sizeof email);
    if (dirt == D_BAD_EMAIL) {
        snprintf(email, sizeof email, "%s", PICK(&r, ho_demo_cp_bad_emails));
    } else if (dirt == D_BLANK_EMAIL) {
        snprintf(email, sizeof email, "  ");
    }
    if (dirt == D_MISSING_EMAIL || dirt == D_BAD_DATE) {
        p.shape = W_FACEBOOK;
    }
    json_t *doc = ho_demo_webhook(&p, &r, email);
    if (dirt == D_MISSING_EMAIL) {
        s_cp_fb_drop_email(doc);
    } else if (dirt == D_BAD_DATE) {
        json_object_set_new(doc, "created_time", json_string(PICK(&r, ho_demo_cp_bad_dates)));
    }
    ho_demo_json_line(f, doc);
}

static void s_cp_webhook_person(const ho_demo_cp_t *cp, ho_demo_cp_person_t *cpp, FILE *f)
{
    ho_demo_person_t p = cpp->p;
    ho_demo_rng_t r = ho_demo_rng(cp->wo.seed, T_CP_WH, (uint64_t)p.i, 0);
    char email[512];
    for (int sub = 0; sub < (cpp->second_form ? 2 : 1); sub++) {
        if (sub == 1) {
            /* the same person on another form, days later */
            p.shape = (ho_demo_wshape_t)((p.shape + 1 + ho_demo_below(&r, 3)) % 4);
            int64_t later = p.file_created[F_WEBHOOK] + DAY + (int64_t)ho_demo_below(&r, 9 * DAY);
            p.file_created[F_WEBHOOK] = later < cp->wo.now_ms - HOUR ? later : cp->wo.now_ms - HOUR;
        }
        ho_demo_cp_email(&r, p.email, email, sizeof email);
        json_t *doc = ho_demo_webhook(&p, &r, email);
        char *line = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        if (!line) {
            continue;
        }
        fputs(line, f);
        fputc('\n', f);
        if (ho_demo_chance(&r, 0.05)) {
            fputs(line, f); /* re-delivered: the sender did not see our 200 */
            fputc('\n', f);
        }
        free(line);
    }
}

static void s_cp_linkedin_test(const ho_demo_cp_t *cp, long i, FILE *f)
{
    ho_demo_rng_t r = ho_demo_rng(cp->wo.seed, T_CP_WH, (uint64_t)i, 9);
    ho_demo_person_t p;
    ho_demo_person(&cp->w, i, &p);
    p.shape = W_LINKEDIN;
    p.file_created[F_WEBHOOK] = cp->wo.now_ms - HISTORY + i * ((HISTORY - 2 * DAY) / cp->o->people);
    char email[128];
    snprintf(email, sizeof email, "linkedin.test.%ld@northwind-pipelines.com", i);
    json_t *doc = ho_demo_webhook(&p, &r, email);
    json_object_set_new(doc, "testLead", json_true());
    ho_demo_json_line(f, doc);
}

int ho_demo_cp_webhooks(const ho_demo_cp_t *cp, FILE *f)
{
    for (long i = 0; i < cp->o->people; i++) {
        ho_demo_cp_person_t cpp;
        ho_demo_cp_person(cp, i, &cpp);
        ho_demo_cp_dirt_t dirt = ho_demo_cp_dirt(cp, i, F_WEBHOOK);
        if (dirt) {
            s_cp_webhook_dirt(cp, &cpp, f, dirt);
        }
        ho_demo_rng_t r = ho_demo_rng(cp->wo.seed, T_CP_WH, (uint64_t)i, 3);
        if (ho_demo_chance(&r, 0.01)) {
            s_cp_linkedin_test(cp, i, f);
        }
        if (cpp.p.in_file[F_WEBHOOK]) {
            s_cp_webhook_person(cp, &cpp, f);
        }
    }
    return ferror(f) ? -1 : 0;
}

/* ---- corpus: activities ---- */

/* Heavy-tailed engagement: a quarter of people do nothing, most a little, a few (power users,
 * bots, shared inboxes) thousands of times as much. */
double ho_demo_cp_act_weight(const ho_demo_cp_t *cp, long i)
{
    ho_demo_rng_t r = ho_demo_rng(cp->wo.seed, T_CP_W, (uint64_t)i, 0);
    double u = ho_demo_unit(&r);
    if (u < 0.25) {
        return 0.0;
    }
    double v = 1.0 - ho_demo_unit(&r);
    double w = pow(v, -1.0 / 1.1);
    return w > 4000.0 ? 4000.0 : w;
}

static void s_cp_act_row(ho_demo_csvw_t *cw, const ho_demo_activity_t *a, const char *email,
                         const char *when, ho_demo_cp_dirt_t dirt, ho_demo_rng_t *r)
{
    const char *type = a->type;
    static const char *const odd_types[] = {"fax_received", "sms_sent", "chat_started",
                                            "badge_scan"};
    const char *v[9] = {a->id,    email,     type,
                        when,     a->url,    a->campaign,
                        a->asset, a->system, a->attrs[0] ? a->attrs : "{}"};
    if (dirt == D_MANY_FIELDS) {
        v[2] = PICK(r, odd_types); /* an activity type nobody defined */
        dirt = D_NONE;
    } else if (dirt == D_BLANK_EMAIL) {
        v[3] = ""; /* no date */
        dirt = D_NONE;
    }
    ho_demo_cp_emit(cw, v, 9, dirt, 1, 3, 6, r);
}

static void s_cp_activities_of(ho_demo_cp_t *cp, const ho_demo_person_t *p, const char *email_of,
                               long count, long k0, ho_demo_cp_parts_t *parts)
{
    for (long k = 0; k < count; k++) {
        ho_demo_activity_t a;
        ho_demo_activity(&cp->w, p, (int)(k0 + k), &a);
        ho_demo_rng_t r = ho_demo_rng(cp->wo.seed, T_CP_ACT, (uint64_t)p->i, (uint64_t)(k0 + k));
        if (!strcmp(a.system, "marketo")) {
            snprintf(a.id, sizeof a.id, "%ld", 600000000L + cp->act_seq);
        } else if (!strcmp(a.system, "on24")) {
            snprintf(a.id, sizeof a.id, "on24-%08ld", 10000000L + cp->act_seq);
        }
        cp->act_seq++;
        char email[512], when[40];
        ho_demo_cp_email(&r, email_of, email, sizeof email);
        ho_demo_iso(a.at, when, sizeof when);
        int part = (int)ho_demo_below(&r, (uint64_t)parts->nparts);
        ho_demo_csvw_t cw = {parts->part[part], true, false, "\n"};
        if (ho_demo_chance(&r, 0.02)) {
            ho_demo_activity_t d = a;
            snprintf(d.id, sizeof d.id, "dirty-%ld", cp->act_seq);
            s_cp_act_row(&cw, &d, email, when, (ho_demo_cp_dirt_t)(1 + ho_demo_below(&r, D_N - 1)),
                         &r);
        }
        s_cp_act_row(&cw, &a, email, when, D_NONE, &r);
        if (ho_demo_chance(&r, 0.01)) {
            /* re-sent in the next extract, byte for byte */
            ho_demo_csvw_t again = {parts->part[(part + 1) % parts->nparts], true, false, "\n"};
            s_cp_act_row(&again, &a, email, when, D_NONE, &r);
        }
    }
}

int ho_demo_cp_activities(ho_demo_cp_t *cp, ho_demo_cp_parts_t *parts)
{
    long n = cp->o->people;
    double real = (double)cp->o->activities * 0.97;
    double ghost = (double)cp->o->activities - real;
    double acc = 0.0;
    long done = 0;
    for (int k = 0; k < parts->nparts; k++) {
        fputs("activity_id,email,activity_type,activity_date,url,campaign_name,asset_name,"
              "source_system,attributes\n",
              parts->part[k]);
    }
    for (long i = 0; i < n; i++) {
        ho_demo_cp_person_t cpp;
        ho_demo_cp_person(cp, i, &cpp);
        double w = ho_demo_cp_act_weight(cp, i);
        acc += cp->act_weight_sum > 0 ? w * real / cp->act_weight_sum : 0.0;
        long upto = (long)acc;
        if (upto > done) {
            s_cp_activities_of(cp, &cpp.p, cpp.p.email, upto - done, 0, parts);
            done = upto;
        }
        long g =
            (long)((double)(i + 1) * ghost / (double)n) - (long)((double)i * ghost / (double)n);
        if (g > 0) {
            char gmail[256];
            ho_demo_cp_ghost_email(cp, i, gmail, sizeof gmail);
            s_cp_activities_of(cp, &cpp.p, gmail, g, 100000, parts);
        }
    }
    for (int k = 0; k < parts->nparts; k++) {
        if (ferror(parts->part[k])) {
            return -1;
        }
    }
    return 0;
}

/* ---- corpus: sales feedback ---- */
typedef struct {
    const char *outcome;
    char reason[64];
    int64_t at;
    const char *notes;
    long amount;
} s_cp_fb_row_t;

typedef struct {
    FILE *f;
    long seq;
    const ho_demo_cp_t *cp;
} s_cp_fbw_t;

/* occurred_at as the rep writes it: local time with the zone's offset then (DST included),
 * or UTC for about a tenth of rows. */
static void s_cp_fb_time(const ho_demo_cp_t *cp, int rep, int64_t at, ho_demo_rng_t *r, char *out,
                         size_t cap)
{
    if (ho_demo_chance(r, 0.1) || !cp->tz[rep]) {
        ho_demo_iso(at, out, cap);
        return;
    }
    int32_t off = ho_tz_offset(cp->tz[rep], at);
    char local[32];
    ho_demo_fmt_time(at + (int64_t)off * 1000, "%Y-%m-%dT%H:%M:%S", local, sizeof local);
    int a = off < 0 ? -off : off;
    snprintf(out, cap, "%s%c%02d:%02d", local, off < 0 ? '-' : '+', a / 3600, (a % 3600) / 60);
}

static void s_cp_fb_write(s_cp_fbw_t *fw, const char *email, int rep, const s_cp_fb_row_t *row,
                          ho_demo_cp_dirt_t dirt, ho_demo_rng_t *r)
{
    char id[32], when[48], amt[24] = "", outcome[32], reason[80];
    snprintf(id, sizeof id, "NWF-%06ld", ++fw->seq);
    s_cp_fb_time(fw->cp, rep, row->at, r, when, sizeof when);
    if (row->amount > 0) {
        snprintf(amt, sizeof amt, "%ld", row->amount);
    }
    snprintf(outcome, sizeof outcome, "%s", row->outcome);
    double u = ho_demo_unit(r);
    if (u < 0.05) {
        outcome[0] = (char)(outcome[0] - 'a' + 'A');
    } else if (u < 0.08) {
        snprintf(outcome, sizeof outcome, " %s ", row->outcome);
    }
    snprintf(reason, sizeof reason, "%s", row->reason);
    if (reason[0] && ho_demo_chance(r, 0.12)) {
        snprintf(reason, sizeof reason, "  %c%s ", row->reason[0] - 'a' + 'A', row->reason + 1);
    }
    const char *v[8] = {id, email, ho_demo_cp_reps[rep].id, outcome, reason, when, row->notes, amt};
    ho_demo_csvw_t cw = {fw->f, true, false, "\n"};
    if (dirt == D_MANY_FIELDS) {
        v[3] = PICK(r, ((const char *const[]){"maybe_later", "on hold", "follow-up"}));
        dirt = D_NONE;
    } else if (dirt == D_BLANK_EMAIL) {
        v[5] = "";
        dirt = D_NONE;
    }
    ho_demo_cp_emit(&cw, v, 8, dirt, 1, 5, 6, r);
}

/* A reason as reps give it: from the taxonomy mostly, blank sometimes (= unspecified), now and
 * then one of their own words or a code meant for the other outcome. */
static void s_cp_reason(ho_demo_rng_t *r, const char *outcome, char *out, size_t cap)
{
    static const char *const rej[] = {"not_a_fit",        "bad_contact_data", "no_decision_maker",
                                      "timing",           "budget",           "personal_email",
                                      "student_or_intern"};
    static const char *const lost[] = {"competitor",        "budget",   "timing", "unresponsive",
                                       "no_decision_maker", "not_a_fit"};
    static const char *const own[] = {"price too high", "went with spreadsheets", "duplicate lead",
                                      "legal review stalled"};
    double u = ho_demo_unit(r);
    bool lostp = !strcmp(outcome, "lost");
    if (u < 0.08) {
        out[0] = '\0';
    } else if (u < 0.12) {
        snprintf(out, cap, "%s", PICK(r, own));
    } else if (u < 0.14) {
        snprintf(out, cap, "%s", lostp ? "bad_contact_data" : "competitor_chosen");
    } else {
        snprintf(out, cap, "%s", lostp ? PICK(r, lost) : PICK(r, rej));
    }
}

/* One lead's outcome history from when sales first touched it, cut at now. Mostly
 * accepted -> sql -> opportunity -> won/lost, or rejected; some jump straight to a later stage. */
static int s_cp_story(const ho_demo_cp_t *cp, const ho_demo_cp_person_t *cpp, ho_demo_rng_t *r,
                      s_cp_fb_row_t *rows)
{
    int64_t now = cp->wo.now_ms;
    int64_t t = cpp->p.created_at + 20 * 60000 + (int64_t)ho_demo_below(r, 4 * DAY);
    int n = 0;
    static const char *const steps[] = {"accepted", "sql", "opportunity", "won"};
    int step = 0;
    if (ho_demo_chance(r, 0.06)) {
        step = 1 + (int)ho_demo_below(r, 3); /* a jump: the rep logs a later stage first */
    } else if (ho_demo_chance(r, cpp->p.temp == 2 ? 0.15 : 0.35)) {
        rows[n] = (s_cp_fb_row_t){"rejected", "", t, "", 0};
        s_cp_reason(r, "rejected", rows[n].reason, sizeof rows[n].reason);
        return t < now ? n + 1 : 0;
    }
    for (; step < 4; step++) {
        if (t >= now) {
            break;
        }
        if (n > 0 && ho_demo_chance(r, step == 3 ? 0.45 : 0.3)) {
            rows[n] = (s_cp_fb_row_t){"lost", "", t, "Went dark after the demo", 0};
            s_cp_reason(r, "lost", rows[n].reason, sizeof rows[n].reason);
            n++;
            break;
        }
        rows[n] = (s_cp_fb_row_t){steps[step], "", t, step == 0 ? "Booked discovery" : "", 0};
        if (step == 3) {
            rows[n].amount = 12000 + 1000 * (long)ho_demo_below(r, 80);
        }
        n++;
        if (ho_demo_chance(r, 0.25)) {
            break; /* still being worked */
        }
        t += DAY + (int64_t)ho_demo_below(r, 12 * DAY);
        t -= t % 1000;
    }
    return n;
}

static void s_cp_fb_person(s_cp_fbw_t *fw, const ho_demo_cp_person_t *cpp, double p_story)
{
    const ho_demo_cp_t *cp = fw->cp;
    ho_demo_rng_t r = ho_demo_rng(cp->wo.seed, T_CP_FB, (uint64_t)cpp->p.i, 0);
    if (!ho_demo_chance(&r, p_story)) {
        return;
    }
    ho_demo_cp_dirt_t dirt = ho_demo_cp_dirt(cp, cpp->p.i, 17);
    char email[512];
    ho_demo_cp_email(&r, cpp->p.email, email, sizeof email);
    if (dirt) {
        s_cp_fb_row_t d = {"accepted", "", cpp->p.created_at + DAY, "", 0};
        s_cp_fb_write(fw, email, cpp->rep, &d, dirt, &r);
    }
    if (ho_demo_chance(&r, 0.05)) {
        /* feedback from someone nobody sent to sales: an address no lead source has */
        char ghost[256];
        ho_demo_cp_ghost_email(cp, cpp->p.i, ghost, sizeof ghost);
        s_cp_fb_row_t g = {"rejected", "", cpp->p.created_at + 2 * HOUR, "Not in our CRM", 0};
        s_cp_reason(&r, "rejected", g.reason, sizeof g.reason);
        if (g.at < cp->wo.now_ms) {
            s_cp_fb_write(fw, ghost, cpp->rep, &g, D_NONE, &r);
        }
    }
    if (cpp->stage != CP_ML && cpp->stage != CP_MQL) {
        return; /* the CRM already had it past acceptance: no story of ours */
    }
    if (ho_demo_chance(&r, 0.03)) {
        /* dated before the lead existed: a typo in the date, or the wrong person */
        s_cp_fb_row_t b = {"accepted", "",
                           cpp->p.created_at - 2 * HOUR - (int64_t)ho_demo_below(&r, 5 * DAY),
                           "Logged from memory", 0};
        s_cp_fb_write(fw, email, cpp->rep, &b, D_NONE, &r);
    }
    s_cp_fb_row_t rows[8];
    int n = s_cp_story(cp, cpp, &r, rows);
    const char *last = n > 0 ? rows[n - 1].outcome : "";
    bool deal = !strcmp(last, "sql") || !strcmp(last, "opportunity");
    bool closed = !strcmp(last, "won") || !strcmp(last, "lost");
    if ((deal || closed) && ho_demo_chance(&r, 0.25)) {
        /* the rep contradicts the history: rejects a lead already past acceptance, or logs
         * an acceptance after the deal closed */
        int64_t at = rows[n - 1].at + HOUR + (int64_t)ho_demo_below(&r, 5 * DAY);
        if (at < cp->wo.now_ms) {
            rows[n] = (s_cp_fb_row_t){deal ? "rejected" : "accepted", "", at - at % 1000,
                                      "Wrong contact after all", 0};
            if (deal) {
                s_cp_reason(&r, "rejected", rows[n].reason, sizeof rows[n].reason);
            }
            n++;
        }
    }
    if (n >= 2 && ho_demo_chance(&r, 0.3)) {
        /* entered out of order: a later step logged before an earlier one */
        int k = (int)ho_demo_below(&r, (uint64_t)(n - 1));
        s_cp_fb_row_t tmp = rows[k];
        rows[k] = rows[k + 1];
        rows[k + 1] = tmp;
    }
    for (int k = 0; k < n; k++) {
        s_cp_fb_write(fw, email, cpp->rep, &rows[k], D_NONE, &r);
    }
}

int ho_demo_cp_feedback(const ho_demo_cp_t *cp, FILE *f)
{
    fputs("feedback_id,lead_email,rep_id,outcome,reason,occurred_at,notes,amount\n", f);
    s_cp_fbw_t fw = {f, 0, cp};
    /* about 2 rows per person sales talks to */
    double p_story = (double)cp->o->feedback / ((double)cp->o->people * 2.0);
    if (p_story > 1.0) {
        p_story = 1.0;
    }
    for (long i = 0; i < cp->o->people; i++) {
        ho_demo_cp_person_t cpp;
        ho_demo_cp_person(cp, i, &cpp);
        s_cp_fb_person(&fw, &cpp, p_story);
    }
    return ferror(f) ? -1 : 0;
}

int ho_demo_cp_reps_file(const ho_demo_cp_t *cp, FILE *f)
{
    (void)cp;
    fputs("rep_id,name,email,region,countries,us_states,segments,employee_min,employee_max,"
          "weekly_capacity,timezone,out_of_office,ooo_start,ooo_end,backup_rep_id\n",
          f);
    ho_demo_csvw_t cw = {f, true, false, "\n"};
    for (int k = 0; k < CP_NREPS; k++) {
        const ho_demo_cp_rep_t *p = &ho_demo_cp_reps[k];
        const char *v[15] = {p->id,     p->name,     p->email,     p->region,  p->countries,
                             p->states, p->segments, p->emin,      p->emax,    p->cap,
                             p->tz,     p->ooo,      p->ooo_start, p->ooo_end, p->backup};
        ho_demo_row(&cw, v, 15);
    }
    return ferror(f) ? -1 : 0;
}
