/* cli_db.c: what the commands that read the database (list, report, plot, compare) share. */
#include "rdata.h"
#include "cli.h"
#include "dbpath.h"
#include "reader.h"
#include "store.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int eb_cli_open_db(const char *cmd, const char *db, struct eb_store **s)
{
	struct eb_err err;

	*s = NULL;
	if (access(db, F_OK) != 0) {
		fprintf(stderr, "edgebench %s: no database '%s'\n", cmd, db);
		return -1;
	}
	if (eb_db_check_readable(db, &err) != 0 || eb_store_open(s, db, 1, &err) != 0) {
		fprintf(stderr, "edgebench %s: %s\n", cmd, err.msg);
		return -1;
	}
	return 0;
}

int eb_cli_resolve_run(const char *cmd, struct eb_store *s, const char *run, int64_t *run_id)
{
	struct eb_err err;

	*run_id = 0;
	if (strcmp(run, "all") == 0)
		return 0;
	if (eb_store_run_resolve(s, run, run_id, &err) != 0) {
		fprintf(stderr, "edgebench %s: --run %s\n", cmd, err.msg);
		return -1;
	}
	return 0;
}

int eb_cli_parse_stat(const char *cmd, const char *arg, enum eb_report_stat *stat)
{
	if (strcmp(arg, "median") == 0) {
		*stat = EB_STAT_MEDIAN;
	} else if (strcmp(arg, "mean") == 0) {
		*stat = EB_STAT_MEAN;
	} else {
		fprintf(stderr, "edgebench %s: unknown statistic '%s' (median, mean)\n", cmd, arg);
		return -1;
	}
	return 0;
}
