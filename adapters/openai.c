/* openai.c: the OpenAI-compatible adapter (llama-server, vLLM, TensorRT-LLM, ...): streamed /v1/completions or /v1/chat/completions, and scoring by echoed prompt log-probs. */
#include "adapter.h"
#include "http.h"
#include "oai_stream.h"

#include "eb_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const eb_openai_endpoints[] = { "completions", "chat", NULL };
static const char *const eb_openai_modes[] = { "auto", "on", "off", NULL };

static const struct eb_opt eb_openai_opts[] = {
	EB_HTTP_OPTIONS("http://127.0.0.1:8080"),
	{ .name = "endpoint", .type = EB_OPT_ENUM, .def = EB_DEF_STR("completions"),
	  .choices = eb_openai_endpoints,
	  .help = "completions: POST /v1/completions with the prompt as text; chat: POST "
		  "/v1/chat/completions with it as one user message (the server's chat template "
		  "adds tokens)" },
	{ .name = "model", .type = EB_OPT_STR,
	  .help = "model name sent to the server; default: the variant's model_name" },
	{ .name = "tokenize", .type = EB_OPT_ENUM, .def = EB_DEF_STR("auto"),
	  .choices = eb_openai_modes,
	  .help = "prompts of exact token length through the server's /tokenize and /detokenize "
		  "(llama-server, vLLM): auto = when the server has them (probed once at open), on "
		  "= required, off = never" },
	{ .name = "include_usage", .type = EB_OPT_BOOL, .def = EB_DEF_BOOL(1),
	  .help = "send stream_options.include_usage, so the last chunk carries the token counts" },
	{ .name = "ignore_eos", .type = EB_OPT_BOOL, .def = EB_DEF_BOOL(1),
	  .help = "send ignore_eos: true so every request generates max_tokens; false for servers "
		  "that reject the field" },
	{ .name = "min_tokens", .type = EB_OPT_BOOL, .def = EB_DEF_BOOL(1),
	  .help = "send min_tokens = max_tokens (vLLM, TensorRT-LLM, llama-server ignores it); "
		  "false for servers that reject the field" },
	{ .name = "no_cache_prompt", .type = EB_OPT_BOOL, .def = EB_DEF_BOOL(1),
	  .help = "send cache_prompt: false (llama-server evaluates every prompt afresh, for "
		  "honest TTFT); false leaves the field out" },
	{ .name = "timings_per_token", .type = EB_OPT_BOOL, .def = EB_DEF_BOOL(0),
	  .help = "ask llama-server for timings in every chunk, which tells how many tokens each "
		  "chunk carried" },
	{ .name = "prompt_logprobs", .type = EB_OPT_ENUM, .def = EB_DEF_STR("auto"),
	  .choices = eb_openai_modes,
	  .help = "accuracy scoring by POST /v1/completions with token-id prompts, echo: true and "
		  "logprobs (vLLM semantics: the prompt's log-probs come back, the first null): "
		  "auto = ask the server once with a tiny request and skip accuracy cells when it "
		  "has none (llama-server, Ollama), on = assume it has them (a response without "
		  "fails the cell), off = skip accuracy cells" },
	{ .name = "echo_max_tokens", .type = EB_OPT_INT, .def = EB_DEF_INT(1),
	  .range = EB_RANGE(0, 1),
	  .help = "max_tokens of a scoring request: 1 as lm-eval sends it (any vLLM version; a "
		  "sequence must leave room for one token in max_model_len), 0 for the prompt's "
		  "log-probs alone (newer vLLM)" },
	{ .name = "loglik_batch", .type = EB_OPT_INT, .def = EB_DEF_INT(8),
	  .range = EB_RANGE(1, 256),
	  .help = "sequences per scoring request (a list of prompts); a request also stops at "
		  "32768 tokens, and a longer sequence goes alone" },
	{ NULL },
};

/* Size of the start of a response kept to quote when it is not an event stream. */
/* describe() must not hang a cell on a server that is slow to answer side requests. */
#define EB_OPENAI_DESCRIBE_MS 5000
/* Tokens of one scoring request, unless a single sequence is longer. */
#define EB_OPENAI_ECHO_TOKENS 32768
/* vLLM's stand-in for a log-probability of -inf (JSON has no infinities). */
#define EB_OPENAI_LOGP_CLAMP (-9999.0)

struct eb_openai {
	struct eb_http http;
	char *model;            /* NULL: no "model" field */
	const char *path;       /* "/v1/completions" or "/v1/chat/completions" */
	int chat;
	int include_usage, ignore_eos, min_tokens, no_cache_prompt, timings_per_token;
	const char *tok_mode;
	int have_tokenize;      /* /tokenize and /detokenize answered at open */
	int32_t *prefix;        /* tokens the server puts before any text (BOS), or NULL */
	size_t n_prefix;
	int strip_space;        /* /detokenize keeps the space its tokenizer adds in front */
	const char *plp_mode;   /* prompt_logprobs option */
	int plp;                /* 0 not asked yet, 1 returns prompt log-probs, -1 does not */
	char *plp_why;          /* with plp -1: the reason, for every later request */
	int echo_max_tokens, loglik_batch;
};

static void eb_openai_close(void *state)
{
	struct eb_openai *S = state;

	if (!S)
		return;
	eb_http_release(&S->http);
	free(S->model);
	free(S->prefix);
	free(S->plp_why);
	free(S);
}

/* --- /tokenize and /detokenize (llama-server's and vLLM's field names both sent) ---- */

/*
 * Caps on tokenizer answers, in proportion to the request: /tokenize gets at most the
 * text's bytes plus this many values, /detokenize at most EB_OPENAI_PIECE_MAX bytes a
 * token (a piece, JSON-escaped) plus 4 KiB.
 */
#define EB_OPENAI_TOKENS_SLACK 64
#define EB_OPENAI_PIECE_MAX 256

/* A transport failure: the server is not there at all (as opposed to "no such endpoint"). */
static int eb_openai_unreachable(int code)
{
	return code == EB_EIO || code == EB_ETIMEOUT || code == EB_EINTR;
}

static int eb_openai_tokenize_raw(struct eb_openai *S, const char *text, int add_special,
				  int32_t **out, size_t *n_out, struct eb_err *err)
{
	json_t *body = json_pack("{s:s, s:s, s:b, s:b, s:b}", "content", text, "prompt", text,
				 "add_special", add_special, "add_special_tokens", add_special,
				 "with_pieces", 0);
	json_t *resp = NULL, *toks, *t;
	struct eb_http_req rq = { .path = "/tokenize" };
	char *js;
	int32_t *v = NULL;
	size_t i;
	int ret;

	if (S->model)
		json_object_set_new(body, "model", json_string(S->model));
	js = json_dumps(body, JSON_COMPACT);
	/* no tokenizer makes more tokens than bytes (plus its specials): the body is capped
	 * by what was sent, parsed or not */
	rq.json_body = js;
	rq.values_max = strlen(text) + EB_OPENAI_TOKENS_SLACK;
	rq.body_max = 16 * rq.values_max + 4096;
	ret = eb_http_json_req(&S->http, &rq, &resp, NULL, err);
	if (ret)
		goto out;
	toks = json_object_get(resp, "tokens");
	if (!json_is_array(toks)) {
		ret = eb_err_set(err, EB_EPROTO, "openai: /tokenize of '%s' answered without a "
						 "\"tokens\" array", S->http.base_url);
		goto out;
	}
	v = eb_xmalloc((json_array_size(toks) + 1) * sizeof(*v));
	json_array_foreach(toks, i, t) {
		if (!json_is_integer(t)) {
			ret = eb_err_set(err, EB_EPROTO, "openai: /tokenize of '%s' returned a "
							 "token that is not an integer", S->http.base_url);
			goto out;
		}
		v[i] = (int32_t)json_integer_value(t);
	}
	*n_out = json_array_size(toks);
	*out = v;
	v = NULL;
out:
	free(v);
	free(js);
	json_decref(body);
	json_decref(resp);
	return ret;
}

static int eb_openai_detokenize_raw(struct eb_openai *S, const int32_t *tokens, size_t n,
				    char **text, struct eb_err *err)
{
	json_t *arr = json_array();
	json_t *body, *resp = NULL, *s;
	struct eb_http_req rq = { .path = "/detokenize" };
	char *js;
	int ret;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_integer(tokens[i]));
	body = json_pack("{s:o}", "tokens", arr);
	if (S->model)
		json_object_set_new(body, "model", json_string(S->model));
	js = json_dumps(body, JSON_COMPACT);
	rq.json_body = js;
	rq.body_max = n * EB_OPENAI_PIECE_MAX + 4096; /* one string: parsed, about as large */
	ret = eb_http_json_req(&S->http, &rq, &resp, NULL, err);
	if (ret)
		goto out;
	s = json_object_get(resp, "content"); /* llama-server */
	if (!json_is_string(s))
		s = json_object_get(resp, "prompt"); /* vLLM */
	if (!json_is_string(s)) {
		ret = eb_err_set(err, EB_EPROTO, "openai: /detokenize of '%s' answered without "
						 "\"content\" or \"prompt\"", S->http.base_url);
		goto out;
	}
	*text = eb_xstrdup(json_string_value(s));
out:
	free(js);
	json_decref(body);
	json_decref(resp);
	return ret;
}

/*
 * Probes /tokenize and /detokenize once. A server that cannot be reached fails open();
 * one that answers with an error has no tokenizer (an error only with tokenize: on).
 */
static int eb_openai_probe_tokenize(struct eb_openai *S, struct eb_err *err)
{
	struct eb_err perr;
	int32_t *t = NULL;
	size_t n = 0;
	char *text = NULL;
	int ret;

	ret = eb_openai_tokenize_raw(S, "", 1, &S->prefix, &S->n_prefix, &perr);
	if (!ret)
		ret = eb_openai_tokenize_raw(S, "Hello", 0, &t, &n, &perr);
	if (!ret)
		ret = eb_openai_detokenize_raw(S, t, n, &text, &perr);
	/*
	 * llama-server gives a SentencePiece word-start token back with its space ("Hello"
	 * tokenizes to the piece for " Hello"), and its tokenizer adds that space again:
	 * one token more than was meant. HF tokenizers (vLLM) drop the space on the way
	 * back. The probe's round trip tells which this server does.
	 */
	if (!ret)
		S->strip_space = strcmp(text, " Hello") == 0;
	free(t);
	free(text);
	if (!ret) {
		S->have_tokenize = 1;
		return 0;
	}
	free(S->prefix);
	S->prefix = NULL;
	S->n_prefix = 0;
	if (eb_openai_unreachable(ret)) {
		*err = perr;
		return ret;
	}
	if (strcmp(S->tok_mode, "on") == 0)
		return eb_err_set(err, EB_EUNSUPPORTED,
				  "openai: tokenize is \"on\" but the server has no usable "
				  "/tokenize and /detokenize: %s", perr.msg);
	return 0;
}

static int eb_openai_open(const struct eb_adapter_args *a, void **state, struct eb_err *err)
{
	const struct eb_opt *T = eb_openai_opts;
	struct eb_openai *S = eb_xcalloc(1, sizeof(*S));
	const char *model = eb_opt_str(a->options, T, "model");
	size_t len;
	int ret;

	ret = eb_http_init(&S->http, "openai", a->options, T, err);
	S->http.stop = a->stop;
	if (ret) {
		free(S);
		return ret;
	}
	/* "http://host:8000/v1" is a common way to write the root; the paths add /v1 */
	len = strlen(S->http.base_url);
	if (len >= 3 && strcmp(S->http.base_url + len - 3, "/v1") == 0)
		S->http.base_url[len - 3] = '\0';
	S->model = eb_xstrdup(model ? model : a->model_name);
	S->chat = strcmp(eb_opt_str(a->options, T, "endpoint"), "chat") == 0;
	S->path = S->chat ? "/v1/chat/completions" : "/v1/completions";
	S->include_usage = eb_opt_bool(a->options, T, "include_usage");
	S->ignore_eos = eb_opt_bool(a->options, T, "ignore_eos");
	S->min_tokens = eb_opt_bool(a->options, T, "min_tokens");
	S->no_cache_prompt = eb_opt_bool(a->options, T, "no_cache_prompt");
	S->timings_per_token = eb_opt_bool(a->options, T, "timings_per_token");
	S->tok_mode = eb_opt_str(a->options, T, "tokenize");
	S->plp_mode = eb_opt_str(a->options, T, "prompt_logprobs");
	S->echo_max_tokens = (int)eb_opt_int(a->options, T, "echo_max_tokens");
	S->loglik_batch = (int)eb_opt_int(a->options, T, "loglik_batch");
	if (strcmp(S->tok_mode, "off") != 0) {
		ret = eb_openai_probe_tokenize(S, err);
		if (ret) {
			eb_openai_close(S);
			return ret;
		}
	}
	*state = S;
	return 0;
}

static int eb_openai_no_tokenizer(struct eb_openai *S, struct eb_err *err)
{
	return eb_err_set(err, EB_EUNSUPPORTED,
			  "openai: no tokenizer for '%s' (tokenize: %s%s): prompts go as text and "
			  "n_prompt is the server's count",
			  S->http.base_url, S->tok_mode,
			  strcmp(S->tok_mode, "auto") == 0 ? ", and the server has no /tokenize" : "");
}

static int eb_openai_tokenize(void *state, const char *text, int add_special, int32_t **tokens,
			      size_t *n_tokens, struct eb_err *err)
{
	struct eb_openai *S = state;

	if (!S->have_tokenize)
		return eb_openai_no_tokenizer(S, err);
	return eb_openai_tokenize_raw(S, text, add_special, tokens, n_tokens, err);
}

/*
 * The text is sent back to the server as a prompt, so it is written the way that server
 * tokenizes it again: a leading copy of its own prefix (BOS) is left out (it would come
 * back as "<s>" text and count twice), and so is a space its tokenizer adds itself.
 */
static int eb_openai_detokenize(void *state, const int32_t *tokens, size_t n, char **text,
				struct eb_err *err)
{
	struct eb_openai *S = state;
	int ret;

	if (!S->have_tokenize)
		return eb_openai_no_tokenizer(S, err);
	if (S->n_prefix && n >= S->n_prefix &&
	    memcmp(tokens, S->prefix, S->n_prefix * sizeof(*tokens)) == 0) {
		tokens += S->n_prefix;
		n -= S->n_prefix;
	}
	if (n == 0) {
		*text = eb_xstrdup("");
		return 0;
	}
	ret = eb_openai_detokenize_raw(S, tokens, n, text, err);
	if (!ret && S->strip_space && (*text)[0] == ' ')
		memmove(*text, *text + 1, strlen(*text));
	return ret;
}

/* --- generation ------------------------------------------------------------------ */

struct eb_openai_gen {
	const struct eb_gen_req *req;
	const struct eb_gen_batch *batch; /* generate_many: the batch, `i` the request in it */
	size_t i;
	struct eb_oai_stream st;
	struct eb_http_stream hs;
	char *js;                         /* the request body */
	uint64_t t_send;
	size_t n_text;      /* bytes of the reply appended to req->text */
};

static int eb_openai_on_chunk(void *ud, const struct eb_oai_chunk *chunk, struct eb_err *err)
{
	struct eb_openai_gen *g = ud;
	int ret = eb_http_stream_token(&g->hs, chunk->n_tokens, g->req->n_predict, err);
	/* the parser's 0 is "the server did not say": unknown (-1) to the harness */
	int n = chunk->n_tokens > 0 ? chunk->n_tokens : -1;
	int stop;

	if (ret)
		return ret;
	if (g->req->text)
		g->n_text += eb_gen_text_add(g->req->text, g->n_text, chunk->text, chunk->text_len);
	if (g->batch)
		stop = g->batch->on_token && g->batch->on_token(g->batch->ud, g->i, g->hs.t_piece, n);
	else
		stop = g->req->on_token && g->req->on_token(g->req->ud, g->hs.t_piece, n);
	if (stop) {
		g->hs.stopped = 1;
		return EB_EINTR;
	}
	return 0;
}

static int eb_openai_feed(void *parser, const char *data, size_t n, struct eb_err *err)
{
	return eb_oai_stream_feed(parser, data, n, err);
}

static json_t *eb_openai_body(const struct eb_openai *S, const struct eb_gen_req *req)
{
	json_t *b = json_object();

	if (S->model)
		json_object_set_new(b, "model", json_string(S->model));
	if (S->chat)
		json_object_set_new(b, "messages",
				    json_pack("[{s:s, s:s}]", "role", "user", "content",
					      req->prompt_text ? req->prompt_text : ""));
	else
		json_object_set_new(b, "prompt",
				    json_string(req->prompt_text ? req->prompt_text : ""));
	json_object_set_new(b, "max_tokens", json_integer(req->n_predict));
	json_object_set_new(b, "temperature", json_real(req->temperature));
	json_object_set_new(b, "seed", json_integer((json_int_t)req->seed));
	json_object_set_new(b, "stream", json_true());
	if (S->include_usage)
		json_object_set_new(b, "stream_options", json_pack("{s:b}", "include_usage", 1));
	if (S->ignore_eos && !req->may_stop)
		json_object_set_new(b, "ignore_eos", json_true());
	if (S->min_tokens && !req->may_stop)
		json_object_set_new(b, "min_tokens", json_integer(req->n_predict));
	if (req->stop_strings && req->stop_strings[0]) {
		json_t *a = json_array();

		for (size_t i = 0; req->stop_strings[i]; i++)
			json_array_append_new(a, json_string(req->stop_strings[i]));
		json_object_set_new(b, "stop", a);
	}
	if (S->no_cache_prompt)
		json_object_set_new(b, "cache_prompt", json_false());
	if (S->timings_per_token)
		json_object_set_new(b, "timings_per_token", json_true());
	return b;
}

/* The server's own figures: timings, token counts and how the stream was cut. */
static json_t *eb_openai_server_json(const struct eb_oai_summary *sum)
{
	json_t *o = json_object();

	if (sum->timings)
		json_object_set(o, "timings", sum->timings);
	if (sum->prompt_tokens >= 0)
		json_object_set_new(o, "prompt_tokens", json_integer(sum->prompt_tokens));
	if (sum->completion_tokens >= 0)
		json_object_set_new(o, "completion_tokens", json_integer(sum->completion_tokens));
	if (sum->cached_tokens >= 0)
		json_object_set_new(o, "cached_tokens", json_integer(sum->cached_tokens));
	if (sum->finish_reason[0])
		json_object_set_new(o, "finish_reason", json_string(sum->finish_reason));
	json_object_set_new(o, "n_content_chunks", json_integer((json_int_t)sum->n_content_chunks));
	json_object_set_new(o, "chunks_ne_tokens", json_boolean(sum->chunks_ne_tokens));
	if (sum->n_multi_token_chunks)
		json_object_set_new(o, "n_multi_token_chunks",
				    json_integer((json_int_t)sum->n_multi_token_chunks));
	return o;
}

static long long eb_openai_timing(const json_t *timings, const char *key)
{
	const json_t *v = json_object_get(timings, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* Prepares one streamed generation into g and hq (release g with eb_openai_gen_release). */
static void eb_openai_gen_init(void *state, void *gp, const struct eb_gen_req *req,
			       const struct eb_gen_batch *batch, size_t i, struct eb_http_req *hq)
{
	struct eb_openai *S = state;
	struct eb_openai_gen *g = gp;
	json_t *body = eb_openai_body(S, req);

	memset(g, 0, sizeof(*g));
	g->req = req;
	g->batch = batch;
	g->i = i;
	g->js = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	eb_oai_stream_init(&g->st, 0, eb_openai_on_chunk, g);
	eb_http_stream_init(&g->hs, eb_openai_feed, &g->st);
	eb_http_stream_req(hq, S->path, g->js, &g->hs, req->stop, &g->t_send);
}

static void eb_openai_gen_release(void *gp)
{
	struct eb_openai_gen *g = gp;

	eb_oai_stream_release(&g->st);
	eb_http_stream_release(&g->hs);
	free(g->js);
	g->js = NULL;
}

/*
 * A finished request (`ret` from the transfer) into `res` as generate() documents it:
 * the stream ended properly, the server's counts and figures. Returns the outcome.
 */
static int eb_openai_gen_end(void *state, void *gp, int ret, const struct eb_http_res *hr,
			     struct eb_gen_res *res, struct eb_err *err)
{
	struct eb_openai *S = state;
	struct eb_openai_gen *g = gp;
	const struct eb_oai_summary *sum = &g->st.sum;
	struct eb_buf msg;

	eb_buf_init(&msg, 0);
	eb_gen_res_start(res, g->t_send);
	if (ret) {
		eb_http_stream_error(ret, hr, "openai", "bad stream", sum->n_content_chunks, err);
		goto out;
	}
	if (!g->hs.stopped) {
		ret = eb_oai_stream_finish(&g->st, err);
		if (ret) {
			eb_err_prefix(err, "openai: bad stream from '%s'", hr->url);
			goto out;
		}
		if (sum->n_events == 0) {
			eb_http_quote(&S->http, &msg, g->hs.head.buf, g->hs.head.len, EB_HTTP_EXCERPT);
			ret = eb_err_set(err, EB_EPROTO,
					 "openai: the response from '%s' is not an event stream: '%s'",
					 hr->url, msg.buf);
			goto out;
		}
		if (!sum->saw_done && !sum->finish_reason[0] && !sum->saw_stop) {
			ret = eb_err_set(err, EB_EIO,
					 "openai: the stream from '%s' ended after %zu content chunks "
					 "without a finish_reason or [DONE] (connection closed?)",
					 hr->url, sum->n_content_chunks);
			goto out;
		}
	}
	if (sum->completion_tokens >= 0)
		res->n_out = (int)sum->completion_tokens;
	else if (eb_openai_timing(sum->timings, "predicted_n") >= 0)
		res->n_out = (int)eb_openai_timing(sum->timings, "predicted_n");
	if (sum->prompt_tokens >= 0)
		res->n_prompt = (int)sum->prompt_tokens;
	else if (eb_openai_timing(sum->timings, "prompt_n") >= 0)
		res->n_prompt = (int)eb_openai_timing(sum->timings, "prompt_n") +
				(int)(eb_openai_timing(sum->timings, "cache_n") > 0
					      ? eb_openai_timing(sum->timings, "cache_n")
					      : 0);
	/* the server's own word on prompt tokens it did not evaluate (its cache) */
	if (eb_openai_timing(sum->timings, "cache_n") >= 0) {
		res->n_cached = (int)eb_openai_timing(sum->timings, "cache_n");
		res->cache_field = "timings.cache_n";
	} else if (sum->cached_tokens >= 0) {
		res->n_cached = (int)sum->cached_tokens;
		res->cache_field = "usage.prompt_tokens_details.cached_tokens";
	}
	res->server = eb_openai_server_json(sum);
out:
	if (ret) /* the messages above quote the server, which may echo the key */
		eb_http_redact(&S->http, err->msg);
	if (ret && !res->server && sum->n_content_chunks)
		res->server = eb_openai_server_json(sum);
	eb_buf_release(&msg);
	return ret;
}

static const struct eb_http_gen_ops eb_openai_gen_ops = {
	sizeof(struct eb_openai_gen), eb_openai_gen_init, eb_openai_gen_end, eb_openai_gen_release,
};

static int eb_openai_generate(void *state, const struct eb_gen_req *req, struct eb_gen_res *res,
			      struct eb_err *err)
{
	struct eb_openai *S = state;

	return eb_http_generate(&S->http, S, &eb_openai_gen_ops, req, res, err);
}

/* generate_many: the pieces of generate(), driven by eb_http_generate_many. */
static int eb_openai_generate_many(void *state, const struct eb_gen_batch *b, struct eb_err *err)
{
	struct eb_openai *S = state;

	return eb_http_generate_many(&S->http, S, &eb_openai_gen_ops, b, err);
}

/* --- describe ------------------------------------------------------------------- */

static int eb_openai_describe(void *state, json_t *out, struct eb_err *err)
{
	struct eb_openai *S = state;
	json_t *models, *props, *ver, *data, *m, *pick = NULL, *ids;
	size_t i;

	json_object_set_new(out, "backend", json_string("openai-compatible"));
	eb_http_describe(&S->http, out);
	json_object_set_new(out, "endpoint", json_string(S->path));
	if (S->model)
		json_object_set_new(out, "model", json_string(S->model));
	json_object_set_new(out, "tokenize", json_string(S->have_tokenize ? "server" : "none"));
	/* the one token the server's tokenizer puts before any text is its BOS */
	if (S->have_tokenize && S->n_prefix == 1) {
		json_object_set_new(out, "bos_token", json_integer(S->prefix[0]));
		json_object_set_new(out, "add_bos", json_true());
	}
	json_object_set_new(out, "request_fields",
			    json_pack("{s:b, s:b, s:b, s:b, s:b}", "include_usage",
				      S->include_usage, "ignore_eos", S->ignore_eos, "min_tokens",
				      S->min_tokens, "cache_prompt_false", S->no_cache_prompt,
				      "timings_per_token", S->timings_per_token));

	models = eb_http_object(&S->http, "/v1/models", NULL, EB_OPENAI_DESCRIBE_MS);
	data = json_object_get(models, "data");
	ids = json_array();
	json_array_foreach(data, i, m) {
		const char *id = json_string_value(json_object_get(m, "id"));

		if (id)
			json_array_append_new(ids, json_string(id));
		if (id && S->model && strcmp(id, S->model) == 0)
			pick = m;
	}
	if (!pick && json_array_size(data) == 1)
		pick = json_array_get(data, 0);
	if (json_array_size(ids))
		json_object_set(out, "server_models", ids);
	json_decref(ids);
	if (pick) {
		const json_t *meta = json_object_get(pick, "meta"); /* llama-server */

		eb_json_copy_fact(out, "owned_by", pick, "owned_by");
		eb_json_copy_fact(out, "max_model_len", pick, "max_model_len"); /* vLLM */
		eb_json_copy_fact(out, "n_params", meta, "n_params");
		eb_json_copy_fact(out, "model_bytes", meta, "size");
		eb_json_copy_fact(out, "n_ctx_train", meta, "n_ctx_train");
		eb_json_copy_fact(out, "n_vocab", meta, "n_vocab");
		eb_json_copy_fact(out, "model_ftype", meta, "ftype");
	}
	json_decref(models);

	props = eb_http_object(&S->http, "/props", NULL, EB_OPENAI_DESCRIBE_MS); /* llama-server */
	if (json_object_get(props, "build_info")) {
		json_object_set_new(out, "backend", json_string("llama-server"));
		eb_json_copy_fact(out, "backend_version", props, "build_info");
		eb_json_copy_fact(out, "n_ctx", json_object_get(props, "default_generation_settings"),
			       "n_ctx");
		eb_json_copy_fact(out, "n_slots", props, "total_slots");
	}
	/* the template the chat endpoint puts the prompt through, recorded with accuracy
	 * figures ("server default" when the server does not say) */
	if (S->chat)
		eb_json_copy_fact(out, "chat_template", props, "chat_template");
	if (S->chat && !json_object_get(out, "chat_template"))
		json_object_set_new(out, "chat_template", json_string("server default"));
	json_decref(props);
	if (!json_object_get(out, "backend_version")) {
		ver = eb_http_object(&S->http, "/version", NULL, EB_OPENAI_DESCRIBE_MS); /* vLLM */
		eb_json_copy_fact(out, "backend_version", ver, "version");
		json_decref(ver);
	}
	return 0;
}

/* --- scoring: prompt log-probs echoed by /v1/completions (vLLM semantics) ----------- */

/* The body of a scoring request; `prompt` is stolen. */
static char *eb_openai_echo_body(const struct eb_openai *S, json_t *prompt)
{
	json_t *b = json_object();
	char *js;

	if (S->model)
		json_object_set_new(b, "model", json_string(S->model));
	json_object_set_new(b, "prompt", prompt);
	json_object_set_new(b, "echo", json_true());
	json_object_set_new(b, "logprobs", json_integer(1));
	json_object_set_new(b, "max_tokens", json_integer(S->echo_max_tokens));
	json_object_set_new(b, "temperature", json_real(0));
	js = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	return js;
}

static json_t *eb_openai_token_array(const int32_t *t, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer(t[i]));
	return a;
}

/*
 * The echoed log-probs of one choice for a prompt of n_sent tokens (0: a text prompt of
 * unknown length, then at least 2): "logprobs.token_logprobs" holds one entry per prompt
 * token, the first null (nothing predicts it), then up to max_tokens generated ones.
 * Every prompt entry after the first must be a number. *tl is borrowed from `choice`.
 */
static int eb_openai_echo_lp(const struct eb_openai *S, const json_t *choice, size_t n_sent,
			     const json_t **tl, struct eb_err *err)
{
	const json_t *lp = json_object_get(choice, "logprobs");
	const json_t *a = json_object_get(lp, "token_logprobs");
	const json_t *toks = json_object_get(lp, "tokens");
	size_t len, n_prompt;

	if (!json_is_object(lp))
		return eb_err_set(err, EB_EPROTO, "no \"logprobs\" object");
	if (!json_is_array(a))
		return eb_err_set(err, EB_EPROTO, "\"logprobs\" has no \"token_logprobs\" array");
	len = json_array_size(a);
	if (!n_sent && len < 2)
		return eb_err_set(err, EB_EPROTO, "\"token_logprobs\" has %zu entries: the prompt "
						  "was not echoed", len);
	if (n_sent && (len < n_sent || len > n_sent + (size_t)S->echo_max_tokens))
		return eb_err_set(err, EB_EPROTO,
				  "\"token_logprobs\" has %zu entries for a prompt of %zu tokens "
				  "sent with max_tokens %d: the prompt was not echoed as sent",
				  len, n_sent, S->echo_max_tokens);
	if (toks && (!json_is_array(toks) || json_array_size(toks) != len))
		return eb_err_set(err, EB_EPROTO,
				  "\"tokens\" has %zu entries and \"token_logprobs\" %zu",
				  json_array_size(toks), len);
	if (!json_is_null(json_array_get(a, 0)))
		return eb_err_set(err, EB_EPROTO,
				  "\"token_logprobs\"[0] is not null: the first prompt token has no "
				  "prediction, so the entries would be misaligned");
	n_prompt = n_sent ? n_sent : 2;
	for (size_t i = 1; i < n_prompt; i++)
		if (!json_is_number(json_array_get(a, i)))
			return eb_err_set(err, EB_EPROTO, "\"token_logprobs\"[%zu] is not a number",
					  i);
	*tl = a;
	return 0;
}

/*
 * Asks the server once (prompt_logprobs: auto) whether it returns prompt log-probs: one
 * tiny echo request, as token ids when the server tokenizes. Unreachable or HTTP 401/403:
 * that error. Another HTTP error or an answer without them: EB_EUNSUPPORTED with the
 * reason, remembered for the adapter's life.
 */
static int eb_openai_plp_probe(struct eb_openai *S, volatile int *stop, struct eb_err *err)
{
	struct eb_http_req rq = { .path = "/v1/completions", .stop = stop };
	struct eb_err perr;
	const json_t *tl;
	json_t *resp = NULL, *prompt;
	int32_t *t = NULL;
	size_t n = 0;
	long status = 0;
	char *js;
	int ret;

	if (S->plp > 0)
		return 0;
	if (S->plp < 0)
		return eb_err_set(err, EB_EUNSUPPORTED, "%s", S->plp_why);
	if (strcmp(S->plp_mode, "on") == 0) {
		S->plp = 1;
		return 0;
	}
	if (strcmp(S->plp_mode, "off") == 0) {
		S->plp = -1;
		S->plp_why = eb_xstrdup("openai: prompt_logprobs is \"off\" for this target, so "
					"it scores no log-likelihoods");
		return eb_err_set(err, EB_EUNSUPPORTED, "%s", S->plp_why);
	}
	if (S->have_tokenize && eb_openai_tokenize_raw(S, "Hello world", 1, &t, &n, &perr) == 0 &&
	    n >= 2) {
		prompt = eb_openai_token_array(t, n);
	} else {
		prompt = json_string("Hello world");
		n = 0;
	}
	free(t);
	js = eb_openai_echo_body(S, prompt);
	rq.json_body = js;
	ret = eb_http_json_req(&S->http, &rq, &resp, &status, &perr);
	free(js);
	/* unreachable, or refused for want of a key: that is an error, not a capability */
	if (eb_openai_unreachable(ret) || status == 401 || status == 403) {
		json_decref(resp);
		*err = perr;
		return ret;
	}
	if (!ret) {
		const json_t *choices = json_object_get(resp, "choices");

		if (!json_is_array(choices) || json_array_size(choices) != 1)
			ret = eb_err_set(&perr, EB_EPROTO, "no \"choices\" array of one choice");
		else
			ret = eb_openai_echo_lp(S, json_array_get(choices, 0), n, &tl, &perr);
	}
	json_decref(resp);
	if (!ret) {
		S->plp = 1;
		return 0;
	}
	{
		struct eb_buf b;

		eb_buf_init(&b, 0);
		eb_buf_addf(&b, "openai: the server at '%s' did not return prompt log-probs for "
				"echo + logprobs (scoring needs vLLM's semantics; prompt_logprobs: %s): "
				"%s",
			    S->http.base_url, S->plp_mode, perr.msg);
		S->plp_why = eb_buf_detach(&b, NULL);
	}
	S->plp = -1;
	return eb_err_set(err, EB_EUNSUPPORTED, "%s", S->plp_why);
}

/* Rows of one scoring request under way. */
struct eb_openai_rows {
	size_t *seq, *pos;
	double *logp;
	size_t n, alloc;
};

/*
 * Sequences [k, e) in one request; their rows go to req->on_rows in sequence order.
 * A response that does not match what was sent fails with EB_EPROTO.
 */
static int eb_openai_score(struct eb_openai *S, const struct eb_loglik_req *req, size_t k,
			   size_t e, struct eb_openai_rows *R, struct eb_err *err)
{
	struct eb_http_req rq = { .path = "/v1/completions", .stop = req->stop };
	struct eb_loglik_rows rows;
	const json_t **tl = eb_xcalloc(e - k, sizeof(*tl));
	const json_t *choices, *c, *usage;
	json_t *prompts = json_array(), *resp = NULL;
	size_t n_tok = 0, i, clamped = 0;
	char *js, url[600];
	int ret;

	for (size_t j = k; j < e; j++) {
		json_array_append_new(prompts, eb_openai_token_array(req->seqs[j].tokens,
								     req->seqs[j].n_tokens));
		n_tok += req->seqs[j].n_tokens;
	}
	js = eb_openai_echo_body(S, prompts);
	rq.json_body = js;
	snprintf(url, sizeof(url), "%s/v1/completions", S->http.base_url);
	ret = eb_http_json_req(&S->http, &rq, &resp, NULL, err);
	if (ret)
		goto out;
	choices = json_object_get(resp, "choices");
	if (!json_is_array(choices) || json_array_size(choices) != e - k) {
		ret = eb_err_set(err, EB_EPROTO,
				 "openai: scoring response from '%s' has %zu choices for %zu prompts",
				 url, json_is_array(choices) ? json_array_size(choices) : 0, e - k);
		goto out;
	}
	json_array_foreach(choices, i, c) {
		const json_t *ix = json_object_get(c, "index");
		size_t at = json_is_integer(ix) ? (size_t)json_integer_value(ix) : i;
		struct eb_err cerr;

		if (!json_is_integer(ix) && ix) {
			ret = eb_err_set(err, EB_EPROTO, "openai: scoring response from '%s': choice "
							 "%zu has an \"index\" that is not an integer",
					 url, i);
			goto out;
		}
		if (at >= e - k || tl[at]) {
			ret = eb_err_set(err, EB_EPROTO, "openai: scoring response from '%s': choice "
							 "%zu has index %zu (%zu prompts were sent, each "
							 "once)",
					 url, i, at, e - k);
			goto out;
		}
		if (eb_openai_echo_lp(S, c, req->seqs[k + at].n_tokens, &tl[at], &cerr)) {
			ret = eb_err_set(err, EB_EPROTO,
					 "openai: scoring response from '%s', choice %zu (sequence "
					 "%zu, %zu tokens sent): %s",
					 url, at, k + at, req->seqs[k + at].n_tokens, cerr.msg);
			goto out;
		}
	}
	usage = json_object_get(json_object_get(resp, "usage"), "prompt_tokens");
	if (json_is_integer(usage) && (size_t)json_integer_value(usage) != n_tok) {
		ret = eb_err_set(err, EB_EPROTO,
				 "openai: scoring response from '%s' counts %lld prompt tokens; %zu "
				 "were sent",
				 url, (long long)json_integer_value(usage), n_tok);
		goto out;
	}
	R->n = 0;
	for (size_t j = k; j < e; j++) {
		const struct eb_loglik_seq *q = &req->seqs[j];

		if (R->n + q->n_tokens > R->alloc) {
			R->alloc = R->n + q->n_tokens + R->alloc;
			R->seq = eb_xrealloc(R->seq, R->alloc * sizeof(*R->seq));
			R->pos = eb_xrealloc(R->pos, R->alloc * sizeof(*R->pos));
			R->logp = eb_xrealloc(R->logp, R->alloc * sizeof(*R->logp));
		}
		for (size_t p = q->first; p + 1 < q->n_tokens; p++) {
			double v = json_number_value(json_array_get(tl[j - k], p + 1));

			clamped += v == EB_OPENAI_LOGP_CLAMP;
			R->seq[R->n] = j;
			R->pos[R->n] = p;
			R->logp[R->n] = v;
			R->n++;
		}
	}
	memset(&rows, 0, sizeof(rows));
	rows.n = R->n;
	rows.seq = R->seq;
	rows.pos = R->pos;
	rows.logp = R->logp;
	rows.n_clamped = clamped;
	ret = req->on_rows(req->ud, &rows, err);
out:
	json_decref(resp);
	free(js);
	free(tl);
	return ret;
}

static int eb_openai_loglik(void *state, const struct eb_loglik_req *req, struct eb_err *err)
{
	struct eb_openai *S = state;
	struct eb_openai_rows R;
	int ret;

	if (req->flags & EB_LOGLIK_LOGITS)
		return eb_err_set(err, EB_EUNSUPPORTED,
				  "openai: a server returns log-probs of the given tokens, not the "
				  "full logits protocol kld needs");
	ret = eb_openai_plp_probe(S, req->stop, err);
	if (ret || req->n_seqs == 0)
		return ret;
	for (size_t i = 0; i < req->n_seqs; i++)
		if (req->seqs[i].n_tokens < 2 || req->seqs[i].first + 1 >= req->seqs[i].n_tokens)
			return eb_err_set(err, EB_EINVAL,
					  "openai: sequence %zu has %zu tokens and wants rows from "
					  "position %zu",
					  i, req->seqs[i].n_tokens, req->seqs[i].first);
	memset(&R, 0, sizeof(R));
	for (size_t k = 0, e; k < req->n_seqs && !ret; k = e) {
		size_t n_tok = req->seqs[k].n_tokens;

		for (e = k + 1; e < req->n_seqs && e - k < (size_t)S->loglik_batch &&
				n_tok + req->seqs[e].n_tokens <= EB_OPENAI_ECHO_TOKENS;
		     e++)
			n_tok += req->seqs[e].n_tokens;
		if (req->stop && *req->stop)
			ret = eb_err_set(err, EB_EINTR, "openai: interrupted");
		else
			ret = eb_openai_score(S, req, k, e, &R, err);
	}
	free(R.seq);
	free(R.pos);
	free(R.logp);
	return ret;
}

static const char *eb_openai_unavailable(void)
{
	return NULL;
}

const struct eb_adapter_ops eb_adapter_openai = {
	.name = "openai",
	.abi = EB_ADAPTER_ABI,
	.caps = EB_CAP_STREAM | EB_CAP_TOKENIZE | EB_CAP_SERVER_TIMINGS | EB_CAP_LOGLIK |
		EB_CAP_TEXT,
	.options = eb_openai_opts,
	.help = "OpenAI-compatible server over HTTP (llama-server, vLLM, TensorRT-LLM, "
		"TinyChat): streamed completions or chat completions; scoring by echoed prompt "
		"log-probs (vLLM)",
	.unavailable_reason = eb_openai_unavailable,
	.open = eb_openai_open,
	.tokenize = eb_openai_tokenize,
	.detokenize = eb_openai_detokenize,
	.generate = eb_openai_generate,
	.generate_many = eb_openai_generate_many,
	.loglik = eb_openai_loglik,
	.describe = eb_openai_describe,
	.close = eb_openai_close,
};
