/*
 * json/text.h — the compact JSON text of json-c values, written or
 * counted: our own serializer, byte for byte what json-c prints with
 * JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE (no spaces, "/"
 * not escaped, members in json-c's order).  Prefix sc_text.
 *
 * Numbers print as json-c prints them: integers in decimal (uint64 above
 * INT64_MAX too), a parsed double as the text it was parsed from ("1.10"
 * stays "1.10", as json-c keeps it), any other double as json-c's default
 * format ("%.17g", with ".0" added where that looks like an integer).  A
 * serializer of one's own set on a value with json_object_set_serializer
 * is not used (a double carrying userdata that is not a number's text is
 * printed by json-c, as it would be).  Reading a value writes nothing
 * into it (json-c caches its text in the object), so threads may print
 * one document at the same time.
 */
#ifndef SC_JSON_TEXT_H
#define SC_JSON_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/buf.h"
#include "common/error.h"

/*
 * Appends the compact text of o (borrowed; NULL is null) to b, and a NUL
 * (b grows as needed, never past its max: see common/buf.h).  Returns
 * SC_OK; SC_ERR_TOO_BIG past b's max, SC_ERR_TOO_DEEP when o nests deeper
 * than SC_JSON_MAX_DEPTH + 2 (a patch's array and op around a value of
 * the deepest nesting), SC_ERR_NOMEM.  On error b->len is as it was (its
 * memory may have grown).
 */
sc_err sc_text_write(sc_buf *b, json_object *o);

/*
 * Sets *size to the length of o's compact text (what sc_text_write
 * appends), counted without writing it.  Returns SC_OK, or
 * SC_ERR_TOO_DEEP when o nests deeper than SC_JSON_MAX_DEPTH (*size is
 * then untouched).
 */
sc_err sc_text_size(json_object *o, size_t *size);

/* --- The parts, for writers of their own (the diff's patch text) ---- */

/* Where text is written: [p, end) is the room left.  With buf NULL the
 * room is the caller's and fixed; else it is buf's memory, grown on
 * demand (call sc_text_out_init and sc_text_out_done around the writes). */
struct sc_text_out {
	char *p;
	char *end;
	sc_buf *buf;
};

/* Starts writing at the end of b's text. */
void sc_text_out_init(struct sc_text_out *out, sc_buf *b);

/* Ends writing to out->buf: its length is what was written, NUL added. */
void sc_text_out_done(struct sc_text_out *out);

/* Returns 1 when s (NUL-terminated) is a JSON number:
 * -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
int sc_text_is_number(const char *s);

/* Returns the size of s (n bytes) as a JSON string, quotes included, as
 * json-c escapes it. */
size_t sc_text_string_size(const char *s, size_t n);

/* The number of decimal digits of v. */
static inline size_t sc_text_digits(uint64_t v)
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

/* Returns the size of i printed in decimal (inline: the diff counts the
 * integers of every row it compares). */
static inline size_t sc_text_int_size(int64_t i)
{
	return i < 0 ? 1 + sc_text_digits((uint64_t)0 - (uint64_t)i)
		     : sc_text_digits((uint64_t)i);
}

/*
 * Adds the compact size of o (borrowed; NULL is null), which lies at
 * depth of its document (the root being 1), to *size, stopping early once
 * *size passes cap.  Returns SC_OK, or SC_ERR_TOO_DEEP when o nests past
 * SC_JSON_MAX_DEPTH (within what it counted).
 */
sc_err sc_text_count(json_object *o, size_t depth, size_t cap, size_t *size);

/* Copies the n bytes of s to out.  Returns SC_OK, or SC_ERR_TOO_BIG
 * (nothing written) when out has no room for them, SC_ERR_NOMEM. */
sc_err sc_text_put(struct sc_text_out *out, const char *s, size_t n);

/* Writes the n bytes of s as a JSON string (quotes included, escaped as
 * json-c escapes it): exactly sc_text_string_size(s, n) bytes.  Returns
 * SC_OK, or SC_ERR_TOO_BIG when out has no room for them (out->p is then
 * somewhere between where it was and out->end), SC_ERR_NOMEM. */
sc_err sc_text_put_string(struct sc_text_out *out, const char *s, size_t n);

/*
 * Writes the compact text of o (borrowed; NULL is null), which lies at
 * depth of its document: exactly the bytes sc_text_count() counts.
 * Returns SC_OK, SC_ERR_TOO_DEEP past SC_JSON_MAX_DEPTH + 2, SC_ERR_NOMEM,
 * or SC_ERR_TOO_BIG when out has no room for it (out->p is then somewhere
 * between where it was and out->end).  Recursion is bounded by the depth
 * limit.
 */
sc_err sc_text_put_value(struct sc_text_out *out, json_object *o,
			 size_t depth);

#endif
