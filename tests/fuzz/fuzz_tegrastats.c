/* fuzz_tegrastats.c: tegrastats lines on arbitrary bytes: the line parser, then the sensor reading them from a log file. */
#include "fuzz.h"

#include "eb_util.h"
#include "sensor.h"
#include "tegrastats.h"

#include <math.h>

static void check_name(const char *name, const char *what, size_t i)
{
	EB_FUZZ_CHECK(memchr(name, '\0', EB_TEGRASTATS_NAME_MAX + 1) != NULL, "%s %zu name", what,
		      i);
}

/* The bounds tegrastats.h promises for a parsed line. */
static void check_sample(const struct eb_tegrastats_sample *s)
{
	EB_FUZZ_CHECK(s->n_cpus <= EB_TEGRASTATS_MAX_CPUS, "n_cpus %zu", s->n_cpus);
	EB_FUZZ_CHECK(s->n_temps <= EB_TEGRASTATS_MAX_TEMPS, "n_temps %zu", s->n_temps);
	EB_FUZZ_CHECK(s->n_rails <= EB_TEGRASTATS_MAX_RAILS, "n_rails %zu", s->n_rails);
	EB_FUZZ_CHECK(s->emc.n_gpc <= EB_TEGRASTATS_MAX_GPCS, "emc n_gpc %zu", s->emc.n_gpc);
	EB_FUZZ_CHECK(s->gr3d.n_gpc <= EB_TEGRASTATS_MAX_GPCS, "gr3d n_gpc %zu", s->gr3d.n_gpc);
	for (size_t i = 0; i < s->n_cpus; i++) {
		const struct eb_tegrastats_cpu *c = &s->cpus[i];

		EB_FUZZ_CHECK(c->online ? c->load_pct >= 0 && c->load_pct <= 100
					: c->load_pct == -1 && c->freq_mhz == -1,
			      "cpu %zu: online %d load %d freq %d", i, c->online, c->load_pct,
			      c->freq_mhz);
	}
	for (size_t i = 0; i < s->n_temps; i++) {
		check_name(s->temps[i].name, "temp", i);
		EB_FUZZ_CHECK(s->temps[i].valid || isnan(s->temps[i].celsius), "temp %zu", i);
	}
	for (size_t i = 0; i < s->n_rails; i++) {
		const struct eb_tegrastats_rail *r = &s->rails[i];

		check_name(r->name, "rail", i);
		EB_FUZZ_CHECK(r->name[0] != '\0', "rail %zu has no name", i);
		EB_FUZZ_CHECK(eb_tegrastats_find_rail(s, r->name) != NULL, "rail %zu not found", i);
		EB_FUZZ_CHECK((r->flags & EB_TEGRASTATS_RAIL_MAX) || r->max_mw == -1,
			      "rail %zu max %lld without the flag", i, r->max_mw);
	}
	if (s->flags & EB_TEGRASTATS_HAS_TOTAL) {
		check_name(s->total.source, "total", 0);
		EB_FUZZ_CHECK(s->n_rails > 0, "a total without rails");
		EB_FUZZ_CHECK(s->n_rails >= 32 || (s->total.rails >> s->n_rails) == 0,
			      "total uses rails beyond the %zu parsed", s->n_rails);
	}
}

/* Every line parsed on its own. */
static void parse_lines(const uint8_t *data, size_t size)
{
	char *text = eb_fuzz_strdup(data, size), *line = text, *end = text + size;
	struct eb_tegrastats_sample *s = malloc(sizeof(*s));

	if (!s)
		abort();
	while (line <= end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		struct eb_err err;
		int rc;

		if (nl)
			*nl = '\0';
		rc = eb_tegrastats_parse_line(line, s, &err);
		EB_FUZZ_CHECK(rc == 0 || rc == EB_EPARSE, "rc %d", rc);
		if (rc == 0)
			check_sample(s);
		else
			EB_FUZZ_CHECK(err.msg[0] != '\0', "an error without a message");
		if (!nl)
			break;
		line = nl + 1;
	}
	free(s);
	free(text);
}

/* The sensor in log-file mode: lines split, parsed and turned into readings. */
static void read_sensor(const uint8_t *data, size_t size)
{
	struct eb_sensor_reading r[EB_SENSOR_READINGS_MAX];
	struct eb_sensor *s = NULL;
	struct eb_err err;
	char path[600];
	json_t *opts, *desc;
	size_t lines = 1;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	eb_fuzz_write(eb_fuzz_path(path, sizeof(path), "tegrastats.log"), data, size);
	opts = json_pack("{s:s, s:b}", "file", path, "from_start", 1);
	if (eb_sensor_open(&s, "tegrastats", opts, NULL, 100, &err) != 0) {
		fprintf(stderr, "cannot open the tegrastats sensor: %s\n", err.msg);
		abort();
	}
	for (size_t i = 0; i < lines + 1; i++) {
		uint64_t t = 1000 + i;
		size_t n = 0;

		EB_FUZZ_CHECK(eb_sensor_read(s, &t, r, EB_SENSOR_READINGS_MAX, &n, &err) == 0,
			      "read: %s", err.msg);
		EB_FUZZ_CHECK(n <= EB_SENSOR_READINGS_MAX, "%zu readings", n);
		for (size_t k = 0; k < n; k++)
			EB_FUZZ_CHECK(memchr(r[k].rail, '\0', sizeof(r[k].rail)) != NULL, "rail %zu", k);
	}
	desc = json_object();
	EB_FUZZ_CHECK(eb_sensor_describe(s, desc, &err) == 0, "describe: %s", err.msg);
	json_decref(desc);
	eb_sensor_close(s);
	json_decref(opts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse_lines(data, size);
	read_sensor(data, size);
	return 0;
}
