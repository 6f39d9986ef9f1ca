/* accuracy_priv.h: what the accuracy runner (accuracy_run.c) shares with the protocols (proto_*.c). */
#ifndef EB_ACCURACY_PRIV_H
#define EB_ACCURACY_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "accuracy.h"
#include "accuracy_run.h"
#include "hellaswag.h"
#include "mc.h"
#include "protocol.h"

/*
 * Private to harness/: the runner owns the scoring state and the loop over the adapter's
 * rows; a protocol (one proto_*.c each, listed in protocol.c) builds the token sequences,
 * sets its hooks, scores through eb_acc_score and turns the sums into figures.
 */

/* Token sequences under construction; tokens are copied in. Zero-initialise. */
struct eb_seqs {
	int32_t *tok;
	size_t ntok, atok;
	struct eb_loglik_seq *seq;
	size_t *off;
	size_t n, alloc;
};

/* Adds a copy of t[0..n) as one sequence, scored after position `first`, in `group`. */
void eb_seqs_add(struct eb_seqs *s, const int32_t *t, size_t n, size_t first, size_t group);

/* The scoring state of one task. eb_acc_run zero-initialises and releases it. */
struct eb_acc {
	const struct eb_cfg_acc_task *t;
	const struct eb_acc_env *env;
	struct eb_seqs seqs;
	/*
	 * The protocol's hooks, set before eb_acc_score. seq_done (MUST): sequence s got its
	 * last row (its sum is in seq_sum[s]): fold it in, advance done and running. rows
	 * (MAY): fill logp[0..r->n) from the rows r (NULL: log p of each target, from the
	 * server's log-probabilities or the logits). ppl_every_token: add every row's log p
	 * to ppl, llama-perplexity's running estimate.
	 */
	void (*seq_done)(struct eb_acc *A, size_t s);
	int (*rows)(struct eb_acc *A, const struct eb_loglik_rows *r, struct eb_err *err);
	int ppl_every_token;
	double *seq_sum;   /* per sequence: sum of log p so far */
	size_t *seq_left;  /* per sequence: rows still to come */
	size_t *owner;     /* per sequence: document (lmeval) or item (multiple choice) */
	struct eb_ppl ppl;
	double *win_nll;   /* windows: mean NLL per finished window */
	size_t n_win;
	double *doc_ll;    /* lmeval: per document */
	size_t *doc_left;  /* lmeval: windows still to come; multiple choice: choices */
	double *doc_words, *doc_bytes;
	double ll_done, words_done;
	const struct eb_mc_item *mc; /* multiple choice: the items being scored */
	int mc_norm;       /* the task reports acc_norm (its headline) */
	int mc_file;       /* items come from several files: records name the file */
	size_t *mc_first;  /* per item: its first sequence */
	size_t *mc_hits, *mc_norm_hits, *mc_n; /* per group (MMLU subject): the tally */
	size_t mc_all_hits, mc_all_n; /* the headline so far, for progress */
	FILE *kf;          /* kld: the reference file being written or read */
	const char *kpath;
	int kld_ref;       /* kld: this variant is the reference (writes kf) */
	size_t k_next_seq, k_next_pos;
	struct eb_kld kld;
	uint16_t *base;
	size_t base_alloc;
	double *logp;      /* per row of the current batch: log p of its target */
	int32_t *targets;  /* per row of the current batch: the token it predicts */
	size_t buf_alloc;
	size_t done, total;
	size_t logp_rows;  /* rows that came as log p (a server's), not logits */
	size_t n_clamped;  /* of them, the server's stand-in for -inf */
	int unsupported;   /* an error came from a missing capability */
	const char *unit, *metric;
	json_t *samples;   /* per-item records (eb_acc_sample), handed to the result */
	char (*item_hash)[65]; /* lmeval: sha256 of each page's text, for its record */
	double running;
	uint64_t last_ns;
};

/*
 * Appends a per-item record to A->samples: item idx, the dataset item `doc`, the sha256
 * of its prompt (hex) and what it hashes (`of`), and, when gold >= 0, the answer chosen,
 * the gold one and whether they agree. Returns its "result" object for the protocol's
 * per-item figures (borrowed: the record owns it).
 */
json_t *eb_acc_sample(struct eb_acc *A, size_t idx, const char *doc, const char *sha,
		      const char *of, int answer, int gold);

/* The sha256 (hex) of sequence s's token ids as scored (int32, host byte order). */
void eb_acc_seq_sha256(const struct eb_acc *A, size_t s, char hex[65]);

/* Appends one figure to res. */
void eb_acc_put(struct eb_acc_result *r, const char *name, double value, double se, long long n);

/*
 * Scores every sequence in A->seqs through the adapter's loglik (flags EB_LOGLIK_*),
 * calling the protocol's hooks as rows arrive. EB_EUNSUPPORTED marks A unsupported.
 */
int eb_acc_score(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st, unsigned flags,
		 struct eb_err *err);

/* The adapter's tokenizer; a missing one (EB_EUNSUPPORTED) marks the task unsupported. */
int eb_acc_tokenize(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
		    const char *text, int add_special, int32_t **tok, size_t *n, struct eb_err *err);

/* An integer fact of the adapter's describe() (bos_token, n_vocab, ...), or def. */
long long eb_backend_int(const json_t *b, const char *key, long long def);

/* n, or limit when it is set and smaller. */
size_t eb_min_limit(size_t n, long long limit);

/*
 * llama-perplexity's chunks (wikitext2-llamacpp and kld): the text of `path` tokenized
 * with BOS, cut into chunks of t->n_ctx (BOS over each first token when the model adds
 * one), the second half of each scored, added to A->seqs; their counts go to res->params.
 * *tok (the tokens before BOS is written; the caller frees it, also on failure) and
 * *n_chunk are what kld's reference file holds.
 */
int eb_acc_chunks(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st, const char *path,
		  struct eb_acc_result *res, int32_t **tok, size_t *n_chunk, struct eb_err *err);

/* seq_done of llama-perplexity's chunks: one more chunk, the running PPL so far. */
void eb_acc_chunk_done(struct eb_acc *A, size_t s);

/*
 * lm-eval's multiple_choice scoring of items[0..n) (the first `limit`): per choice the
 * request (ctx, cont) as lm-eval's _encode_pair and HF model build it — trailing
 * whitespace of the context moves to the continuation, whole = tok(ctx + cont) cut to
 * its last seqlen + 1 tokens, the continuation is what follows len(tok(ctx)) tokens —
 * the choices of one item sharing their common prefix. Figures: acc (argmax of the sums)
 * and, when norm, acc_norm (argmax of sum / choice_len), each with lm-eval's stderr:
 * sqrt(p(1-p)/(n-1)), or with n_groups > 1 (items[i].group) the pooled stderr lm-eval
 * gives a group weighted by size. One record per item (eb_acc_sample). `noun` names a
 * choice in errors ("ending"). 0 or a negative EB_E* code with err set.
 */
int eb_acc_mc_score(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
		    const char *path, const struct eb_mc_item *items, size_t n,
		    size_t n_groups, const char *noun, int norm, struct eb_acc_result *res,
		    struct eb_err *err);

/* The scorers of the protocol table (protocol.c), one per protocol, in its order. */
eb_acc_scorer_fn eb_proto_hellaswag;     /* proto_hellaswag.c */
eb_acc_scorer_fn eb_proto_wikitext_gptq; /* proto_perplexity.c */
eb_acc_scorer_fn eb_proto_c4_gptq;       /* proto_perplexity.c */
eb_acc_scorer_fn eb_proto_c4_new;        /* proto_perplexity.c */
eb_acc_scorer_fn eb_proto_lmeval;        /* proto_lmeval.c */
eb_acc_scorer_fn eb_proto_llamacpp;      /* proto_perplexity.c */
eb_acc_scorer_fn eb_proto_kld;           /* proto_kld.c */
eb_acc_scorer_fn eb_proto_arc_easy;      /* proto_mc.c */
eb_acc_scorer_fn eb_proto_arc_challenge; /* proto_mc.c */
eb_acc_scorer_fn eb_proto_piqa;          /* proto_mc.c */
eb_acc_scorer_fn eb_proto_winogrande;    /* proto_mc.c */
eb_acc_scorer_fn eb_proto_mmlu;          /* proto_mc.c */
eb_acc_scorer_fn eb_proto_hellaswag_gen; /* proto_gen.c */
eb_acc_scorer_fn eb_proto_mmlu_gen;      /* proto_gen.c */
eb_acc_scorer_fn eb_proto_gsm8k_gen;     /* proto_gen.c */

#endif
