/* cmd_datasets.c: `edgebench datasets list | fetch | verify` over the dataset catalog. */
#include "fetch.h"
#include "cli.h"
#include "protocol.h"
#include "eb_util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char eb_datasets_usage[] =
	"usage: edgebench datasets list [--dir DIR]\n"
	"       edgebench datasets fetch NAME...|all [--dir DIR] [--mirror URL]... [--force]\n"
	"       edgebench datasets verify [NAME...] [--dir DIR]\n"
	"\n"
	"The datasets the accuracy protocols read (hellaswag, wikitext2, c4, arc, piqa,\n"
	"winogrande, mmlu, gsm8k). `fetch` downloads with libcurl into DIR (default\n"
	"$EB_DATASETS_DIR, else ~/.cache/edgebench/datasets), through NAME.part so that an\n"
	"interrupted download resumes (HTTP Range), and checks the SHA-256: a mismatching\n"
	"download is removed. A dataset with no published hash (c4, arc, piqa, winogrande,\n"
	"mmlu) has the hash of its first download recorded in DIR/SHA256SUMS, and is checked\n"
	"against it afterwards. --mirror BASE (repeatable) fetches BASE/FILE instead of the\n"
	"canonical URLs, in order; so does $EB_DATASETS_MIRROR. `verify` re-hashes what is\n"
	"present. Accuracy tasks without a \"file\" read these files.\n"
	"\n"
	"exit codes: 0 ok; 1 a download or check failed; 2 usage\n";

struct eb_ds_opts {
	char dir[4096];
	const char *mirrors[16];
	size_t n_mirrors;
	int force;
	int tty;
};

static void eb_ds_progress(void *ud, const char *url, uint64_t done, uint64_t total)
{
	const char *name = ud;

	if (total)
		fprintf(stderr, "\r\033[Kfetching %s: %.1f / %.1f MiB (%.0f%%)", name,
			done / 1048576.0, total / 1048576.0, 100.0 * (double)done / (double)total);
	else
		fprintf(stderr, "\r\033[Kfetching %s: %.1f MiB", name, done / 1048576.0);
	fflush(stderr);
}

/* Parses options after the verb; names are left in argv[optind..argc). */
static int eb_ds_parse(int argc, char **argv, struct eb_ds_opts *o, int allow_mirror)
{
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },   { "mirror", required_argument, NULL, 'm' },
		{ "force", no_argument, NULL, 'f' },       { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct eb_err err;
	const char *env;
	int c, have_dir = 0;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:m:fh", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			eb_strlcpy(o->dir, optarg, sizeof(o->dir));
			have_dir = 1;
			break;
		case 'm':
			if (!allow_mirror || o->n_mirrors == 16) {
				fputs(eb_datasets_usage, stderr);
				return EB_EXIT_USAGE;
			}
			o->mirrors[o->n_mirrors++] = optarg;
			break;
		case 'f':
			o->force = 1;
			break;
		case 'h':
			fputs(eb_datasets_usage, stdout);
			return -1;
		default:
			fputs(eb_datasets_usage, stderr);
			return EB_EXIT_USAGE;
		}
	}
	if (!have_dir && eb_datasets_dir(o->dir, sizeof(o->dir), &err) != 0) {
		fprintf(stderr, "edgebench datasets: %s\n", err.msg);
		return EB_EXIT_USAGE;
	}
	env = getenv("EB_DATASETS_MIRROR");
	if (allow_mirror && o->n_mirrors == 0 && env && *env)
		o->mirrors[o->n_mirrors++] = env;
	o->tty = isatty(2);
	return 0;
}

/* The datasets named in argv[from..argc) ("all" = every one), or all when none. */
static int eb_ds_select(int argc, char **argv, int from, const struct eb_dataset **sel,
			size_t *n, int empty_is_all)
{
	size_t k = 0;

	if (from == argc && empty_is_all) {
		for (const struct eb_dataset *d = eb_dataset_catalog; d->name; d++)
			sel[k++] = d;
		*n = k;
		return 0;
	}
	for (int i = from; i < argc; i++) {
		const struct eb_dataset *d = eb_dataset_find(argv[i]);

		if (strcmp(argv[i], "all") == 0) {
			for (const struct eb_dataset *e = eb_dataset_catalog; e->name && k < 16; e++)
				sel[k++] = e;
			continue;
		}
		if (!d) {
			fprintf(stderr, "edgebench datasets: unknown dataset '%s' (", argv[i]);
			for (const struct eb_dataset *e = eb_dataset_catalog; e->name; e++)
				fprintf(stderr, "%s%s", e == eb_dataset_catalog ? "" : ", ", e->name);
			fprintf(stderr, ")\n");
			return EB_EXIT_USAGE;
		}
		if (k < 16)
			sel[k++] = d;
	}
	*n = k;
	return 0;
}

static int eb_ds_list(int argc, char **argv)
{
	struct eb_ds_opts o;
	struct eb_buf protocols; /* the protocols reading a dataset, from the protocol table */
	int rc = eb_ds_parse(argc, argv, &o, 0);

	if (rc)
		return rc < 0 ? EB_EXIT_OK : rc;
	if (optind != argc) {
		fputs(eb_datasets_usage, stderr);
		return EB_EXIT_USAGE;
	}
	eb_buf_init(&protocols, 0);
	printf("datasets directory: %s\n", o.dir);
	for (const struct eb_dataset *d = eb_dataset_catalog; d->name; d++) {
		char path[8192], rec[65];
		struct stat sb;
		struct eb_err err;

		snprintf(path, sizeof(path), "%s/%s", o.dir, d->file);
		printf("\n%s: %s\n  file:      %s", d->name, d->help, d->file);
		if (stat(path, &sb) == 0)
			printf(" (present, %.1f MiB)\n", sb.st_size / 1048576.0);
		else
			printf(" (missing: edgebench datasets fetch %s)\n", d->name);
		if (d->sha256)
			printf("  sha256:    %s\n", d->sha256);
		else if (eb_dataset_recorded(o.dir, d->file, rec, &err) == 0)
			printf("  sha256:    %s (recorded on first fetch)\n", rec);
		else
			printf("  sha256:    none published; recorded on first fetch\n");
		eb_buf_reset(&protocols);
		eb_acc_protocol_names(&protocols, ", ", ", ", d->name);
		printf("  protocols: %s\n", protocols.buf);
		for (size_t i = 0; d->urls[i]; i++)
			printf("  %s %s\n", i ? "          " : "url:      ", d->urls[i]);
	}
	eb_buf_release(&protocols);
	return EB_EXIT_OK;
}

static int eb_ds_fetch(int argc, char **argv)
{
	const struct eb_dataset *sel[16];
	struct eb_ds_opts o;
	struct eb_fetch_opts fo;
	size_t n = 0;
	int rc = eb_ds_parse(argc, argv, &o, 1), failed = 0;

	if (rc)
		return rc < 0 ? EB_EXIT_OK : rc;
	if (optind == argc) {
		fputs(eb_datasets_usage, stderr);
		return EB_EXIT_USAGE;
	}
	rc = eb_ds_select(argc, argv, optind, sel, &n, 0);
	if (rc)
		return rc;
	memset(&fo, 0, sizeof(fo));
	fo.mirrors = o.n_mirrors ? o.mirrors : NULL;
	fo.n_mirrors = o.n_mirrors;
	fo.force = o.force;
	for (size_t i = 0; i < n; i++) {
		const struct eb_dataset *d = sel[i];
		enum eb_fetch_outcome out;
		struct eb_err err;
		char got[65] = "";

		fo.progress = o.tty ? eb_ds_progress : NULL;
		fo.progress_ud = (void *)d->name;
		rc = eb_dataset_fetch(d, o.dir, &fo, &out, got, &err);
		if (o.tty)
			fprintf(stderr, "\r\033[K");
		if (rc) {
			fprintf(stderr, "edgebench datasets: %s: %s\n", d->name, err.msg);
			failed = 1;
			continue;
		}
		switch (out) {
		case EB_FETCH_PRESENT:
			printf("%s: present, sha256 ok: %s/%s\n", d->name, o.dir, d->file);
			break;
		case EB_FETCH_DOWNLOADED:
			printf("%s: downloaded, sha256 ok: %s/%s\n", d->name, o.dir, d->file);
			break;
		case EB_FETCH_RECORDED:
			printf("%s: %s/%s has no published sha256; recorded %s in %s/%s (later "
			       "fetches and `edgebench datasets verify` check against it)\n",
			       d->name, o.dir, d->file, got, o.dir, EB_DATASETS_MANIFEST);
			break;
		}
	}
	return failed ? EB_EXIT_CELL_FAIL : EB_EXIT_OK;
}

static int eb_ds_verify(int argc, char **argv)
{
	const struct eb_dataset *sel[16];
	struct eb_ds_opts o;
	size_t n = 0;
	int rc = eb_ds_parse(argc, argv, &o, 0), failed = 0, named;

	if (rc)
		return rc < 0 ? EB_EXIT_OK : rc;
	named = optind < argc;
	rc = eb_ds_select(argc, argv, optind, sel, &n, 1);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		enum eb_verify_state state;
		struct eb_err err;
		char got[65], want[65];

		if (eb_dataset_verify(sel[i], o.dir, &state, got, want, &err) != 0) {
			fprintf(stderr, "edgebench datasets: %s: %s\n", sel[i]->name, err.msg);
			failed = 1;
			continue;
		}
		switch (state) {
		case EB_VERIFY_OK:
			printf("%s: ok (%s)\n", sel[i]->name, got);
			break;
		case EB_VERIFY_MISSING:
			printf("%s: missing (%s/%s)\n", sel[i]->name, o.dir, sel[i]->file);
			failed |= named;
			break;
		case EB_VERIFY_MISMATCH:
			printf("%s: MISMATCH: sha256 %s, expected %s\n", sel[i]->name, got, want);
			failed = 1;
			break;
		case EB_VERIFY_UNRECORDED:
			printf("%s: present, no hash to check against (%s); `edgebench datasets "
			       "fetch %s` records it\n",
			       sel[i]->name, got, sel[i]->name);
			break;
		}
	}
	return failed ? EB_EXIT_CELL_FAIL : EB_EXIT_OK;
}

int eb_cmd_datasets(int argc, char **argv)
{
	if (argc < 2) {
		fputs(eb_datasets_usage, stderr);
		return EB_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(eb_datasets_usage, stdout);
		return EB_EXIT_OK;
	}
	if (strcmp(argv[1], "list") == 0)
		return eb_ds_list(argc - 1, argv + 1);
	if (strcmp(argv[1], "fetch") == 0)
		return eb_ds_fetch(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return eb_ds_verify(argc - 1, argv + 1);
	fprintf(stderr, "edgebench datasets: unknown verb '%s' (list, fetch, verify)\n", argv[1]);
	return EB_EXIT_USAGE;
}
