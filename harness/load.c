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

/* The (prompt_len, output_len) pairs of a lengths file. */
struct eb_len_file {
	int *prompt, *out;
	size_t n;
};

static int eb_len_file_read(const char *path, const char *key, struct eb_len_file *lf,
			    struct eb_err *err)
{
	char *text = NULL, *line, *next;
	size_t len, alloc = 0;
	int ln = 0, ret;

	memset(lf, 0, sizeof(*lf));
	ret = eb_read_file(path, (size_t)256 << 20, &text, &len, err);
	if (ret)
		return eb_err_set(err, EB_ECONFIG, "workloads.load.%s: %s", key, err->msg);
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
			size_t k = (size_t)eb_pyrandom_randbelow(r, lf->n);

			v = which ? lf->out[k] : lf->prompt[k];
			break;
		}
		}
		out[i] = (int)v;
	}
}

int eb_load_lengths(const struct eb_cfg_load *L, size_t n, int *prompt, int *gen,
		    struct eb_err *err)
{
	struct eb_len_file pf = { 0 }, gf = { 0 };
	struct eb_pyrandom rp, rg;
	int same = L->prompt.dist == EB_LEN_FILE && L->gen.dist == EB_LEN_FILE &&
		   strcmp(L->prompt.file, L->gen.file) == 0;
	int ret = 0;

	if (L->prompt.dist == EB_LEN_FILE)
		ret = eb_len_file_read(L->prompt.file, "prompt_tokens.file", &pf, err);
	if (!ret && L->gen.dist == EB_LEN_FILE && !same)
		ret = eb_len_file_read(L->gen.file, "gen_tokens.file", &gf, err);
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
			size_t k = (size_t)eb_pyrandom_randbelow(&rp, pf.n);

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
