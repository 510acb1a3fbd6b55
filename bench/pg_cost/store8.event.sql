-- One event of store8.sql (pg_cost.sh repeats it 8 times).
SAVEPOINT sc_event;
WITH c AS (UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'seq' RETURNING value::bigint AS seq), t AS (UPDATE topics SET version = version + 1, updated_ms = 1, patch_bytes = patch_bytes + 40 WHERE name = 'cost') INSERT INTO log (seq, topic, version, time_ms, event, patch) SELECT seq + 1000000000, 'cost', 1, 1, 'tick', '[{"op":"replace","path":"/n","value":1}]' FROM c RETURNING seq;
RELEASE sc_event;
