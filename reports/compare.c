/* compare.c: matches two runs' cells by device and key, judges each metric, writes md/json and JUnit XML. */
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

/* ---- what a run holds ------------------------------------------------------------ */

/* An accuracy figure of a cell, with its standard error (NAN where none is stored). */
struct eb_acc {
	char *task, *metric;
	double value, se;
};

/*
 * The raw per-request samples of one cell (NAN where the request has none); per measured
 * request with two chunks or more, the median and the p90 of its inter-token gaps; the
 * cell's accuracy figures.
 */
struct eb_raw {
	size_t n, alloc;
	double *v[4]; /* ttft_ms, e2e_ms, prefill_tps, decode_tps */
	size_t nitl, aitl;
	double *itl_med, *itl_p90; /* ms, one of each per request */
	struct eb_acc *acc;
	size_t nacc, aacc;
};

static const char *const eb_raw_names[4] = { "ttft_ms", "e2e_ms", "prefill_tps", "decode_tps" };

struct eb_side {
	const struct eb_cmp_side *side;
	struct eb_rdata d;
	struct eb_raw *raw;          /* per cell, like d.cells */
	const struct eb_rcell **sel; /* d's cells (those on the side's devices), by (device, key) */
	size_t nsel;
	char **devices; /* the distinct devices of sel, sorted */
	size_t ndev;
	char *uuid, *name, *sha;
};

static int eb_by_cell_id(const void *a, const void *b)
{
	const struct eb_rcell *x = *(const struct eb_rcell *const *)a;
	const struct eb_rcell *y = *(const struct eb_rcell *const *)b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Cells are matched by device and key: a run's cells of two devices never pair up. */
static int eb_cell_cmp(const struct eb_rcell *x, const struct eb_rcell *y)
{
	int c = strcmp(x->device, y->device);

	return c ? c : strcmp(x->key, y->key);
}

static int eb_by_device_key(const void *a, const void *b)
{
	return eb_cell_cmp(*(const struct eb_rcell *const *)a, *(const struct eb_rcell *const *)b);
}

static int eb_by_key(const void *a, const void *b)
{
	return strcmp((*(const struct eb_rcell *const *)a)->key,
		      (*(const struct eb_rcell *const *)b)->key);
}

static int eb_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* What a side's reads fill: the raw samples of the cell a row belongs to (found through
 * the cells sorted by id), and the gaps of the request being read. */
struct eb_side_rd {
	struct eb_side *sd;
	const struct eb_rcell **byid;
	struct eb_raw *r;
	int64_t prev_req, prev_idx, prev_t;
	double *gaps;
	size_t ngaps, agaps;
};

static struct eb_raw *eb_side_raw(const struct eb_side_rd *x, int64_t cell_id)
{
	struct eb_rcell key = { .id = cell_id };
	const struct eb_rcell *kp = &key, **hit;

	hit = bsearch(&kp, x->byid, x->sd->d.n, sizeof(*x->byid), eb_by_cell_id);
	return hit ? &x->sd->raw[*hit - x->sd->d.cells] : NULL;
}

/* The request's gaps become one sample each of its median and its p90 ITL: the request,
 * not the gap, is the unit of independence (the gaps of one request share its state). */
static void eb_side_request_done(struct eb_side_rd *x)
{
	struct eb_raw *r = x->r;

	if (r && x->ngaps) {
		qsort(x->gaps, x->ngaps, sizeof(double), eb_cmp_double);
		if (r->nitl == r->aitl) {
			r->aitl = r->aitl ? 2 * r->aitl : 16;
			r->itl_med = eb_xrealloc(r->itl_med, r->aitl * sizeof(double));
			r->itl_p90 = eb_xrealloc(r->itl_p90, r->aitl * sizeof(double));
		}
		r->itl_med[r->nitl] = eb_stats_quantile_sorted(x->gaps, x->ngaps, 0.5);
		r->itl_p90[r->nitl] = eb_stats_quantile_sorted(x->gaps, x->ngaps, 0.9);
		r->nitl++;
	}
	x->ngaps = 0;
}

/* The token gaps of the run's measured requests, request by request. Rows of one request
 * come together (token_times is keyed by request and index); a gap is taken only between
 * consecutive indexes of the same request, so no order is assumed. */
static int eb_side_token(void *arg, const struct eb_store_token *t)
{
	struct eb_side_rd *x = arg;

	if (t->request_id != x->prev_req) {
		eb_side_request_done(x);
		x->r = eb_side_raw(x, t->cell_id);
	} else if (x->r && t->idx == x->prev_idx + 1) {
		if (x->ngaps == x->agaps) {
			x->agaps = x->agaps ? 2 * x->agaps : 64;
			x->gaps = eb_xrealloc(x->gaps, x->agaps * sizeof(double));
		}
		x->gaps[x->ngaps++] = eb_latency_gap_ms(x->prev_t, t->t_ns);
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

/* One accuracy figure with its standard error. */
static int eb_side_accuracy(void *arg, const struct eb_store_accuracy *a)
{
	struct eb_raw *r = eb_side_raw(arg, a->cell_id);
	struct eb_acc *e;

	if (!r || !a->task || !a->metric)
		return 0;
	if (r->nacc == r->aacc) {
		r->aacc = r->aacc ? 2 * r->aacc : 8;
		r->acc = eb_xrealloc(r->acc, r->aacc * sizeof(*r->acc));
	}
	e = &r->acc[r->nacc++];
	e->task = eb_xstrdup(a->task);
	e->metric = eb_xstrdup(a->metric);
	e->value = a->value;
	e->se = a->stderr_;
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
	struct eb_rsel sel = { .run_id = side->run_id, .devices = side->device_pats };
	struct eb_side_rd x = { .sd = sd, .prev_req = -1, .prev_idx = -1 };
	int ret, has_acc = 0;

	memset(sd, 0, sizeof(*sd));
	sd->side = side;
	ret = eb_rdata_load(s, &sel, &sd->d, err);
	if (ret)
		return ret;
	sd->raw = eb_xcalloc(sd->d.n + 1, sizeof(*sd->raw));
	sd->sel = eb_xcalloc(sd->d.n + 1, sizeof(*sd->sel));
	sd->devices = eb_xcalloc(sd->d.n + 1, sizeof(*sd->devices));
	x.byid = eb_xcalloc(sd->d.n + 1, sizeof(*x.byid));
	for (size_t i = 0; i < sd->d.n; i++)
		x.byid[i] = sd->sel[sd->nsel++] = &sd->d.cells[i];
	qsort(sd->sel, sd->nsel, sizeof(*sd->sel), eb_by_device_key);
	qsort(x.byid, sd->d.n, sizeof(*x.byid), eb_by_cell_id);
	for (size_t i = 0; i < sd->nsel; i++)
		if (!sd->ndev || strcmp(sd->devices[sd->ndev - 1], sd->sel[i]->device) != 0)
			sd->devices[sd->ndev++] = eb_xstrdup(sd->sel[i]->device);

	ret = eb_store_read_runs(s, side->run_id, eb_side_run, sd, err);
	if (!ret)
		ret = eb_store_run_config_sha256(s, side->run_id, &sd->sha, err);
	/* every measured request of the run in one pass */
	if (!ret)
		ret = eb_store_read_requests(s, side->run_id, eb_side_request, &x, err);
	if (!ret && want_itl) {
		ret = eb_store_read_tokens(s, side->run_id, eb_side_token, &x, err);
		eb_side_request_done(&x);
	}
	if (!ret)
		ret = eb_store_has_table(s, "accuracy", &has_acc, err);
	if (!ret && has_acc)
		ret = eb_store_read_accuracy(s, side->run_id, 0, eb_side_accuracy, &x, err);
	free(x.gaps);
	free(x.byid);
	return ret;
}

static void eb_side_release(struct eb_side *sd)
{
	for (size_t i = 0; sd->raw && i < sd->d.n; i++) {
		struct eb_raw *r = &sd->raw[i];

		for (int k = 0; k < 4; k++)
			free(r->v[k]);
		free(r->itl_med);
		free(r->itl_p90);
		for (size_t a = 0; a < r->nacc; a++) {
			free(r->acc[a].task);
			free(r->acc[a].metric);
		}
		free(r->acc);
	}
	for (size_t i = 0; i < sd->ndev; i++)
		free(sd->devices[i]);
	free(sd->devices);
	free(sd->raw);
	free(sd->sel);
	free(sd->uuid);
	free(sd->name);
	free(sd->sha);
	eb_rdata_release(&sd->d);
}

/*
 * Finite raw per-request samples of a metric into a malloc'd array: the requests' own
 * figures; tpot_ms as 1000 / decode_tps; mbu by its decode rates (a cell's MBU is its
 * decode rate times a constant, so the ranks are the same). 0 for a metric without them.
 */
static size_t eb_raw_of(const struct eb_raw *r, const char *metric, double **out)
{
	int k, inv = 0;
	size_t n = 0;

	*out = NULL;
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

/* Which section (and summary count) a verdict belongs to. */
static enum eb_verdict eb_section_of(enum eb_verdict v)
{
	return eb_unjudged(v) ? EB_V_UNCHANGED : v;
}

/* How a change was tested: threshold alone, Mann-Whitney U on per-request samples, z on
 * two stored standard errors, or Welch's t on the repeats' figures. */
enum eb_test { EB_TEST_NONE, EB_TEST_MWU, EB_TEST_Z, EB_TEST_WELCH };

static const char *const eb_test_names[] = { "threshold", "mann-whitney-u", "z", "welch-t" };

struct eb_result {
	const struct eb_rcell *b, *c;
	const char *key; /* the cell's key; a repeated cell's without its "#N" */
	const char *metric; /* NULL for a cell-level result (cell status) */
	const char *per_request; /* itl_ms: "median" or "p90" of each request's gaps; else NULL */
	const char *task;   /* accuracy figures: the task; else NULL */
	enum eb_verdict v;
	enum eb_test test;
	double bv, cv, change, p, thr, seb, sec;
	size_t nb, nc; /* samples of the Mann-Whitney test; repeats of the Welch test */
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

static double eb_median_of(const double *x, size_t n)
{
	double *v = eb_xmalloc((n + 1) * sizeof(double)), m;

	memcpy(v, x, n * sizeof(double));
	qsort(v, n, sizeof(double), eb_cmp_double);
	m = eb_stats_quantile_sorted(v, n, 0.5);
	free(v);
	return m;
}

/* The two-sided Mann-Whitney U test of the samples, into res. */
static void eb_test_mwu(const struct eb_cmp_opts *o, const double *x, size_t nx, const double *y,
			size_t ny, struct eb_result *res)
{
	double nxny = (double)nx * (double)ny, nn = (double)(nx + ny);
	double zmax = (nxny / 2.0 - 0.5) / sqrt(nxny / 12.0 * (nn + 1));

	if (!nx || !ny)
		return;
	res->test = EB_TEST_MWU;
	res->p = eb_stats_mwu(x, nx, y, ny, NULL);
	res->underpowered = erfc(zmax / sqrt(2.0)) >= o->alpha;
	res->nb = nx;
	res->nc = ny;
}

/*
 * Two independent estimates with standard errors se_b and se_c: z = (c - b) /
 * sqrt(se_b^2 + se_c^2), two-sided p = erfc(|z| / sqrt 2). Without both errors (or with
 * both 0) the threshold alone decides.
 */
static void eb_test_z(struct eb_result *res)
{
	double se = sqrt(res->seb * res->seb + res->sec * res->sec);

	if (!isfinite(se) || !(se > 0) || !isfinite(res->bv) || !isfinite(res->cv))
		return;
	res->test = EB_TEST_Z;
	res->p = erfc(fabs(res->cv - res->bv) / se / sqrt(2.0));
}

/* The change from bv to cv and the verdict by the metric's registry direction, the
 * threshold and the test already in res. */
static void eb_decide(const struct eb_cmp_opts *o, struct eb_result *res)
{
	int dir = eb_metric_dir_of(res->metric);
	double thr = eb_threshold(o, res->metric);
	int worse, better, sig = res->test == EB_TEST_NONE || res->p < o->alpha;

	res->thr = thr;
	if (res->bv == res->cv)
		res->change = 0;
	else if (res->bv != 0 && isfinite(res->bv) && isfinite(res->cv))
		res->change = 100.0 * (res->cv - res->bv) / fabs(res->bv);
	else
		res->change = isfinite(res->cv) && isfinite(res->bv)
				      ? (res->cv > res->bv ? INFINITY : -INFINITY)
				      : NAN;
	worse = dir && isfinite(res->change) ? dir * res->change < -thr
					     : dir && isinf(res->change) && dir * res->change < 0;
	better = dir && isfinite(res->change) ? dir * res->change > thr
					      : dir && isinf(res->change) && dir * res->change > 0;
	if (!eb_metric_find(res->metric))
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

/* A summary metric of both cells: the medians, tested on the raw per-request samples
 * where the run stored them. */
static void eb_judge_metric(const struct eb_cmp_opts *o, const struct eb_raw *rb,
			    const struct eb_raw *rc, const struct eb_rmetric *mb,
			    const struct eb_rmetric *mc, struct eb_result *res)
{
	double *x = NULL, *y = NULL;
	size_t nx = eb_raw_of(rb, mb->name, &x), ny = eb_raw_of(rc, mb->name, &y);

	res->metric = mb->name;
	res->bv = eb_center(mb);
	res->cv = eb_center(mc);
	eb_test_mwu(o, x, nx, y, ny, res);
	free(x);
	free(y);
	eb_decide(o, res);
}

/* itl_ms by request: `which` 0 compares each request's median gap, 1 its p90; the figures
 * are the medians over the requests. */
static void eb_judge_itl(const struct eb_cmp_opts *o, const struct eb_raw *rb,
			 const struct eb_raw *rc, int which, struct eb_result *res)
{
	const double *x = which ? rb->itl_p90 : rb->itl_med, *y = which ? rc->itl_p90 : rc->itl_med;

	res->metric = "itl_ms";
	res->per_request = which ? "p90" : "median";
	res->bv = eb_median_of(x, rb->nitl);
	res->cv = eb_median_of(y, rc->nitl);
	eb_test_mwu(o, x, rb->nitl, y, rc->nitl, res);
	eb_decide(o, res);
}

/* An accuracy figure of both cells, tested on their standard errors. */
static void eb_judge_acc(const struct eb_cmp_opts *o, const struct eb_acc *ab,
			 const struct eb_acc *ac, struct eb_result *res)
{
	res->metric = ab->metric;
	res->task = ab->task;
	res->bv = ab->value;
	res->cv = ac->value;
	res->seb = ab->se;
	res->sec = ac->se;
	eb_test_z(res);
	eb_decide(o, res);
}

/*
 * One figure of a repeated cell with the repeat as the unit: x and y hold each ok repeat's
 * figure (its median), the figures are their means (as report --layout repeats shows) and
 * Welch's t-test judges them: 3 repeats against 3 leave Mann-Whitney U (its normal approximation) no p
 * under 0.08.
 */
static void eb_judge_repeats(const struct eb_cmp_opts *o, const double *x, size_t nx,
			     const double *y, size_t ny, struct eb_result *res)
{
	double sx = 0, sy = 0;

	for (size_t i = 0; i < nx; i++)
		sx += x[i];
	for (size_t i = 0; i < ny; i++)
		sy += y[i];
	res->bv = nx ? sx / (double)nx : NAN;
	res->cv = ny ? sy / (double)ny : NAN;
	res->nb = nx;
	res->nc = ny;
	if (nx >= 2 && ny >= 2) {
		res->test = EB_TEST_WELCH;
		res->p = eb_stats_welch(x, nx, y, ny, NULL, NULL);
	}
	eb_decide(o, res);
}

/* ---- writers --------------------------------------------------------------------- */

/* What the writers share: both sides, the results and the cells only one side has. */
struct eb_cmp_out {
	const struct eb_side *B, *C;
	const struct eb_cmp_opts *o;
	const struct eb_result *res;
	size_t nres;
	const struct eb_rcell *const *missing, *const *added;
	size_t nmiss, nadd;
	const struct eb_cmp_counts *k;
	int configs_differ, devices_differ;
	size_t nrep;      /* matched cells compared with the repeat as the unit */
	size_t nfallback; /* repeated cells compared request by request: see eb_compare */
};

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
	if (r->test == EB_TEST_NONE)
		snprintf(buf, n, "threshold only");
	else if (r->p < 1e-4)
		snprintf(buf, n, "%.1e", r->p);
	else
		snprintf(buf, n, "%.4f", r->p);
}

/* A figure, "± stderr" after it when the test used one. */
static void eb_fmt_value(char *buf, size_t n, double v, double se, const struct eb_result *r)
{
	char a[64], b[64];

	eb_fmt_num(a, sizeof(a), v);
	if (r->test != EB_TEST_Z) {
		snprintf(buf, n, "%s", a[0] ? a : "-");
		return;
	}
	eb_fmt_num(b, sizeof(b), se);
	snprintf(buf, n, "%s ± %s", a[0] ? a : "-", b);
}

/* The name a result goes by: "cell status", the metric, or "itl_ms per-request p90". */
static void eb_result_name(char *buf, size_t n, const struct eb_result *r)
{
	if (!r->metric)
		snprintf(buf, n, "cell status");
	else if (r->per_request)
		snprintf(buf, n, "%s per-request %s", r->metric, r->per_request);
	else
		snprintf(buf, n, "%s", r->metric);
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

static void eb_md_devices(FILE *out, const struct eb_side *sd)
{
	for (size_t i = 0; i < sd->ndev; i++) {
		fputs(i ? ", '" : "'", out);
		eb_md(out, sd->devices[i]);
		fputc('\'', out);
	}
	if (!sd->ndev)
		fputs("none", out);
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
	fprintf(out, "; device%s ", sd->ndev == 1 ? "" : "s");
	eb_md_devices(out, sd);
	fputc('\n', out);
}

/* One section: a row per result whose verdict falls in it, as many as its count says. */
static void eb_md_results(FILE *out, const struct eb_cmp_out *w, const char *title,
			  enum eb_verdict v, size_t cnt)
{
	fprintf(out, "\n## %s (%zu)\n", title, cnt);
	if (!cnt)
		return;
	fputs("\n| cell | metric | baseline | candidate | change | threshold | p | n |\n"
	      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
	      out);
	for (size_t i = 0; i < w->nres; i++) {
		const struct eb_result *r = &w->res[i];
		char b[96], c[96], ch[64], p[64], name[128];

		if (eb_section_of(r->v) != v)
			continue;
		fputs("| ", out);
		eb_md(out, r->key);
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
		eb_fmt_value(b, sizeof(b), r->bv, r->seb, r);
		eb_fmt_value(c, sizeof(c), r->cv, r->sec, r);
		eb_fmt_change(ch, sizeof(ch), r->change);
		eb_fmt_p(p, sizeof(p), r);
		eb_result_name(name, sizeof(name), r);
		eb_md(out, name);
		fputs(r->v == EB_V_NODIR	  ? " (no direction)"
		      : r->v == EB_V_UNKNOWN ? " (unknown metric, not judged)"
					     : "",
		      out);
		fprintf(out, " | %s | %s | %s | %g%% | %s | ", b, c, ch, r->thr, p);
		if (r->test == EB_TEST_MWU)
			fprintf(out, "%zu/%zu |\n", r->nb, r->nc);
		else if (r->test == EB_TEST_WELCH)
			fprintf(out, "%zu/%zu repeats |\n", r->nb, r->nc);
		else
			fputs("- |\n", out);
	}
}

static void eb_md_cells(FILE *out, const char *title,
			const struct eb_rcell *const *cells, size_t n)
{
	fprintf(out, "\n## %s\n", title);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? "- " : "\n- ", out);
		eb_md(out, cells[i]->key);
		fputc('\n', out);
	}
}

static void eb_write_md(FILE *out, const struct eb_cmp_out *w)
{
	const struct eb_cmp_opts *o = w->o;
	const struct eb_cmp_counts *k = w->k;
	char title[160];

	fputs("# edgebench compare\n\n", out);
	eb_md_side(out, "baseline", w->B);
	eb_md_side(out, "candidate", w->C);
	if (w->configs_differ) {
		fputs("- **the configs differ**: config sha256 ", out);
		eb_md(out, w->B->sha ? w->B->sha : "?");
		fputs(" against ", out);
		eb_md(out, w->C->sha ? w->C->sha : "?");
		fputs("; only cells of the same device and key are compared\n", out);
	}
	if (w->devices_differ) {
		fputs("- **the devices differ**: baseline on ", out);
		eb_md_devices(out, w->B);
		fputs(", candidate on ", out);
		eb_md_devices(out, w->C);
		fputs("; only cells of the same device and key are compared\n", out);
	}
	fprintf(out, "- matched: %zu cell%s by device and key\n", k->matched,
		k->matched == 1 ? "" : "s");
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
		     "itl\\_ms by request (each request's median and p90 gap one sample); "
		     "accuracy figures by z = difference / sqrt(stderr\\_b^2 + stderr\\_c^2), "
		     "two-sided; figures without either use the threshold alone\n",
		o->alpha);
	if (w->nrep)
		fprintf(out, "- unit: repeat for %zu matched cell%s (each repeat's median one sample, "
			     "the figures the means over the ok repeats, Welch's two-sided t-test; n "
			     "shows the repeats per side)\n",
			w->nrep, w->nrep == 1 ? "" : "s");
	if (w->nfallback)
		fprintf(out, "- unit: request for %zu repeated cell%s (repeats on one side only, or "
			     "fewer than 2 ok repeats per side): compared repeat by repeat on the "
			     "per-request samples\n",
			w->nfallback, w->nfallback == 1 ? "" : "s");
	fprintf(out, "- a regression needs both: a change past the threshold in the worse "
		     "direction and p < %g\n",
		o->alpha);
	{
		size_t weak = 0, nb = 0, nc = 0;

		for (size_t i = 0; i < w->nres; i++)
			if (w->res[i].underpowered) {
				weak++;
				nb = w->res[i].nb;
				nc = w->res[i].nc;
			}
		if (weak)
			fprintf(out, "- note: %zu metric%s had too few samples (e.g. %zu against %zu) "
				     "for any change to reach p < %g: measure more repetitions per "
				     "cell (4 or more against 4 or more at alpha 0.05)\n",
				weak, weak == 1 ? "" : "s", nb, nc, o->alpha);
	}
	if (k->regressions && k->missing && !o->allow_missing)
		fprintf(out, "\n**Verdict: %zu regression%s, %zu missing cell%s**\n", k->regressions,
			k->regressions == 1 ? "" : "s", k->missing, k->missing == 1 ? "" : "s");
	else if (k->regressions)
		fprintf(out, "\n**Verdict: %zu regression%s**\n", k->regressions,
			k->regressions == 1 ? "" : "s");
	else if (k->missing && !o->allow_missing)
		fprintf(out, "\n**Verdict: %zu missing cell%s**\n", k->missing,
			k->missing == 1 ? "" : "s");
	else
		fputs("\n**Verdict: no regression**\n", out);
	eb_md_results(out, w, "Regressions", EB_V_REGRESSION, k->regressions);
	eb_md_results(out, w, "Improvements", EB_V_IMPROVEMENT, k->improvements);
	eb_md_results(out, w, "Past the threshold but not significant", EB_V_NOISE,
		      k->not_significant);
	eb_md_results(out, w, "Unchanged", EB_V_UNCHANGED, k->unchanged);
	snprintf(title, sizeof(title), "Missing cells (%zu): in the baseline, not in the candidate%s",
		 w->nmiss, !w->nmiss ? "" : o->allow_missing ? " (allowed)" : " (failures)");
	eb_md_cells(out, title, w->missing, w->nmiss);
	snprintf(title, sizeof(title), "New cells (%zu): in the candidate, not in the baseline",
		 w->nadd);
	eb_md_cells(out, title, w->added, w->nadd);
	fprintf(out, "\nregressions %zu, improvements %zu, not significant %zu, unchanged %zu, "
		     "missing %zu, new %zu\n",
		k->regressions, k->improvements, k->not_significant, k->unchanged, k->missing,
		k->added);
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
	json_t *o = json_object(), *dev = json_array();

	json_object_set_new(o, "database", eb_jstr(eb_store_path(sd->side->s)));
	json_object_set_new(o, "run", json_integer(sd->side->run_id));
	json_object_set_new(o, "uuid", eb_jstr(sd->uuid));
	json_object_set_new(o, "name", eb_jstr(sd->name));
	json_object_set_new(o, "config_sha256", eb_jstr(sd->sha));
	for (size_t i = 0; i < sd->ndev; i++)
		json_array_append_new(dev, eb_jstr(sd->devices[i]));
	json_object_set_new(o, "devices", dev);
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
	const struct eb_rcell *cell = r->c ? r->c : r->b;
	json_t *e = json_object();

	json_object_set_new(e, "key", eb_jstr(r->key));
	json_object_set_new(e, "device", eb_jstr(cell->device));
	json_object_set_new(e, "metric", eb_jstr(r->metric ? r->metric : "cell status"));
	json_object_set_new(e, "verdict", json_string(eb_verdict_names[r->v]));
	if (r->metric) {
		if (r->per_request)
			json_object_set_new(e, "per_request", json_string(r->per_request));
		if (r->task)
			json_object_set_new(e, "task", json_string(r->task));
		json_object_set_new(e, "direction", json_integer(eb_metric_dir_of(r->metric)));
		json_object_set_new(e, "baseline", eb_jnum(r->bv));
		json_object_set_new(e, "candidate", eb_jnum(r->cv));
		if (r->test == EB_TEST_Z) {
			json_object_set_new(e, "stderr_baseline", eb_jnum(r->seb));
			json_object_set_new(e, "stderr_candidate", eb_jnum(r->sec));
		}
		json_object_set_new(e, "change_pct", eb_jnum(r->change));
		json_object_set_new(e, "threshold_pct", json_real(r->thr));
		json_object_set_new(e, "test", json_string(eb_test_names[r->test]));
		json_object_set_new(e, "p", r->test != EB_TEST_NONE ? eb_jnum(r->p) : json_null());
		json_object_set_new(e, "n_baseline", json_integer((json_int_t)r->nb));
		json_object_set_new(e, "n_candidate", json_integer((json_int_t)r->nc));
		if (r->underpowered)
			json_object_set_new(e, "underpowered", json_true());
		if (r->test == EB_TEST_WELCH)
			json_object_set_new(e, "unit", json_string("repeat"));
	} else {
		json_object_set_new(e, "baseline_status", eb_jstr(r->b->status));
		json_object_set_new(e, "candidate_status", eb_jstr(r->c->status));
		json_object_set_new(e, "candidate_error", eb_jstr(r->c->error));
	}
	return e;
}

/* The json report, streamed: one result in memory at a time. */
static void eb_write_json(FILE *out, const struct eb_cmp_out *w)
{
	const struct eb_cmp_opts *o = w->o;
	const struct eb_cmp_counts *k = w->k;
	json_t *test = json_object(), *thr = json_object(), *jm = json_array(), *jn = json_array();
	json_t *sum = json_object();
	int first = 1;

	fputc('{', out);
	eb_json_kv(out, "baseline", eb_json_side(w->B), &first);
	eb_json_kv(out, "candidate", eb_json_side(w->C), &first);
	eb_json_kv(out, "configs_differ", json_boolean(w->configs_differ), &first);
	eb_json_kv(out, "devices_differ", json_boolean(w->devices_differ), &first);
	eb_json_kv(out, "statistic", json_string("median"), &first);
	json_object_set_new(test, "name", json_string("mann-whitney-u"));
	json_object_set_new(test, "sides", json_string("two-sided"));
	json_object_set_new(test, "method",
			    json_string("normal approximation, tie-corrected, continuity-corrected"));
	json_object_set_new(test, "alpha", json_real(o->alpha));
	json_object_set_new(test, "samples", json_string("measured requests: ttft_ms, e2e_ms, "
							 "prefill_tps, decode_tps, tpot_ms; "
							 "itl_ms: each request's median and p90 "
							 "gap"));
	json_object_set_new(test, "accuracy", json_string("z = difference / sqrt(stderr_b^2 + "
							  "stderr_c^2), two-sided"));
	if (w->nrep || w->nfallback) {
		json_object_set_new(test, "repeats",
				    json_string("each ok repeat's median one sample, the figures "
						"their means, Welch's two-sided t-test"));
		json_object_set_new(test, "cells_by_repeat", json_integer((json_int_t)w->nrep));
		json_object_set_new(test, "repeated_cells_by_request",
				    json_integer((json_int_t)w->nfallback));
	}
	eb_json_kv(out, "test", test, &first);
	eb_json_kv(out, "threshold_pct", json_real(o->threshold_pct), &first);
	for (size_t i = 0; i < o->n_per_metric; i++)
		json_object_set_new(thr, o->per_metric[i].name, json_real(o->per_metric[i].pct));
	eb_json_kv(out, "metric_threshold_pct", thr, &first);
	eb_json_kv(out, "allow_missing", json_boolean(o->allow_missing), &first);
	fputs(",\n  \"results\": [", out);
	for (size_t i = 0; i < w->nres; i++) {
		json_t *e = eb_json_result(&w->res[i]);

		fputs(i ? ",\n    " : "\n    ", out);
		eb_json_dump_at(out, e, 4, 10);
		json_decref(e);
	}
	fputs(w->nres ? "\n  ]" : "]", out);
	for (size_t i = 0; i < w->nmiss; i++)
		json_array_append_new(jm, eb_jstr(w->missing[i]->key));
	for (size_t i = 0; i < w->nadd; i++)
		json_array_append_new(jn, eb_jstr(w->added[i]->key));
	eb_json_kv(out, "missing", jm, &first);
	eb_json_kv(out, "new", jn, &first);
	json_object_set_new(sum, "matched", json_integer((json_int_t)k->matched));
	json_object_set_new(sum, "regressions", json_integer((json_int_t)k->regressions));
	json_object_set_new(sum, "improvements", json_integer((json_int_t)k->improvements));
	json_object_set_new(sum, "not_significant", json_integer((json_int_t)k->not_significant));
	json_object_set_new(sum, "unchanged", json_integer((json_int_t)k->unchanged));
	json_object_set_new(sum, "missing", json_integer((json_int_t)k->missing));
	json_object_set_new(sum, "new", json_integer((json_int_t)k->added));
	json_object_set_new(sum, "failures", json_integer((json_int_t)k->failures));
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

static void eb_junit_head(struct eb_buf *b, size_t tests, size_t failures, size_t errors,
			  size_t skipped)
{
	eb_buf_addstr(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	eb_buf_addf(b, "<testsuites name=\"edgebench compare\" tests=\"%zu\" failures=\"%zu\" "
		       "errors=\"%zu\" skipped=\"%zu\">\n",
		    tests, failures, errors, skipped);
	eb_buf_addf(b, "  <testsuite name=\"edgebench.compare\" tests=\"%zu\" failures=\"%zu\" "
		       "errors=\"%zu\" skipped=\"%zu\">\n",
		    tests, failures, errors, skipped);
}

static int eb_write_junit(const char *path, const struct eb_cmp_out *w, struct eb_err *err)
{
	const struct eb_side *B = w->B, *C = w->C;
	const struct eb_cmp_counts *k = w->k;
	int allow = w->o->allow_missing;
	struct eb_buf b;
	size_t tests = w->nres + w->nmiss + w->nadd;
	char desc[256];
	int ret;

	eb_buf_init(&b, 0);
	eb_junit_head(&b, tests, k->failures, 0, allow ? w->nmiss : 0);
	eb_buf_addstr(&b, "    <properties>\n");
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
			"      <property name=\"threshold_pct\" value=\"%g\"/>\n",
		    w->o->alpha, w->o->threshold_pct);
	if (w->nrep)
		eb_buf_addf(&b, "      <property name=\"unit\" value=\"repeat for %zu matched cell%s, "
				"Welch's two-sided t-test\"/>\n",
			    w->nrep, w->nrep == 1 ? "" : "s");
	if (w->nfallback)
		eb_buf_addf(&b, "      <property name=\"repeat_fallback\" value=\"%zu repeated "
				"cell%s compared request by request\"/>\n",
			    w->nfallback, w->nfallback == 1 ? "" : "s");
	if (w->configs_differ)
		eb_buf_addstr(&b, "      <property name=\"configs_differ\" value=\"true\"/>\n");
	if (w->devices_differ)
		eb_buf_addstr(&b, "      <property name=\"devices_differ\" value=\"true\"/>\n");
	eb_buf_addstr(&b, "    </properties>\n");
	for (size_t i = 0; i < w->nres; i++) {
		const struct eb_result *r = &w->res[i];
		char ch[64], p[64], bv[96], cv[96], name[128];

		eb_result_name(name, sizeof(name), r);
		eb_buf_addstr(&b, "    <testcase classname=\"");
		eb_xml(&b, r->key);
		eb_buf_addstr(&b, "\" name=\"");
		eb_xml(&b, name);
		if (r->v != EB_V_REGRESSION) {
			eb_buf_addstr(&b, "\"/>\n");
			continue;
		}
		eb_buf_addstr(&b, "\">\n      <failure type=\"regression\" message=\"");
		if (r->metric) {
			eb_fmt_change(ch, sizeof(ch), r->change);
			eb_fmt_p(p, sizeof(p), r);
			eb_fmt_value(bv, sizeof(bv), r->bv, r->seb, r);
			eb_fmt_value(cv, sizeof(cv), r->cv, r->sec, r);
			eb_xml(&b, name);
			eb_buf_addf(&b, " %s (threshold %g%%, p %s)\">", ch, r->thr, p);
			eb_xml(&b, name);
			eb_buf_addstr(&b, ": baseline ");
			eb_xml(&b, bv);
			eb_buf_addstr(&b, ", candidate ");
			eb_xml(&b, cv);
			eb_buf_addf(&b, ", change %s, threshold %g%%, p %s", ch, r->thr, p);
			if (r->test == EB_TEST_MWU)
				eb_buf_addf(&b, " (n %zu/%zu)", r->nb, r->nc);
			else if (r->test == EB_TEST_WELCH)
				eb_buf_addf(&b, " (unit repeat, n %zu/%zu repeats)", r->nb, r->nc);
		} else {
			eb_buf_addstr(&b, "cell ");
			eb_xml(&b, r->c->status);
			eb_buf_addstr(&b, "\">");
			eb_xml(&b, r->c->error ? r->c->error : r->c->status);
		}
		eb_buf_addstr(&b, "</failure>\n    </testcase>\n");
	}
	for (size_t i = 0; i < w->nmiss; i++) {
		eb_buf_addstr(&b, "    <testcase classname=\"");
		eb_xml(&b, w->missing[i]->key);
		eb_buf_addstr(&b, allow ? "\" name=\"cell\">\n      <skipped message=\"missing in the "
					  "candidate (allowed)\"/>\n    </testcase>\n"
					: "\" name=\"cell\">\n      <failure type=\"missing\" "
					  "message=\"in the baseline, not in the candidate\">the "
					  "candidate run has no cell of this device and key "
					  "(--allow-missing accepts that)</failure>\n    </testcase>\n");
	}
	for (size_t i = 0; i < w->nadd; i++) {
		eb_buf_addstr(&b, "    <testcase classname=\"");
		eb_xml(&b, w->added[i]->key);
		eb_buf_addstr(&b, "\" name=\"cell (new)\"/>\n");
	}
	eb_buf_addstr(&b, "  </testsuite>\n</testsuites>\n");
	ret = eb_write_file(path, b.buf, b.len, err);
	eb_buf_release(&b);
	return ret;
}

/* JUnit XML for a comparison that compared nothing: one testcase in error, saying why. */
static int eb_write_junit_error(const char *path, const char *why, struct eb_err *err)
{
	struct eb_buf b;
	int ret;

	eb_buf_init(&b, 0);
	eb_junit_head(&b, 1, 0, 1, 0);
	eb_buf_addstr(&b, "    <testcase classname=\"edgebench.compare\" name=\"matched cells\">\n"
			  "      <error type=\"nothing compared\" message=\"");
	eb_xml(&b, why);
	eb_buf_addstr(&b, "\"/>\n    </testcase>\n  </testsuite>\n</testsuites>\n");
	ret = eb_write_file(path, b.buf, b.len, err);
	eb_buf_release(&b);
	return ret;
}

/* ---- the comparison -------------------------------------------------------------- */

/* Appends a result for the pair to *res (grown as needed) and returns it, zeroed. */
static struct eb_result *eb_result_add(struct eb_result **res, size_t *n, size_t *alloc,
				       const struct eb_rcell *b, const struct eb_rcell *c)
{
	struct eb_result *r;

	if (*n == *alloc) {
		*alloc = *alloc ? 2 * *alloc : 64;
		*res = eb_xrealloc(*res, *alloc * sizeof(**res));
	}
	r = &(*res)[(*n)++];
	memset(r, 0, sizeof(*r));
	r->b = b;
	r->c = c;
	r->key = (c ? c : b)->key;
	r->p = NAN;
	r->seb = r->sec = NAN;
	return r;
}

/* Whether the two sides have a key in common once devices are set aside. */
static int eb_keys_meet(const struct eb_side *B, const struct eb_side *C)
{
	const struct eb_rcell **kb = eb_xcalloc(B->nsel + 1, sizeof(*kb));
	int meet = 0;

	memcpy(kb, B->sel, B->nsel * sizeof(*kb));
	qsort(kb, B->nsel, sizeof(*kb), eb_by_key);
	for (size_t j = 0; j < C->nsel && !meet; j++)
		meet = bsearch(&C->sel[j], kb, B->nsel, sizeof(*kb), eb_by_key) != NULL;
	free(kb);
	return meet;
}

/* Says in err why nothing was compared, naming what the two sides do not share. */
static int eb_nothing_compared(const struct eb_side *B, const struct eb_side *C,
			       const struct eb_cmp_opts *o, size_t matched, struct eb_err *err)
{
	const struct eb_side *empty = !B->nsel ? B : !C->nsel ? C : NULL;
	char pats[256] = "";

	for (size_t i = 0; o->metric_pats && o->metric_pats[i]; i++) {
		size_t len = strlen(pats);

		snprintf(pats + len, sizeof(pats) - len, "%s'%s'", i ? ", " : "", o->metric_pats[i]);
	}
	if (empty)
		return eb_err_set(err, EB_ENOENT, "nothing compared: the %s, run %lld in '%s', has "
						  "no cells%s",
				  empty == B ? "baseline" : "candidate", (long long)empty->side->run_id,
				  eb_store_path(empty->side->s),
				  empty->side->device_pats ? " on the device asked for" : "");
	if (!matched && B->ndev && C->ndev && eb_keys_meet(B, C))
		return eb_err_set(err, EB_ENOENT, "nothing compared: the devices differ (baseline "
						  "on '%s'%s, candidate on '%s'%s): cells are matched "
						  "by device and key",
				  B->devices[0], B->ndev > 1 ? " and others" : "", C->devices[0],
				  C->ndev > 1 ? " and others" : "");
	if (!matched)
		return eb_err_set(err, EB_ENOENT, "nothing compared: no cell key in common (%s): "
						  "the baseline has %zu cells, the candidate %zu",
				  B->sha && C->sha && strcmp(B->sha, C->sha) != 0
					  ? "the configs differ"
					  : "the cells differ",
				  B->nsel, C->nsel);
	if (pats[0])
		return eb_err_set(err, EB_ENOENT, "nothing compared: --metric %s matched no metric "
						  "of the %zu matched cell%s",
				  pats, matched, matched == 1 ? "" : "s");
	return eb_err_set(err, EB_ENOENT, "nothing compared: the %zu matched cell%s have no "
					  "metric in common",
			  matched, matched == 1 ? "" : "s");
}

/* The results of one matched pair of cells: their status, every metric both have. */
static void eb_compare_pair(const struct eb_cmp_opts *o, const struct eb_side *B,
			    const struct eb_side *C, const struct eb_rcell *bc,
			    const struct eb_rcell *cc, struct eb_result **res, size_t *nres,
			    size_t *ares)
{
	const struct eb_raw *rb = &B->raw[bc - B->d.cells], *rc = &C->raw[cc - C->d.cells];
	int bok = strcmp(bc->status, "ok") == 0, cok = strcmp(cc->status, "ok") == 0;

	/* a cell that stopped (or started) passing; one that failed on both sides is shown */
	if (!bok || !cok) {
		struct eb_result *r = eb_result_add(res, nres, ares, bc, cc);

		r->v = bok ? EB_V_REGRESSION : cok ? EB_V_IMPROVEMENT : EB_V_UNCHANGED;
	}
	for (size_t q = 0; q < bc->nm; q++) {
		const struct eb_rmetric *mb = &bc->m[q], *mc = eb_rcell_metric(cc, mb->name);

		if (!mc || !eb_pat_match(o->metric_pats, mb->name))
			continue;
		/* itl_ms by request where the token times are stored, else as a summary */
		if (strcmp(mb->name, "itl_ms") == 0 && rb->nitl && rc->nitl) {
			eb_judge_itl(o, rb, rc, 0, eb_result_add(res, nres, ares, bc, cc));
			eb_judge_itl(o, rb, rc, 1, eb_result_add(res, nres, ares, bc, cc));
			continue;
		}
		eb_judge_metric(o, rb, rc, mb, mc, eb_result_add(res, nres, ares, bc, cc));
	}
	for (size_t a = 0; a < rb->nacc; a++) {
		const struct eb_acc *ab = &rb->acc[a], *ac = NULL;

		if (!eb_pat_match(o->metric_pats, ab->metric))
			continue;
		for (size_t q = 0; q < rc->nacc && !ac; q++)
			if (strcmp(rc->acc[q].task, ab->task) == 0 &&
			    strcmp(rc->acc[q].metric, ab->metric) == 0)
				ac = &rc->acc[q];
		if (ac)
			eb_judge_acc(o, ab, ac, eb_result_add(res, nres, ares, bc, cc));
	}
}

/*
 * A cell as compare matches it: a cell that is not repeated, or every repeat of one
 * (keys "BASE#1".."BASE#N"), by (device, base key); the mode is part of the key.
 */
struct eb_unit {
	const struct eb_rcell **c; /* the cells, by repeat */
	size_t n;
	char *base; /* the key without "#N" */
	int repeated;
};

/* The key without the "#N" a repeat carries. */
static char *eb_base_key(const struct eb_rcell *c)
{
	const char *h = strrchr(c->key, '#');
	size_t n = h ? (size_t)(h - c->key) : 0;
	char *base;

	if (c->repeat <= 0 || !h || !h[1] || strspn(h + 1, "0123456789") != strlen(h + 1))
		return eb_xstrdup(c->key);
	base = eb_xmalloc(n + 1);
	memcpy(base, c->key, n);
	base[n] = '\0';
	return base;
}

static int eb_unit_cmp(const struct eb_unit *x, const struct eb_unit *y)
{
	int c = strcmp(x->c[0]->device, y->c[0]->device);

	return c ? c : strcmp(x->base, y->base);
}

/* Units of one cell each, ordered by (device, base key), cells that are not repeated
 * first, then by repeat: a repeated cell's repeats come together. */
static int eb_by_unit_repeat(const void *a, const void *b)
{
	const struct eb_unit *x = a, *y = b;
	int c = eb_unit_cmp(x, y);

	if (c)
		return c;
	if (x->repeated != y->repeated)
		return x->repeated - y->repeated;
	return (x->c[0]->repeat > y->c[0]->repeat) - (x->c[0]->repeat < y->c[0]->repeat);
}

/* The side's selected cells as units, sorted by (device, base key); *n gets their number. */
static struct eb_unit *eb_side_units(const struct eb_side *sd, size_t *n)
{
	struct eb_unit *one = eb_xcalloc(sd->nsel + 1, sizeof(*one));
	struct eb_unit *u = eb_xcalloc(sd->nsel + 1, sizeof(*u));
	size_t k = 0;

	for (size_t i = 0; i < sd->nsel; i++) {
		one[i].c = &sd->sel[i];
		one[i].n = 1;
		one[i].base = eb_base_key(sd->sel[i]);
		one[i].repeated = sd->sel[i]->repeat > 0;
	}
	qsort(one, sd->nsel, sizeof(*one), eb_by_unit_repeat);
	for (size_t i = 0; i < sd->nsel; i++) {
		if (k && one[i].repeated && u[k - 1].repeated && eb_unit_cmp(&u[k - 1], &one[i]) == 0) {
			u[k - 1].c = eb_xrealloc(u[k - 1].c, (u[k - 1].n + 1) * sizeof(*u[k - 1].c));
			u[k - 1].c[u[k - 1].n++] = one[i].c[0];
			free(one[i].base);
			continue;
		}
		u[k] = one[i];
		u[k].c = eb_xmalloc(sizeof(*u[k].c));
		u[k].c[0] = one[i].c[0];
		k++;
	}
	free(one);
	*n = k;
	return u;
}

static void eb_units_free(struct eb_unit *u, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(u[i].c);
		free(u[i].base);
	}
	free(u);
}

static size_t eb_unit_ok(const struct eb_unit *u)
{
	size_t n = 0;

	for (size_t i = 0; i < u->n; i++)
		n += strcmp(u->c[i]->status, "ok") == 0;
	return n;
}

/* What a join appends to: results, the cells one side lacks, the counts. */
struct eb_join {
	struct eb_result *res;
	size_t nres, ares;
	const struct eb_rcell **missing, **added;
	size_t nmiss, nadd;
};

/*
 * The cells of two matched units joined by key. Per request (`by_repeat` 0) each pair is
 * compared as before; by repeat only a repeat that is not ok on a side gives a result here.
 */
static void eb_join_keys(const struct eb_cmp_opts *o, const struct eb_side *B,
			 const struct eb_side *C, const struct eb_unit *bu, const struct eb_unit *cu,
			 int by_repeat, struct eb_join *j, struct eb_cmp_counts *k)
{
	const struct eb_rcell **x = eb_xcalloc(bu->n + 1, sizeof(*x));
	const struct eb_rcell **y = eb_xcalloc(cu->n + 1, sizeof(*y));
	size_t a = 0, b = 0;

	memcpy(x, bu->c, bu->n * sizeof(*x));
	memcpy(y, cu->c, cu->n * sizeof(*y));
	qsort(x, bu->n, sizeof(*x), eb_by_key);
	qsort(y, cu->n, sizeof(*y), eb_by_key);
	while (a < bu->n || b < cu->n) {
		int cmp = a == bu->n ? 1 : b == cu->n ? -1 : strcmp(x[a]->key, y[b]->key);

		if (cmp < 0) {
			j->missing[j->nmiss++] = x[a++];
		} else if (cmp > 0) {
			j->added[j->nadd++] = y[b++];
		} else if (by_repeat) {
			int bok = strcmp(x[a]->status, "ok") == 0, cok = strcmp(y[b]->status, "ok") == 0;

			/* as eb_compare_pair: failed on both sides is shown, under Unchanged */
			if (!bok || !cok)
				eb_result_add(&j->res, &j->nres, &j->ares, x[a], y[b])->v =
					bok ? EB_V_REGRESSION : cok ? EB_V_IMPROVEMENT : EB_V_UNCHANGED;
			a++;
			b++;
		} else {
			k->matched++;
			eb_compare_pair(o, B, C, x[a++], y[b++], &j->res, &j->nres, &j->ares);
		}
	}
	free(x);
	free(y);
}

/* Each ok repeat's figure of a metric (its median, else its mean) into x; how many. */
static size_t eb_unit_figs(const struct eb_unit *u, const char *metric, double *x)
{
	size_t n = 0;

	for (size_t i = 0; i < u->n; i++) {
		const struct eb_rmetric *m = eb_rcell_metric(u->c[i], metric);
		double v = m ? eb_center(m) : NAN;

		if (strcmp(u->c[i]->status, "ok") == 0 && isfinite(v))
			x[n++] = v;
	}
	return n;
}

/* Each ok repeat's value of an accuracy figure into x; how many. */
static size_t eb_unit_acc(const struct eb_side *sd, const struct eb_unit *u, const char *task,
			  const char *metric, double *x)
{
	size_t n = 0;

	for (size_t i = 0; i < u->n; i++) {
		const struct eb_raw *r = &sd->raw[u->c[i] - sd->d.cells];

		if (strcmp(u->c[i]->status, "ok") != 0)
			continue;
		for (size_t a = 0; a < r->nacc; a++)
			if (strcmp(r->acc[a].task, task) == 0 && strcmp(r->acc[a].metric, metric) == 0 &&
			    isfinite(r->acc[a].value)) {
				x[n++] = r->acc[a].value;
				break;
			}
	}
	return n;
}

/* Two repeated cells with the repeat as the unit: every metric and accuracy figure of the
 * baseline's first ok repeat that both sides have. */
static void eb_compare_repeats(const struct eb_cmp_opts *o, const struct eb_side *B,
			       const struct eb_side *C, const struct eb_unit *bu,
			       const struct eb_unit *cu, struct eb_join *j)
{
	const struct eb_rcell *first = NULL, *cfirst = NULL;
	double *x = eb_xcalloc(bu->n + 1, sizeof(double)), *y = eb_xcalloc(cu->n + 1, sizeof(double));

	for (size_t i = 0; i < bu->n && !first; i++)
		if (strcmp(bu->c[i]->status, "ok") == 0)
			first = bu->c[i];
	for (size_t i = 0; i < cu->n && !cfirst; i++)
		if (strcmp(cu->c[i]->status, "ok") == 0)
			cfirst = cu->c[i];
	for (size_t q = 0; q < first->nm; q++) {
		const char *name = first->m[q].name;
		size_t nx, ny;
		struct eb_result *r;

		if (!eb_pat_match(o->metric_pats, name))
			continue;
		nx = eb_unit_figs(bu, name, x);
		ny = eb_unit_figs(cu, name, y);
		if (!ny)
			continue;
		r = eb_result_add(&j->res, &j->nres, &j->ares, first, cfirst);
		r->key = bu->base;
		r->metric = name;
		eb_judge_repeats(o, x, nx, y, ny, r);
	}
	{
		const struct eb_raw *rf = &B->raw[first - B->d.cells];

		for (size_t a = 0; a < rf->nacc; a++) {
			const struct eb_acc *ab = &rf->acc[a];
			size_t nx, ny;
			struct eb_result *r;

			if (!eb_pat_match(o->metric_pats, ab->metric))
				continue;
			nx = eb_unit_acc(B, bu, ab->task, ab->metric, x);
			ny = eb_unit_acc(C, cu, ab->task, ab->metric, y);
			if (!ny)
				continue;
			r = eb_result_add(&j->res, &j->nres, &j->ares, first, cfirst);
			r->key = bu->base;
			r->metric = ab->metric;
			r->task = ab->task;
			eb_judge_repeats(o, x, nx, y, ny, r);
		}
	}
	free(x);
	free(y);
}

int eb_compare(const struct eb_cmp_side *base, const struct eb_cmp_side *cand,
	       const struct eb_cmp_opts *o, FILE *out, struct eb_cmp_counts *k, struct eb_err *err)
{
	struct eb_side B, C;
	struct eb_result *res = NULL;
	const struct eb_rcell **missing = NULL, **added = NULL;
	size_t nres = 0, nmiss = 0, nadd = 0, i = 0, j = 0, judged = 0, nbu = 0, ncu = 0;
	size_t nrep = 0, nfallback = 0;
	struct eb_unit *bu = NULL, *cu = NULL;
	struct eb_join jn = { 0 };
	struct eb_cmp_out w;
	int ret;

	memset(k, 0, sizeof(*k));
	ret = eb_side_load(&B, base, eb_pat_match(o->metric_pats, "itl_ms"), err);
	if (ret) {
		eb_side_release(&B);
		return ret;
	}
	ret = eb_side_load(&C, cand, eb_pat_match(o->metric_pats, "itl_ms"), err);
	if (ret) {
		eb_side_release(&B);
		eb_side_release(&C);
		return ret;
	}
	jn.missing = eb_xcalloc(B.nsel + 1, sizeof(*jn.missing));
	jn.added = eb_xcalloc(C.nsel + 1, sizeof(*jn.added));
	bu = eb_side_units(&B, &nbu);
	cu = eb_side_units(&C, &ncu);
	/*
	 * merge-join on (device, base key): two repeated cells with 2 ok repeats or more on
	 * each side are compared with the repeat as the unit, so a verdict weighs run-to-run
	 * variation; anything else, repeat by repeat (same key) on the per-request samples
	 */
	while (i < nbu || j < ncu) {
		int cmp = i == nbu ? 1 : j == ncu ? -1 : eb_unit_cmp(&bu[i], &cu[j]);

		if (cmp < 0) {
			for (size_t q = 0; q < bu[i].n; q++)
				jn.missing[jn.nmiss++] = bu[i].c[q];
			i++;
		} else if (cmp > 0) {
			for (size_t q = 0; q < cu[j].n; q++)
				jn.added[jn.nadd++] = cu[j].c[q];
			j++;
		} else if (bu[i].repeated && cu[j].repeated && eb_unit_ok(&bu[i]) >= 2 &&
			   eb_unit_ok(&cu[j]) >= 2) {
			k->matched++;
			nrep++;
			eb_join_keys(o, &B, &C, &bu[i], &cu[j], 1, &jn, k);
			eb_compare_repeats(o, &B, &C, &bu[i], &cu[j], &jn);
			i++;
			j++;
		} else {
			nfallback += bu[i].repeated || cu[j].repeated;
			eb_join_keys(o, &B, &C, &bu[i], &cu[j], 0, &jn, k);
			i++;
			j++;
		}
	}
	res = jn.res;
	nres = jn.nres;
	missing = jn.missing;
	added = jn.added;
	nmiss = jn.nmiss;
	nadd = jn.nadd;
	for (size_t q = 0; q < nres; q++) {
		switch (eb_section_of(res[q].v)) {
		case EB_V_REGRESSION:
			k->regressions++;
			break;
		case EB_V_IMPROVEMENT:
			k->improvements++;
			break;
		case EB_V_NOISE:
			k->not_significant++;
			break;
		default:
			k->unchanged++;
		}
		/* a figure compared, or a cell that changed status */
		judged += res[q].metric || res[q].v != EB_V_UNCHANGED;
	}
	k->missing = nmiss;
	k->added = nadd;
	k->failures = k->regressions + (o->allow_missing ? 0 : nmiss);
	if (!judged) {
		ret = eb_nothing_compared(&B, &C, o, k->matched, err);
		if (o->junit) {
			struct eb_err jerr;

			/* the reason stays the error; a JUnit file that cannot be written is added */
			if (eb_write_junit_error(o->junit, err->msg, &jerr) != 0) {
				size_t len = strlen(err->msg);

				snprintf(err->msg + len, sizeof(err->msg) - len, "; %s", jerr.msg);
			}
		}
		goto out;
	}
	w = (struct eb_cmp_out){ .B = &B, .C = &C, .o = o, .res = res, .nres = nres,
				 .missing = missing, .added = added, .nmiss = nmiss, .nadd = nadd,
				 .k = k };
	w.nrep = nrep;
	w.nfallback = nfallback;
	w.configs_differ = B.sha && C.sha && strcmp(B.sha, C.sha) != 0;
	w.devices_differ = B.ndev != C.ndev;
	for (size_t q = 0; !w.devices_differ && q < B.ndev; q++)
		w.devices_differ = strcmp(B.devices[q], C.devices[q]) != 0;
	if (o->json)
		eb_write_json(out, &w);
	else
		eb_write_md(out, &w);
	if (o->junit)
		ret = eb_write_junit(o->junit, &w, err);
out:
	free(res);
	free(missing);
	free(added);
	eb_units_free(bu, nbu);
	eb_units_free(cu, ncu);
	eb_side_release(&B);
	eb_side_release(&C);
	return ret;
}
