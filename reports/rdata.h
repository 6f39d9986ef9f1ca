/* rdata.h: what reports, plots and compare read from the database, loaded once into memory. */
#ifndef EB_RDATA_H
#define EB_RDATA_H

#include <stddef.h>
#include <stdint.h>

#include "reader.h"

/* Which summary field stands for a metric: the median (with p90) or the mean (with its 95% CI). */
enum eb_report_stat { EB_STAT_MEDIAN, EB_STAT_MEAN };

/* One row of the metrics table; NULL numbers read as NAN, NULL counts as -1. */
struct eb_rmetric {
	char *name, *unit;
	long long n, n_outliers;
	double mean, stddev, median, min, max, p90, p99, ci_lo, ci_hi;
};

/* One row of the accuracy table: a figure with its standard error (NAN when NULL), how
 * many items or tokens it scored (n, -1 when NULL) and the task's `limit` (-1 when the
 * whole dataset was scored). protocol is "" when NULL. */
struct eb_racc {
	char *task, *protocol, *metric;
	double value, stderr_;
	long long n, limit;
};

/* One cell with its metrics (sorted by name), its accuracy figures (in the database's
 * order: task, metric) and its warnings (the strings of warnings_json). Strings are never
 * NULL ("" for NULL), except error, which is NULL when the cell has none; lengths are -1
 * when NULL. */
struct eb_rcell {
	int64_t id, run_id;
	char *key, *target, *adapter, *model, *quant, *device, *workload, *status, *error;
	int prompt_tokens, gen_tokens;
	struct eb_rmetric *m;
	size_t nm;
	struct eb_racc *acc;
	size_t nacc;
	char **warnings;
	size_t nwarn;
	char *mode; /* the device mode it ran in; "" when none was set */
	int repeat; /* 1..N with `repeat`; -1 when the run repeats nothing */
};

/*
 * Selection: run_id 0 = every run, or with latest_per_device each device's latest run
 * (the default of report and plot: a merged lab database shows every device's last
 * night, one database of one device its last run); each pattern list is NULL-terminated
 * (NULL or empty = everything) and a value is kept when it matches one fnmatch(3) pattern
 * of the list. A device's latest run is the highest run id among the cells of that device
 * that pass the patterns.
 */
struct eb_rsel {
	int64_t run_id;
	int latest_per_device;
	const char *const *targets, *const *models, *const *quants, *const *devices;
	const char *const *keys; /* cell keys (plot --only) */
};

/* Whether the cell (as the reader gives it) passes the selection's patterns (not runs). */
int eb_rsel_match(const struct eb_rsel *sel, const struct eb_store_cell *c);

/* Cells in (run_id, id) order. Owned by the struct; eb_rdata_release frees everything.
 * acc_unreadable: the database has an accuracy table of a layout this build cannot read
 * (a database from elsewhere); the cells then have no accuracy figures. */
struct eb_rdata {
	struct eb_rcell *cells;
	size_t n;
	size_t n_runs; /* distinct runs among the cells */
	int acc_unreadable;
	int has_modes;   /* a cell ran in a device mode: layouts show the mode */
	int has_repeats; /* a cell is one of several repeats */
};

/* Loads the selected cells and their metrics. Returns 0 or EB_EDB (err says why). */
int eb_rdata_load(struct eb_store *s, const struct eb_rsel *sel, struct eb_rdata *d,
		  struct eb_err *err);
void eb_rdata_release(struct eb_rdata *d);

/*
 * Fills c->warnings and c->nwarn from a cells.warnings_json (NULL or "" = none): each
 * string of the array; anything else (a database from elsewhere) as one warning, its text
 * as stored, so that nothing is dropped. eb_rcell_warnings_release frees them.
 */
void eb_rcell_warnings(struct eb_rcell *c, const char *warnings_json);
void eb_rcell_warnings_release(struct eb_rcell *c);

/* Whether a cell measured accuracy (workload "accuracy") rather than inference. */
int eb_rcell_is_accuracy(const struct eb_rcell *c);

/* The cell's metric of that name, or NULL. */
const struct eb_rmetric *eb_rcell_metric(const struct eb_rcell *c, const char *name);

/* The cell's accuracy figure of that metric name (the first, by task), or NULL. */
const struct eb_racc *eb_rcell_acc(const struct eb_rcell *c, const char *metric);

/* The metric's median or mean (NAN when m is NULL or the field is NULL). */
double eb_rmetric_stat(const struct eb_rmetric *m, enum eb_report_stat stat);

/* A growable NULL-terminated list of strings (patterns from repeatable, comma-separated
 * options). `v` is NULL until the first add; eb_strlist_release frees everything. */
struct eb_strlist {
	char **v;
	size_t n;
};
/* Adds each comma-separated part of s (empty parts are skipped). */
void eb_strlist_add_split(struct eb_strlist *l, const char *s);
void eb_strlist_release(struct eb_strlist *l);

/* True when `pats` is NULL/empty or one of its fnmatch patterns matches s. */
int eb_pat_match(const char *const *pats, const char *s);

/*
 * Average power of a cell: its `power_avg_w` metric (the all-sensors total over the
 * measured requests, docs/methodology.md "Power and energy") with *n_samples its power
 * samples (or its requests when the samples were not stored). Without that metric (a database from
 * elsewhere holding only samples): per (sensor, rail) the mean of the samples, then the
 * total rail (VDD_IN, POM_5V_IN, or a rail named "total", case insensitive) when the cell
 * has one, else the sum of its rails. *watts = NAN and *n_samples = 0 when the cell has
 * neither. Returns 0 or EB_EDB.
 */
int eb_rdata_cell_power(struct eb_store *s, int64_t cell_id, double *watts, long long *n_samples,
			struct eb_err *err);

/*
 * Raw per-request samples of a measured (non-warm-up) column of the requests table for a
 * cell: `what` is "ttft_ms", "e2e_ms", "prefill_tps", "decode_tps" or "tpot_ms" (1000 /
 * decode_tps). *x is malloc'd (caller frees; NULL when *n == 0). EB_EINVAL for another name.
 */
int eb_rdata_raw(struct eb_store *s, int64_t cell_id, const char *what, double **x, size_t *n,
		 struct eb_err *err);
/* True when eb_rdata_raw knows `what`. */
int eb_rdata_has_raw(const char *what);

/*
 * The variant's quantization scheme labels from the run's stored config JSON
 * (models[id=model].variants[quant=quant].scheme.{weights,activations,kv_cache}):
 * malloc'd strings (caller frees) or NULL where absent. Returns 0 or EB_EDB.
 */
int eb_rdata_scheme(struct eb_store *s, int64_t run_id, const char *model, const char *quant,
		    char **weights, char **activations, char **kv_cache, struct eb_err *err);

/*
 * A number in at most 4 significant digits, or as an integer from 1000 up (the rule every
 * human-readable format uses: 0.01234, 1.235, 12.35, 123.5, 1235, 123457). "" for NAN.
 */
void eb_fmt_num(char *buf, size_t n, double v);

/* Whether a quant label names full precision (f32, fp32, f16, fp16, bf16; case insensitive). */
int eb_quant_is_full(const char *quant);

#endif
