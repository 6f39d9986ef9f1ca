/* config.h: the run configuration, parsed with jansson and validated against a key table. */
#ifndef EB_CONFIG_H
#define EB_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "adapter.h"
#include "power.h"
#include "eb_err.h"

struct eb_cfg_target {
	char *id;
	const struct eb_adapter_ops *ops;
	json_t *options; /* validated adapter options (object; borrowed from the root) */
};

struct eb_cfg_variant {
	char *quant;
	char *file;        /* local weights (env vars expanded), or NULL */
	char *model_name;  /* server-side model name, or NULL */
	json_t *synth;     /* {"shape","vocab","type","seed"} to create `file` when absent */
	uint64_t synth_seed; /* synth.seed, or its default */
	json_t *scheme;    /* {"weights","activations","kv_cache"} labels, or NULL */
};

struct eb_cfg_model {
	char *id;
	struct eb_cfg_variant *variants;
	size_t n_variants;
	char **targets; /* restriction to these target ids; n_targets == 0: all */
	size_t n_targets;
};

struct eb_cfg_latency {
	int enabled;
	int *prompt_tokens;
	size_t n_prompt_tokens;
	int gen_tokens;
	int warmup;
	int repetitions;
	uint64_t seed;
	double temperature;
	int distinct_prompts; /* each request its own text (no shared prefix) */
	double duration_s;    /* sustained: measured requests for this long; 0: off */
	double window_s;      /* sustained: window of the series */
	double steady_pct;    /* sustained: steady-state tolerance, % of the mean rate */
};

/* A length in tokens of the load workload: fixed, or drawn for each request. */
enum eb_len_dist {
	EB_LEN_FIXED,   /* always `fixed` */
	EB_LEN_UNIFORM, /* an integer uniform in [min, max] */
	EB_LEN_NORMAL,  /* round(normal(mean, sd)), clipped to [min, max] */
	EB_LEN_FILE,    /* a line (JSONL: prompt_len, output_len) or a ShareGPT conversation */
};

struct eb_cfg_len {
	enum eb_len_dist dist;
	int fixed;
	int min, max;
	double mean, sd;
	char *file; /* EB_LEN_FILE: the path (${VAR} expanded, relative to the config file) */
};

/* workloads.load: requests sent concurrently or at a rate (harness/load.c). */
struct eb_cfg_load {
	int enabled;
	int *concurrency;     /* one cell per value: this many requests in flight */
	size_t n_concurrency;
	double *rate;         /* one cell per value: requests/s; INFINITY ("inf"): all at once */
	size_t n_rate;
	int gamma;            /* arrival "gamma" (else Poisson) */
	double burstiness;    /* the gamma's shape; 1: Poisson */
	int requests;         /* measured requests per cell (with duration_s: at most) */
	double duration_s;    /* > 0: no request is sent this long after the first measured one */
	int max_concurrency;  /* rate cells: the most in flight (0: no limit) */
	int warmup;           /* requests sent first and not counted */
	uint64_t seed;        /* arrivals and lengths */
	double temperature;
	struct eb_cfg_len prompt, gen;
	int ignore_eos;
	double slo_ttft_ms, slo_tpot_ms, slo_itl_ms, slo_e2e_ms; /* NAN: no such objective */
	json_t *slo;          /* the "slo" object (borrowed), stored with the figures */
};

/* One accuracy task (workloads.accuracy.tasks[i]); see docs/accuracy.md. */
struct eb_cfg_acc_task {
	char *task;          /* id, the last part of the cell key */
	char *protocol;      /* a name in the protocol table (protocol.h) */
	char *file;          /* dataset path (env expanded), or NULL: the fetched default */
	char *member;        /* zip member, or NULL */
	long long n_ctx;     /* wikitext2-llamacpp, kld: tokens per chunk */
	long long seqlen;    /* window / maximum length */
	long long limit;     /* 0 = all */
	long long n_samples; /* c4-gptq, c4-new: windows */
	long long seed;      /* c4-gptq: random.seed */
	long long n_batch;   /* tokens per forward pass; 0 = the adapter's */
	long long max_tokens; /* generative protocols: reply tokens at most; 0: the protocol's */
	int bos;             /* hellaswag: start with BOS */
	int separate;        /* hellaswag: no shared context (benchmarks only; not a key) */
	json_t *params;      /* the resolved parameters (owned), stored with every figure */
};

struct eb_cfg_accuracy {
	int enabled;
	struct eb_cfg_acc_task *tasks;
	size_t n_tasks;
	char *kld_reference; /* quant label of the reference variant, or NULL */
	char *kld_dir;       /* reference log-prob files; NULL: "<db>.kld" */
};

/* "sensors" and "power": what run.c hands to eb_power_begin for each latency cell. */
struct eb_cfg_power {
	const json_t *sensors;   /* the "sensors" array (borrowed from root), NULL: none */
	struct eb_power_opts opts; /* its strings point into this struct */
	char *cooldown_zone;
	char *sysfs_root;        /* ${VAR} expanded; NULL: the real / */
	int store_samples;       /* raw samples into power_samples */
};

struct eb_cfg_rule {
	char *target, *model, *quant; /* fnmatch(3) patterns; NULL matches anything */
};

/*
 * A power or performance mode of the device (device.modes[i]), set by harness/modes.c
 * before its group of cells. Each part is optional; at least one is given.
 */
struct eb_cfg_mode {
	char *id;              /* the mode in cell keys ("KEY@ID") */
	long long nvpmodel;    /* Jetson: `nvpmodel -m N`; -1: not part of the mode */
	int jetson_clocks;     /* 1: `jetson_clocks`; 0: `jetson_clocks --restore`; -1: untouched */
	double power_limit_w;  /* NVIDIA: `nvidia-smi -pl W`; NAN: untouched */
	char *governor;        /* cpufreq scaling_governor of every CPU; NULL: untouched */
	long long max_khz;     /* cpufreq scaling_max_freq of every CPU; 0: untouched */
	const json_t *set;     /* argv array of a program that sets the mode, or NULL */
	const json_t *restore; /* with `set`: argv array that restores the starting mode */
	const json_t *verify;  /* {"argv","match"} or {"file","expect"}, or NULL (borrowed) */
	double settle_s;       /* wait after setting, before the group's first cell */
};

/* A parsed, validated config. Strings are owned by it; release with eb_config_release. */
struct eb_config {
	char *path;
	char *text;          /* the file as read */
	char sha256[65];     /* of `text` */
	json_t *root;
	char *name;
	char *db;            /* output database path (NULL: the default) */
	char *device_name;
	json_t *device;      /* the "device" object or NULL (borrowed from root) */
	double mem_bw_gbps;  /* device.profile.mem_bw_gbps, or 0 when not given */
	struct eb_cfg_mode *modes; /* device.modes; n_modes == 0: the device as it is */
	size_t n_modes;
	double mode_timeout_s;     /* device.mode_timeout_s: the limit on each mode program */
	struct eb_cfg_target *targets;
	size_t n_targets;
	struct eb_cfg_model *models;
	size_t n_models;
	struct eb_cfg_latency latency;
	struct eb_cfg_load load;
	struct eb_cfg_accuracy accuracy;
	struct eb_cfg_power power;
	struct eb_cfg_rule *include, *exclude;
	size_t n_include, n_exclude;
	int repeat;               /* runs of every cell (1: once, keys without #N) */
	int interleave;           /* repeats pass after pass (else each cell's back to back) */
	double repeat_cooldown_s; /* pause before each repeat after the first */
};

/*
 * Loads and validates `path`. On failure returns EB_ECONFIG and writes every problem
 * found, one per line as "path:line:col: message", into `errors` (a malloc'd string the
 * caller frees; *errors is NULL on success); `err` gets the first.
 */
int eb_config_load(struct eb_config *cfg, const char *path, char **errors, struct eb_err *err);
void eb_config_release(struct eb_config *cfg);

/* Prints every config key with type, default and help as a markdown table. */
void eb_config_print_schema(FILE *f);

/* Expands ${NAME} from the environment (unset: error naming it). Caller frees *out. */
int eb_config_expand_env(const char *in, char **out, struct eb_err *err);

#endif
