/* dbpath.h: checks, before any work starts, that a database path can be written. */
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

#endif
