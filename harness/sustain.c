/* sustain.c: windows of a sustained cell, its steady state, drift and throttle flag (see sustain.h). */
#include "sustain.h"
#include "devstate.h"
#include "eb_util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Windows a steady state must last, so one or two quiet windows at the end are not one. */
#define EB_STEADY_MIN_WINDOWS 3

void eb_sustain_init(struct eb_sustain *s, double window_s, double steady_pct, const char *root)
{
	memset(s, 0, sizeof(*s));
	s->window_s = window_s;
	s->steady_pct = steady_pct;
	s->root = root;
	s->snaps = json_array();
	s->last_win = -1;
}

void eb_sustain_release(struct eb_sustain *s)
{
	if (s->snaps)
		json_decref(s->snaps);
	memset(s, 0, sizeof(*s));
}

static long eb_window_of(const struct eb_sustain *s, uint64_t t)
{
	return t <= s->t0 ? 0 : (long)(((double)(t - s->t0) / 1e9) / s->window_s);
}

static void eb_sustain_snap(struct eb_sustain *s, uint64_t now)
{
	json_array_append_new(s->snaps, json_pack("{s:f, s:o}", "t_s",
						  now > s->t0 ? (double)(now - s->t0) / 1e9 : 0.0,
						  "state", eb_devstate_collect(s->root)));
	s->last_win = eb_window_of(s, now);
}

void eb_sustain_start(struct eb_sustain *s, uint64_t t0)
{
	s->t0 = t0;
	eb_sustain_snap(s, t0);
}

void eb_sustain_tick(struct eb_sustain *s, uint64_t now)
{
	if (s->t0 && eb_window_of(s, now) > s->last_win)
		eb_sustain_snap(s, now);
}

/* The first snapshot taken in window w, or NULL. */
static const json_t *eb_snap_in(const struct eb_sustain *s, long w)
{
	const json_t *it;
	size_t i;

	json_array_foreach(s->snaps, i, it) {
		double t = json_real_value(json_object_get(it, "t_s"));

		if ((long)(t / s->window_s) == w)
			return json_object_get(it, "state");
	}
	return NULL;
}

/* A window's device readings: zone temperatures, CPU and devfreq clocks, by name. */
static void eb_window_state(json_t *win, const json_t *st)
{
	json_t *temps = json_object(), *cpu = json_object(), *dev = json_object(), *it;
	size_t i;

	json_array_foreach(json_object_get(st, "thermal"), i, it) {
		const char *type = json_string_value(json_object_get(it, "type"));
		const char *zone = json_string_value(json_object_get(it, "zone"));

		json_object_set(temps, type && *type ? type : zone, json_object_get(it, "temp_c"));
	}
	json_array_foreach(json_object_get(json_object_get(st, "cpu"), "cpus"), i, it) {
		char name[32];
		const json_t *cur = json_object_get(it, "cur_khz");

		snprintf(name, sizeof(name), "cpu%lld",
			 (long long)json_integer_value(json_object_get(it, "cpu")));
		if (cur)
			json_object_set(cpu, name, (json_t *)cur);
	}
	json_array_foreach(json_object_get(st, "devfreq"), i, it) {
		const json_t *cur = json_object_get(it, "cur_hz");

		if (cur)
			json_object_set(dev, json_string_value(json_object_get(it, "device")),
					(json_t *)cur);
	}
	json_object_set_new(win, "temp_c", temps);
	json_object_set_new(win, "cpu_khz", cpu);
	json_object_set_new(win, "devfreq_hz", dev);
}

static void eb_warnf(json_t *warnings, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void eb_warnf(json_t *warnings, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(warnings, json_string(msg));
}

/* The maximum clock `key` of the entry named `name` by `idkey` in array `a`, or -1. */
static long long eb_max_clock(const json_t *a, const char *idkey, const json_t *id, const char *key)
{
	const json_t *it;
	size_t i;

	json_array_foreach(a, i, it)
		if (json_equal((json_t *)json_object_get(it, idkey), (json_t *)id))
			return json_is_integer(json_object_get(it, key))
				       ? json_integer_value(json_object_get(it, key))
				       : -1;
	return -1;
}

/* Whether a reason names the zone `z` already: each zone is reported once, when it first
 * reaches its trip point. */
static int eb_reported(const json_t *reasons, const json_t *z)
{
	char name[160];
	const json_t *it;
	size_t i;

	snprintf(name, sizeof(name), "thermal zone %s ",
		 json_string_value(json_object_get(z, "type")));
	json_array_foreach(reasons, i, it)
		if (strncmp(json_string_value(it), name, strlen(name)) == 0)
			return 1;
	return 0;
}

/*
 * Throttling seen in the snapshots: a zone at or past its trip point, or a CPU's or
 * devfreq device's maximum clock below the first snapshot's (a cooling device capping
 * it). Each reason once, into `reasons`; the hottest reading into *temp_max.
 */
static void eb_throttle(const struct eb_sustain *s, json_t *reasons, double *temp_max)
{
	const json_t *first = json_object_get(json_array_get(s->snaps, 0), "state");
	const json_t *snap, *it;
	size_t i, k;
	char why[512];

	*temp_max = NAN;
	json_array_foreach(s->snaps, i, snap) {
		const json_t *st = json_object_get(snap, "state");
		double t_s = json_real_value(json_object_get(snap, "t_s"));

		json_array_foreach(json_object_get(st, "thermal"), k, it) {
			double c = json_real_value(json_object_get(it, "temp_c"));
			const json_t *trip = json_object_get(it, "trip_c");

			if (isnan(*temp_max) || c > *temp_max)
				*temp_max = c;
			if (trip && c >= json_real_value(trip) && !eb_reported(reasons, it)) {
				snprintf(why, sizeof(why), "thermal zone %s reached %g C at %.3g s, past "
					 "its trip point %g C",
					 json_string_value(json_object_get(it, "type")), c, t_s,
					 json_real_value(trip));
				if (json_array_size(reasons) < 8)
					json_array_append_new(reasons, json_string(why));
				break;
			}
		}
		json_array_foreach(json_object_get(json_object_get(st, "cpu"), "cpus"), k, it) {
			long long was = eb_max_clock(json_object_get(json_object_get(first, "cpu"),
								     "cpus"),
						     "cpu", json_object_get(it, "cpu"), "max_khz");
			long long now = json_integer_value(json_object_get(it, "max_khz"));

			if (was > 0 && now > 0 && now < was && json_array_size(reasons) < 8) {
				snprintf(why, sizeof(why), "cpu%lld maximum clock fell from %lld to %lld "
					 "kHz at %.3g s",
					 (long long)json_integer_value(json_object_get(it, "cpu")), was,
					 now, t_s);
				json_array_append_new(reasons, json_string(why));
			}
		}
		json_array_foreach(json_object_get(st, "devfreq"), k, it) {
			long long was = eb_max_clock(json_object_get(first, "devfreq"), "device",
						     json_object_get(it, "device"), "max_hz");
			long long now = json_integer_value(json_object_get(it, "max_hz"));

			if (was > 0 && now > 0 && now < was && json_array_size(reasons) < 8) {
				snprintf(why, sizeof(why), "%s maximum clock fell from %lld to %lld Hz "
					 "at %.3g s",
					 json_string_value(json_object_get(it, "device")), was, now, t_s);
				json_array_append_new(reasons, json_string(why));
			}
		}
	}
}

/*
 * The steady state: the first window i such that windows i..last (at least
 * EB_STEADY_MIN_WINDOWS with a rate) all lie within steady_pct % of their own mean
 * decode rate. -1 when there is none.
 */
static long eb_steady_window(const double *rate, long nw, double pct)
{
	for (long i = 0; i < nw; i++) {
		double sum = 0, mean;
		long k = 0, ok = 1;

		for (long j = i; j < nw; j++)
			if (isfinite(rate[j])) {
				sum += rate[j];
				k++;
			}
		if (k < EB_STEADY_MIN_WINDOWS)
			return -1;
		mean = sum / (double)k;
		for (long j = i; j < nw && ok; j++)
			ok = !isfinite(rate[j]) || fabs(rate[j] - mean) <= pct / 100.0 * mean;
		if (ok)
			return i;
	}
	return -1;
}

void eb_sustain_finish(const struct eb_sustain *s, const struct eb_sustain_req *reqs, size_t n,
		       struct eb_sustain_res *out, json_t *warnings)
{
	json_t *wins = json_array(), *reasons = json_array();
	uint64_t t_last = s->t0;
	long nw, steady, first = -1, last = -1;
	double *rate;

	memset(out, 0, sizeof(*out));
	out->drift_pct = NAN;
	out->steady_start_s = NAN;
	for (size_t i = 0; i < n; i++)
		if (reqs[i].t_end > t_last)
			t_last = reqs[i].t_end;
	nw = eb_window_of(s, t_last);
	if (nw < 1)
		nw = 1;
	rate = eb_xcalloc((size_t)nw, sizeof(*rate));
	for (long w = 0; w < nw; w++) {
		double dsum = 0, tsum = 0;
		long dn = 0, tn = 0, cnt = 0;
		json_t *win;
		const json_t *st = eb_snap_in(s, w);

		for (size_t i = 0; i < n; i++) {
			if (eb_window_of(s, reqs[i].t_end) != w && !(nw == 1))
				continue;
			cnt++;
			if (isfinite(reqs[i].decode_tps)) {
				dsum += reqs[i].decode_tps;
				dn++;
			}
			if (isfinite(reqs[i].ttft_ms)) {
				tsum += reqs[i].ttft_ms;
				tn++;
			}
		}
		rate[w] = dn ? dsum / (double)dn : NAN;
		win = json_pack("{s:f, s:I}", "t_s", (double)w * s->window_s, "requests",
				(json_int_t)cnt);
		json_object_set_new(win, "decode_tps", dn ? json_real(rate[w]) : json_null());
		json_object_set_new(win, "ttft_ms", tn ? json_real(tsum / (double)tn) : json_null());
		if (st)
			eb_window_state(win, st);
		json_array_append_new(wins, win);
		if (dn) {
			if (first < 0)
				first = w;
			last = w;
		}
	}
	steady = eb_steady_window(rate, nw, s->steady_pct);
	if (first >= 0 && last > first)
		out->drift_pct = (rate[last] - rate[first]) / rate[first] * 100.0;
	if (steady >= 0) {
		out->has_steady = 1;
		out->steady_start_s = (double)steady * s->window_s;
		out->steady_t0 = s->t0 + (uint64_t)(out->steady_start_s * 1e9);
	}
	eb_throttle(s, reasons, &out->temp_max_c);
	out->throttled = json_array_size(reasons) > 0;

	out->series = json_pack("{s:f, s:f, s:o}", "window_s", s->window_s, "steady_pct",
				s->steady_pct, "windows", wins);
	json_object_set_new(out->series, "steady_window",
			    steady >= 0 ? json_integer(steady) : json_null());
	json_object_set_new(out->series, "drift_pct",
			    isfinite(out->drift_pct) ? json_real(out->drift_pct) : json_null());
	json_object_set_new(out->series, "throttle", reasons);

	if (isfinite(out->drift_pct) && fabs(out->drift_pct) > s->steady_pct)
		eb_warnf(warnings, "sustained: the decode rate drifted %+.3g%% from the first window "
				   "to the last (%.4g to %.4g tok/s)",
			 out->drift_pct, rate[first], rate[last]);
	if (first >= 0 && steady < 0)
		eb_warnf(warnings, "sustained: no steady state: no run of %d or more windows of "
				   "%g s to the end stays within %g%% of its mean decode rate",
			 EB_STEADY_MIN_WINDOWS, s->window_s, s->steady_pct);
	for (size_t i = 0; i < json_array_size(reasons); i++)
		eb_warnf(warnings, "sustained: throttled: %s",
			 json_string_value(json_array_get(reasons, i)));
	free(rate);
}
