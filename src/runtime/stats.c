/* stats.c - per-worker handler metrics written to the data dir (runtime_int.h). A file, not
 * heartbeat frames: stock Majordomo workers and the broker stay as they are, and a write per
 * heartbeat at most costs nothing next to a handler call. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "handoff/log.h"
#include "runtime/runtime_int.h"

/* upper bounds in seconds; a call slower than the last is only in the +Inf count */
static const double s_bounds[HO_RUNTIME_STATS_BUCKETS] = {0.0005, 0.001, 0.005, 0.01, 0.05,
                                                          0.1,    0.5,   1.0,   5.0,  30.0};

int64_t ho_runtime_stats_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void ho_runtime_stats_open(ho_runtime_stats_t *st, const char *data_dir, const char *service,
                           const char *origin)
{
    memset(st, 0, sizeof *st);
    snprintf(st->service, sizeof st->service, "%s", service ? service : "");
    snprintf(st->origin, sizeof st->origin, "%s", origin ? origin : "");
    if (!data_dir || !*data_dir) {
        return;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%.4000s/stats", data_dir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        ho_warn("no handler metrics: cannot create %s: %s", dir, strerror(errno));
        return;
    }
    /* origin = name@host:pid; keep the file name to safe characters */
    char name[256];
    size_t k = 0;
    for (const char *p = st->origin; *p && k + 1 < sizeof name; p++) {
        char c = *p;
        name[k++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '_' || c == '@' || c == '.'
                        ? c
                        : '_';
    }
    name[k] = '\0';
    snprintf(st->path, sizeof st->path, "%.4000s/%.80s.json", dir, name);
    st->dirty = true;
    ho_runtime_stats_flush(st, 0, true);
}

void ho_runtime_stats_call(ho_runtime_stats_t *st, bool ok, int64_t micros)
{
    double s = (double)micros / 1e6;
    if (ok) {
        st->handled++;
    } else {
        st->errors++;
    }
    st->sum_s += s;
    for (size_t k = 0; k < HO_RUNTIME_STATS_BUCKETS; k++) {
        if (s <= s_bounds[k]) {
            st->buckets[k]++;
            break;
        }
    }
    st->dirty = true;
}

static void s_write(ho_runtime_stats_t *st, int64_t now)
{
    json_t *le = json_array(), *counts = json_array();
    for (size_t k = 0; k < HO_RUNTIME_STATS_BUCKETS; k++) {
        json_array_append_new(le, json_real(s_bounds[k]));
        json_array_append_new(counts, json_integer((json_int_t)st->buckets[k]));
    }
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:f, s:o, s:o}", "service", st->service,
                          "origin", st->origin, "updated_ms", (json_int_t)now, "handled",
                          (json_int_t)st->handled, "errors", (json_int_t)st->errors, "sum_seconds",
                          st->sum_s, "le", le, "counts", counts);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", st->path);
    /* write then rename: a reader sees the old file or the new one, never half of one */
    if (!o || json_dump_file(o, tmp, JSON_COMPACT) != 0 || rename(tmp, st->path) != 0) {
        ho_debug("handler metrics: cannot write %s", st->path);
        unlink(tmp);
    }
    json_decref(o);
}

void ho_runtime_stats_flush(ho_runtime_stats_t *st, int min_ms, bool force)
{
    if (!st->path[0]) {
        return;
    }
    int64_t now = ho_now_ms();
    int64_t since = now - st->written_at;
    if (force || (st->dirty && since >= min_ms) || since >= 30000) {
        s_write(st, now);
        st->written_at = now;
        st->dirty = false;
    }
}

void ho_runtime_stats_close(ho_runtime_stats_t *st)
{
    if (st->path[0]) {
        unlink(st->path);
        st->path[0] = '\0';
    }
}
