/*
 * statechannel/error.h — the one error enum of StateChannel, and the
 * error struct callers pass in to receive a detailed message.  Part of
 * the installed API (<statechannel/statechannel.h> includes it); in the
 * source tree, common/error.h includes this file.
 *
 * The one error rule of the code base: every function that can fail
 * returns sc_err, SC_OK (0) on success, another value on failure, and
 * fills an optional sc_error (NULL is always allowed) with the same code,
 * a human-readable message and, where it applies (JSON Patch), the index
 * of the failing operation.  The code returned never depends on whether
 * the caller passed an sc_error.  No 1/0/-1 conventions: a function with
 * several successful outcomes says which through an out parameter or a
 * named enum.  No error is dropped: each is returned or logged
 * (common/log.h).
 */
#ifndef SC_STATECHANNEL_ERROR_H
#define SC_STATECHANNEL_ERROR_H

#include <stddef.h>

typedef enum sc_err {
	SC_OK = 0,
	SC_ERR_NOMEM,	  /* an allocation failed */
	SC_ERR_INVALID,	  /* an argument or input is malformed */
	SC_ERR_JSON,	  /* text is not valid JSON */
	SC_ERR_TOO_BIG,	  /* a size limit was exceeded */
	SC_ERR_TOO_DEEP,  /* the nesting-depth limit was exceeded */
	SC_ERR_POINTER,	  /* a JSON Pointer is malformed */
	SC_ERR_PATCH,	  /* a JSON Patch is malformed or cannot apply */
	SC_ERR_TEST,	  /* a JSON Patch "test" op did not match */
	SC_ERR_NOT_FOUND, /* a path, topic or row does not exist */
	SC_ERR_TOPIC,	  /* a topic name is invalid */
	SC_ERR_CURSOR,	  /* a cursor is malformed or cannot be resumed */
	SC_ERR_BUSY,	  /* the store is busy (lock not obtained in time) */
	SC_ERR_STORE,	  /* the store failed (SQLite error, corrupt file) */
	SC_ERR_SCHEMA,	  /* the database has a newer, unknown schema */
	SC_ERR_READONLY,  /* the database cannot be written */
	SC_ERR_REJECTED,  /* the application rejected a change */
	SC_ERR_FORBIDDEN, /* the application refused access */
	SC_ERR_IO,	  /* a system call failed */
	SC_ERR_HANDLER,	  /* an application callback returned a value
			     outside its contract (statechannel.h) */
	SC_ERR__COUNT
} sc_err;

#define SC_ERROR_MESSAGE_MAX 256

typedef struct sc_error {
	sc_err code;
	long index; /* failing JSON Patch op, or -1 when not applicable */
	char message[SC_ERROR_MESSAGE_MAX];
} sc_error;

/*
 * Returns a static, constant, lower_snake_case name for code
 * ("ok", "nomem", "bad_json", ...).  Never NULL; unknown codes give
 * "unknown".
 */
const char *sc_strerror(sc_err code);

/*
 * Resets err (if not NULL) to SC_OK, index -1, empty message.
 */
void sc_error_clear(sc_error *err);

/*
 * Fills err (if not NULL) with code, index -1 and the printf-formatted
 * message (truncated to fit).  Returns code, so a caller can write
 * `return sc_error_set(err, SC_ERR_INVALID, "bad %s", what);`.
 */
sc_err sc_error_set(sc_error *err, sc_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
