/* cmd_compare.c: `edgebench compare BASELINE CANDIDATE` — the regression verdict for CI. */
#include "compare.h"
#include "cli.h"
#include "dbpath.h"
#include "eb_util.h"
#include "store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char eb_compare_usage[] =
	"usage: edgebench compare BASELINE CANDIDATE [--db PATH] [--threshold PCT]\n"
	"                         [--metric-threshold NAME=PCT ...] [--metric PAT ...]\n"
	"                         [--device PAT] [--allow-missing] [--alpha A]\n"
	"                         [--format md|json] [--junit FILE]\n"
	"\n"
	"BASELINE and CANDIDATE: a run id, latest, latest~N (N runs before the latest), in\n"
	"--db (default edgebench.db); or FILE.db:ID, FILE.db:latest, FILE.db:latest~N (or\n"
	"just FILE.db, its latest run) for a run in another database. REF@DEVICE (e.g.\n"
	"lab.db:latest~1@orin-agx) takes only the runs with a cell on that device (an fnmatch\n"
	"pattern) and only those cells; --device PAT does the same for a reference without one.\n"
	"Cells are matched by device and key. Each figure with a direction (higher or lower\n"
	"is better, as `edgebench metrics` lists them; other figures are shown, never judged)\n"
	"is a regression when it moved the wrong way by more than the threshold (default 5%;\n"
	"per metric with --metric-threshold decode_tps=3) AND its test gives p < alpha\n"
	"(default 0.05): a two-sided Mann-Whitney U test of the medians on the raw\n"
	"per-request samples (itl_ms: each request's median and p90 gap as one sample), a\n"
	"z test of accuracy figures on their stored standard errors; figures with neither\n"
	"use the threshold alone.\n"
	"A cell ok in the baseline that failed in the candidate is a regression; a cell of\n"
	"the baseline missing from the candidate is a failure unless --allow-missing.\n"
	"--junit FILE writes JUnit XML: one testcase per cell x figure, failures for\n"
	"regressions and missing cells.\n"
	"Exit codes: 0 no failure; 1 a regression or a missing cell; 2 usage or database\n"
	"error, or nothing compared (no cell matched, or --metric matched no figure).\n";

/* A percentage: "5", "5%" or "2.5%" (0 <= pct < 10000). */
static int eb_parse_pct(const char *s, double *pct)
{
	char buf[64];
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(buf))
		return -1;
	eb_strlcpy(buf, s, sizeof(buf));
	if (buf[n - 1] == '%')
		buf[n - 1] = '\0';
	if (eb_parse_double(buf, pct) != 0 || *pct < 0 || *pct >= 10000)
		return -1;
	return 0;
}

static int eb_is_ref(const char *s)
{
	long long v;

	return strcmp(s, "latest") == 0 || strncmp(s, "latest~", 7) == 0 ||
	       eb_parse_ll(s, 1, (long long)1 << 62, &v) == 0;
}

/* Opens the database a run reference names and resolves the run: "REF", "FILE.db:REF" or
 * "FILE.db", each with an optional "@DEVICE" that overrides `device` (the --device
 * pattern, or NULL). The side's device pattern is stored in dev[0] (dev[1] NULL), the
 * database's path in `path` (4096 bytes). */
static int eb_open_side(const char *arg, const char *db, const char *device, struct eb_store **s,
			int64_t *run_id, char **dev, char *path)
{
	char ref_buf[4096];
	const char *at = strrchr(arg, '@'), *colon, *ref;
	struct eb_err err;

	eb_strlcpy(ref_buf, arg, sizeof(ref_buf));
	/* REF@DEVICE: the part before the last '@' must be a reference by itself */
	if (at && at[1] && (size_t)(at - arg) < sizeof(ref_buf)) {
		ref_buf[at - arg] = '\0';
		colon = strrchr(ref_buf, ':');
		if (eb_is_ref(ref_buf) || (colon && colon != ref_buf && eb_is_ref(colon + 1)) ||
		    access(ref_buf, F_OK) == 0)
			device = at + 1;
		else
			eb_strlcpy(ref_buf, arg, sizeof(ref_buf));
	}
	colon = strrchr(ref_buf, ':');
	if (colon && colon != ref_buf && eb_is_ref(colon + 1)) {
		snprintf(path, 4096, "%.*s", (int)(colon - ref_buf), ref_buf);
		ref = colon + 1;
	} else if (eb_is_ref(ref_buf)) {
		eb_strlcpy(path, db, 4096);
		ref = ref_buf;
	} else if (access(ref_buf, F_OK) == 0) {
		eb_strlcpy(path, ref_buf, 4096);
		ref = "latest";
	} else {
		fprintf(stderr, "edgebench compare: '%s' is not a run (ID, latest, latest~N, "
				"FILE.db:ID or FILE.db:latest, each with an optional @DEVICE)\n",
			arg);
		return -1;
	}
	if (eb_cli_open_db("compare", path, s))
		return -1;
	if (eb_store_run_resolve_device(*s, ref, device, run_id, &err) != 0) {
		fprintf(stderr, "edgebench compare: %s\n", err.msg);
		eb_store_close(*s);
		*s = NULL;
		return -1;
	}
	dev[0] = device ? eb_xstrdup(device) : NULL;
	return 0;
}

int eb_cmd_compare(int argc, char **argv)
{
	enum { O_THR = 256, O_MTHR, O_METRIC, O_ALPHA, O_FORMAT, O_JUNIT, O_DEVICE, O_ALLOW };
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "threshold", required_argument, NULL, O_THR },
		{ "metric-threshold", required_argument, NULL, O_MTHR },
		{ "metric", required_argument, NULL, O_METRIC },
		{ "alpha", required_argument, NULL, O_ALPHA },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "junit", required_argument, NULL, O_JUNIT },
		{ "device", required_argument, NULL, O_DEVICE },
		{ "allow-missing", no_argument, NULL, O_ALLOW },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct eb_cmp_opts o = { .threshold_pct = 5, .alpha = 0.05 };
	struct eb_cmp_thr *thr = NULL;
	struct eb_strlist mpats = { 0 };
	const char *db = "edgebench.db", *device = NULL;
	char *bdev[2] = { NULL, NULL }, *cdev[2] = { NULL, NULL };
	const char *pos[2] = { NULL, NULL };
	struct eb_store *sb = NULL, *sc = NULL;
	struct eb_cmp_side base, cand;
	struct eb_cmp_counts k;
	struct eb_err err;
	char paths[2][4096];
	size_t npos = 0;
	int c, ret = EB_EXIT_USAGE;

	optind = 1;
	/* GNU getopt permutes: options may follow the two runs */
	while ((c = getopt_long(argc, argv, "d:h", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case O_THR:
			if (eb_parse_pct(optarg, &o.threshold_pct)) {
				fprintf(stderr, "edgebench compare: --threshold '%s' is not a "
						"percentage (e.g. 5%%)\n",
					optarg);
				goto out;
			}
			break;
		case O_MTHR: {
			const char *eq = strchr(optarg, '=');
			double pct;

			if (!eq || eq == optarg || eb_parse_pct(eq + 1, &pct)) {
				fprintf(stderr, "edgebench compare: --metric-threshold '%s': expected "
						"NAME=PCT (e.g. decode_tps=3%%)\n",
					optarg);
				goto out;
			}
			thr = eb_xrealloc(thr, (o.n_per_metric + 1) * sizeof(*thr));
			thr[o.n_per_metric].name = eb_xstrdup(optarg);
			((char *)thr[o.n_per_metric].name)[eq - optarg] = '\0';
			thr[o.n_per_metric].pct = pct;
			o.n_per_metric++;
			break;
		}
		case O_METRIC:
			eb_strlist_add_split(&mpats, optarg);
			break;
		case O_ALPHA:
			if (eb_parse_double(optarg, &o.alpha) || o.alpha <= 0 || o.alpha >= 1) {
				fprintf(stderr, "edgebench compare: --alpha '%s' is not in (0, 1)\n",
					optarg);
				goto out;
			}
			break;
		case O_FORMAT:
			if (strcmp(optarg, "md") == 0) {
				o.json = 0;
			} else if (strcmp(optarg, "json") == 0) {
				o.json = 1;
			} else {
				fprintf(stderr, "edgebench compare: unknown format '%s' (md, json)\n",
					optarg);
				goto out;
			}
			break;
		case O_JUNIT:
			o.junit = optarg;
			break;
		case O_DEVICE:
			device = optarg;
			break;
		case O_ALLOW:
			o.allow_missing = 1;
			break;
		case 'h':
			fputs(eb_compare_usage, stdout);
			ret = EB_EXIT_OK;
			goto out;
		default:
			fputs(eb_compare_usage, stderr);
			goto out;
		}
	}
	for (; optind < argc; optind++) {
		if (npos < 2)
			pos[npos] = argv[optind];
		npos++;
	}
	if (npos != 2) {
		fprintf(stderr, "edgebench compare: expected BASELINE and CANDIDATE, got %zu "
				"argument%s\n",
			npos, npos == 1 ? "" : "s");
		fputs(eb_compare_usage, stderr);
		goto out;
	}
	o.per_metric = thr;
	o.metric_pats = (const char *const *)mpats.v;
	if (eb_open_side(pos[0], db, device, &sb, &base.run_id, bdev, paths[0]) ||
	    eb_open_side(pos[1], db, device, &sc, &cand.run_id, cdev, paths[1]))
		goto out;
	{
		const char *dbs[2] = { paths[0], paths[1] };

		if (o.junit && eb_db_check_output(o.junit, dbs, 2, &err) != 0) {
			fprintf(stderr, "edgebench compare: --junit %s\n", err.msg);
			goto out;
		}
	}
	base.s = sb;
	cand.s = sc;
	base.device_pats = bdev[0] ? (const char *const *)bdev : NULL;
	cand.device_pats = cdev[0] ? (const char *const *)cdev : NULL;
	if (eb_compare(&base, &cand, &o, stdout, &k, &err) != 0) {
		fprintf(stderr, "edgebench compare: %s\n", err.msg);
		goto out;
	}
	ret = k.failures ? 1 : EB_EXIT_OK;
out:
	eb_store_close(sb);
	eb_store_close(sc);
	free(bdev[0]);
	free(cdev[0]);
	for (size_t i = 0; i < o.n_per_metric; i++)
		free((char *)thr[i].name);
	free(thr);
	eb_strlist_release(&mpats);
	return ret;
}
