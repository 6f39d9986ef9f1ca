/* cmd_merge.c: `edgebench merge OUT.db IN.db...` — one lab database from per-device ones. */
#include "merge.h"
#include "cli.h"
#include "dbpath.h"
#include "eb_util.h"
#include "store.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char eb_merge_usage[] =
	"usage: edgebench merge OUT.db [IN.db...]\n"
	"\n"
	"Copies every run of each IN.db (cells, requests, token times, metrics, power\n"
	"samples, and any other table tied to a run, cell or request) into OUT.db,\n"
	"creating it if needed. Runs are keyed by UUID: a run already in OUT.db as it is\n"
	"stays untouched (merging twice equals merging once); one that changed since\n"
	"(e.g. finished after an earlier merge) is replaced whole, but only by a copy with\n"
	"at least as many finished cells or a later end time, and never while another\n"
	"process runs it (the stored copy is kept, both states named). Each run is copied\n"
	"in one transaction. Inputs whose schema version differs from this edgebench's,\n"
	"that another process has open, or whose -wal is not empty are refused before\n"
	"anything is merged; an OUT.db that this merge created is removed when it fails.\n"
	"OUT.db is left one file (its write-ahead log folded in); with no IN.db, that is\n"
	"all merge does. Exit codes: 0 merged; 2 usage or database error, or a run kept\n"
	"(the others are merged).\n";

int eb_cmd_merge(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct eb_store *out = NULL;
	struct eb_err err;
	size_t kept = 0;
	int c, created, ret = EB_EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		if (c == 'h') {
			fputs(eb_merge_usage, stdout);
			return EB_EXIT_OK;
		}
		fputs(eb_merge_usage, stderr);
		return EB_EXIT_USAGE;
	}
	if (argc - optind < 1) {
		fputs(eb_merge_usage, stderr);
		return EB_EXIT_USAGE;
	}
	if (eb_db_check_writable(argv[optind], &err) != 0 ||
	    eb_db_check_output(argv[optind], (const char *const *)argv + optind + 1,
			       (size_t)(argc - optind - 1), &err) != 0) {
		fprintf(stderr, "edgebench merge: %s\n", err.msg);
		return EB_EXIT_USAGE;
	}
	created = access(argv[optind], F_OK) != 0;
	if (eb_store_open(&out, argv[optind], 0, &err) != 0) {
		fprintf(stderr, "edgebench merge: %s\n", err.msg);
		goto out;
	}
	/* refuse before merging anything when one input cannot be merged */
	for (int i = optind + 1; i < argc; i++)
		if (eb_db_check_readable(argv[i], &err) != 0 ||
		    eb_merge_check(out, argv[i], &err) != 0) {
			fprintf(stderr, "edgebench merge: %s\n", err.msg);
			goto out;
		}
	for (int i = optind + 1; i < argc; i++) {
		struct eb_merge_stats st;

		if (eb_merge_db(out, argv[i], stderr, &st, &err) != 0) {
			fprintf(stderr, "edgebench merge: %s\n", err.msg);
			goto out;
		}
		fprintf(stderr, "merged '%s' into '%s': %zu run%s added, %zu replaced, %zu unchanged%s",
			argv[i], argv[optind], st.added, st.added == 1 ? "" : "s", st.replaced,
			st.unchanged, st.kept ? ", " : "\n");
		if (st.kept)
			fprintf(stderr, "%zu kept (not replaced)\n", st.kept);
		kept += st.kept;
	}
	/* the merged runs in OUT.db itself, not only in its log */
	if (eb_store_checkpoint(out, &err) != 0) {
		fprintf(stderr, "edgebench merge: %s\n", err.msg);
		goto out;
	}
	ret = kept ? EB_EXIT_USAGE : EB_EXIT_OK;
	created = 0; /* what was merged stays, even when a run was kept */
out:
	eb_store_close(out);
	/* a failed merge into a new OUT leaves nothing behind, not an empty database */
	if (ret != EB_EXIT_OK && created)
		for (int i = 0; i < 3; i++) {
			char side[4200];

			snprintf(side, sizeof(side), "%s%s", argv[optind],
				 i == 0 ? "" : i == 1 ? "-wal" : "-shm");
			unlink(side);
		}
	return ret;
}
