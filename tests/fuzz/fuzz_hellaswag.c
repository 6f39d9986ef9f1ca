/* fuzz_hellaswag.c: the HellaSwag JSONL loader and lm-eval's text functions on arbitrary bytes. */
#include "fuzz.h"

#include "hellaswag.h"

static void check_text(const char *s)
{
	char *p = eb_hellaswag_preprocess(s);
	char *c = eb_hellaswag_capitalize(s);

	EB_FUZZ_CHECK(p != NULL && c != NULL, "out of memory");
	/* preprocess only removes or replaces ("  " -> " ", " [title]" -> ". "): never grows */
	EB_FUZZ_CHECK(strlen(p) <= strlen(s), "preprocess grew %zu -> %zu", strlen(s), strlen(p));
	/* capitalize changes at most the case of U+0000..U+017F: "ß" -> "Ss" keeps 2 bytes,
	   "ŉ" -> "ʼN" 2 -> 3, "İ" -> "i̇" 2 -> 3; so at most 3/2 the bytes */
	EB_FUZZ_CHECK(2 * strlen(c) <= 3 * strlen(s) + 2, "capitalize grew %zu -> %zu", strlen(s),
		      strlen(c));
	(void)eb_hellaswag_codepoints(p);
	free(p);
	free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eb_hellaswag ds;
	struct eb_err err;
	char *text = eb_fuzz_strdup(data, size);
	int rc;

	check_text(text);
	rc = eb_hellaswag_load_buf(&ds, "fuzz.jsonl", (const char *)data, size, &err);
	EB_FUZZ_CHECK(rc == 0 || rc == EB_EPARSE, "rc %d: %s", rc, err.msg);
	if (rc == 0) {
		double *logp = calloc(ds.n * EB_HELLASWAG_NCHOICES + 1, sizeof(*logp));
		struct eb_hellaswag_metrics m;

		EB_FUZZ_CHECK(ds.n > 0 && logp, "no items");
		for (size_t i = 0; i < ds.n; i++) {
			const struct eb_hellaswag_item *it = &ds.items[i];

			EB_FUZZ_CHECK(it->label >= 0 && it->label < EB_HELLASWAG_NCHOICES, "label %d",
				      it->label);
			EB_FUZZ_CHECK(it->query != NULL, "item %zu query", i);
			EB_FUZZ_CHECK(i == 0 || it->line > ds.items[i - 1].line, "item %zu line", i);
			for (int j = 0; j < EB_HELLASWAG_NCHOICES; j++) {
				EB_FUZZ_CHECK(it->cont[j] != NULL && it->cont[j][0] == ' ' &&
						      it->choice[j] == it->cont[j] + 1,
					      "item %zu choice %d", i, j);
				EB_FUZZ_CHECK(it->choice_len[j] == eb_hellaswag_codepoints(it->choice[j]),
					      "item %zu choice %d length", i, j);
				/* a made-up score: longer endings score lower */
				logp[i * EB_HELLASWAG_NCHOICES + (size_t)j] = -(double)it->choice_len[j];
			}
		}
		eb_hellaswag_score(&ds, logp, &m);
		EB_FUZZ_CHECK(m.n == ds.n && m.acc >= 0 && m.acc <= 1 && m.acc_norm >= 0 &&
				      m.acc_norm <= 1,
			      "n %zu acc %g acc_norm %g", m.n, m.acc, m.acc_norm);
		free(logp);
	} else {
		EB_FUZZ_CHECK(ds.n == 0 && ds.items == NULL && ds.blob == NULL, "not left empty");
		EB_FUZZ_CHECK(strstr(err.msg, "fuzz.jsonl") != NULL, "error does not name the file: %s",
			      err.msg);
	}
	eb_hellaswag_release(&ds);
	free(text);
	return 0;
}
