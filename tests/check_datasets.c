/* ctest: labels=integration timeout=120 */
/* check_datasets.c: dataset loaders on the samples and on malformed files; fetch against a loopback server. */
#include "c4.h"
#include "corpus.h"
#include "fetch.h"
#include "wikitext.h"
#include "zip.h"
#include "eb_proc.h"
#include "eb_util.h"
#include "eb_build.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define SAMPLES EB_SOURCE_DIR "/datasets/samples"

static char eb_dir[4096];

static void eb_put(const char *name, const void *data, size_t len, char *path, size_t n)
{
	struct eb_err err;

	snprintf(path, n, "%s/%s", eb_dir, name);
	ck_assert_msg(eb_write_file(path, data, len, &err) == 0, "%s", err.msg);
}

/* --- zip --------------------------------------------------------------------------- */

START_TEST(zip_sample_member_equals_raw)
{
	char *z = NULL, *raw = NULL;
	size_t zl, rl;
	struct eb_err err;
	char **names;
	size_t n;

	ck_assert_msg(eb_zip_read(SAMPLES "/wikitext-2-raw-v1.zip", EB_WIKITEXT2_MEMBER, 1 << 20, &z,
				  &zl, &err) == 0,
		      "%s", err.msg);
	ck_assert_int_eq(eb_read_file(SAMPLES "/wiki.test.raw", 1 << 20, &raw, &rl, &err), 0);
	ck_assert_uint_eq(zl, rl);
	ck_assert(memcmp(z, raw, rl) == 0);
	free(z);
	ck_assert_int_eq(eb_zip_names(SAMPLES "/wikitext-2-raw-v1.zip", &names, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(names[0], "wikitext-2-raw/");
	eb_zip_names_free(names, n);
	/* eb_corpus_read picks the WikiText member by itself */
	ck_assert_int_eq(eb_corpus_read(SAMPLES "/wikitext-2-raw-v1.zip", NULL, &z, &zl, &err), 0);
	ck_assert(zl == rl && memcmp(z, raw, rl) == 0);
	free(z);
	free(raw);
	/* a member that is not there: the message lists what is */
	ck_assert_int_eq(eb_zip_read(SAMPLES "/wikitext-2-raw-v1.zip", "wiki.valid.raw", 1 << 20, &z,
				     &zl, &err),
			 EB_ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "no member 'wiki.valid.raw' (members: "
					      "wikitext-2-raw/, wikitext-2-raw/wiki.test.raw)"));
}
END_TEST

static void le16(unsigned char *p, unsigned v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
}

static void le32(unsigned char *p, unsigned long v)
{
	le16(p, v & 0xffff);
	le16(p + 2, (v >> 16) & 0xffff);
}

/* A one-member zip with a stored (uncompressed) member, built byte by byte. */
static size_t eb_stored_zip(unsigned char *buf, const char *name, const char *data, int bad_crc)
{
	size_t nl = strlen(name), dl = strlen(data), p = 0, cd;
	unsigned long crc = crc32(0L, (const Bytef *)data, (uInt)dl) ^ (bad_crc ? 1 : 0);

	memset(buf, 0, 30);
	le32(buf, 0x04034b50);
	le16(buf + 4, 10);
	le32(buf + 14, crc);
	le32(buf + 18, dl);
	le32(buf + 22, dl);
	le16(buf + 26, (unsigned)nl);
	p = 30;
	memcpy(buf + p, name, nl);
	p += nl;
	memcpy(buf + p, data, dl);
	p += dl;
	cd = p;
	memset(buf + p, 0, 46);
	le32(buf + p, 0x02014b50);
	le16(buf + p + 4, 20);
	le16(buf + p + 6, 10);
	le32(buf + p + 16, crc);
	le32(buf + p + 20, dl);
	le32(buf + p + 24, dl);
	le16(buf + p + 28, (unsigned)nl);
	le32(buf + p + 42, 0);
	p += 46;
	memcpy(buf + p, name, nl);
	p += nl;
	memset(buf + p, 0, 22);
	le32(buf + p, 0x06054b50);
	le16(buf + p + 8, 1);
	le16(buf + p + 10, 1);
	le32(buf + p + 12, p - cd);
	le32(buf + p + 16, cd);
	return p + 22;
}

START_TEST(zip_stored_truncated_and_bad_crc)
{
	unsigned char buf[1024];
	char path[8192], *data = NULL;
	size_t n, len;
	struct eb_err err;

	eb_test_tmpdir("datasets-zip", eb_dir, sizeof(eb_dir));
	n = eb_stored_zip(buf, "notes.txt", " = Notes = \n plain text \n", 0);
	eb_put("stored.zip", buf, n, path, sizeof(path));
	ck_assert_msg(eb_corpus_read(path, NULL, &data, &len, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(data, " = Notes = \n plain text \n");
	free(data);

	n = eb_stored_zip(buf, "notes.txt", "some text", 1);
	eb_put("badcrc.zip", buf, n, path, sizeof(path));
	ck_assert_int_eq(eb_zip_read(path, "notes.txt", 1024, &data, &len, &err), EB_EPARSE);
	ck_assert_ptr_nonnull(strstr(err.msg, "badcrc.zip': member 'notes.txt' fails its CRC-32"));

	/* the sample archive cut short: no end of central directory */
	{
		char *whole = NULL;
		size_t wl;

		ck_assert_int_eq(eb_read_file(SAMPLES "/wikitext-2-raw-v1.zip", 1 << 20, &whole, &wl,
					      &err),
				 0);
		eb_put("cut.zip", whole, wl / 2, path, sizeof(path));
		free(whole);
	}
	ck_assert_int_eq(eb_zip_read(path, EB_WIKITEXT2_MEMBER, 1 << 20, &data, &len, &err),
			 EB_EPARSE);
	ck_assert_ptr_nonnull(strstr(err.msg, "cut.zip' is not a zip archive"));
	ck_assert_int_eq(eb_zip_read("/nonexistent.zip", "x", 10, &data, &len, &err), EB_ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot open '/nonexistent.zip'"));
}
END_TEST

/*
 * Sizes in the central directory that the file cannot back are refused before anything
 * is allocated (fuzz_zip found a 5 KB archive that made the reader allocate 3.9 GB).
 */
START_TEST(zip_claimed_sizes_refused)
{
	unsigned char buf[1024];
	char path[8192], *data = NULL;
	size_t n, len, cd = 30 + strlen("a.txt") + strlen("some text");
	struct eb_err err;

	eb_test_tmpdir("datasets-zip-sizes", eb_dir, sizeof(eb_dir));
	n = eb_stored_zip(buf, "a.txt", "some text", 0);
	le32(buf + cd + 20, 3000000000ul); /* compressed size */
	le32(buf + cd + 24, 3000000000ul);
	eb_put("huge.zip", buf, n, path, sizeof(path));
	ck_assert_int_eq(eb_zip_read(path, "a.txt", (size_t)4 << 30, &data, &len, &err), EB_EPARSE);
	ck_assert_ptr_null(data);
	ck_assert_ptr_nonnull(strstr(err.msg, "huge.zip': member 'a.txt' claims 3000000000 "
					      "compressed bytes, past the end of the file"));

	n = eb_stored_zip(buf, "a.txt", "some text", 0);
	le16(buf + cd + 10, 8);               /* deflated */
	le32(buf + cd + 24, 9 * 1032 + 1);    /* one byte more than 9 bytes can inflate to */
	eb_put("ratio.zip", buf, n, path, sizeof(path));
	ck_assert_int_eq(eb_zip_read(path, "a.txt", (size_t)4 << 30, &data, &len, &err), EB_EPARSE);
	ck_assert_ptr_nonnull(strstr(err.msg, "ratio.zip': member 'a.txt' claims 9289 bytes from 9 "
					      "compressed, more than deflate can expand to"));

	n = eb_stored_zip(buf, "a.txt", "some text", 0);
	le32(buf + cd + 24, 2000000000ul);    /* stored: the sizes must agree */
	eb_put("stored.zip", buf, n, path, sizeof(path));
	ck_assert_int_eq(eb_zip_read(path, "a.txt", (size_t)4 << 30, &data, &len, &err), EB_EPARSE);
	ck_assert_ptr_nonnull(strstr(err.msg, "stored member 'a.txt' has inconsistent sizes"));
}
END_TEST

/* --- WikiText ----------------------------------------------------------------------- */

START_TEST(wikitext_rows_pages_detokenizer)
{
	/* rows keep their "\n"; a blank row (" \n") becomes ""; rows join with "\n\n" */
	static const char raw[] = " \n = A = \n \n x @-@ y . \n\n = = B = = \n z";
	size_t n;
	char *j = eb_wikitext_gptq_text(raw, sizeof(raw) - 1, &n);
	struct eb_docs pages;

	ck_assert_str_eq(j, "\n\n = A = \n\n\n\n\n x @-@ y . \n\n\n\n\n = = B = = \n\n\n z");
	ck_assert_uint_eq(n, strlen(j));
	free(j);
	/* \r\n reads as \n (Python's universal newlines) */
	j = eb_wikitext_gptq_text(" a \r\n \r\n b", 10, &n);
	ck_assert_str_eq(j, " a \n\n\n\n\n b");
	free(j);

	/* pages: a top-level heading starts one; sub-headings do not; a blank first page goes */
	eb_wikitext_pages(raw, sizeof(raw) - 1, &pages);
	ck_assert_uint_eq(pages.n, 1);
	ck_assert_str_eq(pages.doc[0], " = A = \n \n x @-@ y . \n\n = = B = = \n z");
	ck_assert_uint_eq(pages.line[0], 2);
	eb_docs_release(&pages);
	{
		static const char two[] = "intro\n = One = \n text \n = Two = \n more\n";

		eb_wikitext_pages(two, sizeof(two) - 1, &pages);
		ck_assert_uint_eq(pages.n, 3);
		ck_assert_str_eq(pages.doc[0], "intro");
		ck_assert_str_eq(pages.doc[1], " = One = \n text ");
		ck_assert_str_eq(pages.doc[2], " = Two = \n more\n");
		eb_docs_release(&pages);
	}
	{
		char *text = NULL;
		size_t len;
		struct eb_err err;

		ck_assert_int_eq(eb_corpus_read(SAMPLES "/wiki.test.raw", NULL, &text, &len, &err), 0);
		eb_wikitext_pages(text, len, &pages);
		ck_assert_uint_eq(pages.n, 3);
		ck_assert(strncmp(pages.doc[1], " = Brannock Valley Railway = ", 29) == 0);
		eb_docs_release(&pages);
		free(text);
	}

	/* the detokenizer, rule by rule (expectations from lm-eval's rules run in python3) */
	{
		static const char *const cases[][2] = {
			{ "the players ' union", "the players' union" },
			{ "a 1 @,@ 200 b 3 @.@ 5 c well @-@ known", "a 1,200 b 3.5 c well-known" },
			{ "x : y ; z . w ! v ? u , t", "x: y; z. w! v? u, t" },
			{ "( 103 ft ) [ a ] { b } \" quoted \"", "(103 ft) [a] {b} \"quoted\"" },
			{ "' tis ' and ' more '", "'tis' and 'more'" },
			{ " = = = = D = = = = \n = = = C = = = \n = = B = = ", " ==== D ====\n=== C ===\n== B == " },
			{ "28 \xc2\xb0 C", "28\xc2\xb0" "C" },
			{ "line end \n next", "line end\nnext" },
			{ "the N th and the N", "the 1 th and the N" },
			{ "the ship 's bell", "the ship's bell" },
			{ "/' 5/ x", "/'[0-9]/ x" },
			{ "( a ( b ) c )", "(a ( b) c )" },
			{ "\" one \" two \" three", "\"one\" two \" three" },
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			char *d = eb_wikitext_detokenize(cases[i][0], strlen(cases[i][0]), &n);

			ck_assert_msg(strcmp(d, cases[i][1]) == 0, "case %zu: '%s' -> '%s', want '%s'",
				      i, cases[i][0], d, cases[i][1]);
			free(d);
		}
	}
	/* len(re.split(r"\s+", s)) counts empty ends too */
	ck_assert_uint_eq(eb_py_split_ws_count(" a b  c ", 8), 5);
	ck_assert_uint_eq(eb_py_split_ws_count("abc", 3), 1);
	ck_assert_uint_eq(eb_py_split_ws_count("a\xc2\xa0" "b", 4), 2); /* no-break space */
	ck_assert_uint_eq(eb_py_split_ws_count("", 0), 1);
}
END_TEST

/*
 * The same rules in python3 (tests/data/datasets/wikitext_ref.py, written from lm-eval's
 * documented steps) over the sample file: pages, word counts, detokenized text, and
 * GPTQ's joined text must be byte-identical. Skipped without python3.
 */
START_TEST(wikitext_matches_python)
{
	char script[4096], *out = NULL, *text = NULL, *p;
	const char *argv[4];
	struct eb_docs pages;
	struct eb_buf b;
	struct eb_err err;
	size_t len, n;
	int rc;

	eb_test_data("datasets/wikitext_ref.py", script, sizeof(script));
	argv[0] = "python3";
	argv[1] = script;
	argv[2] = SAMPLES "/wiki.test.raw";
	argv[3] = NULL;
	rc = eb_proc_capture(argv, 0, 16u << 20, &out, &err);
	if (rc < 0)
		EB_TEST_SKIP("python3 not available (%s)", err.msg);
	ck_assert_msg(rc == 0, "wikitext_ref.py exited with %d", rc);
	ck_assert_int_eq(eb_corpus_read(SAMPLES "/wiki.test.raw", NULL, &text, &len, &err), 0);
	eb_buf_init(&b, 0);
	eb_wikitext_pages(text, len, &pages);
	eb_buf_addf(&b, "pages %zu\n", pages.n);
	for (size_t i = 0; i < pages.n; i++) {
		char *d = eb_wikitext_detokenize(pages.doc[i], pages.len[i], &n);

		eb_buf_addf(&b, "page %zu words %zu bytes %zu\n", i,
			    eb_py_split_ws_count(pages.doc[i], pages.len[i]), pages.len[i]);
		eb_buf_add(&b, d, n);
		eb_buf_addstr(&b, "\n<<<end>>>\n");
		free(d);
	}
	p = eb_wikitext_gptq_text(text, len, &n);
	eb_buf_addf(&b, "gptq %zu\n", n);
	eb_buf_add(&b, p, n);
	eb_buf_addstr(&b, "\n<<<end>>>\n");
	free(p);
	if (strcmp(b.buf, out) != 0) {
		size_t i = 0;

		while (b.buf[i] && b.buf[i] == out[i])
			i++;
		ck_abort_msg("C and python3 differ at byte %zu: C '%.60s' python '%.60s'", i,
			     b.buf + i, out + i);
	}
	eb_buf_release(&b);
	eb_docs_release(&pages);
	free(text);
	free(out);
}
END_TEST

/* --- C4 ----------------------------------------------------------------------------- */

START_TEST(c4_sample_and_malformed)
{
	struct eb_docs docs;
	struct eb_err err;
	char path[8192];

	eb_test_tmpdir("datasets-c4", eb_dir, sizeof(eb_dir));
	ck_assert_msg(eb_c4_load(SAMPLES "/" EB_C4_SHARD, 0, &docs, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(docs.n, 24);
	ck_assert(strncmp(docs.doc[0], "Looking for a simple weeknight dinner?", 38) == 0);
	ck_assert_uint_eq(docs.line[23], 24);
	eb_docs_release(&docs);
	ck_assert_int_eq(eb_c4_load(SAMPLES "/" EB_C4_SHARD, 5, &docs, &err), 0);
	ck_assert_uint_eq(docs.n, 5);
	eb_docs_release(&docs);

	eb_put("bad.json", "{\"text\": \"a\"}\n\n{\"text\": oops}\n", 30, path, sizeof(path));
	ck_assert_int_eq(eb_c4_load(path, 0, &docs, &err), EB_EPARSE);
	ck_assert_msg(strstr(err.msg, "bad.json:3:") && strstr(err.msg, "invalid json"), "%s",
		      err.msg);
	eb_put("notext.json", "{\"text\": \"a\"}\n{\"url\": \"x\"}\n", 27, path, sizeof(path));
	ck_assert_int_eq(eb_c4_load(path, 0, &docs, &err), EB_EPARSE);
	ck_assert_msg(strstr(err.msg, "notext.json:2: missing 'text'"), "%s", err.msg);
	eb_put("num.json", "{\"text\": 5}\n", 12, path, sizeof(path));
	ck_assert_int_eq(eb_c4_load(path, 0, &docs, &err), EB_EPARSE);
	ck_assert_msg(strstr(err.msg, "num.json:1: 'text' is not a string"), "%s", err.msg);
	eb_put("empty.json", "\n\n", 2, path, sizeof(path));
	ck_assert_int_eq(eb_c4_load(path, 0, &docs, &err), EB_EPARSE);
	ck_assert_msg(strstr(err.msg, "empty.json' has no documents"), "%s", err.msg);
	/* a gzip stream cut short names the file */
	{
		char *gz = NULL;
		size_t gl;

		ck_assert_int_eq(eb_read_file(SAMPLES "/" EB_C4_SHARD, 1 << 20, &gz, &gl, &err), 0);
		eb_put("cut.json.gz", gz, gl / 2, path, sizeof(path));
		free(gz);
	}
	ck_assert_int_ne(eb_c4_load(path, 0, &docs, &err), 0);
	ck_assert_msg(strstr(err.msg, "cut.json.gz"), "%s", err.msg);
}
END_TEST

/* --- a loopback HTTP server ------------------------------------------------------ */

/* SRV_ENDLESS: 200 with no length, then `data` over and over until the client hangs up or
 * EB_SRV_ENDLESS_MAX bytes have gone (bounded even when the client never stops). */
enum eb_srv_mode { SRV_OK, SRV_CUT_ONCE, SRV_NO_RANGE, SRV_ENDLESS };
#define EB_SRV_ENDLESS_MAX ((size_t)96 << 20)

struct eb_srv_file {
	const char *path; /* "/name" */
	const char *data;
	size_t len;
	enum eb_srv_mode mode;
};

struct eb_srv {
	int fd;
	int port;
	volatile int stop;
	pthread_t tid;
	const struct eb_srv_file *files;
	size_t n_files;
	int n_requests;
	long long last_range; /* -1: no Range header */
	int cut_done;
	size_t endless_sent; /* bytes of body an SRV_ENDLESS answer got out */
};

/* Sends n bytes; how many went before the peer hung up. */
static size_t eb_srv_send(int fd, const void *p, size_t n)
{
	const char *c = p;
	size_t sent = 0;

	while (sent < n) {
		ssize_t w = send(fd, c + sent, n - sent, MSG_NOSIGNAL);

		if (w <= 0)
			break;
		sent += (size_t)w;
	}
	return sent;
}

static void eb_srv_handle(struct eb_srv *s, int c)
{
	char req[4096], hdr[512], path[256];
	size_t got = 0;
	const struct eb_srv_file *f = NULL;
	long long from = -1;
	char *r;

	while (got < sizeof(req) - 1) {
		ssize_t k = recv(c, req + got, sizeof(req) - 1 - got, 0);

		if (k <= 0)
			return;
		got += (size_t)k;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	if (sscanf(req, "GET %255s HTTP/1.1", path) != 1)
		return;
	r = strcasestr(req, "\r\nRange: bytes=");
	if (r)
		from = strtoll(r + 15, NULL, 10);
	s->n_requests++;
	s->last_range = from;
	for (size_t i = 0; i < s->n_files; i++)
		if (strcmp(s->files[i].path, path) == 0)
			f = &s->files[i];
	if (!f) {
		snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
		eb_srv_send(c, hdr, strlen(hdr));
		return;
	}
	if (f->mode == SRV_ENDLESS) {
		snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
		eb_srv_send(c, hdr, strlen(hdr));
		while (s->endless_sent < EB_SRV_ENDLESS_MAX && !s->stop) {
			size_t w = eb_srv_send(c, f->data, f->len);

			s->endless_sent += w;
			if (w < f->len)
				break;
		}
		return;
	}
	if (from > 0 && f->mode != SRV_NO_RANGE && (size_t)from <= f->len) {
		snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 206 Partial Content\r\nContent-Length: %zu\r\n"
			 "Content-Range: bytes %lld-%zu/%zu\r\nConnection: close\r\n\r\n",
			 f->len - (size_t)from, from, f->len - 1, f->len);
		eb_srv_send(c, hdr, strlen(hdr));
		eb_srv_send(c, f->data + from, f->len - (size_t)from);
		return;
	}
	snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		 f->len);
	eb_srv_send(c, hdr, strlen(hdr));
	if (f->mode == SRV_CUT_ONCE && !s->cut_done) {
		s->cut_done = 1;
		eb_srv_send(c, f->data, f->len / 2); /* then hang up mid-body */
		return;
	}
	eb_srv_send(c, f->data, f->len);
}

static void *eb_srv_main(void *arg)
{
	struct eb_srv *s = arg;

	while (!s->stop) {
		struct pollfd p = { s->fd, POLLIN, 0 };
		int c;

		if (poll(&p, 1, 100) <= 0)
			continue;
		c = accept(s->fd, NULL, NULL);
		if (c < 0)
			continue;
		eb_srv_handle(s, c);
		shutdown(c, SHUT_RDWR);
		close(c);
	}
	return NULL;
}

static void eb_srv_start(struct eb_srv *s, const struct eb_srv_file *files, size_t n)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int one = 1;

	memset(s, 0, sizeof(*s));
	s->files = files;
	s->n_files = n;
	s->last_range = -1;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(s->fd, 0);
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = 0;
	ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(s->fd, 8), 0);
	ck_assert_int_eq(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
	s->port = ntohs(a.sin_port);
	ck_assert_int_eq(pthread_create(&s->tid, NULL, eb_srv_main, s), 0);
}

static void eb_srv_stop(struct eb_srv *s)
{
	s->stop = 1;
	pthread_join(s->tid, NULL);
	close(s->fd);
}

/* 300 KiB of deterministic bytes and their hash. */
static char *eb_payload(size_t n, char hex[65])
{
	char *p = eb_xmalloc(n);
	uint32_t x = 12345;

	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (char)(x >> 16);
	}
	eb_sha256_hex(p, n, hex);
	return p;
}

START_TEST(fetch_good_corrupt_resume)
{
	char hex[65], got[65], url[256], dest[8192], part[8300];
	size_t n = 300 * 1024;
	char *good = eb_payload(n, hex);
	char *bad = eb_xmalloc(n);
	struct eb_srv_file files[] = {
		{ "/good.bin", good, n, SRV_OK },
		{ "/bad.bin", bad, n, SRV_OK },
		{ "/cut.bin", good, n, SRV_CUT_ONCE },
		{ "/norange.bin", good, n, SRV_NO_RANGE },
	};
	struct eb_srv s;
	struct eb_err err;
	struct stat sb;

	memcpy(bad, good, n);
	bad[n / 3] ^= 0x55; /* one byte off: the hash must catch it */
	eb_test_tmpdir("datasets-fetch", eb_dir, sizeof(eb_dir));
	eb_srv_start(&s, files, 4);

	/* a good download: checked and in place, no .part left */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/good.bin", s.port);
	snprintf(dest, sizeof(dest), "%s/good.bin", eb_dir);
	ck_assert_msg(eb_fetch_url(url, dest, hex, got, NULL, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(got, hex);
	ck_assert_int_eq(stat(dest, &sb), 0);
	ck_assert_int_eq((long long)sb.st_size, (long long)n);
	snprintf(part, sizeof(part), "%s.part", dest);
	ck_assert_int_ne(access(part, F_OK), 0);

	/* a corrupted one: an error saying both hashes, and nothing kept */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/bad.bin", s.port);
	snprintf(dest, sizeof(dest), "%s/bad.bin", eb_dir);
	snprintf(part, sizeof(part), "%s.part", dest);
	ck_assert_int_eq(eb_fetch_url(url, dest, hex, got, NULL, &err), EB_EIO);
	ck_assert_ptr_nonnull(strstr(err.msg, "sha256 mismatch"));
	ck_assert_ptr_nonnull(strstr(err.msg, hex));
	ck_assert_int_ne(access(dest, F_OK), 0);
	ck_assert_int_ne(access(part, F_OK), 0);

	/* interrupted: the first try leaves half in .part; the second resumes at that offset */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/cut.bin", s.port);
	snprintf(dest, sizeof(dest), "%s/cut.bin", eb_dir);
	snprintf(part, sizeof(part), "%s.part", dest);
	ck_assert_int_eq(eb_fetch_url(url, dest, hex, got, NULL, &err), EB_EIO);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot download"));
	ck_assert_int_ne(access(dest, F_OK), 0);
	ck_assert_int_eq(stat(part, &sb), 0);
	ck_assert_int_eq((long long)sb.st_size, (long long)(n / 2));
	ck_assert_msg(eb_fetch_url(url, dest, hex, got, NULL, &err) == 0, "%s", err.msg);
	ck_assert_int_eq((int)s.last_range, (int)(n / 2));
	ck_assert_str_eq(got, hex);
	ck_assert_int_ne(access(part, F_OK), 0);

	/* a server that ignores Range sends it all again: the part is restarted, not appended */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/norange.bin", s.port);
	snprintf(dest, sizeof(dest), "%s/norange.bin", eb_dir);
	snprintf(part, sizeof(part), "%s.part", dest);
	ck_assert_int_eq(eb_write_file(part, good, 1000, &err), 0);
	ck_assert_msg(eb_fetch_url(url, dest, hex, got, NULL, &err) == 0, "%s", err.msg);
	ck_assert_int_eq((int)s.last_range, 1000);
	ck_assert_str_eq(got, hex);

	/* a missing file is an HTTP error naming the URL */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/none.bin", s.port);
	snprintf(dest, sizeof(dest), "%s/none.bin", eb_dir);
	ck_assert_int_eq(eb_fetch_url(url, dest, NULL, got, NULL, &err), EB_EIO);
	ck_assert_ptr_nonnull(strstr(err.msg, "none.bin"));
	ck_assert_ptr_nonnull(strstr(err.msg, "404"));
	eb_srv_stop(&s);
	free(good);
	free(bad);
}
END_TEST

/* The CLI against the loopback mirror: a hash mismatch, c4's hash recorded, verify. */
START_TEST(fetch_cli_mirror_record_verify)
{
	static const char fake[] = "{\"text\": \"not the real hellaswag\"}\n";
	static const char c4[] = "{\"text\": \"a c4-shaped document\"}\n";
	struct eb_srv_file files[] = {
		{ "/hellaswag_val.jsonl", fake, sizeof(fake) - 1, SRV_OK },
		{ "/" EB_C4_SHARD, c4, sizeof(c4) - 1, SRV_OK },
	};
	char mirror[128], path[8192], hex[65], *out = NULL;
	struct eb_srv s;
	struct eb_err err;

	eb_test_tmpdir("datasets-cli", eb_dir, sizeof(eb_dir));
	eb_srv_start(&s, files, 2);
	snprintf(mirror, sizeof(mirror), "http://127.0.0.1:%d/", s.port);
	{
		const char *argv[] = { "edgebench", "datasets", "fetch", "hellaswag", "--dir", eb_dir,
				       "--mirror", mirror, NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 1);
		ck_assert_msg(strstr(out, "hellaswag: sha256 mismatch") &&
				      strstr(out, "0aa3b88843990f3f10a97b9575c94d7b71fb2205240ba04ae4884d9e9c992588"),
			      "%s", out);
		free(out);
	}
	snprintf(path, sizeof(path), "%s/hellaswag_val.jsonl", eb_dir);
	ck_assert_int_ne(access(path, F_OK), 0);
	{
		const char *argv[] = { "edgebench", "datasets", "fetch", "c4", "--dir", eb_dir,
				       "--mirror", mirror, NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		eb_sha256_hex(c4, sizeof(c4) - 1, hex);
		ck_assert_msg(strstr(out, "has no published sha256; recorded") && strstr(out, hex),
			      "%s", out);
		free(out);
	}
	ck_assert_int_eq(eb_dataset_recorded(eb_dir, EB_C4_SHARD, path, &err), 0);
	ck_assert_str_eq(path, hex);
	{
		const char *argv[] = { "edgebench", "datasets", "verify", "c4", "--dir", eb_dir, NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		ck_assert_msg(strstr(out, "c4: ok"), "%s", out);
		free(out);
	}
	/* a second fetch finds it present and checked */
	{
		const char *argv[] = { "edgebench", "datasets", "fetch", "c4", "--dir", eb_dir,
				       "--mirror", mirror, NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		ck_assert_msg(strstr(out, "c4: present, sha256 ok"), "%s", out);
		free(out);
	}
	snprintf(path, sizeof(path), "%s/%s", eb_dir, EB_C4_SHARD);
	ck_assert_int_eq(eb_write_file(path, "tampered\n", 9, &err), 0);
	{
		const char *argv[] = { "edgebench", "datasets", "verify", "--dir", eb_dir, NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 1);
		ck_assert_msg(strstr(out, "c4: MISMATCH") && strstr(out, "hellaswag: missing"), "%s",
			      out);
		free(out);
	}
	{
		const char *argv[] = { "edgebench", "datasets", "list", "--dir", eb_dir, NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		ck_assert_msg(strstr(out, "(recorded on first fetch)") &&
				      strstr(out, "wikitext-2-raw-v1.zip (missing"),
			      "%s", out);
		free(out);
	}
	{
		const char *argv[] = { "edgebench", "datasets", "fetch", "nope", NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 2);
		ck_assert_ptr_nonnull(strstr(out, "unknown dataset 'nope' (hellaswag, wikitext2, c4, arc, "
						   "piqa, winogrande, mmlu, gsm8k)"));
		free(out);
	}
	{
		const char *argv[] = { "edgebench", "datasets", "--help", NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		ck_assert_ptr_nonnull(strstr(out, "usage: edgebench datasets"));
		free(out);
	}
	eb_srv_stop(&s);
}
END_TEST

/*
 * An endless mirror: the download stops at the catalog's size for the dataset, fails
 * saying so, and leaves no .part. Before, it wrote until the disk was full.
 */
START_TEST(fetch_endless_mirror_stops)
{
	static char chunk[64 << 10];
	struct eb_srv_file files[] = { { "/hellaswag_val.jsonl", chunk, sizeof(chunk), SRV_ENDLESS } };
	const struct eb_dataset *d = eb_dataset_find("hellaswag");
	char mirror[128], path[8192], *out = NULL;
	struct eb_srv s;

	memset(chunk, 'x', sizeof(chunk));
	ck_assert_uint_lt(d->max_bytes, EB_SRV_ENDLESS_MAX / 2);
	eb_test_tmpdir("datasets-endless", eb_dir, sizeof(eb_dir));
	eb_srv_start(&s, files, 1);
	snprintf(mirror, sizeof(mirror), "http://127.0.0.1:%d/", s.port);
	{
		const char *argv[] = { "edgebench", "datasets", "fetch", "hellaswag", "--dir", eb_dir,
				       "--mirror", mirror, NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 1);
	}
	eb_srv_stop(&s);
	ck_assert_msg(strstr(out, "is larger than") && strstr(out, "the download was removed"), "%s",
		      out);
	free(out);
	/* what was sent: the cap, plus what the socket buffers held when the client hung up */
	ck_assert_msg(s.endless_sent < d->max_bytes + ((size_t)16 << 20), "sent %zu bytes",
		      s.endless_sent);
	snprintf(path, sizeof(path), "%s/hellaswag_val.jsonl.part", eb_dir);
	ck_assert_int_ne(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/hellaswag_val.jsonl", eb_dir);
	ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("datasets");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, zip_sample_member_equals_raw);
	tcase_add_test(tc, zip_stored_truncated_and_bad_crc);
	tcase_add_test(tc, zip_claimed_sizes_refused);
	tcase_add_test(tc, wikitext_rows_pages_detokenizer);
	tcase_add_test(tc, wikitext_matches_python);
	tcase_add_test(tc, c4_sample_and_malformed);
	tcase_add_test(tc, fetch_good_corrupt_resume);
	tcase_add_test(tc, fetch_cli_mirror_record_verify);
	tcase_add_test(tc, fetch_endless_mirror_stops);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
