/* merge.h: merges per-device result databases into one lab database, run by run, keyed by UUID. */
#ifndef EB_MERGE_H
#define EB_MERGE_H

#include <stddef.h>
#include <stdio.h>

#include "store.h"

struct eb_merge_stats {
	size_t added;     /* runs new to the output */
	size_t replaced;  /* runs whose stored copy differed (e.g. finished since): replaced whole */
	size_t unchanged; /* runs already there as they are */
	size_t kept;      /* runs whose stored copy was kept: further along, or being run */
};

/*
 * Copies every run of the database at in_path (with its cells, requests, token times,
 * metrics, power samples and any other table linked by run_id, cell_id or request_id)
 * into `out`, which eb_store_open has opened for writing. A run is identified by its UUID:
 * one already in `out` with the same status, finish times (run and latest cell) and
 * cell/request counts is left alone (merging twice equals merging once); one that differs
 * is replaced whole, keeping its run id, when the input's copy has at least as many
 * finished cells (ok, failed, skipped) or a later end time. Otherwise, and when a live
 * process holds the stored run's lock (store.h), the stored copy is kept: counted in
 * stats->kept, with a line on `log` (may be NULL) naming both states or the holder. Run
 * locks are never copied. Each run is one transaction: a failure leaves no part of that
 * run behind. Refuses (EB_EINVAL, nothing merged) an input whose PRAGMA user_version is not
 * from EB_STORE_SCHEMA_READABLE to EB_STORE_SCHEMA_VERSION, one that is not an edgebench database, one whose tables differ
 * from the output's, one another process has open or whose -wal is not empty, and the
 * output itself. EB_ENOENT when in_path does not exist, EB_EDB for database errors.
 * `stats` is filled as far as it got.
 */
int eb_merge_db(struct eb_store *out, const char *in_path, FILE *log,
		struct eb_merge_stats *stats, struct eb_err *err);

/* The checks eb_merge_db makes before it copies anything (so a command can check every
 * input first). 0, or the error eb_merge_db would return. */
int eb_merge_check(struct eb_store *out, const char *in_path, struct eb_err *err);

#endif
