/* sanitize.c: secrets, control characters and invalid UTF-8 out of a peer's strings (see eb_sanitize.h). */
#include "eb_sanitize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A start of a secret this long that ends a string is taken for a cut copy. */
#define EB_SAN_PREFIX_MIN 4

void eb_san_init(struct eb_san *san, unsigned flags, size_t max)
{
	memset(san, 0, sizeof(*san));
	san->flags = flags;
	san->max = max;
}

void eb_san_secret(struct eb_san *san, const char *secret)
{
	if (!secret || !*secret || san->n_secrets == EB_SAN_SECRETS_MAX)
		return;
	for (size_t i = 0; i < san->n_secrets; i++)
		if (strcmp(san->secrets[i], secret) == 0)
			return;
	san->secrets[san->n_secrets++] = eb_xstrdup(secret);
}

void eb_san_release(struct eb_san *san)
{
	for (size_t i = 0; i < san->n_secrets; i++) {
		explicit_bzero(san->secrets[i], strlen(san->secrets[i]));
		free(san->secrets[i]);
	}
	memset(san, 0, sizeof(*san));
}

/* The length of the secret (or of its start that ends the data) at s[0..n), or 0. */
static size_t eb_san_secret_at(const struct eb_san *san, const char *s, size_t n)
{
	for (size_t k = 0; k < san->n_secrets; k++) {
		const char *key = san->secrets[k];
		size_t klen = strlen(key), m = n < klen ? n : klen;

		if ((m == klen || m >= EB_SAN_PREFIX_MIN) && memcmp(s, key, m) == 0)
			return m;
	}
	return 0;
}

/*
 * The length of the valid UTF-8 sequence at s[0..n) and its code point in *cp, or 0 with
 * the length of its maximal invalid start in *bad (at least 1), which becomes one U+FFFD.
 */
static size_t eb_utf8_seq(const unsigned char *s, size_t n, unsigned *cp, size_t *bad)
{
	unsigned c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	*bad = 1;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
		c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
		c &= 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		if (i >= n || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		c = (c << 6) | (s[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = c;
	return len;
}

/* Appends `unit` unless the bound would be passed; returns 0, or -1 when it would. */
static int eb_san_put(struct eb_buf *out, size_t start, size_t max, const char *unit, size_t n)
{
	if (max && out->len - start + n > max)
		return -1;
	eb_buf_add(out, unit, n);
	return 0;
}

/* The control and invalid-UTF-8 pass over text with no secrets left in it. */
static void eb_san_clean(struct eb_buf *out, const char *s, size_t n, unsigned flags, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t start = out->len, i = 0;
	char esc[8];

	while (i < n) {
		unsigned cp;
		size_t bad, len = eb_utf8_seq(u + i, n - i, &cp, &bad);
		int ok;

		if (!len) {
			ok = eb_san_put(out, start, max, "\xef\xbf\xbd", 3);
			i += bad;
		} else if ((cp < 0x20 && !(cp == '\t' && (flags & EB_SAN_KEEP_TAB)) &&
			    !(cp == '\n' && (flags & EB_SAN_KEEP_NL))) || cp == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", cp);
			ok = eb_san_put(out, start, max, esc, 4);
			i += len;
		} else if (cp >= 0x80 && cp <= 0x9f) {
			snprintf(esc, sizeof(esc), "\\u%04x", cp);
			ok = eb_san_put(out, start, max, esc, 6);
			i += len;
		} else {
			ok = eb_san_put(out, start, max, s + i, len);
			i += len;
		}
		if (ok)
			break;
	}
}

void eb_san_redact_into(struct eb_buf *out, const char *s, size_t n, const struct eb_san *san)
{
	size_t i = 0, from = 0;

	while (san && i < n) {
		size_t m = eb_san_secret_at(san, s + i, n - i);

		if (m) {
			eb_buf_add(out, s + from, i - from);
			eb_buf_addstr(out, EB_SAN_REDACTED);
			i += m;
			from = i;
		} else {
			i++;
		}
	}
	eb_buf_add(out, s + from, n - from);
}

void eb_sanitize_into(struct eb_buf *out, const char *s, size_t n, const struct eb_san *san)
{
	struct eb_buf red;

	if (!san || !san->n_secrets) {
		eb_san_clean(out, s, n, san ? san->flags : 0, san ? san->max : 0);
		return;
	}
	eb_buf_init(&red, 0);
	eb_san_redact_into(&red, s, n, san);
	eb_san_clean(out, red.buf, red.len, san->flags, san->max);
	eb_buf_release(&red);
}

char *eb_sanitize_str(const char *s, const struct eb_san *san)
{
	struct eb_buf b;

	if (!s)
		return NULL;
	eb_buf_init(&b, 0);
	eb_sanitize_into(&b, s, strlen(s), san);
	return eb_buf_detach(&b, NULL);
}

char *eb_sanitize_text(const char *s)
{
	struct eb_san keep;

	if (!s || eb_sanitize_is_clean(s, strlen(s), EB_SAN_KEEP_TAB | EB_SAN_KEEP_NL))
		return eb_xstrdup(s);
	eb_san_init(&keep, EB_SAN_KEEP_TAB | EB_SAN_KEEP_NL, 0);
	return eb_sanitize_str(s, &keep);
}

void eb_sanitize_msg(char *msg, size_t size, const struct eb_san *san)
{
	struct eb_san cut;
	struct eb_buf b;

	if (!size)
		return;
	cut = san ? *san : (struct eb_san){ 0 };
	if (!cut.max || cut.max > size - 1)
		cut.max = size - 1;
	eb_buf_init(&b, 0);
	eb_sanitize_into(&b, msg, strlen(msg), &cut);
	memcpy(msg, b.buf, b.len + 1);
	eb_buf_release(&b);
}

json_t *eb_sanitize_json(const json_t *v, const struct eb_san *san)
{
	struct eb_buf b;
	json_t *out, *val;
	const char *key;
	size_t i;

	if (!v)
		return NULL;
	switch (json_typeof(v)) {
	case JSON_STRING:
		eb_buf_init(&b, 0);
		eb_sanitize_into(&b, json_string_value(v), json_string_length(v), san);
		out = json_stringn(b.buf, b.len);
		eb_buf_release(&b);
		return out;
	case JSON_ARRAY:
		out = json_array();
		json_array_foreach(v, i, val)
			json_array_append_new(out, eb_sanitize_json(val, san));
		return out;
	case JSON_OBJECT:
		out = json_object();
		eb_buf_init(&b, 0);
		json_object_foreach((json_t *)v, key, val) {
			eb_buf_reset(&b);
			eb_sanitize_into(&b, key, strlen(key), san);
			json_object_set_new(out, b.buf, eb_sanitize_json(val, san));
		}
		eb_buf_release(&b);
		return out;
	default:
		return json_deep_copy(v);
	}
}

int eb_sanitize_is_clean(const char *s, size_t n, unsigned flags)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		unsigned cp;
		size_t bad, len = eb_utf8_seq(u + i, n - i, &cp, &bad);

		if (!len || (cp >= 0x80 && cp <= 0x9f) || cp == 0x7f)
			return 0;
		if (cp < 0x20 && !(cp == '\t' && (flags & EB_SAN_KEEP_TAB)) &&
		    !(cp == '\n' && (flags & EB_SAN_KEEP_NL)))
			return 0;
		i += len;
	}
	return 1;
}
