/* mc.c: loaders for lm-eval's multiple-choice tasks (ARC, PIQA, Winogrande, MMLU) and their scoring. */
#include "mc.h"

#include "corpus.h"
#include "hellaswag.h"
#include "zip.h"
#include "eb_util.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EB_MC_FILE_MAX ((size_t)1 << 30)

/* --- the arena ------------------------------------------------------------------- */

/* Blob offsets of an item's strings while the blob still moves. */
struct eb_mc_offsets {
	size_t ctx[EB_MC_MAX_CHOICES];
	size_t cont[EB_MC_MAX_CHOICES];
	size_t file, id;
};

struct eb_mc_loader {
	size_t name_off;    /* the file as messages name it, in the blob (it moves) */
	size_t empty_off;   /* an empty string in the blob */
	size_t lineno;
	size_t group;
	struct eb_mc_item *items;
	struct eb_mc_offsets *offs;
	size_t n, alloc;
	struct eb_buf blob;
};

/* Appends the concatenation of a and b (b may be NULL) plus a NUL; returns its offset. */
static size_t eb_mc_str(struct eb_mc_loader *ld, const char *a, size_t alen, const char *b)
{
	size_t off = ld->blob.len;

	/* an uncapped eb_buf cannot fail: it aborts when memory runs out */
	eb_buf_add(&ld->blob, a, alen);
	if (b)
		eb_buf_addstr(&ld->blob, b);
	eb_buf_add(&ld->blob, "", 1);
	return off;
}

/* A new item at the loader's current line; its strings are the caller's to add. */
static struct eb_mc_item *eb_mc_new_item(struct eb_mc_loader *ld, struct eb_mc_offsets **off)
{
	struct eb_mc_item *it;

	if (ld->n == ld->alloc) {
		ld->alloc = ld->alloc ? 2 * ld->alloc : 1024;
		ld->items = eb_xrealloc(ld->items, ld->alloc * sizeof(*ld->items));
		ld->offs = eb_xrealloc(ld->offs, ld->alloc * sizeof(*ld->offs));
	}
	it = &ld->items[ld->n];
	*off = &ld->offs[ld->n];
	memset(it, 0, sizeof(*it));
	memset(*off, 0, sizeof(**off));
	it->line = ld->lineno;
	it->group = ld->group;
	(*off)->file = ld->name_off;
	(*off)->id = ld->empty_off;
	return it;
}

/* Sets the loader's file name (kept in the blob for the items' `file`). */
static void eb_mc_set_name(struct eb_mc_loader *ld, const char *name)
{
	ld->name_off = eb_mc_str(ld, name, strlen(name), NULL);
	ld->empty_off = ld->name_off + strlen(name); /* its NUL: "" */
	ld->lineno = 0;
}

static const char *eb_mc_name(const struct eb_mc_loader *ld)
{
	return ld->blob.buf + ld->name_off;
}

/* One choice: context (offset, shared or its own) and continuation " " + text. */
static void eb_mc_choice(struct eb_mc_loader *ld, struct eb_mc_item *it,
			 struct eb_mc_offsets *off, size_t ctx, const char *text)
{
	size_t k = it->n_choices++;

	off->ctx[k] = ctx;
	off->cont[k] = eb_mc_str(ld, " ", 1, text);
	it->choice_len[k] = eb_hellaswag_codepoints(text);
}

size_t eb_mc_rstrip(const char *s, size_t n)
{
	size_t i = 0, end = 0, w;

	while (i < n) {
		w = eb_py_space_len(s + i, n - i);
		if (w == 0) {
			/* a character that is not whitespace: all of its bytes */
			w = 1;
			while (i + w < n && ((unsigned char)s[i + w] & 0xc0) == 0x80)
				w++;
			end = i + w;
		}
		i += w;
	}
	return end;
}

/* Python's str.strip() (Unicode whitespace): [*s, *s + return) of s[0..n). */
static size_t eb_mc_strip(const char **s, size_t n)
{
	size_t i = 0, w;

	while (i < n && (w = eb_py_space_len(*s + i, n - i)) > 0)
		i += w;
	*s += i;
	return eb_mc_rstrip(*s, n - i);
}

/* --- JSON lines ------------------------------------------------------------------ */

static int eb_mc_get_str(struct eb_mc_loader *ld, json_t *obj, const char *key,
			 const char **out, struct eb_err *err)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return eb_err_set(err, EB_EPARSE, "%s:%zu: missing '%s'", eb_mc_name(ld),
				  ld->lineno, key);
	if (!json_is_string(v))
		return eb_err_set(err, EB_EPARSE, "%s:%zu: '%s' is not a string", eb_mc_name(ld),
				  ld->lineno, key);
	*out = json_string_value(v);
	return 0;
}

/* "Question: " + q + "\nAnswer:", the prompt of ARC and PIQA. */
static size_t eb_mc_question(struct eb_mc_loader *ld, const char *q)
{
	struct eb_buf b;
	size_t off;

	eb_buf_init(&b, 0);
	eb_buf_addf(&b, "Question: %s\nAnswer:", q);
	off = eb_mc_str(ld, b.buf, b.len, NULL);
	eb_buf_release(&b);
	return off;
}

/* ARC: question.stem, question.choices[].text/.label, answerKey (lm-eval's arc_easy.yaml). */
static int eb_mc_arc(struct eb_mc_loader *ld, json_t *obj, struct eb_err *err)
{
	const char *stem, *key, *id = "", *labels[EB_MC_MAX_CHOICES];
	json_t *q = json_object_get(obj, "question"), *choices;
	struct eb_mc_offsets *off;
	struct eb_mc_item *it;
	struct eb_buf b;
	size_t n, ctx, i;
	int ret;

	if (!json_is_object(q))
		return eb_err_set(err, EB_EPARSE, "%s:%zu: 'question' is %s", eb_mc_name(ld),
				  ld->lineno, q ? "not an object" : "missing");
	ret = eb_mc_get_str(ld, q, "stem", &stem, err);
	if (!ret)
		ret = eb_mc_get_str(ld, obj, "answerKey", &key, err);
	if (!ret && json_object_get(obj, "id"))
		ret = eb_mc_get_str(ld, obj, "id", &id, err);
	if (ret)
		return ret;
	choices = json_object_get(q, "choices");
	n = json_array_size(choices);
	if (!json_is_array(choices) || n < 2 || n > EB_MC_MAX_CHOICES)
		return eb_err_set(err, EB_EPARSE, "%s:%zu: 'question.choices' is not an array of 2 "
				  "to %d choices", eb_mc_name(ld), ld->lineno, EB_MC_MAX_CHOICES);
	for (i = 0; i < n; i++) {
		json_t *c = json_array_get(choices, i);

		if (!json_is_string(json_object_get(c, "text")) ||
		    !json_is_string(json_object_get(c, "label")))
			return eb_err_set(err, EB_EPARSE, "%s:%zu: 'question.choices'[%zu] needs "
					  "string 'text' and 'label'", eb_mc_name(ld), ld->lineno, i);
		labels[i] = json_string_value(json_object_get(c, "label"));
	}
	/* choices.label.index(answerKey) */
	for (i = 0; i < n && strcmp(labels[i], key) != 0; i++)
		;
	if (i == n) {
		eb_buf_init(&b, 0);
		for (size_t j = 0; j < n; j++)
			eb_buf_addf(&b, "%s%s", j ? ", " : "", labels[j]);
		ret = eb_err_set(err, EB_EPARSE, "%s:%zu: 'answerKey' '%s' is not one of the labels "
				 "(%s)", eb_mc_name(ld), ld->lineno, key, b.buf);
		eb_buf_release(&b);
		return ret;
	}
	ctx = eb_mc_question(ld, stem);
	it = eb_mc_new_item(ld, &off);
	it->gold = (int)i;
	off->id = eb_mc_str(ld, id, strlen(id), NULL);
	for (i = 0; i < n; i++)
		eb_mc_choice(ld, it, off, ctx,
			     json_string_value(json_object_get(json_array_get(choices, i), "text")));
	ld->n++;
	return 0;
}

/* PIQA: goal, sol1, sol2; the gold comes from the labels file afterwards. */
static int eb_mc_piqa(struct eb_mc_loader *ld, json_t *obj, struct eb_err *err)
{
	const char *goal, *sol[2], *id = "";
	struct eb_mc_offsets *off;
	struct eb_mc_item *it;
	size_t ctx;
	int ret;

	ret = eb_mc_get_str(ld, obj, "goal", &goal, err);
	if (!ret)
		ret = eb_mc_get_str(ld, obj, "sol1", &sol[0], err);
	if (!ret)
		ret = eb_mc_get_str(ld, obj, "sol2", &sol[1], err);
	if (!ret && json_is_string(json_object_get(obj, "id")))
		id = json_string_value(json_object_get(obj, "id"));
	if (ret)
		return ret;
	ctx = eb_mc_question(ld, goal);
	it = eb_mc_new_item(ld, &off);
	it->gold = -1;
	off->id = eb_mc_str(ld, id, strlen(id), NULL);
	eb_mc_choice(ld, it, off, ctx, sol[0]);
	eb_mc_choice(ld, it, off, ctx, sol[1]);
	ld->n++;
	return 0;
}

/* Winogrande: lm-eval's preprocess_winogrande (partial evaluation, "multiple input"). */
static int eb_mc_winogrande(struct eb_mc_loader *ld, json_t *obj, struct eb_err *err)
{
	const char *sentence, *opt[2], *answer, *id = "", *blank, *rest;
	struct eb_mc_offsets *off;
	struct eb_mc_item *it;
	size_t rest_len, k;
	int ret;

	ret = eb_mc_get_str(ld, obj, "sentence", &sentence, err);
	if (!ret)
		ret = eb_mc_get_str(ld, obj, "option1", &opt[0], err);
	if (!ret)
		ret = eb_mc_get_str(ld, obj, "option2", &opt[1], err);
	if (!ret)
		ret = eb_mc_get_str(ld, obj, "answer", &answer, err);
	if (!ret && json_is_string(json_object_get(obj, "qID")))
		id = json_string_value(json_object_get(obj, "qID"));
	if (ret)
		return ret;
	if (strcmp(answer, "1") != 0 && strcmp(answer, "2") != 0)
		return eb_err_set(err, EB_EPARSE, "%s:%zu: 'answer' '%s' is not \"1\" or \"2\"",
				  eb_mc_name(ld), ld->lineno, answer);
	blank = strchr(sentence, '_');
	if (!blank)
		return eb_err_set(err, EB_EPARSE, "%s:%zu: 'sentence' has no blank '_'",
				  eb_mc_name(ld), ld->lineno);
	/* doc_to_target: sentence[index("_") + 1:].strip() */
	rest = blank + 1;
	rest_len = eb_mc_strip(&rest, strlen(rest));
	it = eb_mc_new_item(ld, &off);
	it->gold = answer[0] - '1';
	off->id = eb_mc_str(ld, id, strlen(id), NULL);
	for (k = 0; k < 2; k++) {
		/* doc_to_choice: sentence[:index("_")] + option, which is also the context */
		size_t ctx = eb_mc_str(ld, sentence, (size_t)(blank - sentence), opt[k]);

		off->ctx[k] = ctx;
		off->cont[k] = eb_mc_str(ld, " ", 1, NULL);
		ld->blob.len--; /* extend " " by the rest, then NUL-terminate again */
		eb_buf_add(&ld->blob, rest, rest_len);
		eb_buf_add(&ld->blob, "", 1);
		it->choice_len[k] = eb_hellaswag_codepoints(ld->blob.buf + ctx);
		it->n_choices++;
	}
	ld->n++;
	return 0;
}

typedef int eb_mc_line_fn(struct eb_mc_loader *ld, json_t *obj, struct eb_err *err);

/* Each non-blank line of data[0..len) as a JSON object through fn. */
static int eb_mc_jsonl(struct eb_mc_loader *ld, const char *data, size_t len, eb_mc_line_fn *fn,
		       struct eb_err *err)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - data) : len;
		json_error_t jerr;
		json_t *obj;
		int ret;

		ld->lineno++;
		if (!eb_py_blank(data + pos, end - pos)) {
			obj = json_loadb(data + pos, end - pos, 0, &jerr);
			if (!obj)
				return eb_err_set(err, EB_EPARSE, "%s:%zu:%d: invalid json: %s",
						  eb_mc_name(ld), ld->lineno, jerr.column, jerr.text);
			ret = json_is_object(obj)
				      ? fn(ld, obj, err)
				      : eb_err_set(err, EB_EPARSE, "%s:%zu: expected a json object",
						   eb_mc_name(ld), ld->lineno);
			json_decref(obj);
			if (ret)
				return ret;
		}
		pos = end + 1;
	}
	return 0;
}

/* PIQA's labels, one 0 or 1 a line, onto the items in order. */
static int eb_mc_piqa_labels(struct eb_mc_loader *ld, const char *name, const char *data,
			     size_t len, struct eb_err *err)
{
	size_t pos = 0, line = 0, i = 0;

	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - data) : len;
		const char *s = data + pos;
		size_t n = eb_mc_strip(&s, end - pos);

		line++;
		pos = end + 1;
		if (n == 0)
			continue;
		if (n != 1 || (s[0] != '0' && s[0] != '1'))
			return eb_err_set(err, EB_EPARSE, "%s:%zu: label '%.*s' is not 0 or 1", name,
					  line, (int)(n > 32 ? 32 : n), s);
		if (i == ld->n)
			return eb_err_set(err, EB_EPARSE, "%s:%zu: more labels than the %zu items",
					  name, line, ld->n);
		ld->items[i++].gold = s[0] - '0';
	}
	if (i != ld->n)
		return eb_err_set(err, EB_EPARSE, "%s: %zu labels for %zu items", name, i, ld->n);
	return 0;
}

/* --- MMLU's CSV ------------------------------------------------------------------- */

#define EB_MMLU_FIELDS 6

/*
 * One record of Python's csv.reader (excel dialect) at data[*pos..len): fields split by
 * ',', a field starting with '"' quoted ("" inside is one '"', newlines inside are
 * kept, text after the closing quote is appended), a '"' inside an unquoted field kept
 * as text; the record ends at an unquoted "\n" or "\r\n". Field i is appended to b, NUL-terminated, from off[i].
 * Returns the field count (0 for a blank line); *lines gets the lines it spanned.
 */
static size_t eb_csv_record(const char *data, size_t len, size_t *pos, struct eb_buf *b,
			    size_t off[EB_MMLU_FIELDS + 1], size_t *lines, int *bad_quote)
{
	size_t i = *pos, nf = 0;
	int quoted = 0, any = 0, field_start = 1;

	*lines = 1;
	*bad_quote = 0;
	eb_buf_reset(b);
	off[0] = 0;
	while (i < len) {
		char c = data[i];

		if (quoted) {
			if (c == '"' && i + 1 < len && data[i + 1] == '"') {
				eb_buf_add(b, "\"", 1);
				i += 2;
				continue;
			}
			if (c == '"') {
				quoted = 0;
			} else {
				*lines += c == '\n';
				eb_buf_add(b, &c, 1);
			}
			i++;
			continue;
		}
		if (c == '\n' || (c == '\r' && i + 1 < len && data[i + 1] == '\n')) {
			i += c == '\r' ? 2 : 1;
			break;
		}
		any = 1;
		if (c == ',') {
			eb_buf_add(b, "", 1);
			if (nf < EB_MMLU_FIELDS)
				off[nf + 1] = b->len;
			nf++;
			field_start = 1;
			i++;
			continue;
		}
		/* a quote opens a quoted field only at its start; elsewhere it is text */
		if (c == '"' && field_start)
			quoted = 1;
		else
			eb_buf_add(b, &c, 1);
		field_start = 0;
		i++;
	}
	*bad_quote = quoted;
	*pos = i;
	eb_buf_add(b, "", 1);
	return any ? nf + 1 : 0;
}

/* Adds the items of one SUBJECT_test.csv (name as messages show it). */
static int eb_mc_mmlu_csv(struct eb_mc_loader *ld, const char *subject, const char *data,
			  size_t len, struct eb_err *err)
{
	size_t pos = 0, off[EB_MMLU_FIELDS + 1], lines, nf;
	struct eb_buf rec, head, ctx;
	int bad_quote, ret = 0;

	eb_buf_init(&rec, 0);
	eb_buf_init(&head, 0);
	eb_buf_init(&ctx, 0);
	/* the task's description: subject.split("_") joined by spaces */
	eb_buf_addstr(&head, "The following are multiple choice questions (with answers) about ");
	for (const char *s = subject; *s; s++)
		eb_buf_add(&head, *s == '_' ? " " : s, 1);
	eb_buf_addstr(&head, ".\n\n");
	while (pos < len) {
		size_t line = ld->lineno + 1, c;
		struct eb_mc_offsets *o;
		struct eb_mc_item *it;
		const char *f[EB_MMLU_FIELDS], *q;
		size_t qlen;

		nf = eb_csv_record(data, len, &pos, &rec, off, &lines, &bad_quote);
		ld->lineno += lines;
		if (bad_quote) {
			ret = eb_err_set(err, EB_EPARSE, "%s:%zu: quoted field not closed",
					 eb_mc_name(ld), line);
			goto out;
		}
		if (nf == 0)
			continue;
		if (nf != EB_MMLU_FIELDS) {
			ret = eb_err_set(err, EB_EPARSE, "%s:%zu: %zu fields, expected %d (question, "
					 "A, B, C, D, answer)", eb_mc_name(ld), line, nf,
					 EB_MMLU_FIELDS);
			goto out;
		}
		for (int i = 0; i < EB_MMLU_FIELDS; i++)
			f[i] = rec.buf + off[i];
		if (strlen(f[5]) != 1 || f[5][0] < 'A' || f[5][0] > 'D') {
			ret = eb_err_set(err, EB_EPARSE, "%s:%zu: answer '%.32s' is not A, B, C or D",
					 eb_mc_name(ld), line, f[5]);
			goto out;
		}
		q = f[0];
		qlen = eb_mc_strip(&q, strlen(q));
		eb_buf_reset(&ctx);
		eb_buf_add(&ctx, head.buf, head.len);
		eb_buf_add(&ctx, q, qlen);
		for (int i = 0; i < 4; i++)
			eb_buf_addf(&ctx, "\n%c. %s", 'A' + i, f[1 + i]);
		eb_buf_addstr(&ctx, "\nAnswer:");
		c = eb_mc_str(ld, ctx.buf, ctx.len, NULL);
		ld->lineno = line; /* the item is where its record starts */
		it = eb_mc_new_item(ld, &o);
		ld->lineno = line + lines - 1;
		it->gold = f[5][0] - 'A';
		for (int i = 0; i < 4; i++) {
			char letter[2] = { (char)('A' + i), '\0' };

			eb_mc_choice(ld, it, o, c, letter);
		}
		ld->n++;
	}
out:
	eb_buf_release(&rec);
	eb_buf_release(&head);
	eb_buf_release(&ctx);
	return ret;
}

/* A malloc'd copy of s[0..n). */
static char *eb_strndup_x(const char *s, size_t n)
{
	char *d = eb_xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* One subject file found in a directory or an archive. */
struct eb_mmlu_file {
	char *subject;
	char *name;      /* as messages show it */
	char *data;      /* tar: points into the archive; a single file: NULL until read */
	size_t len;
};

static int eb_mmlu_cmp(const void *a, const void *b)
{
	return strcmp(((const struct eb_mmlu_file *)a)->subject,
		      ((const struct eb_mmlu_file *)b)->subject);
}

/* The subject of "…/SUBJECT_test.csv", malloc'd; NULL when the name is not one. */
static char *eb_mmlu_subject(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (base[0] == '.' || n <= 9 || strcmp(base + n - 9, "_test.csv") != 0)
		return NULL;
	return eb_strndup_x(base, n - 9);
}

/* An octal tar header field. */
static size_t eb_tar_octal(const unsigned char *p, size_t n)
{
	size_t v = 0;

	for (size_t i = 0; i < n && p[i] >= '0' && p[i] <= '7'; i++)
		v = v * 8 + (size_t)(p[i] - '0');
	return v;
}

/* The regular files "…/test/SUBJECT_test.csv" of a ustar archive in memory. */
static int eb_mmlu_tar(const char *path, const char *data, size_t len,
		       struct eb_mmlu_file **files, size_t *n, struct eb_err *err)
{
	size_t pos = 0, alloc = 0;

	while (pos + 512 <= len) {
		const unsigned char *h = (const unsigned char *)data + pos;
		char name[260];
		size_t size;
		char *subject;
		struct eb_buf b;

		if (h[0] == '\0')
			break; /* the end-of-archive blocks */
		if (memcmp(h + 257, "ustar", 5) != 0)
			return eb_err_set(err, EB_EPARSE, "'%s': not a ustar archive (block at %zu)",
					  path, pos);
		size = eb_tar_octal(h + 124, 12);
		if (size > len - pos - 512)
			return eb_err_set(err, EB_EPARSE, "'%s': truncated archive (member at %zu)",
					  path, pos);
		if (h[345])
			snprintf(name, sizeof(name), "%.155s/%.100s", (const char *)h + 345,
				 (const char *)h + 0);
		else
			snprintf(name, sizeof(name), "%.100s", (const char *)h);
		subject = (h[156] == '0' || h[156] == '\0') && strstr(name, "test/")
				  ? eb_mmlu_subject(name)
				  : NULL;
		if (subject) {
			if (*n == alloc) {
				alloc = alloc ? 2 * alloc : 64;
				*files = eb_xrealloc(*files, alloc * sizeof(**files));
			}
			(*files)[*n].subject = subject;
			eb_buf_init(&b, 0);
			eb_buf_addf(&b, "%s:%s", path, name);
			(*files)[*n].name = eb_buf_detach(&b, NULL);
			(*files)[*n].data = (char *)data + pos + 512;
			(*files)[*n].len = size;
			(*n)++;
		}
		pos += 512 + (size + 511) / 512 * 512;
	}
	return 0;
}

static int eb_mc_mmlu(struct eb_mc_loader *ld, struct eb_mc *ds, const char *path,
		      struct eb_err *err)
{
	struct eb_mmlu_file *files = NULL;
	char *archive = NULL;
	size_t n = 0, len = strlen(path), alen;
	int ret = 0;

	if (len > 4 && strcmp(path + len - 4, ".tar") == 0) {
		ret = eb_read_file(path, EB_MC_FILE_MAX, &archive, &alen, err);
		if (!ret)
			ret = eb_mmlu_tar(path, archive, alen, &files, &n, err);
	} else {
		char *subject = eb_mmlu_subject(path);

		if (!subject)
			return eb_err_set(err, EB_EPARSE, "'%s': not an MMLU file: expected "
					  "SUBJECT_test.csv or data.tar", path);
		files = eb_xcalloc(1, sizeof(*files));
		files[0].subject = subject;
		files[0].name = eb_xstrdup(path);
		n = 1;
	}
	if (!ret && n == 0)
		ret = eb_err_set(err, EB_EPARSE, "'%s': no SUBJECT_test.csv files", path);
	if (ret)
		goto out;
	qsort(files, n, sizeof(*files), eb_mmlu_cmp);
	ds->groups = eb_xcalloc(n, sizeof(*ds->groups));
	for (size_t i = 0; i < n && !ret; i++) {
		char *data = files[i].data;
		size_t dlen = files[i].len;

		if (!data) {
			ret = eb_read_file(files[i].name, EB_MC_FILE_MAX, &data, &dlen, err);
			if (ret)
				break;
		}
		eb_mc_set_name(ld, files[i].name);
		ld->group = i;
		ds->groups[i] = files[i].subject;
		files[i].subject = NULL;
		ds->n_groups++;
		ret = eb_mc_mmlu_csv(ld, ds->groups[i], data, dlen, err);
		if (data != files[i].data)
			free(data);
	}
out:
	for (size_t i = 0; i < n; i++) {
		free(files[i].subject);
		free(files[i].name);
	}
	free(files);
	free(archive);
	return ret;
}

/* --- loading ---------------------------------------------------------------------- */

/* Reads path (or member of the zip at path) whole; *name gets "path" or "path:member". */
static int eb_mc_read(const char *path, const char *member, char **data, size_t *len,
		      struct eb_buf *name, struct eb_err *err)
{
	size_t n = strlen(path);

	eb_buf_reset(name);
	if (n > 4 && strcmp(path + n - 4, ".zip") == 0) {
		if (!member)
			return eb_err_set(err, EB_EINVAL, "'%s': name the archive's member to read",
					  path);
		eb_buf_addf(name, "%s:%s", path, member);
		return eb_zip_read(path, member, EB_MC_FILE_MAX, data, len, err);
	}
	eb_buf_addstr(name, path);
	return eb_read_file(path, EB_MC_FILE_MAX, data, len, err);
}

/* PIQA's labels: "NAME.jsonl" -> "NAME-labels.lst" (path or zip member). */
static char *eb_mc_labels_name(const char *jsonl)
{
	size_t n = strlen(jsonl);
	struct eb_buf b;

	eb_buf_init(&b, 0);
	if (n > 6 && strcmp(jsonl + n - 6, ".jsonl") == 0)
		n -= 6;
	eb_buf_add(&b, jsonl, n);
	eb_buf_addstr(&b, "-labels.lst");
	return eb_buf_detach(&b, NULL);
}

static int eb_mc_piqa_load(struct eb_mc_loader *ld, const char *path, const char *member,
			   struct eb_err *err)
{
	int zip = member && strlen(path) > 4 && strcmp(path + strlen(path) - 4, ".zip") == 0;
	char *lpath = eb_mc_labels_name(zip ? member : path), *data = NULL;
	struct eb_buf name;
	size_t len;
	int ret;

	eb_buf_init(&name, 0);
	ret = eb_mc_read(zip ? path : lpath, zip ? lpath : NULL, &data, &len, &name, err);
	if (ret == EB_ENOENT) {
		char why[sizeof(err->msg)];

		eb_strlcpy(why, err->msg, sizeof(why));
		ret = eb_err_set(err, EB_ENOENT, "piqa: no labels '%s' next to '%s' (PIQA keeps "
				 "the answers in NAME-labels.lst beside NAME.jsonl): %s", lpath,
				 zip ? member : path, why);
	}
	if (!ret)
		ret = eb_mc_piqa_labels(ld, name.buf, data, len, err);
	free(data);
	free(lpath);
	eb_buf_release(&name);
	return ret;
}

int eb_mc_load(struct eb_mc *ds, enum eb_mc_format fmt, const char *path, const char *member,
	       struct eb_err *err)
{
	static eb_mc_line_fn *const line_fn[] = { eb_mc_arc, eb_mc_piqa, eb_mc_winogrande };
	struct eb_mc_loader ld;
	struct eb_buf name;
	char *data = NULL;
	size_t len = 0, i, k;
	int ret;

	memset(ds, 0, sizeof(*ds));
	memset(&ld, 0, sizeof(ld));
	eb_buf_init(&ld.blob, 0);
	eb_buf_init(&name, 0);
	if (fmt == EB_MC_MMLU) {
		ret = eb_mc_mmlu(&ld, ds, path, err);
	} else {
		ret = eb_mc_read(path, member, &data, &len, &name, err);
		if (ret)
			goto out;
		eb_mc_set_name(&ld, name.buf);
		ret = eb_mc_jsonl(&ld, data, len, line_fn[fmt], err);
		if (!ret && fmt == EB_MC_PIQA)
			ret = eb_mc_piqa_load(&ld, path, member, err);
	}
	if (!ret && ld.n == 0)
		ret = eb_err_set(err, EB_EPARSE, "no items in '%s'", name.len ? name.buf : path);
	if (ret)
		goto out;
	/* the blob stops moving here: turn offsets into pointers */
	ds->blob = eb_buf_detach(&ld.blob, &ds->blob_len);
	for (i = 0; i < ld.n; i++) {
		struct eb_mc_item *it = &ld.items[i];

		for (k = 0; k < it->n_choices; k++) {
			it->ctx[k] = ds->blob + ld.offs[i].ctx[k];
			it->cont[k] = ds->blob + ld.offs[i].cont[k];
		}
		it->file = ds->blob + ld.offs[i].file;
		it->id = ds->blob + ld.offs[i].id;
	}
	ds->items = ld.items;
	ds->n = ld.n;
	ld.items = NULL;
out:
	if (ret)
		eb_mc_release(ds);
	free(data);
	free(ld.items);
	free(ld.offs);
	eb_buf_release(&ld.blob);
	eb_buf_release(&name);
	return ret;
}

void eb_mc_release(struct eb_mc *ds)
{
	if (!ds)
		return;
	for (size_t i = 0; i < ds->n_groups; i++)
		free((char *)ds->groups[i]);
	free(ds->groups);
	free(ds->items);
	free(ds->blob);
	memset(ds, 0, sizeof(*ds));
}

/* --- scoring --------------------------------------------------------------------- */

void eb_mc_predict(const double *logp, const size_t *len, size_t n, int *pred, int *pred_norm)
{
	double norm[EB_MC_MAX_CHOICES];

	for (size_t i = 0; i < n && i < EB_MC_MAX_CHOICES; i++)
		norm[i] = logp[i] / (double)len[i];
	if (pred)
		*pred = (int)eb_hellaswag_argmax(logp, n);
	if (pred_norm)
		*pred_norm = (int)eb_hellaswag_argmax(norm, n);
}

double eb_mc_pooled_stderr(const size_t *hits, const size_t *n, size_t k)
{
	double sum = 0;
	size_t total = 0, parts = 0;

	/* a part without items (cut off by limit) is not one of lm-eval's subtasks */
	for (size_t i = 0; i < k; i++) {
		if (n[i] == 0)
			continue;
		total += n[i];
		parts++;
		sum += (double)hits[i] * (double)(n[i] - hits[i]) / (double)n[i];
	}
	if (total <= parts)
		return NAN;
	return sqrt(sum / (double)(total - parts) / (double)total);
}
