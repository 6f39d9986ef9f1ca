/* sensor_util.c: sysfs reads, stamped line streams and reading helpers (see sensor_impl.h). */
#include "sensor_impl.h"
#include "tegrastats.h"

#include "eb_clock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EB_LINE_MAX (64u << 10)
#define EB_LINES_QMAX 4096

char *eb_sysfs_path(char *buf, size_t n, const char *root, const char *path)
{
	int k;

	if (!root || !*root || strcmp(root, "/") == 0)
		root = "";
	k = snprintf(buf, n, "%s%s", root, path);
	if (k < 0 || (size_t)k >= n)
		return NULL;
	return buf;
}

int eb_sysfs_read(const char *path, char *buf, size_t n, struct eb_err *err)
{
	int fd, saved;
	ssize_t got;
	size_t len;

	if (n == 0)
		return eb_err_set(err, EB_EINVAL, "cannot read '%s': no buffer", path);
	buf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		saved = errno;
		eb_err_set(err, saved == ENOENT ? EB_ENOENT : EB_EIO, "cannot read '%s': %s", path,
			   strerror(saved));
		errno = saved;
		return saved == ENOENT ? EB_ENOENT : EB_EIO;
	}
	do
		got = read(fd, buf, n - 1);
	while (got < 0 && errno == EINTR);
	saved = errno;
	close(fd);
	if (got < 0) {
		/* a device that went away reads ENODEV; a disabled channel ENODATA */
		eb_err_set(err, EB_EIO, "cannot read '%s': %s", path, strerror(saved));
		errno = saved;
		return EB_EIO;
	}
	len = (size_t)got;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' ' || buf[len - 1] == '\t' ||
		       buf[len - 1] == '\r'))
		len--;
	buf[len] = '\0';
	return 0;
}


int eb_sysfs_open(struct eb_sysfs_file *f, const char *path, struct eb_err *err)
{
	int saved;

	f->path = eb_xstrdup(path);
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd >= 0)
		return 0;
	saved = errno;
	eb_err_set(err, saved == ENOENT ? EB_ENOENT : EB_EIO, "cannot read '%s': %s", path,
		   strerror(saved));
	errno = saved;
	return saved == ENOENT ? EB_ENOENT : EB_EIO;
}

void eb_sysfs_close(struct eb_sysfs_file *f)
{
	if (f->path && f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	free(f->path);
	f->path = NULL;
}

/* Parses a whole-file integer: 0, or EB_EPARSE naming the path. */
static int eb_sysfs_parse_ll(const char *path, const char *buf, long long *v, struct eb_err *err)
{
	if (eb_parse_ll(buf, -(1LL << 62), 1LL << 62, v) != 0)
		return eb_err_set(err, EB_EPARSE, "'%s' holds '%.20s', not an integer", path, buf);
	return 0;
}

static int eb_sysfs_parse_u64(const char *path, const char *buf, uint64_t *v,
			      struct eb_err *err)
{
	unsigned long long x;
	char *end;

	errno = 0;
	x = strtoull(buf, &end, 10);
	if (!buf[0] || buf[0] == '-' || *end || errno)
		return eb_err_set(err, EB_EPARSE, "'%s' holds '%.20s', not a counter", path, buf);
	*v = (uint64_t)x;
	return 0;
}

int eb_sysfs_pread(struct eb_sysfs_file *f, char *buf, size_t n, struct eb_err *err)
{
	struct stat st;
	ssize_t got;
	size_t len;
	int saved;

	if (f->fd < 0)
		return eb_err_set(err, EB_EIO, "cannot read '%s': not open", f->path);
	if (fstat(f->fd, &st) == 0 && st.st_nlink == 0) {
		/* unlinked: rewritten by rename (read the new one) or deleted (gone) */
		int fd = open(f->path, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			saved = errno;
			eb_err_set(err, saved == ENOENT ? EB_ENOENT : EB_EIO, "cannot read '%s': %s",
				   f->path, strerror(saved));
			errno = saved;
			return saved == ENOENT ? EB_ENOENT : EB_EIO;
		}
		close(f->fd);
		f->fd = fd;
	}
	do
		got = pread(f->fd, buf, n - 1, 0);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		saved = errno;
		eb_err_set(err, EB_EIO, "cannot read '%s': %s", f->path, strerror(saved));
		errno = saved;
		return EB_EIO;
	}
	len = (size_t)got;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' ' || buf[len - 1] == '\t' ||
		       buf[len - 1] == '\r'))
		len--;
	buf[len] = '\0';
	return 0;
}

int eb_sysfs_pread_ll(struct eb_sysfs_file *f, long long *v, struct eb_err *err)
{
	char buf[64];
	int ret = eb_sysfs_pread(f, buf, sizeof(buf), err);

	return ret ? ret : eb_sysfs_parse_ll(f->path, buf, v, err);
}

int eb_sysfs_pread_u64(struct eb_sysfs_file *f, uint64_t *v, struct eb_err *err)
{
	char buf[64];
	int ret = eb_sysfs_pread(f, buf, sizeof(buf), err);

	return ret ? ret : eb_sysfs_parse_u64(f->path, buf, v, err);
}

int eb_sysfs_read_ll(const char *path, long long *v, struct eb_err *err)
{
	char buf[64];
	int ret = eb_sysfs_read(path, buf, sizeof(buf), err);

	return ret ? ret : eb_sysfs_parse_ll(path, buf, v, err);
}

int eb_sysfs_read_u64(const char *path, uint64_t *v, struct eb_err *err)
{
	char buf[64];
	int ret = eb_sysfs_read(path, buf, sizeof(buf), err);

	return ret ? ret : eb_sysfs_parse_u64(path, buf, v, err);
}

int eb_sysfs_exists(const char *root, const char *path)
{
	char p[4096];

	return eb_sysfs_path(p, sizeof(p), root, path) && access(p, F_OK) == 0;
}

size_t eb_sysfs_glob(const char *root, const char *pattern, glob_t *g)
{
	char p[4096];

	memset(g, 0, sizeof(*g));
	if (!eb_sysfs_path(p, sizeof(p), root, pattern))
		return 0;
	if (glob(p, 0, NULL, g) != 0) {
		globfree(g);
		memset(g, 0, sizeof(*g));
		return 0;
	}
	return g->gl_pathc;
}

/* --- line streams ------------------------------------------------------------------- */

void eb_lines_init(struct eb_lines *l, int fd, int follow)
{
	memset(l, 0, sizeof(*l));
	l->fd = fd;
	l->follow = follow;
	eb_buf_init(&l->partial, EB_LINE_MAX);
	if (fd >= 0) {
		int fl = fcntl(fd, F_GETFL);
		if (fl >= 0)
			fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	}
}

static void eb_lines_push(struct eb_lines *l, const char *s, size_t n, uint64_t t)
{
	struct eb_line_rec *r;
	char *text;

	while (n && (s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	if (n == 0)
		return;
	if (l->len == EB_LINES_QMAX) {
		/* nobody is reading: drop the oldest */
		free(l->q[l->head].text);
		l->head = (l->head + 1) % l->cap;
		l->len--;
		l->n_dropped++;
	}
	if (l->len == l->cap) {
		size_t ncap = l->cap ? 2 * l->cap : 16;
		struct eb_line_rec *nq = eb_xcalloc(ncap, sizeof(*nq));

		for (size_t i = 0; i < l->len; i++)
			nq[i] = l->q[(l->head + i) % l->cap];
		free(l->q);
		l->q = nq;
		l->cap = ncap;
		l->head = 0;
	}
	text = eb_xmalloc(n + 1);
	memcpy(text, s, n);
	text[n] = '\0';
	r = &l->q[(l->head + l->len) % l->cap];
	r->text = text;
	r->t_ns = t;
	l->len++;
}

/* Splits complete lines out of partial + data, stamping them with t. */
static size_t eb_lines_feed(struct eb_lines *l, const char *data, size_t n, uint64_t t)
{
	size_t added = 0;

	while (n) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) + 1 : n;

		if (l->skipping) {
			l->skipping = !nl;
		} else if (eb_buf_add(&l->partial, data, take) != 0) {
			/* longer than EB_LINE_MAX: dropped, up to its newline */
			l->n_dropped++;
			eb_buf_reset(&l->partial);
			l->skipping = !nl;
		} else if (nl) {
			eb_lines_push(l, l->partial.buf, l->partial.len, t);
			added++;
			eb_buf_reset(&l->partial);
		}
		data += take;
		n -= take;
	}
	return added;
}

size_t eb_lines_pump(struct eb_lines *l)
{
	char chunk[8192];
	size_t added = 0;

	if (l->fd < 0 || l->eof)
		return 0;
	for (;;) {
		ssize_t got = read(l->fd, chunk, sizeof(chunk));
		uint64_t t = eb_clock_ns();

		if (got > 0) {
			added += eb_lines_feed(l, chunk, (size_t)got, t);
			continue;
		}
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (got < 0) {
			l->read_errno = errno;
			l->eof = 1;
		} else if (!l->follow) {
			l->eof = 1;
		}
		if (l->eof && l->partial.len && !l->skipping) {
			eb_lines_push(l, l->partial.buf, l->partial.len, t);
			added++;
		}
		if (l->eof)
			eb_buf_reset(&l->partial);
		break;
	}
	return added;
}

int eb_lines_next(struct eb_lines *l, char **text, uint64_t *t_ns)
{
	if (l->len == 0)
		return 0;
	*text = l->q[l->head].text;
	*t_ns = l->q[l->head].t_ns;
	l->q[l->head].text = NULL;
	l->head = (l->head + 1) % l->cap;
	l->len--;
	return 1;
}

void eb_lines_release(struct eb_lines *l)
{
	for (size_t i = 0; i < l->len; i++)
		free(l->q[(l->head + i) % l->cap].text);
	free(l->q);
	eb_buf_release(&l->partial);
	l->q = NULL;
	l->len = l->cap = l->head = 0;
}

void eb_drain_fd(int fd, struct eb_buf *tail, size_t keep)
{
	char chunk[4096];

	if (fd < 0)
		return;
	for (;;) {
		ssize_t got = read(fd, chunk, sizeof(chunk));

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		eb_buf_add(tail, chunk, (size_t)got);
		if (tail->len > keep) {
			memmove(tail->buf, tail->buf + tail->len - keep, keep);
			tail->len = keep;
			tail->buf[keep] = '\0';
		}
	}
}

/* --- child processes -------------------------------------------------------------- */

int eb_linesrc_spawn(struct eb_linesrc *s, const char *const *argv, struct eb_err *err)
{
	int ret = eb_proc_start(&s->proc, argv, NULL,
				EB_PROC_PIPE_OUT | EB_PROC_PIPE_ERR | EB_PROC_NULL_IN |
					EB_PROC_NEW_PGRP,
				err);

	if (ret)
		return ret;
	s->spawned = 1;
	eb_lines_init(&s->lines, s->proc.out_fd, 0);
	fcntl(s->proc.err_fd, F_SETFL, fcntl(s->proc.err_fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

void eb_linesrc_fd(struct eb_linesrc *s, int fd, int follow)
{
	eb_lines_init(&s->lines, fd, follow);
}

void eb_linesrc_pump(struct eb_linesrc *s)
{
	eb_lines_pump(&s->lines);
	if (s->spawned)
		eb_drain_fd(s->proc.err_fd, &s->errtail, 512);
}

int eb_linesrc_status(struct eb_linesrc *s, const char *prog, size_t n_lines,
		      struct eb_err *err)
{
	const char *msg;
	size_t len;
	int status = -1;

	if (s->lines.read_errno)
		return eb_err_set(err, EB_EIO, "cannot read '%s' output: %s", prog,
				  strerror(s->lines.read_errno));
	if (!s->lines.eof)
		return 0;
	if (s->spawned) {
		status = eb_proc_wait(&s->proc);
		eb_drain_fd(s->proc.err_fd, &s->errtail, 512);
		eb_proc_release(&s->proc);
		s->spawned = 0;
	}
	/* the last line of stderr says why */
	msg = s->errtail.buf;
	len = s->errtail.len;
	while (len && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
		len--;
	for (size_t i = len; i > 0; i--)
		if (msg[i - 1] == '\n') {
			msg += i;
			len -= i;
			break;
		}
	if (status < 0)
		return eb_err_set(err, EB_EIO, "'%s' ended after %zu lines%s%.*s", prog, n_lines,
				  len ? ": " : "", (int)len, msg);
	return eb_err_set(err, EB_EIO, "'%s' exited with status %d after %zu lines%s%.*s", prog,
			  status, n_lines, len ? ": " : "", (int)len, msg);
}

void eb_linesrc_close(struct eb_linesrc *s)
{
	if (s->spawned)
		eb_proc_stop(&s->proc, 1000000000ull, NULL); /* 1 s to exit */
	s->spawned = 0;
	eb_lines_release(&s->lines);
	eb_buf_release(&s->errtail);
}

/* --- readings ----------------------------------------------------------------------- */

void eb_reading_set(struct eb_sensor_reading *r, const char *rail, double value,
		    const char *source, unsigned flags)
{
	eb_strlcpy(r->rail, rail, sizeof(r->rail));
	r->value = value;
	r->energy_uj = 0;
	r->source = source;
	r->flags = flags;
}

void eb_readings_mark_input_total(struct eb_sensor_reading *r, size_t n)
{
	size_t total = n;

	for (size_t i = 0; i < n && total == n; i++)
		if (!(r[i].flags & EB_RAIL_BYTES) && eb_tegrastats_is_input_rail(r[i].rail))
			total = i;
	if (total == n)
		return;
	for (size_t i = 0; i < n; i++) {
		if (r[i].flags & EB_RAIL_BYTES)
			continue;
		if (i == total)
			r[i].flags = (r[i].flags | EB_RAIL_TOTAL) & ~(unsigned)EB_RAIL_NOSUM;
		else
			r[i].flags = (r[i].flags | EB_RAIL_NOSUM) & ~(unsigned)EB_RAIL_TOTAL;
	}
}

json_t *eb_readings_json(const struct eb_sensor_reading *r, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:o}", "rail", r[i].rail, "source",
						   r[i].source ? r[i].source : "",
						   "flags", eb_sensor_flags_json(r[i].flags)));
	return a;
}

void eb_reading_unique_name(const struct eb_sensor_reading *r, size_t n, const char *name,
			    const char *suffix, char *out, size_t outn)
{
	char cand[EB_SENSOR_RAIL_MAX + 1], tail[EB_SENSOR_RAIL_MAX / 2 + 1];

	for (int k = 0; k < 1000; k++) {
		int clash = 0;

		/*
		 * The tail goes in whole (at most half the name) and the name is cut to make
		 * room for it: cutting the tail off a long name instead made every candidate
		 * the same (fuzz_hwmon: two channels of a device with a 60-character name).
		 */
		if (k == 0)
			tail[0] = '\0';
		else if (k == 1 && suffix && *suffix)
			snprintf(tail, sizeof(tail), "@%s", suffix);
		else
			snprintf(tail, sizeof(tail), "#%d", k);
		snprintf(cand, sizeof(cand), "%.*s%s", (int)(sizeof(cand) - 1 - strlen(tail)), name,
			 tail);
		for (size_t i = 0; i < n && !clash; i++)
			clash = strcmp(r[i].rail, cand) == 0;
		if (!clash)
			break;
	}
	eb_strlcpy(out, cand, outn);
}
