/* ollama_stream.c: turns Ollama NDJSON lines into content chunks and final statistics. */
#include "ollama_stream.h"

#include <string.h>

#include <jansson.h>

#include "eb_util.h"

/* How much of a bad line an error message quotes. */
#define EB_OLLAMA_SNIPPET 64

/*
 * obj[key] into *out when it is a number; untouched (stays -1) when absent, null, or a
 * real outside the range of long long.
 */
static void eb_ollama_get_ll(const json_t *obj, const char *key, long long *out)
{
	const json_t *v = json_object_get(obj, key);

	if (json_is_integer(v))
		*out = (long long)json_integer_value(v);
	else if (json_is_real(v))
		eb_double_to_ll(json_real_value(v), out);
}

static void eb_ollama_get_str(const json_t *obj, const char *key, const char **s, size_t *len)
{
	const json_t *v = json_object_get(obj, key);

	if (json_is_string(v)) {
		*s = json_string_value(v);
		*len = json_string_length(v);
	}
}

static int eb_ollama_on_line(void *ud, const char *line, size_t len, struct eb_err *err)
{
	struct eb_ollama_stream *s = ud;
	struct eb_ollama_summary *sum = &s->sum;
	struct eb_ollama_chunk c;
	const json_t *e, *msg, *reason;
	json_error_t jerr;
	json_t *root;
	size_t snip = len > EB_OLLAMA_SNIPPET ? EB_OLLAMA_SNIPPET : len;
	int ret = 0;

	root = json_loadb(line, len, JSON_DECODE_ANY, &jerr);
	if (!root) {
		ret = eb_err_set(err, EB_EPARSE,
				 "invalid json in ndjson line %zu (column %d: %s): '%.*s'",
				 s->nd.n_lines, jerr.column, jerr.text, (int)snip, line);
		goto out;
	}
	if (!json_is_object(root)) {
		ret = eb_err_set(err, EB_EPARSE, "ndjson line %zu is not a json object: '%.*s'",
				 s->nd.n_lines, (int)snip, line);
		goto out;
	}
	e = json_object_get(root, "error");
	if (e) {
		if (json_is_string(e))
			ret = eb_err_set(err, EB_EADAPTER, "server error: %s", json_string_value(e));
		else
			ret = eb_err_set(err, EB_EADAPTER, "server error: '%.*s'", (int)snip, line);
		goto out;
	}
	sum->n_lines++;

	memset(&c, 0, sizeof(c));
	c.text = "";
	c.thinking = "";
	eb_ollama_get_str(root, "response", &c.text, &c.text_len);
	eb_ollama_get_str(root, "thinking", &c.thinking, &c.thinking_len);
	msg = json_object_get(root, "message");
	if (json_is_object(msg)) {
		eb_ollama_get_str(msg, "content", &c.text, &c.text_len);
		eb_ollama_get_str(msg, "thinking", &c.thinking, &c.thinking_len);
	}
	c.done = json_is_true(json_object_get(root, "done"));
	if (c.done)
		sum->saw_done = 1;
	reason = json_object_get(root, "done_reason");
	if (json_is_string(reason))
		eb_strlcpy(sum->done_reason, json_string_value(reason), sizeof(sum->done_reason));
	eb_ollama_get_ll(root, "total_duration", &sum->total_duration);
	eb_ollama_get_ll(root, "load_duration", &sum->load_duration);
	eb_ollama_get_ll(root, "prompt_eval_count", &sum->prompt_eval_count);
	eb_ollama_get_ll(root, "prompt_eval_duration", &sum->prompt_eval_duration);
	eb_ollama_get_ll(root, "eval_count", &sum->eval_count);
	eb_ollama_get_ll(root, "eval_duration", &sum->eval_duration);

	if (c.text_len == 0 && c.thinking_len == 0)
		goto out;
	c.index = sum->n_content_chunks++;
	if (s->cb)
		ret = s->cb(s->ud, &c, err);
out:
	json_decref(root);
	return ret;
}

void eb_ollama_stream_init(struct eb_ollama_stream *s, size_t max_line_bytes,
			   eb_ollama_chunk_cb cb, void *ud)
{
	memset(s, 0, sizeof(*s));
	eb_ndjson_init(&s->nd, max_line_bytes);
	s->cb = cb;
	s->ud = ud;
	s->sum.total_duration = -1;
	s->sum.load_duration = -1;
	s->sum.prompt_eval_count = -1;
	s->sum.prompt_eval_duration = -1;
	s->sum.eval_count = -1;
	s->sum.eval_duration = -1;
}

int eb_ollama_stream_feed(struct eb_ollama_stream *s, const char *data, size_t n,
			  struct eb_err *err)
{
	return eb_ndjson_feed(&s->nd, data, n, eb_ollama_on_line, s, err);
}

int eb_ollama_stream_finish(struct eb_ollama_stream *s, struct eb_err *err)
{
	struct eb_ollama_summary *sum = &s->sum;
	int ret = eb_ndjson_finish(&s->nd, eb_ollama_on_line, s, err);

	sum->chunks_ne_tokens = sum->eval_count >= 0 &&
				(size_t)sum->eval_count != sum->n_content_chunks;
	return ret;
}

void eb_ollama_stream_release(struct eb_ollama_stream *s)
{
	eb_ndjson_release(&s->nd);
}
