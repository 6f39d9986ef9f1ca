/* plot.c: writes a gnuplot script and its data beside the figure, then runs gnuplot (see plot.h). */
#include "plot.h"

#include "eb_proc.h"
#include "eb_util.h"
#include "metric.h"
#include "stats.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const eb_kind_names[] = { "throughput", "ttft-vs-prompt", "power",
					     "accuracy", "pareto" };

int eb_plot_kind_parse(const char *name, enum eb_plot_kind *kind)
{
	for (size_t i = 0; i < sizeof(eb_kind_names) / sizeof(eb_kind_names[0]); i++)
		if (strcmp(name, eb_kind_names[i]) == 0) {
			*kind = (enum eb_plot_kind)i;
			return 0;
		}
	return EB_EINVAL;
}

const char *eb_plot_kind_name(enum eb_plot_kind kind)
{
	return eb_kind_names[kind];
}

/* A figure being built: the gnuplot script and its data file, both in memory. */
struct eb_fig {
	struct eb_buf gp, dat;
	char *base;     /* out without its extension: base.gp, base.dat */
	char *name;     /* base's last component (the script refers to files by it) */
	char *dir;      /* absolute directory of the figure */
	const char *ext; /* "png" or "svg" */
	char where[64];  /* "run 3" or "the selected runs" */
};

/* Appends s as a gnuplot single-quoted string ('' for a quote, no control characters). */
static void eb_gp_str(struct eb_buf *b, const char *s)
{
	eb_buf_addstr(b, "'");
	for (; *s; s++) {
		if (*s == '\'')
			eb_buf_addstr(b, "''");
		else if ((unsigned char)*s < 0x20)
			eb_buf_addstr(b, " ");
		else
			eb_buf_add(b, s, 1);
	}
	eb_buf_addstr(b, "'");
}

static void eb_dat_num(struct eb_buf *b, double v)
{
	if (isfinite(v))
		eb_buf_addf(b, " %.9g", v);
	else
		eb_buf_addstr(b, " ?");
}

/* Where gnuplot is: o->gnuplot, $EB_GNUPLOT, or "gnuplot" searched in PATH. */
static const char *eb_gnuplot_prog(const struct eb_plot_opts *o)
{
	const char *p = o->gnuplot;

	if (!p || !*p)
		p = getenv("EB_GNUPLOT");
	return p && *p ? p : "gnuplot";
}

/* Whether this gnuplot has the cairo PNG terminal (asked once per process). */
static int eb_has_pngcairo(const char *prog)
{
	static int known = -1;
	const char *argv[] = { prog, "-e", "set terminal", NULL };
	struct eb_err err;
	char *out = NULL;

	if (known >= 0)
		return known;
	known = eb_proc_capture(argv, 1, 1 << 20, &out, &err) == 0 && out &&
		strstr(out, "pngcairo") != NULL;
	free(out);
	return known;
}

static int eb_fig_init(struct eb_fig *f, const struct eb_plot_opts *o, const char *prog,
		       struct eb_err *err)
{
	const char *dot, *slash;
	char dir[PATH_MAX], real[PATH_MAX];

	memset(f, 0, sizeof(*f));
	eb_buf_init(&f->gp, 0);
	eb_buf_init(&f->dat, 0);
	dot = strrchr(o->out, '.');
	slash = strrchr(o->out, '/');
	if (!dot || (slash && dot < slash) || (strcmp(dot, ".png") != 0 && strcmp(dot, ".svg") != 0))
		return eb_err_set(err, EB_EINVAL, "'%s': the figure must be a .png or .svg file",
				  o->out);
	if (slash && slash + 1 == dot)
		return eb_err_set(err, EB_EINVAL, "'%s': the figure needs a name", o->out);
	f->ext = dot + 1;
	f->base = eb_xmalloc((size_t)(dot - o->out) + 1);
	memcpy(f->base, o->out, (size_t)(dot - o->out));
	f->base[dot - o->out] = '\0';
	f->name = eb_xstrdup(slash ? slash + 1 : o->out);
	f->name[dot - (slash ? slash + 1 : o->out)] = '\0';
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - o->out), slash == o->out ? "/" : o->out);
	else
		eb_strlcpy(dir, ".", sizeof(dir));
	if (!realpath(dir, real))
		return eb_err_set(err, EB_EIO, "cannot write '%s': directory '%s': %s", o->out, dir,
				  strerror(errno));
	f->dir = eb_xstrdup(real);
	if (o->sel.run_id)
		snprintf(f->where, sizeof(f->where), "run %lld", (long long)o->sel.run_id);
	else
		eb_strlcpy(f->where, "the selected runs", sizeof(f->where));

	eb_buf_addf(&f->gp,
		    "# edgebench plot %s (%s), written by `edgebench plot`.\n"
		    "# Edit and re-run from this directory: gnuplot %s.gp (data: %s.dat)\n",
		    eb_plot_kind_name(o->kind), f->where, f->name, f->name);
	if (strcmp(f->ext, "svg") == 0)
		eb_buf_addstr(&f->gp, "set terminal svg size 1200,700 noenhanced font 'sans,11'"
				      " background rgb 'white'\n");
	else if (eb_has_pngcairo(prog))
		eb_buf_addstr(&f->gp, "set terminal pngcairo size 1200,700 noenhanced font 'sans,10'\n");
	else
		eb_buf_addstr(&f->gp, "set terminal png size 1200,700 noenhanced\n");
	{
		char fig[PATH_MAX];

		snprintf(fig, sizeof(fig), "%s.%s", f->name, f->ext);
		eb_buf_addstr(&f->gp, "set output ");
		eb_gp_str(&f->gp, fig);
	}
	eb_buf_addstr(&f->gp, "\nset datafile missing '?'\nset grid\nset key outside right top\n");
	return 0;
}

static void eb_fig_release(struct eb_fig *f)
{
	eb_buf_release(&f->gp);
	eb_buf_release(&f->dat);
	free(f->base);
	free(f->name);
	free(f->dir);
}

/* Appends "'NAME.dat'" to a script buffer. */
static void eb_fig_datref_to(struct eb_fig *f, struct eb_buf *b)
{
	char dat[PATH_MAX];

	snprintf(dat, sizeof(dat), "%s.dat", f->name);
	eb_gp_str(b, dat);
}

static void eb_fig_datref(struct eb_fig *f)
{
	eb_fig_datref_to(f, &f->gp);
}

/* Writes base.gp and base.dat and runs gnuplot on them. */
static int eb_fig_run(struct eb_fig *f, const struct eb_plot_opts *o, const char *prog,
		      struct eb_err *err)
{
	char path[PATH_MAX], cd[PATH_MAX + 16], script[PATH_MAX];
	const char *argv[5];
	struct eb_buf cdb;
	char *out = NULL;
	int rc, ret;

	snprintf(path, sizeof(path), "%s.dat", f->base);
	ret = eb_write_file(path, f->dat.buf, f->dat.len, err);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s.gp", f->base);
	ret = eb_write_file(path, f->gp.buf, f->gp.len, err);
	if (ret)
		return ret;
	if (!eb_proc_find_program(prog))
		return eb_err_set(err, EB_EUNSUPPORTED,
				  "gnuplot not found ('%s'): install it (Debian: apt-get install "
				  "gnuplot-nox); the script is in '%s'",
				  prog, path);
	eb_buf_init(&cdb, 0);
	eb_buf_addstr(&cdb, "cd ");
	eb_gp_str(&cdb, f->dir);
	eb_strlcpy(cd, cdb.buf, sizeof(cd));
	eb_buf_release(&cdb);
	snprintf(script, sizeof(script), "%s/%s.gp", f->dir, f->name);
	argv[0] = prog;
	argv[1] = "-e";
	argv[2] = cd;
	argv[3] = script;
	argv[4] = NULL;
	rc = eb_proc_capture(argv, 1, 1 << 20, &out, err);
	if (rc < 0) {
		free(out);
		return rc;
	}
	if (rc != 0) {
		size_t len = out ? strlen(out) : 0;
		const char *tail = out ? out + (len > 600 ? len - 600 : 0) : "";

		ret = eb_err_set(err, EB_EIO, "gnuplot failed on '%s' (exit %d): %s", path, rc, tail);
		free(out);
		return ret;
	}
	free(out);
	if (access(o->out, R_OK) != 0)
		return eb_err_set(err, EB_EIO, "gnuplot wrote no '%s'", o->out);
	return 0;
}

/* ---- labels ---------------------------------------------------------------------- */

/* Short labels: only the parts that differ between the cells (quant always). */
struct eb_vary {
	int run, target, model, prompt, gen;
};

static void eb_vary_of(const struct eb_rdata *d, struct eb_vary *v)
{
	memset(v, 0, sizeof(*v));
	v->run = d->n_runs > 1;
	for (size_t i = 1; i < d->n; i++) {
		const struct eb_rcell *a = &d->cells[0], *b = &d->cells[i];

		v->target |= strcmp(a->target, b->target) != 0;
		v->model |= strcmp(a->model, b->model) != 0;
		v->prompt |= a->prompt_tokens != b->prompt_tokens;
		v->gen |= a->gen_tokens != b->gen_tokens;
	}
}

/* Long names squeeze the plot: keep the first 40 bytes (whole UTF-8 characters) and "...". */
static void eb_shorten(char *buf)
{
	size_t cut = 40;

	if (strlen(buf) <= 43)
		return;
	while (cut > 0 && ((unsigned char)buf[cut] & 0xC0) == 0x80)
		cut--;
	memcpy(buf + cut, "...", 4);
}

static void eb_cell_label(char *buf, size_t n, const struct eb_rcell *c, const struct eb_vary *v,
			  int with_lengths)
{
	struct eb_buf b;

	eb_buf_init(&b, 0);
	if (v->run)
		eb_buf_addf(&b, "run %lld ", (long long)c->run_id);
	if (v->target)
		eb_buf_addf(&b, "%s/", c->target);
	if (v->model)
		eb_buf_addf(&b, "%s/", c->model);
	eb_buf_addstr(&b, c->quant);
	if (with_lengths && v->prompt)
		eb_buf_addf(&b, " p%d", c->prompt_tokens);
	if (with_lengths && v->gen)
		eb_buf_addf(&b, " g%d", c->gen_tokens);
	eb_strlcpy(buf, b.buf, n);
	eb_buf_release(&b);
	if (n > 44)
		eb_shorten(buf);
}

static int eb_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * A cell's figure and its bar: the median with p10..p90 of the raw samples (the stored
 * min..p90 when there are none), or the mean with its 95% interval.
 */
static int eb_value_bar(struct eb_store *s, const struct eb_rcell *c, const char *metric,
			enum eb_report_stat stat, double *v, double *lo, double *hi,
			struct eb_err *err)
{
	const struct eb_rmetric *m = eb_rcell_metric(c, metric);
	double *x = NULL;
	size_t n = 0;
	int ret;

	*v = *lo = *hi = NAN;
	if (!m)
		return 0;
	*v = eb_rmetric_stat(m, stat);
	if (stat == EB_STAT_MEAN) {
		*lo = isfinite(m->ci_lo) ? m->ci_lo : *v;
		*hi = isfinite(m->ci_hi) ? m->ci_hi : *v;
		return 0;
	}
	*lo = isfinite(m->min) ? m->min : *v;
	*hi = isfinite(m->p90) ? m->p90 : *v;
	if (!eb_rdata_has_raw(metric))
		return 0;
	ret = eb_rdata_raw(s, c->id, metric, &x, &n, err);
	if (ret)
		return ret;
	if (n > 0) {
		qsort(x, n, sizeof(*x), eb_cmp_double);
		*lo = eb_stats_quantile_sorted(x, n, 0.10);
		*hi = eb_stats_quantile_sorted(x, n, 0.90);
	}
	free(x);
	return 0;
}

/* "set ylabel 'LABEL [UNIT]'" for a metric, as the registry labels it. */
static void eb_gp_ylabel(struct eb_buf *gp, const char *metric)
{
	eb_buf_addf(gp, "set ylabel '%s [%s]'\n", eb_metric_label_of(metric),
		    eb_metric_unit_of(metric));
}

static const char *eb_bar_note(enum eb_report_stat stat)
{
	return stat == EB_STAT_MEAN ? "mean; bars: 95% interval" : "median; bars: p10..p90";
}

/* ---- throughput ------------------------------------------------------------------ */

static int eb_plot_throughput(struct eb_store *s, const struct eb_plot_opts *o,
			      const struct eb_rdata *d, struct eb_fig *f, struct eb_err *err)
{
	struct eb_vary vary;
	size_t nrow = 0, ndec = 0, npre = 0;
	int ret = 0;

	eb_vary_of(d, &vary);
	eb_buf_addstr(&f->dat, "# x decode_tps lo hi prefill_tps lo hi\n");
	eb_buf_addstr(&f->gp, "set xtics rotate by 30 right (");
	for (size_t i = 0; i < d->n; i++) {
		const struct eb_rcell *c = &d->cells[i];
		double dv, dl, dh, pv, pl, ph;
		char label[512];

		ret = eb_value_bar(s, c, "decode_tps", o->stat, &dv, &dl, &dh, err);
		if (!ret)
			ret = eb_value_bar(s, c, "prefill_tps", o->stat, &pv, &pl, &ph, err);
		if (ret)
			return ret;
		if (!isfinite(dv) && !isfinite(pv))
			continue;
		ndec += isfinite(dv);
		npre += isfinite(pv);
		eb_buf_addf(&f->dat, "%zu", nrow);
		eb_dat_num(&f->dat, dv);
		eb_dat_num(&f->dat, dl);
		eb_dat_num(&f->dat, dh);
		eb_dat_num(&f->dat, pv);
		eb_dat_num(&f->dat, pl);
		eb_dat_num(&f->dat, ph);
		eb_buf_addstr(&f->dat, "\n");
		eb_cell_label(label, sizeof(label), c, &vary, 1);
		eb_buf_addstr(&f->gp, nrow ? ", " : "");
		eb_gp_str(&f->gp, label);
		eb_buf_addf(&f->gp, " %zu", nrow);
		nrow++;
	}
	eb_buf_addstr(&f->gp, ")\n");
	if (nrow == 0)
		return eb_err_set(err, EB_ENOENT, "no decode or prefill rates in %s", f->where);
	eb_buf_addf(&f->gp,
		    "set xrange [-0.5:%zu.5]\nset yrange [0:*]\nset style fill solid 0.6 border -1\n"
		    "set boxwidth 0.6\nunset key\n",
		    nrow - 1);
	eb_buf_addf(&f->gp, "set multiplot layout %d,1 title 'Throughput per cell (%s)'\n",
		    (ndec > 0) + (npre > 0), eb_bar_note(o->stat));
	if (ndec) {
		eb_gp_ylabel(&f->gp, "decode_tps");
		eb_buf_addstr(&f->gp, "plot ");
		eb_fig_datref(f);
		eb_buf_addstr(&f->gp, " using 1:2 with boxes lc rgb '#4e79a7', '' using 1:2:3:4 with"
				      " yerrorbars lc rgb '#222222' pt 7 ps 0.5\n");
	}
	if (npre) {
		eb_gp_ylabel(&f->gp, "prefill_tps");
		eb_buf_addstr(&f->gp, "plot ");
		eb_fig_datref(f);
		eb_buf_addstr(&f->gp, " using 1:5 with boxes lc rgb '#f28e2b', '' using 1:5:6:7 with"
				      " yerrorbars lc rgb '#222222' pt 7 ps 0.5\n");
	}
	eb_buf_addstr(&f->gp, "unset multiplot\n");
	return 0;
}

/* ---- TTFT against prompt length -------------------------------------------------- */

static int eb_same_series(const struct eb_rcell *a, const struct eb_rcell *b, int by_gen)
{
	return a->run_id == b->run_id && strcmp(a->target, b->target) == 0 &&
	       strcmp(a->model, b->model) == 0 && strcmp(a->quant, b->quant) == 0 &&
	       (!by_gen || a->gen_tokens == b->gen_tokens);
}

static int eb_by_prompt(const void *a, const void *b)
{
	const struct eb_rcell *x = *(const struct eb_rcell *const *)a;
	const struct eb_rcell *y = *(const struct eb_rcell *const *)b;

	return x->prompt_tokens - y->prompt_tokens;
}

static int eb_plot_ttft(struct eb_store *s, const struct eb_plot_opts *o, const struct eb_rdata *d,
			struct eb_fig *f, struct eb_err *err)
{
	struct eb_vary vary, lv;
	char *done = eb_xcalloc(d->n + 1, 1);
	const struct eb_rcell **pts = eb_xcalloc(d->n + 1, sizeof(*pts));
	struct eb_buf plot;
	int minp = INT_MAX, maxp = 0, ret = 0;
	size_t nser = 0;

	eb_vary_of(d, &vary);
	lv = vary;
	lv.target = lv.model = 1;
	lv.prompt = 0;
	eb_buf_init(&plot, 0);
	for (size_t i = 0; i < d->n; i++) {
		size_t np = 0, written = 0;
		char label[512];

		if (done[i])
			continue;
		for (size_t k = i; k < d->n; k++)
			if (!done[k] && eb_same_series(&d->cells[i], &d->cells[k], vary.gen)) {
				done[k] = 1;
				if (d->cells[k].prompt_tokens > 0 &&
				    eb_rcell_metric(&d->cells[k], "ttft_ms"))
					pts[np++] = &d->cells[k];
			}
		if (np == 0)
			continue;
		qsort(pts, np, sizeof(*pts), eb_by_prompt);
		eb_buf_addf(&f->dat, "# series %zu: prompt_tokens ttft_ms lo hi\n", nser);
		for (size_t k = 0; k < np; k++) {
			double v, lo, hi;

			ret = eb_value_bar(s, pts[k], "ttft_ms", o->stat, &v, &lo, &hi, err);
			if (ret)
				goto out;
			if (!isfinite(v))
				continue;
			eb_buf_addf(&f->dat, "%d", pts[k]->prompt_tokens);
			eb_dat_num(&f->dat, v);
			eb_dat_num(&f->dat, lo);
			eb_dat_num(&f->dat, hi);
			eb_buf_addstr(&f->dat, "\n");
			if (pts[k]->prompt_tokens < minp)
				minp = pts[k]->prompt_tokens;
			if (pts[k]->prompt_tokens > maxp)
				maxp = pts[k]->prompt_tokens;
			written++;
		}
		eb_buf_addstr(&f->dat, "\n\n");
		if (written == 0)
			continue;
		eb_cell_label(label, sizeof(label), pts[0], &lv, 1);
		eb_buf_addstr(&plot, nser ? ", \\\n  " : "plot ");
		eb_fig_datref_to(f, &plot);
		eb_buf_addf(&plot, " index %zu using 1:2:3:4 with yerrorlines lw 2 pt 7 title ", nser);
		eb_gp_str(&plot, label);
		nser++;
	}
	if (nser == 0) {
		ret = eb_err_set(err, EB_ENOENT, "no TTFT figures in %s", f->where);
		goto out;
	}
	eb_buf_addf(&f->gp, "set title 'TTFT against prompt length (%s)'\n"
			    "set xlabel 'prompt length [tokens]'\n",
		    eb_bar_note(o->stat));
	eb_gp_ylabel(&f->gp, "ttft_ms");
	eb_buf_addstr(&f->gp, "set yrange [0:*]\n");
	if (maxp >= 8 * minp)
		eb_buf_addstr(&f->gp, "set logscale x 2\n");
	eb_buf_addstr(&f->gp, plot.buf);
	eb_buf_addstr(&f->gp, "\n");
out:
	eb_buf_release(&plot);
	free(done);
	free(pts);
	return ret;
}

/* ---- power over time ------------------------------------------------------------- */

struct eb_psample {
	int64_t t;
	double w;
	int64_t cell;
	size_t series;
};

static int eb_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int eb_selected(const int64_t *ids, size_t n, int64_t id)
{
	return bsearch(&id, ids, n, sizeof(*ids), eb_cmp_i64) != NULL;
}

/* What eb_plot_power's reads fill: the samples of the selected cells, one series per
 * sensor and rail, and the request windows shaded behind them. */
struct eb_pw {
	const int64_t *ids; /* the selected cells, sorted */
	size_t nids;
	struct eb_psample *ps;
	size_t nps, aps;
	char **names;
	size_t nser;
	int64_t t0, t1;
	struct eb_fig *f;
	size_t nwin;
};

static int eb_pw_sample(void *arg, const struct eb_store_power *row)
{
	struct eb_pw *w = arg;
	char name[512];
	struct eb_psample *p;

	if (!eb_selected(w->ids, w->nids, row->cell_id))
		return 0;
	snprintf(name, sizeof(name), "%s %s", row->sensor, row->rail);
	if (w->nser == 0 || strcmp(w->names[w->nser - 1], name) != 0) {
		w->names = eb_xrealloc(w->names, (w->nser + 1) * sizeof(*w->names));
		w->names[w->nser++] = eb_xstrdup(name);
	}
	if (w->nps == w->aps) {
		w->aps = w->aps ? 2 * w->aps : 1024;
		w->ps = eb_xrealloc(w->ps, w->aps * sizeof(*w->ps));
	}
	p = &w->ps[w->nps++];
	p->cell = row->cell_id;
	p->t = row->t_ns;
	p->w = row->watts;
	p->series = w->nser - 1;
	if (p->t < w->t0)
		w->t0 = p->t;
	if (p->t > w->t1)
		w->t1 = p->t;
	return 0;
}

/* A measured request's prefill (send to first token) and decode (to last token) windows. */
static int eb_pw_window(void *arg, const struct eb_store_send *q)
{
	struct eb_pw *w = arg;
	int64_t send = q->t_send_ns, first, last;

	/* stored times may be anything: a window whose end does not fit 64 bits is left out */
	if (!eb_selected(w->ids, w->nids, q->cell_id) || eb_ns_add(send, q->ttft_ns, &first) ||
	    eb_ns_add(send, q->e2e_ns, &last) || last < w->t0 || send > w->t1)
		return 0;
	eb_buf_addf(&w->f->gp,
		    "set object %zu rect from %.6f, graph 0 to %.6f, graph 1 behind"
		    " fc rgb '#f28e2b' fs transparent solid 0.25 noborder\n",
		    2 * w->nwin + 1, eb_ns_diff(send, w->t0) * 1e-9, eb_ns_diff(first, w->t0) * 1e-9);
	eb_buf_addf(&w->f->gp,
		    "set object %zu rect from %.6f, graph 0 to %.6f, graph 1 behind"
		    " fc rgb '#4e79a7' fs transparent solid 0.15 noborder\n",
		    2 * w->nwin + 2, eb_ns_diff(first, w->t0) * 1e-9, eb_ns_diff(last, w->t0) * 1e-9);
	w->nwin++;
	return 0;
}

static int eb_plot_power(struct eb_store *s, const struct eb_plot_opts *o, const struct eb_rdata *d,
			 struct eb_fig *f, struct eb_err *err)
{
	int64_t *ids = eb_xmalloc((d->n + 1) * sizeof(*ids));
	struct eb_pw w = { .ids = ids, .nids = d->n, .t0 = INT64_MAX, .t1 = INT64_MIN, .f = f };
	int ret;

	for (size_t i = 0; i < d->n; i++)
		ids[i] = d->cells[i].id;
	qsort(ids, d->n, sizeof(*ids), eb_cmp_i64);
	ret = eb_store_read_power(s, o->sel.run_id, eb_pw_sample, &w, err);
	if (ret)
		goto out;
	if (w.nps == 0) {
		ret = eb_err_set(err, EB_ENOENT, "no power samples in %s", f->where);
		goto out;
	}
	eb_buf_addf(&f->gp, "set title 'Power over time (%s)'\nset xlabel 'time [s]'\n"
			    "set ylabel 'power [W]'\nset yrange [0:*]\n",
		    f->where);

	/* prefill and decode windows of the measured requests need each request's send time
	 * on the samples' clock (requests.t_send_ns, where the schema has it) */
	ret = eb_store_read_sends(s, o->sel.run_id, eb_pw_window, &w, err);
	if (ret)
		goto out;
	if (w.nwin == 0 && o->log)
		fprintf(o->log, "edgebench plot: note: no request send times on the sensors' clock"
				" in %s: prefill and decode windows are not shaded\n",
			f->where);

	for (size_t k = 0, i = 0; k < w.nser; k++) {
		int64_t cell = -1;

		eb_buf_addf(&f->dat, "# %s (t [s] since the first sample, W)\n", w.names[k]);
		for (; i < w.nps && w.ps[i].series == k; i++) {
			if (cell != -1 && w.ps[i].cell != cell)
				eb_buf_addstr(&f->dat, "\n"); /* a gap between cells */
			cell = w.ps[i].cell;
			eb_buf_addf(&f->dat, "%.6f", eb_ns_diff(w.ps[i].t, w.t0) * 1e-9);
			eb_dat_num(&f->dat, w.ps[i].w);
			eb_buf_addstr(&f->dat, "\n");
		}
		eb_buf_addstr(&f->dat, "\n\n");
		eb_buf_addstr(&f->gp, k ? ", \\\n  " : "plot ");
		eb_fig_datref(f);
		eb_buf_addf(&f->gp, " index %zu using 1:2 with lines lw 1.5 title ", k);
		{
			char title[512];

			eb_strlcpy(title, w.names[k], sizeof(title));
			eb_shorten(title);
			eb_gp_str(&f->gp, title);
		}
	}
	if (w.nwin)
		eb_buf_addstr(&f->gp, ", \\\n  keyentry with boxes fc rgb '#f28e2b' fs transparent solid"
				      " 0.25 noborder title 'prefill', \\\n  keyentry with boxes fc"
				      " rgb '#4e79a7' fs transparent solid 0.15 noborder title 'decode'");
	eb_buf_addstr(&f->gp, "\n");
out:
	for (size_t k = 0; k < w.nser; k++)
		free(w.names[k]);
	free(w.names);
	free(w.ps);
	free(ids);
	return ret;
}

/* ---- accuracy against model size ------------------------------------------------- */

static double eb_model_bytes(const struct eb_rdata *d, const struct eb_rcell *c)
{
	const struct eb_rmetric *m = eb_rcell_metric(c, "model_bytes");

	if (m)
		return m->median;
	for (size_t i = 0; i < d->n; i++) {
		const struct eb_rcell *o = &d->cells[i];

		if (o->run_id == c->run_id && strcmp(o->target, c->target) == 0 &&
		    strcmp(o->model, c->model) == 0 && strcmp(o->quant, c->quant) == 0 &&
		    (m = eb_rcell_metric(o, "model_bytes")) != NULL)
			return m->median;
	}
	return NAN;
}

static const struct eb_rcell *eb_cell_by(const struct eb_rdata *d, int64_t id)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->cells[i].id == id)
			return &d->cells[i];
	return NULL;
}

/* What eb_plot_accuracy's read fills: one panel per task and metric (its title, its
 * point labels, then its plot) and the points' data. */
struct eb_acc_panels {
	const struct eb_rdata *d;
	const struct eb_vary *vary;
	struct eb_fig *f;
	struct eb_buf panels;
	char cur[512];
	size_t npanel, npts, nrows;
};

static int eb_acc_point(void *arg, const struct eb_store_accuracy *a)
{
	struct eb_acc_panels *p = arg;
	const struct eb_rcell *c = eb_cell_by(p->d, a->cell_id);
	struct eb_fig *f = p->f;
	char name[512], label[512];
	double x, y = a->value;
	double se = isnan(a->stderr_) ? 0 : a->stderr_;

	if (!c || isnan(a->value))
		return 0;
	p->nrows++;
	x = eb_model_bytes(p->d, c) / 1048576.0;
	if (!isfinite(x))
		return 0;
	snprintf(name, sizeof(name), "%s %s", a->task, a->metric);
	if (strcmp(name, p->cur) != 0) {
		if (p->npanel) {
			eb_buf_addstr(&f->dat, "\n\n");
			eb_buf_addstr(&p->panels, "plot ");
			eb_fig_datref_to(f, &p->panels);
			eb_buf_addf(&p->panels, " index %zu using 1:2:3 with yerrorbars pt 7"
						" ps 1.2\n", p->npanel - 1);
		}
		eb_buf_addstr(&p->panels, "unset label\nset title ");
		eb_gp_str(&p->panels, name);
		eb_buf_addstr(&p->panels, "\nset ylabel ");
		eb_gp_str(&p->panels, name);
		eb_buf_addstr(&p->panels, "\n");
		eb_strlcpy(p->cur, name, sizeof(p->cur));
		p->npanel++;
	}
	eb_buf_addf(&f->dat, "%.9g %.9g %.9g\n", x, y, se);
	eb_cell_label(label, sizeof(label), c, p->vary, 0);
	eb_buf_addstr(&p->panels, "set label ");
	eb_gp_str(&p->panels, label);
	eb_buf_addf(&p->panels, " at %.9g, %.9g offset 1,1\n", x, y);
	p->npts++;
	return 0;
}

static int eb_plot_accuracy(struct eb_store *s, const struct eb_plot_opts *o,
			    const struct eb_rdata *d, struct eb_fig *f, struct eb_err *err)
{
	struct eb_vary vary;
	struct eb_acc_panels p = { .d = d, .vary = &vary, .f = f };
	int has, ret;

	ret = eb_store_has_table(s, "accuracy", &has, err);
	if (ret)
		return ret;
	if (!has)
		return eb_err_set(err, EB_ENOENT,
				  "no accuracy table in '%s' (accuracy results come from the "
				  "accuracy workload)",
				  eb_store_path(s));
	eb_vary_of(d, &vary);
	eb_buf_init(&p.panels, 0);
	ret = eb_store_read_accuracy(s, o->sel.run_id, 0, eb_acc_point, &p, err);
	if (ret)
		goto out;
	if (p.npts == 0) {
		ret = eb_err_set(err, EB_ENOENT,
				 p.nrows ? "no accuracy results with a model size (model_bytes) in %s"
					 : "no accuracy results in %s (they come from the accuracy "
					   "workload)",
				 f->where);
		goto out;
	}
	eb_buf_addstr(&p.panels, "plot ");
	eb_fig_datref_to(f, &p.panels);
	eb_buf_addf(&p.panels, " index %zu using 1:2:3 with yerrorbars pt 7 ps 1.2\n",
		    p.npanel - 1);
	eb_buf_addf(&f->gp, "set xlabel 'model size [MiB]'\nunset key\n"
			    "set offsets graph 0.1, graph 0.2, graph 0.1, graph 0.1\n"
			    "set multiplot layout %zu,%zu title 'Accuracy against model size'\n",
		    (p.npanel + 1) / 2, p.npanel > 1 ? (size_t)2 : (size_t)1);
	eb_buf_addstr(&f->gp, p.panels.buf);
	eb_buf_addstr(&f->gp, "unset multiplot\n");
out:
	eb_buf_release(&p.panels);
	return ret;
}

/* ---- decode rate against energy per token ---------------------------------------- */

struct eb_ppt {
	double j, tps;
	const struct eb_rcell *c;
};

static int eb_by_j(const void *a, const void *b)
{
	const struct eb_ppt *x = a, *y = b;

	return x->j < y->j ? -1 : x->j > y->j ? 1 : (x->tps > y->tps ? -1 : x->tps < y->tps);
}

static int eb_plot_pareto(struct eb_store *s, const struct eb_plot_opts *o,
			  const struct eb_rdata *d, struct eb_fig *f, struct eb_err *err)
{
	static const char *const jnames[] = { "j_per_token", "decode_j_per_token",
					      "energy_j_per_token" };
	struct eb_ppt *pt = eb_xcalloc(d->n + 1, sizeof(*pt));
	struct eb_vary vary;
	size_t n = 0, nest = 0;
	double best = -INFINITY;
	int ret = 0;

	eb_vary_of(d, &vary);
	for (size_t i = 0; i < d->n; i++) {
		const struct eb_rcell *c = &d->cells[i];
		double tps = eb_rmetric_stat(eb_rcell_metric(c, "decode_tps"), o->stat);
		double j = NAN;

		if (!isfinite(tps) || tps <= 0)
			continue;
		for (size_t k = 0; k < sizeof(jnames) / sizeof(jnames[0]) && !isfinite(j); k++)
			j = eb_rmetric_stat(eb_rcell_metric(c, jnames[k]), o->stat);
		if (!isfinite(j)) {
			double w;
			long long ns;

			ret = eb_rdata_cell_power(s, c->id, &w, &ns, err);
			if (ret)
				goto out;
			if (ns > 0 && isfinite(w)) {
				j = w / tps;
				nest++;
			}
		}
		if (!isfinite(j))
			continue;
		pt[n].j = j;
		pt[n].tps = tps;
		pt[n].c = c;
		n++;
	}
	if (n == 0) {
		ret = eb_err_set(err, EB_ENOENT,
				 "no power samples in %s: the pareto plot needs J/token (energy "
				 "metrics or power samples)",
				 f->where);
		goto out;
	}
	qsort(pt, n, sizeof(*pt), eb_by_j);
	eb_buf_addstr(&f->dat, "# J/token decode_tps\n");
	for (size_t i = 0; i < n; i++) {
		char label[512];

		eb_buf_addf(&f->dat, "%.9g %.9g\n", pt[i].j, pt[i].tps);
		eb_cell_label(label, sizeof(label), pt[i].c, &vary, 1);
		eb_buf_addstr(&f->gp, "set label ");
		eb_gp_str(&f->gp, label);
		eb_buf_addf(&f->gp, " at %.9g, %.9g offset 1,1\n", pt[i].j, pt[i].tps);
	}
	/* the frontier: no other point is both cheaper per token and faster */
	eb_buf_addstr(&f->dat, "\n\n# Pareto frontier\n");
	for (size_t i = 0; i < n; i++)
		if (pt[i].tps > best) {
			best = pt[i].tps;
			eb_buf_addf(&f->dat, "%.9g %.9g\n", pt[i].j, pt[i].tps);
		}
	eb_buf_addf(&f->gp,
		    "set title 'Decode rate against energy per token (%s)'\n"
		    "set xlabel 'energy [J/token]%s'\n",
		    o->stat == EB_STAT_MEAN ? "mean" : "median",
		    nest ? " (estimated: average power / decode rate)" : "");
	eb_gp_ylabel(&f->gp, "decode_tps");
	eb_buf_addstr(&f->gp, "set xrange [0:*]\nset yrange [0:*]\n"
			      "set offsets 0, graph 0.15, graph 0.1, 0\nplot ");
	eb_fig_datref(f);
	eb_buf_addstr(&f->gp, " index 0 using 1:2 with points pt 7 ps 1.5 title 'cells', '' index 1"
			      " using 1:2 with lines lw 2 dt 2 title 'Pareto frontier'\n");
out:
	free(pt);
	return ret;
}

int eb_plot(struct eb_store *s, const struct eb_plot_opts *o, struct eb_err *err)
{
	const char *prog = eb_gnuplot_prog(o);
	struct eb_rdata d;
	struct eb_fig f;
	int ret;

	ret = eb_fig_init(&f, o, prog, err);
	if (ret) {
		eb_fig_release(&f);
		return ret;
	}
	ret = eb_rdata_load(s, &o->sel, &d, err);
	if (ret) {
		eb_fig_release(&f);
		return ret;
	}
	if (d.n == 0 && o->kind != EB_PLOT_ACCURACY) {
		ret = eb_err_set(err, EB_ENOENT, "no cells in %s match the selection", f.where);
		goto out;
	}
	switch (o->kind) {
	case EB_PLOT_THROUGHPUT:
		ret = eb_plot_throughput(s, o, &d, &f, err);
		break;
	case EB_PLOT_TTFT:
		ret = eb_plot_ttft(s, o, &d, &f, err);
		break;
	case EB_PLOT_POWER:
		ret = eb_plot_power(s, o, &d, &f, err);
		break;
	case EB_PLOT_ACCURACY:
		ret = eb_plot_accuracy(s, o, &d, &f, err);
		break;
	case EB_PLOT_PARETO:
		ret = eb_plot_pareto(s, o, &d, &f, err);
		break;
	}
	if (!ret)
		ret = eb_fig_run(&f, o, prog, err);
out:
	eb_rdata_release(&d);
	eb_fig_release(&f);
	return ret;
}
