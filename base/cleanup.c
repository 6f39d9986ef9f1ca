/* cleanup.c: the registry of child groups and temporary files to undo at any exit (see eb_cleanup.h). */
#include "eb_cleanup.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EB_SLOT_FREE, EB_SLOT_FILLING, EB_SLOT_READY };

struct eb_cleanup_slot {
	volatile sig_atomic_t state; /* a handler acts only on READY entries */
	pid_t pgid;                  /* > 0: a process group */
	char path[4096];             /* else a file */
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

int eb_cleanup_pgrp(pid_t pgid)
{
	int i;

	if (pgid <= 0)
		return -1;
	i = eb_cleanup_take();
	if (i < 0)
		return -1;
	eb_slots[i].pgid = pgid;
	eb_slots[i].path[0] = '\0';
	eb_slots[i].state = EB_SLOT_READY;
	return i;
}

int eb_cleanup_file(const char *path)
{
	size_t len = strlen(path);
	int i;

	if (len == 0 || len >= sizeof(eb_slots[0].path))
		return -1;
	i = eb_cleanup_take();
	if (i < 0)
		return -1;
	eb_slots[i].pgid = 0;
	memcpy(eb_slots[i].path, path, len + 1);
	eb_slots[i].state = EB_SLOT_READY;
	return i;
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
		else
			unlink(eb_slots[i].path);
		eb_slots[i].state = EB_SLOT_FREE;
	}
}
