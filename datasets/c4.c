/* c4.c: the C4 json.gz loader and GPTQ's validation window sampler (see c4.h). */
#include "c4.h"
#include "pyrandom.h"

#include "eb_util.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define EB_C4_LINE_MAX ((size_t)256 << 20)

/* Reads one line (without its "\n") into b; 1 when a line was read, 0 at EOF, <0 error. */
static int eb_gz_line(gzFile gz, struct eb_buf *b)
{
	char chunk[1 << 16];
	int got = 0;

	eb_buf_reset(b);
	while (gzgets(gz, chunk, sizeof(chunk))) {
		size_t n = strlen(chunk);

		got = 1;
		if (n && chunk[n - 1] == '\n') {
			eb_buf_add(b, chunk, n - 1);
			return 1;
		}
		if (eb_buf_add(b, chunk, n) != 0)
			return -2;
	}
	{
		int zerr;

		gzerror(gz, &zerr);
		if (zerr != Z_OK && zerr != Z_BUF_ERROR)
			return -1;
	}
	return got;
}

int eb_c4_load(const char *path, size_t max_docs, struct eb_docs *docs, struct eb_err *err)
{
	struct eb_docs_builder bld;
	struct eb_buf line;
	gzFile gz;
	size_t lineno = 0;
	int rc, ret = 0;

	memset(docs, 0, sizeof(*docs));
	gz = gzopen(path, "rb");
	if (!gz)
		return eb_err_set(err, errno == ENOENT ? EB_ENOENT : EB_EIO, "cannot open '%s': %s",
				  path, errno ? strerror(errno) : "out of memory");
	eb_buf_init(&line, EB_C4_LINE_MAX);
	eb_docs_builder_init(&bld);
	while ((rc = eb_gz_line(gz, &line)) > 0) {
		json_error_t jerr;
		json_t *o, *t;

		lineno++;
		if (eb_py_blank(line.buf, line.len))
			continue;
		o = json_loadb(line.buf, line.len, 0, &jerr);
		if (!o) {
			ret = eb_err_set(err, EB_EPARSE, "%s:%zu:%d: invalid json: %s", path, lineno,
					 jerr.column, jerr.text);
			goto out;
		}
		t = json_object_get(o, "text");
		if (!json_is_object(o) || !t) {
			json_decref(o);
			ret = eb_err_set(err, EB_EPARSE, "%s:%zu: missing 'text'", path, lineno);
			goto out;
		}
		if (!json_is_string(t)) {
			json_decref(o);
			ret = eb_err_set(err, EB_EPARSE, "%s:%zu: 'text' is not a string", path, lineno);
			goto out;
		}
		eb_docs_builder_add(&bld, json_string_value(t), json_string_length(t), lineno);
		json_decref(o);
		if (max_docs && bld.n == max_docs)
			break;
	}
	if (rc == -2) {
		ret = eb_err_set(err, EB_EPARSE, "%s:%zu: line longer than %zu bytes", path,
				 lineno + 1, EB_C4_LINE_MAX);
		goto out;
	}
	if (rc < 0) {
		int zerr;
		const char *msg = gzerror(gz, &zerr);

		ret = eb_err_set(err, EB_EPARSE, "cannot gunzip '%s' (after line %zu): %s", path,
				 lineno, zerr == Z_ERRNO ? strerror(errno) : msg);
		goto out;
	}
	if (bld.n == 0) {
		ret = eb_err_set(err, EB_EPARSE, "'%s' has no documents", path);
		goto out;
	}
	eb_docs_builder_finish(&bld, docs);
out:
	eb_docs_builder_release(&bld);
	eb_buf_release(&line);
	gzclose(gz);
	return ret;
}

int eb_c4_gptq_windows(size_t n_docs, size_t seqlen, size_t n_windows, uint64_t seed,
		       eb_c4_ntok_fn ntok, void *ud, struct eb_c4_window *out, struct eb_err *err)
{
	struct eb_pyrandom r;
	unsigned char *tried = NULL;
	size_t n_tried = 0;
	int found_any = 0, ret = 0;

	if (n_docs == 0)
		return eb_err_set(err, EB_EINVAL, "no documents to sample windows from");
	eb_pyrandom_seed_u64(&r, seed);
	tried = eb_xcalloc(n_docs, 1);
	for (size_t k = 0; k < n_windows; k++) {
		int64_t i, j;
		size_t n = 0;

		for (;;) {
			ret = eb_pyrandom_randint(&r, 0, (int64_t)n_docs - 1, &i, err);
			if (ret)
				goto out;
			ret = ntok(ud, (size_t)i, &n, err);
			if (ret)
				goto out;
			if (n > seqlen) {
				found_any = 1;
				break;
			}
			if (!tried[i]) {
				tried[i] = 1;
				n_tried++;
			}
			if (!found_any && n_tried == n_docs) {
				ret = eb_err_set(err, EB_EINVAL,
						 "no document has more than %zu tokens (seqlen); "
						 "GPTQ's sampler would never finish",
						 seqlen);
				goto out;
			}
		}
		ret = eb_pyrandom_randint(&r, 0, (int64_t)(n - seqlen - 1), &j, err);
		if (ret)
			goto out;
		out[k].doc = (size_t)i;
		out[k].start = (size_t)j;
	}
out:
	free(tried);
	return ret;
}
