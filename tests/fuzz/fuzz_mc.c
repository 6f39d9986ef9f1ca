/* fuzz_mc.c: the multiple-choice loaders (ARC, PIQA, Winogrande, MMLU CSV and tar) on arbitrary bytes. */
#include "fuzz.h"

#include "hellaswag.h"
#include "mc.h"

/*
 * The first byte picks the format and the file: ARC, PIQA (the rest split at the first
 * 0xff byte into the JSONL and its labels), Winogrande, MMLU as one SUBJECT_test.csv, or
 * MMLU as a tar archive.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "fuzz.jsonl", "fuzz.jsonl", "fuzz.jsonl",
					     "fuzz_subject_test.csv", "fuzz.tar" };
	static const enum eb_mc_format fmts[] = { EB_MC_ARC, EB_MC_PIQA, EB_MC_WINOGRANDE,
						  EB_MC_MMLU, EB_MC_MMLU };
	char path[600], lpath[600];
	struct eb_mc ds;
	struct eb_err err;
	size_t pick, body;
	int rc;

	if (size == 0)
		return 0;
	pick = data[0] % 5;
	data++;
	size--;
	body = size;
	if (pick == 1) {
		const uint8_t *cut = memchr(data, 0xff, size);

		body = cut ? (size_t)(cut - data) : size;
		eb_fuzz_write(eb_fuzz_path(lpath, sizeof(lpath), "fuzz-labels.lst"),
			      cut ? cut + 1 : data + size, cut ? size - body - 1 : 0);
	}
	eb_fuzz_write(eb_fuzz_path(path, sizeof(path), names[pick]), data, body);
	rc = eb_mc_load(&ds, fmts[pick], path, NULL, &err);
	EB_FUZZ_CHECK(rc == 0 || rc == EB_EPARSE, "rc %d: %s", rc, err.msg);
	if (rc != 0) {
		EB_FUZZ_CHECK(ds.n == 0 && ds.items == NULL && ds.blob == NULL, "not left empty");
		EB_FUZZ_CHECK(strstr(err.msg, "fuzz") != NULL, "error does not name the file: %s",
			      err.msg);
		return 0;
	}
	EB_FUZZ_CHECK(ds.n > 0, "no items");
	for (size_t i = 0; i < ds.n; i++) {
		const struct eb_mc_item *it = &ds.items[i];
		double logp[EB_MC_MAX_CHOICES];
		int pred, pred_norm;

		EB_FUZZ_CHECK(it->n_choices >= 2 && it->n_choices <= EB_MC_MAX_CHOICES,
			      "item %zu: %zu choices", i, it->n_choices);
		EB_FUZZ_CHECK(it->gold >= 0 && (size_t)it->gold < it->n_choices, "item %zu gold %d", i,
			      it->gold);
		EB_FUZZ_CHECK(it->file && it->id && it->line > 0, "item %zu origin", i);
		EB_FUZZ_CHECK(ds.n_groups == 0 || it->group < ds.n_groups, "item %zu group", i);
		for (size_t k = 0; k < it->n_choices; k++) {
			EB_FUZZ_CHECK(it->ctx[k] && it->cont[k] && it->cont[k][0] == ' ',
				      "item %zu choice %zu", i, k);
			/* a made-up score: longer continuations score lower */
			logp[k] = -(double)eb_hellaswag_codepoints(it->cont[k]);
		}
		eb_mc_predict(logp, it->choice_len, it->n_choices, &pred, &pred_norm);
		EB_FUZZ_CHECK(pred >= 0 && (size_t)pred < it->n_choices && pred_norm >= 0 &&
				      (size_t)pred_norm < it->n_choices,
			      "item %zu: pred %d, pred_norm %d", i, pred, pred_norm);
	}
	eb_mc_release(&ds);
	return 0;
}
