/* ctest: labels=integration timeout=180 */
/* check_modes.c: device modes (fake nvpmodel/jetson_clocks/nvidia-smi, fixture sysfs: set, verify, restore, interrupt, resume), repeats and sustained cells. */
#include "eb_clock.h"
#include "eb_proc.h"
#include "eb_util.h"
#include "stats.h"
#include "testutil.h"

#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char eb_dir[4096], eb_cfg[4200], eb_db[4200], eb_log[4200];

static void eb_put(const char *path, const char *text)
{
	struct eb_err err;

	ck_assert_msg(eb_write_file(path, text, strlen(text), &err) == 0, "%s", err.msg);
}

static char *eb_get(const char *path)
{
	struct eb_err err;
	char *text = NULL;
	size_t len;

	ck_assert_msg(eb_read_file(path, 1 << 20, &text, &len, &err) == 0, "%s", err.msg);
	return text;
}

/*
 * A fresh directory with the fakes' state (nvpmodel mode 3, 250 W), a fixture sysfs tree
 * of two CPUs (schedutil, 729600..2201600 kHz) and a config of two modes x two variants:
 * maxn (nvpmodel 0, jetson_clocks) and 15w (nvpmodel 2, 100 W, powersave at 1200000 kHz).
 * `reps` measured requests per cell. The fakes are first on PATH.
 */
static void eb_setup(const char *name, int reps)
{
	char p[4400], bin[4096], gen[4096], path[16384];
	struct eb_err err;

	eb_test_tmpdir(name, eb_dir, sizeof(eb_dir));
	snprintf(p, sizeof(p), "%s/state", eb_dir);
	ck_assert_int_eq(eb_mkdirs(p, &err), 0);
	snprintf(p, sizeof(p), "%s/state/nvpmodel", eb_dir);
	eb_put(p, "3\n");
	for (int c = 0; c < 2; c++) {
		snprintf(p, sizeof(p), "%s/sys/sys/devices/system/cpu/cpu%d/cpufreq", eb_dir, c);
		ck_assert_int_eq(eb_mkdirs(p, &err), 0);
		snprintf(p, sizeof(p), "%s/sys/sys/devices/system/cpu/cpu%d/cpufreq/scaling_min_freq",
			 eb_dir, c);
		eb_put(p, "729600\n");
		snprintf(p, sizeof(p), "%s/sys/sys/devices/system/cpu/cpu%d/cpufreq/scaling_max_freq",
			 eb_dir, c);
		eb_put(p, "2201600\n");
		snprintf(p, sizeof(p), "%s/sys/sys/devices/system/cpu/cpu%d/cpufreq/scaling_governor",
			 eb_dir, c);
		eb_put(p, "schedutil\n");
	}
	eb_test_data("modes/bin", bin, sizeof(bin));
	eb_test_data("modes/gen.sh", gen, sizeof(gen));
	snprintf(path, sizeof(path), "%s:%s", bin, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	snprintf(eb_log, sizeof(eb_log), "%s/log", eb_dir);
	setenv("EB_MODES_LOG", eb_log, 1);
	snprintf(p, sizeof(p), "%s/state", eb_dir);
	setenv("EB_MODES_STATE", p, 1);
	snprintf(p, sizeof(p), "%s/sys", eb_dir);
	setenv("EB_MODES_SYSFS", p, 1);
	snprintf(eb_db, sizeof(eb_db), "%s/o.db", eb_dir);
	snprintf(eb_cfg, sizeof(eb_cfg), "%s/modes.json", eb_dir);
	{
		char text[8192];

		snprintf(text, sizeof(text),
			 "{ \"name\": \"modes\",\n"
			 "  \"device\": { \"name\": \"orin\", \"modes\": [\n"
			 "    { \"id\": \"maxn\", \"nvpmodel\": 0, \"jetson_clocks\": true, \"settle_s\": 0 },\n"
			 "    { \"id\": \"15w\", \"nvpmodel\": 2, \"power_limit_w\": 100, \"settle_s\": 0,\n"
			 "      \"cpufreq\": { \"governor\": \"powersave\", \"max_khz\": 1200000 } } ] },\n"
			 "  \"power\": { \"sysfs_root\": \"%s/sys\" },\n"
			 "  \"targets\": [ { \"id\": \"fake\", \"adapter\": \"exec\", \"options\": {\n"
			 "    \"argv\": [\"%s\", \"{max_tokens}\"], \"stream\": \"bytes\", \"timeout_s\": 20 } } ],\n"
			 "  \"models\": [ { \"id\": \"m\", \"variants\": [ { \"quant\": \"a\", \"model_name\": \"a\" },\n"
			 "                                              { \"quant\": \"b\", \"model_name\": \"b\" } ] } ],\n"
			 "  \"workloads\": { \"latency\": { \"prompt_tokens\": [8], \"gen_tokens\": 4,\n"
			 "                                \"warmup\": 0, \"repetitions\": %d } } }\n",
			 eb_dir, gen, reps);
		eb_put(eb_cfg, text);
	}
}

/* Runs `edgebench run` on the config (with --resume --quiet when `resume`); fails the test
 * unless it exits `want`. Returns its output, which the caller frees. */
static char *eb_run_expect(int want, int resume)
{
	const char *argv[] = { "edgebench", "run", eb_cfg, "--db", eb_db, NULL, NULL, NULL };
	char *out = NULL;
	int rc;

	if (resume) {
		argv[5] = "--resume";
		argv[6] = "--quiet";
	}
	rc = eb_test_run(argv, &out);
	ck_assert_msg(rc == want, "exit %d, not %d: %s", rc, want, out);
	return out;
}

static void eb_assert_starts(const char *s, const char *prefix)
{
	ck_assert_msg(strncmp(s, prefix, strlen(prefix)) == 0, "'%s' does not start with '%s'", s,
		      prefix);
}

/* The cpufreq file of CPU c, trimmed, into buf. */
static const char *eb_cpu(int c, const char *file, char *buf, size_t n)
{
	char p[4400], *t;

	snprintf(p, sizeof(p), "%s/sys/sys/devices/system/cpu/cpu%d/cpufreq/%s", eb_dir, c, file);
	t = eb_get(p);
	t[strcspn(t, "\n")] = '\0';
	eb_strlcpy(buf, t, n);
	free(t);
	return buf;
}

/* The device is as eb_setup left it: mode 3, 250 W, schedutil, 729600..2201600 kHz. */
static void eb_assert_start_state(void)
{
	char p[4400], b[64], *t;

	snprintf(p, sizeof(p), "%s/state/nvpmodel", eb_dir);
	t = eb_get(p);
	ck_assert_str_eq(t, "3\n");
	free(t);
	snprintf(p, sizeof(p), "%s/state/power_limit", eb_dir);
	t = eb_get(p);
	ck_assert_str_eq(t, "250.00\n");
	free(t);
	for (int c = 0; c < 2; c++) {
		ck_assert_str_eq(eb_cpu(c, "scaling_governor", b, sizeof(b)), "schedutil");
		ck_assert_str_eq(eb_cpu(c, "scaling_max_freq", b, sizeof(b)), "2201600");
		ck_assert_str_eq(eb_cpu(c, "scaling_min_freq", b, sizeof(b)), "729600");
	}
}

/* The fakes ran exactly `want`, and the device ended as it started. */
static void eb_assert_log_then_start(const char *want)
{
	char *log = eb_get(eb_log);

	ck_assert_str_eq(log, want);
	free(log);
	eb_assert_start_state();
}

/* What the fakes are run with: the starting state read before any mode is set ... */
#define EB_LOG_START                                                                     \
	"nvpmodel -q\n"                                                                   \
	"jetson_clocks --store\n"                                                         \
	"nvidia-smi --query-gpu=power.limit --format=csv,noheader,nounits\n"
/* ... maxn set and read back ... */
#define EB_LOG_MAXN "nvpmodel -m 0\nnvpmodel -q\njetson_clocks \n"
/* ... 15w: jetson_clocks is not part of it, so it goes back first ... */
#define EB_LOG_15W                                                                       \
	"jetson_clocks --restore\n"                                                       \
	"nvpmodel -m 2\n"                                                                 \
	"nvpmodel -q\n"                                                                   \
	"nvidia-smi -pl 100\n"                                                            \
	"nvidia-smi --query-gpu=power.limit --format=csv,noheader,nounits\n"
/* ... the end: the starting state back (cpufreq is written, not a program) */
#define EB_LOG_END                                                                       \
	"nvidia-smi -i 0 -pl 250\n"                                                       \
	"nvpmodel -m 3\n"                                                                 \
	"nvpmodel -q\n"                                                                   \
	"jetson_clocks --restore\n"

/* The full run of both modes. */
static const char eb_full_log[] = EB_LOG_START EB_LOG_MAXN EB_LOG_15W EB_LOG_END;

START_TEST(two_modes_set_verified_restored_in_order)
{
	char *out = NULL;
	sqlite3 *h;

	eb_setup("modes-order", 2);
	out = eb_run_expect(0, 0);
	/* each program is named as it runs */
	ck_assert_ptr_nonnull(strstr(out, "edgebench: mode '15w': nvidia-smi -pl 100\n"));
	free(out);
	eb_assert_log_then_start(eb_full_log);

	h = eb_test_db_open(eb_db);
	/* grouped by mode, in config order; the key and the parameters carry the mode */
	{
		char *keys = eb_test_qs(h, "SELECT group_concat(key, ' ') FROM (SELECT key FROM cells"
					   " ORDER BY id)");

		ck_assert_str_eq(keys, "fake/m/a/latency/p8-g4@maxn fake/m/b/latency/p8-g4@maxn "
				       "fake/m/a/latency/p8-g4@15w fake/m/b/latency/p8-g4@15w");
		free(keys);
	}
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='ok' AND "
				      "json_extract(params_json,'$.mode')=substr(key,instr(key,'@')+1)"),
			    4);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM requests"), 8);
	sqlite3_close(h);

	/* reports show the mode: a column of the cells and long layouts, a card column per
	 * variant and mode */
	{
		const char *cells[] = { "edgebench", "report", "--db", eb_db, "--format", "csv", NULL };
		const char *card[] = { "edgebench", "report", "--db", eb_db, "--layout", "card",
				       "--format", "csv", NULL };
		const char *lng[] = { "edgebench", "report", "--db", eb_db, "--layout", "long",
				      "--format", "csv", "--metric", "ttft_ms", NULL };

		ck_assert_int_eq(eb_test_run(cells, &out), 0);
		eb_assert_starts(out, "run,device,target,model,quant,prompt_tokens,gen_tokens,mode,status,");
		ck_assert_ptr_nonnull(strstr(out, "\n1,orin,fake,m,a,8,4,maxn,ok,"));
		ck_assert_ptr_nonnull(strstr(out, "\n1,orin,fake,m,b,8,4,15w,ok,"));
		free(out);
		ck_assert_int_eq(eb_test_run(card, &out), 0);
		eb_assert_starts(out, "metric,unit,a@15w,a@maxn,b@15w,b@maxn\n");
		free(out);
		ck_assert_int_eq(eb_test_run(lng, &out), 0);
		eb_assert_starts(out, "run,device,target,model,quant,prompt_tokens,gen_tokens,mode,task,"
				      "metric,");
		ck_assert_ptr_nonnull(strstr(out, "\n1,orin,fake,m,b,8,4,15w,,ttft_ms,ms,2,"));
		free(out);
	}
	h = eb_test_db_open(eb_db);
	/* the starting state is kept with the run */
	ck_assert_double_eq(eb_test_q(h, "SELECT json_extract(env_json,'$.modes_start.nvpmodel') "
				      "FROM runs"), 3);
	ck_assert_double_eq(eb_test_q(h, "SELECT json_extract(env_json,"
				      "'$.modes_start.power_limit_w[0]') FROM runs"), 250);
	sqlite3_close(h);
}
END_TEST

/* A cpufreq mode with a read-back of its own (a file and its text) besides the preset's. */
START_TEST(cpufreq_mode_with_file_verify)
{
	char *out = NULL, text[8192], gen[4096], b[64];

	eb_setup("modes-cpufreq", 1);
	eb_test_data("modes/gen.sh", gen, sizeof(gen));
	snprintf(text, sizeof(text),
		 "{ \"name\": \"cpufreq\",\n"
		 "  \"device\": { \"name\": \"pc\", \"modes\": [\n"
		 "    { \"id\": \"save\", \"cpufreq\": { \"governor\": \"powersave\" }, \"settle_s\": 0,\n"
		 "      \"verify\": { \"file\": \"/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor\",\n"
		 "                  \"expect\": \"powersave\" } } ] },\n"
		 "  \"power\": { \"sysfs_root\": \"%s/sys\" },\n"
		 "  \"targets\": [ { \"id\": \"fake\", \"adapter\": \"exec\", \"options\": {\n"
		 "    \"argv\": [\"%s\", \"{max_tokens}\"], \"stream\": \"bytes\" } } ],\n"
		 "  \"models\": [ { \"id\": \"m\", \"variants\": [ { \"quant\": \"a\", \"model_name\": \"a\" } ] } ],\n"
		 "  \"workloads\": { \"latency\": { \"prompt_tokens\": [8], \"gen_tokens\": 4,\n"
		 "                                \"warmup\": 0, \"repetitions\": 1 } } }\n",
		 eb_dir, gen);
	eb_put(eb_cfg, text);
	out = eb_run_expect(0, 0);
	ck_assert_ptr_nonnull(strstr(out, "cpu1/cpufreq/scaling_governor <- powersave\n"));
	ck_assert_ptr_nonnull(strstr(out, "cpu1/cpufreq/scaling_governor <- schedutil\n"));
	free(out);
	ck_assert_str_eq(eb_cpu(1, "scaling_governor", b, sizeof(b)), "schedutil");
	ck_assert_str_eq(eb_cpu(1, "scaling_max_freq", b, sizeof(b)), "2201600");
}
END_TEST

START_TEST(verify_mismatch_fails_the_group_and_restores)
{
	char *out = NULL, *log, *e;
	sqlite3 *h;

	eb_setup("modes-mismatch", 1);
	setenv("EB_MODES_IGNORE", "2", 1); /* this board has no mode 2: it stays in maxn's 0 */
	out = eb_run_expect(1, 0);
	ck_assert_ptr_nonnull(strstr(out, "cell fake/m/b/latency/p8-g4@15w failed: mode '15w': "
					  "'nvpmodel -q' reads back mode 0, not the 2 set"));
	free(out);
	h = eb_test_db_open(eb_db);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='ok' AND "
				      "key LIKE '%%@maxn'"), 2);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='failed' AND "
				      "key LIKE '%%@15w'"), 2);
	/* the group's cells never ran */
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM requests r JOIN cells c ON "
				      "c.id=r.cell_id WHERE c.key LIKE '%%@15w'"), 0);
	e = eb_test_qs(h, "SELECT group_concat(DISTINCT error) FROM cells WHERE status='failed'");
	ck_assert_str_eq(e, "mode '15w': 'nvpmodel -q' reads back mode 0, not the 2 set");
	free(e);
	sqlite3_close(h);
	/* the mode was tried once for the group, and the start came back all the same */
	log = eb_get(eb_log);
	ck_assert_ptr_null(strstr(strstr(log, "nvpmodel -m 2\n") + 1, "nvpmodel -m 2\n"));
	ck_assert_ptr_nonnull(strstr(log, "nvpmodel -m 3\nnvpmodel -q\njetson_clocks --restore\n"));
	free(log);
	eb_assert_start_state();
}
END_TEST

/*
 * A mode program that never returns (nvpmodel hung setting 15w): past
 * device.mode_timeout_s its group is stopped, the mode's cells fail saying so, the run
 * goes on and restores the start.
 */
START_TEST(hung_mode_program_is_stopped)
{
	char *out = NULL, *cfg, *e;
	sqlite3 *h;
	uint64_t t0;

	eb_setup("modes-hung", 1);
	cfg = eb_get(eb_cfg);
	{
		const char *at = strstr(cfg, "\"name\": \"orin\",");
		char text[8192];

		ck_assert_ptr_nonnull(at);
		snprintf(text, sizeof(text), "%.*s\"name\": \"orin\", \"mode_timeout_s\": 1,%s",
			 (int)(at - cfg), cfg, at + strlen("\"name\": \"orin\","));
		eb_put(eb_cfg, text);
	}
	free(cfg);
	setenv("EB_MODES_HANG", "2", 1);
	t0 = eb_clock_ns();
	out = eb_run_expect(1, 0);
	unsetenv("EB_MODES_HANG");
	ck_assert_msg((eb_clock_ns() - t0) / 1e9 < 60, "took %.1f s: %s", (eb_clock_ns() - t0) / 1e9,
		      out);
	free(out);
	h = eb_test_db_open(eb_db);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='ok' AND "
				      "key LIKE '%%@maxn'"), 2);
	e = eb_test_qs(h, "SELECT group_concat(DISTINCT error) FROM cells WHERE status='failed'");
	ck_assert_msg(strstr(e, "mode '15w': cannot run 'nvpmodel -m 2': 'nvpmodel' did not "
				"finish in 1 s"),
		      "%s", e);
	free(e);
	sqlite3_close(h);
	eb_assert_start_state();
}
END_TEST

START_TEST(failing_cells_still_restore)
{
	char *out = NULL;

	eb_setup("modes-cellfail", 1);
	setenv("EB_MODES_FAIL_IN", "0", 1); /* gen.sh fails while nvpmodel is in mode 0 */
	out = eb_run_expect(1, 0);
	ck_assert_ptr_nonnull(strstr(out, "cell fake/m/a/latency/p8-g4@maxn failed"));
	free(out);
	eb_assert_log_then_start(eb_full_log);
}
END_TEST

/* Waits until the fakes' log shows `line`, while edgebench (p) runs. */
static void eb_start_wait_log(struct eb_proc *p, const char *line)
{
	for (int i = 0; i < 1200; i++) {
		int st;

		usleep(25000);
		if (access(eb_log, F_OK) == 0) {
			char *log = eb_get(eb_log);
			int seen = strstr(log, line) != NULL;

			free(log);
			if (seen)
				return;
		}
		ck_assert_msg(eb_proc_poll(p, &st) == 0, "edgebench ended early (%d)", st);
	}
	ck_abort_msg("the fakes never saw '%s'", line);
}

/* Starts `edgebench run` in the background and waits until the fakes' log shows `line`. */
static void eb_start_until(struct eb_proc *p, const char *line)
{
	const char *argv[] = { EB_TEST_BIN, "run", eb_cfg, "--db", eb_db, "--quiet", NULL };
	struct eb_err err;

	ck_assert_msg(eb_proc_start(p, argv, NULL, EB_PROC_NULL_IN | EB_PROC_NULL_OUT, &err) == 0,
		      "%s", err.msg);
	eb_start_wait_log(p, line);
}

START_TEST(sigint_restores_the_starting_mode)
{
	struct eb_proc p;
	sqlite3 *h;

	eb_setup("modes-sigint", 20);
	setenv("EB_MODES_SLOW", "0.2", 1); /* 20 requests of 0.2 s in each cell */
	eb_start_until(&p, "jetson_clocks \n");
	ck_assert_int_eq(eb_proc_kill(&p, SIGINT), 0);
	ck_assert_int_eq(eb_proc_wait(&p), 3);
	/* maxn was left at once for the starting state: 15w never set */
	eb_assert_log_then_start(EB_LOG_START EB_LOG_MAXN EB_LOG_END);
	h = eb_test_db_open(eb_db);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM runs WHERE status='interrupted'"), 1);
	sqlite3_close(h);
}
END_TEST

/*
 * A second SIGINT ends edgebench in its handler (or, where the handler lets the run
 * finish storing, the run's own exit path restores): either way the device ends as it
 * started, through the restore registered with eb_cleanup.
 */
START_TEST(second_sigint_still_restores)
{
	struct eb_proc p;
	char *log, *first;
	int rc;

	eb_setup("modes-sigint2", 20);
	setenv("EB_MODES_SLOW", "0.2", 1);
	setenv("EB_MODES_SLOW_RESTORE", "1", 1);
	eb_start_until(&p, "jetson_clocks \n");
	ck_assert_int_eq(eb_proc_kill(&p, SIGINT), 0);
	/* the second while the run's own restore waits on nvidia-smi */
	eb_start_wait_log(&p, "nvidia-smi -i 0 -pl 250\n");
	ck_assert_int_eq(eb_proc_kill(&p, SIGINT), 0);
	rc = eb_proc_wait(&p);
	/* 130: the handler restored and ended the process; 3: it restored and let the run
	 * finish (a handler that ends only at a third signal) */
	ck_assert_msg(rc == 128 + SIGINT || rc == 3, "exit %d", rc);
	usleep(1500000); /* the first, orphaned nvidia-smi finishes too */
	eb_assert_start_state();
	log = eb_get(eb_log);
	first = strstr(log, "nvidia-smi -i 0 -pl 250\n");
	ck_assert_ptr_nonnull(first);
	/* the restore ran again from the handler, all of it */
	ck_assert_ptr_nonnull(strstr(first + 1, "nvidia-smi -i 0 -pl 250\nnvpmodel -m 3\n"));
	ck_assert_ptr_nonnull(strstr(first + 1, "jetson_clocks --restore\n"));
	free(log);
}
END_TEST

START_TEST(sigkill_then_resume_sets_and_restores)
{
	struct eb_proc p;
	char *out = NULL, *log, *tail, *t, pth[4400];
	size_t before;
	sqlite3 *h;

	eb_setup("modes-kill", 3);
	setenv("EB_MODES_SLOW", "0.2", 1);
	/* killed in the 15w group: the device is left at mode 2 and 100 W */
	eb_start_until(&p, "nvidia-smi -pl 100\n"
			   "nvidia-smi --query-gpu=power.limit --format=csv,noheader,nounits\n");
	ck_assert_int_eq(eb_proc_kill(&p, SIGKILL), 0);
	ck_assert_int_eq(eb_proc_wait(&p), 128 + SIGKILL);
	/* a fake the killed process had started outlives it: let it finish its line */
	usleep(300000);
	snprintf(pth, sizeof(pth), "%s/state/nvpmodel", eb_dir);
	t = eb_get(pth);
	ck_assert_str_eq(t, "2\n");
	free(t);
	log = eb_get(eb_log);
	before = strlen(log);
	free(log);

	unsetenv("EB_MODES_SLOW");
	out = eb_run_expect(0, 1);
	free(out);
	log = eb_get(eb_log);
	tail = log + before;
	/* the state read before the kill is the one restored: nothing is read or stored again,
	 * the pending 15w cells get their mode set and verified, then the start comes back:
	 * the full run's log from 15w on */
	ck_assert_str_eq(tail, strstr(eb_full_log, "nvpmodel -m 2\n"));
	free(log);
	eb_assert_start_state();
	h = eb_test_db_open(eb_db);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='ok'"), 4);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM runs WHERE status='ok'"), 1);
	sqlite3_close(h);
}
END_TEST

/* Adds `extra` (JSON members, comma-led) to the config eb_setup wrote, before its last '}'. */
static void eb_config_add(const char *extra)
{
	char *text = eb_get(eb_cfg), *end = strrchr(text, '}');
	struct eb_buf b;

	ck_assert_ptr_nonnull(end);
	eb_buf_init(&b, 0);
	eb_buf_add(&b, text, (size_t)(end - text));
	eb_buf_addf(&b, "%s }\n", extra);
	eb_put(eb_cfg, b.buf);
	eb_buf_release(&b);
	free(text);
}

/* The keys of the plan in run order, as `run --dry-run` lists them, space-separated. */
static char *eb_plan_keys(void)
{
	const char *argv[] = { "edgebench", "run", eb_cfg, "--dry-run", NULL };
	char *out = NULL, *p, *line;
	struct eb_buf b;

	ck_assert_int_eq(eb_test_run(argv, &out), 0);
	eb_buf_init(&b, 0);
	for (p = out; (line = strstr(p, "  fake/")) != NULL; p = line + 2) {
		size_t n = strcspn(line + 2, " ");

		eb_buf_addf(&b, "%s%.*s", b.len ? " " : "", (int)n, line + 2);
	}
	free(out);
	return eb_buf_detach(&b, NULL);
}

START_TEST(repeats_back_to_back_or_interleaved)
{
	char *keys;

	eb_setup("modes-order-repeat", 1);
	eb_config_add(", \"repeat\": 2");
	keys = eb_plan_keys();
	ck_assert_str_eq(keys, "fake/m/a/latency/p8-g4@maxn#1 fake/m/a/latency/p8-g4@maxn#2 "
			       "fake/m/b/latency/p8-g4@maxn#1 fake/m/b/latency/p8-g4@maxn#2 "
			       "fake/m/a/latency/p8-g4@15w#1 fake/m/a/latency/p8-g4@15w#2 "
			       "fake/m/b/latency/p8-g4@15w#1 fake/m/b/latency/p8-g4@15w#2");
	free(keys);
	eb_setup("modes-order-interleave", 1);
	eb_config_add(", \"repeat\": 2, \"interleave\": true");
	keys = eb_plan_keys();
	ck_assert_str_eq(keys, "fake/m/a/latency/p8-g4@maxn#1 fake/m/b/latency/p8-g4@maxn#1 "
			       "fake/m/a/latency/p8-g4@15w#1 fake/m/b/latency/p8-g4@15w#1 "
			       "fake/m/a/latency/p8-g4@maxn#2 fake/m/b/latency/p8-g4@maxn#2 "
			       "fake/m/a/latency/p8-g4@15w#2 fake/m/b/latency/p8-g4@15w#2");
	free(keys);
}
END_TEST

/* The value of csv column `col` (0-based) in the line of `csv` that starts with `prefix`. */
static double eb_csv_field(const char *csv, const char *prefix, int col)
{
	const char *p = strstr(csv, prefix);
	double v;

	ck_assert_msg(p != NULL, "no line '%s' in %s", prefix, csv);
	for (int i = 0; i < col; i++) {
		p = strchr(p, ',');
		ck_assert_ptr_nonnull(p);
		p++;
	}
	ck_assert_int_eq(sscanf(p, "%lf", &v), 1);
	return v;
}

START_TEST(two_modes_interleaved_repeats_and_their_statistics)
{
	char *out = NULL, *log, *p;
	int n_set = 0;
	double x[3], mean, sd, t;
	sqlite3 *h;

	eb_setup("modes-repeat", 3);
	eb_config_add(", \"repeat\": 3, \"interleave\": true, \"repeat_cooldown_s\": 0.1");
	out = eb_run_expect(0, 0);
	free(out);
	/* each mode set once per pass: three times each, and the start back once at the end */
	log = eb_get(eb_log);
	for (p = log; (p = strstr(p, "nvpmodel -m 0\n")) != NULL; p++)
		n_set++;
	ck_assert_int_eq(n_set, 3);
	ck_assert_int_eq(strcmp(log + strlen(log) - strlen("nvpmodel -m 3\nnvpmodel -q\n"
							   "jetson_clocks --restore\n"),
				"nvpmodel -m 3\nnvpmodel -q\njetson_clocks --restore\n"), 0);
	free(log);
	eb_assert_start_state();

	h = eb_test_db_open(eb_db);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='ok'"), 12);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE json_extract("
				      "params_json,'$.repeat')=3 AND key LIKE '%%#3'"), 4);
	/* the per-repeat medians of b in 15w, from the metrics table */
	for (int r = 0; r < 3; r++)
		x[r] = eb_test_q(h, "SELECT m.median FROM metrics m JOIN cells c ON c.id=m.cell_id "
				    "WHERE c.key='fake/m/b/latency/p8-g4@15w#%d' AND m.name='ttft_ms'",
				 r + 1);
	sqlite3_close(h);
	mean = (x[0] + x[1] + x[2]) / 3;
	sd = sqrt(((x[0] - mean) * (x[0] - mean) + (x[1] - mean) * (x[1] - mean) +
		   (x[2] - mean) * (x[2] - mean)) / 2);
	t = eb_stats_t975(2);
	{
		const char *argv[] = { "edgebench", "report", "--db", eb_db, "--layout", "repeats",
				       "--format", "csv", NULL };
		const char *row = "\n1,orin,fake,m,b,8,4,15w,ttft_ms,ms,median,3,";

		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		eb_assert_starts(out, "run,device,target,model,quant,prompt_tokens,gen_tokens,mode,"
				      "metric,unit,per_repeat,repeats,mean,ci_lo,ci_hi,stddev,cv,min,"
				      "max\n");
		ck_assert_double_eq_tol(eb_csv_field(out, row, 12), mean, 1e-9 * mean);
		ck_assert_double_eq_tol(eb_csv_field(out, row, 13), mean - t * sd / sqrt(3), 1e-9 * mean);
		ck_assert_double_eq_tol(eb_csv_field(out, row, 14), mean + t * sd / sqrt(3), 1e-9 * mean);
		ck_assert_double_eq_tol(eb_csv_field(out, row, 15), sd, 1e-9 * mean);
		ck_assert_double_eq_tol(eb_csv_field(out, row, 16), sd / mean, 1e-9);
		free(out);
	}
}
END_TEST

/* A thermal zone in eb_dir's fixture tree at 40 C with a passive trip point at trip_c. */
static void eb_thermal_fixture(int trip_c)
{
	char p[4400], text[64];
	struct eb_err err;

	snprintf(p, sizeof(p), "%s/state", eb_dir);
	ck_assert_int_eq(eb_mkdirs(p, &err), 0);
	snprintf(p, sizeof(p), "%s/sys/sys/class/thermal/thermal_zone0", eb_dir);
	ck_assert_int_eq(eb_mkdirs(p, &err), 0);
	snprintf(p, sizeof(p), "%s/sys/sys/class/thermal/thermal_zone0/type", eb_dir);
	eb_put(p, "cpu-thermal\n");
	snprintf(p, sizeof(p), "%s/sys/sys/class/thermal/thermal_zone0/temp", eb_dir);
	eb_put(p, "40000\n");
	snprintf(p, sizeof(p), "%s/sys/sys/class/thermal/thermal_zone0/trip_point_0_type", eb_dir);
	eb_put(p, "passive\n");
	snprintf(p, sizeof(p), "%s/sys/sys/class/thermal/thermal_zone0/trip_point_0_temp", eb_dir);
	snprintf(text, sizeof(text), "%d000\n", trip_c);
	eb_put(p, text);
}

/*
 * A config of sustained cells on slowing.sh (decode 33 tok/s falling to 12.5 over its
 * first six requests, then steady; the fixture's zone rising 5 C a request): `device` and
 * `extra` (comma-led root members) are spliced in; one variant, or two with `two`.
 */
static void eb_sustained_config(double duration_s, double window_s, double steady_pct,
				const char *device, const char *extra, int two)
{
	char text[8192], prog[4096];

	eb_test_data("modes/slowing.sh", prog, sizeof(prog));
	snprintf(eb_db, sizeof(eb_db), "%s/o.db", eb_dir);
	snprintf(eb_cfg, sizeof(eb_cfg), "%s/sustained.json", eb_dir);
	snprintf(text, sizeof(text),
		 "{ \"name\": \"sustained\", \"power\": { \"sysfs_root\": \"%s/sys\", \"idle_s\": 0 },%s\n"
		 "  \"targets\": [ { \"id\": \"fake\", \"adapter\": \"exec\", \"options\": {\n"
		 "    \"argv\": [\"%s\", \"{max_tokens}\"], \"stream\": \"bytes\",\n"
		 "    \"tokens_regex\": \"^generated ([0-9]+) tokens\",\n"
		 "    \"env\": { \"EB_SUSTAIN_STATE\": \"%s/state\", \"EB_SUSTAIN_SYSFS\": \"%s/sys\" } } } ],\n"
		 "  \"models\": [ { \"id\": \"m\", \"variants\": [ { \"quant\": \"a\", \"model_name\": \"a\" }%s ] } ],\n"
		 "  \"workloads\": { \"latency\": { \"prompt_tokens\": [8], \"gen_tokens\": 5,\n"
		 "    \"warmup\": 0, \"repetitions\": 1, \"duration_s\": %g, \"window_s\": %g,\n"
		 "    \"steady_pct\": %g } }%s }\n",
		 eb_dir, device, prog, eb_dir, eb_dir,
		 two ? ", { \"quant\": \"b\", \"model_name\": \"b\" }" : "", duration_s, window_s,
		 steady_pct, extra);
	eb_put(eb_cfg, text);
}

/* One sustained cell in a fresh directory, its zone's trip point at trip_c; run, exit 0. */
static void eb_sustained_run(const char *name, int trip_c, double duration_s)
{
	eb_test_tmpdir(name, eb_dir, sizeof(eb_dir));
	eb_thermal_fixture(trip_c);
	char meter[4096], sensors[4400];

	/* a meter reading 7.5 W throughout: each window's power is that */
	eb_test_data("bin/fake-meter", meter, sizeof(meter));
	snprintf(sensors, sizeof(sensors),
		 " \"sensors\": [ { \"kind\": \"cmd\", \"options\": { \"argv\": [\"%s\", "
		 "\"--interval\", \"20\", \"--loop\", \"7.5\"] } } ],", meter);
	/* 10%: the fake's sleeps stretch on a loaded machine (a full ctest -j2 beside other
	 * builds); its fall, 33 to 12.5 tok/s, is far beyond that */
	eb_sustained_config(duration_s, 0.4, 10, sensors, "", 0);
	free(eb_run_expect(0, 0));
}

START_TEST(sustained_cell_drift_steady_state_and_throttle)
{
	double drift, first, last, steady, wins, n, t_end;
	sqlite3 *h;
	char *w;

	eb_sustained_run("sustain-hot", 60, 3.2);
	h = eb_test_db_open(eb_db);
	/* requests went on past the one repetition until the 3.2 s were spent */
	n = eb_test_q(h, "SELECT count(*) FROM requests WHERE warmup=0");
	ck_assert_msg(n >= 8, "%g requests", n);
	t_end = eb_test_q(h, "SELECT duration_s FROM cells");
	ck_assert_msg(t_end >= 3.2, "the cell took %g s", t_end);
	/* drift: the stored figure is the series' last window against its first, and the fake
	 * slowed from 33 to 12.5 tok/s */
	wins = eb_test_q(h, "SELECT json_array_length(backend_json,'$.sustained.windows') FROM cells");
	ck_assert(wins >= 7);
	/* the first and the last window with a decode rate (under load the last window can end
	 * before any request does: its rate is null, as methodology.md says) */
	first = eb_test_q(h, "SELECT json_extract(w.value,'$.decode_tps') FROM cells, json_each("
			     "backend_json,'$.sustained.windows') w WHERE json_extract(w.value,"
			     "'$.decode_tps') IS NOT NULL ORDER BY w.key LIMIT 1");
	last = eb_test_q(h, "SELECT json_extract(w.value,'$.decode_tps') FROM cells, json_each("
			    "backend_json,'$.sustained.windows') w WHERE json_extract(w.value,"
			    "'$.decode_tps') IS NOT NULL ORDER BY w.key DESC LIMIT 1");
	drift = eb_test_q(h, "SELECT mean FROM metrics WHERE name='decode_drift_pct'");
	ck_assert_double_eq_tol(drift, (last - first) / first * 100, 1e-9);
	ck_assert_msg(drift < -30, "drift %g%%", drift);
	/* steady once the fake stopped slowing (its sixth request, about 1.4 s in), and the
	 * steady decode rate is the settled 12.5 tok/s less the sleeps' own overhead */
	steady = eb_test_q(h, "SELECT mean FROM metrics WHERE name='steady_start_s'");
	ck_assert_double_eq_tol(steady, 0.4 * eb_test_q(h, "SELECT json_extract(backend_json,"
							   "'$.sustained.steady_window') FROM cells"),
				1e-9);
	ck_assert_msg(steady >= 0.8 && steady <= 2.4, "steady from %g s", steady);
	ck_assert_msg(eb_test_q(h, "SELECT median FROM metrics WHERE name='decode_tps_steady'") > 9 &&
		      eb_test_q(h, "SELECT median FROM metrics WHERE name='decode_tps_steady'") <= 12.5,
		      "steady decode %g tok/s",
		      eb_test_q(h, "SELECT median FROM metrics WHERE name='decode_tps_steady'"));
	ck_assert(eb_test_q(h, "SELECT n FROM metrics WHERE name='ttft_ms_steady'") >= 3);
	/* the zone passed its 60 C trip point: flagged once, with the reason as a warning */
	ck_assert_double_eq(eb_test_q(h, "SELECT mean FROM metrics WHERE name='throttled'"), 1);
	ck_assert(eb_test_q(h, "SELECT mean FROM metrics WHERE name='temp_max_c'") >= 65);
	w = eb_test_qs(h, "SELECT warnings_json FROM cells");
	ck_assert_ptr_nonnull(strstr(w, "sustained: throttled: thermal zone cpu-thermal reached "));
	ck_assert_ptr_nonnull(strstr(w, "past its trip point 60 C\""));
	ck_assert_ptr_null(strstr(strstr(w, "past its trip point") + 1, "past its trip point"));
	ck_assert_ptr_nonnull(strstr(w, "sustained: the decode rate drifted -"));
	free(w);
	/* the meter's 7.5 W in every window (an energy over a time: within rounding) */
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells, json_each(backend_json,"
				      "'$.sustained.windows') w WHERE abs(json_extract(w.value,"
				      "'$.power_w') - 7.5) < 1e-9"), wins);
	eb_test_metrics_registered(h);
	sqlite3_close(h);
}
END_TEST

START_TEST(sustained_cell_below_trip_point_not_throttled)
{
	sqlite3 *h;
	char *w;

	eb_sustained_run("sustain-cool", 150, 1.0);
	h = eb_test_db_open(eb_db);
	ck_assert_double_eq(eb_test_q(h, "SELECT mean FROM metrics WHERE name='throttled'"), 0);
	w = eb_test_qs(h, "SELECT warnings_json FROM cells");
	ck_assert_ptr_null(strstr(w, "throttled"));
	free(w);
	sqlite3_close(h);
}
END_TEST

/*
 * The whole case: two modes x two variants, sustained cells, repeat 2 interleaved,
 * on the fakes and fixtures: modes set per pass and restored in order, steady figures,
 * drift and throttle flags stored, reports grouped by mode and repeat.
 */
START_TEST(two_modes_two_variants_sustained_repeated)
{
	char *out = NULL, *log, meter[4096], device[8192];
	sqlite3 *h;

	eb_setup("modes-all", 1);
	eb_thermal_fixture(60);
	/* a meter at 7.5 W: energy per token for the figure against mode */
	eb_test_data("bin/fake-meter", meter, sizeof(meter));
	snprintf(device, sizeof(device),
		 " \"device\": { \"name\": \"orin\", \"modes\": [\n"
		 "    { \"id\": \"maxn\", \"nvpmodel\": 0, \"jetson_clocks\": true, \"settle_s\": 0 },\n"
		 "    { \"id\": \"15w\", \"nvpmodel\": 2, \"power_limit_w\": 100, \"settle_s\": 0,\n"
		 "      \"cpufreq\": { \"governor\": \"powersave\", \"max_khz\": 1200000 } } ] },\n"
		 " \"sensors\": [ { \"kind\": \"cmd\", \"options\": { \"argv\": [\"%s\", "
		 "\"--interval\", \"20\", \"--loop\", \"7.5\"] } } ],",
		 meter);
	/* 10%, as in sustained_cell_drift_steady_state_and_throttle: a busy machine */
	eb_sustained_config(2.0, 0.4, 10, device, ", \"repeat\": 2, \"interleave\": true", 1);
	free(eb_run_expect(0, 0));
	log = eb_get(eb_log);
	/* pass 2 enters maxn from 15w: its power limit (and cpufreq) back to the start first */
	ck_assert_str_eq(log, EB_LOG_START EB_LOG_MAXN EB_LOG_15W "nvidia-smi -i 0 -pl 250\n"
			      EB_LOG_MAXN EB_LOG_15W EB_LOG_END);
	free(log);
	eb_assert_start_state();

	h = eb_test_db_open(eb_db);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM cells WHERE status='ok'"), 8);
	/* every cell ran its 2 s and stored drift and the throttle flag */
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM metrics WHERE name='throttled'"), 8);
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM metrics WHERE name="
				      "'decode_drift_pct'"), 8);
	/* the zone passed its trip point during the first cell and stayed past it */
	ck_assert_double_eq(eb_test_q(h, "SELECT count(*) FROM metrics WHERE name='throttled' AND "
				      "mean=1"), 8);
	/* the fake is steady after its sixth request: the later cells find a steady state */
	ck_assert(eb_test_q(h, "SELECT count(*) FROM metrics WHERE name='decode_tps_steady'") >= 4);
	eb_test_metrics_registered(h);
	sqlite3_close(h);
	{
		const char *cells[] = { "edgebench", "report", "--db", eb_db, "--format", "csv", NULL };
		const char *rep[] = { "edgebench", "report", "--db", eb_db, "--layout", "repeats",
				      "--format", "csv", "--metric", "decode_tps", NULL };

		ck_assert_int_eq(eb_test_run(cells, &out), 0);
		eb_assert_starts(out, "run,device,target,model,quant,prompt_tokens,gen_tokens,mode,repeat,"
				      "status,");
		ck_assert_ptr_nonnull(strstr(out, "\n1,orin,fake,m,b,8,5,15w,2,ok,"));
		free(out);
		ck_assert_int_eq(eb_test_run(rep, &out), 0);
		ck_assert_ptr_nonnull(strstr(out, "\n1,orin,fake,m,a,8,5,15w,decode_tps,tok/s,median,2,"));
		ck_assert_ptr_nonnull(strstr(out, "\n1,orin,fake,m,b,8,5,maxn,decode_tps,tok/s,median,2,"));
		free(out);
	}
	/* the decode rate over time: a line per cell, its points the series' window means */
	{
		char fig[4400], dat[4400], *d, *p;
		const char *argv[] = { "edgebench", "plot", "--db", eb_db, "--kind", "sustained",
				       "--out", fig, NULL };
		double t, v, want;
		int blocks = 0;

		snprintf(fig, sizeof(fig), "%s/sustained.svg", eb_dir);
		snprintf(dat, sizeof(dat), "%s/sustained.dat", eb_dir);
		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		free(out);
		d = eb_get(dat);
		for (p = d; (p = strstr(p, "# series ")) != NULL; p++)
			blocks++;
		ck_assert_int_eq(blocks, 8);
		p = strstr(d, "# series 0: cell 1: t_s decode_tps\n");
		ck_assert_ptr_nonnull(p);
		ck_assert_int_eq(sscanf(strchr(p, '\n') + 1, "%lf %lf", &t, &v), 2);
		h = eb_test_db_open(eb_db);
		want = eb_test_q(h, "SELECT json_extract(backend_json,'$.sustained.windows[0]."
				    "decode_tps') FROM cells WHERE id=1");
		sqlite3_close(h);
		ck_assert_double_eq_tol(t, 0.2, 1e-9); /* the middle of the first 0.4 s window */
		ck_assert_double_eq_tol(v, want, 1e-8 * want);
		free(d);
	}	/* against the mode: a block per variant, a row per mode in the order set, the decode
	 * rate the mean of the two repeats' medians */
	{
		char fig[4400], dat[4400], gp[4400], *d, *g, *p;
		const char *argv[] = { "edgebench", "plot", "--db", eb_db, "--kind", "modes",
				       "--out", fig, NULL };
		static const char *const quants[] = { "a", "b" }, *const modes[] = { "maxn", "15w" };

		snprintf(fig, sizeof(fig), "%s/modes.svg", eb_dir);
		snprintf(dat, sizeof(dat), "%s/modes.dat", eb_dir);
		snprintf(gp, sizeof(gp), "%s/modes.gp", eb_dir);
		ck_assert_int_eq(eb_test_run(argv, &out), 0);
		free(out);
		g = eb_get(gp);
		ck_assert_ptr_nonnull(strstr(g, "set xtics ('maxn' 0, '15w' 1)"));
		free(g);
		d = eb_get(dat);
		h = eb_test_db_open(eb_db);
		p = d;
		for (int q = 0; q < 2; q++) {
			char head[128];

			snprintf(head, sizeof(head), "# series %d: mode_index decode_tps tokens_per_j\n",
				 q);
			p = strstr(p, head);
			ck_assert_msg(p != NULL, "%s", d);
			p = strchr(p, '\n') + 1;
			for (int m = 0; m < 2; m++) {
				double want, v, tpj;
				int idx;

				ck_assert_int_eq(sscanf(p, "%d %lf %lf", &idx, &v, &tpj), 3);
				ck_assert_int_eq(idx, m);
				want = eb_test_q(h, "SELECT avg(m.median) FROM metrics m JOIN cells c ON "
						    "c.id=m.cell_id WHERE m.name='decode_tps' AND "
						    "c.quant='%s' AND c.key LIKE '%%@%s#%%'",
						 quants[q], modes[m]);
				ck_assert_double_eq_tol(v, want, 1e-8 * want);
				want = eb_test_q(h, "SELECT avg(1.0 / m.median) FROM metrics m JOIN cells c "
						    "ON c.id=m.cell_id WHERE m.name='j_per_token' AND "
						    "c.quant='%s' AND c.key LIKE '%%@%s#%%'",
						 quants[q], modes[m]);
				ck_assert_msg(want > 0, "no j_per_token stored");
				ck_assert_double_eq_tol(tpj, want, 1e-8 * want);
				p = strchr(p, '\n') + 1;
			}
		}
		sqlite3_close(h);
		free(d);
	}
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("modes");
	TCase *tc = tcase_create("modes");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, two_modes_set_verified_restored_in_order);
	tcase_add_test(tc, cpufreq_mode_with_file_verify);
	tcase_add_test(tc, verify_mismatch_fails_the_group_and_restores);
	tcase_add_test(tc, failing_cells_still_restore);
	tcase_add_test(tc, hung_mode_program_is_stopped);
	tcase_add_test(tc, sigint_restores_the_starting_mode);
	tcase_add_test(tc, second_sigint_still_restores);
	tcase_add_test(tc, sigkill_then_resume_sets_and_restores);
	tcase_add_test(tc, repeats_back_to_back_or_interleaved);
	tcase_add_test(tc, two_modes_interleaved_repeats_and_their_statistics);
	tcase_add_test(tc, sustained_cell_drift_steady_state_and_throttle);
	tcase_add_test(tc, sustained_cell_below_trip_point_not_throttled);
	tcase_add_test(tc, two_modes_two_variants_sustained_repeated);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
