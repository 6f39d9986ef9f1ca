/* ctest: labels=unit timeout=60 */
/* check_cli.c: the command line: help, exit codes, and the docs kept in step with the code. */
#include "adapter.h"
#include "sensor.h"
#include "eb_util.h"
#include "eb_build.h"
#include "metric.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(help_everywhere)
{
	static const char *const cmds[] = { "run",	"validate", "list",	"report",
					    "plot",	"compare",  "merge",	"model",
					    "adapters", "sensors",  "metrics",	"datasets",
					    "bench",	"version",  NULL };
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

/*
 * A config that loads but whose cells need what is not here: validate names each missing
 * model file (the variant with "synth" is made, so not missing), dataset file, unfetched
 * dataset, exec program and CA file at its key, exit 2; run refuses the same before its
 * first cell and creates no database.
 */
START_TEST(validate_checks_what_exists)
{
	static const char *const want[] = {
		"config.json:12:36: models[0].variants[0].file: cannot read model "
		"'/nonexistent/m-q4_0.gguf': No such file or directory (no \"synth\" to make it)\n",
		"config.json:20:61: workloads.accuracy.tasks[0].file: task 'hella': cannot read "
		"dataset '",
		"config.json:21:39: workloads.accuracy.tasks[1].protocol: task 'wiki': dataset "
		"'wikitext2' is not fetched (no '",
		"config.json:6:29: targets[1].options.argv[0]: program 'no-such-vendor-app' is not "
		"on PATH\n",
		"config.json:8:69: targets[2].options.ca_file: cannot read CA file "
		"'/nonexistent/ca.pem': No such file or directory\n",
	};
	char path[4096], dir[4096], db[8192], *out = NULL;

	eb_test_data("preflight/config.json", path, sizeof(path));
	eb_test_tmpdir("cli-missing", dir, sizeof(dir));
	setenv("EB_DATASETS_DIR", dir, 1); /* empty: nothing fetched */
	{
		const char *argv[] = { "edgebench", "validate", path, NULL };

		ck_assert_int_eq(eb_test_run(argv, &out), 2);
		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			ck_assert_msg(strstr(out, want[i]), "no '%s' in:\n%s", want[i], out);
		ck_assert_msg(!strstr(out, "m-f16.gguf"), "%s", out);
		ck_assert_msg(strstr(out, "needs what is not here\n"), "%s", out);
		ck_assert_msg(!strstr(out, "valid;"), "%s", out);
		free(out);
	}
	snprintf(db, sizeof(db), "%s/never.db", dir);
	{
		const char *argv[] = { "edgebench", "run", path, "--db", db, NULL };

		ck_assert_int_eq(eb_test_run(argv, &out), 2);
		ck_assert_msg(strstr(out, want[0]) && strstr(out, "nothing was run"), "%s", out);
		free(out);
	}
	ck_assert_int_ne(access(db, F_OK), 0);
	/* --only the cells whose needs are here: valid */
	{
		const char *argv[] = { "edgebench", "validate", path, "--only", "cpu/m/f16/latency/*",
				       NULL };

		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		ck_assert_msg(strstr(out, "valid; 1 cells"), "%s", out);
		free(out);
	}
	unsetenv("EB_DATASETS_DIR");
}
END_TEST

/*
 * docs/configuration.md's key table is exactly `edgebench validate --schema`, and the page
 * names every adapter, sensor kind and option of their tables.
 */
START_TEST(config_reference_documents_every_key)
{
	char *doc = NULL, *schema = NULL, *b, *e;
	struct eb_err err;
	size_t len;
	const char *argv[] = { "edgebench", "validate", "--schema", NULL };
	const char *page = EB_SOURCE_DIR "/docs/configuration.md";

	ck_assert_msg(eb_read_file(page, 1 << 22, &doc, &len, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(eb_test_run(argv, &schema), 0);
	b = strstr(doc, "<!-- schema:begin -->\n");
	e = strstr(doc, "<!-- schema:end -->");
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(e);
	b += strlen("<!-- schema:begin -->\n");
	*e = '\0';
	ck_assert_msg(strcmp(b, schema) == 0,
		      "docs/configuration.md's key table differs from `edgebench validate --schema`; "
		      "paste it in");
	*e = '<';
	/* every adapter and every adapter option is documented */
	for (size_t i = 0; eb_adapters[i]; i++) {
		char want[256];

		snprintf(want, sizeof(want), "`%s`", eb_adapters[i]->name);
		ck_assert_msg(strstr(doc, want), "docs/configuration.md does not document adapter %s",
			      want);
		for (const struct eb_opt *o = eb_adapters[i]->options; o->name; o++) {
			snprintf(want, sizeof(want), "`%s`", o->name);
			ck_assert_msg(strstr(doc, want),
				      "docs/configuration.md does not document %s option %s",
				      eb_adapters[i]->name, want);
		}
	}
	/* every sensor kind has its own option table, with every option in that table */
	for (size_t i = 0; eb_sensors[i]; i++) {
		char want[256];
		char *table, *end;

		snprintf(want, sizeof(want), "`%s` options:\n\n", eb_sensors[i]->name);
		table = strstr(doc, want);
		ck_assert_msg(table, "docs/configuration.md has no option table for sensor %s",
			      eb_sensors[i]->name);
		table += strlen(want);
		end = strstr(table, "\n\n");
		ck_assert_ptr_nonnull(end);
		*end = '\0';
		for (const struct eb_opt *o = eb_sensors[i]->options; o->name; o++) {
			snprintf(want, sizeof(want), "| `%s` |", o->name);
			ck_assert_msg(strstr(table, want),
				      "docs/configuration.md does not document %s option `%s`",
				      eb_sensors[i]->name, o->name);
		}
		*end = '\n';
	}
	for (const struct eb_opt *o = eb_sensor_common_options; o->name; o++) {
		char want[256];

		snprintf(want, sizeof(want), "| `%s` |", o->name);
		ck_assert_msg(strstr(doc, want),
			      "docs/configuration.md does not document sensor option `%s`", o->name);
	}
	free(doc);
	free(schema);
}
END_TEST

/* docs/metrics.md's reference is exactly `edgebench metrics --format md`, and every
 * metric has its row there. */
START_TEST(metrics_doc_generated)
{
	static const char begin[] = "<!-- metrics:begin -->\n", end[] = "<!-- metrics:end -->";
	const char *argv[] = { "edgebench", "metrics", "--format", "md", NULL };
	char *doc = NULL, *gen = NULL, *b, *e;
	struct eb_err err;
	size_t len;

	ck_assert_msg(eb_read_file(EB_SOURCE_DIR "/docs/metrics.md", 1 << 22, &doc, &len, &err) == 0,
		      "%s", err.msg);
	ck_assert_int_eq(eb_test_run(argv, &gen), 0);
	b = strstr(doc, begin);
	e = strstr(doc, end);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(e);
	b += strlen(begin);
	ck_assert(b <= e);
	*e = '\0';
	ck_assert_msg(strcmp(b, gen) == 0, "docs/metrics.md differs from `edgebench metrics "
					   "--format md`; paste it between the markers");
	for (const struct eb_metric *m = eb_metrics; m->name; m++) {
		char want[128];

		snprintf(want, sizeof(want), "| `%s`", m->name);
		ck_assert_msg(strstr(b, want), "docs/metrics.md has no row for %s", m->name);
	}
	free(doc);
	free(gen);
}
END_TEST

START_TEST(metrics_command)
{
	char *out = NULL;
	{
		const char *argv[] = { "edgebench", "metrics", NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		ck_assert_msg(strncmp(out, "Latency\n  ttft_ms ", 18) == 0, "%s", out);
		ck_assert_ptr_nonnull(strstr(out, "\n  idle_w                 W         not judged  "));
		free(out);
	}
	{
		const char *argv[] = { "edgebench", "metrics", "power_avg_w:hwmon/VDD_IN", NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		ck_assert_msg(strncmp(out, "power_avg_w: average power over the request\n"
					   "  unit:        W\n  better:      lower\n", 82) == 0,
			      "%s", out);
		free(out);
	}
	{
		const char *argv[] = { "edgebench", "metrics", "n_layers", NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 2);
		ck_assert_ptr_nonnull(strstr(out, "no metric 'n_layers'"));
		free(out);
	}
	{
		const char *argv[] = { "edgebench", "metrics", "--format", "xml", NULL };
		ck_assert_int_eq(eb_test_run(argv, &out), 2);
		ck_assert_ptr_nonnull(strstr(out, "unknown format 'xml'"));
		free(out);
	}
}
END_TEST

/* Writes `s` as roff source writes it: every '-' as "\-". */
static void eb_roff(const char *s, size_t n, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n && s[i] && o + 3 < size; i++) {
		if (s[i] == '-')
			out[o++] = '\\';
		out[o++] = s[i];
	}
	out[o] = '\0';
}

/* Whether `man` has the line `title`, alone or followed by arguments. */
static int eb_man_section(const char *man, const char *title)
{
	size_t n = strlen(title);

	for (const char *h = strstr(man, title); h; h = strstr(h + n, title))
		if ((h == man || h[-1] == '\n') && (h[n] == ' ' || h[n] == '\n'))
			return 1;
	return 0;
}

/*
 * docs/edgebench.1 has a section for every command and names every option that the
 * command's --help prints.
 */
START_TEST(man_page_documents_every_option)
{
	static const char *const cmds[][2] = {
		{ "run", NULL },	  { "validate", NULL },	      { "list", NULL },
		{ "report", NULL },	  { "plot", NULL },	      { "compare", NULL },
		{ "merge", NULL },	  { "model", "synth" },	      { "model", "shapes" },
		{ "adapters", NULL },	  { "sensors", NULL },	      { "metrics", NULL },
		{ "datasets", "list" },	  { "datasets", "fetch" },    { "datasets", "verify" },
		{ "bench", "llama-bench" }, { "bench", "llama-perplexity" },
		{ "bench", "load-client" }, { "version", NULL },
	};
	char *man = NULL;
	struct eb_err err;
	size_t len;

	ck_assert_msg(eb_read_file(EB_SOURCE_DIR "/docs/edgebench.1", 1 << 22, &man, &len, &err) == 0,
		      "%s", err.msg);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *argv[] = { "edgebench", cmds[i][0], cmds[i][1], "--help", NULL };
		char title[256], want[256];
		char *out = NULL;

		if (!cmds[i][1]) {
			argv[2] = "--help";
			argv[3] = NULL;
		}
		snprintf(want, sizeof(want), ".SS edgebench %s%s%s", cmds[i][0],
			 cmds[i][1] ? " " : "", cmds[i][1] ? cmds[i][1] : "");
		eb_roff(want, strlen(want), title, sizeof(title));
		ck_assert_msg(eb_man_section(man, title), "docs/edgebench.1 has no section '%s'",
			      title);
		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		for (const char *p = strstr(out, "--"); p; p = strstr(p, "--")) {
			size_t n = 2;

			while (p[n] && (strchr("abcdefghijklmnopqrstuvwxyz0123456789", p[n]) ||
					(p[n] == '-' && n > 2)))
				n++;
			if (n > 2) {
				eb_roff(p, n, want, sizeof(want));
				ck_assert_msg(strstr(man, want),
					      "docs/edgebench.1 does not document '%.*s' of '%s%s%s'",
					      (int)n, p, cmds[i][0], cmds[i][1] ? " " : "",
					      cmds[i][1] ? cmds[i][1] : "");
			}
			p += n;
		}
		free(out);
	}
	free(man);
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
	tcase_add_test(tc, validate_checks_what_exists);
	tcase_add_test(tc, config_reference_documents_every_key);
	tcase_add_test(tc, metrics_doc_generated);
	tcase_add_test(tc, metrics_command);
	tcase_add_test(tc, man_page_documents_every_option);
	tcase_add_test(tc, adapters_listed_and_checked);
	tcase_add_test(tc, version_names_every_backend);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
