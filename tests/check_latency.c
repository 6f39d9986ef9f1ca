/* ctest: labels=unit timeout=30 */
/* check_latency.c: TTFT, E2E, rates, TPOT, ITL and MBU of a request on synthetic token times, figures computed by hand. */
#include "latency.h"
#include "eb_util.h"
#include "testutil.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define MS 1000000ull           /* ns */
#define T0 (1000000000000ull) /* a send time far from 0, as the monotonic clock gives */
#define TOL 1e-9

/* Four chunks of one token at 50, 60, 75 and 90 ms after the send; 100 prompt tokens. */
START_TEST(four_tokens)
{
	const uint64_t t[] = { T0 + 50 * MS, T0 + 60 * MS, T0 + 75 * MS, T0 + 90 * MS };
	struct eb_latency l;
	double gaps[3];

	eb_latency_of(T0, t, 4, 100, 4, 1, &l);
	ck_assert_int_eq(l.ttft_ns, 50000000);
	ck_assert_int_eq(l.e2e_ns, 90000000);
	ck_assert_int_eq(l.decode_ns, 40000000);
	ck_assert_double_eq_tol(l.prefill_tps, 2000, TOL); /* 100 / 0.050 s */
	ck_assert_double_eq_tol(l.decode_tps, 75, TOL);    /* 3 tokens after the first / 0.040 s */
	ck_assert_double_eq_tol(eb_latency_tpot_ms(l.decode_tps), 40.0 / 3, TOL);
	ck_assert_double_eq_tol(eb_latency_ms(l.ttft_ns), 50, TOL);
	ck_assert_double_eq_tol(eb_latency_ms(l.e2e_ns), 90, TOL);
	ck_assert_uint_eq(eb_latency_itl_ms(t, 4, gaps), 3);
	ck_assert_double_eq_tol(gaps[0], 10, TOL);
	ck_assert_double_eq_tol(gaps[1], 15, TOL);
	ck_assert_double_eq_tol(gaps[2], 15, TOL);
	/* TPOT is the mean ITL when every chunk is one token: (10 + 15 + 15) / 3 */
	ck_assert_double_eq_tol(eb_latency_tpot_ms(l.decode_tps), (gaps[0] + gaps[1] + gaps[2]) / 3,
				TOL);
}
END_TEST

/* One token: TTFT and E2E are the same time; no decode time, rate, TPOT or gap. */
START_TEST(one_token)
{
	const uint64_t t[] = { T0 + 20 * MS };
	struct eb_latency l;
	double gaps[1] = { -7 };

	eb_latency_of(T0, t, 1, 64, 1, 1, &l);
	ck_assert_int_eq(l.ttft_ns, 20000000);
	ck_assert_int_eq(l.e2e_ns, 20000000);
	ck_assert_int_eq(l.decode_ns, -1);
	ck_assert_double_eq_tol(l.prefill_tps, 3200, TOL); /* 64 / 0.020 s */
	ck_assert(isnan(l.decode_tps));
	ck_assert(isnan(eb_latency_tpot_ms(l.decode_tps)));
	ck_assert_uint_eq(eb_latency_itl_ms(t, 1, gaps), 0);
	ck_assert_double_eq(gaps[0], -7); /* nothing written */
}
END_TEST

/* No chunk at all (a server that answered nothing): every time -1, every rate NAN. */
START_TEST(no_tokens)
{
	struct eb_latency l;

	eb_latency_of(T0, NULL, 0, 64, 0, 1, &l);
	ck_assert_int_eq(l.ttft_ns, -1);
	ck_assert_int_eq(l.e2e_ns, -1);
	ck_assert_int_eq(l.decode_ns, -1);
	ck_assert(isnan(l.prefill_tps));
	ck_assert(isnan(l.decode_tps));
	ck_assert_uint_eq(eb_latency_itl_ms(NULL, 0, NULL), 0);
	ck_assert_int_eq(eb_latency_count_tokens(NULL, 0), 0);
	/* an engine that says it generated tokens but sent no chunk defines no rate either */
	eb_latency_of(T0, NULL, 0, 64, 8, 1, &l);
	ck_assert(isnan(l.decode_tps));
}
END_TEST

/* Equal timestamps (a coarse clock, a batch delivered at once): zero durations define no
 * rate instead of an infinite one, and the gaps are 0. */
START_TEST(equal_timestamps)
{
	const uint64_t t[] = { T0, T0, T0 };
	const uint64_t u[] = { T0 + 5 * MS, T0 + 5 * MS, T0 + 5 * MS };
	struct eb_latency l;
	double gaps[2];

	eb_latency_of(T0, t, 3, 16, 3, 1, &l);
	ck_assert_int_eq(l.ttft_ns, 0);
	ck_assert_int_eq(l.e2e_ns, 0);
	ck_assert_int_eq(l.decode_ns, 0);
	ck_assert(isnan(l.prefill_tps));
	ck_assert(isnan(l.decode_tps));
	ck_assert_uint_eq(eb_latency_itl_ms(t, 3, gaps), 2);
	ck_assert_double_eq(gaps[0], 0);
	ck_assert_double_eq(gaps[1], 0);
	/* the first token after 5 ms, the rest with it */
	eb_latency_of(T0, u, 3, 16, 3, 1, &l);
	ck_assert_int_eq(l.ttft_ns, 5000000);
	ck_assert_double_eq_tol(l.prefill_tps, 3200, TOL);
	ck_assert_int_eq(l.decode_ns, 0);
	ck_assert(isnan(l.decode_tps));
}
END_TEST

/* Chunks of several tokens: n_out counts tokens (unknown counts, <= 0, add nothing), the
 * gaps are between chunks, and the rate uses the tokens. */
START_TEST(multi_token_chunks)
{
	const uint64_t t[] = { T0 + 30 * MS, T0 + 50 * MS, T0 + 80 * MS };
	const int n[] = { 1, 4, 3 };
	const int unknown[] = { 2, 0, -1, 5 };
	struct eb_latency l;
	double gaps[2];

	ck_assert_int_eq(eb_latency_count_tokens(n, 3), 8);
	ck_assert_int_eq(eb_latency_count_tokens(unknown, 4), 7);
	eb_latency_of(T0, t, 3, 10, eb_latency_count_tokens(n, 3), 1, &l);
	ck_assert_double_eq_tol(l.decode_tps, 140, TOL); /* 7 tokens / 0.050 s */
	ck_assert_double_eq_tol(eb_latency_tpot_ms(l.decode_tps), 50.0 / 7, TOL);
	ck_assert_uint_eq(eb_latency_itl_ms(t, 3, gaps), 2);
	ck_assert_double_eq_tol(gaps[0], 20, TOL);
	ck_assert_double_eq_tol(gaps[1], 30, TOL);
	/* no chunk says what it carried: the count is unknown (-1), never 0 */
	{
		const int none[] = { -1, -1, -1 };

		ck_assert_int_eq(eb_latency_count_tokens(none, 3), -1);
	}
	/* five tokens in one chunk: no decode window, so no rate */
	eb_latency_of(T0, t, 1, 10, 5, 1, &l);
	ck_assert(isnan(l.decode_tps));
}
END_TEST

/* Four tokens in every chunk (8 chunks, 32 tokens, 10 ms apart): the first chunk's 4 tokens
 * arrive with TTFT, so the window from t[0] to t[7] decodes 28 tokens, not 31 (which would
 * read 10.7% fast). */
START_TEST(first_chunk_tokens_outside_decode_window)
{
	uint64_t t[8];
	struct eb_latency l;

	for (int i = 0; i < 8; i++)
		t[i] = T0 + (uint64_t)(100 + 10 * i) * MS;
	eb_latency_of(T0, t, 8, 64, 32, 4, &l);
	ck_assert_int_eq(l.decode_ns, 70000000);
	ck_assert_double_eq_tol(l.decode_tps, 400, TOL); /* 28 tokens / 0.070 s */
	/* the old count, one token in the first chunk, is what the issue measured */
	eb_latency_of(T0, t, 8, 64, 32, 1, &l);
	ck_assert_double_eq_tol(l.decode_tps, 31 / 0.070, TOL);
	/* a first chunk with every token leaves nothing to decode */
	eb_latency_of(T0, t, 8, 64, 4, 4, &l);
	ck_assert(isnan(l.decode_tps));
}
END_TEST

START_TEST(tpot_and_gaps)
{
	ck_assert_double_eq_tol(eb_latency_tpot_ms(50), 20, TOL);
	ck_assert(isnan(eb_latency_tpot_ms(0)));
	ck_assert(isnan(eb_latency_tpot_ms(-3)));
	ck_assert(isnan(eb_latency_tpot_ms(INFINITY)));
	ck_assert(isnan(eb_latency_tpot_ms(NAN)));
	ck_assert_double_eq_tol(eb_latency_ms(1500000), 1.5, TOL);
	ck_assert(isnan(eb_latency_ms(NAN))); /* a NULL read from the database */
	ck_assert_double_eq_tol(eb_latency_gap_ms(2000000, 4500000), 2.5, TOL);
	ck_assert_double_eq(eb_latency_gap_ms(7, 7), 0);
}
END_TEST

/* MBU: 75 tok/s x (1e9 B + 1e5 B/token x (100 + 4 / 2) tokens) / 100 GB/s = 0.75765. */
/* Stored times (a merged database) may sit at the ends of 64 bits: a gap across them is the
 * true one, in double, not a signed overflow; a sum that cannot be held is refused. */
START_TEST(gaps_of_stored_times_at_int64_limits)
{
	int64_t s = 0;

	ck_assert_double_eq(eb_latency_gap_ms(INT64_MIN, INT64_MAX), 18446744073709.551615);
	ck_assert_double_eq(eb_latency_gap_ms(INT64_MAX, INT64_MIN), -18446744073709.551615);
	ck_assert_double_eq(eb_latency_gap_ms(INT64_MAX - 3000000, INT64_MAX), 3.0);
	ck_assert_double_eq(eb_ns_diff(INT64_MAX, INT64_MAX - 7), 7.0);
	ck_assert_int_eq(eb_ns_add(INT64_MAX - 10, 11, &s), EB_EINVAL);
	ck_assert_int_eq(s, 0);
	ck_assert_int_eq(eb_ns_add(INT64_MIN + 10, -11, &s), EB_EINVAL);
	ck_assert_int_eq(eb_ns_add(INT64_MAX - 10, 10, &s), 0);
	ck_assert_int_eq(s, INT64_MAX);
}
END_TEST

START_TEST(mbu)
{
	ck_assert_double_eq_tol(eb_latency_mbu(75, 100, 4, 1e9, 1e5, 100), 0.75765, TOL);
	/* without a KV size the weights alone */
	ck_assert_double_eq_tol(eb_latency_mbu(50, 100, 4, 2e9, 0, 200), 0.5, TOL);
	ck_assert(isnan(eb_latency_mbu(75, 100, 4, 1e9, 1e5, 0)));  /* no bandwidth */
	ck_assert(isnan(eb_latency_mbu(75, 100, 4, 0, 1e5, 100)));  /* no model size */
	ck_assert(isnan(eb_latency_mbu(NAN, 100, 4, 1e9, 1e5, 100))); /* no decode rate */
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("latency");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, four_tokens);
	tcase_add_test(tc, one_token);
	tcase_add_test(tc, no_tokens);
	tcase_add_test(tc, equal_timestamps);
	tcase_add_test(tc, multi_token_chunks);
	tcase_add_test(tc, first_chunk_tokens_outside_decode_window);
	tcase_add_test(tc, tpot_and_gaps);
	tcase_add_test(tc, gaps_of_stored_times_at_int64_limits);
	tcase_add_test(tc, mbu);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
