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

/*
 * The Student t quantile t(p, df) for 0 < p < 1 and any df > 0, to full double precision:
 * the tail I_x(df/2, 1/2) / 2 (regularized incomplete beta, continued fraction) inverted
 * by Newton's method inside a shrinking bracket. NAN for p or df out of range.
 */
double eb_stats_t_quantile(double p, double df);

/* Two-sided 95% Student t quantile t(0.975, df) (eb_stats_t_quantile); NAN for df 0. */
double eb_stats_t975(size_t df);

/*
 * Two-sided Mann-Whitney U test of x[0..nx) against y[0..ny): U = the larger of U1 and
 * U2 (U1 from the rank sum of x, average ranks for ties), the normal approximation with
 * the tie correction sigma^2 = nx ny / 12 ((n + 1) - sum(t^3 - t) / (n (n - 1))) and a
 * continuity correction of 0.5: z = (U - nx ny / 2 - 0.5) / sigma, p = 2 (1 - Phi(z)),
 * at most 1 (scipy.stats.mannwhitneyu with method="asymptotic"). p = 1 when either side
 * is empty or every sample is equal. *u (may be NULL) gets U1. x and y are not modified;
 * neither may hold NAN.
 */
double eb_stats_mwu(const double *x, size_t nx, const double *y, size_t ny, double *u);

/*
 * Welch's two-sided t-test of x[0..nx) against y[0..ny) (nx, ny >= 2, no NAN): t = (mean y -
 * mean x) / sqrt(vx/nx + vy/ny) with the sample variances, df by Welch-Satterthwaite, p = 2
 * P(T_df > |t|) (scipy.stats.ttest_ind with equal_var=False). With both variances 0, p is 1
 * for equal means and 0 otherwise. NAN for nx or ny under 2. *t and *df (may be NULL) get
 * the statistic and the degrees of freedom.
 */
double eb_stats_welch(const double *x, size_t nx, const double *y, size_t ny, double *t,
		      double *df);

/*
 * The Kolmogorov distribution's survival function Q(lambda) = 2 sum_{j>=1} (-1)^(j-1)
 * exp(-2 j^2 lambda^2) (scipy.special.kolmogorov), to about 1e-15; 1 for lambda <= 0.
 */
double eb_stats_kolmogorov(double lambda);

/*
 * One-sample Kolmogorov-Smirnov test of x[0..n) (not modified, no NAN) against a
 * continuous CDF: D = sup |F_n(x) - cdf(x)|, p = Q((sqrt(n) + 0.12 + 0.11 / sqrt(n)) D),
 * Stephens' approximation (good to a few % in p for n >= 4; Numerical Recipes' probks).
 * *d (may be NULL) gets D. NAN for n == 0.
 */
double eb_stats_ks(const double *x, size_t n, double (*cdf)(double x, void *ud), void *ud,
		   double *d);

#endif
