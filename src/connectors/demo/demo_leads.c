/* demo_leads.c - the CSV lead exports of the demo world: HubSpot contacts, Salesforce leads,
 * Marketo leads; see demo_internal.h */
#include "connectors/demo/demo_internal.h"

/* The export headers, shared by the demo world and the corpus generator. */
const char *const ho_demo_hubspot_cols[] = {"Record ID",
                                            "First Name",
                                            "Last Name",
                                            "Email",
                                            "Phone Number",
                                            "Job Title",
                                            "Company Name",
                                            "Industry",
                                            "Number of Employees",
                                            "Annual Revenue",
                                            "Country/Region",
                                            "State/Region",
                                            "City",
                                            "Lifecycle Stage",
                                            "Lead Status",
                                            "Original Source",
                                            "Original Source Drill-Down 1",
                                            "HubSpot Score",
                                            "Contact owner",
                                            "Create Date",
                                            "Last Activity Date",
                                            "Marketing emails opened",
                                            "Marketing emails clicked",
                                            "Number of Pageviews",
                                            "Recent Conversion",
                                            "Message"};
const char *const ho_demo_salesforce_cols[] = {"Id",
                                               "FirstName",
                                               "LastName",
                                               "Email",
                                               "Title",
                                               "Company",
                                               "Industry",
                                               "LeadSource",
                                               "Status",
                                               "Rating",
                                               "Phone",
                                               "Country",
                                               "State",
                                               "City",
                                               "NumberOfEmployees",
                                               "AnnualRevenue",
                                               "Description",
                                               "OwnerId",
                                               "IsConverted",
                                               "CreatedDate",
                                               "LastModifiedDate"};
const char *const ho_demo_marketo_cols[] = {
    "id",       "firstName",         "lastName",      "email",     "title",     "company",
    "industry", "numberOfEmployees", "annualRevenue", "phone",     "city",      "state",
    "country",  "leadSource",        "leadStatus",    "leadScore", "createdAt", "updatedAt"};

/* ---- HubSpot ---- */
/* The HubSpot export's dirty rows of one kind (what: 0 missing email, 1 bad date, 2 bad
 * email, 3 too few columns), reps of them. */
static void s_hubspot_dirty(const ho_demo_world_t *w, FILE *f, ho_demo_csvw_t *cw,
                            ho_demo_count_t *c, int what, long reps)
{
    for (long d = 0; d < reps; d++) {
        ho_demo_rng_t r = ho_demo_rng(w->o->seed, T_DIRTY, 100 + what, (uint64_t)d);
        long id = 90000000000L + (long)ho_demo_below(&r, 9999999999L);
        if (what == 3) {
            fprintf(f, "%ld,Truncated,Row,broken.row%ld@example-truncated.com,,Analyst\r\n", id, d);
            c->q_columns++;
        } else {
            ho_demo_cellf(cw, "%ld", id);
            ho_demo_cell(cw, PICK(&r, ho_demo_first));
            ho_demo_cell(cw, PICK(&r, ho_demo_last));
            if (what == 0) {
                ho_demo_cell(cw, "");
                c->q_missing_email++;
            } else if (what == 1) {
                ho_demo_cellf(cw, "dated.badly%ld@%s", d, "kestrel-analytics.com");
                c->q_bad_date++;
            } else {
                ho_demo_cell(cw, "n/a");
                c->q_bad_email++;
            }
            for (int k = 4; k < 19; k++) {
                ho_demo_cell(cw, k == 10 ? "USA" : k == 13 ? "Lead" : "");
            }
            ho_demo_cell(cw, what == 1 ? "31/13/2026 25:61" : "2026-11-02 10:00");
            for (int k = 20; k < 26; k++) {
                ho_demo_cell(cw, "");
            }
            ho_demo_endrow(cw);
        }
        c->records++;
    }
}

int ho_demo_write_hubspot(const ho_demo_world_t *w, FILE *f, ho_demo_count_t *c, char *seen)
{
    ho_demo_csvw_t cw = {f, true, false, "\r\n"};
    fputs("\xEF\xBB\xBF", f);
    ho_demo_row(&cw, ho_demo_hubspot_cols, N_OF(ho_demo_hubspot_cols));
    long n = w->o->leads;
    long kd = n / 200 + 1;
    long every = ho_demo_dirty_every(n, 4);
    long dirty_no = 0;
    for (long i = 0; i < n; i++) {
        /* dirty rows: missing email, bad date, bad email, too few columns (x kd for the
         * first two) */
        int what = ho_demo_dirty_slot(i, every, 4, &dirty_no);
        if (what >= 0) {
            long reps = what < 2 ? kd : 1;
            s_hubspot_dirty(w, f, &cw, c, what, reps);
        }
        ho_demo_person_t p;
        ho_demo_person(w, i, &p);
        if (!p.in_file[F_HUBSPOT]) {
            continue;
        }
        ho_demo_rng_t r = ho_demo_rng(w->o->seed, T_FILE, (uint64_t)i, F_HUBSPOT);
        char email[512], phone[48], when[32], last[32];
        ho_demo_email_variant(&r, p.email, email, sizeof email);
        ho_demo_phone(&r, &p, phone, sizeof phone);
        ho_demo_cellf(&cw, "%ld", 10000000000L + (long)(ho_demo_next(&r) % 89999999999ULL));
        ho_demo_cell(&cw, p.first);
        ho_demo_cell(&cw, p.last);
        ho_demo_cell(&cw, email);
        ho_demo_cell(&cw, phone);
        ho_demo_cell(&cw, p.title);
        ho_demo_cell(&cw, p.co.name);
        ho_demo_cell(&cw, ho_demo_industry_hs(&p));
        ho_demo_cell(&cw, p.co.employees && ho_demo_chance(&r, 0.8)
                              ? ho_demo_hs_bucket(p.co.employees)
                              : "");
        if (p.co.revenue) {
            ho_demo_cellf(&cw, "%lld", p.co.revenue);
        } else {
            ho_demo_cell(&cw, "");
        }
        const ho_demo_country_t *ct = &ho_demo_countries[p.co.country];
        ho_demo_cell(&cw, ct->names[ho_demo_chance(&r, 0.7) ? 0 : 1]);
        if (p.co.state >= 0) {
            ho_demo_cell(&cw, ho_demo_chance(&r, 0.7) ? ho_demo_us_states[p.co.state].name
                                                      : ho_demo_us_states[p.co.state].code);
        } else {
            ho_demo_cell(&cw, "");
        }
        ho_demo_cell(&cw, ho_demo_city(&p));
        static const char *const stages[] = {"Subscriber", "Lead", "Lead",
                                             "Marketing Qualified Lead"};
        static const char *const statuses[] = {
            "New",       "Open",        "In Progress", "", "Attempted to Contact",
            "Connected", "Unqualified", "Bad Timing"};
        ho_demo_cell(&cw, p.temp == 2 && ho_demo_chance(&r, 0.5) ? "Marketing Qualified Lead"
                                                                 : PICK(&r, stages));
        ho_demo_cell(&cw, PICK(&r, statuses));
        size_t src = ho_demo_below(&r, N_OF(ho_demo_hs_sources));
        ho_demo_cell(&cw, ho_demo_hs_sources[src][0]);
        ho_demo_cell(&cw, ho_demo_hs_sources[src][1]);
        ho_demo_cellf(&cw, "%d",
                      p.temp == 2 ? 50 + (int)ho_demo_below(&r, 45) : (int)ho_demo_below(&r, 45));
        ho_demo_cell(&cw, "");
        ho_demo_fmt_time(p.file_created[F_HUBSPOT], "%Y-%m-%d %H:%M", when, sizeof when);
        ho_demo_cell(&cw, when);
        int64_t la = p.file_created[F_HUBSPOT] + (int64_t)ho_demo_below(&r, 10 * DAY);
        if (la < w->o->now_ms && ho_demo_chance(&r, 0.8)) {
            ho_demo_fmt_time(la, "%Y-%m-%d %H:%M", last, sizeof last);
            ho_demo_cell(&cw, last);
        } else {
            ho_demo_cell(&cw, "");
        }
        ho_demo_cellf(&cw, "%d", (int)ho_demo_below(&r, 30));
        ho_demo_cellf(&cw, "%d", (int)ho_demo_below(&r, 8));
        ho_demo_cellf(&cw, "%d", (int)ho_demo_below(&r, 90));
        ho_demo_cell(&cw, PICK(&r, ho_demo_conversions));
        ho_demo_cell(&cw, p.temp == 2 ? PICK(&r, ho_demo_messages_hot)
                                      : PICK(&r, ho_demo_messages_cold));
        ho_demo_endrow(&cw);
        c->records++;
        c->accepted++;
        if (seen) {
            seen[i] |= 1;
        }
    }
    return ferror(f) ? -1 : 0;
}

/* ---- Salesforce ---- */
void ho_demo_sf_id(ho_demo_rng_t *r, const char *prefix, char *out)
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    memcpy(out, prefix, 3);
    memcpy(out + 3, "8d0000", 6);
    for (int k = 9; k < 18; k++) {
        out[k] = alnum[ho_demo_below(r, sizeof alnum - 1)];
    }
    out[18] = '\0';
}

int ho_demo_write_salesforce(const ho_demo_world_t *w, FILE *f, ho_demo_count_t *c, char *seen)
{
    ho_demo_csvw_t cw = {f, true, true, "\n"};
    ho_demo_row(&cw, ho_demo_salesforce_cols, N_OF(ho_demo_salesforce_cols));
    long n = w->o->leads;
    long kd = n / 300 + 1;
    long every = ho_demo_dirty_every(n, 3);
    long dirty_no = 0;
    for (long i = 0; i < n; i++) {
        int what = ho_demo_dirty_slot(i, every, 3, &dirty_no);
        if (what >= 0) {
            long reps = what == 0 ? kd : 1;
            for (long d = 0; d < reps; d++) {
                ho_demo_rng_t r = ho_demo_rng(w->o->seed, T_DIRTY, 200 + what, (uint64_t)d);
                char id[20];
                ho_demo_sf_id(&r, "00Q", id);
                const char *email = what == 0 ? "" : "quentin.baddate@juniper-ledger.com";
                const char *created =
                    what == 1 ? "2026-02-30T10:00:00.000Z" : "2026-10-20T10:00:00.000Z";
                const char *vals[21] = {id,      "Quentin",  "Nodate",
                                        email,   "Analyst",  "[not provided]",
                                        "",      "Web",      "Open - Not Contacted",
                                        "",      "",         "US",
                                        "NY",    "New York", "",
                                        "",      "",         "0058d0000mkxcOOAAY",
                                        "false", created,    created};
                for (int k = 0; k < 21; k++) {
                    ho_demo_cell(&cw, vals[k]);
                }
                if (what == 2) {
                    /* a stray extra column, as when a Description comma was not quoted */
                    ho_demo_cell(&cw, "extra");
                    c->q_columns++;
                } else if (what == 0) {
                    c->q_missing_email++;
                } else {
                    c->q_bad_date++;
                }
                ho_demo_endrow(&cw);
                c->records++;
            }
        }
        ho_demo_person_t p;
        ho_demo_person(w, i, &p);
        if (!p.in_file[F_SALESFORCE]) {
            continue;
        }
        ho_demo_rng_t r = ho_demo_rng(w->o->seed, T_FILE, (uint64_t)i, F_SALESFORCE);
        char id[20], owner[20], email[200], phone[48], created[40], modified[40];
        ho_demo_sf_id(&r, "00Q", id);
        ho_demo_sf_id(&r, ho_demo_chance(&r, 0.85) ? "005" : "00G", owner);
        ho_demo_email_variant(&r, p.email, email, sizeof email);
        ho_demo_phone(&r, &p, phone, sizeof phone);
        ho_demo_cell(&cw, id);
        ho_demo_cell(&cw, p.first);
        ho_demo_cell(&cw, p.last);
        ho_demo_cell(&cw, email);
        ho_demo_cell(&cw, p.title);
        ho_demo_cell(&cw, p.co.name[0] ? p.co.name : "[not provided]");
        ho_demo_cell(&cw, ho_demo_industry_sf(&p));
        ho_demo_cell(&cw, PICK(&r, ho_demo_sf_sources));
        static const char *const st[] = {"Open - Not Contacted", "Working - Contacted",
                                         "Closed - Not Converted", "Open - Not Contacted"};
        ho_demo_cell(&cw, PICK(&r, st));
        static const char *const rating[] = {"Hot", "Warm", "Cold", ""};
        ho_demo_cell(&cw, p.temp == 2 ? "Hot" : PICK(&r, rating));
        ho_demo_cell(&cw, phone);
        const ho_demo_country_t *ct = &ho_demo_countries[p.co.country];
        ho_demo_cell(&cw,
                     ct->names[ho_demo_below(&r, 3) == 0 ? 0 : (ho_demo_chance(&r, 0.5) ? 1 : 2)]);
        ho_demo_cell(&cw, p.co.state >= 0 ? ho_demo_us_states[p.co.state].code : "");
        ho_demo_cell(&cw, ho_demo_city(&p));
        if (p.co.employees && ho_demo_chance(&r, 0.85)) {
            ho_demo_cellf(&cw, "%ld", p.co.employees);
        } else {
            ho_demo_cell(&cw, "");
        }
        if (p.co.revenue) {
            ho_demo_cellf(&cw, "%lld", p.co.revenue);
        } else {
            ho_demo_cell(&cw, "");
        }
        ho_demo_cell(&cw, p.temp == 2 ? PICK(&r, ho_demo_messages_hot) : "");
        ho_demo_cell(&cw, owner);
        ho_demo_cell(&cw, "false");
        ho_demo_fmt_time(p.file_created[F_SALESFORCE], "%Y-%m-%dT%H:%M:%S.000Z", created,
                         sizeof created);
        int64_t mod = p.file_created[F_SALESFORCE] + (int64_t)ho_demo_below(&r, 5 * DAY);
        if (mod > w->o->now_ms) {
            mod = w->o->now_ms;
        }
        ho_demo_fmt_time(mod, "%Y-%m-%dT%H:%M:%S.000Z", modified, sizeof modified);
        ho_demo_cell(&cw, created);
        ho_demo_cell(&cw, modified);
        ho_demo_endrow(&cw);
        c->records++;
        c->accepted++;
        if (seen) {
            seen[i] |= 2;
        }
    }
    return ferror(f) ? -1 : 0;
}

/* ---- Marketo (Bulk Lead Extract: REST API field names) ---- */
int ho_demo_write_marketo(const ho_demo_world_t *w, FILE *f, ho_demo_count_t *c, char *seen)
{
    ho_demo_csvw_t cw = {f, true, false, "\n"};
    ho_demo_row(&cw, ho_demo_marketo_cols, N_OF(ho_demo_marketo_cols));
    long n = w->o->leads;
    long every = ho_demo_dirty_every(n, 2);
    long dirty_no = 0;
    for (long i = 0; i < n; i++) {
        int what = ho_demo_dirty_slot(i, every, 2, &dirty_no);
        if (what >= 0) {
            if (what == 0) {
                fputs("9900001,Nomail,Person,,Analyst,Tamarack Freight Inc.,Transportation,,,,"
                      "Denver,Colorado,United States,Website,New,0,2026-10-01T08:00:00Z,"
                      "2026-10-01T08:00:00Z\n",
                      f);
                c->q_missing_email++;
            } else {
                fputs(
                    "9900002,Bad,Address,bad.address@@larch-telecom.com,Analyst,Larch Telecom Ltd,"
                    "Telecommunications,,,,London,,United Kingdom,Website,New,0,"
                    "2026-10-02T08:00:00Z,2026-10-02T08:00:00Z\n",
                    f);
                c->q_bad_email++;
            }
            c->records++;
        }
        ho_demo_person_t p;
        ho_demo_person(w, i, &p);
        if (!p.in_file[F_MARKETO]) {
            continue;
        }
        ho_demo_rng_t r = ho_demo_rng(w->o->seed, T_FILE, (uint64_t)i, F_MARKETO);
        char email[512], phone[48], created[40], updated[40];
        ho_demo_email_variant(&r, p.email, email, sizeof email);
        ho_demo_phone(&r, &p, phone, sizeof phone);
        ho_demo_cellf(&cw, "%ld", 1000000 + i);
        ho_demo_cell(&cw, p.first);
        ho_demo_cell(&cw, p.last);
        ho_demo_cell(&cw, email);
        ho_demo_cell(&cw, p.title);
        ho_demo_cell(&cw, p.co.name);
        ho_demo_cell(&cw, ho_demo_industry_sf(&p));
        if (p.co.employees && ho_demo_chance(&r, 0.7)) {
            ho_demo_cellf(&cw, "%ld", p.co.employees);
        } else {
            ho_demo_cell(&cw, "");
        }
        if (p.co.revenue) {
            ho_demo_cellf(&cw, "%lld", p.co.revenue);
        } else {
            ho_demo_cell(&cw, "");
        }
        ho_demo_cell(&cw, phone);
        ho_demo_cell(&cw, ho_demo_city(&p));
        ho_demo_cell(&cw, p.co.state >= 0 ? ho_demo_us_states[p.co.state].name : "");
        const ho_demo_country_t *ct = &ho_demo_countries[p.co.country];
        ho_demo_cell(&cw, ct->names[ho_demo_chance(&r, 0.85) ? 0 : 2]);
        ho_demo_cell(&cw, PICK(&r, ho_demo_mk_sources));
        static const char *const st[] = {"New", "Nurture", "Marketing Qualified", "Open"};
        ho_demo_cell(&cw, PICK(&r, st));
        ho_demo_cellf(&cw, "%d",
                      p.temp == 2 ? 60 + (int)ho_demo_below(&r, 40) : (int)ho_demo_below(&r, 50));
        ho_demo_iso(p.file_created[F_MARKETO], created, sizeof created);
        ho_demo_iso(p.file_created[F_MARKETO] + (int64_t)ho_demo_below(&r, 3 * DAY) < w->o->now_ms
                        ? p.file_created[F_MARKETO] + (int64_t)ho_demo_below(&r, 3 * DAY)
                        : p.file_created[F_MARKETO],
                    updated, sizeof updated);
        ho_demo_cell(&cw, created);
        ho_demo_cell(&cw, updated);
        ho_demo_endrow(&cw);
        c->records++;
        c->accepted++;
        if (seen) {
            seen[i] |= 4;
        }
    }
    return ferror(f) ? -1 : 0;
}
