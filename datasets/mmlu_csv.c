/* mmlu_csv.c: the MMLU CSV loader (RFC 4180 records of six fields; see mmlu_csv.h). */
#include "mmlu_csv.h"

#include "eb_util.h"

#include <stdlib.h>
#include <string.h>

#define EB_MMLU_FILE_MAX ((size_t)64 << 20)
#define EB_MMLU_FIELDS 6

/* The reader: position, line and column of the byte at pos (both 1-based). */
struct eb_csv {
	const char *name, *s;
	size_t n, pos, line, col;
};

static void eb_csv_step(struct eb_csv *c)
{
	if (c->s[c->pos] == '\n') {
		c->line++;
		c->col = 1;
	} else {
		c->col++;
	}
	c->pos++;
}

/*
 * One field into f (reset first); *end gets what ended it: ',' , '\n' or 0 (end of
 * data). A CR before a line feed is dropped, as in files written on Windows.
 */
static int eb_csv_field(struct eb_csv *c, struct eb_buf *f, int *end, struct eb_err *err)
{
	eb_buf_reset(f);
	if (c->pos < c->n && c->s[c->pos] == '"') {
		size_t line = c->line, col = c->col;

		eb_csv_step(c);
		for (;;) {
			if (c->pos >= c->n)
				return eb_err_set(err, EB_EPARSE, "%s:%zu:%zu: unterminated quoted field",
						  c->name, line, col);
			if (c->s[c->pos] == '"') {
				eb_csv_step(c);
				if (c->pos < c->n && c->s[c->pos] == '"') {
					eb_buf_add(f, "\"", 1);
					eb_csv_step(c);
					continue;
				}
				break;
			}
			eb_buf_add(f, c->s + c->pos, 1);
			eb_csv_step(c);
		}
		if (c->pos < c->n && c->s[c->pos] == '\r' && c->pos + 1 < c->n &&
		    c->s[c->pos + 1] == '\n')
			eb_csv_step(c);
		if (c->pos < c->n && c->s[c->pos] != ',' && c->s[c->pos] != '\n')
			return eb_err_set(err, EB_EPARSE,
					  "%s:%zu:%zu: text after a quoted field's closing quote",
					  c->name, c->line, c->col);
	} else {
		while (c->pos < c->n && c->s[c->pos] != ',' && c->s[c->pos] != '\n') {
			if (!(c->s[c->pos] == '\r' && c->pos + 1 < c->n && c->s[c->pos + 1] == '\n'))
				eb_buf_add(f, c->s + c->pos, 1);
			eb_csv_step(c);
		}
	}
	*end = c->pos < c->n ? c->s[c->pos] : 0;
	if (c->pos < c->n)
		eb_csv_step(c);
	return 0;
}

/* "dir/high_school_physics_test.csv" -> "high school physics" */
static char *eb_mmlu_subject(const char *path)
{
	const char *base = strrchr(path, '/');
	static const char *const tails[] = { "_test.csv", "_val.csv", "_dev.csv", ".csv" };
	char *s = eb_xstrdup(base ? base + 1 : path);
	size_t n = strlen(s);

	for (size_t k = 0; k < sizeof(tails) / sizeof(tails[0]); k++) {
		size_t t = strlen(tails[k]);

		if (n > t && strcmp(s + n - t, tails[k]) == 0) {
			s[n - t] = '\0';
			break;
		}
	}
	for (char *p = s; *p; p++)
		if (*p == '_')
			*p = ' ';
	return s;
}

static void eb_mmlu_item_free(struct eb_mmlu_item *it)
{
	free(it->question);
	for (int k = 0; k < EB_MMLU_NCHOICES; k++)
		free(it->choice[k]);
}

int eb_mmlu_load_buf(struct eb_mmlu *ds, const char *name, const char *data, size_t len,
		     struct eb_err *err)
{
	struct eb_csv c = { name, data, len, 0, 1, 1 };
	struct eb_buf f[EB_MMLU_FIELDS];
	size_t alloc = 0;
	int ret = 0;

	memset(ds, 0, sizeof(*ds));
	for (int k = 0; k < EB_MMLU_FIELDS; k++)
		eb_buf_init(&f[k], 0);
	while (c.pos < c.n && !ret) {
		size_t line = c.line, nf = 0;
		struct eb_mmlu_item it;
		int end = ',';
		char a;

		/* blank lines between records are skipped */
		if (data[c.pos] == '\n' || (data[c.pos] == '\r' && c.pos + 1 < c.n &&
					    data[c.pos + 1] == '\n')) {
			eb_csv_step(&c);
			continue;
		}
		while (end == ',' && !ret) {
			struct eb_buf scratch;

			if (nf < EB_MMLU_FIELDS) {
				ret = eb_csv_field(&c, &f[nf], &end, err);
			} else {
				eb_buf_init(&scratch, 0);
				ret = eb_csv_field(&c, &scratch, &end, err);
				eb_buf_release(&scratch);
			}
			nf++;
		}
		if (ret)
			break;
		if (nf != EB_MMLU_FIELDS) {
			ret = eb_err_set(err, EB_EPARSE,
					 "%s:%zu: %zu fields, expected 6 (question,A,B,C,D,answer)",
					 name, line, nf);
			break;
		}
		a = f[5].len == 1 ? f[5].buf[0] : 0;
		if (a < 'A' || a > 'D') {
			ret = eb_err_set(err, EB_EPARSE, "%s:%zu: answer '%s' is not one of A, B, C, D",
					 name, line, f[5].buf);
			break;
		}
		memset(&it, 0, sizeof(it));
		it.question = eb_xstrdup(f[0].buf);
		for (int k = 0; k < EB_MMLU_NCHOICES; k++)
			it.choice[k] = eb_xstrdup(f[1 + k].buf);
		it.gold = a - 'A';
		it.line = line;
		if (ds->n == alloc) {
			alloc = alloc ? 2 * alloc : 64;
			ds->items = eb_xrealloc(ds->items, alloc * sizeof(*ds->items));
		}
		ds->items[ds->n++] = it;
	}
	for (int k = 0; k < EB_MMLU_FIELDS; k++)
		eb_buf_release(&f[k]);
	if (!ret && ds->n == 0)
		ret = eb_err_set(err, EB_EPARSE, "no records in '%s'", name);
	if (ret) {
		eb_mmlu_release(ds);
		return ret;
	}
	ds->subject = eb_mmlu_subject(name);
	return 0;
}

int eb_mmlu_load(struct eb_mmlu *ds, const char *path, struct eb_err *err)
{
	char *data = NULL;
	size_t len = 0;
	int ret;

	memset(ds, 0, sizeof(*ds));
	ret = eb_read_file(path, EB_MMLU_FILE_MAX, &data, &len, err);
	if (ret)
		return ret;
	ret = eb_mmlu_load_buf(ds, path, data, len, err);
	free(data);
	return ret;
}

void eb_mmlu_release(struct eb_mmlu *ds)
{
	if (!ds)
		return;
	for (size_t i = 0; i < ds->n; i++)
		eb_mmlu_item_free(&ds->items[i]);
	free(ds->items);
	free(ds->subject);
	memset(ds, 0, sizeof(*ds));
}
