/* registry.c - the table of import connectors and what they share; see connector.h
 *
 * Each connector lives in its own folder under src/connectors/ and exports one descriptor.
 * Declared weak here, a connector left out of a build is simply absent from the table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/connector.h"
#include "handoff/csvio.h"

#define HO_DECLARE(name) extern const ho_connector_def_t name __attribute__((weak))

HO_DECLARE(ho_connector_csv);
HO_DECLARE(ho_connector_jsonl);
HO_DECLARE(ho_connector_forms);

static const ho_connector_def_t *const *s_table(size_t *n)
{
    static const ho_connector_def_t *table[] = {&ho_connector_csv, &ho_connector_jsonl,
                                                &ho_connector_forms};
    *n = sizeof table / sizeof table[0];
    return table;
}

const ho_connector_def_t *ho_connector_at(size_t i)
{
    size_t n, seen = 0;
    const ho_connector_def_t *const *table = s_table(&n);
    for (size_t k = 0; k < n; k++) {
        if (table[k] && table[k]->name && seen++ == i) {
            return table[k];
        }
    }
    return NULL;
}

const ho_connector_def_t *ho_connector_find(const char *name)
{
    const ho_connector_def_t *def;
    for (size_t i = 0; (def = ho_connector_at(i)) != NULL; i++) {
        if (strcmp(def->name, name) == 0) {
            return def;
        }
    }
    return NULL;
}

const char *ho_connector_raw_type(ho_kind_t kind)
{
    return kind == HO_KIND_LEAD       ? "lead.raw"
           : kind == HO_KIND_ACTIVITY ? "activity.raw"
                                      : "feedback.raw";
}

void ho_connector_cols_free(char ***cols_p, size_t n)
{
    if (!cols_p || !*cols_p) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        free((*cols_p)[i]);
    }
    free(*cols_p);
    *cols_p = NULL;
}

int ho_connector_sniff(const char *path, char *format, size_t cap, char ***cols_p, size_t *n_p,
                       ho_err_t *err)
{
    *cols_p = NULL;
    *n_p = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        return ho_err_set(err, HO_ERR_IO, "", "%s: cannot open", path);
    }
    char head[4];
    size_t got = fread(head, 1, sizeof head, f);
    size_t skip = got >= 3 && memcmp(head, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    fseek(f, (long)skip, SEEK_SET);
    int c;
    while ((c = fgetc(f)) == ' ' || c == '\t' || c == '\r' || c == '\n') {
    }
    if (c == '{') {
        snprintf(format, cap, "jsonl");
        ungetc(c, f);
        char *line = NULL;
        size_t lcap = 0;
        ssize_t len = getline(&line, &lcap, f);
        fclose(f);
        json_t *doc = len > 0 ? json_loadb(line, (size_t)len, 0, NULL) : NULL;
        free(line);
        if (json_is_object(doc)) {
            size_t n = json_object_size(doc), i = 0;
            char **cols = calloc(n ? n : 1, sizeof *cols);
            const char *key;
            json_t *val;
            json_object_foreach(doc, key, val)
            {
                if (cols && i < n) {
                    cols[i++] = strdup(key);
                }
            }
            *cols_p = cols;
            *n_p = i;
        }
        json_decref(doc);
        return HO_OK;
    }
    fclose(f);
    snprintf(format, cap, "csv");
    ho_csv_t *csv = ho_csv_open(path, NULL, err);
    if (!csv) {
        return err ? err->code : HO_ERR_IO;
    }
    const ho_csv_row_t *row;
    int rc = ho_csv_next(csv, &row, err);
    if (rc == 1) {
        char **cols = calloc(row->n ? row->n : 1, sizeof *cols);
        for (size_t i = 0; cols && i < row->n; i++) {
            cols[i] = strdup(row->fields[i]);
        }
        *cols_p = cols;
        *n_p = cols ? row->n : 0;
        rc = HO_OK;
    } else if (rc == 0) {
        rc = HO_OK;
    }
    ho_csv_destroy(&csv);
    return rc;
}

static json_t *s_source_ref(const char *file, long line)
{
    return json_pack("{s:s, s:I}", "file", file, "line", (json_int_t)line);
}

ho_msg_t *ho_connector_record(const ho_profile_t *profile, const char *file, long line,
                              json_t *fields, json_t *extra, const void *rec_bytes, size_t rec_len)
{
    ho_kind_t kind = ho_profile_kind(profile);
    ho_msg_t *msg = ho_msg_new(ho_connector_raw_type(kind));
    if (!msg) {
        json_decref(fields);
        json_decref(extra);
        return NULL;
    }
    /* Same record, same id: re-importing a file changes nothing downstream. */
    char prefix[96];
    if (kind == HO_KIND_ACTIVITY) {
        snprintf(prefix, sizeof prefix, "act");
    } else {
        snprintf(prefix, sizeof prefix, "%s-%s", kind == HO_KIND_LEAD ? "lead" : "fb",
                 ho_profile_source(profile));
    }
    size_t nid;
    const char *const *idf = ho_profile_id_fields(profile, &nid);
    char key[1024];
    size_t klen = 0;
    bool complete = nid > 0;
    for (size_t i = 0; i < nid && complete; i++) {
        const char *v = json_string_value(json_object_get(fields, idf[i]));
        if (!v || !v[0]) {
            complete = false;
            break;
        }
        int w = snprintf(key + klen, sizeof key - klen, "%s%s", i ? "-" : "", v);
        if (w < 0 || (size_t)w >= sizeof key - klen) {
            complete = false;
            break;
        }
        klen += (size_t)w;
    }
    char id[HO_MSG_MAX_ID];
    if (complete) {
        ho_msg_make_id(id, sizeof id, prefix, key, klen);
    } else {
        ho_msg_make_id(id, sizeof id, prefix, rec_bytes, rec_len);
    }
    ho_msg_set_id(msg, id);
    json_t *p = ho_msg_payload(msg);
    json_object_set_new(p, "source", json_string(ho_profile_source(profile)));
    if (ho_profile_name(profile) && strcmp(ho_profile_name(profile), ho_profile_source(profile))) {
        /* ingest re-reads this profile's date formats for a date it cannot read */
        json_object_set_new(p, "profile", json_string(ho_profile_name(profile)));
    }
    json_object_set_new(p, "source_ref", s_source_ref(file, line));
    if (kind == HO_KIND_LEAD) {
        if (!extra) {
            extra = json_object();
        }
        ho_profile_crm_apply(profile, fields, extra); /* crm_stage, owner: the profile's data */
    }
    json_object_set_new(p, "fields", fields);
    if (extra && json_object_size(extra) > 0) {
        json_object_set_new(p, "extra", extra);
    } else {
        json_decref(extra);
    }
    const char *const *fmts = ho_profile_date_formats(profile);
    if (fmts && fmts[0]) {
        json_t *arr = json_array();
        for (size_t i = 0; fmts[i]; i++) {
            json_array_append_new(arr, json_string(fmts[i]));
        }
        json_object_set_new(p, "date_formats", arr);
    }
    return msg;
}

ho_msg_t *ho_connector_quarantine(const ho_profile_t *profile, const char *file, long line,
                                  const char *code, const char *field, const char *reason,
                                  json_t *raw)
{
    ho_msg_t *q = ho_msg_new("quarantine");
    if (!q) {
        json_decref(raw);
        return NULL;
    }
    char key[4200], id[HO_MSG_MAX_ID], rec_id[HO_MSG_MAX_ID];
    int len = snprintf(key, sizeof key, "import|%.4000s|%ld|%s", file, line, code);
    ho_msg_make_id(id, sizeof id, "q", key, len > 0 ? (size_t)len : 0);
    ho_msg_set_id(q, id);
    len = snprintf(key, sizeof key, "%.4000s|%ld", file, line);
    ho_msg_make_id(rec_id, sizeof rec_id, "import", key, len > 0 ? (size_t)len : 0);
    ho_kind_t kind = ho_profile_kind(profile);
    json_t *p = ho_msg_payload(q);
    json_object_set_new(p, "stage", json_string("import"));
    json_object_set_new(p, "code", json_string(code));
    json_object_set_new(p, "field", json_string(field ? field : ""));
    json_t *why = json_string(reason ? reason : "");
    json_object_set_new(p, "reason", why ? why : json_string("(reason not valid UTF-8)"));
    json_object_set_new(p, "event_id", json_string(rec_id));
    json_object_set_new(p, "event_type", json_string(ho_connector_raw_type(kind)));
    json_object_set_new(p, "source_ref", s_source_ref(file, line));
    json_t *r = json_object();
    json_object_set_new(r, "source", json_string(ho_profile_source(profile)));
    json_object_set_new(r, "source_ref", s_source_ref(file, line));
    json_object_set_new(r, "record", raw ? raw : json_null());
    json_object_set_new(p, "raw", r);
    return q;
}

int ho_connector_next_line(FILE *f, const char *file, char **line, size_t *cap, long *lineno,
                           uint64_t *offset, char **text_p, size_t *len_p, ho_err_t *err)
{
    for (;;) {
        errno = 0;
        ssize_t len = getline(line, cap, f);
        if (len < 0) {
            if (ferror(f)) {
                return ho_err_set(err, HO_ERR_IO, "", "%s: read error: %s", file, strerror(errno));
            }
            return 0;
        }
        (*lineno)++;
        *offset += (uint64_t)len;
        char *p = *line;
        size_t n = (size_t)len;
        if (*lineno == 1 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
            p += 3;
            n -= 3;
        }
        while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r')) {
            n--;
        }
        p[n] = '\0';
        if (strspn(p, " \t") == n) {
            continue; /* blank line */
        }
        *text_p = p;
        *len_p = n;
        return 1;
    }
}
