/* store_int.h: the store's private parts, shared by the files of store/ (and by test fixtures). */
#ifndef EB_STORE_INT_H
#define EB_STORE_INT_H

#include <sqlite3.h>

#include "store.h"

/*
 * The handle behind the opaque `struct eb_store`. Only store/ reads these fields; the
 * other folders reach the database through store.h, reader.h and merge.h
 * (scripts/check-layers.sh fails on a sqlite3 call or this header anywhere else).
 */
struct eb_store {
	sqlite3 *db;
	char *path;
};

/* EB_EDB with "WHAT 'PATH': the connection's last SQLite error". */
int eb_store_dberr(struct eb_store *s, struct eb_err *err, const char *what);

/*
 * Runs `sql` (one text column; ?1 bound to `text`, ?2 to `id`) and sets *json to a
 * malloc'd copy of the first row's value, or NULL for no row or NULL. 0 or EB_EDB.
 */
int eb_store_json_text(struct eb_store *s, const char *sql, const char *text, int64_t id,
		       char **json, struct eb_err *err);

#endif
