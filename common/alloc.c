/*
 * common/alloc.c — allocation wrappers; compiled with SC_ALLOC_FAULTS
 * (the test programs' alloc_faults.o) they inject faults.
 */
#include "common/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#ifdef SC_ALLOC_FAULTS
/*
 * The test build (alloc_faults.o, linked into the test programs ahead of
 * the library): every allocation counts, and can be made to fail.  The
 * release build calls malloc directly: no shared counter for threads to
 * fight over.
 */
static _Atomic long fail_after = -1; /* -1: never fail */
static _Atomic long attempts;

static int should_fail(void)
{
	long n =
	    atomic_fetch_add_explicit(&attempts, 1, memory_order_relaxed) + 1;
	long limit = atomic_load_explicit(&fail_after, memory_order_relaxed);

	return limit >= 0 && n > limit;
}

void sc_alloc_fail_after(long n)
{
	fail_after = n;
	attempts = 0;
}

long sc_alloc_count(void)
{
	return attempts;
}
#else
#define should_fail() 0
#endif

void *sc_malloc(size_t n)
{
	if (should_fail())
		return NULL;
	return malloc(n == 0 ? 1 : n);
}

void *sc_calloc(size_t count, size_t size)
{
	if (should_fail())
		return NULL;
	return calloc(count == 0 ? 1 : count, size == 0 ? 1 : size);
}

void *sc_realloc(void *p, size_t n)
{
	if (should_fail())
		return NULL;
	return realloc(p, n == 0 ? 1 : n);
}

char *sc_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = sc_malloc(len + 1);

	if (d == NULL)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

char *sc_strdup(const char *s)
{
	return sc_strndup(s, strlen(s));
}

void sc_free(void *p)
{
	free(p);
}
