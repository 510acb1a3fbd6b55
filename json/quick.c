/*
 * json/quick.c — the quick parse of a common JSON text (see quick.h).
 *
 * json-c's tokener pays for generality on every call: it makes, installs
 * and frees a C locale for its number parsing (about a quarter of parsing
 * a 50-byte event body), and steps a state machine a byte at a time.  The
 * bodies of events and the patches handlers build are small and plain:
 * ASCII or UTF-8 strings with the short escapes, integers, a few levels of
 * objects and arrays.  This parser takes exactly that subset and builds
 * the same json-c values json-c's tokener builds; for anything else
 * (a \u escape, a fraction or an exponent, a long integer, -0, a repeated
 * member name, deep nesting, any error) it gives up and sc_json_parse
 * runs the full path, which also words the errors.  So it never decides
 * that a text is invalid, and what it accepts the full path accepts too,
 * with an equal value (tests/json/test_quick.c checks both on random
 * texts).
 */
#include "json/quick.h"

#include <string.h>

/* Deeper than this goes the full way. */
#define QUICK_DEPTH 32
/* Integers of up to this many digits fit int64_t whatever they are. */
#define QUICK_DIGITS 18

typedef struct qp {
	const unsigned char *p, *end;
	int depth;
	int nomem;
} qp;

static void skip_ws(qp *q)
{
	while (q->p < q->end && (*q->p == ' ' || *q->p == '\n' ||
				 *q->p == '\r' || *q->p == '\t'))
		q->p++;
}

size_t sc_json_utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t k, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		k = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		k = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		k = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0; /* overlong */
	else if (c == 0xED)
		hi = 0x9F; /* surrogates */
	else if (c == 0xF0)
		lo = 0x90; /* overlong */
	else if (c == 0xF4)
		hi = 0x8F; /* past U+10FFFF */
	if (n < k || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < k; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return k;
}

/* The short escapes: the letter after the backslash, and its byte. */
static const char ESC_IN[] = "\"\\/bfnrt";
static const char ESC_OUT[] = "\"\\/\b\f\n\r\t";

/*
 * The string at q->p (its opening quote): *out points to it in place
 * when it has no escape, else to buf (cap bytes), where it is decoded.
 * Returns its length, or -1 to give up.  q->p moves past the closing
 * quote.
 */
static long string(qp *q, char *buf, size_t cap, const char **out)
{
	const unsigned char *s = q->p + 1, *run = s;
	const char *e;
	size_t n = 0;
	int escaped = 0;

	for (;;) {
		unsigned char c;

		if (s >= q->end)
			return -1;
		c = *s;
		if (c == '"')
			break;
		if (c < 0x20)
			return -1;
		if (c >= 0x80) {
			size_t k = sc_json_utf8_seq(s, (size_t)(q->end - s));

			if (k == 0)
				return -1;
			s += k;
			continue;
		}
		if (c != '\\') {
			s++;
			continue;
		}
		/* An escape: the text before it, then its byte. */
		if (s + 1 >= q->end || n + (size_t)(s - run) + 1 > cap)
			return -1;
		memcpy(buf + n, run, (size_t)(s - run));
		n += (size_t)(s - run);
		e = memchr(ESC_IN, s[1], sizeof(ESC_IN) - 1);
		if (e == NULL)
			return -1; /* \u, or not an escape */
		buf[n++] = ESC_OUT[e - ESC_IN];
		s += 2;
		run = s;
		escaped = 1;
	}
	q->p = s + 1;
	if (!escaped) {
		*out = (const char *)run;
		return (long)(s - run);
	}
	if (n + (size_t)(s - run) > cap)
		return -1;
	memcpy(buf + n, run, (size_t)(s - run));
	*out = buf;
	return (long)(n + (size_t)(s - run));
}

static int value(qp *q, json_object **out);

/* After a member or element: 1 when a ',' says another follows, 2 when
 * close ends the container, 0 to give up.  Either is consumed. */
static int after_item(qp *q, unsigned char close)
{
	skip_ws(q);
	if (q->p < q->end && (*q->p == ',' || *q->p == close)) {
		int more = *q->p == ',';

		q->p++;
		if (more)
			skip_ws(q);
		return more ? 1 : 2;
	}
	return 0;
}

/* The object at q->p ('{'), or NULL to give up. */
static json_object *object(qp *q)
{
	json_object *o = json_object_new_object(), *v;
	char name[256];

	if (o == NULL) {
		q->nomem = 1;
		return NULL;
	}
	q->p++;
	skip_ws(q);
	if (q->p < q->end && *q->p == '}') {
		q->p++;
		return o;
	}
	for (;;) {
		const char *k = NULL;
		char *key;
		long len;

		if (q->p >= q->end || *q->p != '"')
			goto fail;
		len = string(q, name, sizeof(name) - 1, &k);
		if (len < 0 || (size_t)len >= sizeof(name))
			goto fail;
		if (k != name)
			memcpy(name, k, (size_t)len);
		name[len] = '\0';
		key = name;
		skip_ws(q);
		if (q->p >= q->end || *q->p != ':')
			goto fail;
		q->p++;
		skip_ws(q);
		/* A repeated name: json-c's rule (the last value, where the
		 * first was) is left to json-c.  So the name is new here, and
		 * json-c need not look it up again. */
		if (json_object_object_get_ex(o, key, NULL) || !value(q, &v))
			goto fail;
		if (json_object_object_add_ex(o, key, v,
					      JSON_C_OBJECT_ADD_KEY_IS_NEW) !=
		    0) {
			json_object_put(v);
			q->nomem = 1;
			goto fail;
		}
		switch (after_item(q, '}')) {
		case 1:
			continue;
		case 2:
			return o;
		default:
			goto fail;
		}
	}
fail:
	json_object_put(o);
	return NULL;
}

/* The array at q->p ('['), or NULL to give up. */
static json_object *array(qp *q)
{
	json_object *a = json_object_new_array(), *v;

	if (a == NULL) {
		q->nomem = 1;
		return NULL;
	}
	q->p++;
	skip_ws(q);
	if (q->p < q->end && *q->p == ']') {
		q->p++;
		json_object_array_shrink(a, 0);
		return a;
	}
	for (;;) {
		int next;

		if (!value(q, &v))
			break;
		if (json_object_array_add(a, v) != 0) {
			json_object_put(v);
			q->nomem = 1;
			break;
		}
		next = after_item(q, ']');
		if (next == 2) {
			json_object_array_shrink(a, 0);
			return a;
		}
		if (next == 0)
			break;
	}
	json_object_put(a);
	return NULL;
}

/* An integer of at most QUICK_DIGITS digits, not -0 and no leading 0. */
static json_object *number(qp *q)
{
	const unsigned char *s = q->p;
	int neg = 0, digits = 0;
	int64_t v = 0;
	json_object *o;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	while (s < q->end && *s >= '0' && *s <= '9') {
		if (++digits > QUICK_DIGITS)
			return NULL;
		v = v * 10 + (*s - '0');
		s++;
	}
	if (digits == 0 || (digits > 1 && s[-digits] == '0') || (neg && v == 0))
		return NULL;
	if (s < q->end &&
	    (*s == '.' || *s == 'e' || *s == 'E' || *s == '-' || *s == '+'))
		return NULL;
	q->p = s;
	o = json_object_new_int64(neg ? -v : v);
	if (o == NULL)
		q->nomem = 1;
	return o;
}

static int word(qp *q, const char *w, size_t n)
{
	if ((size_t)(q->end - q->p) < n || memcmp(q->p, w, n) != 0)
		return 0;
	q->p += n;
	return 1;
}

/* The value at q->p into *out (NULL: JSON null); 0 to give up. */
static int value(qp *q, json_object **out)
{
	unsigned char c;
	char buf[256];
	const char *in;
	long len;

	*out = NULL;
	if (q->p >= q->end)
		return 0;
	c = *q->p;
	if (c == '{' || c == '[') {
		if (++q->depth > QUICK_DEPTH)
			return 0;
		*out = c == '{' ? object(q) : array(q);
		q->depth--;
		return *out != NULL;
	}
	if (c == '-' || (c >= '0' && c <= '9')) {
		*out = number(q);
		return *out != NULL;
	}
	if (word(q, "null", 4))
		return 1;
	if (c == '"') {
		len = string(q, buf, sizeof(buf), &in);
		if (len < 0)
			return 0;
		*out = json_object_new_string_len(in, (int)len);
	} else if (word(q, "true", 4)) {
		*out = json_object_new_boolean(1);
	} else if (word(q, "false", 5)) {
		*out = json_object_new_boolean(0);
	} else {
		return 0;
	}
	if (*out == NULL)
		q->nomem = 1;
	return *out != NULL;
}

int sc_json_quick_parse(const char *buf, size_t len, json_object **out)
{
	qp q = {(const unsigned char *)buf, (const unsigned char *)buf + len, 0,
		0};
	json_object *o;

	*out = NULL;
	skip_ws(&q);
	if (q.p >= q.end || (*q.p != '{' && *q.p != '['))
		return 0;
	if (!value(&q, &o))
		return q.nomem ? -1 : 0;
	skip_ws(&q);
	if (q.p != q.end) {
		json_object_put(o);
		return 0;
	}
	*out = o;
	return 1;
}
