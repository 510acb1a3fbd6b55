-- One event as store/pg.c writes it today: the counter row and the
-- topic's row updated and the log row inserted in one statement, NOTIFY.
BEGIN;
SELECT value FROM meta WHERE key = 'seq' FOR UPDATE;
SELECT version, floor, created_ms, snapshot_version, snapshot_seq, patch_bytes FROM topics WHERE name = 'cost';
WITH c AS (UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'seq' RETURNING value::bigint AS seq), t AS (UPDATE topics SET version = version + 1, updated_ms = 1, patch_bytes = patch_bytes + 40 WHERE name = 'cost') INSERT INTO log (seq, topic, version, time_ms, event, patch) SELECT seq + 1000000000, 'cost', 1, 1, 'tick', '[{"op":"replace","path":"/n","value":1}]' FROM c RETURNING seq;
NOTIFY statechannel;
COMMIT;
