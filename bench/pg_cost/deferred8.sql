-- A batch of 8 events with the deferred rows (the log rows, then the
-- counter and the topic's row once, at its end) and a SAVEPOINT each.
BEGIN;
SELECT value FROM meta WHERE key = 'seq' FOR UPDATE;
SELECT version, floor, created_ms, snapshot_version, snapshot_seq, patch_bytes FROM topics WHERE name = 'cost';
-- @EVENT x8 (deferred8.event.sql)
UPDATE topics SET version = version + 8, updated_ms = 1, patch_bytes = patch_bytes + 320 WHERE name = 'cost';
UPDATE meta SET value = (value::bigint + 8)::text WHERE key = 'seq';
NOTIFY statechannel;
COMMIT;
