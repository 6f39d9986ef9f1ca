/* latency.c: TTFT, E2E, decode time, rates, TPOT, ITL and MBU of a request (see latency.h). */
#include "latency.h"

#include "eb_util.h"

#include <math.h>

void eb_latency_of(uint64_t t_send, const uint64_t *t, size_t n, int n_prompt, int n_out,
		   int n_first, struct eb_latency *out)
{
	if (n_first < 1)
		n_first = 1;
	out->ttft_ns = n ? (int64_t)(t[0] - t_send) : -1;
	out->e2e_ns = n ? (int64_t)(t[n - 1] - t_send) : -1;
	out->decode_ns = n > 1 ? (int64_t)(t[n - 1] - t[0]) : -1;
	out->prefill_tps = out->ttft_ns > 0 ? n_prompt / (out->ttft_ns * 1e-9) : NAN;
	/* the first chunk ends prefill: the n_out - n_first tokens after it are decoded in
	 * the window; counting the first chunk's own tokens inside it would inflate the rate */
	out->decode_tps = out->decode_ns > 0 && n_out > n_first
				  ? (n_out - n_first) / (out->decode_ns * 1e-9)
				  : NAN;
}

int eb_latency_count_tokens(const int *n_tokens, size_t n)
{
	int sum = 0, known = 0;

	for (size_t i = 0; i < n; i++)
		if (n_tokens[i] > 0) {
			sum += n_tokens[i];
			known = 1;
		}
	return known || n == 0 ? sum : -1;
}

double eb_latency_ms(double ns)
{
	return ns / 1e6;
}

double eb_latency_tpot_ms(double decode_tps)
{
	return isfinite(decode_tps) && decode_tps > 0 ? 1e3 / decode_tps : NAN;
}

double eb_latency_gap_ms(int64_t a, int64_t b)
{
	return eb_latency_ms(eb_ns_diff(b, a)); /* stored times may be anything */
}

size_t eb_latency_itl_ms(const uint64_t *t, size_t n, double *out)
{
	for (size_t k = 1; k < n; k++)
		out[k - 1] = eb_latency_gap_ms((int64_t)t[k - 1], (int64_t)t[k]);
	return n > 1 ? n - 1 : 0;
}

double eb_latency_mbu(double decode_tps, int n_prompt, int n_out, double model_bytes,
		      double kv_bytes_per_token, double mem_bw_gbps)
{
	double ctx = n_prompt + n_out / 2.0;
	double bytes = model_bytes + kv_bytes_per_token * ctx;

	if (!(mem_bw_gbps > 0) || !(model_bytes > 0) || !isfinite(decode_tps))
		return NAN;
	return decode_tps * bytes / (mem_bw_gbps * 1e9);
}
