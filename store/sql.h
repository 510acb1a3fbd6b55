/*
 * store/sql.h — the store's SQL layer: the one seam between the store's
 * logic (snapshot + log, the state cache, group commit, retention) and a
 * database.  Each backend (store/sqlite.c; store/pg.c) implements it
 * with its own SQL text for every statement id (enum st_id of
 * store/internal.h) and its own transactions, schema and wake-up; the
 * rest of store/ calls only what is here.
 *
 * A connection (sc_sql) is used by one thread at a time.  A statement
 * handle comes from the connection's cache of prepared statements,
 * reset and with no bindings; the caller binds by position (1-based),
 * steps, reads columns (0-based) while on a row, and resets it on every
 * path.  A bind that fails is reported by the next step.  Borrowed
 * bindings (text) must stay unchanged until the reset.
 */
#ifndef SC_STORE_SQL_H
#define SC_STORE_SQL_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

typedef struct sc_sql sc_sql;
typedef struct sc_sqlq sc_sqlq;
struct sc_store_options;

/* sc_sql_step: a row is ready (else SC_OK: done, or the error). */
#define SC_SQL_ROW (-1)

/* Which native handle sc_sql_handle gives. */
enum sc_sql_kind { SC_SQL_SQLITE, SC_SQL_PG };

typedef struct sc_sql_ops {
	sc_sqlq *(*query)(sc_sql *c, int id, sc_error *err);
	void (*bind_int64)(sc_sqlq *q, int i, int64_t v);
	void (*bind_text)(sc_sqlq *q, int i, const char *t, size_t len);
	void (*bind_null)(sc_sqlq *q, int i);
	int (*step)(sc_sqlq *q, const char *what, sc_error *err);
	int64_t (*col_int64)(sc_sqlq *q, int col);
	const char *(*col_text)(sc_sqlq *q, int col, size_t *len);
	int64_t (*changes)(sc_sqlq *q);
	void (*reset)(sc_sqlq *q);
	sc_err (*begin)(sc_sql *c, int write, sc_error *err);
	sc_err (*commit)(sc_sql *c, int wake, sc_error *err);
	void (*rollback)(sc_sql *c);
	int (*in_txn)(sc_sql *c);
	sc_err (*maintain)(sc_sql *c, int vacuum, sc_error *err);
	uint64_t (*wake_token)(sc_sql *c);
	int (*wait)(sc_sql *c, uint64_t *token, int timeout_ms);
	void *(*handle)(sc_sql *c, enum sc_sql_kind kind);
	void (*close)(sc_sql *c);
	/* NULL: the backend has no use for the hint (sc_sql_topics_hint). */
	void (*topics_hint)(sc_sql *c, const char *const *topics, size_t n);
	/* 1: the store's own writes are only sent, and one that fails
	 * fails the whole transaction (PostgreSQL's pipeline): a change's
	 * SAVEPOINT would guard nothing of them, only a handler's own SQL
	 * (sc_sql_pipelined). */
	int pipelined;
} sc_sql_ops;

/* The first member of every backend's connection and statement. */
struct sc_sql {
	const sc_sql_ops *ops;
};
struct sc_sqlq {
	const sc_sql_ops *ops;
};

/*
 * Opens the database opt->path names: a libpq URI (postgresql://,
 * postgres://) is PostgreSQL, anything else an SQLite file.  Applies the
 * backend's schema or migrates an older one (a newer one is refused:
 * SC_ERR_SCHEMA), reads the database's epoch into epoch.  *out is then a
 * new connection (sc_sql_close).  The messages never hold a password
 * (sc_store_display).
 */
sc_err sc_sql_open(const struct sc_store_options *opt, char epoch[33],
		   sc_sql **out, sc_error *err);

/* The backends' openers (store/sqlite.c, store/pg.c). */
sc_err sc_sqlite_open(const struct sc_store_options *opt, char epoch[33],
		      sc_sql **out, sc_error *err);
sc_err sc_pg_open(const struct sc_store_options *opt, char epoch[33],
		  sc_sql **out, sc_error *err);

/* The statement id of c, reset, no bindings; NULL with err on failure. */
static inline sc_sqlq *sc_sql_query(sc_sql *c, int id, sc_error *err)
{
	return c->ops->query(c, id, err);
}
static inline void sc_sql_int64(sc_sqlq *q, int i, int64_t v)
{
	q->ops->bind_int64(q, i, v);
}
/* len: the text's bytes; (size_t)-1: up to its NUL. */
static inline void sc_sql_text(sc_sqlq *q, int i, const char *t, size_t len)
{
	q->ops->bind_text(q, i, t, len);
}
static inline void sc_sql_null(sc_sqlq *q, int i)
{
	q->ops->bind_null(q, i);
}
/* SC_SQL_ROW, SC_OK (done), or the error (err filled, prefixed "what: "). */
static inline int sc_sql_step(sc_sqlq *q, const char *what, sc_error *err)
{
	return q->ops->step(q, what, err);
}
static inline int64_t sc_sql_col_int64(sc_sqlq *q, int col)
{
	return q->ops->col_int64(q, col);
}
/* The column's text (NUL-terminated) and its length; NULL for SQL NULL. */
static inline const char *sc_sql_col_text(sc_sqlq *q, int col, size_t *len)
{
	return q->ops->col_text(q, col, len);
}
/* The rows the last step of q (an INSERT, UPDATE, DELETE) changed. */
static inline int64_t sc_sql_changes(sc_sqlq *q)
{
	return q->ops->changes(q);
}
/* Resets q and clears its bindings; NULL does nothing. */
static inline void sc_sql_reset(sc_sqlq *q)
{
	if (q != NULL)
		q->ops->reset(q);
}
/*
 * Begins a transaction: a read (one snapshot for every statement of it)
 * or a write (one writer at a time over the whole database: SQLite's
 * BEGIN IMMEDIATE, PostgreSQL's lock of the seq counter row).
 */
static inline sc_err sc_sql_begin(sc_sql *c, int write, sc_error *err)
{
	return c->ops->begin(c, write, err);
}
/*
 * The topics the next write transaction will read the rows of
 * (ST_TOPIC_META): a backend may fetch them with its BEGIN (PostgreSQL:
 * in the same round trip), each answered once, before anything of the
 * transaction could change it.  The strings must outlive the
 * transaction.  A hint only: the reads give the same rows without it.
 */
static inline void sc_sql_topics_hint(sc_sql *c, const char *const *topics,
				      size_t n)
{
	if (c->ops->topics_hint != NULL)
		c->ops->topics_hint(c, topics, n);
}
/* Commits; wake: the transaction logged rows, wake every waiter of the
 * database (on any host) once it is committed. */
static inline sc_err sc_sql_commit(sc_sql *c, int wake, sc_error *err)
{
	return c->ops->commit(c, wake, err);
}
/* Whether the store's writes are only sent (see sc_sql_ops.pipelined). */
static inline int sc_sql_pipelined(sc_sql *c)
{
	return c->ops->pipelined;
}
/* Rolls back the open transaction, if any; never fails visibly. */
static inline void sc_sql_rollback(sc_sql *c)
{
	c->ops->rollback(c);
}
/* Whether a transaction is open (0 also when the connection is lost). */
static inline int sc_sql_in_txn(sc_sql *c)
{
	return c->ops->in_txn(c);
}
/* Compaction's last step, outside a transaction: SQLite's VACUUM (when
 * vacuum) and WAL checkpoint; nothing on PostgreSQL (autovacuum). */
static inline sc_err sc_sql_maintain(sc_sql *c, int vacuum, sc_error *err)
{
	return c->ops->maintain(c, vacuum, err);
}
/* The wake-up (sc_store_wake_token, sc_store_wait). */
static inline uint64_t sc_sql_wake_token(sc_sql *c)
{
	return c->ops->wake_token(c);
}
static inline int sc_sql_wait(sc_sql *c, uint64_t *token, int timeout_ms)
{
	return c->ops->wait(c, token, timeout_ms);
}
/* The native handle of kind (sqlite3 *, PGconn *), NULL if another. */
static inline void *sc_sql_handle(sc_sql *c, enum sc_sql_kind kind)
{
	return c->ops->handle(c, kind);
}
/* Closes c; NULL does nothing. */
static inline void sc_sql_close(sc_sql *c)
{
	if (c != NULL)
		c->ops->close(c);
}

#endif
