/* demo.c - the seeded demo world; see demo.h
 *
 * Every person, company and event is a pure function of (seed, index): person i is drawn
 * from a PRNG seeded with (seed, "person", i), so a file can be written by walking the
 * indexes without holding the world in memory (the 1 GB benchmark file), and two runs with
 * the same seed and now write the same bytes. All names and domains are invented. */
#include "connectors/demo/demo.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "handoff/csvio.h"
#include "handoff/defaults.h"
#include "handoff/tz.h"

#define DAY 86400000LL
#define HOUR 3600000LL
#define WINDOW (84 * DAY)
/* people appear over two more weeks than the report's 12: the first report week then has
 * leads that qualify in it, as any week of a going concern does */
#define HISTORY (WINDOW + 14 * DAY)

/* ---- PRNG: splitmix64 ---- */
typedef struct {
    uint64_t s;
} s_rng_t;

static uint64_t s_next(s_rng_t *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static s_rng_t s_rng(uint64_t seed, uint64_t tag, uint64_t i, uint64_t k)
{
    s_rng_t r = {seed ^ (tag * 0xD6E8FEB86659FD93ULL)};
    r.s ^= s_next(&r) + i * 0x9E3779B97F4A7C15ULL;
    r.s ^= s_next(&r) + k * 0xC2B2AE3D27D4EB4FULL;
    s_next(&r);
    return r;
}

static uint64_t s_below(s_rng_t *r, uint64_t n)
{
    return n ? s_next(r) % n : 0;
}

static double s_unit(s_rng_t *r)
{
    return (double)(s_next(r) >> 11) / 9007199254740992.0;
}

static bool s_chance(s_rng_t *r, double p)
{
    return s_unit(r) < p;
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(r, a) ((a)[s_below((r), N_OF(a))])

enum { T_PERSON = 1, T_COMPANY, T_ACT, T_FILE, T_DIRTY, T_FEEDBACK, T_SIM };

/* ---- vocabulary ---- */
static const char *const s_first[] = {
    "Adaeze",   "Aurelio",  "Beatrix",     "Bertil",     "Calloway", "Cosima",    "Dagny",
    "Dorian",   "Elspeth",  "Emeric",      "Fenna",      "Florian",  "Gwendolyn", "Gideon",
    "Halloran", "Hester",   "Imogen",      "Ignatius",   "Jessamy",  "Joaquim",   "Katja",
    "Kasimir",  "Leocadia", "Lysander",    "Maren",      "Matthias", "Nerys",     "Nikolai",
    "Odile",    "Osric",    "Perpetua",    "Piet",       "Quilla",   "Quentin",   "Rosalind",
    "Ruairi",   "Saoirse",  "Severin",     "Tamsin",     "Thaddeus", "Ulrike",    "Ulysses",
    "Valeska",  "Vitus",    "Wilhelmina",  "Wystan",     "Xanthe",   "Yannick",   "Yseult",
    "Zeno",     "Anouk",    "Bartholomew", "Clementine", "Desmond",  "Eulalie",   "Fitzroy",
    "Ginevra",  "Horatio",  "Isolde",      "Jasper",     "Kiri",     "Lorenzo",   "Mireille",
    "Nandor",   "Ottilie",  "Peregrine",   "Rafferty",   "Sigrun",   "Teodor",    "Ursula",
    "Valentin", "Winifred", "Aiko",        "Haruki",     "Priyanka", "Devraj",    "Meilin",
    "Arjun",    "Sunniva",  "Tomasz",
};
static const char *const s_last[] = {
    "Abernethy",    "Blackwood",      "Carrow",       "Dunmore",     "Eldridge",      "Fairweather",
    "Glenister",    "Hawthorne",      "Inglewood",    "Jellicoe",    "Kettering",     "Lockhart",
    "Mortimer",     "Northcote",      "Oakley",       "Pemberton",   "Quimby",        "Ravensworth",
    "Strickland",   "Thistlethwaite", "Underwood",    "Vandermolen", "Whitcombe",     "Yardley",
    "Zellweger",    "Ashdown",        "Brightwater",  "Coldridge",   "Draycott",      "Eversley",
    "Foxcroft",     "Gresham",        "Holloway",     "Ivesdale",    "Kilbride",      "Larkspur",
    "Merriweather", "Nethercott",     "Ormsby",       "Pendragon",   "Redfern",       "Silverthorn",
    "Tregarth",     "Umberleigh",     "Vasquez-Hale", "Wetherby",    "Achterberg",    "Brandvold",
    "Castellanos",  "Dabrowski",      "Engström",     "Fitzwilliam", "Grünewald",     "Haugland",
    "Iwasaki",      "Jankowski",      "Kowalczyk",    "Lindqvist",   "Moreau-Lenoir", "Nakamura",
    "Okonjo",       "Papadakis",      "Rautenberg",   "Szabó",       "Takahashi",     "Uchida",
    "Vermeulen",    "Wojcik",         "Yamamoto",     "Zamora",      "Bhattacharya",  "Chaudhury",
    "Deshpande",    "Fernsby",        "Gallowglass",  "Hinojosa",    "Ishikawa",      "Jorgensen",
    "Kavanagh",     "Lindgren",
};
static const char *const s_words[] = {
    "Alder",     "Basalt",    "Cobalt",   "Driftwood", "Ember",    "Fennel",      "Gannet",
    "Heron",     "Ironbark",  "Juniper",  "Kestrel",   "Larch",    "Marram",      "Nettle",
    "Osprey",    "Pumice",    "Quillon",  "Rowan",     "Sorrel",   "Tamarack",    "Umber",
    "Verdigris", "Wrenfold",  "Yarrow",   "Zephyr",    "Bramble",  "Cinder",      "Dunlin",
    "Eskar",     "Fjordline", "Gossamer", "Halcyon",   "Inkwell",  "Jackdaw",     "Kittiwake",
    "Lodestar",  "Moraine",   "Nimbus",   "Oriel",     "Plover",   "Quarrystone", "Runnel",
    "Saltmarsh", "Thistle",   "Upland",   "Vireo",     "Weirgate", "Yewbank",
};

typedef struct {
    const char *hubspot;    /* HubSpot industry label */
    const char *salesforce; /* Salesforce picklist value */
    const char *sector[3];  /* words for company names */
} s_industry_t;

static const s_industry_t s_industries[] = {
    {"Computer Software", "Technology", {"Analytics", "Software", "Data Systems"}},
    {"Information Technology and Services", "Technology", {"Cloud", "Digital", "Systems"}},
    {"Financial Services", "Finance", {"Capital", "Financial", "Ledger"}},
    {"Banking", "Banking", {"Bank", "Savings Bank", "Trust Bank"}},
    {"Insurance", "Insurance", {"Insurance", "Mutual", "Assurance"}},
    {"Hospital & Health Care", "Healthcare", {"Health", "Medical", "Clinics"}},
    {"Telecommunications", "Telecommunications", {"Telecom", "Networks", "Fibre"}},
    {"Machinery", "Manufacturing", {"Robotics", "Machining", "Industries"}},
    {"Retail", "Retail", {"Outfitters", "Market", "Stores"}},
    {"Logistics and Supply Chain", "Transportation", {"Logistics", "Freight", "Shipping"}},
    {"Utilities", "Utilities", {"Energy", "Power", "Water"}},
    {"Computer Games", "Entertainment", {"Games", "Studios", "Interactive"}},
};
#define IND_NONPROFIT 100
#define IND_EDU 101

typedef struct {
    const char *code;
    const char *names[3]; /* how exports write it: [0] English name, [1] alias, [2] native */
    const char *tld;
    const char *legal[2];
    int weight;
} s_country_t;

static const s_country_t s_countries[] = {
    {"US", {"United States", "USA", "US"}, ".com", {"Inc.", "LLC"}, 50},
    {"GB", {"United Kingdom", "UK", "GB"}, ".co.uk", {"Ltd", "plc"}, 10},
    {"IE", {"Ireland", "IE", "Éire"}, ".ie", {"Ltd", "DAC"}, 3},
    {"DE", {"Germany", "DE", "Deutschland"}, ".de", {"GmbH", "AG"}, 7},
    {"NL", {"Netherlands", "NL", "Nederland"}, ".nl", {"B.V.", "N.V."}, 4},
    {"FR", {"France", "FR", "France"}, ".fr", {"SAS", "SA"}, 3},
    {"SE", {"Sweden", "SE", "Sverige"}, ".se", {"AB", "AB"}, 3},
    {"CH", {"Switzerland", "CH", "Schweiz"}, ".ch", {"AG", "GmbH"}, 2},
    {"DK", {"Denmark", "DK", "Danmark"}, ".dk", {"A/S", "ApS"}, 1},
    {"NO", {"Norway", "NO", "Norge"}, ".no", {"AS", "ASA"}, 1},
    {"FI", {"Finland", "FI", "Suomi"}, ".fi", {"Oy", "Oyj"}, 1},
    {"AT", {"Austria", "AT", "Österreich"}, ".at", {"GmbH", "AG"}, 1},
    {"BE", {"Belgium", "BE", "België"}, ".be", {"NV", "BV"}, 1},
    {"ES", {"Spain", "ES", "España"}, ".es", {"S.L.", "S.A."}, 1},
    {"AU", {"Australia", "AU", "Australia"}, ".com.au", {"Pty Ltd", "Pty Ltd"}, 4},
    {"IN", {"India", "IN", "India"}, ".in", {"Pvt. Ltd.", "Ltd."}, 3},
    {"JP", {"Japan", "JP", "Japan"}, ".co.jp", {"K.K.", "Co., Ltd."}, 2},
    {"SG", {"Singapore", "SG", "Singapore"}, ".com.sg", {"Pte. Ltd.", "Pte. Ltd."}, 2},
    {"NZ", {"New Zealand", "NZ", "Aotearoa"}, ".co.nz", {"Limited", "Limited"}, 1},
    {"CA", {"Canada", "CA", "Canada"}, ".ca", {"Inc.", "Ltd."}, 1},
};

typedef struct {
    const char *code, *name, *city, *phone_prefix;
} s_state_t;

static const s_state_t s_us_states[] = {
    {"NY", "New York", "New York", "212.555."},
    {"MA", "Massachusetts", "Boston", "617.555."},
    {"GA", "Georgia", "Atlanta", "404.555."},
    {"FL", "Florida", "Miami", "305.555."},
    {"NC", "North Carolina", "Raleigh", "919.555."},
    {"PA", "Pennsylvania", "Philadelphia", "215.555."},
    {"VA", "Virginia", "Arlington", "703.555."},
    {"OH", "Ohio", "Columbus", "614.555."},
    {"NJ", "New Jersey", "Newark", "973.555."},
    {"TX", "Texas", "Austin", "512.555."},
    {"CO", "Colorado", "Denver", "303.555."},
    {"WA", "Washington", "Seattle", "206.555."},
    {"IL", "Illinois", "Chicago", "312.555."},
    {"MN", "Minnesota", "Minneapolis", "612.555."},
    {"AZ", "Arizona", "Phoenix", "602.555."},
    {"OR", "Oregon", "Portland", "503.555."},
    {"UT", "Utah", "Salt Lake City", "801.555."},
    {"CA", "California", "San Francisco", "415.555."},
};

static const char *const s_cities[][3] = {
    /* by country code order of s_countries (US handled by states) */
    {"", "", ""},
    {"London", "Manchester", "Bristol"},
    {"Dublin", "Cork", "Galway"},
    {"Berlin", "München", "Hamburg"},
    {"Amsterdam", "Rotterdam", "Utrecht"},
    {"Paris", "Lyon", "Toulouse"},
    {"Stockholm", "Göteborg", "Uppsala"},
    {"Zürich", "Basel", "Bern"},
    {"København", "Aarhus", "Odense"},
    {"Oslo", "Bergen", "Trondheim"},
    {"Helsinki", "Espoo", "Tampere"},
    {"Wien", "Graz", "Linz"},
    {"Brussel", "Antwerpen", "Gent"},
    {"Madrid", "Barcelona", "Valencia"},
    {"Sydney", "Melbourne", "Brisbane"},
    {"Bengaluru", "Chennai", "Pune"},
    {"Tokyo", "Osaka", "Nagoya"},
    {"Singapore", "Singapore", "Singapore"},
    {"Auckland", "Wellington", "Christchurch"},
    {"Toronto", "Vancouver", "Montréal"},
};
static const char *const s_phone_prefix[] = {
    "",
    "+44 20 7946 0",
    "+353 1 555 0",
    "+49 30 55501",
    "+31 20 555 0",
    "+33 1 99 00 0",
    "+46 8 555 0",
    "+41 44 555 0",
    "+45 55 50 0",
    "+47 55 55 0",
    "+358 9 5550 0",
    "+43 1 5550 0",
    "+32 2 555 0",
    "+34 91 555 0",
    "+61 2 5550 0",
    "+91 80 5555 0",
    "+81 3 5555 0",
    "+65 5555 0",
    "+64 9 555 0",
    "+1 416 555 0",
};

static const char *const s_title_hot[] = {
    "Chief Data Officer",
    "VP, Data Platform",
    "VP Engineering",
    "Head of Data",
    "Director of Data Engineering",
    "Director, Analytics & BI",
    "CTO",
    "Head of Platform Engineering",
    "VP of Analytics",
};
static const char *const s_title_mid[] = {
    "Data Engineer",       "Senior Data Engineer", "Analytics Engineer", "Staff Engineer",
    "Engineering Manager", "Solutions Architect",  "IT Manager",         "Product Manager",
    "BI Developer",        "Data Platform Lead",
};
static const char *const s_title_cold[] = {
    "Marketing Coordinator", "Operations Analyst", "Procurement Manager",
    "Office Manager",        "Consultant",         "Software Developer",
    "Junior Analyst",        "Sales Associate",
};
static const char *const s_title_student[] = {"Student", "Graduate Student", "PhD Candidate",
                                              "Intern"};
static const char *const s_title_personal[] = {"Independent Consultant", "Open to Work",
                                               "Freelance Data Engineer", "Self-employed"};
static const char *const s_title_intern[] = {"Data Engineering Intern", "Analytics Intern",
                                             "Working Student, Data Platform",
                                             "Intern, BI & Reporting"};
static const char *const s_personal_domains[] = {"gmail.com",   "yahoo.com",  "outlook.com",
                                                 "hotmail.com", "icloud.com", "gmx.de",
                                                 "yahoo.co.uk", "proton.me"};
static const char *const s_hs_sources[][2] = {
    {"Organic Search", "google"},
    {"Paid Search", "google"},
    {"Email Marketing", "nurture-q4"},
    {"Organic Social", "LinkedIn"},
    {"Paid Social", "LinkedIn"},
    {"Referrals", "capterra.com"},
    {"Other Campaigns", "autumn-roadshow-2026"},
    {"Direct Traffic", ""},
    {"Offline Sources", "Import"},
    {"Paid Social", "Facebook"},
};
static const char *const s_sf_sources[] = {
    "Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Trade Show", "Webinar", "Other"};
static const char *const s_mk_sources[] = {"Website",        "Paid Search", "Email",
                                           "Webinar",        "Trade Show",  "Paid Social",
                                           "Organic Search", "Partner"};
static const char *const s_conversions[] = {
    "Pipeline Cost Benchmark 2026: Download", "Pricing - Talk to Sales",
    "Demo Request: Northwind Pipelines Demo", "Newsletter Signup",
    "Streaming ETL Webinar: Register",        ""};
static const char *const s_messages_hot[] = {
    ("We run Kafka, Airflow, and a lot of cron jobs; looking for one place to monitor them. "
     "Budget is approved for Q1."),
    "Evaluating vendors now.\nNeed SSO, audit logs, and an EU region.",
    "Please send pricing for 40 pipelines, \"enterprise\" tier.",
    "Our current ETL vendor renews in March, comparing options.",
};
static const char *const s_messages_cold[] = {
    "Just curious, writing a thesis on data pipelines.",
    "Can you send me the whitepaper, thanks",
    "",
    "",
    "",
};

/* ---- the world ---- */
typedef enum { P_NORMAL = 0, P_PERSONAL, P_STUDENT, P_NONPROFIT } s_pkind_t;
typedef enum { F_HUBSPOT = 0, F_SALESFORCE, F_MARKETO, F_WEBHOOK, F_NFILES } s_file_t;
typedef enum { W_FACEBOOK = 0, W_LINKEDIN, W_HSFORM, W_TYPEFORM } s_wshape_t;

typedef struct {
    long company;
    int industry; /* index into s_industries, or IND_NONPROFIT / IND_EDU */
    int country;  /* index into s_countries */
    int state;    /* index into s_us_states (US only), else -1 */
    int city;
    long employees;
    long long revenue; /* 0 = unknown */
    char name[200];
    char domain[200];
} s_company_t;

typedef struct {
    long i;
    s_pkind_t kind;
    int temp;     /* 2 hot, 1 warm, 0 cold */
    bool at_work; /* P_PERSONAL: names a real employer; P_STUDENT: an intern at one */
    char first[48], last[48];
    char email[384];
    char title[64];
    s_company_t co;
    int64_t created_at;
    bool in_file[F_NFILES];
    s_wshape_t shape;
    int64_t file_created[F_NFILES];
} s_person_t;

typedef struct {
    const ho_demo_opts_t *o;
    long n_companies;
} s_world_t;

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

static int s_pick_country(s_rng_t *r)
{
    int total = 0;
    for (size_t i = 0; i < N_OF(s_countries); i++) {
        total += s_countries[i].weight;
    }
    int x = (int)s_below(r, (uint64_t)total);
    for (size_t i = 0; i < N_OF(s_countries); i++) {
        if (x < s_countries[i].weight) {
            return (int)i;
        }
        x -= s_countries[i].weight;
    }
    return 0;
}

static void s_company(const s_world_t *w, long c, s_company_t *co)
{
    s_rng_t r = s_rng(w->o->seed, T_COMPANY, (uint64_t)c, 0);
    memset(co, 0, sizeof *co);
    co->company = c;
    co->industry = (int)s_below(&r, N_OF(s_industries));
    co->country = s_pick_country(&r);
    co->state = -1;
    if (strcmp(s_countries[co->country].code, "US") == 0) {
        co->state = (int)s_below(&r, N_OF(s_us_states));
        /* California is outside the sales territories on purpose (rarely: fallback queue) */
        if (co->state == (int)N_OF(s_us_states) - 1 && !s_chance(&r, 0.3)) {
            co->state = (int)s_below(&r, N_OF(s_us_states) - 1);
        }
    }
    co->city = (int)s_below(&r, 3);
    double u = s_unit(&r);
    co->employees = u < 0.35   ? 5 + (long)s_below(&r, 95)
                    : u < 0.65 ? 100 + (long)s_below(&r, 900)
                               : 1001 + (long)s_below(&r, 24000);
    co->revenue =
        s_chance(&r, 0.6) ? (long long)co->employees * (80000 + (long long)s_below(&r, 300000)) : 0;
    const s_industry_t *ind = &s_industries[co->industry];
    const char *word = s_words[c % (long)N_OF(s_words)];
    const char *sector = ind->sector[(c / (long)N_OF(s_words)) % 3];
    long gen = c / (long)(N_OF(s_words) * 3);
    const s_country_t *ct = &s_countries[co->country];
    const char *legal = ct->legal[s_below(&r, 2)];
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

static void s_person(const s_world_t *w, long i, s_person_t *p)
{
    s_rng_t r = s_rng(w->o->seed, T_PERSON, (uint64_t)i, 0);
    memset(p, 0, sizeof *p);
    p->i = i;
    long nf = (long)N_OF(s_first), nl = (long)N_OF(s_last);
    /* (first, last, round) is unique per i, so emails never collide by accident */
    snprintf(p->first, sizeof p->first, "%s", s_first[i % nf]);
    snprintf(p->last, sizeof p->last, "%s", s_last[(i / nf + i) % nl]);
    long round = i / (nf * nl);
    double u = s_unit(&r);
    p->kind = u < 0.09 ? P_PERSONAL : u < 0.14 ? P_STUDENT : u < 0.19 ? P_NONPROFIT : P_NORMAL;
    s_company(w, (long)s_below(&r, (uint64_t)w->n_companies), &p->co);
    char fs[48], ls[48], local[120];
    s_slug(p->first, fs, sizeof fs);
    s_slug(p->last, ls, sizeof ls);
    char suffix[24] = "";
    if (round > 0) {
        snprintf(suffix, sizeof suffix, "%ld", round + 1);
    }
    int fmt = (int)s_below(&r, 4);
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
        domain = PICK(&r, s_personal_domains);
        snprintf(local + strlen(local), sizeof local - strlen(local), "%02d", (int)(i % 97));
        /* some fill in a real employer and a senior title but sign up from a free mailbox:
         * the model can score them an MQL, the rep cannot verify them (personal_email) */
        p->at_work = s_chance(&r, 0.45);
        if (p->at_work) {
            double t = s_unit(&r);
            p->temp = t < 0.4 ? 2 : t < 0.75 ? 1 : 0;
            snprintf(p->title, sizeof p->title, "%s",
                     p->temp == 2 ? PICK(&r, s_title_hot) : PICK(&r, s_title_mid));
        } else {
            snprintf(p->title, sizeof p->title, "%s", PICK(&r, s_title_personal));
            p->co.name[0] = '\0';
            p->co.employees = 0;
            p->co.revenue = 0;
            p->temp = s_chance(&r, 0.2) ? 1 : 0;
        }
    } else if (p->kind == P_STUDENT && s_chance(&r, 0.4)) {
        /* an intern at a customer-like company: a work address, eager, cannot buy */
        p->at_work = true;
        snprintf(p->title, sizeof p->title, "%s", PICK(&r, s_title_intern));
        p->temp = s_chance(&r, 0.5) ? 2 : 1;
    } else if (p->kind == P_STUDENT) {
        const char *word = s_words[(i / 7) % (long)N_OF(s_words)];
        char sw[48];
        s_slug(word, sw, sizeof sw);
        bool us = strcmp(s_countries[p->co.country].code, "US") == 0;
        snprintf(p->co.name, sizeof p->co.name, "%s %s", word,
                 us ? "State University" : "University");
        snprintf(dombuf, sizeof dombuf, us ? "%s-state.edu" : "uni-%s%s", sw,
                 us ? "" : s_countries[p->co.country].tld);
        domain = dombuf;
        snprintf(p->co.domain, sizeof p->co.domain, "%s", dombuf);
        p->co.industry = IND_EDU;
        p->co.employees = 2000 + (long)s_below(&r, 8000);
        p->co.revenue = 0;
        snprintf(p->title, sizeof p->title, "%s", PICK(&r, s_title_student));
        p->temp = s_chance(&r, 0.3) ? 1 : 0;
    } else if (p->kind == P_NONPROFIT) {
        const char *word = s_words[(i / 5) % (long)N_OF(s_words)];
        char sw[48];
        s_slug(word, sw, sizeof sw);
        snprintf(p->co.name, sizeof p->co.name, "%s %s", word,
                 s_chance(&r, 0.5) ? "Foundation" : "Community Trust");
        snprintf(dombuf, sizeof dombuf, "%s-foundation.org", sw);
        domain = dombuf;
        snprintf(p->co.domain, sizeof p->co.domain, "%s", dombuf);
        p->co.industry = IND_NONPROFIT;
        p->co.employees = 5 + (long)s_below(&r, 60);
        p->co.revenue = 0;
        snprintf(p->title, sizeof p->title, "%s",
                 s_chance(&r, 0.5) ? "Program Director" : "Volunteer Coordinator");
        p->temp = s_chance(&r, 0.25) ? 1 : 0;
    } else {
        double t = s_unit(&r);
        bool big = p->co.employees > 1000;
        p->temp = (t < (big ? 0.45 : 0.18)) ? 2 : (t < 0.55 ? 1 : 0);
        const char *title = p->temp == 2   ? PICK(&r, s_title_hot)
                            : p->temp == 1 ? PICK(&r, s_title_mid)
                                           : PICK(&r, s_title_cold);
        snprintf(p->title, sizeof p->title, "%s", title);
    }
    snprintf(p->email, sizeof p->email, "%s@%s", local, domain);
    s_lower_ascii(p->email);
    p->created_at = w->o->now_ms - HOUR - (int64_t)s_below(&r, (uint64_t)(HISTORY - 2 * HOUR));
    p->created_at -= p->created_at % 1000;
    double f = s_unit(&r);
    s_file_t primary = f < 0.40   ? F_HUBSPOT
                       : f < 0.65 ? F_SALESFORCE
                       : f < 0.80 ? F_MARKETO
                                  : F_WEBHOOK;
    p->in_file[primary] = true;
    p->file_created[primary] = p->created_at;
    if (s_chance(&r, 0.18)) {
        s_file_t second = (s_file_t)((primary + 1 + s_below(&r, F_NFILES - 1)) % F_NFILES);
        p->in_file[second] = true;
        int64_t later = p->created_at + (int64_t)s_below(&r, 20 * DAY);
        if (later > w->o->now_ms - HOUR) {
            later = w->o->now_ms - HOUR;
        }
        p->file_created[second] = later - later % 1000;
    }
    double s = s_unit(&r);
    p->shape = s < 0.35 ? W_FACEBOOK : s < 0.6 ? W_LINKEDIN : s < 0.8 ? W_HSFORM : W_TYPEFORM;
}

/* How a file writes the address: mostly as is, sometimes in capitals or with stray spaces
 * (the same person must still be recognised). */
static void s_email_variant(s_rng_t *r, const char *email, char *out, size_t cap)
{
    double u = s_unit(r);
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
static void s_fmt_time(int64_t ms, const char *fmt, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, fmt, &tm);
}

static void s_iso(int64_t ms, char *out, size_t cap)
{
    s_fmt_time(ms, "%Y-%m-%dT%H:%M:%SZ", out, cap);
}

static const char *s_hs_bucket(long n)
{
    return n <= 5      ? "1-5"
           : n <= 25   ? "5-25"
           : n <= 50   ? "25-50"
           : n <= 100  ? "50-100"
           : n <= 500  ? "100-500"
           : n <= 1000 ? "500-1000"
                       : "1000+";
}

static const char *s_industry_hs(const s_person_t *p)
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
    return s_industries[p->co.industry].hubspot;
}

static const char *s_industry_sf(const s_person_t *p)
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
    return s_industries[p->co.industry].salesforce;
}

static const char *s_city(const s_person_t *p)
{
    if (p->co.state >= 0) {
        return s_us_states[p->co.state].city;
    }
    return s_cities[p->co.country][p->co.city];
}

static void s_phone(s_rng_t *r, const s_person_t *p, char *out, size_t cap)
{
    if (s_chance(r, 0.35)) {
        out[0] = '\0';
        return;
    }
    int n = 100 + (int)s_below(r, 99);
    if (p->co.state >= 0) {
        snprintf(out, cap, "%s0%d", s_us_states[p->co.state].phone_prefix, n);
    } else {
        snprintf(out, cap, "%s%d", s_phone_prefix[p->co.country], n);
    }
}

/* A CSV line writer: fields joined by commas, RFC 4180 quoting. */
typedef struct {
    FILE *f;
    bool first;
    bool all_quoted;
    const char *eol;
} s_csvw_t;

static void s_cell(s_csvw_t *w, const char *s)
{
    if (!w->first) {
        fputc(',', w->f);
    }
    w->first = false;
    ho_csv_write_field(w->f, s ? s : "", w->all_quoted);
}

static void s_cellf(s_csvw_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_cellf(s_csvw_t *w, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    s_cell(w, buf);
}

static void s_endrow(s_csvw_t *w)
{
    fputs(w->eol, w->f);
    w->first = true;
}

/* ---- manifest bookkeeping ---- */
typedef struct {
    const char *file;
    const char *profile;
    const char *kind;
    long records, accepted;
    long q_missing_email, q_bad_email, q_bad_date, q_columns, q_type, q_json, q_outcome;
} s_count_t;

static json_t *s_count_json(const s_count_t *c)
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
static long s_dirty_every(long n, long k)
{
    return k > 0 ? (n / (k + 1) > 0 ? n / (k + 1) : 1) : 0;
}

/* The export headers, shared by the demo world and the corpus generator. */
static const char *const s_hubspot_cols[] = {"Record ID",
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
static const char *const s_salesforce_cols[] = {"Id",
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
static const char *const s_marketo_cols[] = {
    "id",       "firstName",         "lastName",      "email",     "title",     "company",
    "industry", "numberOfEmployees", "annualRevenue", "phone",     "city",      "state",
    "country",  "leadSource",        "leadStatus",    "leadScore", "createdAt", "updatedAt"};

/* ---- HubSpot ---- */
static int s_write_hubspot(const s_world_t *w, FILE *f, s_count_t *c, char *seen)
{
    s_csvw_t cw = {f, true, false, "\r\n"};
    fputs("\xEF\xBB\xBF", f);
    for (size_t k = 0; k < N_OF(s_hubspot_cols); k++) {
        s_cell(&cw, s_hubspot_cols[k]);
    }
    s_endrow(&cw);
    long n = w->o->leads;
    long kd = n / 200 + 1;
    long every = s_dirty_every(n, 4);
    long dirty_no = 0;
    for (long i = 0; i < n; i++) {
        if (every && i > 0 && i % every == 0 && dirty_no < 4) {
            /* dirty rows: missing email, bad date, bad email, too few columns (x kd for the
             * first two) */
            int what = (int)dirty_no++;
            long reps = what < 2 ? kd : 1;
            for (long d = 0; d < reps; d++) {
                s_rng_t r = s_rng(w->o->seed, T_DIRTY, 100 + what, (uint64_t)d);
                long id = 90000000000L + (long)s_below(&r, 9999999999L);
                if (what == 3) {
                    fprintf(f, "%ld,Truncated,Row,broken.row%ld@example-truncated.com,,Analyst\r\n",
                            id, d);
                    c->q_columns++;
                } else {
                    s_cellf(&cw, "%ld", id);
                    s_cell(&cw, PICK(&r, s_first));
                    s_cell(&cw, PICK(&r, s_last));
                    if (what == 0) {
                        s_cell(&cw, "");
                        c->q_missing_email++;
                    } else if (what == 1) {
                        s_cellf(&cw, "dated.badly%ld@%s", d, "kestrel-analytics.com");
                        c->q_bad_date++;
                    } else {
                        s_cell(&cw, "n/a");
                        c->q_bad_email++;
                    }
                    for (int k = 4; k < 19; k++) {
                        s_cell(&cw, k == 10 ? "USA" : k == 13 ? "Lead" : "");
                    }
                    s_cell(&cw, what == 1 ? "31/13/2026 25:61" : "2026-11-02 10:00");
                    for (int k = 20; k < 26; k++) {
                        s_cell(&cw, "");
                    }
                    s_endrow(&cw);
                }
                c->records++;
            }
        }
        s_person_t p;
        s_person(w, i, &p);
        if (!p.in_file[F_HUBSPOT]) {
            continue;
        }
        s_rng_t r = s_rng(w->o->seed, T_FILE, (uint64_t)i, F_HUBSPOT);
        char email[512], phone[48], when[32], last[32];
        s_email_variant(&r, p.email, email, sizeof email);
        s_phone(&r, &p, phone, sizeof phone);
        s_cellf(&cw, "%ld", 10000000000L + (long)(s_next(&r) % 89999999999ULL));
        s_cell(&cw, p.first);
        s_cell(&cw, p.last);
        s_cell(&cw, email);
        s_cell(&cw, phone);
        s_cell(&cw, p.title);
        s_cell(&cw, p.co.name);
        s_cell(&cw, s_industry_hs(&p));
        s_cell(&cw, p.co.employees && s_chance(&r, 0.8) ? s_hs_bucket(p.co.employees) : "");
        if (p.co.revenue) {
            s_cellf(&cw, "%lld", p.co.revenue);
        } else {
            s_cell(&cw, "");
        }
        const s_country_t *ct = &s_countries[p.co.country];
        s_cell(&cw, ct->names[s_chance(&r, 0.7) ? 0 : 1]);
        if (p.co.state >= 0) {
            s_cell(&cw,
                   s_chance(&r, 0.7) ? s_us_states[p.co.state].name : s_us_states[p.co.state].code);
        } else {
            s_cell(&cw, "");
        }
        s_cell(&cw, s_city(&p));
        static const char *const stages[] = {"Subscriber", "Lead", "Lead",
                                             "Marketing Qualified Lead"};
        static const char *const statuses[] = {
            "New",       "Open",        "In Progress", "", "Attempted to Contact",
            "Connected", "Unqualified", "Bad Timing"};
        s_cell(&cw,
               p.temp == 2 && s_chance(&r, 0.5) ? "Marketing Qualified Lead" : PICK(&r, stages));
        s_cell(&cw, PICK(&r, statuses));
        size_t src = s_below(&r, N_OF(s_hs_sources));
        s_cell(&cw, s_hs_sources[src][0]);
        s_cell(&cw, s_hs_sources[src][1]);
        s_cellf(&cw, "%d", p.temp == 2 ? 50 + (int)s_below(&r, 45) : (int)s_below(&r, 45));
        s_cell(&cw, "");
        s_fmt_time(p.file_created[F_HUBSPOT], "%Y-%m-%d %H:%M", when, sizeof when);
        s_cell(&cw, when);
        int64_t la = p.file_created[F_HUBSPOT] + (int64_t)s_below(&r, 10 * DAY);
        if (la < w->o->now_ms && s_chance(&r, 0.8)) {
            s_fmt_time(la, "%Y-%m-%d %H:%M", last, sizeof last);
            s_cell(&cw, last);
        } else {
            s_cell(&cw, "");
        }
        s_cellf(&cw, "%d", (int)s_below(&r, 30));
        s_cellf(&cw, "%d", (int)s_below(&r, 8));
        s_cellf(&cw, "%d", (int)s_below(&r, 90));
        s_cell(&cw, PICK(&r, s_conversions));
        s_cell(&cw, p.temp == 2 ? PICK(&r, s_messages_hot) : PICK(&r, s_messages_cold));
        s_endrow(&cw);
        c->records++;
        c->accepted++;
        if (seen) {
            seen[i] |= 1;
        }
    }
    return ferror(f) ? -1 : 0;
}

/* ---- Salesforce ---- */
static void s_sf_id(s_rng_t *r, const char *prefix, char *out)
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    memcpy(out, prefix, 3);
    memcpy(out + 3, "8d0000", 6);
    for (int k = 9; k < 18; k++) {
        out[k] = alnum[s_below(r, sizeof alnum - 1)];
    }
    out[18] = '\0';
}

static int s_write_salesforce(const s_world_t *w, FILE *f, s_count_t *c, char *seen)
{
    s_csvw_t cw = {f, true, true, "\n"};
    for (size_t k = 0; k < N_OF(s_salesforce_cols); k++) {
        s_cell(&cw, s_salesforce_cols[k]);
    }
    s_endrow(&cw);
    long n = w->o->leads;
    long kd = n / 300 + 1;
    long every = s_dirty_every(n, 3);
    long dirty_no = 0;
    for (long i = 0; i < n; i++) {
        if (every && i > 0 && i % every == 0 && dirty_no < 3) {
            int what = (int)dirty_no++;
            long reps = what == 0 ? kd : 1;
            for (long d = 0; d < reps; d++) {
                s_rng_t r = s_rng(w->o->seed, T_DIRTY, 200 + what, (uint64_t)d);
                char id[20];
                s_sf_id(&r, "00Q", id);
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
                    s_cell(&cw, vals[k]);
                }
                if (what == 2) {
                    /* a stray extra column, as when a Description comma was not quoted */
                    s_cell(&cw, "extra");
                    c->q_columns++;
                } else if (what == 0) {
                    c->q_missing_email++;
                } else {
                    c->q_bad_date++;
                }
                s_endrow(&cw);
                c->records++;
            }
        }
        s_person_t p;
        s_person(w, i, &p);
        if (!p.in_file[F_SALESFORCE]) {
            continue;
        }
        s_rng_t r = s_rng(w->o->seed, T_FILE, (uint64_t)i, F_SALESFORCE);
        char id[20], owner[20], email[200], phone[48], created[40], modified[40];
        s_sf_id(&r, "00Q", id);
        s_sf_id(&r, s_chance(&r, 0.85) ? "005" : "00G", owner);
        s_email_variant(&r, p.email, email, sizeof email);
        s_phone(&r, &p, phone, sizeof phone);
        s_cell(&cw, id);
        s_cell(&cw, p.first);
        s_cell(&cw, p.last);
        s_cell(&cw, email);
        s_cell(&cw, p.title);
        s_cell(&cw, p.co.name[0] ? p.co.name : "[not provided]");
        s_cell(&cw, s_industry_sf(&p));
        s_cell(&cw, PICK(&r, s_sf_sources));
        static const char *const st[] = {"Open - Not Contacted", "Working - Contacted",
                                         "Closed - Not Converted", "Open - Not Contacted"};
        s_cell(&cw, PICK(&r, st));
        static const char *const rating[] = {"Hot", "Warm", "Cold", ""};
        s_cell(&cw, p.temp == 2 ? "Hot" : PICK(&r, rating));
        s_cell(&cw, phone);
        const s_country_t *ct = &s_countries[p.co.country];
        s_cell(&cw, ct->names[s_below(&r, 3) == 0 ? 0 : (s_chance(&r, 0.5) ? 1 : 2)]);
        s_cell(&cw, p.co.state >= 0 ? s_us_states[p.co.state].code : "");
        s_cell(&cw, s_city(&p));
        if (p.co.employees && s_chance(&r, 0.85)) {
            s_cellf(&cw, "%ld", p.co.employees);
        } else {
            s_cell(&cw, "");
        }
        if (p.co.revenue) {
            s_cellf(&cw, "%lld", p.co.revenue);
        } else {
            s_cell(&cw, "");
        }
        s_cell(&cw, p.temp == 2 ? PICK(&r, s_messages_hot) : "");
        s_cell(&cw, owner);
        s_cell(&cw, "false");
        s_fmt_time(p.file_created[F_SALESFORCE], "%Y-%m-%dT%H:%M:%S.000Z", created, sizeof created);
        int64_t mod = p.file_created[F_SALESFORCE] + (int64_t)s_below(&r, 5 * DAY);
        if (mod > w->o->now_ms) {
            mod = w->o->now_ms;
        }
        s_fmt_time(mod, "%Y-%m-%dT%H:%M:%S.000Z", modified, sizeof modified);
        s_cell(&cw, created);
        s_cell(&cw, modified);
        s_endrow(&cw);
        c->records++;
        c->accepted++;
        if (seen) {
            seen[i] |= 2;
        }
    }
    return ferror(f) ? -1 : 0;
}

/* ---- Marketo (Bulk Lead Extract: REST API field names) ---- */
static int s_write_marketo(const s_world_t *w, FILE *f, s_count_t *c, char *seen)
{
    s_csvw_t cw = {f, true, false, "\n"};
    for (size_t k = 0; k < N_OF(s_marketo_cols); k++) {
        s_cell(&cw, s_marketo_cols[k]);
    }
    s_endrow(&cw);
    long n = w->o->leads;
    long every = s_dirty_every(n, 2);
    long dirty_no = 0;
    for (long i = 0; i < n; i++) {
        if (every && i > 0 && i % every == 0 && dirty_no < 2) {
            int what = (int)dirty_no++;
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
        s_person_t p;
        s_person(w, i, &p);
        if (!p.in_file[F_MARKETO]) {
            continue;
        }
        s_rng_t r = s_rng(w->o->seed, T_FILE, (uint64_t)i, F_MARKETO);
        char email[512], phone[48], created[40], updated[40];
        s_email_variant(&r, p.email, email, sizeof email);
        s_phone(&r, &p, phone, sizeof phone);
        s_cellf(&cw, "%ld", 1000000 + i);
        s_cell(&cw, p.first);
        s_cell(&cw, p.last);
        s_cell(&cw, email);
        s_cell(&cw, p.title);
        s_cell(&cw, p.co.name);
        s_cell(&cw, s_industry_sf(&p));
        if (p.co.employees && s_chance(&r, 0.7)) {
            s_cellf(&cw, "%ld", p.co.employees);
        } else {
            s_cell(&cw, "");
        }
        if (p.co.revenue) {
            s_cellf(&cw, "%lld", p.co.revenue);
        } else {
            s_cell(&cw, "");
        }
        s_cell(&cw, phone);
        s_cell(&cw, s_city(&p));
        s_cell(&cw, p.co.state >= 0 ? s_us_states[p.co.state].name : "");
        const s_country_t *ct = &s_countries[p.co.country];
        s_cell(&cw, ct->names[s_chance(&r, 0.85) ? 0 : 2]);
        s_cell(&cw, PICK(&r, s_mk_sources));
        static const char *const st[] = {"New", "Nurture", "Marketing Qualified", "Open"};
        s_cell(&cw, PICK(&r, st));
        s_cellf(&cw, "%d", p.temp == 2 ? 60 + (int)s_below(&r, 40) : (int)s_below(&r, 50));
        s_iso(p.file_created[F_MARKETO], created, sizeof created);
        s_iso(p.file_created[F_MARKETO] + (int64_t)s_below(&r, 3 * DAY) < w->o->now_ms
                  ? p.file_created[F_MARKETO] + (int64_t)s_below(&r, 3 * DAY)
                  : p.file_created[F_MARKETO],
              updated, sizeof updated);
        s_cell(&cw, created);
        s_cell(&cw, updated);
        s_endrow(&cw);
        c->records++;
        c->accepted++;
        if (seen) {
            seen[i] |= 4;
        }
    }
    return ferror(f) ? -1 : 0;
}

/* ---- webhooks ---- */
static json_t *s_linkedin_forms(void)
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
static json_t *s_wh_facebook(const s_person_t *p, s_rng_t *r, const char *email, int64_t at)
{
    char created[40], id[24], name[120];
    s_fmt_time(at, "%Y-%m-%dT%H:%M:%S+0000", created, sizeof created);
    snprintf(id, sizeof id, "%llu",
             8000000000000000ULL + (unsigned long long)s_below(r, 999999999999999ULL));
    json_t *fd = json_array();
    if (s_chance(r, 0.5)) {
        snprintf(name, sizeof name, "%s %s", p->first, p->last);
        json_array_append_new(fd, json_pack("{s:s, s:[s]}", "name", "full_name", "values", name));
    } else {
        json_array_append_new(fd,
                              json_pack("{s:s, s:[s]}", "name", "first_name", "values", p->first));
        json_array_append_new(fd,
                              json_pack("{s:s, s:[s]}", "name", "last_name", "values", p->last));
    }
    json_array_append_new(fd,
                          json_pack("{s:s, s:[s]}", "name",
                                    s_chance(r, 0.3) ? "work_email" : "email", "values", email));
    if (p->co.name[0]) {
        json_array_append_new(
            fd, json_pack("{s:s, s:[s]}", "name", "company_name", "values", p->co.name));
    }
    json_array_append_new(fd, json_pack("{s:s, s:[s]}", "name", "job_title", "values", p->title));
    if (p->co.state >= 0) {
        json_array_append_new(fd, json_pack("{s:s, s:[s]}", "name", "state", "values",
                                            s_us_states[p->co.state].name));
    }
    json_array_append_new(fd, json_pack("{s:s, s:[s]}", "name", "how_many_pipelines_do_you_run?",
                                        "values", p->temp == 2 ? "more_than_50" : "1-10"));
    bool retarget = s_chance(r, 0.5);
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
                     s_chance(r, 0.6) ? "fb" : "ig");
}

/* A LinkedIn Lead Gen Forms lead (versioned form response). */
static json_t *s_wh_linkedin(const s_person_t *p, s_rng_t *r, const char *email, int64_t at,
                             const char *country)
{
    bool demo = s_chance(r, 0.5);
    char id[64], urn[96], person[40];
    snprintf(id, sizeof id, "%08llx-%04llx-4%03llx-a%03llx-%012llx-%d",
             (unsigned long long)s_below(r, 0xFFFFFFFFULL), (unsigned long long)s_below(r, 0xFFFF),
             (unsigned long long)s_below(r, 0xFFF), (unsigned long long)s_below(r, 0xFFF),
             (unsigned long long)s_below(r, 0xFFFFFFFFFFFFULL), (int)s_below(r, 9));
    snprintf(urn, sizeof urn, "urn:li:versionedLeadGenForm:(urn:li:leadGenForm:%s,%s)",
             demo ? "6031877" : "6025514", demo ? "1" : "3");
    snprintf(person, sizeof person, "urn:li:person:%c%c%c%c_%c%c%cZ-", 'A' + (int)s_below(r, 26),
             'a' + (int)s_below(r, 26), 'A' + (int)s_below(r, 26), 'a' + (int)s_below(r, 26),
             '0' + (int)s_below(r, 10), 'A' + (int)s_below(r, 26), 'a' + (int)s_below(r, 26));
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
static json_t *s_wh_hsform(const s_person_t *p, s_rng_t *r, const char *email, int64_t at,
                           const char *country)
{
    static const char hexd[] = "0123456789abcdef";
    char hex[40];
    for (int k = 0; k < 32; k++) {
        hex[k] = hexd[s_below(r, 16)];
    }
    hex[32] = '\0';
    char sub[24], ip[24];
    snprintf(sub, sizeof sub, "%lld", (long long)at);
    snprintf(ip, sizeof ip, "198.51.100.%d", 1 + (int)s_below(r, 254));
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
        HSF("state", s_us_states[p->co.state].code);
    }
    if (p->co.employees) {
        HSF("numemployees", s_hs_bucket(p->co.employees));
    }
    if (p->temp == 2) {
        HSF("message", "Looking for pricing, we run 60+ pipelines.");
    }
#undef HSF
    bool pricing = p->temp == 2 || s_chance(r, 0.3);
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
static json_t *s_wh_typeform(const s_person_t *p, s_rng_t *r, const char *email, int64_t at)
{
    char iso[40];
    static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    char evid[32], token[40], landed[40];
    for (int k = 0; k < 26; k++) {
        evid[k] = b32[s_below(r, 32)];
    }
    evid[26] = '\0';
    for (int k = 0; k < 32; k++) {
        token[k] = "0123456789abcdefghijklmnopqrstuvwxyz"[s_below(r, 36)];
    }
    token[32] = '\0';
    s_iso(at - 60000 - (int64_t)s_below(r, 600000), landed, sizeof landed);
    s_iso(at, iso, sizeof iso);
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
                     s_chance(r, 0.5) ? "google" : "linkedin", "utm_campaign",
                     "pipeline-health-check", "definition", def, "answers", ans);
}

/* One form-webhook lead of person p in the payload shape of its source. */
static json_t *s_webhook(const s_person_t *p, s_rng_t *r, const char *email)
{
    int64_t at = p->file_created[F_WEBHOOK];
    const char *country = s_countries[p->co.country].names[0];
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

static int s_write_webhooks(const s_world_t *w, FILE *f, s_count_t *c, char *seen)
{
    long n = w->o->leads, m = 0, cap = 64;
    s_wh_t *list = malloc((size_t)cap * sizeof *list);
    if (!list) {
        return -1;
    }
    for (long i = 0; i < n; i++) {
        s_person_t p;
        s_person(w, i, &p);
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
            s_person_t p;
            s_person(w, list[k].i, &p);
            s_rng_t r = s_rng(w->o->seed, T_FILE, (uint64_t)list[k].i, F_WEBHOOK);
            char email[512];
            s_email_variant(&r, p.email, email, sizeof email);
            doc = s_webhook(&p, &r, email);
            c->accepted++;
            if (seen) {
                seen[list[k].i] |= 8;
            }
        }
        char *line = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        if (line) {
            fputs(line, f);
            fputc('\n', f);
            free(line);
        }
    }
    free(list);
    return ferror(f) ? -1 : 0;
}

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

static int s_act_count(const s_world_t *w, const s_person_t *p)
{
    s_rng_t r = s_rng(w->o->seed, T_ACT, (uint64_t)p->i, 9999);
    if (p->temp == 2) {
        return 10 + (int)s_below(&r, 18);
    }
    if (p->temp == 1) {
        return 3 + (int)s_below(&r, 9);
    }
    return (int)s_below(&r, 5);
}

typedef struct {
    int64_t at;
    const char *type;
    char id[64];
    char url[200];
    const char *campaign, *asset, *system;
    char attrs[400];
} s_activity_t;

static const char *const s_blog[] = {"exactly-once-in-practice", "backfills-without-tears",
                                     "airflow-vs-cron", "cdc-for-humans", "schema-drift-playbook"};

/* When activity k of person p happened, and its type. */
static const char *s_act_when(const s_world_t *w, const s_person_t *p, int k, s_rng_t *r,
                              s_activity_t *a)
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
    double when = s_unit(r);
    int64_t at = p->temp == 2 && k == 0 ? p->created_at + (int64_t)(when * 2 * DAY)
                                        : start + (int64_t)(when * when * 45 * DAY);
    if (at >= end) {
        at = start + (int64_t)s_below(r, (uint64_t)(end - start));
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
static void s_act_email(s_activity_t *a, s_rng_t *r, const char *type, const char *site,
                        const char *ip)
{
    bool sg = s_chance(r, 0.5);
    static const char *const camps[][2] = {
        {"Trial Onboarding Day 2", "Connect your first source"},
        {"Q4 Nurture", "The real cost of broken pipelines"},
        {"Streaming ETL Webinar Invite", "You're invited: streaming ETL"},
        {"Monthly Newsletter November", "Pipeline notes #11"}};
    size_t ci = s_below(r, N_OF(camps));
    a->campaign = camps[ci][0];
    a->asset = camps[ci][1];
    if (sg) {
        a->system = "sendgrid";
        static const char b64[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (int q = 0; q < 22; q++) {
            a->id[q] = b64[s_below(r, 64)];
        }
        char msgid[40];
        for (int q = 0; q < 22; q++) {
            msgid[q] = b64[s_below(r, 64)];
        }
        msgid[22] = '\0';
        snprintf(a->attrs, sizeof a->attrs,
                 "{\"sg_message_id\":\"%s.filter0001\",\"ip\":\"%s\",\"asm_group_id\":%d}",
                 msgid, ip, 4417 + (int)s_below(r, 3));
    } else {
        a->system = "marketo";
        snprintf(a->id, sizeof a->id, "%d", 600000000 + (int)s_below(r, 99999999));
        bool mobile = s_chance(r, 0.4);
        snprintf(a->attrs, sizeof a->attrs,
                 "{\"Campaign Run ID\":%d,\"Device\":\"%s\",\"Is Mobile "
                 "Device\":%s,\"Platform\":\"%s\"}",
                 29000 + (int)s_below(r, 999), mobile ? "Mobile" : "Desktop",
                 mobile ? "true" : "false", mobile ? "iOS" : "Windows");
    }
    if (!strcmp(type, "email_click")) {
        snprintf(a->url, sizeof a->url, "%s/blog/%s?utm_source=email&utm_campaign=q4-nurture",
                 site, PICK(r, s_blog));
    }
}

static void s_act_webinar(s_activity_t *a, s_rng_t *r)
{
    a->system = "on24";
    snprintf(a->id, sizeof a->id, "on24-%08d", 10000000 + (int)s_below(r, 89999999));
    a->campaign = "Streaming ETL Webinar Series";
    a->asset = "Streaming ETL without the pager";
    snprintf(a->attrs, sizeof a->attrs, "{\"Minutes Attended\":%d,\"Registered\":true}",
             5 + (int)s_below(r, 55));
}

/* A website event: page view, download, demo request, trial signup. */
static void s_act_web(const s_person_t *p, s_activity_t *a, s_rng_t *r, const char *type,
                      const char *site, const char *ip)
{
    a->system = "website";
    static const char hexd[] = "0123456789abcdef";
    int q = 0;
    for (int g = 0; g < 5; g++) {
        static const int len[] = {8, 4, 4, 4, 12};
        for (int x = 0; x < len[g]; x++) {
            a->id[q++] = g == 2 && x == 0 ? '4' : hexd[s_below(r, 16)];
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
        double u = s_unit(r);
        if (p->temp == 2 && u < 0.35) {
            snprintf(a->url, sizeof a->url, "%s/pricing%s", site,
                     s_chance(r, 0.3)   ? "?plan=enterprise"
                     : s_chance(r, 0.3) ? "#faq"
                                         : "");
        } else if (u < 0.55) {
            snprintf(a->url, sizeof a->url, "%s/blog/%s%s", site, PICK(r, s_blog),
                     s_chance(r, 0.3) ? "?utm_source=linkedin&utm_campaign=fy27-q1-linkedin" : "");
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
                 s_chance(r, 0.5) ? "Team" : "Business", ip);
        return;
    }
    snprintf(a->attrs, sizeof a->attrs, "{\"Referrer URL\":\"%s\",\"Client IP Address\":\"%s\"}",
             ref, ip);
}

static void s_activity(const s_world_t *w, const s_person_t *p, int k, s_activity_t *a)
{
    s_rng_t r = s_rng(w->o->seed, T_ACT, (uint64_t)p->i, (uint64_t)k);
    memset(a, 0, sizeof *a);
    const char *type = s_act_when(w, p, k, &r, a);
    a->type = type;
    const char *site = "https://www.northwind-pipelines.com";
    char ip[24];
    snprintf(ip, sizeof ip, "%s.%d", s_chance(&r, 0.5) ? "198.51.100" : "192.0.2",
             1 + (int)s_below(&r, 254));
    if (!strcmp(type, "email_open") || !strcmp(type, "email_click") ||
        !strcmp(type, "unsubscribe")) {
        s_act_email(a, &r, type, site, ip);
    } else if (!strcmp(type, "webinar_attended")) {
        s_act_webinar(a, &r);
    } else {
        s_act_web(p, a, &r, type, site, ip);
    }
}

static int s_write_activities(const s_world_t *w, FILE *f, s_count_t *c)
{
    long n = w->o->leads, m = 0, cap = 1024;
    s_act_t *list = malloc((size_t)cap * sizeof *list);
    if (!list) {
        return -1;
    }
    for (long i = 0; i < n; i++) {
        s_person_t p;
        s_person(w, i, &p);
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
            s_activity_t a;
            s_activity(w, &p, k, &a);
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
    s_csvw_t cw = {f, true, false, "\n"};
    for (long x = 0; x < m; x++) {
        c->records++;
        if (list[x].k < 0) {
            long d = -list[x].k - 1;
            char when[40];
            s_iso(list[x].at, when, sizeof when);
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
        s_person_t p;
        s_person(w, list[x].i, &p);
        s_activity_t a;
        s_activity(w, &p, list[x].k, &a);
        s_rng_t r = s_rng(w->o->seed, T_ACT, (uint64_t)p.i, 100000 + (uint64_t)list[x].k);
        char email[512], when[40];
        s_email_variant(&r, p.email, email, sizeof email);
        s_iso(a.at, when, sizeof when);
        s_cell(&cw, a.id);
        s_cell(&cw, email);
        s_cell(&cw, a.type);
        s_cell(&cw, when);
        s_cell(&cw, a.url);
        s_cell(&cw, a.campaign);
        s_cell(&cw, a.asset);
        s_cell(&cw, a.system);
        s_cell(&cw, a.attrs[0] ? a.attrs : "{}");
        s_endrow(&cw);
        c->accepted++;
    }
    free(list);
    return ferror(f) ? -1 : 0;
}

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

static const char *s_rep_for(const s_rep_t *reps, size_t n, const s_person_t *p)
{
    char cc[8], st[8];
    snprintf(cc, sizeof cc, ";%s;", s_countries[p->co.country].code);
    snprintf(st, sizeof st, ";%s;", p->co.state >= 0 ? s_us_states[p->co.state].code : "");
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

static const s_why_t *s_pick_why(s_rng_t *r, const s_why_t *list, size_t n)
{
    int total = 0;
    for (size_t k = 0; k < n; k++) {
        total += list[k].weight;
    }
    int x = (int)s_below(r, (uint64_t)total);
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
    s_iso(at, when, sizeof when);
    if (amount > 0) {
        snprintf(amt, sizeof amt, "%.0f", amount);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) {
        return;
    }
    s_csvw_t cw = {mem, false, false, "\n"};
    s_cell(&cw, email);
    s_cell(&cw, rep);
    s_cell(&cw, outcome);
    s_cell(&cw, reason);
    s_cell(&cw, when);
    s_cell(&cw, notes);
    s_cell(&cw, amt);
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
static void s_fb_story(s_fb_t *fb, s_rng_t *r, const char *email, const char *rep, char grade,
                       int kind, int stage, int64_t since, int64_t now)
{
    int g = grade == 'A' ? 0 : grade == 'B' ? 1 : grade == 'C' ? 2 : 3;
    int64_t t = since;
    if (stage == 1) {
        /* time to the first answer: mostly within the hour or the day, some days late */
        double u = s_unit(r);
        t += u < 0.45   ? 10 * 60000 + (int64_t)s_below(r, 3 * HOUR)
             : u < 0.85 ? 3 * HOUR + (int64_t)s_below(r, 21 * HOUR)
                        : DAY + (int64_t)s_below(r, 3 * DAY);
        t -= t % 1000;
        if (t >= now || s_chance(r, 0.04)) {
            return; /* not worked yet */
        }
        static const double reject_p[] = {0.16, 0.26, 0.38, 0.5};
        if (s_chance(r, kind ? 0.85 : reject_p[g])) {
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
        t += DAY + (int64_t)s_below(r, 8 * DAY);
        if (t >= now) {
            return;
        }
        static const double sql_p[] = {0.5, 0.4, 0.28, 0.18};
        if (!s_chance(r, sql_p[g])) {
            if (s_chance(r, 0.8)) {
                const s_why_t *why = PICK_WHY(r, s_lost_sal_why);
                s_fb_row(fb, email, rep, "lost", why->code, t, why->note, 0);
            }
            return; /* lost, or still being worked */
        }
        s_fb_row(fb, email, rep, "sql", "", t, "Champion identified, security review next", 0);
        stage = 3;
    }
    if (stage == 3) {
        t += 2 * DAY + (int64_t)s_below(r, 8 * DAY);
        if (t >= now) {
            return;
        }
        if (!s_chance(r, 0.75)) {
            const s_why_t *why = PICK_WHY(r, s_lost_deal_why);
            s_fb_row(fb, email, rep, "lost", why->code, t, why->note, 0);
            return;
        }
        s_fb_row(fb, email, rep, "opportunity", "", t, "Opportunity created, stage 2", 0);
        stage = 4;
    }
    if (stage == 4) {
        t += 5 * DAY + (int64_t)s_below(r, 25 * DAY);
        if (t >= now || s_chance(r, 0.12)) {
            return; /* still open */
        }
        if (s_chance(r, 0.5)) {
            double base = g == 0 ? 30000.0 : 12000.0;
            s_fb_row(fb, email, rep, "won", "", t, "Signed annual plan",
                     base + (double)s_below(r, 70) * 1000.0);
        } else {
            const s_why_t *why = PICK_WHY(r, s_lost_deal_why);
            s_fb_row(fb, email, rep, "lost", why->code, t, why->note, 0);
        }
    }
}

static int s_write_feedback(const s_world_t *w, FILE *f, s_count_t *c)
{
    s_rep_t *reps;
    size_t nreps;
    s_load_reps(w->o->config_dir, &reps, &nreps);
    fputs("feedback_id,lead_email,rep_id,outcome,reason,occurred_at,notes,amount\n", f);
    s_fb_t fb = {f, 0, 0, w->o->seed, NULL, 0, 0, NULL, 0};
    for (long i = 0; i < w->o->leads; i++) {
        s_person_t p;
        s_person(w, i, &p);
        if (p.temp == 0 && p.kind == P_NORMAL) {
            continue;
        }
        const char *rep = s_rep_for(reps, nreps, &p);
        if (!rep) {
            continue;
        }
        s_rng_t r = s_rng(w->o->seed, T_FEEDBACK, (uint64_t)i, 0);
        if (!s_chance(&r, p.temp == 2 ? 0.9 : 0.35)) {
            continue;
        }
        int64_t assigned = p.created_at + HOUR + (int64_t)s_below(&r, 3 * DAY);
        char email[512];
        s_email_variant(&r, p.email, email, sizeof email);
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

static FILE *s_open(const char *dir, const char *name, char *path, size_t cap, ho_err_t *err)
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

static int s_close(FILE *f, int wrc, const char *path, ho_err_t *err)
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

static int s_write_one(const s_world_t *w, int which, FILE *f, s_count_t *c, char *seen)
{
    switch (which) {
    case 0:
        return s_write_hubspot(w, f, c, seen);
    case 1:
        return s_write_salesforce(w, f, c, seen);
    case 2:
        return s_write_marketo(w, f, c, seen);
    case 3:
        return s_write_webhooks(w, f, c, seen);
    case 4:
        return s_write_activities(w, f, c);
    default:
        return s_write_feedback(w, f, c);
    }
}

/* DIR/NAME as indented JSON (the document stays the caller's). */
static int s_write_json(const char *dir, const char *name, json_t *doc, ho_err_t *err)
{
    char path[4096];
    FILE *f = s_open(dir, name, path, sizeof path, err);
    if (!f) {
        return HO_ERR_IO;
    }
    int drc = json_dumpf(doc, f, JSON_INDENT(2));
    fputc('\n', f);
    return s_close(f, drc, path, err);
}

/* A lead file's counts into the totals of importing every lead file at once. */
static void s_add_lead_file(s_manifest_t *m, const char *file, const s_count_t *c, json_t *cj)
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
static int s_write_files(const s_world_t *w, char *seen, s_manifest_t *m, ho_err_t *err)
{
    const ho_demo_opts_t *o = w->o;
    char path[4096];
    int rc = HO_OK;
    for (size_t k = 0; k < N_OF(s_plan) && rc == HO_OK; k++) {
        if (!s_wanted(o, s_plan[k].group)) {
            continue;
        }
        s_count_t c = {
            s_plan[k].file, s_plan[k].profile, s_plan[k].kind, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        FILE *f = s_open(o->out_dir, s_plan[k].file, path, sizeof path, err);
        if (!f) {
            return HO_ERR_IO;
        }
        rc = s_close(f, s_write_one(w, s_plan[k].which, f, &c, seen), path, err);
        json_t *cj = s_count_json(&c);
        json_object_set_new(m->files, s_plan[k].file, cj);
        if (s_plan[k].which <= 3) {
            s_add_lead_file(m, s_plan[k].file, &c, cj);
        }
        if (s_plan[k].which == 3 && rc == HO_OK) {
            json_t *forms = s_linkedin_forms();
            rc = s_write_json(o->out_dir, "linkedin_lead_forms.json", forms, err);
            json_decref(forms);
        }
    }
    return rc;
}

static void s_count_people(const s_world_t *w, const char *seen, s_people_count_t *n)
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
        s_person_t p;
        s_person(w, i, &p);
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
    s_iso(o->now_ms, now, sizeof now);
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
    s_world_t w = {&o, o.leads / 4 > 12 ? o.leads / 4 : 12};
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
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        int rc = ho_err_set(err, HO_ERR_IO, "", "%s: %s", db_path,
                            db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return rc;
    }
    sqlite3_busy_timeout(db, 5000);
    /* the current owner of each lead (its newest assignment that was not handed on), the
     * lead's stage and when it entered it: the rep answers from where the lead really is.
     * A lead the CRM export gave an owner is not routed (issue 12) but its owner works it
     * all the same, qualified by marketing or not: the owner answers for it too (last
     * column 1), from its creation on. */
    const char *sql = "SELECT l.id, l.email, a.rep_id, a.assigned_at, l.personal_email, "
                      "COALESCE(l.grade, ''), COALESCE(l.title, ''), "
                      "COALESCE(l.industry_group, ''), l.stage, "
                      "(SELECT max(h.at) FROM stage_history h WHERE h.lead_id = l.id "
                      "AND h.kind = 'transition'), 0 "
                      "FROM assignments a JOIN leads l ON l.id = a.lead_id "
                      "WHERE a.rep_id IS NOT NULL AND a.status IN ('open', 'accepted') "
                      "AND l.erased = 0 AND a.assigned_at < ?1 "
                      "UNION ALL SELECT l.id, l.email, l.owner_rep_id, l.created_at, "
                      "l.personal_email, COALESCE(l.grade, ''), COALESCE(l.title, ''), "
                      "COALESCE(l.industry_group, ''), l.stage, "
                      "(SELECT max(h.at) FROM stage_history h WHERE h.lead_id = l.id "
                      "AND h.kind = 'transition'), 1 "
                      "FROM leads l WHERE l.owner_rep_id IS NOT NULL AND l.owner_rep_id <> '' "
                      "AND l.erased = 0 AND l.created_at < ?1 AND NOT EXISTS (SELECT 1 FROM "
                      "assignments a WHERE a.lead_id = l.id AND a.rep_id IS NOT NULL "
                      "AND a.status IN ('open', 'accepted') AND a.assigned_at < ?1) "
                      "ORDER BY 1, 4 DESC";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        int rc = ho_err_set(err, HO_ERR_IO, "", "%s: %s (is it a handoff store?)", db_path,
                            sqlite3_errmsg(db));
        sqlite3_close(db);
        return rc;
    }
    sqlite3_bind_int64(st, 1, now_ms);
    FILE *f = fopen(out_path, "wb");
    if (!f) {
        sqlite3_finalize(st);
        sqlite3_close(db);
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
        s_rng_t r = s_rng(seed, T_SIM, h, 0);
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
        rc = ho_err_set(err, HO_ERR_IO, "", "%s: %s", db_path, sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (fclose(f) != 0 && rc == HO_OK) {
        rc = ho_err_set(err, HO_ERR_IO, "", "%s: write failed", out_path);
    }
    *rows_p = fb.rows;
    return rc;
}

/* ==== the realistic corpus (issue 12): `handoff demo-data --people N` ====================
 *
 * Streaming: every file is written in one walk over the person indexes (person i is a pure
 * function of (seed, i)), so memory stays flat at a million people and ten million
 * activities. Nothing is counted here: the planted dirt is counted by an independent reader
 * (tests/workload/verify.py), which is the point of it. */

enum { T_CP_SRC = 40, T_CP_DIRT, T_CP_ACT, T_CP_FB, T_CP_WH, T_CP_W };

#define CP_NREPS 12
#define CP_MAX_PARTS 16

typedef struct {
    const char *id, *name, *email, *region, *countries, *states, *segments, *emin, *emax, *cap, *tz,
        *ooo, *ooo_start, *ooo_end, *backup;
} s_cp_rep_t;

/* A dozen reps in the sales_reps.csv layout, in zones either side of the autumn DST changes. */
static const s_cp_rep_t s_cp_reps[CP_NREPS] = {
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

/* Stage of a person's first CRM record (what the export says), before the file's wording. */
typedef enum { CP_ML = 0, CP_MQL, CP_SAL, CP_SQL, CP_OPP, CP_WON, CP_DISQ } s_cp_stage_t;

typedef struct {
    ho_demo_opts_t wo; /* the demo world's options (seed, now, people) for s_person */
    s_world_t w;
    const ho_demo_corpus_opts_t *o;
    ho_tz_t *tz[CP_NREPS];
    double act_weight_sum;
    long act_seq; /* numbering of Marketo and ON24 activity ids: unique by construction */
} s_cp_t;

typedef struct {
    s_person_t p;
    s_file_t primary;
    s_cp_stage_t stage;
    bool owned;
    int rep; /* index into s_cp_reps */
    bool second_form;
} s_cp_person_t;

static int s_cp_rep_for(const s_person_t *p, s_rng_t *r)
{
    const char *cc = s_countries[p->co.country].code;
    const char *st = p->co.state >= 0 ? s_us_states[p->co.state].code : "";
    for (int k = 0; k < CP_NREPS; k++) {
        if (!strstr(s_cp_reps[k].countries, cc)) {
            continue;
        }
        if (s_cp_reps[k].states[0] && st[0] && !strstr(s_cp_reps[k].states, st)) {
            continue;
        }
        if (s_cp_reps[k].emin[0] && strcmp(s_cp_reps[k].emin, "1001") == 0 &&
            p->co.employees <= 1000) {
            continue;
        }
        return k;
    }
    return (int)s_below(r, CP_NREPS);
}

/* Person i of the corpus: the demo world's person, arriving evenly over the 14 weeks (so a file
 * written in index order is in creation order), in one to three lead sources. */
static void s_cp_person(const s_cp_t *cp, long i, s_cp_person_t *cpp)
{
    s_person_t *p = &cpp->p;
    s_person(&cp->w, i, p);
    s_rng_t r = s_rng(cp->wo.seed, T_CP_SRC, (uint64_t)i, 0);
    int64_t now = cp->wo.now_ms, n = cp->o->people;
    int64_t slot = (HISTORY - 2 * DAY) / n;
    int64_t created = now - HISTORY + (int64_t)i * slot + (int64_t)s_below(&r, (uint64_t)slot + 1);
    created -= created % 1000;
    p->created_at = created;
    memset(p->in_file, 0, sizeof p->in_file);
    double f = s_unit(&r);
    cpp->primary = f < 0.35   ? F_HUBSPOT
                   : f < 0.60 ? F_SALESFORCE
                   : f < 0.75 ? F_MARKETO
                              : F_WEBHOOK;
    p->in_file[cpp->primary] = true;
    p->file_created[cpp->primary] = created;
    int extra = s_chance(&r, 0.40) ? (s_chance(&r, 0.2) ? 2 : 1) : 0;
    for (int e = 0; e < extra; e++) {
        s_file_t s = (s_file_t)s_below(&r, F_NFILES);
        while (p->in_file[s]) {
            s = (s_file_t)((s + 1) % F_NFILES);
        }
        p->in_file[s] = true;
        int64_t later = created + HOUR + (int64_t)s_below(&r, 20 * DAY);
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
    double u = s_unit(&r);
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
    cpp->owned = cpp->stage >= CP_SAL || s_chance(&r, 0.22);
    cpp->rep = s_cp_rep_for(p, &r);
    cpp->second_form = p->in_file[F_WEBHOOK] && s_chance(&r, 0.12);
}

/* An activity-only visitor (never in a lead source): its address matches no lead. */
static void s_cp_ghost_email(const s_cp_t *cp, long i, char *out, size_t cap)
{
    s_company_t co;
    s_company(&cp->w, i % cp->w.n_companies, &co);
    snprintf(out, cap, "reader%ld@%s", i, co.domain);
}

/* How one source writes the person's address: as is mostly, else capitals, spaces or tabs. */
static void s_cp_email(s_rng_t *r, const char *email, char *out, size_t cap)
{
    double u = s_unit(r);
    if (u < 0.05) {
        snprintf(out, cap, "\t%s", email);
    } else if (u < 0.08) {
        snprintf(out, cap, "%s  ", email);
    } else {
        s_email_variant(r, email, out, cap);
    }
}

/* A field value that disagrees with the other sources (the title or company as typed there). */
static void s_cp_disagree(s_rng_t *r, const char *v, char *out, size_t cap)
{
    double u = s_unit(r);
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

static const char *const s_cp_bad_emails[] = {"n/a",
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
static const char *const s_cp_bad_dates[] = {
    "31/13/2026 25:61", "not a date", "2026-13-45 99:00", "yesterday", "0000-00-00 00:00", "TBD"};

/* What kind of dirty row, if any, goes before person i in a file (about 1 in 60 each). */
typedef enum {
    D_NONE = 0,
    D_MISSING_EMAIL,
    D_BLANK_EMAIL,
    D_BAD_EMAIL,
    D_BAD_DATE,
    D_CP1252,
    D_FEW_FIELDS,
    D_MANY_FIELDS,
    D_N
} s_cp_dirt_t;

static s_cp_dirt_t s_cp_dirt(const s_cp_t *cp, long i, int file)
{
    s_rng_t r = s_rng(cp->wo.seed, T_CP_DIRT, (uint64_t)i, (uint64_t)file);
    if (!s_chance(&r, 0.07)) {
        return D_NONE;
    }
    return (s_cp_dirt_t)(1 + s_below(&r, D_N - 1));
}

/* Write one export row, with the dirt asked for planted in it. */
static void s_cp_emit(s_csvw_t *cw, const char **v, int n, s_cp_dirt_t dirt, int i_email,
                      int i_date, int i_text, s_rng_t *r)
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
        v[i_email] = PICK(r, s_cp_bad_emails);
        break;
    case D_BAD_DATE:
        v[i_date] = PICK(r, s_cp_bad_dates);
        break;
    case D_CP1252:
        v[i_text] = bad_text;
        break;
    case D_FEW_FIELDS:
        upto = n - 1 - (int)s_below(r, 3);
        break;
    default:
        break;
    }
    for (int k = 0; k < upto; k++) {
        s_cell(cw, v[k]);
    }
    if (dirt == D_MANY_FIELDS) {
        s_cell(cw, "see notes, call back");
    }
    s_endrow(cw);
}

static const char *s_cp_hs_stage(s_rng_t *r, s_cp_stage_t st, const char **status)
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
        if (s_chance(r, 0.5)) {
            *status = "Open Deal";
            return "Sales Qualified Lead";
        }
        return "Opportunity";
    case CP_WON:
        return s_chance(r, 0.8) ? "Customer" : "Evangelist";
    case CP_DISQ:
        *status = "Unqualified";
        return s_chance(r, 0.5) ? "Lead" : "Subscriber";
    default:
        return PICK(r, ((const char *const[]){"Subscriber", "Lead", "Lead", "Other"}));
    }
}

static void s_cp_hubspot_row(const s_cp_t *cp, const s_cp_person_t *cpp, s_csvw_t *cw,
                             s_cp_dirt_t dirt)
{
    const s_person_t *p = &cpp->p;
    bool primary = cpp->primary == F_HUBSPOT;
    s_rng_t r = s_rng(cp->wo.seed, T_FILE, (uint64_t)p->i, 100 + F_HUBSPOT + (dirt ? 50 : 0));
    char id[24], email[512], phone[48], title[96], company[220], first[160], last[160];
    char rev[32], score[8], created[32], lastact[32], opened[8], clicked[8], views[8];
    snprintf(id, sizeof id, "%ld", 10000000000L + (long)(s_next(&r) % 89999999999ULL));
    s_cp_email(&r, p->email, email, sizeof email);
    s_phone(&r, p, phone, sizeof phone);
    if (primary) {
        snprintf(title, sizeof title, "%s", p->title);
        snprintf(company, sizeof company, "%s", p->co.name);
    } else {
        s_cp_disagree(&r, p->title, title, sizeof title);
        s_cp_disagree(&r, p->co.name, company, sizeof company);
    }
    if (s_chance(&r, 0.03)) {
        s_cp_mojibake(p->first, first, sizeof first);
        s_cp_mojibake(p->last, last, sizeof last);
    } else {
        snprintf(first, sizeof first, "%s", p->first);
        snprintf(last, sizeof last, "%s", p->last);
    }
    snprintf(rev, sizeof rev, "%lld", p->co.revenue);
    const char *status;
    const char *stage = s_cp_hs_stage(&r, primary ? cpp->stage : CP_ML, &status);
    size_t src = s_below(&r, N_OF(s_hs_sources));
    snprintf(score, sizeof score, "%d",
             p->temp == 2 ? 50 + (int)s_below(&r, 45) : (int)s_below(&r, 45));
    s_fmt_time(p->file_created[F_HUBSPOT], "%Y-%m-%d %H:%M", created, sizeof created);
    if (!primary && s_chance(&r, 0.06)) {
        created[0] = '\0'; /* blank date on a later record: the earlier one dates the lead */
    }
    int64_t la = p->file_created[F_HUBSPOT] + (int64_t)s_below(&r, 10 * DAY);
    lastact[0] = '\0';
    if (la < cp->wo.now_ms && s_chance(&r, 0.8)) {
        s_fmt_time(la, "%Y-%m-%d %H:%M", lastact, sizeof lastact);
    }
    snprintf(opened, sizeof opened, "%d", (int)s_below(&r, 30));
    snprintf(clicked, sizeof clicked, "%d", (int)s_below(&r, 8));
    snprintf(views, sizeof views, "%d", (int)s_below(&r, 90));
    const s_country_t *ct = &s_countries[p->co.country];
    const char *v[26] = {
        id,
        first,
        last,
        email,
        phone,
        title,
        company,
        s_industry_hs(p),
        p->co.employees && s_chance(&r, 0.8) ? s_hs_bucket(p->co.employees) : "",
        p->co.revenue ? rev : "",
        ct->names[s_chance(&r, 0.7) ? 0 : 1],
        p->co.state >= 0
            ? (s_chance(&r, 0.7) ? s_us_states[p->co.state].name : s_us_states[p->co.state].code)
            : "",
        s_city(p),
        stage,
        status,
        s_hs_sources[src][0],
        s_hs_sources[src][1],
        score,
        primary && cpp->owned ? s_cp_reps[cpp->rep].name : "",
        created,
        lastact,
        opened,
        clicked,
        views,
        PICK(&r, s_conversions),
        p->temp == 2 ? PICK(&r, s_messages_hot) : PICK(&r, s_messages_cold),
    };
    s_cp_emit(cw, v, 26, dirt, 3, 19, 25, &r);
}

static int s_cp_hubspot(const s_cp_t *cp, FILE *f)
{
    s_csvw_t cw = {f, true, false, "\r\n"};
    fputs("\xEF\xBB\xBF", f);
    for (size_t k = 0; k < N_OF(s_hubspot_cols); k++) {
        s_cell(&cw, s_hubspot_cols[k]);
    }
    s_endrow(&cw);
    for (long i = 0; i < cp->o->people; i++) {
        s_cp_person_t cpp;
        s_cp_person(cp, i, &cpp);
        s_cp_dirt_t dirt = s_cp_dirt(cp, i, F_HUBSPOT);
        if (dirt) {
            s_cp_hubspot_row(cp, &cpp, &cw, dirt);
        }
        if (cpp.p.in_file[F_HUBSPOT]) {
            s_cp_hubspot_row(cp, &cpp, &cw, D_NONE);
        }
    }
    return ferror(f) ? -1 : 0;
}

static void s_cp_sf_row(const s_cp_t *cp, const s_cp_person_t *cpp, s_csvw_t *cw, s_cp_dirt_t dirt)
{
    const s_person_t *p = &cpp->p;
    bool primary = cpp->primary == F_SALESFORCE;
    s_rng_t r = s_rng(cp->wo.seed, T_FILE, (uint64_t)p->i, 100 + F_SALESFORCE + (dirt ? 50 : 0));
    char id[20], owner[20], email[512], phone[48], title[96], company[220], created[40],
        modified[40], emp[24], rev[32];
    s_sf_id(&r, "00Q", id);
    bool queue = !(primary && cpp->owned) || s_chance(&r, 0.1);
    s_sf_id(&r, queue ? "00G" : "005", owner);
    s_cp_email(&r, p->email, email, sizeof email);
    s_phone(&r, p, phone, sizeof phone);
    if (primary) {
        snprintf(title, sizeof title, "%s", p->title);
        snprintf(company, sizeof company, "%s", p->co.name);
    } else {
        s_cp_disagree(&r, p->title, title, sizeof title);
        s_cp_disagree(&r, p->co.name, company, sizeof company);
    }
    s_cp_stage_t st = primary ? cpp->stage : CP_ML;
    const char *status = st == CP_SAL    ? "Working - Contacted"
                         : st == CP_SQL  ? "Closed - Converted"
                         : st == CP_DISQ ? "Closed - Not Converted"
                                         : "Open - Not Contacted";
    snprintf(emp, sizeof emp, "%ld", p->co.employees);
    snprintf(rev, sizeof rev, "%lld", p->co.revenue);
    s_fmt_time(p->file_created[F_SALESFORCE], "%Y-%m-%dT%H:%M:%S.000Z", created, sizeof created);
    int64_t mod = p->file_created[F_SALESFORCE] + (int64_t)s_below(&r, 5 * DAY);
    s_fmt_time(mod < cp->wo.now_ms ? mod : cp->wo.now_ms, "%Y-%m-%dT%H:%M:%S.000Z", modified,
               sizeof modified);
    static const char *const rating[] = {"Hot", "Warm", "Cold", ""};
    const s_country_t *ct = &s_countries[p->co.country];
    const char *v[21] = {id,
                         p->first,
                         p->last,
                         email,
                         title,
                         company[0] ? company : "[not provided]",
                         s_industry_sf(p),
                         PICK(&r, s_sf_sources),
                         status,
                         p->temp == 2 ? "Hot" : PICK(&r, rating),
                         phone,
                         ct->names[s_below(&r, 3)],
                         p->co.state >= 0 ? s_us_states[p->co.state].code : "",
                         s_city(p),
                         p->co.employees && s_chance(&r, 0.85) ? emp : "",
                         p->co.revenue ? rev : "",
                         p->temp == 2 ? PICK(&r, s_messages_hot) : "",
                         owner,
                         st == CP_SQL ? "true" : "false",
                         created,
                         modified};
    s_cp_emit(cw, v, 21, dirt, 3, 19, 16, &r);
}

static int s_cp_salesforce(const s_cp_t *cp, FILE *f)
{
    s_csvw_t cw = {f, true, true, "\n"};
    for (size_t k = 0; k < N_OF(s_salesforce_cols); k++) {
        s_cell(&cw, s_salesforce_cols[k]);
    }
    s_endrow(&cw);
    for (long i = 0; i < cp->o->people; i++) {
        s_cp_person_t cpp;
        s_cp_person(cp, i, &cpp);
        s_cp_dirt_t dirt = s_cp_dirt(cp, i, F_SALESFORCE);
        if (dirt) {
            s_cp_sf_row(cp, &cpp, &cw, dirt);
        }
        if (cpp.p.in_file[F_SALESFORCE]) {
            s_cp_sf_row(cp, &cpp, &cw, D_NONE);
        }
    }
    return ferror(f) ? -1 : 0;
}

static void s_cp_mk_row(const s_cp_t *cp, const s_cp_person_t *cpp, s_csvw_t *cw, s_cp_dirt_t dirt)
{
    const s_person_t *p = &cpp->p;
    bool primary = cpp->primary == F_MARKETO;
    s_rng_t r = s_rng(cp->wo.seed, T_FILE, (uint64_t)p->i, 100 + F_MARKETO + (dirt ? 50 : 0));
    char id[24], email[512], phone[48], title[96], company[220], created[40], updated[40], emp[24],
        rev[32], score[8];
    snprintf(id, sizeof id, "%ld", 1000000 + p->i * 2 + (dirt ? 1 : 0));
    s_cp_email(&r, p->email, email, sizeof email);
    s_phone(&r, p, phone, sizeof phone);
    if (primary) {
        snprintf(title, sizeof title, "%s", p->title);
        snprintf(company, sizeof company, "%s", p->co.name);
    } else {
        s_cp_disagree(&r, p->title, title, sizeof title);
        s_cp_disagree(&r, p->co.name, company, sizeof company);
    }
    snprintf(emp, sizeof emp, "%ld", p->co.employees);
    snprintf(rev, sizeof rev, "%lld", p->co.revenue);
    snprintf(score, sizeof score, "%d",
             p->temp == 2 ? 60 + (int)s_below(&r, 40) : (int)s_below(&r, 50));
    s_iso(p->file_created[F_MARKETO], created, sizeof created);
    int64_t up = p->file_created[F_MARKETO] + (int64_t)s_below(&r, 3 * DAY);
    s_iso(up < cp->wo.now_ms ? up : p->file_created[F_MARKETO], updated, sizeof updated);
    const s_country_t *ct = &s_countries[p->co.country];
    const char *status = primary && cpp->stage == CP_MQL ? "Marketing Qualified"
                                                         : (s_chance(&r, 0.5) ? "New" : "Nurture");
    const char *v[18] = {id,
                         p->first,
                         p->last,
                         email,
                         title,
                         company,
                         s_industry_sf(p),
                         p->co.employees && s_chance(&r, 0.7) ? emp : "",
                         p->co.revenue ? rev : "",
                         phone,
                         s_city(p),
                         p->co.state >= 0 ? s_us_states[p->co.state].name : "",
                         ct->names[s_chance(&r, 0.85) ? 0 : 2],
                         PICK(&r, s_mk_sources),
                         status,
                         score,
                         created,
                         updated};
    s_cp_emit(cw, v, 18, dirt, 3, 16, 4, &r);
}

static int s_cp_marketo(const s_cp_t *cp, FILE *f)
{
    s_csvw_t cw = {f, true, false, "\n"};
    for (size_t k = 0; k < N_OF(s_marketo_cols); k++) {
        s_cell(&cw, s_marketo_cols[k]);
    }
    s_endrow(&cw);
    for (long i = 0; i < cp->o->people; i++) {
        s_cp_person_t cpp;
        s_cp_person(cp, i, &cpp);
        s_cp_dirt_t dirt = s_cp_dirt(cp, i, F_MARKETO);
        if (dirt) {
            s_cp_mk_row(cp, &cpp, &cw, dirt);
        }
        if (cpp.p.in_file[F_MARKETO]) {
            s_cp_mk_row(cp, &cpp, &cw, D_NONE);
        }
    }
    return ferror(f) ? -1 : 0;
}

/* ---- corpus: form webhooks ---- */
static void s_cp_line(FILE *f, json_t *doc)
{
    char *line = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (line) {
        fputs(line, f);
        fputc('\n', f);
        free(line);
    }
}

/* A Facebook leadgen webhook notification: names the lead, carries none of its fields. */
static json_t *s_cp_fb_notification(s_rng_t *r, int64_t at)
{
    char lead[24];
    snprintf(lead, sizeof lead, "%llu",
             8000000000000000ULL + (unsigned long long)s_below(r, 999999999999999ULL));
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

static void s_cp_webhook_dirt(const s_cp_t *cp, s_cp_person_t *cpp, FILE *f, s_cp_dirt_t dirt)
{
    s_person_t p = cpp->p;
    s_rng_t r = s_rng(cp->wo.seed, T_CP_WH, (uint64_t)p.i, 7);
    p.file_created[F_WEBHOOK] = p.created_at + (int64_t)s_below(&r, DAY);
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
        s_cp_line(f, s_cp_fb_notification(&r, p.file_created[F_WEBHOOK]));
        return;
    default:
        break;
    }
    char email[512];
    s_cp_email(&r, p.email, email, sizeof email);
    if (dirt == D_BAD_EMAIL) {
        snprintf(email, sizeof email, "%s", PICK(&r, s_cp_bad_emails));
    } else if (dirt == D_BLANK_EMAIL) {
        snprintf(email, sizeof email, "  ");
    }
    if (dirt == D_MISSING_EMAIL || dirt == D_BAD_DATE) {
        p.shape = W_FACEBOOK;
    }
    json_t *doc = s_webhook(&p, &r, email);
    if (dirt == D_MISSING_EMAIL) {
        s_cp_fb_drop_email(doc);
    } else if (dirt == D_BAD_DATE) {
        json_object_set_new(doc, "created_time", json_string(PICK(&r, s_cp_bad_dates)));
    }
    s_cp_line(f, doc);
}

static void s_cp_webhook_person(const s_cp_t *cp, s_cp_person_t *cpp, FILE *f)
{
    s_person_t p = cpp->p;
    s_rng_t r = s_rng(cp->wo.seed, T_CP_WH, (uint64_t)p.i, 0);
    char email[512];
    for (int sub = 0; sub < (cpp->second_form ? 2 : 1); sub++) {
        if (sub == 1) {
            /* the same person on another form, days later */
            p.shape = (s_wshape_t)((p.shape + 1 + s_below(&r, 3)) % 4);
            int64_t later = p.file_created[F_WEBHOOK] + DAY + (int64_t)s_below(&r, 9 * DAY);
            p.file_created[F_WEBHOOK] = later < cp->wo.now_ms - HOUR ? later : cp->wo.now_ms - HOUR;
        }
        s_cp_email(&r, p.email, email, sizeof email);
        json_t *doc = s_webhook(&p, &r, email);
        char *line = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        if (!line) {
            continue;
        }
        fputs(line, f);
        fputc('\n', f);
        if (s_chance(&r, 0.05)) {
            fputs(line, f); /* re-delivered: the sender did not see our 200 */
            fputc('\n', f);
        }
        free(line);
    }
}

static void s_cp_linkedin_test(const s_cp_t *cp, long i, FILE *f)
{
    s_rng_t r = s_rng(cp->wo.seed, T_CP_WH, (uint64_t)i, 9);
    s_person_t p;
    s_person(&cp->w, i, &p);
    p.shape = W_LINKEDIN;
    p.file_created[F_WEBHOOK] = cp->wo.now_ms - HISTORY + i * ((HISTORY - 2 * DAY) / cp->o->people);
    char email[128];
    snprintf(email, sizeof email, "linkedin.test.%ld@northwind-pipelines.com", i);
    json_t *doc = s_webhook(&p, &r, email);
    json_object_set_new(doc, "testLead", json_true());
    s_cp_line(f, doc);
}

static int s_cp_webhooks(const s_cp_t *cp, FILE *f)
{
    for (long i = 0; i < cp->o->people; i++) {
        s_cp_person_t cpp;
        s_cp_person(cp, i, &cpp);
        s_cp_dirt_t dirt = s_cp_dirt(cp, i, F_WEBHOOK);
        if (dirt) {
            s_cp_webhook_dirt(cp, &cpp, f, dirt);
        }
        s_rng_t r = s_rng(cp->wo.seed, T_CP_WH, (uint64_t)i, 3);
        if (s_chance(&r, 0.01)) {
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
static double s_cp_act_weight(const s_cp_t *cp, long i)
{
    s_rng_t r = s_rng(cp->wo.seed, T_CP_W, (uint64_t)i, 0);
    double u = s_unit(&r);
    if (u < 0.25) {
        return 0.0;
    }
    double v = 1.0 - s_unit(&r);
    double w = pow(v, -1.0 / 1.1);
    return w > 4000.0 ? 4000.0 : w;
}

typedef struct {
    FILE *part[CP_MAX_PARTS];
    int nparts;
} s_cp_parts_t;

static void s_cp_act_row(s_csvw_t *cw, const s_activity_t *a, const char *email, const char *when,
                         s_cp_dirt_t dirt, s_rng_t *r)
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
    s_cp_emit(cw, v, 9, dirt, 1, 3, 6, r);
}

static void s_cp_activities_of(s_cp_t *cp, const s_person_t *p, const char *email_of, long count,
                               long k0, s_cp_parts_t *parts)
{
    for (long k = 0; k < count; k++) {
        s_activity_t a;
        s_activity(&cp->w, p, (int)(k0 + k), &a);
        s_rng_t r = s_rng(cp->wo.seed, T_CP_ACT, (uint64_t)p->i, (uint64_t)(k0 + k));
        if (!strcmp(a.system, "marketo")) {
            snprintf(a.id, sizeof a.id, "%ld", 600000000L + cp->act_seq);
        } else if (!strcmp(a.system, "on24")) {
            snprintf(a.id, sizeof a.id, "on24-%08ld", 10000000L + cp->act_seq);
        }
        cp->act_seq++;
        char email[512], when[40];
        s_cp_email(&r, email_of, email, sizeof email);
        s_iso(a.at, when, sizeof when);
        int part = (int)s_below(&r, (uint64_t)parts->nparts);
        s_csvw_t cw = {parts->part[part], true, false, "\n"};
        if (s_chance(&r, 0.02)) {
            s_activity_t d = a;
            snprintf(d.id, sizeof d.id, "dirty-%ld", cp->act_seq);
            s_cp_act_row(&cw, &d, email, when, (s_cp_dirt_t)(1 + s_below(&r, D_N - 1)), &r);
        }
        s_cp_act_row(&cw, &a, email, when, D_NONE, &r);
        if (s_chance(&r, 0.01)) {
            /* re-sent in the next extract, byte for byte */
            s_csvw_t again = {parts->part[(part + 1) % parts->nparts], true, false, "\n"};
            s_cp_act_row(&again, &a, email, when, D_NONE, &r);
        }
    }
}

static int s_cp_activities(s_cp_t *cp, s_cp_parts_t *parts)
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
        s_cp_person_t cpp;
        s_cp_person(cp, i, &cpp);
        double w = s_cp_act_weight(cp, i);
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
            s_cp_ghost_email(cp, i, gmail, sizeof gmail);
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
    const s_cp_t *cp;
} s_cp_fbw_t;

/* occurred_at as the rep writes it: local time with the zone's offset then (DST included),
 * or UTC for about a tenth of rows. */
static void s_cp_fb_time(const s_cp_t *cp, int rep, int64_t at, s_rng_t *r, char *out, size_t cap)
{
    if (s_chance(r, 0.1) || !cp->tz[rep]) {
        s_iso(at, out, cap);
        return;
    }
    int32_t off = ho_tz_offset(cp->tz[rep], at);
    char local[32];
    s_fmt_time(at + (int64_t)off * 1000, "%Y-%m-%dT%H:%M:%S", local, sizeof local);
    int a = off < 0 ? -off : off;
    snprintf(out, cap, "%s%c%02d:%02d", local, off < 0 ? '-' : '+', a / 3600, (a % 3600) / 60);
}

static void s_cp_fb_write(s_cp_fbw_t *fw, const char *email, int rep, const s_cp_fb_row_t *row,
                          s_cp_dirt_t dirt, s_rng_t *r)
{
    char id[32], when[48], amt[24] = "", outcome[32], reason[80];
    snprintf(id, sizeof id, "NWF-%06ld", ++fw->seq);
    s_cp_fb_time(fw->cp, rep, row->at, r, when, sizeof when);
    if (row->amount > 0) {
        snprintf(amt, sizeof amt, "%ld", row->amount);
    }
    snprintf(outcome, sizeof outcome, "%s", row->outcome);
    double u = s_unit(r);
    if (u < 0.05) {
        outcome[0] = (char)(outcome[0] - 'a' + 'A');
    } else if (u < 0.08) {
        snprintf(outcome, sizeof outcome, " %s ", row->outcome);
    }
    snprintf(reason, sizeof reason, "%s", row->reason);
    if (reason[0] && s_chance(r, 0.12)) {
        snprintf(reason, sizeof reason, "  %c%s ", row->reason[0] - 'a' + 'A', row->reason + 1);
    }
    const char *v[8] = {id, email, s_cp_reps[rep].id, outcome, reason, when, row->notes, amt};
    s_csvw_t cw = {fw->f, true, false, "\n"};
    if (dirt == D_MANY_FIELDS) {
        v[3] = PICK(r, ((const char *const[]){"maybe_later", "on hold", "follow-up"}));
        dirt = D_NONE;
    } else if (dirt == D_BLANK_EMAIL) {
        v[5] = "";
        dirt = D_NONE;
    }
    s_cp_emit(&cw, v, 8, dirt, 1, 5, 6, r);
}

/* A reason as reps give it: from the taxonomy mostly, blank sometimes (= unspecified), now and
 * then one of their own words or a code meant for the other outcome. */
static void s_cp_reason(s_rng_t *r, const char *outcome, char *out, size_t cap)
{
    static const char *const rej[] = {"not_a_fit",        "bad_contact_data", "no_decision_maker",
                                      "timing",           "budget",           "personal_email",
                                      "student_or_intern"};
    static const char *const lost[] = {"competitor",        "budget",   "timing", "unresponsive",
                                       "no_decision_maker", "not_a_fit"};
    static const char *const own[] = {"price too high", "went with spreadsheets", "duplicate lead",
                                      "legal review stalled"};
    double u = s_unit(r);
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
static int s_cp_story(const s_cp_t *cp, const s_cp_person_t *cpp, s_rng_t *r, s_cp_fb_row_t *rows)
{
    int64_t now = cp->wo.now_ms;
    int64_t t = cpp->p.created_at + 20 * 60000 + (int64_t)s_below(r, 4 * DAY);
    int n = 0;
    static const char *const steps[] = {"accepted", "sql", "opportunity", "won"};
    int step = 0;
    if (s_chance(r, 0.06)) {
        step = 1 + (int)s_below(r, 3); /* a jump: the rep logs a later stage first */
    } else if (s_chance(r, cpp->p.temp == 2 ? 0.15 : 0.35)) {
        rows[n] = (s_cp_fb_row_t){"rejected", "", t, "", 0};
        s_cp_reason(r, "rejected", rows[n].reason, sizeof rows[n].reason);
        return t < now ? n + 1 : 0;
    }
    for (; step < 4; step++) {
        if (t >= now) {
            break;
        }
        if (n > 0 && s_chance(r, step == 3 ? 0.45 : 0.3)) {
            rows[n] = (s_cp_fb_row_t){"lost", "", t, "Went dark after the demo", 0};
            s_cp_reason(r, "lost", rows[n].reason, sizeof rows[n].reason);
            n++;
            break;
        }
        rows[n] = (s_cp_fb_row_t){steps[step], "", t, step == 0 ? "Booked discovery" : "", 0};
        if (step == 3) {
            rows[n].amount = 12000 + 1000 * (long)s_below(r, 80);
        }
        n++;
        if (s_chance(r, 0.25)) {
            break; /* still being worked */
        }
        t += DAY + (int64_t)s_below(r, 12 * DAY);
        t -= t % 1000;
    }
    return n;
}

static void s_cp_fb_person(s_cp_fbw_t *fw, const s_cp_person_t *cpp, double p_story)
{
    const s_cp_t *cp = fw->cp;
    s_rng_t r = s_rng(cp->wo.seed, T_CP_FB, (uint64_t)cpp->p.i, 0);
    if (!s_chance(&r, p_story)) {
        return;
    }
    s_cp_dirt_t dirt = s_cp_dirt(cp, cpp->p.i, 17);
    char email[512];
    s_cp_email(&r, cpp->p.email, email, sizeof email);
    if (dirt) {
        s_cp_fb_row_t d = {"accepted", "", cpp->p.created_at + DAY, "", 0};
        s_cp_fb_write(fw, email, cpp->rep, &d, dirt, &r);
    }
    if (s_chance(&r, 0.05)) {
        /* feedback from someone nobody sent to sales: an address no lead source has */
        char ghost[256];
        s_cp_ghost_email(cp, cpp->p.i, ghost, sizeof ghost);
        s_cp_fb_row_t g = {"rejected", "", cpp->p.created_at + 2 * HOUR, "Not in our CRM", 0};
        s_cp_reason(&r, "rejected", g.reason, sizeof g.reason);
        if (g.at < cp->wo.now_ms) {
            s_cp_fb_write(fw, ghost, cpp->rep, &g, D_NONE, &r);
        }
    }
    if (cpp->stage != CP_ML && cpp->stage != CP_MQL) {
        return; /* the CRM already had it past acceptance: no story of ours */
    }
    if (s_chance(&r, 0.03)) {
        /* dated before the lead existed: a typo in the date, or the wrong person */
        s_cp_fb_row_t b = {"accepted", "",
                           cpp->p.created_at - 2 * HOUR - (int64_t)s_below(&r, 5 * DAY),
                           "Logged from memory", 0};
        s_cp_fb_write(fw, email, cpp->rep, &b, D_NONE, &r);
    }
    s_cp_fb_row_t rows[8];
    int n = s_cp_story(cp, cpp, &r, rows);
    const char *last = n > 0 ? rows[n - 1].outcome : "";
    bool deal = !strcmp(last, "sql") || !strcmp(last, "opportunity");
    bool closed = !strcmp(last, "won") || !strcmp(last, "lost");
    if ((deal || closed) && s_chance(&r, 0.25)) {
        /* the rep contradicts the history: rejects a lead already past acceptance, or logs
         * an acceptance after the deal closed */
        int64_t at = rows[n - 1].at + HOUR + (int64_t)s_below(&r, 5 * DAY);
        if (at < cp->wo.now_ms) {
            rows[n] = (s_cp_fb_row_t){deal ? "rejected" : "accepted", "", at - at % 1000,
                                      "Wrong contact after all", 0};
            if (deal) {
                s_cp_reason(&r, "rejected", rows[n].reason, sizeof rows[n].reason);
            }
            n++;
        }
    }
    if (n >= 2 && s_chance(&r, 0.3)) {
        /* entered out of order: a later step logged before an earlier one */
        int k = (int)s_below(&r, (uint64_t)(n - 1));
        s_cp_fb_row_t tmp = rows[k];
        rows[k] = rows[k + 1];
        rows[k + 1] = tmp;
    }
    for (int k = 0; k < n; k++) {
        s_cp_fb_write(fw, email, cpp->rep, &rows[k], D_NONE, &r);
    }
}

static int s_cp_feedback(const s_cp_t *cp, FILE *f)
{
    fputs("feedback_id,lead_email,rep_id,outcome,reason,occurred_at,notes,amount\n", f);
    s_cp_fbw_t fw = {f, 0, cp};
    /* about 2 rows per person sales talks to */
    double p_story = (double)cp->o->feedback / ((double)cp->o->people * 2.0);
    if (p_story > 1.0) {
        p_story = 1.0;
    }
    for (long i = 0; i < cp->o->people; i++) {
        s_cp_person_t cpp;
        s_cp_person(cp, i, &cpp);
        s_cp_fb_person(&fw, &cpp, p_story);
    }
    return ferror(f) ? -1 : 0;
}

static int s_cp_reps_file(const s_cp_t *cp, FILE *f)
{
    (void)cp;
    fputs("rep_id,name,email,region,countries,us_states,segments,employee_min,employee_max,"
          "weekly_capacity,timezone,out_of_office,ooo_start,ooo_end,backup_rep_id\n",
          f);
    s_csvw_t cw = {f, true, false, "\n"};
    for (int k = 0; k < CP_NREPS; k++) {
        const s_cp_rep_t *p = &s_cp_reps[k];
        const char *v[15] = {p->id,     p->name,     p->email,     p->region,  p->countries,
                             p->states, p->segments, p->emin,      p->emax,    p->cap,
                             p->tz,     p->ooo,      p->ooo_start, p->ooo_end, p->backup};
        for (int c = 0; c < 15; c++) {
            s_cell(&cw, v[c]);
        }
        s_endrow(&cw);
    }
    return ferror(f) ? -1 : 0;
}

/* ---- corpus: driver ---- */
static int s_cp_file(const char *dir, const char *name, int (*fn)(const s_cp_t *, FILE *),
                     const s_cp_t *cp, ho_err_t *err)
{
    char path[4096];
    FILE *f = s_open(dir, name, path, sizeof path, err);
    if (!f) {
        return HO_ERR_IO;
    }
    return s_close(f, fn(cp, f), path, err);
}

static int s_cp_forms_file(const s_cp_t *cp, FILE *f)
{
    (void)cp;
    json_t *forms = s_linkedin_forms();
    int rc = json_dumpf(forms, f, JSON_INDENT(2));
    fputc('\n', f);
    json_decref(forms);
    return rc;
}

static int s_cp_activity_files(s_cp_t *cp, ho_err_t *err)
{
    s_cp_parts_t parts = {.nparts = cp->o->activity_files};
    char paths[CP_MAX_PARTS][4096];
    int rc = HO_OK;
    for (int k = 0; k < parts.nparts; k++) {
        char name[64];
        snprintf(name, sizeof name, "activities_%02d.csv", k + 1);
        parts.part[k] = s_open(cp->o->out_dir, name, paths[k], sizeof paths[k], err);
        if (!parts.part[k]) {
            rc = HO_ERR_IO;
        }
    }
    int wrc = rc == HO_OK ? s_cp_activities(cp, &parts) : -1;
    for (int k = 0; k < parts.nparts; k++) {
        if (parts.part[k]) {
            int crc = s_close(parts.part[k], wrc, paths[k], err);
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
    s_cp_t cp = {.o = &o};
    cp.wo = (ho_demo_opts_t){.seed = o.seed, .now_ms = o.now_ms, .leads = o.people};
    cp.w = (s_world_t){&cp.wo, o.people / 4 > 12 ? o.people / 4 : 12};
    if (cp.w.n_companies > 200000) {
        cp.w.n_companies = 200000;
    }
    for (int k = 0; k < CP_NREPS; k++) {
        ho_err_t tzerr;
        cp.tz[k] = ho_tz_load(s_cp_reps[k].tz, &tzerr); /* NULL: that rep writes UTC */
    }
    for (long i = 0; i < o.people; i++) {
        cp.act_weight_sum += s_cp_act_weight(&cp, i);
    }
    int rc = s_cp_file(o.out_dir, "hubspot_contacts.csv", s_cp_hubspot, &cp, err);
    if (rc == HO_OK) {
        rc = s_cp_file(o.out_dir, "salesforce_leads.csv", s_cp_salesforce, &cp, err);
    }
    if (rc == HO_OK) {
        rc = s_cp_file(o.out_dir, "marketo_leads.csv", s_cp_marketo, &cp, err);
    }
    if (rc == HO_OK) {
        rc = s_cp_file(o.out_dir, "form_webhooks.jsonl", s_cp_webhooks, &cp, err);
    }
    if (rc == HO_OK) {
        rc = s_cp_file(o.out_dir, "linkedin_lead_forms.json", s_cp_forms_file, &cp, err);
    }
    if (rc == HO_OK) {
        rc = s_cp_activity_files(&cp, err);
    }
    if (rc == HO_OK) {
        rc = s_cp_file(o.out_dir, "feedback.csv", s_cp_feedback, &cp, err);
    }
    if (rc == HO_OK) {
        rc = s_cp_file(sub, "reps.csv", s_cp_reps_file, &cp, err);
    }
    for (int k = 0; k < CP_NREPS; k++) {
        ho_tz_destroy(&cp.tz[k]);
    }
    return rc;
}
