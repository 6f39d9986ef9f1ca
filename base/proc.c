/* proc.c: spawn and reap children without a shell (see eb_proc.h). */
#include "eb_proc.h"
#include "eb_clock.h"
#include "eb_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void eb_close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

int eb_proc_start(struct eb_proc *p, const char *const *argv, const char *const *env_add,
		  unsigned flags, struct eb_err *err)
{
	int out[2] = { -1, -1 }, er[2] = { -1, -1 }, ex[2] = { -1, -1 };
	int child_errno = 0;
	ssize_t n;
	pid_t pid;

	p->pid = -1;
	p->out_fd = -1;
	p->err_fd = -1;
	p->flags = flags;
	if (!argv || !argv[0])
		return eb_err_set(err, EB_EINVAL, "empty command");
	if ((flags & EB_PROC_PIPE_OUT) && pipe2(out, O_CLOEXEC) != 0)
		goto fail_pipe;
	if ((flags & EB_PROC_PIPE_ERR) && pipe2(er, O_CLOEXEC) != 0)
		goto fail_pipe;
	if (pipe2(ex, O_CLOEXEC) != 0)
		goto fail_pipe;

	pid = fork();
	if (pid < 0)
		goto fail_pipe;
	if (pid == 0) {
		int nul = -1;

		if (flags & EB_PROC_NEW_PGRP)
			setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (flags & (EB_PROC_NULL_IN | EB_PROC_NULL_OUT | EB_PROC_NULL_ERR))
			nul = open("/dev/null", O_RDWR);
		if ((flags & EB_PROC_NULL_IN) && nul >= 0)
			dup2(nul, 0);
		if (flags & EB_PROC_PIPE_OUT)
			dup2(out[1], 1);
		else if ((flags & EB_PROC_NULL_OUT) && nul >= 0)
			dup2(nul, 1);
		if (flags & EB_PROC_PIPE_ERR)
			dup2(er[1], 2);
		else if ((flags & EB_PROC_NULL_ERR) && nul >= 0)
			dup2(nul, 2);
		for (size_t i = 0; env_add && env_add[i]; i++)
			putenv((char *)env_add[i]);
		execvp(argv[0], (char *const *)argv);
		child_errno = errno;
		if (write(ex[1], &child_errno, sizeof(child_errno)) < 0)
			_exit(127);
		_exit(127);
	}
	eb_close_fd(&ex[1]);
	eb_close_fd(&out[1]);
	eb_close_fd(&er[1]);
	do
		n = read(ex[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	eb_close_fd(&ex[0]);
	if (n == (ssize_t)sizeof(child_errno)) {
		waitpid(pid, NULL, 0);
		eb_close_fd(&out[0]);
		eb_close_fd(&er[0]);
		return eb_err_set(err, EB_EIO, "cannot run '%s': %s", argv[0],
				  strerror(child_errno));
	}
	p->pid = pid;
	p->out_fd = out[0];
	p->err_fd = er[0];
	return 0;

fail_pipe:
	child_errno = errno;
	eb_close_fd(&out[0]);
	eb_close_fd(&out[1]);
	eb_close_fd(&er[0]);
	eb_close_fd(&er[1]);
	eb_close_fd(&ex[0]);
	eb_close_fd(&ex[1]);
	return eb_err_set(err, EB_EIO, "cannot start '%s': %s", argv[0], strerror(child_errno));
}

static int eb_status_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

int eb_proc_wait(struct eb_proc *p)
{
	int status;
	pid_t r;

	if (p->pid <= 0)
		return -1;
	do
		r = waitpid(p->pid, &status, 0);
	while (r < 0 && errno == EINTR);
	p->pid = -1;
	return r < 0 ? -1 : eb_status_code(status);
}

int eb_proc_poll(struct eb_proc *p, int *code)
{
	int status;
	pid_t r;

	if (p->pid <= 0)
		return -1;
	r = waitpid(p->pid, &status, WNOHANG);
	if (r == 0)
		return 0;
	if (r < 0)
		return -1;
	p->pid = -1;
	*code = eb_status_code(status);
	return 1;
}

int eb_proc_kill(struct eb_proc *p, int sig)
{
	if (p->pid <= 0)
		return -1;
	if (p->flags & EB_PROC_NEW_PGRP)
		return kill(-p->pid, sig);
	return kill(p->pid, sig);
}

int eb_proc_wait_until(struct eb_proc *p, uint64_t deadline_ns, int *wstatus)
{
	int status = 0;

	if (p->pid <= 0)
		return -1;
	for (;;) {
		pid_t r = waitpid(p->pid, &status, deadline_ns ? WNOHANG : 0);

		if (r == p->pid)
			break;
		if (r < 0 && errno != EINTR) {
			status = 0;
			break;
		}
		if (deadline_ns && eb_clock_ns() >= deadline_ns)
			return 0;
		if (deadline_ns)
			eb_clock_sleep_ns(2000000ull, NULL);
	}
	p->pid = -1;
	if (wstatus)
		*wstatus = status;
	return 1;
}

void eb_proc_stop(struct eb_proc *p, uint64_t grace_ns, int *wstatus)
{
	if (p->pid > 0) {
		eb_proc_kill(p, SIGTERM);
		if (!eb_proc_wait_until(p, eb_clock_ns() + grace_ns, wstatus)) {
			eb_proc_kill(p, SIGKILL);
			eb_proc_wait_until(p, 0, wstatus);
		}
	}
	eb_proc_release(p);
}

void eb_proc_release(struct eb_proc *p)
{
	eb_close_fd(&p->out_fd);
	eb_close_fd(&p->err_fd);
}

int eb_proc_find_program(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (!prog || !*prog)
		return 0;
	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	if (!path)
		path = "/usr/bin:/bin";
	while (*path) {
		const char *colon = strchr(path, ':');
		size_t len = colon ? (size_t)(colon - path) : strlen(path);
		int k = snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, len ? path : ".", prog);

		if (k > 0 && (size_t)k < sizeof(buf) && access(buf, X_OK) == 0)
			return 1;
		if (!colon)
			break;
		path = colon + 1;
	}
	return 0;
}

int eb_proc_capture(const char *const *argv, int merge_err, size_t max, char **out,
		    struct eb_err *err)
{
	return eb_proc_capture_timed(argv, merge_err, max, 0, out, err);
}

int eb_proc_capture_timed(const char *const *argv, int merge_err, size_t max,
			  uint64_t timeout_ns, char **out, struct eb_err *err)
{
	struct eb_proc p;
	struct eb_buf b;
	/* with a limit the program leads its own group, so that the stop takes what it
	 * started too; without one it stays in ours and hears the terminal's Ctrl-C */
	unsigned flags = EB_PROC_PIPE_OUT | EB_PROC_NULL_IN |
			 (timeout_ns ? EB_PROC_NEW_PGRP : 0) |
			 (merge_err ? EB_PROC_PIPE_ERR : EB_PROC_NULL_ERR);
	uint64_t deadline = timeout_ns ? eb_clock_ns() + timeout_ns : 0;
	int ret;

	ret = eb_proc_start(&p, argv, NULL, flags, err);
	if (ret)
		return ret;
	eb_buf_init(&b, max);
	for (;;) {
		struct pollfd fds[2];
		int nfds = 0, wait_ms = -1;
		char chunk[4096];

		if (p.out_fd >= 0)
			fds[nfds++] = (struct pollfd){ .fd = p.out_fd, .events = POLLIN };
		if (p.err_fd >= 0)
			fds[nfds++] = (struct pollfd){ .fd = p.err_fd, .events = POLLIN };
		if (nfds == 0)
			break;
		if (deadline) {
			uint64_t now = eb_clock_ns();
			int st;

			if (now >= deadline) {
				/* the program (and what it started) is stopped, not waited for */
				eb_proc_stop(&p, 500000000ull, &st);
				eb_buf_release(&b);
				return eb_err_set(err, EB_ETIMEOUT, "'%s' did not finish in %.0f s",
						  argv[0], timeout_ns / 1e9);
			}
			wait_ms = (int)((deadline - now + 999999) / 1000000);
		}
		ret = poll(fds, (nfds_t)nfds, wait_ms);
		if (ret == 0)
			continue;
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < nfds; i++) {
			ssize_t n;

			if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(fds[i].fd, chunk, sizeof(chunk));
			if (n > 0) {
				eb_buf_add(&b, chunk, (size_t)n); /* past max: keep what fits */
			} else if (n == 0 || errno != EINTR) {
				if (fds[i].fd == p.out_fd)
					eb_close_fd(&p.out_fd);
				else
					eb_close_fd(&p.err_fd);
			}
		}
	}
	eb_proc_release(&p);
	ret = eb_proc_wait(&p);
	*out = eb_buf_detach(&b, NULL);
	return ret;
}
