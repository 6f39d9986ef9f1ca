/* fuzz_ollama_stream.c: Ollama / hailo-ollama NDJSON streams on arbitrary bytes; whole and split runs must agree. */
#include "fuzz.h"

#include "ollama_stream.h"
#include "eb_util.h"

struct run {
	int rc;
	char errmsg[EB_ERR_MSG_MAX];
	struct eb_buf chunks; /* per chunk: text, NUL, thinking, NUL, index:done; */
	struct eb_ollama_summary sum;
};

static int chunk_cb(void *ud, const struct eb_ollama_chunk *c, struct eb_err *err)
{
	struct run *r = ud;

	(void)err;
	EB_FUZZ_CHECK(c->text != NULL && c->thinking != NULL, "chunk %zu", c->index);
	EB_FUZZ_CHECK(c->text[c->text_len] == '\0', "chunk %zu text", c->index);
	EB_FUZZ_CHECK(c->thinking[c->thinking_len] == '\0', "chunk %zu thinking", c->index);
	eb_buf_add(&r->chunks, c->text, c->text_len + 1);
	eb_buf_add(&r->chunks, c->thinking, c->thinking_len + 1);
	eb_buf_addf(&r->chunks, "%zu:%d;", c->index, c->done);
	return 0;
}

static struct eb_err feed_err;

static int feed(void *s, const char *data, size_t n)
{
	return eb_ollama_stream_feed(s, data, n, &feed_err);
}

/* Parses data fed in pieces (eb_fuzz_feed's step). */
static void run_stream(const uint8_t *data, size_t size, size_t max, size_t step, struct run *r)
{
	struct eb_ollama_stream s;
	struct eb_err err;

	memset(r, 0, sizeof(*r));
	eb_buf_init(&r->chunks, 0);
	eb_err_clear(&feed_err);
	eb_ollama_stream_init(&s, max, chunk_cb, r);
	r->rc = eb_fuzz_feed(data, size, step, 32, feed, &s);
	err = feed_err;
	if (r->rc == 0)
		r->rc = eb_ollama_stream_finish(&s, &err);
	EB_FUZZ_CHECK(r->rc <= 0, "rc %d", r->rc);
	EB_FUZZ_CHECK(r->rc == 0 || err.msg[0], "rc %d without a message", r->rc);
	eb_strlcpy(r->errmsg, err.msg, sizeof(r->errmsg));
	r->sum = s.sum;
	if (r->rc == 0) {
		EB_FUZZ_CHECK(s.sum.n_content_chunks <= s.sum.n_lines, "%zu chunks, %zu lines",
			      s.sum.n_content_chunks, s.sum.n_lines);
		EB_FUZZ_CHECK(s.sum.done_reason[EB_OLLAMA_REASON_MAX - 1] == '\0', "done_reason");
	}
	eb_ollama_stream_release(&s);
}

static void same(const struct run *a, const struct run *b, const char *how)
{
	EB_FUZZ_CHECK(a->rc == b->rc, "%s: rc %d vs %d (%s)", how, a->rc, b->rc, b->errmsg);
	EB_FUZZ_CHECK(strcmp(a->errmsg, b->errmsg) == 0, "%s: '%s' vs '%s'", how, a->errmsg,
		      b->errmsg);
	EB_FUZZ_CHECK(a->chunks.len == b->chunks.len &&
			      memcmp(a->chunks.buf, b->chunks.buf, a->chunks.len) == 0,
		      "%s: chunks differ", how);
	if (a->rc != 0)
		return;
	EB_FUZZ_CHECK(a->sum.n_lines == b->sum.n_lines &&
			       a->sum.n_content_chunks == b->sum.n_content_chunks &&
			       a->sum.saw_done == b->sum.saw_done &&
			       strcmp(a->sum.done_reason, b->sum.done_reason) == 0 &&
			       a->sum.total_duration == b->sum.total_duration &&
			       a->sum.load_duration == b->sum.load_duration &&
			       a->sum.prompt_eval_count == b->sum.prompt_eval_count &&
			       a->sum.prompt_eval_duration == b->sum.prompt_eval_duration &&
			       a->sum.eval_count == b->sum.eval_count &&
			       a->sum.eval_duration == b->sum.eval_duration &&
			       a->sum.chunks_ne_tokens == b->sum.chunks_ne_tokens,
		      "%s: summaries differ", how);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run whole, r;

	run_stream(data, size, 0, SIZE_MAX, &whole);
	run_stream(data, size, 0, 0, &r);
	same(&whole, &r, "random pieces");
	eb_buf_release(&r.chunks);
	if (size <= 2048) {
		run_stream(data, size, 0, 1, &r);
		same(&whole, &r, "byte by byte");
		eb_buf_release(&r.chunks);
	}
	eb_buf_release(&whole.chunks);
	/* a small line limit reaches the size-limit path */
	run_stream(data, size, 40, SIZE_MAX, &whole);
	eb_buf_release(&whole.chunks);
	return 0;
}
