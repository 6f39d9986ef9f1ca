/* testutil.h: helpers shared by the Check suites (paths, temp dirs, running edgebench). */
#ifndef EB_TESTUTIL_H
#define EB_TESTUTIL_H

#include <check.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "adapter.h"

/* Path of a file under tests/data into buf; returns buf. */
const char *eb_test_data(const char *rel, char *buf, size_t n);

/* A fresh empty directory under the build's tests/work/<name>-<pid>; returns buf. */
const char *eb_test_tmpdir(const char *name, char *buf, size_t n);

/*
 * Runs the edgebench binary with argv (argv[0] ignored, NULL-terminated), collecting
 * stdout+stderr into *out (caller frees; may be NULL to discard). Returns exit code.
 */
int eb_test_run(const char *const *argv, char **out);

/* Writes the config text `cfg_text` to config.json in a fresh eb_test_tmpdir(`name`) and
 * runs `edgebench run config.json --db DIR/out.db --quiet`, the database path into db
 * (n bytes); fails the test unless it exits 0. */
void eb_test_run_config(const char *name, const char *cfg_text, char *db, size_t n);

/*
 * Runs the Check suite with CK_NORMAL output; returns the process exit code: 1 when a
 * test failed, else EB_TEST_SKIPPED when a test skipped (each reason printed on a line
 * of its own), else 0.
 */
int eb_test_main(Suite *s);

/*
 * Skips: a test that cannot run on this build or machine (no llama.cpp, no python3, no
 * tmpfs) ends with EB_TEST_SKIP("one-line reason", ...) instead of passing quietly. The
 * suite then exits EB_TEST_SKIPPED, which ctest reports as skipped (SKIP_RETURN_CODE in
 * tests/CMakeLists.txt); a failure elsewhere in the suite still fails it. A suite that
 * leaves out a whole test case (one whose fixture could not start) calls eb_test_skip
 * with the case's name before eb_test_main.
 */
#define EB_TEST_SKIPPED 77
void eb_test_skip(const char *test, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define EB_TEST_SKIP(...)                              \
	do {                                           \
		eb_test_skip(__func__, __VA_ARGS__);   \
		return;                                \
	} while (0)

/* Skips the running test when `why` (a reason, or NULL when it can run) is not NULL. */
#define EB_TEST_SKIP_IF(why)                                   \
	do {                                                   \
		const char *eb_why_ = (why);                   \
		if (eb_why_)                                   \
			EB_TEST_SKIP("%s", eb_why_);           \
	} while (0)

/* Why this build cannot run llama.cpp in process (and so has no synthesized test
 * models): NULL when it can, else a static one-line reason. */
const char *eb_test_lacks_llama(void);

/* Why python3 cannot run here (not installed, or broken): NULL when it can. */
const char *eb_test_lacks_python(void);

/*
 * A llama.cpp peer tool of the build ("llama-server", "llama-perplexity"): its path into
 * buf and NULL, or a static one-line reason why there is none.
 */
const char *eb_test_lacks_peer(const char *name, char *buf, size_t n);

/* A free loopback TCP port: bound, read and closed, for a server the test starts next. */
int eb_test_free_port(void);

/* Directory of the synthesized test models (tests built by synth_models.sh). */
const char *eb_test_models_dir(void);

/* A results database opened read-only (5 s busy timeout); fails the test if it cannot. */
sqlite3 *eb_test_db_open(const char *path);

/* The first column of the first row of a printf-formatted query: a double (NAN when no
 * row or NULL), or a malloc'd string (NULL when no row or NULL). A bad query fails. */
double eb_test_q(sqlite3 *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *eb_test_qs(sqlite3 *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Integer and string forms of eb_test_q for a fixed statement: -1 when there is no row
 * (NULL reads as 0), or a malloc'd string (NULL for no row or NULL).
 */
long long eb_test_q_int(sqlite3 *db, const char *sql);
char *eb_test_q_str(sqlite3 *db, const char *sql);

/*
 * Token arrival times of one generation: pass eb_test_tokens_cb as eb_gen_req.on_token and
 * the struct as its ud. Times past EB_TEST_TOKENS_MAX are dropped (n stops there). With
 * kill_after > 0, `victim` gets SIGKILL when that many chunks have arrived (a server dying
 * mid-stream).
 */
#define EB_TEST_TOKENS_MAX 1024
struct eb_test_tokens {
	uint64_t t[EB_TEST_TOKENS_MAX];
	int n;
	int kill_after;
	pid_t victim;
};
int eb_test_tokens_cb(void *ud, uint64_t t_ns, int n_tokens);

/* 1 when no live process is in group `pgid` within two seconds, else 0. */
int eb_test_pgrp_gone(pid_t pgid);

/*
 * Fails the test unless every metric in the database's metrics table is in the metric
 * registry with the unit it is stored in, and every figure of its accuracy table (when it
 * has one) is a registered accuracy metric: what a run stores is what the docs describe.
 */
void eb_test_metrics_registered(sqlite3 *db);

/* VmRSS of a live process in kB, read from /proc/PID/status; fails the test if absent. */
double eb_test_vmrss_kb(int pid);

/*
 * A fake scoring adapter for the accuracy runner: byte tokens (BOS 1, byte b as b + 3),
 * log p(t) = -0.01 t, rows in blocks of 7 (to exercise the caller's bookkeeping), as
 * log-probabilities, or with eb_test_fake_logits_ops as full logits (the same row of
 * EB_TEST_FAKE_VOCAB entries, -0.01 v) when the request asks for them. eb_test_fake
 * holds what the last loglik request saw. Its generate (EB_CAP_TEXT) answers every
 * prompt with eb_test_fake.reply (NULL: " A"), and counts the requests.
 */
#define EB_TEST_FAKE_VOCAB 259
struct eb_test_fake {
	double sums[64]; /* per sequence: the sum of log p it reported */
	size_t max_len;  /* longest sequence it was given */
	unsigned flags;  /* flags of the request */
	size_t rows;     /* rows it reported */
	const char *reply; /* what generate answers (NULL: " A") */
	size_t n_generate; /* generate requests so far */
};
extern struct eb_test_fake eb_test_fake;
extern const struct eb_adapter_ops eb_test_fake_ops;        /* loglik, tokenize */
extern const struct eb_adapter_ops eb_test_fake_logits_ops; /* and full logits */

/*
 * A multiple-choice item's answers computed the plain way, for checking the scorer:
 * *pred the first choice with the highest sum, *pred_norm the first with the highest
 * sum / len (lm-eval's acc and acc_norm picks).
 */
void eb_test_mc_pick(const double *sum, const size_t *len, size_t n, int *pred, int *pred_norm);

#endif
