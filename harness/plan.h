/* plan.h: expansion of a config into cells (target x model x variant x workload point). */
#ifndef EB_PLAN_H
#define EB_PLAN_H

#include <stddef.h>

#include "config.h"

/*
 * One cell. Pointers borrow from the config and stay valid while it lives; `key` is
 * owned by the plan. The key is stable across runs of the same config:
 * "target/model/quant/latency/p<prompt>-g<gen>", "target/model/quant/load/c<N>" (N in
 * flight), "target/model/quant/load/r<R>" (R requests/s, "rinf": all at once) or
 * "target/model/quant/accuracy/<task>",
 * followed by "@<mode>" when the device lists modes and "#<n>" when cells repeat.
 */
struct eb_cell {
	char *key;
	const struct eb_cfg_target *target;
	const struct eb_cfg_model *model;
	const struct eb_cfg_variant *variant;
	const char *workload; /* "latency", "load" or "accuracy" */
	int prompt_tokens;    /* latency, load with a fixed length; else -1 */
	int gen_tokens;       /* latency, load with a fixed length; else -1 */
	int concurrency;      /* load "cN" cells: N; else 0 */
	double rate;          /* load "rR" cells: requests/s (INFINITY: all at once); else 0 */
	const struct eb_cfg_acc_task *acc; /* accuracy: the task; NULL for latency */
	const struct eb_cfg_mode *mode;    /* the device mode it runs in; NULL: none set */
	int repeat;                        /* 1..N with `repeat` N > 1 (key ends in #N); else 0 */
};

/*
 * The most cells a config may expand to, counted before repeated prompt lengths, the
 * matrix rules and --only are applied (100,000 cells is weeks of benchmarking); more is
 * EB_ECONFIG naming the count and its factors, before anything is built.
 */
#define EB_PLAN_MAX_CELLS 100000

struct eb_plan {
	struct eb_cell *cells;
	size_t n;
};

/*
 * Expands `cfg` into cells in a stable order (device modes, then targets, models, variants,
 * then the
 * variant's latency cells by prompt length and its accuracy cells by task, all in config
 * order), applying each model's target restriction and the matrix include/exclude rules.
 * With workloads.accuracy.kld.reference the reference variant of a model comes first, so
 * its kld cell has written the reference log-probabilities before the others need them.
 * With `repeat` N > 1 each cell comes N times: each cell's repeats back to back, or with
 * `interleave` the whole plan N times over. `only` (NULL = all) is an fnmatch pattern on
 * the key. Time and memory are linear in the number of cells; more than
 * EB_PLAN_MAX_CELLS is refused.
 */
int eb_plan_build(struct eb_plan *plan, const struct eb_config *cfg, const char *only,
		  struct eb_err *err);
void eb_plan_release(struct eb_plan *plan);

/* True when the cell could share a loaded model with `prev` (same target/model/variant). */
int eb_cell_same_model(const struct eb_cell *a, const struct eb_cell *b);

#endif
