/* files.c: finds edgebench's own files relative to its executable, so an installed tree can move. */
#include "eb_files.h"
#include "eb_build.h"
#include "eb_util.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The directory of the running executable into buf; 0, or -1 when /proc cannot say. */
static int eb_exe_dir(char *buf, size_t n)
{
	ssize_t len = readlink("/proc/self/exe", buf, n - 1);
	char *slash;

	if (len <= 0 || (size_t)len >= n - 1)
		return -1;
	buf[len] = '\0';
	slash = strrchr(buf, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return 0;
}

const char *eb_own_file(const char *rel, const char *fallback, char *buf, size_t n)
{
	char dir[PATH_MAX];

	if (n == 0)
		return NULL;
	if (rel && *rel && eb_exe_dir(dir, sizeof(dir)) == 0 &&
	    (size_t)snprintf(buf, n, "%s/%s", dir, rel) < n && access(buf, F_OK) == 0)
		return buf;
	if (fallback && *fallback && access(fallback, F_OK) == 0 &&
	    eb_strlcpy(buf, fallback, n) < n)
		return buf;
	buf[0] = '\0';
	return NULL;
}

const char *eb_llama_peer(const char *name, char *buf, size_t n)
{
	char rel[PATH_MAX], built[PATH_MAX];

	snprintf(rel, sizeof(rel), "%s/%s", EB_BIN_TO_LIBEXEC, name);
	snprintf(built, sizeof(built), "%s/%s", EB_LLAMA_BINDIR, name);
	/* an unset EB_LLAMA_BINDIR is "" or ends in -NOTFOUND: no file there */
	if (eb_own_file(rel, *EB_LLAMA_BINDIR ? built : NULL, buf, n))
		return buf;
	return name;
}
