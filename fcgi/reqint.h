/*
 * fcgi/reqint.h — the insides of a request on a worker thread
 * (request.h), shared by the files that make it up and by no other:
 *
 *   fcgi/request.c  the routes: dispatch, GET /state, GET /stream,
 *                   /health, /metrics, CORS;
 *   fcgi/event.c    the route POST /events/{topic};
 *   fcgi/answer.c   the HTTP answers: heads, JSON bodies and errors;
 *   fcgi/api.c      the handler API of statechannel.h and the calls
 *                   into the application's callbacks.
 */
#ifndef SC_FCGI_REQINT_H
#define SC_FCGI_REQINT_H

#include <stddef.h>

#include "fcgi/request.h"
#include "fcgi/sse.h"

/* What the handler API's calls see (statechannel.h: sc_ctx). */
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

/* --- api.c ---------------------------------------------------------- */

/*
 * The application's authorize for topic (sets ctx->topic): SC_OK,
 * SC_ERR_FORBIDDEN or SC_ERR_NOT_FOUND with err filled, or
 * SC_ERR_HANDLER (logged) for a value outside its contract.
 */
sc_err sc_api_authorize(sc_ctx *ctx, const char *topic, sc_error *err);

/* One event for on_event. */
typedef struct sc_api_event {
	sc_ctx *ctx;
	const char *event;
	json_object *payload;
	size_t state_limit; /* 0: none */
} sc_api_event;

/*
 * The store's callback inside the event's transaction (sc_store_req.run,
 * arg an sc_api_event): runs on_event, then refuses a state over its
 * limit (413 state_too_big).  A value outside the contract becomes
 * SC_ERR_HANDLER with a log line naming the topic, event and value.
 */
sc_err sc_api_run(sc_store_txn *txn, void *arg, sc_error *err);

/* The store's callback for a topic's first event (sc_store_req.init,
 * arg an sc_api_event): its initial state from init_state (a new
 * reference, or NULL). */
json_object *sc_api_init(void *arg, const char *topic);

/* --- answer.c ------------------------------------------------------- */

/* Headers every answer carries. */
#define SC_ANSWER_HEADERS "X-Content-Type-Options: nosniff\r\n"

/* The room for the head of an answer. */
#define SC_ANSWER_HEAD_MAX (1024 + SC_CORS_HEAD_MAX)

/*
 * The functions below write an answer to request r on c; each returns
 * what sc_request_handle returns (0 written, 1 handed over, -1 failed).
 */

/* Writes an answer made of shared texts (the head first) without
 * blocking this thread: what the peer does not take at once is
 * finished by the hub (sc_hub_respond). */
int sc_answer_write(sc_request_env *env, sc_fcgi_conn *c,
		    const sc_fcgi_request *r, sc_sse_frame *const *frames,
		    size_t n);

/* The head of an answer: status, headers (extra: whole "Name: v\r\n"
 * lines; more: the connection's own, CORS) and, for a JSON body, its
 * Content-Type, into head (SC_ANSWER_HEAD_MAX bytes).  Returns its
 * length, or -1 when it does not fit. */
int sc_answer_head(char *head, int status, const char *extra, const char *more,
		   int json);

/* Whether r is a HEAD request (the answer has no body). */
int sc_answer_is_head(const sc_fcgi_request *r);

/* A response: status, headers (extra: whole "Name: v\r\n" lines), a
 * JSON body (may be NULL). */
int sc_answer(sc_request_env *env, sc_fcgi_conn *c, const sc_fcgi_request *r,
	      int status, const char *extra, const char *body, size_t len);

/* An error response: {"error":{"code","message"}} with status. */
int sc_answer_error(sc_request_env *env, sc_fcgi_conn *c,
		    const sc_fcgi_request *r, int status, const char *extra,
		    const char *code, const char *message);

/* The error response for err (store, handler): its status, its code
 * name (or app_code, the handler's code when it called sc_reject);
 * logged as the status deserves. */
int sc_answer_err(sc_request_env *env, sc_fcgi_conn *c,
		  const sc_fcgi_request *r, const sc_error *err,
		  const char *app_code);

/* 200 with the envelope of st: the head and the envelope's start, the
 * state text (shared by every answer of its version when big), then
 * "}". */
int sc_answer_state(sc_request_env *env, sc_fcgi_conn *c,
		    const sc_fcgi_request *r, const char *topic,
		    const sc_store_state *st, const char *extra);

/* --- event.c -------------------------------------------------------- */

/* POST /events/{topic} (method checked) for r; may empty r when it
 * hands the request to the store's writer thread (returns 1). */
int sc_event_post(sc_request_env *env, sc_fcgi_conn *c, sc_fcgi_request *r,
		  sc_ctx *ctx, const char *topic);

#endif
