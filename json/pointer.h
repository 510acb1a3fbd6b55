/*
 * json/pointer.h — RFC 6901 JSON Pointers on json-c values: parse a
 * pointer into unescaped reference tokens, read array indexes, resolve
 * a pointer (or its parent) in a document, and build pointers by
 * escaping tokens onto a growable buffer.  Prefix sc_pointer_.
 *
 * The rules, in one place:
 *  - "" is the whole document; otherwise the text starts with "/" and
 *    every "/" starts one token ("/" is one empty token, "/a/" is "a"
 *    and "").
 *  - In every token "~0" is "~" and "~1" is "/", decoded left to right
 *    in one pass ("~01" is "~1", never "/").  A "~" followed by anything
 *    else or by nothing is an error.  A NUL byte is an error (json-c
 *    keys cannot hold one).
 *  - On an array, a token is an index: "0" or a digit 1-9 followed by
 *    digits, at most SC_POINTER_INDEX_MAX; no sign, no leading zero, no
 *    space (so a 20-digit index is an error, never a wrapped-around
 *    small one).  "-" names the element after the last, which exists
 *    only for "add" (append): resolving it is a not-found error.
 *  - On an object every token is a key, digits and "-" included.
 */
#ifndef SC_JSON_POINTER_H
#define SC_JSON_POINTER_H

#include <json-c/json.h>
#include <stddef.h>

#include "common/error.h"

/* Largest array index a pointer may name: 2^53 - 1, the largest integer
 * a JavaScript client can form exactly (16 digits). */
#define SC_POINTER_INDEX_MAX 9007199254740991ULL

/* Longest text an sc_pointer_buf grows to (SC_ERR_TOO_BIG past it). */
#define SC_POINTER_BUF_MAX (64u * 1024 * 1024)

/*
 * A parsed pointer: count unescaped, NUL-terminated tokens (count is 0
 * for "", the whole document).  The caller owns the struct; its memory
 * is released with sc_pointer_free.
 */
typedef struct sc_pointer {
	size_t count;
	char **tokens;
} sc_pointer;

/*
 * Parses the len bytes of text (need not be NUL-terminated) into *p.
 * Returns SC_OK, or SC_ERR_POINTER (does not start with "/", bad "~"
 * escape, NUL byte; the message says which byte) or SC_ERR_NOMEM, with
 * err filled when not NULL.  On error *p is left empty ({0, NULL}), so
 * sc_pointer_free(p) is always safe after sc_pointer_parse.  Makes one
 * allocation (none for "").
 */
sc_err sc_pointer_parse(sc_pointer *p, const char *text, size_t len,
			sc_error *err);

/* Frees what sc_pointer_parse allocated and empties *p.  NULL or an
 * empty pointer is fine. */
void sc_pointer_free(sc_pointer *p);

/*
 * Reads token (NUL-terminated, already unescaped) as an array index by
 * the rules above.  Returns SC_OK with *idx set, or SC_ERR_POINTER when
 * it is not one ("-" included: check for it first where it is allowed);
 * *idx is untouched then.
 */
sc_err sc_pointer_index(const char *token, size_t *idx);

/*
 * Resolves the first n tokens of p (n <= p->count) in doc.  On SC_OK
 * *out is the value there, borrowed from doc (NULL for a JSON null, which
 * exists).  Errors, with a message naming the token: SC_ERR_NOT_FOUND (no
 * such member, index past the end, "-", or a token below a scalar) and
 * SC_ERR_POINTER (a token on an array that is not an index, e.g. "01").
 * *out is untouched on error.  Resolving the parent of the target is
 * sc_pointer_resolve(doc, p, p->count - 1, ...).
 */
sc_err sc_pointer_resolve(json_object *doc, const sc_pointer *p, size_t n,
			  json_object **out, sc_error *err);

/* sc_pointer_resolve over all of p's tokens. */
sc_err sc_pointer_get(json_object *doc, const sc_pointer *p, json_object **out,
		      sc_error *err);

/*
 * Returns 1 when the tokens of a are a proper prefix of those of b (a
 * names an ancestor of what b names: "/a" of "/a/b", not of "/ab" nor of
 * "/a" itself), else 0.  Compares tokens, never text.
 */
int sc_pointer_is_ancestor(const sc_pointer *a, const sc_pointer *b);

/*
 * A growable pointer text being built, for diff: push a token on the
 * way down, truncate back to a saved len on the way up.
 *
 *	sc_pointer_buf b;
 *	sc_pointer_buf_init(&b);
 *	size_t mark = b.len;
 *	sc_pointer_buf_push(&b, key, strlen(key));   -> "/a~1b" for "a/b"
 *	... json_object_new_string_len(b.data, (int)b.len) ...
 *	sc_pointer_buf_truncate(&b, mark);
 *	sc_pointer_buf_free(&b);
 *
 * data is NUL-terminated after every successful call (data is NULL
 * while len is 0 and nothing was pushed yet; use sc_pointer_buf_text
 * for a never-NULL string).  The caller owns the struct.
 */
typedef struct sc_pointer_buf {
	char *data;
	size_t len;
	size_t cap;
} sc_pointer_buf;

/* Makes b empty ("", the whole document).  Allocates nothing. */
void sc_pointer_buf_init(sc_pointer_buf *b);

/* Frees b's memory and leaves it empty, ready for reuse.  NULL is fine. */
void sc_pointer_buf_free(sc_pointer_buf *b);

/*
 * Appends "/" and token (len bytes, may contain "/" and "~", which are
 * escaped to "~1" and "~0").  Returns SC_OK, SC_ERR_NOMEM, or
 * SC_ERR_TOO_BIG past SC_POINTER_BUF_MAX; on error b is unchanged.
 */
sc_err sc_pointer_buf_push(sc_pointer_buf *b, const char *token, size_t len);

/* Appends "/" and the decimal index idx.  Errors as sc_pointer_buf_push. */
sc_err sc_pointer_buf_push_index(sc_pointer_buf *b, size_t idx);

/* Cuts b back to its first len bytes (a len saved before pushes). */
void sc_pointer_buf_truncate(sc_pointer_buf *b, size_t len);

/* Returns b's text, borrowed ("" when empty): valid until b changes. */
const char *sc_pointer_buf_text(const sc_pointer_buf *b);

#endif
