/* demo_corpus.c - the realistic corpus (issue 12): people, planted dirt, the CSV lead exports,
 * and the driver ho_demo_corpus; see demo_internal.h */
#include "connectors/demo/demo_internal.h"

/* ==== the realistic corpus (issue 12): `handoff demo-data --people N` ====================
 *
 * Streaming: every file is written in one walk over the person indexes (person i is a pure
 * function of (seed, i)), so memory stays flat at a million people and ten million
 * activities. Nothing is counted here: the planted dirt is counted by an independent reader
 * (tests/workload/verify.py), which is the point of it. */

/* A dozen reps in the sales_reps.csv layout, in zones either side of the autumn DST changes. */
const ho_demo_cp_rep_t ho_demo_cp_reps[CP_NREPS] = {
    {"R01", "Mara Thistlewood", "mara.thistlewood@northwind-pipelines.com", "US East", "US",
     "CT;DC;DE;FL;GA;MA;MD;ME;NC;NH;NJ;NY;OH;PA;RI;SC;VA;VT", "Enterprise", "1001", "", "30",
     "America/New_York", "FALSE", "", "", "R02"},
    {"R02", "Jonah Quarles", "jonah.quarles@northwind-pipelines.com", "US East", "US",
     "CT;DC;DE;FL;GA;MA;MD;ME;NC;NH;NJ;NY;OH;PA;RI;SC;VA;VT", "SMB;Mid-Market", "1", "1000", "50",
     "America/New_York", "TRUE", "2026-11-02", "2026-11-13", "R01"},
    {"R03", "Celestine Obi", "celestine.obi@northwind-pipelines.com", "US Central", "US",
     "IL;MN;TX;OH;MO;WI", "All", "1", "", "45", "America/Chicago", "FALSE", "", "", "R04"},
    {"R04", "Teodor Lindahl", "teodor.lindahl@northwind-pipelines.com", "US Mountain", "US",
     "CO;UT;AZ", "All", "1", "", "40", "America/Denver", "FALSE", "", "", "R05"},
    {"R05", "Isabeau Marchetti", "isabeau.marchetti@northwind-pipelines.com", "US West", "US",
     "CA;WA;OR", "Enterprise", "1001", "", "30", "America/Los_Angeles", "FALSE", "", "", "R06"},
    {"R06", "Kwame Ashford", "kwame.ashford@northwind-pipelines.com", "US West", "US", "CA;WA;OR",
     "SMB;Mid-Market", "1", "1000", "50", "America/Los_Angeles", "FALSE", "", "", "R05"},
    {"R07", "Philippa Dunmore", "philippa.dunmore@northwind-pipelines.com", "UK & Ireland", "GB;IE",
     "", "All", "1", "", "40", "Europe/London", "FALSE", "", "", "R08"},
    {"R08", "Joost Verhagen", "joost.verhagen@northwind-pipelines.com", "Benelux & Nordics",
     "NL;BE;SE;DK;NO;FI", "", "All", "1", "", "40", "Europe/Amsterdam", "FALSE", "", "", "R09"},
    {"R09", "Amaia Etxeberria", "amaia.etxeberria@northwind-pipelines.com", "DACH & South",
     "DE;AT;CH;FR;ES", "", "All", "1", "", "35", "Europe/Madrid", "FALSE", "", "", "R08"},
    {"R10", "Kenji Tachibana", "kenji.tachibana@northwind-pipelines.com", "APAC", "JP;SG;IN", "",
     "All", "1", "", "35", "Asia/Singapore", "FALSE", "", "", "R11"},
    {"R11", "Lachlan Pryce", "lachlan.pryce@northwind-pipelines.com", "ANZ", "AU;NZ", "", "All",
     "1", "", "30", "Australia/Sydney", "FALSE", "", "", "R10"},
    {"R12", "Noor Haddad", "noor.haddad@northwind-pipelines.com", "Americas Other", "CA;US",
     "NY;NJ;MA;PA;NC;VA;GA;FL", "All", "1", "", "40", "America/Toronto", "FALSE", "", "", "R03"},
};

static int s_cp_rep_for(const ho_demo_person_t *p, ho_demo_rng_t *r)
{
    const char *cc = ho_demo_countries[p->co.country].code;
    const char *st = p->co.state >= 0 ? ho_demo_us_states[p->co.state].code : "";
    for (int k = 0; k < CP_NREPS; k++) {
        if (!strstr(ho_demo_cp_reps[k].countries, cc)) {
            continue;
        }
        if (ho_demo_cp_reps[k].states[0] && st[0] && !strstr(ho_demo_cp_reps[k].states, st)) {
            continue;
        }
        if (ho_demo_cp_reps[k].emin[0] && strcmp(ho_demo_cp_reps[k].emin, "1001") == 0 &&
            p->co.employees <= 1000) {
            continue;
        }
        return k;
    }
    return (int)ho_demo_below(r, CP_NREPS);
}

/* Person i of the corpus: the demo world's person, arriving evenly over the 14 weeks (so a file
 * written in index order is in creation order), in one to three lead sources. */
void ho_demo_cp_person(const ho_demo_cp_t *cp, long i, ho_demo_cp_person_t *cpp)
{
    ho_demo_person_t *p = &cpp->p;
    ho_demo_person(&cp->w, i, p);
    ho_demo_rng_t r = ho_demo_rng(cp->wo.seed, T_CP_SRC, (uint64_t)i, 0);
    int64_t now = cp->wo.now_ms, n = cp->o->people;
    int64_t slot = (HISTORY - 2 * DAY) / n;
    int64_t created =
        now - HISTORY + (int64_t)i * slot + (int64_t)ho_demo_below(&r, (uint64_t)slot + 1);
    created -= created % 1000;
    p->created_at = created;
    memset(p->in_file, 0, sizeof p->in_file);
    double f = ho_demo_unit(&r);
    cpp->primary = f < 0.35   ? F_HUBSPOT
                   : f < 0.60 ? F_SALESFORCE
                   : f < 0.75 ? F_MARKETO
                              : F_WEBHOOK;
    p->in_file[cpp->primary] = true;
    p->file_created[cpp->primary] = created;
    int extra = ho_demo_chance(&r, 0.40) ? (ho_demo_chance(&r, 0.2) ? 2 : 1) : 0;
    for (int e = 0; e < extra; e++) {
        ho_demo_file_t s = (ho_demo_file_t)ho_demo_below(&r, F_NFILES);
        while (p->in_file[s]) {
            s = (ho_demo_file_t)((s + 1) % F_NFILES);
        }
        p->in_file[s] = true;
        int64_t later = created + HOUR + (int64_t)ho_demo_below(&r, 20 * DAY);
        if (later > now - HOUR) {
            later = now - HOUR;
        }
        p->file_created[s] = later - later % 60000; /* HubSpot writes minutes */
    }
    if (cpp->primary == F_HUBSPOT) {
        /* HubSpot dates are minutes: the first record's time is a whole minute */
        p->created_at -= p->created_at % 60000;
        p->file_created[F_HUBSPOT] = p->created_at;
    }
    double u = ho_demo_unit(&r);
    cpp->stage = u < 0.78   ? CP_ML
                 : u < 0.86 ? CP_MQL
                 : u < 0.88 ? CP_SAL
                 : u < 0.91 ? CP_SQL
                 : u < 0.93 ? CP_OPP
                 : u < 0.95 ? CP_WON
                            : CP_DISQ;
    if (cpp->primary == F_WEBHOOK) {
        cpp->stage = CP_ML;
    } else if (cpp->primary == F_SALESFORCE && (cpp->stage == CP_MQL || cpp->stage >= CP_OPP)) {
        cpp->stage = cpp->stage == CP_DISQ ? CP_DISQ : CP_ML; /* no such Salesforce status */
    } else if (cpp->primary == F_MARKETO && cpp->stage != CP_MQL) {
        cpp->stage = CP_ML;
    }
    cpp->owned = cpp->stage >= CP_SAL || ho_demo_chance(&r, 0.22);
    cpp->rep = s_cp_rep_for(p, &r);
    cpp->second_form = p->in_file[F_WEBHOOK] && ho_demo_chance(&r, 0.12);
}

/* An activity-only visitor (never in a lead source): its address matches no lead. */
void ho_demo_cp_ghost_email(const ho_demo_cp_t *cp, long i, char *out, size_t cap)
{
    ho_demo_company_t co;
    ho_demo_company(&cp->w, i % cp->w.n_companies, &co);
    snprintf(out, cap, "reader%ld@%s", i, co.domain);
}

/* How one source writes the person's address: as is mostly, else capitals, spaces or tabs. */
void ho_demo_cp_email(ho_demo_rng_t *r, const char *email, char *out, size_t cap)
{
    double u = ho_demo_unit(r);
    if (u < 0.05) {
        snprintf(out, cap, "\t%s", email);
    } else if (u < 0.08) {
        snprintf(out, cap, "%s  ", email);
    } else {
        ho_demo_email_variant(r, email, out, cap);
    }
}

/* A field value that disagrees with the other sources (the title or company as typed there). */
static void s_cp_disagree(ho_demo_rng_t *r, const char *v, char *out, size_t cap)
{
    double u = ho_demo_unit(r);
    if (u < 0.3 && v[0]) {
        snprintf(out, cap, "%s", v);
        for (char *c = out; *c; c++) {
            if (*c >= 'a' && *c <= 'z') {
                *c = (char)(*c - 'a' + 'A');
            }
        }
    } else if (u < 0.55 && v[0]) {
        snprintf(out, cap, "Sr. %s", v);
    } else if (u < 0.7) {
        out[0] = '\0';
    } else {
        snprintf(out, cap, "%s", v);
    }
}

/* Mojibake of a name: UTF-8 read as Windows-1252 and written back as UTF-8 (valid UTF-8). */
/* The primary file carries the true title and company; the others may disagree. */
static void s_cp_title_company(ho_demo_rng_t *r, const ho_demo_person_t *p, bool primary,
                               char *title, size_t tcap, char *company, size_t ccap)
{
    if (primary) {
        snprintf(title, tcap, "%s", p->title);
        snprintf(company, ccap, "%s", p->co.name);
    } else {
        s_cp_disagree(r, p->title, title, tcap);
        s_cp_disagree(r, p->co.name, company, ccap);
    }
}

static void s_cp_mojibake(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 3 < cap; p++) {
        if (*p < 0x80) {
            out[o++] = (char)*p;
        } else {
            out[o++] = (char)(0xC0 | (*p >> 6));
            out[o++] = (char)(0x80 | (*p & 0x3F));
        }
    }
    out[o] = '\0';
}

const char *const ho_demo_cp_bad_emails[] = {"n/a",
                                             "jane.doe@",
                                             "jane..doe@kestrel-analytics.com",
                                             "jane@localhost",
                                             "jane@kestrel.c0m",
                                             "jane@@kestrel-analytics.com",
                                             "j\xc3\xbcrgen.m\xc3\xbcller@basalt-bank.de",
                                             "jane doe@kestrel-analytics.com",
                                             "jane@-kestrel.com",
                                             "jane.doe.kestrel-analytics.com",
                                             "jane@kestrel-.com",
                                             ".jane@kestrel.com"};
const char *const ho_demo_cp_bad_dates[] = {
    "31/13/2026 25:61", "not a date", "2026-13-45 99:00", "yesterday", "0000-00-00 00:00", "TBD"};

ho_demo_cp_dirt_t ho_demo_cp_dirt(const ho_demo_cp_t *cp, long i, int file)
{
    ho_demo_rng_t r = ho_demo_rng(cp->wo.seed, T_CP_DIRT, (uint64_t)i, (uint64_t)file);
    if (!ho_demo_chance(&r, 0.07)) {
        return D_NONE;
    }
    return (ho_demo_cp_dirt_t)(1 + ho_demo_below(&r, D_N - 1));
}

/* Write one export row, with the dirt asked for planted in it. */
void ho_demo_cp_emit(ho_demo_csvw_t *cw, const char **v, int n, ho_demo_cp_dirt_t dirt, int i_email,
                     int i_date, int i_text, ho_demo_rng_t *r)
{
    const char *bad_text = "We\x92re comparing vendors \x96 caf\xe9 budget approved";
    int upto = n;
    switch (dirt) {
    case D_MISSING_EMAIL:
        v[i_email] = "";
        break;
    case D_BLANK_EMAIL:
        v[i_email] = " \t ";
        break;
    case D_BAD_EMAIL:
        v[i_email] = PICK(r, ho_demo_cp_bad_emails);
        break;
    case D_BAD_DATE:
        v[i_date] = PICK(r, ho_demo_cp_bad_dates);
        break;
    case D_CP1252:
        v[i_text] = bad_text;
        break;
    case D_FEW_FIELDS:
        upto = n - 1 - (int)ho_demo_below(r, 3);
        break;
    default:
        break;
    }
    for (int k = 0; k < upto; k++) {
        ho_demo_cell(cw, v[k]);
    }
    if (dirt == D_MANY_FIELDS) {
        ho_demo_cell(cw, "see notes, call back");
    }
    ho_demo_endrow(cw);
}

typedef void (*s_cp_row_fn)(const ho_demo_cp_t *cp, const ho_demo_cp_person_t *cpp,
                            ho_demo_csvw_t *cw, ho_demo_cp_dirt_t dirt);

/* A CRM export's rows: each person's dirty copy (if the file gets one) before its clean row. */
static int s_cp_crm_rows(const ho_demo_cp_t *cp, ho_demo_csvw_t *cw, int file, s_cp_row_fn row)
{
    for (long i = 0; i < cp->o->people; i++) {
        ho_demo_cp_person_t cpp;
        ho_demo_cp_person(cp, i, &cpp);
        ho_demo_cp_dirt_t dirt = ho_demo_cp_dirt(cp, i, file);
        if (dirt) {
            row(cp, &cpp, cw, dirt);
        }
        if (cpp.p.in_file[file]) {
            row(cp, &cpp, cw, D_NONE);
        }
    }
    return ferror(cw->f) ? -1 : 0;
}

static const char *s_cp_hs_stage(ho_demo_rng_t *r, ho_demo_cp_stage_t st, const char **status)
{
    static const char *const calm[] = {"New", "Open", "", "Bad Timing"};
    static const char *const working[] = {"In Progress", "Attempted to Contact", "Connected"};
    *status = PICK(r, calm);
    switch (st) {
    case CP_MQL:
        return "Marketing Qualified Lead";
    case CP_SAL:
        *status = PICK(r, working);
        return "Marketing Qualified Lead";
    case CP_SQL:
        return "Sales Qualified Lead";
    case CP_OPP:
        if (ho_demo_chance(r, 0.5)) {
            *status = "Open Deal";
            return "Sales Qualified Lead";
        }
        return "Opportunity";
    case CP_WON:
        return ho_demo_chance(r, 0.8) ? "Customer" : "Evangelist";
    case CP_DISQ:
        *status = "Unqualified";
        return ho_demo_chance(r, 0.5) ? "Lead" : "Subscriber";
    default:
        return PICK(r, ((const char *const[]){"Subscriber", "Lead", "Lead", "Other"}));
    }
}

static void s_cp_hubspot_row(const ho_demo_cp_t *cp, const ho_demo_cp_person_t *cpp,
                             ho_demo_csvw_t *cw, ho_demo_cp_dirt_t dirt)
{
    const ho_demo_person_t *p = &cpp->p;
    bool primary = cpp->primary == F_HUBSPOT;
    ho_demo_rng_t r =
        ho_demo_rng(cp->wo.seed, T_FILE, (uint64_t)p->i, 100 + F_HUBSPOT + (dirt ? 50 : 0));
    char id[24], email[512], phone[48], title[96], company[220], first[160], last[160];
    char rev[32], score[8], created[32], lastact[32], opened[8], clicked[8], views[8];
    snprintf(id, sizeof id, "%ld", 10000000000L + (long)(ho_demo_next(&r) % 89999999999ULL));
    ho_demo_cp_email(&r, p->email, email, sizeof email);
    ho_demo_phone(&r, p, phone, sizeof phone);
    s_cp_title_company(&r, p, primary, title, sizeof title, company, sizeof company);
    if (ho_demo_chance(&r, 0.03)) {
        s_cp_mojibake(p->first, first, sizeof first);
        s_cp_mojibake(p->last, last, sizeof last);
    } else {
        snprintf(first, sizeof first, "%s", p->first);
        snprintf(last, sizeof last, "%s", p->last);
    }
    snprintf(rev, sizeof rev, "%lld", p->co.revenue);
    const char *status;
    const char *stage = s_cp_hs_stage(&r, primary ? cpp->stage : CP_ML, &status);
    size_t src = ho_demo_below(&r, N_OF(ho_demo_hs_sources));
    snprintf(score, sizeof score, "%d",
             p->temp == 2 ? 50 + (int)ho_demo_below(&r, 45) : (int)ho_demo_below(&r, 45));
    ho_demo_fmt_time(p->file_created[F_HUBSPOT], "%Y-%m-%d %H:%M", created, sizeof created);
    if (!primary && ho_demo_chance(&r, 0.06)) {
        created[0] = '\0'; /* blank date on a later record: the earlier one dates the lead */
    }
    int64_t la = p->file_created[F_HUBSPOT] + (int64_t)ho_demo_below(&r, 10 * DAY);
    lastact[0] = '\0';
    if (la < cp->wo.now_ms && ho_demo_chance(&r, 0.8)) {
        ho_demo_fmt_time(la, "%Y-%m-%d %H:%M", lastact, sizeof lastact);
    }
    snprintf(opened, sizeof opened, "%d", (int)ho_demo_below(&r, 30));
    snprintf(clicked, sizeof clicked, "%d", (int)ho_demo_below(&r, 8));
    snprintf(views, sizeof views, "%d", (int)ho_demo_below(&r, 90));
    const ho_demo_country_t *ct = &ho_demo_countries[p->co.country];
    const char *v[26] = {
        id,
        first,
        last,
        email,
        phone,
        title,
        company,
        ho_demo_industry_hs(p),
        p->co.employees && ho_demo_chance(&r, 0.8) ? ho_demo_hs_bucket(p->co.employees) : "",
        p->co.revenue ? rev : "",
        ct->names[ho_demo_chance(&r, 0.7) ? 0 : 1],
        p->co.state >= 0 ? (ho_demo_chance(&r, 0.7) ? ho_demo_us_states[p->co.state].name
                                                    : ho_demo_us_states[p->co.state].code)
                         : "",
        ho_demo_city(p),
        stage,
        status,
        ho_demo_hs_sources[src][0],
        ho_demo_hs_sources[src][1],
        score,
        primary && cpp->owned ? ho_demo_cp_reps[cpp->rep].name : "",
        created,
        lastact,
        opened,
        clicked,
        views,
        PICK(&r, ho_demo_conversions),
        p->temp == 2 ? PICK(&r, ho_demo_messages_hot) : PICK(&r, ho_demo_messages_cold),
    };
    ho_demo_cp_emit(cw, v, 26, dirt, 3, 19, 25, &r);
}

static int s_cp_hubspot(const ho_demo_cp_t *cp, FILE *f)
{
    ho_demo_csvw_t cw = {f, true, false, "\r\n"};
    fputs("\xEF\xBB\xBF", f);
    ho_demo_row(&cw, ho_demo_hubspot_cols, N_OF(ho_demo_hubspot_cols));
    return s_cp_crm_rows(cp, &cw, F_HUBSPOT, s_cp_hubspot_row);
}

static void s_cp_sf_row(const ho_demo_cp_t *cp, const ho_demo_cp_person_t *cpp, ho_demo_csvw_t *cw,
                        ho_demo_cp_dirt_t dirt)
{
    const ho_demo_person_t *p = &cpp->p;
    bool primary = cpp->primary == F_SALESFORCE;
    ho_demo_rng_t r =
        ho_demo_rng(cp->wo.seed, T_FILE, (uint64_t)p->i, 100 + F_SALESFORCE + (dirt ? 50 : 0));
    char id[20], owner[20], email[512], phone[48], title[96], company[220], created[40],
        modified[40], emp[24], rev[32];
    ho_demo_sf_id(&r, "00Q", id);
    bool queue = !(primary && cpp->owned) || ho_demo_chance(&r, 0.1);
    ho_demo_sf_id(&r, queue ? "00G" : "005", owner);
    ho_demo_cp_email(&r, p->email, email, sizeof email);
    ho_demo_phone(&r, p, phone, sizeof phone);
    s_cp_title_company(&r, p, primary, title, sizeof title, company, sizeof company);
    ho_demo_cp_stage_t st = primary ? cpp->stage : CP_ML;
    const char *status = st == CP_SAL    ? "Working - Contacted"
                         : st == CP_SQL  ? "Closed - Converted"
                         : st == CP_DISQ ? "Closed - Not Converted"
                                         : "Open - Not Contacted";
    snprintf(emp, sizeof emp, "%ld", p->co.employees);
    snprintf(rev, sizeof rev, "%lld", p->co.revenue);
    ho_demo_fmt_time(p->file_created[F_SALESFORCE], "%Y-%m-%dT%H:%M:%S.000Z", created,
                     sizeof created);
    int64_t mod = p->file_created[F_SALESFORCE] + (int64_t)ho_demo_below(&r, 5 * DAY);
    ho_demo_fmt_time(mod < cp->wo.now_ms ? mod : cp->wo.now_ms, "%Y-%m-%dT%H:%M:%S.000Z", modified,
                     sizeof modified);
    static const char *const rating[] = {"Hot", "Warm", "Cold", ""};
    const ho_demo_country_t *ct = &ho_demo_countries[p->co.country];
    const char *v[21] = {id,
                         p->first,
                         p->last,
                         email,
                         title,
                         company[0] ? company : "[not provided]",
                         ho_demo_industry_sf(p),
                         PICK(&r, ho_demo_sf_sources),
                         status,
                         p->temp == 2 ? "Hot" : PICK(&r, rating),
                         phone,
                         ct->names[ho_demo_below(&r, 3)],
                         p->co.state >= 0 ? ho_demo_us_states[p->co.state].code : "",
                         ho_demo_city(p),
                         p->co.employees && ho_demo_chance(&r, 0.85) ? emp : "",
                         p->co.revenue ? rev : "",
                         p->temp == 2 ? PICK(&r, ho_demo_messages_hot) : "",
                         owner,
                         st == CP_SQL ? "true" : "false",
                         created,
                         modified};
    ho_demo_cp_emit(cw, v, 21, dirt, 3, 19, 16, &r);
}

static int s_cp_salesforce(const ho_demo_cp_t *cp, FILE *f)
{
    ho_demo_csvw_t cw = {f, true, true, "\n"};
    ho_demo_row(&cw, ho_demo_salesforce_cols, N_OF(ho_demo_salesforce_cols));
    return s_cp_crm_rows(cp, &cw, F_SALESFORCE, s_cp_sf_row);
}

static void s_cp_mk_row(const ho_demo_cp_t *cp, const ho_demo_cp_person_t *cpp, ho_demo_csvw_t *cw,
                        ho_demo_cp_dirt_t dirt)
{
    const ho_demo_person_t *p = &cpp->p;
    bool primary = cpp->primary == F_MARKETO;
    ho_demo_rng_t r =
        ho_demo_rng(cp->wo.seed, T_FILE, (uint64_t)p->i, 100 + F_MARKETO + (dirt ? 50 : 0));
    char id[24], email[512], phone[48], title[96], company[220], created[40], updated[40], emp[24],
        rev[32], score[8];
    snprintf(id, sizeof id, "%ld", 1000000 + p->i * 2 + (dirt ? 1 : 0));
    ho_demo_cp_email(&r, p->email, email, sizeof email);
    ho_demo_phone(&r, p, phone, sizeof phone);
    s_cp_title_company(&r, p, primary, title, sizeof title, company, sizeof company);
    snprintf(emp, sizeof emp, "%ld", p->co.employees);
    snprintf(rev, sizeof rev, "%lld", p->co.revenue);
    snprintf(score, sizeof score, "%d",
             p->temp == 2 ? 60 + (int)ho_demo_below(&r, 40) : (int)ho_demo_below(&r, 50));
    ho_demo_iso(p->file_created[F_MARKETO], created, sizeof created);
    int64_t up = p->file_created[F_MARKETO] + (int64_t)ho_demo_below(&r, 3 * DAY);
    ho_demo_iso(up < cp->wo.now_ms ? up : p->file_created[F_MARKETO], updated, sizeof updated);
    const ho_demo_country_t *ct = &ho_demo_countries[p->co.country];
    const char *status = primary && cpp->stage == CP_MQL
                             ? "Marketing Qualified"
                             : (ho_demo_chance(&r, 0.5) ? "New" : "Nurture");
    const char *v[18] = {id,
                         p->first,
                         p->last,
                         email,
                         title,
                         company,
                         ho_demo_industry_sf(p),
                         p->co.employees && ho_demo_chance(&r, 0.7) ? emp : "",
                         p->co.revenue ? rev : "",
                         phone,
                         ho_demo_city(p),
                         p->co.state >= 0 ? ho_demo_us_states[p->co.state].name : "",
                         ct->names[ho_demo_chance(&r, 0.85) ? 0 : 2],
                         PICK(&r, ho_demo_mk_sources),
                         status,
                         score,
                         created,
                         updated};
    ho_demo_cp_emit(cw, v, 18, dirt, 3, 16, 4, &r);
}

static int s_cp_marketo(const ho_demo_cp_t *cp, FILE *f)
{
    ho_demo_csvw_t cw = {f, true, false, "\n"};
    ho_demo_row(&cw, ho_demo_marketo_cols, N_OF(ho_demo_marketo_cols));
    return s_cp_crm_rows(cp, &cw, F_MARKETO, s_cp_mk_row);
}

/* ---- corpus: driver ---- */
static int s_cp_file(const char *dir, const char *name, int (*fn)(const ho_demo_cp_t *, FILE *),
                     const ho_demo_cp_t *cp, ho_err_t *err)
{
    char path[4096];
    FILE *f = ho_demo_open(dir, name, path, sizeof path, err);
    if (!f) {
        return HO_ERR_IO;
    }
    return ho_demo_close(f, fn(cp, f), path, err);
}

static int s_cp_forms_file(const ho_demo_cp_t *cp, FILE *f)
{
    (void)cp;
    json_t *forms = ho_demo_linkedin_forms();
    int rc = json_dumpf(forms, f, JSON_INDENT(2));
    fputc('\n', f);
    json_decref(forms);
    return rc;
}

static int s_cp_activity_files(ho_demo_cp_t *cp, ho_err_t *err)
{
    ho_demo_cp_parts_t parts = {.nparts = cp->o->activity_files};
    char paths[CP_MAX_PARTS][4096];
    int rc = HO_OK;
    for (int k = 0; k < parts.nparts; k++) {
        char name[64];
        snprintf(name, sizeof name, "activities_%02d.csv", k + 1);
        parts.part[k] = ho_demo_open(cp->o->out_dir, name, paths[k], sizeof paths[k], err);
        if (!parts.part[k]) {
            rc = HO_ERR_IO;
        }
    }
    int wrc = rc == HO_OK ? ho_demo_cp_activities(cp, &parts) : -1;
    for (int k = 0; k < parts.nparts; k++) {
        if (parts.part[k]) {
            int crc = ho_demo_close(parts.part[k], wrc, paths[k], err);
            rc = rc == HO_OK ? crc : rc;
        }
    }
    return rc;
}

int ho_demo_corpus(const ho_demo_corpus_opts_t *opts, ho_err_t *err)
{
    ho_demo_corpus_opts_t o = *opts;
    if (o.people <= 0 || o.activities < 0 || o.feedback < 0) {
        return ho_err_set(err, HO_ERR_CONFIG, "", "people must be positive, counts not negative");
    }
    if (!o.now_ms) {
        o.now_ms = HO_DEMO_NOW_DEFAULT;
    }
    if (o.activity_files <= 0) {
        o.activity_files = 3;
    }
    if (o.activity_files > CP_MAX_PARTS) {
        o.activity_files = CP_MAX_PARTS;
    }
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/sales_reps", o.out_dir);
    if ((mkdir(o.out_dir, 0755) != 0 && errno != EEXIST) ||
        (mkdir(sub, 0755) != 0 && errno != EEXIST)) {
        return ho_err_set(err, HO_ERR_IO, "", "%s: %s", o.out_dir, strerror(errno));
    }
    ho_demo_cp_t cp = {.o = &o};
    cp.wo = (ho_demo_opts_t){.seed = o.seed, .now_ms = o.now_ms, .leads = o.people};
    cp.w = (ho_demo_world_t){&cp.wo, o.people / 4 > 12 ? o.people / 4 : 12};
    if (cp.w.n_companies > 200000) {
        cp.w.n_companies = 200000;
    }
    for (int k = 0; k < CP_NREPS; k++) {
        ho_err_t tzerr;
        cp.tz[k] = ho_tz_load(ho_demo_cp_reps[k].tz, &tzerr); /* NULL: that rep writes UTC */
    }
    for (long i = 0; i < o.people; i++) {
        cp.act_weight_sum += ho_demo_cp_act_weight(&cp, i);
    }
    int rc = s_cp_file(o.out_dir, "hubspot_contacts.csv", s_cp_hubspot, &cp, err);
    if (rc == HO_OK) {
        rc = s_cp_file(o.out_dir, "salesforce_leads.csv", s_cp_salesforce, &cp, err);
    }
    if (rc == HO_OK) {
        rc = s_cp_file(o.out_dir, "marketo_leads.csv", s_cp_marketo, &cp, err);
    }
    if (rc == HO_OK) {
        rc = s_cp_file(o.out_dir, "form_webhooks.jsonl", ho_demo_cp_webhooks, &cp, err);
    }
    if (rc == HO_OK) {
        rc = s_cp_file(o.out_dir, "linkedin_lead_forms.json", s_cp_forms_file, &cp, err);
    }
    if (rc == HO_OK) {
        rc = s_cp_activity_files(&cp, err);
    }
    if (rc == HO_OK) {
        rc = s_cp_file(o.out_dir, "feedback.csv", ho_demo_cp_feedback, &cp, err);
    }
    if (rc == HO_OK) {
        rc = s_cp_file(sub, "reps.csv", ho_demo_cp_reps_file, &cp, err);
    }
    for (int k = 0; k < CP_NREPS; k++) {
        ho_tz_destroy(&cp.tz[k]);
    }
    return rc;
}
