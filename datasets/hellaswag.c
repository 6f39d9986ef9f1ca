/* hellaswag.c: lm-eval's HellaSwag preprocessing, the rowanz JSONL loader and acc/acc_norm. */
#include "hellaswag.h"

#include "eb_util.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EB_HS_FILE_MAX ((size_t)1 << 30)

/* --- UTF-8 ----------------------------------------------------------------------- */

/*
 * Decodes one code point at s[0..n-1] (n >= 1). Returns its byte length and sets *cp;
 * for a byte that does not start a valid sequence returns 1 and sets *cp to -1, so
 * callers copy that byte unchanged.
 */
static size_t eb_utf8_decode(const unsigned char *s, size_t n, long *cp)
{
	size_t len, i;
	long v, min;

	*cp = -1;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		v = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		v = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		v = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 1;
	}
	if (n < len)
		return 1;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 1;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 1;
	*cp = v;
	return len;
}

/* Appends code point cp (valid, not a surrogate) as UTF-8. */
static int eb_utf8_add(struct eb_buf *b, long cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | (cp >> 18));
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return eb_buf_add(b, u, n);
}

size_t eb_hellaswag_codepoints(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Python's str.isspace() set, which str.strip() with no argument removes. */
static int eb_py_isspace(long cp)
{
	return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 ||
	       cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
	       cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

/* --- case mapping for U+0000..U+017F (see hellaswag.h) ------------------------------ */

/* Python's full lower-case mapping into out[] (1 or 2 code points); returns the count. */
static int eb_py_lower(long cp, long out[2])
{
	out[0] = cp;
	if (cp >= 'A' && cp <= 'Z')
		out[0] = cp + 32;
	else if (cp >= 0xc0 && cp <= 0xde && cp != 0xd7)
		out[0] = cp + 32;
	else if (cp == 0x130) {
		out[0] = 'i';
		out[1] = 0x307; /* combining dot above */
		return 2;
	} else if (cp >= 0x100 && cp <= 0x137 && cp % 2 == 0)
		out[0] = cp + 1;
	else if (cp >= 0x139 && cp <= 0x148 && cp % 2 == 1)
		out[0] = cp + 1;
	else if (cp >= 0x14a && cp <= 0x177 && cp % 2 == 0)
		out[0] = cp + 1;
	else if (cp == 0x178)
		out[0] = 0xff;
	else if (cp >= 0x179 && cp <= 0x17e && cp % 2 == 1)
		out[0] = cp + 1;
	return 1;
}

/* Python's full title-case mapping into out[] (1 or 2 code points); returns the count. */
static int eb_py_title(long cp, long out[2])
{
	out[0] = cp;
	if (cp >= 'a' && cp <= 'z')
		out[0] = cp - 32;
	else if (cp == 0xb5)
		out[0] = 0x39c; /* micro sign -> Greek capital mu */
	else if (cp == 0xdf) {
		out[0] = 'S';
		out[1] = 's';
		return 2;
	} else if (cp >= 0xe0 && cp <= 0xfe && cp != 0xf7)
		out[0] = cp - 32;
	else if (cp == 0xff)
		out[0] = 0x178;
	else if (cp == 0x131)
		out[0] = 'I'; /* dotless i */
	else if (cp >= 0x101 && cp <= 0x137 && cp % 2 == 1)
		out[0] = cp - 1;
	else if (cp >= 0x13a && cp <= 0x148 && cp % 2 == 0)
		out[0] = cp - 1;
	else if (cp == 0x149) {
		out[0] = 0x2bc; /* modifier letter apostrophe */
		out[1] = 'N';
		return 2;
	} else if (cp >= 0x14b && cp <= 0x177 && cp % 2 == 1)
		out[0] = cp - 1;
	else if (cp >= 0x17a && cp <= 0x17e && cp % 2 == 0)
		out[0] = cp - 1;
	else if (cp == 0x17f)
		out[0] = 'S'; /* long s */
	return 1;
}

char *eb_hellaswag_capitalize(const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	struct eb_buf b;
	char *ret = NULL;
	size_t n, i = 0;
	int first = 1;

	if (!text)
		return NULL;
	n = strlen(text);
	eb_buf_init(&b, 0);
	while (i < n) {
		long cp, m[2];
		size_t len = eb_utf8_decode(s + i, n - i, &cp);
		int k, nm;

		if (cp < 0) {
			if (eb_buf_add(&b, s + i, 1))
				goto out;
		} else {
			nm = first ? eb_py_title(cp, m) : eb_py_lower(cp, m);
			for (k = 0; k < nm; k++)
				if (eb_utf8_add(&b, m[k]))
					goto out;
		}
		first = 0;
		i += len;
	}
	ret = eb_buf_detach(&b, NULL);
out:
	eb_buf_release(&b);
	return ret;
}

/* --- preprocess ------------------------------------------------------------------ */

/* str.strip(): [*start, *end) of s[0..n-1] without leading/trailing Unicode whitespace. */
static void eb_py_strip(const unsigned char *s, size_t n, size_t *start, size_t *end)
{
	size_t i = 0, lo = n, hi = n;

	while (i < n) {
		long cp;
		size_t len = eb_utf8_decode(s + i, n - i, &cp);

		if (!eb_py_isspace(cp)) {
			if (lo == n)
				lo = i;
			hi = i + len;
		}
		i += len;
	}
	*start = lo;
	*end = lo == n ? n : hi;
}

/* In place: every " [title]" becomes ". ". Returns the new length. */
static size_t eb_replace_title(char *s, size_t n)
{
	static const char pat[] = " [title]";
	const size_t pn = sizeof(pat) - 1;
	size_t r = 0, w = 0;

	while (r < n) {
		if (n - r >= pn && memcmp(s + r, pat, pn) == 0) {
			s[w++] = '.';
			s[w++] = ' ';
			r += pn;
		} else {
			s[w++] = s[r++];
		}
	}
	return w;
}

/*
 * In place: re.sub(r"\[.*?\]", "", s). At each '[' the match is the shortest run up
 * to the next ']' with no "\n" before it; without one the '[' stays and the scan goes
 * on. ('[', ']' and '\n' are ASCII, so bytes stand for code points.) `dead` remembers
 * where the last failed search stopped: every '[' before it would fail the same way,
 * which keeps this linear.
 */
static size_t eb_remove_brackets(char *s, size_t n)
{
	size_t r = 0, w = 0, dead = 0;

	while (r < n) {
		if (s[r] == '[' && r >= dead) {
			size_t j = r + 1;

			while (j < n && s[j] != ']' && s[j] != '\n')
				j++;
			if (j < n && s[j] == ']') {
				r = j + 1;
				continue;
			}
			dead = j;
		}
		s[w++] = s[r++];
	}
	return w;
}

/* In place: one left-to-right pass of "  " -> " ". Returns the new length. */
static size_t eb_squeeze_once(char *s, size_t n)
{
	size_t r = 0, w = 0;

	while (r < n) {
		if (s[r] == ' ' && r + 1 < n && s[r + 1] == ' ') {
			s[w++] = ' ';
			r += 2;
		} else {
			s[w++] = s[r++];
		}
	}
	return w;
}

char *eb_hellaswag_preprocess(const char *text)
{
	size_t n, lo, hi;
	char *s;

	if (!text)
		return NULL;
	n = strlen(text);
	eb_py_strip((const unsigned char *)text, n, &lo, &hi);
	n = hi - lo;
	s = malloc(n + 1);
	if (!s)
		return NULL;
	memcpy(s, text + lo, n);
	/* every step only shortens, so each can work in place */
	n = eb_replace_title(s, n);
	n = eb_remove_brackets(s, n);
	n = eb_squeeze_once(s, n);
	s[n] = '\0';
	return s;
}

char *eb_hellaswag_query(const char *activity_label, const char *ctx_a, const char *ctx_b)
{
	struct eb_buf b;
	char *cap, *ret = NULL;

	if (!activity_label || !ctx_a || !ctx_b)
		return NULL;
	cap = eb_hellaswag_capitalize(ctx_b);
	if (!cap)
		return NULL;
	eb_buf_init(&b, 0);
	if (eb_buf_addstr(&b, activity_label) || eb_buf_addstr(&b, ": ") ||
	    eb_buf_addstr(&b, ctx_a) || eb_buf_addstr(&b, " ") || eb_buf_addstr(&b, cap))
		goto out;
	ret = eb_hellaswag_preprocess(b.buf);
out:
	eb_buf_release(&b);
	free(cap);
	return ret;
}

/* --- loader ---------------------------------------------------------------------- */

/* Blob offsets of an item's strings while the blob still moves. */
struct eb_hs_offsets {
	size_t query;
	size_t cont[EB_HELLASWAG_NCHOICES];
};

struct eb_hs_loader {
	const char *name;
	size_t lineno;
	struct eb_hellaswag_item *items;
	struct eb_hs_offsets *offs;
	size_t n, alloc;
	struct eb_buf blob;
};

/* Appends s plus its NUL to the blob; *off gets where it starts. */
static int eb_hs_blob_add(struct eb_hs_loader *ld, const char *prefix, const char *s,
			  size_t *off, struct eb_err *err)
{
	*off = ld->blob.len;
	if (eb_buf_addstr(&ld->blob, prefix) || eb_buf_addstr(&ld->blob, s) ||
	    eb_buf_add(&ld->blob, "", 1))
		return eb_err_set(err, EB_ENOMEM, "%s:%zu: out of memory", ld->name, ld->lineno);
	return 0;
}

static int eb_hs_get_string(struct eb_hs_loader *ld, json_t *obj, const char *key,
			    const char **out, struct eb_err *err)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return eb_err_set(err, EB_EPARSE, "%s:%zu: missing '%s'", ld->name, ld->lineno,
				  key);
	if (!json_is_string(v))
		return eb_err_set(err, EB_EPARSE, "%s:%zu: '%s' is not a string", ld->name,
				  ld->lineno, key);
	*out = json_string_value(v);
	return 0;
}

static int eb_hs_get_label(struct eb_hs_loader *ld, json_t *obj, int *label, struct eb_err *err)
{
	json_t *v = json_object_get(obj, "label");
	long long x;

	if (!v)
		return eb_err_set(err, EB_EPARSE, "%s:%zu: missing 'label'", ld->name, ld->lineno);
	if (json_is_integer(v)) {
		x = json_integer_value(v);
	} else if (json_is_string(v)) {
		if (eb_parse_ll(json_string_value(v), LLONG_MIN, LLONG_MAX, &x))
			return eb_err_set(err, EB_EPARSE, "%s:%zu: 'label' '%s' is not an integer",
					  ld->name, ld->lineno, json_string_value(v));
	} else {
		return eb_err_set(err, EB_EPARSE,
				  "%s:%zu: 'label' is not an integer or a string holding one",
				  ld->name, ld->lineno);
	}
	if (x < 0 || x >= EB_HELLASWAG_NCHOICES)
		return eb_err_set(err, EB_EPARSE, "%s:%zu: 'label' %lld out of range 0..%d",
				  ld->name, ld->lineno, x, EB_HELLASWAG_NCHOICES - 1);
	*label = (int)x;
	return 0;
}

static int eb_hs_grow(struct eb_hs_loader *ld, struct eb_err *err)
{
	struct eb_hellaswag_item *items;
	struct eb_hs_offsets *offs;
	size_t alloc;

	if (ld->n < ld->alloc)
		return 0;
	alloc = ld->alloc ? ld->alloc * 2 : 1024;
	items = realloc(ld->items, alloc * sizeof(*items));
	if (!items)
		goto oom;
	ld->items = items;
	offs = realloc(ld->offs, alloc * sizeof(*offs));
	if (!offs)
		goto oom;
	ld->offs = offs;
	ld->alloc = alloc;
	return 0;
oom:
	return eb_err_set(err, EB_ENOMEM, "%s:%zu: out of memory", ld->name, ld->lineno);
}

/* Parses one non-blank line into the next item. */
static int eb_hs_add_line(struct eb_hs_loader *ld, const char *line, size_t len,
			  struct eb_err *err)
{
	const char *label_s, *ctx_a, *ctx_b, *ending[EB_HELLASWAG_NCHOICES];
	struct eb_hellaswag_item *it;
	struct eb_hs_offsets *off;
	json_error_t jerr;
	json_t *obj, *endings;
	char *query = NULL, *pp = NULL;
	size_t i;
	int label = 0, ret;

	obj = json_loadb(line, len, 0, &jerr);
	if (!obj)
		return eb_err_set(err, EB_EPARSE, "%s:%zu:%d: invalid json: %s", ld->name,
				  ld->lineno, jerr.column, jerr.text);
	ret = EB_EPARSE;
	if (!json_is_object(obj)) {
		eb_err_set(err, EB_EPARSE, "%s:%zu: expected a json object", ld->name, ld->lineno);
		goto out;
	}
	ret = eb_hs_get_string(ld, obj, "activity_label", &label_s, err);
	if (!ret)
		ret = eb_hs_get_string(ld, obj, "ctx_a", &ctx_a, err);
	if (!ret)
		ret = eb_hs_get_string(ld, obj, "ctx_b", &ctx_b, err);
	if (ret)
		goto out;
	ret = EB_EPARSE;
	endings = json_object_get(obj, "endings");
	if (!endings) {
		eb_err_set(err, ret, "%s:%zu: missing 'endings'", ld->name, ld->lineno);
		goto out;
	}
	if (!json_is_array(endings)) {
		eb_err_set(err, ret, "%s:%zu: 'endings' is not an array", ld->name, ld->lineno);
		goto out;
	}
	if (json_array_size(endings) != EB_HELLASWAG_NCHOICES) {
		eb_err_set(err, ret, "%s:%zu: 'endings' has %zu entries, expected %d", ld->name,
			   ld->lineno, json_array_size(endings), EB_HELLASWAG_NCHOICES);
		goto out;
	}
	for (i = 0; i < EB_HELLASWAG_NCHOICES; i++) {
		json_t *e = json_array_get(endings, i);

		if (!json_is_string(e)) {
			eb_err_set(err, ret, "%s:%zu: 'endings'[%zu] is not a string", ld->name,
				   ld->lineno, i);
			goto out;
		}
		ending[i] = json_string_value(e);
	}
	ret = eb_hs_get_label(ld, obj, &label, err);
	if (ret)
		goto out;

	ret = eb_hs_grow(ld, err);
	if (ret)
		goto out;
	it = &ld->items[ld->n];
	off = &ld->offs[ld->n];
	memset(it, 0, sizeof(*it));
	it->label = label;
	it->line = ld->lineno;
	ret = EB_ENOMEM;
	query = eb_hellaswag_query(label_s, ctx_a, ctx_b);
	if (!query) {
		eb_err_set(err, ret, "%s:%zu: out of memory", ld->name, ld->lineno);
		goto out;
	}
	ret = eb_hs_blob_add(ld, "", query, &off->query, err);
	if (ret)
		goto out;
	for (i = 0; i < EB_HELLASWAG_NCHOICES; i++) {
		pp = eb_hellaswag_preprocess(ending[i]);
		if (!pp) {
			ret = eb_err_set(err, EB_ENOMEM, "%s:%zu: out of memory", ld->name,
					 ld->lineno);
			goto out;
		}
		it->choice_len[i] = eb_hellaswag_codepoints(pp);
		ret = eb_hs_blob_add(ld, " ", pp, &off->cont[i], err);
		if (ret)
			goto out;
		free(pp);
		pp = NULL;
	}
	ld->n++;
	ret = 0;
out:
	free(pp);
	free(query);
	json_decref(obj);
	return ret;
}

static int eb_hs_is_blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

int eb_hellaswag_load_buf(struct eb_hellaswag *ds, const char *name, const char *data,
			  size_t len, struct eb_err *err)
{
	struct eb_hs_loader ld;
	size_t pos = 0, i, j;
	int ret;

	memset(ds, 0, sizeof(*ds));
	memset(&ld, 0, sizeof(ld));
	ld.name = name;
	eb_buf_init(&ld.blob, 0);
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - data) : len;

		ld.lineno++;
		if (!eb_hs_is_blank(data + pos, end - pos)) {
			ret = eb_hs_add_line(&ld, data + pos, end - pos, err);
			if (ret)
				goto out;
		}
		pos = end + 1;
	}
	if (ld.n == 0) {
		ret = eb_err_set(err, EB_EPARSE, "no items in '%s'", name);
		goto out;
	}
	/* the blob stops moving here: turn offsets into pointers */
	ds->blob = eb_buf_detach(&ld.blob, &ds->blob_len);
	for (i = 0; i < ld.n; i++) {
		ld.items[i].query = ds->blob + ld.offs[i].query;
		for (j = 0; j < EB_HELLASWAG_NCHOICES; j++) {
			ld.items[i].cont[j] = ds->blob + ld.offs[i].cont[j];
			ld.items[i].choice[j] = ld.items[i].cont[j] + 1;
		}
	}
	ds->items = ld.items;
	ds->n = ld.n;
	ld.items = NULL;
	ret = 0;
out:
	free(ld.items);
	free(ld.offs);
	eb_buf_release(&ld.blob);
	return ret;
}

int eb_hellaswag_load(struct eb_hellaswag *ds, const char *path, struct eb_err *err)
{
	char *data = NULL;
	size_t len = 0;
	int ret;

	memset(ds, 0, sizeof(*ds));
	ret = eb_read_file(path, EB_HS_FILE_MAX, &data, &len, err);
	if (ret)
		return ret;
	ret = eb_hellaswag_load_buf(ds, path, data, len, err);
	free(data);
	return ret;
}

void eb_hellaswag_release(struct eb_hellaswag *ds)
{
	if (!ds)
		return;
	free(ds->items);
	free(ds->blob);
	memset(ds, 0, sizeof(*ds));
}

/* --- scoring --------------------------------------------------------------------- */

size_t eb_hellaswag_argmax(const double *v, size_t n)
{
	size_t i, best = 0;

	for (i = 1; i < n; i++) {
		if (isnan(v[best]))
			break;
		if (isnan(v[i]) || v[i] > v[best])
			best = i;
	}
	return best;
}

void eb_hellaswag_predict(const double logp[EB_HELLASWAG_NCHOICES],
			  const size_t len[EB_HELLASWAG_NCHOICES], int *pred, int *pred_norm)
{
	double norm[EB_HELLASWAG_NCHOICES];
	size_t i;

	for (i = 0; i < EB_HELLASWAG_NCHOICES; i++)
		norm[i] = logp[i] / (double)len[i];
	if (pred)
		*pred = (int)eb_hellaswag_argmax(logp, EB_HELLASWAG_NCHOICES);
	if (pred_norm)
		*pred_norm = (int)eb_hellaswag_argmax(norm, EB_HELLASWAG_NCHOICES);
}

void eb_hellaswag_tally_add(struct eb_hellaswag_tally *t,
			    const double logp[EB_HELLASWAG_NCHOICES],
			    const size_t len[EB_HELLASWAG_NCHOICES], int label)
{
	int pred, pred_norm;

	eb_hellaswag_predict(logp, len, &pred, &pred_norm);
	t->n++;
	if (pred == label)
		t->acc_hits++;
	if (pred_norm == label)
		t->acc_norm_hits++;
}

double eb_hellaswag_stderr(size_t hits, size_t n)
{
	double p;

	if (n < 2 || hits > n)
		return NAN;
	p = (double)hits / (double)n;
	return sqrt(p * (1.0 - p) / (double)(n - 1));
}

void eb_hellaswag_tally_finish(const struct eb_hellaswag_tally *t,
			       struct eb_hellaswag_metrics *m)
{
	m->n = t->n;
	m->acc = t->n ? (double)t->acc_hits / (double)t->n : NAN;
	m->acc_norm = t->n ? (double)t->acc_norm_hits / (double)t->n : NAN;
	m->acc_se = eb_hellaswag_stderr(t->acc_hits, t->n);
	m->acc_norm_se = eb_hellaswag_stderr(t->acc_norm_hits, t->n);
}

void eb_hellaswag_score(const struct eb_hellaswag *ds, const double *logp,
			struct eb_hellaswag_metrics *m)
{
	struct eb_hellaswag_tally t = { 0 };
	size_t i;

	for (i = 0; i < ds->n; i++)
		eb_hellaswag_tally_add(&t, logp + i * EB_HELLASWAG_NCHOICES,
				       ds->items[i].choice_len, ds->items[i].label);
	eb_hellaswag_tally_finish(&t, m);
}
