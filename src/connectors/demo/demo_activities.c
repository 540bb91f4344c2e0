/* demo_activities.c - the engagement events of the demo world (activities.csv, Marketo bulk
 * extract layout); see demo_internal.h */
#include "connectors/demo/demo_internal.h"

/* ---- activities ---- */
typedef struct {
    int64_t at;
    long i;
    int k; /* k-th activity of person i; < 0 for dirty rows */
} s_act_t;

static int s_cmp_act(const void *a, const void *b)
{
    const s_act_t *x = a, *y = b;
    if (x->at != y->at) {
        return x->at < y->at ? -1 : 1;
    }
    if (x->i != y->i) {
        return x->i < y->i ? -1 : 1;
    }
    return x->k - y->k;
}

static int s_act_count(const ho_demo_world_t *w, const ho_demo_person_t *p)
{
    ho_demo_rng_t r = ho_demo_rng(w->o->seed, T_ACT, (uint64_t)p->i, 9999);
    if (p->temp == 2) {
        return 10 + (int)ho_demo_below(&r, 18);
    }
    if (p->temp == 1) {
        return 3 + (int)ho_demo_below(&r, 9);
    }
    return (int)ho_demo_below(&r, 5);
}

static const char *const s_blog[] = {"exactly-once-in-practice", "backfills-without-tears",
                                     "airflow-vs-cron", "cdc-for-humans", "schema-drift-playbook"};

/* When activity k of person p happened, and its type. */
static const char *s_act_when(const ho_demo_world_t *w, const ho_demo_person_t *p, int k,
                              ho_demo_rng_t *r, ho_demo_activity_t *a)
{
    /* People engage in a burst around the time they become known (a few days before, most
     * in the weeks after), then taper off; a hot lead asks for the demo within two days.
     * (Spread evenly up to now, interest kept piling up: early leads qualified weeks late,
     * the first cohorts were empty and MQLs bunched into the last weeks.) */
    int64_t start = p->created_at - 3 * DAY;
    int64_t floor = w->o->now_ms - HISTORY - 3 * DAY;
    if (start < floor) {
        start = floor;
    }
    int64_t end = w->o->now_ms - 60000;
    double when = ho_demo_unit(r);
    int64_t at = p->temp == 2 && k == 0 ? p->created_at + (int64_t)(when * 2 * DAY)
                                        : start + (int64_t)(when * when * 45 * DAY);
    if (at >= end) {
        at = start + (int64_t)ho_demo_below(r, (uint64_t)(end - start));
    }
    a->at = at - at % 1000;
    static const char *const hot_types[] = {
        "page_view",        "page_view",        "page_view",    "email_open",        "email_click",
        "content_download", "webinar_attended", "demo_request", "free_trial_signup", "page_view"};
    static const char *const cold_types[] = {"email_open", "email_open",  "email_open",
                                             "page_view",  "email_click", "content_download",
                                             "unsubscribe"};
    const char *type = p->temp == 2 ? PICK(r, hot_types) : PICK(r, cold_types);
    if (p->temp == 2 && k == 0) {
        type = "demo_request";
    }
    return type;
}

/* An e-mail event (open, click, unsubscribe) from SendGrid or Marketo. */
static void s_act_email(ho_demo_activity_t *a, ho_demo_rng_t *r, const char *type, const char *site,
                        const char *ip)
{
    bool sg = ho_demo_chance(r, 0.5);
    static const char *const camps[][2] = {
        {"Trial Onboarding Day 2", "Connect your first source"},
        {"Q4 Nurture", "The real cost of broken pipelines"},
        {"Streaming ETL Webinar Invite", "You're invited: streaming ETL"},
        {"Monthly Newsletter November", "Pipeline notes #11"}};
    size_t ci = ho_demo_below(r, N_OF(camps));
    a->campaign = camps[ci][0];
    a->asset = camps[ci][1];
    if (sg) {
        a->system = "sendgrid";
        static const char b64[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (int q = 0; q < 22; q++) {
            a->id[q] = b64[ho_demo_below(r, 64)];
        }
        char msgid[40];
        for (int q = 0; q < 22; q++) {
            msgid[q] = b64[ho_demo_below(r, 64)];
        }
        msgid[22] = '\0';
        snprintf(a->attrs, sizeof a->attrs,
                 "{\"sg_message_id\":\"%s.filter0001\",\"ip\":\"%s\",\"asm_group_id\":%d}", msgid,
                 ip, 4417 + (int)ho_demo_below(r, 3));
    } else {
        a->system = "marketo";
        snprintf(a->id, sizeof a->id, "%d", 600000000 + (int)ho_demo_below(r, 99999999));
        bool mobile = ho_demo_chance(r, 0.4);
        snprintf(a->attrs, sizeof a->attrs,
                 "{\"Campaign Run ID\":%d,\"Device\":\"%s\",\"Is Mobile "
                 "Device\":%s,\"Platform\":\"%s\"}",
                 29000 + (int)ho_demo_below(r, 999), mobile ? "Mobile" : "Desktop",
                 mobile ? "true" : "false", mobile ? "iOS" : "Windows");
    }
    if (!strcmp(type, "email_click")) {
        snprintf(a->url, sizeof a->url, "%s/blog/%s?utm_source=email&utm_campaign=q4-nurture", site,
                 PICK(r, s_blog));
    }
}

static void s_act_webinar(ho_demo_activity_t *a, ho_demo_rng_t *r)
{
    a->system = "on24";
    snprintf(a->id, sizeof a->id, "on24-%08d", 10000000 + (int)ho_demo_below(r, 89999999));
    a->campaign = "Streaming ETL Webinar Series";
    a->asset = "Streaming ETL without the pager";
    snprintf(a->attrs, sizeof a->attrs, "{\"Minutes Attended\":%d,\"Registered\":true}",
             5 + (int)ho_demo_below(r, 55));
}

/* A website event: page view, download, demo request, trial signup. */
static void s_act_web(const ho_demo_person_t *p, ho_demo_activity_t *a, ho_demo_rng_t *r,
                      const char *type, const char *site, const char *ip)
{
    a->system = "website";
    static const char hexd[] = "0123456789abcdef";
    int q = 0;
    for (int g = 0; g < 5; g++) {
        static const int len[] = {8, 4, 4, 4, 12};
        for (int x = 0; x < len[g]; x++) {
            a->id[q++] = g == 2 && x == 0 ? '4' : hexd[ho_demo_below(r, 16)];
        }
        if (g < 4) {
            a->id[q++] = '-';
        }
    }
    a->id[q] = '\0';
    const char *ref =
        PICK(r, ((const char *const[]){"https://www.google.com/", "https://www.linkedin.com/",
                                       "https://www.northwind-pipelines.com/",
                                       "https://news.ycombinator.com/"}));
    if (!strcmp(type, "page_view")) {
        double u = ho_demo_unit(r);
        if (p->temp == 2 && u < 0.35) {
            snprintf(a->url, sizeof a->url, "%s/pricing%s", site,
                     ho_demo_chance(r, 0.3)   ? "?plan=enterprise"
                     : ho_demo_chance(r, 0.3) ? "#faq"
                                              : "");
        } else if (u < 0.55) {
            snprintf(a->url, sizeof a->url, "%s/blog/%s%s", site, PICK(r, s_blog),
                     ho_demo_chance(r, 0.3) ? "?utm_source=linkedin&utm_campaign=fy27-q1-linkedin"
                                            : "");
            if (strstr(a->url, "utm_campaign")) {
                a->campaign = "fy27-q1-linkedin";
            }
        } else if (u < 0.7) {
            snprintf(a->url, sizeof a->url, "%s/product/%s", site,
                     PICK(r, ((const char *const[]){"connectors", "observability", "streaming",
                                                    "security"})));
        } else if (u < 0.8) {
            snprintf(a->url, sizeof a->url, "%s/careers", site);
        } else {
            snprintf(a->url, sizeof a->url, "%s/customers", site);
        }
    } else if (!strcmp(type, "content_download")) {
        snprintf(a->url, sizeof a->url, "%s/resources/pipeline-cost-benchmark-2026.pdf", site);
        a->asset = "Pipeline Cost Benchmark 2026";
    } else if (!strcmp(type, "demo_request")) {
        snprintf(a->url, sizeof a->url, "%s/demo", site);
        a->asset = "Demo Request Form";
        ref = "https://www.northwind-pipelines.com/pricing";
    } else { /* free_trial_signup */
        snprintf(a->url, sizeof a->url, "%s/signup", site);
        a->asset = "Free Trial Signup";
        snprintf(a->attrs, sizeof a->attrs, "{\"Plan\":\"%s\",\"Client IP Address\":\"%s\"}",
                 ho_demo_chance(r, 0.5) ? "Team" : "Business", ip);
        return;
    }
    snprintf(a->attrs, sizeof a->attrs, "{\"Referrer URL\":\"%s\",\"Client IP Address\":\"%s\"}",
             ref, ip);
}

void ho_demo_activity(const ho_demo_world_t *w, const ho_demo_person_t *p, int k,
                      ho_demo_activity_t *a)
{
    ho_demo_rng_t r = ho_demo_rng(w->o->seed, T_ACT, (uint64_t)p->i, (uint64_t)k);
    memset(a, 0, sizeof *a);
    const char *type = s_act_when(w, p, k, &r, a);
    a->type = type;
    const char *site = "https://www.northwind-pipelines.com";
    char ip[24];
    snprintf(ip, sizeof ip, "%s.%d", ho_demo_chance(&r, 0.5) ? "198.51.100" : "192.0.2",
             1 + (int)ho_demo_below(&r, 254));
    if (!strcmp(type, "email_open") || !strcmp(type, "email_click") ||
        !strcmp(type, "unsubscribe")) {
        s_act_email(a, &r, type, site, ip);
    } else if (!strcmp(type, "webinar_attended")) {
        s_act_webinar(a, &r);
    } else {
        s_act_web(p, a, &r, type, site, ip);
    }
}

int ho_demo_write_activities(const ho_demo_world_t *w, FILE *f, ho_demo_count_t *c)
{
    long n = w->o->leads, m = 0, cap = 1024;
    s_act_t *list = malloc((size_t)cap * sizeof *list);
    if (!list) {
        return -1;
    }
    for (long i = 0; i < n; i++) {
        ho_demo_person_t p;
        ho_demo_person(w, i, &p);
        int cnt = s_act_count(w, &p);
        for (int k = 0; k < cnt; k++) {
            if (m == cap) {
                cap *= 2;
                s_act_t *g = realloc(list, (size_t)cap * sizeof *g);
                if (!g) {
                    free(list);
                    return -1;
                }
                list = g;
            }
            ho_demo_activity_t a;
            ho_demo_activity(w, &p, k, &a);
            list[m++] = (s_act_t){a.at, i, k};
        }
    }
    long kd = n / 300 + 1;
    long ndirty = 2 * kd + 2;
    s_act_t *g = realloc(list, (size_t)(m + ndirty) * sizeof *g);
    if (!g) {
        free(list);
        return -1;
    }
    list = g;
    for (long d = 0; d < ndirty; d++) {
        list[m++] =
            (s_act_t){w->o->now_ms - WINDOW + (d + 1) * (WINDOW / (ndirty + 1)), -1, (int)-(d + 1)};
    }
    qsort(list, (size_t)m, sizeof *list, s_cmp_act);
    fputs("activity_id,email,activity_type,activity_date,url,campaign_name,asset_name,source_"
          "system,attributes\n",
          f);
    ho_demo_csvw_t cw = {f, true, false, "\n"};
    for (long x = 0; x < m; x++) {
        c->records++;
        if (list[x].k < 0) {
            long d = -list[x].k - 1;
            char when[40];
            ho_demo_iso(list[x].at, when, sizeof when);
            if (d < kd) {
                fprintf(f,
                        "bad-date-%ld,horatio.yardley@osprey-health.com,page_view,14/10/2026 9h,"
                        "https://www.northwind-pipelines.com/pricing,,,website,{}\n",
                        d);
                c->q_bad_date++;
            } else if (d < 2 * kd) {
                fprintf(f,
                        "no-email-%ld,,page_view,%s,https://www.northwind-pipelines.com/"
                        "blog,,,website,{}\n",
                        d, when);
                c->q_missing_email++;
            } else if (d == 2 * kd) {
                fprintf(
                    f,
                    "odd-type-1,horatio.yardley@osprey-health.com,fax_received,%s,,,,website,{}\n",
                    when);
                c->q_type++;
            } else {
                fprintf(f, "short-row-1,horatio.yardley@osprey-health.com,page_view\n");
                c->q_columns++;
            }
            continue;
        }
        ho_demo_person_t p;
        ho_demo_person(w, list[x].i, &p);
        ho_demo_activity_t a;
        ho_demo_activity(w, &p, list[x].k, &a);
        ho_demo_rng_t r =
            ho_demo_rng(w->o->seed, T_ACT, (uint64_t)p.i, 100000 + (uint64_t)list[x].k);
        char email[512], when[40];
        ho_demo_email_variant(&r, p.email, email, sizeof email);
        ho_demo_iso(a.at, when, sizeof when);
        ho_demo_cell(&cw, a.id);
        ho_demo_cell(&cw, email);
        ho_demo_cell(&cw, a.type);
        ho_demo_cell(&cw, when);
        ho_demo_cell(&cw, a.url);
        ho_demo_cell(&cw, a.campaign);
        ho_demo_cell(&cw, a.asset);
        ho_demo_cell(&cw, a.system);
        ho_demo_cell(&cw, a.attrs[0] ? a.attrs : "{}");
        ho_demo_endrow(&cw);
        c->accepted++;
    }
    free(list);
    return ferror(f) ? -1 : 0;
}
