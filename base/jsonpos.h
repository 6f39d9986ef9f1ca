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
	/*
	 * After a failed scan: the member or element being read when the text broke off or
	 * went wrong (a key just read, or the one before a missing ',' or a stray '}'), or ""
	 * when that was the top level; NULL after a scan that succeeded.
	 */
	char *fault_path;
};

/*
 * Scans `text` (already known to be valid JSON, e.g. parsed by jansson) and records
 * every value's path. Returns 0, or -1 if the text is not valid JSON (then the map holds
 * what was scanned before the fault, and fault_path says where it was). To place a
 * syntax error that a parser found at byte offset P, scan the first P bytes. Release
 * with eb_jsonpos_release.
 */
int eb_jsonpos_scan(struct eb_jsonpos *m, const char *text, size_t len);
void eb_jsonpos_release(struct eb_jsonpos *m);

/* The entry for `path`, or NULL. Pointers stay valid until release. */
const struct eb_jsonpos_ent *eb_jsonpos_find(const struct eb_jsonpos *m, const char *path);

/*
 * Why `text` cannot be read as UTF-8 JSON at all, or NULL: a byte order mark (UTF-8,
 * UTF-16, UTF-32) or NUL bytes in its first four (UTF-16/32 without a mark, or a binary
 * file). For messages in place of a parser's "expected '{' near ..." about it.
 */
const char *eb_jsonpos_encoding(const char *text, size_t len);

#endif
