/* c4.h: the C4 English validation shard (json.gz) and GPTQ's c4 window sampler. */
#ifndef EB_C4_H
#define EB_C4_H

#include <stddef.h>
#include <stdint.h>

#include "eb_err.h"
#include "corpus.h"

/* The shard GPTQ, AutoGPTQ and most quantization papers sample from. */
#define EB_C4_SHARD "c4-validation.00000-of-00008.json.gz"

/*
 * Loads the "text" of each JSON line of a C4 shard (gzip, or plain JSON lines when the
 * name does not end in .gz) into `docs`, in file order, stopping after `max_docs`
 * documents (0 = all). Blank lines are skipped; other keys (timestamp, url) ignored.
 * Errors (EB_EPARSE) name the file and line as given: "x.json.gz:17: missing 'text'",
 * "x.json.gz:3:9: invalid json: ..."; a file without documents is an error. On failure
 * `docs` is left empty.
 */
int eb_c4_load(const char *path, size_t max_docs, struct eb_docs *docs, struct eb_err *err);

/* One sampled window: tokens [start, start + seqlen) of document `doc`. */
struct eb_c4_window {
	size_t doc;
	size_t start;
};

/*
 * Token count of document `doc` (the caller tokenizes, and may cache). Returns 0 or a
 * negative EB_E* code with err filled, which stops the sampler.
 */
typedef int (*eb_c4_ntok_fn)(void *ud, size_t doc, size_t *n_tokens, struct eb_err *err);

/*
 * GPTQ's get_c4 validation windows (IST-DASLab/gptq datautils.py), with CPython's
 * random semantics (datasets/pyrandom.h):
 *
 *     random.seed(seed)
 *     for _ in range(n_windows):
 *         while True:
 *             i = random.randint(0, n_docs - 1)
 *             if ntok(i) > seqlen: break
 *         j = random.randint(0, ntok(i) - seqlen - 1)
 *         window = (i, j)
 *
 * GPTQ's own test is `>= seqlen`, after which randint(0, -1) raises for a document of
 * exactly seqlen tokens; `> seqlen` draws the same windows whenever GPTQ's code runs
 * to the end, and keeps drawing where it would have crashed. Fails with EB_EINVAL when
 * no document has more than seqlen tokens (found once every document has been drawn),
 * or with the callback's error.
 */
int eb_c4_gptq_windows(size_t n_docs, size_t seqlen, size_t n_windows, uint64_t seed,
		       eb_c4_ntok_fn ntok, void *ud, struct eb_c4_window *out, struct eb_err *err);

#endif
