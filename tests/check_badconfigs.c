/* ctest: labels=unit timeout=120 */
/* check_badconfigs.c: every broken config of tests/data/bad-configs is rejected by `validate` and `run` with exactly its MANIFEST line, exit 2, no crash. */
#include "eb_util.h"
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The MANIFEST lines (comments dropped), each "FILE:line:col: key.path: message". */
static char **eb_manifest(const char *dir, size_t *n)
{
	char path[4200];
	struct eb_err err;
	char *data = NULL, *p, **lines = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/MANIFEST", dir);
	ck_assert_msg(eb_read_file(path, 1 << 20, &data, &len, &err) == 0, "%s", err.msg);
	*n = 0;
	for (p = data; *p;) {
		char *nl = strchr(p, '\n');

		if (nl)
			*nl = '\0';
		if (*p && *p != '#') {
			lines = eb_xrealloc(lines, (*n + 1) * sizeof(*lines));
			lines[(*n)++] = eb_xstrdup(p);
		}
		p = nl ? nl + 1 : p + strlen(p);
	}
	free(data);
	return lines;
}

/* The manifest's line for `file`, or NULL. */
static const char *eb_expected(char **lines, size_t n, const char *file, int *used)
{
	size_t fl = strlen(file);

	for (size_t i = 0; i < n; i++)
		if (strncmp(lines[i], file, fl) == 0 && lines[i][fl] == ':') {
			used[i]++;
			return lines[i];
		}
	return NULL;
}

START_TEST(every_broken_config_rejected_exactly)
{
	char dir[4096];
	char **lines;
	size_t n;
	int *used, ncases = 0;
	DIR *d;
	struct dirent *de;

	unsetenv("EB_BADCFG_SURELY_UNSET");
	eb_test_data("bad-configs", dir, sizeof(dir));
	lines = eb_manifest(dir, &n);
	used = eb_xcalloc(n, sizeof(*used));
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		size_t nl = strlen(name);
		char path[4400], want[8192], *out = NULL;
		const char *line;
		int rc;

		if (nl < 6 || strcmp(name + nl - 5, ".json") != 0 || strcmp(name, "good.json") == 0)
			continue;
		line = eb_expected(lines, n, name, used);
		ck_assert_msg(line != NULL, "%s: no MANIFEST line", name);
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		{
			const char *argv[] = { "edgebench", "validate", path, NULL };

			rc = eb_test_run(argv, &out);
		}
		snprintf(want, sizeof(want), "%s/%s\nedgebench validate: '%s' is not a valid config\n",
			 dir, line, path);
		ck_assert_msg(rc == 2, "%s: exit %d (2 expected; >128 is a signal): %s", name, rc, out);
		ck_assert_msg(strcmp(out, want) == 0, "%s:\n got: %s\nwant: %s", name, out, want);
		free(out);
		/* run reads configs through the same loader and starts nothing */
		{
			const char *argv[] = { "edgebench", "run", path, "--db", "/nonexistent/x.db", NULL };

			rc = eb_test_run(argv, &out);
		}
		snprintf(want, sizeof(want), "%s/%s\nedgebench run: '%s' is not a valid config\n", dir,
			 line, path);
		ck_assert_msg(rc == 2, "%s: run exit %d: %s", name, rc, out);
		ck_assert_msg(strcmp(out, want) == 0, "%s (run):\n got: %s\nwant: %s", name, out, want);
		free(out);
		ncases++;
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(used[i] == 1, "MANIFEST line used %d times: %s", used[i], lines[i]);
		free(lines[i]);
	}
	ck_assert_int_eq(ncases, (int)n);
	ck_assert_int_ge(ncases, 50);
	fprintf(stderr, "check_badconfigs: %d broken configs rejected as the MANIFEST says\n", ncases);
	free(lines);
	free(used);
}
END_TEST

/* The config the broken ones were made from is valid: each fault is the one put there. */
START_TEST(the_original_is_valid)
{
	char path[4096], *out = NULL;
	const char *argv[] = { "edgebench", "validate", path, NULL };

	eb_test_data("bad-configs/good.json", path, sizeof(path));
	ck_assert_int_eq(eb_test_run(argv, &out), 0);
	ck_assert_msg(strstr(out, ": valid; 8 cells\n"), "%s", out);
	free(out);
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("badconfigs");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, every_broken_config_rejected_exactly);
	tcase_add_test(tc, the_original_is_valid);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
