/* llamacpp.c: the in-process llama.cpp adapter (libllama through llama.h). */
#include "adapter.h"

#include "../harness/eb_clock.h"
#include "../harness/eb_util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const eb_cache_types[] = { "f32", "f16", "bf16", "q8_0", "q4_0", "q4_1",
					      "iq4_nl", "q5_0", "q5_1", NULL };
static const char *const eb_fa_choices[] = { "auto", "on", "off", NULL };

static const struct eb_opt eb_llamacpp_opts[] = {
	{ "n_gpu_layers", EB_OPT_INT, "-1", -1, 100000, NULL,
	  "layers to offload to the GPU; -1 = all (llama.cpp's default); 0 = CPU only" },
	{ "threads", EB_OPT_INT, "0", 0, 1024, NULL,
	  "threads for generation; 0 = number of online CPUs" },
	{ "threads_batch", EB_OPT_INT, "0", 0, 1024, NULL,
	  "threads for prompt processing; 0 = same as threads" },
	{ "n_ctx", EB_OPT_INT, "4096", 16, 10000000, NULL,
	  "context size (KV-cache cells); must hold prompt + generated tokens" },
	{ "n_batch", EB_OPT_INT, "2048", 1, 1000000, NULL, "logical batch size (llama.cpp n_batch)" },
	{ "n_ubatch", EB_OPT_INT, "512", 1, 1000000, NULL, "physical batch size (llama.cpp n_ubatch)" },
	{ "flash_attn", EB_OPT_STR, "auto", 1, 0, eb_fa_choices, "flash attention: auto, on, off" },
	{ "cache_type_k", EB_OPT_STR, "f16", 1, 0, eb_cache_types, "KV-cache K type" },
	{ "cache_type_v", EB_OPT_STR, "f16", 1, 0, eb_cache_types, "KV-cache V type" },
	{ "mmap", EB_OPT_BOOL, "true", 1, 0, NULL, "memory-map the model file" },
	{ "offload_kqv", EB_OPT_BOOL, "true", 1, 0, NULL, "keep the KV cache on the GPU" },
	{ NULL },
};

#ifdef EB_HAVE_LLAMA

#include <ggml-backend.h>
#include <ggml.h>
#include <llama.h>

#ifndef EB_LLAMA_COMMIT
#define EB_LLAMA_COMMIT "unknown"
#endif

/* llama.cpp's log, kept so that a failed load can say why. */
static char eb_llama_log[8192];
static size_t eb_llama_log_len;
static int eb_llama_log_echo;

static void eb_llama_log_cb(enum ggml_log_level level, const char *text, void *ud)
{
	size_t n = strlen(text);

	if (eb_llama_log_echo)
		fputs(text, stderr);
	if (level == GGML_LOG_LEVEL_DEBUG)
		return;
	if (n >= sizeof(eb_llama_log))
		n = sizeof(eb_llama_log) - 1;
	if (eb_llama_log_len + n >= sizeof(eb_llama_log)) {
		size_t keep = sizeof(eb_llama_log) / 2;
		memmove(eb_llama_log, eb_llama_log + eb_llama_log_len - keep, keep);
		eb_llama_log_len = keep;
	}
	memcpy(eb_llama_log + eb_llama_log_len, text, n);
	eb_llama_log_len += n;
	eb_llama_log[eb_llama_log_len] = '\0';
}

/* The last few non-empty lines of llama.cpp's log, for error messages. */
static const char *eb_llama_log_tail(void)
{
	size_t lines = 0;
	size_t i = eb_llama_log_len;

	while (i > 0 && lines < 4) {
		i--;
		if (eb_llama_log[i] == '\n' && i + 1 < eb_llama_log_len)
			lines++;
	}
	return eb_llama_log + (i ? i + 1 : 0);
}

struct eb_llamacpp {
	struct llama_model *model;
	struct llama_context *ctx;
	const struct llama_vocab *vocab;
	int n_vocab;
	unsigned char *eog; /* per token: end of generation */
	int n_ctx;
	int n_batch;
	enum ggml_type type_k, type_v;
	const json_t *opts;
};

static enum ggml_type eb_cache_type(const char *s)
{
	static const struct {
		const char *name;
		enum ggml_type t;
	} map[] = {
		{ "f32", GGML_TYPE_F32 },   { "f16", GGML_TYPE_F16 },   { "bf16", GGML_TYPE_BF16 },
		{ "q8_0", GGML_TYPE_Q8_0 }, { "q4_0", GGML_TYPE_Q4_0 }, { "q4_1", GGML_TYPE_Q4_1 },
		{ "iq4_nl", GGML_TYPE_IQ4_NL }, { "q5_0", GGML_TYPE_Q5_0 }, { "q5_1", GGML_TYPE_Q5_1 },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].name, s) == 0)
			return map[i].t;
	return GGML_TYPE_F16;
}

static void eb_llamacpp_close(void *state)
{
	struct eb_llamacpp *L = state;

	if (!L)
		return;
	if (L->ctx)
		llama_free(L->ctx);
	if (L->model)
		llama_model_free(L->model);
	free(L->eog);
	free(L);
}

static int eb_llamacpp_open(const struct eb_adapter_args *a, void **state, struct eb_err *err)
{
	static int backend_ready;
	const struct eb_opt *T = eb_llamacpp_opts;
	struct llama_model_params mp = llama_model_default_params();
	struct llama_context_params cp = llama_context_default_params();
	struct eb_llamacpp *L;
	const char *fa;
	long long threads;
	int ret = EB_EADAPTER;

	if (!a->model_file)
		return eb_err_set(err, EB_EINVAL, "llamacpp: variant has no \"file\"");
	if (access(a->model_file, R_OK) != 0)
		return eb_err_set(err, EB_ENOENT, "cannot open model '%s': %s", a->model_file,
				  strerror(errno));
	if (!backend_ready) {
		eb_llama_log_echo = getenv("EB_LLAMA_LOG") != NULL;
		llama_log_set(eb_llama_log_cb, NULL);
		llama_backend_init();
		backend_ready = 1;
	}
	eb_llama_log_len = 0;
	eb_llama_log[0] = '\0';

	L = eb_xcalloc(1, sizeof(*L));
	L->opts = a->options;
	mp.n_gpu_layers = (int32_t)eb_opt_int(a->options, T, "n_gpu_layers", -1);
	mp.load_mode = eb_opt_bool(a->options, T, "mmap", 1) ? LLAMA_LOAD_MODE_MMAP
							       : LLAMA_LOAD_MODE_NONE;
	L->model = llama_model_load_from_file(a->model_file, mp);
	if (!L->model) {
		ret = eb_err_set(err, EB_EADAPTER, "llamacpp: cannot load model '%s': %s",
				 a->model_file, eb_llama_log_tail());
		goto fail;
	}
	L->vocab = llama_model_get_vocab(L->model);
	L->n_vocab = llama_vocab_n_tokens(L->vocab);
	L->eog = eb_xcalloc((size_t)L->n_vocab, 1);
	for (int i = 0; i < L->n_vocab; i++)
		L->eog[i] = llama_vocab_is_eog(L->vocab, i);

	threads = eb_opt_int(a->options, T, "threads", 0);
	if (threads <= 0)
		threads = sysconf(_SC_NPROCESSORS_ONLN);
	cp.n_ctx = (uint32_t)eb_opt_int(a->options, T, "n_ctx", 4096);
	cp.n_batch = (uint32_t)eb_opt_int(a->options, T, "n_batch", 2048);
	cp.n_ubatch = (uint32_t)eb_opt_int(a->options, T, "n_ubatch", 512);
	cp.n_threads = (int32_t)threads;
	cp.n_threads_batch = (int32_t)eb_opt_int(a->options, T, "threads_batch", 0);
	if (cp.n_threads_batch <= 0)
		cp.n_threads_batch = cp.n_threads;
	fa = eb_opt_str(a->options, T, "flash_attn", "auto");
	cp.flash_attn_type = strcmp(fa, "on") == 0    ? LLAMA_FLASH_ATTN_TYPE_ENABLED
			     : strcmp(fa, "off") == 0 ? LLAMA_FLASH_ATTN_TYPE_DISABLED
						      : LLAMA_FLASH_ATTN_TYPE_AUTO;
	L->type_k = eb_cache_type(eb_opt_str(a->options, T, "cache_type_k", "f16"));
	L->type_v = eb_cache_type(eb_opt_str(a->options, T, "cache_type_v", "f16"));
	cp.type_k = L->type_k;
	cp.type_v = L->type_v;
	cp.offload_kqv = eb_opt_bool(a->options, T, "offload_kqv", 1);
	cp.no_perf = false;
	L->ctx = llama_init_from_model(L->model, cp);
	if (!L->ctx) {
		ret = eb_err_set(err, EB_EADAPTER, "llamacpp: cannot create a context for '%s': %s",
				 a->model_file, eb_llama_log_tail());
		goto fail;
	}
	L->n_ctx = (int)llama_n_ctx(L->ctx);
	L->n_batch = (int)llama_n_batch(L->ctx);
	*state = L;
	return 0;
fail:
	eb_llamacpp_close(L);
	return ret;
}

static int eb_llamacpp_tokenize(void *state, const char *text, int add_special, int32_t **out,
				size_t *n_out, struct eb_err *err)
{
	struct eb_llamacpp *L = state;
	int32_t len = (int32_t)strlen(text);
	int32_t cap = len + 16;
	int32_t *tok = eb_xmalloc((size_t)cap * sizeof(*tok));
	int32_t n = llama_tokenize(L->vocab, text, len, tok, cap, add_special, false);

	if (n < 0) {
		cap = -n;
		tok = eb_xrealloc(tok, (size_t)cap * sizeof(*tok));
		n = llama_tokenize(L->vocab, text, len, tok, cap, add_special, false);
	}
	if (n < 0) {
		free(tok);
		return eb_err_set(err, EB_EADAPTER, "llamacpp: cannot tokenize text");
	}
	*out = tok;
	*n_out = (size_t)n;
	return 0;
}

static int eb_llamacpp_detokenize(void *state, const int32_t *tokens, size_t n, char **text,
				  struct eb_err *err)
{
	struct eb_llamacpp *L = state;
	int32_t cap = (int32_t)(n * 8 + 16);
	char *buf = eb_xmalloc((size_t)cap);
	int32_t r = llama_detokenize(L->vocab, tokens, (int32_t)n, buf, cap - 1, false, false);

	if (r < 0) {
		cap = -r + 1;
		buf = eb_xrealloc(buf, (size_t)cap);
		r = llama_detokenize(L->vocab, tokens, (int32_t)n, buf, cap - 1, false, false);
	}
	if (r < 0) {
		free(buf);
		return eb_err_set(err, EB_EADAPTER, "llamacpp: cannot detokenize");
	}
	buf[r] = '\0';
	*text = buf;
	return 0;
}

/* Greedy choice that never picks an end-of-generation token (EOS is ignored). */
static int32_t eb_argmax_no_eog(const struct eb_llamacpp *L, const float *logits)
{
	int32_t best = -1;
	float bv = -INFINITY;

	for (int32_t i = 0; i < L->n_vocab; i++) {
		if (L->eog[i])
			continue;
		if (best < 0 || logits[i] > bv) {
			bv = logits[i];
			best = i;
		}
	}
	return best;
}

static int eb_llamacpp_reset(void *state, struct eb_err *err)
{
	struct eb_llamacpp *L = state;

	llama_memory_clear(llama_get_memory(L->ctx), true);
	return 0;
}

static int eb_llamacpp_generate(void *state, const struct eb_gen_req *req, struct eb_gen_res *res,
				struct eb_err *err)
{
	struct eb_llamacpp *L = state;
	struct llama_sampler *smpl = NULL;
	const float *logits;
	int32_t tok;
	size_t i;
	int ret = 0;

	if (!req->prompt_tokens || req->n_prompt_tokens == 0)
		return eb_err_set(err, EB_EINVAL, "llamacpp: empty prompt");
	if ((long long)req->n_prompt_tokens + req->n_predict > L->n_ctx)
		return eb_err_set(err, EB_EINVAL,
				  "llamacpp: prompt %zu + generated %d tokens exceed n_ctx %d "
				  "(raise the target's n_ctx option)",
				  req->n_prompt_tokens, req->n_predict, L->n_ctx);
	if (req->temperature > 0) {
		smpl = llama_sampler_chain_init(llama_sampler_chain_default_params());
		llama_sampler_chain_add(smpl, llama_sampler_init_temp((float)req->temperature));
		llama_sampler_chain_add(smpl, llama_sampler_init_dist((uint32_t)req->seed));
	}
	llama_memory_clear(llama_get_memory(L->ctx), true);
	res->n_prompt = (int)req->n_prompt_tokens;
	res->n_out = 0;

	res->t_send_ns = eb_clock_ns();
	for (i = 0; i < req->n_prompt_tokens; i += (size_t)L->n_batch) {
		size_t k = req->n_prompt_tokens - i;
		int rc;

		if (k > (size_t)L->n_batch)
			k = (size_t)L->n_batch;
		rc = llama_decode(L->ctx, llama_batch_get_one((int32_t *)req->prompt_tokens + i,
							      (int32_t)k));
		if (rc != 0) {
			ret = eb_err_set(err, EB_EADAPTER, "llamacpp: prompt decode failed (%d): %s",
					 rc, eb_llama_log_tail());
			goto out;
		}
	}
	for (int n = 0; n < req->n_predict; n++) {
		int rc;

		logits = llama_get_logits_ith(L->ctx, -1);
		if (!logits) {
			ret = eb_err_set(err, EB_EADAPTER, "llamacpp: no logits after decode");
			goto out;
		}
		if (smpl) {
			float *lg = (float *)logits;
			for (int32_t v = 0; v < L->n_vocab; v++)
				if (L->eog[v])
					lg[v] = -INFINITY;
			tok = llama_sampler_sample(smpl, L->ctx, -1);
		} else {
			tok = eb_argmax_no_eog(L, logits);
		}
		res->n_out++;
		if (req->on_token && req->on_token(req->ud, eb_clock_ns(), 1))
			break;
		if (n + 1 == req->n_predict)
			break;
		if (req->stop && *req->stop) {
			ret = eb_err_set(err, EB_EINTR, "llamacpp: interrupted");
			goto out;
		}
		rc = llama_decode(L->ctx, llama_batch_get_one(&tok, 1));
		if (rc != 0) {
			ret = eb_err_set(err, EB_EADAPTER, "llamacpp: decode failed (%d) at token %d: %s",
					 rc, n + 1, eb_llama_log_tail());
			goto out;
		}
	}
	{
		struct llama_perf_context_data pd = llama_perf_context(L->ctx);
		res->server = json_pack("{s:f, s:i, s:f, s:i}", "prompt_eval_ms", pd.t_p_eval_ms,
					"prompt_eval_n", pd.n_p_eval, "eval_ms", pd.t_eval_ms,
					"eval_n", pd.n_eval);
		llama_perf_context_reset(L->ctx);
	}
out:
	if (smpl)
		llama_sampler_free(smpl);
	return ret;
}

static int eb_llamacpp_describe(void *state, json_t *out, struct eb_err *err)
{
	struct eb_llamacpp *L = state;
	int n_layer = llama_model_n_layer(L->model);
	int n_embd = llama_model_n_embd(L->model);
	int n_head = llama_model_n_head(L->model);
	int n_head_kv = llama_model_n_head_kv(L->model);
	json_t *devs = json_array();
	char desc[256];
	int64_t head_dim, kv_bytes;

	llama_model_desc(L->model, desc, sizeof(desc));
	json_object_set_new(out, "backend", json_string("llama.cpp"));
	json_object_set_new(out, "backend_version", json_string(llama_version()));
	json_object_set_new(out, "backend_commit", json_string(EB_LLAMA_COMMIT));
	json_object_set_new(out, "system_info", json_string(llama_print_system_info()));
	for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
		ggml_backend_dev_t d = ggml_backend_dev_get(i);
		size_t free_b = 0, total_b = 0;

		ggml_backend_dev_memory(d, &free_b, &total_b);
		json_array_append_new(devs, json_pack("{s:s, s:s, s:I}", "name",
						      ggml_backend_dev_name(d), "description",
						      ggml_backend_dev_description(d), "memory_bytes",
						      (json_int_t)total_b));
	}
	json_object_set_new(out, "devices", devs);
	json_object_set_new(out, "model_type", json_string(desc));
	json_object_set_new(out, "model_ftype", json_string(llama_ftype_name(llama_model_ftype(L->model))));
	json_object_set_new(out, "n_params", json_integer((json_int_t)llama_model_n_params(L->model)));
	json_object_set_new(out, "model_bytes", json_integer((json_int_t)llama_model_size(L->model)));
	json_object_set_new(out, "n_layer", json_integer(n_layer));
	json_object_set_new(out, "n_embd", json_integer(n_embd));
	json_object_set_new(out, "n_head", json_integer(n_head));
	json_object_set_new(out, "n_head_kv", json_integer(n_head_kv));
	json_object_set_new(out, "n_vocab", json_integer(L->n_vocab));
	json_object_set_new(out, "n_ctx", json_integer(L->n_ctx));
	json_object_set_new(out, "n_batch", json_integer(L->n_batch));
	json_object_set_new(out, "n_ubatch", json_integer(llama_n_ubatch(L->ctx)));
	json_object_set_new(out, "n_threads", json_integer(llama_n_threads(L->ctx)));
	json_object_set_new(out, "n_threads_batch", json_integer(llama_n_threads_batch(L->ctx)));
	json_object_set_new(out, "cache_type_k", json_string(ggml_type_name(L->type_k)));
	json_object_set_new(out, "cache_type_v", json_string(ggml_type_name(L->type_v)));
	/* KV bytes for the whole context: layers x cells x (K row + V row), standard attention. */
	if (n_head > 0 && n_head_kv > 0) {
		head_dim = n_embd / n_head;
		kv_bytes = (int64_t)n_layer * L->n_ctx *
			   (int64_t)(ggml_row_size(L->type_k, head_dim * n_head_kv) +
				     ggml_row_size(L->type_v, head_dim * n_head_kv));
		json_object_set_new(out, "kv_bytes", json_integer((json_int_t)kv_bytes));
		json_object_set_new(out, "kv_bytes_per_token",
				    json_integer((json_int_t)(kv_bytes / L->n_ctx)));
	}
	return 0;
}

static const char *eb_llamacpp_unavailable(void)
{
	return NULL;
}

#else /* !EB_HAVE_LLAMA */

static const char *eb_llamacpp_unavailable(void)
{
	return "edgebench was built without llama.cpp (EB_WITH_LLAMA=OFF)";
}

static int eb_llamacpp_open(const struct eb_adapter_args *a, void **state, struct eb_err *err)
{
	return eb_err_set(err, EB_EUNSUPPORTED, "llamacpp: %s", eb_llamacpp_unavailable());
}

static int eb_llamacpp_generate(void *state, const struct eb_gen_req *req, struct eb_gen_res *res,
				struct eb_err *err)
{
	return eb_err_set(err, EB_EUNSUPPORTED, "llamacpp: %s", eb_llamacpp_unavailable());
}

static void eb_llamacpp_close(void *state)
{
}

#define eb_llamacpp_tokenize NULL
#define eb_llamacpp_detokenize NULL
#define eb_llamacpp_reset NULL
#define eb_llamacpp_describe NULL

#endif

const struct eb_adapter_ops eb_adapter_llamacpp = {
	.name = "llamacpp",
	.abi = EB_ADAPTER_ABI,
#ifdef EB_HAVE_LLAMA
	.caps = EB_CAP_STREAM | EB_CAP_TOKENIZE | EB_CAP_PROMPT_TOKENS | EB_CAP_SERVER_TIMINGS,
#else
	.caps = EB_CAP_STREAM | EB_CAP_PROMPT_TOKENS,
#endif
	.options = eb_llamacpp_opts,
	.help = "llama.cpp in process (libllama): GGUF models on CPU, CUDA, Metal, Vulkan",
	.unavailable_reason = eb_llamacpp_unavailable,
	.open = eb_llamacpp_open,
	.tokenize = eb_llamacpp_tokenize,
	.detokenize = eb_llamacpp_detokenize,
	.generate = eb_llamacpp_generate,
	.reset = eb_llamacpp_reset,
	.describe = eb_llamacpp_describe,
	.close = eb_llamacpp_close,
};
