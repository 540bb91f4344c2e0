/* forms.c - lead-form payloads (Facebook, LinkedIn, HubSpot forms, Typeform, plain JSON) ->
 * lead.raw; see forms.h.
 *
 * Every accessor here tolerates any JSON type where it expects another: form payloads come
 * from the internet, so a wrong type is a fact about the record (kept in `extra`, or a
 * `bad_record` item), never a crash.
 *
 * LinkedIn's form definitions are read in forms_linkedin.c, re-deliveries are told apart in
 * forms_seen.c. */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "handoff/forms.h"
#include "handoff/util.h"

#include "connectors/forms/forms_internal.h"

/* ---- small helpers ---- */

static const char *s_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* A scalar as text (new reference), NULL for null/absent; objects/arrays as compact JSON. */
static json_t *s_text(const json_t *v)
{
    if (!v || json_is_null(v)) {
        return NULL;
    }
    if (json_is_string(v)) {
        return json_incref((json_t *)v);
    }
    if (json_is_integer(v)) {
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        return json_string(buf);
    }
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_t *s = t ? json_string(t) : NULL;
    free(t);
    return s;
}

/* Set fields[key] = v (stolen) unless empty or already set: the first answer wins. */
static void s_put(json_t *fields, const char *key, json_t *v)
{
    if (!v) {
        return;
    }
    if ((json_is_string(v) && json_string_length(v) == 0) || json_object_get(fields, key)) {
        json_decref(v);
        return;
    }
    json_object_set_new(fields, key, v);
}

static void s_put_str(json_t *fields, const char *key, const char *s)
{
    if (s && s[0]) {
        s_put(fields, key, json_string(s));
    }
}

/* Lowercase, every run of non-alphanumerics -> '_', trimmed of '_'. */
static void s_slug(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    bool sep = false;
    for (const unsigned char *p = (const unsigned char *)in; *p && n + 1 < cap; p++) {
        if (isalnum(*p)) {
            if (sep && n > 0 && n + 2 < cap) {
                out[n++] = '_';
            }
            sep = false;
            out[n++] = (char)tolower(*p);
        } else {
            sep = true;
        }
    }
    out[n] = '\0';
}

/* Common names of form fields -> canonical lead fields (compared as slugs). */
static const char *s_canonical(const char *name)
{
    static const struct {
        const char *alias, *field;
    } table[] = {
        {"email", "email"},
        {"work_email", "email"},
        {"email_address", "email"},
        {"business_email", "email"},
        {"e_mail", "email"},
        {"emailaddress", "email"},
        {"first_name", "first_name"},
        {"firstname", "first_name"},
        {"given_name", "first_name"},
        {"last_name", "last_name"},
        {"lastname", "last_name"},
        {"family_name", "last_name"},
        {"surname", "last_name"},
        {"full_name", "full_name"},
        {"fullname", "full_name"},
        {"name", "full_name"},
        {"phone", "phone"},
        {"phone_number", "phone"},
        {"work_phone_number", "phone"},
        {"mobilephone", "phone"},
        {"mobile_phone", "phone"},
        {"telephone", "phone"},
        {"company", "company"},
        {"company_name", "company"},
        {"companyname", "company"},
        {"organization", "company"},
        {"organisation", "company"},
        {"title", "title"},
        {"job_title", "title"},
        {"jobtitle", "title"},
        {"role", "title"},
        {"position", "title"},
        {"city", "city"},
        {"state", "state"},
        {"province", "state"},
        {"state_province", "state"},
        {"region", "state"},
        {"country", "country"},
        {"country_region", "country"},
        {"zip", "postal_code"},
        {"zip_code", "postal_code"},
        {"zipcode", "postal_code"},
        {"post_code", "postal_code"},
        {"postal_code", "postal_code"},
        {"numemployees", "employees"},
        {"employees", "employees"},
        {"company_size", "employees"},
        {"number_of_employees", "employees"},
        {"num_employees", "employees"},
        {"annualrevenue", "revenue"},
        {"annual_revenue", "revenue"},
        {"revenue", "revenue"},
        {"industry", "industry"},
        {"website", "website"},
        {"company_website", "website"},
        {"message", "message"},
        {"comments", "message"},
        {"comment", "message"},
        {NULL, NULL},
    };
    char slug[128];
    s_slug(name, slug, sizeof slug);
    for (size_t i = 0; table[i].alias; i++) {
        if (strcmp(slug, table[i].alias) == 0) {
            return table[i].field;
        }
    }
    /* custom questions about company size ("How many people work at your company?") */
    if (strstr(slug, "employee") || strstr(slug, "people_work") || strstr(slug, "company_size")) {
        return "employees";
    }
    return NULL;
}

/* Map name -> value into fields (canonical) or extra (verbatim name). */
static void s_map_answer(json_t *fields, json_t *extra, const char *name, json_t *value)
{
    if (!value || !name) {
        json_decref(value);
        return;
    }
    const char *f = s_canonical(name);
    if (f && json_is_string(value)) {
        s_put(fields, f, value);
    } else if (!json_object_get(extra, name)) {
        json_object_set_new(extra, name, value);
    } else {
        json_decref(value);
    }
}

/* ---- shapes ---- */

const char *ho_form_shape_name(ho_form_shape_t shape)
{
    switch (shape) {
    case HO_FORM_FACEBOOK:
        return "facebook";
    case HO_FORM_FACEBOOK_CHANGE:
        return "facebook_change";
    case HO_FORM_LINKEDIN:
        return "linkedin";
    case HO_FORM_HUBSPOT:
        return "hubspot";
    case HO_FORM_TYPEFORM:
        return "typeform";
    case HO_FORM_PLAIN:
        return "plain";
    default:
        return "unknown";
    }
}

const char *ho_form_shape_source(ho_form_shape_t shape)
{
    switch (shape) {
    case HO_FORM_FACEBOOK:
    case HO_FORM_FACEBOOK_CHANGE:
        return "facebook";
    case HO_FORM_LINKEDIN:
        return "linkedin";
    case HO_FORM_HUBSPOT:
        return "hubspot_form";
    case HO_FORM_TYPEFORM:
        return "typeform";
    case HO_FORM_PLAIN:
        return "form";
    default:
        return "unknown";
    }
}

ho_form_shape_t ho_form_detect(const json_t *doc)
{
    if (!json_is_object(doc)) {
        return HO_FORM_UNKNOWN;
    }
    const char *object = s_str(doc, "object");
    if (object && strcmp(object, "page") == 0 && json_object_get(doc, "entry")) {
        return HO_FORM_FACEBOOK_CHANGE;
    }
    if (json_object_get(doc, "field_data")) {
        return HO_FORM_FACEBOOK;
    }
    if (json_object_get(doc, "formResponse")) {
        return HO_FORM_LINKEDIN;
    }
    const char *et = s_str(doc, "event_type");
    if ((et && strcmp(et, "form_response") == 0) ||
        json_is_object(json_object_get(doc, "form_response"))) {
        return HO_FORM_TYPEFORM;
    }
    if (json_is_array(json_object_get(doc, "fields")) &&
        (json_object_get(doc, "context") || json_object_get(doc, "submittedAt"))) {
        return HO_FORM_HUBSPOT;
    }
    /* a flat form: at least one well-known field name at the top level */
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)doc, key, val)
    {
        if (!json_is_object(val) && !json_is_array(val) && s_canonical(key)) {
            return HO_FORM_PLAIN;
        }
    }
    return HO_FORM_UNKNOWN;
}

/* ---- building ---- */

typedef struct {
    ho_form_result_t *res;
    size_t cap;
} s_build_t;

static ho_form_item_t *s_add(s_build_t *b, ho_msg_t *msg)
{
    if (!msg) {
        return NULL;
    }
    if (b->res->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 2;
        ho_form_item_t *items = realloc(b->res->items, cap * sizeof *items);
        if (!items) {
            ho_msg_destroy(&msg);
            return NULL;
        }
        b->res->items = items;
        b->cap = cap;
    }
    ho_form_item_t *it = &b->res->items[b->res->n++];
    memset(it, 0, sizeof *it);
    it->msg = msg;
    return it;
}

static void s_flag(ho_form_item_t *it, const char *qcode, const char *field, const char *fmt,
                   const char *a, const char *b2)
{
    if (!it) {
        return;
    }
    it->qcode = qcode;
    snprintf(it->field, sizeof it->field, "%s", field);
    ho_fmt(it->reason, sizeof it->reason, fmt, a ? a : "", b2 ? b2 : "");
}

/* A deterministic id for a submission that carries none: the hash of its canonical text. */
static void s_doc_id(const json_t *doc, char *out, size_t cap)
{
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    ho_msg_make_id(out, cap, "doc", text ? text : "", text ? strlen(text) : 0);
    free(text);
}

/* lead.raw with fields and extra (both stolen). */
static ho_msg_t *s_lead(const char *source, const char *subid, json_t *fields, json_t *extra)
{
    ho_msg_t *msg = ho_msg_new("lead.raw");
    if (!msg) {
        json_decref(fields);
        json_decref(extra);
        return NULL;
    }
    char prefix[64], id[HO_MSG_MAX_ID];
    snprintf(prefix, sizeof prefix, "lead-%s", source);
    ho_msg_make_id(id, sizeof id, prefix, subid, strlen(subid));
    ho_msg_set_id(msg, id);
    json_t *p = ho_msg_payload(msg);
    json_object_set_new(p, "source", json_string(source));
    json_t *sid = json_string(subid);
    json_object_set_new(
        p, "source_ref",
        json_pack("{s:s, s:o}", "webhook", source, "id", sid ? sid : json_string("")));
    if (!json_object_get(fields, "source_record_id") && subid[0]) {
        s_put_str(fields, "source_record_id", subid);
    }
    json_object_set_new(p, "fields", fields);
    if (json_object_size(extra) > 0) {
        json_object_set_new(p, "extra", extra);
    } else {
        json_decref(extra);
    }
    /* received by the webhook server: that source's import of the day (CONTRACT-12); an
     * import of a capture replaces it with the file's own import_id */
    time_t now = (time_t)(ho_now_ms() / 1000);
    struct tm tm;
    char day[16], imp[96];
    gmtime_r(&now, &tm);
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    snprintf(imp, sizeof imp, "webhook-%s-%s", source, day);
    json_object_set_new(p, "import_id", json_string(imp));
    return msg;
}

/* The submission id as text: a string, or an integer. */
static bool s_id_text(const json_t *v, char *out, size_t cap)
{
    if (json_is_string(v) && json_string_length(v) > 0) {
        snprintf(out, cap, "%s", json_string_value(v));
        return true;
    }
    if (json_is_integer(v)) {
        snprintf(out, cap, "%lld", (long long)json_integer_value(v));
        return true;
    }
    return false;
}

/* ---- test submissions ---- */

static bool s_truthy(const json_t *v)
{
    const char *t = json_string_value(v);
    return json_is_true(v) || (json_is_integer(v) && json_integer_value(v) == 1) ||
           (t && (!strcasecmp(t, "true") || !strcmp(t, "1") || !strcasecmp(t, "yes")));
}

/* A source's own test flag on an object: LinkedIn testLead, Facebook is_test, test. */
static bool s_is_test(const json_t *obj)
{
    static const char *const keys[] = {"testLead", "is_test", "isTest", "test", "test_lead", NULL};
    for (size_t i = 0; json_is_object(obj) && keys[i]; i++) {
        if (s_truthy(json_object_get(obj, keys[i]))) {
            return true;
        }
    }
    return false;
}

/* The sample lead of Facebook's App Dashboard "Test" button: every id is 444444444444. */
static bool s_fb_sample_id(const char *id)
{
    return id && strlen(id) >= 6 && strspn(id, "4") == strlen(id);
}

static void s_mark_test(ho_form_item_t *it, const char *source, const char *subid, const char *flag)
{
    if (!it) {
        return;
    }
    /* a test is never a lead, whatever else is wrong with it (an unknown test form, say) */
    it->qcode = NULL;
    it->skip = "test_lead";
    ho_fmt(it->reason, sizeof it->reason, "%s submission %s is a test lead (%s)", source, subid,
           flag);
}

/* ---- Facebook ---- */

/* fields from field_data [{name, values[]}]; false when field_data has the wrong type. */
static bool s_fb_field_data(const json_t *fd, json_t *fields, json_t *extra)
{
    if (!json_is_array(fd)) {
        return false;
    }
    size_t i;
    json_t *e;
    json_array_foreach(fd, i, e)
    {
        const char *name = s_str(e, "name");
        const json_t *values = json_object_get(e, "values");
        if (!name) {
            continue;
        }
        json_t *v;
        if (json_is_array(values)) {
            /* one answer for text fields; several for a multi-select: joined */
            if (json_array_size(values) == 1) {
                v = s_text(json_array_get(values, 0));
            } else {
                size_t cap = 1, k;
                json_t *x;
                json_array_foreach(values, k, x)
                {
                    cap += json_is_string(x) ? json_string_length(x) + 2 : 0;
                }
                char *joined = calloc(1, cap);
                json_array_foreach(values, k, x)
                {
                    if (joined && json_is_string(x)) {
                        if (joined[0]) {
                            strcat(joined, "; ");
                        }
                        strcat(joined, json_string_value(x));
                    }
                }
                v = joined ? json_string(joined) : NULL;
                free(joined);
            }
        } else {
            v = s_text(values);
        }
        s_map_answer(fields, extra, name, v);
    }
    return true;
}

/* The Lead object's other keys: campaign, ad, platform. */
static void s_fb_meta(const json_t *lead, json_t *fields, json_t *extra)
{
    const char *platform = s_str(lead, "platform");
    bool ig = platform && strcmp(platform, "ig") == 0;
    s_put_str(fields, "original_source", ig ? "instagram" : "facebook");
    s_put_str(fields, "campaign", s_str(lead, "campaign_name"));
    s_put_str(fields, "source_detail", s_str(lead, "ad_name"));
    s_put(fields, "created_at", s_text(json_object_get(lead, "created_time")));
    static const char *const keep[] = {
        "ad_id",      "adset_id",   "adset_name", "campaign_id",  "form_id",          "page_id",
        "adgroup_id", "is_organic", "platform",   "partner_name", "retailer_item_id", NULL};
    for (size_t i = 0; keep[i]; i++) {
        const json_t *v = json_object_get(lead, keep[i]);
        if (v && !json_is_null(v)) {
            json_object_set(extra, keep[i], (json_t *)v);
        }
    }
}

static void s_facebook_lead(s_build_t *b, const json_t *lead, const json_t *sub_id_v,
                            const char *where)
{
    char subid[256];
    if (!s_id_text(sub_id_v, subid, sizeof subid)) {
        s_doc_id(lead, subid, sizeof subid);
    }
    json_t *fields = json_object(), *extra = json_object();
    bool ok = s_fb_field_data(json_object_get(lead, "field_data"), fields, extra);
    s_fb_meta(lead, fields, extra);
    if (!ok) {
        json_object_set(extra, "field_data", json_object_get(lead, "field_data"));
    }
    ho_form_item_t *it = s_add(b, s_lead("facebook", subid, fields, extra));
    if (!ok) {
        s_flag(it, "bad_record", "field_data",
               "facebook lead %s: field_data is not an array of {name, values}%s", subid, where);
    }
    if (s_is_test(lead)) {
        s_mark_test(it, "facebook", subid, "is_test");
    } else if (s_fb_sample_id(subid)) {
        s_mark_test(it, "facebook", subid, "the App Dashboard's sample lead id");
    }
}

static int s_facebook_change(s_build_t *b, const json_t *doc, ho_err_t *err)
{
    const json_t *entry = json_object_get(doc, "entry");
    if (!json_is_array(entry)) {
        return ho_err_set(err, HO_ERR_FIELD, "entry",
                          "facebook notification: entry: expected an array");
    }
    size_t i, k;
    json_t *e, *ch;
    json_array_foreach(entry, i, e)
    {
        const json_t *changes = json_object_get(e, "changes");
        json_array_foreach(changes, k, ch)
        {
            const char *field = s_str(ch, "field");
            const json_t *value = json_object_get(ch, "value");
            if (!field || strcmp(field, "leadgen") != 0 || !json_is_object(value)) {
                continue; /* other page changes (feed, ...) are not leads */
            }
            const json_t *lid = json_object_get(value, "leadgen_id");
            if (!lid) {
                lid = json_object_get(value, "id");
            }
            if (json_object_get(value, "field_data")) {
                s_facebook_lead(b, value, lid, "");
                continue;
            }
            /* Only the id: the answers live behind GET /{leadgen-id}, which needs a page
             * access token handoff does not hold. Not a lead by itself: skipped, counted,
             * and the reason says what to do. */
            char subid[256], fieldpath[96];
            if (!s_id_text(lid, subid, sizeof subid)) {
                s_doc_id(value, subid, sizeof subid);
            }
            json_t *extra = json_object(), *fields = json_object();
            s_fb_meta(value, fields, extra);
            json_object_set(extra, "notification", (json_t *)value);
            ho_form_item_t *it = s_add(b, s_lead("facebook", subid, fields, extra));
            snprintf(fieldpath, sizeof fieldpath, "entry[%zu].changes[%zu].value.field_data", i, k);
            s_flag(it, NULL, fieldpath,
                   "facebook leadgen notification for lead %s carries only the leadgen_id: "
                   "fetch the Lead object (GET /%s?fields=field_data,...) and send it instead",
                   subid, subid);
            if (it) {
                it->skip = "notification_only";
            }
            if (s_is_test(value) || s_fb_sample_id(subid)) {
                s_mark_test(it, "facebook", subid, "a test notification");
            }
        }
    }
    if (b->res->n == 0) {
        return ho_err_set(err, HO_ERR_FIELD, "entry",
                          "facebook notification: no leadgen change in entry[].changes[]");
    }
    return HO_OK;
}

/* ---- LinkedIn ---- */

/* One LinkedIn answer: a predefined question to its canonical field, the rest to extra by
 * the question's name; option ids through the form definition. */
static void s_li_answer(json_t *fields, json_t *extra, const json_t *a, const json_t *questions)
{
    size_t k;
    json_t *q;
    long long qid = ho_forms_num(json_object_get(a, "questionId"));
    const json_t *question = NULL;
    json_array_foreach(questions, k, q)
    {
        if (ho_forms_num(json_object_get(q, "questionId")) == qid) {
            question = q;
            break;
        }
    }
    const json_t *det = json_object_get(a, "answerDetails");
    json_t *v = NULL;
    const json_t *text = json_object_get(json_object_get(det, "textQuestionAnswer"), "answer");
    const json_t *opts = json_object_get(json_object_get(det, "multipleChoiceAnswer"), "options");
    if (text) {
        v = s_text(text);
    } else if (json_is_array(opts)) {
        /* option ids -> their text from the form definition */
        const json_t *defs =
            json_object_get(json_object_get(json_object_get(question, "questionDetails"),
                                            "multipleChoiceQuestionDetails"),
                            "options");
        char buf[1024] = "";
        size_t n = 0, j, m;
        json_t *o, *d;
        json_array_foreach(opts, j, o)
        {
            const char *label = NULL;
            char idtxt[32];
            json_array_foreach(defs, m, d)
            {
                if (json_equal(json_object_get(d, "id"), o)) {
                    label = ho_li_localized(json_object_get(d, "text"));
                    break;
                }
            }
            if (!label) {
                snprintf(idtxt, sizeof idtxt, "%lld", ho_forms_num(o));
                label = idtxt; /* unknown option: keep the id rather than lose it */
            }
            int w = snprintf(buf + n, sizeof buf - n, "%s%s", n ? "; " : "", label);
            if (w > 0 && (size_t)w < sizeof buf - n) {
                n += (size_t)w;
            }
        }
        v = json_string(buf);
    } else if (det) {
        v = s_text(det);
    }
    if (!v) {
        return;
    }
    const char *canon = question ? ho_li_predefined(s_str(question, "predefinedField")) : NULL;
    if (canon && json_is_string(v)) {
        s_put(fields, canon, v);
    } else {
        char name[64];
        const char *qn = question ? s_str(question, "name") : NULL;
        if (!qn) {
            snprintf(name, sizeof name, "question_%lld", qid);
            qn = name;
        }
        if (!json_object_get(extra, qn)) {
            json_object_set_new(extra, qn, v);
        } else {
            json_decref(v);
        }
    }
}

static void s_linkedin(s_build_t *b, const json_t *doc, const ho_linkedin_forms_t *forms)
{
    char subid[256];
    if (!s_id_text(json_object_get(doc, "id"), subid, sizeof subid)) {
        s_doc_id(doc, subid, sizeof subid);
    }
    json_t *fields = json_object(), *extra = json_object();
    const char *urn = s_str(doc, "versionedLeadGenFormUrn");
    long long form_id, version;
    const json_t *form = ho_li_form_find(forms, urn, &form_id, &version);
    s_put_str(fields, "original_source", "linkedin");
    s_put(fields, "created_at", s_text(json_object_get(doc, "submittedAt")));
    s_put_str(fields, "campaign",
              s_str(json_object_get(json_object_get(doc, "leadMetadata"), "sponsoredLeadMetadata"),
                    "campaign"));
    if (form) {
        s_put_str(fields, "source_detail", s_str(form, "name"));
    }
    static const char *const keep[] = {
        "versionedLeadGenFormUrn", "leadType", "testLead", "submitter", "owner",
        "associatedEntity",        NULL};
    for (size_t i = 0; keep[i]; i++) {
        const json_t *v = json_object_get(doc, keep[i]);
        if (v && !json_is_null(v)) {
            json_object_set(extra, keep[i], (json_t *)v);
        }
    }
    const json_t *resp = json_object_get(doc, "formResponse");
    const json_t *answers = json_object_get(resp, "answers");
    const json_t *consents = json_object_get(resp, "consentResponses");
    if (consents) {
        json_object_set(extra, "consentResponses", (json_t *)consents);
    }
    bool bad = !json_is_array(answers);
    const json_t *questions = json_object_get(json_object_get(form, "content"), "questions");
    size_t i;
    json_t *a;
    json_array_foreach(answers, i, a)
    {
        s_li_answer(fields, extra, a, questions);
    }
    if (bad && answers) {
        json_object_set(extra, "formResponse", (json_t *)resp);
    }
    ho_form_item_t *it = s_add(b, s_lead("linkedin", subid, fields, extra));
    char fid[80];
    snprintf(fid, sizeof fid, "%lld version %lld", form_id, version);
    if (bad) {
        s_flag(it, "bad_record", "formResponse.answers",
               "linkedin lead %s: formResponse.answers is not an array%s", subid, "");
    } else if (!form && form_id < 0) {
        s_flag(it, "unknown_form", "versionedLeadGenFormUrn",
               "linkedin lead %s: versionedLeadGenFormUrn does not name a lead form%s", subid, "");
    } else if (!form) {
        char why[160];
        ho_fmt(why, sizeof why, "%s is not in the lead form definitions%s", fid,
               forms ? "" : " (none loaded)");
        s_flag(it, "unknown_form", "versionedLeadGenFormUrn",
               "linkedin lead %s: form %s; add it to the leadForms file (linkedin_forms)", subid,
               why);
    }
}

/* ---- HubSpot ---- */

static void s_hubspot(s_build_t *b, const json_t *doc)
{
    const json_t *ctx = json_object_get(doc, "context");
    char sub[64] = "", subid[256];
    s_id_text(json_object_get(doc, "submittedAt"), sub, sizeof sub);
    const char *hutk = s_str(ctx, "hutk");
    if (hutk && hutk[0] && sub[0]) {
        snprintf(subid, sizeof subid, "%.180s-%s", hutk, sub);
    } else {
        s_doc_id(doc, subid, sizeof subid);
    }
    json_t *fields = json_object(), *extra = json_object();
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(doc, "fields"), i, f)
    {
        const char *name = s_str(f, "name");
        if (name) {
            s_map_answer(fields, extra, name, s_text(json_object_get(f, "value")));
        }
    }
    s_put_str(fields, "created_at", sub);
    s_put_str(fields, "source_detail", s_str(ctx, "pageName"));
    static const char *const keep[] = {"pageUri", "pageName", "ipAddress", "hutk", "pageId", NULL};
    for (size_t k = 0; keep[k]; k++) {
        const json_t *v = json_object_get(ctx, keep[k]);
        if (v && !json_is_null(v)) {
            json_object_set(extra, keep[k], (json_t *)v);
        }
    }
    if (json_object_get(doc, "legalConsentOptions")) {
        json_object_set(extra, "legalConsentOptions", json_object_get(doc, "legalConsentOptions"));
    }
    s_add(b, s_lead("hubspot_form", subid, fields, extra));
}

/* ---- Typeform ---- */

static json_t *s_tf_value(const json_t *a)
{
    const char *type = s_str(a, "type");
    if (!type) {
        return NULL;
    }
    if (strcmp(type, "choice") == 0) {
        const json_t *c = json_object_get(a, "choice");
        return s_text(json_object_get(c, "label") ? json_object_get(c, "label")
                                                  : json_object_get(c, "other"));
    }
    if (strcmp(type, "choices") == 0) {
        const json_t *labels = json_object_get(json_object_get(a, "choices"), "labels");
        char buf[1024] = "";
        size_t n = 0, i;
        json_t *l;
        json_array_foreach(labels, i, l)
        {
            if (json_is_string(l)) {
                int w =
                    snprintf(buf + n, sizeof buf - n, "%s%s", n ? "; " : "", json_string_value(l));
                if (w > 0 && (size_t)w < sizeof buf - n) {
                    n += (size_t)w;
                }
            }
        }
        return json_string(buf);
    }
    return s_text(json_object_get(a, type)); /* text, email, phone_number, number, ... */
}

static void s_typeform(s_build_t *b, const json_t *doc)
{
    const json_t *fr = json_object_get(doc, "form_response");
    char subid[256];
    if (!s_id_text(json_object_get(fr, "token"), subid, sizeof subid)) {
        s_doc_id(doc, subid, sizeof subid);
    }
    json_t *fields = json_object(), *extra = json_object();
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(fr, "answers"), i, a)
    {
        const json_t *field = json_object_get(a, "field");
        const char *ref = s_str(field, "ref");
        const char *id = s_str(field, "id");
        const char *type = s_str(a, "type");
        json_t *v = s_tf_value(a);
        if (!v) {
            continue;
        }
        /* the answer type says more than a ref someone typed */
        if (type && strcmp(type, "email") == 0) {
            s_put(fields, "email", v);
        } else if (type && strcmp(type, "phone_number") == 0) {
            s_put(fields, "phone", v);
        } else {
            s_map_answer(fields, extra, ref ? ref : id ? id : "answer", v);
        }
    }
    s_put(fields, "created_at", s_text(json_object_get(fr, "submitted_at")));
    const json_t *hidden = json_object_get(fr, "hidden");
    s_put_str(fields, "campaign", s_str(hidden, "utm_campaign"));
    s_put_str(fields, "source_detail", s_str(json_object_get(fr, "definition"), "title"));
    if (json_object_size(hidden)) {
        json_object_set(extra, "hidden", (json_t *)hidden);
    }
    static const char *const keep[] = {"form_id", "landed_at", NULL};
    for (size_t k = 0; keep[k]; k++) {
        const json_t *v = json_object_get(fr, keep[k]);
        if (v && !json_is_null(v)) {
            json_object_set(extra, keep[k], (json_t *)v);
        }
    }
    if (s_str(doc, "event_id")) {
        json_object_set(extra, "event_id", json_object_get(doc, "event_id"));
    }
    s_add(b, s_lead("typeform", subid, fields, extra));
}

/* ---- plain JSON ---- */

static void s_plain(s_build_t *b, const json_t *doc)
{
    char subid[256];
    static const char *const ids[] = {"submission_id", "id", "event_id", NULL};
    bool have = false;
    for (size_t i = 0; ids[i] && !have; i++) {
        have = s_id_text(json_object_get(doc, ids[i]), subid, sizeof subid);
    }
    if (!have) {
        s_doc_id(doc, subid, sizeof subid);
    }
    json_t *fields = json_object(), *extra = json_object();
    static const char *const dates[] = {"created_at", "submitted_at", "timestamp", NULL};
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)doc, key, val)
    {
        bool date = false;
        for (size_t i = 0; dates[i]; i++) {
            date = date || strcmp(key, dates[i]) == 0;
        }
        if (date) {
            s_put(fields, "created_at", s_text(val));
            continue;
        }
        if (strcmp(key, "utm_campaign") == 0 || strcmp(key, "campaign") == 0) {
            s_put(fields, "campaign", s_text(val));
            continue;
        }
        if (strcmp(key, "source") == 0 || strcmp(key, "utm_source") == 0) {
            s_put(fields, "original_source", s_text(val));
            continue;
        }
        if (json_is_object(val) || json_is_array(val)) {
            json_object_set(extra, key, val);
        } else {
            s_map_answer(fields, extra, key, s_text(val));
        }
    }
    s_add(b, s_lead("form", subid, fields, extra));
}

/* ---- entry points ---- */

int ho_form_map(const json_t *doc, const ho_form_opts_t *opts, ho_form_result_t *res, ho_err_t *err)
{
    memset(res, 0, sizeof *res);
    if (!json_is_object(doc)) {
        return ho_err_set(err, HO_ERR_FIELD, "", "a form submission must be a JSON object");
    }
    ho_form_shape_t shape = ho_form_detect(doc);
    ho_form_shape_t expect = opts ? opts->expect : HO_FORM_UNKNOWN;
    bool fits = expect == HO_FORM_UNKNOWN || shape == expect ||
                (expect == HO_FORM_FACEBOOK && shape == HO_FORM_FACEBOOK_CHANGE);
    if (shape == HO_FORM_UNKNOWN) {
        return ho_err_set(err, HO_ERR_FIELD, "",
                          "not a form submission of a known shape (Facebook field_data or "
                          "leadgen notification, LinkedIn formResponse, HubSpot fields+context, "
                          "Typeform form_response, or a flat object with email, first_name, ...)");
    }
    if (!fits) {
        return ho_err_set(err, HO_ERR_FIELD, "", "expected a %s payload, got a %s one",
                          ho_form_shape_name(expect), ho_form_shape_name(shape));
    }
    res->shape = shape;
    s_build_t b = {res, 0};
    int rc = HO_OK;
    switch (shape) {
    case HO_FORM_FACEBOOK:
        s_facebook_lead(&b, doc, json_object_get(doc, "id"), "");
        break;
    case HO_FORM_FACEBOOK_CHANGE:
        rc = s_facebook_change(&b, doc, err);
        break;
    case HO_FORM_LINKEDIN:
        s_linkedin(&b, doc, opts ? opts->linkedin : NULL);
        break;
    case HO_FORM_HUBSPOT:
        s_hubspot(&b, doc);
        break;
    case HO_FORM_TYPEFORM:
        s_typeform(&b, doc);
        break;
    default:
        s_plain(&b, doc);
        break;
    }
    /* the other sources flag a test on the document (Typeform: a hidden field) */
    bool test = shape != HO_FORM_FACEBOOK && shape != HO_FORM_FACEBOOK_CHANGE &&
                (s_is_test(doc) ||
                 s_is_test(json_object_get(json_object_get(doc, "form_response"), "hidden")));
    for (size_t i = 0; rc == HO_OK && test && i < res->n; i++) {
        const json_t *ref = json_object_get(ho_msg_payload(res->items[i].msg), "source_ref");
        s_mark_test(&res->items[i], ho_form_shape_source(shape),
                    json_string_value(json_object_get(ref, "id")), "its test flag");
    }
    if (rc == HO_OK && res->n == 0) {
        rc = ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    if (rc != HO_OK) {
        ho_form_result_clear(res);
        res->shape = shape;
    }
    return rc;
}

void ho_form_result_clear(ho_form_result_t *res)
{
    if (!res) {
        return;
    }
    for (size_t i = 0; i < res->n; i++) {
        ho_msg_destroy(&res->items[i].msg);
    }
    free(res->items);
    memset(res, 0, sizeof *res);
}

ho_msg_t *ho_form_quarantine(const ho_msg_t *lead, const char *stage, const char *code,
                             const char *field, const char *reason)
{
    ho_msg_t *q = ho_msg_new("quarantine");
    if (!q) {
        return NULL;
    }
    char key[512], id[HO_MSG_MAX_ID];
    int len = snprintf(key, sizeof key, "%s|%s|%s|%s", lead ? ho_msg_id(lead) : "", stage, code,
                       field ? field : "");
    ho_msg_make_id(id, sizeof id, "q", key, len > 0 ? (size_t)len : 0);
    ho_msg_set_id(q, id);
    json_t *p = ho_msg_payload(q);
    json_object_set_new(p, "stage", json_string(stage));
    json_object_set_new(p, "code", json_string(code));
    json_object_set_new(p, "field", json_string(field ? field : ""));
    json_t *why = json_string(reason ? reason : "");
    json_object_set_new(p, "reason", why ? why : json_string("(reason not valid UTF-8)"));
    if (lead) {
        const json_t *lp = ho_msg_payload(lead);
        json_object_set_new(p, "event_id", json_string(ho_msg_id(lead)));
        json_object_set_new(p, "event_type", json_string(ho_msg_type(lead)));
        if (json_object_get(lp, "source_ref")) {
            json_object_set_new(p, "source_ref", json_deep_copy(json_object_get(lp, "source_ref")));
        }
        json_object_set_new(p, "raw", json_deep_copy(lp));
        if (json_is_string(json_object_get(lp, "import_id"))) {
            json_object_set(p, "import_id", json_object_get(lp, "import_id"));
        }
    }
    return q;
}
