/* cmd_report.c: `edgebench list | report` — read the database only. */
#include "rdata.h"
#include "report.h"
#include "cli.h"
#include "dbpath.h"
#include "eb_util.h"
#include "store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EB_DEFAULT_DB "edgebench.db"

static const char eb_list_usage[] =
	"usage: edgebench list [--db PATH]\n"
	"\n"
	"Lists the runs in the database (id, uuid, name, times, status, cell counts: ok,\n"
	"failed, skipped and, for an unfinished run, pending; warnings and in how many\n"
	"cells) and each run's cells with status, duration, warnings count and error, each\n"
	"warning on a line of its own.\n";

static const char eb_report_usage[] =
	"usage: edgebench report [--db PATH] [--run ID|latest|latest~N|all]\n"
	"                        [--format table|csv|json|md|latex|html]\n"
	"                        [--layout cells|long|wide|card|speedup|repeats|load]\n"
	"                        [--stat median|mean]\n"
	"                        [--device PAT] [--target PAT] [--model PAT] [--quant PAT]\n"
	"                        [--metric PAT] [--metrics a,b,c] [--baseline QUANT] [--wide]\n"
	"                        [--no-plots] [--output FILE]\n"
	"\n"
	"Tables from the database alone. Layouts:\n"
	"  cells    one row per inference cell (default): run, device, target, model, quant,\n"
	"           prompt_tokens, gen_tokens, status, ttft_ms, prefill_tps, decode_tps,\n"
	"           e2e_ms, peak_rss_mb, warnings (csv and json: and key; --wide adds key,\n"
	"           error and, in csv and json, warning_text); then, when the selection has\n"
	"           accuracy cells, the accuracy table (task, protocol, metric, value,\n"
	"           stderr, n scored, limit) and, in the human formats, the warnings\n"
	"  long     one row per cell and metric with every stored summary field, accuracy\n"
	"           figures included\n"
	"  wide     one row per cell, a column per --metrics name (default: the cells\n"
	"           layout's five, or every metric matching --metric), plus its p90\n"
	"           (median) or 95% interval (mean)\n"
	"  card     per run, device and model: metric rows x variants, full precision first\n"
	"           (TTFT per prompt length, decode and prefill rates, KV cache, memory of\n"
	"           the inference cells, quantization schemes, accuracy, average power)\n"
	"  speedup  per run, device, model and prompt length: --baseline variant vs each\n"
	"           other variant, speedup = decode rate / baseline decode rate, TTFT ratio\n"
	"  repeats  per cell run several times (config `repeat`) and metric: the mean of\n"
	"           its repeats' medians (or means), its 95% interval, stddev, CV, min, max\n"
	"  load     per target, model and variant: one row per load cell's concurrency or\n"
	"           rate (point, requests, status, output tok/s, req/s, p90 TTFT, p90 TPOT,\n"
	"           goodput, achieved concurrency, failed requests)\n"
	"--stat median (default) or mean: which summary stands for a metric.\n"
	"--device, --target, --model, --quant, --metric: fnmatch patterns, repeatable or\n"
	"comma-separated. --metric picks the cells layout's figures and accuracy rows, the\n"
	"long layout's rows, the wide layout's columns (without --metrics) and the card's\n"
	"rows (ttft_ms, decode_tps, prefill_tps, kv_bytes, peak_rss_mb, model_bytes, scheme,\n"
	"accuracy, power, or an accuracy metric); a pattern that matches nothing is an error.\n"
	"Figures: 4 significant digits, integers from 1000 up (csv and json: full precision,\n"
	"the shortest text that reads back as the same number).\n"
	"html is one self-contained page; it embeds SVG figures drawn by gnuplot unless\n"
	"--no-plots. --output writes FILE (atomically) instead of standard output.\n"
	"Default run: each device's latest run (as plot), among the cells that pass\n"
	"--device, --target, --model and --quant; --run all for every run.\n";

int eb_cmd_list(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = EB_DEFAULT_DB;
	struct eb_store *s;
	struct eb_err err;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:h", lo, NULL)) != -1) {
		if (c == 'd') {
			db = optarg;
		} else if (c == 'h') {
			fputs(eb_list_usage, stdout);
			return EB_EXIT_OK;
		} else {
			fputs(eb_list_usage, stderr);
			return EB_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(eb_list_usage, stderr);
		return EB_EXIT_USAGE;
	}
	if (eb_cli_open_db("list", db, &s))
		return EB_EXIT_USAGE;
	ret = eb_report_list(s, stdout, &err);
	if (ret)
		fprintf(stderr, "edgebench list: %s\n", err.msg);
	eb_store_close(s);
	return ret ? EB_EXIT_USAGE : EB_EXIT_OK;
}

static int eb_parse_format(const char *s, enum eb_report_format *fmt)
{
	static const char *const names[] = { "table", "csv", "json", "md", "latex", "html" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*fmt = (enum eb_report_format)i;
			return 0;
		}
	return -1;
}

static int eb_parse_layout(const char *s, enum eb_report_layout *layout)
{
	static const char *const names[] = { "cells", "long", "wide", "card", "speedup",
					     "repeats", "load" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*layout = (enum eb_report_layout)i;
			return 0;
		}
	return -1;
}

int eb_cmd_report(int argc, char **argv)
{
	enum { O_LAYOUT = 256, O_STAT, O_TARGET, O_MODEL, O_QUANT, O_METRIC, O_METRICS, O_BASE,
	       O_NOPLOTS, O_DEVICE };
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "run", required_argument, NULL, 'r' },
		{ "format", required_argument, NULL, 'f' },
		{ "layout", required_argument, NULL, O_LAYOUT },
		{ "stat", required_argument, NULL, O_STAT },
		{ "device", required_argument, NULL, O_DEVICE },
		{ "target", required_argument, NULL, O_TARGET },
		{ "model", required_argument, NULL, O_MODEL },
		{ "quant", required_argument, NULL, O_QUANT },
		{ "metric", required_argument, NULL, O_METRIC },
		{ "metrics", required_argument, NULL, O_METRICS },
		{ "baseline", required_argument, NULL, O_BASE },
		{ "wide", no_argument, NULL, 'w' },
		{ "no-plots", no_argument, NULL, O_NOPLOTS },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct eb_report_opts o = { .fmt = EB_REPORT_TABLE, .layout = EB_LAYOUT_CELLS,
				    .stat = EB_STAT_MEDIAN, .plots = 1 };
	struct eb_strlist targets = { 0 }, models = { 0 }, quants = { 0 }, mpats = { 0 },
			  metrics = { 0 }, devices = { 0 };
	const char *db = EB_DEFAULT_DB, *run = NULL, *output = NULL;
	struct eb_store *s = NULL;
	struct eb_err err;
	char *text = NULL;
	size_t len = 0;
	FILE *out = stdout;
	int c, ret = EB_EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+d:r:f:o:wh", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'r':
			run = optarg;
			break;
		case 'f':
			if (eb_parse_format(optarg, &o.fmt)) {
				fprintf(stderr, "edgebench report: unknown format '%s' (table, csv, "
						"json, md, latex, html)\n",
					optarg);
				goto out;
			}
			break;
		case O_LAYOUT:
			if (eb_parse_layout(optarg, &o.layout)) {
				fprintf(stderr, "edgebench report: unknown layout '%s' (cells, long, "
						"wide, card, speedup, repeats, load)\n",
					optarg);
				goto out;
			}
			break;
		case O_STAT:
			if (eb_cli_parse_stat("report", optarg, &o.stat))
				goto out;
			break;
		case O_DEVICE:
			eb_strlist_add_split(&devices, optarg);
			break;
		case O_TARGET:
			eb_strlist_add_split(&targets, optarg);
			break;
		case O_MODEL:
			eb_strlist_add_split(&models, optarg);
			break;
		case O_QUANT:
			eb_strlist_add_split(&quants, optarg);
			break;
		case O_METRIC:
			eb_strlist_add_split(&mpats, optarg);
			break;
		case O_METRICS:
			eb_strlist_add_split(&metrics, optarg);
			break;
		case O_BASE:
			o.baseline = optarg;
			break;
		case 'w':
			o.wide = 1;
			break;
		case O_NOPLOTS:
			o.plots = 0;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			fputs(eb_report_usage, stdout);
			ret = EB_EXIT_OK;
			goto out;
		default:
			fputs(eb_report_usage, stderr);
			goto out;
		}
	}
	if (optind != argc) {
		fputs(eb_report_usage, stderr);
		goto out;
	}
	if (o.layout == EB_LAYOUT_SPEEDUP && !o.baseline) {
		fprintf(stderr, "edgebench report: --layout speedup needs --baseline QUANT\n");
		goto out;
	}
	if (metrics.n && o.layout != EB_LAYOUT_WIDE) {
		fprintf(stderr, "edgebench report: --metrics goes with --layout wide "
				"(use --metric PAT to filter the others)\n");
		goto out;
	}
	if (output && eb_db_check_output(output, &db, 1, &err) != 0) {
		fprintf(stderr, "edgebench report: --output %s\n", err.msg);
		goto out;
	}
	if (eb_cli_open_db("report", db, &s))
		goto out;
	o.sel.targets = (const char *const *)targets.v;
	o.sel.models = (const char *const *)models.v;
	o.sel.quants = (const char *const *)quants.v;
	o.sel.devices = (const char *const *)devices.v;
	/* no --run: each device's latest run (as plot) */
	o.sel.latest_per_device = !run;
	if (run && eb_cli_resolve_run("report", s, run, &o.sel.run_id))
		goto out;
	o.metric_pats = (const char *const *)mpats.v;
	o.metrics = (const char *const *)metrics.v;
	o.log = stderr;
	if (output && !(out = open_memstream(&text, &len))) {
		fprintf(stderr, "edgebench report: out of memory\n");
		goto out;
	}
	if (eb_report(s, &o, out, &err) != 0) {
		fprintf(stderr, "edgebench report: %s\n", err.msg);
		goto out;
	}
	if (output) {
		fclose(out);
		out = stdout;
		if (eb_write_file(output, text, len, &err) != 0) {
			fprintf(stderr, "edgebench report: %s\n", err.msg);
			goto out;
		}
	}
	ret = EB_EXIT_OK;
out:
	if (out != stdout)
		fclose(out);
	free(text);
	eb_store_close(s);
	eb_strlist_release(&targets);
	eb_strlist_release(&models);
	eb_strlist_release(&quants);
	eb_strlist_release(&mpats);
	eb_strlist_release(&metrics);
	eb_strlist_release(&devices);
	return ret;
}
