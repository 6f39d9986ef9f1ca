/* accuracy.h: scoring from logits: log-probabilities, perplexity estimators, KL divergence. */
#ifndef EB_ACCURACY_H
#define EB_ACCURACY_H

#include <stddef.h>
#include <stdint.h>

/*
 * Every function here is pure arithmetic on caller-owned arrays; nothing allocates
 * except the KL accumulator (struct eb_kld), which owns its two value arrays until
 * eb_kld_release. Arithmetic follows llama.cpp's tools/perplexity/perplexity.cpp
 * operation for operation (float max, double sum of expf, ...) so that the figures
 * agree with llama-perplexity's.
 */

/* log p(target | row): logits[target] - max - log(sum_i expf(logits[i] - max)). */
double eb_acc_logp(const float *logits, size_t n_vocab, int32_t target);

/*
 * logp[i] = eb_acc_logp(rows[i], n_vocab, targets[i]) for i < n, split over up to
 * n_threads threads (<= 1: the calling thread only).
 */
void eb_acc_logp_rows(const float *const *rows, const int32_t *targets, size_t n,
		      size_t n_vocab, int n_threads, double *logp);

/*
 * llama-perplexity's running estimate: sums of nll = -log p and nll^2 over scored
 * tokens. Zero-initialise.
 */
struct eb_ppl {
	double nll, nll2;
	size_t count;
};

void eb_ppl_add(struct eb_ppl *p, double logp);

/*
 * ppl = exp(nll / count); *se = ppl * sqrt((nll2/count - mean^2) / (count - 1)), its
 * "Final estimate: PPL = X +/- Y" (NaN when count < 2 or the variance is not positive).
 */
void eb_ppl_finish(const struct eb_ppl *p, double *ppl, double *se);

/* --- KL divergence against stored reference log-probabilities -------------------- */

/*
 * A reference row in llama-perplexity's --kl-divergence-base format: two floats (scale,
 * min_log_prob) then one uint16 per vocabulary entry, padded to an even count:
 * eb_kld_row_u16(n_vocab) = 2 * ((n_vocab + 1) / 2) + 4 uint16 words.
 */
size_t eb_kld_row_u16(size_t n_vocab);

/*
 * Writes the reference row of `logits` into out[eb_kld_row_u16(n_vocab)] (log-probs
 * quantized to 16 bits over [max - 16, max]) and returns the nll of `target`, as
 * llama-perplexity's log_softmax(..., uint16_t *log_prob, tok) does.
 */
double eb_kld_ref_row(const float *logits, size_t n_vocab, int32_t target, uint16_t *out);

/* As eb_kld_ref_row over n rows (out row i at out + i * eb_kld_row_u16), threaded. */
void eb_kld_ref_rows(const float *const *rows, const int32_t *targets, size_t n,
		     size_t n_vocab, int n_threads, uint16_t *out, double *nll);

/* The KL accumulator: llama-perplexity's kl_divergence_result plus every token's KLD and
 * Δp (for percentiles). Zero-initialise; release with eb_kld_release. */
struct eb_kld {
	double sum_nll, sum_nll2, sum_nll_base, sum_nll_base2, sum_nll_nll_base;
	double sum_kld, sum_kld2, sum_p_diff, sum_p_diff2, sum_p_diff4;
	float max_p_diff;
	size_t n_same_top, count;
	float *kld;    /* per token, in order added */
	float *p_diff; /* per token: p(target) - p_base(target) */
	size_t alloc;
};

/*
 * Adds n tokens: rows[i] are the logits under test, base + i * eb_kld_row_u16(n_vocab)
 * the reference row, targets[i] the token that followed. Threaded like the others.
 */
void eb_kld_add_rows(struct eb_kld *k, const float *const *rows, const uint16_t *base,
		     const int32_t *targets, size_t n, size_t n_vocab, int n_threads);

void eb_kld_release(struct eb_kld *k);

/* The statistics llama-perplexity prints after --kl-divergence (fractions, not %). */
struct eb_kld_stats {
	size_t count;
	double ppl, ppl_unc, ppl_base, ppl_base_unc;
	double cor;                       /* Cor(ln PPL(Q), ln PPL(base)) */
	double ln_ratio, ln_ratio_unc;    /* Mean ln(PPL(Q)/PPL(base)) */
	double ratio, ratio_unc;          /* Mean PPL(Q)/PPL(base) */
	double diff, diff_unc;            /* Mean PPL(Q)-PPL(base) */
	double kld_mean, kld_unc;
	double kld_max, kld_p999, kld_p99, kld_p95, kld_p90, kld_median;
	double kld_p10, kld_p5, kld_p1, kld_p01, kld_min;
	double dp_mean, dp_unc;
	double dp_max, dp_p999, dp_p99, dp_p95, dp_p90, dp_p75, dp_median;
	double dp_p25, dp_p10, dp_p5, dp_p1, dp_p01, dp_min;
	double dp_rms, dp_rms_unc;
	double same_top, same_top_unc;    /* top-1 agreement */
};

/* Computes the statistics (sorts k's value arrays). count 0 leaves NaNs. */
void eb_kld_finish(struct eb_kld *k, struct eb_kld_stats *s);

/*
 * llama-perplexity's percentile of sorted values: linear between order statistics,
 * (1 - p) * v[ip] + p * v[ip + 1] with p = fraction * (n - 1) in float.
 */
float eb_acc_percentile(const float *sorted, size_t n, float fraction);

/* --- other estimators ---------------------------------------------------------- */

/*
 * Mean and standard error of the mean of x[0..n-1] (sample standard deviation / sqrt n;
 * NaN when n < 2).
 */
void eb_acc_mean_se(const double *x, size_t n, double *mean, double *se);

#endif
