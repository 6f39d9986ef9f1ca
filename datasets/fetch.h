/* fetch.h: the catalog of accuracy datasets and their resumable, sha256-checked download. */
#ifndef EB_FETCH_H
#define EB_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "eb_err.h"

/* One dataset edgebench knows how to fetch. Static storage. */
struct eb_dataset {
	const char *name;        /* "hellaswag", "wikitext2", "c4" */
	const char *file;        /* its file name in the datasets directory */
	const char *sha256;      /* the published hash, or NULL: recorded on first fetch */
	const char *const *urls; /* canonical public URLs, tried in order; NULL-terminated */
	const char *protocols;   /* the protocols that read it */
	uint64_t max_bytes;      /* the published file's size, rounded up: a download past it
				    is not this file and is stopped there */
	const char *help;        /* one line */
};

/* The catalog, terminated by an entry whose name is NULL. */
extern const struct eb_dataset eb_dataset_catalog[];

/* Looks a dataset up by name; NULL when unknown. */
const struct eb_dataset *eb_dataset_find(const char *name);

/* The dataset read by `protocol` when a task names no file; NULL for none. */
const struct eb_dataset *eb_dataset_for_protocol(const char *protocol);

/*
 * The datasets directory into buf: $EB_DATASETS_DIR, else $HOME/.cache/edgebench/datasets.
 * EB_EINVAL when neither is set or the path does not fit.
 */
int eb_datasets_dir(char *buf, size_t n, struct eb_err *err);

/* Hashes recorded on first fetch live in DIR/SHA256SUMS ("<hex>  <file>" lines). */
#define EB_DATASETS_MANIFEST "SHA256SUMS"

/* The hash recorded for `file` in dir's manifest into hex[65]; EB_ENOENT when none. */
int eb_dataset_recorded(const char *dir, const char *file, char hex[65], struct eb_err *err);

/* Records (adds or replaces) the hash of `file` in dir's manifest, atomically. */
int eb_dataset_record(const char *dir, const char *file, const char *hex, struct eb_err *err);

/* SHA-256 of a file, streamed, as 64 hex digits; EB_ENOENT/EB_EIO naming the file. */
int eb_sha256_file(const char *path, char hex[65], struct eb_err *err);

struct eb_fetch_opts {
	/*
	 * Mirror base URLs tried in order instead of the catalog's URLs: the dataset is
	 * fetched from BASE "/" file. NULL or n_mirrors 0: the catalog's URLs.
	 */
	const char *const *mirrors;
	size_t n_mirrors;
	int force;              /* download again even when a good copy is present */
	long connect_timeout_s; /* 0: 30 */
	long stall_timeout_s;   /* abort when no byte arrives for this long; 0: 60 */
	/* MAY be NULL: called about 5 times a second while downloading (total 0: unknown) */
	void (*progress)(void *ud, const char *url, uint64_t done, uint64_t total);
	void *progress_ud;
	/*
	 * The most bytes the file can have, 0: no cap. A transfer that would pass it (or
	 * whose Content-Length does) is stopped there, the .part removed, and EB_EIO says
	 * so. eb_dataset_fetch sets it from the catalog's max_bytes.
	 */
	uint64_t max_bytes;
};

/*
 * Downloads `url` to `path`, through `path`.part so that an interrupted download
 * resumes (HTTP Range) on the next call; a server that ignores the range restarts it.
 * Once complete, the SHA-256 of the data is checked against `sha256` (NULL: not
 * checked) and written to got[65] (may be NULL); on a mismatch the download is removed
 * (nothing is kept) and EB_EIO says both hashes. `path` appears only complete and
 * checked (rename). Network and HTTP errors are EB_EIO with curl's reason and the URL;
 * the partial file is kept for the next attempt.
 */
int eb_fetch_url(const char *url, const char *path, const char *sha256, char got[65],
		 const struct eb_fetch_opts *o, struct eb_err *err);

/* What eb_dataset_fetch did. */
enum eb_fetch_outcome {
	EB_FETCH_PRESENT,    /* a good copy was already there */
	EB_FETCH_DOWNLOADED, /* downloaded and checked against the known hash */
	EB_FETCH_RECORDED,   /* downloaded; no hash was known, so its hash was recorded */
};

/*
 * Fetches dataset `d` into `dir` (created as needed): a present file that matches the
 * catalog's or the recorded hash is kept (unless o->force); otherwise each URL (mirrors
 * first when given, else the catalog's) is tried in order until one gives a file with
 * the right hash. Without a known hash the first complete download's hash is recorded in
 * the manifest. *outcome and got[65] (may be NULL) say what happened.
 */
int eb_dataset_fetch(const struct eb_dataset *d, const char *dir, const struct eb_fetch_opts *o,
		     enum eb_fetch_outcome *outcome, char got[65], struct eb_err *err);

/* Verification states for `datasets verify` and `datasets list`. */
enum eb_verify_state {
	EB_VERIFY_OK,         /* present and matches the known (or recorded) hash */
	EB_VERIFY_MISSING,    /* not in the directory */
	EB_VERIFY_MISMATCH,   /* present, different hash */
	EB_VERIFY_UNRECORDED, /* present, but there is no hash to compare with */
};

/*
 * Checks dataset `d` in `dir`: *state as above, got[65] its hash when present, want[65]
 * the expected one ("" when none). Returns 0 unless reading failed.
 */
int eb_dataset_verify(const struct eb_dataset *d, const char *dir, enum eb_verify_state *state,
		      char got[65], char want[65], struct eb_err *err);

#endif
