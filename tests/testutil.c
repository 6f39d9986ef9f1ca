/* testutil.c: helpers shared by the Check suites. */
#include "testutil.h"

#include "eb_build.h"
#include "eb_clock.h"
#include "eb_proc.h"
#include "eb_util.h"
#include "metric.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char *eb_test_data(const char *rel, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", EB_TEST_DATA, rel);
	return buf;
}

const char *eb_test_tmpdir(const char *name, char *buf, size_t n)
{
	char cmd[4096];
	struct eb_err err;

	snprintf(buf, n, "%s/%s-%ld", EB_TEST_WORK, name, (long)getpid());
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", buf);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: cannot clean %s\n", buf);
	if (eb_mkdirs(buf, &err) != 0)
		ck_abort_msg("%s", err.msg);
	return buf;
}

int eb_test_run(const char *const *argv, char **out)
{
	const char *av[64];
	struct eb_err err;
	char *o = NULL;
	size_t i;
	int rc;

	av[0] = EB_TEST_BIN;
	for (i = 1; argv[i] && i < 63; i++)
		av[i] = argv[i];
	av[i] = NULL;
	rc = eb_proc_capture(av, 1, 64u << 20, &o, &err);
	if (rc < 0)
		ck_abort_msg("cannot run edgebench: %s", err.msg);
	if (out)
		*out = o;
	else
		free(o);
	return rc;
}

void eb_test_run_config(const char *name, const char *cfg_text, char *db, size_t n)
{
	char dir[4096], cfg[4200];
	const char *argv[] = { "edgebench", "run", cfg, "--db", db, "--quiet", NULL };
	struct eb_err err;
	char *out = NULL;
	int rc;

	eb_test_tmpdir(name, dir, sizeof(dir));
	snprintf(cfg, sizeof(cfg), "%s/config.json", dir);
	snprintf(db, n, "%s/out.db", dir);
	ck_assert_msg(eb_write_file(cfg, cfg_text, strlen(cfg_text), &err) == 0, "%s", err.msg);
	rc = eb_test_run(argv, &out);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	free(out);
}

/*
 * Where skipped tests leave their reasons: a temporary file, opened in the parent (by
 * eb_test_main, or by a suite that skips a whole test case) so the forked tests inherit it.
 */
static FILE *eb_test_skips;

static int eb_test_skips_fd(void)
{
	if (!eb_test_skips)
		eb_test_skips = tmpfile();
	return eb_test_skips ? fileno(eb_test_skips) : -1;
}

void eb_test_skip(const char *test, const char *fmt, ...)
{
	char line[1024];
	size_t len, name = strlen(test);
	va_list ap;

	/* START_TEST(x) names its function x_fn */
	if (name > 3 && strcmp(test + name - 3, "_fn") == 0)
		name -= 3;
	len = (size_t)snprintf(line, sizeof(line), "skipped %.*s: ", (int)name, test);
	va_start(ap, fmt);
	if (len < sizeof(line))
		len += (size_t)vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	va_end(ap);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	if (eb_test_skips_fd() < 0 || write(eb_test_skips_fd(), line, len) != (ssize_t)len)
		fwrite(line, 1, len, stdout);
}

int eb_test_main(Suite *s)
{
	SRunner *sr = srunner_create(s);
	char line[1024];
	int failed, skipped = 0;

	eb_test_skips_fd();
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (eb_test_skips) {
		rewind(eb_test_skips);
		while (fgets(line, sizeof(line), eb_test_skips)) {
			fputs(line, stdout);
			skipped++;
		}
		fclose(eb_test_skips);
		eb_test_skips = NULL;
	}
	if (failed)
		return EXIT_FAILURE;
	return skipped ? EB_TEST_SKIPPED : EXIT_SUCCESS;
}

const char *eb_test_lacks_llama(void)
{
#ifdef EB_HAVE_LLAMA
	return NULL;
#else
	return "edgebench was built without llama.cpp (EB_WITH_LLAMA=OFF)";
#endif
}

const char *eb_test_lacks_python(void)
{
	static char why[EB_ERR_MSG_MAX + 64];
	const char *argv[] = { "python3", "-c", "pass", NULL };
	struct eb_err err;
	char *out = NULL;
	int rc = eb_proc_capture(argv, 1, 1 << 16, &out, &err);

	free(out);
	if (rc < 0)
		snprintf(why, sizeof(why), "python3 not available (%s)", err.msg);
	else if (rc != 0)
		snprintf(why, sizeof(why), "python3 -c pass exited with %d", rc);
	return rc == 0 ? NULL : why;
}

const char *eb_test_lacks_peer(const char *name, char *buf, size_t n)
{
	static char why[512];

	if (eb_test_lacks_llama())
		return eb_test_lacks_llama();
	snprintf(buf, n, "%s/%s", EB_LLAMA_BINDIR, name);
	if (!*EB_LLAMA_BINDIR || access(buf, X_OK) != 0) {
		snprintf(why, sizeof(why), "no %s in the llama.cpp build ('%s')", name,
			 EB_LLAMA_BINDIR);
		buf[0] = '\0';
		return why;
	}
	return NULL;
}

int eb_test_free_port(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port;

	ck_assert_int_ge(fd, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

const char *eb_test_models_dir(void)
{
	const char *d = getenv("EB_TEST_MODELS");

	return d && *d ? d : EB_TEST_WORK "/../models";
}

sqlite3 *eb_test_db_open(const char *path)
{
	sqlite3 *db = NULL;

	ck_assert_msg(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK,
		      "cannot open %s", path);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static sqlite3_stmt *eb_test_prepare(sqlite3 *db, const char *fmt, va_list ap)
{
	sqlite3_stmt *st = NULL;
	char *sql = sqlite3_vmprintf(fmt, ap);

	ck_assert_ptr_nonnull(sql);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(db));
	sqlite3_free(sql);
	return st;
}

double eb_test_q(sqlite3 *db, const char *fmt, ...)
{
	sqlite3_stmt *st;
	double v = NAN;
	va_list ap;

	va_start(ap, fmt);
	st = eb_test_prepare(db, fmt, ap);
	va_end(ap);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return v;
}

char *eb_test_qs(sqlite3 *db, const char *fmt, ...)
{
	sqlite3_stmt *st;
	char *v = NULL;
	va_list ap;

	va_start(ap, fmt);
	st = eb_test_prepare(db, fmt, ap);
	va_end(ap);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = eb_xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

long long eb_test_q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long v = -1;

	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

char *eb_test_q_str(sqlite3 *db, const char *sql)
{
	return eb_test_qs(db, "%s", sql);
}

void eb_test_metrics_registered(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	size_t n = 0;

	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT DISTINCT name, unit FROM metrics", -1, &st,
					    NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *unit = (const char *)sqlite3_column_text(st, 1);
		const struct eb_metric *m = eb_metric_find(name);

		ck_assert_msg(m != NULL, "stored metric '%s' is not in the registry", name);
		ck_assert_msg(strcmp(m->unit, unit ? unit : "") == 0,
			      "%s is stored in '%s', the registry says '%s'", name, unit, m->unit);
		ck_assert_msg(!(m->flags & EB_METRIC_ACCURACY), "%s", name);
		n++;
	}
	sqlite3_finalize(st);
	if (eb_test_q(db, "SELECT count(*) FROM sqlite_master WHERE name = 'accuracy'") > 0) {
		ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT DISTINCT metric FROM accuracy", -1, &st,
						    NULL),
				 SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *name = (const char *)sqlite3_column_text(st, 0);
			const struct eb_metric *m = eb_metric_find(name);

			ck_assert_msg(m && (m->flags & EB_METRIC_ACCURACY),
				      "accuracy figure '%s' is not a registered accuracy metric", name);
			n++;
		}
		sqlite3_finalize(st);
	}
	ck_assert_msg(n > 0, "no metric stored at all");
}

double eb_test_vmrss_kb(int pid)
{
	char p[64], line[256];
	double kb = -1;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/status", pid);
	f = fopen(p, "r");
	ck_assert_msg(f != NULL, "no process %d", pid);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lf kB", &kb) == 1)
			break;
	fclose(f);
	ck_assert_msg(kb >= 0, "process %d has no VmRSS", pid);
	return kb;
}

int eb_test_tokens_cb(void *ud, uint64_t t_ns, int n_tokens)
{
	struct eb_test_tokens *tt = ud;

	(void)n_tokens;
	if (tt->n < EB_TEST_TOKENS_MAX)
		tt->t[tt->n++] = t_ns;
	if (tt->kill_after > 0 && tt->n == tt->kill_after)
		kill(tt->victim, SIGKILL);
	return 0;
}

/* Zombies do not count: in a container whose PID 1 does not reap, an orphan stays one. */
int eb_test_pgrp_gone(pid_t pgid)
{
	for (int tries = 0; tries < 200; tries++) {
		DIR *d = opendir("/proc");
		struct dirent *de;
		int alive = 0;

		ck_assert_ptr_nonnull(d);
		while ((de = readdir(d)) && !alive) {
			char path[300], buf[1024], *rp;
			FILE *f;
			char state;
			int ppid, pgrp;

			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
			f = fopen(path, "r");
			if (!f)
				continue;
			buf[0] = '\0';
			if (!fgets(buf, sizeof(buf), f))
				buf[0] = '\0';
			fclose(f);
			rp = strrchr(buf, ')'); /* the command name may hold spaces */
			if (rp && sscanf(rp + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 &&
			    pgrp == pgid && state != 'Z')
				alive = 1;
		}
		closedir(d);
		if (!alive)
			return 1;
		eb_clock_sleep_ns(10000000ull, NULL);
	}
	return 0;
}

/* --- a fake scoring adapter ---------------------------------------------------------- */

struct eb_test_fake eb_test_fake;

static int eb_fake_tokenize(void *st, const char *text, int add_special, int32_t **out, size_t *n,
			    struct eb_err *err)
{
	size_t len = strlen(text), k = 0;
	int32_t *t = eb_xmalloc((len + 2) * sizeof(*t));

	if (add_special)
		t[k++] = 1; /* BOS */
	for (size_t i = 0; i < len; i++)
		t[k++] = (int32_t)(unsigned char)text[i] + 3;
	*out = t;
	*n = k;
	return 0;
}

static int eb_fake_detokenize(void *st, const int32_t *t, size_t n, char **text, struct eb_err *err)
{
	return eb_err_set(err, EB_EUNSUPPORTED, "not needed");
}

static int eb_fake_loglik(void *st, const struct eb_loglik_req *req, struct eb_err *err)
{
	static float logits[EB_TEST_FAKE_VOCAB];
	const float *rows[7];
	size_t seq[7], pos[7];
	double lp[7];
	size_t k = 0;
	int full = (req->flags & EB_LOGLIK_LOGITS) != 0;

	for (size_t v = 0; v < EB_TEST_FAKE_VOCAB; v++)
		logits[v] = -0.01f * (float)v;
	eb_test_fake.flags = req->flags;
	eb_test_fake.max_len = 0;
	eb_test_fake.rows = 0;
	memset(eb_test_fake.sums, 0, sizeof(eb_test_fake.sums));
	for (size_t s = 0; s < req->n_seqs; s++) {
		const struct eb_loglik_seq *q = &req->seqs[s];

		if (q->n_tokens > eb_test_fake.max_len)
			eb_test_fake.max_len = q->n_tokens;
		for (size_t p = q->first; p + 1 < q->n_tokens; p++) {
			seq[k] = s;
			pos[k] = p;
			lp[k] = -0.01 * q->tokens[p + 1];
			rows[k] = logits;
			if (s < 64)
				eb_test_fake.sums[s] += lp[k];
			eb_test_fake.rows++;
			if (++k == 7 || (s + 1 == req->n_seqs && p + 2 == q->n_tokens)) {
				struct eb_loglik_rows r = { k, seq, pos, full ? rows : NULL,
							    full ? NULL : lp, EB_TEST_FAKE_VOCAB, 0 };
				int ret = req->on_rows(req->ud, &r, err);

				k = 0;
				if (ret)
					return ret;
			}
		}
	}
	return 0;
}

static const struct eb_opt eb_fake_opts[] = { { NULL } };

static int eb_fake_generate(void *st, const struct eb_gen_req *req, struct eb_gen_res *res,
			    struct eb_err *err)
{
	const char *r = eb_test_fake.reply ? eb_test_fake.reply : " A";

	(void)st;
	(void)err;
	eb_test_fake.n_generate++;
	if (req->text)
		eb_buf_addstr(req->text, r);
	res->n_out = 1;
	return 0;
}

const struct eb_adapter_ops eb_test_fake_ops = {
	.name = "fake",
	.abi = EB_ADAPTER_ABI,
	.caps = EB_CAP_TOKENIZE | EB_CAP_LOGLIK | EB_CAP_TEXT,
	.options = eb_fake_opts,
	.help = "byte tokens, log p(t) = -0.01 t",
	.tokenize = eb_fake_tokenize,
	.detokenize = eb_fake_detokenize,
	.generate = eb_fake_generate,
	.loglik = eb_fake_loglik,
};

const struct eb_adapter_ops eb_test_fake_logits_ops = {
	.name = "fake-logits",
	.abi = EB_ADAPTER_ABI,
	.caps = EB_CAP_TOKENIZE | EB_CAP_LOGLIK | EB_CAP_LOGITS | EB_CAP_TEXT,
	.options = eb_fake_opts,
	.help = "byte tokens, log p(t) = -0.01 t, full logits",
	.tokenize = eb_fake_tokenize,
	.detokenize = eb_fake_detokenize,
	.generate = eb_fake_generate,
	.loglik = eb_fake_loglik,
};

void eb_test_mc_pick(const double *sum, const size_t *len, size_t n, int *pred, int *pred_norm)
{
	double best = -INFINITY, best_norm = -INFINITY;

	*pred = 0;
	*pred_norm = 0;
	for (size_t k = 0; k < n; k++) {
		if (sum[k] > best) {
			best = sum[k];
			*pred = (int)k;
		}
		if (sum[k] / (double)len[k] > best_norm) {
			best_norm = sum[k] / (double)len[k];
			*pred_norm = (int)k;
		}
	}
}
