/* load.c: send schedules, request lengths and the figures of a load cell (see load.h). */
#include "load.h"
#include "pyrandom.h"
#include "eb_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CPython's random.normalvariate (Kinderman and Monahan), draw for draw. */
static double eb_py_normal(struct eb_pyrandom *r, double mu, double sigma)
{
	const double magic = 4 * exp(-0.5) / sqrt(2.0);
	double z;

	for (;;) {
		double u1 = eb_pyrandom_random(r);
		double u2 = 1.0 - eb_pyrandom_random(r);

		z = magic * (u1 - 0.5) / u2;
		if (z * z / 4.0 <= -log(u2))
			break;
	}
	return mu + z * sigma;
}

/* CPython's random.gammavariate(alpha, beta), draw for draw (Cheng's and Kennedy and
 * Gentle's GS algorithms, as Lib/random.py has them). */
static double eb_py_gamma(struct eb_pyrandom *r, double alpha, double beta)
{
	double x;

	if (alpha > 1.0) {
		double ainv = sqrt(2.0 * alpha - 1.0), bbb = alpha - log(4.0), ccc = alpha + ainv;

		for (;;) {
			double u1 = eb_pyrandom_random(r), u2, v, z, rr;

			if (!(1e-7 < u1 && u1 < 0.9999999))
				continue;
			u2 = 1.0 - eb_pyrandom_random(r);
			v = log(u1 / (1.0 - u1)) / ainv;
			x = alpha * exp(v);
			z = u1 * u1 * u2;
			rr = bbb + ccc * v - x;
			if (rr + (1.0 + log(4.5)) - 4.5 * z >= 0.0 || rr >= log(z))
				return x * beta;
		}
	}
	if (alpha == 1.0)
		return -log(1.0 - eb_pyrandom_random(r)) * beta;
	for (;;) {
		double u = eb_pyrandom_random(r), b = (M_E + alpha) / M_E, p = b * u, u1;

		x = p <= 1.0 ? pow(p, 1.0 / alpha) : -log((b - p) / alpha);
		u1 = eb_pyrandom_random(r);
		if (p > 1.0 ? u1 <= pow(x, alpha - 1.0) : u1 <= exp(-x))
			break;
	}
	return x * beta;
}

void eb_load_schedule(const struct eb_cfg_load *L, double rate, size_t n, double *t)
{
	struct eb_pyrandom r;
	double at = 0;

	eb_pyrandom_seed_u64(&r, L->seed);
	for (size_t i = 0; i < n; i++) {
		t[i] = isinf(rate) ? 0 : at;
		if (isinf(rate))
			continue;
		if (L->gamma)
			at += eb_py_gamma(&r, L->burstiness, 1.0 / (rate * L->burstiness));
		else
			at += -log(1.0 - eb_pyrandom_random(&r)) / rate; /* expovariate */
	}
}

/* The (prompt_len, output_len) pairs of a lengths file; ordered: pair i is request i's
 * (a ShareGPT file, sampled as vLLM does), else a request draws its pair. */
struct eb_len_file {
	int *prompt, *out;
	size_t n;
	int ordered;
};

/* vLLM's is_valid_sequence with its defaults (benchmarks/datasets.py): both lengths at
 * least 4, the prompt at most 1024, the two together at most 2048. */
static int eb_sharegpt_valid(size_t prompt, size_t out)
{
	return prompt >= 4 && out >= 4 && prompt <= 1024 && prompt + out <= 2048;
}

/* The text of turn t of a ShareGPT entry's conversations, or NULL. */
static const char *eb_sharegpt_turn(json_t *conv, size_t t)
{
	return json_string_value(json_object_get(json_array_get(conv, t), "value"));
}

/*
 * A ShareGPT file's n pairs the way vLLM's ShareGPTDataset samples them: the entries with
 * a `conversations` array of two turns or more, shuffled with CPython's random seeded with
 * `seed`, then in that order the first two turns' values counted by the target's tokenizer
 * (prompt, completion) and pruned (eb_sharegpt_valid) until n pairs pass; fewer than n
 * pass: the rest are random.choice of those that did (vLLM's oversampling).
 */
static int eb_sharegpt_read(const char *path, const char *text, const char *key, size_t n,
			    uint64_t seed, const struct eb_load_tok *tok, struct eb_len_file *lf,
			    struct eb_err *err)
{
	json_error_t je;
	json_t *root = json_loads(text, 0, &je), **e = NULL;
	struct eb_pyrandom r;
	size_t ne = 0, nvalid = 0;
	int ret = 0;

	if (!root)
		return eb_err_set(err, EB_ECONFIG, "%s:%d:%d: workloads.load.%s: not JSON: %s", path,
				  je.line, je.column, key, je.text);
	if (!tok || !tok->count) {
		ret = eb_err_set(err, EB_ECONFIG,
				 "cell '%s': workloads.load.%s '%s' holds ShareGPT conversations, "
				 "whose lengths are counted by the target's tokenizer, and adapter "
				 "'%s' has none",
				 tok ? tok->cell : "?", key, path, tok ? tok->adapter : "?");
		goto out;
	}
	e = eb_xcalloc(json_array_size(root) + 1, sizeof(*e));
	for (size_t i = 0; i < json_array_size(root); i++) {
		json_t *conv = json_object_get(json_array_get(root, i), "conversations");

		if (json_array_size(conv) >= 2)
			e[ne++] = json_array_get(root, i);
	}
	eb_pyrandom_seed_u64(&r, seed);
	for (size_t i = ne; i > 1; i--) { /* random.shuffle */
		size_t j = (size_t)eb_pyrandom_randbelow(&r, i);
		json_t *t = e[i - 1];

		e[i - 1] = e[j];
		e[j] = t;
	}
	lf->prompt = eb_xcalloc(n + 1, sizeof(int));
	lf->out = eb_xcalloc(n + 1, sizeof(int));
	lf->ordered = 1;
	for (size_t i = 0; i < ne && nvalid < n && !ret; i++) {
		json_t *conv = json_object_get(e[i], "conversations");
		const char *turn[2] = { eb_sharegpt_turn(conv, 0), eb_sharegpt_turn(conv, 1) };
		size_t len[2] = { 0, 0 };

		for (int t = 0; t < 2 && !ret; t++) {
			if (!turn[t]) {
				ret = eb_err_set(err, EB_ECONFIG,
						 "%s: workloads.load.%s: a conversation's turn %d "
						 "has no string \"value\"",
						 path, key, t + 1);
				break;
			}
			ret = tok->count(tok->ud, turn[t], &len[t], err);
			if (ret == EB_EUNSUPPORTED)
				ret = eb_err_set(err, EB_ECONFIG,
						 "cell '%s': workloads.load.%s '%s' holds ShareGPT "
						 "conversations, whose lengths are counted by the "
						 "target's tokenizer, and adapter '%s' has none (%s)",
						 tok->cell, key, path, tok->adapter, err->msg);
		}
		if (ret || !eb_sharegpt_valid(len[0], len[1]))
			continue;
		lf->prompt[nvalid] = (int)len[0];
		lf->out[nvalid++] = (int)len[1];
	}
	if (!ret && nvalid == 0)
		ret = eb_err_set(err, EB_ECONFIG,
				 "%s: workloads.load.%s: no conversation of two turns or more with "
				 "a prompt of 4..1024 tokens, a completion of 4 or more and 2048 in "
				 "all (vLLM's pruning), by the target's tokenizer",
				 path, key);
	for (lf->n = nvalid; !ret && lf->n < n; lf->n++) { /* random.choice */
		size_t k = (size_t)eb_pyrandom_randbelow(&r, nvalid);

		lf->prompt[lf->n] = lf->prompt[k];
		lf->out[lf->n] = lf->out[k];
	}
out:
	free(e);
	json_decref(root);
	return ret;
}

static int eb_len_file_read(const char *path, const char *key, size_t n, uint64_t seed,
			    const struct eb_load_tok *tok, struct eb_len_file *lf,
			    struct eb_err *err)
{
	char *text = NULL, *line, *next;
	size_t len, alloc = 0;
	int ln = 0, ret;

	memset(lf, 0, sizeof(*lf));
	/* ShareGPT_V3_unfiltered_cleaned_split.json is some 650 MB */
	ret = eb_read_file(path, (size_t)1 << 30, &text, &len, err);
	if (ret)
		return eb_err_set(err, EB_ECONFIG, "workloads.load.%s: %s", key, err->msg);
	/* a JSON array is a ShareGPT file; a JSONL file's lines are objects */
	if (text[strspn(text, " \t\r\n")] == '[') {
		ret = eb_sharegpt_read(path, text, key, n, seed, tok, lf, err);
		goto out;
	}
	for (line = text; line && *line; line = next) {
		json_t *o, *pl, *ol;
		json_error_t je;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		ln++;
		if (strspn(line, " \t\r") == strlen(line))
			continue;
		o = json_loads(line, 0, &je);
		pl = json_object_get(o, "prompt_len");
		ol = json_object_get(o, "output_len");
		if (!json_is_integer(pl) || !json_is_integer(ol) || json_integer_value(pl) < 1 ||
		    json_integer_value(ol) < 1 || json_integer_value(pl) > 1000000 ||
		    json_integer_value(ol) > 1000000) {
			ret = eb_err_set(err, EB_ECONFIG,
					 "%s:%d: workloads.load.%s: %s", path, ln, key,
					 !o ? "not a JSON object"
					    : "needs integers prompt_len and output_len in 1..1000000");
			if (o)
				json_decref(o);
			goto out;
		}
		if (lf->n == alloc) {
			alloc = alloc ? 2 * alloc : 256;
			lf->prompt = eb_xrealloc(lf->prompt, alloc * sizeof(int));
			lf->out = eb_xrealloc(lf->out, alloc * sizeof(int));
		}
		lf->prompt[lf->n] = (int)json_integer_value(pl);
		lf->out[lf->n++] = (int)json_integer_value(ol);
		json_decref(o);
	}
	if (lf->n == 0)
		ret = eb_err_set(err, EB_ECONFIG, "%s: workloads.load.%s: no lengths in the file",
				 path, key);
out:
	free(text);
	if (ret) {
		free(lf->prompt);
		free(lf->out);
		memset(lf, 0, sizeof(*lf));
	}
	return ret;
}

/* The pair of request i: the i-th of an ordered file, else one drawn from r. */
static size_t eb_len_pick(struct eb_pyrandom *r, const struct eb_len_file *lf, size_t i)
{
	return lf->ordered ? i : (size_t)eb_pyrandom_randbelow(r, lf->n);
}

/* n lengths of one key into out[0..n), drawn from r (file: from lf, `which` column). */
static void eb_len_draw(const struct eb_cfg_len *d, struct eb_pyrandom *r,
			const struct eb_len_file *lf, int which, size_t n, int *out)
{
	for (size_t i = 0; i < n; i++) {
		int64_t v = d->fixed;
		struct eb_err e;

		switch (d->dist) {
		case EB_LEN_FIXED:
			break;
		case EB_LEN_UNIFORM:
			eb_pyrandom_randint(r, d->min, d->max, &v, &e);
			break;
		case EB_LEN_NORMAL:
			v = (int64_t)nearbyint(eb_py_normal(r, d->mean, d->sd)); /* round() */
			v = v < d->min ? d->min : v > d->max ? d->max : v;
			break;
		case EB_LEN_FILE: {
			size_t k = eb_len_pick(r, lf, i);

			v = which ? lf->out[k] : lf->prompt[k];
			break;
		}
		}
		out[i] = (int)v;
	}
}

int eb_load_lengths(const struct eb_cfg_load *L, size_t n, const struct eb_load_tok *tok,
		    int *prompt, int *gen, struct eb_err *err)
{
	struct eb_len_file pf = { 0 }, gf = { 0 };
	struct eb_pyrandom rp, rg;
	int same = L->prompt.dist == EB_LEN_FILE && L->gen.dist == EB_LEN_FILE &&
		   strcmp(L->prompt.file, L->gen.file) == 0;
	int ret = 0;

	if (L->prompt.dist == EB_LEN_FILE)
		ret = eb_len_file_read(L->prompt.file, "prompt_tokens.file", n, L->seed + 1, tok,
				       &pf, err);
	if (!ret && L->gen.dist == EB_LEN_FILE && !same)
		ret = eb_len_file_read(L->gen.file, "gen_tokens.file", n, L->seed + 2, tok, &gf,
				       err);
	if (ret)
		goto out;
	eb_pyrandom_seed_u64(&rp, L->seed + 1);
	eb_pyrandom_seed_u64(&rg, L->seed + 2);
	eb_len_draw(&L->prompt, &rp, &pf, 0, n, prompt);
	/* one file for both: each request's pair comes from one line */
	eb_len_draw(&L->gen, same ? &rp : &rg, same ? &pf : &gf, 1, n, gen);
	if (same) {
		eb_pyrandom_seed_u64(&rp, L->seed + 1);
		for (size_t i = 0; i < n; i++) {
			size_t k = eb_len_pick(&rp, &pf, i);

			prompt[i] = pf.prompt[k];
			gen[i] = pf.out[k] < 2 ? 2 : pf.out[k];
		}
	}
out:
	free(pf.prompt);
	free(pf.out);
	free(gf.prompt);
	free(gf.out);
	return ret;
}

/* x <= limit for a given limit; a NAN x fails it, an absent (NAN) limit holds. */
static int eb_within(double x, double limit)
{
	return isnan(limit) || (!isnan(x) && x <= limit);
}

int eb_load_good(const struct eb_cfg_load *L, const struct eb_load_req *r)
{
	return r->ok && eb_within(r->ttft_ms, L->slo_ttft_ms) &&
	       eb_within(r->tpot_ms, L->slo_tpot_ms) && eb_within(r->itl_max_ms, L->slo_itl_ms) &&
	       eb_within(r->e2e_ms, L->slo_e2e_ms);
}

void eb_load_figures(const struct eb_cfg_load *L, const struct eb_load_req *r, size_t n,
		     struct eb_load_figs *f)
{
	uint64_t t0 = UINT64_MAX, t1 = 0;
	double busy = 0;

	memset(f, 0, sizeof(*f));
	f->n = n;
	f->has_slo = !isnan(L->slo_ttft_ms) || !isnan(L->slo_tpot_ms) || !isnan(L->slo_itl_ms) ||
		     !isnan(L->slo_e2e_ms);
	for (size_t i = 0; i < n; i++) {
		if (r[i].t_send < t0)
			t0 = r[i].t_send;
		if (r[i].t_end > t1)
			t1 = r[i].t_end;
		busy += (double)(r[i].t_end - r[i].t_send) / 1e9;
		if (!r[i].ok)
			continue;
		f->n_ok++;
		f->n_good += (size_t)eb_load_good(L, &r[i]);
		if (r[i].n_out > 0)
			f->out_tokens += r[i].n_out;
		if (r[i].n_prompt > 0)
			f->in_tokens += r[i].n_prompt;
	}
	f->window_s = n && t1 > t0 ? (double)(t1 - t0) / 1e9 : 0;
	f->output_tps = f->total_tps = f->req_per_s = f->concurrency = NAN;
	f->goodput_frac = f->goodput_rps = NAN;
	if (f->window_s > 0) {
		f->output_tps = (double)f->out_tokens / f->window_s;
		f->total_tps = (double)(f->out_tokens + f->in_tokens) / f->window_s;
		f->req_per_s = (double)f->n_ok / f->window_s;
		f->concurrency = busy / f->window_s;
		if (f->has_slo)
			f->goodput_rps = (double)f->n_good / f->window_s;
	}
	if (f->has_slo && n)
		f->goodput_frac = (double)f->n_good / (double)n;
}
