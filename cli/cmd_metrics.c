/* cmd_metrics.c: `edgebench metrics`: the metric registry as a table, or as the docs' markdown. */
#include "cli.h"

#include "metric.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char eb_metrics_usage[] =
	"usage: edgebench metrics [--format table|md] [NAME]\n"
	"\n"
	"Lists every metric edgebench stores: its name, unit, which way is better (higher,\n"
	"lower, or not judged: compare judges a change only in a metric with a direction),\n"
	"what it is, the raw samples it comes from and its definition.\n"
	"\n"
	"  --format table   one line per metric, by group (default)\n"
	"  --format md      markdown tables, the reference in docs/metrics.md\n"
	"  NAME             everything about one metric (a per-sensor name such as\n"
	"                   power_avg_w:hwmon/VDD_IN is its family's metric)\n"
	"\n"
	"exit codes: 0 ok; 2 usage error or unknown metric\n";

static void eb_metrics_table(void)
{
	for (const struct eb_metric_group *g = eb_metric_groups; g->name; g++) {
		printf("%s%s\n", g == eb_metric_groups ? "" : "\n", g->title);
		for (const struct eb_metric *m = eb_metrics; m->name; m++) {
			if (strcmp(m->group, g->name) != 0)
				continue;
			printf("  %-22s %-9s %-11s %s%s%s\n", m->name, m->unit[0] ? m->unit : "-",
			       eb_metric_dir_name(m->dir), m->label ? m->label : "",
			       m->label ? ": " : "", m->summary);
		}
	}
}

/* The docs form: one markdown table per group, under a level-3 heading and its note. */
static void eb_metrics_md(void)
{
	for (const struct eb_metric_group *g = eb_metric_groups; g->name; g++) {
		printf("%s### %s\n\n", g == eb_metric_groups ? "" : "\n", g->title);
		if (g->note[0])
			printf("%s\n\n", g->note);
		printf("| metric | unit | better | what it is | definition | raw samples |\n"
		       "| --- | --- | --- | --- | --- | --- |\n");
		for (const struct eb_metric *m = eb_metrics; m->name; m++) {
			if (strcmp(m->group, g->name) != 0)
				continue;
			printf("| `%s`", m->name);
			if (m->label)
				printf(" (%s)", m->label);
			printf(" | %s | %s | %s | %s | %s |\n", m->unit, eb_metric_dir_name(m->dir),
			       m->summary, m->definition, m->samples);
		}
	}
}

static void eb_metrics_one(const struct eb_metric *m)
{
	printf("%s%s%s%s: %s\n", m->name, m->label ? " (" : "", m->label ? m->label : "",
	       m->label ? ")" : "", m->summary);
	printf("  unit:        %s\n", m->unit[0] ? m->unit : "none");
	printf("  better:      %s\n", eb_metric_dir_name(m->dir));
	printf("  group:       %s\n", m->group);
	printf("  definition:  %s\n", m->definition);
	printf("  raw samples: %s\n", m->samples);
}

int eb_cmd_metrics(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, md = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:h", lo, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "md") != 0 && strcmp(optarg, "table") != 0) {
				fprintf(stderr, "edgebench metrics: unknown format '%s' (table, md)\n",
					optarg);
				return EB_EXIT_USAGE;
			}
			md = strcmp(optarg, "md") == 0;
			break;
		case 'h':
			fputs(eb_metrics_usage, stdout);
			return EB_EXIT_OK;
		default:
			fputs(eb_metrics_usage, stderr);
			return EB_EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		fputs(eb_metrics_usage, stderr);
		return EB_EXIT_USAGE;
	}
	if (optind < argc) {
		const struct eb_metric *m = eb_metric_find(argv[optind]);

		if (!m) {
			fprintf(stderr, "edgebench metrics: no metric '%s' (edgebench metrics lists "
					"them)\n",
				argv[optind]);
			return EB_EXIT_USAGE;
		}
		eb_metrics_one(m);
		return EB_EXIT_OK;
	}
	if (md)
		eb_metrics_md();
	else
		eb_metrics_table();
	return EB_EXIT_OK;
}
