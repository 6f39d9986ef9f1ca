/* ctest: labels=unit timeout=300 */
/* check_fuzz_regress.c: replays tests/data/fuzz/<target>/ (minimised corpus and every crash input) through the fuzz targets. */
#include "testutil.h"

#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "eb_util.h"

/*
 * Every tests/fuzz/fuzz_<name>.c, compiled into this suite by tests/CMakeLists.txt with
 * its entry points renamed to eb_fuzz_<name>_one / eb_fuzz_<name>_init. A target
 * crashes (signal) or aborts on an oracle when an input regresses; Check reports that.
 */
#define EB_FUZZ_TARGETS(X)                                                                     \
	X(c4) X(config) X(hellaswag) X(hwmon) X(mc) X(ndjson) X(oai_stream) X(ollama_stream) \
	X(sse) X(tegrastats) X(wikitext) X(zip)

#define EB_FUZZ_DECLARE(name)                                          \
	int eb_fuzz_##name##_one(const uint8_t *data, size_t size);    \
	int eb_fuzz_##name##_init(int *argc, char ***argv) __attribute__((weak));
EB_FUZZ_TARGETS(EB_FUZZ_DECLARE)

struct target {
	const char *name;
	int (*one)(const uint8_t *, size_t);
	int (*init)(int *, char ***);
};

#define EB_FUZZ_ENTRY(name) { #name, eb_fuzz_##name##_one, eb_fuzz_##name##_init },
static const struct target targets[] = { EB_FUZZ_TARGETS(EB_FUZZ_ENTRY) };
#define N_TARGETS (sizeof(targets) / sizeof(targets[0]))

/* The input being replayed, named on stderr when a target dies on it. */
static char current[8192];

static void on_fatal(int sig)
{
	static const char pre[] = "\ncheck_fuzz_regress: the target died replaying ";

	(void)!write(2, pre, sizeof(pre) - 1);
	(void)!write(2, current, strlen(current));
	(void)!write(2, "\n", 1);
	raise(sig); /* SA_RESETHAND: the default action now */
}

static void name_on_fatal(void)
{
	static const int sigs[] = { SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

/*
 * libFuzzer runs with -malloc_limit_mb=256 (scripts/fuzz.sh): an input that makes one
 * allocation above that is a finding (oom-* reproducers). Here the same bound is the
 * address space this test process may add, so such an input fails the replay (eb_xmalloc
 * aborts) instead of passing on an overcommitting machine. Not under AddressSanitizer,
 * which reserves terabytes of shadow memory up front.
 */
#define EB_FUZZ_MALLOC_LIMIT ((rlim_t)256 << 20)

static void limit_address_space(void)
{
#if !defined(__SANITIZE_ADDRESS__)
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long vm_kb = 0;
	struct rlimit rl;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %llu kB", &vm_kb) == 1)
			break;
	fclose(f);
	if (vm_kb == 0 || getrlimit(RLIMIT_AS, &rl) != 0)
		return;
	rl.rlim_cur = (rlim_t)vm_kb * 1024 + EB_FUZZ_MALLOC_LIMIT;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
		rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_AS, &rl);
#endif
}

/* Sorted names of the regular files (or, dirs = 1, directories) in `dir`. */
static size_t list_dir(const char *dir, int dirs, char ***names)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	*names = NULL;
	ck_assert_msg(d != NULL, "cannot open '%s'", dir);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (dirs ? e->d_type != DT_DIR : e->d_type != DT_REG)
			continue;
		*names = eb_xrealloc(*names, (n + 1) * sizeof(**names));
		(*names)[n++] = eb_xstrdup(e->d_name);
	}
	closedir(d);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp((*names)[j - 1], (*names)[j]) > 0; j--) {
			char *t = (*names)[j];

			(*names)[j] = (*names)[j - 1];
			(*names)[j - 1] = t;
		}
	return n;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Each target's whole regression directory; `_i` indexes targets[]. */
START_TEST(fuzz_replay)
{
	const struct target *t = &targets[_i];
	char dir[4096], rel[256], **names;
	size_t n, crashes = 0;
	int argc = 1;
	char *args[] = { (char *)"check_fuzz_regress", NULL }, **argv = args;

	snprintf(rel, sizeof(rel), "fuzz/%s", t->name);
	eb_test_data(rel, dir, sizeof(dir));
	n = list_dir(dir, 0, &names);
	ck_assert_msg(n > 0, "no inputs in %s: run scripts/fuzz.sh --merge %s", dir, t->name);
	name_on_fatal();
	limit_address_space();
	if (t->init)
		t->init(&argc, &argv);
	for (size_t i = 0; i < n; i++) {
		struct eb_err err;
		char *data = NULL;
		size_t len = 0;

		snprintf(current, sizeof(current), "%s/%s", dir, names[i]);
		ck_assert_msg(eb_read_file(current, 1 << 20, &data, &len, &err) == 0, "%s", err.msg);
		ck_assert_msg(t->one((const uint8_t *)data, len) == 0, "%s", current);
		free(data);
		crashes += strncmp(names[i], "crash-", 6) == 0 || strncmp(names[i], "oom-", 4) == 0 ||
			   strncmp(names[i], "leak-", 5) == 0 || strncmp(names[i], "timeout-", 8) == 0;
	}
	fprintf(stderr, "%-14s %4zu inputs (%zu crash reproducers) replayed\n", t->name, n, crashes);
	free_names(names, n);
}
END_TEST

/* Every target source is in the list above, and every corpus directory has a target. */
START_TEST(fuzz_targets_complete)
{
	char dir[4096], **names;
	size_t n;

	eb_test_data("../fuzz", dir, sizeof(dir));
	n = list_dir(dir, 0, &names);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]);
		int known = 0;

		if (strncmp(names[i], "fuzz_", 5) != 0 || len < 8 || strcmp(names[i] + len - 2, ".c"))
			continue;
		for (size_t k = 0; k < N_TARGETS; k++)
			known |= strlen(targets[k].name) == len - 7 &&
				 strncmp(targets[k].name, names[i] + 5, len - 7) == 0;
		ck_assert_msg(known, "%s is not in EB_FUZZ_TARGETS of check_fuzz_regress.c", names[i]);
	}
	free_names(names, n);
	eb_test_data("fuzz", dir, sizeof(dir));
	n = list_dir(dir, 1, &names);
	ck_assert_uint_eq(n, N_TARGETS);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(names[i], targets[i].name);
	free_names(names, n);
}
END_TEST

static Suite *fuzz_regress_suite(void)
{
	Suite *s = suite_create("fuzz_regress");
	TCase *tc = tcase_create("replay");

	tcase_add_loop_test(tc, fuzz_replay, 0, (int)N_TARGETS);
	tcase_add_test(tc, fuzz_targets_complete);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(fuzz_regress_suite());
}
