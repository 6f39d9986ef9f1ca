/* ctest: labels=unit timeout=30 */
/* check_proc.c: the PATH search and the graceful stop every caller of base/proc.c shares. */
#include "eb_clock.h"
#include "eb_proc.h"
#include "eb_util.h"
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

START_TEST(find_program_in_path)
{
	char dir[4096], tool[4200], runme[4200], path[8300];
	char *saved = eb_xstrdup(getenv("PATH"));
	struct eb_err err;

	eb_test_tmpdir("proc-find", dir, sizeof(dir));
	snprintf(tool, sizeof(tool), "%s/tool", dir);
	snprintf(runme, sizeof(runme), "%s/runme", dir);
	ck_assert_int_eq(eb_write_file(tool, "#!/bin/sh\n", 10, &err), 0);
	ck_assert_int_eq(eb_write_file(runme, "#!/bin/sh\n", 10, &err), 0);
	ck_assert_int_eq(chmod(runme, 0755), 0);
	ck_assert_int_eq(chmod(tool, 0644), 0);

	ck_assert_int_eq(eb_proc_find_program(NULL), 0);
	ck_assert_int_eq(eb_proc_find_program(""), 0);
	/* later entries are searched; a file that is not executable does not count */
	snprintf(path, sizeof(path), "/nonexistent:%s", dir);
	setenv("PATH", path, 1);
	ck_assert_int_eq(eb_proc_find_program("runme"), 1);
	ck_assert_int_eq(eb_proc_find_program("tool"), 0);
	ck_assert_int_eq(eb_proc_find_program("no-such-program"), 0);
	ck_assert_int_eq(eb_proc_find_program("sh"), 0);
	/* with a '/' the path is taken as given, and errno says why not */
	ck_assert_int_eq(eb_proc_find_program(runme), 1);
	errno = 0;
	ck_assert_int_eq(eb_proc_find_program(tool), 0);
	ck_assert_int_eq(errno, EACCES);
	/* no PATH at all: /usr/bin:/bin */
	unsetenv("PATH");
	ck_assert_int_eq(eb_proc_find_program("sh"), 1);
	ck_assert_int_eq(eb_proc_find_program("runme"), 0);
	if (saved)
		setenv("PATH", saved, 1);
	free(saved);
}
END_TEST

/* A child that ends on SIGTERM is not waited for longer than it takes. */
START_TEST(stop_on_sigterm)
{
	const char *argv[] = { "sleep", "30", NULL };
	struct eb_proc p;
	struct eb_err err;
	uint64_t t0;
	int st = -1;

	ck_assert_msg(eb_proc_start(&p, argv, NULL, EB_PROC_NEW_PGRP, &err) == 0, "%s", err.msg);
	t0 = eb_clock_ns();
	eb_proc_stop(&p, 10000000000ull, &st);
	ck_assert_msg(eb_clock_ns() - t0 < 5000000000ull, "took %.3f s", (eb_clock_ns() - t0) / 1e9);
	ck_assert(WIFSIGNALED(st));
	ck_assert_int_eq(WTERMSIG(st), SIGTERM);
	ck_assert_int_eq(p.pid, -1);
	/* nothing runs any more: a second stop changes nothing */
	st = 12345;
	eb_proc_stop(&p, 1000000ull, &st);
	ck_assert_int_eq(st, 12345);
	ck_assert_int_eq(eb_proc_wait_until(&p, 0, &st), -1);
}
END_TEST

/* A child (and its group) that ignores SIGTERM gets SIGKILL once the grace period ends. */
START_TEST(stop_kills_after_grace)
{
	const char *argv[] = { "sh", "-c", "trap '' TERM; echo ready; exec sleep 30", NULL };
	struct eb_proc p;
	struct eb_err err;
	char buf[16];
	uint64_t t0, dt;
	int st = -1;

	ck_assert_msg(eb_proc_start(&p, argv, NULL, EB_PROC_NEW_PGRP | EB_PROC_PIPE_OUT, &err) == 0,
		      "%s", err.msg);
	/* the trap is set once it says so; SIGTERM before that would end it at once */
	ck_assert_int_eq((int)read(p.out_fd, buf, 6), 6);
	ck_assert_int_eq(memcmp(buf, "ready\n", 6), 0);
	t0 = eb_clock_ns();
	eb_proc_stop(&p, 300000000ull, &st);
	dt = eb_clock_ns() - t0;
	ck_assert_msg(dt >= 300000000ull && dt < 5000000000ull, "took %.3f s", dt / 1e9);
	ck_assert(WIFSIGNALED(st));
	ck_assert_int_eq(WTERMSIG(st), SIGKILL);
	ck_assert_int_eq(p.out_fd, -1); /* the pipes are closed too */
}
END_TEST

START_TEST(wait_until_deadline)
{
	const char *sleeper[] = { "sleep", "30", NULL };
	const char *three[] = { "sh", "-c", "exit 3", NULL };
	struct eb_proc p;
	struct eb_err err;
	uint64_t t0;
	int st = -1;

	ck_assert_int_eq(eb_proc_start(&p, three, NULL, 0, &err), 0);
	ck_assert_int_eq(eb_proc_wait_until(&p, eb_clock_ns() + 10000000000ull, &st), 1);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 3);
	ck_assert_int_eq(p.pid, -1);

	ck_assert_int_eq(eb_proc_start(&p, sleeper, NULL, 0, &err), 0);
	t0 = eb_clock_ns();
	ck_assert_int_eq(eb_proc_wait_until(&p, t0 + 50000000ull, &st), 0);
	ck_assert_uint_ge(eb_clock_ns() - t0, 50000000ull);
	ck_assert_int_gt(p.pid, 0);
	eb_proc_stop(&p, 5000000000ull, &st);
	ck_assert_int_eq(WTERMSIG(st), SIGTERM);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("proc");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, find_program_in_path);
	tcase_add_test(tc, stop_on_sigterm);
	tcase_add_test(tc, stop_kills_after_grace);
	tcase_add_test(tc, wait_until_deadline);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
