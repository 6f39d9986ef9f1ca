/* eb_proc.h: child processes from an argv (never a shell), modelled on git's run-command. */
#ifndef EB_PROC_H
#define EB_PROC_H

#include <stdint.h>
#include <sys/types.h>

#include "eb_err.h"

enum {
	EB_PROC_PIPE_OUT = 1 << 0, /* child's stdout readable from out_fd */
	EB_PROC_PIPE_ERR = 1 << 1, /* child's stderr readable from err_fd */
	EB_PROC_NULL_IN = 1 << 2,  /* child's stdin is /dev/null */
	EB_PROC_NULL_OUT = 1 << 3, /* child's stdout goes to /dev/null */
	EB_PROC_NULL_ERR = 1 << 4, /* child's stderr goes to /dev/null */
	EB_PROC_NEW_PGRP = 1 << 5, /* child leads a new process group (kill takes all) */
};

/* A running child. Fields are -1 when not in use. */
struct eb_proc {
	pid_t pid;
	int out_fd;
	int err_fd;
	unsigned flags;
};

/*
 * Starts argv[0] (searched in PATH when it has no '/') with argv, NULL-terminated.
 * `env_add` (NULL or NULL-terminated "NAME=value" list) is added to the environment.
 * On failure (including exec failure, reported through a pipe) returns EB_EIO with the
 * program name and errno text; nothing is left running.
 */
int eb_proc_start(struct eb_proc *p, const char *const *argv, const char *const *env_add,
		  unsigned flags, struct eb_err *err);

/* Waits for the child; returns its exit code, 128+signal when killed, or -1 on error. */
int eb_proc_wait(struct eb_proc *p);

/* Non-blocking wait: 1 and *status set when it ended, 0 while running, -1 on error. */
int eb_proc_poll(struct eb_proc *p, int *status);

/* Sends `sig` to the child (its whole group with EB_PROC_NEW_PGRP). */
int eb_proc_kill(struct eb_proc *p, int sig);

/*
 * Waits for the child until eb_clock_ns() reaches `deadline_ns` (0: no limit): 1 when it
 * ended, with *wstatus (may be NULL) set to waitpid's raw status (WIFSIGNALED tells a
 * signal from an exit code, which 128+signal cannot); 0 while it still runs at the
 * deadline; -1 when no child is running. A child that cannot be waited for any more
 * counts as ended with status 0.
 */
int eb_proc_wait_until(struct eb_proc *p, uint64_t deadline_ns, int *wstatus);

/*
 * The graceful stop: SIGTERM (to the whole group with EB_PROC_NEW_PGRP), up to
 * `grace_ns` for the child to exit, then SIGKILL; reaps it (*wstatus as for
 * eb_proc_wait_until; untouched when no child was running) and closes the pipes.
 */
void eb_proc_stop(struct eb_proc *p, uint64_t grace_ns, int *wstatus);

/* Closes pipe ends that are still open. Safe to call more than once. */
void eb_proc_release(struct eb_proc *p);

/*
 * 1 when `prog` can be started as eb_proc_start would: with a '/' when that file is
 * executable (errno says why not), without one when an executable `prog` is in a
 * directory of $PATH ("/usr/bin:/bin" when unset, "." for an empty entry). 0 otherwise,
 * and for NULL or "".
 */
int eb_proc_find_program(const char *prog);

/*
 * Runs argv to completion, collecting stdout (and stderr when merge_err) into a
 * malloc'd NUL-terminated string the caller frees (capped at max bytes). Returns the
 * exit code as eb_proc_wait does, or a negative EB_E* code with err filled.
 */
/*
 * eb_proc_capture with a time limit (0: none): a program still running, or whose output is
 * still open, after timeout_ns is stopped (its process group: SIGTERM, then SIGKILL) and
 * the result is EB_ETIMEOUT naming it.
 */
int eb_proc_capture_timed(const char *const *argv, int merge_err, size_t max,
			  uint64_t timeout_ns, char **out, struct eb_err *err);
int eb_proc_capture(const char *const *argv, int merge_err, size_t max, char **out,
		    struct eb_err *err);

#endif
