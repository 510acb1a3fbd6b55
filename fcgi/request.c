/*
 * fcgi/request.c — the routes of docs/protocol.md on a worker thread, and the
 * handler API of statechannel.h (sc_state, sc_set_state, ...).
 */
#include "fcgi/request.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "fcgi/route.h"
#include "fcgi/sse.h"
#include "json/value.h"

#define MAX_STREAM_TOPICS SC_HUB_TOPICS_MAX
/* "topic=" parameters read per stream, repeats included: each is found
 * by a scan from the start of the query, so this bounds the work. */
#define MAX_TOPIC_PARAMS (4 * MAX_STREAM_TOPICS)
#define RETRY_LINE	 "retry: 2000\n\n"

struct sc_ctx {
	const sc_app *app;
	const sc_fcgi_request *req;
	const char *topic;
	sc_store_txn *txn;
	int rejected;	   /* sc_reject was called */
	int forbidden;	   /* sc_forbid was called */
	int state_too_big; /* the event made the state too big (413) */
	sc_err api_rc;	   /* the last error a call of the API returned */
	char code[64];
	sc_error err; /* why the handler failed */
};

/* --- the handler API ------------------------------------------------ */

void *sc_app_data(sc_ctx *ctx)
{
	return ctx->app->data;
}

const char *sc_topic(sc_ctx *ctx)
{
	return ctx->topic;
}

const char *sc_param(sc_ctx *ctx, const char *name)
{
	return ctx->req ? sc_fcgi_param_get(ctx->req, name) : NULL;
}

json_object *sc_state(sc_ctx *ctx)
{
	return ctx->txn ? sc_store_txn_state(ctx->txn) : NULL;
}

sqlite3 *sc_db(sc_ctx *ctx)
{
	return ctx->txn ? sc_store_txn_db(ctx->txn) : NULL;
}

PGconn *sc_pg(sc_ctx *ctx)
{
	return ctx->txn ? sc_store_txn_pg(ctx->txn) : NULL;
}

/* What a call of the API returns, remembered: the handler may pass it
 * on as it is (statechannel.h, on_event). */
static sc_err api(sc_ctx *ctx, sc_err rc)
{
	if (rc != SC_OK)
		ctx->api_rc = rc;
	return rc;
}

sc_err sc_set_state(sc_ctx *ctx, json_object *state)
{
	if (ctx->txn == NULL) {
		json_object_put(state);
		return api(ctx, sc_error_set(&ctx->err, SC_ERR_INVALID,
					     "sc_set_state outside on_event"));
	}
	return api(ctx, sc_store_txn_set(ctx->txn, state, &ctx->err));
}

sc_err sc_apply_patch(sc_ctx *ctx, json_object *ops)
{
	if (ctx->txn == NULL)
		return api(ctx, sc_error_set(&ctx->err, SC_ERR_INVALID,
					     "sc_apply_patch outside "
					     "on_event"));
	return api(ctx, sc_store_txn_patch(ctx->txn, ops, &ctx->err));
}

static sc_err patch_state(sc_ctx *ctx, const char *path, json_object *value)
{
	json_object *ops = NULL, *op;
	sc_err rc = SC_ERR_NOMEM;

	if (ctx->txn == NULL) {
		json_object_put(value);
		return sc_error_set(&ctx->err, SC_ERR_INVALID,
				    "sc_patch_state outside on_event");
	}
	ops = json_object_new_array();
	op = json_object_new_object();
	if (ops == NULL || op == NULL || json_object_array_add(ops, op) != 0) {
		json_object_put(op);
		json_object_put(value);
		goto out;
	}
	json_object_object_add(op, "op", json_object_new_string("replace"));
	json_object_object_add(op, "path", json_object_new_string(path));
	if (json_object_object_add(op, "value", value) != 0) {
		json_object_put(value);
		goto out;
	}
	rc = sc_store_txn_patch(ctx->txn, ops, &ctx->err);
	if (rc == SC_ERR_PATCH) {
		/* No such member yet: add it (or append with "/-"). */
		json_object_object_add(op, "op", json_object_new_string("add"));
		rc = sc_store_txn_patch(ctx->txn, ops, &ctx->err);
	}
out:
	if (rc == SC_ERR_NOMEM)
		sc_error_set(&ctx->err, rc, "out of memory");
	json_object_put(ops);
	return rc;
}

sc_err sc_patch_state(sc_ctx *ctx, const char *path, json_object *value)
{
	return api(ctx, patch_state(ctx, path, value));
}

sc_err sc_reject(sc_ctx *ctx, const char *code, const char *message)
{
	ctx->rejected = 1;
	snprintf(ctx->code, sizeof(ctx->code), "%s", code ? code : "rejected");
	sc_error_set(&ctx->err, SC_ERR_REJECTED, "%s",
		     message ? message : "the event was rejected");
	return SC_ERR_REJECTED;
}

sc_err sc_forbid(sc_ctx *ctx, const char *message)
{
	ctx->forbidden = 1;
	sc_error_set(&ctx->err, SC_ERR_FORBIDDEN, "%s",
		     message ? message : "not allowed to send this event");
	return SC_ERR_FORBIDDEN;
}

/* --- answers -------------------------------------------------------- */

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

/* Headers every answer carries. */
#define COMMON_HEADERS "X-Content-Type-Options: nosniff\r\n"

/*
 * Writes an answer made of shared texts (the head first) without
 * blocking this thread: what the peer does not take at once is
 * finished by the hub (sc_hub_respond).  Returns what
 * sc_request_handle returns.
 */
static int answer(sc_request_env *env, sc_fcgi_conn *c,
		  const sc_fcgi_request *r, sc_sse_frame *const *frames,
		  size_t n)
{
	/* Bytes already read past this request (the server's next
	 * record) cannot follow the connection to the hub: finish here. */
	sc_hub *hub = c->start < c->end ? NULL : env->hub;

	return sc_hub_respond(hub, c->fd, r->id, r->keep_conn, frames, n);
}

/* The head of an answer: status, headers (extra: whole "Name: v\r\n"
 * lines; more: the connection's own, CORS) and, for a JSON body, its
 * Content-Type, into head (SC_HEAD_MAX bytes).  Returns its length, or
 * -1 when it does not fit. */
#define SC_HEAD_MAX (1024 + SC_CORS_HEAD_MAX)
static int head_of(char *head, int status, const char *extra,
		   const char *more, int json)
{
	int n = snprintf(head, SC_HEAD_MAX,
			 "Status: %d %s\r\n%s%s" COMMON_HEADERS "%s%s\r\n",
			 status, reason(status),
			 json ? "Content-Type: application/json\r\n" : "",
			 status >= 400 ? "Cache-Control: no-store\r\n" : "",
			 extra ? extra : "", more ? more : "");

	return n < 0 || n >= SC_HEAD_MAX ? -1 : n;
}

static int is_head(const sc_fcgi_request *r)
{
	const char *method = sc_fcgi_param_get(r, "REQUEST_METHOD");

	return method != NULL && strcmp(method, "HEAD") == 0;
}

/* Writes a response: status, headers (extra: whole "Name: v\r\n"
 * lines), a JSON body (may be NULL). */
static int respond(sc_request_env *env, sc_fcgi_conn *c,
		   const sc_fcgi_request *r, int status, const char *extra,
		   const char *body, size_t len)
{
	char head[SC_HEAD_MAX];
	sc_sse_frame *f;
	int n, rc;

	n = head_of(head, status, extra, c->head_extra, body != NULL);
	if (n < 0)
		return -1;
	if (body == NULL || is_head(r))
		len = 0;
	f = sc_sse_frame_cat(head, (size_t)n, body, len);
	if (f == NULL)
		return -1;
	rc = answer(env, c, r, &f, 1);
	sc_sse_frame_unref(f);
	return rc;
}

static int respond_error(sc_request_env *env, sc_fcgi_conn *c,
			 const sc_fcgi_request *r, int status,
			 const char *extra, const char *code,
			 const char *message)
{
	size_t len = 0;
	char *json = sc_sse_error_json(code, message, &len);
	int rc;

	if (json == NULL)
		return respond(env, c, r, 503, NULL, NULL, 0);
	rc = respond(env, c, r, status, extra, json, len);
	sc_free(json);
	return rc;
}

/* An error answer for err (store, handler): its status, its code name
 * (or the handler's code when it called sc_reject). */
static int respond_err(sc_request_env *env, sc_fcgi_conn *c,
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
	return respond_error(env, c, r, status,
			     status == 503 ? "Retry-After: 1\r\n" : NULL,
			     app_code ? app_code : sc_strerror(err->code), msg);
}

/* --- topics --------------------------------------------------------- */

/*
 * The application's authorize for topic: SC_OK, SC_ERR_FORBIDDEN or
 * SC_ERR_NOT_FOUND with err filled, or SC_ERR_HANDLER (logged) for a
 * value outside its contract.
 */
static sc_err authorize(sc_ctx *ctx, const char *topic, sc_error *err)
{
	char t[256];
	sc_err rc;

	ctx->topic = topic;
	if (ctx->app->authorize == NULL)
		return SC_OK;
	rc = ctx->app->authorize(ctx, topic);
	switch (rc) {
	case SC_OK:
		return SC_OK;
	case SC_ERR_FORBIDDEN:
		return sc_error_set(err, rc, "not authorized for '%.200s'",
				    topic);
	case SC_ERR_NOT_FOUND:
		return sc_error_set(err, rc, "no topic '%.200s'", topic);
	default:
		sc_log(SC_LOG_ERROR,
		       "event=handler_failed callback=authorize topic=%s "
		       "value=%d",
		       sc_log_q(t, sizeof(t), topic), (int)rc);
		return sc_error_set(err, SC_ERR_HANDLER,
				    "the application's authorize failed");
	}
}

/*
 * Reads topic into *st (may be NULL).  A topic that does not exist is
 * not stored by a read: with create 0, *st is the app's init_state at
 * version 0, its cursor the highest seq now; with create 1 (an event is
 * coming) it is stored first.  *fresh (if not NULL) is 1 when the topic
 * did not exist.  SC_ERR_NOT_FOUND when init_state returns NULL.
 */
static sc_err load_topic(sc_request_env *env, sc_ctx *ctx, const char *topic,
			 sc_store_state *st, int create, int *fresh,
			 sc_error *err)
{
	sc_store_state tmp = {0};
	json_object *init = NULL;
	const char *text;
	size_t len = 0;
	sc_err rc;

	if (st == NULL)
		st = &tmp;
	if (fresh != NULL)
		*fresh = 0;
	rc = sc_store_get(env->store, topic, st, err);
	if (rc != SC_ERR_NOT_FOUND)
		goto out;
	ctx->topic = topic;
	init = env->app->init_state(ctx, topic);
	if (init == NULL) {
		rc =
		    sc_error_set(err, SC_ERR_NOT_FOUND, "no topic '%s'", topic);
		goto out;
	}
	if (fresh != NULL)
		*fresh = 1;
	if (create) {
		rc = sc_store_create(env->store, topic, init, err);
		if (rc == SC_OK)
			rc = sc_store_get(env->store, topic, st, err);
		goto out;
	}
	sc_error_clear(err);
	rc = sc_store_max_seq(env->store, &st->seq, err);
	text = sc_json_text(init, &len);
	if (rc == SC_OK && (text == NULL ||
			    (st->state = sc_strndup(text, len)) == NULL))
		rc = sc_error_set(err, SC_ERR_NOMEM, "out of memory");
	st->version = 0;
	st->state_len = len;
out:
	json_object_put(init);
	sc_store_state_free(&tmp);
	return rc;
}

/* States from this size on are shared between answers (textcache.h). */
#define SHARED_STATE (64 * 1024)

/* Answers 200 with the envelope of st: the head and the envelope's
 * start, the state text (shared by every answer of its version when
 * big), then "}". */
static int respond_state(sc_request_env *env, sc_fcgi_conn *c,
			 const sc_fcgi_request *r, const char *topic,
			 const sc_store_state *st, const char *extra)
{
	char head[SC_HEAD_MAX], cursor[SC_CURSOR_MAX], *json = NULL;
	sc_sse_frame *f[3] = {NULL, NULL, NULL};
	size_t len = 0, n;
	int hl, rc = -1;

	sc_store_cursor_format(env->store, st->seq, cursor);
	hl = head_of(head, 200, extra, c->head_extra, 1);
	if (hl < 0)
		return -1;
	/* {"topic":..,"version":..,"cursor":..,"state":} less its '}'. */
	if (sc_sse_envelope(topic, st->version, cursor, "state", "", 0, &json,
			    &len) != SC_OK ||
	    len == 0)
		goto nomem;
	n = is_head(r) ? 0 : len - 1;
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
	rc = answer(env, c, r, f, n > 0 ? 3 : 1);
	goto out;
nomem:
	rc = respond_error(env, c, r, 503, NULL, "nomem", "out of memory");
out:
	sc_sse_frame_unref(f[0]);
	sc_sse_frame_unref(f[1]);
	sc_sse_frame_unref(f[2]);
	sc_free(json);
	return rc;
}

/* --- GET /state/{topic} --------------------------------------------- */

static int get_state(sc_request_env *env, sc_fcgi_conn *c,
		     const sc_fcgi_request *r, sc_ctx *ctx, const char *topic)
{
	sc_store_state st = {0};
	char etag[SC_TOPIC_MAX + 64], extra[SC_TOPIC_MAX + 128];
	sc_error err;
	int rc;

	sc_error_clear(&err);
	if (authorize(ctx, topic, &err) != SC_OK) {
		rc = respond_err(env, c, r, &err, NULL);
		goto out;
	}
	if (load_topic(env, ctx, topic, &st, 0, NULL, &err) != SC_OK) {
		rc = respond_err(env, c, r, &err, NULL);
		goto out;
	}
	snprintf(etag, sizeof(etag), "\"%s-%lld-%s\"",
		 sc_store_epoch(env->store), (long long)st.version, topic);
	snprintf(extra, sizeof(extra),
		 "ETag: %s\r\nCache-Control: no-cache\r\n", etag);
	if (sc_route_etag_match(sc_fcgi_param_get(r, "HTTP_IF_NONE_MATCH"),
				etag)) {
		rc = respond(env, c, r, 304, extra, NULL, 0);
		goto out;
	}
	rc = respond_state(env, c, r, topic, &st, extra);
out:
	sc_store_state_free(&st);
	return rc;
}

/* --- POST /events/{topic} ------------------------------------------- */

typedef struct event_call {
	sc_ctx *ctx;
	const char *event;
	json_object *payload;
	size_t state_limit; /* 0: none */
} event_call;

/*
 * Refuses a change that leaves the state over limit bytes (serialized),
 * before anything is written: 413 state_too_big.  The store's estimate
 * costs nothing; the state is serialized only when it passes the limit.
 */
static sc_err state_size_check(sc_ctx *ctx, sc_store_txn *txn, size_t limit,
			       sc_error *err)
{
	size_t len = 0;
	sc_err rc;

	if (limit == 0)
		return SC_OK;
	rc = sc_store_txn_size(txn, limit, &len, err);
	if (rc != SC_OK)
		return rc;
	if (len <= limit)
		return SC_OK;
	ctx->state_too_big = 1;
	snprintf(ctx->code, sizeof(ctx->code), "state_too_big");
	return sc_error_set(err, SC_ERR_TOO_BIG,
			    "the event would make the state %zu bytes, over "
			    "the limit of %zu",
			    len, limit);
}

/*
 * What on_event's value rc means (statechannel.h): kept when it is in
 * the contract, else SC_ERR_HANDLER with a log line.
 */
static sc_err handler_result(sc_ctx *ctx, const char *event, sc_err rc)
{
	char t[256], e[256];

	if (rc == SC_ERR_REJECTED && ctx->rejected)
		return rc;
	if (rc == SC_ERR_FORBIDDEN && ctx->forbidden)
		return rc;
	if (rc == SC_ERR_NOMEM)
		return rc;
	if (rc == ctx->api_rc &&
	    (rc == SC_ERR_PATCH || rc == SC_ERR_POINTER || rc == SC_ERR_TEST ||
	     rc == SC_ERR_TOO_DEEP || rc == SC_ERR_TOO_BIG))
		return rc;
	sc_log(SC_LOG_ERROR,
	       "event=handler_failed callback=on_event topic=%s event=%s "
	       "value=%d why=%s",
	       sc_log_q(t, sizeof(t), ctx->topic), sc_log_q(e, sizeof(e), event),
	       (int)rc,
	       sc_log_q(e, sizeof(e),
			ctx->err.message[0] ? ctx->err.message
					    : "a value outside the contract"));
	sc_error_set(&ctx->err, SC_ERR_HANDLER,
		     "the application's handler failed");
	return SC_ERR_HANDLER;
}

static sc_err run_handler(sc_store_txn *txn, void *arg, sc_error *err)
{
	event_call *ec = arg;
	sc_ctx *ctx = ec->ctx;
	sc_err rc;

	ctx->txn = txn;
	ctx->rejected = ctx->forbidden = 0;
	ctx->api_rc = SC_OK;
	sc_error_clear(&ctx->err);
	rc = ctx->app->on_event(ctx, ec->event, ec->payload);
	ctx->txn = NULL;
	if (rc == SC_OK)
		return state_size_check(ctx, txn, ec->state_limit, err);
	rc = handler_result(ctx, ec->event, rc);
	if (err != NULL) {
		*err = ctx->err;
		err->code = rc;
		if (err->message[0] == '\0')
			sc_error_set(err, rc, "the handler failed (%s)",
				     sc_strerror(rc));
	}
	return rc;
}

/* A topic's first event: its initial state from the application. */
static json_object *run_init(void *arg, const char *topic)
{
	event_call *ec = arg;

	return ec->ctx->app->init_state(ec->ctx, topic);
}

/* Submits the event (group commit); a new topic is created with the
 * event's change, and only when it commits one. */
static sc_err change(sc_request_env *env, const char *topic, const char *idem,
		     event_call *ec, sc_store_result *res, sc_error *err)
{
	sc_store_req req = {topic, ec->event, idem, run_handler, ec, run_init};

	return sc_store_submit(env->store, &req, res, err);
}

/* Whether the JSON string s is 1 to 200 bytes with no NUL inside (the
 * store and the handler see names as C strings: "add\u0000x" would
 * run as "add"). */
static int name_ok(json_object *s)
{
	int len = json_object_get_string_len(s);

	return len > 0 && len <= 200 &&
	       strlen(json_object_get_string(s)) == (size_t)len;
}

/* A POST waiting for its group commit (env->async): what the handler
 * and the answer need, moved off the worker. */
typedef struct post_job {
	sc_request_env *env;
	int fd;
	sc_fcgi_request req; /* the worker's, moved here */
	json_object *body;
	sc_ctx ctx;
	event_call ec;
	sc_store_req sreq;
	int64_t t0; /* when the event was handed over (metrics) */
	char topic[SC_TOPIC_MAX + 1];
	char cors[SC_CORS_HEAD_MAX]; /* the answer's CORS headers */
} post_job;

/* The answer of a POST once its change is committed (or failed). */
static int post_answer(sc_request_env *env, sc_fcgi_conn *c,
		       const sc_fcgi_request *r, const sc_ctx *ctx,
		       const char *topic, sc_err e, const sc_store_result *res,
		       sc_error *err, int64_t t0)
{
	char cursor[SC_CURSOR_MAX], *json = NULL;
	size_t len = 0;
	int rc;

	sc_metrics_event(env->metrics, e == SC_OK ? 0 : ctx->rejected ? 1 : -1,
			 sc_metrics_clock() - t0);
	if (e != SC_OK) {
		err->code = e;
		return respond_err(env, c, r, err,
				   ctx->rejected || ctx->state_too_big
				       ? ctx->code
				       : NULL);
	}
	sc_store_cursor_format(env->store, res->seq, cursor);
	if (sc_sse_envelope(topic, res->version, cursor, "patch", res->patch,
			    strlen(res->patch), &json, &len) != SC_OK)
		return respond_error(env, c, r, 503, NULL, "nomem",
				     "out of memory");
	rc = respond(env, c, r, 200, "Cache-Control: no-store\r\n", json, len);
	sc_free(json);
	return rc;
}

static void post_job_free(post_job *p)
{
	sc_fcgi_request_free(&p->req);
	json_object_put(p->body);
	sc_free(p);
}

/* The store's callback, on its writer thread: answers without blocking
 * (the hub finishes what the peer does not take at once), then gives
 * the connection back as the worker would have. */
static void post_done(void *arg, sc_err e, const sc_store_result *res,
		      const sc_error *err)
{
	post_job *p = arg;
	sc_fcgi_conn c; /* only fd and the (empty) read-ahead are used */
	sc_error e2 = *err;
	int rc;

	c.fd = p->fd;
	c.start = c.end = 0;
	c.head_extra = p->cors[0] ? p->cors : NULL;
	rc = post_answer(p->env, &c, &p->req, &p->ctx, p->topic, e, res, &e2,
			 p->t0);
	if (rc == 0 && p->req.keep_conn && p->env->hub != NULL)
		sc_hub_add_idle(p->env->hub, p->fd);
	else if (rc != 1)
		close(p->fd);
	post_job_free(p);
}

/*
 * Hands the event to the store's writer thread: the request's buffers
 * and the parsed body move into a job (r and *body are emptied), the
 * worker goes on.  1 when handed over; 0 when the store refused it at
 * once (err filled, nothing moved).
 */
static int post_async(sc_request_env *env, sc_fcgi_conn *c,
		      sc_fcgi_request *r, const sc_ctx *ctx, const char *topic,
		      json_object **body, const event_call *ec,
		      const char *idem, int64_t t0, sc_error *err)
{
	post_job *p = sc_calloc(1, sizeof(*p));

	if (p == NULL) {
		sc_error_set(err, SC_ERR_NOMEM, "out of memory");
		return 0;
	}
	p->env = env;
	p->fd = c->fd;
	p->t0 = t0;
	if (c->head_extra != NULL)
		snprintf(p->cors, sizeof(p->cors), "%s", c->head_extra);
	p->req = *r;
	p->body = *body;
	p->ctx = *ctx;
	p->ctx.req = &p->req;
	snprintf(p->topic, sizeof(p->topic), "%s", topic);
	p->ctx.topic = p->topic;
	p->ec = *ec;
	p->ec.ctx = &p->ctx;
	p->sreq = (sc_store_req){p->topic, ec->event, idem, run_handler,
				 &p->ec, run_init};
	if (sc_store_submit_async(env->store, &p->sreq, post_done, p, err) !=
	    SC_OK) {
		sc_free(p);
		return 0;
	}
	memset(r, 0, sizeof(*r));
	*body = NULL;
	return 1;
}

static int post_event(sc_request_env *env, sc_fcgi_conn *c,
		      sc_fcgi_request *r, sc_ctx *ctx, const char *topic)
{
	json_object *body = NULL, *ev = NULL, *id = NULL, *payload = NULL;
	const char *idem = NULL;
	sc_store_result res = {0};
	char msg[128];
	event_call ec;
	sc_error err;
	sc_err e;
	int64_t t0;
	int rc;

	sc_error_clear(&err);
	if (!sc_route_is_json(sc_fcgi_param_get(r, "CONTENT_TYPE"))) {
		rc = respond_error(env, c, r, 415, NULL, "not_json",
				   "the body must be application/json");
		goto out;
	}
	if (r->body_too_big) {
		snprintf(msg, sizeof(msg), "the body is over %zu bytes",
			 env->body_limit);
		rc = respond_error(env, c, r, 413, NULL, "too_big", msg);
		goto out;
	}
	if (authorize(ctx, topic, &err) != SC_OK) {
		rc = respond_err(env, c, r, &err, NULL);
		goto out;
	}
	if (sc_json_parse(r->body, r->body_len, &body, &err) != SC_OK) {
		rc = respond_error(env, c, r, 400, NULL, sc_strerror(err.code),
				   err.message);
		goto out;
	}
	if (!json_object_is_type(body, json_type_object) ||
	    !json_object_object_get_ex(body, "event", &ev) ||
	    !json_object_is_type(ev, json_type_string) ||
	    !name_ok(ev)) {
		rc = respond_error(env, c, r, 400, NULL, "bad_event",
				   "the body must be an object with "
				   "\"event\": a name of 1 to 200 bytes "
				   "without NUL");
		goto out;
	}
	if (json_object_object_get_ex(body, "id", &id) && id != NULL) {
		if (!json_object_is_type(id, json_type_string) ||
		    !name_ok(id)) {
			rc = respond_error(env, c, r, 400, NULL, "bad_id",
					   "\"id\" must be a string of 1 to "
					   "200 bytes without NUL");
			goto out;
		}
		idem = json_object_get_string(id);
	}
	json_object_object_get_ex(body, "payload", &payload);
	ec.ctx = ctx;
	ec.event = json_object_get_string(ev);
	ec.payload = payload;
	ec.state_limit = env->state_limit;
	ctx->topic = topic;
	t0 = sc_metrics_clock();
	/* The body's strings (event, id, payload) move with it. */
	if (env->async && c->start == c->end) {
		if (post_async(env, c, r, ctx, topic, &body, &ec, idem, t0,
			       &err))
			return 1;
		rc = post_answer(env, c, r, ctx, topic, err.code, NULL, &err,
				 t0);
		goto out;
	}
	e = change(env, topic, idem, &ec, &res, &err);
	rc = post_answer(env, c, r, ctx, topic, e, &res, &err, t0);
out:
	sc_store_result_free(&res);
	json_object_put(body);
	return rc;
}

/* --- GET /stream ---------------------------------------------------- */

static int get_stream(sc_request_env *env, sc_fcgi_conn *c,
		      const sc_fcgi_request *r, sc_ctx *ctx,
		      const sc_route *route)
{
	char head[512 + SC_CORS_HEAD_MAX];
	int head_len;
	const char *query = sc_fcgi_param_get(r, "QUERY_STRING");
	char topics[MAX_STREAM_TOPICS][SC_TOPIC_MAX + 1];
	char cursor[SC_CURSOR_MAX];
	sc_hub_stream *s = NULL;
	size_t n = 0, i, q;
	sc_error err;
	int rc, found;

	sc_error_clear(&err);
	if (route->has_topic)
		memcpy(topics[n++], route->topic, sizeof(route->topic));
	for (q = 0;; q++) {
		char t[SC_TOPIC_MAX + 1];

		found = sc_route_query(query, "topic", q, t, sizeof(t));
		if (found == 0)
			break;
		if (q == MAX_TOPIC_PARAMS) {
			rc = respond_error(env, c, r, 400, NULL, "too_many_topics",
					   "at most 256 topic parameters");
			goto out;
		}
		if (found < 0 || sc_topic_check(t, &err) != SC_OK) {
			rc = respond_error(env, c, r, 400, NULL, "bad_topic",
					   found < 0 ? "a topic is malformed"
						     : err.message);
			goto out;
		}
		for (i = 0; i < n && strcmp(topics[i], t) != 0; i++)
			;
		if (i < n)
			continue;
		if (n == MAX_STREAM_TOPICS) {
			rc = respond_error(env, c, r, 400, NULL, "too_many_topics",
					   "at most 64 topics per stream");
			goto out;
		}
		memcpy(topics[n++], t, sizeof(t));
	}
	if (n == 0) {
		rc = respond_error(env, c, r, 400, NULL, "no_topic",
				   "name a topic: /stream/TOPIC or "
				   "/stream?topic=TOPIC");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (authorize(ctx, topics[i], &err) != SC_OK) {
			rc = respond_err(env, c, r, &err, NULL);
			goto out;
		}
	}
	if (env->hub == NULL) {
		rc = respond_error(env, c, r, 503, NULL, "unavailable",
				   "streams are not served here");
		goto out;
	}
	if (env->max_streams > 0 && sc_hub_count(env->hub) >= env->max_streams) {
		rc = respond_error(env, c, r, 503, "Retry-After: 5\r\n",
				   "too_many_streams",
				   "this process holds as many streams as it "
				   "may: retry later");
		goto out;
	}
	sc_route_cursor(sc_fcgi_param_get(r, "HTTP_LAST_EVENT_ID"), query,
			cursor);
	s = sc_hub_stream_new(c->fd, r->id, r->keep_conn, cursor);
	for (i = 0; s != NULL && i < n; i++) {
		sc_store_state st = {0};
		int fresh = 0;
		sc_err e;

		/* A topic never written is not stored: the hub sends its
		 * init_state at version 0 until an event creates it. */
		if (load_topic(env, ctx, topics[i], &st, 0, &fresh, &err) !=
		    SC_OK) {
			sc_hub_stream_free(s);
			s = NULL;
			rc = respond_err(env, c, r, &err, NULL);
			goto out;
		}
		e = sc_hub_stream_topic(s, topics[i], fresh ? st.state : NULL,
					st.state_len);
		sc_store_state_free(&st);
		if (e != SC_OK)
			break;
	}
	if (s == NULL || i < n) {
		rc = respond_error(env, c, r, 503, NULL, "nomem", "out of memory");
		goto out;
	}
	head_len = snprintf(head, sizeof(head),
			    "Status: 200 OK\r\n"
			    "Content-Type: text/event-stream\r\n"
			    "Cache-Control: no-cache\r\n"
			    "X-Accel-Buffering: no\r\n" COMMON_HEADERS
			    "%s\r\n" RETRY_LINE,
			    c->head_extra ? c->head_extra : "");
	if (head_len < 0 || (size_t)head_len >= sizeof(head) ||
	    sc_fcgi_write(c->fd, r->id, head, (size_t)head_len, NULL, 0, 0) !=
		SC_OK) {
		rc = -1;
		goto out;
	}
	/* Whatever the server sent after the request goes to the hub's
	 * record parser (an abort ends the stream at once). */
	if (sc_hub_stream_feed(s, c->buf + c->start, c->end - c->start)) {
		c->start = c->end;
		rc = sc_fcgi_write(c->fd, r->id, NULL, 0, NULL, 0, 1) == SC_OK
			 ? 0
			 : -1;
		goto out;
	}
	c->start = c->end;
	sc_hub_add(env->hub, s);
	s = NULL;
	rc = 1;
out:
	sc_hub_stream_free(s);
	return rc;
}

/* --- GET /health, GET /metrics, CORS -------------------------------- */

static int monitor(sc_request_env *env, sc_fcgi_conn *c,
		   const sc_fcgi_request *r, sc_metrics_route mr,
		   const char *method)
{
	static const char ok[] = "{\"status\":\"ok\"}";
	static const char mhead[] =
	    "Status: 200 OK\r\n"
	    "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n\r\n";
	char *text;
	size_t len = 0;
	int64_t seq;
	sc_error err;
	int rc;

	sc_error_clear(&err);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return respond_error(env, c, r, 405, "Allow: GET, HEAD\r\n",
				     "method_not_allowed", "use GET");
	if (mr == SC_METRICS_HEALTH) {
		if (sc_store_max_seq(env->store, &seq, &err) != SC_OK)
			return respond_error(env, c, r, 503, NULL, "unavailable",
					     err.message[0] ? err.message
							    : "no database");
		return respond(env, c, r, 200, "Cache-Control: no-store\r\n", ok,
			       sizeof(ok) - 1);
	}
	text = sc_metrics_render(env->metrics,
				 env->hub ? sc_hub_count(env->hub) : 0, &len);
	if (text == NULL)
		return respond_error(env, c, r, 503, NULL, "nomem", "out of memory");
	/* Not JSON: respond() would label it so. */
	if (strcmp(method, "HEAD") == 0)
		len = 0;
	rc = sc_fcgi_write(c->fd, r->id, mhead, sizeof(mhead) - 1, text, len,
			   1) == SC_OK
		 ? 0
		 : -1;
	sc_free(text);
	return rc;
}

/*
 * CORS (cors.h) for a routed request: answers a preflight (0), refuses
 * a POST from an origin that is not allowed with 403 (0, -1 when
 * writing failed), or sets the headers every answer to it carries (in
 * buf) and returns 1 to go on.
 */
static int cross_origin(sc_request_env *env, sc_fcgi_conn *c,
			const sc_fcgi_request *r, const char *method,
			char buf[SC_CORS_HEAD_MAX])
{
	const char *origin = sc_fcgi_param_get(r, "HTTP_ORIGIN");
	const char *host = sc_fcgi_param_get(r, "HTTP_HOST");

	if (!sc_cors_enabled(env->cors))
		return 1;
	if (strcmp(method, "OPTIONS") == 0) {
		if (!sc_cors_preflight(
			env->cors, origin, host,
			sc_fcgi_param_get(r,
					  "HTTP_ACCESS_CONTROL_REQUEST_METHOD"),
			buf))
			return respond_error(env, c, r, 403, NULL,
					     "origin_not_allowed",
					     "this origin may not make this "
					     "request");
		c->head_extra = buf;
		return respond(env, c, r, 204, "Allow: GET, HEAD, POST, OPTIONS\r\n",
			       NULL, 0);
	}
	if (!sc_cors_check(env->cors, origin, host,
			   strcmp(method, "POST") == 0, buf))
		return respond_error(env, c, r, 403, NULL, "origin_not_allowed",
				     "this origin may not send events");
	c->head_extra = buf;
	return 1;
}

/* --- dispatch ------------------------------------------------------- */

static int dispatch(sc_request_env *env, sc_fcgi_conn *c,
		    sc_fcgi_request *r, char cors[SC_CORS_HEAD_MAX])
{
	const char *method = sc_fcgi_param_get(r, "REQUEST_METHOD");
	sc_route route;
	sc_ctx ctx;
	sc_error err;
	sc_err rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.app = env->app;
	ctx.req = r;
	sc_error_clear(&ctx.err);
	sc_error_clear(&err);
	if (method == NULL)
		method = "GET";
	c->head_extra = NULL;
	if (env->serve_health || env->serve_metrics) {
		sc_metrics_route mr = sc_metrics_route_of(
		    sc_fcgi_param_get(r, "REQUEST_URI"));

		if ((mr == SC_METRICS_HEALTH && env->serve_health) ||
		    (mr == SC_METRICS_METRICS && env->serve_metrics))
			return monitor(env, c, r, mr, method);
	}
	rc =
	    sc_route_request(sc_fcgi_param_get(r, "PATH_INFO"),
			     sc_fcgi_param_get(r, "REQUEST_URI"),
			     sc_fcgi_param_get(r, "SCRIPT_NAME"), &route, &err);
	if (rc == SC_ERR_NOT_FOUND)
		return respond_error(env, c, r, 404, NULL, "not_found",
				     "no such route: use /state/TOPIC, "
				     "/events/TOPIC or /stream");
	if (rc != SC_OK)
		return respond_error(env, c, r, 400, NULL, "bad_topic",
				     err.message);
	rc = cross_origin(env, c, r, method, cors);
	if (rc != 1)
		return rc;
	switch (route.kind) {
	case SC_ROUTE_STATE:
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
			return respond_error(env, c, r, 405, "Allow: GET, HEAD\r\n",
					     "method_not_allowed",
					     "use GET on /state/TOPIC");
		return get_state(env, c, r, &ctx, route.topic);
	case SC_ROUTE_EVENTS:
		if (strcmp(method, "POST") != 0)
			return respond_error(env, c, r, 405, "Allow: POST\r\n",
					     "method_not_allowed",
					     "use POST on /events/TOPIC");
		return post_event(env, c, r, &ctx, route.topic);
	case SC_ROUTE_STREAM:
		if (strcmp(method, "GET") != 0)
			return respond_error(env, c, r, 405, "Allow: GET\r\n",
					     "method_not_allowed",
					     "use GET on /stream");
		return get_stream(env, c, r, &ctx, &route);
	default:
		return respond_error(env, c, r, 404, NULL, "not_found",
				     "no such route");
	}
}

int sc_request_handle(sc_request_env *env, sc_fcgi_conn *c,
		      sc_fcgi_request *r)
{
	char cors[SC_CORS_HEAD_MAX];
	int rc = dispatch(env, c, r, cors);

	c->head_extra = NULL; /* it pointed at cors */
	return rc;
}
