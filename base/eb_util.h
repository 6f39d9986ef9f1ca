/* eb_util.h: growable buffers, whole-file reads, sha256 and small string helpers. */
#ifndef EB_UTIL_H
#define EB_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "eb_err.h"

/*
 * A growable byte buffer. `buf` is never NULL after eb_buf_init (it points at a static
 * empty string until something is added) and is always NUL-terminated. `cap_max` (0 =
 * unlimited) bounds growth: an append past it fails with EB_ENOMEM.
 */
struct eb_buf {
	char *buf;
	size_t len;
	size_t alloc;
	size_t cap_max;
};

void eb_buf_init(struct eb_buf *b, size_t cap_max);
int eb_buf_add(struct eb_buf *b, const void *data, size_t n);
int eb_buf_addstr(struct eb_buf *b, const char *s);
int eb_buf_addf(struct eb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void eb_buf_reset(struct eb_buf *b);   /* len = 0, keeps memory */
void eb_buf_release(struct eb_buf *b); /* frees memory, back to the init state */
/* Hands the malloc'd string to the caller (who frees it) and re-inits `b`. */
char *eb_buf_detach(struct eb_buf *b, size_t *len);

/*
 * Reads a whole file into a malloc'd, NUL-terminated buffer the caller frees.
 * Fails (EB_EIO/EB_ENOENT with the path in the message) if unreadable or > max bytes.
 */
int eb_read_file(const char *path, size_t max, char **data, size_t *len, struct eb_err *err);

/* Writes `len` bytes to `path` atomically (temp file + rename). */
int eb_write_file(const char *path, const void *data, size_t len, struct eb_err *err);

/* Creates a directory and its parents (mode 0755); existing ones are fine. */
int eb_mkdirs(const char *path, struct eb_err *err);

/* SHA-256 of a buffer as 64 lower-case hex digits plus NUL into hex[65]. */
void eb_sha256_hex(const void *data, size_t len, char hex[65]);

/* Incremental SHA-256, for files too large to hold. */
struct eb_sha256 {
	uint32_t h[8];
	uint64_t nbytes;
	unsigned char blk[64];
	size_t nblk;
};
void eb_sha256_init(struct eb_sha256 *s);
void eb_sha256_update(struct eb_sha256 *s, const void *data, size_t len);
void eb_sha256_final(struct eb_sha256 *s, char hex[65]);

/* Strict number parsing: the whole string must be a number in range. 0 or EB_EINVAL. */
int eb_parse_ll(const char *s, long long min, long long max, long long *out);
int eb_parse_double(const char *s, double *out);
/*
 * x truncated toward zero into *out, as a cast does, when the result fits a long long;
 * EB_EINVAL for NaN, infinities and anything outside [-2^63, 2^63) (where the cast is
 * undefined behaviour, e.g. a server's "eval_count": 1e300), leaving *out alone.
 */
int eb_double_to_ll(double x, long long *out);

/*
 * The shortest decimal text of x that reads back (strtod) as the same double: %.17g
 * narrowed to the fewest significant digits that still round-trip, so 88.773546 prints
 * as 88.773546, not 88.773545999999996. "nan", "inf" or "-inf" for those; buf holds
 * EB_NUM_SHORTEST_MAX bytes. Returns buf.
 */
enum { EB_NUM_SHORTEST_MAX = 32 };
char *eb_fmt_shortest(char *buf, double x);

/*
 * Arithmetic on stored times (ns), which a database merged from elsewhere may hold at any
 * value: b - a as a double, exact when the difference fits 64 bits, else computed in
 * double (never a signed overflow); a + b into *out, or EB_EINVAL (out untouched) when it
 * would overflow.
 */
double eb_ns_diff(int64_t b, int64_t a);
int eb_ns_add(int64_t a, int64_t b, int64_t *out);

/* Levenshtein distance, for "did you mean" suggestions. */
size_t eb_edit_distance(const char *a, const char *b);

/* strdup that returns NULL only for NULL input and aborts on out-of-memory. */
char *eb_xstrdup(const char *s);
void *eb_xmalloc(size_t n);
void *eb_xcalloc(size_t n, size_t size);
void *eb_xrealloc(void *p, size_t n);

/* Copies at most size-1 bytes and NUL-terminates; returns strlen(src). */
size_t eb_strlcpy(char *dst, const char *src, size_t size);

#endif
