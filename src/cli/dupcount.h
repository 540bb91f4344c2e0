/*
 * dupcount.h - count repeated keys (the normalized emails behind `handoff import`'s
 * duplicates=) in bounded memory, however many distinct keys there are.
 *
 * Keys are hashed to 64 bits. Up to mem_keys hashes are kept in memory; when that buffer is
 * full it is sorted and written as a run to an unlinked temporary file. Closing a group (one
 * imported file) merges the group's runs with the sorted set of hashes of the earlier
 * groups, also on disk, and counts the group's keys that were seen before: earlier in the
 * group or in an earlier group. So:
 *   memory = mem_keys x 8 bytes + 4 KB per run of the current group (a run per mem_keys
 *            keys) - fixed for a given file size, never the set of distinct addresses;
 *   disk   = 8 bytes per key of the current group + 8 bytes per distinct key seen so far.
 * Two different keys share a hash with probability ~ n^2 / 2^65 (3e-7 for 3.5 M addresses).
 *
 * Internal to the CLI (src/cli/); unit-tested in tests/unit/test_dupcount.c.
 *
 *     ho_dupcount_t *d = ho_dupcount_new (0, NULL);      // defaults: 512 Ki keys, $TMPDIR
 *     ho_dupcount_add (d, "ann@example.com", &err);
 *     long dups;
 *     ho_dupcount_close_group (d, &dups, &err);          // per file
 *     ho_dupcount_destroy (&d);
 */
#ifndef HO_CLI_DUPCOUNT_H
#define HO_CLI_DUPCOUNT_H

#include <stddef.h>

#include "handoff/msg.h"

#define HO_DUPCOUNT_MEM_KEYS (512u * 1024u) /* 4 MB of hashes in memory */

typedef struct ho_dupcount ho_dupcount_t;

/* mem_keys 0 = HO_DUPCOUNT_MEM_KEYS (at least 2); tmp_dir NULL = $TMPDIR or /tmp. The
 * temporary file is created on the first spill only. NULL only without memory. */
ho_dupcount_t *ho_dupcount_new(size_t mem_keys, const char *tmp_dir);
void ho_dupcount_destroy(ho_dupcount_t **self_p);

/* Count key (a C string) in the current group. HO_OK, or HO_ERR_IO with err when a run
 * cannot be written (the counter is then unusable: every later call fails the same way). */
int ho_dupcount_add(ho_dupcount_t *self, const char *key, ho_err_t *err);
/* End the current group: *dups_p = its keys that were seen before (earlier in the group or
 * in an earlier group). The next add starts a new group. HO_OK or HO_ERR_IO. */
int ho_dupcount_close_group(ho_dupcount_t *self, long *dups_p, ho_err_t *err);

/* Distinct keys over the closed groups. */
size_t ho_dupcount_distinct(const ho_dupcount_t *self);
/* Runs written to disk so far (all groups): 0 while everything fitted in memory. */
size_t ho_dupcount_spills(const ho_dupcount_t *self);

#endif
