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

/*
 * ln B(a, 1/2) - ln sqrt(pi) = ln Gamma(a) - ln Gamma(a + 1/2). Past a = 50 the two lgamma
 * values are large and nearly equal, so their difference would lose digits (at a = 5e5
 * about 1e-9 of them); there Stirling's series is taken for the difference itself.
 */
static double eb_lgamma_half_ratio(double a)
{
	double a2 = a + 0.5, r;

	if (a < 50)
		return lgamma(a) - lgamma(a2);
	/* (a - 1/2) ln a - a - (a ln a2 - a2), then 1/(12x) - 1/(360x^3) + 1/(1260x^5) */
	r = -0.5 * log(a) - a * log1p(0.5 / a) + 0.5;
	r += (1.0 / a - 1.0 / a2) / 12.0;
	r -= (1.0 / (a * a * a) - 1.0 / (a2 * a2 * a2)) / 360.0;
	r += (1.0 / pow(a, 5) - 1.0 / pow(a2, 5)) / 1260.0;
	return r;
}

/* The continued fraction of the incomplete beta function (modified Lentz), which
 * converges for x < (a + 1) / (a + b + 2). */
static double eb_betacf(double a, double b, double x)
{
	const double tiny = 1e-300;
	double c = 1, d = 1 - (a + b) * x / (a + 1), h;

	if (fabs(d) < tiny)
		d = tiny;
	d = 1 / d;
	h = d;
	for (int m = 1; m <= 100000; m++) {
		double m2 = 2.0 * m, aa, del;

		aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
		d = 1 + aa * d;
		d = fabs(d) < tiny ? tiny : d;
		c = 1 + aa / c;
		c = fabs(c) < tiny ? tiny : c;
		d = 1 / d;
		h *= d * c;
		aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
		d = 1 + aa * d;
		d = fabs(d) < tiny ? tiny : d;
		c = 1 + aa / c;
		c = fabs(c) < tiny ? tiny : c;
		d = 1 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1) < 1e-16)
			break;
	}
	return h;
}

/*
 * The upper tail P(T > t) of Student's t with df degrees of freedom, t >= 0:
 * I_x(df/2, 1/2) / 2 with x = df / (df + t^2), the regularized incomplete beta function.
 * Logarithms are taken as log1p of t^2/df so that x near 1 (large df) keeps its digits.
 */
static double eb_t_tail(double t, double df)
{
	double a = df / 2, b = 0.5, u = t * t / df;
	double lnx = -log1p(u), ln1x = log(u) - log1p(u), x = 1 / (1 + u), front;

	if (t <= 0)
		return 0.5;
	/* ln(x^a (1-x)^b / B(a, b)), B(a, 1/2) = sqrt(pi) Gamma(a) / Gamma(a + 1/2) */
	front = exp(a * lnx + b * ln1x - eb_lgamma_half_ratio(a) - 0.5 * log(M_PI));
	if (x < (a + 1) / (a + b + 2))
		return front * eb_betacf(a, b, x) / a / 2;
	return (1 - front * eb_betacf(b, a, 1 - x) / b) / 2;
}

/* The density of Student's t at t. */
static double eb_t_pdf(double t, double df)
{
	double a = df / 2;

	return exp(-eb_lgamma_half_ratio(a) - (a + 0.5) * log1p(t * t / df)) /
	       sqrt(df * M_PI);
}

double eb_stats_t_quantile(double p, double df)
{
	double q, t, lo = 0, hi = INFINITY;

	if (!(df > 0) || !(p > 0 && p < 1))
		return NAN;
	if (p == 0.5)
		return 0;
	if (p < 0.5)
		return -eb_stats_t_quantile(1 - p, df);
	q = 1 - p;
	if (df == 1) /* Cauchy: exact in closed form */
		return tan(M_PI * (p - 0.5));
	/* start at the normal quantile's first correction, then Newton on the tail,
	 * kept inside the bracket [lo, hi] that every step narrows */
	t = 1.959964 * (1 + 1 / df) * (q < 0.05 ? 1 : 0.5);
	for (int i = 0; i < 200; i++) {
		double g = eb_t_tail(t, df) - q, step, next;

		if (g > 0)
			lo = t;
		else if (g < 0)
			hi = t;
		else
			break;
		step = g / eb_t_pdf(t, df);
		next = t + step;
		if (!(next > lo && next < hi))
			next = isinf(hi) ? 2 * t + 1 : (lo + hi) / 2;
		if (fabs(next - t) <= 4e-16 * fabs(next)) {
			t = next;
			break;
		}
		t = next;
	}
	return t;
}

double eb_stats_t975(size_t df)
{
	return df == 0 ? NAN : eb_stats_t_quantile(0.975, (double)df);
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

/* Sample mean and variance (n - 1) of x[0..n). */
static void eb_mean_var(const double *x, size_t n, double *mean, double *var)
{
	double m = 0, ss = 0;

	for (size_t i = 0; i < n; i++)
		m += x[i];
	m /= (double)n;
	for (size_t i = 0; i < n; i++)
		ss += (x[i] - m) * (x[i] - m);
	*mean = m;
	*var = ss / (double)(n - 1);
}

double eb_stats_welch(const double *x, size_t nx, const double *y, size_t ny, double *t,
		      double *df)
{
	double mx, vx, my, vy, ax, ay, se, tt, d, p;

	if (t)
		*t = NAN;
	if (df)
		*df = NAN;
	if (nx < 2 || ny < 2)
		return NAN;
	eb_mean_var(x, nx, &mx, &vx);
	eb_mean_var(y, ny, &my, &vy);
	ax = vx / (double)nx;
	ay = vy / (double)ny;
	se = sqrt(ax + ay);
	if (!(se > 0)) /* no spread on either side: the means alone decide */
		return mx == my ? 1.0 : 0.0;
	tt = (my - mx) / se;
	d = (ax + ay) * (ax + ay) /
	    (ax * ax / (double)(nx - 1) + ay * ay / (double)(ny - 1));
	p = 2 * eb_t_tail(fabs(tt), d);
	if (t)
		*t = tt;
	if (df)
		*df = d;
	return p > 1 ? 1 : p;
}

double eb_stats_kolmogorov(double lambda)
{
	double q = 0;

	if (isnan(lambda))
		return NAN;
	if (lambda <= 0)
		return 1;
	if (lambda < 1.18) {
		/* 1 - sqrt(2 pi) / lambda sum exp(-(2j-1)^2 pi^2 / (8 lambda^2)): no cancellation
		 * where the alternating series below would have it */
		double s = 0, k = M_PI * M_PI / (8 * lambda * lambda);

		for (int j = 1; j <= 20; j++)
			s += exp(-(double)((2 * j - 1) * (2 * j - 1)) * k);
		q = 1 - sqrt(2 * M_PI) / lambda * s;
	} else {
		for (int j = 1; j <= 100; j++) {
			double t = 2 * exp(-2.0 * j * j * lambda * lambda);

			q += (j % 2 ? t : -t);
			if (t < 1e-300)
				break;
		}
	}
	return q < 0 ? 0 : q > 1 ? 1 : q;
}

double eb_stats_ks(const double *x, size_t n, double (*cdf)(double x, void *ud), void *ud,
		   double *d_out)
{
	double *s, d = 0, sq;

	if (d_out)
		*d_out = NAN;
	if (n == 0)
		return NAN;
	s = eb_xmalloc(n * sizeof(*s));
	memcpy(s, x, n * sizeof(*s));
	qsort(s, n, sizeof(*s), eb_cmp_double);
	for (size_t i = 0; i < n; i++) {
		double f = cdf(s[i], ud);
		double above = (double)(i + 1) / (double)n - f, below = f - (double)i / (double)n;

		if (above > d)
			d = above;
		if (below > d)
			d = below;
	}
	free(s);
	if (d_out)
		*d_out = d;
	sq = sqrt((double)n);
	return eb_stats_kolmogorov((sq + 0.12 + 0.11 / sq) * d);
}
