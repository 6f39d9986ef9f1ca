/* report.c: per-cell rows and the run list, straight from SQLite (see report.h). */
#include "report.h"

#include "../harness/eb_util.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

/* A report column: its name, the SQL result column it reads, and how to print it. */
enum eb_col_kind { EB_COL_INT, EB_COL_TEXT, EB_COL_NUM };
struct eb_col {
	const char *name;
	int sql;
	enum eb_col_kind kind;
};

static const char eb_cells_sql[] =
	"SELECT c.run_id, c.target, c.model, c.quant, c.status,"
	" (SELECT median FROM metrics m WHERE m.cell_id=c.id AND m.name='ttft_ms'),"
	" (SELECT median FROM metrics m WHERE m.cell_id=c.id AND m.name='prefill_tps'),"
	" (SELECT median FROM metrics m WHERE m.cell_id=c.id AND m.name='decode_tps'),"
	" (SELECT median FROM metrics m WHERE m.cell_id=c.id AND m.name='e2e_ms'),"
	" (SELECT median FROM metrics m WHERE m.cell_id=c.id AND m.name='peak_rss_mb'),"
	" c.key, c.prompt_tokens, c.gen_tokens, c.error"
	" FROM cells c WHERE (?1 = 0 OR c.run_id = ?1) ORDER BY c.run_id, c.id";

static const struct eb_col eb_col_run = { "run", 0, EB_COL_INT };
static const struct eb_col eb_col_ident[] = {
	{ "target", 1, EB_COL_TEXT }, { "model", 2, EB_COL_TEXT }, { "quant", 3, EB_COL_TEXT },
};
static const struct eb_col eb_col_lengths[] = {
	{ "prompt_tokens", 11, EB_COL_INT }, { "gen_tokens", 12, EB_COL_INT },
};
static const struct eb_col eb_col_figures[] = {
	{ "status", 4, EB_COL_TEXT },      { "ttft_ms", 5, EB_COL_NUM },
	{ "prefill_tps", 6, EB_COL_NUM },  { "decode_tps", 7, EB_COL_NUM },
	{ "e2e_ms", 8, EB_COL_NUM },       { "peak_rss_mb", 9, EB_COL_NUM },
};
static const struct eb_col eb_col_key = { "key", 10, EB_COL_TEXT };
static const struct eb_col eb_col_error = { "error", 13, EB_COL_TEXT };

#define EB_MAX_COLS 16

/* The columns of a report, in order: csv/json carry exactly the documented ten unless
 * wide; the table always shows the prompt and generation lengths that tell cells apart. */
static size_t eb_columns(enum eb_report_format fmt, int wide, const struct eb_col **cols)
{
	size_t n = 0;

	cols[n++] = &eb_col_run;
	for (size_t i = 0; i < 3; i++)
		cols[n++] = &eb_col_ident[i];
	if (wide || fmt == EB_REPORT_TABLE)
		for (size_t i = 0; i < 2; i++)
			cols[n++] = &eb_col_lengths[i];
	for (size_t i = 0; i < 6; i++)
		cols[n++] = &eb_col_figures[i];
	if (wide) {
		cols[n++] = &eb_col_key;
		cols[n++] = &eb_col_error;
	}
	return n;
}

/* CSV field per RFC 4180: quoted when it has a comma, quote or line break. */
static void eb_csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* A cell's text: full precision for csv, 4 significant digits for the table. */
static void eb_col_text(char *buf, size_t n, sqlite3_stmt *st, const struct eb_col *c, int full)
{
	double v;

	if (sqlite3_column_type(st, c->sql) == SQLITE_NULL) {
		buf[0] = '\0';
		return;
	}
	if (c->kind == EB_COL_TEXT) {
		eb_strlcpy(buf, (const char *)sqlite3_column_text(st, c->sql), n);
		return;
	}
	if (c->kind == EB_COL_INT) {
		snprintf(buf, n, "%lld", (long long)sqlite3_column_int64(st, c->sql));
		return;
	}
	v = sqlite3_column_double(st, c->sql);
	if (full)
		snprintf(buf, n, "%.17g", v);
	else if (fabs(v) >= 1000)
		snprintf(buf, n, "%.0f", v);
	else
		snprintf(buf, n, "%.4g", v);
}

static json_t *eb_col_json(sqlite3_stmt *st, const struct eb_col *c)
{
	if (sqlite3_column_type(st, c->sql) == SQLITE_NULL)
		return json_null();
	switch (c->kind) {
	case EB_COL_INT:
		return json_integer(sqlite3_column_int64(st, c->sql));
	case EB_COL_NUM:
		return json_real(sqlite3_column_double(st, c->sql));
	case EB_COL_TEXT:
		break;
	}
	return json_string((const char *)sqlite3_column_text(st, c->sql));
}

int eb_report_cells(struct eb_store *s, int64_t run_id, enum eb_report_format fmt, int wide,
		    FILE *out, struct eb_err *err)
{
	const struct eb_col *cols[EB_MAX_COLS];
	size_t ncols = eb_columns(fmt, wide, cols);
	size_t width[EB_MAX_COLS];
	char **cells = NULL;
	size_t nrows = 0, alloc = 0;
	json_t *arr = json_array();
	sqlite3_stmt *st;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(s->db, eb_cells_sql, -1, &st, NULL) != SQLITE_OK) {
		json_decref(arr);
		return eb_err_set(err, EB_EDB, "cannot query '%s': %s", s->path,
				  sqlite3_errmsg(s->db));
	}
	sqlite3_bind_int64(st, 1, run_id);
	for (size_t c = 0; c < ncols; c++)
		width[c] = strlen(cols[c]->name);
	if (fmt == EB_REPORT_CSV) {
		for (size_t c = 0; c < ncols; c++)
			fprintf(out, "%s%s", c ? "," : "", cols[c]->name);
		fputc('\n', out);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char val[1024];

		if (fmt == EB_REPORT_JSON) {
			json_t *o = json_object();

			for (size_t c = 0; c < ncols; c++)
				json_object_set_new(o, cols[c]->name, eb_col_json(st, cols[c]));
			json_array_append_new(arr, o);
			continue;
		}
		if (fmt == EB_REPORT_CSV) {
			for (size_t c = 0; c < ncols; c++) {
				eb_col_text(val, sizeof(val), st, cols[c], 1);
				if (c)
					fputc(',', out);
				eb_csv_field(out, val);
			}
			fputc('\n', out);
			continue;
		}
		if (nrows == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			cells = eb_xrealloc(cells, alloc * ncols * sizeof(*cells));
		}
		for (size_t c = 0; c < ncols; c++) {
			eb_col_text(val, sizeof(val), st, cols[c], 0);
			if (!val[0])
				eb_strlcpy(val, "-", sizeof(val));
			cells[nrows * ncols + c] = eb_xstrdup(val);
			if (strlen(val) > width[c])
				width[c] = strlen(val);
		}
		nrows++;
	}
	if (rc != SQLITE_DONE)
		ret = eb_err_set(err, EB_EDB, "cannot read '%s': %s", s->path, sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	if (fmt == EB_REPORT_JSON && !ret) {
		json_dumpf(arr, out, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
		fputc('\n', out);
	}
	json_decref(arr);
	if (fmt == EB_REPORT_TABLE) {
		for (size_t c = 0; c < ncols; c++)
			fprintf(out, "%s%-*s", c ? "  " : "", (int)width[c], cols[c]->name);
		fputc('\n', out);
		for (size_t r = 0; r < nrows; r++) {
			for (size_t c = 0; c < ncols; c++) {
				int w = cols[c]->kind == EB_COL_TEXT ? -(int)width[c] : (int)width[c];

				fprintf(out, "%s%*s", c ? "  " : "", w, cells[r * ncols + c]);
				free(cells[r * ncols + c]);
			}
			fputc('\n', out);
		}
		free(cells);
	}
	return ret;
}

int eb_report_list(struct eb_store *s, FILE *out, struct eb_err *err)
{
	sqlite3_stmt *runs, *cells;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT id, uuid, name, started_at, coalesce(finished_at,'-'), status,"
			       " (SELECT count(*) FROM cells WHERE run_id=runs.id),"
			       " (SELECT count(*) FROM cells WHERE run_id=runs.id AND status='ok'),"
			       " (SELECT count(*) FROM cells WHERE run_id=runs.id AND status='failed')"
			       " FROM runs ORDER BY id",
			       -1, &runs, NULL) != SQLITE_OK)
		return eb_err_set(err, EB_EDB, "cannot query '%s': %s", s->path, sqlite3_errmsg(s->db));
	if (sqlite3_prepare_v2(s->db,
			       "SELECT key, status, coalesce(duration_s, 0), coalesce(error, '')"
			       " FROM cells WHERE run_id=? ORDER BY id",
			       -1, &cells, NULL) != SQLITE_OK) {
		sqlite3_finalize(runs);
		return eb_err_set(err, EB_EDB, "cannot query '%s': %s", s->path, sqlite3_errmsg(s->db));
	}
	while ((rc = sqlite3_step(runs)) == SQLITE_ROW) {
		fprintf(out, "run %lld  %s  %s  started %s  finished %s  %s  cells %d (ok %d, failed %d)\n",
			(long long)sqlite3_column_int64(runs, 0), sqlite3_column_text(runs, 1),
			sqlite3_column_text(runs, 2), sqlite3_column_text(runs, 3),
			sqlite3_column_text(runs, 4), sqlite3_column_text(runs, 5),
			sqlite3_column_int(runs, 6), sqlite3_column_int(runs, 7),
			sqlite3_column_int(runs, 8));
		sqlite3_reset(cells);
		sqlite3_bind_int64(cells, 1, sqlite3_column_int64(runs, 0));
		while (sqlite3_step(cells) == SQLITE_ROW) {
			const char *e = (const char *)sqlite3_column_text(cells, 3);

			fprintf(out, "  %-8s %7.1fs  %s%s%s\n", sqlite3_column_text(cells, 1),
				sqlite3_column_double(cells, 2), sqlite3_column_text(cells, 0),
				*e ? "  " : "", e);
		}
	}
	if (rc != SQLITE_DONE)
		ret = eb_err_set(err, EB_EDB, "cannot read '%s': %s", s->path, sqlite3_errmsg(s->db));
	sqlite3_finalize(runs);
	sqlite3_finalize(cells);
	return ret;
}
