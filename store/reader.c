/* reader.c: the queries reports, plots, compare and the commands read through (see reader.h). */
#include "reader.h"
#include "store_int.h"

#include "eb_util.h"

#include <fnmatch.h>
#include <math.h>
#include <string.h>

/* The caller's callback, whichever row type it takes. */
union eb_rd_fn {
	int (*run)(void *arg, const struct eb_store_run *r);
	int (*cell)(void *arg, const struct eb_store_cell *c);
	int (*metric)(void *arg, const struct eb_store_metric *m);
	int (*request)(void *arg, const struct eb_store_request *q);
	int (*value)(void *arg, double v);
	int (*send)(void *arg, const struct eb_store_send *q);
	int (*token)(void *arg, const struct eb_store_token *t);
	int (*power)(void *arg, const struct eb_store_power *p);
	int (*rail)(void *arg, const struct eb_store_rail *r);
	int (*accuracy)(void *arg, const struct eb_store_accuracy *a);
	int (*sample)(void *arg, const struct eb_store_sample *r);
};

/* Turns the statement's current row into the caller's row and calls fn with it. */
typedef int (*eb_rd_row_fn)(sqlite3_stmt *st, union eb_rd_fn fn, void *arg);

static const char *eb_col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static double eb_col_real(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static long long eb_col_count(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, i);
}

/*
 * Runs `sql` with its integer parameters ?1 = p1 and (when it has one) ?2 = p2, calling
 * row() on every row until the last or until it returns non-zero. Every step is checked:
 * a read that fails half-way is an error, not a short result.
 */
static int eb_rd_query(struct eb_store *s, const char *sql, int64_t p1, int64_t p2,
		       eb_rd_row_fn row, union eb_rd_fn fn, void *arg, struct eb_err *err)
{
	sqlite3_stmt *st;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return eb_store_dberr(s, err, "cannot read");
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, p1);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, p2);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = row(st, fn, arg);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = eb_store_dberr(s, err, "cannot read");
	sqlite3_finalize(st);
	return ret;
}

static int eb_rd_run(sqlite3_stmt *st, union eb_rd_fn fn, void *arg)
{
	struct eb_store_run r = {
		.id = sqlite3_column_int64(st, 0),
		.uuid = eb_col_text(st, 1),
		.name = eb_col_text(st, 2),
		.host = eb_col_text(st, 3),
		.version = eb_col_text(st, 4),
		.status = eb_col_text(st, 5),
		.started_at = eb_col_text(st, 6),
		.finished_at = eb_col_text(st, 7),
		.n_cells = sqlite3_column_int(st, 8),
		.n_ok = sqlite3_column_int(st, 9),
		.n_failed = sqlite3_column_int(st, 10),
		.n_skipped = sqlite3_column_int(st, 11),
		.n_pending = sqlite3_column_int(st, 12),
		.n_warnings = sqlite3_column_int(st, 13),
		.n_warned = sqlite3_column_int(st, 14),
	};

	return fn.run(arg, &r);
}

int eb_store_read_runs(struct eb_store *s, int64_t run_id,
		       int (*fn)(void *arg, const struct eb_store_run *r), void *arg,
		       struct eb_err *err)
{
	return eb_rd_query(s,
			   "SELECT id, uuid, name, host, edgebench_version, status, started_at,"
			   " finished_at,"
			   " (SELECT count(*) FROM cells WHERE run_id=runs.id),"
			   " (SELECT count(*) FROM cells WHERE run_id=runs.id AND status='ok'),"
			   " (SELECT count(*) FROM cells WHERE run_id=runs.id AND status='failed'),"
			   " (SELECT count(*) FROM cells WHERE run_id=runs.id AND status='skipped'),"
			   " (SELECT count(*) FROM cells WHERE run_id=runs.id AND status='pending'),"
			   /* a warnings_json that is not a JSON array counts as one warning */
			   " (SELECT coalesce(sum(CASE WHEN json_valid(warnings_json) AND"
			   "  json_type(warnings_json) = 'array' THEN json_array_length(warnings_json)"
			   "  ELSE 1 END), 0) FROM cells WHERE run_id=runs.id AND warnings_json IS NOT"
			   "  NULL AND warnings_json NOT IN ('', '[]')),"
			   " (SELECT count(*) FROM cells WHERE run_id=runs.id AND warnings_json IS NOT"
			   "  NULL AND warnings_json NOT IN ('', '[]'))"
			   " FROM runs WHERE (?1 = 0 OR id = ?1) ORDER BY id",
			   run_id, 0, eb_rd_run, (union eb_rd_fn){ .run = fn }, arg, err);
}

static int eb_rd_cell(sqlite3_stmt *st, union eb_rd_fn fn, void *arg)
{
	struct eb_store_cell c = {
		.id = sqlite3_column_int64(st, 0),
		.run_id = sqlite3_column_int64(st, 1),
		.key = eb_col_text(st, 2),
		.target = eb_col_text(st, 3),
		.adapter = eb_col_text(st, 4),
		.model = eb_col_text(st, 5),
		.quant = eb_col_text(st, 6),
		.device = eb_col_text(st, 7),
		.workload = eb_col_text(st, 8),
		.status = eb_col_text(st, 9),
		.error = eb_col_text(st, 10),
		.prompt_tokens = eb_col_count(st, 11),
		.gen_tokens = eb_col_count(st, 12),
		.duration_s = eb_col_real(st, 13),
		.warnings_json = eb_col_text(st, 14),
		.mode = eb_col_text(st, 15),
		.repeat = eb_col_count(st, 16),
	};

	return fn.cell(arg, &c);
}

int eb_store_read_cells(struct eb_store *s, int64_t run_id,
			int (*fn)(void *arg, const struct eb_store_cell *c), void *arg,
			struct eb_err *err)
{
	return eb_rd_query(s,
			   "SELECT id, run_id, key, target, adapter, model, quant, device,"
			   " workload, status, error, prompt_tokens, gen_tokens, duration_s,"
			   " warnings_json,"
			   " CASE WHEN json_valid(params_json) THEN json_extract(params_json, '$.mode')"
			   " END, CASE WHEN json_valid(params_json) THEN json_extract(params_json,"
			   " '$.repeat') END"
			   " FROM cells WHERE (?1 = 0 OR run_id = ?1) ORDER BY run_id, id",
			   run_id, 0, eb_rd_cell, (union eb_rd_fn){ .cell = fn }, arg, err);
}

/* A part of the cell's backend_json (params 0) or params_json (params 1) by JSON path. */
static int eb_cell_json(struct eb_store *s, int params, int64_t cell_id, const char *path,
			char **json, struct eb_err *err)
{
	static const char *const sql[] = {
		"SELECT CASE WHEN json_valid(backend_json) THEN"
		" json_extract(backend_json, ?1) END FROM cells WHERE id = ?2",
		"SELECT CASE WHEN json_valid(params_json) THEN"
		" json_extract(params_json, ?1) END FROM cells WHERE id = ?2",
	};

	return eb_store_json_text(s, sql[params], path, cell_id, json, err);
}

int eb_store_cell_backend(struct eb_store *s, int64_t cell_id, const char *path, char **json,
			  struct eb_err *err)
{
	return eb_cell_json(s, 0, cell_id, path, json, err);
}

int eb_store_cell_params(struct eb_store *s, int64_t cell_id, const char *path, char **json,
			 struct eb_err *err)
{
	return eb_cell_json(s, 1, cell_id, path, json, err);
}

static int eb_rd_metric(sqlite3_stmt *st, union eb_rd_fn fn, void *arg)
{
	struct eb_store_metric m = {
		.cell_id = sqlite3_column_int64(st, 0),
		.name = eb_col_text(st, 1),
		.unit = eb_col_text(st, 2),
		.n = eb_col_count(st, 3),
		.mean = eb_col_real(st, 4),
		.stddev = eb_col_real(st, 5),
		.median = eb_col_real(st, 6),
		.min = eb_col_real(st, 7),
		.max = eb_col_real(st, 8),
		.p90 = eb_col_real(st, 9),
		.p99 = eb_col_real(st, 10),
		.ci_lo = eb_col_real(st, 11),
		.ci_hi = eb_col_real(st, 12),
		.n_outliers = eb_col_count(st, 13),
	};

	return fn.metric(arg, &m);
}

int eb_store_read_metrics(struct eb_store *s, int64_t run_id,
			  int (*fn)(void *arg, const struct eb_store_metric *m), void *arg,
			  struct eb_err *err)
{
	return eb_rd_query(s,
			   "SELECT m.cell_id, m.name, m.unit, m.n, m.mean, m.stddev, m.median,"
			   " m.min, m.max, m.p90, m.p99, m.ci_lo, m.ci_hi, m.n_outliers"
			   " FROM metrics m JOIN cells c ON c.id = m.cell_id"
			   " WHERE (?1 = 0 OR c.run_id = ?1)",
			   run_id, 0, eb_rd_metric, (union eb_rd_fn){ .metric = fn }, arg, err);
}

static int eb_rd_request(sqlite3_stmt *st, union eb_rd_fn fn, void *arg)
{
	struct eb_store_request q = {
		.cell_id = sqlite3_column_int64(st, 0),
		.ttft_ns = eb_col_real(st, 1),
		.e2e_ns = eb_col_real(st, 2),
		.prefill_tps = eb_col_real(st, 3),
		.decode_tps = eb_col_real(st, 4),
	};

	return fn.request(arg, &q);
}

int eb_store_read_requests(struct eb_store *s, int64_t run_id,
			   int (*fn)(void *arg, const struct eb_store_request *q), void *arg,
			   struct eb_err *err)
{
	return eb_rd_query(s,
			   "SELECT cell_id, ttft_ns, e2e_ns, prefill_tps, decode_tps FROM requests"
			   " WHERE warmup = 0 AND cell_id IN (SELECT id FROM cells WHERE"
			   " (?1 = 0 OR run_id = ?1)) ORDER BY cell_id, id",
			   run_id, 0, eb_rd_request, (union eb_rd_fn){ .request = fn }, arg, err);
}

static int eb_rd_value(sqlite3_stmt *st, union eb_rd_fn fn, void *arg)
{
	return fn.value(arg, sqlite3_column_double(st, 0));
}

int eb_store_read_request_values(struct eb_store *s, int64_t cell_id, enum eb_store_req_col col,
				 int (*fn)(void *arg, double v), void *arg, struct eb_err *err)
{
	/* one statement per column: a column name is never pasted into SQL */
	static const char *const sql[] = {
		[EB_REQ_TTFT_NS] = "SELECT ttft_ns FROM requests WHERE cell_id=? AND warmup=0"
				   " AND ttft_ns IS NOT NULL ORDER BY id",
		[EB_REQ_E2E_NS] = "SELECT e2e_ns FROM requests WHERE cell_id=? AND warmup=0"
				  " AND e2e_ns IS NOT NULL ORDER BY id",
		[EB_REQ_PREFILL_TPS] = "SELECT prefill_tps FROM requests WHERE cell_id=? AND"
				       " warmup=0 AND prefill_tps IS NOT NULL ORDER BY id",
		[EB_REQ_DECODE_TPS] = "SELECT decode_tps FROM requests WHERE cell_id=? AND"
				      " warmup=0 AND decode_tps IS NOT NULL ORDER BY id",
	};

	if ((unsigned)col >= sizeof(sql) / sizeof(sql[0]))
		return eb_err_set(err, EB_EINVAL, "no requests column %d", (int)col);
	return eb_rd_query(s, sql[col], cell_id, 0, eb_rd_value, (union eb_rd_fn){ .value = fn },
			   arg, err);
}

/* Whether `sql`, with the texts ?1 = a and (when not NULL) ?2 = b, has a row. */
static int eb_rd_exists(struct eb_store *s, const char *sql, const char *a, const char *b,
			int *found, struct eb_err *err)
{
	sqlite3_stmt *st;
	int rc, ret = 0;

	*found = 0;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return eb_store_dberr(s, err, "cannot read");
	sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*found = 1;
	else if (rc != SQLITE_DONE)
		ret = eb_store_dberr(s, err, "cannot read");
	sqlite3_finalize(st);
	return ret;
}

static int eb_rd_send(sqlite3_stmt *st, union eb_rd_fn fn, void *arg)
{
	struct eb_store_send q = {
		.cell_id = sqlite3_column_int64(st, 0),
		.t_send_ns = sqlite3_column_int64(st, 1),
		.ttft_ns = sqlite3_column_int64(st, 2),
		.e2e_ns = sqlite3_column_int64(st, 3),
	};

	return fn.send(arg, &q);
}

int eb_store_read_sends(struct eb_store *s, int64_t run_id,
			int (*fn)(void *arg, const struct eb_store_send *q), void *arg,
			struct eb_err *err)
{
	int has, ret;

	ret = eb_rd_exists(s, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", "requests",
			   "t_send_ns", &has, err);
	if (ret || !has)
		return ret;
	return eb_rd_query(s,
			   "SELECT r.cell_id, r.t_send_ns, r.ttft_ns, r.e2e_ns FROM requests r"
			   " JOIN cells c ON c.id = r.cell_id WHERE (?1 = 0 OR c.run_id = ?1)"
			   " AND r.warmup = 0 AND r.t_send_ns IS NOT NULL AND r.ttft_ns IS NOT NULL"
			   " AND r.e2e_ns IS NOT NULL ORDER BY r.t_send_ns",
			   run_id, 0, eb_rd_send, (union eb_rd_fn){ .send = fn }, arg, err);
}

static int eb_rd_token(sqlite3_stmt *st, union eb_rd_fn fn, void *arg)
{
	struct eb_store_token t = {
		.cell_id = sqlite3_column_int64(st, 0),
		.request_id = sqlite3_column_int64(st, 1),
		.idx = sqlite3_column_int64(st, 2),
		.t_ns = sqlite3_column_int64(st, 3),
	};

	return fn.token(arg, &t);
}

int eb_store_read_tokens(struct eb_store *s, int64_t run_id,
			 int (*fn)(void *arg, const struct eb_store_token *t), void *arg,
			 struct eb_err *err)
{
	return eb_rd_query(s,
			   "SELECT r.cell_id, t.request_id, t.idx, t.t_ns FROM requests r"
			   " JOIN token_times t ON t.request_id = r.id WHERE r.warmup = 0"
			   " AND r.cell_id IN (SELECT id FROM cells WHERE (?1 = 0 OR run_id = ?1))",
			   run_id, 0, eb_rd_token, (union eb_rd_fn){ .token = fn }, arg, err);
}

static int eb_rd_power(sqlite3_stmt *st, union eb_rd_fn fn, void *arg)
{
	struct eb_store_power p = {
		.cell_id = sqlite3_column_int64(st, 0),
		.sensor = eb_col_text(st, 1),
		.rail = eb_col_text(st, 2),
		.t_ns = sqlite3_column_int64(st, 3),
		.watts = sqlite3_column_double(st, 4),
	};

	return fn.power(arg, &p);
}

int eb_store_read_power(struct eb_store *s, int64_t run_id,
			int (*fn)(void *arg, const struct eb_store_power *p), void *arg,
			struct eb_err *err)
{
	return eb_rd_query(s,
			   "SELECT p.cell_id, p.sensor, p.rail, p.t_ns, p.watts FROM power_samples p"
			   " JOIN cells c ON c.id = p.cell_id WHERE (?1 = 0 OR c.run_id = ?1)"
			   " AND p.watts IS NOT NULL ORDER BY p.sensor, p.rail, p.t_ns",
			   run_id, 0, eb_rd_power, (union eb_rd_fn){ .power = fn }, arg, err);
}

static int eb_rd_rail(sqlite3_stmt *st, union eb_rd_fn fn, void *arg)
{
	struct eb_store_rail r = {
		.sensor = eb_col_text(st, 0),
		.rail = eb_col_text(st, 1),
		.watts = sqlite3_column_double(st, 2),
		.n = sqlite3_column_int64(st, 3),
	};

	return fn.rail(arg, &r);
}

int eb_store_read_rails(struct eb_store *s, int64_t cell_id,
			int (*fn)(void *arg, const struct eb_store_rail *r), void *arg,
			struct eb_err *err)
{
	return eb_rd_query(s,
			   "SELECT sensor, rail, avg(watts), count(watts) FROM power_samples"
			   " WHERE cell_id = ? AND watts IS NOT NULL GROUP BY sensor, rail",
			   cell_id, 0, eb_rd_rail, (union eb_rd_fn){ .rail = fn }, arg, err);
}

int eb_store_cell_power_avg(struct eb_store *s, int64_t cell_id, int *found, double *mean,
			    long long *n, long long *n_samples, struct eb_err *err)
{
	sqlite3_stmt *st;
	int rc;

	*found = 0;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT m.mean, m.n, (SELECT count(*) FROM power_samples p WHERE"
			       " p.cell_id = m.cell_id AND p.watts IS NOT NULL) FROM metrics m"
			       " WHERE m.cell_id = ? AND m.name = 'power_avg_w' AND m.mean IS NOT NULL",
			       -1, &st, NULL) != SQLITE_OK)
		return eb_store_dberr(s, err, "cannot read");
	sqlite3_bind_int64(st, 1, cell_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*found = 1;
		*mean = sqlite3_column_double(st, 0);
		*n = sqlite3_column_int64(st, 1);
		*n_samples = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return eb_store_dberr(s, err, "cannot read");
	return 0;
}

static int eb_rd_accuracy(sqlite3_stmt *st, union eb_rd_fn fn, void *arg)
{
	struct eb_store_accuracy a = {
		.cell_id = sqlite3_column_int64(st, 0),
		.task = eb_col_text(st, 1),
		.protocol = eb_col_text(st, 2),
		.metric = eb_col_text(st, 3),
		.value = eb_col_real(st, 4),
		.stderr_ = eb_col_real(st, 5),
		.n = eb_col_count(st, 6),
		.params_json = eb_col_text(st, 7),
	};

	return fn.accuracy(arg, &a);
}

int eb_store_read_accuracy(struct eb_store *s, int64_t run_id, int64_t cell_id,
			   int (*fn)(void *arg, const struct eb_store_accuracy *a), void *arg,
			   struct eb_err *err)
{
	return eb_rd_query(s,
			   "SELECT a.cell_id, a.task, a.protocol, a.metric, a.value, a.stderr,"
			   " a.n, a.params_json FROM accuracy a JOIN cells c ON c.id = a.cell_id"
			   " WHERE (?1 = 0 OR c.run_id = ?1) AND (?2 = 0 OR a.cell_id = ?2)"
			   " ORDER BY a.task, a.metric, a.cell_id",
			   run_id, cell_id, eb_rd_accuracy, (union eb_rd_fn){ .accuracy = fn }, arg,
			   err);
}

static int eb_rd_sample(sqlite3_stmt *st, union eb_rd_fn fn, void *arg)
{
	struct eb_store_sample r = {
		.cell_id = sqlite3_column_int64(st, 0),
		.run_id = sqlite3_column_int64(st, 1),
		.idx = sqlite3_column_int64(st, 2),
		.key = eb_col_text(st, 3),
		.device = eb_col_text(st, 4),
		.task = eb_col_text(st, 5),
		.protocol = eb_col_text(st, 6),
		.doc = eb_col_text(st, 7),
		.prompt_sha256 = eb_col_text(st, 8),
		.prompt_hash_of = eb_col_text(st, 9),
		.result_json = eb_col_text(st, 10),
		.answer = eb_col_count(st, 11),
		.gold = eb_col_count(st, 12),
		.correct = eb_col_count(st, 13),
		.params_json = eb_col_text(st, 14),
	};

	return fn.sample(arg, &r);
}

int eb_store_read_samples(struct eb_store *s, int64_t run_id, int64_t cell_id,
			  int (*fn)(void *arg, const struct eb_store_sample *r), void *arg,
			  struct eb_err *err)
{
	return eb_rd_query(s,
			   "SELECT x.cell_id, c.run_id, x.idx, c.key, c.device, x.task, x.protocol,"
			   " x.doc, x.prompt_sha256, x.prompt_hash_of, x.result_json, x.answer,"
			   " x.gold, x.correct, (SELECT a.params_json FROM accuracy a"
			   " WHERE a.cell_id = x.cell_id ORDER BY a.metric LIMIT 1)"
			   " FROM acc_samples x JOIN cells c ON c.id = x.cell_id"
			   " WHERE (?1 = 0 OR c.run_id = ?1) AND (?2 = 0 OR x.cell_id = ?2)"
			   " ORDER BY c.run_id, x.cell_id, x.idx",
			   run_id, cell_id, eb_rd_sample, (union eb_rd_fn){ .sample = fn }, arg, err);
}

int eb_store_has_table(struct eb_store *s, const char *name, int *has, struct eb_err *err)
{
	return eb_rd_exists(s, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1", name,
			    NULL, has, err);
}

int eb_store_run_resolve(struct eb_store *s, const char *ref, int64_t *run_id,
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
		return eb_store_dberr(s, err, "cannot read");
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
		ret = eb_store_dberr(s, err, "cannot read");
	sqlite3_finalize(st);
	return ret;
}

/* Whether the run has a cell whose device (NULL reads as "") matches the pattern: *has. */
static int eb_run_on_device(struct eb_store *s, int64_t run_id, const char *pat, int *has,
			    struct eb_err *err)
{
	sqlite3_stmt *st;
	int rc;

	*has = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT DISTINCT coalesce(device, '') FROM cells "
				      "WHERE run_id = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return eb_store_dberr(s, err, "cannot read");
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (fnmatch(pat, eb_col_text(st, 0), 0) == 0)
			*has = 1;
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : eb_store_dberr(s, err, "cannot read");
}

int eb_store_run_resolve_device(struct eb_store *s, const char *ref, const char *device,
				int64_t *run_id, struct eb_err *err)
{
	sqlite3_stmt *st;
	long long back = 0, seen = 0;
	int ret, rc, has;

	if (!device)
		return eb_store_run_resolve(s, ref, run_id, err);
	if (strcmp(ref, "latest") != 0 && strncmp(ref, "latest~", 7) != 0) {
		ret = eb_store_run_resolve(s, ref, run_id, err);
		if (!ret)
			ret = eb_run_on_device(s, *run_id, device, &has, err);
		if (!ret && !has)
			ret = eb_err_set(err, EB_ENOENT, "run %lld in '%s' has no cell on a device "
							 "matching '%s'",
					 (long long)*run_id, s->path, device);
		return ret;
	}
	if (ref[6] == '~' && eb_parse_ll(ref + 7, 0, 1000000000, &back) != 0)
		return eb_err_set(err, EB_EINVAL, "'%s': expected latest~N with N >= 0", ref);
	/* runs newest first, each counted once when one of its cells ran on the device */
	if (sqlite3_prepare_v2(s->db, "SELECT DISTINCT run_id, coalesce(device, '') FROM cells "
				      "ORDER BY run_id DESC",
			       -1, &st, NULL) != SQLITE_OK)
		return eb_store_dberr(s, err, "cannot read");
	ret = EB_ENOENT;
	{
		int64_t last = 0;

		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			int64_t id = sqlite3_column_int64(st, 0);

			if (id == last || fnmatch(device, eb_col_text(st, 1), 0) != 0)
				continue;
			last = id;
			if (seen++ == back) {
				*run_id = id;
				ret = 0;
				break;
			}
		}
	}
	sqlite3_finalize(st);
	if (ret && rc != SQLITE_ROW && rc != SQLITE_DONE)
		return eb_store_dberr(s, err, "cannot read");
	if (ret && seen == 0)
		return eb_err_set(err, EB_ENOENT, "no run in '%s' has a cell on a device matching "
						  "'%s'",
				  s->path, device);
	if (ret)
		return eb_err_set(err, EB_ENOENT, "'%s': '%s' has %lld run%s on a device matching "
						  "'%s'",
				  ref, s->path, seen, seen == 1 ? "" : "s", device);
	return 0;
}

/* A text column of the run's row (`column` is one of ours, never input): *text malloc'd,
 * NULL when the run or the value is absent. */
static int eb_run_text(struct eb_store *s, int64_t run_id, const char *column, char **text,
		       struct eb_err *err)
{
	sqlite3_stmt *st;
	char sql[96];
	int rc;

	*text = NULL;
	snprintf(sql, sizeof(sql), "SELECT %s FROM runs WHERE id = ?", column);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return eb_store_dberr(s, err, "cannot read");
	sqlite3_bind_int64(st, 1, run_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
		*text = eb_xstrdup(eb_col_text(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return eb_store_dberr(s, err, "cannot read");
	return 0;
}

int eb_store_run_config_sha256(struct eb_store *s, int64_t run_id, char **sha,
			       struct eb_err *err)
{
	return eb_run_text(s, run_id, "config_sha256", sha, err);
}

int eb_store_run_config(struct eb_store *s, int64_t run_id, char **json, struct eb_err *err)
{
	return eb_run_text(s, run_id, "config_json", json, err);
}
