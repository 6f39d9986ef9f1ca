/* wikitext.c: WikiText-2 rows (GPTQ), pages and detokenizer (lm-eval); see wikitext.h. */
#include "wikitext.h"

#include "eb_util.h"

#include <stdlib.h>
#include <string.h>

static char *eb_dup_translated(const char *raw, size_t len, size_t *out_len)
{
	char *t = eb_xmalloc(len + 1);

	memcpy(t, raw, len);
	t[len] = '\0';
	*out_len = eb_py_newlines(t, len);
	t[*out_len] = '\0';
	return t;
}

char *eb_wikitext_gptq_text(const char *raw, size_t len, size_t *out_len)
{
	struct eb_buf b;
	size_t n, a = 0;
	char *t = eb_dup_translated(raw, len, &n);
	int first = 1;

	eb_buf_init(&b, 0);
	while (a < n) {
		const char *nl = memchr(t + a, '\n', n - a);
		size_t e = nl ? (size_t)(nl - t) + 1 : n; /* the row keeps its "\n" */

		if (!first)
			eb_buf_add(&b, "\n\n", 2);
		first = 0;
		if (!eb_py_blank(t + a, e - a))
			eb_buf_add(&b, t + a, e - a);
		a = e;
	}
	free(t);
	return eb_buf_detach(&b, out_len);
}

/* Python's s.replace(from, to) over s[0..n-1], appended to `out`. */
static void eb_replace_into(struct eb_buf *out, const char *s, size_t n, const char *from,
			    const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), i = 0;

	while (i < n) {
		if (n - i >= fl && memcmp(s + i, from, fl) == 0) {
			eb_buf_add(out, to, tl);
			i += fl;
		} else {
			eb_buf_add(out, s + i, 1);
			i++;
		}
	}
}

/* In-place-style replace: *s (malloc'd, *n bytes) becomes s.replace(from, to). */
static void eb_replace(char **s, size_t *n, const char *from, const char *to)
{
	struct eb_buf b;

	if (!memmem(*s, *n, from, strlen(from)))
		return;
	eb_buf_init(&b, 0);
	eb_replace_into(&b, *s, *n, from, to);
	free(*s);
	*s = eb_buf_detach(&b, n);
}

/* Whether the line is a top-level heading by wikitext_document_level's rule. */
static int eb_is_page_heading(const char *line, size_t n)
{
	struct eb_buf a, b;
	size_t s, e, k;
	int yes;

	eb_buf_init(&a, 0);
	eb_buf_init(&b, 0);
	eb_replace_into(&a, line, n, "= = =", "===");
	eb_replace_into(&b, a.buf, a.len, "= =", "==");
	s = 0;
	e = b.len;
	while (s < e && (k = eb_py_space_len(b.buf + s, e - s)) > 0)
		s += k;
	/* strip from the right: step back over whole characters */
	while (e > s) {
		size_t c = e - 1;

		while (c > s && ((unsigned char)b.buf[c] & 0xc0) == 0x80)
			c--;
		if (eb_py_space_len(b.buf + c, e - c) != e - c)
			break;
		e = c;
	}
	yes = e - s >= 2 && b.buf[s] == '=' && b.buf[s + 1] == ' ' && b.buf[e - 1] == '=' &&
	      b.buf[e - 2] == ' ';
	eb_buf_release(&a);
	eb_buf_release(&b);
	return yes;
}

void eb_wikitext_pages(const char *raw, size_t len, struct eb_docs *pages)
{
	struct eb_docs_builder bld;
	size_t n, a = 0, page_start = 0, line_no = 1, page_line = 1;
	char *t = eb_dup_translated(raw, len, &n);
	int have_lines = 0;

	eb_docs_builder_init(&bld);
	for (;;) {
		const char *nl = memchr(t + a, '\n', n - a);
		size_t e = nl ? (size_t)(nl - t) : n; /* line is t[a..e) */

		if (eb_is_page_heading(t + a, e - a)) {
			if (have_lines) {
				size_t pe = a - 1; /* the "\n" before the heading */

				if (!eb_py_blank(t + page_start, pe - page_start))
					eb_docs_builder_add(&bld, t + page_start, pe - page_start,
							    page_line);
			}
			page_start = a;
			page_line = line_no;
		}
		have_lines = 1;
		if (!nl)
			break;
		a = e + 1;
		line_no++;
	}
	eb_docs_builder_add(&bld, t + page_start, n - page_start, page_line);
	eb_docs_builder_finish(&bld, pages);
	free(t);
}

/*
 * re.sub(OPEN \s* ([^CLOSE]*?) \s* CLOSE, OPEN \1 CLOSE): every OPEN with a CLOSE after it
 * loses the whitespace just inside both ends; scanning goes on after that CLOSE.
 */
static void eb_strip_pairs(char **s, size_t *n, char open, char close)
{
	struct eb_buf b;
	const char *t = *s;
	size_t i = 0;

	eb_buf_init(&b, 0);
	while (i < *n) {
		const char *o = memchr(t + i, open, *n - i);
		const char *c;
		size_t p, q, x, y, k;

		if (!o)
			break;
		p = (size_t)(o - t);
		c = memchr(t + p + 1, close, *n - p - 1);
		if (!c)
			break;
		q = (size_t)(c - t);
		eb_buf_add(&b, t + i, p - i + 1); /* up to and including OPEN */
		x = p + 1;
		y = q;
		while (x < y && (k = eb_py_space_len(t + x, y - x)) > 0)
			x += k;
		while (y > x) {
			size_t ch = y - 1;

			while (ch > x && ((unsigned char)t[ch] & 0xc0) == 0x80)
				ch--;
			if (eb_py_space_len(t + ch, y - ch) != y - ch)
				break;
			y = ch;
		}
		eb_buf_add(&b, t + x, y - x);
		eb_buf_add(&b, &close, 1);
		i = q + 1;
	}
	eb_buf_add(&b, t + i, *n - i);
	free(*s);
	*s = eb_buf_detach(&b, n);
}

/* re.sub(r"/' [0-9]/", r"/'[0-9]/", s): lm-eval writes the class out literally. */
static void eb_slash_quote_digit(char **s, size_t *n)
{
	struct eb_buf b;
	const char *t = *s;
	size_t i = 0;

	if (!memmem(t, *n, "/' ", 3))
		return;
	eb_buf_init(&b, 0);
	while (i < *n) {
		if (*n - i >= 5 && t[i] == '/' && t[i + 1] == '\'' && t[i + 2] == ' ' &&
		    t[i + 3] >= '0' && t[i + 3] <= '9' && t[i + 4] == '/') {
			eb_buf_addstr(&b, "/'[0-9]/");
			i += 5;
		} else {
			eb_buf_add(&b, t + i, 1);
			i++;
		}
	}
	free(*s);
	*s = eb_buf_detach(&b, n);
}

char *eb_wikitext_detokenize(const char *page, size_t len, size_t *out_len)
{
	static const char *const punct[][2] = {
		{ " @-@ ", "-" }, { " @,@ ", "," }, { " @.@ ", "." }, { " : ", ": " },
		{ " ; ", "; " },  { " . ", ". " },  { " ! ", "! " },  { " ? ", "? " },
		{ " , ", ", " },
	};
	static const char *const misc[][2] = {
		{ "= = = =", "====" }, { "= = =", "===" }, { "= =", "==" },
		{ " \xc2\xb0 ", "\xc2\xb0" }, { " \n", "\n" }, { "\n ", "\n" },
		{ " N ", " 1 " }, { " 's", "'s" },
	};
	size_t n = len;
	char *s = eb_xmalloc(len + 1);

	memcpy(s, page, len);
	s[len] = '\0';
	eb_replace(&s, &n, "s '", "s'");
	eb_slash_quote_digit(&s, &n);
	for (size_t i = 0; i < sizeof(punct) / sizeof(punct[0]); i++)
		eb_replace(&s, &n, punct[i][0], punct[i][1]);
	eb_strip_pairs(&s, &n, '(', ')');
	eb_strip_pairs(&s, &n, '[', ']');
	eb_strip_pairs(&s, &n, '{', '}');
	eb_strip_pairs(&s, &n, '"', '"');
	eb_strip_pairs(&s, &n, '\'', '\'');
	for (size_t i = 0; i < sizeof(misc) / sizeof(misc[0]); i++)
		eb_replace(&s, &n, misc[i][0], misc[i][1]);
	if (out_len)
		*out_len = n;
	return s;
}

size_t eb_py_split_ws_count(const char *s, size_t len)
{
	size_t i = 0, runs = 0, k;
	int in_ws = 0;

	while (i < len) {
		k = eb_py_space_len(s + i, len - i);
		if (k) {
			if (!in_ws)
				runs++;
			in_ws = 1;
			i += k;
		} else {
			in_ws = 0;
			i++;
		}
	}
	return runs + 1;
}
