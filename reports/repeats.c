/* repeats.c: run-to-run statistics over a cell's repeats (see repeats.h). */
#include "repeats.h"
#include "stats.h"
#include "eb_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Cells of one repeated cell come together: run, identity, mode, then repeat. */
static int eb_by_repeat(const void *a, const void *b)
{
	const struct eb_rcell *x = *(const struct eb_rcell *const *)a;
	const struct eb_rcell *y = *(const struct eb_rcell *const *)b;
	int r;

	if (x->run_id != y->run_id)
		return x->run_id < y->run_id ? -1 : 1;
	if ((r = strcmp(x->target, y->target)) != 0 || (r = strcmp(x->model, y->model)) != 0 ||
	    (r = strcmp(x->quant, y->quant)) != 0 || (r = strcmp(x->workload, y->workload)) != 0 ||
	    (r = strcmp(x->mode, y->mode)) != 0)
		return r;
	if (x->prompt_tokens != y->prompt_tokens)
		return x->prompt_tokens < y->prompt_tokens ? -1 : 1;
	if (x->gen_tokens != y->gen_tokens)
		return x->gen_tokens < y->gen_tokens ? -1 : 1;
	return x->repeat < y->repeat ? -1 : x->repeat > y->repeat;
}

static int eb_same_cell(const struct eb_rcell *x, const struct eb_rcell *y)
{
	return x->run_id == y->run_id && strcmp(x->target, y->target) == 0 &&
	       strcmp(x->model, y->model) == 0 && strcmp(x->quant, y->quant) == 0 &&
	       strcmp(x->workload, y->workload) == 0 && strcmp(x->mode, y->mode) == 0 &&
	       x->prompt_tokens == y->prompt_tokens && x->gen_tokens == y->gen_tokens;
}

static int eb_strcmp_pp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether metric `name` is one the layout shows. */
static int eb_repeat_metric(const char *name, const char *const *pats, const char *const *figs,
			    size_t nfig)
{
	if (pats && pats[0])
		return eb_pat_match(pats, name);
	for (size_t k = 0; k < nfig; k++)
		if (strcmp(figs[k], name) == 0)
			return 1;
	return 0;
}

/* One row: metric `name` over the ok repeats g[0..n). */
static void eb_repeat_row(struct eb_table *t, const struct eb_rcell *const *g, size_t n,
			  const char *name, enum eb_report_stat stat, const struct eb_rdata *d)
{
	double *x = eb_xcalloc(n + 1, sizeof(*x));
	const char *unit = NULL;
	struct eb_summary s;
	size_t k = 0, r, col;

	for (size_t i = 0; i < n; i++) {
		const struct eb_rmetric *m = eb_rcell_metric(g[i], name);
		double v = eb_rmetric_stat(m, stat);

		if (strcmp(g[i]->status, "ok") != 0 || !isfinite(v))
			continue;
		x[k++] = v;
		unit = m->unit[0] ? m->unit : unit;
	}
	if (k == 0 || eb_stats_summarize(x, k, &s) != 0) {
		free(x);
		return;
	}
	r = eb_table_row(t);
	col = eb_ident_vals(t, r, g[0], d);
	eb_table_set_text(t, r, col++, name);
	eb_table_set_text(t, r, col++, unit);
	eb_table_set_text(t, r, col++, stat == EB_STAT_MEAN ? "mean" : "median");
	eb_table_set_int(t, r, col++, (long long)s.n);
	eb_table_set_num(t, r, col++, s.mean);
	eb_table_set_num(t, r, col++, s.ci_lo);
	eb_table_set_num(t, r, col++, s.ci_hi);
	eb_table_set_num(t, r, col++, s.stddev);
	/* the spread relative to the mean; undefined for one repeat or a mean of 0 */
	eb_table_set_num(t, r, col++, s.n > 1 && s.mean != 0 ? s.stddev / fabs(s.mean) : NAN);
	eb_table_set_num(t, r, col++, s.min);
	eb_table_set_num(t, r, col++, s.max);
	free(x);
}

void eb_layout_repeats(const struct eb_rdata *d, enum eb_report_stat stat,
		       const char *const *metric_pats, const char *const *figures, size_t nfig,
		       struct eb_table *t)
{
	const struct eb_rcell **v = eb_xcalloc(d->n + 1, sizeof(*v));
	size_t n = 0;

	/* a row stands for every repeat of a cell: no repeat column */
	struct eb_rdata ident = *d;

	ident.has_repeats = 0;
	eb_table_init(t, NULL);
	eb_ident_cols(t, &ident);
	eb_table_col(t, "metric", NULL, NULL, EB_TK_TEXT);
	eb_table_col(t, "unit", NULL, NULL, EB_TK_TEXT);
	eb_table_col(t, "per_repeat", "per repeat", NULL, EB_TK_TEXT);
	eb_table_col(t, "repeats", NULL, NULL, EB_TK_INT);
	eb_table_col(t, "mean", NULL, NULL, EB_TK_NUM);
	eb_table_col(t, "ci_lo", "CI low", NULL, EB_TK_NUM);
	eb_table_col(t, "ci_hi", "CI high", NULL, EB_TK_NUM);
	eb_table_col(t, "stddev", NULL, NULL, EB_TK_NUM);
	eb_table_col(t, "cv", NULL, NULL, EB_TK_NUM);
	eb_table_col(t, "min", NULL, NULL, EB_TK_NUM);
	eb_table_col(t, "max", NULL, NULL, EB_TK_NUM);
	for (size_t i = 0; i < d->n; i++)
		if (d->cells[i].repeat > 0)
			v[n++] = &d->cells[i];
	qsort(v, n, sizeof(*v), eb_by_repeat);
	for (size_t i = 0, j; i < n; i = j) {
		const char **names = NULL;
		size_t nn = 0;

		for (j = i; j < n && eb_same_cell(v[i], v[j]); j++)
			;
		/* the metrics any repeat stored, in name order (each cell's are sorted) */
		for (size_t a = i; a < j; a++)
			for (size_t k = 0; k < v[a]->nm; k++) {
				const char *m = v[a]->m[k].name;
				size_t b;

				if (!eb_repeat_metric(m, metric_pats, figures, nfig))
					continue;
				for (b = 0; b < nn && strcmp(names[b], m) != 0; b++)
					;
				if (b == nn) {
					names = eb_xrealloc(names, (nn + 1) * sizeof(*names));
					names[nn++] = m;
				}
			}
		if (nn > 1)
			qsort(names, nn, sizeof(*names), eb_strcmp_pp);
		for (size_t k = 0; k < nn; k++)
			eb_repeat_row(t, v + i, j - i, names[k], stat, &ident);
		free(names);
	}
	free(v);
}
