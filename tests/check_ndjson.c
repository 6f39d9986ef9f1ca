/* ctest: labels=unit timeout=120 */
/* check_ndjson.c: the NDJSON line splitter and the Ollama stream layer, on recorded streams and edge cases. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ndjson.h"
#include "ollama_stream.h"
#include "eb_util.h"

/* ---- raw lines ------------------------------------------------------------------ */

struct line_log {
	struct eb_buf out;  /* every line followed by '|' */
	int n;
};

static int line_cb(void *ud, const char *line, size_t len, struct eb_err *err)
{
	struct line_log *l = ud;

	l->n++;
	ck_assert_uint_eq(strlen(line), len);
	eb_buf_add(&l->out, line, len);
	eb_buf_addstr(&l->out, "|");
	return 0;
}

/* Splits `in` fed whole (step 0), in `step`-byte pieces, or once at `cut`. */
static int nd_run(const char *in, size_t cut, size_t step, size_t max, struct line_log *l,
		  struct eb_err *err)
{
	struct eb_ndjson p;
	size_t n = strlen(in), i, k;
	int rc = 0;

	eb_buf_init(&l->out, 0);
	l->n = 0;
	eb_err_clear(err);
	eb_ndjson_init(&p, max);
	if (cut) {
		rc = eb_ndjson_feed(&p, in, cut, line_cb, l, err);
		if (rc == 0)
			rc = eb_ndjson_feed(&p, in + cut, n - cut, line_cb, l, err);
	} else {
		for (i = 0; i < n && rc == 0; i += k) {
			k = step && step < n - i ? step : n - i;
			rc = eb_ndjson_feed(&p, in + i, k, line_cb, l, err);
		}
	}
	if (rc == 0)
		rc = eb_ndjson_finish(&p, line_cb, l, err);
	if (rc == 0)
		ck_assert_uint_eq(p.n_lines, (size_t)l->n);
	eb_ndjson_release(&p);
	return rc;
}

static void nd_expect(const char *in, const char *want)
{
	struct line_log l;
	struct eb_err err;
	size_t cut, n = strlen(in);

	ck_assert_int_eq(nd_run(in, 0, 0, 0, &l, &err), 0);
	ck_assert_str_eq(l.out.buf, want);
	eb_buf_release(&l.out);
	ck_assert_int_eq(nd_run(in, 0, 1, 0, &l, &err), 0);
	ck_assert_str_eq(l.out.buf, want);
	eb_buf_release(&l.out);
	for (cut = 1; cut < n; cut++) {
		ck_assert_int_eq(nd_run(in, cut, 0, 0, &l, &err), 0);
		ck_assert_msg(strcmp(l.out.buf, want) == 0, "cut %zu: '%s'", cut, l.out.buf);
		eb_buf_release(&l.out);
	}
}

START_TEST(nd_lines)
{
	nd_expect("{\"a\":1}\n{\"b\":2}\n", "{\"a\":1}|{\"b\":2}|");
	nd_expect("{\"a\":1}\r\n{\"b\":2}\r\n", "{\"a\":1}|{\"b\":2}|");
	/* a last line without newline, with and without '\r' */
	nd_expect("{\"a\":1}\n{\"b\":2}", "{\"a\":1}|{\"b\":2}|");
	nd_expect("{\"a\":1}\r\n{\"b\":2}\r", "{\"a\":1}|{\"b\":2}|");
	/* blank lines are skipped */
	nd_expect("\n\r\n{\"a\":1}\n\n  \t\r\n{\"b\":2}\n\n", "{\"a\":1}|{\"b\":2}|");
	nd_expect("", "");
	nd_expect("\r\n\n", "");
	/* a '\r' inside a line is data */
	nd_expect("a\rb\n", "a\rb|");
}
END_TEST

START_TEST(nd_crlf_split_between_feeds)
{
	struct line_log l;
	struct eb_ndjson p;
	struct eb_err err;

	eb_buf_init(&l.out, 0);
	l.n = 0;
	eb_ndjson_init(&p, 0);
	ck_assert_int_eq(eb_ndjson_feed(&p, "{\"x\":", 5, line_cb, &l, &err), 0);
	ck_assert_int_eq(eb_ndjson_feed(&p, "1}\r", 3, line_cb, &l, &err), 0);
	ck_assert_int_eq(l.n, 0);
	ck_assert_int_eq(eb_ndjson_feed(&p, "\n{\"y\"", 5, line_cb, &l, &err), 0);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(eb_ndjson_feed(&p, ":2}\r", 4, line_cb, &l, &err), 0);
	ck_assert_int_eq(eb_ndjson_finish(&p, line_cb, &l, &err), 0);
	ck_assert_str_eq(l.out.buf, "{\"x\":1}|{\"y\":2}|");
	eb_ndjson_release(&p);
	eb_buf_release(&l.out);
}
END_TEST

START_TEST(nd_oversize_line)
{
	struct line_log l;
	struct eb_err err;
	size_t step;

	for (step = 0; step <= 1; step++) {
		ck_assert_int_eq(nd_run("0123456789\n01234567890123\n", 0, step, 12, &l, &err),
				 EB_EPROTO);
		ck_assert_str_eq(err.msg, "ndjson line longer than the limit of 12 bytes");
		ck_assert_str_eq(l.out.buf, "0123456789|");
		eb_buf_release(&l.out);
		/* without a newline too */
		ck_assert_int_eq(nd_run("01234567890123456789", 0, step, 12, &l, &err),
				 EB_EPROTO);
		eb_buf_release(&l.out);
		/* exactly at the limit, "\r\n" not counted */
		ck_assert_int_eq(nd_run("012345678901\r\n012345678901", 0, step, 12, &l, &err), 0);
		ck_assert_str_eq(l.out.buf, "012345678901|012345678901|");
		eb_buf_release(&l.out);
	}
}
END_TEST

/* ---- Ollama streams ------------------------------------------------------------- */

struct oll_res {
	int rc;
	char errmsg[EB_ERR_MSG_MAX];
	struct eb_buf text;
	struct eb_buf thinking;
	struct eb_ollama_summary sum;
	int n_done_chunks;
};

static int oll_cb(void *ud, const struct eb_ollama_chunk *c, struct eb_err *err)
{
	struct oll_res *r = ud;

	ck_assert(c->text != NULL);
	ck_assert(c->thinking != NULL);
	ck_assert(c->text_len > 0 || c->thinking_len > 0);
	ck_assert_uint_eq(c->index, r->sum.n_content_chunks);
	eb_buf_add(&r->text, c->text, c->text_len);
	eb_buf_add(&r->thinking, c->thinking, c->thinking_len);
	r->sum.n_content_chunks++;
	if (c->done)
		r->n_done_chunks++;
	return 0;
}

static void oll_run(const char *in, size_t n, size_t cut, size_t step, struct oll_res *r)
{
	struct eb_ollama_stream s;
	struct eb_err err;
	size_t i, k;

	memset(r, 0, sizeof(*r));
	eb_buf_init(&r->text, 0);
	eb_buf_init(&r->thinking, 0);
	eb_err_clear(&err);
	eb_ollama_stream_init(&s, 0, oll_cb, r);
	if (cut) {
		r->rc = eb_ollama_stream_feed(&s, in, cut, &err);
		if (r->rc == 0)
			r->rc = eb_ollama_stream_feed(&s, in + cut, n - cut, &err);
	} else {
		for (i = 0; i < n && r->rc == 0; i += k) {
			k = step && step < n - i ? step : n - i;
			r->rc = eb_ollama_stream_feed(&s, in + i, k, &err);
		}
	}
	if (r->rc == 0)
		r->rc = eb_ollama_stream_finish(&s, &err);
	eb_strlcpy(r->errmsg, err.msg, sizeof(r->errmsg));
	/* the callback counted content chunks too: both counts must agree */
	ck_assert_uint_eq(r->sum.n_content_chunks, s.sum.n_content_chunks);
	r->sum = s.sum;
	eb_ollama_stream_release(&s);
}

static void oll_res_release(struct oll_res *r)
{
	eb_buf_release(&r->text);
	eb_buf_release(&r->thinking);
}

static void oll_res_same(const struct oll_res *a, const struct oll_res *b, const char *how)
{
	ck_assert_msg(a->rc == b->rc, "%s: rc %d vs %d (%s)", how, a->rc, b->rc, b->errmsg);
	ck_assert_msg(strcmp(a->errmsg, b->errmsg) == 0, "%s: error message", how);
	ck_assert_msg(strcmp(a->text.buf, b->text.buf) == 0, "%s: text", how);
	ck_assert_msg(strcmp(a->thinking.buf, b->thinking.buf) == 0, "%s: thinking", how);
	ck_assert_msg(a->n_done_chunks == b->n_done_chunks, "%s: done chunks", how);
	ck_assert_msg(a->sum.n_lines == b->sum.n_lines, "%s: n_lines", how);
	ck_assert_msg(a->sum.n_content_chunks == b->sum.n_content_chunks, "%s: content", how);
	ck_assert_msg(a->sum.saw_done == b->sum.saw_done, "%s: saw_done", how);
	ck_assert_msg(strcmp(a->sum.done_reason, b->sum.done_reason) == 0, "%s: reason", how);
	ck_assert_msg(a->sum.total_duration == b->sum.total_duration, "%s: total", how);
	ck_assert_msg(a->sum.load_duration == b->sum.load_duration, "%s: load", how);
	ck_assert_msg(a->sum.prompt_eval_count == b->sum.prompt_eval_count, "%s: pe count", how);
	ck_assert_msg(a->sum.prompt_eval_duration == b->sum.prompt_eval_duration, "%s: pe dur",
		      how);
	ck_assert_msg(a->sum.eval_count == b->sum.eval_count, "%s: eval_count", how);
	ck_assert_msg(a->sum.eval_duration == b->sum.eval_duration, "%s: eval_duration", how);
	ck_assert_msg(a->sum.chunks_ne_tokens == b->sum.chunks_ne_tokens, "%s: ne", how);
}

static void oll_all_splits(const char *in, size_t n, struct oll_res *whole)
{
	struct oll_res r;
	char how[64];
	size_t cut;

	oll_run(in, n, 0, 0, whole);
	for (cut = 1; cut < n; cut++) {
		oll_run(in, n, cut, 0, &r);
		snprintf(how, sizeof(how), "split at %zu", cut);
		oll_res_same(whole, &r, how);
		oll_res_release(&r);
	}
	oll_run(in, n, 0, 1, &r);
	oll_res_same(whole, &r, "byte by byte");
	oll_res_release(&r);
}

static void oll_text(const char *in, struct oll_res *whole)
{
	oll_all_splits(in, strlen(in), whole);
}

static char *load_fixture(const char *name, size_t *len)
{
	char rel[256], path[4096];
	struct eb_err err;
	char *data = NULL;

	snprintf(rel, sizeof(rel), "streams/%s", name);
	if (eb_read_file(eb_test_data(rel, path, sizeof(path)), 1 << 20, &data, len, &err) != 0)
		ck_abort_msg("%s", err.msg);
	return data;
}

START_TEST(oll_fixture_ollama_generate)
{
	struct oll_res r;
	size_t len;
	char *data = load_fixture("ollama-generate.ndjson", &len);

	oll_all_splits(data, len, &r);
	ck_assert_msg(r.rc == 0, "%s", r.errmsg);
	ck_assert_str_eq(r.text.buf, "The sky");
	ck_assert_uint_eq(r.sum.n_lines, 3);
	ck_assert_uint_eq(r.sum.n_content_chunks, 2);
	ck_assert_int_eq(r.n_done_chunks, 0);
	ck_assert_int_eq(r.sum.saw_done, 1);
	ck_assert_str_eq(r.sum.done_reason, "stop");
	ck_assert_int_eq(r.sum.total_duration, 182242375LL);
	ck_assert_int_eq(r.sum.load_duration, 41295167LL);
	ck_assert_int_eq(r.sum.prompt_eval_count, 169);
	ck_assert_int_eq(r.sum.prompt_eval_duration, 24573166LL);
	ck_assert_int_eq(r.sum.eval_count, 15);
	ck_assert_int_eq(r.sum.eval_duration, 115959084LL);
	/* a shortened documentation example: 2 chunks, eval_count 15 */
	ck_assert_int_eq(r.sum.chunks_ne_tokens, 1);
	oll_res_release(&r);

	/* without the final newline: the last line still counts */
	ck_assert_int_eq(data[len - 1], '\n');
	oll_all_splits(data, len - 1, &r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(r.sum.eval_duration, 115959084LL);
	oll_res_release(&r);
	free(data);
}
END_TEST

START_TEST(oll_fixture_hailo_crlf)
{
	struct oll_res r;
	size_t len;
	char *data = load_fixture("hailo-ollama-generate.ndjson", &len);

	ck_assert_ptr_nonnull(strstr(data, "\r\n"));
	oll_all_splits(data, len, &r);
	ck_assert_msg(r.rc == 0, "%s", r.errmsg);
	ck_assert_str_eq(r.text.buf, "The");
	ck_assert_uint_eq(r.sum.n_lines, 2);
	ck_assert_uint_eq(r.sum.n_content_chunks, 1);
	ck_assert_int_eq(r.sum.saw_done, 1);
	ck_assert_str_eq(r.sum.done_reason, "length");
	ck_assert_int_eq(r.sum.total_duration, 1234567890LL);
	ck_assert_int_eq(r.sum.eval_count, 12);
	/* never sent: absent, not 0 */
	ck_assert_int_eq(r.sum.load_duration, -1);
	ck_assert_int_eq(r.sum.prompt_eval_count, -1);
	ck_assert_int_eq(r.sum.prompt_eval_duration, -1);
	ck_assert_int_eq(r.sum.eval_duration, -1);
	ck_assert_int_eq(r.sum.chunks_ne_tokens, 1);
	oll_res_release(&r);
	free(data);
}
END_TEST

START_TEST(oll_final_only_total_and_eval_count)
{
	struct oll_res r;

	oll_text("{\"response\":\"a\",\"done\":false}\n"
		 "{\"response\":\"b\",\"done\":false}\n"
		 "{\"response\":\"\",\"done\":true,\"total_duration\":900,\"eval_count\":2}\n", &r);
	ck_assert_msg(r.rc == 0, "%s", r.errmsg);
	ck_assert_str_eq(r.text.buf, "ab");
	ck_assert_int_eq(r.sum.total_duration, 900);
	ck_assert_int_eq(r.sum.eval_count, 2);
	ck_assert_int_eq(r.sum.load_duration, -1);
	ck_assert_int_eq(r.sum.prompt_eval_count, -1);
	ck_assert_int_eq(r.sum.prompt_eval_duration, -1);
	ck_assert_int_eq(r.sum.eval_duration, -1);
	ck_assert_str_eq(r.sum.done_reason, "");
	ck_assert_int_eq(r.sum.chunks_ne_tokens, 0);
	oll_res_release(&r);

	/* an explicit 0 is present, a null is absent */
	oll_text("{\"response\":\"\",\"done\":true,\"load_duration\":0,\"eval_duration\":null}", &r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(r.sum.load_duration, 0);
	ck_assert_int_eq(r.sum.eval_duration, -1);
	ck_assert_int_eq(r.sum.eval_count, -1);
	ck_assert_int_eq(r.sum.chunks_ne_tokens, 0);
	oll_res_release(&r);

	/* reals are truncated; one beyond long long is absent (fuzz_ollama_stream: 1e82
	   was cast, undefined behaviour) */
	oll_text("{\"response\":\"\",\"done\":true,\"eval_count\":1e82,"
		 "\"total_duration\":-9.3e18,\"load_duration\":12.9}", &r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(r.sum.eval_count, -1);
	ck_assert_int_eq(r.sum.total_duration, -1);
	ck_assert_int_eq(r.sum.load_duration, 12);
	oll_res_release(&r);
}
END_TEST

START_TEST(oll_chat_and_thinking)
{
	struct oll_res r;

	oll_text("{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":\"hmm\"},\"done\":false}\r\n"
		 "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"done\":false}\r\n"
		 "\r\n"
		 "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"lo\"},\"done\":false}\r\n"
		 "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"!\"},\"done\":true,"
		 "\"done_reason\":\"length\",\"total_duration\":5000,\"prompt_eval_count\":7,"
		 "\"eval_count\":4,\"eval_duration\":3000}\r\n", &r);
	ck_assert_msg(r.rc == 0, "%s", r.errmsg);
	ck_assert_str_eq(r.text.buf, "Hello!");
	ck_assert_str_eq(r.thinking.buf, "hmm");
	ck_assert_uint_eq(r.sum.n_lines, 4);
	ck_assert_uint_eq(r.sum.n_content_chunks, 4);
	ck_assert_int_eq(r.n_done_chunks, 1);
	ck_assert_str_eq(r.sum.done_reason, "length");
	ck_assert_int_eq(r.sum.prompt_eval_count, 7);
	ck_assert_int_eq(r.sum.eval_count, 4);
	ck_assert_int_eq(r.sum.eval_duration, 3000);
	ck_assert_int_eq(r.sum.load_duration, -1);
	ck_assert_int_eq(r.sum.chunks_ne_tokens, 0);
	oll_res_release(&r);
}
END_TEST

START_TEST(oll_error_lines)
{
	struct oll_res r;

	oll_text("{\"error\":\"model 'llama9' not found, try pulling it first\"}\n", &r);
	ck_assert_int_eq(r.rc, EB_EADAPTER);
	ck_assert_str_eq(r.errmsg, "server error: model 'llama9' not found, try pulling it first");
	oll_res_release(&r);

	/* after some output */
	oll_text("{\"response\":\"x\",\"done\":false}\n{\"error\":\"out of memory\"}\n"
		 "{\"response\":\"y\",\"done\":false}\n", &r);
	ck_assert_int_eq(r.rc, EB_EADAPTER);
	ck_assert_str_eq(r.errmsg, "server error: out of memory");
	ck_assert_str_eq(r.text.buf, "x");
	oll_res_release(&r);
}
END_TEST

START_TEST(oll_invalid_json)
{
	struct oll_res r;

	oll_text("{\"response\":\"x\",\"done\":false}\n{\"response\":\"y\",\"do\n", &r);
	ck_assert_int_eq(r.rc, EB_EPARSE);
	ck_assert_msg(strncmp(r.errmsg, "invalid json in ndjson line 2", 29) == 0, "%s", r.errmsg);
	ck_assert_msg(strstr(r.errmsg, "'{\"response\":\"y\",\"do'") != NULL, "%s", r.errmsg);
	ck_assert_str_eq(r.text.buf, "x");
	oll_res_release(&r);

	oll_text("[1,2]\n", &r);
	ck_assert_int_eq(r.rc, EB_EPARSE);
	ck_assert_str_eq(r.errmsg, "ndjson line 1 is not a json object: '[1,2]'");
	oll_res_release(&r);

	/* a truncated last line, seen at finish */
	oll_text("{\"response\":\"x\",\"done\":false}\n{\"resp", &r);
	ck_assert_int_eq(r.rc, EB_EPARSE);
	oll_res_release(&r);
}
END_TEST

START_TEST(oll_no_done)
{
	struct oll_res r;

	oll_text("{\"response\":\"a\",\"done\":false}\n", &r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(r.sum.saw_done, 0);
	ck_assert_int_eq(r.sum.eval_count, -1);
	ck_assert_int_eq(r.sum.total_duration, -1);
	oll_res_release(&r);
}
END_TEST

static Suite *ndjson_suite(void)
{
	Suite *s = suite_create("ndjson");
	TCase *tc = tcase_create("ndjson");
	TCase *to = tcase_create("ollama_stream");

	tcase_add_test(tc, nd_lines);
	tcase_add_test(tc, nd_crlf_split_between_feeds);
	tcase_add_test(tc, nd_oversize_line);
	suite_add_tcase(s, tc);

	tcase_add_test(to, oll_fixture_ollama_generate);
	tcase_add_test(to, oll_fixture_hailo_crlf);
	tcase_add_test(to, oll_final_only_total_and_eval_count);
	tcase_add_test(to, oll_chat_and_thinking);
	tcase_add_test(to, oll_error_lines);
	tcase_add_test(to, oll_invalid_json);
	tcase_add_test(to, oll_no_done);
	suite_add_tcase(s, to);
	return s;
}

int main(void)
{
	return eb_test_main(ndjson_suite());
}
