/* profile_dates.c - a profile's current date formats, for a date a record's own formats do
 * not read (connector.h: ho_profile_dates_*). A record carries the date_formats its profile
 * had when it was imported; a record refused for its date and replayed later (`handoff dlq
 * replay`) should be read with what the profile lists now. Profiles are loaded by name from
 * the config folder (else the built-in copy) and kept per name with the stat of their file,
 * so an edited, added or removed file is re-read on the next miss, without a restart. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "handoff/connector.h"
#include "handoff/log.h"
#include "handoff/normalize.h"

#define S_MAX 16 /* profiles kept */

typedef struct {
    char name[64];
    bool found;      /* the profile exists and was read */
    char **formats;  /* NULL-terminated */
    struct stat st;  /* of <config>/profiles/<name>.yaml; all 0 = no such file */
    char label[200]; /* "\"%d.%m.%Y\", ..." for reasons */
} s_entry_t;

struct ho_profile_dates {
    char *config_dir; /* NULL: built-in profiles only */
    s_entry_t entries[S_MAX];
    size_t n;
};

ho_profile_dates_t *ho_profile_dates_new(const char *config_dir)
{
    ho_profile_dates_t *self = calloc(1, sizeof *self);
    if (self && config_dir && !(self->config_dir = strdup(config_dir))) {
        free(self);
        self = NULL;
    }
    return self;
}

static void s_entry_clear(s_entry_t *e)
{
    for (size_t i = 0; e->formats && e->formats[i]; i++) {
        free(e->formats[i]);
    }
    free(e->formats);
    e->formats = NULL;
    e->found = false;
    e->label[0] = '\0';
}

void ho_profile_dates_destroy(ho_profile_dates_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_profile_dates_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++) {
        s_entry_clear(&self->entries[i]);
    }
    free(self->config_dir);
    free(self);
    *self_p = NULL;
}

static bool s_same_file(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The payload's profile name (profile, else source) if it can be one: no path in it. */
static const char *s_name(const json_t *payload)
{
    const char *name = json_string_value(json_object_get(payload, "profile"));
    if (!name || !name[0]) {
        name = json_string_value(json_object_get(payload, "source"));
    }
    if (!name || !name[0] || name[0] == '.' || strlen(name) >= sizeof((s_entry_t *)0)->name) {
        return NULL;
    }
    for (const char *c = name; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '-' || *c == '.')) {
            return NULL;
        }
    }
    return name;
}

static void s_load(const ho_profile_dates_t *self, s_entry_t *e)
{
    ho_err_t err = {0};
    ho_profile_t *prof = ho_profile_load(self->config_dir, e->name, &err);
    if (!prof) {
        ho_debug("profile %s for a date: %s", e->name, err.message);
        return;
    }
    const char *const *f = ho_profile_date_formats(prof);
    size_t n = 0;
    while (f && f[n]) {
        n++;
    }
    e->formats = calloc(n + 1, sizeof *e->formats);
    size_t len = 0;
    bool ok = e->formats != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        ok = (e->formats[i] = strdup(f[i])) != NULL;
        int w = snprintf(e->label + len, sizeof e->label - len, "%s\"%s\"", i ? ", " : "", f[i]);
        len = w > 0 && (size_t)w < sizeof e->label - len ? len + (size_t)w : len;
    }
    ho_profile_destroy(&prof);
    if (!ok) {
        s_entry_clear(e);
        return;
    }
    e->found = true;
    ho_debug("profile %s: date_formats now [%s]", e->name, e->label);
}

/* The entry of the payload's profile, current with its file; NULL: no such profile. */
static const s_entry_t *s_current(ho_profile_dates_t *self, const json_t *payload)
{
    const char *name = s_name(payload);
    if (!name) {
        return NULL;
    }
    struct stat st;
    memset(&st, 0, sizeof st);
    if (self->config_dir) {
        char path[4400];
        snprintf(path, sizeof path, "%.4000s/profiles/%s.yaml", self->config_dir, name);
        if (stat(path, &st) != 0) {
            memset(&st, 0, sizeof st);
        }
    }
    s_entry_t *e = NULL;
    for (size_t i = 0; i < self->n && !e; i++) {
        e = strcmp(self->entries[i].name, name) == 0 ? &self->entries[i] : NULL;
    }
    if (e && s_same_file(&e->st, &st)) {
        return e->found ? e : NULL;
    }
    if (!e) {
        if (self->n == S_MAX) {
            s_entry_clear(&self->entries[--self->n]); /* the last one makes room */
        }
        e = &self->entries[self->n++];
        memset(e, 0, sizeof *e);
        snprintf(e->name, sizeof e->name, "%s", name);
    }
    s_entry_clear(e);
    e->st = st;
    s_load(self, e);
    return e->found ? e : NULL;
}

const char *const *ho_profile_payload_formats(const json_t *payload, const char **buf, size_t cap)
{
    const json_t *arr = json_object_get(payload, "date_formats");
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(arr) && n + 1 < cap; i++) {
        const char *f = json_string_value(json_array_get(arr, i));
        if (f) {
            buf[n++] = f;
        }
    }
    buf[n] = NULL;
    return buf;
}

int ho_profile_dates_parse(ho_profile_dates_t *self, const json_t *payload, const char *raw,
                           int64_t *ms, char *tried, size_t cap)
{
    if (tried && cap) {
        tried[0] = '\0';
    }
    const char *buf[16];
    if (ho_norm_date(raw, ho_profile_payload_formats(payload, buf, 16), ms) == 0) {
        return 0;
    }
    const s_entry_t *e = self ? s_current(self, payload) : NULL;
    if (!e) {
        return -1;
    }
    if (e->formats[0] && ho_norm_date(raw, (const char *const *)e->formats, ms) == 0) {
        return 0;
    }
    if (tried && cap) {
        snprintf(tried, cap, "the date_formats of profile %s [%s]", e->name, e->label);
    }
    return -1;
}
