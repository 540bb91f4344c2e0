/* routing_fixture.h - helpers of the routing engine's unit tests: a config loaded (or refused
 * with a given error), a decision, a text field of one, a router.db in a temp dir. Include
 * after <cmocka.h>. Static inline: a test takes what it needs. Not a test itself (CMake builds
 * tests/unit/test_*.c). */
#ifndef HO_ROUTING_FIXTURE_H
#define HO_ROUTING_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handoff/routing.h"

static inline ho_routing_t *s_load(const char *yaml, const char *csv)
{
    ho_err_t err = {0};
    ho_routing_t *r =
        ho_routing_parse(yaml, strlen(yaml), "routing.yaml", csv, strlen(csv), "reps.csv", &err);
    if (!r) {
        fail_msg("load failed: %s", err.message);
    }
    return r;
}

/* The config is refused with an error containing want. */
static inline void s_expect_error(const char *yaml, const char *csv, const char *want)
{
    ho_err_t err = {0};
    ho_routing_t *r =
        ho_routing_parse(yaml, strlen(yaml), "routing.yaml", csv, strlen(csv), "reps.csv", &err);
    assert_null(r);
    assert_int_not_equal(err.code, HO_OK);
    if (!strstr(err.message, want)) {
        fail_msg("error \"%s\" does not contain \"%s\"", err.message, want);
    }
}

/* Decide (takes req) and return the payload (caller decrefs). */
static inline json_t *s_decide(const ho_routing_t *r, ho_route_state_t *st, const char *event_id,
                               json_t *req)
{
    ho_err_t err = {0};
    json_t *out = NULL;
    int rc = ho_routing_decide(r, st, event_id, req, &out, NULL, &err);
    json_decref(req);
    if (rc != HO_OK) {
        fail_msg("decide failed: %s", err.message);
    }
    return out;
}

static inline const char *s_s(const json_t *p, const char *key)
{
    const char *v = json_string_value(json_object_get(p, key));
    return v ? v : "(null)";
}

/* mkdtemp(dir), dir a template ("/tmp/ho-NAME-XXXXXX"), and path = dir/router.db. */
static inline void s_db_dir(char *dir, char *path, size_t path_cap)
{
    assert_non_null(mkdtemp(dir));
    snprintf(path, path_cap, "%s/router.db", dir);
}

/* Remove the database at path and its -wal and -shm files. */
static inline void s_rm_db(const char *path)
{
    char extra[300];
    unlink(path);
    snprintf(extra, sizeof extra, "%s-wal", path);
    unlink(extra);
    snprintf(extra, sizeof extra, "%s-shm", path);
    unlink(extra);
}

#endif
