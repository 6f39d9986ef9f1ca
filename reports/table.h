/* table.h: a typed table and its writers (table, csv, json, md, latex, html) for every report. */
#ifndef EB_TABLE_H
#define EB_TABLE_H

#include <stddef.h>
#include <stdio.h>

enum eb_report_format {
	EB_REPORT_TABLE,
	EB_REPORT_CSV,
	EB_REPORT_JSON,
	EB_REPORT_MD,
	EB_REPORT_LATEX,
	EB_REPORT_HTML,
};

enum eb_tkind { EB_TK_TEXT, EB_TK_INT, EB_TK_NUM };

/* A column: `name` heads table/csv/json output; md, latex and html show `label [unit]`. */
struct eb_tcol {
	char *name, *label, *unit; /* label and unit may be NULL */
	enum eb_tkind kind;        /* alignment: text left, numbers right */
};

/* A value; `null` prints as empty (csv), null (json), - (table, md), -- (latex). */
struct eb_tval {
	int null;
	enum eb_tkind kind; /* may differ from the column's (card rows hold text labels) */
	char *s;
	long long i;
	double d;
};

/* A table owns every string in it. `title` may be NULL. */
struct eb_table {
	char *title;
	struct eb_tcol *cols;
	size_t ncols;
	struct eb_tval *vals; /* nrows * ncols */
	size_t nrows, alloc;
};

void eb_table_init(struct eb_table *t, const char *title);
void eb_table_release(struct eb_table *t);
/* Adds a column (strings copied); only before the first row. */
void eb_table_col(struct eb_table *t, const char *name, const char *label, const char *unit,
		  enum eb_tkind kind);
/* Appends a row of null values and returns its index. */
size_t eb_table_row(struct eb_table *t);
void eb_table_set_text(struct eb_table *t, size_t row, size_t col, const char *s); /* NULL = null */
void eb_table_set_int(struct eb_table *t, size_t row, size_t col, long long v);   /* < 0 = null */
void eb_table_set_num(struct eb_table *t, size_t row, size_t col, double v);      /* NAN = null */

/*
 * Writes tables in a format. Numbers: csv/json at full precision (the shortest text that
 * reads back as the same double, eb_fmt_shortest), the others by
 * eb_fmt_num (4 significant digits, integers from 1000 up). Several tables: one after the
 * other with a blank line between (table, csv, md), one table environment each (latex);
 * json writes an array of rows for one untitled table, else an array of
 * {"title": ..., "rows": [...]}. Html writes table elements only (the page is the
 * caller's). Every string is escaped for its format.
 */
void eb_table_write(const struct eb_table *tabs, size_t ntabs, enum eb_report_format fmt,
		    FILE *out);

/*
 * Writes a JSON value as json_dumps with JSON_INDENT(2) and `precision` significant digits
 * (1..17) would, every line after the first indented by `indent` more spaces (for streaming
 * a value nested in a larger document). Does not take the reference.
 */
struct json_t;
void eb_json_dump_at(FILE *f, struct json_t *j, int indent, int precision);

/* Escapers, exported for the html page and the tests. */
void eb_esc_html(FILE *f, const char *s);
void eb_esc_latex(FILE *f, const char *s);
void eb_esc_md(FILE *f, const char *s);
void eb_esc_csv(FILE *f, const char *s);

#endif
