/* sampler.c: the sampling thread, the raw-sample trace and the sensor set (see sampler.h). */
#include "sampler.h"

#include "eb_clock.h"
#include "eb_util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define EB_SAMPLER_DEFAULT_MAX (8u << 20)
#define EB_SAMPLER_MAX_SENSORS 32
#define EB_STREAM_BURST 1024 /* records taken from one stream per wake-up */

/* --- trace -------------------------------------------------------------------------- */

void eb_trace_init(struct eb_trace *t, size_t max_samples)
{
	memset(t, 0, sizeof(*t));
	t->max_samples = max_samples;
}

void eb_trace_release(struct eb_trace *t)
{
	for (size_t i = 0; i < t->n_sensors; i++)
		free(t->sensors[i].name);
	free(t->sensors);
	free(t->rails);
	free(t->samples);
	eb_trace_init(t, t->max_samples);
}

void eb_trace_clear(struct eb_trace *t)
{
	t->n = 0;
	t->n_dropped = 0;
}

size_t eb_trace_add_sensor(struct eb_trace *t, const char *name, const char *kind, int in_total)
{
	t->sensors = eb_xrealloc(t->sensors, (t->n_sensors + 1) * sizeof(*t->sensors));
	t->sensors[t->n_sensors].name = eb_xstrdup(name);
	t->sensors[t->n_sensors].kind = kind;
	t->sensors[t->n_sensors].in_total = in_total;
	return t->n_sensors++;
}

size_t eb_trace_rail(struct eb_trace *t, size_t sensor, const char *name, const char *source,
		     unsigned flags)
{
	struct eb_trace_rail *r;

	for (size_t i = 0; i < t->n_rails; i++) {
		r = &t->rails[i];
		if (r->sensor == sensor && strcmp(r->name, name) == 0) {
			r->flags = flags;
			r->source = source;
			return i;
		}
	}
	if (t->n_rails == t->alloc_rails) {
		t->alloc_rails = t->alloc_rails ? 2 * t->alloc_rails : 16;
		t->rails = eb_xrealloc(t->rails, t->alloc_rails * sizeof(*t->rails));
	}
	r = &t->rails[t->n_rails];
	memset(r, 0, sizeof(*r));
	r->sensor = sensor;
	eb_strlcpy(r->name, name, sizeof(r->name));
	r->source = source;
	r->flags = flags;
	return t->n_rails++;
}

int eb_trace_add(struct eb_trace *t, size_t rail, uint64_t t_ns, double value,
		 uint64_t energy_uj)
{
	struct eb_sample *x;

	if (t->max_samples && t->n >= t->max_samples) {
		t->n_dropped++;
		return EB_ENOMEM;
	}
	if (t->n == t->alloc) {
		size_t na = t->alloc ? 2 * t->alloc : 1024;

		if (t->max_samples && na > t->max_samples)
			na = t->max_samples;
		t->samples = eb_xrealloc(t->samples, na * sizeof(*t->samples));
		t->alloc = na;
	}
	x = &t->samples[t->n++];
	x->t_ns = t_ns;
	x->value = value;
	x->energy_uj = energy_uj;
	x->rail = (uint32_t)rail;
	return 0;
}

/* --- sampler ------------------------------------------------------------------------ */

/*
 * A stream's readings of one rail within one interval, stored as one sample (their mean,
 * stamped with the last one's time and energy) when the next interval's first reading
 * arrives or the sampler stops: a meter printing as fast as it can costs one sample per
 * interval_ms, not one per line.
 */
struct eb_acc {
	int on;
	size_t rail;
	double sum;
	size_t n;
	uint64_t t_first, t_last;
	uint64_t energy_uj;
};

struct eb_slot {
	struct eb_sensor *sensor;
	size_t tsensor;   /* index in the trace */
	int stream;
	int failed;
	size_t cache[EB_SENSOR_READINGS_MAX]; /* trace rail of the i-th reading last time */
	size_t n_cache;
	struct eb_acc acc[EB_SENSOR_READINGS_MAX]; /* streams: the interval being averaged */
};

struct eb_sampler {
	struct eb_sampler_opts o;
	struct eb_slot slots[EB_SAMPLER_MAX_SENSORS];
	size_t n_slots;
	struct eb_trace trace;
	char **warnings;
	size_t n_warnings;
	pthread_t thread;
	int running;
	atomic_int stop;
	int wake[2];
	uint64_t t0;
	int full_warned;
	struct eb_sampler_stats st;
	struct eb_sensor_reading buf[EB_SENSOR_READINGS_MAX];
};

static void eb_sampler_warn(struct eb_sampler *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void eb_sampler_warn(struct eb_sampler *s, const char *fmt, ...)
{
	struct eb_buf b;
	va_list ap;
	char msg[1200];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	eb_buf_init(&b, 0);
	eb_buf_addstr(&b, msg);
	s->warnings = eb_xrealloc(s->warnings, (s->n_warnings + 1) * sizeof(*s->warnings));
	s->warnings[s->n_warnings++] = eb_buf_detach(&b, NULL);
}

int eb_sampler_new(struct eb_sampler **out, const struct eb_sampler_opts *o, struct eb_err *err)
{
	struct eb_sampler *s = eb_xcalloc(1, sizeof(*s));

	*out = NULL;
	if (o)
		s->o = *o;
	if (!s->o.interval_ms)
		s->o.interval_ms = 50;
	if (!s->o.max_samples)
		s->o.max_samples = EB_SAMPLER_DEFAULT_MAX;
	eb_trace_init(&s->trace, s->o.max_samples);
	atomic_init(&s->stop, 0);
	if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		int e = errno;

		free(s);
		return eb_err_set(err, EB_EIO, "sampler: cannot create a pipe: %s", strerror(e));
	}
	*out = s;
	return 0;
}

void eb_sampler_free(struct eb_sampler *s)
{
	if (!s)
		return;
	eb_sampler_stop(s);
	for (size_t i = 0; i < s->n_slots; i++)
		eb_sensor_close(s->slots[i].sensor);
	eb_sampler_clear(s);
	free(s->warnings);
	eb_trace_release(&s->trace);
	close(s->wake[0]);
	close(s->wake[1]);
	free(s);
}

int eb_sampler_add(struct eb_sampler *s, struct eb_sensor *sensor, struct eb_err *err)
{
	struct eb_slot *slot;

	if (s->running || s->n_slots == EB_SAMPLER_MAX_SENSORS) {
		eb_sensor_close(sensor);
		return eb_err_set(err, EB_EINVAL, "sampler: %s",
				  s->running ? "cannot add a sensor while running"
					     : "too many sensors");
	}
	for (size_t i = 0; i < s->n_slots; i++)
		if (strcmp(s->slots[i].sensor->name, sensor->name) == 0) {
			int ret = eb_err_set(err, EB_ECONFIG,
					     "two sensors are named '%s': set options.name",
					     sensor->name);
			eb_sensor_close(sensor);
			return ret;
		}
	slot = &s->slots[s->n_slots++];
	memset(slot, 0, sizeof(*slot));
	slot->sensor = sensor;
	slot->stream = (sensor->ops->caps & EB_SENSOR_CAP_STREAM) != 0;
	slot->tsensor = eb_trace_add_sensor(&s->trace, sensor->name, sensor->ops->name,
					    sensor->in_total);
	return 0;
}

int eb_sampler_add_config(struct eb_sampler *s, const json_t *sensors, const char *root,
			  json_t *skipped, struct eb_err *err)
{
	size_t i;
	json_t *it;

	if (!sensors)
		return 0;
	if (!json_is_array(sensors))
		return eb_err_set(err, EB_ECONFIG, "sensors must be an array");
	json_array_foreach(sensors, i, it) {
		const char *kind = json_string_value(json_object_get(it, "kind"));
		const json_t *opts = json_object_get(it, "options");
		struct eb_sensor *sensor;
		int ret;

		if (!json_is_object(it) || !kind)
			return eb_err_set(err, EB_ECONFIG, "sensors[%zu]: needs a \"kind\"", i);
		if (opts && !json_is_object(opts))
			return eb_err_set(err, EB_ECONFIG, "sensors[%zu].options must be an object",
					  i);
		ret = eb_sensor_open(&sensor, kind, opts, root, s->o.interval_ms, err);
		if (ret == EB_EUNSUPPORTED) {
			if (skipped)
				json_array_append_new(skipped, json_string(err->msg));
			continue;
		}
		if (ret)
			return eb_err_prefix(err, "sensors[%zu]", i);
		ret = eb_sampler_add(s, sensor, err);
		if (ret)
			return eb_err_prefix(err, "sensors[%zu]", i);
	}
	return 0;
}

size_t eb_sampler_n_sensors(const struct eb_sampler *s)
{
	return s->n_slots;
}

uint64_t eb_sampler_t0(const struct eb_sampler *s)
{
	return s->t0;
}

struct eb_sensor *eb_sampler_sensor(const struct eb_sampler *s, size_t i)
{
	return i < s->n_slots ? s->slots[i].sensor : NULL;
}

unsigned eb_sampler_interval_ms(const struct eb_sampler *s)
{
	return s->o.interval_ms;
}

/* Appends one sample; 0, or -1 once the trace is full (warned once). */
static int eb_sampler_put(struct eb_sampler *s, size_t rail, uint64_t t, double value,
			  uint64_t energy_uj)
{
	if (eb_trace_add(&s->trace, rail, t, value, energy_uj) != 0) {
		if (!s->full_warned)
			eb_sampler_warn(s,
					"sample buffer full (%zu samples) at t=%.3f s: later samples "
					"are dropped",
					s->trace.n, (double)(t - s->t0) / 1e9);
		s->full_warned = 1;
		return -1;
	}
	s->st.samples++;
	return 0;
}

/* Stores a stream's pending interval means; 0, or -1 once the trace is full. */
static int eb_sampler_flush(struct eb_sampler *s, struct eb_slot *slot)
{
	int ret = 0;

	for (size_t i = 0; i < EB_SENSOR_READINGS_MAX; i++) {
		struct eb_acc *a = &slot->acc[i];

		if (a->on && ret == 0)
			ret = eb_sampler_put(s, a->rail, a->t_last, a->sum / (double)a->n,
					     a->energy_uj);
		a->on = 0;
	}
	return ret;
}

/* Stores one read's readings with stamp t (a stream's: into its interval's mean). */
static void eb_sampler_store(struct eb_sampler *s, struct eb_slot *slot, uint64_t t,
			     const struct eb_sensor_reading *r, size_t n)
{
	const uint64_t interval = (uint64_t)s->o.interval_ms * 1000000ull;

	for (size_t i = 0; i < n; i++) {
		size_t rail;

		if (!isfinite(r[i].value))
			continue;
		if (i < slot->n_cache && s->trace.rails[slot->cache[i]].flags == r[i].flags &&
		    strcmp(s->trace.rails[slot->cache[i]].name, r[i].rail) == 0) {
			rail = slot->cache[i];
		} else {
			rail = eb_trace_rail(&s->trace, slot->tsensor, r[i].rail, r[i].source,
					     r[i].flags);
			if (i < EB_SENSOR_READINGS_MAX) {
				slot->cache[i] = rail;
				if (slot->n_cache <= i)
					slot->n_cache = i + 1;
			}
		}
		if (slot->stream && i < EB_SENSOR_READINGS_MAX) {
			struct eb_acc *a = &slot->acc[i];

			if (a->on && (a->rail != rail || t - a->t_first >= interval)) {
				if (eb_sampler_put(s, a->rail, a->t_last, a->sum / (double)a->n,
						   a->energy_uj) != 0)
					return;
				a->on = 0;
			}
			if (!a->on)
				*a = (struct eb_acc){ .on = 1, .rail = rail, .t_first = t };
			a->sum += r[i].value;
			a->n++;
			a->t_last = t;
			a->energy_uj = r[i].energy_uj;
			continue;
		}
		if (eb_sampler_put(s, rail, t, r[i].value, r[i].energy_uj) != 0)
			return;
	}
}

static void eb_sampler_fail(struct eb_sampler *s, struct eb_slot *slot, const char *why)
{
	uint64_t now = eb_clock_ns();

	slot->failed = 1;
	eb_sampler_warn(s, "sensor '%s' stopped at t=%.3f s: %s", slot->sensor->name,
			(double)(now - s->t0) / 1e9, why);
}

/* Takes every record a stream has now; `keep` 0 drops them (records queued while stopped). */
static void eb_sampler_drain(struct eb_sampler *s, struct eb_slot *slot, int keep)
{
	for (int k = 0; k < EB_STREAM_BURST && !slot->failed; k++) {
		uint64_t t = eb_clock_ns();
		struct eb_err err;
		size_t n = 0;

		if (eb_sensor_read(slot->sensor, &t, s->buf, EB_SENSOR_READINGS_MAX, &n, &err) != 0) {
			eb_sampler_fail(s, slot, err.msg);
			return;
		}
		if (n == 0)
			return;
		if (keep) {
			s->st.records++;
			eb_sampler_store(s, slot, t, s->buf, n);
		}
	}
}

/* One polled round: every live polled sensor, and streams without a descriptor. */
static void eb_sampler_round(struct eb_sampler *s)
{
	for (size_t i = 0; i < s->n_slots; i++) {
		struct eb_slot *slot = &s->slots[i];
		uint64_t t;
		struct eb_err err;
		size_t n = 0;

		if (slot->failed)
			continue;
		if (slot->stream) {
			if (slot->sensor->ops->fd(slot->sensor->state) < 0)
				eb_sampler_drain(s, slot, 1);
			continue;
		}
		t = eb_clock_ns();
		if (eb_sensor_read(slot->sensor, &t, s->buf, EB_SENSOR_READINGS_MAX, &n, &err) != 0) {
			eb_sampler_fail(s, slot, err.msg);
			continue;
		}
		eb_sampler_store(s, slot, t, s->buf, n);
	}
}

static double eb_tv_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static void *eb_sampler_main(void *arg)
{
	struct eb_sampler *s = arg;
	const uint64_t interval = (uint64_t)s->o.interval_ms * 1000000ull;
	struct pollfd fds[EB_SAMPLER_MAX_SENSORS + 1];
	size_t who[EB_SAMPLER_MAX_SENSORS + 1];
	struct rusage r0, r1;
	uint64_t w0 = eb_clock_ns(), next = w0;
	int have_ru = getrusage(RUSAGE_THREAD, &r0) == 0;

	while (!atomic_load(&s->stop)) {
		uint64_t now = eb_clock_ns();
		struct timespec ts;
		nfds_t nfds = 1;

		if (now >= next) {
			eb_sampler_round(s);
			s->st.ticks++;
			next += interval;
			now = eb_clock_ns();
			if (next <= now) {
				uint64_t behind = (now - next) / interval + 1;

				s->st.late_ticks += behind;
				next += behind * interval;
			}
		}
		fds[0] = (struct pollfd){ .fd = s->wake[0], .events = POLLIN };
		for (size_t i = 0; i < s->n_slots; i++) {
			struct eb_slot *slot = &s->slots[i];
			int fd;

			if (!slot->stream || slot->failed)
				continue;
			fd = slot->sensor->ops->fd(slot->sensor->state);
			if (fd < 0)
				continue;
			fds[nfds] = (struct pollfd){ .fd = fd, .events = POLLIN };
			who[nfds++] = i;
		}
		ts.tv_sec = (time_t)((next - now) / 1000000000ull);
		ts.tv_nsec = (long)((next - now) % 1000000000ull);
		s->st.wakeups++;
		if (ppoll(fds, nfds, &ts, NULL) <= 0)
			continue;
		if (fds[0].revents)
			break;
		for (nfds_t k = 1; k < nfds; k++)
			if (fds[k].revents & (POLLIN | POLLHUP | POLLERR))
				eb_sampler_drain(s, &s->slots[who[k]], 1);
	}
	if (have_ru && getrusage(RUSAGE_THREAD, &r1) == 0)
		s->st.cpu_s += eb_tv_s(&r1.ru_utime) - eb_tv_s(&r0.ru_utime) +
			       eb_tv_s(&r1.ru_stime) - eb_tv_s(&r0.ru_stime);
	s->st.wall_s += (double)(eb_clock_ns() - w0) / 1e9;
	return NULL;
}

static void eb_sampler_drain_wake(struct eb_sampler *s)
{
	char b[64];

	while (read(s->wake[0], b, sizeof(b)) > 0)
		;
}

int eb_sampler_start(struct eb_sampler *s, struct eb_err *err)
{
	int rc;

	if (s->running)
		return eb_err_set(err, EB_EINVAL, "sampler: already running");
	if (!s->t0)
		s->t0 = eb_clock_ns();
	for (size_t i = 0; i < s->n_slots; i++)
		if (s->slots[i].stream && !s->slots[i].failed)
			eb_sampler_drain(s, &s->slots[i], 0);
	eb_sampler_drain_wake(s);
	atomic_store(&s->stop, 0);
	rc = pthread_create(&s->thread, NULL, eb_sampler_main, s);
	if (rc != 0)
		return eb_err_set(err, EB_EIO, "sampler: cannot start a thread: %s", strerror(rc));
	s->running = 1;
	return 0;
}

void eb_sampler_stop(struct eb_sampler *s)
{
	ssize_t w;

	if (!s->running)
		return;
	atomic_store(&s->stop, 1);
	do
		w = write(s->wake[1], "x", 1);
	while (w < 0 && errno == EINTR);
	pthread_join(s->thread, NULL);
	s->running = 0;
	eb_sampler_drain_wake(s);
	for (size_t i = 0; i < s->n_slots; i++)
		if (s->slots[i].stream)
			eb_sampler_flush(s, &s->slots[i]);
}

int eb_sampler_running(const struct eb_sampler *s)
{
	return s->running;
}

const struct eb_trace *eb_sampler_trace(const struct eb_sampler *s)
{
	return &s->trace;
}

void eb_sampler_clear(struct eb_sampler *s)
{
	if (s->running)
		return;
	eb_trace_clear(&s->trace);
	for (size_t i = 0; i < s->n_warnings; i++)
		free(s->warnings[i]);
	s->n_warnings = 0;
	s->full_warned = 0;
}

size_t eb_sampler_n_warnings(const struct eb_sampler *s)
{
	return s->n_warnings;
}

const char *eb_sampler_warning(const struct eb_sampler *s, size_t i)
{
	return i < s->n_warnings ? s->warnings[i] : NULL;
}

int eb_sampler_sensor_failed(const struct eb_sampler *s, size_t i)
{
	return i < s->n_slots && s->slots[i].failed;
}

void eb_sampler_stats(const struct eb_sampler *s, struct eb_sampler_stats *st)
{
	*st = s->st;
	st->cpu_pct = st->wall_s > 0 ? 100.0 * st->cpu_s / st->wall_s : NAN;
}

json_t *eb_sampler_describe(struct eb_sampler *s)
{
	json_t *o = json_object(), *sensors = json_array(), *rails = json_array();
	json_t *warnings = json_array();
	size_t *counts = eb_xcalloc(s->trace.n_rails + 1, sizeof(*counts));
	struct eb_sampler_stats st;

	for (size_t i = 0; i < s->trace.n; i++)
		counts[s->trace.samples[i].rail]++;
	for (size_t i = 0; i < s->n_slots; i++) {
		json_t *d = json_object();
		struct eb_err err;

		if (eb_sensor_describe(s->slots[i].sensor, d, &err) != 0)
			json_object_set_new(d, "describe_error", json_string(err.msg));
		json_object_set_new(d, "failed", json_boolean(s->slots[i].failed));
		json_array_append_new(sensors, d);
	}
	for (size_t i = 0; i < s->trace.n_rails; i++) {
		const struct eb_trace_rail *r = &s->trace.rails[i];

		json_array_append_new(
			rails, json_pack("{s:s, s:s, s:s, s:o, s:I}", "sensor",
					 s->trace.sensors[r->sensor].name, "rail", r->name, "source",
					 r->source ? r->source : "", "flags",
					 eb_sensor_flags_json(r->flags), "samples",
					 (json_int_t)counts[i]));
	}
	for (size_t i = 0; i < s->n_warnings; i++)
		json_array_append_new(warnings, json_string(s->warnings[i]));
	eb_sampler_stats(s, &st);
	json_object_set_new(o, "interval_ms", json_integer(s->o.interval_ms));
	json_object_set_new(o, "sensors", sensors);
	json_object_set_new(o, "rails", rails);
	json_object_set_new(o, "samples", json_integer((json_int_t)s->trace.n));
	json_object_set_new(o, "dropped", json_integer((json_int_t)s->trace.n_dropped));
	json_object_set_new(o, "cpu_pct", isfinite(st.cpu_pct) ? json_real(st.cpu_pct)
							       : json_null());
	json_object_set_new(o, "warnings", warnings);
	free(counts);
	return o;
}

int eb_sampler_run_for(struct eb_sampler *s, double seconds, volatile int *stop, uint64_t *t0,
		       uint64_t *t1, struct eb_err *err)
{
	int started = 0;

	if (!s->running) {
		int ret = eb_sampler_start(s, err);

		if (ret)
			return ret;
		started = 1;
	}
	*t0 = eb_clock_ns();
	if (seconds > 0)
		eb_clock_sleep_ns((uint64_t)(seconds * 1e9), stop);
	*t1 = eb_clock_ns();
	if (started)
		eb_sampler_stop(s);
	return 0;
}
