/* ctest: labels=unit timeout=30 */
/* check_stats.c: summary statistics against hand-computed values. */
#include "stats.h"
#include "testutil.h"

#include <math.h>
#include <stdint.h>

#define EPS 1e-9

START_TEST(summary_hand_computed)
{
	/* mean 22; deviations 21,20,19,18,78 -> var 7610/4 = 1902.5; sd 43.617656975...;
	 * p90 = x[3] + 0.6 (x[4] - x[3]) = 61.6; p99 = 4 + 0.96 * 96 = 96.16;
	 * ci = 22 -/+ 2.7764 * sd / sqrt(5); MAD = 1 -> 100 is an outlier (z = 65.4). */
	const double x[] = { 3, 100, 1, 4, 2 };
	struct eb_summary s;

	ck_assert_int_eq(eb_stats_summarize(x, 5, &s), 0);
	ck_assert_uint_eq(s.n, 5);
	ck_assert_double_eq_tol(s.mean, 22.0, EPS);
	ck_assert_double_eq_tol(s.stddev, 43.617656975128774, EPS);
	ck_assert_double_eq_tol(s.median, 3.0, EPS);
	ck_assert_double_eq_tol(s.min, 1.0, EPS);
	ck_assert_double_eq_tol(s.max, 100.0, EPS);
	ck_assert_double_eq_tol(s.p90, 61.6, EPS);
	ck_assert_double_eq_tol(s.p99, 96.16, EPS);
	ck_assert_double_eq_tol(s.ci_lo, -32.15759451157335, 1e-6);
	ck_assert_double_eq_tol(s.ci_hi, 76.15759451157335, 1e-6);
	ck_assert_uint_eq(s.n_outliers, 1);
	/* the input is not reordered */
	ck_assert_double_eq(x[0], 3);
	ck_assert_double_eq(x[1], 100);
}
END_TEST

START_TEST(summary_small_n)
{
	const double one = 7.5, two[] = { 5.0, 7.0 };
	struct eb_summary s;

	ck_assert_int_eq(eb_stats_summarize(&one, 1, &s), 0);
	ck_assert_double_eq(s.mean, 7.5);
	ck_assert_double_eq(s.median, 7.5);
	ck_assert(isnan(s.stddev));
	ck_assert(isnan(s.ci_lo) && isnan(s.ci_hi));
	ck_assert_int_eq(eb_stats_summarize(two, 2, &s), 0);
	ck_assert_double_eq_tol(s.stddev, 1.4142135623730951, EPS);
	ck_assert_double_eq_tol(s.median, 6.0, EPS);
	/* t(0.975, 1) = 12.7062: 6 -/+ 12.7062 * 1.41421 / 1.41421 */
	ck_assert_double_eq_tol(s.ci_lo, 6.0 - 12.7062, 1e-9);
	ck_assert_int_eq(eb_stats_summarize(NULL, 0, &s), 0);
	ck_assert_uint_eq(s.n, 0);
	ck_assert(isnan(s.mean));
}
END_TEST

START_TEST(summary_rejects_nan)
{
	const double x[] = { 1, NAN, 3 };
	struct eb_summary s;

	ck_assert_int_ne(eb_stats_summarize(x, 3, &s), 0);
}
END_TEST

START_TEST(quantiles_type7)
{
	/* numpy.percentile([10,20,30,40], q) with the default (linear) method */
	const double x[] = { 10, 20, 30, 40 };

	ck_assert_double_eq_tol(eb_stats_quantile_sorted(x, 4, 0.0), 10, EPS);
	ck_assert_double_eq_tol(eb_stats_quantile_sorted(x, 4, 0.25), 17.5, EPS);
	ck_assert_double_eq_tol(eb_stats_quantile_sorted(x, 4, 0.5), 25, EPS);
	ck_assert_double_eq_tol(eb_stats_quantile_sorted(x, 4, 0.9), 37, EPS);
	ck_assert_double_eq_tol(eb_stats_quantile_sorted(x, 4, 1.0), 40, EPS);
	ck_assert(isnan(eb_stats_quantile_sorted(x, 0, 0.5)));
}
END_TEST

START_TEST(outliers_mad)
{
	const double flat[] = { 5, 5, 5, 5 };
	const double x[] = { 10, 11, 9, 10, 10, 30, -10 };
	int flags[7];

	ck_assert_uint_eq(eb_stats_outliers_mad(flat, 4, 3.5, NULL), 0);
	/* median 10, |dev| 0,1,1,0,0,20,20 -> MAD 1; z(30) = z(-10) = 13.49 */
	ck_assert_uint_eq(eb_stats_outliers_mad(x, 7, 3.5, flags), 2);
	ck_assert_int_eq(flags[5], 1);
	ck_assert_int_eq(flags[6], 1);
	ck_assert_int_eq(flags[1], 0);
}
END_TEST

START_TEST(t_quantiles)
{
	/* published two-sided 95% t values */
	ck_assert_double_eq_tol(eb_stats_t975(1), 12.7062, 1e-4);
	ck_assert_double_eq_tol(eb_stats_t975(4), 2.7764, 1e-4);
	ck_assert_double_eq_tol(eb_stats_t975(30), 2.0423, 1e-4);
	ck_assert_double_eq_tol(eb_stats_t975(60), 2.0003, 1e-4);
	ck_assert_double_eq_tol(eb_stats_t975(200), 1.9719, 1e-3);
	ck_assert_double_eq_tol(eb_stats_t975(100000), 1.96, 1e-3);
}
END_TEST

/*
 * Mann-Whitney U. 1..5 against 6..10 by hand: U1 = 15 - 15 = 0, U = U2 = 25, mu = 12.5,
 * sigma^2 = 25 / 12 * 11 (no ties), z = (25 - 12.5 - 0.5) / 4.7871 = 2.5067,
 * p = erfc(z / sqrt 2) = 0.012186. The others: the same formula with its tie correction
 * evaluated in python3 (math.erfc).
 */
START_TEST(mwu_pvalues)
{
	const double a[] = { 1, 2, 3, 4, 5 }, b[] = { 6, 7, 8, 9, 10 };
	const double c[] = { 1, 2, 2, 3, 3, 3 }, d[] = { 2, 3, 4, 4, 5 };
	const double e[] = { 10.5, 11.2, 9.8, 10.1, 10.9, 11.5, 10.0, 9.9 };
	const double f[] = { 10.4, 10.6, 11.0, 10.2, 10.8, 10.3, 10.7 };
	const double g[] = { 5, 5, 5 }, h[] = { 5, 5 };
	double u;

	ck_assert_double_eq_tol(eb_stats_mwu(a, 5, b, 5, &u), 0.012185780355344818, 1e-12);
	ck_assert_double_eq_tol(u, 0, 1e-12);
	ck_assert_double_eq_tol(eb_stats_mwu(b, 5, a, 5, &u), 0.012185780355344818, 1e-12);
	ck_assert_double_eq_tol(u, 25, 1e-12);
	ck_assert_double_eq_tol(eb_stats_mwu(c, 6, d, 5, &u), 0.08871369199677624, 1e-12);
	ck_assert_double_eq_tol(u, 5.5, 1e-12);
	ck_assert_double_eq_tol(eb_stats_mwu(e, 8, f, 7, &u), 0.6025243523612969, 1e-12);
	ck_assert_double_eq_tol(u, 23, 1e-12);
	/* the samples are sorted in a copy: e keeps its order */
	ck_assert_double_eq(e[0], 10.5);
	ck_assert_double_eq(e[7], 9.9);
	ck_assert_double_eq(eb_stats_mwu(g, 3, h, 2, NULL), 1.0); /* every sample equal */
	ck_assert_double_eq(eb_stats_mwu(a, 5, b, 0, NULL), 1.0); /* an empty side */
}
END_TEST

/* Larger unsorted samples with many ties: U1 against the pairwise count. */
START_TEST(mwu_ties_pairwise)
{
	double x[300], y[257], want = 0, u;
	uint32_t r = 7;

	for (size_t i = 0; i < 300; i++) {
		r = r * 1103515245u + 12345u;
		x[i] = 80 + (double)((r >> 16) % 40);
	}
	for (size_t i = 0; i < 257; i++) {
		r = r * 1103515245u + 12345u;
		y[i] = 82 + (double)((r >> 16) % 40);
	}
	for (size_t i = 0; i < 300; i++)
		for (size_t j = 0; j < 257; j++)
			want += x[i] > y[j] ? 1 : x[i] == y[j] ? 0.5 : 0;
	ck_assert_double_le(eb_stats_mwu(x, 300, y, 257, &u), 1.0);
	ck_assert_double_eq_tol(u, want, 1e-9);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, summary_hand_computed);
	tcase_add_test(tc, summary_small_n);
	tcase_add_test(tc, summary_rejects_nan);
	tcase_add_test(tc, quantiles_type7);
	tcase_add_test(tc, outliers_mad);
	tcase_add_test(tc, t_quantiles);
	tcase_add_test(tc, mwu_pvalues);
	tcase_add_test(tc, mwu_ties_pairwise);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
