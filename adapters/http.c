/* http.c: the libcurl layer of the remote adapters (see http.h). */
#include "http.h"

#include "eb_clock.h"
#include "eb_curl.h"
#include "eb_sanitize.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* How much of an error body is kept (more than is quoted, for callers that parse it). */
#define EB_HTTP_ERRBODY_MAX 4096

static void eb_http_wipe(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
}

/* A header name: visible ASCII without ':'; a value: no control characters but tab. */
static int eb_http_header_ok(const char *name, const char *value)
{
	if (!*name)
		return 0;
	for (const char *p = name; *p; p++)
		if (*p == ':' || (unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return 0;
	for (const char *p = value; *p; p++)
		if (((unsigned char)*p < ' ' && *p != '\t') || *p == 0x7f)
			return 0;
	return 1;
}

/* Appends one header line; returns 0 or -1 when libcurl has no memory. */
static int eb_http_add_header(struct eb_http *h, const char *line)
{
	struct curl_slist *l = curl_slist_append(h->headers, line);

	if (!l)
		return -1;
	h->headers = l;
	return 0;
}

int eb_http_init(struct eb_http *h, const char *who, const json_t *opts,
		 const struct eb_opt *table, struct eb_err *err)
{
	const char *url = eb_opt_str(opts, table, "base_url");
	const char *ca = eb_opt_str(opts, table, "ca_file");
	const char *key_env = eb_opt_str(opts, table, "api_key_env");
	const json_t *hdrs = json_object_get(opts, "headers");
	struct eb_buf line;
	const char *name;
	json_t *val;
	size_t len;
	int ret = 0;

	memset(h, 0, sizeof(*h));
	eb_strlcpy(h->who, who, sizeof(h->who));
	eb_buf_init(&line, 0);
	if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
		ret = eb_err_set(err, EB_EINVAL, "%s: base_url '%s' must start with http:// or "
						 "https://", who, url ? url : "");
		goto out;
	}
	h->base_url = eb_xstrdup(url);
	len = strlen(h->base_url);
	while (len > 0 && h->base_url[len - 1] == '/')
		h->base_url[--len] = '\0';
	h->ca_file = eb_xstrdup(ca);
	h->api_key_env = eb_xstrdup(key_env);
	h->insecure = eb_opt_bool(opts, table, "insecure");
	h->connect_ms = (long)(eb_opt_num(opts, table, "connect_timeout_s") * 1000.0 + 0.5);
	h->timeout_ms = (long)(eb_opt_num(opts, table, "timeout_s") * 1000.0 + 0.5);
	h->idle_ms = (long)(eb_opt_num(opts, table, "idle_timeout_s") * 1000.0 + 0.5);
	h->retries = (int)eb_opt_int(opts, table, "retries");
	if (h->connect_ms < 1)
		h->connect_ms = 1;
	if (h->timeout_ms < 1)
		h->timeout_ms = 1;

	/* curl would otherwise wait up to a second for "100 Continue" on large POSTs */
	if (eb_http_add_header(h, "Expect:") || eb_http_add_header(h, "Content-Type: application/json"))
		goto nomem;
	if (json_is_object(hdrs)) {
		json_object_foreach((json_t *)hdrs, name, val) {
			const char *v = json_is_string(val) ? json_string_value(val) : NULL;

			if (!v || !eb_http_header_ok(name, v)) {
				ret = eb_err_set(err, EB_EINVAL,
						 "%s: header '%s' needs a name without ':' or spaces and "
						 "a string value without control characters", who, name);
				goto out;
			}
			eb_buf_reset(&line);
			eb_buf_addf(&line, "%s: %s", name, v);
			if (eb_http_add_header(h, line.buf))
				goto nomem;
		}
	}
	if (key_env) {
		const char *key = getenv(key_env);

		if (!key || !*key) {
			ret = eb_err_set(err, EB_EINVAL,
					 "%s: environment variable '%s' (api_key_env) is not set", who,
					 key_env);
			goto out;
		}
		if (!eb_http_header_ok("Authorization", key)) {
			ret = eb_err_set(err, EB_EINVAL,
					 "%s: the value of '%s' (api_key_env) has control characters",
					 who, key_env);
			goto out;
		}
		eb_buf_reset(&line);
		eb_buf_addf(&line, "Authorization: Bearer %s", key);
		ret = eb_http_add_header(h, line.buf);
		eb_http_wipe(line.buf);
		if (ret)
			goto nomem;
	}

	ret = eb_curl_new(&h->curl, err);
	if (ret) {
		eb_err_prefix(err, "%s", who);
		goto out;
	}
	curl_easy_setopt(h->curl, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, h->connect_ms);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)h->headers);
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "edgebench");
	curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYPEER, h->insecure ? 0L : 1L);
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYHOST, h->insecure ? 0L : 2L);
	if (h->ca_file)
		curl_easy_setopt(h->curl, CURLOPT_CAINFO, h->ca_file);
	ret = 0;
	goto out;
nomem:
	ret = eb_err_set(err, EB_ENOMEM, "%s: out of memory setting up libcurl", who);
out:
	eb_buf_release(&line);
	if (ret)
		eb_http_release(h);
	return ret;
}

void eb_http_release(struct eb_http *h)
{
	if (h->curl)
		curl_easy_cleanup(h->curl);
	for (struct curl_slist *l = h->headers; l; l = l->next)
		eb_http_wipe(l->data);
	curl_slist_free_all(h->headers);
	free(h->base_url);
	free(h->ca_file);
	free(h->api_key_env);
	memset(h, 0, sizeof(*h));
}

void eb_http_describe(const struct eb_http *h, json_t *out)
{
	const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);

	json_object_set_new(out, "base_url", json_string(h->base_url));
	json_object_set_new(out, "tls_verify", json_boolean(!h->insecure));
	if (h->ca_file)
		json_object_set_new(out, "ca_file", json_string(h->ca_file));
	if (h->api_key_env)
		json_object_set_new(out, "api_key_env", json_string(h->api_key_env));
	json_object_set_new(out, "connect_timeout_s", json_real(h->connect_ms / 1000.0));
	json_object_set_new(out, "timeout_s", json_real(h->timeout_ms / 1000.0));
	json_object_set_new(out, "idle_timeout_s", json_real(h->idle_ms / 1000.0));
	json_object_set_new(out, "retries", json_integer(h->retries));
	if (vi && vi->version)
		json_object_set_new(out, "libcurl", json_string(vi->version));
}

/* The API key held in the header list, or NULL. */
static const char *eb_http_key(const struct eb_http *h)
{
	static const char pre[] = "Authorization: Bearer ";

	for (const struct curl_slist *l = h->headers; l; l = l->next)
		if (strncmp(l->data, pre, sizeof(pre) - 1) == 0 && l->data[sizeof(pre) - 1])
			return l->data + sizeof(pre) - 1;
	return NULL;
}

/* `data` into `out` with the key redacted (eb_san_redact_into). */
static void eb_http_redact_into(const struct eb_http *h, struct eb_buf *out, const char *data,
				size_t n)
{
	struct eb_san san;

	eb_san_init(&san, 0, 0);
	eb_san_secret(&san, eb_http_key(h));
	eb_san_redact_into(out, data, n, &san);
	eb_san_release(&san);
}

void eb_http_redact(const struct eb_http *h, char *msg)
{
	struct eb_buf b;

	if (!eb_http_key(h))
		return;
	eb_buf_init(&b, 0);
	eb_http_redact_into(h, &b, msg, strlen(msg));
	eb_strlcpy(msg, b.buf, EB_ERR_MSG_MAX);
	eb_buf_release(&b);
}

void eb_http_quote(const struct eb_http *h, struct eb_buf *b, const char *data, size_t n,
		   size_t max)
{
	struct eb_buf clean;

	if (!eb_http_key(h)) {
		eb_http_excerpt(b, data, n, max);
		return;
	}
	eb_buf_init(&clean, 0);
	eb_http_redact_into(h, &clean, data, n);
	eb_http_excerpt(b, clean.buf, clean.len, max);
	explicit_bzero(clean.buf, clean.len);
	eb_buf_release(&clean);
}

void eb_http_res_init(struct eb_http_res *res)
{
	memset(res, 0, sizeof(*res));
	eb_buf_init(&res->body, 0);
}

void eb_http_res_release(struct eb_http_res *res)
{
	eb_buf_release(&res->body);
}

void eb_http_excerpt(struct eb_buf *b, const char *data, size_t n, size_t max)
{
	size_t k = n < max ? n : max;

	for (size_t i = 0; i < k; i++) {
		char c = data[i];

		if ((unsigned char)c < ' ' || c == 0x7f)
			c = ' ';
		eb_buf_add(b, &c, 1);
	}
	if (n > max)
		eb_buf_addstr(b, "...");
}

/* --- one request ---------------------------------------------------------------- */

struct eb_http_ctx {
	const struct eb_http_req *req;
	struct eb_http_res *res;
	struct eb_err *err;
	CURL *curl;
	const char *who;
	int status_known;
	int got_byte;   /* a header or body byte arrived in this attempt */
	int cb_ret;     /* the body callback's negative code */
	uint64_t last_byte_ns; /* when the latest byte arrived (eb_clock_ns) */
	int idle_expired; /* aborted: no byte for idle_ms */
	long idle_ms;
	volatile int *stop; /* the request's, else the handle's */
};

static size_t eb_http_on_header(char *data, size_t size, size_t n, void *ud)
{
	struct eb_http_ctx *c = ud;

	c->got_byte = 1;
	c->last_byte_ns = eb_clock_ns();
	return size * n;
}

static size_t eb_http_on_write(char *data, size_t size, size_t nmemb, void *ud)
{
	struct eb_http_ctx *c = ud;
	uint64_t t = eb_clock_ns();
	size_t n = size * nmemb;
	int rc;

	c->got_byte = 1;
	c->last_byte_ns = t;
	if (!c->status_known) {
		long st = 0;

		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &st);
		c->res->status = st;
		c->status_known = 1;
	}
	c->res->n_body += n;
	if (c->res->status < 200 || c->res->status >= 300) {
		size_t room = EB_HTTP_ERRBODY_MAX - c->res->body.len;

		eb_buf_add(&c->res->body, data, n < room ? n : room);
		return n;
	}
	if (!c->req->on_body) {
		if (eb_buf_add(&c->res->body, data, n) != 0) {
			c->cb_ret = eb_err_set(c->err, EB_EPROTO,
					       "%s: response from '%s' is larger than %zu bytes",
					       c->who, c->res->url, c->res->body.cap_max);
			return 0;
		}
		return n;
	}
	rc = c->req->on_body(c->req->ud, data, n, t, c->err);
	if (rc == 1) {
		c->res->ended_by_callback = 1;
		return 0;
	}
	if (rc < 0) {
		c->cb_ret = rc;
		return 0;
	}
	return n;
}

static int eb_http_on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
			       curl_off_t ulnow)
{
	struct eb_http_ctx *c = ud;

	if (c->stop && *c->stop)
		return 1;
	/* libcurl calls this about once a second while nothing arrives, more often otherwise */
	if (c->idle_ms > 0 && c->got_byte &&
	    eb_clock_ns() - c->last_byte_ns > (uint64_t)c->idle_ms * 1000000ull) {
		c->idle_expired = 1;
		return 1;
	}
	return 0;
}

/*
 * Failures with no response byte that are worth another try: no connection, or one
 * dropped before answering. A timeout is not retried: the server may be busy with the
 * request, and a second one would only queue behind it.
 */
static int eb_http_retryable(CURLcode cc)
{
	return cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
	       cc == CURLE_GOT_NOTHING || cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR;
}

/* Points `curl` at the request: URL, body, limits and this attempt's context `c`. */
static void eb_http_setup(struct eb_http *h, CURL *curl, const struct eb_http_req *req,
			  struct eb_http_res *res, struct eb_http_ctx *c, struct eb_err *err,
			  char *errbuf)
{
	long timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : h->timeout_ms;

	snprintf(res->url, sizeof(res->url), "%s%s", h->base_url, req->path);
	memset(c, 0, sizeof(*c));
	c->req = req;
	c->res = res;
	c->err = err;
	c->curl = curl;
	c->who = h->who;
	c->idle_ms = h->idle_ms;
	c->stop = req->stop ? req->stop : h->stop;
	curl_easy_setopt(curl, CURLOPT_URL, res->url);
	if (req->json_body) {
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->json_body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)strlen(req->json_body));
	} else {
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, eb_http_on_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, eb_http_on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, eb_http_on_progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, c);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, c->stop || h->idle_ms > 0 ? 0L : 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	if (!req->on_body)
		res->body.cap_max = req->body_max ? req->body_max : EB_HTTP_BODY_MAX;
}

/* Resets what one attempt of a request gathers. */
static void eb_http_attempt(struct eb_http_ctx *c, struct eb_http_res *res, char *errbuf)
{
	errbuf[0] = '\0';
	c->status_known = 0;
	c->got_byte = 0;
	c->cb_ret = 0;
	c->idle_expired = 0;
	res->status = 0;
	res->n_body = 0;
	res->ended_by_callback = 0;
	eb_buf_reset(&res->body);
}

/*
 * The outcome of a finished transfer (libcurl's `cc`) as eb_http_request returns it, and
 * `curl` left with no pointer into the caller's frame.
 */
static int eb_http_outcome(struct eb_http *h, CURL *curl, const struct eb_http_req *req,
			   struct eb_http_res *res, struct eb_http_ctx *c, CURLcode cc,
			   const char *errbuf, struct eb_err *err)
{
	long timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : h->timeout_ms;
	const char *why;
	struct eb_buf msg;
	int ret = 0;

	eb_buf_init(&msg, 0);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
	if (!res->status)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res->status);
	why = eb_curl_why(cc, errbuf);

	if (res->ended_by_callback)
		goto out;
	if (c->cb_ret) {
		ret = c->cb_ret;
		goto out;
	}
	if (cc == CURLE_ABORTED_BY_CALLBACK && c->idle_expired) {
		ret = eb_err_set(err, EB_ETIMEOUT,
				 "%s: the response from '%s' stalled: no byte for %.1f s after %zu "
				 "body bytes (idle_timeout_s %g)",
				 h->who, res->url, (eb_clock_ns() - c->last_byte_ns) / 1e9,
				 res->n_body, h->idle_ms / 1000.0);
		goto out;
	}
	if (cc == CURLE_ABORTED_BY_CALLBACK) {
		ret = eb_err_set(err, EB_EINTR, "%s: request to '%s' interrupted", h->who, res->url);
		goto out;
	}
	if (res->status >= 300) {
		eb_http_quote(h, &msg, res->body.buf, res->body.len, EB_HTTP_EXCERPT);
		if (res->body.len == 0)
			ret = eb_err_set(err, EB_EADAPTER, "%s: HTTP %ld from %s (empty body)", h->who,
					 res->status, res->url);
		else
			ret = eb_err_set(err, EB_EADAPTER, "%s: HTTP %ld from %s: %s", h->who,
					 res->status, res->url, msg.buf);
		goto out;
	}
	if (cc == CURLE_OK)
		goto out;
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		double secs = 0;

		curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME, &secs);
		if (c->got_byte)
			ret = eb_err_set(err, EB_ETIMEOUT,
					 "%s: the response from '%s' did not finish in %.1f s "
					 "(timeout_s %g) after %zu body bytes: %s",
					 h->who, res->url, secs, timeout_ms / 1000.0, res->n_body, why);
		else
			ret = eb_err_set(err, EB_ETIMEOUT,
					 "%s: no response from '%s' in %.1f s (timeout_s %g, "
					 "connect_timeout_s %g): %s",
					 h->who, res->url, secs, timeout_ms / 1000.0,
					 h->connect_ms / 1000.0, why);
		goto out;
	}
	if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE) {
		ret = eb_err_set(err, EB_EIO,
				 "%s: the TLS certificate of '%s' could not be verified: %s (name the "
				 "server's CA with the ca_file option; insecure: true skips the check, "
				 "and every cell records that)",
				 h->who, res->url, why);
		goto out;
	}
	if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST)
		ret = eb_err_set(err, EB_EIO, "%s: cannot connect to '%s': %s (%d attempt%s)",
				 h->who, res->url, why, res->attempts, res->attempts == 1 ? "" : "s");
	else if (c->got_byte)
		ret = eb_err_set(err, EB_EIO, "%s: connection to '%s' failed after %zu body bytes: %s",
				 h->who, res->url, res->n_body, why);
	else
		ret = eb_err_set(err, EB_EIO, "%s: request to '%s' failed: %s (%d attempt%s)", h->who,
				 res->url, why, res->attempts, res->attempts == 1 ? "" : "s");
out:
	if (ret)
		eb_http_redact(h, err->msg);
	/* the handle outlives this frame: leave no pointers to it behind */
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, NULL);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, NULL);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, NULL);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, NULL);
	eb_buf_release(&msg);
	return ret;
}

int eb_http_request(struct eb_http *h, const struct eb_http_req *req, struct eb_http_res *res,
		    struct eb_err *err)
{
	struct eb_http_ctx c;
	char errbuf[CURL_ERROR_SIZE];
	CURLcode cc = CURLE_OK;

	eb_http_setup(h, h->curl, req, res, &c, err, errbuf);
	for (int attempt = 0;; attempt++) {
		eb_http_attempt(&c, res, errbuf);
		if (req->t_send_ns)
			*req->t_send_ns = eb_clock_ns();
		cc = curl_easy_perform(h->curl);
		res->attempts = attempt + 1;
		if (cc == CURLE_OK || c.got_byte || c.cb_ret || cc == CURLE_ABORTED_BY_CALLBACK)
			break;
		if (attempt >= h->retries || !eb_http_retryable(cc) || (c.stop && *c.stop))
			break;
		eb_clock_sleep_ns((uint64_t)(100000000ull << (attempt < 4 ? attempt : 4)), c.stop);
	}
	return eb_http_outcome(h, h->curl, req, res, &c, cc, errbuf, err);
}

/* --- many requests at once ------------------------------------------------------ */

/* One in-flight request of eb_http_multi: its own easy handle, reused by later ones. */
struct eb_http_slot {
	CURL *curl;
	struct eb_http_ctx c;
	struct eb_http_req *rq; /* the request it carries, prepared before the batch */
	struct eb_http_res res;
	struct eb_err err;
	char errbuf[CURL_ERROR_SIZE];
	size_t i;          /* the request it carries */
	int busy;
	uint64_t t_free;   /* when it last became free (the batch's start: never used) */
	uint64_t t_due, t_send;
};

/* The free slot that has been free longest, or NULL. */
static struct eb_http_slot *eb_http_free_slot(struct eb_http_slot *sl, size_t n)
{
	struct eb_http_slot *best = NULL;

	for (size_t k = 0; k < n; k++)
		if (!sl[k].busy && (!best || sl[k].t_free < best->t_free))
			best = &sl[k];
	return best;
}

/* Starts prepared request i in slot `s` on `m`. */
static void eb_http_multi_start(struct eb_http *h, CURLM *m, struct eb_http_slot *s, size_t i,
				struct eb_http_req *rq, uint64_t t_sched)
{
	s->i = i;
	s->busy = 1;
	s->t_due = t_sched > s->t_free ? t_sched : s->t_free;
	s->rq = rq;
	eb_err_clear(&s->err);
	eb_http_res_init(&s->res);
	eb_http_setup(h, s->curl, s->rq, &s->res, &s->c, &s->err, s->errbuf);
	eb_http_attempt(&s->c, &s->res, s->errbuf);
	curl_easy_setopt(s->curl, CURLOPT_PRIVATE, (void *)s);
	s->res.attempts = 1;
	s->t_send = eb_clock_ns();
	if (s->rq->t_send_ns)
		*s->rq->t_send_ns = s->t_send;
	curl_multi_add_handle(m, s->curl);
}

/*
 * The loop of eb_http_multi: libcurl told which sockets to watch (an epoll set) and when
 * to call it back (timer_at), so each socket's data is read on its own and a transfer
 * that ended is seen right after its last bytes, not after every other socket's.
 */
struct eb_http_mloop {
	struct eb_http *h;
	CURLM *m;
	struct eb_http_slot *sl;
	size_t n_slots, next, in_flight;
	const struct eb_http_multi_args *a;
	struct eb_http_req *rqs;
	const struct eb_http_multi_ops *ops;
	void *ud;
	int ep;
	uint64_t timer_at; /* 0: no libcurl timeout pending */
};

static int eb_http_sock_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct eb_http_mloop *L = userp;
	struct epoll_event ev;

	(void)e;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(L->ep, EPOLL_CTL_DEL, fd, NULL);
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.data.fd = fd;
	ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
	if (epoll_ctl(L->ep, EPOLL_CTL_MOD, fd, &ev) != 0)
		epoll_ctl(L->ep, EPOLL_CTL_ADD, fd, &ev);
	return 0;
}

static int eb_http_timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct eb_http_mloop *L = userp;

	(void)m;
	L->timer_at = timeout_ms < 0 ? 0 : eb_clock_ns() + (uint64_t)timeout_ms * 1000000u;
	return 0;
}

/* Starts every request that is due and has a free slot, in index order. */
static void eb_http_multi_admit(struct eb_http_mloop *L)
{
	const struct eb_http_multi_args *a = L->a;
	uint64_t now = eb_clock_ns();
	struct eb_http_slot *s;

	if (a->t_last_send && now > a->t_last_send)
		L->next = a->n; /* the rest are not sent */
	while (L->next < a->n && (!a->t_sched || a->t_sched[L->next] <= now) &&
	       (s = eb_http_free_slot(L->sl, L->n_slots)) != NULL) {
		/* unscheduled: due when its slot freed (or the batch began) */
		eb_http_multi_start(L->h, L->m, s, L->next, &L->rqs[L->next],
				    a->t_sched ? a->t_sched[L->next] : 0);
		L->in_flight++;
		L->next++;
	}
}

/* Every transfer libcurl says ended: tried again, or done and its slot refilled at once. */
static void eb_http_multi_drain(struct eb_http_mloop *L)
{
	struct eb_http *h = L->h;
	struct eb_http_slot *s;
	CURLMsg *msg;
	int left = 0;

	while ((msg = curl_multi_info_read(L->m, &left)) != NULL) {
		int rc;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		curl_multi_remove_handle(L->m, msg->easy_handle);
		/* as eb_http_request: a failure before any response byte (a kept-alive
		 * connection the server had closed) is tried again, here at once */
		if (msg->data.result != CURLE_OK && !s->c.got_byte && !s->c.cb_ret &&
		    eb_http_retryable(msg->data.result) && s->res.attempts <= h->retries &&
		    !(L->a->stop && *L->a->stop)) {
			eb_http_attempt(&s->c, &s->res, s->errbuf);
			s->res.attempts++;
			s->t_send = eb_clock_ns();
			if (s->rq->t_send_ns)
				*s->rq->t_send_ns = s->t_send;
			curl_multi_add_handle(L->m, s->curl);
			continue;
		}
		rc = eb_http_outcome(h, s->curl, s->rq, &s->res, &s->c, msg->data.result, s->errbuf,
				     &s->err);
		L->ops->done(L->ud, s->i, rc, &s->res, s->t_due, s->t_send, &s->err);
		eb_http_res_release(&s->res);
		s->busy = 0;
		/* free since its last byte came: the time the loop took to see the end is the
		 * next request's send lag */
		s->t_free = s->c.last_byte_ns ? s->c.last_byte_ns : eb_clock_ns();
		L->in_flight--;
		eb_http_multi_admit(L);
	}
}

/* How long the loop may sleep: until libcurl's timer or the next scheduled send (the
 * last millisecond before a send is spun, not slept), at most 100 ms (to hear stop). */
static int eb_http_multi_wait_ms(const struct eb_http_mloop *L)
{
	uint64_t now = eb_clock_ns(), until = now + 100000000u;
	const struct eb_http_multi_args *a = L->a;

	if (L->timer_at && L->timer_at < until)
		until = L->timer_at;
	if (L->next < a->n && eb_http_free_slot(L->sl, L->n_slots)) {
		uint64_t due = a->t_sched ? a->t_sched[L->next] : now;

		if (due < until)
			until = due;
	}
	return until > now ? (int)((until - now) / 1000000u) : 0;
}

/* libcurl's timer, when it is due. */
static void eb_http_multi_timer(struct eb_http_mloop *L, int *running)
{
	if (L->timer_at && eb_clock_ns() >= L->timer_at) {
		L->timer_at = 0;
		curl_multi_socket_action(L->m, CURL_SOCKET_TIMEOUT, 0, running);
		eb_http_multi_drain(L);
	}
}

int eb_http_multi(struct eb_http *h, const struct eb_http_multi_args *a,
		  const struct eb_http_multi_ops *ops, void *ud, struct eb_err *err)
{
	struct eb_http_mloop L = { 0 };
	int ret = 0, running = 0;

	L.h = h;
	L.a = a;
	L.ops = ops;
	L.ud = ud;
	L.n_slots = a->max_inflight > 0 && (size_t)a->max_inflight < a->n ? (size_t)a->max_inflight
									     : a->n;
	L.sl = eb_xcalloc(L.n_slots + 1, sizeof(*L.sl));
	L.rqs = eb_xcalloc(a->n + 1, sizeof(*L.rqs));
	L.m = curl_multi_init();
	L.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!L.m || L.ep < 0)
		ret = eb_err_set(err, EB_EIO, "%s: cannot start a curl multi handle", h->who);
	if (!ret) {
		curl_multi_setopt(L.m, CURLMOPT_SOCKETFUNCTION, eb_http_sock_cb);
		curl_multi_setopt(L.m, CURLMOPT_SOCKETDATA, &L);
		curl_multi_setopt(L.m, CURLMOPT_TIMERFUNCTION, eb_http_timer_cb);
		curl_multi_setopt(L.m, CURLMOPT_TIMERDATA, &L);
	}
	/* every request's body and every slot's handle made before the clock starts: a
	 * burst of sends at once is not late by the making */
	for (size_t i = 0; !ret && i < a->n; i++)
		ret = ops->start(ud, i, &L.rqs[i], err);
	for (size_t k = 0; !ret && k < L.n_slots; k++) {
		L.sl[k].curl = curl_easy_duphandle(h->curl);
		if (!L.sl[k].curl)
			ret = eb_err_set(err, EB_ENOMEM, "%s: cannot duplicate a curl handle",
					 h->who);
	}
	if (ret)
		L.next = a->n; /* nothing is sent */
	for (size_t k = 0; k < L.n_slots; k++)
		L.sl[k].t_free = eb_clock_ns();
	while (!ret && (L.next < a->n || L.in_flight)) {
		struct epoll_event ev[64];
		int n;

		if (a->stop && *a->stop) {
			ret = eb_err_set(err, EB_EINTR, "%s: interrupted", h->who);
			break;
		}
		eb_http_multi_admit(&L);
		n = epoll_wait(L.ep, ev, 64, eb_http_multi_wait_ms(&L));
		for (int i = 0; i < n; i++) {
			int mask = ((ev[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
				   ((ev[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
				   ((ev[i].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);

			curl_multi_socket_action(L.m, ev[i].data.fd, mask, &running);
			eb_http_multi_drain(&L);
			/* a transfer whose last bytes came may end only on libcurl's timer (set
			 * to 0 for it): served now, not after the other sockets */
			eb_http_multi_timer(&L, &running);
		}
		eb_http_multi_timer(&L, &running);
	}
	for (size_t k = 0; k < L.n_slots; k++) {
		if (L.sl[k].busy) {
			curl_multi_remove_handle(L.m, L.sl[k].curl);
			ops->done(ud, L.sl[k].i, EB_EINTR, &L.sl[k].res, L.sl[k].t_due, L.sl[k].t_send,
				  err);
			eb_http_res_release(&L.sl[k].res);
		}
		if (L.sl[k].curl)
			curl_easy_cleanup(L.sl[k].curl);
	}
	if (L.m)
		curl_multi_cleanup(L.m);
	if (L.ep >= 0)
		close(L.ep);
	free(L.sl);
	free(L.rqs);
	return ret;
}

/* eb_http_generate_many's state: the adapter's per-request structs, `size` bytes each. */
struct eb_http_many {
	void *S;
	const struct eb_http_gen_ops *ops;
	const struct eb_gen_batch *b;
	char *g;
	char *live; /* live[i]: request i was prepared and not yet released */
};

static int eb_http_many_start(void *ud, size_t i, struct eb_http_req *rq, struct eb_err *err)
{
	struct eb_http_many *M = ud;

	(void)err;
	M->ops->init(M->S, M->g + i * M->ops->size, &M->b->reqs[i], M->b, i, rq);
	rq->stop = M->b->stop;
	M->live[i] = 1;
	return 0;
}

static void eb_http_many_done(void *ud, size_t i, int rc, struct eb_http_res *hr, uint64_t t_due,
			      uint64_t t_send, const struct eb_err *herr)
{
	struct eb_http_many *M = ud;
	struct eb_gen_res res = { 0, -1, -1, NULL, -1, 0, NULL };
	struct eb_err err = *herr;

	(void)t_send; /* init pointed rq->t_send_ns at the adapter's own copy */
	rc = M->ops->end(M->S, M->g + i * M->ops->size, rc, hr, &res, &err);
	M->b->on_done(M->b->ud, i, rc, &res, t_due, &err);
	M->ops->release(M->g + i * M->ops->size);
	M->live[i] = 0;
}

void eb_http_stream_req(struct eb_http_req *hq, const char *path, const char *json_body,
			struct eb_http_stream *hs, volatile int *stop, uint64_t *t_send_ns)
{
	memset(hq, 0, sizeof(*hq));
	hq->path = path;
	hq->json_body = json_body;
	hq->on_body = eb_http_stream_body;
	hq->ud = hs;
	hq->stop = stop;
	hq->t_send_ns = t_send_ns;
}

void eb_gen_res_start(struct eb_gen_res *res, uint64_t t_send)
{
	res->n_prompt = -1;
	res->n_out = -1;
	res->n_cached = -1;
	res->flags = 0;
	res->cache_field = NULL;
	res->t_send_ns = t_send;
}

int eb_http_generate(struct eb_http *h, void *S, const struct eb_http_gen_ops *ops,
		     const struct eb_gen_req *req, struct eb_gen_res *res, struct eb_err *err)
{
	void *g = eb_xcalloc(1, ops->size);
	struct eb_http_res hr;
	struct eb_http_req hq;
	int ret;

	ops->init(S, g, req, NULL, 0, &hq);
	eb_http_res_init(&hr);
	ret = eb_http_request(h, &hq, &hr, err);
	ret = ops->end(S, g, ret, &hr, res, err);
	eb_http_res_release(&hr);
	ops->release(g);
	free(g);
	return ret;
}

int eb_http_generate_many(struct eb_http *h, void *S, const struct eb_http_gen_ops *ops,
			  const struct eb_gen_batch *b, struct eb_err *err)
{
	struct eb_http_many M = { S, ops, b, eb_xcalloc(b->n + 1, ops->size),
				  eb_xcalloc(b->n + 1, 1) };
	struct eb_http_multi_args a = {
		.n = b->n,
		.t_sched = b->t_sched_ns,
		.max_inflight = b->max_inflight,
		.t_last_send = b->t_last_send_ns,
		.stop = b->stop,
	};
	static const struct eb_http_multi_ops mops = { eb_http_many_start, eb_http_many_done };
	int ret = eb_http_multi(h, &a, &mops, &M, err);

	/* prepared and never sent (past t_last_send, or stopped) */
	for (size_t i = 0; i < b->n; i++)
		if (M.live[i])
			ops->release(M.g + i * ops->size);
	free(M.live);
	free(M.g);
	return ret;
}

int eb_http_json(struct eb_http *h, const char *path, const char *json_body, json_t **out,
		 long *status, struct eb_err *err)
{
	struct eb_http_req rq = { .path = path, .json_body = json_body };

	return eb_http_json_req(h, &rq, out, status, err);
}

int eb_http_json_req(struct eb_http *h, const struct eb_http_req *rq, json_t **out,
		     long *status, struct eb_err *err)
{
	struct eb_http_res res;
	json_error_t jerr;
	struct eb_buf msg;
	int ret;

	*out = NULL;
	eb_http_res_init(&res);
	eb_buf_init(&msg, 0);
	ret = eb_http_request(h, rq, &res, err);
	if (status)
		*status = res.status;
	if (ret)
		goto out;
	if (rq->values_max) {
		size_t n = 0;

		for (size_t i = 0; i < res.body.len; i++)
			n += res.body.buf[i] == ',';
		if (n > rq->values_max) {
			ret = eb_err_set(err, EB_EPROTO,
					 "%s: response from '%s' is larger than the request allows: "
					 "%zu values in %zu bytes, more than %zu", h->who, res.url, n,
					 res.body.len, rq->values_max);
			goto out;
		}
	}
	*out = json_loadb(res.body.buf, res.body.len, JSON_DECODE_ANY, &jerr);
	if (!*out) {
		eb_http_quote(h, &msg, res.body.buf, res.body.len, EB_HTTP_EXCERPT);
		ret = eb_err_set(err, EB_EPARSE, "%s: invalid JSON from '%s' (%s): '%s'", h->who,
				 res.url, jerr.text, msg.buf);
		eb_http_redact(h, err->msg);
	}
out:
	eb_buf_release(&msg);
	eb_http_res_release(&res);
	return ret;
}

/* --- a streamed generation ----------------------------------------------------------- */

void eb_http_stream_init(struct eb_http_stream *s,
			 int (*feed)(void *parser, const char *data, size_t n, struct eb_err *err),
			 void *parser)
{
	memset(s, 0, sizeof(*s));
	s->feed = feed;
	s->parser = parser;
	eb_buf_init(&s->head, 0);
}

void eb_http_stream_release(struct eb_http_stream *s)
{
	eb_buf_release(&s->head);
}

int eb_http_stream_body(void *ud, const char *data, size_t n, uint64_t t_ns, struct eb_err *err)
{
	struct eb_http_stream *s = ud;
	int rc;

	if (s->head.len < EB_HTTP_STREAM_HEAD)
		eb_buf_add(&s->head, data,
			   n < EB_HTTP_STREAM_HEAD - s->head.len ? n : EB_HTTP_STREAM_HEAD - s->head.len);
	s->t_piece = t_ns;
	rc = s->feed(s->parser, data, n, err);
	return s->stopped ? 1 : rc;
}

int eb_http_stream_token(struct eb_http_stream *s, int n_tokens, int n_predict,
			 struct eb_err *err)
{
	unsigned long long max = 2ull * (unsigned long long)(n_predict > 0 ? n_predict : 0) +
				 EB_HTTP_STREAM_MARGIN;

	s->n_tokens += n_tokens > 0 ? (unsigned long long)n_tokens : 1;
	if (s->n_tokens <= max)
		return 0;
	return eb_err_set(err, EB_EPROTO,
			  "sent more than %llu tokens for max_tokens %d (2 x max_tokens + %llu); "
			  "reading stopped there", max, n_predict, EB_HTTP_STREAM_MARGIN);
}

int eb_http_stream_error(int ret, const struct eb_http_res *hr, const char *who, const char *bad,
			 size_t n_content_chunks, struct eb_err *err)
{
	if (ret == EB_EIO && n_content_chunks > 0) {
		char msg[EB_ERR_MSG_MAX];

		eb_strlcpy(msg, err->msg, sizeof(msg));
		return eb_err_set(err, EB_EIO, "%s (the stream broke after %zu content chunks)", msg,
				  n_content_chunks);
	}
	if (ret == EB_EADAPTER && hr->status >= 200 && hr->status < 300) /* {"error"} sent */
		eb_err_prefix(err, "%s: stream from '%s'", who, hr->url);
	else if (ret == EB_EPARSE || ret == EB_EPROTO)
		eb_err_prefix(err, "%s: %s from '%s'", who, bad, hr->url);
	return ret;
}

/* --- facts for describe() -------------------------------------------------------------- */

json_t *eb_http_object(struct eb_http *h, const char *path, const char *json_body,
		       long timeout_ms)
{
	struct eb_http_req rq = { .path = path, .json_body = json_body, .timeout_ms = timeout_ms,
				  .body_max = EB_HTTP_FACTS_MAX };
	struct eb_http_res hr;
	struct eb_err e;
	json_t *j = NULL;

	eb_http_res_init(&hr);
	if (eb_http_request(h, &rq, &hr, &e) == 0)
		j = json_loadb(hr.body.buf, hr.body.len, 0, NULL);
	eb_http_res_release(&hr);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

void eb_json_copy_fact(json_t *out, const char *key, const json_t *from, const char *fkey)
{
	json_t *v = json_object_get(from, fkey);

	if (v && (json_is_number(v) || (json_is_string(v) && json_string_length(v) > 0)))
		json_object_set(out, key, v);
}
