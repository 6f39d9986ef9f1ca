/* compare.h: regression verdicts between two runs (threshold and Mann-Whitney U), md/json/JUnit. */
#ifndef EB_COMPARE_H
#define EB_COMPARE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rdata.h"

/* A per-metric threshold override (--metric-threshold name=pct). */
struct eb_cmp_thr {
	const char *name;
	double pct;
};

struct eb_cmp_opts {
	double threshold_pct;               /* relative change that counts, percent (default 5) */
	const struct eb_cmp_thr *per_metric; /* overrides, n_per_metric of them */
	size_t n_per_metric;
	const char *const *metric_pats;     /* NULL-terminated fnmatch patterns; NULL = all */
	double alpha;                       /* significance level (default 0.05) */
	int json;                           /* 1: json on `out`, 0: markdown */
	const char *junit;                  /* NULL, or a path for JUnit XML */
};

/* One side of a comparison: a run in an open database, and how to name it. */
struct eb_cmp_side {
	struct eb_store *s;
	int64_t run_id;
};

/* Counts of the verdicts (per cell x metric, except missing and new: per cell). */
struct eb_cmp_counts {
	size_t regressions, improvements, unchanged, missing, added;
};

/*
 * Matches cells by key and judges each metric both runs have by its direction in the
 * metric registry (metrics/metric.h); a metric without one, or a name the registry does
 * not know, is shown but never judged. A change is a regression (or an improvement) only
 * when the candidate's median moved against (or with) the direction by more than the
 * threshold AND the raw per-request samples differ at `alpha` by a two-sided Mann-Whitney
 * U test (eb_mwu);
 * metrics without raw samples (single values, itl_ms, mbu) use the threshold alone.
 * A cell that is ok in the baseline and not in the candidate is a regression too.
 * Writes the report on `out` and the JUnit file when asked. Returns 0 (counts filled) or
 * EB_EDB / EB_EIO with err set.
 */
int eb_compare(const struct eb_cmp_side *base, const struct eb_cmp_side *cand,
	       const struct eb_cmp_opts *o, FILE *out, struct eb_cmp_counts *counts,
	       struct eb_err *err);

/*
 * Two-sided Mann-Whitney U test of x[0..nx) against y[0..ny): U = the larger of U1 and
 * U2 (U1 from the rank sum of x, average ranks for ties), the normal approximation with
 * the tie correction sigma^2 = nx ny / 12 ((n + 1) - sum(t^3 - t) / (n (n - 1))) and a
 * continuity correction of 0.5: z = (U - nx ny / 2 - 0.5) / sigma, p = 2 (1 - Phi(z)),
 * at most 1 (scipy.stats.mannwhitneyu with method="asymptotic"). p = 1 when either side
 * is empty or every sample is equal. *u (may be NULL) gets U1.
 */
double eb_mwu(const double *x, size_t nx, const double *y, size_t ny, double *u);

#endif
