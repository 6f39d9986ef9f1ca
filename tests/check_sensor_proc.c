/* ctest: labels=unit timeout=60 */
/* check_sensor_proc.c: a server process's resident memory by pid or name, from a real child and a fixture /proc. */
#include "sensortest.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define EB_CHILD_MIB 24

/* A child that touches EB_CHILD_MIB MiB, names itself `comm` and waits to be killed. */
static pid_t eb_child(const char *comm)
{
	int fds[2];
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		size_t n = (size_t)EB_CHILD_MIB << 20;
		volatile char *p = malloc(n);

		for (size_t i = 0; p && i < n; i += 4096)
			p[i] = 1;
		prctl(PR_SET_NAME, comm, 0, 0, 0);
		(void)!write(fds[1], "r", 1);
		for (;;)
			pause();
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &c, 1), 1);
	close(fds[0]);
	return pid;
}

static void eb_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* VmRSS of pid in bytes, read here independently of the sensor. */
static double eb_vmrss(pid_t pid)
{
	return eb_test_vmrss_kb((int)pid) * 1024;
}

START_TEST(test_pid_and_name)
{
	pid_t pid = eb_child("ebproc-srv");
	struct eb_sensor_reading r[4];
	char opts[128];
	struct eb_sensor *s;
	struct eb_err err;
	uint64_t t = eb_clock_ns();
	size_t n;
	json_t *d;

	snprintf(opts, sizeof(opts), "{\"pid\": %d}", (int)pid);
	s = eb_st_open("proc", opts, NULL, 100);
	ck_assert_int_eq(eb_sensor_read(s, &t, r, 4, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(r[0].rail, "rss");
	ck_assert_uint_eq(r[0].flags, EB_RAIL_BYTES);
	/* the child is idle: the same figure /proc gives us, and at least what it touched */
	ck_assert_double_eq(r[0].value, eb_vmrss(pid));
	ck_assert_double_ge(r[0].value, (double)((size_t)EB_CHILD_MIB << 20));
	d = json_object();
	ck_assert_int_eq(eb_sensor_describe(s, d, &err), 0);
	ck_assert_str_eq(json_string_value(json_object_get(d, "comm")), "ebproc-srv");
	json_decref(d);
	eb_sensor_close(s);

	/* by name: the comm the child gave itself */
	s = eb_st_open("proc", "{\"process\": \"ebproc-srv\"}", NULL, 100);
	ck_assert_int_eq(eb_sensor_read(s, &t, r, 4, &n, &err), 0);
	ck_assert_double_eq(r[0].value, eb_vmrss(pid));
	/* the server goes away: the read fails saying so (the sampler stops this sensor) */
	eb_reap(pid);
	ck_assert_int_ne(eb_sensor_read(s, &t, r, 4, &n, &err), 0);
	ck_assert_msg(strstr(err.msg, "is gone") != NULL, "%s", err.msg);
	eb_sensor_close(s);
}
END_TEST

START_TEST(test_unavailable)
{
	pid_t a = eb_child("ebproc-twin"), b = eb_child("ebproc-twin");
	char why[512], want[256];
	json_t *o;

	o = json_pack("{s:s}", "process", "ebproc-twin");
	ck_assert_ptr_nonnull(eb_sensor_unavailable("proc", o, NULL, 100, why, sizeof(why)));
	ck_assert_msg(strstr(why, "2 processes are named 'ebproc-twin' (pids ") != NULL, "%s", why);
	snprintf(want, sizeof(want), "%d", (int)a);
	ck_assert_msg(strstr(why, want) != NULL, "%s", why);
	json_decref(o);
	eb_reap(a);
	eb_reap(b);

	o = json_pack("{s:s}", "process", "ebproc-none");
	ck_assert_ptr_nonnull(eb_sensor_unavailable("proc", o, NULL, 100, why, sizeof(why)));
	ck_assert_str_eq(why, "no process named 'ebproc-none' under '/proc' (is the server running?)");
	json_decref(o);

	o = json_object();
	ck_assert_ptr_nonnull(eb_sensor_unavailable("proc", o, NULL, 100, why, sizeof(why)));
	ck_assert_str_eq(why, "not configured: give options.pid or options.process (one of them)");
	json_decref(o);
}
END_TEST

/* A fixture /proc: an exact figure, and a zombie (no VmRSS) as an error. */
START_TEST(test_fixture_root)
{
	char dir[4096], p[4096];
	struct eb_sensor_reading r[4];
	struct eb_sensor *s;
	struct eb_err err;
	uint64_t t = 0;
	size_t n;
	const char *status = "Name:\tllama-server\nState:\tS (sleeping)\nVmHWM:\t  900000 kB\n"
			     "VmRSS:\t  812345 kB\nThreads:\t9\n";

	eb_test_tmpdir("sensor_proc", dir, sizeof(dir));
	snprintf(p, sizeof(p), "%s/proc/4242", dir);
	ck_assert_int_eq(eb_mkdirs(p, &err), 0);
	snprintf(p, sizeof(p), "%s/proc/4242/status", dir);
	ck_assert_int_eq(eb_write_file(p, status, strlen(status), &err), 0);
	snprintf(p, sizeof(p), "%s/proc/4242/comm", dir);
	ck_assert_int_eq(eb_write_file(p, "llama-server\n", 13, &err), 0);
	snprintf(p, sizeof(p), "{\"process\": \"llama-server\", \"root\": \"%s\"}", dir);
	s = eb_st_open("proc", p, NULL, 100);
	ck_assert_int_eq(eb_sensor_read(s, &t, r, 4, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_double_eq(r[0].value, 812345.0 * 1024);
	/* it became a zombie: no VmRSS line */
	snprintf(p, sizeof(p), "%s/proc/4242/status", dir);
	ck_assert_int_eq(eb_write_file(p, "Name:\tllama-server\nState:\tZ (zombie)\n", 36, &err), 0);
	ck_assert_int_eq(eb_sensor_read(s, &t, r, 4, &n, &err), EB_EIO);
	ck_assert_msg(strstr(err.msg, "process 4242 (llama-server) has no VmRSS") != NULL, "%s",
		      err.msg);
	eb_sensor_close(s);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("sensor_proc");
	TCase *tc = tcase_create("proc");

	tcase_add_test(tc, test_pid_and_name);
	tcase_add_test(tc, test_unavailable);
	tcase_add_test(tc, test_fixture_root);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
