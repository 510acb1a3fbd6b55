/*
 * json/text.c — the compact JSON text of json-c values, written or
 * counted (see text.h).
 *
 * Strings are checked and copied eight bytes at a time while none needs
 * escaping, integers printed by their digits, punctuation without calls;
 * a growing buffer is asked for room only when the room left runs out.
 * The counter counts exactly the bytes the writer writes, so a text
 * measured first is written into memory of its exact size.
 *
 * Recursion is bounded (SC_JSON_MAX_DEPTH, + 2 for the writer), so no
 * input can overflow the stack.
 */
#include "json/text.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json/value.h"

/* How json-c is asked for a double it alone knows how to print. */
#define JSONC_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* The deepest nesting the writer takes. */
#define WRITE_MAX_DEPTH (SC_JSON_MAX_DEPTH + 2)

/* The length of s when it is a JSON number (and nothing after it), else
 * 0. */
static size_t number_len(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return 0;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (*p < '0' || *p > '9')
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0' ? (size_t)(p - s) : 0;
}

int sc_text_is_number(const char *s)
{
	return number_len(s) > 0;
}

/* Room for a double's text printed here. */
#define DOUBLE_BUF 32

/*
 * The text of the double o, as json-c prints it: the text it was parsed
 * from (kept by json-c as o's userdata), else "%.17g" with ".0" where
 * that looks like an integer (json-c's default format; a decimal comma
 * of a locale becomes a point, as json-c mends it).  What is neither (a
 * userdata that is no number's text, NaN, Infinity) json-c prints.
 * Returns the text (in buf, or borrowed from o), *n its length; NULL
 * when out of memory.
 */
static const char *double_text(json_object *o, char *buf, size_t *n)
{
	const char *u = json_object_get_userdata(o);
	double d;
	char *p;
	int len;

	if (u != NULL) {
		if ((*n = number_len(u)) > 0)
			return u;
		return json_object_to_json_string_length(o, JSONC_FLAGS, n);
	}
	d = json_object_get_double(o);
	if (!isfinite(d))
		return json_object_to_json_string_length(o, JSONC_FLAGS, n);
	len = snprintf(buf, DOUBLE_BUF, "%.17g", d);
	if (len <= 0 || len > DOUBLE_BUF - 3)
		return json_object_to_json_string_length(o, JSONC_FLAGS, n);
	if ((p = strchr(buf, ',')) != NULL) {
		*p = '.';
	} else if (strchr(buf, '.') == NULL && strchr(buf, 'e') == NULL) {
		memcpy(buf + len, ".0", 3);
		len += 2;
	}
	*n = (size_t)len;
	return buf;
}

/* Whether one of the eight bytes of w needs escaping in a JSON string:
 * a control character, '"' or '\\'. */
static inline int needs_escape(uint64_t w)
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

size_t sc_text_string_size(const char *s, size_t n)
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

/* sc_text_string_size() of the NUL-terminated key k, in one pass. */
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

/* The compact size of o, a scalar of type t (NULL is null). */
static size_t scalar_size(json_object *o, json_type t)
{
	char buf[DOUBLE_BUF];
	size_t n = 0;
	int64_t i;

	switch (t) {
	case json_type_null:
		return 4;
	case json_type_boolean:
		return json_object_get_boolean(o) ? 4 : 5;
	case json_type_int:
		i = json_object_get_int64(o);
		if (i < 0)
			return 1 + sc_text_digits((uint64_t)0 - (uint64_t)i);
		if (i < INT64_MAX) /* else maybe a larger uint64 */
			return sc_text_digits((uint64_t)i);
		return sc_text_digits(json_object_get_uint64(o));
	case json_type_double:
		return double_text(o, buf, &n) != NULL ? n : 0;
	case json_type_string:
		return sc_text_string_size(
		    json_object_get_string(o),
		    (size_t)json_object_get_string_len(o));
	default:
		return 0;
	}
}

/* Counts v, which lies at depth: scalars without another call. */
static inline sc_err count_child(json_object *v, size_t depth, size_t cap,
				 size_t *size)
{
	json_type t = json_object_get_type(v);

	if (t != json_type_array && t != json_type_object) {
		*size += scalar_size(v, t);
		return SC_OK;
	}
	return sc_text_count(v, depth, cap, size);
}

sc_err sc_text_count(json_object *o, size_t depth, size_t cap, size_t *size)
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
		*size += n > 0 ? 1 + n : 2; /* brackets and commas */
		for (i = 0; i < n && *size <= cap; i++) {
			rc = count_child((json_object *)elems[i], depth + 1,
					 cap, size);
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
		rc = count_child((json_object *)lh_entry_v(e), depth + 1, cap,
				 size);
		if (rc != SC_OK)
			return rc;
	}
	return SC_OK;
}

sc_err sc_text_size(json_object *o, size_t *size)
{
	size_t n = 0;
	sc_err rc = sc_text_count(o, 1, SIZE_MAX, &n);

	if (rc == SC_OK)
		*size = n;
	return rc;
}

void sc_text_out_init(struct sc_text_out *out, sc_buf *b)
{
	out->buf = b;
	out->p = b->p != NULL ? b->p + b->len : NULL;
	out->end = b->p != NULL ? b->p + b->cap - 1 : NULL; /* NUL's room */
}

void sc_text_out_done(struct sc_text_out *out)
{
	sc_buf *b = out->buf;

	if (b == NULL || b->p == NULL)
		return;
	b->len = (size_t)(out->p - b->p);
	b->p[b->len] = '\0';
}

/* Makes room for n bytes at out->p, which has less. */
static sc_err grow(struct sc_text_out *out, size_t n)
{
	sc_buf *b = out->buf;
	size_t len;
	sc_err rc;

	if (b == NULL)
		return SC_ERR_TOO_BIG;
	len = b->p != NULL ? (size_t)(out->p - b->p) : 0;
	rc = sc_buf_grow(&b->p, &b->cap, len, n,
			 b->max != 0 ? b->max : SC_BUF_MAX);
	if (rc != SC_OK)
		return rc;
	out->p = b->p + len;
	out->end = b->p + b->cap - 1;
	return SC_OK;
}

/* Room for n more bytes at out->p. */
static inline sc_err room(struct sc_text_out *out, size_t n)
{
	if ((size_t)(out->end - out->p) >= n)
		return SC_OK;
	return grow(out, n);
}

sc_err sc_text_put(struct sc_text_out *out, const char *s, size_t n)
{
	size_t i;
	sc_err rc = room(out, n);

	if (rc != SC_OK)
		return rc;
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
static inline sc_err put_char(struct sc_text_out *out, char c)
{
	if (out->p == out->end) {
		sc_err rc = grow(out, 1);

		if (rc != SC_OK)
			return rc;
	}
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

/* sc_text_put_string() of a string that needs escaping, or when out
 * must grow: the rare case, out of line. */
static sc_err put_string_slow(struct sc_text_out *out, const char *s,
			      size_t n)
{
	size_t i = 0;
	uint64_t w;
	char *p;
	sc_err rc = room(out, n + 2);

	if (rc != SC_OK)
		return rc;
	p = out->p;
	*p++ = '"';
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
		out->p = p;
		rc = room(out, escape_extra(c) + 1 + (n - i) + 1);
		if (rc != SC_OK)
			return rc;
		p = put_escape(out->p, c);
	}
	*p++ = '"';
	out->p = p;
	return SC_OK;
}

/* Strings with nothing to escape, where out has room: inline. */
static inline sc_err put_string(struct sc_text_out *out, const char *s,
				size_t n)
{
	char *p = out->p;

	if ((size_t)(out->end - p) >= n + 2 && clean(p + 1, s, n)) {
		p[0] = '"';
		p[n + 1] = '"';
		out->p = p + n + 2;
		return SC_OK;
	}
	return put_string_slow(out, s, n);
}

sc_err sc_text_put_string(struct sc_text_out *out, const char *s, size_t n)
{
	return put_string(out, s, n);
}

/* Writes v in decimal so that it ends at end; returns where it starts.
 * Two digits a turn. */
static char *decimal(char *end, uint64_t v)
{
	static const char pairs[201] = "00010203040506070809"
				       "10111213141516171819"
				       "20212223242526272829"
				       "30313233343536373839"
				       "40414243444546474849"
				       "50515253545556575859"
				       "60616263646566676869"
				       "70717273747576777879"
				       "80818283848586878889"
				       "90919293949596979899";

	while (v >= 100) {
		unsigned d = (unsigned)(v % 100) * 2;

		v /= 100;
		*--end = pairs[d + 1];
		*--end = pairs[d];
	}
	if (v >= 10) {
		*--end = pairs[v * 2 + 1];
		*--end = pairs[v * 2];
		return end;
	}
	*--end = (char)('0' + v);
	return end;
}

/* Writes o, a number of type t. */
static sc_err put_number(struct sc_text_out *out, json_object *o, json_type t)
{
	char num[DOUBLE_BUF], *end = num + sizeof(num), *s;
	const char *text;
	size_t n = 0;
	int64_t i;

	if (t == json_type_int) {
		i = json_object_get_int64(o);
		if (i < 0) {
			s = decimal(end, (uint64_t)0 - (uint64_t)i);
			*--s = '-';
		} else if (i < INT64_MAX) { /* else maybe a larger uint64 */
			s = decimal(end, (uint64_t)i);
		} else {
			s = decimal(end, json_object_get_uint64(o));
		}
		return sc_text_put(out, s, (size_t)(end - s));
	}
	text = double_text(o, num, &n);
	if (text == NULL)
		return SC_ERR_NOMEM;
	return sc_text_put(out, text, n);
}

/* Writes o, a scalar of type t (NULL is null). */
static inline sc_err put_scalar(struct sc_text_out *out, json_object *o,
				json_type t)
{
	switch (t) {
	case json_type_boolean:
		return json_object_get_boolean(o) ? sc_text_put(out, "true", 4)
						  : sc_text_put(out, "false", 5);
	case json_type_int:
	case json_type_double:
		return put_number(out, o, t);
	case json_type_string:
		return put_string(out, json_object_get_string(o),
				  (size_t)json_object_get_string_len(o));
	default:
		return sc_text_put(out, "null", 4);
	}
}

/* Writes v, which lies at depth: scalars without another call. */
static inline sc_err put_child(struct sc_text_out *out, json_object *v,
			       size_t depth)
{
	json_type t = json_object_get_type(v);

	if (t == json_type_array || t == json_type_object)
		return sc_text_put_value(out, v, depth);
	return put_scalar(out, v, t);
}

sc_err sc_text_put_value(struct sc_text_out *out, json_object *o,
			 size_t depth)
{
	json_type t = json_object_get_type(o);
	struct lh_entry *e;
	size_t i, n;
	sc_err rc;

	if (depth > WRITE_MAX_DEPTH)
		return SC_ERR_TOO_DEEP;
	if (t == json_type_array) {
		void **elems = json_object_get_array(o)->array;

		n = json_object_array_length(o);
		rc = put_char(out, '[');
		for (i = 0; i < n && rc == SC_OK; i++) {
			if (i > 0)
				rc = put_char(out, ',');
			if (rc == SC_OK)
				rc = put_child(out, (json_object *)elems[i],
					       depth + 1);
		}
		return rc == SC_OK ? put_char(out, ']') : rc;
	}
	if (t != json_type_object)
		return put_scalar(out, o, t);
	rc = put_char(out, '{');
	e = lh_table_head(json_object_get_object(o));
	for (i = 0; e != NULL && rc == SC_OK; e = lh_entry_next(e)) {
		const char *key = (const char *)lh_entry_k(e);

		if (i++ > 0)
			rc = put_char(out, ',');
		if (rc == SC_OK)
			rc = put_string(out, key, strlen(key));
		if (rc == SC_OK)
			rc = put_char(out, ':');
		if (rc == SC_OK)
			rc = put_child(out, (json_object *)lh_entry_v(e),
				       depth + 1);
	}
	return rc == SC_OK ? put_char(out, '}') : rc;
}

sc_err sc_text_write(sc_buf *b, json_object *o)
{
	struct sc_text_out out;
	size_t len = b->len;
	sc_err rc;

	sc_text_out_init(&out, b);
	rc = sc_text_put_value(&out, o, 1);
	if (rc == SC_OK && b->p == NULL)
		rc = grow(&out, 0); /* nothing written, yet a NUL is owed */
	if (rc != SC_OK) {
		if (b->p != NULL)
			b->p[len] = '\0';
		return rc;
	}
	sc_text_out_done(&out);
	return SC_OK;
}
