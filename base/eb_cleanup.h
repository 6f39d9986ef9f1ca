/* eb_cleanup.h: what a process must undo however it ends: child process groups to kill and temporary files to remove. */
#ifndef EB_CLEANUP_H
#define EB_CLEANUP_H

#include <sys/types.h>

/* How many entries can be registered at once; an add past it returns -1 (not recorded). */
#define EB_CLEANUP_SLOTS 32

/*
 * Registers a process group to SIGKILL, or a file to unlink, should the process end
 * before the owner undoes it itself: at exit() (atexit, registered on the first add) and
 * wherever a fatal signal is handled (eb_cleanup_run from the handler). Returns a slot
 * for eb_cleanup_forget, or -1 when all slots are taken or the path is too long. The
 * owner still does its own cleanup and then forgets the entry. Not for use from two
 * threads at once; a signal handler may run eb_cleanup_run at any point.
 */
int eb_cleanup_pgrp(pid_t pgid);
int eb_cleanup_file(const char *path);

/* Drops an entry (slot -1 is ignored): its owner has cleaned it up. */
void eb_cleanup_forget(int slot);

/*
 * Kills every registered group and unlinks every registered file, then forgets them.
 * Async-signal-safe (kill and unlink only), so a handler may call it before it
 * re-raises a fatal signal.
 */
void eb_cleanup_run(void);

#endif
