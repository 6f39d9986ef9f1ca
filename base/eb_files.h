/* eb_files.h: where edgebench's own files are, installed under a prefix or in the build tree. */
#ifndef EB_FILES_H
#define EB_FILES_H

#include <stddef.h>

/*
 * The path of one of edgebench's own files (vocab GGUFs, llama.cpp peer tools, sample
 * data): `rel`, relative to the directory of the running executable (EB_BIN_TO_DATA
 * "/vocab" for an installed tree), when it exists; else `fallback` (the place found at
 * configure time, for a binary run from its build tree; NULL or "" for none) when it
 * exists. Writes the path into buf and returns buf; NULL, with buf empty, when neither
 * exists or the path does not fit in n bytes.
 */
const char *eb_own_file(const char *rel, const char *fallback, char *buf, size_t n);

/*
 * A llama.cpp peer tool ("llama-bench"): the copy installed with edgebench, else the one
 * in the llama.cpp build found at configure time, else `name` itself (for a PATH search
 * when it runs). Returns buf or name; never NULL.
 */
const char *eb_llama_peer(const char *name, char *buf, size_t n);

#endif
