/* dlq_cmd.c - `handoff dlq`: list and show quarantined records and dead letters (read-only
 * from the store's database), replay them (a dlq.replay message to the store, which owns
 * the database and re-emits each one as its original type), optionally with fields edited
 * by the operator (--set/--unset: dlq.replay `set`; the store checks the names against the
 * record's kind and keeps every edit and the value it replaced in the row's raw_json under
 * replay_edits). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handoff/cli.h"
#include "handoff/client.h"
#include "handoff/gateway.h"
#include "handoff/store.h"
#include "handoff/time.h"

static void s_usage(FILE *out)
{
    fprintf(out, "usage: handoff dlq list [--all] [--limit N] [--json]\n"
                 "       handoff dlq show ID [--json]\n"
                 "       handoff dlq replay ID... [--set FIELD=VALUE]... [--unset FIELD]...\n"
                 "                              [--connect ENDPOINT]\n"
                 "\n"
                 "Records refused anywhere in the pipeline (bad rows, illegal transitions) and\n"
                 "requests the broker gave up on are kept in the store's quarantine with their\n"
                 "reason. `list` shows those not replayed yet (--all: every one), `show` one with\n"
                 "its payload, `replay` re-emits them as their original message type.\n"
                 "\n"
                 "Replay after a fix: a record refused again is listed again with its new reason.\n"
                 "For a date in a format its profile does not list (code bad_date), add the\n"
                 "format to date_formats of that profile (profiles/NAME.yaml in the config\n"
                 "folder; the reason names it) and replay: ingest reads the profile's current\n"
                 "formats for a date the record's own do not read, no restart needed.\n"
                 "\n"
                 "Replay with a fix of the record itself: --set FIELD=VALUE replaces a field's\n"
                 "text (repeatable), --unset FIELD drops it, before the record is replayed,\n"
                 "e.g. `handoff dlq replay 42 --set email=jane@acme.com`. Only for the IDs\n"
                 "given, and only records refused before normalization (lead.raw,\n"
                 "activity.raw, feedback.raw rows): the edited record is validated again. FIELD\n"
                 "is a canonical field of that kind (`fields.` before it is accepted too):\n"
                 "  lead      email first_name last_name full_name title company website\n"
                 "            industry employees revenue country state city postal_code address\n"
                 "            phone message lifecycle_stage lead_status original_source\n"
                 "            source_detail campaign owner created_at updated_at source_record_id\n"
                 "  activity  activity_id email activity_type activity_date url campaign asset\n"
                 "            source_system\n"
                 "  feedback  feedback_id email rep_id outcome reason occurred_at notes amount\n"
                 "The row keeps the edited record and, under replay_edits, every edit with the\n"
                 "value it replaced (`dlq show`; `dlq list` says edited=FIELDS). Refused again,\n"
                 "the row is listed again with the new reason; nothing is lost.\n"
                 "\n"
                 "  --data-dir DIR  data folder (default: data_dir of the gateway config)\n"
                 "  --db PATH       the database file (default <data-dir>/handoff.db)\n"
                 "  -c, --config F  gateway config (handoff.yaml)\n"
                 "  --connect EP    broker endpoint for replay (default: broker.endpoint)\n"
                 "  --set F=V       replay: set field F of the record to V (repeatable)\n"
                 "  --unset F       replay: drop field F of the record (repeatable)\n");
}

static const char *s_s(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) && json_string_value(v)[0] ? json_string_value(v) : "-";
}

static const char *s_time(const json_t *v, char *buf, size_t cap)
{
    if (!json_is_integer(v)) {
        return "-";
    }
    return ho_time_format(json_integer_value(v), buf, cap);
}

/* The names of the fields the operator's edits (`replay_edits` of the row's payload) set or
 * dropped, comma-separated, in the order first edited; "" when none. */
static void s_edited(const json_t *edits, char *buf, size_t cap)
{
    json_t *seen = json_object();
    size_t i, used = 0;
    json_t *e;
    buf[0] = '\0';
    json_array_foreach(edits, i, e)
    {
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(e, "set"), k, v)
        {
            size_t len = strlen(k);
            if (json_object_get(seen, k) || used + len + 2 > cap) {
                continue;
            }
            json_object_set_new(seen, k, json_true());
            used += (size_t)snprintf(buf + used, cap - used, "%s%s", used ? "," : "", k);
        }
    }
    json_decref(seen);
}

static void s_line(const json_t *r)
{
    char t1[32], t2[32], edited[512], part[540] = "";
    const json_t *line = json_object_get(r, "line");
    const json_t *edits = json_object_get(r, "replay_edits"); /* list */
    s_edited(edits ? edits : json_object_get(json_object_get(r, "raw"), "replay_edits"), edited,
             sizeof edited);
    if (edited[0]) {
        snprintf(part, sizeof part, " edited=%s", edited);
    }
    printf("id=%lld at=%s stage=%s code=%s field=%s type=%s event=%s file=%s line=%lld "
           "replayed=%s%s reason=\"%s\"\n",
           (long long)json_integer_value(json_object_get(r, "id")),
           s_time(json_object_get(r, "at"), t1, sizeof t1), s_s(r, "stage"), s_s(r, "code"),
           s_s(r, "field"), s_s(r, "input_type"), s_s(r, "input_event_id"), s_s(r, "file"),
           json_is_integer(line) ? (long long)json_integer_value(line) : 0LL,
           s_time(json_object_get(r, "replayed_at"), t2, sizeof t2), part, s_s(r, "reason"));
}

/* `--set F=V` / `--unset F` into the dlq.replay `set` map (F without a `fields.` prefix -> V,
 * or null). 0, or 2 after saying what is wrong. */
static int s_add_edit(json_t *set, const char *arg, bool unset)
{
    const char *eq = unset ? NULL : strchr(arg, '=');
    size_t len = unset ? strlen(arg) : (eq ? (size_t)(eq - arg) : 0);
    if (!unset && !eq) {
        fprintf(stderr,
                "handoff dlq replay: --set needs FIELD=VALUE, got \"%s\" (--unset FIELD drops "
                "a field)\n",
                arg);
        return 2;
    }
    if (len == 0 || len > 64 || strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789_.") < len) {
        fprintf(stderr,
                "handoff dlq replay: %s \"%.*s\" is not a field name (lower-case letters, "
                "digits, _ and ., e.g. email or fields.email)\n",
                unset ? "--unset" : "--set", (int)(len ? len : strlen(arg)), arg);
        return 2;
    }
    char name[72];
    snprintf(name, sizeof name, "%.*s", (int)len, arg);
    const char *bare = strncmp(name, "fields.", 7) == 0 ? name + 7 : name;
    if (json_object_get(set, bare)) {
        fprintf(stderr, "handoff dlq replay: field %s is given twice\n", bare);
        return 2;
    }
    json_t *value = unset ? json_null() : json_string(eq + 1);
    if (!value) {
        fprintf(stderr, "handoff dlq replay: the value of --set %s is not valid UTF-8\n", name);
        return 2;
    }
    json_object_set_new(set, bare, value);
    return 0;
}

static int s_replay(const ho_cli_env_t *env, char **ids, int n_ids, const json_t *set)
{
    json_t *arr = json_array();
    for (int i = 0; i < n_ids; i++) {
        char *end = NULL;
        long long id = strtoll(ids[i], &end, 10);
        if (!end || *end || id <= 0) {
            fprintf(stderr, "handoff dlq replay: \"%s\" is not a quarantine id\n", ids[i]);
            json_decref(arr);
            return 2;
        }
        json_array_append_new(arr, json_integer(id));
    }
    ho_err_t err = {0};
    /* a down broker or store fails in 3 s with a hint, not after the request's retries */
    if (ho_cli_broker_check("dlq replay", ho_gateway_endpoint(env->gw), env->gw, "store", 3000) !=
        0) {
        json_decref(arr);
        return 1;
    }
    ho_client_t *client = ho_cli_env_client(env, 1, 10000, 2);
    if (!client) {
        json_decref(arr);
        return 1;
    }
    ho_msg_t *msg = ho_msg_new("dlq.replay");
    json_object_set_new(ho_msg_payload(msg), "ids", arr);
    char edited[512] = "";
    if (json_object_size(set)) {
        json_object_set(ho_msg_payload(msg), "set", (json_t *)set);
        json_t *one = json_pack("[{sO}]", "set", set);
        s_edited(one, edited, sizeof edited);
        json_decref(one);
    }
    ho_msg_t **reply = NULL;
    size_t n = 0;
    int rc = 1;
    if (ho_client_request(client, "store", &msg, 1, &reply, &n, &err) != HO_OK) {
        fprintf(stderr, "handoff dlq replay: %s\n", err.message);
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ho_msg_type(reply[i]), "dlq.replayed") != 0) {
            continue;
        }
        json_t *p = ho_msg_payload(reply[i]);
        size_t k;
        json_t *v;
        json_array_foreach(json_object_get(p, "replayed"), k, v)
        {
            printf("replayed id=%lld%s%s\n", (long long)json_integer_value(v),
                   edited[0] ? " edited=" : "", edited);
        }
        rc = 0;
        json_array_foreach(json_object_get(p, "failed"), k, v)
        {
            fprintf(stderr, "handoff dlq replay: id=%lld: %s\n",
                    (long long)json_integer_value(json_object_get(v, "id")), s_s(v, "error"));
            rc = 1;
        }
    }
    ho_msg_batch_free(&reply, n);
    ho_msg_destroy(&msg);
    ho_client_destroy(&client);
    return rc;
}

/* The operator's edits of each listed row: the list query reads `replay_edits` out of the
 * row's payload (replay_edits_json, NULL for rows never edited); parsed here into
 * replay_edits. */
static void s_list_edits(json_t *rows)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *text = json_string_value(json_object_get(r, "replay_edits_json"));
        json_t *edits = text ? json_loads(text, 0, NULL) : NULL;
        if (json_is_array(edits)) {
            json_object_set(r, "replay_edits", edits);
        }
        json_decref(edits);
        json_object_del(r, "replay_edits_json");
    }
}

/* One line per edited field of every edit: edit at=T field=F was="old" now="new" (- for a
 * field that was absent / dropped). */
static void s_show_edits(const json_t *edits)
{
    size_t i;
    json_t *e;
    json_array_foreach(edits, i, e)
    {
        char t[32];
        const char *k;
        json_t *v;
        json_t *was = json_object_get(e, "was");
        json_object_foreach(json_object_get(e, "set"), k, v)
        {
            const json_t *old = json_object_get(was, k);
            printf("edit at=%s field=%s was=%s%s%s now=%s%s%s\n",
                   s_time(json_object_get(e, "at"), t, sizeof t), k,
                   json_is_string(old) ? "\"" : "",
                   json_is_string(old) ? json_string_value(old) : "-",
                   json_is_string(old) ? "\"" : "", json_is_string(v) ? "\"" : "",
                   json_is_string(v) ? json_string_value(v) : "-", json_is_string(v) ? "\"" : "");
        }
    }
}

/* dlq show ID: the row (its raw record parsed) into *rows_p. 0, 1 (said why), 2 (bad id). */
static int s_get_one(ho_store_t *s, const char *arg, json_t **rows_p)
{
    char *end = NULL;
    long long id = strtoll(arg, &end, 10);
    if (!end || *end || id <= 0) {
        fprintf(stderr, "handoff dlq show: \"%s\" is not a quarantine id\n", arg);
        return 2;
    }
    ho_err_t err = {0};
    json_t *args = json_pack("{sI}", "id", (json_int_t)id);
    int rc = ho_store_query(s, HO_Q_QUARANTINE_GET, args, rows_p, &err);
    json_decref(args);
    if (rc != HO_OK) {
        fprintf(stderr, "handoff dlq: %s\n", err.message);
        return 1;
    }
    if (json_array_size(*rows_p) == 0) {
        fprintf(stderr, "handoff dlq show: no quarantine row %lld\n", id);
        return 1;
    }
    json_t *r = json_array_get(*rows_p, 0);
    const char *raw = json_string_value(json_object_get(r, "raw_json"));
    json_t *parsed = raw ? json_loads(raw, 0, NULL) : NULL;
    json_object_set_new(r, "raw", parsed ? parsed : json_null());
    json_object_del(r, "raw_json");
    return 0;
}

static void s_print_rows(const json_t *rows, bool show, bool as_json)
{
    if (as_json) {
        char *text = json_dumps(show ? json_array_get(rows, 0) : rows, JSON_INDENT(2));
        printf("%s\n", text ? text : "null");
        free(text);
        return;
    }
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        s_line(r);
    }
    if (show) {
        s_show_edits(
            json_object_get(json_object_get(json_array_get(rows, 0), "raw"), "replay_edits"));
        char *text = json_dumps(json_object_get(json_array_get(rows, 0), "raw"),
                                JSON_INDENT(2) | JSON_SORT_KEYS);
        printf("raw=%s\n", text ? text : "null (erased)");
        free(text);
    }
}

/* dlq list | show ID, read-only on the store's database. The exit code. */
static int s_list_show(const ho_cli_env_t *env, const char *db, const char *show_id, bool all,
                       long long limit, bool as_json)
{
    char path[4096];
    ho_cli_env_store_db(env, db, path, sizeof path);
    ho_store_opts_t opts = {.readonly = true};
    ho_err_t err = {0};
    ho_store_t *s = ho_store_open_opts(path, &opts, &err);
    if (!s) {
        fprintf(stderr, "handoff dlq: %s\n", err.message);
        return 1;
    }
    json_t *rows = NULL;
    int rc = 0;
    if (!show_id) {
        json_t *args = json_pack("{sIsi}", "limit", (json_int_t)limit, "all", all ? 1 : 0);
        if (ho_store_query(s, HO_Q_QUARANTINE_LIST, args, &rows, &err) != HO_OK) {
            fprintf(stderr, "handoff dlq: %s\n", err.message);
            rc = 1;
        } else {
            s_list_edits(rows);
        }
        json_decref(args);
    } else {
        rc = s_get_one(s, show_id, &rows);
    }
    if (rc == 0) {
        s_print_rows(rows, show_id != NULL, as_json);
    }
    json_decref(rows);
    ho_store_destroy(&s);
    return rc;
}

int ho_cmd_dlq(int argc, char **argv)
{
    static const struct option longopts[] = {
        HO_CLI_ENV_OPTIONS,
        {"all", no_argument, NULL, 'a'},
        {"limit", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'j'},
        {"db", required_argument, NULL, 'b'},
        {"set", required_argument, NULL, 's'},
        {"unset", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    ho_cli_env_t env = {.cmd = "dlq"};
    const char *db = NULL;
    bool all = false, as_json = false;
    long long limit = 100;
    json_t *set = json_object();
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (ho_cli_env_option(&env, c, optarg)) {
            continue;
        }
        switch (c) {
        case 'a':
            all = true;
            break;
        case 'l':
            limit = atoll(optarg);
            break;
        case 'j':
            as_json = true;
            break;
        case 'b':
            db = optarg;
            break;
        case 's':
        case 'u':
            if (s_add_edit(set, optarg, c == 'u') != 0) {
                json_decref(set);
                return 2;
            }
            break;
        case 'h':
            json_decref(set);
            s_usage(stdout);
            return 0;
        default:
            ho_cli_option_hint("dlq", argc, argv, longopts);
            json_decref(set);
            s_usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        json_decref(set);
        s_usage(stderr);
        return 2;
    }
    const char *sub = argv[optind++];
    bool list = strcmp(sub, "list") == 0, show = strcmp(sub, "show") == 0,
         replay = strcmp(sub, "replay") == 0;
    if ((!list && !show && !replay) || (list && optind != argc) || (show && argc - optind != 1) ||
        (replay && optind >= argc) || limit <= 0) {
        fprintf(stderr, "handoff dlq: bad usage\n");
        s_usage(stderr);
        json_decref(set);
        return 2;
    }
    if (!replay && json_object_size(set)) {
        fprintf(stderr, "handoff dlq %s: --set and --unset go with `dlq replay ID...`\n", sub);
        json_decref(set);
        return 2;
    }
    if (ho_cli_env_open(&env) != 0) {
        json_decref(set);
        return 1;
    }
    if (replay) {
        env.cmd = "dlq replay"; /* the prefix of its messages */
    }
    int rc = replay ? s_replay(&env, argv + optind, argc - optind, set)
                    : s_list_show(&env, db, show ? argv[optind] : NULL, all, limit, as_json);
    json_decref(set);
    ho_cli_env_close(&env);
    return rc;
}
