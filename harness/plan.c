/* plan.c: config -> cells (see plan.h). */
#include "plan.h"
#include "eb_util.h"

#include <fnmatch.h>
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

int eb_plan_build(struct eb_plan *plan, const struct eb_config *cfg, const char *only,
		  struct eb_err *err)
{
	size_t alloc = 16;

	plan->n = 0;
	plan->cells = eb_xcalloc(alloc, sizeof(*plan->cells));
	for (size_t t = 0; t < cfg->n_targets; t++) {
		const struct eb_cfg_target *tg = &cfg->targets[t];

		for (size_t m = 0; m < cfg->n_models; m++) {
			const struct eb_cfg_model *md = &cfg->models[m];

			if (!eb_model_on_target(md, tg->id))
				continue;
			for (size_t v = 0; v < md->n_variants; v++) {
				const struct eb_cfg_variant *var = &md->variants[v];
				int keep = cfg->n_include == 0;

				for (size_t r = 0; r < cfg->n_include; r++)
					keep |= eb_rule_match(&cfg->include[r], tg->id, md->id,
							      var->quant);
				for (size_t r = 0; r < cfg->n_exclude; r++)
					if (eb_rule_match(&cfg->exclude[r], tg->id, md->id, var->quant))
						keep = 0;
				if (!keep || !cfg->latency.enabled)
					continue;
				for (size_t p = 0; p < cfg->latency.n_prompt_tokens; p++) {
					struct eb_cell c = {
						.target = tg,
						.model = md,
						.variant = var,
						.workload = "latency",
						.prompt_tokens = cfg->latency.prompt_tokens[p],
						.gen_tokens = cfg->latency.gen_tokens,
					};
					char key[1024];

					snprintf(key, sizeof(key), "%s/%s/%s/latency/p%d-g%d", tg->id,
						 md->id, var->quant, c.prompt_tokens, c.gen_tokens);
					if (only && fnmatch(only, key, 0) != 0)
						continue;
					for (size_t k = 0; k < plan->n; k++)
						if (strcmp(plan->cells[k].key, key) == 0)
							goto dup; /* repeated prompt length */
					c.key = eb_xstrdup(key);
					if (plan->n == alloc) {
						alloc *= 2;
						plan->cells = eb_xrealloc(plan->cells,
									  alloc * sizeof(*plan->cells));
					}
					plan->cells[plan->n++] = c;
dup:;
				}
			}
		}
	}
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
