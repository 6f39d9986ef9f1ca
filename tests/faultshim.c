/* faultshim.c: an LD_PRELOAD library that injects faults into writes to the files under one directory (a full disk, a kill in the middle of a commit). */
/*
 * Only writes (write, pwrite, pwrite64, writev, pwritev) to files whose path starts with
 * EB_FAULT_DIR + "/" are touched; everything else goes straight to libc.
 *   EB_FAULT_FILE=NAME        only the file EB_FAULT_DIR/NAME is touched (e.g. the .db
 *                             and not its -wal: the writes of a checkpoint)
 *   EB_FAULT_ENOSPC_BYTES=N   past N bytes in all, writes fail with ENOSPC (the last one
 *                             that fits partly is a short write, as on a real disk)
 *   EB_FAULT_KILL_AT_WRITE=K  the K-th write (1-based) writes its first half, then the
 *                             process gets SIGKILL (a kill in the middle of that write)
 *   EB_FAULT_NOTE=FILE        at that kill, the written file's name goes into FILE
 *   EB_FAULT_COUNT=FILE       at exit, "WRITES BYTES" of the matching writes go into FILE
 * The counters are process-wide and atomic. The library never allocates.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static ssize_t (*eb_real_write)(int, const void *, size_t);
static ssize_t (*eb_real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*eb_real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*eb_real_writev)(int, const struct iovec *, int);
static ssize_t (*eb_real_pwritev)(int, const struct iovec *, int, off_t);

static char eb_dir[4096];
static size_t eb_dir_len;
static const char *eb_only;
static long long eb_budget = -1, eb_kill_at = -1;
static atomic_llong eb_bytes, eb_writes;

__attribute__((constructor)) static void eb_shim_init(void)
{
	const char *d = getenv("EB_FAULT_DIR");
	const char *b = getenv("EB_FAULT_ENOSPC_BYTES");
	const char *k = getenv("EB_FAULT_KILL_AT_WRITE");
	const char *f = getenv("EB_FAULT_FILE");

	eb_real_write = dlsym(RTLD_NEXT, "write");
	eb_real_pwrite = dlsym(RTLD_NEXT, "pwrite");
	eb_real_pwrite64 = dlsym(RTLD_NEXT, "pwrite64");
	eb_real_writev = dlsym(RTLD_NEXT, "writev");
	eb_real_pwritev = dlsym(RTLD_NEXT, "pwritev");
	if (d && *d && !realpath(d, eb_dir))
		snprintf(eb_dir, sizeof(eb_dir), "%s", d);
	eb_dir_len = strlen(eb_dir);
	if (b && *b)
		eb_budget = strtoll(b, NULL, 10);
	if (k && *k)
		eb_kill_at = strtoll(k, NULL, 10);
	if (f && *f)
		eb_only = f;
}

__attribute__((destructor)) static void eb_shim_fini(void)
{
	const char *f = getenv("EB_FAULT_COUNT");
	char line[64];
	int fd, n;

	if (!f || !*f)
		return;
	fd = open(f, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%lld %lld\n", (long long)atomic_load(&eb_writes),
		     (long long)atomic_load(&eb_bytes));
	if (eb_real_write(fd, line, (size_t)n) < 0)
		n = 0;
	close(fd);
}

/* The file behind fd into buf when it lies under EB_FAULT_DIR; else 0. */
static int eb_matches(int fd, char *buf, size_t n)
{
	char link[64];
	ssize_t len;

	if (!eb_dir_len)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, buf, n - 1);
	if (len <= (ssize_t)eb_dir_len)
		return 0;
	buf[len] = '\0';
	if (strncmp(buf, eb_dir, eb_dir_len) != 0 || buf[eb_dir_len] != '/')
		return 0;
	return !eb_only || strcmp(buf + eb_dir_len + 1, eb_only) == 0;
}

/*
 * Decides what a matching write of `n` bytes may do: returns how many bytes to let
 * through (n when no fault applies), or -1 with errno ENOSPC. *kill is set when the
 * process must die after writing that many bytes.
 */
static long long eb_admit(const char *path, size_t n, int *kill)
{
	long long k = atomic_fetch_add(&eb_writes, 1) + 1;
	long long used;

	*kill = 0;
	if (eb_kill_at > 0 && k == eb_kill_at) {
		const char *note = getenv("EB_FAULT_NOTE");

		if (note && *note) {
			int fd = open(note, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

			if (fd >= 0) {
				if (eb_real_write(fd, path, strlen(path)) < 0)
					k = 0;
				close(fd);
			}
		}
		*kill = 1;
		return (long long)(n / 2);
	}
	if (eb_budget < 0) {
		atomic_fetch_add(&eb_bytes, (long long)n);
		return (long long)n;
	}
	used = atomic_fetch_add(&eb_bytes, (long long)n);
	if (used >= eb_budget) {
		errno = ENOSPC;
		return -1;
	}
	return used + (long long)n > eb_budget ? eb_budget - used : (long long)n;
}

static void eb_die(void)
{
	raise(SIGKILL);
	_exit(137);
}

enum { EB_W_WRITE, EB_W_PWRITE, EB_W_PWRITE64 };

static ssize_t eb_real(int kind, int fd, const void *p, size_t n, off64_t off)
{
	if (kind == EB_W_WRITE)
		return eb_real_write(fd, p, n);
	if (kind == EB_W_PWRITE)
		return eb_real_pwrite(fd, p, n, (off_t)off);
	return eb_real_pwrite64(fd, p, n, off);
}

static ssize_t eb_one(int kind, int fd, const void *p, size_t n, off64_t off)
{
	char path[4096];
	long long ok;
	ssize_t w;
	int kill;

	if (!eb_matches(fd, path, sizeof(path)))
		return eb_real(kind, fd, p, n, off);
	ok = eb_admit(path, n, &kill);
	if (ok < 0)
		return -1;
	w = ok ? eb_real(kind, fd, p, (size_t)ok, off) : 0;
	if (kill)
		eb_die();
	return w;
}

ssize_t write(int fd, const void *p, size_t n)
{
	return eb_one(EB_W_WRITE, fd, p, n, 0);
}

ssize_t pwrite(int fd, const void *p, size_t n, off_t off)
{
	return eb_one(EB_W_PWRITE, fd, p, n, off);
}

ssize_t pwrite64(int fd, const void *p, size_t n, off64_t off)
{
	return eb_one(EB_W_PWRITE64, fd, p, n, off);
}

/* Vector writes: a fault turns them into a write of their first buffer's allowed part. */
static ssize_t eb_vec(int fd, const struct iovec *iov, int cnt, off_t off, int positional)
{
	char path[4096];
	size_t n = 0;
	long long ok;
	ssize_t w = 0;
	int kill;

	if (!eb_matches(fd, path, sizeof(path)))
		return positional ? eb_real_pwritev(fd, iov, cnt, off) : eb_real_writev(fd, iov, cnt);
	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	ok = eb_admit(path, n, &kill);
	if (ok < 0)
		return -1;
	if (ok == (long long)n && !kill)
		return positional ? eb_real_pwritev(fd, iov, cnt, off) : eb_real_writev(fd, iov, cnt);
	if (ok > 0 && cnt > 0) {
		size_t first = iov[0].iov_len < (size_t)ok ? iov[0].iov_len : (size_t)ok;

		w = positional ? eb_real_pwrite(fd, iov[0].iov_base, first, off)
			       : eb_real_write(fd, iov[0].iov_base, first);
	}
	if (kill)
		eb_die();
	return w;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	return eb_vec(fd, iov, cnt, 0, 0);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return eb_vec(fd, iov, cnt, off, 1);
}
