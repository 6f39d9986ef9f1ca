/* cli.h: the subcommands of the edgebench binary; each returns the process exit code. */
#ifndef EB_CLI_H
#define EB_CLI_H

#include <stdint.h>

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
int eb_cmd_bench_load(int argc, char **argv);       /* cmd_bench_load.c */
int eb_cmd_sensors(int argc, char **argv);
int eb_cmd_metrics(int argc, char **argv); /* cmd_metrics.c */
int eb_cmd_samples(int argc, char **argv); /* cmd_samples.c */

/* True when argv has -h or --help (before a "--"). */
int eb_cli_wants_help(int argc, char **argv);

/* --- the commands that read the database (cli_db.c); each prints its own error ---- */

struct eb_store;
enum eb_report_stat;

/* Opens `db` read-only into *s: 0, or -1 (and *s NULL) after "edgebench CMD: no database
 * 'x'" or the error. */
int eb_cli_open_db(const char *cmd, const char *db, struct eb_store **s);
/* --run REF (ID, latest, latest~N, all = 0) into *run_id: 0, or -1 after the error. */
int eb_cli_resolve_run(const char *cmd, struct eb_store *s, const char *run, int64_t *run_id);
/* --stat median|mean: 0, or -1 after the error. */
int eb_cli_parse_stat(const char *cmd, const char *arg, enum eb_report_stat *stat);

#endif
