/* check_tegrastats.c: the tegrastats line parser against real captures in tests/data/tegrastats. */
/* ctest: labels=unit timeout=60 */
#include "testutil.h"

#include "eb_util.h"
#include "tegrastats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-9

/* Every fixture and how many lines it holds. */
static const struct {
	const char *file;
	size_t lines;
} fixtures[] = {
	{ "tegrastats/nano-jp4.log", 1 },      { "tegrastats/tx2-jp4.log", 2 },
	{ "tegrastats/agx-orin-jp5.log", 1 },  { "tegrastats/agx-orin-jp7.log", 1 },
	{ "tegrastats/orin-nano-jp6.log", 1 }, { "tegrastats/thor-fragment.log", 1 },
};

/* Line `idx` (0-based) of a fixture file, parsed; the test fails if it does not parse. */
static void parse_fixture_line(const char *rel, size_t idx, struct eb_tegrastats_sample *s)
{
	char path[4096];
	struct eb_err err;
	char *data = NULL, *line, *nl;
	size_t len, k = 0;

	eb_test_data(rel, path, sizeof(path));
	if (eb_read_file(path, 1 << 20, &data, &len, &err) != 0)
		ck_abort_msg("%s", err.msg);
	line = data;
	for (;;) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (k == idx)
			break;
		ck_assert_msg(nl != NULL, "%s has no line %zu", rel, idx);
		line = nl + 1;
		k++;
	}
	if (eb_tegrastats_parse_line(line, s, &err) != 0)
		ck_abort_msg("%s:%zu: %s", rel, idx + 1, err.msg);
	free(data);
}

static const struct eb_tegrastats_rail *rail(const struct eb_tegrastats_sample *s,
					     const char *name)
{
	const struct eb_tegrastats_rail *r = eb_tegrastats_find_rail(s, name);

	ck_assert_msg(r != NULL, "no rail %s", name);
	return r;
}

static void check_rail(const struct eb_tegrastats_sample *s, const char *name, double cur_w,
		       double avg_w)
{
	const struct eb_tegrastats_rail *r = rail(s, name);

	ck_assert_double_eq_tol(r->cur_w, cur_w, TOL);
	ck_assert_double_eq_tol(r->avg_w, avg_w, TOL);
	ck_assert_int_eq(r->cur_mw, llround(cur_w * 1000));
	ck_assert_int_eq(r->avg_mw, llround(avg_w * 1000));
}

static void check_temp(const struct eb_tegrastats_sample *s, const char *name, double c)
{
	const struct eb_tegrastats_temp *t = eb_tegrastats_find_temp(s, name);

	ck_assert_msg(t != NULL, "no temperature %s", name);
	if (isnan(c)) {
		ck_assert_msg(!t->valid, "%s should be unavailable", name);
		ck_assert(isnan(t->celsius));
	} else {
		ck_assert_msg(t->valid, "%s should be valid", name);
		ck_assert_double_eq_tol(t->celsius, c, TOL);
	}
}

static void check_cpu(const struct eb_tegrastats_sample *s, size_t i, int load, int mhz)
{
	ck_assert_uint_lt(i, s->n_cpus);
	ck_assert_int_eq(s->cpus[i].online, 1);
	ck_assert_int_eq(s->cpus[i].load_pct, load);
	ck_assert_int_eq(s->cpus[i].freq_mhz, mhz);
}

START_TEST(test_every_line_parses)
{
	for (size_t f = 0; f < sizeof(fixtures) / sizeof(fixtures[0]); f++) {
		char path[4096];
		struct eb_err err;
		char *data = NULL, *line, *nl;
		size_t len, n = 0;

		eb_test_data(fixtures[f].file, path, sizeof(path));
		if (eb_read_file(path, 1 << 20, &data, &len, &err) != 0)
			ck_abort_msg("%s", err.msg);
		for (line = data; *line; line = nl ? nl + 1 : line + strlen(line)) {
			struct eb_tegrastats_sample s;

			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			if (*line == '\0')
				continue;
			n++;
			if (eb_tegrastats_parse_line(line, &s, &err) != 0)
				ck_abort_msg("%s:%zu: %s", fixtures[f].file, n, err.msg);
			ck_assert_msg(s.flags & EB_TEGRASTATS_HAS_RAM, "%s:%zu: no RAM",
				      fixtures[f].file, n);
			ck_assert_msg(!(s.flags & EB_TEGRASTATS_TRUNCATED), "%s:%zu: truncated",
				      fixtures[f].file, n);
			if (!nl)
				break;
		}
		ck_assert_msg(n == fixtures[f].lines, "%s: %zu lines, expected %zu",
			      fixtures[f].file, n, fixtures[f].lines);
		free(data);
	}
}
END_TEST

START_TEST(test_nano_jp4)
{
	struct eb_tegrastats_sample s;

	parse_fixture_line("tegrastats/nano-jp4.log", 0, &s);
	ck_assert(!(s.flags & EB_TEGRASTATS_HAS_TIME));
	ck_assert(s.flags & EB_TEGRASTATS_HAS_RAM);
	ck_assert_int_eq(s.ram.used_mb, 1180);
	ck_assert_int_eq(s.ram.total_mb, 3965);
	ck_assert(s.flags & EB_TEGRASTATS_HAS_LFB);
	ck_assert_int_eq(s.ram.lfb_blocks, 1);
	ck_assert_int_eq(s.ram.lfb_block_kb, 2048);
	ck_assert(s.flags & EB_TEGRASTATS_HAS_SWAP);
	ck_assert_int_eq(s.swap.used_mb, 149);
	ck_assert_int_eq(s.swap.total_mb, 1024);
	ck_assert_int_eq(s.swap.cached_mb, 7);
	ck_assert_uint_eq(s.n_cpus, 4);
	check_cpu(&s, 0, 30, 1036);
	check_cpu(&s, 1, 33, 1036);
	check_cpu(&s, 2, 28, 1036);
	check_cpu(&s, 3, 26, 1036);
	ck_assert(s.flags & EB_TEGRASTATS_HAS_EMC);
	ck_assert_int_eq(s.emc.load_pct, 10);
	ck_assert_int_eq(s.emc.freq_mhz, 1600);
	ck_assert(s.flags & EB_TEGRASTATS_HAS_GR3D);
	ck_assert_int_eq(s.gr3d.load_pct, 0);
	ck_assert_int_eq(s.gr3d.freq_mhz, 76);
	ck_assert_uint_eq(s.gr3d.n_gpc, 0);
	ck_assert_uint_eq(s.n_temps, 6);
	check_temp(&s, "PLL", 57);
	check_temp(&s, "CPU", 60.5);
	check_temp(&s, "PMIC", 100);
	check_temp(&s, "GPU", 59);
	check_temp(&s, "AO", 65);
	check_temp(&s, "thermal", 59.75);
	ck_assert(isnan(s.temps[0].max_celsius));
	ck_assert_uint_eq(s.n_rails, 3);
	check_rail(&s, "POM_5V_IN", 4.520, 4.680);
	check_rail(&s, "POM_5V_GPU", 0, 0);
	check_rail(&s, "POM_5V_CPU", 1.078, 1.205);
	/* JetPack 4: no unit, no third value */
	ck_assert_uint_eq(s.rails[0].flags, 0);
	ck_assert_int_eq(s.rails[0].max_mw, -1);
	ck_assert(isnan(s.rails[0].max_w));
	ck_assert(s.flags & EB_TEGRASTATS_HAS_TOTAL);
	ck_assert_int_eq(s.total.summed, 0);
	ck_assert_str_eq(s.total.source, "POM_5V_IN");
	ck_assert_uint_eq(s.total.rails, 1u << 0);
	ck_assert_double_eq_tol(s.total.cur_w, 4.520, TOL);
	ck_assert_double_eq_tol(s.total.avg_w, 4.680, TOL);
	ck_assert_int_eq(s.total.cur_mw, 4520);
	/* IRAM 0/252kB(lfb 252kB) (3 tokens); NVENC, NVDEC, APE (2 each) */
	ck_assert_uint_eq(s.n_skipped, 3 + 6);
}
END_TEST

START_TEST(test_tx2_jp4)
{
	struct eb_tegrastats_sample s;

	parse_fixture_line("tegrastats/tx2-jp4.log", 0, &s);
	ck_assert(!(s.flags & EB_TEGRASTATS_HAS_TIME));
	ck_assert_int_eq(s.ram.used_mb, 1685);
	ck_assert_int_eq(s.ram.total_mb, 7854);
	ck_assert_int_eq(s.ram.lfb_blocks, 1044);
	ck_assert_int_eq(s.ram.lfb_block_kb, 4096);
	ck_assert_int_eq(s.swap.used_mb, 278);
	ck_assert_int_eq(s.swap.total_mb, 8192);
	ck_assert_int_eq(s.swap.cached_mb, 23);
	ck_assert_uint_eq(s.n_cpus, 6);
	check_cpu(&s, 0, 0, 1303);
	check_cpu(&s, 1, 0, 345);
	check_cpu(&s, 5, 0, 1421);
	ck_assert_int_eq(s.emc.load_pct, 0);
	ck_assert_int_eq(s.emc.freq_mhz, 1866);
	ck_assert_int_eq(s.gr3d.load_pct, 0);
	ck_assert_int_eq(s.gr3d.freq_mhz, 140);
	ck_assert_uint_eq(s.n_temps, 8);
	check_temp(&s, "BCPU", 41);
	check_temp(&s, "Tdiode", 37.25);
	check_temp(&s, "thermal", 39.9);
	ck_assert_uint_eq(s.n_rails, 6);
	check_rail(&s, "VDD_IN", 1.931, 1.931);
	check_rail(&s, "VDD_CPU", 0.231, 0.231);
	check_rail(&s, "VDD_GPU", 0.154, 0.154);
	check_rail(&s, "VDD_SOC", 0.385, 0.385);
	check_rail(&s, "VDD_WIFI", 0.038, 0.038);
	check_rail(&s, "VDD_DDR", 0.326, 0.326);
	ck_assert_int_eq(s.total.summed, 0);
	ck_assert_str_eq(s.total.source, "VDD_IN");
	ck_assert_uint_eq(s.total.rails, 1u << 0);
	ck_assert_double_eq_tol(s.total.cur_w, 1.931, TOL);
	/* APE 150 (2) and MTS fg 1% bg 8% (5) */
	ck_assert_uint_eq(s.n_skipped, 7);

	/* second capture: VDD_IN is the fourth rail */
	parse_fixture_line("tegrastats/tx2-jp4.log", 1, &s);
	ck_assert_int_eq(s.ram.used_mb, 3276);
	ck_assert_int_eq(s.ram.total_mb, 7859);
	ck_assert_int_eq(s.ram.lfb_blocks, 5);
	ck_assert_int_eq(s.swap.used_mb, 1626);
	ck_assert_int_eq(s.swap.total_mb, 12122);
	ck_assert_int_eq(s.swap.cached_mb, 181);
	ck_assert_uint_eq(s.n_cpus, 6);
	check_cpu(&s, 0, 44, 1421);
	check_cpu(&s, 2, 67, 2034);
	check_cpu(&s, 5, 8, 1420);
	ck_assert_int_eq(s.emc.load_pct, 1);
	ck_assert_int_eq(s.gr3d.freq_mhz, 114);
	ck_assert_uint_eq(s.n_temps, 8);
	check_temp(&s, "PLL", 42.5);
	check_temp(&s, "thermal", 41.3);
	ck_assert_uint_eq(s.n_rails, 6);
	check_rail(&s, "VDD_SYS_GPU", 0.182, 0.182);
	check_rail(&s, "VDD_SYS_SOC", 0.730, 0.730);
	check_rail(&s, "VDD_4V0_WIFI", 0, 0);
	check_rail(&s, "VDD_IN", 5.297, 5.297);
	check_rail(&s, "VDD_SYS_CPU", 1.917, 1.917);
	check_rail(&s, "VDD_SYS_DDR", 1.241, 1.241);
	ck_assert_int_eq(s.total.summed, 0);
	ck_assert_str_eq(s.total.source, "VDD_IN");
	ck_assert_uint_eq(s.total.rails, 1u << 3);
	ck_assert_double_eq_tol(s.total.cur_w, 5.297, TOL);
	ck_assert_double_eq_tol(s.total.avg_w, 5.297, TOL);
}
END_TEST

START_TEST(test_agx_orin_jp5)
{
	struct eb_tegrastats_sample s;
	const struct eb_tegrastats_rail *r;

	parse_fixture_line("tegrastats/agx-orin-jp5.log", 0, &s);
	ck_assert(s.flags & EB_TEGRASTATS_HAS_TIME);
	ck_assert_int_eq(s.time.mon, 4);
	ck_assert_int_eq(s.time.day, 11);
	ck_assert_int_eq(s.time.year, 2025);
	ck_assert_int_eq(s.time.hour, 10);
	ck_assert_int_eq(s.time.min, 36);
	ck_assert_int_eq(s.time.sec, 27);
	ck_assert_int_eq(s.ram.used_mb, 4321);
	ck_assert_int_eq(s.ram.total_mb, 62801);
	ck_assert_int_eq(s.ram.lfb_blocks, 1759);
	ck_assert_int_eq(s.ram.lfb_block_kb, 4096);
	ck_assert_int_eq(s.swap.used_mb, 19);
	ck_assert_int_eq(s.swap.total_mb, 31400);
	ck_assert_int_eq(s.swap.cached_mb, 0);
	ck_assert_uint_eq(s.n_cpus, 12);
	for (size_t i = 0; i < 12; i++)
		check_cpu(&s, i, 0, 729);
	ck_assert_int_eq(s.emc.load_pct, 0);
	ck_assert_int_eq(s.emc.freq_mhz, 2133);
	/* GR3D_FREQ 0%@[0,0]: per-GPC list */
	ck_assert_int_eq(s.gr3d.load_pct, 0);
	ck_assert_int_eq(s.gr3d.freq_mhz, 0);
	ck_assert_uint_eq(s.gr3d.n_gpc, 2);
	ck_assert_int_eq(s.gr3d.gpc_mhz[0], 0);
	ck_assert_int_eq(s.gr3d.gpc_mhz[1], 0);
	/* @-256C: unavailable */
	ck_assert_uint_eq(s.n_temps, 11);
	check_temp(&s, "CV0", NAN);
	check_temp(&s, "CPU", 44.562);
	check_temp(&s, "Tboard", 32);
	check_temp(&s, "SOC2", 40.093);
	check_temp(&s, "Tdiode", 33);
	check_temp(&s, "SOC0", 41.093);
	check_temp(&s, "CV1", NAN);
	check_temp(&s, "GPU", NAN);
	check_temp(&s, "tj", 44.343);
	check_temp(&s, "SOC1", 41.25);
	check_temp(&s, "CV2", NAN);
	ck_assert_uint_eq(s.n_rails, 6);
	check_rail(&s, "VDD_GPU_SOC", 2.340, 2.340);
	check_rail(&s, "VDD_CPU_CV", 0.390, 0.390);
	check_rail(&s, "VIN_SYS_5V0", 4.025, 4.025);
	check_rail(&s, "VDDQ_VDD2_1V8AO", 0.301, 0.301);
	r = rail(&s, "VDD_GPU_SOC");
	ck_assert_uint_eq(r->flags, EB_TEGRASTATS_RAIL_MW);
	ck_assert_str_eq(s.rails[3].name, "NC");
	ck_assert(s.rails[3].flags & EB_TEGRASTATS_RAIL_NC);
	ck_assert_str_eq(s.rails[5].name, "NC");
	ck_assert(s.rails[5].flags & EB_TEGRASTATS_RAIL_NC);
	ck_assert(!(s.rails[4].flags & EB_TEGRASTATS_RAIL_NC));
	/* no VDD_IN: VIN_SYS_5V0 is not a total, so the non-NC rails are summed */
	ck_assert(s.flags & EB_TEGRASTATS_HAS_TOTAL);
	ck_assert_int_eq(s.total.summed, 1);
	ck_assert_str_eq(s.total.source, "sum");
	ck_assert_uint_eq(s.total.rails, (1u << 0) | (1u << 1) | (1u << 2) | (1u << 4));
	ck_assert_int_eq(s.total.cur_mw, 2340 + 390 + 4025 + 301);
	ck_assert_double_eq_tol(s.total.cur_w, 7.056, TOL);
	ck_assert_double_eq_tol(s.total.avg_w, 7.056, TOL);
	ck_assert(isnan(s.total.max_w));
	/* VIC_FREQ 729, APE 174 */
	ck_assert_uint_eq(s.n_skipped, 4);
}
END_TEST

START_TEST(test_agx_orin_jp7)
{
	struct eb_tegrastats_sample s;
	const struct eb_tegrastats_temp *t;
	const struct eb_tegrastats_rail *r;

	parse_fixture_line("tegrastats/agx-orin-jp7.log", 0, &s);
	ck_assert(s.flags & EB_TEGRASTATS_HAS_TIME);
	ck_assert_int_eq(s.time.year, 2026);
	ck_assert_int_eq(s.time.mon, 7);
	ck_assert_int_eq(s.time.day, 25);
	ck_assert_int_eq(s.time.hour, 9);
	ck_assert_int_eq(s.time.min, 8);
	ck_assert_int_eq(s.time.sec, 28);
	ck_assert_int_eq(s.ram.used_mb, 20642);
	ck_assert_int_eq(s.ram.total_mb, 62817);
	ck_assert_int_eq(s.ram.lfb_blocks, 1);
	ck_assert_int_eq(s.ram.lfb_block_kb, 2048);
	ck_assert(!(s.flags & EB_TEGRASTATS_HAS_SWAP));
	ck_assert_uint_eq(s.n_cpus, 12);
	check_cpu(&s, 0, 23, 2201);
	check_cpu(&s, 4, 30, 2201);
	check_cpu(&s, 8, 33, 2201);
	check_cpu(&s, 11, 27, 2201);
	ck_assert_int_eq(s.emc.load_pct, 3);
	ck_assert_int_eq(s.emc.freq_mhz, 3199);
	ck_assert_int_eq(s.gr3d.load_pct, 12);
	ck_assert_int_eq(s.gr3d.freq_mhz, 1300);
	ck_assert_uint_eq(s.gr3d.n_gpc, 2);
	ck_assert_int_eq(s.gr3d.gpc_mhz[1], 1300);
	/* two values per temperature: current/max */
	ck_assert_uint_eq(s.n_temps, 4);
	check_temp(&s, "cpu", 52.968);
	check_temp(&s, "soc2", 48.406);
	check_temp(&s, "soc0", 49.531);
	check_temp(&s, "gpu", 47.625);
	t = eb_tegrastats_find_temp(&s, "cpu");
	ck_assert_double_eq_tol(t->max_celsius, 52.968, TOL);
	/* three values per rail: cur/avg/max */
	ck_assert_uint_eq(s.n_rails, 3);
	check_rail(&s, "VDD_GPU_SOC", 5.139, 5.139);
	check_rail(&s, "VDD_CPU_CV", 3.268, 3.268);
	check_rail(&s, "VIN_SYS_5V0", 5.500, 5.500);
	r = rail(&s, "VDD_CPU_CV");
	ck_assert_uint_eq(r->flags, EB_TEGRASTATS_RAIL_MW | EB_TEGRASTATS_RAIL_MAX);
	ck_assert_int_eq(r->max_mw, 3268);
	ck_assert_double_eq_tol(r->max_w, 3.268, TOL);
	ck_assert_int_eq(s.total.summed, 1);
	ck_assert_uint_eq(s.total.rails, 0x7);
	ck_assert_int_eq(s.total.cur_mw, 5139 + 3268 + 5500);
	ck_assert_double_eq_tol(s.total.cur_w, 13.907, TOL);
	/* NVENC0 NVDEC0 NVJPG0 NVJPG1 VIC OFA NVDLA0 NVDLA1 PVA0_FREQ off, APE 174 */
	ck_assert_uint_eq(s.n_skipped, 20);
}
END_TEST

START_TEST(test_orin_nano_jp6)
{
	struct eb_tegrastats_sample s;

	parse_fixture_line("tegrastats/orin-nano-jp6.log", 0, &s);
	ck_assert(s.flags & EB_TEGRASTATS_HAS_TIME);
	ck_assert_int_eq(s.time.mon, 11);
	ck_assert_int_eq(s.time.day, 30);
	ck_assert_int_eq(s.time.year, 2025);
	ck_assert_int_eq(s.time.hour, 13);
	ck_assert_int_eq(s.ram.used_mb, 2461);
	ck_assert_int_eq(s.ram.total_mb, 7620);
	ck_assert_int_eq(s.ram.lfb_blocks, 3);
	ck_assert_int_eq(s.swap.used_mb, 1243);
	ck_assert_int_eq(s.swap.total_mb, 3810);
	ck_assert_int_eq(s.swap.cached_mb, 5);
	ck_assert_uint_eq(s.n_cpus, 6);
	check_cpu(&s, 0, 19, 729);
	check_cpu(&s, 3, 8, 729);
	check_cpu(&s, 5, 17, 729);
	ck_assert_int_eq(s.emc.load_pct, 4);
	ck_assert_int_eq(s.emc.freq_mhz, 2133);
	ck_assert_int_eq(s.gr3d.load_pct, 0);
	ck_assert_int_eq(s.gr3d.freq_mhz, 305);
	ck_assert_uint_eq(s.gr3d.n_gpc, 1);
	ck_assert_uint_eq(s.n_temps, 6);
	check_temp(&s, "cpu", 46.531);
	check_temp(&s, "gpu", 48.218);
	check_temp(&s, "soc1", 48.843);
	ck_assert_uint_eq(s.n_rails, 3);
	check_rail(&s, "VDD_IN", 5.704, 5.704);
	check_rail(&s, "VDD_CPU_GPU_CV", 0.831, 0.831);
	check_rail(&s, "VDD_SOC", 1.624, 1.624);
	ck_assert_int_eq(s.total.summed, 0);
	ck_assert_str_eq(s.total.source, "VDD_IN");
	ck_assert_uint_eq(s.total.rails, 1u << 0);
	ck_assert_double_eq_tol(s.total.cur_w, 5.704, TOL);
}
END_TEST

START_TEST(test_thor_fragment)
{
	struct eb_tegrastats_sample s;

	parse_fixture_line("tegrastats/thor-fragment.log", 0, &s);
	ck_assert(!(s.flags & EB_TEGRASTATS_HAS_TIME));
	ck_assert_int_eq(s.ram.used_mb, 4722);
	ck_assert_int_eq(s.ram.total_mb, 7844);
	ck_assert_int_eq(s.ram.lfb_blocks, 1);
	ck_assert_int_eq(s.ram.lfb_block_kb, 512);
	ck_assert(!(s.flags & EB_TEGRASTATS_HAS_CPU));
	ck_assert_uint_eq(s.n_cpus, 0);
	ck_assert_int_eq(s.emc.load_pct, 2);
	ck_assert_int_eq(s.emc.freq_mhz, 1866);
	/* GR3D_FREQ @[1000,1000,1000]: clock without utilisation */
	ck_assert(s.flags & EB_TEGRASTATS_HAS_GR3D);
	ck_assert_int_eq(s.gr3d.load_pct, -1);
	ck_assert_int_eq(s.gr3d.freq_mhz, 1000);
	ck_assert_uint_eq(s.gr3d.n_gpc, 3);
	ck_assert_int_eq(s.gr3d.gpc_mhz[2], 1000);
	ck_assert_uint_eq(s.n_rails, 0);
	ck_assert(!(s.flags & EB_TEGRASTATS_HAS_TOTAL));
}
END_TEST

/*
 * Constructed in JetPack 7's format (not a capture) with values that tell the three rail
 * values and the two temperature values apart; VIN is Thor's module input monitor.
 */
START_TEST(test_jp7_three_values_and_vin)
{
	static const char line[] =
		"07-23-2026 15:29:27 RAM 9091/125811MB (lfb 19x4MB) SWAP 0/2048MB (cached 0MB) "
		"CPU [40%@972,off,18%@2601] EMC_FREQ 7%@3200 GR3D_FREQ @[314,310,312] "
		"NVENC0_FREQ @1556 VIC 59%@423 PVA0_FREQ off APE 300 cpu@34.312C/34.843C "
		"tj@-256C/-256C gpu@35.906C VDD_GPU 4925mW/4800mW/5100mW "
		"VDD_CPU_SOC_MSS 7953mW/8332mW/8710mW VIN_SYS_5V0 6667mW/6717mW/6767mW "
		"VIN 21000mW/20500mW/22000mW\r\n";
	struct eb_tegrastats_sample s;
	struct eb_err err;
	const struct eb_tegrastats_rail *r;
	const struct eb_tegrastats_temp *t;

	ck_assert_int_eq(eb_tegrastats_parse_line(line, &s, &err), 0);
	ck_assert_uint_eq(s.n_cpus, 3);
	check_cpu(&s, 0, 40, 972);
	ck_assert_int_eq(s.cpus[1].online, 0);
	ck_assert_int_eq(s.cpus[1].load_pct, -1);
	ck_assert_int_eq(s.cpus[1].freq_mhz, -1);
	check_cpu(&s, 2, 18, 2601);
	ck_assert_int_eq(s.gr3d.load_pct, -1);
	ck_assert_int_eq(s.gr3d.freq_mhz, 314);
	ck_assert_int_eq(s.gr3d.gpc_mhz[1], 310);
	r = rail(&s, "VDD_CPU_SOC_MSS");
	ck_assert_int_eq(r->cur_mw, 7953);
	ck_assert_int_eq(r->avg_mw, 8332);
	ck_assert_int_eq(r->max_mw, 8710);
	ck_assert_double_eq_tol(r->cur_w, 7.953, TOL);
	ck_assert_double_eq_tol(r->avg_w, 8.332, TOL);
	ck_assert_double_eq_tol(r->max_w, 8.710, TOL);
	t = eb_tegrastats_find_temp(&s, "cpu");
	ck_assert_double_eq_tol(t->celsius, 34.312, TOL);
	ck_assert_double_eq_tol(t->max_celsius, 34.843, TOL);
	check_temp(&s, "tj", NAN);
	ck_assert(isnan(eb_tegrastats_find_temp(&s, "tj")->max_celsius));
	t = eb_tegrastats_find_temp(&s, "gpu");
	ck_assert(isnan(t->max_celsius));
	ck_assert_int_eq(s.total.summed, 0);
	ck_assert_str_eq(s.total.source, "VIN");
	ck_assert_uint_eq(s.total.rails, 1u << 3);
	ck_assert_double_eq_tol(s.total.cur_w, 21.0, TOL);
	ck_assert_double_eq_tol(s.total.avg_w, 20.5, TOL);
	ck_assert_double_eq_tol(s.total.max_w, 22.0, TOL);
}
END_TEST

/* Pre-JetPack-4 layout: one CPU frequency after the list, "EMC"/"GR3D" without _FREQ. */
START_TEST(test_old_layout)
{
	static const char line[] = "RAM 3500/3983MB (lfb 40x4MB) SWAP 800/8192MB (cached 300MB) "
				   "cpu [10%,20%,off,5%]@1734 EMC 2%@1600 APE 25 GR3D 30%@998";
	struct eb_tegrastats_sample s;
	struct eb_err err;

	ck_assert_int_eq(eb_tegrastats_parse_line(line, &s, &err), 0);
	ck_assert_uint_eq(s.n_cpus, 4);
	check_cpu(&s, 0, 10, 1734);
	check_cpu(&s, 1, 20, 1734);
	ck_assert_int_eq(s.cpus[2].online, 0);
	check_cpu(&s, 3, 5, 1734);
	ck_assert_int_eq(s.emc.load_pct, 2);
	ck_assert_int_eq(s.gr3d.load_pct, 30);
	ck_assert_int_eq(s.gr3d.freq_mhz, 998);
	ck_assert(!(s.flags & EB_TEGRASTATS_HAS_TOTAL));
}
END_TEST

/* Unknown and malformed fields are skipped, never fatal. */
START_TEST(test_unknown_fields_skipped)
{
	static const char line[] =
		"RAM 1000/2000MB (lfb junk) FUTURE_ENGINE 12%@[a,b] NEW_THING 7 "
		"WEIRD@ x@yC CPU [garbage] GR3D_FREQ 5%@ EMC_FREQ 1%@800 "
		"A_VERY_LONG_RAIL_NAME_THAT_EXCEEDS_THE_LIMIT 1/1 BAD_UNITS 5W/5W "
		"MIXED 5mW/5 VDD_IN 3000mW/2500mW";
	struct eb_tegrastats_sample s;
	struct eb_err err;

	ck_assert_int_eq(eb_tegrastats_parse_line(line, &s, &err), 0);
	ck_assert_int_eq(s.ram.used_mb, 1000);
	ck_assert(!(s.flags & EB_TEGRASTATS_HAS_LFB));
	ck_assert(!(s.flags & EB_TEGRASTATS_HAS_CPU));
	ck_assert(!(s.flags & EB_TEGRASTATS_HAS_GR3D));
	ck_assert_int_eq(s.emc.freq_mhz, 800);
	ck_assert_uint_eq(s.n_temps, 0);
	ck_assert_uint_eq(s.n_rails, 1);
	check_rail(&s, "VDD_IN", 3.0, 2.5);
	ck_assert_str_eq(s.total.source, "VDD_IN");
	ck_assert_uint_gt(s.n_skipped, 10);
}
END_TEST

START_TEST(test_limits_truncate)
{
	char line[8192];
	size_t len = 0;
	struct eb_tegrastats_sample s;
	struct eb_err err;

	len += (size_t)snprintf(line + len, sizeof(line) - len, "RAM 1/2MB CPU [");
	for (int i = 0; i < 40; i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%d%%@100", i ? "," : "", i);
	len += (size_t)snprintf(line + len, sizeof(line) - len, "]");
	for (int i = 0; i < 40; i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, " R%d %d/%d", i, i, i);
	ck_assert_uint_lt(len, sizeof(line) - 1);
	ck_assert_int_eq(eb_tegrastats_parse_line(line, &s, &err), 0);
	ck_assert(s.flags & EB_TEGRASTATS_TRUNCATED);
	ck_assert_uint_eq(s.n_cpus, EB_TEGRASTATS_MAX_CPUS);
	ck_assert_uint_eq(s.n_rails, EB_TEGRASTATS_MAX_RAILS);
	ck_assert_int_eq(s.cpus[31].load_pct, 31);
	ck_assert_str_eq(s.rails[31].name, "R31");
	ck_assert_int_eq(s.total.summed, 1);
	ck_assert_uint_eq(s.total.rails, 0xffffffffu);
	ck_assert_int_eq(s.total.cur_mw, 31 * 32 / 2);
}
END_TEST

START_TEST(test_garbage_rejected)
{
	static const char *const bad[] = {
		"",
		"   \r\n",
		"hello world",
		"GET / HTTP/1.1",
		"tegrastats: command not found",
		"cpu@52C gpu@48C",
		"\x01\x02\x7f binary",
		"RAMBO 1/2MB and a very long line of text that should be cut in the excerpt",
	};
	struct eb_tegrastats_sample s;
	struct eb_err err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		eb_err_clear(&err);
		ck_assert_int_eq(eb_tegrastats_parse_line(bad[i], &s, &err), EB_EPARSE);
		ck_assert_int_eq(err.code, EB_EPARSE);
		ck_assert_msg(strstr(err.msg, "not tegrastats output") != NULL, "msg: %s", err.msg);
	}
	eb_tegrastats_parse_line("GET / HTTP/1.1", &s, &err);
	ck_assert_str_eq(err.msg, "not tegrastats output: 'GET / HTTP/1.1'");
	eb_tegrastats_parse_line("\x01\x02\x7f binary", &s, &err);
	ck_assert_str_eq(err.msg, "not tegrastats output: '??? binary'");
	eb_tegrastats_parse_line(bad[7], &s, &err);
	ck_assert_str_eq(err.msg,
			 "not tegrastats output: 'RAMBO 1/2MB and a very long line of text...'");
	ck_assert_int_eq(eb_tegrastats_parse_line(NULL, &s, &err), EB_EINVAL);
}
END_TEST

static Suite *tegrastats_suite(void)
{
	Suite *s = suite_create("tegrastats");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_every_line_parses);
	tcase_add_test(tc, test_nano_jp4);
	tcase_add_test(tc, test_tx2_jp4);
	tcase_add_test(tc, test_agx_orin_jp5);
	tcase_add_test(tc, test_agx_orin_jp7);
	tcase_add_test(tc, test_orin_nano_jp6);
	tcase_add_test(tc, test_thor_fragment);
	tcase_add_test(tc, test_jp7_three_values_and_vin);
	tcase_add_test(tc, test_old_layout);
	tcase_add_test(tc, test_unknown_fields_skipped);
	tcase_add_test(tc, test_limits_truncate);
	tcase_add_test(tc, test_garbage_rejected);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(tegrastats_suite());
}
