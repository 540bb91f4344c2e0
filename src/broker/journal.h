/*
 * journal.h - the broker journal: the internal (routed) requests the broker holds, kept in a
 * SQLite file so that a kill -9 of the broker loses none of them (proto/handoff-protocol.md,
 * E11).
 *
 *     ho_journal_t *j = ho_journal_open("data/broker.journal", &err);
 *     ho_journal_load(j, on_row, arg, &err);           // at start: every pending request
 *     ho_journal_add(j, "store", 0, frames, lens, 1, &id);   // a routed request
 *     ho_journal_remove(j, id);                         // it was answered
 *     ho_journal_commit(j, &err);                       // one transaction + fsync per batch
 *     ho_journal_destroy(&j);
 *
 * Writes between two commits form one batch: the first write opens a transaction, commit
 * ends it (WAL, synchronous=FULL, so the WAL is fsynced before commit returns). A batch that
 * fails anywhere is rolled back as a whole by commit, which then returns the error; the
 * caller must treat nothing of that batch as durable. One broker at a time: the file is
 * locked exclusively while open (a second broker gets a clear error).
 *
 * Errors are returned in ho_err_t and always name the file; nothing is printed.
 * Internal to the broker (src/broker/); unit-tested in tests/unit/test_broker_journal.c.
 */
#ifndef HO_BROKER_JOURNAL_H
#define HO_BROKER_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "handoff/msg.h"

typedef struct ho_journal ho_journal_t;

/* Open (or create) the journal file. NULL with err naming the file when it cannot be opened,
 * is not a broker journal (corrupt, another SQLite file, a newer version) or is locked by
 * another broker. The folder must exist. */
ho_journal_t *ho_journal_open(const char *path, ho_err_t *err);
/* Rolls back an uncommitted batch and closes the file. */
void ho_journal_destroy(ho_journal_t **self_p);

/* One pending request as stored; frames point into memory valid only during the call. */
typedef struct {
    uint64_t id;
    const char *service;
    uint32_t attempts;
    size_t nframes;
    const void *const *frames;
    const size_t *lens;
} ho_journal_row_t;

/* Calls fn for every pending request, oldest first; fn returns HO_OK to go on, anything
 * else stops the load with that code. A row that cannot be read back (bad frame lengths,
 * empty service) is an error naming the file and the row id. */
int ho_journal_load(ho_journal_t *self, int (*fn)(void *arg, const ho_journal_row_t *row),
                    void *arg, ho_err_t *err);

/* Record a request (part of the current batch); *id_out gets its id, never 0. */
int ho_journal_add(ho_journal_t *self, const char *service, uint32_t attempts,
                   const void *const *frames, const size_t *lens, size_t nframes, uint64_t *id_out);
/* Record a request under a given id (rewriting the journal from memory, ho_journal_clear). */
int ho_journal_put(ho_journal_t *self, uint64_t id, const char *service, uint32_t attempts,
                   const void *const *frames, const size_t *lens, size_t nframes);
/* Delete every row (part of the current batch): the first step of a rewrite from memory after
 * a batch was rolled back, so that the file matches what the broker holds again. */
int ho_journal_clear(ho_journal_t *self);
/* Maintenance while no batch is open: give free pages back (incremental vacuum) and truncate
 * the WAL. HO_OK, or HO_ERR_IO with err (nothing is lost either way). */
int ho_journal_idle(ho_journal_t *self, ho_err_t *err);
/* Forget a request (no-op for an unknown id). */
int ho_journal_remove(ho_journal_t *self, uint64_t id);
/* Remember how often a request was delivered (after a requeue). */
int ho_journal_set_attempts(ho_journal_t *self, uint64_t id, uint32_t attempts);

/* 1 while a batch is open (writes since the last commit). */
int ho_journal_dirty(const ho_journal_t *self);
/* Commit the open batch: HO_OK (also when nothing was open), or HO_ERR_IO with err when any
 * write of the batch or the commit failed; the batch is then rolled back. */
int ho_journal_commit(ho_journal_t *self, ho_err_t *err);

typedef struct {
    uint64_t pending;  /* requests in the journal (committed or in the open batch) */
    uint64_t bytes;    /* their body frames, in bytes */
    uint64_t commits;  /* batches committed since open */
    uint64_t failures; /* batches rolled back since open */
    uint64_t shrinks;  /* ho_journal_idle runs that succeeded */
} ho_journal_stats_t;
void ho_journal_stats(const ho_journal_t *self, ho_journal_stats_t *out);
const char *ho_journal_path(const ho_journal_t *self);

#endif
