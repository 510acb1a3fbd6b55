/*
 * common/buf.c — the growable byte buffer (see buf.h).
 */
#include "common/buf.h"

#include <string.h>

#include "common/alloc.h"

sc_err sc_buf_grow(char **p, size_t *cap, size_t len, size_t n, size_t max)
{
	size_t want, nc;
	char *np;

	if (len > max || n > max - len)
		return SC_ERR_TOO_BIG;
	want = len + n + 1;
	if (want <= *cap)
		return SC_OK;
	nc = *cap < 64 ? 64 : *cap;
	while (nc < want)
		nc *= 2;
	if (nc > max + 1)
		nc = max + 1;
	np = sc_realloc(*p, nc);
	if (np == NULL)
		return SC_ERR_NOMEM;
	*p = np;
	*cap = nc;
	return SC_OK;
}

sc_err sc_buf_add(sc_buf *b, const void *s, size_t n)
{
	sc_err rc = sc_buf_grow(&b->p, &b->cap, b->len, n,
				b->max != 0 ? b->max : SC_BUF_MAX);

	if (rc != SC_OK)
		return rc;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return SC_OK;
}

void sc_buf_free(sc_buf *b)
{
	if (b == NULL)
		return;
	sc_free(b->p);
	memset(b, 0, sizeof(*b));
}

size_t sc_buf_i64(char *p, int64_t v)
{
	char tmp[SC_BUF_I64_MAX];
	/* The magnitude as unsigned: INT64_MIN has no positive int64. */
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	size_t n = 0, i = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		p[i++] = '-';
	while (n > 0)
		p[i++] = tmp[--n];
	return i;
}
