/* oai_stream.c: turns SSE events of OpenAI-style and llama-server streams into chunks and a summary. */
#include "oai_stream.h"

#include <stdio.h>
#include <string.h>

#include "eb_util.h"

/* How much of a bad event's data an error message quotes. */
#define EB_OAI_SNIPPET 64

/*
 * The number at obj[key] into *out; 0 when absent, null, not a number, or a real
 * outside the range of long long (then it is as good as absent).
 */
static int eb_oai_get_ll(const json_t *obj, const char *key, long long *out)
{
	const json_t *v = json_object_get(obj, key);

	if (json_is_integer(v)) {
		*out = (long long)json_integer_value(v);
		return 1;
	}
	return json_is_real(v) && eb_double_to_ll(json_real_value(v), out) == 0;
}

/* The string at obj[key] (borrowed from obj) and its length; 0 when not a string. */
static int eb_oai_get_str(const json_t *obj, const char *key, const char **s, size_t *len)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return 0;
	*s = json_string_value(v);
	*len = json_string_length(v);
	return 1;
}

static size_t eb_oai_snippet_len(size_t len)
{
	return len > EB_OAI_SNIPPET ? EB_OAI_SNIPPET : len;
}

/*
 * An error the server sent: {"error": {"message", "type", "code"}}, {"error": "text"},
 * or (llama-server's "error:" line) the bare {"message", "type", "code"} object. The
 * message reads "server error 500 (server_error): text"; absent parts are left out.
 */
static int eb_oai_server_error(const json_t *root, struct eb_err *err)
{
	const json_t *e = json_object_get(root, "error");
	const char *msg = "no message", *type = NULL, *scode = NULL;
	char code_s[32] = "", kind_s[160] = "";
	size_t len = 0;
	long long code = 0;

	if (json_is_string(e)) {
		msg = json_string_value(e);
		goto out;
	}
	if (!json_is_object(e))
		e = root;
	eb_oai_get_str(e, "message", &msg, &len);
	eb_oai_get_str(e, "type", &type, &len);
	if (eb_oai_get_ll(e, "code", &code))
		snprintf(code_s, sizeof(code_s), " %lld", code);
	else
		eb_oai_get_str(e, "code", &scode, &len); /* OpenAI: "context_length_exceeded" */
	if (type && scode)
		snprintf(kind_s, sizeof(kind_s), " (%s, %s)", type, scode);
	else if (type || scode)
		snprintf(kind_s, sizeof(kind_s), " (%s)", type ? type : scode);
out:
	return eb_err_set(err, EB_EADAPTER, "server error%s%s: %s", code_s, kind_s, msg);
}

static void eb_oai_set_finish(struct eb_oai_summary *sum, const char *reason)
{
	eb_strlcpy(sum->finish_reason, reason, sizeof(sum->finish_reason));
}

/* llama-server's native stop_type, in OpenAI's finish_reason words. */
static const char *eb_oai_map_stop_type(const char *stop_type)
{
	if (strcmp(stop_type, "limit") == 0)
		return "length";
	if (strcmp(stop_type, "eos") == 0 || strcmp(stop_type, "word") == 0)
		return "stop";
	return stop_type;
}

/* Size of a JSON array at obj[key], or 0 when there is none. */
static int eb_oai_array_len(const json_t *obj, const char *key)
{
	const json_t *a = json_object_get(obj, key);

	return json_is_array(a) ? (int)json_array_size(a) : 0;
}

/* One parsed JSON chunk. */
static int eb_oai_chunk(struct eb_oai_stream *s, const json_t *root, struct eb_err *err)
{
	struct eb_oai_summary *sum = &s->sum;
	struct eb_oai_chunk c;
	const json_t *choices, *c0, *delta, *lp, *usage, *timings;
	const char *reason = NULL;
	size_t rlen = 0;
	long long v, predicted_n = -1;
	int is_final = 0;
	int ret = 0;

	memset(&c, 0, sizeof(c));
	c.text = "";
	c.reasoning = "";
	sum->n_chunks++;

	choices = json_object_get(root, "choices");
	if (json_is_array(choices)) {
		c0 = json_array_get(choices, 0); /* NULL for the usage-only last chunk */
		if (json_is_object(c0)) {
			if (!eb_oai_get_str(c0, "text", &c.text, &c.text_len)) {
				delta = json_object_get(c0, "delta");
				if (json_is_object(delta)) {
					eb_oai_get_str(delta, "content", &c.text, &c.text_len);
					eb_oai_get_str(delta, "reasoning_content", &c.reasoning,
						       &c.reasoning_len);
				}
			}
			if (eb_oai_get_str(c0, "finish_reason", &reason, &rlen)) {
				eb_oai_set_finish(sum, reason);
				is_final = 1;
			}
			lp = json_object_get(c0, "logprobs");
			if (json_is_object(lp)) {
				c.n_tokens = eb_oai_array_len(lp, "content");
				if (c.n_tokens == 0)
					c.n_tokens = eb_oai_array_len(lp, "tokens");
			}
		}
	} else {
		/* llama-server's native /completion */
		eb_oai_get_str(root, "content", &c.text, &c.text_len);
		c.n_tokens = eb_oai_array_len(root, "tokens");
		if (json_is_true(json_object_get(root, "stop"))) {
			sum->saw_stop = 1;
			is_final = 1;
			if (eb_oai_get_str(root, "stop_type", &reason, &rlen))
				eb_oai_set_finish(sum, eb_oai_map_stop_type(reason));
		}
		if (eb_oai_get_ll(root, "tokens_evaluated", &v))
			sum->prompt_tokens = v;
		if (eb_oai_get_ll(root, "tokens_predicted", &v)) {
			/* the running count also gives the chunk's tokens */
			if (c.n_tokens == 0 && !is_final && v > s->last_predicted_n)
				c.n_tokens = (int)(v - s->last_predicted_n);
			predicted_n = v;
			sum->completion_tokens = v;
		}
	}

	usage = json_object_get(root, "usage");
	if (json_is_object(usage)) {
		if (eb_oai_get_ll(usage, "prompt_tokens", &v))
			sum->prompt_tokens = v;
		if (eb_oai_get_ll(usage, "completion_tokens", &v))
			sum->completion_tokens = v;
		if (eb_oai_get_ll(json_object_get(usage, "prompt_tokens_details"), "cached_tokens",
				  &v))
			sum->cached_tokens = v;
	}

	timings = json_object_get(root, "timings");
	if (json_is_object(timings)) {
		json_decref(sum->timings);
		sum->timings = json_incref((json_t *)timings);
		/*
		 * Timings on a chunk that is not the last one mean per-token timings: the
		 * step in predicted_n is this chunk's token count.
		 */
		if (eb_oai_get_ll(timings, "predicted_n", &v)) {
			if (c.n_tokens == 0 && !is_final && v > s->last_predicted_n)
				c.n_tokens = (int)(v - s->last_predicted_n);
			predicted_n = v;
		}
	}
	if (predicted_n >= 0)
		s->last_predicted_n = predicted_n;

	if (c.text_len == 0 && c.reasoning_len == 0)
		goto out;
	c.index = sum->n_content_chunks++;
	if (c.n_tokens > 0)
		sum->n_tokens_reported += c.n_tokens;
	if (c.n_tokens > 1)
		sum->n_multi_token_chunks++;
	if (s->cb)
		ret = s->cb(s->ud, &c, err);
out:
	return ret;
}

static int eb_oai_on_event(void *ud, const char *event, const char *data, size_t len,
			   struct eb_err *err)
{
	struct eb_oai_stream *s = ud;
	json_error_t jerr;
	json_t *root = NULL;
	size_t a = 0, b = len;
	int ret = 0;

	s->sum.n_events++;
	while (a < b && (data[a] == ' ' || data[a] == '\t' || data[a] == '\n'))
		a++;
	while (b > a && (data[b - 1] == ' ' || data[b - 1] == '\t' || data[b - 1] == '\n'))
		b--;
	if (b - a == 6 && memcmp(data + a, "[DONE]", 6) == 0) {
		s->sum.saw_done = 1;
		goto out;
	}
	root = json_loadb(data, len, JSON_DECODE_ANY, &jerr);
	if (!root) {
		ret = eb_err_set(err, EB_EPARSE,
				 "invalid json in sse event '%s' (line %d, column %d: %s): '%.*s'",
				 event, jerr.line, jerr.column, jerr.text,
				 (int)eb_oai_snippet_len(len), data);
		goto out;
	}
	if (!json_is_object(root)) {
		ret = eb_err_set(err, EB_EPARSE, "sse event '%s' is not a json object: '%.*s'",
				 event, (int)eb_oai_snippet_len(len), data);
		goto out;
	}
	if (strcmp(event, "error") == 0 || json_object_get(root, "error")) {
		ret = eb_oai_server_error(root, err);
		goto out;
	}
	ret = eb_oai_chunk(s, root, err);
out:
	json_decref(root);
	return ret;
}

void eb_oai_stream_init(struct eb_oai_stream *s, size_t max_event_bytes, eb_oai_chunk_cb cb,
			void *ud)
{
	memset(s, 0, sizeof(*s));
	eb_sse_init(&s->sse, max_event_bytes);
	s->cb = cb;
	s->ud = ud;
	s->last_predicted_n = 0;
	s->sum.prompt_tokens = -1;
	s->sum.cached_tokens = -1;
	s->sum.completion_tokens = -1;
}

int eb_oai_stream_feed(struct eb_oai_stream *s, const char *data, size_t n, struct eb_err *err)
{
	int ret = eb_sse_feed(&s->sse, data, n, eb_oai_on_event, s, err);

	s->sum.n_comments = s->sse.n_comments;
	return ret;
}

int eb_oai_stream_finish(struct eb_oai_stream *s, struct eb_err *err)
{
	struct eb_oai_summary *sum = &s->sum;
	int ret = eb_sse_finish(&s->sse, eb_oai_on_event, s, err);

	sum->n_comments = s->sse.n_comments;
	sum->chunks_ne_tokens = sum->completion_tokens >= 0 &&
				(size_t)sum->completion_tokens != sum->n_content_chunks;
	return ret;
}

void eb_oai_stream_release(struct eb_oai_stream *s)
{
	eb_sse_release(&s->sse);
	json_decref(s->sum.timings);
	s->sum.timings = NULL;
}
