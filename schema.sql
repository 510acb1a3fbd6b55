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
--   tail_bytes the bytes of the patches logged after it; last_seq and
--   run_first its open run (see runs).
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
--   The log has no index on its topic: an index entry per row cost
--   about as much as the row itself.  runs says where a topic's rows
--   are instead (one entry per run of them, not per row).
-- runs: a run is a range of seqs [first, last] in which every row of
--   the log is one topic's (rows in it may be gone, pruned); a topic's
--   rows above its floor lie in its runs, which do not overlap.  Its
--   newest, open run is in its topics row (run_first, last_seq; both 0
--   when it has no row), so that a batch of changes of one topic, whose
--   rows follow each other, writes no entry at all; a run is closed
--   (a row here) when a row of the topic follows another topic's row.
--   Reading a topic's rows after a seq costs a seek in runs and one in
--   the log per run.
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
	tail_bytes INTEGER NOT NULL DEFAULT 0,
	last_seq INTEGER NOT NULL DEFAULT 0,
	run_first INTEGER NOT NULL DEFAULT 0
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

CREATE TABLE runs (
	topic TEXT NOT NULL,
	last INTEGER NOT NULL,
	first INTEGER NOT NULL,
	PRIMARY KEY (topic, last)
) WITHOUT ROWID;

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

PRAGMA user_version = 3;
