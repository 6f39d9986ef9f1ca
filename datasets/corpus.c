/* corpus.c: whole-file reads of text datasets, document arenas, Python whitespace rules. */
#include "corpus.h"
#include "zip.h"

#include "eb_util.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define EB_CORPUS_MAX ((size_t)4 << 30)

static int eb_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int eb_gz_read(const char *path, char **text, size_t *len, struct eb_err *err)
{
	struct eb_buf b;
	char chunk[1 << 16];
	gzFile gz;
	int n, ret = 0;

	gz = gzopen(path, "rb");
	if (!gz)
		return eb_err_set(err, errno == ENOENT ? EB_ENOENT : EB_EIO, "cannot open '%s': %s",
				  path, errno ? strerror(errno) : "out of memory");
	eb_buf_init(&b, EB_CORPUS_MAX);
	while ((n = gzread(gz, chunk, sizeof(chunk))) > 0) {
		if (eb_buf_add(&b, chunk, (size_t)n) != 0) {
			ret = eb_err_set(err, EB_EIO, "'%s' inflates to more than %zu bytes", path,
					 EB_CORPUS_MAX);
			goto out;
		}
	}
	if (n < 0) {
		int zerr;
		const char *msg = gzerror(gz, &zerr);

		ret = eb_err_set(err, EB_EPARSE, "cannot gunzip '%s': %s", path,
				 zerr == Z_ERRNO ? strerror(errno) : msg);
		goto out;
	}
	*text = eb_buf_detach(&b, len);
out:
	gzclose(gz);
	eb_buf_release(&b);
	return ret;
}

int eb_corpus_read(const char *path, const char *member, char **text, size_t *len,
		   struct eb_err *err)
{
	char **names = NULL;
	size_t n = 0, files = 0, only = 0;
	int ret;

	*text = NULL;
	*len = 0;
	if (eb_ends_with(path, ".gz"))
		return eb_gz_read(path, text, len, err);
	if (!eb_ends_with(path, ".zip"))
		return eb_read_file(path, EB_CORPUS_MAX, text, len, err);
	if (member)
		return eb_zip_read(path, member, EB_CORPUS_MAX, text, len, err);
	ret = eb_zip_names(path, &names, &n, err);
	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], EB_WIKITEXT2_MEMBER) == 0) {
			eb_zip_names_free(names, n);
			return eb_zip_read(path, EB_WIKITEXT2_MEMBER, EB_CORPUS_MAX, text, len, err);
		}
		if (!eb_ends_with(names[i], "/")) {
			files++;
			only = i;
		}
	}
	if (files == 1)
		ret = eb_zip_read(path, names[only], EB_CORPUS_MAX, text, len, err);
	else
		ret = eb_err_set(err, EB_ENOENT,
				 "'%s' has no member '%s' and %zu files: name one (\"member\")", path,
				 EB_WIKITEXT2_MEMBER, files);
	eb_zip_names_free(names, n);
	return ret;
}

void eb_docs_release(struct eb_docs *d)
{
	free(d->doc);
	free(d->len);
	free(d->line);
	free(d->blob);
	memset(d, 0, sizeof(*d));
}

void eb_docs_builder_init(struct eb_docs_builder *b)
{
	memset(b, 0, sizeof(*b));
}

void eb_docs_builder_add(struct eb_docs_builder *b, const char *s, size_t len, size_t line)
{
	if (b->n == b->alloc) {
		b->alloc = b->alloc ? 2 * b->alloc : 64;
		b->off = eb_xrealloc(b->off, b->alloc * sizeof(*b->off));
		b->len = eb_xrealloc(b->len, b->alloc * sizeof(*b->len));
		b->line = eb_xrealloc(b->line, b->alloc * sizeof(*b->line));
	}
	if (b->blob_len + len + 1 > b->blob_alloc) {
		size_t want = b->blob_alloc ? 2 * b->blob_alloc : 1 << 16;

		while (want < b->blob_len + len + 1)
			want *= 2;
		b->blob = eb_xrealloc(b->blob, want);
		b->blob_alloc = want;
	}
	memcpy(b->blob + b->blob_len, s, len);
	b->blob[b->blob_len + len] = '\0';
	b->off[b->n] = b->blob_len;
	b->len[b->n] = len;
	b->line[b->n] = line;
	b->blob_len += len + 1;
	b->n++;
}

void eb_docs_builder_finish(struct eb_docs_builder *b, struct eb_docs *d)
{
	memset(d, 0, sizeof(*d));
	d->n = b->n;
	d->blob = b->blob ? b->blob : eb_xcalloc(1, 1);
	d->doc = eb_xcalloc(b->n + 1, sizeof(*d->doc));
	for (size_t i = 0; i < b->n; i++)
		d->doc[i] = d->blob + b->off[i];
	d->len = b->len ? b->len : eb_xcalloc(1, sizeof(*d->len));
	d->line = b->line ? b->line : eb_xcalloc(1, sizeof(*d->line));
	free(b->off);
	memset(b, 0, sizeof(*b));
}

void eb_docs_builder_release(struct eb_docs_builder *b)
{
	free(b->blob);
	free(b->off);
	free(b->len);
	free(b->line);
	memset(b, 0, sizeof(*b));
}

size_t eb_py_space_len(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t cp;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return (s[0] >= 0x09 && s[0] <= 0x0d) || (s[0] >= 0x1c && s[0] <= 0x20) ? 1 : 0;
	if (s[0] == 0xc2 && n >= 2)
		return s[1] == 0x85 || s[1] == 0xa0 ? 2 : 0;
	if ((s[0] & 0xf0) != 0xe0 || n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
		return 0;
	cp = (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
	    cp == 0x202f || cp == 0x205f || cp == 0x3000)
		return 3;
	return 0;
}

int eb_py_blank(const char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		k = eb_py_space_len(s + i, n - i);
		if (!k)
			return 0;
		i += k;
	}
	return 1;
}

size_t eb_py_newlines(char *s, size_t len)
{
	size_t r = 0, w = 0;

	while (r < len) {
		if (s[r] == '\r') {
			s[w++] = '\n';
			r += r + 1 < len && s[r + 1] == '\n' ? 2 : 1;
			continue;
		}
		s[w++] = s[r++];
	}
	if (w < len)
		s[w] = '\0';
	return w;
}
