/* fuzz_c4.c: the C4 json.gz loader on arbitrary bytes (gzip or plain JSON lines), then GPTQ's window sampler. */
#include "fuzz.h"

#include "c4.h"
#include "corpus.h"

#define SEQLEN 16
#define N_WINDOWS 8

/* Token counts stand-in: a document's length in bytes. */
static int ntok_bytes(void *ud, size_t doc, size_t *n, struct eb_err *err)
{
	const struct eb_docs *d = ud;

	(void)err;
	EB_FUZZ_CHECK(doc < d->n, "sampler asked for document %zu of %zu", doc, d->n);
	*n = d->len[doc];
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eb_c4_window w[N_WINDOWS];
	struct eb_docs docs;
	struct eb_err err;
	char path[600], *text = NULL;
	size_t len = 0;
	int rc;

	/* zlib's gzopen reads a file without the gzip magic as plain bytes, so one name
	   serves both the real json.gz shards and plain JSON lines */
	eb_fuzz_write(eb_fuzz_path(path, sizeof(path), "c4.json.gz"), data, size);
	rc = eb_corpus_read(path, NULL, &text, &len, &err);
	EB_FUZZ_CHECK(rc == 0 || rc == EB_EPARSE || rc == EB_EIO, "corpus rc %d", rc);
	if (rc == 0) {
		EB_FUZZ_CHECK(text != NULL && text[len] == '\0', "corpus text");
		free(text);
	}

	rc = eb_c4_load(path, 0, &docs, &err);
	EB_FUZZ_CHECK(rc == 0 || rc == EB_EPARSE, "load rc %d: %s", rc, err.msg);
	if (rc != 0) {
		EB_FUZZ_CHECK(docs.n == 0 && docs.blob == NULL, "docs not left empty");
		EB_FUZZ_CHECK(strstr(err.msg, path) != NULL, "error does not name the file: %s",
			      err.msg);
		return 0;
	}
	EB_FUZZ_CHECK(docs.n > 0, "success without documents");
	for (size_t i = 0; i < docs.n; i++) {
		EB_FUZZ_CHECK(docs.doc[i][docs.len[i]] == '\0', "doc %zu", i);
		EB_FUZZ_CHECK(i == 0 || docs.line[i] > docs.line[i - 1], "doc %zu line", i);
	}
	rc = eb_c4_gptq_windows(docs.n, SEQLEN, N_WINDOWS, size ? data[0] : 0, ntok_bytes, &docs, w,
				&err);
	EB_FUZZ_CHECK(rc == 0 || rc == EB_EINVAL, "windows rc %d", rc);
	for (size_t k = 0; rc == 0 && k < N_WINDOWS; k++)
		EB_FUZZ_CHECK(w[k].doc < docs.n && w[k].start + SEQLEN < docs.len[w[k].doc],
			      "window %zu: doc %zu start %zu", k, w[k].doc, w[k].start);
	/* at most the first document: max_docs stops early */
	eb_docs_release(&docs);
	rc = eb_c4_load(path, 1, &docs, &err);
	EB_FUZZ_CHECK(rc != 0 || docs.n == 1, "max_docs 1 gave %zu", docs.n);
	eb_docs_release(&docs);
	return 0;
}
