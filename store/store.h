/* store.h: the SQLite database every number goes into: open, migrate, and the run loop's writer. */
#ifndef EB_STORE_H
#define EB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "sampler.h"
#include "stats.h"
#include "eb_err.h"

#define EB_STORE_SCHEMA_VERSION 5
/* The oldest schema that readers (reports, list, compare) and merge's inputs take as it is:
 * migration 4 only added run_locks, which only writers use, and 5 acc_samples, which
 * `samples` reads only where it exists. */
#define EB_STORE_SCHEMA_READABLE 3

/* An open database. Opaque: only store/ talks SQL; the others use this header, reader.h
 * (what reports read) and merge.h. */
struct eb_store;

/*
 * Opens (creating if needed, unless readonly) and migrates the database to the current
 * schema: WAL, busy_timeout, foreign keys, and sets *s to the new handle (NULL on
 * failure). Read-only, a database of EB_STORE_SCHEMA_READABLE or later is taken as it is. A database from a newer edgebench, or one that is not an edgebench database,
 * fails with EB_EDB and says so. The caller closes the handle with eb_store_close.
 */
int eb_store_open(struct eb_store **s, const char *path, int readonly, struct eb_err *err);
/* Closes the database and frees the handle; NULL is a no-op. */
void eb_store_close(struct eb_store *s);
/* The path the database was opened with (for messages); valid until eb_store_close. */
const char *eb_store_path(const struct eb_store *s);

int eb_store_begin(struct eb_store *s, struct eb_err *err);
int eb_store_commit(struct eb_store *s, struct eb_err *err);
void eb_store_rollback(struct eb_store *s);

/* The run-level facts; strings are copied. */
struct eb_run_info {
	const char *uuid, *name, *config_path, *config_json, *config_sha256;
	const char *version, *commit;
	const char *host, *os, *kernel, *arch, *cpu_model;
	long long cpu_cores, mem_bytes;
	const char *env_json; /* everything else about the environment */
};

int eb_store_run_add(struct eb_store *s, const struct eb_run_info *ri, int64_t *run_id,
		     struct eb_err *err);
/* status: running, ok, failed (a cell failed), interrupted. Sets finished_at unless running. */
int eb_store_run_set_status(struct eb_store *s, int64_t run_id, const char *status,
			    struct eb_err *err);
/*
 * The run's writer lock, taken inside the caller's transaction (eb_store_begin) together
 * with what it guards: one process runs a run's cells at a time. The lock row names this
 * process (pid, host, boot id and the process's start time, so a reused pid is not taken
 * for it). A lock held by another live process of this host, or by any process of another
 * host (which cannot be checked from here) unless `force`, fails with EB_EDB naming the
 * holder's pid and host; a lock left by a process of this host that is gone (SIGKILL, a
 * reboot) is taken over.
 */
int eb_store_run_lock(struct eb_store *s, int64_t run_id, int force, struct eb_err *err);
/* Drops this process's lock of the run (a no-op when it holds none). */
int eb_store_run_unlock(struct eb_store *s, int64_t run_id, struct eb_err *err);

/*
 * Folds the write-ahead log into the database file and truncates it (PRAGMA
 * wal_checkpoint(TRUNCATE)): when the handle closes, the database is the one file PATH, and
 * a copy of PATH alone holds every result. Failure (a full disk, another process reading
 * that keeps the log in use) is EB_EDB with a message that says PATH-wal holds the latest
 * results and how to fold them in. When PATH no longer names the file that was opened (it
 * was renamed or removed while open), the log is folded into that file all the same and
 * the call fails with EB_EDB saying where the results are (its new name, when this process
 * can tell).
 */
int eb_store_checkpoint(struct eb_store *s, struct eb_err *err);

/* Latest run with this config hash whose status is running or interrupted; EB_ENOENT if none. */
int eb_store_run_find_resumable(struct eb_store *s, const char *config_sha256, int64_t *run_id,
				char uuid[64], struct eb_err *err);

/*
 * A fact the run loop keeps with the run, under `key` of its env_json: `json` is a JSON
 * text (the device's modes before the run, so a resumed run still restores them). _get
 * sets *json to a malloc'd JSON text the caller frees, or NULL when the run has no such
 * fact. Both return 0 or EB_EDB.
 */
int eb_store_run_fact_set(struct eb_store *s, int64_t run_id, const char *key, const char *json,
			  struct eb_err *err);
int eb_store_run_fact_get(struct eb_store *s, int64_t run_id, const char *key, char **json,
			  struct eb_err *err);

struct eb_cell_row {
	const char *key, *target, *adapter, *model, *quant, *device, *workload;
	int prompt_tokens, gen_tokens;
	const char *params_json;
};

/* Adds a pending cell, or finds the existing one with the same key in the run. */
int eb_store_cell_ensure(struct eb_store *s, int64_t run_id, const struct eb_cell_row *c,
			 int64_t *cell_id, struct eb_err *err);
/* The cell's status ("pending", "ok", "failed", "skipped") into buf. */
int eb_store_cell_status(struct eb_store *s, int64_t cell_id, char *buf, size_t n,
			 struct eb_err *err);
/* Final state of a cell: status, error (or NULL), JSON texts (or NULL), wall duration. */
int eb_store_cell_finish(struct eb_store *s, int64_t cell_id, const char *status,
			 const char *error, const char *backend_json, const char *warnings_json,
			 double duration_s, struct eb_err *err);

/* One request's raw figures; NAN/negative values are stored as NULL. */
struct eb_request_row {
	int rep, warmup;
	int n_prompt, n_out, n_chunks;
	int64_t ttft_ns, e2e_ns, decode_ns;
	double prefill_tps, decode_tps;
	const char *server_json;
	int has_t_send;    /* 0: t_send_ns is NULL (the cell sampled no power) */
	int64_t t_send_ns; /* on the cell's power-sample clock: ns since the sampler started */
	/* token/chunk arrival times relative to t_send, and the tokens each carried */
	const uint64_t *t_ns;
	const int *n_tokens;
	size_t n_times;
};

int eb_store_request_add(struct eb_store *s, int64_t cell_id, const struct eb_request_row *r,
			 struct eb_err *err);

/*
 * Every sample of a sampler trace, with sensor, rail, unit (W, or B for memory rails),
 * the counter for energy rails and the rail flags (EB_RAIL_*); t_ns relative to t0.
 */
int eb_store_power_samples(struct eb_store *s, int64_t cell_id, const struct eb_trace *t,
			   uint64_t t0, struct eb_err *err);

/* A summary metric of a cell (name unique per cell). */
int eb_store_metric_add(struct eb_store *s, int64_t cell_id, const char *name, const char *unit,
			const struct eb_summary *sum, struct eb_err *err);
/* A single-valued metric (model bytes, KV bytes, peak RSS). */
int eb_store_metric_value(struct eb_store *s, int64_t cell_id, const char *name,
			  const char *unit, double value, struct eb_err *err);

/* One accuracy figure: its task, protocol and parameters travel with it. */
struct eb_accuracy_row {
	const char *task, *protocol, *metric;
	double value;      /* NaN is stored as NULL */
	double stderr_;    /* standard error, or NaN when the protocol defines none */
	long long n;       /* items, windows or tokens behind the figure; < 0: NULL */
	const char *params_json;
};

int eb_store_accuracy_add(struct eb_store *s, int64_t cell_id, const struct eb_accuracy_row *r,
			  struct eb_err *err);

/*
 * One item of an accuracy cell (a HellaSwag item, a perplexity window or chunk, a page):
 * what was asked (the dataset item `doc` and the sha256 of the prompt, of its text or of
 * its token ids as `prompt_hash_of` says) and what came back (result_json: the protocol's
 * per-item figures), with the chosen answer, the gold one and whether they agree (< 0:
 * NULL, for items without an answer).
 */
struct eb_sample_row {
	long long idx;
	const char *task, *protocol, *doc, *prompt_sha256, *prompt_hash_of, *result_json;
	long long answer, gold, correct;
};

int eb_store_sample_add(struct eb_store *s, int64_t cell_id, const struct eb_sample_row *r,
			struct eb_err *err);

/* Removes what a cell stored (requests, metrics, accuracy) before it is run again on resume. */
int eb_store_cell_clear(struct eb_store *s, int64_t cell_id, struct eb_err *err);

#endif
