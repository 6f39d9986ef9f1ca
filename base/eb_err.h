/* eb_err.h: error codes and the caller-owned error record every module fills. */
#ifndef EB_ERR_H
#define EB_ERR_H

#include <stddef.h>

/* The codes every function returns: 0, or one of these negatives. */
enum eb_errno {
	EB_OK = 0,
	EB_EINVAL = -1,       /* invalid argument */
	EB_ENOMEM = -2,       /* out of memory */
	EB_EIO = -3,          /* i/o error */
	EB_ECONFIG = -4,      /* configuration error */
	EB_EADAPTER = -5,     /* adapter error */
	EB_EUNSUPPORTED = -6, /* not supported */
	EB_EINTR = -7,        /* interrupted */
	EB_ETIMEOUT = -8,     /* timed out */
	EB_EDB = -9,          /* database error */
	EB_EPARSE = -10,      /* parse error */
	EB_ENOENT = -11,      /* not found */
	EB_EPROTO = -12,      /* protocol error */
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

#endif
