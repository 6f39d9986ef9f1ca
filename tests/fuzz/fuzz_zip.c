/* fuzz_zip.c: the zip reader (wikitext-2-raw-v1.zip) on an archive made of arbitrary bytes. */
#include "fuzz.h"

#include "corpus.h"
#include "zip.h"

/* The member size the target reads at most; a member claiming more is refused. */
#define MAX_MEMBER ((size_t)1 << 20)

static void check_rc(int rc, const struct eb_err *err, const char *path, const char *what)
{
	EB_FUZZ_CHECK(rc == 0 || rc == EB_EPARSE || rc == EB_EIO || rc == EB_ENOENT ||
			      rc == EB_EUNSUPPORTED || rc == EB_ENOMEM,
		      "%s: rc %d", what, rc);
	EB_FUZZ_CHECK(rc == 0 || strstr(err->msg, path) != NULL, "%s: error does not name the file: %s",
		      what, err->msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[600], **names = NULL, *out = NULL;
	struct eb_err err;
	size_t n = 0, len = 0;
	int rc;

	eb_fuzz_write(eb_fuzz_path(path, sizeof(path), "fuzz.zip"), data, size);
	rc = eb_zip_names(path, &names, &n, &err);
	check_rc(rc, &err, path, "names");
	EB_FUZZ_CHECK(rc != 0 || (n == 0 || names != NULL), "names");
	for (size_t i = 0; rc == 0 && i < n && i < 8; i++) {
		int r = eb_zip_read(path, names[i], MAX_MEMBER, &out, &len, &err);

		check_rc(r, &err, path, "read");
		if (r == 0) {
			EB_FUZZ_CHECK(out != NULL && out[len] == '\0' && len <= MAX_MEMBER, "member %zu",
				      i);
			free(out);
		} else {
			EB_FUZZ_CHECK(out == NULL && len == 0, "member %zu: output on error", i);
		}
	}
	eb_zip_names_free(names, n);
	/* the corpus reader's zip path: the WikiText-2 member, else the only file */
	rc = eb_corpus_read(path, NULL, &out, &len, &err);
	check_rc(rc, &err, path, "corpus");
	if (rc == 0)
		free(out);
	return 0;
}
