/* corpus.h: text datasets read whole (plain, gzip, a zip member) and document lists. */
#ifndef EB_CORPUS_H
#define EB_CORPUS_H

#include <stddef.h>

#include "eb_err.h"

/* The member eb_corpus_read takes from a zip when none is named (WikiText-2's test split). */
#define EB_WIKITEXT2_MEMBER "wikitext-2-raw/wiki.test.raw"

/*
 * Reads a text dataset whole into a malloc'd, NUL-terminated buffer the caller frees
 * (*len excludes the NUL). By name: "*.zip" reads `member` from the archive (NULL:
 * EB_WIKITEXT2_MEMBER, else the archive's only file); "*.gz" is gunzipped; anything else
 * is read as is. Bytes are returned unchanged (no newline translation). Fails with
 * EB_ENOENT / EB_EIO / EB_EPARSE naming the file (and member); files above 4 GiB are
 * refused.
 */
int eb_corpus_read(const char *path, const char *member, char **text, size_t *len,
		   struct eb_err *err);

/*
 * A list of documents in one arena: doc[i] points into `blob` (NUL-terminated, len[i]
 * bytes); line[i] is where document i starts in its file (1-based; 0 when not
 * meaningful). The struct is the caller's; eb_docs_release frees the three arrays and
 * the blob and empties it (safe on an empty or released list).
 */
struct eb_docs {
	char **doc;
	size_t *len;
	size_t *line;
	size_t n;
	char *blob;
};

void eb_docs_release(struct eb_docs *d);

/* Builds a docs list; add documents in order, then finish. Internal to datasets/. */
struct eb_docs_builder {
	char *blob;
	size_t blob_len, blob_alloc;
	size_t *off, *len, *line;
	size_t n, alloc;
};

void eb_docs_builder_init(struct eb_docs_builder *b);
void eb_docs_builder_add(struct eb_docs_builder *b, const char *s, size_t len, size_t line);
/* Moves everything into `d` (which must be empty) and resets the builder. */
void eb_docs_builder_finish(struct eb_docs_builder *b, struct eb_docs *d);
void eb_docs_builder_release(struct eb_docs_builder *b);

/*
 * Python's str.isspace() for the UTF-8 character at s[0..n-1]: its byte length when it
 * is whitespace (U+0009..U+000D, U+001C..U+001F, U+0020, U+0085, U+00A0, U+1680,
 * U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000), else 0. The same set is
 * re's \s for str patterns.
 */
size_t eb_py_space_len(const char *s, size_t n);

/* True when s[0..n-1] is empty or all Python whitespace (`not s.strip()`). */
int eb_py_blank(const char *s, size_t n);

/*
 * Python's universal-newline translation (open(..., encoding="utf-8") in text mode):
 * "\r\n" and lone "\r" become "\n". In place; returns the new length (<= len).
 */
size_t eb_py_newlines(char *s, size_t len);

#endif
