/* gsm8k.c: the GSM8K JSONL loader and lm-eval's gsm8k answer filters and exact match (see gsm8k.h). */
#include "gsm8k.h"

#include "eb_util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define EB_GSM8K_FILE_MAX ((size_t)256 << 20)

/* --- loader ------------------------------------------------------------------------- */

static int eb_gsm8k_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

/* The string `key` of obj into *out (a copy), or EB_EPARSE naming the line. */
static int eb_gsm8k_str(const json_t *obj, const char *key, const char *name, size_t line,
			char **out, struct eb_err *err)
{
	const json_t *v = json_object_get(obj, key);

	if (!v)
		return eb_err_set(err, EB_EPARSE, "%s:%zu: missing '%s'", name, line, key);
	if (!json_is_string(v))
		return eb_err_set(err, EB_EPARSE, "%s:%zu: '%s' is not a string", name, line, key);
	*out = eb_xstrdup(json_string_value(v));
	return 0;
}

static int eb_gsm8k_line(struct eb_gsm8k *ds, size_t *alloc, const char *name, size_t line,
			 const char *s, size_t n, struct eb_err *err)
{
	struct eb_gsm8k_item it = { NULL, NULL, line };
	json_error_t jerr;
	json_t *obj = json_loadb(s, n, 0, &jerr);
	int ret;

	if (!obj)
		return eb_err_set(err, EB_EPARSE, "%s:%zu:%d: invalid json: %s", name, line,
				  jerr.column, jerr.text);
	if (!json_is_object(obj)) {
		ret = eb_err_set(err, EB_EPARSE, "%s:%zu: expected a json object", name, line);
		goto out;
	}
	ret = eb_gsm8k_str(obj, "question", name, line, &it.question, err);
	if (!ret)
		ret = eb_gsm8k_str(obj, "answer", name, line, &it.answer, err);
	if (ret)
		goto out;
	/* the target is what follows "#### ": an answer without one cannot be graded */
	if (!strstr(it.answer, "#### ")) {
		ret = eb_err_set(err, EB_EPARSE, "%s:%zu: 'answer' has no \"#### \" line (the final "
				 "number)", name, line);
		goto out;
	}
	if (ds->n == *alloc) {
		*alloc = *alloc ? 2 * *alloc : 64;
		ds->items = eb_xrealloc(ds->items, *alloc * sizeof(*ds->items));
	}
	ds->items[ds->n++] = it;
	it.question = it.answer = NULL;
out:
	free(it.question);
	free(it.answer);
	json_decref(obj);
	return ret;
}

int eb_gsm8k_load_buf(struct eb_gsm8k *ds, const char *name, const char *data, size_t len,
		      struct eb_err *err)
{
	size_t pos = 0, line = 0, alloc = 0;
	int ret = 0;

	memset(ds, 0, sizeof(*ds));
	while (pos < len && !ret) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - data) : len;

		line++;
		if (!eb_gsm8k_blank(data + pos, end - pos))
			ret = eb_gsm8k_line(ds, &alloc, name, line, data + pos, end - pos, err);
		pos = end + 1;
	}
	if (!ret && ds->n == 0)
		ret = eb_err_set(err, EB_EPARSE, "no items in '%s'", name);
	if (ret)
		eb_gsm8k_release(ds);
	return ret;
}

int eb_gsm8k_load(struct eb_gsm8k *ds, const char *path, struct eb_err *err)
{
	char *data = NULL;
	size_t len = 0;
	int ret;

	memset(ds, 0, sizeof(*ds));
	ret = eb_read_file(path, EB_GSM8K_FILE_MAX, &data, &len, err);
	if (ret)
		return ret;
	ret = eb_gsm8k_load_buf(ds, path, data, len, err);
	free(data);
	return ret;
}

void eb_gsm8k_release(struct eb_gsm8k *ds)
{
	if (!ds)
		return;
	for (size_t i = 0; i < ds->n; i++) {
		free(ds->items[i].question);
		free(ds->items[i].answer);
	}
	free(ds->items);
	memset(ds, 0, sizeof(*ds));
}

/* --- lm-eval's filters ---------------------------------------------------------------- */

static int eb_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* [0-9\.\,] */
static int eb_num_char(char c)
{
	return eb_is_digit(c) || c == '.' || c == ',';
}

/* Python's str.strip() on ASCII whitespace (the matches hold no other characters). */
static char *eb_strip_dup(const char *s, size_t n)
{
	char *r;

	while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f' || *s == '\v')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r' ||
		     s[n - 1] == '\f' || s[n - 1] == '\v'))
		n--;
	r = eb_xmalloc(n + 1);
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

char *eb_gsm8k_strict(const char *reply)
{
	for (const char *p = strstr(reply, "#### "); p; p = strstr(p + 1, "#### ")) {
		const char *g = p + 5, *e;

		/* \-? then [0-9.,]+ ; when the '-' is not followed by one, the match fails here
		 * (the group cannot start at the '-' without it) */
		e = g + (*g == '-');
		if (!eb_num_char(*e))
			continue;
		while (eb_num_char(*e))
			e++;
		return eb_strip_dup(g, (size_t)(e - g));
	}
	return eb_xstrdup(EB_GSM8K_INVALID);
}

/* [$0-9.,] */
static int eb_flex_char(char c)
{
	return eb_num_char(c) || c == '$';
}

/*
 * The match of  (-?[$0-9.,]{2,})|(-?[0-9]+)  starting at s (its length), or 0. The first
 * alternative wins when it matches; each tries with the '-' before without it.
 */
static size_t eb_flex_at(const char *s)
{
	size_t run;
	const char *t = s + (*s == '-');

	/* alternative 1, '-' taken when present: a greedy run of 2 or more */
	for (run = 0; eb_flex_char(t[run]); run++)
		;
	if (run >= 2)
		return (size_t)(t - s) + run;
	/* without the '-': a '-' is not in the class, so only when there was none (done) */
	/* alternative 2: -?[0-9]+ */
	for (run = 0; eb_is_digit(t[run]); run++)
		;
	if (run >= 1)
		return (size_t)(t - s) + run;
	return 0;
}

char *eb_gsm8k_flexible(const char *reply)
{
	const char *last = NULL;
	size_t last_n = 0;

	for (const char *p = reply; *p;) {
		size_t n = eb_flex_at(p);

		if (n) {
			last = p;
			last_n = n;
			p += n;
		} else {
			p++;
		}
	}
	return last ? eb_strip_dup(last, last_n) : eb_xstrdup(EB_GSM8K_INVALID);
}

char *eb_gsm8k_normalize(const char *s)
{
	size_t n = strlen(s), k = 0;
	char *a = eb_xmalloc(n + 1), *b;
	const char *from;

	/* "," then "\$" */
	for (size_t i = 0; i < n; i++)
		if (s[i] != ',' && s[i] != '$')
			a[k++] = s[i];
	a[k] = '\0';
	/* "(?s).*#### ": through the last occurrence */
	from = a;
	for (const char *p = strstr(a, "#### "); p; p = strstr(p + 1, "#### "))
		from = p + 5;
	b = eb_xstrdup(from);
	free(a);
	/* "\.$": the '.' at the end, or before a final line feed */
	n = strlen(b);
	if (n >= 1 && b[n - 1] == '.')
		b[n - 1] = '\0';
	else if (n >= 2 && b[n - 1] == '\n' && b[n - 2] == '.')
		memmove(b + n - 2, b + n - 1, 2);
	for (char *p = b; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return b;
}

int eb_gsm8k_exact_match(const char *filtered, const char *target)
{
	char *a = eb_gsm8k_normalize(filtered), *b = eb_gsm8k_normalize(target);
	int eq = strcmp(a, b) == 0;

	free(a);
	free(b);
	return eq;
}
