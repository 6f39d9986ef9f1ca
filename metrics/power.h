/* power.h: idle baseline, per-request energy and per-cell power metrics from a sampler trace. */
#ifndef EB_POWER_H
#define EB_POWER_H

#include <stddef.h>
#include <stdint.h>

#include "eb_err.h"
#include "sampler.h"

/*
 * Definitions (docs/metrics.md has them with every other metric): each rail's power
 * trace is integrated with the trapezoid rule (counter rails from the counter itself) over
 *   prefill = [t_send, t_first], decode = [t_first, t_last], request = [t_send, t_last]
 * on the harness clock. Only the part of a window that samples cover is integrated
 * (energy.h): `coverage` says how much that was.
 *
 * A sensor's total is its EB_RAIL_TOTAL rail when it has one; otherwise the sum of its
 * power rails without EB_RAIL_NOSUM, marked `summed` (a lower bound: rails it cannot see
 * are missing). The all-sensors total adds the totals of the sensors with in_total; with
 * more than one its peak_w is the sum of their peaks (an upper bound: the peaks need not
 * coincide) and it is `summed`.
 */

/* One window of one rail (or total). */
struct eb_power_window {
	double joules;    /* J over the covered part */
	double net_j;     /* joules - idle_w * covered_s; NAN without a baseline */
	double avg_w;     /* joules / covered_s; NAN when nothing covers the window */
	double peak_w;    /* highest power in the covered part; NAN when none */
	double covered_s; /* seconds of the window covered by samples */
	double coverage;  /* covered_s / window length, [0, 1] */
	size_t n_samples; /* samples inside the window */
};

struct eb_power_figures {
	struct eb_power_window prefill, decode, request;
	double idle_w;          /* the baseline subtracted; NAN without one */
	double j_per_token;     /* decode.joules / n_decode; NAN when n_decode <= 0 */
	double j_per_token_net; /* decode.net_j / n_decode */
	int summed;             /* a sum of rails or sensors (see above) */
};

/* Mean power per rail, per sensor total and overall over an idle window. */
struct eb_power_idle {
	size_t n_rails, n_sensors;
	double *rail_w;   /* [n_rails]: W; NAN for memory rails and rails without samples */
	double *sensor_w; /* [n_sensors]: each sensor's total; NAN when it has no power rail */
	double total_w;   /* the all-sensors total; NAN when no sensor has power */
	double window_s;  /* t1 - t0 */
	uint64_t t0, t1;
};

/*
 * The idle baseline over [t0, t1] (usually from eb_sampler_run_for before the cell's first
 * request). *out is filled (eb_power_idle_release). EB_EINVAL for t1 < t0 or a bad trace.
 */
int eb_power_idle(const struct eb_trace *t, uint64_t t0, uint64_t t1, struct eb_power_idle *out,
		  struct eb_err *err);
void eb_power_idle_release(struct eb_power_idle *idle);

/* Everything about one request. Arrays are indexed like the trace's rails and sensors. */
struct eb_power_request {
	size_t n_rails, n_sensors;
	struct eb_power_figures *rails;   /* memory rails: zeroed, NAN figures */
	struct eb_power_figures *sensors; /* each sensor's total */
	double *mem_peak;                 /* [n_rails]: memory rails' highest bytes over the
					     request (from the value held at t_send); else NAN */
	struct eb_power_figures total;    /* the all-sensors total */
	size_t n_total;                   /* sensors in the total; 0 = no power measured */
};

/*
 * Energy of one request: windows from its token times (t_send <= t_first <= t_last) and
 * n_decode (tokens after the first chunk, for J/token; < 0 unknown). idle may be NULL (net figures NAN). *out is filled
 * (eb_power_request_release). EB_EINVAL for windows out of order or a bad trace.
 */
int eb_power_request(const struct eb_trace *t, const struct eb_power_idle *idle,
		     uint64_t t_send, uint64_t t_first, uint64_t t_last, long long n_decode,
		     struct eb_power_request *out, struct eb_err *err);
void eb_power_request_release(struct eb_power_request *r);

/* --- per-cell accumulation, for the run loop ------------------------------------------- */

/*
 * One metric over the cell's requests: values[0..n) (one per measured request), or a
 * single value (idle_w, mem_peak_mb) when `single`. Names: see docs/metrics.md and
 * docs/methodology.md ("Power and energy"): totals ("energy_decode_j"), per sensor
 * ("energy_decode_j:tegrastats") and per rail ("energy_decode_j:tegrastats/VDD_GPU_SOC").
 */
struct eb_power_metric {
	char name[128];
	const char *unit;
	double *values;
	size_t n, alloc;
	int single;
	int detail; /* per sensor or per rail (name has ':'): store it, but its outliers are
		       already reported on the total */
};

struct eb_power_cell;

/*
 * Starts a cell's accumulation over a finished trace (the sampler stopped) and an optional
 * baseline (copied). The trace must outlive the accumulator. *out: eb_power_cell_free.
 */
int eb_power_cell_new(struct eb_power_cell **out, const struct eb_trace *t,
		      const struct eb_power_idle *idle, struct eb_err *err);

/* Adds one measured (non-warm-up) request; errors as eb_power_request. */
int eb_power_cell_add(struct eb_power_cell *pc, uint64_t t_send, uint64_t t_first,
		      uint64_t t_last, long long n_decode, struct eb_err *err);

/* The metrics so far; pointers stay valid until the next add or free. */
size_t eb_power_cell_n_metrics(const struct eb_power_cell *pc);
const struct eb_power_metric *eb_power_cell_metric(const struct eb_power_cell *pc, size_t i);

/*
 * Warnings about the cell's figures (windows only partly covered by samples, prefill
 * windows shorter than the sample spacing, a summed total, no power rail at all).
 * Valid until free.
 */
size_t eb_power_cell_n_warnings(struct eb_power_cell *pc);
const char *eb_power_cell_warning(struct eb_power_cell *pc, size_t i);

void eb_power_cell_free(struct eb_power_cell *pc);

/* --- one cell's measurement, start to end: what the run loop calls ------------------------ */

/* The config's "sensors" and "power" keys. */
struct eb_power_opts {
	const json_t *sensors;      /* [{"kind", "options"}], or NULL: measure nothing */
	const char *root;           /* sysfs root for sensors and thermal zones; NULL = real */
	unsigned interval_ms;       /* sampler interval; 0 = 50 */
	double idle_s;              /* idle baseline before the first request; 0 = none */
	double cooldown_s;          /* fixed pause before the cell */
	const char *cooldown_zone;  /* then wait until this thermal zone (NULL: no wait) ... */
	double cooldown_below_c;    /* ... reads below this ... */
	double cooldown_timeout_s;  /* ... for at most this long */
};

/* A cell's sensors and baseline. Zero it before eb_power_begin. */
struct eb_power_run {
	struct eb_sampler *smp;   /* NULL when no sensor runs */
	struct eb_power_idle idle;
	int have_idle;
};

/*
 * Before a cell's first request (model loaded): cool-down, sensors opened, idle baseline,
 * sampling started. Never fails the cell: every problem (a sensor unavailable here, a
 * cool-down that timed out) is appended to `warnings` (a JSON array of strings) and the
 * cell runs with what works. Returns EB_EINTR when *stop (may be NULL) was set while
 * waiting, else 0.
 */
int eb_power_begin(struct eb_power_run *pr, const struct eb_power_opts *o, volatile int *stop,
		   json_t *warnings);

/* After the last request: stops sampling (the trace stays for eb_power_cell_new). */
void eb_power_end(struct eb_power_run *pr);

/* Frees the sampler (closing sensors) and the baseline; the struct is zeroed. */
void eb_power_release(struct eb_power_run *pr);

#endif
