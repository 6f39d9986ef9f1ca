/* sensor_registry.c: the explicit list of sensors, their check, options and open/close. */
#include "sensor.h"
#include "sensor_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct eb_sensor_ops *const eb_sensors[] = {
	&eb_sensor_tegrastats,
	&eb_sensor_hwmon,
	&eb_sensor_nvml,
	&eb_sensor_rapl,
	&eb_sensor_cmd,
	&eb_sensor_proc,
	NULL,
};

const struct eb_opt eb_sensor_common_options[] = {
	{ .name = "name", .type = EB_OPT_STR,
	  .help = "label stored with this sensor's samples (default: the kind); must be unique" },
	{ .name = "in_total", .type = EB_OPT_BOOL, .def = EB_DEF_BOOL(1),
	  .help = "count this sensor's total in the all-sensors total (false for a second view of "
		  "the same power, e.g. tegrastats beside hwmon on a Jetson)" },
	{ NULL },
};

const struct eb_sensor_ops *eb_sensor_find(const char *kind)
{
	for (size_t i = 0; kind && eb_sensors[i]; i++)
		if (strcmp(eb_sensors[i]->name, kind) == 0)
			return eb_sensors[i];
	return NULL;
}

int eb_sensor_check(const struct eb_sensor_ops *ops, struct eb_err *err)
{
	const char *name = ops && ops->name ? ops->name : "(unnamed)";

	if (!ops || !ops->name || !ops->help)
		return eb_err_set(err, EB_EINVAL, "sensor '%s': name and help are required", name);
	if (ops->abi != EB_SENSOR_ABI)
		return eb_err_set(err, EB_EINVAL, "sensor '%s': abi %u, expected %u", name, ops->abi,
				  EB_SENSOR_ABI);
	if (!ops->open || !ops->read || !ops->describe || !ops->close || !ops->options)
		return eb_err_set(err, EB_EINVAL,
				  "sensor '%s': open, read, describe, close and options are "
				  "required",
				  name);
	if ((ops->caps & EB_SENSOR_CAP_STREAM) && !ops->fd)
		return eb_err_set(err, EB_EINVAL, "sensor '%s': EB_SENSOR_CAP_STREAM needs fd",
				  name);
	if (!(ops->caps & (EB_SENSOR_CAP_POWER | EB_SENSOR_CAP_MEMORY)))
		return eb_err_set(err, EB_EINVAL, "sensor '%s': measures neither power nor memory",
				  name);
	if (eb_opt_table_check(ops->options, err) != 0)
		return eb_err_prefix(err, "sensor '%s'", name);
	for (const struct eb_opt *o = ops->options; o->name; o++)
		if (eb_opt_find(eb_sensor_common_options, o->name))
			return eb_err_set(err, EB_EINVAL, "sensor '%s': option '%s' is a common option",
					  name, o->name);
	return 0;
}

const struct eb_opt *eb_sensor_opt_find(const struct eb_sensor_ops *ops, const char *name)
{
	const struct eb_opt *o = ops ? eb_opt_find(ops->options, name) : NULL;

	return o ? o : eb_opt_find(eb_sensor_common_options, name);
}

int eb_sensor_options_validate(const struct eb_sensor_ops *ops, const json_t *opts,
			       const char *path, int (*report)(void *ud,
							       const struct eb_opt_problem *p),
			       void *ud)
{
	const struct eb_opt *tables[] = { ops->options, eb_sensor_common_options, NULL };
	const struct eb_opt_check c = { EB_OPT_VOICE_SENSOR, "option", "sensor", ops->name,
					report, ud };

	return eb_opt_validate(&c, tables, opts, path);
}

/* Keeps the first problem, as "option 'x': why" unless it names the option itself. */
static int eb_sensor_first_problem(void *ud, const struct eb_opt_problem *p)
{
	struct eb_err *err = ud;

	if (p->names_key || !p->name)
		eb_err_set(err, EB_ECONFIG, "%s", p->msg);
	else
		eb_err_set(err, EB_ECONFIG, "option '%s': %s", p->name, p->msg);
	return 1;
}

int eb_sensor_options_check(const struct eb_sensor_ops *ops, const json_t *opts,
			    struct eb_err *err)
{
	if (!opts)
		return 0;
	if (!json_is_object(opts))
		return eb_err_set(err, EB_ECONFIG, "sensor '%s': options must be an object",
				  ops->name);
	if (eb_sensor_options_validate(ops, opts, "", eb_sensor_first_problem, err) != 0)
		return EB_ECONFIG;
	return 0;
}

long long eb_sensor_opt_int(const struct eb_sensor_ops *ops, const json_t *opts,
			    const char *name)
{
	return eb_opt_get_int(eb_sensor_opt_find(ops, name), opts);
}

double eb_sensor_opt_num(const struct eb_sensor_ops *ops, const json_t *opts, const char *name)
{
	return eb_opt_get_num(eb_sensor_opt_find(ops, name), opts);
}

int eb_sensor_opt_bool(const struct eb_sensor_ops *ops, const json_t *opts, const char *name)
{
	return eb_opt_get_bool(eb_sensor_opt_find(ops, name), opts);
}

const char *eb_sensor_opt_str(const struct eb_sensor_ops *ops, const json_t *opts,
			      const char *name)
{
	return eb_opt_get_str(eb_sensor_opt_find(ops, name), opts);
}

/* --- opened sensors ------------------------------------------------------------------ */

/* The root a sensor reads under: --root, else its "root" option, else the real one (""). */
static const char *eb_sensor_root(const struct eb_sensor_ops *ops, const json_t *opts,
				  const char *root)
{
	const char *r = root;

	if (!r && eb_sensor_opt_find(ops, "root"))
		r = eb_sensor_opt_str(ops, opts, "root");
	if (!r || strcmp(r, "/") == 0)
		r = "";
	return r;
}

/* Did-you-mean over the registered kinds. */
static int eb_sensor_unknown_kind(const char *kind, struct eb_err *err)
{
	const char *best = NULL;
	size_t bestd = (size_t)-1;

	for (size_t i = 0; kind && eb_sensors[i]; i++) {
		size_t d = eb_edit_distance(kind, eb_sensors[i]->name);
		if (d < bestd) {
			bestd = d;
			best = eb_sensors[i]->name;
		}
	}
	if (best && bestd <= 2)
		return eb_err_set(err, EB_ECONFIG, "unknown sensor kind '%s'; did you mean '%s'?",
				  kind ? kind : "", best);
	return eb_err_set(err, EB_ECONFIG, "unknown sensor kind '%s' (see `edgebench sensors`)",
			  kind ? kind : "");
}

const char *eb_sensor_unavailable(const char *kind, const json_t *options, const char *root,
				  unsigned interval_ms, char *buf, size_t n)
{
	const struct eb_sensor_ops *ops = eb_sensor_find(kind);
	json_t *empty = NULL;
	struct eb_err err;
	const char *why = NULL;

	if (!ops) {
		eb_sensor_unknown_kind(kind, &err);
		snprintf(buf, n, "%s", err.msg);
		return buf;
	}
	if (!options)
		options = empty = json_object();
	if (eb_sensor_options_check(ops, options, &err) != 0) {
		snprintf(buf, n, "%s", err.msg);
		why = buf;
	} else if (ops->unavailable_reason) {
		struct eb_sensor_args a = {
			.options = options,
			.root = eb_sensor_root(ops, options, root),
			.interval_ms = interval_ms,
		};
		why = ops->unavailable_reason(&a, buf, n);
	}
	if (empty)
		json_decref(empty);
	return why;
}

int eb_sensor_open(struct eb_sensor **out, const char *kind, const json_t *options,
		   const char *root, unsigned interval_ms, struct eb_err *err)
{
	const struct eb_sensor_ops *ops = eb_sensor_find(kind);
	struct eb_sensor *s = NULL;
	struct eb_sensor_args a;
	char why[512];
	int ret = -1;

	*out = NULL;
	if (!ops) {
		ret = eb_sensor_unknown_kind(kind, err);
		goto out;
	}
	ret = eb_sensor_options_check(ops, options, err);
	if (ret)
		goto out;
	s = eb_xcalloc(1, sizeof(*s));
	s->ops = ops;
	s->options = options ? json_deep_copy(options) : json_object();
	s->root = eb_xstrdup(eb_sensor_root(ops, s->options, root));
	s->name = eb_xstrdup(eb_opt_given(s->options, "name")
				     ? eb_sensor_opt_str(ops, s->options, "name")
				     : ops->name); /* the default is the kind */
	s->in_total = eb_sensor_opt_bool(ops, s->options, "in_total");
	s->interval_ms = interval_ms ? interval_ms : 100;
	a.options = s->options;
	a.root = s->root;
	a.interval_ms = s->interval_ms;
	if (ops->unavailable_reason) {
		const char *w = ops->unavailable_reason(&a, why, sizeof(why));

		if (w) {
			ret = eb_err_set(err, EB_EUNSUPPORTED, "sensor '%s' unavailable: %s",
					 ops->name, w);
			goto out;
		}
	}
	ret = ops->open(&a, &s->state, err);
	if (ret) {
		s->state = NULL;
		eb_err_prefix(err, "sensor '%s'", s->name);
		goto out;
	}
	*out = s;
	s = NULL;
out:
	eb_sensor_close(s);
	return ret;
}

int eb_sensor_read(struct eb_sensor *s, uint64_t *t_ns, struct eb_sensor_reading *out,
		   size_t max, size_t *n, struct eb_err *err)
{
	*n = 0;
	return s->ops->read(s->state, t_ns, out, max, n, err);
}

int eb_sensor_describe(struct eb_sensor *s, json_t *out, struct eb_err *err)
{
	json_object_set_new(out, "kind", json_string(s->ops->name));
	json_object_set_new(out, "name", json_string(s->name));
	json_object_set_new(out, "in_total", json_boolean(s->in_total));
	if (s->ops->caps & EB_SENSOR_CAP_ROOT)
		json_object_set_new(out, "root", json_string(*s->root ? s->root : "/"));
	json_object_set(out, "options", s->options);
	return s->ops->describe(s->state, out, err);
}

void eb_sensor_close(struct eb_sensor *s)
{
	if (!s)
		return;
	if (s->state)
		s->ops->close(s->state);
	if (s->options)
		json_decref(s->options);
	free(s->root);
	free(s->name);
	free(s);
}

json_t *eb_sensor_flags_json(unsigned flags)
{
	static const struct {
		unsigned f;
		const char *name;
	} names[] = {
		{ EB_RAIL_TOTAL, "total" },     { EB_RAIL_NOSUM, "nosum" },
		{ EB_RAIL_COUNTER, "counter" }, { EB_RAIL_BYTES, "bytes" },
		{ EB_RAIL_AVERAGED, "averaged" },
	};
	json_t *a = json_array();

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & names[i].f)
			json_array_append_new(a, json_string(names[i].name));
	return a;
}
