/*
 * json/pointer.c — RFC 6901 JSON Pointers: parse, array indexes,
 * resolution, and building escaped pointer text.
 */
#include "json/pointer.h"

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"

sc_err sc_pointer_parse(sc_pointer *p, const char *text, size_t len,
			sc_error *err)
{
	size_t i, count = 0, t = 0;
	char **tokens, *d;

	p->count = 0;
	p->tokens = NULL;
	if (len == 0)
		return SC_OK;
	if (text[0] != '/')
		return sc_error_set(err, SC_ERR_POINTER,
				    "pointer does not start with '/'");
	for (i = 0; i < len; i++) {
		if (text[i] == '/') {
			count++;
		} else if (text[i] == '\0') {
			return sc_error_set(err, SC_ERR_POINTER,
					    "NUL byte at byte %zu of pointer",
					    i);
		} else if (text[i] == '~' &&
			   (i + 1 == len ||
			    (text[i + 1] != '0' && text[i + 1] != '1'))) {
			return sc_error_set(err, SC_ERR_POINTER,
					    "bad escape '~' at byte %zu of "
					    "pointer (only ~0 and ~1)",
					    i);
		}
	}
	if (count > (SIZE_MAX - len - 1) / sizeof(char *))
		return sc_error_set(err, SC_ERR_NOMEM, "out of memory");
	/* One block: the token array, then the unescaped text.  Each "/"
	 * becomes the NUL ending the token before it, so len + 1 bytes hold
	 * every token. */
	tokens = sc_malloc(count * sizeof(char *) + len + 1);
	if (tokens == NULL)
		return sc_error_set(err, SC_ERR_NOMEM, "out of memory");
	d = (char *)(tokens + count);
	for (i = 0; i < len; i++) {
		if (text[i] == '/') {
			if (t > 0)
				*d++ = '\0';
			tokens[t++] = d;
		} else if (text[i] == '~') {
			*d++ = text[++i] == '0' ? '~' : '/';
		} else {
			*d++ = text[i];
		}
	}
	*d = '\0';
	p->count = count;
	p->tokens = tokens;
	return SC_OK;
}

void sc_pointer_free(sc_pointer *p)
{
	if (p == NULL)
		return;
	sc_free(p->tokens);
	p->tokens = NULL;
	p->count = 0;
}

sc_err sc_pointer_index(const char *token, size_t *idx)
{
	unsigned long long v = 0;
	size_t i;

	if (token[0] < '0' || token[0] > '9' ||
	    (token[0] == '0' && token[1] != '\0'))
		return SC_ERR_POINTER;
	for (i = 0; token[i] != '\0'; i++) {
		if (token[i] < '0' || token[i] > '9')
			return SC_ERR_POINTER;
		v = v * 10 + (unsigned)(token[i] - '0');
		if (v > SC_POINTER_INDEX_MAX || v > SIZE_MAX)
			return SC_ERR_POINTER;
	}
	*idx = (size_t)v;
	return SC_OK;
}

sc_err sc_pointer_resolve(json_object *doc, const sc_pointer *p, size_t n,
			  json_object **out, sc_error *err)
{
	json_object *cur = doc, *next;
	size_t i, idx;

	for (i = 0; i < n && i < p->count; i++) {
		const char *tok = p->tokens[i];

		switch (json_object_get_type(cur)) {
		case json_type_object:
			if (!json_object_object_get_ex(cur, tok, &next))
				return sc_error_set(err, SC_ERR_NOT_FOUND,
						    "no member \"%.64s\"", tok);
			break;
		case json_type_array:
			if (strcmp(tok, "-") == 0)
				return sc_error_set(err, SC_ERR_NOT_FOUND,
						    "\"-\" names no element");
			if (sc_pointer_index(tok, &idx) != SC_OK)
				return sc_error_set(
				    err, SC_ERR_POINTER,
				    "\"%.64s\" is not an array index", tok);
			if (idx >= json_object_array_length(cur))
				return sc_error_set(
				    err, SC_ERR_NOT_FOUND,
				    "index %zu is past the end "
				    "of an array of %zu",
				    idx, json_object_array_length(cur));
			next = json_object_array_get_idx(cur, idx);
			break;
		default:
			return sc_error_set(
			    err, SC_ERR_NOT_FOUND,
			    "\"%.64s\" is below a %s, not an "
			    "object or array",
			    tok, json_type_to_name(json_object_get_type(cur)));
		}
		cur = next;
	}
	*out = cur;
	return SC_OK;
}

sc_err sc_pointer_get(json_object *doc, const sc_pointer *p, json_object **out,
		      sc_error *err)
{
	return sc_pointer_resolve(doc, p, p->count, out, err);
}

int sc_pointer_is_ancestor(const sc_pointer *a, const sc_pointer *b)
{
	size_t i;

	if (a->count >= b->count)
		return 0;
	for (i = 0; i < a->count; i++)
		if (strcmp(a->tokens[i], b->tokens[i]) != 0)
			return 0;
	return 1;
}

void sc_pointer_buf_init(sc_pointer_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void sc_pointer_buf_free(sc_pointer_buf *b)
{
	if (b == NULL)
		return;
	sc_free(b->data);
	sc_pointer_buf_init(b);
}

/* Makes room for need more bytes plus a NUL. */
static sc_err buf_reserve(sc_pointer_buf *b, size_t need)
{
	return sc_buf_grow(&b->data, &b->cap, b->len, need,
			   SC_POINTER_BUF_MAX - 1);
}

sc_err sc_pointer_buf_push(sc_pointer_buf *b, const char *token, size_t len)
{
	size_t i, need = 1 + len;
	char *d;
	sc_err rc;

	for (i = 0; i < len; i++)
		if (token[i] == '~' || token[i] == '/')
			need++;
	rc = buf_reserve(b, need);
	if (rc != SC_OK)
		return rc;
	d = b->data + b->len;
	*d++ = '/';
	for (i = 0; i < len; i++) {
		if (token[i] == '~') {
			*d++ = '~';
			*d++ = '0';
		} else if (token[i] == '/') {
			*d++ = '~';
			*d++ = '1';
		} else {
			*d++ = token[i];
		}
	}
	*d = '\0';
	b->len += need;
	return SC_OK;
}

sc_err sc_pointer_buf_push_index(sc_pointer_buf *b, size_t idx)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%zu", idx);

	return sc_pointer_buf_push(b, num, (size_t)n);
}

void sc_pointer_buf_truncate(sc_pointer_buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

const char *sc_pointer_buf_text(const sc_pointer_buf *b)
{
	return b->data != NULL ? b->data : "";
}
