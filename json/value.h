/*
 * json/value.h — helpers on json-c values that the rest of StateChannel
 * shares: bounded parsing, deep equality and copy, structural hashing
 * (their compact text: json/text.h).  Prefix sc_json_.  Knows nothing
 * of HTTP or SQL.
 */
#ifndef SC_JSON_VALUE_H
#define SC_JSON_VALUE_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Deepest nesting any document may have (parsed, or produced by a patch). */
#define SC_JSON_MAX_DEPTH 512

/*
 * Parses exactly len bytes of buf as one JSON value (whitespace around it
 * allowed, anything else after it is an error).  Strict RFC 8259: no
 * comments, single quotes or trailing commas; the text must be valid
 * UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF, no truncated sequence), escaped surrogates must pair, and
 * no member name may hold \u0000 (string values may); NaN, Infinity, numbers that overflow a double (1e400) and
 * json-c's laxities ("5.", "1.e3") are refused.  Errors: SC_ERR_TOO_DEEP
 * for nesting deeper than SC_JSON_MAX_DEPTH, SC_ERR_JSON for invalid text
 * (the message says at which byte), SC_ERR_TOO_BIG for len > INT_MAX - 1,
 * SC_ERR_NOMEM.  Integers beyond the 64-bit ranges are clamped by json-c
 * (to INT64_MIN / UINT64_MAX).  On success *out is a new reference (the
 * literal null gives *out == NULL); on error *out is untouched.
 */
sc_err sc_json_parse(const char *buf, size_t len, json_object **out,
		     sc_error *err);

/*
 * Deep equality as RFC 6902 "test" defines it: numbers compare by value
 * (1 equals 1.0), objects regardless of member order, arrays element by
 * element.  NULL (JSON null) equals only NULL.  Borrows both.  Returns 1
 * when equal, 0 otherwise.
 */
int sc_json_equal(json_object *a, json_object *b);

/*
 * Deep copy: on SC_OK *out is a new reference sharing nothing with src
 * (borrowed); a NULL src (JSON null) gives *out == NULL and SC_OK.
 * Integers keep their int64/uint64 type and parsed doubles their text
 * ("1.10" stays "1.10").  SC_ERR_NOMEM on allocation failure, with *out
 * untouched.
 */
sc_err sc_json_copy(json_object *src, json_object **out);

/*
 * Structural hash consistent with sc_json_equal: equal values hash
 * equal (1 and 1.0 too; -0.0 and 0; member order does not matter).
 * Unequal values collide rarely.  Not stable across processes or
 * versions: never store it.  O(size of o).  Borrows.
 */
uint64_t sc_json_hash(json_object *o);

/*
 * Nesting depth of o: scalars and null are 1, [] and {} are 1, [[1]] is 2.
 */
size_t sc_json_depth(json_object *o);

#endif
