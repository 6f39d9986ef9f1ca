/* config.c: config loading and validation, driven by one table of keys (eb_opt.h). */
#include "config.h"
#include "protocol.h"
#include "sensor.h"
#include "eb_opt.h"
#include "eb_regex.h"
#include "eb_util.h"
#include "jsonpos.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct eb_opt eb_k_profile[] = {
	{ .name = "mem_bw_gbps", .type = EB_OPT_NUM, .range = EB_RANGE(0.001, 1e6),
	  .help = "peak memory bandwidth in GB/s (10^9 B/s); enables the MBU metric" },
	{ .name = "mem_gb", .type = EB_OPT_NUM, .range = EB_RANGE(0.001, 1e6),
	  .help = "device memory in GB (recorded)" },
	{ .name = "peak_tflops", .type = EB_OPT_NUM, .range = EB_RANGE(0.000001, 1e6),
	  .help = "peak compute in TFLOP/s (recorded)" },
	{ .name = "tdp_w", .type = EB_OPT_NUM, .range = EB_RANGE(0.001, 1e6),
	  .help = "power envelope in W (recorded)" },
	{ .name = "notes", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY,
	  .help = "free text (recorded)" },
	{ NULL },
};

static const struct eb_opt eb_k_cpufreq[] = {
	{ .name = "governor", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY,
	  .help = "scaling_governor written to every CPU (performance, powersave, schedutil, ...)" },
	{ .name = "max_khz", .type = EB_OPT_INT, .range = EB_RANGE(1, 1000000000),
	  .help = "scaling_max_freq written to every CPU, kHz" },
	{ NULL },
};

static const struct eb_opt eb_k_verify[] = {
	{ .name = "argv", .type = EB_OPT_ARR_STR, .flags = EB_OPT_NONEMPTY,
	  .help = "program to run (argv, never a shell); its output must match `match`" },
	{ .name = "match", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY,
	  .help = "regex (PCRE2) one line of the program's output must match" },
	{ .name = "file", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY,
	  .help = "file to read back, under power.sysfs_root; must read `expect`" },
	{ .name = "expect", .type = EB_OPT_STR,
	  .help = "the file's expected text (surrounding white space ignored)" },
	{ NULL },
};

static const struct eb_opt eb_k_mode[] = {
	{ .name = "id", .type = EB_OPT_STR, .flags = EB_OPT_REQUIRED | EB_OPT_NONEMPTY,
	  .help = "mode id ([A-Za-z0-9_.-]+), the end of each cell key (KEY@ID)" },
	{ .name = "nvpmodel", .type = EB_OPT_INT, .range = EB_RANGE(0, 99),
	  .help = "Jetson power mode: `nvpmodel -m N`, verified with `nvpmodel -q`" },
	{ .name = "jetson_clocks", .type = EB_OPT_BOOL,
	  .help = "Jetson: true runs `jetson_clocks` (verified: every CPU's minimum clock is its "
		  "maximum), false `jetson_clocks --restore`" },
	{ .name = "power_limit_w", .type = EB_OPT_NUM, .range = EB_RANGE(1, 100000),
	  .help = "NVIDIA: `nvidia-smi -pl W`, verified with `nvidia-smi "
		  "--query-gpu=power.limit`" },
	{ .name = "cpufreq", .type = EB_OPT_OBJ, .sub = eb_k_cpufreq,
	  .help = "Linux CPUs: cpufreq settings written under power.sysfs_root and read back" },
	{ .name = "set", .type = EB_OPT_ARR_STR, .flags = EB_OPT_NONEMPTY,
	  .help = "any other mode: the program that sets it (argv, never a shell)" },
	{ .name = "verify", .type = EB_OPT_OBJ, .sub = eb_k_verify,
	  .help = "read back after setting: `argv` and `match`, or `file` and `expect`; a "
		  "mismatch fails the mode's cells" },
	{ .name = "restore", .type = EB_OPT_ARR_STR, .flags = EB_OPT_NONEMPTY,
	  .help = "with `set`: the program that restores the starting mode (run at the end, on "
		  "failure and on interrupt)" },
	{ .name = "settle_s", .type = EB_OPT_NUM, .def = EB_DEF_NUM(5), .range = EB_RANGE(0, 3600),
	  .help = "wait after setting the mode, before its first cell" },
	{ NULL },
};

static const struct eb_opt eb_k_device[] = {
	{ .name = "name", .type = EB_OPT_STR, .flags = EB_OPT_REQUIRED | EB_OPT_NONEMPTY,
	  .help = "device name stored with every cell" },
	{ .name = "profile", .type = EB_OPT_OBJ, .sub = eb_k_profile,
	  .help = "figures used for utilisation" },
	{ .name = "modes", .type = EB_OPT_ARR_OBJ, .sub = eb_k_mode,
	  .help = "power or performance modes: every cell runs once in each (see Power modes)" },
	{ .name = "mode_timeout_s", .type = EB_OPT_NUM, .def = EB_DEF_NUM(60),
	  .range = EB_RANGE(1, 3600),
	  .help = "the longest a mode program (nvpmodel, jetson_clocks, nvidia-smi, set, "
		  "verify, restore) may run; past it the program's group is stopped and the "
		  "mode fails" },
	{ NULL },
};

static const struct eb_opt eb_k_target[] = {
	{ .name = "id", .type = EB_OPT_STR, .flags = EB_OPT_REQUIRED | EB_OPT_NONEMPTY,
	  .help = "unique target id ([A-Za-z0-9_.-]+)" },
	{ .name = "adapter", .type = EB_OPT_STR, .flags = EB_OPT_REQUIRED | EB_OPT_NONEMPTY,
	  .help = "backend: see `edgebench adapters`" },
	{ .name = "options", .type = EB_OPT_OBJ,
	  .help = "adapter options, checked against the adapter's table" },
	{ .name = "description", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY,
	  .help = "free text" },
	{ NULL },
};

static const struct eb_opt eb_k_synth[] = {
	{ .name = "shape", .type = EB_OPT_STR, .flags = EB_OPT_REQUIRED | EB_OPT_NONEMPTY,
	  .help = "a shape from `edgebench model shapes`" },
	{ .name = "type", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY,
	  .def = EB_DEF_TEXT("the variant's quant"),
	  .help = "GGUF type (f16, q8_0, q4_0, q4_k_m, ...)" },
	{ .name = "vocab", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY,
	  .def = EB_DEF_TEXT("the shape's"),
	  .help = "tokenizer: llama-spm, llama-bpe, qwen2 or a vocab GGUF path" },
	{ .name = "seed", .type = EB_OPT_INT, .def = EB_DEF_INT(1),
	  .range = EB_RANGE(0, 4294967295.0),
	  .help = "weights seed" },
	{ NULL },
};

static const struct eb_opt eb_k_scheme[] = {
	{ .name = "weights", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY,
	  .help = "weight quantization label, e.g. W4 (group 128)" },
	{ .name = "activations", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY,
	  .help = "activation quantization label, e.g. A8" },
	{ .name = "kv_cache", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY,
	  .help = "KV-cache quantization label, e.g. f16" },
	{ NULL },
};

static const struct eb_opt eb_k_variant[] = {
	{ .name = "quant", .type = EB_OPT_STR, .flags = EB_OPT_REQUIRED | EB_OPT_NONEMPTY,
	  .help = "quantization label (f16, q4_0, awq-int4, ...)" },
	{ .name = "file", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY,
	  .help = "model file for local adapters; ${VAR} expanded; relative to the working "
		  "directory" },
	{ .name = "model_name", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY,
	  .help = "model name on a server (remote adapters)" },
	{ .name = "synth", .type = EB_OPT_OBJ, .sub = eb_k_synth,
	  .help = "synthesize `file` (random weights, real tokenizer) when it does not exist" },
	{ .name = "scheme", .type = EB_OPT_OBJ, .sub = eb_k_scheme,
	  .help = "quantization scheme labels for reports" },
	{ NULL },
};

static const struct eb_opt eb_k_model[] = {
	{ .name = "id", .type = EB_OPT_STR, .flags = EB_OPT_REQUIRED | EB_OPT_NONEMPTY,
	  .help = "unique model id" },
	{ .name = "variants", .type = EB_OPT_ARR_OBJ, .flags = EB_OPT_REQUIRED, .sub = eb_k_variant,
	  .help = "one entry per quantization" },
	{ .name = "targets", .type = EB_OPT_ARR_STR, .flags = EB_OPT_NONEMPTY,
	  .def = EB_DEF_TEXT("all"),
	  .help = "run this model only on these target ids" },
	{ .name = "description", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY,
	  .help = "free text" },
	{ NULL },
};

static const char *const eb_latency_prompts[] = { "same", "distinct", NULL };

static const struct eb_opt eb_k_latency[] = {
	{ .name = "prompt_tokens", .type = EB_OPT_ARR_INT, .flags = EB_OPT_REQUIRED,
	  .range = EB_RANGE(1, 1000000),
	  .help = "prompt lengths in tokens; one cell per length" },
	{ .name = "gen_tokens", .type = EB_OPT_INT, .flags = EB_OPT_REQUIRED,
	  .range = EB_RANGE(2, 1000000),
	  .help = "tokens generated per request (EOS ignored)" },
	{ .name = "warmup", .type = EB_OPT_INT, .def = EB_DEF_INT(1), .range = EB_RANGE(0, 1000),
	  .help = "warm-up requests per cell (stored, flagged, not counted)" },
	{ .name = "repetitions", .type = EB_OPT_INT, .def = EB_DEF_INT(5),
	  .range = EB_RANGE(1, 100000),
	  .help = "measured requests per cell" },
	{ .name = "seed", .type = EB_OPT_INT, .def = EB_DEF_INT(42),
	  .range = EB_RANGE(0, 4294967295.0),
	  .help = "sampling seed" },
	{ .name = "temperature", .type = EB_OPT_NUM, .def = EB_DEF_NUM(0),
	  .range = EB_RANGE(0, 100),
	  .help = "0 = greedy" },
	{ .name = "duration_s", .type = EB_OPT_NUM, .def = EB_DEF_TEXT("off"),
	  .range = EB_RANGE(0.001, 86400),
	  .help = "sustained cells: measured requests go on until this long after the first, "
		  "repetitions being the least; per-window series, steady state, drift and "
		  "throttling are stored (see Sustained cells)" },
	{ .name = "window_s", .type = EB_OPT_NUM, .def = EB_DEF_NUM(10),
	  .range = EB_RANGE(0.001, 86400),
	  .help = "with duration_s: the length of each window of the series" },
	{ .name = "steady_pct", .type = EB_OPT_NUM, .def = EB_DEF_NUM(5),
	  .range = EB_RANGE(0.001, 100),
	  .help = "with duration_s: steady once every later window's decode rate is within this "
		  "% of their mean" },
	{ .name = "prompts", .type = EB_OPT_ENUM, .flags = EB_OPT_NONEMPTY,
	  .def = EB_DEF_STR("same"), .choices = eb_latency_prompts,
	  .help = "same: every request sends one prompt; distinct: each request starts elsewhere "
		  "in the text, so none shares a prefix a server could cache (hailo-ollama)" },
	{ NULL },
};

static const char *const eb_len_dists[] = { "uniform", "normal", "file", NULL };

static const struct eb_opt eb_k_len[] = {
	{ .name = "dist", .type = EB_OPT_ENUM, .flags = EB_OPT_REQUIRED, .choices = eb_len_dists,
	  .help = "uniform (min..max), normal (mean, sd; clipped to min..max) or file" },
	{ .name = "min", .type = EB_OPT_INT, .def = EB_DEF_TEXT("1; gen_tokens 2"),
	  .range = EB_RANGE(1, 1000000),
	  .help = "uniform, normal: the shortest length" },
	{ .name = "max", .type = EB_OPT_INT, .range = EB_RANGE(1, 1000000),
	  .help = "uniform, normal: the longest length" },
	{ .name = "mean", .type = EB_OPT_NUM, .range = EB_RANGE(1, 1000000),
	  .help = "normal: the mean length" },
	{ .name = "sd", .type = EB_OPT_NUM, .range = EB_RANGE(0, 1000000),
	  .help = "normal: the standard deviation" },
	{ .name = "file", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY,
	  .help = "file: JSONL with prompt_len and output_len on each line, each request taking "
		  "a line drawn with the seed, or ShareGPT JSON (conversations counted by the "
		  "target's tokenizer, sampled as vLLM does); ${VAR} expanded; relative to the "
		  "config file" },
	{ NULL },
};

static const char *const eb_load_arrivals[] = { "poisson", "gamma", NULL };

static const struct eb_opt eb_k_slo[] = {
	{ .name = "ttft_ms", .type = EB_OPT_NUM, .range = EB_RANGE(0.000001, 1e9),
	  .help = "a request meets it when its TTFT is at most this" },
	{ .name = "tpot_ms", .type = EB_OPT_NUM, .range = EB_RANGE(0.000001, 1e9),
	  .help = "... when its TPOT (decode time / tokens after the first chunk) is at most this" },
	{ .name = "itl_ms", .type = EB_OPT_NUM, .range = EB_RANGE(0.000001, 1e9),
	  .help = "... when every one of its inter-token gaps is at most this" },
	{ .name = "e2e_ms", .type = EB_OPT_NUM, .range = EB_RANGE(0.000001, 1e9),
	  .help = "... when its end-to-end latency is at most this" },
	{ NULL },
};

static const struct eb_opt eb_k_load[] = {
	{ .name = "concurrency", .type = EB_OPT_ARR_INT, .range = EB_RANGE(1, 100000),
	  .help = "one cell per value (load/cN): this many requests in flight, the next sent as "
		  "one ends" },
	{ .name = "rate", .type = EB_OPT_ARR,
	  .help = "one cell per value (load/rR): requests per second (a number > 0), or \"inf\" "
		  "for all at once" },
	{ .name = "arrival", .type = EB_OPT_ENUM, .def = EB_DEF_STR("poisson"),
	  .choices = eb_load_arrivals,
	  .help = "rate cells: gaps between sends drawn from the exponential (poisson) or a "
		  "gamma of shape burstiness, mean 1/rate either way" },
	{ .name = "burstiness", .type = EB_OPT_NUM, .def = EB_DEF_NUM(1),
	  .range = EB_RANGE(0.001, 1000),
	  .help = "arrival gamma: its shape; below 1 burstier than Poisson, 1 is Poisson" },
	{ .name = "max_concurrency", .type = EB_OPT_INT, .def = EB_DEF_TEXT("no limit"),
	  .range = EB_RANGE(1, 100000),
	  .help = "rate cells: at most this many in flight; a send that must wait counts in "
		  "send lag" },
	{ .name = "requests", .type = EB_OPT_INT, .def = EB_DEF_INT(100),
	  .range = EB_RANGE(1, 1000000),
	  .help = "measured requests per cell (with duration_s: at most)" },
	{ .name = "duration_s", .type = EB_OPT_NUM, .def = EB_DEF_TEXT("off"),
	  .range = EB_RANGE(0.001, 86400),
	  .help = "no request is sent later than this after the cell's first (warm-up "
		  "included); requests is then the most" },
	{ .name = "warmup", .type = EB_OPT_INT, .def = EB_DEF_INT(0), .range = EB_RANGE(0, 100000),
	  .help = "requests sent first, at the cell's concurrency or rate, stored, flagged and "
		  "not counted" },
	{ .name = "seed", .type = EB_OPT_INT, .def = EB_DEF_INT(42),
	  .range = EB_RANGE(0, 4294967295.0),
	  .help = "arrival times, lengths and sampling" },
	{ .name = "temperature", .type = EB_OPT_NUM, .def = EB_DEF_NUM(0),
	  .range = EB_RANGE(0, 100),
	  .help = "0 = greedy" },
	{ .name = "prompt_tokens", .type = EB_OPT_INT_OBJ, .flags = EB_OPT_REQUIRED,
	  .range = EB_RANGE(1, 1000000), .sub = eb_k_len,
	  .help = "prompt length of each request: a number, or a distribution {\"dist\": ...}" },
	{ .name = "gen_tokens", .type = EB_OPT_INT_OBJ, .flags = EB_OPT_REQUIRED,
	  .range = EB_RANGE(2, 1000000), .sub = eb_k_len,
	  .help = "tokens asked of each request: a number, or a distribution {\"dist\": ...}" },
	{ .name = "ignore_eos", .type = EB_OPT_BOOL, .def = EB_DEF_BOOL(1),
	  .help = "true: every request generates gen_tokens; false: the model may stop early (the "
		  "actual lengths are stored)" },
	{ .name = "slo", .type = EB_OPT_OBJ, .sub = eb_k_slo,
	  .help = "per-request objectives for goodput: the requests meeting every one given" },
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

static const struct eb_opt eb_k_acc_task[] = {
	{ .name = "task", .type = EB_OPT_STR, .flags = EB_OPT_REQUIRED | EB_OPT_NONEMPTY,
	  .help = "task id, the last part of the cell key (target/model/quant/accuracy/TASK)" },
	{ .name = "protocol", .type = EB_OPT_STR, .flags = EB_OPT_REQUIRED | EB_OPT_NONEMPTY,
	  .help = eb_protocol_help },
	{ .name = "file", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY,
	  .def = EB_DEF_TEXT("the fetched dataset"),
	  .help = "dataset file: .jsonl (hellaswag, hellaswag-gen, gsm8k-gen), wiki.test.raw, a "
		  ".zip holding it, .json.gz (c4) or any text (wikitext2-llamacpp, kld); arc_easy, "
		  "arc_challenge, piqa, winogrande: their .jsonl or the catalog's .zip; mmlu: "
		  "SUBJECT_test.csv or data.tar (mmlu-gen too); ${VAR} "
		  "expanded; relative to the config file" },
	{ .name = "member", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY,
	  .def = EB_DEF_TEXT("wikitext-2-raw/wiki.test.raw"),
	  .help = "the member to read when file is a .zip" },
	{ .name = "n_ctx", .type = EB_OPT_INT, .def = EB_DEF_INT(512),
	  .range = EB_RANGE(16, 1000000),
	  .help = "wikitext2-llamacpp, kld: tokens per chunk (llama-perplexity -c)" },
	{ .name = "seqlen", .type = EB_OPT_INT, .def = EB_DEF_INT(2048),
	  .range = EB_RANGE(16, 1000000),
	  .help = "wikitext2-gptq, c4-gptq, c4-new: window length; wikitext2-lmeval, hellaswag "
		  "and the multiple-choice tasks: maximum length (lm-eval max_length)" },
	{ .name = "limit", .type = EB_OPT_INT, .def = EB_DEF_TEXT("all"),
	  .range = EB_RANGE(1, 1000000000),
	  .help = "score only the first N items (hellaswag, multiple choice), documents "
		  "(wikitext2-lmeval), chunks "
		  "or windows (the others); recorded with the figures" },
	{ .name = "n_samples", .type = EB_OPT_INT, .def = EB_DEF_INT(256),
	  .range = EB_RANGE(1, 1000000),
	  .help = "c4-gptq: windows sampled; c4-new: windows of the first 1100 documents" },
	{ .name = "seed", .type = EB_OPT_INT, .def = EB_DEF_INT(0),
	  .range = EB_RANGE(0, 4294967295.0),
	  .help = "c4-gptq: the random.seed of the sampler" },
	{ .name = "n_batch", .type = EB_OPT_INT, .def = EB_DEF_TEXT("the target's"),
	  .range = EB_RANGE(1, 1000000),
	  .help = "tokens per forward pass while scoring (llama-perplexity -b)" },
	{ .name = "bos", .type = EB_OPT_BOOL, .def = EB_DEF_BOOL(0),
	  .help = "hellaswag and the multiple-choice tasks: start each request with BOS "
		  "(lm-eval's HF models do not)" },
	{ .name = "max_tokens", .type = EB_OPT_INT, .def = EB_DEF_TEXT("32; gsm8k-gen 256"),
	  .range = EB_RANGE(1, 1000000),
	  .help = "hellaswag-gen, mmlu-gen, gsm8k-gen: tokens a reply may have at most (the "
		  "model may stop sooner)" },
	{ NULL },
};

static const struct eb_opt eb_k_kld[] = {
	{ .name = "reference", .type = EB_OPT_STR, .flags = EB_OPT_REQUIRED | EB_OPT_NONEMPTY,
	  .help = "quant label of the reference variant of each model (e.g. f16); its kld cell "
		  "runs first and keeps its log-probabilities" },
	{ .name = "dir", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY,
	  .def = EB_DEF_TEXT("DB.kld next to the database"),
	  .help = "directory for reference log-probabilities (llama-perplexity "
		  "--kl-divergence-base format); ${VAR} expanded" },
	{ NULL },
};

static const struct eb_opt eb_k_accuracy[] = {
	{ .name = "tasks", .type = EB_OPT_ARR_OBJ, .flags = EB_OPT_REQUIRED, .sub = eb_k_acc_task,
	  .help = "one cell per task and variant" },
	{ .name = "kld", .type = EB_OPT_OBJ, .sub = eb_k_kld,
	  .help = "the reference for protocol kld" },
	{ NULL },
};

static const struct eb_opt eb_k_workloads[] = {
	{ .name = "latency", .type = EB_OPT_OBJ, .sub = eb_k_latency,
	  .help = "TTFT, prefill/decode rates, ITL, E2E" },
	{ .name = "load", .type = EB_OPT_OBJ, .sub = eb_k_load,
	  .help = "requests concurrently or at a rate: throughput, per-request latency, goodput "
		  "(see Load cells)" },
	{ .name = "accuracy", .type = EB_OPT_OBJ, .sub = eb_k_accuracy,
	  .help = "perplexity, HellaSwag and KL divergence under named protocols (needs an adapter "
		  "that scores log-likelihoods; others store the cell as skipped), and multiple "
		  "choice and GSM8K by generation (the *-gen protocols; any adapter that returns "
		  "generated text)" },
	{ NULL },
};

static const struct eb_opt eb_k_rule[] = {
	{ .name = "target", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY, .def = EB_DEF_TEXT("*"),
	  .help = "fnmatch pattern on target id" },
	{ .name = "model", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY, .def = EB_DEF_TEXT("*"),
	  .help = "fnmatch pattern on model id" },
	{ .name = "quant", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY, .def = EB_DEF_TEXT("*"),
	  .help = "fnmatch pattern on quant label" },
	{ NULL },
};

static const struct eb_opt eb_k_matrix[] = {
	{ .name = "include", .type = EB_OPT_ARR_OBJ, .def = EB_DEF_TEXT("all"), .sub = eb_k_rule,
	  .help = "keep only cells matching one of these rules" },
	{ .name = "exclude", .type = EB_OPT_ARR_OBJ, .sub = eb_k_rule,
	  .help = "drop cells matching any of these" },
	{ NULL },
};

static const struct eb_opt eb_k_sensor[] = {
	{ .name = "kind", .type = EB_OPT_STR, .flags = EB_OPT_REQUIRED | EB_OPT_NONEMPTY,
	  .help = "tegrastats, hwmon, nvml, rapl, proc or cmd (see `edgebench sensors`)" },
	{ .name = "options", .type = EB_OPT_OBJ,
	  .help = "the kind's options (`edgebench sensors` lists them), checked against its "
		  "table" },
	{ NULL },
};

static const struct eb_opt eb_k_power[] = {
	{ .name = "interval_ms", .type = EB_OPT_INT, .def = EB_DEF_INT(50),
	  .range = EB_RANGE(1, 60000),
	  .help = "sampling interval of polled sensors; a stream (meter, tegrastats) keeps "
		  "one sample per interval, the mean of its readings" },
	{ .name = "idle_s", .type = EB_OPT_NUM, .def = EB_DEF_NUM(5), .range = EB_RANGE(0, 3600),
	  .help = "idle baseline measured before each cell (model loaded, nothing running); 0 = "
		  "none" },
	{ .name = "cooldown_s", .type = EB_OPT_NUM, .def = EB_DEF_NUM(0),
	  .range = EB_RANGE(0, 86400),
	  .help = "fixed pause before each cell" },
	{ .name = "cooldown_zone", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY,
	  .help = "then wait until this thermal zone (type such as cpu-thermal, or thermal_zoneN) "
		  "reads below cooldown_below_c" },
	{ .name = "cooldown_below_c", .type = EB_OPT_NUM, .def = EB_DEF_NUM(50),
	  .range = EB_RANGE(-50, 200),
	  .help = "cool-down target temperature, C" },
	{ .name = "cooldown_timeout_s", .type = EB_OPT_NUM, .def = EB_DEF_NUM(600),
	  .range = EB_RANGE(0, 86400),
	  .help = "give up waiting after this long (the cell runs, with a warning)" },
	{ .name = "store_samples", .type = EB_OPT_BOOL, .def = EB_DEF_BOOL(1),
	  .help = "keep every raw sample in power_samples (false: only the energy metrics)" },
	{ .name = "sysfs_root", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY,
	  .def = EB_DEF_TEXT("/"),
	  .help = "read sysfs and thermal zones under this directory (a fixture tree, a chroot)" },
	{ NULL },
};

static const struct eb_opt eb_k_root[] = {
	{ .name = "name", .type = EB_OPT_STR, .flags = EB_OPT_REQUIRED | EB_OPT_NONEMPTY,
	  .help = "run name" },
	{ .name = "description", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY,
	  .help = "free text" },
	{ .name = "db", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY,
	  .def = EB_DEF_TEXT("edgebench.db"),
	  .help = "output SQLite file (--db overrides)" },
	{ .name = "device", .type = EB_OPT_OBJ, .sub = eb_k_device,
	  .help = "the device under test" },
	{ .name = "targets", .type = EB_OPT_ARR_OBJ, .flags = EB_OPT_REQUIRED, .sub = eb_k_target,
	  .help = "backends on the device" },
	{ .name = "models", .type = EB_OPT_ARR_OBJ, .flags = EB_OPT_REQUIRED, .sub = eb_k_model,
	  .help = "models and their quantized variants" },
	{ .name = "workloads", .type = EB_OPT_OBJ, .flags = EB_OPT_REQUIRED, .sub = eb_k_workloads,
	  .help = "what each cell runs" },
	{ .name = "matrix", .type = EB_OPT_OBJ, .sub = eb_k_matrix,
	  .help = "include/exclude rules over the cells" },
	{ .name = "sensors", .type = EB_OPT_ARR_OBJ, .def = EB_DEF_TEXT("none"), .sub = eb_k_sensor,
	  .help = "power and memory sensors sampled during latency cells; one unavailable here is "
		  "skipped with its reason as a warning" },
	{ .name = "power", .type = EB_OPT_OBJ, .sub = eb_k_power,
	  .help = "how the sensors are sampled" },
	{ .name = "repeat", .type = EB_OPT_INT, .def = EB_DEF_INT(1), .range = EB_RANGE(1, 1000),
	  .help = "run every cell this many times (keys end in #1..#N); report --layout repeats "
		  "gives the run-to-run statistics" },
	{ .name = "interleave", .type = EB_OPT_BOOL, .def = EB_DEF_BOOL(0),
	  .help = "with repeat: pass after pass over the plan (A, B, A, B) so drift does not fall "
		  "on one variant; false: each cell's repeats back to back (A, A, B, B)" },
	{ .name = "repeat_cooldown_s", .type = EB_OPT_NUM, .def = EB_DEF_NUM(0),
	  .range = EB_RANGE(0, 86400),
	  .help = "pause before each repeat after the first" },
	{ NULL },
};

/* --- validation ------------------------------------------------------------------- */

static void eb_verr(struct eb_opt_errors *v, const char *path, int at_key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A problem at `path` (its key when at_key, else its value), as eb_opt_errorf. */
static void eb_verr(struct eb_opt_errors *v, const char *path, int at_key, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	eb_opt_errorf(v, path, at_key, "%s", msg);
}

/* "unknown WHAT "name"; did you mean "x"?", else "... (see `SEE`)". */
static void eb_verr_unknown(struct eb_opt_errors *v, const char *path, const char *what,
			    const char *name, const char *const *names, size_t nn, const char *see)
{
	const char *s = eb_opt_suggest(name, names, nn);

	if (s)
		eb_verr(v, path, 0, "unknown %s \"%s\"; did you mean \"%s\"?", what, name, s);
	else
		eb_verr(v, path, 0, "unknown %s \"%s\" (see `%s`)", what, name, see);
}

/* The document against the table of keys: every problem, each where it is. */
static void eb_validate_root(struct eb_opt_errors *v, const json_t *root)
{
	const struct eb_opt *tables[] = { eb_k_root, NULL };
	const struct eb_opt_check chk = { EB_OPT_VOICE_CONFIG, "key", NULL, NULL,
					  eb_opt_errors_report, v };

	eb_opt_validate(&chk, tables, root, "");
}

/* Options of one adapter, at `path`, against its table. */
static void eb_validate_opts(struct eb_opt_errors *v, const json_t *opts,
			     const struct eb_adapter_ops *ops, const char *path)
{
	const struct eb_opt *tables[] = { ops->options, NULL };
	const struct eb_opt_check chk = { EB_OPT_VOICE_CONFIG, "option", "adapter", ops->name,
					  eb_opt_errors_report, v };

	eb_opt_validate(&chk, tables, opts, path);
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
static void eb_verr_protocol(struct eb_opt_errors *v, const char *path, const char *name)
{
	const char *names[32], *s;
	size_t nn = 0;
	struct eb_buf b;

	for (const struct eb_acc_protocol *p = eb_acc_protocols; p->name && nn < 32; p++)
		names[nn++] = p->name;
	s = eb_opt_suggest(name, names, nn);
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
static void eb_config_accuracy(struct eb_config *c, struct eb_opt_errors *v, json_t *acc)
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
		} else if (!proto->dataset) {
			snprintf(path, sizeof(path), "workloads.accuracy.tasks[%zu].protocol", i);
			eb_verr(v, path, 0, "protocol %s reads no catalog dataset: set \"file\"",
				proto->name);
		}
		t->member = eb_jstrdup(it, "member");
		t->n_ctx = eb_opt_int(it, eb_k_acc_task, "n_ctx");
		t->seqlen = eb_opt_int(it, eb_k_acc_task, "seqlen");
		t->limit = eb_opt_int(it, eb_k_acc_task, "limit");
		t->n_samples = eb_opt_int(it, eb_k_acc_task, "n_samples");
		t->seed = eb_opt_int(it, eb_k_acc_task, "seed");
		t->n_batch = eb_opt_int(it, eb_k_acc_task, "n_batch");
		t->bos = eb_opt_bool(it, eb_k_acc_task, "bos");
		t->max_tokens = eb_opt_int(it, eb_k_acc_task, "max_tokens");
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
			else if (strcmp(name, "max_tokens") == 0 && t->max_tokens)
				pv = json_integer(t->max_tokens);
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

/* "sensors": each kind known, its options valid against the kind's table. */
static void eb_config_sensors(struct eb_config *c, struct eb_opt_errors *v)
{
	json_t *sensors = json_object_get(c->root, "sensors");
	json_t *it;
	size_t i;
	char path[512];

	json_array_foreach(sensors, i, it) {
		const char *kind = json_string_value(json_object_get(it, "kind"));
		const struct eb_sensor_ops *ops = kind ? eb_sensor_find(kind) : NULL;
		const json_t *opts = json_object_get(it, "options");

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
		snprintf(path, sizeof(path), "sensors[%zu].options", i);
		if (opts)
			eb_sensor_options_validate(ops, opts, path, eb_opt_errors_report, v);
	}
	c->power.sensors = json_array_size(sensors) ? sensors : NULL;
}

/* "power": how the sensors are sampled and the cool-down before each cell. */
static void eb_config_power(struct eb_config *c, struct eb_opt_errors *v)
{
	json_t *pw = json_object_get(c->root, "power");
	struct eb_cfg_power *P = &c->power;

	P->store_samples = eb_opt_bool(pw, eb_k_power, "store_samples");
	P->opts.sensors = P->sensors;
	P->opts.interval_ms = (unsigned)eb_opt_int(pw, eb_k_power, "interval_ms");
	P->opts.idle_s = eb_opt_num(pw, eb_k_power, "idle_s");
	P->opts.cooldown_s = eb_opt_num(pw, eb_k_power, "cooldown_s");
	P->opts.cooldown_below_c = eb_opt_num(pw, eb_k_power, "cooldown_below_c");
	P->opts.cooldown_timeout_s = eb_opt_num(pw, eb_k_power, "cooldown_timeout_s");
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

/* An id (target, model, quant) at `path`: letters, digits, '_', '.', '-' only. */
static void eb_config_id(struct eb_opt_errors *v, const char *path, const char *id)
{
	if (id && !eb_valid_id(id))
		eb_verr(v, path, 0, "\"%s\" may contain only letters, digits, '_', '.', '-'", id);
}

/* device.modes[i].verify: a program and what its output must match, or a file and its text. */
static void eb_config_mode_verify(struct eb_opt_errors *v, const json_t *vf, size_t i)
{
	int has_argv = json_object_get(vf, "argv") != NULL;
	int has_file = json_object_get(vf, "file") != NULL;
	const char *match = json_string_value(json_object_get(vf, "match"));
	char path[128], why[256];
	struct eb_regex re;

	snprintf(path, sizeof(path), "device.modes[%zu].verify", i);
	if (has_argv == has_file)
		eb_verr(v, path, 0, "give either \"argv\" and \"match\" or \"file\" and "
				    "\"expect\"");
	else if (has_argv && !match)
		eb_verr(v, path, 0, "\"argv\" needs \"match\" (what its output must show)");
	else if (has_file && !json_object_get(vf, "expect"))
		eb_verr(v, path, 0, "\"file\" needs \"expect\" (the text it must hold)");
	if (match) {
		snprintf(path, sizeof(path), "device.modes[%zu].verify.match", i);
		if (eb_regex_compile(&re, match, why, sizeof(why)) != 0)
			eb_verr(v, path, 0, "invalid regex: %s", why);
		else
			eb_regex_release(&re);
	}
}

/* device.modes: unique ids, each mode changing something, a restore for each `set`. */
static void eb_config_modes(struct eb_config *c, struct eb_opt_errors *v)
{
	json_t *modes = json_object_get(c->device, "modes");
	json_t *it;
	size_t i;
	char path[128];

	c->n_modes = json_array_size(modes);
	c->modes = eb_xcalloc(c->n_modes, sizeof(*c->modes));
	c->mode_timeout_s = eb_opt_num(c->device, eb_k_device, "mode_timeout_s");
	json_array_foreach(modes, i, it) {
		struct eb_cfg_mode *m = &c->modes[i];
		const json_t *cf = json_object_get(it, "cpufreq");
		const json_t *jc = json_object_get(it, "jetson_clocks");

		m->id = eb_jstrdup(it, "id");
		snprintf(path, sizeof(path), "device.modes[%zu].id", i);
		eb_config_id(v, path, m->id);
		for (size_t j = 0; j < i; j++)
			if (m->id && c->modes[j].id && strcmp(m->id, c->modes[j].id) == 0)
				eb_verr(v, path, 0, "duplicate mode id \"%s\"", m->id);
		m->nvpmodel = eb_opt_given(it, "nvpmodel") ? eb_opt_int(it, eb_k_mode, "nvpmodel")
							    : -1;
		m->jetson_clocks = jc ? json_is_true(jc) : -1;
		m->power_limit_w = eb_opt_given(it, "power_limit_w")
					   ? eb_opt_num(it, eb_k_mode, "power_limit_w")
					   : NAN;
		m->governor = eb_jstrdup(cf, "governor");
		m->max_khz = eb_opt_int(cf, eb_k_cpufreq, "max_khz");
		m->set = json_object_get(it, "set");
		m->restore = json_object_get(it, "restore");
		m->verify = json_object_get(it, "verify");
		m->settle_s = eb_opt_num(it, eb_k_mode, "settle_s");
		snprintf(path, sizeof(path), "device.modes[%zu]", i);
		if (cf && !m->governor && !m->max_khz)
			eb_verr(v, path, 0, "\"cpufreq\" needs \"governor\" or \"max_khz\"");
		if (m->nvpmodel < 0 && m->jetson_clocks < 0 && isnan(m->power_limit_w) && !cf &&
		    !m->set)
			eb_verr(v, path, 0, "a mode needs something to set: \"nvpmodel\", "
					    "\"jetson_clocks\", \"power_limit_w\", \"cpufreq\" or "
					    "\"set\"");
		if (m->set && !m->restore)
			eb_verr(v, path, 0, "\"set\" needs \"restore\" (how the starting mode comes "
					    "back at the end)");
		if (m->restore && !m->set)
			eb_verr(v, path, 0, "\"restore\" goes with \"set\" (the presets restore "
					    "what they read at the start)");
		if (m->verify)
			eb_config_mode_verify(v, m->verify, i);
	}
}

/*
 * Headers are sent as written (they are stored with the config, so they hold no secret):
 * a ${NAME} in one would go out literally, which is never what was meant.
 */
static void eb_config_headers(struct eb_opt_errors *v, const json_t *hdrs, size_t i)
{
	const char *name;
	json_t *val;

	json_object_foreach((json_t *)hdrs, name, val) {
		const char *s = json_string_value(val);
		char path[512];

		if (!s || !strstr(s, "${"))
			continue;
		snprintf(path, sizeof(path), "targets[%zu].options.headers.%s", i, name);
		eb_verr(v, path, 0,
			"'%s' would be sent as written: ${NAME} is replaced only in the file and "
			"directory paths marked so (give a key with api_key_env)",
			s);
	}
}

/* "targets": unique ids, known adapters, options valid against the adapter's table. */
static void eb_config_targets(struct eb_config *c, struct eb_opt_errors *v)
{
	json_t *targets = json_object_get(c->root, "targets");
	json_t *it;
	size_t i;
	char path[512];

	c->n_targets = json_array_size(targets);
	c->targets = eb_xcalloc(c->n_targets, sizeof(*c->targets));
	json_array_foreach(targets, i, it) {
		struct eb_cfg_target *t = &c->targets[i];
		const char *an = json_string_value(json_object_get(it, "adapter"));
		json_t *opts = json_object_get(it, "options");

		t->id = eb_jstrdup(it, "id");
		snprintf(path, sizeof(path), "targets[%zu].id", i);
		eb_config_id(v, path, t->id);
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
		eb_config_headers(v, json_object_get(opts, "headers"), i);
	}
}

/* Variant j of model i: its quant label, its file (${VAR} expanded), how it is reached. */
static void eb_config_variant(struct eb_opt_errors *v, struct eb_cfg_model *m, size_t i,
			      size_t j, const json_t *vt)
{
	struct eb_cfg_variant *var = &m->variants[j];
	char *file = eb_jstrdup(vt, "file");
	char path[512];

	var->quant = eb_jstrdup(vt, "quant");
	var->model_name = eb_jstrdup(vt, "model_name");
	var->synth = json_object_get(vt, "synth");
	var->synth_seed = (uint64_t)eb_opt_int(var->synth, eb_k_synth, "seed");
	var->scheme = json_object_get(vt, "scheme");
	snprintf(path, sizeof(path), "models[%zu].variants[%zu].quant", i, j);
	eb_config_id(v, path, var->quant);
	for (size_t k = 0; k < j; k++)
		if (var->quant && m->variants[k].quant &&
		    strcmp(var->quant, m->variants[k].quant) == 0)
			eb_verr(v, path, 0, "duplicate quant \"%s\" in model \"%s\"", var->quant,
				m->id ? m->id : "?");
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

/* "models": unique ids, their variants, and the targets they name (which must exist). */
static void eb_config_models(struct eb_config *c, struct eb_opt_errors *v)
{
	json_t *models = json_object_get(c->root, "models");
	json_t *it;
	size_t i;
	char path[512];

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
		eb_config_id(v, path, m->id);
		for (size_t k = 0; k < i; k++)
			if (m->id && c->models[k].id && strcmp(m->id, c->models[k].id) == 0)
				eb_verr(v, path, 0, "duplicate model id \"%s\"", m->id);
		m->n_variants = json_array_size(vars);
		m->variants = eb_xcalloc(m->n_variants, sizeof(*m->variants));
		json_array_foreach(vars, j, vt)
			eb_config_variant(v, m, i, j, vt);
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
}

/* workloads.latency: prompt lengths and the request settings, defaults from the table. */
static void eb_config_latency(struct eb_config *c, const json_t *lat)
{
	json_t *pt = json_object_get(lat, "prompt_tokens");
	json_t *it;
	size_t i;

	c->latency.enabled = 1;
	c->latency.n_prompt_tokens = json_array_size(pt);
	c->latency.prompt_tokens = eb_xcalloc(c->latency.n_prompt_tokens, sizeof(int));
	json_array_foreach(pt, i, it)
		c->latency.prompt_tokens[i] = (int)json_integer_value(it);
	c->latency.gen_tokens = (int)eb_opt_int(lat, eb_k_latency, "gen_tokens");
	c->latency.warmup = (int)eb_opt_int(lat, eb_k_latency, "warmup");
	c->latency.repetitions = (int)eb_opt_int(lat, eb_k_latency, "repetitions");
	c->latency.seed = (uint64_t)eb_opt_int(lat, eb_k_latency, "seed");
	c->latency.distinct_prompts =
		strcmp(eb_opt_str(lat, eb_k_latency, "prompts"), "distinct") == 0;
	c->latency.temperature = eb_opt_num(lat, eb_k_latency, "temperature");
	c->latency.duration_s = eb_opt_num(lat, eb_k_latency, "duration_s"); /* 0: absent */
	c->latency.window_s = eb_opt_num(lat, eb_k_latency, "window_s");
	c->latency.steady_pct = eb_opt_num(lat, eb_k_latency, "steady_pct");
}

/* A length of workloads.load (key `name`): a number, or a distribution object. */
static void eb_config_len(struct eb_config *c, struct eb_opt_errors *v, const json_t *load,
			  const char *name, struct eb_cfg_len *L)
{
	const json_t *j = json_object_get(load, name);
	const char *d;
	char path[128];

	memset(L, 0, sizeof(*L));
	if (json_is_integer(j)) {
		L->dist = EB_LEN_FIXED;
		L->fixed = (int)json_integer_value(j);
		return;
	}
	snprintf(path, sizeof(path), "workloads.load.%s", name);
	d = eb_opt_str(j, eb_k_len, "dist");
	L->min = eb_opt_given(j, "min") ? (int)eb_opt_int(j, eb_k_len, "min") : 1;
	L->max = (int)eb_opt_int(j, eb_k_len, "max");
	L->mean = eb_opt_num(j, eb_k_len, "mean");
	L->sd = eb_opt_num(j, eb_k_len, "sd");
	if (strcmp(d, "file") == 0) {
		char *file = eb_jstrdup(j, "file");
		struct eb_err e;

		L->dist = EB_LEN_FILE;
		if (!file) {
			eb_verr(v, path, 0, "dist \"file\" needs \"file\"");
			return;
		}
		if (eb_config_expand_env(file, &L->file, &e))
			eb_verr(v, path, 0, "%s", e.msg);
		else
			eb_config_relative(c->path, &L->file);
		free(file);
		return;
	}
	L->dist = strcmp(d, "uniform") == 0 ? EB_LEN_UNIFORM : EB_LEN_NORMAL;
	if (strcmp(name, "gen_tokens") == 0 && !eb_opt_given(j, "min"))
		L->min = 2; /* TPOT needs a second token */
	if (!eb_opt_given(j, "max"))
		eb_verr(v, path, 0, "dist \"%s\" needs \"max\"", d);
	else if (L->max < L->min)
		eb_verr(v, path, 0, "max %d is below min %d", L->max, L->min);
	if (L->dist == EB_LEN_NORMAL && (!eb_opt_given(j, "mean") || !eb_opt_given(j, "sd")))
		eb_verr(v, path, 0, "dist \"normal\" needs \"mean\" and \"sd\"");
	if (strcmp(name, "gen_tokens") == 0 && L->min < 2)
		eb_verr(v, path, 0, "min %d: a request generates at least 2 tokens (TPOT needs a "
				    "second)", L->min);
}

/* workloads.load: the concurrencies and rates (one cell each), arrivals, lengths, SLOs. */
static void eb_config_load_wl(struct eb_config *c, struct eb_opt_errors *v, const json_t *load)
{
	struct eb_cfg_load *L = &c->load;
	const json_t *cc = json_object_get(load, "concurrency");
	const json_t *rr = json_object_get(load, "rate");
	const json_t *slo = json_object_get(load, "slo");
	json_t *it;
	size_t i;
	char path[128];

	L->enabled = 1;
	L->n_concurrency = json_array_size(cc);
	L->concurrency = eb_xcalloc(L->n_concurrency + 1, sizeof(int));
	json_array_foreach(cc, i, it)
		L->concurrency[i] = (int)json_integer_value(it);
	L->n_rate = json_array_size(rr);
	L->rate = eb_xcalloc(L->n_rate + 1, sizeof(double));
	json_array_foreach(rr, i, it) {
		snprintf(path, sizeof(path), "workloads.load.rate[%zu]", i);
		if (json_is_string(it) && strcmp(json_string_value(it), "inf") == 0)
			L->rate[i] = INFINITY;
		else if (json_is_number(it) && json_number_value(it) > 0 &&
			 json_number_value(it) <= 1e6)
			L->rate[i] = json_number_value(it);
		else if (json_is_number(it))
			eb_verr(v, path, 0, "%g is out of range (0, 1000000] requests/s",
				json_number_value(it));
		else
			eb_verr(v, path, 0, "expected a number of requests/s or \"inf\"");
		for (size_t k = 0; k < i; k++)
			if (L->rate[k] == L->rate[i] && L->rate[i] != 0)
				eb_verr(v, path, 0, "rate %g is listed twice", L->rate[i]);
	}
	for (i = 0; i < L->n_concurrency; i++)
		for (size_t k = 0; k < i; k++)
			if (L->concurrency[k] == L->concurrency[i]) {
				snprintf(path, sizeof(path), "workloads.load.concurrency[%zu]", i);
				eb_verr(v, path, 0, "concurrency %d is listed twice",
					L->concurrency[i]);
			}
	if (L->n_concurrency + L->n_rate == 0)
		eb_verr(v, "workloads.load", 0, "needs \"concurrency\" or \"rate\" (one cell "
						 "per value)");
	L->gamma = strcmp(eb_opt_str(load, eb_k_load, "arrival"), "gamma") == 0;
	L->burstiness = eb_opt_num(load, eb_k_load, "burstiness");
	if (!L->gamma && eb_opt_given(load, "burstiness") && L->burstiness != 1)
		eb_verr(v, "workloads.load.burstiness", 0,
			"burstiness %g needs \"arrival\": \"gamma\" (Poisson is burstiness 1)",
			L->burstiness);
	L->requests = (int)eb_opt_int(load, eb_k_load, "requests");
	L->duration_s = eb_opt_num(load, eb_k_load, "duration_s");
	L->max_concurrency = (int)eb_opt_int(load, eb_k_load, "max_concurrency");
	L->warmup = (int)eb_opt_int(load, eb_k_load, "warmup");
	L->seed = (uint64_t)eb_opt_int(load, eb_k_load, "seed");
	L->temperature = eb_opt_num(load, eb_k_load, "temperature");
	L->ignore_eos = eb_opt_bool(load, eb_k_load, "ignore_eos");
	eb_config_len(c, v, load, "prompt_tokens", &L->prompt);
	eb_config_len(c, v, load, "gen_tokens", &L->gen);
	L->slo = (json_t *)slo;
	L->slo_ttft_ms = eb_opt_given(slo, "ttft_ms") ? eb_opt_num(slo, eb_k_slo, "ttft_ms") : NAN;
	L->slo_tpot_ms = eb_opt_given(slo, "tpot_ms") ? eb_opt_num(slo, eb_k_slo, "tpot_ms") : NAN;
	L->slo_itl_ms = eb_opt_given(slo, "itl_ms") ? eb_opt_num(slo, eb_k_slo, "itl_ms") : NAN;
	L->slo_e2e_ms = eb_opt_given(slo, "e2e_ms") ? eb_opt_num(slo, eb_k_slo, "e2e_ms") : NAN;
}

/* "matrix": the include and exclude rules, kept as given (NULL: any). */
static void eb_config_matrix(struct eb_config *c)
{
	json_t *matrix = json_object_get(c->root, "matrix");
	json_t *it;
	size_t i;

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

/*
 * Second pass over a structurally valid document: cross-references and adapter options,
 * each part by its own function, in the order their problems are listed.
 */
static void eb_config_extract(struct eb_config *c, struct eb_opt_errors *v)
{
	json_t *wl = json_object_get(c->root, "workloads");
	json_t *lat = json_object_get(wl, "latency");
	json_t *acc = json_object_get(wl, "accuracy");
	json_t *load = json_object_get(wl, "load");

	c->name = eb_jstrdup(c->root, "name");
	c->db = eb_jstrdup(c->root, "db");
	c->repeat = (int)eb_opt_int(c->root, eb_k_root, "repeat");
	c->interleave = eb_opt_bool(c->root, eb_k_root, "interleave");
	c->repeat_cooldown_s = eb_opt_num(c->root, eb_k_root, "repeat_cooldown_s");
	eb_config_sensors(c, v);
	eb_config_power(c, v);
	c->device = json_object_get(c->root, "device");
	c->device_name = c->device ? eb_jstrdup(c->device, "name") : eb_xstrdup("unnamed");
	c->mem_bw_gbps = eb_opt_num(json_object_get(c->device, "profile"), eb_k_profile,
				    "mem_bw_gbps");
	eb_config_modes(c, v);
	eb_config_targets(c, v);
	eb_config_models(c, v);
	if (acc)
		eb_config_accuracy(c, v, acc);
	if (lat)
		eb_config_latency(c, lat);
	if (load)
		eb_config_load_wl(c, v, load);
	if (!lat && !acc && !load)
		eb_verr(v, "workloads", 0, "no workload configured (add \"latency\", \"load\" or "
					   "\"accuracy\")");
	eb_config_matrix(c);
}

int eb_config_load(struct eb_config *c, const char *path, char **errors, struct eb_err *err)
{
	struct eb_opt_errors v;
	json_error_t jerr;
	const char *nul;
	size_t len;
	int ret = EB_ECONFIG;

	memset(c, 0, sizeof(*c));
	*errors = NULL;
	eb_opt_errors_init(&v, path); /* holds memory only once scanned or written to */
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
		eb_validate_root(&v, c->root);
	if (v.n == 0)
		eb_config_extract(c, &v);
	ret = 0;
	if (v.n) {
		*err = v.first;
		*errors = eb_buf_detach(&v.lines, NULL);
		ret = EB_ECONFIG;
	}
	eb_opt_errors_release(&v);
	return ret;
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
	free(c->load.concurrency);
	free(c->load.rate);
	free(c->load.prompt.file);
	free(c->load.gen.file);
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
	for (size_t i = 0; i < c->n_modes; i++) {
		free(c->modes[i].id);
		free(c->modes[i].governor);
	}
	free(c->modes);
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

static void eb_schema_rows(FILE *f, const struct eb_opt *keys, const char *prefix)
{
	char path[256], def[64];

	for (const struct eb_opt *k = keys; k->name; k++) {
		const char *suffix = k->type == EB_OPT_ARR_OBJ ? "[]" : "";
		const char *d = eb_opt_def_text(k, def, sizeof(def));

		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", k->name);
		fprintf(f, "| `%s%s` | %s | %s | %s |", path, suffix, eb_opt_type_name(k->type),
			(k->flags & EB_OPT_REQUIRED) ? "yes" : "no", d ? d : "");
		if (k->range.set && (k->type == EB_OPT_INT || k->type == EB_OPT_ARR_INT))
			fprintf(f, " %s (%.0f..%.0f) |\n", k->help, k->range.min, k->range.max);
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
