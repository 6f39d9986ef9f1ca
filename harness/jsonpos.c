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

static int eb_object(struct eb_scan *sc, const char *path, int depth)
{
	struct eb_buf key, sub;
	int ret = -1;

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
		eb_ws(sc);
		if (eb_peek(sc) != ':')
			goto out;
		eb_adv(sc);
		eb_buf_reset(&sub);
		if (*path)
			eb_buf_addf(&sub, "%s.%s", path, key.buf);
		else
			eb_buf_addstr(&sub, key.buf);
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
	eb_buf_release(&sub);
	return ret;
}

static int eb_value(struct eb_scan *sc, const char *path, int kl, int kc, int depth)
{
	int c;

	if (depth > 256)
		return -1;
	eb_ws(sc);
	eb_add(sc, path, kl, kc, sc->line, sc->col);
	c = eb_peek(sc);
	if (c == '{')
		return eb_object(sc, path, depth);
	if (c == '[')
		return eb_array(sc, path, depth);
	if (c == '"')
		return eb_str(sc, NULL);
	if (c < 0)
		return -1;
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
	return eb_value(&sc, "", 0, 0, 0);
}

void eb_jsonpos_release(struct eb_jsonpos *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->ents[i].path);
	free(m->ents);
	m->ents = NULL;
	m->n = m->alloc = 0;
}

const struct eb_jsonpos_ent *eb_jsonpos_find(const struct eb_jsonpos *m, const char *path)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->ents[i].path, path) == 0)
			return &m->ents[i];
	return NULL;
}
