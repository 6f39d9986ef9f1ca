/* exec.c: the exec adapter: runs a vendor program from an argv template (no shell) and times its output. */
#include "adapter.h"

#include "eb_cleanup.h"
#include "eb_clock.h"
#include "eb_proc.h"
#include "eb_regex.h"
#include "eb_util.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const eb_exec_streams[] = { "lines", "bytes", "none", NULL };

static const struct eb_opt eb_exec_opts[] = {
	{ .name = "argv", .type = EB_OPT_ARR,
	  .help = "program and arguments, run without a shell, e.g. [\"/opt/app/run\", \"-n\", "
		  "\"{max_tokens}\", \"{prompt}\"]; placeholders {prompt}, {prompt_file} (the "
		  "prompt written to a temporary file), {max_tokens}, {model}, {seed}, "
		  "{temperature}; [\"env\", \"-C\", \"DIR\", ...] runs it in DIR" },
	{ .name = "env", .type = EB_OPT_OBJ,
	  .help = "extra environment variables {\"NAME\": \"value\"} for the program" },
	{ .name = "timeout_s", .type = EB_OPT_NUM, .def = EB_DEF_NUM(600),
	  .range = EB_RANGE(0.001, 604800),
	  .help = "limit on one run of the program; past it the process group is killed and the "
		  "request fails" },
	{ .name = "stream", .type = EB_OPT_ENUM, .def = EB_DEF_STR("lines"),
	  .choices = eb_exec_streams,
	  .help = "token events from stdout: lines = each output line, bytes = each chunk read "
		  "(for programs that print tokens as they come: TTFT and ITL), none = no events "
		  "(only the parsed figures and wall_ms)" },
	{ .name = "parsers", .type = EB_OPT_OBJ,
	  .help = "figures from stdout and stderr lines: {\"name\": \"regex\"} (PCRE2, which takes "
		  "POSIX extended regexes; bounded work per line), the first group (else the whole "
		  "match) stored as server.name, a number when it reads as one; the last match wins; "
		  "matched lines are not token events" },
	{ .name = "json_lines", .type = EB_OPT_BOOL, .def = EB_DEF_BOOL(0),
	  .help = "stdout lines that are JSON objects have their keys copied into the server "
		  "figures (and are not token events)" },
	{ .name = "ignore_regex", .type = EB_OPT_STR,
	  .help = "stdout lines matching this regex (log noise such as \"loading model\") are "
		  "neither token events nor figures" },
	{ .name = "tokens_regex", .type = EB_OPT_STR,
	  .help = "regex whose first group is the program's own count of generated tokens "
		  "(n_out)" },
	{ .name = "tokens_json_key", .type = EB_OPT_STR,
	  .help = "key of a JSON line holding the program's own count of generated tokens "
		  "(n_out)" },
	{ NULL },
};

/* A line longer than this is cut for parsing (the rest is still read). */
#define EB_EXEC_LINE_MAX ((size_t)1 << 20)
#define EB_EXEC_TAIL 5
#define EB_EXEC_TAIL_LINE 300
/* After SIGTERM, the time a program gets to exit before SIGKILL. */
#define EB_EXEC_GRACE_NS 2000000000ull
/*
 * After the program exits, how long its output may stay open (a background child holding
 * the pipe) before its process group is killed: enough to drain what is buffered.
 */
#define EB_EXEC_LINGER_NS 1000000000ull
/*
 * Token events taken for a request of n_predict tokens: 2 * n_predict + this margin (log
 * lines that reach the token count); past it the program is ended and the request fails,
 * so a program that prints without end holds no more than that many token times.
 */
#define EB_EXEC_EVENTS_MARGIN 4096ull
/*
 * Bytes of stdout taken for one request; past it the program is ended and the request
 * fails. In bytes mode one event is one read of up to a pipe's size, so the event cap
 * alone lets a program that prints without end make edgebench read and scan hundreds of
 * MB (`yes`: 4,104 reads of 64 KiB) before it stops; this cap stops it after 16 MiB.
 */
#define EB_EXEC_STDOUT_MAX (16ull << 20)

enum { EB_EXEC_LINES, EB_EXEC_BYTES, EB_EXEC_NONE };

struct eb_exec_parser {
	char *name;
	char *what;            /* "parser 'name'", for messages */
	struct eb_regex re;
};

struct eb_exec {
	char **tmpl;            /* the argv template, NULL-terminated */
	size_t n_tmpl;
	char **env;             /* "NAME=value", NULL-terminated, or NULL */
	int stream;
	uint64_t timeout_ns;
	struct eb_exec_parser *parsers;
	size_t n_parsers;
	int json_lines;
	int have_tokens_re;
	struct eb_regex tokens_re;
	int have_ignore_re;
	struct eb_regex ignore_re;
	char *tokens_key;
	int needs_file;         /* the template uses {prompt_file} */
	const char *model;      /* borrowed from the open() args */
};

static const char *const eb_exec_placeholders[] = { "prompt", "prompt_file", "max_tokens",
						    "model", "seed", "temperature", NULL };

static void eb_exec_close(void *state)
{
	struct eb_exec *X = state;

	if (!X)
		return;
	for (size_t i = 0; X->tmpl && X->tmpl[i]; i++)
		free(X->tmpl[i]);
	free(X->tmpl);
	for (size_t i = 0; X->env && X->env[i]; i++)
		free(X->env[i]);
	free(X->env);
	for (size_t i = 0; i < X->n_parsers; i++) {
		free(X->parsers[i].name);
		free(X->parsers[i].what);
		eb_regex_release(&X->parsers[i].re);
	}
	free(X->parsers);
	if (X->have_tokens_re)
		eb_regex_release(&X->tokens_re);
	if (X->have_ignore_re)
		eb_regex_release(&X->ignore_re);
	free(X->tokens_key);
	free(X);
}

/*
 * Looks at "{name}" at `p` (p[0] == '{'): returns the placeholder's length including
 * braces and its index in *which, 0 when `p` does not start a {lowercase_name} at all,
 * or -1 for a {lowercase_name} that is not a placeholder.
 */
static int eb_exec_placeholder(const char *p, int *which)
{
	size_t n = 1;

	while (islower((unsigned char)p[n]) || p[n] == '_')
		n++;
	if (n == 1 || p[n] != '}')
		return 0;
	for (int i = 0; eb_exec_placeholders[i]; i++)
		if (strlen(eb_exec_placeholders[i]) == n - 1 &&
		    strncmp(p + 1, eb_exec_placeholders[i], n - 1) == 0) {
			*which = i;
			return (int)n + 1;
		}
	return -1;
}

static int eb_exec_compile(struct eb_regex *re, const char *pattern, const char *what,
			   struct eb_err *err)
{
	char msg[300];

	if (eb_regex_compile(re, pattern, msg, sizeof(msg)) == 0)
		return 0;
	return eb_err_set(err, EB_EINVAL, "exec: bad regex for %s '%s': %s", what, pattern, msg);
}

static int eb_exec_open(const struct eb_adapter_args *a, void **state, struct eb_err *err)
{
	const struct eb_opt *T = eb_exec_opts;
	const json_t *argv = json_object_get(a->options, "argv");
	const json_t *env = json_object_get(a->options, "env");
	const json_t *parsers = json_object_get(a->options, "parsers");
	const char *mode = eb_opt_str(a->options, T, "stream");
	const char *tre = eb_opt_str(a->options, T, "tokens_regex");
	const char *ire = eb_opt_str(a->options, T, "ignore_regex");
	struct eb_exec *X = eb_xcalloc(1, sizeof(*X));
	const char *key;
	json_t *v;
	size_t i;
	int ret = 0;

	if (!json_is_array(argv) || json_array_size(argv) == 0) {
		ret = eb_err_set(err, EB_EINVAL, "exec: option \"argv\" (the program and its "
						 "arguments) is required");
		goto out;
	}
	X->n_tmpl = json_array_size(argv);
	X->tmpl = eb_xcalloc(X->n_tmpl + 1, sizeof(*X->tmpl));
	json_array_foreach(argv, i, v) {
		const char *s = json_string_value(v);

		if (!s || (i == 0 && !*s)) {
			ret = eb_err_set(err, EB_EINVAL, "exec: argv[%zu] must be a%s string", i,
					 i == 0 ? " non-empty" : "");
			goto out;
		}
		for (const char *p = strchr(s, '{'); p; p = strchr(p + 1, '{')) {
			int which = -1;
			int n = eb_exec_placeholder(p, &which);

			if (n < 0) {
				ret = eb_err_set(err, EB_EINVAL,
						 "exec: argv[%zu] '%s': unknown placeholder; known: "
						 "{prompt}, {prompt_file}, {max_tokens}, {model}, {seed}, "
						 "{temperature}", i, s);
				goto out;
			}
			if (n > 0 && strcmp(eb_exec_placeholders[which], "prompt_file") == 0)
				X->needs_file = 1;
		}
		X->tmpl[i] = eb_xstrdup(s);
	}
	if (json_is_object(env)) {
		X->env = eb_xcalloc(json_object_size(env) + 1, sizeof(*X->env));
		i = 0;
		json_object_foreach((json_t *)env, key, v) {
			struct eb_buf b;

			if (!json_is_string(v) || !*key || strchr(key, '=')) {
				ret = eb_err_set(err, EB_EINVAL, "exec: env '%s' needs a name without "
								 "'=' and a string value", key);
				goto out;
			}
			eb_buf_init(&b, 0);
			eb_buf_addf(&b, "%s=%s", key, json_string_value(v));
			X->env[i++] = eb_buf_detach(&b, NULL);
		}
	}
	if (json_is_object(parsers)) {
		X->parsers = eb_xcalloc(json_object_size(parsers) + 1, sizeof(*X->parsers));
		json_object_foreach((json_t *)parsers, key, v) {
			char what[160];

			if (!json_is_string(v)) {
				ret = eb_err_set(err, EB_EINVAL, "exec: parser '%s' must be a regex "
								 "string", key);
				goto out;
			}
			snprintf(what, sizeof(what), "parser '%s'", key);
			ret = eb_exec_compile(&X->parsers[X->n_parsers].re, json_string_value(v),
					      what, err);
			if (ret)
				goto out;
			X->parsers[X->n_parsers].what = eb_xstrdup(what);
			X->parsers[X->n_parsers++].name = eb_xstrdup(key);
		}
	}
	if (tre) {
		ret = eb_exec_compile(&X->tokens_re, tre, "tokens_regex", err);
		if (ret)
			goto out;
		X->have_tokens_re = 1;
	}
	if (ire) {
		ret = eb_exec_compile(&X->ignore_re, ire, "ignore_regex", err);
		if (ret)
			goto out;
		X->have_ignore_re = 1;
	}
	X->tokens_key = eb_xstrdup(eb_opt_str(a->options, T, "tokens_json_key"));
	X->json_lines = eb_opt_bool(a->options, T, "json_lines");
	X->stream = strcmp(mode, "bytes") == 0 ? EB_EXEC_BYTES
		    : strcmp(mode, "none") == 0 ? EB_EXEC_NONE
						: EB_EXEC_LINES;
	X->timeout_ns = (uint64_t)(eb_opt_num(a->options, T, "timeout_s") * 1e9);
	X->model = a->model_file ? a->model_file : a->model_name ? a->model_name : "";
out:
	if (ret) {
		eb_exec_close(X);
		return ret;
	}
	*state = X;
	return 0;
}

/* --- one run ---------------------------------------------------------------------- */

/* A stdout read not yet handed to on_token: its bytes' lines are still open. */
struct eb_exec_pend {
	uint64_t t;
	int visible; /* it gave a non-space byte to the stdout line still open */
	int counted; /* it gave one to a line that was not a figures line: a token event */
};

struct eb_exec_run {
	struct eb_exec *X;
	const struct eb_gen_req *req;
	struct eb_gen_res *res;
	json_t *server;
	long long n_out;
	int cb_stop;                 /* on_token asked to stop */
	unsigned long long n_events; /* token events handed to on_token */
	unsigned long long max_events;
	int overrun;                 /* the program was stopped: 1 more than max_events,
					2 more than EB_EXEC_STDOUT_MAX bytes of stdout */
	unsigned long long out_bytes; /* stdout bytes read */
	struct eb_buf out_line, err_line;
	/* bytes mode: reads [pend_base, pend_base + n_pend) wait for their lines to end */
	struct eb_exec_pend *pend;
	size_t n_pend, alloc_pend;
	size_t pend_base;            /* global index of pend[0] */
	long long line_first;        /* global index of the read that began the open stdout
					line, -1 when it is empty */
	uint64_t t_last_read;        /* when the last stdout read arrived */
	uint64_t t_first_event;      /* when the first token event arrived */
	uint64_t t_prev_event;
	unsigned long long n_event_times; /* distinct arrival times among the events */
	uint64_t t_eof;              /* when stdout ended, 0 before */
	size_t n_text;               /* bytes of the reply appended to req->text */
	char tail[EB_EXEC_TAIL][EB_EXEC_TAIL_LINE];
	size_t n_tail;               /* stderr lines seen (the ring holds the last 5) */
	struct eb_buf warn;          /* what the result should say went wrong, or empty */
};

static void eb_exec_emit(struct eb_exec_run *r, uint64_t t)
{
	if (r->overrun || ++r->n_events > r->max_events) {
		r->overrun = 1;
		return;
	}
	if (r->n_events == 1)
		r->t_first_event = t;
	if (r->n_events == 1 || t != r->t_prev_event)
		r->n_event_times++;
	r->t_prev_event = t;
	if (r->cb_stop || !r->req->on_token)
		return;
	/* a line or a read is not a token: how many it carried is unknown */
	if (r->req->on_token(r->req->ud, t, -1))
		r->cb_stop = 1;
}

/* Below this between the first token event and the end of stdout, the tokens were not
 * seen as they were made: a block buffer was flushed when the program exited. */
#define EB_EXEC_FLUSH_NS 1000000ull

/*
 * Whether the token times are buffer flushes rather than token arrivals: more than one
 * token asked and all tokens arrived in one read (one event, or several at one instant),
 * or the first within EB_EXEC_FLUSH_NS of the end of stdout (a block-buffered program
 * writes everything as it exits; so does one that never ends its line in lines mode).
 */
static int eb_exec_buffered(const struct eb_exec_run *r, int n_predict)
{
	if (r->n_events == 0 || n_predict <= 1 || r->n_out == 1 || r->n_out == 0)
		return 0;
	if (r->n_event_times == 1)
		return 1;
	return r->t_eof && r->t_eof >= r->t_first_event &&
	       r->t_eof - r->t_first_event < EB_EXEC_FLUSH_NS;
}

/* Stores a captured figure: a number when the text is one, else the text. */
static void eb_exec_store(json_t *server, const char *name, const char *s, size_t n)
{
	char buf[256];
	double d;

	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (eb_parse_double(buf, &d) == 0)
		json_object_set_new(server, name, json_real(d));
	else
		json_object_set_new(server, name, json_string(buf));
}

/* Adds `what` to the warnings stored with the result, once per request. */
static void eb_exec_warn(struct eb_exec_run *r, const char *what)
{
	if (r->warn.len && strstr(r->warn.buf, what))
		return;
	eb_buf_addf(&r->warn, "%s%s", r->warn.len ? "; " : "", what);
}

/*
 * The first group of `re` in `line` (else the whole match); 0 when it does not match,
 * and when it gave up at the match limit (a warning names `what`).
 */
static int eb_exec_match(struct eb_exec_run *r, const struct eb_regex *re, const char *what,
			 const char *line, const char **s, size_t *n)
{
	int rc = eb_regex_match(re, line, s, n);

	if (rc < 0) {
		char msg[200];

		snprintf(msg, sizeof(msg), "%s gave up on a line at the match limit", what);
		eb_exec_warn(r, msg);
		return 0;
	}
	return rc;
}

/* Applies parsers to one whole line; returns 1 when it is a figures line. */
static int eb_exec_line(struct eb_exec_run *r, const char *line, int from_stdout)
{
	struct eb_exec *X = r->X;
	const char *s;
	size_t n;
	int hit = 0;

	for (size_t i = 0; i < X->n_parsers; i++)
		if (eb_exec_match(r, &X->parsers[i].re, X->parsers[i].what, line, &s, &n)) {
			eb_exec_store(r->server, X->parsers[i].name, s, n);
			hit = 1;
		}
	if (X->have_tokens_re && eb_exec_match(r, &X->tokens_re, "tokens_regex", line, &s, &n)) {
		char buf[32];
		long long v;

		if (n < sizeof(buf)) {
			memcpy(buf, s, n);
			buf[n] = '\0';
			if (eb_parse_ll(buf, 0, 1LL << 40, &v) == 0)
				r->n_out = v;
		}
		hit = 1;
	}
	if (from_stdout && X->have_ignore_re &&
	    eb_exec_match(r, &X->ignore_re, "ignore_regex", line, NULL, NULL))
		hit = 1;
	if (from_stdout && (X->json_lines || X->tokens_key)) {
		const char *p = line;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '{') {
			json_t *j = json_loads(p, 0, NULL);

			if (json_is_object(j)) {
				json_t *tk = X->tokens_key ? json_object_get(j, X->tokens_key) : NULL;

				if (json_is_integer(tk))
					r->n_out = json_integer_value(tk);
				if (X->json_lines)
					json_object_update(r->server, j);
				hit = 1;
			}
			json_decref(j);
		}
	}
	return hit;
}

static int eb_exec_blank(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
}

/* Hands reads whose lines have all ended to on_token, in order. */
static void eb_exec_flush(struct eb_exec_run *r, size_t upto)
{
	size_t k = 0;

	while (k < r->n_pend && r->pend_base + k < upto) {
		if (r->pend[k].counted)
			eb_exec_emit(r, r->pend[k].t);
		k++;
	}
	if (k && k < r->n_pend)
		memmove(r->pend, r->pend + k, (r->n_pend - k) * sizeof(*r->pend));
	r->n_pend -= k;
	r->pend_base += k;
}

/* One stdout line has ended, completed by a read that arrived at `t`. */
static void eb_exec_out_line(struct eb_exec_run *r, uint64_t t)
{
	const char *line = r->out_line.buf;
	int figures = eb_exec_line(r, line, 1);

	if (!figures && !eb_exec_blank(line) && r->X->stream == EB_EXEC_LINES)
		eb_exec_emit(r, t);
	/* the reply is what the program wrote but its figures, ignored and JSON lines */
	if (!figures && r->req->text) {
		r->n_text += eb_gen_text_add(r->req->text, r->n_text, line, strlen(line));
		r->n_text += eb_gen_text_add(r->req->text, r->n_text, "\n", 1);
	}
	/* bytes: the reads that gave this line visible bytes were tokens, unless figures */
	for (size_t k = 0; k < r->n_pend; k++) {
		if (!figures && r->pend[k].visible)
			r->pend[k].counted = 1;
		r->pend[k].visible = 0;
	}
	eb_buf_reset(&r->out_line);
	r->line_first = -1;
}

/* A read from stdout: `idx` is its global number, `t` when it arrived. */
static void eb_exec_stdout(struct eb_exec_run *r, const char *data, size_t n, size_t idx,
			   uint64_t t)
{
	r->out_bytes += n;
	if (r->out_bytes > EB_EXEC_STDOUT_MAX) {
		r->overrun = 2;
		return;
	}
	if (r->X->stream == EB_EXEC_BYTES) {
		/* reads still waiting for their line to end become events at most */
		if (r->n_pend >= r->max_events) {
			r->overrun = 1;
			return;
		}
		if (r->n_pend == r->alloc_pend) {
			r->alloc_pend = r->alloc_pend ? 2 * r->alloc_pend : 64;
			r->pend = eb_xrealloc(r->pend, r->alloc_pend * sizeof(*r->pend));
		}
		r->pend[r->n_pend].t = t;
		r->pend[r->n_pend].visible = 0;
		r->pend[r->n_pend].counted = 0;
		r->n_pend++;
	}
	for (size_t i = 0; i < n; i++) {
		if (r->line_first < 0)
			r->line_first = (long long)idx;
		if (data[i] == '\n') {
			eb_exec_out_line(r, t);
			continue;
		}
		if (r->n_pend && !isspace((unsigned char)data[i]))
			r->pend[r->n_pend - 1].visible = 1;
		eb_buf_add(&r->out_line, data + i, 1); /* past the cap: the line is cut */
	}
	if (r->X->stream == EB_EXEC_BYTES)
		eb_exec_flush(r, r->line_first < 0 ? idx + 1 : (size_t)r->line_first);
}

static void eb_exec_err_line(struct eb_exec_run *r)
{
	const char *line = r->err_line.buf;

	eb_exec_line(r, line, 0);
	if (!eb_exec_blank(line))
		eb_strlcpy(r->tail[r->n_tail++ % EB_EXEC_TAIL], line, EB_EXEC_TAIL_LINE);
	eb_buf_reset(&r->err_line);
}

static void eb_exec_stderr(struct eb_exec_run *r, const char *data, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (data[i] == '\n')
			eb_exec_err_line(r);
		else
			eb_buf_add(&r->err_line, data + i, 1);
	}
}

/* "; stderr: a | b | c" with the last lines, or "; no stderr output". */
static void eb_exec_tail(const struct eb_exec_run *r, struct eb_buf *b)
{
	size_t n = r->n_tail < EB_EXEC_TAIL ? r->n_tail : EB_EXEC_TAIL;

	if (n == 0) {
		eb_buf_addstr(b, "; no stderr output");
		return;
	}
	eb_buf_addstr(b, "; stderr: ");
	for (size_t i = r->n_tail - n; i < r->n_tail; i++)
		eb_buf_addf(b, "%s%s", i == r->n_tail - n ? "" : " | ", r->tail[i % EB_EXEC_TAIL]);
}

/* Expands one template argument. Caller frees. */
static char *eb_exec_expand(const struct eb_exec *X, const char *s, const struct eb_gen_req *req,
			    const char *prompt_file)
{
	struct eb_buf b;

	eb_buf_init(&b, 0);
	while (*s) {
		int which = -1;
		int n = *s == '{' ? eb_exec_placeholder(s, &which) : 0;

		if (n <= 0) {
			eb_buf_add(&b, s, 1);
			s++;
			continue;
		}
		switch (which) {
		case 0:
			eb_buf_addstr(&b, req->prompt_text ? req->prompt_text : "");
			break;
		case 1:
			eb_buf_addstr(&b, prompt_file ? prompt_file : "");
			break;
		case 2:
			eb_buf_addf(&b, "%d", req->n_predict);
			break;
		case 3:
			eb_buf_addstr(&b, X->model);
			break;
		case 4:
			eb_buf_addf(&b, "%llu", (unsigned long long)req->seed);
			break;
		default:
			eb_buf_addf(&b, "%g", req->temperature);
			break;
		}
		s += n;
	}
	return eb_buf_detach(&b, NULL);
}

static int eb_exec_prompt_file(const struct eb_gen_req *req, char *path, size_t n,
			       struct eb_err *err)
{
	const char *dir = getenv("TMPDIR");
	const char *text = req->prompt_text ? req->prompt_text : "";
	size_t len = strlen(text), off = 0;
	int fd;

	snprintf(path, n, "%s/edgebench-prompt-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		return eb_err_set(err, EB_EIO, "exec: cannot create '%s': %s", path, strerror(errno));
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = errno;

			close(fd);
			unlink(path);
			return eb_err_set(err, EB_EIO, "exec: cannot write '%s': %s", path,
					  strerror(e));
		}
		off += (size_t)w;
	}
	close(fd);
	return 0;
}

/*
 * One run of the program for one request, from its start to its result: what generate()
 * runs alone and generate_many() runs many of from one poll() loop.
 */
struct eb_exec_slot {
	struct eb_exec_run r;
	struct eb_gen_req req;     /* the request (a batch's, with on_token routed to it) */
	struct eb_gen_res *res;    /* where the result goes: the caller's, or own_res */
	struct eb_gen_res own_res;
	struct eb_proc p;
	char prompt_file[4096];
	char **argv;
	size_t n_reads;
	uint64_t deadline, t_exit;
	int status, exited, timed_out, stopped, lingered;
	int slot_file, slot_pgrp;  /* in eb_cleanup, for exits that skip the release */
	pid_t pgid;
	int pidfd;                 /* readable when the program exits, or -1 (no pidfd_open) */
	uint64_t t_kill;           /* wait_exit: SIGTERM sent at the run's end, SIGKILL due then */
	/* generate_many: request i of batch b, due at t_due; t_free when the slot last freed */
	const struct eb_gen_batch *b;
	size_t i;
	int busy;
	uint64_t t_due, t_free;
};

/*
 * Starts the program for `req` (copied) into `s`, results into `res`. On failure returns
 * the code with `err` filled; either way eb_exec_slot_release undoes what was done.
 */
static int eb_exec_slot_start(struct eb_exec *X, struct eb_exec_slot *s,
			      const struct eb_gen_req *req, struct eb_gen_res *res,
			      struct eb_err *err)
{
	struct eb_exec_run *r = &s->r;
	int ret;

	memset(r, 0, sizeof(*r));
	s->req = *req;
	s->res = res;
	s->p = (struct eb_proc){ -1, -1, -1, 0 };
	s->prompt_file[0] = '\0';
	s->argv = NULL;
	s->n_reads = 0;
	s->t_exit = 0;
	s->status = s->exited = s->timed_out = s->stopped = s->lingered = 0;
	s->slot_file = s->slot_pgrp = -1;
	s->pidfd = -1;
	s->t_kill = 0;
	r->X = X;
	r->req = &s->req;
	r->res = res;
	r->server = json_object();
	r->n_out = -1;
	r->line_first = -1;
	eb_buf_init(&r->out_line, EB_EXEC_LINE_MAX);
	eb_buf_init(&r->err_line, EB_EXEC_LINE_MAX);
	eb_buf_init(&r->warn, 0);
	r->max_events = 2ull * (unsigned long long)(req->n_predict > 0 ? req->n_predict : 0) +
			EB_EXEC_EVENTS_MARGIN;
	res->n_prompt = -1;
	res->n_out = -1;
	res->n_cached = -1;
	res->flags = 0;
	res->cache_field = NULL;
	res->server = NULL;

	if (X->needs_file) {
		ret = eb_exec_prompt_file(req, s->prompt_file, sizeof(s->prompt_file), err);
		if (ret) {
			s->prompt_file[0] = '\0';
			return ret;
		}
		s->slot_file = eb_cleanup_file(s->prompt_file);
	}
	s->argv = eb_xcalloc(X->n_tmpl + 1, sizeof(*s->argv));
	for (size_t i = 0; i < X->n_tmpl; i++)
		s->argv[i] = eb_exec_expand(X, X->tmpl[i], req, s->prompt_file);

	res->t_send_ns = eb_clock_ns();
	s->deadline = res->t_send_ns + X->timeout_ns;
	ret = eb_proc_start(&s->p, (const char *const *)s->argv, (const char *const *)X->env,
			    EB_PROC_PIPE_OUT | EB_PROC_PIPE_ERR | EB_PROC_NULL_IN | EB_PROC_NEW_PGRP,
			    err);
	if (ret) {
		eb_err_prefix(err, "exec");
		return ret;
	}
	s->pgid = s->p.pid;
	s->slot_pgrp = eb_cleanup_pgrp(s->pgid);
	/* a load cell of many programs can fill the registry: say so, rather than not run */
	if (s->slot_pgrp < 0 || (X->needs_file && s->slot_file < 0)) {
		char msg[200];

		snprintf(msg, sizeof(msg), "more than %d process groups and prompt files at once: "
					   "not all are removed should edgebench be killed by a "
					   "second signal", EB_CLEANUP_SLOTS);
		eb_exec_warn(r, msg);
	}
#ifdef SYS_pidfd_open
	s->pidfd = (int)syscall(SYS_pidfd_open, s->p.pid, 0);
#endif
	return 0;
}

/*
 * A run that timed out or was cut off: 1 (its loop is over: the result stops the program,
 * waiting up to the grace period) or, with wait_exit, 0 after SIGTERM to its group, so that
 * the loop reads the others while it gets the grace period.
 */
static int eb_exec_slot_end(struct eb_exec_slot *s, uint64_t now, int wait_exit)
{
	if (!wait_exit || s->p.pid <= 0)
		return 1;
	eb_proc_kill(&s->p, SIGTERM);
	s->t_kill = now + EB_EXEC_GRACE_NS;
	return 0;
}

/*
 * Where a run stands before the next poll, at `now`: 0 while its output is to be read on,
 * 1 when its loop is over (stopped, timed out, cut off, or its output ended). With
 * wait_exit, a run whose output ended stays until the program exits (or its deadline), and
 * one that timed out or was cut off until it has exited on SIGTERM or had SIGKILL, so that
 * a loop of many never blocks on one.
 */
static int eb_exec_slot_step(struct eb_exec_slot *s, uint64_t now, int wait_exit)
{
	if (s->t_kill) {
		if (eb_proc_wait_until(&s->p, 1, &s->status) == 1) {
			s->exited = 1;
			return 1;
		}
		if (now < s->t_kill)
			return 0;
		kill(-s->pgid, SIGKILL); /* the result reaps it */
		return 1;
	}
	if (s->p.out_fd < 0 && s->p.err_fd < 0) {
		if (!wait_exit || s->exited)
			return 1;
		if (s->req.stop && *s->req.stop) {
			s->stopped = 1;
			return 1;
		}
		if (eb_proc_wait_until(&s->p, 1, &s->status) == 1) {
			s->exited = 1;
			return 1;
		}
		if (now >= s->deadline) {
			s->timed_out = 1;
			return eb_exec_slot_end(s, now, wait_exit);
		}
		return 0;
	}
	if (s->req.stop && *s->req.stop) {
		s->stopped = 1;
		return 1;
	}
	if (s->r.cb_stop || s->r.overrun)
		return eb_exec_slot_end(s, now, wait_exit);
	/* the program ended: its output may stay open only as long as it takes to drain */
	if (!s->exited && eb_proc_wait_until(&s->p, 1, &s->status) == 1) {
		s->exited = 1;
		s->t_exit = now;
	}
	if (s->exited && now - s->t_exit >= EB_EXEC_LINGER_NS) {
		s->lingered = 1;
		kill(-s->pgid, SIGKILL);
		return 1;
	}
	if (now >= s->deadline) {
		s->timed_out = 1;
		return eb_exec_slot_end(s, now, wait_exit);
	}
	return 0;
}

/*
 * Adds the run's open pipes to fds (at most 2), returning how many; with wait_exit, a run
 * whose pipes closed before its program exited, or that is being ended, adds its pidfd
 * instead, so the exit wakes the loop.
 */
static int eb_exec_slot_fds(const struct eb_exec_slot *s, struct pollfd *fds, int wait_exit)
{
	int n = 0;

	if (s->t_kill) {
		if (s->pidfd >= 0)
			fds[n++] = (struct pollfd){ .fd = s->pidfd, .events = POLLIN };
		return n;
	}
	if (s->p.out_fd >= 0)
		fds[n++] = (struct pollfd){ .fd = s->p.out_fd, .events = POLLIN };
	if (s->p.err_fd >= 0)
		fds[n++] = (struct pollfd){ .fd = s->p.err_fd, .events = POLLIN };
	if (n == 0 && wait_exit && !s->exited && s->pidfd >= 0)
		fds[n++] = (struct pollfd){ .fd = s->pidfd, .events = POLLIN };
	return n;
}

/* Reads what poll() said is ready on one of the run's pipes, which it saw at `t`. */
static void eb_exec_slot_read(struct eb_exec_slot *s, const struct pollfd *fd, uint64_t t,
			      char *buf, size_t size)
{
	struct eb_exec_run *r = &s->r;
	int is_out = fd->fd == s->p.out_fd;
	ssize_t n;

	if (fd->fd == s->pidfd || !(fd->revents & (POLLIN | POLLHUP | POLLERR)))
		return; /* an exit is seen by the next step */
	n = read(fd->fd, buf, size);
	if (n < 0 && errno == EINTR)
		return;
	if (n > 0 && is_out) {
		r->t_last_read = t;
		eb_exec_stdout(r, buf, (size_t)n, s->n_reads++, t);
	} else if (n > 0) {
		eb_exec_stderr(r, buf, (size_t)n);
	} else if (is_out) {
		r->t_eof = t;
		/* end of stdout: an unfinished last line ends here */
		if (r->line_first >= 0)
			eb_exec_out_line(r, r->t_last_read);
		if (r->X->stream == EB_EXEC_BYTES)
			eb_exec_flush(r, s->n_reads);
		close(s->p.out_fd);
		s->p.out_fd = -1;
	} else {
		if (r->err_line.len)
			eb_exec_err_line(r);
		close(s->p.err_fd);
		s->p.err_fd = -1;
	}
}

/* The result of a run whose loop is over: 0 with s->res filled, or the code and `err`. */
static int eb_exec_slot_result(struct eb_exec_slot *s, struct eb_err *err)
{
	struct eb_exec *X = s->r.X;
	struct eb_exec_run *r = &s->r;
	struct eb_gen_res *res = s->res;
	const char *prog = s->argv[0];
	struct eb_buf msg;
	uint64_t t_end;
	int ret = 0;

	eb_buf_init(&msg, 0);
	if (s->lingered) {
		eb_proc_release(&s->p);
		eb_buf_addf(&msg, "a child of '%s' kept stdout or stderr open after it exited; its "
				  "process group was killed", prog);
		eb_exec_warn(r, msg.buf);
		eb_buf_reset(&msg);
	} else if (s->stopped || s->timed_out || r->cb_stop || r->overrun) {
		if (s->exited && (s->p.out_fd >= 0 || s->p.err_fd >= 0))
			kill(-s->pgid, SIGKILL); /* what still holds the output of a finished program */
		eb_proc_stop(&s->p, EB_EXEC_GRACE_NS, &s->status);
	} else if (!s->exited) {
		s->exited = eb_proc_wait_until(&s->p, s->deadline, &s->status);
		if (!s->exited) {
			s->timed_out = 1;
			eb_proc_stop(&s->p, EB_EXEC_GRACE_NS, &s->status);
		}
	}
	t_end = eb_clock_ns();
	json_object_set_new(r->server, "wall_ms", json_real((t_end - res->t_send_ns) / 1e6));
	if (s->stopped) {
		ret = eb_err_set(err, EB_EINTR, "exec: '%s' interrupted", prog);
		goto out;
	}
	if (s->timed_out) {
		eb_exec_tail(r, &msg);
		ret = eb_err_set(err, EB_ETIMEOUT, "exec: '%s' timed out after %g s and was killed%s",
				 prog, X->timeout_ns / 1e9, msg.buf);
		goto out;
	}
	if (r->overrun == 2) {
		ret = eb_err_set(err, EB_EADAPTER,
				 "exec: '%s' wrote more than %llu bytes to stdout for %d tokens; it "
				 "was stopped", prog, EB_EXEC_STDOUT_MAX, s->req.n_predict);
		goto out;
	}
	if (r->overrun) {
		ret = eb_err_set(err, EB_EADAPTER,
				 "exec: '%s' printed more than %llu token events for %d tokens "
				 "(2 x gen_tokens + %llu); it was stopped", prog, r->max_events,
				 s->req.n_predict, EB_EXEC_EVENTS_MARGIN);
		goto out;
	}
	if (r->cb_stop)
		goto done;
	if (WIFSIGNALED(s->status)) {
		eb_exec_tail(r, &msg);
		ret = eb_err_set(err, EB_EADAPTER, "exec: '%s' was killed by signal %d (%s)%s",
				 prog, WTERMSIG(s->status), strsignal(WTERMSIG(s->status)), msg.buf);
		goto out;
	}
	if (WIFEXITED(s->status) && WEXITSTATUS(s->status) != 0) {
		eb_exec_tail(r, &msg);
		ret = eb_err_set(err, EB_EADAPTER, "exec: '%s' exited with status %d%s", prog,
				 WEXITSTATUS(s->status), msg.buf);
		goto out;
	}
done:
	json_object_set_new(r->server, "exit_status", json_integer(0));
	if (r->warn.len)
		json_object_set_new(r->server, "warning", json_string(r->warn.buf));
	if (r->n_out >= 0)
		res->n_out = (int)r->n_out;
	if (eb_exec_buffered(r, s->req.n_predict)) {
		res->flags |= EB_GEN_BUFFERED;
		json_object_set_new(r->server, "buffered", json_true());
	}
	res->server = r->server;
	r->server = NULL;
out:
	eb_buf_release(&msg);
	return ret;
}

/* Undoes eb_exec_slot_start: the program stopped and reaped, its files and buffers gone. */
static void eb_exec_slot_release(struct eb_exec_slot *s)
{
	struct eb_exec_run *r = &s->r;

	if (s->p.pid > 0)
		eb_proc_stop(&s->p, EB_EXEC_GRACE_NS, &s->status);
	eb_proc_release(&s->p);
	if (s->pidfd >= 0)
		close(s->pidfd);
	s->pidfd = -1;
	eb_cleanup_forget(s->slot_pgrp);
	s->slot_pgrp = -1;
	if (s->prompt_file[0])
		unlink(s->prompt_file);
	s->prompt_file[0] = '\0';
	eb_cleanup_forget(s->slot_file);
	s->slot_file = -1;
	for (size_t i = 0; s->argv && i < r->X->n_tmpl; i++)
		free(s->argv[i]);
	free(s->argv);
	s->argv = NULL;
	free(r->pend);
	r->pend = NULL;
	json_decref(r->server);
	r->server = NULL;
	eb_buf_release(&r->out_line);
	eb_buf_release(&r->err_line);
	eb_buf_release(&r->warn);
}

static int eb_exec_generate(void *state, const struct eb_gen_req *req, struct eb_gen_res *res,
			    struct eb_err *err)
{
	struct eb_exec *X = state;
	struct eb_exec_slot s;
	int ret;

	memset(&s, 0, sizeof(s));
	ret = eb_exec_slot_start(X, &s, req, res, err);
	while (!ret && !eb_exec_slot_step(&s, eb_clock_ns(), 0)) {
		struct pollfd fds[2];
		char buf[65536];
		uint64_t now = eb_clock_ns(), t;
		int nfds = eb_exec_slot_fds(&s, fds, 0);
		int ms = s.deadline > now ? (int)((s.deadline - now) / 1000000ull) + 1 : 0;
		int rc;

		if (ms > 50)
			ms = 50; /* look at *stop now and then */
		rc = poll(fds, (nfds_t)nfds, ms);
		t = eb_clock_ns();
		if (rc < 0 && errno != EINTR) {
			ret = eb_err_set(err, EB_EIO, "exec: poll: %s", strerror(errno));
			break;
		}
		for (int i = 0; rc > 0 && i < nfds; i++)
			eb_exec_slot_read(&s, &fds[i], t, buf, sizeof(buf));
	}
	if (!ret)
		ret = eb_exec_slot_result(&s, err);
	eb_exec_slot_release(&s);
	return ret;
}

/* --- many runs at once (generate_many) ----------------------------------------------- */

/* A batch request's token, passed on with its index. */
static int eb_exec_batch_token(void *ud, uint64_t t_ns, int n_tokens)
{
	struct eb_exec_slot *s = ud;

	return s->b->on_token ? s->b->on_token(s->b->ud, s->i, t_ns, n_tokens) : 0;
}

/* Ends slot s's request: its result (or `why` in place of one) to on_done; the slot freed. */
static void eb_exec_slot_done(struct eb_exec_slot *s, int why, const struct eb_err *why_err)
{
	struct eb_err err;
	int rc = why;

	eb_err_clear(&err);
	if (why)
		err = *why_err;
	else
		rc = eb_exec_slot_result(s, &err);
	/* free since its output ended (else now): the time the loop took to see the end and
	 * reap the program is the next request's send lag */
	s->t_free = s->r.t_eof ? s->r.t_eof : eb_clock_ns();
	if (rc && s->res->server) {
		json_decref(s->res->server);
		s->res->server = NULL;
	}
	eb_exec_slot_release(s);
	s->b->on_done(s->b->ud, s->i, rc, s->res, s->t_due, &err);
	s->busy = 0;
}

/*
 * The batch from one poll() loop over every run's stdout and stderr: a free slot takes
 * the next request once it is due (in index order), each run is read, timed, cut off and
 * ended exactly as generate() does it alone, and a run that failed frees its slot for
 * the next. A program is never waited for while others are read: one whose output ended
 * is looked at again within a millisecond until it exits.
 */
static int eb_exec_generate_many(void *state, const struct eb_gen_batch *b, struct eb_err *err)
{
	struct eb_exec *X = state;
	size_t n_slots = b->max_inflight > 0 && (size_t)b->max_inflight < b->n
				 ? (size_t)b->max_inflight
				 : b->n;
	struct eb_exec_slot *sl = eb_xcalloc(n_slots + 1, sizeof(*sl));
	struct pollfd *fds = eb_xcalloc(2 * n_slots + 1, sizeof(*fds));
	size_t *owner = eb_xcalloc(2 * n_slots + 1, sizeof(*owner));
	char *buf = eb_xmalloc(65536);
	size_t next = 0, in_flight = 0;
	uint64_t t0 = eb_clock_ns(), t_grace;
	int ret = 0;

	for (size_t k = 0; k < n_slots; k++)
		sl[k].t_free = t0;
	while (next < b->n || in_flight) {
		uint64_t now = eb_clock_ns(), until = now + 50000000ull, t;
		struct eb_exec_slot *free_slot = NULL;
		int nfds = 0, rc;

		if (b->stop && *b->stop) {
			ret = eb_err_set(err, EB_EINTR, "exec: interrupted");
			break;
		}
		/* runs whose loop is over end, and free their slots */
		for (size_t k = 0; k < n_slots; k++)
			if (sl[k].busy && eb_exec_slot_step(&sl[k], now, 1)) {
				eb_exec_slot_done(&sl[k], 0, NULL);
				in_flight--;
			}
		/* every request that is due and has a free slot starts, in index order */
		now = eb_clock_ns();
		if (b->t_last_send_ns && now > b->t_last_send_ns)
			next = b->n; /* the rest are not sent */
		for (size_t k = 0; next < b->n && k < n_slots; k++) {
			struct eb_exec_slot *s = &sl[k];
			struct eb_gen_req rq = b->reqs[next];
			uint64_t sched = b->t_sched_ns ? b->t_sched_ns[next] : 0;
			struct eb_err serr;

			if (s->busy || sched > now)
				continue;
			rq.on_token = eb_exec_batch_token;
			rq.ud = s;
			rq.stop = b->stop;
			s->b = b;
			s->i = next++;
			s->busy = 1;
			s->t_due = sched > s->t_free ? sched : s->t_free;
			eb_err_clear(&serr);
			if (eb_exec_slot_start(X, s, &rq, &s->own_res, &serr) != 0) {
				eb_exec_slot_done(s, serr.code ? serr.code : EB_EIO, &serr);
				k--; /* the slot is free again */
				continue;
			}
			in_flight++;
		}
		/* sleep until a deadline, the next send or 50 ms (to hear stop); a run whose
		 * output ended wakes the loop by its pidfd when the program exits, or without
		 * one is looked at every millisecond until then */
		for (size_t k = 0; k < n_slots; k++) {
			struct eb_exec_slot *s = &sl[k];
			int m;

			if (!s->busy) {
				free_slot = s;
				continue;
			}
			if (s->t_kill ? s->t_kill < until : s->deadline < until)
				until = s->t_kill ? s->t_kill : s->deadline;
			m = eb_exec_slot_fds(s, fds + nfds, 1);
			if (m == 0 && now + 1000000ull < until)
				until = now + 1000000ull;
			for (int j = 0; j < m; j++)
				owner[nfds + j] = k;
			nfds += m;
		}
		if (free_slot && next < b->n) {
			uint64_t due = b->t_sched_ns ? b->t_sched_ns[next] : now;

			if (due < until)
				until = due;
		}
		if (!nfds && !in_flight && next >= b->n)
			break;
		/* rounded down: the last millisecond before a send is spun, not slept */
		rc = poll(fds, (nfds_t)nfds, until > now ? (int)((until - now) / 1000000ull) : 0);
		t = eb_clock_ns();
		if (rc < 0 && errno != EINTR) {
			ret = eb_err_set(err, EB_EIO, "exec: poll: %s", strerror(errno));
			break;
		}
		for (int j = 0; rc > 0 && j < nfds; j++)
			eb_exec_slot_read(&sl[owner[j]], &fds[j], t, buf, 65536);
	}
	/* stopped, or the loop failed: what still runs is stopped and ends as interrupted.
	 * Every group has its SIGTERM at once and one grace period in common (not one after
	 * another), then SIGKILL for what is left of it */
	t_grace = eb_clock_ns() + EB_EXEC_GRACE_NS;
	for (size_t k = 0; k < n_slots; k++)
		if (sl[k].busy && sl[k].p.pid > 0)
			eb_proc_kill(&sl[k].p, SIGTERM);
	for (size_t k = 0; k < n_slots; k++) {
		if (!sl[k].busy || sl[k].p.pid <= 0)
			continue;
		if (eb_proc_wait_until(&sl[k].p, t_grace, &sl[k].status) == 1)
			sl[k].exited = 1;
		kill(-sl[k].pgid, SIGKILL);
	}
	for (size_t k = 0; k < n_slots; k++)
		if (sl[k].busy) {
			sl[k].stopped = 1;
			eb_exec_slot_done(&sl[k], 0, NULL);
		}
	free(buf);
	free(owner);
	free(fds);
	free(sl);
	return ret;
}
static int eb_exec_describe(void *state, json_t *out, struct eb_err *err)
{
	struct eb_exec *X = state;
	static const char *const modes[] = { "lines", "bytes", "none" };
	json_t *tmpl = json_array(), *names = json_array();

	for (size_t i = 0; i < X->n_tmpl; i++)
		json_array_append_new(tmpl, json_string(X->tmpl[i]));
	for (size_t i = 0; i < X->n_parsers; i++)
		json_array_append_new(names, json_string(X->parsers[i].name));
	json_object_set_new(out, "backend", json_string("exec"));
	json_object_set_new(out, "program", json_string(X->tmpl[0]));
	json_object_set_new(out, "argv_template", tmpl);
	json_object_set_new(out, "stream", json_string(modes[X->stream]));
	json_object_set_new(out, "timeout_s", json_real(X->timeout_ns / 1e9));
	json_object_set_new(out, "parsers", names);
	return 0;
}

static const char *eb_exec_unavailable(void)
{
	return NULL;
}

const struct eb_adapter_ops eb_adapter_exec = {
	.name = "exec",
	.abi = EB_ADAPTER_ABI,
	.caps = EB_CAP_STREAM | EB_CAP_SERVER_TIMINGS | EB_CAP_TEXT,
	.options = eb_exec_opts,
	.help = "any program (vendor CLI, e.g. RZ/V2L DRP-AI apps) run from an argv template "
		"without a shell; stdout/stderr timed line by line and parsed",
	.unavailable_reason = eb_exec_unavailable,
	.open = eb_exec_open,
	.generate = eb_exec_generate,
	.generate_many = eb_exec_generate_many,
	.describe = eb_exec_describe,
	.close = eb_exec_close,
};
