/*
 * import_send.h - the sending side of `handoff import`: records go out in batches (one
 * buffer per service), with backpressure from the broker (--max-backlog) or one batch at a
 * time through the whole pipeline (--serial), or to the in-process workers of --dry-run; the
 * workers' replies are counted into the file's statistics; at the end the store is told the
 * import's summary and asked what it applied (import.stats).
 *
 * Internal to the CLI (src/cli/import_cmd.c reads the files and prints; this sends).
 */
#ifndef HO_CLI_IMPORT_SEND_H
#define HO_CLI_IMPORT_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/dupcount.h"
#include "handoff/client.h"
#include "handoff/msg.h"
#include "handoff/worker.h"

/* ---- counters: one file's statistics ---- */
typedef struct {
    char code[48];
    long count;
} ho_import_reason_t;

typedef struct {
    ho_import_reason_t r[32];
    size_t n;
    long total;
} ho_import_counts_t;

typedef struct {
    const char *file;
    char profile[64];
    const char *kind;
    char import_id[32];
    long read, accepted, failed, sent;
    ho_import_counts_t skipped, quarantined;
    long duplicates;   /* leads whose email was seen before in this command (--dry-run) */
    bool dups_unknown; /* the duplicate counter failed (no temporary space) */
    /* from the store's import.stats: -1 = not known */
    long applied, new_people, merged, not_stored;
} ho_import_stats_t;

typedef struct {
    ho_import_stats_t *stats;
    ho_dupcount_t *seen; /* normalized emails of this command, counted on disk (dupcount.h) */
} ho_import_ctx_t;

/* ---- sending: one batch buffer per service ---- */
typedef struct {
    const char *service;
    ho_msg_t **msgs;
    size_t n;
} ho_import_batch_t;

typedef struct {
    ho_client_t *client; /* NULL in --dry-run */
    bool dry_run;
    /* in-process workers for --dry-run: [0] ingest, [1] feedback (NULL when not built in) */
    const ho_worker_def_t *dry[2];
    void *dry_ctx[2];
    size_t batch;
    ho_import_ctx_t *ctx;
    int io_error;
    char error[300];
    /* downstream backpressure: the window bounds our requests to ingest, but the broker
     * forwards ingest's replies to the store as requests of its own, which it never refuses;
     * a store slower than ingest would queue the whole file in the broker's memory */
    long max_backlog;
    int64_t waited_ms;
    bool warned_orphans;
    /* the store's import.stats: a client of its own with a short timeout (NULL: --dry-run) */
    ho_client_t *probe;
    bool no_stats;  /* the store answered import.stats with something else: not asked again */
    bool no_wait;   /* --no-wait: done once the broker has every record */
    bool serial;    /* --serial: one batch at a time, each through the whole pipeline */
    long settle_ms; /* give up waiting when the store applied nothing new for this long */
    int64_t now_ms; /* --now: finished_at of import.summary (0: the clock) */
} ho_import_sender_t;

/* SIGINT / SIGTERM: caught from now on (call after the first client socket, whose czmq
 * handler this replaces); ho_import_signal () is the signal caught, or 0. */
void ho_import_catch_signals(void);
int ho_import_signal(void);

/* k more of reason code in c (past 31 codes, the rest count as "other"). */
void ho_import_count_n(ho_import_counts_t *c, const char *code, long k);
void ho_import_count(ho_import_counts_t *c, const char *code);
/* One record quarantined for code. */
void ho_import_reason(ho_import_stats_t *st, const char *code);

/* True (with s->error set) once a signal stopped the import. */
bool ho_import_stopped(ho_import_sender_t *s);
/* Append msg to batch b (taken), sending it once it holds s->batch records. */
void ho_import_add(ho_import_sender_t *s, ho_import_batch_t *b, ho_msg_t *msg);
/* Send what b holds: to the broker (then backpressure or --serial's wait), or to the
 * in-process worker of --dry-run; b is empty after. */
void ho_import_flush(ho_import_sender_t *s, ho_import_batch_t *b);
/* Free what b holds without sending it (stopped by a signal). */
void ho_import_drop(ho_import_batch_t *b);

/* Service "store" at the broker: 1 with workers, 0 known without workers, -1 not there or
 * no answer. */
int ho_import_store_state(ho_import_sender_t *s);
/* import.summary of st to the store (a warning when it is not delivered). */
void ho_import_send_summary(ho_import_sender_t *s, const ho_import_stats_t *st);
/* Wait until the store applied every accepted record of st (or stopped answering for
 * s->settle_ms): new, merged and not_stored into st. */
void ho_import_wait_stored(ho_import_sender_t *s, ho_import_stats_t *st);

#endif
