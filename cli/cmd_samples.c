/* cmd_samples.c: `edgebench samples DB` — the per-item records of accuracy cells as JSONL. */
#include "cli.h"
#include "reader.h"
#include "store.h"
#include "eb_util.h"

#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char eb_samples_usage[] =
	"usage: edgebench samples DB [--run REF] [--only CELLPATTERN] [--output FILE]\n"
	"\n"
	"Prints every per-item record of the accuracy cells (one HellaSwag item, perplexity\n"
	"window or chunk, KLD chunk, WikiText page or item of a generative protocol each) as\n"
	"JSON Lines, in the spirit of lm-evaluation-harness's --log_samples: cell, device,\n"
	"task, protocol, the dataset and its sha256, the item (doc_index, doc), the prompt's\n"
	"sha256 and what it hashes, what came back (result: per-choice log-likelihoods, NLL\n"
	"and tokens, or the generated reply and what was parsed from it), and where the\n"
	"protocol chooses, the answer, the gold answer and whether it is correct.\n"
	"\n"
	"  --run REF             ID, latest, latest~N or all (default: latest)\n"
	"  --only CELLPATTERN    cells whose key matches this fnmatch pattern\n"
	"  --output FILE         write there instead of standard output\n"
	"\n"
	"Exit codes: 0 printed (also when no cell has records); 2 usage or database error.\n";

struct eb_samples_out {
	FILE *f;
	const char *only;
	size_t n;
	struct eb_err *err;
};

static void eb_set_count(json_t *o, const char *key, long long v)
{
	json_object_set_new(o, key, v < 0 ? json_null() : json_integer((json_int_t)v));
}

static void eb_set_str(json_t *o, const char *key, const char *v)
{
	json_object_set_new(o, key, v ? json_string(v) : json_null());
}

static int eb_samples_row(void *arg, const struct eb_store_sample *r)
{
	struct eb_samples_out *o = arg;
	json_t *line, *result, *params = NULL;
	json_error_t je;
	int ret = 0;

	if (o->only && fnmatch(o->only, r->key, 0) != 0)
		return 0;
	result = json_loads(r->result_json ? r->result_json : "", 0, &je);
	if (!result)
		return eb_err_set(o->err, EB_EPARSE, "cell '%s' item %lld: stored result: %s",
				  r->key, r->idx, je.text);
	if (r->params_json)
		params = json_loads(r->params_json, 0, &je);
	line = json_object();
	json_object_set_new(line, "run", json_integer((json_int_t)r->run_id));
	eb_set_str(line, "cell", r->key);
	eb_set_str(line, "device", r->device);
	eb_set_str(line, "task", r->task);
	eb_set_str(line, "protocol", r->protocol);
	eb_set_str(line, "dataset", json_string_value(json_object_get(params, "dataset")));
	eb_set_str(line, "dataset_sha256",
		   json_string_value(json_object_get(params, "dataset_sha256")));
	json_object_set_new(line, "doc_index", json_integer((json_int_t)r->idx));
	eb_set_str(line, "doc", r->doc);
	eb_set_str(line, "prompt_sha256", r->prompt_sha256);
	eb_set_str(line, "prompt_hash_of", r->prompt_hash_of);
	json_object_set_new(line, "result", result);
	eb_set_count(line, "answer", r->answer);
	eb_set_count(line, "gold", r->gold);
	json_object_set_new(line, "correct", r->correct < 0 ? json_null()
							     : json_boolean(r->correct != 0));
	/* 17 significant digits: every double reads back as the stored one */
	if (json_dumpf(line, o->f, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) ||
	    fputc('\n', o->f) == EOF)
		ret = eb_err_set(o->err, EB_EIO, "cannot write: %s", strerror(errno));
	else
		o->n++;
	json_decref(line);
	if (params)
		json_decref(params);
	return ret;
}

int eb_cmd_samples(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "run", required_argument, NULL, 'r' },
		{ "only", required_argument, NULL, 'o' },
		{ "output", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *run = "latest", *output = NULL;
	struct eb_samples_out o = { 0 };
	struct eb_store *s = NULL;
	struct eb_err err;
	int64_t run_id = 0;
	int c, has, ret = EB_EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			run = optarg;
			break;
		case 'o':
			o.only = optarg;
			break;
		case 'O':
			output = optarg;
			break;
		case 'h':
			fputs(eb_samples_usage, stdout);
			return EB_EXIT_OK;
		default:
			fputs(eb_samples_usage, stderr);
			return EB_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fputs(eb_samples_usage, stderr);
		return EB_EXIT_USAGE;
	}
	if (eb_cli_open_db("samples", argv[optind], &s) != 0)
		return EB_EXIT_USAGE;
	if (eb_cli_resolve_run("samples", s, run, &run_id) != 0)
		goto out;
	if (eb_store_has_table(s, "acc_samples", &has, &err) != 0) {
		fprintf(stderr, "edgebench samples: %s\n", err.msg);
		goto out;
	}
	o.f = stdout;
	if (output) {
		o.f = fopen(output, "w");
		if (!o.f) {
			fprintf(stderr, "edgebench samples: cannot write '%s': %s\n", output,
				strerror(errno));
			goto out;
		}
	}
	o.err = &err;
	if (has && eb_store_read_samples(s, run_id, 0, eb_samples_row, &o, &err) != 0)
		fprintf(stderr, "edgebench samples: %s\n", err.msg);
	else if (fflush(o.f) != 0)
		fprintf(stderr, "edgebench samples: cannot write '%s': %s\n",
			output ? output : "stdout", strerror(errno));
	else
		ret = EB_EXIT_OK;
	if (output && fclose(o.f) != 0 && ret == EB_EXIT_OK) {
		fprintf(stderr, "edgebench samples: cannot write '%s': %s\n", output,
			strerror(errno));
		ret = EB_EXIT_USAGE;
	}
out:
	eb_store_close(s);
	return ret;
}
