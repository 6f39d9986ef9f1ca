/* sensor_tegrastats.c: Jetson power rails and RAM from a `tegrastats` stream or its log file. */
#include "sensor_impl.h"
#include "tegrastats.h"

#include "eb_clock.h"
#include "eb_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct eb_opt eb_ts_options[] = {
	{ .name = "path", .type = EB_OPT_STR, .def = EB_DEF_STR("tegrastats"),
	  .help = "the tegrastats program (searched in PATH without a '/')" },
	{ .name = "interval_ms", .type = EB_OPT_INT, .range = EB_RANGE(1, 60000),
	  .help = "tegrastats --interval in ms (default: the sampler's interval)" },
	{ .name = "file", .type = EB_OPT_STR,
	  .help = "read this file (as `tegrastats --logfile` writes it) instead of running "
		  "tegrastats; lines are stamped when edgebench reads them" },
	{ .name = "from_start", .type = EB_OPT_BOOL, .def = EB_DEF_BOOL(0),
	  .help = "with file: also read the lines already in it (default: only new ones)" },
	{ .name = "memory", .type = EB_OPT_BOOL, .def = EB_DEF_BOOL(1),
	  .help = "report RAM used as rail 'ram_used' (bytes): device memory on unified-memory "
		  "SoCs" },
	{ NULL },
};

struct eb_ts {
	struct eb_linesrc src;
	int file_fd;
	int interval_ms;
	int memory;
	char *prog, *file;
	size_t n_records, n_bad;
	struct eb_tegrastats_sample sample;
	struct eb_sensor_reading last[EB_SENSOR_READINGS_MAX];
	size_t n_last;
	char total[EB_TEGRASTATS_NAME_MAX + 16];
};

static const char *eb_ts_unavailable(const struct eb_sensor_args *a, char *buf, size_t n)
{
	const char *file = eb_sensor_opt_str(&eb_sensor_tegrastats, a->options, "file");
	const char *prog = eb_sensor_opt_str(&eb_sensor_tegrastats, a->options, "path");

	if (file) {
		if (access(file, R_OK) != 0) {
			snprintf(buf, n, "cannot read '%s': %s", file, strerror(errno));
			return buf;
		}
		return NULL;
	}
	if (!eb_proc_find_program(prog)) {
		if (strchr(prog, '/'))
			snprintf(buf, n, "cannot run '%s': %s", prog, strerror(errno));
		else
			snprintf(buf, n,
				 "no '%s' on PATH (not a Jetson, or JetPack's tegrastats is not "
				 "installed)",
				 prog);
		return buf;
	}
	return NULL;
}

static void eb_ts_close(void *state)
{
	struct eb_ts *st = state;

	if (!st)
		return;
	eb_linesrc_close(&st->src);
	if (st->file_fd >= 0)
		close(st->file_fd);
	free(st->prog);
	free(st->file);
	free(st);
}

static int eb_ts_open(const struct eb_sensor_args *a, void **state, struct eb_err *err)
{
	const struct eb_sensor_ops *ops = &eb_sensor_tegrastats;
	struct eb_ts *st = eb_xcalloc(1, sizeof(*st));
	const char *file = eb_sensor_opt_str(ops, a->options, "file");
	int ret = -1;

	st->file_fd = -1;
	st->interval_ms = eb_opt_given(a->options, "interval_ms")
				  ? (int)eb_sensor_opt_int(ops, a->options, "interval_ms")
				  : a->interval_ms ? (int)a->interval_ms : 1000; /* the sampler's */
	st->memory = eb_sensor_opt_bool(ops, a->options, "memory");
	st->prog = eb_xstrdup(eb_sensor_opt_str(ops, a->options, "path"));
	eb_buf_init(&st->src.errtail, 0);
	eb_strlcpy(st->total, "unknown until the first line", sizeof(st->total));
	if (file) {
		st->file = eb_xstrdup(file);
		st->file_fd = open(file, O_RDONLY | O_CLOEXEC);
		if (st->file_fd < 0) {
			ret = eb_err_set(err, EB_EIO, "cannot open '%s': %s", file, strerror(errno));
			goto out;
		}
		if (!eb_sensor_opt_bool(ops, a->options, "from_start") &&
		    lseek(st->file_fd, 0, SEEK_END) < 0) {
			ret = eb_err_set(err, EB_EIO, "cannot seek '%s': %s", file, strerror(errno));
			goto out;
		}
		eb_linesrc_fd(&st->src, st->file_fd, 1);
	} else {
		char iv[32];
		const char *argv[] = { st->prog, "--interval", iv, NULL };

		snprintf(iv, sizeof(iv), "%d", st->interval_ms);
		ret = eb_linesrc_spawn(&st->src, argv, err);
		if (ret)
			goto out;
	}
	*state = st;
	st = NULL;
	ret = 0;
out:
	eb_ts_close(st);
	return ret;
}

static int eb_ts_fd(void *state)
{
	struct eb_ts *st = state;

	return st->src.spawned ? st->src.proc.out_fd : -1;
}

/* One parsed line into readings: rails (NC skipped), then RAM. */
static size_t eb_ts_convert(struct eb_ts *st, struct eb_sensor_reading *out, size_t max)
{
	const struct eb_tegrastats_sample *s = &st->sample;
	int has_total = (s->flags & EB_TEGRASTATS_HAS_TOTAL) && !s->total.summed;
	size_t n = 0;

	for (size_t i = 0; i < s->n_rails && n < max; i++) {
		const struct eb_tegrastats_rail *r = &s->rails[i];
		unsigned flags = 0;

		if (r->flags & EB_TEGRASTATS_RAIL_NC)
			continue;
		if (has_total)
			flags = (i < 32 && (s->total.rails & (1u << i))) ? EB_RAIL_TOTAL
									  : EB_RAIL_NOSUM;
		eb_reading_set(&out[n++], r->name, r->cur_w,
			       (r->flags & EB_TEGRASTATS_RAIL_MW) ? "tegrastats (mW)"
								  : "tegrastats (mW, no unit printed)",
			       flags);
	}
	if (st->memory && (s->flags & EB_TEGRASTATS_HAS_RAM) && n < max)
		eb_reading_set(&out[n++], "ram_used", (double)s->ram.used_mb * 1048576.0,
			       "tegrastats RAM (MB = MiB)", EB_RAIL_BYTES);
	if (s->flags & EB_TEGRASTATS_HAS_TOTAL)
		snprintf(st->total, sizeof(st->total), "%s",
			 s->total.summed ? "sum of the rails (a lower bound)" : s->total.source);
	return n;
}

static int eb_ts_read(void *state, uint64_t *t_ns, struct eb_sensor_reading *out, size_t max,
		      size_t *n, struct eb_err *err)
{
	struct eb_ts *st = state;
	char *text;
	uint64_t t;

	*n = 0;
	eb_linesrc_pump(&st->src);
	while (eb_lines_next(&st->src.lines, &text, &t)) {
		struct eb_err perr;
		int rc = eb_tegrastats_parse_line(text, &st->sample, &perr);

		free(text);
		if (rc) {
			st->n_bad++; /* a warning tegrastats printed, or a torn line */
			continue;
		}
		st->n_records++;
		*n = eb_ts_convert(st, out, max);
		*t_ns = t;
		st->n_last = *n < EB_SENSOR_READINGS_MAX ? *n : EB_SENSOR_READINGS_MAX;
		memcpy(st->last, out, st->n_last * sizeof(*out));
		return 0;
	}
	return eb_linesrc_status(&st->src, st->prog, st->n_records + st->n_bad, err);
}

static int eb_ts_describe(void *state, json_t *out, struct eb_err *err)
{
	struct eb_ts *st = state;

	if (st->file) {
		json_object_set_new(out, "file", json_string(st->file));
		json_object_set_new(out, "interval_ms", json_null());
	} else {
		json_object_set_new(out, "program", json_string(st->prog));
		json_object_set_new(out, "interval_ms", json_integer(st->interval_ms));
	}
	json_object_set_new(out, "window_ms", json_null());
	json_object_set_new(out, "window",
			    json_string("each line is the INA3221 monitors' reading when "
					"tegrastats printed it (averaging as the board's device "
					"tree configures the chip); stamped on arrival"));
	json_object_set_new(out, "total", json_string(st->total));
	json_object_set_new(out, "lines", json_integer((json_int_t)st->n_records));
	json_object_set_new(out, "bad_lines", json_integer((json_int_t)st->n_bad));
	json_object_set_new(out, "dropped_lines", json_integer((json_int_t)st->src.lines.n_dropped));
	json_object_set_new(out, "rails", eb_readings_json(st->last, st->n_last));
	return 0;
}

const struct eb_sensor_ops eb_sensor_tegrastats = {
	.name = "tegrastats",
	.abi = EB_SENSOR_ABI,
	.caps = EB_SENSOR_CAP_STREAM | EB_SENSOR_CAP_POWER | EB_SENSOR_CAP_MEMORY,
	.options = eb_ts_options,
	.help = "NVIDIA Jetson: rails (VDD_IN/POM_5V_IN total, or their sum) and RAM from "
		"`tegrastats --interval N` or its log file",
	.unavailable_reason = eb_ts_unavailable,
	.open = eb_ts_open,
	.fd = eb_ts_fd,
	.read = eb_ts_read,
	.describe = eb_ts_describe,
	.close = eb_ts_close,
};
