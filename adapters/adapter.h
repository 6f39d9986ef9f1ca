/* adapter.h: the one ops table every backend implements, and the registry of backends. */
#ifndef EB_ADAPTER_H
#define EB_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "eb_err.h"
#include "eb_opt.h"
#include "eb_util.h"

#define EB_ADAPTER_ABI 1

/* Capability flags: a workload that needs a missing one is skipped with a stored reason. */
enum {
	EB_CAP_STREAM = 1 << 0,         /* reports each token (or chunk) as it arrives */
	EB_CAP_LOGLIK = 1 << 1,         /* scores log-likelihoods of given tokens */
	EB_CAP_TOKENIZE = 1 << 2,       /* text <-> tokens with the model's own tokenizer */
	EB_CAP_SERVER_TIMINGS = 1 << 3, /* returns the backend's own timing figures */
	EB_CAP_PROMPT_TOKENS = 1 << 4,  /* accepts a prompt given as token ids */
	EB_CAP_LOGITS = 1 << 5,         /* loglik rows can carry full logits (protocol kld) */
	EB_CAP_TEXT = 1 << 6,           /* generate returns the text (eb_gen_req.text) and
					   passes may_stop and stop_strings on where the
					   backend takes them (the generative accuracy
					   protocols, which cut replies at the stop strings
					   themselves too) */
};

/* What the harness hands to open(). Every pointer stays valid until close(). */
struct eb_adapter_args {
	const char *target_id;
	const char *model_id;
	const char *quant;
	const char *model_file;  /* local weights, or NULL (remote) */
	const char *model_name;  /* server-side name, or NULL */
	const json_t *options;   /* validated target options (object; never NULL) */
	uint64_t seed;
	volatile int *stop;      /* NULL, or set asynchronously to abandon whatever request is
				    under way (tokenize, detokenize, describe, open's own), as
				    generate's req->stop does */
};

/*
 * Called by the adapter for every token or chunk as it reaches the harness, with
 * `t_ns` from eb_clock_ns() taken right then and `n_tokens` the tokens it carried
 * (-1 when the backend does not say; stored as unknown). Returning non-zero asks the
 * adapter to stop.
 */
typedef int (*eb_token_cb)(void *ud, uint64_t t_ns, int n_tokens);

/* Bytes of a reply kept in eb_gen_res.text: a server that ignores max_tokens and stop
 * strings costs bounded memory. */
#define EB_GEN_TEXT_MAX (1u << 20)

/* One generation request. */
struct eb_gen_req {
	const int32_t *prompt_tokens; /* with EB_CAP_PROMPT_TOKENS, else NULL */
	size_t n_prompt_tokens;
	const char *prompt_text;      /* always set: the same prompt as text */
	int n_predict;                /* exactly this many tokens (EOS ignored) */
	uint64_t seed;
	double temperature;           /* 0 = greedy */
	eb_token_cb on_token;
	void *ud;
	volatile int *stop;           /* set asynchronously to abandon the request */
	int may_stop;                 /* 1: the model may end at EOS before n_predict (the load
				       * workload's ignore_eos false); 0: exactly n_predict */
	/*
	 * EB_CAP_TEXT (the generative accuracy protocols, with may_stop); NULL for the timing
	 * workloads. stop_strings: NULL or NULL-terminated; the reply ends at the first one,
	 * whose text is not part of it. text: NULL, or a buffer (the caller's) the reply is
	 * appended to as the peer sent it, also when generate fails part way, at most
	 * EB_GEN_TEXT_MAX bytes of it (the buffer's own cap_max aside). Raw peer text: the
	 * harness cleans it (base/eb_sanitize.h) before it is stored or printed.
	 */
	const char *const *stop_strings;
	struct eb_buf *text;
};

/* What a result's token times are worth (struct eb_gen_res.flags). */
enum {
	/* the output came through a buffer: the times are when it was flushed (all tokens in
	 * one read, or the first within a millisecond of the output's end), not when each
	 * token was made, so TTFT and ITL are not measured */
	EB_GEN_BUFFERED = 1 << 0,
};

/* What the adapter reports back. The harness takes its own timestamps. */
struct eb_gen_res {
	uint64_t t_send_ns;   /* taken by the adapter just before submitting */
	int n_prompt;         /* prompt tokens as the engine counted them, -1 unknown */
	int n_out;            /* generated tokens as the engine counted them, -1 unknown */
	json_t *server;       /* backend's own timings/counters (owned by caller), or NULL */
	int n_cached;         /* prompt tokens the server took from its prompt cache instead
				 of evaluating them (its own count), -1 unknown */
	unsigned flags;       /* EB_GEN_* */
	const char *cache_field; /* the server field n_cached came from (static), or NULL */
};

/*
 * Many generation requests at once (the load workload), driven by the adapter from one
 * event loop. Request i is sent, in index order, once eb_clock_ns() >= t_sched_ns[i] and
 * fewer than max_inflight requests are in flight. Its tokens reach on_token(ud, i, t_ns,
 * n_tokens) as eb_token_cb's do; its end reaches on_done once, with rc 0 and `res`
 * filled as generate() fills it (on_done takes res->server), or a negative EB_E* code
 * and `err`; t_due_ns is when it could first go (its scheduled time, or a free slot's,
 * whichever is later). A failed request does not stop the others.
 */
typedef int (*eb_batch_token_cb)(void *ud, size_t i, uint64_t t_ns, int n_tokens);

struct eb_gen_batch {
	const struct eb_gen_req *reqs; /* n requests; their on_token, ud and stop are not used */
	size_t n;
	const uint64_t *t_sched_ns;    /* n ascending times (eb_clock_ns), or NULL: all due now */
	int max_inflight;              /* 0: no limit */
	uint64_t t_last_send_ns;       /* 0, or no request is sent after this time: the rest get
					* no on_done (the harness counts what was sent) */
	eb_batch_token_cb on_token;
	void (*on_done)(void *ud, size_t i, int rc, struct eb_gen_res *res, uint64_t t_due_ns,
			const struct eb_err *err);
	void *ud;
	volatile int *stop;            /* set asynchronously: requests in flight are abandoned */
};

/*
 * Log-likelihood scoring (EB_CAP_LOGLIK). A request is a list of token sequences; each
 * is evaluated from position 0 in a fresh context (nothing carries over from one
 * sequence, or one request, to the next). For sequence k the caller wants the
 * next-token distribution after every position i in [first, n_tokens - 1): row (k, i)
 * is p(. | tokens[0..i]) and its scored token is tokens[i + 1].
 */
struct eb_loglik_seq {
	const int32_t *tokens;
	size_t n_tokens;   /* >= 2 */
	size_t first;      /* first position whose row is wanted; < n_tokens - 1 */
	size_t group;      /* with EB_LOGLIK_SHARE: consecutive sequences of one group may
			    * share the evaluation of their common prefix */
};

enum {
	EB_LOGLIK_LOGITS = 1 << 0, /* rows must carry the full logits (KL divergence) */
	EB_LOGLIK_SHARE = 1 << 1,  /* evaluate a group's common prefix once */
};

/*
 * A block of rows handed to the caller. Pointers are valid only during the callback.
 * Every wanted row arrives exactly once; the rows of one sequence in position order.
 * Without EB_LOGLIK_SHARE whole sequences come in request order (a block may hold rows
 * of several sequences); with it, rows of a group's sequences may interleave.
 */
struct eb_loglik_rows {
	size_t n;
	const size_t *seq;           /* per row: index into req->seqs */
	const size_t *pos;           /* per row: position i (the row predicts tokens[i + 1]) */
	const float *const *logits;  /* per row: n_vocab raw logits, or NULL when the adapter
				      * has only log-probabilities (then logp is set) */
	const double *logp;          /* per row: log p(tokens[i + 1]), or NULL (then logits) */
	size_t n_vocab;
	size_t n_clamped;            /* rows whose logp is a server's stand-in for -inf (vLLM
				      * clamps to -9999), kept as it came */
};

struct eb_loglik_req {
	const struct eb_loglik_seq *seqs;
	size_t n_seqs;
	unsigned flags;  /* EB_LOGLIK_* */
	size_t n_batch;  /* tokens per forward pass; 0 = the adapter's own setting */
	/* Called with each block; a non-zero return (an EB_E* code, err filled) stops. */
	int (*on_rows)(void *ud, const struct eb_loglik_rows *rows, struct eb_err *err);
	void *ud;
	volatile int *stop; /* set asynchronously to abandon the request (EB_EINTR) */
};

/*
 * The ops table. MUST hooks are non-NULL in every adapter; MAY hooks can be NULL.
 * Every hook returns 0 or a negative EB_E* code with `err` filled.
 */
struct eb_adapter_ops {
	const char *name;   /* MUST: config's "adapter" value */
	unsigned abi;       /* MUST: EB_ADAPTER_ABI */
	unsigned caps;      /* MUST: EB_CAP_* */
	const struct eb_opt *options; /* MUST: option table ending with { NULL } (eb_opt.h) */
	const char *help;   /* MUST: one line */

	/* MAY: NULL when usable here; otherwise why not ("built without llama.cpp"). */
	const char *(*unavailable_reason)(void);

	/* MAY: name and version of the backend library linked into edgebench, for
	 * `edgebench version` ("llama.cpp 0.0.6913"); NULL for a server or command, whose
	 * version describe() records with each run. */
	const char *(*version)(void);

	/* MUST: load the model or connect. *state is owned by the adapter until close(). */
	int (*open)(const struct eb_adapter_args *args, void **state, struct eb_err *err);

	/* MAY (EB_CAP_TOKENIZE): tokens of `text` into a malloc'd array the caller frees. */
	int (*tokenize)(void *state, const char *text, int add_special, int32_t **tokens,
			size_t *n_tokens, struct eb_err *err);

	/* MAY (EB_CAP_TOKENIZE): text of tokens into a malloc'd string the caller frees. */
	int (*detokenize)(void *state, const int32_t *tokens, size_t n_tokens, char **text,
			  struct eb_err *err);

	/* MUST: one generation; calls req->on_token for each token/chunk. */
	int (*generate)(void *state, const struct eb_gen_req *req, struct eb_gen_res *res,
			struct eb_err *err);

	/*
	 * MAY: runs a batch (struct eb_gen_batch) to its end, every request in flight at once
	 * where the schedule says, with no thread per request. Returns 0 once every sent
	 * request reached on_done, EB_EINTR when b->stop was set, or another code when the
	 * loop itself failed. NULL: the adapter cannot take concurrency and load cells are
	 * skipped, saying so.
	 */
	int (*generate_many)(void *state, const struct eb_gen_batch *b, struct eb_err *err);

	/* MAY: forget cached prompt state (KV cache) between repetitions. */
	int (*reset)(void *state, struct eb_err *err);

	/*
	 * MAY (EB_CAP_LOGLIK): evaluates req->seqs and hands every wanted row to
	 * req->on_rows (see struct eb_loglik_req). With EB_LOGLIK_LOGITS an adapter that
	 * cannot return full logits fails with EB_EUNSUPPORTED. A request without
	 * sequences only checks that scoring can work here (a remote adapter asks its
	 * server once): EB_EUNSUPPORTED, with the reason, when it cannot.
	 */
	int (*loglik)(void *state, const struct eb_loglik_req *req, struct eb_err *err);

	/*
	 * MAY: facts about backend and model into `out` (an object the caller owns): keys
	 * backend_version, backend_commit, devices, model_type, n_params, model_bytes,
	 * kv_bytes, n_ctx, ... Unknown facts are left out, never guessed.
	 */
	int (*describe)(void *state, json_t *out, struct eb_err *err);

	/* MUST: release everything; state is invalid afterwards. */
	void (*close)(void *state);
};

/* The registry: NULL-terminated, explicit, in adapters/registry.c. */
extern const struct eb_adapter_ops *const eb_adapters[];

/* Looks an adapter up by name; NULL when none has that name. */
const struct eb_adapter_ops *eb_adapter_find(const char *name);

/* Checks one ops table (MUST hooks, ABI, option table); 0 or EB_EINVAL with reason. */
int eb_adapter_check(const struct eb_adapter_ops *ops, struct eb_err *err);

/*
 * For adapters: a piece of reply text for eb_gen_req.text, `done` bytes of the reply
 * being there already: appends what fits under EB_GEN_TEXT_MAX (and the buffer's cap)
 * and returns how many bytes it appended.
 */
size_t eb_gen_text_add(struct eb_buf *text, size_t done, const char *s, size_t n);

#endif
