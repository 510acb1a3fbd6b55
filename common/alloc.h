/*
 * common/alloc.h — every allocation of StateChannel's own code goes
 * through these wrappers, so a test can make the Nth allocation fail
 * and check that nothing leaks or crashes (fault injection).
 *
 * json-c and SQLite allocate on their own; their failures surface as
 * NULL returns / SQLITE_NOMEM and are handled where they are called.
 */
#ifndef SC_COMMON_ALLOC_H
#define SC_COMMON_ALLOC_H

#include <stddef.h>

/* Like malloc/calloc/realloc/strdup/strndup/free; NULL on failure.
 * sc_free(NULL) does nothing.  Memory from these is freed with sc_free. */
void *sc_malloc(size_t n);
void *sc_calloc(size_t count, size_t size);
void *sc_realloc(void *p, size_t n);
char *sc_strdup(const char *s);
char *sc_strndup(const char *s, size_t n);
void sc_free(void *p);

/*
 * Fault injection, for tests only: defined only in the test build of
 * this module (common/alloc.c compiled with SC_ALLOC_FAULTS into
 * alloc_faults.o, which the Makefile links into every test program
 * ahead of the library); the release library has no counter at all.
 * After sc_alloc_fail_after(n), the
 * first n allocations succeed and every later one fails (returns NULL)
 * until sc_alloc_fail_after(-1) switches injection off again.
 * sc_alloc_count() returns how many allocations were attempted since
 * the last sc_alloc_fail_after() call.  Not thread-safe: tests use it
 * from one thread.
 */
void sc_alloc_fail_after(long n);
long sc_alloc_count(void);

#endif
