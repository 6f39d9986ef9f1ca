/* ctest: labels=unit timeout=60 */
/* check_protocol.c: each protocol table entry reaches config, dispatch and the datasets. */
#include "accuracy_run.h"
#include "c4.h"
#include "config.h"
#include "fetch.h"
#include "plan.h"
#include "protocol.h"
#include "eb_build.h"
#include "eb_util.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SAMPLES EB_SOURCE_DIR "/datasets/samples"

static char eb_dir[4096];

/* --- configs -------------------------------------------------------------------------- */

/*
 * A valid value for each task key a protocol may read, small enough for the samples in
 * datasets/samples with byte tokens. A key the table gains fails here until it has one.
 */
static json_t *eb_key_value(const char *key)
{
	static const struct {
		const char *key, *json;
	} values[] = {
		{ "file", "\"" SAMPLES "/wiki.test.raw\"" },
		{ "member", "\"wikitext-2-raw/wiki.test.raw\"" },
		{ "n_ctx", "128" },
		{ "seqlen", "256" },
		{ "limit", "2" },
		{ "n_samples", "4" },
		{ "seed", "1" },
		{ "n_batch", "64" },
		{ "bos", "true" },
		{ "max_tokens", "8" },
	};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		if (strcmp(values[i].key, key) == 0)
			return json_loads(values[i].json, JSON_DECODE_ANY, NULL);
	ck_abort_msg("task key '%s' has no test value in eb_key_value", key);
	return NULL;
}

/*
 * Writes a config with one task of protocol `name`: every key the protocol reads but
 * "file" (the fetched dataset is read), plus `extra` when not NULL, and the kld
 * reference when with_ref. Returns the config's path in buf.
 */
static const char *eb_write_cfg(const struct eb_acc_protocol *p, const char *name,
				const char *extra, int with_ref, char *buf, size_t n)
{
	json_t *task = json_pack("{s:s, s:s}", "task", "t", "protocol", name);
	json_t *acc, *root;

	for (size_t k = 0; p && p->keys[k]; k++)
		if (strcmp(p->keys[k], "file") != 0)
			json_object_set_new(task, p->keys[k], eb_key_value(p->keys[k]));
	if (extra)
		json_object_set_new(task, extra, eb_key_value(extra));
	acc = json_pack("{s:[o]}", "tasks", task);
	if (with_ref)
		json_object_set_new(acc, "kld", json_pack("{s:s}", "reference", "f16"));
	root = json_pack("{s:s, s:[{s:s, s:s}], s:[{s:s, s:[{s:s, s:s}, {s:s, s:s}]}], s:{s:o}}",
			 "name", "proto", "targets", "id", "cpu", "adapter", "llamacpp", "models",
			 "id", "m", "variants", "quant", "f16", "file", "m-f16.gguf", "quant", "q8_0",
			 "file", "m-q8_0.gguf", "workloads", "accuracy", acc);
	ck_assert_ptr_nonnull(root);
	snprintf(buf, n, "%s/%s.json", eb_dir, name);
	ck_assert_int_eq(json_dump_file(root, buf, JSON_INDENT(2)), 0);
	json_decref(root);
	return buf;
}

/* Loads `path` and returns its errors ("" when valid; caller frees); releases cfg on error. */
static char *eb_load(const char *path, struct eb_config *cfg)
{
	struct eb_err err;
	char *errors = NULL;

	if (eb_config_load(cfg, path, &errors, &err) == 0)
		return eb_xstrdup("");
	eb_config_release(cfg);
	return errors;
}

/* Whether `key` is one protocol p reads. */
static int eb_reads(const struct eb_acc_protocol *p, const char *key)
{
	for (size_t k = 0; p->keys[k]; k++)
		if (strcmp(p->keys[k], key) == 0)
			return 1;
	return 0;
}

START_TEST(table_is_well_formed)
{
	size_t n = 0;

	for (const struct eb_acc_protocol *p = eb_acc_protocols; p->name; p++, n++) {
		ck_assert_msg(p->score && p->task && p->help && *p->help, "%s: incomplete entry",
			      p->name);
		ck_assert_msg(p->caps & (EB_CAP_LOGLIK | EB_CAP_TEXT),
			      "%s: scoring needs loglik or generated text", p->name);
		ck_assert_msg(eb_acc_protocol_find(p->name) == p, "%s: found elsewhere", p->name);
		for (const struct eb_acc_protocol *q = eb_acc_protocols; q < p; q++)
			ck_assert_msg(strcmp(p->name, q->name) != 0, "%s: twice", p->name);
		ck_assert_msg(eb_reads(p, "file"), "%s: a task must be able to name its file",
			      p->name);
	}
	ck_assert_uint_gt(n, 0);
	ck_assert_ptr_null(eb_acc_protocol_find("nope"));
	ck_assert_ptr_null(eb_acc_protocol_find(NULL));
}
END_TEST

/* Config validation: each name, each key it reads, no key it does not, "did you mean". */
START_TEST(every_protocol_validates)
{
	eb_test_tmpdir("proto-cfg", eb_dir, sizeof(eb_dir));
	for (const struct eb_acc_protocol *p = eb_acc_protocols; p->name; p++) {
		struct eb_config cfg;
		struct eb_plan plan;
		struct eb_err err;
		char path[8192], typo[128], want[512], *errors;

		errors = eb_load(eb_write_cfg(p, p->name, "file", p->needs_reference, path,
					      sizeof(path)),
				 &cfg);
		ck_assert_msg(!*errors, "%s: %s", p->name, errors);
		free(errors);
		ck_assert_str_eq(cfg.accuracy.tasks[0].protocol, p->name);
		ck_assert_str_eq(json_string_value(json_object_get(cfg.accuracy.tasks[0].params,
								    "protocol")),
				 p->name);
		ck_assert_int_eq(eb_plan_build(&plan, &cfg, NULL, &err), 0);
		ck_assert_uint_eq(plan.n, 2);
		eb_plan_release(&plan);
		eb_config_release(&cfg);

		/* a key another protocol reads does not apply to this one */
		for (const struct eb_acc_protocol *q = eb_acc_protocols; q->name; q++)
			for (size_t k = 0; q->keys[k]; k++) {
				if (eb_reads(p, q->keys[k]))
					continue;
				errors = eb_load(eb_write_cfg(p, p->name, q->keys[k],
							      p->needs_reference, path, sizeof(path)),
						 &cfg);
				snprintf(want, sizeof(want), "\"%s\" does not apply to protocol %s (",
					 q->keys[k], p->name);
				ck_assert_msg(strstr(errors, want), "%s: %s", want, errors);
				free(errors);
			}

		snprintf(typo, sizeof(typo), "%sx", p->name);
		errors = eb_load(eb_write_cfg(p, typo, NULL, p->needs_reference, path, sizeof(path)),
				 &cfg);
		snprintf(want, sizeof(want), "unknown protocol \"%s\"; did you mean \"%s\"?", typo,
			 p->name);
		ck_assert_msg(strstr(errors, want), "%s: %s", want, errors);
		free(errors);

		if (p->needs_reference) {
			errors = eb_load(eb_write_cfg(p, p->name, NULL, 0, path, sizeof(path)), &cfg);
			snprintf(want, sizeof(want),
				 "protocol %s needs workloads.accuracy.kld.reference", p->name);
			ck_assert_msg(strstr(errors, want), "%s: %s", want, errors);
			free(errors);
		}
	}
}
END_TEST

/* The schema's help for "protocol" and the unknown-protocol error name every protocol. */
START_TEST(every_protocol_in_help_and_errors)
{
	struct eb_config cfg;
	char path[8192], *schema = NULL, *errors, *row;
	size_t len = 0;
	FILE *f = open_memstream(&schema, &len);

	eb_test_tmpdir("proto-help", eb_dir, sizeof(eb_dir));
	ck_assert_ptr_nonnull(f);
	eb_config_print_schema(f);
	fclose(f);
	row = strstr(schema, "| `workloads.accuracy.tasks[].protocol` |");
	ck_assert_ptr_nonnull(row);
	*strchr(row, '\n') = '\0';
	errors = eb_load(eb_write_cfg(NULL, "zzzzzzzzzzzzzzzz", NULL, 0, path, sizeof(path)), &cfg);
	ck_assert_msg(strstr(errors, "unknown protocol \"zzzzzzzzzzzzzzzz\" ("), "%s", errors);
	for (const struct eb_acc_protocol *p = eb_acc_protocols; p->name; p++) {
		ck_assert_msg(strstr(row, p->name), "schema lacks %s: %s", p->name, row);
		ck_assert_msg(strstr(errors, p->name), "error lacks %s: %s", p->name, errors);
	}
	free(errors);
	free(schema);
}
END_TEST

/* --- dispatch and datasets --------------------------------------------------------------- */

/* The sample in datasets/samples standing in for each catalog dataset. */
static const char *eb_sample(const char *dataset)
{
	if (strcmp(dataset, "hellaswag") == 0)
		return SAMPLES "/hellaswag_sample.jsonl";
	if (strcmp(dataset, "wikitext2") == 0)
		return SAMPLES "/wikitext-2-raw-v1.zip";
	if (strcmp(dataset, "c4") == 0)
		return SAMPLES "/" EB_C4_SHARD;
	if (strcmp(dataset, "arc") == 0)
		return SAMPLES "/ARC-V1-Feb2018.zip";
	if (strcmp(dataset, "piqa") == 0)
		return SAMPLES "/physicaliqa-train-dev.zip";
	if (strcmp(dataset, "winogrande") == 0)
		return SAMPLES "/winogrande_1.1.zip";
	if (strcmp(dataset, "mmlu") == 0)
		return SAMPLES "/data.tar";
	if (strcmp(dataset, "gsm8k") == 0)
		return SAMPLES "/gsm8k_sample.jsonl";
	ck_abort_msg("dataset '%s' has no sample in eb_sample", dataset);
	return NULL;
}

/* Runs task t as variant `quant` with the fetched datasets; res is the caller's to release. */
static int eb_run_task(const struct eb_cfg_acc_task *t, const struct eb_adapter_ops *ops,
		       const char *quant, struct eb_acc_result *res, struct eb_err *err)
{
	json_t *backend = json_pack("{s:i, s:i, s:b, s:i}", "bos_token", 1, "eos_token", 2,
				    "add_bos", 1, "n_vocab", EB_TEST_FAKE_VOCAB);
	char kdir[8192];
	struct eb_acc_env env = {
		.target_id = "cpu", .model_id = "m", .quant = quant, .backend = backend,
		.kld_dir = kdir, .kld_reference = "f16", .threads = 2,
	};
	int ret;

	snprintf(kdir, sizeof(kdir), "%s/kld", eb_dir);
	ret = eb_acc_run(t, ops, NULL, &env, res, err);
	json_decref(backend);
	return ret;
}

/*
 * Every protocol reads the catalog dataset the table names (from EB_DATASETS_DIR, where
 * `edgebench datasets fetch` puts it) and its scorer produces figures; one that needs a
 * reference runs as the reference variant first, then as another variant.
 */
START_TEST(every_protocol_dispatches_on_its_dataset)
{
	char ddir[8192];

	eb_test_tmpdir("proto-run", eb_dir, sizeof(eb_dir));
	snprintf(ddir, sizeof(ddir), "%s/datasets", eb_dir);
	ck_assert_int_eq(mkdir(ddir, 0755), 0);
	for (const struct eb_dataset *d = eb_dataset_catalog; d->name; d++) {
		char link[8192];

		snprintf(link, sizeof(link), "%s/%s", ddir, d->file);
		ck_assert_int_eq(symlink(eb_sample(d->name), link), 0);
	}
	setenv("EB_DATASETS_DIR", ddir, 1);
	for (const struct eb_acc_protocol *p = eb_acc_protocols; p->name; p++) {
		const struct eb_dataset *d = eb_dataset_find(p->dataset);
		const char *quants[2] = { "q8_0", NULL };
		struct eb_config cfg;
		struct eb_acc_result res;
		struct eb_err err;
		char path[8192], want[8192], *errors;

		/* one that reads no catalog dataset is refused without a file, up front */
		if (!p->dataset) {
			errors = eb_load(eb_write_cfg(p, p->name, NULL, 0, path, sizeof(path)), &cfg);
			snprintf(want, sizeof(want),
				 "protocol %s reads no catalog dataset: set \"file\"", p->name);
			ck_assert_msg(strstr(errors, want), "%s: %s", p->name, errors);
			free(errors);
			continue;
		}
		ck_assert_msg(d, "%s: dataset '%s' is not in the catalog", p->name, p->dataset);
		errors = eb_load(eb_write_cfg(p, p->name, NULL, p->needs_reference, path,
					      sizeof(path)),
				 &cfg);
		ck_assert_msg(!*errors, "%s: %s", p->name, errors);
		free(errors);
		ck_assert_ptr_null(cfg.accuracy.tasks[0].file);
		if (p->needs_reference) {
			quants[0] = "f16";
			quants[1] = "q8_0";
		}
		for (int i = 0; i < 2 && quants[i]; i++) {
			int rc = eb_run_task(&cfg.accuracy.tasks[0], &eb_test_fake_logits_ops, quants[i], &res,
					     &err);

			ck_assert_msg(rc == 0, "%s as %s: %s", p->name, quants[i], err.msg);
			snprintf(want, sizeof(want), "%s/%s", ddir, d->file);
			ck_assert_str_eq(json_string_value(json_object_get(res.params, "dataset")),
					 want);
			ck_assert_str_eq(json_string_value(json_object_get(res.params, "protocol")),
					 p->name);
			ck_assert_msg(res.n > 0 && isfinite(res.m[0].value), "%s as %s: no figure",
				      p->name, quants[i]);
			eb_acc_result_release(&res);
		}

		/* what the protocol needs is checked before its dataset is read */
		if (p->caps & EB_CAP_LOGITS) {
			ck_assert_int_eq(eb_run_task(&cfg.accuracy.tasks[0], &eb_test_fake_ops,
						     "q8_0", &res, &err),
					 EB_EUNSUPPORTED);
			ck_assert(res.unsupported);
			snprintf(want, sizeof(want),
				 "protocol %s needs full logits, which adapter 'fake' does not "
				 "return",
				 p->name);
			ck_assert_str_eq(err.msg, want);
			eb_acc_result_release(&res);
		}
		eb_config_release(&cfg);
	}
	unsetenv("EB_DATASETS_DIR");
}
END_TEST

/* `edgebench datasets list` names each protocol under the dataset it reads. */
START_TEST(every_protocol_listed_under_its_dataset)
{
	const char *argv[] = { "edgebench", "datasets", "list", "--dir", NULL, NULL };
	char *out = NULL;

	eb_test_tmpdir("proto-list", eb_dir, sizeof(eb_dir));
	argv[4] = eb_dir;
	ck_assert_int_eq(eb_test_run(argv, &out), 0);
	for (const struct eb_acc_protocol *p = eb_acc_protocols; p->name; p++) {
		char head[256], list[1024], name[256];
		const char *b, *line, *end;

		if (!p->dataset) /* read from the task's file only */
			continue;
		snprintf(head, sizeof(head), "\n%s: ", p->dataset);
		b = strstr(out, head);
		ck_assert_msg(b, "%s: no dataset %s in: %s", p->name, p->dataset, out);
		line = strstr(b, "\n  protocols: ");
		ck_assert_ptr_nonnull(line);
		line += strlen("\n  protocols: ");
		end = strchr(line, '\n');
		ck_assert_ptr_nonnull(end);
		snprintf(list, sizeof(list), ", %.*s, ", (int)(end - line), line);
		snprintf(name, sizeof(name), ", %s, ", p->name);
		ck_assert_msg(strstr(list, name), "%s not listed under %s: %s", p->name, p->dataset,
			      list);
	}
	free(out);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("protocol");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, table_is_well_formed);
	tcase_add_test(tc, every_protocol_validates);
	tcase_add_test(tc, every_protocol_in_help_and_errors);
	tcase_add_test(tc, every_protocol_dispatches_on_its_dataset);
	tcase_add_test(tc, every_protocol_listed_under_its_dataset);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
