/* cmd_model.c: `edgebench model synth` (random-weight GGUF models) and `edgebench model shapes`. */
#include "cli.h"
#include "eb_clock.h"
#include "eb_util.h"

#include "synth.h"

#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EB_SYNTH_PROG "edgebench model synth"

enum eb_synth_optid {
	EB_SO_SHAPE,
	EB_SO_VOCAB,
	EB_SO_TYPE,
	EB_SO_OUTPUT,
	EB_SO_SEED,
	EB_SO_THREADS,
	EB_SO_ARCH,
	EB_SO_N_EMBD,
	EB_SO_N_LAYER,
	EB_SO_N_HEAD,
	EB_SO_N_HEAD_KV,
	EB_SO_N_FF,
	EB_SO_N_CTX,
	EB_SO_ROPE_THETA,
	EB_SO_NORM_EPS,
	EB_SO_FORCE,
	EB_SO_QUIET,
};

/* The options of `model synth`: parsing, "did you mean" and --help come from this table. */
static const struct eb_synth_opt {
	enum eb_synth_optid id;
	const char *name;
	const char *alias;
	const char *arg;    /* NULL: a flag */
	long long min, max; /* for integer arguments (both 0: not an integer) */
	const char *help;
} eb_synth_optv[] = {
	{ EB_SO_SHAPE, "--shape", NULL, "NAME", 0, 0,
	  "a named shape (see `edgebench model shapes`)" },
	{ EB_SO_VOCAB, "--vocab", NULL, "NAME|FILE", 0, 0,
	  "tokenizer: llama-spm, llama-bpe, qwen2, ...\n"
	  "(ggml-vocab-NAME.gguf in $EB_VOCAB_DIR or in\n"
	  "llama.cpp's models/) or a vocab-only .gguf;\n"
	  "default: the shape's" },
	{ EB_SO_TYPE, "--type", NULL, "TYPE", 0, 0,
	  "weight type, as llama-quantize names it (required)" },
	{ EB_SO_OUTPUT, "--output", "-o", "FILE", 0, 0, "the .gguf to write (required)" },
	{ EB_SO_SEED, "--seed", NULL, "N", 0, LLONG_MAX, "weights' random seed (default 1)" },
	{ EB_SO_THREADS, "--threads", NULL, "N", 1, 4096,
	  "threads for quantizing (default: all cores)" },
	{ EB_SO_ARCH, "--arch", NULL, "ARCH", 0, 0,
	  "llama or qwen2 (default: the shape's, else llama)" },
	{ EB_SO_N_EMBD, "--n-embd", NULL, "N", 1, 65536, "hidden size" },
	{ EB_SO_N_LAYER, "--n-layer", NULL, "N", 1, 1024, "transformer blocks" },
	{ EB_SO_N_HEAD, "--n-head", NULL, "N", 1, 4096, "attention heads" },
	{ EB_SO_N_HEAD_KV, "--n-head-kv", NULL, "N", 1, 4096,
	  "key/value heads (GQA when fewer than heads)" },
	{ EB_SO_N_FF, "--n-ff", NULL, "N", 1, 1048576, "feed-forward size" },
	{ EB_SO_N_CTX, "--n-ctx", NULL, "N", 1, 16777216, "training context length" },
	{ EB_SO_ROPE_THETA, "--rope-theta", NULL, "X", 0, 0,
	  "rope frequency base (default: the shape's, else 10000)" },
	{ EB_SO_NORM_EPS, "--norm-eps", NULL, "X", 0, 0,
	  "RMS norm epsilon (default: the shape's, else 1e-5)" },
	{ EB_SO_FORCE, "--force", "-f", NULL, 0, 0,
	  "rewrite FILE when it exists (default: reuse it)" },
	{ EB_SO_QUIET, "--quiet", "-q", NULL, 0, 0, "no progress on stderr" },
	{ 0, NULL, NULL, NULL, 0, 0, NULL },
};

static void eb_model_usage(FILE *f)
{
	fprintf(f, "usage: edgebench model <command> [options]\n"
		   "       edgebench model <command> --help\n\n"
		   "commands:\n"
		   "  synth    write a GGUF model with random weights and a real tokenizer, to\n"
		   "           measure the speed and memory of a model you cannot download\n"
		   "           (its accuracy is meaningless)\n"
		   "  shapes   list the named shapes synth knows, with their parameter counts\n");
}

static void eb_synth_usage(FILE *f)
{
	fprintf(f,
		"usage: edgebench model synth --shape NAME --type TYPE -o FILE.gguf [options]\n"
		"       edgebench model synth --n-embd N --n-layer N --n-head N --n-head-kv N\n"
		"                             --n-ff N --n-ctx N [--arch llama|qwen2]\n"
		"                             --type TYPE -o FILE.gguf [options]\n\n"
		"Writes a GGUF model with RANDOM weights and a real tokenizer (copied from a\n"
		"llama.cpp vocab-only GGUF), in the shape of a real model, so that a lab can\n"
		"measure the speed and memory of that shape without the real weights.\n"
		"Only speed and memory numbers mean anything: the accuracy, perplexity and\n"
		"text of a random-weight model are meaningless.\n\n"
		"Without --shape all of --n-embd, --n-layer, --n-head, --n-head-kv, --n-ff and\n"
		"--n-ctx are required; with --shape they override the shape's values.\n"
		"If FILE exists it is reused as it is (configs rely on \"synthesize or reuse\");\n"
		"--force rewrites it. FILE appears only when complete (temp file + rename).\n"
		"f32/f16 are written directly (streamed, any size); other types are written as\n"
		"f16 next to FILE first, then quantized by llama.cpp: the disk must hold both.\n\n"
		"options:\n");
	for (const struct eb_synth_opt *o = eb_synth_optv; o->name; o++) {
		char lhs[64];
		const char *h = o->help;

		snprintf(lhs, sizeof(lhs), "%s%s%s%s%s", o->alias ? o->alias : "",
			 o->alias ? ", " : "", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-22s ", lhs);
		/* continuation lines of the help line up under its first line */
		while (*h) {
			const char *nl = strchr(h, '\n');
			int len = nl ? (int)(nl - h) : (int)strlen(h);

			fprintf(f, "%.*s\n", len, h);
			h += len;
			if (*h == '\n') {
				h++;
				fprintf(f, "  %-22s ", "");
			}
		}
	}
	fprintf(f, "  %-22s %s\n", "-h, --help", "this help");
	fprintf(f, "\nshapes (`edgebench model shapes` shows dims, parameters and the model each\n"
		   "mirrors):\n ");
	for (const struct eb_synth_shape *s = eb_synth_shapes; s->name; s++)
		fprintf(f, "%s %s", s == eb_synth_shapes ? "" : ",", s->name);
	fprintf(f, "\ntypes (not iq1_*, iq2_*, iq3_*, q2_k_s: they need an importance matrix):\n");
	eb_synth_print_types(f, 2, 78);
	fprintf(f, "\nexample:\n"
		   "  edgebench model synth --shape llama3-8b --type q4_k_m -o l3-q4_k_m.gguf\n"
		   "\nexit codes: 0 written or reused; 1 failed; 2 usage error; 3 interrupted\n"
		   "(FILE only ever appears complete; on failure or Ctrl-C the temporaries are\n"
		   "removed too, unless a second Ctrl-C kills edgebench at once)\n");
}

static void eb_shapes_usage(FILE *f)
{
	fprintf(f, "usage: edgebench model shapes\n\n"
		   "Lists the named shapes of `edgebench model synth`: dimensions, parameter\n"
		   "count with the shape's default vocab, and the real model each mirrors.\n"
		   "A count marked ~ uses the published vocab size (no vocab file found).\n");
}

static int eb_synth_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int eb_synth_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, EB_SYNTH_PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static const struct eb_synth_opt *eb_synth_opt_find(const char *arg, size_t len)
{
	for (const struct eb_synth_opt *o = eb_synth_optv; o->name; o++)
		if ((strlen(o->name) == len && strncmp(o->name, arg, len) == 0) ||
		    (o->alias && strlen(o->alias) == len && strncmp(o->alias, arg, len) == 0))
			return o;
	return NULL;
}

static int eb_synth_unknown_opt(const char *arg)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;

	for (const struct eb_synth_opt *o = eb_synth_optv; o->name; o++) {
		size_t d = eb_edit_distance(arg, o->name);

		if (d < best_d) {
			best_d = d;
			best = o->name;
		}
	}
	if (best && best_d <= 3)
		return eb_synth_fail(EB_EXIT_USAGE, "unknown option '%s'; did you mean '%s'?", arg,
				     best);
	return eb_synth_fail(EB_EXIT_USAGE, "unknown option '%s' (see --help)", arg);
}

struct eb_synth_progress {
	int tty;
	uint64_t last_line_ns;
	int open_line; /* a \r progress line is on the terminal */
};

static void eb_synth_human_bytes(char *buf, size_t n, uint64_t v)
{
	if (v >= (1ull << 30))
		snprintf(buf, n, "%.2f GiB", (double)v / (1 << 30));
	else
		snprintf(buf, n, "%.1f MiB", (double)v / (1 << 20));
}

static void eb_synth_on_progress(void *ud, const char *phase, uint64_t done, uint64_t total,
				 uint64_t elapsed_ns)
{
	struct eb_synth_progress *p = ud;
	char a[32], b[32];
	int last = done >= total;
	uint64_t now = eb_clock_ns();
	double pct = total ? 100.0 * (double)done / (double)total : 100.0;

	/* without a terminal, a line every 10 s and one at the end of each phase */
	if (!p->tty && !last && now - p->last_line_ns < 10000000000ull)
		return;
	p->last_line_ns = now;
	if (strcmp(phase, "writing") == 0) {
		eb_synth_human_bytes(a, sizeof(a), done);
		eb_synth_human_bytes(b, sizeof(b), total);
	} else {
		snprintf(a, sizeof(a), "%" PRIu64, done);
		snprintf(b, sizeof(b), "%" PRIu64 " tensors", total);
	}
	fprintf(stderr, "%s" EB_SYNTH_PROG ": %s %s of %s (%.0f%%), %.1f s%s",
		p->tty ? "\r" : "", phase, a, b, pct, (double)elapsed_ns / 1e9,
		p->tty && !last ? "\033[K" : "\n");
	p->open_line = p->tty && !last;
	fflush(stderr);
}

/* True when the file at `path` starts with the GGUF magic. */
static int eb_synth_is_gguf(const char *path)
{
	char magic[4];
	FILE *f = fopen(path, "rb");
	int ok;

	if (!f)
		return 0;
	ok = fread(magic, 1, 4, f) == 4 && memcmp(magic, "GGUF", 4) == 0;
	fclose(f);
	return ok;
}

static volatile sig_atomic_t eb_synth_sig;
static volatile int eb_synth_stop; /* mirrored for eb_synth_opts.stop */

/* First SIGINT/SIGTERM: stop cleanly (SA_RESETHAND: a second one kills). */
static void eb_synth_on_signal(int sig)
{
	eb_synth_sig = sig;
	eb_synth_stop = 1;
}

static int eb_cmd_model_synth(int argc, char **argv)
{
	struct sigaction sa, old_int, old_term;
	struct eb_synth_opts o;
	struct eb_synth_shape shape;
	struct eb_synth_progress prog;
	struct eb_err err;
	struct stat st;
	char vocab[PATH_MAX], size[32];
	const char *missing = NULL;
	int force = 0;
	uint64_t t0;
	int rc;

	memset(&o, 0, sizeof(o));
	memset(&prog, 0, sizeof(prog));
	o.seed = 1;
	if (eb_cli_wants_help(argc, argv)) {
		eb_synth_usage(stdout);
		return EB_EXIT_OK;
	}
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *eq = NULL, *val = NULL;
		const struct eb_synth_opt *opt;
		long long ll = 0;
		double d = 0;

		if (strncmp(arg, "--", 2) == 0)
			eq = strchr(arg, '=');
		opt = eb_synth_opt_find(arg, eq ? (size_t)(eq - arg) : strlen(arg));
		if (!opt && arg[0] == '-')
			return eb_synth_unknown_opt(arg);
		if (!opt)
			return eb_synth_fail(EB_EXIT_USAGE, "unexpected argument '%s' (see --help)",
					     arg);
		if (opt->arg) {
			if (eq) {
				val = eq + 1;
			} else if (i + 1 < argc) {
				val = argv[++i];
			} else {
				return eb_synth_fail(EB_EXIT_USAGE,
						     "option '%s' needs a value (%s)", opt->name,
						     opt->arg);
			}
		} else if (eq) {
			return eb_synth_fail(EB_EXIT_USAGE, "option '%s' takes no value",
					     opt->name);
		}
		if (opt->min || opt->max) {
			if (eb_parse_ll(val, opt->min, opt->max, &ll) != 0)
				return eb_synth_fail(EB_EXIT_USAGE, "invalid %s '%s' (expected "
						     "an integer %lld..%lld)", opt->name, val,
						     opt->min, opt->max);
		} else if (opt->id == EB_SO_ROPE_THETA || opt->id == EB_SO_NORM_EPS) {
			if (eb_parse_double(val, &d) != 0 || !(d > 0) || d > 1e12)
				return eb_synth_fail(EB_EXIT_USAGE,
						     "invalid %s '%s' (expected a positive number)",
						     opt->name, val);
		}
		switch (opt->id) {
		case EB_SO_SHAPE: o.shape = val; break;
		case EB_SO_VOCAB: o.vocab = val; break;
		case EB_SO_TYPE: o.type = val; break;
		case EB_SO_OUTPUT: o.out = val; break;
		case EB_SO_SEED: o.seed = (uint64_t)ll; break;
		case EB_SO_THREADS: o.threads = (int)ll; break;
		case EB_SO_ARCH: o.dims.arch = val; break;
		case EB_SO_N_EMBD: o.dims.n_embd = (int)ll; break;
		case EB_SO_N_LAYER: o.dims.n_layer = (int)ll; break;
		case EB_SO_N_HEAD: o.dims.n_head = (int)ll; break;
		case EB_SO_N_HEAD_KV: o.dims.n_head_kv = (int)ll; break;
		case EB_SO_N_FF: o.dims.n_ff = (int)ll; break;
		case EB_SO_N_CTX: o.dims.n_ctx_train = (int)ll; break;
		case EB_SO_ROPE_THETA: o.dims.rope_theta = (float)d; break;
		case EB_SO_NORM_EPS: o.dims.norm_eps = (float)d; break;
		case EB_SO_FORCE: force = 1; break;
		case EB_SO_QUIET: o.quiet = 1; break;
		}
	}

	if (!o.shape) {
		if (!o.dims.n_embd)
			missing = "--n-embd";
		else if (!o.dims.n_layer)
			missing = "--n-layer";
		else if (!o.dims.n_head)
			missing = "--n-head";
		else if (!o.dims.n_head_kv)
			missing = "--n-head-kv";
		else if (!o.dims.n_ff)
			missing = "--n-ff";
		else if (!o.dims.n_ctx_train)
			missing = "--n-ctx";
		if (missing && !o.dims.n_embd && !o.dims.n_layer && !o.dims.n_head &&
		    !o.dims.n_head_kv && !o.dims.n_ff && !o.dims.n_ctx_train)
			return eb_synth_fail(EB_EXIT_USAGE,
					     "no shape: give --shape NAME or all of --n-embd, "
					     "--n-layer, --n-head, --n-head-kv, --n-ff, --n-ctx");
		if (missing)
			return eb_synth_fail(EB_EXIT_USAGE, "%s is required without --shape "
					     "(explicit dimensions need all of --n-embd, "
					     "--n-layer, --n-head, --n-head-kv, --n-ff, --n-ctx)",
					     missing);
	}
	if (!o.type)
		return eb_synth_fail(EB_EXIT_USAGE,
				     "--type is required (f16, q8_0, q4_0, q4_k_m, ...)");
	if (!o.out || !*o.out)
		return eb_synth_fail(EB_EXIT_USAGE, "-o FILE.gguf is required");

	rc = eb_synth_resolve(&o, &shape, vocab, sizeof(vocab), &err);
	if (rc != 0)
		return eb_synth_fail(rc == EB_EUNSUPPORTED ? EB_EXIT_CELL_FAIL : EB_EXIT_USAGE,
				     "%s", err.msg);

	if (!force && stat(o.out, &st) == 0) {
		if (!S_ISREG(st.st_mode) || !eb_synth_is_gguf(o.out))
			return eb_synth_fail(EB_EXIT_CELL_FAIL, "'%s' exists and is not a GGUF "
					     "file (--force replaces it)", o.out);
		eb_synth_human_bytes(size, sizeof(size), (uint64_t)st.st_size);
		fprintf(stderr, EB_SYNTH_PROG ": reusing existing '%s' (%s; --force rewrites it)\n",
			o.out, size);
		return EB_EXIT_OK;
	}

	prog.tty = isatty(STDERR_FILENO);
	o.progress = eb_synth_on_progress;
	o.progress_ud = &prog;
	if (!o.quiet)
		fprintf(stderr,
			EB_SYNTH_PROG ": '%s': shape %s (%s, %d layers, n_embd %d), type %s, "
			"seed %llu, vocab '%s'; random weights: speed and memory only\n",
			o.out, shape.name, shape.arch, shape.n_layer, shape.n_embd, o.type,
			(unsigned long long)o.seed, vocab);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = eb_synth_on_signal;
	sa.sa_flags = (int)SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	eb_synth_stop = 0;
	o.stop = &eb_synth_stop;
	t0 = eb_clock_ns();
	rc = eb_synth_model(&o, &err);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (prog.open_line)
		fputc('\n', stderr);
	if (rc == EB_EINTR)
		return eb_synth_fail(EB_EXIT_INTR, "%s (signal %d)", err.msg, (int)eb_synth_sig);
	if (rc != 0)
		return eb_synth_fail(EB_EXIT_CELL_FAIL, "%s", err.msg);
	if (!o.quiet) {
		size[0] = '\0';
		if (stat(o.out, &st) == 0)
			eb_synth_human_bytes(size, sizeof(size), (uint64_t)st.st_size);
		fprintf(stderr, EB_SYNTH_PROG ": wrote '%s' (%s) in %.1f s\n", o.out, size,
			(double)(eb_clock_ns() - t0) / 1e9);
	}
	return EB_EXIT_OK;
}

static int eb_cmd_model_shapes(int argc, char **argv)
{
	if (eb_cli_wants_help(argc, argv)) {
		eb_shapes_usage(stdout);
		return EB_EXIT_OK;
	}
	if (argc > 1) {
		fprintf(stderr, "edgebench model shapes: unexpected argument '%s'\n", argv[1]);
		return EB_EXIT_USAGE;
	}
	eb_synth_print_shapes(stdout);
	return EB_EXIT_OK;
}

int eb_cmd_model(int argc, char **argv)
{
	if (argc < 2) {
		eb_model_usage(stderr);
		return EB_EXIT_USAGE;
	}
	if (strcmp(argv[1], "synth") == 0)
		return eb_cmd_model_synth(argc - 1, argv + 1);
	if (strcmp(argv[1], "shapes") == 0)
		return eb_cmd_model_shapes(argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		eb_model_usage(stdout);
		return EB_EXIT_OK;
	}
	fprintf(stderr, "edgebench model: unknown command '%s'\n", argv[1]);
	eb_model_usage(stderr);
	return EB_EXIT_USAGE;
}
