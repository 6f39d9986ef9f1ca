/* fuzz_ndjson.c: the NDJSON line splitter on arbitrary bytes; fed whole, in random pieces and byte by byte, all must agree. */
#include "fuzz.h"

#include "ndjson.h"
#include "eb_util.h"

struct run {
	struct eb_buf lines; /* every line followed by NUL */
	size_t n_cb;
	int rc;
	size_t n_lines, n_blank;
};

static int line_cb(void *ud, const char *line, size_t len, struct eb_err *err)
{
	struct run *r = ud;

	(void)err;
	EB_FUZZ_CHECK(line != NULL && line[len] == '\0', "line %zu", r->n_cb);
	EB_FUZZ_CHECK(memchr(line, '\n', len) == NULL, "line %zu holds a newline", r->n_cb);
	r->n_cb++;
	eb_buf_add(&r->lines, line, len + 1);
	return 0;
}

struct feeder {
	struct eb_ndjson p;
	struct run *r;
	struct eb_err err;
};

static int feed(void *p, const char *data, size_t n)
{
	struct feeder *f = p;

	return eb_ndjson_feed(&f->p, data, n, line_cb, f->r, &f->err);
}

/* Splits data fed in pieces (eb_fuzz_feed's step). */
static void run_nd(const uint8_t *data, size_t size, size_t max, size_t step, struct run *r)
{
	struct feeder f;

	memset(r, 0, sizeof(*r));
	eb_buf_init(&r->lines, 0);
	eb_ndjson_init(&f.p, max);
	f.r = r;
	r->rc = eb_fuzz_feed(data, size, step, 16, feed, &f);
	if (r->rc == 0)
		r->rc = eb_ndjson_finish(&f.p, line_cb, r, &f.err);
	else
		EB_FUZZ_CHECK(eb_ndjson_finish(&f.p, line_cb, r, &f.err) == EB_EINVAL, "after %d",
			      r->rc);
	r->n_lines = f.p.n_lines;
	r->n_blank = f.p.n_blank;
	EB_FUZZ_CHECK(r->n_lines == r->n_cb, "%zu lines, %zu callbacks", r->n_lines, r->n_cb);
	eb_ndjson_release(&f.p);
}

static void same(const struct run *a, const struct run *b, const char *how)
{
	EB_FUZZ_CHECK(a->rc == b->rc, "%s: rc %d vs %d", how, a->rc, b->rc);
	EB_FUZZ_CHECK(a->lines.len == b->lines.len &&
			      memcmp(a->lines.buf, b->lines.buf, a->lines.len) == 0,
		      "%s: lines differ", how);
	EB_FUZZ_CHECK(a->rc != 0 || a->n_blank == b->n_blank, "%s: %zu vs %zu blank lines", how,
		      a->n_blank, b->n_blank);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[] = { 0, 16 };
	struct run whole, r;
	size_t newlines = 0;

	for (size_t i = 0; i < size; i++)
		newlines += data[i] == '\n';
	for (size_t li = 0; li < sizeof(limits) / sizeof(limits[0]); li++) {
		run_nd(data, size, limits[li], SIZE_MAX, &whole);
		/* every line is handed over or counted blank, at most one unterminated */
		EB_FUZZ_CHECK(whole.rc != 0 || whole.n_lines + whole.n_blank <= newlines + 1,
			      "%zu lines + %zu blank from %zu newlines", whole.n_lines, whole.n_blank,
			      newlines);
		run_nd(data, size, limits[li], 0, &r);
		same(&whole, &r, "random pieces");
		eb_buf_release(&r.lines);
		if (size <= 4096) {
			run_nd(data, size, limits[li], 1, &r);
			same(&whole, &r, "byte by byte");
			eb_buf_release(&r.lines);
		}
		eb_buf_release(&whole.lines);
	}
	return 0;
}
