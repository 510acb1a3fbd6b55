/*
 * json/patch.c — RFC 6902 JSON Patch apply on json-c values.
 *
 * Atomic without copying the document: every op is decoded and checked
 * first (members, pointers, value depth), then applied one by one while
 * an undo log records each primitive change (a member set, added or
 * removed; an element set, inserted or removed; the root replaced) with
 * a reference to what it displaced.  On failure the log is replayed
 * backwards, which needs no allocation, so the document is restored
 * exactly, member order included.  The cost is that of what the ops
 * touch, never of the whole document.
 *
 * json-c 0.16 lacks two things we need, which we do on its public
 * structures: inserting into an array (0.17 has
 * json_object_array_insert_idx; we shift the slots of the array_list as
 * its own del_idx does) and putting a removed member back at its old
 * place in the member order (we relink the lh_table entry).
 */
#include "json/patch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "json/op.h"
#include "json/pointer.h"
#include "json/value.h"

struct op {
	sc_op kind;
	sc_pointer path;
	sc_pointer from;
	const char *path_text; /* borrowed from the patch, for messages */
	const char *from_text;
	json_object *value; /* borrowed from the patch */
};

enum undo_kind {
	U_ROOT,		/* the root was replaced; old is the former root */
	U_OBJ_SET,	/* member key of parent was old, now another value */
	U_OBJ_ADDED,	/* member key was added to parent */
	U_OBJ_REMOVED,	/* member removed: old, its key_copy and prev_key */
	U_ARR_SET,	/* element idx was old */
	U_ARR_INSERTED, /* element idx was inserted */
	U_ARR_REMOVED,	/* element idx (old) was removed */
};

struct undo {
	enum undo_kind kind;
	json_object *parent; /* borrowed: the document holds it */
	const char *key;     /* borrowed from a parsed pointer */
	char *key_copy;	     /* owned (strdup): undo gives it to json-c */
	char *prev_key;	     /* owned; NULL when the member was first */
	size_t idx;
	json_object *old; /* a reference the log holds */
};

struct apply {
	json_object *root;
	struct undo *log;
	size_t nlog;
	const struct op *op; /* the op being applied */
	long index;
	sc_error *err;
	int take; /* values added are the patch's own, not copies */
};

/* Fills err with "op INDEX (NAME): message" and the op index. */
static sc_err fail(struct apply *a, sc_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static sc_err fail(struct apply *a, sc_err code, const char *fmt, ...)
{
	char msg[SC_ERROR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (a->op != NULL)
		sc_error_set(a->err, code, "op %ld (%s): %s", a->index,
			     sc_op_name(a->op->kind), msg);
	else
		sc_error_set(a->err, code, "op %ld: %s", a->index, msg);
	if (a->err != NULL)
		a->err->index = a->index;
	return code;
}

/* The members of an op object that apply reads, found in one walk of
 * its members (no hash lookups); each is NULL when missing, but value,
 * which may be JSON null: has_value says whether it is there. */
struct op_members {
	json_object *op, *path, *from, *value;
	int has_value;
};

static void find_members(json_object *o, struct op_members *m)
{
	struct lh_entry *e;

	memset(m, 0, sizeof(*m));
	for (e = lh_table_head(json_object_get_object(o)); e != NULL;
	     e = lh_entry_next(e)) {
		const char *k = (const char *)lh_entry_k(e);
		json_object *v = (json_object *)lh_entry_v(e);

		if (strcmp(k, "op") == 0) {
			m->op = v;
		} else if (strcmp(k, "path") == 0) {
			m->path = v;
		} else if (strcmp(k, "value") == 0) {
			m->value = v;
			m->has_value = 1;
		} else if (strcmp(k, "from") == 0) {
			m->from = v;
		}
	}
}

/* Reads a string member m; SC_OK with *text, or an error naming it. */
static sc_err string_member(struct apply *a, json_object *m, const char *name,
			    const char **text, size_t *len)
{
	if (m == NULL)
		return fail(a, SC_ERR_PATCH, "no \"%s\" member", name);
	if (!json_object_is_type(m, json_type_string))
		return fail(a, SC_ERR_PATCH, "\"%s\" is %s, not a string", name,
			    json_type_to_name(json_object_get_type(m)));
	*text = json_object_get_string(m);
	*len = (size_t)json_object_get_string_len(m);
	return SC_OK;
}

static sc_err parse_pointer(struct apply *a, const char *name, const char *text,
			    size_t len, sc_pointer *p)
{
	sc_error perr;
	sc_err rc = sc_pointer_parse(p, text, len, &perr);

	if (rc != SC_OK)
		return fail(a, rc, "%s \"%.64s\": %s", name, text,
			    perr.message);
	return SC_OK;
}

/* Nesting of a document holding v at a location n tokens deep. */
static size_t depth_at(size_t n, json_object *v)
{
	if (json_object_is_type(v, json_type_array) ||
	    json_object_is_type(v, json_type_object))
		return n + sc_json_depth(v);
	return n == 0 ? 1 : n;
}

static sc_err check_depth(struct apply *a, const sc_pointer *p, json_object *v)
{
	if (depth_at(p->count, v) > SC_JSON_MAX_DEPTH)
		return fail(a, SC_ERR_TOO_DEEP,
			    "the result would nest deeper than %d levels",
			    SC_JSON_MAX_DEPTH);
	return SC_OK;
}

/* Decodes patch element o into op, checking everything that does not
 * depend on the document. */
static sc_err decode_op(struct apply *a, json_object *o, struct op *op)
{
	const char *name, *text;
	size_t len;
	sc_err rc;

	struct op_members m;

	if (!json_object_is_type(o, json_type_object))
		return fail(a, SC_ERR_PATCH, "an op is an object, not %s",
			    json_type_to_name(json_object_get_type(o)));
	find_members(o, &m);
	rc = string_member(a, m.op, "op", &name, &len);
	if (rc != SC_OK)
		return rc;
	if (sc_op_parse(name, len, &op->kind) != SC_OK)
		return fail(a, SC_ERR_PATCH, "unknown op \"%.32s\"", name);
	a->op = op;
	rc = string_member(a, m.path, "path", &text, &len);
	if (rc == SC_OK)
		rc = parse_pointer(a, "path", text, len, &op->path);
	if (rc != SC_OK)
		return rc;
	op->path_text = text;
	if (op->kind == SC_OP_MOVE || op->kind == SC_OP_COPY) {
		rc = string_member(a, m.from, "from", &text, &len);
		if (rc == SC_OK)
			rc = parse_pointer(a, "from", text, len, &op->from);
		if (rc != SC_OK)
			return rc;
		op->from_text = text;
		if (op->kind == SC_OP_MOVE &&
		    sc_pointer_is_ancestor(&op->from, &op->path))
			return fail(a, SC_ERR_PATCH,
				    "cannot move \"%.64s\" into its own child",
				    op->from_text);
	}
	if (op->kind == SC_OP_ADD || op->kind == SC_OP_REPLACE ||
	    op->kind == SC_OP_TEST) {
		if (!m.has_value)
			return fail(a, SC_ERR_PATCH, "no \"value\" member");
		op->value = m.value;
		if (op->kind != SC_OP_TEST) {
			rc = check_depth(a, &op->path, op->value);
			if (rc != SC_OK)
				return rc;
		}
	}
	return SC_OK;
}

/* The text of p, which is the current op's path or from. */
static const char *pointer_text(const struct apply *a, const sc_pointer *p)
{
	return p == &a->op->from ? a->op->from_text : a->op->path_text;
}

/* Resolves the first n tokens of p (what = "path" or "from"). */
static sc_err locate(struct apply *a, const char *what, const sc_pointer *p,
		     size_t n, json_object **out)
{
	sc_error perr;
	sc_err rc = sc_pointer_resolve(a->root, p, n, out, &perr);

	if (rc == SC_ERR_NOT_FOUND)
		rc = SC_ERR_PATCH;
	if (rc != SC_OK)
		return fail(a, rc, "%s \"%.64s\": %s", what, pointer_text(a, p),
			    perr.message);
	return SC_OK;
}

/* Resolves the parent of p's target, which must be a container. */
static sc_err locate_parent(struct apply *a, const char *what,
			    const sc_pointer *p, json_object **parent)
{
	sc_err rc = locate(a, what, p, p->count - 1, parent);

	if (rc == SC_OK && !json_object_is_type(*parent, json_type_object) &&
	    !json_object_is_type(*parent, json_type_array))
		rc = fail(a, SC_ERR_PATCH,
			  "%s \"%.64s\": the parent is %s, not an object or "
			  "array",
			  what, pointer_text(a, p),
			  json_type_to_name(json_object_get_type(*parent)));
	return rc;
}

/* Reads the last token of p as an index into arr: < length, or <=
 * length when append is allowed, where "-" is the length. */
static sc_err array_index(struct apply *a, const char *what, json_object *arr,
			  const sc_pointer *p, int append, size_t *idx)
{
	const char *tok = p->tokens[p->count - 1];
	size_t len = json_object_array_length(arr);

	if (append && strcmp(tok, "-") == 0) {
		*idx = len;
		return SC_OK;
	}
	if (strcmp(tok, "-") == 0)
		return fail(a, SC_ERR_PATCH,
			    "%s \"%.64s\": \"-\" names no element here", what,
			    pointer_text(a, p));
	if (sc_pointer_index(tok, idx) != SC_OK)
		return fail(a, SC_ERR_POINTER,
			    "%s \"%.64s\": \"%.32s\" is not an array index",
			    what, pointer_text(a, p), tok);
	if (*idx > len || (*idx == len && !append))
		return fail(a, SC_ERR_PATCH,
			    "%s \"%.64s\": index %zu is past the end of an "
			    "array of %zu",
			    what, pointer_text(a, p), *idx, len);
	return SC_OK;
}

/* Inserts v (a reference it takes on success) at idx <= length. */
static int array_insert(json_object *arr, size_t idx, json_object *v)
{
	size_t n = json_object_array_length(arr);
	struct array_list *al;

	if (json_object_array_add(arr, NULL) != 0)
		return -1;
	al = json_object_get_array(arr);
	memmove(al->array + idx + 1, al->array + idx,
		(n - idx) * sizeof(al->array[0]));
	al->array[idx] = v;
	return 0;
}

static struct undo *log_push(struct apply *a, enum undo_kind kind,
			     json_object *parent)
{
	struct undo *u = &a->log[a->nlog++];

	memset(u, 0, sizeof(*u));
	u->kind = kind;
	u->parent = parent;
	return u;
}

/*
 * Puts v at p, with add semantics (insert into arrays, set on objects)
 * or, when replace, replace semantics (the target must exist).  Takes
 * the reference v in every case.
 */
static sc_err put_value(struct apply *a, const sc_pointer *p, json_object *v,
			int replace)
{
	json_object *parent;
	struct lh_entry *e;
	const char *key;
	struct undo *u;
	size_t idx;
	sc_err rc;

	if (p->count == 0) {
		u = log_push(a, U_ROOT, NULL);
		u->old = a->root;
		a->root = v;
		return SC_OK;
	}
	rc = locate_parent(a, "path", p, &parent);
	if (rc != SC_OK)
		goto fail;
	key = p->tokens[p->count - 1];
	if (json_object_is_type(parent, json_type_object)) {
		e = lh_table_lookup_entry(json_object_get_object(parent), key);
		if (e != NULL) {
			/* An existing member is replaced in place (no alloc):
			 * the log takes the table's reference to the old
			 * value. */
			u = log_push(a, U_OBJ_SET, parent);
			u->key = key;
			u->old = (json_object *)lh_entry_v(e);
			lh_entry_set_val(e, v);
			return SC_OK;
		}
		if (replace) {
			rc = fail(a, SC_ERR_PATCH,
				  "path \"%.64s\": no member \"%.64s\" to "
				  "replace",
				  a->op->path_text, key);
			goto fail;
		}
		if (json_object_object_add(parent, key, v) != 0) {
			rc = fail(a, SC_ERR_NOMEM, "out of memory");
			goto fail;
		}
		u = log_push(a, U_OBJ_ADDED, parent);
		u->key = key;
		return SC_OK;
	}
	rc = array_index(a, "path", parent, p, !replace, &idx);
	if (rc != SC_OK)
		goto fail;
	if (replace) {
		u = log_push(a, U_ARR_SET, parent);
		u->idx = idx;
		u->old =
		    json_object_get(json_object_array_get_idx(parent, idx));
		json_object_array_put_idx(parent, idx, v);
		return SC_OK;
	}
	if (array_insert(parent, idx, v) != 0) {
		rc = fail(a, SC_ERR_NOMEM, "out of memory");
		goto fail;
	}
	u = log_push(a, U_ARR_INSERTED, parent);
	u->idx = idx;
	return SC_OK;
fail:
	json_object_put(v);
	return rc;
}

/*
 * Removes the target of p (what names the member for messages).  When
 * removed is not NULL it receives a new reference to the removed value.
 */
static sc_err remove_value(struct apply *a, const char *what,
			   const sc_pointer *p, json_object **removed)
{
	json_object *parent, *old;
	struct lh_entry *e;
	char *key_copy = NULL, *prev_key = NULL;
	struct undo *u;
	size_t idx;
	sc_err rc;

	if (p->count == 0)
		return fail(a, SC_ERR_PATCH,
			    "%s \"\": cannot remove the whole document", what);
	rc = locate_parent(a, what, p, &parent);
	if (rc != SC_OK)
		return rc;
	if (json_object_is_type(parent, json_type_array)) {
		rc = array_index(a, what, parent, p, 0, &idx);
		if (rc != SC_OK)
			return rc;
		old = json_object_array_get_idx(parent, idx);
		u = log_push(a, U_ARR_REMOVED, parent);
		u->idx = idx;
		u->old = json_object_get(old);
		json_object_array_del_idx(parent, idx, 1);
	} else {
		e = lh_table_lookup_entry(json_object_get_object(parent),
					  p->tokens[p->count - 1]);
		if (e == NULL)
			return fail(a, SC_ERR_PATCH,
				    "%s \"%.64s\": no member \"%.64s\"", what,
				    pointer_text(a, p),
				    p->tokens[p->count - 1]);
		/* What undo needs, allocated before anything changes.  The
		 * key copy may go to json-c, which frees keys with free():
		 * it is json-c's kind of memory, from strdup(). */
		key_copy = strdup((const char *)e->k);
		if (e->prev != NULL)
			prev_key = sc_strdup((const char *)e->prev->k);
		if (key_copy == NULL || (e->prev != NULL && prev_key == NULL)) {
			free(key_copy);
			sc_free(prev_key);
			return fail(a, SC_ERR_NOMEM, "out of memory");
		}
		old = (json_object *)e->v;
		u = log_push(a, U_OBJ_REMOVED, parent);
		u->key_copy = key_copy;
		u->prev_key = prev_key;
		u->old = json_object_get(old);
		json_object_object_del(parent, key_copy);
	}
	if (removed != NULL)
		*removed = json_object_get(old);
	return SC_OK;
}

/* Puts back member u->key_copy = u->old at its old place in the order. */
static void undo_remove_member(struct undo *u)
{
	struct lh_table *t = json_object_get_object(u->parent);
	struct lh_entry *e, *prev = NULL;

	/* A constant key is stored as given, with no allocation; the table
	 * has room (it held this member).  Then the key is made the
	 * table's to free, like any other. */
	json_object_object_add_ex(u->parent, u->key_copy, u->old,
				  JSON_C_OBJECT_ADD_KEY_IS_NEW |
				      JSON_C_OBJECT_ADD_CONSTANT_KEY);
	e = lh_table_lookup_entry(t, u->key_copy);
	e->k_is_constant = 0;
	u->key_copy = NULL;
	u->old = NULL;
	if (u->prev_key != NULL)
		prev = lh_table_lookup_entry(t, u->prev_key);
	if (e->prev == prev)
		return;
	/* Unlink e (the tail: just added) and link it after prev. */
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		t->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		t->tail = e->prev;
	e->prev = prev;
	e->next = prev != NULL ? prev->next : t->head;
	if (prev != NULL)
		prev->next = e;
	else
		t->head = e;
	if (e->next != NULL)
		e->next->prev = e;
	else
		t->tail = e;
}

/* Reverts every logged change, newest first.  Allocates nothing.  What
 * the log still owns afterwards (prev_key) is freed with the log. */
static void undo_all(struct apply *a)
{
	size_t i = a->nlog;

	while (i > 0) {
		struct undo *u = &a->log[--i];

		switch (u->kind) {
		case U_ROOT:
			json_object_put(a->root);
			a->root = u->old;
			break;
		case U_OBJ_SET:
			json_object_object_add(u->parent, u->key, u->old);
			break;
		case U_OBJ_ADDED:
			json_object_object_del(u->parent, u->key);
			break;
		case U_OBJ_REMOVED:
			undo_remove_member(u);
			break;
		case U_ARR_SET:
			json_object_array_put_idx(u->parent, u->idx, u->old);
			break;
		case U_ARR_INSERTED:
			json_object_array_del_idx(u->parent, u->idx, 1);
			break;
		case U_ARR_REMOVED:
			/* Room is left from the removal: cannot fail. */
			array_insert(u->parent, u->idx, u->old);
			break;
		}
		u->old = NULL;
	}
}

static int same_pointer(const sc_pointer *a, const sc_pointer *b)
{
	size_t i;

	if (a->count != b->count)
		return 0;
	for (i = 0; i < a->count; i++)
		if (strcmp(a->tokens[i], b->tokens[i]) != 0)
			return 0;
	return 1;
}

static sc_err apply_op(struct apply *a, const struct op *op)
{
	json_object *v, *c = NULL;
	sc_err rc;

	switch (op->kind) {
	case SC_OP_ADD:
	case SC_OP_REPLACE:
		/* put_value finds whether a replace's target exists, as it
		 * resolves the parent. */
		if (a->take)
			c = json_object_get(op->value);
		else if (sc_json_copy(op->value, &c) != SC_OK)
			return fail(a, SC_ERR_NOMEM, "out of memory");
		return put_value(a, &op->path, c, op->kind == SC_OP_REPLACE);
	case SC_OP_REMOVE:
		return remove_value(a, "path", &op->path, NULL);
	case SC_OP_MOVE:
		rc = locate(a, "from", &op->from, op->from.count, &v);
		if (rc != SC_OK || same_pointer(&op->from, &op->path))
			return rc;
		rc = check_depth(a, &op->path, v);
		if (rc == SC_OK)
			rc = remove_value(a, "from", &op->from, &v);
		if (rc == SC_OK)
			rc = put_value(a, &op->path, v, 0);
		return rc;
	case SC_OP_COPY:
		rc = locate(a, "from", &op->from, op->from.count, &v);
		if (rc == SC_OK)
			rc = check_depth(a, &op->path, v);
		if (rc != SC_OK)
			return rc;
		if (sc_json_copy(v, &c) != SC_OK)
			return fail(a, SC_ERR_NOMEM, "out of memory");
		return put_value(a, &op->path, c, 0);
	case SC_OP_TEST:
		rc = locate(a, "path", &op->path, op->path.count, &v);
		if (rc == SC_OK && !sc_json_equal(v, op->value))
			rc = fail(a, SC_ERR_TEST,
				  "the value at \"%.64s\" is not the one "
				  "tested",
				  op->path_text);
		return rc;
	}
	return fail(a, SC_ERR_PATCH, "unknown op");
}

/* Patches of at most this many ops are applied without an allocation of
 * their own. */
#define FEW_OPS 4

/* sc_patch_apply, taking the values the patch adds when take is 1. */
static sc_err apply(json_object **doc, json_object *patch, int take,
		    sc_error *err)
{
	struct apply a = {*doc, NULL, 0, NULL, -1, err, take};
	struct op *ops = NULL, few_ops[FEW_OPS];
	struct undo few_undo[2 * FEW_OPS];
	size_t i, n = 0, nvalid;
	sc_error bad;
	sc_err rc = SC_OK, bad_rc = SC_OK;

	if (!json_object_is_type(patch, json_type_array))
		return sc_error_set(
		    err, SC_ERR_PATCH, "a patch is a JSON array, not %s",
		    json_type_to_name(json_object_get_type(patch)));
	n = json_object_array_length(patch);
	if (n == 0)
		return SC_OK;
	/* At most two changes per op (move: a removal and an addition);
	 * log_push fills the log.  A short patch needs no allocation. */
	if (n <= FEW_OPS) {
		memset(few_ops, 0, sizeof(few_ops));
		ops = few_ops;
		a.log = few_undo;
	} else {
		ops = sc_calloc(n, sizeof(*ops));
		a.log = n <= SIZE_MAX / (2 * sizeof(*a.log))
			    ? sc_malloc(n * 2 * sizeof(*a.log))
			    : NULL;
	}
	if (ops == NULL || a.log == NULL) {
		rc = sc_error_set(err, SC_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* Decode every op first; a malformed one is found before the
	 * document is touched.  Its error is reported only if no op before
	 * it fails when applied: the first failing op is always the one
	 * named, as when applying one op after the other. */
	a.err = &bad;
	for (nvalid = 0; nvalid < n; nvalid++) {
		a.index = (long)nvalid;
		a.op = NULL;
		bad_rc = decode_op(&a, json_object_array_get_idx(patch, nvalid),
				   &ops[nvalid]);
		if (bad_rc != SC_OK)
			break;
	}
	a.err = err;
	for (i = 0; i < nvalid; i++) {
		a.index = (long)i;
		a.op = &ops[i];
		rc = apply_op(&a, &ops[i]);
		if (rc != SC_OK) {
			undo_all(&a);
			goto out;
		}
	}
	if (bad_rc != SC_OK) {
		undo_all(&a);
		rc = bad_rc;
		if (err != NULL)
			*err = bad;
		goto out;
	}
	*doc = a.root;
out:
	for (i = 0; a.log != NULL && i < a.nlog; i++) {
		json_object_put(a.log[i].old);
		free(a.log[i].key_copy);
		sc_free(a.log[i].prev_key);
	}
	for (i = 0; ops != NULL && i < n; i++) {
		sc_pointer_free(&ops[i].path);
		sc_pointer_free(&ops[i].from);
	}
	if (ops != few_ops) {
		sc_free(a.log);
		sc_free(ops);
	}
	return rc;
}

sc_err sc_patch_apply(json_object **doc, json_object *patch, sc_error *err)
{
	return apply(doc, patch, 0, err);
}

sc_err sc_patch_apply_take(json_object **doc, json_object *patch,
			   sc_error *err)
{
	return apply(doc, patch, 1, err);
}
