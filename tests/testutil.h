/* testutil.h: helpers shared by the Check suites (paths, temp dirs, running edgebench). */
#ifndef EB_TESTUTIL_H
#define EB_TESTUTIL_H

#include <check.h>
#include <sqlite3.h>
#include <stddef.h>

/* Path of a file under tests/data into buf; returns buf. */
const char *eb_test_data(const char *rel, char *buf, size_t n);

/* A fresh empty directory under the build's tests/work/<name>-<pid>; returns buf. */
const char *eb_test_tmpdir(const char *name, char *buf, size_t n);

/*
 * Runs the edgebench binary with argv (argv[0] ignored, NULL-terminated), collecting
 * stdout+stderr into *out (caller frees; may be NULL to discard). Returns exit code.
 */
int eb_test_run(const char *const *argv, char **out);

/* Runs the Check suite with CK_NORMAL output; returns the process exit code. */
int eb_test_main(Suite *s);

/* Directory of the synthesized test models (tests built by synth_models.sh). */
const char *eb_test_models_dir(void);

/*
 * The first column of the first row of `sql`: as an integer (-1 when there is no row),
 * or as a malloc'd string the caller frees (NULL for no row or NULL). A statement that
 * does not prepare fails the test.
 */
long long eb_test_q_int(sqlite3 *db, const char *sql);
char *eb_test_q_str(sqlite3 *db, const char *sql);

#endif
