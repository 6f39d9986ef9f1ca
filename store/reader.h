/* reader.h: what reports, plots, compare and the commands read from the database, row by row. */
#ifndef EB_READER_H
#define EB_READER_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/*
 * Every eb_store_read_* function runs one query and calls `fn` once per row with a row
 * whose strings belong to the store and stay valid only during that call (copy what you
 * keep). A `run_id` of 0 means every run. Text columns that are NULL arrive as NULL,
 * real columns as NAN, count columns as -1, unless a row says otherwise. `fn` returns 0
 * to go on; any other value stops the read and is returned as is (set `err` first when
 * it is an error). Otherwise the functions return 0 after the last row, or EB_EDB with
 * "cannot read 'PATH': why" in err.
 */

/* A run with how many cells it has, how many of them are ok, failed, skipped or still
 * pending (the four add up to n_cells), and the warnings its cells carry: n_warnings in
 * all, in n_warned cells. */
struct eb_store_run {
	int64_t id;
	const char *uuid, *name, *host, *version, *status, *started_at, *finished_at;
	int n_cells, n_ok, n_failed, n_skipped, n_pending, n_warnings, n_warned;
};

/* Runs in id order. */
int eb_store_read_runs(struct eb_store *s, int64_t run_id,
		       int (*fn)(void *arg, const struct eb_store_run *r), void *arg,
		       struct eb_err *err);

/* A cell: identity, how it ended (error NULL when none; warnings_json, a JSON array of
 * strings, NULL when none) and how long it took; the device mode it ran in (NULL: none
 * set) and its repeat (1..N; -1 when the run repeats nothing), both from its params_json. */
struct eb_store_cell {
	int64_t id, run_id;
	const char *key, *target, *adapter, *model, *quant, *device, *workload, *status, *error;
	const char *warnings_json;
	long long prompt_tokens, gen_tokens;
	double duration_s;
	const char *mode;
	long long repeat;
};

/* Cells in (run_id, id) order. */
int eb_store_read_cells(struct eb_store *s, int64_t run_id,
			int (*fn)(void *arg, const struct eb_store_cell *c), void *arg,
			struct eb_err *err);

/*
 * A part of a cell's backend_json by JSON path ("$.sustained.windows") into *json, a
 * malloc'd JSON text the caller frees, or NULL when the cell has no such part (or no
 * valid backend_json). Returns 0 or EB_EDB.
 */
int eb_store_cell_backend(struct eb_store *s, int64_t cell_id, const char *path, char **json,
			  struct eb_err *err);

/* As eb_store_cell_backend, from the cell's params_json ("$.slo": a load cell's SLOs). */
int eb_store_cell_params(struct eb_store *s, int64_t cell_id, const char *path, char **json,
			 struct eb_err *err);

/* One row of the metrics table: a cell's summary of one metric. */
struct eb_store_metric {
	int64_t cell_id;
	const char *name, *unit;
	long long n, n_outliers;
	double mean, stddev, median, min, max, p90, p99, ci_lo, ci_hi;
};

/* The metrics of the run's cells, in no particular order. */
int eb_store_read_metrics(struct eb_store *s, int64_t run_id,
			  int (*fn)(void *arg, const struct eb_store_metric *m), void *arg,
			  struct eb_err *err);

/* A measured (not warm-up) request's figures; times in ns. */
struct eb_store_request {
	int64_t cell_id;
	double ttft_ns, e2e_ns, prefill_tps, decode_tps;
};

/* The measured requests of the run's cells, a cell's requests in id order. */
int eb_store_read_requests(struct eb_store *s, int64_t run_id,
			   int (*fn)(void *arg, const struct eb_store_request *q), void *arg,
			   struct eb_err *err);

/* A column of the requests table that holds one figure per request. */
enum eb_store_req_col {
	EB_REQ_TTFT_NS,
	EB_REQ_E2E_NS,
	EB_REQ_PREFILL_TPS,
	EB_REQ_DECODE_TPS,
};

/* The non-NULL values of that column over the cell's measured requests, in id order. */
int eb_store_read_request_values(struct eb_store *s, int64_t cell_id, enum eb_store_req_col col,
				 int (*fn)(void *arg, double v), void *arg, struct eb_err *err);

/* When a measured request ran on the power samples' clock: sent, first token, last token
 * at t_send_ns, t_send_ns + ttft_ns, t_send_ns + e2e_ns. */
struct eb_store_send {
	int64_t cell_id, t_send_ns, ttft_ns, e2e_ns;
};

/*
 * The run's measured requests that have all three times, by send time. A database whose
 * requests table has no t_send_ns column (one written before schema 3) has no rows.
 */
int eb_store_read_sends(struct eb_store *s, int64_t run_id,
			int (*fn)(void *arg, const struct eb_store_send *q), void *arg,
			struct eb_err *err);

/* One token (or chunk) arrival of a measured request, t_ns after it was sent. */
struct eb_store_token {
	int64_t cell_id, request_id, idx, t_ns;
};

/* The token times of the run's measured requests; the rows of one request come together,
 * in no particular order otherwise. */
int eb_store_read_tokens(struct eb_store *s, int64_t run_id,
			 int (*fn)(void *arg, const struct eb_store_token *t), void *arg,
			 struct eb_err *err);

/* A power sample with a reading (samples without watts are skipped). */
struct eb_store_power {
	int64_t cell_id, t_ns;
	const char *sensor, *rail;
	double watts;
};

/* The run's power samples ordered by sensor, rail and time. */
int eb_store_read_power(struct eb_store *s, int64_t run_id,
			int (*fn)(void *arg, const struct eb_store_power *p), void *arg,
			struct eb_err *err);

/* The mean reading of one (sensor, rail) of a cell over its n samples with a reading. */
struct eb_store_rail {
	const char *sensor, *rail;
	double watts;
	long long n;
};

/* A cell's rails, one row per (sensor, rail). */
int eb_store_read_rails(struct eb_store *s, int64_t cell_id,
			int (*fn)(void *arg, const struct eb_store_rail *r), void *arg,
			struct eb_err *err);

/*
 * The cell's power_avg_w metric: *found = 1 with its mean and n (0 when NULL), and
 * *n_samples the power samples stored for the cell (with a reading); *found = 0 when the
 * cell has no such metric or its mean is NULL. Returns 0 or EB_EDB.
 */
int eb_store_cell_power_avg(struct eb_store *s, int64_t cell_id, int *found, double *mean,
			    long long *n, long long *n_samples, struct eb_err *err);

/* An accuracy figure with how many items or tokens it scored (n, -1 when NULL) and the
 * protocol's parameters (params_json, NULL when none); protocol may be NULL in a table
 * made elsewhere. */
struct eb_store_accuracy {
	int64_t cell_id;
	const char *task, *protocol, *metric;
	double value, stderr_;
	long long n;
	const char *params_json;
};

/*
 * Accuracy figures of the run's cells (cell_id 0) or of one cell, by task, metric and
 * cell. Needs the accuracy table (see eb_store_has_table): EB_EDB without it, or with a
 * table of another layout.
 */
int eb_store_read_accuracy(struct eb_store *s, int64_t run_id, int64_t cell_id,
			   int (*fn)(void *arg, const struct eb_store_accuracy *a), void *arg,
			   struct eb_err *err);

/*
 * A per-item record of an accuracy cell (store.h, struct eb_sample_row) with its cell's
 * key and device and the parameters of the cell's figures (params_json: dataset,
 * dataset_sha256, counts). answer, gold and correct are -1 when NULL.
 */
struct eb_store_sample {
	int64_t cell_id, run_id;
	long long idx;
	const char *key, *device, *task, *protocol, *doc, *prompt_sha256, *prompt_hash_of;
	const char *result_json, *params_json;
	long long answer, gold, correct;
};

/* The per-item records of the run's cells (cell_id 0) or of one cell, by cell then item. */
int eb_store_read_samples(struct eb_store *s, int64_t run_id, int64_t cell_id,
			  int (*fn)(void *arg, const struct eb_store_sample *r), void *arg,
			  struct eb_err *err);

/* Whether a table of that name exists (the accuracy table comes with schema 2): *has, and
 * 0 or EB_EDB. */
int eb_store_has_table(struct eb_store *s, const char *name, int *has, struct eb_err *err);

/*
 * Resolves a run reference: "latest", "latest~N" (N runs before the latest, by id), or a
 * run id that must exist. EB_ENOENT (err names the database) when there is no such run,
 * EB_EINVAL when `ref` is none of these, EB_EDB when the database cannot be read.
 */
int eb_store_run_resolve(struct eb_store *s, const char *ref, int64_t *run_id,
			 struct eb_err *err);

/*
 * eb_store_run_resolve among the runs with a cell whose device matches the fnmatch(3)
 * pattern `device` (a NULL device column reads as ""): "latest~N" is then the N-th run
 * before the latest run of that device, and a run id must have such a cell. A NULL
 * `device` is eb_store_run_resolve itself. Errors as eb_store_run_resolve's, the device
 * named in err.
 */
int eb_store_run_resolve_device(struct eb_store *s, const char *ref, const char *device,
				int64_t *run_id, struct eb_err *err);

/* The sha256 of the config the run was started with: *sha is malloc'd (caller frees),
 * NULL when the run is absent. Returns 0 or EB_EDB. */
int eb_store_run_config_sha256(struct eb_store *s, int64_t run_id, char **sha,
			       struct eb_err *err);

/* The config JSON the run was started with: *json is malloc'd (caller frees), NULL when
 * the run or its config is absent. Returns 0 or EB_EDB. */
int eb_store_run_config(struct eb_store *s, int64_t run_id, char **json, struct eb_err *err);

#endif
