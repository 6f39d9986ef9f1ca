/* ollama_stream.h: Ollama /api/generate and /api/chat streams (also hailo-ollama), parsed from NDJSON lines. */
#ifndef EB_OLLAMA_STREAM_H
#define EB_OLLAMA_STREAM_H

#include <stddef.h>

#include "eb_err.h"
#include "ndjson.h"

#define EB_OLLAMA_REASON_MAX 32

/*
 * One content chunk: a line that carried generated text. Lines with empty text (the
 * final "done" line usually) do not reach the callback. Pointers are borrowed: valid
 * only during the call.
 */
struct eb_ollama_chunk {
	const char *text;       /* "response" (/api/generate) or message.content (/api/chat);
				   never NULL ("" when only thinking came) */
	size_t text_len;
	const char *thinking;   /* "thinking" or message.thinking; never NULL ("" when none) */
	size_t thinking_len;
	int done;               /* this line also had "done": true */
	size_t index;           /* 0-based number of this content chunk */
};

/*
 * Called once per content chunk, in order, as soon as its line is parsed. Return 0 to
 * go on, or a negative EB_E* code with `err` filled to stop (feed returns that code).
 */
typedef int (*eb_ollama_chunk_cb)(void *ud, const struct eb_ollama_chunk *chunk,
				  struct eb_err *err);

/*
 * What the whole stream said; complete after eb_ollama_stream_finish(). Durations are
 * in nanoseconds, as Ollama sends them. A statistic the server did not send is -1,
 * never 0: Ollama's omitempty drops zero values and hailo-ollama sends only
 * total_duration and eval_count. The last value seen wins.
 */
struct eb_ollama_summary {
	size_t n_lines;           /* JSON lines parsed */
	size_t n_content_chunks;  /* lines that reached the callback */
	int saw_done;             /* a line had "done": true */
	char done_reason[EB_OLLAMA_REASON_MAX]; /* "stop", "length", ...; "" when none */
	long long total_duration;
	long long load_duration;
	long long prompt_eval_count;
	long long prompt_eval_duration;
	long long eval_count;
	long long eval_duration;
	/* 1 when eval_count is known and differs from n_content_chunks (chunks != tokens) */
	int chunks_ne_tokens;
};

/* Stream state. Owns the splitter's buffer until release; `sum` is public, read-only. */
struct eb_ollama_stream {
	struct eb_ndjson nd;
	eb_ollama_chunk_cb cb;
	void *ud;
	struct eb_ollama_summary sum;
};

/*
 * Prepares `s`; `cb` may be NULL (summary only); `max_line_bytes` as for
 * eb_ndjson_init(). Never fails.
 */
void eb_ollama_stream_init(struct eb_ollama_stream *s, size_t max_line_bytes,
			   eb_ollama_chunk_cb cb, void *ud);

/*
 * Parses `n` bytes of the response body, split anywhere. Returns 0 or a negative code
 * with `err` filled: EB_EADAPTER for an {"error": "..."} line (the server's message in
 * `err`), EB_EPARSE for a line that is not a JSON object, EB_EPROTO for a line over the
 * size limit, or the callback's code. After an error only release is allowed.
 */
int eb_ollama_stream_feed(struct eb_ollama_stream *s, const char *data, size_t n,
			  struct eb_err *err);

/*
 * Ends the body (a last line without newline is parsed) and completes `sum`. A stream
 * without a "done": true line is not an error here; the caller checks sum.saw_done.
 */
int eb_ollama_stream_finish(struct eb_ollama_stream *s, struct eb_err *err);

/* Frees everything. */
void eb_ollama_stream_release(struct eb_ollama_stream *s);

#endif
