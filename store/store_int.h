/* store_int.h: the store's private parts, shared by the files of store/ (and by test fixtures). */
#ifndef EB_STORE_INT_H
#define EB_STORE_INT_H

#include <sqlite3.h>
#include <sys/types.h>

#include "store.h"

/*
 * The handle behind the opaque `struct eb_store`. Only store/ reads these fields; the
 * other folders reach the database through store.h, reader.h and merge.h
 * (scripts/check-layers.sh fails on a sqlite3 call or this header anywhere else).
 */
struct eb_store {
	sqlite3 *db;
	char *path;
	dev_t dev; /* the file `path` named when it was opened (0/0 when it could not be told) */
	ino_t ino;
	int moved; /* eb_store_checkpoint found `path` naming another file, or none */
};

/* EB_EDB with "WHAT 'PATH': the connection's last SQLite error". */
int eb_store_dberr(struct eb_store *s, struct eb_err *err, const char *what);

/*
 * Runs `sql` (one text column; ?1 bound to `text`, ?2 to `id`) and sets *json to a
 * malloc'd copy of the first row's value, or NULL for no row or NULL. 0 or EB_EDB.
 */
int eb_store_json_text(struct eb_store *s, const char *sql, const char *text, int64_t id,
		       char **json, struct eb_err *err);

/*
 * Whether the lock row of run `run_id` in schema `schema` ("main", or an attached name) is
 * held by a process that may still be running: 1 with `who` set to "pid N on host 'H'
 * since T" (a process of this host that is gone, or of an earlier boot, does not hold it;
 * one of another host cannot be checked and does), 0 when free or stale, or an EB_E* code.
 */
int eb_store_lock_held(struct eb_store *s, const char *schema, int64_t run_id, char *who,
		       size_t n, struct eb_err *err);

#endif
