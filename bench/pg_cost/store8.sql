-- A batch of 8 events, the counter and topic rows updated by every event
-- (as store/pg.c wrote a batch before its deferred rows); a SAVEPOINT each.
BEGIN;
SELECT value FROM meta WHERE key = 'seq' FOR UPDATE;
SELECT version, floor, created_ms, snapshot_version, snapshot_seq, patch_bytes FROM topics WHERE name = 'cost';
-- @EVENT x8 (store8.event.sql)
NOTIFY statechannel;
COMMIT;
