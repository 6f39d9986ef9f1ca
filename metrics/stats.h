/* stats.h: summary statistics over raw samples, as every edgebench aggregate is computed. */
#ifndef EB_STATS_H
#define EB_STATS_H

#include <stddef.h>

/*
 * Summary of n samples. Percentiles interpolate linearly between order statistics
 * (Hyndman-Fan type 7, numpy's default). stddev is the sample standard deviation
 * (n - 1). ci_lo/ci_hi: 95% confidence interval of the mean, mean -/+ t(0.975, n-1) *
 * stddev / sqrt(n). With n == 1 stddev and the interval are NAN; with n == 0 every
 * field but n is NAN. n_outliers counts samples whose MAD-based modified z-score
 * (0.6745 (x - median) / MAD) exceeds 3.5 in magnitude; none are ever dropped.
 */
struct eb_summary {
	size_t n;
	double mean, stddev, median, min, max, p90, p99, ci_lo, ci_hi;
	size_t n_outliers;
};

/* Summarizes x[0..n) (x is not modified). Returns 0, or EB_EINVAL for a NAN sample. */
int eb_stats_summarize(const double *x, size_t n, struct eb_summary *s);

/* Quantile q in [0,1] of an ascending array, type 7; NAN when n == 0. */
double eb_stats_quantile_sorted(const double *sorted, size_t n, double q);

/*
 * Marks outliers by modified z-score > thresh (3.5 is usual) in flags[0..n) (1 = outlier,
 * flags may be NULL) and returns how many. MAD == 0 marks none.
 */
size_t eb_stats_outliers_mad(const double *x, size_t n, double thresh, int *flags);

/* Two-sided 95% Student t quantile t(0.975, df); df >= 1. */
double eb_stats_t975(size_t df);

#endif
