/* main.c: the edgebench command line; dispatches to one function per subcommand. */
#include "adapter.h"
#include "cli.h"
#include "eb_build.h"

#include <stdio.h>
#include <string.h>

struct eb_subcmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static int eb_cmd_version(int argc, char **argv);

static const struct eb_subcmd eb_subcmds[] = {
	{ "run", eb_cmd_run, "run a config's matrix of cells and store the results" },
	{ "validate", eb_cmd_validate, "check a config and print the cells it expands to" },
	{ "list", eb_cmd_list, "list stored runs and their cells" },
	{ "report", eb_cmd_report, "tables (table, csv, json, md, latex, html) from the database" },
	{ "plot", eb_cmd_plot, "figures through gnuplot (throughput, TTFT, power, accuracy, pareto)" },
	{ "compare", eb_cmd_compare, "regression verdict between two runs (exit 1 on a regression)" },
	{ "samples", eb_cmd_samples, "per-item accuracy records as JSON Lines (lm-eval's log_samples)" },
	{ "merge", eb_cmd_merge, "merge per-device databases into one (idempotent, by run UUID)" },
	{ "model", eb_cmd_model, "synthesize GGUF models (model synth, model shapes)" },
	{ "adapters", eb_cmd_adapters, "list backends, their options and availability" },
	{ "sensors", eb_cmd_sensors, "list power/memory sensors, why not, and live readings" },
	{ "metrics", eb_cmd_metrics, "what each stored metric means: unit, better side, definition" },
	{ "datasets", eb_cmd_datasets, "list, fetch (resumable, sha256-checked) and verify datasets" },
	{ "bench", eb_cmd_bench, "compare edgebench with a peer tool (llama-bench, llama-perplexity)" },
	{ "version", eb_cmd_version, "print version, commit and backend versions" },
	{ NULL, NULL, NULL },
};

static void eb_usage(FILE *f)
{
	fprintf(f, "usage: edgebench <command> [options]   (edgebench <command> --help)\n\n"
		   "commands:\n");
	for (const struct eb_subcmd *c = eb_subcmds; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nexit codes: 0 ok; 1 a cell failed (results stored); 2 usage, config or\n"
		   "database error (nothing run); 3 interrupted (finish with run --resume);\n"
		   "compare: 1 a regression; plot: 1 nothing to draw\n");
}

static int eb_cmd_version(int argc, char **argv)
{
	if (eb_cli_wants_help(argc, argv)) {
		printf("usage: edgebench version\n\n"
		       "prints edgebench's version and git commit, then one line per backend: the\n"
		       "version of the library built in (llama.cpp), why the backend is unavailable,\n"
		       "or that the version of its server or program is recorded with each run\n");
		return EB_EXIT_OK;
	}
	printf("edgebench %s (%s)\n", EB_VERSION, EB_GIT_COMMIT);
	for (const struct eb_adapter_ops *const *a = eb_adapters; *a; a++) {
		const char *why = (*a)->unavailable_reason ? (*a)->unavailable_reason() : NULL;

		if (why)
			printf("  %-10s unavailable: %s\n", (*a)->name, why);
		else if ((*a)->version)
			printf("  %-10s %s\n", (*a)->name, (*a)->version());
		else
			printf("  %-10s its server's or program's version, recorded with each run\n",
			       (*a)->name);
	}
	return EB_EXIT_OK;
}

int eb_cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		eb_usage(stderr);
		return EB_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		eb_usage(stdout);
		return EB_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0)
		return eb_cmd_version(1, argv + 1);
	for (const struct eb_subcmd *c = eb_subcmds; c->name; c++)
		if (strcmp(argv[1], c->name) == 0)
			return c->fn(argc - 1, argv + 1);
	fprintf(stderr, "edgebench: unknown command '%s'\n", argv[1]);
	eb_usage(stderr);
	return EB_EXIT_USAGE;
}
