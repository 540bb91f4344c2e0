/*
 * conf.h - YAML configuration as a tree that remembers file and line, plus Fluent Bit style
 * config maps (a table of typed keys with defaults, written into a struct by offsetof).
 *
 * Every error names the file, the line and the key:
 *     deploy/scoring.yaml:14: fit.rules[2].points: expected an integer, got "ten"
 *
 * Ownership: ho_conf_load returns a document the caller frees with ho_conf_destroy (&c).
 * Nodes and strings returned by getters are borrowed from the document.
 */
#ifndef HO_CONF_H
#define HO_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "handoff/msg.h" /* ho_err_t, ho_rc_t */

typedef struct ho_conf ho_conf_t;
typedef struct ho_node ho_node_t;

typedef enum { HO_NODE_SCALAR = 1, HO_NODE_MAP, HO_NODE_SEQ } ho_node_kind_t;

/* Load and parse a YAML file. NULL on error, with err naming file and line. */
ho_conf_t *ho_conf_load(const char *path, ho_err_t *err);
/* Parse YAML text; name is used in error messages in place of a file name. */
ho_conf_t *ho_conf_parse(const char *text, size_t len, const char *name, ho_err_t *err);
void ho_conf_destroy(ho_conf_t **self_p);

const char *ho_conf_name(const ho_conf_t *self);
/* The document's root node (an empty map for an empty file). */
const ho_node_t *ho_conf_root(const ho_conf_t *self);

ho_node_kind_t ho_node_kind(const ho_node_t *node);
int ho_node_line(const ho_node_t *node);
/* Dotted path of the node from the root, e.g. "fit.rules[2].points". */
const char *ho_node_path(const ho_node_t *node);
/* Scalar text, or NULL if the node is not a scalar. */
const char *ho_node_str(const ho_node_t *node);
/* Children of a map (values) or a sequence (items). */
size_t ho_node_size(const ho_node_t *node);
const ho_node_t *ho_node_at(const ho_node_t *node, size_t index);
/* Key of the index-th entry of a map (NULL for a sequence). */
const char *ho_node_key_at(const ho_node_t *node, size_t index);
/* Value of key in a map, or NULL if absent or node is not a map. */
const ho_node_t *ho_node_get(const ho_node_t *map, const char *key);

/* Make an error about node: "<file>:<line>: <path>: <message>". Returns code. */
int ho_conf_fail(const ho_conf_t *self, const ho_node_t *node, ho_err_t *err, int code,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Typed reads of map[key]. An absent key yields the default and HO_OK; a present key of the
 * wrong type yields HO_ERR_CONFIG with file, line and key in err. */
int ho_conf_str(const ho_conf_t *self, const ho_node_t *map, const char *key, const char *def,
                const char **out, ho_err_t *err);
int ho_conf_int(const ho_conf_t *self, const ho_node_t *map, const char *key, long long def,
                long long *out, ho_err_t *err);
int ho_conf_double(const ho_conf_t *self, const ho_node_t *map, const char *key, double def,
                   double *out, ho_err_t *err);
int ho_conf_bool(const ho_conf_t *self, const ho_node_t *map, const char *key, bool def,
                 bool *out, ho_err_t *err);
/* Same as above but the key must be present. */
int ho_conf_need_str(const ho_conf_t *self, const ho_node_t *map, const char *key,
                     const char **out, ho_err_t *err);

/* Fail with the first key of map that is not in allowed (a NULL-terminated list). */
int ho_conf_check_keys(const ho_conf_t *self, const ho_node_t *map, const char *const *allowed,
                       ho_err_t *err);

/* ---- config maps (Fluent Bit style) ---- */
typedef enum { HO_CFG_STR = 1, HO_CFG_INT, HO_CFG_DOUBLE, HO_CFG_BOOL } ho_cfg_type_t;

typedef struct {
    ho_cfg_type_t type;
    const char *key;
    const char *def;   /* default as text; NULL = empty string / 0 / false */
    size_t offset;     /* offsetof into the target struct: char *, long long, double or bool */
    const char *desc;  /* one line for --help and docs */
} ho_config_map_t;     /* terminate a table with { 0 } */

/* Fill target from map (which may be NULL: all defaults). Unknown keys are rejected.
 * String fields are malloc'd; release them with ho_config_map_free. */
int ho_config_map_apply(const ho_conf_t *self, const ho_node_t *map,
                        const ho_config_map_t *table, void *target, ho_err_t *err);
void ho_config_map_free(const ho_config_map_t *table, void *target);

#endif
