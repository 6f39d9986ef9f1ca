/* latency.h: the latency metrics of one request, computed from the harness's token times. */
#ifndef EB_LATENCY_H
#define EB_LATENCY_H

#include <stddef.h>
#include <stdint.h>

/*
 * One request's figures (docs/metrics.md). Times are ns on the harness's monotonic clock,
 * -1 where the request does not define them; rates are tokens per second, NAN where
 * undefined.
 */
struct eb_latency {
	int64_t ttft_ns;   /* t[0] - t_send; -1 without chunks */
	int64_t e2e_ns;    /* t[n-1] - t_send; -1 without chunks */
	int64_t decode_ns; /* t[n-1] - t[0]; -1 with fewer than two chunks */
	double prefill_tps; /* n_prompt / TTFT; NAN when TTFT is not > 0 */
	double decode_tps;  /* (n_out - n_first) / decode time; NAN unless decode time > 0 and
			       n_out > n_first */
};

/*
 * The figures of a request sent at t_send whose chunks arrived at t[0..n) (ascending, same
 * clock), with n_prompt prompt tokens and n_out generated tokens as the engine counts them
 * (eb_latency_count_tokens when it gives none), and n_first the tokens the first chunk
 * carried: they arrived with it, so the decode window, which starts at t[0], holds the
 * other n_out - n_first (n_first <= 0, unknown, counts as 1). t may be NULL when n == 0.
 */
void eb_latency_of(uint64_t t_send, const uint64_t *t, size_t n, int n_prompt, int n_out,
		   int n_first, struct eb_latency *out);

/*
 * Tokens carried by n chunks: the sum of the positive n_tokens[i]; 0 when n == 0, -1
 * (unknown, never 0) when no chunk says how many it carried (every n_tokens[i] <= 0).
 */
int eb_latency_count_tokens(const int *n_tokens, size_t n);

/* A duration in ns as ms (ns / 1e6, the one conversion every stored ms figure uses); a
 * NAN (a value the database does not have) stays NAN. */
double eb_latency_ms(double ns);

/* TPOT in ms from a decode rate: 1000 / decode_tps; NAN unless the rate is finite and > 0. */
double eb_latency_tpot_ms(double decode_tps);

/* One inter-token latency: the gap between consecutive chunk times a <= b, in ms. */
double eb_latency_gap_ms(int64_t a, int64_t b);

/*
 * The n - 1 gaps between consecutive chunk times t[0..n) (ITL) into out[0..n-1), in ms;
 * returns how many (0 when n < 2). out must hold n - 1 doubles.
 */
size_t eb_latency_itl_ms(const uint64_t *t, size_t n, double *out);

/*
 * Model bandwidth utilisation of one request: decode_tps x bytes read per token / peak
 * bandwidth, where bytes read per token = model_bytes + kv_bytes_per_token x the mean
 * context during decoding (n_prompt + n_out / 2). NAN when the rate is not finite or the
 * bandwidth or model size is not > 0.
 */
double eb_latency_mbu(double decode_tps, int n_prompt, int n_out, double model_bytes,
		      double kv_bytes_per_token, double mem_bw_gbps);

#endif
