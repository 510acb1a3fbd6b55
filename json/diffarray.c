/*
 * json/diffarray.c — which elements of one array stay, in order, in
 * another: Myers' O((N+M)D) search for the shortest edit script, bounded
 * at DIFF_MAX_EDITS edits, on structural hashes of the elements (or, on
 * arrays whose elements mostly match by position, a short one on the
 * elements themselves).  Where every element differs, as when all rows
 * are new, may_match() sees the search fail before it starts.
 *
 * Hashes look no deeper than HASH_LEVELS below an element, so no input
 * can overflow the stack.
 */
#include "json/diffarray.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "common/hash.h"
#include "common/alloc.h"
#include "json/value.h"

/* Myers' search on one array gives up past this many edits (elements
 * inserted plus elements removed) and falls back to a positional diff.
 * Its cost is O((N+M) * DIFF_MAX_EDITS) at worst. */
#define DIFF_MAX_EDITS 128
/* ... and this many on arrays whose elements mostly match by position. */
#define DIFF_ALIGNED_EDITS 16

/* Levels below an array element that its hash looks at.  Deeper content
 * only makes unequal elements hash alike more often, which costs a
 * larger patch, never a wrong one (matched elements are diffed). */
#define HASH_LEVELS 32

/*
 * A hash of the scalar o of type t consistent with sc_json_equal: a
 * number is hashed by its value as an integer where it is one (1 and 1.0
 * alike, -0.0 as 0), else by its double's bits.  Cheaper than
 * sc_json_hash (no call per value but json-c's accessors), and only ever
 * compared with itself: hashes live within one search.
 */
static uint64_t scalar_hash(json_object *o, json_type t)
{
	uint64_t u;
	int64_t i;
	double d;

	switch (t) {
	case json_type_int:
		i = json_object_get_int64(o);
		/* INT64_MAX may stand for a larger uint64 */
		u = i < INT64_MAX ? (uint64_t)i : json_object_get_uint64(o);
		return sc_hash_mix(u ^ 0x1ee7ULL);
	case json_type_double:
		d = json_object_get_double(o);
		if (d == trunc(d) && d >= -9223372036854775808.0 &&
		    d < 18446744073709551616.0) {
			u = d < 0 ? (uint64_t)(int64_t)d : (uint64_t)d;
			return sc_hash_mix(u ^ 0x1ee7ULL);
		}
		memcpy(&u, &d, sizeof(u));
		return sc_hash_mix(u ^ 0xd0b1eULL);
	case json_type_string:
		return sc_hash_bytes(json_object_get_string(o),
				     (size_t)json_object_get_string_len(o),
				     0x57a1e5ULL);
	case json_type_boolean:
		return json_object_get_boolean(o) ? 0x7e7e7e7eULL : 0xfa15eULL;
	default:
		return 0x9011ULL;
	}
}

/* A structural hash consistent with sc_json_equal (members in any
 * order), bounded to levels levels. */
static uint64_t hash_value(json_object *o, int levels)
{
	uint64_t h, acc = 0;
	size_t i, n;

	switch (json_object_get_type(o)) {
	case json_type_array:
		n = json_object_array_length(o);
		h = sc_hash_mix(n ^ 0xa11a7ULL);
		for (i = 0; i < n && levels > 0; i++)
			h = sc_hash_mix((h ^ hash_value(json_object_array_get_idx(o, i),
						levels - 1)) *
				SC_HASH_K);
		return h;
	case json_type_object:
		n = (size_t)json_object_object_length(o);
		json_object_object_foreach(o, key, val)
		{
			if (levels <= 0)
				break;
			h = sc_hash_str(key);
			acc += sc_hash_mix(h ^ hash_value(val, levels - 1) * SC_HASH_K);
		}
		return sc_hash_mix(acc ^ sc_hash_mix(n ^ 0x0b1ec7ULL));
	default:
		return scalar_hash(o, json_object_get_type(o));
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

/* One search: a[lo..] becomes b[lo..]. */
struct search {
	json_object *a, *b;
	void **va, **vb;   /* their elements */
	uint64_t *ha, *hb; /* lazily computed hashes of a[lo..], b[lo..] */
	size_t lo;	   /* the common head's length */
	size_t depth;	   /* of the elements */
	sc_diffarray_eq eq;
};

/* Whether a[lo + x] and b[lo + y] match in the search: equal hashes, or
 * (without hashes, for a short search) equal elements. */
static int match(struct search *r, size_t x, size_t y)
{
	if (r->ha == NULL)
		return r->eq((json_object *)r->va[r->lo + x],
			     (json_object *)r->vb[r->lo + y], r->depth) == 1;
	return elem_hash(r->a, r->ha, r->lo, x) ==
	       elem_hash(r->b, r->hb, r->lo, y);
}

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
static sc_err myers(struct search *r, long n, long m, long max,
		    struct sc_diffarray_run **snakes, size_t *count)
{
	long *trace = NULL, *t, *v = NULL, *pv, d, k, x, y;
	size_t cap = 0;
	struct sc_diffarray_run *sn = NULL;
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
		sn[d] = (struct sc_diffarray_run){(size_t)sx, (size_t)(sx - k),
						  (size_t)(x - sx)};
		if (down) {
			x = px;
			y = px - k - 1;
		} else {
			x = px - 1;
			y = px - 1 - k + 1;
		}
	}
	sn[0] = (struct sc_diffarray_run){0, 0, (size_t)x};
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
static int may_match(struct search *r, size_t n, size_t m, size_t max)
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
static int aligned(const struct search *r, size_t n, size_t m)
{
	size_t i, at, equal = 0;

	if (n != m || n < 4 * ALIGN_SAMPLES)
		return 0;
	for (i = 0; i < ALIGN_SAMPLES; i++) {
		at = r->lo + 1 + i * (n - 2) / ALIGN_SAMPLES;
		equal +=
		    r->eq(json_object_array_get_idx(r->a, at),
			  json_object_array_get_idx(r->b, at), r->depth) == 1;
	}
	return equal > ALIGN_SAMPLES / 2;
}

sc_err sc_diffarray_search(json_object *a, json_object *b, size_t lo, size_t n,
			   size_t m, size_t depth, sc_diffarray_eq eq,
			   struct sc_diffarray_run **runs, size_t *count,
			   int *by_hash)
{
	struct search r = {0};
	size_t max = DIFF_ALIGNED_EDITS;
	sc_err rc = SC_OK;

	*runs = NULL;
	*count = 0;
	*by_hash = 0;
	r.a = a;
	r.b = b;
	r.va = json_object_get_array(a)->array;
	r.vb = json_object_get_array(b)->array;
	r.lo = lo;
	r.depth = depth;
	r.eq = eq;
	/* Aligned arrays get a short search on the elements themselves: it
	 * still finds a shift or two, gives up soon where there is none, and
	 * hashes nothing.  Others get a long one on hashes. */
	if (!aligned(&r, n, m)) {
		max = DIFF_MAX_EDITS;
		r.ha = sc_calloc(n, sizeof(*r.ha));
		r.hb = sc_calloc(m, sizeof(*r.hb));
		if (r.ha == NULL || r.hb == NULL) {
			rc = SC_ERR_NOMEM;
			goto out;
		}
	}
	*by_hash = r.ha != NULL;
	if (r.ha == NULL || may_match(&r, n, m, max))
		rc =
		    myers(&r, (long)n, (long)m,
			  n + m < max ? (long)(n + m) : (long)max, runs, count);
out:
	sc_free(r.hb);
	sc_free(r.ha);
	return rc;
}
