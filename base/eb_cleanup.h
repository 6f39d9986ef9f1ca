/* eb_cleanup.h: what a process must undo however it ends: child process groups to kill, temporary files to remove, device settings to put back. */
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

/*
 * Registers a program to run to its end, or a short text to write into a file (a sysfs
 * attribute), should the process end before the owner does it itself: how device modes
 * are put back (harness/modes.c). argv[0] must be an absolute path (nothing is searched
 * from a handler); argv, its strings and `text` (at most 63 bytes) are copied by pointer
 * for argv (the owner keeps them valid until it forgets the slot) and by value for the
 * file's path and text. They run in slot order, after or between the kills and unlinks,
 * with fork, execve (the process's environment) and waitpid, or open, write and close:
 * async-signal-safe. Returns a slot, or -1.
 */
int eb_cleanup_exec(const char *const *argv);
int eb_cleanup_write(const char *path, const char *text);

/* Drops an entry (slot -1 is ignored): its owner has cleaned it up. */
void eb_cleanup_forget(int slot);

/*
 * Kills every registered group, unlinks every registered file, runs every registered
 * program and writes every registered text, then forgets them. Async-signal-safe (kill,
 * unlink, fork, execve, waitpid, open, write, close), so a handler may call it before it
 * re-raises a fatal signal.
 */
void eb_cleanup_run(void);

#endif
