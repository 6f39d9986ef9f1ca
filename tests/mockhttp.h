/* mockhttp.h: a one-thread HTTP/1.1 server on 127.0.0.1:0 that replays recorded streams with known delays, or answers through a test's handler (header-only, for the remote adapter suites). */
#ifndef EB_MOCKHTTP_H
#define EB_MOCKHTTP_H

#include "eb_clock.h"
#include "eb_util.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * What the generation paths (/api/generate, /api/chat, /v1/completions,
 * /v1/chat/completions) answer: the fixture's lines on schedule, HTTP 500 with a JSON
 * error, an HTML page with status 200, a whole JSON object where a stream was asked for,
 * an {"error"} line after the first chunk, a connection closed after two chunks; nothing
 * at all (the request is read, then the server stalls until the client hangs up), the
 * headers and two chunks and then a stall, bytes that are not HTTP, or HTTP 401 whose body
 * quotes the request's Authorization header back (as a careless proxy might).
 */
enum {
	EB_MOCK_STREAM, EB_MOCK_500, EB_MOCK_HTML, EB_MOCK_JSON, EB_MOCK_ERRLINE, EB_MOCK_TRUNCATE,
	EB_MOCK_STALL, EB_MOCK_STALL_MID, EB_MOCK_GARBAGE, EB_MOCK_401_ECHO,
};

/* Largest request the mock reads (scoring requests carry whole token windows). */
#define EB_MOCK_REQ_MAX ((size_t)16 << 20)

struct eb_mock;

/*
 * A test's own answers: called first with each request's path and body (NUL-terminated);
 * returns 1 when it answered on fd, 0 to let the built-in paths answer.
 */
typedef int (*eb_mock_handler)(struct eb_mock *m, int fd, const char *path, const char *body,
			       size_t len);

struct eb_mock {
	int lfd;
	int port;
	pthread_t th;
	volatile int quit;
	pthread_mutex_t mu;
	/* what /api/generate and /api/chat answer; set between requests */
	int mode;
	char **lines;        /* the fixture's lines, line ends kept */
	size_t n_lines;
	int repeat;          /* content lines (all but the last) are sent this many times */
	int first_ms, gap_ms;
	int show_404;        /* /api/show answers 404 (describe falls back to /api/tags) */
	eb_mock_handler handle; /* NULL: only the built-in paths */
	void *ud;            /* the handler's */
	/* what came in */
	char last_body[16384];
	char last_path[256];
	char last_auth[256];  /* the Authorization header's value, "" when none */
	int n_generate;
};

static __attribute__((unused)) int eb_mock_send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static __attribute__((unused)) int eb_mock_send_chunk(int fd, const char *p, size_t n)
{
	char hdr[32];

	snprintf(hdr, sizeof(hdr), "%zx\r\n", n);
	if (eb_mock_send_all(fd, hdr, strlen(hdr)) || eb_mock_send_all(fd, p, n))
		return -1;
	return eb_mock_send_all(fd, "\r\n", 2);
}

/* Holds the connection open, sending nothing, until the client hangs up or the server quits. */
static __attribute__((unused)) void eb_mock_stall(struct eb_mock *m, int fd)
{
	char sink[512];

	while (!m->quit) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 50) > 0 && recv(fd, sink, sizeof(sink), 0) <= 0)
			return;
	}
}

static __attribute__((unused)) void eb_mock_sleep_until(uint64_t t_ns)
{
	struct timespec ts = { (time_t)(t_ns / 1000000000ull), (long)(t_ns % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static __attribute__((unused)) void eb_mock_respond(int fd, const char *status,
						    const char *ctype, const char *body)
{
	char hdr[512];

	snprintf(hdr, sizeof(hdr),
		 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		 status, ctype, strlen(body));
	if (eb_mock_send_all(fd, hdr, strlen(hdr)) == 0)
		eb_mock_send_all(fd, body, strlen(body));
}

/* The stream: headers with the first chunk (as Go's net/http does), each line on schedule. */
static __attribute__((unused)) void eb_mock_stream(struct eb_mock *m, int fd, uint64_t t0)
{
	static const char hdr[] = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
				  "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
	size_t n_content = m->n_lines ? m->n_lines - 1 : 0;
	size_t total = n_content * (size_t)m->repeat + 1;

	for (size_t k = 0; k < total; k++) {
		const char *line = k + 1 == total ? m->lines[m->n_lines - 1]
						  : m->lines[k % (n_content ? n_content : 1)];

		eb_mock_sleep_until(t0 + (uint64_t)(m->first_ms + (int)k * m->gap_ms) * 1000000ull);
		if (k == 0 && eb_mock_send_all(fd, hdr, sizeof(hdr) - 1))
			return;
		if (m->mode == EB_MOCK_ERRLINE && k == 1) {
			static const char e[] = "{\"error\":\"model runner crashed\"}\n";

			eb_mock_send_chunk(fd, e, sizeof(e) - 1);
			break;
		}
		if (m->mode == EB_MOCK_TRUNCATE && k == 2)
			return; /* the connection closes mid-stream, no final chunk */
		if (m->mode == EB_MOCK_STALL_MID && k == 2) {
			eb_mock_stall(m, fd);
			return;
		}
		if (eb_mock_send_chunk(fd, line, strlen(line)))
			return;
	}
	eb_mock_send_all(fd, "0\r\n\r\n", 5);
}

static __attribute__((unused)) void eb_mock_serve(struct eb_mock *m, int fd)
{
	size_t cap = 65536, len = 0, body_len = 0, hoff = 0;
	char *req = eb_xmalloc(cap), *hend = NULL, *cl;
	uint64_t t0;
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			if (cap >= EB_MOCK_REQ_MAX)
				goto out;
			cap *= 2;
			req = eb_xrealloc(req, cap);
			if (hend)
				hend = req + hoff;
		}
		n = recv(fd, req + len, cap - 1 - len, 0);
		if (n <= 0)
			goto out;
		len += (size_t)n;
		req[len] = '\0';
		if (!hend) {
			hend = strstr(req, "\r\n\r\n");
			hoff = hend ? (size_t)(hend - req) : 0;
		}
		if (hend) {
			cl = strcasestr(req, "\r\nContent-Length:");
			body_len = cl && cl < hend ? strtoul(cl + 17, NULL, 10) : 0;
			if (len >= hoff + 4 + body_len)
				break;
		}
	}
	t0 = eb_clock_ns();
	pthread_mutex_lock(&m->mu);
	sscanf(req, "%*s %255s", m->last_path);
	snprintf(m->last_body, sizeof(m->last_body), "%.*s", (int)body_len, hend + 4);
	m->last_auth[0] = '\0';
	{
		char *a = strcasestr(req, "\r\nAuthorization: ");

		if (a && a < hend)
			snprintf(m->last_auth, sizeof(m->last_auth), "%.*s",
				 (int)strcspn(a + 17, "\r"), a + 17);
	}
	pthread_mutex_unlock(&m->mu);
	hend[4 + body_len] = '\0';
	if (m->handle && m->handle(m, fd, m->last_path, hend + 4, body_len))
		goto out;
	if (strcmp(m->last_path, "/api/version") == 0) {
		eb_mock_respond(fd, "200 OK", "application/json", "{\"version\":\"0.12.6\"}");
	} else if (strcmp(m->last_path, "/api/show") == 0) {
		if (m->show_404)
			eb_mock_respond(fd, "404 Not Found", "application/json", "{\"error\":\"not found\"}");
		else
			eb_mock_respond(fd, "200 OK", "application/json",
				   "{\"details\":{\"format\":\"gguf\",\"family\":\"llama\","
				   "\"parameter_size\":\"3.2B\",\"quantization_level\":\"Q4_K_M\"},"
				   "\"model_info\":{\"general.parameter_count\":3212749888}}");
	} else if (strcmp(m->last_path, "/api/tags") == 0) {
		eb_mock_respond(fd, "200 OK", "application/json",
			   "{\"models\":[{\"name\":\"other:latest\",\"size\":1},"
			   "{\"name\":\"qwen2-1.5b-instruct:latest\",\"size\":1100000000,"
			   "\"details\":{\"format\":\"hef\",\"family\":\"qwen2\","
			   "\"parameter_size\":\"1.5B\",\"quantization_level\":\"A8W4\"}}]}");
	} else if (strcmp(m->last_path, "/api/generate") == 0 ||
		   strcmp(m->last_path, "/api/chat") == 0 ||
		   strcmp(m->last_path, "/v1/completions") == 0 ||
		   strcmp(m->last_path, "/v1/chat/completions") == 0) {
		m->n_generate++;
		if (m->mode == EB_MOCK_500)
			eb_mock_respond(fd, "500 Internal Server Error", "application/json",
					"{\"error\":\"llama runner process has terminated: signal: "
					"killed\"}");
		else if (m->mode == EB_MOCK_HTML)
			eb_mock_respond(fd, "200 OK", "text/html",
					"<html><body><h1>Welcome to nginx!</h1></body></html>\n");
		else if (m->mode == EB_MOCK_STALL)
			eb_mock_stall(m, fd);
		else if (m->mode == EB_MOCK_GARBAGE) {
			static const char g[] = "\x16\x03\x01\x02\x00\x01\xff garbage \x00\x7f\r\n\r\n";

			eb_mock_send_all(fd, g, sizeof(g) - 1);
		}
		else if (m->mode == EB_MOCK_401_ECHO) {
			char body[512];

			snprintf(body, sizeof(body),
				 "{\"error\":\"invalid credentials: Authorization: %s\"}", m->last_auth);
			eb_mock_respond(fd, "401 Unauthorized", "application/json", body);
		} else if (m->mode == EB_MOCK_JSON)
			eb_mock_respond(fd, "200 OK", "application/json",
					"{\"choices\":[{\"text\":\" hello\",\"finish_reason\":"
					"\"length\"}],\"usage\":{\"completion_tokens\":1}}");
		else
			eb_mock_stream(m, fd, t0);
	} else {
		eb_mock_respond(fd, "404 Not Found", "text/plain", "404 page not found");
	}
out:
	free(req);
}

static __attribute__((unused)) void *eb_mock_main(void *arg)
{
	struct eb_mock *m = arg;

	while (!m->quit) {
		struct pollfd p = { .fd = m->lfd, .events = POLLIN };
		int fd;

		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept(m->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		eb_mock_serve(m, fd);
		shutdown(fd, SHUT_WR);
		close(fd);
	}
	return NULL;
}

/* A listening socket on 127.0.0.1 and a free port; returns the fd. */
static __attribute__((unused)) int eb_mock_listen(int *port)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;

	ck_assert_int_ge(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = 0;
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* Reads a fixture into lines that keep their "\n" or "\r\n". */
static __attribute__((unused)) void eb_mock_load(struct eb_mock *m, const char *fixture)
{
	char path[4096];
	struct eb_err err;
	char *data = NULL, *p;
	size_t len;

	for (size_t i = 0; i < m->n_lines; i++)
		free(m->lines[i]);
	free(m->lines);
	m->lines = NULL;
	m->n_lines = 0;
	eb_test_data(fixture, path, sizeof(path));
	ck_assert_msg(eb_read_file(path, 1 << 20, &data, &len, &err) == 0, "%s", err.msg);
	for (p = data; *p;) {
		char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);

		m->lines = eb_xrealloc(m->lines, (m->n_lines + 1) * sizeof(*m->lines));
		m->lines[m->n_lines] = eb_xmalloc(n + 1);
		memcpy(m->lines[m->n_lines], p, n);
		m->lines[m->n_lines][n] = '\0';
		m->n_lines++;
		p += n;
	}
	free(data);
}

/* Starts serving; `fixture` (NULL: none) is what the generation paths replay. */
static __attribute__((unused)) void eb_mock_start(struct eb_mock *m, const char *fixture)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->mu, NULL);
	m->lfd = eb_mock_listen(&m->port);
	m->repeat = 1;
	m->first_ms = 30;
	m->gap_ms = 20;
	if (fixture)
		eb_mock_load(m, fixture);
	ck_assert_int_eq(pthread_create(&m->th, NULL, eb_mock_main, m), 0);
}

static __attribute__((unused)) void eb_mock_stop(struct eb_mock *m)
{
	m->quit = 1;
	pthread_join(m->th, NULL);
	close(m->lfd);
	for (size_t i = 0; i < m->n_lines; i++)
		free(m->lines[i]);
	free(m->lines);
	pthread_mutex_destroy(&m->mu);
}

#endif
