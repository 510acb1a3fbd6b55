/*
 * fcgi/answer.c — the HTTP answers of the routes: status lines and
 * headers, JSON bodies and errors, the envelope of a state; written
 * without blocking the worker thread (what the peer does not take at
 * once is finished by the hub, sc_hub_respond).
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "fcgi/reqint.h"

int sc_request_status(sc_err code)
{
	switch (code) {
	case SC_OK:
		return 200;
	case SC_ERR_INVALID:
	case SC_ERR_JSON:
	case SC_ERR_TOO_DEEP:
	case SC_ERR_TOPIC:
	case SC_ERR_CURSOR:
		return 400;
	case SC_ERR_FORBIDDEN:
		return 403;
	case SC_ERR_NOT_FOUND:
		return 404;
	case SC_ERR_TOO_BIG:
		return 413;
	case SC_ERR_REJECTED:
	case SC_ERR_POINTER:
	case SC_ERR_PATCH:
	case SC_ERR_TEST:
		return 422;
	case SC_ERR_NOMEM:
	case SC_ERR_BUSY:
	case SC_ERR_STORE:
	case SC_ERR_SCHEMA:
	case SC_ERR_READONLY:
	case SC_ERR_IO:
		return 503;
	default:
		return 500;
	}
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Payload Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

int sc_answer_write(sc_request_env *env, sc_fcgi_conn *c,
		    const sc_fcgi_request *r, sc_sse_frame *const *frames,
		    size_t n)
{
	/* Bytes already read past this request (the server's next
	 * record) cannot follow the connection to the hub: finish here. */
	sc_hub *hub = c->start < c->end ? NULL : env->hub;

	return sc_hub_respond(hub, c->fd, r->id, r->keep_conn, frames, n);
}

/* Appends the string t at *p when it fits before end; 0 when not. */
static int head_add(char **p, const char *end, const char *t)
{
	size_t n = strlen(t);

	if ((size_t)(end - *p) < n)
		return 0;
	memcpy(*p, t, n);
	*p += n;
	return 1;
}

int sc_answer_head(char *head, int status, const char *extra, const char *more,
		   int json)
{
	/* Built with memcpy, not snprintf: once per request. */
	char *p = head, *end = head + SC_ANSWER_HEAD_MAX - 1;
	int ok;

	if (status < 100 || status > 999)
		return -1;
	ok = head_add(&p, end, "Status: ");
	if (ok) {
		p += sc_buf_i64(p, status);
		*p++ = ' ';
	}
	ok = ok && head_add(&p, end, reason(status)) &&
	     head_add(&p, end, "\r\n") &&
	     head_add(&p, end,
		      json ? "Content-Type: application/json\r\n" : "") &&
	     head_add(&p, end,
		      status >= 400 ? "Cache-Control: no-store\r\n" : "") &&
	     head_add(&p, end, SC_ANSWER_HEADERS) &&
	     head_add(&p, end, extra ? extra : "") &&
	     head_add(&p, end, more ? more : "") && head_add(&p, end, "\r\n");
	if (!ok)
		return -1;
	*p = '\0';
	return (int)(p - head);
}

int sc_answer_is_head(const sc_fcgi_request *r)
{
	const char *method = sc_fcgi_param_get(r, "REQUEST_METHOD");

	return method != NULL && strcmp(method, "HEAD") == 0;
}

int sc_answer(sc_request_env *env, sc_fcgi_conn *c, const sc_fcgi_request *r,
	      int status, const char *extra, const char *body, size_t len)
{
	char head[SC_ANSWER_HEAD_MAX];
	sc_sse_frame *f;
	int n, rc;

	n = sc_answer_head(head, status, extra, c->head_extra, body != NULL);
	if (n < 0)
		return -1;
	if (body == NULL || sc_answer_is_head(r))
		len = 0;
	f = sc_sse_frame_cat(head, (size_t)n, body, len);
	if (f == NULL)
		return -1;
	rc = sc_answer_write(env, c, r, &f, 1);
	sc_sse_frame_unref(f);
	return rc;
}

int sc_answer_error(sc_request_env *env, sc_fcgi_conn *c,
		    const sc_fcgi_request *r, int status, const char *extra,
		    const char *code, const char *message)
{
	size_t len = 0;
	char *json = sc_sse_error_json(code, message, &len);
	int rc;

	if (json == NULL)
		return sc_answer(env, c, r, 503, NULL, NULL, 0);
	rc = sc_answer(env, c, r, status, extra, json, len);
	sc_free(json);
	return rc;
}

int sc_answer_err(sc_request_env *env, sc_fcgi_conn *c,
		  const sc_fcgi_request *r, const sc_error *err,
		  const char *app_code)
{
	int status = sc_request_status(err->code);
	const char *msg =
	    err->message[0] ? err->message : sc_strerror(err->code);
	char q[SC_ERROR_MESSAGE_MAX + 8];

	/* A handler's failure was logged where it was seen, with its
	 * topic and event; a refusal is the client's business (debug). */
	if (status >= 500 && err->code != SC_ERR_HANDLER)
		sc_log(status == 503 ? SC_LOG_WARN : SC_LOG_ERROR,
		       "event=store_error status=%d code=%s message=%s", status,
		       sc_strerror(err->code), sc_log_q(q, sizeof(q), msg));
	else if (status < 500)
		sc_log(SC_LOG_DEBUG, "event=refused status=%d code=%s", status,
		       app_code ? app_code : sc_strerror(err->code));
	return sc_answer_error(
	    env, c, r, status, status == 503 ? "Retry-After: 1\r\n" : NULL,
	    app_code ? app_code : sc_strerror(err->code), msg);
}

/* States from this size on are shared between answers (textcache.h). */
#define SHARED_STATE (64 * 1024)

int sc_answer_state(sc_request_env *env, sc_fcgi_conn *c,
		    const sc_fcgi_request *r, const char *topic,
		    const sc_store_state *st, const char *extra)
{
	char head[SC_ANSWER_HEAD_MAX], cursor[SC_CURSOR_MAX], *json = NULL;
	sc_sse_frame *f[3] = {NULL, NULL, NULL};
	size_t len = 0, n;
	int hl, rc = -1;

	sc_store_cursor_format(env->store, st->seq, cursor);
	hl = sc_answer_head(head, 200, extra, c->head_extra, 1);
	if (hl < 0)
		return -1;
	/* {"topic":..,"version":..,"cursor":..,"state":} less its '}'. */
	if (sc_sse_envelope(topic, st->version, cursor, "state", "", 0, &json,
			    &len) != SC_OK ||
	    len == 0)
		goto nomem;
	n = sc_answer_is_head(r) ? 0 : len - 1;
	f[0] = sc_sse_frame_cat(head, (size_t)hl, json, n);
	if (f[0] == NULL)
		goto nomem;
	if (n > 0) {
		f[1] = sc_textcache_get(
		    st->state_len >= SHARED_STATE ? env->texts : NULL, topic,
		    st->version, st->state, st->state_len);
		f[2] = sc_sse_frame_new("}", 1);
		if (f[1] == NULL || f[2] == NULL)
			goto nomem;
	}
	rc = sc_answer_write(env, c, r, f, n > 0 ? 3 : 1);
	goto out;
nomem:
	rc = sc_answer_error(env, c, r, 503, NULL, "nomem", "out of memory");
out:
	sc_sse_frame_unref(f[0]);
	sc_sse_frame_unref(f[1]);
	sc_sse_frame_unref(f[2]);
	sc_free(json);
	return rc;
}
