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
 * U test (eb_stats_mwu); metrics without raw samples (single values, itl_ms, mbu) use the
 * threshold alone.
 * A cell that is ok in the baseline and not in the candidate is a regression too.
 * Writes the report on `out` and the JUnit file when asked. Returns 0 (counts filled) or
 * EB_EDB / EB_EIO with err set.
 */
int eb_compare(const struct eb_cmp_side *base, const struct eb_cmp_side *cand,
	       const struct eb_cmp_opts *o, FILE *out, struct eb_cmp_counts *counts,
	       struct eb_err *err);

#endif
