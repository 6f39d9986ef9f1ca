/* merge.c: attaches an input database and copies its runs into the output, one transaction each. */
#include "merge.h"
#include "store_int.h"

#include "eb_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A table of the schema and how its rows belong to a run. */
enum eb_link {
	EB_L_RUNS, EB_L_CELLS, EB_L_REQUESTS, EB_L_RUN_ID, EB_L_CELL_ID, EB_L_REQUEST_ID,
	EB_L_NONE, /* not copied: run_locks names a process of the input's host */
};

struct eb_mtable {
	char *name;
	char **cols; /* every column, in order */
	size_t ncols;
	int rowid_col; /* the INTEGER PRIMARY KEY column, or -1 */
	enum eb_link link;
};

struct eb_merge {
	struct eb_store *out;
	const char *in;
	FILE *log;
	struct eb_mtable *t;
	size_t nt;
	struct eb_err *err;
};

static int eb_mdberr(struct eb_merge *m, const char *what)
{
	return eb_err_set(m->err, EB_EDB, "%s while merging '%s' into '%s': %s", what, m->in,
			  m->out->path, sqlite3_errmsg(m->out->db));
}

/* Identifiers come from the schema; they are quoted, never user input. */
static void eb_ident(struct eb_buf *b, const char *s)
{
	eb_buf_addstr(b, "\"");
	for (; *s; s++) {
		if (*s == '"')
			eb_buf_addstr(b, "\"\"");
		else
			eb_buf_add(b, s, 1);
	}
	eb_buf_addstr(b, "\"");
}

static void eb_mtables_release(struct eb_merge *m)
{
	for (size_t i = 0; i < m->nt; i++) {
		for (size_t c = 0; c < m->t[i].ncols; c++)
			free(m->t[i].cols[c]);
		free(m->t[i].cols);
		free(m->t[i].name);
	}
	free(m->t);
	m->t = NULL;
	m->nt = 0;
}

/* Columns of schema.table as "name:type:pk" strings joined by ',' (for comparison). */
static int eb_table_sig(struct eb_merge *m, const char *schema, const char *table,
			struct eb_buf *sig, struct eb_mtable *t)
{
	sqlite3_stmt *st;
	int rc, npk = 0, pkcol = -1;

	if (sqlite3_prepare_v2(m->out->db, "SELECT name, upper(type), pk FROM pragma_table_info(?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		return eb_mdberr(m, "cannot read the schema");
	sqlite3_bind_text(st, 1, table, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, schema, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *type = (const char *)sqlite3_column_text(st, 1);
		int pk = sqlite3_column_int(st, 2);

		eb_buf_addf(sig, "%s:%s:%d,", name, type ? type : "", pk);
		if (t) {
			t->cols = eb_xrealloc(t->cols, (t->ncols + 1) * sizeof(*t->cols));
			t->cols[t->ncols] = eb_xstrdup(name);
			if (pk) {
				npk++;
				if (type && strcmp(type, "INTEGER") == 0)
					pkcol = (int)t->ncols;
			}
			t->ncols++;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return eb_mdberr(m, "cannot read the schema");
	if (t)
		t->rowid_col = npk == 1 ? pkcol : -1;
	return 0;
}

static int eb_has_col(const struct eb_mtable *t, const char *name)
{
	for (size_t c = 0; c < t->ncols; c++)
		if (strcmp(t->cols[c], name) == 0)
			return 1;
	return 0;
}

/* Reads the input's tables, checks the output has the same ones, and says how each links
 * to a run. */
static int eb_mtables(struct eb_merge *m)
{
	sqlite3_stmt *st;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(m->out->db,
			       "SELECT name FROM src.sqlite_master WHERE type = 'table'"
			       " AND name NOT LIKE 'sqlite_%' ORDER BY rootpage",
			       -1, &st, NULL) != SQLITE_OK)
		return eb_mdberr(m, "cannot read the schema");
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		struct eb_buf a, b;
		struct eb_mtable *t;

		m->t = eb_xrealloc(m->t, (m->nt + 1) * sizeof(*m->t));
		t = &m->t[m->nt++];
		memset(t, 0, sizeof(*t));
		t->name = eb_xstrdup(name);
		eb_buf_init(&a, 0);
		eb_buf_init(&b, 0);
		ret = eb_table_sig(m, "src", name, &a, t);
		if (!ret)
			ret = eb_table_sig(m, "main", name, &b, NULL);
		if (!ret && b.len == 0)
			ret = eb_err_set(m->err, EB_EINVAL,
					 "cannot merge '%s': it has a table '%s' that '%s' lacks", m->in,
					 name, m->out->path);
		else if (!ret && strcmp(a.buf, b.buf) != 0)
			ret = eb_err_set(m->err, EB_EINVAL,
					 "cannot merge '%s': its table '%s' differs from the one in '%s'",
					 m->in, name, m->out->path);
		eb_buf_release(&a);
		eb_buf_release(&b);
		if (ret)
			break;
		if (strcmp(name, "run_locks") == 0)
			t->link = EB_L_NONE;
		else if (strcmp(name, "runs") == 0)
			t->link = EB_L_RUNS;
		else if (strcmp(name, "cells") == 0)
			t->link = EB_L_CELLS;
		else if (strcmp(name, "requests") == 0)
			t->link = EB_L_REQUESTS;
		else if (eb_has_col(t, "request_id"))
			t->link = EB_L_REQUEST_ID;
		else if (eb_has_col(t, "cell_id"))
			t->link = EB_L_CELL_ID;
		else if (eb_has_col(t, "run_id"))
			t->link = EB_L_RUN_ID;
		else
			ret = eb_err_set(m->err, EB_EINVAL,
					 "cannot merge '%s': table '%s' belongs to no run (no run_id, "
					 "cell_id or request_id column); this edgebench does not know it",
					 m->in, name);
	}
	sqlite3_finalize(st);
	if (!ret && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = eb_mdberr(m, "cannot read the schema");
	return ret;
}

static int eb_exec1(struct eb_merge *m, const char *sql, const int64_t *binds, int nbind,
		    int64_t *result)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(m->out->db, sql, -1, &st, NULL) != SQLITE_OK)
		return eb_mdberr(m, "cannot prepare a statement");
	for (int i = 0; i < nbind; i++)
		sqlite3_bind_int64(st, i + 1, binds[i]);
	rc = sqlite3_step(st);
	if (result)
		*result = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return eb_mdberr(m, "cannot copy");
	return 0;
}

/*
 * Copies one table's rows of the input run. ?1 = the input run id, ?2 = the output run
 * id, ?3 = the cell id offset, ?4 = the request id offset.
 */
static int eb_copy_table(struct eb_merge *m, const struct eb_mtable *t, const int64_t *b)
{
	static const char cells_of_run[] = "(SELECT id FROM src.cells WHERE run_id = ?1)";
	struct eb_buf sql;
	int ret, first = 1;

	eb_buf_init(&sql, 0);
	eb_buf_addstr(&sql, "INSERT INTO main.");
	eb_ident(&sql, t->name);
	eb_buf_addstr(&sql, "(");
	for (size_t c = 0; c < t->ncols; c++) {
		int keep_id = t->link == EB_L_RUNS || t->link == EB_L_CELLS || t->link == EB_L_REQUESTS;

		if ((int)c == t->rowid_col && !keep_id)
			continue; /* a row id nothing refers to: the output assigns its own */
		eb_buf_addstr(&sql, first ? "" : ",");
		eb_ident(&sql, t->cols[c]);
		first = 0;
	}
	eb_buf_addstr(&sql, ") SELECT ");
	first = 1;
	for (size_t c = 0; c < t->ncols; c++) {
		const char *col = t->cols[c];
		int keep_id = t->link == EB_L_RUNS || t->link == EB_L_CELLS || t->link == EB_L_REQUESTS;

		if ((int)c == t->rowid_col && !keep_id)
			continue;
		eb_buf_addstr(&sql, first ? "" : ",");
		first = 0;
		if (t->link == EB_L_RUNS && strcmp(col, "id") == 0)
			eb_buf_addstr(&sql, "?2");
		else if ((t->link == EB_L_CELLS && strcmp(col, "id") == 0) ||
			 (t->link != EB_L_RUNS && t->link != EB_L_CELLS && strcmp(col, "cell_id") == 0))
			eb_buf_addstr(&sql, "x.cell_id + ?3");
		else if ((t->link == EB_L_REQUESTS && strcmp(col, "id") == 0) ||
			 strcmp(col, "request_id") == 0)
			eb_buf_addstr(&sql, "x.request_id + ?4");
		else if (t->link != EB_L_RUNS && strcmp(col, "run_id") == 0)
			eb_buf_addstr(&sql, "?2");
		else {
			eb_buf_addstr(&sql, "x.");
			eb_ident(&sql, col);
		}
	}
	/* the cell id and request id expressions above read x.cell_id / x.request_id: the
	 * FROM clause names the row's own id that way where the table is cells or requests */
	switch (t->link) {
	case EB_L_RUNS:
		eb_buf_addstr(&sql, " FROM src.runs x WHERE x.id = ?1");
		break;
	case EB_L_CELLS:
		eb_buf_addstr(&sql, " FROM (SELECT *, id AS cell_id FROM src.cells WHERE run_id = ?1) x"
				    " ORDER BY x.id");
		break;
	case EB_L_REQUESTS:
		eb_buf_addf(&sql, " FROM (SELECT *, id AS request_id FROM src.requests WHERE cell_id IN"
				  " %s) x ORDER BY x.id",
			    cells_of_run);
		break;
	case EB_L_CELL_ID:
		eb_buf_addstr(&sql, " FROM src.");
		eb_ident(&sql, t->name);
		eb_buf_addf(&sql, " x WHERE x.cell_id IN %s", cells_of_run);
		break;
	case EB_L_REQUEST_ID:
		eb_buf_addstr(&sql, " FROM src.");
		eb_ident(&sql, t->name);
		eb_buf_addf(&sql, " x WHERE x.request_id IN (SELECT id FROM src.requests WHERE cell_id"
				  " IN %s)",
			    cells_of_run);
		break;
	case EB_L_RUN_ID:
		eb_buf_addstr(&sql, " FROM src.");
		eb_ident(&sql, t->name);
		eb_buf_addstr(&sql, " x WHERE x.run_id = ?1");
		break;
	case EB_L_NONE:
		eb_buf_release(&sql);
		return 0;
	}
	ret = eb_exec1(m, sql.buf, b, 4, NULL);
	eb_buf_release(&sql);
	return ret;
}

/* What tells two copies of a run apart: status, finish time, cells, ok cells, the last
 * cell finish time (a cell run again on resume), requests. */
#define EB_FINGERPRINT_SQL(S)                                                            \
	"SELECT r.status || '|' || coalesce(r.finished_at, '') || '|' ||"                 \
	" (SELECT count(*) FROM " S ".cells c WHERE c.run_id = r.id) || '|' ||"            \
	" (SELECT count(*) FROM " S ".cells c WHERE c.run_id = r.id AND c.status = 'ok')" \
	" || '|' || (SELECT coalesce(max(c.finished_at), '') FROM " S ".cells c"           \
	"  WHERE c.run_id = r.id)"                                                        \
	" || '|' || (SELECT count(*) FROM " S ".requests q WHERE q.cell_id IN"             \
	"  (SELECT id FROM " S ".cells c WHERE c.run_id = r.id))"                          \
	" FROM " S ".runs r WHERE r.id = ?"

static int eb_fingerprint(struct eb_merge *m, int in_src, int64_t run, char *buf, size_t n)
{
	static const char *const sql[2] = { EB_FINGERPRINT_SQL("main"), EB_FINGERPRINT_SQL("src") };
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(m->out->db, sql[in_src ? 1 : 0], -1, &st, NULL) != SQLITE_OK)
		return eb_mdberr(m, "cannot read");
	sqlite3_bind_int64(st, 1, run);
	rc = sqlite3_step(st);
	buf[0] = '\0';
	if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
		eb_strlcpy(buf, (const char *)sqlite3_column_text(st, 0), n);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : eb_mdberr(m, "cannot read");
}

/* How far a copy of a run got: finished cells (ok, failed, skipped), the others, the run's
 * end time ("" while it has none) and status. */
struct eb_run_state {
	long long finished, unfinished;
	char ended[64], status[32];
};

static int eb_run_progress(struct eb_merge *m, int in_src, int64_t run, struct eb_run_state *p)
{
	static const char *const sql[2] = {
		"SELECT (SELECT count(*) FROM main.cells c WHERE c.run_id = r.id AND c.status IN"
		" ('ok','failed','skipped')), (SELECT count(*) FROM main.cells c WHERE c.run_id = r.id"
		" AND c.status NOT IN ('ok','failed','skipped')), coalesce(r.finished_at, ''), r.status"
		" FROM main.runs r WHERE r.id = ?",
		"SELECT (SELECT count(*) FROM src.cells c WHERE c.run_id = r.id AND c.status IN"
		" ('ok','failed','skipped')), (SELECT count(*) FROM src.cells c WHERE c.run_id = r.id"
		" AND c.status NOT IN ('ok','failed','skipped')), coalesce(r.finished_at, ''), r.status"
		" FROM src.runs r WHERE r.id = ?",
	};
	sqlite3_stmt *st;
	int rc;

	memset(p, 0, sizeof(*p));
	if (sqlite3_prepare_v2(m->out->db, sql[in_src ? 1 : 0], -1, &st, NULL) != SQLITE_OK)
		return eb_mdberr(m, "cannot read");
	sqlite3_bind_int64(st, 1, run);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		p->finished = sqlite3_column_int64(st, 0);
		p->unfinished = sqlite3_column_int64(st, 1);
		eb_strlcpy(p->ended, (const char *)sqlite3_column_text(st, 2), sizeof(p->ended));
		if (sqlite3_column_text(st, 3))
			eb_strlcpy(p->status, (const char *)sqlite3_column_text(st, 3),
				   sizeof(p->status));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : eb_mdberr(m, "cannot read");
}

/* "4 finished, ended T" or "1 finished, 3 pending, not ended (running)" */
static void eb_run_state_text(const struct eb_run_state *p, char *buf, size_t n)
{
	char rest[64] = "";

	if (p->unfinished)
		snprintf(rest, sizeof(rest), ", %lld pending", p->unfinished);
	if (p->ended[0])
		snprintf(buf, n, "%lld finished%s, ended %s", p->finished, rest, p->ended);
	else
		snprintf(buf, n, "%lld finished%s, not ended (%s)", p->finished, rest, p->status);
}

/*
 * Whether the input's copy of a run may replace the stored one: it has at least as many
 * finished cells, or a later end time. A stale copy (a backup taken mid-run, an old CI
 * artifact) never rolls the stored run back. 1: replace; 0: keep, with the line said.
 */
static int eb_may_replace(struct eb_merge *m, int64_t src_run, int64_t out_run, int *ret)
{
	struct eb_run_state pi, po;
	char ti[160], to[160];

	*ret = eb_run_progress(m, 1, src_run, &pi);
	if (!*ret)
		*ret = eb_run_progress(m, 0, out_run, &po);
	if (*ret)
		return 0;
	if (pi.finished >= po.finished || (pi.ended[0] && strcmp(pi.ended, po.ended) > 0))
		return 1;
	eb_run_state_text(&pi, ti, sizeof(ti));
	eb_run_state_text(&po, to, sizeof(to));
	if (m->log)
		fprintf(m->log,
			"edgebench merge: '%s' run %lld: %s; input '%s': %s: not replaced (the "
			"stored copy is further along; an older copy never replaces it)\n",
			m->out->path, (long long)out_run, to, m->in, ti);
	return 0;
}

/* Copies one input run in its own transaction. */
static int eb_merge_run(struct eb_merge *m, int64_t src_run, const char *uuid,
			struct eb_merge_stats *stats)
{
	sqlite3_stmt *st;
	int64_t out_run = 0, b[4];
	char fa[512], fb[512], who[512];
	int rc, ret, found;

	ret = eb_store_begin(m->out, m->err);
	if (ret)
		return ret;
	if (sqlite3_prepare_v2(m->out->db, "SELECT id FROM main.runs WHERE uuid = ?", -1, &st,
			       NULL) != SQLITE_OK) {
		ret = eb_mdberr(m, "cannot read");
		goto fail;
	}
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	found = rc == SQLITE_ROW;
	if (found)
		out_run = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		ret = eb_mdberr(m, "cannot read");
		goto fail;
	}
	if (found) {
		ret = eb_fingerprint(m, 1, src_run, fa, sizeof(fa));
		if (!ret)
			ret = eb_fingerprint(m, 0, out_run, fb, sizeof(fb));
		if (ret)
			goto fail;
		if (strcmp(fa, fb) == 0) {
			stats->unchanged++;
			eb_store_rollback(m->out);
			return 0;
		}
		/* a run another process is executing is its to write */
		ret = eb_store_lock_held(m->out, "main", out_run, who, sizeof(who), m->err);
		if (ret < 0)
			goto fail;
		if (ret == 1) {
			if (m->log)
				fprintf(m->log,
					"edgebench merge: '%s' run %lld is being run by %s: not "
					"replaced by the copy in '%s'\n",
					m->out->path, (long long)out_run, who, m->in);
			stats->kept++;
			eb_store_rollback(m->out);
			return 0;
		}
		if (!eb_may_replace(m, src_run, out_run, &ret)) {
			if (ret)
				goto fail;
			stats->kept++;
			eb_store_rollback(m->out);
			return 0;
		}
		/* the stored copy is older (or otherwise different): replace it whole */
		b[0] = out_run;
		ret = eb_exec1(m, "DELETE FROM main.runs WHERE id = ?1", b, 1, NULL);
		if (ret)
			goto fail;
	} else {
		ret = eb_exec1(m, "SELECT coalesce(max(id), 0) + 1 FROM main.runs", NULL, 0, &out_run);
		if (ret)
			goto fail;
	}
	b[0] = src_run;
	b[1] = out_run;
	/* new ids start past the output's largest, whatever the input's were */
	ret = eb_exec1(m,
		       "SELECT (SELECT coalesce(max(id), 0) + 1 FROM main.cells) -"
		       " coalesce((SELECT min(id) FROM src.cells WHERE run_id = ?1), 0)",
		       b, 1, &b[2]);
	if (!ret)
		ret = eb_exec1(m,
			       "SELECT (SELECT coalesce(max(id), 0) + 1 FROM main.requests) -"
			       " coalesce((SELECT min(id) FROM src.requests WHERE cell_id IN"
			       " (SELECT id FROM src.cells WHERE run_id = ?1)), 0)",
			       b, 1, &b[3]);
	/* parents before children: runs, cells, requests, then the rest */
	for (int pass = 0; !ret && pass < 4; pass++)
		for (size_t i = 0; !ret && i < m->nt; i++) {
			enum eb_link l = m->t[i].link;
			int p = l == EB_L_RUNS ? 0 : l == EB_L_CELLS ? 1 : l == EB_L_REQUESTS ? 2
				: l == EB_L_NONE ? -1 : 3;

			if (p == pass)
				ret = eb_copy_table(m, &m->t[i], b);
		}
	if (ret)
		goto fail;
	ret = eb_store_commit(m->out, m->err);
	if (ret)
		goto fail;
	if (found)
		stats->replaced++;
	else
		stats->added++;
	return 0;
fail:
	eb_store_rollback(m->out);
	return ret;
}

/* user_version of a database file and whether it has a runs table, without changing it. */
static int eb_probe(const char *path, int *version, int *has_runs, struct eb_err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st;
	int rc, ret = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		ret = eb_err_set(err, EB_EDB, "cannot open database '%s': %s", path,
				 db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		ret = eb_err_set(err, EB_EINVAL, "'%s' is not a SQLite database: %s", path,
				 sqlite3_errmsg(db));
		sqlite3_finalize(st);
		goto out;
	}
	*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	*has_runs = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name='runs'",
			       -1, &st, NULL) != SQLITE_OK) {
		ret = eb_err_set(err, EB_EDB, "cannot read database '%s': %s", path,
				 sqlite3_errmsg(db));
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*has_runs = 1;
	else if (rc != SQLITE_DONE)
		ret = eb_err_set(err, EB_EDB, "cannot read database '%s': %s", path,
				 sqlite3_errmsg(db));
	sqlite3_finalize(st);
out:
	sqlite3_close(db);
	return ret;
}

/*
 * Whether another process has the database open: each SQLite connection in WAL mode holds
 * a read lock on byte 128 of PATH-shm (the unix VFS's "dead man switch") while it is open.
 * 0 when none does (or there is no -shm); else the pid of one that does.
 */
static long eb_shm_holder(const char *path)
{
	char shm[4200];
	struct flock fl;
	int fd;

	snprintf(shm, sizeof(shm), "%s-shm", path);
	fd = open(shm, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return 0;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 128;
	fl.l_len = 1;
	if (fcntl(fd, F_GETLK, &fl) != 0)
		fl.l_type = F_UNLCK;
	close(fd);
	return fl.l_type == F_UNLCK ? 0 : (long)(fl.l_pid > 0 ? fl.l_pid : -1);
}

/* An input is read as its .db alone: a log beside it that is in use, or that holds pages
 * not yet folded in, would be a part of its results merge cannot vouch for. */
static int eb_check_wal(const char *in_path, struct eb_err *err)
{
	char wal[4200];
	struct stat sb;
	long holder = eb_shm_holder(in_path);

	if (holder > 0)
		return eb_err_set(err, EB_EINVAL,
				  "refusing to merge '%s': another process (pid %ld) has it open; "
				  "merge it once that process has exited",
				  in_path, holder);
	if (holder < 0)
		return eb_err_set(err, EB_EINVAL,
				  "refusing to merge '%s': another process has it open; merge it "
				  "once that process has exited",
				  in_path);
	snprintf(wal, sizeof(wal), "%s-wal", in_path);
	if (stat(wal, &sb) == 0 && sb.st_size > 0)
		return eb_err_set(err, EB_EINVAL,
				  "refusing to merge '%s': its write-ahead log '%s' holds %lld bytes "
				  "of results not yet in the database (a copy taken while edgebench "
				  "ran, or a run that could not fold it in); with both files in place, "
				  "fold them with `edgebench merge %s`, then merge again",
				  in_path, wal, (long long)sb.st_size, in_path);
	return 0;
}

int eb_merge_check(struct eb_store *out, const char *in_path, struct eb_err *err)
{
	char rin[PATH_MAX], rout[PATH_MAX];
	struct stat si, so;
	int version = 0, has_runs = 0, ret;

	if (access(in_path, F_OK) != 0)
		return eb_err_set(err, EB_ENOENT, "no database '%s'", in_path);
	if (realpath(in_path, rin) && realpath(out->path, rout) && strcmp(rin, rout) == 0)
		return eb_err_set(err, EB_EINVAL, "'%s' is the output database", in_path);
	/* a hard link spells the output differently: SQLite would wait on its own lock */
	if (stat(in_path, &si) == 0 && stat(out->path, &so) == 0 && si.st_dev == so.st_dev &&
	    si.st_ino == so.st_ino)
		return eb_err_set(err, EB_EINVAL, "'%s' is the output database '%s' (the same file)",
				  in_path, out->path);
	ret = eb_check_wal(in_path, err);
	if (ret)
		return ret;
	ret = eb_probe(in_path, &version, &has_runs, err);
	if (ret)
		return ret;
	/* a readable older schema lacks only tables merge never copies */
	if (version < EB_STORE_SCHEMA_READABLE || version > EB_STORE_SCHEMA_VERSION)
		return eb_err_set(err, EB_EINVAL,
				  "refusing to merge '%s': its schema version is %d, '%s' has %d "
				  "(this edgebench's); merge databases of the same schema version "
				  "(an edgebench that knows both migrates the older one when it "
				  "writes to it)",
				  in_path, version, out->path, EB_STORE_SCHEMA_VERSION);
	if (!has_runs)
		return eb_err_set(err, EB_EINVAL, "refusing to merge '%s': not an edgebench database",
				  in_path);
	return 0;
}

int eb_merge_db(struct eb_store *out, const char *in_path, FILE *log,
		struct eb_merge_stats *stats, struct eb_err *err)
{
	struct eb_merge m = { .out = out, .in = in_path, .log = log, .err = err };
	sqlite3_stmt *st = NULL;
	int attached = 0, rc, ret;

	memset(stats, 0, sizeof(*stats));
	ret = eb_merge_check(out, in_path, err);
	if (ret)
		return ret;

	if (sqlite3_prepare_v2(out->db, "ATTACH DATABASE ? AS src", -1, &st, NULL) != SQLITE_OK) {
		ret = eb_mdberr(&m, "cannot attach");
		goto out;
	}
	sqlite3_bind_text(st, 1, in_path, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		ret = eb_mdberr(&m, "cannot attach");
		goto out;
	}
	attached = 1;
	ret = eb_mtables(&m);
	if (ret)
		goto out;
	if (sqlite3_prepare_v2(out->db, "SELECT id, uuid FROM src.runs ORDER BY id", -1, &st,
			       NULL) != SQLITE_OK) {
		ret = eb_mdberr(&m, "cannot read");
		goto out;
	}
	/* the list of runs first: each run's copy is its own transaction */
	{
		int64_t *ids = NULL;
		char **uuids = NULL;
		size_t n = 0;

		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			ids = eb_xrealloc(ids, (n + 1) * sizeof(*ids));
			uuids = eb_xrealloc(uuids, (n + 1) * sizeof(*uuids));
			ids[n] = sqlite3_column_int64(st, 0);
			uuids[n] = eb_xstrdup((const char *)sqlite3_column_text(st, 1));
			n++;
		}
		sqlite3_finalize(st);
		st = NULL;
		if (rc != SQLITE_DONE)
			ret = eb_mdberr(&m, "cannot read");
		for (size_t i = 0; !ret && i < n; i++)
			ret = eb_merge_run(&m, ids[i], uuids[i], stats);
		for (size_t i = 0; i < n; i++)
			free(uuids[i]);
		free(uuids);
		free(ids);
	}
out:
	sqlite3_finalize(st);
	if (attached)
		sqlite3_exec(out->db, "DETACH DATABASE src", NULL, NULL, NULL);
	eb_mtables_release(&m);
	return ret;
}
