/* check_energy.c: energy integration over windows, counters with wraparound, J/token. */
/* ctest: labels=unit timeout=60 */
#include "testutil.h"

#include "energy.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define TOL 1e-9
/* A monotonic clock reading far from 0, as eb_clock_ns() gives. */
#define BASE 123456789000000ULL
#define S(x) ((uint64_t)((x) * 1e9 + 0.5))
#define T(x) (BASE + S(x))

START_TEST(test_constant_5w_2s)
{
	const uint64_t t[] = { T(0), T(0.5), T(1.0), T(1.5), T(2.0) };
	const double w[] = { 5, 5, 5, 5, 5 };
	struct eb_energy e;
	struct eb_err err;

	ck_assert_int_eq(eb_energy_integrate(t, w, 5, T(0), T(2), &e, &err), 0);
	ck_assert_double_eq_tol(e.joules, 10.0, TOL);
	ck_assert_double_eq_tol(e.avg_w, 5.0, TOL);
	ck_assert_double_eq_tol(e.peak_w, 5.0, TOL);
	ck_assert_uint_eq(e.n_samples, 5);
	ck_assert_double_eq_tol(e.window_s, 2.0, TOL);
	ck_assert_double_eq_tol(e.covered_s, 2.0, TOL);
	ck_assert_double_eq_tol(e.coverage, 1.0, TOL);
}
END_TEST

START_TEST(test_ramp_0_to_10w_1s)
{
	uint64_t t[11];
	double w[11];
	struct eb_energy e;
	struct eb_err err;
	const uint64_t t2[] = { T(0), T(1) };
	const double w2[] = { 0, 10 };

	for (int i = 0; i <= 10; i++) {
		t[i] = T(i / 10.0);
		w[i] = i;
	}
	ck_assert_int_eq(eb_energy_integrate(t, w, 11, T(0), T(1), &e, &err), 0);
	ck_assert_double_eq_tol(e.joules, 5.0, TOL);
	ck_assert_double_eq_tol(e.avg_w, 5.0, TOL);
	ck_assert_double_eq_tol(e.peak_w, 10.0, TOL);
	ck_assert_uint_eq(e.n_samples, 11);
	/* two samples only: the trapezoid is exact for a linear ramp */
	ck_assert_int_eq(eb_energy_integrate(t2, w2, 2, T(0), T(1), &e, &err), 0);
	ck_assert_double_eq_tol(e.joules, 5.0, TOL);
}
END_TEST

/*
 * 5 W until 0.9 s, 15 W from 1.0 s, samples every 0.1 s to 2.0 s; the first token arrives at
 * 0.95 s, between samples (interpolated 10 W there).
 *   prefill [0, 0.95]: 0.9 * 5 + (5 + 10) / 2 * 0.05 = 4.875 J
 *   decode [0.95, 2]: (10 + 15) / 2 * 0.05 + 1.0 * 15 = 15.625 J
 *   whole [0, 2]: 4.5 + (5 + 15) / 2 * 0.1 + 15 = 20.5 J
 */
START_TEST(test_step_split_at_first_token)
{
	uint64_t t[21];
	double w[21];
	struct eb_energy pre, dec, all;
	struct eb_err err;

	for (int i = 0; i <= 20; i++) {
		t[i] = T(i / 10.0);
		w[i] = i < 10 ? 5 : 15;
	}
	ck_assert_int_eq(eb_energy_integrate(t, w, 21, T(0), T(0.95), &pre, &err), 0);
	ck_assert_int_eq(eb_energy_integrate(t, w, 21, T(0.95), T(2), &dec, &err), 0);
	ck_assert_int_eq(eb_energy_integrate(t, w, 21, T(0), T(2), &all, &err), 0);
	ck_assert_double_eq_tol(pre.joules, 4.875, TOL);
	ck_assert_double_eq_tol(dec.joules, 15.625, TOL);
	ck_assert_double_eq_tol(all.joules, 20.5, TOL);
	ck_assert_double_eq_tol(pre.joules + dec.joules, all.joules, TOL);
	ck_assert_uint_eq(pre.n_samples, 10);
	ck_assert_uint_eq(dec.n_samples, 11);
	ck_assert_double_eq_tol(pre.peak_w, 10.0, TOL); /* the interpolated edge */
	ck_assert_double_eq_tol(dec.peak_w, 15.0, TOL);
	ck_assert_double_eq_tol(pre.avg_w, 4.875 / 0.95, TOL);
	ck_assert_double_eq_tol(dec.avg_w, 15.625 / 1.05, TOL);
}
END_TEST

/* Equal stamps make a true step: [0,1] at 5 W and [1,2] at 15 W, nothing in between. */
START_TEST(test_true_step_duplicate_stamp)
{
	const uint64_t t[] = { T(0), T(1), T(1), T(2) };
	const double w[] = { 5, 5, 15, 15 };
	struct eb_energy a, b, all;
	struct eb_err err;

	ck_assert_int_eq(eb_energy_integrate(t, w, 4, T(0), T(1), &a, &err), 0);
	ck_assert_int_eq(eb_energy_integrate(t, w, 4, T(1), T(2), &b, &err), 0);
	ck_assert_int_eq(eb_energy_integrate(t, w, 4, T(0), T(2), &all, &err), 0);
	ck_assert_double_eq_tol(a.joules, 5.0, TOL);
	ck_assert_double_eq_tol(b.joules, 15.0, TOL);
	ck_assert_double_eq_tol(all.joules, 20.0, TOL);
}
END_TEST

/*
 * Samples 2, 4, 8, 6 W at 0, 1, 2, 3 s. Window [0.5, 2.5]: edges interpolate to 3 W and 7 W;
 * (3 + 4) / 2 * 0.5 + (4 + 8) / 2 * 1 + (8 + 7) / 2 * 0.5 = 1.75 + 6 + 3.75 = 11.5 J.
 * Window [1.25, 1.75] inside one interval: 5 W to 7 W, (5 + 7) / 2 * 0.5 = 3 J.
 */
START_TEST(test_edges_between_samples)
{
	const uint64_t t[] = { T(0), T(1), T(2), T(3) };
	const double w[] = { 2, 4, 8, 6 };
	struct eb_energy e;
	struct eb_err err;

	ck_assert_int_eq(eb_energy_integrate(t, w, 4, T(0.5), T(2.5), &e, &err), 0);
	ck_assert_double_eq_tol(e.joules, 11.5, TOL);
	ck_assert_double_eq_tol(e.avg_w, 5.75, TOL);
	ck_assert_double_eq_tol(e.peak_w, 8.0, TOL);
	ck_assert_uint_eq(e.n_samples, 2);
	ck_assert_double_eq_tol(e.coverage, 1.0, TOL);

	ck_assert_int_eq(eb_energy_integrate(t, w, 4, T(1.25), T(1.75), &e, &err), 0);
	ck_assert_double_eq_tol(e.joules, 3.0, TOL);
	ck_assert_double_eq_tol(e.peak_w, 7.0, TOL);
	ck_assert_uint_eq(e.n_samples, 0);
	ck_assert_double_eq_tol(e.coverage, 1.0, TOL);

	/* samples outside the window are ignored: [2.5, 3] only sees 7 W -> 6 W */
	ck_assert_int_eq(eb_energy_integrate(t, w, 4, T(2.5), T(3), &e, &err), 0);
	ck_assert_double_eq_tol(e.joules, 3.25, TOL);
	ck_assert_double_eq_tol(e.peak_w, 7.0, TOL);
	ck_assert_uint_eq(e.n_samples, 1);
}
END_TEST

/* Samples at 4 W from 1 s to 3 s. */
START_TEST(test_partial_coverage)
{
	const uint64_t t[] = { T(1), T(2), T(3) };
	const double w[] = { 4, 4, 4 };
	struct eb_energy e;
	struct eb_err err;

	/* window [0, 4]: only [1, 3] is covered */
	ck_assert_int_eq(eb_energy_integrate(t, w, 3, T(0), T(4), &e, &err), 0);
	ck_assert_double_eq_tol(e.joules, 8.0, TOL);
	ck_assert_double_eq_tol(e.covered_s, 2.0, TOL);
	ck_assert_double_eq_tol(e.window_s, 4.0, TOL);
	ck_assert_double_eq_tol(e.coverage, 0.5, TOL);
	ck_assert_double_eq_tol(e.avg_w, 4.0, TOL);
	ck_assert_uint_eq(e.n_samples, 3);

	/* window [2.5, 5]: sensor stopped at 3 s */
	ck_assert_int_eq(eb_energy_integrate(t, w, 3, T(2.5), T(5), &e, &err), 0);
	ck_assert_double_eq_tol(e.joules, 2.0, TOL);
	ck_assert_double_eq_tol(e.coverage, 0.2, TOL);

	/* no overlap at all */
	ck_assert_int_eq(eb_energy_integrate(t, w, 3, T(5), T(6), &e, &err), 0);
	ck_assert_double_eq_tol(e.joules, 0.0, TOL);
	ck_assert_double_eq_tol(e.coverage, 0.0, TOL);
	ck_assert(isnan(e.avg_w));
	ck_assert(isnan(e.peak_w));
	ck_assert_uint_eq(e.n_samples, 0);

	/* the window only touches the last sample */
	ck_assert_int_eq(eb_energy_integrate(t, w, 3, T(3), T(5), &e, &err), 0);
	ck_assert_double_eq_tol(e.joules, 0.0, TOL);
	ck_assert_double_eq_tol(e.coverage, 0.0, TOL);
	ck_assert(isnan(e.avg_w));

	/* a zero-length window inside the trace */
	ck_assert_int_eq(eb_energy_integrate(t, w, 3, T(1.5), T(1.5), &e, &err), 0);
	ck_assert_double_eq_tol(e.joules, 0.0, TOL);
	ck_assert_double_eq_tol(e.coverage, 1.0, TOL);
	ck_assert_double_eq_tol(e.avg_w, 4.0, TOL);

	/* no samples */
	ck_assert_int_eq(eb_energy_integrate(NULL, NULL, 0, T(0), T(1), &e, &err), 0);
	ck_assert_double_eq_tol(e.coverage, 0.0, TOL);
	ck_assert(isnan(e.avg_w));
}
END_TEST

START_TEST(test_invalid_input)
{
	const uint64_t t[] = { T(1), T(2), T(1.5) };
	const double w[] = { 4, 4, 4 };
	const double wnan[] = { 4, NAN, 4 };
	const uint64_t tok[] = { T(1), T(2), T(3) };
	struct eb_energy e;
	struct eb_err err;

	eb_err_clear(&err);
	ck_assert_int_eq(eb_energy_integrate(tok, w, 3, T(2), T(1), &e, &err), EB_EINVAL);
	ck_assert_msg(strstr(err.msg, "ends before it starts") != NULL, "%s", err.msg);
	ck_assert_int_eq(eb_energy_integrate(t, w, 3, T(0), T(4), &e, &err), EB_EINVAL);
	ck_assert_msg(strstr(err.msg, "sample 2 goes back in time") != NULL, "%s", err.msg);
	ck_assert_int_eq(eb_energy_integrate(tok, wnan, 3, T(0), T(4), &e, &err), EB_EINVAL);
	ck_assert_msg(strstr(err.msg, "sample 1") != NULL, "%s", err.msg);
	ck_assert_double_eq_tol(e.joules, 0.0, TOL);
	ck_assert_int_eq(eb_energy_integrate(NULL, w, 3, T(0), T(4), &e, &err), EB_EINVAL);
	ck_assert_int_eq(eb_energy_integrate(tok, w, 3, T(0), T(4), NULL, &err), EB_EINVAL);
}
END_TEST

/* RAPL-style counter: max_energy_range_uj 262143328850, wrap between two reads. */
#define RAPL_MAX 262143328850ULL

START_TEST(test_counter_wrap)
{
	/* 1 J before the wrap + 2 J after = 3 J; then 5 J more */
	const uint64_t c[] = { RAPL_MAX - 1000000, 2000000, 7000000 };
	const uint64_t t[] = { T(0), T(1), T(2) };
	uint64_t d;
	double j;
	size_t wraps;
	struct eb_energy e;
	struct eb_err err;

	ck_assert_int_eq(eb_energy_counter_delta(c[0], c[1], RAPL_MAX, &d, &err), 0);
	ck_assert_uint_eq(d, 3000000);
	ck_assert_int_eq(eb_energy_counter_delta(100, 250, RAPL_MAX, &d, &err), 0);
	ck_assert_uint_eq(d, 150);

	ck_assert_int_eq(eb_energy_counter_total(c, 3, RAPL_MAX, &j, &wraps, &err), 0);
	ck_assert_double_eq_tol(j, 8.0, TOL);
	ck_assert_uint_eq(wraps, 1);
	ck_assert_int_eq(eb_energy_counter_total(c, 1, RAPL_MAX, &j, NULL, &err), 0);
	ck_assert_double_eq_tol(j, 0.0, TOL);

	ck_assert_int_eq(eb_energy_integrate_counter(t, c, 3, RAPL_MAX, T(0), T(2), &e, &err), 0);
	ck_assert_double_eq_tol(e.joules, 8.0, TOL);
	ck_assert_double_eq_tol(e.avg_w, 4.0, TOL);
	ck_assert_double_eq_tol(e.peak_w, 5.0, TOL);
	ck_assert_uint_eq(e.n_samples, 3);
	ck_assert_double_eq_tol(e.coverage, 1.0, TOL);
	/* [0.5, 1.5]: half of each interval, 1.5 J + 2.5 J */
	ck_assert_int_eq(eb_energy_integrate_counter(t, c, 3, RAPL_MAX, T(0.5), T(1.5), &e, &err),
			 0);
	ck_assert_double_eq_tol(e.joules, 4.0, TOL);
	ck_assert_uint_eq(e.n_samples, 1);
	/* [1.5, 3]: half of the second interval, then nothing */
	ck_assert_int_eq(eb_energy_integrate_counter(t, c, 3, RAPL_MAX, T(1.5), T(3), &e, &err), 0);
	ck_assert_double_eq_tol(e.joules, 2.5, TOL);
	ck_assert_double_eq_tol(e.coverage, 1.0 / 3.0, TOL);
	ck_assert_double_eq_tol(e.peak_w, 5.0, TOL);
}
END_TEST

START_TEST(test_counter_errors)
{
	const uint64_t c[] = { 500, 100 };
	uint64_t d;
	double j;
	struct eb_err err;

	eb_err_clear(&err);
	ck_assert_int_eq(eb_energy_counter_delta(500, 100, 0, &d, &err), EB_EINVAL);
	ck_assert_msg(strstr(err.msg, "went back") != NULL, "%s", err.msg);
	ck_assert_int_eq(eb_energy_counter_delta(RAPL_MAX + 1, 5, RAPL_MAX, &d, &err), EB_EINVAL);
	ck_assert_msg(strstr(err.msg, "exceeds its range") != NULL, "%s", err.msg);
	ck_assert_int_eq(eb_energy_counter_total(c, 2, 0, &j, NULL, &err), EB_EINVAL);
	ck_assert_msg(strncmp(err.msg, "read 1: ", 8) == 0, "%s", err.msg);
}
END_TEST

START_TEST(test_net_and_per_token)
{
	ck_assert_double_eq_tol(eb_energy_net_j(20.0, 2.0, 3.0), 14.0, TOL);
	ck_assert_double_eq_tol(eb_energy_net_j(5.0, 2.0, 3.0), -1.0, TOL);
	ck_assert(isnan(eb_energy_net_j(20.0, NAN, 3.0)));
	/* 101 tokens: 100 decode steps */
	ck_assert_double_eq_tol(eb_energy_j_per_token(10.0, 100), 0.1, TOL);
	ck_assert_double_eq_tol(eb_energy_j_per_token(3.0, 1), 3.0, TOL);
	ck_assert(isnan(eb_energy_j_per_token(10.0, 0)));
	ck_assert(isnan(eb_energy_j_per_token(10.0, -5)));
}
END_TEST

static Suite *energy_suite(void)
{
	Suite *s = suite_create("energy");
	TCase *tc = tcase_create("integrate");

	tcase_add_test(tc, test_constant_5w_2s);
	tcase_add_test(tc, test_ramp_0_to_10w_1s);
	tcase_add_test(tc, test_step_split_at_first_token);
	tcase_add_test(tc, test_true_step_duplicate_stamp);
	tcase_add_test(tc, test_edges_between_samples);
	tcase_add_test(tc, test_partial_coverage);
	tcase_add_test(tc, test_invalid_input);
	tcase_add_test(tc, test_counter_wrap);
	tcase_add_test(tc, test_counter_errors);
	tcase_add_test(tc, test_net_and_per_token);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(energy_suite());
}
