/* config.c: config loading and validation, driven by one table of keys (see config.h). */
#include "config.h"
#include "protocol.h"
#include "sensor.h"
#include "eb_util.h"
#include "jsonpos.h"

#include <ctype.h>
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum eb_ktype { K_STR, K_INT, K_NUM, K_BOOL, K_OBJ, K_ARR_OBJ, K_ARR_INT, K_ARR_STR, K_OPTS };

/* One config key: drives validation, defaults and `edgebench validate --schema`. */
struct eb_key {
	const char *name;
	enum eb_ktype type;
	int required;
	const struct eb_key *sub; /* K_OBJ, K_ARR_OBJ */
	double min, max;          /* K_INT, K_NUM, K_ARR_INT items; min > max: unbounded */
	const char *def;
	const char *help;
};

#define EB_NOLIM 1, 0

static const struct eb_key eb_k_profile[] = {
	{ "mem_bw_gbps", K_NUM, 0, NULL, 0.001, 1e6, NULL,
	  "peak memory bandwidth in GB/s (10^9 B/s); enables the MBU metric" },
	{ "mem_gb", K_NUM, 0, NULL, 0.001, 1e6, NULL, "device memory in GB (recorded)" },
	{ "peak_tflops", K_NUM, 0, NULL, 0.000001, 1e6, NULL, "peak compute in TFLOP/s (recorded)" },
	{ "tdp_w", K_NUM, 0, NULL, 0.001, 1e6, NULL, "power envelope in W (recorded)" },
	{ "notes", K_STR, 0, NULL, EB_NOLIM, NULL, "free text (recorded)" },
	{ NULL },
};

static const struct eb_key eb_k_device[] = {
	{ "name", K_STR, 1, NULL, EB_NOLIM, NULL, "device name stored with every cell" },
	{ "profile", K_OBJ, 0, eb_k_profile, EB_NOLIM, NULL, "figures used for utilisation" },
	{ NULL },
};

static const struct eb_key eb_k_target[] = {
	{ "id", K_STR, 1, NULL, EB_NOLIM, NULL, "unique target id ([A-Za-z0-9_.-]+)" },
	{ "adapter", K_STR, 1, NULL, EB_NOLIM, NULL, "backend: see `edgebench adapters`" },
	{ "options", K_OPTS, 0, NULL, EB_NOLIM, NULL,
	  "adapter options, checked against the adapter's table" },
	{ "description", K_STR, 0, NULL, EB_NOLIM, NULL, "free text" },
	{ NULL },
};

static const struct eb_key eb_k_synth[] = {
	{ "shape", K_STR, 1, NULL, EB_NOLIM, NULL, "a shape from `edgebench model shapes`" },
	{ "type", K_STR, 0, NULL, EB_NOLIM, "the variant's quant", "GGUF type (f16, q8_0, q4_0, q4_k_m, ...)" },
	{ "vocab", K_STR, 0, NULL, EB_NOLIM, "the shape's", "tokenizer: llama-spm, llama-bpe, qwen2 or a vocab GGUF path" },
	{ "seed", K_INT, 0, NULL, 0, 4294967295.0, "1", "weights seed" },
	{ NULL },
};

static const struct eb_key eb_k_scheme[] = {
	{ "weights", K_STR, 0, NULL, EB_NOLIM, NULL, "weight quantization label, e.g. W4 (group 128)" },
	{ "activations", K_STR, 0, NULL, EB_NOLIM, NULL, "activation quantization label, e.g. A8" },
	{ "kv_cache", K_STR, 0, NULL, EB_NOLIM, NULL, "KV-cache quantization label, e.g. f16" },
	{ NULL },
};

static const struct eb_key eb_k_variant[] = {
	{ "quant", K_STR, 1, NULL, EB_NOLIM, NULL, "quantization label (f16, q4_0, awq-int4, ...)" },
	{ "file", K_STR, 0, NULL, EB_NOLIM, NULL,
	  "model file for local adapters; ${VAR} expanded; relative to the working directory" },
	{ "model_name", K_STR, 0, NULL, EB_NOLIM, NULL, "model name on a server (remote adapters)" },
	{ "synth", K_OBJ, 0, eb_k_synth, EB_NOLIM, NULL,
	  "synthesize `file` (random weights, real tokenizer) when it does not exist" },
	{ "scheme", K_OBJ, 0, eb_k_scheme, EB_NOLIM, NULL, "quantization scheme labels for reports" },
	{ NULL },
};

static const struct eb_key eb_k_model[] = {
	{ "id", K_STR, 1, NULL, EB_NOLIM, NULL, "unique model id" },
	{ "variants", K_ARR_OBJ, 1, eb_k_variant, EB_NOLIM, NULL, "one entry per quantization" },
	{ "targets", K_ARR_STR, 0, NULL, EB_NOLIM, "all", "run this model only on these target ids" },
	{ "description", K_STR, 0, NULL, EB_NOLIM, NULL, "free text" },
	{ NULL },
};

static const struct eb_key eb_k_latency[] = {
	{ "prompt_tokens", K_ARR_INT, 1, NULL, 1, 1000000, NULL,
	  "prompt lengths in tokens; one cell per length" },
	{ "gen_tokens", K_INT, 1, NULL, 2, 1000000, NULL, "tokens generated per request (EOS ignored)" },
	{ "warmup", K_INT, 0, NULL, 0, 1000, "1", "warm-up requests per cell (stored, flagged, not counted)" },
	{ "repetitions", K_INT, 0, NULL, 1, 100000, "5", "measured requests per cell" },
	{ "seed", K_INT, 0, NULL, 0, 4294967295.0, "42", "sampling seed" },
	{ "temperature", K_NUM, 0, NULL, 0, 100, "0", "0 = greedy" },
	{ "prompts", K_STR, 0, NULL, EB_NOLIM, "same",
	  "same: every request sends one prompt; distinct: each request starts elsewhere in "
	  "the text, so none shares a prefix a server could cache (hailo-ollama)" },
	{ NULL },
};

/*
 * The help of the task key "protocol": the names in the protocol table (protocol.c),
 * written in by eb_protocol_help_fill before the schema is printed.
 */
static char eb_protocol_help[512];

static void eb_protocol_help_fill(void)
{
	struct eb_buf b;

	eb_buf_init(&b, 0);
	eb_acc_protocol_names(&b, ", ", " or ", NULL);
	eb_buf_addstr(&b, " (see Accuracy protocols); stored with every figure");
	eb_strlcpy(eb_protocol_help, b.buf, sizeof(eb_protocol_help));
	eb_buf_release(&b);
}

static const struct eb_key eb_k_acc_task[] = {
	{ "task", K_STR, 1, NULL, EB_NOLIM, NULL,
	  "task id, the last part of the cell key (target/model/quant/accuracy/TASK)" },
	{ "protocol", K_STR, 1, NULL, EB_NOLIM, NULL, eb_protocol_help },
	{ "file", K_STR, 0, NULL, EB_NOLIM, "the fetched dataset",
	  "dataset file: .jsonl (hellaswag), wiki.test.raw, a .zip holding it, .json.gz (c4) or "
	  "any text (wikitext2-llamacpp, kld); ${VAR} expanded; relative to the config file" },
	{ "member", K_STR, 0, NULL, EB_NOLIM, "wikitext-2-raw/wiki.test.raw",
	  "the member to read when file is a .zip" },
	{ "n_ctx", K_INT, 0, NULL, 16, 1000000, "512",
	  "wikitext2-llamacpp, kld: tokens per chunk (llama-perplexity -c)" },
	{ "seqlen", K_INT, 0, NULL, 16, 1000000, "2048",
	  "wikitext2-gptq, c4-gptq, c4-new: window length; wikitext2-lmeval, hellaswag: "
	  "maximum length (lm-eval max_length)" },
	{ "limit", K_INT, 0, NULL, 1, 1000000000, "all",
	  "score only the first N items (hellaswag), documents (wikitext2-lmeval), chunks or "
	  "windows (the others); recorded with the figures" },
	{ "n_samples", K_INT, 0, NULL, 1, 1000000, "256",
	  "c4-gptq: windows sampled; c4-new: windows of the first 1100 documents" },
	{ "seed", K_INT, 0, NULL, 0, 4294967295.0, "0", "c4-gptq: the random.seed of the sampler" },
	{ "n_batch", K_INT, 0, NULL, 1, 1000000, "the target's",
	  "tokens per forward pass while scoring (llama-perplexity -b)" },
	{ "bos", K_BOOL, 0, NULL, EB_NOLIM, "false",
	  "hellaswag: start each request with BOS (lm-eval's HF models do not)" },
	{ NULL },
};

static const struct eb_key eb_k_kld[] = {
	{ "reference", K_STR, 1, NULL, EB_NOLIM, NULL,
	  "quant label of the reference variant of each model (e.g. f16); its kld cell runs first "
	  "and keeps its log-probabilities" },
	{ "dir", K_STR, 0, NULL, EB_NOLIM, "DB.kld next to the database",
	  "directory for reference log-probabilities (llama-perplexity --kl-divergence-base "
	  "format); ${VAR} expanded" },
	{ NULL },
};

static const struct eb_key eb_k_accuracy[] = {
	{ "tasks", K_ARR_OBJ, 1, eb_k_acc_task, EB_NOLIM, NULL, "one cell per task and variant" },
	{ "kld", K_OBJ, 0, eb_k_kld, EB_NOLIM, NULL, "the reference for protocol kld" },
	{ NULL },
};

static const struct eb_key eb_k_workloads[] = {
	{ "latency", K_OBJ, 0, eb_k_latency, EB_NOLIM, NULL, "TTFT, prefill/decode rates, ITL, E2E" },
	{ "accuracy", K_OBJ, 0, eb_k_accuracy, EB_NOLIM, NULL,
	  "perplexity, HellaSwag and KL divergence under named protocols (needs an adapter "
	  "that scores log-likelihoods; others store the cell as skipped)" },
	{ NULL },
};

static const struct eb_key eb_k_rule[] = {
	{ "target", K_STR, 0, NULL, EB_NOLIM, "*", "fnmatch pattern on target id" },
	{ "model", K_STR, 0, NULL, EB_NOLIM, "*", "fnmatch pattern on model id" },
	{ "quant", K_STR, 0, NULL, EB_NOLIM, "*", "fnmatch pattern on quant label" },
	{ NULL },
};

static const struct eb_key eb_k_matrix[] = {
	{ "include", K_ARR_OBJ, 0, eb_k_rule, EB_NOLIM, "all",
	  "keep only cells matching one of these rules" },
	{ "exclude", K_ARR_OBJ, 0, eb_k_rule, EB_NOLIM, NULL, "drop cells matching any of these" },
	{ NULL },
};

static const struct eb_key eb_k_sensor[] = {
	{ "kind", K_STR, 1, NULL, EB_NOLIM, NULL,
	  "tegrastats, hwmon, nvml, rapl, proc or cmd (see `edgebench sensors`)" },
	{ "options", K_OPTS, 0, NULL, EB_NOLIM, NULL,
	  "the kind's options (`edgebench sensors` lists them), checked against its table" },
	{ NULL },
};

static const struct eb_key eb_k_power[] = {
	{ "interval_ms", K_INT, 0, NULL, 1, 60000, "50", "sampling interval of polled sensors" },
	{ "idle_s", K_NUM, 0, NULL, 0, 3600, "5",
	  "idle baseline measured before each cell (model loaded, nothing running); 0 = none" },
	{ "cooldown_s", K_NUM, 0, NULL, 0, 86400, "0", "fixed pause before each cell" },
	{ "cooldown_zone", K_STR, 0, NULL, EB_NOLIM, NULL,
	  "then wait until this thermal zone (type such as cpu-thermal, or thermal_zoneN) reads "
	  "below cooldown_below_c" },
	{ "cooldown_below_c", K_NUM, 0, NULL, -50, 200, "50", "cool-down target temperature, C" },
	{ "cooldown_timeout_s", K_NUM, 0, NULL, 0, 86400, "600",
	  "give up waiting after this long (the cell runs, with a warning)" },
	{ "store_samples", K_BOOL, 0, NULL, EB_NOLIM, "true",
	  "keep every raw sample in power_samples (false: only the energy metrics)" },
	{ "sysfs_root", K_STR, 0, NULL, EB_NOLIM, "/",
	  "read sysfs and thermal zones under this directory (a fixture tree, a chroot)" },
	{ NULL },
};

static const struct eb_key eb_k_root[] = {
	{ "name", K_STR, 1, NULL, EB_NOLIM, NULL, "run name" },
	{ "description", K_STR, 0, NULL, EB_NOLIM, NULL, "free text" },
	{ "db", K_STR, 0, NULL, EB_NOLIM, "edgebench.db", "output SQLite file (--db overrides)" },
	{ "device", K_OBJ, 0, eb_k_device, EB_NOLIM, NULL, "the device under test" },
	{ "targets", K_ARR_OBJ, 1, eb_k_target, EB_NOLIM, NULL, "backends on the device" },
	{ "models", K_ARR_OBJ, 1, eb_k_model, EB_NOLIM, NULL, "models and their quantized variants" },
	{ "workloads", K_OBJ, 1, eb_k_workloads, EB_NOLIM, NULL, "what each cell runs" },
	{ "matrix", K_OBJ, 0, eb_k_matrix, EB_NOLIM, NULL, "include/exclude rules over the cells" },
	{ "sensors", K_ARR_OBJ, 0, eb_k_sensor, EB_NOLIM, "none",
	  "power and memory sensors sampled during latency cells; one unavailable here is "
	  "skipped with its reason as a warning" },
	{ "power", K_OBJ, 0, eb_k_power, EB_NOLIM, NULL, "how the sensors are sampled" },
	{ NULL },
};

/* --- error collection ------------------------------------------------------------ */

struct eb_vctx {
	const char *file;
	struct eb_jsonpos pos;
	struct eb_buf errors;
	struct eb_err first;
	int n_errors;
};

static void eb_verr(struct eb_vctx *v, const char *path, int at_key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void eb_verr(struct eb_vctx *v, const char *path, int at_key, const char *fmt, ...)
{
	const struct eb_jsonpos_ent *e = eb_jsonpos_find(&v->pos, path);
	char msg[768];
	int line = 1, col = 1;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (e) {
		line = at_key && e->key_line ? e->key_line : e->val_line;
		col = at_key && e->key_line ? e->key_col : e->val_col;
	}
	eb_buf_addf(&v->errors, "%s:%d:%d: %s%s%s\n", v->file, line, col, *path ? path : "",
		    *path ? ": " : "", msg);
	if (v->n_errors++ == 0)
		eb_err_set(&v->first, EB_ECONFIG, "%s:%d:%d: %s%s%s", v->file, line, col,
			   *path ? path : "", *path ? ": " : "", msg);
}

static const char *eb_suggest(const char *name, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t bestd = (size_t)-1, len = strlen(name);
	size_t limit = len / 3 > 2 ? len / 3 : 2;

	for (size_t i = 0; i < n; i++) {
		size_t d = eb_edit_distance(name, cands[i]);
		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	return bestd <= limit ? best : NULL;
}

/* "unknown WHAT "name"; did you mean "x"?", else "... (see `SEE`)". */
static void eb_verr_unknown(struct eb_vctx *v, const char *path, const char *what,
			    const char *name, const char *const *names, size_t nn, const char *see)
{
	const char *s = eb_suggest(name, names, nn);

	if (s)
		eb_verr(v, path, 0, "unknown %s \"%s\"; did you mean \"%s\"?", what, name, s);
	else
		eb_verr(v, path, 0, "unknown %s \"%s\" (see `%s`)", what, name, see);
}

static const char *eb_ktype_name(enum eb_ktype t)
{
	switch (t) {
	case K_STR:
		return "a string";
	case K_INT:
		return "an integer";
	case K_NUM:
		return "a number";
	case K_BOOL:
		return "true or false";
	case K_OBJ:
	case K_OPTS:
		return "an object";
	case K_ARR_OBJ:
		return "an array of objects";
	case K_ARR_INT:
		return "an array of integers";
	case K_ARR_STR:
		return "an array of strings";
	}
	return "?";
}

static const char *eb_jtype_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "?";
}

/* `val` (a number) against min..max, printed as given: a large integer is not rounded. */
static void eb_check_range(struct eb_vctx *v, const char *path, const json_t *val, double min,
			   double max, int is_int)
{
	double x = json_number_value(val);
	char num[32];

	if (min > max || (x >= min && x <= max))
		return;
	if (json_is_integer(val))
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(val));
	else
		snprintf(num, sizeof(num), "%.17g", x);
	if (is_int)
		eb_verr(v, path, 0, "%s is out of range %.0f..%.0f", num, min, max);
	else
		eb_verr(v, path, 0, "%s is out of range %g..%g", num, min, max);
}

static void eb_validate_obj(struct eb_vctx *v, const json_t *obj, const struct eb_key *keys,
			    const char *path);

static void eb_validate_val(struct eb_vctx *v, const json_t *val, const struct eb_key *k,
			    const char *path)
{
	char sub[4096]; /* long enough that long keys keep their line and column */
	size_t i;
	json_t *it;

	switch (k->type) {
	case K_STR:
		if (!json_is_string(val))
			eb_verr(v, path, 0, "expected a string, got %s", eb_jtype_name(val));
		else if (json_string_length(val) == 0)
			eb_verr(v, path, 0, "must not be empty");
		return;
	case K_INT:
		if (!json_is_integer(val))
			eb_verr(v, path, 0, "expected an integer, got %s", eb_jtype_name(val));
		else
			eb_check_range(v, path, val, k->min, k->max, 1);
		return;
	case K_NUM:
		if (!json_is_number(val))
			eb_verr(v, path, 0, "expected a number, got %s", eb_jtype_name(val));
		else
			eb_check_range(v, path, val, k->min, k->max, 0);
		return;
	case K_BOOL:
		if (!json_is_boolean(val))
			eb_verr(v, path, 0, "expected true or false, got %s", eb_jtype_name(val));
		return;
	case K_OBJ:
		if (!json_is_object(val))
			eb_verr(v, path, 0, "expected an object, got %s", eb_jtype_name(val));
		else
			eb_validate_obj(v, val, k->sub, path);
		return;
	case K_OPTS:
		if (!json_is_object(val))
			eb_verr(v, path, 0, "expected an object, got %s", eb_jtype_name(val));
		return; /* checked against the adapter's table later */
	case K_ARR_OBJ:
	case K_ARR_INT:
	case K_ARR_STR:
		if (!json_is_array(val)) {
			eb_verr(v, path, 0, "expected %s, got %s", eb_ktype_name(k->type),
				eb_jtype_name(val));
			return;
		}
		if (json_array_size(val) == 0 && k->required)
			eb_verr(v, path, 0, "must not be empty");
		json_array_foreach(val, i, it) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			if (k->type == K_ARR_OBJ) {
				if (!json_is_object(it))
					eb_verr(v, sub, 0, "expected an object, got %s",
						eb_jtype_name(it));
				else
					eb_validate_obj(v, it, k->sub, sub);
			} else if (k->type == K_ARR_INT) {
				if (!json_is_integer(it))
					eb_verr(v, sub, 0, "expected an integer, got %s",
						eb_jtype_name(it));
				else
					eb_check_range(v, sub, it, k->min, k->max, 1);
			} else if (!json_is_string(it) || json_string_length(it) == 0) {
				eb_verr(v, sub, 0, "expected a non-empty string, got %s",
					eb_jtype_name(it));
			}
		}
		return;
	}
}

static void eb_validate_obj(struct eb_vctx *v, const json_t *obj, const struct eb_key *keys,
			    const char *path)
{
	const char *names[64];
	size_t nn = 0;
	const char *key;
	json_t *val;
	char sub[4096]; /* long enough that long keys keep their line and column */

	for (const struct eb_key *k = keys; k->name && nn < 64; k++)
		names[nn++] = k->name;
	json_object_foreach((json_t *)obj, key, val) {
		const struct eb_key *k = NULL;

		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
		for (const struct eb_key *c = keys; c->name; c++)
			if (strcmp(c->name, key) == 0)
				k = c;
		if (!k) {
			const char *s = eb_suggest(key, names, nn);
			if (s)
				eb_verr(v, sub, 1, "unknown key \"%s\"; did you mean \"%s\"?", key, s);
			else
				eb_verr(v, sub, 1, "unknown key \"%s\"", key);
			continue;
		}
		eb_validate_val(v, val, k, sub);
	}
	for (const struct eb_key *k = keys; k->name; k++) {
		if (k->required && !json_object_get(obj, k->name))
			eb_verr(v, path, 0, "missing required key \"%s\"", k->name);
	}
}

/* Options of one adapter: unknown keys, types, ranges, choices. */
static void eb_validate_opts(struct eb_vctx *v, const json_t *opts,
			     const struct eb_adapter_ops *ops, const char *path)
{
	const char *names[128];
	size_t nn = 0;
	const char *key;
	json_t *val;
	char sub[4096]; /* long enough that long keys keep their line and column */

	for (const struct eb_opt *o = ops->options; o->name && nn < 128; o++)
		names[nn++] = o->name;
	json_object_foreach((json_t *)opts, key, val) {
		const struct eb_opt *o = eb_opt_find(ops->options, key);
		int ok = 1;

		snprintf(sub, sizeof(sub), "%s.%s", path, key);
		if (!o) {
			const char *s = eb_suggest(key, names, nn);
			if (s)
				eb_verr(v, sub, 1,
					"unknown option \"%s\" for adapter '%s'; did you mean \"%s\"?",
					key, ops->name, s);
			else
				eb_verr(v, sub, 1, "unknown option \"%s\" for adapter '%s'", key,
					ops->name);
			continue;
		}
		switch (o->type) {
		case EB_OPT_INT:
			ok = json_is_integer(val);
			if (ok)
				eb_check_range(v, sub, val, o->min, o->max, 1);
			break;
		case EB_OPT_NUM:
			ok = json_is_number(val);
			if (ok)
				eb_check_range(v, sub, val, o->min, o->max, 0);
			break;
		case EB_OPT_BOOL:
			ok = json_is_boolean(val);
			break;
		case EB_OPT_STR:
			ok = json_is_string(val);
			if (ok && o->choices) {
				int found = 0;
				struct eb_buf b;

				for (size_t i = 0; o->choices[i]; i++)
					found |= strcmp(o->choices[i], json_string_value(val)) == 0;
				if (!found) {
					eb_buf_init(&b, 1024);
					for (size_t i = 0; o->choices[i]; i++)
						eb_buf_addf(&b, "%s%s", i ? ", " : "", o->choices[i]);
					eb_verr(v, sub, 0, "\"%s\" is not one of: %s",
						json_string_value(val), b.buf);
					eb_buf_release(&b);
				}
			}
			break;
		case EB_OPT_OBJ:
			ok = json_is_object(val);
			break;
		case EB_OPT_ARR:
			ok = json_is_array(val);
			break;
		}
		if (!ok) {
			static const char *const tn[] = { "an integer", "a number", "true or false",
							  "a string", "an object", "an array" };
			eb_verr(v, sub, 0, "expected %s, got %s", tn[o->type], eb_jtype_name(val));
		}
	}
}

static int eb_valid_id(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return 0;
	return 1;
}

int eb_config_expand_env(const char *in, char **out, struct eb_err *err)
{
	struct eb_buf b;

	eb_buf_init(&b, 1 << 16);
	for (const char *p = in; *p; p++) {
		if (p[0] == '$' && p[1] == '{') {
			const char *end = strchr(p + 2, '}');
			char name[256];
			const char *val;
			size_t n;

			if (!end) {
				eb_buf_release(&b);
				return eb_err_set(err, EB_ECONFIG, "unterminated '${' in \"%s\"", in);
			}
			n = (size_t)(end - p - 2);
			if (n == 0 || n >= sizeof(name)) {
				eb_buf_release(&b);
				return eb_err_set(err, EB_ECONFIG, "bad variable name in \"%s\"", in);
			}
			memcpy(name, p + 2, n);
			name[n] = '\0';
			val = getenv(name);
			if (!val) {
				eb_buf_release(&b);
				return eb_err_set(err, EB_ECONFIG,
						  "environment variable '%s' is not set (used in \"%s\")",
						  name, in);
			}
			eb_buf_addstr(&b, val);
			p = end;
			continue;
		}
		eb_buf_add(&b, p, 1);
	}
	*out = eb_buf_detach(&b, NULL);
	return 0;
}

static char *eb_jstrdup(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? eb_xstrdup(json_string_value(v)) : NULL;
}

static long long eb_jint(const json_t *obj, const char *key, long long def)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

/* A relative dataset path is taken relative to the config file's directory. */
static void eb_config_relative(const char *config_path, char **file)
{
	const char *slash = strrchr(config_path, '/');
	struct eb_buf b;

	if (!*file || (*file)[0] == '/' || !slash)
		return;
	eb_buf_init(&b, 0);
	eb_buf_add(&b, config_path, (size_t)(slash - config_path) + 1);
	eb_buf_addstr(&b, *file);
	free(*file);
	*file = eb_buf_detach(&b, NULL);
}

/* "unknown protocol": the nearest name in the protocol table, else all of them. */
static void eb_verr_protocol(struct eb_vctx *v, const char *path, const char *name)
{
	const char *names[32], *s;
	size_t nn = 0;
	struct eb_buf b;

	for (const struct eb_acc_protocol *p = eb_acc_protocols; p->name && nn < 32; p++)
		names[nn++] = p->name;
	s = eb_suggest(name, names, nn);
	if (s) {
		eb_verr(v, path, 0, "unknown protocol \"%s\"; did you mean \"%s\"?", name, s);
		return;
	}
	eb_buf_init(&b, 0);
	eb_acc_protocol_names(&b, ", ", ", ", NULL);
	eb_verr(v, path, 0, "unknown protocol \"%s\" (%s)", name, b.buf);
	eb_buf_release(&b);
}

/* workloads.accuracy: protocols, keys that apply to them, defaults, the kld reference. */
static void eb_config_accuracy(struct eb_config *c, struct eb_vctx *v, json_t *acc)
{
	json_t *tasks = json_object_get(acc, "tasks");
	json_t *kld = json_object_get(acc, "kld");
	json_t *it;
	size_t i;
	char path[512];
	int want_ref = 0;

	c->accuracy.enabled = 1;
	c->accuracy.n_tasks = json_array_size(tasks);
	c->accuracy.tasks = eb_xcalloc(c->accuracy.n_tasks, sizeof(*c->accuracy.tasks));
	if (kld) {
		char *dir = eb_jstrdup(kld, "dir");

		c->accuracy.kld_reference = eb_jstrdup(kld, "reference");
		if (dir) {
			struct eb_err e;

			if (eb_config_expand_env(dir, &c->accuracy.kld_dir, &e))
				eb_verr(v, "workloads.accuracy.kld.dir", 0, "%s", e.msg);
			free(dir);
		}
	}
	json_array_foreach(tasks, i, it) {
		struct eb_cfg_acc_task *t = &c->accuracy.tasks[i];
		const struct eb_acc_protocol *proto;
		const char *const *keys = NULL;
		const char *key;
		json_t *val;
		char *file;

		t->task = eb_jstrdup(it, "task");
		t->protocol = eb_jstrdup(it, "protocol");
		snprintf(path, sizeof(path), "workloads.accuracy.tasks[%zu].task", i);
		if (t->task && !eb_valid_id(t->task))
			eb_verr(v, path, 0, "\"%s\" may contain only letters, digits, '_', '.', '-'",
				t->task);
		for (size_t j = 0; j < i; j++)
			if (t->task && c->accuracy.tasks[j].task &&
			    strcmp(t->task, c->accuracy.tasks[j].task) == 0)
				eb_verr(v, path, 0, "duplicate task \"%s\"", t->task);
		snprintf(path, sizeof(path), "workloads.accuracy.tasks[%zu].protocol", i);
		proto = eb_acc_protocol_find(t->protocol);
		if (!proto) {
			eb_verr_protocol(v, path, t->protocol ? t->protocol : "");
			continue;
		}
		keys = proto->keys;
		json_object_foreach(it, key, val) {
			int ok = strcmp(key, "task") == 0 || strcmp(key, "protocol") == 0;

			for (size_t k = 0; keys[k] && !ok; k++)
				ok = strcmp(keys[k], key) == 0;
			if (!ok) {
				struct eb_buf b;

				eb_buf_init(&b, 1024);
				for (size_t k = 0; keys[k]; k++)
					eb_buf_addf(&b, "%s%s", k ? ", " : "", keys[k]);
				snprintf(path, sizeof(path), "workloads.accuracy.tasks[%zu].%s", i, key);
				eb_verr(v, path, 1, "\"%s\" does not apply to protocol %s (it reads: %s)",
					key, t->protocol, b.buf);
				eb_buf_release(&b);
			}
		}
		file = eb_jstrdup(it, "file");
		if (file) {
			struct eb_err e;

			snprintf(path, sizeof(path), "workloads.accuracy.tasks[%zu].file", i);
			if (eb_config_expand_env(file, &t->file, &e))
				eb_verr(v, path, 0, "%s", e.msg);
			else
				eb_config_relative(c->path, &t->file);
			free(file);
		}
		t->member = eb_jstrdup(it, "member");
		t->n_ctx = eb_jint(it, "n_ctx", 512);
		t->seqlen = eb_jint(it, "seqlen", 2048);
		t->limit = eb_jint(it, "limit", 0);
		t->n_samples = eb_jint(it, "n_samples", 256);
		t->seed = eb_jint(it, "seed", 0);
		t->n_batch = eb_jint(it, "n_batch", 0);
		t->bos = json_is_true(json_object_get(it, "bos"));
		t->params = json_pack("{s:s}", "protocol", t->protocol);
		for (size_t k = 0; keys[k]; k++) {
			const char *name = keys[k];
			json_t *pv = NULL;

			if (strcmp(name, "n_ctx") == 0)
				pv = json_integer(t->n_ctx);
			else if (strcmp(name, "seqlen") == 0)
				pv = json_integer(t->seqlen);
			else if (strcmp(name, "limit") == 0)
				pv = t->limit ? json_integer(t->limit) : json_null();
			else if (strcmp(name, "n_samples") == 0)
				pv = json_integer(t->n_samples);
			else if (strcmp(name, "seed") == 0)
				pv = json_integer(t->seed);
			else if (strcmp(name, "bos") == 0)
				pv = json_boolean(t->bos);
			if (pv)
				json_object_set_new(t->params, name, pv);
		}
		if (proto->needs_reference) {
			snprintf(path, sizeof(path), "workloads.accuracy.tasks[%zu].protocol", i);
			want_ref = 1;
			if (!c->accuracy.kld_reference)
				eb_verr(v, path, 0,
					"protocol %s needs workloads.accuracy.kld.reference (the quant "
					"label of the reference variant)",
					proto->name);
		}
	}
	if (c->accuracy.kld_reference) {
		int found = 0;

		for (size_t m = 0; m < c->n_models; m++)
			for (size_t j = 0; j < c->models[m].n_variants; j++)
				found |= c->models[m].variants[j].quant &&
					 strcmp(c->models[m].variants[j].quant,
						c->accuracy.kld_reference) == 0;
		if (!found)
			eb_verr(v, "workloads.accuracy.kld.reference", 0,
				"no model has a variant with quant \"%s\"", c->accuracy.kld_reference);
		else if (!want_ref)
			eb_verr(v, "workloads.accuracy.kld", 1, "no task uses protocol kld");
	}
}

static double eb_jnum(const json_t *obj, const char *key, double def)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_number(v) ? json_number_value(v) : def;
}

/* "sensors" (each kind known, its options valid) and "power" (sampling, cool-down). */
static void eb_config_power(struct eb_config *c, struct eb_vctx *v)
{
	json_t *sensors = json_object_get(c->root, "sensors");
	json_t *pw = json_object_get(c->root, "power");
	struct eb_cfg_power *P = &c->power;
	json_t *it;
	size_t i;
	char path[512];

	json_array_foreach(sensors, i, it) {
		const char *kind = json_string_value(json_object_get(it, "kind"));
		const struct eb_sensor_ops *ops = kind ? eb_sensor_find(kind) : NULL;
		struct eb_err e;

		if (!kind)
			continue;
		if (!ops) {
			const char *names[32];
			size_t nn = 0;

			for (size_t k = 0; eb_sensors[k] && nn < 32; k++)
				names[nn++] = eb_sensors[k]->name;
			snprintf(path, sizeof(path), "sensors[%zu].kind", i);
			eb_verr_unknown(v, path, "sensor kind", kind, names, nn, "edgebench sensors");
			continue;
		}
		if (eb_sensor_options_check(ops, json_object_get(it, "options"), &e) != 0) {
			/* "option 'x': why" or "unknown option 'x' ...": point at options.x */
			const char *q = strchr(e.msg, '\'');
			const char *q2 = q ? strchr(q + 1, '\'') : NULL;
			int unknown = strncmp(e.msg, "unknown option '", 16) == 0;

			if (q2 && (unknown || strncmp(e.msg, "option '", 8) == 0) &&
			    q2 - q - 1 < 128) {
				snprintf(path, sizeof(path), "sensors[%zu].options.%.*s", i,
					 (int)(q2 - q - 1), q + 1);
				eb_verr(v, path, unknown, "%s",
					unknown ? e.msg : q2[1] == ':' ? q2 + 3 : e.msg);
			} else {
				snprintf(path, sizeof(path), "sensors[%zu].options", i);
				eb_verr(v, path, 0, "%s", e.msg);
			}
		}
	}
	P->sensors = json_array_size(sensors) ? sensors : NULL;
	P->store_samples = !json_is_false(json_object_get(pw, "store_samples"));
	P->opts.sensors = P->sensors;
	P->opts.interval_ms = (unsigned)eb_jint(pw, "interval_ms", 50);
	P->opts.idle_s = eb_jnum(pw, "idle_s", 5);
	P->opts.cooldown_s = eb_jnum(pw, "cooldown_s", 0);
	P->opts.cooldown_below_c = eb_jnum(pw, "cooldown_below_c", 50);
	P->opts.cooldown_timeout_s = eb_jnum(pw, "cooldown_timeout_s", 600);
	P->cooldown_zone = eb_jstrdup(pw, "cooldown_zone");
	P->opts.cooldown_zone = P->cooldown_zone;
	P->sysfs_root = eb_jstrdup(pw, "sysfs_root");
	if (P->sysfs_root) {
		char *root = NULL;
		struct eb_err e;

		if (eb_config_expand_env(P->sysfs_root, &root, &e))
			eb_verr(v, "power.sysfs_root", 0, "%s", e.msg);
		free(P->sysfs_root);
		P->sysfs_root = root;
	}
	P->opts.root = P->sysfs_root;
}

/* Second pass over a structurally valid document: cross-references and adapter options. */
static void eb_config_extract(struct eb_config *c, struct eb_vctx *v)
{
	json_t *targets = json_object_get(c->root, "targets");
	json_t *models = json_object_get(c->root, "models");
	json_t *wl = json_object_get(c->root, "workloads");
	json_t *lat = json_object_get(wl, "latency");
	json_t *acc = json_object_get(wl, "accuracy");
	json_t *matrix = json_object_get(c->root, "matrix");
	json_t *it;
	size_t i;
	char path[512];

	c->name = eb_jstrdup(c->root, "name");
	c->db = eb_jstrdup(c->root, "db");
	eb_config_power(c, v);
	c->device = json_object_get(c->root, "device");
	c->device_name = c->device ? eb_jstrdup(c->device, "name") : eb_xstrdup("unnamed");
	if (c->device) {
		json_t *bw = json_object_get(json_object_get(c->device, "profile"), "mem_bw_gbps");
		c->mem_bw_gbps = json_is_number(bw) ? json_number_value(bw) : 0;
	}

	c->n_targets = json_array_size(targets);
	c->targets = eb_xcalloc(c->n_targets, sizeof(*c->targets));
	json_array_foreach(targets, i, it) {
		struct eb_cfg_target *t = &c->targets[i];
		const char *an = json_string_value(json_object_get(it, "adapter"));
		json_t *opts = json_object_get(it, "options");

		t->id = eb_jstrdup(it, "id");
		snprintf(path, sizeof(path), "targets[%zu].id", i);
		if (t->id && !eb_valid_id(t->id))
			eb_verr(v, path, 0, "\"%s\" may contain only letters, digits, '_', '.', '-'",
				t->id);
		for (size_t j = 0; j < i; j++)
			if (t->id && c->targets[j].id && strcmp(t->id, c->targets[j].id) == 0)
				eb_verr(v, path, 0, "duplicate target id \"%s\"", t->id);
		t->ops = eb_adapter_find(an);
		snprintf(path, sizeof(path), "targets[%zu].adapter", i);
		if (an && !t->ops) {
			const char *names[32];
			size_t nn = 0;

			for (size_t k = 0; eb_adapters[k] && nn < 32; k++)
				names[nn++] = eb_adapters[k]->name;
			eb_verr_unknown(v, path, "adapter", an, names, nn, "edgebench adapters");
		}
		if (!opts) {
			opts = json_object();
			json_object_set_new(it, "options", opts);
		}
		t->options = opts;
		snprintf(path, sizeof(path), "targets[%zu].options", i);
		if (t->ops && json_is_object(opts))
			eb_validate_opts(v, opts, t->ops, path);
	}

	c->n_models = json_array_size(models);
	c->models = eb_xcalloc(c->n_models, sizeof(*c->models));
	json_array_foreach(models, i, it) {
		struct eb_cfg_model *m = &c->models[i];
		json_t *vars = json_object_get(it, "variants");
		json_t *mt = json_object_get(it, "targets");
		json_t *vt;
		size_t j;

		m->id = eb_jstrdup(it, "id");
		snprintf(path, sizeof(path), "models[%zu].id", i);
		if (m->id && !eb_valid_id(m->id))
			eb_verr(v, path, 0, "\"%s\" may contain only letters, digits, '_', '.', '-'",
				m->id);
		for (size_t k = 0; k < i; k++)
			if (m->id && c->models[k].id && strcmp(m->id, c->models[k].id) == 0)
				eb_verr(v, path, 0, "duplicate model id \"%s\"", m->id);
		m->n_variants = json_array_size(vars);
		m->variants = eb_xcalloc(m->n_variants, sizeof(*m->variants));
		json_array_foreach(vars, j, vt) {
			struct eb_cfg_variant *var = &m->variants[j];
			char *file = eb_jstrdup(vt, "file");

			var->quant = eb_jstrdup(vt, "quant");
			var->model_name = eb_jstrdup(vt, "model_name");
			var->synth = json_object_get(vt, "synth");
			var->scheme = json_object_get(vt, "scheme");
			snprintf(path, sizeof(path), "models[%zu].variants[%zu].quant", i, j);
			if (var->quant && !eb_valid_id(var->quant))
				eb_verr(v, path, 0,
					"\"%s\" may contain only letters, digits, '_', '.', '-'",
					var->quant);
			for (size_t k = 0; k < j; k++)
				if (var->quant && m->variants[k].quant &&
				    strcmp(var->quant, m->variants[k].quant) == 0)
					eb_verr(v, path, 0, "duplicate quant \"%s\" in model \"%s\"",
						var->quant, m->id ? m->id : "?");
			if (file) {
				struct eb_err e;

				snprintf(path, sizeof(path), "models[%zu].variants[%zu].file", i, j);
				if (eb_config_expand_env(file, &var->file, &e))
					eb_verr(v, path, 0, "%s", e.msg);
			}
			snprintf(path, sizeof(path), "models[%zu].variants[%zu]", i, j);
			if (var->synth && !file)
				eb_verr(v, path, 0, "\"synth\" needs \"file\" (where to write the model)");
			if (!file && !var->model_name)
				eb_verr(v, path, 0, "needs \"file\" or \"model_name\"");
			free(file);
		}
		m->n_targets = json_array_size(mt);
		m->targets = eb_xcalloc(m->n_targets, sizeof(*m->targets));
		json_array_foreach(mt, j, vt) {
			int found = 0;

			m->targets[j] = eb_xstrdup(json_string_value(vt));
			for (size_t k = 0; k < c->n_targets; k++)
				found |= c->targets[k].id && m->targets[j] &&
					 strcmp(c->targets[k].id, m->targets[j]) == 0;
			snprintf(path, sizeof(path), "models[%zu].targets[%zu]", i, j);
			if (!found && m->targets[j])
				eb_verr(v, path, 0, "no target has id \"%s\"", m->targets[j]);
		}
	}

	if (acc)
		eb_config_accuracy(c, v, acc);
	if (lat) {
		json_t *pt = json_object_get(lat, "prompt_tokens");

		c->latency.enabled = 1;
		c->latency.n_prompt_tokens = json_array_size(pt);
		c->latency.prompt_tokens = eb_xcalloc(c->latency.n_prompt_tokens, sizeof(int));
		json_array_foreach(pt, i, it)
			c->latency.prompt_tokens[i] = (int)json_integer_value(it);
		c->latency.gen_tokens = (int)eb_jint(lat, "gen_tokens", 0);
		c->latency.warmup = (int)eb_jint(lat, "warmup", 1);
		c->latency.repetitions = (int)eb_jint(lat, "repetitions", 5);
		c->latency.seed = (uint64_t)eb_jint(lat, "seed", 42);
		{
			const char *pm = json_string_value(json_object_get(lat, "prompts"));

			if (pm && strcmp(pm, "same") != 0 && strcmp(pm, "distinct") != 0)
				eb_verr(v, "workloads.latency.prompts", 0,
					"\"%s\" is not one of: same, distinct", pm);
			c->latency.distinct_prompts = pm && strcmp(pm, "distinct") == 0;
		}
		c->latency.temperature =
			json_is_number(json_object_get(lat, "temperature"))
				? json_number_value(json_object_get(lat, "temperature"))
				: 0.0;
	} else if (!acc) {
		eb_verr(v, "workloads", 0, "no workload configured (add \"latency\" or \"accuracy\")");
	}

	for (int pass = 0; pass < 2; pass++) {
		json_t *rules = json_object_get(matrix, pass ? "exclude" : "include");
		struct eb_cfg_rule **dst = pass ? &c->exclude : &c->include;
		size_t *n = pass ? &c->n_exclude : &c->n_include;

		*n = json_array_size(rules);
		*dst = eb_xcalloc(*n, sizeof(**dst));
		json_array_foreach(rules, i, it) {
			(*dst)[i].target = eb_jstrdup(it, "target");
			(*dst)[i].model = eb_jstrdup(it, "model");
			(*dst)[i].quant = eb_jstrdup(it, "quant");
		}
	}
}

int eb_config_load(struct eb_config *c, const char *path, char **errors, struct eb_err *err)
{
	struct eb_vctx v;
	json_error_t jerr;
	const char *nul;
	size_t len;
	int ret = EB_ECONFIG;

	memset(c, 0, sizeof(*c));
	memset(&v, 0, sizeof(v));
	*errors = NULL;
	v.file = path;
	eb_buf_init(&v.errors, 1 << 20);
	c->path = eb_xstrdup(path);
	ret = eb_read_file(path, 16u << 20, &c->text, &len, err);
	if (ret) {
		*errors = eb_xstrdup(err->msg);
		return EB_ECONFIG;
	}
	eb_sha256_hex(c->text, len, c->sha256);
	nul = memchr(c->text, '\0', len);
	if (nul) {
		/* jansson skips a NUL byte right after a number or literal; JSON has none */
		const char *enc = eb_jsonpos_encoding(c->text, len);
		int line = 1, col = 1;

		for (const char *p = c->text; p < nul; p++, col++)
			if (*p == '\n') {
				line++;
				col = 0;
			}
		if (enc) /* UTF-16 or binary: say what the file is, not where its first NUL is */
			eb_err_set(err, EB_ECONFIG, "%s:1:1: %s", path, enc);
		else {
			/* the key being read where the NUL is */
			eb_jsonpos_scan(&v.pos, c->text, (size_t)(nul - c->text));
			eb_err_set(err, EB_ECONFIG, "%s:%d:%d: %s%sNUL byte (a config is JSON text)",
				   path, line, col, v.pos.fault_path ? v.pos.fault_path : "",
				   v.pos.fault_path && *v.pos.fault_path ? ": " : "");
			eb_jsonpos_release(&v.pos);
		}
		*errors = eb_xstrdup(err->msg);
		return EB_ECONFIG;
	}
	c->root = json_loadb(c->text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!c->root) {
		const char *enc = eb_jsonpos_encoding(c->text, len);

		/* the key: where a scan of the text up to the parser's stop broke off */
		eb_jsonpos_scan(&v.pos, c->text, jerr.position < (int)len ? (size_t)jerr.position : len);
		if (enc)
			eb_err_set(err, EB_ECONFIG, "%s:1:1: %s", path, enc);
		else
			eb_err_set(err, EB_ECONFIG, "%s:%d:%d: %s%sinvalid JSON: %s", path,
				   jerr.line, jerr.column > 0 ? jerr.column : 1,
				   v.pos.fault_path ? v.pos.fault_path : "",
				   v.pos.fault_path && *v.pos.fault_path ? ": " : "", jerr.text);
		eb_jsonpos_release(&v.pos);
		*errors = eb_xstrdup(err->msg);
		return EB_ECONFIG;
	}
	eb_jsonpos_scan(&v.pos, c->text, len);
	if (!json_is_object(c->root))
		eb_verr(&v, "", 0, "the config must be a JSON object");
	else
		eb_validate_obj(&v, c->root, eb_k_root, "");
	if (v.n_errors == 0)
		eb_config_extract(c, &v);
	eb_jsonpos_release(&v.pos);
	if (v.n_errors) {
		*err = v.first;
		*errors = eb_buf_detach(&v.errors, NULL);
		return EB_ECONFIG;
	}
	eb_buf_release(&v.errors);
	return 0;
}

void eb_config_release(struct eb_config *c)
{
	for (size_t i = 0; i < c->n_targets; i++)
		free(c->targets[i].id);
	free(c->targets);
	for (size_t i = 0; i < c->n_models; i++) {
		struct eb_cfg_model *m = &c->models[i];
		for (size_t j = 0; j < m->n_variants; j++) {
			free(m->variants[j].quant);
			free(m->variants[j].file);
			free(m->variants[j].model_name);
		}
		free(m->variants);
		for (size_t j = 0; j < m->n_targets; j++)
			free(m->targets[j]);
		free(m->targets);
		free(m->id);
	}
	free(c->models);
	for (size_t i = 0; i < c->n_include; i++) {
		free(c->include[i].target);
		free(c->include[i].model);
		free(c->include[i].quant);
	}
	for (size_t i = 0; i < c->n_exclude; i++) {
		free(c->exclude[i].target);
		free(c->exclude[i].model);
		free(c->exclude[i].quant);
	}
	free(c->include);
	free(c->exclude);
	free(c->latency.prompt_tokens);
	for (size_t i = 0; i < c->accuracy.n_tasks; i++) {
		struct eb_cfg_acc_task *t = &c->accuracy.tasks[i];

		free(t->task);
		free(t->protocol);
		free(t->file);
		free(t->member);
		if (t->params)
			json_decref(t->params);
	}
	free(c->accuracy.tasks);
	free(c->accuracy.kld_reference);
	free(c->accuracy.kld_dir);
	free(c->power.cooldown_zone);
	free(c->power.sysfs_root);
	free(c->name);
	free(c->db);
	free(c->device_name);
	free(c->text);
	free(c->path);
	if (c->root)
		json_decref(c->root);
	memset(c, 0, sizeof(*c));
}

static void eb_schema_rows(FILE *f, const struct eb_key *keys, const char *prefix)
{
	char path[256];

	for (const struct eb_key *k = keys; k->name; k++) {
		const char *suffix = k->type == K_ARR_OBJ ? "[]" : "";

		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", k->name);
		fprintf(f, "| `%s%s` | %s | %s | %s |", path, suffix, eb_ktype_name(k->type),
			k->required ? "yes" : "no", k->def ? k->def : "");
		if (k->min <= k->max && (k->type == K_INT || k->type == K_ARR_INT))
			fprintf(f, " %s (%.0f..%.0f) |\n", k->help, k->min, k->max);
		else
			fprintf(f, " %s |\n", k->help);
		if (k->sub) {
			snprintf(path, sizeof(path), "%s%s%s%s", prefix, *prefix ? "." : "", k->name,
				 suffix);
			eb_schema_rows(f, k->sub, path);
		}
	}
}

void eb_config_print_schema(FILE *f)
{
	eb_protocol_help_fill();
	fprintf(f, "| key | type | required | default | meaning |\n|---|---|---|---|---|\n");
	eb_schema_rows(f, eb_k_root, "");
}
