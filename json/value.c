/*
 * json/value.c — bounded parsing, deep equality, copy and structural
 * hashing of json-c values.
 */
#include "common/hash.h"
#include "json/quick.h"
#include "json/text.h"
#include "json/value.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

/* How a number compares: a negative integer, a non-negative integer,
 * or a double that is not an integer in the 64-bit ranges. */
enum num_kind { NUM_NEG, NUM_POS, NUM_REAL };

struct num {
	enum num_kind kind;
	int64_t neg;
	uint64_t pos;
	double real;
};

/* Classifies o (a json_type_int or json_type_double) so that integral
 * doubles land in the same kind and value as the equal integer. */
static void num_of(json_object *o, struct num *n)
{
	double d;

	if (json_object_is_type(o, json_type_int)) {
		n->neg = json_object_get_int64(o);
		if (n->neg < 0) {
			n->kind = NUM_NEG;
		} else {
			n->kind = NUM_POS;
			n->pos = json_object_get_uint64(o);
		}
		return;
	}
	d = json_object_get_double(o);
	n->real = d;
	n->kind = NUM_REAL;
	if (!isfinite(d) || d != trunc(d))
		return;
	if (d < 0 && d >= -9223372036854775808.0) {
		n->kind = NUM_NEG;
		n->neg = (int64_t)d;
	} else if (d >= 0 && d < 18446744073709551616.0) {
		n->kind = NUM_POS; /* -0.0 too: d >= 0 holds for it */
		n->pos = (uint64_t)d;
	}
}

static int is_number(json_type t)
{
	return t == json_type_int || t == json_type_double;
}

static int num_equal(json_object *a, json_object *b)
{
	struct num x, y;

	num_of(a, &x);
	num_of(b, &y);
	if (x.kind != y.kind)
		return 0;
	switch (x.kind) {
	case NUM_NEG:
		return x.neg == y.neg;
	case NUM_POS:
		return x.pos == y.pos;
	default:
		return x.real == y.real;
	}
}

static int object_equal(json_object *a, json_object *b)
{
	if (json_object_object_length(a) != json_object_object_length(b))
		return 0;
	json_object_object_foreach(a, key, av)
	{
		json_object *bv;

		if (!json_object_object_get_ex(b, key, &bv))
			return 0;
		if (!sc_json_equal(av, bv))
			return 0;
	}
	return 1;
}

static int array_equal(json_object *a, json_object *b)
{
	size_t i, n = json_object_array_length(a);

	if (n != json_object_array_length(b))
		return 0;
	for (i = 0; i < n; i++)
		if (!sc_json_equal(json_object_array_get_idx(a, i),
				   json_object_array_get_idx(b, i)))
			return 0;
	return 1;
}

int sc_json_equal(json_object *a, json_object *b)
{
	json_type ta = json_object_get_type(a);
	json_type tb = json_object_get_type(b);

	if (a == b)
		return 1;
	if (is_number(ta) && is_number(tb))
		return num_equal(a, b);
	if (ta != tb)
		return 0;
	switch (ta) {
	case json_type_null:
		return 1;
	case json_type_boolean:
		return !json_object_get_boolean(a) ==
		       !json_object_get_boolean(b);
	case json_type_string: {
		int la = json_object_get_string_len(a);

		return la == json_object_get_string_len(b) &&
		       memcmp(json_object_get_string(a),
			      json_object_get_string(b), (size_t)la) == 0;
	}
	case json_type_object:
		return object_equal(a, b);
	case json_type_array:
		return array_equal(a, b);
	default:
		return 0;
	}
}

sc_err sc_json_copy(json_object *src, json_object **out)
{
	json_object *dst = NULL;

	if (src == NULL) {
		*out = NULL;
		return SC_OK;
	}
	/* json-c's deep copy keeps uint64 integers and the original text of
	 * parsed doubles ("1.10" stays "1.10"). */
	if (json_object_deep_copy(src, &dst, NULL) != 0) {
		json_object_put(dst);
		return SC_ERR_NOMEM;
	}
	*out = dst;
	return SC_OK;
}

/* Type tags, so that e.g. "" and [] and {} hash apart. */
enum {
	TAG_NULL = 1,
	TAG_FALSE,
	TAG_TRUE,
	TAG_NEG,
	TAG_POS,
	TAG_REAL,
	TAG_STRING,
	TAG_ARRAY,
	TAG_OBJECT
};

static uint64_t hash_number(json_object *o)
{
	struct num n;
	uint64_t bits;

	num_of(o, &n);
	switch (n.kind) {
	case NUM_NEG:
		return sc_hash_mix((uint64_t)n.neg ^ TAG_NEG * SC_HASH_K);
	case NUM_POS:
		return sc_hash_mix(n.pos ^ TAG_POS * SC_HASH_K);
	default:
		memcpy(&bits, &n.real, sizeof(bits));
		return sc_hash_mix(bits ^ TAG_REAL * SC_HASH_K);
	}
}

uint64_t sc_json_hash(json_object *o)
{
	uint64_t h, acc;
	size_t i, n;

	switch (json_object_get_type(o)) {
	case json_type_null:
		return sc_hash_mix(TAG_NULL);
	case json_type_boolean:
		return sc_hash_mix(json_object_get_boolean(o) ? TAG_TRUE : TAG_FALSE);
	case json_type_int:
	case json_type_double:
		return hash_number(o);
	case json_type_string:
		return sc_hash_bytes(json_object_get_string(o),
				  (size_t)json_object_get_string_len(o),
				  TAG_STRING);
	case json_type_array:
		n = json_object_array_length(o);
		h = sc_hash_mix(TAG_ARRAY ^ n * SC_HASH_K);
		for (i = 0; i < n; i++) {
			h ^= sc_json_hash(json_object_array_get_idx(o, i));
			h = sc_hash_mix(h * SC_HASH_K);
		}
		return h;
	case json_type_object:
		/* A sum of per-member hashes: the order does not matter. */
		acc = 0;
		json_object_object_foreach(o, key, val)
		{
			uint64_t hk = sc_hash_bytes(key, strlen(key), TAG_OBJECT);

			acc += sc_hash_mix(hk ^ (sc_json_hash(val) * SC_HASH_K));
		}
		n = (size_t)json_object_object_length(o);
		return sc_hash_mix(acc ^ sc_hash_mix(TAG_OBJECT ^ n * SC_HASH_K));
	}
	return 0;
}

size_t sc_json_depth(json_object *o)
{
	size_t d, max = 0, i, n;

	switch (json_object_get_type(o)) {
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(o, i);

			if (json_object_is_type(e, json_type_array) ||
			    json_object_is_type(e, json_type_object)) {
				d = sc_json_depth(e);
				if (d > max)
					max = d;
			}
		}
		return max + 1;
	case json_type_object: {
		json_object_object_foreach(o, key, val)
		{
			(void)key;
			if (json_object_is_type(val, json_type_array) ||
			    json_object_is_type(val, json_type_object)) {
				d = sc_json_depth(val);
				if (d > max)
					max = d;
			}
		}
		return max + 1;
	}
	default:
		return 1;
	}
}

/* Returns 1 when every number in o is a JSON number.  json-c accepts
 * NaN, Infinity, overflowing exponents (1e400) and "5." or "1.e3" even
 * in strict mode, and keeps a parsed double's text for output: none of
 * them is JSON, and a browser could not parse them back, so the parser
 * refuses them. */
static int numbers_ok(json_object *o)
{
	size_t i, n;

	switch (json_object_get_type(o)) {
	case json_type_double: {
		/* json-c keeps a parsed double's text as its userdata */
		const char *t = json_object_get_userdata(o);

		if (t == NULL)
			t = json_object_get_string(o);
		return isfinite(json_object_get_double(o)) &&
		       sc_text_is_number(t);
	}
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			if (!numbers_ok(json_object_array_get_idx(o, i)))
				return 0;
		return 1;
	case json_type_object: {
		json_object_object_foreach(o, key, val)
		{
			(void)key;
			if (!numbers_ok(val))
				return 0;
		}
		return 1;
	}
	default:
		return 1;
	}
}

/* The value of the 4 hex digits at s, or -1. */
static long hex4(const char *s, size_t n)
{
	long v = 0;
	size_t i;

	if (n < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		int c = (unsigned char)s[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/*
 * What json-c lets through and the parser must refuse: bytes that are
 * not UTF-8 (json-c's own check takes overlong forms, surrogates and
 * code points past U+10FFFF), escaped surrogates that do not pair
 * (\ud800 alone), and an escaped NUL in a member name (json-c keeps
 * names as C strings: "a\u0000b" would silently become "a").  Walks
 * the text once, tracking only whether a string is a member name.
 * Returns SC_OK or SC_ERR_JSON with the byte offset.  Malformed JSON
 * that is not one of these is left to json-c.
 */
static sc_err text_check(const char *buf, size_t len, sc_error *err)
{
	const unsigned char *u = (const unsigned char *)buf;
	unsigned char objs[SC_JSON_MAX_DEPTH / 8 + 1] = {0};
	size_t i = 0, depth = 0, k;
	int want_key = 0;

	while (i < len) {
		unsigned char c = u[i];

		if (c >= 0x80) {
			k = sc_json_utf8_seq(u + i, len - i);
			if (k == 0)
				return sc_error_set(err, SC_ERR_JSON,
						    "invalid JSON at byte %zu: "
						    "not UTF-8",
						    i);
			i += k;
			continue;
		}
		if (c == '{' || c == '[') {
			if (depth < SC_JSON_MAX_DEPTH) {
				if (c == '{')
					objs[depth / 8] |= 1u << depth % 8;
				else
					objs[depth / 8] &= ~(1u << depth % 8);
			}
			depth++;
			want_key = c == '{';
		} else if (c == '}' || c == ']') {
			if (depth > 0)
				depth--;
			want_key = 0;
		} else if (c == ',') {
			want_key = depth > 0 && depth <= SC_JSON_MAX_DEPTH &&
				   (objs[(depth - 1) / 8] >> (depth - 1) % 8 & 1);
		} else if (c == '"') {
			int key = want_key;

			want_key = 0;
			for (i++; i < len && u[i] != '"'; i++) {
				long cp, lo;

				if (u[i] >= 0x80) {
					k = sc_json_utf8_seq(u + i, len - i);
					if (k == 0)
						return sc_error_set(
						    err, SC_ERR_JSON,
						    "invalid JSON at byte %zu: "
						    "not UTF-8",
						    i);
					i += k - 1;
					continue;
				}
				if (u[i] != '\\' || i + 1 >= len)
					continue;
				if (buf[++i] != 'u')
					continue;
				cp = hex4(buf + i + 1, len - i - 1);
				if (cp < 0)
					continue; /* json-c refuses it */
				if (cp == 0 && key)
					return sc_error_set(
					    err, SC_ERR_JSON,
					    "invalid JSON at byte %zu: "
					    "\\u0000 in a member name",
					    i - 1);
				if (cp >= 0xDC00 && cp <= 0xDFFF)
					goto lone;
				if (cp >= 0xD800 && cp <= 0xDBFF) {
					lo = i + 6 < len && buf[i + 5] == '\\' &&
						     buf[i + 6] == 'u'
						 ? hex4(buf + i + 7,
							len - i - 7)
						 : -1;
					if (lo < 0xDC00 || lo > 0xDFFF)
						goto lone;
					i += 6;
				}
				i += 4;
				continue;
			lone:
				return sc_error_set(err, SC_ERR_JSON,
						    "invalid JSON at byte %zu: "
						    "a lone UTF-16 surrogate",
						    i - 1);
			}
		}
		i++;
	}
	return SC_OK;
}

/* Most documents nest a few levels: a tokener this deep is tried first
 * (json-c allocates and zeroes its whole stack for every tokener: at
 * SC_JSON_MAX_DEPTH that is ~20 KB, more than parsing a small body). */
#define SHALLOW_DEPTH 32

/* A text up to this size is parsed by the thread's own shallow tokener,
 * kept between parses (making one costs about a fifth of parsing a
 * small body); its string buffer grows to the text's size at most. */
#define KEEP_MAX 65536

static pthread_key_t tok_key;
static pthread_once_t tok_once = PTHREAD_ONCE_INIT;
static int tok_ok; /* the key exists */

static void tok_free(void *tok)
{
	json_tokener_free(tok);
}

static void tok_init(void)
{
	tok_ok = pthread_key_create(&tok_key, tok_free) == 0;
}

/* A tokener of depth for a text of len bytes; *kept: it is the thread's
 * own (not to be freed). */
static struct json_tokener *tokener(int depth, size_t len, int *kept)
{
	struct json_tokener *tok = NULL;

	*kept = 0;
	if (depth == SHALLOW_DEPTH && len <= KEEP_MAX) {
		pthread_once(&tok_once, tok_init);
		if (tok_ok && (tok = pthread_getspecific(tok_key)) != NULL) {
			json_tokener_reset(tok);
			*kept = 1;
			return tok;
		}
	}
	tok = json_tokener_new_ex(depth);
	if (tok == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					JSON_TOKENER_VALIDATE_UTF8);
	if (depth == SHALLOW_DEPTH && len <= KEEP_MAX && tok_ok &&
	    pthread_setspecific(tok_key, tok) == 0)
		*kept = 1;
	return tok;
}

/*
 * Runs json-c's tokener of the given depth over buf: *o gets the value
 * (NULL on error), *e the tokener's result, *end where it stopped.
 * Returns 0, or -1 when out of memory.
 */
static int tokenize(const char *buf, size_t len, int depth, json_object **o,
		    enum json_tokener_error *e, size_t *end)
{
	int kept;
	struct json_tokener *tok = tokener(depth, len, &kept);

	*o = NULL;
	if (tok == NULL)
		return -1;
	*o = json_tokener_parse_ex(tok, buf, (int)len);
	*e = json_tokener_get_error(tok);
	*end = json_tokener_get_parse_end(tok);
	if (*e == json_tokener_continue) {
		/* A number or literal at the very end: a NUL terminates it. */
		*o = json_tokener_parse_ex(tok, "", 1);
		*e = json_tokener_get_error(tok);
		*end = len;
	}
	if (!kept)
		json_tokener_free(tok);
	return 0;
}

sc_err sc_json_parse(const char *buf, size_t len, json_object **out,
		     sc_error *err)
{
	json_object *o = NULL;
	enum json_tokener_error e = json_tokener_success;
	size_t end = 0;
	sc_err rc = SC_OK;
	int r;

	if (len > (size_t)INT_MAX - 1) {
		rc = sc_error_set(err, SC_ERR_TOO_BIG,
				  "JSON text of %zu bytes is too large", len);
		goto out;
	}
	r = sc_json_quick_parse(buf, len, &o);
	if (r > 0) {
		*out = o;
		return SC_OK;
	}
	if (r < 0) {
		rc = sc_error_set(err, SC_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = text_check(buf, len, err);
	if (rc != SC_OK)
		goto out;
	r = tokenize(buf, len, SHALLOW_DEPTH, &o, &e, &end);
	if (r == 0 && e == json_tokener_error_depth)
		r = tokenize(buf, len, SC_JSON_MAX_DEPTH, &o, &e, &end);
	if (r != 0) {
		rc = sc_error_set(err, SC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (e == json_tokener_error_depth) {
		rc = sc_error_set(err, SC_ERR_TOO_DEEP,
				  "JSON nests deeper than %d levels",
				  SC_JSON_MAX_DEPTH);
		goto out;
	}
	if (e != json_tokener_success) {
		rc = sc_error_set(err, SC_ERR_JSON,
				  "invalid JSON at byte %zu: %s", end,
				  json_tokener_error_desc(e));
		goto out;
	}
	while (end < len && (buf[end] == ' ' || buf[end] == '\t' ||
			     buf[end] == '\n' || buf[end] == '\r'))
		end++;
	if (end < len) {
		rc = sc_error_set(
		    err, SC_ERR_JSON,
		    "invalid JSON at byte %zu: text after the value", end);
		goto out;
	}
	if (!numbers_ok(o)) {
		rc = sc_error_set(err, SC_ERR_JSON,
				  "invalid JSON: a number is malformed "
				  "(NaN, Infinity, 5., or out of range)");
		goto out;
	}
	*out = o;
	o = NULL;
out:
	json_object_put(o);
	return rc;
}
