/* dbpath.c: the database path checks made before SQLite opens a path (see dbpath.h). */
#include "dbpath.h"
#include "eb_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 0 when `file` exists and can be read and written; else the errno (ENOENT: missing). */
static int eb_rw_errno(const char *file)
{
	struct stat sb;

	if (stat(file, &sb) != 0)
		return errno;
	if (!S_ISREG(sb.st_mode))
		return EISDIR;
	return faccessat(AT_FDCWD, file, R_OK | W_OK, AT_EACCESS) == 0 ? 0 : errno;
}

int eb_db_check_writable(const char *path, struct eb_err *err)
{
	char dir[4096], side[4200];
	const char *slash = strrchr(path, '/');
	struct stat sb;
	int e, side_ok = 1;

	if (!*path)
		return eb_err_set(err, EB_EDB, "empty database path");
	if (!slash)
		eb_strlcpy(dir, ".", sizeof(dir));
	else if (slash == path)
		eb_strlcpy(dir, "/", sizeof(dir));
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (stat(dir, &sb) != 0)
		return eb_err_set(err, EB_EDB, "database '%s': directory '%s' %s", path, dir,
				  errno == ENOENT ? "does not exist (create it first)" : strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return eb_err_set(err, EB_EDB, "database '%s': '%s' is not a directory", path, dir);
	e = eb_rw_errno(path);
	if (e == EISDIR)
		return eb_err_set(err, EB_EDB, "database '%s' is not a regular file", path);
	if (e && e != ENOENT)
		return eb_err_set(err, EB_EDB, "database '%s' is not writable: %s", path, strerror(e));
	for (int i = 0; i < 2; i++) {
		snprintf(side, sizeof(side), "%s-%s", path, i ? "shm" : "wal");
		e = eb_rw_errno(side);
		if (e && e != ENOENT)
			return eb_err_set(err, EB_EDB, "database '%s': '%s' is not writable: %s", path,
					  side, strerror(e));
		side_ok &= e == 0;
	}
	/* both side files already there and writable: SQLite need not create anything */
	if (!side_ok && faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0)
		return eb_err_set(err, EB_EDB,
				  "database '%s': cannot create files in directory '%s' (SQLite keeps "
				  "'%s-wal' and '%s-shm' beside the database): %s",
				  path, dir, path, path, strerror(errno));
	return 0;
}

int eb_db_check_readable(const char *path, struct eb_err *err)
{
	struct stat sb;

	/* stat, not open: opening a FIFO for reading blocks until a writer comes */
	if (stat(path, &sb) != 0)
		return errno == ENOENT ? eb_err_set(err, EB_ENOENT, "no database '%s'", path)
				       : eb_err_set(err, EB_EDB, "database '%s': %s", path,
						    strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return eb_err_set(err, EB_EDB, "database '%s' is not a regular file", path);
	return 0;
}

int eb_db_check_output(const char *out, const char *const *dbs, size_t n, struct eb_err *err)
{
	static const char *const sides[] = { "", "-wal", "-shm", "-journal" };
	struct stat so, sd;

	/* stat follows a symlink to what it names: the file that writing would change */
	if (stat(out, &so) != 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < sizeof(sides) / sizeof(sides[0]); k++) {
			char path[4200];

			snprintf(path, sizeof(path), "%s%s", dbs[i], sides[k]);
			if (stat(path, &sd) != 0 || sd.st_dev != so.st_dev || sd.st_ino != so.st_ino)
				continue;
			if (k == 0)
				return eb_err_set(err, EB_EINVAL,
						  "refusing to write '%s': it is the database '%s' "
						  "this command reads (the same file)",
						  out, dbs[i]);
			return eb_err_set(err, EB_EINVAL,
					  "refusing to write '%s': it is '%s', the %s file SQLite "
					  "keeps beside the database '%s' this command reads",
					  out, path, sides[k] + 1, dbs[i]);
		}
	return 0;
}
