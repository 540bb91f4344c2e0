/* forget_cmd.c - `handoff forget EMAIL`: erase a person's personal data everywhere handoff
 * writes it, and print what it did:
 *   handoff.db     the store (its only writer) erases the person on lead.forget, through the
 *                  broker; then this command VACUUMs the file and truncates its WAL, so no
 *                  older copy of the rows stays in free pages or the WAL;
 *   router.db      the route decisions naming the person (ho_route_state_forget);
 *   outbox         the packet files of the lead (deleted) and the bodies of its webhook
 *                  deliveries in outbox.db (ho_outbox_forget);
 *   broker.journal compacted the same way when no broker holds it (a running broker keeps it
 *                  locked: said so, `status=busy`);
 *   workbooks      the .xlsx files in <data_dir>/reports are scanned (not rewritten): the ones that
 * name the person are listed, to be regenerated or deleted by the operator. The person's name and
 * phone are read (read-only) from handoff.db before the erasure, and looked for in the packet files
 * and workbooks along with the email. */
#include <dirent.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "handoff/cli.h"
#include "handoff/client.h"
#include "handoff/conf.h"
#include "handoff/gateway.h"
#include "handoff/outbox.h"
#include "handoff/reader.h"
#include "handoff/routing.h"

/* The client library may be left out of a build; then the command says so. */
/* ---- what identifies the person: email, "first last", phone ---- */
typedef struct {
    char *v[3];
    size_t n;
} s_needles_t;

static void s_needle_add(s_needles_t *nd, const char *v)
{
    if (v && strlen(v) >= 5 && nd->n < sizeof nd->v / sizeof nd->v[0]) {
        nd->v[nd->n] = strdup(v);
        nd->n += nd->v[nd->n] != NULL;
    }
}

static void s_needles_free(s_needles_t *nd)
{
    for (size_t i = 0; i < nd->n; i++) {
        free(nd->v[i]);
    }
    nd->n = 0;
}

/* The lead's name and phone, read before the store erases them (read-only; none if the
 * store has no such lead). */
static void s_needles_load(const char *data_dir, const char *email, s_needles_t *nd)
{
    s_needle_add(nd, email);
    char path[4096];
    snprintf(path, sizeof path, "%s/handoff.db", data_dir);
    ho_reader_t *r = ho_reader_open(path, 5000, NULL);
    sqlite3_stmt *st = NULL;
    if (r && ho_reader_stmt(r, HO_RQ_FORGET_NEEDLES, &st, NULL) == HO_OK) {
        sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            const char *first = (const char *)sqlite3_column_text(st, 0);
            const char *last = (const char *)sqlite3_column_text(st, 1);
            char name[512];
            if (first && last) {
                snprintf(name, sizeof name, "%s %s", first, last);
                s_needle_add(nd, name);
            }
            s_needle_add(nd, (const char *)sqlite3_column_text(st, 2));
        }
    }
    ho_reader_destroy(&r);
}

static bool s_names(const char *hay, size_t len, const s_needles_t *nd)
{
    for (size_t i = 0; i < nd->n; i++) {
        size_t k = strlen(nd->v[i]);
        for (size_t j = 0; k && j + k <= len; j++) {
            if (strncasecmp(hay + j, nd->v[i], k) == 0) {
                return true;
            }
        }
    }
    return false;
}

static char *s_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = '\0';
        *len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    if (f) {
        fclose(f);
    }
    return buf;
}

/* ---- the outbox's packet files: <dir>/<rep or queue>/<lead>-<event>.json ---- */
static int s_forget_packets(const char *dir, long long lead_id, const s_needles_t *nd)
{
    int removed = 0;
    DIR *top = opendir(dir);
    struct dirent *d;
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%lld-", lead_id);
    while (top && (d = readdir(top)) != NULL) {
        char sub[4096];
        if (d->d_name[0] == '.' || snprintf(sub, sizeof sub, "%s/%s", dir, d->d_name) >= 4096) {
            continue;
        }
        DIR *in = opendir(sub);
        struct dirent *f;
        while (in && (f = readdir(in)) != NULL) {
            char path[8192];
            size_t nlen = strlen(f->d_name);
            if (nlen < 6 || strcmp(f->d_name + nlen - 5, ".json") != 0) {
                continue;
            }
            snprintf(path, sizeof path, "%s/%s", sub, f->d_name);
            bool mine = lead_id > 0 && strncmp(f->d_name, prefix, strlen(prefix)) == 0;
            size_t len = 0;
            char *body = mine ? NULL : s_slurp(path, &len);
            if ((mine || (body && s_names(body, len, nd))) && unlink(path) == 0) {
                removed++;
            }
            free(body);
        }
        if (in) {
            closedir(in);
        }
    }
    if (top) {
        closedir(top);
    }
    return removed;
}

/* ---- workbooks: an .xlsx is a zip of XML parts; the cells' text is in them ---- */
static unsigned s_u16(const unsigned char *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static unsigned long s_u32(const unsigned char *p)
{
    return (unsigned long)s_u16(p) | (unsigned long)s_u16(p + 2) << 16;
}

/* One zip member (stored or deflated) inflated into a new buffer, or NULL. */
static char *s_zip_member(const unsigned char *z, size_t zlen, const unsigned char *cd,
                          size_t *out_len)
{
    unsigned method = s_u16(cd + 10);
    unsigned long csize = s_u32(cd + 20), usize = s_u32(cd + 24), off = s_u32(cd + 42);
    if (off + 30 > zlen || s_u32(z + off) != 0x04034b50UL || usize > (64UL << 20)) {
        return NULL;
    }
    size_t data = off + 30 + s_u16(z + off + 26) + s_u16(z + off + 28);
    if (data + csize > zlen || (method != 0 && method != 8)) {
        return NULL;
    }
    char *out = malloc(usize + 1);
    if (!out) {
        return NULL;
    }
    if (method == 0) {
        memcpy(out, z + data, csize < usize ? csize : usize);
    } else {
        z_stream zs = {0};
        zs.next_in = (unsigned char *)(uintptr_t)(z + data);
        zs.avail_in = (uInt)csize;
        zs.next_out = (unsigned char *)out;
        zs.avail_out = (uInt)usize;
        int ok = inflateInit2(&zs, -MAX_WBITS) == Z_OK && inflate(&zs, Z_FINISH) == Z_STREAM_END;
        inflateEnd(&zs);
        if (!ok) {
            free(out);
            return NULL;
        }
    }
    out[usize] = '\0';
    *out_len = usize;
    return out;
}

/* 1 when a member of the workbook names the person, 0 when none does, -1 unreadable. */
static int s_workbook_names(const char *path, const s_needles_t *nd)
{
    size_t zlen = 0;
    unsigned char *z = (unsigned char *)s_slurp(path, &zlen);
    if (!z || zlen < 22) {
        free(z);
        return -1;
    }
    size_t eocd = zlen - 22;
    while (eocd > 0 && s_u32(z + eocd) != 0x06054b50UL) {
        eocd--;
    }
    int found = -1;
    if (s_u32(z + eocd) == 0x06054b50UL) {
        unsigned n = s_u16(z + eocd + 10);
        size_t at = s_u32(z + eocd + 16);
        found = 0;
        for (unsigned i = 0; i < n && !found && at + 46 <= zlen && s_u32(z + at) == 0x02014b50UL;
             i++) {
            size_t len = 0;
            char *text = s_zip_member(z, zlen, z + at, &len);
            found = text && s_names(text, len, nd);
            free(text);
            at += 46 + s_u16(z + at + 28) + s_u16(z + at + 30) + s_u16(z + at + 32);
        }
    }
    free(z);
    return found;
}

static void s_scan_workbooks(const char *dir, const s_needles_t *nd)
{
    int scanned = 0, naming = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        char path[4096];
        if (n < 6 || strcmp(e->d_name + n - 5, ".xlsx") != 0 ||
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) {
            continue;
        }
        scanned++;
        int r = s_workbook_names(path, nd);
        if (r != 0) {
            naming += r > 0;
            printf("forget workbook=%s %s\n", path,
                   r > 0 ? "names_person=1" : "names_person=unknown (not a readable .xlsx)");
        }
    }
    if (d) {
        closedir(d);
    }
    printf("forget workbooks scanned=%d naming_person=%d%s\n", scanned, naming,
           naming ? " (regenerate or delete them: handoff report --week W)" : "");
}

/* ---- SQLite files written by other processes ---- */

/* VACUUM (no free page keeps an old copy of a row) and truncate the WAL. busy_ms 0: give up
 * at once if another process holds the file (the broker's journal is locked exclusively).
 * Returns SQLITE_OK, SQLITE_BUSY, or another code. */
static int s_compact(const char *path, int busy_ms, long long *pending_naming, const char *email)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    sqlite3_busy_timeout(db, busy_ms);
    if (rc == SQLITE_OK && pending_naming) {
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM pending WHERE instr(body, ?1) > 0", -1,
                                &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_blob(st, 1, email, (int)strlen(email), SQLITE_STATIC);
            rc = sqlite3_step(st) == SQLITE_ROW ? SQLITE_OK : sqlite3_errcode(db);
            *pending_naming = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(db, "VACUUM", NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    }
    sqlite3_close(db);
    return rc & 0xff;
}

/* Everything after the store's erasure; 0 when every place was cleaned. */
static int s_forget_files(const ho_gateway_t *gw, const char *data_dir, long long lead_id,
                          const char *email, const s_needles_t *nd)
{
    int bad = 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/handoff.db", data_dir);
    int rc = access(path, F_OK) == 0 ? s_compact(path, 10000, NULL, NULL) : SQLITE_OK;
    printf("forget file=%s compacted=%d\n", path, rc == SQLITE_OK);
    bad |= rc != SQLITE_OK;

    ho_err_t err = {0};
    int n = 0;
    snprintf(path, sizeof path, "%s/router.db", data_dir);
    if (access(path, F_OK) == 0) {
        rc = ho_route_state_forget(path, lead_id, email, &n, &err);
        printf("forget file=%s decisions=%d%s%s\n", path, n, rc ? " error=" : "",
               rc ? err.message : "");
        bad |= rc != HO_OK;
    }

    const ho_conf_t *conf = ho_gateway_conf(gw);
    const char *dir = "outbox";
    if (conf) {
        (void)ho_conf_str(conf, ho_gateway_worker_settings(gw, "outbox"), "dir", "outbox", &dir,
                          NULL);
    }
    char outdir[4096];
    snprintf(outdir, sizeof outdir, "%s%s%s", dir[0] == '/' ? "" : data_dir,
             dir[0] == '/' ? "" : "/", dir);
    int packets = s_forget_packets(outdir, lead_id, nd);
    rc = ho_outbox_forget(data_dir, lead_id, email, &n, &err);
    printf("forget file=%s/outbox.db deliveries=%d packets=%d%s%s\n", data_dir, n, packets,
           rc ? " error=" : "", rc ? err.message : "");
    bad |= rc != HO_OK;

    const char *journal = ho_gateway_journal(gw);
    if (journal && journal[0]) {
        snprintf(path, sizeof path, "%s%s%s", journal[0] == '/' ? "" : data_dir,
                 journal[0] == '/' ? "" : "/", journal);
        long long pending = 0;
        rc = access(path, F_OK) == 0 ? s_compact(path, 0, &pending, email) : -1;
        printf("forget file=%s status=%s pending_naming_person=%lld\n", path,
               rc == -1            ? "absent"
               : rc == SQLITE_OK   ? "compacted"
               : rc == SQLITE_BUSY ? "busy hint=\"held by the running broker: once it is "
                                     "stopped, handoff forget EMAIL --files-only\""
                                   : "error",
               pending);
        bad |= rc != SQLITE_OK && rc != -1 && rc != SQLITE_BUSY; /* busy: said, with the hint */
    }
    snprintf(path, sizeof path, "%s/reports", data_dir);
    s_scan_workbooks(path, nd);
    return bad;
}

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: handoff forget EMAIL [--connect ENDPOINT] [-c CONFIG] [--timeout MS]\n"
            "                      [--data-dir DIR] [--files-only]\n"
            "\n"
            "Erase a person's personal data everywhere handoff writes it, keeping anonymous\n"
            "rows so reports keep their counts: the store (profile, activity URLs, outcome\n"
            "notes, quarantined payloads; lead.forget via the broker), router.db's decisions,\n"
            "the outbox's packet files and outbox.db, the broker journal when no broker\n"
            "holds it; each SQLite file is VACUUMed and its WAL truncated so no old copy\n"
            "stays. Workbooks in <data-dir>/reports that name the person are listed (not\n"
            "rewritten). Exit 0 when every place was cleaned.\n"
            "\n"
            "  --connect EP    broker endpoint (default: broker.endpoint of the config)\n"
            "  -c, --config F  gateway config (handoff.yaml)\n"
            "  --timeout MS    how long to wait for the store (default 10000)\n"
            "  --data-dir DIR  the data folder (default: data_dir of the config)\n"
            "  --files-only    skip the store (no broker needed): clean the files only,\n"
            "                  e.g. the broker journal once the broker is stopped\n"
            "\n"
            "Prints: forgotten email=... found=1 lead_id=N, then one line per place:\n"
            "  forget file=handoff.db compacted=1\n"
            "  forget file=router.db decisions=N\n"
            "  forget file=outbox.db deliveries=N packets=N\n"
            "  forget file=broker.journal status=compacted|busy|absent\n"
            "  forget workbook=PATH names_person=1   (each workbook that does; not rewritten)\n"
            "  forget workbooks scanned=N naming_person=N\n");
}

int ho_cmd_forget(int argc, char **argv)
{
    static const struct option longopts[] = {
        HO_CLI_ENV_OPTIONS,
        {"timeout", required_argument, NULL, 't'},
        {"files-only", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    ho_cli_env_t env = {.cmd = "forget"};
    int timeout = 10000;
    bool files_only = false;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (ho_cli_env_option(&env, c, optarg)) {
            continue;
        }
        switch (c) {
        case 't':
            timeout = atoi(optarg);
            break;
        case 'f':
            files_only = true;
            break;
        case 'h':
            s_usage(stdout);
            return 0;
        default:
            s_usage(stderr);
            return 2;
        }
    }
    if (argc - optind != 1 || !strchr(argv[optind], '@') || timeout <= 0) {
        fprintf(stderr, "handoff forget: expected one EMAIL (and a positive --timeout)\n");
        s_usage(stderr);
        return 2;
    }
    ho_err_t err = {0};
    if (ho_cli_env_open(&env) != 0) {
        return 1;
    }
    ho_gateway_t *gw = env.gw;
    const char *data_dir = ho_gateway_data_dir(gw);
    s_needles_t nd = {0};
    s_needles_load(data_dir, argv[optind], &nd);
    long long lead_id = 0;
    int rc = 1;
    ho_msg_t *msg = NULL, **reply = NULL;
    size_t n = 0;
    ho_client_t *client = NULL;
    if (files_only) { /* the store was done before, or is stopped: the files only */
        rc = s_forget_files(gw, data_dir, 0, argv[optind], &nd);
        goto done;
    }
    const char *ep = ho_gateway_endpoint(gw);
    /* a down broker or store fails in 3 s with a hint, not after the request's retries */
    if (ho_cli_broker_check("forget", ep, gw, "store", timeout < 3000 ? timeout : 3000) != 0) {
        goto done;
    }
    client = ho_cli_env_client(&env, 1, timeout, 2);
    if (!client) {
        goto done;
    }
    msg = ho_msg_new("lead.forget");
    json_object_set_new(ho_msg_payload(msg), "email", json_string(argv[optind]));
    if (ho_client_request(client, "store", &msg, 1, &reply, &n, &err) != HO_OK) {
        fprintf(stderr, "handoff forget: %s\n", err.message);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *p = ho_msg_payload(reply[i]);
        if (strcmp(ho_msg_type(reply[i]), "lead.forgotten") == 0) {
            json_t *id = json_object_get(p, "lead_id");
            lead_id = json_is_integer(id) ? (long long)json_integer_value(id) : 0LL;
            printf("forgotten email=%s found=%d lead_id=%lld\n", argv[optind],
                   json_is_true(json_object_get(p, "found")), lead_id);
            rc = 0;
        } else if (strcmp(ho_msg_type(reply[i]), "error") == 0) {
            const char *m = json_string_value(json_object_get(p, "message"));
            fprintf(stderr, "handoff forget: the store refused: %s\n", m ? m : "(no message)");
        } else if (strcmp(ho_msg_type(reply[i]), "quarantine") == 0 ||
                   strcmp(ho_msg_type(reply[i]), "lead.forget") == 0) {
            continue;
        }
    }
    if (rc != 0 && n == 0) {
        fprintf(stderr, "handoff forget: the store did not confirm (was the email valid? see "
                        "`handoff dlq list`)\n");
    }
    if (rc == 0) {
        fflush(stdout);
        rc = s_forget_files(gw, data_dir, lead_id, argv[optind], &nd);
    }
done:
    s_needles_free(&nd);
    ho_msg_batch_free(&reply, n);
    ho_msg_destroy(&msg);
    if (client) {
        ho_client_destroy(&client);
    }
    ho_cli_env_close(&env);
    return rc;
}
