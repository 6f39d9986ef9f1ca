/* report.h: report tables (table, csv, json, md, latex, html) read from the database alone. */
#ifndef EB_REPORT_H
#define EB_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "store.h"
#include "rdata.h"
#include "table.h"

enum eb_report_layout {
	EB_LAYOUT_CELLS,   /* latency, accuracy and warnings tables (the default) */
	EB_LAYOUT_LONG,    /* one row per cell x metric with every stored summary field */
	EB_LAYOUT_WIDE,    /* one row per cell, one column (plus p90 or CI) per chosen metric */
	EB_LAYOUT_CARD,    /* metric rows x variants of one model, full precision first */
	EB_LAYOUT_SPEEDUP, /* per model and prompt length: baseline variant vs each other */
	EB_LAYOUT_REPEATS, /* per repeated cell and metric: statistics over its repeats */
	EB_LAYOUT_LOAD,    /* per variant: one row per concurrency or rate of its load cells */
};

struct eb_report_opts {
	enum eb_report_format fmt;
	enum eb_report_layout layout;
	enum eb_report_stat stat;
	struct eb_rsel sel;
	const char *const *metric_pats; /* NULL-terminated fnmatch patterns: cells, long, wide,
					 * card (each must match something: EB_ENOENT) */
	const char *const *metrics;     /* wide: the metric columns in order (NULL = default) */
	const char *baseline;           /* speedup: the baseline quant (required there) */
	int wide;                       /* cells: add key, error (and warning_text to csv/json) */
	int plots;                      /* html: embed SVG figures drawn by gnuplot */
	const char *gnuplot;            /* html plots: the program (NULL = default, see plot.h) */
	FILE *log;                      /* notes (plots left out and why); NULL = none */
};

/*
 * Writes the report. The cells layout: the latency table (run, device, target, model,
 * quant, prompt_tokens, gen_tokens, status, ttft_ms, prefill_tps, decode_tps, e2e_ms,
 * peak_rss_mb as median, or mean with EB_STAT_MEAN, warnings; key in csv and json; key
 * and error with `wide`), the accuracy table when the selection has accuracy cells, and
 * in the human formats the warnings (docs/reports.md). Returns 0, EB_EDB, EB_EINVAL (an
 * option the layout needs is missing) or EB_ENOENT (the speedup baseline matches no
 * cell, or a --metric pattern matches nothing the layout shows).
 */
int eb_report(struct eb_store *s, const struct eb_report_opts *o, FILE *out, struct eb_err *err);

/* Prints runs and their cells with status (the `list` command). */
int eb_report_list(struct eb_store *s, FILE *out, struct eb_err *err);

/* A metric's display label and default unit ("TTFT", "ms"); the name itself when unknown. */
const char *eb_metric_label(const char *name, const char **unit);

#endif
