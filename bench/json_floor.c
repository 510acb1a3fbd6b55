/*
 * bench/json_floor.c — what a diff pays when its new side is the
 * handler's json-c document, beside prototypes of two other designs, on
 * json_bench's state transitions.  Prints figures; asserts nothing.
 *
 *	json_floor
 *
 * Any such diff reads all of the new document through json-c's API, and
 * a text diff that replaces a value writes it: "walk new" and "write"
 * time those two alone ("write flat": the same text written from a flat
 * document, see below).  A diff whose old side is a json-c document too
 * (ours) reads all of both where they are equal: "walk both" times the
 * two walks alone.  "flat+json-c" and "flat" time two other designs of
 * the diff with prototypes.  In the first, the old state is kept as a
 * flat document (contiguous members and elements, keys shared, string
 * bytes in one block) and compared with the new json-c document: no API
 * change (a store would keep the flat copy of each state up to date, so
 * making it is not timed).  In the second, both documents are flat:
 * handlers would build a document type of ours instead of json-c's, an
 * API change.  The prototypes handle containers of the same shape only
 * (no array search, no weighing of a replace against ops), so they run
 * on the pairs where that is all a diff needs, and write exactly
 * sc_diff_text's bytes ("check").  They show what each representation
 * allows, not a finished diff.  bench/json.sh runs this after
 * fast-json-patch: its compare time divided by these says how far each
 * design could go.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "json/diff.h"
#include "json/text.h"
#include "json/value.h"

#include "bench/json_pairs.h"

enum { FL_NULL, FL_BOOL, FL_INT, FL_DOUBLE, FL_STRING, FL_ARRAY, FL_OBJECT };

struct fl_member;

struct fl_value {
	uint32_t type, n; /* n: bytes of a string, size of a container */
	union {
		int64_t i;
		double d;
		const char *s;
		struct fl_value *a;
		struct fl_member *m;
	} u;
};

struct fl_member {
	const char *key; /* interned: the same pointer in every document */
	size_t len;
	struct fl_value v;
};

#define FL_KEYS 32

/* The interned keys of every flat document (the bench's have three). */
struct fl_keys {
	char *k[FL_KEYS];
	size_t n;
};

/* A flat document: values, members and string bytes in three blocks
 * sized by a first pass. */
struct flat {
	struct fl_value root, *v;
	struct fl_member *m;
	char *s;
	size_t nv, nm, ns;
};

static void fl_count(json_object *o, struct flat *f)
{
	size_t i, n;

	switch (json_object_get_type(o)) {
	case json_type_string:
		f->ns += (size_t)json_object_get_string_len(o);
		break;
	case json_type_array:
		n = json_object_array_length(o);
		f->nv += n;
		for (i = 0; i < n; i++)
			fl_count(json_object_array_get_idx(o, i), f);
		break;
	case json_type_object: {
		json_object_object_foreach(o, k, val)
		{
			(void)k;
			f->nm++;
			fl_count(val, f);
		}
		break;
	}
	default:
		break;
	}
}

static const char *fl_intern(struct fl_keys *keys, const char *k)
{
	size_t i;

	for (i = 0; i < keys->n; i++)
		if (strcmp(keys->k[i], k) == 0)
			return keys->k[i];
	if (keys->n == FL_KEYS || (keys->k[i] = strdup(k)) == NULL) {
		fprintf(stderr, "json_floor: too many keys\n");
		exit(1);
	}
	return keys->k[keys->n++];
}

static void fl_fill(json_object *o, struct fl_value *v, struct flat *f,
		    struct fl_keys *keys)
{
	size_t i = 0;

	v->n = 0;
	switch (json_object_get_type(o)) {
	case json_type_null:
		v->type = FL_NULL;
		break;
	case json_type_boolean:
		v->type = FL_BOOL;
		v->u.i = json_object_get_boolean(o);
		break;
	case json_type_int:
		v->type = FL_INT;
		v->u.i = json_object_get_int64(o);
		break;
	case json_type_double:
		v->type = FL_DOUBLE;
		v->u.d = json_object_get_double(o);
		break;
	case json_type_string:
		v->type = FL_STRING;
		v->n = (uint32_t)json_object_get_string_len(o);
		memcpy(f->s + f->ns, json_object_get_string(o), v->n);
		v->u.s = f->s + f->ns;
		f->ns += v->n;
		break;
	case json_type_array:
		v->type = FL_ARRAY;
		v->n = (uint32_t)json_object_array_length(o);
		v->u.a = f->v + f->nv;
		f->nv += v->n;
		for (i = 0; i < v->n; i++)
			fl_fill(json_object_array_get_idx(o, i), &v->u.a[i], f,
				keys);
		break;
	case json_type_object: {
		v->type = FL_OBJECT;
		v->n = (uint32_t)json_object_object_length(o);
		v->u.m = f->m + f->nm;
		f->nm += v->n;
		json_object_object_foreach(o, k, val)
		{
			v->u.m[i].key = fl_intern(keys, k);
			v->u.m[i].len = strlen(k);
			fl_fill(val, &v->u.m[i].v, f, keys);
			i++;
		}
		break;
	}
	}
}

/* The flat copy of o (not timed: a store would keep it up to date). */
static void fl_make(json_object *o, struct flat *f, struct fl_keys *keys)
{
	memset(f, 0, sizeof(*f));
	fl_count(o, f);
	f->v = malloc((f->nv + 1) * sizeof(*f->v));
	f->m = malloc((f->nm + 1) * sizeof(*f->m));
	f->s = malloc(f->ns + 1);
	if (f->v == NULL || f->m == NULL || f->s == NULL) {
		fprintf(stderr, "json_floor: out of memory\n");
		exit(1);
	}
	f->nv = f->nm = f->ns = 0;
	fl_fill(o, &f->root, f, keys);
}

static void fl_free(struct flat *f)
{
	free(f->v);
	free(f->m);
	free(f->s);
}

/* What a prototype diff writes to: the ops' text, the path of the value
 * it is at, and whether an op was written yet. */
struct fl_out {
	struct sc_text_out t;
	char path[4096];
	size_t plen;
	int ops;
};

/* Appends "/" and key, escaped as a JSON Pointer token, to the path. */
static void fl_push_key(struct fl_out *o, const char *k, size_t n)
{
	size_t i;

	o->path[o->plen++] = '/';
	for (i = 0; i < n && o->plen + 2 < sizeof(o->path); i++) {
		if (k[i] == '~' || k[i] == '/') {
			o->path[o->plen++] = '~';
			o->path[o->plen++] = k[i] == '~' ? '0' : '1';
		} else {
			o->path[o->plen++] = k[i];
		}
	}
}

static void fl_push_index(struct fl_out *o, size_t i)
{
	o->path[o->plen++] = '/';
	o->plen += sc_buf_i64(o->path + o->plen, (int64_t)i);
}

/* Writes an op replacing the value at the path, up to its value. */
static void fl_op(struct fl_out *o)
{
	static const char op[] = "{\"op\":\"replace\",\"path\":";

	sc_text_put(&o->t, o->ops++ ? "," : "[", 1);
	sc_text_put(&o->t, op, sizeof(op) - 1);
	sc_text_put_string(&o->t, o->path, o->plen);
	sc_text_put(&o->t, ",\"value\":", 9);
}

/* 1 when the flat value a equals the json-c value b. */
static int fl_same_jc(const struct fl_value *a, json_object *b)
{
	struct lh_entry *e;
	size_t i;

	switch (json_object_get_type(b)) {
	case json_type_null:
		return a->type == FL_NULL;
	case json_type_boolean:
		return a->type == FL_BOOL &&
		       a->u.i == json_object_get_boolean(b);
	case json_type_int:
		return a->type == FL_INT && a->u.i == json_object_get_int64(b);
	case json_type_double:
		return a->type == FL_DOUBLE &&
		       a->u.d == json_object_get_double(b);
	case json_type_string:
		return a->type == FL_STRING &&
		       a->n == (uint32_t)json_object_get_string_len(b) &&
		       memcmp(a->u.s, json_object_get_string(b), a->n) == 0;
	case json_type_array:
		if (a->type != FL_ARRAY || a->n != json_object_array_length(b))
			return 0;
		for (i = 0; i < a->n; i++)
			if (!fl_same_jc(&a->u.a[i],
					json_object_array_get_idx(b, i)))
				return 0;
		return 1;
	case json_type_object:
		if (a->type != FL_OBJECT ||
		    a->n != (uint32_t)json_object_object_length(b))
			return 0;
		e = lh_table_head(json_object_get_object(b));
		for (i = 0; e != NULL; e = lh_entry_next(e), i++)
			if (strncmp(a->u.m[i].key, lh_entry_k(e),
				    a->u.m[i].len + 1) != 0 ||
			    !fl_same_jc(&a->u.m[i].v,
					(json_object *)lh_entry_v(e)))
				return 0;
		return 1;
	}
	return 0;
}

/* Writes the ops that turn the flat a into the json-c b (of a's shape). */
static void fl_diff_jc(const struct fl_value *a, json_object *b,
		       struct fl_out *o, size_t depth)
{
	struct lh_entry *e;
	size_t i, mark = o->plen;

	if (a->type == FL_OBJECT && json_object_is_type(b, json_type_object) &&
	    a->n == (uint32_t)json_object_object_length(b)) {
		e = lh_table_head(json_object_get_object(b));
		for (i = 0; e != NULL; e = lh_entry_next(e), i++)
			if (strcmp(a->u.m[i].key, lh_entry_k(e)) != 0)
				goto whole;
		e = lh_table_head(json_object_get_object(b));
		for (i = 0; e != NULL; e = lh_entry_next(e), i++) {
			if (fl_same_jc(&a->u.m[i].v,
				       (json_object *)lh_entry_v(e)))
				continue;
			fl_push_key(o, a->u.m[i].key, a->u.m[i].len);
			fl_diff_jc(&a->u.m[i].v, (json_object *)lh_entry_v(e),
				   o, depth + 1);
			o->plen = mark;
		}
		return;
	}
	if (a->type == FL_ARRAY && json_object_is_type(b, json_type_array) &&
	    a->n == json_object_array_length(b)) {
		for (i = 0; i < a->n; i++) {
			json_object *x = json_object_array_get_idx(b, i);

			if (fl_same_jc(&a->u.a[i], x))
				continue;
			fl_push_index(o, i);
			fl_diff_jc(&a->u.a[i], x, o, depth + 1);
			o->plen = mark;
		}
		return;
	}
whole:
	fl_op(o);
	sc_text_put_value(&o->t, b, depth);
	sc_text_put(&o->t, "}", 1);
}

/* 1 when the flat values a and b are equal. */
static int fl_same(const struct fl_value *a, const struct fl_value *b)
{
	uint32_t i;

	if (a->type != b->type || a->n != b->n)
		return 0;
	switch (a->type) {
	case FL_BOOL:
	case FL_INT:
		return a->u.i == b->u.i;
	case FL_DOUBLE:
		return a->u.d == b->u.d;
	case FL_STRING:
		return memcmp(a->u.s, b->u.s, a->n) == 0;
	case FL_ARRAY:
		for (i = 0; i < a->n; i++)
			if (!fl_same(&a->u.a[i], &b->u.a[i]))
				return 0;
		return 1;
	case FL_OBJECT:
		for (i = 0; i < a->n; i++)
			if (a->u.m[i].key != b->u.m[i].key ||
			    !fl_same(&a->u.m[i].v, &b->u.m[i].v))
				return 0;
		return 1;
	}
	return 1;
}

/* Writes the flat value v as compact JSON text. */
static void fl_put(struct fl_out *o, const struct fl_value *v)
{
	char num[SC_BUF_I64_MAX];
	uint32_t i;

	switch (v->type) {
	case FL_NULL:
		sc_text_put(&o->t, "null", 4);
		break;
	case FL_BOOL:
		sc_text_put(&o->t, v->u.i ? "true" : "false", v->u.i ? 4 : 5);
		break;
	case FL_INT:
		sc_text_put(&o->t, num, sc_buf_i64(num, v->u.i));
		break;
	case FL_DOUBLE: /* the bench's documents have none */
		sc_text_put(&o->t, "0", 1);
		break;
	case FL_STRING:
		sc_text_put_string(&o->t, v->u.s, v->n);
		break;
	case FL_ARRAY:
		sc_text_put(&o->t, "[", 1);
		for (i = 0; i < v->n; i++) {
			if (i > 0)
				sc_text_put(&o->t, ",", 1);
			fl_put(o, &v->u.a[i]);
		}
		sc_text_put(&o->t, "]", 1);
		break;
	case FL_OBJECT:
		sc_text_put(&o->t, "{", 1);
		for (i = 0; i < v->n; i++) {
			if (i > 0)
				sc_text_put(&o->t, ",", 1);
			sc_text_put_string(&o->t, v->u.m[i].key, v->u.m[i].len);
			sc_text_put(&o->t, ":", 1);
			fl_put(o, &v->u.m[i].v);
		}
		sc_text_put(&o->t, "}", 1);
		break;
	}
}

/* Writes the ops that turn the flat a into the flat b (of a's shape). */
static void fl_diff(const struct fl_value *a, const struct fl_value *b,
		    struct fl_out *o)
{
	size_t mark = o->plen;
	uint32_t i;

	if (a->type == FL_OBJECT && b->type == FL_OBJECT && a->n == b->n) {
		for (i = 0; i < a->n; i++)
			if (a->u.m[i].key != b->u.m[i].key)
				goto whole;
		for (i = 0; i < a->n; i++) {
			if (fl_same(&a->u.m[i].v, &b->u.m[i].v))
				continue;
			fl_push_key(o, a->u.m[i].key, a->u.m[i].len);
			fl_diff(&a->u.m[i].v, &b->u.m[i].v, o);
			o->plen = mark;
		}
		return;
	}
	if (a->type == FL_ARRAY && b->type == FL_ARRAY && a->n == b->n) {
		for (i = 0; i < a->n; i++) {
			if (fl_same(&a->u.a[i], &b->u.a[i]))
				continue;
			fl_push_index(o, i);
			fl_diff(&a->u.a[i], &b->u.a[i], o);
			o->plen = mark;
		}
		return;
	}
whole:
	fl_op(o);
	fl_put(o, b);
	sc_text_put(&o->t, "}", 1);
}

/* Every value of o read through json-c's API, nothing else done. */
static size_t fl_walk(json_object *o)
{
	size_t i, n, sum = 0;

	switch (json_object_get_type(o)) {
	case json_type_int:
		return (size_t)json_object_get_int64(o);
	case json_type_string:
		return (size_t)json_object_get_string_len(o) +
		       (unsigned char)json_object_get_string(o)[0];
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			sum += fl_walk(json_object_array_get_idx(o, i));
		return sum;
	case json_type_object: {
		json_object_object_foreach(o, k, val)
		{
			sum += (unsigned char)k[0] + fl_walk(val);
		}
		return sum;
	}
	default:
		return 1;
	}
}

/* What json_floor times, in its columns' order; the prototypes last. */
enum floor_way {
	W_OURS,	      /* sc_diff_text */
	W_WALK_BOTH,  /* both json-c documents read */
	W_WALK_NEW,   /* the new one read */
	W_WRITE,      /* the new one written as text */
	W_WRITE_FLAT, /* the same text from its flat copy */
	W_FLAT_JC,    /* prototype: old flat, new json-c */
	W_FLAT,	      /* prototype: both flat */
	FLOOR_WAYS
};

/* Runs way w of the floor bench on p once; returns its time.  The text
 * written (sc_diff_text's, the prototypes', the document's) is left in
 * b. */
static double floor_run(enum floor_way w, const struct pair *p,
			const struct flat *from, const struct flat *to,
			sc_buf *b, size_t *sink)
{
	struct moment start;
	struct fl_out *o = calloc(1, sizeof(*o));
	char *text = NULL;
	size_t len;
	double t;

	if (o == NULL)
		exit(1);
	b->len = 0;
	start = now();
	if (w == W_OURS) {
		if (sc_diff_text(p->from, p->to, SIZE_MAX, &text, &len, NULL,
				 NULL) != SC_OK)
			text = NULL;
	} else if (w == W_WALK_BOTH) {
		*sink += fl_walk(p->from) + fl_walk(p->to);
	} else if (w == W_WALK_NEW) {
		*sink += fl_walk(p->to);
	} else if (w == W_WRITE) {
		sc_text_write(b, p->to);
	} else if (w == W_WRITE_FLAT) {
		sc_text_out_init(&o->t, b);
		fl_put(o, &to->root);
		sc_text_out_done(&o->t);
	} else {
		sc_text_out_init(&o->t, b);
		if (w == W_FLAT_JC)
			fl_diff_jc(&from->root, p->to, o, 1);
		else
			fl_diff(&from->root, &to->root, o);
		sc_text_put(&o->t, o->ops ? "]" : "[]", o->ops ? 1 : 2);
		sc_text_out_done(&o->t);
	}
	t = since(start);
	if (text != NULL) /* ours, kept to check the prototypes against */
		sc_buf_add(b, text, len);
	sc_free(text);
	free(o);
	return t;
}

int main(void)
{
	struct pair p[NPAIRS];
	const int ops[] = {2, 3, 1}; /* update 10th, select, replace 1k */
	struct fl_keys keys = {{0}, 0};
	size_t i, sink = 0;
	int k, r, w, rc = 0;

	make_pairs(p);
	printf("%-20s %12s %9s %9s %9s %10s %12s %9s %s\n", "op",
	       "sc_diff_text", "walk both", "walk new", "write", "write flat",
	       "flat+json-c", "flat", "check");
	for (k = 0; k < 3; k++) {
		const struct pair *q = &p[ops[k]];
		int protos = ops[k] != 1; /* not replace 1k: see above */
		double best[FLOOR_WAYS];
		sc_buf ours = {0}, whole = {0}, b = {0};
		struct flat from, to;
		int ok = 1;

		fl_make(q->from, &from, &keys);
		fl_make(q->to, &to, &keys);
		for (w = 0; w < FLOOR_WAYS; w++)
			best[w] = 1e18;
		/* The ways take turns, run after run: a burst of load on a
		 * shared machine spoils none of them alone. */
		for (r = 0; r < MAX_RUNS; r++)
			for (w = 0; w < FLOOR_WAYS; w++) {
				double t;

				if (w >= W_FLAT_JC && !protos)
					continue;
				t = floor_run(w, q, &from, &to,
					      w == W_OURS    ? &ours
					      : w == W_WRITE ? &whole
							     : &b,
					      &sink);
				if (r > 0 && t < best[w])
					best[w] = t;
				if (w == W_WRITE_FLAT &&
				    r == 0) /* the same text */
					ok &= b.len == whole.len &&
					      memcmp(b.p, whole.p, b.len) == 0;
				if (w >= W_FLAT_JC && r == 0)
					ok &= b.len == ours.len &&
					      memcmp(b.p, ours.p, b.len) == 0;
			}
		printf("%-20s %12.1f %9.1f %9.1f %9.1f %10.1f", q->name,
		       best[W_OURS], best[W_WALK_BOTH], best[W_WALK_NEW],
		       best[W_WRITE], best[W_WRITE_FLAT]);
		if (protos)
			printf(" %12.1f %9.1f", best[W_FLAT_JC], best[W_FLAT]);
		else
			printf(" %12s %9s", "-", "-");
		printf(" %s\n", ok ? "ok" : "MISMATCH");
		rc |= !ok;
		sc_buf_free(&ours);
		sc_buf_free(&whole);
		sc_buf_free(&b);
		fl_free(&from);
		fl_free(&to);
	}
	for (i = 0; i < keys.n; i++)
		free(keys.k[i]);
	for (k = 0; k < NPAIRS; k++) {
		json_object_put(p[k].from);
		json_object_put(p[k].to);
	}
	printf("best of %d turns; us.  walk: every value of the documents "
	       "read through json-c (%zu); write: the new one written as "
	       "text.\n",
	       MAX_RUNS - 1, sink & 1);
	return rc;
}
