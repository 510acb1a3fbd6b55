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
 * up to what its element ops already cost) and, as soon as its ops cost
 * more, they are cut off the list for one "replace".  Only the ops that
 * remain become json-c objects, with deep copies of their values.
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
	json_object *value; /* borrowed from to; copied into the patch */
};

/* The most bytes of paths one diff may collect (SC_ERR_TOO_BIG past). */
#define DIFF_MAX_PATHS (256u * 1024 * 1024)

struct diff {
	struct op *ops;
	size_t nops, cap;
	char *paths;
	size_t npaths, paths_cap;
	sc_pointer_buf path;
	struct scope *top; /* the innermost container being diffed */
	size_t bytes;	   /* compact size of the ops, commas included */
};

/* One container being diffed, and what replacing it whole would cost:
 * to's compact size, measured lazily and in steps (element by element,
 * resuming where the last step stopped) only as far as the container's
 * ops already cost. */
struct scope {
	json_object *to;
	struct scope *parent;	/* the enclosing container, or NULL */
	size_t depth;		/* of to in the document, the root being 1 */
	size_t ops;		/* diff.nops when the container started */
	size_t bytes;		/* diff.bytes then */
	size_t size;		/* to's compact size is at least this */
	int exact;		/* ... and exactly this */
	int give_up;		/* element ops already cost more: replace */
	int started;		/* measuring began: */
	size_t measured;	/* the size of to's elements before next */
	size_t next;		/* the next element (array) to measure */
	struct lh_entry *entry; /* the next member (object) to measure */
};

/* Size of s (n bytes) as a JSON string, as json-c escapes it. */
static size_t string_size(const char *s, size_t n)
{
	size_t i, len = 2 + n;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\' || c == '\b' || c == '\f' ||
		    c == '\n' || c == '\r' || c == '\t')
			len += 1;
		else if (c < 0x20)
			len += 5;
	}
	return len;
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
		n = (size_t)json_object_object_length(o);
		*size += n > 0 ? 1 + n * 2 : 2; /* braces, colons, commas */
		json_object_object_foreach(o, key, val)
		{
			if (*size > cap)
				break;
			*size += string_size(key, strlen(key));
			rc = value_size(val, depth + 1, cap, size);
			if (rc != SC_OK)
				return rc;
		}
		return SC_OK;
	}
	return SC_OK;
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

/* Emits an "add" or "replace" of value, which lies at depth of to. */
static sc_err emit_value(struct diff *d, enum op_kind kind, json_object *value,
			 size_t depth)
{
	size_t size = 0;
	sc_err rc;

	rc = value_size(value, depth, SIZE_MAX, &size);
	if (rc != SC_OK)
		return rc;
	size += path_size(d) + (kind == OP_ADD ? ADD_SIZE : REP_SIZE);
	return emit(d, kind, value, size);
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
	s->ops = d->nops;
	s->bytes = d->bytes;
	d->top = s;
}

/* Measures more of s->to, until its size is known or passes cap. */
static sc_err scope_measure(struct scope *s, size_t cap)
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
		n = json_object_array_length(o);
		for (; s->next < n; s->next++) {
			m = s->measured;
			rc = value_size(json_object_array_get_idx(o, s->next),
					s->depth + 1, cap, &m);
			if (rc != SC_OK)
				return rc;
			if (m > cap) {
				s->size = s->size > m ? s->size : m;
				return SC_OK;
			}
			s->measured = m;
		}
	} else {
		for (; s->entry != NULL; s->entry = lh_entry_next(s->entry)) {
			const char *key = lh_entry_k(s->entry);

			m = s->measured + string_size(key, strlen(key));
			rc = value_size((json_object *)lh_entry_v(s->entry),
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
	return SC_OK;
}

/* Sets s->give_up once the ops made for the container cost more than
 * replacing it.  Cheap: to is measured only a little further than what
 * the ops cost, never twice over, and what a container's size is known
 * to be is also a bound for its parent's. */
static sc_err scope_check(struct diff *d, struct scope *s)
{
	size_t spent = d->bytes - s->bytes, fixed = path_size(d) + REP_SIZE;
	sc_err rc;

	if (spent <= s->size + fixed)
		return SC_OK;
	if (!s->exact) {
		rc = scope_measure(s, spent + spent / 4 + 64);
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

	if (n == 0)
		return SC_OK;
	if (!s->give_up) {
		/* One byte more than spent decides ties for fewer ops. */
		d->bytes += n > 1;
		rc = scope_check(d, s);
		d->bytes -= n > 1;
		if (rc != SC_OK || !s->give_up)
			return rc;
	}
	d->npaths = d->ops[s->ops].path;
	d->nops = s->ops;
	d->bytes = s->bytes;
	if (s->exact) /* measured, so within the depth limit */
		return emit(d, OP_REPLACE, s->to,
			    s->size + path_size(d) + REP_SIZE);
	return emit_value(d, OP_REPLACE, s->to, s->depth);
}

static sc_err diff_value(struct diff *d, json_object *a, json_object *b,
			 size_t depth);

static int is_container(json_object *o)
{
	json_type t = json_object_get_type(o);

	return t == json_type_object || t == json_type_array;
}

/* True when a and b certainly need no op: equal scalars.  Containers are
 * left to the recursion, which finds out on the way. */
static int same_scalar(json_object *a, json_object *b)
{
	json_type ta = json_object_get_type(a), tb = json_object_get_type(b);

	if (ta == json_type_string && tb == json_type_string) {
		int n = json_object_get_string_len(a);

		return n == json_object_get_string_len(b) &&
		       memcmp(json_object_get_string(a),
			      json_object_get_string(b), (size_t)n) == 0;
	}
	if (ta == json_type_int && tb == json_type_int) {
		int64_t x = json_object_get_int64(a);

		/* INT64_MAX may stand for a larger uint64: let sc_json_equal
		 * look. */
		if (x != INT64_MAX)
			return x == json_object_get_int64(b);
	}
	if ((ta == json_type_object || ta == json_type_array) &&
	    (tb == json_type_object || tb == json_type_array))
		return 0;
	return sc_json_equal(a, b);
}

/*
 * Returns 1 when a equals b (as sc_json_equal says), 0 when not, -1 when
 * finding out would go deeper than SC_JSON_MAX_DEPTH (a and b lie at
 * depth).  Walks members side by side while keys come in the same order.
 */
static int same(json_object *a, json_object *b, size_t depth)
{
	json_type ta = json_object_get_type(a), tb = json_object_get_type(b);
	struct lh_table *t;
	struct lh_entry *ea, *eb;
	size_t i, n;
	int r;

	if (depth > SC_JSON_MAX_DEPTH)
		return -1;
	if (ta != tb || (ta != json_type_object && ta != json_type_array))
		return same_scalar(a, b);
	if (ta == json_type_array) {
		n = json_object_array_length(a);
		if (n != json_object_array_length(b))
			return 0;
		for (i = 0; i < n; i++) {
			r = same(json_object_array_get_idx(a, i),
				 json_object_array_get_idx(b, i), depth + 1);
			if (r != 1)
				return r;
		}
		return 1;
	}
	if (json_object_object_length(a) != json_object_object_length(b))
		return 0;
	t = json_object_get_object(b);
	eb = lh_table_head(t);
	for (ea = lh_table_head(json_object_get_object(a)); ea != NULL;
	     ea = lh_entry_next(ea)) {
		if (eb == NULL || strcmp(lh_entry_k(eb), lh_entry_k(ea)) != 0) {
			eb = lh_table_lookup_entry(t, lh_entry_k(ea));
			if (eb == NULL)
				return 0;
		}
		r = same((json_object *)lh_entry_v(ea),
			 (json_object *)lh_entry_v(eb), depth + 1);
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
	size_t mark = d->path.len;
	sc_err rc;

	if (in_a && in_b && same_scalar(a, b))
		return SC_OK;
	rc = sc_pointer_buf_push(&d->path, key, strlen(key));
	if (rc != SC_OK)
		return rc;
	if (!in_b)
		rc = emit_remove(d);
	else if (!in_a)
		rc = emit_value(d, OP_ADD, b, s->depth + 1);
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

		if (eb == NULL || strcmp(lh_entry_k(eb), key) != 0)
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
	size_t pos, len;
	uint64_t *ha, *hb; /* lazily computed hashes of a[lo..], b[lo..] */
	size_t lo;	   /* the common head's length */
	size_t depth;	   /* of the elements */
};

/* Whether a[lo + x] and b[lo + y] match in the search: equal hashes, or
 * (without hashes, for a short search) equal elements. */
static int match(struct arr *r, size_t x, size_t y)
{
	if (r->ha == NULL)
		return same(json_object_array_get_idx(r->a, r->lo + x),
			    json_object_array_get_idx(r->b, r->lo + y),
			    r->depth) == 1;
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

/* Elements a[x] and b[y] (indexes in the whole arrays) at r->pos. */
static sc_err diff_pair(struct diff *d, struct scope *s, struct arr *r,
			size_t x, size_t y)
{
	json_object *ea = json_object_array_get_idx(r->a, x);
	json_object *eb = json_object_array_get_idx(r->b, y);
	size_t mark = d->path.len;
	sc_err rc = SC_OK;
	int eq;

	eq = same(ea, eb, s->depth + 1);
	if (eq < 0)
		return SC_ERR_TOO_DEEP;
	if (!eq) {
		rc = push_index(d, r);
		if (rc == SC_OK)
			rc = diff_value(d, ea, eb, s->depth + 1);
		sc_pointer_buf_truncate(&d->path, mark);
		if (rc == SC_OK)
			rc = scope_check(d, s);
	}
	r->pos++;
	return rc;
}

/* a[x..x+p) become b[y..y+q): pairs diffed, the surplus removed or
 * added. */
static sc_err diff_gap(struct diff *d, struct scope *s, struct arr *r, size_t x,
		       size_t p, size_t y, size_t q)
{
	size_t t, mark = d->path.len;
	sc_err rc = SC_OK;

	for (t = 0; t < p && t < q && rc == SC_OK && !s->give_up; t++)
		rc = diff_pair(d, s, r, x + t, y + t);
	for (t = q; t < p && rc == SC_OK && !s->give_up; t++) {
		rc = push_index(d, r);
		if (rc == SC_OK)
			rc = emit_remove(d);
		sc_pointer_buf_truncate(&d->path, mark);
		r->len--;
		if (rc == SC_OK)
			rc = scope_check(d, s);
	}
	for (t = p; t < q && rc == SC_OK && !s->give_up; t++) {
		rc = push_index(d, r);
		if (rc == SC_OK)
			rc = emit_value(d, OP_ADD,
					json_object_array_get_idx(r->b, y + t),
					s->depth + 1);
		sc_pointer_buf_truncate(&d->path, mark);
		r->pos++;
		r->len++;
		if (rc == SC_OK)
			rc = scope_check(d, s);
	}
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
	size_t i, at, equal = 0;

	if (n != m || n < 4 * ALIGN_SAMPLES)
		return 0;
	for (i = 0; i < ALIGN_SAMPLES; i++) {
		at = lo + 1 + i * (n - 2) / ALIGN_SAMPLES;
		equal += same(json_object_array_get_idx(a, at),
			      json_object_array_get_idx(b, at), depth) == 1;
	}
	return equal > ALIGN_SAMPLES / 2;
}

static sc_err diff_array(struct diff *d, struct scope *s, json_object *a,
			 json_object *b)
{
	size_t na = json_object_array_length(a);
	size_t nb = json_object_array_length(b);
	size_t head = 0, tail = 0, n, m, i, px, py, count = 0, max;
	struct arr r = {a, b, 0, na, NULL, NULL, 0, s->depth + 1};
	struct snake *sn = NULL;
	sc_err rc = SC_OK;
	int eq = 0;

	while (head < na && head < nb &&
	       (eq = same(json_object_array_get_idx(a, head),
			  json_object_array_get_idx(b, head), s->depth + 1)) ==
		   1)
		head++;
	while (eq >= 0 && tail < na - head && tail < nb - head &&
	       (eq = same(json_object_array_get_idx(a, na - 1 - tail),
			  json_object_array_get_idx(b, nb - 1 - tail),
			  s->depth + 1)) == 1)
		tail++;
	if (eq < 0)
		return SC_ERR_TOO_DEEP;
	n = na - head - tail;
	m = nb - head - tail;
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
		rc =
		    myers(&r, (long)n, (long)m,
			  n + m < max ? (long)(n + m) : (long)max, &sn, &count);
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
				       head + sn[i].y + t);
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

/* Makes *out, the json-c patch of d's ops, with deep copies of values. */
static sc_err build(const struct diff *d, json_object **out)
{
	json_object *patch = json_object_new_array_ext((int)d->nops);
	json_object *o, *v;
	size_t i;

	if (patch == NULL)
		return SC_ERR_NOMEM;
	for (i = 0; i < d->nops; i++) {
		const struct op *op = &d->ops[i];

		o = json_object_new_object();
		if (o == NULL)
			goto nomem;
		v = json_object_new_string(op_names[op->kind]);
		if (put_member(o, "op", v, v != NULL) != 0)
			goto nomem_o;
		v = json_object_new_string_len(
		    op->len > 0 ? d->paths + op->path : "", (int)op->len);
		if (put_member(o, "path", v, v != NULL) != 0)
			goto nomem_o;
		if (op->kind != OP_REMOVE) {
			int ok = sc_json_copy(op->value, &v) == SC_OK;

			if (put_member(o, "value", ok ? v : NULL, ok) != 0)
				goto nomem_o;
		}
		if (json_object_array_add(patch, o) != 0)
			goto nomem_o;
	}
	*out = patch;
	return SC_OK;
nomem_o:
	json_object_put(o);
nomem:
	json_object_put(patch);
	return SC_ERR_NOMEM;
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
