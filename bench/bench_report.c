/* bench_report.c - time and peak RSS of the weekly workbook over a big store, next to the
 * same sheets written by Python XlsxWriter (bench/report_xlsxwriter.py) from the same data.
 *
 *     bench_report [--leads 1000000] [--activities 10000000] [--dir DIR] [--keep]
 *                  [--python /usr/bin/python3] [--script bench/report_xlsxwriter.py]
 *
 * 1. makes <dir>/handoff.db with the store's real schema (ho_store_open) and bulk-inserts
 *    leads over 16 weeks with transitions, scores, assignments, SLA breaches, outcomes and
 *    activities (seeded, so every run has the same data);
 * 2. runs each writer in a fresh child process (this program re-executed with --run, and the
 *    Python script) and reads the child's wall time, CPU time and peak RSS (wait4 rusage);
 * 3. prints both side by side. Never run by the test suite. */
#include <errno.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "handoff/report.h"
#include "handoff/store.h"

#define WEEK "2026-W47"
#define TZ "UTC"

static uint64_t s_rng = 0x9E3779B97F4A7C15ull;

static uint64_t s_next(void)
{
    /* xorshift64*: fast and seeded, so the data set is the same every run */
    s_rng ^= s_rng >> 12;
    s_rng ^= s_rng << 25;
    s_rng ^= s_rng >> 27;
    return s_rng * 2685821657736338717ull;
}

static int64_t s_range(int64_t n)
{
    return n > 0 ? (int64_t)(s_next() % (uint64_t)n) : 0;
}

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void s_check(int rc, sqlite3 *db, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "bench_report: %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

static sqlite3_stmt *s_prep(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    s_check(sqlite3_prepare_v2(db, sql, -1, &st, NULL), db, sql);
    return st;
}

static void s_step(sqlite3 *db, sqlite3_stmt *st)
{
    s_check(sqlite3_step(st), db, sqlite3_sql(st));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

#define HOUR 3600000LL
#define DAY (24 * HOUR)

static const char *const s_sources[] = {"Paid Search",     "Organic Search", "Email Marketing",
                                        "Paid Social",     "Referrals",      "Direct Traffic",
                                        "Offline Sources", "facebook"};
static const char *const s_quadrants[] = {"mql_now", "group_offering", "nurture", "never"};
static const char *const s_reasons[] = {
    "budget",    "timing",           "competitor", "unresponsive", "no_decision_maker",
    "not_a_fit", "bad_contact_data", "unspecified"};
static const char *const s_types[] = {"email_open",       "email_click",      "page_view",
                                      "webinar_attended", "content_download", "demo_request"};

typedef struct {
    const char *outcome, *to;
} s_step_t;

static void s_generate(const char *db_path, long leads, long activities)
{
    ho_err_t err;
    ho_store_t *store = ho_store_open(db_path, &err);
    if (!store) {
        fprintf(stderr, "bench_report: %s\n", err.message);
        exit(1);
    }
    ho_store_destroy(&store);
    sqlite3 *db;
    s_check(sqlite3_open(db_path, &db), db, "open");
    sqlite3_exec(db, "PRAGMA synchronous=OFF; PRAGMA cache_size=-262144; BEGIN", NULL, NULL, NULL);
    sqlite3_stmt *lead = s_prep(
        db, "INSERT INTO leads (id, email, first_name, last_name, title, company, city, country,"
            " original_source, original_campaign, stage, created_at, updated_at, score)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    sqlite3_stmt *hist = s_prep(
        db,
        "INSERT INTO stage_history (lead_id, from_stage, to_stage, at, actor) VALUES (?,?,?,?,?)");
    sqlite3_stmt *score = s_prep(
        db, "INSERT INTO scores (lead_id, event_id, at, model_version, fit, interest, score, grade,"
            " quadrant, mql, explanation_json) VALUES (?,?,?,'v1',?,?,?,?,?,?,?)");
    sqlite3_stmt *asg = s_prep(
        db, "INSERT INTO assignments (id, lead_id, event_id, rep_id, rep_name, rule, assigned_at,"
            " sla_due, accepted_at, status) VALUES (?,?,?,?,?,'territory',?,?,?,?)");
    sqlite3_stmt *breach = s_prep(
        db,
        "INSERT INTO sla_breaches (assignment_id, lead_id, rep_id, step, at) VALUES (?,?,?,?,?)");
    sqlite3_stmt *outc = s_prep(
        db, "INSERT INTO outcomes (lead_id, event_id, rep_id, outcome, reason, occurred_at, amount)"
            " VALUES (?,?,?,?,?,?,?)");
    sqlite3_stmt *act = s_prep(
        db,
        /* the stored columns of schema version 7 (text reads back as given) */
        "INSERT INTO activities (lead_id, event_key, type_key, occurred_at, path_key)"
        " VALUES (?,?,?,?,?)");
    ho_week_t w;
    ho_week_parse(WEEK, &w);
    int64_t a, b;
    ho_week_bounds(ho_week_add(w, -15), TZ, &a, &b, &err);
    int64_t first = a;
    ho_week_bounds(ho_week_add(w, 1), TZ, &a, &b, &err);
    int64_t span = b - first;
    char buf[256], buf2[128], rep[16], name[32];
    long acts_done = 0;
    int64_t asg_id = 0;
    for (long i = 1; i <= leads; i++) {
        int64_t created = first + s_range(span);
        bool mql = s_range(100) < 55;
        int sc = mql ? 60 + (int)s_range(70) : (int)s_range(60) - 5;
        snprintf(buf, sizeof buf, "lead%ld@company%ld.example", i, i % 50000);
        sqlite3_bind_int64(lead, 1, i);
        sqlite3_bind_text(lead, 2, buf, -1, SQLITE_TRANSIENT);
        snprintf(buf2, sizeof buf2, "First%ld", i % 997);
        sqlite3_bind_text(lead, 3, buf2, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(lead, 4, "Example", -1, SQLITE_STATIC);
        sqlite3_bind_text(lead, 5, i % 3 ? "Data Engineer" : "CTO", -1, SQLITE_STATIC);
        snprintf(buf2, sizeof buf2, "Company %ld", i % 50000);
        sqlite3_bind_text(lead, 6, buf2, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(lead, 7, i % 2 ? "Berlin" : "Austin", -1, SQLITE_STATIC);
        sqlite3_bind_text(lead, 8, i % 2 ? "DE" : "US", -1, SQLITE_STATIC);
        sqlite3_bind_text(lead, 9, s_sources[s_range(8)], -1, SQLITE_STATIC);
        snprintf(name, sizeof name, "Campaign %d", (int)s_range(20));
        sqlite3_bind_text(lead, 10, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(lead, 11, mql ? "MQL" : "ML", -1, SQLITE_STATIC);
        sqlite3_bind_int64(lead, 12, created);
        sqlite3_bind_int64(lead, 13, created);
        sqlite3_bind_int(lead, 14, sc);
        s_step(db, lead);
        int64_t t = created + s_range(5 * DAY);
        snprintf(buf, sizeof buf,
                 "[{\"rule\":\"title\",\"kind\":\"fit\",\"points\":%d,\"detail\":\"title\"},"
                 "{\"rule\":\"pricing\",\"kind\":\"interest\",\"points\":%d,\"detail\":\"\"}]",
                 (int)s_range(40), (int)s_range(40));
        snprintf(buf2, sizeof buf2, "s-%ld", i);
        sqlite3_bind_int64(score, 1, i);
        sqlite3_bind_text(score, 2, buf2, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(score, 3, mql ? t : created + HOUR);
        sqlite3_bind_int(score, 4, sc / 2);
        sqlite3_bind_int(score, 5, sc - sc / 2);
        sqlite3_bind_int(score, 6, sc);
        sqlite3_bind_text(score, 7, mql ? "A1" : "C3", -1, SQLITE_STATIC);
        sqlite3_bind_text(score, 8, s_quadrants[s_range(4)], -1, SQLITE_STATIC);
        sqlite3_bind_int(score, 9, mql);
        sqlite3_bind_text(score, 10, buf, -1, SQLITE_TRANSIENT);
        s_step(db, score);
        long n_act = (activities * i) / leads - acts_done;
        for (long k = 0; k < n_act; k++) {
            snprintf(buf2, sizeof buf2, "a-%ld", acts_done + k);
            sqlite3_bind_int64(act, 1, i);
            sqlite3_bind_text(act, 2, buf2, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(act, 3, s_types[s_range(6)], -1, SQLITE_STATIC);
            sqlite3_bind_int64(act, 4, created + s_range(20 * DAY));
            sqlite3_bind_text(act, 5, k % 4 ? "/blog/post" : "/pricing", -1, SQLITE_STATIC);
            s_step(db, act);
        }
        acts_done += n_act;
        if (!mql) {
            continue;
        }
        sqlite3_bind_int64(hist, 1, i);
        sqlite3_bind_text(hist, 2, "ML", -1, SQLITE_STATIC);
        sqlite3_bind_text(hist, 3, "MQL", -1, SQLITE_STATIC);
        sqlite3_bind_int64(hist, 4, t);
        sqlite3_bind_text(hist, 5, "score", -1, SQLITE_STATIC);
        s_step(db, hist);
        int r = (int)s_range(40);
        snprintf(rep, sizeof rep, "rep%02d", r);
        snprintf(name, sizeof name, "Rep Number %02d", r);
        bool accepted = s_range(100) < 70;
        int64_t acc_at = t + 5 * 60000 + s_range(30 * HOUR);
        asg_id++;
        snprintf(buf2, sizeof buf2, "as-%ld", i);
        sqlite3_bind_int64(asg, 1, asg_id);
        sqlite3_bind_int64(asg, 2, i);
        sqlite3_bind_text(asg, 3, buf2, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(asg, 4, rep, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(asg, 5, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(asg, 6, t);
        sqlite3_bind_int64(asg, 7, t + 4 * HOUR);
        if (accepted) {
            sqlite3_bind_int64(asg, 8, acc_at);
        }
        sqlite3_bind_text(asg, 9, accepted ? "accepted" : "open", -1, SQLITE_STATIC);
        s_step(db, asg);
        if (!accepted || acc_at > t + 4 * HOUR) {
            if (s_range(100) < 60) {
                sqlite3_bind_int64(breach, 1, asg_id);
                sqlite3_bind_int64(breach, 2, i);
                sqlite3_bind_text(breach, 3, rep, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(breach, 4, "remind", -1, SQLITE_STATIC);
                sqlite3_bind_int64(breach, 5, t + 4 * HOUR);
                s_step(db, breach);
            }
        }
        const char *stage = "MQL";
        int64_t at = accepted ? acc_at : t + s_range(3 * DAY);
        s_step_t path[4];
        int np = 0;
        if (!accepted) {
            if (s_range(100) < 50) {
                path[np++] = (s_step_t){"rejected", "RECYCLED"};
            }
        } else {
            path[np++] = (s_step_t){"accepted", "SAL"};
            int p = (int)s_range(100);
            if (p < 25) {
                path[np++] = (s_step_t){"lost", "LOST"};
            } else if (p < 60) {
                path[np++] = (s_step_t){"sql", "SQL"};
                if (s_range(100) < 60) {
                    path[np++] = (s_step_t){"opportunity", "OPPORTUNITY"};
                }
                int q = (int)s_range(100);
                if (q < 40) {
                    path[np++] = (s_step_t){"won", "WON"};
                } else if (q < 70) {
                    path[np++] = (s_step_t){"lost", "LOST"};
                }
            }
        }
        for (int k = 0; k < np; k++) {
            if (k > 0) {
                at += HOUR + s_range(5 * DAY);
            }
            snprintf(buf2, sizeof buf2, "o-%ld-%d", i, k);
            bool reason = !strcmp(path[k].outcome, "rejected") || !strcmp(path[k].outcome, "lost");
            sqlite3_bind_int64(outc, 1, i);
            sqlite3_bind_text(outc, 2, buf2, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(outc, 3, rep, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(outc, 4, path[k].outcome, -1, SQLITE_STATIC);
            if (reason) {
                sqlite3_bind_text(outc, 5, s_reasons[s_range(8)], -1, SQLITE_STATIC);
            }
            sqlite3_bind_int64(outc, 6, at);
            if (!strcmp(path[k].outcome, "won")) {
                sqlite3_bind_double(outc, 7, 5000.0 + (double)s_range(95000));
            }
            s_step(db, outc);
            sqlite3_bind_int64(hist, 1, i);
            sqlite3_bind_text(hist, 2, stage, -1, SQLITE_STATIC);
            sqlite3_bind_text(hist, 3, path[k].to, -1, SQLITE_STATIC);
            sqlite3_bind_int64(hist, 4, at);
            sqlite3_bind_text(hist, 5, rep, -1, SQLITE_TRANSIENT);
            s_step(db, hist);
            stage = path[k].to;
        }
        if (i % 200000 == 0) {
            fprintf(stderr, "bench_report: generated %ld leads\n", i);
        }
    }
    sqlite3_stmt *all[] = {lead, hist, score, asg, breach, outc, act};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        sqlite3_finalize(all[k]);
    }
    s_check(sqlite3_exec(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL), db,
            "commit");
    sqlite3_close(db);
}

typedef struct {
    double wall;
    double cpu; /* user + system seconds: what the writer costs, whatever else runs */
    long maxrss_kb;
    int status;
} s_run_t;

static s_run_t s_child(char *const argv[])
{
    s_run_t r = {0};
    double t0 = s_now();
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
    struct rusage ru;
    int status = 0;
    wait4(pid, &status, 0, &ru);
    r.wall = s_now() - t0;
    r.maxrss_kb = ru.ru_maxrss;
    r.cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
            (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    return r;
}

static double s_mb(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (double)st.st_size / 1e6 : 0;
}

/* --run DB OUT: the C writer alone, in this fresh process. */
static int s_run_report(const char *db, const char *out)
{
    ho_report_opts_t opts = {.db_path = db, .output = out, .timezone = TZ};
    ho_week_parse(WEEK, &opts.week);
    ho_report_result_t res;
    ho_err_t err;
    ho_report_error_t rc = ho_report_write(&opts, &res, &err);
    if (rc != HO_REPORT_OK) {
        fprintf(stderr, "bench_report: %s: %s\n", ho_report_strerror(rc), err.message);
        return 1;
    }
    printf("leads_in_week=%lld handoff_rows=%lld\n", (long long)res.leads, (long long)res.mqls);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--run")) {
        return s_run_report(argv[2], argv[3]);
    }
    long leads = 1000000, activities = 10000000;
    const char *dir = NULL, *python = "/usr/bin/python3", *script = NULL;
    bool keep = false;
    static const struct option lo[] = {
        {"leads", required_argument, NULL, 'l'},  {"activities", required_argument, NULL, 'a'},
        {"dir", required_argument, NULL, 'd'},    {"keep", no_argument, NULL, 'k'},
        {"python", required_argument, NULL, 'p'}, {"script", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'l':
            leads = atol(optarg);
            break;
        case 'a':
            activities = atol(optarg);
            break;
        case 'd':
            dir = optarg;
            break;
        case 'k':
            keep = true;
            break;
        case 'p':
            python = optarg;
            break;
        case 's':
            script = optarg;
            break;
        case 'h':
            printf("usage: bench_report [--leads N] [--activities N] [--dir DIR] [--keep]\n"
                   "                    [--python PATH] [--script report_xlsxwriter.py]\n");
            return 0;
        default:
            return 2;
        }
    }
    char tmpl[] = "/tmp/ho-bench-report-XXXXXX";
    if (!dir) {
        dir = mkdtemp(tmpl); /* ours: removed at the end unless --keep */
    } else {
        keep = true; /* a folder given by the user is never removed (re-runs reuse its db) */
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "bench_report: --dir %s: %s\n", dir, strerror(errno));
            return 1;
        }
    }
    if (!dir) {
        perror("mkdtemp");
        return 1;
    }
    char db[4096], out_c[4096], out_py[4096], script_buf[4096];
    snprintf(db, sizeof db, "%.4000s/handoff.db", dir);
    snprintf(out_c, sizeof out_c, "%.4000s/report-c.xlsx", dir);
    snprintf(out_py, sizeof out_py, "%.4000s/report-py.xlsx", dir);
    if (!script) {
        snprintf(script_buf, sizeof script_buf, "%s/bench/report_xlsxwriter.py", HO_SOURCE_DIR);
        script = script_buf;
    }
    struct stat st;
    double gen = 0;
    if (stat(db, &st) != 0) {
        /* Generate in a child: the parent must stay small, since a child's peak RSS
         * (ru_maxrss) includes what it inherited up to exec. */
        double t0 = s_now();
        pid_t pid = fork();
        if (pid == 0) {
            s_generate(db, leads, activities);
            _exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "bench_report: generating the database failed\n");
            return 1;
        }
        gen = s_now() - t0;
    } else {
        /* An existing store is opened by the store once (in a child, as above): a store of an
         * older schema migrates, which builds its roll-ups from history (schema 8). */
        double t0 = s_now();
        pid_t pid = fork();
        if (pid == 0) {
            ho_err_t err;
            ho_store_t *store = ho_store_open(db, &err);
            if (!store) {
                fprintf(stderr, "bench_report: %s\n", err.message);
                _exit(1);
            }
            ho_store_destroy(&store);
            _exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "bench_report: opening (migrating) the database failed\n");
            return 1;
        }
        printf("bench_report: opened (migrated) in %.1fs\n", s_now() - t0);
    }
    printf("bench_report: leads=%ld activities=%ld db=%s (%.0f MB) generated_in=%.1fs week=%s\n",
           leads, activities, db, s_mb(db), gen, WEEK);
    fflush(stdout);
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        return 1;
    }
    self[n] = '\0';
    char *cargv[] = {self, "--run", db, out_c, NULL};
    s_run_t rc_c = s_child(cargv);
    char *pargv[] = {(char *)python, (char *)script, db, out_py, WEEK, TZ, NULL};
    s_run_t rc_py = s_child(pargv);
    printf("%-28s %10s %10s %14s %10s %7s\n", "writer", "wall_s", "cpu_s", "peak_rss_MB", "xlsx_MB",
           "exit");
    printf("%-28s %10.2f %10.2f %14.1f %10.1f %7d\n", "handoff (C, libxlsxwriter)", rc_c.wall,
           rc_c.cpu, (double)rc_c.maxrss_kb / 1024.0, s_mb(out_c), rc_c.status);
    printf("%-28s %10.2f %10.2f %14.1f %10.1f %7d\n", "Python XlsxWriter", rc_py.wall, rc_py.cpu,
           (double)rc_py.maxrss_kb / 1024.0, s_mb(out_py), rc_py.status);
    if (!keep) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%.4000s'", dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "bench_report: could not remove %s\n", dir);
        }
    }
    return rc_c.status || rc_py.status;
}
