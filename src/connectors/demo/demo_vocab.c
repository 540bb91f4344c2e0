/* demo_vocab.c - the vocabulary of the demo world: names, industries, countries, titles,
 * sources; see demo_internal.h */
#include "connectors/demo/demo_internal.h"

/* ---- vocabulary ---- */
const char *const ho_demo_first[] = {
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
const char *const ho_demo_last[] = {
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
const char *const ho_demo_words[] = {
    "Alder",     "Basalt",    "Cobalt",   "Driftwood", "Ember",    "Fennel",      "Gannet",
    "Heron",     "Ironbark",  "Juniper",  "Kestrel",   "Larch",    "Marram",      "Nettle",
    "Osprey",    "Pumice",    "Quillon",  "Rowan",     "Sorrel",   "Tamarack",    "Umber",
    "Verdigris", "Wrenfold",  "Yarrow",   "Zephyr",    "Bramble",  "Cinder",      "Dunlin",
    "Eskar",     "Fjordline", "Gossamer", "Halcyon",   "Inkwell",  "Jackdaw",     "Kittiwake",
    "Lodestar",  "Moraine",   "Nimbus",   "Oriel",     "Plover",   "Quarrystone", "Runnel",
    "Saltmarsh", "Thistle",   "Upland",   "Vireo",     "Weirgate", "Yewbank",
};

const ho_demo_industry_t ho_demo_industries[] = {
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
const ho_demo_country_t ho_demo_countries[] = {
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

const ho_demo_state_t ho_demo_us_states[] = {
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

const char *const ho_demo_cities[][3] = {
    /* by country code order of ho_demo_countries (US handled by states) */
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
const char *const ho_demo_phone_prefix[] = {
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

const char *const ho_demo_title_hot[] = {
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
const char *const ho_demo_title_mid[] = {
    "Data Engineer",       "Senior Data Engineer", "Analytics Engineer", "Staff Engineer",
    "Engineering Manager", "Solutions Architect",  "IT Manager",         "Product Manager",
    "BI Developer",        "Data Platform Lead",
};
const char *const ho_demo_title_cold[] = {
    "Marketing Coordinator", "Operations Analyst", "Procurement Manager",
    "Office Manager",        "Consultant",         "Software Developer",
    "Junior Analyst",        "Sales Associate",
};
const char *const ho_demo_title_student[] = {"Student", "Graduate Student", "PhD Candidate",
                                             "Intern"};
const char *const ho_demo_title_personal[] = {"Independent Consultant", "Open to Work",
                                              "Freelance Data Engineer", "Self-employed"};
const char *const ho_demo_title_intern[] = {"Data Engineering Intern", "Analytics Intern",
                                            "Working Student, Data Platform",
                                            "Intern, BI & Reporting"};
const char *const ho_demo_personal_domains[] = {"gmail.com",   "yahoo.com",  "outlook.com",
                                                "hotmail.com", "icloud.com", "gmx.de",
                                                "yahoo.co.uk", "proton.me"};
const char *const ho_demo_hs_sources[][2] = {
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
const char *const ho_demo_sf_sources[] = {
    "Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Trade Show", "Webinar", "Other"};
const char *const ho_demo_mk_sources[] = {"Website",    "Paid Search", "Email",          "Webinar",
                                          "Trade Show", "Paid Social", "Organic Search", "Partner"};
const char *const ho_demo_conversions[] = {
    "Pipeline Cost Benchmark 2026: Download", "Pricing - Talk to Sales",
    "Demo Request: Northwind Pipelines Demo", "Newsletter Signup",
    "Streaming ETL Webinar: Register",        ""};
const char *const ho_demo_messages_hot[] = {
    ("We run Kafka, Airflow, and a lot of cron jobs; looking for one place to monitor them. "
     "Budget is approved for Q1."),
    "Evaluating vendors now.\nNeed SSO, audit logs, and an EU region.",
    "Please send pricing for 40 pipelines, \"enterprise\" tier.",
    "Our current ETL vendor renews in March, comparing options.",
};
const char *const ho_demo_messages_cold[] = {
    "Just curious, writing a thesis on data pipelines.",
    "Can you send me the whitepaper, thanks",
    "",
    "",
    "",
};
