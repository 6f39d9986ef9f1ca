/* cmd_bench_load.c: `edgebench bench load-client` — the load workload's client against a loopback server that streams as fast as it can. */
#include "cli.h"
#include "config.h"
#include "eb_clock.h"
#include "eb_util.h"
#include "plan.h"
#include "reader.h"
#include "run.h"
#include "store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char eb_bench_load_usage[] =
	"usage: edgebench bench load-client [--streams N,N,...] [--tokens N] [--requests N]\n"
	"                                   [--gap-us N] [--json]\n"
	"\n"
	"Runs the load workload (an openai target, concurrency cells) against a server in a\n"
	"child process on 127.0.0.1 that answers every /v1/completions with --tokens SSE\n"
	"events (one token each) as fast as its socket takes them, and prints for each\n"
	"concurrency in --streams (default 1,8,64,256): edgebench's output tok/s (the stored\n"
	"output_tps: SSE events per second), the server's own count (tokens it sent / the time\n"
	"from its first request to its last byte) and their ratio, the send lag (p50, p99,\n"
	"max), the achieved concurrency, and the CPU edgebench used (%% of one core; the client\n"
	"is one event loop). Each concurrency N sends --requests (default 2048, at least 4 N)\n"
	"requests of --tokens (default 1024). The last line names the most streams whose\n"
	"send-lag p99 stayed under 1 ms. --gap-us N paces the server: each answer's events\n"
	"go out N microseconds apart (a served model's rhythm), so N streams carry about\n"
	"N x 1e6 / gap events/s; 0 (default): as fast as the socket takes them.\n";

/* --- the server: one epoll loop, every answer written at once ---------------------- */

struct eb_bs_conn {
	char in[8192];
	size_t n_in;
	char *out;
	size_t n_out, off;
	size_t head, ev_len; /* paced: the header's bytes, each token event's */
	long n_ev, k;        /* paced: events in the answer, released so far */
	uint64_t next_t;     /* paced: when the next event is released; 0: all at once */
};

/* What the server counted, written to the parent when it is told to stop. */
struct eb_bs_count {
	long long tokens, requests;
	uint64_t t_first, t_last; /* first request in, last byte out (eb_clock_ns) */
};

/* The SSE body of a completion of n tokens: one event per token, usage, [DONE]. */
static void eb_bs_answer(struct eb_bs_conn *c, long n)
{
	static const char ev[] = "data: {\"choices\":[{\"text\":\"x\",\"index\":0,"
				 "\"finish_reason\":null}]}\n\n";
	struct eb_buf body, all;

	eb_buf_init(&body, 0);
	eb_buf_init(&all, 0);
	for (long i = 0; i + 1 < n; i++)
		eb_buf_add(&body, ev, sizeof(ev) - 1);
	eb_buf_addf(&body,
		    "data: {\"choices\":[{\"text\":\"x\",\"index\":0,\"finish_reason\":\"length\"}]}"
		    "\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":16,"
		    "\"completion_tokens\":%ld}}\n\ndata: [DONE]\n\n",
		    n);
	eb_buf_addf(&all,
		    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: %zu\r\n"
		    "\r\n",
		    body.len);
	eb_buf_add(&all, body.buf, body.len);
	c->head = all.len - body.len;
	c->ev_len = sizeof(ev) - 1;
	c->n_ev = n;
	c->k = 0;
	free(c->out);
	c->out = eb_buf_detach(&all, &c->n_out);
	c->off = 0;
	eb_buf_release(&body);
}

/* How far the answer may be written: all of it, or (paced) up to the released events. */
static size_t eb_bs_allowed(const struct eb_bs_conn *c)
{
	size_t lim;

	if (!c->next_t || c->k >= c->n_ev)
		return c->n_out;
	lim = c->head + (size_t)c->k * c->ev_len;
	return lim < c->n_out ? lim : c->n_out;
}

/* Reads what came in; a whole request gets its answer. -1: close the connection. */
static int eb_bs_read(struct eb_bs_conn *c, int fd, struct eb_bs_count *k)
{
	for (;;) {
		ssize_t r = recv(fd, c->in + c->n_in, sizeof(c->in) - 1 - c->n_in, 0);
		char *hend, *cl, *mt;
		size_t need;

		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r <= 0 || c->n_in + (size_t)r >= sizeof(c->in) - 1)
			return -1;
		c->n_in += (size_t)r;
		c->in[c->n_in] = '\0';
		hend = strstr(c->in, "\r\n\r\n");
		if (!hend)
			continue;
		cl = strcasestr(c->in, "Content-Length:");
		need = (size_t)(hend + 4 - c->in) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
		if (c->n_in < need)
			continue;
		c->n_in = 0; /* one request at a time on a connection (no pipelining) */
		if (strncmp(c->in, "POST /v1/completions ", 21) != 0) {
			/* describe()'s questions: not counted, nothing to tell */
			static const char nf[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";

			free(c->out);
			c->out = eb_xstrdup(nf);
			c->n_out = sizeof(nf) - 1;
			c->off = 0;
			return 1;
		}
		mt = strstr(hend, "\"max_tokens\":");
		if (!k->requests)
			k->t_first = eb_clock_ns();
		k->requests++;
		k->tokens += mt ? strtol(mt + 13, NULL, 10) : 1;
		eb_bs_answer(c, mt ? strtol(mt + 13, NULL, 10) : 1);
		return 1;
	}
}

/* Writes what the socket takes; 1 when the answer is out. */
static int eb_bs_write(struct eb_bs_conn *c, int fd, struct eb_bs_count *k)
{
	while (c->off < c->n_out) {
		size_t lim = eb_bs_allowed(c);
		ssize_t w;

		if (c->off >= lim)
			return 0; /* the next event is not due yet */
		w = send(fd, c->out + c->off, lim - c->off, MSG_NOSIGNAL);

		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (w <= 0)
			return -1;
		c->off += (size_t)w;
	}
	if (c->n_out > 40) /* an answer, not a 404 */
		k->t_last = eb_clock_ns();
	return 1;
}

/* The child: serves lfd until ctl (the parent's end of a pipe) closes, then writes its
 * count to res and exits. */
static void eb_bs_serve(int lfd, int ctl, int res, long gap_us)
{
	int max_fd = 0;
	int ep = epoll_create1(0);
	struct epoll_event e = { .events = EPOLLIN };
	struct eb_bs_count k = { 0 };
	struct eb_bs_conn **conns = eb_xcalloc(65536, sizeof(*conns));

	e.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &e);
	e.data.fd = ctl;
	epoll_ctl(ep, EPOLL_CTL_ADD, ctl, &e);
	for (;;) {
		struct epoll_event ev[64];
		uint64_t now = eb_clock_ns(), soon = 0;
		int n, wait_ms = -1;

		/* paced answers: release each connection's due events and write them */
		for (int fd = 0; gap_us > 0 && fd <= max_fd; fd++) {
			struct eb_bs_conn *c = conns[fd];

			if (!c || !c->out || c->k >= c->n_ev)
				continue;
			if (now >= c->next_t) {
				c->k++;
				c->next_t += (uint64_t)gap_us * 1000u;
				if (eb_bs_write(c, fd, &k) < 0)
					c->k = c->n_ev;
			}
			if (c->k < c->n_ev && (!soon || c->next_t < soon))
				soon = c->next_t;
		}
		if (soon)
			wait_ms = soon > now ? (int)((soon - now) / 1000000u) : 0;
		n = epoll_wait(ep, ev, 64, wait_ms);

		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd, one = 1, rc = 0;
			struct eb_bs_conn *c;

			if (fd == ctl) {
				ssize_t w = write(res, &k, sizeof(k));

				_exit(w == (ssize_t)sizeof(k) ? 0 : 1);
			}
			if (fd == lfd) {
				int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

				if (cfd < 0 || cfd >= 65536) {
					if (cfd >= 0)
						close(cfd);
					continue;
				}
				setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				conns[cfd] = eb_xcalloc(1, sizeof(**conns));
				if (cfd > max_fd)
					max_fd = cfd;
				e.events = EPOLLIN;
				e.data.fd = cfd;
				epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &e);
				continue;
			}
			c = conns[fd];
			if (ev[i].events & EPOLLIN)
				rc = eb_bs_read(c, fd, &k);
			if (rc == 1 && gap_us > 0 && c->n_ev > 0)
				c->next_t = eb_clock_ns(); /* the first event now, the rest paced */
			if (rc == 1 || (rc == 0 && (ev[i].events & EPOLLOUT))) {
				rc = eb_bs_write(c, fd, &k);
				e.events = rc == 0 ? EPOLLIN | EPOLLOUT : EPOLLIN;
				e.data.fd = fd;
				epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
			}
			if (rc < 0 || (ev[i].events & (EPOLLHUP | EPOLLERR))) {
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				close(fd);
				free(c->out);
				free(c);
				conns[fd] = NULL;
			}
		}
	}
}

struct eb_bs {
	pid_t pid;
	int port, ctl, res;
};

static int eb_bs_start(struct eb_bs *b, long gap_us, struct eb_err *err)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	int ctl[2], res[2];

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 4096) ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) || pipe(ctl) || pipe(res)) {
		if (lfd >= 0)
			close(lfd);
		return eb_err_set(err, EB_EIO, "cannot start the loopback server: %s",
				  strerror(errno));
	}
	b->port = ntohs(a.sin_port);
	b->pid = fork();
	if (b->pid < 0) {
		close(lfd);
		close(ctl[0]);
		close(ctl[1]);
		close(res[0]);
		close(res[1]);
		return eb_err_set(err, EB_EIO, "fork: %s", strerror(errno));
	}
	if (b->pid == 0) {
		close(ctl[1]);
		close(res[0]);
		eb_bs_serve(lfd, ctl[0], res[1], gap_us);
		_exit(1);
	}
	close(lfd);
	close(ctl[0]);
	close(res[1]);
	b->ctl = ctl[1];
	b->res = res[0];
	return 0;
}

/* Stops the server and reads its count. */
static int eb_bs_stop(struct eb_bs *b, struct eb_bs_count *k, struct eb_err *err)
{
	ssize_t r;

	close(b->ctl);
	r = read(b->res, k, sizeof(*k));
	close(b->res);
	waitpid(b->pid, NULL, 0);
	if (r != (ssize_t)sizeof(*k))
		return eb_err_set(err, EB_EIO, "the loopback server did not report its count");
	return 0;
}

/* --- the client: edgebench's own run loop ------------------------------------------ */

struct eb_bl_figs {
	double output_tps, concurrency, lag_p50, lag_p99, lag_max;
	long long failed;
};

static int eb_bl_metric(void *arg, const struct eb_store_metric *m)
{
	struct eb_bl_figs *f = arg;

	if (strcmp(m->name, "output_tps") == 0)
		f->output_tps = m->mean;
	else if (strcmp(m->name, "concurrency") == 0)
		f->concurrency = m->mean;
	else if (strcmp(m->name, "failed_requests") == 0)
		f->failed = (long long)m->mean;
	else if (strcmp(m->name, "send_lag_ms") == 0) {
		f->lag_p50 = m->median;
		f->lag_p99 = m->p99;
		f->lag_max = m->max;
	}
	return 0;
}

/* CPU seconds of this process so far (the run loop is its one busy thread). */
static double eb_bl_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* One concurrency: a fresh server, a run of one load cell into dir, both counts. */
static int eb_bl_point(const char *dir, long streams, long long tokens, long long reqs,
		       long gap_us, struct eb_bl_figs *f, struct eb_bs_count *k, double *cpu_pct,
		       struct eb_err *err)
{
	char cfgpath[PATH_MAX], dbpath[PATH_MAX], url[64], *errors = NULL, *text;
	struct eb_run_opts ro = { 0 };
	struct eb_run_result rr;
	struct eb_config cfg;
	struct eb_plan plan = { 0 };
	struct eb_store *s;
	struct eb_bs b = { 0, 0, -1, -1 };
	double cpu0;
	uint64_t t0;
	json_t *c;
	int ret, ret2;

	memset(&cfg, 0, sizeof(cfg));
	ret = eb_bs_start(&b, gap_us, err);
	if (ret)
		return ret;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", b.port);
	c = json_pack("{s:s, s:[{s:s, s:s, s:{s:s, s:s, s:f}}], s:[{s:s, s:[{s:s, s:s}]}],"
		      " s:{s:{s:[i], s:i, s:i, s:i, s:i}}}",
		      "name", "bench-load-client", "targets", "id", "loopback", "adapter",
		      "openai", "options", "base_url", url, "tokenize", "off", "timeout_s", 600.0,
		      "models", "id", "m", "variants", "quant", "q", "model_name", "m",
		      "workloads", "load", "concurrency", (int)streams, "requests",
		      (int)(reqs > 4 * streams ? reqs : 4 * streams), "warmup", 0, "prompt_tokens", 16, "gen_tokens",
		      (int)tokens);
	text = json_dumps(c, JSON_INDENT(2));
	json_decref(c);
	snprintf(cfgpath, sizeof(cfgpath), "%s/load-c%ld.json", dir, streams);
	snprintf(dbpath, sizeof(dbpath), "%s/load-c%ld.db", dir, streams);
	ret = eb_write_file(cfgpath, text, strlen(text), err);
	free(text);
	if (!ret)
		ret = eb_config_load(&cfg, cfgpath, &errors, err);
	free(errors);
	if (!ret)
		ret = eb_plan_build(&plan, &cfg, NULL, err);
	ro.db_path = dbpath;
	ro.quiet = 1;
	cpu0 = eb_bl_cpu_s();
	t0 = eb_clock_ns();
	if (!ret)
		ret = eb_run(&cfg, &plan, &ro, &rr, err);
	*cpu_pct = 100 * (eb_bl_cpu_s() - cpu0) / ((eb_clock_ns() - t0) / 1e9);
	ret2 = eb_bs_stop(&b, k, err);
	if (!ret)
		ret = ret2;
	if (!ret && rr.n_ok != 1)
		ret = eb_err_set(err, EB_EADAPTER, "the load cell failed (see `edgebench list --db "
						   "%s`)", dbpath);
	if (!ret)
		ret = eb_store_open(&s, dbpath, 1, err);
	if (!ret) {
		ret = eb_store_read_metrics(s, 0, eb_bl_metric, f, err);
		eb_store_close(s);
	}
	eb_plan_release(&plan);
	eb_config_release(&cfg);
	return ret;
}

/* A figure for --json: null where it could not be measured (json_real takes no NaN, and a
 * json_pack given NULL would drop the whole row). */
static json_t *eb_bl_num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

int eb_cmd_bench_load(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "streams", required_argument, NULL, 's' }, { "tokens", required_argument, NULL, 't' },
		{ "requests", required_argument, NULL, 'r' }, { "json", no_argument, NULL, 'j' },
		{ "gap-us", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },            { NULL, 0, NULL, 0 },
	};
	long streams[32] = { 1, 8, 64, 256 }, best = 0;
	long long tokens = 1024, reqs = 2048, gap_us = 0;
	size_t ns = 4;
	char dir[PATH_MAX];
	struct eb_err err;
	json_t *rows;
	int json = 0, c, ret = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		char *p, *end;

		switch (c) {
		case 's':
			ns = 0;
			for (p = optarg; *p && ns < 32; p = *end ? end + 1 : end) {
				streams[ns] = strtol(p, &end, 10);
				if (end == p || streams[ns] < 1 || streams[ns] > 4096 ||
				    (*end && *end != ',')) {
					fprintf(stderr, "edgebench bench load-client: --streams: '%s' is "
							"not a list of counts 1..4096\n",
						optarg);
					return EB_EXIT_USAGE;
				}
				ns++;
			}
			break;
		case 't':
		case 'r':
		case 'g':
			if (eb_parse_ll(optarg, c == 't' ? 2 : c == 'r' ? 1 : 0, 10000000,
					c == 't' ? &tokens : c == 'r' ? &reqs : &gap_us) != 0) {
				fprintf(stderr, "edgebench bench load-client: --%s: '%s' is not a "
						"count\n",
					c == 't' ? "tokens" : c == 'r' ? "requests" : "gap-us", optarg);
				return EB_EXIT_USAGE;
			}
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(eb_bench_load_usage, stdout);
			return EB_EXIT_OK;
		default:
			fputs(eb_bench_load_usage, stderr);
			return EB_EXIT_USAGE;
		}
	}
	rows = json_array(); /* after the options: --help and usage errors return above */
	snprintf(dir, sizeof(dir), "%s/eb-bench-load.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR")
										 : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "edgebench bench load-client: cannot make a directory: %s\n",
			strerror(errno));
		json_decref(rows);
		return EB_EXIT_CELL_FAIL;
	}
	if (!json)
		printf("%8s %9s %14s %14s %8s %9s %9s %9s %9s %6s\n", "streams", "requests",
		       "edgebench t/s", "server t/s", "ratio", "lag p50", "lag p99", "lag max",
		       "in flight", "CPU%");
	for (size_t i = 0; i < ns && !ret; i++) {
		struct eb_bl_figs f = { NAN, NAN, NAN, NAN, NAN, -1 };
		struct eb_bs_count k = { 0 };
		double cpu = NAN, srv;

		ret = eb_bl_point(dir, streams[i], tokens, reqs, (long)gap_us, &f, &k, &cpu, &err);
		if (ret)
			break;
		srv = k.t_last > k.t_first ? (double)k.tokens / ((k.t_last - k.t_first) / 1e9) : NAN;
		if (f.lag_p99 < 1.0 && streams[i] > best)
			best = streams[i];
		if (json)
			json_array_append_new(
				rows, json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I}",
						"streams", (json_int_t)streams[i], "requests",
						(json_int_t)k.requests, "output_tps",
						eb_bl_num(f.output_tps), "server_tps", eb_bl_num(srv),
						"ratio", eb_bl_num(f.output_tps / srv), "send_lag_p50_ms",
						eb_bl_num(f.lag_p50), "send_lag_p99_ms",
						eb_bl_num(f.lag_p99), "send_lag_max_ms",
						eb_bl_num(f.lag_max), "concurrency",
						eb_bl_num(f.concurrency), "cpu_pct", eb_bl_num(cpu),
						"failed", (json_int_t)f.failed));
		else
			printf("%8ld %9lld %14.1f %14.1f %8.4f %9.3f %9.3f %9.3f %9.2f %6.1f\n",
			       streams[i], k.requests, f.output_tps, srv, f.output_tps / srv,
			       f.lag_p50, f.lag_p99, f.lag_max, f.concurrency, cpu);
		fflush(stdout);
	}
	if (ret) {
		fprintf(stderr, "edgebench bench load-client: %s\n", err.msg);
		json_decref(rows);
		return EB_EXIT_CELL_FAIL;
	}
	if (json) {
		json_t *o = json_pack("{s:o, s:I, s:I, s:I}", "rows", rows, "tokens",
				      (json_int_t)tokens, "gap_us", (json_int_t)gap_us,
				      "most_streams_lag_p99_under_1ms", (json_int_t)best);

		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else {
		json_decref(rows);
		printf("most streams with send-lag p99 under 1 ms: %ld\n", best);
	}
	fflush(stdout);
	fprintf(stderr, "edgebench bench load-client: databases in %s\n", dir);
	return EB_EXIT_OK;
}
