/* store.c: SQLite schema, migrations and the prepared statements that write results. */
#include "store_int.h"
#include "eb_clock.h"
#include "eb_util.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Migration i brings user_version from i to i + 1. Never edit one that has shipped. */
static const char *const eb_migrations[] = {
	"CREATE TABLE runs("
	" id INTEGER PRIMARY KEY,"
	" uuid TEXT NOT NULL UNIQUE,"
	" name TEXT NOT NULL,"
	" config_path TEXT,"
	" config_json TEXT NOT NULL,"
	" config_sha256 TEXT NOT NULL,"
	" edgebench_version TEXT,"
	" edgebench_commit TEXT,"
	" host TEXT, os TEXT, kernel TEXT, arch TEXT, cpu_model TEXT,"
	" cpu_cores INTEGER, mem_bytes INTEGER,"
	" env_json TEXT,"
	" started_at TEXT NOT NULL,"
	" finished_at TEXT,"
	" status TEXT NOT NULL);"
	"CREATE TABLE cells("
	" id INTEGER PRIMARY KEY,"
	" run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	" key TEXT NOT NULL,"
	" target TEXT NOT NULL, adapter TEXT NOT NULL, model TEXT NOT NULL, quant TEXT NOT NULL,"
	" device TEXT, workload TEXT NOT NULL,"
	" prompt_tokens INTEGER, gen_tokens INTEGER, params_json TEXT,"
	" status TEXT NOT NULL DEFAULT 'pending',"
	" error TEXT, warnings_json TEXT, backend_json TEXT,"
	" finished_at TEXT, duration_s REAL,"
	" UNIQUE(run_id, key));"
	"CREATE TABLE requests("
	" id INTEGER PRIMARY KEY,"
	" cell_id INTEGER NOT NULL REFERENCES cells(id) ON DELETE CASCADE,"
	" rep INTEGER NOT NULL, warmup INTEGER NOT NULL,"
	" n_prompt INTEGER, n_out INTEGER, n_chunks INTEGER,"
	" ttft_ns INTEGER, e2e_ns INTEGER, decode_ns INTEGER,"
	" prefill_tps REAL, decode_tps REAL,"
	" server_json TEXT);"
	"CREATE INDEX requests_cell ON requests(cell_id);"
	"CREATE TABLE token_times("
	" request_id INTEGER NOT NULL REFERENCES requests(id) ON DELETE CASCADE,"
	" idx INTEGER NOT NULL, t_ns INTEGER NOT NULL, n_tokens INTEGER,"
	" PRIMARY KEY(request_id, idx)) WITHOUT ROWID;"
	"CREATE TABLE metrics("
	" cell_id INTEGER NOT NULL REFERENCES cells(id) ON DELETE CASCADE,"
	" name TEXT NOT NULL, unit TEXT,"
	" n INTEGER, mean REAL, stddev REAL, median REAL, min REAL, max REAL,"
	" p90 REAL, p99 REAL, ci_lo REAL, ci_hi REAL, n_outliers INTEGER,"
	" PRIMARY KEY(cell_id, name));"
	"CREATE TABLE power_samples("
	" cell_id INTEGER NOT NULL REFERENCES cells(id) ON DELETE CASCADE,"
	" sensor TEXT NOT NULL, rail TEXT NOT NULL, t_ns INTEGER NOT NULL, watts REAL);"
	"CREATE INDEX power_samples_cell ON power_samples(cell_id);",
	/* 2: accuracy figures, each with its protocol and parameters */
	"CREATE TABLE accuracy("
	" cell_id INTEGER NOT NULL REFERENCES cells(id) ON DELETE CASCADE,"
	" task TEXT NOT NULL, protocol TEXT NOT NULL, metric TEXT NOT NULL,"
	" value REAL, stderr REAL, n INTEGER, params_json TEXT,"
	" PRIMARY KEY(cell_id, task, metric));",
	/* 3: power samples with their unit, counter and flags; request send times on the
	 * samples' clock (so plots can shade prefill and decode windows) */
	"ALTER TABLE power_samples ADD COLUMN unit TEXT;"
	"ALTER TABLE power_samples ADD COLUMN value REAL;"
	"ALTER TABLE power_samples ADD COLUMN energy_uj INTEGER;"
	"ALTER TABLE power_samples ADD COLUMN flags INTEGER;"
	"ALTER TABLE requests ADD COLUMN t_send_ns INTEGER;",
	/* 4: the writer of a run being executed (store.h, eb_store_run_lock); never merged */
	"CREATE TABLE run_locks("
	" run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,"
	" pid INTEGER NOT NULL, host TEXT NOT NULL, boot_id TEXT, proc_start INTEGER,"
	" since TEXT NOT NULL);",
	/* 5: per-item records of accuracy cells (HellaSwag items, windows, chunks, pages) */
	"CREATE TABLE acc_samples("
	" cell_id INTEGER NOT NULL REFERENCES cells(id) ON DELETE CASCADE,"
	" idx INTEGER NOT NULL, task TEXT NOT NULL, protocol TEXT NOT NULL,"
	" doc TEXT NOT NULL, prompt_sha256 TEXT, prompt_hash_of TEXT,"
	" result_json TEXT NOT NULL, answer INTEGER, gold INTEGER, correct INTEGER,"
	" PRIMARY KEY(cell_id, idx));",
};

#define EB_N_MIGRATIONS (sizeof(eb_migrations) / sizeof(eb_migrations[0]))
_Static_assert(EB_N_MIGRATIONS == EB_STORE_SCHEMA_VERSION, "a migration per schema version");

int eb_store_dberr(struct eb_store *s, struct eb_err *err, const char *what)
{
	return eb_err_set(err, EB_EDB, "%s '%s': %s", what, s->path ? s->path : "?",
			  s->db ? sqlite3_errmsg(s->db) : "no database");
}

static int eb_exec(struct eb_store *s, const char *sql, struct eb_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		eb_err_set(err, EB_EDB, "database '%s': %s", s->path, msg ? msg : "error");
		sqlite3_free(msg);
		return EB_EDB;
	}
	return 0;
}

static int eb_user_version(struct eb_store *s, int *v)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int eb_store_open(struct eb_store **out, const char *path, int readonly, struct eb_err *err)
{
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	struct eb_store *s = eb_xcalloc(1, sizeof(*s));
	int ver = 0;
	int ret = EB_EDB;

	*out = NULL;
	s->path = eb_xstrdup(path);
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		ret = eb_err_set(err, EB_EDB, "cannot open database '%s': %s", path,
				 s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 10000);
	if (eb_user_version(s, &ver) != 0) {
		/* NOTADB is a foreign file; anything else (a read-only directory) is not */
		ret = eb_err_set(err, EB_EDB,
				 sqlite3_errcode(s->db) == SQLITE_NOTADB
					 ? "'%s' is not a SQLite database: %s"
					 : "cannot read database '%s': %s",
				 path, sqlite3_errmsg(s->db));
		goto fail;
	}
	if (ver > (int)EB_N_MIGRATIONS) {
		ret = eb_err_set(err, EB_EDB,
				 "database '%s' has schema version %d; this edgebench knows up to %d "
				 "(upgrade edgebench)",
				 path, ver, (int)EB_N_MIGRATIONS);
		goto fail;
	}
	/* read-only too: "migrate it with run" would be untrue, run refuses it the same way */
	if (ver == 0) {
		sqlite3_stmt *st;
		int ntables = 0, rc = SQLITE_ERROR;

		if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_master", -1, &st,
				       NULL) == SQLITE_OK) {
			rc = sqlite3_step(st);
			if (rc == SQLITE_ROW)
				ntables = sqlite3_column_int(st, 0);
			else
				ret = eb_store_dberr(s, err, "cannot read database");
			sqlite3_finalize(st);
		} else {
			ret = eb_store_dberr(s, err, "cannot read database");
		}
		if (rc != SQLITE_ROW)
			goto fail;
		if (ntables > 0) {
			ret = eb_err_set(err, EB_EDB,
					 "'%s' is a SQLite database but not edgebench's (it has tables "
					 "and no schema version)",
					 path);
			goto fail;
		}
	}
	if (readonly) {
		if (ver < EB_STORE_SCHEMA_READABLE) {
			ret = eb_err_set(err, EB_EDB,
					 "database '%s' has schema version %d, expected %d (open it "
					 "once with `edgebench run` to migrate)",
					 path, ver, (int)EB_N_MIGRATIONS);
			goto fail;
		}
	} else {
		if (eb_exec(s, "PRAGMA journal_mode=WAL", err))
			goto fail;
		for (int v = ver; v < (int)EB_N_MIGRATIONS; v++) {
			char pragma[64];

			if (eb_exec(s, "BEGIN IMMEDIATE", err))
				goto fail;
			if (eb_exec(s, eb_migrations[v], err)) {
				eb_store_rollback(s);
				goto fail;
			}
			snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", v + 1);
			if (eb_exec(s, pragma, err) || eb_exec(s, "COMMIT", err)) {
				eb_store_rollback(s);
				goto fail;
			}
		}
	}
	if (eb_exec(s, "PRAGMA foreign_keys=ON", err))
		goto fail;
	{
		struct stat sb;

		if (stat(path, &sb) == 0) {
			s->dev = sb.st_dev;
			s->ino = sb.st_ino;
		}
	}
	*out = s;
	return 0;
fail:
	eb_store_close(s);
	return ret;
}

void eb_store_close(struct eb_store *s)
{
	if (!s)
		return;
	if (s->db)
		sqlite3_close(s->db);
	/* the database was moved and its log folded into it: the empty log and index SQLite
	 * left under the old name belong to no database (unless one took the name since) */
	if (s->moved && access(s->path, F_OK) != 0) {
		char side[4200];
		struct stat sb;

		snprintf(side, sizeof(side), "%s-wal", s->path);
		if (stat(side, &sb) == 0 && sb.st_size == 0)
			unlink(side);
		snprintf(side, sizeof(side), "%s-shm", s->path);
		unlink(side);
	}
	free(s->path);
	free(s);
}

const char *eb_store_path(const struct eb_store *s)
{
	return s->path;
}

int eb_store_begin(struct eb_store *s, struct eb_err *err)
{
	return eb_exec(s, "BEGIN IMMEDIATE", err);
}

int eb_store_commit(struct eb_store *s, struct eb_err *err)
{
	return eb_exec(s, "COMMIT", err);
}

void eb_store_rollback(struct eb_store *s)
{
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static void eb_now_iso(char *buf, size_t n)
{
	uint64_t ns = eb_clock_wall_ns();
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(ns % 1000000000ull / 1000000ull));
}

static int eb_prep(struct eb_store *s, const char *sql, sqlite3_stmt **st, struct eb_err *err)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return eb_store_dberr(s, err, "cannot prepare statement on");
	return 0;
}

static void eb_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void eb_bind_real(sqlite3_stmt *st, int i, double v)
{
	if (isfinite(v))
		sqlite3_bind_double(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

static void eb_bind_nonneg(sqlite3_stmt *st, int i, long long v)
{
	if (v >= 0)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

static int eb_step_done(struct eb_store *s, sqlite3_stmt *st, struct eb_err *err)
{
	int rc = sqlite3_step(st);
	int ret = 0;

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = eb_store_dberr(s, err, "cannot write to database");
	sqlite3_finalize(st);
	return ret;
}

int eb_store_run_add(struct eb_store *s, const struct eb_run_info *ri, int64_t *run_id,
		     struct eb_err *err)
{
	sqlite3_stmt *st;
	char now[64];
	int ret;

	ret = eb_prep(s,
		      "INSERT INTO runs(uuid,name,config_path,config_json,config_sha256,"
		      "edgebench_version,edgebench_commit,host,os,kernel,arch,cpu_model,cpu_cores,"
		      "mem_bytes,env_json,started_at,status) "
		      "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,'running')",
		      &st, err);
	if (ret)
		return ret;
	eb_now_iso(now, sizeof(now));
	eb_bind_text(st, 1, ri->uuid);
	eb_bind_text(st, 2, ri->name);
	eb_bind_text(st, 3, ri->config_path);
	eb_bind_text(st, 4, ri->config_json);
	eb_bind_text(st, 5, ri->config_sha256);
	eb_bind_text(st, 6, ri->version);
	eb_bind_text(st, 7, ri->commit);
	eb_bind_text(st, 8, ri->host);
	eb_bind_text(st, 9, ri->os);
	eb_bind_text(st, 10, ri->kernel);
	eb_bind_text(st, 11, ri->arch);
	eb_bind_text(st, 12, ri->cpu_model);
	eb_bind_nonneg(st, 13, ri->cpu_cores);
	eb_bind_nonneg(st, 14, ri->mem_bytes);
	eb_bind_text(st, 15, ri->env_json);
	eb_bind_text(st, 16, now);
	ret = eb_step_done(s, st, err);
	if (!ret)
		*run_id = sqlite3_last_insert_rowid(s->db);
	return ret;
}

int eb_store_run_set_status(struct eb_store *s, int64_t run_id, const char *status,
			    struct eb_err *err)
{
	sqlite3_stmt *st;
	char now[64];
	int ret;

	ret = eb_prep(s, "UPDATE runs SET status=?, finished_at=? WHERE id=?", &st, err);
	if (ret)
		return ret;
	eb_now_iso(now, sizeof(now));
	eb_bind_text(st, 1, status);
	eb_bind_text(st, 2, strcmp(status, "running") == 0 ? NULL : now);
	sqlite3_bind_int64(st, 3, run_id);
	return eb_step_done(s, st, err);
}

int eb_store_run_fact_set(struct eb_store *s, int64_t run_id, const char *key, const char *json,
			  struct eb_err *err)
{
	sqlite3_stmt *st;
	int ret;

	ret = eb_prep(s,
		      "UPDATE runs SET env_json=json_set(coalesce(env_json,'{}'),'$.'||?,json(?)) "
		      "WHERE id=?",
		      &st, err);
	if (ret)
		return ret;
	eb_bind_text(st, 1, key);
	eb_bind_text(st, 2, json);
	sqlite3_bind_int64(st, 3, run_id);
	return eb_step_done(s, st, err);
}

int eb_store_json_text(struct eb_store *s, const char *sql, const char *text, int64_t id,
		       char **json, struct eb_err *err)
{
	sqlite3_stmt *st;
	int ret, rc;

	*json = NULL;
	ret = eb_prep(s, sql, &st, err);
	if (ret)
		return ret;
	eb_bind_text(st, 1, text);
	sqlite3_bind_int64(st, 2, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*json = eb_xstrdup((const char *)sqlite3_column_text(st, 0));
	else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = eb_store_dberr(s, err, "cannot read");
	sqlite3_finalize(st);
	return ret;
}

int eb_store_run_fact_get(struct eb_store *s, int64_t run_id, const char *key, char **json,
			  struct eb_err *err)
{
	return eb_store_json_text(s, "SELECT json_extract(env_json,'$.'||?1) FROM runs WHERE id=?2",
				  key, run_id, json, err);
}

int eb_store_run_find_resumable(struct eb_store *s, const char *sha, int64_t *run_id,
				char uuid[64], struct eb_err *err)
{
	sqlite3_stmt *st;
	int ret, rc;

	ret = eb_prep(s,
		      "SELECT id, uuid FROM runs WHERE config_sha256=? AND status IN "
		      "('running','interrupted') ORDER BY id DESC LIMIT 1",
		      &st, err);
	if (ret)
		return ret;
	eb_bind_text(st, 1, sha);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*run_id = sqlite3_column_int64(st, 0);
		eb_strlcpy(uuid, (const char *)sqlite3_column_text(st, 1), 64);
		ret = 0;
	} else if (rc == SQLITE_DONE) {
		ret = eb_err_set(err, EB_ENOENT,
				 "no interrupted run of this config in '%s' to resume", s->path);
	} else {
		ret = eb_store_dberr(s, err, "cannot read");
	}
	sqlite3_finalize(st);
	return ret;
}

int eb_store_cell_ensure(struct eb_store *s, int64_t run_id, const struct eb_cell_row *c,
			 int64_t *cell_id, struct eb_err *err)
{
	sqlite3_stmt *st;
	int ret, rc;

	ret = eb_prep(s,
		      "INSERT INTO cells(run_id,key,target,adapter,model,quant,device,workload,"
		      "prompt_tokens,gen_tokens,params_json) VALUES(?,?,?,?,?,?,?,?,?,?,?) "
		      "ON CONFLICT(run_id,key) DO NOTHING",
		      &st, err);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, run_id);
	eb_bind_text(st, 2, c->key);
	eb_bind_text(st, 3, c->target);
	eb_bind_text(st, 4, c->adapter);
	eb_bind_text(st, 5, c->model);
	eb_bind_text(st, 6, c->quant);
	eb_bind_text(st, 7, c->device);
	eb_bind_text(st, 8, c->workload);
	eb_bind_nonneg(st, 9, c->prompt_tokens);
	eb_bind_nonneg(st, 10, c->gen_tokens);
	eb_bind_text(st, 11, c->params_json);
	ret = eb_step_done(s, st, err);
	if (ret)
		return ret;
	ret = eb_prep(s, "SELECT id FROM cells WHERE run_id=? AND key=?", &st, err);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, run_id);
	eb_bind_text(st, 2, c->key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*cell_id = sqlite3_column_int64(st, 0);
	else
		ret = eb_store_dberr(s, err, "cannot read");
	sqlite3_finalize(st);
	return ret;
}

int eb_store_cell_status(struct eb_store *s, int64_t cell_id, char *buf, size_t n,
			 struct eb_err *err)
{
	sqlite3_stmt *st;
	int ret, rc;

	ret = eb_prep(s, "SELECT status FROM cells WHERE id=?", &st, err);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, cell_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		eb_strlcpy(buf, (const char *)sqlite3_column_text(st, 0), n);
	else
		ret = eb_err_set(err, EB_ENOENT, "no cell %lld in '%s'", (long long)cell_id, s->path);
	sqlite3_finalize(st);
	return ret;
}

int eb_store_cell_finish(struct eb_store *s, int64_t cell_id, const char *status,
			 const char *error, const char *backend_json, const char *warnings_json,
			 double duration_s, struct eb_err *err)
{
	sqlite3_stmt *st;
	char now[64];
	int ret;

	ret = eb_prep(s,
		      "UPDATE cells SET status=?, error=?, backend_json=?, warnings_json=?, "
		      "finished_at=?, duration_s=? WHERE id=?",
		      &st, err);
	if (ret)
		return ret;
	eb_now_iso(now, sizeof(now));
	eb_bind_text(st, 1, status);
	eb_bind_text(st, 2, error);
	eb_bind_text(st, 3, backend_json);
	eb_bind_text(st, 4, warnings_json);
	eb_bind_text(st, 5, now);
	eb_bind_real(st, 6, duration_s);
	sqlite3_bind_int64(st, 7, cell_id);
	return eb_step_done(s, st, err);
}

int eb_store_request_add(struct eb_store *s, int64_t cell_id, const struct eb_request_row *r,
			 struct eb_err *err)
{
	sqlite3_stmt *st;
	int64_t req_id;
	int ret;

	ret = eb_prep(s,
		      "INSERT INTO requests(cell_id,rep,warmup,n_prompt,n_out,n_chunks,ttft_ns,"
		      "e2e_ns,decode_ns,prefill_tps,decode_tps,server_json,t_send_ns) "
		      "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
		      &st, err);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, cell_id);
	sqlite3_bind_int(st, 2, r->rep);
	sqlite3_bind_int(st, 3, r->warmup);
	eb_bind_nonneg(st, 4, r->n_prompt);
	eb_bind_nonneg(st, 5, r->n_out);
	eb_bind_nonneg(st, 6, r->n_chunks);
	eb_bind_nonneg(st, 7, r->ttft_ns);
	eb_bind_nonneg(st, 8, r->e2e_ns);
	eb_bind_nonneg(st, 9, r->decode_ns);
	eb_bind_real(st, 10, r->prefill_tps);
	eb_bind_real(st, 11, r->decode_tps);
	eb_bind_text(st, 12, r->server_json);
	if (r->has_t_send)
		sqlite3_bind_int64(st, 13, r->t_send_ns);
	else
		sqlite3_bind_null(st, 13);
	ret = eb_step_done(s, st, err);
	if (ret || r->n_times == 0)
		return ret;
	req_id = sqlite3_last_insert_rowid(s->db);
	ret = eb_prep(s, "INSERT INTO token_times(request_id,idx,t_ns,n_tokens) VALUES(?,?,?,?)",
		      &st, err);
	if (ret)
		return ret;
	for (size_t i = 0; i < r->n_times; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, req_id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)r->t_ns[i]);
		eb_bind_nonneg(st, 4, r->n_tokens ? r->n_tokens[i] : -1);
		if (sqlite3_step(st) != SQLITE_DONE) {
			ret = eb_store_dberr(s, err, "cannot write to database");
			break;
		}
	}
	sqlite3_finalize(st);
	return ret;
}

int eb_store_power_samples(struct eb_store *s, int64_t cell_id, const struct eb_trace *t,
			   uint64_t t0, struct eb_err *err)
{
	sqlite3_stmt *st;
	int ret;

	if (!t || t->n == 0)
		return 0;
	ret = eb_prep(s,
		      "INSERT INTO power_samples(cell_id,sensor,rail,t_ns,watts,unit,value,energy_uj,"
		      "flags) VALUES(?,?,?,?,?,?,?,?,?)",
		      &st, err);
	if (ret)
		return ret;
	for (size_t i = 0; i < t->n; i++) {
		const struct eb_sample *x = &t->samples[i];
		const struct eb_trace_rail *r = &t->rails[x->rail];
		int bytes = (r->flags & EB_RAIL_BYTES) != 0;

		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, cell_id);
		sqlite3_bind_text(st, 2, t->sensors[r->sensor].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, r->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)(x->t_ns - t0));
		if (bytes)
			sqlite3_bind_null(st, 5);
		else
			eb_bind_real(st, 5, x->value);
		sqlite3_bind_text(st, 6, bytes ? "B" : "W", -1, SQLITE_STATIC);
		eb_bind_real(st, 7, x->value);
		if (r->flags & EB_RAIL_COUNTER)
			sqlite3_bind_int64(st, 8, (sqlite3_int64)x->energy_uj);
		else
			sqlite3_bind_null(st, 8);
		sqlite3_bind_int(st, 9, (int)r->flags);
		if (sqlite3_step(st) != SQLITE_DONE) {
			ret = eb_store_dberr(s, err, "cannot write to database");
			break;
		}
	}
	sqlite3_finalize(st);
	return ret;
}

int eb_store_metric_add(struct eb_store *s, int64_t cell_id, const char *name, const char *unit,
			const struct eb_summary *m, struct eb_err *err)
{
	sqlite3_stmt *st;
	int ret;

	ret = eb_prep(s,
		      "INSERT OR REPLACE INTO metrics(cell_id,name,unit,n,mean,stddev,median,min,"
		      "max,p90,p99,ci_lo,ci_hi,n_outliers) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		      &st, err);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, cell_id);
	eb_bind_text(st, 2, name);
	eb_bind_text(st, 3, unit);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)m->n);
	eb_bind_real(st, 5, m->mean);
	eb_bind_real(st, 6, m->stddev);
	eb_bind_real(st, 7, m->median);
	eb_bind_real(st, 8, m->min);
	eb_bind_real(st, 9, m->max);
	eb_bind_real(st, 10, m->p90);
	eb_bind_real(st, 11, m->p99);
	eb_bind_real(st, 12, m->ci_lo);
	eb_bind_real(st, 13, m->ci_hi);
	sqlite3_bind_int64(st, 14, (sqlite3_int64)m->n_outliers);
	return eb_step_done(s, st, err);
}

int eb_store_metric_value(struct eb_store *s, int64_t cell_id, const char *name,
			  const char *unit, double value, struct eb_err *err)
{
	struct eb_summary m;

	if (eb_stats_summarize(&value, 1, &m))
		return eb_err_set(err, EB_EINVAL, "metric '%s' is not a number", name);
	return eb_store_metric_add(s, cell_id, name, unit, &m, err);
}

int eb_store_accuracy_add(struct eb_store *s, int64_t cell_id, const struct eb_accuracy_row *r,
			  struct eb_err *err)
{
	sqlite3_stmt *st;
	int ret;

	ret = eb_prep(s,
		      "INSERT OR REPLACE INTO accuracy(cell_id,task,protocol,metric,value,stderr,n,"
		      "params_json) VALUES(?,?,?,?,?,?,?,?)",
		      &st, err);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, cell_id);
	eb_bind_text(st, 2, r->task);
	eb_bind_text(st, 3, r->protocol);
	eb_bind_text(st, 4, r->metric);
	eb_bind_real(st, 5, r->value);
	eb_bind_real(st, 6, r->stderr_);
	eb_bind_nonneg(st, 7, r->n);
	eb_bind_text(st, 8, r->params_json);
	return eb_step_done(s, st, err);
}

int eb_store_sample_add(struct eb_store *s, int64_t cell_id, const struct eb_sample_row *r,
			struct eb_err *err)
{
	sqlite3_stmt *st;
	int ret;

	ret = eb_prep(s,
		      "INSERT OR REPLACE INTO acc_samples(cell_id,idx,task,protocol,doc,prompt_sha256,"
		      "prompt_hash_of,result_json,answer,gold,correct) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
		      &st, err);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, cell_id);
	sqlite3_bind_int64(st, 2, r->idx);
	eb_bind_text(st, 3, r->task);
	eb_bind_text(st, 4, r->protocol);
	eb_bind_text(st, 5, r->doc);
	eb_bind_text(st, 6, r->prompt_sha256);
	eb_bind_text(st, 7, r->prompt_hash_of);
	eb_bind_text(st, 8, r->result_json);
	eb_bind_nonneg(st, 9, r->answer);
	eb_bind_nonneg(st, 10, r->gold);
	eb_bind_nonneg(st, 11, r->correct);
	return eb_step_done(s, st, err);
}

int eb_store_cell_clear(struct eb_store *s, int64_t cell_id, struct eb_err *err)
{
	static const char *const sql[] = {
		"DELETE FROM requests WHERE cell_id=?",
		"DELETE FROM metrics WHERE cell_id=?",
		"DELETE FROM power_samples WHERE cell_id=?",
		"DELETE FROM accuracy WHERE cell_id=?",
		"DELETE FROM acc_samples WHERE cell_id=?",
	};

	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *st;
		int ret = eb_prep(s, sql[i], &st, err);

		if (ret)
			return ret;
		sqlite3_bind_int64(st, 1, cell_id);
		ret = eb_step_done(s, st, err);
		if (ret)
			return ret;
	}
	return 0;
}

/* --- the run lock and the final checkpoint -------------------------------------------- */

/* This boot's id (random per boot), or "" where the kernel has none. */
static void eb_boot_id(char *buf, size_t n)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

	buf[0] = '\0';
	if (!f)
		return;
	if (!fgets(buf, (int)n, f))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* A process's start time in clock ticks since boot (/proc/PID/stat field 22); -1 when the
 * process does not exist or cannot be read. */
static long long eb_proc_start_ticks(long long pid)
{
	char path[64], line[1024];
	const char *p;
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(line, sizeof(line), f) && (p = strrchr(line, ')'))) {
		/* fields after the command: state is field 3, starttime field 22 */
		int field = 2;

		for (; *p && field < 22; p++)
			if (*p == ' ')
				field++;
		if (field == 22 && sscanf(p, "%lld", &v) != 1)
			v = -1;
	}
	fclose(f);
	return v;
}

static void eb_hostname(char *buf, size_t n)
{
	if (gethostname(buf, n) != 0)
		eb_strlcpy(buf, "?", n);
	buf[n - 1] = '\0';
}

int eb_store_lock_held(struct eb_store *s, const char *schema, int64_t run_id, char *who,
		       size_t n, struct eb_err *err)
{
	char sql[256], host[256], boot[64];
	sqlite3_stmt *st;
	int ret, rc;

	snprintf(sql, sizeof(sql),
		 "SELECT pid, host, boot_id, proc_start, since FROM %s.run_locks WHERE run_id=?",
		 schema);
	ret = eb_prep(s, sql, &st, err);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, run_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		long long pid = sqlite3_column_int64(st, 0), start = sqlite3_column_int64(st, 3);
		const char *h = (const char *)sqlite3_column_text(st, 1);
		const char *b = (const char *)sqlite3_column_text(st, 2);
		const char *since = (const char *)sqlite3_column_text(st, 4);

		eb_hostname(host, sizeof(host));
		eb_boot_id(boot, sizeof(boot));
		ret = 1;
		if (h && strcmp(h, host) == 0) {
			/* this host: an earlier boot, or a pid that is gone or now someone else's */
			if (b && boot[0] && strcmp(b, boot) != 0)
				ret = 0;
			else if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH))
				ret = 0;
			else if (sqlite3_column_type(st, 3) != SQLITE_NULL &&
				 eb_proc_start_ticks(pid) != start)
				ret = 0;
		}
		if (ret)
			snprintf(who, n, "pid %lld on host '%s' since %s", pid, h ? h : "?",
				 since ? since : "?");
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		ret = eb_store_dberr(s, err, "cannot read");
	}
	sqlite3_finalize(st);
	return ret;
}

int eb_store_run_lock(struct eb_store *s, int64_t run_id, int force, struct eb_err *err)
{
	char host[256], boot[64], now[64], who[512];
	long long me = (long long)getpid();
	sqlite3_stmt *st;
	int ret;

	eb_hostname(host, sizeof(host));
	ret = eb_store_lock_held(s, "main", run_id, who, sizeof(who), err);
	if (ret < 0)
		return ret;
	if (ret == 1 && !force) {
		char prefix[300];

		snprintf(prefix, sizeof(prefix), "pid %lld on host '%s' ", me, host);
		if (strncmp(who, prefix, strlen(prefix)) == 0)
			return 0; /* this process holds it already */
		snprintf(prefix, sizeof(prefix), "on host '%s' ", host);
		if (strstr(who, prefix))
			return eb_err_set(err, EB_EDB,
					  "run %lld of '%s' is being run by %s: two processes would "
					  "run the same cells at once (and share the device); wait "
					  "for it to end, or stop it, then resume",
					  (long long)run_id, s->path, who);
		return eb_err_set(err, EB_EDB,
				  "run %lld of '%s' is locked by %s, which cannot be checked from "
				  "host '%s'; if that process has ended, take the run over with "
				  "--force-unlock",
				  (long long)run_id, s->path, who, host);
	}
	eb_boot_id(boot, sizeof(boot));
	eb_now_iso(now, sizeof(now));
	ret = eb_prep(s,
		      "INSERT OR REPLACE INTO run_locks(run_id,pid,host,boot_id,proc_start,since)"
		      " VALUES(?,?,?,?,?,?)",
		      &st, err);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, me);
	eb_bind_text(st, 3, host);
	eb_bind_text(st, 4, boot[0] ? boot : NULL);
	eb_bind_nonneg(st, 5, eb_proc_start_ticks(me));
	eb_bind_text(st, 6, now);
	return eb_step_done(s, st, err);
}

int eb_store_run_unlock(struct eb_store *s, int64_t run_id, struct eb_err *err)
{
	char host[256];
	sqlite3_stmt *st;
	int ret;

	eb_hostname(host, sizeof(host));
	ret = eb_prep(s, "DELETE FROM run_locks WHERE run_id=? AND pid=? AND host=?", &st, err);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, (long long)getpid());
	eb_bind_text(st, 3, host);
	return eb_step_done(s, st, err);
}

/* The name an open file of this process now has (found through /proc/self/fd): 1, or 2
 * when it has no name left (removed), or 0 when it cannot be told. */
static int eb_find_open_name(dev_t dev, ino_t ino, char *buf, size_t n)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		char link[300];
		struct stat sb;
		ssize_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		if (stat(link, &sb) != 0 || sb.st_dev != dev || sb.st_ino != ino)
			continue;
		len = readlink(link, buf, n - 1);
		if (len > 0) {
			buf[len] = '\0';
			found = sb.st_nlink == 0 ? 2 : 1;
		}
	}
	closedir(d);
	return found;
}

int eb_store_checkpoint(struct eb_store *s, struct eb_err *err)
{
	sqlite3_stmt *st;
	struct stat sb;
	int rc, busy = 0;

	if (sqlite3_prepare_v2(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &st, NULL) !=
	    SQLITE_OK)
		return eb_store_dberr(s, err, "cannot checkpoint");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		busy = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW || busy) {
		const char *why = rc != SQLITE_ROW ? sqlite3_errmsg(s->db)
						   : "another process has the database open and "
						     "reading";

		return eb_err_set(err, EB_EDB,
				  "database '%s': cannot fold its write-ahead log into it (%s): the "
				  "latest results are in '%s-wal' beside it, not in '%s' alone; keep "
				  "the two files together (never copy the .db alone) and, once there "
				  "is room, fold them with `edgebench merge %s` (or `sqlite3 %s "
				  "'PRAGMA wal_checkpoint(TRUNCATE)'`) with both files in place",
				  s->path, why, s->path, s->path, s->path, s->path);
	}
	if (s->dev == 0 && s->ino == 0)
		return 0;
	if (stat(s->path, &sb) != 0 || sb.st_dev != s->dev || sb.st_ino != s->ino) {
		char now[4096];
		int found;

		s->moved = 1;
		found = eb_find_open_name(s->dev, s->ino, now, sizeof(now));
		if (found == 2)
			return eb_err_set(err, EB_EDB,
					  "database '%s' was removed while edgebench wrote it: its "
					  "results went with it",
					  s->path);
		if (found == 1)
			return eb_err_set(err, EB_EDB,
					  "database '%s' was renamed or removed while edgebench "
					  "wrote it: every result is in the file it became, '%s'; "
					  "'%s' does not hold them",
					  s->path, now, s->path);
		return eb_err_set(err, EB_EDB,
				  "database '%s' was renamed or removed while edgebench wrote it: "
				  "every result is in the file it became (wherever it was moved); "
				  "'%s' does not hold them",
				  s->path, s->path);
	}
	return 0;
}
