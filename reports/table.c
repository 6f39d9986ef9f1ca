/* table.c: the typed report table and one writer per output format (see table.h). */
#include "table.h"
#include "rdata.h"

#include "eb_sanitize.h"
#include "eb_util.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * Every text a table holds (title, column names, cells) goes through eb_sanitize_text: a
 * database merged from elsewhere may carry any bytes, so invalid UTF-8 becomes U+FFFD (else
 * JSON would have to say null) and control characters visible text; tabs and line feeds
 * stay for each writer to turn into what its format wants.
 */
void eb_table_init(struct eb_table *t, const char *title)
{
	memset(t, 0, sizeof(*t));
	t->title = eb_sanitize_text(title);
}

void eb_table_release(struct eb_table *t)
{
	for (size_t c = 0; c < t->ncols; c++) {
		free(t->cols[c].name);
		free(t->cols[c].label);
		free(t->cols[c].unit);
	}
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->vals[i].s);
	free(t->cols);
	free(t->vals);
	free(t->title);
	memset(t, 0, sizeof(*t));
}

void eb_table_col(struct eb_table *t, const char *name, const char *label, const char *unit,
		  enum eb_tkind kind)
{
	struct eb_tcol *c;

	t->cols = eb_xrealloc(t->cols, (t->ncols + 1) * sizeof(*t->cols));
	c = &t->cols[t->ncols++];
	c->name = eb_sanitize_text(name);
	c->label = eb_sanitize_text(label);
	c->unit = unit && *unit ? eb_sanitize_text(unit) : NULL;
	c->kind = kind;
}

size_t eb_table_row(struct eb_table *t)
{
	if (t->nrows == t->alloc) {
		t->alloc = t->alloc ? 2 * t->alloc : 16;
		t->vals = eb_xrealloc(t->vals, t->alloc * t->ncols * sizeof(*t->vals));
	}
	for (size_t c = 0; c < t->ncols; c++) {
		struct eb_tval *v = &t->vals[t->nrows * t->ncols + c];

		memset(v, 0, sizeof(*v));
		v->null = 1;
		v->kind = t->cols[c].kind;
	}
	return t->nrows++;
}

static struct eb_tval *eb_tv(struct eb_table *t, size_t row, size_t col)
{
	struct eb_tval *v = &t->vals[row * t->ncols + col];

	free(v->s);
	v->s = NULL;
	v->null = 1;
	return v;
}

void eb_table_set_text(struct eb_table *t, size_t row, size_t col, const char *s)
{
	struct eb_tval *v = eb_tv(t, row, col);

	v->kind = EB_TK_TEXT;
	if (s) {
		v->s = eb_sanitize_text(s);
		v->null = 0;
	}
}

void eb_table_set_int(struct eb_table *t, size_t row, size_t col, long long i)
{
	struct eb_tval *v = eb_tv(t, row, col);

	v->kind = EB_TK_INT;
	v->i = i;
	v->null = i < 0;
}

void eb_table_set_num(struct eb_table *t, size_t row, size_t col, double d)
{
	struct eb_tval *v = eb_tv(t, row, col);

	v->kind = EB_TK_NUM;
	v->d = d;
	v->null = !isfinite(d);
}

/* ---- escaping -------------------------------------------------------------------- */

void eb_esc_html(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			if ((unsigned char)*s < 0x20)
				fputc(' ', f);
			else
				fputc(*s, f);
		}
	}
}

void eb_esc_latex(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
		case '%':
		case '$':
		case '#':
		case '_':
		case '{':
		case '}':
			fputc('\\', f);
			fputc(*s, f);
			break;
		case '~':
			fputs("\\textasciitilde{}", f);
			break;
		case '^':
			fputs("\\textasciicircum{}", f);
			break;
		case '`': /* else a left quote; an accent on nothing works in any LaTeX */
			fputs("\\`{}", f);
			break;
		case '\\':
			fputs("\\textbackslash{}", f);
			break;
		case '<':
			fputs("\\textless{}", f);
			break;
		case '>':
			fputs("\\textgreater{}", f);
			break;
		case '|':
			fputs("\\textbar{}", f);
			break;
		case '"':
			fputs("\\textquotedbl{}", f);
			break;
		case '[':
			fputs("{[}", f);
			break;
		case ']':
			fputs("{]}", f);
			break;
		default:
			if ((unsigned char)*s < 0x20)
				fputc(' ', f);
			else
				fputc(*s, f);
		}
	}
}

void eb_esc_md(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '\\':
		case '`':
		case '*':
		case '_':
		case '[':
		case ']':
		case '|':
		case '#':
		case '~':
		case '$':
			fputc('\\', f);
			fputc(*s, f);
			break;
		default:
			if ((unsigned char)*s < 0x20)
				fputc(' ', f);
			else
				fputc(*s, f);
		}
	}
}

/*
 * RFC 4180: quoted when it has a comma, quote or line break; quotes doubled. Text that a
 * spreadsheet would take for a formula (a first character of = + - @, tab or CR) gets a
 * leading ' so it is shown as text and never run (=HYPERLINK(...) from a merged database);
 * numbers are not written through here, so a negative number stays a number.
 */
void eb_esc_csv(FILE *f, const char *s)
{
	int formula = *s && strchr("=+-@\t\r", *s) != NULL;

	if (!strpbrk(s, ",\"\r\n")) {
		if (formula)
			fputc('\'', f);
		fputs(s, f);
		return;
	}
	fputc('"', f);
	if (formula)
		fputc('\'', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* ---- values as text -------------------------------------------------------------- */

/* Human-readable text of a value ("" for null); control characters become spaces. */
static void eb_tval_text(char *buf, size_t n, const struct eb_tval *v)
{
	if (v->null) {
		buf[0] = '\0';
		return;
	}
	switch (v->kind) {
	case EB_TK_TEXT:
		eb_strlcpy(buf, v->s, n);
		for (char *p = buf; *p; p++)
			if ((unsigned char)*p < 0x20)
				*p = ' ';
		break;
	case EB_TK_INT:
		snprintf(buf, n, "%lld", v->i);
		break;
	case EB_TK_NUM:
		eb_fmt_num(buf, n, v->d);
		break;
	}
}

static const struct eb_tval *eb_tget(const struct eb_table *t, size_t r, size_t c)
{
	return &t->vals[r * t->ncols + c];
}

/* A header for md/latex/html: the label (or name), escaped, then " [unit]". */
static void eb_col_head(FILE *f, const struct eb_tcol *c, void (*esc)(FILE *, const char *))
{
	esc(f, c->label ? c->label : c->name);
	if (c->unit) {
		fputs(" [", f);
		esc(f, c->unit);
		fputc(']', f);
	}
}

/* ---- writers --------------------------------------------------------------------- */

enum { EB_VAL_MAX = 4096 };

static void eb_write_plain(const struct eb_table *t, FILE *out)
{
	size_t *width = eb_xcalloc(t->ncols ? t->ncols : 1, sizeof(*width));
	char val[EB_VAL_MAX];

	for (size_t c = 0; c < t->ncols; c++)
		width[c] = strlen(t->cols[c].name);
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			eb_tval_text(val, sizeof(val), eb_tget(t, r, c));
			if (!val[0])
				eb_strlcpy(val, "-", sizeof(val));
			if (strlen(val) > width[c])
				width[c] = strlen(val);
		}
	if (t->title)
		fprintf(out, "%s\n", t->title);
	for (size_t c = 0; c < t->ncols; c++)
		fprintf(out, "%s%-*s", c ? "  " : "", (int)width[c], t->cols[c].name);
	fputc('\n', out);
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			int w = t->cols[c].kind == EB_TK_TEXT ? -(int)width[c] : (int)width[c];

			eb_tval_text(val, sizeof(val), eb_tget(t, r, c));
			if (!val[0])
				eb_strlcpy(val, "-", sizeof(val));
			fprintf(out, "%s%*s", c ? "  " : "", w, val);
		}
		fputc('\n', out);
	}
	free(width);
}

static void eb_write_csv(const struct eb_table *t, FILE *out)
{
	char num[EB_NUM_SHORTEST_MAX];

	for (size_t c = 0; c < t->ncols; c++) {
		if (c)
			fputc(',', out);
		eb_esc_csv(out, t->cols[c].name);
	}
	fputc('\n', out);
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const struct eb_tval *v = eb_tget(t, r, c);

			if (c)
				fputc(',', out);
			if (v->null)
				continue;
			if (v->kind == EB_TK_TEXT)
				eb_esc_csv(out, v->s);
			else if (v->kind == EB_TK_INT)
				fprintf(out, "%lld", v->i);
			else
				fputs(eb_fmt_shortest(num, v->d), out);
		}
		fputc('\n', out);
	}
}

void eb_json_dump_at(FILE *f, json_t *j, int indent, int precision)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(precision) | JSON_ENCODE_ANY);

	const char *p = text ? text : "null";

	for (const char *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		fwrite(p, 1, (size_t)(nl - p) + 1, f);
		fprintf(f, "%*s", indent, "");
	}
	fputs(p, f);
	free(text);
}

/* A real as jansson writes one (a ".0" keeps an integral value a real) but in its
 * shortest round-trip text. */
static const char *eb_json_real(char *buf, double x)
{
	eb_fmt_shortest(buf, x);
	if (!strpbrk(buf, ".e"))
		eb_strlcpy(buf + strlen(buf), ".0", 3);
	return buf;
}

/* A JSON string as jansson writes it; null for invalid UTF-8 (json_string refuses it). */
static void eb_json_str(FILE *out, const char *s)
{
	json_t *j = json_string(s);

	eb_json_dump_at(out, j ? j : json_null(), 0, 17);
	json_decref(j);
}

/* The rows as a JSON array laid out as jansson's JSON_INDENT(2) would at that depth,
 * written here rather than by jansson so that numbers take their shortest round-trip
 * text (eb_fmt_shortest) where jansson writes %.17g. */
static void eb_table_json_rows(const struct eb_table *t, FILE *out, int indent)
{
	char num[EB_NUM_SHORTEST_MAX];

	fputc('[', out);
	for (size_t r = 0; r < t->nrows; r++) {
		fprintf(out, "%s\n%*s{", r ? "," : "", indent + 2, "");
		for (size_t c = 0; c < t->ncols; c++) {
			const struct eb_tval *v = eb_tget(t, r, c);

			fprintf(out, "%s\n%*s", c ? "," : "", indent + 4, "");
			eb_json_str(out, t->cols[c].name);
			fputs(": ", out);
			if (v->null)
				fputs("null", out);
			else if (v->kind == EB_TK_TEXT)
				eb_json_str(out, v->s);
			else if (v->kind == EB_TK_INT)
				fprintf(out, "%lld", v->i);
			else
				fputs(eb_json_real(num, v->d), out);
		}
		fprintf(out, "\n%*s}", indent + 2, "");
	}
	if (t->nrows)
		fprintf(out, "\n%*s", indent, "");
	fputc(']', out);
}

static void eb_write_md(const struct eb_table *t, FILE *out)
{
	char val[EB_VAL_MAX];

	if (t->title) {
		fputs("**", out);
		eb_esc_md(out, t->title);
		fputs("**\n\n", out);
	}
	fputc('|', out);
	for (size_t c = 0; c < t->ncols; c++) {
		fputc(' ', out);
		eb_col_head(out, &t->cols[c], eb_esc_md);
		fputs(" |", out);
	}
	fputs("\n|", out);
	for (size_t c = 0; c < t->ncols; c++)
		fputs(t->cols[c].kind == EB_TK_TEXT ? " --- |" : " ---: |", out);
	fputc('\n', out);
	for (size_t r = 0; r < t->nrows; r++) {
		fputc('|', out);
		for (size_t c = 0; c < t->ncols; c++) {
			eb_tval_text(val, sizeof(val), eb_tget(t, r, c));
			fputc(' ', out);
			eb_esc_md(out, val[0] ? val : "-");
			fputs(" |", out);
		}
		fputc('\n', out);
	}
}

static void eb_write_latex(const struct eb_table *t, FILE *out)
{
	char val[EB_VAL_MAX];

	fputs("\\begin{table}[htbp]\n\\centering\n", out);
	if (t->title) {
		fputs("\\caption{", out);
		eb_esc_latex(out, t->title);
		fputs("}\n", out);
	}
	fputs("\\begin{tabular}{", out);
	for (size_t c = 0; c < t->ncols; c++)
		fputc(t->cols[c].kind == EB_TK_TEXT ? 'l' : 'r', out);
	fputs("}\n\\toprule\n", out);
	for (size_t c = 0; c < t->ncols; c++) {
		if (c)
			fputs(" & ", out);
		eb_col_head(out, &t->cols[c], eb_esc_latex);
	}
	fputs(" \\\\\n\\midrule\n", out);
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			eb_tval_text(val, sizeof(val), eb_tget(t, r, c));
			if (c)
				fputs(" & ", out);
			if (val[0])
				eb_esc_latex(out, val);
			else
				fputs("--", out);
		}
		fputs(" \\\\\n", out);
	}
	fputs("\\bottomrule\n\\end{tabular}\n\\end{table}\n", out);
}

static void eb_write_html(const struct eb_table *t, FILE *out)
{
	char val[EB_VAL_MAX];

	fputs("<table>\n", out);
	if (t->title) {
		fputs("<caption>", out);
		eb_esc_html(out, t->title);
		fputs("</caption>\n", out);
	}
	fputs("<thead><tr>", out);
	for (size_t c = 0; c < t->ncols; c++) {
		fputs(t->cols[c].kind == EB_TK_TEXT ? "<th>" : "<th class=\"num\">", out);
		eb_col_head(out, &t->cols[c], eb_esc_html);
		fputs("</th>", out);
	}
	fputs("</tr></thead>\n<tbody>\n", out);
	for (size_t r = 0; r < t->nrows; r++) {
		fputs("<tr>", out);
		for (size_t c = 0; c < t->ncols; c++) {
			eb_tval_text(val, sizeof(val), eb_tget(t, r, c));
			fputs(t->cols[c].kind == EB_TK_TEXT ? "<td>" : "<td class=\"num\">", out);
			if (val[0])
				eb_esc_html(out, val);
			else
				fputs("&ndash;", out);
			fputs("</td>", out);
		}
		fputs("</tr>\n", out);
	}
	fputs("</tbody>\n</table>\n", out);
}

void eb_table_write(const struct eb_table *tabs, size_t ntabs, enum eb_report_format fmt,
		    FILE *out)
{
	if (fmt == EB_REPORT_JSON) {
		if (ntabs == 1 && !tabs[0].title) {
			eb_table_json_rows(&tabs[0], out, 0);
		} else {
			fputc('[', out);
			for (size_t i = 0; i < ntabs; i++) {
				json_t *title = tabs[i].title ? json_string(tabs[i].title) : NULL;

				fprintf(out, "%s\n  {\n    \"title\": ", i ? "," : "");
				eb_json_dump_at(out, title ? title : json_null(), 4, 17);
				json_decref(title);
				fputs(",\n    \"rows\": ", out);
				eb_table_json_rows(&tabs[i], out, 4);
				fputs("\n  }", out);
			}
			fputs(ntabs ? "\n]" : "]", out);
		}
		fputc('\n', out);
		return;
	}
	if (fmt == EB_REPORT_LATEX && ntabs)
		fputs("% edgebench report: needs \\usepackage{booktabs} and \\usepackage[T1]{fontenc}\n",
		      out);
	for (size_t i = 0; i < ntabs; i++) {
		if (i && fmt != EB_REPORT_HTML)
			fputc('\n', out);
		switch (fmt) {
		case EB_REPORT_TABLE:
			eb_write_plain(&tabs[i], out);
			break;
		case EB_REPORT_CSV:
			eb_write_csv(&tabs[i], out);
			break;
		case EB_REPORT_MD:
			eb_write_md(&tabs[i], out);
			break;
		case EB_REPORT_LATEX:
			eb_write_latex(&tabs[i], out);
			break;
		case EB_REPORT_HTML:
			eb_write_html(&tabs[i], out);
			break;
		case EB_REPORT_JSON:
			break;
		}
	}
}
