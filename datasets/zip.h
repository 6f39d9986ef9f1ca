/* zip.h: a minimal zip reader (stored and deflated members) for wikitext-2-raw-v1.zip. */
#ifndef EB_ZIP_H
#define EB_ZIP_H

#include <stddef.h>

#include "eb_err.h"

/*
 * Reads one member of the zip archive at `path` into a malloc'd buffer the caller frees
 * (NUL-terminated; *len excludes the NUL). Members may be stored (method 0) or deflated
 * (method 8); the CRC-32 is checked. Sizes and offsets come from the central directory,
 * so archives written with data descriptors read fine. Encrypted members, zip64 and
 * members larger than `max` bytes are refused. Errors (EB_ENOENT, EB_EIO, EB_EPARSE,
 * EB_EUNSUPPORTED) name the archive and the member: "'x.zip': no member 'a/b.raw'
 * (members: ...)".
 */
int eb_zip_read(const char *path, const char *member, size_t max, char **data, size_t *len,
		struct eb_err *err);

/*
 * The names of the archive's members in central-directory order, directories included,
 * as a malloc'd array of malloc'd strings; free each name and the array
 * (eb_zip_names_free does both).
 */
int eb_zip_names(const char *path, char ***names, size_t *n, struct eb_err *err);
void eb_zip_names_free(char **names, size_t n);

#endif
