/* eb_err.h: error codes and the caller-owned error record every module fills. */
#ifndef EB_ERR_H
#define EB_ERR_H

#include <stddef.h>

/* X-macro: one place for codes and their strings. */
#define EB_ERRNO_MAP(X)                                     \
	X(EB_OK, 0, "ok")                                   \
	X(EB_EINVAL, -1, "invalid argument")                \
	X(EB_ENOMEM, -2, "out of memory")                   \
	X(EB_EIO, -3, "i/o error")                          \
	X(EB_ECONFIG, -4, "configuration error")            \
	X(EB_EADAPTER, -5, "adapter error")                 \
	X(EB_EUNSUPPORTED, -6, "not supported")             \
	X(EB_EINTR, -7, "interrupted")                      \
	X(EB_ETIMEOUT, -8, "timed out")                     \
	X(EB_EDB, -9, "database error")                     \
	X(EB_EPARSE, -10, "parse error")                    \
	X(EB_ENOENT, -11, "not found")                      \
	X(EB_EPROTO, -12, "protocol error")

enum eb_errno {
#define EB_X_(name, val, str) name = val,
	EB_ERRNO_MAP(EB_X_)
#undef EB_X_
};

#define EB_ERR_MSG_MAX 1024

/*
 * Filled where an error happens; owned by the caller (usually on its stack).
 * `code` is one of enum eb_errno; `msg` is lower-case, no full stop, subject quoted:
 * "cannot open 'x.gguf': No such file or directory".
 */
struct eb_err {
	int code;
	char msg[EB_ERR_MSG_MAX];
};

/* Resets `err` to EB_OK with an empty message; `err` may be NULL. */
void eb_err_clear(struct eb_err *err);

/*
 * Sets code and message (printf format) and returns `code`, so callers can write
 * `return eb_err_set(err, EB_EIO, "cannot read '%s'", path);`. `err` may be NULL.
 */
int eb_err_set(struct eb_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with a printf-formatted context and ": ". */
int eb_err_prefix(struct eb_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The fixed string for a code; never NULL. */
const char *eb_strerror(int code);

#endif
