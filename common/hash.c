/*
 * common/hash.c — FNV-1a and splitmix64's finalizer (see hash.h).
 */
#include "common/hash.h"

#include <string.h>

uint64_t sc_hash_fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

uint64_t sc_hash_str(const char *s)
{
	return sc_hash_fnv(SC_HASH_FNV_INIT, s, strlen(s));
}
