/*
 * json/diffsize.c — the compact serialization of json-c values, counted
 * or written, and the size of the containers sc_diff might replace whole.
 *
 * Sizes are counted, not printed: strings eight bytes at a time while
 * none needs escaping, integers by their digits, doubles by the text
 * json-c prints for them.  The writer prints the same bytes the counter
 * counts (json-c's compact text, "/" unescaped), so a patch's text is
 * exactly as long as sc_diff reckoned.  A container being diffed is measured only as
 * far as its element ops already cost, resuming where the last step
 * stopped, with what was measured whole last (known) not walked again.
 *
 * Recursion is bounded by SC_JSON_MAX_DEPTH, so no input can overflow
 * the stack.
 */
#include "json/diffsize.h"

#include <string.h>

#include "common/alloc.h"
#include "json/value.h"

/* Whether one of the eight bytes of w needs escaping in a JSON string:
 * a control character, '"' or '\\'. */
static int needs_escape(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL, high = ones << 7;
	uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');

	return ((((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
		 ((b - ones) & ~b)) &
		high) != 0;
}

/* Whether json-c escapes c in a JSON string. */
#define ESCAPED(c) ((c) < 0x20 || (c) == '"' || (c) == '\\')

/* The bytes json-c adds to escape c, which it escapes. */
static size_t escape_extra(unsigned char c)
{
	if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' ||
	    c == '\r' || c == '\t')
		return 1;
	return 5;
}

/* Bytes that need no escaping, to fill a short word with. */
#define CLEAN_PAD 0x6161616100000000ULL

/*
 * Whether none of the n bytes of s needs escaping; when p is not NULL,
 * they are copied to p on the way (and p holds garbage when not).  In
 * words: the last, partial one overlaps the one before it, and strings
 * of 4 to 7 bytes are two overlapping 4-byte halves, so that no byte is
 * looked at one by one but in strings of under 4 bytes.
 */
static inline int clean(char *p, const char *s, size_t n)
{
	uint64_t w;
	uint32_t x, y;
	size_t i;

	if (n >= 8) {
		for (i = 0; i + 8 <= n; i += 8) {
			memcpy(&w, s + i, 8);
			if (needs_escape(w))
				return 0;
			if (p != NULL)
				memcpy(p + i, &w, 8);
		}
		if (i < n) {
			memcpy(&w, s + n - 8, 8);
			if (needs_escape(w))
				return 0;
			if (p != NULL)
				memcpy(p + n - 8, &w, 8);
		}
		return 1;
	}
	if (n >= 4) {
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		if (needs_escape(x | CLEAN_PAD) || needs_escape(y | CLEAN_PAD))
			return 0;
		if (p != NULL) {
			memcpy(p, &x, 4);
			memcpy(p + n - 4, &y, 4);
		}
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (ESCAPED((unsigned char)s[i]))
			return 0;
		if (p != NULL)
			p[i] = s[i];
	}
	return 1;
}

/* Eight bytes at a time while none of them needs escaping. */
size_t sc_diffsize_string(const char *s, size_t n)
{
	size_t i = 0, len = 2 + n;
	uint64_t w;

	if (clean(NULL, s, n))
		return len;
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		if (needs_escape(w))
			break;
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (ESCAPED(c))
			len += escape_extra(c);
	}
	return len;
}

/* sc_diffsize_string() of the NUL-terminated key k, in one pass. */
static size_t key_size(const char *k)
{
	const char *p = k;
	size_t len = 2;

	for (; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (ESCAPED(c))
			len += escape_extra(c);
	}
	return len + (size_t)(p - k);
}

/* Room for n more bytes at out->p. */
static int room(const struct sc_diffsize_out *out, size_t n)
{
	return (size_t)(out->end - out->p) >= n;
}

sc_err sc_diffsize_put(struct sc_diffsize_out *out, const char *s, size_t n)
{
	size_t i;

	if (!room(out, n))
		return SC_ERR_TOO_BIG;
	if (n > 16) {
		memcpy(out->p, s, n);
	} else {
		for (i = 0; i < n; i++) /* punctuation, digits: no call */
			out->p[i] = s[i];
	}
	out->p += n;
	return SC_OK;
}

/* Writes the character c. */
static inline sc_err put_char(struct sc_diffsize_out *out, char c)
{
	if (out->p == out->end)
		return SC_ERR_TOO_BIG;
	*out->p++ = c;
	return SC_OK;
}

/* Writes the escape of c (which json-c escapes) at p; returns the end. */
static char *put_escape(char *p, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	*p++ = '\\';
	switch (c) {
	case '"':
	case '\\':
		*p++ = (char)c;
		return p;
	case '\b':
		*p++ = 'b';
		return p;
	case '\f':
		*p++ = 'f';
		return p;
	case '\n':
		*p++ = 'n';
		return p;
	case '\r':
		*p++ = 'r';
		return p;
	case '\t':
		*p++ = 't';
		return p;
	default:
		memcpy(p, "u00", 3);
		p[3] = hex[c >> 4];
		p[4] = hex[c & 15];
		return p + 5;
	}
}

sc_err sc_diffsize_write_string(struct sc_diffsize_out *out, const char *s,
				size_t n)
{
	size_t i = 0;
	uint64_t w;
	char *p;

	if (!room(out, n + 2))
		return SC_ERR_TOO_BIG;
	p = out->p;
	*p++ = '"';
	if (clean(p, s, n)) {
		p[n] = '"';
		out->p = p + n + 1;
		return SC_OK;
	}
	/* eight bytes at a time, copied as they are checked */
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		if (needs_escape(w))
			break;
		memcpy(p, &w, 8);
		p += 8;
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!ESCAPED(c)) {
			*p++ = (char)c;
			continue;
		}
		/* room for this escape, the rest and the closing quote */
		if ((size_t)(out->end - p) < escape_extra(c) + 1 + (n - i) + 1) {
			out->p = p;
			return SC_ERR_TOO_BIG;
		}
		p = put_escape(p, c);
	}
	*p++ = '"';
	out->p = p;
	return SC_OK;
}

static size_t digits(uint64_t v)
{
	size_t n = 1;

	for (; v >= 10000; v /= 10000)
		n += 4;
	if (v >= 100) {
		v /= 100;
		n += 2;
	}
	return n + (v >= 10);
}

size_t sc_diffsize_int(int64_t i)
{
	return i < 0 ? 1 + digits((uint64_t)0 - (uint64_t)i)
		     : digits((uint64_t)i);
}

/* Writes v in decimal so that it ends at end; returns where it starts. */
static char *decimal(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	return end;
}

/* Writes o, a number. */
static sc_err write_number(struct sc_diffsize_out *out, json_object *o)
{
	char num[24], *end = num + sizeof(num), *s;
	const char *text;
	int64_t i;

	if (json_object_is_type(o, json_type_int)) {
		i = json_object_get_int64(o);
		if (i < 0) {
			s = decimal(end, (uint64_t)0 - (uint64_t)i);
			*--s = '-';
		} else if (i < INT64_MAX) { /* else maybe a larger uint64 */
			s = decimal(end, (uint64_t)i);
		} else {
			s = decimal(end, json_object_get_uint64(o));
		}
		return sc_diffsize_put(out, s, (size_t)(end - s));
	}
	text = json_object_get_string(o); /* as scalar_size() measures */
	if (text == NULL)
		return SC_ERR_NOMEM;
	return sc_diffsize_put(out, text, strlen(text));
}

/* The compact size of o, a scalar of type t (NULL is null). */
static size_t scalar_size(json_object *o, json_type t)
{
	const char *text;
	int64_t i;

	switch (t) {
	case json_type_null:
		return 4;
	case json_type_boolean:
		return json_object_get_boolean(o) ? 4 : 5;
	case json_type_int:
		i = json_object_get_int64(o);
		if (i < 0)
			return 1 + digits((uint64_t)0 - (uint64_t)i);
		if (i < INT64_MAX) /* else maybe a larger uint64 */
			return digits((uint64_t)i);
		return digits(json_object_get_uint64(o));
	case json_type_double:
		/* A double prints as its parsed text or json-c's format: ask
		 * json-c (which caches the text in o, as any serialization
		 * of it does). */
		text = json_object_get_string(o);
		return text != NULL ? strlen(text) : 0;
	case json_type_string:
		return sc_diffsize_string(
		    json_object_get_string(o),
		    (size_t)json_object_get_string_len(o));
	default:
		return 0;
	}
}

/*
 * Adds the compact serialized size of o, which lies at the given depth of
 * its document, to *size, stopping early once *size passes cap.  Returns
 * SC_ERR_TOO_DEEP when o nests past SC_JSON_MAX_DEPTH (within what it
 * measured).
 */
static sc_err value_size(json_object *o, size_t depth, size_t cap, size_t *size)
{
	json_type t = json_object_get_type(o);
	struct lh_entry *e;
	json_object *v;
	size_t i, n;
	sc_err rc;

	if (depth > SC_JSON_MAX_DEPTH)
		return SC_ERR_TOO_DEEP;
	if (t == json_type_array) {
		void **elems = json_object_get_array(o)->array;

		n = json_object_array_length(o);
		*size += n > 0 ? 1 + n : 2; /* brackets and commas */
		for (i = 0; i < n && *size <= cap; i++) {
			v = (json_object *)elems[i];
			t = json_object_get_type(v);
			if (t != json_type_array && t != json_type_object) {
				*size += scalar_size(v, t); /* no call */
				continue;
			}
			rc = value_size(v, depth + 1, cap, size);
			if (rc != SC_OK)
				return rc;
		}
		return SC_OK;
	}
	if (t != json_type_object) {
		*size += scalar_size(o, t);
		return SC_OK;
	}
	n = (size_t)json_object_object_length(o);
	*size += n > 0 ? 1 + n * 2 : 2; /* braces, colons, commas */
	for (e = lh_table_head(json_object_get_object(o));
	     e != NULL && *size <= cap; e = lh_entry_next(e)) {
		*size += key_size((const char *)lh_entry_k(e));
		v = (json_object *)lh_entry_v(e);
		t = json_object_get_type(v);
		if (t != json_type_array && t != json_type_object) {
			*size += scalar_size(v, t);
			continue;
		}
		rc = value_size(v, depth + 1, cap, size);
		if (rc != SC_OK)
			return rc;
	}
	return SC_OK;
}

/* Writes o, a scalar of type t (NULL is null). */
static sc_err write_scalar(struct sc_diffsize_out *out, json_object *o,
			   json_type t)
{
	switch (t) {
	case json_type_boolean:
		return json_object_get_boolean(o)
			   ? sc_diffsize_put(out, "true", 4)
			   : sc_diffsize_put(out, "false", 5);
	case json_type_int:
	case json_type_double:
		return write_number(out, o);
	case json_type_string:
		return sc_diffsize_write_string(
		    out, json_object_get_string(o),
		    (size_t)json_object_get_string_len(o));
	default:
		return sc_diffsize_put(out, "null", 4);
	}
}

/* Writes v, which lies at depth: scalars without another call. */
static inline sc_err write_child(struct sc_diffsize_out *out, json_object *v,
				 size_t depth)
{
	json_type t = json_object_get_type(v);

	if (t == json_type_array || t == json_type_object)
		return sc_diffsize_write(out, v, depth);
	return write_scalar(out, v, t);
}

sc_err sc_diffsize_write(struct sc_diffsize_out *out, json_object *o,
			 size_t depth)
{
	json_type t = json_object_get_type(o);
	struct lh_entry *e;
	size_t i, n;
	sc_err rc;

	if (depth > SC_JSON_MAX_DEPTH)
		return SC_ERR_TOO_DEEP;
	if (t == json_type_array) {
		void **elems = json_object_get_array(o)->array;

		n = json_object_array_length(o);
		rc = put_char(out, '[');
		for (i = 0; i < n && rc == SC_OK; i++) {
			if (i > 0)
				rc = put_char(out, ',');
			if (rc == SC_OK)
				rc = write_child(out, (json_object *)elems[i],
						 depth + 1);
		}
		return rc == SC_OK ? put_char(out, ']') : rc;
	}
	if (t != json_type_object)
		return write_scalar(out, o, t);
	rc = put_char(out, '{');
	e = lh_table_head(json_object_get_object(o));
	for (i = 0; e != NULL && rc == SC_OK; e = lh_entry_next(e)) {
		const char *key = (const char *)lh_entry_k(e);

		if (i++ > 0)
			rc = put_char(out, ',');
		if (rc == SC_OK)
			rc = sc_diffsize_write_string(out, key, strlen(key));
		if (rc == SC_OK)
			rc = put_char(out, ':');
		if (rc == SC_OK)
			rc = write_child(out, (json_object *)lh_entry_v(e),
					 depth + 1);
	}
	return rc == SC_OK ? put_char(out, '}') : rc;
}

sc_err sc_diffsize_value(const struct sc_diffsize_known *known, json_object *o,
			 size_t depth, size_t cap, size_t *size)
{
	if (o != NULL && o == known->o && depth <= known->depth) {
		*size += known->size;
		return SC_OK;
	}
	return value_size(o, depth, cap, size);
}

sc_err sc_diffsize_scope_measure(struct sc_diffsize_known *known,
				 struct sc_diffsize_scope *s, size_t cap)
{
	json_object *o = s->to;
	size_t n, m;
	sc_err rc;

	if (!s->started) {
		s->started = 1;
		if (json_object_is_type(o, json_type_array)) {
			n = json_object_array_length(o);
			s->measured = n > 0 ? n + 1 : 2; /* [ , ] */
		} else {
			n = (size_t)json_object_object_length(o);
			s->measured = n > 0 ? 2 * n + 1 : 2; /* { : , } */
			s->entry = lh_table_head(json_object_get_object(o));
		}
	}
	if (json_object_is_type(o, json_type_array)) {
		void **elems = json_object_get_array(o)->array;

		n = json_object_array_length(o);
		for (; s->next < n; s->next++) {
			m = s->measured;
			if (s->sizes != NULL && s->sizes[s->next] != 0) {
				m += s->sizes[s->next];
			} else {
				rc = sc_diffsize_value(
				    known, (json_object *)elems[s->next],
				    s->depth + 1, cap, &m);
				if (rc != SC_OK)
					return rc;
				if (m <= cap && s->sizes != NULL)
					s->sizes[s->next] = m - s->measured;
			}
			if (m > cap) {
				s->size = s->size > m ? s->size : m;
				return SC_OK;
			}
			s->measured = m;
		}
	} else {
		for (; s->entry != NULL; s->entry = lh_entry_next(s->entry)) {
			const char *key = lh_entry_k(s->entry);

			m = s->measured + key_size(key);
			rc = sc_diffsize_value(
			    known, (json_object *)lh_entry_v(s->entry),
			    s->depth + 1, cap, &m);
			if (rc != SC_OK)
				return rc;
			if (m > cap) {
				s->size = s->size > m ? s->size : m;
				return SC_OK;
			}
			s->measured = m;
		}
	}
	s->size = s->measured;
	s->exact = 1;
	known->o = o;
	known->size = s->size;
	known->depth = s->depth;
	return SC_OK;
}

void sc_diffsize_scope_bound(struct sc_diffsize_scope *s, size_t bound)
{
	size_t min = 1 + json_object_array_length(s->to); /* [ , ] */

	s->elb += bound;
	if (s->size < min + s->elb)
		s->size = min + s->elb;
}

size_t *sc_diffsize_scope_sizes(struct sc_diffsize_scope *s)
{
	if (s->sizes == NULL && s->may_keep_sizes) {
		s->sizes = sc_calloc(json_object_array_length(s->to),
				     sizeof(*s->sizes));
		s->may_keep_sizes = s->sizes != NULL;
	}
	return s->sizes;
}

sc_err sc_diffsize_elem(const struct sc_diffsize_known *known,
			struct sc_diffsize_scope *s, size_t i, size_t *size)
{
	sc_err rc;

	if (s->sizes != NULL && s->sizes[i] != 0) {
		*size = s->sizes[i];
		return SC_OK;
	}
	*size = 0;
	rc = sc_diffsize_value(known, json_object_array_get_idx(s->to, i),
			       s->depth + 1, SIZE_MAX, size);
	if (rc == SC_OK && sc_diffsize_scope_sizes(s) != NULL)
		s->sizes[i] = *size;
	return rc;
}
