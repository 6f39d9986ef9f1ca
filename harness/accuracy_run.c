/* accuracy_run.c: the accuracy runner (see accuracy_run.h): dataset, scorer, loglik rows, figures. */
#include "accuracy_run.h"
#include "accuracy_priv.h"
#include "protocol.h"

#include "fetch.h"
#include "eb_clock.h"
#include "eb_util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	if (r->samples)
		json_decref(r->samples);
	memset(r, 0, sizeof(*r));
}

void eb_acc_put(struct eb_acc_result *r, const char *name, double value, double se, long long n)
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

json_t *eb_acc_sample(struct eb_acc *A, size_t idx, const char *doc, const char *sha,
		      const char *of, int answer, int gold)
{
	json_t *o = json_object(), *result = json_object();

	if (!A->samples)
		A->samples = json_array();
	json_object_set_new(o, "idx", json_integer((json_int_t)idx));
	json_object_set_new(o, "doc", json_string(doc));
	json_object_set_new(o, "prompt_sha256", json_string(sha));
	json_object_set_new(o, "prompt_hash_of", json_string(of));
	if (gold >= 0) {
		json_object_set_new(o, "answer", json_integer(answer));
		json_object_set_new(o, "gold", json_integer(gold));
		json_object_set_new(o, "correct", json_boolean(answer == gold));
	}
	json_object_set_new(o, "result", result);
	json_array_append_new(A->samples, o);
	return result;
}

void eb_acc_seq_sha256(const struct eb_acc *A, size_t s, char hex[65])
{
	const struct eb_loglik_seq *q = &A->seqs.seq[s];

	eb_sha256_hex(q->tokens, q->n_tokens * sizeof(*q->tokens), hex);
}

/* --- token sequences under construction ------------------------------------------ */

void eb_seqs_add(struct eb_seqs *s, const int32_t *t, size_t n, size_t first, size_t group)
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

/* --- scoring ------------------------------------------------------------------------ */

static void eb_acc_progress(struct eb_acc *A, int force)
{
	uint64_t now = eb_clock_ns();

	if (!A->env->progress || (!force && now - A->last_ns < 250000000ull))
		return;
	A->last_ns = now;
	A->env->progress(A->env->progress_ud, A->done, A->total, A->unit, A->metric, A->running);
}

static void eb_acc_bufs(struct eb_acc *A, size_t n)
{
	if (n <= A->buf_alloc)
		return;
	A->buf_alloc = n;
	A->logp = eb_xrealloc(A->logp, n * sizeof(*A->logp));
	A->targets = eb_xrealloc(A->targets, n * sizeof(*A->targets));
}

/* log p of each row's target: a server's log-probabilities as they came, else from logits. */
static void eb_acc_rows_logp(struct eb_acc *A, const struct eb_loglik_rows *r)
{
	if (r->logp) {
		memcpy(A->logp, r->logp, r->n * sizeof(*A->logp));
		A->logp_rows += r->n;
		A->n_clamped += r->n_clamped;
	} else {
		eb_acc_logp_rows(r->logits, A->targets, r->n, r->n_vocab, A->env->threads, A->logp);
	}
}

static int eb_acc_rows(void *ud, const struct eb_loglik_rows *r, struct eb_err *err)
{
	struct eb_acc *A = ud;
	int ret;

	eb_acc_bufs(A, r->n);
	for (size_t i = 0; i < r->n; i++)
		A->targets[i] = A->seqs.seq[r->seq[i]].tokens[r->pos[i] + 1];
	if (A->rows) {
		ret = A->rows(A, r, err);
		if (ret)
			return ret;
	} else {
		eb_acc_rows_logp(A, r);
	}
	for (size_t i = 0; i < r->n; i++) {
		size_t s = r->seq[i];

		if (A->ppl_every_token)
			eb_ppl_add(&A->ppl, A->logp[i]);
		A->seq_sum[s] += A->logp[i];
		if (--A->seq_left[s] == 0)
			A->seq_done(A, s);
	}
	eb_acc_progress(A, 0);
	return 0;
}

int eb_acc_score(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st, unsigned flags,
		 struct eb_err *err)
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

int eb_acc_tokenize(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
		    const char *text, int add_special, int32_t **tok, size_t *n, struct eb_err *err)
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

long long eb_backend_int(const json_t *b, const char *key, long long def)
{
	const json_t *v = json_object_get(b, key);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

size_t eb_min_limit(size_t n, long long limit)
{
	return limit > 0 && (size_t)limit < n ? (size_t)limit : n;
}

/*
 * The dataset file of a task into path: its "file", else the catalog dataset its
 * protocol reads; records it (and its sha256) in params.
 */
static int eb_acc_dataset(const struct eb_cfg_acc_task *t, const struct eb_acc_protocol *p,
			  json_t *params, char *path, size_t n, struct eb_err *err)
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
		d = eb_dataset_find(p->dataset);
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

/*
 * Whether this adapter can score task t here at all, asked before any dataset is read:
 * the capabilities its protocol needs (protocol.c), then the adapter's own answer to a
 * request without sequences (a remote adapter asks its server whether it returns
 * prompt log-probabilities).
 */
static int eb_acc_can_score(const struct eb_acc_protocol *p, const struct eb_adapter_ops *ops,
			    void *st, const struct eb_acc_env *env, struct eb_err *err)
{
	struct eb_loglik_req probe;
	int ret = eb_acc_protocol_supported(p, ops, err);

	if (ret || !(p->caps & EB_CAP_LOGLIK)) /* the generative ones need nothing more */
		return ret;
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

static void eb_acc_release(struct eb_acc *A)
{
	if (A->kf)
		fclose(A->kf);
	eb_seqs_release(&A->seqs);
	eb_kld_release(&A->kld);
	free(A->seq_sum);
	free(A->seq_left);
	free(A->owner);
	free(A->win_nll);
	free(A->doc_ll);
	free(A->doc_left);
	free(A->doc_words);
	free(A->doc_bytes);
	free(A->base);
	free(A->logp);
	free(A->targets);
	free(A->item_hash);
	free(A->mc_first);
	free(A->mc_hits);
	free(A->mc_norm_hits);
	free(A->mc_n);
	if (A->samples)
		json_decref(A->samples);
}

int eb_acc_run(const struct eb_cfg_acc_task *t, const struct eb_adapter_ops *ops, void *st,
	       const struct eb_acc_env *env, struct eb_acc_result *res, struct eb_err *err)
{
	const struct eb_acc_protocol *p = eb_acc_protocol_find(t->protocol);
	struct eb_acc A;
	char path[4096];
	int ret;

	memset(&A, 0, sizeof(A));
	memset(res, 0, sizeof(*res));
	A.t = t;
	A.env = env;
	A.running = NAN;
	res->params = json_deep_copy(t->params);
	json_object_set_new(res->params, "task", json_string(t->task));
	if (!p)
		return eb_err_set(err, EB_EINVAL, "unknown protocol '%s'", t->protocol);
	ret = eb_acc_can_score(p, ops, st, env, err);
	if (ret) {
		res->unsupported = ret == EB_EUNSUPPORTED;
		return ret;
	}
	ret = eb_acc_dataset(t, p, res->params, path, sizeof(path), err);
	if (ret)
		return ret;
	/* a generative protocol scores no batches of tokens */
	if (p->caps & EB_CAP_LOGLIK)
		json_object_set_new(res->params, "n_batch",
				    t->n_batch || env->n_batch
					    ? json_integer((json_int_t)(t->n_batch ? t->n_batch
										   : env->n_batch))
					    : json_string("adapter default"));
	ret = p->score(&A, ops, st, path, res, err);
	if (!ret) {
		eb_acc_progress(&A, 1);
		eb_acc_clamped(&A, res);
		res->samples = A.samples;
		A.samples = NULL;
	}
	res->unsupported = ret != 0 && A.unsupported;
	eb_acc_release(&A);
	return ret;
}
