/* report.h: the minimal per-cell report (table, csv, json) read from the database alone. */
#ifndef EB_REPORT_H
#define EB_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "../harness/store.h"

enum eb_report_format { EB_REPORT_TABLE, EB_REPORT_CSV, EB_REPORT_JSON };

/*
 * One row per cell of run `run_id` (0 = every run), columns run, target, model, quant,
 * status, ttft_ms, prefill_tps, decode_tps, e2e_ms, peak_rss_mb — each figure the median
 * over the cell's measured (non-warm-up) requests; NULL/empty when not measured.
 * `wide` adds prompt_tokens, gen_tokens, key and error; the table always shows
 * prompt_tokens and gen_tokens. Returns 0 or EB_EDB.
 */
int eb_report_cells(struct eb_store *s, int64_t run_id, enum eb_report_format fmt, int wide,
		    FILE *out, struct eb_err *err);

/* Prints runs and their cells with status (the `list` command). */
int eb_report_list(struct eb_store *s, FILE *out, struct eb_err *err);

#endif
