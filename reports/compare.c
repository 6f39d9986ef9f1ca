/* compare.c: matches two runs' cells by key, judges each metric, writes md/json and JUnit XML. */
#include "compare.h"
#include "table.h"

#include "eb_sanitize.h"
#include "eb_util.h"
#include "latency.h"
#include "metric.h"
#include "stats.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- raw samples of a run -------------------------------------------------------- */

/* The raw per-request samples of one cell (NAN where the request has none), and the
 * inter-token gaps of its measured requests. */
struct eb_raw {
	size_t n, alloc;
	double *v[4]; /* ttft_ms, e2e_ms, prefill_tps, decode_tps */
	size_t nitl, aitl;
	double *itl; /* ms */
};

static const char *const eb_raw_names[4] = { "ttft_ms", "e2e_ms", "prefill_tps", "decode_tps" };

struct eb_side {
	const struct eb_cmp_side *side;
	struct eb_rdata d;
	struct eb_raw *raw;        /* per cell, like d.cells */
	const struct eb_rcell **by_key; /* sorted by key */
	char *uuid, *name;
};

static int eb_by_cell_id(const void *a, const void *b)
{
	const struct eb_rcell *x = *(const struct eb_rcell *const *)a;
	const struct eb_rcell *y = *(const struct eb_rcell *const *)b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int eb_by_key(const void *a, const void *b)
{
	return strcmp((*(const struct eb_rcell *const *)a)->key,
		      (*(const struct eb_rcell *const *)b)->key);
}

/* What a side's reads fill: the raw samples of the cell a row belongs to (found through
 * the cells sorted by id), and the previous token row for the gaps. */
struct eb_side_rd {
	struct eb_side *sd;
	const struct eb_rcell **byid;
	struct eb_raw *r;
	int64_t prev_req, prev_idx, prev_t;
};

static struct eb_raw *eb_side_raw(const struct eb_side_rd *x, int64_t cell_id)
{
	struct eb_rcell key = { .id = cell_id };
	const struct eb_rcell *kp = &key, **hit;

	hit = bsearch(&kp, x->byid, x->sd->d.n, sizeof(*x->byid), eb_by_cell_id);
	return hit ? &x->sd->raw[*hit - x->sd->d.cells] : NULL;
}

/* The token gaps (ITL) of the run's measured requests, cell by cell. Rows of one request
 * come together (token_times is keyed by request and index); a gap is taken only between
 * consecutive indexes of the same request, so no order is assumed. */
static int eb_side_token(void *arg, const struct eb_store_token *t)
{
	struct eb_side_rd *x = arg;
	struct eb_raw *r = x->r;

	if (t->request_id != x->prev_req) {
		x->r = eb_side_raw(x, t->cell_id);
	} else if (r && t->idx == x->prev_idx + 1) {
		if (r->nitl == r->aitl) {
			r->aitl = r->aitl ? 2 * r->aitl : 64;
			r->itl = eb_xrealloc(r->itl, r->aitl * sizeof(double));
		}
		r->itl[r->nitl++] = eb_latency_gap_ms(x->prev_t, t->t_ns);
	}
	x->prev_req = t->request_id;
	x->prev_idx = t->idx;
	x->prev_t = t->t_ns;
	return 0;
}

/* One measured request's ttft_ms, e2e_ms, prefill_tps, decode_tps (NAN where it has none). */
static int eb_side_request(void *arg, const struct eb_store_request *q)
{
	const double v[4] = { eb_latency_ms(q->ttft_ns), eb_latency_ms(q->e2e_ns), q->prefill_tps,
			      q->decode_tps };
	struct eb_raw *r = eb_side_raw(arg, q->cell_id);

	if (!r)
		return 0;
	if (r->n == r->alloc) {
		r->alloc = r->alloc ? 2 * r->alloc : 16;
		for (int k = 0; k < 4; k++)
			r->v[k] = eb_xrealloc(r->v[k], r->alloc * sizeof(double));
	}
	for (int k = 0; k < 4; k++)
		r->v[k][r->n] = v[k];
	r->n++;
	return 0;
}

static int eb_side_run(void *arg, const struct eb_store_run *run)
{
	struct eb_side *sd = arg;

	sd->uuid = eb_xstrdup(run->uuid);
	sd->name = eb_xstrdup(run->name);
	return 0;
}

static int eb_side_load(struct eb_side *sd, const struct eb_cmp_side *side, int want_itl,
			struct eb_err *err)
{
	struct eb_store *s = side->s;
	struct eb_rsel sel = { .run_id = side->run_id };
	struct eb_side_rd x = { .sd = sd, .prev_req = -1, .prev_idx = -1 };
	int ret;

	memset(sd, 0, sizeof(*sd));
	sd->side = side;
	ret = eb_rdata_load(s, &sel, &sd->d, err);
	if (ret)
		return ret;
	sd->raw = eb_xcalloc(sd->d.n + 1, sizeof(*sd->raw));
	sd->by_key = eb_xcalloc(sd->d.n + 1, sizeof(*sd->by_key));
	x.byid = eb_xcalloc(sd->d.n + 1, sizeof(*x.byid));
	for (size_t i = 0; i < sd->d.n; i++)
		sd->by_key[i] = x.byid[i] = &sd->d.cells[i];
	qsort(sd->by_key, sd->d.n, sizeof(*sd->by_key), eb_by_key);
	qsort(x.byid, sd->d.n, sizeof(*x.byid), eb_by_cell_id);

	ret = eb_store_read_runs(s, side->run_id, eb_side_run, sd, err);
	/* every measured request of the run in one pass */
	if (!ret)
		ret = eb_store_read_requests(s, side->run_id, eb_side_request, &x, err);
	if (!ret && want_itl)
		ret = eb_store_read_tokens(s, side->run_id, eb_side_token, &x, err);
	free(x.byid);
	return ret;
}

static void eb_side_release(struct eb_side *sd)
{
	for (size_t i = 0; i < sd->d.n; i++) {
		for (int k = 0; k < 4; k++)
			free(sd->raw[i].v[k]);
		free(sd->raw[i].itl);
	}
	free(sd->raw);
	free(sd->by_key);
	free(sd->uuid);
	free(sd->name);
	eb_rdata_release(&sd->d);
}

/* Whether the test has raw samples for a metric. */
static int eb_has_samples(const char *metric)
{
	return eb_rdata_has_raw(metric) || strcmp(metric, "itl_ms") == 0 ||
	       strcmp(metric, "mbu") == 0;
}

/*
 * Finite raw samples of a metric into a malloc'd array: the requests' own figures; tpot_ms
 * as 1000 / decode_tps; mbu by its decode rates (a cell's MBU is its decode rate times a
 * constant, so the ranks are the same); itl_ms from the token times.
 */
static size_t eb_raw_of(const struct eb_raw *r, const char *metric, double **out)
{
	int k, inv = 0;
	size_t n = 0;

	*out = NULL;
	if (strcmp(metric, "itl_ms") == 0) {
		if (!r->nitl)
			return 0;
		*out = eb_xmalloc(r->nitl * sizeof(double));
		memcpy(*out, r->itl, r->nitl * sizeof(double));
		return r->nitl;
	}
	if (strcmp(metric, "mbu") == 0) {
		k = 3;
	} else if (strcmp(metric, "tpot_ms") == 0) {
		k = 3;
		inv = 1;
	} else {
		for (k = 0; k < 4 && strcmp(eb_raw_names[k], metric) != 0; k++)
			;
		if (k == 4)
			return 0;
	}
	if (!r->n)
		return 0;
	*out = eb_xmalloc(r->n * sizeof(double));
	for (size_t i = 0; i < r->n; i++) {
		double v = r->v[k][i];

		if (inv)
			v = eb_latency_tpot_ms(v);
		if (isfinite(v))
			(*out)[n++] = v;
	}
	return n;
}

/* ---- verdicts -------------------------------------------------------------------- */

/* NODIR: a registered metric with no better side; UNKNOWN: a name the registry lacks */
enum eb_verdict {
	EB_V_REGRESSION,
	EB_V_IMPROVEMENT,
	EB_V_UNCHANGED,
	EB_V_NOISE,
	EB_V_NODIR,
	EB_V_UNKNOWN
};

static const char *const eb_verdict_names[] = { "regression",	   "improvement",
						"unchanged",	   "not significant",
						"no direction",	   "unknown metric" };

/* Shown and counted as unchanged: no direction to judge a change by. */
static int eb_unjudged(enum eb_verdict v)
{
	return v == EB_V_NODIR || v == EB_V_UNKNOWN;
}

struct eb_result {
	const struct eb_rcell *b, *c;
	const char *metric; /* NULL for a cell-level result (failed or recovered cell) */
	enum eb_verdict v;
	double bv, cv, change, p, thr;
	size_t nb, nc; /* raw samples used by the test; 0 = threshold only */
	int underpowered; /* even the largest possible difference would not reach alpha */
};

static double eb_threshold(const struct eb_cmp_opts *o, const char *metric)
{
	for (size_t i = 0; i < o->n_per_metric; i++)
		if (strcmp(o->per_metric[i].name, metric) == 0)
			return o->per_metric[i].pct;
	return o->threshold_pct;
}

static double eb_center(const struct eb_rmetric *m)
{
	return isfinite(m->median) ? m->median : m->mean;
}

static void eb_judge(const struct eb_cmp_opts *o, const struct eb_raw *rb, const struct eb_raw *rc,
		     const struct eb_rmetric *mb, const struct eb_rmetric *mc, struct eb_result *res)
{
	int dir = eb_metric_dir_of(mb->name);
	double thr = eb_threshold(o, mb->name);
	int worse, better, sig = 1;

	res->metric = mb->name;
	res->bv = eb_center(mb);
	res->cv = eb_center(mc);
	res->thr = thr;
	res->p = NAN;
	res->nb = res->nc = 0;
	if (res->bv == res->cv)
		res->change = 0;
	else if (res->bv != 0 && isfinite(res->bv) && isfinite(res->cv))
		res->change = 100.0 * (res->cv - res->bv) / fabs(res->bv);
	else
		res->change = isfinite(res->cv) && isfinite(res->bv)
				      ? (res->cv > res->bv ? INFINITY : -INFINITY)
				      : NAN;
	if (eb_has_samples(mb->name)) {
		double *x = NULL, *y = NULL;
		size_t nx = eb_raw_of(rb, mb->name, &x), ny = eb_raw_of(rc, mb->name, &y);

		if (nx && ny) {
			double nxny = (double)nx * (double)ny, nn = (double)(nx + ny);
			double zmax = (nxny / 2.0 - 0.5) / sqrt(nxny / 12.0 * (nn + 1));

			res->p = eb_stats_mwu(x, nx, y, ny, NULL);
			res->underpowered = erfc(zmax / sqrt(2.0)) >= o->alpha;
			res->nb = nx;
			res->nc = ny;
			sig = res->p < o->alpha;
		}
		free(x);
		free(y);
	}
	worse = dir && isfinite(res->change) ? dir * res->change < -thr
					     : dir && isinf(res->change) && dir * res->change < 0;
	better = dir && isfinite(res->change) ? dir * res->change > thr
					      : dir && isinf(res->change) && dir * res->change > 0;
	if (!eb_metric_find(mb->name))
		res->v = EB_V_UNKNOWN;
	else if (!dir)
		res->v = EB_V_NODIR;
	else if (worse && sig)
		res->v = EB_V_REGRESSION;
	else if (better && sig)
		res->v = EB_V_IMPROVEMENT;
	else if (worse || better)
		res->v = EB_V_NOISE;
	else
		res->v = EB_V_UNCHANGED;
}

/* ---- writers --------------------------------------------------------------------- */

static void eb_fmt_change(char *buf, size_t n, double change)
{
	if (isnan(change))
		snprintf(buf, n, "n/a");
	else if (isinf(change))
		snprintf(buf, n, "%s", change > 0 ? "+inf" : "-inf");
	else
		snprintf(buf, n, "%+.1f%%", change);
}

static void eb_fmt_p(char *buf, size_t n, const struct eb_result *r)
{
	if (r->nb == 0)
		snprintf(buf, n, "threshold only");
	else if (r->p < 1e-4)
		snprintf(buf, n, "%.1e", r->p);
	else
		snprintf(buf, n, "%.4f", r->p);
}

/* Markdown-escaped text (keys and names come from configs). */
/* Text from a database (a merged one may hold any bytes) cleaned first: eb_sanitize_text. */
static void eb_md(FILE *f, const char *text)
{
	char *clean = eb_sanitize_text(text);

	for (const char *s = clean ? clean : ""; *s; s++) {
		if (strchr("\\`*_[]|<>#~$&", *s))
			fputc('\\', f);
		fputc((unsigned char)*s < 0x20 ? ' ' : *s, f);
	}
	free(clean);
}

static void eb_md_side(FILE *out, const char *what, const struct eb_side *sd)
{
	fprintf(out, "- %s: run %lld", what, (long long)sd->side->run_id);
	if (sd->uuid) {
		fputs(" (", out);
		eb_md(out, sd->uuid);
		fputs(", ", out);
		eb_md(out, sd->name ? sd->name : "");
		fputc(')', out);
	}
	fputs(" in ", out);
	eb_md(out, eb_store_path(sd->side->s));
	fputc('\n', out);
}

static void eb_md_results(FILE *out, const char *title, const struct eb_result *res, size_t n,
			  enum eb_verdict v)
{
	size_t cnt = 0;

	for (size_t i = 0; i < n; i++)
		cnt += res[i].v == v;
	fprintf(out, "\n## %s (%zu)\n", title, cnt);
	if (!cnt)
		return;
	fputs("\n| cell | metric | baseline | candidate | change | threshold | p | n |\n"
	      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
	      out);
	for (size_t i = 0; i < n; i++) {
		const struct eb_result *r = &res[i];
		char b[64], c[64], ch[64], p[64];

		if (r->v != v)
			continue;
		fputs("| ", out);
		eb_md(out, (r->c ? r->c : r->b)->key);
		fputs(" | ", out);
		if (!r->metric) {
			fputs("cell status | ", out);
			eb_md(out, r->b->status);
			fputs(" | ", out);
			eb_md(out, r->c->status);
			if (r->c->error) {
				fputs(": ", out);
				eb_md(out, r->c->error);
			}
			fputs(" | | | | |\n", out);
			continue;
		}
		eb_fmt_num(b, sizeof(b), r->bv);
		eb_fmt_num(c, sizeof(c), r->cv);
		eb_fmt_change(ch, sizeof(ch), r->change);
		eb_fmt_p(p, sizeof(p), r);
		eb_md(out, r->metric);
		fprintf(out, " | %s | %s | %s | %g%% | %s | ", b[0] ? b : "-", c[0] ? c : "-", ch,
			r->thr, p);
		if (r->nb)
			fprintf(out, "%zu/%zu |\n", r->nb, r->nc);
		else
			fputs("- |\n", out);
	}
}

static void eb_write_md(FILE *out, const struct eb_side *B, const struct eb_side *C,
			const struct eb_cmp_opts *o, const struct eb_result *res, size_t nres,
			const struct eb_rcell *const *missing, size_t nmiss,
			const struct eb_rcell *const *added, size_t nadd, const struct eb_cmp_counts *k)
{
	fputs("# edgebench compare\n\n", out);
	eb_md_side(out, "baseline", B);
	eb_md_side(out, "candidate", C);
	fprintf(out, "- statistic: median of the measured (non-warm-up) requests; threshold %g%%",
		o->threshold_pct);
	for (size_t i = 0; i < o->n_per_metric; i++) {
		fputs(i ? ", " : " (", out);
		eb_md(out, o->per_metric[i].name);
		fprintf(out, " %g%%", o->per_metric[i].pct);
	}
	fputs(o->n_per_metric ? ")\n" : "\n", out);
	fprintf(out, "- significance: two-sided Mann-Whitney U test on the raw per-request samples "
		     "(normal approximation, tie-corrected, continuity-corrected), alpha %g; "
		     "metrics without raw samples use the threshold alone\n",
		o->alpha);
	fprintf(out, "- a regression needs both: a change past the threshold in the worse "
		     "direction and p < %g\n",
		o->alpha);
	{
		size_t weak = 0, nb = 0, nc = 0;

		for (size_t i = 0; i < nres; i++)
			if (res[i].underpowered) {
				weak++;
				nb = res[i].nb;
				nc = res[i].nc;
			}
		if (weak)
			fprintf(out, "- note: %zu metric%s had too few samples (e.g. %zu against %zu) "
				     "for any change to reach p < %g: measure more repetitions per "
				     "cell (4 or more against 4 or more at alpha 0.05)\n",
				weak, weak == 1 ? "" : "s", nb, nc, o->alpha);
	}
	if (k->regressions)
		fprintf(out, "\n**Verdict: %zu regression%s**\n", k->regressions,
			k->regressions == 1 ? "" : "s");
	else
		fputs("\n**Verdict: no regression**\n", out);
	eb_md_results(out, "Regressions", res, nres, EB_V_REGRESSION);
	eb_md_results(out, "Improvements", res, nres, EB_V_IMPROVEMENT);
	eb_md_results(out, "Past the threshold but not significant (unchanged)", res, nres,
		      EB_V_NOISE);

	/* unchanged: one line per cell, its metrics and their changes */
	{
		size_t cnt = 0;

		for (size_t i = 0; i < nres; i++)
			cnt += res[i].v == EB_V_UNCHANGED || eb_unjudged(res[i].v);
		fprintf(out, "\n## Unchanged (%zu)\n", cnt);
		if (cnt)
			fputs("\n| cell | metrics (change) |\n| --- | --- |\n", out);
		for (size_t i = 0; i < nres;) {
			size_t j = i, shown = 0;

			while (j < nres && res[j].b == res[i].b)
				j++;
			for (size_t q = i; q < j; q++) {
				char ch[64];

				if (res[q].v != EB_V_UNCHANGED && !eb_unjudged(res[q].v))
					continue;
				if (!shown) {
					fputs("| ", out);
					eb_md(out, res[i].b->key);
					fputs(" | ", out);
				}
				eb_fmt_change(ch, sizeof(ch), res[q].change);
				fputs(shown ? ", " : "", out);
				eb_md(out, res[q].metric);
				fprintf(out, " %s%s", ch,
					res[q].v == EB_V_NODIR	   ? " (no direction)"
					: res[q].v == EB_V_UNKNOWN ? " (unknown metric, not judged)"
								   : "");
				shown++;
			}
			if (shown)
				fputs(" |\n", out);
			i = j;
		}
	}
	fprintf(out, "\n## Missing cells (%zu): in the baseline, not in the candidate\n", nmiss);
	for (size_t i = 0; i < nmiss; i++) {
		fputs(i ? "" : "\n", out);
		fputs("- ", out);
		eb_md(out, missing[i]->key);
		fputc('\n', out);
	}
	fprintf(out, "\n## New cells (%zu): in the candidate, not in the baseline\n", nadd);
	for (size_t i = 0; i < nadd; i++) {
		fputs(i ? "" : "\n", out);
		fputs("- ", out);
		eb_md(out, added[i]->key);
		fputc('\n', out);
	}
	fprintf(out, "\nregressions %zu, improvements %zu, unchanged %zu, missing %zu, new %zu\n",
		k->regressions, k->improvements, k->unchanged, k->missing, k->added);
}

static json_t *eb_jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *eb_jstr(const char *s)
{
	char *clean = eb_sanitize_text(s); /* valid UTF-8, so json_string takes it */
	json_t *j = clean ? json_string(clean) : NULL;

	free(clean);
	return j ? j : json_null();
}

static json_t *eb_json_side(const struct eb_side *sd)
{
	json_t *o = json_object();

	json_object_set_new(o, "database", eb_jstr(eb_store_path(sd->side->s)));
	json_object_set_new(o, "run", json_integer(sd->side->run_id));
	json_object_set_new(o, "uuid", eb_jstr(sd->uuid));
	json_object_set_new(o, "name", eb_jstr(sd->name));
	return o;
}

/* "  \"key\": value" of the top-level object; takes the reference. */
static void eb_json_kv(FILE *out, const char *key, json_t *v, int *first)
{
	fprintf(out, "%s\n  \"%s\": ", *first ? "" : ",", key);
	eb_json_dump_at(out, v, 2, 10);
	json_decref(v);
	*first = 0;
}

static json_t *eb_json_result(const struct eb_result *r)
{
	json_t *e = json_object();

	json_object_set_new(e, "key", eb_jstr((r->c ? r->c : r->b)->key));
	json_object_set_new(e, "metric", eb_jstr(r->metric ? r->metric : "cell status"));
	json_object_set_new(e, "verdict", json_string(eb_verdict_names[r->v]));
	if (r->metric) {
		json_object_set_new(e, "direction", json_integer(eb_metric_dir_of(r->metric)));
		json_object_set_new(e, "baseline", eb_jnum(r->bv));
		json_object_set_new(e, "candidate", eb_jnum(r->cv));
		json_object_set_new(e, "change_pct", eb_jnum(r->change));
		json_object_set_new(e, "threshold_pct", json_real(r->thr));
		json_object_set_new(e, "p", r->nb ? eb_jnum(r->p) : json_null());
		json_object_set_new(e, "n_baseline", json_integer((json_int_t)r->nb));
		json_object_set_new(e, "n_candidate", json_integer((json_int_t)r->nc));
		if (r->underpowered)
			json_object_set_new(e, "underpowered", json_true());
	} else {
		json_object_set_new(e, "baseline_status", eb_jstr(r->b->status));
		json_object_set_new(e, "candidate_status", eb_jstr(r->c->status));
		json_object_set_new(e, "candidate_error", eb_jstr(r->c->error));
	}
	return e;
}

/* The json report, streamed: one result in memory at a time. */
static void eb_write_json(FILE *out, const struct eb_side *B, const struct eb_side *C,
			  const struct eb_cmp_opts *o, const struct eb_result *res, size_t nres,
			  const struct eb_rcell *const *missing, size_t nmiss,
			  const struct eb_rcell *const *added, size_t nadd,
			  const struct eb_cmp_counts *k)
{
	json_t *test = json_object(), *thr = json_object(), *jm = json_array(), *jn = json_array();
	json_t *sum = json_object();
	int first = 1;

	fputc('{', out);
	eb_json_kv(out, "baseline", eb_json_side(B), &first);
	eb_json_kv(out, "candidate", eb_json_side(C), &first);
	eb_json_kv(out, "statistic", json_string("median"), &first);
	json_object_set_new(test, "name", json_string("mann-whitney-u"));
	json_object_set_new(test, "sides", json_string("two-sided"));
	json_object_set_new(test, "method",
			    json_string("normal approximation, tie-corrected, continuity-corrected"));
	json_object_set_new(test, "alpha", json_real(o->alpha));
	json_object_set_new(test, "samples", json_string("measured requests: ttft_ms, e2e_ms, "
							 "prefill_tps, decode_tps, tpot_ms"));
	eb_json_kv(out, "test", test, &first);
	eb_json_kv(out, "threshold_pct", json_real(o->threshold_pct), &first);
	for (size_t i = 0; i < o->n_per_metric; i++)
		json_object_set_new(thr, o->per_metric[i].name, json_real(o->per_metric[i].pct));
	eb_json_kv(out, "metric_threshold_pct", thr, &first);
	fputs(",\n  \"results\": [", out);
	for (size_t i = 0; i < nres; i++) {
		json_t *e = eb_json_result(&res[i]);

		fputs(i ? ",\n    " : "\n    ", out);
		eb_json_dump_at(out, e, 4, 10);
		json_decref(e);
	}
	fputs(nres ? "\n  ]" : "]", out);
	for (size_t i = 0; i < nmiss; i++)
		json_array_append_new(jm, eb_jstr(missing[i]->key));
	for (size_t i = 0; i < nadd; i++)
		json_array_append_new(jn, eb_jstr(added[i]->key));
	eb_json_kv(out, "missing", jm, &first);
	eb_json_kv(out, "new", jn, &first);
	json_object_set_new(sum, "regressions", json_integer((json_int_t)k->regressions));
	json_object_set_new(sum, "improvements", json_integer((json_int_t)k->improvements));
	json_object_set_new(sum, "unchanged", json_integer((json_int_t)k->unchanged));
	json_object_set_new(sum, "missing", json_integer((json_int_t)k->missing));
	json_object_set_new(sum, "new", json_integer((json_int_t)k->added));
	eb_json_kv(out, "summary", sum, &first);
	fputs("\n}\n", out);
}

/* XML text or attribute value: markup escaped, characters XML 1.0 forbids replaced. */
static void eb_xml(struct eb_buf *b, const char *text)
{
	char *clean = eb_sanitize_text(text); /* XML is UTF-8 here: no invalid byte may pass */

	for (const char *s = clean ? clean : ""; *s; s++) {
		switch (*s) {
		case '&':
			eb_buf_addstr(b, "&amp;");
			break;
		case '<':
			eb_buf_addstr(b, "&lt;");
			break;
		case '>':
			eb_buf_addstr(b, "&gt;");
			break;
		case '"':
			eb_buf_addstr(b, "&quot;");
			break;
		case '\'':
			eb_buf_addstr(b, "&apos;");
			break;
		case '\n':
			eb_buf_addstr(b, "&#10;");
			break;
		case '\t':
			eb_buf_addstr(b, "&#9;");
			break;
		default:
			if ((unsigned char)*s < 0x20)
				eb_buf_addstr(b, "?");
			else
				eb_buf_add(b, s, 1);
		}
	}
	free(clean);
}

static int eb_write_junit(const char *path, const struct eb_side *B, const struct eb_side *C,
			  const struct eb_cmp_opts *o, const struct eb_result *res, size_t nres,
			  const struct eb_rcell *const *missing, size_t nmiss,
			  const struct eb_rcell *const *added, size_t nadd,
			  const struct eb_cmp_counts *k, struct eb_err *err)
{
	struct eb_buf b;
	size_t tests = nres + nmiss + nadd;
	char desc[256];
	int ret;

	eb_buf_init(&b, 0);
	eb_buf_addstr(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	eb_buf_addf(&b, "<testsuites name=\"edgebench compare\" tests=\"%zu\" failures=\"%zu\" "
			"errors=\"0\" skipped=\"%zu\">\n",
		    tests, k->regressions, nmiss);
	eb_buf_addf(&b, "  <testsuite name=\"edgebench.compare\" tests=\"%zu\" failures=\"%zu\" "
			"errors=\"0\" skipped=\"%zu\">\n    <properties>\n",
		    tests, k->regressions, nmiss);
	snprintf(desc, sizeof(desc), "run %lld", (long long)B->side->run_id);
	eb_buf_addstr(&b, "      <property name=\"baseline\" value=\"");
	eb_xml(&b, desc);
	eb_buf_addstr(&b, " in ");
	eb_xml(&b, eb_store_path(B->side->s));
	eb_buf_addstr(&b, "\"/>\n      <property name=\"candidate\" value=\"");
	snprintf(desc, sizeof(desc), "run %lld", (long long)C->side->run_id);
	eb_xml(&b, desc);
	eb_buf_addstr(&b, " in ");
	eb_xml(&b, eb_store_path(C->side->s));
	eb_buf_addf(&b, "\"/>\n      <property name=\"test\" value=\"two-sided Mann-Whitney U, "
			"normal approximation, alpha %g\"/>\n"
			"      <property name=\"threshold_pct\" value=\"%g\"/>\n    </properties>\n",
		    o->alpha, o->threshold_pct);
	for (size_t i = 0; i < nres; i++) {
		const struct eb_result *r = &res[i];
		char ch[64], p[64], bv[64], cv[64];

		eb_buf_addstr(&b, "    <testcase classname=\"");
		eb_xml(&b, (r->c ? r->c : r->b)->key);
		eb_buf_addstr(&b, "\" name=\"");
		eb_xml(&b, r->metric ? r->metric : "cell status");
		if (r->v != EB_V_REGRESSION) {
			eb_buf_addstr(&b, "\"/>\n");
			continue;
		}
		eb_buf_addstr(&b, "\">\n      <failure type=\"regression\" message=\"");
		if (r->metric) {
			eb_fmt_change(ch, sizeof(ch), r->change);
			eb_fmt_p(p, sizeof(p), r);
			eb_fmt_num(bv, sizeof(bv), r->bv);
			eb_fmt_num(cv, sizeof(cv), r->cv);
			eb_xml(&b, r->metric);
			eb_buf_addf(&b, " %s (threshold %g%%, p %s)\">", ch, r->thr, p);
			eb_xml(&b, r->metric);
			eb_buf_addf(&b, ": baseline %s, candidate %s, change %s, threshold %g%%, p %s"
					" (n %zu/%zu)",
				    bv, cv, ch, r->thr, p, r->nb, r->nc);
		} else {
			eb_buf_addstr(&b, "cell ");
			eb_xml(&b, r->c->status);
			eb_buf_addstr(&b, "\">");
			eb_xml(&b, r->c->error ? r->c->error : r->c->status);
		}
		eb_buf_addstr(&b, "</failure>\n    </testcase>\n");
	}
	for (size_t i = 0; i < nmiss; i++) {
		eb_buf_addstr(&b, "    <testcase classname=\"");
		eb_xml(&b, missing[i]->key);
		eb_buf_addstr(&b, "\" name=\"cell\">\n      <skipped message=\"missing in the "
				  "candidate\"/>\n    </testcase>\n");
	}
	for (size_t i = 0; i < nadd; i++) {
		eb_buf_addstr(&b, "    <testcase classname=\"");
		eb_xml(&b, added[i]->key);
		eb_buf_addstr(&b, "\" name=\"cell (new)\"/>\n");
	}
	eb_buf_addstr(&b, "  </testsuite>\n</testsuites>\n");
	ret = eb_write_file(path, b.buf, b.len, err);
	eb_buf_release(&b);
	return ret;
}

/* ---- the comparison -------------------------------------------------------------- */

int eb_compare(const struct eb_cmp_side *base, const struct eb_cmp_side *cand,
	       const struct eb_cmp_opts *o, FILE *out, struct eb_cmp_counts *k, struct eb_err *err)
{
	struct eb_side B, C;
	struct eb_result *res = NULL;
	const struct eb_rcell **missing = NULL, **added = NULL;
	size_t nres = 0, ares = 0, nmiss = 0, nadd = 0, i = 0, j = 0;
	int ret;

	memset(k, 0, sizeof(*k));
	ret = eb_side_load(&B, base, eb_pat_match(o->metric_pats, "itl_ms"), err);
	if (ret)
		return ret;
	ret = eb_side_load(&C, cand, eb_pat_match(o->metric_pats, "itl_ms"), err);
	if (ret) {
		eb_side_release(&B);
		return ret;
	}
	missing = eb_xcalloc(B.d.n + 1, sizeof(*missing));
	added = eb_xcalloc(C.d.n + 1, sizeof(*added));
	/* merge-join on key */
	while (i < B.d.n || j < C.d.n) {
		int cmp = i == B.d.n ? 1 : j == C.d.n ? -1 : strcmp(B.by_key[i]->key, C.by_key[j]->key);
		const struct eb_rcell *bc, *cc;

		if (cmp < 0) {
			missing[nmiss++] = B.by_key[i++];
			continue;
		}
		if (cmp > 0) {
			added[nadd++] = C.by_key[j++];
			continue;
		}
		bc = B.by_key[i++];
		cc = C.by_key[j++];
		if (nres + bc->nm + 1 > ares) {
			ares = 2 * (nres + bc->nm + 1);
			res = eb_xrealloc(res, ares * sizeof(*res));
		}
		if (strcmp(bc->status, cc->status) != 0 &&
		    (strcmp(bc->status, "ok") == 0 || strcmp(cc->status, "ok") == 0)) {
			struct eb_result *r = &res[nres++];

			memset(r, 0, sizeof(*r));
			r->b = bc;
			r->c = cc;
			r->v = strcmp(bc->status, "ok") == 0 ? EB_V_REGRESSION : EB_V_IMPROVEMENT;
		}
		for (size_t q = 0; q < bc->nm; q++) {
			const struct eb_rmetric *mb = &bc->m[q], *mc = eb_rcell_metric(cc, mb->name);
			struct eb_result *r;

			if (!mc || !eb_pat_match(o->metric_pats, mb->name))
				continue;
			r = &res[nres++];
			memset(r, 0, sizeof(*r));
			r->b = bc;
			r->c = cc;
			eb_judge(o, &B.raw[bc - B.d.cells], &C.raw[cc - C.d.cells], mb, mc, r);
		}
	}
	for (size_t q = 0; q < nres; q++) {
		if (res[q].v == EB_V_REGRESSION)
			k->regressions++;
		else if (res[q].v == EB_V_IMPROVEMENT)
			k->improvements++;
		else
			k->unchanged++;
	}
	k->missing = nmiss;
	k->added = nadd;
	if (o->json)
		eb_write_json(out, &B, &C, o, res, nres, missing, nmiss, added, nadd, k);
	else
		eb_write_md(out, &B, &C, o, res, nres, missing, nmiss, added, nadd, k);
	if (o->junit)
		ret = eb_write_junit(o->junit, &B, &C, o, res, nres, missing, nmiss, added, nadd, k,
				     err);
	free(res);
	free(missing);
	free(added);
	eb_side_release(&B);
	eb_side_release(&C);
	return ret;
}
