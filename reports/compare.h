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
	int allow_missing;                  /* 1: a baseline cell absent from the candidate passes */
};

/* One side of a comparison: a run in an open database, and the devices of its cells that
 * take part (NULL-terminated fnmatch patterns; NULL = every device). */
struct eb_cmp_side {
	struct eb_store *s;
	int64_t run_id;
	const char *const *device_pats;
};

/*
 * Counts of the results, each the number of rows of its section in every format (per cell
 * x figure, or per cell for a change of status; missing and added: per cell). matched:
 * cells paired by device and key; failures: regressions, plus the missing cells unless
 * allow_missing.
 */
struct eb_cmp_counts {
	size_t matched, regressions, improvements, not_significant, unchanged, missing, added;
	size_t failures;
};

/*
 * Matches cells by device and key (a cell's device is part of its identity: cells of two
 * devices never pair up) and judges each figure both cells have by its direction in the
 * metric registry (metrics/metric.h); a figure without one, or a name the registry does
 * not know, is shown but never judged. A change is a regression (or an improvement) only
 * when the candidate moved against (or with) the direction by more than the threshold
 * AND the test finds it significant at `alpha`:
 *   - summary metrics: the medians, two-sided Mann-Whitney U on the raw per-request
 *     samples (eb_stats_mwu);
 *   - itl_ms: by request, each request's median gap and its p90 gap one sample (two
 *     results), never the pooled gaps of all requests;
 *   - accuracy figures (the accuracy table): z = (c - b) / sqrt(se_b^2 + se_c^2) on their
 *     stored standard errors, two-sided;
 *   - figures without samples or standard errors: the threshold alone.
 * A cell that is ok in the baseline and not in the candidate is a regression too; a
 * baseline cell the candidate lacks is a failure unless o->allow_missing.
 * Writes the report on `out` and the JUnit file when asked. Returns 0 (counts filled),
 * EB_ENOENT when nothing was compared (no cell matched, or no figure of the matched cells
 * was selected: err says which, and a JUnit file, when asked, holds one error saying so)
 * or EB_EDB / EB_EIO with err set.
 */
int eb_compare(const struct eb_cmp_side *base, const struct eb_cmp_side *cand,
	       const struct eb_cmp_opts *o, FILE *out, struct eb_cmp_counts *counts,
	       struct eb_err *err);

#endif
