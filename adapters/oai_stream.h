/* oai_stream.h: OpenAI-compatible and llama-server completion streams, parsed from SSE events. */
#ifndef EB_OAI_STREAM_H
#define EB_OAI_STREAM_H

#include <stddef.h>

#include <jansson.h>

#include "eb_err.h"
#include "sse.h"

#define EB_OAI_FINISH_MAX 32

/*
 * One content chunk: an event that carried generated text. Only such chunks reach the
 * callback; role-only first deltas, `"content": null`, empty deltas, the usage-only last
 * chunk and `[DONE]` do not. Every pointer is borrowed: valid only during the call.
 */
struct eb_oai_chunk {
	const char *text;       /* choices[0].text, choices[0].delta.content or native
				   "content"; never NULL ("" when only reasoning came) */
	size_t text_len;
	const char *reasoning;  /* choices[0].delta.reasoning_content, never NULL ("" when none) */
	size_t reasoning_len;
	/*
	 * Tokens this chunk carried when the server says so, else 0 (unknown): the length of
	 * native "tokens", of choices[0].logprobs.content (chat) or .tokens (completions),
	 * or the step in timings.predicted_n when llama-server sends per-token timings.
	 */
	int n_tokens;
	size_t index;           /* 0-based number of this content chunk */
};

/*
 * Called once per content chunk, in order, as soon as its event is parsed, so the
 * caller can timestamp it. Return 0 to go on, or a negative EB_E* code with `err`
 * filled to stop parsing (feed returns that code).
 */
typedef int (*eb_oai_chunk_cb)(void *ud, const struct eb_oai_chunk *chunk, struct eb_err *err);

/* What the whole stream said. Complete after eb_oai_stream_finish(). */
struct eb_oai_summary {
	size_t n_events;          /* SSE events, [DONE] included */
	size_t n_chunks;          /* JSON chunks (every event but [DONE]) */
	size_t n_content_chunks;  /* chunks that reached the callback */
	size_t n_multi_token_chunks; /* content chunks whose n_tokens > 1 */
	long long n_tokens_reported; /* sum of the known per-chunk n_tokens */
	size_t n_comments;        /* ':' comment / keep-alive lines */
	/* usage.prompt_tokens / .completion_tokens (native: tokens_evaluated /
	   tokens_predicted); the last value seen wins; -1 when never sent */
	long long prompt_tokens;
	long long completion_tokens;
	/* usage.prompt_tokens_details.cached_tokens (vLLM, OpenAI): prompt tokens the server
	   took from its prefix cache; -1 when never sent */
	long long cached_tokens;
	/*
	 * 1 when completion_tokens is known and differs from n_content_chunks: chunks are
	 * not tokens, so per-chunk timestamps are not per-token ones.
	 */
	int chunks_ne_tokens;
	/*
	 * llama-server's "timings" object, the last one seen (prompt_n, prompt_ms,
	 * predicted_n, predicted_ms, predicted_per_second, ...), or NULL. Owned by the
	 * summary: eb_oai_stream_release() drops it; json_incref() it to keep it longer.
	 */
	json_t *timings;
	/* choices[0].finish_reason ("stop", "length", ...); native stop_type mapped:
	   "limit" -> "length", "eos" and "word" -> "stop", others as sent. "" when none */
	char finish_reason[EB_OAI_FINISH_MAX];
	int saw_done;             /* "data: [DONE]" arrived (OpenAI endpoints) */
	int saw_stop;             /* native /completion sent "stop": true */
};

/*
 * Stream state. Embeds the SSE parser; owns its buffers and sum.timings until
 * eb_oai_stream_release(). `sum` is public and read-only for callers.
 */
struct eb_oai_stream {
	struct eb_sse sse;
	eb_oai_chunk_cb cb;
	void *ud;
	long long last_predicted_n; /* running token count of earlier chunks, 0 at first */
	struct eb_oai_summary sum;
};

/*
 * Prepares `s`; `cb` may be NULL (summary only). `max_event_bytes` as for eb_sse_init().
 * Never fails.
 */
void eb_oai_stream_init(struct eb_oai_stream *s, size_t max_event_bytes, eb_oai_chunk_cb cb,
			void *ud);

/*
 * Parses `n` bytes of the response body, split anywhere. Returns 0 or a negative code
 * with `err` filled: EB_EADAPTER for an error the server sent in the stream (its message
 * in `err`), EB_EPARSE for data that is not a JSON object, EB_EPROTO for an event over
 * the size limit, or the callback's code. After an error only release is allowed.
 */
int eb_oai_stream_feed(struct eb_oai_stream *s, const char *data, size_t n, struct eb_err *err);

/*
 * Ends the body: handles a last event without its blank line, then completes `sum`.
 * Same return values as eb_oai_stream_feed(). A stream without [DONE] or "stop" is not
 * an error here; the caller decides from sum.saw_done / sum.saw_stop.
 */
int eb_oai_stream_finish(struct eb_oai_stream *s, struct eb_err *err);

/* Frees everything, sum.timings included. */
void eb_oai_stream_release(struct eb_oai_stream *s);

#endif
