/*
 * store/internal.h — what the files of store/ share and nothing else
 * includes: the sc_store struct, the prepared-statement cache, the
 * transaction helpers, the process-wide state cache and group-commit
 * queue (sc_store_shared), and the wake mapping.
 */
#ifndef SC_STORE_INTERNAL_H
#define SC_STORE_INTERNAL_H

#include <json-c/json.h>
#include <pthread.h>
#include <stdint.h>

#include "common/error.h"
#include "store/sql.h"
#include "store/store.h"

/* Every statement the store runs, prepared once per connection; each
 * backend has its SQL text for each (store/sqlite.c, store/pg.c). */
enum st_id {
	ST_MAX_SEQ,
	ST_TOPIC_META,
	ST_TOPIC_CREATE,
	ST_TOPIC_UPDATE,
	ST_TOPIC_SNAP,
	ST_SNAP_GET,
	ST_SNAP_PUT,
	ST_TAIL,
	ST_TOPIC_FLOOR,
	ST_TOPICS,
	ST_LOG_INSERT,
	ST_LOG_ONE,
	ST_LOG_MANY,
	ST_LOG_ALL,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_IDEM_GET,
	ST_IDEM_PUT,
	ST_SNAP_NEXT,
	ST_PRUNE_NEXT,
	ST_PRUNE_WALK, /* a page of SC_STORE_PRUNE_PAGE rows in (?2, ?3] */
	ST_PRUNE_TOPIC_FLOOR,
	ST_PRUNE_TOPIC_LOG,
	ST_PRUNE_IDEM,
	ST_DROP_LOG,
	ST_DROP_IDEM,
	ST_DROP_SNAP,
	ST_DROP_TOPICS,
	/* A batch's own (store/change.c, "deferred"): a log row alone, its
	 * seq foreseen by the backend; the topic's row written once. */
	ST_LOG_ROW,
	ST_TOPIC_FLUSH,
	/* Where a topic's log rows lie (SQLite's runs, schema.sql): a run
	 * closed (?2 its last seq, ?3 its first), retention's and drop's
	 * part.  A backend whose log has an index on its topic has none
	 * of them (NULL statements). */
	ST_RUN_CLOSE,
	ST_PRUNE_RUNS,
	ST_DROP_RUNS,
	ST__COUNT
};

/* The wake mapping of the SQLite backend: a small file beside the
 * database, shared by every process that opens it (store/wake.c). */
typedef struct sc_wake {
	int fd;	   /* -1: no wake file (polling only) */
	void *map; /* MAP_SHARED page, or NULL */
	int writable;
	int64_t poll_seq;      /* the highest seq the slow poll saw */
	int64_t poll_ms;       /* when it last looked */
	uint32_t poll_counter; /* the counter then */
} sc_wake;

struct sc_store {
	sc_sql *sql; /* the backend's connection */
	char *path;  /* as it may be printed (no password) */
	int readonly;
	long keep_versions;
	long keep_seconds;
	long idem_seconds;
	char epoch[33];
	sc_store_shared *sh; /* the process's cache and commit queue */
	int own_sh;	     /* 1: sh is this connection's own */
};

/* --- the process-wide state cache (store/cache.c) ------------------- */

/*
 * One topic's current state in memory, shared by every connection of a
 * process.  Its fields are guarded by lock; refs, the hash chain and the
 * LRU links by the cache's lock.  Valid: state holds the topic's state
 * as of the change seq (or the snapshot at seq), created_ms tells the
 * topic's incarnation (a dropped and recreated topic is another one).
 * text, when not NULL, is state serialized (for reads).  An entry only
 * ever holds committed states: a writer keeps the lock from its first
 * change of the topic until its COMMIT, and drops the entry when the
 * transaction fails.
 */
typedef struct sc_centry {
	pthread_mutex_t lock;
	struct sc_centry *hnext, *lru_prev, *lru_next;
	int refs;
	size_t charged; /* bytes counted against the budget */
	int valid;
	int64_t version, seq, created_ms;
	json_object *state; /* owned; NULL is JSON null */
	char *text;	    /* owned, or NULL */
	size_t text_len;
	size_t size; /* about the state's text size */
	char topic[SC_TOPIC_MAX + 1];
} sc_centry;

/* Most changes in one transaction. */
#define SC_STORE_BATCH_MAX 64
/* Longest idempotency key. */
#define SC_STORE_IDEM_KEY_MAX 256

/* One submitted change: on its caller's stack until done (sc_store_submit),
 * or allocated and freed after its done callback (sc_store_submit_async). */
typedef struct sc_store_gc_item sc_store_gc_item;
struct sc_store_gc_item {
	const sc_store_req *req;
	sc_store_result *out;
	sc_error err;
	sc_err rc;
	int done;
	sc_store_done_fn done_fn; /* async: called once the batch is over */
	void *done_arg;
	sc_store_result res; /* async: out points here */
	sc_store_gc_item *next;
};

/* The changes that may still join a batch that runs: NULL when none
 * will (store/group.c). */
typedef sc_store_gc_item *(*sc_store_more_fn)(void *arg);

/*
 * Runs the changes of batch (linked by next) in one transaction of s,
 * one SAVEPOINT each, then those that more(arg) hands over, appended to
 * the list, until it returns NULL (more may be NULL: batch is all), and
 * commits; fills each item's rc, err and *out (store/change.c).  At
 * most SC_STORE_BATCH_MAX changes in all.
 */
void sc_store_run_batch(sc_store *s, sc_store_gc_item *batch,
			sc_store_more_fn more, void *arg);

struct sc_store_shared {
	pthread_mutex_t lock; /* the cache's table and LRU, the queue */
	size_t budget, used;
	sc_centry **table;
	size_t nbuckets, nentries;
	sc_centry *lru_head, *lru_tail; /* head: most recently used */
	/* Group commit (store/change.c): waiting changes, and whether a
	 * connection is committing a batch now. */
	pthread_cond_t done;
	sc_store_gc_item *qhead, *qtail;
	size_t queued;	/* items in the queue */
	int leading;	/* a thread is committing a batch */
	/* The linger (store/group.c): the size and duration of the last
	 * batch, and a leader whose batch waits for more changes, having
	 * run those it has (signalled through arrived by each change
	 * queued meanwhile). */
	size_t last_n;
	int64_t last_ns;
	int lingering;
	pthread_cond_t arrived; /* on CLOCK_MONOTONIC */
	/* The writer thread (sc_store_writer_start), which commits what is
	 * queued when no submitter does. */
	pthread_cond_t work;
	pthread_t writer;
	sc_store *writer_store;
	int writer_running, writer_stop;
	sc_store_stats stats; /* atomic adds; cached_bytes is used */
};

/* Adds n to a counter of sh->stats. */
#define SC_STAT_ADD(sh, field, n)                                              \
	__atomic_fetch_add(&(sh)->stats.field, (n), __ATOMIC_RELAXED)

/*
 * The entry of topic, created empty when missing, with a reference and
 * its lock held.  NULL when out of memory.
 */
sc_centry *sc_cache_acquire(sc_store_shared *sh, const char *topic);

/* Unlocks e, drops the reference, and evicts unused entries past the
 * budget (least recently used first).  NULL does nothing. */
void sc_cache_release(sc_store_shared *sh, sc_centry *e);

/* Forgets what e holds (e stays, invalid).  Lock held. */
void sc_cache_clear(sc_centry *e);

/* A topic's row, as the store reads it (ST_TOPIC_META). */
typedef struct sc_topic_meta {
	int64_t version, floor, created_ms;
	int64_t snap_version, snap_seq, snap_bytes, tail_bytes;
	/* Its open run: the seq of its newest log row and the first of
	 * the run it ends (0 and 0 without one, or where the backend keeps
	 * no runs). */
	int64_t last_seq, run_first;
} sc_topic_meta;

/*
 * Reads the row of topic into *m inside the open transaction.  SC_OK;
 * SC_ERR_NOT_FOUND when there is no such topic (without a message: the
 * caller decides); the SQLite errors.
 */
sc_err sc_store_meta(sc_store *s, const char *topic, sc_topic_meta *m,
		     sc_error *err);

/*
 * Brings e (locked) to the topic's committed state m inside the open
 * transaction of s: applies the log rows after e->seq when e is valid
 * and they are all still there, else loads the snapshot and its tail.
 * On error e is cleared.
 */
sc_err sc_cache_current(sc_store *s, sc_centry *e, const sc_topic_meta *m,
			sc_error *err);

/*
 * Inside a write transaction: inserts topic (version 0, its floor the
 * given seq, or the highest seq when floor < 0, created at now) with
 * text (len bytes) as its snapshot, unless it exists (text NULL: the
 * caller writes the snapshot).  *created: whether it was inserted.
 */
sc_err sc_store_insert_topic(sc_store *s, const char *topic, const char *text,
			     size_t len, int64_t floor, int64_t now,
			     int *created, sc_error *err);

/* Inside a write transaction: topic's snapshot text becomes text. */
sc_err sc_store_put_snapshot(sc_store *s, const char *topic, const char *text,
			     size_t len, sc_error *err);

/* e's text (serialized once per version); NULL with err on failure. */
const char *sc_cache_text(sc_centry *e, size_t *len, sc_error *err);

/* Now, in ms since the Unix epoch (CLOCK_REALTIME). */
int64_t sc_store_now_ms(void);

/* The hex digits of an epoch. */
#define SC_EPOCH_HEX 16

/* A new random epoch into epoch (SC_EPOCH_HEX digits and a NUL). */
sc_err sc_store_new_epoch(char epoch[SC_EPOCH_HEX + 1], sc_error *err);

/* Checks the epoch text read from the database named where and copies
 * it into epoch. */
sc_err sc_store_epoch_check(const char *text, const char *where,
			    char epoch[33], sc_error *err);

/*
 * The cached statement id into *q with the text topic bound as ?1 and,
 * when not NULL, key as ?2 (when topic is NULL nothing is bound): both
 * must stay unchanged until the reset.  Returns SC_OK, or the error
 * when the statement cannot be had (*q NULL then).
 */
sc_err sc_store_bind_topic(sc_store *s, enum st_id id, const char *topic,
			   const char *key, sc_sqlq **q, sc_error *err);

/*
 * Reads the row of topic (its name checked first) with the cached
 * statement id, a SELECT ... WHERE name = ?1: SC_OK with *q on that
 * row, for the caller to read and then sc_sql_reset; else the error
 * (SC_ERR_TOPIC, SC_ERR_NOT_FOUND "no such topic", or that of the read),
 * the statement already reset.
 */
sc_err sc_store_topic_row(sc_store *s, enum st_id id, const char *topic,
			  sc_sqlq **q, sc_error *err);

/* Runs a statement of the cache without parameters that returns no row
 * (SAVEPOINT, RELEASE, ...). */
sc_err sc_store_exec(sc_store *s, enum st_id id, const char *what,
		     sc_error *err);

/* Begins a write transaction; SC_ERR_READONLY on a store open
 * read-only. */
sc_err sc_store_begin_write(sc_store *s, sc_error *err);

/* Rolls back the open transaction, if any; never fails visibly. */
void sc_store_rollback(sc_store *s);

/* How often (in versions of a topic) a change also prunes that topic's
 * log and the expired idempotency keys, in its own transaction. */
#define SC_STORE_PRUNE_EVERY 256
/* Rows of the log retention reads at a time (ST_PRUNE_WALK's LIMIT):
 * it mostly stops at the first, and PostgreSQL sends a statement's
 * rows all at once. */
#define SC_STORE_PRUNE_PAGE 256
#define SC_STORE_STR(x) SC_STORE_STR_(x)
#define SC_STORE_STR_(x) #x

/* The patches after a snapshot may pass its size up to this many bytes
 * before it is rewritten (store/change.c): a small state is not
 * rewritten, a row and its pages in the commit, every change or two. */
#define SC_STORE_SNAP_FLOOR 4096

/*
 * Retention for one topic, inside the caller's write transaction: moves
 * the topic's floor up to its newest row beyond keep_versions (counted
 * from version) and older than keep_seconds, never to its newest row,
 * deletes its rows at or below the floor and the expired idempotency
 * keys.  m is the topic's row as the transaction has it (its snapshot
 * seq current; its floor may lag).
 */
sc_err sc_store_prune_topic(sc_store *s, const char *topic, int64_t version,
			    int64_t now, const sc_topic_meta *m,
			    sc_error *err);

/* store/wake.c (the SQLite backend's wake-up) */
sc_err sc_wake_open(sc_wake *w, const char *db_path, int readonly,
		    sc_error *err);
void sc_wake_close(sc_wake *w);
void sc_wake_bump(sc_wake *w);
uint64_t sc_wake_token(sc_wake *w);
/* sc_store_wait on w; poll(arg, &seq) reads the highest seq of the log
 * (returns 0 when it cannot) for the slow poll. */
int sc_wake_wait(sc_wake *w, uint64_t *token, int timeout_ms,
		 int (*poll)(void *arg, int64_t *seq), void *arg);

#endif
