/* pyrandom.h: CPython's `random` module (MT19937) as the c4-gptq window sampler needs it. */
#ifndef EB_PYRANDOM_H
#define EB_PYRANDOM_H

#include <stddef.h>
#include <stdint.h>

#include "eb_err.h"

/*
 * Bit-for-bit the sequences of CPython's `random.Random` (the same in every CPython 3
 * since 3.2 for integer seeds): seeding, getrandbits, _randbelow_with_getrandbits,
 * randint and random(). Not cryptographic.
 *
 * The state is a plain struct the caller owns (on the stack or inside another struct);
 * nothing here allocates, so nothing needs releasing. Use it only after a seed call.
 */
#define EB_PYRANDOM_N 624

struct eb_pyrandom {
	uint32_t mt[EB_PYRANDOM_N];
	int index; /* next word of mt[] to temper; EB_PYRANDOM_N means "twist first" */
};

/*
 * random.seed(a) for an integer a given as the little-endian 32-bit words of |a|:
 * words[0] holds the lowest 32 bits. High zero words are ignored, as CPython uses only
 * as many words as |a| has bits (at least one), so {5, 0} seeds like {5}, and n == 0
 * (or all zeros) seeds like random.seed(0). `words` may be NULL when n is 0.
 */
void eb_pyrandom_seed_words(struct eb_pyrandom *r, const uint32_t *words, size_t n);

/* random.seed(a) for 0 <= a < 2^64. random.seed(0) is eb_pyrandom_seed_u64(r, 0). */
void eb_pyrandom_seed_u64(struct eb_pyrandom *r, uint64_t a);

/* random.seed(a) for any int64 a; CPython seeds with |a|, so seed(-5) == seed(5). */
void eb_pyrandom_seed_i64(struct eb_pyrandom *r, int64_t a);

/* The next raw 32-bit output of the generator (what getrandbits(32) returns). */
uint32_t eb_pyrandom_u32(struct eb_pyrandom *r);

/*
 * getrandbits(k) for 0 <= k <= 64 (k > 64 is clamped to 64; use the _words form).
 * k == 0 returns 0 and consumes nothing, as CPython 3.9+ does.
 */
uint64_t eb_pyrandom_getrandbits(struct eb_pyrandom *r, unsigned k);

/*
 * getrandbits(k) for any k >= 1 into (k + 31) / 32 little-endian 32-bit words the
 * caller provides (out[0] holds the lowest bits; bits above k in the last word are 0).
 * k == 0 writes nothing and consumes nothing.
 */
void eb_pyrandom_getrandbits_words(struct eb_pyrandom *r, size_t k, uint32_t *out);

/*
 * Random._randbelow_with_getrandbits(n): k = n.bit_length(); r = getrandbits(k) until
 * r < n. Defined for n >= 1; n == 0 (where CPython would loop forever) returns 0 and
 * consumes nothing.
 */
uint64_t eb_pyrandom_randbelow(struct eb_pyrandom *r, uint64_t n);

/*
 * random.randint(a, b) = a + randbelow(b - a + 1), for every int64 a <= b (spans up to
 * 2^64, where CPython draws getrandbits(65) and rejects). Returns 0 with *out set, or
 * EB_EINVAL with `err` filled when b < a (CPython's "empty range" ValueError).
 */
int eb_pyrandom_randint(struct eb_pyrandom *r, int64_t a, int64_t b, int64_t *out,
			struct eb_err *err);

/* random.random(): a float in [0, 1) with 53 random bits, from two 32-bit outputs. */
double eb_pyrandom_random(struct eb_pyrandom *r);

#endif
