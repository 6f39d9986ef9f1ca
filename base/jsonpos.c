/* jsonpos.c: a small JSON scanner that remembers where each path's key and value start. */
#include "jsonpos.h"
#include "eb_util.h"

#include <stdlib.h>
#include <string.h>

struct eb_scan {
	const char *s;
	size_t len, i;
	int line, col;
	struct eb_jsonpos *m;
};

static void eb_adv(struct eb_scan *sc)
{
	if (sc->i < sc->len) {
		if (sc->s[sc->i] == '\n') {
			sc->line++;
			sc->col = 1;
		} else {
			sc->col++;
		}
		sc->i++;
	}
}

static void eb_ws(struct eb_scan *sc)
{
	while (sc->i < sc->len && strchr(" \t\r\n", sc->s[sc->i]) && sc->s[sc->i])
		eb_adv(sc);
}

static int eb_peek(struct eb_scan *sc)
{
	return sc->i < sc->len ? (unsigned char)sc->s[sc->i] : -1;
}

static void eb_add(struct eb_scan *sc, const char *path, int kl, int kc, int vl, int vc)
{
	struct eb_jsonpos *m = sc->m;

	if (m->n == m->alloc) {
		m->alloc = m->alloc ? 2 * m->alloc : 64;
		m->ents = eb_xrealloc(m->ents, m->alloc * sizeof(*m->ents));
	}
	m->ents[m->n++] = (struct eb_jsonpos_ent){ eb_xstrdup(path), kl, kc, vl, vc };
}

/* Reads a JSON string (decoding only what key names need: escapes kept as the char). */
static int eb_str(struct eb_scan *sc, struct eb_buf *out)
{
	if (eb_peek(sc) != '"')
		return -1;
	eb_adv(sc);
	while (sc->i < sc->len) {
		char c = sc->s[sc->i];

		if (c == '"') {
			eb_adv(sc);
			return 0;
		}
		if (c == '\\') {
			eb_adv(sc);
			if (sc->i >= sc->len)
				return -1;
			c = sc->s[sc->i];
			if (c == 'u') {
				for (int k = 0; k < 5; k++)
					eb_adv(sc);
				if (out)
					eb_buf_addstr(out, "?");
				continue;
			}
		}
		if (out)
			eb_buf_add(out, &c, 1);
		eb_adv(sc);
	}
	return -1;
}

static int eb_value(struct eb_scan *sc, const char *path, int kl, int kc, int depth);

/* Records where a scan failed; the innermost caller (the first to fail) wins. */
static int eb_fault(struct eb_scan *sc, const char *path)
{
	if (!sc->m->fault_path)
		sc->m->fault_path = eb_xstrdup(path);
	return -1;
}

static int eb_object(struct eb_scan *sc, const char *path, int depth)
{
	struct eb_buf key, sub;
	int ret = -1;

	/* sub: the member being read, else the one before it, else the object itself */

	eb_buf_init(&key, 1 << 16);
	eb_buf_init(&sub, 1 << 16);
	eb_adv(sc); /* { */
	eb_ws(sc);
	if (eb_peek(sc) == '}') {
		eb_adv(sc);
		ret = 0;
		goto out;
	}
	for (;;) {
		int kl, kc;

		eb_ws(sc);
		kl = sc->line;
		kc = sc->col;
		eb_buf_reset(&key);
		if (eb_str(sc, &key))
			goto out;
		eb_buf_reset(&sub);
		if (*path)
			eb_buf_addf(&sub, "%s.%s", path, key.buf);
		else
			eb_buf_addstr(&sub, key.buf);
		eb_ws(sc);
		if (eb_peek(sc) != ':')
			goto out;
		eb_adv(sc);
		if (eb_value(sc, sub.buf, kl, kc, depth + 1))
			goto out;
		eb_ws(sc);
		if (eb_peek(sc) == ',') {
			eb_adv(sc);
			continue;
		}
		if (eb_peek(sc) == '}') {
			eb_adv(sc);
			ret = 0;
		}
		goto out;
	}
out:
	if (ret)
		eb_fault(sc, sub.len ? sub.buf : path);
	eb_buf_release(&key);
	eb_buf_release(&sub);
	return ret;
}

static int eb_array(struct eb_scan *sc, const char *path, int depth)
{
	struct eb_buf sub;
	size_t idx = 0;
	int ret = -1;

	eb_buf_init(&sub, 1 << 16);
	eb_adv(sc); /* [ */
	eb_ws(sc);
	if (eb_peek(sc) == ']') {
		eb_adv(sc);
		ret = 0;
		goto out;
	}
	for (;;) {
		eb_buf_reset(&sub);
		eb_buf_addf(&sub, "%s[%zu]", path, idx++);
		if (eb_value(sc, sub.buf, 0, 0, depth + 1))
			goto out;
		eb_ws(sc);
		if (eb_peek(sc) == ',') {
			eb_adv(sc);
			continue;
		}
		if (eb_peek(sc) == ']') {
			eb_adv(sc);
			ret = 0;
		}
		goto out;
	}
out:
	if (ret)
		eb_fault(sc, sub.len ? sub.buf : path);
	eb_buf_release(&sub);
	return ret;
}

/*
 * Past this depth values are skipped, not recorded: no config nests that deep, and a
 * path of thousands of "[0]" would only bury the message it is meant to place.
 */
#define EB_JSONPOS_DEPTH 16

/* Skips one value, strings included, without recording it. */
static int eb_skip(struct eb_scan *sc, const char *path)
{
	long nest = 0;

	for (;;) {
		int c = eb_peek(sc);

		if (c < 0)
			return eb_fault(sc, path);
		if (c == '"') {
			if (eb_str(sc, NULL))
				return eb_fault(sc, path);
		} else if (c == '[' || c == '{') {
			nest++;
			eb_adv(sc);
		} else if (c == ']' || c == '}') {
			if (nest == 0)
				return 0; /* the enclosing container ends: a scalar ended before */
			nest--;
			eb_adv(sc);
		} else if (nest == 0 && strchr(", \t\r\n", c)) {
			return 0;
		} else {
			eb_adv(sc);
		}
		if (nest == 0 && (c == '"' || c == ']' || c == '}'))
			return 0;
	}
}

static int eb_value(struct eb_scan *sc, const char *path, int kl, int kc, int depth)
{
	int c;

	eb_ws(sc);
	if (depth > EB_JSONPOS_DEPTH)
		return eb_skip(sc, path);
	eb_add(sc, path, kl, kc, sc->line, sc->col);
	c = eb_peek(sc);
	if (c == '{')
		return eb_object(sc, path, depth);
	if (c == '[')
		return eb_array(sc, path, depth);
	if (c == '"')
		return eb_str(sc, NULL);
	if (c < 0)
		return eb_fault(sc, path);
	/* number, true, false, null: up to a delimiter */
	while (sc->i < sc->len && !strchr(",]} \t\r\n", sc->s[sc->i]))
		eb_adv(sc);
	return 0;
}

int eb_jsonpos_scan(struct eb_jsonpos *m, const char *text, size_t len)
{
	struct eb_scan sc = { text, len, 0, 1, 1, m };

	m->ents = NULL;
	m->n = m->alloc = 0;
	m->fault_path = NULL;
	if (eb_value(&sc, "", 0, 0, 0))
		return -1;
	/* anything but white space after the value */
	eb_ws(&sc);
	return sc.i < sc.len ? eb_fault(&sc, "") : 0;
}

void eb_jsonpos_release(struct eb_jsonpos *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->ents[i].path);
	free(m->ents);
	free(m->fault_path);
	m->ents = NULL;
	m->fault_path = NULL;
	m->n = m->alloc = 0;
}

const struct eb_jsonpos_ent *eb_jsonpos_find(const struct eb_jsonpos *m, const char *path)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->ents[i].path, path) == 0)
			return &m->ents[i];
	return NULL;
}

const char *eb_jsonpos_encoding(const char *text, size_t len)
{
	const unsigned char *u = (const unsigned char *)text;

	if (len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf)
		return "the file starts with a UTF-8 byte order mark; save it as UTF-8 without one";
	if (len >= 2 && ((u[0] == 0xff && u[1] == 0xfe) || (u[0] == 0xfe && u[1] == 0xff)))
		return "the file starts with a UTF-16 or UTF-32 byte order mark; save it as UTF-8";
	for (size_t i = 0; i < len && i < 4; i++)
		if (!u[i])
			return "the file has NUL bytes at its start (UTF-16 or UTF-32 text, or not "
			       "text at all); save it as UTF-8";
	return NULL;
}
