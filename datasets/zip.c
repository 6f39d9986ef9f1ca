/* zip.c: a minimal zip reader (see zip.h): central directory, stored and deflated members. */
#include "zip.h"

#include "eb_util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <zlib.h>

#define EB_ZIP_EOCD_SIG 0x06054b50u
#define EB_ZIP_CDIR_SIG 0x02014b50u
#define EB_ZIP_LOCAL_SIG 0x04034b50u
#define EB_ZIP_EOCD_LEN 22
#define EB_ZIP_CDIR_LEN 46
#define EB_ZIP_LOCAL_LEN 30
/* deflate's largest expansion: a 258-byte match in 2 bits (zlib's technical details) */
#define EB_ZIP_DEFLATE_MAX_RATIO 1032u

static uint32_t eb_le16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t eb_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* An open archive: the file and its central directory in memory. */
struct eb_zip {
	const char *path;
	FILE *f;
	off_t size;
	unsigned char *cdir;
	size_t cdir_len;
	size_t n_entries;
};

static int eb_zip_pread(struct eb_zip *z, off_t off, void *buf, size_t n, struct eb_err *err)
{
	if (fseeko(z->f, off, SEEK_SET) != 0 || fread(buf, 1, n, z->f) != n)
		return eb_err_set(err, EB_EIO, "cannot read '%s': %s", z->path,
				  ferror(z->f) ? strerror(errno) : "unexpected end of file");
	return 0;
}

static void eb_zip_close(struct eb_zip *z)
{
	if (z->f)
		fclose(z->f);
	free(z->cdir);
	memset(z, 0, sizeof(*z));
}

static int eb_zip_open(struct eb_zip *z, const char *path, struct eb_err *err)
{
	unsigned char *tail = NULL;
	off_t size, start;
	size_t tail_len, i;
	uint32_t cd_size, cd_off;
	int ret = 0;

	memset(z, 0, sizeof(*z));
	z->path = path;
	z->f = fopen(path, "rb");
	if (!z->f)
		return eb_err_set(err, errno == ENOENT ? EB_ENOENT : EB_EIO, "cannot open '%s': %s",
				  path, strerror(errno));
	if (fseeko(z->f, 0, SEEK_END) != 0 || (size = ftello(z->f)) < 0) {
		ret = eb_err_set(err, EB_EIO, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	z->size = size;
	if (size < EB_ZIP_EOCD_LEN) {
		ret = eb_err_set(err, EB_EPARSE, "'%s' is not a zip archive (too short)", path);
		goto out;
	}
	/* the end-of-central-directory record is in the last 22 + 65535 bytes */
	tail_len = (size_t)(size < EB_ZIP_EOCD_LEN + 65535 ? size : EB_ZIP_EOCD_LEN + 65535);
	start = size - (off_t)tail_len;
	tail = eb_xmalloc(tail_len);
	ret = eb_zip_pread(z, start, tail, tail_len, err);
	if (ret)
		goto out;
	for (i = tail_len - EB_ZIP_EOCD_LEN + 1; i-- > 0;)
		if (eb_le32(tail + i) == EB_ZIP_EOCD_SIG)
			break;
	if (i == (size_t)-1) {
		ret = eb_err_set(err, EB_EPARSE,
				 "'%s' is not a zip archive (no end of central directory)", path);
		goto out;
	}
	z->n_entries = eb_le16(tail + i + 10);
	cd_size = eb_le32(tail + i + 12);
	cd_off = eb_le32(tail + i + 16);
	if (z->n_entries == 0xffff || cd_size == 0xffffffffu || cd_off == 0xffffffffu) {
		ret = eb_err_set(err, EB_EUNSUPPORTED, "'%s': zip64 archives are not supported",
				 path);
		goto out;
	}
	if ((off_t)cd_off + (off_t)cd_size > size) {
		ret = eb_err_set(err, EB_EPARSE, "'%s': central directory lies past the end of the file",
				 path);
		goto out;
	}
	z->cdir_len = cd_size;
	z->cdir = eb_xmalloc(cd_size ? cd_size : 1);
	ret = eb_zip_pread(z, cd_off, z->cdir, cd_size, err);
out:
	free(tail);
	if (ret)
		eb_zip_close(z);
	return ret;
}

/* One central-directory entry. */
struct eb_zip_ent {
	const char *name; /* not NUL-terminated */
	size_t name_len;
	uint32_t flags, method, crc, csize, usize, local_off;
};

/* Entry at *pos; advances *pos. 1 when read, 0 at the end, negative on a bad directory. */
static int eb_zip_next(struct eb_zip *z, size_t *pos, struct eb_zip_ent *e, struct eb_err *err)
{
	const unsigned char *p = z->cdir + *pos;
	size_t extra;

	if (*pos == z->cdir_len)
		return 0;
	if (*pos + EB_ZIP_CDIR_LEN > z->cdir_len || eb_le32(p) != EB_ZIP_CDIR_SIG)
		return eb_err_set(err, EB_EPARSE, "'%s': corrupt central directory", z->path);
	e->flags = eb_le16(p + 8);
	e->method = eb_le16(p + 10);
	e->crc = eb_le32(p + 16);
	e->csize = eb_le32(p + 20);
	e->usize = eb_le32(p + 24);
	e->name_len = eb_le16(p + 28);
	extra = (size_t)eb_le16(p + 30) + eb_le16(p + 32);
	e->local_off = eb_le32(p + 42);
	e->name = (const char *)p + EB_ZIP_CDIR_LEN;
	if (*pos + EB_ZIP_CDIR_LEN + e->name_len + extra > z->cdir_len)
		return eb_err_set(err, EB_EPARSE, "'%s': corrupt central directory", z->path);
	*pos += EB_ZIP_CDIR_LEN + e->name_len + extra;
	return 1;
}

int eb_zip_names(const char *path, char ***names, size_t *n, struct eb_err *err)
{
	struct eb_zip z;
	struct eb_zip_ent e;
	size_t pos = 0, k = 0;
	char **v = NULL;
	int rc, ret;

	*names = NULL;
	*n = 0;
	ret = eb_zip_open(&z, path, err);
	if (ret)
		return ret;
	v = eb_xcalloc(z.n_entries + 1, sizeof(*v));
	while (k < z.n_entries && (rc = eb_zip_next(&z, &pos, &e, err)) > 0) {
		v[k] = eb_xmalloc(e.name_len + 1);
		memcpy(v[k], e.name, e.name_len);
		v[k][e.name_len] = '\0';
		k++;
	}
	if (k < z.n_entries) {
		ret = rc < 0 ? rc : eb_err_set(err, EB_EPARSE, "'%s': corrupt central directory", path);
		eb_zip_names_free(v, k);
		goto out;
	}
	*names = v;
	*n = k;
out:
	eb_zip_close(&z);
	return ret;
}

void eb_zip_names_free(char **names, size_t n)
{
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

static int eb_zip_inflate(struct eb_zip *z, const char *member, const unsigned char *in,
			  size_t in_len, char *out, size_t out_len, struct eb_err *err)
{
	z_stream zs;
	int rc;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
		return eb_err_set(err, EB_ENOMEM, "'%s': cannot start inflate", z->path);
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)in_len;
	zs.next_out = (Bytef *)out;
	zs.avail_out = (uInt)out_len;
	rc = inflate(&zs, Z_FINISH);
	inflateEnd(&zs);
	if (rc != Z_STREAM_END || zs.total_out != out_len)
		return eb_err_set(err, EB_EPARSE, "'%s': member '%s' does not inflate (%s)", z->path,
				  member, zs.msg ? zs.msg : rc == Z_BUF_ERROR ? "truncated" : "bad data");
	return 0;
}

int eb_zip_read(const char *path, const char *member, size_t max, char **data, size_t *len,
		struct eb_err *err)
{
	struct eb_zip z;
	struct eb_zip_ent e;
	struct eb_buf names;
	unsigned char local[EB_ZIP_LOCAL_LEN];
	unsigned char *comp = NULL;
	char *out = NULL;
	size_t pos = 0, mlen = strlen(member);
	off_t data_off;
	int found = 0, rc, ret;

	*data = NULL;
	*len = 0;
	ret = eb_zip_open(&z, path, err);
	if (ret)
		return ret;
	eb_buf_init(&names, 4096);
	while ((rc = eb_zip_next(&z, &pos, &e, err)) > 0) {
		if (e.name_len == mlen && memcmp(e.name, member, mlen) == 0) {
			found = 1;
			break;
		}
		if (names.len < 2048) {
			eb_buf_addstr(&names, names.len ? ", " : "");
			eb_buf_add(&names, e.name, e.name_len);
		}
	}
	if (rc < 0) {
		ret = rc;
		goto out;
	}
	if (!found) {
		ret = eb_err_set(err, EB_ENOENT, "'%s': no member '%s' (members: %s)", path, member,
				 names.len ? names.buf : "none");
		goto out;
	}
	if (e.flags & 1) {
		ret = eb_err_set(err, EB_EUNSUPPORTED, "'%s': member '%s' is encrypted", path, member);
		goto out;
	}
	if (e.method != 0 && e.method != 8) {
		ret = eb_err_set(err, EB_EUNSUPPORTED,
				 "'%s': member '%s' uses compression method %u (only stored and "
				 "deflated are supported)",
				 path, member, (unsigned)e.method);
		goto out;
	}
	if (e.usize == 0xffffffffu || e.csize == 0xffffffffu) {
		ret = eb_err_set(err, EB_EUNSUPPORTED, "'%s': zip64 members are not supported", path);
		goto out;
	}
	if (e.usize > max) {
		ret = eb_err_set(err, EB_EIO, "'%s': member '%s' is larger than %zu bytes", path,
				 member, max);
		goto out;
	}
	ret = eb_zip_pread(&z, e.local_off, local, sizeof(local), err);
	if (ret)
		goto out;
	if (eb_le32(local) != EB_ZIP_LOCAL_SIG) {
		ret = eb_err_set(err, EB_EPARSE, "'%s': bad local header for member '%s'", path, member);
		goto out;
	}
	data_off = (off_t)e.local_off + EB_ZIP_LOCAL_LEN + eb_le16(local + 26) + eb_le16(local + 28);
	/*
	 * Sizes are checked against the file before anything is allocated: a few corrupt
	 * bytes must not make a 5 KB archive allocate gigabytes.
	 */
	if (data_off + (off_t)e.csize > z.size) {
		ret = eb_err_set(err, EB_EPARSE,
				 "'%s': member '%s' claims %u compressed bytes, past the end of the file",
				 path, member, (unsigned)e.csize);
		goto out;
	}
	if (e.method == 0 && e.csize != e.usize) {
		ret = eb_err_set(err, EB_EPARSE, "'%s': stored member '%s' has inconsistent sizes",
				 path, member);
		goto out;
	}
	if (e.method == 8 && (uint64_t)e.usize > (uint64_t)e.csize * EB_ZIP_DEFLATE_MAX_RATIO) {
		ret = eb_err_set(err, EB_EPARSE,
				 "'%s': member '%s' claims %u bytes from %u compressed, more than "
				 "deflate can expand to",
				 path, member, (unsigned)e.usize, (unsigned)e.csize);
		goto out;
	}
	comp = eb_xmalloc(e.csize ? e.csize : 1);
	ret = eb_zip_pread(&z, data_off, comp, e.csize, err);
	if (ret)
		goto out;
	out = eb_xmalloc((size_t)e.usize + 1);
	if (e.method == 0) {
		memcpy(out, comp, e.usize);
	} else {
		ret = eb_zip_inflate(&z, member, comp, e.csize, out, e.usize, err);
		if (ret)
			goto out;
	}
	if ((uint32_t)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)out, (uInt)e.usize) != e.crc) {
		ret = eb_err_set(err, EB_EPARSE, "'%s': member '%s' fails its CRC-32 check", path, member);
		goto out;
	}
	out[e.usize] = '\0';
	*data = out;
	*len = e.usize;
	out = NULL;
out:
	free(out);
	free(comp);
	eb_buf_release(&names);
	eb_zip_close(&z);
	return ret;
}
