/* run.c: the run loop (see run.h) and the latency workload every adapter is measured by. */
#include "run.h"
#include "synth.h"
#include "prompts.h"
#include "devstate.h"
#include "latency.h"
#include "metric.h"
#include "power.h"
#include "stats.h"
#include "accuracy_run.h"
#include "protocol.h"
#include "eb_build.h"
#include "eb_cleanup.h"
#include "eb_clock.h"
#include "eb_sanitize.h"
#include "eb_util.h"
#include "env.h"
#include "modes.h"
#include "load.h"
#include "sustain.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t eb_stop_flag;
static volatile int eb_stop_int; /* mirrored for adapters (volatile int *) */

void eb_run_request_stop(void)
{
	eb_stop_flag = 1;
	eb_stop_int = 1;
}

/* --- one request's token times ------------------------------------------------- */

struct eb_times {
	uint64_t *t;
	int *n;
	size_t len, alloc;
};

static int eb_times_cb(void *ud, uint64_t t_ns, int n_tokens)
{
	struct eb_times *tm = ud;

	if (tm->len == tm->alloc) {
		tm->alloc = tm->alloc ? 2 * tm->alloc : 256;
		tm->t = eb_xrealloc(tm->t, tm->alloc * sizeof(*tm->t));
		tm->n = eb_xrealloc(tm->n, tm->alloc * sizeof(*tm->n));
	}
	tm->t[tm->len] = t_ns;
	tm->n[tm->len] = n_tokens;
	tm->len++;
	return 0;
}

/* --- per-cell collected results, written in one transaction ------------------------- */

struct eb_req_res {
	struct eb_request_row row;
	uint64_t t_send; /* harness clock */
	uint64_t *t_rel;
	int *ntok;
	json_t *server;    /* the adapter's figures, as it gave them */
	char *server_json; /* `server` cleaned, as stored */
};

struct eb_cell_res {
	struct eb_req_res *reqs;
	size_t n_reqs;
	json_t *backend;  /* describe() + facts */
	json_t *warnings; /* array of strings */
	char *error;      /* NULL when ok; the reason when skipped */
	int skipped;
	struct eb_acc_result acc; /* accuracy cells */
	struct eb_power_run power; /* latency cells with sensors */
	double model_bytes, kv_bytes_per_token, kv_bytes;
	long long peak_rss;
	double med_ttft, med_decode, med_e2e; /* medians as stored, NAN when not stored */
	int is_load;                /* a load cell, whose figures are in lf */
	struct eb_load_figs lf;
	double *lag_ms;             /* send lag of each measured request */
	size_t n_lag;
	uint64_t load_t0, load_t1;  /* its measured window (eb_clock_ns) */
	double load_ms;             /* model load time (NAN: not measured for this cell) */
	int sustained;              /* a latency cell with duration_s */
	struct eb_sustain sus;      /* its device snapshots */
	struct eb_sustain_res sres; /* its windows and findings, once it ended */
};

static void eb_cell_res_release(struct eb_cell_res *c)
{
	for (size_t i = 0; i < c->n_reqs; i++) {
		free(c->reqs[i].t_rel);
		free(c->reqs[i].ntok);
		free(c->reqs[i].server_json);
		if (c->reqs[i].server)
			json_decref(c->reqs[i].server);
	}
	free(c->reqs);
	if (c->backend)
		json_decref(c->backend);
	if (c->warnings)
		json_decref(c->warnings);
	free(c->error);
	free(c->lag_ms);
	eb_acc_result_release(&c->acc);
	eb_power_release(&c->power);
	if (c->sustained)
		eb_sustain_release(&c->sus);
	if (c->sres.series)
		json_decref(c->sres.series);
	memset(c, 0, sizeof(*c));
}

static void eb_warn(struct eb_cell_res *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void eb_warn(struct eb_cell_res *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(c->warnings, json_string(msg));
}

/* --- progress ------------------------------------------------------------------- */

struct eb_progress {
	int on;
	size_t i, n;
	uint64_t t_start;
	size_t n_done_timed;
	double secs_done;
	/* hashes of the warnings printed so far: a warning every cell repeats (a sensor that
	 * cannot run here) is printed once, then counted */
	uint64_t warned[256];
	size_t n_warned;
};

static void eb_progress_draw(struct eb_progress *p, const char *key, const char *what, int rep,
			     int nrep, int warm)
{
	char eta[32] = "?";

	if (!p->on)
		return;
	if (p->n_done_timed > 0) {
		double per = p->secs_done / (double)p->n_done_timed;
		double left = per * (double)(p->n - p->i);
		snprintf(eta, sizeof(eta), "%d:%02d", (int)(left / 60), (int)left % 60);
	}
	if (nrep > 0)
		fprintf(stderr, "\r\033[K[%zu/%zu] %s  %s %d/%d%s  ETA %s", p->i + 1, p->n, key,
			what, rep, nrep, warm ? " (warm-up)" : "", eta);
	else
		fprintf(stderr, "\r\033[K[%zu/%zu] %s  %s  ETA %s", p->i + 1, p->n, key, what, eta);
	fflush(stderr);
}

/* Progress of an accuracy cell: units scored, the running metric, the cell's ETA. */
struct eb_acc_draw {
	struct eb_progress *pg;
	const char *key;
	uint64_t t0;
};

static void eb_acc_draw_cb(void *ud, size_t done, size_t total, const char *unit,
			   const char *metric, double value)
{
	struct eb_acc_draw *d = ud;
	struct eb_progress *p = d->pg;
	char eta[32] = "?", val[48] = "";

	if (!p->on)
		return;
	if (done > 0 && total >= done) {
		double el = (eb_clock_ns() - d->t0) / 1e9;
		double left = el / (double)done * (double)(total - done);

		snprintf(eta, sizeof(eta), "%d:%02d", (int)(left / 60), (int)left % 60);
	}
	if (isfinite(value))
		snprintf(val, sizeof(val), "  %s %.6g", metric, value);
	fprintf(stderr, "\r\033[K[%zu/%zu] %s  %zu/%zu %s%s  ETA %s", p->i + 1, p->n, d->key, done,
		total, unit ? unit : "", val, eta);
	fflush(stderr);
}

/* The accuracy workload: one task through the adapter's loglik (harness/accuracy_run.c). */
static int eb_accuracy(const struct eb_config *cfg, const struct eb_cell *cell,
		       const struct eb_adapter_ops *ops, void *st, const char *db_path,
		       struct eb_cell_res *c, struct eb_progress *pg, struct eb_err *err)
{
	const struct eb_cfg_target *tg = cell->target;
	struct eb_acc_draw draw = { pg, cell->key, eb_clock_ns() };
	char kld_dir[4096];
	int rc;
	struct eb_acc_env env = {
		.target_id = tg->id,
		.model_id = cell->model->id,
		.quant = cell->variant->quant,
		.backend = c->backend,
		.kld_dir = kld_dir,
		.kld_reference = cfg->accuracy.kld_reference,
		.stop = &eb_stop_int,
		.progress = eb_acc_draw_cb,
		.progress_ud = &draw,
	};

	if (cfg->accuracy.kld_dir)
		eb_strlcpy(kld_dir, cfg->accuracy.kld_dir, sizeof(kld_dir));
	else
		snprintf(kld_dir, sizeof(kld_dir), "%s.kld", db_path);
	/* 0 (every online CPU) where the adapter has no such option */
	env.threads = (int)eb_opt_int(tg->options, ops->options, "threads");
	if (env.threads <= 0)
		env.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	env.n_batch = eb_opt_int(tg->options, ops->options, "n_batch");
	eb_progress_draw(pg, cell->key, "loading dataset", 0, 0, 0);
	rc = eb_acc_run(cell->acc, ops, st, &env, &c->acc, err);
	if (c->acc.warnings)
		json_array_extend(c->warnings, c->acc.warnings);
	/* what the adapter, its server or the model lacks skips the cell, with the reason */
	c->skipped = rc && c->acc.unsupported;
	return rc;
}

/* Why an accuracy cell cannot run here, or NULL. */
static const char *eb_accuracy_skip(const struct eb_config *cfg, const struct eb_cell *cell,
				    char *buf, size_t n)
{
	const struct eb_acc_protocol *p;
	struct eb_err e;

	if (!cell->acc)
		return NULL;
	p = eb_acc_protocol_find(cell->acc->protocol);
	if (eb_acc_protocol_supported(p, cell->target->ops, &e) != 0) {
		eb_strlcpy(buf, e.msg, n);
		return buf;
	}
	if (p && p->needs_reference) {
		for (size_t v = 0; v < cell->model->n_variants; v++)
			if (strcmp(cell->model->variants[v].quant, cfg->accuracy.kld_reference) == 0)
				return NULL;
		snprintf(buf, n, "model '%s' has no variant '%s' (workloads.accuracy.kld.reference)",
			 cell->model->id, cfg->accuracy.kld_reference);
		return buf;
	}
	return NULL;
}

/* --- power around a latency cell ---------------------------------------------------- */

/* Cool-down, sensors opened, idle baseline, sampling started; problems become warnings. */
static int eb_power_cell_begin(const struct eb_config *cfg, const struct eb_cell *cell,
			       struct eb_cell_res *c, struct eb_progress *pg, struct eb_err *err)
{
	const struct eb_power_opts *po = &cfg->power.opts;

	if (!po->sensors && !(po->cooldown_s > 0) && !po->cooldown_zone)
		return 0;
	eb_progress_draw(pg, cell->key, po->sensors ? "cool-down, idle baseline" : "cool-down",
			 0, 0, 0);
	if (eb_power_begin(&c->power, po, &eb_stop_int, c->warnings) == EB_EINTR)
		return eb_err_set(err, EB_EINTR, "interrupted");
	return 0;
}

/* Says once, before the cells, which configured sensors cannot run here and why. */
static void eb_power_preflight(const struct eb_config *cfg)
{
	const json_t *sensors = cfg->power.opts.sensors;
	size_t i, n_ok = 0;
	json_t *it;

	if (!sensors || !cfg->latency.enabled)
		return;
	json_array_foreach(sensors, i, it) {
		const char *kind = json_string_value(json_object_get(it, "kind"));
		char why[512];
		const char *r = eb_sensor_unavailable(kind, json_object_get(it, "options"),
						      cfg->power.sysfs_root, cfg->power.opts.interval_ms,
						      why, sizeof(why));
		if (r)
			fprintf(stderr, "edgebench: power: sensor '%s' unavailable here: %s\n", kind, r);
		else
			n_ok++;
	}
	if (n_ok == 0)
		fprintf(stderr, "edgebench: power: no configured sensor can run here; latency cells "
				"get no power or energy figures\n");
}

/* Sampling stopped; what the sampler saw (sensors, rails, cost, warnings) on the record. */
static void eb_power_cell_end(struct eb_cell_res *c)
{
	if (!c->power.smp)
		return;
	/* a few more intervals, so the last request's decode window ends between samples */
	if (eb_sampler_running(c->power.smp))
		eb_clock_sleep_ns(3ull * eb_sampler_interval_ms(c->power.smp) * 1000000ull,
				  &eb_stop_int);
	eb_power_end(&c->power);
	for (size_t i = 0; i < eb_sampler_n_warnings(c->power.smp); i++)
		eb_warn(c, "power: %s", eb_sampler_warning(c->power.smp, i));
	json_object_set_new(c->backend, "power", eb_sampler_describe(c->power.smp));
}

/* --- the latency workload --------------------------------------------------------- */

/* Bytes of corpus per prompt token past which a tokenizer's count is not believed. */
#define EB_PROMPT_BYTES_MAX 64

/* A target's timeout_s (every remote adapter has one), else the HTTP adapters' default. */
static double eb_timeout_s(const json_t *options)
{
	const json_t *v = json_object_get(options, "timeout_s");

	return json_is_number(v) && json_number_value(v) > 0 ? json_number_value(v) : 600;
}

/*
 * Prompt of exactly n tokens cut from the corpus (repeated as needed), starting `off`
 * tokens into it: the tokenizer's own prefix (BOS where the model adds one) followed by
 * corpus tokens [off, off + n - prefix). *toks and *text are malloc'd for the caller.
 * The tokenizer may be a server's: the corpus grows only while its count does, and the
 * whole takes at most `budget_s` (the target's timeout_s) and hears the run's stop.
 */
static int eb_make_prompt(const struct eb_adapter_ops *ops, void *st, int n, size_t off,
			  double budget_s, int32_t **toks, char **text, struct eb_err *err)
{
	struct eb_buf corpus;
	int32_t *pre = NULL, *body = NULL, *t = NULL;
	size_t npre = 0, nbody = 0, prev = 0, prev_len = 0;
	uint64_t deadline = eb_clock_ns() + (uint64_t)(budget_s * 1e9);
	size_t cap = (off + (size_t)n) * EB_PROMPT_BYTES_MAX + strlen(eb_prompt_corpus());
	int ret;

	ret = ops->tokenize(st, "", 1, &pre, &npre, err);
	if (ret)
		return ret;
	if (npre >= (size_t)n) {
		free(pre);
		return eb_err_set(err, EB_EINVAL, "prompt of %d tokens is shorter than the "
						 "tokenizer's own prefix (%zu)", n, npre);
	}
	eb_buf_init(&corpus, 0);
	eb_buf_addstr(&corpus, eb_prompt_corpus());
	for (;;) {
		free(body);
		body = NULL;
		ret = ops->tokenize(st, corpus.buf, 0, &body, &nbody, err);
		if (ret)
			goto out;
		if (nbody >= off + (size_t)n)
			break;
		if (nbody <= prev) {
			ret = eb_err_set(err, EB_EADAPTER,
					 "the tokenizer's count stopped growing: %zu tokens for %zu "
					 "bytes of text, no more than for %zu bytes (a prompt of %d "
					 "tokens from token %zu needs more); is the server's /tokenize "
					 "cutting its input?", nbody, corpus.len, prev_len, n, off);
			goto out;
		}
		if (eb_stop_flag) {
			ret = eb_err_set(err, EB_EINTR, "interrupted while building a prompt");
			goto out;
		}
		if (eb_clock_ns() >= deadline) {
			ret = eb_err_set(err, EB_ETIMEOUT,
					 "building a prompt of %d tokens took more than %g s "
					 "(timeout_s); the tokenizer gave %zu tokens for %zu bytes",
					 n, budget_s, nbody, corpus.len);
			goto out;
		}
		if (corpus.len >= cap) {
			ret = eb_err_set(err, EB_EADAPTER,
					 "the tokenizer gave only %zu tokens for %zu bytes of text "
					 "(fewer than one per %d bytes), short of the %zu a prompt of "
					 "%d tokens needs", nbody, corpus.len, EB_PROMPT_BYTES_MAX,
					 off + (size_t)n, n);
			goto out;
		}
		prev = nbody;
		prev_len = corpus.len;
		/* enough copies at the rate seen so far, so a few requests do */
		while (corpus.len < cap && corpus.len < prev_len * ((off + (size_t)n) / nbody + 1)) {
			eb_buf_addstr(&corpus, "\n\n");
			eb_buf_addstr(&corpus, eb_prompt_corpus());
		}
	}
	t = eb_xmalloc((size_t)n * sizeof(*t));
	memcpy(t, pre, npre * sizeof(*t));
	memcpy(t + npre, body + off, ((size_t)n - npre) * sizeof(*t));
	ret = ops->detokenize(st, t, (size_t)n, text, err);
	if (ret)
		goto out;
	*toks = t;
	t = NULL;
out:
	free(t);
	free(pre);
	free(body);
	eb_buf_release(&corpus);
	return ret;
}

/*
 * Without the model's tokenizer: 3 corpus words per 4 tokens (English text averages
 * about 1.3 tokens a word), from word `off` on, joined by single spaces; the corpus
 * repeats as needed. Caller frees.
 */
static char *eb_prompt_words(int n_tokens, size_t off)
{
	size_t want = (size_t)(n_tokens * 3 + 3) / 4;
	const char *p = eb_prompt_corpus();
	struct eb_buf b;

	eb_buf_init(&b, 0);
	for (size_t w = 0; w < off + want;) {
		const char *q;

		while (*p == ' ' || *p == '\n')
			p++;
		if (!*p) {
			p = eb_prompt_corpus();
			continue;
		}
		for (q = p; *q && *q != ' ' && *q != '\n'; q++)
			;
		if (w >= off) {
			if (b.len)
				eb_buf_addstr(&b, " ");
			eb_buf_add(&b, p, (size_t)(q - p));
		}
		p = q;
		w++;
	}
	return eb_buf_detach(&b, NULL);
}

static void eb_summarize_store(struct eb_store *s, int64_t cell_id, const char *name,
			       const char *unit, const double *x, size_t n, struct eb_cell_res *c,
			       struct eb_err *err, int *ret)
{
	struct eb_summary sum;

	if (*ret || n == 0)
		return;
	if (eb_stats_summarize(x, n, &sum) != 0)
		return;
	if (sum.n_outliers && c)
		eb_warn(c, "%s: %zu of %zu samples are outliers by MAD (|z| > 3.5); kept", name,
			sum.n_outliers, n);
	*ret = eb_store_metric_add(s, cell_id, name, unit, &sum, err);
}

/* The median of x[0..n) as eb_stats_summarize gives it; NAN when n == 0. */
static double eb_median_of(const double *x, size_t n)
{
	struct eb_summary sum;

	return n && eb_stats_summarize(x, n, &sum) == 0 ? sum.median : NAN;
}

/* A single-valued metric of the run loop's own, in the registry's unit. */
static int eb_store_single(struct eb_store *s, int64_t cell_id, const char *name, double value,
			   struct eb_err *err)
{
	return eb_store_metric_value(s, cell_id, name, eb_metric_unit_of(name), value, err);
}

/* eb_summarize_store for a metric of the run loop's own, in the registry's unit. */
static void eb_summarize_metric(struct eb_store *s, int64_t cell_id, const char *name,
				const double *x, size_t n, struct eb_cell_res *c, struct eb_err *err,
				int *ret)
{
	eb_summarize_store(s, cell_id, name, eb_metric_unit_of(name), x, n, c, err, ret);
}

/*
 * The prompt of request r into *toks and *text (replacing, and freeing, the previous
 * ones): cut from the corpus with the model's tokenizer, or, when the adapter has none,
 * words of about that many tokens (a warning says so once).
 */
static int eb_request_prompt(const struct eb_adapter_ops *ops, void *st,
			     const struct eb_cell *cell, int n_tok, int r, size_t off,
			     int32_t **toks, char **text, struct eb_cell_res *c, struct eb_err *err)
{
	int ret = EB_EUNSUPPORTED;

	free(*toks);
	free(*text);
	*toks = NULL;
	*text = NULL;
	if (ops->caps & EB_CAP_TOKENIZE) {
		/* a remote adapter may find at open that its server has none */
		ret = eb_make_prompt(ops, st, n_tok, off,
				     eb_timeout_s(cell->target->options), toks, text, err);
		if (ret != EB_EUNSUPPORTED)
			return ret;
	}
	*text = eb_prompt_words(n_tok, off);
	if (r == 0)
		eb_warn(c, "adapter '%s' has no tokenizer: the prompt is about %d tokens of text "
			   "(%zu bytes); n_prompt is the server's count",
			ops->name, n_tok, strlen(*text));
	return 0;
}

/* What the measured requests of a cell said about their own figures, for its warnings. */
struct eb_req_guards {
	int n;                 /* measured requests */
	int n_buffered;        /* token times were buffer flushes (EB_GEN_BUFFERED) */
	int n_cached;          /* the server reused cached prompt tokens */
	int cached_max, cached_of;
	const char *cache_field;
	int n_prompt_ne;       /* the server counted another prompt length than configured */
	int prompt_seen;       /* the last such count */
	int prompt_asked;      /* ... and the length configured for that request */
	int n_chunks_unknown;  /* chunks are not tokens, and none said what it carried */
	int chunk_tokens, chunk_chunks;
	int n_adapter;         /* the adapter's own warning (server.warning), the first kept */
	char adapter_warn[256];
};

/*
 * One generated request into q: its figures (metrics/latency.h) from the token times, the
 * times relative to its send, the server's own figures; a figure its guards find
 * unmeasured (docs/methodology.md) is withheld (-1 / NAN, stored as NULL) and counted in
 * g. Takes tm->n and gr->server; frees tm->t.
 */
static void eb_request_record(struct eb_req_res *q, int prompt_tokens, int rep, int warm,
			      struct eb_gen_res *gr, struct eb_times *tm, struct eb_req_guards *g)
{
	struct eb_latency lat;
	int n_counted = eb_latency_count_tokens(tm->n, tm->len);
	int n_first = tm->len && tm->n[0] > 0 ? tm->n[0] : 1;
	int buffered = (gr->flags & EB_GEN_BUFFERED) != 0;

	q->t_send = gr->t_send_ns;
	q->row.rep = rep;
	q->row.warmup = warm;
	q->row.n_prompt = gr->n_prompt >= 0 ? gr->n_prompt : prompt_tokens;
	q->row.n_chunks = (int)tm->len;
	/* -1 (stored as NULL) when neither the engine nor any chunk says: never 0 */
	q->row.n_out = gr->n_out >= 0 ? gr->n_out : n_counted;
	eb_latency_of(gr->t_send_ns, tm->t, tm->len, q->row.n_prompt, q->row.n_out, n_first,
		      &lat);
	if (buffered) {
		/* E2E ends at the last output, which a flush does not move; the rest does */
		lat.ttft_ns = -1;
		lat.decode_ns = -1;
		lat.prefill_tps = NAN;
		lat.decode_tps = NAN;
	}
	if (gr->n_cached > 0) {
		/* the server skipped part of the prompt: TTFT is not the prompt's prefill */
		lat.ttft_ns = -1;
		lat.prefill_tps = NAN;
	}
	if (!warm) {
		g->n++;
		g->n_buffered += buffered;
		if (gr->n_cached > 0) {
			g->n_cached++;
			if (gr->n_cached > g->cached_max) {
				g->cached_max = gr->n_cached;
				g->cached_of = gr->n_prompt;
			}
			g->cache_field = gr->cache_field;
		}
		const char *aw = json_string_value(json_object_get(gr->server, "warning"));

		if (aw && *aw && g->n_adapter++ == 0)
			snprintf(g->adapter_warn, sizeof(g->adapter_warn), "%s", aw);
		if (gr->n_prompt >= 0 && gr->n_prompt != prompt_tokens) {
			g->n_prompt_ne++;
			g->prompt_seen = gr->n_prompt;
			g->prompt_asked = prompt_tokens;
		}
		if (!buffered && n_counted < 0 && q->row.n_out >= 0 && q->row.n_out != (int)tm->len &&
		    tm->len > 1) {
			g->n_chunks_unknown++;
			g->chunk_tokens = q->row.n_out;
			g->chunk_chunks = (int)tm->len;
		}
	}
	q->row.ttft_ns = lat.ttft_ns;
	q->row.e2e_ns = lat.e2e_ns;
	q->row.decode_ns = lat.decode_ns;
	q->row.prefill_tps = lat.prefill_tps;
	q->row.decode_tps = lat.decode_tps;
	q->t_rel = eb_xcalloc(tm->len ? tm->len : 1, sizeof(*q->t_rel));
	for (size_t i = 0; i < tm->len; i++)
		q->t_rel[i] = tm->t[i] - gr->t_send_ns;
	q->ntok = tm->n;
	free(tm->t);
	q->row.t_ns = q->t_rel;
	q->row.n_tokens = q->ntok;
	/* a buffered request's times are when its buffer was flushed: not stored, so no
	 * ITL or per-request window is computed from them */
	q->row.n_times = buffered ? 0 : tm->len;
	q->server = gr->server;
}

/* The cell's warnings for what its guards found in the measured requests. */
static void eb_req_guards_warn(struct eb_cell_res *c, const struct eb_cell *cell,
			       const struct eb_req_guards *g)
{
	if (g->n_buffered)
		eb_warn(c, "%d of %d requests: the output came through a buffer (all tokens in one "
			   "read, or the first within 1 ms of the output's end): ttft_ms, "
			   "prefill_tps, decode_tps and itl_ms withheld; make the program "
			   "line-buffer its output (stdbuf -oL, PYTHONUNBUFFERED=1, fflush)",
			g->n_buffered, g->n);
	if (g->n_cached)
		eb_warn(c, "%d of %d requests: the server reused up to %d of %d prompt tokens from "
			   "its prompt cache (%s): ttft_ms and prefill_tps withheld",
			g->n_cached, g->n, g->cached_max, g->cached_of,
			g->cache_field ? g->cache_field : "its own count");
	if (g->n_prompt_ne)
		eb_warn(c, "%d of %d requests: the server counted %d prompt tokens, %d configured "
			   "(a chat template or another tokenizer); prefill_tps and the stored "
			   "n_prompt use the server's count",
			g->n_prompt_ne, g->n, g->prompt_seen, g->prompt_asked);
	if (g->n_chunks_unknown)
		eb_warn(c, "%d of %d requests: %d tokens came in %d chunks and the server did not say "
			   "how many each carried: decode_tps counts one token in the first chunk, "
			   "and itl_ms is per chunk, not per token",
			g->n_chunks_unknown, g->n, g->chunk_tokens, g->chunk_chunks);
	/* what the adapter saw go wrong in a request (a child that kept the output open, a
	 * parser at its match limit) is stored with the request; the cell says it too */
	if (g->n_adapter)
		eb_warn(c, "%d of %d requests: %s: %s", g->n_adapter, g->n, cell->target->ops->name,
			g->adapter_warn);
}

/* The latency workload: warm-up and measured requests, each recorded into c->reqs. */
static int eb_latency(const struct eb_config *cfg, const struct eb_cell *cell,
		      const struct eb_adapter_ops *ops, void *st, struct eb_cell_res *c,
		      struct eb_progress *pg, struct eb_err *err)
{
	const struct eb_cfg_latency *L = &cfg->latency;
	int total = L->warmup + L->repetitions;
	size_t alloc = (size_t)total;
	uint64_t deadline = 0;
	int32_t *toks = NULL;
	char *text = NULL;
	struct eb_req_guards g;
	int ret = 0;

	memset(&g, 0, sizeof(g));
	c->reqs = eb_xcalloc(alloc, sizeof(*c->reqs));
	/* sustained: past the repetitions, requests go on until duration_s has passed */
	for (int r = 0; r < total || (c->sustained && eb_clock_ns() < deadline); r++) {
		/* "distinct": each request starts at another place in the text, so no two
		 * share a prefix a server could reuse (hailo-ollama keeps KV state) */
		size_t off = L->distinct_prompts ? (size_t)r * (size_t)cell->prompt_tokens : 0;
		struct eb_times tm = { 0 };
		struct eb_gen_res gr = { 0, -1, -1, NULL, -1, 0, NULL };
		struct eb_gen_req rq = {
			.n_predict = cell->gen_tokens,
			.seed = L->seed,
			.temperature = L->temperature,
			.on_token = eb_times_cb,
			.ud = &tm,
			.stop = &eb_stop_int,
		};
		struct eb_req_res *q;
		int warm = r < L->warmup;

		if (c->n_reqs == alloc) {
			c->reqs = eb_xrealloc(c->reqs, 2 * alloc * sizeof(*c->reqs));
			memset(c->reqs + alloc, 0, alloc * sizeof(*c->reqs));
			alloc *= 2;
		}
		q = &c->reqs[c->n_reqs];
		if (c->sustained && r == L->warmup) {
			uint64_t now = eb_clock_ns();

			deadline = now + (uint64_t)(L->duration_s * 1e9);
			eb_sustain_start(&c->sus, now);
		}

		if (r == 0 || L->distinct_prompts) {
			ret = eb_request_prompt(ops, st, cell, cell->prompt_tokens, r, off, &toks,
						&text, c, err);
			if (ret)
				goto out;
		}
		rq.prompt_tokens = (ops->caps & EB_CAP_PROMPT_TOKENS) ? toks : NULL;
		rq.n_prompt_tokens = toks ? (size_t)cell->prompt_tokens : 0;
		rq.prompt_text = text;
		/* past its repetitions a sustained cell counts on until its time is spent */
		eb_progress_draw(pg, cell->key, c->sustained && !warm ? "sustained request" : "request",
				 warm ? r + 1 : r - L->warmup + 1,
				 warm ? L->warmup : r < total ? L->repetitions : r - L->warmup + 1, warm);
		if (ops->reset && (ret = ops->reset(st, err)) != 0)
			goto out;
		ret = ops->generate(st, &rq, &gr, err);
		if (ret) {
			free(tm.t);
			free(tm.n);
			if (gr.server)
				json_decref(gr.server);
			goto out;
		}
		eb_request_record(q, cell->prompt_tokens, warm ? r : r - L->warmup, warm, &gr, &tm,
				  &g);
		c->n_reqs++;
		if (c->sustained && !warm)
			eb_sustain_tick(&c->sus, eb_clock_ns());
		if (q->row.n_out >= 0 && q->row.n_out != cell->gen_tokens)
			eb_warn(c, "request %d: %d tokens generated, %d asked", r, q->row.n_out,
				cell->gen_tokens);
		if (eb_stop_flag) {
			ret = eb_err_set(err, EB_EINTR, "interrupted");
			goto out;
		}
	}
out:
	eb_req_guards_warn(c, cell, &g);
	free(toks);
	free(text);
	return ret;
}

/* --- the load workload: many requests at once (harness/load.h) -------------------- */

/* What a batch gathers while it runs, for each request: token times and outcome. */
struct eb_load_run {
	struct eb_times *tm;
	struct eb_gen_res *res;
	int *rc;          /* 1 until the request ended (one never sent stays 1) */
	uint64_t *t_due;
	size_t n, warmup, n_done, n_failed;
	char first_err[EB_ERR_MSG_MAX];
	struct eb_progress *pg;
	const char *key;
};

static int eb_load_on_token(void *ud, size_t i, uint64_t t_ns, int n_tokens)
{
	struct eb_load_run *R = ud;

	return eb_times_cb(&R->tm[i], t_ns, n_tokens);
}

static void eb_load_on_done(void *ud, size_t i, int rc, struct eb_gen_res *res, uint64_t t_due,
			    const struct eb_err *err)
{
	struct eb_load_run *R = ud;
	int warm = i < R->warmup;

	R->rc[i] = rc;
	R->res[i] = *res;
	R->t_due[i] = t_due;
	if (rc && rc != EB_EINTR && !warm && R->n_failed++ == 0)
		snprintf(R->first_err, sizeof(R->first_err), "request %zu: %s", i - R->warmup,
			 err->msg);
	R->n_done++;
	eb_progress_draw(R->pg, R->key, warm ? "request" : "load request",
			 warm ? (int)(i + 1) : (int)(i - R->warmup + 1),
			 warm ? (int)R->warmup : (int)(R->n - R->warmup), warm);
}

/* The largest gap between consecutive chunk times of a stored request; NAN under two. */
static double eb_itl_max_ms(const struct eb_request_row *r)
{
	double m = NAN;

	for (size_t k = 1; k < r->n_times; k++) {
		double g = eb_latency_gap_ms((int64_t)r->t_ns[k - 1], (int64_t)r->t_ns[k]);

		if (isnan(m) || g > m)
			m = g;
	}
	return m;
}

/* A measured request as load.h counts it; `q` NULL for one that failed. */
static void eb_load_req_of(struct eb_load_req *lr, const struct eb_req_res *q, uint64_t t_send,
			   uint64_t t_due)
{
	const struct eb_request_row *r = q ? &q->row : NULL;

	memset(lr, 0, sizeof(*lr));
	lr->t_due = t_due;
	lr->t_send = t_send;
	lr->t_end = r && r->e2e_ns >= 0 ? t_send + (uint64_t)r->e2e_ns : t_send;
	lr->n_prompt = lr->n_out = -1;
	lr->ttft_ms = lr->tpot_ms = lr->e2e_ms = lr->itl_max_ms = NAN;
	if (!r)
		return;
	lr->ok = 1;
	lr->n_prompt = r->n_prompt;
	lr->n_out = r->n_out;
	lr->ttft_ms = r->ttft_ns >= 0 ? eb_latency_ms((double)r->ttft_ns) : NAN;
	lr->tpot_ms = eb_latency_tpot_ms(r->decode_tps);
	lr->e2e_ms = r->e2e_ns >= 0 ? eb_latency_ms((double)r->e2e_ns) : NAN;
	lr->itl_max_ms = eb_itl_max_ms(r);
}

/* The adapter and state whose tokenizer counts a ShareGPT file's turns (eb_load_tok). */
struct eb_load_tokenizer {
	const struct eb_adapter_ops *ops;
	void *st;
};

static int eb_load_count(void *ud, const char *text, size_t *n, struct eb_err *err)
{
	const struct eb_load_tokenizer *t = ud;
	int32_t *toks = NULL;
	int ret = t->ops->tokenize(t->st, text, 1, &toks, n, err);

	free(toks);
	return ret;
}

/*
 * A load cell: the requests' lengths and prompts made first, then every request through
 * the adapter's generate_many at the cell's concurrency or rate; each one that succeeded
 * recorded into c->reqs as a latency cell's are, and the cell's figures into c->lf.
 */
static int eb_load(const struct eb_config *cfg, const struct eb_cell *cell,
		   const struct eb_adapter_ops *ops, void *st, struct eb_cell_res *c,
		   struct eb_progress *pg, struct eb_err *err)
{
	const struct eb_cfg_load *L = &cfg->load;
	size_t n = (size_t)L->warmup + (size_t)L->requests, nm = 0;
	int *plen = eb_xcalloc(n, sizeof(int)), *glen = eb_xcalloc(n, sizeof(int));
	int32_t **toks = eb_xcalloc(n, sizeof(*toks));
	char **texts = eb_xcalloc(n, sizeof(*texts));
	struct eb_gen_req *rq = eb_xcalloc(n, sizeof(*rq));
	double *sched = eb_xcalloc(n, sizeof(double));
	uint64_t *t_sched = NULL;
	struct eb_load_req *lr = eb_xcalloc(n, sizeof(*lr));
	struct eb_load_run R = { 0 };
	struct eb_req_guards g;
	struct eb_gen_batch b = { 0 };
	int ret;

	memset(&g, 0, sizeof(g));
	R.n = n;
	R.warmup = (size_t)L->warmup;
	R.pg = pg;
	R.key = cell->key;
	R.tm = eb_xcalloc(n, sizeof(*R.tm));
	R.res = eb_xcalloc(n, sizeof(*R.res));
	R.rc = eb_xcalloc(n, sizeof(int));
	R.t_due = eb_xcalloc(n, sizeof(uint64_t));
	{
		struct eb_load_tokenizer tz = { ops, st };
		int can = (ops->caps & EB_CAP_TOKENIZE) && ops->tokenize;
		struct eb_load_tok tok = { can ? eb_load_count : NULL, &tz, cell->key, ops->name };

		ret = eb_load_lengths(L, n, &tok, plen, glen, err);
	}
	/* each request starts one token further into the text: no two share a prefix */
	for (size_t i = 0; !ret && i < n; i++) {
		eb_progress_draw(pg, cell->key, "prompt", (int)i + 1, (int)n, 0);
		ret = eb_request_prompt(ops, st, cell, plen[i], (int)i, i, &toks[i], &texts[i], c,
					err);
		rq[i].prompt_tokens = (ops->caps & EB_CAP_PROMPT_TOKENS) ? toks[i] : NULL;
		rq[i].n_prompt_tokens = toks[i] ? (size_t)plen[i] : 0;
		rq[i].prompt_text = texts[i];
		rq[i].n_predict = glen[i];
		rq[i].seed = L->seed;
		rq[i].temperature = L->temperature;
		rq[i].may_stop = !L->ignore_eos;
		R.rc[i] = 1;
	}
	if (ret)
		goto out;
	b.reqs = rq;
	b.n = n;
	b.max_inflight = cell->concurrency ? cell->concurrency : L->max_concurrency;
	b.on_token = eb_load_on_token;
	b.on_done = eb_load_on_done;
	b.ud = &R;
	b.stop = &eb_stop_int;
	if (cell->rate > 0) {
		/* the schedule starts a millisecond on, so the first send is not late by setup */
		uint64_t t0 = eb_clock_ns() + 1000000u;

		eb_load_schedule(L, cell->rate, n, sched);
		t_sched = eb_xcalloc(n, sizeof(uint64_t));
		for (size_t i = 0; i < n; i++)
			t_sched[i] = t0 + (uint64_t)llround(sched[i] * 1e9);
		b.t_sched_ns = t_sched;
	}
	if (L->duration_s > 0)
		b.t_last_send_ns = (t_sched ? t_sched[0] : eb_clock_ns()) +
				   (uint64_t)llround(L->duration_s * 1e9);
	ret = ops->generate_many(st, &b, err);
	if (!ret && eb_stop_flag)
		ret = eb_err_set(err, EB_EINTR, "interrupted");
	if (ret)
		goto out;
	c->reqs = eb_xcalloc(n, sizeof(*c->reqs));
	for (size_t i = 0; i < n; i++) {
		int warm = i < R.warmup;
		struct eb_req_res *q = NULL;

		if (R.rc[i] == 1)
			continue; /* never sent: past duration_s */
		if (R.rc[i] == 0) {
			q = &c->reqs[c->n_reqs++];
			eb_request_record(q, plen[i], warm ? (int)i : (int)(i - R.warmup), warm,
					  &R.res[i], &R.tm[i], &g);
			R.tm[i].n = NULL;
			R.tm[i].t = NULL;
			/* with ignore_eos false a shorter answer is the model's own stop */
			if (!warm && q->row.n_out >= 0 &&
			    (L->ignore_eos ? q->row.n_out != glen[i] : q->row.n_out > glen[i]))
				eb_warn(c, "request %zu: %d tokens generated, %d asked", i - R.warmup,
					q->row.n_out, glen[i]);
		} else if (R.res[i].server) {
			json_decref(R.res[i].server);
		}
		if (!warm)
			eb_load_req_of(&lr[nm++], q, R.res[i].t_send_ns, R.t_due[i]);
	}
	c->is_load = 1;
	eb_load_figures(L, lr, nm, &c->lf);
	c->lag_ms = eb_xcalloc(nm + 1, sizeof(double));
	c->load_t0 = UINT64_MAX;
	for (size_t i = 0; i < nm; i++) {
		c->lag_ms[c->n_lag++] = lr[i].t_send > lr[i].t_due
						? eb_latency_ms((double)(lr[i].t_send - lr[i].t_due))
						: 0;
		if (lr[i].t_send < c->load_t0)
			c->load_t0 = lr[i].t_send;
		if (lr[i].t_end > c->load_t1)
			c->load_t1 = lr[i].t_end;
	}
	if (R.n_failed)
		eb_warn(c, "%zu of %zu measured requests failed; the first: %s", R.n_failed, nm,
			R.first_err);
	if (nm && R.n_failed == nm)
		ret = eb_err_set(err, EB_EADAPTER, "every measured request failed; the first: %s",
				 R.first_err);
out:
	eb_req_guards_warn(c, cell, &g);
	for (size_t i = 0; i < n; i++) {
		free(toks[i]);
		free(texts[i]);
		free(R.tm[i].t);
		free(R.tm[i].n);
	}
	free(R.tm);
	free(R.res);
	free(R.rc);
	free(R.t_due);
	free(plen);
	free(glen);
	free(toks);
	free(texts);
	free(rq);
	free(sched);
	free(t_sched);
	free(lr);
	return ret;
}

/*
 * Energy and power of the cell's measured requests from its sampler trace (the windows
 * and totals as power.h defines them), the sampler's own cost and, with
 * power.store_samples, every raw sample.
 */
static int eb_store_power(struct eb_store *s, int64_t cell_id, const struct eb_config *cfg,
			  struct eb_cell_res *c, struct eb_err *err)
{
	const struct eb_trace *t = eb_sampler_trace(c->power.smp);
	struct eb_power_cell *pc = NULL;
	struct eb_sampler_stats ss;
	int ret = 0;

	ret = eb_power_cell_new(&pc, t, c->power.have_idle ? &c->power.idle : NULL, err);
	if (ret)
		return ret;
	for (size_t i = 0; i < c->n_reqs; i++) {
		const struct eb_request_row *r = &c->reqs[i].row;
		uint64_t ts = c->reqs[i].t_send;
		struct eb_err perr;
		int n_first;

		if (r->warmup || r->n_times == 0)
			continue;
		/* J/token divides decode energy by the tokens of the decode window: those after
		 * the first chunk, which may carry k tokens (docs/metrics.md) */
		n_first = r->n_tokens && r->n_tokens[0] > 0 ? r->n_tokens[0] : 1;
		if (eb_power_cell_add(pc, ts, ts + r->t_ns[0], ts + r->t_ns[r->n_times - 1],
				      r->n_out < 0 ? -1 : (long long)r->n_out - n_first,
				      &perr) != 0)
			eb_warn(c, "power: request %d: %s", r->rep, perr.msg);
	}
	for (size_t i = 0; !ret && i < eb_power_cell_n_metrics(pc); i++) {
		const struct eb_power_metric *m = eb_power_cell_metric(pc, i);
		double *x = eb_xmalloc((m->n + 1) * sizeof(*x));
		size_t n = 0;

		/* a figure a request does not define (J/token of one token, a window no sample
		 * covers) is NAN: the summary's n counts the requests that define it */
		for (size_t k = 0; k < m->n; k++)
			if (isfinite(m->values[k]))
				x[n++] = m->values[k];
		if (n && m->single)
			ret = eb_store_metric_value(s, cell_id, m->name, m->unit, x[0], err);
		else if (n)
			eb_summarize_store(s, cell_id, m->name, m->unit, x, n, m->detail ? NULL : c,
					   err, &ret);
		free(x);
	}
	for (size_t i = 0; i < eb_power_cell_n_warnings(pc); i++)
		eb_warn(c, "%s", eb_power_cell_warning(pc, i));
	eb_power_cell_free(pc);
	eb_sampler_stats(c->power.smp, &ss);
	if (!ret && ss.wall_s > 0)
		ret = eb_store_single(s, cell_id, "sampler_cpu_pct", ss.cpu_pct, err);
	if (!ret && cfg->power.store_samples)
		ret = eb_store_power_samples(s, cell_id, t, eb_sampler_t0(c->power.smp), err);
	return ret;
}

/* A single load figure, unless it is undefined (NAN: a window of 0, no SLO). */
static int eb_store_finite(struct eb_store *s, int64_t cell_id, const char *name, double v,
			   struct eb_err *err)
{
	return isfinite(v) ? eb_store_single(s, cell_id, name, v, err) : 0;
}

/*
 * A load cell's own figures (metrics/metric.c, group "load"): throughputs, concurrency,
 * send lag, goodput, failures and, where sensors ran, energy per output token over the
 * measured window (the per-request energy figures of latency cells would count the
 * overlap of concurrent requests more than once, so they are not stored).
 */
static int eb_store_load(struct eb_store *s, int64_t cell_id, struct eb_cell_res *c,
			 struct eb_err *err)
{
	const struct eb_load_figs *f = &c->lf;
	int ret = 0;

	ret = eb_store_finite(s, cell_id, "output_tps", f->output_tps, err);
	if (!ret)
		ret = eb_store_finite(s, cell_id, "total_tps", f->total_tps, err);
	if (!ret)
		ret = eb_store_finite(s, cell_id, "req_per_s", f->req_per_s, err);
	if (!ret)
		ret = eb_store_finite(s, cell_id, "concurrency", f->concurrency, err);
	eb_summarize_metric(s, cell_id, "send_lag_ms", c->lag_ms, c->n_lag, NULL, err, &ret);
	if (!ret)
		ret = eb_store_finite(s, cell_id, "goodput_frac", f->goodput_frac, err);
	if (!ret)
		ret = eb_store_finite(s, cell_id, "goodput_rps", f->goodput_rps, err);
	if (!ret)
		ret = eb_store_single(s, cell_id, "failed_requests", (double)(f->n - f->n_ok), err);
	if (!ret && c->power.smp && eb_sampler_t0(c->power.smp) && f->out_tokens > 0 &&
	    c->load_t1 > c->load_t0) {
		struct eb_power_idle pw;
		struct eb_err perr;

		if (eb_power_idle(eb_sampler_trace(c->power.smp), c->load_t0, c->load_t1, &pw,
				  &perr) != 0) {
			eb_warn(c, "power: the measured window: %s", perr.msg);
		} else {
			if (isfinite(pw.total_w))
				ret = eb_store_single(s, cell_id, "j_per_output_token",
						      pw.total_w * pw.window_s /
							      (double)f->out_tokens,
						      err);
			eb_power_idle_release(&pw);
		}
	}
	return ret;
}

/* The cell's requests with their token times; a send time on the sampler's clock when the
 * cell sampled power. */
static int eb_store_requests(struct eb_store *s, int64_t cell_id, struct eb_cell_res *c,
			     struct eb_err *err)
{
	uint64_t t0 = c->power.smp ? eb_sampler_t0(c->power.smp) : 0;
	int ret = 0;

	for (size_t i = 0; !ret && i < c->n_reqs; i++) {
		if (t0 && c->reqs[i].t_send >= t0) {
			c->reqs[i].row.has_t_send = 1;
			c->reqs[i].row.t_send_ns = (int64_t)(c->reqs[i].t_send - t0);
		}
		ret = eb_store_request_add(s, cell_id, &c->reqs[i].row, err);
	}
	return ret;
}

/*
 * The latency and memory metrics of the cell's measured requests (metrics/latency.h),
 * summarized per cell; decode_tps and tpot_ms only when the requests define a decode
 * rate, mbu only with the device's memory bandwidth.
 */
static int eb_store_latency(struct eb_store *s, int64_t cell_id, const struct eb_config *cfg,
			    struct eb_cell_res *c, struct eb_err *err)
{
	size_t n_ttft = 0, n_pre = 0, n_dec = 0, n_e2e = 0, n_mbu = 0, ngaps = 0;
	double *ttft, *pre, *dec, *tpot, *e2e, *mbu, *gaps;
	int ret = 0;

	for (size_t i = 0; i < c->n_reqs; i++)
		if (!c->reqs[i].row.warmup && c->reqs[i].row.n_times > 1)
			ngaps += c->reqs[i].row.n_times - 1;
	ttft = eb_xcalloc(c->n_reqs + 1, sizeof(double));
	pre = eb_xcalloc(c->n_reqs + 1, sizeof(double));
	dec = eb_xcalloc(c->n_reqs + 1, sizeof(double));
	tpot = eb_xcalloc(c->n_reqs + 1, sizeof(double));
	e2e = eb_xcalloc(c->n_reqs + 1, sizeof(double));
	mbu = eb_xcalloc(c->n_reqs + 1, sizeof(double));
	gaps = eb_xcalloc(ngaps + 1, sizeof(double));
	ngaps = 0;
	/* each figure over the requests that define it: a withheld one (a guard's, stored
	 * NULL) leaves the others of its request standing */
	for (size_t i = 0; i < c->n_reqs; i++) {
		const struct eb_request_row *r = &c->reqs[i].row;
		double m;

		if (r->warmup)
			continue;
		if (r->ttft_ns >= 0)
			ttft[n_ttft++] = eb_latency_ms(r->ttft_ns);
		if (isfinite(r->prefill_tps))
			pre[n_pre++] = r->prefill_tps;
		if (isfinite(r->decode_tps)) {
			dec[n_dec] = r->decode_tps;
			tpot[n_dec++] = eb_latency_tpot_ms(r->decode_tps);
		}
		if (r->e2e_ns >= 0)
			e2e[n_e2e++] = eb_latency_ms(r->e2e_ns);
		m = eb_latency_mbu(r->decode_tps, r->n_prompt, r->n_out, c->model_bytes,
				   c->kv_bytes_per_token, cfg->mem_bw_gbps);
		if (isfinite(m))
			mbu[n_mbu++] = m;
		ngaps += eb_latency_itl_ms(r->t_ns, r->n_times, gaps + ngaps);
	}
	eb_summarize_metric(s, cell_id, "ttft_ms", ttft, n_ttft, c, err, &ret);
	eb_summarize_metric(s, cell_id, "prefill_tps", pre, n_pre, c, err, &ret);
	eb_summarize_metric(s, cell_id, "decode_tps", dec, n_dec, c, err, &ret);
	eb_summarize_metric(s, cell_id, "tpot_ms", tpot, n_dec, c, err, &ret);
	eb_summarize_metric(s, cell_id, "e2e_ms", e2e, n_e2e, c, err, &ret);
	eb_summarize_metric(s, cell_id, "itl_ms", gaps, ngaps, c, err, &ret);
	eb_summarize_metric(s, cell_id, "mbu", mbu, n_mbu, c, err, &ret);
	c->med_ttft = eb_median_of(ttft, n_ttft);
	c->med_decode = eb_median_of(dec, n_dec);
	c->med_e2e = eb_median_of(e2e, n_e2e);
	if (!ret && c->peak_rss >= 0)
		ret = eb_store_single(s, cell_id, "peak_rss_mb", c->peak_rss / 1048576.0, err);
	if (!ret && c->model_bytes > 0)
		ret = eb_store_single(s, cell_id, "model_bytes", c->model_bytes, err);
	if (!ret && c->kv_bytes > 0)
		ret = eb_store_single(s, cell_id, "kv_bytes", c->kv_bytes, err);
	free(ttft);
	free(pre);
	free(dec);
	free(tpot);
	free(e2e);
	free(mbu);
	free(gaps);
	return ret;
}

static long long eb_json_int_or(const json_t *o, const char *key, long long def)
{
	const json_t *v = json_object_get(o, key);

	if (json_is_boolean(v))
		return json_is_true(v);
	return json_is_integer(v) ? (long long)json_integer_value(v) : def;
}

/* One per-item record of an accuracy cell (accuracy_run.h, eb_acc_result.samples). */
static int eb_store_acc_sample(struct eb_store *s, int64_t cell_id, const struct eb_cell *cell,
			       const json_t *o, struct eb_err *err)
{
	char *result = json_dumps(json_object_get(o, "result"), JSON_COMPACT | JSON_SORT_KEYS);
	struct eb_sample_row r = {
		.idx = eb_json_int_or(o, "idx", 0),
		.task = cell->acc->task,
		.protocol = cell->acc->protocol,
		.doc = json_string_value(json_object_get(o, "doc")),
		.prompt_sha256 = json_string_value(json_object_get(o, "prompt_sha256")),
		.prompt_hash_of = json_string_value(json_object_get(o, "prompt_hash_of")),
		.result_json = result,
		.answer = eb_json_int_or(o, "answer", -1),
		.gold = eb_json_int_or(o, "gold", -1),
		.correct = eb_json_int_or(o, "correct", -1),
	};
	int ret = eb_store_sample_add(s, cell_id, &r, err);

	free(result);
	return ret;
}

/* A sustained cell's windows, steady state, drift and throttling: on the record and warned. */
static void eb_sustain_cell_end(struct eb_cell_res *c)
{
	struct eb_sustain_req *rq = eb_xcalloc(c->n_reqs + 1, sizeof(*rq));
	size_t n = 0;

	for (size_t i = 0; i < c->n_reqs; i++) {
		const struct eb_request_row *r = &c->reqs[i].row;

		if (r->warmup || r->e2e_ns < 0)
			continue;
		rq[n].t_end = c->reqs[i].t_send + (uint64_t)r->e2e_ns;
		rq[n].decode_tps = r->decode_tps;
		rq[n].ttft_ms = r->ttft_ns >= 0 ? eb_latency_ms(r->ttft_ns) : NAN;
		n++;
	}
	eb_sustain_finish(&c->sus, rq, n, &c->sres, c->warnings);
	/* each window's mean power (all sensors' total) when the cell sampled power */
	if (c->power.smp && eb_sampler_t0(c->power.smp)) {
		const struct eb_trace *t = eb_sampler_trace(c->power.smp);
		json_t *w;
		size_t i;

		json_array_foreach(json_object_get(c->sres.series, "windows"), i, w) {
			uint64_t a = c->sus.t0 + (uint64_t)((double)i * c->sus.window_s * 1e9);
			uint64_t b = a + (uint64_t)(c->sus.window_s * 1e9);
			struct eb_power_idle pw;
			struct eb_err perr;

			if (eb_power_idle(t, a, b, &pw, &perr) != 0)
				continue;
			if (isfinite(pw.total_w))
				json_object_set_new(w, "power_w", json_real(pw.total_w));
			eb_power_idle_release(&pw);
		}
	}
	json_object_set(c->backend, "sustained", c->sres.series);
	free(rq);
}

/*
 * A sustained cell's figures (metrics/metric.c, group "sustained"): the steady decode
 * rate and TTFT over the requests that ended once the steady state began, its start,
 * the drift, the throttle flag and the hottest zone.
 */
static int eb_store_sustained(struct eb_store *s, int64_t cell_id, struct eb_cell_res *c,
			      struct eb_err *err)
{
	const struct eb_sustain_res *R = &c->sres;
	double *dec = eb_xcalloc(c->n_reqs + 1, sizeof(double));
	double *ttft = eb_xcalloc(c->n_reqs + 1, sizeof(double));
	size_t nd = 0, nt = 0;
	int ret = 0;

	for (size_t i = 0; R->has_steady && i < c->n_reqs; i++) {
		const struct eb_request_row *r = &c->reqs[i].row;

		if (r->warmup || r->e2e_ns < 0 || c->reqs[i].t_send + (uint64_t)r->e2e_ns < R->steady_t0)
			continue;
		if (isfinite(r->decode_tps))
			dec[nd++] = r->decode_tps;
		if (r->ttft_ns >= 0)
			ttft[nt++] = eb_latency_ms(r->ttft_ns);
	}
	eb_summarize_metric(s, cell_id, "decode_tps_steady", dec, nd, c, err, &ret);
	eb_summarize_metric(s, cell_id, "ttft_ms_steady", ttft, nt, c, err, &ret);
	if (!ret && R->has_steady)
		ret = eb_store_single(s, cell_id, "steady_start_s", R->steady_start_s, err);
	if (!ret && isfinite(R->drift_pct))
		ret = eb_store_single(s, cell_id, "decode_drift_pct", R->drift_pct, err);
	if (!ret)
		ret = eb_store_single(s, cell_id, "throttled", R->throttled, err);
	if (!ret && isfinite(R->temp_max_c))
		ret = eb_store_single(s, cell_id, "temp_max_c", R->temp_max_c, err);
	free(dec);
	free(ttft);
	return ret;
}

/* The accuracy cell's figures, each with its task, protocol and parameters. */
static int eb_store_accuracy(struct eb_store *s, int64_t cell_id, const struct eb_cell *cell,
			     const struct eb_cell_res *c, struct eb_err *err)
{
	char *params = json_dumps(c->acc.params, JSON_COMPACT | JSON_SORT_KEYS);
	int ret = 0;

	for (size_t i = 0; !ret && i < c->acc.n; i++) {
		struct eb_accuracy_row r = {
			.task = cell->acc->task,
			.protocol = cell->acc->protocol,
			.metric = c->acc.m[i].name,
			.value = c->acc.m[i].value,
			.stderr_ = c->acc.m[i].se,
			.n = c->acc.m[i].n,
			.params_json = params,
		};
		ret = eb_store_accuracy_add(s, cell_id, &r, err);
	}
	free(params);
	for (size_t i = 0; !ret && i < json_array_size(c->acc.samples); i++)
		ret = eb_store_acc_sample(s, cell_id, cell, json_array_get(c->acc.samples, i), err);
	return ret;
}

/* Warnings are printed one to a line: a line feed in one becomes visible text too. */
static void eb_cell_sanitize_warnings(struct eb_cell_res *c, const struct eb_san *san)
{
	struct eb_san line = *san;
	json_t *j;

	line.flags &= ~(unsigned)EB_SAN_KEEP_NL;
	j = eb_sanitize_json(c->warnings, &line);
	json_decref(c->warnings);
	c->warnings = j;
}

/*
 * The boundary: every string a peer (server, program, meter) put into the cell's results,
 * cleaned once before it is stored or printed (base/eb_sanitize.h): the backend record, each
 * request's server figures, an accuracy cell's records and parameters, the warnings and the
 * error. What follows sees only the clean
 * copies.
 */
static void eb_cell_sanitize(struct eb_cell_res *c, const struct eb_san *san)
{
	struct eb_san line = *san;
	json_t *j;
	char *e;

	for (size_t i = 0; i < c->n_reqs; i++) {
		struct eb_req_res *q = &c->reqs[i];

		if (!q->server || q->server_json)
			continue;
		j = eb_sanitize_json(q->server, san);
		q->server_json = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
		q->row.server_json = q->server_json;
		json_decref(j);
	}
	if (c->backend) {
		j = eb_sanitize_json(c->backend, san);
		json_decref(c->backend);
		c->backend = j;
	}
	/* an accuracy cell's per-item records hold the model's replies (generative
	 * protocols), its parameters the server's chat template */
	if (c->acc.samples) {
		j = eb_sanitize_json(c->acc.samples, san);
		json_decref(c->acc.samples);
		c->acc.samples = j;
	}
	if (c->acc.params) {
		j = eb_sanitize_json(c->acc.params, san);
		json_decref(c->acc.params);
		c->acc.params = j;
	}
	/* the error is printed on one line */
	line.flags &= ~(unsigned)EB_SAN_KEEP_NL;
	if (c->error) {
		e = eb_sanitize_str(c->error, &line);
		free(c->error);
		c->error = e;
	}
}

/* The secrets of the run: each target's API key (the value of its api_key_env). */
static void eb_run_secrets(const struct eb_config *cfg, struct eb_san *san)
{
	eb_san_init(san, EB_SAN_KEEP_TAB | EB_SAN_KEEP_NL, 0);
	for (size_t i = 0; i < cfg->n_targets; i++) {
		const char *env = json_string_value(json_object_get(cfg->targets[i].options,
								     "api_key_env"));

		if (env)
			eb_san_secret(san, getenv(env));
	}
}

/* Everything the cell produced, replacing what a previous attempt left, in one transaction. */
static int eb_store_cell(struct eb_store *s, int64_t cell_id, const struct eb_config *cfg,
			 const struct eb_cell *cell, struct eb_cell_res *c, double secs,
			 const struct eb_san *san, struct eb_err *err)
{
	char *backend = NULL, *warnings = NULL;
	int ret;

	eb_cell_sanitize(c, san);
	ret = eb_store_begin(s, err);
	if (ret)
		return ret;
	ret = eb_store_cell_clear(s, cell_id, err);
	if (!ret)
		ret = eb_store_requests(s, cell_id, c, err);
	if (!ret)
		ret = eb_store_latency(s, cell_id, cfg, c, err);
	if (!ret && c->sres.series)
		ret = eb_store_sustained(s, cell_id, c, err);
	if (!ret && c->is_load)
		ret = eb_store_load(s, cell_id, c, err);
	if (!ret && !c->is_load && c->power.smp && eb_sampler_t0(c->power.smp))
		ret = eb_store_power(s, cell_id, cfg, c, err);
	if (!ret && isfinite(c->load_ms))
		ret = eb_store_single(s, cell_id, "load_ms", c->load_ms, err);
	if (!ret && c->acc.n)
		ret = eb_store_accuracy(s, cell_id, cell, c, err);
	/* after eb_store_power, which may warn */
	eb_cell_sanitize_warnings(c, san);
	if (json_array_size(c->warnings))
		warnings = json_dumps(c->warnings, JSON_COMPACT);
	if (c->backend)
		backend = json_dumps(c->backend, JSON_COMPACT | JSON_SORT_KEYS);
	if (!ret)
		ret = eb_store_cell_finish(s, cell_id,
					   c->skipped ? "skipped" : c->error ? "failed" : "ok",
					   c->error, backend, warnings, secs, err);
	if (!ret)
		ret = eb_store_commit(s, err);
	else
		eb_store_rollback(s);
	free(backend);
	free(warnings);
	return ret;
}

/* Synthesizes a variant's model file when it is missing and the config says how. */
static int eb_ensure_model(const struct eb_cfg_variant *v, int quiet, struct eb_err *err)
{
	struct eb_synth_opts so;
	const json_t *sy = v->synth;
	struct stat sb;

	if (!v->file || !sy || stat(v->file, &sb) == 0)
		return 0;
	memset(&so, 0, sizeof(so));
	so.shape = json_string_value(json_object_get(sy, "shape"));
	so.vocab = json_string_value(json_object_get(sy, "vocab"));
	so.type = json_string_value(json_object_get(sy, "type"));
	if (!so.type)
		so.type = v->quant;
	so.seed = v->synth_seed;
	so.out = v->file;
	so.quiet = quiet;
	{
		char dir[4096];
		char *slash;
		int rc;

		eb_strlcpy(dir, v->file, sizeof(dir));
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			rc = eb_mkdirs(dir, err);
			if (rc)
				return rc;
		}
	}
	if (!quiet)
		fprintf(stderr, "edgebench: synthesizing '%s' (shape %s, type %s)\n", v->file,
			so.shape, so.type);
	return eb_synth_model(&so, err);
}

static volatile sig_atomic_t eb_signals_seen;

/*
 * SIGINT, SIGTERM and SIGHUP alike. The first asks the run to stop: the request in flight
 * hears the adapters' stop flag, finished cells are stored, the run is marked interrupted
 * and its database checkpointed (exit 3). The second does the same and, for whatever does
 * not hear that flag, kills the registered children (exec's process groups) and removes
 * temporary files at once; edgebench still stores, marks and checkpoints before it exits.
 * A third ends the process on the spot (the database stays sound, the run resumable).
 */
static void eb_on_signal(int sig)
{
	eb_signals_seen++;
	if (eb_signals_seen >= 2)
		eb_cleanup_run(); /* exec's program groups and prompt files */
	if (eb_signals_seen >= 3) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	eb_run_request_stop();
}

/* The signal dispositions eb_run replaces while it runs. */
static const int eb_caught[] = { SIGINT, SIGTERM, SIGHUP };
#define EB_N_CAUGHT (sizeof(eb_caught) / sizeof(eb_caught[0]))

struct eb_signals {
	struct sigaction old[EB_N_CAUGHT];
};

static void eb_signals_catch(struct eb_signals *sg)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = eb_on_signal;
	sigemptyset(&sa.sa_mask);
	eb_signals_seen = 0;
	for (size_t i = 0; i < EB_N_CAUGHT; i++)
		sigaction(eb_caught[i], &sa, &sg->old[i]);
}

static void eb_signals_restore(const struct eb_signals *sg)
{
	for (size_t i = 0; i < EB_N_CAUGHT; i++)
		sigaction(eb_caught[i], &sg->old[i], NULL);
}

/* --- the run ----------------------------------------------------------------------- */

/* The run's record, locked for this process: the resumable run of this config again, or a
 * new one with its host. One transaction, so no other process sees it unlocked. */
static int eb_run_begin(struct eb_store *s, const struct eb_config *cfg,
			const struct eb_run_opts *o, struct eb_run_result *res, struct eb_err *err)
{
	json_t *env;
	char *env_json;
	int64_t run_id = 0;
	int ret;

	ret = eb_store_begin(s, err);
	if (ret)
		return ret;
	if (o->resume) {
		ret = eb_store_run_find_resumable(s, cfg->sha256, &run_id, res->uuid, err);
		if (!ret)
			ret = eb_store_run_lock(s, run_id, o->force_unlock, err);
		if (!ret)
			ret = eb_store_run_set_status(s, run_id, "running", err);
		goto out;
	}
	env = eb_env_collect();
	env_json = json_dumps(env, JSON_COMPACT | JSON_SORT_KEYS);
	{
		struct eb_run_info ri = {
			.uuid = res->uuid,
			.name = cfg->name,
			.config_path = cfg->path,
			.config_json = cfg->text,
			.config_sha256 = cfg->sha256,
			.version = EB_VERSION,
			.commit = EB_GIT_COMMIT,
			.host = json_string_value(json_object_get(env, "host")),
			.os = json_string_value(json_object_get(env, "os")),
			.kernel = json_string_value(json_object_get(env, "kernel")),
			.arch = json_string_value(json_object_get(env, "arch")),
			.cpu_model = json_string_value(json_object_get(env, "cpu_model")),
			.cpu_cores = json_integer_value(json_object_get(env, "cpu_cores")),
			.mem_bytes = json_integer_value(json_object_get(env, "mem_bytes")),
			.env_json = env_json,
		};

		eb_uuid4(res->uuid);
		ret = eb_store_run_add(s, &ri, &run_id, err);
	}
	free(env_json);
	json_decref(env);
	if (!ret)
		ret = eb_store_run_lock(s, run_id, 0, err);
out:
	if (!ret)
		ret = eb_store_commit(s, err);
	if (ret) {
		eb_store_rollback(s);
		return ret;
	}
	res->run_id = run_id;
	return 0;
}

/* The run's final status and its lock released, in one transaction. */
static int eb_run_end(struct eb_store *s, const struct eb_run_result *res, struct eb_err *err)
{
	int ret = eb_store_begin(s, err);

	if (!ret)
		ret = eb_store_run_set_status(s, res->run_id,
					      res->interrupted ? "interrupted"
					      : res->n_failed  ? "failed"
							       : "ok",
					      err);
	if (!ret)
		ret = eb_store_run_unlock(s, res->run_id, err);
	if (!ret)
		ret = eb_store_commit(s, err);
	if (ret)
		eb_store_rollback(s);
	return ret;
}

/* A load cell's parameters as stored with it (malloc'd JSON): the point, the arrivals, the
 * lengths as configured and the SLOs, which goodput is measured against. */
static char *eb_load_params(const struct eb_config *cfg, const struct eb_cell *c)
{
	const struct eb_cfg_load *L = &cfg->load;
	const json_t *load = json_object_get(json_object_get(cfg->root, "workloads"), "load");
	json_t *p = json_pack("{s:i, s:i, s:I, s:f, s:b, s:s, s:f}", "warmup", L->warmup,
			      "requests", L->requests, "seed", (json_int_t)L->seed, "temperature",
			      L->temperature, "ignore_eos", L->ignore_eos, "arrival",
			      L->gamma ? "gamma" : "poisson", "burstiness", L->burstiness);
	char *out;

	if (c->concurrency)
		json_object_set_new(p, "concurrency", json_integer(c->concurrency));
	else if (isinf(c->rate))
		json_object_set_new(p, "rate", json_string("inf"));
	else
		json_object_set_new(p, "rate", json_real(c->rate));
	if (!c->concurrency && L->max_concurrency)
		json_object_set_new(p, "max_concurrency", json_integer(L->max_concurrency));
	if (L->duration_s > 0)
		json_object_set_new(p, "duration_s", json_real(L->duration_s));
	json_object_set(p, "prompt_tokens", json_object_get(load, "prompt_tokens"));
	json_object_set(p, "gen_tokens", json_object_get(load, "gen_tokens"));
	if (L->slo)
		json_object_set(p, "slo", L->slo);
	if (c->mode)
		json_object_set_new(p, "mode", json_string(c->mode->id));
	if (c->repeat)
		json_object_set_new(p, "repeat", json_integer(c->repeat));
	out = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(p);
	return out;
}

/* Every cell of the plan stored (pending unless it is already there) before the first runs,
 * in one transaction; cell_ids[i] gets the id of plan->cells[i]. */
static int eb_cells_ensure(struct eb_store *s, const struct eb_config *cfg,
			   const struct eb_plan *plan, int64_t run_id, int64_t *cell_ids,
			   struct eb_err *err)
{
	int ret = eb_store_begin(s, err);

	for (size_t i = 0; !ret && i < plan->n; i++) {
		const struct eb_cell *c = &plan->cells[i];
		char params[256];
		struct eb_cell_row row = {
			.key = c->key,
			.target = c->target->id,
			.adapter = c->target->ops->name,
			.model = c->model->id,
			.quant = c->variant->quant,
			.device = cfg->device_name,
			.workload = c->workload,
			.prompt_tokens = c->prompt_tokens,
			.gen_tokens = c->gen_tokens,
			.params_json = params,
		};
		char *acc_params = NULL;

		snprintf(params, sizeof(params),
			 "{\"warmup\":%d,\"repetitions\":%d,\"seed\":%llu,\"temperature\":%g,"
			 "\"prompts\":\"%s\"%s%s%s%s%.0d}",
			 cfg->latency.warmup, cfg->latency.repetitions,
			 (unsigned long long)cfg->latency.seed, cfg->latency.temperature,
			 cfg->latency.distinct_prompts ? "distinct" : "same",
			 c->mode ? ",\"mode\":\"" : "", c->mode ? c->mode->id : "",
			 c->mode ? "\"" : "", c->repeat ? ",\"repeat\":" : "", c->repeat);
		if (strcmp(c->workload, "load") == 0) {
			acc_params = eb_load_params(cfg, c);
			row.params_json = acc_params;
		}
		if (c->acc) {
			json_t *ap = json_deep_copy(c->acc->params);

			/* the device mode beside the task's parameters: reports read it there */
			if (c->mode)
				json_object_set_new(ap, "mode", json_string(c->mode->id));
			if (c->repeat)
				json_object_set_new(ap, "repeat", json_integer(c->repeat));
			acc_params = json_dumps(ap, JSON_COMPACT | JSON_SORT_KEYS);
			json_decref(ap);
			row.params_json = acc_params;
		}
		ret = eb_store_cell_ensure(s, run_id, &row, &cell_ids[i], err);
		free(acc_params);
	}
	if (ret) {
		eb_store_rollback(s);
		return ret;
	}
	return eb_store_commit(s, err);
}

/* The backend open across cells: kept while consecutive cells share a model. */
struct eb_backend {
	const struct eb_cell *cell; /* the cell it was opened for */
	const struct eb_adapter_ops *ops;
	void *st; /* NULL when none is open */
	double open_ms; /* how long its open() took */
};

static void eb_backend_close(struct eb_backend *b)
{
	if (b->st)
		b->ops->close(b->st);
	memset(b, 0, sizeof(*b));
}

/*
 * Opens the cell's adapter on its model (synthesized first when the config says how),
 * unless a backend is open already. On failure none is open and err says why.
 */
static int eb_backend_open(struct eb_backend *b, const struct eb_config *cfg,
			   const struct eb_cell *cell, int quiet, struct eb_err *err)
{
	const struct eb_adapter_ops *ops = cell->target->ops;
	const char *why = ops->unavailable_reason ? ops->unavailable_reason() : NULL;
	struct eb_adapter_args a = {
		.target_id = cell->target->id,
		.model_id = cell->model->id,
		.quant = cell->variant->quant,
		.model_file = cell->variant->file,
		.model_name = cell->variant->model_name,
		.options = cell->target->options,
		.seed = cfg->latency.seed,
		.stop = &eb_stop_int,
	};
	uint64_t t0;
	int rc;

	if (b->st)
		return 0;
	if (why)
		return eb_err_set(err, EB_EUNSUPPORTED, "adapter '%s' unavailable: %s", ops->name,
				  why);
	rc = eb_ensure_model(cell->variant, quiet, err);
	t0 = eb_clock_ns();
	if (!rc)
		rc = ops->open(&a, &b->st, err);
	b->open_ms = eb_latency_ms((double)(eb_clock_ns() - t0));
	if (rc) {
		b->st = NULL;
		return rc;
	}
	b->cell = cell;
	b->ops = ops;
	return 0;
}

/* The cell's backend record: its adapter and options and, when the backend is open, what
 * the backend says of itself (model and KV sizes for MBU and the memory figures). */
static void eb_cell_describe(const struct eb_cell *cell, void *st, struct eb_cell_res *c)
{
	const struct eb_adapter_ops *ops = cell->target->ops;
	struct eb_err derr;

	c->backend = json_object();
	json_object_set_new(c->backend, "adapter", json_string(ops->name));
	json_object_set(c->backend, "options", cell->target->options);
	if (!st || !ops->describe)
		return;
	if (ops->describe(st, c->backend, &derr) != 0)
		eb_warn(c, "describe: %s", derr.msg);
	c->model_bytes = json_number_value(json_object_get(c->backend, "model_bytes"));
	c->kv_bytes = json_number_value(json_object_get(c->backend, "kv_bytes"));
	c->kv_bytes_per_token = json_number_value(json_object_get(c->backend, "kv_bytes_per_token"));
}

/* The cell's workload on its open backend: accuracy, or latency with power around it. */
static int eb_cell_workload(const struct eb_config *cfg, const struct eb_cell *cell, void *st,
			    const char *db_path, struct eb_cell_res *c, struct eb_progress *pg,
			    struct eb_err *err)
{
	const struct eb_adapter_ops *ops = cell->target->ops;
	int rc;

	if (cell->acc)
		return eb_accuracy(cfg, cell, ops, st, db_path, c, pg, err);
	json_object_set_new(c->backend, "device_state", eb_devstate_collect(cfg->power.sysfs_root));
	rc = eb_power_cell_begin(cfg, cell, c, pg, err);
	if (cfg->latency.duration_s > 0 && strcmp(cell->workload, "latency") == 0) {
		c->sustained = 1;
		eb_sustain_init(&c->sus, cfg->latency.window_s, cfg->latency.steady_pct,
				cfg->power.sysfs_root);
	}
	if (!rc && cell->concurrency + cell->rate > 0)
		rc = eb_load(cfg, cell, ops, st, c, pg, err);
	else if (!rc)
		rc = eb_latency(cfg, cell, ops, st, c, pg, err);
	eb_power_cell_end(c);
	if (!rc && c->sustained)
		eb_sustain_cell_end(c);
	return rc;
}

/* Cold start as a server counts it, on the model's first cell: the load_duration (ns,
 * Ollama) of its first request, when the server gave one > 0. */
static void eb_cell_server_load(struct eb_cell_res *c)
{
	const json_t *v = c->n_reqs ? json_object_get(c->reqs[0].server, "load_duration") : NULL;

	if (json_is_integer(v) && json_integer_value(v) > 0)
		c->load_ms = eb_latency_ms((double)json_integer_value(v));
}

/*
 * Runs one pending cell into *c (the caller releases it) and its duration into *secs.
 * Returns 1 when the run is interrupted (c is released: nothing to store), else 0 with the
 * outcome in c: ok, failed (c->error says why) or skipped (c->skipped too).
 */
static int eb_cell_run(const struct eb_config *cfg, const struct eb_cell *cell,
		       const struct eb_run_opts *o, struct eb_backend *b, struct eb_cell_res *c,
		       double *secs, struct eb_progress *pg)
{
	uint64_t t0 = eb_clock_ns();
	struct eb_err cerr;
	char why[512];
	const char *skip;
	int rc, opened;

	memset(c, 0, sizeof(*c));
	c->warnings = json_array();
	c->peak_rss = -1;
	c->med_ttft = c->med_decode = c->med_e2e = NAN;
	c->load_ms = NAN;
	eb_err_clear(&cerr);
	/* the previous model is released before the peak-RSS reset: the figure is this cell's */
	if (b->st && !eb_cell_same_model(b->cell, cell))
		eb_backend_close(b);
	if (eb_env_reset_peak_rss() != 0)
		eb_warn(c, "cannot reset peak RSS (/proc/self/clear_refs): peak_rss_mb "
			   "covers the whole process");
	eb_progress_draw(pg, cell->key, "loading", 0, 0, 0);
	skip = eb_accuracy_skip(cfg, cell, why, sizeof(why));
	if (!skip && strcmp(cell->workload, "load") == 0 && !cell->target->ops->generate_many) {
		snprintf(why, sizeof(why),
			 "adapter '%s' cannot send requests concurrently (no generate_many); load "
			 "cells run on openai, ollama, llamacpp and exec targets",
			 cell->target->ops->name);
		skip = why;
	}
	if (skip) {
		c->skipped = 1;
		c->error = eb_xstrdup(skip);
		c->backend = json_pack("{s:s}", "adapter", cell->target->ops->name);
		*secs = (eb_clock_ns() - t0) / 1e9;
		return 0;
	}
	opened = !b->st;
	rc = eb_backend_open(b, cfg, cell, o->quiet, &cerr);
	/* cold start: a library's open() loads the weights (a server's only connects) */
	if (!rc && opened && cell->target->ops->version)
		c->load_ms = b->open_ms;
	eb_cell_describe(cell, rc ? NULL : b->st, c);
	if (!rc)
		rc = eb_cell_workload(cfg, cell, b->st, o->db_path, c, pg, &cerr);
	if (opened)
		eb_cell_server_load(c);
	c->peak_rss = eb_env_peak_rss();
	*secs = (eb_clock_ns() - t0) / 1e9;
	if (rc == EB_EINTR || eb_stop_flag) {
		eb_cell_res_release(c);
		return 1;
	}
	if (rc) {
		c->error = eb_xstrdup(cerr.msg);
		/* a failed backend is not reused by the next cell */
		if (!c->skipped)
			eb_backend_close(b);
	}
	return 0;
}

/*
 * Sets the cell's device mode (once per group of cells: the current mode is not set
 * again). 0 when the cell may run; 1 when the run is interrupted; -1 when the mode could
 * not be set or read back: *c is then the cell, failed with the reason, not run, and so
 * is every later cell of the group (the mode is not tried again for them).
 */
static int eb_cell_mode(struct eb_modes *modes, const struct eb_cell *cell,
			const struct eb_cfg_mode **failed, char *why, size_t n, struct eb_cell_res *c)
{
	struct eb_err merr;
	int rc;

	if (!cell->mode)
		return 0;
	if (*failed != cell->mode) {
		*failed = NULL;
		rc = eb_modes_enter(modes, cell->mode, &eb_stop_int, &merr);
		if (rc == EB_EINTR || eb_stop_flag)
			return 1;
		if (rc == 0)
			return 0;
		*failed = cell->mode;
		eb_strlcpy(why, merr.msg, n);
	}
	memset(c, 0, sizeof(*c));
	c->warnings = json_array();
	c->peak_rss = -1;
	c->backend = json_pack("{s:s}", "adapter", cell->target->ops->name);
	c->error = eb_xstrdup(why);
	return -1;
}

/* The starting modes back at the end of the run, whatever ended it; a failure is said. */
static void eb_modes_end(struct eb_modes *modes)
{
	struct eb_err merr;

	if (modes && eb_modes_restore(modes, &merr) != 0)
		fprintf(stderr, "edgebench: cannot restore the device's starting mode: %s\n",
			merr.msg);
	eb_modes_free(modes);
}

/* Accuracy figures on a cell's log line (the rest are in the database and the reports). */
#define EB_HEADLINE_ACC 4

/* FNV-1a of a string: which warnings were printed already. */
static uint64_t eb_hash_str(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The cell's headline figures for its log line: the latency medians it stored, or each
 * accuracy figure with its standard error and what it was computed over. */
static void eb_cell_headline(const struct eb_cell *cell, const struct eb_cell_res *c,
			     struct eb_buf *b)
{
	const struct {
		const char *name;
		double v;
	} lat[] = {
		{ "ttft_ms", c->med_ttft },
		{ "decode_tps", c->med_decode },
		{ "e2e_ms", c->med_e2e },
	};

	size_t shown = 0;

	/* a protocol may store dozens of figures (kld: 34): the log line shows the first
	 * EB_HEADLINE_ACC that have a standard error, then those without, and counts the rest */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < c->acc.n && shown < EB_HEADLINE_ACC; i++) {
			const struct eb_acc_metric *m = &c->acc.m[i];

			if (isfinite(m->se) != (pass == 0))
				continue;
			eb_buf_addf(b, "%s%s %s %.6g", b->len ? ", " : "", cell->acc->task,
				    m->name, m->value);
			if (isfinite(m->se))
				eb_buf_addf(b, " ± %.6g", m->se);
			if (m->n >= 0)
				eb_buf_addf(b, " (n %lld)", m->n);
			shown++;
		}
	if (shown < c->acc.n)
		eb_buf_addf(b, " and %zu more (edgebench report)", c->acc.n - shown);
	/* a load cell leads with what it is for: throughput at that concurrency or rate */
	if (c->is_load && isfinite(c->lf.output_tps))
		eb_buf_addf(b, "output_tps %.6g, req_per_s %.6g, concurrency %.4g", c->lf.output_tps,
			    c->lf.req_per_s, c->lf.concurrency);
	if (c->is_load && isfinite(c->lf.goodput_frac))
		eb_buf_addf(b, ", goodput_frac %.6g", c->lf.goodput_frac);
	for (size_t i = 0; !cell->acc && i < sizeof(lat) / sizeof(lat[0]); i++)
		if (isfinite(lat[i].v))
			eb_buf_addf(b, "%s%s median %.6g", b->len ? ", " : "", lat[i].name,
				    lat[i].v);
	if (!b->len)
		eb_buf_addstr(b, "no figures");
}

/*
 * Counts a stored cell's outcome and its warnings and, unless quiet, says how it ended:
 * into a log (stderr not a terminal) one line per cell with its headline figures and
 * warnings count, on a terminal why it failed or was skipped; then each warning.
 */
static void eb_cell_outcome(const struct eb_cell *cell, const struct eb_cell_res *c,
			    const struct eb_run_opts *o, struct eb_progress *pg,
			    struct eb_run_result *res)
{
	size_t n_warn = json_array_size(c->warnings), i, n_same = 0;
	const char *status = c->skipped ? "skipped" : c->error ? "failed" : "ok";
	json_t *w;

	if (c->skipped)
		res->n_skipped++;
	else if (c->error)
		res->n_failed++;
	else
		res->n_ok++;
	res->n_warnings += n_warn;
	if (o->quiet)
		return;
	if (pg->on)
		fprintf(stderr, "\r\033[K");
	if (!pg->on) {
		struct eb_buf b;

		eb_buf_init(&b, 0);
		if (c->error)
			eb_buf_addstr(&b, c->error);
		else
			eb_cell_headline(cell, c, &b);
		fprintf(stderr, "edgebench: cell %s %s: %s; warnings %zu\n", cell->key, status,
			b.buf, n_warn);
		eb_buf_release(&b);
	} else if (c->error) {
		fprintf(stderr, "edgebench: cell %s %s: %s\n", cell->key, status, c->error);
	}
	json_array_foreach(c->warnings, i, w) {
		const char *text = json_string_value(w);
		uint64_t h = eb_hash_str(text);
		size_t k;

		for (k = 0; k < pg->n_warned && pg->warned[k] != h; k++)
			;
		if (k < pg->n_warned) {
			n_same++;
			continue;
		}
		if (pg->n_warned < sizeof(pg->warned) / sizeof(pg->warned[0]))
			pg->warned[pg->n_warned++] = h;
		fprintf(stderr, "edgebench: cell %s warning: %s\n", cell->key, text);
	}
	if (n_same)
		fprintf(stderr, "edgebench: cell %s: %zu warning%s as printed for an earlier cell\n",
			cell->key, n_same, n_same == 1 ? "" : "s");
}

int eb_run(const struct eb_config *cfg, const struct eb_plan *plan, const struct eb_run_opts *o,
	   struct eb_run_result *res, struct eb_err *err)
{
	struct eb_store *s = NULL;
	struct eb_progress pg = { 0 };
	struct eb_backend b = { 0 };
	struct eb_signals sg;
	struct eb_modes *modes = NULL;
	const struct eb_cfg_mode *mode_failed = NULL;
	char mode_why[1024] = "";
	int prev_repeat = 0;
	struct eb_san san;
	int64_t *cell_ids = NULL;
	int ret;

	memset(res, 0, sizeof(*res));
	eb_run_secrets(cfg, &san);
	eb_stop_flag = 0;
	eb_stop_int = 0;
	/* from the start: a signal before the first cell still ends in a stored, interrupted
	 * run and a checkpointed database */
	eb_signals_catch(&sg);
	ret = eb_store_open(&s, o->db_path, 0, err);
	if (ret)
		goto out;
	ret = eb_run_begin(s, cfg, o, res, err);
	if (ret)
		goto out;
	cell_ids = eb_xcalloc(plan->n, sizeof(*cell_ids));
	ret = eb_cells_ensure(s, cfg, plan, res->run_id, cell_ids, err);
	if (ret)
		goto out;
	/* the starting modes are read, and kept with the run, before a cell changes them */
	if (cfg->n_modes) {
		ret = eb_modes_open(&modes, cfg, s, res->run_id, o->quiet, err);
		if (ret)
			goto out;
	}
	if (!o->quiet)
		eb_power_preflight(cfg);
	pg.on = o->progress;
	pg.n = plan->n;
	for (size_t i = 0; i < plan->n && !eb_stop_flag; i++) {
		const struct eb_cell *cell = &plan->cells[i];
		struct eb_cell_res c;
		char status[32];
		double secs;

		pg.i = i;
		ret = eb_store_cell_status(s, cell_ids[i], status, sizeof(status), err);
		if (ret)
			goto out;
		if (strcmp(status, "pending") != 0) {
			res->n_resumed++;
			continue;
		}
		secs = 0;
		/* a pause before each repeat after the first (cell by cell, or pass by pass) */
		if (cell->repeat > 1 && cell->repeat != prev_repeat && cfg->repeat_cooldown_s > 0) {
			eb_progress_draw(&pg, cell->key, "cool-down between repeats", 0, 0, 0);
			eb_clock_sleep_ns((uint64_t)(cfg->repeat_cooldown_s * 1e9), &eb_stop_int);
			if (eb_stop_flag) {
				res->interrupted = 1;
				break;
			}
		}
		prev_repeat = cell->repeat;
		ret = eb_cell_mode(modes, cell, &mode_failed, mode_why, sizeof(mode_why), &c);
		if (ret == 1 || (ret == 0 && eb_cell_run(cfg, cell, o, &b, &c, &secs, &pg))) {
			res->interrupted = 1;
			ret = 0;
			break;
		}
		ret = eb_store_cell(s, cell_ids[i], cfg, cell, &c, secs, &san, err);
		if (!ret)
			eb_cell_outcome(cell, &c, o, &pg, res);
		eb_cell_res_release(&c);
		if (ret)
			goto out;
		pg.secs_done += secs;
		pg.n_done_timed++;
	}
	if (eb_stop_flag)
		res->interrupted = 1;
	ret = eb_run_end(s, res, err);
	/* the database is one file when edgebench exits: a copy of it alone holds every cell */
	if (!ret) {
		ret = eb_store_checkpoint(s, err);
		res->checkpoint_failed = ret != 0;
	}
out:
	if (pg.on)
		fprintf(stderr, "\r\033[K");
	eb_backend_close(&b);
	eb_modes_end(modes);
	free(cell_ids);
	eb_store_close(s);
	eb_san_release(&san);
	eb_signals_restore(&sg);
	return ret;
}
