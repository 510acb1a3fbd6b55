/*
 * json/diff.c — a small RFC 6902 patch from one json-c document to
 * another.
 *
 * Objects are diffed key by key, walking both member lists side by side
 * while their keys come in the same order.  Arrays lose their common head
 * and tail first (one insertion or removal anywhere is then a single op),
 * and what is left goes through Myers' O((N+M)D) search on structural
 * hashes, bounded at DIFF_MAX_EDITS edits: each run of elements between
 * two matched runs is a "gap", whose elements are paired position by
 * position (a changed element is diffed recursively, so editing a field
 * of a row is one small op) with the surplus removed or added.  When the
 * search gives up, the whole middle is one positional gap.
 *
 * Ops are collected in a plain list first, with their compact size.  Each
 * container keeps the size of replacing it whole (measured lazily, only
 * up to what its element ops cost, each element once) and a lower bound
 * of what its ops still to come cost (a gap's pairs are compared before
 * any is diffed); as soon as the two pass the size of a replace, the ops
 * are cut off the list for one "replace": a table whose rows all changed
 * is replaced after a few of them.  Myers' search is skipped where it
 * certainly fails (may_match).  Only the ops that remain become json-c
 * objects, whose values are references to to's.
 *
 * All recursion here is bounded by SC_JSON_MAX_DEPTH, so no input can
 * overflow the stack: that is why equality has its own function here
 * rather than sc_json_equal (which also cannot walk two objects' members
 * side by side).
 */
#include "json/diff.h"

#include <stdint.h>
#include <string.h>

#include "common/alloc.h"
#include "json/pointer.h"
#include "json/value.h"

/* Myers' search on one array gives up past this many edits (elements
 * inserted plus elements removed) and falls back to a positional diff.
 * Its cost is O((N+M) * DIFF_MAX_EDITS) at worst. */
#define DIFF_MAX_EDITS 128
/* ... and this many on arrays whose elements mostly match by position. */
#define DIFF_ALIGNED_EDITS 16

/* Fixed bytes of each op, with the comma that separates it. */
#define OP_SIZE(s) (sizeof(s) - 1 + 1)
#define ADD_SIZE   OP_SIZE("{\"op\":\"add\",\"path\":\"\",\"value\":}")
#define REP_SIZE   OP_SIZE("{\"op\":\"replace\",\"path\":\"\",\"value\":}")
#define REM_SIZE   OP_SIZE("{\"op\":\"remove\",\"path\":\"\"}")

enum op_kind { OP_ADD, OP_REMOVE, OP_REPLACE };

static const char *const op_names[] = {"add", "remove", "replace"};

/* An op of the patch being made: its path is paths[path, path + len). */
struct op {
	enum op_kind kind;
	size_t path, len;
	json_object *value; /* borrowed from to; referenced by the patch */
};

/* The most bytes of paths one diff may collect (SC_ERR_TOO_BIG past). */
#define DIFF_MAX_PATHS (256u * 1024 * 1024)

struct diff {
	struct op *ops;
	size_t nops, cap;
	char *paths;
	size_t npaths, paths_cap;
	sc_pointer_buf path;
	struct scope *top;  /* the innermost container being diffed */
	size_t bytes;	    /* compact size of the ops, commas included */
	json_object *known; /* the container last measured whole, */
	size_t known_size;  /* its compact size */
	size_t known_depth; /* and its depth then */
};

/* One container being diffed, and what replacing it whole would cost:
 * to's compact size, measured lazily and in steps (element by element,
 * resuming where the last step stopped) only as far as the container's
 * ops already cost. */
struct scope {
	json_object *to;
	struct scope *parent;	/* the enclosing container, or NULL */
	size_t depth;		/* of to in the document, the root being 1 */
	size_t plen;		/* the length of its path */
	size_t ops;		/* diff.nops when the container started */
	size_t bytes;		/* diff.bytes then */
	size_t size;		/* to's compact size is at least this */
	int exact;		/* ... and exactly this */
	int give_up;		/* element ops already cost more: replace */
	int started;		/* measuring began: */
	size_t measured;	/* the size of to's elements before next */
	size_t next;		/* the next element (array) to measure */
	struct lh_entry *entry; /* the next member (object) to measure */
	size_t lb;		/* the ops still to come cost at least this */
	size_t elb;    /* to's elements seen (each once) are at least this */
	size_t *sizes; /* of a long array's elements, 0 until measured */
	int may_keep_sizes; /* ... made on the first one worth keeping */
};

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

/* Size of s (n bytes) as a JSON string, as json-c escapes it.  Eight
 * bytes at a time while none of them needs escaping. */
static size_t string_size(const char *s, size_t n)
{
	size_t i = 0, len = 2 + n;
	uint64_t w;

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

/* string_size() of the NUL-terminated key k, in one pass. */
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

static size_t digits(uint64_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static size_t number_size(json_object *o)
{
	const char *text;
	int64_t i;

	if (json_object_is_type(o, json_type_int)) {
		i = json_object_get_int64(o);
		if (i < 0)
			return 1 + digits((uint64_t)0 - (uint64_t)i);
		if (i < INT64_MAX) /* else maybe a larger uint64 */
			return digits((uint64_t)i);
		return digits(json_object_get_uint64(o));
	}
	/* A double prints as its parsed text or json-c's format: ask json-c
	 * (which caches the text in o, as any serialization of it does). */
	text = json_object_get_string(o);
	return text != NULL ? strlen(text) : 0;
}

/*
 * Adds the compact serialized size of o, which lies at the given depth of
 * its document, to *size, stopping early once *size passes cap.  Returns
 * SC_ERR_TOO_DEEP when o nests past SC_JSON_MAX_DEPTH (within what it
 * measured).
 */
static sc_err value_size(json_object *o, size_t depth, size_t cap, size_t *size)
{
	struct lh_table *t;
	struct lh_entry *e;
	size_t i, n;
	sc_err rc;

	if (depth > SC_JSON_MAX_DEPTH)
		return SC_ERR_TOO_DEEP;
	switch (json_object_get_type(o)) {
	case json_type_null:
		*size += 4;
		return SC_OK;
	case json_type_boolean:
		*size += json_object_get_boolean(o) ? 4 : 5;
		return SC_OK;
	case json_type_int:
	case json_type_double:
		*size += number_size(o);
		return SC_OK;
	case json_type_string:
		*size += string_size(json_object_get_string(o),
				     (size_t)json_object_get_string_len(o));
		return SC_OK;
	case json_type_array:
		n = json_object_array_length(o);
		*size += n > 0 ? 1 + n : 2; /* brackets and commas */
		for (i = 0; i < n && *size <= cap; i++) {
			rc = value_size(json_object_array_get_idx(o, i),
					depth + 1, cap, size);
			if (rc != SC_OK)
				return rc;
		}
		return SC_OK;
	case json_type_object:
		t = json_object_get_object(o);
		n = (size_t)t->count;
		*size += n > 0 ? 1 + n * 2 : 2; /* braces, colons, commas */
		for (e = lh_table_head(t); e != NULL && *size <= cap;
		     e = lh_entry_next(e)) {
			const char *key = (const char *)lh_entry_k(e);

			*size += key_size(key);
			rc = value_size((json_object *)lh_entry_v(e), depth + 1,
					cap, size);
			if (rc != SC_OK)
				return rc;
		}
		return SC_OK;
	}
	return SC_OK;
}

/* value_size(), but what was measured whole last is not walked again. */
static sc_err measure(struct diff *d, json_object *o, size_t depth, size_t cap,
		      size_t *size)
{
	if (o != NULL && o == d->known && depth <= d->known_depth) {
		*size += d->known_size;
		return SC_OK;
	}
	return value_size(o, depth, cap, size);
}

static size_t path_size(const struct diff *d)
{
	return string_size(sc_pointer_buf_text(&d->path), d->path.len);
}

/* Grows *p (of *cap elements of size) to hold need elements. */
static sc_err reserve(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap < 64 ? 64 : *cap;
	void *q;

	if (need <= *cap)
		return SC_OK;
	while (n < need)
		n *= 2;
	if (n > SIZE_MAX / size)
		return SC_ERR_TOO_BIG;
	q = sc_realloc(*p, n * size);
	if (q == NULL)
		return SC_ERR_NOMEM;
	*p = q;
	*cap = n;
	return SC_OK;
}

/* Appends an op at the current path costing size bytes.  value is
 * referenced, not copied. */
static sc_err emit(struct diff *d, enum op_kind kind, json_object *value,
		   size_t size)
{
	struct op *op;
	sc_err rc;

	if (d->path.len > DIFF_MAX_PATHS - d->npaths)
		return SC_ERR_TOO_BIG;
	rc = reserve((void **)&d->ops, &d->cap, d->nops + 1, sizeof(*d->ops));
	if (rc == SC_OK)
		rc = reserve((void **)&d->paths, &d->paths_cap,
			     d->npaths + d->path.len, 1);
	if (rc != SC_OK)
		return rc;
	op = &d->ops[d->nops++];
	op->kind = kind;
	op->path = d->npaths;
	op->len = d->path.len;
	op->value = value;
	if (d->path.len > 0) /* paths is NULL until a path is not "" */
		memcpy(d->paths + d->npaths, d->path.data, d->path.len);
	d->npaths += d->path.len;
	d->bytes += size;
	return SC_OK;
}

/* Emits an "add" or "replace" of value, of compact size vsize. */
static sc_err emit_sized(struct diff *d, enum op_kind kind, json_object *value,
			 size_t vsize)
{
	size_t size =
	    vsize + path_size(d) + (kind == OP_ADD ? ADD_SIZE : REP_SIZE);

	return emit(d, kind, value, size);
}

/* Emits an "add" or "replace" of value, which lies at depth of to. */
static sc_err emit_value(struct diff *d, enum op_kind kind, json_object *value,
			 size_t depth)
{
	size_t size = 0;
	sc_err rc;

	rc = measure(d, value, depth, SIZE_MAX, &size);
	if (rc != SC_OK)
		return rc;
	return emit_sized(d, kind, value, size);
}

static sc_err emit_remove(struct diff *d)
{
	return emit(d, OP_REMOVE, NULL, REM_SIZE + path_size(d));
}

static void scope_init(struct scope *s, struct diff *d, json_object *to,
		       size_t depth)
{
	memset(s, 0, sizeof(*s));
	s->to = to;
	s->parent = d->top;
	s->depth = depth;
	s->plen = d->path.len;
	s->ops = d->nops;
	s->bytes = d->bytes;
	d->top = s;
}

/* Measures more of s->to, until its size is known or passes cap. */
static sc_err scope_measure(struct diff *d, struct scope *s, size_t cap)
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
				rc = measure(d, (json_object *)elems[s->next],
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
			rc = measure(d, (json_object *)lh_entry_v(s->entry),
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
	d->known = o;
	d->known_size = s->size;
	d->known_depth = s->depth;
	return SC_OK;
}

/* Counts bound, at most the compact size of elements of the array s->to
 * not counted before, into what s->size is known to be at least. */
static void scope_bound(struct scope *s, size_t bound)
{
	size_t min = 1 + json_object_array_length(s->to); /* [ , ] */

	s->elb += bound;
	if (s->size < min + s->elb)
		s->size = min + s->elb;
}

/* Allocates s->sizes where it may be kept.  Returns it, or NULL (sizes
 * are then measured again when needed: no error). */
static size_t *scope_sizes(struct scope *s)
{
	if (s->sizes == NULL && s->may_keep_sizes) {
		s->sizes = sc_calloc(json_object_array_length(s->to),
				     sizeof(*s->sizes));
		s->may_keep_sizes = s->sizes != NULL;
	}
	return s->sizes;
}

/* The compact size of element i of the array s->to, measured once. */
static sc_err elem_size(struct diff *d, struct scope *s, size_t i, size_t *size)
{
	sc_err rc;

	if (s->sizes != NULL && s->sizes[i] != 0) {
		*size = s->sizes[i];
		return SC_OK;
	}
	*size = 0;
	rc = measure(d, json_object_array_get_idx(s->to, i), s->depth + 1,
		     SIZE_MAX, size);
	if (rc == SC_OK && scope_sizes(s) != NULL)
		s->sizes[i] = *size;
	return rc;
}

/*
 * True when the container's only op (and none to come) is an add or
 * replace of one of its members or elements whose token needs no
 * escaping: never longer than replacing the container, which holds the
 * same value and more ("/k" against "{\"k\":}", "/12" against "[...]"),
 * so the container need not be measured.
 */
static int one_cheap_op(const struct diff *d, const struct scope *s)
{
	const struct op *op = &d->ops[s->ops];
	const char *tok;
	size_t n;

	if (d->nops - s->ops != 1 || s->lb != 0 || op->kind == OP_REMOVE ||
	    op->len <= s->plen + 1)
		return 0;
	tok = d->paths + op->path + s->plen + 1;
	n = op->len - s->plen - 1;
	return memchr(tok, '/', n) == NULL && memchr(tok, '~', n) == NULL;
}

/* Sets s->give_up once the ops made for the container, and those still
 * to come (at least s->lb), cost more than replacing it.  Cheap: to is
 * measured only a little further than what the ops cost, never twice
 * over, and what a container's size is known to be is also a bound for
 * its parent's. */
static sc_err scope_check(struct diff *d, struct scope *s)
{
	size_t spent = d->bytes - s->bytes + s->lb, fixed;
	sc_err rc;

	if (spent <= s->size)
		return SC_OK;
	fixed = path_size(d) + REP_SIZE;
	if (spent <= s->size + fixed || one_cheap_op(d, s))
		return SC_OK;
	if (!s->exact) {
		rc = scope_measure(d, s, spent + spent / 8 + 64);
		if (rc != SC_OK)
			return rc;
		if (s->parent != NULL && s->parent->size < s->size)
			s->parent->size = s->size;
		if (spent <= s->size + fixed)
			return SC_OK;
	}
	s->give_up = 1;
	return SC_OK;
}

/* Ends a container: when its ops cost more than replacing it (or as
 * much, but in more than one op), they become one "replace". */
static sc_err scope_end(struct diff *d, struct scope *s)
{
	size_t n = d->nops - s->ops;
	sc_err rc;

	s->lb = 0;
	/* what to is known to be at least, its parent is too */
	if (s->parent != NULL && s->parent->size < s->size)
		s->parent->size = s->size;
	if (n == 0 && !s->give_up)
		return SC_OK;
	if (!s->give_up) {
		/* One byte more than spent decides ties for fewer ops. */
		d->bytes += n > 1;
		rc = scope_check(d, s);
		d->bytes -= n > 1;
		if (rc != SC_OK || !s->give_up)
			return rc;
	}
	if (n > 0) /* given up before any op: nothing to cut */
		d->npaths = d->ops[s->ops].path;
	d->nops = s->ops;
	d->bytes = s->bytes;
	if (s->exact) {
		/* Measured, so within the depth limit; the parent measures
		 * it next. */
		d->known = s->to;
		d->known_size = s->size;
		d->known_depth = s->depth;
		return emit(d, OP_REPLACE, s->to,
			    s->size + path_size(d) + REP_SIZE);
	}
	return emit_value(d, OP_REPLACE, s->to, s->depth);
}

static sc_err diff_value(struct diff *d, json_object *a, json_object *b,
			 size_t depth);

static int is_container(json_object *o)
{
	json_type t = json_object_get_type(o);

	return t == json_type_object || t == json_type_array;
}

/* True when a and b certainly need no op: equal scalars (ta and tb their
 * types).  Containers are left to the recursion, which finds out on the
 * way.  When equal, adds to *lb at most b's compact size. */
static inline int same_typed(json_object *a, json_object *b, json_type ta,
			     json_type tb, size_t *lb)
{
	int n;

	if (ta == json_type_string && tb == json_type_string) {
		n = json_object_get_string_len(a);
		*lb += (size_t)n + 2;
		return n == json_object_get_string_len(b) &&
		       memcmp(json_object_get_string(a),
			      json_object_get_string(b), (size_t)n) == 0;
	}
	if (ta == json_type_int && tb == json_type_int) {
		int64_t x = json_object_get_int64(a);

		/* INT64_MAX may stand for a larger uint64: let sc_json_equal
		 * look. */
		if (x != INT64_MAX) {
			*lb += x < 0 ? 1 + digits((uint64_t)0 - (uint64_t)x)
				     : digits((uint64_t)x);
			return x == json_object_get_int64(b);
		}
	}
	*lb += 1;
	if ((ta == json_type_object || ta == json_type_array) &&
	    (tb == json_type_object || tb == json_type_array))
		return 0;
	return sc_json_equal(a, b);
}

static int same_scalar(json_object *a, json_object *b)
{
	size_t lb = 0;

	return same_typed(a, b, json_object_get_type(a),
			  json_object_get_type(b), &lb);
}

/* Whether two member keys are equal: 0 when not, else the key's length
 * plus one.  At once when they are one string (a shared or constant
 * key); keys are short, so no strcmp call. */
static inline size_t same_key(const char *x, const char *y)
{
	const char *k = x;

	if (x == y)
		return strlen(x) + 1;
	while (*x != '\0' && *x == *y) {
		x++;
		y++;
	}
	return *x == *y ? (size_t)(x - k) + 1 : 0;
}

/*
 * Returns 1 when a equals b (as sc_json_equal says), 0 when not, -1 when
 * finding out would go deeper than SC_JSON_MAX_DEPTH (a and b lie at
 * depth).  Walks members side by side while keys come in the same order.
 * When 1, what it added to *lb is at most b's compact size (a bound
 * found on the way, which spares measuring b where it is enough).
 */
static int same(json_object *a, json_object *b, size_t depth, size_t *lb)
{
	json_type ta = json_object_get_type(a), tb = json_object_get_type(b);
	json_object *va, *vb;
	struct lh_table *t;
	struct lh_entry *ea, *eb;
	size_t i, n, k;
	int r;

	if (depth > SC_JSON_MAX_DEPTH)
		return -1;
	if (ta != tb || (ta != json_type_object && ta != json_type_array))
		return same_typed(a, b, ta, tb, lb);
	if (ta == json_type_array) {
		struct array_list *xa = json_object_get_array(a);
		struct array_list *xb = json_object_get_array(b);

		n = xa->length;
		if (n != xb->length)
			return 0;
		*lb += n > 0 ? 1 + n : 2; /* brackets and commas */
		for (i = 0; i < n; i++) {
			r = same((json_object *)xa->array[i],
				 (json_object *)xb->array[i], depth + 1, lb);
			if (r != 1)
				return r;
		}
		return 1;
	}
	t = json_object_get_object(a);
	ea = lh_table_head(t);
	n = (size_t)t->count;
	t = json_object_get_object(b);
	if (n != (size_t)t->count)
		return 0;
	*lb += n > 0 ? 1 + 2 * n : 2; /* braces, colons, commas */
	eb = lh_table_head(t);
	for (; ea != NULL; ea = lh_entry_next(ea)) {
		k = eb != NULL ? same_key(lh_entry_k(eb), lh_entry_k(ea)) : 0;
		*lb += k + 1; /* the key's quotes, at least */
		if (k == 0) {
			eb = lh_table_lookup_entry(t, lh_entry_k(ea));
			if (eb == NULL)
				return 0;
		}
		va = (json_object *)lh_entry_v(ea);
		vb = (json_object *)lh_entry_v(eb);
		ta = json_object_get_type(va);
		tb = json_object_get_type(vb);
		if (depth >= SC_JSON_MAX_DEPTH)
			return -1;
		/* Scalar members here, without another call. */
		if (ta == tb &&
		    (ta == json_type_object || ta == json_type_array))
			r = same(va, vb, depth + 1, lb);
		else
			r = same_typed(va, vb, ta, tb, lb);
		if (r != 1)
			return r;
		eb = lh_entry_next(eb);
	}
	return 1;
}

/* Diffs the member key of the objects a and b (a missing member is
 * NULL with in_a or in_b 0). */
static sc_err diff_member(struct diff *d, struct scope *s, const char *key,
			  json_object *a, json_object *b, int in_a, int in_b)
{
	size_t mark = d->path.len, lb = 0;
	json_type ta, tb;
	int whole = !in_a; /* b replaces a whole (or is added) */
	sc_err rc;

	if (in_a && in_b) {
		ta = json_object_get_type(a);
		tb = json_object_get_type(b);
		if (same_typed(a, b, ta, tb, &lb))
			return SC_OK;
		whole = ta != tb ||
			(ta != json_type_object && ta != json_type_array);
	}
	rc = sc_pointer_buf_push(&d->path, key, strlen(key));
	if (rc != SC_OK)
		return rc;
	if (!in_b)
		rc = emit_remove(d);
	else if (whole)
		rc = emit_value(d, in_a ? OP_REPLACE : OP_ADD, b, s->depth + 1);
	else
		rc = diff_value(d, a, b, s->depth + 1);
	sc_pointer_buf_truncate(&d->path, mark);
	if (rc == SC_OK)
		rc = scope_check(d, s);
	return rc;
}

/* Walks a's members and b's side by side while their keys come in the
 * same order (the common case: no hash lookups); after a key that is
 * not next in b, b is looked up and the walk goes on from there. */
static sc_err diff_object(struct diff *d, struct scope *s, json_object *a,
			  json_object *b)
{
	struct lh_table *tb = json_object_get_object(b);
	struct lh_entry *ea, *eb = lh_table_head(tb);
	size_t found = 0, nb = (size_t)json_object_object_length(b);
	sc_err rc;

	for (ea = lh_table_head(json_object_get_object(a)); ea != NULL;
	     ea = lh_entry_next(ea)) {
		const char *key = lh_entry_k(ea);
		json_object *vb = NULL;

		if (eb == NULL || same_key(lh_entry_k(eb), key) == 0)
			eb = lh_table_lookup_entry(tb, key);
		if (eb != NULL) {
			vb = (json_object *)lh_entry_v(eb);
			found++;
		}
		rc = diff_member(d, s, key, (json_object *)lh_entry_v(ea), vb,
				 1, eb != NULL);
		if (rc != SC_OK || s->give_up)
			return rc;
		if (eb != NULL)
			eb = lh_entry_next(eb);
	}
	if (found == nb)
		return SC_OK;
	json_object_object_foreach(b, kb, vb)
	{
		if (json_object_object_get_ex(a, kb, NULL))
			continue;
		rc = diff_member(d, s, kb, NULL, vb, 0, 1);
		if (rc != SC_OK || s->give_up)
			return rc;
	}
	return SC_OK;
}

/* Levels below an array element that its hash looks at.  Deeper content
 * only makes unequal elements hash alike more often, which costs a
 * larger patch, never a wrong one (matched elements are diffed). */
#define HASH_LEVELS 32

#define HASH_K 0x9e3779b97f4a7c15ULL

static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* A structural hash consistent with sc_json_equal (scalars are hashed
 * by sc_json_hash, members in any order), bounded to levels levels. */
static uint64_t hash_value(json_object *o, int levels)
{
	uint64_t h, acc = 0;
	size_t i, n;

	switch (json_object_get_type(o)) {
	case json_type_array:
		n = json_object_array_length(o);
		h = mix(n ^ 0xa11a7ULL);
		for (i = 0; i < n && levels > 0; i++)
			h = mix((h ^ hash_value(json_object_array_get_idx(o, i),
						levels - 1)) *
				HASH_K);
		return h;
	case json_type_object:
		n = (size_t)json_object_object_length(o);
		json_object_object_foreach(o, key, val)
		{
			const unsigned char *k = (const unsigned char *)key;

			if (levels <= 0)
				break;
			h = 0xcbf29ce484222325ULL; /* FNV-1a */
			while (*k != '\0')
				h = (h ^ *k++) * 0x100000001b3ULL;
			acc += mix(h ^ hash_value(val, levels - 1) * HASH_K);
		}
		return mix(acc ^ mix(n ^ 0x0b1ec7ULL));
	default:
		return sc_json_hash(o);
	}
}

/* The hash of element lo + i of arr, cached in cache[i]. */
static uint64_t elem_hash(json_object *arr, uint64_t *cache, size_t lo,
			  size_t i)
{
	if (cache[i] == 0) {
		cache[i] = hash_value(json_object_array_get_idx(arr, lo + i),
				      HASH_LEVELS);
		if (cache[i] == 0)
			cache[i] = 1;
	}
	return cache[i];
}

/* The array being diffed: a becomes b; pos is the index the next op
 * names, len the array's length at that point of the patch. */
struct arr {
	json_object *a, *b;
	void **va, **vb; /* their elements */
	size_t pos, len;
	uint64_t *ha, *hb; /* lazily computed hashes of a[lo..], b[lo..] */
	size_t lo;	   /* the common head's length */
	size_t depth;	   /* of the elements */
};

/* Whether a[lo + x] and b[lo + y] match in the search: equal hashes, or
 * (without hashes, for a short search) equal elements. */
static int match(struct arr *r, size_t x, size_t y)
{
	size_t lb = 0;

	if (r->ha == NULL)
		return same((json_object *)r->va[r->lo + x],
			    (json_object *)r->vb[r->lo + y], r->depth,
			    &lb) == 1;
	return elem_hash(r->a, r->ha, r->lo, x) ==
	       elem_hash(r->b, r->hb, r->lo, y);
}

static sc_err push_index(struct diff *d, const struct arr *r)
{
	char num[24];
	size_t n = sizeof(num), i = r->pos;

	if (r->pos == r->len)
		return sc_pointer_buf_push(&d->path, "-", 1);
	do {
		num[--n] = (char)('0' + i % 10);
		i /= 10;
	} while (i > 0);
	return sc_pointer_buf_push(&d->path, num + n, sizeof(num) - n);
}

/* Elements a[x] and b[y] (indexes in the whole arrays) at r->pos; eq
 * tells whether they are equal, when known (else -1). */
static sc_err diff_pair(struct diff *d, struct scope *s, struct arr *r,
			size_t x, size_t y, int eq)
{
	json_object *ea = (json_object *)r->va[x];
	json_object *eb = (json_object *)r->vb[y];
	size_t mark = d->path.len;
	sc_err rc = SC_OK;

	size_t lb = 0;

	if (eq < 0)
		eq = same(ea, eb, s->depth + 1, &lb);
	if (eq < 0)
		return SC_ERR_TOO_DEEP;
	if (!eq) {
		rc = push_index(d, r);
		if (rc == SC_OK)
			rc = diff_value(d, ea, eb, s->depth + 1);
		sc_pointer_buf_truncate(&d->path, mark);
		/* eb replaced whole: its size is known now */
		if (d->known == eb && eb != NULL && scope_sizes(s) != NULL)
			s->sizes[y] = d->known_size;
		if (rc == SC_OK)
			rc = scope_check(d, s);
	}
	r->pos++;
	return rc;
}

/*
 * a[x..x+p) become b[y..y+q): pairs diffed, the surplus removed or added.
 * The pairs are compared first, so that s->lb counts what the gap costs
 * at least (an op for each unequal pair, each removal and each addition,
 * at an index path of at least one digit): when every element differs,
 * the container is found not worth diffing after a few of them.
 */
static sc_err diff_gap(struct diff *d, struct scope *s, struct arr *r, size_t x,
		       size_t p, size_t y, size_t q)
{
	size_t t, k = p < q ? p : q, mark = d->path.len, vsize;
	size_t ps = path_size(d), pair_lb = REM_SIZE + ps + 3;
	size_t rem_lb = REM_SIZE + ps + 2, add_lb = ADD_SIZE + ps + 3;
	size_t lb, bound = 0;
	unsigned char *eq = NULL;
	sc_err rc = SC_OK;
	int e;

	if (k > 0 && (eq = sc_malloc(k)) == NULL)
		return SC_ERR_NOMEM;
	for (t = 0; t < k; t++) {
		lb = 0;
		e = same((json_object *)r->va[x + t],
			 (json_object *)r->vb[y + t], s->depth + 1, &lb);
		if (e < 0) {
			rc = SC_ERR_TOO_DEEP;
			goto out;
		}
		eq[t] = (unsigned char)e;
		s->lb += e ? 0 : pair_lb;
		bound += e ? lb : 0;
	}
	if (bound > 0)
		scope_bound(s, bound);
	s->lb += (p - k) * rem_lb + (q - k) * add_lb;
	if (s->lb > 0)
		rc = scope_check(d, s);
	for (t = 0; t < k && rc == SC_OK && !s->give_up; t++) {
		s->lb -= eq[t] ? 0 : pair_lb;
		rc = diff_pair(d, s, r, x + t, y + t, eq[t]);
	}
	for (t = q; t < p && rc == SC_OK && !s->give_up; t++) {
		s->lb -= rem_lb;
		rc = push_index(d, r);
		if (rc == SC_OK)
			rc = emit_remove(d);
		sc_pointer_buf_truncate(&d->path, mark);
		r->len--;
		if (rc == SC_OK)
			rc = scope_check(d, s);
	}
	for (t = p; t < q && rc == SC_OK && !s->give_up; t++) {
		s->lb -= add_lb;
		rc = push_index(d, r);
		if (rc == SC_OK)
			rc = elem_size(d, s, y + t, &vsize);
		if (rc == SC_OK)
			scope_bound(s, vsize);
		if (rc == SC_OK)
			rc = emit_sized(d, OP_ADD, (json_object *)r->vb[y + t],
					vsize);
		sc_pointer_buf_truncate(&d->path, mark);
		r->pos++;
		r->len++;
		if (rc == SC_OK)
			rc = scope_check(d, s);
	}
out:
	sc_free(eq);
	return rc;
}

/* A run of matched elements: a[x..x+len) equal b[y..y+len) (by hash). */
struct snake {
	size_t x, y, len;
};

/* Marks a diagonal no path of this round reaches inside the grid. */
#define NO_PATH (-1L)

/*
 * One step of Myers' search onto diagonal k in round d > 0, from the
 * round before (pv, indexed by diagonal): the further of a move down
 * from diagonal k + 1 (inserting b[y]) and right from k - 1 (removing
 * a[x]), among those that stay inside the n x m grid.  Returns the x
 * reached, or NO_PATH; *down tells which move it was.
 */
static long step(const long *pv, long k, long d, long n, long m, int *down)
{
	long x_down = NO_PATH, x_right = NO_PATH;

	if (k < d && pv[k + 1] != NO_PATH && pv[k + 1] - k <= m)
		x_down = pv[k + 1];
	if (k > -d && pv[k - 1] != NO_PATH && pv[k - 1] < n)
		x_right = pv[k - 1] + 1;
	*down = x_down >= x_right;
	return *down ? x_down : x_right;
}

/*
 * Myers' greedy search for the shortest edit script between the n
 * elements a[lo..] and the m elements b[lo..], at most max edits.  On
 * success *snakes (sc_malloc'ed, *count entries, in order) are the
 * matched runs, each after one edit but the first; *snakes stays NULL
 * when the script needs more than max edits.  Indexes are relative to
 * lo.  The furthest x of every diagonal k of every round d is kept at
 * trace[d * d + d + k] for the walk back, so memory is O(max^2).
 */
static sc_err myers(struct arr *r, long n, long m, long max,
		    struct snake **snakes, size_t *count)
{
	long *trace = NULL, *t, *v = NULL, *pv, d, k, x, y;
	size_t cap = 0;
	struct snake *sn = NULL;
	sc_err rc = SC_OK;
	int down;

	*snakes = NULL;
	*count = 0;
	for (d = 0; d <= max; d++) {
		size_t need = (size_t)((d + 1) * (d + 1));

		if (need > cap) {
			cap = need * 2;
			t = sc_realloc(trace, cap * sizeof(*t));
			if (t == NULL) {
				rc = SC_ERR_NOMEM;
				goto out;
			}
			trace = t;
		}
		pv = trace + (d - 1) * (d - 1) + (d - 1); /* unused at 0 */
		v = trace + d * d + d;
		for (k = -d; k <= d; k += 2) {
			x = d == 0 ? 0 : step(pv, k, d, n, m, &down);
			if (x == NO_PATH) {
				v[k] = NO_PATH;
				continue;
			}
			y = x - k;
			while (x < n && y < m &&
			       match(r, (size_t)x, (size_t)y)) {
				x++;
				y++;
			}
			v[k] = x;
			if (x == n && y == m)
				goto found;
		}
	}
	goto out; /* more than max edits */
found:
	sn = sc_malloc(((size_t)d + 1) * sizeof(*sn));
	if (sn == NULL) {
		rc = SC_ERR_NOMEM;
		goto out;
	}
	*count = (size_t)d + 1;
	x = n;
	y = m;
	for (; d > 0; d--) {
		long px, sx;

		k = x - y;
		pv = trace + (d - 1) * (d - 1) + (d - 1);
		px = step(pv, k, d, n, m, &down);
		/* px is where the edit ended and the snake began */
		sx = px;
		sn[d] = (struct snake){(size_t)sx, (size_t)(sx - k),
				       (size_t)(x - sx)};
		if (down) {
			x = px;
			y = px - k - 1;
		} else {
			x = px - 1;
			y = px - 1 - k + 1;
		}
	}
	sn[0] = (struct snake){0, 0, (size_t)x};
	*snakes = sn;
out:
	sc_free(trace);
	return rc;
}

/* Slots of may_match()'s hash set: a power of two, over twice the
 * 2 * DIFF_MAX_EDITS + 1 hashes it holds. */
#define MATCH_SLOTS 1024

/*
 * False when Myers' search on hashes certainly fails within max edits on
 * the n elements a[lo..] and the m elements b[lo..]: when m > max and
 * none of b's first max + 1 elements hashes like one of a's first
 * 2 max + 1.  (A script of at most max edits inserts at most max of
 * them, and shifts no element by more than max.)  Costs those hashes,
 * which the search would compute first anyway, instead of its max^2
 * steps where every element differs, as when all rows are new.
 */
static int may_match(struct arr *r, size_t n, size_t m, size_t max)
{
	uint64_t set[MATCH_SLOTS] = {0}, h;
	size_t i, j, na = n < 2 * max + 1 ? n : 2 * max + 1;

	if (m <= max || 2 * max + 1 > MATCH_SLOTS / 2)
		return 1;
	for (i = 0; i < na; i++) {
		h = elem_hash(r->a, r->ha, r->lo, i);
		for (j = h & (MATCH_SLOTS - 1); set[j] != 0 && set[j] != h;
		     j = (j + 1) & (MATCH_SLOTS - 1))
			;
		set[j] = h;
	}
	for (i = 0; i <= max; i++) {
		h = elem_hash(r->b, r->hb, r->lo, i);
		for (j = h & (MATCH_SLOTS - 1); set[j] != 0;
		     j = (j + 1) & (MATCH_SLOTS - 1))
			if (set[j] == h)
				return 1;
	}
	return 0;
}

/* Positions sampled by aligned(). */
#define ALIGN_SAMPLES 8

/*
 * Returns 1 when the n elements a[lo..] and the m elements b[lo..] are
 * aligned: as many, and most of ALIGN_SAMPLES positions spread over them
 * hold equal elements (fields edited in place, as in "update every 10th
 * row").  A positional diff is then about what a long search would find
 * too, and a short one saves hashing what the long one would visit.
 */
static int aligned(json_object *a, json_object *b, size_t lo, size_t n,
		   size_t m, size_t depth)
{
	size_t i, at, equal = 0, lb;

	if (n != m || n < 4 * ALIGN_SAMPLES)
		return 0;
	for (i = 0; i < ALIGN_SAMPLES; i++) {
		at = lo + 1 + i * (n - 2) / ALIGN_SAMPLES;
		lb = 0;
		equal +=
		    same(json_object_array_get_idx(a, at),
			 json_object_array_get_idx(b, at), depth, &lb) == 1;
	}
	return equal > ALIGN_SAMPLES / 2;
}

/* Arrays of this many elements or more keep their elements' sizes. */
#define ARRAY_SIZES_MIN 16

static sc_err diff_array(struct diff *d, struct scope *s, json_object *a,
			 json_object *b)
{
	size_t na = json_object_array_length(a);
	size_t nb = json_object_array_length(b);
	size_t head = 0, tail = 0, n, m, i, px, py, count = 0, max;
	size_t bound = 0, elb = 0;
	struct arr r = {0};
	struct snake *sn = NULL;
	sc_err rc = SC_OK;
	int eq = 0;

	r.a = a;
	r.b = b;
	r.va = json_object_get_array(a)->array;
	r.vb = json_object_get_array(b)->array;
	r.len = na;
	r.depth = s->depth + 1;

	/* The common head and tail, whose sizes are bounded on the way. */
	while (head < na && head < nb) {
		bound = 0;
		eq = same((json_object *)r.va[head], (json_object *)r.vb[head],
			  s->depth + 1, &bound);
		if (eq != 1)
			break;
		head++;
		elb += bound;
	}
	while (eq >= 0 && tail < na - head && tail < nb - head) {
		bound = 0;
		eq = same((json_object *)r.va[na - 1 - tail],
			  (json_object *)r.vb[nb - 1 - tail], s->depth + 1,
			  &bound);
		if (eq != 1)
			break;
		tail++;
		elb += bound;
	}
	if (eq < 0)
		return SC_ERR_TOO_DEEP;
	if (elb > 0)
		scope_bound(s, elb);
	n = na - head - tail;
	m = nb - head - tail;
	s->may_keep_sizes = nb >= ARRAY_SIZES_MIN;
	r.pos = r.lo = head;
	if (n > 0 && m > 0) {
		/* Aligned arrays get a short search on the elements
		 * themselves: it still finds a shift or two, gives up soon
		 * where there is none, and hashes nothing.  Others get a
		 * long one on hashes. */
		max = DIFF_ALIGNED_EDITS;
		if (!aligned(a, b, head, n, m, s->depth + 1)) {
			max = DIFF_MAX_EDITS;
			r.ha = sc_calloc(n, sizeof(*r.ha));
			r.hb = sc_calloc(m, sizeof(*r.hb));
			if (r.ha == NULL || r.hb == NULL) {
				rc = SC_ERR_NOMEM;
				goto out;
			}
		}
		if (r.ha == NULL || may_match(&r, n, m, max))
			rc = myers(&r, (long)n, (long)m,
				   n + m < max ? (long)(n + m) : (long)max, &sn,
				   &count);
		if (rc != SC_OK)
			goto out;
	}
	if (sn == NULL) { /* one side empty, or too many edits */
		rc = diff_gap(d, s, &r, head, n, head, m);
		goto out;
	}
	px = py = 0;
	for (i = 0; i < count && rc == SC_OK && !s->give_up; i++) {
		size_t t;

		if (sn[i].len == 0 && i > 0)
			continue; /* an edit follows an edit: same gap */
		rc = diff_gap(d, s, &r, head + px, sn[i].x - px, head + py,
			      sn[i].y - py);
		if (r.ha == NULL) /* matched as equal: nothing to do */
			r.pos += sn[i].len;
		for (t = 0; r.ha != NULL && t < sn[i].len && rc == SC_OK &&
			    !s->give_up;
		     t++) /* matched by hash: diffed, in case they differ */
			rc = diff_pair(d, s, &r, head + sn[i].x + t,
				       head + sn[i].y + t, -1);
		px = sn[i].x + sn[i].len;
		py = sn[i].y + sn[i].len;
	}
	if (rc == SC_OK && !s->give_up)
		rc = diff_gap(d, s, &r, head + px, n - px, head + py, m - py);
out:
	sc_free(sn);
	sc_free(r.hb);
	sc_free(r.ha);
	return rc;
}

static int same_kind(json_object *a, json_object *b)
{
	json_type ta = json_object_get_type(a), tb = json_object_get_type(b);

	if (ta == json_type_double)
		ta = json_type_int;
	if (tb == json_type_double)
		tb = json_type_int;
	return ta == tb;
}

/* Diffs a and b, at depth of their documents, at the current path. */
static sc_err diff_value(struct diff *d, json_object *a, json_object *b,
			 size_t depth)
{
	struct scope s;
	sc_err rc;

	if (depth > SC_JSON_MAX_DEPTH)
		return SC_ERR_TOO_DEEP;
	if (!same_kind(a, b) || !is_container(a)) {
		if (same_scalar(a, b))
			return SC_OK;
		return emit_value(d, OP_REPLACE, b, depth);
	}
	scope_init(&s, d, b, depth);
	if (json_object_is_type(a, json_type_object))
		rc = diff_object(d, &s, a, b);
	else
		rc = diff_array(d, &s, a, b);
	if (rc == SC_OK)
		rc = scope_end(d, &s);
	sc_free(s.sizes);
	d->top = s.parent;
	return rc;
}

/* Adds v (a new reference, taken even on failure; ok 0 means v could not
 * be made) as member key (a new one, and a string constant) of o.
 * Returns 0, or -1 on failure. */
static int put_member(json_object *o, const char *key, json_object *v, int ok)
{
	if (!ok || json_object_object_add_ex(
		       o, key, v,
		       JSON_C_OBJECT_ADD_KEY_IS_NEW |
			   JSON_C_OBJECT_ADD_CONSTANT_KEY) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

/* Makes *out, the json-c patch of d's ops.  Values are new references
 * to parts of to; the op names are one string each, shared by the ops. */
static sc_err build(const struct diff *d, json_object **out)
{
	json_object *patch = json_object_new_array_ext((int)d->nops);
	json_object *names[3] = {NULL, NULL, NULL}, *o, *v;
	sc_err rc = SC_ERR_NOMEM;
	size_t i;

	if (patch == NULL)
		return SC_ERR_NOMEM;
	for (i = 0; i < 3; i++)
		if ((names[i] = json_object_new_string(op_names[i])) == NULL)
			goto out;
	for (i = 0; i < d->nops; i++) {
		const struct op *op = &d->ops[i];

		o = json_object_new_object();
		if (o == NULL)
			goto out;
		if (json_object_array_add(patch, o) != 0) {
			json_object_put(o);
			goto out;
		}
		v = json_object_get(names[op->kind]);
		if (put_member(o, "op", v, 1) != 0)
			goto out;
		v = json_object_new_string_len(
		    op->len > 0 ? d->paths + op->path : "", (int)op->len);
		if (put_member(o, "path", v, v != NULL) != 0)
			goto out;
		if (op->kind != OP_REMOVE &&
		    put_member(o, "value", json_object_get(op->value), 1) != 0)
			goto out;
	}
	*out = patch;
	patch = NULL;
	rc = SC_OK;
out:
	for (i = 0; i < 3; i++)
		json_object_put(names[i]);
	json_object_put(patch);
	return rc;
}

sc_err sc_diff(json_object *from, json_object *to, json_object **out,
	       sc_error *err)
{
	struct diff d = {0};
	sc_err rc;

	sc_pointer_buf_init(&d.path);
	rc = diff_value(&d, from, to, 1);
	if (rc == SC_OK)
		rc = build(&d, out);
	sc_pointer_buf_free(&d.path);
	sc_free(d.paths);
	sc_free(d.ops);
	switch (rc) {
	case SC_OK:
		return SC_OK;
	case SC_ERR_TOO_DEEP:
		return sc_error_set(err, rc,
				    "a document nests deeper than %d "
				    "levels",
				    SC_JSON_MAX_DEPTH);
	case SC_ERR_TOO_BIG:
		return sc_error_set(err, rc, "the patch is too large");
	default:
		return sc_error_set(err, SC_ERR_NOMEM, "out of memory");
	}
}
