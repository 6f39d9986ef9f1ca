/* fuzz_oai_stream.c: OpenAI / llama-server SSE streams on arbitrary bytes; whole and split runs must agree. */
#include "fuzz.h"

#include "oai_stream.h"
#include "eb_util.h"

/* Everything one run produced, comparable between runs. */
struct run {
	int rc;
	char errmsg[EB_ERR_MSG_MAX];
	struct eb_buf chunks;      /* per chunk: text, NUL, reasoning, NUL, n_tokens */
	struct eb_oai_summary sum; /* timings cleared */
	char *timings;             /* sum.timings as sorted JSON, or NULL */
};

static int chunk_cb(void *ud, const struct eb_oai_chunk *c, struct eb_err *err)
{
	struct run *r = ud;

	(void)err;
	EB_FUZZ_CHECK(c->text != NULL && c->reasoning != NULL, "chunk %zu", c->index);
	EB_FUZZ_CHECK(c->text[c->text_len] == '\0', "chunk %zu text", c->index);
	EB_FUZZ_CHECK(c->reasoning[c->reasoning_len] == '\0', "chunk %zu reasoning", c->index);
	EB_FUZZ_CHECK(c->text_len > 0 || c->reasoning_len > 0, "empty chunk %zu", c->index);
	EB_FUZZ_CHECK(c->n_tokens >= 0, "chunk %zu: n_tokens %d", c->index, c->n_tokens);
	eb_buf_add(&r->chunks, c->text, c->text_len + 1);
	eb_buf_add(&r->chunks, c->reasoning, c->reasoning_len + 1);
	eb_buf_addf(&r->chunks, "%zu:%d;", c->index, c->n_tokens);
	return 0;
}

static struct eb_err feed_err;

static int feed(void *s, const char *data, size_t n)
{
	return eb_oai_stream_feed(s, data, n, &feed_err);
}

/* Parses data fed in pieces (eb_fuzz_feed's step). */
static void run_stream(const uint8_t *data, size_t size, size_t max, size_t step, struct run *r)
{
	struct eb_oai_stream s;
	struct eb_err err;

	memset(r, 0, sizeof(*r));
	eb_buf_init(&r->chunks, 0);
	eb_err_clear(&feed_err);
	eb_oai_stream_init(&s, max, chunk_cb, r);
	r->rc = eb_fuzz_feed(data, size, step, 32, feed, &s);
	err = feed_err;
	if (r->rc == 0)
		r->rc = eb_oai_stream_finish(&s, &err);
	EB_FUZZ_CHECK(r->rc <= 0, "rc %d", r->rc);
	EB_FUZZ_CHECK(r->rc == 0 || err.msg[0], "rc %d without a message", r->rc);
	eb_strlcpy(r->errmsg, err.msg, sizeof(r->errmsg));
	r->sum = s.sum;
	r->sum.timings = NULL;
	if (s.sum.timings)
		r->timings = json_dumps(s.sum.timings, JSON_SORT_KEYS | JSON_COMPACT);
	if (r->rc == 0) {
		EB_FUZZ_CHECK(s.sum.n_chunks <= s.sum.n_events, "%zu chunks, %zu events",
			      s.sum.n_chunks, s.sum.n_events);
		EB_FUZZ_CHECK(s.sum.n_content_chunks <= s.sum.n_chunks, "content chunks");
		EB_FUZZ_CHECK(s.sum.n_multi_token_chunks <= s.sum.n_content_chunks, "multi");
		EB_FUZZ_CHECK(s.sum.finish_reason[EB_OAI_FINISH_MAX - 1] == '\0', "finish_reason");
	}
	eb_oai_stream_release(&s);
}

static void run_release(struct run *r)
{
	eb_buf_release(&r->chunks);
	free(r->timings);
	r->timings = NULL;
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
		return; /* the summary of a failed stream is incomplete by contract */
	EB_FUZZ_CHECK(a->sum.n_events == b->sum.n_events, "%s: n_events", how);
	EB_FUZZ_CHECK(a->sum.n_chunks == b->sum.n_chunks, "%s: n_chunks", how);
	EB_FUZZ_CHECK(a->sum.n_content_chunks == b->sum.n_content_chunks, "%s: content", how);
	EB_FUZZ_CHECK(a->sum.n_multi_token_chunks == b->sum.n_multi_token_chunks, "%s: multi", how);
	EB_FUZZ_CHECK(a->sum.n_tokens_reported == b->sum.n_tokens_reported, "%s: reported", how);
	EB_FUZZ_CHECK(a->sum.n_comments == b->sum.n_comments, "%s: comments", how);
	EB_FUZZ_CHECK(a->sum.prompt_tokens == b->sum.prompt_tokens, "%s: prompt_tokens", how);
	EB_FUZZ_CHECK(a->sum.completion_tokens == b->sum.completion_tokens, "%s: completion", how);
	EB_FUZZ_CHECK(a->sum.chunks_ne_tokens == b->sum.chunks_ne_tokens, "%s: ne", how);
	EB_FUZZ_CHECK(strcmp(a->sum.finish_reason, b->sum.finish_reason) == 0, "%s: finish", how);
	EB_FUZZ_CHECK(a->sum.saw_done == b->sum.saw_done, "%s: saw_done", how);
	EB_FUZZ_CHECK(a->sum.saw_stop == b->sum.saw_stop, "%s: saw_stop", how);
	EB_FUZZ_CHECK((a->timings == NULL) == (b->timings == NULL), "%s: timings", how);
	EB_FUZZ_CHECK(!a->timings || strcmp(a->timings, b->timings) == 0, "%s: timings", how);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run whole, r;

	run_stream(data, size, 0, SIZE_MAX, &whole);
	run_stream(data, size, 0, 0, &r);
	same(&whole, &r, "random pieces");
	run_release(&r);
	if (size <= 2048) {
		run_stream(data, size, 0, 1, &r);
		same(&whole, &r, "byte by byte");
		run_release(&r);
	}
	run_release(&whole);
	/* a small event limit reaches the size-limit paths */
	run_stream(data, size, 40, SIZE_MAX, &whole);
	run_release(&whole);
	return 0;
}
