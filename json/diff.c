/* Long (over 700 lines): one recursion whose cases share its state. */
/*
 * json/diff.c — a small RFC 6902 patch from one json-c document to
 * another.
 *
 * Objects are diffed key by key, walking both member lists side by side
 * while their keys come in the same order.  Arrays lose their common head
 * and tail first (one insertion or removal anywhere is then a single op),
 * and what is left goes through a bounded search for the elements that
 * stay (json/diffarray.c): each run of elements between two matched runs
 * is a "gap", whose elements are paired position by position (a changed
 * element is diffed recursively, so editing a field of a row is one small
 * op) with the surplus removed or added.  When the search gives up, the
 * whole middle is one positional gap.
 *
 * Ops are collected in a plain list first (json/diffops.c), each with its
 * exact compact size.  Each container keeps the size of replacing it
 * whole (json/diffsize.c: measured lazily, only up to what its element
 * ops cost, each element once) and a lower bound of what its ops still to
 * come cost (a gap's pairs are compared before any is diffed, an unequal
 * pair of rows costing at least the replace of a field); as soon as the
 * two pass the size of a replace, the ops are cut off the list for one
 * "replace": a table whose rows all changed is replaced right after the
 * compare.  Only the ops that remain become json-c objects (sc_diff),
 * whose values are references to to's, or compact text (sc_diff_text).
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
#include "json/diffarray.h"
#include "json/diffops.h"
#include "json/diffsize.h"
#include "json/pointer.h"
#include "json/text.h"
#include "json/value.h"

struct diff {
	struct sc_diffops ops; /* the ops so far, and what they cost */
	sc_pointer_buf path;
	struct scope *top; /* the innermost container being diffed */
	struct sc_diffsize_known known; /* the container last measured whole */
};

/* One container being diffed: what replacing it whole would cost (cost,
 * measured only as far as the container's ops already cost), and what
 * its ops cost. */
struct scope {
	struct sc_diffsize_scope cost; /* to, its depth, its size */
	struct scope *parent;	       /* the enclosing container, or NULL */
	size_t plen;		       /* the length of its path */
	size_t ops;   /* diff.ops.n when the container started */
	size_t bytes; /* diff.ops.bytes then */
	int give_up;  /* element ops already cost more: replace */
	size_t lb;    /* the ops still to come cost at least this */
};

static size_t path_size(const struct diff *d)
{
	return sc_text_string_size(sc_pointer_buf_text(&d->path), d->path.len);
}

/* Appends an op at the current path costing size bytes.  value is
 * referenced by the patch, not copied. */
static sc_err emit(struct diff *d, sc_op kind,
		   json_object *value, size_t size)
{
	return sc_diffops_add(&d->ops, kind, d->path.data, d->path.len, value,
			      size);
}

/* Emits an "add" or "replace" of value, of compact size vsize. */
static sc_err emit_sized(struct diff *d, sc_op kind, json_object *value,
			 size_t vsize)
{
	size_t size =
	    vsize + path_size(d) + (kind == SC_OP_ADD ? SC_DIFFOPS_ADD_SIZE : SC_DIFFOPS_REP_SIZE);

	return emit(d, kind, value, size);
}

/* Emits an "add" or "replace" of value, which lies at depth of to. */
static sc_err emit_value(struct diff *d, sc_op kind, json_object *value,
			 size_t depth)
{
	size_t size = 0;
	sc_err rc;

	rc = sc_diffsize_value(&d->known, value, depth, SIZE_MAX, &size);
	if (rc != SC_OK)
		return rc;
	return emit_sized(d, kind, value, size);
}

static sc_err emit_remove(struct diff *d)
{
	return emit(d, SC_OP_REMOVE, NULL, SC_DIFFOPS_REM_SIZE + path_size(d));
}

static void scope_init(struct scope *s, struct diff *d, json_object *to,
		       size_t depth)
{
	memset(s, 0, sizeof(*s));
	s->cost.to = to;
	s->cost.depth = depth;
	s->parent = d->top;
	s->plen = d->path.len;
	s->ops = d->ops.n;
	s->bytes = d->ops.bytes;
	d->top = s;
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
	const struct sc_diffops_op *op = &d->ops.ops[s->ops];
	const char *tok, *end;

	if (d->ops.n - s->ops != 1 || s->lb != 0 || op->kind == SC_OP_REMOVE ||
	    op->len <= s->plen + 1)
		return 0;
	tok = sc_diffops_path(&d->ops, s->ops) + s->plen + 1;
	end = sc_diffops_path(&d->ops, s->ops) + op->len;
	for (; tok < end; tok++) /* short: no call */
		if (*tok == '/' || *tok == '~')
			return 0;
	return 1;
}

/* Sets s->give_up once the ops made for the container, and those still
 * to come (at least s->lb), cost more than replacing it.  Cheap: to is
 * measured only a little further than what the ops cost, never twice
 * over, and what a container's size is known to be is also a bound for
 * its parent's. */
static sc_err scope_check(struct diff *d, struct scope *s)
{
	size_t spent = d->ops.bytes - s->bytes + s->lb, fixed;
	sc_err rc;

	if (spent <= s->cost.size || one_cheap_op(d, s))
		return SC_OK;
	fixed = path_size(d) + SC_DIFFOPS_REP_SIZE;
	if (spent <= s->cost.size + fixed)
		return SC_OK;
	if (!s->cost.exact) {
		rc = sc_diffsize_scope_measure(&d->known, &s->cost,
					       spent + spent / 8 + 64);
		if (rc != SC_OK)
			return rc;
		if (s->parent != NULL && s->parent->cost.size < s->cost.size)
			s->parent->cost.size = s->cost.size;
		if (spent <= s->cost.size + fixed)
			return SC_OK;
	}
	s->give_up = 1;
	return SC_OK;
}

/* Ends a container: when its ops cost more than replacing it (or as
 * much, but in more than one op), they become one "replace". */
static sc_err scope_end(struct diff *d, struct scope *s)
{
	size_t n = d->ops.n - s->ops;
	sc_err rc;

	s->lb = 0;
	/* what to is known to be at least, its parent is too */
	if (s->parent != NULL && s->parent->cost.size < s->cost.size)
		s->parent->cost.size = s->cost.size;
	if (n == 0 && !s->give_up)
		return SC_OK;
	if (!s->give_up) {
		/* One byte more than spent decides ties for fewer ops. */
		d->ops.bytes += n > 1;
		rc = scope_check(d, s);
		d->ops.bytes -= n > 1;
		if (rc != SC_OK || !s->give_up)
			return rc;
	}
	sc_diffops_cut(&d->ops, s->ops, s->bytes);
	if (s->cost.exact) {
		/* Measured, so within the depth limit; the parent measures
		 * it next. */
		d->known.o = s->cost.to;
		d->known.size = s->cost.size;
		d->known.depth = s->cost.depth;
		return emit(d, SC_OP_REPLACE, s->cost.to,
			    s->cost.size + path_size(d) + SC_DIFFOPS_REP_SIZE);
	}
	return emit_value(d, SC_OP_REPLACE, s->cost.to, s->cost.depth);
}

static sc_err diff_value(struct diff *d, json_object *a, json_object *b,
			 size_t depth);

static int is_container(json_object *o)
{
	json_type t = json_object_get_type(o);

	return t == json_type_object || t == json_type_array;
}

/* Whether the n bytes at x and y are equal: short ones (most strings of
 * a document) in a word or two, without a call. */
static inline int same_bytes(const char *x, const char *y, size_t n)
{
	uint64_t u, v, w, z;
	uint32_t p, q, r, t;

	if (n > 16)
		return memcmp(x, y, n) == 0;
	if (n >= 8) {
		memcpy(&u, x, 8);
		memcpy(&v, y, 8);
		memcpy(&w, x + n - 8, 8);
		memcpy(&z, y + n - 8, 8);
		return ((u ^ v) | (w ^ z)) == 0;
	}
	if (n >= 4) {
		memcpy(&p, x, 4);
		memcpy(&q, y, 4);
		memcpy(&r, x + n - 4, 4);
		memcpy(&t, y + n - 4, 4);
		return ((p ^ q) | (r ^ t)) == 0;
	}
	while (n-- > 0)
		if (*x++ != *y++)
			return 0;
	return 1;
}

/* True when a and b certainly need no op: equal scalars (ta and tb their
 * types).  Containers are left to the recursion, which finds out on the
 * way.  When equal, adds to *lb at most b's compact size.  Inlined in
 * same()'s loop (it is most of the time of a diff), which a compiler
 * would not do of itself. */
static inline __attribute__((always_inline)) int
same_typed(json_object *a, json_object *b, json_type ta, json_type tb,
	   size_t *lb)
{
	int n;

	if (ta == json_type_string && tb == json_type_string) {
		n = json_object_get_string_len(a);
		*lb += (size_t)n + 2;
		return n == json_object_get_string_len(b) &&
		       same_bytes(json_object_get_string(a),
				  json_object_get_string(b), (size_t)n);
	}
	if (ta == json_type_int && tb == json_type_int) {
		int64_t x = json_object_get_int64(a);

		/* INT64_MAX may stand for a larger uint64: let sc_json_equal
		 * look. */
		if (x != INT64_MAX) {
			*lb += sc_text_int_size(x);
			return x == json_object_get_int64(b);
		}
	}
	*lb += 1; /* other numbers' digits are not counted: a bound */
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
	for (;; x += 2, y += 2) { /* two bytes a turn */
		if (x[0] != y[0])
			return 0;
		if (x[0] == '\0')
			return (size_t)(x - k) + 1;
		if (x[1] != y[1])
			return 0;
		if (x[1] == '\0')
			return (size_t)(x - k) + 2;
	}
}

static int same(json_object *a, json_object *b, size_t depth, size_t *lb);

/* same() of the arrays a and b. */
static int same_array(json_object *a, json_object *b, size_t depth,
		      size_t *lb)
{
	struct array_list *xa = json_object_get_array(a);
	struct array_list *xb = json_object_get_array(b);
	size_t i, n = xa->length;
	int r;

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

/*
 * Returns 1 when a equals b (as sc_json_equal says), 0 when not, -1 when
 * finding out would go deeper than SC_JSON_MAX_DEPTH (a and b lie at
 * depth).  Walks members side by side while keys come in the same order.
 * When 1, what it added to *lb is at most b's compact size (a bound
 * found on the way, which spares measuring b where it is enough).
 */
static int same(json_object *a, json_object *b, size_t depth, size_t *lb)
{
	json_type ta, tb;
	json_object *va, *vb;
	struct lh_table *t, *u;
	struct lh_entry *ea, *eb;
	size_t n, k, acc;
	int r;

	if (a == b) /* one object (shared by both documents): equal */
		return 1;
	if (depth > SC_JSON_MAX_DEPTH)
		return -1;
	/* Objects first (rows: the common case), with one call each. */
	t = json_object_get_object(a); /* NULL unless an object */
	u = json_object_get_object(b);
	if (t == NULL || u == NULL) {
		if (t != u)
			return 0; /* an object and something else */
		ta = json_object_get_type(a);
		tb = json_object_get_type(b);
		if (ta != json_type_array || tb != json_type_array)
			return same_typed(a, b, ta, tb, lb);
		return same_array(a, b, depth, lb);
	}
	n = (size_t)t->count;
	if (n != (size_t)u->count)
		return 0;
	acc = n > 0 ? 1 + 2 * n : 2; /* braces, colons, commas */
	ea = lh_table_head(t);
	eb = lh_table_head(u);
	if (n > 0 && depth >= SC_JSON_MAX_DEPTH)
		return -1;
	for (; ea != NULL; ea = lh_entry_next(ea)) {
		k = eb != NULL ? same_key(lh_entry_k(eb), lh_entry_k(ea)) : 0;
		acc += k + 1; /* the key's quotes, at least */
		if (k == 0) {
			eb = lh_table_lookup_entry(u, lh_entry_k(ea));
			if (eb == NULL)
				return 0;
		}
		va = (json_object *)lh_entry_v(ea);
		vb = (json_object *)lh_entry_v(eb);
		ta = json_object_get_type(va);
		tb = json_object_get_type(vb);
		/* Scalar members here, without another call. */
		if (ta == tb &&
		    (ta == json_type_object || ta == json_type_array))
			r = same(va, vb, depth + 1, &acc);
		else
			r = same_typed(va, vb, ta, tb, &acc);
		if (r != 1)
			return r;
		eb = lh_entry_next(eb);
	}
	*lb += acc;
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
		rc = emit_value(d, in_a ? SC_OP_REPLACE : SC_OP_ADD, b,
				s->cost.depth + 1);
	else
		rc = diff_value(d, a, b, s->cost.depth + 1);
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

/* The array being diffed: a becomes b; pos is the index the next op
 * names, len the array's length at that point of the patch. */
struct arr {
	void **va, **vb; /* a's and b's elements */
	size_t pos, len;
};

/* same(), as the array search asks: 1 when a equals b. */
static int equal(json_object *a, json_object *b, size_t depth)
{
	size_t lb = 0;

	return same(a, b, depth, &lb);
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

/*
 * The unequal elements ea and eb, at depth, at the current path, when
 * they are objects with the same keys in the same order, all holding
 * scalars, of which exactly one differs under a non-empty key that
 * needs no escaping (a field of a row edited): the one op diff_value
 * would make for them (a replace of that member, never longer than a
 * replace of the element), without a scope.  *done says whether they
 * were such; when not, nothing was made.
 */
static sc_err one_field(struct diff *d, json_object *ea, json_object *eb,
			size_t depth, int *done)
{
	struct lh_table *ta = json_object_get_object(ea);
	struct lh_table *tb = json_object_get_object(eb);
	struct lh_entry *x, *y, *changed = NULL;
	json_object *vx, *vy;
	json_type t1, t2;
	size_t lb, mark = d->path.len;
	const char *key;
	sc_err rc;

	*done = 0;
	if (ta == NULL || tb == NULL || ta->count != tb->count ||
	    depth + 1 > SC_JSON_MAX_DEPTH)
		return SC_OK;
	for (x = lh_table_head(ta), y = lh_table_head(tb);
	     x != NULL && y != NULL; x = lh_entry_next(x), y = lh_entry_next(y)) {
		if (same_key(lh_entry_k(x), lh_entry_k(y)) == 0)
			return SC_OK;
		vx = (json_object *)lh_entry_v(x);
		vy = (json_object *)lh_entry_v(y);
		t1 = json_object_get_type(vx);
		t2 = json_object_get_type(vy);
		if (t1 == json_type_object || t1 == json_type_array ||
		    t2 == json_type_object || t2 == json_type_array)
			return SC_OK;
		lb = 0;
		if (!same_typed(vx, vy, t1, t2, &lb)) {
			if (changed != NULL)
				return SC_OK;
			changed = y;
		}
	}
	if (changed == NULL)
		return SC_OK;
	key = lh_entry_k(changed);
	if (key[0] == '\0' || strpbrk(key, "/~") != NULL)
		return SC_OK;
	*done = 1;
	rc = sc_pointer_buf_push(&d->path, key, strlen(key));
	if (rc == SC_OK)
		rc = emit_value(d, SC_OP_REPLACE, (json_object *)lh_entry_v(changed),
				depth + 1);
	sc_pointer_buf_truncate(&d->path, mark);
	return rc;
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
		eq = same(ea, eb, s->cost.depth + 1, &lb);
	if (eq < 0)
		return SC_ERR_TOO_DEEP;
	if (!eq) {
		int done = 0;

		rc = push_index(d, r);
		if (rc == SC_OK)
			rc = one_field(d, ea, eb, s->cost.depth + 1, &done);
		if (rc == SC_OK && !done)
			rc = diff_value(d, ea, eb, s->cost.depth + 1);
		sc_pointer_buf_truncate(&d->path, mark);
		/* eb replaced whole: its size is known now */
		if (d->known.o == eb && eb != NULL &&
		    sc_diffsize_scope_sizes(&s->cost) != NULL)
			s->cost.sizes[y] = d->known.size;
		if (rc == SC_OK)
			rc = scope_check(d, s);
	}
	r->pos++;
	return rc;
}

/*
 * What diffing the unequal elements a and b (at index paths whose JSON
 * string is at least ps bytes) costs at least: the cheapest op on them
 * (a removal inside) in general, but a replace of a member where a
 * member both objects have (found walking their members side by side
 * while the keys come in the same order) holds unequal scalars, as when
 * every row of a table changed: no other op mends that member, and
 * replacing the whole element costs more.
 */
static size_t unequal_lb(json_object *a, json_object *b, size_t ps)
{
	size_t base = SC_DIFFOPS_REM_SIZE + ps + 1, lb = 0, k;
	struct lh_entry *ea, *eb;
	json_type ta, tb;

	if (!json_object_is_type(a, json_type_object) ||
	    !json_object_is_type(b, json_type_object))
		return base;
	ea = lh_table_head(json_object_get_object(a));
	eb = lh_table_head(json_object_get_object(b));
	for (; ea != NULL && eb != NULL;
	     ea = lh_entry_next(ea), eb = lh_entry_next(eb)) {
		k = same_key(lh_entry_k(ea), lh_entry_k(eb));
		if (k == 0)
			break;
		ta = json_object_get_type((json_object *)lh_entry_v(ea));
		tb = json_object_get_type((json_object *)lh_entry_v(eb));
		if ((ta == json_type_object || ta == json_type_array) &&
		    ta == tb)
			continue; /* diffed inside: nothing known */
		lb = 0;
		if (!same_typed((json_object *)lh_entry_v(ea),
				(json_object *)lh_entry_v(eb), ta, tb, &lb)) {
			/* "/k" (k - 1 bytes of key, at least) after the
			 * element's own path; lb is at most b's value size */
			lb = 0;
			same_typed((json_object *)lh_entry_v(eb),
				   (json_object *)lh_entry_v(eb), tb, tb, &lb);
			return SC_DIFFOPS_REP_SIZE + ps + k + lb;
		}
	}
	return base;
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
	size_t ps = path_size(d), rem_lb = SC_DIFFOPS_REM_SIZE + ps + 2;
	size_t add_lb = SC_DIFFOPS_ADD_SIZE + ps + 3;
	size_t lb, bound = 0, *lbs = NULL;
	unsigned char *eq = NULL;
	sc_err rc = SC_OK;
	int e;

	/* per pair: whether equal, and what its ops cost at least */
	if (k > 0 && (lbs = sc_malloc(k * (sizeof(*lbs) + 1))) == NULL)
		return SC_ERR_NOMEM;
	eq = (unsigned char *)(lbs + k);
	for (t = 0; t < k; t++) {
		lb = 0;
		e = same((json_object *)r->va[x + t],
			 (json_object *)r->vb[y + t], s->cost.depth + 1, &lb);
		if (e < 0) {
			rc = SC_ERR_TOO_DEEP;
			goto out;
		}
		eq[t] = (unsigned char)e;
		bound += e ? lb : 0;
		if (e)
			continue;
		lbs[t] = unequal_lb((json_object *)r->va[x + t],
				    (json_object *)r->vb[y + t], ps + 2);
		s->lb += lbs[t];
	}
	if (bound > 0)
		sc_diffsize_scope_bound(&s->cost, bound);
	s->lb += (p - k) * rem_lb + (q - k) * add_lb;
	if (s->lb > 0)
		rc = scope_check(d, s);
	for (t = 0; t < k && rc == SC_OK && !s->give_up; t++) {
		if (eq[t]) { /* most pairs: nothing to do, no call */
			r->pos++;
			continue;
		}
		s->lb -= lbs[t];
		rc = diff_pair(d, s, r, x + t, y + t, 0);
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
			rc = sc_diffsize_elem(&d->known, &s->cost, y + t,
					      &vsize);
		if (rc == SC_OK)
			sc_diffsize_scope_bound(&s->cost, vsize);
		if (rc == SC_OK)
			rc = emit_sized(d, SC_OP_ADD, (json_object *)r->vb[y + t],
					vsize);
		sc_pointer_buf_truncate(&d->path, mark);
		r->pos++;
		r->len++;
		if (rc == SC_OK)
			rc = scope_check(d, s);
	}
out:
	sc_free(lbs);
	return rc;
}

/* Arrays of this many elements or more keep their elements' sizes. */
#define ARRAY_SIZES_MIN 16

static sc_err diff_array(struct diff *d, struct scope *s, json_object *a,
			 json_object *b)
{
	size_t na = json_object_array_length(a);
	size_t nb = json_object_array_length(b);
	size_t head = 0, tail = 0, n, m, i, px, py, count = 0;
	size_t bound = 0, elb = 0;
	struct arr r = {0};
	struct sc_diffarray_run *sn = NULL;
	sc_err rc = SC_OK;
	int eq = 0, by_hash = 0;

	r.va = json_object_get_array(a)->array;
	r.vb = json_object_get_array(b)->array;
	r.len = na;

	/* The common head and tail, whose sizes are bounded on the way. */
	while (head < na && head < nb) {
		bound = 0;
		eq = same((json_object *)r.va[head], (json_object *)r.vb[head],
			  s->cost.depth + 1, &bound);
		if (eq != 1)
			break;
		head++;
		elb += bound;
	}
	while (eq >= 0 && tail < na - head && tail < nb - head) {
		bound = 0;
		eq = same((json_object *)r.va[na - 1 - tail],
			  (json_object *)r.vb[nb - 1 - tail], s->cost.depth + 1,
			  &bound);
		if (eq != 1)
			break;
		tail++;
		elb += bound;
	}
	if (eq < 0)
		return SC_ERR_TOO_DEEP;
	if (elb > 0)
		sc_diffsize_scope_bound(&s->cost, elb);
	n = na - head - tail;
	m = nb - head - tail;
	s->cost.may_keep_sizes = nb >= ARRAY_SIZES_MIN;
	r.pos = head;
	if (n > 0 && m > 0)
		rc = sc_diffarray_search(a, b, head, n, m, s->cost.depth + 1,
					 equal, &sn, &count, &by_hash);
	if (rc != SC_OK)
		goto out;
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
		if (!by_hash) /* matched as equal: nothing to do */
			r.pos += sn[i].len;
		for (t = 0;
		     by_hash && t < sn[i].len && rc == SC_OK && !s->give_up;
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

	if (a == b) /* one object, shared by both documents */
		return SC_OK;
	if (depth > SC_JSON_MAX_DEPTH)
		return SC_ERR_TOO_DEEP;
	if (!same_kind(a, b) || !is_container(a)) {
		if (same_scalar(a, b))
			return SC_OK;
		return emit_value(d, SC_OP_REPLACE, b, depth);
	}
	scope_init(&s, d, b, depth);
	if (json_object_is_type(a, json_type_object))
		rc = diff_object(d, &s, a, b);
	else
		rc = diff_array(d, &s, a, b);
	if (rc == SC_OK)
		rc = scope_end(d, &s);
	sc_free(s.cost.sizes);
	d->top = s.parent;
	return rc;
}

/* Frees what a diff collected and returns rc, with err filled. */
static sc_err done(struct diff *d, sc_err rc, sc_error *err)
{
	sc_pointer_buf_free(&d->path);
	sc_diffops_free(&d->ops);
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
	case SC_ERR_INVALID:
		return sc_error_set(err, rc,
				    "the patch text differs from its measured "
				    "size");
	default:
		return sc_error_set(err, SC_ERR_NOMEM, "out of memory");
	}
}

sc_err sc_diff(json_object *from, json_object *to, json_object **out,
	       sc_error *err)
{
	struct diff d = {0};
	sc_err rc;

	sc_pointer_buf_init(&d.path);
	rc = diff_value(&d, from, to, 1);
	if (rc == SC_OK)
		rc = sc_diffops_build(&d.ops, out);
	return done(&d, rc, err);
}

sc_err sc_diff_text(json_object *from, json_object *to, size_t cap,
		    char **text, size_t *len, size_t *nops, sc_error *err)
{
	struct diff d = {0};
	sc_err rc;

	sc_pointer_buf_init(&d.path);
	rc = diff_value(&d, from, to, 1);
	if (rc == SC_OK)
		rc = sc_diffops_text(&d.ops, cap, text, len);
	if (rc == SC_OK && nops != NULL)
		*nops = d.ops.n;
	return done(&d, rc, err);
}
