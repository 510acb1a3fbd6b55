/* Long (over 700 lines): one SQL backend, as sqlite.c is the other. */
/*
 * store/pg.c — the PostgreSQL backend of the SQL layer (store/sql.h),
 * with libpq: --db is a libpq URI (postgresql://, postgres://; the
 * password from the URI, PGPASSWORD or ~/.pgpass, as libpq does, and
 * never printed: messages name the database by sc_store_display).
 *
 * schema_pg.sql is compiled in and applied to a new database under an
 * advisory lock; its version is the meta row 'schema_version' (a newer
 * one is refused, an older one migrated by migrations[]).
 *
 * Commit order is seq order (schema_pg.sql explains it): a write
 * transaction begins by locking the counter row meta 'seq', so the
 * store's writers run one at a time over the whole database (as with
 * SQLite's BEGIN IMMEDIATE); a change alone takes its log row's seq by
 * updating that row in the statement that inserts it (RETURNING the
 * seq); the changes of a batch give their rows the next seqs after the
 * value the BEGIN read, and the counter row (with the topics' rows) is
 * written once before the COMMIT (write_counter).  A PostgreSQL
 * SEQUENCE would not do: a seq taken by a transaction that commits later
 * than one with a higher seq would be missed by a follower.
 *
 * The wake-up: a write transaction that logged rows sends NOTIFY
 * statechannel before its COMMIT (delivered only if it commits, to
 * every session that LISTENs, on any host); a waiter LISTENs on a
 * connection of its own and, as the safety net, reads the counter every
 * POLL_MS.  A lost connection (the server restarted) is made again by
 * itself: the store's before its next transaction (never inside one: the
 * transaction is gone, and the statement fails with SC_ERR_BUSY), the
 * waiter's on its next slice, which then reports a wake-up (what was
 * committed meanwhile is read from the log).
 */
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "store/internal.h"
#include "store/sql.h"
#include "store/store.h"

extern const char sc_schema_pg_sql[];

#define POLL_MS	    250 /* the waiter's slow poll */
#define RETRY_MS    100 /* a failed connection is not tried again sooner */
#define NPARAMS	    8	/* most parameters of a statement */
#define OUT_MAX	    256 /* most statements sent before a sync */
#define PRE_MAX	    64	/* topic rows fetched with a BEGIN (= batch max) */
/* The advisory lock held while the schema is applied. */
#define LOCK_SCHEMA "92"

/* The statements of every write transaction, prepared once per
 * connection under these names (parsed for each use, they cost the
 * server more than the log rows themselves: bench/pg_cost.sh).  The
 * lock of the counter row is the write lock (schema_pg.sql). */
enum { TX_BEGIN, TX_LOCK, TX_SAVEPOINT, TX_RELEASE, TX_COUNTER, TX_NOTIFY,
       TX_COMMIT, TX__COUNT };
static const char *const txn_sql[TX__COUNT][2] = {
    [TX_BEGIN] = {"sc_begin", "BEGIN"},
    [TX_LOCK] = {"sc_lock", "SELECT value FROM meta WHERE key = 'seq' "
			    "FOR UPDATE"},
    [TX_SAVEPOINT] = {"sc_savepoint", "SAVEPOINT sc_event"},
    [TX_RELEASE] = {"sc_release", "RELEASE sc_event"},
    [TX_COUNTER] = {"sc_counter", "UPDATE meta SET value = $1 "
				  "WHERE key = 'seq'"},
    [TX_NOTIFY] = {"sc_notify", "NOTIFY statechannel"},
    [TX_COMMIT] = {"sc_commit", "COMMIT"},
};

/* The highest seq ever given: the counter row. */
#define SEQ_NOW	 "(SELECT value::bigint FROM meta WHERE key = 'seq')"
#define LOG_COLS "SELECT seq, topic, version, time_ms, event, patch FROM log "
/* Which topics sc_store_drop takes (store/drop.c): $1 the name (NULL:
 * any), $2 1 to drop regardless of age, $3 the time before which a
 * topic counts as idle. */
#define WHICH                                                                  \
	"($1::text IS NULL OR name = $1::text) AND ($2::int = 1 OR "           \
	"version = 0 OR updated_ms < $3::bigint)"

/* The same statements as store/sqlite.c's, on schema_pg.sql (a NULL
 * text: nothing to run, another statement does it): the
 * snapshot is a column of the topic's row (snapshot, snapshot_version,
 * snapshot_seq; its size is octet_length(snapshot), read from the TOAST
 * pointer without fetching the text), tail_bytes is patch_bytes. */
static const char *const pg_sql[ST__COUNT] = {
    [ST_MAX_SEQ] = "SELECT " SEQ_NOW,
    [ST_TOPIC_META] = "SELECT version, floor, created_ms, snapshot_version, "
		      "snapshot_seq, octet_length(snapshot), patch_bytes, "
		      "0, 0 FROM topics WHERE name = $1",
    /* The snapshot is written next (ST_SNAP_PUT); $3, its size, is
     * octet_length's business here. */
    [ST_TOPIC_CREATE] =
	"INSERT INTO topics (name, version, floor, created_ms, updated_ms, "
	"snapshot_seq, snapshot) SELECT $1::text, 0, "
	"coalesce($4::bigint, " SEQ_NOW "), $2::bigint, $2::bigint, "
	"coalesce($4::bigint, " SEQ_NOW "), '' WHERE $3::bigint >= 0 "
	"ON CONFLICT (name) DO NOTHING RETURNING 1",
    /* Done by ST_LOG_INSERT (NULL: no statement, no round trip). */
    [ST_TOPIC_UPDATE] = NULL,
    [ST_TOPIC_SNAP] = "UPDATE topics SET snapshot_version = $2, "
		      "snapshot_seq = $3, patch_bytes = 0 "
		      "WHERE name = $1 AND $4::bigint >= 0",
    [ST_SNAP_GET] = "SELECT snapshot FROM topics WHERE name = $1",
    [ST_SNAP_PUT] = "UPDATE topics SET snapshot = $2 WHERE name = $1",
    [ST_TAIL] = "SELECT seq, patch FROM log WHERE topic = $1 AND seq > $2 "
		"ORDER BY seq",
    [ST_TOPIC_FLOOR] = "SELECT floor, " SEQ_NOW " FROM topics WHERE name = $1",
    [ST_TOPICS] = "SELECT name, version FROM topics ORDER BY name",
    /* The seq from the counter row, locked since the transaction began
     * (schema_pg.sql). */
    [ST_LOG_INSERT] = "WITH c AS (UPDATE meta SET value = "
		      "(value::bigint + 1)::text WHERE key = 'seq' "
		      "RETURNING value::bigint AS seq), "
		      "t AS (UPDATE topics SET version = $2::bigint, "
		      "updated_ms = $3::bigint, patch_bytes = patch_bytes + "
		      "octet_length($5::text) WHERE name = $1::text) "
		      "INSERT INTO log (seq, topic, version, time_ms, event, "
		      "patch) SELECT seq, $1::text, $2::bigint, $3::bigint, "
		      "$4::text, $5::text FROM c RETURNING seq",
    /* A batch's deferred rows (store/change.c): the log row alone, its
     * seq ($6) foreseen here (pg_step), the counter row written once by
     * the COMMIT (seq_dirty); the topic's row once, from the batch. */
    [ST_LOG_ROW] = "INSERT INTO log (seq, topic, version, time_ms, event, "
		   "patch) VALUES ($6::bigint, $1::text, $2::bigint, "
		   "$3::bigint, $4::text, $5::text) RETURNING seq",
    [ST_TOPIC_FLUSH] = "UPDATE topics SET version = $2, updated_ms = $3, "
		       "patch_bytes = $4 WHERE name = $1",
    [ST_LOG_ONE] = LOG_COLS "WHERE topic = $1 AND seq > $2 ORDER BY seq "
			    "LIMIT CASE WHEN $3::bigint < 0 THEN NULL "
			    "ELSE $3::bigint END",
    [ST_LOG_MANY] = LOG_COLS "WHERE seq > $2 AND topic IN "
			     "(SELECT json_array_elements_text($1::json)) "
			     "ORDER BY seq LIMIT CASE WHEN $3::bigint < 0 "
			     "THEN NULL ELSE $3::bigint END",
    /* $1 (no topics) is not bound: NULL. */
    [ST_LOG_ALL] = LOG_COLS "WHERE seq > $2 AND $1::text IS NULL ORDER BY seq "
			    "LIMIT CASE WHEN $3::bigint < 0 THEN NULL "
			    "ELSE $3::bigint END",
    [ST_SAVEPOINT] = "SAVEPOINT sc_event",
    [ST_RELEASE] = "RELEASE sc_event",
    [ST_ROLLBACK_TO] = "ROLLBACK TO sc_event",
    [ST_IDEM_GET] = "SELECT version, seq, patch FROM idempotency "
		    "WHERE topic = $1 AND key = $2",
    [ST_IDEM_PUT] = "INSERT INTO idempotency (topic, key, time_ms, version, "
		    "seq, patch) VALUES ($1, $2, $3, $4, $5, $6)",
    [ST_SNAP_NEXT] = "SELECT name FROM topics WHERE name > $1 "
		     "AND patch_bytes > 0 ORDER BY name LIMIT 1",
    [ST_PRUNE_NEXT] = "SELECT name, version FROM topics WHERE name > $1 "
		      "ORDER BY name LIMIT 1",
    /* Only rows the snapshot holds may go ($3: snapshot_seq). */
    [ST_PRUNE_WALK] = "SELECT seq, version, time_ms FROM log WHERE topic = $1 "
		      "AND seq > $2::bigint AND seq <= $3::bigint ORDER BY seq "
		      "LIMIT " SC_STORE_STR(SC_STORE_PRUNE_PAGE),
    [ST_PRUNE_TOPIC_FLOOR] = "UPDATE topics SET floor = $2 "
			     "WHERE name = $1 AND floor < $2",
    [ST_PRUNE_TOPIC_LOG] = "DELETE FROM log WHERE topic = $1 AND seq <= $2",
    [ST_PRUNE_IDEM] = "DELETE FROM idempotency WHERE time_ms < $1",
    /* The counter row keeps the highest seq: every row may go. */
    [ST_DROP_LOG] = "DELETE FROM log WHERE topic IN (SELECT name FROM topics "
		    "WHERE " WHICH ")",
    [ST_DROP_IDEM] = "DELETE FROM idempotency WHERE topic IN (SELECT name "
		     "FROM topics WHERE " WHICH ")",
    /* The snapshot goes with the topic's row. */
    [ST_DROP_SNAP] = "SELECT 1 FROM topics WHERE false AND " WHICH,
    [ST_DROP_TOPICS] = "DELETE FROM topics WHERE " WHICH,
};

/* migrations[v] turns a database of schema_version v into v + 1
 * (version 0: schema_pg.sql itself). */
static const char *const migrations[] = {
    NULL, /* 0 -> 1: schema_pg.sql */
};

typedef struct pgc pgc;

typedef struct pg_q {
	sc_sqlq base;
	pgc *c;
	int id;
	const char *val[NPARAMS];
	int len[NPARAMS];
	int fmt[NPARAMS];
	char num[NPARAMS][24];
	int bad;   /* a bind out of range */
	int noop;  /* no SQL text: the step does nothing */
	int defer; /* SAVEPOINT, RELEASE, ROLLBACK TO: unprepared texts */
	int ran;   /* the step has run the statement */
	int64_t fake; /* a log row sent, not read yet: its seq (row 0) */
	PGresult *res;
	int row, nrows;
	int64_t changes;
} pg_q;

struct pgc {
	sc_sql base;
	PGconn *conn;
	char *uri;   /* as given: may hold the password, never printed */
	char *shown; /* sc_store_display's */
	int readonly;
	int lock_ms;	   /* lock_timeout of the store's sessions */
	int txn;	   /* a transaction of ours is open (or was, when the
			      connection was lost in it) */
	int64_t failed_ms; /* when a connection last failed (0: never) */
	int nparams[ST__COUNT]; /* -1: not prepared on this connection */
	int txn_ready; /* txn_sql[] is prepared on this connection */
	pg_q q[ST__COUNT];
	/* The write transaction's pipeline (see pipe_sync). */
	int wtxn;	       /* a write transaction is open */
	int piping;	       /* the connection is in pipeline mode */
	int nout;	       /* statements sent, their results not read */
	int64_t out_seq[OUT_MAX]; /* each one's log row seq (-1: none) */
	int64_t next_seq;	       /* the seq the next log row gets */
	int64_t sp_seq;	       /* next_seq at the last SAVEPOINT */
	int doomed; /* a statement only sent failed: no COMMIT */
	/* ST_LOG_ROW was sent in this transaction (deferred), and the
	 * counter row is behind next_seq - 1: the COMMIT writes it. */
	int deferred_rows, seq_dirty;
	/* The topics of the next BEGIN (sc_sql_topics_hint), and the rows
	 * it fetched, each answered once (pre_res[i] NULL then). */
	const char *pre_topic[PRE_MAX];
	size_t nhint;
	PGresult *pre_res[PRE_MAX];
	size_t npre;
	int foreign; /* the application had the connection (sc_pg): the
			next log row's seq is read, not foreseen */
	/* The waiter's side. */
	PGconn *listen;
	uint64_t counter; /* wake-ups seen */
	int64_t poll_seq; /* the counter row at the last look (-1: none) */
	int64_t poll_ms;  /* when the slow poll last looked */
	int64_t listen_failed_ms;
	int listened; /* the waiter has listened before */
};

static const sc_sql_ops pg_ops;

/* Replaces every occurrence of what in buf (size n) with with. */
static void replace_all(char *buf, size_t n, const char *what, const char *with)
{
	size_t wl = strlen(what), tl = strlen(with);
	char *p = buf;

	if (wl == 0)
		return;
	while ((p = strstr(p, what)) != NULL) {
		size_t rest = strlen(p + wl);

		if ((size_t)(p - buf) + tl + rest + 1 > n)
			rest = n - (size_t)(p - buf) - tl - 1;
		memmove(p + tl, p + wl, rest);
		p[tl + rest] = '\0';
		memcpy(p, with, tl);
		p += tl;
	}
}

/* The password written in the URI (user:PASSWORD@ or password=), or
 * "" (into pw, size n). */
static void uri_password(const char *uri, char *pw, size_t n)
{
	const char *p = strstr(uri, "://"), *end, *at, *colon, *q;

	pw[0] = '\0';
	if (p == NULL || n == 0)
		return;
	p += 3;
	end = p + strcspn(p, "/?");
	at = memchr(p, '@', (size_t)(end - p));
	colon = at != NULL ? memchr(p, ':', (size_t)(at - p)) : NULL;
	if (colon != NULL) {
		snprintf(pw, n, "%.*s", (int)(at - colon - 1), colon + 1);
		return;
	}
	for (q = strchr(uri, '?'); q != NULL; q = strchr(q + 1, '&'))
		if (strncmp(q + 1, "password=", 9) == 0) {
			snprintf(pw, n, "%.*s", (int)strcspn(q + 10, "&"),
				 q + 10);
			return;
		}
}

/* libpq's message on one line, without its trailing newline and
 * without the password: libpq repeats a URI it cannot parse. */
static const char *trim(const pgc *c, const char *msg, char *buf, size_t n)
{
	char pw[256];
	size_t len;

	snprintf(buf, n, "%s", msg != NULL && msg[0] ? msg : "unknown error");
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	for (len = 0; buf[len] != '\0'; len++)
		if (buf[len] == '\n' || buf[len] == '\t')
			buf[len] = ' ';
	replace_all(buf, n, c->uri, c->shown);
	uri_password(c->uri, pw, sizeof(pw));
	if (strlen(pw) >= 1)
		replace_all(buf, n, pw, "***");
	return buf;
}

/*
 * Maps a failed result (or a lost connection) to an sc_err: a lost
 * connection, a server shutting down or starting, a deadlock or a
 * serialization failure are SC_ERR_BUSY (try again: HTTP 503); a
 * read-only transaction SC_ERR_READONLY; no space SC_ERR_IO; anything
 * else SC_ERR_STORE.
 */
static sc_err pgerr(pgc *c, const PGresult *res, const char *what,
		    sc_error *err)
{
	const char *state =
	    res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char msg[SC_ERROR_MESSAGE_MAX];
	sc_err code = SC_ERR_STORE;

	trim(c,
	     res != NULL && PQresultErrorMessage(res)[0]
		 ? PQresultErrorMessage(res)
		 : PQerrorMessage(c->conn),
	     msg, sizeof(msg));
	if (c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK)
		return sc_error_set(err, SC_ERR_BUSY,
				    "%s: %s: the connection to the database "
				    "is lost (%s)",
				    what, c->shown, msg);
	/* No SQLSTATE: libpq's own (the connection failed). */
	if (state == NULL || strncmp(state, "08", 2) == 0 ||
	    strncmp(state, "57P", 3) == 0 || strncmp(state, "40", 2) == 0 ||
	    strcmp(state, "55P03") == 0)
		code = SC_ERR_BUSY;
	else if (strcmp(state, "25006") == 0)
		code = SC_ERR_READONLY;
	else if (strncmp(state, "53", 2) == 0)
		code = SC_ERR_IO;
	return sc_error_set(err, code, "%s: %s", what, msg);
}

/* Connects (or connects again) when the connection is not up.  Only
 * outside a transaction. */
static PGconn *connect_db(pgc *c, PGconn *old, int64_t *failed_ms,
			  sc_error *err)
{
	static const char *const keys[] = {"connect_timeout",
					   "application_name", "dbname", NULL};
	const char *vals[] = {"5", "statechannel", c->uri, NULL};
	char msg[SC_ERROR_MESSAGE_MAX];
	int64_t now = sc_clock_mono_ms();
	PGconn *conn = old;

	if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
		return conn;
	if (*failed_ms != 0 && now - *failed_ms < RETRY_MS) {
		sc_error_set(err, SC_ERR_BUSY,
			     "%s: the database is unreachable", c->shown);
		return conn;
	}
	if (conn != NULL)
		PQreset(conn);
	else
		conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL) {
		sc_error_set(err, SC_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		*failed_ms = sc_clock_mono_ms();
		if (*failed_ms == 0)
			*failed_ms = 1;
		sc_error_set(err, SC_ERR_BUSY, "%s: cannot connect: %s",
			     c->shown,
			     trim(c, PQerrorMessage(conn), msg, sizeof(msg)));
		return conn;
	}
	*failed_ms = 0;
	return conn;
}

static sc_err exec_simple(pgc *c, const char *sql, const char *what, char *tag,
			  size_t tagn, sc_error *err);

/* The store's connection, up; else SC_ERR_BUSY.  A connection made
 * again has no prepared statements. */
static sc_err ensure(pgc *c, sc_error *err)
{
	int i;

	char sql[64];

	if (c->conn != NULL && PQstatus(c->conn) == CONNECTION_OK)
		return SC_OK;
	c->conn = connect_db(c, c->conn, &c->failed_ms, err);
	c->txn_ready = 0;
	for (i = 0; i < ST__COUNT; i++)
		c->nparams[i] = -1;
	if (c->conn == NULL)
		return SC_ERR_NOMEM;
	if (PQstatus(c->conn) != CONNECTION_OK)
		return SC_ERR_BUSY;
	/* A writer waits for the write lock at most this long (then
	 * SC_ERR_BUSY, 503), as SQLite's busy timeout: never a hang behind
	 * a stuck transaction. */
	snprintf(sql, sizeof(sql), "SET lock_timeout = %d", c->lock_ms);
	return exec_simple(c, sql, "connect", NULL, 0, err);
}

static int pg_in_txn(sc_sql *sql)
{
	pgc *c = (pgc *)sql;
	PGTransactionStatusType t;

	if (!c->txn || c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK)
		return 0;
	t = PQtransactionStatus(c->conn);
	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR ||
	       t == PQTRANS_ACTIVE;
}

/* Forgets the rows the BEGIN fetched. */
static void pre_clear(pgc *c)
{
	size_t i;

	for (i = 0; i < c->npre; i++)
		PQclear(c->pre_res[i]);
	c->npre = 0;
}

static void pg_topics_hint(sc_sql *sql, const char *const *topics, size_t n)
{
	pgc *c = (pgc *)sql;

	c->nhint = n < PRE_MAX ? n : PRE_MAX;
	memcpy(c->pre_topic, topics, c->nhint * sizeof(*topics));
}

static void pg_reset(sc_sqlq *sq)
{
	pg_q *q = (pg_q *)sq;

	PQclear(q->res);
	q->res = NULL;
	memset(q->val, 0, sizeof(q->val));
	q->bad = 0;
	q->ran = 0;
	q->fake = -1;
	q->row = q->nrows = 0;
	q->changes = 0;
}

/*
 * The pipeline of a write transaction.  The counter row, locked by the
 * BEGIN, says which seq each log row of the transaction will get, so
 * the statements whose results the store does not read at once (the
 * savepoint commands, the log row, whose seq is known, the snapshot and
 * the idempotency key) are only sent; a statement whose rows the store
 * reads (or the COMMIT) sends a sync and reads every result in order:
 * a batch of changes that read nothing (store/change.c) costs the BEGIN
 * and the COMMIT round trips.  An error of a statement only sent is the
 * error of the next one read (the transaction is then in error and its
 * batch fails as a whole); a log row with another seq than the one
 * foreseen is such an error.  Whoever reaches the connection itself
 * (sc_pg: the application's SQL, or a PQprepare) ends the pipeline
 * first (pipe_end).
 */
static int deferred(int id)
{
	return id == ST_SAVEPOINT || id == ST_RELEASE || id == ST_ROLLBACK_TO;
}

/* Statements whose results the store does not read at once. */
static int sent_only(int id)
{
	return id == ST_LOG_INSERT || id == ST_LOG_ROW || id == ST_SNAP_PUT ||
	       id == ST_TOPIC_SNAP || id == ST_IDEM_PUT ||
	       id == ST_TOPIC_FLUSH;
}

/* A connection whose pipeline broke is dropped (a new one is made
 * outside a transaction). */
static void drop_conn(pgc *c)
{
	int i;

	PQfinish(c->conn);
	c->conn = NULL;
	c->piping = 0;
	c->nout = 0;
	c->txn_ready = 0;
	for (i = 0; i < ST__COUNT; i++)
		c->nparams[i] = -1;
}

static sc_err broke(pgc *c, const char *what, sc_error *err)
{
	sc_err rc = pgerr(c, NULL, what, err);

	if (rc != SC_ERR_BUSY)
		rc = sc_error_set(err, SC_ERR_BUSY,
				  "%s: the connection to the database broke "
				  "off",
				  what);
	drop_conn(c);
	return rc;
}

/* Whether r, the result of a statement only sent, is as foreseen. */
static int as_foreseen(PGresult *r, int64_t seq)
{
	return seq < 0 ||
	       (PQntuples(r) == 1 &&
		strtoll(PQgetvalue(r, 0, 0), NULL, 10) == seq);
}

/*
 * Sends a sync and reads the results of the statements sent, then (own
 * not NULL) the one of the statement sent last into *own.  The first
 * error is returned (and *own is then NULL).
 */
static sc_err pipe_sync(pgc *c, PGresult **own, const char *what,
			sc_error *err)
{
	PGresult *r, *bad = NULL;
	int i, n = c->nout, ok = PQpipelineSync(c->conn), odd = 0;
	sc_err rc = SC_OK;

	if (own != NULL)
		*own = NULL;
	for (i = 0; ok && i < n; i++) {
		ExecStatusType st;

		r = PQgetResult(c->conn);
		if (r == NULL) {
			ok = 0;
			break;
		}
		st = PQresultStatus(r);
		if (own != NULL && i == n - 1) {
			*own = r;
		} else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			if (bad == NULL)
				bad = r;
			else
				PQclear(r);
		} else {
			if (!as_foreseen(r, c->out_seq[i]))
				odd = 1;
			PQclear(r);
		}
		/* Each command's result, then NULL. */
		while ((r = PQgetResult(c->conn)) != NULL) {
			ok = PQresultStatus(r) != PGRES_PIPELINE_SYNC;
			PQclear(r);
			if (!ok)
				break;
		}
	}
	c->nout = 0;
	/* A statement only sent failed, whichever change it was: a later
	 * ROLLBACK TO could undo it under a change that was answered, so
	 * the transaction may not commit. */
	if (bad != NULL || odd || !ok)
		c->doomed = 1;
	if (ok) {
		r = PQgetResult(c->conn);
		ok = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
		PQclear(r);
	}
	if (!ok) {
		if (own != NULL) {
			PQclear(*own);
			*own = NULL;
		}
		PQclear(bad);
		return broke(c, what, err);
	}
	if (bad != NULL)
		rc = pgerr(c, bad, what, err);
	else if (odd)
		rc = sc_error_set(err, SC_ERR_STORE,
				  "%s: a log row did not get the seq "
				  "foreseen",
				  what);
	PQclear(bad);
	if (rc != SC_OK && own != NULL) {
		PQclear(*own);
		*own = NULL;
	}
	return rc;
}

/* Ends the pipeline: what was sent is read, the connection is back in
 * its normal mode. */
static sc_err pipe_end(pgc *c, const char *what, sc_error *err)
{
	sc_err rc = SC_OK;

	if (!c->piping)
		return SC_OK;
	if (c->nout > 0)
		rc = pipe_sync(c, NULL, what, err);
	if (c->piping && !PQexitPipelineMode(c->conn))
		return broke(c, what, err);
	c->piping = 0;
	return rc;
}

/* Sends the statement of q (text: an unprepared one) in the write
 * transaction's pipeline; its result is read at the next sync. */
static sc_err pipe_send(pgc *c, pg_q *q, const char *name, const char *what,
			sc_error *err)
{
	int ok;

	if (!c->piping) {
		if (!PQenterPipelineMode(c->conn))
			return broke(c, what, err);
		c->piping = 1;
	}
	if (c->nout == OUT_MAX) {
		sc_err rc = pipe_sync(c, NULL, what, err);

		if (rc != SC_OK)
			return rc;
	}
	if (name == NULL && c->txn_ready && q->id == ST_SAVEPOINT)
		ok = PQsendQueryPrepared(c->conn, txn_sql[TX_SAVEPOINT][0], 0,
					 NULL, NULL, NULL, 0);
	else if (name == NULL && c->txn_ready && q->id == ST_RELEASE)
		ok = PQsendQueryPrepared(c->conn, txn_sql[TX_RELEASE][0], 0,
					 NULL, NULL, NULL, 0);
	else if (name == NULL)
		ok = PQsendQueryParams(c->conn, pg_sql[q->id], 0, NULL, NULL,
				       NULL, NULL, 0);
	else
		ok = PQsendQueryPrepared(c->conn, name, c->nparams[q->id],
					 q->val, q->len, q->fmt, 0);
	if (!ok)
		return broke(c, what, err);
	c->out_seq[c->nout++] =
	    q->id == ST_LOG_INSERT || q->id == ST_LOG_ROW ? c->next_seq : -1;
	return SC_OK;
}

static sc_sqlq *pg_query(sc_sql *sql, int id, sc_error *err)
{
	pgc *c = (pgc *)sql;
	pg_q *q = &c->q[id];
	char name[16];
	PGresult *res;

	pg_reset(&q->base);
	/* Inside a transaction a lost connection is an error: making it
	 * again would run the rest outside any transaction. */
	if (c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK) {
		if (c->txn) {
			pgerr(c, NULL, "query", err);
			return NULL;
		}
		if (ensure(c, err) != SC_OK)
			return NULL;
	}
	q->base.ops = &pg_ops;
	q->c = c;
	q->id = id;
	q->noop = pg_sql[id] == NULL;
	q->defer = deferred(id);
	if (q->noop || q->defer)
		return &q->base;
	/* A statement is prepared outside the pipeline, after what was
	 * sent (a Parse fails in a transaction in error, which a ROLLBACK TO
	 * sent would end). */
	if (c->nparams[id] < 0 && pipe_end(c, "prepare", err) != SC_OK)
		return NULL;
	if (c->nparams[id] < 0) {
		snprintf(name, sizeof(name), "sc%d", id);
		res = PQprepare(c->conn, name, pg_sql[id], 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			pgerr(c, res, "prepare", err);
			PQclear(res);
			return NULL;
		}
		PQclear(res);
		res = PQdescribePrepared(c->conn, name);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			pgerr(c, res, "prepare", err);
			PQclear(res);
			return NULL;
		}
		c->nparams[id] = PQnparams(res);
		PQclear(res);
		if (c->nparams[id] > NPARAMS) {
			sc_error_set(err, SC_ERR_STORE,
				     "prepare: too many parameters");
			c->nparams[id] = -1;
			return NULL;
		}
	}
	return &q->base;
}

static void pg_bind_int64(sc_sqlq *sq, int i, int64_t v)
{
	pg_q *q = (pg_q *)sq;

	if (i < 1 || i > NPARAMS) {
		q->bad = 1;
		return;
	}
	snprintf(q->num[i - 1], sizeof(q->num[i - 1]), "%" PRId64, v);
	q->val[i - 1] = q->num[i - 1];
	q->fmt[i - 1] = 0;
	q->len[i - 1] = 0;
}

/* Text goes in the binary format: its bytes and length, no NUL needed
 * (the binary form of text is its bytes). */
static void pg_bind_text(sc_sqlq *sq, int i, const char *t, size_t len)
{
	pg_q *q = (pg_q *)sq;

	if (i < 1 || i > NPARAMS ||
	    (len != (size_t)-1 && len > (size_t)INT32_MAX)) {
		q->bad = 1;
		return;
	}
	if (len == (size_t)-1)
		len = strlen(t);
	q->val[i - 1] = t != NULL ? t : "";
	q->fmt[i - 1] = 1;
	q->len[i - 1] = (int)len;
}

static void pg_bind_null(sc_sqlq *sq, int i)
{
	pg_q *q = (pg_q *)sq;

	if (i < 1 || i > NPARAMS) {
		q->bad = 1;
		return;
	}
	q->val[i - 1] = NULL;
}

/* Writes the counter row when a batch's deferred log rows left it
 * behind (seq_dirty): next_seq - 1, the highest seq given.  In the
 * pipeline it is only sent (its result is read at the next sync). */
static sc_err write_counter(pgc *c, sc_error *err)
{
	char v[24];
	const char *p[1] = {v};
	PGresult *r;
	sc_err rc = SC_OK;

	if (!c->seq_dirty)
		return SC_OK;
	snprintf(v, sizeof(v), "%" PRId64, c->next_seq - 1);
	if (c->piping) {
		if (!PQsendQueryPrepared(c->conn, txn_sql[TX_COUNTER][0], 1, p,
					 NULL, NULL, 0))
			return broke(c, "write the seq counter", err);
		c->out_seq[c->nout++] = -1;
	} else {
		r = PQexecPrepared(c->conn, txn_sql[TX_COUNTER][0], 1, p, NULL,
				   NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			rc = pgerr(c, r, "write the seq counter", err);
		PQclear(r);
	}
	if (rc == SC_OK)
		c->seq_dirty = 0;
	return rc;
}

static int pg_step(sc_sqlq *sq, const char *what, sc_error *err)
{
	pg_q *q = (pg_q *)sq;
	pgc *c = q->c;
	ExecStatusType st;
	char name[16];
	const char *n;

	if (q->noop)
		return SC_OK;
	if (!q->ran) {
		sc_err rc = SC_OK;

		if (q->bad)
			return sc_error_set(err, SC_ERR_STORE,
					    "%s: a parameter out of range",
					    what);
		q->ran = 1;
		snprintf(name, sizeof(name), "sc%d", q->id);
		if (q->defer && !c->wtxn)
			return sc_error_set(err, SC_ERR_STORE,
					    "%s: a savepoint outside a write "
					    "transaction",
					    what);
		if (q->defer) {
			/* A ROLLBACK TO undoes the log rows after the
			 * SAVEPOINT, and their seqs. */
			if (q->id == ST_SAVEPOINT) {
				c->sp_seq = c->next_seq;
			} else if (q->id == ST_ROLLBACK_TO) {
				c->next_seq = c->sp_seq;
				/* It may undo a write of the counter row. */
				c->seq_dirty |= c->deferred_rows;
			}
			return (int)pipe_send(c, q, NULL, what, err);
		}
		if (q->id == ST_TOPIC_META && c->npre > 0 && q->val[0] != NULL) {
			size_t i, len = (size_t)q->len[0];

			for (i = 0; i < c->npre; i++)
				if (c->pre_res[i] != NULL &&
				    strlen(c->pre_topic[i]) == len &&
				    memcmp(c->pre_topic[i], q->val[0], len) == 0)
					break;
			if (i < c->npre) { /* fetched by the BEGIN */
				q->res = c->pre_res[i];
				c->pre_res[i] = NULL;
				q->nrows = PQntuples(q->res);
				q->row = -1;
				goto row;
			}
		}
		if (q->id == ST_MAX_SEQ && c->wtxn && c->seq_dirty) {
			/* The counter row is behind: the highest seq given
			 * is this transaction's. */
			q->fake = c->next_seq - 1;
			q->nrows = 1;
			q->row = -1;
			goto row;
		}
		/* A log row that takes its seq from the counter row: the
		 * deferred rows' seqs first (a ROLLBACK TO may have undone
		 * the counter's write). */
		if (q->id == ST_LOG_INSERT &&
		    (rc = write_counter(c, err)) != SC_OK) {
			q->bad = 1;
			return (int)rc;
		}
		if (q->id == ST_LOG_ROW) {
			if (!c->wtxn || c->foreign)
				return sc_error_set(err, SC_ERR_STORE,
						    "%s: a deferred log row "
						    "outside a batch",
						    what);
			pg_bind_int64(&q->base, 6, c->next_seq);
			c->deferred_rows = 1;
			c->seq_dirty = 1;
		}
		if (c->wtxn && sent_only(q->id) &&
		    !(q->id == ST_LOG_INSERT && c->foreign)) {
			rc = pipe_send(c, q, name, what, err);
			if (rc != SC_OK) {
				q->bad = 1;
				return (int)rc;
			}
			if (q->id == ST_LOG_INSERT || q->id == ST_LOG_ROW) {
				q->fake = c->next_seq++;
				q->nrows = 1;
			}
			q->row = -1;
			q->changes = q->nrows;
		} else {
			if (c->piping) {
				rc = pipe_send(c, q, name, what, err);
				if (rc == SC_OK)
					rc = pipe_sync(c, &q->res, what, err);
			} else {
				q->res = PQexecPrepared(c->conn, name,
							c->nparams[q->id],
							q->val, q->len, q->fmt,
							0);
			}
			if (rc != SC_OK) {
				q->bad = 1;
				return (int)rc;
			}
			st = PQresultStatus(q->res);
			if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
				rc = pgerr(c, q->res, what, err);
				PQclear(q->res);
				q->res = NULL;
				q->bad = 1; /* a further step reports it too */
				return (int)rc;
			}
			q->nrows = st == PGRES_TUPLES_OK ? PQntuples(q->res)
							 : 0;
			if (q->id == ST_LOG_INSERT && q->nrows == 1) {
				/* read: the seqs go on from it */
				c->next_seq = strtoll(PQgetvalue(q->res, 0, 0),
						      NULL, 10) + 1;
				c->foreign = 0;
			}
			q->row = -1;
			n = PQcmdTuples(q->res);
			q->changes = n != NULL && n[0] ? strtoll(n, NULL, 10)
						       : 0;
		}
	} else if (q->bad) {
		return sc_error_set(err, SC_ERR_STORE, "%s: failed before",
				    what);
	}
row:
	if (q->row + 1 < q->nrows) {
		q->row++;
		return SC_SQL_ROW;
	}
	q->row = q->nrows;
	return SC_OK;
}

static int64_t pg_col_int64(sc_sqlq *sq, int col)
{
	pg_q *q = (pg_q *)sq;

	if (q->fake >= 0)
		return col == 0 && q->row == 0 ? q->fake : 0;
	if (q->res == NULL || q->row < 0 || q->row >= q->nrows ||
	    PQgetisnull(q->res, q->row, col))
		return 0;
	return strtoll(PQgetvalue(q->res, q->row, col), NULL, 10);
}

static const char *pg_col_text(sc_sqlq *sq, int col, size_t *len)
{
	pg_q *q = (pg_q *)sq;

	if (len != NULL)
		*len = 0;
	if (q->res == NULL || q->row < 0 || q->row >= q->nrows ||
	    PQgetisnull(q->res, q->row, col))
		return NULL;
	if (len != NULL)
		*len = (size_t)PQgetlength(q->res, q->row, col);
	return PQgetvalue(q->res, q->row, col);
}

static int64_t pg_changes(sc_sqlq *sq)
{
	return ((pg_q *)sq)->changes;
}

/* Runs sql (no parameters, maybe several statements) as a simple query;
 * the last result's status must be ok.  *tag (if not NULL) receives its
 * command tag's first word (COMMIT / ROLLBACK). */
static sc_err exec_simple(pgc *c, const char *sql, const char *what, char *tag,
			  size_t tagn, sc_error *err)
{
	PGresult *res = PQexec(c->conn, sql);
	ExecStatusType st = PQresultStatus(res);
	sc_err rc = SC_OK;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = pgerr(c, res, what, err);
	else if (tag != NULL)
		snprintf(tag, tagn, "%s", PQcmdStatus(res));
	PQclear(res);
	return rc;
}

static void pg_rollback(sc_sql *sql);

/*
 * BEGIN and the lock of the counter row (schema_pg.sql), whose value
 * says the seqs of the transaction's log rows, in one round trip, with
 * txn_sql[] prepared first when the connection is new.  *res: the
 * lock's row.  The pipeline stays open for the transaction's
 * statements.
 */
static sc_err begin_write(pgc *c, PGresult **res, sc_error *err)
{
	PGresult *got[2 + PRE_MAX], *r;
	const char *topic;
	char name[16];
	size_t i, n = 2 + c->nhint, k;
	sc_err rc = SC_OK;
	int ok;

	*res = NULL;
	for (i = 0; !c->txn_ready && i < TX__COUNT; i++) {
		r = PQprepare(c->conn, txn_sql[i][0], txn_sql[i][1], 0, NULL);
		rc = PQresultStatus(r) == PGRES_COMMAND_OK
			 ? SC_OK
			 : pgerr(c, r, "begin", err);
		PQclear(r);
		if (rc != SC_OK)
			return rc;
		c->txn_ready = i == TX__COUNT - 1;
	}
	if (c->nhint > 0 && c->nparams[ST_TOPIC_META] < 0 &&
	    pg_query(&c->base, ST_TOPIC_META, err) == NULL)
		return err != NULL && err->code != SC_OK ? err->code
							 : SC_ERR_STORE;
	if (!PQenterPipelineMode(c->conn))
		return broke(c, "begin", err);
	c->piping = 1;
	/* BEGIN, the lock, the hinted topics' rows; then one sync. */
	ok = PQsendQueryPrepared(c->conn, txn_sql[TX_BEGIN][0], 0, NULL, NULL,
				 NULL, 0) &&
	     PQsendQueryPrepared(c->conn, txn_sql[TX_LOCK][0], 0, NULL, NULL,
				 NULL, 0);
	snprintf(name, sizeof(name), "sc%d", ST_TOPIC_META);
	for (i = 0; ok && i < c->nhint; i++) {
		topic = c->pre_topic[i];
		ok = PQsendQueryPrepared(c->conn, name, 1, &topic, NULL, NULL,
					 0);
	}
	ok = ok && PQpipelineSync(c->conn);
	for (i = 0; ok && i < n; i++) {
		got[i] = PQgetResult(c->conn);
		ok = got[i] != NULL;
		/* Each command's result, then NULL. */
		while (ok && (r = PQgetResult(c->conn)) != NULL) {
			ok = PQresultStatus(r) != PGRES_PIPELINE_SYNC;
			PQclear(r);
		}
	}
	k = i; /* results read */
	if (ok) {
		r = PQgetResult(c->conn);
		ok = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
		PQclear(r);
	}
	for (i = 0; ok && rc == SC_OK && i < n; i++)
		if (PQresultStatus(got[i]) !=
		    (i == 0 ? PGRES_COMMAND_OK : PGRES_TUPLES_OK))
			/* lock_timeout: SC_ERR_BUSY */
			rc = pgerr(c, got[i], "begin", err);
	if (ok && rc == SC_OK) {
		*res = got[1];
		for (i = 0; i < c->nhint; i++)
			c->pre_res[i] = got[2 + i];
		c->npre = c->nhint;
		PQclear(got[0]);
	} else {
		for (i = 0; i < k; i++)
			PQclear(got[i]);
	}
	c->nhint = 0;
	if (!ok)
		return broke(c, "begin", err);
	return rc;
}

static sc_err pg_begin(sc_sql *sql, int write, sc_error *err)
{
	/* A write transaction: see begin_write; a read is one snapshot. */
	static const char read_sql[] =
	    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
	pgc *c = (pgc *)sql;
	PGresult *res = NULL;
	sc_err rc;
	int tries;

	c->txn = 0; /* one lost with its connection is gone */
	c->wtxn = 0;
	c->nout = 0;
	c->doomed = 0;
	c->foreign = 0;
	c->deferred_rows = 0;
	c->seq_dirty = 0;
	pre_clear(c);
	if (!write)
		c->nhint = 0;
	for (tries = 0; tries < 2; tries++) {
		rc = ensure(c, err);
		if (rc != SC_OK)
			return rc;
		if (c->piping && PQexitPipelineMode(c->conn))
			c->piping = 0;
		if (write) {
			rc = begin_write(c, &res, err);
			if (rc == SC_OK)
				break;
		} else {
			res = PQexec(c->conn, read_sql);
			if (PQresultStatus(res) == PGRES_COMMAND_OK)
				break;
			rc = pgerr(c, res, "begin", err);
			PQclear(res);
			res = NULL;
		}
		/* A connection that died while idle (the server restarted)
		 * shows it only now: one new connection at once. */
		if (c->conn != NULL && PQstatus(c->conn) == CONNECTION_OK)
			break;
		c->failed_ms = 0;
	}
	c->txn = 1;
	if (res == NULL) {
		pg_rollback(sql);
		return rc;
	}
	if (write) {
		if (PQntuples(res) != 1) {
			PQclear(res);
			pg_rollback(sql);
			return sc_error_set(err, SC_ERR_STORE,
					    "begin: the database has no seq "
					    "counter");
		}
		c->next_seq = strtoll(PQgetvalue(res, 0, 0), NULL, 10) + 1;
		c->sp_seq = c->next_seq;
		c->wtxn = 1;
	}
	PQclear(res);
	return SC_OK;
}

static sc_err pg_commit(sc_sql *sql, int wake, sc_error *err)
{
	pgc *c = (pgc *)sql;
	char tag[32] = "";
	sc_err rc = SC_OK;

	if (c->doomed) {
		pg_rollback(sql);
		return sc_error_set(err, SC_ERR_STORE,
				    "commit: a statement of the transaction "
				    "failed");
	}
	if (c->piping) {
		/* What was sent, then NOTIFY inside the transaction (sent
		 * only if it commits), then COMMIT: one round trip. */
		PGresult *res = NULL;
		int ok = 1;

		rc = write_counter(c, err);
		if (rc != SC_OK)
			goto out;
		ok = !wake || PQsendQueryPrepared(c->conn, txn_sql[TX_NOTIFY][0],
						  0, NULL, NULL, NULL, 0);
		if (ok && wake)
			c->out_seq[c->nout++] = -1;
		ok = ok && PQsendQueryPrepared(c->conn, txn_sql[TX_COMMIT][0], 0,
					       NULL, NULL, NULL, 0);
		if (!ok) {
			rc = broke(c, "commit", err);
		} else {
			c->out_seq[c->nout++] = -1;
			rc = pipe_sync(c, &res, "commit", err);
		}
		if (rc == SC_OK)
			snprintf(tag, sizeof(tag), "%s", PQcmdStatus(res));
		PQclear(res);
		if (c->piping && PQexitPipelineMode(c->conn))
			c->piping = 0;
	} else {
		rc = write_counter(c, err);
		if (rc == SC_OK)
			rc = exec_simple(c,
					 wake ? "NOTIFY statechannel; COMMIT"
					      : "COMMIT",
					 "commit", tag, sizeof(tag), err);
	}
out:
	pre_clear(c);
	/* COMMIT of a failed transaction answers ROLLBACK. */
	if (rc == SC_OK && strcmp(tag, "COMMIT") != 0)
		rc = sc_error_set(err, SC_ERR_STORE,
				  "commit: the transaction was rolled back");
	if (rc != SC_OK && pg_in_txn(sql))
		pg_rollback(sql);
	c->txn = 0;
	c->wtxn = 0;
	return rc;
}

static void pg_rollback(sc_sql *sql)
{
	pgc *c = (pgc *)sql;

	pre_clear(c);
	if (c->piping && c->conn != NULL)
		pipe_end(c, "rollback", NULL);
	if (pg_in_txn(sql))
		exec_simple(c, "ROLLBACK", "rollback", NULL, 0, NULL);
	c->txn = 0;
	c->wtxn = 0;
}

static sc_err pg_maintain(sc_sql *sql, int vacuum, sc_error *err)
{
	(void)sql;
	(void)vacuum;
	(void)err;
	return SC_OK; /* autovacuum's business */
}

/* --- the wake-up ---------------------------------------------------- */

static void bump(pgc *c)
{
	__atomic_add_fetch(&c->counter, 1, __ATOMIC_SEQ_CST);
}

static int listening(pgc *c);

/* The token; the first one starts listening (the caller takes it before
 * it reads the log, so whatever commits after the read is notified). */
static uint64_t pg_wake_token(sc_sql *sql)
{
	pgc *c = (pgc *)sql;

	if (!c->listened)
		listening(c);
	return __atomic_load_n(&c->counter, __ATOMIC_SEQ_CST);
}

/* The counter row on the listening connection; -1 when it fails. */
static int64_t read_seq(pgc *c)
{
	PGresult *res = PQexec(c->listen, "SELECT " SEQ_NOW);
	int64_t seq = -1;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		seq = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return seq;
}

/*
 * The listening connection, up and LISTENing; one made again counts as
 * a wake-up (what was committed while there was none is in the log).
 * Returns 0 when there is none (the database is unreachable).
 */
static int listening(pgc *c)
{
	PGresult *res;

	if (c->listen != NULL && PQstatus(c->listen) == CONNECTION_OK)
		return 1;
	c->listen = connect_db(c, c->listen, &c->listen_failed_ms, NULL);
	if (c->listen == NULL || PQstatus(c->listen) != CONNECTION_OK)
		return 0;
	res = PQexec(c->listen, "LISTEN statechannel");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		PQclear(res);
		return 0;
	}
	PQclear(res);
	c->poll_seq = read_seq(c);
	c->poll_ms = sc_clock_mono_ms();
	if (c->listened)
		bump(c);
	c->listened = 1;
	return 1;
}

/* Takes what arrived on the listening connection: 1 when a
 * notification was among it. */
static int drain(pgc *c)
{
	PGnotify *n;
	int got = 0;

	if (!PQconsumeInput(c->listen))
		return 0;
	while ((n = PQnotifies(c->listen)) != NULL) {
		got = 1;
		PQfreemem(n);
	}
	return got;
}

static int pg_wait(sc_sql *sql, uint64_t *token, int timeout_ms)
{
	pgc *c = (pgc *)sql;
	int64_t start = sc_clock_mono_ms(), now = start;

	for (;;) {
		uint64_t cur = pg_wake_token(sql);
		int64_t slice = POLL_MS;
		struct pollfd pfd;
		int r;

		if (cur != *token) {
			*token = cur;
			return 1;
		}
		if (listening(c)) {
			if (drain(c)) {
				bump(c);
				continue;
			}
			slice = POLL_MS - (now - c->poll_ms);
			if (slice <= 0) {
				/* The safety net: the log moved without a
				 * notification. */
				int64_t seq = read_seq(c);

				c->poll_ms = now;
				if (seq >= 0 && seq != c->poll_seq) {
					c->poll_seq = seq;
					bump(c);
					continue;
				}
				slice = POLL_MS;
			}
		}
		if (!sc_clock_slice(start, now, timeout_ms, &slice))
			return 0;
		pfd.fd =
		    c->listen != NULL && PQstatus(c->listen) == CONNECTION_OK
			? PQsocket(c->listen)
			: -1;
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = poll(&pfd, pfd.fd >= 0 ? 1 : 0, (int)slice);
		if (r < 0 && errno == EINTR)
			return 0; /* a signal: let the caller look at it */
		now = sc_clock_mono_ms();
	}
}

static void *pg_handle(sc_sql *sql, enum sc_sql_kind kind)
{
	pgc *c = (pgc *)sql;

	if (kind != SC_SQL_PG)
		return NULL;
	/* The application's SQL goes inside the change's SAVEPOINT, after
	 * what was sent, and the counter row as it will commit. */
	pre_clear(c); /* its SQL may change the rows */
	if (write_counter(c, NULL) != SC_OK ||
	    pipe_end(c, "sc_pg", NULL) != SC_OK)
		return NULL;
	c->foreign = 1;
	return c->conn;
}

static void pg_close(sc_sql *sql)
{
	pgc *c = (pgc *)sql;
	int i;

	for (i = 0; i < ST__COUNT; i++)
		PQclear(c->q[i].res);
	pre_clear(c);
	if (c->conn != NULL)
		PQfinish(c->conn);
	if (c->listen != NULL)
		PQfinish(c->listen);
	if (c->uri != NULL) {
		/* It may hold a password. */
		memset(c->uri, 0, strlen(c->uri));
		sc_free(c->uri);
	}
	sc_free(c->shown);
	sc_free(c);
}

static const sc_sql_ops pg_ops = {
    .query = pg_query,
    .bind_int64 = pg_bind_int64,
    .bind_text = pg_bind_text,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .col_int64 = pg_col_int64,
    .col_text = pg_col_text,
    .changes = pg_changes,
    .reset = pg_reset,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .in_txn = pg_in_txn,
    .maintain = pg_maintain,
    .wake_token = pg_wake_token,
    .wait = pg_wait,
    .handle = pg_handle,
    .close = pg_close,
    .topics_hint = pg_topics_hint,
    .pipelined = 1,
};

/* --- opening: the schema -------------------------------------------- */

/* The schema_version schema_pg.sql sets. */
static int schema_version(void)
{
	static const char key[] = "('schema_version', '";
	const char *p = strstr(sc_schema_pg_sql, key);

	return p != NULL ? atoi(p + strlen(key)) : 0;
}

/* One value of a one-row query with text parameters; *found 0 when no
 * row.  The text is copied into buf (size n). */
static sc_err query_value(pgc *c, const char *sql, int nparams,
			  const char *const *params, char *buf, size_t n,
			  int *found, const char *what, sc_error *err)
{
	PGresult *res =
	    PQexecParams(c->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	sc_err rc = SC_OK;

	*found = 0;
	if (PQresultStatus(res) != PGRES_TUPLES_OK &&
	    PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = pgerr(c, res, what, err);
	} else if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
		snprintf(buf, n, "%s", PQgetvalue(res, 0, 0));
		*found = 1;
	}
	PQclear(res);
	return rc;
}

/* The schema_version of the database (0: no StateChannel tables);
 * SC_ERR_SCHEMA when tables of ours are there without a version.  (It
 * reads pg_tables in the statement's snapshot: to_regclass would use
 * the session's catalog cache, which taking an advisory lock does not
 * refresh, and miss the tables another process just made.) */
static sc_err db_version(pgc *c, int64_t *v, sc_error *err)
{
	char buf[64];
	int found = 0;
	sc_err rc;

	*v = 0;
	rc = query_value(c,
			 "SELECT tablename FROM pg_tables WHERE schemaname = "
			 "current_schema() AND tablename = 'meta'",
			 0, NULL, buf, sizeof(buf), &found, "open", err);
	if (rc == SC_OK && found)
		rc =
		    query_value(c,
				"SELECT value FROM meta WHERE key = "
				"'schema_version'",
				0, NULL, buf, sizeof(buf), &found, "open", err);
	if (rc == SC_OK && found) {
		*v = strtoll(buf, NULL, 10);
		return SC_OK;
	}
	if (rc == SC_OK)
		rc =
		    query_value(c,
				"SELECT 1 FROM pg_tables WHERE schemaname = "
				"current_schema() AND tablename IN ('topics', "
				"'log', 'meta', 'idempotency')",
				0, NULL, buf, sizeof(buf), &found, "open", err);
	if (rc == SC_OK && found)
		rc = sc_error_set(err, SC_ERR_SCHEMA,
				  "%s: has tables named like StateChannel's "
				  "but no schema version: not a StateChannel "
				  "database",
				  c->shown);
	return rc;
}

/*
 * Brings the schema to the current version, under an advisory lock
 * (another process may be doing the same): a new database gets
 * schema_pg.sql and an epoch, an older one the migration steps, in one
 * transaction.  A newer one is refused.
 */
static sc_err apply_schema(pgc *c, sc_error *err)
{
	int cur = schema_version();
	int64_t v = 0;
	sc_err rc = db_version(c, &v, err);

	if (rc != SC_OK || v == cur)
		return rc;
	if (v > cur)
		return sc_error_set(err, SC_ERR_SCHEMA,
				    "%s: schema version %" PRId64
				    " is newer than this program's (%d): "
				    "upgrade StateChannel",
				    c->shown, v, cur);
	if (c->readonly)
		return sc_error_set(err, SC_ERR_SCHEMA,
				    "%s: schema version %" PRId64
				    ", expected %d: open it read-write once "
				    "(statechannel init)",
				    c->shown, v, cur);
	/* A session lock taken before the transaction begins: a
	 * transaction that began before another process committed the
	 * schema may still see its tables as missing (the catalog caches
	 * are refreshed when a transaction begins). */
	rc = exec_simple(c, "SELECT pg_advisory_lock(" LOCK_SCHEMA ")",
			 "lock the schema", NULL, 0, err);
	if (rc != SC_OK)
		return rc;
	rc = exec_simple(c, "BEGIN", "begin", NULL, 0, err);
	c->txn = 1;
	if (rc == SC_OK)
		rc = db_version(c, &v, err);
	if (rc == SC_OK && v > cur)
		rc = sc_error_set(err, SC_ERR_SCHEMA,
				  "%s: schema version %" PRId64
				  " is newer than this program's (%d)",
				  c->shown, v, cur);
	if (rc == SC_OK && v == 0) {
		char epoch[SC_EPOCH_HEX + 1], buf[8];
		const char *p[1] = {epoch};
		int found;

		rc = exec_simple(c, sc_schema_pg_sql, "apply schema_pg.sql",
				 NULL, 0, err);
		if (rc == SC_OK)
			rc = sc_store_new_epoch(epoch, err);
		if (rc == SC_OK)
			rc = query_value(c,
					 "INSERT INTO meta (key, value) "
					 "VALUES ('epoch', $1)",
					 1, p, buf, sizeof(buf), &found,
					 "write the epoch", err);
		v = cur;
	}
	for (; rc == SC_OK && v < cur; v++) {
		if ((size_t)v >= sizeof(migrations) / sizeof(migrations[0]) ||
		    migrations[v] == NULL)
			rc = sc_error_set(err, SC_ERR_SCHEMA,
					  "%s: no migration from schema "
					  "version %" PRId64,
					  c->shown, v);
		else
			rc = exec_simple(c, migrations[v], "migrate", NULL, 0,
					 err);
		if (rc == SC_OK) {
			char sql[96];

			snprintf(sql, sizeof(sql),
				 "UPDATE meta SET value = '%" PRId64
				 "' WHERE key = 'schema_version'",
				 v + 1);
			rc = exec_simple(c, sql, "migrate", NULL, 0, err);
		}
	}
	if (rc == SC_OK)
		rc = pg_commit(&c->base, 0, err);
	if (rc != SC_OK)
		pg_rollback(&c->base);
	exec_simple(c, "SELECT pg_advisory_unlock(" LOCK_SCHEMA ")", "unlock",
		    NULL, 0, NULL);
	return rc;
}

sc_err sc_pg_open(const sc_store_options *opt, char epoch[33], sc_sql **out,
		  sc_error *err)
{
	char shown[1024], buf[64];
	int found = 0, i;
	pgc *c;
	sc_err rc;

	*out = NULL;
	c = sc_calloc(1, sizeof(*c));
	if (c == NULL)
		return sc_error_set(err, SC_ERR_NOMEM, "out of memory");
	c->base.ops = &pg_ops;
	c->readonly = opt->readonly != 0;
	c->poll_seq = -1;
	for (i = 0; i < ST__COUNT; i++)
		c->nparams[i] = -1;
	c->uri = sc_strdup(opt->path);
	c->shown = sc_strdup(sc_store_display(opt->path, shown, sizeof(shown)));
	if (c->uri == NULL || c->shown == NULL) {
		pg_close(&c->base);
		return sc_error_set(err, SC_ERR_NOMEM, "out of memory");
	}
	c->lock_ms = opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms : 5000;
	ensure(c, err);
	if (c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK) {
		/* At start a database that cannot be reached is an error of
		 * the configuration, not a busy one. */
		rc = c->conn == NULL ? SC_ERR_NOMEM : SC_ERR_IO;
		if (err != NULL)
			err->code = rc;
		pg_close(&c->base);
		return rc;
	}
	rc = apply_schema(c, err);
	if (rc == SC_OK)
		rc = query_value(
		    c, "SELECT value FROM meta WHERE key = 'epoch'", 0, NULL,
		    buf, sizeof(buf), &found, "read the epoch", err);
	if (rc == SC_OK && !found)
		rc = sc_error_set(err, SC_ERR_STORE, "%s: no epoch", c->shown);
	if (rc == SC_OK)
		rc = sc_store_epoch_check(buf, c->shown, epoch, err);
	if (rc != SC_OK) {
		pg_close(&c->base);
		return rc;
	}
	*out = &c->base;
	return SC_OK;
}
