/* accuracy.c: log-probabilities, llama-perplexity's estimators and KL statistics (accuracy.h). */
#include "accuracy.h"

#include "eb_util.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* --- a parallel for over rows --------------------------------------------------- */

typedef void (*eb_range_fn)(void *ud, size_t begin, size_t end, int worker);

struct eb_par_job {
	eb_range_fn fn;
	void *ud;
	size_t begin, end;
	int worker;
};

static void *eb_par_main(void *arg)
{
	struct eb_par_job *j = arg;

	j->fn(j->ud, j->begin, j->end, j->worker);
	return NULL;
}

/* Runs fn over [0, n) in up to n_threads contiguous slices; the caller runs the first. */
static void eb_parallel(size_t n, int n_threads, size_t min_per_thread, eb_range_fn fn, void *ud)
{
	struct eb_par_job jobs[64];
	pthread_t tid[64];
	int started[64] = { 0 };
	size_t nt = n_threads > 1 ? (size_t)n_threads : 1;

	if (nt > 64)
		nt = 64;
	if (min_per_thread && nt > (n + min_per_thread - 1) / min_per_thread)
		nt = (n + min_per_thread - 1) / min_per_thread;
	if (nt <= 1) {
		fn(ud, 0, n, 0);
		return;
	}
	for (size_t t = 0; t < nt; t++) {
		jobs[t].fn = fn;
		jobs[t].ud = ud;
		jobs[t].begin = n * t / nt;
		jobs[t].end = n * (t + 1) / nt;
		jobs[t].worker = (int)t;
	}
	for (size_t t = 1; t < nt; t++)
		started[t] = pthread_create(&tid[t], NULL, eb_par_main, &jobs[t]) == 0;
	fn(ud, jobs[0].begin, jobs[0].end, 0);
	for (size_t t = 1; t < nt; t++) {
		if (started[t])
			pthread_join(tid[t], NULL);
		else
			fn(ud, jobs[t].begin, jobs[t].end, (int)t); /* could not start: do it here */
	}
}

/* --- log p ------------------------------------------------------------------------ */

double eb_acc_logp(const float *logits, size_t n_vocab, int32_t target)
{
	float max_logit = logits[0];
	double sum_exp = 0.0;

	for (size_t i = 1; i < n_vocab; i++)
		max_logit = logits[i] > max_logit ? logits[i] : max_logit;
	for (size_t i = 0; i < n_vocab; i++)
		sum_exp += expf(logits[i] - max_logit);
	return (double)(logits[target] - max_logit) - log(sum_exp);
}

struct eb_logp_job {
	const float *const *rows;
	const int32_t *targets;
	size_t n_vocab;
	double *logp;
};

static void eb_logp_range(void *ud, size_t b, size_t e, int worker)
{
	struct eb_logp_job *j = ud;

	for (size_t i = b; i < e; i++)
		j->logp[i] = eb_acc_logp(j->rows[i], j->n_vocab, j->targets[i]);
}

void eb_acc_logp_rows(const float *const *rows, const int32_t *targets, size_t n,
		      size_t n_vocab, int n_threads, double *logp)
{
	struct eb_logp_job j = { rows, targets, n_vocab, logp };

	eb_parallel(n, n_threads, 4, eb_logp_range, &j);
}

void eb_ppl_add(struct eb_ppl *p, double logp)
{
	double v = -logp;

	p->nll += v;
	p->nll2 += v * v;
	p->count++;
}

void eb_ppl_finish(const struct eb_ppl *p, double *ppl, double *se)
{
	double mean, var;

	*ppl = NAN;
	*se = NAN;
	if (p->count == 0)
		return;
	mean = p->nll / (double)p->count;
	*ppl = exp(mean);
	var = p->nll2 / (double)p->count - mean * mean;
	if (p->count > 1 && var > 0)
		*se = sqrt(var / (double)(p->count - 1)) * *ppl;
}

/* --- KL divergence ------------------------------------------------------------------ */

size_t eb_kld_row_u16(size_t n_vocab)
{
	return 2 * ((n_vocab + 1) / 2) + 4;
}

/* llama.cpp's nearest_int: round to nearest through the float mantissa. */
static int eb_nearest_int(float fval)
{
	float val = fval + 12582912.f;
	int i;

	memcpy(&i, &val, sizeof(int));
	return (i & 0x007fffff) - 0x00400000;
}

double eb_kld_ref_row(const float *logits, size_t n_vocab, int32_t tok, uint16_t *out)
{
	float max_logit = logits[0], min_logit = logits[0];
	float log_sum_exp, min_log_prob, scale;
	double sum_exp = 0.0;
	uint16_t *lp = out + 4;

	for (size_t i = 1; i < n_vocab; i++) {
		max_logit = logits[i] > max_logit ? logits[i] : max_logit;
		min_logit = logits[i] < min_logit ? logits[i] : min_logit;
	}
	min_logit = min_logit > max_logit - 16 ? min_logit : max_logit - 16;
	for (size_t i = 0; i < n_vocab; i++)
		sum_exp += expf(logits[i] - max_logit);
	log_sum_exp = (float)log(sum_exp);
	min_log_prob = min_logit - max_logit - log_sum_exp;
	scale = (max_logit - min_logit) / 65535.f;
	memcpy(out, &scale, sizeof(float));
	memcpy(out + 2, &min_log_prob, sizeof(float));
	if (scale != 0.f) {
		const float inv_scale = 1 / scale;

		for (size_t i = 0; i < n_vocab; i++)
			lp[i] = logits[i] > min_logit
					? (uint16_t)eb_nearest_int(inv_scale * (logits[i] - min_logit))
					: 0;
	} else {
		memset(lp, 0, n_vocab * sizeof(uint16_t));
	}
	if (n_vocab % 2)
		lp[n_vocab] = 0; /* the padding word: defined bytes in the file */
	return max_logit + log_sum_exp - logits[tok];
}

struct eb_ref_job {
	const float *const *rows;
	const int32_t *targets;
	size_t n_vocab;
	uint16_t *out;
	double *nll;
};

static void eb_ref_range(void *ud, size_t b, size_t e, int worker)
{
	struct eb_ref_job *j = ud;
	size_t nv = eb_kld_row_u16(j->n_vocab);

	for (size_t i = b; i < e; i++)
		j->nll[i] = eb_kld_ref_row(j->rows[i], j->n_vocab, j->targets[i], j->out + i * nv);
}

void eb_kld_ref_rows(const float *const *rows, const int32_t *targets, size_t n,
		     size_t n_vocab, int n_threads, uint16_t *out, double *nll)
{
	struct eb_ref_job j = { rows, targets, n_vocab, out, nll };

	eb_parallel(n, n_threads, 4, eb_ref_range, &j);
}

/* Per-thread partial sums, merged by the caller. */
struct eb_kld_part {
	double sum_nll, sum_nll2, sum_nll_base, sum_nll_base2, sum_nll_nll_base;
	double sum_kld, sum_kld2, sum_p_diff, sum_p_diff2, sum_p_diff4;
	float max_p_diff;
	size_t n_same_top, count;
};

/* One token, exactly as llama-perplexity's log_softmax(..., base_log_prob, tok, kld). */
static void eb_kld_one(const float *logits, size_t n_vocab, const uint16_t *base, int32_t tok,
		       struct eb_kld_part *k, float *kld_out, float *p_diff_out)
{
	float max_logit = logits[0], log_sum_exp, scale, min_log_prob, nll, nll_base;
	float p_log_base_max = 0, p_base, p, p_diff;
	size_t imax = 0;
	long imax_base = -1;
	double sum_exp = 0.0, sum = 0, p_diff2;

	for (size_t i = 1; i < n_vocab; i++) {
		if (logits[i] > max_logit) {
			max_logit = logits[i];
			imax = i;
		}
	}
	for (size_t i = 0; i < n_vocab; i++)
		sum_exp += expf(logits[i] - max_logit);
	log_sum_exp = (float)log(sum_exp);
	memcpy(&scale, base, sizeof(float));
	memcpy(&min_log_prob, base + 2, sizeof(float));
	base += 4;

	nll = max_logit + log_sum_exp - logits[tok];
	k->sum_nll += nll;
	k->sum_nll2 += nll * nll;
	nll_base = -(scale * base[tok] + min_log_prob);
	k->sum_nll_base += nll_base;
	k->sum_nll_base2 += nll_base * nll_base;
	k->sum_nll_nll_base += nll * nll_base;

	max_logit += log_sum_exp;
	for (size_t i = 0; i < n_vocab; i++) {
		const float p_log_base = scale * base[i] + min_log_prob;

		if (i == 0 || p_log_base > p_log_base_max) {
			p_log_base_max = p_log_base;
			imax_base = (long)i;
		}
		if (p_log_base > -16.f) {
			const float pb = expf(p_log_base);

			sum += pb * (p_log_base - logits[i] + max_logit);
		}
	}
	k->sum_kld += sum;
	k->sum_kld2 += sum * sum;
	k->count++;
	if ((long)imax == imax_base)
		k->n_same_top++;

	p_base = expf(-nll_base);
	p = expf(-nll);
	p_diff = p - p_base;
	k->sum_p_diff += p_diff;
	p_diff2 = p_diff * p_diff;
	k->sum_p_diff2 += p_diff2;
	k->sum_p_diff4 += p_diff2 * p_diff2;
	if (fabsf(p_diff) > k->max_p_diff)
		k->max_p_diff = fabsf(p_diff);
	*kld_out = (float)sum;
	*p_diff_out = p_diff;
}

struct eb_kld_job {
	const float *const *rows;
	const uint16_t *base;
	const int32_t *targets;
	size_t n_vocab;
	float *kld, *p_diff;
	struct eb_kld_part part[64];
};

static void eb_kld_range(void *ud, size_t b, size_t e, int worker)
{
	struct eb_kld_job *j = ud;
	size_t nv = eb_kld_row_u16(j->n_vocab);

	for (size_t i = b; i < e; i++)
		eb_kld_one(j->rows[i], j->n_vocab, j->base + i * nv, j->targets[i], &j->part[worker],
			   &j->kld[i], &j->p_diff[i]);
}

void eb_kld_add_rows(struct eb_kld *k, const float *const *rows, const uint16_t *base,
		     const int32_t *targets, size_t n, size_t n_vocab, int n_threads)
{
	struct eb_kld_job *j;

	if (k->count + n > k->alloc) {
		size_t want = k->alloc ? 2 * k->alloc : 4096;

		while (want < k->count + n)
			want *= 2;
		k->kld = eb_xrealloc(k->kld, want * sizeof(*k->kld));
		k->p_diff = eb_xrealloc(k->p_diff, want * sizeof(*k->p_diff));
		k->alloc = want;
	}
	j = eb_xcalloc(1, sizeof(*j));
	j->rows = rows;
	j->base = base;
	j->targets = targets;
	j->n_vocab = n_vocab;
	j->kld = k->kld + k->count;
	j->p_diff = k->p_diff + k->count;
	eb_parallel(n, n_threads, 4, eb_kld_range, j);
	for (size_t t = 0; t < 64; t++) {
		const struct eb_kld_part *p = &j->part[t];

		k->sum_nll += p->sum_nll;
		k->sum_nll2 += p->sum_nll2;
		k->sum_nll_base += p->sum_nll_base;
		k->sum_nll_base2 += p->sum_nll_base2;
		k->sum_nll_nll_base += p->sum_nll_nll_base;
		k->sum_kld += p->sum_kld;
		k->sum_kld2 += p->sum_kld2;
		k->sum_p_diff += p->sum_p_diff;
		k->sum_p_diff2 += p->sum_p_diff2;
		k->sum_p_diff4 += p->sum_p_diff4;
		k->n_same_top += p->n_same_top;
		if (p->max_p_diff > k->max_p_diff)
			k->max_p_diff = p->max_p_diff;
		k->count += p->count;
	}
	free(j);
}

void eb_kld_release(struct eb_kld *k)
{
	free(k->kld);
	free(k->p_diff);
	memset(k, 0, sizeof(*k));
}

float eb_acc_percentile(const float *v, size_t n, float fraction)
{
	float p;
	size_t ip;

	if (n == 0)
		return NAN;
	if (fraction <= 0)
		return v[0];
	if (fraction >= 1)
		return v[n - 1];
	p = fraction * (float)(n - 1);
	ip = (size_t)p;
	p -= (float)ip;
	return (1 - p) * v[ip] + p * v[ip + 1 < n ? ip + 1 : n - 1];
}

static int eb_cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

/* llama-perplexity's mean_and_uncertainty: uncertainty 0 unless count > 10. */
static void eb_mean_unc(double sum, double sum2, size_t count, double *f, double *df)
{
	double v;

	if (count < 1) {
		*f = 0;
		*df = 0;
		return;
	}
	*f = sum / (double)count;
	v = sum2 / (double)count - *f * *f;
	*df = v > 0 && count > 10 ? sqrt(v / (double)(count - 1)) : 0.;
}

static double eb_median_f(const float *v, size_t n)
{
	return n % 2 == 0 ? 0.5f * (v[n / 2] + v[n / 2 - 1]) : v[n / 2];
}

void eb_kld_finish(struct eb_kld *k, struct eb_kld_stats *s)
{
	double lp, lp_unc, lpb, lpb_unc, cov = 0.0, mse, mse_unc;
	size_t n = k->count;

	memset(s, 0, sizeof(*s));
	s->count = n;
	if (n == 0) {
		double *d = &s->ppl;

		for (size_t i = 0; i < (sizeof(*s) - sizeof(s->count)) / sizeof(double); i++)
			d[i] = NAN;
		return;
	}
	qsort(k->kld, n, sizeof(float), eb_cmp_float);
	qsort(k->p_diff, n, sizeof(float), eb_cmp_float);

	eb_mean_unc(k->sum_nll, k->sum_nll2, n, &lp, &lp_unc);
	s->ppl = exp(lp);
	s->ppl_unc = s->ppl * lp_unc;
	eb_mean_unc(k->sum_nll_base, k->sum_nll_base2, n, &lpb, &lpb_unc);
	s->ppl_base = exp(lpb);
	s->ppl_base_unc = s->ppl_base * lpb_unc;
	if (n >= 10) {
		cov = k->sum_nll_nll_base / (double)n -
		      (k->sum_nll / (double)n) * (k->sum_nll_base / (double)n);
		cov /= (double)(n - 1);
	}
	s->cor = cov / (lp_unc * lpb_unc);
	s->ln_ratio = lp - lpb;
	s->ln_ratio_unc = sqrt(lp_unc * lp_unc + lpb_unc * lpb_unc - 2.0 * cov);
	s->ratio = exp(s->ln_ratio);
	s->ratio_unc = s->ratio * s->ln_ratio_unc;
	s->diff = s->ppl - s->ppl_base;
	s->diff_unc = sqrt(s->ppl_unc * s->ppl_unc + s->ppl_base_unc * s->ppl_base_unc -
			   2.0 * s->ppl * s->ppl_base * cov);

	eb_mean_unc(k->sum_kld, k->sum_kld2, n, &s->kld_mean, &s->kld_unc);
	s->kld_max = k->kld[n - 1];
	s->kld_p999 = eb_acc_percentile(k->kld, n, 0.999f);
	s->kld_p99 = eb_acc_percentile(k->kld, n, 0.990f);
	s->kld_p95 = eb_acc_percentile(k->kld, n, 0.950f);
	s->kld_p90 = eb_acc_percentile(k->kld, n, 0.900f);
	s->kld_median = eb_median_f(k->kld, n);
	s->kld_p10 = eb_acc_percentile(k->kld, n, 0.100f);
	s->kld_p5 = eb_acc_percentile(k->kld, n, 0.050f);
	s->kld_p1 = eb_acc_percentile(k->kld, n, 0.010f);
	s->kld_p01 = eb_acc_percentile(k->kld, n, 0.001f);
	s->kld_min = k->kld[0];

	eb_mean_unc(k->sum_p_diff, k->sum_p_diff2, n, &s->dp_mean, &s->dp_unc);
	s->dp_max = k->p_diff[n - 1];
	s->dp_p999 = eb_acc_percentile(k->p_diff, n, 0.999f);
	s->dp_p99 = eb_acc_percentile(k->p_diff, n, 0.990f);
	s->dp_p95 = eb_acc_percentile(k->p_diff, n, 0.950f);
	s->dp_p90 = eb_acc_percentile(k->p_diff, n, 0.900f);
	s->dp_p75 = eb_acc_percentile(k->p_diff, n, 0.750f);
	s->dp_median = eb_median_f(k->p_diff, n);
	s->dp_p25 = eb_acc_percentile(k->p_diff, n, 0.250f);
	s->dp_p10 = eb_acc_percentile(k->p_diff, n, 0.100f);
	s->dp_p5 = eb_acc_percentile(k->p_diff, n, 0.050f);
	s->dp_p1 = eb_acc_percentile(k->p_diff, n, 0.010f);
	s->dp_p01 = eb_acc_percentile(k->p_diff, n, 0.001f);
	s->dp_min = k->p_diff[0];

	eb_mean_unc(k->sum_p_diff2, k->sum_p_diff4, n, &mse, &mse_unc);
	s->dp_rms = sqrt(mse);
	s->dp_rms_unc = 0.5 / s->dp_rms * mse_unc;
	s->same_top = (double)k->n_same_top / (double)n;
	s->same_top_unc = n > 1 ? sqrt(s->same_top * (1 - s->same_top) / (double)(n - 1)) : NAN;
}

void eb_acc_mean_se(const double *x, size_t n, double *mean, double *se)
{
	double m = 0, ss = 0;

	*mean = NAN;
	*se = NAN;
	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		m += x[i];
	m /= (double)n;
	*mean = m;
	if (n < 2)
		return;
	for (size_t i = 0; i < n; i++)
		ss += (x[i] - m) * (x[i] - m);
	*se = sqrt(ss / (double)(n - 1)) / sqrt((double)n);
}
