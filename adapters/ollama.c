/* ollama.c: the Ollama adapter (also hailo-ollama, HailoRT GenAI's server): streamed /api/generate or /api/chat. */
#include "adapter.h"
#include "http.h"
#include "ollama_stream.h"

#include "eb_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const eb_ollama_flavours[] = { "ollama", "hailo", NULL };
static const char *const eb_ollama_endpoints[] = { "generate", "chat", NULL };

static const struct eb_opt eb_ollama_opts[] = {
	EB_HTTP_OPTIONS("http://127.0.0.1:11434"),
	{ .name = "flavour", .type = EB_OPT_ENUM, .def = EB_DEF_STR("ollama"),
	  .choices = eb_ollama_flavours,
	  .help = "ollama, or hailo for hailo-ollama (Hailo-10H), which reports only "
		  "total_duration and eval_count and keeps KV state between requests that extend "
		  "each other" },
	{ .name = "endpoint", .type = EB_OPT_ENUM, .def = EB_DEF_STR("generate"),
	  .choices = eb_ollama_endpoints,
	  .help = "generate: POST /api/generate with the prompt; chat: POST /api/chat with it as "
		  "one user message" },
	{ .name = "model", .type = EB_OPT_STR,
	  .help = "model name on the server; default: the variant's model_name" },
	{ .name = "num_predict", .type = EB_OPT_INT, .range = EB_RANGE(-2, 10000000),
	  .help = "options.num_predict; default: the workload's gen_tokens" },
	{ .name = "num_ctx", .type = EB_OPT_INT, .range = EB_RANGE(1, 10000000),
	  .help = "options.num_ctx (context/KV-cache size); default: the server's" },
	{ .name = "temperature", .type = EB_OPT_NUM, .range = EB_RANGE(0, 100),
	  .help = "options.temperature; default: the workload's temperature" },
	{ .name = "seed", .type = EB_OPT_INT, .range = EB_RANGE(0, 4294967295.0),
	  .help = "options.seed; default: the workload's seed" },
	{ .name = "keep_alive", .type = EB_OPT_STR,
	  .help = "keep_alive sent with every request: a duration (\"5m\") or seconds (\"-1\" = "
		  "keep loaded); default: the server's" },
	{ .name = "raw", .type = EB_OPT_BOOL, .def = EB_DEF_BOOL(0),
	  .help = "/api/generate raw: true, the prompt without the model's template" },
	{ NULL },
};

#define EB_OLLAMA_DESCRIBE_MS 5000

struct eb_ollama {
	struct eb_http http;
	const json_t *opts;
	char *model;
	int hailo;
	int chat;
	int raw;
};

static void eb_ollama_close(void *state)
{
	struct eb_ollama *S = state;

	if (!S)
		return;
	eb_http_release(&S->http);
	free(S->model);
	free(S);
}

static int eb_ollama_open(const struct eb_adapter_args *a, void **state, struct eb_err *err)
{
	const struct eb_opt *T = eb_ollama_opts;
	struct eb_ollama *S = eb_xcalloc(1, sizeof(*S));
	const char *model = eb_opt_str(a->options, T, "model");
	int ret;

	ret = eb_http_init(&S->http, "ollama", a->options, T, err);
	S->http.stop = a->stop;
	if (ret) {
		free(S);
		return ret;
	}
	if (!model)
		model = a->model_name;
	if (!model) {
		eb_ollama_close(S);
		return eb_err_set(err, EB_EINVAL,
				  "ollama: no model name (set the variant's \"model_name\" or the "
				  "target's \"model\" option)");
	}
	S->opts = a->options;
	S->model = eb_xstrdup(model);
	S->hailo = strcmp(eb_opt_str(a->options, T, "flavour"), "hailo") == 0;
	S->chat = strcmp(eb_opt_str(a->options, T, "endpoint"), "chat") == 0;
	S->raw = eb_opt_bool(a->options, T, "raw");
	*state = S;
	return 0;
}

/* --- generation ------------------------------------------------------------------ */

struct eb_ollama_gen {
	const struct eb_gen_req *req;
	const struct eb_gen_batch *batch; /* generate_many: the batch, `i` the request in it */
	size_t i;
	struct eb_ollama_stream st;
	struct eb_http_stream hs;
	char *js;                         /* the request body */
	uint64_t t_send;
	size_t n_text;      /* bytes of the reply appended to req->text */
};

static int eb_ollama_on_chunk(void *ud, const struct eb_ollama_chunk *chunk, struct eb_err *err)
{
	struct eb_ollama_gen *g = ud;
	int ret = eb_http_stream_token(&g->hs, 0, g->req->n_predict, err);
	int stop;

	if (ret)
		return ret;
	if (g->req->text)
		g->n_text += eb_gen_text_add(g->req->text, g->n_text, chunk->text, chunk->text_len);
	/* a chunk does not say how many tokens it carried (-1: stored as unknown) */
	if (g->batch)
		stop = g->batch->on_token && g->batch->on_token(g->batch->ud, g->i, g->hs.t_piece, -1);
	else
		stop = g->req->on_token && g->req->on_token(g->req->ud, g->hs.t_piece, -1);
	if (stop) {
		g->hs.stopped = 1;
		return EB_EINTR;
	}
	return 0;
}

static int eb_ollama_feed(void *parser, const char *data, size_t n, struct eb_err *err)
{
	return eb_ollama_stream_feed(parser, data, n, err);
}

static json_t *eb_ollama_body(const struct eb_ollama *S, const struct eb_gen_req *req)
{
	const struct eb_opt *T = eb_ollama_opts;
	const char *prompt = req->prompt_text ? req->prompt_text : "";
	const char *ka = eb_opt_str(S->opts, T, "keep_alive");
	json_t *b = json_object();
	json_t *o = json_object();
	long long v;

	json_object_set_new(b, "model", json_string(S->model));
	if (S->chat) {
		json_object_set_new(b, "messages",
				    json_pack("[{s:s, s:s}]", "role", "user", "content", prompt));
	} else {
		json_object_set_new(b, "prompt", json_string(prompt));
		if (S->raw)
			json_object_set_new(b, "raw", json_true());
	}
	json_object_set_new(b, "stream", json_true());
	/* unset, these follow the workload: their defaults are computed per request; an
	 * request for its text (an accuracy protocol) sets its own, which the target's options
	 * do not override */
	json_object_set_new(o, "num_predict",
			    json_integer(eb_opt_given(S->opts, "num_predict") && !req->text
						 ? eb_opt_int(S->opts, T, "num_predict")
						 : req->n_predict));
	json_object_set_new(o, "temperature",
			    json_real(eb_opt_given(S->opts, "temperature") && !req->text
					      ? eb_opt_num(S->opts, T, "temperature")
					      : req->temperature));
	if (req->stop_strings && req->stop_strings[0]) {
		json_t *a = json_array();

		for (size_t i = 0; req->stop_strings[i]; i++)
			json_array_append_new(a, json_string(req->stop_strings[i]));
		json_object_set_new(o, "stop", a);
	}
	json_object_set_new(o, "seed",
			    json_integer(eb_opt_given(S->opts, "seed") ? eb_opt_int(S->opts, T, "seed")
								       : (long long)req->seed));
	if (eb_opt_given(S->opts, "num_ctx"))
		json_object_set_new(o, "num_ctx", json_integer(eb_opt_int(S->opts, T, "num_ctx")));
	json_object_set_new(b, "options", o);
	if (ka) {
		/* a number of seconds goes as a number: Ollama reads "-1" as a bad duration */
		if (eb_parse_ll(ka, -1000000000LL, 1000000000LL, &v) == 0)
			json_object_set_new(b, "keep_alive", json_integer(v));
		else
			json_object_set_new(b, "keep_alive", json_string(ka));
	}
	return b;
}

/* Final-chunk statistics as sent (ns, counts), 0 included (zero is a value); a statistic
 * the server left out is absent. */
static json_t *eb_ollama_server_json(const struct eb_ollama *S, const struct eb_ollama_summary *m)
{
	json_t *o = json_object();
	const struct {
		const char *key;
		long long v;
	} f[] = {
		{ "total_duration", m->total_duration },
		{ "load_duration", m->load_duration },
		{ "prompt_eval_count", m->prompt_eval_count },
		{ "prompt_eval_duration", m->prompt_eval_duration },
		{ "eval_count", m->eval_count },
		{ "eval_duration", m->eval_duration },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].v >= 0)
			json_object_set_new(o, f[i].key, json_integer(f[i].v));
	if (m->done_reason[0])
		json_object_set_new(o, "done_reason", json_string(m->done_reason));
	json_object_set_new(o, "n_content_chunks", json_integer((json_int_t)m->n_content_chunks));
	json_object_set_new(o, "chunks_ne_tokens", json_boolean(m->chunks_ne_tokens));
	json_object_set_new(o, "flavour", json_string(S->hailo ? "hailo" : "ollama"));
	return o;
}

/* Prepares one streamed generation into g and hq (release g with eb_ollama_gen_release). */
static void eb_ollama_gen_init(void *state, void *gp, const struct eb_gen_req *req,
			       const struct eb_gen_batch *batch, size_t i, struct eb_http_req *hq)
{
	struct eb_ollama *S = state;
	struct eb_ollama_gen *g = gp;
	json_t *body = eb_ollama_body(S, req);

	memset(g, 0, sizeof(*g));
	g->req = req;
	g->batch = batch;
	g->i = i;
	g->js = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	eb_ollama_stream_init(&g->st, 0, eb_ollama_on_chunk, g);
	eb_http_stream_init(&g->hs, eb_ollama_feed, &g->st);
	eb_http_stream_req(hq, S->chat ? "/api/chat" : "/api/generate", g->js, &g->hs, req->stop,
			   &g->t_send);
}

static void eb_ollama_gen_release(void *gp)
{
	struct eb_ollama_gen *g = gp;

	eb_ollama_stream_release(&g->st);
	eb_http_stream_release(&g->hs);
	free(g->js);
	g->js = NULL;
}

/* A finished request (`ret` from the transfer) into `res` as generate() documents it. */
static int eb_ollama_gen_end(void *state, void *gp, int ret, const struct eb_http_res *hr,
			     struct eb_gen_res *res, struct eb_err *err)
{
	struct eb_ollama *S = state;
	struct eb_ollama_gen *g = gp;
	const struct eb_ollama_summary *sum = &g->st.sum;
	struct eb_buf msg;

	eb_buf_init(&msg, 0);
	eb_gen_res_start(res, g->t_send);
	if (ret) {
		eb_http_stream_error(ret, hr, "ollama", "bad response", sum->n_content_chunks, err);
		goto out;
	}
	if (!g->hs.stopped) {
		ret = eb_ollama_stream_finish(&g->st, err);
		if (ret) {
			if (ret == EB_EADAPTER)
				eb_err_prefix(err, "ollama: stream from '%s'", hr->url);
			else
				eb_err_prefix(err, "ollama: bad response from '%s'", hr->url);
			goto out;
		}
		if (!sum->saw_done) {
			eb_http_quote(&S->http, &msg, g->hs.head.buf, g->hs.head.len, EB_HTTP_EXCERPT);
			ret = eb_err_set(err, EB_EIO,
					 "ollama: the stream from '%s' ended after %zu content chunks "
					 "without \"done\": true (connection closed?); it began '%s'",
					 hr->url, sum->n_content_chunks, msg.buf);
			goto out;
		}
	}
	if (sum->eval_count >= 0)
		res->n_out = (int)sum->eval_count;
	if (sum->prompt_eval_count >= 0)
		res->n_prompt = (int)sum->prompt_eval_count;
	res->server = eb_ollama_server_json(S, sum);
out:
	if (ret) /* the messages above quote the server, which may echo the key */
		eb_http_redact(&S->http, err->msg);
	eb_buf_release(&msg);
	return ret;
}

static const struct eb_http_gen_ops eb_ollama_gen_ops = {
	sizeof(struct eb_ollama_gen), eb_ollama_gen_init, eb_ollama_gen_end, eb_ollama_gen_release,
};

static int eb_ollama_generate(void *state, const struct eb_gen_req *req, struct eb_gen_res *res,
			      struct eb_err *err)
{
	struct eb_ollama *S = state;

	return eb_http_generate(&S->http, S, &eb_ollama_gen_ops, req, res, err);
}

/* generate_many: the pieces of generate(), driven by eb_http_generate_many. */
static int eb_ollama_generate_many(void *state, const struct eb_gen_batch *b, struct eb_err *err)
{
	struct eb_ollama *S = state;

	return eb_http_generate_many(&S->http, S, &eb_ollama_gen_ops, b, err);
}

/* --- describe ------------------------------------------------------------------- */

static void eb_ollama_details(json_t *out, const json_t *details)
{
	eb_json_copy_fact(out, "quantization_level", details, "quantization_level");
	eb_json_copy_fact(out, "parameter_size", details, "parameter_size");
	eb_json_copy_fact(out, "family", details, "family");
	eb_json_copy_fact(out, "model_format", details, "format");
}

/* The /api/tags entry for `model` ("name" or "model", ":latest" implied). */
static const json_t *eb_ollama_tag(const json_t *tags, const char *model)
{
	const json_t *models = json_object_get(tags, "models");
	size_t mlen = strlen(model);
	const json_t *m;
	size_t i;

	json_array_foreach(models, i, m) {
		const char *keys[] = { "name", "model" };

		for (size_t k = 0; k < 2; k++) {
			const char *n = json_string_value(json_object_get(m, keys[k]));

			if (!n)
				continue;
			if (strcmp(n, model) == 0 ||
			    (strncmp(n, model, mlen) == 0 && strcmp(n + mlen, ":latest") == 0))
				return m;
		}
	}
	return NULL;
}

static int eb_ollama_describe(void *state, json_t *out, struct eb_err *err)
{
	struct eb_ollama *S = state;
	json_t *ver, *show, *tags, *req;
	const json_t *tag;
	char *js;

	json_object_set_new(out, "backend", json_string(S->hailo ? "hailo-ollama" : "ollama"));
	eb_http_describe(&S->http, out);
	json_object_set_new(out, "endpoint", json_string(S->chat ? "/api/chat" : "/api/generate"));
	json_object_set_new(out, "model", json_string(S->model));
	if (S->hailo) {
		json_object_set_new(out, "server_timings",
				    json_string("total_duration and eval_count only: TTFT, decode "
						"rate and ITL are the harness's timestamps"));
		json_object_set_new(out, "prompt_cache",
				    json_string("hailo-ollama reuses KV state when a prompt extends "
						"the previous one; see the cell's prompts mode"));
	}
	ver = eb_http_object(&S->http, "/api/version", NULL, EB_OLLAMA_DESCRIBE_MS);
	eb_json_copy_fact(out, "backend_version", ver, "version");
	json_decref(ver);

	req = json_pack("{s:s, s:s}", "model", S->model, "name", S->model);
	js = json_dumps(req, JSON_COMPACT);
	show = eb_http_object(&S->http, "/api/show", js, EB_OLLAMA_DESCRIBE_MS);
	free(js);
	json_decref(req);
	if (show) {
		const json_t *info = json_object_get(show, "model_info");

		eb_ollama_details(out, json_object_get(show, "details"));
		eb_json_copy_fact(out, "n_params", info, "general.parameter_count");
		/* the model's template, which both endpoints apply unless raw is set; recorded
		 * with accuracy figures ("server default" when the server does not say) */
		if (S->chat || !S->raw)
			eb_json_copy_fact(out, "chat_template", show, "template");
	}
	json_decref(show);
	if ((S->chat || !S->raw) && !json_object_get(out, "chat_template"))
		json_object_set_new(out, "chat_template", json_string("server default"));
	tags = eb_http_object(&S->http, "/api/tags", NULL, EB_OLLAMA_DESCRIBE_MS);
	tag = tags ? eb_ollama_tag(tags, S->model) : NULL;
	if (tag) {
		if (!json_object_get(out, "quantization_level"))
			eb_ollama_details(out, json_object_get(tag, "details"));
		/* the model file's size: the weights plus a little metadata */
		eb_json_copy_fact(out, "model_bytes", tag, "size");
	}
	json_decref(tags);
	return 0;
}

static const char *eb_ollama_unavailable(void)
{
	return NULL;
}

const struct eb_adapter_ops eb_adapter_ollama = {
	.name = "ollama",
	.abi = EB_ADAPTER_ABI,
	.caps = EB_CAP_STREAM | EB_CAP_SERVER_TIMINGS | EB_CAP_TEXT,
	.options = eb_ollama_opts,
	.help = "Ollama or hailo-ollama (Hailo-10H) over HTTP: streamed /api/generate or "
		"/api/chat (NDJSON)",
	.unavailable_reason = eb_ollama_unavailable,
	.open = eb_ollama_open,
	.generate = eb_ollama_generate,
	.generate_many = eb_ollama_generate_many,
	.describe = eb_ollama_describe,
	.close = eb_ollama_close,
};
