/* plot.c: writes a gnuplot script and its data beside the figure, then runs gnuplot (see plot.h). */
#include "plot.h"

#include "eb_proc.h"
#include "loadtab.h"
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
					     "accuracy", "pareto", "sustained", "modes", "load" };

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
	struct eb_buf gp, dat; /* gp: the script after its terminal settings */
	char *base;     /* out without its extension: base.gp, base.dat */
	char *name;     /* base's last component (the script refers to files by it) */
	char *dir;      /* absolute directory of the figure */
	const char *ext; /* "png", "svg" or "pdf" */
	char where[64];  /* "run 3" or "the selected runs" */
	size_t rows, cols;   /* the panels' layout; 1 x 1 unless a kind says otherwise */
	double w, h;         /* --size; 0 = grown with the panels */
	char unit[3];        /* --size's unit: "" (pixels), "in" or "cm" */
	char *font;          /* --font, or NULL */
	int cairo;           /* png through pngcairo */
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

/* Seconds from t0 to t, both in ns on one clock; far apart (a difference past int64) the
 * difference of the two as doubles, never a wrapped one (eb_ns_diff). */
static double eb_secs_since(int64_t t, int64_t t0)
{
	return eb_ns_diff(t, t0) / 1e9;
}

/* Where gnuplot is: o->gnuplot, $EB_GNUPLOT, or "gnuplot" searched in PATH. */
static const char *eb_gnuplot_prog(const struct eb_plot_opts *o)
{
	const char *p = o->gnuplot;

	if (!p || !*p)
		p = getenv("EB_GNUPLOT");
	return p && *p ? p : "gnuplot";
}

/* Whether this gnuplot lists the terminal in `set terminal` (asked once per program). */
static int eb_gnuplot_has(const char *prog, const char *term)
{
	static char asked[PATH_MAX];
	static int pngcairo, pdfcairo;
	const char *argv[] = { prog, "-e", "set terminal", NULL };
	struct eb_err err;
	char *out = NULL;

	if (strcmp(asked, prog) != 0) {
		pngcairo = pdfcairo = 0;
		if (eb_proc_capture(argv, 1, 1 << 20, &out, &err) == 0 && out) {
			pngcairo = strstr(out, "pngcairo") != NULL;
			pdfcairo = strstr(out, "pdfcairo") != NULL;
		}
		free(out);
		eb_strlcpy(asked, prog, sizeof(asked));
	}
	return strcmp(term, "pdfcairo") == 0 ? pdfcairo : pngcairo;
}

/* A plain decimal number (digits and at most one point, no sign, exponent or hex) at the
 * start of s: its value and where it ends, or NAN. */
static double eb_decimal(const char *s, const char **end)
{
	size_t n = strspn(s, "0123456789.");
	char buf[32];
	const char *dot = memchr(s, '.', n);

	*end = s + n;
	if (n == 0 || n >= sizeof(buf) || (dot && memchr(dot + 1, '.', n - (size_t)(dot - s) - 1)) ||
	    (n == 1 && *s == '.'))
		return NAN;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return strtod(buf, NULL);
}

/* --size WxH for the figure's format: pixels for PNG and SVG, in or cm for PDF. */
static int eb_fig_size(struct eb_fig *f, const char *s, struct eb_err *err)
{
	int pdf = strcmp(f->ext, "pdf") == 0;
	const char *p, *unit;
	double w, h, inch;

	w = eb_decimal(s, &p);
	h = NAN;
	unit = p;
	if (!isnan(w) && (*p == 'x' || *p == 'X'))
		h = eb_decimal(p + 1, &unit);
	if (isnan(w) || isnan(h) || (*unit && strcmp(unit, "px") != 0 && strcmp(unit, "in") != 0 &&
				     strcmp(unit, "cm") != 0))
		return eb_err_set(err, EB_EINVAL,
				  "--size '%s': expected WIDTHxHEIGHT, in pixels for PNG and SVG "
				  "(1200x700), in inches or centimetres for PDF (3.3x2.5in, 8.4x6cm)",
				  s);
	if (!(w > 0 && h > 0))
		return eb_err_set(err, EB_EINVAL, "--size '%s': width and height must be above 0", s);
	if (!*unit || strcmp(unit, "px") == 0) {
		if (pdf)
			return eb_err_set(err, EB_EINVAL,
					  "--size '%s': a PDF's size takes a unit, in or cm (e.g. "
					  "3.3x2.5in)",
					  s);
		if (w != floor(w) || h != floor(h) || w > 20000 || h > 20000)
			return eb_err_set(err, EB_EINVAL,
					  "--size '%s': pixels are whole numbers up to 20000", s);
		f->unit[0] = '\0';
	} else {
		if (!pdf)
			return eb_err_set(err, EB_EINVAL,
					  "--size '%s': inches and centimetres are for PDF; PNG and "
					  "SVG sizes are in pixels (e.g. 1200x700)",
					  s);
		inch = strcmp(unit, "cm") == 0 ? 2.54 : 1;
		if (w / inch > 200 || h / inch > 200)
			return eb_err_set(err, EB_EINVAL, "--size '%s': at most 200 inches a side", s);
		eb_strlcpy(f->unit, unit, sizeof(f->unit));
	}
	f->w = w;
	f->h = h;
	return 0;
}

/* --font NAME,SIZE: a face gnuplot hands to its terminal and a size in points. */
static int eb_fig_font(struct eb_fig *f, const char *s, struct eb_err *err)
{
	const char *comma = strrchr(s, ','), *end;
	double pt;

	if (!comma || comma == s)
		return eb_err_set(err, EB_EINVAL,
				  "--font '%s': expected NAME,SIZE (e.g. 'DejaVu Sans,8')", s);
	pt = eb_decimal(comma + 1, &end);
	if (isnan(pt) || *end || pt < 1 || pt > 100)
		return eb_err_set(err, EB_EINVAL,
				  "--font '%s': the size after the comma is in points, 1 to 100", s);
	f->font = eb_xstrdup(s);
	return 0;
}

static int eb_fig_init(struct eb_fig *f, const struct eb_plot_opts *o, const char *prog,
		       struct eb_err *err)
{
	const char *dot, *slash;
	char dir[PATH_MAX], real[PATH_MAX];
	int ret;

	memset(f, 0, sizeof(*f));
	eb_buf_init(&f->gp, 0);
	eb_buf_init(&f->dat, 0);
	f->rows = f->cols = 1;
	dot = strrchr(o->out, '.');
	slash = strrchr(o->out, '/');
	if (!dot || (slash && dot < slash) ||
	    (strcmp(dot, ".png") != 0 && strcmp(dot, ".svg") != 0 && strcmp(dot, ".pdf") != 0))
		return eb_err_set(err, EB_EINVAL,
				  "'%s': the figure must be a .png, .svg or .pdf file", o->out);
	if (slash && slash + 1 == dot)
		return eb_err_set(err, EB_EINVAL, "'%s': the figure needs a name", o->out);
	f->ext = dot + 1;
	if (o->size && (ret = eb_fig_size(f, o->size, err)) != 0)
		return ret;
	if (o->font && (ret = eb_fig_font(f, o->font, err)) != 0)
		return ret;
	/* a gnuplot without cairo cannot write PDF at all; one that is missing is reported
	 * when it is run, once the script is written */
	if (strcmp(f->ext, "pdf") == 0 && eb_proc_find_program(prog) &&
	    !eb_gnuplot_has(prog, "pdfcairo"))
		return eb_err_set(err, EB_EUNSUPPORTED,
				  "gnuplot '%s' has no pdfcairo terminal, which PDF needs (Debian's "
				  "gnuplot-nox has it); write .png or .svg instead",
				  prog);
	f->cairo = strcmp(f->ext, "png") == 0 && eb_gnuplot_has(prog, "pngcairo");
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
	else if (o->sel.latest_per_device)
		eb_strlcpy(f->where, "the latest run of each device", sizeof(f->where));
	else
		eb_strlcpy(f->where, "the selected runs", sizeof(f->where));
	return 0;
}

/*
 * The script's head: where it came from, the terminal at its size (--size, else 1200 x 700
 * pixels, or 400 high a row of panels where they take several rows; a PDF 150 pixels an
 * inch) and font, the output, and the settings every kind shares.
 */
static void eb_fig_head(const struct eb_fig *f, const struct eb_plot_opts *o, struct eb_buf *b)
{
	double w = f->w, h = f->h;
	const char *unit = f->unit;
	char fig[PATH_MAX];

	eb_buf_addf(b,
		    "# edgebench plot %s (%s), written by `edgebench plot`.\n"
		    "# Edit and re-run from this directory: gnuplot %s.gp (data: %s.dat)\n",
		    eb_plot_kind_name(o->kind), f->where, f->name, f->name);
	if (w == 0) {
		w = 1200;
		h = f->rows > 1 ? 400.0 * (double)f->rows : 700;
		if (strcmp(f->ext, "pdf") == 0) {
			w /= 150;
			h /= 150;
			unit = "in";
		}
	}
	if (strcmp(f->ext, "svg") == 0)
		eb_buf_addf(b, "set terminal svg size %.0f,%.0f noenhanced font ", w, h);
	else if (strcmp(f->ext, "pdf") == 0)
		eb_buf_addf(b, "set terminal pdfcairo size %.6g%s,%.6g%s noenhanced font ", w, unit,
			    h, unit);
	else if (f->cairo)
		eb_buf_addf(b, "set terminal pngcairo size %.0f,%.0f noenhanced font ", w, h);
	else
		eb_buf_addf(b, "set terminal png size %.0f,%.0f noenhanced%s", w, h,
			    f->font ? " font " : "");
	if (f->font)
		eb_gp_str(b, f->font);
	else if (strcmp(f->ext, "svg") == 0)
		eb_buf_addstr(b, "'sans,11'");
	else if (strcmp(f->ext, "pdf") == 0 || f->cairo)
		eb_buf_addstr(b, "'sans,10'");
	eb_buf_addstr(b, strcmp(f->ext, "svg") == 0 ? " background rgb 'white'\n" : "\n");
	snprintf(fig, sizeof(fig), "%s.%s", f->name, f->ext);
	eb_buf_addstr(b, "set output ");
	eb_gp_str(b, fig);
	eb_buf_addstr(b, "\nset datafile missing '?'\nset grid\nset key outside right top\n");
}

static void eb_fig_release(struct eb_fig *f)
{
	eb_buf_release(&f->gp);
	eb_buf_release(&f->dat);
	free(f->base);
	free(f->name);
	free(f->dir);
	free(f->font);
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
	struct eb_buf cdb, head;
	char *out = NULL;
	int rc, ret;

	snprintf(path, sizeof(path), "%s.dat", f->base);
	ret = eb_write_file(path, f->dat.buf, f->dat.len, err);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s.gp", f->base);
	eb_buf_init(&head, 0);
	eb_fig_head(f, o, &head);
	eb_buf_add(&head, f->gp.buf, f->gp.len);
	ret = eb_write_file(path, head.buf, head.len, err);
	eb_buf_release(&head);
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

/* Short labels: the device and quant always, the other parts where they differ between
 * the cells. */
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
	if (*c->device)
		eb_buf_addf(&b, "%s: ", c->device);
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
	return a->run_id == b->run_id && strcmp(a->device, b->device) == 0 &&
	       strcmp(a->target, b->target) == 0 &&
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
	size_t cell;   /* index in the rdata */
	size_t series; /* index in eb_pw.names */
	size_t seq;    /* read order, to keep equal times in it */
};

/* A measured request's prefill (send to first token) and decode (to last token) window. */
struct eb_pwin {
	size_t cell;
	int64_t send, first, last;
};

/* A selected cell's id and its index in the rdata. */
struct eb_pcell {
	int64_t id;
	size_t i;
};

static int eb_pcell_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct eb_pcell *)a)->id, y = ((const struct eb_pcell *)b)->id;

	return x < y ? -1 : x > y;
}

/* What eb_plot_power's reads fill: the samples of the selected cells, named series (one per
 * sensor and rail) and the request windows shaded behind them. */
struct eb_pw {
	const struct eb_pcell *cells; /* the selected cells, by id */
	size_t ncells;
	struct eb_psample *ps;
	size_t nps, aps;
	char **names;
	size_t nnames;
	struct eb_pwin *win;
	size_t nwin, awin;
};

/* The rdata index of a selected cell, or (size_t)-1. */
static size_t eb_pw_cell(const struct eb_pw *w, int64_t id)
{
	struct eb_pcell key = { .id = id };
	const struct eb_pcell *hit = bsearch(&key, w->cells, w->ncells, sizeof(key), eb_pcell_cmp);

	return hit ? hit->i : (size_t)-1;
}

static int eb_pw_sample(void *arg, const struct eb_store_power *row)
{
	struct eb_pw *w = arg;
	size_t cell = eb_pw_cell(w, row->cell_id), k;
	char name[512];
	struct eb_psample *p;

	if (cell == (size_t)-1)
		return 0;
	snprintf(name, sizeof(name), "%s %s", row->sensor, row->rail);
	for (k = w->nnames; k > 0 && strcmp(w->names[k - 1], name) != 0; k--)
		;
	if (k == 0) {
		w->names = eb_xrealloc(w->names, (w->nnames + 1) * sizeof(*w->names));
		w->names[w->nnames++] = eb_xstrdup(name);
		k = w->nnames;
	}
	if (w->nps == w->aps) {
		w->aps = w->aps ? 2 * w->aps : 1024;
		w->ps = eb_xrealloc(w->ps, w->aps * sizeof(*w->ps));
	}
	p = &w->ps[w->nps];
	p->cell = cell;
	p->t = row->t_ns;
	p->w = row->watts;
	p->series = k - 1;
	p->seq = w->nps++;
	return 0;
}

/* Cell, then series (sensor and rail, in the order read), then time. */
static int eb_psample_cmp(const void *a, const void *b)
{
	const struct eb_psample *x = a, *y = b;

	if (x->cell != y->cell)
		return x->cell < y->cell ? -1 : 1;
	if (x->series != y->series)
		return x->series < y->series ? -1 : 1;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A measured request's windows; one whose first or last token would lie past the end of
 * the int64 clock is no time on it, and is left out. */
static int eb_pw_window(void *arg, const struct eb_store_send *q)
{
	struct eb_pw *w = arg;
	size_t cell = eb_pw_cell(w, q->cell_id);
	int64_t first, last;

	if (cell == (size_t)-1 || __builtin_add_overflow(q->t_send_ns, q->ttft_ns, &first) ||
	    __builtin_add_overflow(q->t_send_ns, q->e2e_ns, &last))
		return 0;
	if (w->nwin == w->awin) {
		w->awin = w->awin ? 2 * w->awin : 256;
		w->win = eb_xrealloc(w->win, w->awin * sizeof(*w->win));
	}
	w->win[w->nwin++] = (struct eb_pwin){ cell, q->t_send_ns, first, last };
	return 0;
}

/*
 * One panel: the cell's series as blocks of f->dat (from *block on), on a time axis from its
 * first sample, with its requests' windows shaded behind them. *shaded counts the windows.
 */
static void eb_pw_panel(const struct eb_pw *w, const struct eb_rcell *c, const struct eb_vary *v,
			const struct eb_psample *ps, size_t n, int alone, struct eb_fig *f,
			size_t *block, size_t *shaded)
{
	int64_t t0 = ps[0].t, t1 = ps[0].t;
	size_t cell = ps[0].cell, nobj = 0;
	struct eb_buf title;

	for (size_t i = 1; i < n; i++) {
		if (ps[i].t < t0)
			t0 = ps[i].t;
		if (ps[i].t > t1)
			t1 = ps[i].t;
	}
	/* the panel names its cell: device and key (and run, where runs differ) */
	eb_buf_init(&title, 0);
	eb_buf_addstr(&title, alone ? "Power over time (" : "");
	if (v->run)
		eb_buf_addf(&title, "run %lld ", (long long)c->run_id);
	if (*c->device)
		eb_buf_addf(&title, "%s: ", c->device);
	eb_buf_addstr(&title, c->key);
	eb_buf_addstr(&title, alone ? ")" : "");
	eb_buf_addstr(&f->gp, alone ? "set title " : "unset object\nset title ");
	eb_gp_str(&f->gp, title.buf);
	eb_buf_addstr(&f->gp, "\n");
	for (size_t k = 0; k < w->nwin; k++) {
		const struct eb_pwin *q = &w->win[k];

		if (q->cell != cell || q->last < t0 || q->send > t1)
			continue;
		eb_buf_addf(&f->gp,
			    "set object %zu rect from %.6f, graph 0 to %.6f, graph 1 behind"
			    " fc rgb '#f28e2b' fs transparent solid 0.25 noborder\n",
			    2 * nobj + 1, eb_secs_since(q->send, t0), eb_secs_since(q->first, t0));
		eb_buf_addf(&f->gp,
			    "set object %zu rect from %.6f, graph 0 to %.6f, graph 1 behind"
			    " fc rgb '#4e79a7' fs transparent solid 0.15 noborder\n",
			    2 * nobj + 2, eb_secs_since(q->first, t0), eb_secs_since(q->last, t0));
		nobj++;
	}
	*shaded += nobj;
	/* one block per series, each whole: gnuplot's `index` picks it, and a blank line
	 * inside one would cut its line into stretches */
	for (size_t i = 0, nser = 0; i < n; nser++) {
		size_t series = ps[i].series;
		char name[512];

		eb_buf_addf(&f->dat, "# %s %s (t [s] since the cell's first sample, W)\n", c->key,
			    w->names[series]);
		for (; i < n && ps[i].series == series; i++) {
			eb_buf_addf(&f->dat, "%.6f", eb_secs_since(ps[i].t, t0));
			eb_dat_num(&f->dat, ps[i].w);
			eb_buf_addstr(&f->dat, "\n");
		}
		eb_buf_addstr(&f->dat, "\n\n");
		eb_buf_addstr(&f->gp, nser ? ", \\\n  " : "plot ");
		eb_fig_datref(f);
		eb_buf_addf(&f->gp, " index %zu using 1:2 with lines lw 1.5 title ", (*block)++);
		eb_strlcpy(name, w->names[series], sizeof(name));
		eb_shorten(name);
		eb_gp_str(&f->gp, name);
	}
	if (nobj)
		eb_buf_addstr(&f->gp, ", \\\n  keyentry with boxes fc rgb '#f28e2b' fs transparent solid"
				      " 0.25 noborder title 'prefill', \\\n  keyentry with boxes fc"
				      " rgb '#4e79a7' fs transparent solid 0.15 noborder title 'decode'");
	eb_buf_addstr(&f->gp, "\n");
	eb_buf_release(&title);
}

/* Watts over time: one panel per cell, each on its own time axis (cells measured at
 * once, or merged from several boards, would otherwise overlap on one). */
static int eb_plot_power(struct eb_store *s, const struct eb_plot_opts *o, const struct eb_rdata *d,
			 struct eb_fig *f, struct eb_err *err)
{
	struct eb_pcell *cells = eb_xmalloc((d->n + 1) * sizeof(*cells));
	struct eb_pw w = { .cells = cells, .ncells = d->n };
	size_t max = o->max_panels ? o->max_panels : EB_PLOT_MAX_PANELS;
	size_t npanel = 0, block = 0, shaded = 0;
	struct eb_vary vary;
	int ret;

	for (size_t i = 0; i < d->n; i++)
		cells[i] = (struct eb_pcell){ d->cells[i].id, i };
	qsort(cells, d->n, sizeof(*cells), eb_pcell_cmp);
	ret = eb_store_read_power(s, o->sel.run_id, eb_pw_sample, &w, err);
	if (ret)
		goto out;
	if (w.nps == 0) {
		ret = eb_err_set(err, EB_ENOENT, "no power samples in %s", f->where);
		goto out;
	}
	qsort(w.ps, w.nps, sizeof(*w.ps), eb_psample_cmp);
	for (size_t i = 0; i < w.nps; i++)
		npanel += i == 0 || w.ps[i].cell != w.ps[i - 1].cell;
	if (npanel > max) {
		ret = eb_err_set(err, EB_EINVAL,
				 "%zu cells with power samples in %s: one panel each, more than the "
				 "%zu that stay legible in one figure; pick cells with --only KEY "
				 "(a pattern, e.g. --only '*/q4_0/*')",
				 npanel, f->where, max);
		goto out;
	}

	/* prefill and decode windows of the measured requests need each request's send time
	 * on the samples' clock (requests.t_send_ns, where the schema has it) */
	ret = eb_store_read_sends(s, o->sel.run_id, eb_pw_window, &w, err);
	if (ret)
		goto out;

	eb_vary_of(d, &vary);
	f->rows = npanel;
	eb_buf_addstr(&f->gp, "set xlabel 'time [s]'\nset ylabel 'power [W]'\nset yrange [0:*]\n");
	if (npanel > 1)
		eb_buf_addf(&f->gp, "set multiplot layout %zu,1 title 'Power over time (%s)'\n",
			    npanel, f->where);
	for (size_t i = 0, j; i < w.nps; i = j) {
		for (j = i + 1; j < w.nps && w.ps[j].cell == w.ps[i].cell; j++)
			;
		eb_pw_panel(&w, &d->cells[w.ps[i].cell], &vary, &w.ps[i], j - i, npanel == 1, f,
			    &block, &shaded);
	}
	if (npanel > 1)
		eb_buf_addstr(&f->gp, "unset multiplot\n");
	if (shaded == 0 && o->log)
		fprintf(o->log, "edgebench plot: note: no request send times on the sensors' clock"
				" in %s: prefill and decode windows are not shaded\n",
			f->where);
out:
	for (size_t k = 0; k < w.nnames; k++)
		free(w.names[k]);
	free(w.names);
	free(w.ps);
	free(w.win);
	free(cells);
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

		if (o->run_id == c->run_id && strcmp(o->device, c->device) == 0 &&
		    strcmp(o->target, c->target) == 0 &&
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
	const char *const *metrics; /* --metric patterns */
	struct eb_fig *f;
	struct eb_buf panels;
	char cur[512];
	size_t npanel, npts;
	size_t nrows, nmatch; /* rows of the selected cells; of those, rows of selected metrics */
	struct eb_buf names;  /* the metrics drawn, ", "-separated, each once */
};

/* Ends the current panel: its data block and its plot command. */
static void eb_acc_close(struct eb_acc_panels *p)
{
	eb_buf_addstr(&p->f->dat, "\n\n");
	eb_buf_addstr(&p->panels, "plot ");
	eb_fig_datref_to(p->f, &p->panels);
	eb_buf_addf(&p->panels, " index %zu using 1:2:3 with yerrorbars pt 7 ps 1.2\n",
		    p->npanel - 1);
}

/* Whether a ", "-separated list holds the name. */
static int eb_list_has(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && *p;) {
		const char *e = strstr(p, ", ");
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == n && memcmp(p, name, n) == 0)
			return 1;
		p += len + (e ? 2 : 0);
	}
	return 0;
}

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
	if (!eb_pat_match(p->metrics, a->metric))
		return 0;
	p->nmatch++;
	x = eb_model_bytes(p->d, c) / 1048576.0;
	if (!isfinite(x))
		return 0;
	snprintf(name, sizeof(name), "%s %s", a->task, a->metric);
	if (strcmp(name, p->cur) != 0) {
		if (p->npanel)
			eb_acc_close(p);
		eb_buf_addstr(&p->panels, "unset label\nset title ");
		eb_gp_str(&p->panels, name);
		eb_buf_addstr(&p->panels, "\nset ylabel ");
		eb_gp_str(&p->panels, name);
		eb_buf_addstr(&p->panels, "\n");
		eb_strlcpy(p->cur, name, sizeof(p->cur));
		p->npanel++;
		if (!eb_list_has(p->names.buf, a->metric))
			eb_buf_addf(&p->names, "%s%s", p->names.len ? ", " : "", a->metric);
	}
	eb_buf_addf(&f->dat, "%.9g %.9g %.9g\n", x, y, se);
	eb_cell_label(label, sizeof(label), c, p->vary, 0);
	/* a figure of part of its dataset says so next to its point (limit) */
	for (size_t q = 0; q < c->nacc; q++)
		if (strcmp(c->acc[q].task, a->task) == 0 && strcmp(c->acc[q].metric, a->metric) == 0 &&
		    c->acc[q].limit > 0) {
			size_t len = strlen(label);

			snprintf(label + len, sizeof(label) - len, " (limit %lld)", c->acc[q].limit);
			break;
		}
	eb_buf_addstr(&p->panels, "set label ");
	eb_gp_str(&p->panels, label);
	eb_buf_addf(&p->panels, " at %.9g, %.9g offset 1,1\n", x, y);
	p->npts++;
	return 0;
}

/* The patterns as given, comma-separated: "ppl,acc*". */
static void eb_pats_str(char *buf, size_t n, const char *const *pats)
{
	struct eb_buf b;

	eb_buf_init(&b, 0);
	for (size_t i = 0; pats && pats[i]; i++)
		eb_buf_addf(&b, "%s%s", i ? "," : "", pats[i]);
	eb_strlcpy(buf, b.buf ? b.buf : "", n);
	eb_buf_release(&b);
}

/*
 * One panel per task and metric (--metric picks them by metric name), two a row, each as
 * large as a figure of its own would be legible at (eb_fig_head grows the figure).
 */
static int eb_plot_accuracy(struct eb_store *s, const struct eb_plot_opts *o,
			    const struct eb_rdata *d, struct eb_fig *f, struct eb_err *err)
{
	struct eb_vary vary;
	struct eb_acc_panels p = { .d = d, .vary = &vary, .metrics = o->metrics, .f = f };
	size_t max = o->max_panels ? o->max_panels : EB_PLOT_MAX_PANELS;
	char pats[256];
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
	eb_buf_init(&p.names, 0);
	ret = eb_store_read_accuracy(s, o->sel.run_id, 0, eb_acc_point, &p, err);
	if (ret)
		goto out;
	if (p.npts == 0) {
		eb_pats_str(pats, sizeof(pats), o->metrics);
		if (p.nrows && !p.nmatch)
			ret = eb_err_set(err, EB_ENOENT, "no accuracy metric in %s matches --metric '%s'",
					 f->where, pats);
		else
			ret = eb_err_set(err, EB_ENOENT,
					 p.nrows ? "no accuracy results with a model size "
						   "(model_bytes) in %s"
						 : "no accuracy results in %s (they come from the "
						   "accuracy workload)",
					 f->where);
		goto out;
	}
	if (p.npanel > max) {
		ret = eb_err_set(err, EB_EINVAL,
				 "%zu accuracy panels (one per task and metric), more than the %zu "
				 "that stay legible in one figure; pick metrics with --metric PAT "
				 "(e.g. --metric 'ppl,acc_norm') of: %s",
				 p.npanel, max, p.names.buf);
		goto out;
	}
	eb_acc_close(&p);
	f->cols = p.npanel > 1 ? 2 : 1;
	f->rows = (p.npanel + f->cols - 1) / f->cols;
	eb_buf_addstr(&f->gp, "set xlabel 'model size [MiB]'\nunset key\n"
			      "set offsets graph 0.1, graph 0.2, graph 0.1, graph 0.1\n");
	if (p.npanel > 1)
		eb_buf_addf(&f->gp, "set multiplot layout %zu,%zu title 'Accuracy against model size'\n",
			    f->rows, f->cols);
	eb_buf_addstr(&f->gp, p.panels.buf);
	if (p.npanel > 1)
		eb_buf_addstr(&f->gp, "unset multiplot\n");
out:
	eb_buf_release(&p.panels);
	eb_buf_release(&p.names);
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

/*
 * A cell's energy per decoded token: its stored J/token, else its average power over its
 * decode rate (*est set; NAN without samples). tps is the cell's decode rate.
 */
static int eb_cell_j_per_token(struct eb_store *s, const struct eb_plot_opts *o,
			       const struct eb_rcell *c, double tps, double *j, int *est,
			       struct eb_err *err)
{
	static const char *const jnames[] = { "j_per_token", "decode_j_per_token",
					      "energy_j_per_token" };

	*j = NAN;
	*est = 0;
	for (size_t k = 0; k < sizeof(jnames) / sizeof(jnames[0]) && !isfinite(*j); k++)
		*j = eb_rmetric_stat(eb_rcell_metric(c, jnames[k]), o->stat);
	if (!isfinite(*j) && isfinite(tps) && tps > 0) {
		double w;
		long long ns;
		int ret = eb_rdata_cell_power(s, c->id, &w, &ns, err);

		if (ret)
			return ret;
		if (ns > 0 && isfinite(w)) {
			*j = w / tps;
			*est = 1;
		}
	}
	return 0;
}

static int eb_plot_pareto(struct eb_store *s, const struct eb_plot_opts *o,
			  const struct eb_rdata *d, struct eb_fig *f, struct eb_err *err)
{
	struct eb_ppt *pt = eb_xcalloc(d->n + 1, sizeof(*pt));
	struct eb_vary vary;
	size_t n = 0, nest = 0;
	double best = -INFINITY;
	int ret = 0;

	eb_vary_of(d, &vary);
	for (size_t i = 0; i < d->n; i++) {
		const struct eb_rcell *c = &d->cells[i];
		double tps = eb_rmetric_stat(eb_rcell_metric(c, "decode_tps"), o->stat);
		double j;
		int est;

		if (!isfinite(tps) || tps <= 0)
			continue;
		ret = eb_cell_j_per_token(s, o, c, tps, &j, &est, err);
		if (ret)
			goto out;
		nest += est;
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

/*
 * Decode rate over time: one line per sustained cell, a point per window of its series
 * (backend_json "sustained", harness/sustain.c) at the window's middle.
 */
static int eb_plot_sustained(struct eb_store *s, const struct eb_plot_opts *o,
			     const struct eb_rdata *d, struct eb_fig *f, struct eb_err *err)
{
	struct eb_vary vary;
	struct eb_buf plot;
	size_t nser = 0;
	int ret = 0;

	(void)o;
	eb_vary_of(d, &vary);
	eb_buf_init(&plot, 0);
	for (size_t i = 0; i < d->n && !ret; i++) {
		const struct eb_rcell *c = &d->cells[i];
		char *text = NULL, label[512], full[600];
		size_t k, written = 0;
		struct eb_buf blk;
		json_t *wins, *w;
		double window_s;

		ret = eb_store_cell_backend(s, c->id, "$.sustained", &text, err);
		if (ret || !text)
			continue;
		wins = json_loads(text, 0, NULL);
		free(text);
		window_s = json_number_value(json_object_get(wins, "window_s"));
		/* a block only for a cell with points: gnuplot's index counts blocks */
		eb_buf_init(&blk, 0);
		eb_buf_addf(&blk, "# series %zu: cell %lld: t_s decode_tps\n", nser,
			    (long long)c->id);
		json_array_foreach(json_object_get(wins, "windows"), k, w) {
			const json_t *v = json_object_get(w, "decode_tps");

			if (!json_is_number(v))
				continue;
			eb_dat_num(&blk, json_number_value(json_object_get(w, "t_s")) + window_s / 2);
			eb_dat_num(&blk, json_number_value(v));
			eb_buf_addstr(&blk, "\n");
			written++;
		}
		json_decref(wins);
		if (written)
			eb_buf_addf(&f->dat, "%s\n\n", blk.buf);
		eb_buf_release(&blk);
		if (written == 0)
			continue;
		eb_cell_label(label, sizeof(label), c, &vary, 1);
		snprintf(full, sizeof(full), "%s%s%s", label, *c->mode ? "@" : "", c->mode);
		if (c->repeat > 0)
			snprintf(full + strlen(full), sizeof(full) - strlen(full), "#%d", c->repeat);
		eb_buf_addstr(&plot, nser ? ", \\\n  " : "plot ");
		eb_fig_datref_to(f, &plot);
		eb_buf_addf(&plot, " index %zu using 1:2 with linespoints lw 2 pt 7 title ", nser);
		eb_gp_str(&plot, full);
		nser++;
	}
	if (!ret && nser == 0)
		ret = eb_err_set(err, EB_ENOENT, "no sustained cells (workloads.latency.duration_s) "
						 "with a decode rate in %s", f->where);
	if (!ret) {
		eb_buf_addstr(&f->gp, "set title 'decode rate over time (window means)'\n"
				      "set xlabel 'time since the first measured request [s]'\n");
		eb_gp_ylabel(&f->gp, "decode_tps");
		eb_buf_addstr(&f->gp, "set yrange [0:*]\n");
		eb_buf_add(&f->gp, plot.buf, plot.len);
		eb_buf_addstr(&f->gp, "\n");
	}
	eb_buf_release(&plot);
	return ret;
}

/*
 * Decode rate and tokens per joule against the device mode: one line per variant (the
 * cell without its mode and repeat), a point per mode in the order the run set them;
 * repeats of a cell in one mode are averaged (their statistic's mean).
 */
/* The rest of a plot command: a line per series (data block k, columns `using`). */
static void eb_gp_lines(struct eb_fig *f, const struct eb_rcell *const *series, size_t n,
			const struct eb_vary *vary, int with_lengths, const char *using)
{
	for (size_t k = 0; k < n; k++) {
		char label[512];

		eb_cell_label(label, sizeof(label), series[k], vary, with_lengths);
		eb_buf_addstr(&f->gp, k ? ", \\\n  " : "");
		eb_fig_datref(f);
		eb_buf_addf(&f->gp, " index %zu using %s with linespoints lw 2 pt 7 title ", k,
			    using);
		eb_gp_str(&f->gp, label);
	}
	eb_buf_addstr(&f->gp, "\n");
}

static int eb_plot_modes(struct eb_store *s, const struct eb_plot_opts *o,
			 const struct eb_rdata *d, struct eb_fig *f, struct eb_err *err)
{
	const char **modes = eb_xcalloc(d->n + 1, sizeof(*modes));
	const struct eb_rcell **series = eb_xcalloc(d->n + 1, sizeof(*series));
	size_t nmode = 0, nser = 0, nest = 0, ntpj = 0;
	struct eb_vary vary;
	int ret = 0;

	eb_vary_of(d, &vary);
	/* modes and series in the order of the cells (the plan sets modes outermost) */
	for (size_t i = 0; i < d->n; i++) {
		const struct eb_rcell *c = &d->cells[i];
		size_t k;

		if (!*c->mode || eb_rcell_is_accuracy(c))
			continue;
		for (k = 0; k < nmode && strcmp(modes[k], c->mode) != 0; k++)
			;
		if (k == nmode)
			modes[nmode++] = c->mode;
		for (k = 0; k < nser; k++)
			if (series[k]->run_id == c->run_id && strcmp(series[k]->device, c->device) == 0 &&
			    strcmp(series[k]->target, c->target) == 0 &&
			    strcmp(series[k]->model, c->model) == 0 &&
			    strcmp(series[k]->quant, c->quant) == 0 &&
			    series[k]->prompt_tokens == c->prompt_tokens &&
			    series[k]->gen_tokens == c->gen_tokens)
				break;
		if (k == nser)
			series[nser++] = c;
	}
	if (nmode == 0) {
		ret = eb_err_set(err, EB_ENOENT, "no cells in %s ran in a device mode "
						 "(device.modes)", f->where);
		goto out;
	}
	eb_buf_addstr(&f->gp, "set xtics (");
	for (size_t m = 0; m < nmode; m++) {
		eb_buf_addstr(&f->gp, m ? ", " : "");
		eb_gp_str(&f->gp, modes[m]);
		eb_buf_addf(&f->gp, " %zu", m);
	}
	eb_buf_addf(&f->gp, ")\nset xrange [-0.5:%zu.5]\n", nmode - 1);
	for (size_t k = 0; k < nser; k++) {
		const struct eb_rcell *sc = series[k];

		eb_buf_addf(&f->dat, "# series %zu: mode_index decode_tps tokens_per_j\n", k);
		for (size_t m = 0; m < nmode; m++) {
			double tps_sum = 0, tpj_sum = 0;
			int tps_n = 0, tpj_n = 0;

			for (size_t i = 0; i < d->n; i++) {
				const struct eb_rcell *c = &d->cells[i];
				double tps, j;
				int est;

				if (strcmp(c->mode, modes[m]) != 0 || c->run_id != sc->run_id ||
				    strcmp(c->device, sc->device) != 0 ||
				    strcmp(c->target, sc->target) != 0 ||
				    strcmp(c->model, sc->model) != 0 ||
				    strcmp(c->quant, sc->quant) != 0 ||
				    c->prompt_tokens != sc->prompt_tokens ||
				    c->gen_tokens != sc->gen_tokens || eb_rcell_is_accuracy(c))
					continue;
				tps = eb_rmetric_stat(eb_rcell_metric(c, "decode_tps"), o->stat);
				if (isfinite(tps)) {
					tps_sum += tps;
					tps_n++;
				}
				ret = eb_cell_j_per_token(s, o, c, tps, &j, &est, err);
				if (ret)
					goto out;
				if (isfinite(j) && j > 0) {
					tpj_sum += 1 / j;
					tpj_n++;
					nest += est;
					ntpj++;
				}
			}
			eb_buf_addf(&f->dat, "%zu", m);
			eb_dat_num(&f->dat, tps_n ? tps_sum / tps_n : NAN);
			eb_dat_num(&f->dat, tpj_n ? tpj_sum / tpj_n : NAN);
			eb_buf_addstr(&f->dat, "\n");
		}
		eb_buf_addstr(&f->dat, "\n\n");
	}
	/* without power samples or energy figures there is no tokens-per-joule panel */
	eb_buf_addf(&f->gp, "set multiplot layout %d,1 title 'Device modes (%s of the requests of "
			    "each cell, repeats averaged%s)'\n",
		    ntpj ? 2 : 1, o->stat == EB_STAT_MEAN ? "mean" : "median",
		    ntpj ? "" : "; no energy figures: no tokens per joule");
	for (int panel = 0; panel < (ntpj ? 2 : 1); panel++) {
		if (panel == 0)
			eb_gp_ylabel(&f->gp, "decode_tps");
		else
			eb_buf_addf(&f->gp, "set ylabel 'tokens per joule [token/J]%s'\n",
				    nest ? " (estimated: decode rate / average power)" : "");
		eb_buf_addstr(&f->gp, "set yrange [0:*]\nplot ");
		eb_gp_lines(f, series, nser, &vary, 1, panel ? "1:3" : "1:2");
	}
	eb_buf_addstr(&f->gp, "unset multiplot\n");
out:
	free(modes);
	free(series);
	return ret;
}

/* The same variant (a line of the load figure): run, device, target, model, quant, mode. */
static int eb_same_variant(const struct eb_rcell *a, const struct eb_rcell *b)
{
	return a->run_id == b->run_id && strcmp(a->device, b->device) == 0 &&
	       strcmp(a->target, b->target) == 0 && strcmp(a->model, b->model) == 0 &&
	       strcmp(a->quant, b->quant) == 0 && strcmp(a->mode, b->mode) == 0;
}

/* Concurrencies ascending, then rates ascending (the throughput grows along the line). */
static int eb_by_load_point(const void *a, const void *b)
{
	const struct eb_rcell *x = *(const struct eb_rcell *const *)a;
	const struct eb_rcell *y = *(const struct eb_rcell *const *)b;
	char kx = 0, ky = 0;
	double vx = 0, vy = 0;

	eb_load_point(x->key, &kx, &vx);
	eb_load_point(y->key, &ky, &vy);
	if (kx != ky)
		return kx < ky ? -1 : 1;
	return vx < vy ? -1 : vx > vy;
}

/*
 * Throughput against latency: two panels, output tok/s against the p90 TPOT and the p90
 * TTFT of each load cell that ended ok, a line per variant through its points in order.
 */
static int eb_plot_load(const struct eb_plot_opts *o, const struct eb_rdata *d,
			struct eb_fig *f, struct eb_err *err)
{
	const struct eb_rcell **v = eb_xcalloc(d->n + 1, sizeof(*v));
	const struct eb_rcell **series = eb_xcalloc(d->n + 1, sizeof(*series));
	size_t n = 0, nser = 0;
	struct eb_vary vary;

	(void)o;
	eb_vary_of(d, &vary);
	for (size_t i = 0; i < d->n; i++) {
		const struct eb_rcell *c = &d->cells[i];
		char k;
		double x;
		size_t j;

		if (strcmp(c->workload, "load") != 0 || strcmp(c->status, "ok") != 0 ||
		    eb_load_point(c->key, &k, &x) != 0)
			continue;
		v[n++] = c;
		for (j = 0; j < nser && !eb_same_variant(series[j], c); j++)
			;
		if (j == nser)
			series[nser++] = c;
	}
	if (n == 0) {
		free(v);
		free(series);
		return eb_err_set(err, EB_ENOENT, "no load cells ended ok in %s (workloads.load)",
				  f->where);
	}
	qsort(v, n, sizeof(*v), eb_by_load_point);
	for (size_t k = 0; k < nser; k++) {
		eb_buf_addf(&f->dat, "# series %zu: tpot_ms_p90 ttft_ms_p90 output_tps point\n", k);
		for (size_t i = 0; i < n; i++) {
			const struct eb_rmetric *tp = eb_rcell_metric(v[i], "tpot_ms");
			const struct eb_rmetric *tt = eb_rcell_metric(v[i], "ttft_ms");
			const struct eb_rmetric *ot = eb_rcell_metric(v[i], "output_tps");

			if (!eb_same_variant(series[k], v[i]))
				continue;
			eb_dat_num(&f->dat, tp ? tp->p90 : NAN);
			eb_dat_num(&f->dat, tt ? tt->p90 : NAN);
			eb_dat_num(&f->dat, ot ? ot->mean : NAN);
			eb_buf_addf(&f->dat, " %.*s\n",
				    (int)strcspn(strstr(v[i]->key, "/load/") + 6, "@#"),
				    strstr(v[i]->key, "/load/") + 6);
		}
		eb_buf_addstr(&f->dat, "\n\n");
	}
	eb_buf_addstr(&f->gp, "set multiplot layout 1,2 title 'Throughput against latency (load "
			      "cells; p90 of the requests)'\n");
	for (int panel = 0; panel < 2; panel++) {
		eb_buf_addf(&f->gp, "set xlabel '%s p90 [ms]'\nset ylabel 'output tokens/s "
				    "[tok/s]'\nset yrange [0:*]\nset xrange [0:*]\nplot ",
			    panel ? "TTFT" : "TPOT");
		eb_gp_lines(f, series, nser, &vary, 0, panel ? "2:3" : "1:3");
	}
	eb_buf_addstr(&f->gp, "unset multiplot\n");
	free(v);
	free(series);
	return 0;
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
	if (d.n == 0 && o->sel.keys && o->sel.keys[0]) {
		char pats[256];

		eb_pats_str(pats, sizeof(pats), o->sel.keys);
		ret = eb_err_set(err, EB_ENOENT, "no cell in %s matches --only '%s'", f.where, pats);
		goto out;
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
	case EB_PLOT_SUSTAINED:
		ret = eb_plot_sustained(s, o, &d, &f, err);
		break;
	case EB_PLOT_MODES:
		ret = eb_plot_modes(s, o, &d, &f, err);
		break;
	case EB_PLOT_LOAD:
		ret = eb_plot_load(o, &d, &f, err);
		break;
	}
	if (!ret)
		ret = eb_fig_run(&f, o, prog, err);
out:
	eb_rdata_release(&d);
	eb_fig_release(&f);
	return ret;
}
