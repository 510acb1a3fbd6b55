-- schema.sql — the StateChannel database schema, the one source for it.
--
-- Compiled into the binaries (store/schema_blob.S) and applied by
-- sc_store_open to a new database in one transaction.  The version of
-- this schema is the user_version set on the last line: the store reads
-- it from this text.  A database with a higher user_version is refused;
-- a lower one is migrated by the steps in store/sqlite.c (migrations[]),
-- and a new migration step goes there together with the change here.
--
-- topics: one row per topic, small: its version (+1 per non-empty
--   change), its floor (the log holds every change of the topic with
--   seq > floor, so a cursor at or above the floor can be resumed with
--   patches alone; the floor is the highest seq when the topic was
--   created and moves up when retention prunes its rows) and where its
--   snapshot stands: snap_version and snap_seq are the version and the
--   seq of the last change the snapshot holds, snap_bytes its size,
--   tail_bytes the bytes of the patches logged after it.
-- snapshots: the state of a topic at its snap_version (compact JSON).
--   A topic's current state is its snapshot with its log rows of
--   seq > snap_seq applied in seq order, so a change writes only its
--   patch; the snapshot is rewritten when tail_bytes passes snap_bytes
--   (reading a state then costs at most about twice its size), and
--   retention never deletes a row the snapshot does not hold.
-- log: one row per non-empty change; seq is the global order and never
--   reused.  seq is the rowid (no AUTOINCREMENT: it would cost a write of
--   sqlite_sequence per commit): a new row gets max(seq) + 1, so a seq is
--   never given twice as long as the row holding the highest seq is never
--   deleted.  That holds because retention only ever deletes the oldest
--   rows of a topic and always keeps its newest one (keep_versions >= 1,
--   see sc_store_prune), and nothing else deletes log rows; VACUUM keeps
--   rowids of an INTEGER PRIMARY KEY.  So max(seq) is the highest seq
--   ever given.  (topic, version) is unique by construction: versions are
--   given inside the write transaction that reads the topic's version.
--   log_topic serves the reads of one topic's log and retention.
-- meta: the epoch, a random id made once per database.
-- idempotency: the first result of each event that carried a key.
CREATE TABLE topics (
	name TEXT PRIMARY KEY NOT NULL,
	version INTEGER NOT NULL DEFAULT 0,
	floor INTEGER NOT NULL DEFAULT 0,
	created_ms INTEGER NOT NULL,
	updated_ms INTEGER NOT NULL,
	snap_version INTEGER NOT NULL DEFAULT 0,
	snap_seq INTEGER NOT NULL DEFAULT 0,
	snap_bytes INTEGER NOT NULL DEFAULT 0,
	tail_bytes INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE snapshots (
	topic TEXT PRIMARY KEY NOT NULL,
	state TEXT NOT NULL
);

CREATE TABLE log (
	seq INTEGER PRIMARY KEY,
	topic TEXT NOT NULL,
	version INTEGER NOT NULL,
	time_ms INTEGER NOT NULL,
	event TEXT,
	patch TEXT NOT NULL
);

CREATE INDEX log_topic ON log (topic, seq);

CREATE TABLE meta (
	key TEXT PRIMARY KEY NOT NULL,
	value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE idempotency (
	topic TEXT NOT NULL,
	key TEXT NOT NULL,
	time_ms INTEGER NOT NULL,
	version INTEGER NOT NULL,
	seq INTEGER NOT NULL,
	patch TEXT NOT NULL,
	PRIMARY KEY (topic, key)
) WITHOUT ROWID;

CREATE INDEX idempotency_time ON idempotency (time_ms);

PRAGMA user_version = 2;
