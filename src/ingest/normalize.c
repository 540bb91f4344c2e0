/* normalize.c - field normalizations of the ingest worker; see include/handoff/normalize.h */
#include "handoff/normalize.h"
#include "handoff/email.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <utf8proc.h>

#include "handoff/csvio.h"
#include "handoff/time.h"

/* ---- text ---- */
static char *s_lower(const char *in);
static bool s_ascii(const char *s);
static bool s_is_space_at(const unsigned char *p, size_t *adv)
{
    if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '\v' || *p == '\f') {
        *adv = 1;
        return true;
    }
    if (p[0] == 0xC2 && p[1] == 0xA0) { /* no-break space */
        *adv = 2;
        return true;
    }
    if (p[0] == 0xE2 && p[1] == 0x80 && (p[2] >= 0x80 && p[2] <= 0x8B)) { /* U+2000..200B */
        *adv = 3;
        return true;
    }
    if (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) { /* stray BOM / ZWNBSP */
        *adv = 3;
        return true;
    }
    return false;
}

static char *s_trim_dup(const char *in)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t adv;
    while (*p && s_is_space_at(p, &adv)) {
        p += adv;
    }
    size_t len = strlen((const char *)p);
    /* trim from the end: walk forward remembering the end of the last non-space */
    size_t end = 0, i = 0;
    while (i < len) {
        if (s_is_space_at(p + i, &adv)) {
            i += adv;
        } else {
            i++;
            while (i < len && (p[i] & 0xC0) == 0x80) {
                i++;
            }
            end = i;
        }
    }
    char *out = malloc(end + 1);
    if (out) {
        memcpy(out, p, end);
        out[end] = '\0';
    }
    return out;
}

static bool s_ascii(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s >= 0x80) {
            return false;
        }
    }
    return true;
}

char *ho_norm_text(const char *in)
{
    if (!in) {
        return NULL;
    }
    if (s_ascii(in)) {
        /* most fields: ASCII is valid UTF-8 and already NFC */
        const char *b = in;
        while (*b == ' ' || (*b >= '\t' && *b <= '\r')) {
            b++;
        }
        size_t n = strlen(b);
        while (n > 0 && (b[n - 1] == ' ' || (b[n - 1] >= '\t' && b[n - 1] <= '\r'))) {
            n--;
        }
        return strndup(b, n);
    }
    if (ho_utf8_invalid_at(in, strlen(in)) >= 0) {
        return NULL;
    }
    char *t = s_trim_dup(in);
    if (!t) {
        return NULL;
    }
    char *nfc = (char *)utf8proc_NFC((const utf8proc_uint8_t *)t);
    free(t);
    return nfc;
}

/* The shared identity (email.h): the store, the feedback worker and the webhook server key and
 * check addresses the same way, so the same people are counted everywhere. */
char *ho_norm_email(const char *in)
{
    char *key = ho_email_key(in);
    if (key && !key[0]) {
        free(key);
        return NULL;
    }
    return key;
}

bool ho_norm_email_valid(const char *email)
{
    return ho_email_valid(email);
}

bool ho_norm_personal_domain(const char *domain)
{
    static const char *const exact[] = {
        "gmail.com",     "googlemail.com", "outlook.com",  "hotmail.com",
        "hotmail.co.uk", "live.com",       "msn.com",      "aol.com",
        "icloud.com",    "me.com",         "mac.com",      "web.de",
        "proton.me",     "protonmail.com", "pm.me",        "mail.ru",
        "qq.com",        "163.com",        "126.com",      "zoho.com",
        "fastmail.com",  "orange.fr",      "free.fr",      "btinternet.com",
        "t-online.de",   "gmx.net",        "freenet.de",   "libero.it",
        "laposte.net",   "seznam.cz",      "naver.com",    "rediffmail.com",
        "bigpond.com",   "xtra.co.nz",     "tutanota.com", NULL};
    static const char *const prefix[] = {"yahoo.",   "ymail.",   "gmx.",  "yandex.",
                                         "hotmail.", "outlook.", "live.", NULL};
    if (!domain) {
        return false;
    }
    for (size_t i = 0; exact[i]; i++) {
        if (strcasecmp(domain, exact[i]) == 0) {
            return true;
        }
    }
    for (size_t i = 0; prefix[i]; i++) {
        if (strncasecmp(domain, prefix[i], strlen(prefix[i])) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- countries and states ---- */
typedef struct {
    const char *code;
    const char *names; /* '|'-separated, lowercase, without dots */
} s_country_t;

static const s_country_t s_countries[] = {
    {"US", "united states|united states of america|usa|us|america|u s|u s a"},
    {"GB", "united kingdom|uk|great britain|britain|england|scotland|wales|northern ireland|gb"},
    {"IE", "ireland|republic of ireland|eire|éire|ie"},
    {"DE", "germany|deutschland|de|federal republic of germany"},
    {"FR", "france|fr|république française"},
    {"NL", "netherlands|the netherlands|nederland|holland|nl"},
    {"BE", "belgium|belgique|belgië|belgien|be"},
    {"LU", "luxembourg|lu"},
    {"CH", "switzerland|schweiz|suisse|svizzera|ch"},
    {"AT", "austria|österreich|osterreich|at"},
    {"DK", "denmark|danmark|dk"},
    {"SE", "sweden|sverige|se"},
    {"NO", "norway|norge|no"},
    {"FI", "finland|suomi|fi"},
    {"IS", "iceland|is"},
    {"ES", "spain|españa|espana|es"},
    {"PT", "portugal|pt"},
    {"IT", "italy|italia|it"},
    {"PL", "poland|polska|pl"},
    {"CZ", "czech republic|czechia|cz"},
    {"GR", "greece|gr"},
    {"EE", "estonia|ee"},
    {"LV", "latvia|lv"},
    {"LT", "lithuania|lt"},
    {"HU", "hungary|hu"},
    {"RO", "romania|ro"},
    {"CA", "canada|ca"},
    {"MX", "mexico|méxico|mx"},
    {"BR", "brazil|brasil|br"},
    {"AR", "argentina|ar"},
    {"CL", "chile|cl"},
    {"CO", "colombia|co"},
    {"AU", "australia|au"},
    {"NZ", "new zealand|aotearoa|nz"},
    {"JP", "japan|nippon|日本|jp"},
    {"KR", "south korea|korea|republic of korea|korea, republic of|kr"},
    {"CN", "china|people's republic of china|cn"},
    {"HK", "hong kong|hk"},
    {"TW", "taiwan|tw"},
    {"SG", "singapore|sg"},
    {"MY", "malaysia|my"},
    {"TH", "thailand|th"},
    {"VN", "vietnam|viet nam|vn"},
    {"PH", "philippines|ph"},
    {"ID", "indonesia|id"},
    {"IN", "india|bharat|in"},
    {"PK", "pakistan|pk"},
    {"AE", "united arab emirates|uae|ae"},
    {"SA", "saudi arabia|sa"},
    {"IL", "israel|il"},
    {"TR", "turkey|türkiye|turkiye|tr"},
    {"ZA", "south africa|za"},
    {"NG", "nigeria|ng"},
    {"KE", "kenya|ke"},
    {"EG", "egypt|eg"},
    {NULL, NULL},
};

typedef struct {
    const char *code;
    const char *name;
} s_state_t;

static const s_state_t s_states[] = {
    {"AL", "alabama"},
    {"AK", "alaska"},
    {"AZ", "arizona"},
    {"AR", "arkansas"},
    {"CA", "california"},
    {"CO", "colorado"},
    {"CT", "connecticut"},
    {"DE", "delaware"},
    {"DC", "district of columbia"},
    {"FL", "florida"},
    {"GA", "georgia"},
    {"HI", "hawaii"},
    {"ID", "idaho"},
    {"IL", "illinois"},
    {"IN", "indiana"},
    {"IA", "iowa"},
    {"KS", "kansas"},
    {"KY", "kentucky"},
    {"LA", "louisiana"},
    {"ME", "maine"},
    {"MD", "maryland"},
    {"MA", "massachusetts"},
    {"MI", "michigan"},
    {"MN", "minnesota"},
    {"MS", "mississippi"},
    {"MO", "missouri"},
    {"MT", "montana"},
    {"NE", "nebraska"},
    {"NV", "nevada"},
    {"NH", "new hampshire"},
    {"NJ", "new jersey"},
    {"NM", "new mexico"},
    {"NY", "new york"},
    {"NC", "north carolina"},
    {"ND", "north dakota"},
    {"OH", "ohio"},
    {"OK", "oklahoma"},
    {"OR", "oregon"},
    {"PA", "pennsylvania"},
    {"RI", "rhode island"},
    {"SC", "south carolina"},
    {"SD", "south dakota"},
    {"TN", "tennessee"},
    {"TX", "texas"},
    {"UT", "utah"},
    {"VT", "vermont"},
    {"VA", "virginia"},
    {"WA", "washington"},
    {"WV", "west virginia"},
    {"WI", "wisconsin"},
    {"WY", "wyoming"},
    {"PR", "puerto rico"},
    {NULL, NULL},
};

/* Lowercase every letter (not only ASCII: "Österreich"); malloc'd, NULL if not UTF-8. */
static char *s_lower(const char *in)
{
    size_t len = strlen(in);
    if (s_ascii(in)) {
        char *out = malloc(len + 1);
        for (size_t i = 0; out && i <= len; i++) {
            out[i] = (char)tolower((unsigned char)in[i]);
        }
        return out;
    }
    utf8proc_uint8_t *out = malloc(len * 4 + 1);
    if (!out) {
        return NULL;
    }
    size_t o = 0;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)in;
    utf8proc_ssize_t left = (utf8proc_ssize_t)len;
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0) {
            free(out);
            return NULL;
        }
        o += (size_t)utf8proc_encode_char(utf8proc_tolower(cp), out + o);
        p += n;
        left -= n;
    }
    out[o] = '\0';
    return (char *)out;
}

/* Lowercase, drop dots, collapse runs of spaces; into out. */
static void s_key(const char *in, char *out, size_t cap)
{
    char *low = s_lower(in);
    char *t = s_trim_dup(low ? low : in);
    free(low);
    size_t o = 0;
    bool space = false;
    for (const char *p = t ? t : ""; *p && o + 1 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '.') {
            continue;
        }
        if (c == ' ' || c == '\t' || c == '_') {
            space = o > 0;
            continue;
        }
        if (space && o + 2 < cap) {
            out[o++] = ' ';
        }
        space = false;
        out[o++] = (char)tolower(c);
    }
    out[o] = '\0';
    free(t);
}

static bool s_in_list(const char *list, const char *key)
{
    size_t klen = strlen(key);
    const char *p = list;
    while (p && *p) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == klen && strncmp(p, key, n) == 0) {
            return true;
        }
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

const char *ho_norm_country(const char *in)
{
    if (!in) {
        return NULL;
    }
    char key[128];
    s_key(in, key, sizeof key);
    if (!key[0]) {
        return NULL;
    }
    for (size_t i = 0; s_countries[i].code; i++) {
        if (s_in_list(s_countries[i].names, key)) {
            return s_countries[i].code;
        }
    }
    return NULL;
}

const char *ho_norm_us_state(const char *in)
{
    if (!in) {
        return NULL;
    }
    char key[64];
    s_key(in, key, sizeof key);
    for (size_t i = 0; s_states[i].code; i++) {
        if (strcmp(key, s_states[i].name) == 0 || strcasecmp(key, s_states[i].code) == 0) {
            return s_states[i].code;
        }
    }
    return NULL;
}

/* ---- numbers ---- */
static bool s_parse_num(const char *s, const char **end, double *out)
{
    /* digits with optional thousands commas and a decimal point */
    char buf[64];
    size_t o = 0;
    const char *p = s;
    bool digits = false;
    while (*p && o + 1 < sizeof buf) {
        if (isdigit((unsigned char)*p)) {
            buf[o++] = *p;
            digits = true;
        } else if (*p == ',' && digits && isdigit((unsigned char)p[1])) {
            /* thousands separator */
        } else if (*p == '.' && isdigit((unsigned char)p[1])) {
            buf[o++] = '.';
        } else {
            break;
        }
        p++;
    }
    buf[o] = '\0';
    if (!digits) {
        return false;
    }
    *out = strtod(buf, NULL);
    *end = p;
    return true;
}

int ho_norm_employees(const char *in, long long *out)
{
    if (!in) {
        return -1;
    }
    const char *p = in;
    while (isspace((unsigned char)*p)) {
        p++;
    }
    double a, b;
    const char *e;
    if (!s_parse_num(p, &e, &a) || a > 1e12) {
        return -1; /* no company has a trillion people: and the cast below stays defined */
    }
    while (isspace((unsigned char)*e)) {
        e++;
    }
    if (*e == '+') {
        e++;
        while (isspace((unsigned char)*e)) {
            e++;
        }
        if (*e) {
            return -1;
        }
        *out = (long long)a + 1;
        return 0;
    }
    if (*e == '-' || strncmp(e, "\xE2\x80\x93", 3) == 0 || strncasecmp(e, "to ", 3) == 0) {
        e += *e == '-' ? 1 : 3;
        while (isspace((unsigned char)*e)) {
            e++;
        }
        if (!s_parse_num(e, &e, &b) || b < a || b > 1e12) {
            return -1;
        }
        while (isspace((unsigned char)*e)) {
            e++;
        }
        if (*e) {
            return -1;
        }
        *out = (long long)((a + b) / 2.0 + 0.5);
        return 0;
    }
    if (*e) {
        return -1;
    }
    if (a != (double)(long long)a || a < 0) {
        return -1;
    }
    *out = (long long)a;
    return 0;
}

int ho_norm_revenue(const char *in, double *out)
{
    if (!in) {
        return -1;
    }
    const char *p = in;
    while (isspace((unsigned char)*p)) {
        p++;
    }
    if (*p == '$') {
        p++;
    } else if (strncasecmp(p, "usd", 3) == 0) {
        p += 3;
    }
    while (isspace((unsigned char)*p)) {
        p++;
    }
    double v;
    const char *e;
    if (!s_parse_num(p, &e, &v)) {
        return -1;
    }
    while (isspace((unsigned char)*e)) {
        e++;
    }
    double mult = 1;
    if (*e == 'k' || *e == 'K') {
        mult = 1e3;
        e++;
    } else if (*e == 'm' || *e == 'M') {
        mult = 1e6;
        e++;
    } else if (strncasecmp(e, "bn", 2) == 0) {
        mult = 1e9;
        e += 2;
    } else if (*e == 'b' || *e == 'B') {
        mult = 1e9;
        e++;
    }
    while (isspace((unsigned char)*e)) {
        e++;
    }
    if (strncasecmp(e, "usd", 3) == 0) {
        e += 3;
    }
    if (*e) {
        return -1;
    }
    *out = v * mult;
    return 0;
}

/* ---- dates ---- */
static bool s_valid_ymdhms(int y, int mo, int d, int h, int mi, int s)
{
    if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 ||
        mi > 59 || s < 0 || s > 60) {
        return false;
    }
    return ho_civil_valid(y, mo, d);
}

static int64_t s_ms(int y, int mo, int d, int h, int mi, int s, int ms, int off_min)
{
    int64_t days = ho_days_from_civil(y, mo, d);
    return ((days * 86400 + h * 3600 + mi * 60 + s) - (int64_t)off_min * 60) * 1000 + ms;
}

/* Parse [T| ]HH:MM[:SS[.fff]][Z|+HH[:]MM] after a date; "" is allowed (midnight UTC). */
static bool s_time_tail(const char *p, int *h, int *mi, int *s, int *ms, int *off)
{
    *h = *mi = *s = *ms = *off = 0;
    if (*p == '\0') {
        return true;
    }
    if (*p != 'T' && *p != 't' && *p != ' ') {
        return false;
    }
    p++;
    if (!ho_read_digits(&p, 2, h) || *p++ != ':' || !ho_read_digits(&p, 2, mi)) {
        return false;
    }
    if (*p == ':') {
        p++;
        if (!ho_read_digits(&p, 2, s)) {
            return false;
        }
        if (*p == '.' || *p == ',') {
            p++;
            int frac = 0, nd = 0;
            while (isdigit((unsigned char)*p)) {
                if (nd < 3) {
                    frac = frac * 10 + (*p - '0');
                }
                nd++;
                p++;
            }
            if (nd == 0) {
                return false;
            }
            for (int k = nd; k < 3; k++) {
                frac *= 10;
            }
            *ms = frac;
        }
    }
    while (*p == ' ') {
        p++;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (strncmp(p, "UTC", 3) == 0 || strncmp(p, "GMT", 3) == 0) {
        p += 3;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om = 0;
        p++;
        if (!ho_read_digits(&p, 2, &oh)) {
            return false;
        }
        if (*p == ':') {
            p++;
        }
        if (isdigit((unsigned char)*p) && !ho_read_digits(&p, 2, &om)) {
            return false;
        }
        if (oh > 14 || om > 59) {
            return false;
        }
        *off = sign * (oh * 60 + om);
    }
    return *p == '\0';
}

static int s_fixed_formats(const char *t, int64_t *out)
{
    const char *p = t;
    int y, mo, d, h, mi, s, ms, off;
    size_t len = strlen(t);
    /* epoch seconds or milliseconds */
    bool all_digits = len > 0;
    for (size_t i = 0; i < len; i++) {
        all_digits = all_digits && isdigit((unsigned char)t[i]);
    }
    if (all_digits && (len == 10 || len == 13)) {
        long long v = strtoll(t, NULL, 10);
        *out = len == 10 ? v * 1000 : v;
        return 0;
    }
    /* YYYY-MM-DD... */
    if (ho_read_digits(&p, 4, &y) && *p == '-') {
        p++;
        if (!ho_read_digits(&p, 2, &mo) || *p++ != '-' || !ho_read_digits(&p, 2, &d)) {
            return -1;
        }
        if (!s_time_tail(p, &h, &mi, &s, &ms, &off) || !s_valid_ymdhms(y, mo, d, h, mi, s)) {
            return -1;
        }
        *out = s_ms(y, mo, d, h, mi, s, ms, off);
        return 0;
    }
    /* MM/DD/YYYY (US exports) */
    p = t;
    if (ho_read_digits(&p, 2, &mo) && *p == '/') {
        p++;
        if (!ho_read_digits(&p, 2, &d) || *p++ != '/' || !ho_read_digits(&p, 4, &y)) {
            return -1;
        }
        if (!s_time_tail(p, &h, &mi, &s, &ms, &off) || !s_valid_ymdhms(y, mo, d, h, mi, s)) {
            return -1;
        }
        *out = s_ms(y, mo, d, h, mi, s, ms, off);
        return 0;
    }
    return -1;
}

int ho_norm_date(const char *in, const char *const *formats, int64_t *ms)
{
    if (!in) {
        return -1;
    }
    char *t = s_trim_dup(in);
    if (!t || !t[0]) {
        free(t);
        return -1;
    }
    for (size_t i = 0; formats && formats[i]; i++) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        const char *end = strptime(t, formats[i], &tm);
        if (end && *end == '\0' &&
            s_valid_ymdhms(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                           tm.tm_sec)) {
            *ms = s_ms(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                       tm.tm_sec, 0, 0);
            free(t);
            return 0;
        }
    }
    int rc = s_fixed_formats(t, ms);
    free(t);
    return rc;
}

/* ---- vocabularies ---- */
typedef struct {
    const char *needle;
    const char *value;
} s_pair_t;

static const char *s_lookup_sub(const s_pair_t *table, const char *text)
{
    char key[160];
    s_key(text, key, sizeof key);
    for (size_t i = 0; table[i].needle; i++) {
        if (strstr(key, table[i].needle)) {
            return table[i].value;
        }
    }
    return NULL;
}

const char *ho_norm_industry_group(const char *label)
{
    /* first match wins, so the more specific needles come first */
    static const s_pair_t table[] = {
        {"non-profit", "nonprofit"},
        {"nonprofit", "nonprofit"},
        {"not for profit", "nonprofit"},
        {"philanthrop", "nonprofit"},
        {"charit", "nonprofit"},
        {"civic", "nonprofit"},
        {"higher education", "education"},
        {"education", "education"},
        {"e-learning", "education"},
        {"university", "education"},
        {"game", "media"},
        {"entertainment", "media"},
        {"media", "media"},
        {"publishing", "media"},
        {"broadcast", "media"},
        {"music", "media"},
        {"telecom", "telecom"},
        {"wireless", "telecom"},
        {"bank", "finance"},
        {"financ", "finance"},
        {"insurance", "finance"},
        {"investment", "finance"},
        {"capital markets", "finance"},
        {"accounting", "finance"},
        {"health", "healthcare"},
        {"hospital", "healthcare"},
        {"medical", "healthcare"},
        {"pharma", "healthcare"},
        {"biotech", "healthcare"},
        {"logistic", "logistics"},
        {"transport", "logistics"},
        {"supply chain", "logistics"},
        {"freight", "logistics"},
        {"shipping", "logistics"},
        {"airline", "logistics"},
        {"utilit", "utilities"},
        {"energy", "utilities"},
        {"oil", "utilities"},
        {"renewable", "utilities"},
        {"retail", "retail"},
        {"consumer", "retail"},
        {"apparel", "retail"},
        {"e-commerce", "retail"},
        {"food", "retail"},
        {"manufactur", "manufacturing"},
        {"machinery", "manufacturing"},
        {"industrial", "manufacturing"},
        {"automotive", "manufacturing"},
        {"chemical", "manufacturing"},
        {"electronic", "manufacturing"},
        {"software", "software"},
        {"technology", "software"},
        {"internet", "software"},
        {"computer", "software"},
        {"saas", "software"},
        {"it services", "software"},
        {NULL, NULL},
    };
    if (!label || !label[0]) {
        return NULL;
    }
    const char *g = s_lookup_sub(table, label);
    return g ? g : "other";
}

const char *ho_norm_source_channel(const char *original_source, const char *source)
{
    static const s_pair_t table[] = {
        {"paid search", "paid_search"},
        {"ppc", "paid_search"},
        {"cpc", "paid_search"},
        {"adwords", "paid_search"},
        {"google ads", "paid_search"},
        {"organic search", "organic_search"},
        {"seo", "organic_search"},
        {"paid social", "paid_social"},
        {"facebook", "paid_social"},
        {"linkedin", "paid_social"},
        {"instagram", "paid_social"},
        {"organic social", "organic_social"},
        {"social", "organic_social"},
        {"email", "email"},
        {"newsletter", "email"},
        {"partner", "partner"},
        {"referral", "referral"},
        {"word of mouth", "referral"},
        {"direct", "direct"},
        {"phone", "direct"},
        {"webinar", "webinar"},
        {"trade show", "event"},
        {"event", "event"},
        {"conference", "event"},
        {"purchased list", "list"},
        {"list", "list"},
        {"offline", "list"},
        {"import", "list"},
        {"web", "form"},
        {"form", "form"},
        {"typeform", "form"},
        {NULL, NULL},
    };
    if (original_source && original_source[0]) {
        const char *c = s_lookup_sub(table, original_source);
        return c ? c : "other";
    }
    if (source && source[0]) {
        static const s_pair_t by_source[] = {
            {"facebook", "paid_social"},
            {"linkedin", "paid_social"},
            {"hubspot form", "form"},
            {"typeform", "form"},
            {"form", "form"},
            {NULL, NULL},
        };
        const char *c = s_lookup_sub(by_source, source);
        if (c) {
            return c;
        }
    }
    return "other";
}

char *ho_norm_url_path(const char *url)
{
    if (!url) {
        return strdup("");
    }
    char *t = s_trim_dup(url);
    if (!t) {
        return NULL;
    }
    const char *p = t;
    const char *scheme = strstr(p, "://");
    if (scheme && scheme < p + 12) {
        p = scheme + 3;
        p += strcspn(p, "/?#");
    } else if (strncmp(p, "//", 2) == 0) {
        p += 2;
        p += strcspn(p, "/?#");
    } else if (*p && *p != '/' && strchr(p, '.') && strcspn(p, "/") < strcspn(p, "?#")) {
        /* "www.example.com/pricing": a host without a scheme */
        const char *slash = strchr(p, '/');
        const char *dot = strchr(p, '.');
        if (slash && dot < slash) {
            p = slash;
        }
    }
    size_t n = strcspn(p, "?#");
    char *out = malloc(n + 2);
    if (out) {
        if (n == 0 && (p != t || scheme)) {
            strcpy(out, "/");
        } else {
            memcpy(out, p, n);
            out[n] = '\0';
        }
        /* "/pricing/" and "/pricing" are the same page */
        size_t len = strlen(out);
        if (len > 1 && out[len - 1] == '/') {
            out[len - 1] = '\0';
        }
    }
    free(t);
    return out;
}

const char *ho_norm_activity_type(const char *in)
{
    static const s_pair_t table[] = {
        {"email open", "email_open"},
        {"open email", "email_open"},
        {"open", "email_open"},
        {"email click", "email_click"},
        {"click email", "email_click"},
        {"click link in email", "email_click"},
        {"click", "email_click"},
        {"page view", "page_view"},
        {"pageview", "page_view"},
        {"visit webpage", "page_view"},
        {"web visit", "page_view"},
        {"webinar attended", "webinar_attended"},
        {"attend event", "webinar_attended"},
        {"attended", "webinar_attended"},
        {"content download", "content_download"},
        {"download", "content_download"},
        {"demo request", "demo_request"},
        {"request demo", "demo_request"},
        {"free trial signup", "free_trial_signup"},
        {"trial signup", "free_trial_signup"},
        {"free trial", "free_trial_signup"},
        {"unsubscribe", "unsubscribe"},
        {"unsubscribe email", "unsubscribe"},
        {"form submit", "form_submit"},
        {"fill out form", "form_submit"},
        {"form submission", "form_submit"},
        {NULL, NULL},
    };
    if (!in) {
        return NULL;
    }
    char key[96];
    s_key(in, key, sizeof key);
    for (size_t i = 0; table[i].needle; i++) {
        if (strcmp(key, table[i].needle) == 0) {
            return table[i].value;
        }
    }
    return NULL;
}
