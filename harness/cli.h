/* cli.h: the subcommands of the edgebench binary; each returns the process exit code. */
#ifndef EB_CLI_H
#define EB_CLI_H

/* Exit codes, documented in README and `edgebench --help`. */
enum {
	EB_EXIT_OK = 0,        /* every cell ok (or the command succeeded) */
	EB_EXIT_CELL_FAIL = 1, /* at least one cell failed (results stored) */
	EB_EXIT_USAGE = 2,     /* usage, configuration or database error: nothing run */
	EB_EXIT_INTR = 3,      /* interrupted; finished cells stored, `run --resume` completes */
};

int eb_cmd_run(int argc, char **argv);
int eb_cmd_validate(int argc, char **argv);
int eb_cmd_list(int argc, char **argv);
int eb_cmd_report(int argc, char **argv);
int eb_cmd_plot(int argc, char **argv);    /* cmd_plot.c */
int eb_cmd_compare(int argc, char **argv); /* cmd_compare.c: exit 1 on a regression */
int eb_cmd_merge(int argc, char **argv);   /* cmd_merge.c */
int eb_cmd_model(int argc, char **argv);
int eb_cmd_adapters(int argc, char **argv);
int eb_cmd_bench(int argc, char **argv);
int eb_cmd_datasets(int argc, char **argv);
int eb_cmd_bench_perplexity(int argc, char **argv); /* cmd_bench_ppl.c */
int eb_cmd_sensors(int argc, char **argv);

/* True when argv has -h or --help (before a "--"). */
int eb_cli_wants_help(int argc, char **argv);

#endif
