/* sustain.h: sustained latency cells (workloads.latency.duration_s): windows, steady state, drift, throttling. */
#ifndef EB_SUSTAIN_H
#define EB_SUSTAIN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/*
 * The device state along a sustained cell: a snapshot (metrics/devstate.h) when its
 * measured requests start and one in each later window, taken between requests.
 */
struct eb_sustain {
	double window_s, steady_pct;
	const char *root; /* sysfs root, NULL for / (borrowed) */
	uint64_t t0;      /* send time of the first measured request; 0 before it */
	json_t *snaps;    /* [{"t_s", "state"}] */
	long last_win;
};

/* One measured request as the windows see it: when it ended and its figures (NAN: none). */
struct eb_sustain_req {
	uint64_t t_end;
	double decode_tps, ttft_ms;
};

/* What a sustained cell found; see docs/methodology.md "Sustained cells". */
struct eb_sustain_res {
	json_t *series;        /* the windows and findings, for backend_json "sustained" (owned) */
	int has_steady;        /* a steady state was found: steady_* are set */
	double steady_start_s; /* its start, after the first measured request's send */
	uint64_t steady_t0;    /* the same on the harness clock */
	double drift_pct;      /* last window's decode rate against the first's; NAN: undefined */
	int throttled;         /* a zone past its trip point, or a maximum clock lowered */
	double temp_max_c;     /* hottest zone reading in the snapshots; NAN: none */
};

void eb_sustain_init(struct eb_sustain *s, double window_s, double steady_pct, const char *root);
void eb_sustain_release(struct eb_sustain *s);

/* The first measured request is sent at t0: the first snapshot. */
void eb_sustain_start(struct eb_sustain *s, uint64_t t0);

/* A request ended at `now`: a snapshot when `now` is in a window that has none yet. */
void eb_sustain_tick(struct eb_sustain *s, uint64_t now);

/*
 * The windows of reqs[0..n) (full windows of window_s from t0; a trailing part window is
 * left out, unless it is the only one), the steady state, drift and throttling, into
 * *out (the caller frees out->series with json_decref). Each finding that needs a look
 * (drift past steady_pct, no steady state, throttling) is appended to `warnings` as a
 * string.
 */
void eb_sustain_finish(const struct eb_sustain *s, const struct eb_sustain_req *reqs, size_t n,
		       struct eb_sustain_res *out, json_t *warnings);

#endif
