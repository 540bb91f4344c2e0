/* gateway.c - deploy/handoff.yaml; see include/handoff/gateway.h */
#include "handoff/gateway.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "handoff/defaults.h"

typedef struct {
    char *type;
    char *service;
} s_route_t;

struct ho_gateway {
    char *path;
    char *config_dir;
    ho_conf_t *conf;
    char *endpoint;
    int heartbeat_ms;
    int liveness;
    int max_queue;
    int max_attempts;
    int max_frame_bytes;
    int max_queue_bytes;
    int request_timeout_ms;
    bool curve;
    char *server_cert;
    char *allowed_keys;
    char *client_cert;
    char *server_public;
    char *data_dir;
    char *journal;
    s_route_t *routes;
    size_t n_routes;
};

static int s_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static char *s_dirname(const char *path)
{
    char abs[PATH_MAX];
    if (!realpath(path, abs)) {
        snprintf(abs, sizeof abs, "%s", path);
    }
    char *slash = strrchr(abs, '/');
    if (slash && slash != abs) {
        *slash = '\0';
    } else if (slash) {
        slash[1] = '\0';
    } else {
        snprintf(abs, sizeof abs, ".");
    }
    return strdup(abs);
}

char *ho_gateway_resolve(const ho_gateway_t *self, const char *rel, char *out, size_t cap)
{
    if (!rel || rel[0] == '/' || !self->config_dir) {
        snprintf(out, cap, "%s", rel ? rel : "");
    } else {
        snprintf(out, cap, "%s/%s", self->config_dir, rel);
    }
    return out;
}

static int s_set(char **slot, const char *value)
{
    char *copy = strdup(value ? value : "");
    if (!copy) {
        return HO_ERR_NOMEM;
    }
    free(*slot);
    *slot = copy;
    return HO_OK;
}

/* broker.endpoint, its limits and broker.journal. */
static int s_read_broker(ho_gateway_t *self, const ho_node_t *broker, ho_err_t *err)
{
    const ho_conf_t *c = self->conf;
    const char *s;
    long long v;
    int rc;
    if ((rc = ho_conf_str(c, broker, "endpoint", "tcp://127.0.0.1:5570", &s, err)) != HO_OK ||
        (rc = s_set(&self->endpoint, s)) != HO_OK) {
        return rc;
    }
    struct {
        const char *key;
        long long def, min, max;
        int *slot;
    } ints[] = {{"heartbeat_ms", 2500, 10, 600000, &self->heartbeat_ms},
                {"liveness", 3, 1, 100, &self->liveness},
                {"max_queue", 10000, 1, 100000000, &self->max_queue},
                {"max_attempts", 5, 1, 1000, &self->max_attempts},
                {"max_frame_bytes", HO_MSG_MAX_BODY, 4096, 1073741824, &self->max_frame_bytes},
                {"max_queue_bytes", 268435456, 1048576, 2147483647, &self->max_queue_bytes},
                {"request_timeout_ms", 600000, 100, 86400000, &self->request_timeout_ms}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        if ((rc = ho_conf_int(c, broker, ints[i].key, ints[i].def, &v, err)) != HO_OK) {
            return rc;
        }
        if (v < ints[i].min || v > ints[i].max) {
            return ho_conf_fail(c, ho_node_get(broker, ints[i].key), err, HO_ERR_CONFIG,
                                "must be between %lld and %lld", ints[i].min, ints[i].max);
        }
        *ints[i].slot = (int)v;
    }
    /* broker.journal: a file under data_dir (or absolute); "", false or null = no journal */
    if ((rc = ho_conf_str(c, broker, "journal", "broker.journal", &s, err)) != HO_OK) {
        return rc;
    }
    if (strcmp(s, "false") == 0 || strcmp(s, "off") == 0 || strcmp(s, "no") == 0 ||
        strcmp(s, "~") == 0 || strcmp(s, "null") == 0) {
        s = "";
    }
    return s_set(&self->journal, s);
}

/* broker.curve: on or off, and its four key files resolved against the config folder. */
static int s_read_curve(ho_gateway_t *self, const ho_node_t *curve, ho_err_t *err)
{
    const ho_conf_t *c = self->conf;
    static const char *const ckeys[] = {"enabled",     "server_cert",   "allowed_keys",
                                        "client_cert", "server_public", NULL};
    int rc;
    if ((rc = ho_conf_check_keys(c, curve, ckeys, err)) != HO_OK ||
        (rc = ho_conf_bool(c, curve, "enabled", false, &self->curve, err)) != HO_OK) {
        return rc;
    }
    struct {
        const char *key, *def;
        char **slot;
    } files[] = {{"server_cert", "keys/broker.cert_secret", &self->server_cert},
                 {"allowed_keys", "keys/allowed", &self->allowed_keys},
                 {"client_cert", "keys/client.cert_secret", &self->client_cert},
                 {"server_public", "keys/broker.cert", &self->server_public}};
    char path[4096];
    const char *s;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if ((rc = ho_conf_str(c, curve, files[i].key, files[i].def, &s, err)) != HO_OK ||
            (rc = s_set(files[i].slot, ho_gateway_resolve(self, s, path, sizeof path))) != HO_OK) {
            return rc;
        }
    }
    return HO_OK;
}

/* routes: message type -> service, each type a valid one. */
static int s_read_routes(ho_gateway_t *self, const ho_node_t *routes, ho_err_t *err)
{
    const ho_conf_t *c = self->conf;
    if (routes && ho_node_kind(routes) != HO_NODE_MAP) {
        return ho_conf_fail(c, routes, err, HO_ERR_CONFIG, "expected a map of type: service");
    }
    size_t n = ho_node_size(routes);
    self->routes = calloc(n ? n : 1, sizeof *self->routes);
    if (!self->routes) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const ho_node_t *svc = ho_node_at(routes, i);
        const char *type = ho_node_key_at(routes, i);
        if (!ho_node_str(svc) || !ho_node_str(svc)[0]) {
            return ho_conf_fail(c, svc, err, HO_ERR_CONFIG, "expected a service name");
        }
        ho_msg_t *probe = ho_msg_new("x");
        int bad = !probe || ho_msg_set_type(probe, type) != HO_OK;
        ho_msg_destroy(&probe);
        if (bad) {
            return ho_conf_fail(c, svc, err, HO_ERR_CONFIG,
                                "'%s' is not a valid message type (a-z 0-9 . _ -)", type);
        }
        self->routes[i].type = strdup(type);
        self->routes[i].service = strdup(ho_node_str(svc));
        self->n_routes++;
        if (!self->routes[i].type || !self->routes[i].service) {
            return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        }
    }
    return HO_OK;
}

static int s_read(ho_gateway_t *self, ho_err_t *err)
{
    const ho_conf_t *c = self->conf;
    const ho_node_t *root = ho_conf_root(c);
    static const char *const top[] = {"broker", "data_dir", "routes", "workers", NULL};
    int rc = ho_conf_check_keys(c, root, top, err);
    if (rc != HO_OK) {
        return rc;
    }
    const ho_node_t *broker = ho_node_get(root, "broker");
    static const char *const bkeys[] = {
        "endpoint",           "bind",         "heartbeat_ms",    "liveness",
        "max_queue",          "max_attempts", "max_frame_bytes", "max_queue_bytes",
        "request_timeout_ms", "curve",        "journal",         NULL};
    const char *s;
    if ((rc = ho_conf_check_keys(c, broker, bkeys, err)) != HO_OK ||
        (rc = s_read_broker(self, broker, err)) != HO_OK ||
        (rc = s_read_curve(self, ho_node_get(broker, "curve"), err)) != HO_OK ||
        (rc = ho_conf_str(c, root, "data_dir", "./data", &s, err)) != HO_OK ||
        (rc = s_set(&self->data_dir, s)) != HO_OK ||
        (rc = s_read_routes(self, ho_node_get(root, "routes"), err)) != HO_OK) {
        return rc;
    }
    const ho_node_t *workers = ho_node_get(root, "workers");
    if (workers && ho_node_kind(workers) != HO_NODE_MAP) {
        return ho_conf_fail(c, workers, err, HO_ERR_CONFIG, "expected a map of worker settings");
    }
    return HO_OK;
}

ho_gateway_t *ho_gateway_load(const char *path, ho_err_t *err)
{
    char found[4096] = "";
    if (path) {
        snprintf(found, sizeof found, "%s", path);
    } else {
        const char *env = getenv("HANDOFF_CONFIG");
        const char *candidates[] = {env, "deploy/handoff.yaml",
#ifdef HO_SOURCE_DIR
                                    HO_SOURCE_DIR "/deploy/handoff.yaml",
#endif
                                    "/etc/handoff/handoff.yaml"};
        for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
            if (candidates[i] && candidates[i][0] && s_exists(candidates[i])) {
                snprintf(found, sizeof found, "%s", candidates[i]);
                break;
            }
        }
    }
    ho_gateway_t *self = calloc(1, sizeof *self);
    if (!self) {
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    if (found[0]) {
        self->path = strdup(found);
        self->config_dir = s_dirname(found);
        self->conf = ho_conf_load(found, err);
    } else {
        self->path = strdup("(built-in defaults)");
        self->config_dir = NULL;
        self->conf = ho_conf_load_named(NULL, "handoff.yaml", err);
    }
    if (!self->path || !self->conf || s_read(self, err) != HO_OK) {
        ho_gateway_destroy(&self);
    }
    return self;
}

void ho_gateway_destroy(ho_gateway_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_gateway_t *self = *self_p;
    for (size_t i = 0; i < self->n_routes; i++) {
        free(self->routes[i].type);
        free(self->routes[i].service);
    }
    free(self->routes);
    ho_conf_destroy(&self->conf);
    free(self->path);
    free(self->config_dir);
    free(self->endpoint);
    free(self->server_cert);
    free(self->allowed_keys);
    free(self->client_cert);
    free(self->server_public);
    free(self->data_dir);
    free(self->journal);
    free(self);
    *self_p = NULL;
}

const char *ho_gateway_path(const ho_gateway_t *self)
{
    return self->path;
}
const char *ho_gateway_config_dir(const ho_gateway_t *self)
{
    return self->config_dir;
}
const ho_conf_t *ho_gateway_conf(const ho_gateway_t *self)
{
    return self->conf;
}
const char *ho_gateway_endpoint(const ho_gateway_t *self)
{
    return self->endpoint;
}
int ho_gateway_heartbeat_ms(const ho_gateway_t *self)
{
    return self->heartbeat_ms;
}
int ho_gateway_liveness(const ho_gateway_t *self)
{
    return self->liveness;
}
int ho_gateway_max_queue(const ho_gateway_t *self)
{
    return self->max_queue;
}
int ho_gateway_max_attempts(const ho_gateway_t *self)
{
    return self->max_attempts;
}
int ho_gateway_max_frame_bytes(const ho_gateway_t *self)
{
    return self->max_frame_bytes;
}
int ho_gateway_max_queue_bytes(const ho_gateway_t *self)
{
    return self->max_queue_bytes;
}
int ho_gateway_request_timeout_ms(const ho_gateway_t *self)
{
    return self->request_timeout_ms;
}
bool ho_gateway_curve_enabled(const ho_gateway_t *self)
{
    return self->curve;
}
const char *ho_gateway_curve_server_cert(const ho_gateway_t *self)
{
    return self->server_cert;
}
const char *ho_gateway_curve_allowed_keys(const ho_gateway_t *self)
{
    return self->allowed_keys;
}
const char *ho_gateway_curve_client_cert(const ho_gateway_t *self)
{
    return self->client_cert;
}
const char *ho_gateway_curve_server_public(const ho_gateway_t *self)
{
    return self->server_public;
}
const char *ho_gateway_data_dir(const ho_gateway_t *self)
{
    return self->data_dir;
}
const char *ho_gateway_journal(const ho_gateway_t *self)
{
    return self->journal;
}
int ho_gateway_set_journal(ho_gateway_t *self, const char *path)
{
    return s_set(&self->journal, path);
}
int ho_gateway_set_data_dir(ho_gateway_t *self, const char *dir)
{
    return s_set(&self->data_dir, dir);
}
int ho_gateway_set_endpoint(ho_gateway_t *self, const char *endpoint)
{
    return s_set(&self->endpoint, endpoint);
}

const char *ho_gateway_route(const ho_gateway_t *self, const char *type)
{
    for (size_t i = 0; i < self->n_routes; i++) {
        if (strcmp(self->routes[i].type, type) == 0) {
            return self->routes[i].service;
        }
    }
    return NULL;
}

size_t ho_gateway_route_count(const ho_gateway_t *self)
{
    return self->n_routes;
}

const char *ho_gateway_route_at(const ho_gateway_t *self, size_t i, const char **service)
{
    if (i >= self->n_routes) {
        return NULL;
    }
    *service = self->routes[i].service;
    return self->routes[i].type;
}

const ho_node_t *ho_gateway_worker_settings(const ho_gateway_t *self, const char *name)
{
    return ho_node_get(ho_node_get(ho_conf_root(self->conf), "workers"), name);
}
