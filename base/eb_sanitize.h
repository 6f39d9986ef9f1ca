/* eb_sanitize.h: the one cleaning every string from a peer gets before it is stored or printed. */
#ifndef EB_SANITIZE_H
#define EB_SANITIZE_H

#include <stddef.h>

#include <jansson.h>

#include "eb_util.h"

/* What a secret is replaced with. */
#define EB_SAN_REDACTED "[REDACTED]"

/* The most secrets one sanitiser knows (API keys of a run's targets). */
#define EB_SAN_SECRETS_MAX 16

enum {
	EB_SAN_KEEP_TAB = 1 << 0, /* a tab stays a tab (else "\x09") */
	EB_SAN_KEEP_NL = 1 << 1,  /* a line feed stays (else "\x0a"); CR never does */
};

/*
 * What to take out of a peer's strings, and how. Initialise with eb_san_init(); add the
 * secrets with eb_san_secret(); release with eb_san_release(), which wipes the copies.
 * Read-only once filled: one may serve every string of a run.
 */
struct eb_san {
	char *secrets[EB_SAN_SECRETS_MAX];
	size_t n_secrets;
	unsigned flags;   /* EB_SAN_KEEP_* */
	size_t max;       /* bytes of output at most (cut at a character); 0: no bound */
};

void eb_san_init(struct eb_san *san, unsigned flags, size_t max);
/* Adds a copy of `secret` (ignored when NULL, empty, already known, or past the table). */
void eb_san_secret(struct eb_san *san, const char *secret);
void eb_san_release(struct eb_san *san);

/*
 * Appends the cleaned form of `s` (n bytes, may hold NULs) to `out`, in this order:
 * (a) every copy of a secret becomes EB_SAN_REDACTED, and so does a start of one (4 bytes
 * or more) that ends `s`, as where a quote was cut short; (b) C0 control bytes (but tab
 * and line feed where the flags keep them), DEL and the C1 controls U+0080..U+009F become
 * visible text: "\x1b", "\x7f", "\u009b", so an ESC or OSC sequence reaches no terminal
 * and the text still says what came; (c) each byte that is not part of valid UTF-8
 * (stray continuation bytes, overlong forms, surrogates, past U+10FFFF, cut sequences)
 * becomes U+FFFD; (d) at most san->max bytes are written, cut before a character. `san`
 * NULL: no secrets, no flags, no bound. The result is valid UTF-8 without NUL bytes.
 */
void eb_sanitize_into(struct eb_buf *out, const char *s, size_t n, const struct eb_san *san);

/* Step (a) alone: `s` with the secrets redacted, appended to `out` (for text that is
 * cleaned otherwise, such as a quote whose control characters become spaces). */
void eb_san_redact_into(struct eb_buf *out, const char *s, size_t n, const struct eb_san *san);

/* The cleaned copy of the NUL-terminated `s` (NULL for NULL); the caller frees it. */
char *eb_sanitize_str(const char *s, const struct eb_san *san);

/* Text read back from a database (which a merge may have filled with any bytes) for
 * output: eb_sanitize_str() with tabs and line feeds kept, no secrets, no bound; a plain
 * copy when clean already. NULL for NULL; the caller frees it. */
char *eb_sanitize_text(const char *s);

/* Cleans the NUL-terminated `msg` in place (a buffer of `size` bytes, e.g. an
 * EB_ERR_MSG_MAX message), cutting the result to fit. */
void eb_sanitize_msg(char *msg, size_t size, const struct eb_san *san);

/*
 * A deep copy of `v` with every string cleaned: values and object keys (two keys that
 * clean to the same text keep the later value). NULL for NULL; a new reference the caller
 * decrefs. `v` itself is not changed (it may be shared, as a target's options are).
 */
json_t *eb_sanitize_json(const json_t *v, const struct eb_san *san);

/* 1 when `s` is clean already: valid UTF-8 with no byte eb_sanitize_into() would change
 * given `flags` (secrets aside). */
int eb_sanitize_is_clean(const char *s, size_t n, unsigned flags);

#endif
