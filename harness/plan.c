/* plan.c: config -> cells (see plan.h). */
#include "plan.h"
#include "protocol.h"
#include "eb_util.h"

#include <fnmatch.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int eb_pat(const char *pat, const char *s)
{
	return !pat || fnmatch(pat, s, 0) == 0;
}

static int eb_rule_match(const struct eb_cfg_rule *r, const char *t, const char *m, const char *q)
{
	return eb_pat(r->target, t) && eb_pat(r->model, m) && eb_pat(r->quant, q);
}

static int eb_model_on_target(const struct eb_cfg_model *m, const char *tid)
{
	if (m->n_targets == 0)
		return 1;
	for (size_t i = 0; i < m->n_targets; i++)
		if (strcmp(m->targets[i], tid) == 0)
			return 1;
	return 0;
}

/*
 * The keys already in the plan, as an open-addressing set of cell indices (0 = empty, else
 * index + 1): a repeated prompt length is found in constant time, not by a scan of every
 * cell so far, which made expansion quadratic (50k cells took seconds).
 */
struct eb_keyset {
	size_t *slot;
	size_t mask;
};

static uint64_t eb_key_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* Adds a cell unless --only drops it or its key is already there. */
static void eb_plan_add(struct eb_plan *plan, struct eb_keyset *ks, size_t *alloc,
			struct eb_cell *c, const char *key, const char *only)
{
	size_t i;

	if (only && fnmatch(only, key, 0) != 0)
		return;
	for (i = eb_key_hash(key) & ks->mask; ks->slot[i]; i = (i + 1) & ks->mask)
		if (strcmp(plan->cells[ks->slot[i] - 1].key, key) == 0)
			return; /* a repeated prompt length */
	c->key = eb_xstrdup(key);
	if (plan->n == *alloc) {
		*alloc *= 2;
		plan->cells = eb_xrealloc(plan->cells, *alloc * sizeof(*plan->cells));
	}
	plan->cells[plan->n++] = *c;
	ks->slot[i] = plan->n;
}

/*
 * How many cells `cfg` expands to before repeats, the matrix rules and --only are applied;
 * 0 and a message naming the count and what multiplied it when that passes
 * EB_PLAN_MAX_CELLS. Cheap (targets x models), so a config of a million cells is refused
 * before any is built.
 */
static int eb_plan_count(const struct eb_config *cfg, size_t *out, struct eb_err *err)
{
	size_t points = (cfg->latency.enabled ? cfg->latency.n_prompt_tokens : 0) +
			cfg->load.n_concurrency + cfg->load.n_rate + cfg->accuracy.n_tasks;
	size_t variants = 0;
	uint64_t n = 0;

	for (size_t m = 0; m < cfg->n_models; m++)
		variants += cfg->models[m].n_variants;
	for (size_t t = 0; t < cfg->n_targets && n <= EB_PLAN_MAX_CELLS; t++)
		for (size_t m = 0; m < cfg->n_models && n <= EB_PLAN_MAX_CELLS; m++)
			if (eb_model_on_target(&cfg->models[m], cfg->targets[t].id))
				n += (uint64_t)cfg->models[m].n_variants * points;
	if (cfg->n_modes)
		n *= cfg->n_modes;
	if (cfg->repeat > 1)
		n *= (uint64_t)cfg->repeat;
	*out = (size_t)n;
	if (n <= EB_PLAN_MAX_CELLS)
		return 0;
	/* stopped early above: say the full product, which is what the user multiplied */
	n = (uint64_t)cfg->n_targets * variants * points * (cfg->n_modes ? cfg->n_modes : 1) *
	    (uint64_t)(cfg->repeat > 1 ? cfg->repeat : 1);
	return eb_err_set(err, EB_ECONFIG,
			  "%s: too many cells: up to %llu cells (%zu targets x %zu variants of %zu "
			  "models x (%zu latency.prompt_tokens + %zu load points + %zu accuracy.tasks)"
			  "%s%.0zu%s%s%.0d); "
			  "the limit is %d: give models fewer targets or variants, or split the "
			  "config",
			  cfg->path, (unsigned long long)n, cfg->n_targets, variants, cfg->n_models,
			  cfg->latency.enabled ? cfg->latency.n_prompt_tokens : 0,
			  cfg->load.n_concurrency + cfg->load.n_rate, cfg->accuracy.n_tasks, cfg->n_modes ? " x " : "", cfg->n_modes,
			  cfg->n_modes ? " device.modes" : "", cfg->repeat > 1 ? " x repeat " : "",
			  cfg->repeat > 1 ? cfg->repeat : 0, EB_PLAN_MAX_CELLS);
}

/* Variant index of the kld reference in `md`, or -1. */
static long eb_ref_variant(const struct eb_config *cfg, const struct eb_cfg_model *md)
{
	int has_ref = 0;

	for (size_t i = 0; i < cfg->accuracy.n_tasks; i++) {
		const char *name = cfg->accuracy.tasks[i].protocol;
		const struct eb_acc_protocol *p = eb_acc_protocol_find(name);

		has_ref |= p && p->needs_reference;
	}
	if (!has_ref || !cfg->accuracy.kld_reference)
		return -1;
	for (size_t v = 0; v < md->n_variants; v++)
		if (strcmp(md->variants[v].quant, cfg->accuracy.kld_reference) == 0)
			return (long)v;
	return -1;
}

/* The load cells of one variant: its concurrencies, then its rates, in config order. */
static void eb_plan_load(struct eb_plan *plan, struct eb_keyset *ks, size_t *alloc,
			 const struct eb_config *cfg, const struct eb_cfg_target *tg,
			 const struct eb_cfg_model *md, const struct eb_cfg_variant *var,
			 const struct eb_cfg_mode *mode, const char *only)
{
	const struct eb_cfg_load *L = &cfg->load;
	size_t n = L->enabled ? L->n_concurrency + L->n_rate : 0;

	for (size_t i = 0; i < n; i++) {
		struct eb_cell c = {
			.target = tg,
			.model = md,
			.variant = var,
			.workload = "load",
			.prompt_tokens = L->prompt.dist == EB_LEN_FIXED ? L->prompt.fixed : -1,
			.gen_tokens = L->gen.dist == EB_LEN_FIXED ? L->gen.fixed : -1,
			.mode = mode,
		};
		char point[64], key[1024];

		if (i < L->n_concurrency) {
			c.concurrency = L->concurrency[i];
			snprintf(point, sizeof(point), "c%d", c.concurrency);
		} else {
			c.rate = L->rate[i - L->n_concurrency];
			if (isinf(c.rate))
				snprintf(point, sizeof(point), "rinf");
			else
				snprintf(point, sizeof(point), "r%g", c.rate);
		}
		snprintf(key, sizeof(key), "%s/%s/%s/load/%s%s%s", tg->id, md->id, var->quant, point,
			 mode ? "@" : "", mode ? mode->id : "");
		eb_plan_add(plan, ks, alloc, &c, key, only);
	}
}

/* The cells of one device mode (NULL: none), in the order eb_plan_build documents. */
static void eb_plan_mode(struct eb_plan *plan, struct eb_keyset *ks, size_t *alloc,
			 const struct eb_config *cfg, const struct eb_cfg_mode *mode, const char *only)
{
	for (size_t t = 0; t < cfg->n_targets; t++) {
		const struct eb_cfg_target *tg = &cfg->targets[t];

		for (size_t m = 0; m < cfg->n_models; m++) {
			const struct eb_cfg_model *md = &cfg->models[m];
			long ref = eb_ref_variant(cfg, md);

			if (!eb_model_on_target(md, tg->id))
				continue;
			for (size_t vi = 0; vi < md->n_variants; vi++) {
				const struct eb_cfg_variant *var;
				int keep = cfg->n_include == 0;
				size_t v = vi;
				char key[1024];

				/* the kld reference first, the others in config order */
				if (ref >= 0)
					v = vi == 0 ? (size_t)ref : vi <= (size_t)ref ? vi - 1 : vi;
				var = &md->variants[v];

				for (size_t r = 0; r < cfg->n_include; r++)
					keep |= eb_rule_match(&cfg->include[r], tg->id, md->id,
							      var->quant);
				for (size_t r = 0; r < cfg->n_exclude; r++)
					if (eb_rule_match(&cfg->exclude[r], tg->id, md->id, var->quant))
						keep = 0;
				if (!keep)
					continue;
				for (size_t p = 0; cfg->latency.enabled &&
						   p < cfg->latency.n_prompt_tokens; p++) {
					struct eb_cell c = {
						.target = tg,
						.model = md,
						.variant = var,
						.workload = "latency",
						.prompt_tokens = cfg->latency.prompt_tokens[p],
						.gen_tokens = cfg->latency.gen_tokens,
						.mode = mode,
					};

					snprintf(key, sizeof(key), "%s/%s/%s/latency/p%d-g%d%s%s", tg->id,
						 md->id, var->quant, c.prompt_tokens, c.gen_tokens,
						 mode ? "@" : "", mode ? mode->id : "");
					eb_plan_add(plan, ks, alloc, &c, key, only);
				}
				eb_plan_load(plan, ks, alloc, cfg, tg, md, var, mode, only);
				for (size_t a = 0; a < cfg->accuracy.n_tasks; a++) {
					struct eb_cell c = {
						.target = tg,
						.model = md,
						.variant = var,
						.workload = "accuracy",
						.prompt_tokens = -1,
						.gen_tokens = -1,
						.acc = &cfg->accuracy.tasks[a],
						.mode = mode,
					};

					snprintf(key, sizeof(key), "%s/%s/%s/accuracy/%s%s%s", tg->id,
						 md->id, var->quant, cfg->accuracy.tasks[a].task,
						 mode ? "@" : "", mode ? mode->id : "");
					eb_plan_add(plan, ks, alloc, &c, key, only);
				}
			}
		}
	}
}

/*
 * Each cell `repeat` times, keys ending in #1..#N: a cell's repeats back to back, or with
 * `interleave` the whole plan over again; then --only, on the keys with their #N.
 */
static void eb_plan_repeat(struct eb_plan *plan, const struct eb_config *cfg, const char *only)
{
	size_t n = plan->n, R = (size_t)cfg->repeat, k = 0;
	struct eb_cell *out = eb_xcalloc(n * R + 1, sizeof(*out));

	for (size_t a = 0; a < (cfg->interleave ? R : n); a++)
		for (size_t b = 0; b < (cfg->interleave ? n : R); b++) {
			size_t i = cfg->interleave ? b : a, r = cfg->interleave ? a : b;
			struct eb_cell c = plan->cells[i];
			char key[1100];

			snprintf(key, sizeof(key), "%s#%zu", c.key, r + 1);
			if (only && fnmatch(only, key, 0) != 0)
				continue;
			c.key = eb_xstrdup(key);
			c.repeat = (int)r + 1;
			out[k++] = c;
		}
	for (size_t i = 0; i < n; i++)
		free(plan->cells[i].key);
	free(plan->cells);
	plan->cells = out;
	plan->n = k;
}

int eb_plan_build(struct eb_plan *plan, const struct eb_config *cfg, const char *only,
		  struct eb_err *err)
{
	struct eb_keyset ks = { 0 };
	size_t alloc = 16, max, size = 16;

	plan->n = 0;
	plan->cells = NULL;
	if (eb_plan_count(cfg, &max, err))
		return EB_ECONFIG;
	while (size < 2 * max)
		size *= 2;
	ks.slot = eb_xcalloc(size, sizeof(*ks.slot));
	ks.mask = size - 1;
	plan->cells = eb_xcalloc(alloc, sizeof(*plan->cells));
	for (size_t mi = 0; mi < (cfg->n_modes ? cfg->n_modes : 1); mi++)
		eb_plan_mode(plan, &ks, &alloc, cfg, cfg->n_modes ? &cfg->modes[mi] : NULL,
			     cfg->repeat > 1 ? NULL : only);
	if (cfg->repeat > 1)
		eb_plan_repeat(plan, cfg, only);
	free(ks.slot);
	if (plan->n == 0) {
		eb_plan_release(plan);
		return eb_err_set(err, EB_ECONFIG, "%s: no cells to run%s%s%s", cfg->path,
				  only ? " (--only '" : "", only ? only : "", only ? "')" : "");
	}
	return 0;
}

void eb_plan_release(struct eb_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++)
		free(plan->cells[i].key);
	free(plan->cells);
	plan->cells = NULL;
	plan->n = 0;
}

int eb_cell_same_model(const struct eb_cell *a, const struct eb_cell *b)
{
	return a && b && a->target == b->target && a->model == b->model && a->variant == b->variant;
}
