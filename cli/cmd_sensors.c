/* cmd_sensors.c: `edgebench sensors`: every sensor kind, why it cannot run, live readings, sampler cost. */
#include "cli.h"
#include "eb_build.h"
#include "eb_clock.h"
#include "eb_sanitize.h"
#include "eb_util.h"

#include "devstate.h"
#include "sampler.h"
#include "sensor.h"

#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char eb_sensors_usage[] =
	"usage: edgebench sensors [--json] [--root DIR] [--interval MS] [--config FILE]\n"
	"       edgebench sensors --bench [--seconds N] [--max-pct P] [same options]\n"
	"\n"
	"Lists every sensor kind, whether it can run here (and why not), its options, and\n"
	"one live reading of every rail of the available ones (energy counters are read\n"
	"twice, one interval apart).\n"
	"\n"
	"  --json          JSON on stdout instead of text\n"
	"  --root DIR      read sysfs under DIR (a fixture tree, a chroot); overrides each\n"
	"                  sensor's \"root\" option\n"
	"  --interval MS   sampling interval in ms (default 100); tegrastats runs at it\n"
	"  --config FILE   the sensors of FILE's \"sensors\" array ([{\"kind\", \"options\"}])\n"
	"                  instead of every kind with its defaults\n"
	"  --state         also print the device state (CPU clocks, thermal zones, nvpmodel)\n"
	"  --bench         sample the available sensors for --seconds (default 10) and print\n"
	"                  the sampler thread's CPU cost (getrusage RUSAGE_THREAD), as % of\n"
	"                  one core; --max-pct P exits 1 when it is above P\n"
	"\n"
	"exit codes: 0 ok; 1 --max-pct exceeded; 2 usage or configuration error\n";

struct eb_sensors_opts {
	int json, bench, state;
	const char *root;
	unsigned interval_ms;
	double seconds, max_pct;
	json_t *entries; /* [{"kind", "options"}] */
};

static json_t *eb_options_json(const struct eb_opt *table)
{
	json_t *a = json_array();

	for (const struct eb_opt *o = table; o->name; o++) {
		char def[64];

		json_array_append_new(a, json_pack("{s:s, s:s, s:s?, s:s}", "name", o->name, "type",
						   eb_opt_type_word(o->type), "default",
						   eb_opt_def_text(o, def, sizeof(def)), "help",
						   o->help));
	}
	return a;
}

/*
 * One live reading into `readings`: polled sensors are read twice, one interval apart (a
 * counter's first read only sets its baseline); streams are waited for up to 3 intervals
 * plus 2 s.
 */
static int eb_live_reading(struct eb_sensor *s, unsigned interval_ms, json_t *readings,
			   struct eb_err *err)
{
	struct eb_sensor_reading r[EB_SENSOR_READINGS_MAX];
	uint64_t t = eb_clock_ns();
	size_t n = 0;
	int ret;

	if (s->ops->caps & EB_SENSOR_CAP_STREAM) {
		uint64_t wait = (uint64_t)(3 * interval_ms + 2000) * 1000000ull;
		uint64_t deadline = t + wait;

		for (;;) {
			int fd = s->ops->fd(s->state);
			uint64_t now = eb_clock_ns();

			ret = eb_sensor_read(s, &t, r, EB_SENSOR_READINGS_MAX, &n, err);
			if (ret || n)
				break;
			if (now >= deadline)
				return eb_err_set(err, EB_ETIMEOUT, "no reading within %.1f s",
						  (double)wait / 1e9);
			if (fd >= 0) {
				struct pollfd p = { .fd = fd, .events = POLLIN };
				poll(&p, 1, (int)((deadline - now) / 1000000ull) + 1);
			} else {
				eb_clock_sleep_ns((uint64_t)interval_ms * 1000000ull, NULL);
			}
			t = eb_clock_ns();
		}
	} else {
		ret = eb_sensor_read(s, &t, r, EB_SENSOR_READINGS_MAX, &n, err);
		if (!ret) {
			eb_clock_sleep_ns((uint64_t)interval_ms * 1000000ull, NULL);
			t = eb_clock_ns();
			ret = eb_sensor_read(s, &t, r, EB_SENSOR_READINGS_MAX, &n, err);
		}
	}
	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(
			readings, json_pack("{s:s, s:f, s:s, s:s, s:o}", "rail", r[i].rail, "value",
					    r[i].value, "unit",
					    (r[i].flags & EB_RAIL_BYTES) ? "B" : "W", "source",
					    r[i].source ? r[i].source : "", "flags",
					    eb_sensor_flags_json(r[i].flags)));
	return 0;
}

/* Everything `sensors` says about one kind with these options. */
static json_t *eb_probe(const char *kind, const json_t *options, const struct eb_sensors_opts *o)
{
	const struct eb_sensor_ops *ops = eb_sensor_find(kind);
	json_t *e = json_pack("{s:s}", "kind", kind);
	char why[1024];
	const char *reason = eb_sensor_unavailable(kind, options, o->root, o->interval_ms, why,
						   sizeof(why));
	struct eb_sensor *s = NULL;
	struct eb_err err;

	if (ops) {
		struct eb_err cerr;

		json_object_set_new(e, "help", json_string(ops->help));
		json_object_set_new(e, "options", eb_options_json(ops->options));
		if (eb_sensor_check(ops, &cerr) != 0)
			json_object_set_new(e, "broken", json_string(cerr.msg));
	}
	if (options && json_object_size(options))
		json_object_set(e, "configured", (json_t *)options);
	json_object_set_new(e, "available", json_boolean(reason == NULL));
	json_object_set_new(e, "reason", reason ? json_string(reason) : json_null());
	if (reason)
		return e;
	if (eb_sensor_open(&s, kind, options, o->root, o->interval_ms, &err) != 0) {
		json_object_set_new(e, "available", json_false());
		json_object_set_new(e, "reason", json_string(err.msg));
		return e;
	}
	{
		json_t *readings = json_array(), *d = json_object();

		if (eb_live_reading(s, o->interval_ms, readings, &err) != 0)
			json_object_set_new(e, "error", json_string(err.msg));
		json_object_set_new(e, "readings", readings);
		if (eb_sensor_describe(s, d, &err) != 0)
			json_object_set_new(d, "describe_error", json_string(err.msg));
		json_object_set_new(e, "describe", d);
	}
	eb_sensor_close(s);
	return e;
}

/* What a sensor, a meter program or sysfs said (rail names, messages, device state) is
 * peer text: cleaned once (control characters visible, UTF-8 valid) before it is printed,
 * as everything edgebench stores is. Replaces *v with its cleaned copy. */
static void eb_sensors_clean(json_t **v)
{
	json_t *clean = eb_sanitize_json(*v, NULL);

	json_decref(*v);
	*v = clean;
}

static void eb_print_value(double v, int bytes)
{
	if (bytes)
		printf("%12.1f MiB", v / 1048576.0);
	else if (fabs(v) < 1)
		printf("%12.1f mW ", v * 1e3);
	else
		printf("%12.3f W  ", v);
}

static void eb_print_entry(const json_t *e)
{
	const char *kind = json_string_value(json_object_get(e, "kind"));
	const json_t *readings = json_object_get(e, "readings");
	const json_t *d = json_object_get(e, "describe");
	const json_t *r;
	size_t i;

	printf("%s: %s\n", kind, json_string_value(json_object_get(e, "help")));
	if (json_object_get(e, "broken"))
		printf("  BROKEN: %s\n", json_string_value(json_object_get(e, "broken")));
	if (!json_is_true(json_object_get(e, "available"))) {
		printf("  unavailable: %s\n", json_string_value(json_object_get(e, "reason")));
	} else {
		const json_t *win = json_object_get(d, "window_ms");

		printf("  available: %zu rails", json_array_size(readings));
		if (json_is_number(win))
			printf("; averaging window %g ms", json_number_value(win));
		printf("\n");
		if (json_object_get(e, "error"))
			printf("  reading failed: %s\n",
			       json_string_value(json_object_get(e, "error")));
		json_array_foreach(readings, i, r) {
			const json_t *fl = json_object_get(r, "flags"), *f;
			size_t k;

			printf("    %-24s", json_string_value(json_object_get(r, "rail")));
			eb_print_value(json_number_value(json_object_get(r, "value")),
				       strcmp(json_string_value(json_object_get(r, "unit")), "B") == 0);
			printf("  %s", json_string_value(json_object_get(r, "source")));
			json_array_foreach(fl, k, f) {
				printf("%s%s", k ? "," : "  [", json_string_value(f));
				if (k + 1 == json_array_size(fl))
					printf("]");
			}
			printf("\n");
		}
	}
	printf("  options:\n");
	json_array_foreach(json_object_get(e, "options"), i, r) {
		const json_t *def = json_object_get(r, "default");

		printf("    %-16s %-7s default %-10s %s\n",
		       json_string_value(json_object_get(r, "name")),
		       json_string_value(json_object_get(r, "type")),
		       json_is_string(def) ? json_string_value(def) : "-",
		       json_string_value(json_object_get(r, "help")));
	}
}

/* --- --bench ------------------------------------------------------------------------- */

static int eb_sensors_bench(const struct eb_sensors_opts *o)
{
	struct eb_sampler_opts so = { .interval_ms = o->interval_ms };
	struct eb_sampler *s = NULL;
	struct eb_sampler_stats st;
	json_t *skipped = json_array(), *out = NULL, *desc = NULL;
	struct eb_err err;
	uint64_t t0, t1;
	int ret = EB_EXIT_USAGE;

	if (eb_sampler_new(&s, &so, &err) != 0 ||
	    eb_sampler_add_config(s, o->entries, o->root, skipped, &err) != 0) {
		fprintf(stderr, "edgebench sensors: %s\n", err.msg);
		goto out;
	}
	if (eb_sampler_n_sensors(s) == 0) {
		fprintf(stderr, "edgebench sensors: no sensor is available here to benchmark\n");
		goto out;
	}
	if (!o->json)
		fprintf(stderr, "edgebench sensors: sampling %zu sensors every %u ms for %.1f s\n",
			eb_sampler_n_sensors(s), o->interval_ms, o->seconds);
	if (eb_sampler_run_for(s, o->seconds, NULL, &t0, &t1, &err) != 0) {
		fprintf(stderr, "edgebench sensors: %s\n", err.msg);
		goto out;
	}
	eb_sampler_stats(s, &st);
	desc = eb_sampler_describe(s);
	out = json_pack("{s:s, s:I, s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:O, s:O, s:O}",
			"edgebench_version", EB_VERSION, "interval_ms", (json_int_t)o->interval_ms,
			"seconds", st.wall_s, "cpu_s", st.cpu_s, "cpu_pct_one_core", st.cpu_pct,
			"target_pct", o->max_pct > 0 ? o->max_pct : 1.0, "wakeups",
			(json_int_t)st.wakeups, "ticks",
			(json_int_t)st.ticks, "late_ticks", (json_int_t)st.late_ticks, "records",
			(json_int_t)st.records, "samples", (json_int_t)st.samples, "rails",
			json_object_get(desc, "rails"), "warnings", json_object_get(desc, "warnings"),
			"skipped", skipped);
	eb_sensors_clean(&out);
	if (o->json) {
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', stdout);
	} else {
		size_t i;
		const json_t *r;

		printf("sampler: %.2f s at %u ms over %zu sensors\n", st.wall_s, o->interval_ms,
		       eb_sampler_n_sensors(s));
		json_array_foreach(json_object_get(out, "rails"), i, r)
			printf("  %s/%s: %lld samples\n",
			       json_string_value(json_object_get(r, "sensor")),
			       json_string_value(json_object_get(r, "rail")),
			       (long long)json_integer_value(json_object_get(r, "samples")));
		printf("  wake-ups %zu, polled rounds %zu (late %zu), stream records %zu, samples "
		       "%zu\n",
		       st.wakeups, st.ticks, st.late_ticks, st.records, st.samples);
		printf("  sampler thread CPU: %.4f s in %.2f s = %.3f%% of one core "
		       "(getrusage RUSAGE_THREAD)\n",
		       st.cpu_s, st.wall_s, st.cpu_pct);
		json_array_foreach(json_object_get(out, "warnings"), i, r)
			printf("  warning: %s\n", json_string_value(r));
		json_array_foreach(json_object_get(out, "skipped"), i, r)
			printf("  skipped: %s\n", json_string_value(r));
	}
	ret = o->max_pct > 0 && st.cpu_pct > o->max_pct ? EB_EXIT_CELL_FAIL : EB_EXIT_OK;
	if (ret != EB_EXIT_OK)
		fprintf(stderr, "edgebench sensors: sampler cost %.3f%% is above --max-pct %g\n",
			st.cpu_pct, o->max_pct);
out:
	if (out)
		json_decref(out);
	if (desc)
		json_decref(desc);
	json_decref(skipped);
	eb_sampler_free(s);
	return ret;
}

/* The sensors to look at: FILE's "sensors", else every kind with empty options. */
static int eb_sensors_entries(struct eb_sensors_opts *o, const char *config)
{
	json_error_t je;
	json_t *root, *arr;

	if (!config) {
		o->entries = json_array();
		for (size_t i = 0; eb_sensors[i]; i++)
			json_array_append_new(o->entries, json_pack("{s:s, s:{}}", "kind",
								    eb_sensors[i]->name, "options"));
		return 0;
	}
	root = json_load_file(config, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		fprintf(stderr, "edgebench sensors: %s:%d:%d: %s\n", config, je.line, je.column,
			je.text);
		return -1;
	}
	arr = json_object_get(root, "sensors");
	if (!json_is_array(arr)) {
		fprintf(stderr, "edgebench sensors: '%s' has no \"sensors\" array\n", config);
		json_decref(root);
		return -1;
	}
	o->entries = json_incref(arr);
	json_decref(root);
	return 0;
}

int eb_cmd_sensors(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },         { "root", required_argument, NULL, 'r' },
		{ "interval", required_argument, NULL, 'i' }, { "config", required_argument, NULL, 'c' },
		{ "bench", no_argument, NULL, 'b' },        { "seconds", required_argument, NULL, 's' },
		{ "max-pct", required_argument, NULL, 'm' }, { "state", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
	};
	struct eb_sensors_opts o = { .interval_ms = 100, .seconds = 10 };
	const char *config = NULL;
	long long ll;
	int c, ret = EB_EXIT_USAGE;
	json_t *out = NULL, *list;
	size_t i;
	json_t *it;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+jr:i:c:bs:m:Sh", lo, NULL)) != -1) {
		switch (c) {
		case 'j':
			o.json = 1;
			break;
		case 'r':
			o.root = optarg;
			break;
		case 'i':
			if (eb_parse_ll(optarg, 1, 600000, &ll) != 0) {
				fprintf(stderr, "edgebench sensors: --interval: '%s' is not 1..600000 "
						"ms\n",
					optarg);
				return EB_EXIT_USAGE;
			}
			o.interval_ms = (unsigned)ll;
			break;
		case 'c':
			config = optarg;
			break;
		case 'b':
			o.bench = 1;
			break;
		case 's':
			if (eb_parse_double(optarg, &o.seconds) != 0 || o.seconds <= 0 ||
			    o.seconds > 3600) {
				fprintf(stderr, "edgebench sensors: --seconds: '%s' is not in (0, "
						"3600]\n",
					optarg);
				return EB_EXIT_USAGE;
			}
			break;
		case 'm':
			if (eb_parse_double(optarg, &o.max_pct) != 0 || o.max_pct <= 0) {
				fprintf(stderr, "edgebench sensors: --max-pct: '%s' is not a positive "
						"number\n",
					optarg);
				return EB_EXIT_USAGE;
			}
			break;
		case 'S':
			o.state = 1;
			break;
		case 'h':
			fputs(eb_sensors_usage, stdout);
			return EB_EXIT_OK;
		default:
			fputs(eb_sensors_usage, stderr);
			return EB_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(eb_sensors_usage, stderr);
		return EB_EXIT_USAGE;
	}
	if (eb_sensors_entries(&o, config) != 0)
		return EB_EXIT_USAGE;
	if (o.bench) {
		ret = eb_sensors_bench(&o);
		goto out;
	}
	list = json_array();
	out = json_pack("{s:s, s:s, s:I, s:o, s:o}", "edgebench_version", EB_VERSION, "root",
			o.root ? o.root : "/", "interval_ms", (json_int_t)o.interval_ms, "sensors",
			list, "common_options", eb_options_json(eb_sensor_common_options));
	json_array_foreach(o.entries, i, it) {
		const char *kind = json_string_value(json_object_get(it, "kind"));
		const json_t *opts = json_object_get(it, "options");

		if (!kind) {
			fprintf(stderr, "edgebench sensors: sensors[%zu] has no \"kind\"\n", i);
			goto out;
		}
		json_array_append_new(list, eb_probe(kind, opts, &o));
	}
	if (o.state)
		json_object_set_new(out, "device_state", eb_devstate_collect(o.root));
	eb_sensors_clean(&out);
	list = json_object_get(out, "sensors");
	if (o.json) {
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', stdout);
	} else {
		printf("edgebench sensors (root %s, interval %u ms)\n\n", o.root ? o.root : "/",
		       o.interval_ms);
		json_array_foreach(list, i, it) {
			eb_print_entry(it);
			printf("\n");
		}
		printf("options every sensor takes:\n");
		for (const struct eb_opt *so = eb_sensor_common_options; so->name; so++) {
			char def[64];
			const char *d = eb_opt_def_text(so, def, sizeof(def));

			printf("    %-16s %-7s default %-10s %s\n", so->name,
			       eb_opt_type_word(so->type), d ? d : "-", so->help);
		}
		if (o.state) {
			char *s = json_dumps(json_object_get(out, "device_state"), JSON_INDENT(2));

			printf("device state:\n%s\n", s);
			free(s);
		}
	}
	ret = EB_EXIT_OK;
out:
	if (out)
		json_decref(out);
	json_decref(o.entries);
	return ret;
}
