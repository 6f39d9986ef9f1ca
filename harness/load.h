/* load.h: the load workload's arithmetic: send schedules, request lengths, cell figures. */
#ifndef EB_LOAD_H
#define EB_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "eb_err.h"

/*
 * Send times of n requests at `rate` requests/s, as seconds from the cell's start, into
 * t[0..n): t[0] = 0 and each gap drawn from CPython's random.expovariate(rate) (arrival
 * poisson) or random.gammavariate(burstiness, 1 / (rate x burstiness)) (gamma: the same
 * mean 1/rate), the generator seeded with random.seed(seed). An infinite rate sends
 * every request at 0. So `python3 -c "import random; ..."` gives the same times.
 */
void eb_load_schedule(const struct eb_cfg_load *L, double rate, size_t n, double *t);

/*
 * The prompt and generation lengths of n requests into prompt[0..n) and gen[0..n): fixed,
 * or drawn with CPython's random seeded with seed + 1 (prompt_tokens) and seed + 2
 * (gen_tokens): randint(min, max) (uniform), round(normalvariate(mean, sd)) clipped to
 * [min, max] (normal), or a line of the file chosen by randbelow(lines) (file; the same
 * draw for both when both name the same file). Fails with EB_ECONFIG naming the file,
 * line and key for a file that cannot be read, a line that is not an object with a
 * positive integer prompt_len and output_len, or no lines.
 */
int eb_load_lengths(const struct eb_cfg_load *L, size_t n, int *prompt, int *gen,
		    struct eb_err *err);

/* One measured request as the cell figures need it (times on eb_clock_ns). */
struct eb_load_req {
	int ok;             /* 0: the request failed (never good, no tokens counted) */
	uint64_t t_due;     /* when it could first be sent: its schedule, or a free slot */
	uint64_t t_send;    /* when it was sent */
	uint64_t t_end;     /* when its last token arrived (t_send when none did) */
	int n_prompt, n_out; /* as the engine counted them; < 0: unknown (not counted) */
	double ttft_ms, tpot_ms, e2e_ms; /* NAN: not measured */
	double itl_max_ms;  /* its largest inter-token gap; NAN: fewer than two chunks */
};

/* The figures of a load cell (docs/metrics.md, Load cells). */
struct eb_load_figs {
	size_t n;            /* measured requests sent */
	size_t n_ok;         /* ... that succeeded */
	size_t n_good;       /* ... that met every SLO given (every request, without SLOs) */
	double window_s;     /* first send to last end among the measured requests */
	long long out_tokens, in_tokens; /* summed over the measured requests that succeeded */
	double output_tps;   /* out_tokens / window_s */
	double total_tps;    /* (in_tokens + out_tokens) / window_s */
	double req_per_s;    /* n_ok / window_s */
	double concurrency;  /* sum of (t_end - t_send) / window_s: mean requests in flight */
	double goodput_frac; /* n_good / n (NAN without SLOs) */
	double goodput_rps;  /* n_good / window_s (NAN without SLOs) */
	int has_slo;
};

/*
 * A request meets the SLOs of L when each given objective holds for it: TTFT, TPOT and
 * E2E at most their limit, and every gap at most itl_ms. A figure the request does not
 * define (NAN) fails its objective: a request whose TTFT was not measured is not known
 * to meet a TTFT limit. A failed request meets none.
 */
int eb_load_good(const struct eb_cfg_load *L, const struct eb_load_req *r);

/* The cell's figures from its n measured requests; a window of 0 leaves rates NAN. */
void eb_load_figures(const struct eb_cfg_load *L, const struct eb_load_req *r, size_t n,
		     struct eb_load_figs *f);

#endif
