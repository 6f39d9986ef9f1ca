/* pyrandom.c: MT19937 with CPython's seeding and integer/float derivations (see pyrandom.h). */
#include "pyrandom.h"

#include <inttypes.h>

#define EB_MT_M 397
#define EB_MT_MATRIX_A 0x9908b0dfu
#define EB_MT_UPPER 0x80000000u
#define EB_MT_LOWER 0x7fffffffu

/* The reference generator's single-integer initialisation (Matsumoto and Nishimura). */
static void eb_mt_init(struct eb_pyrandom *r, uint32_t s)
{
	int i;

	r->mt[0] = s;
	for (i = 1; i < EB_PYRANDOM_N; i++) {
		uint32_t prev = r->mt[i - 1];

		r->mt[i] = 1812433253u * (prev ^ (prev >> 30)) + (uint32_t)i;
	}
	r->index = EB_PYRANDOM_N;
}

/* The reference init_by_array: seeds from a key of 32-bit words (at least one). */
static void eb_mt_init_array(struct eb_pyrandom *r, const uint32_t *key, size_t len)
{
	size_t i = 1, j = 0, k;
	uint32_t prev;

	eb_mt_init(r, 19650218u);
	for (k = len > EB_PYRANDOM_N ? len : EB_PYRANDOM_N; k > 0; k--) {
		prev = r->mt[i - 1];
		r->mt[i] = (r->mt[i] ^ ((prev ^ (prev >> 30)) * 1664525u)) + key[j] + (uint32_t)j;
		i++;
		j++;
		if (i >= EB_PYRANDOM_N) {
			r->mt[0] = r->mt[EB_PYRANDOM_N - 1];
			i = 1;
		}
		if (j >= len)
			j = 0;
	}
	for (k = EB_PYRANDOM_N - 1; k > 0; k--) {
		prev = r->mt[i - 1];
		r->mt[i] = (r->mt[i] ^ ((prev ^ (prev >> 30)) * 1566083941u)) - (uint32_t)i;
		i++;
		if (i >= EB_PYRANDOM_N) {
			r->mt[0] = r->mt[EB_PYRANDOM_N - 1];
			i = 1;
		}
	}
	r->mt[0] = 0x80000000u; /* the MSB is 1, so the state is never all zeros */
	r->index = EB_PYRANDOM_N;
}

/* Regenerates all N words of state. */
static void eb_mt_twist(struct eb_pyrandom *r)
{
	int i;

	for (i = 0; i < EB_PYRANDOM_N; i++) {
		uint32_t next = r->mt[(i + 1) % EB_PYRANDOM_N];
		uint32_t y = (r->mt[i] & EB_MT_UPPER) | (next & EB_MT_LOWER);
		uint32_t v = r->mt[(i + EB_MT_M) % EB_PYRANDOM_N] ^ (y >> 1);

		if (y & 1u)
			v ^= EB_MT_MATRIX_A;
		r->mt[i] = v;
	}
	r->index = 0;
}

uint32_t eb_pyrandom_u32(struct eb_pyrandom *r)
{
	uint32_t y;

	if (r->index >= EB_PYRANDOM_N)
		eb_mt_twist(r);
	y = r->mt[r->index++];
	y ^= y >> 11;
	y ^= (y << 7) & 0x9d2c5680u;
	y ^= (y << 15) & 0xefc60000u;
	y ^= y >> 18;
	return y;
}

void eb_pyrandom_seed_words(struct eb_pyrandom *r, const uint32_t *words, size_t n)
{
	static const uint32_t zero = 0;

	/* CPython keys with ceil(bits(|a|) / 32) words, and one word for a == 0. */
	while (n > 0 && words[n - 1] == 0)
		n--;
	if (n == 0)
		eb_mt_init_array(r, &zero, 1);
	else
		eb_mt_init_array(r, words, n);
}

void eb_pyrandom_seed_u64(struct eb_pyrandom *r, uint64_t a)
{
	uint32_t w[2];

	w[0] = (uint32_t)(a & 0xffffffffu);
	w[1] = (uint32_t)(a >> 32);
	eb_pyrandom_seed_words(r, w, 2);
}

void eb_pyrandom_seed_i64(struct eb_pyrandom *r, int64_t a)
{
	/* |a| in unsigned arithmetic, so INT64_MIN gives 2^63 rather than overflowing. */
	uint64_t m = a < 0 ? 0 - (uint64_t)a : (uint64_t)a;

	eb_pyrandom_seed_u64(r, m);
}

void eb_pyrandom_getrandbits_words(struct eb_pyrandom *r, size_t k, uint32_t *out)
{
	size_t i, words;

	if (k == 0)
		return;
	/* Least significant word first; the last word keeps the top bits of its draw. */
	words = (k - 1) / 32 + 1;
	for (i = 0; i < words; i++, k -= 32) {
		uint32_t v = eb_pyrandom_u32(r);

		if (k < 32)
			v >>= 32 - k;
		out[i] = v;
		if (k < 32)
			break;
	}
}

uint64_t eb_pyrandom_getrandbits(struct eb_pyrandom *r, unsigned k)
{
	uint32_t w[2] = { 0, 0 };

	if (k > 64)
		k = 64;
	eb_pyrandom_getrandbits_words(r, k, w);
	return (uint64_t)w[0] | ((uint64_t)w[1] << 32);
}

/* Number of bits needed for n (Python's int.bit_length); 0 for 0. */
static unsigned eb_bit_length(uint64_t n)
{
	unsigned k = 0;

	while (n) {
		k++;
		n >>= 1;
	}
	return k;
}

uint64_t eb_pyrandom_randbelow(struct eb_pyrandom *r, uint64_t n)
{
	unsigned k;
	uint64_t v;

	if (n == 0)
		return 0;
	k = eb_bit_length(n);
	do
		v = eb_pyrandom_getrandbits(r, k);
	while (v >= n);
	return v;
}

/* randbelow(2^64): k = 65, so each try draws 65 bits and only 2^65 > r >= 2^64 is rejected. */
static uint64_t eb_randbelow_2_64(struct eb_pyrandom *r)
{
	uint32_t w[3];

	do
		eb_pyrandom_getrandbits_words(r, 65, w);
	while (w[2] != 0);
	return (uint64_t)w[0] | ((uint64_t)w[1] << 32);
}

/* a + off as int64, where the true sum is known to lie in [a, INT64_MAX]. */
static int64_t eb_add_offset(int64_t a, uint64_t off)
{
	uint64_t u = (uint64_t)a + off; /* two's complement wrap gives the right bit pattern */

	if (u <= (uint64_t)INT64_MAX)
		return (int64_t)u;
	/* negative result: convert without relying on implementation-defined narrowing */
	return -(int64_t)(0 - u - 1) - 1;
}

int eb_pyrandom_randint(struct eb_pyrandom *r, int64_t a, int64_t b, int64_t *out,
			struct eb_err *err)
{
	uint64_t span_minus_1, off;

	if (b < a)
		return eb_err_set(err, EB_EINVAL,
				  "empty range for randint(%" PRId64 ", %" PRId64 ")", a, b);
	span_minus_1 = (uint64_t)b - (uint64_t)a;
	if (span_minus_1 == UINT64_MAX)
		off = eb_randbelow_2_64(r);
	else
		off = eb_pyrandom_randbelow(r, span_minus_1 + 1);
	*out = eb_add_offset(a, off);
	return 0;
}

double eb_pyrandom_random(struct eb_pyrandom *r)
{
	uint32_t a = eb_pyrandom_u32(r) >> 5; /* 27 bits */
	uint32_t b = eb_pyrandom_u32(r) >> 6; /* 26 bits */

	return ((double)a * 67108864.0 + (double)b) * (1.0 / 9007199254740992.0);
}
