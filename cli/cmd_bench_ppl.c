/* cmd_bench_ppl.c: `edgebench bench llama-perplexity` — scoring speed against llama-perplexity, and HellaSwag's shared context. */
#include "accuracy_run.h"
#include "cli.h"
#include "config.h"
#include "eb_build.h"
#include "eb_clock.h"
#include "eb_files.h"
#include "eb_proc.h"
#include "eb_util.h"

#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char eb_bench_ppl_usage[] =
	"usage: edgebench bench llama-perplexity --model FILE [--file TEXT] [--ctx N] [--batch N]\n"
	"                                        [--threads N] [--ngl N] [--chunks N] [--reps N]\n"
	"                                        [--hellaswag FILE] [--items N]\n"
	"                                        [--llama-perplexity PATH] [--json]\n"
	"\n"
	"Scored tokens per second of the wikitext2-llamacpp protocol in edgebench (llamacpp\n"
	"adapter) and in llama.cpp's llama-perplexity on the same model, text, context, batch\n"
	"and threads, and their ratio (edgebench / llama-perplexity). Both are timed from the\n"
	"start of scoring (after loading and tokenizing) to the final estimate: edgebench by\n"
	"its progress callback, llama-perplexity by its --log-timestamps lines \"calculating\n"
	"perplexity over\" and \"Final estimate\". Scored tokens = chunks x (ctx - ctx/2 - 1).\n"
	"Both PPLs are printed; they should agree.\n"
	"With --hellaswag, also HellaSwag items per second with each item's context decoded\n"
	"once and shared by its four endings, against each ending scored on its own (same\n"
	"figures expected), and the speedup.\n"
	"Means ± sd and the best rep over --reps (default 3), and the median of the per-rep\n"
	"ratios (each rep times both back to back: the figure to trust on a shared machine).\n"
	"Defaults: text datasets/samples/wiki.test.raw, ctx 512,\n"
	"batch 2048, threads 2, ngl 0, every chunk.\n";

/* the default text in the source tree; an installed edgebench has its own copy */
#define EB_BPPL_TEXT EB_SOURCE_DIR "/datasets/samples/wiki.test.raw"

struct eb_bppl_opts {
	const char *model, *file, *hellaswag, *peer;
	long long ctx, batch, threads, ngl, chunks, reps, items;
	int json;
};

/* First and last progress callback times: the scoring window. */
struct eb_bppl_clock {
	uint64_t t0, t1;
	size_t done;
};

static void eb_bppl_tick(void *ud, size_t done, size_t total, const char *unit,
			 const char *metric, double value)
{
	struct eb_bppl_clock *c = ud;
	uint64_t now = eb_clock_ns();

	if (!c->t0)
		c->t0 = now;
	c->t1 = now;
	c->done = done;
}

/* One task on an open adapter; its scoring seconds and its result. */
static int eb_bppl_task(const struct eb_adapter_ops *ops, void *st, const json_t *backend,
			struct eb_cfg_acc_task *t, const struct eb_bppl_opts *o, double *secs,
			struct eb_acc_result *res, struct eb_err *err)
{
	struct eb_bppl_clock clk = { 0, 0, 0 };
	struct eb_acc_env env = {
		.target_id = "bench",
		.model_id = "bench",
		.quant = "bench",
		.backend = backend,
		.kld_dir = "/tmp",
		.threads = (int)o->threads,
		.n_batch = o->batch,
		.progress = eb_bppl_tick,
		.progress_ud = &clk,
	};
	int ret = eb_acc_run(t, ops, st, &env, res, err);

	*secs = (clk.t1 - clk.t0) / 1e9;
	return ret;
}

static double eb_bppl_metric(const struct eb_acc_result *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->m[i].name, name) == 0)
			return r->m[i].value;
	return NAN;
}

/* "0.06.545.811" (minutes.seconds.ms.us) at the start of a log line, in seconds. */
static int eb_bppl_stamp(const char *line, double *t)
{
	unsigned m, s, ms, us;
	char tail;

	if (sscanf(line, "%u.%2u.%3u.%3u%c", &m, &s, &ms, &us, &tail) != 5 || tail != ' ')
		return -1;
	*t = m * 60.0 + s + ms / 1e3 + us / 1e6;
	return 0;
}

/* One llama-perplexity run: its scoring seconds, PPL and scored tokens. */
static int eb_bppl_peer(const struct eb_bppl_opts *o, double *secs, double *ppl, double *scored,
			struct eb_err *err)
{
	char c[32], b[32], t[32], ngl[32], ch[32];
	const char *argv[24];
	char *out = NULL, *line, *next;
	double t0 = NAN, t1 = NAN;
	long long n_chunk = -1;
	int rc, k = 0;

	snprintf(c, sizeof(c), "%lld", o->ctx);
	snprintf(b, sizeof(b), "%lld", o->batch);
	snprintf(t, sizeof(t), "%lld", o->threads);
	snprintf(ngl, sizeof(ngl), "%lld", o->ngl);
	snprintf(ch, sizeof(ch), "%lld", o->chunks ? o->chunks : -1);
	argv[k++] = o->peer;
	argv[k++] = "-m";
	argv[k++] = o->model;
	argv[k++] = "-f";
	argv[k++] = o->file;
	argv[k++] = "-c";
	argv[k++] = c;
	argv[k++] = "-b";
	argv[k++] = b;
	argv[k++] = "-t";
	argv[k++] = t;
	argv[k++] = "-ngl";
	argv[k++] = ngl;
	argv[k++] = "--chunks";
	argv[k++] = ch;
	argv[k++] = "--log-timestamps";
	argv[k] = NULL;
	rc = eb_proc_capture(argv, 1, 64u << 20, &out, err);
	if (rc < 0)
		return rc;
	*ppl = NAN;
	for (line = out; line && *line; line = next) {
		const char *p;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if ((p = strstr(line, "calculating perplexity over ")) != NULL) {
			n_chunk = strtoll(p + strlen("calculating perplexity over "), NULL, 10);
			eb_bppl_stamp(line, &t0);
		} else if ((p = strstr(line, "Final estimate: PPL = ")) != NULL) {
			*ppl = strtod(p + strlen("Final estimate: PPL = "), NULL);
			eb_bppl_stamp(line, &t1);
		}
	}
	free(out);
	if (rc != 0 || !isfinite(t0) || !isfinite(t1) || n_chunk <= 0)
		return eb_err_set(err, EB_EADAPTER,
				  "'%s' exited with %d without the timed lines (\"calculating "
				  "perplexity over\", \"Final estimate\")",
				  o->peer, rc);
	*secs = t1 - t0;
	*scored = (double)n_chunk * (double)(o->ctx - o->ctx / 2 - 1);
	return 0;
}

static double eb_best(const double *x, size_t n)
{
	double b = x[0];

	for (size_t i = 1; i < n; i++)
		b = x[i] > b ? x[i] : b;
	return b;
}

static int eb_cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of a[i] / b[i]: each rep's two figures were taken back to back, so their ratio
 * survives a machine whose load changes between reps. */
static double eb_median_ratio(const double *a, const double *b, size_t n)
{
	double *r = eb_xcalloc(n, sizeof(*r)), m;

	for (size_t i = 0; i < n; i++)
		r[i] = a[i] / b[i];
	qsort(r, n, sizeof(*r), eb_cmp_d);
	m = n % 2 ? r[n / 2] : 0.5 * (r[n / 2 - 1] + r[n / 2]);
	free(r);
	return m;
}

static void eb_mean_sd(const double *x, size_t n, double *m, double *sd)
{
	double s = 0, ss = 0;

	for (size_t i = 0; i < n; i++)
		s += x[i];
	*m = s / (double)n;
	for (size_t i = 0; i < n; i++)
		ss += (x[i] - *m) * (x[i] - *m);
	*sd = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
}

static int eb_bppl_run(const struct eb_bppl_opts *o)
{
	const struct eb_adapter_ops *ops = eb_adapter_find("llamacpp");
	struct eb_adapter_args a;
	struct eb_cfg_acc_task pt, ht;
	struct eb_err err;
	json_t *opts = NULL, *backend = NULL;
	double *e_tps, *l_tps, *hs_sh, *hs_sep;
	double e_ppl = NAN, l_ppl = NAN, scored = 0, acc_sh = NAN, acc_sep = NAN;
	double e_m, e_sd, l_m, l_sd, h1_m = NAN, h1_sd = NAN, h2_m = NAN, h2_sd = NAN;
	double e_b, l_b, h1_b = NAN, h2_b = NAN, r_med, h_med = NAN;
	size_t n_items = 0;
	void *st = NULL;
	int ret = EB_EXIT_CELL_FAIL;

	e_tps = eb_xcalloc((size_t)o->reps, sizeof(double));
	l_tps = eb_xcalloc((size_t)o->reps, sizeof(double));
	hs_sh = eb_xcalloc((size_t)o->reps, sizeof(double));
	hs_sep = eb_xcalloc((size_t)o->reps, sizeof(double));
	opts = json_pack("{s:I, s:I, s:I, s:I, s:I}", "threads", (json_int_t)o->threads,
			 "n_gpu_layers", (json_int_t)o->ngl, "n_ctx", (json_int_t)o->ctx, "n_batch",
			 (json_int_t)o->batch, "n_ubatch", (json_int_t)512);
	memset(&a, 0, sizeof(a));
	a.target_id = "bench";
	a.model_id = "bench";
	a.quant = "bench";
	a.model_file = o->model;
	a.options = opts;
	if (!ops || ops->open(&a, &st, &err) != 0) {
		fprintf(stderr, "edgebench bench: %s\n", ops ? err.msg : "no llamacpp adapter");
		st = NULL;
		goto out;
	}
	backend = json_object();
	if (ops->describe(st, backend, &err) != 0) {
		fprintf(stderr, "edgebench bench: %s\n", err.msg);
		goto out;
	}
	memset(&pt, 0, sizeof(pt));
	pt.task = "wikitext2";
	pt.protocol = "wikitext2-llamacpp";
	pt.file = (char *)o->file;
	pt.n_ctx = o->ctx;
	pt.limit = o->chunks;
	pt.n_batch = o->batch;
	pt.params = json_pack("{s:s}", "protocol", pt.protocol);
	ht = pt;
	ht.task = "hellaswag";
	ht.protocol = "hellaswag";
	ht.file = (char *)o->hellaswag;
	ht.seqlen = 2048;
	ht.limit = o->items;
	for (long long r = 0; r < o->reps; r++) {
		struct eb_acc_result res;
		double secs = 0, l_secs = 0;

		/* alternate which goes first, so neither always meets the same conditions */
		for (int k = 0; k < 2; k++) {
			if ((k + r) % 2 == 0) {
				fprintf(stderr, "edgebench bench: rep %lld/%lld: edgebench "
						"wikitext2-llamacpp ...\n",
					r + 1, o->reps);
				if (eb_bppl_task(ops, st, backend, &pt, o, &secs, &res, &err) != 0) {
					fprintf(stderr, "edgebench bench: %s\n", err.msg);
					eb_acc_result_release(&res);
					goto out;
				}
				e_ppl = eb_bppl_metric(&res, "ppl");
				scored = (double)json_integer_value(
						 json_object_get(res.params, "n_chunks")) *
					 (double)(o->ctx - o->ctx / 2 - 1);
				e_tps[r] = scored / secs;
				eb_acc_result_release(&res);
			} else {
				fprintf(stderr, "edgebench bench: rep %lld/%lld: llama-perplexity ...\n",
					r + 1, o->reps);
				if (eb_bppl_peer(o, &l_secs, &l_ppl, &scored, &err) != 0) {
					fprintf(stderr, "edgebench bench: %s\n", err.msg);
					goto out;
				}
				l_tps[r] = scored / l_secs;
			}
		}
		if (!o->hellaswag)
			continue;
		for (int k = 0; k < 2; k++) {
			int sep = (k + (int)r) % 2;

			fprintf(stderr, "edgebench bench: rep %lld/%lld: hellaswag, %s ...\n", r + 1,
				o->reps, sep ? "each ending alone" : "shared context");
			ht.separate = sep;
			if (eb_bppl_task(ops, st, backend, &ht, o, &secs, &res, &err) != 0) {
				fprintf(stderr, "edgebench bench: %s\n", err.msg);
				eb_acc_result_release(&res);
				goto out;
			}
			n_items = (size_t)json_integer_value(json_object_get(res.params, "n_items"));
			(sep ? hs_sep : hs_sh)[r] = (double)n_items / secs;
			*(sep ? &acc_sep : &acc_sh) = eb_bppl_metric(&res, "acc_norm");
			eb_acc_result_release(&res);
		}
	}
	eb_mean_sd(e_tps, (size_t)o->reps, &e_m, &e_sd);
	eb_mean_sd(l_tps, (size_t)o->reps, &l_m, &l_sd);
	e_b = eb_best(e_tps, (size_t)o->reps);
	l_b = eb_best(l_tps, (size_t)o->reps);
	r_med = eb_median_ratio(e_tps, l_tps, (size_t)o->reps);
	if (o->hellaswag) {
		eb_mean_sd(hs_sh, (size_t)o->reps, &h1_m, &h1_sd);
		eb_mean_sd(hs_sep, (size_t)o->reps, &h2_m, &h2_sd);
		h1_b = eb_best(hs_sh, (size_t)o->reps);
		h2_b = eb_best(hs_sep, (size_t)o->reps);
		h_med = eb_median_ratio(hs_sh, hs_sep, (size_t)o->reps);
	}
	if (o->json) {
		json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:f,"
				      " s:{s:f, s:f, s:f, s:f}, s:{s:f, s:f, s:f, s:f}, s:f, s:f, s:f}",
				      "model", o->model, "file", o->file, "ctx", (json_int_t)o->ctx,
				      "batch", (json_int_t)o->batch, "threads", (json_int_t)o->threads,
				      "reps", (json_int_t)o->reps, "scored_tokens", scored,
				      "edgebench", "scored_tps", e_m, "sd", e_sd, "best", e_b, "ppl",
				      e_ppl, "llama_perplexity", "scored_tps", l_m, "sd", l_sd, "best",
				      l_b, "ppl", l_ppl, "ratio", e_m / l_m, "ratio_best", e_b / l_b,
				      "ratio_median_paired", r_med);

		if (o->hellaswag)
			json_object_set_new(j, "hellaswag",
					    json_pack("{s:s, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f,"
						      " s:f, s:f, s:f, s:f}",
						      "file", o->hellaswag, "items", (json_int_t)n_items,
						      "shared_items_per_s", h1_m, "shared_sd", h1_sd,
						      "shared_best", h1_b, "separate_items_per_s", h2_m,
						      "separate_sd", h2_sd, "separate_best", h2_b,
						      "speedup", h1_m / h2_m, "speedup_best", h1_b / h2_b,
						      "speedup_median_paired", h_med,
						      "acc_norm_shared", acc_sh, "acc_norm_separate",
						      acc_sep));
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
		fputc('\n', stdout);
		json_decref(j);
	} else {
		printf("model %s; text %s; ctx %lld; batch %lld; threads %lld; ngl %lld; reps %lld\n",
		       o->model, o->file, o->ctx, o->batch, o->threads, o->ngl, o->reps);
		printf("%-28s %22s %22s %8s\n", "", "edgebench", "llama-perplexity", "ratio");
		printf("%-28s %13.1f ± %6.1f %13.1f ± %6.1f %8.4f\n", "scored tokens/s (mean±sd)",
		       e_m, e_sd, l_m, l_sd, e_m / l_m);
		printf("%-28s %22.1f %22.1f %8.4f\n", "scored tokens/s (best)", e_b, l_b, e_b / l_b);
		printf("%-28s %54.4f\n", "median of per-rep ratios", r_med);
		printf("%-28s %22.4f %22.4f\n", "PPL (final estimate)", e_ppl, l_ppl);
		printf("scored tokens per run: %.0f\n", scored);
		if (o->hellaswag) {
			printf("\nhellaswag %s, %zu items:\n", o->hellaswag, n_items);
			printf("%-28s %13.2f ± %6.2f  best %8.2f  (acc_norm %.4f)\n",
			       "shared context items/s", h1_m, h1_sd, h1_b, acc_sh);
			printf("%-28s %13.2f ± %6.2f  best %8.2f  (acc_norm %.4f)\n",
			       "each ending alone items/s", h2_m, h2_sd, h2_b, acc_sep);
			printf("%-28s %13.2fx (means), %.2fx (bests), %.2fx (median of per-rep "
			       "ratios)\n",
			       "speedup", h1_m / h2_m, h1_b / h2_b, h_med);
		}
	}
	ret = EB_EXIT_OK;
out:
	if (st)
		ops->close(st);
	if (backend)
		json_decref(backend);
	if (opts)
		json_decref(opts);
	free(e_tps);
	free(l_tps);
	free(hs_sh);
	free(hs_sep);
	return ret;
}

int eb_cmd_bench_perplexity(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "model", required_argument, NULL, 'm' },   { "file", required_argument, NULL, 'f' },
		{ "ctx", required_argument, NULL, 'c' },     { "batch", required_argument, NULL, 'b' },
		{ "threads", required_argument, NULL, 't' }, { "ngl", required_argument, NULL, 'g' },
		{ "chunks", required_argument, NULL, 'k' },  { "reps", required_argument, NULL, 'r' },
		{ "hellaswag", required_argument, NULL, 'H' },
		{ "items", required_argument, NULL, 'i' },
		{ "llama-perplexity", required_argument, NULL, 'L' },
		{ "json", no_argument, NULL, 'j' },          { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct eb_bppl_opts o = { NULL, NULL, NULL, NULL,
				  512, 2048, 2, 0, 0, 3, 0, 0 };
	static char peer[PATH_MAX], text[PATH_MAX];
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "m:f:c:b:t:g:k:r:H:i:L:jh", lo, NULL)) != -1) {
		long long *dst = NULL, min = 1, max = 10000000;

		switch (c) {
		case 'm':
			o.model = optarg;
			continue;
		case 'f':
			o.file = optarg;
			continue;
		case 'H':
			o.hellaswag = optarg;
			continue;
		case 'L':
			o.peer = optarg;
			continue;
		case 'j':
			o.json = 1;
			continue;
		case 'h':
			fputs(eb_bench_ppl_usage, stdout);
			return EB_EXIT_OK;
		case 'c':
			dst = &o.ctx;
			min = 16;
			break;
		case 'b':
			dst = &o.batch;
			break;
		case 't':
			dst = &o.threads;
			break;
		case 'g':
			dst = &o.ngl;
			min = -1;
			break;
		case 'k':
			dst = &o.chunks;
			break;
		case 'r':
			dst = &o.reps;
			max = 1000;
			break;
		case 'i':
			dst = &o.items;
			break;
		default:
			fputs(eb_bench_ppl_usage, stderr);
			return EB_EXIT_USAGE;
		}
		if (eb_parse_ll(optarg, min, max, dst) != 0) {
			fprintf(stderr, "edgebench bench: '%s' is not a number in %lld..%lld\n", optarg,
				min, max);
			return EB_EXIT_USAGE;
		}
	}
	if (!o.model || optind != argc) {
		fputs(eb_bench_ppl_usage, stderr);
		return EB_EXIT_USAGE;
	}
	if (!o.peer)
		o.peer = eb_llama_peer("llama-perplexity", peer, sizeof(peer));
	if (!o.file) /* when neither copy exists, the error names the source tree's */
		o.file = eb_own_file(EB_BIN_TO_DATA "/samples/wiki.test.raw", EB_BPPL_TEXT, text,
				     sizeof(text)) ? text : EB_BPPL_TEXT;
	return eb_bppl_run(&o);
}
