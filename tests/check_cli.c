/* ctest: labels=unit timeout=60 */
/* check_cli.c: the command line: help, exit codes, and README kept in step with the code. */
#include "adapter.h"
#include "eb_util.h"
#include "eb_build.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(help_everywhere)
{
	static const char *const cmds[] = { "run",	"validate", "list",	"report",
					    "plot",	"compare",  "merge",	"model",
					    "adapters", "sensors",  "datasets", "bench",
					    "version",	NULL };
	char *out = NULL;

	for (size_t i = 0; cmds[i]; i++) {
		const char *argv[] = { "edgebench", cmds[i], "--help", NULL };

		ck_assert_msg(eb_test_run(argv, &out) == 0, "%s --help failed", cmds[i]);
		ck_assert_msg(strstr(out, "usage: edgebench") || strstr(out, "edgebench "),
			      "%s --help: %s", cmds[i], out);
		/* usage texts are printed as they are, not through printf */
		ck_assert_msg(!strstr(out, "%%"), "%s --help prints '%%%%': %s", cmds[i], out);
		free(out);
	}
	{
		const char *argv[] = { "edgebench", "--help", NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		for (size_t i = 0; cmds[i]; i++)
			ck_assert_msg(strstr(out, cmds[i]), "top-level help lacks %s", cmds[i]);
		ck_assert_ptr_nonnull(strstr(out, "exit codes"));
		free(out);
	}
}
END_TEST

START_TEST(usage_errors_exit_2)
{
	char *out = NULL;
	{
		const char *argv[] = { "edgebench", NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 2);
		free(out);
	}
	{
		const char *argv[] = { "edgebench", "frobnicate", NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 2);
		ck_assert_ptr_nonnull(strstr(out, "unknown command 'frobnicate'"));
		free(out);
	}
	{
		const char *argv[] = { "edgebench", "run", NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 2);
		free(out);
	}
	{
		const char *argv[] = { "edgebench", "run", "/nonexistent.json", NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 2);
		ck_assert_ptr_nonnull(strstr(out, "cannot open '/nonexistent.json'"));
		free(out);
	}
	{
		const char *argv[] = { "edgebench", "report", "--db", "/nonexistent.db", NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 2);
		ck_assert_ptr_nonnull(strstr(out, "no database '/nonexistent.db'"));
		free(out);
	}
	{
		const char *argv[] = { "edgebench", "report", "--format", "xml", NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 2);
		ck_assert_ptr_nonnull(strstr(out, "unknown format 'xml'"));
		free(out);
	}
	{
		const char *argv[] = { "edgebench", "bench", "llama-bench", "--model", "x",
				       "--threads", "two", NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 2);
		ck_assert_ptr_nonnull(strstr(out, "'two' is not a number"));
		free(out);
	}
}
END_TEST

START_TEST(validate_and_dry_run)
{
	char path[4096], dir[4096], db[8192], *out = NULL;

	eb_test_data("config/good_minimal/config.json", path, sizeof(path));
	{
		const char *argv[] = { "edgebench", "validate", path, NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		ck_assert_ptr_nonnull(strstr(out, "valid; 4 cells"));
		ck_assert_ptr_nonnull(strstr(out, "cpu/m/q4_0/latency/p16-g8"));
		ck_assert_ptr_nonnull(strstr(out, "\nsensors: none (no power or energy figures)\n"));
		free(out);
	}
	eb_test_data("config/sensors_ok/config.json", path, sizeof(path));
	{
		const char *argv[] = { "edgebench", "validate", path, NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		ck_assert_msg(strstr(out, "\nsensors: hwmon, cmd; every 20 ms, idle baseline 2 s, then "
					  "until cpu-thermal < 50 C (at most 600 s); raw samples not "
					  "stored\n") != NULL,
			      "%s", out);
		free(out);
	}
	eb_test_data("config/good_minimal/config.json", path, sizeof(path));
	eb_test_tmpdir("cli", dir, sizeof(dir));
	snprintf(db, sizeof(db), "%s/never.db", dir);
	{
		const char *argv[] = { "edgebench", "run", path, "--dry-run", "--db", db,
				       "--only", "*/f16/*", NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		ck_assert_ptr_nonnull(strstr(out, "cpu/m/f16/latency/p32-g8"));
		ck_assert_ptr_null(strstr(out, "q4_0"));
		free(out);
	}
	ck_assert_int_ne(access(db, F_OK), 0); /* a dry run touches no database */
	eb_test_data("config/unknown_key_suggest/config.json", path, sizeof(path));
	{
		const char *argv[] = { "edgebench", "validate", path, NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 2);
		ck_assert_ptr_nonnull(strstr(out, "did you mean \"repetitions\"?"));
		free(out);
	}
}
END_TEST

/* README's config table is exactly `edgebench validate --schema`. */
START_TEST(readme_documents_every_key)
{
	char *readme = NULL, *schema = NULL, *b, *e;
	struct eb_err err;
	size_t len;
	const char *argv[] = { "edgebench", "validate", "--schema", NULL };

	ck_assert_msg(eb_read_file(EB_SOURCE_DIR "/README.md", 1 << 22, &readme, &len, &err) == 0,
		      "%s", err.msg);
	ck_assert_int_eq(eb_test_run(argv, &schema), 0);
	b = strstr(readme, "<!-- schema:begin -->\n");
	e = strstr(readme, "<!-- schema:end -->");
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(e);
	b += strlen("<!-- schema:begin -->\n");
	*e = '\0';
	ck_assert_msg(strcmp(b, schema) == 0,
		      "README's schema table differs from `edgebench validate --schema`; paste it in");
	*e = '<';
	/* every adapter and every adapter option is documented */
	for (size_t i = 0; eb_adapters[i]; i++) {
		char want[256];

		snprintf(want, sizeof(want), "`%s`", eb_adapters[i]->name);
		ck_assert_msg(strstr(readme, want), "README does not document adapter %s", want);
		for (const struct eb_opt *o = eb_adapters[i]->options; o->name; o++) {
			snprintf(want, sizeof(want), "`%s`", o->name);
			ck_assert_msg(strstr(readme, want), "README does not document %s option %s",
				      eb_adapters[i]->name, want);
		}
	}
	free(readme);
	free(schema);
}
END_TEST

START_TEST(adapters_listed_and_checked)
{
	char *out = NULL;
	const char *argv[] = { "edgebench", "adapters", NULL };
	struct eb_err err;

	for (size_t i = 0; eb_adapters[i]; i++)
		ck_assert_msg(eb_adapter_check(eb_adapters[i], &err) == 0, "%s", err.msg);
	ck_assert_int_eq(eb_test_run(argv, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "llamacpp:"));
	ck_assert_ptr_null(strstr(out, "BROKEN"));
	free(out);
}
END_TEST

/* version: edgebench's version and commit, then one line per backend (its --help says so) */
START_TEST(version_names_every_backend)
{
	const char *argv[] = { "edgebench", "version", NULL };
	const char *dashed[] = { "edgebench", "--version", NULL };
	char *out = NULL, *again = NULL, line[512];
	const char *p;

	ck_assert_int_eq(eb_test_run(argv, &out), 0);
	snprintf(line, sizeof(line), "edgebench %s (%s)\n", EB_VERSION, EB_GIT_COMMIT);
	ck_assert_msg(strncmp(out, line, strlen(line)) == 0, "%s", out);
	p = out + strlen(line);
	for (size_t i = 0; eb_adapters[i]; i++) {
		const struct eb_adapter_ops *a = eb_adapters[i];
		size_t len = strcspn(p, "\n");

		snprintf(line, sizeof(line), "  %-10s ", a->name);
		ck_assert_msg(strncmp(p, line, strlen(line)) == 0, "no line for %s: %s", a->name, out);
		ck_assert_msg(len > strlen(line), "%s: nothing after the name: %s", a->name, out);
		p += len + (p[len] == '\n');
	}
	ck_assert_msg(*p == '\0', "more than one line per backend: %s", out);
#ifdef EB_HAVE_LLAMA
	ck_assert_msg(strstr(out, "\n  llamacpp   llama.cpp ") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "llamacpp   llama.cpp \n") == NULL, "empty version: %s", out);
#else
	ck_assert_msg(strstr(out, "\n  llamacpp   unavailable: edgebench was built without "
				  "llama.cpp") != NULL, "%s", out);
#endif
	ck_assert_msg(strstr(out, "\n  openai     its server's or program's version, recorded "
				  "with each run\n") != NULL, "%s", out);
	ck_assert_int_eq(eb_test_run(dashed, &again), 0);
	ck_assert_str_eq(again, out);
	free(again);
	free(out);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, help_everywhere);
	tcase_add_test(tc, usage_errors_exit_2);
	tcase_add_test(tc, validate_and_dry_run);
	tcase_add_test(tc, readme_documents_every_key);
	tcase_add_test(tc, adapters_listed_and_checked);
	tcase_add_test(tc, version_names_every_backend);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
