/*
 * json/diffops.c — the list of ops sc_diff collects, and its two forms:
 * the json-c patch, and the compact JSON text written straight from the
 * list (no json-c object per op), byte for byte what json-c prints for
 * the patch, at exactly the size the ops were reckoned at.
 */
#include "json/diffops.h"

#include <stdint.h>
#include <string.h>

#include "common/alloc.h"
#include "json/text.h"

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

sc_err sc_diffops_add(struct sc_diffops *l, sc_op kind,
		      const char *path, size_t len, json_object *value,
		      size_t size)
{
	struct sc_diffops_op *op;
	sc_err rc;

	if (len > SC_DIFFOPS_MAX_PATHS - l->npaths)
		return SC_ERR_TOO_BIG;
	rc = reserve((void **)&l->ops, &l->cap, l->n + 1, sizeof(*l->ops));
	if (rc == SC_OK)
		rc = reserve((void **)&l->paths, &l->paths_cap,
			     l->npaths + len, 1);
	if (rc != SC_OK)
		return rc;
	op = &l->ops[l->n++];
	op->kind = kind;
	op->path = l->npaths;
	op->len = len;
	op->value = value;
	if (len > 0) /* paths is NULL until a path is not "" */
		memcpy(l->paths + l->npaths, path, len);
	l->npaths += len;
	l->bytes += size;
	return SC_OK;
}

void sc_diffops_cut(struct sc_diffops *l, size_t n, size_t bytes)
{
	if (n < l->n)
		l->npaths = l->ops[n].path;
	l->n = n;
	l->bytes = bytes;
}

const char *sc_diffops_path(const struct sc_diffops *l, size_t i)
{
	return l->ops[i].len > 0 ? l->paths + l->ops[i].path : "";
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

sc_err sc_diffops_build(const struct sc_diffops *l, json_object **out)
{
	json_object *patch = json_object_new_array_ext((int)l->n);
	json_object *names[3] = {NULL, NULL, NULL}, *o, *v;
	sc_err rc = SC_ERR_NOMEM;
	size_t i;

	if (patch == NULL)
		return SC_ERR_NOMEM;
	for (i = 0; i < 3; i++)
		if ((names[i] = json_object_new_string(sc_op_name((sc_op)i))) ==
		    NULL)
			goto out;
	for (i = 0; i < l->n; i++) {
		const struct sc_diffops_op *op = &l->ops[i];

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
		v = json_object_new_string_len(sc_diffops_path(l, i),
					       (int)op->len);
		if (put_member(o, "path", v, v != NULL) != 0)
			goto out;
		if (op->kind != SC_OP_REMOVE &&
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

sc_err sc_diffops_text(const struct sc_diffops *l, size_t cap, char **text,
		       size_t *len)
{
	static const char *const heads[] = {
	    SC_DIFFOPS_ADD_HEAD, SC_DIFFOPS_REM_HEAD, SC_DIFFOPS_REP_HEAD};
	size_t i, n = l->n > 0 ? l->bytes + 1 : 2; /* brackets, commas */
	struct sc_text_out out;
	char *buf;
	sc_err rc;

	if (n > cap)
		return SC_ERR_TOO_BIG;
	buf = sc_malloc(n + 1);
	if (buf == NULL)
		return SC_ERR_NOMEM;
	out.p = buf;
	out.end = buf + n;
	out.buf = NULL; /* measured: exactly n bytes */
	rc = sc_text_put(&out, "[", 1);
	for (i = 0; i < l->n && rc == SC_OK; i++) {
		const struct sc_diffops_op *op = &l->ops[i];
		const char *head = heads[op->kind];

		if (i > 0)
			rc = sc_text_put(&out, ",", 1);
		if (rc == SC_OK)
			rc = sc_text_put(&out, head, strlen(head));
		if (rc == SC_OK)
			rc = sc_text_put_string(
			    &out, sc_diffops_path(l, i), op->len);
		if (rc == SC_OK && op->kind != SC_OP_REMOVE) {
			rc = sc_text_put(&out, SC_DIFFOPS_VALUE_HEAD,
					     sizeof(SC_DIFFOPS_VALUE_HEAD) - 1);
			if (rc == SC_OK)
				rc = sc_text_put_value(&out, op->value, 1);
		}
		if (rc == SC_OK)
			rc = sc_text_put(&out, "}", 1);
	}
	if (rc == SC_OK)
		rc = sc_text_put(&out, "]", 1);
	if (rc == SC_OK && out.p != out.end)
		rc = SC_ERR_TOO_BIG;
	if (rc != SC_OK) {
		sc_free(buf);
		/* The ops were measured: text of another size is a miscount
		 * (never expected; the tests and fuzzers look for it). */
		return rc == SC_ERR_TOO_BIG ? SC_ERR_INVALID : rc;
	}
	*out.p = '\0';
	*text = buf;
	*len = n;
	return SC_OK;
}

void sc_diffops_free(struct sc_diffops *l)
{
	if (l == NULL)
		return;
	sc_free(l->paths);
	sc_free(l->ops);
	memset(l, 0, sizeof(*l));
}
