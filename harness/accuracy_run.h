/* accuracy_run.h: the accuracy workload: a task through its protocol (protocol.h) and an adapter. */
#ifndef EB_ACCURACY_RUN_H
#define EB_ACCURACY_RUN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "adapter.h"
#include "config.h"
#include "eb_err.h"

/* One figure of a task (names per protocol in docs/accuracy.md). */
struct eb_acc_metric {
	char *name;
	double value;
	double se;   /* standard error, NaN when the protocol defines none */
	long long n; /* items, windows, documents or tokens behind it */
};

/* What a task produced. Zero-initialise; eb_acc_result_release frees everything. */
struct eb_acc_result {
	struct eb_acc_metric *m;
	size_t n, alloc;
	json_t *params;   /* the task's parameters plus what was measured (dataset, counts) */
	json_t *warnings; /* array of strings for the cell's warnings, or NULL */
	/*
	 * One object per item scored (HellaSwag item, window, chunk, page), or NULL: idx,
	 * doc, prompt_sha256, prompt_hash_of, answer, gold, correct (the last three absent
	 * where the protocol has no answer) and result (the per-item figures).
	 */
	json_t *samples;
	int unsupported;  /* eb_acc_run failed because the adapter, its server or the model
			   * lacks what the protocol needs: the cell is skipped, err says why */
};

void eb_acc_result_release(struct eb_acc_result *r);

/*
 * Progress while a task scores: `done` of `total` units (items, chunks, windows,
 * documents: `unit`), and the running value of its headline metric (NaN until known).
 */
typedef void (*eb_acc_progress_fn)(void *ud, size_t done, size_t total, const char *unit,
				   const char *metric, double value);

/* The surroundings of one accuracy cell. Pointers are borrowed for the call. */
struct eb_acc_env {
	const char *target_id, *model_id, *quant;
	const json_t *backend;   /* the adapter's describe() facts (bos_token, add_bos, ...) */
	const char *kld_dir;     /* where reference log-probabilities live */
	const char *kld_reference; /* quant of the reference variant (protocol kld) */
	int threads;             /* for log-softmax over the vocabulary */
	long long n_batch;       /* the target's batch size when the task sets none; 0: adapter's */
	volatile int *stop;
	eb_acc_progress_fn progress; /* MAY be NULL */
	void *progress_ud;
};

/*
 * Runs task `t` on an open adapter (which must have what the protocol needs: EB_CAP_LOGLIK,
 * or EB_CAP_TEXT for the generative ones): loads the dataset
 * (t->file, else the fetched one from `edgebench datasets`), tokenizes with the adapter,
 * scores under the protocol and fills `res`. For protocol kld the reference variant
 * (env->quant == env->kld_reference) writes the reference log-probabilities file and
 * every other variant compares with it. Before any dataset is read the adapter is asked
 * whether it can score here (a loglik request without sequences). Errors name the
 * dataset file and line where one is at fault; EB_EINTR when env->stop was set; with
 * res->unsupported set when something the protocol needs is missing (no loglik, no
 * tokenizer, no full logits for kld, a server without prompt log-probs, a model without
 * BOS or EOS for wikitext2-lmeval).
 */
int eb_acc_run(const struct eb_cfg_acc_task *t, const struct eb_adapter_ops *ops, void *st,
	       const struct eb_acc_env *env, struct eb_acc_result *res, struct eb_err *err);

/* The reference log-probabilities file of a kld task, into buf ("" when too long). */
void eb_acc_kld_path(const struct eb_cfg_acc_task *t, const struct eb_acc_env *env, char *buf,
		     size_t n);

#endif
