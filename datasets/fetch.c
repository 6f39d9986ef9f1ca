/* fetch.c: the dataset catalog, resumable libcurl downloads, sha256 checks (see fetch.h). */
#include "fetch.h"
#include "c4.h"

#include "eb_clock.h"
#include "eb_curl.h"
#include "eb_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const eb_urls_hellaswag[] = {
	"https://raw.githubusercontent.com/rowanz/hellaswag/master/data/hellaswag_val.jsonl",
	NULL,
};
static const char *const eb_urls_wikitext2[] = {
	"https://huggingface.co/datasets/ggml-org/ci/resolve/main/wikitext-2-raw-v1.zip",
	"https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-raw-v1.zip",
	NULL,
};
static const char *const eb_urls_c4[] = {
	"https://huggingface.co/datasets/allenai/c4/resolve/main/en/" EB_C4_SHARD,
	NULL,
};

/*
 * The multiple-choice datasets, from where their authors publish them (the URLs the
 * Hugging Face loading scripts of ai2_arc, piqa, winogrande and hendrycks_test
 * downloaded). No hash is published for any of them, and none could be checked from
 * here: each is recorded on first fetch. Their sizes were not checked either: max_bytes
 * is a generous cap above the archive's known order of magnitude.
 */
static const char *const eb_urls_arc[] = {
	"https://ai2-public-datasets.s3.amazonaws.com/arc/ARC-V1-Feb2018.zip",
	"https://s3-us-west-2.amazonaws.com/ai2-website/data/ARC-V1-Feb2018.zip",
	NULL,
};
static const char *const eb_urls_piqa[] = {
	"https://storage.googleapis.com/ai2-mosaic/public/physicaliqa/physicaliqa-train-dev.zip",
	NULL,
};
static const char *const eb_urls_winogrande[] = {
	"https://storage.googleapis.com/ai2-mosaic/public/winogrande/winogrande_1.1.zip",
	NULL,
};
static const char *const eb_urls_mmlu[] = {
	"https://people.eecs.berkeley.edu/~hendrycks/data.tar",
	NULL,
};
static const char *const eb_urls_gsm8k[] = {
	"https://raw.githubusercontent.com/openai/grade-school-math/master/grade_school_math/data/"
	"test.jsonl",
	NULL,
};

const struct eb_dataset eb_dataset_catalog[] = {
	{ "hellaswag", "hellaswag_val.jsonl",
	  "0aa3b88843990f3f10a97b9575c94d7b71fb2205240ba04ae4884d9e9c992588", eb_urls_hellaswag,
	  16u << 20, "HellaSwag validation split, rowanz's JSONL (10,042 items)" },
	{ "wikitext2", "wikitext-2-raw-v1.zip",
	  "ef7edb566e3e2b2d31b29c1fdb0c89a4cc683597484c3dc2517919c615435a11", eb_urls_wikitext2,
	  8u << 20,
	  "WikiText-2 raw (Salesforce); read as wikitext-2-raw/wiki.test.raw inside the zip" },
	{ "c4", EB_C4_SHARD, NULL, eb_urls_c4, 64u << 20,
	  "C4 English validation shard 0 of 8 (allenai/c4); no published hash: recorded on "
	  "first fetch" },
	{ "arc", "ARC-V1-Feb2018.zip", NULL, eb_urls_arc, 1024u << 20,
	  "AI2's ARC release (ARC-Easy and ARC-Challenge JSONL, and the ARC corpus); no "
	  "published hash: recorded on first fetch" },
	{ "piqa", "physicaliqa-train-dev.zip", NULL, eb_urls_piqa, 64u << 20,
	  "PIQA train and dev (dev.jsonl, dev-labels.lst; AI2's copy); no published hash: "
	  "recorded on first fetch" },
	{ "winogrande", "winogrande_1.1.zip", NULL, eb_urls_winogrande, 64u << 20,
	  "Winogrande 1.1 (dev.jsonl, 1,267 items, and the train sizes); no published hash: "
	  "recorded on first fetch" },
	{ "mmlu", "data.tar", NULL, eb_urls_mmlu, 512u << 20,
	  "MMLU, Hendrycks' CSV release (data/test/SUBJECT_test.csv, 57 subjects); no "
	  "published hash: recorded on first fetch" },
	{ "gsm8k", "gsm8k_test.jsonl",
	  "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14", eb_urls_gsm8k,
	  1u << 20, "GSM8K test split, openai/grade-school-math's JSONL (1,319 problems)" },
	{ NULL, NULL, NULL, NULL, 0, NULL },
};

const struct eb_dataset *eb_dataset_find(const char *name)
{
	for (const struct eb_dataset *d = eb_dataset_catalog; d->name; d++)
		if (name && strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

int eb_datasets_dir(char *buf, size_t n, struct eb_err *err)
{
	const char *d = getenv("EB_DATASETS_DIR");
	const char *home = getenv("HOME");
	int len;

	if (d && *d)
		len = snprintf(buf, n, "%s", d);
	else if (home && *home)
		len = snprintf(buf, n, "%s/.cache/edgebench/datasets", home);
	else
		return eb_err_set(err, EB_EINVAL,
				  "no datasets directory: set EB_DATASETS_DIR (or HOME), or pass --dir");
	if (len < 0 || (size_t)len >= n)
		return eb_err_set(err, EB_EINVAL, "datasets directory path is too long");
	return 0;
}

int eb_sha256_file(const char *path, char hex[65], struct eb_err *err)
{
	struct eb_sha256 h;
	char *buf;
	size_t n;
	FILE *f = fopen(path, "rb");
	int ret = 0;

	if (!f)
		return eb_err_set(err, errno == ENOENT ? EB_ENOENT : EB_EIO, "cannot open '%s': %s",
				  path, strerror(errno));
	buf = eb_xmalloc(1 << 20);
	eb_sha256_init(&h);
	while ((n = fread(buf, 1, 1 << 20, f)) > 0)
		eb_sha256_update(&h, buf, n);
	if (ferror(f))
		ret = eb_err_set(err, EB_EIO, "cannot read '%s': %s", path, strerror(errno));
	else
		eb_sha256_final(&h, hex);
	free(buf);
	fclose(f);
	return ret;
}

/* --- the manifest of recorded hashes ------------------------------------------------ */

static int eb_is_hex64(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int eb_dataset_recorded(const char *dir, const char *file, char hex[65], struct eb_err *err)
{
	char path[4096], *text = NULL, *line, *next;
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, EB_DATASETS_MANIFEST);
	if (access(path, F_OK) != 0)
		return eb_err_set(err, EB_ENOENT, "no hash recorded for '%s'", file);
	ret = eb_read_file(path, 1 << 20, &text, &len, err);
	if (ret)
		return ret;
	ret = eb_err_set(err, EB_ENOENT, "no hash recorded for '%s' in '%s'", file, path);
	for (line = text; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strlen(line) > 66 && eb_is_hex64(line) && line[64] == ' ' && line[65] == ' ' &&
		    strcmp(line + 66, file) == 0) {
			memcpy(hex, line, 64);
			hex[64] = '\0';
			ret = 0;
			eb_err_clear(err);
			break;
		}
	}
	free(text);
	return ret;
}

int eb_dataset_record(const char *dir, const char *file, const char *hex, struct eb_err *err)
{
	char path[4096], *text = NULL, *line, *next;
	struct eb_buf b;
	size_t len;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, EB_DATASETS_MANIFEST);
	eb_buf_init(&b, 0);
	if (access(path, F_OK) == 0) {
		ret = eb_read_file(path, 1 << 20, &text, &len, err);
		if (ret)
			goto out;
		for (line = text; line && *line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			if (strlen(line) > 66 && strcmp(line + 66, file) == 0)
				continue;
			if (*line)
				eb_buf_addf(&b, "%s\n", line);
		}
	}
	eb_buf_addf(&b, "%s  %s\n", hex, file);
	ret = eb_write_file(path, b.buf, b.len, err);
out:
	free(text);
	eb_buf_release(&b);
	return ret;
}

/* --- one download ------------------------------------------------------------------ */

struct eb_dl {
	CURL *c;
	const char *url;
	const char *part;
	FILE *f;
	uint64_t base;      /* bytes already in .part when the transfer started */
	uint64_t written;   /* bytes this transfer wrote */
	uint64_t max;       /* .part may not pass this many bytes; 0: no cap */
	int too_big;
	int open_failed;
	int saved_errno;
	uint64_t last_ns;
	const struct eb_fetch_opts *o;
};

static size_t eb_dl_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct eb_dl *d = ud;
	size_t n = size * nmemb;

	if (!d->f) {
		long code = 0;

		curl_easy_getinfo(d->c, CURLINFO_RESPONSE_CODE, &code);
		if (code != 206)
			d->base = 0; /* the server sent the whole file: start over */
		d->written = 0;
		d->f = fopen(d->part, code == 206 ? "ab" : "wb");
		if (!d->f) {
			d->open_failed = 1;
			d->saved_errno = errno;
			return 0;
		}
	}
	/* stop at the cap, not at a full disk: an endless mirror sends forever */
	if (d->max && d->base + d->written + n > d->max) {
		d->too_big = 1;
		return 0;
	}
	d->written += n;
	if (fwrite(ptr, 1, n, d->f) != n) {
		d->open_failed = 1;
		d->saved_errno = errno;
		return 0;
	}
	return n;
}

static int eb_dl_progress(void *ud, curl_off_t total, curl_off_t now, curl_off_t ut, curl_off_t un)
{
	struct eb_dl *d = ud;
	uint64_t t = eb_clock_ns();

	if (d->o && d->o->progress && t - d->last_ns > 200000000ull) {
		d->last_ns = t;
		d->o->progress(d->o->progress_ud, d->url, d->base + (uint64_t)now,
			       total > 0 ? d->base + (uint64_t)total : 0);
	}
	return 0;
}

/* One transfer into .part (resuming from its size); 0, or EB_EIO; *http the status. */
static int eb_dl_once(struct eb_dl *d, long *http, struct eb_err *err)
{
	char range[64], errbuf[CURL_ERROR_SIZE] = "", ua[64];
	struct stat sb;
	long ct = d->o && d->o->connect_timeout_s > 0 ? d->o->connect_timeout_s : 30;
	long stall = d->o && d->o->stall_timeout_s > 0 ? d->o->stall_timeout_s : 60;
	CURLcode rc;
	int ret = 0;

	d->base = stat(d->part, &sb) == 0 ? (uint64_t)sb.st_size : 0;
	if (d->max && d->base > d->max)
		d->base = 0; /* a .part already past the cap is not a start: fetch it whole */
	d->f = NULL;
	d->open_failed = 0;
	d->too_big = 0;
	d->written = 0;
	ret = eb_curl_new(&d->c, err);
	if (ret)
		return ret;
	snprintf(ua, sizeof(ua), "edgebench/%s", "datasets");
	curl_easy_setopt(d->c, CURLOPT_URL, d->url);
	curl_easy_setopt(d->c, CURLOPT_USERAGENT, ua);
	curl_easy_setopt(d->c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(d->c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(d->c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(d->c, CURLOPT_CONNECTTIMEOUT, ct);
	curl_easy_setopt(d->c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(d->c, CURLOPT_LOW_SPEED_TIME, stall);
	curl_easy_setopt(d->c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(d->c, CURLOPT_WRITEFUNCTION, eb_dl_write);
	curl_easy_setopt(d->c, CURLOPT_WRITEDATA, d);
	curl_easy_setopt(d->c, CURLOPT_XFERINFOFUNCTION, eb_dl_progress);
	curl_easy_setopt(d->c, CURLOPT_XFERINFODATA, d);
	curl_easy_setopt(d->c, CURLOPT_NOPROGRESS, 0L);
	if (d->max)
		curl_easy_setopt(d->c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)(d->max - d->base));
	if (d->base > 0) {
		/* a plain Range header: a server that ignores it answers 200 and we restart */
		snprintf(range, sizeof(range), "%llu-", (unsigned long long)d->base);
		curl_easy_setopt(d->c, CURLOPT_RANGE, range);
	}
	rc = curl_easy_perform(d->c);
	*http = 0;
	curl_easy_getinfo(d->c, CURLINFO_RESPONSE_CODE, http);
	if (d->f && fclose(d->f) != 0 && rc == CURLE_OK) {
		d->open_failed = 1;
		d->saved_errno = errno;
	}
	d->f = NULL;
	if (rc == CURLE_FILESIZE_EXCEEDED)
		d->too_big = 1; /* the server said its size up front */
	if (d->too_big)
		ret = eb_err_set(err, EB_EIO,
				 "'%s' is larger than %llu bytes, the most this file can be; the "
				 "download was removed",
				 d->url, (unsigned long long)d->max);
	else if (d->open_failed)
		ret = eb_err_set(err, EB_EIO, "cannot write '%s': %s", d->part,
				 strerror(d->saved_errno));
	else if (rc != CURLE_OK)
		ret = eb_err_set(err, EB_EIO, "cannot download '%s': %s", d->url,
				 eb_curl_why(rc, errbuf));
	curl_easy_cleanup(d->c);
	d->c = NULL;
	return ret;
}

int eb_fetch_url(const char *url, const char *path, const char *sha256, char got[65],
		 const struct eb_fetch_opts *o, struct eb_err *err)
{
	struct eb_dl d;
	char part[4096], hex[65];
	long http = 0;
	int ret;

	if (snprintf(part, sizeof(part), "%s.part", path) >= (int)sizeof(part))
		return eb_err_set(err, EB_EINVAL, "path too long: '%s'", path);
	memset(&d, 0, sizeof(d));
	d.url = url;
	d.part = part;
	d.o = o;
	d.max = o ? o->max_bytes : 0;
	ret = eb_dl_once(&d, &http, err);
	if (d.too_big) {
		unlink(part);
		return ret;
	}
	if (ret && http == 416 && d.base > 0) {
		/* nothing after our offset: .part may already be whole (checked below) */
		eb_err_clear(err);
		ret = 0;
	}
	if (ret)
		return ret;
	ret = eb_sha256_file(part, hex, err);
	if (ret)
		return ret;
	if (got)
		memcpy(got, hex, 65);
	if (sha256 && strcmp(hex, sha256) != 0) {
		unlink(part);
		return eb_err_set(err, EB_EIO,
				  "sha256 mismatch for '%s' from '%s': expected %s, got %s; the "
				  "download was removed",
				  path, url, sha256, hex);
	}
	if (rename(part, path) != 0)
		return eb_err_set(err, EB_EIO, "cannot rename '%s' to '%s': %s", part, path,
				  strerror(errno));
	return 0;
}

int eb_dataset_fetch(const struct eb_dataset *d, const char *dir, const struct eb_fetch_opts *o,
		     enum eb_fetch_outcome *outcome, char got[65], struct eb_err *err)
{
	char dest[4096], want[65] = "", hex[65] = "";
	const char *expect = d->sha256;
	struct eb_fetch_opts capped = { 0 };
	struct eb_err e2;
	size_t n_urls = 0;
	int ret;

	*outcome = EB_FETCH_DOWNLOADED;
	ret = eb_mkdirs(dir, err);
	if (ret)
		return ret;
	if (snprintf(dest, sizeof(dest), "%s/%s", dir, d->file) >= (int)sizeof(dest))
		return eb_err_set(err, EB_EINVAL, "path too long in '%s'", dir);
	if (!expect && eb_dataset_recorded(dir, d->file, want, &e2) == 0)
		expect = want;
	if (access(dest, F_OK) == 0 && !(o && o->force)) {
		ret = eb_sha256_file(dest, hex, err);
		if (ret)
			return ret;
		if (got)
			memcpy(got, hex, 65);
		if (!expect) {
			*outcome = EB_FETCH_RECORDED;
			return eb_dataset_record(dir, d->file, hex, err);
		}
		if (strcmp(hex, expect) == 0) {
			*outcome = EB_FETCH_PRESENT;
			return 0;
		}
		return eb_err_set(err, EB_EIO,
				  "'%s' exists but its sha256 is %s, expected %s: remove it or "
				  "fetch again with --force",
				  dest, hex, expect);
	}
	if (o)
		capped = *o;
	capped.max_bytes = d->max_bytes;
	o = &capped;
	ret = eb_err_set(err, EB_EINVAL, "dataset '%s' has no URL to fetch from", d->name);
	if (o && o->n_mirrors) {
		for (size_t i = 0; i < o->n_mirrors; i++) {
			char url[4096];
			size_t bl = strlen(o->mirrors[i]);

			while (bl > 0 && o->mirrors[i][bl - 1] == '/')
				bl--;
			snprintf(url, sizeof(url), "%.*s/%s", (int)bl, o->mirrors[i], d->file);
			n_urls++;
			ret = eb_fetch_url(url, dest, expect, hex, o, err);
			if (ret == 0)
				break;
		}
	} else {
		for (size_t i = 0; d->urls[i]; i++) {
			n_urls++;
			ret = eb_fetch_url(d->urls[i], dest, expect, hex, o, err);
			if (ret == 0)
				break;
		}
	}
	if (ret) {
		if (n_urls > 1)
			eb_err_prefix(err, "dataset '%s' (tried %zu URLs, this is the last error)",
				      d->name, n_urls);
		return ret;
	}
	if (got)
		memcpy(got, hex, 65);
	if (!expect) {
		*outcome = EB_FETCH_RECORDED;
		return eb_dataset_record(dir, d->file, hex, err);
	}
	return 0;
}

int eb_dataset_verify(const struct eb_dataset *d, const char *dir, enum eb_verify_state *state,
		      char got[65], char want[65], struct eb_err *err)
{
	char dest[4096];
	struct eb_err e2;
	int ret;

	got[0] = '\0';
	want[0] = '\0';
	if (d->sha256)
		eb_strlcpy(want, d->sha256, 65);
	else if (eb_dataset_recorded(dir, d->file, want, &e2) != 0)
		want[0] = '\0';
	snprintf(dest, sizeof(dest), "%s/%s", dir, d->file);
	if (access(dest, F_OK) != 0) {
		*state = EB_VERIFY_MISSING;
		return 0;
	}
	ret = eb_sha256_file(dest, got, err);
	if (ret)
		return ret;
	if (!want[0])
		*state = EB_VERIFY_UNRECORDED;
	else
		*state = strcmp(got, want) == 0 ? EB_VERIFY_OK : EB_VERIFY_MISMATCH;
	return 0;
}
