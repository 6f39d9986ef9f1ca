/* cmd_plot.c: `edgebench plot` — one figure from the database through gnuplot. */
#include "plot.h"
#include "cli.h"
#include "dbpath.h"
#include "eb_util.h"
#include "store.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char eb_plot_usage[] =
	"usage: edgebench plot [--db PATH] [--run ID|latest|latest~N|all]\n"
	"                      --kind throughput|ttft-vs-prompt|power|accuracy|pareto|\n"
	"                             sustained|modes|load\n"
	"                      --out FILE.png|FILE.svg|FILE.pdf [--stat median|mean]\n"
	"                      [--target PAT] [--model PAT] [--quant PAT] [--device PAT]\n"
	"                      [--only KEY] [--metric PAT] [--size WxH] [--font NAME,SIZE]\n"
	"\n"
	"Draws one figure with gnuplot (Debian: gnuplot-nox). FILE.gp (the script) and\n"
	"FILE.dat (its data) are written beside the figure: edit and re-run them with\n"
	"`gnuplot FILE.gp` from that directory. PNG uses pngcairo (png without cairo),\n"
	"PDF pdfcairo. Labels name each cell's device.\n"
	"  throughput      decode and prefill TPS per cell; bars p10..p90 of the requests\n"
	"                  (median) or the 95% interval (mean)\n"
	"  ttft-vs-prompt  TTFT against prompt length, one line per device/target/model/\n"
	"                  quant\n"
	"  power           watts over time per rail, one panel per cell, prefill and decode\n"
	"                  shaded\n"
	"  accuracy        one panel per accuracy metric against model size (needs accuracy\n"
	"                  results)\n"
	"  pareto          decode TPS against J/token, with the Pareto frontier\n"
	"  sustained       decode TPS over time, one line per sustained cell (the window\n"
	"                  means of workloads.latency.duration_s cells)\n"
	"  modes           decode TPS and tokens per joule against the device mode\n"
	"                  (device.modes), one line per variant, repeats averaged\n"
	"  load            output tokens/s against p90 TPOT and against p90 TTFT, one line\n"
	"                  per variant through its load cells (workloads.load)\n"
	"--target, --model, --quant, --device and --only (a cell key) take fnmatch patterns,\n"
	"repeatable or comma-separated; --metric picks the accuracy metrics by name.\n"
	"--size: pixels for PNG and SVG (1200x700), inches or centimetres for PDF\n"
	"(3.3x2.5in, 8.4x6cm); default 1200x700 pixels (PDF 8x4.667in), 400 pixels high\n"
	"a row where panels take several rows. --font: a face and its size in points\n"
	"('DejaVu Sans,8').\n"
	"Default run: each device's latest run (as report), among the selected cells.\n"
	"Exit codes: 0 written; 1 nothing to draw (the message says why); 2 usage,\n"
	"database or gnuplot error.\n";

/* The figure and the FILE.gp and FILE.dat beside it must not be the database: -1 after the
 * error when one is. */
static int eb_plot_check_outputs(const char *out, const char *db)
{
	const char *dot = strrchr(out, '.'), *slash = strrchr(out, '/');
	size_t base = dot && (!slash || dot > slash) ? (size_t)(dot - out) : strlen(out);
	struct eb_err err;

	for (int i = 0; i < 3; i++) {
		char path[4200];

		if (i == 0)
			eb_strlcpy(path, out, sizeof(path));
		else
			snprintf(path, sizeof(path), "%.*s.%s", (int)base, out, i == 1 ? "gp" : "dat");
		if (eb_db_check_output(path, &db, 1, &err) != 0) {
			fprintf(stderr, "edgebench plot: %s\n", err.msg);
			return -1;
		}
	}
	return 0;
}

int eb_cmd_plot(int argc, char **argv)
{
	enum { O_KIND = 256, O_OUT, O_STAT, O_TARGET, O_MODEL, O_QUANT, O_DEVICE, O_ONLY,
	       O_METRIC, O_SIZE, O_FONT };
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "run", required_argument, NULL, 'r' },
		{ "kind", required_argument, NULL, O_KIND },
		{ "out", required_argument, NULL, O_OUT },
		{ "stat", required_argument, NULL, O_STAT },
		{ "target", required_argument, NULL, O_TARGET },
		{ "model", required_argument, NULL, O_MODEL },
		{ "quant", required_argument, NULL, O_QUANT },
		{ "device", required_argument, NULL, O_DEVICE },
		{ "only", required_argument, NULL, O_ONLY },
		{ "metric", required_argument, NULL, O_METRIC },
		{ "size", required_argument, NULL, O_SIZE },
		{ "font", required_argument, NULL, O_FONT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct eb_plot_opts o = { .stat = EB_STAT_MEDIAN };
	struct eb_strlist targets = { 0 }, models = { 0 }, quants = { 0 }, devices = { 0 };
	struct eb_strlist keys = { 0 }, metrics = { 0 };
	const char *db = "edgebench.db", *run = NULL, *kind = NULL;
	struct eb_store *s = NULL;
	struct eb_err err;
	int c, rc, ret = EB_EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+d:r:o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'r':
			run = optarg;
			break;
		case O_KIND:
			kind = optarg;
			break;
		case 'o':
		case O_OUT:
			o.out = optarg;
			break;
		case O_STAT:
			if (eb_cli_parse_stat("plot", optarg, &o.stat))
				goto out;
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
		case O_DEVICE:
			eb_strlist_add_split(&devices, optarg);
			break;
		case O_ONLY:
			eb_strlist_add_split(&keys, optarg);
			break;
		case O_METRIC:
			eb_strlist_add_split(&metrics, optarg);
			break;
		case O_SIZE:
			o.size = optarg;
			break;
		case O_FONT:
			o.font = optarg;
			break;
		case 'h':
			fputs(eb_plot_usage, stdout);
			ret = EB_EXIT_OK;
			goto out;
		default:
			fputs(eb_plot_usage, stderr);
			goto out;
		}
	}
	if (optind != argc || !kind || !o.out) {
		if (optind == argc)
			fprintf(stderr, "edgebench plot: %s\n",
				!kind ? "--kind is required"
				      : "--out FILE.png|FILE.svg|FILE.pdf is required");
		fputs(eb_plot_usage, stderr);
		goto out;
	}
	if (eb_plot_kind_parse(kind, &o.kind) != 0) {
		fprintf(stderr, "edgebench plot: unknown kind '%s' (throughput, ttft-vs-prompt, "
				"power, accuracy, pareto, sustained, modes, load)\n",
			kind);
		goto out;
	}
	if (metrics.n && o.kind != EB_PLOT_ACCURACY) {
		fprintf(stderr, "edgebench plot: --metric picks accuracy metrics: it goes with "
				"--kind accuracy\n");
		goto out;
	}
	if (eb_plot_check_outputs(o.out, db))
		goto out;
	if (eb_cli_open_db("plot", db, &s))
		goto out;
	/* no --run: each device's latest run, the rule report follows too */
	o.sel.latest_per_device = !run;
	if (run && eb_cli_resolve_run("plot", s, run, &o.sel.run_id))
		goto out;
	o.sel.targets = (const char *const *)targets.v;
	o.sel.models = (const char *const *)models.v;
	o.sel.quants = (const char *const *)quants.v;
	o.sel.devices = (const char *const *)devices.v;
	o.sel.keys = (const char *const *)keys.v;
	o.metrics = (const char *const *)metrics.v;
	o.log = stderr;
	rc = eb_plot(s, &o, &err);
	if (rc == EB_ENOENT) {
		fprintf(stderr, "edgebench plot: %s\n", err.msg);
		ret = EB_EXIT_CELL_FAIL;
		goto out;
	}
	if (rc != 0) {
		fprintf(stderr, "edgebench plot: %s\n", err.msg);
		goto out;
	}
	ret = EB_EXIT_OK;
out:
	eb_store_close(s);
	eb_strlist_release(&targets);
	eb_strlist_release(&models);
	eb_strlist_release(&quants);
	eb_strlist_release(&devices);
	eb_strlist_release(&keys);
	eb_strlist_release(&metrics);
	return ret;
}
