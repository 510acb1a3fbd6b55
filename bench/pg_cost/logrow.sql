-- One event as the store's transaction, writing the log row only: the
-- lock, the topic's row read, the row, COMMIT.
BEGIN;
SELECT value FROM meta WHERE key = 'seq' FOR UPDATE;
SELECT version, floor, created_ms, snapshot_version, snapshot_seq, patch_bytes FROM topics WHERE name = 'cost';
INSERT INTO log (seq, topic, version, time_ms, event, patch) VALUES (nextval('bench_seq'), 'cost', 1, 1, 'tick', '[{"op":"replace","path":"/n","value":1}]');
COMMIT;
