/* report.c: per-cell rows and the run list, straight from SQLite (see report.h). */
#include "report.h"

#include "../harness/eb_util.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

static const char *const eb_cols[] = { "run", "target", "model", "quant", "status",
				       "ttft_ms", "prefill_tps", "decode_tps", "e2e_ms",
				       "peak_rss_mb" };
#define EB_NCOLS 10

static const char eb_cells_sql[] =
	"SELECT c.run_id, c.target, c.model, c.quant, c.status,"
	" (SELECT median FROM metrics m WHERE m.cell_id=c.id AND m.name='ttft_ms'),"
	" (SELECT median FROM metrics m WHERE m.cell_id=c.id AND m.name='prefill_tps'),"
	" (SELECT median FROM metrics m WHERE m.cell_id=c.id AND m.name='decode_tps'),"
	" (SELECT median FROM metrics m WHERE m.cell_id=c.id AND m.name='e2e_ms'),"
	" (SELECT median FROM metrics m WHERE m.cell_id=c.id AND m.name='peak_rss_mb'),"
	" c.key, c.prompt_tokens, c.gen_tokens, c.error"
	" FROM cells c WHERE (?1 = 0 OR c.run_id = ?1) ORDER BY c.run_id, c.id";

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

/* Figures keep 4 significant digits in the table; csv/json carry full precision. */
static void eb_fmt_num(char *buf, size_t n, sqlite3_stmt *st, int col, int full)
{
	double v;

	if (sqlite3_column_type(st, col) == SQLITE_NULL) {
		buf[0] = '\0';
		return;
	}
	v = sqlite3_column_double(st, col);
	if (full)
		snprintf(buf, n, "%.17g", v);
	else if (fabs(v) >= 1000)
		snprintf(buf, n, "%.0f", v);
	else
		snprintf(buf, n, "%.4g", v);
}

int eb_report_cells(struct eb_store *s, int64_t run_id, enum eb_report_format fmt, int wide,
		    FILE *out, struct eb_err *err)
{
	/* the table always shows the prompt and generation lengths that tell cells apart */
	sqlite3_stmt *st;
	json_t *arr = NULL;
	char **cells = NULL;
	size_t nrows = 0, alloc = 0, ncols = wide ? EB_NCOLS + 4 : EB_NCOLS;
	size_t width[EB_NCOLS + 4];
	static const char *const wide_cols[] = { "key", "prompt_tokens", "gen_tokens", "error" };
	int rc, ret = 0;

	if (sqlite3_prepare_v2(s->db, eb_cells_sql, -1, &st, NULL) != SQLITE_OK)
		return eb_err_set(err, EB_EDB, "cannot query '%s': %s", s->path,
				  sqlite3_errmsg(s->db));
	sqlite3_bind_int64(st, 1, run_id);
	if (fmt == EB_REPORT_JSON)
		arr = json_array();
	for (size_t c = 0; c < ncols; c++)
		width[c] = strlen(c < EB_NCOLS ? eb_cols[c] : wide_cols[c - EB_NCOLS]);
	if (fmt == EB_REPORT_CSV) {
		for (size_t c = 0; c < ncols; c++)
			fprintf(out, "%s%s", c ? "," : "", c < EB_NCOLS ? eb_cols[c] : wide_cols[c - EB_NCOLS]);
		fputc('\n', out);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char val[EB_NCOLS + 4][256];
		int isnum[EB_NCOLS + 4] = { 0 };

		snprintf(val[0], sizeof(val[0]), "%lld", (long long)sqlite3_column_int64(st, 0));
		isnum[0] = 1;
		for (int c = 1; c <= 4; c++)
			eb_strlcpy(val[c], (const char *)sqlite3_column_text(st, c), sizeof(val[c]));
		for (int c = 5; c < EB_NCOLS; c++) {
			eb_fmt_num(val[c], sizeof(val[c]), st, c, fmt != EB_REPORT_TABLE);
			isnum[c] = 1;
		}
		if (wide) {
			const char *e = (const char *)sqlite3_column_text(st, 13);

			eb_strlcpy(val[10], (const char *)sqlite3_column_text(st, 10), sizeof(val[10]));
			eb_fmt_num(val[11], sizeof(val[11]), st, 11, 1);
			eb_fmt_num(val[12], sizeof(val[12]), st, 12, 1);
			isnum[11] = isnum[12] = 1;
			eb_strlcpy(val[13], e ? e : "", sizeof(val[13]));
		}
		if (fmt == EB_REPORT_CSV) {
			for (size_t c = 0; c < ncols; c++) {
				if (c)
					fputc(',', out);
				eb_csv_field(out, val[c]);
			}
			fputc('\n', out);
		} else if (fmt == EB_REPORT_JSON) {
			json_t *o = json_object();

			for (size_t c = 0; c < ncols; c++) {
				const char *name = c < EB_NCOLS ? eb_cols[c] : wide_cols[c - EB_NCOLS];
				int col = c < EB_NCOLS ? (int)c : (int)c;

				if (isnum[c] && sqlite3_column_type(st, col) == SQLITE_NULL)
					json_object_set_new(o, name, json_null());
				else if (c == 0 || c == 11 || c == 12)
					json_object_set_new(o, name, json_integer(sqlite3_column_int64(st, col)));
				else if (isnum[c])
					json_object_set_new(o, name, json_real(sqlite3_column_double(st, col)));
				else if (c == 13 && sqlite3_column_type(st, 13) == SQLITE_NULL)
					json_object_set_new(o, name, json_null());
				else
					json_object_set_new(o, name, json_string(val[c]));
			}
			json_array_append_new(arr, o);
		} else {
			if (nrows == alloc) {
				alloc = alloc ? 2 * alloc : 16;
				cells = eb_xrealloc(cells, alloc * ncols * sizeof(*cells));
			}
			for (size_t c = 0; c < ncols; c++) {
				cells[nrows * ncols + c] = eb_xstrdup(val[c]);
				if (strlen(val[c]) > width[c])
					width[c] = strlen(val[c]);
			}
			nrows++;
		}
	}
	if (rc != SQLITE_DONE)
		ret = eb_err_set(err, EB_EDB, "cannot read '%s': %s", s->path, sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	if (fmt == EB_REPORT_JSON) {
		if (!ret) {
			json_dumpf(arr, out, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
			fputc('\n', out);
		}
		json_decref(arr);
	} else if (fmt == EB_REPORT_TABLE) {
		for (size_t c = 0; c < ncols; c++)
			fprintf(out, "%s%-*s", c ? "  " : "", (int)width[c],
				c < EB_NCOLS ? eb_cols[c] : wide_cols[c - EB_NCOLS]);
		fputc('\n', out);
		for (size_t r = 0; r < nrows; r++) {
			for (size_t c = 0; c < ncols; c++) {
				const char *v = cells[r * ncols + c];
				int right = c == 0 || (c >= 5 && c < EB_NCOLS) || c == 11 || c == 12;

				if (!*v)
					v = "-";
				fprintf(out, "%s%*s", c ? "  " : "",
					right ? (int)width[c] : -(int)width[c], v);
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
