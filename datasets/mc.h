/* mc.h: multiple-choice datasets as lm-evaluation-harness builds them: ARC, PIQA, Winogrande, MMLU. */
#ifndef EB_MC_H
#define EB_MC_H

#include <stddef.h>

#include "eb_err.h"

/* The most choices one item may have (ARC has 3 to 5, the others 2 or 4). */
#define EB_MC_MAX_CHOICES 8

/*
 * One item as lm-eval's multiple_choice output type asks for it: for each choice k the
 * request (ctx[k], cont[k]); the score of choice k is the summed log-probability of
 * cont[k] after ctx[k]. Most tasks share one context and vary the continuation (then
 * every ctx[k] is the same pointer); Winogrande ("multiple input") varies the context
 * and shares the continuation. cont[k] starts with lm-eval's target_delimiter " ".
 * Strings are NUL-terminated UTF-8 owned by the dataset (struct eb_mc).
 */
struct eb_mc_item {
	const char *ctx[EB_MC_MAX_CHOICES];
	const char *cont[EB_MC_MAX_CHOICES];
	/*
	 * Code points of lm-eval's doc_to_choice(doc)[k], acc_norm's divisor
	 * (completion_len = [float(len(c)) for c in choices]): the choice text, or for
	 * Winogrande the context with the option filled in.
	 */
	size_t choice_len[EB_MC_MAX_CHOICES];
	size_t n_choices;
	int gold;          /* 0 .. n_choices - 1 */
	size_t line;       /* 1-based line (record) of the item in its file */
	const char *file;  /* the file it came from, as messages name it */
	const char *id;    /* the dataset's id of the item ("" when it has none) */
	size_t group;      /* MMLU: index of its subject in eb_mc.groups; else 0 */
};

/* Which dataset format eb_mc_load reads and which of lm-eval's tasks it builds. */
enum eb_mc_format {
	EB_MC_ARC,        /* arc_easy, arc_challenge: AI2's ARC JSONL */
	EB_MC_PIQA,       /* piqa: the JSONL and its labels file */
	EB_MC_WINOGRANDE, /* winogrande: AI2's winogrande_1.1 JSONL */
	EB_MC_MMLU,       /* mmlu: Hendrycks' CSV release, one file per subject */
};

/*
 * A loaded dataset: the struct is the caller's; eb_mc_load fills it and
 * eb_mc_release frees everything it points at. Items are in file order (MMLU: subjects
 * in byte order of their names, then file order).
 */
struct eb_mc {
	struct eb_mc_item *items;
	size_t n;
	const char **groups; /* MMLU: subject names ("high_school_biology"); else NULL */
	size_t n_groups;
	char *blob;          /* every string the items point at */
	size_t blob_len;
};

/*
 * Loads `path` in format `fmt`:
 * - EB_MC_ARC: one JSON object a line with "id", "question": {"stem", "choices":
 *   [{"text", "label"}, ...]} and "answerKey" (ARC-V1-Feb2018's *.jsonl). Context
 *   "Question: " + stem + "\nAnswer:", continuations " " + text, gold the index of
 *   answerKey among the labels.
 * - EB_MC_PIQA: "goal", "sol1", "sol2" a line; gold from the labels file, one 0 or 1 a
 *   line: for a path "DIR/NAME.jsonl", "DIR/NAME-labels.lst" (valid-labels.lst,
 *   dev-labels.lst). Context "Question: " + goal + "\nAnswer:".
 * - EB_MC_WINOGRANDE: "sentence" (with one "_"), "option1", "option2", "answer" ("1" or
 *   "2"). Contexts sentence[:blank] + option, continuation " " + the rest after the
 *   blank, stripped.
 * - EB_MC_MMLU: CSV records question,A,B,C,D,answer (a letter A-D), no header; `path` a
 *   "SUBJECT_test.csv" file or a .tar holding data/test/SUBJECT_test.csv files
 *   (Hendrycks' data.tar). Context "The following are multiple choice questions (with
 *   answers) about SUBJECT WORDS.\n\n" + strip(question) + "\nA. " + A + ... +
 *   "\nAnswer:", continuations " A" .. " D".
 * A ".zip" path reads `member` from the archive (NULL: the format's file in the
 * catalog's archive, see mc.c; PIQA's labels come from the member next to it). Errors
 * (EB_EPARSE) name the file and line: "arc.jsonl:4: 'answerKey' 'E' is not one of the
 * labels (A, B, C, D)", "piqa-labels.lst:3: label '2' is not 0 or 1", "x.csv:7: 5
 * fields, expected 6"; a file without items is an error too. On failure ds is empty.
 */
int eb_mc_load(struct eb_mc *ds, enum eb_mc_format fmt, const char *path, const char *member,
	       struct eb_err *err);

/* Frees what a load allocated and empties ds. Safe on an empty or released dataset. */
void eb_mc_release(struct eb_mc *ds);

/* Python's str.rstrip() (Unicode whitespace): the length of s[0..n) without it. */
size_t eb_mc_rstrip(const char *s, size_t n);

/*
 * One item's predictions from its per-choice summed log-probabilities, as lm-eval's
 * process_results: *pred = argmax(logp), *pred_norm = argmax(logp / len) (numpy's
 * argmax: the first maximum; see eb_hellaswag_argmax). Either pointer may be NULL.
 */
void eb_mc_predict(const double *logp, const size_t *len, size_t n, int *pred, int *pred_norm);

/*
 * lm-eval's pooled_sample_stderr, with which a group weighted by size (mmlu over its
 * subjects) gets its stderr: sqrt(Σ (n_i − 1) se_i² n_i / (Σ n_i − k) / Σ n_i) over the
 * k parts with se_i the part's mean_stderr. For 0/1 scores (n_i − 1) se_i² n_i =
 * hits_i (n_i − hits_i) / n_i, which is what this sums. Parts with n_i = 0 are left out;
 * NaN when Σ n_i is not above the number of parts left.
 */
double eb_mc_pooled_stderr(const size_t *hits, const size_t *n, size_t k);

#endif
