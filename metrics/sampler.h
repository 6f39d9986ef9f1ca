/* sampler.h: a thread reading opened sensors at an interval into a trace of raw samples. */
#ifndef EB_SAMPLER_H
#define EB_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "eb_err.h"
#include "sensor.h"

/* --- the trace: raw samples, as they go into power_samples ----------------------------- */

struct eb_trace_sensor {
	char *name;       /* label (the "name" option or the kind); owned */
	const char *kind; /* static: ops->name */
	int in_total;
};

struct eb_trace_rail {
	size_t sensor;                     /* index into eb_trace.sensors */
	char name[EB_SENSOR_RAIL_MAX + 1];
	const char *source;                /* static, from the reading */
	unsigned flags;                    /* EB_RAIL_*, from the latest reading */
};

/* One sample: value is W (bytes with EB_RAIL_BYTES); energy_uj with EB_RAIL_COUNTER. */
struct eb_sample {
	uint64_t t_ns;     /* harness clock (eb_clock_ns) */
	double value;
	uint64_t energy_uj;
	uint32_t rail;     /* index into eb_trace.rails */
};

/*
 * Sensors, rails and samples in arrival order (per rail, t_ns never decreases). Every
 * array is owned by the trace. max_samples caps growth (0 = no cap); samples beyond it
 * are counted in n_dropped, not stored.
 */
struct eb_trace {
	struct eb_trace_sensor *sensors;
	size_t n_sensors;
	struct eb_trace_rail *rails;
	size_t n_rails, alloc_rails;
	struct eb_sample *samples;
	size_t n, alloc, max_samples;
	size_t n_dropped;
};

void eb_trace_init(struct eb_trace *t, size_t max_samples);
void eb_trace_release(struct eb_trace *t);
/* Forgets the samples (sensors and rails stay). */
void eb_trace_clear(struct eb_trace *t);
/* Adds a sensor (name copied); returns its index. */
size_t eb_trace_add_sensor(struct eb_trace *t, const char *name, const char *kind, int in_total);
/* The rail `name` of `sensor`, added when new (flags/source updated); returns its index. */
size_t eb_trace_rail(struct eb_trace *t, size_t sensor, const char *name, const char *source,
		     unsigned flags);
/* Appends a sample; EB_ENOMEM (and n_dropped++) when max_samples is reached. */
int eb_trace_add(struct eb_trace *t, size_t rail, uint64_t t_ns, double value,
		 uint64_t energy_uj);

/* --- the sampler ----------------------------------------------------------------------- */

struct eb_sampler;

struct eb_sampler_opts {
	unsigned interval_ms; /* polled sensors are read every interval; 0 = 50 */
	size_t max_samples;   /* 0 = 8M samples (256 MiB) */
};

/* What the sampler thread cost and did, over every start..stop so far. */
struct eb_sampler_stats {
	double cpu_s;          /* user + system time of the sampler thread (RUSAGE_THREAD) */
	double wall_s;         /* time it ran */
	double cpu_pct;        /* 100 * cpu_s / wall_s: percent of one core */
	size_t wakeups;        /* times the thread woke (each costs more than a read) */
	size_t ticks;          /* polled rounds */
	size_t late_ticks;     /* rounds skipped because a round overran the interval */
	size_t records;        /* stream records (tegrastats lines, meter lines) */
	size_t samples;        /* samples stored */
};

/* A stopped sampler with no sensors. *out is the caller's (eb_sampler_free). */
int eb_sampler_new(struct eb_sampler **out, const struct eb_sampler_opts *o, struct eb_err *err);

/* Stops the thread, closes every sensor it holds and frees everything; NULL is fine. */
void eb_sampler_free(struct eb_sampler *s);

/* Takes an opened sensor (and its ownership, also on failure). Only while stopped. */
int eb_sampler_add(struct eb_sampler *s, struct eb_sensor *sensor, struct eb_err *err);

/*
 * Opens every sensor of a config array [{"kind": "...", "options": {...}}, ...] (root: see
 * eb_sensor_open) and adds it. A sensor that is unavailable here is skipped and its reason
 * appended to `skipped` (a JSON array of strings; may be NULL). Returns 0, or EB_ECONFIG for
 * a malformed entry, an unknown kind or bad options, or open()'s error for a sensor that was
 * available and still failed; sensors added before the failure stay added.
 */
int eb_sampler_add_config(struct eb_sampler *s, const json_t *sensors, const char *root,
			  json_t *skipped, struct eb_err *err);

size_t eb_sampler_n_sensors(const struct eb_sampler *s);
/* When the sampler was first started (eb_clock_ns), 0 before: the origin of warning times. */
uint64_t eb_sampler_t0(const struct eb_sampler *s);
struct eb_sensor *eb_sampler_sensor(const struct eb_sampler *s, size_t i);
unsigned eb_sampler_interval_ms(const struct eb_sampler *s);

/*
 * Starts the thread: drops stream records that queued up while stopped (they would be
 * stamped late), then reads polled sensors at once and every interval after, and streams as
 * their records arrive; a stream keeps one sample per rail per interval, the mean of the
 * interval's readings stamped with the last one's time (stored when the next interval
 * starts or at stop). Samples accumulate across start/stop until eb_sampler_clear.
 * EB_EINVAL when already running; EB_EIO when the thread cannot start.
 */
int eb_sampler_start(struct eb_sampler *s, struct eb_err *err);

/* Stops and joins the thread (returns within one read of a sensor); no-op when stopped. */
void eb_sampler_stop(struct eb_sampler *s);

int eb_sampler_running(const struct eb_sampler *s);

/*
 * The samples so far. Valid while the sampler is stopped and until the next start, clear
 * or free; the sampler owns it.
 */
const struct eb_trace *eb_sampler_trace(const struct eb_sampler *s);

/* Forgets the samples and warnings (sensors, rails and stats stay). Only while stopped. */
void eb_sampler_clear(struct eb_sampler *s);

/*
 * Warnings recorded while sampling ("sensor 'hwmon' stopped at t=1.234 s: cannot read
 * '.../power1_input': No such file or directory"); t counts from the first start. A sensor
 * that failed is not read again. Valid while stopped, until clear or free.
 */
size_t eb_sampler_n_warnings(const struct eb_sampler *s);
const char *eb_sampler_warning(const struct eb_sampler *s, size_t i);

/* 1 when sensor i stopped after an error. */
int eb_sampler_sensor_failed(const struct eb_sampler *s, size_t i);

void eb_sampler_stats(const struct eb_sampler *s, struct eb_sampler_stats *st);

/*
 * What was sampled and how, for the cell's record: {"interval_ms", "sensors": [each
 * sensor's describe()], "rails": [{sensor, rail, source, flags, samples}], "samples",
 * "dropped", "cpu_pct", "warnings"}. A new object the caller owns. Only while stopped.
 */
json_t *eb_sampler_describe(struct eb_sampler *s);

/*
 * Idle baseline: when stopped, starts, waits `seconds` (returning early when *stop becomes
 * non-zero; stop may be NULL) and stops; when already running, just waits. The window
 * sampled is returned in [*t0, *t1] (for eb_power_idle). Samples stay in the trace.
 */
int eb_sampler_run_for(struct eb_sampler *s, double seconds, volatile int *stop, uint64_t *t0,
		       uint64_t *t1, struct eb_err *err);

#endif
