/* dbpath.h: checks, before any work starts, that a database path can be written or read. */
#ifndef EB_DBPATH_H
#define EB_DBPATH_H

#include "eb_err.h"

/*
 * Whether `path` can be opened for writing as edgebench's SQLite database in WAL mode:
 * its directory exists and files can be created in it (SQLite keeps PATH-wal and
 * PATH-shm beside the database), and an existing PATH (and PATH-wal, PATH-shm) is a
 * writable regular file. Permissions are checked as the process's effective user and
 * capabilities. A missing directory is not created: a mistyped path fails here instead
 * of leaving a database somewhere unexpected. Returns 0, or EB_EDB with a message naming
 * the path and the cause, e.g. "database 'r/x.db': directory 'r' does not exist".
 */
int eb_db_check_writable(const char *path, struct eb_err *err);

/*
 * Whether `path` can be given to SQLite to read: it exists and is a regular file. A FIFO,
 * device or directory is refused here, before SQLite opens it (opening a FIFO blocks
 * until a writer comes, forever). Returns 0; EB_ENOENT "no database 'PATH'"; or EB_EDB
 * "database 'PATH' is not a regular file".
 */
int eb_db_check_readable(const char *path, struct eb_err *err);

/*
 * Whether `out`, a file a command is about to write, is one of the `n` databases `dbs`
 * it reads, or a side file SQLite keeps beside one (DB-wal, DB-shm, DB-journal): compared
 * by device and inode, so any spelling (a symlink, a hard link, "./x.db") is caught. An
 * `out` that does not exist yet is none of them. Returns 0, or EB_EINVAL "refusing to
 * write 'OUT': it is the database 'DB' this command reads (the same file)"; nothing is
 * written either way.
 */
int eb_db_check_output(const char *out, const char *const *dbs, size_t n, struct eb_err *err);

#endif
