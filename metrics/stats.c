/* stats.c: summary statistics over raw samples (see stats.h). */
#include "stats.h"

#include "eb_err.h"
#include "eb_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int eb_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double eb_stats_quantile_sorted(const double *sorted, size_t n, double q)
{
	double h, frac;
	size_t lo;

	if (n == 0)
		return NAN;
	if (q <= 0)
		return sorted[0];
	if (q >= 1)
		return sorted[n - 1];
	h = (double)(n - 1) * q;
	lo = (size_t)floor(h);
	frac = h - (double)lo;
	if (lo + 1 >= n)
		return sorted[n - 1];
	return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

/* t(0.975, df) for df 1..30, then selected larger df; beyond, the normal 1.959964. */
double eb_stats_t975(size_t df)
{
	static const double t[31] = { NAN,    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469,
				      2.3646, 2.3060,  2.2622, 2.2281, 2.2010, 2.1788, 2.1604,
				      2.1448, 2.1314,  2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
				      2.0796, 2.0739,  2.0687, 2.0639, 2.0595, 2.0555, 2.0518,
				      2.0484, 2.0452,  2.0423 };
	if (df == 0)
		return NAN;
	if (df <= 30)
		return t[df];
	if (df <= 40)
		return 2.0423 + (2.0211 - 2.0423) * (double)(df - 30) / 10.0;
	if (df <= 60)
		return 2.0211 + (2.0003 - 2.0211) * (double)(df - 40) / 20.0;
	if (df <= 120)
		return 2.0003 + (1.9799 - 2.0003) * (double)(df - 60) / 60.0;
	return 1.959964 + 2.4 / (double)df; /* within 1e-3 of the exact value past 120 */
}

size_t eb_stats_outliers_mad(const double *x, size_t n, double thresh, int *flags)
{
	double *d, med, mad;
	size_t count = 0;

	if (flags)
		memset(flags, 0, n * sizeof(*flags));
	if (n < 3)
		return 0;
	d = malloc(n * sizeof(*d));
	if (!d)
		return 0;
	memcpy(d, x, n * sizeof(*d));
	qsort(d, n, sizeof(*d), eb_cmp_double);
	med = eb_stats_quantile_sorted(d, n, 0.5);
	for (size_t i = 0; i < n; i++)
		d[i] = fabs(x[i] - med);
	qsort(d, n, sizeof(*d), eb_cmp_double);
	mad = eb_stats_quantile_sorted(d, n, 0.5);
	free(d);
	if (!(mad > 0))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (fabs(0.6745 * (x[i] - med) / mad) > thresh) {
			count++;
			if (flags)
				flags[i] = 1;
		}
	}
	return count;
}

int eb_stats_summarize(const double *x, size_t n, struct eb_summary *s)
{
	double *v, sum = 0, ss = 0;

	s->n = n;
	s->mean = s->stddev = s->median = s->min = s->max = NAN;
	s->p90 = s->p99 = s->ci_lo = s->ci_hi = NAN;
	s->n_outliers = 0;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (isnan(x[i]))
			return EB_EINVAL;
	v = malloc(n * sizeof(*v));
	if (!v)
		return EB_ENOMEM;
	memcpy(v, x, n * sizeof(*v));
	qsort(v, n, sizeof(*v), eb_cmp_double);
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	s->mean = sum / (double)n;
	for (size_t i = 0; i < n; i++)
		ss += (v[i] - s->mean) * (v[i] - s->mean);
	s->min = v[0];
	s->max = v[n - 1];
	s->median = eb_stats_quantile_sorted(v, n, 0.5);
	s->p90 = eb_stats_quantile_sorted(v, n, 0.9);
	s->p99 = eb_stats_quantile_sorted(v, n, 0.99);
	if (n > 1) {
		double half;

		s->stddev = sqrt(ss / (double)(n - 1));
		half = eb_stats_t975(n - 1) * s->stddev / sqrt((double)n);
		s->ci_lo = s->mean - half;
		s->ci_hi = s->mean + half;
	}
	free(v);
	s->n_outliers = eb_stats_outliers_mad(x, n, 3.5, NULL);
	return 0;
}

/* eb_stats_mwu on samples already sorted ascending: the ranks come from one merge. */
static double eb_mwu_sorted(const double *x, size_t nx, const double *y, size_t ny, double *u)
{
	size_t n = nx + ny, i = 0, j = 0, pos = 0;
	double r1 = 0, ties = 0, u1, u2, big, mu, var, z, p;

	if (u)
		*u = NAN;
	if (nx == 0 || ny == 0)
		return 1;
	while (i < nx || j < ny) {
		double v = i == nx ? y[j] : j == ny ? x[i] : (x[i] < y[j] ? x[i] : y[j]);
		size_t cx = 0, cy = 0;
		double t;

		while (i < nx && x[i] == v) {
			i++;
			cx++;
		}
		while (j < ny && y[j] == v) {
			j++;
			cy++;
		}
		t = (double)(cx + cy);
		/* ranks pos+1 .. pos+t share their average */
		r1 += (double)cx * ((double)pos + (t + 1) / 2.0);
		ties += t * t * t - t;
		pos += cx + cy;
	}
	u1 = r1 - (double)nx * (double)(nx + 1) / 2.0;
	u2 = (double)nx * (double)ny - u1;
	if (u)
		*u = u1;
	big = u1 > u2 ? u1 : u2;
	mu = (double)nx * (double)ny / 2.0;
	var = (double)nx * (double)ny / 12.0 *
	      (((double)n + 1) - (n > 1 ? ties / ((double)n * (double)(n - 1)) : 0));
	if (!(var > 0))
		return 1;
	z = (big - mu - 0.5) / sqrt(var);
	p = erfc(z / sqrt(2.0)); /* 2 * (1 - Phi(z)) */
	return p > 1 ? 1 : p;
}

double eb_stats_mwu(const double *x, size_t nx, const double *y, size_t ny, double *u)
{
	double *a = eb_xmalloc((nx + ny + 1) * sizeof(double));
	double p;

	/* equal samples are interchangeable, so the sort's order among them cannot matter */
	memcpy(a, x, nx * sizeof(double));
	memcpy(a + nx, y, ny * sizeof(double));
	qsort(a, nx, sizeof(double), eb_cmp_double);
	qsort(a + nx, ny, sizeof(double), eb_cmp_double);
	p = eb_mwu_sorted(a, nx, a + nx, ny, u);
	free(a);
	return p;
}
