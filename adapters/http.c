/* http.c: the libcurl layer of the remote adapters (see http.h). */
#include "http.h"

#include "eb_clock.h"
#include "eb_curl.h"
#include "eb_sanitize.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int eb_http_request(struct eb_http *h, const struct eb_http_req *req, struct eb_http_res *res,
		    struct eb_err *err)
{
	struct eb_http_ctx c;
	char errbuf[CURL_ERROR_SIZE];
	CURLcode cc = CURLE_OK;
	long timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : h->timeout_ms;
	const char *why;
	struct eb_buf msg;
	int ret = 0;

	eb_buf_init(&msg, 0);
	snprintf(res->url, sizeof(res->url), "%s%s", h->base_url, req->path);
	memset(&c, 0, sizeof(c));
	c.req = req;
	c.res = res;
	c.err = err;
	c.curl = h->curl;
	c.who = h->who;
	c.idle_ms = h->idle_ms;
	c.stop = req->stop ? req->stop : h->stop;
	curl_easy_setopt(h->curl, CURLOPT_URL, res->url);
	if (req->json_body) {
		curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, req->json_body);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)strlen(req->json_body));
	} else {
		curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, eb_http_on_write);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &c);
	curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, eb_http_on_header);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, &c);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFOFUNCTION, eb_http_on_progress);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, &c);
	curl_easy_setopt(h->curl, CURLOPT_NOPROGRESS, c.stop || h->idle_ms > 0 ? 0L : 1L);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, errbuf);
	if (!req->on_body)
		res->body.cap_max = req->body_max ? req->body_max : EB_HTTP_BODY_MAX;

	for (int attempt = 0;; attempt++) {
		errbuf[0] = '\0';
		c.status_known = 0;
		c.got_byte = 0;
		c.cb_ret = 0;
		c.idle_expired = 0;
		res->status = 0;
		res->n_body = 0;
		res->ended_by_callback = 0;
		eb_buf_reset(&res->body);
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
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, NULL);
	if (!res->status)
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &res->status);
	why = eb_curl_why(cc, errbuf);

	if (res->ended_by_callback)
		goto out;
	if (c.cb_ret) {
		ret = c.cb_ret;
		goto out;
	}
	if (cc == CURLE_ABORTED_BY_CALLBACK && c.idle_expired) {
		ret = eb_err_set(err, EB_ETIMEOUT,
				 "%s: the response from '%s' stalled: no byte for %.1f s after %zu "
				 "body bytes (idle_timeout_s %g)",
				 h->who, res->url, (eb_clock_ns() - c.last_byte_ns) / 1e9,
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

		curl_easy_getinfo(h->curl, CURLINFO_TOTAL_TIME, &secs);
		if (c.got_byte)
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
	else if (c.got_byte)
		ret = eb_err_set(err, EB_EIO, "%s: connection to '%s' failed after %zu body bytes: %s",
				 h->who, res->url, res->n_body, why);
	else
		ret = eb_err_set(err, EB_EIO, "%s: request to '%s' failed: %s (%d attempt%s)", h->who,
				 res->url, why, res->attempts, res->attempts == 1 ? "" : "s");
out:
	if (ret)
		eb_http_redact(h, err->msg);
	/* the handle outlives this frame: leave no pointers to it behind */
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, NULL);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, NULL);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, NULL);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, NULL);
	eb_buf_release(&msg);
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
