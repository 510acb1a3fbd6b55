/*
 * common/hash.h — the one set of hash functions: FNV-1a over bytes (for
 * names in hash tables), splitmix64's finalizer (to mix 64-bit values)
 * and a word-at-a-time byte hash built on it (for the JSON values the
 * diff compares).  Prefix sc_hash_.  Not for anything an attacker should not
 * be able to collide: tables that hash network input bound their chains
 * or their sizes.
 */
#ifndef SC_COMMON_HASH_H
#define SC_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* FNV-1a (64-bit) of n bytes at p, continuing from h (start with
 * SC_HASH_FNV_INIT). */
#define SC_HASH_FNV_INIT 0xcbf29ce484222325ULL
uint64_t sc_hash_fnv(uint64_t h, const void *p, size_t n);

/* FNV-1a of a NUL-terminated string. */
uint64_t sc_hash_str(const char *s);

/* splitmix64's finalizer: a cheap, well-distributed mix of x (inline:
 * it sits in the diff's hottest loop). */
static inline uint64_t sc_hash_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* 2^64 / the golden ratio: the multiplier that mixes words into a hash. */
#define SC_HASH_K 0x9e3779b97f4a7c15ULL

/* A hash of the n bytes at p from seed, eight at a time, finished by
 * sc_hash_mix (inline: the JSON hashes of the diff call it per
 * string). */
static inline uint64_t sc_hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h = seed ^ (n * SC_HASH_K), w;

	while (n >= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * SC_HASH_K;
		h ^= h >> 29;
		s += 8;
		n -= 8;
	}
	w = 0;
	memcpy(&w, s, n);
	h = (h ^ w) * SC_HASH_K;
	return sc_hash_mix(h);
}

#endif
