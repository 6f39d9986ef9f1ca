/* ndjson.h: incremental newline-delimited JSON line splitter, fed arbitrary byte splits. */
#ifndef EB_NDJSON_H
#define EB_NDJSON_H

#include <stddef.h>

#include "eb_err.h"
#include "eb_util.h"

/* Used when eb_ndjson_init() is given max_line_bytes == 0. */
#define EB_NDJSON_MAX_LINE_DEFAULT ((size_t)4 << 20)

/*
 * Called once per non-blank line, without its "\n" or "\r\n". `line` is borrowed (valid
 * only during the call) and NUL-terminated after `len` bytes. Return 0 to go on, or a
 * negative EB_E* code with `err` filled to stop: feed/finish then return that code.
 */
typedef int (*eb_ndjson_line_cb)(void *ud, const char *line, size_t len, struct eb_err *err);

/*
 * Splitter state. Owns its line buffer until eb_ndjson_release(); the counters are
 * public and read-only. Lines end in "\n"; a '\r' right before it is dropped (also when
 * the two arrive in different feeds). Lines made only of spaces, tabs and '\r' are
 * skipped. The bytes are not interpreted otherwise (no UTF-8 or JSON checks).
 */
struct eb_ndjson {
	struct eb_buf line;      /* the line being assembled */
	size_t max_line_bytes;
	int failed;              /* an error happened; only eb_ndjson_release() is allowed */
	size_t n_lines;          /* lines handed to the callback */
	size_t n_blank;          /* blank lines skipped */
};

/*
 * Prepares `p`. A line longer than `max_line_bytes` (0 = EB_NDJSON_MAX_LINE_DEFAULT)
 * makes feed fail with EB_EPROTO and a message naming the limit. Never fails.
 */
void eb_ndjson_init(struct eb_ndjson *p, size_t max_line_bytes);

/*
 * Splits `n` bytes into lines, calling `cb` for every line they complete; an
 * unfinished line is kept for the next call. Returns 0, the callback's negative code or
 * EB_EPROTO (line over the limit). After an error later calls return EB_EINVAL.
 */
int eb_ndjson_feed(struct eb_ndjson *p, const char *data, size_t n, eb_ndjson_line_cb cb,
		   void *ud, struct eb_err *err);

/* Ends the stream: a last line without a newline is handed to `cb`. Same returns as feed. */
int eb_ndjson_finish(struct eb_ndjson *p, eb_ndjson_line_cb cb, void *ud, struct eb_err *err);

/* Frees the buffer; `p` may be initialised again afterwards. */
void eb_ndjson_release(struct eb_ndjson *p);

#endif
