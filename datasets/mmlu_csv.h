/* mmlu_csv.h: MMLU in its original CSV form (hendrycks/test data/<split>/<subject>_<split>.csv): question, A, B, C, D, answer. */
#ifndef EB_MMLU_CSV_H
#define EB_MMLU_CSV_H

#include <stddef.h>

#include "eb_err.h"

#define EB_MMLU_NCHOICES 4

/* One question. Strings are malloc'd and owned by the dataset (eb_mmlu_release). */
struct eb_mmlu_item {
	char *question;
	char *choice[EB_MMLU_NCHOICES];
	int gold;    /* 0..3 from the answer letter A..D */
	size_t line; /* 1-based line where the record starts, for messages and records */
};

/* A loaded file; the caller owns the struct, eb_mmlu_release frees what it holds. */
struct eb_mmlu {
	struct eb_mmlu_item *items;
	size_t n;
	/* the subject, from the file name as lm-eval's MMLU prompt names it:
	 * "high_school_physics_test.csv" -> "high school physics" (malloc'd) */
	char *subject;
};

/*
 * Loads one MMLU CSV file: no header, six fields a record (RFC 4180: fields in double
 * quotes may hold commas, line feeds and "" for a quote), the last a letter A..D.
 * Errors (EB_EPARSE) name the file, line and column: "x.csv:4: 5 fields, expected 6
 * (question,A,B,C,D,answer)", "x.csv:7: answer 'E' is not one of A, B, C, D",
 * "x.csv:9:12: unterminated quoted field"; a file without records is an error. On
 * failure `ds` is left empty.
 */
int eb_mmlu_load(struct eb_mmlu *ds, const char *path, struct eb_err *err);

/* As eb_mmlu_load from `len` bytes in memory; `name` stands for the path (and gives
 * the subject). */
int eb_mmlu_load_buf(struct eb_mmlu *ds, const char *name, const char *data, size_t len,
		     struct eb_err *err);

void eb_mmlu_release(struct eb_mmlu *ds);

#endif
