/*
 * tz.h - IANA time zones without touching the process's TZ: UTC offset of a zone at an
 * instant, and the local calendar day. Routing counts a rep's "today", week and absence
 * dates in the rep's own zone; workers run as threads of one process (`handoff run`), so
 * setenv("TZ") + localtime_r is not an option. Calendar arithmetic (civil days, ISO weeks,
 * local midnights, parsing instants) is in time.h, on top of this.
 *
 * The zone is read once from the system's compiled tzdata (TZif v1..v4 files under $TZDIR
 * or /usr/share/zoneinfo; Debian package tzdata). Instants after the file's last transition
 * follow the POSIX TZ rule in the file's footer ("EST5EDT,M3.2.0,M11.1.0").
 *
 *     ho_err_t err;
 *     ho_tz_t *tz = ho_tz_load ("America/New_York", &err);
 *     int32_t off = ho_tz_offset (tz, at_ms);    // seconds east of UTC, -14400 in summer
 *     int64_t day = ho_tz_day (tz, at_ms);       // local days since 1970-01-01
 *     ho_tz_destroy (&tz);
 *
 * "", "UTC", "Etc/UTC", "Z" and "GMT" are UTC without reading a file. A name that is not a
 * zone (unknown, "../x", absolute path, not a TZif file) fails with HO_ERR_CONFIG.
 */
#ifndef HO_TZ_H
#define HO_TZ_H

#include <stdint.h>

#include "handoff/msg.h"

typedef struct ho_tz ho_tz_t;

ho_tz_t *ho_tz_load(const char *name, ho_err_t *err);
/* The same from the bytes of a TZif file (tests, fuzzers). */
ho_tz_t *ho_tz_parse(const char *name, const unsigned char *data, size_t len, ho_err_t *err);
void ho_tz_destroy(ho_tz_t **self_p);

const char *ho_tz_name(const ho_tz_t *self);
/* Seconds east of UTC in effect at at_ms (ms since the epoch, UTC). */
int32_t ho_tz_offset(const ho_tz_t *self, int64_t at_ms);
/* The local calendar day containing at_ms, as days since 1970-01-01. */
int64_t ho_tz_day(const ho_tz_t *self, int64_t at_ms);

/* A lead's likely zone from its ISO country and (US, CA, AU) state or province code: the
 * zone most of that state lives in. NULL when it cannot be told (a country of several zones
 * without its state, or an unknown code). Borrowed static string. */
const char *ho_tz_guess(const char *country, const char *state);

#endif
