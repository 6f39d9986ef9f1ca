/* rdata.c: loads cells, metrics, raw samples, power and config facts for reports (see rdata.h). */
#include "rdata.h"

#include "eb_util.h"
#include "latency.h"

#include <fnmatch.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A copy of a column that may be NULL: "" then. */
static char *eb_str0(const char *t)
{
	return eb_xstrdup(t ? t : "");
}

void eb_strlist_add_split(struct eb_strlist *l, const char *s)
{
	while (*s) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);

		if (len) {
			char *p = eb_xmalloc(len + 1);

			memcpy(p, s, len);
			p[len] = '\0';
			l->v = eb_xrealloc(l->v, (l->n + 2) * sizeof(*l->v));
			l->v[l->n++] = p;
			l->v[l->n] = NULL;
		}
		s += len + (e ? 1 : 0);
	}
}

void eb_strlist_release(struct eb_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int eb_pat_match(const char *const *pats, const char *s)
{
	if (!pats || !pats[0])
		return 1;
	for (size_t i = 0; pats[i]; i++)
		if (fnmatch(pats[i], s, 0) == 0)
			return 1;
	return 0;
}

static int eb_cell_by_id(const void *a, const void *b)
{
	const struct eb_rcell *x = *(const struct eb_rcell *const *)a;
	const struct eb_rcell *y = *(const struct eb_rcell *const *)b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int eb_metric_by_name(const void *a, const void *b)
{
	return strcmp(((const struct eb_rmetric *)a)->name, ((const struct eb_rmetric *)b)->name);
}

/* The state eb_rdata_load's two reads share. */
struct eb_rload {
	const struct eb_rsel *sel;
	struct eb_rdata *d;
	size_t alloc;
	int64_t last_run;
	struct eb_rcell **byid; /* the cells by id, for the metrics */
	struct eb_rlatest *latest; /* with sel->latest_per_device: each device's latest run */
};

int eb_rsel_match(const struct eb_rsel *sel, const struct eb_store_cell *c)
{
	return !sel || (eb_pat_match(sel->targets, c->target ? c->target : "") &&
			eb_pat_match(sel->models, c->model ? c->model : "") &&
			eb_pat_match(sel->quants, c->quant ? c->quant : "") &&
			eb_pat_match(sel->devices, c->device ? c->device : "") &&
			eb_pat_match(sel->keys, c->key ? c->key : ""));
}

/* Each device's latest run among the cells that pass a selection's patterns. */
struct eb_rlatest {
	const struct eb_rsel *sel;
	struct eb_strlist devs; /* each device once */
	int64_t *last;          /* per device, its latest run */
};

/* The device's index in l->devs, added when new. */
static size_t eb_rlatest_dev(struct eb_rlatest *l, const char *dev)
{
	size_t i;

	for (i = 0; i < l->devs.n && strcmp(l->devs.v[i], dev) != 0; i++)
		;
	if (i == l->devs.n) {
		l->devs.v = eb_xrealloc(l->devs.v, (l->devs.n + 2) * sizeof(*l->devs.v));
		l->devs.v[l->devs.n++] = eb_xstrdup(dev);
		l->devs.v[l->devs.n] = NULL;
		l->last = eb_xrealloc(l->last, l->devs.n * sizeof(*l->last));
		l->last[i] = 0;
	}
	return i;
}

static int eb_rlatest_cell(void *arg, const struct eb_store_cell *c)
{
	struct eb_rlatest *l = arg;
	size_t i;

	if (!eb_rsel_match(l->sel, c))
		return 0;
	i = eb_rlatest_dev(l, c->device ? c->device : "");
	if (c->run_id > l->last[i])
		l->last[i] = c->run_id;
	return 0;
}

void eb_rcell_warnings(struct eb_rcell *c, const char *wj)
{
	json_t *a, *it;
	size_t i;

	if (!wj || !*wj)
		return;
	a = json_loads(wj, JSON_DECODE_ANY, NULL);
	if (!json_is_array(a)) {
		c->warnings = eb_xcalloc(1, sizeof(*c->warnings));
		c->warnings[c->nwarn++] = eb_xstrdup(wj);
		json_decref(a);
		return;
	}
	c->warnings = eb_xcalloc(json_array_size(a) + 1, sizeof(*c->warnings));
	json_array_foreach(a, i, it) {
		const char *t = json_string_value(it);
		char *dump = t ? NULL : json_dumps(it, JSON_COMPACT | JSON_ENCODE_ANY);

		c->warnings[c->nwarn++] = eb_xstrdup(t ? t : dump ? dump : "");
		free(dump);
	}
	json_decref(a);
}

static int eb_rload_cell(void *arg, const struct eb_store_cell *r)
{
	struct eb_rload *l = arg;
	const struct eb_rsel *sel = l->sel;
	struct eb_rdata *d = l->d;
	struct eb_rcell *c;

	if (!eb_rsel_match(sel, r))
		return 0;
	/* each device's latest run: a cell of an earlier run of its device is left out */
	if (l->latest && r->run_id != l->latest->last[eb_rlatest_dev(l->latest,
								     r->device ? r->device : "")])
		return 0;
	if (d->n == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 64;
		d->cells = eb_xrealloc(d->cells, l->alloc * sizeof(*d->cells));
	}
	c = &d->cells[d->n++];
	memset(c, 0, sizeof(*c));
	c->id = r->id;
	c->run_id = r->run_id;
	c->key = eb_str0(r->key);
	c->target = eb_str0(r->target);
	c->adapter = eb_str0(r->adapter);
	c->model = eb_str0(r->model);
	c->quant = eb_str0(r->quant);
	c->device = eb_str0(r->device);
	c->workload = eb_str0(r->workload);
	c->status = eb_str0(r->status);
	c->error = r->error ? eb_xstrdup(r->error) : NULL;
	c->prompt_tokens = (int)r->prompt_tokens;
	c->gen_tokens = (int)r->gen_tokens;
	eb_rcell_warnings(c, r->warnings_json);
	c->mode = eb_str0(r->mode);
	c->repeat = (int)r->repeat;
	d->has_modes |= c->mode[0] != '\0';
	d->has_repeats |= c->repeat > 0;
	if (c->run_id != l->last_run)
		d->n_runs++;
	l->last_run = c->run_id;
	return 0;
}

/* The loaded cell of that id through the by-id index; NULL for one the selection dropped. */
static struct eb_rcell *eb_rload_find(struct eb_rload *l, int64_t cell_id)
{
	struct eb_rcell key = { .id = cell_id };
	struct eb_rcell *kp = &key, **hit;

	hit = bsearch(&kp, l->byid, l->d->n, sizeof(*l->byid), eb_cell_by_id);
	return hit ? *hit : NULL;
}

static int eb_rload_metric(void *arg, const struct eb_store_metric *r)
{
	struct eb_rcell *c = eb_rload_find(arg, r->cell_id);
	struct eb_rmetric *m;

	if (!c)
		return 0; /* a cell the selection dropped */
	c->m = eb_xrealloc(c->m, (c->nm + 1) * sizeof(*c->m));
	m = &c->m[c->nm++];
	m->name = eb_str0(r->name);
	m->unit = eb_str0(r->unit);
	m->n = r->n;
	m->mean = r->mean;
	m->stddev = r->stddev;
	m->median = r->median;
	m->min = r->min;
	m->max = r->max;
	m->p90 = r->p90;
	m->p99 = r->p99;
	m->ci_lo = r->ci_lo;
	m->ci_hi = r->ci_hi;
	m->n_outliers = r->n_outliers;
	return 0;
}

static void eb_racc_release(struct eb_rcell *c)
{
	for (size_t k = 0; k < c->nacc; k++) {
		free(c->acc[k].task);
		free(c->acc[k].protocol);
		free(c->acc[k].metric);
	}
	free(c->acc);
	c->acc = NULL;
	c->nacc = 0;
}

/* The task's `limit` in the stored protocol parameters; -1 when absent (all scored). */
static long long eb_params_limit(const char *pj)
{
	json_t *root = pj ? json_loads(pj, 0, NULL) : NULL;
	json_t *lim = json_object_get(root, "limit");
	long long v = json_is_integer(lim) && json_integer_value(lim) > 0
			      ? (long long)json_integer_value(lim)
			      : -1;

	json_decref(root);
	return v;
}

static int eb_rload_acc(void *arg, const struct eb_store_accuracy *r)
{
	struct eb_rcell *c = eb_rload_find(arg, r->cell_id);
	struct eb_racc *a;

	if (!c)
		return 0;
	c->acc = eb_xrealloc(c->acc, (c->nacc + 1) * sizeof(*c->acc));
	a = &c->acc[c->nacc++];
	a->task = eb_str0(r->task);
	a->protocol = eb_str0(r->protocol);
	a->metric = eb_str0(r->metric);
	a->value = r->value;
	a->stderr_ = r->stderr_;
	a->n = r->n;
	a->limit = eb_params_limit(r->params_json);
	return 0;
}

int eb_rdata_load(struct eb_store *s, const struct eb_rsel *sel, struct eb_rdata *d,
		  struct eb_err *err)
{
	struct eb_err aerr;
	int has_acc;
	struct eb_rload l = { .sel = sel, .d = d, .last_run = -1 };
	int64_t run_id = sel ? sel->run_id : 0;
	int ret;

	struct eb_rlatest latest = { .sel = sel };

	memset(d, 0, sizeof(*d));
	if (sel && sel->latest_per_device && !run_id) {
		ret = eb_store_read_cells(s, 0, eb_rlatest_cell, &latest, err);
		if (ret)
			goto out;
		l.latest = &latest;
	}
	ret = eb_store_read_cells(s, run_id, eb_rload_cell, &l, err);
	if (ret || d->n == 0)
		goto out;

	/* metrics of every cell of the run(s), attached through a by-id index */
	l.byid = eb_xmalloc(d->n * sizeof(*l.byid));
	for (size_t i = 0; i < d->n; i++)
		l.byid[i] = &d->cells[i];
	qsort(l.byid, d->n, sizeof(*l.byid), eb_cell_by_id);
	ret = eb_store_read_metrics(s, run_id, eb_rload_metric, &l, err);
	if (ret)
		goto out;
	/* accuracy figures: a table of another layout (a database from elsewhere) is noted,
	 * not fatal, as the figures it holds cannot be told apart */
	ret = eb_store_has_table(s, "accuracy", &has_acc, err);
	if (ret)
		goto out;
	if (has_acc && eb_store_read_accuracy(s, run_id, 0, eb_rload_acc, &l, &aerr) != 0) {
		d->acc_unreadable = 1;
		for (size_t i = 0; i < d->n; i++)
			eb_racc_release(&d->cells[i]);
	}
	for (size_t i = 0; i < d->n; i++)
		if (d->cells[i].nm > 1)
			qsort(d->cells[i].m, d->cells[i].nm, sizeof(*d->cells[i].m),
			      eb_metric_by_name);
out:
	free(l.byid);
	eb_strlist_release(&latest.devs);
	free(latest.last);
	if (ret)
		eb_rdata_release(d);
	return ret;
}

void eb_rcell_warnings_release(struct eb_rcell *c)
{
	for (size_t k = 0; k < c->nwarn; k++)
		free(c->warnings[k]);
	free(c->warnings);
	c->warnings = NULL;
	c->nwarn = 0;
}

void eb_rdata_release(struct eb_rdata *d)
{
	for (size_t i = 0; i < d->n; i++) {
		struct eb_rcell *c = &d->cells[i];

		free(c->key);
		free(c->target);
		free(c->adapter);
		free(c->model);
		free(c->quant);
		free(c->device);
		free(c->mode);
		free(c->workload);
		free(c->status);
		free(c->error);
		for (size_t k = 0; k < c->nm; k++) {
			free(c->m[k].name);
			free(c->m[k].unit);
		}
		free(c->m);
		eb_racc_release(c);
		eb_rcell_warnings_release(c);
	}
	free(d->cells);
	memset(d, 0, sizeof(*d));
}

int eb_rcell_is_accuracy(const struct eb_rcell *c)
{
	return strcmp(c->workload, "accuracy") == 0;
}

const struct eb_rmetric *eb_rcell_metric(const struct eb_rcell *c, const char *name)
{
	size_t lo = 0, hi = c->nm;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(c->m[mid].name, name);

		if (r == 0)
			return &c->m[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct eb_racc *eb_rcell_acc(const struct eb_rcell *c, const char *metric)
{
	for (size_t k = 0; k < c->nacc; k++)
		if (strcmp(c->acc[k].metric, metric) == 0)
			return &c->acc[k];
	return NULL;
}

double eb_rmetric_stat(const struct eb_rmetric *m, enum eb_report_stat stat)
{
	if (!m)
		return NAN;
	return stat == EB_STAT_MEAN ? m->mean : m->median;
}

static int eb_rail_is_total(const char *rail)
{
	return strcasecmp(rail, "VDD_IN") == 0 || strcasecmp(rail, "POM_5V_IN") == 0 ||
	       strcasecmp(rail, "total") == 0;
}

/* The per-rail means eb_rdata_cell_power adds up. */
struct eb_rails {
	double sum, total;
	long long n;
};

static int eb_rails_add(void *arg, const struct eb_store_rail *r)
{
	struct eb_rails *a = arg;

	a->n += r->n;
	a->sum += r->watts;
	if (r->rail && eb_rail_is_total(r->rail))
		a->total = r->watts;
	return 0;
}

int eb_rdata_cell_power(struct eb_store *s, int64_t cell_id, double *watts, long long *n_samples,
			struct eb_err *err)
{
	struct eb_rails a = { .total = NAN };
	long long n = 0, ns = 0;
	int found, ret;

	*watts = NAN;
	*n_samples = 0;
	/* the run's own figure: the total over the measured requests' windows */
	ret = eb_store_cell_power_avg(s, cell_id, &found, watts, &n, &ns, err);
	if (ret || found) {
		*n_samples = ns > 0 ? ns : n;
		return ret;
	}
	ret = eb_store_read_rails(s, cell_id, eb_rails_add, &a, err);
	if (ret)
		return ret;
	if (a.n > 0)
		*watts = isfinite(a.total) ? a.total : a.sum;
	*n_samples = a.n;
	return 0;
}

int eb_rdata_has_raw(const char *what)
{
	return strcmp(what, "ttft_ms") == 0 || strcmp(what, "e2e_ms") == 0 ||
	       strcmp(what, "prefill_tps") == 0 || strcmp(what, "decode_tps") == 0 ||
	       strcmp(what, "tpot_ms") == 0;
}

/* The samples eb_rdata_raw collects, each converted as it is read. */
struct eb_rraw {
	int conv; /* how the column becomes the figure: EB_RAW_* in eb_rdata_raw */
	double *x;
	size_t n, alloc;
};

/* each figure as the run loop derives it (metrics/latency.h) from its column */
enum { EB_RAW_AS_IS, EB_RAW_NS_TO_MS, EB_RAW_TPOT };

static int eb_rraw_add(void *arg, double v)
{
	struct eb_rraw *r = arg;

	if (r->conv == EB_RAW_TPOT) {
		if (!(v > 0))
			return 0;
		v = eb_latency_tpot_ms(v);
	} else if (r->conv == EB_RAW_NS_TO_MS) {
		v = eb_latency_ms(v);
	}
	if (r->n == r->alloc) {
		r->alloc = r->alloc ? 2 * r->alloc : 16;
		r->x = eb_xrealloc(r->x, r->alloc * sizeof(*r->x));
	}
	r->x[r->n++] = v;
	return 0;
}

int eb_rdata_raw(struct eb_store *s, int64_t cell_id, const char *what, double **x, size_t *n,
		 struct eb_err *err)
{
	static const struct {
		const char *name;
		enum eb_store_req_col col;
		int conv;
	} q[] = {
		{ "ttft_ms", EB_REQ_TTFT_NS, EB_RAW_NS_TO_MS },
		{ "e2e_ms", EB_REQ_E2E_NS, EB_RAW_NS_TO_MS },
		{ "prefill_tps", EB_REQ_PREFILL_TPS, EB_RAW_AS_IS },
		{ "decode_tps", EB_REQ_DECODE_TPS, EB_RAW_AS_IS },
		{ "tpot_ms", EB_REQ_DECODE_TPS, EB_RAW_TPOT },
	};
	struct eb_rraw r = { 0 };
	size_t k;
	int ret;

	*x = NULL;
	*n = 0;
	for (k = 0; k < sizeof(q) / sizeof(q[0]); k++)
		if (strcmp(q[k].name, what) == 0)
			break;
	if (k == sizeof(q) / sizeof(q[0]))
		return eb_err_set(err, EB_EINVAL, "no raw samples for metric '%s'", what);
	r.conv = q[k].conv;
	ret = eb_store_read_request_values(s, cell_id, q[k].col, eb_rraw_add, &r, err);
	if (ret) {
		free(r.x);
		return ret;
	}
	*x = r.x;
	*n = r.n;
	return 0;
}

static json_t *eb_find_by(json_t *arr, const char *field, const char *value)
{
	size_t i;
	json_t *it;

	json_array_foreach(arr, i, it) {
		const char *v = json_string_value(json_object_get(it, field));

		if (v && strcmp(v, value) == 0)
			return it;
	}
	return NULL;
}

int eb_rdata_scheme(struct eb_store *s, int64_t run_id, const char *model, const char *quant,
		    char **weights, char **activations, char **kv_cache, struct eb_err *err)
{
	json_t *root = NULL, *scheme = NULL;
	char *json;
	int ret;

	*weights = *activations = *kv_cache = NULL;
	ret = eb_store_run_config(s, run_id, &json, err);
	if (ret)
		return ret;
	if (json)
		root = json_loads(json, 0, NULL);
	free(json);
	if (root) {
		json_t *m = eb_find_by(json_object_get(root, "models"), "id", model);
		json_t *v = m ? eb_find_by(json_object_get(m, "variants"), "quant", quant) : NULL;

		scheme = v ? json_object_get(v, "scheme") : NULL;
	}
	if (json_is_object(scheme)) {
		*weights = eb_xstrdup(json_string_value(json_object_get(scheme, "weights")));
		*activations = eb_xstrdup(json_string_value(json_object_get(scheme, "activations")));
		*kv_cache = eb_xstrdup(json_string_value(json_object_get(scheme, "kv_cache")));
	}
	json_decref(root);
	return 0;
}

void eb_fmt_num(char *buf, size_t n, double v)
{
	if (!isfinite(v))
		buf[0] = '\0';
	else if (fabs(v) >= 1000)
		snprintf(buf, n, "%.0f", v);
	else
		snprintf(buf, n, "%.4g", v);
}

int eb_quant_is_full(const char *q)
{
	static const char *const full[] = { "f32", "fp32", "f16", "fp16", "bf16", "float32",
					    "float16", "bfloat16" };

	for (size_t i = 0; i < sizeof(full) / sizeof(full[0]); i++)
		if (strcasecmp(q, full[i]) == 0)
			return 1;
	return 0;
}
