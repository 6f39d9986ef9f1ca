/* metric.c: the metric registry (see metric.h); docs/metrics.md is generated from it. */
#include "metric.h"

#include <string.h>

/* The samples and definitions the KL-divergence protocol's many figures share. */
static const char eb_kld_samples[] =
	"per scored token: the KL divergence of the variant's next-token distribution from the "
	"reference's, whose log-probabilities come from its .kld file";
static const char eb_kld_def[] =
	"llama-perplexity --kl-divergence over the chunks of wikitext2-llamacpp; n = scored "
	"tokens";
static const char eb_dp_samples[] =
	"per scored token: dp = p(token) - p_reference(token), the probabilities the variant "
	"and the reference give the text's next token";
static const char eb_dp_def[] =
	"llama-perplexity's statistics of dp (as fractions, not %); not judged: a change of "
	"dp away from 0 is worse on either side (dp_rms is judged)";
static const char eb_energy_samples[] =
	"power samples of the cell's sensors over each measured request's window";
static const char eb_net_def[] =
	"the same figure less idle_w x the covered time of the window";

#define EB_KLD(nm, what)                                                                       \
	{ nm, "nats", EB_DIR_LOWER, EB_METRIC_ACCURACY, "accuracy", NULL,                      \
	  what " of the per-token KL divergence", eb_kld_samples, eb_kld_def }
#define EB_DP(nm, what)                                                                        \
	{ nm, "", EB_DIR_NONE, EB_METRIC_ACCURACY, "accuracy", NULL,                           \
	  what " of dp, the change in the probability of the right token", eb_dp_samples,       \
	  eb_dp_def }

const struct eb_metric eb_metrics[] = {
	/* ---- latency: from the harness's token times (metrics/latency.c) ---- */
	{ "ttft_ms", "ms", EB_DIR_LOWER, 0, "latency", "TTFT", "time to first token",
	  "per measured request: its send time and the first chunk's arrival",
	  "t_first - t_send: t_send is taken just before the request is submitted (in process: "
	  "before the prompt's first llama_decode), t_first when the first generated token "
	  "reaches the harness" },
	{ "prefill_tps", "tok/s", EB_DIR_HIGHER, 0, "latency", "prefill",
	  "prompt tokens per second, as the client sees prefill",
	  "per measured request: n_prompt and its TTFT",
	  "n_prompt / TTFT; the engine's own prefill figure, where it gives one, is kept in "
	  "requests.server_json" },
	{ "decode_tps", "tok/s", EB_DIR_HIGHER, 0, "latency", "decode",
	  "generated tokens per second after the first",
	  "per measured request: n_out and the arrival of its first and last chunks",
	  "(n_out - n_first) / (t_last - t_first), n_out as the engine counts it, n_first the "
	  "tokens of the first chunk (1 when it does not say); undefined for a request of one "
	  "chunk or of unknown n_out (then the cell stores no decode_tps or tpot_ms)" },
	{ "tpot_ms", "ms", EB_DIR_LOWER, 0, "latency", "TPOT",
	  "time per output token after the first",
	  "per measured request: its decode_tps",
	  "1000 / decode_tps = (t_last - t_first) / (n_out - n_first): the first chunk's "
	  "tokens belong to TTFT, not to TPOT" },
	{ "itl_ms", "ms", EB_DIR_LOWER, 0, "latency", "ITL",
	  "inter-token latency: the gaps between consecutive chunks",
	  "token_times of every measured request (one time per chunk)",
	  "t[k] - t[k-1] for every pair of consecutive chunks of every measured request, pooled "
	  "into one distribution per cell (n = gaps); a chunk that carries several tokens is one "
	  "gap" },
	{ "e2e_ms", "ms", EB_DIR_LOWER, 0, "latency", "E2E", "end-to-end time of a request",
	  "per measured request: its send time and the last chunk's arrival",
	  "t_last - t_send" },
	{ "mbu", "fraction", EB_DIR_HIGHER, 0, "latency", "MBU", "model bandwidth utilisation",
	  "per measured request: decode_tps, n_prompt, n_out; the cell's model_bytes and KV bytes "
	  "per token; device.profile.mem_bw_gbps",
	  "decode_tps x (model_bytes + KV bytes per token x (n_prompt + n_out / 2)) / peak "
	  "bandwidth: how close to the memory-bandwidth limit decoding ran; only with "
	  "device.profile.mem_bw_gbps" },

	/* ---- memory: one value per cell ---- */
	{ "peak_rss_mb", "MiB", EB_DIR_LOWER, EB_METRIC_SINGLE, "memory", "peak RSS",
	  "peak resident memory of the edgebench process during the cell",
	  "VmHWM of /proc/self/status at the end of the cell",
	  "the process's high-water mark in MiB (2^20 bytes), reset through "
	  "/proc/self/clear_refs when the cell starts (the cell carries a warning when it cannot "
	  "be); it includes the model's resident pages and, for a model's first cell, its "
	  "loading" },
	{ "model_bytes", "B", EB_DIR_LOWER, EB_METRIC_SINGLE, "memory", "model size",
	  "size of the model's weights", "the adapter's describe() (llamacpp: llama_model_size)",
	  "bytes of the weights as the backend holds them" },
	{ "kv_bytes", "B", EB_DIR_LOWER, EB_METRIC_SINGLE, "memory", "KV cache",
	  "size of the whole context's KV cache", "the adapter's describe()",
	  "n_layer x n_ctx x (K row + V row), rows of n_head_kv x head_dim elements of the cache "
	  "types" },
	{ "mem_peak_mb", "MiB", EB_DIR_LOWER, EB_METRIC_SINGLE | EB_METRIC_PER_SOURCE, "memory",
	  NULL, "highest reading of a memory sensor during the measured requests",
	  "memory rails of the sampler: tegrastats RAM, NVML device memory, a server's RSS",
	  "the highest sample of the rail inside the requests' windows; stored only per rail, "
	  "as mem_peak_mb:SENSOR/RAIL" },

	/* ---- sustained cells: over the windows of a cell with duration_s ---- */
	{ "decode_tps_steady", "tok/s", EB_DIR_HIGHER, 0, "sustained", "steady decode",
	  "decode rate once the cell reached its steady state",
	  "per measured request that ended at or after the steady state's start: its decode_tps",
	  "as decode_tps, over the steady part of the cell only; the steady state starts with "
	  "the first window from which every later window's mean decode rate is within "
	  "steady_pct % of their mean (3 windows at least); none: not stored" },
	{ "ttft_ms_steady", "ms", EB_DIR_LOWER, 0, "sustained", "steady TTFT",
	  "time to first token once the cell reached its steady state",
	  "per measured request that ended at or after the steady state's start: its TTFT",
	  "as ttft_ms, over the steady part of the cell only" },
	{ "steady_start_s", "s", EB_DIR_NONE, EB_METRIC_SINGLE, "sustained", NULL,
	  "when the steady state began", "the windows' mean decode rates",
	  "the steady window's start after the first measured request; not judged: it "
	  "describes the device" },
	{ "decode_drift_pct", "%", EB_DIR_NONE, EB_METRIC_SINGLE, "sustained", NULL,
	  "change of the decode rate over the cell",
	  "the mean decode rate of the first and of the last window with one",
	  "(last - first) / first x 100; negative: the cell slowed down (heat); not judged: "
	  "compare the steady figures" },
	{ "throttled", "", EB_DIR_NONE, EB_METRIC_SINGLE, "sustained", NULL,
	  "whether the device throttled during the cell (1) or not (0)",
	  "device-state snapshots: one when the measured requests start and one in each later "
	  "window",
	  "1 when a thermal zone read at or past its lowest passive or hot trip point, or a "
	  "CPU's or devfreq device's maximum clock fell below its value at the start; the "
	  "reasons are the cell's warnings" },
	{ "temp_max_c", "C", EB_DIR_NONE, EB_METRIC_SINGLE, "sustained", NULL,
	  "hottest thermal zone reading during the cell",
	  "device-state snapshots, as for throttled", "the largest temp_c of any zone" },

	/* ---- power and energy: per measured request from the sampler (metrics/power.c) ---- */
	{ "energy_prefill_j", "J", EB_DIR_LOWER, EB_METRIC_PER_SOURCE, "power", NULL,
	  "energy of the prefill window [t_send, t_first]", eb_energy_samples,
	  "each rail's power integrated with the trapezoid rule (energy-counter rails from the "
	  "counter), over the part of the window that samples cover" },
	{ "energy_decode_j", "J", EB_DIR_LOWER, EB_METRIC_PER_SOURCE, "power", NULL,
	  "energy of the decode window [t_first, t_last]", eb_energy_samples,
	  "as energy_prefill_j, over the decode window" },
	{ "energy_request_j", "J", EB_DIR_LOWER, EB_METRIC_PER_SOURCE, "power", NULL,
	  "energy of the request window [t_send, t_last]", eb_energy_samples,
	  "as energy_prefill_j, over the whole request" },
	{ "j_per_token", "J/token", EB_DIR_LOWER, EB_METRIC_PER_SOURCE, "power", NULL,
	  "energy per generated token after the first chunk", eb_energy_samples,
	  "energy_decode_j / (n_out - n_first), n_first the first chunk's tokens" },
	{ "power_avg_w", "W", EB_DIR_LOWER, EB_METRIC_PER_SOURCE, "power", NULL,
	  "average power over the request", eb_energy_samples,
	  "energy_request_j / the covered time of the request window; the card report's "
	  "average power" },
	{ "power_prefill_w", "W", EB_DIR_LOWER, EB_METRIC_PER_SOURCE, "power", NULL,
	  "average power over prefill", eb_energy_samples,
	  "energy_prefill_j / the covered time of the prefill window" },
	{ "power_decode_w", "W", EB_DIR_LOWER, EB_METRIC_PER_SOURCE, "power", NULL,
	  "average power over decode", eb_energy_samples,
	  "energy_decode_j / the covered time of the decode window" },
	{ "power_peak_w", "W", EB_DIR_LOWER, EB_METRIC_PER_SOURCE, "power", NULL,
	  "highest power sample in the request window", eb_energy_samples,
	  "the largest power sample inside the request window" },
	{ "energy_prefill_net_j", "J", EB_DIR_LOWER, EB_METRIC_PER_SOURCE, "power", NULL,
	  "prefill energy above the idle baseline", eb_energy_samples, eb_net_def },
	{ "energy_decode_net_j", "J", EB_DIR_LOWER, EB_METRIC_PER_SOURCE, "power", NULL,
	  "decode energy above the idle baseline", eb_energy_samples, eb_net_def },
	{ "energy_request_net_j", "J", EB_DIR_LOWER, EB_METRIC_PER_SOURCE, "power", NULL,
	  "request energy above the idle baseline", eb_energy_samples, eb_net_def },
	{ "j_per_token_net", "J/token", EB_DIR_LOWER, EB_METRIC_PER_SOURCE, "power", NULL,
	  "energy per generated token above the idle baseline", eb_energy_samples,
	  "energy_decode_net_j / (n_out - n_first)" },
	{ "power_avg_net_w", "W", EB_DIR_LOWER, EB_METRIC_PER_SOURCE, "power", NULL,
	  "average power above the idle baseline", eb_energy_samples, "power_avg_w - idle_w" },
	{ "idle_w", "W", EB_DIR_NONE, EB_METRIC_SINGLE | EB_METRIC_PER_SOURCE, "power", NULL,
	  "idle power before the cell", "power samples of the idle baseline (power.idle_s)",
	  "the mean power over the idle baseline taken before the cell's requests; not judged: "
	  "it describes the device's state, and is the base of the net figures" },

	/* ---- load cells: many requests at once (harness/load.c) ---- */
	{ "output_tps", "tok/s", EB_DIR_HIGHER, EB_METRIC_SINGLE, "load", "output tok/s",
	  "output token throughput of the cell",
	  "every measured request that succeeded: n_out, send time and last chunk's arrival",
	  "the sum of n_out (the engine's count) / the measured window, from the first measured "
	  "request's send to the last one's last chunk" },
	{ "total_tps", "tok/s", EB_DIR_HIGHER, EB_METRIC_SINGLE, "load", "total tok/s",
	  "prompt and output tokens per second of the cell", "as output_tps, with n_prompt",
	  "(sum of n_prompt + sum of n_out) / the measured window" },
	{ "req_per_s", "req/s", EB_DIR_HIGHER, EB_METRIC_SINGLE, "load", "req/s",
	  "request throughput", "the measured requests that succeeded, the measured window",
	  "requests that succeeded / the measured window" },
	{ "concurrency", "", EB_DIR_NONE, EB_METRIC_SINGLE, "load", "concurrency",
	  "achieved concurrency: the mean number of measured requests in flight",
	  "every measured request's send time and last chunk's arrival",
	  "the sum of (t_last - t_send) over the measured requests / the measured window; not "
	  "judged: it is what the cell asked for, as far as client and server kept up" },
	{ "send_lag_ms", "ms", EB_DIR_LOWER, 0, "load", "send lag",
	  "how late a request went out against when it was due",
	  "per measured request: when it was due (its scheduled time, or when the last byte of "
	  "the request before it in its slot arrived, whichever is later; a slot's first: the "
	  "batch's start) and when edgebench handed it to libcurl",
	  "t_send - t_due; its median, p99 and max show a client that cannot keep up" },
	{ "goodput_frac", "fraction", EB_DIR_HIGHER, EB_METRIC_SINGLE, "load", "goodput",
	  "share of the measured requests that met every SLO",
	  "per measured request: TTFT, TPOT, its largest inter-token gap and E2E against "
	  "workloads.load.slo (stored with the cell)",
	  "good / measured requests sent: a request is good when it succeeded and each "
	  "objective given holds for it (per request, not a percentile); a figure the request "
	  "does not define fails its objective; only with slo" },
	{ "goodput_rps", "req/s", EB_DIR_HIGHER, EB_METRIC_SINGLE, "load", "goodput req/s",
	  "rate of requests that met every SLO", "as goodput_frac",
	  "good requests / the measured window (vLLM's request_goodput); only with slo" },
	{ "failed_requests", "", EB_DIR_LOWER, EB_METRIC_SINGLE, "load", "failed",
	  "measured requests that failed", "every measured request's outcome",
	  "their count; the first error is a warning of the cell" },
	{ "j_per_output_token", "J/token", EB_DIR_LOWER, EB_METRIC_SINGLE, "load", NULL,
	  "energy per output token under load",
	  "power samples of the cell's sensors (all sensors' total) over the measured window",
	  "the mean power over the measured window x the window / the output tokens; only "
	  "where sensors run" },
	/* ---- cold start: on the cell that loaded the model ---- */
	{ "load_ms", "ms", EB_DIR_LOWER, EB_METRIC_SINGLE, "cold", "cold start",
	  "model load time",
	  "the harness's clock around the adapter's open(), or the server's own count",
	  "llamacpp (a library linked in): open() (weights read, context made) timed by the "
	  "harness, on the model's first cell; Ollama: the largest load_duration of the cell's "
	  "requests (the server loaded the model for it), when > 0" },

	/* ---- the tool's own cost ---- */
	{ "sampler_cpu_pct", "%", EB_DIR_NONE, EB_METRIC_SINGLE, "tool", NULL,
	  "CPU time of edgebench's sensor sampler over the cell",
	  "getrusage(RUSAGE_THREAD) of the sampler thread",
	  "the sampler thread's CPU time / the cell's wall time, as % of one core; not judged: "
	  "it is edgebench's cost, not the system's" },

	/* ---- accuracy: rows of the accuracy table, with stderr and n ---- */
	{ "ppl", "", EB_DIR_LOWER, EB_METRIC_ACCURACY, "accuracy", NULL, "perplexity",
	  "per-token negative log-likelihoods (NLL) of the scored positions",
	  "exp(mean NLL) of the protocol's scored positions (wikitext2-gptq, c4-gptq, c4-new: "
	  "exp of the mean of the windows' mean NLL); stderr as the protocol defines it "
	  "(llama-perplexity's, or the delta method over the windows); n = tokens or windows" },
	{ "nll_mean", "nats", EB_DIR_LOWER, EB_METRIC_ACCURACY, "accuracy", NULL,
	  "mean negative log-likelihood", "per-token NLL of the scored positions",
	  "the mean NLL that ppl is the exponential of" },
	{ "word_perplexity", "", EB_DIR_LOWER, EB_METRIC_ACCURACY, "accuracy", NULL,
	  "perplexity per word (lm-eval wikitext)",
	  "log-likelihoods of every token of the pages, scored once (rolling windows)",
	  "exp(-sum ll / words), words = len(re.split(r\"\\s+\", page)); n = pages; no "
	  "stderr (lm-eval's is N/A: neither a mean nor bootstrapped)" },
	{ "byte_perplexity", "", EB_DIR_LOWER, EB_METRIC_ACCURACY, "accuracy", NULL,
	  "perplexity per byte (lm-eval wikitext)",
	  "log-likelihoods of every token of the pages, scored once (rolling windows)",
	  "exp(-sum ll / bytes), bytes = UTF-8 bytes of the page before detokenization; no "
	  "stderr (as lm-eval)" },
	{ "bits_per_byte", "bits/byte", EB_DIR_LOWER, EB_METRIC_ACCURACY, "accuracy", NULL,
	  "bits per byte (lm-eval wikitext)",
	  "log-likelihoods of every token of the pages, scored once (rolling windows)",
	  "-sum ll / bytes / ln 2; no stderr (as lm-eval)" },
	{ "acc", "fraction", EB_DIR_HIGHER, EB_METRIC_ACCURACY, "accuracy", NULL,
	  "accuracy of a multiple-choice task (hellaswag, arc_easy, arc_challenge, piqa, "
	  "winogrande, mmlu; by generation: hellaswag-gen, mmlu-gen)",
	  "per item: the summed log-likelihood of each choice, or the generated reply",
	  "share of items whose best-scored choice (by generation: whose reply's letter) is "
	  "the right one; stderr = sqrt(p (1 - p) / (n - 1)) (mmlu: lm-eval's pooled stderr "
	  "over its subjects); n = items" },
	{ "acc_norm", "fraction", EB_DIR_HIGHER, EB_METRIC_ACCURACY, "accuracy", NULL,
	  "length-normalised accuracy (hellaswag, arc_easy, arc_challenge, piqa)",
	  "per item: the summed log-likelihood of each choice and its length in code points",
	  "as acc, each choice scored by its log-likelihood / its code points (ties to the "
	  "first); stderr as for acc" },
	{ "invalid", "items", EB_DIR_LOWER, EB_METRIC_ACCURACY, "accuracy", NULL,
	  "replies with no answer found (generative protocols)",
	  "per item: the generated reply, cut at the protocol's stop strings",
	  "items whose reply names no choice letter, or two (hellaswag-gen, mmlu-gen), or holds "
	  "no \"#### N\" (gsm8k-gen, strict-match); they count as wrong; n = items" },
	{ "exact_match_strict", "fraction", EB_DIR_HIGHER, EB_METRIC_ACCURACY, "accuracy", NULL,
	  "GSM8K exact match, strict-match filter (lm-eval gsm8k)",
	  "per problem: the generated reply, cut at the stop strings",
	  "share of problems whose first \"#### N\" equals the target's number after lm-eval's "
	  "exact_match normalisation; stderr = sqrt(p (1 - p) / (n - 1)); n = problems" },
	{ "exact_match_flexible", "fraction", EB_DIR_HIGHER, EB_METRIC_ACCURACY, "accuracy", NULL,
	  "GSM8K exact match, flexible-extract filter (lm-eval gsm8k)",
	  "per problem: the generated reply, cut at the stop strings",
	  "as exact_match_strict with the reply's last number instead; stderr as for it" },
	EB_KLD("kld_mean", "mean"),
	EB_KLD("kld_median", "median"),
	EB_KLD("kld_p99.9", "99.9th percentile"),
	EB_KLD("kld_p99", "99th percentile"),
	EB_KLD("kld_p95", "95th percentile"),
	EB_KLD("kld_p90", "90th percentile"),
	EB_KLD("kld_p10", "10th percentile"),
	EB_KLD("kld_p5", "5th percentile"),
	EB_KLD("kld_p1", "1st percentile"),
	EB_KLD("kld_p0.1", "0.1th percentile"),
	EB_KLD("kld_max", "maximum"),
	EB_KLD("kld_min", "minimum"),
	{ "top1_agreement", "fraction", EB_DIR_HIGHER, EB_METRIC_ACCURACY, "accuracy", NULL,
	  "share of tokens whose most likely next token is the reference's",
	  "per scored token: the argmax of the variant's and of the reference's distributions",
	  "llama-perplexity's \"Same top p\" as a fraction, with its stderr" },
	EB_DP("dp_mean", "mean"),
	{ "dp_rms", "", EB_DIR_LOWER, EB_METRIC_ACCURACY, "accuracy", NULL,
	  "root mean square of dp, the change in the probability of the right token",
	  eb_dp_samples, "sqrt(mean dp^2), with its stderr: how far the variant's probabilities "
	  "move, either way" },
	EB_DP("dp_max", "maximum"),
	EB_DP("dp_p99.9", "99.9th percentile"),
	EB_DP("dp_p99", "99th percentile"),
	EB_DP("dp_p95", "95th percentile"),
	EB_DP("dp_p90", "90th percentile"),
	EB_DP("dp_p75", "75th percentile"),
	EB_DP("dp_median", "median"),
	EB_DP("dp_p25", "25th percentile"),
	EB_DP("dp_p10", "10th percentile"),
	EB_DP("dp_p5", "5th percentile"),
	EB_DP("dp_p1", "1st percentile"),
	EB_DP("dp_p0.1", "0.1th percentile"),
	EB_DP("dp_min", "minimum"),
	{ "ppl_base", "", EB_DIR_NONE, EB_METRIC_ACCURACY, "accuracy", NULL,
	  "perplexity of the reference variant over the same tokens", eb_kld_samples,
	  "exp(mean NLL) of the reference; not judged: it is the yardstick, not the variant" },
	{ "ppl_ratio", "", EB_DIR_LOWER, EB_METRIC_ACCURACY, "accuracy", NULL,
	  "perplexity relative to the reference", eb_kld_samples,
	  "ppl / ppl_base, with llama-perplexity's stderr" },
	{ "ln_ppl_ratio", "", EB_DIR_LOWER, EB_METRIC_ACCURACY, "accuracy", NULL,
	  "log of the perplexity ratio", eb_kld_samples,
	  "ln(ppl / ppl_base) = mean NLL - mean reference NLL, with its stderr" },
	{ "ppl_diff", "", EB_DIR_LOWER, EB_METRIC_ACCURACY, "accuracy", NULL,
	  "perplexity minus the reference's", eb_kld_samples,
	  "ppl - ppl_base, with llama-perplexity's stderr" },
	{ "ln_ppl_cor", "", EB_DIR_HIGHER, EB_METRIC_ACCURACY, "accuracy", NULL,
	  "correlation of the per-token NLL with the reference's", eb_kld_samples,
	  "Pearson correlation of the variant's and the reference's per-token NLL "
	  "(llama-perplexity's \"Cor(ln(PPL(Q)), ln(PPL(base)))\")" },
	{ NULL, NULL, EB_DIR_NONE, 0, NULL, NULL, NULL, NULL, NULL },
};

const struct eb_metric_group eb_metric_groups[] = {
	{ "latency", "Latency",
	  "Summaries over the measured (non-warm-up) requests of a cell: n, mean, stddev, "
	  "median, min, max, p90, p99 and the 95% confidence interval of the mean." },
	{ "memory", "Memory", "One value per cell (n = 1)." },
	{ "sustained", "Sustained cells",
	  "Only for latency cells with workloads.latency.duration_s; the window series itself is "
	  "in the cell's backend_json under \"sustained\" (docs/methodology.md)." },
	{ "power", "Power and energy",
	  "Per measured request from the cell's sensor samples, summarized like latency. A name "
	  "without suffix is the all-sensors total; with more than one sensor each figure is "
	  "also stored per sensor (NAME:SENSOR), and always per rail (NAME:SENSOR/RAIL)." },
	{ "load", "Load cells",
	  "Only for workloads.load cells; their per-request figures (ttft_ms, tpot_ms, itl_ms, "
	  "e2e_ms, ...) are the latency metrics above, over the measured requests sent at "
	  "once." },
	{ "cold", "Cold start", "One value, on the cell whose model was loaded for it." },
	{ "tool", "edgebench's own cost", "" },
	{ "accuracy", "Accuracy",
	  "Rows of the accuracy table, not summaries: value, stderr (where the protocol defines "
	  "one) and n, with the task, protocol and parameters." },
	{ NULL, NULL, NULL },
};

const struct eb_metric *eb_metric_find(const char *name)
{
	const char *colon = strchr(name, ':');
	size_t base = colon ? (size_t)(colon - name) : strlen(name);

	for (const struct eb_metric *m = eb_metrics; m->name; m++) {
		if (strcmp(m->name, name) == 0)
			return m;
		/* a per-sensor or per-rail figure is its family's metric */
		if (colon && (m->flags & EB_METRIC_PER_SOURCE) && strlen(m->name) == base &&
		    strncmp(m->name, name, base) == 0)
			return m;
	}
	return NULL;
}

enum eb_metric_dir eb_metric_dir_of(const char *name)
{
	const struct eb_metric *m = eb_metric_find(name);

	return m ? m->dir : EB_DIR_NONE;
}

const char *eb_metric_dir_name(enum eb_metric_dir dir)
{
	return dir == EB_DIR_HIGHER ? "higher" : dir == EB_DIR_LOWER ? "lower" : "not judged";
}

const char *eb_metric_label_of(const char *name)
{
	const struct eb_metric *m = eb_metric_find(name);

	return m && m->label ? m->label : name;
}

const char *eb_metric_unit_of(const char *name)
{
	const struct eb_metric *m = eb_metric_find(name);

	return m ? m->unit : NULL;
}
