/*
 * defaults.h - the shipped configuration files, compiled into the binary.
 *
 * The YAML and CSV files of deploy/ and deploy/profiles/ are embedded at build time. A loader looks
 * for a file in the config folder first and falls back to the built-in copy, so the
 * embedded default runs on a machine that has only the binary.
 */
#ifndef HO_DEFAULTS_H
#define HO_DEFAULTS_H

#include <stddef.h>

#include "handoff/conf.h"

/* Built-in copy of deploy/<name> (e.g. "scoring.yaml", "profiles/hubspot.yaml"), or NULL. */
const char *ho_default_file(const char *name, size_t *len_p);
/* i-th built-in file name (for listing profiles), NULL past the end. */
const char *ho_default_file_at(size_t i);

/* Load <config_dir>/<name> if it exists, else the built-in copy (named "(built-in)/<name>" in
 * error messages). config_dir may be NULL. NULL with err set if neither exists or it does
 * not parse. */
ho_conf_t *ho_conf_load_named(const char *config_dir, const char *name, ho_err_t *err);

/* Read <config_dir>/<name> or the built-in copy as bytes (for CSV files like reps.csv).
 * Returns malloc'd, NUL-terminated text the caller frees; sets *from_p to the path used. */
char *ho_file_load_named(const char *config_dir, const char *name, size_t *len_p,
                         char *from, size_t from_cap, ho_err_t *err);

#endif
