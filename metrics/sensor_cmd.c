/* sensor_cmd.c: an external meter program (USB or bench power meter) printing one reading a line. */
#include "sensor_impl.h"
#include "eb_regex.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const eb_cmd_units[] = { "W", "mW", "uW", NULL };

static const struct eb_opt eb_cmd_options[] = {
	{ .name = "argv", .type = EB_OPT_ARR_STR,
	  .help = "required: the meter program and its arguments, run without a shell; it prints "
		  "one reading per line for as long as it runs" },
	{ .name = "unit", .type = EB_OPT_ENUM, .def = EB_DEF_STR("W"), .choices = eb_cmd_units,
	  .help = "unit of the printed numbers" },
	{ .name = "regex", .type = EB_OPT_STR,
	  .help = "regex picking the number out of a line (PCRE2, which takes POSIX extended "
		  "regexes; bounded work per line): its first group, else the whole match; "
		  "default: the whole line is the number. Lines that do not match are skipped" },
	{ .name = "rail", .type = EB_OPT_STR, .def = EB_DEF_STR("meter"),
	  .help = "rail name stored with the readings" },
	{ .name = "total", .type = EB_OPT_BOOL, .def = EB_DEF_BOOL(1),
	  .help = "the meter measures the whole device (its reading is this sensor's total)" },
	{ .name = "window_ms", .type = EB_OPT_NUM, .range = EB_RANGE(0, 3600000),
	  .help = "the meter's own averaging window in ms, recorded with the results" },
	{ NULL },
};

struct eb_cmd {
	struct eb_linesrc src;
	char **argv;
	size_t argc;
	double scale;
	int have_re;
	struct eb_regex re;
	char rail[EB_SENSOR_RAIL_MAX + 1];
	const char *source;
	unsigned flags;
	double window_ms;
	size_t n_readings, n_skipped;
	size_t n_limited; /* of n_skipped: the regex gave up at its work limit */
};

static const char *eb_cmd_unavailable(const struct eb_sensor_args *a, char *buf, size_t n)
{
	const struct eb_sensor_ops *ops = &eb_sensor_cmd;
	const json_t *argv = json_object_get(a->options, "argv");
	const char *re = eb_sensor_opt_str(ops, a->options, "regex");
	const char *prog;

	if (!json_array_size(argv)) {
		snprintf(buf, n, "not configured: options.argv names the meter program (one "
				 "reading per line)");
		return buf;
	}
	prog = json_string_value(json_array_get(argv, 0));
	if (!eb_proc_find_program(prog)) {
		snprintf(buf, n, "cannot run '%s': %s", prog,
			 strchr(prog, '/') ? strerror(errno) : "not found in PATH");
		return buf;
	}
	if (re) {
		struct eb_regex r;
		char msg[256];

		if (eb_regex_compile(&r, re, msg, sizeof(msg)) != 0) {
			snprintf(buf, n, "bad regex '%s': %s", re, msg);
			return buf;
		}
		eb_regex_release(&r);
	}
	return NULL;
}

static void eb_cmd_close(void *state)
{
	struct eb_cmd *st = state;

	if (!st)
		return;
	eb_linesrc_close(&st->src);
	if (st->have_re)
		eb_regex_release(&st->re);
	for (size_t i = 0; i < st->argc; i++)
		free(st->argv[i]);
	free(st->argv);
	free(st);
}

static int eb_cmd_open(const struct eb_sensor_args *a, void **state, struct eb_err *err)
{
	const struct eb_sensor_ops *ops = &eb_sensor_cmd;
	const json_t *argv = json_object_get(a->options, "argv");
	const char *unit = eb_sensor_opt_str(ops, a->options, "unit");
	const char *re = eb_sensor_opt_str(ops, a->options, "regex");
	struct eb_cmd *st = eb_xcalloc(1, sizeof(*st));
	int ret = -1;

	eb_buf_init(&st->src.errtail, 0);
	st->argc = json_array_size(argv);
	if (!st->argc) {
		ret = eb_err_set(err, EB_ECONFIG, "options.argv is required");
		goto out;
	}
	st->argv = eb_xcalloc(st->argc + 1, sizeof(*st->argv));
	for (size_t i = 0; i < st->argc; i++)
		st->argv[i] = eb_xstrdup(json_string_value(json_array_get(argv, i)));
	if (strcmp(unit, "mW") == 0) {
		st->scale = 1e-3;
		st->source = "meter (mW)";
	} else if (strcmp(unit, "uW") == 0) {
		st->scale = 1e-6;
		st->source = "meter (uW)";
	} else {
		st->scale = 1;
		st->source = "meter (W)";
	}
	if (re) {
		char msg[256];

		if (eb_regex_compile(&st->re, re, msg, sizeof(msg)) != 0) {
			ret = eb_err_set(err, EB_ECONFIG, "bad regex '%s': %s", re, msg);
			goto out;
		}
		st->have_re = 1;
	}
	eb_strlcpy(st->rail, eb_sensor_opt_str(ops, a->options, "rail"), sizeof(st->rail));
	st->flags = eb_sensor_opt_bool(ops, a->options, "total") ? EB_RAIL_TOTAL : 0;
	st->window_ms = eb_opt_given(a->options, "window_ms")
				? eb_sensor_opt_num(ops, a->options, "window_ms")
				: -1; /* unknown */
	ret = eb_linesrc_spawn(&st->src, (const char *const *)st->argv, err);
	if (ret)
		goto out;
	*state = st;
	st = NULL;
	ret = 0;
out:
	eb_cmd_close(st);
	return ret;
}

static int eb_cmd_fd(void *state)
{
	struct eb_cmd *st = state;

	return st->src.spawned ? st->src.proc.out_fd : -1;
}

/* The number in a line (whole line, or the regex's first group / match); 0 or -1. */
static int eb_cmd_parse(struct eb_cmd *st, const char *line, double *v)
{
	char num[128];
	const char *s = line;
	size_t len = strlen(line);

	if (st->have_re) {
		/* bounded: a meter's line cannot make a backtracking pattern run for minutes */
		int rc = eb_regex_match(&st->re, line, &s, &len);

		if (rc < 0)
			st->n_limited++;
		if (rc != 1)
			return -1;
	}
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		len--;
	if (len == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, s, len);
	num[len] = '\0';
	return eb_parse_double(num, v) == 0 ? 0 : -1;
}

static int eb_cmd_read(void *state, uint64_t *t_ns, struct eb_sensor_reading *out, size_t max,
		       size_t *n, struct eb_err *err)
{
	struct eb_cmd *st = state;
	char *text;
	uint64_t t;

	*n = 0;
	eb_linesrc_pump(&st->src);
	while (max && eb_lines_next(&st->src.lines, &text, &t)) {
		double v;
		int rc = eb_cmd_parse(st, text, &v);

		free(text);
		if (rc) {
			st->n_skipped++;
			continue;
		}
		st->n_readings++;
		eb_reading_set(&out[0], st->rail, v * st->scale, st->source, st->flags);
		*n = 1;
		*t_ns = t;
		return 0;
	}
	return eb_linesrc_status(&st->src, st->argv[0], st->n_readings + st->n_skipped, err);
}

static int eb_cmd_describe(void *state, json_t *out, struct eb_err *err)
{
	struct eb_cmd *st = state;
	json_t *argv = json_array();
	struct eb_sensor_reading r;

	for (size_t i = 0; i < st->argc; i++)
		json_array_append_new(argv, json_string(st->argv[i]));
	eb_reading_set(&r, st->rail, 0, st->source, st->flags);
	json_object_set_new(out, "argv", argv);
	json_object_set_new(out, "interval_ms", json_null());
	json_object_set_new(out, "window_ms", st->window_ms >= 0 ? json_real(st->window_ms)
								 : json_null());
	json_object_set_new(out, "window",
			    json_string("the meter's own averaging (window_ms option); each line "
					"is stamped when it arrives"));
	json_object_set_new(out, "readings", json_integer((json_int_t)st->n_readings));
	json_object_set_new(out, "skipped_lines", json_integer((json_int_t)st->n_skipped));
	if (st->n_limited)
		json_object_set_new(out, "regex_limit_lines", json_integer((json_int_t)st->n_limited));
	json_object_set_new(out, "rails", eb_readings_json(&r, 1));
	return 0;
}

const struct eb_sensor_ops eb_sensor_cmd = {
	.name = "cmd",
	.abi = EB_SENSOR_ABI,
	.caps = EB_SENSOR_CAP_STREAM | EB_SENSOR_CAP_POWER,
	.options = eb_cmd_options,
	.help = "an external meter program printing one reading per line (USB or bench power "
		"meter); unit and an optional regex in the options",
	.unavailable_reason = eb_cmd_unavailable,
	.open = eb_cmd_open,
	.fd = eb_cmd_fd,
	.read = eb_cmd_read,
	.describe = eb_cmd_describe,
	.close = eb_cmd_close,
};
