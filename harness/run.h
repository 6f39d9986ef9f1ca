/* run.h: the run loop: cells through adapters into the store, resumable and interruptible. */
#ifndef EB_RUN_H
#define EB_RUN_H

#include "config.h"
#include "plan.h"
#include "store.h"

struct eb_run_opts {
	const char *db_path;
	int resume;
	int quiet;
	int progress; /* draw progress on stderr (a terminal and not quiet) */
	int force_unlock; /* --resume takes over a lock held on another host */
};

/* What happened; counts over the plan's cells. */
struct eb_run_result {
	int64_t run_id;
	char uuid[64];
	size_t n_ok, n_failed, n_skipped, n_resumed; /* n_resumed: already finished before */
	size_t n_warnings; /* warnings stored with the cells this session finished */
	int interrupted;
	int checkpoint_failed; /* every cell stored, but the database's -wal holds results */
};

/*
 * Runs every cell of `plan` and stores it; a failing cell is stored as failed and the
 * run goes on. The run is locked for this process while it runs (a second writer is
 * refused, see eb_store_run_lock); SIGINT, SIGTERM and SIGHUP stop it with the finished
 * cells stored and the run marked interrupted. At the end the database is checkpointed
 * into one file. Returns 0 when the loop ran (see res for cell outcomes), or a negative
 * EB_E* code when nothing could be run (database, resume target missing or locked), the
 * database failed mid-run, or the final checkpoint failed (res->checkpoint_failed; the
 * message says the -wal holds results).
 */
int eb_run(const struct eb_config *cfg, const struct eb_plan *plan, const struct eb_run_opts *o,
	   struct eb_run_result *res, struct eb_err *err);

/* Asks a running eb_run to stop after the current request (signal-safe). */
void eb_run_request_stop(void);

#endif
