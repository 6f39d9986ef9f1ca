/* gsm8k.h: GSM8K as lm-evaluation-harness's gsm8k task reads and grades it: loader, answer filters, exact match. */
#ifndef EB_GSM8K_H
#define EB_GSM8K_H

#include <stddef.h>

#include "eb_err.h"

/* What a filter returns when its pattern finds nothing (lm-eval's RegexFilter fallback). */
#define EB_GSM8K_INVALID "[invalid]"

/* One problem. Strings are malloc'd and owned by the dataset (eb_gsm8k_release). */
struct eb_gsm8k_item {
	char *question; /* "question" as in the file */
	char *answer;   /* "answer": the worked solution ending "#### N" (lm-eval's target) */
	size_t line;    /* 1-based line in its file, for messages and records */
};

/* A loaded dataset; the caller owns the struct, eb_gsm8k_release frees what it holds. */
struct eb_gsm8k {
	struct eb_gsm8k_item *items;
	size_t n;
};

/*
 * Loads openai/grade-school-math's JSONL (test.jsonl: one {"question", "answer"} object
 * a line; other keys ignored, blank lines skipped). Errors (EB_EPARSE) name the file and
 * line: "x.jsonl:3: missing 'answer'", "x.jsonl:4: 'answer' has no \"#### \" line",
 * "x.jsonl:2:14: invalid json: ..."; a file without items is an error. On failure `ds` is
 * left empty.
 */
int eb_gsm8k_load(struct eb_gsm8k *ds, const char *path, struct eb_err *err);

/* As eb_gsm8k_load from `len` bytes in memory; `name` stands for the path in messages. */
int eb_gsm8k_load_buf(struct eb_gsm8k *ds, const char *name, const char *data, size_t len,
		      struct eb_err *err);

void eb_gsm8k_release(struct eb_gsm8k *ds);

/*
 * lm-eval's gsm8k filters of a reply (cut at the stop strings already). Each returns a
 * malloc'd string the caller frees: the match, str.strip()ped, or EB_GSM8K_INVALID.
 * strict-match: the first match of  #### (\-?[0-9\.\,]+)  (its group).
 * flexible-extract: the last match of  (-?[$0-9.,]{2,})|(-?[0-9]+)  (its non-empty
 * group), as re.findall scans: left to right, each match after the previous one.
 */
char *eb_gsm8k_strict(const char *reply);
char *eb_gsm8k_flexible(const char *reply);

/*
 * exact_match's normalisation, applied to a filtered reply and to the target alike
 * (regexes_to_ignore in order: ",", "\$", "(?s).*#### ", "\.$"; then ignore_case): every
 * ',' and '$' removed, everything up to and including the last "#### " removed, a '.'
 * at the end (or just before a final line feed, as Python's $ matches) removed, ASCII
 * letters lower-cased. Malloc'd; the caller frees it.
 */
char *eb_gsm8k_normalize(const char *s);

/* 1 when the filtered reply equals the target after eb_gsm8k_normalize, else 0. */
int eb_gsm8k_exact_match(const char *filtered, const char *target);

#endif
