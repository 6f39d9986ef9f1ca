/* plot.h: figures from the database through gnuplot (an external program, run without a shell). */
#ifndef EB_PLOT_H
#define EB_PLOT_H

#include <stdio.h>

#include "rdata.h"

enum eb_plot_kind {
	EB_PLOT_THROUGHPUT, /* decode and prefill TPS per cell, error bars p10..p90 or 95% CI */
	EB_PLOT_TTFT,       /* TTFT against prompt length, one line per target/model/quant */
	EB_PLOT_POWER,      /* watts over time per rail, one panel per cell, prefill and decode
			     * windows shaded */
	EB_PLOT_ACCURACY,   /* accuracy metric against model bytes (needs the accuracy table),
			     * one panel per task and metric */
	EB_PLOT_PARETO,     /* decode TPS against J/token (needs energy or power samples) */
	EB_PLOT_SUSTAINED,  /* decode TPS over time, one line per sustained cell (its windows) */
	EB_PLOT_MODES,      /* decode TPS and tokens/J against device mode, a line per variant */
	EB_PLOT_LOAD,       /* output tok/s against p90 TPOT and TTFT, a line per variant's load
			     * cells (concurrencies, then rates) */
};

/* The most panels one figure holds by default: more would not stay legible (and a
 * taller bitmap than cairo draws). */
#define EB_PLOT_MAX_PANELS 24

struct eb_plot_opts {
	enum eb_plot_kind kind;
	struct eb_rsel sel;
	enum eb_report_stat stat;
	/* FILE.png (pngcairo, or png where gnuplot has no cairo), FILE.svg or FILE.pdf
	 * (pdfcairo); FILE.gp (the script) and FILE.dat (its data) are written beside it */
	const char *out;
	const char *gnuplot; /* the program; NULL = $EB_GNUPLOT, else "gnuplot" from PATH */
	FILE *log;           /* notes (what could not be drawn and why); NULL = none */
	/* accuracy: the metrics drawn, by name (fnmatch patterns; NULL = all) */
	const char *const *metrics;
	/* "WxH": pixels for PNG and SVG ("1200x700", "px" optional), inches or centimetres
	 * for PDF ("3.3x2.5in", "8.4x6cm"); NULL = a size that grows with the panels */
	const char *size;
	const char *font;  /* "NAME,SIZE" (points); NULL = sans at 10 (11 in SVG) */
	size_t max_panels; /* 0 = EB_PLOT_MAX_PANELS */
};

/*
 * Writes FILE.dat and FILE.gp, then runs gnuplot on them. Returns 0, or:
 * EB_ENOENT when there is nothing to draw (err says why, e.g. "no power samples in run 3",
 * or that no cell matches sel.keys), EB_EUNSUPPORTED when gnuplot is not installed (err
 * names the Debian package) or has no pdfcairo terminal for a PDF, EB_EINVAL for an output
 * name that is not .png, .svg or .pdf, a bad size or font, or a figure of more panels than
 * max_panels (err says how many and how to pick fewer), EB_EIO when a file cannot be
 * written or gnuplot fails (err has its output), EB_EDB for database errors.
 */
int eb_plot(struct eb_store *s, const struct eb_plot_opts *o, struct eb_err *err);

/* "throughput", "ttft-vs-prompt", "power", "accuracy", "pareto", "sustained", "modes"; 0 or
 * EB_EINVAL. */
int eb_plot_kind_parse(const char *name, enum eb_plot_kind *kind);
const char *eb_plot_kind_name(enum eb_plot_kind kind);

#endif
