/* demo_world.c - the demo world: companies and people as pure functions of (seed, index),
 * formatting helpers, a CSV row writer; see demo_internal.h */
#include "connectors/demo/demo_internal.h"

static void s_lower_ascii(char *s)
{
    for (; *s; s++) {
        if (*s >= 'A' && *s <= 'Z') {
            *s = (char)(*s - 'A' + 'a');
        }
    }
}

/* Lowercase ASCII letters only; transliterate the few non-ASCII letters of our name lists. */
static void s_slug(const char *in, char *out, size_t cap)
{
    static const char *const map[][2] = {{"ö", "o"}, {"ü", "u"}, {"ä", "a"}, {"ó", "o"},
                                         {"é", "e"}, {"å", "a"}, {"ø", "o"}};
    size_t o = 0;
    for (const char *p = in; *p && o + 1 < cap;) {
        bool done = false;
        for (size_t k = 0; k < N_OF(map); k++) {
            size_t l = strlen(map[k][0]);
            if (strncmp(p, map[k][0], l) == 0) {
                out[o++] = map[k][1][0];
                p += l;
                done = true;
                break;
            }
        }
        if (done) {
            continue;
        }
        char c = *p++;
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            out[o++] = c;
        }
    }
    out[o] = '\0';
}

static int s_pick_country(ho_demo_rng_t *r)
{
    int total = 0;
    for (size_t i = 0; i < N_OF(ho_demo_countries); i++) {
        total += ho_demo_countries[i].weight;
    }
    int x = (int)ho_demo_below(r, (uint64_t)total);
    for (size_t i = 0; i < N_OF(ho_demo_countries); i++) {
        if (x < ho_demo_countries[i].weight) {
            return (int)i;
        }
        x -= ho_demo_countries[i].weight;
    }
    return 0;
}

void ho_demo_company(const ho_demo_world_t *w, long c, ho_demo_company_t *co)
{
    ho_demo_rng_t r = ho_demo_rng(w->o->seed, T_COMPANY, (uint64_t)c, 0);
    memset(co, 0, sizeof *co);
    co->company = c;
    co->industry = (int)ho_demo_below(&r, N_OF(ho_demo_industries));
    co->country = s_pick_country(&r);
    co->state = -1;
    if (strcmp(ho_demo_countries[co->country].code, "US") == 0) {
        co->state = (int)ho_demo_below(&r, N_OF(ho_demo_us_states));
        /* California is outside the sales territories on purpose (rarely: fallback queue) */
        if (co->state == (int)N_OF(ho_demo_us_states) - 1 && !ho_demo_chance(&r, 0.3)) {
            co->state = (int)ho_demo_below(&r, N_OF(ho_demo_us_states) - 1);
        }
    }
    co->city = (int)ho_demo_below(&r, 3);
    double u = ho_demo_unit(&r);
    co->employees = u < 0.35   ? 5 + (long)ho_demo_below(&r, 95)
                    : u < 0.65 ? 100 + (long)ho_demo_below(&r, 900)
                               : 1001 + (long)ho_demo_below(&r, 24000);
    co->revenue = ho_demo_chance(&r, 0.6)
                      ? (long long)co->employees * (80000 + (long long)ho_demo_below(&r, 300000))
                      : 0;
    const ho_demo_industry_t *ind = &ho_demo_industries[co->industry];
    const char *word = ho_demo_words[c % (long)N_OF(ho_demo_words)];
    const char *sector = ind->sector[(c / (long)N_OF(ho_demo_words)) % 3];
    long gen = c / (long)(N_OF(ho_demo_words) * 3);
    const ho_demo_country_t *ct = &ho_demo_countries[co->country];
    const char *legal = ct->legal[ho_demo_below(&r, 2)];
    char sw[40], ss[40];
    s_slug(word, sw, sizeof sw);
    s_slug(sector, ss, sizeof ss);
    if (gen > 0) {
        snprintf(co->name, sizeof co->name, "%s %s %ld %s", word, sector, gen + 1, legal);
        snprintf(co->domain, sizeof co->domain, "%s%s%ld%s", sw, ss, gen + 1, ct->tld);
    } else {
        snprintf(co->name, sizeof co->name, "%s %s%s%s", word, sector,
                 strcmp(ct->code, "US") == 0 ? ", " : " ", legal);
        snprintf(co->domain, sizeof co->domain, "%s%s%s%s", sw, c % 3 == 0 ? "-" : "", ss, ct->tld);
    }
}

void ho_demo_person(const ho_demo_world_t *w, long i, ho_demo_person_t *p)
{
    ho_demo_rng_t r = ho_demo_rng(w->o->seed, T_PERSON, (uint64_t)i, 0);
    memset(p, 0, sizeof *p);
    p->i = i;
    long nf = (long)N_OF(ho_demo_first), nl = (long)N_OF(ho_demo_last);
    /* (first, last, round) is unique per i, so emails never collide by accident */
    snprintf(p->first, sizeof p->first, "%s", ho_demo_first[i % nf]);
    snprintf(p->last, sizeof p->last, "%s", ho_demo_last[(i / nf + i) % nl]);
    long round = i / (nf * nl);
    double u = ho_demo_unit(&r);
    p->kind = u < 0.09 ? P_PERSONAL : u < 0.14 ? P_STUDENT : u < 0.19 ? P_NONPROFIT : P_NORMAL;
    ho_demo_company(w, (long)ho_demo_below(&r, (uint64_t)w->n_companies), &p->co);
    char fs[48], ls[48], local[120];
    s_slug(p->first, fs, sizeof fs);
    s_slug(p->last, ls, sizeof ls);
    char suffix[24] = "";
    if (round > 0) {
        snprintf(suffix, sizeof suffix, "%ld", round + 1);
    }
    int fmt = (int)ho_demo_below(&r, 4);
    if (fmt == 0 || fmt == 1) {
        snprintf(local, sizeof local, "%s.%s%s", fs, ls, suffix);
    } else if (fmt == 2) {
        snprintf(local, sizeof local, "%s_%s%s", fs, ls, suffix);
    } else {
        snprintf(local, sizeof local, "%s.%s%s", ls, fs, suffix);
    }
    const char *domain = p->co.domain;
    char dombuf[200];
    if (p->kind == P_PERSONAL) {
        domain = PICK(&r, ho_demo_personal_domains);
        snprintf(local + strlen(local), sizeof local - strlen(local), "%02d", (int)(i % 97));
        /* some fill in a real employer and a senior title but sign up from a free mailbox:
         * the model can score them an MQL, the rep cannot verify them (personal_email) */
        p->at_work = ho_demo_chance(&r, 0.45);
        if (p->at_work) {
            double t = ho_demo_unit(&r);
            p->temp = t < 0.4 ? 2 : t < 0.75 ? 1 : 0;
            snprintf(p->title, sizeof p->title, "%s",
                     p->temp == 2 ? PICK(&r, ho_demo_title_hot) : PICK(&r, ho_demo_title_mid));
        } else {
            snprintf(p->title, sizeof p->title, "%s", PICK(&r, ho_demo_title_personal));
            p->co.name[0] = '\0';
            p->co.employees = 0;
            p->co.revenue = 0;
            p->temp = ho_demo_chance(&r, 0.2) ? 1 : 0;
        }
    } else if (p->kind == P_STUDENT && ho_demo_chance(&r, 0.4)) {
        /* an intern at a customer-like company: a work address, eager, cannot buy */
        p->at_work = true;
        snprintf(p->title, sizeof p->title, "%s", PICK(&r, ho_demo_title_intern));
        p->temp = ho_demo_chance(&r, 0.5) ? 2 : 1;
    } else if (p->kind == P_STUDENT) {
        const char *word = ho_demo_words[(i / 7) % (long)N_OF(ho_demo_words)];
        char sw[48];
        s_slug(word, sw, sizeof sw);
        bool us = strcmp(ho_demo_countries[p->co.country].code, "US") == 0;
        snprintf(p->co.name, sizeof p->co.name, "%s %s", word,
                 us ? "State University" : "University");
        snprintf(dombuf, sizeof dombuf, us ? "%s-state.edu" : "uni-%s%s", sw,
                 us ? "" : ho_demo_countries[p->co.country].tld);
        domain = dombuf;
        snprintf(p->co.domain, sizeof p->co.domain, "%s", dombuf);
        p->co.industry = IND_EDU;
        p->co.employees = 2000 + (long)ho_demo_below(&r, 8000);
        p->co.revenue = 0;
        snprintf(p->title, sizeof p->title, "%s", PICK(&r, ho_demo_title_student));
        p->temp = ho_demo_chance(&r, 0.3) ? 1 : 0;
    } else if (p->kind == P_NONPROFIT) {
        const char *word = ho_demo_words[(i / 5) % (long)N_OF(ho_demo_words)];
        char sw[48];
        s_slug(word, sw, sizeof sw);
        snprintf(p->co.name, sizeof p->co.name, "%s %s", word,
                 ho_demo_chance(&r, 0.5) ? "Foundation" : "Community Trust");
        snprintf(dombuf, sizeof dombuf, "%s-foundation.org", sw);
        domain = dombuf;
        snprintf(p->co.domain, sizeof p->co.domain, "%s", dombuf);
        p->co.industry = IND_NONPROFIT;
        p->co.employees = 5 + (long)ho_demo_below(&r, 60);
        p->co.revenue = 0;
        snprintf(p->title, sizeof p->title, "%s",
                 ho_demo_chance(&r, 0.5) ? "Program Director" : "Volunteer Coordinator");
        p->temp = ho_demo_chance(&r, 0.25) ? 1 : 0;
    } else {
        double t = ho_demo_unit(&r);
        bool big = p->co.employees > 1000;
        p->temp = (t < (big ? 0.45 : 0.18)) ? 2 : (t < 0.55 ? 1 : 0);
        const char *title = p->temp == 2   ? PICK(&r, ho_demo_title_hot)
                            : p->temp == 1 ? PICK(&r, ho_demo_title_mid)
                                           : PICK(&r, ho_demo_title_cold);
        snprintf(p->title, sizeof p->title, "%s", title);
    }
    snprintf(p->email, sizeof p->email, "%s@%s", local, domain);
    s_lower_ascii(p->email);
    p->created_at =
        w->o->now_ms - HOUR - (int64_t)ho_demo_below(&r, (uint64_t)(HISTORY - 2 * HOUR));
    p->created_at -= p->created_at % 1000;
    double f = ho_demo_unit(&r);
    ho_demo_file_t primary = f < 0.40   ? F_HUBSPOT
                             : f < 0.65 ? F_SALESFORCE
                             : f < 0.80 ? F_MARKETO
                                        : F_WEBHOOK;
    p->in_file[primary] = true;
    p->file_created[primary] = p->created_at;
    if (ho_demo_chance(&r, 0.18)) {
        ho_demo_file_t second =
            (ho_demo_file_t)((primary + 1 + ho_demo_below(&r, F_NFILES - 1)) % F_NFILES);
        p->in_file[second] = true;
        int64_t later = p->created_at + (int64_t)ho_demo_below(&r, 20 * DAY);
        if (later > w->o->now_ms - HOUR) {
            later = w->o->now_ms - HOUR;
        }
        p->file_created[second] = later - later % 1000;
    }
    double s = ho_demo_unit(&r);
    p->shape = s < 0.35 ? W_FACEBOOK : s < 0.6 ? W_LINKEDIN : s < 0.8 ? W_HSFORM : W_TYPEFORM;
}

/* How a file writes the address: mostly as is, sometimes in capitals or with stray spaces
 * (the same person must still be recognised). */
void ho_demo_email_variant(ho_demo_rng_t *r, const char *email, char *out, size_t cap)
{
    double u = ho_demo_unit(r);
    if (u < 0.06) {
        snprintf(out, cap, "%s", email);
        for (char *c = out; *c; c++) {
            if (*c >= 'a' && *c <= 'z') {
                *c = (char)(*c - 'a' + 'A');
            }
        }
    } else if (u < 0.11) {
        snprintf(out, cap, "%s", email);
        if (out[0] >= 'a' && out[0] <= 'z') {
            out[0] = (char)(out[0] - 'a' + 'A');
        }
        char *dot = strchr(out, '.');
        char *at = strchr(out, '@');
        if (dot && at && dot < at && dot[1] >= 'a' && dot[1] <= 'z') {
            dot[1] = (char)(dot[1] - 'a' + 'A');
        }
    } else if (u < 0.15) {
        snprintf(out, cap, " %s\t", email);
    } else if (u < 0.17) {
        snprintf(out, cap, "%s ", email);
    } else {
        snprintf(out, cap, "%s", email);
    }
}

/* ---- formatting helpers ---- */
void ho_demo_fmt_time(int64_t ms, const char *fmt, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, fmt, &tm);
}

void ho_demo_iso(int64_t ms, char *out, size_t cap)
{
    ho_demo_fmt_time(ms, "%Y-%m-%dT%H:%M:%SZ", out, cap);
}

const char *ho_demo_hs_bucket(long n)
{
    return n <= 5      ? "1-5"
           : n <= 25   ? "5-25"
           : n <= 50   ? "25-50"
           : n <= 100  ? "50-100"
           : n <= 500  ? "100-500"
           : n <= 1000 ? "500-1000"
                       : "1000+";
}

const char *ho_demo_industry_hs(const ho_demo_person_t *p)
{
    if (p->co.industry == IND_EDU) {
        return "Higher Education";
    }
    if (p->co.industry == IND_NONPROFIT) {
        return "Non-Profit Organization Management";
    }
    if (p->kind == P_PERSONAL && !p->at_work) {
        return "";
    }
    return ho_demo_industries[p->co.industry].hubspot;
}

const char *ho_demo_industry_sf(const ho_demo_person_t *p)
{
    if (p->co.industry == IND_EDU) {
        return "Education";
    }
    if (p->co.industry == IND_NONPROFIT) {
        return "Not For Profit";
    }
    if (p->kind == P_PERSONAL && !p->at_work) {
        return "";
    }
    return ho_demo_industries[p->co.industry].salesforce;
}

const char *ho_demo_city(const ho_demo_person_t *p)
{
    if (p->co.state >= 0) {
        return ho_demo_us_states[p->co.state].city;
    }
    return ho_demo_cities[p->co.country][p->co.city];
}

void ho_demo_phone(ho_demo_rng_t *r, const ho_demo_person_t *p, char *out, size_t cap)
{
    if (ho_demo_chance(r, 0.35)) {
        out[0] = '\0';
        return;
    }
    int n = 100 + (int)ho_demo_below(r, 99);
    if (p->co.state >= 0) {
        snprintf(out, cap, "%s0%d", ho_demo_us_states[p->co.state].phone_prefix, n);
    } else {
        snprintf(out, cap, "%s%d", ho_demo_phone_prefix[p->co.country], n);
    }
}

void ho_demo_cell(ho_demo_csvw_t *w, const char *s)
{
    if (!w->first) {
        fputc(',', w->f);
    }
    w->first = false;
    ho_csv_write_field(w->f, s ? s : "", w->all_quoted);
}

void ho_demo_cellf(ho_demo_csvw_t *w, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ho_demo_cell(w, buf);
}

void ho_demo_endrow(ho_demo_csvw_t *w)
{
    fputs(w->eol, w->f);
    w->first = true;
}

void ho_demo_json_line(FILE *f, json_t *doc)
{
    char *line = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (line) {
        fputs(line, f);
        fputc('\n', f);
        free(line);
    }
}

void ho_demo_row(ho_demo_csvw_t *w, const char *const *v, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        ho_demo_cell(w, v[k]);
    }
    ho_demo_endrow(w);
}
