/* util.c: buffers, file helpers, sha256, parsing (see eb_util.h). */
#include "eb_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char eb_buf_empty[1];

void *eb_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fputs("edgebench: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *eb_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p) {
		fputs("edgebench: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *eb_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q) {
		fputs("edgebench: out of memory\n", stderr);
		abort();
	}
	return q;
}

char *eb_xstrdup(const char *s)
{
	size_t n;
	char *d;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	d = eb_xmalloc(n);
	memcpy(d, s, n);
	return d;
}

size_t eb_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

void eb_buf_init(struct eb_buf *b, size_t cap_max)
{
	b->buf = eb_buf_empty;
	b->len = 0;
	b->alloc = 0;
	b->cap_max = cap_max;
}

static int eb_buf_grow(struct eb_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	size_t na;

	if (need < b->len)
		return EB_ENOMEM;
	if (b->cap_max && need > b->cap_max + 1)
		return EB_ENOMEM;
	if (need <= b->alloc)
		return 0;
	na = b->alloc ? b->alloc : 64;
	while (na < need)
		na *= 2;
	if (b->alloc == 0) {
		b->buf = eb_xmalloc(na);
		b->buf[0] = '\0';
	} else {
		b->buf = eb_xrealloc(b->buf, na);
	}
	b->alloc = na;
	return 0;
}

int eb_buf_add(struct eb_buf *b, const void *data, size_t n)
{
	if (eb_buf_grow(b, n))
		return EB_ENOMEM;
	if (n)
		memcpy(b->buf + b->len, data, n);
	b->len += n;
	if (b->alloc)
		b->buf[b->len] = '\0';
	return 0;
}

int eb_buf_addstr(struct eb_buf *b, const char *s)
{
	return eb_buf_add(b, s, strlen(s));
}

int eb_buf_addf(struct eb_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return EB_EINVAL;
	if (eb_buf_grow(b, (size_t)n))
		return EB_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void eb_buf_reset(struct eb_buf *b)
{
	b->len = 0;
	if (b->alloc)
		b->buf[0] = '\0';
}

void eb_buf_release(struct eb_buf *b)
{
	if (b->alloc)
		free(b->buf);
	eb_buf_init(b, b->cap_max);
}

char *eb_buf_detach(struct eb_buf *b, size_t *len)
{
	char *s;

	if (b->alloc == 0)
		s = eb_xstrdup("");
	else
		s = b->buf;
	if (len)
		*len = b->len;
	eb_buf_init(b, b->cap_max);
	return s;
}

int eb_read_file(const char *path, size_t max, char **data, size_t *len, struct eb_err *err)
{
	struct eb_buf b;
	char chunk[65536];
	FILE *f;
	int ret = 0;

	f = fopen(path, "rb");
	if (!f)
		return eb_err_set(err, errno == ENOENT ? EB_ENOENT : EB_EIO, "cannot open '%s': %s",
				  path, strerror(errno));
	eb_buf_init(&b, max);
	for (;;) {
		size_t n = fread(chunk, 1, sizeof(chunk), f);
		if (n && eb_buf_add(&b, chunk, n)) {
			ret = eb_err_set(err, EB_EIO, "'%s' is larger than %zu bytes", path, max);
			goto out;
		}
		if (n < sizeof(chunk)) {
			if (ferror(f)) {
				ret = eb_err_set(err, EB_EIO, "cannot read '%s': %s", path,
						 strerror(errno));
				goto out;
			}
			break;
		}
	}
	*data = eb_buf_detach(&b, len);
out:
	fclose(f);
	if (ret)
		eb_buf_release(&b);
	return ret;
}

int eb_write_file(const char *path, const void *data, size_t len, struct eb_err *err)
{
	char tmp[PATH_MAX];
	FILE *f;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp))
		return eb_err_set(err, EB_EINVAL, "path too long: '%s'", path);
	f = fopen(tmp, "wb");
	if (!f)
		return eb_err_set(err, EB_EIO, "cannot create '%s': %s", tmp, strerror(errno));
	if (fwrite(data, 1, len, f) != len || fflush(f) != 0) {
		int e = errno;
		fclose(f);
		unlink(tmp);
		return eb_err_set(err, EB_EIO, "cannot write '%s': %s", tmp, strerror(e));
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		return eb_err_set(err, EB_EIO, "cannot write '%s': %s", path, strerror(e));
	}
	return 0;
}

int eb_mkdirs(const char *path, struct eb_err *err)
{
	char p[PATH_MAX];
	size_t n = eb_strlcpy(p, path, sizeof(p));

	if (n >= sizeof(p))
		return eb_err_set(err, EB_EINVAL, "path too long: '%s'", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			return eb_err_set(err, EB_EIO, "cannot create directory '%s': %s", p,
					  strerror(errno));
		*s = '/';
	}
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		return eb_err_set(err, EB_EIO, "cannot create directory '%s': %s", p,
				  strerror(errno));
	return 0;
}

/* --- SHA-256 (FIPS 180-4) ---------------------------------------------------- */

static const uint32_t eb_sha_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

#define EB_ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void eb_sha256_block(struct eb_sha256 *s, const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, h;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = EB_ROR(w[i - 15], 7) ^ EB_ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = EB_ROR(w[i - 2], 17) ^ EB_ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
	e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t S1 = EB_ROR(e, 6) ^ EB_ROR(e, 11) ^ EB_ROR(e, 25);
		uint32_t ch = (e & f) ^ (~e & g);
		uint32_t t1 = h + S1 + ch + eb_sha_k[i] + w[i];
		uint32_t S0 = EB_ROR(a, 2) ^ EB_ROR(a, 13) ^ EB_ROR(a, 22);
		uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
		uint32_t t2 = S0 + maj;
		h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d;
	s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

void eb_sha256_init(struct eb_sha256 *s)
{
	static const uint32_t h0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	memcpy(s->h, h0, sizeof(h0));
	s->nbytes = 0;
	s->nblk = 0;
}

void eb_sha256_update(struct eb_sha256 *s, const void *data, size_t len)
{
	const unsigned char *p = data;

	s->nbytes += len;
	while (len) {
		size_t take = 64 - s->nblk;
		if (take > len)
			take = len;
		memcpy(s->blk + s->nblk, p, take);
		s->nblk += take;
		p += take;
		len -= take;
		if (s->nblk == 64) {
			eb_sha256_block(s, s->blk);
			s->nblk = 0;
		}
	}
}

void eb_sha256_final(struct eb_sha256 *s, char hex[65])
{
	uint64_t bits = s->nbytes * 8;
	unsigned char pad = 0x80, zero = 0, lenb[8];

	eb_sha256_update(s, &pad, 1);
	while (s->nblk != 56)
		eb_sha256_update(s, &zero, 1);
	for (int i = 0; i < 8; i++)
		lenb[i] = (unsigned char)(bits >> (56 - 8 * i));
	eb_sha256_update(s, lenb, 8);
	for (int i = 0; i < 8; i++)
		snprintf(hex + 8 * i, 9, "%08x", s->h[i]);
	hex[64] = '\0';
}

void eb_sha256_hex(const void *data, size_t len, char hex[65])
{
	struct eb_sha256 s;

	eb_sha256_init(&s);
	eb_sha256_update(&s, data, len);
	eb_sha256_final(&s, hex);
}

int eb_parse_ll(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (!s || !*s)
		return EB_EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return EB_EINVAL;
	*out = v;
	return 0;
}

double eb_ns_diff(int64_t b, int64_t a)
{
	int64_t d;

	if (__builtin_sub_overflow(b, a, &d))
		return (double)b - (double)a;
	return (double)d;
}

int eb_ns_add(int64_t a, int64_t b, int64_t *out)
{
	int64_t s;

	if (__builtin_add_overflow(a, b, &s))
		return EB_EINVAL;
	*out = s;
	return 0;
}

int eb_double_to_ll(double x, long long *out)
{
	/* [-2^63, 2^63): both bounds are exact doubles; NaN fails both tests */
	if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0))
		return EB_EINVAL;
	*out = (long long)x;
	return 0;
}

int eb_parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return EB_EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v))
		return EB_EINVAL;
	*out = v;
	return 0;
}

char *eb_fmt_shortest(char *buf, double x)
{
	if (!isfinite(x)) {
		snprintf(buf, EB_NUM_SHORTEST_MAX, "%s", isnan(x) ? "nan" : x < 0 ? "-inf" : "inf");
		return buf;
	}
	/* the fewest significant digits that read back as x (17 always do), written in the
	 * notation %.17g would use: fixed from 1e-4 up to 1e17, so 120 is "120", not "1.2e+02" */
	for (int prec = 1; prec <= 17; prec++) {
		const char *e;
		long ex;

		snprintf(buf, EB_NUM_SHORTEST_MAX, "%.*e", prec - 1, x);
		if (strtod(buf, NULL) != x)
			continue;
		e = strchr(buf, 'e');
		ex = e ? strtol(e + 1, NULL, 10) : 0;
		if (ex >= -4 && ex < 17)
			snprintf(buf, EB_NUM_SHORTEST_MAX, "%.*g", prec > ex + 1 ? prec : (int)ex + 1, x);
		else
			snprintf(buf, EB_NUM_SHORTEST_MAX, "%.*g", prec, x);
		if (strtod(buf, NULL) == x)
			return buf;
	}
	snprintf(buf, EB_NUM_SHORTEST_MAX, "%.17g", x);
	return buf;
}

size_t eb_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row = eb_xcalloc(lb + 1, sizeof(*row));
	size_t d;

	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = prev + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	d = row[lb];
	free(row);
	return d;
}
