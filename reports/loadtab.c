/* loadtab.c: the load layout (see loadtab.h). */
#include "loadtab.h"
#include "repeats.h"
#include "eb_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int eb_load_point(const char *key, char *kind, double *value)
{
	const char *p = strstr(key, "/load/");
	char *end;

	if (!p || (p[6] != 'c' && p[6] != 'r'))
		return -1;
	*kind = p[6];
	if (strncmp(p + 7, "inf", 3) == 0 && *kind == 'r') {
		*value = INFINITY;
		return 0;
	}
	*value = strtod(p + 7, &end);
	return end == p + 7 ? -1 : 0;
}

/* Rows of one variant together; concurrencies, then rates, each ascending. */
static int eb_by_point(const void *a, const void *b)
{
	const struct eb_rcell *x = *(const struct eb_rcell *const *)a;
	const struct eb_rcell *y = *(const struct eb_rcell *const *)b;
	char kx = 0, ky = 0;
	double vx = 0, vy = 0;
	int r;

	if (x->run_id != y->run_id)
		return x->run_id < y->run_id ? -1 : 1;
	if ((r = strcmp(x->device, y->device)) != 0 || (r = strcmp(x->target, y->target)) != 0 ||
	    (r = strcmp(x->model, y->model)) != 0 || (r = strcmp(x->quant, y->quant)) != 0 ||
	    (r = strcmp(x->mode, y->mode)) != 0)
		return r;
	eb_load_point(x->key, &kx, &vx);
	eb_load_point(y->key, &ky, &vy);
	if (kx != ky)
		return kx < ky ? -1 : 1;
	if (vx != vy)
		return vx < vy ? -1 : 1;
	if (x->repeat != y->repeat)
		return x->repeat < y->repeat ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* A single figure of the cell (its one value); NAN when it stored none. */
static double eb_one(const struct eb_rcell *c, const char *name)
{
	const struct eb_rmetric *m = eb_rcell_metric(c, name);

	return m ? m->mean : NAN;
}

static double eb_p90(const struct eb_rcell *c, const char *name)
{
	const struct eb_rmetric *m = eb_rcell_metric(c, name);

	return m ? m->p90 : NAN;
}

void eb_layout_load(const struct eb_rdata *d, struct eb_table *t)
{
	const struct eb_rcell **v = eb_xcalloc(d->n + 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++) {
		char k;
		double x;

		if (strcmp(d->cells[i].workload, "load") == 0 &&
		    eb_load_point(d->cells[i].key, &k, &x) == 0)
			v[n++] = &d->cells[i];
	}
	qsort(v, n, sizeof(*v), eb_by_point);
	eb_table_init(t, NULL);
	eb_ident_cols(t, d);
	eb_table_col(t, "point", NULL, NULL, EB_TK_TEXT);
	eb_table_col(t, "requests", NULL, NULL, EB_TK_INT);
	eb_table_col(t, "status", NULL, NULL, EB_TK_TEXT);
	eb_table_col(t, "output_tps", "output tok/s", "tok/s", EB_TK_NUM);
	eb_table_col(t, "req_per_s", "req/s", "req/s", EB_TK_NUM);
	eb_table_col(t, "ttft_ms_p90", "TTFT p90", "ms", EB_TK_NUM);
	eb_table_col(t, "tpot_ms_p90", "TPOT p90", "ms", EB_TK_NUM);
	eb_table_col(t, "goodput_frac", "goodput", "fraction", EB_TK_NUM);
	eb_table_col(t, "concurrency", "in flight", NULL, EB_TK_NUM);
	eb_table_col(t, "failed_requests", "failed", NULL, EB_TK_INT);
	for (size_t i = 0; i < n; i++) {
		const struct eb_rcell *c = v[i];
		const struct eb_rmetric *e2e = eb_rcell_metric(c, "e2e_ms");
		double failed = eb_one(c, "failed_requests");
		size_t r = eb_table_row(t), col = eb_ident_vals(t, r, c, d);
		const char *p = strstr(c->key, "/load/") + 6;

		{
			char point[64];

			snprintf(point, sizeof(point), "%.*s", (int)strcspn(p, "@#"), p);
			eb_table_set_text(t, r, col++, point);
		}
		/* the requests that ended, and those that failed */
		eb_table_set_int(t, r, col++, e2e ? e2e->n + (isnan(failed) ? 0 : (long long)failed)
						  : -1);
		eb_table_set_text(t, r, col++, c->status);
		eb_table_set_num(t, r, col++, eb_one(c, "output_tps"));
		eb_table_set_num(t, r, col++, eb_one(c, "req_per_s"));
		eb_table_set_num(t, r, col++, eb_p90(c, "ttft_ms"));
		eb_table_set_num(t, r, col++, eb_p90(c, "tpot_ms"));
		eb_table_set_num(t, r, col++, eb_one(c, "goodput_frac"));
		eb_table_set_num(t, r, col++, eb_one(c, "concurrency"));
		eb_table_set_int(t, r, col++, isnan(failed) ? -1 : (long long)failed);
	}
	free(v);
}
