/* repeats.h: the repeats layout: run-to-run statistics of cells that ran several times. */
#ifndef EB_REPEATS_H
#define EB_REPEATS_H

#include "rdata.h"
#include "table.h"

/*
 * One row per repeated cell (the cells of a run that differ only in their repeat #N) and
 * metric: the metric's figure of each repeat (its median, or mean with EB_STAT_MEAN) of
 * the repeats that ended ok, summarized over repeats: n, mean, its 95% interval (mean
 * -/+ t(0.975, n-1) s / sqrt(n)), the standard deviation, the coefficient of variation
 * (s / mean) and the smallest and largest. `metric_pats` picks the metrics (NULL or
 * empty: those named in figures[0..nfig)). Cells without a repeat are left out.
 * Initializes `t`.
 */
/*
 * The identity columns every per-cell layout starts with (report.c): run, target, model,
 * quant, prompt and gen tokens, then mode and repeat when a cell of `d` has them.
 * eb_ident_vals fills them for cell c in row r and returns the next column.
 */
void eb_ident_cols(struct eb_table *t, const struct eb_rdata *d);
size_t eb_ident_vals(struct eb_table *t, size_t r, const struct eb_rcell *c,
		     const struct eb_rdata *d);

void eb_layout_repeats(const struct eb_rdata *d, enum eb_report_stat stat,
		       const char *const *metric_pats, const char *const *figures, size_t nfig,
		       struct eb_table *t);

#endif
