/*
 * store/store.h — the store: topics, the global patch log, versions,
 * epoch and cursors, retention, idempotency keys, and the cross-process
 * wake, on SQLite or PostgreSQL (the backends of store/sql.h).  Prefix sc_store_.  Knows SQL; knows nothing of
 * HTTP or FastCGI.
 *
 * One sc_store is one database connection and is used by one thread at a
 * time; a multi-threaded process opens one per thread.  Any number of
 * processes may open the same database file at once.
 *
 * Terms (docs/protocol.md): a topic is one named JSON document; its
 * version goes +1 for every non-empty change; seq is one global, strictly
 * increasing number over the whole log; a cursor is "EPOCH:SEQ" where the
 * epoch is a random id made when the database was created.
 */
#ifndef SC_STORE_STORE_H
#define SC_STORE_STORE_H

#include <json-c/json.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/topic.h"

/* WAL pages between automatic checkpoints (SQLite's default: 1000).  A
 * small commit writes three pages (the topic row, the log row, its
 * index), and a checkpoint costs two fsyncs even with
 * synchronous=NORMAL: checkpointing less often than the default helps
 * the commit rate (16000 measured no better than 4000).  The WAL file
 * is cut back to 64 MiB after a spike. */
#define SC_STORE_WAL_PAGES 4000

/* The page size of a new SQLite database (an existing one keeps its
 * own).  A small commit writes three pages to the WAL, and SQLite
 * checksums every byte of each: with 1 KB pages instead of 4 KB, an
 * event alone costs about 10% fewer instructions through the FastCGI
 * app and its commit about 30% less CPU (bench/post_cost.sh,
 * bench/store.sh), and a 4 MB state reads as fast (bench/store_first). */
#define SC_STORE_PAGE_SIZE 1024

typedef struct sc_store sc_store;
typedef struct pg_conn PGconn; /* libpq's (libpq-fe.h) */
typedef struct sc_store_txn sc_store_txn;

/*
 * What the connections of one process share: the current state of hot
 * topics in memory (advanced by the patches of the log, whoever wrote
 * them, instead of parsing whole states again), and the group-commit
 * queue (the changes that arrive together, from any thread, commit in
 * one transaction).  Made once per process before its connections, given
 * to each in sc_store_options.shared, freed after the last is closed.
 * A connection opened without one gets its own.
 */
typedef struct sc_store_shared sc_store_shared;

/* The cache budget when none is given: 256 MiB of state text. */
#define SC_STORE_CACHE_DEFAULT (256u * 1024 * 1024)

/*
 * A new shared object whose cache holds about cache_bytes of states
 * (counted as their JSON text size; json-c's objects take several times
 * that in memory); 0: SC_STORE_CACHE_DEFAULT.  SC_OK, or SC_ERR_NOMEM.
 */
sc_err sc_store_shared_new(size_t cache_bytes, sc_store_shared **out,
			   sc_error *err);

/* Frees sh; its connections must be closed.  NULL does nothing. */
void sc_store_shared_free(sc_store_shared *sh);

/* What a shared object did since it was made (for metrics and tests). */
typedef struct sc_store_stats {
	uint64_t hits;	    /* a state needed was in memory and current */
	uint64_t catchups;  /* ... in memory, behind: the log's patches
			       after it were applied */
	uint64_t reloads;   /* ... not in memory: snapshot + tail */
	uint64_t evictions; /* states dropped for the budget */
	uint64_t batches;   /* transactions of the group commit */
	uint64_t changes;   /* changes submitted through them */
	uint64_t unread;    /* changes that read nothing: their topic's
			       row was written earlier in their batch */
	uint64_t cached_bytes; /* now, counted against the budget */
	uint64_t queued;       /* now, changes waiting for a batch */
} sc_store_stats;

/* Fills *out with sh's counters. */
void sc_store_shared_stats(sc_store_shared *sh, sc_store_stats *out);

typedef struct sc_store_options {
	const char *path;    /* the database: an SQLite file, or a libpq URI
				postgresql://... (sc_store_is_pg); required */
	int sync_full;	     /* 1: PRAGMA synchronous=FULL, 0: NORMAL.
				Both are WAL.  NORMAL: a commit survives
				a crash of the process at once, but an
				OS crash or power loss may undo the last
				commits (never corrupt the file).  FULL:
				every commit is on disk when it returns
				(one fsync each: much slower). */
	int busy_timeout_ms; /* 0: the default (5000); on PostgreSQL the
				session's lock_timeout (the write lock) */
	long keep_versions;  /* retention: keep at least this many log rows
				per topic; 0: the default (1000) */
	long keep_seconds;   /* ...and every row younger than this; 0: the
				default (3600) */
	int readonly;	     /* 1: open read-only (no init, no writes) */
	long idem_seconds;   /* idempotency keys are kept at least this
				long; 0: the default (86400) */
	sc_store_shared *shared; /* the process's; NULL: the connection's
				    own (borrowed: outlives the store) */
} sc_store_options;

/* Whether path (--db) names a PostgreSQL database: a libpq URI,
 * postgresql://... or postgres://...; anything else is an SQLite file. */
int sc_store_is_pg(const char *path);

/*
 * path as it may be printed: a libpq URI without its password (the
 * ":password" of "user:password@" and any password= parameter), a file
 * path as it is.  Written into buf (size n), returned.
 */
const char *sc_store_display(const char *path, char *buf, size_t n);

/*
 * Opens (creating when missing, unless readonly) the database at
 * opt->path, applies schema.sql or migrates an older schema, sets WAL
 * mode, the busy timeout and synchronous, and maps the wake file beside
 * the database.  On success *out is a new store the caller frees with
 * sc_store_close.  Errors: SC_ERR_SCHEMA (made by a newer version),
 * SC_ERR_STORE (not a database, corrupt), SC_ERR_READONLY, SC_ERR_IO,
 * SC_ERR_NOMEM; *out is then NULL.
 */
sc_err sc_store_open(const sc_store_options *opt, sc_store **out,
		     sc_error *err);

/* Closes the connection and frees s.  NULL does nothing. */
void sc_store_close(sc_store *s);

/* The database's epoch (a short random hex id); borrowed from s. */
const char *sc_store_epoch(sc_store *s);

/* Writes "EPOCH:SEQ" for seq into buf (SC_CURSOR_MAX bytes). */
void sc_store_cursor_format(sc_store *s, int64_t seq, char buf[SC_CURSOR_MAX]);

/*
 * Parses a cursor.  SC_OK with *seq set when text is "EPOCH:SEQ" of this
 * database's epoch (SEQ: decimal digits, no sign, no leading zero);
 * SC_ERR_CURSOR when it is malformed, of another epoch, or ahead of the
 * highest seq ever given (the caller sends full state instead); an
 * SQLite failure reading the log gives SC_ERR_STORE / SC_ERR_BUSY.
 */
sc_err sc_store_cursor_parse(sc_store *s, const char *text, int64_t *seq,
			     sc_error *err);

/* A topic's state as stored, with its version and the cursor of the
 * read (the highest seq visible in the same snapshot). */
typedef struct sc_store_state {
	int64_t version;
	int64_t seq;
	char *state; /* compact JSON text, owned; sc_store_state_free */
	size_t state_len;
} sc_store_state;

/* Frees what st owns (not st itself) and zeroes it.  NULL is fine. */
void sc_store_state_free(sc_store_state *st);

/*
 * Reads topic in one snapshot: its snapshot and the patches after it,
 * or the process's cached state brought up to date (serialized once per
 * version).  SC_OK fills *out (caller frees with sc_store_state_free);
 * SC_ERR_NOT_FOUND when the topic does not exist; SC_ERR_TOPIC,
 * SC_ERR_BUSY, SC_ERR_STORE (a stored text is not valid JSON, or a
 * patch of the log does not apply), SC_ERR_NOMEM.
 */
sc_err sc_store_get(sc_store *s, const char *topic, sc_store_state *out,
		    sc_error *err);

/*
 * Creates topic at version 0 with state initial (borrowed; NULL is JSON
 * null) as its snapshot when it does not exist; does nothing when it
 * does.  No log row;
 * the topic's log counts as complete from the highest seq at creation
 * (see sc_store_resumable).  SC_OK in both cases; SC_ERR_TOPIC,
 * SC_ERR_READONLY, SC_ERR_BUSY, SC_ERR_STORE, SC_ERR_NOMEM.
 */
sc_err sc_store_create(sc_store *s, const char *topic, json_object *initial,
		       sc_error *err);

/*
 * Inside a change: the handle the callback of sc_store_change gets.
 */

/* The current state, as the callback has changed it so far.  Borrowed:
 * valid until the next sc_store_txn_* call or the end of the change.
 * Do not modify it in place (the connection keeps it for the next
 * change): copy it (sc_json_copy) and sc_store_txn_set the copy, or
 * sc_store_txn_patch. */
json_object *sc_store_txn_state(sc_store_txn *txn);
const char *sc_store_txn_topic(sc_store_txn *txn);
/* The topic's version before this change. */
int64_t sc_store_txn_version(sc_store_txn *txn);
/* The store's SQLite handle, inside the change's write transaction:
 * whatever the callback writes with it commits with the state, or not.
 * NULL on PostgreSQL. */
sqlite3 *sc_store_txn_db(sc_store_txn *txn);
/* The same on PostgreSQL: the libpq connection of the change's
 * transaction (the callback is inside a SAVEPOINT of it; it must not
 * BEGIN, COMMIT or ROLLBACK, nor leave a query running).  NULL on
 * SQLite. */
PGconn *sc_store_txn_pg(sc_store_txn *txn);

/*
 * About the size of the state's compact JSON text now, cheaply: the
 * size known for the state before the change plus the bytes of the ops
 * logged since (an upper bound as long as ops add no more than their own
 * text).  When that passes limit, the state is serialized once and the
 * exact size given instead, so a caller that refuses states over limit
 * never refuses one that fits.  SC_OK with *size; SC_ERR_NOMEM.
 */
sc_err sc_store_txn_size(sc_store_txn *txn, size_t limit, size_t *size,
			 sc_error *err);

/*
 * Replaces the whole state with state (ownership taken, even on error;
 * NULL is JSON null).  The log row gets the diff from the old state
 * (json/diff.h); equal states add nothing.  On error the state is as
 * before.  Errors: those of sc_diff, SC_ERR_TOO_BIG (the change's patch
 * text passes 64 MiB), SC_ERR_NOMEM.
 */
sc_err sc_store_txn_set(sc_store_txn *txn, json_object *state, sc_error *err);

/*
 * Applies ops (a JSON Patch array, borrowed) to the state now; they go
 * into the log row as they are, without a diff.  Atomic: on error the
 * state is as before this call (err->index is the failing op).  Errors:
 * those of sc_patch_apply, SC_ERR_TOO_BIG, SC_ERR_NOMEM.
 */
sc_err sc_store_txn_patch(sc_store_txn *txn, json_object *ops, sc_error *err);

/*
 * The callback of a change.  Returns SC_OK to commit, anything else to
 * roll back everything (state, log, the application's own writes); that
 * code and err are what sc_store_change returns.  It may read and write
 * with sc_store_txn_db and call the read functions of the store, but
 * must not call sc_store_change, create, prune or compact on the same
 * store, nor BEGIN/COMMIT/ROLLBACK on the handle (SAVEPOINTs are fine).
 * A read (sc_store_get) inside it sees the transaction so far: the
 * changes committed before it in its batch.
 * Several sc_store_txn_set / sc_store_txn_patch calls in one change log
 * one patch: their ops in order.  A change whose ops are all "test" (or
 * none) is empty.
 */
typedef sc_err (*sc_store_change_fn)(sc_store_txn *txn, void *arg,
				     sc_error *err);

/* What a change produced. */
typedef struct sc_store_result {
	int64_t version; /* the topic's version after the change */
	int64_t seq;	 /* the log row's seq; when the change was empty,
			    the highest seq at commit (a cursor to resume) */
	char *patch;	 /* compact JSON text of the ops logged ("[]" when
			    empty); owned, sc_store_result_free */
	int replayed;	 /* 1: idem_key was seen before and this is the
			    first result again; nothing changed now */
} sc_store_result;

/* Frees what r owns (not r itself) and zeroes it.  NULL is fine. */
void sc_store_result_free(sc_store_result *r);

/*
 * One change to submit (sc_store_submit).  Every pointer is borrowed
 * until sc_store_submit returns.
 */
typedef struct sc_store_req {
	const char *topic;
	const char *event;    /* logged with the change; may be NULL */
	const char *idem_key; /* may be NULL; at most 256 bytes */
	sc_store_change_fn fn;
	void *arg; /* for fn and init */
	/* When the topic does not exist: returns its initial state as a
	 * new reference (NULL: no such topic, SC_ERR_NOT_FOUND).  The topic
	 * is created with the change, only when the change commits a
	 * non-empty patch.  NULL: a missing topic is SC_ERR_NOT_FOUND. */
	json_object *(*init)(void *arg, const char *topic);
} sc_store_req;

/*
 * The write path.  When req->idem_key was already used for this topic,
 * fills *out with the stored first result (replayed = 1) and calls
 * nothing.  Else loads the topic's current state (from the process's
 * cache when it holds it, brought up to date from the log), calls
 * fn(txn, arg, err), and when it returns SC_OK and the state changed:
 * writes one log row (seq, topic, version + 1, patch, event, time) and
 * the topic's new version, rewrites the topic's snapshot when the
 * patches since it have outgrown it, records idem_key, and wakes every
 * waiting process once committed.  An empty change commits the
 * application's writes but adds no version and no log row.
 *
 * Group commit: changes submitted at once by the threads of a process
 * (any topics) run one after another in one transaction, each in a
 * SAVEPOINT of its own: one that fails is rolled back alone and gets its
 * own error; the others commit together.  The first caller commits at
 * once (nothing waits for a batch to fill) and takes, as the next batch,
 * whatever arrived meanwhile.  sc_store_submit returns only after the
 * COMMIT that holds its change (or the failure of the batch).  fn and
 * init run on the thread of whichever caller commits the batch, with
 * that caller's connection (sc_store_txn_db).
 *
 * Errors: SC_ERR_TOPIC, SC_ERR_INVALID (idem_key over 256 bytes),
 * SC_ERR_NOT_FOUND (no such topic, and no init or init gave NULL),
 * whatever fn returned, SC_ERR_BUSY (the lock was not had within the
 * busy timeout), SC_ERR_READONLY, SC_ERR_STORE, SC_ERR_IO, SC_ERR_NOMEM;
 * on error nothing of this change is written and *out is zeroed.
 * Idempotency keys are per topic, recorded with empty changes too, and
 * kept idem_seconds.  Every 256th version of a topic, the change also
 * prunes that topic's log by retention (see sc_store_prune) and the
 * expired keys, so the log stays bounded without a separate job.
 */
sc_err sc_store_submit(sc_store *s, const sc_store_req *req,
		       sc_store_result *out, sc_error *err);

/*
 * Called once an asynchronous change is over, on the thread that
 * committed it: rc, the result (owned by the store: copy what you keep;
 * valid during the call) and, on error, err.
 */
typedef void (*sc_store_done_fn)(void *arg, sc_err rc,
				 const sc_store_result *res,
				 const sc_error *err);

/*
 * Queues the change req for the writer thread of s's shared object
 * (sc_store_writer_start) and returns at once: SC_OK, and done(arg, ...)
 * is called exactly once later, after the COMMIT that holds the change
 * (or the failure); req and what it points to must stay valid until
 * then.  Errors now (done is then not called): those of sc_store_submit's
 * checks, SC_ERR_BUSY when SC_STORE_QUEUE_MAX changes already wait,
 * SC_ERR_INVALID when no writer thread runs, SC_ERR_NOMEM.
 */
#define SC_STORE_QUEUE_MAX 4096
sc_err sc_store_submit_async(sc_store *s, const sc_store_req *req,
			     sc_store_done_fn done, void *arg, sc_error *err);

/*
 * Starts the writer thread of sh, which commits queued changes with
 * store (a connection of sh; ownership taken, even on error) whenever no
 * submitter is doing it.  SC_OK; SC_ERR_INVALID when one runs already;
 * SC_ERR_IO.  sc_store_writer_stop commits what is still queued, stops
 * the thread and closes its store; call it before sc_store_shared_free.
 */
sc_err sc_store_writer_start(sc_store_shared *sh, sc_store *store,
			     sc_error *err);
void sc_store_writer_stop(sc_store_shared *sh);

/* sc_store_submit of {topic, event, idem_key, fn, arg}, with no init. */
sc_err sc_store_change(sc_store *s, const char *topic, const char *event,
		       const char *idem_key, sc_store_change_fn fn, void *arg,
		       sc_store_result *out, sc_error *err);

/* One log row, borrowed: valid during the callback only. */
typedef struct sc_store_entry {
	int64_t seq;
	const char *topic;
	int64_t version;
	const char *patch; /* compact JSON text */
	size_t patch_len;
	const char *event; /* may be NULL */
	int64_t time_ms;   /* commit time, ms since the Unix epoch */
} sc_store_entry;

/* Returns 0 to go on, nonzero to stop the walk. */
typedef int (*sc_store_entry_fn)(const sc_store_entry *e, void *arg);

/*
 * Walks the log rows with seq > after_seq, in seq order, for the given
 * topics (ntopics == 0: every topic), at most limit rows (0: no limit),
 * in one snapshot.  *last_seq (if not NULL) receives the highest seq of
 * the snapshot (not only of the rows walked), so a caller can go on
 * from there.  fn must not call sc_store_log on s (it may format
 * cursors).  Errors: SC_ERR_TOPIC, SC_ERR_BUSY, SC_ERR_STORE.
 */
sc_err sc_store_log(sc_store *s, const char *const *topics, size_t ntopics,
		    int64_t after_seq, size_t limit, sc_store_entry_fn fn,
		    void *arg, int64_t *last_seq, sc_error *err);

/*
 * Whether a stream of topic can resume after after_seq with patches
 * alone: SC_OK when the log still holds every change of topic after
 * after_seq; SC_ERR_CURSOR when it does not (pruned by retention, or the
 * topic was created after after_seq): send the full state;
 * SC_ERR_NOT_FOUND when there is no such topic.
 */
sc_err sc_store_resumable(sc_store *s, const char *topic, int64_t after_seq,
			  sc_error *err);

/* The highest seq ever given (0 when none; pruning does not lower it). */
sc_err sc_store_max_seq(sc_store *s, int64_t *seq, sc_error *err);

/*
 * Cross-process wake.  On SQLite every commit by any process bumps a
 * counter shared through a small file beside the database; on
 * PostgreSQL every commit sends NOTIFY, and the token counts the
 * notifications this store's listening connection got (made by the
 * first sc_store_wake_token; a connection made again after a loss counts
 * as one).  sc_store_wake_token reads the counter; sc_store_wait blocks
 * until it differs from *token or timeout_ms passes (-1: no timeout),
 * then stores the current value in *token.  Returns 1 when the counter
 * moved, 0 on timeout or when a signal interrupted the wait.  It is only
 * a hint: read the log to learn what changed (take the token before
 * reading, so a commit after the read ends the next wait at once).  A
 * slow poll of the log (every 250 ms, on a connection of the waiter's
 * own) also returns 1 when the log moved without a wake-up (a writer
 * killed between its commit and its wake-up).  sc_store_wait may be
 * called from one thread of its own while another thread uses s for SQL.
 */
uint64_t sc_store_wake_token(sc_store *s);
int sc_store_wait(sc_store *s, uint64_t *token, int timeout_ms);

/*
 * Retention: deletes log rows that are both beyond the newest
 * keep_versions of their topic and older than keep_seconds, and expired
 * idempotency keys (older than idem_seconds).  What goes is always the
 * oldest part of a topic's log, never its newest row (so the highest seq
 * stays in the log and is never given again: schema.sql), and the
 * topic's floor moves up with it (sc_store_resumable then refuses
 * cursors before it).  *removed (if not NULL) receives the log rows
 * deleted.  A row the topic's snapshot does not hold (seq after
 * its snap_seq) never goes: the state is the snapshot and those rows.
 * sc_store_compact first rewrites the snapshot of every topic
 * with patches after it (so retention may take every row but the
 * newest keep_versions), prunes, then VACUUMs when vacuum is 1,
 * then checkpoints and truncates the WAL.
 * Errors: SC_ERR_READONLY, SC_ERR_BUSY, SC_ERR_STORE, SC_ERR_IO.
 */
sc_err sc_store_prune(sc_store *s, int64_t *removed, sc_error *err);
sc_err sc_store_compact(sc_store *s, int vacuum, sc_error *err);

/* Calls fn(topic, version, arg) for every topic in name order; fn
 * returns nonzero to stop. */
sc_err sc_store_topics(sc_store *s,
		       int (*fn)(const char *topic, int64_t version, void *arg),
		       void *arg, sc_error *err);

/*
 * Drops topics (store/drop.c): topic (NULL: every topic) when it was
 * never written (version 0) or has not changed for idle_seconds (0:
 * whatever its age), with its log rows (except the one holding the
 * highest seq of the log, which must stay) and idempotency keys.
 * A dropped topic reads as never written again.  *dropped (if not
 * NULL) receives how many went.  A topic that does not match is no
 * error (0 dropped).  Errors: SC_ERR_TOPIC, SC_ERR_INVALID
 * (idle_seconds < 0), SC_ERR_READONLY, SC_ERR_BUSY, SC_ERR_STORE.
 */
sc_err sc_store_drop(sc_store *s, const char *topic, long idle_seconds,
		     int64_t *dropped, sc_error *err);

#endif
