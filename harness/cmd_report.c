/* cmd_report.c: `edgebench list | report` — read the database only. */
#include "../reports/report.h"
#include "cli.h"
#include "eb_util.h"
#include "store.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define EB_DEFAULT_DB "edgebench.db"

static const char eb_list_usage[] =
	"usage: edgebench list [--db PATH]\n"
	"\n"
	"Lists the runs in the database (id, uuid, name, times, status, cell counts) and\n"
	"each run's cells with status, duration and error.\n";

static const char eb_report_usage[] =
	"usage: edgebench report [--db PATH] [--run ID|latest|all] [--format table|csv|json] [--wide]\n"
	"\n"
	"One row per cell: run, target, model, quant, status, ttft_ms, prefill_tps,\n"
	"decode_tps, e2e_ms, peak_rss_mb. Each figure is the median over the cell's measured\n"
	"(non-warm-up) requests; empty (csv), null (json) or - (table) when not measured.\n"
	"The table also shows prompt_tokens and gen_tokens; --wide adds them (and key,\n"
	"error) to csv and json. Default run: all.\n";

static int eb_open_db(const char *cmd, const char *db, struct eb_store *s)
{
	struct eb_err err;

	if (access(db, F_OK) != 0) {
		fprintf(stderr, "edgebench %s: no database '%s'\n", cmd, db);
		return -1;
	}
	if (eb_store_open(s, db, 1, &err) != 0) {
		fprintf(stderr, "edgebench %s: %s\n", cmd, err.msg);
		return -1;
	}
	return 0;
}

int eb_cmd_list(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = EB_DEFAULT_DB;
	struct eb_store s;
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
	if (eb_open_db("list", db, &s))
		return EB_EXIT_USAGE;
	ret = eb_report_list(&s, stdout, &err);
	if (ret)
		fprintf(stderr, "edgebench list: %s\n", err.msg);
	eb_store_close(&s);
	return ret ? EB_EXIT_USAGE : EB_EXIT_OK;
}

int eb_cmd_report(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 'd' },     { "run", required_argument, NULL, 'r' },
		{ "format", required_argument, NULL, 'f' }, { "wide", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
	};
	const char *db = EB_DEFAULT_DB, *run = "all";
	enum eb_report_format fmt = EB_REPORT_TABLE;
	struct eb_store s;
	struct eb_err err;
	long long run_id = 0;
	int c, wide = 0, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:r:f:wh", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'r':
			run = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "table") == 0) {
				fmt = EB_REPORT_TABLE;
			} else if (strcmp(optarg, "csv") == 0) {
				fmt = EB_REPORT_CSV;
			} else if (strcmp(optarg, "json") == 0) {
				fmt = EB_REPORT_JSON;
			} else {
				fprintf(stderr, "edgebench report: unknown format '%s' (table, csv, json)\n",
					optarg);
				return EB_EXIT_USAGE;
			}
			break;
		case 'w':
			wide = 1;
			break;
		case 'h':
			fputs(eb_report_usage, stdout);
			return EB_EXIT_OK;
		default:
			fputs(eb_report_usage, stderr);
			return EB_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(eb_report_usage, stderr);
		return EB_EXIT_USAGE;
	}
	if (strcmp(run, "all") != 0 && strcmp(run, "latest") != 0 &&
	    eb_parse_ll(run, 1, (long long)1 << 62, &run_id) != 0) {
		fprintf(stderr, "edgebench report: --run '%s' is not a run id, 'latest' or 'all'\n", run);
		return EB_EXIT_USAGE;
	}
	if (eb_open_db("report", db, &s))
		return EB_EXIT_USAGE;
	if (strcmp(run, "latest") == 0) {
		int64_t id;

		if (eb_store_latest_run(&s, &id, &err) != 0) {
			fprintf(stderr, "edgebench report: %s\n", err.msg);
			eb_store_close(&s);
			return EB_EXIT_USAGE;
		}
		run_id = id;
	}
	ret = eb_report_cells(&s, run_id, fmt, wide, stdout, &err);
	if (ret)
		fprintf(stderr, "edgebench report: %s\n", err.msg);
	eb_store_close(&s);
	return ret ? EB_EXIT_USAGE : EB_EXIT_OK;
}

