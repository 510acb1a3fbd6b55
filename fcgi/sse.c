/*
 * fcgi/sse.c — SSE framing, frames and JSON envelopes.
 */
#include "fcgi/sse.h"

#include <json-c/json.h>
#include <json-c/printbuf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"

static sc_err field(sc_buf *b, const char *name, const char *v, size_t n)
{
	sc_err rc = sc_buf_add(b, name, strlen(name));

	if (rc == SC_OK)
		rc = sc_buf_add(b, v, n);
	if (rc == SC_OK)
		rc = sc_buf_add(b, "\n", 1);
	return rc;
}

sc_err sc_sse_format(sc_buf *b, const char *event, const char *id,
		     const char *data, size_t data_len, int terminate)
{
	size_t old = b->len, i = 0;
	sc_err rc = SC_OK;

	if (event != NULL)
		rc = field(b, "event: ", event, strcspn(event, "\r\n"));
	if (rc == SC_OK && id != NULL)
		rc = field(b, "id: ", id, strcspn(id, "\r\n"));
	/* One data line per line of data: \n, \r\n and \r all end one. */
	while (rc == SC_OK && data != NULL) {
		size_t j = i;

		while (j < data_len && data[j] != '\n' && data[j] != '\r')
			j++;
		rc = field(b, "data: ", data + i, j - i);
		if (j >= data_len)
			break;
		if (data[j] == '\r' && j + 1 < data_len && data[j + 1] == '\n')
			j++;
		i = j + 1;
	}
	if (rc == SC_OK && terminate)
		rc = sc_buf_add(b, "\n", 1);
	if (rc != SC_OK) {
		b->len = old;
		if (b->p != NULL)
			b->p[old] = '\0';
	}
	return rc;
}

typedef struct raw_text {
	const char *text;
	size_t len;
} raw_text;

/* json-c serializer that prints the JSON text it was given as is. */
static int raw_serialize(json_object *jso, struct printbuf *pb, int level,
			 int flags)
{
	raw_text *r = json_object_get_userdata(jso);

	(void)level;
	(void)flags;
	if (r->len > INT_MAX)
		return -1;
	return printbuf_memappend(pb, r->text, (int)r->len) < 0 ? -1 : 0;
}

/* Whether s needs no escape in a JSON string. */
static int plain(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
			return 0;
	return 1;
}

static char *put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

#define PUT_LIT(p, lit) put(p, lit, sizeof(lit) - 1)

/* The envelope written out directly, when nothing needs an escape
 * (validated topics and cursors): one allocation, one copy of raw. */
static sc_err envelope_plain(const char *topic, int64_t version,
			     const char *cursor, const char *key,
			     const char *raw, size_t raw_len, char **out,
			     size_t *out_len)
{
	char num[24], *p;
	size_t tl = strlen(topic), cl = cursor != NULL ? strlen(cursor) : 0;
	size_t kl = strlen(key), n;
	int nl = snprintf(num, sizeof(num), "%" PRId64, version);

	if (nl < 0 || raw_len > SIZE_MAX / 2)
		return SC_ERR_NOMEM;
	n = sizeof("{\"topic\":\"\",\"version\":") - 1 + tl + (size_t)nl +
	    (cursor != NULL ? sizeof(",\"cursor\":\"\"") - 1 + cl : 0) +
	    sizeof(",\"\":}") - 1 + kl + raw_len;
	*out = sc_malloc(n + 1);
	if (*out == NULL)
		return SC_ERR_NOMEM;
	p = PUT_LIT(*out, "{\"topic\":\"");
	p = put(p, topic, tl);
	p = PUT_LIT(p, "\",\"version\":");
	p = put(p, num, (size_t)nl);
	if (cursor != NULL) {
		p = PUT_LIT(p, ",\"cursor\":\"");
		p = put(p, cursor, cl);
		p = PUT_LIT(p, "\"");
	}
	p = PUT_LIT(p, ",\"");
	p = put(p, key, kl);
	p = PUT_LIT(p, "\":");
	p = put(p, raw, raw_len);
	p = PUT_LIT(p, "}");
	*p = '\0';
	if (out_len != NULL)
		*out_len = n;
	return SC_OK;
}

sc_err sc_sse_envelope(const char *topic, int64_t version, const char *cursor,
		       const char *key, const char *raw, size_t raw_len,
		       char **out, size_t *out_len)
{
	raw_text r = {raw, raw_len};
	json_object *o, *v = NULL;
	const char *s;
	size_t n = 0;
	sc_err rc = SC_ERR_NOMEM;

	*out = NULL;
	if (plain(topic) && plain(key) && (cursor == NULL || plain(cursor)))
		return envelope_plain(topic, version, cursor, key, raw, raw_len,
				      out, out_len);
	o = json_object_new_object();
	if (o == NULL)
		goto out;
	if (json_object_object_add(o, "topic", json_object_new_string(topic)) !=
		0 ||
	    json_object_object_add(o, "version",
				   json_object_new_int64(version)) != 0)
		goto out;
	if (cursor != NULL &&
	    json_object_object_add(o, "cursor",
				   json_object_new_string(cursor)) != 0)
		goto out;
	v = json_object_new_object();
	if (v == NULL)
		goto out;
	json_object_set_serializer(v, raw_serialize, &r, NULL);
	if (json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		goto out;
	}
	s = json_object_to_json_string_length(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (s == NULL)
		goto out;
	*out = sc_strndup(s, n);
	if (*out == NULL)
		goto out;
	if (out_len != NULL)
		*out_len = n;
	rc = SC_OK;
out:
	json_object_put(o);
	return rc;
}

char *sc_sse_error_json(const char *code, const char *message, size_t *out_len)
{
	json_object *o = json_object_new_object(),
		    *e = json_object_new_object();
	const char *s;
	char *res = NULL;
	size_t n = 0;

	if (o == NULL || e == NULL) {
		json_object_put(e);
		goto out;
	}
	if (json_object_object_add(o, "error", e) != 0) {
		json_object_put(e);
		goto out;
	}
	if (json_object_object_add(e, "code", json_object_new_string(code)) !=
		0 ||
	    json_object_object_add(e, "message",
				   json_object_new_string(message)) != 0)
		goto out;
	s = json_object_to_json_string_length(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (s != NULL)
		res = sc_strndup(s, n);
	if (res != NULL && out_len != NULL)
		*out_len = n;
out:
	json_object_put(o);
	return res;
}

sc_sse_frame *sc_sse_frame_cat(const char *a, size_t alen, const char *b,
			       size_t blen)
{
	sc_sse_frame *f = sc_malloc(sizeof(*f) + alen + blen + 1);

	if (f == NULL)
		return NULL;
	atomic_init(&f->refs, 1);
	f->len = alen + blen;
	memcpy(f->text, a, alen);
	if (blen > 0)
		memcpy(f->text + alen, b, blen);
	f->text[f->len] = '\0';
	return f;
}

sc_sse_frame *sc_sse_frame_new(const char *text, size_t len)
{
	return sc_sse_frame_cat(text, len, NULL, 0);
}

void sc_sse_frame_unref(sc_sse_frame *f)
{
	if (f != NULL && --f->refs == 0)
		sc_free(f);
}
