/* sse.h: incremental Server-Sent Events (text/event-stream) parser, fed arbitrary byte splits. */
#ifndef EB_SSE_H
#define EB_SSE_H

#include <stddef.h>

#include "eb_err.h"
#include "eb_util.h"

/* Used when eb_sse_init() is given max_event_bytes == 0. */
#define EB_SSE_MAX_EVENT_DEFAULT ((size_t)4 << 20)

/*
 * Called once per dispatched event. `event` is the last `event:` value of the event (as
 * a C string: cut at a NUL byte), or "message" when there was none (or it was empty);
 * `data` is the `data:` lines joined
 * with '\n' (no trailing '\n'), `len` bytes plus a terminating NUL. Both are borrowed:
 * valid only during the call. Return 0 to go on, or a negative EB_E* code with `err`
 * filled to stop: eb_sse_feed()/eb_sse_finish() then return that code.
 */
typedef int (*eb_sse_event_cb)(void *ud, const char *event, const char *data, size_t len,
			       struct eb_err *err);

/*
 * Parser state. Owns its buffers until eb_sse_release(). The counters are public and
 * read-only for callers.
 *
 * Follows the WHATWG event-stream rules: lines end in "\n", "\r\n" or "\r" (a "\r\n"
 * split between two feeds is one line end); a line starting with ':' is a comment
 * (keep-alive ping) and is ignored but counted; "field: value" drops one space after
 * the colon; `data:` lines are joined with '\n'; `id:` and `retry:` are ignored; an
 * event is dispatched on a blank line, and only if it had at least one `data:` line;
 * a UTF-8 byte order mark at the very start is skipped. One deliberate addition:
 * llama-server reports errors mid-stream as a non-standard `error: {...}` line, so an
 * `error:` field is taken as `event: error` plus `data: {...}` instead of being ignored.
 * Bytes are never interpreted beyond those ASCII delimiters, so a split inside a
 * multi-byte UTF-8 sequence is harmless.
 */
struct eb_sse {
	struct eb_buf line;     /* the line being assembled */
	struct eb_buf data;     /* the event's data so far, each line followed by '\n' */
	struct eb_buf event;    /* the event's type, empty = "message" */
	size_t max_event_bytes;
	int cr_pending;         /* the last byte fed was '\r': skip one leading '\n' */
	int have_data;          /* the pending event has had a data: line */
	int failed;             /* an error happened; only eb_sse_release() is allowed */
	size_t n_lines;         /* lines seen */
	size_t n_comments;      /* ':' comment / ping lines */
	size_t n_events;        /* events dispatched */
};

/*
 * Prepares `sse`. An event whose data is longer than `max_event_bytes`
 * (0 = EB_SSE_MAX_EVENT_DEFAULT), or a line longer than that plus 64 bytes for the field
 * name, makes feed fail with EB_EPROTO and a message naming the limit. Never fails.
 */
void eb_sse_init(struct eb_sse *sse, size_t max_event_bytes);

/*
 * Parses `n` bytes, calling `cb` for every event completed by them. Bytes of an
 * unfinished line or event are kept for the next call. Returns 0, the callback's
 * negative code, or EB_EPROTO (event over the limit; `err` says which limit). After
 * an error the parser is dead: later calls return EB_EINVAL.
 */
int eb_sse_feed(struct eb_sse *sse, const char *data, size_t n, eb_sse_event_cb cb, void *ud,
		struct eb_err *err);

/*
 * Ends the stream: a last line without a line end is processed, then a pending event
 * that lacked its closing blank line is dispatched (some servers end that way).
 * Same return values as eb_sse_feed(). A new stream needs eb_sse_release() and
 * eb_sse_init().
 */
int eb_sse_finish(struct eb_sse *sse, eb_sse_event_cb cb, void *ud, struct eb_err *err);

/* Frees the buffers; `sse` may be initialised again afterwards. */
void eb_sse_release(struct eb_sse *sse);

#endif
