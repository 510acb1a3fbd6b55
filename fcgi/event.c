/*
 * fcgi/event.c — the route POST /events/{topic}: the body's checks, the
 * event submitted to the store's group commit (the handler runs in its
 * transaction, fcgi/api.c), and the answer, written here or, when the
 * store's writer thread runs (env->async), by the writer thread once
 * the group commits, so that no worker waits for the store.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/alloc.h"
#include "fcgi/reqint.h"
#include "fcgi/route.h"
#include "json/value.h"

/* Submits the event (group commit); a new topic is created with the
 * event's change, and only when it commits one. */
static sc_err change(sc_request_env *env, const char *topic, const char *idem,
		     sc_api_event *ec, sc_store_result *res, sc_error *err)
{
	sc_store_req req = {topic,	ec->event, idem,
			    sc_api_run, ec,	   sc_api_init};

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
	sc_api_event ec;
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

	sc_metrics_event(env->metrics,
			 e == SC_OK	 ? 0
			 : ctx->rejected ? 1
					 : -1,
			 sc_clock_mono_ns() - t0);
	if (e != SC_OK) {
		err->code = e;
		return sc_answer_err(
		    env, c, r, err,
		    ctx->rejected || ctx->state_too_big ? ctx->code : NULL);
	}
	sc_store_cursor_format(env->store, res->seq, cursor);
	if (sc_sse_envelope(topic, res->version, cursor, "patch", res->patch,
			    strlen(res->patch), &json, &len) != SC_OK)
		return sc_answer_error(env, c, r, 503, NULL, "nomem",
				       "out of memory");
	rc =
	    sc_answer(env, c, r, 200, "Cache-Control: no-store\r\n", json, len);
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
static int post_async(sc_request_env *env, sc_fcgi_conn *c, sc_fcgi_request *r,
		      const sc_ctx *ctx, const char *topic, json_object **body,
		      const sc_api_event *ec, const char *idem, int64_t t0,
		      sc_error *err)
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
	p->sreq = (sc_store_req){p->topic,   ec->event, idem,
				 sc_api_run, &p->ec,	sc_api_init};
	if (sc_store_submit_async(env->store, &p->sreq, post_done, p, err) !=
	    SC_OK) {
		sc_free(p);
		return 0;
	}
	memset(r, 0, sizeof(*r));
	*body = NULL;
	return 1;
}

int sc_event_post(sc_request_env *env, sc_fcgi_conn *c, sc_fcgi_request *r,
		  sc_ctx *ctx, const char *topic)
{
	json_object *body = NULL, *ev = NULL, *id = NULL, *payload = NULL;
	const char *idem = NULL;
	sc_store_result res = {0};
	char msg[128];
	sc_api_event ec;
	sc_error err;
	sc_err e;
	int64_t t0;
	int rc;

	sc_error_clear(&err);
	if (!sc_route_is_json(sc_fcgi_param_get(r, "CONTENT_TYPE"))) {
		rc = sc_answer_error(env, c, r, 415, NULL, "not_json",
				     "the body must be application/json");
		goto out;
	}
	if (r->body_too_big) {
		snprintf(msg, sizeof(msg), "the body is over %zu bytes",
			 env->body_limit);
		rc = sc_answer_error(env, c, r, 413, NULL, "too_big", msg);
		goto out;
	}
	if (sc_api_authorize(ctx, topic, &err) != SC_OK) {
		rc = sc_answer_err(env, c, r, &err, NULL);
		goto out;
	}
	if (sc_json_parse(r->body, r->body_len, &body, &err) != SC_OK) {
		rc = sc_answer_error(env, c, r, 400, NULL,
				     sc_strerror(err.code), err.message);
		goto out;
	}
	if (!json_object_is_type(body, json_type_object) ||
	    !json_object_object_get_ex(body, "event", &ev) ||
	    !json_object_is_type(ev, json_type_string) || !name_ok(ev)) {
		rc = sc_answer_error(env, c, r, 400, NULL, "bad_event",
				     "the body must be an object with "
				     "\"event\": a name of 1 to 200 bytes "
				     "without NUL");
		goto out;
	}
	if (json_object_object_get_ex(body, "id", &id) && id != NULL) {
		if (!json_object_is_type(id, json_type_string) ||
		    !name_ok(id)) {
			rc = sc_answer_error(env, c, r, 400, NULL, "bad_id",
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
	t0 = sc_clock_mono_ns();
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
