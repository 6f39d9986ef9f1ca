/* report.c: report layouts (cells, long, wide, card, speedup), the html page and the run list. */
#include "report.h"
#include "repeats.h"
#include "loadtab.h"
#include "plot.h"

#include "metric.h"

#include "eb_sanitize.h"
#include "eb_util.h"

#include <errno.h>
#include <jansson.h>
#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *eb_metric_label(const char *name, const char **unit)
{
	if (unit)
		*unit = eb_metric_unit_of(name);
	return eb_metric_label_of(name);
}

static int eb_human(enum eb_report_format fmt)
{
	return fmt != EB_REPORT_CSV && fmt != EB_REPORT_JSON;
}

static const char *eb_stat_name(enum eb_report_stat stat)
{
	return stat == EB_STAT_MEAN ? "mean" : "median";
}

/* ---- cells ----------------------------------------------------------------------- */

static const char *const eb_cell_figures[] = { "ttft_ms", "prefill_tps", "decode_tps", "e2e_ms",
					       "peak_rss_mb" };

/* The measured requests of a latency cell: the most any of its figures rests on (E2E is
 * never withheld); -1 (shown "-") for a cell that stored none. */
static long long eb_rcell_requests(const struct eb_rcell *c)
{
	long long n = -1;

	for (size_t k = 0; k < sizeof(eb_cell_figures) / sizeof(eb_cell_figures[0]); k++) {
		const struct eb_rmetric *m = eb_rcell_metric(c, eb_cell_figures[k]);

		if (m && m->n > n && strcmp(eb_cell_figures[k], "peak_rss_mb") != 0)
			n = m->n;
	}
	return n;
}

/* The identity every layout starts its rows with: run, device, target, model, quant. */
static void eb_who_cols(struct eb_table *t)
{
	eb_table_col(t, "run", NULL, NULL, EB_TK_INT);
	eb_table_col(t, "device", NULL, NULL, EB_TK_TEXT);
	eb_table_col(t, "target", NULL, NULL, EB_TK_TEXT);
	eb_table_col(t, "model", NULL, NULL, EB_TK_TEXT);
	eb_table_col(t, "quant", NULL, NULL, EB_TK_TEXT);
}

static size_t eb_who_vals(struct eb_table *t, size_t r, const struct eb_rcell *c)
{
	eb_table_set_int(t, r, 0, c->run_id);
	eb_table_set_text(t, r, 1, c->device);
	eb_table_set_text(t, r, 2, c->target);
	eb_table_set_text(t, r, 3, c->model);
	eb_table_set_text(t, r, 4, c->quant);
	return 5;
}

/* The device mode and repeat columns, only when a selected cell ran in a mode or repeats:
 * a report of a database without them is as it was. */
static void eb_mode_cols(struct eb_table *t, const struct eb_rdata *d)
{
	if (d->has_modes)
		eb_table_col(t, "mode", NULL, NULL, EB_TK_TEXT);
	if (d->has_repeats)
		eb_table_col(t, "repeat", NULL, NULL, EB_TK_INT);
}

static size_t eb_mode_vals(struct eb_table *t, size_t r, size_t col, const struct eb_rcell *c,
			   const struct eb_rdata *d)
{
	if (d->has_modes)
		eb_table_set_text(t, r, col++, c->mode[0] ? c->mode : NULL);
	if (d->has_repeats)
		eb_table_set_int(t, r, col++, c->repeat);
	return col;
}

/* The cell's warnings joined by " | " (csv and json with --wide). */
static void eb_warning_text(struct eb_table *t, size_t r, size_t col, const struct eb_rcell *c)
{
	struct eb_buf b;

	if (!c->nwarn)
		return;
	eb_buf_init(&b, 0);
	for (size_t k = 0; k < c->nwarn; k++)
		eb_buf_addf(&b, "%s%s", k ? " | " : "", c->warnings[k]);
	eb_table_set_text(t, r, col, b.buf);
	eb_buf_release(&b);
}

/*
 * The cells layout's latency table: the inference cells (accuracy cells have a table of
 * their own), one row each. Every format has the identity, the lengths, status, the
 * figures --metric lets in and the warnings count; csv and json add the key (rows of one
 * table told apart without --wide); --wide adds the key, the error and (csv, json) the
 * warnings' text.
 */
static void eb_layout_cells(const struct eb_report_opts *o, const struct eb_rdata *d,
			    struct eb_table *t, const char *title)
{
	int key = o->wide || !eb_human(o->fmt);
	size_t nfig = sizeof(eb_cell_figures) / sizeof(eb_cell_figures[0]);

	eb_table_init(t, title);
	eb_who_cols(t);
	eb_table_col(t, "prompt_tokens", "prompt", "tok", EB_TK_INT);
	eb_table_col(t, "gen_tokens", "gen", "tok", EB_TK_INT);
	eb_mode_cols(t, d);
	eb_table_col(t, "status", NULL, NULL, EB_TK_TEXT);
	/* what each figure rests on: the measured requests (a figure a guard withheld for
	 * some requests rests on fewer: --layout long gives each figure's own n) */
	eb_table_col(t, "requests", "n", "req", EB_TK_INT);
	for (size_t k = 0; k < nfig; k++) {
		const char *unit, *label = eb_metric_label(eb_cell_figures[k], &unit);

		if (eb_pat_match(o->metric_pats, eb_cell_figures[k]))
			eb_table_col(t, eb_cell_figures[k], label, unit, EB_TK_NUM);
	}
	eb_table_col(t, "warnings", NULL, NULL, EB_TK_INT);
	if (key)
		eb_table_col(t, "key", NULL, NULL, EB_TK_TEXT);
	if (o->wide) {
		eb_table_col(t, "error", NULL, NULL, EB_TK_TEXT);
		if (!eb_human(o->fmt))
			eb_table_col(t, "warning_text", NULL, NULL, EB_TK_TEXT);
	}
	for (size_t i = 0; i < d->n; i++) {
		const struct eb_rcell *c = &d->cells[i];
		size_t r, col;

		if (eb_rcell_is_accuracy(c))
			continue;
		r = eb_table_row(t);
		col = eb_who_vals(t, r, c);
		eb_table_set_int(t, r, col++, c->prompt_tokens);
		eb_table_set_int(t, r, col++, c->gen_tokens);
		col = eb_mode_vals(t, r, col, c, d);
		eb_table_set_text(t, r, col++, c->status);
		eb_table_set_int(t, r, col++, eb_rcell_requests(c));
		for (size_t k = 0; k < nfig; k++)
			if (eb_pat_match(o->metric_pats, eb_cell_figures[k]))
				eb_table_set_num(t, r, col++,
						 eb_rmetric_stat(eb_rcell_metric(c, eb_cell_figures[k]),
								 o->stat));
		eb_table_set_int(t, r, col++, (long long)c->nwarn);
		if (key)
			eb_table_set_text(t, r, col++, c->key);
		if (o->wide) {
			eb_table_set_text(t, r, col++, c->error);
			if (!eb_human(o->fmt))
				eb_warning_text(t, r, col++, c);
		}
	}
}

/* Whether the cells layout has figure columns (--metric may leave it none). */
static int eb_cells_has_figures(const struct eb_report_opts *o)
{
	for (size_t k = 0; k < sizeof(eb_cell_figures) / sizeof(eb_cell_figures[0]); k++)
		if (eb_pat_match(o->metric_pats, eb_cell_figures[k]))
			return 1;
	return 0;
}

/* Whether the accuracy table has a row of the accuracy cell: a figure --metric lets in,
 * or, without --metric, its status when it has no figure. */
static int eb_acc_cell_shown(const struct eb_report_opts *o, const struct eb_rcell *c)
{
	if (c->nacc == 0)
		return !o->metric_pats || !o->metric_pats[0];
	for (size_t k = 0; k < c->nacc; k++)
		if (eb_pat_match(o->metric_pats, c->acc[k].metric))
			return 1;
	return 0;
}

/*
 * The accuracy table: a row per accuracy figure that --metric lets in (task, protocol,
 * metric, value, its standard error, the items or tokens scored and the task's limit,
 * empty when the whole dataset was scored); an accuracy cell without figures (failed,
 * skipped, pending) has one row with its status. Returns how many accuracy cells the
 * selection has.
 */
static size_t eb_layout_accuracy(const struct eb_report_opts *o, const struct eb_rdata *d,
				 struct eb_table *t)
{
	int key = o->wide || !eb_human(o->fmt);
	size_t ncells = 0;

	eb_table_init(t, "accuracy");
	eb_who_cols(t);
	eb_table_col(t, "task", NULL, NULL, EB_TK_TEXT);
	eb_table_col(t, "protocol", NULL, NULL, EB_TK_TEXT);
	eb_table_col(t, "metric", NULL, NULL, EB_TK_TEXT);
	eb_table_col(t, "value", NULL, NULL, EB_TK_NUM);
	eb_table_col(t, "stderr", NULL, NULL, EB_TK_NUM);
	eb_table_col(t, "n", "scored", NULL, EB_TK_INT);
	eb_table_col(t, "limit", NULL, NULL, EB_TK_INT);
	eb_table_col(t, "status", NULL, NULL, EB_TK_TEXT);
	eb_table_col(t, "warnings", NULL, NULL, EB_TK_INT);
	if (key)
		eb_table_col(t, "key", NULL, NULL, EB_TK_TEXT);
	if (o->wide)
		eb_table_col(t, "error", NULL, NULL, EB_TK_TEXT);
	for (size_t i = 0; i < d->n; i++) {
		const struct eb_rcell *c = &d->cells[i];

		if (!eb_rcell_is_accuracy(c))
			continue;
		ncells++;
		for (size_t k = 0; k <= c->nacc; k++) {
			const struct eb_racc *a = k < c->nacc ? &c->acc[k] : NULL;
			size_t r, col;

			/* the figures --metric lets in; a cell without any: its status */
			if (a ? !eb_pat_match(o->metric_pats, a->metric)
			      : c->nacc > 0 || !eb_acc_cell_shown(o, c))
				continue;
			r = eb_table_row(t);
			col = eb_who_vals(t, r, c);
			eb_table_set_text(t, r, col++, a ? a->task : NULL);
			eb_table_set_text(t, r, col++, a && a->protocol[0] ? a->protocol : NULL);
			eb_table_set_text(t, r, col++, a ? a->metric : NULL);
			eb_table_set_num(t, r, col++, a ? a->value : NAN);
			eb_table_set_num(t, r, col++, a ? a->stderr_ : NAN);
			eb_table_set_int(t, r, col++, a ? a->n : -1);
			eb_table_set_int(t, r, col++, a ? a->limit : -1);
			eb_table_set_text(t, r, col++, c->status);
			eb_table_set_int(t, r, col++, (long long)c->nwarn);
			if (key)
				eb_table_set_text(t, r, col++, c->key);
			if (o->wide)
				eb_table_set_text(t, r, col++, c->error);
		}
	}
	return ncells;
}

/* The warnings of the cells the other tables show (latency: whether that table is
 * printed), one row each: the human formats' footnotes to the warnings column. Returns
 * how many. */
static size_t eb_layout_warnings(const struct eb_report_opts *o, const struct eb_rdata *d,
				 int latency, struct eb_table *t)
{
	eb_table_init(t, "warnings");
	eb_table_col(t, "run", NULL, NULL, EB_TK_INT);
	eb_table_col(t, "key", NULL, NULL, EB_TK_TEXT);
	eb_table_col(t, "warning", NULL, NULL, EB_TK_TEXT);
	for (size_t i = 0; i < d->n; i++)
		for (size_t k = 0; k < d->cells[i].nwarn; k++) {
			if (eb_rcell_is_accuracy(&d->cells[i]) ? !eb_acc_cell_shown(o, &d->cells[i])
							       : !latency)
				break;
			size_t r = eb_table_row(t);

			eb_table_set_int(t, r, 0, d->cells[i].run_id);
			eb_table_set_text(t, r, 1, d->cells[i].key);
			eb_table_set_text(t, r, 2, d->cells[i].warnings[k]);
		}
	return t->nrows;
}

/* ---- long ------------------------------------------------------------------------ */

/* A cell's identity and lengths (repeats.h); mode and repeat when a cell of `d` has one. */
void eb_ident_cols(struct eb_table *t, const struct eb_rdata *d)
{
	eb_who_cols(t);
	eb_table_col(t, "prompt_tokens", "prompt", "tok", EB_TK_INT);
	eb_table_col(t, "gen_tokens", "gen", "tok", EB_TK_INT);
	eb_mode_cols(t, d);
}

size_t eb_ident_vals(struct eb_table *t, size_t r, const struct eb_rcell *c,
		     const struct eb_rdata *d)
{
	size_t col = eb_who_vals(t, r, c);

	eb_table_set_int(t, r, col++, c->prompt_tokens);
	eb_table_set_int(t, r, col++, c->gen_tokens);
	return eb_mode_vals(t, r, col, c, d);
}

/* The long layout's summary fields, mean to ci_hi. */
enum { EB_LONG_NF = 9 };

static void eb_long_row(struct eb_table *t, const struct eb_rdata *d, const struct eb_rcell *c,
			const char *task, const char *name, const char *unit, long long n,
			const double *f, long long n_outliers, double stderr_)
{
	size_t r = eb_table_row(t), col = eb_ident_vals(t, r, c, d);

	eb_table_set_text(t, r, col++, task);
	eb_table_set_text(t, r, col++, name);
	eb_table_set_text(t, r, col++, unit[0] ? unit : NULL);
	eb_table_set_int(t, r, col++, n);
	for (size_t k = 0; k < EB_LONG_NF; k++)
		eb_table_set_num(t, r, col++, f[k]);
	eb_table_set_int(t, r, col++, n_outliers);
	eb_table_set_num(t, r, col++, stderr_);
}

/*
 * One row per cell x metric: the metrics table's summaries, then the cell's accuracy
 * figures (task set; mean and median hold the figure, n what it scored, stderr its
 * standard error; the fields an accuracy figure does not have are empty).
 */
static void eb_layout_long(const struct eb_report_opts *o, const struct eb_rdata *d,
			   struct eb_table *t)
{
	static const char *const fields[EB_LONG_NF] = { "mean", "stddev", "median", "min", "max",
							"p90",  "p99",    "ci_lo",  "ci_hi" };

	eb_table_init(t, NULL);
	eb_ident_cols(t, d);
	eb_table_col(t, "task", NULL, NULL, EB_TK_TEXT);
	eb_table_col(t, "metric", NULL, NULL, EB_TK_TEXT);
	eb_table_col(t, "unit", NULL, NULL, EB_TK_TEXT);
	eb_table_col(t, "n", NULL, NULL, EB_TK_INT);
	for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
		eb_table_col(t, fields[k], NULL, NULL, EB_TK_NUM);
	eb_table_col(t, "n_outliers", NULL, NULL, EB_TK_INT);
	eb_table_col(t, "stderr", NULL, NULL, EB_TK_NUM);
	for (size_t i = 0; i < d->n; i++) {
		const struct eb_rcell *c = &d->cells[i];

		for (size_t k = 0; k < c->nm; k++) {
			const struct eb_rmetric *m = &c->m[k];
			const double f[EB_LONG_NF] = { m->mean, m->stddev, m->median, m->min, m->max,
						       m->p90,  m->p99,    m->ci_lo,  m->ci_hi };

			if (eb_pat_match(o->metric_pats, m->name))
				eb_long_row(t, d, c, NULL, m->name, m->unit, m->n, f, m->n_outliers, NAN);
		}
		for (size_t k = 0; k < c->nacc; k++) {
			const struct eb_racc *a = &c->acc[k];
			/* the figure as the mean and the median, as a single-valued metric has it */
			const double f[EB_LONG_NF] = { a->value, NAN, a->value, NAN, NAN,
						       NAN,      NAN, NAN,      NAN };

			if (eb_pat_match(o->metric_pats, a->metric))
				eb_long_row(t, d, c, a->task, a->metric, "", a->n, f, -1, a->stderr_);
		}
	}
}

/* ---- wide ------------------------------------------------------------------------ */

static int eb_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The wide layout's metrics: --metrics, else every stored name matching --metric, else
 * the cells layout's five figures. Returns a malloc'd NULL-terminated array of borrowed
 * strings. */
static const char **eb_wide_metrics(const struct eb_report_opts *o, const struct eb_rdata *d,
				    size_t *n)
{
	const char **names = NULL;
	size_t cnt = 0;

	if (o->metrics && o->metrics[0]) {
		while (o->metrics[cnt])
			cnt++;
		names = eb_xcalloc(cnt + 1, sizeof(*names));
		for (size_t i = 0; i < cnt; i++)
			names[i] = o->metrics[i];
	} else if (o->metric_pats && o->metric_pats[0]) {
		for (size_t i = 0; i < d->n; i++)
			for (size_t k = 0; k < d->cells[i].nm + d->cells[i].nacc; k++) {
				const struct eb_rcell *c = &d->cells[i];
				const char *m = k < c->nm ? c->m[k].name : c->acc[k - c->nm].metric;
				size_t j;

				if (!eb_pat_match(o->metric_pats, m))
					continue;
				for (j = 0; j < cnt && strcmp(names[j], m) != 0; j++)
					;
				if (j < cnt)
					continue;
				names = eb_xrealloc(names, (cnt + 2) * sizeof(*names));
				names[cnt++] = m;
			}
		if (cnt > 1)
			qsort(names, cnt, sizeof(*names), eb_strcmp_p);
		if (!names)
			names = eb_xcalloc(1, sizeof(*names));
		names[cnt] = NULL;
	} else {
		cnt = sizeof(eb_cell_figures) / sizeof(eb_cell_figures[0]);
		names = eb_xcalloc(cnt + 1, sizeof(*names));
		for (size_t i = 0; i < cnt; i++)
			names[i] = eb_cell_figures[i];
	}
	*n = cnt;
	return names;
}

static const char *eb_metric_unit(const struct eb_rdata *d, const char *name)
{
	const char *unit;

	for (size_t i = 0; i < d->n; i++) {
		const struct eb_rmetric *m = eb_rcell_metric(&d->cells[i], name);

		if (m && m->unit[0])
			return m->unit;
	}
	eb_metric_label(name, &unit);
	return unit;
}

static void eb_layout_wide(const struct eb_report_opts *o, const struct eb_rdata *d,
			   struct eb_table *t)
{
	size_t nm;
	const char **names = eb_wide_metrics(o, d, &nm);

	eb_table_init(t, NULL);
	eb_ident_cols(t, d);
	eb_table_col(t, "status", NULL, NULL, EB_TK_TEXT);
	for (size_t k = 0; k < nm; k++) {
		const char *unit = eb_metric_unit(d, names[k]);
		const char *label = eb_metric_label(names[k], NULL);
		char name[512], lab[512];

		eb_table_col(t, names[k], label, unit, EB_TK_NUM);
		if (o->stat == EB_STAT_MEDIAN) {
			snprintf(name, sizeof(name), "%s_p90", names[k]);
			snprintf(lab, sizeof(lab), "%s p90", label);
			eb_table_col(t, name, lab, unit, EB_TK_NUM);
		} else {
			snprintf(name, sizeof(name), "%s_ci_lo", names[k]);
			snprintf(lab, sizeof(lab), "%s CI low", label);
			eb_table_col(t, name, lab, unit, EB_TK_NUM);
			snprintf(name, sizeof(name), "%s_ci_hi", names[k]);
			snprintf(lab, sizeof(lab), "%s CI high", label);
			eb_table_col(t, name, lab, unit, EB_TK_NUM);
		}
	}
	for (size_t i = 0; i < d->n; i++) {
		const struct eb_rcell *c = &d->cells[i];
		size_t r = eb_table_row(t), col = eb_ident_vals(t, r, c, d);

		eb_table_set_text(t, r, col++, c->status);
		for (size_t k = 0; k < nm; k++) {
			const struct eb_rmetric *m = eb_rcell_metric(c, names[k]);
			const struct eb_racc *a = m ? NULL : eb_rcell_acc(c, names[k]);

			/* an accuracy figure is one value: no p90 or interval of its own */
			eb_table_set_num(t, r, col++, a ? a->value : eb_rmetric_stat(m, o->stat));
			if (o->stat == EB_STAT_MEDIAN) {
				eb_table_set_num(t, r, col++, m ? m->p90 : NAN);
			} else {
				eb_table_set_num(t, r, col++, m ? m->ci_lo : NAN);
				eb_table_set_num(t, r, col++, m ? m->ci_hi : NAN);
			}
		}
	}
	free(names);
}

/* ---- card ------------------------------------------------------------------------ */

/* Orders cells by run, device, target, model, quant, prompt, gen, then id (latest last):
 * a card never mixes runs or devices. */
static int eb_by_variant(const void *a, const void *b)
{
	const struct eb_rcell *x = *(const struct eb_rcell *const *)a;
	const struct eb_rcell *y = *(const struct eb_rcell *const *)b;
	int r;

	if (x->run_id != y->run_id)
		return x->run_id < y->run_id ? -1 : 1;
	if ((r = strcmp(x->device, y->device)) != 0)
		return r;
	if ((r = strcmp(x->target, y->target)) != 0)
		return r;
	if ((r = strcmp(x->model, y->model)) != 0)
		return r;
	if ((r = strcmp(x->quant, y->quant)) != 0)
		return r;
	if ((r = strcmp(x->mode, y->mode)) != 0)
		return r;
	if (x->prompt_tokens != y->prompt_tokens)
		return x->prompt_tokens < y->prompt_tokens ? -1 : 1;
	if (x->gen_tokens != y->gen_tokens)
		return x->gen_tokens < y->gen_tokens ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static const struct eb_rcell **eb_sorted_cells(const struct eb_rdata *d)
{
	const struct eb_rcell **v = eb_xcalloc(d->n + 1, sizeof(*v));

	for (size_t i = 0; i < d->n; i++)
		v[i] = &d->cells[i];
	qsort(v, d->n, sizeof(*v), eb_by_variant);
	return v;
}

/* A variant of a card: its column and its cells (a slice of the sorted array). */
struct eb_variant {
	const char *quant;
	const char *mode; /* a variant in each device mode is a column of its own; "" */
	const struct eb_rcell **cells;
	size_t n;
};

static int eb_by_full_first(const void *a, const void *b)
{
	const struct eb_variant *x = a, *y = b;
	int fx = eb_quant_is_full(x->quant), fy = eb_quant_is_full(y->quant);

	if (fx != fy)
		return fy - fx;
	if (strcmp(x->quant, y->quant) != 0)
		return strcmp(x->quant, y->quant);
	return strcmp(x->mode, y->mode);
}

/* The variant's latest cell with that prompt length (any prompt length when p < 0). */
static const struct eb_rcell *eb_variant_cell(const struct eb_variant *v, int p, const char *metric)
{
	const struct eb_rcell *best = NULL;

	for (size_t i = 0; i < v->n; i++) {
		const struct eb_rcell *c = v->cells[i];

		/* a load cell's TTFT and rates are under load: the card's own rows say so */
		if ((p >= 0 && c->prompt_tokens != p) || !eb_rcell_metric(c, metric) ||
		    strcmp(c->workload, "load") == 0)
			continue;
		if (!best || c->run_id > best->run_id ||
		    (c->run_id == best->run_id && c->id > best->id))
			best = c;
	}
	return best;
}

/* Largest value of a single-valued metric over the variant's inference cells (NAN if
 * none): an accuracy cell loads the model in its own way (a kld cell holds two sets of
 * logits), so its memory is not the variant's. */
static double eb_variant_max(const struct eb_variant *v, const char *metric)
{
	double best = NAN;

	for (size_t i = 0; i < v->n; i++) {
		const struct eb_rmetric *m;
		double x;

		if (eb_rcell_is_accuracy(v->cells[i]))
			continue;
		m = eb_rcell_metric(v->cells[i], metric);
		x = m ? (isfinite(m->max) ? m->max : m->median) : NAN;
		if (isfinite(x) && (!isfinite(best) || x > best))
			best = x;
	}
	return best;
}

/* The server's peak RSS as a proc sensor measured it (mem_peak_mb:SENSOR/rss) over the
 * variant's inference cells, NAN when none did; *sensor names the sensor. */
static double eb_variant_server_rss(const struct eb_variant *v, const char **sensor)
{
	double best = NAN;

	for (size_t i = 0; i < v->n; i++) {
		const struct eb_rcell *c = v->cells[i];

		if (eb_rcell_is_accuracy(c))
			continue;
		for (size_t k = 0; k < c->nm; k++) {
			const struct eb_rmetric *m = &c->m[k];
			double x = isfinite(m->max) ? m->max : m->median;

			if (fnmatch("mem_peak_mb:*/rss", m->name, 0) != 0 || !isfinite(x))
				continue;
			if (!isfinite(best) || x > best) {
				best = x;
				*sensor = m->name + strlen("mem_peak_mb:");
			}
		}
	}
	return best;
}

static int eb_cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/*
 * The card's label of an accuracy figure: "task metric (protocol)", with ", limit N" in
 * the parentheses when the task scored only part of its dataset, so that a partial
 * figure is never read as the whole one.
 */
static void eb_card_acc_name(struct eb_buf *name, const struct eb_racc *a, const char *route)
{
	eb_buf_addf(name, "%s %s", a->task, a->metric);
	if (a->protocol[0] && a->limit > 0)
		eb_buf_addf(name, " (%s%s%s, limit %lld)", a->protocol, route ? ", " : "",
			    route ? route : "", a->limit);
	else if (a->protocol[0])
		eb_buf_addf(name, " (%s%s%s)", a->protocol, route ? ", " : "", route ? route : "");
	else if (a->limit > 0)
		eb_buf_addf(name, " (limit %lld)", a->limit);
}

/*
 * Whether protocol names a generative route (its name ends in "-gen", docs/accuracy.md);
 * *family_len (may be NULL) gets the length of the name it shares with the
 * log-likelihood protocol of the same task ("hellaswag" of "hellaswag-gen").
 */
static int eb_acc_generative(const char *protocol, size_t *family_len)
{
	size_t n = strlen(protocol);
	int gen = n > 4 && strcmp(protocol + n - 4, "-gen") == 0;

	if (family_len)
		*family_len = gen ? n - 4 : n;
	return gen;
}

/* Whether protocols a and b are routes of one task (same family). */
static int eb_acc_same_family(const char *a, const char *b)
{
	size_t na, nb;

	eb_acc_generative(a, &na);
	eb_acc_generative(b, &nb);
	return na == nb && strncmp(a, b, na) == 0;
}

/* The card's columns: metric, unit, then one per variant, full precision first. */
static void eb_card_columns(struct eb_table *t, struct eb_variant *var, size_t nv)
{
	qsort(var, nv, sizeof(*var), eb_by_full_first);
	eb_table_col(t, "metric", NULL, NULL, EB_TK_TEXT);
	eb_table_col(t, "unit", NULL, NULL, EB_TK_TEXT);
	for (size_t k = 0; k < nv; k++) {
		char name[512];

		/* quant@mode, as the cell keys end */
		snprintf(name, sizeof(name), "%s%s%s", var[k].quant, var[k].mode[0] ? "@" : "",
			 var[k].mode);
		eb_table_col(t, name, NULL, NULL, EB_TK_NUM);
	}
}

/* The prompt lengths of the model's cells, ascending and distinct (malloc'd, *np of them). */
static int *eb_card_prompts(const struct eb_variant *var, size_t nv, size_t *np)
{
	int *plen = NULL;

	*np = 0;
	for (size_t k = 0; k < nv; k++)
		for (size_t i = 0; i < var[k].n; i++) {
			int p = var[k].cells[i]->prompt_tokens;
			size_t j;

			for (j = 0; j < *np && plen[j] != p; j++)
				;
			if (j == *np && p >= 0 && strcmp(var[k].cells[i]->workload, "load") != 0) {
				plen = eb_xrealloc(plen, (*np + 1) * sizeof(*plen));
				plen[(*np)++] = p;
			}
		}
	if (*np > 1)
		qsort(plen, *np, sizeof(*plen), eb_cmp_int);
	return plen;
}

/* TTFT, a row per prompt length. */
static void eb_card_ttft(struct eb_table *t, const struct eb_report_opts *o,
			 const struct eb_variant *var, size_t nv, const int *plen, size_t np)
{
	char label[256];

	for (size_t j = 0; j < np; j++) {
		size_t r = eb_table_row(t);

		snprintf(label, sizeof(label), "%s, %d input tokens", eb_metric_label_of("ttft_ms"),
			 plen[j]);
		eb_table_set_text(t, r, 0, label);
		eb_table_set_text(t, r, 1, eb_metric_unit_of("ttft_ms"));
		for (size_t k = 0; k < nv; k++) {
			const struct eb_rcell *c = eb_variant_cell(&var[k], plen[j], "ttft_ms");

			eb_table_set_num(t, r, 2 + k,
					 c ? eb_rmetric_stat(eb_rcell_metric(c, "ttft_ms"), o->stat)
					   : NAN);
		}
	}
}

/* Decode and prefill rates at the longest prompt length (the label says which). */
static void eb_card_rates(struct eb_table *t, const struct eb_report_opts *o,
			  const struct eb_variant *var, size_t nv, int longest)
{
	char label[256];

	for (int rate = 0; rate < 2; rate++) {
		const char *metric = rate == 0 ? "decode_tps" : "prefill_tps";
		size_t r;

		if (!eb_pat_match(o->metric_pats, metric))
			continue;
		r = eb_table_row(t);
		snprintf(label, sizeof(label), "%s rate, %d input tokens", eb_metric_label_of(metric),
			 longest);
		eb_table_set_text(t, r, 0, label);
		eb_table_set_text(t, r, 1, eb_metric_unit_of(metric));
		for (size_t k = 0; k < nv; k++) {
			const struct eb_rcell *c = eb_variant_cell(&var[k], longest, metric);

			eb_table_set_num(t, r, 2 + k,
					 c ? eb_rmetric_stat(eb_rcell_metric(c, metric), o->stat) : NAN);
		}
	}
}

/* Memory: KV cache, peak RSS and model size, each where some variant's inference cells
 * have it. Peak RSS is the server's when a proc sensor measured it (a server target:
 * edgebench's own RSS says nothing of the model), else edgebench's; the label says which. */
static void eb_card_memory(struct eb_table *t, const struct eb_report_opts *o,
			   const struct eb_variant *var, size_t nv)
{
	/* shown in MiB whatever unit they are stored in */
	static const struct {
		const char *metric;
		double scale;
	} mem[] = {
		{ "kv_bytes", 1.0 / 1048576 },
		{ "peak_rss_mb", 1 },
		{ "model_bytes", 1.0 / 1048576 },
	};

	for (size_t q = 0; q < sizeof(mem) / sizeof(mem[0]); q++) {
		int rss = strcmp(mem[q].metric, "peak_rss_mb") == 0;
		const char *sensor = NULL;
		char label[256];
		size_t r, any = 0, server = 0;

		if (!eb_pat_match(o->metric_pats, mem[q].metric))
			continue;
		for (size_t k = 0; k < nv; k++) {
			any += isfinite(eb_variant_max(&var[k], mem[q].metric));
			server += rss && isfinite(eb_variant_server_rss(&var[k], &sensor));
		}
		if (!any && !server)
			continue;
		r = eb_table_row(t);
		if (server)
			snprintf(label, sizeof(label), "%s, server process (proc sensor %.*s)",
				 eb_metric_label_of(mem[q].metric),
				 (int)(strrchr(sensor, '/') - sensor), sensor);
		else if (rss)
			snprintf(label, sizeof(label), "%s, edgebench process",
				 eb_metric_label_of(mem[q].metric));
		else
			snprintf(label, sizeof(label), "%s", eb_metric_label_of(mem[q].metric));
		eb_table_set_text(t, r, 0, label);
		eb_table_set_text(t, r, 1, "MiB");
		for (size_t k = 0; k < nv; k++)
			eb_table_set_num(t, r, 2 + k,
					 server ? eb_variant_server_rss(&var[k], &sensor)
						: eb_variant_max(&var[k], mem[q].metric) *
							  mem[q].scale);
	}
}

/* The quantization scheme labels from the stored config, a row per label some variant has. */
static int eb_card_scheme(struct eb_store *s, struct eb_table *t, const struct eb_variant *var,
			  size_t nv, struct eb_err *err)
{
	static const char *const what[] = { "weights", "activations", "KV cache type" };
	char **lab = eb_xcalloc(3 * nv + 1, sizeof(*lab));
	size_t any[3] = { 0, 0, 0 };
	int ret = 0;

	for (size_t k = 0; k < nv && !ret; k++) {
		const struct eb_rcell *c = var[k].cells[var[k].n - 1];

		ret = eb_rdata_scheme(s, c->run_id, c->model, c->quant, &lab[k], &lab[nv + k],
				      &lab[2 * nv + k], err);
		for (size_t w = 0; w < 3; w++)
			any[w] += lab[w * nv + k] != NULL;
	}
	for (size_t w = 0; w < 3 && !ret; w++) {
		size_t r;

		if (!any[w])
			continue;
		r = eb_table_row(t);
		eb_table_set_text(t, r, 0, what[w]);
		eb_table_set_text(t, r, 1, NULL);
		for (size_t k = 0; k < nv; k++)
			eb_table_set_text(t, r, 2 + k, lab[w * nv + k]);
	}
	for (size_t i = 0; i < 3 * nv; i++)
		free(lab[i]);
	free(lab);
	return ret;
}

/* One accuracy row of the card: its label, whether a figure of it has a stderr, its row;
 * a figure of it (for its protocol and label) and its route when it is labelled by one. */
struct eb_card_acc {
	char *name;
	int has_se;
	size_t row;
	const struct eb_racc *a;
	const char *route;
};

/*
 * A task's generative figures beside its log-likelihood ones: each generative row moves
 * to just after the last row of its family, and is labelled so, as are those
 * log-likelihood rows ("(hellaswag, log-likelihood)" over "(hellaswag-gen,
 * generative)"); one without a log-likelihood partner goes after the log-likelihood
 * rows. A card without generative rows is as it was.
 */
static void eb_card_acc_pair(struct eb_card_acc *rows, size_t n)
{
	struct eb_card_acc *out = eb_xcalloc(n + 1, sizeof(*out));
	size_t k = 0;

	for (size_t r = 0; r < n; r++)
		if (!eb_acc_generative(rows[r].a->protocol, NULL))
			out[k++] = rows[r];
	for (size_t r = 0; r < n; r++) {
		const char *p = rows[r].a->protocol;
		size_t at = k;

		if (!eb_acc_generative(p, NULL))
			continue;
		for (size_t j = 0; j < k; j++)
			if (eb_acc_same_family(out[j].a->protocol, p))
				at = j + 1;
		for (size_t j = 0; j < at; j++)
			if (!eb_acc_generative(out[j].a->protocol, NULL) &&
			    eb_acc_same_family(out[j].a->protocol, p))
				out[j].route = "log-likelihood";
		memmove(out + at + 1, out + at, (k - at) * sizeof(*out));
		out[at] = rows[r];
		out[at].route = "generative";
		k++;
	}
	if (n) /* a card without accuracy rows has no array to copy into (NULL) */
		memcpy(rows, out, n * sizeof(*rows));
	free(out);
}

/* Accuracy rows, a row per task and metric that --metric lets in ("accuracy" lets in
 * every one), a column per variant; under each row whose figures have a standard error,
 * a row with it ("..., stderr"). Rows come in the order the figures first appear. */
static void eb_card_accuracy(const struct eb_report_opts *o, struct eb_table *t,
			     const struct eb_variant *var, size_t nv)
{
	int all = eb_pat_match(o->metric_pats, "accuracy");
	struct eb_card_acc *rows = NULL;
	size_t nrows = 0;
	struct eb_buf name;

	eb_buf_init(&name, 0);
	for (int pass = 0; pass < 2; pass++) {
		/* pass 0 finds the rows and which have a stderr; pass 1 fills them in */
		for (size_t k = 0; k < nv; k++)
			for (size_t i = 0; i < var[k].n; i++)
				for (size_t q = 0; q < var[k].cells[i]->nacc; q++) {
					const struct eb_racc *a = &var[k].cells[i]->acc[q];
					size_t j;

					if (isnan(a->value) ||
					    (!all && !eb_pat_match(o->metric_pats, a->metric)))
						continue;
					eb_buf_reset(&name);
					eb_card_acc_name(&name, a, NULL);
					for (j = 0; j < nrows && strcmp(rows[j].name, name.buf) != 0; j++)
						;
					if (pass == 1) {
						eb_table_set_num(t, rows[j].row, 2 + k, a->value);
						if (rows[j].has_se)
							eb_table_set_num(t, rows[j].row + 1, 2 + k,
									 a->stderr_);
						continue;
					}
					if (j == nrows) {
						rows = eb_xrealloc(rows, (nrows + 1) * sizeof(*rows));
						rows[nrows].name = eb_xstrdup(name.buf);
						rows[nrows].has_se = 0;
						rows[nrows].a = a;
						rows[nrows].route = NULL;
						nrows++;
					}
					rows[j].has_se |= isfinite(a->stderr_);
				}
		if (pass == 0)
			eb_card_acc_pair(rows, nrows);
		for (size_t j = 0; pass == 0 && j < nrows; j++) {
			/* the row's label: its name, with the route where it is paired */
			eb_buf_reset(&name);
			eb_card_acc_name(&name, rows[j].a, rows[j].route);
			rows[j].row = eb_table_row(t);
			eb_table_set_text(t, rows[j].row, 0, name.buf);
			eb_table_set_text(t, rows[j].row, 1, NULL);
			if (rows[j].has_se) {
				size_t r = eb_table_row(t);

				eb_buf_reset(&name);
				eb_card_acc_name(&name, rows[j].a, rows[j].route);
				eb_buf_addstr(&name, ", stderr");
				eb_table_set_text(t, r, 0, name.buf);
				eb_table_set_text(t, r, 1, NULL);
			}
		}
	}
	for (size_t j = 0; j < nrows; j++)
		free(rows[j].name);
	free(rows);
	eb_buf_release(&name);
}

/* Average power over each variant's power samples (cells weighted by their samples). */
static int eb_card_power(struct eb_store *s, struct eb_table *t, const struct eb_variant *var,
			 size_t nv, struct eb_err *err)
{
	double *w = eb_xcalloc(nv + 1, sizeof(*w));
	size_t any = 0;
	int ret = 0;

	for (size_t k = 0; k < nv && !ret; k++) {
		double sum = 0;
		long long tot = 0;

		for (size_t i = 0; i < var[k].n && !ret; i++) {
			double cw;
			long long cn;

			ret = eb_rdata_cell_power(s, var[k].cells[i]->id, &cw, &cn, err);
			if (!ret && cn > 0 && isfinite(cw)) {
				sum += cw * (double)cn;
				tot += cn;
			}
		}
		w[k] = tot ? sum / (double)tot : NAN;
		any += tot > 0;
	}
	if (!ret && any) {
		size_t r = eb_table_row(t);

		eb_table_set_text(t, r, 0, "average power");
		eb_table_set_text(t, r, 1, eb_metric_unit_of("power_avg_w"));
		for (size_t k = 0; k < nv; k++)
			eb_table_set_num(t, r, 2 + k, w[k]);
	}
	free(w);
	return ret;
}

/* A load point of the card: 'c' (concurrency) or 'r' (rate), its value, its name ("c4"). */
struct eb_card_point {
	char kind;
	double value;
	char name[64];
};

/* Concurrencies, then rates, each ascending (as the load layout has them). */
static int eb_by_card_point(const void *a, const void *b)
{
	const struct eb_card_point *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->value < y->value ? -1 : x->value > y->value;
}

/* The variant's latest load cell at that point that stored `metric`, or NULL. */
static const struct eb_rcell *eb_variant_load_cell(const struct eb_variant *v,
						   const struct eb_card_point *pt,
						   const char *metric)
{
	const struct eb_rcell *best = NULL;

	for (size_t i = 0; i < v->n; i++) {
		const struct eb_rcell *c = v->cells[i];
		char kind;
		double x;

		if (strcmp(c->workload, "load") != 0 || eb_load_point(c->key, &kind, &x) != 0 ||
		    kind != pt->kind || x != pt->value || !eb_rcell_metric(c, metric))
			continue;
		if (!best || c->run_id > best->run_id ||
		    (c->run_id == best->run_id && c->id > best->id))
			best = c;
	}
	return best;
}

/* The load points of the model's cells, sorted (malloc'd, *n of them). */
static struct eb_card_point *eb_card_points(const struct eb_variant *var, size_t nv, size_t *n)
{
	struct eb_card_point *pt = NULL;

	*n = 0;
	for (size_t k = 0; k < nv; k++)
		for (size_t i = 0; i < var[k].n; i++) {
			const struct eb_rcell *c = var[k].cells[i];
			const char *p = strstr(c->key, "/load/");
			struct eb_card_point q;
			size_t j;

			if (strcmp(c->workload, "load") != 0 ||
			    eb_load_point(c->key, &q.kind, &q.value) != 0)
				continue;
			for (j = 0; j < *n && (pt[j].kind != q.kind || pt[j].value != q.value); j++)
				;
			if (j < *n)
				continue;
			/* the key's end without its mode and repeat: c4, r2, rinf */
			snprintf(q.name, sizeof(q.name), "%.*s", (int)strcspn(p + 6, "@#"), p + 6);
			pt = eb_xrealloc(pt, (*n + 1) * sizeof(*pt));
			pt[(*n)++] = q;
		}
	if (*n > 1)
		qsort(pt, *n, sizeof(*pt), eb_by_card_point);
	return pt;
}

/*
 * The SLOs a load cell's goodput was judged against, from its stored params ("slo"), as
 * " (ttft<=500 ms, tpot<=50 ms)" into b; nothing when it stored none. ASCII "<=": a LaTeX
 * card compiles without a font for U+2264. Returns 0 or EB_EDB.
 */
static int eb_card_slo(struct eb_store *s, const struct eb_rcell *c, struct eb_buf *b,
		       struct eb_err *err)
{
	static const char *const key[] = { "ttft_ms", "tpot_ms", "itl_ms", "e2e_ms" };
	char *text = NULL;
	json_t *slo;
	int ret = eb_store_cell_params(s, c->id, "$.slo", &text, err), any = 0;

	if (ret || !text)
		return ret;
	slo = json_loads(text, 0, NULL);
	for (size_t k = 0; k < sizeof(key) / sizeof(key[0]); k++) {
		json_t *v = json_object_get(slo, key[k]);

		if (!json_is_number(v))
			continue;
		eb_buf_addf(b, "%s%.*s<=%.15g ms", any ? ", " : " (",
			    (int)(strlen(key[k]) - 3), key[k], json_number_value(v));
		any = 1;
	}
	if (any)
		eb_buf_addf(b, ")");
	json_decref(slo);
	free(text);
	return 0;
}

/* Load rows, per load point (concurrencies, then rates): output tok/s, then the goodput
 * fraction with the SLOs it was judged against where a variant's cell there has one. */
static int eb_card_load(struct eb_store *s, const struct eb_report_opts *o, struct eb_table *t,
			const struct eb_variant *var, size_t nv, struct eb_err *err)
{
	static const char *const metric[] = { "output_tps", "goodput_frac" };
	size_t npt;
	struct eb_card_point *pt = eb_card_points(var, nv, &npt);
	struct eb_buf label;
	int ret = 0;

	eb_buf_init(&label, 0);
	for (size_t j = 0; j < npt && !ret; j++)
		for (size_t q = 0; q < 2 && !ret; q++) {
			const struct eb_rcell *first = NULL;
			size_t r;

			for (size_t k = 0; k < nv && !first; k++)
				first = eb_variant_load_cell(&var[k], &pt[j], metric[q]);
			if (!first || !eb_pat_match(o->metric_pats, metric[q]))
				continue;
			eb_buf_reset(&label);
			eb_buf_addf(&label, "%s @ %s", eb_metric_label_of(metric[q]), pt[j].name);
			/* one run's cells share one config, so one SLO set */
			if (q == 1)
				ret = eb_card_slo(s, first, &label, err);
			r = eb_table_row(t);
			eb_table_set_text(t, r, 0, label.buf);
			eb_table_set_text(t, r, 1, eb_metric_unit_of(metric[q]));
			for (size_t k = 0; k < nv; k++) {
				const struct eb_rcell *c =
					eb_variant_load_cell(&var[k], &pt[j], metric[q]);

				/* single figures: the mean is the value */
				eb_table_set_num(t, r, 2 + k,
						 c ? eb_rcell_metric(c, metric[q])->mean : NAN);
			}
		}
	eb_buf_release(&label);
	free(pt);
	return ret;
}

/* One model's card: its rows in order, each kind where --metric lets it in. */
static int eb_card_one(struct eb_store *s, const struct eb_report_opts *o,
		       struct eb_variant *var, size_t nv, struct eb_table *t, struct eb_err *err)
{
	const char *const *mp = o->metric_pats;
	size_t np;
	int *plen;
	int ret = 0;

	eb_card_columns(t, var, nv);
	plen = eb_card_prompts(var, nv, &np);
	if (eb_pat_match(mp, "ttft_ms"))
		eb_card_ttft(t, o, var, nv, plen, np);
	if (np)
		eb_card_rates(t, o, var, nv, plen[np - 1]);
	ret = eb_card_load(s, o, t, var, nv, err);
	eb_card_memory(t, o, var, nv);
	if (!ret && eb_pat_match(mp, "scheme"))
		ret = eb_card_scheme(s, t, var, nv, err);
	if (!ret)
		eb_card_accuracy(o, t, var, nv);
	if (!ret && eb_pat_match(mp, "power"))
		ret = eb_card_power(s, t, var, nv, err);
	free(plen);
	return ret;
}

static int eb_layout_card(struct eb_store *s, const struct eb_report_opts *o,
			  const struct eb_rdata *d, struct eb_table **tabs, size_t *ntabs,
			  struct eb_err *err)
{
	const struct eb_rcell **v = eb_sorted_cells(d);
	int ret = 0;

	for (size_t i = 0; i < d->n && !ret;) {
		struct eb_variant *var = NULL;
		size_t nv = 0, j = i;
		struct eb_table *t;
		char title[512];

		/* the model's group: cells of one run and device with the same target and
		 * model (two devices or two runs are two cards, never one) */
		while (j < d->n && v[j]->run_id == v[i]->run_id &&
		       strcmp(v[j]->device, v[i]->device) == 0 &&
		       strcmp(v[j]->target, v[i]->target) == 0 &&
		       strcmp(v[j]->model, v[i]->model) == 0) {
			if (nv == 0 || strcmp(var[nv - 1].quant, v[j]->quant) != 0 ||
			    strcmp(var[nv - 1].mode, v[j]->mode) != 0) {
				var = eb_xrealloc(var, (nv + 1) * sizeof(*var));
				var[nv].quant = v[j]->quant;
				var[nv].mode = v[j]->mode;
				var[nv].cells = &v[j];
				var[nv].n = 0;
				nv++;
			}
			var[nv - 1].n++;
			j++;
		}
		*tabs = eb_xrealloc(*tabs, (*ntabs + 1) * sizeof(**tabs));
		t = &(*tabs)[(*ntabs)++];
		snprintf(title, sizeof(title), "%s on %s, device %s, run %lld (%s)", v[i]->model,
			 v[i]->target, v[i]->device[0] ? v[i]->device : "-",
			 (long long)v[i]->run_id, eb_stat_name(o->stat));
		eb_table_init(t, title);
		ret = eb_card_one(s, o, var, nv, t, err);
		free(var);
		i = j;
	}
	free(v);
	return ret;
}

/* ---- speedup --------------------------------------------------------------------- */

/* A speedup group: one run and device, target, model and lengths (a baseline is never
 * looked up in another run or on another device). */
static int eb_same_group(const struct eb_rcell *a, const struct eb_rcell *b)
{
	return a->run_id == b->run_id && strcmp(a->device, b->device) == 0 &&
	       strcmp(a->target, b->target) == 0 && strcmp(a->model, b->model) == 0 &&
	       a->prompt_tokens == b->prompt_tokens && a->gen_tokens == b->gen_tokens;
}

/* Orders by run, device, target, model, prompt, gen, then quant and id (latest last). */
static int eb_by_group(const void *a, const void *b)
{
	const struct eb_rcell *x = *(const struct eb_rcell *const *)a;
	const struct eb_rcell *y = *(const struct eb_rcell *const *)b;
	int r;

	if (x->run_id != y->run_id)
		return x->run_id < y->run_id ? -1 : 1;
	if ((r = strcmp(x->device, y->device)) != 0)
		return r;
	if ((r = strcmp(x->target, y->target)) != 0)
		return r;
	if ((r = strcmp(x->model, y->model)) != 0)
		return r;
	if (x->prompt_tokens != y->prompt_tokens)
		return x->prompt_tokens < y->prompt_tokens ? -1 : 1;
	if (x->gen_tokens != y->gen_tokens)
		return x->gen_tokens < y->gen_tokens ? -1 : 1;
	if ((r = strcmp(x->quant, y->quant)) != 0)
		return r;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* A metric's baseline and candidate columns ("baseline TTFT", "TTFT"), as the registry
 * labels it and in its unit. */
static void eb_speedup_cols(struct eb_table *t, const char *metric)
{
	const char *unit, *label = eb_metric_label(metric, &unit);
	char name[128], lab[128];

	snprintf(name, sizeof(name), "baseline_%s", metric);
	snprintf(lab, sizeof(lab), "baseline %s", label);
	eb_table_col(t, name, lab, unit, EB_TK_NUM);
	eb_table_col(t, metric, label, unit, EB_TK_NUM);
}

static int eb_layout_speedup(const struct eb_report_opts *o, const struct eb_rdata *d,
			     struct eb_table *t, struct eb_err *err)
{
	const struct eb_rcell **v = eb_xcalloc(d->n + 1, sizeof(*v));
	size_t found = 0, n = 0;

	/* inference cells only: an accuracy cell has no rate to compare (it made a row of
	 * dashes) */
	for (size_t i = 0; i < d->n; i++)
		if (!eb_rcell_is_accuracy(&d->cells[i]))
			v[n++] = &d->cells[i];
	qsort(v, n, sizeof(*v), eb_by_group);
	eb_table_init(t, NULL);
	eb_table_col(t, "run", NULL, NULL, EB_TK_INT);
	eb_table_col(t, "device", NULL, NULL, EB_TK_TEXT);
	eb_table_col(t, "target", NULL, NULL, EB_TK_TEXT);
	eb_table_col(t, "model", NULL, NULL, EB_TK_TEXT);
	eb_table_col(t, "prompt_tokens", "prompt", "tok", EB_TK_INT);
	eb_table_col(t, "gen_tokens", "gen", "tok", EB_TK_INT);
	eb_table_col(t, "baseline", NULL, NULL, EB_TK_TEXT);
	eb_table_col(t, "quant", NULL, NULL, EB_TK_TEXT);
	eb_speedup_cols(t, "decode_tps");
	eb_table_col(t, "speedup", "speedup (decode)", NULL, EB_TK_NUM);
	eb_speedup_cols(t, "ttft_ms");
	eb_table_col(t, "ttft_ratio", "TTFT ratio", NULL, EB_TK_NUM);
	for (size_t i = 0; i < n;) {
		const struct eb_rcell *base = NULL;
		size_t j = i;

		while (j < n && eb_same_group(v[i], v[j])) {
			if (strcmp(v[j]->quant, o->baseline) == 0)
				base = v[j]; /* the group's latest cell wins */
			j++;
		}
		if (base) {
			double bd = eb_rmetric_stat(eb_rcell_metric(base, "decode_tps"), o->stat);
			double bt = eb_rmetric_stat(eb_rcell_metric(base, "ttft_ms"), o->stat);

			found++;
			for (size_t k = i; k < j; k++) {
				const struct eb_rcell *c = v[k];
				double cd, ct;
				size_t r;

				if (strcmp(c->quant, o->baseline) == 0 ||
				    (k + 1 < j && strcmp(v[k + 1]->quant, c->quant) == 0))
					continue; /* the baseline, or not the latest of its quant */
				cd = eb_rmetric_stat(eb_rcell_metric(c, "decode_tps"), o->stat);
				ct = eb_rmetric_stat(eb_rcell_metric(c, "ttft_ms"), o->stat);
				r = eb_table_row(t);
				eb_table_set_int(t, r, 0, c->run_id);
				eb_table_set_text(t, r, 1, c->device);
				eb_table_set_text(t, r, 2, c->target);
				eb_table_set_text(t, r, 3, c->model);
				eb_table_set_int(t, r, 4, c->prompt_tokens);
				eb_table_set_int(t, r, 5, c->gen_tokens);
				eb_table_set_text(t, r, 6, o->baseline);
				eb_table_set_text(t, r, 7, c->quant);
				eb_table_set_num(t, r, 8, bd);
				eb_table_set_num(t, r, 9, cd);
				eb_table_set_num(t, r, 10, bd > 0 ? cd / bd : NAN);
				eb_table_set_num(t, r, 11, bt);
				eb_table_set_num(t, r, 12, ct);
				eb_table_set_num(t, r, 13, bt > 0 ? ct / bt : NAN);
			}
		}
		i = j;
	}
	free(v);
	if (!found)
		return eb_err_set(err, EB_ENOENT, "no cell with quant '%s' in the selection",
				  o->baseline);
	return 0;
}

/* ---- html page ------------------------------------------------------------------- */

static const char eb_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void eb_base64(FILE *f, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		fputc(eb_b64[(v >> 18) & 63], f);
		fputc(eb_b64[(v >> 12) & 63], f);
		fputc(i + 1 < n ? eb_b64[(v >> 6) & 63] : '=', f);
		fputc(i + 2 < n ? eb_b64[v & 63] : '=', f);
	}
}

static const char eb_html_head[] =
	"<!DOCTYPE html>\n"
	"<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	"img-src data:; style-src 'unsafe-inline'\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<title>edgebench report</title>\n<style>\n"
	"body{font-family:system-ui,sans-serif;margin:2em;color:#222;background:#fff}\n"
	"table{border-collapse:collapse;margin:1em 0;font-size:14px}\n"
	"caption{text-align:left;font-weight:bold;padding:.3em 0}\n"
	"th,td{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:left}\n"
	"thead th{border-bottom:2px solid #444}\n"
	".num{text-align:right;font-variant-numeric:tabular-nums}\n"
	"figure{margin:1em 0}\nfigure img{max-width:100%;border:1px solid #eee}\n"
	".meta{color:#555}\n"
	"</style>\n</head>\n<body>\n<h1>edgebench report</h1>\n";

static const char *const eb_layout_names[] = { "cells", "long", "wide", "card", "speedup",
						"repeats", "load" };

/* The runs table being filled and the report's cells (a run none of them is in is left
 * out: the default shows each device's latest run, not every run). */
struct eb_html_runs {
	struct eb_table *t;
	const struct eb_rdata *d;
};

static int eb_html_run(void *arg, const struct eb_store_run *run)
{
	struct eb_html_runs *h = arg;
	struct eb_table *t = h->t;
	size_t r, i;

	for (i = 0; i < h->d->n && h->d->cells[i].run_id != run->id; i++)
		;
	if (i == h->d->n && h->d->n)
		return 0;
	r = eb_table_row(t);

	eb_table_set_int(t, r, 0, run->id);
	eb_table_set_text(t, r, 1, run->uuid);
	eb_table_set_text(t, r, 2, run->name);
	eb_table_set_text(t, r, 3, run->host);
	eb_table_set_text(t, r, 4, run->version);
	eb_table_set_text(t, r, 5, run->status);
	return 0;
}

/* The runs the report covers: id, uuid, name, host, edgebench version, status. */
static int eb_html_runs(struct eb_store *s, const struct eb_report_opts *o,
			const struct eb_rdata *d, FILE *out, struct eb_err *err)
{
	struct eb_table t;
	struct eb_html_runs h = { .t = &t, .d = d };
	int ret;

	eb_table_init(&t, "Runs");
	eb_table_col(&t, "run", NULL, NULL, EB_TK_INT);
	eb_table_col(&t, "uuid", NULL, NULL, EB_TK_TEXT);
	eb_table_col(&t, "name", NULL, NULL, EB_TK_TEXT);
	eb_table_col(&t, "host", NULL, NULL, EB_TK_TEXT);
	eb_table_col(&t, "edgebench", NULL, NULL, EB_TK_TEXT);
	eb_table_col(&t, "status", NULL, NULL, EB_TK_TEXT);
	ret = eb_store_read_runs(s, o->sel.run_id, eb_html_run, &h, err);
	if (!ret)
		eb_table_write(&t, 1, EB_REPORT_HTML, out);
	eb_table_release(&t);
	return ret;
}

/* Draws each figure kind into a temporary directory and embeds the SVG as a data: URI. */
static void eb_html_figures(struct eb_store *s, const struct eb_report_opts *o, FILE *out)
{
	static const enum eb_plot_kind kinds[] = { EB_PLOT_THROUGHPUT, EB_PLOT_TTFT, EB_PLOT_POWER,
						   EB_PLOT_PARETO, EB_PLOT_ACCURACY };
	static const char *const captions[] = { "Throughput per cell", "TTFT against prompt length",
						"Power over time", "Decode rate against energy per token",
						"Accuracy against model size" };
	const char *tmp = getenv("TMPDIR");
	char dir[PATH_MAX];
	int header = 0;

	snprintf(dir, sizeof(dir), "%s/edgebench-report-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		if (o->log)
			fprintf(o->log, "edgebench report: note: no figures: cannot create '%s': %s\n",
				dir, strerror(errno));
		return;
	}
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		/* a figure of more panels than fit legibly in the page is left out, with a note */
		struct eb_plot_opts po = { .kind = kinds[k], .sel = o->sel, .stat = o->stat,
					   .gnuplot = o->gnuplot, .log = NULL, .max_panels = 8 };
		const char *ext[] = { "svg", "gp", "dat" };
		char path[PATH_MAX];
		struct eb_err err;
		char *svg = NULL;
		size_t len = 0;
		int ret;

		snprintf(path, sizeof(path), "%s/%s.svg", dir, eb_plot_kind_name(kinds[k]));
		po.out = path;
		ret = eb_plot(s, &po, &err);
		if (ret == 0)
			ret = eb_read_file(path, 64u << 20, &svg, &len, &err);
		if (ret == 0) {
			if (!header)
				fputs("<h2>Figures</h2>\n", out);
			header = 1;
			fputs("<figure><img alt=\"", out);
			eb_esc_html(out, captions[k]);
			fputs("\" src=\"data:image/svg+xml;base64,", out);
			eb_base64(out, (const unsigned char *)svg, len);
			fputs("\"><figcaption>", out);
			eb_esc_html(out, captions[k]);
			fputs("</figcaption></figure>\n", out);
		} else if (ret == EB_EUNSUPPORTED) {
			fputs("<p class=\"meta\">Figures left out: ", out);
			eb_esc_html(out, err.msg);
			fputs("</p>\n", out);
			if (o->log)
				fprintf(o->log, "edgebench report: note: %s\n", err.msg);
		} else if (ret == EB_EINVAL) {
			fputs("<p class=\"meta\">Figure left out (", out);
			eb_esc_html(out, captions[k]);
			fputs("): ", out);
			eb_esc_html(out, err.msg);
			fputs("</p>\n", out);
		} else if (ret != EB_ENOENT && o->log) {
			fprintf(o->log, "edgebench report: note: figure '%s' left out: %s\n",
				eb_plot_kind_name(kinds[k]), err.msg);
		}
		free(svg);
		for (size_t e = 0; e < 3; e++) {
			snprintf(path, sizeof(path), "%s/%s.%s", dir, eb_plot_kind_name(kinds[k]),
				 ext[e]);
			unlink(path);
		}
		if (ret == EB_EUNSUPPORTED)
			break;
	}
	rmdir(dir);
}

/* ---- entry points ---------------------------------------------------------------- */

/* The names the layout can show a row or column for, the accuracy metrics of the
 * selection included: what --metric and --metrics are checked against. */
static void eb_layout_names_of(const struct eb_report_opts *o, const struct eb_rdata *d,
			       struct eb_strlist *names)
{
	static const char *const card[] = { "ttft_ms", "decode_tps",  "prefill_tps", "kv_bytes",
					    "peak_rss_mb", "model_bytes", "scheme",
					    "accuracy", "power", "output_tps",
					    "goodput_frac" };
	if (o->layout == EB_LAYOUT_CELLS)
		for (size_t k = 0; k < sizeof(eb_cell_figures) / sizeof(eb_cell_figures[0]); k++)
			eb_strlist_add_split(names, eb_cell_figures[k]);
	if (o->layout == EB_LAYOUT_CARD)
		for (size_t k = 0; k < sizeof(card) / sizeof(card[0]); k++)
			eb_strlist_add_split(names, card[k]);
	for (size_t i = 0; i < d->n; i++) {
		const struct eb_rcell *c = &d->cells[i];

		/* repeats: any metric a repeated cell stored */
		if (o->layout == EB_LAYOUT_LONG || o->layout == EB_LAYOUT_WIDE ||
		    (o->layout == EB_LAYOUT_REPEATS && c->repeat > 0))
			for (size_t k = 0; k < c->nm; k++)
				eb_strlist_add_split(names, c->m[k].name);
		for (size_t k = 0; k < c->nacc; k++)
			eb_strlist_add_split(names, c->acc[k].metric);
	}
}

/*
 * Each --metric pattern (and --metrics name) must match something the layout shows: a
 * pattern that matches nothing would print an empty table and look like an answer.
 * EB_ENOENT naming the first such pattern.
 */
static int eb_check_metric_pats(const struct eb_report_opts *o, const struct eb_rdata *d,
				struct eb_err *err)
{
	const char *const *lists[2] = { o->metric_pats, o->metrics };
	struct eb_strlist names = { 0 };
	int ret = 0;

	if (o->layout == EB_LAYOUT_SPEEDUP)
		return 0;
	eb_layout_names_of(o, d, &names);
	for (size_t l = 0; l < 2 && !ret; l++)
		for (size_t i = 0; lists[l] && lists[l][i] && !ret; i++) {
			const char *one[] = { lists[l][i], NULL };
			size_t k;

			for (k = 0; k < names.n && !eb_pat_match(one, names.v[k]); k++)
				;
			if (k < names.n)
				continue;
			ret = eb_err_set(err, EB_ENOENT,
					 "--%s '%s' matches no metric the %s layout shows for the "
					 "selected cells%s",
					 l ? "metrics" : "metric", lists[l][i],
					 eb_layout_names[o->layout],
					 o->layout == EB_LAYOUT_CELLS || o->layout == EB_LAYOUT_CARD
						 ? " (--layout long shows every stored metric)"
						 : "");
		}
	eb_strlist_release(&names);
	return ret;
}

/* The cells layout: the latency table, the accuracy table when the selection has
 * accuracy cells, and (human formats) the warnings as footnotes. */
static void eb_layout_cells_all(const struct eb_report_opts *o, const struct eb_rdata *d,
				struct eb_table **tabs, size_t *ntabs)
{
	struct eb_table acc, warn;
	size_t n_acc = eb_layout_accuracy(o, d, &acc), n_lat = 0;
	int with_acc = n_acc > 0 && acc.nrows > 0, with_lat, with_warn;

	for (size_t i = 0; i < d->n; i++)
		n_lat += !eb_rcell_is_accuracy(&d->cells[i]);
	/* the latency table: unless the selection has only accuracy cells, or --metric lets
	 * in no latency figure */
	with_lat = (n_lat > 0 || !with_acc) && eb_cells_has_figures(o);
	with_warn = eb_human(o->fmt) && eb_layout_warnings(o, d, with_lat, &warn) > 0;
	if (!eb_human(o->fmt))
		eb_table_init(&warn, NULL);
	*tabs = eb_xcalloc(3, sizeof(**tabs));
	*ntabs = 0;
	if (with_lat)
		eb_layout_cells(o, d, &(*tabs)[(*ntabs)++],
				with_acc || with_warn || eb_human(o->fmt)
					? (o->stat == EB_STAT_MEAN
						   ? "latency: mean of each cell's measured requests"
						   : "latency: median of each cell's measured requests")
					: NULL);
	if (with_acc)
		(*tabs)[(*ntabs)++] = acc;
	else
		eb_table_release(&acc);
	if (with_warn)
		(*tabs)[(*ntabs)++] = warn;
	else
		eb_table_release(&warn);
}

int eb_report(struct eb_store *s, const struct eb_report_opts *o, FILE *out, struct eb_err *err)
{
	struct eb_table *tabs = NULL;
	size_t ntabs = 0;
	struct eb_rdata d;
	int ret;

	if (o->layout == EB_LAYOUT_SPEEDUP && (!o->baseline || !*o->baseline))
		return eb_err_set(err, EB_EINVAL, "--layout speedup needs --baseline QUANT");
	ret = eb_rdata_load(s, &o->sel, &d, err);
	if (ret)
		return ret;
	if (d.acc_unreadable && o->log)
		fprintf(o->log, "edgebench report: note: the accuracy table of '%s' has an"
				" unexpected layout; accuracy figures left out\n",
			eb_store_path(s));
	ret = eb_check_metric_pats(o, &d, err);
	if (ret)
		goto out;
	switch (o->layout) {
	case EB_LAYOUT_CELLS:
		eb_layout_cells_all(o, &d, &tabs, &ntabs);
		break;
	case EB_LAYOUT_LONG:
	case EB_LAYOUT_WIDE:
	case EB_LAYOUT_SPEEDUP:
		tabs = eb_xcalloc(1, sizeof(*tabs));
		ntabs = 1;
		if (o->layout == EB_LAYOUT_LONG)
			eb_layout_long(o, &d, &tabs[0]);
		else if (o->layout == EB_LAYOUT_WIDE)
			eb_layout_wide(o, &d, &tabs[0]);
		else
			ret = eb_layout_speedup(o, &d, &tabs[0], err);
		break;
	case EB_LAYOUT_CARD:
		ret = eb_layout_card(s, o, &d, &tabs, &ntabs, err);
		break;
	case EB_LAYOUT_REPEATS:
		tabs = eb_xcalloc(1, sizeof(*tabs));
		ntabs = 1;
		eb_layout_repeats(&d, o->stat, o->metric_pats, eb_cell_figures,
				  sizeof(eb_cell_figures) / sizeof(eb_cell_figures[0]), &tabs[0]);
		break;
	case EB_LAYOUT_LOAD:
		tabs = eb_xcalloc(1, sizeof(*tabs));
		ntabs = 1;
		eb_layout_load(&d, &tabs[0]);
		break;
	}
	if (ret)
		goto out;
	if (o->fmt == EB_REPORT_HTML) {
		fputs(eb_html_head, out);
		fprintf(out, "<p class=\"meta\">layout %s; statistic: %s; %s</p>\n",
			eb_layout_names[o->layout],
			o->stat == EB_STAT_MEAN ? "mean (with its 95% interval)"
						: "median (with p90)",
			o->sel.run_id		      ? "one run"
			: o->sel.latest_per_device ? "the latest run of each device"
						   : "every run");
		ret = eb_html_runs(s, o, &d, out, err);
		if (ret)
			goto out;
		fputs("<h2>Results</h2>\n", out);
	}
	eb_table_write(tabs, ntabs, o->fmt, out);
	if (o->fmt == EB_REPORT_HTML) {
		if (o->plots)
			eb_html_figures(s, o, out);
		fputs("</body>\n</html>\n", out);
	}
out:
	for (size_t i = 0; i < ntabs; i++)
		eb_table_release(&tabs[i]);
	free(tabs);
	eb_rdata_release(&d);
	return ret;
}

/* The state of the list: where it goes, the store (for each run's cells) and its error. */
struct eb_list {
	struct eb_store *s;
	FILE *out;
	struct eb_err *err;
};

/* A stored string as one terminal-safe line (a merged database may hold any bytes): a
 * malloc'd copy with control characters visible and invalid UTF-8 replaced. */
static char *eb_list_text(const char *s)
{
	return eb_sanitize_str(s ? s : "", NULL);
}

/* A cell's line, then each of its warnings on a line of its own. */
static int eb_list_cell(void *arg, const struct eb_store_cell *c)
{
	struct eb_list *l = arg;
	char *e = eb_list_text(c->error), *key = eb_list_text(c->key), *st = eb_list_text(c->status);
	struct eb_rcell w = { 0 };

	eb_rcell_warnings(&w, c->warnings_json);
	fprintf(l->out, "  %-8s %7.1fs  %s", st, isnan(c->duration_s) ? 0.0 : c->duration_s, key);
	if (w.nwarn)
		fprintf(l->out, "  (%zu warning%s)", w.nwarn, w.nwarn == 1 ? "" : "s");
	fprintf(l->out, "%s%s\n", *e ? "  " : "", e);
	for (size_t k = 0; k < w.nwarn; k++) {
		char *text = eb_list_text(w.warnings[k]);

		fprintf(l->out, "    warning: %s\n", text);
		free(text);
	}
	eb_rcell_warnings_release(&w);
	free(e);
	free(key);
	free(st);
	return 0;
}

static int eb_list_run(void *arg, const struct eb_store_run *r)
{
	struct eb_list *l = arg;
	char *uuid = eb_list_text(r->uuid), *name = eb_list_text(r->name);
	char *st = eb_list_text(r->status), *t0 = eb_list_text(r->started_at);
	char *t1 = eb_list_text(r->finished_at ? r->finished_at : "-");

	fprintf(l->out, "run %lld  %s  %s  started %s  finished %s  %s  cells %d (ok %d, failed %d, "
			"skipped %d",
		(long long)r->id, uuid, name, t0, t1, st, r->n_cells, r->n_ok, r->n_failed,
		r->n_skipped);
	/* pending cells only in a run that did not finish them: the counts add up */
	if (r->n_pending)
		fprintf(l->out, ", pending %d", r->n_pending);
	fprintf(l->out, ")  warnings %d", r->n_warnings);
	if (r->n_warnings)
		fprintf(l->out, " in %d cell%s", r->n_warned, r->n_warned == 1 ? "" : "s");
	fputc('\n', l->out);
	free(uuid);
	free(name);
	free(st);
	free(t0);
	free(t1);
	return eb_store_read_cells(l->s, r->id, eb_list_cell, l, l->err);
}

int eb_report_list(struct eb_store *s, FILE *out, struct eb_err *err)
{
	struct eb_list l = { .s = s, .out = out, .err = err };

	return eb_store_read_runs(s, 0, eb_list_run, &l, err);
}
