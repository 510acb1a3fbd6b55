-- One autocommit INSERT of a log-shaped row: the bare figure.
INSERT INTO log (seq, topic, version, time_ms, event, patch) VALUES (nextval('bench_seq'), 'cost', 1, 1, 'tick', '[{"op":"replace","path":"/n","value":1}]');
