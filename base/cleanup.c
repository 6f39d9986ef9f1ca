/* cleanup.c: the registry of child groups and temporary files to undo at any exit (see eb_cleanup.h). */
#include "eb_cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

enum { EB_SLOT_FREE, EB_SLOT_FILLING, EB_SLOT_READY };

struct eb_cleanup_slot {
	volatile sig_atomic_t state; /* a handler acts only on READY entries */
	pid_t pgid;                  /* > 0: a process group */
	const char *const *argv;     /* else, non-NULL: a program to run */
	char path[4096];             /* else a file: unlinked, or with text[0], written */
	char text[64];
};

static struct eb_cleanup_slot eb_slots[EB_CLEANUP_SLOTS];
static int eb_cleanup_registered;

static void eb_cleanup_at_exit(void)
{
	eb_cleanup_run();
}

/* A free slot marked FILLING, or -1. */
static int eb_cleanup_take(void)
{
	if (!eb_cleanup_registered) {
		eb_cleanup_registered = 1;
		atexit(eb_cleanup_at_exit);
	}
	for (int i = 0; i < EB_CLEANUP_SLOTS; i++)
		if (eb_slots[i].state == EB_SLOT_FREE) {
			eb_slots[i].state = EB_SLOT_FILLING;
			return i;
		}
	return -1;
}

/*
 * Takes a slot and fills it with one entry (path and text NULL when not a file; their
 * lengths checked by the caller), READY only once it is whole, as a handler may run
 * between any two stores. The slot, or -1 when the table is full.
 */
static int eb_cleanup_add(pid_t pgid, const char *const *argv, const char *path,
			  const char *text)
{
	int i = eb_cleanup_take();

	if (i < 0)
		return -1;
	eb_slots[i].pgid = pgid;
	eb_slots[i].argv = argv;
	if (path)
		memcpy(eb_slots[i].path, path, strlen(path) + 1);
	else
		eb_slots[i].path[0] = '\0';
	if (text)
		memcpy(eb_slots[i].text, text, strlen(text) + 1);
	else
		eb_slots[i].text[0] = '\0';
	eb_slots[i].state = EB_SLOT_READY;
	return i;
}

int eb_cleanup_pgrp(pid_t pgid)
{
	if (pgid <= 0)
		return -1;
	return eb_cleanup_add(pgid, NULL, NULL, NULL);
}

int eb_cleanup_exec(const char *const *argv)
{
	if (!argv || !argv[0] || argv[0][0] != '/')
		return -1;
	return eb_cleanup_add(0, argv, NULL, NULL);
}

int eb_cleanup_write(const char *path, const char *text)
{
	size_t len = strlen(path), tl = strlen(text);

	if (len == 0 || len >= sizeof(eb_slots[0].path) || tl == 0 ||
	    tl >= sizeof(eb_slots[0].text))
		return -1;
	return eb_cleanup_add(0, NULL, path, text);
}

/* Runs argv (an absolute path) to its end: fork, execve, waitpid; nothing else. */
static void eb_cleanup_spawn(const char *const *argv)
{
	pid_t pid = fork();

	if (pid == 0) {
		execve(argv[0], (char *const *)argv, environ);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}

/* Writes text into path as a sysfs attribute is written: open, one write, close. */
static void eb_cleanup_put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, text, strlen(text)) < 0) {
		/* nothing more a handler can do */
	}
	close(fd);
}

int eb_cleanup_file(const char *path)
{
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(eb_slots[0].path))
		return -1;
	return eb_cleanup_add(0, NULL, path, NULL);
}

void eb_cleanup_forget(int slot)
{
	if (slot >= 0 && slot < EB_CLEANUP_SLOTS)
		eb_slots[slot].state = EB_SLOT_FREE;
}

void eb_cleanup_run(void)
{
	for (int i = 0; i < EB_CLEANUP_SLOTS; i++) {
		if (eb_slots[i].state != EB_SLOT_READY)
			continue;
		eb_slots[i].state = EB_SLOT_FILLING; /* once, even if a signal lands here */
		if (eb_slots[i].pgid > 0)
			kill(-eb_slots[i].pgid, SIGKILL);
		else if (eb_slots[i].argv)
			eb_cleanup_spawn(eb_slots[i].argv);
		else if (eb_slots[i].text[0])
			eb_cleanup_put(eb_slots[i].path, eb_slots[i].text);
		else
			unlink(eb_slots[i].path);
		eb_slots[i].state = EB_SLOT_FREE;
	}
}
