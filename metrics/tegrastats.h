/* tegrastats.h: parses one line of NVIDIA Jetson `tegrastats` output into a fixed-size struct. */
#ifndef EB_TEGRASTATS_H
#define EB_TEGRASTATS_H

#include <stddef.h>
#include <stdint.h>

#include "eb_err.h"

/*
 * Limits. A line with more cores, temperatures or rails than these keeps the first ones and
 * sets EB_TEGRASTATS_TRUNCATED; a name longer than EB_TEGRASTATS_NAME_MAX characters makes
 * its field unknown (skipped, counted in n_skipped), never truncated into a wrong name.
 */
#define EB_TEGRASTATS_MAX_CPUS 32
#define EB_TEGRASTATS_MAX_TEMPS 32
#define EB_TEGRASTATS_MAX_RAILS 32 /* must stay <= 32: eb_tegrastats_total.rails is a bitmask */
#define EB_TEGRASTATS_MAX_GPCS 8
#define EB_TEGRASTATS_NAME_MAX 32 /* characters, not counting the NUL */

/* What a line carried (eb_tegrastats_sample.flags). */
enum {
	EB_TEGRASTATS_HAS_TIME = 1 << 0,  /* leading "MM-DD-YYYY HH:MM:SS" */
	EB_TEGRASTATS_HAS_RAM = 1 << 1,
	EB_TEGRASTATS_HAS_LFB = 1 << 2,   /* RAM's "(lfb NxSIZE)" */
	EB_TEGRASTATS_HAS_SWAP = 1 << 3,
	EB_TEGRASTATS_HAS_CPU = 1 << 4,   /* "CPU [...]", n_cpus may still be 0 for "[]" */
	EB_TEGRASTATS_HAS_EMC = 1 << 5,
	EB_TEGRASTATS_HAS_GR3D = 1 << 6,
	EB_TEGRASTATS_HAS_TOTAL = 1 << 7, /* total is filled */
	EB_TEGRASTATS_TRUNCATED = 1 << 8  /* a limit above was hit: entries were dropped */
};

/* Wall-clock stamp as tegrastats printed it (local time of the Jetson, no zone). */
struct eb_tegrastats_time {
	int year, mon, day; /* mon 1..12, day 1..31 */
	int hour, min, sec;
};

/* "RAM used/totalMB (lfb NxSIZE)": MB as printed; lfb = N free blocks of lfb_block_kb kB. */
struct eb_tegrastats_ram {
	long long used_mb, total_mb;
	long long lfb_blocks, lfb_block_kb; /* valid with EB_TEGRASTATS_HAS_LFB */
};

/* "SWAP used/totalMB (cached NMB)": MB; cached_mb is -1 when the "(cached ...)" part is absent. */
struct eb_tegrastats_swap {
	long long used_mb, total_mb, cached_mb;
};

/* One CPU core: "23%@2201", "23%" (frequency after the list, old format) or "off". */
struct eb_tegrastats_cpu {
	int online;   /* 0 for "off": load_pct and freq_mhz are then -1 */
	int load_pct; /* 0..100 */
	int freq_mhz; /* -1 when the line has no frequency for this core */
};

/*
 * An engine with load and clock: EMC_FREQ ("3%@3199") and GR3D_FREQ ("0%@76",
 * "12%@[1300,1300]" per-GPC, "@[1000,1000,1000]" on Thor without utilisation).
 * freq_mhz is the single frequency or the highest of the per-GPC list (-1 if none);
 * gpc_mhz[0..n_gpc) is the list when one was printed (n_gpc 0 otherwise).
 */
struct eb_tegrastats_engine {
	int load_pct; /* -1 when not reported */
	int freq_mhz;
	size_t n_gpc;
	int gpc_mhz[EB_TEGRASTATS_MAX_GPCS];
};

/*
 * "name@42.5C", or JetPack 7's "name@52.968C/52.968C" (current/maximum seen since tegrastats
 * started: a later R39.2 line reads "cpu@34.312C/34.843C" after a 34.843C sample).
 * "@-256C" means the sensor is unavailable: valid = 0, celsius = NAN.
 */
struct eb_tegrastats_temp {
	char name[EB_TEGRASTATS_NAME_MAX + 1];
	int valid;
	double celsius;
	double max_celsius; /* NAN unless the two-value form was printed (and valid) */
};

/* Rail flags (eb_tegrastats_rail.flags). */
enum {
	EB_TEGRASTATS_RAIL_MW = 1 << 0,  /* values carried the "mW" unit (JetPack 5+) */
	EB_TEGRASTATS_RAIL_MAX = 1 << 1, /* JetPack 7's third value: max_mw/max_w are set */
	EB_TEGRASTATS_RAIL_NC = 1 << 2   /* "NC": an unconnected monitor channel (always 0) */
};

/*
 * A power rail: "NAME cur/avg" (JetPack 4, mW without unit), "NAME curmW/avgmW" (JetPack 5/6)
 * or "NAME curmW/avgmW/maxmW" (JetPack 7; the third value is the maximum since tegrastats
 * started: R39.2 prints "VDD_CPU_SOC_MSS 7953mW/8332mW/8710mW" after an 8710 mW sample, and
 * 8332 is the running mean). avg is tegrastats' own running mean since it started, not a
 * window average. Raw values are mW as printed; *_w are the same in watts.
 */
struct eb_tegrastats_rail {
	char name[EB_TEGRASTATS_NAME_MAX + 1];
	unsigned flags;
	long long cur_mw, avg_mw, max_mw; /* max_mw -1 without EB_TEGRASTATS_RAIL_MAX */
	double cur_w, avg_w, max_w;       /* max_w NAN without EB_TEGRASTATS_RAIL_MAX */
};

/*
 * The board's total input power. When the line has an input rail -- VDD_IN (TX2, Xavier,
 * Orin NX/Nano), POM_5V_IN (Nano, TX1) or VIN (Thor's INA238 on the module input) -- total is
 * that rail (summed = 0; source is its name). Otherwise (AGX Orin: VIN_SYS_5V0 is only the
 * 5 V system rail, not a total) total is the sum of every non-NC rail (summed = 1, source
 * "sum"; max is NAN since a sum of maxima is not a maximum): a lower bound on the board's
 * draw that the caller should label as such. rails: bit i set = rails[i] went into the total.
 */
struct eb_tegrastats_total {
	int summed;
	char source[EB_TEGRASTATS_NAME_MAX + 1];
	uint32_t rails;
	long long cur_mw, avg_mw, max_mw; /* max_mw -1 when unknown */
	double cur_w, avg_w, max_w;       /* max_w NAN when unknown */
};

/*
 * One parsed line. Arrays hold [0, n_x) entries in the order printed. Fields the parser does
 * not know (APE, VIC, NVENC, MTS, IRAM, ...) are skipped and counted in n_skipped (tokens), as
 * are malformed known fields; emc/gr3d/ram/swap/time are valid only with their HAS_ flag.
 */
struct eb_tegrastats_sample {
	unsigned flags;
	struct eb_tegrastats_time time;
	struct eb_tegrastats_ram ram;
	struct eb_tegrastats_swap swap;
	size_t n_cpus;
	struct eb_tegrastats_cpu cpus[EB_TEGRASTATS_MAX_CPUS];
	struct eb_tegrastats_engine emc, gr3d;
	size_t n_temps;
	struct eb_tegrastats_temp temps[EB_TEGRASTATS_MAX_TEMPS];
	size_t n_rails;
	struct eb_tegrastats_rail rails[EB_TEGRASTATS_MAX_RAILS];
	struct eb_tegrastats_total total;
	size_t n_skipped;
};

/*
 * Parses one line (a trailing "\n" or "\r\n" is fine) into *out, which is fully overwritten.
 * Returns 0, or EB_EPARSE (message quotes the first 40 characters) when the line is empty or
 * carries none of RAM, SWAP, CPU, EMC, GR3D or a power rail -- i.e. is not tegrastats output;
 * EB_EINVAL for NULL arguments. Unknown or malformed fields are never an error.
 */
int eb_tegrastats_parse_line(const char *line, struct eb_tegrastats_sample *out,
			     struct eb_err *err);

/* The rail / temperature named `name` (exact match), or NULL. Points into `s`. */
const struct eb_tegrastats_rail *eb_tegrastats_find_rail(const struct eb_tegrastats_sample *s,
							 const char *name);
const struct eb_tegrastats_temp *eb_tegrastats_find_temp(const struct eb_tegrastats_sample *s,
							 const char *name);

/* 1 if `name` is a rail tegrastats uses for the board's total input (VDD_IN, POM_5V_IN, VIN). */
int eb_tegrastats_is_input_rail(const char *name);

#endif
