/* msg_vectors.h - the envelopes behind proto/vectors/ (valid ones), one per message type of
 * proto/messages.md plus encoding corner cases. test_msg --write DIR regenerates the .hex and
 * .json files from this table; test_msg checks the files against the codec. */
#ifndef HO_MSG_VECTORS_H
#define HO_MSG_VECTORS_H

typedef struct {
    const char *name; /* file stem in proto/vectors/ */
    const char *json; /* the envelope (object) or batch (array) */
} s_vector_t;

#define S_ENV(type, id, ts, payload)                                                               \
    "{\"v\":1,\"type\":\"" type "\",\"id\":\"" id "\",\"ts\":" #ts                                 \
    ",\"origin\":\"vectors@handoff:1\",\"payload\":" payload "}"

#define S_CSV_LEAD(n, line, ts, email)                                                             \
    S_ENV("lead.raw", "lead-csv-" n, ts,                                                           \
          "{\"source\":\"csv\",\"source_ref\":{\"file\":\"leads.csv\",\"line\":" line              \
          "},\"fields\":{\"email\":\"" email "\"}}")

static const s_vector_t s_vectors[] = {
    {"lead_raw",
     S_ENV("lead.raw", "lead-hubspot-8f14e45fceea167a5a36dedd4bea2543", 1795046400000,
           "{\"source\":\"hubspot\",\"source_ref\":{\"file\":\"hubspot_contacts.csv\",\"line\":"
           "17},\"fields\":{\"email\":\" Jurgen.Muller@Acme-Maschinenbau.DE \",\"first_name\":"
           "\"J\\u00fcrgen\",\"last_name\":\"M\\u00fcller\",\"company\":\"Acme Maschinenbau "
           "GmbH\",\"title\":\"Head of Procurement\",\"country\":\"Germany\",\"employees\":\"100-"
           "500\",\"industry\":\"Industrial Machinery\",\"original_source\":\"Paid Search\","
           "\"created_at\":\"2026-11-02 09:14:00\",\"source_record_id\":\"9012345\"},\"extra\":{"
           "\"hs_analytics_num_visits\":\"14\"}}")},
    {"lead_normalized",
     S_ENV("lead.normalized", "lead-hubspot-8f14e45fceea167a5a36dedd4bea2543", 1795046400123,
           "{\"source\":\"hubspot\",\"source_ref\":{\"file\":\"hubspot_contacts.csv\",\"line\":"
           "17},\"email\":\"jurgen.muller@acme-maschinenbau.de\",\"fields\":{\"email\":\"jurgen."
           "muller@acme-maschinenbau.de\",\"first_name\":\"J\\u00fcrgen\",\"domain\":\"acme-"
           "maschinenbau.de\",\"personal_email\":false,\"employees\":100,\"employees_label\":"
           "\"100-500\",\"revenue\":48500000.0,\"country\":\"DE\",\"industry_group\":"
           "\"manufacturing\",\"source_channel\":\"paid_search\",\"created_at\":1793610840000},"
           "\"observed_at\":1793610840000}")},
    {"activity_raw",
     S_ENV("activity.raw", "act-raw-2b1c9d", 1795046401000,
           "{\"source\":\"csv\",\"source_ref\":{\"file\":\"activities.csv\",\"line\":2},\"fields\""
           ":{\"activity_id\":\"A-77812\",\"email\":\"jurgen.muller@acme-maschinenbau.de\","
           "\"activity_type\":\"Page View\",\"activity_date\":\"2026-11-03T10:00:00Z\",\"url\":"
           "\"https://example.com/pricing?utm_source=x\",\"campaign\":\"\",\"asset\":\"\","
           "\"source_system\":\"marketo\"}}")},
    {"activity_normalized",
     S_ENV("activity.normalized", "act-marketo-0c5b1f2e3d4a59687766554433221100", 1795046401050,
           "{\"source\":\"csv\",\"source_ref\":{\"file\":\"activities.csv\",\"line\":2},\"email\":"
           "\"jurgen.muller@acme-maschinenbau.de\",\"activity_id\":\"A-77812\",\"type\":\"page_"
           "view\",\"occurred_at\":1793700000000,\"url\":\"https://example.com/pricing?utm_source="
           "x\",\"path\":\"/pricing\",\"campaign\":\"\",\"asset\":\"\",\"source_system\":"
           "\"marketo\",\"attributes\":{}}")},
    {"score_request",
     S_ENV("score.request", "score-req-41", 1795046402000,
           "{\"as_of\":1793700000000,\"reason\":\"activity\",\"lead\":{\"lead_id\":41,\"email\":"
           "\"jurgen.muller@acme-maschinenbau.de\",\"stage\":\"lead\",\"owner\":null,\"fields\":{"
           "\"country\":\"DE\",\"employees\":100},\"activities\":[{\"type\":\"page_view\","
           "\"path\":\"/pricing\",\"url\":\"https://example.com/pricing\",\"occurred_at\":"
           "1793700000000,\"campaign\":\"\"}]}}")},
    {"lead_scored",
     S_ENV("lead.scored", "scored-41-1793700000000", 1795046402100,
           "{\"lead_id\":41,\"email\":\"jurgen.muller@acme-maschinenbau.de\",\"as_of\":"
           "1793700000000,\"model_version\":\"2026.11-a\",\"fit\":55,\"interest\":30,\"score\":85,"
           "\"grade\":\"A2\",\"quadrant\":\"mql_now\",\"mql\":true,\"explanation\":[{\"rule\":"
           "\"employees_100_500\",\"kind\":\"fit\",\"points\":25,\"detail\":\"employees=100\"},{"
           "\"rule\":\"pricing_page\",\"kind\":\"interest\",\"points\":30,\"detail\":\"/pricing "
           "viewed 2026-11-03\"}]}")},
    {"route_request",
     S_ENV("route.request", "route-req-41", 1795046402200,
           "{\"lead\":{\"lead_id\":41,\"email\":\"jurgen.muller@acme-maschinenbau.de\",\"stage\":"
           "\"mql\",\"owner\":null,\"fields\":{\"country\":\"DE\"},\"activities\":[],\"score\":{"
           "\"fit\":55,\"interest\":30,\"grade\":\"A2\",\"quadrant\":\"mql_now\","
           "\"model_version\":\"2026.11-a\"}},\"as_of\":1793700000000,\"account_owner\":null,"
           "\"exclude\":[],\"reason\":\"mql\"}")},
    {"lead_assigned",
     S_ENV("lead.assigned", "assign-6512bd43d9caa6e02c990b0a82652dca", 1795046402300,
           "{\"lead_id\":41,\"email\":\"jurgen.muller@acme-maschinenbau.de\",\"rep_id\":\"r-"
           "dach-2\",\"rep_name\":\"Lena Vogel\",\"rep_email\":\"lena.vogel@example.com\","
           "\"queue\":null,\"rule\":\"dach_enterprise\",\"reason\":\"territory DE matched rule "
           "dach_enterprise; round robin picked r-dach-2 (3 of 10 today)\",\"assigned_at\":"
           "1793700000000,\"sla_due\":1793714400000,\"reassign_due\":1793728800000,"
           "\"reassigned_from\":null}")},
    {"handoff_ready",
     S_ENV("handoff.ready", "handoff-41-r-dach-2", 1795046402400,
           "{\"lead_id\":41,\"email\":\"jurgen.muller@acme-maschinenbau.de\",\"rep\":{\"rep_id\":"
           "\"r-dach-2\",\"name\":\"Lena Vogel\",\"email\":\"lena.vogel@example.com\"},"
           "\"contact\":{\"first_name\":\"J\\u00fcrgen\",\"last_name\":\"M\\u00fcller\",\"title\""
           ":\"Head of Procurement\",\"phone\":\"+49 89 1234567\",\"company\":\"Acme "
           "Maschinenbau GmbH\",\"domain\":\"acme-maschinenbau.de\",\"industry\":\"Industrial "
           "Machinery\",\"employees\":100,\"revenue\":48500000.0},\"location\":{\"country\":"
           "\"DE\",\"state\":\"Bayern\",\"city\":\"M\\u00fcnchen\",\"timezone\":\"Europe/"
           "Berlin\"},\"stage\":\"mql\",\"journey_stage\":\"decision\",\"engagement\":{"
           "\"first_touch_at\":1793610840000,\"last_touch_at\":1793700000000,\"activity_count\":"
           "6,\"recent\":[{\"type\":\"page_view\",\"path\":\"/pricing\",\"occurred_at\":"
           "1793700000000}],\"top_pages\":[\"/pricing\",\"/case-studies\"]},\"score\":{\"fit\":55,"
           "\"interest\":30,\"grade\":\"A2\",\"quadrant\":\"mql_now\",\"model_version\":\"2026.11-"
           "a\",\"explanation\":[]},\"source\":{\"original_source\":\"Paid Search\","
           "\"campaign\":\"q4-dach-search\",\"sources\":[\"hubspot\"]},\"sla_due\":1793714400000,"
           "\"handed_off_at\":1793700000000}")},
    {"feedback_raw",
     S_ENV("feedback.raw", "fb-salesforce-0031x00000ab", 1795046403000,
           "{\"source\":\"salesforce\",\"source_ref\":{\"webhook\":\"feedback\",\"id\":\"evt_"
           "912\"},\"fields\":{\"feedback_id\":\"0031x00000ab\",\"email\":\"JURGEN.MULLER@ACME-"
           "MASCHINENBAU.DE\",\"rep_id\":\"r-dach-2\",\"outcome\":\"Rejected\",\"reason\":\"No "
           "budget\",\"occurred_at\":\"2026-11-05\",\"notes\":\"call again in Q2\",\"amount\":"
           "\"\"}}")},
    {"lead_outcome",
     S_ENV("lead.outcome", "fb-salesforce-0031x00000ab", 1795046403050,
           "{\"feedback_id\":\"0031x00000ab\",\"email\":\"jurgen.muller@acme-maschinenbau.de\","
           "\"rep_id\":\"r-dach-2\",\"outcome\":\"rejected\",\"reason\":\"no_budget\","
           "\"reason_owner\":\"sales\",\"disposition\":\"recycle\",\"occurred_at\":1793836800000,"
           "\"notes\":\"call again in Q2\",\"amount\":null,\"source_ref\":{\"webhook\":"
           "\"feedback\",\"id\":\"evt_912\"}}")},
    {"tick", S_ENV("tick", "tick-1795046404000", 1795046404000, "{\"now\":1795046404000}")},
    {"sla_breach",
     S_ENV("sla.breach", "breach-41-remind", 1795046405000,
           "{\"lead_id\":41,\"email\":\"jurgen.muller@acme-maschinenbau.de\",\"rep_id\":\"r-dach-"
           "2\",\"assigned_at\":1793700000000,\"sla_due\":1793714400000,\"now\":1793714460000,"
           "\"step\":\"remind\",\"lead\":{\"lead_id\":41},\"as_of\":1793714460000,"
           "\"account_owner\":null,\"exclude\":[],\"reason\":\"sla_breach\"}")},
    {"rep_reminder",
     S_ENV("rep.reminder", "remind-c4ca4238a0b923820dcc509a6f75849b", 1795046405100,
           "{\"lead_id\":41,\"email\":\"jurgen.muller@acme-maschinenbau.de\",\"rep_id\":\"r-dach-"
           "2\",\"rep_name\":\"Lena Vogel\",\"rep_email\":\"lena.vogel@example.com\",\"queue\":"
           "null,\"assigned_at\":1793700000000,\"sla_due\":1793714400000,\"reassign_due\":"
           "1793728800000,\"now\":1793714460000,\"message\":\"Lead 41 (Acme Maschinenbau GmbH) "
           "is waiting for you since 2026-11-03 10:00 UTC.\"}")},
    {"report_request",
     S_ENV("report.request", "report-2026-W45", 1795046406000,
           "{\"week\":\"2026-W45\",\"timezone\":\"Europe/Berlin\",\"output\":\"reports/2026-W45."
           "xlsx\",\"now\":1795046406000}")},
    {"report_ready",
     S_ENV("report.ready", "report-ready-2026-W45", 1795046407000,
           "{\"week\":\"2026-W45\",\"path\":\"data/reports/2026-W45.xlsx\",\"sheets\":["
           "\"Summary\",\"Funnel\",\"Reasons\",\"Reps\"],\"leads\":1284,\"generated_at\":"
           "1795046406000,\"timezone\":\"Europe/Berlin\"}")},
    {"dead_letter",
     "{\"v\":1,\"type\":\"dead.letter\",\"id\":\"dl-5d41402abc4b2a76b9719d911017c592\",\"ts\":"
     "1795046408000,\"origin\":\"broker\",\"payload\":{\"service\":\"score\",\"attempts\":5,"
     "\"reason\":\"heartbeat expired\",\"frames\":[{\"v\":1,\"type\":\"score.request\",\"id\":"
     "\"score-req-41\",\"ts\":1795046402000,\"origin\":\"store@db1:77\",\"payload\":{\"as_of\":"
     "1793700000000}},{\"raw\":\"wWdhcmJhZ2U=\"}]}}"},
    {"status",
     "{\"v\":1,\"type\":\"status\",\"id\":\"status-1\",\"ts\":1795046409000,\"origin\":"
     "\"broker\",\"payload\":{\"uptime_ms\":81234,\"endpoint\":\"tcp://127.0.0.1:5570\","
     "\"endpoints\":[\"tcp://127.0.0.1:5570\"],\"heartbeat_ms\":2500,\"liveness\":3,"
     "\"services\":[{\"name\":\"ingest\",\"workers\":2,\"queued\":0,\"in_flight\":3,"
     "\"requests\":120,\"replies\":117,\"routed_in\":0,\"dead_letters\":0}],\"workers\":[{"
     "\"id\":\"006b8b4567\",\"service\":\"ingest\",\"credit\":32,\"in_flight\":3,\"handled\":"
     "117,\"last_seen_ms\":412}],\"routes\":{\"lead.raw\":\"ingest\"},\"counters\":{"
     "\"requests\":120,\"replies\":117,\"routed\":117,\"dead_letters\":0,\"protocol_errors\":0,"
     "\"refused\":0,\"requeued\":0,\"stale_replies\":0}}}"},
    {"quarantine",
     S_ENV("quarantine", "q-1f0e3dad99908345f7439f8ffabdffc4", 1795046410000,
           "{\"stage\":\"ingest\",\"code\":\"bad_email\",\"field\":\"fields.email\",\"reason\":"
           "\"fields.email: 'not-an-address' does not look like an e-mail address\","
           "\"event_id\":\"lead-csv-98f13708210194c475687be6106a3b84\",\"event_type\":"
           "\"lead.raw\",\"source_ref\":{\"file\":\"leads.csv\",\"line\":42},\"raw\":{\"source\":"
           "\"csv\",\"source_ref\":{\"file\":\"leads.csv\",\"line\":42},\"fields\":{\"email\":"
           "\"not-an-address\"}}}")},
    {"lead_forget", S_ENV("lead.forget", "forget-3c59dc048e8850243be8079a5c74d079", 1795046411000,
                          "{\"email\":\"  Jurgen.Muller@ACME-maschinenbau.de\"}")},
    {"lead_forgotten",
     S_ENV("lead.forgotten", "forgotten-3c59dc048e8850243be8079a5c74d079", 1795046411050,
           "{\"found\":true,\"lead_id\":41,\"erased_at\":1795046411050}")},
    {"dlq_replay", S_ENV("dlq.replay", "replay-b6d767d2f8ed5d21a44b0e5886680cb9", 1795046412000,
                         "{\"ids\":[12,13,99]}")},
    {"dlq_replayed",
     S_ENV("dlq.replayed", "replayed-b6d767d2f8ed5d21a44b0e5886680cb9", 1795046412050,
           "{\"replayed\":[12,13],\"failed\":[{\"id\":99,\"error\":\"no quarantine row 99\"}]}")},
    {"error",
     S_ENV("error", "err-1", 1795046413000,
           "{\"code\":503,\"message\":\"service ingest has 10000 queued requests; retry later\","
           "\"service\":\"ingest\"}")},
    /* corner cases of the encoding */
    {"batch_lead_raw",
     "[" S_CSV_LEAD("1", "2", 1795046400000, "a@example.com") "," S_CSV_LEAD(
         "2", "3", 1795046400001, "b@example.com") "," S_CSV_LEAD("3", "4", 1795046400002,
                                                                  "c@example.com") "]"},
    {"batch_empty", "[]"},
    {"unknown_fields",
     "{\"v\":1,\"type\":\"lead.raw\",\"id\":\"lead-x-1\",\"ts\":1795046400000,\"origin\":"
     "\"future@peer:1\",\"payload\":{\"source\":\"csv\"},\"trace\":{\"span\":\"9a8b\","
     "\"hops\":[\"ingest\",\"store\"]},\"priority\":5,\"x-tenant\":\"acme\"}"},
    {"numbers",
     S_ENV("test.numbers", "num-1", 0,
           "{\"zero\":0,\"one\":1,\"fixmax\":127,\"u8\":128,\"u8max\":255,\"u16\":256,\"u16max\":"
           "65535,\"u32\":65536,\"u32max\":4294967295,\"u64\":4294967296,\"i64max\":"
           "9223372036854775807,\"neg1\":-1,\"negfix\":-32,\"i8\":-33,\"i8min\":-128,\"i16\":-129,"
           "\"i32\":-32769,\"i64\":-2147483649,\"i64min\":-9223372036854775808,\"half\":0.5,"
           "\"whole\":1.0,\"tiny\":5e-324,\"huge\":-1.7976931348623157e308,\"t\":true,\"f\":"
           "false,\"nil\":null}")},
    {"strings", S_ENV("test.strings", "str-1", 1795046400000,
                      "{\"empty\":\"\",\"fix31\":\"0123456789012345678901234567890\",\"str8\":"
                      "\"01234567890123456789012345678901\",\"utf8\":\"K\\u00f6ln \\u6771\\u4eac "
                      "\\ud83d\\ude80 \\u00e9t\\u00e9\",\"escapes\":\"tab\\tnewline\\nquote\\\"\","
                      "\"\\u00fcmlaut-key\":\"key in UTF-8\"}")},
    {"containers",
     S_ENV("test.containers", "box-1", 1795046400000,
           "{\"empty_map\":{},\"empty_array\":[],\"map16\":{\"k01\":1,\"k02\":2,\"k03\":3,\"k04\":"
           "4,\"k05\":5,\"k06\":6,\"k07\":7,\"k08\":8,\"k09\":9,\"k10\":10,\"k11\":11,\"k12\":12,"
           "\"k13\":13,\"k14\":14,\"k15\":15,\"k16\":16},\"array16\":[1,2,3,4,5,6,7,8,9,10,11,12,"
           "13,14,15,16,17],\"nested\":[[[{\"deep\":[true]}]]]}")},
    {NULL, NULL}};

#endif
