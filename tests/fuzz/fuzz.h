/* fuzz.h: helpers the libFuzzer targets share: a scratch directory, files from the input, oracles. */
#ifndef EB_FUZZ_H
#define EB_FUZZ_H

/*
 * Every target defines LLVMFuzzerTestOneInput (and may define LLVMFuzzerInitialize).
 * scripts/fuzz.sh builds them with clang -fsanitize=fuzzer,address,undefined; the
 * regression suite (tests/check_fuzz_regress.c) compiles the same files with gcc, the two
 * entry points renamed to eb_fuzz_<target>_one / eb_fuzz_<target>_init, and replays
 * tests/data/fuzz/<target>/ through them. Helpers here are static so that several
 * targets link into one binary.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

/* libFuzzer's entry points (renamed by the regression build, see above). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * An oracle: a property every input must keep (parsing split input gives what parsing
 * it whole gives, a count stays in its bounds). A violation aborts, which libFuzzer
 * reports as a crash and saves the input; the regression suite sees the signal.
 */
#define EB_FUZZ_CHECK(cond, ...)                                                         \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "%s:%d: fuzz oracle failed: %s: ", __FILE__, __LINE__, \
				#cond);                                                  \
			fprintf(stderr, __VA_ARGS__);                                    \
			fputc('\n', stderr);                                             \
			abort();                                                         \
		}                                                                        \
	} while (0)

static char eb_fuzz_dir_buf[512];

static inline int eb_fuzz_rm_one(const char *path, const struct stat *st, int flag,
				 struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Removes the scratch directory and everything in it (registered with atexit). */
static inline void eb_fuzz_dir_remove(void)
{
	if (eb_fuzz_dir_buf[0])
		nftw(eb_fuzz_dir_buf, eb_fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	eb_fuzz_dir_buf[0] = '\0';
}

/*
 * A per-process scratch directory for targets whose entry point takes a path (config,
 * zip, c4, the hwmon tree): under /dev/shm when it exists (tmpfs, no disk writes),
 * else $TMPDIR or /tmp. Created on first use; its files are overwritten run after run,
 * and the directory is removed at exit (a crash leaves it behind: a few KB).
 */
static inline const char *eb_fuzz_dir(void)
{
	char *dir = eb_fuzz_dir_buf;

	if (!dir[0]) {
		const char *base = getenv("TMPDIR");
		struct stat st;

		if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0)
			base = "/dev/shm";
		else if (!base || !base[0])
			base = "/tmp";
		snprintf(dir, sizeof(eb_fuzz_dir_buf), "%s/edgebench-fuzz-%ld", base,
			 (long)getpid());
		if (mkdir(dir, 0700) != 0 && access(dir, W_OK) != 0) {
			perror(dir);
			abort();
		}
		atexit(eb_fuzz_dir_remove);
	}
	return dir;
}

/* dir/name into buf; returns buf. */
static inline const char *eb_fuzz_path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", eb_fuzz_dir(), name);
	return buf;
}

/* Writes the bytes to path (truncating); aborts when it cannot (a broken setup, not a finding). */
static inline void eb_fuzz_write(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
		perror(path);
		abort();
	}
}

/* A NUL-terminated malloc'd copy of the input (the text entry points want strings). */
static inline char *eb_fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * Cut points for feeding an input in pieces, derived from the input itself so a
 * finding replays exactly: FNV-1a of the bytes seeds a xorshift generator.
 */
struct eb_fuzz_rng {
	uint64_t s;
};

static inline void eb_fuzz_rng_init(struct eb_fuzz_rng *r, const uint8_t *data, size_t size)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 1099511628211ull;
	r->s = h ? h : 1;
}

/* A number in [0, n), n > 0. */
static inline size_t eb_fuzz_rng_below(struct eb_fuzz_rng *r, size_t n)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return (size_t)(r->s % n);
}

/* One feed call of an incremental parser: 0 to go on, else its error code. */
typedef int (*eb_fuzz_feed_fn)(void *parser, const char *data, size_t n);

/*
 * Feeds the input to `feed` in pieces: step SIZE_MAX = whole, 0 = random lengths 1..max_piece
 * (from the input's own hash), else `step` bytes at a time. Stops at the first error and
 * returns it (0 when every piece was taken).
 */
static inline int eb_fuzz_feed(const uint8_t *data, size_t size, size_t step, size_t max_piece,
			       eb_fuzz_feed_fn feed, void *parser)
{
	struct eb_fuzz_rng rng;
	size_t i = 0, k;
	int rc = 0;

	eb_fuzz_rng_init(&rng, data, size);
	while (i < size && rc == 0) {
		k = step ? step : 1 + eb_fuzz_rng_below(&rng, max_piece);
		if (k > size - i)
			k = size - i;
		rc = feed(parser, (const char *)data + i, k);
		i += k;
	}
	return rc;
}

#endif
