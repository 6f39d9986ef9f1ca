/* ndjson.c: incremental newline-delimited JSON line splitter (see ndjson.h). */
#include "ndjson.h"

#include <string.h>

void eb_ndjson_init(struct eb_ndjson *p, size_t max_line_bytes)
{
	if (max_line_bytes == 0)
		max_line_bytes = EB_NDJSON_MAX_LINE_DEFAULT;
	memset(p, 0, sizeof(*p));
	p->max_line_bytes = max_line_bytes;
	/* one byte more for a '\r' that is dropped when the '\n' arrives */
	eb_buf_init(&p->line, max_line_bytes + 1);
}

void eb_ndjson_release(struct eb_ndjson *p)
{
	eb_buf_release(&p->line);
}

static int eb_ndjson_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	}
	return 1;
}

/* Hands the assembled line to `cb` and empties the buffer. */
static int eb_ndjson_emit(struct eb_ndjson *p, eb_ndjson_line_cb cb, void *ud,
			  struct eb_err *err)
{
	struct eb_buf *b = &p->line;
	int ret = 0;

	if (b->len > 0 && b->buf[b->len - 1] == '\r') {
		b->len--;
		b->buf[b->len] = '\0';
	}
	if (b->len > p->max_line_bytes) {
		ret = eb_err_set(err, EB_EPROTO, "ndjson line longer than the limit of %zu bytes",
				 p->max_line_bytes);
		p->failed = 1;
		goto out;
	}
	if (eb_ndjson_blank(b->buf, b->len)) {
		p->n_blank++;
		goto out;
	}
	p->n_lines++;
	ret = cb(ud, b->buf, b->len, err);
	if (ret != 0)
		p->failed = 1;
out:
	eb_buf_reset(b);
	return ret;
}

int eb_ndjson_feed(struct eb_ndjson *p, const char *data, size_t n, eb_ndjson_line_cb cb,
		   void *ud, struct eb_err *err)
{
	const char *nl;
	size_t i = 0, k;
	int ret = 0;

	if (p->failed)
		return eb_err_set(err, EB_EINVAL, "ndjson parser used after an error");
	while (i < n) {
		nl = memchr(data + i, '\n', n - i);
		k = nl ? (size_t)(nl - (data + i)) : n - i;
		if (k > 0 && eb_buf_add(&p->line, data + i, k) != 0) {
			ret = eb_err_set(err, EB_EPROTO,
					 "ndjson line longer than the limit of %zu bytes",
					 p->max_line_bytes);
			p->failed = 1;
			goto out;
		}
		if (!nl)
			break;
		i += k + 1;
		ret = eb_ndjson_emit(p, cb, ud, err);
		if (ret != 0)
			goto out;
	}
out:
	return ret;
}

int eb_ndjson_finish(struct eb_ndjson *p, eb_ndjson_line_cb cb, void *ud, struct eb_err *err)
{
	if (p->failed)
		return eb_err_set(err, EB_EINVAL, "ndjson parser used after an error");
	if (p->line.len == 0)
		return 0;
	return eb_ndjson_emit(p, cb, ud, err);
}
