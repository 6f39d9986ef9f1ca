/* cmd_run.c: `edgebench run | validate | list | report | adapters`. */
#include "cli.h"
#include "config.h"
#include "dbpath.h"
#include "eb_util.h"
#include "plan.h"
#include "preflight.h"
#include "run.h"
#include "store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EB_DEFAULT_DB "edgebench.db"

static int eb_load(const char *cmd, const char *path, struct eb_config *cfg)
{
	struct eb_err err;
	char *errors = NULL;

	if (eb_config_load(cfg, path, &errors, &err) != 0) {
		fprintf(stderr, "%s", errors ? errors : err.msg);
		if (errors && errors[0] && errors[strlen(errors) - 1] != '\n')
			fputc('\n', stderr);
		fprintf(stderr, "edgebench %s: '%s' is not a valid config\n", cmd, path);
		free(errors);
		eb_config_release(cfg);
		return -1;
	}
	return 0;
}

/*
 * What the plan's cells need on this machine (harness/preflight.h); problems printed one
 * per line, each at its key. Returns 0, or -1 when something is missing.
 */
static int eb_check_exists(const char *cmd, const struct eb_config *cfg,
			   const struct eb_plan *plan)
{
	struct eb_err err;
	char *errors = NULL;

	if (eb_preflight(cfg, plan, &errors, &err) == 0)
		return 0;
	fprintf(stderr, "%s", errors ? errors : err.msg);
	if (!errors || !errors[0] || errors[strlen(errors) - 1] != '\n')
		fputc('\n', stderr);
	fprintf(stderr, "edgebench %s: '%s' needs what is not here%s\n", cmd, cfg->path,
		strcmp(cmd, "run") == 0 ? "; nothing was run" : "");
	free(errors);
	return -1;
}

/* The sensors latency cells sample, and how (validate's last lines). */
static void eb_print_power(FILE *f, const struct eb_config *cfg)
{
	const struct eb_power_opts *po = &cfg->power.opts;
	const json_t *it;
	size_t i;

	if (!po->sensors) {
		fprintf(f, "sensors: none (no power or energy figures)\n");
		return;
	}
	fprintf(f, "sensors:");
	json_array_foreach(po->sensors, i, it) {
		const char *name = json_string_value(
			json_object_get(json_object_get(it, "options"), "name"));
		const char *kind = json_string_value(json_object_get(it, "kind"));

		fprintf(f, "%s %s", i ? "," : "", kind);
		if (name && strcmp(name, kind) != 0)
			fprintf(f, " (%s)", name);
	}
	fprintf(f, "; every %u ms, idle baseline %g s", po->interval_ms, po->idle_s);
	if (po->cooldown_s > 0)
		fprintf(f, ", cool-down %g s", po->cooldown_s);
	if (po->cooldown_zone)
		fprintf(f, ", then until %s < %g C (at most %g s)", po->cooldown_zone,
			po->cooldown_below_c, po->cooldown_timeout_s);
	fprintf(f, "%s\n", cfg->power.store_samples ? "" : "; raw samples not stored");
}

static void eb_print_cells(FILE *f, const struct eb_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++) {
		const struct eb_cell *c = &plan->cells[i];
		const char *src = c->variant->file ? c->variant->file : c->variant->model_name;

		fprintf(f, "%4zu  %-48s  %-10s  %s%s\n", i + 1, c->key, c->target->ops->name, src,
			c->variant->synth ? " (synthesized if missing)" : "");
	}
}

static const char eb_run_usage[] =
	"usage: edgebench run CONFIG [--db PATH] [--only PATTERN] [--dry-run] [--resume]\n"
	"                     [--force-unlock] [--quiet]\n"
	"\n"
	"Runs every cell of CONFIG (targets x models x variants x prompt lengths, and\n"
	"accuracy tasks) and stores every request, token time, summary and accuracy\n"
	"figure in SQLite. First it checks, as validate does, that the model files,\n"
	"datasets, exec programs and CA files its cells need are here. As each cell\n"
	"finishes its warnings are printed; into a log (stderr not a terminal) one line\n"
	"per cell: key, status, headline figures and warnings count.\n"
	"\n"
	"  --db PATH        database file (default: the config's \"db\", else " EB_DEFAULT_DB ")\n"
	"  --only PATTERN   run only cells whose key matches this fnmatch pattern,\n"
	"                   e.g. 'cpu/*/q4_0/*' (keys: target/model/quant/latency/pN-gM,\n"
	"                   target/model/quant/accuracy/TASK)\n"
	"  --dry-run        print the cells and exit\n"
	"  --resume         finish the latest interrupted run of this same config in the\n"
	"                   database: finished cells (ok or failed) are not run again;\n"
	"                   refused while another process runs it (its pid and host named)\n"
	"  --force-unlock   with --resume: take over a run locked by a process of another\n"
	"                   host (one of this host is checked, and a dead one's lock taken)\n"
	"  --quiet          no progress, per-cell lines or warnings on stderr\n"
	"\n"
	"exit codes: 0 every cell ok; 1 a cell failed (stored with its error); 2 usage,\n"
	"config or database error (nothing run; or the database could not be left one\n"
	"file: the message says where the results are); 3 interrupted by SIGINT, SIGTERM\n"
	"or SIGHUP (finished cells stored; run --resume completes it)\n";

int eb_cmd_run(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 'd' },  { "only", required_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },   { "resume", no_argument, NULL, 'r' },
		{ "quiet", no_argument, NULL, 'q' },     { "help", no_argument, NULL, 'h' },
		{ "force-unlock", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	struct eb_run_opts o = { 0 };
	struct eb_run_result res = { 0 };
	struct eb_config cfg;
	struct eb_plan plan;
	struct eb_err err;
	const char *only = NULL, *db = NULL;
	int dry = 0, c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:o:nrqh", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'o':
			only = optarg;
			break;
		case 'n':
			dry = 1;
			break;
		case 'r':
			o.resume = 1;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'F':
			o.force_unlock = 1;
			break;
		case 'h':
			fputs(eb_run_usage, stdout);
			return EB_EXIT_OK;
		default:
			fputs(eb_run_usage, stderr);
			return EB_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(eb_run_usage, stderr);
		return EB_EXIT_USAGE;
	}
	if (o.force_unlock && !o.resume) {
		fprintf(stderr, "edgebench run: --force-unlock goes with --resume\n");
		return EB_EXIT_USAGE;
	}
	if (eb_load("run", argv[optind], &cfg))
		return EB_EXIT_USAGE;
	if (eb_plan_build(&plan, &cfg, only, &err) != 0) {
		fprintf(stderr, "edgebench run: %s\n", err.msg);
		eb_config_release(&cfg);
		return EB_EXIT_USAGE;
	}
	if (dry) {
		eb_print_cells(stdout, &plan);
		eb_plan_release(&plan);
		eb_config_release(&cfg);
		return EB_EXIT_OK;
	}
	/* a missing model found now, not when its cell comes up hours into the run */
	if (eb_check_exists("run", &cfg, &plan)) {
		eb_plan_release(&plan);
		eb_config_release(&cfg);
		return EB_EXIT_USAGE;
	}
	o.db_path = db ? db : cfg.db ? cfg.db : EB_DEFAULT_DB;
	o.progress = !o.quiet && isatty(2);
	for (size_t i = 0; i < cfg.n_targets && !o.quiet; i++)
		if (json_is_true(json_object_get(cfg.targets[i].options, "insecure")))
			fprintf(stderr, "edgebench run: warning: target '%s' does not verify TLS "
					"certificates (insecure: true); its cells record tls_verify: "
					"false\n", cfg.targets[i].id);
	rc = eb_db_check_writable(o.db_path, &err);
	if (!rc)
		rc = eb_run(&cfg, &plan, &o, &res, &err);
	if (rc) {
		fprintf(stderr, "edgebench run: %s\n", err.msg);
		/* the database failed mid-run (a full disk): what is stored stays, resumable */
		if (res.run_id > 0 && !res.checkpoint_failed)
			fprintf(stderr,
				"edgebench run: run %lld stopped; every cell finished before this "
				"error is stored (%zu in this session); once the database can be "
				"written again, finish the run with: edgebench run %s --resume --db %s\n",
				(long long)res.run_id, res.n_ok + res.n_failed + res.n_skipped,
				argv[optind], o.db_path);
		eb_plan_release(&plan);
		eb_config_release(&cfg);
		return EB_EXIT_USAGE;
	}
	if (!o.quiet)
		fprintf(stderr,
			"edgebench: run %lld (%s): %zu cells: %zu ok, %zu failed, %zu skipped, "
			"%zu warnings%s%s; database %s\n",
			(long long)res.run_id, res.uuid, plan.n, res.n_ok, res.n_failed, res.n_skipped,
			res.n_warnings, res.n_resumed ? ", finished before resume: " : "",
			res.n_resumed ? "yes" : "", o.db_path);
	if (res.interrupted && !o.quiet)
		fprintf(stderr, "edgebench: interrupted; finish with: edgebench run %s --resume%s%s\n",
			argv[optind], db ? " --db " : "", db ? db : "");
	eb_plan_release(&plan);
	eb_config_release(&cfg);
	if (res.interrupted)
		return EB_EXIT_INTR;
	return res.n_failed ? EB_EXIT_CELL_FAIL : EB_EXIT_OK;
}

static const char eb_validate_usage[] =
	"usage: edgebench validate CONFIG [--only PATTERN]\n"
	"       edgebench validate --schema\n"
	"\n"
	"Checks CONFIG, and that what its cells need exists here (model files unless\n"
	"\"synth\" makes them, dataset files and fetched datasets, exec programs on\n"
	"PATH, readable CA files), and prints the cells it expands to, or every error as\n"
	"file:line:column: key.path: message. --schema prints every config key (markdown).\n"
	"exit codes: 0 valid; 2 invalid\n";

int eb_cmd_validate(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "only", required_argument, NULL, 'o' },
		{ "schema", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct eb_config cfg;
	struct eb_plan plan;
	struct eb_err err;
	const char *only = NULL;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:sh", lo, NULL)) != -1) {
		switch (c) {
		case 'o':
			only = optarg;
			break;
		case 's':
			eb_config_print_schema(stdout);
			return EB_EXIT_OK;
		case 'h':
			fputs(eb_validate_usage, stdout);
			return EB_EXIT_OK;
		default:
			fputs(eb_validate_usage, stderr);
			return EB_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(eb_validate_usage, stderr);
		return EB_EXIT_USAGE;
	}
	if (eb_load("validate", argv[optind], &cfg))
		return EB_EXIT_USAGE;
	if (eb_plan_build(&plan, &cfg, only, &err) != 0) {
		fprintf(stderr, "edgebench validate: %s\n", err.msg);
		eb_config_release(&cfg);
		return EB_EXIT_USAGE;
	}
	if (eb_check_exists("validate", &cfg, &plan)) {
		eb_plan_release(&plan);
		eb_config_release(&cfg);
		return EB_EXIT_USAGE;
	}
	printf("%s: valid; %zu cells\n", argv[optind], plan.n);
	eb_print_cells(stdout, &plan);
	eb_print_power(stdout, &cfg);
	eb_plan_release(&plan);
	eb_config_release(&cfg);
	return EB_EXIT_OK;
}

static const char eb_adapters_usage[] =
	"usage: edgebench adapters [NAME]\n"
	"\n"
	"Lists every backend adapter, whether it can run here (and why not), its\n"
	"capabilities and its options with types, defaults and help.\n";

int eb_cmd_adapters(int argc, char **argv)
{
	const char *only = NULL;

	if (eb_cli_wants_help(argc, argv)) {
		fputs(eb_adapters_usage, stdout);
		return EB_EXIT_OK;
	}
	if (argc > 2) {
		fputs(eb_adapters_usage, stderr);
		return EB_EXIT_USAGE;
	}
	only = argc == 2 ? argv[1] : NULL;
	if (only && !eb_adapter_find(only)) {
		fprintf(stderr, "edgebench adapters: no adapter '%s'\n", only);
		return EB_EXIT_USAGE;
	}
	for (size_t i = 0; eb_adapters[i]; i++) {
		const struct eb_adapter_ops *a = eb_adapters[i];
		const char *why = a->unavailable_reason ? a->unavailable_reason() : NULL;
		struct eb_err err;

		if (only && strcmp(only, a->name) != 0)
			continue;
		printf("%s: %s\n  available: %s\n", a->name, a->help, why ? why : "yes");
		if (!why && a->version)
			printf("  version: %s\n", a->version());
		if (eb_adapter_check(a, &err) != 0)
			printf("  BROKEN: %s\n", err.msg);
		printf("  capabilities:%s%s%s%s%s%s\n  options:\n",
		       a->caps & EB_CAP_STREAM ? " stream" : "",
		       a->caps & EB_CAP_TOKENIZE ? " tokenize" : "",
		       a->caps & EB_CAP_PROMPT_TOKENS ? " prompt-tokens" : "",
		       a->caps & EB_CAP_SERVER_TIMINGS ? " server-timings" : "",
		       a->caps & EB_CAP_LOGLIK ? " loglik" : "",
		       a->caps & EB_CAP_LOGITS ? " logits" : "");
		for (const struct eb_opt *o = a->options; o->name; o++) {
			char def[64];
			const char *d = eb_opt_def_text(o, def, sizeof(def));

			printf("    %-16s %-7s default %-8s %s\n", o->name, eb_opt_type_word(o->type),
			       d ? d : "-", o->help);
		}
	}
	return EB_EXIT_OK;
}
