/* llamacpp_synth.c: random-weight GGUF models with a real tokenizer (gguf.h, llama quantize). */
#include "synth.h"

#include "eb_clock.h"
#include "eb_util.h"
#include "eb_build.h"
#include "eb_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#ifdef EB_HAVE_LLAMA
#include <ggml.h>
#include <gguf.h>
#include <llama.h>
#endif

/*
 * Published configs these mirror (HF config.json / llama2.c): the stories models tie
 * the output to the token embedding (llama2.c shared_classifier), as does Qwen2-1.5B.
 */
const struct eb_synth_shape eb_synth_shapes[] = {
	{ .name = "tiny", .arch = "llama", .n_embd = 288, .n_layer = 6, .n_head = 6,
	  .n_head_kv = 6, .n_ff = 768, .n_ctx_train = 2048, .rope_theta = 10000.0f,
	  .norm_eps = 1e-5f, .default_vocab = "llama-spm", .tied_embd = 1,
	  .help = "llama2.c stories15M (trained at ctx 256)" },
	{ .name = "small", .arch = "llama", .n_embd = 768, .n_layer = 12, .n_head = 12,
	  .n_head_kv = 12, .n_ff = 2048, .n_ctx_train = 2048, .rope_theta = 10000.0f,
	  .norm_eps = 1e-5f, .default_vocab = "llama-spm", .tied_embd = 1,
	  .help = "llama2.c stories110M (trained at ctx 1024)" },
	{ .name = "tinyllama-1.1b", .arch = "llama", .n_embd = 2048, .n_layer = 22, .n_head = 32,
	  .n_head_kv = 4, .n_ff = 5632, .n_ctx_train = 2048, .rope_theta = 10000.0f,
	  .norm_eps = 1e-5f, .default_vocab = "llama-spm", .tied_embd = 0,
	  .help = "TinyLlama-1.1B" },
	{ .name = "qwen2-1.5b", .arch = "qwen2", .n_embd = 1536, .n_layer = 28, .n_head = 12,
	  .n_head_kv = 2, .n_ff = 8960, .n_ctx_train = 32768, .rope_theta = 1000000.0f,
	  .norm_eps = 1e-6f, .default_vocab = "qwen2", .tied_embd = 1,
	  .help = "Qwen2-1.5B(-Instruct)" },
	{ .name = "llama2-7b", .arch = "llama", .n_embd = 4096, .n_layer = 32, .n_head = 32,
	  .n_head_kv = 32, .n_ff = 11008, .n_ctx_train = 4096, .rope_theta = 10000.0f,
	  .norm_eps = 1e-5f, .default_vocab = "llama-spm", .tied_embd = 0,
	  .help = "Llama-2-7B" },
	{ .name = "llama3-8b", .arch = "llama", .n_embd = 4096, .n_layer = 32, .n_head = 32,
	  .n_head_kv = 8, .n_ff = 14336, .n_ctx_train = 8192, .rope_theta = 500000.0f,
	  .norm_eps = 1e-5f, .default_vocab = "llama-bpe", .tied_embd = 0,
	  .help = "Meta-Llama-3-8B" },
	{ .name = NULL },
};

/* Token counts of the published models, for the table when a vocab file is unreadable. */
static const struct {
	const char *vocab;
	int64_t n_vocab;
} eb_synth_nominal_vocab[] = {
	{ "llama-spm", 32000 },
	{ "llama-bpe", 128256 },
	{ "qwen2", 151936 },
	{ NULL, 0 },
};

static const char *const eb_synth_archs[] = { "llama", "qwen2", NULL };

const struct eb_synth_shape *eb_synth_shape_find(const char *name)
{
	for (const struct eb_synth_shape *s = eb_synth_shapes; name && s->name; s++)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

static int eb_synth_is_qwen2(const struct eb_synth_shape *s)
{
	return strcmp(s->arch, "qwen2") == 0;
}

uint64_t eb_synth_n_params(const struct eb_synth_shape *s, int64_t n_vocab)
{
	uint64_t e = (uint64_t)s->n_embd, f = (uint64_t)s->n_ff, v = (uint64_t)n_vocab;
	uint64_t kv = e / (uint64_t)s->n_head * (uint64_t)s->n_head_kv;
	uint64_t layer, total;

	layer = e + e * e + 2 * e * kv + e * e + e + 3 * e * f; /* norms, q k v o, ffn */
	if (eb_synth_is_qwen2(s))
		layer += e + 2 * kv; /* q, k, v biases */
	total = v * e + e + (uint64_t)s->n_layer * layer; /* token_embd, output_norm */
	if (!s->tied_embd)
		total += v * e; /* output */
	return total;
}

/* Appends "; did you mean 'x'?" for the closest of `names` (NULL-terminated) when close. */
static void eb_synth_suggest(char *msg, size_t n, const char *bad, const char *const *names)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, len = strlen(msg);

	for (const char *const *p = names; *p; p++) {
		size_t d = eb_edit_distance(bad, *p);

		if (d < best_d) {
			best_d = d;
			best = *p;
		}
	}
	if (best && best_d <= 2 && len < n)
		snprintf(msg + len, n - len, "; did you mean '%s'?", best);
}

static int eb_synth_has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/*
 * The vocab directories to search, in order; entries may be NULL. The second is the
 * copy installed with edgebench, else llama.cpp's models/ found at configure time;
 * `own` holds its path.
 */
static void eb_synth_vocab_dirs(const char *dirs[2], char own[PATH_MAX])
{
	const char *env = getenv("EB_VOCAB_DIR");

	dirs[0] = env && *env ? env : NULL;
	dirs[1] = eb_own_file(EB_BIN_TO_DATA "/vocab", EB_VOCAB_DIR, own, PATH_MAX);
}

#define EB_SYNTH_MAX_VOCABS 128

/* A list of vocab names found on disk; names are malloc'd, freed by eb_synth_names_free. */
struct eb_synth_names {
	char *v[EB_SYNTH_MAX_VOCABS + 1];
	size_t n;
};

static int eb_synth_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Adds the NAMEs of the ggml-vocab-NAME.gguf files in `dir`, skipping duplicates. */
static void eb_synth_list_vocabs(const char *dir, struct eb_synth_names *names)
{
	static const char prefix[] = "ggml-vocab-";
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d)) != NULL && names->n < EB_SYNTH_MAX_VOCABS) {
		size_t len;
		char *name;
		int dup = 0;

		if (strncmp(de->d_name, prefix, sizeof(prefix) - 1) != 0 ||
		    !eb_synth_has_suffix(de->d_name, ".gguf"))
			continue;
		len = strlen(de->d_name) - (sizeof(prefix) - 1) - strlen(".gguf");
		if (len == 0)
			continue;
		name = eb_xmalloc(len + 1);
		memcpy(name, de->d_name + sizeof(prefix) - 1, len);
		name[len] = '\0';
		for (size_t i = 0; i < names->n; i++)
			dup |= strcmp(names->v[i], name) == 0;
		if (dup)
			free(name);
		else
			names->v[names->n++] = name;
	}
	closedir(d);
	names->v[names->n] = NULL;
}

int eb_synth_vocab_path(const char *vocab, char *buf, size_t n, struct eb_err *err)
{
	struct eb_synth_names names = { .n = 0 };
	const char *dirs[2];
	char own[PATH_MAX];
	struct eb_buf list;
	int ret;

	if (!vocab || !*vocab)
		return eb_err_set(err, EB_ENOENT, "empty vocab name");
	if (strchr(vocab, '/') || eb_synth_has_suffix(vocab, ".gguf")) {
		if (access(vocab, R_OK) != 0)
			return eb_err_set(err, EB_ENOENT, "cannot read vocab '%s': %s", vocab,
					  strerror(errno));
		if (eb_strlcpy(buf, vocab, n) >= n)
			return eb_err_set(err, EB_ENOENT, "vocab path too long: '%s'", vocab);
		return 0;
	}
	eb_synth_vocab_dirs(dirs, own);
	for (int i = 0; i < 2; i++) {
		if (!dirs[i])
			continue;
		if ((size_t)snprintf(buf, n, "%s/ggml-vocab-%s.gguf", dirs[i], vocab) >= n)
			continue;
		if (access(buf, R_OK) == 0)
			return 0;
	}
	buf[0] = '\0';
	if (!dirs[0] && !dirs[1])
		return eb_err_set(err, EB_ENOENT,
				  "unknown vocab '%s': no vocab directory (set EB_VOCAB_DIR, or "
				  "give a path to a vocab-only .gguf)", vocab);
	for (int i = 0; i < 2; i++)
		if (dirs[i])
			eb_synth_list_vocabs(dirs[i], &names);
	qsort(names.v, names.n, sizeof(names.v[0]), eb_synth_cmp_str);
	eb_buf_init(&list, 1 << 16);
	for (size_t i = 0; i < names.n; i++)
		eb_buf_addf(&list, "%s%s", i ? ", " : "", names.v[i]);
	ret = eb_err_set(err, EB_ENOENT,
			 "unknown vocab '%s' (known: %s; or a path to a vocab-only .gguf)", vocab,
			 names.n ? list.buf : "none");
	eb_synth_suggest(err->msg, sizeof(err->msg), vocab, (const char *const *)names.v);
	eb_buf_release(&list);
	for (size_t i = 0; i < names.n; i++)
		free(names.v[i]);
	return ret;
}

/* Resolves shape and overrides; no llama.cpp needed. */
static int eb_synth_resolve_shape(const struct eb_synth_opts *o, struct eb_synth_shape *s,
				  struct eb_err *err)
{
	const struct eb_synth_shape *d = &o->dims;
	int known_arch = 0;

	memset(s, 0, sizeof(*s));
	if (o->shape) {
		const struct eb_synth_shape *base = eb_synth_shape_find(o->shape);

		if (!base) {
			const char *names[64];
			struct eb_buf list;
			size_t n = 0;

			eb_buf_init(&list, 4096);
			for (const struct eb_synth_shape *p = eb_synth_shapes; p->name; p++) {
				eb_buf_addf(&list, "%s%s", list.len ? ", " : "", p->name);
				if (n < 63)
					names[n++] = p->name;
			}
			names[n] = NULL;
			eb_err_set(err, EB_EINVAL, "unknown shape '%s' (known: %s)", o->shape,
				   list.buf);
			eb_buf_release(&list);
			eb_synth_suggest(err->msg, sizeof(err->msg), o->shape, names);
			return EB_EINVAL;
		}
		*s = *base;
	} else {
		if (!d->n_embd || !d->n_layer || !d->n_head || !d->n_head_kv || !d->n_ff ||
		    !d->n_ctx_train)
			return eb_err_set(err, EB_EINVAL, "without a shape, n_embd, n_layer, "
					  "n_head, n_head_kv, n_ff and n_ctx are all required");
		s->name = "custom";
		s->arch = "llama";
		s->rope_theta = 10000.0f;
		s->norm_eps = 1e-5f;
		s->default_vocab = "llama-spm";
		s->help = "explicit dimensions";
	}
	if (d->arch) {
		s->arch = d->arch;
		if (!o->shape && strcmp(d->arch, "qwen2") == 0)
			s->default_vocab = "qwen2";
	}
	if (d->default_vocab)
		s->default_vocab = d->default_vocab;
	if (d->n_embd)
		s->n_embd = d->n_embd;
	if (d->n_layer)
		s->n_layer = d->n_layer;
	if (d->n_head)
		s->n_head = d->n_head;
	if (d->n_head_kv)
		s->n_head_kv = d->n_head_kv;
	if (d->n_ff)
		s->n_ff = d->n_ff;
	if (d->n_ctx_train)
		s->n_ctx_train = d->n_ctx_train;
	if (d->rope_theta != 0.0f)
		s->rope_theta = d->rope_theta;
	if (d->norm_eps != 0.0f)
		s->norm_eps = d->norm_eps;
	if (d->tied_embd)
		s->tied_embd = 1;

	for (const char *const *a = eb_synth_archs; *a; a++)
		known_arch |= strcmp(*a, s->arch) == 0;
	if (!known_arch)
		return eb_err_set(err, EB_EINVAL, "unknown arch '%s' (known: llama, qwen2)",
				  s->arch);
	if (s->n_embd <= 0 || s->n_layer <= 0 || s->n_head <= 0 || s->n_head_kv <= 0 ||
	    s->n_ff <= 0 || s->n_ctx_train <= 0)
		return eb_err_set(err, EB_EINVAL, "dimensions must be positive");
	if (s->n_embd % s->n_head != 0)
		return eb_err_set(err, EB_EINVAL, "n_embd %d is not a multiple of n_head %d",
				  s->n_embd, s->n_head);
	if (s->n_head % s->n_head_kv != 0)
		return eb_err_set(err, EB_EINVAL, "n_head %d is not a multiple of n_head_kv %d",
				  s->n_head, s->n_head_kv);
	if ((s->n_embd / s->n_head) % 2 != 0)
		return eb_err_set(err, EB_EINVAL,
				  "head size %d (n_embd / n_head) must be even for rope",
				  s->n_embd / s->n_head);
	if (!(s->rope_theta > 0.0f) || !(s->norm_eps > 0.0f))
		return eb_err_set(err, EB_EINVAL, "rope theta and norm epsilon must be positive");
	return 0;
}

#ifdef EB_HAVE_LLAMA

struct eb_synth_type {
	const char *name;
	enum llama_ftype ftype;
};

/* llama-quantize's names for the types that need no importance matrix. */
static const struct eb_synth_type eb_synth_types[] = {
	{ "f32", LLAMA_FTYPE_ALL_F32 },
	{ "f16", LLAMA_FTYPE_MOSTLY_F16 },
	{ "bf16", LLAMA_FTYPE_MOSTLY_BF16 },
	{ "q8_0", LLAMA_FTYPE_MOSTLY_Q8_0 },
	{ "q6_k", LLAMA_FTYPE_MOSTLY_Q6_K },
	{ "q5_k_m", LLAMA_FTYPE_MOSTLY_Q5_K_M },
	{ "q5_k_s", LLAMA_FTYPE_MOSTLY_Q5_K_S },
	{ "q5_k", LLAMA_FTYPE_MOSTLY_Q5_K_M },
	{ "q5_1", LLAMA_FTYPE_MOSTLY_Q5_1 },
	{ "q5_0", LLAMA_FTYPE_MOSTLY_Q5_0 },
	{ "q4_k_m", LLAMA_FTYPE_MOSTLY_Q4_K_M },
	{ "q4_k_s", LLAMA_FTYPE_MOSTLY_Q4_K_S },
	{ "q4_k", LLAMA_FTYPE_MOSTLY_Q4_K_M },
	{ "q4_1", LLAMA_FTYPE_MOSTLY_Q4_1 },
	{ "q4_0", LLAMA_FTYPE_MOSTLY_Q4_0 },
	{ "iq4_nl", LLAMA_FTYPE_MOSTLY_IQ4_NL },
	{ "iq4_xs", LLAMA_FTYPE_MOSTLY_IQ4_XS },
	{ "q3_k_l", LLAMA_FTYPE_MOSTLY_Q3_K_L },
	{ "q3_k_m", LLAMA_FTYPE_MOSTLY_Q3_K_M },
	{ "q3_k_s", LLAMA_FTYPE_MOSTLY_Q3_K_S },
	{ "q3_k", LLAMA_FTYPE_MOSTLY_Q3_K_M },
	{ "q2_k", LLAMA_FTYPE_MOSTLY_Q2_K },
	{ NULL, LLAMA_FTYPE_ALL_F32 },
};

/* Types llama.cpp only makes with an importance matrix, which random weights lack. */
static const char *const eb_synth_imatrix_types[] = {
	"iq1_s", "iq1_m", "iq2_xxs", "iq2_xs", "iq2_s", "iq2_m", "iq3_xxs", "iq3_xs",
	"iq3_s", "iq3_m", "q2_k_s", NULL,
};

static const struct eb_synth_type *eb_synth_type_find(const char *name)
{
	for (const struct eb_synth_type *t = eb_synth_types; name && t->name; t++)
		if (strcasecmp(t->name, name) == 0)
			return t;
	return NULL;
}

static int eb_synth_check_type(const char *type, struct eb_err *err)
{
	const char *names[64];
	struct eb_buf list;
	size_t n = 0;

	if (!type || !*type)
		return eb_err_set(err, EB_EINVAL, "no type given (f16, q8_0, q4_0, q4_k_m, ...)");
	if (eb_synth_type_find(type))
		return 0;
	for (const char *const *p = eb_synth_imatrix_types; *p; p++)
		if (strcasecmp(*p, type) == 0)
			return eb_err_set(err, EB_EINVAL,
					  "type '%s' needs an importance matrix, which a "
					  "random-weight model cannot have", type);
	eb_buf_init(&list, 4096);
	for (const struct eb_synth_type *t = eb_synth_types; t->name && n < 63; t++) {
		eb_buf_addf(&list, "%s%s", list.len ? ", " : "", t->name);
		names[n++] = t->name;
	}
	names[n] = NULL;
	eb_err_set(err, EB_EINVAL, "unknown type '%s' (known: %s)", type, list.buf);
	eb_buf_release(&list);
	eb_synth_suggest(err->msg, sizeof(err->msg), type, names);
	return EB_EINVAL;
}

void eb_synth_print_types(FILE *f, int indent, int width)
{
	int col = 0;

	for (const struct eb_synth_type *t = eb_synth_types; t->name; t++) {
		int len = (int)strlen(t->name) + 2;

		if (col == 0) {
			fprintf(f, "%*s%s", indent, "", t->name);
			col = indent + len - 2;
		} else if (col + len > width) {
			fprintf(f, ",\n%*s%s", indent, "", t->name);
			col = indent + len - 2;
		} else {
			fprintf(f, ", %s", t->name);
			col += len;
		}
	}
	fputc('\n', f);
}

int eb_synth_resolve(const struct eb_synth_opts *o, struct eb_synth_shape *shape, char *vocab,
		     size_t vocab_n, struct eb_err *err)
{
	char path[PATH_MAX];
	int rc;

	rc = eb_synth_resolve_shape(o, shape, err);
	if (rc != 0)
		return rc;
	rc = eb_synth_check_type(o->type, err);
	if (rc != 0)
		return rc;
	rc = eb_synth_vocab_path(o->vocab ? o->vocab : shape->default_vocab, path, sizeof(path),
				 err);
	if (rc != 0)
		return rc;
	if (vocab && eb_strlcpy(vocab, path, vocab_n) >= vocab_n)
		return eb_err_set(err, EB_EINVAL, "vocab path too long: '%s'", path);
	return 0;
}

/* --- logging: llama.cpp's chatter is dropped, its errors kept for our message -------- */

struct eb_synth_log {
	char last_err[512];
	int in_err;
	const struct eb_synth_opts *o;
	uint64_t t0, t_last;
	const char *phase;
};

static void eb_synth_log_cb(enum ggml_log_level level, const char *text, void *ud)
{
	struct eb_synth_log *lg = ud;
	size_t len;

	if (level == GGML_LOG_LEVEL_ERROR || (level == GGML_LOG_LEVEL_CONT && lg->in_err)) {
		if (level == GGML_LOG_LEVEL_ERROR && !lg->in_err)
			lg->last_err[0] = '\0';
		len = strlen(lg->last_err);
		if (level == GGML_LOG_LEVEL_ERROR && len && len + 2 < sizeof(lg->last_err)) {
			memcpy(lg->last_err + len, "; ", 3);
			len += 2;
		}
		eb_strlcpy(lg->last_err + len, text, sizeof(lg->last_err) - len);
		len = strlen(lg->last_err);
		while (len && (lg->last_err[len - 1] == '\n' || lg->last_err[len - 1] == ' '))
			lg->last_err[--len] = '\0';
		lg->in_err = 1;
		return;
	}
	if (level != GGML_LOG_LEVEL_CONT)
		lg->in_err = 0;
	/* llama_model_quantize logs "[  12/  75] name - ..." per tensor. */
	if (lg->phase && text[0] == '[' && lg->o->progress && !lg->o->quiet) {
		int done, total;
		uint64_t now = eb_clock_ns();

		if (sscanf(text, "[%d/%d]", &done, &total) == 2 && done > 0 && total > 0 &&
		    (now - lg->t_last >= 1000000000ull || done == total)) {
			lg->t_last = now;
			lg->o->progress(lg->o->progress_ud, lg->phase, (uint64_t)done,
					(uint64_t)total, now - lg->t0);
		}
	}
}

/* Strips llama.cpp's "function_name: " prefix from a logged error. */
static const char *eb_synth_log_msg(const struct eb_synth_log *lg)
{
	const char *p = lg->last_err;
	const char *colon = strstr(p, ": ");

	if (!*p)
		return "unknown error in llama.cpp";
	if (colon && (size_t)(colon - p) < 48 && !memchr(p, ' ', (size_t)(colon - p)))
		p = colon + 2;
	return p;
}

/*
 * Opens a vocab GGUF (metadata only) into *g, which the caller frees with gguf_free;
 * *n_vocab is its token count. Errors name the file.
 */
static int eb_synth_open_vocab(const char *path, struct gguf_context **g, int64_t *n_vocab,
			       struct eb_err *err)
{
	struct gguf_init_params gp = { .no_alloc = true, .ctx = NULL };
	struct eb_synth_log lg;
	ggml_log_callback old_cb;
	void *old_ud;
	int64_t key;

	memset(&lg, 0, sizeof(lg));
	llama_log_get(&old_cb, &old_ud);
	llama_log_set(eb_synth_log_cb, &lg);
	*g = gguf_init_from_file(path, gp);
	llama_log_set(old_cb, old_ud);
	if (!*g)
		return eb_err_set(err, EB_EIO, "cannot read vocab '%s': %s", path,
				  lg.last_err[0] ? eb_synth_log_msg(&lg) : "not a GGUF file");
	key = gguf_find_key(*g, "tokenizer.ggml.tokens");
	if (key < 0 || gguf_get_kv_type(*g, key) != GGUF_TYPE_ARRAY ||
	    gguf_get_arr_type(*g, key) != GGUF_TYPE_STRING || gguf_get_arr_n(*g, key) == 0) {
		gguf_free(*g);
		*g = NULL;
		return eb_err_set(err, EB_EIO, "'%s' is not a vocab: no tokenizer.ggml.tokens",
				  path);
	}
	*n_vocab = (int64_t)gguf_get_arr_n(*g, key);
	return 0;
}

int eb_synth_vocab_size(const char *path, int64_t *n_vocab, struct eb_err *err)
{
	struct gguf_context *g = NULL;
	int rc = eb_synth_open_vocab(path, &g, n_vocab, err);

	if (g)
		gguf_free(g);
	return rc;
}

/* --- writing ---------------------------------------------------------------------- */

/* splitmix64: fast, and every 64-bit state gives a good stream. */
static uint64_t eb_synth_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Each tensor's stream depends on the seed and its name only. */
static uint64_t eb_synth_tensor_seed(uint64_t seed, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	uint64_t s;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	s = seed ^ h;
	return eb_synth_rand(&s);
}

/* Uniform on [-a, a] with a = 0.02 * sqrt(3): standard deviation 0.02. */
static void eb_synth_fill(float *x, size_t n, uint64_t *state)
{
	const float a = 0.0346410162f, scale = 2.0f * a / 16777216.0f;
	size_t i = 0;

	while (i < n) {
		uint64_t r = eb_synth_rand(state);

		x[i++] = (float)(r >> 40) * scale - a;
		if (i < n)
			x[i++] = (float)((r >> 8) & 0xffffff) * scale - a;
	}
}

static int eb_synth_write_all(int fd, const void *data, size_t n, const char *path,
			      struct eb_err *err)
{
	const char *p = data;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return eb_err_set(err, EB_EIO, "cannot write '%s': %s", path,
					  w < 0 ? strerror(errno) : "short write");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

struct eb_synth_writer {
	int fd;
	const char *path;
	uint64_t written, total, t0, t_last;
	const struct eb_synth_opts *o;
};

static void eb_synth_report(struct eb_synth_writer *w, int force)
{
	uint64_t now = eb_clock_ns();

	if (!w->o->progress || w->o->quiet)
		return;
	if (!force && now - w->t_last < 1000000000ull)
		return;
	w->t_last = now;
	w->o->progress(w->o->progress_ud, "writing", w->written, w->total, now - w->t0);
}

static int eb_synth_stopped(const struct eb_synth_opts *o, struct eb_err *err)
{
	if (o->stop && *o->stop)
		return eb_err_set(err, EB_EINTR, "interrupted; nothing written to '%s'", o->out);
	return 0;
}

static int eb_synth_emit(struct eb_synth_writer *w, const void *data, size_t n,
			 struct eb_err *err)
{
	if (eb_synth_stopped(w->o, err) != 0)
		return err->code;
	if (eb_synth_write_all(w->fd, data, n, w->path, err) != 0)
		return err->code;
	w->written += n;
	eb_synth_report(w, 0);
	return 0;
}

#define EB_SYNTH_CHUNK ((size_t)1 << 20) /* elements generated at a time */

/* Writes one tensor's data: norms are 1.0, everything else small uniform noise. */
static int eb_synth_tensor_data(struct eb_synth_writer *w, const char *name, enum ggml_type type,
				int64_t nelem, float *fbuf, ggml_fp16_t *hbuf, struct eb_err *err)
{
	uint64_t state = eb_synth_tensor_seed(w->o->seed, name);
	int ones = strstr(name, "_norm.") != NULL;
	int64_t done = 0;

	while (done < nelem) {
		size_t n = (size_t)(nelem - done) < EB_SYNTH_CHUNK ? (size_t)(nelem - done)
								     : EB_SYNTH_CHUNK;
		int rc;

		if (ones) {
			for (size_t i = 0; i < n; i++)
				fbuf[i] = 1.0f;
		} else {
			eb_synth_fill(fbuf, n, &state);
		}
		if (type == GGML_TYPE_F16) {
			ggml_fp32_to_fp16_row(fbuf, hbuf, (int64_t)n);
			rc = eb_synth_emit(w, hbuf, n * sizeof(*hbuf), err);
		} else {
			rc = eb_synth_emit(w, fbuf, n * sizeof(*fbuf), err);
		}
		if (rc != 0)
			return rc;
		done += (int64_t)n;
	}
	return 0;
}

/*
 * Adds a matrix of `type` (ne1 > 0) or an F32 vector (ne1 == 0) named "blk.<layer>.<what>",
 * or just `what` when layer < 0.
 */
static void eb_synth_add(struct ggml_context *ctx, struct gguf_context *g, enum ggml_type type,
			 int64_t ne0, int64_t ne1, const char *what, int layer)
{
	struct ggml_tensor *t;
	char name[GGML_MAX_NAME];

	if (ne1 > 0)
		t = ggml_new_tensor_2d(ctx, type, ne0, ne1);
	else
		t = ggml_new_tensor_1d(ctx, GGML_TYPE_F32, ne0);
	if (layer < 0)
		snprintf(name, sizeof(name), "%s", what);
	else
		snprintf(name, sizeof(name), "blk.%d.%s", layer, what);
	ggml_set_name(t, name);
	gguf_add_tensor(g, t);
}

/* The tensors llama.cpp's llama/qwen2 loaders look for, in convert_hf_to_gguf's order. */
static void eb_synth_add_tensors(struct ggml_context *ctx, struct gguf_context *g,
				 const struct eb_synth_shape *s, int64_t n_vocab, enum ggml_type wt)
{
	int64_t e = s->n_embd, f = s->n_ff, kv = (int64_t)s->n_embd / s->n_head * s->n_head_kv;
	int qwen2 = eb_synth_is_qwen2(s);

	eb_synth_add(ctx, g, wt, e, n_vocab, "token_embd.weight", -1);
	for (int i = 0; i < s->n_layer; i++) {
		eb_synth_add(ctx, g, wt, e, 0, "attn_norm.weight", i);
		eb_synth_add(ctx, g, wt, e, e, "attn_q.weight", i);
		if (qwen2)
			eb_synth_add(ctx, g, wt, e, 0, "attn_q.bias", i);
		eb_synth_add(ctx, g, wt, e, kv, "attn_k.weight", i);
		if (qwen2)
			eb_synth_add(ctx, g, wt, kv, 0, "attn_k.bias", i);
		eb_synth_add(ctx, g, wt, e, kv, "attn_v.weight", i);
		if (qwen2)
			eb_synth_add(ctx, g, wt, kv, 0, "attn_v.bias", i);
		eb_synth_add(ctx, g, wt, e, e, "attn_output.weight", i);
		eb_synth_add(ctx, g, wt, e, 0, "ffn_norm.weight", i);
		eb_synth_add(ctx, g, wt, e, f, "ffn_gate.weight", i);
		eb_synth_add(ctx, g, wt, e, f, "ffn_up.weight", i);
		eb_synth_add(ctx, g, wt, f, e, "ffn_down.weight", i);
	}
	eb_synth_add(ctx, g, wt, e, 0, "output_norm.weight", -1);
	if (!s->tied_embd)
		eb_synth_add(ctx, g, wt, e, n_vocab, "output.weight", -1);
}

/* Copies every tokenizer.* key of the vocab GGUF. */
static int eb_synth_copy_tokenizer(struct gguf_context *dst, const struct gguf_context *src,
				   const char *path, struct eb_err *err)
{
	int64_t n_kv = gguf_get_n_kv(src);

	for (int64_t i = 0; i < n_kv; i++) {
		const char *key = gguf_get_key(src, i);
		enum gguf_type at;
		size_t n;

		if (strncmp(key, "tokenizer.", 10) != 0)
			continue;
		switch (gguf_get_kv_type(src, i)) {
		case GGUF_TYPE_UINT8: gguf_set_val_u8(dst, key, gguf_get_val_u8(src, i)); break;
		case GGUF_TYPE_INT8: gguf_set_val_i8(dst, key, gguf_get_val_i8(src, i)); break;
		case GGUF_TYPE_UINT16: gguf_set_val_u16(dst, key, gguf_get_val_u16(src, i)); break;
		case GGUF_TYPE_INT16: gguf_set_val_i16(dst, key, gguf_get_val_i16(src, i)); break;
		case GGUF_TYPE_UINT32: gguf_set_val_u32(dst, key, gguf_get_val_u32(src, i)); break;
		case GGUF_TYPE_INT32: gguf_set_val_i32(dst, key, gguf_get_val_i32(src, i)); break;
		case GGUF_TYPE_FLOAT32: gguf_set_val_f32(dst, key, gguf_get_val_f32(src, i)); break;
		case GGUF_TYPE_UINT64: gguf_set_val_u64(dst, key, gguf_get_val_u64(src, i)); break;
		case GGUF_TYPE_INT64: gguf_set_val_i64(dst, key, gguf_get_val_i64(src, i)); break;
		case GGUF_TYPE_FLOAT64: gguf_set_val_f64(dst, key, gguf_get_val_f64(src, i)); break;
		case GGUF_TYPE_BOOL: gguf_set_val_bool(dst, key, gguf_get_val_bool(src, i)); break;
		case GGUF_TYPE_STRING: gguf_set_val_str(dst, key, gguf_get_val_str(src, i)); break;
		case GGUF_TYPE_ARRAY:
			at = gguf_get_arr_type(src, i);
			n = gguf_get_arr_n(src, i);
			if (at == GGUF_TYPE_STRING) {
				const char **v = eb_xcalloc(n ? n : 1, sizeof(*v));

				for (size_t j = 0; j < n; j++)
					v[j] = gguf_get_arr_str(src, i, j);
				gguf_set_arr_str(dst, key, v, n);
				free(v);
			} else if (at == GGUF_TYPE_ARRAY) {
				return eb_err_set(err, EB_EUNSUPPORTED,
						  "vocab '%s': nested array '%s' not supported",
						  path, key);
			} else {
				gguf_set_arr_data(dst, key, at, gguf_get_arr_data(src, i), n);
			}
			break;
		default:
			return eb_err_set(err, EB_EUNSUPPORTED, "vocab '%s': key '%s' has type %d",
					  path, key, (int)gguf_get_kv_type(src, i));
		}
	}
	return 0;
}

/* "<arch>.<suffix>" into key[128]; returns key. */
static const char *eb_synth_key(char key[128], const char *arch, const char *suffix)
{
	snprintf(key, 128, "%s.%s", arch, suffix);
	return key;
}

static void eb_synth_set_hparams(struct gguf_context *g, const struct eb_synth_shape *s,
				 int64_t n_vocab, enum llama_ftype ftype, uint64_t seed)
{
	static const struct {
		const char *suffix;
		size_t off; /* of an int field in struct eb_synth_shape */
	} ints[] = {
		{ "context_length", offsetof(struct eb_synth_shape, n_ctx_train) },
		{ "embedding_length", offsetof(struct eb_synth_shape, n_embd) },
		{ "block_count", offsetof(struct eb_synth_shape, n_layer) },
		{ "feed_forward_length", offsetof(struct eb_synth_shape, n_ff) },
		{ "attention.head_count", offsetof(struct eb_synth_shape, n_head) },
		{ "attention.head_count_kv", offsetof(struct eb_synth_shape, n_head_kv) },
	};
	char key[128], text[512];

	gguf_set_val_str(g, "general.architecture", s->arch);
	snprintf(text, sizeof(text), "edgebench synth %s", s->name);
	gguf_set_val_str(g, "general.name", text);
	snprintf(text, sizeof(text),
		 "random weights (seed %" PRIu64 ") in the shape of %s, written by edgebench "
		 "model synth for speed and memory measurements; its accuracy is meaningless",
		 seed, s->help ? s->help : s->name);
	gguf_set_val_str(g, "general.description", text);
	gguf_set_val_u32(g, "general.file_type", (uint32_t)ftype);
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		const int *v = (const int *)((const char *)s + ints[i].off);

		gguf_set_val_u32(g, eb_synth_key(key, s->arch, ints[i].suffix), (uint32_t)*v);
	}
	gguf_set_val_u32(g, eb_synth_key(key, s->arch, "vocab_size"), (uint32_t)n_vocab);
	gguf_set_val_u32(g, eb_synth_key(key, s->arch, "rope.dimension_count"),
			 (uint32_t)(s->n_embd / s->n_head));
	gguf_set_val_f32(g, eb_synth_key(key, s->arch, "rope.freq_base"), s->rope_theta);
	gguf_set_val_f32(g, eb_synth_key(key, s->arch, "attention.layer_norm_rms_epsilon"),
			 s->norm_eps);
}

/* Creates "<out><tag>.XXXXXX" next to out; *fd open on it. */
static int eb_synth_mktemp(const char *out, const char *tag, char *buf, size_t n, int *fd,
			   struct eb_err *err)
{
	if ((size_t)snprintf(buf, n, "%s%s.XXXXXX", out, tag) >= n) {
		buf[0] = '\0';
		return eb_err_set(err, EB_EINVAL, "path too long: '%s'", out);
	}
	*fd = mkstemp(buf);
	if (*fd < 0) {
		int e = errno;

		buf[0] = '\0';
		return eb_err_set(err, EB_EIO, "cannot write '%s': %s", out, strerror(e));
	}
	return 0;
}

/* Makes a finished temp file readable as a normal file would be (mkstemp uses 0600). */
static void eb_synth_chmod(const char *path)
{
	mode_t mask = umask(0);

	umask(mask);
	chmod(path, 0666 & ~mask);
}

/*
 * Writes the unquantized model (F32 or F16 matrices) into the open fd. Fails on any
 * write error; the caller removes the file.
 */
static int eb_synth_write_gguf(const struct eb_synth_opts *o, const struct eb_synth_shape *s,
			       const struct gguf_context *voc, const char *vocab_path,
			       int64_t n_vocab, enum ggml_type wt, enum llama_ftype ftype,
			       int fd, const char *path, struct eb_err *err)
{
	struct gguf_context *g = gguf_init_empty();
	struct ggml_context *ctx = NULL;
	struct eb_synth_writer w;
	struct statvfs vfs;
	unsigned char *meta = NULL;
	float *fbuf = NULL;
	ggml_fp16_t *hbuf = NULL;
	static const unsigned char zeros[64];
	size_t meta_size, align, data_off;
	int64_t n_tensors;
	int ret = -1;

	memset(&w, 0, sizeof(w));
	w.fd = fd;
	w.path = path;
	w.o = o;
	w.t0 = w.t_last = eb_clock_ns();

	eb_synth_set_hparams(g, s, n_vocab, ftype, o->seed);
	if (eb_synth_copy_tokenizer(g, voc, vocab_path, err) != 0)
		goto out;
	{
		struct ggml_init_params ip = {
			.mem_size = (size_t)(4 + 12 * (size_t)s->n_layer) * ggml_tensor_overhead(),
			.mem_buffer = NULL,
			.no_alloc = true,
		};

		ctx = ggml_init(ip);
		if (!ctx) {
			eb_err_set(err, EB_ENOMEM, "cannot allocate tensor metadata");
			goto out;
		}
	}
	eb_synth_add_tensors(ctx, g, s, n_vocab, wt);

	/* the data section starts right after the (padded) metadata */
	meta_size = gguf_get_meta_size(g);
	align = gguf_get_alignment(g);
	data_off = meta_size;
	n_tensors = gguf_get_n_tensors(g);
	w.total = data_off + gguf_get_tensor_offset(g, n_tensors - 1) +
		  GGML_PAD(gguf_get_tensor_size(g, n_tensors - 1), align);
	if (meta_size % align != 0) {
		eb_err_set(err, EB_EIO, "internal error: metadata size %zu not aligned to %zu",
			   meta_size, align);
		goto out;
	}
	if (fstatvfs(fd, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < w.total) {
		eb_err_set(err, EB_EIO, "cannot write '%s': needs %.2f GiB, %.2f GiB free", path,
			   (double)w.total / (1 << 30),
			   (double)vfs.f_bavail * vfs.f_frsize / (1 << 30));
		goto out;
	}

	meta = eb_xmalloc(meta_size);
	gguf_get_meta_data(g, meta);
	if (eb_synth_emit(&w, meta, meta_size, err) != 0)
		goto out;

	fbuf = eb_xmalloc(EB_SYNTH_CHUNK * sizeof(*fbuf));
	hbuf = eb_xmalloc(EB_SYNTH_CHUNK * sizeof(*hbuf));
	for (int64_t i = 0; i < n_tensors; i++) {
		const char *name = gguf_get_tensor_name(g, i);
		const int64_t *ne = gguf_get_tensor_ne(g, i);
		size_t size = gguf_get_tensor_size(g, i);
		size_t pad = GGML_PAD(size, align) - size;

		if (w.written != data_off + gguf_get_tensor_offset(g, i)) {
			eb_err_set(err, EB_EIO, "internal error: '%s' at %" PRIu64 ", expected %zu",
				   name, w.written, data_off + gguf_get_tensor_offset(g, i));
			goto out;
		}
		if (eb_synth_tensor_data(&w, name, gguf_get_tensor_type(g, i),
					 ne[0] * ne[1] * ne[2] * ne[3], fbuf, hbuf, err) != 0)
			goto out;
		while (pad > 0) {
			size_t k = pad < sizeof(zeros) ? pad : sizeof(zeros);

			if (eb_synth_emit(&w, zeros, k, err) != 0)
				goto out;
			pad -= k;
		}
	}
	if (fsync(fd) != 0) {
		eb_err_set(err, EB_EIO, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	eb_synth_report(&w, 1);
	ret = 0;
out:
	free(hbuf);
	free(fbuf);
	free(meta);
	if (ctx)
		ggml_free(ctx);
	gguf_free(g);
	return ret;
}

int eb_synth_model(const struct eb_synth_opts *o, struct eb_err *err)
{
	struct gguf_context *voc = NULL;
	const struct eb_synth_type *t;
	struct eb_synth_shape s;
	struct eb_synth_log lg;
	ggml_log_callback old_cb;
	void *old_ud;
	char vocab[PATH_MAX], tmp[PATH_MAX] = "", tmp16[PATH_MAX] = "";
	int64_t n_vocab = 0;
	int quant, fd = -1;
	int ret = -1;

	eb_err_clear(err);
	if (!o->out || !*o->out)
		return eb_err_set(err, EB_EINVAL, "no output file given");
	if (eb_synth_resolve(o, &s, vocab, sizeof(vocab), err) != 0)
		return err->code;
	t = eb_synth_type_find(o->type);
	quant = t->ftype != LLAMA_FTYPE_ALL_F32 && t->ftype != LLAMA_FTYPE_MOSTLY_F16;

	memset(&lg, 0, sizeof(lg));
	lg.o = o;
	llama_log_get(&old_cb, &old_ud);
	llama_log_set(eb_synth_log_cb, &lg);

	if (eb_synth_open_vocab(vocab, &voc, &n_vocab, err) != 0)
		goto out;

	if (eb_synth_mktemp(o->out, quant ? ".f16.tmp" : ".tmp", quant ? tmp16 : tmp,
			    PATH_MAX, &fd, err) != 0)
		goto out;
	if (eb_synth_write_gguf(o, &s, voc, vocab, n_vocab,
				t->ftype == LLAMA_FTYPE_ALL_F32 ? GGML_TYPE_F32 : GGML_TYPE_F16,
				t->ftype == LLAMA_FTYPE_ALL_F32 ? LLAMA_FTYPE_ALL_F32
								: LLAMA_FTYPE_MOSTLY_F16,
				fd, o->out, err) != 0)
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		eb_err_set(err, EB_EIO, "cannot write '%s': %s", o->out, strerror(errno));
		goto out;
	}
	fd = -1;

	if (quant) {
		struct llama_model_quantize_params qp = llama_model_quantize_default_params();

		if (eb_synth_mktemp(o->out, ".tmp", tmp, sizeof(tmp), &fd, err) != 0)
			goto out;
		close(fd);
		fd = -1;
		qp.nthread = o->threads > 0 ? o->threads : 0;
		qp.ftype = t->ftype;
		lg.phase = "quantizing";
		lg.t0 = lg.t_last = eb_clock_ns();
		lg.last_err[0] = '\0';
		llama_backend_init();
		if (llama_model_quantize(tmp16, tmp, &qp) != 0) {
			eb_err_set(err, EB_EIO, "cannot quantize '%s' to %s: %s", o->out, t->name,
				   eb_synth_log_msg(&lg));
			goto out;
		}
		lg.phase = NULL;
		if (eb_synth_stopped(o, err) != 0)
			goto out;
		unlink(tmp16);
		tmp16[0] = '\0';
		fd = open(tmp, O_RDONLY);
		if (fd < 0 || fsync(fd) != 0) {
			eb_err_set(err, EB_EIO, "cannot write '%s': %s", tmp, strerror(errno));
			goto out;
		}
		close(fd);
		fd = -1;
	}
	eb_synth_chmod(tmp);
	if (rename(tmp, o->out) != 0) {
		eb_err_set(err, EB_EIO, "cannot rename '%s' to '%s': %s", tmp, o->out,
			   strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp16[0])
		unlink(tmp16);
	if (tmp[0])
		unlink(tmp);
	if (voc)
		gguf_free(voc);
	llama_log_set(old_cb, old_ud);
	if (ret != 0 && err->code == EB_OK)
		eb_err_set(err, EB_EIO, "cannot write '%s'", o->out);
	return ret == 0 ? 0 : err->code;
}

#else /* !EB_HAVE_LLAMA */

void eb_synth_print_types(FILE *f, int indent, int width)
{
	fprintf(f, "%*s(none: built without llama.cpp)\n", indent, "");
}

int eb_synth_resolve(const struct eb_synth_opts *o, struct eb_synth_shape *shape, char *vocab,
		     size_t vocab_n, struct eb_err *err)
{
	int rc = eb_synth_resolve_shape(o, shape, err);

	if (rc != 0)
		return rc;
	return eb_err_set(err, EB_EUNSUPPORTED, "built without llama.cpp");
}

int eb_synth_vocab_size(const char *path, int64_t *n_vocab, struct eb_err *err)
{
	return eb_err_set(err, EB_EUNSUPPORTED, "built without llama.cpp");
}

int eb_synth_model(const struct eb_synth_opts *o, struct eb_err *err)
{
	return eb_err_set(err, EB_EUNSUPPORTED, "built without llama.cpp");
}

#endif /* EB_HAVE_LLAMA */

static void eb_synth_human(char *buf, size_t n, uint64_t v)
{
	if (v >= 1000000000ull)
		snprintf(buf, n, "%.2fB", (double)v / 1e9);
	else
		snprintf(buf, n, "%.1fM", (double)v / 1e6);
}

void eb_synth_print_shapes(FILE *f)
{
	fprintf(f, "%-15s %-6s %6s %6s %5s %5s %6s %6s %9s %9s  %-10s %s\n", "shape", "arch",
		"n_embd", "layers", "heads", "kv", "n_ff", "ctx", "rope", "params", "vocab",
		"mirrors");
	for (const struct eb_synth_shape *s = eb_synth_shapes; s->name; s++) {
		char path[PATH_MAX], params[32];
		struct eb_err err;
		int64_t n_vocab = 0;
		int nominal = 0;

		if (eb_synth_vocab_path(s->default_vocab, path, sizeof(path), &err) != 0 ||
		    eb_synth_vocab_size(path, &n_vocab, &err) != 0) {
			for (size_t i = 0; eb_synth_nominal_vocab[i].vocab; i++)
				if (strcmp(eb_synth_nominal_vocab[i].vocab, s->default_vocab) == 0)
					n_vocab = eb_synth_nominal_vocab[i].n_vocab;
			nominal = 1;
		}
		eb_synth_human(params, sizeof(params), eb_synth_n_params(s, n_vocab));
		fprintf(f, "%-15s %-6s %6d %6d %5d %5d %6d %6d %9.0f %8s%s  %-10s %s%s\n", s->name,
			s->arch, s->n_embd, s->n_layer, s->n_head, s->n_head_kv, s->n_ff,
			s->n_ctx_train, (double)s->rope_theta, params, nominal ? "~" : " ",
			s->default_vocab, s->help, s->tied_embd ? "; tied embeddings" : "");
	}
}
