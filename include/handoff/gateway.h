/*
 * gateway.h - the gateway configuration (deploy/handoff.yaml): endpoints, heartbeat, CURVE,
 * data dir, the routing table and per-worker settings.
 *
 * Lookup order of the file when no path is given: $HANDOFF_CONFIG, ./deploy/handoff.yaml,
 * <source dir>/deploy/handoff.yaml (the build's own tree), /etc/handoff/handoff.yaml;
 * if none exists, built-in defaults equal to the shipped deploy/handoff.yaml are used.
 *
 * Ownership: ho_gateway_load returns an object freed with ho_gateway_destroy (&g); strings it
 * returns are borrowed from it.
 */
#ifndef HO_GATEWAY_H
#define HO_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>

#include "handoff/conf.h"
#include "handoff/msg.h"

typedef struct ho_gateway ho_gateway_t;

/* path may be NULL (lookup order above). Errors name file, line and key. */
ho_gateway_t *ho_gateway_load(const char *path, ho_err_t *err);
void ho_gateway_destroy(ho_gateway_t **self_p);

/* The file actually loaded, or "(built-in defaults)". */
const char *ho_gateway_path(const ho_gateway_t *self);
/* Folder that relative config paths (scoring.yaml, profiles/, keys/) resolve against. */
const char *ho_gateway_config_dir(const ho_gateway_t *self);
/* The parsed document (NULL for built-in defaults). */
const ho_conf_t *ho_gateway_conf(const ho_gateway_t *self);

const char *ho_gateway_endpoint(const ho_gateway_t *self);
int ho_gateway_heartbeat_ms(const ho_gateway_t *self);
int ho_gateway_liveness(const ho_gateway_t *self);
int ho_gateway_max_queue(const ho_gateway_t *self);
int ho_gateway_max_attempts(const ho_gateway_t *self);
/* broker.max_frame_bytes: ZMQ_MAXMSGSIZE of every socket (the largest frame a peer may send;
 * a peer that sends a bigger one is disconnected by ZeroMQ). Default HO_MSG_MAX_BODY. */
int ho_gateway_max_frame_bytes(const ho_gateway_t *self);
/* broker.max_queue_bytes: bytes of requests the broker holds at most (default 256 MiB). */
int ho_gateway_max_queue_bytes(const ho_gateway_t *self);
/* broker.request_timeout_ms: longest a request stays with one worker (default 600000). */
int ho_gateway_request_timeout_ms(const ho_gateway_t *self);
bool ho_gateway_curve_enabled(const ho_gateway_t *self);
/* Absolute paths (resolved against the config dir). */
const char *ho_gateway_curve_server_cert(const ho_gateway_t *self);
const char *ho_gateway_curve_allowed_keys(const ho_gateway_t *self);
/* For workers and clients: their own secret cert (broker.curve.client_cert, default
 * keys/client.cert_secret) and the broker's public cert (broker.curve.server_public, default
 * keys/broker.cert). Absolute paths. */
const char *ho_gateway_curve_client_cert(const ho_gateway_t *self);
const char *ho_gateway_curve_server_public(const ho_gateway_t *self);

const char *ho_gateway_data_dir(const ho_gateway_t *self);
/* broker.journal as written (default "broker.journal"; relative to data_dir unless absolute),
 * or "" when the journal is off ("", false). */
const char *ho_gateway_journal(const ho_gateway_t *self);
/* Command-line overrides. */
int ho_gateway_set_data_dir(ho_gateway_t *self, const char *dir);
int ho_gateway_set_endpoint(ho_gateway_t *self, const char *endpoint);
int ho_gateway_set_journal(ho_gateway_t *self, const char *path);

/* Routing table: the service that messages of `type` go to next, or NULL. */
const char *ho_gateway_route(const ho_gateway_t *self, const char *type);
size_t ho_gateway_route_count(const ho_gateway_t *self);
/* i-th route; returns type and sets *service. */
const char *ho_gateway_route_at(const ho_gateway_t *self, size_t i, const char **service);

/* workers.<name> settings map, or NULL. */
const ho_node_t *ho_gateway_worker_settings(const ho_gateway_t *self, const char *name);

/* Resolve a path relative to the config dir (absolute paths are returned as they are).
 * Writes into out; returns out. */
char *ho_gateway_resolve(const ho_gateway_t *self, const char *rel, char *out, size_t cap);

#endif
