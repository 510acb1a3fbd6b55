/*
 * fcgi/server.h — the process: the FastCGI listening socket (fd 0 from
 * the web server, or --listen), the accept thread, the worker threads
 * with their own store connections, the hub, signals and a clean stop.
 * Prefix sc_server_.
 */
#ifndef SC_FCGI_SERVER_H
#define SC_FCGI_SERVER_H

#include <stddef.h>

#include "fcgi/cors.h"
#include "fcgi/hub.h"
#include "fcgi/statechannel.h"

typedef struct sc_server_options {
	const sc_app *app;
	const char *db_path;
	int sync_full;
	const char *listen; /* PATH or HOST:PORT; NULL: the socket on fd 0 */
	int workers;	    /* threads for short requests, >= 1 */
	size_t body_limit;  /* bytes of a POST body */
	size_t cache_bytes; /* the state cache's budget; 0: the store's */
	size_t state_limit; /* bytes of a topic's state after an event;
			       0: no limit */
	size_t max_streams; /* open streams past which a new one gets 503;
			       0: derived from RLIMIT_NOFILE */
	long drop_idle_s;   /* drop topics idle this long; 0: never */
	sc_hub_options hub; /* its ready callback is set by the server */
	sc_cors cors;	    /* --allow-origin (none: same-origin only) */
	int health;	    /* --health: answer GET /health */
	int metrics;	    /* --metrics: answer GET /metrics */
} sc_server_options;

/*
 * Opens the listening socket: a Unix socket when addr contains '/' or
 * has no ':' (a stale socket file is replaced; mode 0666 so the web
 * server's user can connect), else HOST:PORT over TCP ("[::1]:9000"
 * for IPv6).  Returns the socket, or -1 with a message in err.
 */
int sc_server_listen(const char *addr, sc_error *err);

/*
 * Whether fd is a listening socket (how a FastCGI application knows it
 * was spawned by the web server).  1 or 0.
 */
int sc_server_is_listener(int fd);

/*
 * The default cap on open streams for a process allowed nofile file
 * descriptors: each stream holds one, and a quarter (at least 64) stays
 * for short requests, the database and the hub.  At least 1.
 */
size_t sc_server_default_max_streams(long nofile);

/*
 * Serves until SIGTERM or SIGINT, then stops cleanly (streams ended
 * with a "retry: 0" line so browsers reconnect at once, threads joined,
 * the Unix socket file removed if it is still ours).  SIGHUP and SIGUSR1
 * are logged and ignored.  Spawned by the web server (the socket on
 * fd 0), it also stops, the same clean way, when the web server is
 * gone: its parent died (the process was re-parented) or the socket's
 * file was removed.  Returns the
 * process exit status: 0, or 1 when it could not start (message on
 * stderr).
 */
int sc_server_run(const sc_server_options *opt);

#endif
