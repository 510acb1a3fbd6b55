-- schema_pg.sql — the StateChannel database schema on PostgreSQL, the one
-- source for it (schema.sql is the SQLite one: the same tables, the same
-- meaning, each in its database's own terms).
--
-- Applied by the store (store/pg.c) to a new database as one
-- multi-statement query inside one transaction.  Two processes may open a
-- new database at once: the store takes the session advisory lock 92
-- before it begins that transaction and looks for the meta table under
-- it, so only one of them applies this.
--
-- The version: PostgreSQL has no user_version, so the schema's version
-- is the meta row 'schema_version', set on the last line of this file,
-- from which the store reads it (the number this file says, as schema.sql
-- says its user_version).  A database with a higher schema_version is
-- refused; a lower one is migrated by the steps of the store's PostgreSQL
-- backend, and a new migration step goes there together with the change
-- here.  It counts this file's versions, not schema.sql's.
--
-- topics: one row per topic.  The state is kept as a snapshot (compact
--   JSON text) of the state at snapshot_version, plus the log rows of the
--   topic after it: the current state is the snapshot with the patches
--   of versions snapshot_version + 1 .. version applied; snapshot_seq is
--   the seq of the last change it holds (the log rows of the topic with
--   seq > snapshot_seq are the patches after it).  An event
--   updates version, updated_ms and patch_bytes (the bytes of the patches
--   logged since the snapshot) and leaves the snapshot alone; the store
--   rewrites the snapshot (and sets snapshot_version, patch_bytes = 0)
--   only when it pays: when patch_bytes passes the snapshot's own size,
--   or on compact.  So reading a state costs at most about twice its size
--   and an event about the size of its patch.  floor: the log holds every
--   change of the topic with seq > floor, so a cursor at or above the
--   floor can be resumed with patches alone; it is the highest seq given
--   when the topic was created and moves up when retention prunes its
--   rows.  Retention never prunes a row above snapshot_version's (those
--   are part of the state).
--   fillfactor 50 leaves room in each page for the new row version of an
--   update, so the per-event update of a topic stays a HOT update (no new
--   index entry), and a snapshot large enough to be TOASTed (about 2 KB)
--   is not copied by it: the new row version keeps the TOAST pointer.
-- log: one row per non-empty change, with the RFC 6902 patch (text) from
--   the version before to this version.  seq is the global order, given
--   by the counter row of meta (see "Commit order is seq order" below),
--   never reused, never taken from a SEQUENCE.  (topic, version) is unique
--   by construction: versions are given inside the write transaction that
--   holds the topic's row lock.  log_topic serves the reads of one
--   topic's log (state = snapshot + the rows after snapshot_version;
--   resume) and retention.
-- meta: 'epoch' (a random id made once per database, written by the
--   store when it applies this file), 'schema_version', and 'seq': the
--   highest seq given so far (text, like every meta value).
-- idempotency: the first result of each event that carried a key.
--
-- Commit order is seq order.  A follower (a stream's hub) reads
-- "SELECT ... FROM log WHERE seq > $last ORDER BY seq" and moves $last to
-- the highest seq it read; that is correct only if no row with a seq at or
-- below $last can become visible later.  A SEQUENCE does not give that:
-- nextval() is not transactional, so writer A can take seq 7, writer B
-- seq 8, B commits, a follower reads 8 and moves past 7, and A's 7
-- commits afterwards and is never read.  Here every write transaction
-- of the store begins by locking the counter row (store/pg.c):
--
--   BEGIN; SELECT value FROM meta WHERE key = 'seq' FOR UPDATE;
--   ... a change alone: UPDATE meta SET value = (value::bigint + 1)::text
--       WHERE key = 'seq' RETURNING value::bigint    -> its seq
--       INSERT INTO log (seq, ...) ...;  UPDATE topics ...;
--   ... a batch of changes: each INSERT INTO log (seq, ...) with the
--       next seq after the value read (the row is locked: no one else
--       can take one); then, once: UPDATE topics ... (each topic) and
--       UPDATE meta SET value = <the last seq given>;
--   NOTIFY statechannel; COMMIT;
--
-- The row's lock is held until the transaction ends, so the store's
-- write transactions (each a batch of events: group commit) run one at
-- a time over the whole database, as SQLite's BEGIN IMMEDIATE makes
-- them: a second writer's SELECT ... FOR UPDATE waits for the lock and,
-- when the first commits, reads the committed counter (READ COMMITTED
-- re-reads the locked row), so its seqs are all higher and it commits
-- later.  PostgreSQL marks a transaction committed (visible to every new
-- snapshot) before it releases its locks, so when the second writer's
-- rows become visible the first writer's already are: the rows become
-- visible in seq order, and a snapshot sees a prefix of the log.  A
-- transaction (or an event's SAVEPOINT) that rolls back also rolls back
-- its UPDATEs of the counter, and the store gives its seqs again (a
-- batch writes the counter after its last row), so the seqs of
-- committed rows have no gaps.  The lock also makes the read of a topic's version and its
-- update safe without a lock of the topic's row.  A follower needs
-- nothing special: one REPEATABLE READ snapshot per read of the log.
-- (tests/store proves it with concurrent writers from several processes.)
--
-- Wake-up: a write transaction that logged rows sends NOTIFY on the
-- channel 'statechannel' (no payload: the log says what changed) inside
-- the transaction, just before its COMMIT: PostgreSQL delivers it only when the
-- transaction commits (never for one that rolls back), to every session
-- of this database that LISTENs, on any host, in commit order.  Like the
-- futex of the SQLite store it is only a hint to read the log: a
-- listener that lost its connection reads the log from its cursor when
-- it is back, and a slow poll of the log is the safety net.
-- (tests/store/test_pg_notify.c; the store's waiter: store/pg.c.)
CREATE TABLE topics (
	name text PRIMARY KEY CHECK (octet_length(name) BETWEEN 1 AND 200),
	version bigint NOT NULL DEFAULT 0,
	floor bigint NOT NULL DEFAULT 0,
	created_ms bigint NOT NULL,
	updated_ms bigint NOT NULL,
	snapshot_version bigint NOT NULL DEFAULT 0,
	snapshot_seq bigint NOT NULL DEFAULT 0,
	patch_bytes bigint NOT NULL DEFAULT 0,
	snapshot text NOT NULL
) WITH (fillfactor = 50);

CREATE TABLE log (
	seq bigint PRIMARY KEY,
	topic text NOT NULL,
	version bigint NOT NULL,
	time_ms bigint NOT NULL,
	event text,
	patch text NOT NULL
);

CREATE INDEX log_topic ON log (topic, seq);

-- Updated by every write transaction ('seq'): fillfactor keeps those
-- updates HOT in its one page.
CREATE TABLE meta (
	key text PRIMARY KEY,
	value text NOT NULL
) WITH (fillfactor = 20);

CREATE TABLE idempotency (
	topic text NOT NULL,
	key text NOT NULL,
	time_ms bigint NOT NULL,
	version bigint NOT NULL,
	seq bigint NOT NULL,
	patch text NOT NULL,
	PRIMARY KEY (topic, key)
);

CREATE INDEX idempotency_time ON idempotency (time_ms);

INSERT INTO meta (key, value) VALUES ('seq', '0');

INSERT INTO meta (key, value) VALUES ('schema_version', '1');
