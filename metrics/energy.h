/* energy.h: energy over a time window from a power trace or from an energy counter. */
#ifndef EB_ENERGY_H
#define EB_ENERGY_H

#include <stddef.h>
#include <stdint.h>

#include "eb_err.h"

/*
 * Energy over a window [t0, t1] (ns on the harness monotonic clock, eb_clock_ns()).
 * Only the part of the window that the samples cover, [max(t0, t_first), min(t1, t_last)],
 * is integrated: nothing is extrapolated. coverage < 1 tells the caller to warn (a sensor
 * that started late or stopped early); joules then understates the whole window.
 */
struct eb_energy {
	double joules;    /* J over the covered part */
	double avg_w;     /* joules / covered_s; NAN when covered_s == 0 (see below) */
	double peak_w;    /* W, highest power seen in the covered part; NAN when none */
	size_t n_samples; /* samples (or counter reads) with t0 <= t <= t1 */
	double window_s;  /* t1 - t0, seconds */
	double covered_s; /* seconds of the window covered by samples */
	double coverage;  /* covered_s / window_s in [0, 1]; a zero-length window reads 1 when a
			     sample interval contains it (avg_w and peak_w are then the power
			     there), else 0 */
};

/*
 * Trapezoid integral of a power trace, watts[i] measured at t_ns[i] (ns, non-decreasing;
 * equal stamps make a step), over [t0_ns, t1_ns]. A window edge between two samples takes
 * the linearly interpolated power there, so windows that share an edge add up exactly
 * (prefill + decode = the whole request). Samples outside the window only serve for that
 * interpolation. n == 0 is a trace with no coverage (returns 0, coverage 0).
 * Returns 0, or EB_EINVAL (message says why) for t1 < t0, stamps going backwards, a
 * non-finite watt value or NULL arrays with n > 0; *out is then zeroed.
 */
int eb_energy_integrate(const uint64_t *t_ns, const double *watts, size_t n, uint64_t t0_ns,
			uint64_t t1_ns, struct eb_energy *out, struct eb_err *err);

/*
 * Increment of an energy counter (µJ) from `prev` to `cur`. The counter counts 0..max_range_uj
 * and wraps to 0 (RAPL: max_range_uj = max_energy_range_uj); a drop is one wrap and counts
 * (max_range_uj - prev) + cur. (RAPL's true modulus is one energy unit, about 15-61 µJ, more
 * than max_energy_range_uj; sysfs does not expose the unit, so each wrap may be short by that.)
 * Returns 0, or EB_EINVAL (*delta_uj = 0) when the counter drops with max_range_uj == 0 or a
 * value exceeds a non-zero max_range_uj.
 */
int eb_energy_counter_delta(uint64_t prev, uint64_t cur, uint64_t max_range_uj,
			    uint64_t *delta_uj, struct eb_err *err);

/*
 * Sum of the increments over counter_uj[0..n) (n reads, n - 1 deltas) in *joules, with
 * wraparound as eb_energy_counter_delta; *n_wraps (may be NULL) counts the wraps seen.
 * n < 2 gives 0 J. Errors as eb_energy_counter_delta, with the read's index in the message.
 */
int eb_energy_counter_total(const uint64_t *counter_uj, size_t n, uint64_t max_range_uj,
			    double *joules, size_t *n_wraps, struct eb_err *err);

/*
 * Windowed energy from counter reads counter_uj[i] taken at t_ns[i] (strictly increasing
 * where the counter moved): between two reads power is taken as constant (delta / dt), so a
 * window edge between reads gets the proportional share of that interval's energy. peak_w is
 * the highest interval mean power among the intervals overlapping the covered part.
 * Same coverage rules and errors as eb_energy_integrate, plus eb_energy_counter_delta's.
 */
int eb_energy_integrate_counter(const uint64_t *t_ns, const uint64_t *counter_uj, size_t n,
				uint64_t max_range_uj, uint64_t t0_ns, uint64_t t1_ns,
				struct eb_energy *out, struct eb_err *err);

/*
 * Energy net of an idle baseline: joules - idle_w * duration_s (J). Pass the duration the
 * energy was integrated over (eb_energy.covered_s). NAN if an input is NAN. May be negative
 * when the load drew less than the idle estimate (noise); it is not clamped.
 */
double eb_energy_net_j(double joules, double idle_w, double duration_s);

/*
 * Decode energy per token: decode_j / n_decode, J/token. n_decode counts the tokens that
 * arrived after the first chunk (the first chunk belongs to prefill: one token, or k when a
 * server sends k per chunk). NAN when n_decode <= 0 (unknown, or one chunk).
 */
double eb_energy_j_per_token(double decode_j, long long n_decode);

#endif
