-- One event of nosave8.sql (pg_cost.sh repeats it 8 times).
INSERT INTO log (seq, topic, version, time_ms, event, patch) VALUES (nextval('bench_seq'), 'cost', 1, 1, 'tick', '[{"op":"replace","path":"/n","value":1}]');
