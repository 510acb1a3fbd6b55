/*
 * fcgi/fcgiwire.h — the FastCGI 1.0 protocol, responder role, written
 * by hand: reading one request (BEGIN_REQUEST, PARAMS, STDIN) from a
 * blocking connection, answering management records, and writing
 * FCGI_STDOUT / FCGI_END_REQUEST records.  Prefix sc_fcgi_.
 *
 * Why not libfcgi: a stream's connection is handed from a worker thread
 * to the hub, which writes records on it without blocking; libfcgi owns
 * the fd, its buffers (16 KB+ per request) and writes END_REQUEST when a
 * request is finished or freed.  Writing the protocol ourselves keeps a
 * stream's memory to what the hub allocates and tells us exactly what
 * the web server asked (FCGI_KEEP_CONN) and what it sends afterwards.
 */
#ifndef SC_FCGI_FCGIWIRE_H
#define SC_FCGI_FCGIWIRE_H

#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

#include "common/error.h"

#define SC_FCGI_HEADER_LEN	  8
#define SC_FCGI_MAX_CONTENT	  65535
#define SC_FCGI_BEGIN_REQUEST	  1
#define SC_FCGI_ABORT_REQUEST	  2
#define SC_FCGI_END_REQUEST	  3
#define SC_FCGI_PARAMS		  4
#define SC_FCGI_STDIN		  5
#define SC_FCGI_STDOUT		  6
#define SC_FCGI_GET_VALUES	  9
#define SC_FCGI_GET_VALUES_RESULT 10
#define SC_FCGI_UNKNOWN_TYPE	  11
#define SC_FCGI_KEEP_CONN	  1
#define SC_FCGI_RESPONDER	  1
#define SC_FCGI_REQUEST_COMPLETE  0
#define SC_FCGI_CANT_MPX_CONN	  1
#define SC_FCGI_UNKNOWN_ROLE	  3

/* Bytes of FCGI_PARAMS one request may send. */
#define SC_FCGI_PARAMS_MAX (64 * 1024)
#define SC_FCGI_CONN_BUF   16384

/* A blocking connection with its read buffer (one per worker thread). */
typedef struct sc_fcgi_conn {
	int fd;
	size_t start, end;
	/* Response header lines ("Name: v\r\n"...) the answer to the
	 * current request carries (CORS), or NULL; set by its handler. */
	const char *head_extra;
	unsigned char buf[SC_FCGI_CONN_BUF];
} sc_fcgi_conn;

/* One CGI variable, both NUL-terminated, borrowed from the request. */
typedef struct sc_fcgi_param {
	const char *name;
	const char *value;
} sc_fcgi_param;

/* One request as read.  Zero it before the first sc_fcgi_read_request;
 * free with sc_fcgi_request_free. */
typedef struct sc_fcgi_request {
	uint16_t id;
	int keep_conn;
	sc_fcgi_param *params; /* nparams entries, into arena */
	size_t nparams;
	char *arena; /* raw PARAMS bytes, then NUL-terminated copies */
	size_t arena_len, arena_cap;
	char *body; /* STDIN, NUL-terminated, at most body_limit */
	size_t body_len, body_cap;
	long long body_total; /* STDIN bytes the server sent in all */
	int body_too_big;     /* 1: body_total > body_limit (body dropped) */
} sc_fcgi_request;

/*
 * Reads records from c until one whole request (BEGIN_REQUEST, PARAMS,
 * STDIN up to its empty record) has arrived; answers GET_VALUES and
 * unknown management records, refuses other roles and a second request
 * on the connection.  Bodies past body_limit bytes are read and dropped
 * (r->body_too_big = 1).  *stop is polled while waiting (reads time out
 * every second, see sc_fcgi_conn_setup); idle_ms bounds the wait for the
 * first byte of a request.  Returns SC_OK with *r filled (the previous
 * content of r is freed first); SC_ERR_IO when the connection closed,
 * failed, timed out or *stop became nonzero; SC_ERR_INVALID on a
 * protocol error; SC_ERR_NOMEM.  On error the connection must be closed.
 */
sc_err sc_fcgi_read_request(sc_fcgi_conn *c, sc_fcgi_request *r,
			    size_t body_limit, int idle_ms,
			    const atomic_int *stop);

/* Frees what r owns and zeroes it.  NULL is fine. */
void sc_fcgi_request_free(sc_fcgi_request *r);

/* The value of CGI variable name in r, or NULL. */
const char *sc_fcgi_param_get(const sc_fcgi_request *r, const char *name);

/* Sets the timeouts of a connection's socket: reads wake every second,
 * blocking writes give up after 30 s. */
void sc_fcgi_conn_setup(int fd);

/* A record header as read. */
typedef struct sc_fcgi_hdr {
	int version;
	int type;
	uint16_t id;
	size_t content_len;
	size_t padding;
} sc_fcgi_hdr;

/* Reads the 8-byte record header h into *out (the one parser of record
 * headers: the request reader and the hub's stream feed use it). */
void sc_fcgi_header_parse(const unsigned char h[SC_FCGI_HEADER_LEN],
			  sc_fcgi_hdr *out);

/* Writes the 8-byte header of a record into h. */
void sc_fcgi_header(unsigned char h[SC_FCGI_HEADER_LEN], int type, uint16_t id,
		    size_t content_len, size_t padding);

/*
 * Writes a whole response on a blocking socket: head and body (either
 * may be empty) as FCGI_STDOUT records, then, when end is 1, the empty
 * FCGI_STDOUT record and FCGI_END_REQUEST (REQUEST_COMPLETE).  Returns
 * SC_OK or SC_ERR_IO.
 */
sc_err sc_fcgi_write(int fd, uint16_t id, const char *head, size_t head_len,
		     const char *body, size_t body_len, int end);

/*
 * Writes FCGI_END_REQUEST for id with protocol_status into out (16
 * bytes).  Returns 16.
 */
size_t sc_fcgi_end_record(unsigned char out[16], uint16_t id,
			  int protocol_status);

/* Bytes of the end of a response: the empty FCGI_STDOUT record and
 * FCGI_END_REQUEST. */
#define SC_FCGI_END_LEN 24

/*
 * Writes the end of a response for id (the empty FCGI_STDOUT record,
 * then FCGI_END_REQUEST with REQUEST_COMPLETE) into out.  Returns
 * SC_FCGI_END_LEN.  The one builder of these bytes: every writer of a
 * response's end uses it.
 */
size_t sc_fcgi_end_response(unsigned char out[SC_FCGI_END_LEN], uint16_t id);

#endif
