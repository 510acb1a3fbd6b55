/*
 * statechannel/statechannel.h — the application programmer's API.
 *
 * Installed by `make install` as <statechannel/statechannel.h> (with
 * statechannel/error.h and statechannel/version.h beside it); link with
 * `pkg-config --cflags --libs statechannel`.  The manual page
 * statechannel(3) describes the same functions.
 *
 * A StateChannel program is an sc_app (three callbacks) and one call:
 *
 *	static const sc_app app = {
 *		.init_state = init_state,   // topic -> initial state, or NULL
 *		.authorize = authorize,     // optional: 0 allows, else 403
 *		.on_event = on_event,       // changes the state of one topic
 *	};
 *	int main(int argc, char **argv) { return sc_app_main(&app, argc, argv);
 *}
 *
 * The program is then a FastCGI application serving the routes of
 * docs/protocol.md (GET /state/{topic}, POST /events/{topic},
 * GET /stream...: bodies, frames, cursors, every error) and holding
 * Server-Sent Event streams in one event-driven hub; its options are in
 * statechannel(1) and `PROGRAM --help`, how to mount it in docs/deploy.md.
 *
 * Callbacks run on several threads at once (init_state and authorize on
 * the worker threads, on_event on the process's writer thread, one
 * event after another; each with its own
 * request context and database connection): they must not share mutable
 * globals without locking.  on_event runs inside the store's write
 * transaction of its topic; whatever it does with sc_db() commits with
 * the state, or is rolled back with it when the handler fails.
 */
#ifndef SC_STATECHANNEL_H
#define SC_STATECHANNEL_H

#include <json-c/json.h>
#include <sqlite3.h>

/* Beside this file, here and where it is installed. */
#include "error.h"
#include "log.h"
#include "version.h"

/* libpq's connection (libpq-fe.h), for sc_pg. */
typedef struct pg_conn PGconn;

/* One request's context; owned by the library, valid during a callback. */
typedef struct sc_ctx sc_ctx;

typedef struct sc_app {
	/*
	 * Returns the initial state of topic as a new reference (JSON null
	 * is not allowed: return an empty object or array), or NULL when no
	 * such topic may exist (the request gets 404).  Called whenever a
	 * topic that is not stored is read (GET, stream: answered at version
	 * 0, nothing stored) and before its first event (stored with the
	 * event's change; an event that fails or changes nothing leaves no
	 * topic behind).  Must give the same state every time for a topic.
	 * Required.
	 */
	json_object *(*init_state)(sc_ctx *ctx, const char *topic);

	/*
	 * Whether the request may read (GET, stream) or change (POST)
	 * topic: SC_OK allows; SC_ERR_FORBIDDEN refuses (403
	 * "forbidden"); SC_ERR_NOT_FOUND answers 404 "not_found".  Any
	 * other value is a bug of the callback: 500 "handler_failed" and a
	 * log line.  sc_param() gives the request's CGI variables
	 * (REMOTE_USER, HTTP_COOKIE, HTTP_AUTHORIZATION,
	 * REQUEST_METHOD...).  Optional: NULL allows all.
	 */
	sc_err (*authorize)(sc_ctx *ctx, const char *topic);

	/*
	 * Handles one event of POST /events/{topic}.  payload is borrowed
	 * (NULL when absent or JSON null).  Change the state with
	 * sc_set_state, sc_patch_state or sc_apply_patch.  Returns, and the
	 * client then gets:
	 *
	 *   SC_OK                       200, the change commits
	 *   return sc_reject(ctx, ...)  422 with the code given
	 *   return sc_forbid(ctx, ...)  403 "forbidden"
	 *   the error of sc_set_state, sc_patch_state or sc_apply_patch,
	 *   returned as it is:          422 "bad_patch", "bad_pointer",
	 *                               "test_failed" or "too_deep";
	 *                               413 "too_big"; 503 "nomem"
	 *   SC_ERR_NOMEM (your own allocation failed)
	 *                               503 "nomem" (the client retries)
	 *   any other value (an SQLite code, -1, an error no call of this
	 *   API gave)                   500 "handler_failed", and a log
	 *                               line naming the topic, the event
	 *                               and the value
	 *
	 * Any value but SC_OK rolls back everything the handler did, with
	 * what it wrote through sc_db().  Required.
	 */
	sc_err (*on_event)(sc_ctx *ctx, const char *event, json_object *payload);

	/* Free for the application; sc_app_data() returns it. */
	void *data;
} sc_app;

/*
 * Runs the application: parses the options (--help lists them), opens
 * the database, serves FastCGI on fd 0 (spawned by lighttpd or
 * mod_fcgid) or on --listen PATH|HOST:PORT, until SIGTERM or SIGINT
 * (SIGHUP is logged and ignored).  --version prints SC_VERSION.
 * Returns the process exit status: 0 after a clean stop (or --help,
 * --version), 1 when it could not start (bad database, socket in use),
 * 2 on a usage error.
 */
int sc_app_main(const sc_app *app, int argc, char **argv);

/* The sc_app's data pointer. */
void *sc_app_data(sc_ctx *ctx);

/* The topic of the request (borrowed, valid during the callback). */
const char *sc_topic(sc_ctx *ctx);

/*
 * The CGI variable name of the request ("REMOTE_USER", "HTTP_COOKIE",
 * "HTTP_AUTHORIZATION", "REQUEST_METHOD", ...) as the web server sent
 * it, or NULL when absent.  Borrowed, valid during the callback.
 */
const char *sc_param(sc_ctx *ctx, const char *name);

/*
 * Inside on_event: the current state (borrowed; valid until the next
 * sc_set_state / sc_patch_state / sc_apply_patch or the end of the
 * handler; do not modify it — copy it, or use the functions below).
 * NULL outside on_event.
 */
json_object *sc_state(sc_ctx *ctx);

/*
 * Inside on_event: replaces the whole state with state (ownership
 * taken, even on error); the patch sent to subscribers is the diff.
 * Returns SC_OK, or an error to return from the handler.
 */
sc_err sc_set_state(sc_ctx *ctx, json_object *state);

/*
 * Inside on_event: sets the value at JSON Pointer path to value
 * (ownership taken, even on error; NULL is JSON null): an RFC 6902
 * "replace" when path exists, else an "add" (so "/items/-" appends).
 * The op is logged and sent as it is, without a diff.  Returns SC_OK,
 * or SC_ERR_PATCH / SC_ERR_POINTER when the parent does not exist.
 */
sc_err sc_patch_state(sc_ctx *ctx, const char *path, json_object *value);

/*
 * Inside on_event: applies ops (an RFC 6902 patch array, borrowed) to
 * the state; they are logged and sent as they are.  Atomic: on error the
 * state is as before the call.  Returns SC_OK or the patch error.
 */
sc_err sc_apply_patch(sc_ctx *ctx, json_object *ops);

/*
 * Inside on_event: refuses the event.  The client gets 422 with
 * {"error":{"code":code,"message":message}} (both copied, truncated to
 * fit; NULL code gives "rejected").  Returns SC_ERR_REJECTED, for
 * `return sc_reject(ctx, "empty_name", "the name is empty");`.  Nothing
 * the handler did is kept.
 */
sc_err sc_reject(sc_ctx *ctx, const char *code, const char *message);

/*
 * Inside on_event: refuses the event as not allowed for this client.
 * The client gets 403 {"error":{"code":"forbidden","message":message}}
 * (copied; NULL gives a default).  Returns SC_ERR_FORBIDDEN, for
 * `return sc_forbid(ctx, "only the owner may clear the list");`.
 * Nothing the handler did is kept.
 */
sc_err sc_forbid(sc_ctx *ctx, const char *message);

/* Logging from callbacks: sc_log() of log.h (included above), the
 * library's own logger, e.g.
 * `sc_log(SC_LOG_WARN, "event=quota_exceeded user=%s", u);`. */

/*
 * Inside on_event: the SQLite connection of the event's write
 * transaction (do not BEGIN, COMMIT or close it).  NULL outside it, and
 * when the store is PostgreSQL (--db postgresql://...).  What the handler
 * writes with it commits with the event, or not at all.
 */
sqlite3 *sc_db(sc_ctx *ctx);

/*
 * Inside on_event, when the store is PostgreSQL: the libpq connection
 * (include <libpq-fe.h>) of the event's write transaction, inside the
 * event's own SAVEPOINT: the application's tables commit with the event
 * or not at all.  Do not BEGIN, COMMIT, ROLLBACK or close it, and read
 * every result (no query left running).  NULL outside on_event and on
 * SQLite.
 */
PGconn *sc_pg(sc_ctx *ctx);

#endif
