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
	 * ci = 22 -/+ t(0.975, 4) * sd / sqrt(5), t(0.975, 4) = 2.7764451051977944 (mpmath,
	 * as in t_quantiles); MAD = 1 -> 100 is an outlier (z = 65.4). */
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
	ck_assert_double_eq_tol(s.ci_lo, -32.158474352018716, 1e-9);
	ck_assert_double_eq_tol(s.ci_hi, 76.158474352018716, 1e-9);
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
	/* t(0.975, 1) = tan(0.475 pi) = 12.706204736174705: 6 -/+ t * 1.41421 / 1.41421 */
	ck_assert_double_eq_tol(s.ci_lo, 6.0 - 12.706204736174705, 1e-9);
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

/*
 * Student t quantiles against values computed to 40 digits with mpmath (the root of
 * betainc(df/2, 1/2, 0, df/(df+t^2), regularized) / 2 = 1 - p), printed to 20: every df
 * from 1 to 120 (31..120 were interpolated linearly before, up to 0.18% too wide), then
 * large df where the normal limit takes over, and other p. Within 1e-9 relative.
 */
static const struct {
	double df, t;
} eb_t975_ref[] = {
	{ 1, 12.706204736174704646 }, { 2, 4.3026527297494638523 }, { 3, 3.1824463052837095927 },
	{ 4, 2.7764451051977943578 }, { 5, 2.5705818356363155147 }, { 6, 2.4469118511449699711 },
	{ 7, 2.3646242515927853417 }, { 8, 2.3060041352041666833 }, { 9, 2.2621571627982055426 },
	{ 10, 2.2281388519862747484 }, { 11, 2.2009851600916398679 },
	{ 12, 2.1788128296672288663 }, { 13, 2.1603686564627925015 },
	{ 14, 2.1447866879178038287 }, { 15, 2.1314495455597756821 },
	{ 16, 2.1199052992212546745 }, { 17, 2.1098155778333170859 },
	{ 18, 2.1009220402410384881 }, { 19, 2.0930240544083097692 },
	{ 20, 2.0859634472658648427 }, { 21, 2.0796138447276803951 },
	{ 22, 2.0738730679040261658 }, { 23, 2.0686576104190486515 },
	{ 24, 2.0638985616280258492 }, { 25, 2.0595385527532977489 },
	{ 26, 2.0555294386428732135 }, { 27, 2.0518305164802855562 },
	{ 28, 2.0484071417952451599 }, { 29, 2.0452296421327042982 }, { 30, 2.04227245630123831 },
	{ 31, 2.0395134463964084879 }, { 32, 2.0369333434601019588 },
	{ 33, 2.0345152974493386962 }, { 34, 2.0322445093177189645 },
	{ 35, 2.0301079282503431796 }, { 36, 2.0280940009804509302 },
	{ 37, 2.0261924630291097749 }, { 38, 2.0243941639119696444 },
	{ 39, 2.0226909200367611356 }, { 40, 2.0210753903062734213 },
	{ 41, 2.0195409704413760434 }, { 42, 2.0180817028184446815 },
	{ 43, 2.0166921992278243886 }, { 44, 2.0153675744437638177 },
	{ 45, 2.0141033888808466952 }, { 46, 2.0128955989194292214 },
	{ 47, 2.0117405137297658671 }, { 48, 2.0106347576242322276 },
	{ 49, 2.0095752371292396723 }, { 50, 2.0085591121007611055 },
	{ 51, 2.0075837703158360369 }, { 52, 2.0066468050616883428 },
	{ 53, 2.0057459953178689945 }, { 54, 2.0048792881880570384 },
	{ 55, 2.0040447832891458988 }, { 56, 2.0032407188478721792 },
	{ 57, 2.0024654592910073278 }, { 58, 2.0017174841452361123 },
	{ 59, 2.000995378088267706 }, { 60, 2.0002978220142605045 },
	{ 61, 1.9996235849949397004 }, { 62, 1.9989715170333789609 },
	{ 63, 1.9983405425207415782 }, { 64, 1.9977296543176929716 },
	{ 65, 1.9971379083920040771 }, { 66, 1.9965644189523119741 },
	{ 67, 1.9960083540252966725 }, { 68, 1.99546893142984394 }, { 69, 1.9949454151072380125 },
	{ 70, 1.9944371117711865635 }, { 71, 1.993943367845625787 },
	{ 72, 1.9934635666618724102 }, { 73, 1.9929971258898551416 },
	{ 74, 1.9925434951809327016 }, { 75, 1.9921021540022421115 },
	{ 76, 1.9916726096446645018 }, { 77, 1.9912543953883849564 },
	{ 78, 1.9908470688116909263 }, { 79, 1.9904502102301289409 },
	{ 80, 1.9900634212544461674 }, { 81, 1.9896863234569029031 },
	{ 82, 1.9893185571365725499 }, { 83, 1.988959780175162778 },
	{ 84, 1.9886096669757091174 }, { 85, 1.9882679074772219977 },
	{ 86, 1.9879342062390206322 }, { 87, 1.9876082815890711277 },
	{ 88, 1.9872898648311696672 }, { 89, 1.9869786995062814544 },
	{ 90, 1.9866745407037683542 }, { 91, 1.9863771544186181164 },
	{ 92, 1.9860863169511303769 }, { 93, 1.9858018143458234029 },
	{ 94, 1.9855234418666043828 }, { 95, 1.985251003505498163 },
	{ 96, 1.9849843115224575041 }, { 97, 1.9847231860139846848 },
	{ 98, 1.9844674545084818133 }, { 99, 1.9842169515864174951 },
	{ 100, 1.9839715185235522866 }, { 101, 1.983731002955606193 },
	{ 102, 1.9834952585628797316 }, { 103, 1.9832641447734570051 },
	{ 104, 1.9830375264837259276 }, { 105, 1.982815273795048188 },
	{ 106, 1.9825972617655006221 }, { 107, 1.9823833701756911686 },
	{ 108, 1.9821734833077272261 }, { 109, 1.9819674897364826415 },
	{ 110, 1.9817652821323723129 }, { 111, 1.9815667570749010056 },
	{ 112, 1.9813718148763059131 }, { 113, 1.9811803594146611719 },
	{ 114, 1.9809922979758573295 }, { 115, 1.9808075411039100209 },
	{ 116, 1.9806260024590901233 }, { 117, 1.9804475986834027262 },
	{ 118, 1.9802722492729746192 }, { 119, 1.9800998764569398887 },
	{ 120, 1.9799304050824408467 }, { 150, 1.9759053308966205192 },
	{ 200, 1.9718962236339093822 }, { 500, 1.9647198374673677934 },
	{ 1000, 1.962339080826408485 }, { 10000, 1.9602012398906262578 },
	{ 100000, 1.9599877075346096386 }, { 1000000, 1.9599663568141070353 },
};

START_TEST(t_quantiles)
{
	static const struct {
		double p, df, t;
	} other[] = {
		{ 0.995, 5, 4.0321429835552280784 },
		{ 0.9, 10, 1.3721836411103356272 },
		{ 0.999, 3, 10.21453185240738655 },
		{ 0.6, 50, 0.25469934298858817185 },
		{ 0.9995, 1, 636.61924876871961621 },
	};

	for (size_t i = 0; i < sizeof(eb_t975_ref) / sizeof(eb_t975_ref[0]); i++) {
		double df = eb_t975_ref[i].df, want = eb_t975_ref[i].t;
		double got = eb_stats_t_quantile(0.975, df);

		ck_assert_msg(fabs(got - want) <= 1e-9 * want, "t(0.975, %g) = %.17g, want %.17g",
			      df, got, want);
		ck_assert_double_eq(eb_stats_t975((size_t)df), got);
	}
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		double got = eb_stats_t_quantile(other[i].p, other[i].df);

		ck_assert_msg(fabs(got - other[i].t) <= 1e-9 * other[i].t,
			      "t(%g, %g) = %.17g, want %.17g", other[i].p, other[i].df, got,
			      other[i].t);
		/* symmetric */
		ck_assert_double_eq(eb_stats_t_quantile(1 - other[i].p, other[i].df), -got);
	}
	ck_assert(isnan(eb_stats_t975(0)));
	ck_assert(isnan(eb_stats_t_quantile(1, 5)));
	ck_assert(isnan(eb_stats_t_quantile(0.975, 0)));
	ck_assert_double_eq(eb_stats_t_quantile(0.5, 7), 0);
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

/* Welch's t against closed forms: with one side's variance 0, df = n - 1 = 2, where
 * P(T > t) = (1 - t / sqrt(t^2 + 2)) / 2. */
START_TEST(welch_closed_form)
{
	const double x[3] = { 1, 2, 3 }, y[3] = { 5, 5, 5 }, z[3] = { 7, 7, 7 };
	double t, df;

	/* mean 2, variance 1 against 5, 0: t = 3 / sqrt(1/3) = sqrt(27), p = 1 - sqrt(27/29) */
	ck_assert_double_eq_tol(eb_stats_welch(x, 3, y, 3, &t, &df), 1 - sqrt(27.0 / 29.0), 1e-12);
	ck_assert_double_eq_tol(t, sqrt(27.0), 1e-12);
	ck_assert_double_eq_tol(df, 2.0, 1e-12);
	/* symmetric in the sides but for the sign of t */
	ck_assert_double_eq_tol(eb_stats_welch(y, 3, x, 3, &t, NULL), 1 - sqrt(27.0 / 29.0), 1e-12);
	ck_assert_double_eq_tol(t, -sqrt(27.0), 1e-12);
	/* equal means: p 1 */
	ck_assert_double_eq_tol(eb_stats_welch(x, 3, x, 3, &t, NULL), 1.0, 1e-12);
	/* no spread on either side: the means alone decide */
	ck_assert_double_eq(eb_stats_welch(y, 3, y, 3, NULL, NULL), 1.0);
	ck_assert_double_eq(eb_stats_welch(y, 3, z, 3, NULL, NULL), 0.0);
	/* fewer than 2 on a side: no test */
	ck_assert(isnan(eb_stats_welch(x, 1, y, 3, &t, &df)));
	ck_assert(isnan(t) && isnan(df));
}
END_TEST

/* The Kolmogorov survival function against the series summed with mpmath at 50 digits:
 * Q(1) = 0.269999671677355, Q(0.5) = 0.9639452436648751, Q(1.36) = 0.049485876755377876. */
START_TEST(kolmogorov_known_values)
{
	ck_assert(fabs(eb_stats_kolmogorov(1.0) - 0.26999967167735456) < 1e-14);
	ck_assert(fabs(eb_stats_kolmogorov(0.5) - 0.9639452436648751) < 1e-14);
	ck_assert(fabs(eb_stats_kolmogorov(1.36) - 0.049485876755377876) < 1e-14);
	/* both branches meet at 1.18 */
	ck_assert(fabs(eb_stats_kolmogorov(1.18 - 1e-12) - eb_stats_kolmogorov(1.18)) < 1e-12);
	ck_assert(eb_stats_kolmogorov(0) == 1);
	ck_assert(eb_stats_kolmogorov(10) < 1e-80);
}
END_TEST

static double eb_cdf_unit(double x, void *ud)
{
	(void)ud;
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

/* D by hand: x = {0.7, 0.1, 0.4} against U(0,1): the steps i/3 - x and x - (i-1)/3 are
 * 0.2333 and 0.1, 0.2667 and 0.0667, 0.3 and 0.0333: D = 0.3; p = Q((sqrt 3 + 0.12 +
 * 0.11 / sqrt 3) 0.3) = Q(0.5746...) */
START_TEST(ks_hand_computed)
{
	const double x[] = { 0.7, 0.1, 0.4 };
	double d, p = eb_stats_ks(x, 3, eb_cdf_unit, NULL, &d);
	double lam = (sqrt(3.0) + 0.12 + 0.11 / sqrt(3.0)) * 0.3;

	ck_assert(fabs(d - 0.3) < 1e-15);
	ck_assert(fabs(p - eb_stats_kolmogorov(lam)) < 1e-15);
	ck_assert(p > 0.8 && p < 1);
	ck_assert(isnan(eb_stats_ks(x, 0, eb_cdf_unit, NULL, &d)) && isnan(d));
	/* far from uniform: every sample at 0.99 */
	{
		double y[20];

		for (int i = 0; i < 20; i++)
			y[i] = 0.99;
		ck_assert(eb_stats_ks(y, 20, eb_cdf_unit, NULL, &d) < 1e-6);
		ck_assert(fabs(d - 0.99) < 1e-15);
	}
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
	tcase_add_test(tc, welch_closed_form);
	tcase_add_test(tc, kolmogorov_known_values);
	tcase_add_test(tc, ks_hand_computed);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
