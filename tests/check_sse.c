/* ctest: labels=unit timeout=120 */
/* check_sse.c: the SSE parser and the OpenAI/llama-server stream layer, on recorded streams and edge cases. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oai_stream.h"
#include "sse.h"
#include "eb_util.h"

/* ---- raw SSE events ------------------------------------------------------------- */

/* Every event as "name|data" lines, so results of two runs compare as one string. */
struct ev_log {
	struct eb_buf out;
	int fail_at;   /* return an error from this (1-based) event, 0 = never */
	int n;
};

static int ev_log_cb(void *ud, const char *event, const char *data, size_t len,
		     struct eb_err *err)
{
	struct ev_log *l = ud;

	l->n++;
	ck_assert_uint_eq(strlen(data), len);
	eb_buf_addstr(&l->out, event);
	eb_buf_addstr(&l->out, "|");
	eb_buf_add(&l->out, data, len);
	eb_buf_addstr(&l->out, "\n");
	if (l->fail_at == l->n)
		return eb_err_set(err, EB_EINTR, "stopped by the callback");
	return 0;
}

/* Parses `in` fed in pieces of `step` bytes (0 = whole); returns feed/finish's code. */
static int sse_run(const char *in, size_t step, size_t max, struct ev_log *l,
		   struct eb_sse *sse, struct eb_err *err)
{
	size_t n = strlen(in), i, k;
	int rc = 0;

	eb_buf_init(&l->out, 0);
	l->n = 0;
	eb_sse_init(sse, max);
	eb_err_clear(err);
	for (i = 0; i < n && rc == 0; i += k) {
		k = step && step < n - i ? step : n - i;
		rc = eb_sse_feed(sse, in + i, k, ev_log_cb, l, err);
	}
	if (rc == 0)
		rc = eb_sse_finish(sse, ev_log_cb, l, err);
	return rc;
}

/* Parses `in` whole, two ways split at every byte and byte by byte; all must agree. */
static void sse_expect(const char *in, const char *want, size_t want_comments)
{
	struct ev_log l = { .fail_at = 0 };
	struct eb_sse sse;
	struct eb_err err;
	size_t n = strlen(in), cut;
	int rc;

	rc = sse_run(in, 0, 0, &l, &sse, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_str_eq(l.out.buf, want);
	ck_assert_uint_eq(sse.n_comments, want_comments);
	eb_sse_release(&sse);
	eb_buf_release(&l.out);

	rc = sse_run(in, 1, 0, &l, &sse, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_str_eq(l.out.buf, want);
	ck_assert_uint_eq(sse.n_comments, want_comments);
	eb_sse_release(&sse);
	eb_buf_release(&l.out);

	for (cut = 1; cut < n; cut++) {
		eb_buf_init(&l.out, 0);
		l.n = 0;
		eb_sse_init(&sse, 0);
		rc = eb_sse_feed(&sse, in, cut, ev_log_cb, &l, &err);
		if (rc == 0)
			rc = eb_sse_feed(&sse, in + cut, n - cut, ev_log_cb, &l, &err);
		if (rc == 0)
			rc = eb_sse_finish(&sse, ev_log_cb, &l, &err);
		ck_assert_msg(rc == 0, "cut %zu: %s", cut, err.msg);
		ck_assert_msg(strcmp(l.out.buf, want) == 0, "cut %zu: got '%s'", cut, l.out.buf);
		eb_sse_release(&sse);
		eb_buf_release(&l.out);
	}
}

START_TEST(sse_basic_fields)
{
	sse_expect("data: hello\n\n", "message|hello\n", 0);
	/* no space after the colon; only one space is dropped */
	sse_expect("data:x\n\ndata:  two\n\n", "message|x\nmessage| two\n", 0);
	/* multi-line data joined with \n; event names; id and retry ignored */
	sse_expect("event: delta\nid: 7\nretry: 100\ndata: a\ndata: b\n\ndata: c\n\n",
		   "delta|a\nb\nmessage|c\n", 0);
	/* the last event: line wins; an empty one means "message" */
	sse_expect("event: a\nevent: b\ndata: 1\n\nevent:\ndata: 2\n\n", "b|1\nmessage|2\n", 0);
	/* a "data" field without colon is an empty data line */
	sse_expect("data\n\ndata\ndata\n\n", "message|\nmessage|\n\n", 0);
	/* blank lines without data and unknown fields dispatch nothing */
	sse_expect("\n\nevent: x\n\nfoo: bar\n\n", "", 0);
	/* a UTF-8 BOM at the start is skipped */
	sse_expect("\xEF\xBB\xBF" "data: bom\n\n", "message|bom\n", 0);
}
END_TEST

/* An event name that is empty as a C string (it starts with a NUL byte) is "message". */
START_TEST(sse_event_name_nul)
{
	static const char in[] = "event:\0x\ndata: 1\n\nevent: a\0b\ndata: 2\n\n";
	struct ev_log l = { 0 };
	struct eb_sse sse;
	struct eb_err err;

	eb_buf_init(&l.out, 0);
	eb_sse_init(&sse, 0);
	ck_assert_int_eq(eb_sse_feed(&sse, in, sizeof(in) - 1, ev_log_cb, &l, &err), 0);
	ck_assert_int_eq(eb_sse_finish(&sse, ev_log_cb, &l, &err), 0);
	ck_assert_str_eq(l.out.buf, "message|1\na|2\n");
	eb_sse_release(&sse);
	eb_buf_release(&l.out);
}
END_TEST

START_TEST(sse_comments_and_pings)
{
	sse_expect(": ping\n\n:\ndata: x\n: inside an event\ndata: y\n\n: keep-alive\n\n",
		   "message|x\ny\n", 4);
}
END_TEST

START_TEST(sse_line_ends)
{
	const char *want = "message|a\nb\nmessage|c\n";

	sse_expect("data: a\ndata: b\n\ndata: c\n\n", want, 0);
	sse_expect("data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n", want, 0);
	sse_expect("data: a\rdata: b\r\rdata: c\r\r", want, 0);
	sse_expect("data: a\r\ndata: b\r\rdata: c\n\r\n", want, 0);
}
END_TEST

START_TEST(sse_crlf_split_between_feeds)
{
	struct ev_log l = { .fail_at = 0 };
	struct eb_sse sse;
	struct eb_err err;

	eb_buf_init(&l.out, 0);
	eb_sse_init(&sse, 0);
	ck_assert_int_eq(eb_sse_feed(&sse, "data: a\r", 8, ev_log_cb, &l, &err), 0);
	/* the '\n' completes "\r\n"; it must not read as a blank line */
	ck_assert_int_eq(eb_sse_feed(&sse, "\n", 1, ev_log_cb, &l, &err), 0);
	ck_assert_int_eq(l.n, 0);
	ck_assert_int_eq(eb_sse_feed(&sse, "data: b\r", 8, ev_log_cb, &l, &err), 0);
	ck_assert_int_eq(eb_sse_feed(&sse, "\n\r", 2, ev_log_cb, &l, &err), 0);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(eb_sse_feed(&sse, "\n", 1, ev_log_cb, &l, &err), 0);
	ck_assert_int_eq(eb_sse_finish(&sse, ev_log_cb, &l, &err), 0);
	ck_assert_str_eq(l.out.buf, "message|a\nb\n");
	ck_assert_uint_eq(sse.n_lines, 3);
	eb_sse_release(&sse);
	eb_buf_release(&l.out);
}
END_TEST

START_TEST(sse_finish_dispatches_trailing_event)
{
	sse_expect("data: one\n\ndata: two", "message|one\nmessage|two\n", 0);
	sse_expect("data: one\n\ndata: two\n", "message|one\nmessage|two\n", 0);
	sse_expect("data: one\r\n\r\ndata: two\r", "message|one\nmessage|two\n", 0);
}
END_TEST

START_TEST(sse_llama_error_field)
{
	sse_expect("error: {\"code\":400}\n\n", "error|{\"code\":400}\n", 0);
}
END_TEST

START_TEST(sse_oversize_event)
{
	struct ev_log l = { .fail_at = 0 };
	struct eb_sse sse;
	struct eb_err err;
	size_t step;

	for (step = 0; step <= 1; step++) {
		/* 10 + 1 + 10 = 21 bytes of data over two lines, limit 16 */
		ck_assert_int_eq(sse_run("data: 0123456789\ndata: 0123456789\n\n", step, 16, &l,
					 &sse, &err), EB_EPROTO);
		ck_assert_int_eq(err.code, EB_EPROTO);
		ck_assert_msg(strstr(err.msg, "16 bytes") != NULL, "%s", err.msg);
		ck_assert_int_eq(l.n, 0);
		/* the parser is dead afterwards */
		ck_assert_int_eq(eb_sse_feed(&sse, "\n", 1, ev_log_cb, &l, &err), EB_EINVAL);
		eb_sse_release(&sse);
		eb_buf_release(&l.out);

		/* one endless line without a line end fails too, before finish */
		ck_assert_int_eq(sse_run("data: 0123456789012345678901234567890123456789"
					 "0123456789012345678901234567890123456789", step, 16, &l,
					 &sse, &err), EB_EPROTO);
		ck_assert_msg(strstr(err.msg, "16 bytes") != NULL, "%s", err.msg);
		eb_sse_release(&sse);
		eb_buf_release(&l.out);

		/* exactly at the limit is fine */
		ck_assert_int_eq(sse_run("data: 0123456789\ndata: 01234\n\n", step, 16, &l, &sse,
					 &err), 0);
		ck_assert_str_eq(l.out.buf, "message|0123456789\n01234\n");
		eb_sse_release(&sse);
		eb_buf_release(&l.out);
	}
}
END_TEST

START_TEST(sse_callback_error_stops)
{
	struct ev_log l = { .fail_at = 2 };
	struct eb_sse sse;
	struct eb_err err;

	ck_assert_int_eq(sse_run("data: 1\n\ndata: 2\n\ndata: 3\n\n", 0, 0, &l, &sse, &err),
			 EB_EINTR);
	ck_assert_str_eq(err.msg, "stopped by the callback");
	ck_assert_int_eq(l.n, 2);
	ck_assert_int_eq(eb_sse_finish(&sse, ev_log_cb, &l, &err), EB_EINVAL);
	eb_sse_release(&sse);
	eb_buf_release(&l.out);
}
END_TEST

/* ---- OpenAI / llama-server streams ---------------------------------------------- */

/* Everything a run produced, comparable between runs. */
struct oai_res {
	int rc;
	char errmsg[EB_ERR_MSG_MAX];
	struct eb_buf text;       /* content chunks concatenated */
	struct eb_buf ntok;       /* per chunk n_tokens, "1,1,1," */
	struct eb_oai_summary sum; /* timings pointer cleared */
	char *timings;            /* sum.timings as sorted JSON, or NULL */
	int fail_at;
};

static int oai_cb(void *ud, const struct eb_oai_chunk *c, struct eb_err *err)
{
	struct oai_res *r = ud;

	ck_assert(c->text != NULL);
	ck_assert(c->reasoning != NULL);
	ck_assert(c->text_len > 0 || c->reasoning_len > 0);
	ck_assert_uint_eq(strlen(c->text), c->text_len);
	eb_buf_add(&r->text, c->text, c->text_len);
	eb_buf_addf(&r->ntok, "%d,", c->n_tokens);
	if (r->fail_at && (size_t)r->fail_at == c->index + 1)
		return eb_err_set(err, EB_EINTR, "stopped by the callback");
	return 0;
}

/*
 * Parses `in` (n bytes): whole (step 0, cut 0), split once at `cut`, or in pieces of
 * `step` bytes. Fills `r`; release it with oai_res_release().
 */
static void oai_run(const char *in, size_t n, size_t cut, size_t step, size_t max,
		    struct oai_res *r)
{
	struct eb_oai_stream s;
	struct eb_err err;
	size_t i, k;
	int fail_at = r->fail_at;

	memset(r, 0, sizeof(*r));
	r->fail_at = fail_at;
	eb_buf_init(&r->text, 0);
	eb_buf_init(&r->ntok, 0);
	eb_err_clear(&err);
	eb_oai_stream_init(&s, max, oai_cb, r);
	if (cut) {
		r->rc = eb_oai_stream_feed(&s, in, cut, &err);
		if (r->rc == 0)
			r->rc = eb_oai_stream_feed(&s, in + cut, n - cut, &err);
	} else {
		for (i = 0; i < n && r->rc == 0; i += k) {
			k = step && step < n - i ? step : n - i;
			r->rc = eb_oai_stream_feed(&s, in + i, k, &err);
		}
	}
	if (r->rc == 0)
		r->rc = eb_oai_stream_finish(&s, &err);
	eb_strlcpy(r->errmsg, err.msg, sizeof(r->errmsg));
	r->sum = s.sum;
	r->sum.timings = NULL;
	if (s.sum.timings)
		r->timings = json_dumps(s.sum.timings, JSON_SORT_KEYS | JSON_COMPACT);
	eb_oai_stream_release(&s);
}

static void oai_res_release(struct oai_res *r)
{
	eb_buf_release(&r->text);
	eb_buf_release(&r->ntok);
	free(r->timings);
	r->timings = NULL;
}

static void oai_res_same(const struct oai_res *a, const struct oai_res *b, const char *how)
{
	ck_assert_msg(a->rc == b->rc, "%s: rc %d vs %d (%s)", how, a->rc, b->rc, b->errmsg);
	ck_assert_msg(strcmp(a->errmsg, b->errmsg) == 0, "%s: '%s' vs '%s'", how, a->errmsg,
		      b->errmsg);
	ck_assert_msg(a->text.len == b->text.len &&
		      memcmp(a->text.buf, b->text.buf, a->text.len) == 0, "%s: text differs", how);
	ck_assert_msg(strcmp(a->ntok.buf, b->ntok.buf) == 0, "%s: n_tokens '%s' vs '%s'", how,
		      a->ntok.buf, b->ntok.buf);
	ck_assert_msg(a->sum.n_events == b->sum.n_events, "%s: n_events", how);
	ck_assert_msg(a->sum.n_chunks == b->sum.n_chunks, "%s: n_chunks", how);
	ck_assert_msg(a->sum.n_content_chunks == b->sum.n_content_chunks, "%s: n_content", how);
	ck_assert_msg(a->sum.n_multi_token_chunks == b->sum.n_multi_token_chunks, "%s: multi", how);
	ck_assert_msg(a->sum.n_tokens_reported == b->sum.n_tokens_reported, "%s: reported", how);
	ck_assert_msg(a->sum.n_comments == b->sum.n_comments, "%s: n_comments", how);
	ck_assert_msg(a->sum.prompt_tokens == b->sum.prompt_tokens, "%s: prompt_tokens", how);
	ck_assert_msg(a->sum.completion_tokens == b->sum.completion_tokens, "%s: completion", how);
	ck_assert_msg(a->sum.chunks_ne_tokens == b->sum.chunks_ne_tokens, "%s: ne", how);
	ck_assert_msg(strcmp(a->sum.finish_reason, b->sum.finish_reason) == 0, "%s: finish", how);
	ck_assert_msg(a->sum.saw_done == b->sum.saw_done, "%s: saw_done", how);
	ck_assert_msg(a->sum.saw_stop == b->sum.saw_stop, "%s: saw_stop", how);
	ck_assert_msg((a->timings == NULL) == (b->timings == NULL), "%s: timings", how);
	if (a->timings)
		ck_assert_msg(strcmp(a->timings, b->timings) == 0, "%s: timings differ", how);
}

/* The whole-buffer result, checked against every two-feed split and byte-by-byte. */
static void oai_all_splits(const char *in, size_t n, struct oai_res *whole)
{
	struct oai_res r;
	char how[64];
	size_t cut;

	memset(whole, 0, sizeof(*whole));
	oai_run(in, n, 0, 0, 0, whole);
	for (cut = 1; cut < n; cut++) {
		memset(&r, 0, sizeof(r));
		oai_run(in, n, cut, 0, 0, &r);
		snprintf(how, sizeof(how), "split at %zu", cut);
		oai_res_same(whole, &r, how);
		oai_res_release(&r);
	}
	memset(&r, 0, sizeof(r));
	oai_run(in, n, 0, 1, 0, &r);
	oai_res_same(whole, &r, "byte by byte");
	oai_res_release(&r);
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

/* `in` with every "\n" replaced by `eol`; malloc'd, caller frees. */
static char *convert_eol(const char *in, size_t n, const char *eol, size_t *out_len)
{
	struct eb_buf b;
	size_t i;

	eb_buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		if (in[i] == '\n')
			eb_buf_addstr(&b, eol);
		else
			eb_buf_add(&b, in + i, 1);
	}
	return eb_buf_detach(&b, out_len);
}

static double timing(const char *json, const char *key)
{
	json_error_t jerr;
	json_t *t = json_loads(json, 0, &jerr);
	double v;

	ck_assert_msg(t != NULL, "%s", jerr.text);
	ck_assert_msg(json_is_number(json_object_get(t, key)), "no timings.%s", key);
	v = json_number_value(json_object_get(t, key));
	json_decref(t);
	return v;
}

/* Checks a fixture in its own line ends and converted to CRLF and CR. */
static void oai_fixture(const char *name, void (*check)(const struct oai_res *r))
{
	static const char *const eols[] = { NULL, "\r\n", "\r" };
	struct oai_res whole;
	char *data, *conv;
	size_t len, clen, i;

	data = load_fixture(name, &len);
	for (i = 0; i < sizeof(eols) / sizeof(eols[0]); i++) {
		if (eols[i]) {
			conv = convert_eol(data, len, eols[i], &clen);
		} else {
			conv = eb_xmalloc(len + 1);
			memcpy(conv, data, len + 1);
			clen = len;
		}
		oai_all_splits(conv, clen, &whole);
		ck_assert_msg(whole.rc == 0, "%s: %s", name, whole.errmsg);
		check(&whole);
		oai_res_release(&whole);
		free(conv);
	}
	free(data);
}

static void check_v1_completions(const struct oai_res *r)
{
	ck_assert_uint_eq(r->text.len, 19);
	ck_assert_mem_eq(r->text.buf, "protected =\xe8\x97\xa4 flux", 19);
	ck_assert_str_eq(r->ntok.buf, "0,0,0,0,");
	ck_assert_uint_eq(r->sum.n_events, 6);
	ck_assert_uint_eq(r->sum.n_chunks, 5);
	ck_assert_uint_eq(r->sum.n_content_chunks, 4);
	ck_assert_uint_eq(r->sum.n_multi_token_chunks, 0);
	ck_assert_int_eq(r->sum.n_tokens_reported, 0);
	ck_assert_int_eq(r->sum.prompt_tokens, 6);
	ck_assert_int_eq(r->sum.completion_tokens, 4);
	ck_assert_int_eq(r->sum.chunks_ne_tokens, 0);
	ck_assert_str_eq(r->sum.finish_reason, "length");
	ck_assert_int_eq(r->sum.saw_done, 1);
	ck_assert_int_eq(r->sum.saw_stop, 0);
	ck_assert_uint_eq(r->sum.n_comments, 0);
	ck_assert_ptr_nonnull(r->timings);
	ck_assert_double_eq(timing(r->timings, "prompt_n"), 6);
	ck_assert_double_eq(timing(r->timings, "predicted_n"), 4);
	ck_assert_double_eq_tol(timing(r->timings, "prompt_ms"), 5.459, 1e-9);
	ck_assert_double_eq_tol(timing(r->timings, "predicted_ms"), 3.26, 1e-9);
	ck_assert_double_eq_tol(timing(r->timings, "predicted_per_second"), 920.2453987730062,
				1e-9);
}

static void check_v1_chat(const struct oai_res *r)
{
	ck_assert_uint_eq(r->text.len, 17);
	ck_assert_str_eq(r->text.buf, " realizeRENT hill");
	ck_assert_str_eq(r->ntok.buf, "0,0,0,");
	ck_assert_uint_eq(r->sum.n_events, 7);
	ck_assert_uint_eq(r->sum.n_chunks, 6);
	ck_assert_uint_eq(r->sum.n_content_chunks, 3);
	ck_assert_int_eq(r->sum.prompt_tokens, 29);
	ck_assert_int_eq(r->sum.completion_tokens, 3);
	ck_assert_int_eq(r->sum.chunks_ne_tokens, 0);
	ck_assert_str_eq(r->sum.finish_reason, "length");
	ck_assert_int_eq(r->sum.saw_done, 1);
	ck_assert_int_eq(r->sum.saw_stop, 0);
	ck_assert_ptr_nonnull(r->timings);
	ck_assert_double_eq(timing(r->timings, "prompt_n"), 29);
	ck_assert_double_eq(timing(r->timings, "predicted_n"), 3);
	ck_assert_double_eq_tol(timing(r->timings, "prompt_ms"), 4.983, 1e-9);
	ck_assert_double_eq_tol(timing(r->timings, "predicted_ms"), 2.491, 1e-9);
	ck_assert_double_eq_tol(timing(r->timings, "predicted_per_second"), 802.8904054596547,
				1e-9);
}

static void check_native_completion(const struct oai_res *r)
{
	ck_assert_uint_eq(r->text.len, 19);
	ck_assert_mem_eq(r->text.buf,
			 "viders\xd1\x96\xd1\x80 \xd0\xb4\xd1\x80\xd0\xb6\xd0\xb0", 19);
	ck_assert_str_eq(r->ntok.buf, "1,1,1,");
	ck_assert_uint_eq(r->sum.n_events, 4);
	ck_assert_uint_eq(r->sum.n_chunks, 4);
	ck_assert_uint_eq(r->sum.n_content_chunks, 3);
	ck_assert_uint_eq(r->sum.n_multi_token_chunks, 0);
	ck_assert_int_eq(r->sum.n_tokens_reported, 3);
	ck_assert_int_eq(r->sum.prompt_tokens, 2);
	ck_assert_int_eq(r->sum.completion_tokens, 3);
	ck_assert_int_eq(r->sum.chunks_ne_tokens, 0);
	ck_assert_str_eq(r->sum.finish_reason, "length");
	ck_assert_int_eq(r->sum.saw_done, 0);
	ck_assert_int_eq(r->sum.saw_stop, 1);
	ck_assert_ptr_nonnull(r->timings);
	ck_assert_double_eq(timing(r->timings, "prompt_n"), 2);
	ck_assert_double_eq(timing(r->timings, "predicted_n"), 3);
	ck_assert_double_eq(timing(r->timings, "cache_n"), 0);
	ck_assert_double_eq_tol(timing(r->timings, "prompt_ms"), 1.608, 1e-9);
	ck_assert_double_eq_tol(timing(r->timings, "predicted_ms"), 2.25, 1e-9);
	ck_assert_double_eq_tol(timing(r->timings, "predicted_per_second"), 888.8888888888889,
				1e-9);
}

START_TEST(oai_fixture_v1_completions)
{
	oai_fixture("llama-server-v1-completions.sse", check_v1_completions);
}
END_TEST

START_TEST(oai_fixture_v1_chat)
{
	oai_fixture("llama-server-v1-chat.sse", check_v1_chat);
}
END_TEST

START_TEST(oai_fixture_native_completion)
{
	oai_fixture("llama-server-completion.sse", check_native_completion);
}
END_TEST

/* Runs a hand-written stream whole, split everywhere and byte by byte. */
static void oai_text(const char *in, struct oai_res *whole)
{
	oai_all_splits(in, strlen(in), whole);
}

START_TEST(oai_no_done_and_no_final_blank_line)
{
	struct oai_res r;
	char *data;
	const char *done;
	size_t len;

	/* /v1/completions without its "data: [DONE]" event */
	data = load_fixture("llama-server-v1-completions.sse", &len);
	done = strstr(data, "data: [DONE]");
	ck_assert_ptr_nonnull(done);
	oai_all_splits(data, (size_t)(done - data), &r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(r.sum.saw_done, 0);
	ck_assert_uint_eq(r.sum.n_events, 5);
	ck_assert_uint_eq(r.sum.n_content_chunks, 4);
	ck_assert_int_eq(r.sum.completion_tokens, 4);
	ck_assert_str_eq(r.sum.finish_reason, "length");
	oai_res_release(&r);

	/* and the last event without its blank line */
	oai_all_splits(data, (size_t)(done - data) - 2, &r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(r.sum.n_events, 5);
	ck_assert_int_eq(r.sum.prompt_tokens, 6);
	ck_assert_ptr_nonnull(r.timings);
	oai_res_release(&r);
	free(data);
}
END_TEST

START_TEST(oai_null_content_and_empty_deltas)
{
	struct oai_res r;

	oai_text("data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null}}]}\n\n"
		 "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n"
		 "data: {\"choices\":[{\"index\":0,\"delta\":{}}]}\n\n"
		 "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"}}]}\n\n"
		 "data: {\"choices\":[{\"index\":0,\"delta\":null}]}\n\n"
		 "data: {\"choices\":[{}]}\n\n"
		 "data: {\"choices\":[null]}\n\n"
		 "data: {\"choices\":[]}\n\n"
		 "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n"
		 "data: {\"choices\":[],\"usage\":null}\n\n"
		 "data: {}\n\n"
		 "data: [DONE]\n\n", &r);
	ck_assert_msg(r.rc == 0, "%s", r.errmsg);
	ck_assert_uint_eq(r.sum.n_chunks, 11);
	ck_assert_uint_eq(r.sum.n_content_chunks, 1);
	ck_assert_str_eq(r.text.buf, "Hi");
	ck_assert_int_eq(r.sum.prompt_tokens, -1);
	ck_assert_int_eq(r.sum.completion_tokens, -1);
	ck_assert_int_eq(r.sum.chunks_ne_tokens, 0);
	ck_assert_str_eq(r.sum.finish_reason, "");
	ck_assert_ptr_null(r.timings);
	ck_assert_int_eq(r.sum.saw_done, 1);
	oai_res_release(&r);

	/* counts as reals: truncated, or absent beyond long long (fuzz_oai_stream: 9e104) */
	oai_text("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7.9,"
		 "\"completion_tokens\":9e104}}\n\n", &r);
	ck_assert_msg(r.rc == 0, "%s", r.errmsg);
	ck_assert_int_eq(r.sum.prompt_tokens, 7);
	ck_assert_int_eq(r.sum.completion_tokens, -1);
	oai_res_release(&r);
}
END_TEST

START_TEST(oai_pings_events_and_reasoning)
{
	struct oai_res r;

	oai_text(": ping\r\n\r\n"
		 "event: message\r\n"
		 "data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"hm\"}}]}\r\n\r\n"
		 ": ping\r\n"
		 "data: {\"choices\":[{\"delta\":{\"content\":\"A\"}}]}\r\n\r\n"
		 "data: {\"choices\":[{\"delta\":{\"content\":\"B\"},\"finish_reason\":\"stop\"}],"
		 "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":4}}\r\n\r\n"
		 ":\r\n", &r);
	ck_assert_msg(r.rc == 0, "%s", r.errmsg);
	ck_assert_uint_eq(r.sum.n_comments, 3);
	ck_assert_uint_eq(r.sum.n_content_chunks, 3);
	ck_assert_str_eq(r.text.buf, "AB");
	ck_assert_str_eq(r.sum.finish_reason, "stop");
	ck_assert_int_eq(r.sum.prompt_tokens, 5);
	ck_assert_int_eq(r.sum.completion_tokens, 4);
	/* three chunks, four tokens: the caller must not read chunks as tokens */
	ck_assert_int_eq(r.sum.chunks_ne_tokens, 1);
	ck_assert_int_eq(r.sum.saw_done, 0);
	oai_res_release(&r);
}
END_TEST

START_TEST(oai_tokens_per_chunk)
{
	struct oai_res r;

	/* llama-server with timings_per_token: the step in predicted_n */
	oai_text("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"timings\":{\"predicted_n\":1}}\n\n"
		 "data: {\"choices\":[{\"delta\":{\"content\":\"bc\"}}],\"timings\":{\"predicted_n\":3}}\n\n"
		 "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"length\"}],\"timings\":{\"predicted_n\":3}}\n\n"
		 "data: [DONE]\n\n", &r);
	ck_assert_msg(r.rc == 0, "%s", r.errmsg);
	ck_assert_str_eq(r.ntok.buf, "1,2,");
	ck_assert_uint_eq(r.sum.n_multi_token_chunks, 1);
	ck_assert_int_eq(r.sum.n_tokens_reported, 3);
	ck_assert_str_eq(r.timings, "{\"predicted_n\":3}");
	oai_res_release(&r);

	/* logprobs: chat (content array) and completions (tokens array) */
	oai_text("data: {\"choices\":[{\"delta\":{\"content\":\"xy\"},\"logprobs\":{\"content\":[{},{}]}}]}\n\n"
		 "data: {\"choices\":[{\"text\":\"z\",\"logprobs\":{\"tokens\":[\"z\"]}}]}\n\n"
		 "data: {\"choices\":[{\"text\":\"w\",\"logprobs\":null}]}\n\n", &r);
	ck_assert_msg(r.rc == 0, "%s", r.errmsg);
	ck_assert_str_eq(r.ntok.buf, "2,1,0,");
	ck_assert_uint_eq(r.sum.n_multi_token_chunks, 1);
	oai_res_release(&r);

	/* native /completion: "tokens" or else the step in tokens_predicted */
	oai_text("data: {\"content\":\"a\",\"tokens\":[1,2],\"stop\":false,\"tokens_predicted\":2}\n\n"
		 "data: {\"content\":\"b\",\"stop\":false,\"tokens_predicted\":5}\n\n"
		 "data: {\"content\":\"\",\"stop\":true,\"stop_type\":\"eos\",\"tokens_predicted\":5,"
		 "\"tokens_evaluated\":9}\n\n", &r);
	ck_assert_msg(r.rc == 0, "%s", r.errmsg);
	ck_assert_str_eq(r.ntok.buf, "2,3,");
	ck_assert_str_eq(r.sum.finish_reason, "stop");
	ck_assert_int_eq(r.sum.saw_stop, 1);
	ck_assert_int_eq(r.sum.prompt_tokens, 9);
	ck_assert_int_eq(r.sum.completion_tokens, 5);
	ck_assert_int_eq(r.sum.chunks_ne_tokens, 1);
	oai_res_release(&r);
}
END_TEST

START_TEST(oai_in_stream_errors)
{
	struct oai_res r;

	/* OpenAI's shape, after a first good chunk */
	oai_text("data: {\"choices\":[{\"text\":\"ok\"}]}\n\n"
		 "data: {\"error\":{\"message\":\"boom\",\"type\":\"server_error\",\"code\":500}}\n\n"
		 "data: {\"choices\":[{\"text\":\"never\"}]}\n\n", &r);
	ck_assert_int_eq(r.rc, EB_EADAPTER);
	ck_assert_str_eq(r.errmsg, "server error 500 (server_error): boom");
	ck_assert_str_eq(r.text.buf, "ok");
	oai_res_release(&r);

	/* llama-server's "error:" line, a bare object */
	oai_text("error: {\"code\":400,\"message\":\"the request exceeds the available context size\","
		 "\"type\":\"exceed_context_size_error\"}\n\n", &r);
	ck_assert_int_eq(r.rc, EB_EADAPTER);
	ck_assert_str_eq(r.errmsg, "server error 400 (exceed_context_size_error): "
		      "the request exceeds the available context size");
	oai_res_release(&r);

	/* "event: error" and a string error */
	oai_text("event: error\ndata: {\"message\":\"overloaded\"}\n\n", &r);
	ck_assert_int_eq(r.rc, EB_EADAPTER);
	ck_assert_str_eq(r.errmsg, "server error: overloaded");
	oai_res_release(&r);
	oai_text("data: {\"error\":{\"message\":\"too long\",\"type\":\"invalid_request_error\","
		 "\"code\":\"context_length_exceeded\"}}\n\n", &r);
	ck_assert_int_eq(r.rc, EB_EADAPTER);
	ck_assert_str_eq(r.errmsg, "server error (invalid_request_error, context_length_exceeded): "
		      "too long");
	oai_res_release(&r);
	oai_text("data: {\"error\":\"model not loaded\"}", &r);
	ck_assert_int_eq(r.rc, EB_EADAPTER);
	ck_assert_str_eq(r.errmsg, "server error: model not loaded");
	oai_res_release(&r);
}
END_TEST

START_TEST(oai_invalid_json)
{
	struct oai_res r;

	oai_text("data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: {\"choices\":[\n\n", &r);
	ck_assert_int_eq(r.rc, EB_EPARSE);
	ck_assert_msg(strncmp(r.errmsg, "invalid json in sse event 'message'", 35) == 0, "%s",
		      r.errmsg);
	ck_assert_msg(strstr(r.errmsg, "'{\"choices\":['") != NULL, "%s", r.errmsg);
	ck_assert_uint_eq(r.sum.n_content_chunks, 1);
	oai_res_release(&r);

	oai_text("data: 42\n\n", &r);
	ck_assert_int_eq(r.rc, EB_EPARSE);
	ck_assert_str_eq(r.errmsg, "sse event 'message' is not a json object: '42'");
	oai_res_release(&r);

	oai_text("data: \n\n", &r);
	ck_assert_int_eq(r.rc, EB_EPARSE);
	oai_res_release(&r);

	/* truncated in the middle of a chunk: finish sees the broken last event */
	oai_text("data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: {\"choi", &r);
	ck_assert_int_eq(r.rc, EB_EPARSE);
	oai_res_release(&r);
}
END_TEST

START_TEST(oai_oversize_event)
{
	struct oai_res r;
	const char *in = "data: {\"choices\":[{\"text\":\"a\"}]}\n\n"
			 "data: {\"choices\":[{\"text\":\"0123456789012345678901234567890123456789\"}]}\n\n";

	memset(&r, 0, sizeof(r));
	oai_run(in, strlen(in), 0, 0, 48, &r);
	ck_assert_int_eq(r.rc, EB_EPROTO);
	ck_assert_str_eq(r.errmsg, "sse event larger than the limit of 48 bytes");
	ck_assert_uint_eq(r.sum.n_content_chunks, 1);
	oai_res_release(&r);
	memset(&r, 0, sizeof(r));
	oai_run(in, strlen(in), 0, 1, 48, &r);
	ck_assert_int_eq(r.rc, EB_EPROTO);
	ck_assert_str_eq(r.errmsg, "sse event larger than the limit of 48 bytes");
	oai_res_release(&r);
}
END_TEST

START_TEST(oai_callback_stops)
{
	struct oai_res r;
	const char *in = "data: {\"choices\":[{\"text\":\"a\"}]}\n\n"
			 "data: {\"choices\":[{\"text\":\"b\"}]}\n\n"
			 "data: {\"choices\":[{\"text\":\"c\"}]}\n\n";

	memset(&r, 0, sizeof(r));
	r.fail_at = 2;
	oai_run(in, strlen(in), 0, 0, 0, &r);
	ck_assert_int_eq(r.rc, EB_EINTR);
	ck_assert_str_eq(r.errmsg, "stopped by the callback");
	ck_assert_str_eq(r.text.buf, "ab");
	oai_res_release(&r);
}
END_TEST

static Suite *sse_suite(void)
{
	Suite *s = suite_create("sse");
	TCase *tc = tcase_create("sse");
	TCase *to = tcase_create("oai_stream");

	tcase_add_test(tc, sse_basic_fields);
	tcase_add_test(tc, sse_comments_and_pings);
	tcase_add_test(tc, sse_line_ends);
	tcase_add_test(tc, sse_crlf_split_between_feeds);
	tcase_add_test(tc, sse_event_name_nul);
	tcase_add_test(tc, sse_finish_dispatches_trailing_event);
	tcase_add_test(tc, sse_llama_error_field);
	tcase_add_test(tc, sse_oversize_event);
	tcase_add_test(tc, sse_callback_error_stops);
	suite_add_tcase(s, tc);

	tcase_add_test(to, oai_fixture_v1_completions);
	tcase_add_test(to, oai_fixture_v1_chat);
	tcase_add_test(to, oai_fixture_native_completion);
	tcase_add_test(to, oai_no_done_and_no_final_blank_line);
	tcase_add_test(to, oai_null_content_and_empty_deltas);
	tcase_add_test(to, oai_pings_events_and_reasoning);
	tcase_add_test(to, oai_tokens_per_chunk);
	tcase_add_test(to, oai_in_stream_errors);
	tcase_add_test(to, oai_invalid_json);
	tcase_add_test(to, oai_oversize_event);
	tcase_add_test(to, oai_callback_stops);
	suite_add_tcase(s, to);
	return s;
}

int main(void)
{
	return eb_test_main(sse_suite());
}
