/* cmd_bench.c: `edgebench bench llama-bench` — edgebench and llama-bench on one model, side by side. */
#include "cli.h"
#include "config.h"
#include "eb_files.h"
#include "eb_proc.h"
#include "eb_util.h"
#include "plan.h"
#include "reader.h"
#include "run.h"
#include "store.h"

#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char eb_bench_usage[] =
	"usage: edgebench bench llama-bench --model FILE [--threads N] [--prompt N] [--gen N]\n"
	"                                   [--reps N] [--ngl N] [--llama-bench PATH] [--json]\n"
	"\n"
	"Runs edgebench's llamacpp latency workload and llama.cpp's llama-bench on the same\n"
	"model with the same threads, prompt and generation lengths, repetitions, batch sizes\n"
	"and GPU layers, and prints both throughputs and their ratio (edgebench / llama-bench):\n"
	"  prefill: edgebench n_prompt / TTFT     vs  llama-bench -p N -n 0 (pp N)\n"
	"  decode:  edgebench (n_out-1)/(t_last-t_first)  vs  llama-bench -p 0 -n M -d N (tg M\n"
	"           at depth N: the same KV-cache fill as decoding after an N-token prompt)\n"
	"Both figures are the mean over repetitions after one warm-up. Defaults: threads 2,\n"
	"prompt 512, gen 128, reps 5, ngl 0; llama-bench from the llama.cpp build edgebench\n"
	"was built against, else PATH.\n"
	"\n"
	"       edgebench bench llama-perplexity --model FILE ...   (see its --help): scoring\n"
	"       speed of the accuracy protocols against llama-perplexity.\n"
	"       edgebench bench load-client ...   (see its --help): the load workload's client\n"
	"       against a loopback server that streams as fast as it can.\n";

struct eb_bench_opts {
	const char *model, *llama_bench;
	long long threads, prompt, gen, reps, ngl;
	int json;
};

/* Where eb_bench_edgebench wants the prefill and decode rates' means and deviations. */
struct eb_bench_rates {
	double *pre, *dec, *pre_sd, *dec_sd;
};

/* A NULL figure reads as 0, as SQLite reads a NULL real. */
static double eb_or0(double v)
{
	return isnan(v) ? 0 : v;
}

static int eb_bench_rate(void *arg, const struct eb_store_metric *m)
{
	const struct eb_bench_rates *r = arg;

	if (m->name && strcmp(m->name, "prefill_tps") == 0) {
		*r->pre = eb_or0(m->mean);
		*r->pre_sd = eb_or0(m->stddev);
	} else if (m->name && strcmp(m->name, "decode_tps") == 0) {
		*r->dec = eb_or0(m->mean);
		*r->dec_sd = eb_or0(m->stddev);
	}
	return 0;
}

/* Runs edgebench on a temporary config/database; means of prefill and decode rates. */
static int eb_bench_edgebench(const struct eb_bench_opts *o, const char *dir, double *pre,
			      double *dec, double *pre_sd, double *dec_sd, struct eb_err *err)
{
	char cfgpath[PATH_MAX], dbpath[PATH_MAX], *errors = NULL;
	struct eb_run_opts ro = { 0 };
	struct eb_run_result rr;
	struct eb_config cfg;
	struct eb_plan plan = { 0 };
	struct eb_bench_rates rates = { pre, dec, pre_sd, dec_sd };
	struct eb_store *s;
	json_t *c;
	char *text;
	int ret;

	c = json_pack("{s:s, s:[{s:s, s:s, s:{s:I, s:I, s:I, s:I, s:I, s:s}}],"
		      " s:[{s:s, s:[{s:s, s:s}]}],"
		      " s:{s:{s:[I], s:I, s:i, s:I, s:i}}}",
		      "name", "bench-llama-bench",
		      "targets", "id", "bench", "adapter", "llamacpp", "options",
		      "threads", (json_int_t)o->threads, "n_gpu_layers", (json_int_t)o->ngl,
		      "n_ctx", (json_int_t)(o->prompt + o->gen), "n_batch", (json_int_t)2048,
		      "n_ubatch", (json_int_t)512, "flash_attn", "auto",
		      "models", "id", "model", "variants", "quant", "bench", "file", o->model,
		      "workloads", "latency", "prompt_tokens", (json_int_t)o->prompt,
		      "gen_tokens", (json_int_t)o->gen, "warmup", 1,
		      "repetitions", (json_int_t)o->reps, "seed", 42);
	text = json_dumps(c, JSON_INDENT(2));
	json_decref(c);
	snprintf(cfgpath, sizeof(cfgpath), "%s/bench.json", dir);
	snprintf(dbpath, sizeof(dbpath), "%s/bench.db", dir);
	ret = eb_write_file(cfgpath, text, strlen(text), err);
	free(text);
	if (ret)
		return ret;
	ret = eb_config_load(&cfg, cfgpath, &errors, err);
	free(errors);
	if (ret)
		goto out;
	ret = eb_plan_build(&plan, &cfg, NULL, err);
	if (ret)
		goto out;
	ro.db_path = dbpath;
	ro.quiet = 1;
	ret = eb_run(&cfg, &plan, &ro, &rr, err);
	if (ret)
		goto out;
	if (rr.n_ok != 1) {
		ret = eb_err_set(err, EB_EADAPTER, "edgebench's cell failed (see `edgebench list --db %s`)",
				 dbpath);
		goto out;
	}
	ret = eb_store_open(&s, dbpath, 1, err);
	if (ret)
		goto out;
	/* the database holds this one run */
	ret = eb_store_read_metrics(s, 0, eb_bench_rate, &rates, err);
	eb_store_close(s);
out:
	eb_plan_release(&plan);
	eb_config_release(&cfg);
	return ret;
}

/* One llama-bench test; its avg_ts and stddev_ts. */
static int eb_bench_peer(const struct eb_bench_opts *o, long long p, long long n, long long d,
			 double *ts, double *sd, struct eb_err *err)
{
	char sp[32], sn[32], sd_[32], st[32], sr[32], sngl[32];
	const char *argv[] = { o->llama_bench, "-m", o->model, "-p", sp, "-n", sn, "-d", sd_,
			       "-t", st, "-r", sr, "-ngl", sngl, "-b", "2048", "-ub", "512",
			       "-fa", "auto", "-o", "json", NULL };
	json_error_t jerr;
	json_t *root;
	char *out = NULL;
	int rc;

	snprintf(sp, sizeof(sp), "%lld", p);
	snprintf(sn, sizeof(sn), "%lld", n);
	snprintf(sd_, sizeof(sd_), "%lld", d);
	snprintf(st, sizeof(st), "%lld", o->threads);
	snprintf(sr, sizeof(sr), "%lld", o->reps);
	snprintf(sngl, sizeof(sngl), "%lld", o->ngl);
	rc = eb_proc_capture(argv, 0, 16u << 20, &out, err);
	if (rc < 0)
		return rc;
	if (rc != 0) {
		free(out);
		return eb_err_set(err, EB_EADAPTER, "'%s' exited with %d", o->llama_bench, rc);
	}
	root = json_loads(out, 0, &jerr);
	free(out);
	if (!json_is_array(root) || json_array_size(root) != 1) {
		json_decref(root);
		return eb_err_set(err, EB_EPARSE, "cannot read llama-bench's json output: %s",
				  root ? "not one test" : jerr.text);
	}
	*ts = json_number_value(json_object_get(json_array_get(root, 0), "avg_ts"));
	*sd = json_number_value(json_object_get(json_array_get(root, 0), "stddev_ts"));
	json_decref(root);
	return 0;
}

static int eb_bench_llama(const struct eb_bench_opts *o)
{
	char dir[] = "/tmp/edgebench-bench-XXXXXX";
	double e_pre = NAN, e_dec = NAN, e_pre_sd = NAN, e_dec_sd = NAN;
	double l_pre = NAN, l_dec = NAN, l_pre_sd = NAN, l_dec_sd = NAN;
	struct eb_err err;
	char cmd[PATH_MAX];
	int ret;

	if (!mkdtemp(dir)) {
		fprintf(stderr, "edgebench bench: cannot create a temporary directory\n");
		return EB_EXIT_USAGE;
	}
	fprintf(stderr, "edgebench bench: edgebench (llamacpp adapter) ...\n");
	ret = eb_bench_edgebench(o, dir, &e_pre, &e_dec, &e_pre_sd, &e_dec_sd, &err);
	if (!ret) {
		fprintf(stderr, "edgebench bench: llama-bench pp%lld ...\n", o->prompt);
		ret = eb_bench_peer(o, o->prompt, 0, 0, &l_pre, &l_pre_sd, &err);
	}
	if (!ret) {
		fprintf(stderr, "edgebench bench: llama-bench tg%lld at depth %lld ...\n", o->gen,
			o->prompt);
		ret = eb_bench_peer(o, 0, o->gen, o->prompt, &l_dec, &l_dec_sd, &err);
	}
	snprintf(cmd, sizeof(cmd), "%s/bench.db", dir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/bench.db-wal", dir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/bench.db-shm", dir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/bench.json", dir);
	unlink(cmd);
	rmdir(dir);
	if (ret) {
		fprintf(stderr, "edgebench bench: %s\n", err.msg);
		return EB_EXIT_CELL_FAIL;
	}
	if (o->json) {
		json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I,"
				      " s:{s:f, s:f, s:f, s:f}, s:{s:f, s:f, s:f, s:f},"
				      " s:{s:f, s:f}}",
				      "model", o->model, "threads", (json_int_t)o->threads, "prompt",
				      (json_int_t)o->prompt, "gen", (json_int_t)o->gen, "reps",
				      (json_int_t)o->reps, "ngl", (json_int_t)o->ngl, "edgebench",
				      "prefill_tps", e_pre, "prefill_sd", e_pre_sd, "decode_tps",
				      e_dec, "decode_sd", e_dec_sd, "llama_bench", "prefill_tps",
				      l_pre, "prefill_sd", l_pre_sd, "decode_tps", l_dec,
				      "decode_sd", l_dec_sd, "ratio", "prefill", e_pre / l_pre,
				      "decode", e_dec / l_dec);
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
		fputc('\n', stdout);
		json_decref(j);
		return EB_EXIT_OK;
	}
	printf("model %s; threads %lld; prompt %lld; gen %lld; reps %lld (+1 warm-up); ngl %lld\n",
	       o->model, o->threads, o->prompt, o->gen, o->reps, o->ngl);
	printf("%-16s %22s %22s %8s\n", "", "edgebench (mean±sd)", "llama-bench (mean±sd)", "ratio");
	printf("%-16s %13.2f ± %6.2f %13.2f ± %6.2f %8.4f\n", "prefill tok/s", e_pre, e_pre_sd,
	       l_pre, l_pre_sd, e_pre / l_pre);
	printf("%-16s %13.2f ± %6.2f %13.2f ± %6.2f %8.4f\n", "decode tok/s", e_dec, e_dec_sd,
	       l_dec, l_dec_sd, e_dec / l_dec);
	return EB_EXIT_OK;
}

int eb_cmd_bench(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "model", required_argument, NULL, 'm' },  { "threads", required_argument, NULL, 't' },
		{ "prompt", required_argument, NULL, 'p' }, { "gen", required_argument, NULL, 'n' },
		{ "reps", required_argument, NULL, 'r' },   { "ngl", required_argument, NULL, 'g' },
		{ "llama-bench", required_argument, NULL, 'L' },
		{ "json", no_argument, NULL, 'j' },         { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct eb_bench_opts o = { NULL, NULL, 2, 512, 128, 5, 0, 0 };
	static char peer[PATH_MAX];
	int c;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(eb_bench_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EB_EXIT_USAGE : EB_EXIT_OK;
	}
	if (strcmp(argv[1], "llama-perplexity") == 0)
		return eb_cmd_bench_perplexity(argc - 1, argv + 1);
	if (strcmp(argv[1], "load-client") == 0)
		return eb_cmd_bench_load(argc - 1, argv + 1);
	if (strcmp(argv[1], "llama-bench") != 0) {
		fprintf(stderr, "edgebench bench: unknown peer '%s' (llama-bench, llama-perplexity, "
				"load-client)\n",
			argv[1]);
		return EB_EXIT_USAGE;
	}
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "m:t:p:n:r:g:L:jh", lo, NULL)) != -1) {
		long long *dst = NULL, lo_ = 1, hi = 1000000;

		switch (c) {
		case 'm':
			o.model = optarg;
			continue;
		case 'L':
			o.llama_bench = optarg;
			continue;
		case 'j':
			o.json = 1;
			continue;
		case 'h':
			fputs(eb_bench_usage, stdout);
			return EB_EXIT_OK;
		case 't':
			dst = &o.threads;
			break;
		case 'p':
			dst = &o.prompt;
			break;
		case 'n':
			dst = &o.gen;
			lo_ = 2;
			break;
		case 'r':
			dst = &o.reps;
			break;
		case 'g':
			dst = &o.ngl;
			lo_ = -1;
			break;
		default:
			fputs(eb_bench_usage, stderr);
			return EB_EXIT_USAGE;
		}
		if (eb_parse_ll(optarg, lo_, hi, dst) != 0) {
			fprintf(stderr, "edgebench bench: '%s' is not a number in %lld..%lld\n", optarg,
				lo_, hi);
			return EB_EXIT_USAGE;
		}
	}
	if (!o.model || optind != argc) {
		fputs(eb_bench_usage, stderr);
		return EB_EXIT_USAGE;
	}
	if (!o.llama_bench)
		o.llama_bench = eb_llama_peer("llama-bench", peer, sizeof(peer));
	return eb_bench_llama(&o);
}
