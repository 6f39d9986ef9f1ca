/* fuzz_sse.c: the SSE parser on arbitrary bytes; fed whole, in random pieces and byte by byte, all must agree. */
#include "fuzz.h"

#include "sse.h"
#include "eb_util.h"

/* Every event as "name\0data\0", so two runs compare as one byte string. */
struct ev_log {
	struct eb_buf out;
	size_t n;
};

static int ev_cb(void *ud, const char *event, const char *data, size_t len, struct eb_err *err)
{
	struct ev_log *l = ud;

	(void)err;
	EB_FUZZ_CHECK(event != NULL && data != NULL, "event %zu", l->n);
	EB_FUZZ_CHECK(data[len] == '\0', "data of event %zu not NUL-terminated", l->n);
	EB_FUZZ_CHECK(event[0] != '\0', "empty event name (should be \"message\")");
	l->n++;
	eb_buf_add(&l->out, event, strlen(event) + 1);
	eb_buf_add(&l->out, data, len + 1);
	return 0;
}

struct run {
	struct ev_log log;
	int rc;
	size_t n_lines, n_comments, n_events;
};

struct feeder {
	struct eb_sse sse;
	struct ev_log *log;
	struct eb_err err;
};

static int feed(void *p, const char *data, size_t n)
{
	struct feeder *f = p;

	return eb_sse_feed(&f->sse, data, n, ev_cb, f->log, &f->err);
}

/* Parses data fed in pieces (eb_fuzz_feed's step). */
static void run_sse(const uint8_t *data, size_t size, size_t max, size_t step, struct run *r)
{
	struct feeder f;
	struct eb_sse *sse = &f.sse;
	struct eb_err *err = &f.err;

	memset(r, 0, sizeof(*r));
	eb_buf_init(&r->log.out, 0);
	eb_sse_init(sse, max);
	f.log = &r->log;
	r->rc = eb_fuzz_feed(data, size, step, 16, feed, &f);
	if (r->rc == 0)
		r->rc = eb_sse_finish(sse, ev_cb, &r->log, err);
	else /* a dead parser refuses more input */
		EB_FUZZ_CHECK(eb_sse_feed(sse, "x\n", 2, ev_cb, &r->log, err) == EB_EINVAL, "after %d",
			      r->rc);
	r->n_lines = sse->n_lines;
	r->n_comments = sse->n_comments;
	r->n_events = sse->n_events;
	EB_FUZZ_CHECK(r->rc != 0 || r->n_events == r->log.n, "%zu events, %zu callbacks",
		      r->n_events, r->log.n);
	EB_FUZZ_CHECK(r->n_comments <= r->n_lines, "%zu comments in %zu lines", r->n_comments,
		      r->n_lines);
	eb_sse_release(sse);
}

static void same(const struct run *a, const struct run *b, const char *how)
{
	EB_FUZZ_CHECK(a->rc == b->rc, "%s: rc %d vs %d", how, a->rc, b->rc);
	EB_FUZZ_CHECK(a->log.out.len == b->log.out.len &&
			      memcmp(a->log.out.buf, b->log.out.buf, a->log.out.len) == 0,
		      "%s: events differ", how);
	if (a->rc == 0) {
		EB_FUZZ_CHECK(a->n_lines == b->n_lines, "%s: %zu vs %zu lines", how, a->n_lines,
			      b->n_lines);
		EB_FUZZ_CHECK(a->n_comments == b->n_comments, "%s: comments", how);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the default limit, and a small one so that the limit paths are reached too */
	static const size_t limits[] = { 0, 24 };
	struct run whole, r;

	for (size_t li = 0; li < sizeof(limits) / sizeof(limits[0]); li++) {
		run_sse(data, size, limits[li], SIZE_MAX, &whole);
		run_sse(data, size, limits[li], 0, &r);
		same(&whole, &r, "random pieces");
		eb_buf_release(&r.log.out);
		if (size <= 4096) {
			run_sse(data, size, limits[li], 1, &r);
			same(&whole, &r, "byte by byte");
			eb_buf_release(&r.log.out);
		}
		eb_buf_release(&whole.log.out);
	}
	return 0;
}
