/* llamacpp.c: the in-process llama.cpp adapter (libllama through llama.h). */
#include "adapter.h"

#include "eb_clock.h"
#include "eb_util.h"

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
	{ .name = "n_gpu_layers", .type = EB_OPT_INT, .def = EB_DEF_INT(-1),
	  .range = EB_RANGE(-1, 100000),
	  .help = "layers to offload to the GPU; -1 = all (llama.cpp's default); 0 = CPU only" },
	{ .name = "threads", .type = EB_OPT_INT, .def = EB_DEF_INT(0), .range = EB_RANGE(0, 1024),
	  .help = "threads for generation; 0 = number of online CPUs" },
	{ .name = "threads_batch", .type = EB_OPT_INT, .def = EB_DEF_INT(0),
	  .range = EB_RANGE(0, 1024),
	  .help = "threads for prompt processing; 0 = same as threads" },
	{ .name = "n_ctx", .type = EB_OPT_INT, .def = EB_DEF_INT(4096),
	  .range = EB_RANGE(16, 10000000),
	  .help = "context size (KV-cache cells); must hold prompt + generated tokens" },
	{ .name = "n_batch", .type = EB_OPT_INT, .def = EB_DEF_INT(2048),
	  .range = EB_RANGE(1, 1000000),
	  .help = "logical batch size (llama.cpp n_batch)" },
	{ .name = "n_ubatch", .type = EB_OPT_INT, .def = EB_DEF_INT(512),
	  .range = EB_RANGE(1, 1000000),
	  .help = "physical batch size (llama.cpp n_ubatch)" },
	{ .name = "flash_attn", .type = EB_OPT_ENUM, .def = EB_DEF_STR("auto"),
	  .choices = eb_fa_choices,
	  .help = "flash attention: auto, on, off" },
	{ .name = "cache_type_k", .type = EB_OPT_ENUM, .def = EB_DEF_STR("f16"),
	  .choices = eb_cache_types,
	  .help = "KV-cache K type" },
	{ .name = "cache_type_v", .type = EB_OPT_ENUM, .def = EB_DEF_STR("f16"),
	  .choices = eb_cache_types,
	  .help = "KV-cache V type" },
	{ .name = "mmap", .type = EB_OPT_BOOL, .def = EB_DEF_BOOL(1),
	  .help = "memory-map the model file" },
	{ .name = "offload_kqv", .type = EB_OPT_BOOL, .def = EB_DEF_BOOL(1),
	  .help = "keep the KV cache on the GPU" },
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
/* what the last model load said it offloaded ("offloaded N/M layers to GPU"); -1 when it
 * said nothing (llama.cpp says it only when it can offload at all) */
static int eb_llama_offloaded = -1, eb_llama_offloadable = -1;

static void eb_llama_log_cb(enum ggml_log_level level, const char *text, void *ud)
{
	size_t n = strlen(text);
	const char *off = strstr(text, "offloaded ");
	int a, b;

	if (off && sscanf(off, "offloaded %d/%d layers to GPU", &a, &b) == 2) {
		eb_llama_offloaded = a;
		eb_llama_offloadable = b;
	}

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
	int offloaded, offloadable; /* layers on a GPU as the load reported them, or -1 */
	const json_t *opts;
	struct llama_context_params cp; /* to re-create ctx after scoring freed it */
	/* the scoring context of the last loglik call, kept while its shape fits; only one
	 * of ctx and sctx exists at a time */
	struct llama_context *sctx;
	uint32_t s_ctx, s_batch, s_ubatch, s_seq;
	bool s_unified;
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
	if (L->sctx)
		llama_free(L->sctx);
	if (L->model)
		llama_model_free(L->model);
	free(L->eog);
	free(L);
}

/* Whether a registered device is a GPU (discrete or integrated) llama.cpp can offload to. */
static int eb_llama_has_gpu(void)
{
	for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
		enum ggml_backend_dev_type t = ggml_backend_dev_type(ggml_backend_dev_get(i));

		if (t == GGML_BACKEND_DEVICE_TYPE_GPU || t == GGML_BACKEND_DEVICE_TYPE_IGPU)
			return 1;
	}
	return 0;
}

/* The compiled backends and their devices: "CPU [CPU: Intel Xeon], CUDA [CUDA0: ...]". */
static void eb_llama_backends(char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t r = 0; r < ggml_backend_reg_count() && len < n; r++) {
		ggml_backend_reg_t reg = ggml_backend_reg_get(r);

		len += (size_t)snprintf(buf + len, n - len, "%s%s [", r ? ", " : "",
					ggml_backend_reg_name(reg));
		for (size_t d = 0; d < ggml_backend_reg_dev_count(reg) && len < n; d++) {
			ggml_backend_dev_t dev = ggml_backend_reg_dev_get(reg, d);

			len += (size_t)snprintf(buf + len, n - len, "%s%s: %s", d ? "; " : "",
						ggml_backend_dev_name(dev),
						ggml_backend_dev_description(dev));
		}
		if (len < n)
			len += (size_t)snprintf(buf + len, n - len, "]");
	}
}

/*
 * A target that asks for offload explicitly (n_gpu_layers set, not 0) gets it or fails:
 * before the load when this llama.cpp has no GPU backend, after it when no layer went to
 * a GPU. Unset, the model runs wherever llama.cpp puts it and describe() records where.
 */
static int eb_llama_offload_check(const struct eb_adapter_args *a, const struct eb_llamacpp *L,
				  int loaded, struct eb_err *err)
{
	const json_t *v = json_object_get(a->options, "n_gpu_layers");
	long long want = json_integer_value(v);
	char backends[512];

	if (!json_is_integer(v) || want == 0)
		return 0;
	eb_llama_backends(backends, sizeof(backends));
	if (!loaded && (!llama_supports_gpu_offload() || !eb_llama_has_gpu()))
		return eb_err_set(err, EB_EUNSUPPORTED,
				  "llamacpp: n_gpu_layers is %lld but this llama.cpp (%s) has no "
				  "GPU backend (backends: %s); the model would run on the CPU. "
				  "Set n_gpu_layers: 0 for the CPU, or leave it unset to run "
				  "wherever llama.cpp can", want, llama_version(), backends);
	if (loaded && L->offloaded == 0)
		return eb_err_set(err, EB_EADAPTER,
				  "llamacpp: n_gpu_layers is %lld but llama.cpp offloaded 0 of %d "
				  "layers of '%s' to a GPU (backends: %s)", want, L->offloadable,
				  a->model_file, backends);
	return 0;
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
	eb_llama_offloaded = eb_llama_offloadable = -1;

	L = eb_xcalloc(1, sizeof(*L));
	L->opts = a->options;
	ret = eb_llama_offload_check(a, L, 0, err);
	if (ret)
		goto fail;
	ret = EB_EADAPTER;
	mp.n_gpu_layers = (int32_t)eb_opt_int(a->options, T, "n_gpu_layers");
	mp.load_mode = eb_opt_bool(a->options, T, "mmap") ? LLAMA_LOAD_MODE_MMAP
							       : LLAMA_LOAD_MODE_NONE;
	L->model = llama_model_load_from_file(a->model_file, mp);
	if (!L->model) {
		ret = eb_err_set(err, EB_EADAPTER, "llamacpp: cannot load model '%s': %s",
				 a->model_file, eb_llama_log_tail());
		goto fail;
	}
	L->offloaded = llama_supports_gpu_offload() ? eb_llama_offloaded : 0;
	L->offloadable = eb_llama_offloadable;
	ret = eb_llama_offload_check(a, L, 1, err);
	if (ret)
		goto fail;
	ret = EB_EADAPTER;
	L->vocab = llama_model_get_vocab(L->model);
	L->n_vocab = llama_vocab_n_tokens(L->vocab);
	L->eog = eb_xcalloc((size_t)L->n_vocab, 1);
	for (int i = 0; i < L->n_vocab; i++)
		L->eog[i] = llama_vocab_is_eog(L->vocab, i);

	threads = eb_opt_int(a->options, T, "threads");
	if (threads <= 0)
		threads = sysconf(_SC_NPROCESSORS_ONLN);
	cp.n_ctx = (uint32_t)eb_opt_int(a->options, T, "n_ctx");
	cp.n_batch = (uint32_t)eb_opt_int(a->options, T, "n_batch");
	cp.n_ubatch = (uint32_t)eb_opt_int(a->options, T, "n_ubatch");
	cp.n_threads = (int32_t)threads;
	cp.n_threads_batch = (int32_t)eb_opt_int(a->options, T, "threads_batch");
	if (cp.n_threads_batch <= 0)
		cp.n_threads_batch = cp.n_threads;
	fa = eb_opt_str(a->options, T, "flash_attn");
	cp.flash_attn_type = strcmp(fa, "on") == 0    ? LLAMA_FLASH_ATTN_TYPE_ENABLED
			     : strcmp(fa, "off") == 0 ? LLAMA_FLASH_ATTN_TYPE_DISABLED
						      : LLAMA_FLASH_ATTN_TYPE_AUTO;
	L->type_k = eb_cache_type(eb_opt_str(a->options, T, "cache_type_k"));
	L->type_v = eb_cache_type(eb_opt_str(a->options, T, "cache_type_v"));
	cp.type_k = L->type_k;
	cp.type_v = L->type_v;
	cp.offload_kqv = eb_opt_bool(a->options, T, "offload_kqv");
	cp.no_perf = false;
	L->cp = cp;
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

/* Greedy choice over the whole vocabulary: the first maximum, EOS included. */
static int32_t eb_argmax(const struct eb_llamacpp *L, const float *logits)
{
	int32_t best = 0;

	for (int32_t i = 1; i < L->n_vocab; i++)
		if (logits[i] > logits[best])
			best = i;
	return best;
}

/*
 * The reply so far (tok[0..n)), detokenized whole so that a stop string split across
 * pieces is seen: *stopped when one of req->stop_strings occurs in it.
 */
static int eb_llamacpp_text_stop(struct eb_llamacpp *L, const struct eb_gen_req *req,
				 const int32_t *tok, size_t n, int *stopped, struct eb_err *err)
{
	char *text = NULL;
	int ret = eb_llamacpp_detokenize(L, tok, n, &text, err);

	*stopped = 0;
	if (ret)
		return ret;
	for (size_t k = 0; req->stop_strings && req->stop_strings[k]; k++)
		if (req->stop_strings[k][0] && strstr(text, req->stop_strings[k]))
			*stopped = 1;
	free(text);
	return 0;
}

/* The generation context, re-created when scoring released it. */
static int eb_llamacpp_ctx(struct eb_llamacpp *L, struct eb_err *err)
{
	if (L->ctx)
		return 0;
	if (L->sctx) {
		llama_free(L->sctx);
		L->sctx = NULL;
	}
	L->ctx = llama_init_from_model(L->model, L->cp);
	if (!L->ctx)
		return eb_err_set(err, EB_EADAPTER, "llamacpp: cannot re-create the context: %s",
				  eb_llama_log_tail());
	return 0;
}

static int eb_llamacpp_reset(void *state, struct eb_err *err)
{
	struct eb_llamacpp *L = state;

	if (L->ctx)
		llama_memory_clear(llama_get_memory(L->ctx), true);
	return 0;
}

static int eb_llamacpp_generate(void *state, const struct eb_gen_req *req, struct eb_gen_res *res,
				struct eb_err *err)
{
	struct eb_llamacpp *L = state;
	struct llama_sampler *smpl = NULL;
	const float *logits;
	int32_t tok, *out_tok = NULL;
	struct eb_err derr;
	char *text = NULL;
	size_t i;
	int ret = 0, stopped = 0;

	if (!req->prompt_tokens || req->n_prompt_tokens == 0)
		return eb_err_set(err, EB_EINVAL, "llamacpp: empty prompt");
	if ((long long)req->n_prompt_tokens + req->n_predict > L->n_ctx)
		return eb_err_set(err, EB_EINVAL,
				  "llamacpp: prompt %zu + generated %d tokens exceed n_ctx %d "
				  "(raise the target's n_ctx option)",
				  req->n_prompt_tokens, req->n_predict, L->n_ctx);
	ret = eb_llamacpp_ctx(L, err);
	if (ret)
		return ret;
	if (req->text || req->stop_strings)
		out_tok = eb_xcalloc((size_t)req->n_predict + 1, sizeof(*out_tok));
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
		if (req->may_stop && !smpl) {
			/* greedy, and the model may end here: EOS is a token like any other */
			tok = eb_argmax(L, logits);
			if (L->eog[tok])
				break;
		} else if (smpl) {
			float *lg = (float *)logits;
			for (int32_t v = 0; v < L->n_vocab && !req->may_stop; v++)
				if (L->eog[v])
					lg[v] = -INFINITY;
			tok = llama_sampler_sample(smpl, L->ctx, -1);
			if (L->eog[tok])
				break;
		} else {
			tok = eb_argmax_no_eog(L, logits);
		}
		if (out_tok)
			out_tok[n] = tok;
		res->n_out++;
		if (req->on_token && req->on_token(req->ud, eb_clock_ns(), 1))
			break;
		if (req->stop_strings) {
			ret = eb_llamacpp_text_stop(L, req, out_tok, (size_t)n + 1, &stopped, err);
			if (ret)
				goto out;
			if (stopped)
				break;
		}
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
	if (req->text && eb_llamacpp_detokenize(L, out_tok, (size_t)res->n_out, &text, &derr) == 0) {
		size_t len = strlen(text);

		/* the token that completed a stop string may carry more text: cut before it,
		 * as a server does */
		for (size_t k = 0; stopped && req->stop_strings[k]; k++) {
			const char *at = req->stop_strings[k][0] ? strstr(text, req->stop_strings[k])
								 : NULL;

			if (at && (size_t)(at - text) < len)
				len = (size_t)(at - text);
		}
		eb_buf_add(req->text, text, len < EB_GEN_TEXT_MAX ? len : EB_GEN_TEXT_MAX);
	}
	free(text);
	free(out_tok);
	if (smpl)
		llama_sampler_free(smpl);
	return ret;
}

/* --- log-likelihood scoring ---------------------------------------------------- */

/*
 * A unit is what one batch must hold together: one sequence, or (EB_LOGLIK_SHARE) the
 * consecutive sequences of one group, whose common prefix of `lcp` tokens is evaluated
 * once, each token tagged with every sequence id of the unit.
 */
struct eb_ll_unit {
	size_t s0, ns;  /* sequences req->seqs[s0 .. s0 + ns) */
	size_t lcp;     /* shared prefix length (the whole sequence when ns == 1) */
	size_t tokens;  /* lcp + the tails */
};

/* Where a unit's tokens sit in the batch being built. */
struct eb_ll_slot {
	const struct eb_ll_unit *u;
	int32_t seq_id0;   /* sequence ids seq_id0 .. seq_id0 + u->ns - 1 */
	size_t prefix_at;  /* batch index of the prefix's first token in this decode */
	size_t prefix_b, prefix_e; /* prefix positions decoded in this pass */
	size_t tail_at[256];       /* per sequence: batch index of the tail's first token */
	size_t tail_b[256], tail_e[256]; /* per sequence: tail positions decoded in this pass */
};

/* Everything one loglik call owns. */
struct eb_ll {
	struct eb_llamacpp *L;
	const struct eb_loglik_req *req;
	struct llama_context *ctx;
	struct llama_batch batch;
	int batch_ready;
	size_t n_batch;     /* tokens per decode */
	size_t max_seqs;    /* sequences per decode */
	/* the rows of one decode */
	size_t *row_seq, *row_pos;
	const float **row_logits;
	size_t n_rows, rows_alloc;
};

static int eb_ll_need(const struct eb_loglik_seq *q, size_t pos)
{
	return pos >= q->first && pos + 1 < q->n_tokens;
}

static void eb_ll_add(struct eb_ll *ll, int32_t tok, size_t pos, const int32_t *ids, size_t n_ids,
		      int want)
{
	struct llama_batch *b = &ll->batch;
	int32_t i = b->n_tokens++;

	b->token[i] = tok;
	b->pos[i] = (llama_pos)pos;
	b->n_seq_id[i] = (int32_t)n_ids;
	for (size_t k = 0; k < n_ids; k++)
		b->seq_id[i][k] = ids[k];
	b->logits[i] = (int8_t)(want != 0);
}

static void eb_ll_row(struct eb_ll *ll, size_t seq, size_t pos, int32_t batch_idx)
{
	if (ll->n_rows == ll->rows_alloc) {
		ll->rows_alloc = ll->rows_alloc ? 2 * ll->rows_alloc : 1024;
		ll->row_seq = eb_xrealloc(ll->row_seq, ll->rows_alloc * sizeof(*ll->row_seq));
		ll->row_pos = eb_xrealloc(ll->row_pos, ll->rows_alloc * sizeof(*ll->row_pos));
		ll->row_logits = eb_xrealloc(ll->row_logits,
					     ll->rows_alloc * sizeof(*ll->row_logits));
	}
	ll->row_seq[ll->n_rows] = seq;
	ll->row_pos[ll->n_rows] = pos;
	ll->row_logits[ll->n_rows] = llama_get_logits_ith(ll->ctx, batch_idx);
	ll->n_rows++;
}

/* Decodes the batch, then hands the rows of the slots to the caller in order. */
static int eb_ll_decode(struct eb_ll *ll, struct eb_ll_slot *slots, size_t n_slots,
			struct eb_err *err)
{
	const struct eb_loglik_req *req = ll->req;
	struct eb_loglik_rows rows;
	int rc;

	if (req->stop && *req->stop)
		return eb_err_set(err, EB_EINTR, "llamacpp: interrupted");
	rc = llama_decode(ll->ctx, ll->batch);
	ll->batch.n_tokens = 0;
	if (rc != 0)
		return eb_err_set(err, EB_EADAPTER, "llamacpp: scoring decode failed (%d): %s", rc,
				  eb_llama_log_tail());
	ll->n_rows = 0;
	for (size_t k = 0; k < n_slots; k++) {
		const struct eb_ll_slot *sl = &slots[k];
		const struct eb_ll_unit *u = sl->u;

		for (size_t j = 0; j < u->ns; j++) {
			const struct eb_loglik_seq *q = &req->seqs[u->s0 + j];

			for (size_t p = sl->prefix_b; p < sl->prefix_e; p++)
				if (eb_ll_need(q, p))
					eb_ll_row(ll, u->s0 + j, p,
						  (int32_t)(sl->prefix_at + p - sl->prefix_b));
			for (size_t p = sl->tail_b[j]; p < sl->tail_e[j]; p++)
				if (eb_ll_need(q, p))
					eb_ll_row(ll, u->s0 + j, p,
						  (int32_t)(sl->tail_at[j] + p - sl->tail_b[j]));
		}
	}
	for (size_t i = 0; i < ll->n_rows; i++)
		if (!ll->row_logits[i])
			return eb_err_set(err, EB_EADAPTER, "llamacpp: no logits for a scored row");
	if (ll->n_rows == 0)
		return 0;
	rows.n = ll->n_rows;
	rows.seq = ll->row_seq;
	rows.pos = ll->row_pos;
	rows.logits = ll->row_logits;
	rows.logp = NULL;
	rows.n_vocab = (size_t)ll->L->n_vocab;
	rows.n_clamped = 0;
	return req->on_rows(req->ud, &rows, err);
}

/* Adds the prefix positions [b, e) of a slot's unit to the batch. */
static void eb_ll_add_prefix(struct eb_ll *ll, struct eb_ll_slot *sl, size_t b, size_t e)
{
	const struct eb_ll_unit *u = sl->u;
	const struct eb_loglik_seq *q0 = &ll->req->seqs[u->s0];
	int32_t ids[256];

	for (size_t j = 0; j < u->ns; j++)
		ids[j] = sl->seq_id0 + (int32_t)j;
	sl->prefix_at = (size_t)ll->batch.n_tokens;
	sl->prefix_b = b;
	sl->prefix_e = e;
	for (size_t p = b; p < e; p++) {
		int want = 0;

		for (size_t j = 0; j < u->ns; j++)
			want |= eb_ll_need(&ll->req->seqs[u->s0 + j], p);
		eb_ll_add(ll, q0->tokens[p], p, ids, u->ns, want);
	}
}

/* Adds the tail positions [b, e) of sequence j of a slot's unit to the batch. */
static void eb_ll_add_tail(struct eb_ll *ll, struct eb_ll_slot *sl, size_t j, size_t b, size_t e)
{
	const struct eb_loglik_seq *q = &ll->req->seqs[sl->u->s0 + j];
	int32_t id = sl->seq_id0 + (int32_t)j;

	sl->tail_at[j] = (size_t)ll->batch.n_tokens;
	sl->tail_b[j] = b;
	sl->tail_e[j] = e;
	for (size_t p = b; p < e; p++)
		eb_ll_add(ll, q->tokens[p], p, &id, 1, eb_ll_need(q, p));
}

static void eb_ll_slot_init(struct eb_ll_slot *sl, const struct eb_ll_unit *u, int32_t seq_id0)
{
	sl->u = u;
	sl->seq_id0 = seq_id0;
	sl->prefix_b = sl->prefix_e = 0;
	for (size_t j = 0; j < u->ns; j++)
		sl->tail_b[j] = sl->tail_e[j] = 0;
}

/* A unit longer than one batch: prefix, then each tail, n_batch tokens per decode. */
static int eb_ll_unit_chunked(struct eb_ll *ll, const struct eb_ll_unit *u, struct eb_err *err)
{
	struct eb_ll_slot *sl = eb_xcalloc(1, sizeof(*sl));
	int ret = 0;

	llama_memory_clear(llama_get_memory(ll->ctx), true);
	eb_ll_slot_init(sl, u, 0);
	for (size_t b = 0; !ret && b < u->lcp; b += ll->n_batch) {
		size_t e = b + ll->n_batch < u->lcp ? b + ll->n_batch : u->lcp;

		eb_ll_slot_init(sl, u, 0);
		eb_ll_add_prefix(ll, sl, b, e);
		ret = eb_ll_decode(ll, sl, 1, err);
	}
	for (size_t j = 0; !ret && j < u->ns; j++) {
		size_t n = ll->req->seqs[u->s0 + j].n_tokens;

		for (size_t b = u->lcp; !ret && b < n; b += ll->n_batch) {
			size_t e = b + ll->n_batch < n ? b + ll->n_batch : n;

			eb_ll_slot_init(sl, u, 0);
			eb_ll_add_tail(ll, sl, j, b, e);
			ret = eb_ll_decode(ll, sl, 1, err);
		}
	}
	free(sl);
	return ret;
}

/* Splits the request into units; returns how many (units is malloc'd). */
static size_t eb_ll_units(const struct eb_loglik_req *req, int share, struct eb_ll_unit **out)
{
	struct eb_ll_unit *u = eb_xcalloc(req->n_seqs ? req->n_seqs : 1, sizeof(*u));
	size_t n = 0;

	for (size_t i = 0; i < req->n_seqs;) {
		size_t j = i + 1, lcp = req->seqs[i].n_tokens;

		if (share)
			while (j < req->n_seqs && j - i < 256 && req->seqs[j].group == req->seqs[i].group)
				j++;
		for (size_t k = i + 1; k < j; k++) {
			size_t m = 0, lim = req->seqs[k].n_tokens < lcp ? req->seqs[k].n_tokens : lcp;

			while (m < lim && req->seqs[k].tokens[m] == req->seqs[i].tokens[m])
				m++;
			lcp = m;
		}
		u[n].s0 = i;
		u[n].ns = j - i;
		u[n].lcp = lcp;
		u[n].tokens = lcp;
		for (size_t k = i; k < j; k++)
			u[n].tokens += req->seqs[k].n_tokens - lcp;
		n++;
		i = j;
	}
	*out = u;
	return n;
}

static int eb_llamacpp_loglik(void *state, const struct eb_loglik_req *req, struct eb_err *err)
{
	struct eb_llamacpp *L = state;
	struct llama_context_params cp = L->cp;
	struct eb_ll ll;
	struct eb_ll_unit *units = NULL;
	struct eb_ll_slot *slots = NULL;
	size_t n_units, max_len = 0, max_unit = 0, max_ns = 1, n_batch_opt;
	int share = (req->flags & EB_LOGLIK_SHARE) != 0, equal = 1;
	int ret = 0;

	memset(&ll, 0, sizeof(ll));
	ll.L = L;
	ll.req = req;
	if (req->n_seqs == 0)
		return 0;
	for (size_t i = 0; i < req->n_seqs; i++) {
		const struct eb_loglik_seq *q = &req->seqs[i];

		if (q->n_tokens < 2 || q->first + 1 >= q->n_tokens)
			return eb_err_set(err, EB_EINVAL,
					  "llamacpp: sequence %zu has %zu tokens and wants rows from "
					  "position %zu",
					  i, q->n_tokens, q->first);
		for (size_t k = 0; k < q->n_tokens; k++)
			if (q->tokens[k] < 0 || q->tokens[k] >= L->n_vocab)
				return eb_err_set(err, EB_EINVAL,
						  "llamacpp: token %d of sequence %zu is outside the "
						  "vocabulary (%d)",
						  (int)q->tokens[k], i, L->n_vocab);
		if (q->n_tokens > max_len)
			max_len = q->n_tokens;
	}
	n_units = eb_ll_units(req, share, &units);
	for (size_t i = 0; i < n_units; i++) {
		if (units[i].tokens > max_unit)
			max_unit = units[i].tokens;
		if (units[i].ns > max_ns)
			max_ns = units[i].ns;
	}
	n_batch_opt = req->n_batch ? req->n_batch : (size_t)L->cp.n_batch;
	for (size_t i = 1; i < req->n_seqs; i++)
		equal &= req->seqs[i].n_tokens == req->seqs[0].n_tokens;
	if (share || !equal) {
		/*
		 * One KV buffer for all sequences: a prefix can belong to several, and
		 * sequences of different lengths pack into full ubatches (separate streams
		 * split a batch into equal slices per sequence). A batch of one ubatch keeps
		 * the cells each token attends over few.
		 */
		size_t total = n_batch_opt < cp.n_ubatch ? n_batch_opt : cp.n_ubatch;

		if (total < max_unit)
			total = max_unit;
		cp.kv_unified = true;
		cp.n_seq_max = 1;
		cp.n_ctx = (uint32_t)total;
		cp.n_batch = (uint32_t)total;
		ll.max_seqs = 256;
	} else {
		/* llama-perplexity's layout: n_batch / n_ctx sequences side by side, each in
		 * its own KV stream */
		size_t n_seq = n_batch_opt / max_len > 1 ? n_batch_opt / max_len : 1;

		if (n_seq > 256)
			n_seq = 256;
		cp.kv_unified = false;
		cp.n_seq_max = (uint32_t)n_seq;
		cp.n_ctx = (uint32_t)(n_seq * max_len);
		cp.n_batch = (uint32_t)(n_batch_opt < n_seq * max_len ? n_batch_opt : n_seq * max_len);
		ll.max_seqs = n_seq;
	}
	if (cp.n_ubatch > cp.n_batch)
		cp.n_ubatch = cp.n_batch;
	/* one context at a time: the generation context comes back when needed, and a
	 * scoring context of the same shape is reused */
	if (L->ctx) {
		llama_free(L->ctx);
		L->ctx = NULL;
	}
	if (L->sctx && (L->s_ctx != cp.n_ctx || L->s_batch != cp.n_batch ||
			L->s_ubatch != cp.n_ubatch || L->s_seq != cp.n_seq_max ||
			L->s_unified != cp.kv_unified)) {
		llama_free(L->sctx);
		L->sctx = NULL;
	}
	if (!L->sctx) {
		L->sctx = llama_init_from_model(L->model, cp);
		if (!L->sctx) {
			ret = eb_err_set(err, EB_EADAPTER,
					 "llamacpp: cannot create a scoring context (n_ctx %u, %u "
					 "sequences): %s",
					 cp.n_ctx, cp.n_seq_max, eb_llama_log_tail());
			goto out;
		}
		L->s_ctx = cp.n_ctx;
		L->s_batch = cp.n_batch;
		L->s_ubatch = cp.n_ubatch;
		L->s_seq = cp.n_seq_max;
		L->s_unified = cp.kv_unified;
	}
	ll.ctx = L->sctx;
	ll.n_batch = llama_n_batch(ll.ctx);
	ll.batch = llama_batch_init((int32_t)ll.n_batch, 0, (int32_t)max_ns);
	ll.batch_ready = 1;
	slots = eb_xcalloc(ll.max_seqs < n_units ? ll.max_seqs : n_units, sizeof(*slots));
	for (size_t u = 0; !ret && u < n_units;) {
		size_t v = u, tokens = 0, seqs = 0;

		if (units[u].tokens > ll.n_batch) {
			ret = eb_ll_unit_chunked(&ll, &units[u], err);
			u++;
			continue;
		}
		llama_memory_clear(llama_get_memory(ll.ctx), true);
		while (v < n_units && tokens + units[v].tokens <= ll.n_batch &&
		       seqs + units[v].ns <= ll.max_seqs) {
			struct eb_ll_slot *sl = &slots[v - u];

			eb_ll_slot_init(sl, &units[v], (int32_t)seqs);
			eb_ll_add_prefix(&ll, sl, 0, units[v].lcp);
			for (size_t j = 0; j < units[v].ns; j++)
				eb_ll_add_tail(&ll, sl, j, units[v].lcp,
					       req->seqs[units[v].s0 + j].n_tokens);
			tokens += units[v].tokens;
			seqs += units[v].ns;
			v++;
		}
		ret = eb_ll_decode(&ll, slots, v - u, err);
		u = v;
	}
out:
	if (ll.batch_ready)
		llama_batch_free(ll.batch);
	if (ret && L->sctx) {
		/* a failed or interrupted call leaves no state behind */
		llama_free(L->sctx);
		L->sctx = NULL;
	}
	free(slots);
	free(units);
	free(ll.row_seq);
	free(ll.row_pos);
	free(ll.row_logits);
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
	int ret = eb_llamacpp_ctx(L, err);

	if (ret) {
		json_decref(devs);
		return ret;
	}
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
	/* where the weights went: layers offloaded to a GPU as the load reported them (0
	 * without a GPU backend), and the devices llama.cpp had */
	{
		char backends[512];

		eb_llama_backends(backends, sizeof(backends));
		json_object_set_new(out, "backends", json_string(backends));
		json_object_set_new(out, "gpu_offload", json_boolean(llama_supports_gpu_offload()));
		if (L->offloaded >= 0)
			json_object_set_new(out, "gpu_layers_offloaded", json_integer(L->offloaded));
	}
	json_object_set_new(out, "model_type", json_string(desc));
	json_object_set_new(out, "model_ftype", json_string(llama_ftype_name(llama_model_ftype(L->model))));
	json_object_set_new(out, "n_params", json_integer((json_int_t)llama_model_n_params(L->model)));
	json_object_set_new(out, "model_bytes", json_integer((json_int_t)llama_model_size(L->model)));
	json_object_set_new(out, "n_layer", json_integer(n_layer));
	json_object_set_new(out, "n_embd", json_integer(n_embd));
	json_object_set_new(out, "n_head", json_integer(n_head));
	json_object_set_new(out, "n_head_kv", json_integer(n_head_kv));
	json_object_set_new(out, "n_vocab", json_integer(L->n_vocab));
	json_object_set_new(out, "bos_token", json_integer(llama_vocab_bos(L->vocab)));
	json_object_set_new(out, "eos_token", json_integer(llama_vocab_eos(L->vocab)));
	json_object_set_new(out, "add_bos", json_boolean(llama_vocab_get_add_bos(L->vocab)));
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

/* --- many requests at once: continuous batching in one context ------------------- */

/* One sequence slot of generate_many: the request it carries and where it stands. */
struct eb_gm_seq {
	size_t i;          /* the request */
	int active;
	size_t n_fed;      /* prompt tokens decoded so far */
	int n_out;
	int32_t tok;       /* sampled, to be decoded next */
	llama_pos pos;     /* the next position of the sequence */
	int32_t row;       /* its logits row in this decode; -1: none */
	uint64_t t_free, t_due, t_send;
};

/* Ends slot q's request: its figures to on_done, its cells out of the KV cache. */
static void eb_gm_end(struct eb_llamacpp *L, struct llama_context *ctx, const struct eb_gen_batch *b,
		      struct eb_gm_seq *sq, int32_t id, int rc, const struct eb_err *err)
{
	struct eb_gen_res res = { sq->t_send, (int)b->reqs[sq->i].n_prompt_tokens, sq->n_out, NULL,
				  0, 0, NULL };
	struct eb_err none;

	(void)L;
	eb_err_clear(&none);
	b->on_done(b->ud, sq->i, rc, &res, sq->t_due, err ? err : &none);
	llama_memory_seq_rm(llama_get_memory(ctx), id, -1, -1);
	sq->active = 0;
	sq->t_free = eb_clock_ns();
}

/*
 * generate_many in process, as llama-server's slots do: up to max_inflight sequences in
 * one context (one KV cache, kv_unified), every step one llama_decode of a batch holding
 * the next token of each sequence that is generating and as much of the admitted prompts
 * as fits n_batch; a sequence that ends frees its slot, and the next request due takes
 * it at once. Greedy (temperature 0) only; EOS ignored unless may_stop.
 */
static int eb_llamacpp_generate_many(void *state, const struct eb_gen_batch *b, struct eb_err *err)
{
	struct eb_llamacpp *L = state;
	size_t n_slots = b->max_inflight > 0 && (size_t)b->max_inflight < b->n ? (size_t)b->max_inflight
										 : b->n;
	size_t max_len = 0, next = 0, active = 0;
	struct llama_context_params cp = L->cp;
	struct llama_context *ctx = NULL;
	struct llama_batch batch;
	struct eb_gm_seq *sq;
	int ret = 0;

	if (n_slots > 256)
		n_slots = 256; /* llama.cpp's LLAMA_MAX_SEQ */
	for (size_t i = 0; i < b->n; i++) {
		const struct eb_gen_req *r = &b->reqs[i];

		if (!r->prompt_tokens || r->n_prompt_tokens == 0)
			return eb_err_set(err, EB_EINVAL, "llamacpp: request %zu: empty prompt", i);
		if (r->temperature > 0)
			return eb_err_set(err, EB_EUNSUPPORTED,
					  "llamacpp: load cells decode greedily (temperature 0)");
		if (r->n_prompt_tokens + (size_t)r->n_predict > max_len)
			max_len = r->n_prompt_tokens + (size_t)r->n_predict;
	}
	/* one context at a time, sized for every slot's longest request */
	if (L->ctx) {
		llama_free(L->ctx);
		L->ctx = NULL;
	}
	if (L->sctx) {
		llama_free(L->sctx);
		L->sctx = NULL;
	}
	cp.kv_unified = true;
	cp.n_seq_max = (uint32_t)n_slots;
	cp.n_ctx = (uint32_t)(n_slots * max_len);
	if (cp.n_batch < n_slots)
		cp.n_batch = (uint32_t)n_slots;
	if (cp.n_ubatch > cp.n_batch)
		cp.n_ubatch = cp.n_batch;
	ctx = llama_init_from_model(L->model, cp);
	if (!ctx)
		return eb_err_set(err, EB_EADAPTER,
				  "llamacpp: cannot create a context for %zu sequences (n_ctx %u): %s",
				  n_slots, cp.n_ctx, eb_llama_log_tail());
	batch = llama_batch_init((int32_t)llama_n_batch(ctx), 0, 1);
	sq = eb_xcalloc(n_slots, sizeof(*sq));
	for (size_t k = 0; k < n_slots; k++)
		sq[k].t_free = eb_clock_ns();
	while (next < b->n || active) {
		uint64_t now = eb_clock_ns();
		size_t room = (size_t)llama_n_batch(ctx);
		int rc;

		if (b->stop && *b->stop) {
			ret = eb_err_set(err, EB_EINTR, "llamacpp: interrupted");
			break;
		}
		if (b->t_last_send_ns && now > b->t_last_send_ns)
			next = b->n;
		/* every request that is due takes a free slot, in index order */
		for (size_t k = 0; k < n_slots && next < b->n; k++) {
			uint64_t due = b->t_sched_ns ? b->t_sched_ns[next] : 0;

			uint64_t t_free = sq[k].t_free;

			if (sq[k].active || due > now)
				continue;
			memset(&sq[k], 0, sizeof(sq[k]));
			sq[k].i = next++;
			sq[k].active = 1;
			sq[k].t_free = t_free;
			sq[k].t_due = due > t_free ? due : t_free;
			sq[k].t_send = eb_clock_ns();
			active++;
		}
		if (!active) {
			if (next < b->n && b->t_sched_ns && b->t_sched_ns[next] > now)
				eb_clock_sleep_ns(b->t_sched_ns[next] - now, b->stop);
			continue;
		}
		/* the batch: each generating sequence's next token, then prompts as they fit */
		batch.n_tokens = 0;
		for (size_t k = 0; k < n_slots; k++) {
			struct eb_gm_seq *q = &sq[k];
			const struct eb_gen_req *r = &b->reqs[q->i];
			llama_seq_id id = (llama_seq_id)k;

			q->row = -1;
			if (!q->active || q->n_fed < r->n_prompt_tokens || !room)
				continue;
			q->row = batch.n_tokens;
			batch.token[batch.n_tokens] = q->tok;
			batch.pos[batch.n_tokens] = q->pos++;
			batch.n_seq_id[batch.n_tokens] = 1;
			batch.seq_id[batch.n_tokens][0] = id;
			batch.logits[batch.n_tokens++] = 1;
			room--;
		}
		for (size_t k = 0; k < n_slots && room; k++) {
			struct eb_gm_seq *q = &sq[k];
			const struct eb_gen_req *r = &b->reqs[q->i];

			while (q->active && q->n_fed < r->n_prompt_tokens && room) {
				int last = q->n_fed + 1 == r->n_prompt_tokens;

				if (last)
					q->row = batch.n_tokens;
				batch.token[batch.n_tokens] = r->prompt_tokens[q->n_fed++];
				batch.pos[batch.n_tokens] = q->pos++;
				batch.n_seq_id[batch.n_tokens] = 1;
				batch.seq_id[batch.n_tokens][0] = (llama_seq_id)k;
				batch.logits[batch.n_tokens++] = (int8_t)last;
				room--;
			}
		}
		rc = llama_decode(ctx, batch);
		if (rc != 0) {
			ret = eb_err_set(err, EB_EADAPTER, "llamacpp: batched decode failed (%d): %s",
					 rc, eb_llama_log_tail());
			break;
		}
		now = eb_clock_ns();
		for (size_t k = 0; k < n_slots; k++) {
			struct eb_gm_seq *q = &sq[k];
			const struct eb_gen_req *r = &b->reqs[q->i];
			const float *lg;

			if (!q->active || q->row < 0)
				continue;
			lg = llama_get_logits_ith(ctx, q->row);
			q->tok = eb_argmax_no_eog(L, lg);
			if (r->may_stop) {
				int32_t best = 0;

				for (int32_t v = 1; v < L->n_vocab; v++)
					if (lg[v] > lg[best])
						best = v;
				if (L->eog[best]) { /* the model's own stop: no token comes */
					eb_gm_end(L, ctx, b, q, (int32_t)k, 0, NULL);
					active--;
					continue;
				}
			}
			q->n_out++;
			if (b->on_token)
				b->on_token(b->ud, q->i, now, 1);
			if (q->n_out >= r->n_predict) {
				eb_gm_end(L, ctx, b, q, (int32_t)k, 0, NULL);
				active--;
			}
		}
	}
	for (size_t k = 0; k < n_slots; k++)
		if (sq[k].active)
			eb_gm_end(L, ctx, b, &sq[k], (int32_t)k, EB_EINTR, err);
	free(sq);
	llama_batch_free(batch);
	llama_free(ctx);
	return ret;
}

static const char *eb_llamacpp_version(void)
{
	static char v[768];
	char backends[640];

	eb_llama_backends(backends, sizeof(backends));
	snprintf(v, sizeof(v), "llama.cpp %s (commit %s); backends: %s", llama_version(),
		 EB_LLAMA_COMMIT, backends);
	return v;
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
#define eb_llamacpp_loglik NULL
#define eb_llamacpp_generate_many NULL

#endif

const struct eb_adapter_ops eb_adapter_llamacpp = {
	.name = "llamacpp",
	.abi = EB_ADAPTER_ABI,
#ifdef EB_HAVE_LLAMA
	.caps = EB_CAP_STREAM | EB_CAP_TOKENIZE | EB_CAP_PROMPT_TOKENS | EB_CAP_SERVER_TIMINGS |
		EB_CAP_LOGLIK | EB_CAP_LOGITS | EB_CAP_TEXT,
#else
	.caps = EB_CAP_STREAM | EB_CAP_PROMPT_TOKENS,
#endif
	.options = eb_llamacpp_opts,
	.help = "llama.cpp in process (libllama): GGUF models on CPU, CUDA, Metal, Vulkan",
	.unavailable_reason = eb_llamacpp_unavailable,
#ifdef EB_HAVE_LLAMA
	.version = eb_llamacpp_version,
#endif
	.open = eb_llamacpp_open,
	.tokenize = eb_llamacpp_tokenize,
	.detokenize = eb_llamacpp_detokenize,
	.generate = eb_llamacpp_generate,
	.generate_many = eb_llamacpp_generate_many,
	.reset = eb_llamacpp_reset,
	.loglik = eb_llamacpp_loglik,
	.describe = eb_llamacpp_describe,
	.close = eb_llamacpp_close,
};
