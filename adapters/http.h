/* http.h: the small libcurl layer the remote adapters share (JSON POST with a streamed body, GET, timeouts, TLS, retries). */
#ifndef EB_HTTP_H
#define EB_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "eb_err.h"
#include "eb_util.h"
#include "adapter.h"

/* How many bytes of an error response's body a message quotes. */
#define EB_HTTP_EXCERPT 200

/*
 * The connection options every HTTP adapter takes, spliced into its option table so
 * that validation, defaults and `edgebench adapters` stay in one place. `def_url` is the
 * adapter's default base_url.
 */
#define EB_HTTP_OPTIONS(def_url)                                                                   \
	{ .name = "base_url", .type = EB_OPT_STR, .def = EB_DEF_STR(def_url),                      \
	  .help = "server root, http://host:port (https too); requests go to base_url + path" },   \
	{ .name = "headers", .type = EB_OPT_OBJ,                                                   \
	  .help = "extra request headers {\"Name\": \"value\"}; stored with the config, so no "    \
		  "secrets (use api_key_env)" },                                                   \
	{ .name = "api_key_env", .type = EB_OPT_STR,                                               \
	  .help = "name of an environment variable whose value is sent as 'Authorization: Bearer " \
		  "...'; the key itself is never stored or logged" },                              \
	{ .name = "ca_file", .type = EB_OPT_STR,                                                   \
	  .help = "PEM file of CA certificates to verify an https server with" },                  \
	{ .name = "insecure", .type = EB_OPT_BOOL, .def = EB_DEF_BOOL(0),                          \
	  .help = "do not verify the server's TLS certificate and host name (recorded with every " \
		  "cell)" },                                                                       \
	{ .name = "connect_timeout_s", .type = EB_OPT_NUM, .def = EB_DEF_NUM(10),                  \
	  .range = EB_RANGE(0.001, 3600),                                                          \
	  .help = "limit on connecting, in seconds" },                                             \
	{ .name = "timeout_s", .type = EB_OPT_NUM, .def = EB_DEF_NUM(600),                         \
	  .range = EB_RANGE(0.001, 604800),                                                        \
	  .help = "limit on one whole request (the full stream), in seconds" },                    \
	{ .name = "idle_timeout_s", .type = EB_OPT_NUM, .def = EB_DEF_NUM(0),                      \
	  .range = EB_RANGE(0, 604800),                                                            \
	  .help = "limit on a stalled response: seconds with no byte once the first arrived (0: "  \
		  "none, only timeout_s)" },                                                       \
	{ .name = "retries", .type = EB_OPT_INT, .def = EB_DEF_INT(2), .range = EB_RANGE(0, 100),  \
	  .help = "extra attempts for a request that failed before any response byte arrived "     \
		  "(connection refused or reset); never once a byte came" }

/*
 * One server connection: a reused libcurl easy handle (keep-alive, so requests after the
 * first do not pay for connecting) and the resolved options. Owns everything until
 * eb_http_release(). Not for use from two threads at once.
 */
struct eb_http {
	void *curl;              /* CURL * */
	void *headers;           /* struct curl_slist *: extra headers, auth, "Expect:" */
	char *base_url;          /* without trailing '/' */
	char *ca_file;           /* or NULL */
	char *api_key_env;       /* the variable's name, or NULL; never its value */
	int insecure;
	long connect_ms;
	long timeout_ms;
	long idle_ms;            /* 0: no limit between two bytes of a response */
	int retries;
	volatile int *stop;      /* NULL, or heard by every request whose req->stop is NULL;
				    set it (eb_adapter_args.stop) after eb_http_init() */
	char who[32];            /* adapter name, prefixed to messages */
};

/*
 * Reads the EB_HTTP_OPTIONS from `opts` (a validated options object; defaults from
 * `table`) and prepares a handle. Fails with EB_EINVAL for a bad base_url, a header name
 * or value with control characters, or an api_key_env that is unset or empty (the
 * message names the variable, never a value); EB_EIO when libcurl cannot start.
 * Nothing is sent here. On failure `h` needs no release.
 */
int eb_http_init(struct eb_http *h, const char *who, const json_t *opts,
		 const struct eb_opt *table, struct eb_err *err);

/* Frees the handle; the API key held in curl's header list is overwritten first. */
void eb_http_release(struct eb_http *h);

/*
 * Facts for describe(): base_url, tls_verify (false with `insecure`), ca_file,
 * api_key_env (the name only), connect_timeout_s, timeout_s, retries.
 */
void eb_http_describe(const struct eb_http *h, json_t *out);

/*
 * Called with each piece of a 2xx response body as it arrives, `t_ns` being
 * eb_clock_ns() taken when the piece reached the process. Return 0 to go on, 1 to end
 * the transfer quietly (the request then returns 0), or a negative EB_E* code with
 * `err` filled to fail the request with that code.
 */
typedef int (*eb_http_body_cb)(void *ud, const char *data, size_t n, uint64_t t_ns,
			       struct eb_err *err);

struct eb_http_req {
	const char *path;        /* appended to base_url, e.g. "/v1/completions" */
	const char *json_body;   /* POSTed as application/json; NULL: a GET */
	eb_http_body_cb on_body; /* NULL: a 2xx body is collected into res->body */
	void *ud;
	volatile int *stop;      /* NULL (then the handle's), or set asynchronously to abandon
				    (EB_EINTR) */
	uint64_t *t_send_ns;     /* NULL, or set to eb_clock_ns() right before each attempt */
	long timeout_ms;         /* 0: the timeout_s option */
	size_t body_max;         /* a collected body (no on_body) larger than this fails the
				    request; 0: EB_HTTP_BODY_MAX */
	size_t values_max;       /* eb_http_json_req: a body with more ',' than this (an upper
				    bound on its JSON values) fails before it is parsed, since
				    jansson holds each value in ~50 bytes; 0: no such check */
};

/* The largest collected (not streamed) body, by default: jansson may take up to about 25
 * times as much to hold it parsed (a long array of small integers), so the callers whose
 * bodies are known to be smaller say so with body_max, and values_max. */
#define EB_HTTP_BODY_MAX ((size_t)16 << 20)

/* What came back. Initialise with eb_http_res_init(); release with eb_http_res_release(). */
struct eb_http_res {
	long status;             /* HTTP status; 0 when no response arrived */
	struct eb_buf body;      /* collected 2xx body (no on_body; capped at body_max), or
				    the start of an error body */
	size_t n_body;           /* body bytes received */
	int attempts;            /* 1 + retries used */
	int ended_by_callback;   /* on_body returned 1 */
	char url[512];           /* the full URL, for messages */
};

void eb_http_res_init(struct eb_http_res *res);
void eb_http_res_release(struct eb_http_res *res);

/*
 * Performs one request. Returns 0 when a 2xx response was received in full (or the
 * callback ended it with 1), else a negative code with `err` filled, prefixed with the
 * adapter name:
 * - EB_EADAPTER: an HTTP status >= 300: "HTTP 500 from http://...: <first 200 bytes of
 *   the body>" (res->status says which);
 * - EB_EIO: no connection or a transport error ("cannot connect to 'url': ...", or
 *   "connection to 'url' failed after N bytes: ...");
 * - EB_ETIMEOUT: connect or total timeout; EB_EINTR: *stop was set;
 * - the callback's own code.
 * Only failures before the first response byte are retried (`retries` times, with a
 * short growing pause); res->attempts says how many were made.
 */
int eb_http_request(struct eb_http *h, const struct eb_http_req *req, struct eb_http_res *res,
		    struct eb_err *err);

/* --- many requests at once (generate_many): one curl multi handle, one event loop ------ */

struct eb_http_multi_args {
	size_t n;                 /* requests */
	const uint64_t *t_sched;  /* n ascending eb_clock_ns() times, or NULL: all due now */
	int max_inflight;         /* 0: no limit */
	uint64_t t_last_send;     /* 0, or no request starts after this */
	volatile int *stop;       /* NULL, or set to abandon every request (EB_EINTR) */
};

struct eb_http_multi_ops {
	/* Fills *rq for request i (rq and what it points to stay valid until done(i)); called
	 * for every request before the first is sent (the clock of send lag starts after).
	 * A non-zero EB_E* code, err filled, fails the batch before anything is sent. */
	int (*start)(void *ud, size_t i, struct eb_http_req *rq, struct eb_err *err);
	/* Request i ended with rc as eb_http_request returns it (no retries here), res as it
	 * came; t_due: when it could first go (its schedule, or a free slot); t_send: when it
	 * was handed to libcurl. Called once for every request started. */
	void (*done)(void *ud, size_t i, int rc, struct eb_http_res *res, uint64_t t_due,
		     uint64_t t_send, const struct eb_err *err);
};

/*
 * Runs requests 0..n-1 through one multi handle: request i starts, in order, once its
 * time has come and fewer than max_inflight are in flight, each on its own easy handle
 * (duplicated from h's, then reused, so connections are kept alive). Returns 0 once every
 * started request is done, EB_EINTR when *stop was set (the requests in flight then end
 * with EB_EINTR), EB_EIO when libcurl cannot start.
 */
int eb_http_multi(struct eb_http *h, const struct eb_http_multi_args *a,
		  const struct eb_http_multi_ops *ops, void *ud, struct eb_err *err);

/* --- facts for describe(): best effort, never an error ------------------------------- */

/* A JSON object from GET (json_body NULL) or POST within timeout_ms and EB_HTTP_FACTS_MAX
 * bytes; NULL on any failure. */
#define EB_HTTP_FACTS_MAX ((size_t)4 << 20)
json_t *eb_http_object(struct eb_http *h, const char *path, const char *json_body,
		       long timeout_ms);

/* out[key] = from[fkey] when that is a number or a non-empty string (servers leave unknown
 * facts as ""); nothing otherwise. */
void eb_json_copy_fact(json_t *out, const char *key, const json_t *from, const char *fkey);

/* --- a streamed generation: what the openai (SSE) and ollama (NDJSON) adapters share -- */

/*
 * The body of a streamed response fed to the adapter's stream parser, the first bytes
 * kept for messages. Set `feed` and `parser`, then pass eb_http_stream_body as the
 * request's on_body with the struct as ud. The parser's per-chunk callback reads t_piece
 * (when the piece holding the chunk arrived) and sets `stopped` when it ends the request.
 */
struct eb_http_stream {
	int (*feed)(void *parser, const char *data, size_t n, struct eb_err *err);
	void *parser;
	uint64_t t_piece;
	int stopped;
	struct eb_buf head; /* the first EB_HTTP_STREAM_HEAD bytes */
	unsigned long long n_tokens; /* counted by eb_http_stream_token() */
};

/*
 * Tokens a stream may send for a request of n_predict: 2 x n_predict + this margin (chunks
 * that do not say how many tokens they hold count one). Past it reading stops, so a server
 * that ignores max_tokens costs a bounded number of token times, not memory without end.
 */
#define EB_HTTP_STREAM_MARGIN 1024ull

/*
 * Counts a content chunk of n_tokens (0: unknown, one) against the bound above: 0 while
 * within it, else EB_EPROTO with `err` saying how many tokens came for how many asked.
 */
int eb_http_stream_token(struct eb_http_stream *s, int n_tokens, int n_predict,
			 struct eb_err *err);

#define EB_HTTP_STREAM_HEAD 256

void eb_http_stream_init(struct eb_http_stream *s,
			 int (*feed)(void *parser, const char *data, size_t n, struct eb_err *err),
			 void *parser);
void eb_http_stream_release(struct eb_http_stream *s);
int eb_http_stream_body(void *ud, const char *data, size_t n, uint64_t t_ns, struct eb_err *err);

/*
 * After eb_http_request of a stream: names what failed. A transport error after content
 * arrived says how many chunks came first; an {"error"} sent inside a 2xx stream is
 * prefixed "WHO: stream from 'url'", a parse or protocol error "WHO: BAD from 'url'"
 * (BAD: "bad stream", "bad response"). Returns ret.
 */
int eb_http_stream_error(int ret, const struct eb_http_res *hr, const char *who, const char *bad,
			 size_t n_content_chunks, struct eb_err *err);

/*
 * A request whose whole response is one JSON value: POSTs `json_body` (NULL: GET) and
 * parses the body into *out (caller decrefs). Fails as eb_http_request(), or EB_EPARSE
 * when the body is not JSON ("invalid JSON from 'url': ..."). *status (may be NULL) gets
 * the HTTP status even on failure.
 */
int eb_http_json(struct eb_http *h, const char *path, const char *json_body, json_t **out,
		 long *status, struct eb_err *err);

/* eb_http_json() for a request with more settings (stop, timeout, caps); rq->on_body must be
 * NULL. A body past rq->values_max fails with EB_EPROTO, unparsed. */
int eb_http_json_req(struct eb_http *h, const struct eb_http_req *rq, json_t **out,
		     long *status, struct eb_err *err);

/*
 * Replaces every copy of the API key (the api_key_env value) in `msg`, an EB_ERR_MSG_MAX
 * buffer, with "[REDACTED]", and so a start of the key (4 bytes or more) that ends it
 * (eb_san_redact_into): for messages that quote what a server sent back, which may echo the request's Authorization
 * header. eb_http_request() and eb_http_json() apply it to their own messages; adapters
 * apply it to messages they build from response bytes.
 */
void eb_http_redact(const struct eb_http *h, char *msg);

/* eb_http_excerpt() of `data` with the key redacted first, so a cut cannot split a copy. */
void eb_http_quote(const struct eb_http *h, struct eb_buf *b, const char *data, size_t n,
		   size_t max);

/*
 * Writes at most `max` bytes of `data` into `b` with control characters (newlines
 * included) turned into spaces, and "..." when cut: for quoting bodies in messages.
 */
void eb_http_excerpt(struct eb_buf *b, const char *data, size_t n, size_t max);

/* --- generate() and generate_many() of the streaming adapters ----------------------- */

/*
 * generate() and generate_many() of an HTTP adapter from the same pieces: `init` prepares
 * request i of batch b in g (a zeroed struct of `size` bytes) and its HTTP request,
 * pointing hq->t_send_ns into g; `end` turns the transfer's outcome into res as
 * generate() does and returns the request's code; `release` frees what init took.
 */
struct eb_http_gen_ops {
	size_t size;
	void (*init)(void *S, void *g, const struct eb_gen_req *req, const struct eb_gen_batch *b,
		     size_t i, struct eb_http_req *hq);
	int (*end)(void *S, void *g, int ret, const struct eb_http_res *hr, struct eb_gen_res *res,
		   struct eb_err *err);
	void (*release)(void *g);
};

/* Points *hq (zeroed first) at a streamed POST of json_body to path, its body fed to hs. */
void eb_http_stream_req(struct eb_http_req *hq, const char *path, const char *json_body,
			struct eb_http_stream *hs, volatile int *stop, uint64_t *t_send_ns);

/* *res as an `end` starts it: nothing counted (-1), no flags, sent at t_send. */
void eb_gen_res_start(struct eb_gen_res *res, uint64_t t_send);

/* One request (eb_http_request; init gets batch NULL). */
int eb_http_generate(struct eb_http *h, void *S, const struct eb_http_gen_ops *ops,
		     const struct eb_gen_req *req, struct eb_gen_res *res, struct eb_err *err);

/* A batch through eb_http_multi (adapter.h, struct eb_gen_batch). */
int eb_http_generate_many(struct eb_http *h, void *S, const struct eb_http_gen_ops *ops,
			  const struct eb_gen_batch *b, struct eb_err *err);

#endif
