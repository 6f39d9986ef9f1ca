/* sensor.h: the ops table every power/memory sensor implements, and the registry of sensors. */
#ifndef EB_SENSOR_H
#define EB_SENSOR_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "eb_err.h"
#include "eb_opt.h"

#define EB_SENSOR_ABI 1

/* Longest rail name kept (characters, without the NUL); longer names are cut. */
#define EB_SENSOR_RAIL_MAX 47
/* Most readings one read() returns; a sensor with more rails keeps the first ones. */
#define EB_SENSOR_READINGS_MAX 64

/* Capability flags (eb_sensor_ops.caps). */
enum {
	EB_SENSOR_CAP_STREAM = 1 << 0, /* pushes records on its own clock (tegrastats, a meter):
					  read() is non-blocking, one record per call */
	EB_SENSOR_CAP_POWER = 1 << 1,  /* reports power rails (W) */
	EB_SENSOR_CAP_MEMORY = 1 << 2, /* reports memory figures (bytes) */
	EB_SENSOR_CAP_ROOT = 1 << 3,   /* reads files under a root (`root` option, --root) */
};

/* Reading flags (eb_sensor_reading.flags). */
enum {
	EB_RAIL_TOTAL = 1 << 0,    /* the sensor's measured total (board or device input) */
	EB_RAIL_NOSUM = 1 << 1,    /* not added when a total has to be summed: a part of another
				      rail (RAPL core in package) or another view of one */
	EB_RAIL_COUNTER = 1 << 2,  /* from an energy counter: value is the mean W since the
				      previous read, energy_uj the counter */
	EB_RAIL_BYTES = 1 << 3,    /* a memory figure in bytes, not a power */
	EB_RAIL_AVERAGED = 1 << 4, /* averaged by the sensor over its window (see describe) */
};

/*
 * One rail at one instant. `value` is W (bytes with EB_RAIL_BYTES) and always finite.
 * With EB_RAIL_COUNTER, energy_uj is the energy since the sensor was opened (µJ,
 * wraparounds already undone), so windows can be integrated from the counter itself.
 * `source` is a static string naming where the value came from and its raw unit,
 * e.g. "power1_input (uW)".
 */
struct eb_sensor_reading {
	char rail[EB_SENSOR_RAIL_MAX + 1];
	double value;
	uint64_t energy_uj;
	const char *source;
	unsigned flags;
};

/*
 * Options every sensor takes besides its own: "name" (the label stored with its samples;
 * default the kind, e.g. two hwmon sensors "board" and "gpu") and "in_total" (whether its
 * total counts in the all-sensors total; default true). NULL-terminated.
 */
extern const struct eb_opt eb_sensor_common_options[];

/* What open() and unavailable_reason() get. Every pointer stays valid until close(). */
struct eb_sensor_args {
	const json_t *options; /* the sensor's options (object; never NULL) */
	const char *root;      /* prefix of every sysfs/procfs path ("" = the real /); never NULL:
				  --root, else the "root" option, else "" */
	unsigned interval_ms;  /* the sampler's interval; sensors with their own clock
				  (tegrastats) default theirs to it */
};

/*
 * The ops table. MUST hooks are non-NULL in every sensor; MAY hooks can be NULL.
 * Hooks that return int return 0 or a negative EB_E* code with `err` filled.
 */
struct eb_sensor_ops {
	const char *name;                     /* MUST: config's "kind" */
	unsigned abi;                         /* MUST: EB_SENSOR_ABI */
	unsigned caps;                        /* MUST: EB_SENSOR_CAP_* */
	const struct eb_opt *options;         /* MUST: its own options, ending with { NULL } */
	const char *help;                     /* MUST: one line */

	/*
	 * MAY: NULL when the sensor can run here with these options; otherwise a one-line
	 * reason a user can act on ("permission denied reading '.../energy_uj' (run as root
	 * or chmod)"), written into buf[0..n) (or a static string) and returned.
	 */
	const char *(*unavailable_reason)(const struct eb_sensor_args *a, char *buf, size_t n);

	/* MUST: discover rails, spawn the stream. *state is the sensor's until close(). */
	int (*open)(const struct eb_sensor_args *a, void **state, struct eb_err *err);

	/*
	 * MUST with EB_SENSOR_CAP_STREAM: a descriptor that polls readable when read() may
	 * have a record, or -1 when the stream must be polled at every tick (a log file).
	 */
	int (*fd)(void *state);

	/*
	 * MUST: readings into out[0..max), their count in *n.
	 * Polled sensors: *t_ns holds the time of the read (eb_clock_ns() taken just before);
	 * one call = one instant; *n may be 0 when nothing is connected right now.
	 * Streams: never blocks; returns the oldest complete record not yet returned and
	 * sets *t_ns to the time it arrived; *n == 0 when none is waiting. A stream that
	 * ended returns EB_EIO (saying why: exit status, last stderr line) once its
	 * buffered records are consumed.
	 * Errors (a file gone, permission lost) are EB_EIO/EB_ENOENT; the sampler then stops
	 * sampling this sensor and records why.
	 */
	int (*read)(void *state, uint64_t *t_ns, struct eb_sensor_reading *out, size_t max,
		    size_t *n, struct eb_err *err);

	/*
	 * MUST: facts into `out` (an object the caller owns): "interval_ms" (the sensor's own
	 * sampling interval, or null when the sampler's clock drives it), "window_ms" (how long
	 * a value is averaged over by the hardware/driver; 0 instantaneous; null unknown),
	 * "window" (a note on that), "rails" (array of {rail, source, flags, path?} known so
	 * far), and anything sensor-specific (device names, driver version, paths).
	 */
	int (*describe)(void *state, json_t *out, struct eb_err *err);

	/* MUST: kill children, close files, free state. */
	void (*close)(void *state);
};

/* The registry: NULL-terminated, explicit, in metrics/sensor_registry.c. */
extern const struct eb_sensor_ops *const eb_sensors[];

/* Looks a sensor kind up by name; NULL when none has that name. */
const struct eb_sensor_ops *eb_sensor_find(const char *kind);

/* Checks one ops table (MUST hooks, ABI, option table); 0 or EB_EINVAL with the reason. */
int eb_sensor_check(const struct eb_sensor_ops *ops, struct eb_err *err);

/* The option `name` in the kind's table, else in eb_sensor_common_options; NULL if none. */
const struct eb_opt *eb_sensor_opt_find(const struct eb_sensor_ops *ops, const char *name);

/*
 * Validates `opts` (an object, or NULL = {}) against the kind's table and the common
 * options: unknown keys (with "did you mean"), types, ranges, choices. Returns 0, or
 * EB_ECONFIG with the first problem as "option 'x': ..." in err.
 */
int eb_sensor_options_check(const struct eb_sensor_ops *ops, const json_t *opts,
			    struct eb_err *err);

/*
 * The same check for a config: each problem goes to `report` (see eb_opt_check) with
 * `path` ("sensors[0].options") leading its key path. Returns the number of problems.
 */
int eb_sensor_options_validate(const struct eb_sensor_ops *ops, const json_t *opts,
			       const char *path, int (*report)(void *ud,
							       const struct eb_opt_problem *p),
			       void *ud);

/*
 * Typed getters over validated options (eb_opt_get_int ...): the value in `opts`, else
 * the table's default, else 0 (NULL for strings). Strings stay owned by `opts` or the table.
 */
long long eb_sensor_opt_int(const struct eb_sensor_ops *ops, const json_t *opts,
			    const char *name);
double eb_sensor_opt_num(const struct eb_sensor_ops *ops, const json_t *opts, const char *name);
int eb_sensor_opt_bool(const struct eb_sensor_ops *ops, const json_t *opts, const char *name);
const char *eb_sensor_opt_str(const struct eb_sensor_ops *ops, const json_t *opts,
			      const char *name);

/* --- an opened sensor: what the sampler and `edgebench sensors` hold ----------------- */

struct eb_sensor {
	const struct eb_sensor_ops *ops;
	void *state;
	char *name;            /* "name" option, else the kind; owned */
	int in_total;          /* "in_total" option */
	json_t *options;       /* own reference */
	char *root;            /* effective root; owned */
	unsigned interval_ms;
};

/*
 * Why `kind` cannot run here with `options` (NULL = {}) under `root` (NULL: the "root"
 * option, else the real /), into buf; NULL when it can. An unknown kind or invalid options
 * are reasons too.
 */
const char *eb_sensor_unavailable(const char *kind, const json_t *options, const char *root,
				  unsigned interval_ms, char *buf, size_t n);

/*
 * Validates options, checks availability and opens a sensor of `kind`. *out is the
 * caller's (eb_sensor_close). Errors: EB_ECONFIG for an unknown kind or bad options (with
 * "did you mean"), EB_EUNSUPPORTED "sensor 'rapl' unavailable: <reason>", or open()'s error.
 */
int eb_sensor_open(struct eb_sensor **out, const char *kind, const json_t *options,
		   const char *root, unsigned interval_ms, struct eb_err *err);

/* ops->read / ops->describe (describe adds "kind" and "name"). */
int eb_sensor_read(struct eb_sensor *s, uint64_t *t_ns, struct eb_sensor_reading *out,
		   size_t max, size_t *n, struct eb_err *err);
int eb_sensor_describe(struct eb_sensor *s, json_t *out, struct eb_err *err);

/* Closes and frees; NULL is fine. */
void eb_sensor_close(struct eb_sensor *s);

/* Flag names as a JSON array of strings ("total", "nosum", "counter", "bytes", "averaged"). */
json_t *eb_sensor_flags_json(unsigned flags);

#endif
