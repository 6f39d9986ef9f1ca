/* hellaswag.h: HellaSwag as lm-evaluation-harness scores it 0-shot: text, loader, acc/acc_norm. */
#ifndef EB_HELLASWAG_H
#define EB_HELLASWAG_H

#include <stddef.h>

#include "eb_err.h"

#define EB_HELLASWAG_NCHOICES 4

/*
 * One item, ready to score. lm-eval asks for the log-probability of each continuation
 * cont[i] given query (target_delimiter " " between them is the first byte of cont[i]).
 * All strings are NUL-terminated UTF-8 inside the dataset's blob (struct eb_hellaswag):
 * they stay valid until eb_hellaswag_release and must not be freed one by one.
 */
struct eb_hellaswag_item {
	/* preprocess(activity_label + ": " + ctx_a + " " + capitalize(ctx_b)) */
	const char *query;
	/* " " + preprocess(endings[i]): the continuation to score */
	const char *cont[EB_HELLASWAG_NCHOICES];
	/* preprocess(endings[i]) itself, i.e. cont[i] + 1 (lm-eval's doc["choices"][i]) */
	const char *choice[EB_HELLASWAG_NCHOICES];
	/* code points of choice[i], without the leading space: acc_norm's divisor, as
	 * lm-eval's completion_len = [float(len(c)) for c in doc_to_choice(doc)] */
	size_t choice_len[EB_HELLASWAG_NCHOICES];
	int label;   /* gold index, 0..3 */
	size_t line; /* 1-based line of the item in its file, for messages */
};

/*
 * A loaded dataset. The caller owns the struct (usually on its stack); the loader fills
 * it and allocates exactly two blocks, `items` and `blob`, both freed by one
 * eb_hellaswag_release. Items are in file order.
 */
struct eb_hellaswag {
	struct eb_hellaswag_item *items;
	size_t n;
	char *blob; /* every string the items point at */
	size_t blob_len;
};

/*
 * Loads rowanz's JSONL (hellaswag_val.jsonl; one object per line) into `ds`. Per line it
 * reads activity_label, ctx_a, ctx_b (strings), endings (array of 4 strings) and label
 * (an integer or a string holding one, e.g. "3", 0..3); other keys (ind, ctx,
 * source_id, split, split_type, ...) are ignored, and blank lines are skipped. Errors
 * (EB_EPARSE) name the file and line as `path` was given: "hellaswag.jsonl:17: 'label' 7
 * out of range 0..3", "x.jsonl:2:14: invalid json: <jansson's text>", "x.jsonl:3:
 * missing 'ctx_b'"; a file without items is an error too. On any failure `ds` is left
 * empty (nothing to release, though releasing it is harmless).
 */
int eb_hellaswag_load(struct eb_hellaswag *ds, const char *path, struct eb_err *err);

/* As eb_hellaswag_load, from `len` bytes in memory; `name` stands for the path in messages. */
int eb_hellaswag_load_buf(struct eb_hellaswag *ds, const char *name, const char *data,
			  size_t len, struct eb_err *err);

/* Frees what a load allocated and empties `ds`. Safe on an empty or released dataset. */
void eb_hellaswag_release(struct eb_hellaswag *ds);

/*
 * Text functions. Each returns a malloc'd NUL-terminated string the caller frees, or NULL
 * when out of memory (or when an argument is NULL). Input is UTF-8; bytes that are not
 * valid UTF-8 are copied through unchanged and never split.
 */

/*
 * lm-eval's hellaswag preprocess(): str.strip() (Python's Unicode whitespace set), then
 * " [title]" -> ". ", then re.sub(r"\[.*?\]", "", .) ('.' does not match "\n", so a
 * bracket pair never spans a newline), then ONE pass of "  " -> " " (non-overlapping, left
 * to right: three spaces become two).
 */
char *eb_hellaswag_preprocess(const char *text);

/*
 * Python's str.capitalize(): the first character title-cased, the rest lower-cased.
 * Exact for U+0000..U+017F (ASCII, Latin-1 Supplement, Latin Extended-A), including
 * Python's special cases there ("ß" -> "Ss", "ŉ" -> "ʼN", "µ" -> "Μ" first; "İ" -> "i̇",
 * "Ÿ" -> "ÿ" in the rest). Any other code point is copied unchanged (Python would still
 * change e.g. Greek or Cyrillic capitals, and "Σ" by its final-sigma rule): HellaSwag's
 * English text does not reach those.
 */
char *eb_hellaswag_capitalize(const char *text);

/* preprocess(activity_label + ": " + ctx_a + " " + capitalize(ctx_b)). */
char *eb_hellaswag_query(const char *activity_label, const char *ctx_a, const char *ctx_b);

/* Length in Unicode code points (Python's len()) of UTF-8 text: bytes not 10xxxxxx. */
size_t eb_hellaswag_codepoints(const char *s);

/*
 * Scoring, as lm-eval's multiple_choice process_results and mean aggregation do.
 */

/*
 * numpy.argmax over v[0..n-1]: the first maximum, so ties go to the lower index; a NaN
 * counts as the maximum (the first NaN wins). 0 when n is 0.
 */
size_t eb_hellaswag_argmax(const double *v, size_t n);

/*
 * One item's predictions from its per-choice summed log-probabilities and choice_len:
 * *pred = argmax(logp), *pred_norm = argmax(logp / len) in IEEE double (a zero length
 * gives -inf, nan or +inf as numpy would). Either output pointer may be NULL.
 */
void eb_hellaswag_predict(const double logp[EB_HELLASWAG_NCHOICES],
			  const size_t len[EB_HELLASWAG_NCHOICES], int *pred, int *pred_norm);

/* Running counts; zero-initialise (struct eb_hellaswag_tally t = { 0 }) and add items. */
struct eb_hellaswag_tally {
	size_t n;
	size_t acc_hits;
	size_t acc_norm_hits;
};

void eb_hellaswag_tally_add(struct eb_hellaswag_tally *t,
			    const double logp[EB_HELLASWAG_NCHOICES],
			    const size_t len[EB_HELLASWAG_NCHOICES], int label);

/* Final numbers. A *_se of NaN means undefined (fewer than two items), as is acc at n 0. */
struct eb_hellaswag_metrics {
	size_t n;
	double acc;
	double acc_se;
	double acc_norm;
	double acc_norm_se;
};

void eb_hellaswag_tally_finish(const struct eb_hellaswag_tally *t,
			       struct eb_hellaswag_metrics *m);

/*
 * Scores a whole dataset: logp holds ds->n rows of EB_HELLASWAG_NCHOICES summed
 * log-probabilities (row i for ds->items[i], column j for cont[j]).
 */
void eb_hellaswag_score(const struct eb_hellaswag *ds, const double *logp,
			struct eb_hellaswag_metrics *m);

/*
 * lm-eval's mean_stderr of `hits` ones among `n` zero/one scores: sample standard
 * deviation / sqrt(n), which for 0/1 data is sqrt(p(1-p)/(n-1)) with p = hits/n.
 * NaN when n < 2 (lm-eval would divide by zero).
 */
double eb_hellaswag_stderr(size_t hits, size_t n);

#endif
