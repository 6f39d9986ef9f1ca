/* ctest: labels=unit timeout=60 */
/* check_configs.c: every shipped config validates and expands; every registered adapter passes its check; adapter options get suggestions. */
#include "adapter.h"
#include "config.h"
#include "eb_util.h"
#include "plan.h"
#include "eb_build.h"
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(every_config_in_configs_is_valid)
{
	char dir[4096];
	DIR *d;
	struct dirent *de;
	int n = 0, seeds = 0;

	snprintf(dir, sizeof(dir), "%s/configs", EB_SOURCE_DIR);
	d = opendir(dir);
	ck_assert_msg(d != NULL, "cannot open '%s'", dir);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char path[8192], *errors = NULL;
		struct eb_config cfg;
		struct eb_plan plan;
		struct eb_err err;

		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		ck_assert_msg(eb_config_load(&cfg, path, &errors, &err) == 0, "%s", errors);
		ck_assert_msg(eb_plan_build(&plan, &cfg, NULL, &err) == 0, "%s", err.msg);
		ck_assert_uint_gt(plan.n, 0);
		for (size_t i = 0; i < plan.n; i++) {
			const struct eb_cell *c = &plan.cells[i];

			/* a remote target needs a server-side name, a local one a file */
			if (strcmp(c->target->ops->name, "llamacpp") == 0)
				ck_assert_msg(c->variant->file != NULL, "%s: %s has no file", path,
					      c->key);
			else if (strcmp(c->target->ops->name, "exec") != 0)
				ck_assert_msg(c->variant->model_name != NULL || json_object_get(
						      c->target->options, "model"),
					      "%s: %s has no model_name", path, c->key);
		}
		seeds += strcmp(de->d_name, "quickstart.json") != 0;
		eb_plan_release(&plan);
		eb_config_release(&cfg);
		n++;
	}
	closedir(d);
	ck_assert_int_ge(n, 5);
	ck_assert_int_ge(seeds, 4);
}
END_TEST

/* The seed systems' key figures, as the issue gives them. */
START_TEST(seed_configs_say_what_the_issue_says)
{
	static const char *const names[] = { "orin_llama3.json", "hailo10h_qwen2.json",
					     "rzv2l_llama2.json", "rtx3090_llama3.json" };
	char path[8192], *errors = NULL;
	struct eb_config cfg;
	struct eb_err err;

	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/configs/%s", EB_SOURCE_DIR, names[i]);
		ck_assert_msg(eb_config_load(&cfg, path, &errors, &err) == 0, "%s", errors);
		if (i == 0) {
			ck_assert(cfg.mem_bw_gbps == 204.8);
			ck_assert_str_eq(cfg.targets[0].ops->name, "llamacpp");
			ck_assert_int_eq(json_integer_value(json_object_get(cfg.targets[0].options,
									    "n_gpu_layers")),
					 -1);
			ck_assert_str_eq(cfg.targets[1].ops->name, "openai");
		} else if (i == 1) {
			const json_t *o = cfg.targets[0].options;

			ck_assert_str_eq(cfg.targets[0].ops->name, "ollama");
			ck_assert_str_eq(json_string_value(json_object_get(o, "flavour")), "hailo");
			ck_assert_str_eq(json_string_value(json_object_get(o, "base_url")),
					 "http://127.0.0.1:8000");
			ck_assert_int_eq(json_integer_value(json_object_get(o, "num_ctx")), 2048);
			ck_assert_int_eq(cfg.latency.n_prompt_tokens, 1);
			ck_assert_int_eq(cfg.latency.prompt_tokens[0], 96);
			ck_assert(cfg.latency.distinct_prompts);
			ck_assert_ptr_nonnull(cfg.models[0].variants[0].scheme);
		} else if (i == 2) {
			ck_assert_str_eq(cfg.targets[0].ops->name, "exec");
			ck_assert_ptr_nonnull(json_object_get(cfg.targets[0].options, "parsers"));
		} else {
			ck_assert_str_eq(cfg.targets[0].ops->name, "openai");
			ck_assert_uint_eq(cfg.models[0].n_variants, 3);
		}
		free(errors);
		eb_config_release(&cfg);
	}
}
END_TEST

/* Every registered adapter passes eb_adapter_check, and its defaults fit its own table. */
START_TEST(every_adapter_passes_its_check)
{
	int n = 0;

	for (size_t i = 0; eb_adapters[i]; i++) {
		const struct eb_adapter_ops *ops = eb_adapters[i];
		struct eb_err err;

		ck_assert_msg(eb_adapter_check(ops, &err) == 0, "%s", err.msg);
		ck_assert_ptr_eq(eb_adapter_find(ops->name), ops);
		for (const struct eb_opt *o = ops->options; o->name; o++) {
			const struct eb_opt_range *r = &o->range;
			int found = 0;

			if (!o->def.set)
				continue;
			switch (o->type) {
			case EB_OPT_INT:
				ck_assert_msg(!r->set || (o->def.i >= r->min && o->def.i <= r->max),
					      "%s.%s", ops->name, o->name);
				break;
			case EB_OPT_NUM:
				ck_assert_msg(!r->set || (o->def.d >= r->min && o->def.d <= r->max),
					      "%s.%s", ops->name, o->name);
				break;
			case EB_OPT_BOOL:
				ck_assert_msg(o->def.i == 0 || o->def.i == 1, "%s.%s", ops->name,
					      o->name);
				break;
			case EB_OPT_STR:
			case EB_OPT_ENUM:
				ck_assert_msg(o->def.s != NULL, "%s.%s", ops->name, o->name);
				for (size_t k = 0; o->choices && o->choices[k]; k++)
					found |= strcmp(o->choices[k], o->def.s) == 0;
				ck_assert_msg(!o->choices || found, "%s.%s", ops->name, o->name);
				break;
			default:
				ck_abort_msg("%s.%s: objects and arrays have no default", ops->name,
					     o->name);
			}
		}
		n++;
	}
	ck_assert_int_ge(n, 4);
	ck_assert_ptr_nonnull(eb_adapter_find("openai"));
	ck_assert_ptr_nonnull(eb_adapter_find("ollama"));
	ck_assert_ptr_nonnull(eb_adapter_find("exec"));
}
END_TEST

/* `edgebench validate` rejects a misspelt option of each remote adapter with a suggestion. */
START_TEST(validate_suggests_adapter_options)
{
	static const struct {
		const char *dir, *want;
	} cases[] = {
		{ "config/unknown_option_openai",
		  "unknown option \"base_ur\" for adapter 'openai'; did you mean \"base_url\"?" },
		{ "config/unknown_option_ollama",
		  "unknown option \"flavor\" for adapter 'ollama'; did you mean \"flavour\"?" },
		{ "config/unknown_option_exec",
		  "unknown option \"timeout\" for adapter 'exec'; did you mean \"timeout_s\"?" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char rel[256], path[4096];
		const char *argv[] = { "edgebench", "validate", path, NULL };
		char *out = NULL;

		snprintf(rel, sizeof(rel), "%s/config.json", cases[i].dir);
		eb_test_data(rel, path, sizeof(path));
		ck_assert_int_eq(eb_test_run(argv, &out), 2);
		ck_assert_msg(strstr(out, cases[i].want), "%s", out);
		free(out);
	}
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("configs");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, every_config_in_configs_is_valid);
	tcase_add_test(tc, seed_configs_say_what_the_issue_says);
	tcase_add_test(tc, every_adapter_passes_its_check);
	tcase_add_test(tc, validate_suggests_adapter_options);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
