/* packets.c - the packet files the outbox worker writes: <dir>/<rep>/<lead>-<event>.json. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "handoff/outbox.h"

static int s_newest_first(const void *a, const void *b)
{
    const ho_outbox_packet_t *x = a, *y = b;
    return x->mtime < y->mtime ? 1 : x->mtime > y->mtime ? -1 : strcmp(x->path, y->path);
}

/* One <sub>/<name>.json into the list (stat for its time), or only counted when out is NULL. */
static size_t s_add(const char *sub, const char *rep, const char *name, size_t n, size_t *cap,
                    ho_outbox_packet_t **out)
{
    if (!out) {
        return n + 1;
    }
    if (n == *cap) {
        size_t grow = *cap ? *cap * 2 : 64;
        ho_outbox_packet_t *grown = realloc(*out, grow * sizeof **out);
        if (!grown) {
            return n;
        }
        *out = grown;
        *cap = grow;
    }
    ho_outbox_packet_t *p = &(*out)[n];
    struct stat st;
    if (snprintf(p->path, sizeof p->path, "%s/%s", sub, name) >= (int)sizeof p->path ||
        stat(p->path, &st) != 0) {
        return n;
    }
    snprintf(p->rep, sizeof p->rep, "%s", rep);
    p->mtime = st.st_mtime;
    return n + 1;
}

size_t ho_outbox_packets(const char *dir, ho_outbox_packet_t **out, size_t *reps)
{
    size_t n = 0, cap = 0, n_reps = 0;
    if (out) {
        *out = NULL;
    }
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char sub[PATH_MAX];
        if (e->d_name[0] == '.' ||
            snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name) >= (int)sizeof sub) {
            continue;
        }
        DIR *rd = opendir(sub);
        struct dirent *f;
        size_t before = n;
        while (rd && (f = readdir(rd))) {
            size_t len = strlen(f->d_name);
            if (len < 6 || strcmp(f->d_name + len - 5, ".json") != 0) {
                continue;
            }
            n = s_add(sub, e->d_name, f->d_name, n, &cap, out);
        }
        n_reps += n > before && e->d_name[0] != '_'; /* _reports: report.ready, not a rep */
        if (rd) {
            closedir(rd);
        }
    }
    if (d) {
        closedir(d);
    }
    if (out && n) {
        qsort(*out, n, sizeof **out, s_newest_first);
    }
    if (reps) {
        *reps = n_reps;
    }
    return n;
}
