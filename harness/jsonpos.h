/* jsonpos.h: line:column of every key and value in a JSON text, by path, for error messages. */
#ifndef EB_JSONPOS_H
#define EB_JSONPOS_H

#include <stddef.h>

/* Positions are 1-based; column counts bytes. */
struct eb_jsonpos_ent {
	char *path;     /* "targets[1].options.threads"; "" is the root */
	int key_line, key_col; /* of the member's key; 0 for array elements and the root */
	int val_line, val_col; /* of the value's first character */
};

struct eb_jsonpos {
	struct eb_jsonpos_ent *ents;
	size_t n, alloc;
};

/*
 * Scans `text` (already known to be valid JSON, e.g. parsed by jansson) and records
 * every value's path. Returns 0, or -1 if the text is not valid JSON (then the map holds
 * what was scanned before the fault). Release with eb_jsonpos_release.
 */
int eb_jsonpos_scan(struct eb_jsonpos *m, const char *text, size_t len);
void eb_jsonpos_release(struct eb_jsonpos *m);

/* The entry for `path`, or NULL. Pointers stay valid until release. */
const struct eb_jsonpos_ent *eb_jsonpos_find(const struct eb_jsonpos *m, const char *path);

#endif
