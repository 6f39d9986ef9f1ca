/* accuracy.c: the accuracy workload (see accuracy.h): datasets -> token sequences -> loglik -> figures. */
#include "accuracy_run.h"

#include "c4.h"
#include "corpus.h"
#include "fetch.h"
#include "hellaswag.h"
#include "wikitext.h"
#include "accuracy.h"
#include "eb_clock.h"
#include "eb_util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EB_KLD_MAGIC "_logits_"

/* --- results -------------------------------------------------------------------- */

void eb_acc_result_release(struct eb_acc_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->m[i].name);
	free(r->m);
	if (r->params)
		json_decref(r->params);
	if (r->warnings)
		json_decref(r->warnings);
	memset(r, 0, sizeof(*r));
}

static void eb_acc_put(struct eb_acc_result *r, const char *name, double value, double se,
		       long long n)
{
	if (r->n == r->alloc) {
		r->alloc = r->alloc ? 2 * r->alloc : 16;
		r->m = eb_xrealloc(r->m, r->alloc * sizeof(*r->m));
	}
	r->m[r->n].name = eb_xstrdup(name);
	r->m[r->n].value = value;
	r->m[r->n].se = se;
	r->m[r->n].n = n;
	r->n++;
}

/* --- token sequences under construction ------------------------------------------ */

struct eb_seqs {
	int32_t *tok;
	size_t ntok, atok;
	struct eb_loglik_seq *seq;
	size_t *off;
	size_t n, alloc;
};

static void eb_seqs_add(struct eb_seqs *s, const int32_t *t, size_t n, size_t first, size_t group)
{
	if (s->ntok + n > s->atok) {
		size_t want = s->atok ? 2 * s->atok : 1 << 16;

		while (want < s->ntok + n)
			want *= 2;
		s->tok = eb_xrealloc(s->tok, want * sizeof(*s->tok));
		s->atok = want;
	}
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? 2 * s->alloc : 256;
		s->seq = eb_xrealloc(s->seq, s->alloc * sizeof(*s->seq));
		s->off = eb_xrealloc(s->off, s->alloc * sizeof(*s->off));
	}
	memcpy(s->tok + s->ntok, t, n * sizeof(*t));
	s->off[s->n] = s->ntok;
	s->seq[s->n].tokens = NULL;
	s->seq[s->n].n_tokens = n;
	s->seq[s->n].first = first;
	s->seq[s->n].group = group;
	s->ntok += n;
	s->n++;
}

/* Points every sequence at its tokens (the buffer no longer moves). */
static void eb_seqs_fix(struct eb_seqs *s)
{
	for (size_t i = 0; i < s->n; i++)
		s->seq[i].tokens = s->tok + s->off[i];
}

static void eb_seqs_release(struct eb_seqs *s)
{
	free(s->tok);
	free(s->seq);
	free(s->off);
	memset(s, 0, sizeof(*s));
}

/* --- the scoring state ------------------------------------------------------------- */

enum eb_acc_mode {
	EB_M_CHUNKS,    /* wikitext2-llamacpp: one running PPL over every scored token */
	EB_M_WINDOWS,   /* gptq, c4: PPL = exp(mean over windows of the window's mean NLL) */
	EB_M_DOCS,      /* wikitext2-lmeval: log-likelihood per document */
	EB_M_HELLASWAG, /* four endings per item */
	EB_M_KLD_REF,   /* kld, reference variant: write the log-probabilities */
	EB_M_KLD,       /* kld, other variants: compare with them */
};

struct eb_acc {
	const struct eb_cfg_acc_task *t;
	const struct eb_acc_env *env;
	enum eb_acc_mode mode;
	struct eb_seqs seqs;
	double *seq_sum;   /* per sequence: sum of log p so far */
	size_t *seq_left;  /* per sequence: rows still to come */
	size_t *owner;     /* per sequence: document (lmeval) or item (hellaswag) */
	struct eb_ppl ppl;
	double *win_nll;   /* windows: mean NLL per finished window */
	size_t n_win;
	double *doc_ll;    /* lmeval: per document */
	size_t *doc_left;  /* lmeval: windows still to come; hellaswag: endings */
	double *doc_words, *doc_bytes;
	double ll_done, words_done, bytes_done;
	const struct eb_hellaswag *hs;
	struct eb_hellaswag_tally tally;
	FILE *kf;          /* kld: the reference file being written or read */
	const char *kpath;
	size_t k_next_seq, k_next_pos;
	struct eb_kld kld;
	uint16_t *base;
	size_t base_alloc;
	double *logp;
	int32_t *targets;
	size_t buf_alloc;
	size_t done, total;
	size_t logp_rows;  /* rows that came as log p (a server's), not logits */
	size_t n_clamped;  /* of them, the server's stand-in for -inf */
	int unsupported;   /* an error came from a missing capability */
	const char *unit, *metric;
	double running;
	uint64_t last_ns;
};

static void eb_acc_progress(struct eb_acc *A, int force)
{
	uint64_t now = eb_clock_ns();

	if (!A->env->progress || (!force && now - A->last_ns < 250000000ull))
		return;
	A->last_ns = now;
	A->env->progress(A->env->progress_ud, A->done, A->total, A->unit, A->metric, A->running);
}

/* A sequence got its last row. */
static void eb_acc_seq_done(struct eb_acc *A, size_t s)
{
	const struct eb_loglik_seq *q = &A->seqs.seq[s];
	size_t scored = q->n_tokens - 1 - q->first;

	switch (A->mode) {
	case EB_M_CHUNKS:
	case EB_M_KLD_REF:
		A->done++;
		A->running = exp(A->ppl.nll / (double)A->ppl.count);
		break;
	case EB_M_KLD:
		A->done++;
		A->running = A->kld.count ? A->kld.sum_kld / (double)A->kld.count : NAN;
		break;
	case EB_M_WINDOWS: {
		double sum = 0;

		A->win_nll[A->n_win++] = -A->seq_sum[s] / (double)scored;
		for (size_t i = 0; i < A->n_win; i++)
			sum += A->win_nll[i];
		A->done++;
		A->running = exp(sum / (double)A->n_win);
		break;
	}
	case EB_M_DOCS: {
		size_t d = A->owner[s];

		A->doc_ll[d] += A->seq_sum[s];
		if (--A->doc_left[d] == 0) {
			A->ll_done += A->doc_ll[d];
			A->words_done += A->doc_words[d];
			A->done++;
			A->running = exp(-A->ll_done / A->words_done);
		}
		break;
	}
	case EB_M_HELLASWAG: {
		size_t it = A->owner[s];

		if (--A->doc_left[it] == 0) {
			const struct eb_hellaswag_item *item = &A->hs->items[it];
			double lp[EB_HELLASWAG_NCHOICES];

			for (int k = 0; k < EB_HELLASWAG_NCHOICES; k++)
				lp[k] = A->seq_sum[it * EB_HELLASWAG_NCHOICES + (size_t)k];
			eb_hellaswag_tally_add(&A->tally, lp, item->choice_len, item->label);
			A->done++;
			A->running = (double)A->tally.acc_norm_hits / (double)A->tally.n;
		}
		break;
	}
	}
}

static void eb_acc_bufs(struct eb_acc *A, size_t n)
{
	if (n <= A->buf_alloc)
		return;
	A->buf_alloc = n;
	A->logp = eb_xrealloc(A->logp, n * sizeof(*A->logp));
	A->targets = eb_xrealloc(A->targets, n * sizeof(*A->targets));
}

static int eb_acc_rows(void *ud, const struct eb_loglik_rows *r, struct eb_err *err)
{
	struct eb_acc *A = ud;
	size_t nv = eb_kld_row_u16(r->n_vocab);
	int threads = A->env->threads;

	eb_acc_bufs(A, r->n);
	for (size_t i = 0; i < r->n; i++)
		A->targets[i] = A->seqs.seq[r->seq[i]].tokens[r->pos[i] + 1];
	if (A->mode == EB_M_KLD_REF || A->mode == EB_M_KLD) {
		if (!r->logits) {
			A->unsupported = 1;
			return eb_err_set(err, EB_EUNSUPPORTED,
					  "protocol kld needs full logits, which this adapter does not return");
		}
		/* the file holds rows chunk by chunk, position by position */
		for (size_t i = 0; i < r->n; i++) {
			const struct eb_loglik_seq *q = &A->seqs.seq[r->seq[i]];

			if (r->seq[i] != A->k_next_seq || r->pos[i] != A->k_next_pos)
				return eb_err_set(err, EB_EADAPTER,
						  "kld: rows arrived out of order (chunk %zu position %zu)",
						  r->seq[i], r->pos[i]);
			if (++A->k_next_pos + 1 >= q->n_tokens) {
				A->k_next_seq++;
				A->k_next_pos = A->k_next_seq < A->seqs.n
							? A->seqs.seq[A->k_next_seq].first
							: 0;
			}
		}
		if (r->n * nv > A->base_alloc) {
			A->base_alloc = r->n * nv;
			A->base = eb_xrealloc(A->base, A->base_alloc * sizeof(*A->base));
		}
		if (A->mode == EB_M_KLD_REF) {
			eb_kld_ref_rows(r->logits, A->targets, r->n, r->n_vocab, threads, A->base,
					A->logp);
			for (size_t i = 0; i < r->n; i++)
				A->logp[i] = -A->logp[i];
			if (fwrite(A->base, sizeof(uint16_t), r->n * nv, A->kf) != r->n * nv)
				return eb_err_set(err, EB_EIO, "cannot write '%s': %s", A->kpath,
						  strerror(errno));
		} else {
			if (fread(A->base, sizeof(uint16_t), r->n * nv, A->kf) != r->n * nv)
				return eb_err_set(err, EB_EIO,
						  "'%s' ends early: it holds fewer rows than this task "
						  "scores (re-run the reference cell)",
						  A->kpath);
			eb_kld_add_rows(&A->kld, r->logits, A->base, A->targets, r->n, r->n_vocab,
					threads);
			memset(A->logp, 0, r->n * sizeof(*A->logp));
		}
	} else if (r->logp) {
		memcpy(A->logp, r->logp, r->n * sizeof(*A->logp));
		A->logp_rows += r->n;
		A->n_clamped += r->n_clamped;
	} else {
		eb_acc_logp_rows(r->logits, A->targets, r->n, r->n_vocab, threads, A->logp);
	}
	for (size_t i = 0; i < r->n; i++) {
		size_t s = r->seq[i];

		if (A->mode == EB_M_CHUNKS || A->mode == EB_M_KLD_REF)
			eb_ppl_add(&A->ppl, A->logp[i]);
		A->seq_sum[s] += A->logp[i];
		if (--A->seq_left[s] == 0)
			eb_acc_seq_done(A, s);
	}
	eb_acc_progress(A, 0);
	return 0;
}

/* Scores every sequence built so far. */
static int eb_acc_score(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
			unsigned flags, struct eb_err *err)
{
	struct eb_loglik_req req;
	int ret;

	eb_seqs_fix(&A->seqs);
	A->seq_sum = eb_xcalloc(A->seqs.n + 1, sizeof(*A->seq_sum));
	A->seq_left = eb_xcalloc(A->seqs.n + 1, sizeof(*A->seq_left));
	for (size_t i = 0; i < A->seqs.n; i++)
		A->seq_left[i] = A->seqs.seq[i].n_tokens - 1 - A->seqs.seq[i].first;
	A->k_next_seq = 0;
	A->k_next_pos = A->seqs.n ? A->seqs.seq[0].first : 0;
	memset(&req, 0, sizeof(req));
	req.seqs = A->seqs.seq;
	req.n_seqs = A->seqs.n;
	req.flags = flags;
	req.n_batch = (size_t)(A->t->n_batch ? A->t->n_batch : A->env->n_batch);
	req.on_rows = eb_acc_rows;
	req.ud = A;
	req.stop = A->env->stop;
	eb_acc_progress(A, 1);
	ret = ops->loglik(st, &req, err);
	if (ret == EB_EUNSUPPORTED)
		A->unsupported = 1;
	return ret;
}

/* --- helpers ------------------------------------------------------------------------ */

/* The adapter's tokenizer; a missing one (EB_EUNSUPPORTED) marks the task unsupported. */
static int eb_acc_tokenize(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
			   const char *text, int add_special, int32_t **tok, size_t *n,
			   struct eb_err *err)
{
	int ret;

	if (!ops->tokenize)
		ret = eb_err_set(err, EB_EUNSUPPORTED, "adapter '%s' cannot tokenize", ops->name);
	else
		ret = ops->tokenize(st, text, add_special, tok, n, err);
	if (ret == EB_EUNSUPPORTED)
		A->unsupported = 1;
	return ret;
}

static long long eb_backend_int(const json_t *b, const char *key, long long def)
{
	const json_t *v = json_object_get(b, key);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

/* The dataset file of a task into path; records it (and its sha256) in params. */
static int eb_acc_dataset(const struct eb_cfg_acc_task *t, json_t *params, char *path, size_t n,
			  struct eb_err *err)
{
	char dir[4096], hex[65];
	const struct eb_dataset *d;
	int ret;

	if (t->file) {
		eb_strlcpy(path, t->file, n);
		if (access(path, R_OK) != 0)
			return eb_err_set(err, EB_ENOENT, "task '%s': cannot open dataset '%s': %s",
					  t->task, path, strerror(errno));
	} else {
		d = eb_dataset_for_protocol(t->protocol);
		if (!d)
			return eb_err_set(err, EB_ECONFIG, "task '%s': no dataset: set \"file\"", t->task);
		ret = eb_datasets_dir(dir, sizeof(dir), err);
		if (ret)
			return ret;
		snprintf(path, n, "%s/%s", dir, d->file);
		if (access(path, R_OK) != 0)
			return eb_err_set(err, EB_ENOENT,
					  "task '%s': no dataset '%s': run `edgebench datasets fetch "
					  "%s` (or set the task's \"file\")",
					  t->task, path, d->name);
	}
	ret = eb_sha256_file(path, hex, err);
	if (ret)
		return ret;
	json_object_set_new(params, "dataset", json_string(path));
	json_object_set_new(params, "dataset_sha256", json_string(hex));
	if (t->member)
		json_object_set_new(params, "member", json_string(t->member));
	return 0;
}

static size_t eb_min_limit(size_t n, long long limit)
{
	return limit > 0 && (size_t)limit < n ? (size_t)limit : n;
}

/* --- protocols ----------------------------------------------------------------------- */

/* wikitext2-llamacpp and kld: llama-perplexity's chunks. */
static int eb_acc_chunks(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
			 const char *path, struct eb_acc_result *res, struct eb_err *err)
{
	const struct eb_cfg_acc_task *t = A->t;
	size_t n_ctx = (size_t)t->n_ctx, first = n_ctx / 2, len, n_tok = 0, n_chunk;
	int32_t *tok = NULL, *chunk = NULL;
	int32_t bos = (int32_t)eb_backend_int(A->env->backend, "bos_token", -1);
	int add_bos = json_is_true(json_object_get(A->env->backend, "add_bos"));
	char *text = NULL;
	int ret;

	ret = eb_corpus_read(path, t->member, &text, &len, err);
	if (ret)
		return ret;
	if (len && text[len - 1] == '\n')
		text[--len] = '\0'; /* llama-perplexity -f drops one final newline */
	ret = eb_acc_tokenize(A, ops, st, text, 1, &tok, &n_tok, err);
	if (ret)
		goto out;
	if (n_tok < 2 * n_ctx) {
		ret = eb_err_set(err, EB_EINVAL,
				 "task '%s': '%s' has %zu tokens; %zu are needed for a context of %zu "
				 "(llama-perplexity's rule: at least two chunks)",
				 t->task, path, n_tok, 2 * n_ctx, n_ctx);
		goto out;
	}
	n_chunk = eb_min_limit(n_tok / n_ctx, t->limit);
	chunk = eb_xmalloc(n_ctx * sizeof(*chunk));
	for (size_t i = 0; i < n_chunk; i++) {
		memcpy(chunk, tok + i * n_ctx, n_ctx * sizeof(*chunk));
		if (add_bos && bos >= 0)
			chunk[0] = bos; /* BOS overwrites the chunk's first token */
		eb_seqs_add(&A->seqs, chunk, n_ctx, first, i);
	}
	A->total = n_chunk;
	A->unit = "chunks";
	json_object_set_new(res->params, "n_chunks", json_integer((json_int_t)n_chunk));
	json_object_set_new(res->params, "n_tokens", json_integer((json_int_t)n_tok));
	json_object_set_new(res->params, "scored_per_chunk",
			    json_integer((json_int_t)(n_ctx - first - 1)));
	json_object_set_new(res->params, "bos_overwrites_first", json_boolean(add_bos && bos >= 0));

	if (A->mode == EB_M_CHUNKS) {
		double ppl, se;

		A->metric = "ppl";
		ret = eb_acc_score(A, ops, st, 0, err);
		if (ret)
			goto out;
		eb_ppl_finish(&A->ppl, &ppl, &se);
		eb_acc_put(res, "ppl", ppl, se, (long long)A->ppl.count);
		eb_acc_put(res, "nll_mean", A->ppl.nll / (double)A->ppl.count, NAN,
			   (long long)A->ppl.count);
		goto out;
	}

	if (A->mode == EB_M_KLD_REF) {
		char tmp[4200];
		uint32_t h_ctx = (uint32_t)n_ctx;
		int32_t h_vocab = (int32_t)eb_backend_int(A->env->backend, "n_vocab", 0);
		int32_t h_chunk = (int32_t)n_chunk;
		double ppl, se;

		A->metric = "ppl";
		snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", A->kpath, (long)getpid());
		A->kf = fopen(tmp, "wb");
		if (!A->kf) {
			ret = eb_err_set(err, EB_EIO, "cannot create '%s': %s", tmp, strerror(errno));
			goto out;
		}
		if (h_vocab <= 0) {
			ret = eb_err_set(err, EB_EADAPTER, "kld: the adapter does not report n_vocab");
		} else if (fwrite(EB_KLD_MAGIC, 1, 8, A->kf) != 8 ||
			   fwrite(&h_ctx, sizeof(h_ctx), 1, A->kf) != 1 ||
			   fwrite(&h_vocab, sizeof(h_vocab), 1, A->kf) != 1 ||
			   fwrite(&h_chunk, sizeof(h_chunk), 1, A->kf) != 1 ||
			   fwrite(tok, sizeof(*tok), n_chunk * n_ctx, A->kf) != n_chunk * n_ctx) {
			ret = eb_err_set(err, EB_EIO, "cannot write '%s': %s", tmp, strerror(errno));
		}
		if (!ret)
			ret = eb_acc_score(A, ops, st, EB_LOGLIK_LOGITS, err);
		if (fclose(A->kf) != 0 && !ret)
			ret = eb_err_set(err, EB_EIO, "cannot write '%s': %s", tmp, strerror(errno));
		A->kf = NULL;
		if (!ret && rename(tmp, A->kpath) != 0)
			ret = eb_err_set(err, EB_EIO, "cannot rename '%s' to '%s': %s", tmp, A->kpath,
					 strerror(errno));
		if (ret) {
			unlink(tmp);
			goto out;
		}
		eb_ppl_finish(&A->ppl, &ppl, &se);
		eb_acc_put(res, "ppl", ppl, se, (long long)A->ppl.count);
		json_object_set_new(res->params, "role", json_string("reference"));
		json_object_set_new(res->params, "reference_file", json_string(A->kpath));
		goto out;
	}

	/* EB_M_KLD: read and check the reference header, then compare row by row */
	{
		char magic[8];
		uint32_t h_ctx = 0;
		int32_t h_vocab = 0, h_chunk = 0;
		int32_t *ref_tok = NULL;
		struct eb_kld_stats k;
		long long nk;

		A->metric = "kld";
		A->kf = fopen(A->kpath, "rb");
		if (!A->kf) {
			ret = eb_err_set(err, EB_ENOENT,
					 "kld: no reference log-probabilities '%s' (%s): run the "
					 "reference variant's cell first (--only '%s/%s/%s/accuracy/%s')",
					 A->kpath, strerror(errno), A->env->target_id, A->env->model_id,
					 A->env->kld_reference, t->task);
			goto out;
		}
		if (fread(magic, 1, 8, A->kf) != 8 || memcmp(magic, EB_KLD_MAGIC, 8) != 0 ||
		    fread(&h_ctx, sizeof(h_ctx), 1, A->kf) != 1 ||
		    fread(&h_vocab, sizeof(h_vocab), 1, A->kf) != 1 ||
		    fread(&h_chunk, sizeof(h_chunk), 1, A->kf) != 1) {
			ret = eb_err_set(err, EB_EPARSE, "'%s' is not a log-probabilities file", A->kpath);
			goto out;
		}
		if (h_ctx != n_ctx ||
		    h_vocab != (int32_t)eb_backend_int(A->env->backend, "n_vocab", -1) ||
		    h_chunk < (int32_t)n_chunk) {
			ret = eb_err_set(err, EB_EINVAL,
					 "'%s' was computed with n_ctx %u, %d tokens of vocabulary and %d "
					 "chunks; this task needs %zu, %lld and %zu",
					 A->kpath, h_ctx, h_vocab, h_chunk, n_ctx,
					 eb_backend_int(A->env->backend, "n_vocab", -1), n_chunk);
			goto out;
		}
		ref_tok = eb_xmalloc((size_t)h_chunk * n_ctx * sizeof(*ref_tok));
		if (fread(ref_tok, sizeof(*ref_tok), (size_t)h_chunk * n_ctx, A->kf) !=
		    (size_t)h_chunk * n_ctx) {
			free(ref_tok);
			ret = eb_err_set(err, EB_EPARSE, "'%s' ends early", A->kpath);
			goto out;
		}
		if (memcmp(ref_tok, tok, n_chunk * n_ctx * sizeof(*tok)) != 0) {
			free(ref_tok);
			ret = eb_err_set(err, EB_EINVAL,
					 "'%s' holds other tokens than this task's: a different dataset "
					 "or tokenizer (re-run the reference cell)",
					 A->kpath);
			goto out;
		}
		free(ref_tok);
		ret = eb_acc_score(A, ops, st, EB_LOGLIK_LOGITS, err);
		if (ret)
			goto out;
		eb_kld_finish(&A->kld, &k);
		nk = (long long)k.count;
		eb_acc_put(res, "kld_mean", k.kld_mean, k.kld_unc, nk);
		eb_acc_put(res, "kld_median", k.kld_median, NAN, nk);
		eb_acc_put(res, "kld_p99.9", k.kld_p999, NAN, nk);
		eb_acc_put(res, "kld_p99", k.kld_p99, NAN, nk);
		eb_acc_put(res, "kld_p95", k.kld_p95, NAN, nk);
		eb_acc_put(res, "kld_p90", k.kld_p90, NAN, nk);
		eb_acc_put(res, "kld_p10", k.kld_p10, NAN, nk);
		eb_acc_put(res, "kld_p5", k.kld_p5, NAN, nk);
		eb_acc_put(res, "kld_p1", k.kld_p1, NAN, nk);
		eb_acc_put(res, "kld_p0.1", k.kld_p01, NAN, nk);
		eb_acc_put(res, "kld_max", k.kld_max, NAN, nk);
		eb_acc_put(res, "kld_min", k.kld_min, NAN, nk);
		eb_acc_put(res, "top1_agreement", k.same_top, k.same_top_unc, nk);
		eb_acc_put(res, "dp_mean", k.dp_mean, k.dp_unc, nk);
		eb_acc_put(res, "dp_rms", k.dp_rms, k.dp_rms_unc, nk);
		eb_acc_put(res, "dp_max", k.dp_max, NAN, nk);
		eb_acc_put(res, "dp_p99.9", k.dp_p999, NAN, nk);
		eb_acc_put(res, "dp_p99", k.dp_p99, NAN, nk);
		eb_acc_put(res, "dp_p95", k.dp_p95, NAN, nk);
		eb_acc_put(res, "dp_p90", k.dp_p90, NAN, nk);
		eb_acc_put(res, "dp_p75", k.dp_p75, NAN, nk);
		eb_acc_put(res, "dp_median", k.dp_median, NAN, nk);
		eb_acc_put(res, "dp_p25", k.dp_p25, NAN, nk);
		eb_acc_put(res, "dp_p10", k.dp_p10, NAN, nk);
		eb_acc_put(res, "dp_p5", k.dp_p5, NAN, nk);
		eb_acc_put(res, "dp_p1", k.dp_p1, NAN, nk);
		eb_acc_put(res, "dp_p0.1", k.dp_p01, NAN, nk);
		eb_acc_put(res, "dp_min", k.dp_min, NAN, nk);
		eb_acc_put(res, "ppl", k.ppl, k.ppl_unc, nk);
		eb_acc_put(res, "ppl_base", k.ppl_base, k.ppl_base_unc, nk);
		eb_acc_put(res, "ppl_ratio", k.ratio, k.ratio_unc, nk);
		eb_acc_put(res, "ln_ppl_ratio", k.ln_ratio, k.ln_ratio_unc, nk);
		eb_acc_put(res, "ppl_diff", k.diff, k.diff_unc, nk);
		eb_acc_put(res, "ln_ppl_cor", k.cor, NAN, nk);
		json_object_set_new(res->params, "role", json_string("compared"));
		json_object_set_new(res->params, "reference", json_string(A->env->kld_reference));
		json_object_set_new(res->params, "reference_file", json_string(A->kpath));
	}
out:
	if (A->kf)
		fclose(A->kf);
	A->kf = NULL;
	free(chunk);
	free(tok);
	free(text);
	return ret;
}

/* Window scoring shared by gptq and c4: PPL = exp(mean of per-window mean NLL). */
static int eb_acc_windows_finish(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
				 struct eb_acc_result *res, struct eb_err *err)
{
	double mean, se;
	int ret;

	A->win_nll = eb_xcalloc(A->seqs.n + 1, sizeof(*A->win_nll));
	A->total = A->seqs.n;
	A->unit = "windows";
	A->metric = "ppl";
	json_object_set_new(res->params, "n_windows", json_integer((json_int_t)A->seqs.n));
	ret = eb_acc_score(A, ops, st, 0, err);
	if (ret)
		return ret;
	eb_acc_mean_se(A->win_nll, A->n_win, &mean, &se);
	eb_acc_put(res, "ppl", exp(mean), exp(mean) * se, (long long)A->n_win);
	eb_acc_put(res, "nll_mean", mean, se, (long long)A->n_win);
	return 0;
}

static int eb_acc_wikitext_gptq(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
				const char *path, struct eb_acc_result *res, struct eb_err *err)
{
	size_t len, jlen, n_tok = 0, seqlen = (size_t)A->t->seqlen, n_win;
	char *raw = NULL, *text = NULL;
	int32_t *tok = NULL;
	int ret;

	ret = eb_corpus_read(path, A->t->member, &raw, &len, err);
	if (ret)
		return ret;
	text = eb_wikitext_gptq_text(raw, len, &jlen);
	ret = eb_acc_tokenize(A, ops, st, text, 1, &tok, &n_tok, err);
	if (ret)
		goto out;
	n_win = eb_min_limit(n_tok / seqlen, A->t->limit);
	if (n_win == 0) {
		ret = eb_err_set(err, EB_EINVAL, "task '%s': '%s' has %zu tokens, fewer than seqlen %zu",
				 A->t->task, path, n_tok, seqlen);
		goto out;
	}
	for (size_t i = 0; i < n_win; i++)
		eb_seqs_add(&A->seqs, tok + i * seqlen, seqlen, 0, i);
	json_object_set_new(res->params, "n_tokens", json_integer((json_int_t)n_tok));
	ret = eb_acc_windows_finish(A, ops, st, res, err);
out:
	free(tok);
	free(text);
	free(raw);
	return ret;
}

/* The sampler's view of C4: documents tokenized on first use and kept. */
struct eb_c4_tok {
	struct eb_acc *A;
	const struct eb_adapter_ops *ops;
	void *st;
	const struct eb_docs *docs;
	int32_t **tok;
	size_t *n;
	size_t n_tokenized;
};

static int eb_c4_ntok(void *ud, size_t doc, size_t *n_tokens, struct eb_err *err)
{
	struct eb_c4_tok *c = ud;
	int ret;

	if (!c->tok[doc]) {
		ret = eb_acc_tokenize(c->A, c->ops, c->st, c->docs->doc[doc], 1, &c->tok[doc],
				      &c->n[doc], err);
		if (ret)
			return ret;
		c->n_tokenized++;
	}
	*n_tokens = c->n[doc];
	return 0;
}

static int eb_acc_c4_gptq(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
			  const char *path, struct eb_acc_result *res, struct eb_err *err)
{
	struct eb_docs docs;
	struct eb_c4_tok c = { A, ops, st, &docs, NULL, NULL, 0 };
	struct eb_c4_window *win = NULL;
	size_t seqlen = (size_t)A->t->seqlen, n_samples = (size_t)A->t->n_samples, n_win;
	json_t *starts;
	int ret;

	ret = eb_c4_load(path, 0, &docs, err);
	if (ret)
		return ret;
	c.tok = eb_xcalloc(docs.n, sizeof(*c.tok));
	c.n = eb_xcalloc(docs.n, sizeof(*c.n));
	win = eb_xcalloc(n_samples, sizeof(*win));
	ret = eb_c4_gptq_windows(docs.n, seqlen, n_samples, (uint64_t)A->t->seed, eb_c4_ntok, &c,
				 win, err);
	if (ret) {
		eb_err_prefix(err, "task '%s' ('%s')", A->t->task, path);
		goto out;
	}
	n_win = eb_min_limit(n_samples, A->t->limit);
	starts = json_array();
	for (size_t i = 0; i < n_win; i++) {
		eb_seqs_add(&A->seqs, c.tok[win[i].doc] + win[i].start, seqlen, 0, i);
		if (i < 16)
			json_array_append_new(starts, json_pack("[I,I]", (json_int_t)win[i].doc,
								(json_int_t)win[i].start));
	}
	json_object_set_new(res->params, "n_documents", json_integer((json_int_t)docs.n));
	json_object_set_new(res->params, "documents_tokenized",
			    json_integer((json_int_t)c.n_tokenized));
	json_object_set_new(res->params, "first_windows_doc_start", starts);
	ret = eb_acc_windows_finish(A, ops, st, res, err);
out:
	for (size_t i = 0; c.tok && i < docs.n; i++)
		free(c.tok[i]);
	free(c.tok);
	free(c.n);
	free(win);
	eb_docs_release(&docs);
	return ret;
}

static int eb_acc_c4_new(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
			 const char *path, struct eb_acc_result *res, struct eb_err *err)
{
	struct eb_docs docs;
	struct eb_buf b;
	size_t seqlen = (size_t)A->t->seqlen, n_tok = 0, keep, n_win;
	int32_t *tok = NULL;
	int ret;

	ret = eb_c4_load(path, 1100, &docs, err);
	if (ret)
		return ret;
	eb_buf_init(&b, 0);
	for (size_t i = 0; i < docs.n; i++) {
		if (i)
			eb_buf_add(&b, " ", 1);
		eb_buf_add(&b, docs.doc[i], docs.len[i]);
	}
	ret = eb_acc_tokenize(A, ops, st, b.buf, 1, &tok, &n_tok, err);
	if (ret)
		goto out;
	keep = n_tok < (size_t)A->t->n_samples * seqlen ? n_tok : (size_t)A->t->n_samples * seqlen;
	n_win = eb_min_limit(keep / seqlen, A->t->limit);
	if (n_win == 0) {
		ret = eb_err_set(err, EB_EINVAL,
				 "task '%s': the first %zu documents of '%s' have %zu tokens, fewer "
				 "than seqlen %zu",
				 A->t->task, docs.n, path, n_tok, seqlen);
		goto out;
	}
	for (size_t i = 0; i < n_win; i++)
		eb_seqs_add(&A->seqs, tok + i * seqlen, seqlen, 0, i);
	json_object_set_new(res->params, "n_documents", json_integer((json_int_t)docs.n));
	json_object_set_new(res->params, "n_tokens", json_integer((json_int_t)n_tok));
	ret = eb_acc_windows_finish(A, ops, st, res, err);
out:
	free(tok);
	eb_buf_release(&b);
	eb_docs_release(&docs);
	return ret;
}

/*
 * lm-eval's loglikelihood_rolling: get_rolling_token_windows(tokens, prefix, L, 1) made
 * disjoint; each window is scored as (context + continuation)[-(L + 1):].
 */
static void eb_acc_rolling(struct eb_acc *A, const int32_t *tok, size_t n, int32_t prefix,
			   size_t L, size_t doc)
{
	size_t first_len = n < L ? n : L, predicted, wl;
	int32_t *w;

	if (n == 0)
		return;
	w = eb_xmalloc((first_len + 1) * sizeof(*w));
	w[0] = prefix;
	memcpy(w + 1, tok, first_len * sizeof(*w));
	eb_seqs_add(&A->seqs, w, first_len + 1, 0, doc);
	free(w);
	A->doc_left[doc]++;
	A->owner = eb_xrealloc(A->owner, A->seqs.alloc * sizeof(*A->owner));
	A->owner[A->seqs.n - 1] = doc;
	for (predicted = first_len; predicted < n; predicted += wl) {
		size_t end;

		wl = n - predicted < L ? n - predicted : L;
		end = predicted + wl;
		/* tokens[end - L - 1 .. end): L + 1 tokens, the last wl of them scored */
		eb_seqs_add(&A->seqs, tok + end - L - 1, L + 1, L - wl, doc);
		A->doc_left[doc]++;
		A->owner = eb_xrealloc(A->owner, A->seqs.alloc * sizeof(*A->owner));
		A->owner[A->seqs.n - 1] = doc;
	}
}

static int eb_acc_lmeval(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
			 const char *path, struct eb_acc_result *res, struct eb_err *err)
{
	struct eb_docs pages;
	size_t len, n_docs, L = (size_t)A->t->seqlen, n_tok_all = 0;
	double ll = 0, words = 0, bytes = 0;
	int32_t bos = (int32_t)eb_backend_int(A->env->backend, "bos_token", -1);
	int32_t eos = (int32_t)eb_backend_int(A->env->backend, "eos_token", -1);
	int32_t prefix = bos >= 0 ? bos : eos;
	char *raw = NULL;
	int ret;

	memset(&pages, 0, sizeof(pages));
	ret = eb_corpus_read(path, A->t->member, &raw, &len, err);
	if (ret)
		return ret;
	if (prefix < 0) {
		A->unsupported = 1;
		ret = eb_err_set(err, EB_EUNSUPPORTED,
				 "wikitext2-lmeval: the model has neither BOS nor EOS to start windows");
		goto out;
	}
	eb_wikitext_pages(raw, len, &pages);
	n_docs = eb_min_limit(pages.n, A->t->limit);
	A->doc_ll = eb_xcalloc(n_docs + 1, sizeof(*A->doc_ll));
	A->doc_left = eb_xcalloc(n_docs + 1, sizeof(*A->doc_left));
	A->doc_words = eb_xcalloc(n_docs + 1, sizeof(*A->doc_words));
	A->doc_bytes = eb_xcalloc(n_docs + 1, sizeof(*A->doc_bytes));
	for (size_t d = 0; d < n_docs; d++) {
		size_t dlen, n_tok = 0;
		char *detok = eb_wikitext_detokenize(pages.doc[d], pages.len[d], &dlen);
		int32_t *tok = NULL;

		/* words and bytes of the page before detokenization, as lm-eval counts them */
		A->doc_words[d] = (double)eb_py_split_ws_count(pages.doc[d], pages.len[d]);
		A->doc_bytes[d] = (double)pages.len[d];
		ret = eb_acc_tokenize(A, ops, st, detok, 0, &tok, &n_tok, err);
		free(detok);
		if (ret)
			goto out;
		n_tok_all += n_tok;
		eb_acc_rolling(A, tok, n_tok, prefix, L, d);
		free(tok);
	}
	A->total = n_docs;
	A->unit = "documents";
	A->metric = "word_perplexity";
	json_object_set_new(res->params, "n_documents", json_integer((json_int_t)n_docs));
	json_object_set_new(res->params, "n_windows", json_integer((json_int_t)A->seqs.n));
	json_object_set_new(res->params, "n_tokens", json_integer((json_int_t)n_tok_all));
	json_object_set_new(res->params, "prefix_token", json_integer(prefix));
	/* a document without tokens has log-likelihood 0 and is done already */
	for (size_t d = 0; d < n_docs; d++)
		if (A->doc_left[d] == 0)
			A->done++;
	ret = eb_acc_score(A, ops, st, 0, err);
	if (ret)
		goto out;
	for (size_t d = 0; d < n_docs; d++) {
		ll += A->doc_ll[d];
		words += A->doc_words[d];
		bytes += A->doc_bytes[d];
	}
	eb_acc_put(res, "word_perplexity", exp(-ll / words), NAN, (long long)n_docs);
	eb_acc_put(res, "byte_perplexity", exp(-ll / bytes), NAN, (long long)n_docs);
	eb_acc_put(res, "bits_per_byte", -ll / bytes / log(2.0), NAN, (long long)n_docs);
	json_object_set_new(res->params, "words", json_real(words));
	json_object_set_new(res->params, "bytes", json_real(bytes));
out:
	eb_docs_release(&pages);
	free(raw);
	return ret;
}

/*
 * lm-eval's _encode_pair + _loglikelihood_tokens for one (query, continuation): whole =
 * tok(query + cont), context length = len(tok(query)), input (whole)[-(L + 1):].
 */
static int eb_acc_hellaswag(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
			    const char *path, int share, struct eb_acc_result *res, struct eb_err *err)
{
	struct eb_hellaswag ds;
	struct eb_hellaswag_metrics m;
	struct eb_buf b;
	size_t n_items, L = (size_t)A->t->seqlen;
	int ret;

	ret = eb_hellaswag_load(&ds, path, err);
	if (ret)
		return ret;
	A->hs = &ds;
	n_items = eb_min_limit(ds.n, A->t->limit);
	A->doc_left = eb_xcalloc(n_items + 1, sizeof(*A->doc_left));
	A->owner = eb_xcalloc(n_items * EB_HELLASWAG_NCHOICES + 1, sizeof(*A->owner));
	eb_buf_init(&b, 0);
	for (size_t i = 0; i < n_items; i++) {
		const struct eb_hellaswag_item *it = &ds.items[i];
		int32_t *ctx = NULL;
		size_t n_ctx = 0;

		ret = eb_acc_tokenize(A, ops, st, it->query, A->t->bos, &ctx, &n_ctx, err);
		free(ctx);
		if (ret)
			goto out;
		for (int k = 0; k < EB_HELLASWAG_NCHOICES; k++) {
			int32_t *whole = NULL;
			size_t n_whole = 0, cont, start;

			eb_buf_reset(&b);
			eb_buf_addstr(&b, it->query);
			eb_buf_addstr(&b, it->cont[k]);
			ret = eb_acc_tokenize(A, ops, st, b.buf, A->t->bos, &whole, &n_whole, err);
			if (ret)
				goto out;
			cont = n_whole > n_ctx ? n_whole - n_ctx : 0;
			if (cont == 0 || n_ctx == 0 || cont > L) {
				free(whole);
				ret = eb_err_set(err, EB_EINVAL,
						 "%s:%zu: ending %d tokenizes to %zu tokens after a "
						 "context of %zu (needs 1..%zu, and a context)",
						 path, it->line, k, cont, n_ctx, L);
				goto out;
			}
			start = n_whole > L + 1 ? n_whole - (L + 1) : 0;
			eb_seqs_add(&A->seqs, whole + start, n_whole - start,
				    n_whole - start - cont - 1, i);
			A->owner[A->seqs.n - 1] = i;
			free(whole);
		}
		A->doc_left[i] = EB_HELLASWAG_NCHOICES;
	}
	A->total = n_items;
	A->unit = "items";
	A->metric = "acc_norm";
	json_object_set_new(res->params, "n_items", json_integer((json_int_t)n_items));
	json_object_set_new(res->params, "shared_context", json_boolean(share));
	ret = eb_acc_score(A, ops, st, share ? EB_LOGLIK_SHARE : 0, err);
	if (ret)
		goto out;
	eb_hellaswag_tally_finish(&A->tally, &m);
	eb_acc_put(res, "acc", m.acc, m.acc_se, (long long)m.n);
	eb_acc_put(res, "acc_norm", m.acc_norm, m.acc_norm_se, (long long)m.n);
out:
	A->hs = NULL;
	eb_buf_release(&b);
	eb_hellaswag_release(&ds);
	return ret;
}

/*
 * Whether this adapter can score task t here at all, asked before any dataset is read:
 * the loglik capability, full logits for kld, and the adapter's own answer to a request
 * without sequences (a remote adapter asks its server whether it returns prompt
 * log-probabilities).
 */
static int eb_acc_can_score(const struct eb_cfg_acc_task *t, const struct eb_adapter_ops *ops,
			    void *st, const struct eb_acc_env *env, struct eb_err *err)
{
	struct eb_loglik_req probe;

	if (!(ops->caps & EB_CAP_LOGLIK) || !ops->loglik)
		return eb_err_set(err, EB_EUNSUPPORTED, "adapter '%s' cannot score log-likelihoods",
				  ops->name);
	if (strcmp(t->protocol, "kld") == 0 && !(ops->caps & EB_CAP_LOGITS))
		return eb_err_set(err, EB_EUNSUPPORTED,
				  "protocol kld needs full logits, which adapter '%s' does not "
				  "return (it scores with log-probabilities of the given tokens only)",
				  ops->name);
	memset(&probe, 0, sizeof(probe));
	probe.stop = env->stop;
	return ops->loglik(st, &probe, err);
}

/*
 * Log-probabilities a server clamped (vLLM writes -inf as -9999) are kept as they came,
 * counted with the figures and warned about: the true values are lower still.
 */
static void eb_acc_clamped(const struct eb_acc *A, struct eb_acc_result *res)
{
	char msg[512];

	if (A->logp_rows == 0)
		return;
	json_object_set_new(res->params, "logp_clamped", json_integer((json_int_t)A->n_clamped));
	if (A->n_clamped == 0)
		return;
	snprintf(msg, sizeof(msg),
		 "%zu of %zu scored tokens came back as log p = -9999, the server's stand-in for "
		 "-inf (vLLM's clamp); they are kept as -9999, so the true log-likelihood is "
		 "lower (perplexity higher) than stored",
		 A->n_clamped, A->logp_rows);
	if (!res->warnings)
		res->warnings = json_array();
	json_array_append_new(res->warnings, json_string(msg));
}

void eb_acc_kld_path(const struct eb_cfg_acc_task *t, const struct eb_acc_env *env, char *buf,
		     size_t n)
{
	int len = snprintf(buf, n, "%s/%s_%s_%s_%s.kld", env->kld_dir, env->target_id,
			   env->model_id, env->kld_reference ? env->kld_reference : "none", t->task);

	if (len < 0 || (size_t)len >= n)
		buf[0] = '\0';
}

int eb_acc_run(const struct eb_cfg_acc_task *t, const struct eb_adapter_ops *ops, void *st,
	       const struct eb_acc_env *env, struct eb_acc_result *res, struct eb_err *err)
{
	struct eb_acc A;
	char path[4096], kpath[4096];
	int ret;

	memset(&A, 0, sizeof(A));
	memset(res, 0, sizeof(*res));
	A.t = t;
	A.env = env;
	A.running = NAN;
	res->params = json_deep_copy(t->params);
	json_object_set_new(res->params, "task", json_string(t->task));
	ret = eb_acc_can_score(t, ops, st, env, err);
	if (ret) {
		res->unsupported = ret == EB_EUNSUPPORTED;
		return ret;
	}
	ret = eb_acc_dataset(t, res->params, path, sizeof(path), err);
	if (ret)
		return ret;
	json_object_set_new(res->params, "n_batch",
			    t->n_batch || env->n_batch
				    ? json_integer((json_int_t)(t->n_batch ? t->n_batch : env->n_batch))
				    : json_string("adapter default"));
	if (strcmp(t->protocol, "wikitext2-llamacpp") == 0) {
		A.mode = EB_M_CHUNKS;
		ret = eb_acc_chunks(&A, ops, st, path, res, err);
	} else if (strcmp(t->protocol, "kld") == 0) {
		eb_acc_kld_path(t, env, kpath, sizeof(kpath));
		if (!kpath[0]) {
			ret = eb_err_set(err, EB_EINVAL, "kld: reference path too long");
			goto out;
		}
		A.kpath = kpath;
		A.mode = env->kld_reference && strcmp(env->quant, env->kld_reference) == 0
				 ? EB_M_KLD_REF
				 : EB_M_KLD;
		if (A.mode == EB_M_KLD_REF) {
			ret = eb_mkdirs(env->kld_dir, err);
			if (ret)
				goto out;
		}
		ret = eb_acc_chunks(&A, ops, st, path, res, err);
	} else if (strcmp(t->protocol, "wikitext2-gptq") == 0) {
		A.mode = EB_M_WINDOWS;
		ret = eb_acc_wikitext_gptq(&A, ops, st, path, res, err);
	} else if (strcmp(t->protocol, "c4-gptq") == 0) {
		A.mode = EB_M_WINDOWS;
		ret = eb_acc_c4_gptq(&A, ops, st, path, res, err);
	} else if (strcmp(t->protocol, "c4-new") == 0) {
		A.mode = EB_M_WINDOWS;
		ret = eb_acc_c4_new(&A, ops, st, path, res, err);
	} else if (strcmp(t->protocol, "wikitext2-lmeval") == 0) {
		A.mode = EB_M_DOCS;
		ret = eb_acc_lmeval(&A, ops, st, path, res, err);
	} else if (strcmp(t->protocol, "hellaswag") == 0) {
		A.mode = EB_M_HELLASWAG;
		ret = eb_acc_hellaswag(&A, ops, st, path, !t->separate, res, err);
	} else {
		ret = eb_err_set(err, EB_EINVAL, "unknown protocol '%s'", t->protocol);
	}
	if (!ret) {
		eb_acc_progress(&A, 1);
		eb_acc_clamped(&A, res);
	}
out:
	res->unsupported = ret != 0 && A.unsupported;
	eb_seqs_release(&A.seqs);
	eb_kld_release(&A.kld);
	free(A.seq_sum);
	free(A.seq_left);
	free(A.owner);
	free(A.win_nll);
	free(A.doc_ll);
	free(A.doc_left);
	free(A.doc_words);
	free(A.doc_bytes);
	free(A.base);
	free(A.logp);
	free(A.targets);
	return ret;
}
