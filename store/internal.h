/*
 * store/internal.h — what the files of store/ share and nothing else
 * includes: the sc_store struct, the prepared-statement cache, the
 * transaction helpers and the wake mapping.
 */
#ifndef SC_STORE_INTERNAL_H
#define SC_STORE_INTERNAL_H

#include <json-c/json.h>
#include <sqlite3.h>
#include <stdint.h>

#include "common/error.h"
#include "store/store.h"

/* Every statement the store runs, prepared once per connection. */
enum st_id {
	ST_BEGIN_READ,
	ST_BEGIN_WRITE,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_MAX_SEQ,
	ST_TOPIC_LOAD,
	ST_TOPIC_GET,
	ST_TOPIC_CREATE,
	ST_TOPIC_UPDATE,
	ST_TOPIC_FLOOR,
	ST_TOPICS,
	ST_LOG_INSERT,
	ST_LOG_ONE,
	ST_LOG_MANY,
	ST_LOG_ALL,
	ST_IDEM_GET,
	ST_IDEM_PUT,
	ST_PRUNE_NEXT,
	ST_PRUNE_WALK,
	ST_PRUNE_TOPIC_FLOOR,
	ST_PRUNE_TOPIC_LOG,
	ST_PRUNE_IDEM,
	ST__COUNT
};

/* The wake mapping: a small file beside the database, shared by every
 * process that opens it (store/wake.c). */
typedef struct sc_wake {
	int fd;	   /* -1: no wake file (polling only) */
	void *map; /* MAP_SHARED page, or NULL */
	int writable;
	sqlite3 *poll_db;      /* the slow poll's own read-only connection */
	int64_t poll_seq;      /* the highest seq the slow poll saw */
	int64_t poll_ms;       /* when it last looked */
	uint32_t poll_counter; /* the counter then */
} sc_wake;

struct sc_store {
	sqlite3 *db;
	char *path;
	int readonly;
	int busy_timeout_ms;
	int64_t busy_start_us; /* the busy handler's current wait */
	long keep_versions;
	long keep_seconds;
	long idem_seconds;
	char epoch[33];
	sqlite3_stmt *st[ST__COUNT];
	/* The state of the topic last changed through this connection at
	 * cache_version, so the next change skips the parse (verified
	 * against the version inside the write transaction). */
	char cache_topic[SC_TOPIC_MAX + 1];
	int64_t cache_version;
	json_object *cache_state;
	int cache_valid;
	sc_wake wake;
};

/* Now, in ms since the Unix epoch (CLOCK_REALTIME). */
int64_t sc_store_now_ms(void);

/*
 * Returns the cached statement id of s, prepared on first use, reset and
 * with its bindings cleared: the caller steps it and resets it again on
 * every path (sc_store_reset).  NULL on error, with err filled.
 */
sqlite3_stmt *sc_store_stmt(sc_store *s, enum st_id id, sc_error *err);
void sc_store_reset(sqlite3_stmt *st);

/*
 * Maps an SQLite result code of s->db to an sc_err (BUSY, READONLY,
 * NOMEM, SCHEMA-ish, STORE) and fills err with what and SQLite's
 * message.  Returns the sc_err.
 */
sc_err sc_store_sqlerr(sc_store *s, int rc, const char *what, sc_error *err);

/*
 * The cached statement id into *st with the text topic bound as ?1 and,
 * when not NULL, key as ?2 (when topic is NULL nothing is bound): both
 * must stay unchanged until the reset.  *r is the result of the binds
 * (SQLITE_OK or their error), for the caller to go on binding or step.
 * Returns SC_OK, or the error when the statement cannot be prepared
 * (*st NULL then).
 */
sc_err sc_store_bind_topic(sc_store *s, enum st_id id, const char *topic,
			   const char *key, sqlite3_stmt **st, int *r,
			   sc_error *err);

/*
 * Reads the row of topic (its name checked first) with the cached
 * statement id, a SELECT ... WHERE name = ?1: SC_OK with *st on that
 * row, for the caller to read and then sc_store_reset; else the error
 * (SC_ERR_TOPIC, SC_ERR_NOT_FOUND "no such topic", or that of the read),
 * the statement already reset.
 */
sc_err sc_store_topic_row(sc_store *s, enum st_id id, const char *topic,
			  sqlite3_stmt **st, sc_error *err);

/* Runs a one-step statement (BEGIN, COMMIT, ...) of the cache. */
sc_err sc_store_exec(sc_store *s, enum st_id id, const char *what,
		     sc_error *err);

/* Begins a write transaction (BEGIN IMMEDIATE); SC_ERR_READONLY on a
 * store open read-only. */
sc_err sc_store_begin_write(sc_store *s, sc_error *err);

/* Rolls back the open transaction, if any; never fails visibly. */
void sc_store_rollback(sc_store *s);

/* How often (in versions of a topic) a change also prunes that topic's
 * log and the expired idempotency keys, in its own transaction. */
#define SC_STORE_PRUNE_EVERY 256

/*
 * Retention for one topic, inside the caller's write transaction: moves
 * the topic's floor up to its newest row beyond keep_versions (counted
 * from version) and older than keep_seconds, never to its newest row,
 * deletes its rows at or below the floor and the expired idempotency
 * keys.
 */
sc_err sc_store_prune_topic(sc_store *s, const char *topic, int64_t version,
			    int64_t now, sc_error *err);

/* Drops the cached state. */
void sc_store_cache_drop(sc_store *s);

/* store/wake.c */
sc_err sc_wake_open(sc_wake *w, const char *db_path, int readonly,
		    sc_error *err);
void sc_wake_close(sc_wake *w);
void sc_wake_bump(sc_wake *w);

#endif
