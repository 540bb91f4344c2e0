/* demo_webhooks.c - the form webhooks of the demo world: Facebook, LinkedIn, HubSpot forms,
 * Typeform payloads; see demo_internal.h */
#include "connectors/demo/demo_internal.h"

/* ---- webhooks ---- */
json_t *ho_demo_linkedin_forms(void)
{
    /* two forms; question ids are what responses refer to */
    const char *text =
        "{\"elements\":["
        "{\"id\":6025514,\"name\":\"Pipeline Cost Benchmark 2026\",\"versionId\":3,"
        "\"state\":\"PUBLISHED\",\"owner\":{\"sponsoredAccount\":\"urn:li:sponsoredAccount:"
        "518804412\"},"
        "\"creationLocale\":{\"country\":\"US\",\"language\":\"en\"},\"created\":1785571200000,"
        "\"lastModified\":1788249600000,\"content\":{\"questions\":["
        "{\"questionId\":40117,\"name\":\"firstName\",\"question\":{\"localized\":{\"en_US\":"
        "\"First "
        "name\"}},\"responseRequired\":true,\"predefinedField\":\"FIRST_NAME\",\"questionDetails\":"
        "{\"textQuestionDetails\":{}}},"
        "{\"questionId\":40118,\"name\":\"lastName\",\"question\":{\"localized\":{\"en_US\":\"Last "
        "name\"}},\"responseRequired\":true,\"predefinedField\":\"LAST_NAME\",\"questionDetails\":{"
        "\"textQuestionDetails\":{}}},"
        "{\"questionId\":40119,\"name\":\"email\",\"question\":{\"localized\":{\"en_US\":\"Work "
        "email\"}},\"responseRequired\":true,\"predefinedField\":\"EMAIL\",\"questionDetails\":{"
        "\"textQuestionDetails\":{}}},"
        "{\"questionId\":40120,\"name\":\"company\",\"question\":{\"localized\":{\"en_US\":"
        "\"Company "
        "name\"}},\"responseRequired\":true,\"predefinedField\":\"COMPANY_NAME\","
        "\"questionDetails\":{\"textQuestionDetails\":{}}},"
        "{\"questionId\":40121,\"name\":\"title\",\"question\":{\"localized\":{\"en_US\":\"Job "
        "title\"}},\"responseRequired\":true,\"predefinedField\":\"JOB_TITLE\",\"questionDetails\":"
        "{\"textQuestionDetails\":{}}},"
        "{\"questionId\":40122,\"name\":\"country\",\"question\":{\"localized\":{\"en_US\":"
        "\"Country\"}},\"responseRequired\":true,\"predefinedField\":\"COUNTRY\","
        "\"questionDetails\":{\"textQuestionDetails\":{}}}"
        "]}},"
        "{\"id\":6031877,\"name\":\"Streaming ETL Demo\",\"versionId\":1,"
        "\"state\":\"PUBLISHED\",\"owner\":{\"sponsoredAccount\":\"urn:li:sponsoredAccount:"
        "518804412\"},"
        "\"creationLocale\":{\"country\":\"US\",\"language\":\"en\"},\"created\":1787000000000,"
        "\"lastModified\":1787000000000,\"content\":{\"questions\":["
        "{\"questionId\":51201,\"name\":\"firstName\",\"question\":{\"localized\":{\"en_US\":"
        "\"First "
        "name\"}},\"responseRequired\":true,\"predefinedField\":\"FIRST_NAME\",\"questionDetails\":"
        "{\"textQuestionDetails\":{}}},"
        "{\"questionId\":51202,\"name\":\"lastName\",\"question\":{\"localized\":{\"en_US\":\"Last "
        "name\"}},\"responseRequired\":true,\"predefinedField\":\"LAST_NAME\",\"questionDetails\":{"
        "\"textQuestionDetails\":{}}},"
        "{\"questionId\":51203,\"name\":\"email\",\"question\":{\"localized\":{\"en_US\":"
        "\"Business "
        "email\"}},\"responseRequired\":true,\"predefinedField\":\"EMAIL\",\"questionDetails\":{"
        "\"textQuestionDetails\":{}}},"
        "{\"questionId\":51204,\"name\":\"company\",\"question\":{\"localized\":{\"en_US\":"
        "\"Company\"}},\"responseRequired\":true,\"predefinedField\":\"COMPANY_NAME\","
        "\"questionDetails\":{\"textQuestionDetails\":{}}},"
        "{\"questionId\":51205,\"name\":\"size\",\"question\":{\"localized\":{\"en_US\":\"Company "
        "size\"}},\"responseRequired\":false,\"predefinedField\":\"COMPANY_SIZE\","
        "\"questionDetails\":{\"multipleChoiceQuestionDetails\":{\"options\":[{\"id\":1,\"text\":"
        "\"1-50\"},{\"id\":2,\"text\":\"51-1000\"},{\"id\":3,\"text\":\"1001+\"}]}}},"
        "{\"questionId\":51206,\"name\":\"timeline\",\"question\":{\"localized\":{\"en_US\":\"When "
        "are you looking to "
        "buy?\"}},\"responseRequired\":false,\"questionDetails\":{"
        "\"multipleChoiceQuestionDetails\":{\"options\":[{\"id\":1,\"text\":\"This "
        "quarter\"},{\"id\":2,\"text\":\"This year\"},{\"id\":3,\"text\":\"Just researching\"}]}}}"
        "]}}"
        "],\"paging\":{\"start\":0,\"count\":10,\"links\":[],\"total\":2}}";
    return json_loads(text, 0, NULL);
}

static json_t *s_li_answer(int qid, const char *text)
{
    return json_pack("{s:i, s:{s:{s:s}}}", "questionId", qid, "answerDetails", "textQuestionAnswer",
                     "answer", text);
}

/* A Facebook Lead Ads webhook lead (Graph API leadgen shape). */
static json_t *s_wh_facebook(const ho_demo_person_t *p, ho_demo_rng_t *r, const char *email,
                             int64_t at)
{
    char created[40], id[24], name[120];
    ho_demo_fmt_time(at, "%Y-%m-%dT%H:%M:%S+0000", created, sizeof created);
    snprintf(id, sizeof id, "%llu",
             8000000000000000ULL + (unsigned long long)ho_demo_below(r, 999999999999999ULL));
    json_t *fd = json_array();
    if (ho_demo_chance(r, 0.5)) {
        snprintf(name, sizeof name, "%s %s", p->first, p->last);
        json_array_append_new(fd, json_pack("{s:s, s:[s]}", "name", "full_name", "values", name));
    } else {
        json_array_append_new(fd,
                              json_pack("{s:s, s:[s]}", "name", "first_name", "values", p->first));
        json_array_append_new(fd,
                              json_pack("{s:s, s:[s]}", "name", "last_name", "values", p->last));
    }
    json_array_append_new(fd, json_pack("{s:s, s:[s]}", "name",
                                        ho_demo_chance(r, 0.3) ? "work_email" : "email", "values",
                                        email));
    if (p->co.name[0]) {
        json_array_append_new(
            fd, json_pack("{s:s, s:[s]}", "name", "company_name", "values", p->co.name));
    }
    json_array_append_new(fd, json_pack("{s:s, s:[s]}", "name", "job_title", "values", p->title));
    if (p->co.state >= 0) {
        json_array_append_new(fd, json_pack("{s:s, s:[s]}", "name", "state", "values",
                                            ho_demo_us_states[p->co.state].name));
    }
    json_array_append_new(fd, json_pack("{s:s, s:[s]}", "name", "how_many_pipelines_do_you_run?",
                                        "values", p->temp == 2 ? "more_than_50" : "1-10"));
    bool retarget = ho_demo_chance(r, 0.5);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:b, s:s}", "id", id,
                     "created_time", created, "ad_id", "120210938475610381", "ad_name",
                     retarget ? "Retargeting - Pricing Page Visitors - Ad 3"
                              : "Benchmark Report - Lookalike - Ad 1",
                     "adset_id", "120210938475610378", "adset_name",
                     retarget ? "Retargeting - Pricing Page Visitors - Adset"
                              : "Benchmark Report - Lookalike - Adset",
                     "campaign_id", "120210938475610377", "campaign_name",
                     retarget ? "Retargeting - Pricing Page Visitors" : "Benchmark Report 2026",
                     "form_id", "1187045529931620", "field_data", fd, "is_organic", 0, "platform",
                     ho_demo_chance(r, 0.6) ? "fb" : "ig");
}

/* A LinkedIn Lead Gen Forms lead (versioned form response). */
static json_t *s_wh_linkedin(const ho_demo_person_t *p, ho_demo_rng_t *r, const char *email,
                             int64_t at, const char *country)
{
    bool demo = ho_demo_chance(r, 0.5);
    char id[64], urn[96], person[40];
    snprintf(id, sizeof id, "%08llx-%04llx-4%03llx-a%03llx-%012llx-%d",
             (unsigned long long)ho_demo_below(r, 0xFFFFFFFFULL),
             (unsigned long long)ho_demo_below(r, 0xFFFF),
             (unsigned long long)ho_demo_below(r, 0xFFF),
             (unsigned long long)ho_demo_below(r, 0xFFF),
             (unsigned long long)ho_demo_below(r, 0xFFFFFFFFFFFFULL), (int)ho_demo_below(r, 9));
    snprintf(urn, sizeof urn, "urn:li:versionedLeadGenForm:(urn:li:leadGenForm:%s,%s)",
             demo ? "6031877" : "6025514", demo ? "1" : "3");
    snprintf(person, sizeof person, "urn:li:person:%c%c%c%c_%c%c%cZ-",
             'A' + (int)ho_demo_below(r, 26), 'a' + (int)ho_demo_below(r, 26),
             'A' + (int)ho_demo_below(r, 26), 'a' + (int)ho_demo_below(r, 26),
             '0' + (int)ho_demo_below(r, 10), 'A' + (int)ho_demo_below(r, 26),
             'a' + (int)ho_demo_below(r, 26));
    json_t *ans = json_array();
    int base = demo ? 51201 : 40117;
    json_array_append_new(ans, s_li_answer(base, p->first));
    json_array_append_new(ans, s_li_answer(base + 1, p->last));
    json_array_append_new(ans, s_li_answer(base + 2, email));
    json_array_append_new(ans, s_li_answer(base + 3, p->co.name[0] ? p->co.name : "Self-employed"));
    if (demo) {
        int opt = p->co.employees > 1000 ? 3 : p->co.employees > 50 ? 2 : 1;
        json_array_append_new(ans,
                              json_pack("{s:i, s:{s:{s:[i]}}}", "questionId", 51205,
                                        "answerDetails", "multipleChoiceAnswer", "options", opt));
        json_array_append_new(ans, json_pack("{s:i, s:{s:{s:[i]}}}", "questionId", 51206,
                                             "answerDetails", "multipleChoiceAnswer", "options",
                                             p->temp == 2 ? 1 : 3));
    } else {
        json_array_append_new(ans, s_li_answer(40121, p->title));
        json_array_append_new(ans, s_li_answer(40122, country));
    }
    return json_pack("{s:s, s:{s:s}, s:s, s:s, s:s, s:b, s:I, s:{s:{s:s}}, s:{s:s}, s:{s:o, "
                     "s:[{s:b, s:i}]}}",
                     "id", id, "owner", "sponsoredAccount", "urn:li:sponsoredAccount:518804412",
                     "submitter", person, "versionedLeadGenFormUrn", urn, "leadType", "SPONSORED",
                     "testLead", 0, "submittedAt", (json_int_t)at, "leadMetadata",
                     "sponsoredLeadMetadata", "campaign", "urn:li:sponsoredCampaign:402217731",
                     "associatedEntity", "associatedCreative", "urn:li:sponsoredCreative:461576644",
                     "formResponse", "answers", ans, "consentResponses", "accepted", 1, "consentId",
                     1);
}

/* A HubSpot forms submission (forms API v3 shape). */
static json_t *s_wh_hsform(const ho_demo_person_t *p, ho_demo_rng_t *r, const char *email,
                           int64_t at, const char *country)
{
    static const char hexd[] = "0123456789abcdef";
    char hex[40];
    for (int k = 0; k < 32; k++) {
        hex[k] = hexd[ho_demo_below(r, 16)];
    }
    hex[32] = '\0';
    char sub[24], ip[24];
    snprintf(sub, sizeof sub, "%lld", (long long)at);
    snprintf(ip, sizeof ip, "198.51.100.%d", 1 + (int)ho_demo_below(r, 254));
    json_t *fields = json_array();
#define HSF(nm, val)                                                                               \
    json_array_append_new(                                                                         \
        fields, json_pack("{s:s, s:s, s:s}", "objectTypeId", "0-1", "name", nm, "value", val))
    HSF("email", email);
    HSF("firstname", p->first);
    HSF("lastname", p->last);
    if (p->co.name[0]) {
        HSF("company", p->co.name);
    }
    HSF("jobtitle", p->title);
    HSF("country", country);
    if (p->co.state >= 0) {
        HSF("state", ho_demo_us_states[p->co.state].code);
    }
    if (p->co.employees) {
        HSF("numemployees", ho_demo_hs_bucket(p->co.employees));
    }
    if (p->temp == 2) {
        HSF("message", "Looking for pricing, we run 60+ pipelines.");
    }
#undef HSF
    bool pricing = p->temp == 2 || ho_demo_chance(r, 0.3);
    return json_pack(
        "{s:o, s:s, s:{s:s, s:s, s:s, s:s}, s:{s:{s:b, s:s, s:[{s:b, s:i, s:s}]}}}", "fields",
        fields, "submittedAt", sub, "context", "hutk", hex, "pageUri",
        pricing ? "https://www.northwind-pipelines.com/pricing"
                : "https://www.northwind-pipelines.com/resources",
        "pageName", pricing ? "Pricing | Northwind Pipelines" : "Resources | Northwind Pipelines",
        "ipAddress", ip, "legalConsentOptions", "consent", "consentToProcess", 1, "text",
        "I agree to allow Northwind Pipelines to store and process my personal data.",
        "communications", "value", 0, "subscriptionTypeId", 4417, "text",
        "I agree to receive marketing email from Northwind Pipelines.");
}

/* A Typeform form_response webhook. */
static json_t *s_wh_typeform(const ho_demo_person_t *p, ho_demo_rng_t *r, const char *email,
                             int64_t at)
{
    char iso[40];
    static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    char evid[32], token[40], landed[40];
    for (int k = 0; k < 26; k++) {
        evid[k] = b32[ho_demo_below(r, 32)];
    }
    evid[26] = '\0';
    for (int k = 0; k < 32; k++) {
        token[k] = "0123456789abcdefghijklmnopqrstuvwxyz"[ho_demo_below(r, 36)];
    }
    token[32] = '\0';
    ho_demo_iso(at - 60000 - (int64_t)ho_demo_below(r, 600000), landed, sizeof landed);
    ho_demo_iso(at, iso, sizeof iso);
    json_t *def =
        json_loads("{\"id\":\"Xq3dR8vN\",\"title\":\"Pipeline health check\",\"fields\":["
                   "{\"id\":\"Jk2mPq9sLw4T\",\"title\":\"First, what's your first "
                   "name?\",\"type\":\"short_text\",\"ref\":\"first_name\",\"properties\":{}},"
                   "{\"id\":\"Rt7vBn3cXz8Q\",\"title\":\"And your last "
                   "name?\",\"type\":\"short_text\",\"ref\":\"last_name\",\"properties\":{}},"
                   "{\"id\":\"Hy6uGf1dSa5E\",\"title\":\"Which email should we send your score "
                   "to?\",\"type\":\"email\",\"ref\":\"email\",\"properties\":{}},"
                   "{\"id\":\"Ml0kNj4hBg2W\",\"title\":\"Where do you "
                   "work?\",\"type\":\"short_text\",\"ref\":\"company\",\"properties\":{}},"
                   "{\"id\":\"Pq8wEr5tYu1I\",\"title\":\"What's your "
                   "role?\",\"type\":\"short_text\",\"ref\":\"role\",\"properties\":{}},"
                   "{\"id\":\"Zx9cVb6nMa3S\",\"title\":\"How many pipelines do you run in "
                   "production?\",\"type\":\"multiple_choice\",\"ref\":\"pipeline_count\","
                   "\"properties\":{}}]}",
                   0, NULL);
    json_t *ans = json_array();
    json_array_append_new(ans, json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}", "type", "text", "text",
                                         p->first, "field", "id", "Jk2mPq9sLw4T", "type",
                                         "short_text", "ref", "first_name"));
    json_array_append_new(ans, json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}", "type", "text", "text",
                                         p->last, "field", "id", "Rt7vBn3cXz8Q", "type",
                                         "short_text", "ref", "last_name"));
    json_array_append_new(ans, json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}", "type", "email", "email",
                                         email, "field", "id", "Hy6uGf1dSa5E", "type", "email",
                                         "ref", "email"));
    json_array_append_new(ans, json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}", "type", "text", "text",
                                         p->co.name[0] ? p->co.name : "Freelance", "field", "id",
                                         "Ml0kNj4hBg2W", "type", "short_text", "ref", "company"));
    json_array_append_new(ans, json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}", "type", "text", "text",
                                         p->title, "field", "id", "Pq8wEr5tYu1I", "type",
                                         "short_text", "ref", "role"));
    json_array_append_new(ans, json_pack("{s:s, s:{s:s}, s:{s:s, s:s, s:s}}", "type", "choice",
                                         "choice", "label", p->temp == 2 ? "50+" : "1-5", "field",
                                         "id", "Zx9cVb6nMa3S", "type", "multiple_choice", "ref",
                                         "pipeline_count"));
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:o, s:o}}", "event_id", evid,
                     "event_type", "form_response", "form_response", "form_id", "Xq3dR8vN", "token",
                     token, "landed_at", landed, "submitted_at", iso, "hidden", "utm_source",
                     ho_demo_chance(r, 0.5) ? "google" : "linkedin", "utm_campaign",
                     "pipeline-health-check", "definition", def, "answers", ans);
}

/* One form-webhook lead of person p in the payload shape of its source. */
json_t *ho_demo_webhook(const ho_demo_person_t *p, ho_demo_rng_t *r, const char *email)
{
    int64_t at = p->file_created[F_WEBHOOK];
    const char *country = ho_demo_countries[p->co.country].names[0];
    switch (p->shape) {
    case W_FACEBOOK:
        return s_wh_facebook(p, r, email, at);
    case W_LINKEDIN:
        return s_wh_linkedin(p, r, email, at, country);
    case W_HSFORM:
        return s_wh_hsform(p, r, email, at, country);
    case W_TYPEFORM:
    default:
        return s_wh_typeform(p, r, email, at);
    }
}

typedef struct {
    int64_t at;
    long i;
    int dirty; /* 0 = a person, 1 = facebook without email, 2 = malformed JSON */
} s_wh_t;

static int s_cmp_wh(const void *a, const void *b)
{
    const s_wh_t *x = a, *y = b;
    return x->at < y->at ? -1 : x->at > y->at ? 1 : (x->i < y->i ? -1 : x->i > y->i);
}

int ho_demo_write_webhooks(const ho_demo_world_t *w, FILE *f, ho_demo_count_t *c, char *seen)
{
    long n = w->o->leads, m = 0, cap = 64;
    s_wh_t *list = malloc((size_t)cap * sizeof *list);
    if (!list) {
        return -1;
    }
    for (long i = 0; i < n; i++) {
        ho_demo_person_t p;
        ho_demo_person(w, i, &p);
        if (!p.in_file[F_WEBHOOK]) {
            continue;
        }
        if (m + 2 >= cap) {
            cap *= 2;
            s_wh_t *g = realloc(list, (size_t)cap * sizeof *g);
            if (!g) {
                free(list);
                return -1;
            }
            list = g;
        }
        list[m++] = (s_wh_t){p.file_created[F_WEBHOOK], i, 0};
    }
    if (m + 2 >= cap) {
        s_wh_t *g = realloc(list, (size_t)(cap + 4) * sizeof *g);
        if (!g) {
            free(list);
            return -1;
        }
        list = g;
    }
    list[m++] = (s_wh_t){w->o->now_ms - 30 * DAY, -1, 1};
    list[m++] = (s_wh_t){w->o->now_ms - 20 * DAY, -2, 2};
    qsort(list, (size_t)m, sizeof *list, s_cmp_wh);
    for (long k = 0; k < m; k++) {
        c->records++;
        if (list[k].dirty == 2) {
            /* a delivery cut short: not a complete JSON document */
            fputs("{\"id\":\"8384085734440999\",\"created_time\":\"2026-11-03T10:00:00+0000\","
                  "\"field_data\":[{\"name\":\"email\",\"values\":[\"cut.off@\n",
                  f);
            c->q_json++;
            continue;
        }
        json_t *doc;
        if (list[k].dirty == 1) {
            doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:[s]}, {s:s, "
                            "s:[s]}], s:b, s:s}",
                            "id", "8384085734440001", "created_time", "2026-10-24T12:00:00+0000",
                            "ad_id", "120210938475610381", "ad_name",
                            "Benchmark Report - Lookalike - Ad 1", "adset_id", "120210938475610378",
                            "adset_name", "Benchmark Report - Lookalike - Adset", "campaign_id",
                            "120210938475610377", "campaign_name", "Benchmark Report 2026",
                            "form_id", "1187045529931620", "field_data", "name", "full_name",
                            "values", "No Email Given", "name", "phone_number", "values",
                            "+15125550199", "is_organic", 0, "platform", "fb");
            c->q_missing_email++;
        } else {
            ho_demo_person_t p;
            ho_demo_person(w, list[k].i, &p);
            ho_demo_rng_t r = ho_demo_rng(w->o->seed, T_FILE, (uint64_t)list[k].i, F_WEBHOOK);
            char email[512];
            ho_demo_email_variant(&r, p.email, email, sizeof email);
            doc = ho_demo_webhook(&p, &r, email);
            c->accepted++;
            if (seen) {
                seen[list[k].i] |= 8;
            }
        }
        ho_demo_json_line(f, doc);
    }
    free(list);
    return ferror(f) ? -1 : 0;
}
