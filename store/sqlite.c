/* Long (over 700 lines): one SQL backend, as pg.c is the other. */
/*
 * store/sqlite.c — the SQLite backend of the SQL layer (store/sql.h):
 * one database file in WAL mode, its statements (SQL text with ?N
 * parameters), schema.sql and its migrations (user_version), BEGIN
 * IMMEDIATE for the write transactions (one writer at a time), a busy
 * handler, and the wake-up through the futex file beside the database
 * (store/wake.c) with a slow poll of the log on a connection of its own.
 * The only file of store/ that calls SQLite, with wake.c's futex.
 */
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "store/internal.h"
#include "store/sql.h"
#include "store/store.h"

extern const char sc_schema_sql[];

#define DEFAULT_BUSY_MS 5000

/* The highest seq ever given: the log never loses its newest row (see
 * schema.sql and sc_store_prune), so that is max(seq), read from the end
 * of the rowid tree. */
#define SEQ_NOW	 "coalesce((SELECT max(seq) FROM log), 0)"
#define LOG_COLS                                                               \
	"log.seq, log.topic, log.version, log.time_ms, log.event, log.patch"
/*
 * COLS of the log rows above AFTER (and the condition AND_ALSO) of the
 * topics whose name is WHICH ("= ?1", "IN ..."), ordered by ORDER: the
 * log joined with their runs (schema.sql), the closed runs that end
 * above AFTER and the open runs, each a range of the log's rowid.  The
 * run's last comes as one more column, "run", after COLS.  For one
 * topic the runs do not overlap, so ORDER "run, seq" is seq order, and
 * one SQLite reads in as it walks (the runs in key order, then the log
 * in rowid order): ORDER BY seq alone would sort every row first.
 */
#define RUNS_UNION(cols, which, after, and_also, order)                        \
	"SELECT " cols ", runs.last AS run FROM runs JOIN log ON log.seq >= " \
	"max(runs.first, " after " + 1) AND log.seq <= runs.last WHERE "     \
	"runs.topic " which " AND runs.last > " after and_also " UNION ALL " \
	"SELECT " cols ", topics.last_seq FROM topics JOIN log ON log.seq >= "\
	"max(topics.run_first, " after " + 1) AND log.seq <= "               \
	"topics.last_seq WHERE topics.name " which " AND topics.last_seq > "  \
	after and_also " ORDER BY " order
#define RUNS_SELECT(cols, after, and_also)                                     \
	RUNS_UNION(cols, "= ?1", after, and_also, "run, seq")
/* The topics of the JSON array ?1. */
#define TOPIC_LIST "(SELECT value FROM json_each(?1))"
/* The runs (r.first, r.last) of the topics whose runs rows match
 * IN_RUNS and whose topics rows match IN_TOPICS, joined with their log
 * rows up to LAST (an expression of r.last). */
#define RUNS_OF(in_runs, in_topics, last)                                      \
	"(SELECT first, last FROM runs WHERE " in_runs " UNION ALL SELECT "   \
	"run_first, last_seq FROM topics WHERE " in_topics " AND last_seq > " \
	"0) AS r JOIN log ON log.seq >= r.first AND log.seq <= " last
#define LOG_INSERT                                                             \
	"INSERT INTO log (topic, version, time_ms, event, patch) "             \
	"VALUES (?1, ?2, ?3, ?4, ?5)"
/* Which topics sc_store_drop takes: ?1 the name (NULL: any), ?2 1 to
 * drop regardless of age, ?3 the time before which a topic counts as
 * idle.  A topic never written (version 0) is always idle: it holds
 * nothing init_state would not give back. */
#define WHICH                                                                  \
	"(?1 IS NULL OR name = ?1) AND (?2 = 1 OR version = 0 OR "             \
	"updated_ms < ?3)"

static const char *const st_sql[ST__COUNT] = {
    [ST_MAX_SEQ] = "SELECT " SEQ_NOW,
    [ST_TOPIC_META] = "SELECT version, floor, created_ms, snap_version, "
		      "snap_seq, snap_bytes, tail_bytes, last_seq, run_first "
		      "FROM topics WHERE name = ?1",
    /* A topic made by a change is created with it: its floor is the
     * highest seq before the change (?4), and so is its snapshot's seq:
     * no row before it is the topic's (rows of a dropped topic of the
     * same name may remain).  A row back: it was inserted. */
    [ST_TOPIC_CREATE] =
	"INSERT INTO topics (name, version, floor, created_ms, updated_ms, "
	"snap_bytes, snap_seq) VALUES (?1, 0, coalesce(?4, " SEQ_NOW "), ?2, "
	"?2, ?3, coalesce(?4, " SEQ_NOW ")) ON CONFLICT (name) DO NOTHING "
	"RETURNING 1",
    [ST_TOPIC_UPDATE] = "UPDATE topics SET version = ?2, updated_ms = ?3, "
			"tail_bytes = tail_bytes + ?4, last_seq = ?5, "
			"run_first = ?6 WHERE name = ?1",
    [ST_TOPIC_SNAP] = "UPDATE topics SET snap_version = ?2, snap_seq = ?3, "
		      "snap_bytes = ?4, tail_bytes = 0 WHERE name = ?1",
    [ST_SNAP_GET] = "SELECT state FROM snapshots WHERE topic = ?1",
    [ST_SNAP_PUT] = "INSERT INTO snapshots (topic, state) VALUES (?1, ?2) "
		    "ON CONFLICT (topic) DO UPDATE SET state = excluded.state",
    [ST_TAIL] = RUNS_SELECT("log.seq, log.patch", "?2", ""),
    [ST_TOPIC_FLOOR] = "SELECT floor, " SEQ_NOW " FROM topics WHERE name = ?1",
    [ST_TOPICS] = "SELECT name, version FROM topics ORDER BY name",
    /* seq: the rowid, max(seq) + 1 (schema.sql).  It comes back as
     * the row of lite_step (see lite_q.rowid), not by RETURNING: that
     * builds a temporary table per statement, about a fifth of a
     * change's instructions. */
    [ST_LOG_INSERT] = LOG_INSERT,
    /* The same here: the topic's row is written by the store. */
    [ST_LOG_ROW] = LOG_INSERT,
    [ST_TOPIC_FLUSH] = "UPDATE topics SET version = ?2, updated_ms = ?3, "
		       "tail_bytes = ?4, last_seq = ?5, run_first = ?6 "
		       "WHERE name = ?1",
    [ST_RUN_CLOSE] = "INSERT INTO runs (topic, last, first) "
		     "VALUES (?1, ?2, ?3)",
    [ST_LOG_ONE] = RUNS_SELECT(LOG_COLS, "?2", "") " LIMIT ?3",
    /* Several topics (?1, a JSON array): their runs, as for one, and
     * their rows merged in seq order (sorted: as with an index). */
    [ST_LOG_MANY] = RUNS_UNION(LOG_COLS, "IN " TOPIC_LIST, "?2", "", "seq")
		    " LIMIT ?3",
    /* All topics: the rows after ?2, a range of the rowid. */
    [ST_LOG_ALL] = "SELECT " LOG_COLS " FROM log WHERE seq > ?2 ORDER BY "
		   "seq LIMIT ?3",
    [ST_SAVEPOINT] = "SAVEPOINT sc_event",
    [ST_RELEASE] = "RELEASE sc_event",
    [ST_ROLLBACK_TO] = "ROLLBACK TO sc_event",
    [ST_IDEM_GET] = "SELECT version, seq, patch FROM idempotency "
		    "WHERE topic = ?1 AND key = ?2",
    [ST_IDEM_PUT] = "INSERT INTO idempotency (topic, key, time_ms, version, "
		    "seq, patch) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_SNAP_NEXT] = "SELECT name FROM topics WHERE name > ?1 "
		     "AND tail_bytes > 0 ORDER BY name LIMIT 1",
    [ST_PRUNE_NEXT] = "SELECT name, version FROM topics WHERE name > ?1 "
		      "ORDER BY name LIMIT 1",
    /* Only rows the snapshot holds may go (seq <= snap_seq). */
    [ST_PRUNE_WALK] = RUNS_SELECT("log.seq, log.version, log.time_ms", "?2",
				  " AND log.seq <= ?3")
		      " LIMIT " SC_STORE_STR(SC_STORE_PRUNE_PAGE),
    [ST_PRUNE_TOPIC_FLOOR] = "UPDATE topics SET floor = ?2 "
			     "WHERE name = ?1 AND floor < ?2",
    [ST_PRUNE_TOPIC_LOG] = "DELETE FROM log WHERE seq IN (SELECT log.seq "
			   "FROM " RUNS_OF("topic = ?1 AND first <= ?2",
					   "name = ?1 AND run_first <= ?2",
					   "min(r.last, ?2)") ")",
    /* The closed runs whose rows are all gone (a run partly pruned
     * stays as it is: the rows it names that are gone are not read). */
    [ST_PRUNE_RUNS] = "DELETE FROM runs WHERE topic = ?1 AND last <= ?2",
    [ST_PRUNE_IDEM] = "DELETE FROM idempotency WHERE time_ms < ?1",
    [ST_DROP_LOG] = "DELETE FROM log WHERE seq IN (SELECT log.seq FROM "
		    RUNS_OF("topic IN (SELECT name FROM topics WHERE " WHICH
			    ")", WHICH, "r.last") ") AND seq < (SELECT max(seq) "
		    "FROM log)",
    [ST_DROP_RUNS] = "DELETE FROM runs WHERE topic IN (SELECT name FROM "
		     "topics WHERE " WHICH ")",
    [ST_DROP_IDEM] = "DELETE FROM idempotency WHERE topic IN (SELECT name "
		     "FROM topics WHERE " WHICH ")",
    [ST_DROP_SNAP] = "DELETE FROM snapshots WHERE topic IN (SELECT name "
		     "FROM topics WHERE " WHICH ")",
    [ST_DROP_TOPICS] = "DELETE FROM topics WHERE " WHICH,
};

/*
 * Schema migrations: migrations[v] turns a database of user_version v
 * into v + 1.  Version 0 (a new file) gets schema.sql itself.  When
 * schema.sql changes, its user_version goes up and the step from the
 * previous version is added here.
 */
static const char *const migrations[] = {
    NULL, /* 0 -> 1: schema.sql */
    /* 1 -> 2: the state becomes a snapshot in a table of its own; the
     * log after it is empty (every v1 row is older than the state). */
    "CREATE TABLE snapshots (topic TEXT PRIMARY KEY NOT NULL, "
    "state TEXT NOT NULL);"
    "INSERT INTO snapshots (topic, state) SELECT name, state FROM topics;"
    "CREATE TABLE topics2 (name TEXT PRIMARY KEY NOT NULL, "
    "version INTEGER NOT NULL DEFAULT 0, floor INTEGER NOT NULL DEFAULT 0, "
    "created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, "
    "snap_version INTEGER NOT NULL DEFAULT 0, "
    "snap_seq INTEGER NOT NULL DEFAULT 0, "
    "snap_bytes INTEGER NOT NULL DEFAULT 0, "
    "tail_bytes INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "INSERT INTO topics2 (name, version, floor, created_ms, updated_ms, "
    "snap_version, snap_seq, snap_bytes) "
    "SELECT name, version, floor, created_ms, updated_ms, version, "
    "max(floor, coalesce((SELECT max(seq) FROM log "
    "WHERE log.topic = topics.name), 0)), "
    "length(CAST(state AS BLOB)) FROM topics;"
    "DROP TABLE topics;"
    "ALTER TABLE topics2 RENAME TO topics;",
    /* 2 -> 3: the log_topic index gives way to runs.  The runs are the
     * islands of each topic's rows above its floor among all the rows
     * in seq order (a row below a topic's floor is not its own: one of
     * a dropped topic of that name); the newest run of a topic is its
     * open one, in its row. */
    "ALTER TABLE topics ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE topics ADD COLUMN run_first INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE runs (topic TEXT NOT NULL, last INTEGER NOT NULL, "
    "first INTEGER NOT NULL, PRIMARY KEY (topic, last)) WITHOUT ROWID;"
    "INSERT INTO runs (topic, last, first) "
    "SELECT topic, max(seq), min(seq) FROM (SELECT log.seq, log.topic, "
    "log.seq > coalesce(topics.floor, log.seq) AS own, "
    "row_number() OVER (ORDER BY log.seq) - row_number() OVER "
    "(PARTITION BY log.topic, log.seq > coalesce(topics.floor, log.seq) "
    "ORDER BY log.seq) AS island FROM log LEFT JOIN topics "
    "ON topics.name = log.topic) WHERE own GROUP BY topic, island;"
    "UPDATE topics SET last_seq = coalesce((SELECT max(last) FROM runs "
    "WHERE runs.topic = topics.name), 0);"
    "UPDATE topics SET run_first = coalesce((SELECT first FROM runs WHERE "
    "runs.topic = topics.name AND runs.last = topics.last_seq), 0);"
    "DELETE FROM runs WHERE last = (SELECT last_seq FROM topics WHERE "
    "topics.name = runs.topic);"
    "DROP INDEX log_topic;",
};

typedef struct lite lite;

/* The transaction statements, prepared once per connection (each
 * sqlite3_exec would parse its text again: ~8% of a change). */
enum txn_id { TXN_BEGIN, TXN_BEGIN_WRITE, TXN_COMMIT, TXN__COUNT };
static const char *const txn_sql[TXN__COUNT] = {
    [TXN_BEGIN] = "BEGIN",
    [TXN_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [TXN_COMMIT] = "COMMIT",
};

typedef struct lite_q {
	sc_sqlq base;
	lite *c;
	sqlite3_stmt *st;
	int bind_rc; /* the first failed bind, reported by the step */
	/* ST_LOG_INSERT and ST_LOG_ROW: the step ends with one row, the
	 * new rowid (the seq), as a RETURNING would give it; `rowid` is 1
	 * while that row is current, 2 once it was stepped past. */
	int rowid;
	int64_t last_rowid;
} lite_q;

struct lite {
	sc_sql base;
	sqlite3 *db;
	char *path;
	int readonly;
	int busy_timeout_ms;
	int64_t busy_start_us; /* the busy handler's current wait */
	lite_q q[ST__COUNT];
	sqlite3_stmt *txn_st[TXN__COUNT]; /* BEGIN...: prepared once */
	sc_wake wake;
	sqlite3 *poll_db; /* the slow poll's own read-only connection */
};

static const sc_sql_ops lite_ops;

/*
 * Maps an SQLite result code of c->db to an sc_err (BUSY, READONLY,
 * NOMEM, IO, STORE) and fills err with what and SQLite's message.
 */
static sc_err sqlerr(lite *c, int rc, const char *what, sc_error *err)
{
	const char *msg = c != NULL && c->db != NULL ? sqlite3_errmsg(c->db)
						     : sqlite3_errstr(rc);
	sc_err code;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = SC_ERR_BUSY;
		break;
	case SQLITE_READONLY:
		code = SC_ERR_READONLY;
		break;
	case SQLITE_NOMEM:
		code = SC_ERR_NOMEM;
		break;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_FULL:
		code = SC_ERR_IO;
		break;
	case SQLITE_NOTADB:
		code = SC_ERR_STORE;
		msg = "the file is not a database";
		break;
	case SQLITE_CORRUPT:
		code = SC_ERR_STORE;
		msg = "the database file is corrupt";
		break;
	default:
		code = SC_ERR_STORE;
		break;
	}
	return sc_error_set(err, code, "%s: %s", what, msg);
}

static sc_sqlq *lite_query(sc_sql *sql, int id, sc_error *err)
{
	lite *c = (lite *)sql;
	lite_q *q = &c->q[id];
	int rc;

	if (q->st == NULL) {
		rc = sqlite3_prepare_v3(c->db, st_sql[id], -1,
					SQLITE_PREPARE_PERSISTENT, &q->st,
					NULL);
		if (rc != SQLITE_OK) {
			sqlerr(c, rc, "prepare", err);
			q->st = NULL;
			return NULL;
		}
	}
	q->base.ops = &lite_ops;
	q->c = c;
	q->bind_rc = SQLITE_OK;
	q->rowid = 0;
	return &q->base;
}

static void lite_bind_int64(sc_sqlq *sq, int i, int64_t v)
{
	lite_q *q = (lite_q *)sq;

	if (q->bind_rc == SQLITE_OK)
		q->bind_rc = sqlite3_bind_int64(q->st, i, v);
}

static void lite_bind_text(sc_sqlq *sq, int i, const char *t, size_t len)
{
	lite_q *q = (lite_q *)sq;

	if (q->bind_rc != SQLITE_OK)
		return;
	if (len != (size_t)-1 && len > INT32_MAX)
		q->bind_rc = SQLITE_TOOBIG;
	else
		q->bind_rc = sqlite3_bind_text(
		    q->st, i, t, len == (size_t)-1 ? -1 : (int)len,
		    SQLITE_STATIC);
}

static void lite_bind_null(sc_sqlq *sq, int i)
{
	lite_q *q = (lite_q *)sq;

	if (q->bind_rc == SQLITE_OK)
		q->bind_rc = sqlite3_bind_null(q->st, i);
}

static int lite_step(sc_sqlq *sq, const char *what, sc_error *err)
{
	lite_q *q = (lite_q *)sq;
	int r = q->bind_rc;

	if (q->rowid != 0) {
		q->rowid = 2;
		return SC_OK;
	}
	if (r == SQLITE_OK)
		r = sqlite3_step(q->st);
	if (r == SQLITE_ROW)
		return SC_SQL_ROW;
	if (r == SQLITE_DONE && (q == &q->c->q[ST_LOG_INSERT] ||
				 q == &q->c->q[ST_LOG_ROW])) {
		q->last_rowid = sqlite3_last_insert_rowid(q->c->db);
		q->rowid = 1;
		return SC_SQL_ROW;
	}
	if (r == SQLITE_DONE)
		return SC_OK;
	return (int)sqlerr(q->c, r, what, err);
}

static int64_t lite_col_int64(sc_sqlq *sq, int col)
{
	lite_q *q = (lite_q *)sq;

	if (q->rowid == 1)
		return col == 0 ? q->last_rowid : 0;
	return sqlite3_column_int64(q->st, col);
}

static const char *lite_col_text(sc_sqlq *sq, int col, size_t *len)
{
	sqlite3_stmt *st = ((lite_q *)sq)->st;
	const char *t = (const char *)sqlite3_column_text(st, col);

	if (len != NULL)
		*len = t != NULL ? (size_t)sqlite3_column_bytes(st, col) : 0;
	return t;
}

static int64_t lite_changes(sc_sqlq *sq)
{
	return sqlite3_changes(((lite_q *)sq)->c->db);
}

static void lite_reset(sc_sqlq *sq)
{
	lite_q *q = (lite_q *)sq;

	sqlite3_reset(q->st);
	sqlite3_clear_bindings(q->st);
	q->bind_rc = SQLITE_OK;
	q->rowid = 0;
}

static sc_err exec_sql(lite *c, const char *sql, const char *what,
		       sc_error *err)
{
	int r = sqlite3_exec(c->db, sql, NULL, NULL, NULL);

	return r == SQLITE_OK ? SC_OK : sqlerr(c, r, what, err);
}

/* Runs the transaction statement id (prepared on first use). */
static sc_err txn_sql_run(lite *c, enum txn_id id, const char *what,
			  sc_error *err)
{
	sc_err rc = SC_OK;
	int r = SQLITE_OK;

	if (c->txn_st[id] == NULL)
		r = sqlite3_prepare_v3(c->db, txn_sql[id], -1,
				       SQLITE_PREPARE_PERSISTENT,
				       &c->txn_st[id], NULL);
	if (r == SQLITE_OK && (r = sqlite3_step(c->txn_st[id])) == SQLITE_DONE)
		r = SQLITE_OK;
	if (r != SQLITE_OK)
		rc = sqlerr(c, r, what, err); /* its message, before the reset */
	if (c->txn_st[id] != NULL)
		sqlite3_reset(c->txn_st[id]);
	return rc;
}

static sc_err lite_begin(sc_sql *sql, int write, sc_error *err)
{
	return txn_sql_run((lite *)sql, write ? TXN_BEGIN_WRITE : TXN_BEGIN,
			   "begin", err);
}

static sc_err lite_commit(sc_sql *sql, int wake, sc_error *err)
{
	lite *c = (lite *)sql;
	sc_err rc = txn_sql_run(c, TXN_COMMIT, "commit", err);

	if (rc == SC_OK && wake)
		sc_wake_bump(&c->wake);
	return rc;
}

static int lite_in_txn(sc_sql *sql)
{
	return !sqlite3_get_autocommit(((lite *)sql)->db);
}

static void lite_rollback(sc_sql *sql)
{
	if (lite_in_txn(sql))
		exec_sql((lite *)sql, "ROLLBACK", "rollback", NULL);
}

static sc_err lite_maintain(sc_sql *sql, int vacuum, sc_error *err)
{
	lite *c = (lite *)sql;
	sc_err rc = SC_OK;

	if (vacuum)
		rc = exec_sql(c, "VACUUM", "vacuum", err);
	if (rc == SC_OK)
		rc = exec_sql(c, "PRAGMA wal_checkpoint(TRUNCATE)",
			      "checkpoint", err);
	return rc;
}

/* The slow poll: the highest seq, read on the waiter's own read-only
 * connection (the store's may be busy in another thread). */
static int poll_seq(void *arg, int64_t *seq)
{
	lite *c = arg;
	sqlite3_stmt *st = NULL;
	int ok = 0;

	if (c->poll_db == NULL &&
	    sqlite3_open_v2(c->path, &c->poll_db,
			    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		sqlite3_close(c->poll_db);
		c->poll_db = NULL;
		return 0;
	}
	if (sqlite3_prepare_v2(c->poll_db, "SELECT " SEQ_NOW, -1, &st, NULL) ==
		SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		ok = 1;
	}
	sqlite3_finalize(st);
	return ok;
}

static uint64_t lite_wake_token(sc_sql *sql)
{
	return sc_wake_token(&((lite *)sql)->wake);
}

static int lite_wait(sc_sql *sql, uint64_t *token, int timeout_ms)
{
	lite *c = (lite *)sql;

	return sc_wake_wait(&c->wake, token, timeout_ms, poll_seq, c);
}

static void *lite_handle(sc_sql *sql, enum sc_sql_kind kind)
{
	return kind == SC_SQL_SQLITE ? ((lite *)sql)->db : NULL;
}

static void lite_close(sc_sql *sql)
{
	lite *c = (lite *)sql;
	int i;

	for (i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(c->q[i].st);
	for (i = 0; i < TXN__COUNT; i++)
		sqlite3_finalize(c->txn_st[i]);
	sc_wake_close(&c->wake);
	sqlite3_close(c->poll_db);
	sqlite3_close(c->db);
	sc_free(c->path);
	sc_free(c);
}

static const sc_sql_ops lite_ops = {
    .query = lite_query,
    .bind_int64 = lite_bind_int64,
    .bind_text = lite_bind_text,
    .bind_null = lite_bind_null,
    .step = lite_step,
    .col_int64 = lite_col_int64,
    .col_text = lite_col_text,
    .changes = lite_changes,
    .reset = lite_reset,
    .begin = lite_begin,
    .commit = lite_commit,
    .rollback = lite_rollback,
    .in_txn = lite_in_txn,
    .maintain = lite_maintain,
    .wake_token = lite_wake_token,
    .wait = lite_wait,
    .handle = lite_handle,
    .close = lite_close,
};

/*
 * Busy handler: short, growing sleeps (20 us doubling to 1 ms) until
 * the busy timeout, so a writer waiting for another's BEGIN IMMEDIATE
 * gets the lock soon after it is released (SQLite's own handler sleeps
 * 1, 2, 5, 10... ms).
 */
static int busy_handler(void *arg, int count)
{
	lite *c = arg;
	struct timespec ts;
	int64_t us;

	if (count == 0)
		c->busy_start_us = sc_clock_mono_us();
	if (sc_clock_mono_us() - c->busy_start_us >= (int64_t)c->busy_timeout_ms * 1000)
		return 0;
	us = count < 6 ? 20 << count : 1000;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)us * 1000;
	nanosleep(&ts, NULL);
	return 1;
}

/* The user_version that schema.sql sets. */
static int schema_version(void)
{
	const char *p = strstr(sc_schema_sql, "PRAGMA user_version = ");

	return p != NULL ? atoi(p + strlen("PRAGMA user_version = ")) : 0;
}

static sc_err pragma_int(lite *c, const char *sql, int64_t *v, sc_error *err)
{
	sqlite3_stmt *st = NULL;
	sc_err rc = SC_OK;
	int r;

	*v = 0;
	r = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	else if (r != SQLITE_DONE)
		rc = sqlerr(c, r, "open", err);
	sqlite3_finalize(st);
	return rc;
}

static sc_err make_epoch(lite *c, sc_error *err)
{
	char epoch[SC_EPOCH_HEX + 1];
	sqlite3_stmt *st = NULL;
	sc_err rc = sc_store_new_epoch(epoch, err);
	int r;

	if (rc != SC_OK)
		return rc;
	r = sqlite3_prepare_v2(c->db,
			       "INSERT INTO meta (key, value) "
			       "VALUES ('epoch', ?1)",
			       -1, &st, NULL);
	if (r == SQLITE_OK)
		r = sqlite3_bind_text(st, 1, epoch, -1, SQLITE_TRANSIENT);
	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	if (r != SQLITE_DONE)
		rc = sqlerr(c, r, "write the epoch", err);
	sqlite3_finalize(st);
	return rc;
}

/*
 * Brings the schema to the current version: a new database gets
 * schema.sql and an epoch, an older one the migration steps, all in one
 * write transaction (re-checked inside it: another process may be
 * doing the same).  A newer one is refused.
 */
static sc_err apply_schema(lite *c, sc_error *err)
{
	int64_t v = 0;
	int cur = schema_version();
	sc_err rc;

	rc = pragma_int(c, "PRAGMA user_version", &v, err);
	if (rc != SC_OK || v == cur)
		return rc;
	if (v > cur)
		return sc_error_set(err, SC_ERR_SCHEMA,
				    "%s: schema version %" PRId64
				    " is newer than this program's (%d): "
				    "upgrade StateChannel",
				    c->path, v, cur);
	if (c->readonly)
		return sc_error_set(err, SC_ERR_SCHEMA,
				    "%s: schema version %" PRId64
				    ", expected %d: open it read-write once "
				    "(statechannel init)",
				    c->path, v, cur);
	rc = lite_begin(&c->base, 1, err);
	if (rc == SC_OK)
		rc = pragma_int(c, "PRAGMA user_version", &v, err);
	if (rc == SC_OK && v > cur)
		rc = sc_error_set(err, SC_ERR_SCHEMA,
				  "%s: schema version %" PRId64
				  " is newer than this program's (%d)",
				  c->path, v, cur);
	if (rc == SC_OK && v == 0) {
		int64_t n = 0;

		rc = pragma_int(c,
				"SELECT count(*) FROM sqlite_schema WHERE "
				"name IN ('topics', 'log', 'meta', "
				"'idempotency')",
				&n, err);
		if (rc == SC_OK && n > 0)
			rc =
			    sc_error_set(err, SC_ERR_SCHEMA,
					 "%s: has tables named like "
					 "StateChannel's but no schema "
					 "version: not a StateChannel database",
					 c->path);
		if (rc == SC_OK)
			rc = exec_sql(c, sc_schema_sql, "apply schema.sql", err);
		if (rc == SC_OK)
			rc = make_epoch(c, err);
		v = cur;
	}
	for (; rc == SC_OK && v < cur; v++) {
		if ((size_t)v >= sizeof(migrations) / sizeof(migrations[0]) ||
		    migrations[v] == NULL)
			rc = sc_error_set(err, SC_ERR_SCHEMA,
					  "%s: no migration from schema "
					  "version %" PRId64,
					  c->path, v);
		else
			rc = exec_sql(c, migrations[v], "migrate", err);
	}
	if (rc == SC_OK && cur > 0) {
		char sql[64];

		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", cur);
		rc = exec_sql(c, sql, "set the schema version", err);
	}
	if (rc == SC_OK)
		rc = lite_commit(&c->base, 0, err);
	if (rc != SC_OK)
		lite_rollback(&c->base);
	return rc;
}

static sc_err read_epoch(lite *c, char epoch[33], sc_error *err)
{
	sqlite3_stmt *st = NULL;
	sc_err rc = SC_OK;
	int r;

	r = sqlite3_prepare_v2(
	    c->db, "SELECT value FROM meta WHERE key = 'epoch'", -1, &st, NULL);
	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		rc = sc_store_epoch_check(
		    (const char *)sqlite3_column_text(st, 0), c->path, epoch,
		    err);
	else if (r == SQLITE_DONE)
		rc = sc_error_set(err, SC_ERR_STORE, "%s: no epoch", c->path);
	else
		rc = sqlerr(c, r, "read the epoch", err);
	sqlite3_finalize(st);
	return rc;
}

static sc_err set_journal(lite *c, const sc_store_options *opt, sc_error *err)
{
	sqlite3_stmt *st = NULL;
	sc_err rc = SC_OK;
	int r;

	/* Before WAL mode, where it could not change any more; a no-op on a
	 * database that has pages already. */
	{
		char sql[48];

		snprintf(sql, sizeof(sql), "PRAGMA page_size = %d",
			 SC_STORE_PAGE_SIZE);
		rc = exec_sql(c, sql, "set the page size", err);
		if (rc != SC_OK)
			return rc;
	}
	r = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &st,
			       NULL);
	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(st, 0);

		if (m == NULL || strcmp(m, "wal") != 0)
			rc = sc_error_set(err, SC_ERR_STORE,
					  "%s: cannot use WAL mode (%s)",
					  c->path, m ? m : "?");
	} else {
		rc = sqlerr(c, r, c->path, err);
	}
	sqlite3_finalize(st);
	if (rc == SC_OK)
		rc = exec_sql(c,
			      opt->sync_full ? "PRAGMA synchronous = FULL"
					     : "PRAGMA synchronous = NORMAL",
			      "set synchronous", err);
	/* See SC_STORE_WAL_PAGES. */
	if (rc == SC_OK) {
		char sql[128];

		snprintf(sql, sizeof(sql),
			 "PRAGMA wal_autocheckpoint = %d; "
			 "PRAGMA journal_size_limit = 67108864",
			 SC_STORE_WAL_PAGES);
		rc = exec_sql(c, sql, "set the checkpoint", err);
	}
	return rc;
}

sc_err sc_sqlite_open(const sc_store_options *opt, char epoch[33],
		      sc_sql **out, sc_error *err)
{
	lite *c;
	int flags, r;
	sc_err rc = SC_OK;

	*out = NULL;
	c = sc_calloc(1, sizeof(*c));
	if (c == NULL)
		return sc_error_set(err, SC_ERR_NOMEM, "out of memory");
	c->base.ops = &lite_ops;
	c->wake.fd = -1;
	if ((c->path = sc_strdup(opt->path)) == NULL) {
		rc = sc_error_set(err, SC_ERR_NOMEM, "out of memory");
		goto out;
	}
	c->readonly = opt->readonly != 0;
	c->busy_timeout_ms =
	    opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms : DEFAULT_BUSY_MS;
	flags = SQLITE_OPEN_NOMUTEX |
		(c->readonly ? SQLITE_OPEN_READONLY
			     : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	r = sqlite3_open_v2(opt->path, &c->db, flags, NULL);
	if (r != SQLITE_OK) {
		rc = sc_error_set(
		    err, (r & 0xff) == SQLITE_NOMEM ? SC_ERR_NOMEM : SC_ERR_IO,
		    "%s: cannot open: %s", opt->path,
		    c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(r));
		goto out;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_handler(c->db, busy_handler, c);
	if (!c->readonly && sqlite3_db_readonly(c->db, "main") == 1) {
		rc = sc_error_set(err, SC_ERR_READONLY,
				  "%s: the database file is read-only "
				  "(open it read-only, or fix its permissions)",
				  opt->path);
		goto out;
	}
	if (!c->readonly)
		rc = set_journal(c, opt, err);
	if (rc == SC_OK)
		rc = apply_schema(c, err);
	if (rc == SC_OK)
		rc = read_epoch(c, epoch, err);
	if (rc == SC_OK)
		rc = sc_wake_open(&c->wake, opt->path, c->readonly, err);
out:
	if (rc != SC_OK) {
		lite_close(&c->base);
		return rc;
	}
	*out = &c->base;
	return SC_OK;
}
