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

static int eb_qerr(struct eb_store *s, struct eb_err *err)
{
	return eb_err_set(err, EB_EDB, "cannot read '%s': %s", s->path, sqlite3_errmsg(s->db));
}

static char *eb_col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return eb_xstrdup(t ? (const char *)t : "");
}

static double eb_col_real(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static long long eb_col_ll(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, i);
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

int eb_rdata_load(struct eb_store *s, const struct eb_rsel *sel, struct eb_rdata *d,
		  struct eb_err *err)
{
	sqlite3_stmt *st = NULL;
	struct eb_rcell **byid = NULL;
	size_t alloc = 0;
	int64_t last_run = -1;
	int rc, ret = 0;

	memset(d, 0, sizeof(*d));
	if (sqlite3_prepare_v2(s->db,
			       "SELECT id, run_id, key, target, adapter, model, quant, device,"
			       " workload, status, error, prompt_tokens, gen_tokens FROM cells"
			       " WHERE (?1 = 0 OR run_id = ?1) ORDER BY run_id, id",
			       -1, &st, NULL) != SQLITE_OK) {
		ret = eb_qerr(s, err);
		goto out;
	}
	sqlite3_bind_int64(st, 1, sel ? sel->run_id : 0);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *tg = (const char *)sqlite3_column_text(st, 3);
		const char *md = (const char *)sqlite3_column_text(st, 5);
		const char *qu = (const char *)sqlite3_column_text(st, 6);
		struct eb_rcell *c;

		if (sel && (!eb_pat_match(sel->targets, tg ? tg : "") ||
			    !eb_pat_match(sel->models, md ? md : "") ||
			    !eb_pat_match(sel->quants, qu ? qu : "")))
			continue;
		if (d->n == alloc) {
			alloc = alloc ? 2 * alloc : 64;
			d->cells = eb_xrealloc(d->cells, alloc * sizeof(*d->cells));
		}
		c = &d->cells[d->n++];
		memset(c, 0, sizeof(*c));
		c->id = sqlite3_column_int64(st, 0);
		c->run_id = sqlite3_column_int64(st, 1);
		c->key = eb_col_str(st, 2);
		c->target = eb_col_str(st, 3);
		c->adapter = eb_col_str(st, 4);
		c->model = eb_col_str(st, 5);
		c->quant = eb_col_str(st, 6);
		c->device = eb_col_str(st, 7);
		c->workload = eb_col_str(st, 8);
		c->status = eb_col_str(st, 9);
		c->error = sqlite3_column_type(st, 10) == SQLITE_NULL ? NULL : eb_col_str(st, 10);
		c->prompt_tokens = (int)eb_col_ll(st, 11);
		c->gen_tokens = (int)eb_col_ll(st, 12);
		if (c->run_id != last_run)
			d->n_runs++;
		last_run = c->run_id;
	}
	if (rc != SQLITE_DONE) {
		ret = eb_qerr(s, err);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (d->n == 0)
		goto out;

	/* metrics of every cell of the run(s), attached through a by-id index */
	byid = eb_xmalloc(d->n * sizeof(*byid));
	for (size_t i = 0; i < d->n; i++)
		byid[i] = &d->cells[i];
	qsort(byid, d->n, sizeof(*byid), eb_cell_by_id);
	if (sqlite3_prepare_v2(s->db,
			       "SELECT m.cell_id, m.name, m.unit, m.n, m.mean, m.stddev, m.median,"
			       " m.min, m.max, m.p90, m.p99, m.ci_lo, m.ci_hi, m.n_outliers"
			       " FROM metrics m JOIN cells c ON c.id = m.cell_id"
			       " WHERE (?1 = 0 OR c.run_id = ?1)",
			       -1, &st, NULL) != SQLITE_OK) {
		ret = eb_qerr(s, err);
		goto out;
	}
	sqlite3_bind_int64(st, 1, sel ? sel->run_id : 0);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct eb_rcell key = { .id = sqlite3_column_int64(st, 0) };
		struct eb_rcell *kp = &key, **hit;
		struct eb_rcell *c;
		struct eb_rmetric *m;

		hit = bsearch(&kp, byid, d->n, sizeof(*byid), eb_cell_by_id);
		if (!hit)
			continue; /* a cell the selection dropped */
		c = *hit;
		c->m = eb_xrealloc(c->m, (c->nm + 1) * sizeof(*c->m));
		m = &c->m[c->nm++];
		m->name = eb_col_str(st, 1);
		m->unit = eb_col_str(st, 2);
		m->n = eb_col_ll(st, 3);
		m->mean = eb_col_real(st, 4);
		m->stddev = eb_col_real(st, 5);
		m->median = eb_col_real(st, 6);
		m->min = eb_col_real(st, 7);
		m->max = eb_col_real(st, 8);
		m->p90 = eb_col_real(st, 9);
		m->p99 = eb_col_real(st, 10);
		m->ci_lo = eb_col_real(st, 11);
		m->ci_hi = eb_col_real(st, 12);
		m->n_outliers = eb_col_ll(st, 13);
	}
	if (rc != SQLITE_DONE) {
		ret = eb_qerr(s, err);
		goto out;
	}
	for (size_t i = 0; i < d->n; i++)
		if (d->cells[i].nm > 1)
			qsort(d->cells[i].m, d->cells[i].nm, sizeof(*d->cells[i].m),
			      eb_metric_by_name);
out:
	sqlite3_finalize(st);
	free(byid);
	if (ret)
		eb_rdata_release(d);
	return ret;
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
		free(c->workload);
		free(c->status);
		free(c->error);
		for (size_t k = 0; k < c->nm; k++) {
			free(c->m[k].name);
			free(c->m[k].unit);
		}
		free(c->m);
	}
	free(d->cells);
	memset(d, 0, sizeof(*d));
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

double eb_rmetric_stat(const struct eb_rmetric *m, enum eb_report_stat stat)
{
	if (!m)
		return NAN;
	return stat == EB_STAT_MEAN ? m->mean : m->median;
}

int eb_rdata_resolve_run(struct eb_store *s, const char *ref, int64_t *run_id,
			 struct eb_err *err)
{
	sqlite3_stmt *st;
	long long back = 0, id = 0;
	int latest = 0, ret = 0, rc;

	if (strcmp(ref, "latest") == 0) {
		latest = 1;
	} else if (strncmp(ref, "latest~", 7) == 0) {
		latest = 1;
		if (eb_parse_ll(ref + 7, 0, 1000000000, &back) != 0)
			return eb_err_set(err, EB_EINVAL, "'%s': expected latest~N with N >= 0", ref);
	} else if (eb_parse_ll(ref, 1, (long long)1 << 62, &id) != 0) {
		return eb_err_set(err, EB_EINVAL, "'%s' is not a run id, 'latest' or 'latest~N'",
				  ref);
	}
	if (sqlite3_prepare_v2(s->db,
			       latest ? "SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?"
				      : "SELECT id FROM runs WHERE id = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return eb_qerr(s, err);
	sqlite3_bind_int64(st, 1, latest ? back : id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*run_id = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE && latest && back == 0)
		ret = eb_err_set(err, EB_ENOENT, "no runs in '%s'", s->path);
	else if (rc == SQLITE_DONE && latest)
		ret = eb_err_set(err, EB_ENOENT, "'%s': '%s' has fewer than %lld runs", ref, s->path,
				 back + 1);
	else if (rc == SQLITE_DONE)
		ret = eb_err_set(err, EB_ENOENT, "no run %lld in '%s'", id, s->path);
	else
		ret = eb_qerr(s, err);
	sqlite3_finalize(st);
	return ret;
}

int eb_rdata_has_table(struct eb_store *s, const char *name)
{
	sqlite3_stmt *st;
	int found = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
			       -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static int eb_rail_is_total(const char *rail)
{
	return strcasecmp(rail, "VDD_IN") == 0 || strcasecmp(rail, "POM_5V_IN") == 0 ||
	       strcasecmp(rail, "total") == 0;
}

int eb_rdata_cell_power(struct eb_store *s, int64_t cell_id, double *watts, long long *n_samples,
			struct eb_err *err)
{
	sqlite3_stmt *st;
	double sum = 0, total = NAN;
	long long n = 0;
	int rc;

	*watts = NAN;
	*n_samples = 0;
	/* the run's own figure: the total over the measured requests' windows */
	if (sqlite3_prepare_v2(s->db,
			       "SELECT m.mean, m.n, (SELECT count(*) FROM power_samples p WHERE"
			       " p.cell_id = m.cell_id AND p.watts IS NOT NULL) FROM metrics m"
			       " WHERE m.cell_id = ? AND m.name = 'power_avg_w' AND m.mean IS NOT NULL",
			       -1, &st, NULL) != SQLITE_OK)
		return eb_qerr(s, err);
	sqlite3_bind_int64(st, 1, cell_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		long long ns = sqlite3_column_int64(st, 2);

		*watts = sqlite3_column_double(st, 0);
		*n_samples = ns > 0 ? ns : sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return eb_qerr(s, err);
	if (sqlite3_prepare_v2(s->db,
			       "SELECT rail, avg(watts), count(watts) FROM power_samples"
			       " WHERE cell_id = ? AND watts IS NOT NULL GROUP BY sensor, rail",
			       -1, &st, NULL) != SQLITE_OK)
		return eb_qerr(s, err);
	sqlite3_bind_int64(st, 1, cell_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *rail = (const char *)sqlite3_column_text(st, 0);
		double w = sqlite3_column_double(st, 1);

		n += sqlite3_column_int64(st, 2);
		sum += w;
		if (rail && eb_rail_is_total(rail))
			total = w;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return eb_qerr(s, err);
	if (n > 0)
		*watts = isfinite(total) ? total : sum;
	*n_samples = n;
	return 0;
}

int eb_rdata_has_raw(const char *what)
{
	return strcmp(what, "ttft_ms") == 0 || strcmp(what, "e2e_ms") == 0 ||
	       strcmp(what, "prefill_tps") == 0 || strcmp(what, "decode_tps") == 0 ||
	       strcmp(what, "tpot_ms") == 0;
}

int eb_rdata_raw(struct eb_store *s, int64_t cell_id, const char *what, double **x, size_t *n,
		 struct eb_err *err)
{
	/* each figure as the run loop derives it (metrics/latency.h) from its column */
	enum { EB_RAW_AS_IS, EB_RAW_NS_TO_MS, EB_RAW_TPOT };
	static const struct {
		const char *name, *sql;
		int conv;
	} q[] = {
		{ "ttft_ms", "SELECT ttft_ns FROM requests WHERE cell_id=? AND warmup=0"
			     " AND ttft_ns IS NOT NULL ORDER BY id", EB_RAW_NS_TO_MS },
		{ "e2e_ms", "SELECT e2e_ns FROM requests WHERE cell_id=? AND warmup=0"
			    " AND e2e_ns IS NOT NULL ORDER BY id", EB_RAW_NS_TO_MS },
		{ "prefill_tps", "SELECT prefill_tps FROM requests WHERE cell_id=? AND warmup=0"
				 " AND prefill_tps IS NOT NULL ORDER BY id", EB_RAW_AS_IS },
		{ "decode_tps", "SELECT decode_tps FROM requests WHERE cell_id=? AND warmup=0"
				" AND decode_tps IS NOT NULL ORDER BY id", EB_RAW_AS_IS },
		{ "tpot_ms", "SELECT decode_tps FROM requests WHERE cell_id=? AND warmup=0"
			     " AND decode_tps > 0 ORDER BY id", EB_RAW_TPOT },
	};
	sqlite3_stmt *st;
	size_t alloc = 0, k;
	int rc;

	*x = NULL;
	*n = 0;
	for (k = 0; k < sizeof(q) / sizeof(q[0]); k++)
		if (strcmp(q[k].name, what) == 0)
			break;
	if (k == sizeof(q) / sizeof(q[0]))
		return eb_err_set(err, EB_EINVAL, "no raw samples for metric '%s'", what);
	if (sqlite3_prepare_v2(s->db, q[k].sql, -1, &st, NULL) != SQLITE_OK)
		return eb_qerr(s, err);
	sqlite3_bind_int64(st, 1, cell_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		double v = q[k].conv == EB_RAW_NS_TO_MS ? eb_latency_ms(sqlite3_column_int64(st, 0))
			   : q[k].conv == EB_RAW_TPOT  ? eb_latency_tpot_ms(sqlite3_column_double(st, 0))
						       : sqlite3_column_double(st, 0);
		if (*n == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			*x = eb_xrealloc(*x, alloc * sizeof(**x));
		}
		(*x)[(*n)++] = v;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(*x);
		*x = NULL;
		*n = 0;
		return eb_qerr(s, err);
	}
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
	sqlite3_stmt *st;
	json_t *root = NULL, *scheme = NULL;
	int rc;

	*weights = *activations = *kv_cache = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT config_json FROM runs WHERE id = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return eb_qerr(s, err);
	sqlite3_bind_int64(st, 1, run_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
		root = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return eb_qerr(s, err);
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
