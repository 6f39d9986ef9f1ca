/* ctest: labels=integration timeout=300 */
/* check_report_html.c: the html report in headless Chromium: no console errors, tables and figures in the DOM, a non-blank screenshot. */
#include "reportdb.h"

#include "eb_proc.h"
#include "eb_util.h"

#include <stdlib.h>
#include <unistd.h>

static char eb_dir[4096], eb_db_path[4200], eb_html[4200];

/*
 * Decodes a PNG (8-bit RGB/RGBA, the kind Chromium writes): inflates IDAT, undoes the row
 * filters, prints "<distinct colours> <non-white fraction>".
 */
static const char eb_png_py[] =
	"import sys, struct, zlib\n"
	"d = open(sys.argv[1], 'rb').read()\n"
	"assert d[:8] == b'\\x89PNG\\r\\n\\x1a\\n', 'not a PNG'\n"
	"p, idat = 8, b''\n"
	"while p < len(d):\n"
	"    n, t = struct.unpack('>I4s', d[p:p + 8])\n"
	"    c = d[p + 8:p + 8 + n]\n"
	"    if t == b'IHDR': w, h, bd, ct = struct.unpack('>IIBB', c[:10])\n"
	"    if t == b'IDAT': idat += c\n"
	"    p += 12 + n\n"
	"assert bd == 8 and ct in (2, 6), 'unexpected PNG type %d/%d' % (bd, ct)\n"
	"bpp = 3 if ct == 2 else 4\n"
	"raw, stride = zlib.decompress(idat), w * bpp\n"
	"prev, cols, nonwhite, i = bytearray(stride), set(), 0, 0\n"
	"for y in range(h):\n"
	"    f, row = raw[i], bytearray(raw[i + 1:i + 1 + stride])\n"
	"    i += 1 + stride\n"
	"    for x in range(stride):\n"
	"        a = row[x - bpp] if x >= bpp else 0\n"
	"        b = prev[x]\n"
	"        c = prev[x - bpp] if x >= bpp else 0\n"
	"        if f == 1: row[x] = (row[x] + a) & 255\n"
	"        elif f == 2: row[x] = (row[x] + b) & 255\n"
	"        elif f == 3: row[x] = (row[x] + (a + b) // 2) & 255\n"
	"        elif f == 4:\n"
	"            pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)\n"
	"            row[x] = (row[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255\n"
	"    for x in range(0, stride, bpp):\n"
	"        px = bytes(row[x:x + 3])\n"
	"        cols.add(px)\n"
	"        if px != b'\\xff\\xff\\xff': nonwhite += 1\n"
	"    prev = row\n"
	"print(len(cols), nonwhite / float(w * h))\n";

static void eb_build(void)
{
	static const double ttft[4][3] = { { 10, 12, 11 }, { 30, 33, 31 }, { 6, 7, 6.5 }, { 18, 20, 19 } };
	static const double dec[4][3] = { { 50, 52, 48 }, { 49, 51, 47 }, { 90, 95, 92 }, { 88, 91, 90 } };
	const double w[] = { 2, 5, 5.5, 5, 5.2, 5.1 };
	int64_t run;

	eb_test_tmpdir("report-html", eb_dir, sizeof(eb_dir));
	snprintf(eb_db_path, sizeof(eb_db_path), "%s/html.db", eb_dir);
	snprintf(eb_html, sizeof(eb_html), "%s/report.html", eb_dir);
	eb_tdb_open(eb_db_path);
	run = eb_tdb_run("00000000-0000-4000-8000-0000000000a1", "<b>nightly</b> & co", eb_tdb_config);
	for (int i = 0; i < 4; i++) {
		struct eb_tcell tc = { "cpu", "tiny", i < 2 ? "f16" : "q4_0", i % 2 ? 64 : 16, 8,
				       "ok", NULL };
		int64_t cell = eb_tdb_cell(run, &tc);

		eb_tdb_requests(cell, tc.prompt, tc.gen, ttft[i], dec[i], 3);
		eb_tdb_value(cell, "model_bytes", "B", i < 2 ? 262144000.0 : 73400320.0);
		eb_tdb_power(cell, "hwmon", "VDD_IN", (int64_t)i * 1000000000, 200000000, w, 6);
	}
	{
		/* names that would run script or break markup if they were not escaped */
		struct eb_tcell tc = { "<img src=x onerror=console.error(1)>", "<script>console.error(\"xss\")</script>",
				       "q|\"x\nq", 16, 8, "ok", "</td></tr></table><script>console.error(2)</script>" };
		int64_t cell = eb_tdb_cell(run, &tc);

		eb_tdb_requests(cell, 16, 8, ttft[0], dec[0], 3);
	}
	eb_tdb_close();
}

/* The Chromium binary: $EB_CHROMIUM, else chromium from PATH (Debian's package). */
static const char *eb_chromium(void)
{
	const char *c = getenv("EB_CHROMIUM");

	if (c && *c)
		return c;
	if (access("/usr/bin/chromium", X_OK) == 0)
		return "/usr/bin/chromium";
	ck_abort_msg("chromium is not installed: run scripts/deps-test.sh (Debian package "
		     "'chromium') or set EB_CHROMIUM");
	return NULL;
}

static int eb_chrome(const char *what, const char *extra, char **out)
{
	char udd[4400], url[4400], shot[4400];
	const char *argv[24];
	struct eb_err err;
	size_t n = 0;
	int rc;

	snprintf(udd, sizeof(udd), "--user-data-dir=%s/chrome-%s", eb_dir, what);
	snprintf(url, sizeof(url), "file://%s", eb_html);
	snprintf(shot, sizeof(shot), "--screenshot=%s/shot.png", eb_dir);
	argv[n++] = "timeout";
	argv[n++] = "120";
	argv[n++] = eb_chromium();
	argv[n++] = "--headless";
	argv[n++] = "--no-sandbox";
	argv[n++] = "--disable-gpu";
	argv[n++] = "--disable-quic";
	argv[n++] = "--no-first-run";
	argv[n++] = "--disable-background-networking";
	argv[n++] = "--disable-component-update";
	argv[n++] = "--disable-sync";
	argv[n++] = udd;
	argv[n++] = "--window-size=1200,900";
	argv[n++] = "--enable-logging=stderr";
	argv[n++] = "--v=0";
	argv[n++] = strcmp(extra, "screenshot") == 0 ? shot : "--dump-dom";
	argv[n++] = url;
	argv[n] = NULL;
	rc = eb_proc_capture(argv, 1, 64u << 20, out, &err);
	ck_assert_msg(rc >= 0, "cannot run chromium: %s", err.msg);
	return rc;
}

/* Console messages Chromium logs ("...:INFO:CONSOLE:1] "boom", source: ..."); the page
 * has no script, so any is an error. */
static void eb_no_console(const char *log)
{
	const char *p = strstr(log, ":CONSOLE");

	if (p) {
		const char *e = strchr(p, '\n');

		ck_abort_msg("console message in the report: %.*s", (int)(e ? e - p : 200), p);
	}
	ck_assert_ptr_null(strstr(log, "Content Security Policy"));
}

START_TEST(chromium_renders_report)
{
	const char *rep[] = { "edgebench", "report", "--db", eb_db_path, "--format", "html",
			      "--layout", "wide", "--wide", "--output", eb_html, NULL };
	char *out = NULL, png[4400];
	int rc, imgs = 0;

	eb_build();
	rc = eb_test_run(rep, &out);
	ck_assert_msg(rc == 0, "report: %s", out);
	free(out);

	rc = eb_chrome("shot", "screenshot", &out);
	ck_assert_msg(rc == 0, "chromium exit %d: %s", rc, out);
	eb_no_console(out);
	free(out);

	rc = eb_chrome("dom", "dump-dom", &out);
	ck_assert_msg(rc == 0, "chromium exit %d: %s", rc, out);
	eb_no_console(out);
	/* the DOM holds the tables and the figures, and no element made from a name */
	ck_assert_ptr_nonnull(strstr(out, "<table>"));
	ck_assert_ptr_nonnull(strstr(out, "<caption>Runs</caption>"));
	ck_assert_ptr_nonnull(strstr(out, "&lt;b&gt;nightly&lt;/b&gt; &amp; co"));
	ck_assert_ptr_nonnull(strstr(out, "&lt;script&gt;console.error(\"xss\")&lt;/script&gt;"));
	ck_assert_ptr_null(strstr(out, "<script"));
	ck_assert_ptr_null(strstr(out, "<img src=\"x\""));
	for (const char *p = out; (p = strstr(p, "<img ")) != NULL; p++)
		imgs++;
	ck_assert_int_eq(imgs, 4); /* throughput, ttft, power, pareto */
	free(out);

	/* the screenshot is not blank (python3 reads the PNG) */
	snprintf(png, sizeof(png), "%s/shot.png", eb_dir);
	EB_TEST_SKIP_IF(eb_test_lacks_python());
	{
		const char *argv[] = { "python3", "-c", eb_png_py, png, NULL };
		struct eb_err err;
		int colours = 0;
		double frac = 0;

		rc = eb_proc_capture(argv, 1, 1 << 20, &out, &err);
		ck_assert_msg(rc == 0, "png check: %s", rc < 0 ? err.msg : out);
		ck_assert_int_eq(sscanf(out, "%d %lf", &colours, &frac), 2);
		ck_assert_msg(colours >= 16 && frac > 0.01,
			      "screenshot looks blank: %d colours, %.4f not white", colours, frac);
		free(out);
	}
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("report_html");
	TCase *tc = tcase_create("report_html");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, chromium_renders_report);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
