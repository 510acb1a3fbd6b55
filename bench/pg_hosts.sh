#!/usr/bin/env bash
# The store on PostgreSQL across hosts (prints figures, asserts nothing):
# two "hosts" on this machine (two lighttpd, each with its own app
# process) sharing one PostgreSQL server of the bench's own
# (scripts/pg-test.sh, fsync off: the wake-up and the round trips, not
# the disk);
#   * fan-out: N streams (default 1,000) held by host B, one event POSTed
#     through host A -> time until every stream has it (p50, p99), beside
#     the same with the streams on host A itself, and their ratio;
#   * recovery: PostgreSQL stopped (immediate) and started again -> time
#     from the moment it accepts connections to the first POST answered
#     200 (POSTs every 5 ms meanwhile), several times.
#   bench/pg_hosts.sh BUILD_DIR
# Tunables: FANOUT_N=1000, ROUNDS=5 (events per fan-out, after a
# warm-up; the median round), RECOVERIES=3.
set -uo pipefail
B=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "$B" && pwd)
APP="$B/shopping.fcgi"
N=${FANOUT_N:-1000}
ROUNDS=${ROUNDS:-5}
RECOVERIES=${RECOVERIES:-3}
PGT="$ROOT/scripts/pg-test.sh"
bench_cleanup() { "$PGT" clean "$RUN/pg" >/dev/null 2>&1 || true; }
. "$ROOT/bench/lib/serve.sh"

# host NAME -> sets PORT; lighttpd with one app process on $URI.
host() { START_DB="$URI" start_lighttpd "$1" "$APP" 1; }

post_status() { # URL JSON -> HTTP status
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
		-H 'Content-Type: application/json' --data-binary "$2" "$1"
}
now_ms() { date +%s%3N; }

URI=$("$PGT" start --fast "$RUN/pg") || { echo "pg_hosts: no PostgreSQL"; exit 1; }
host a || exit 1
A="http://127.0.0.1:$PORT"
host b || exit 1
BH="http://127.0.0.1:$PORT"
echo "bench/pg_hosts.sh: $(nproc) cores, two lighttpd hosts (1 app process each) on one PostgreSQL (fsync off), build $B"
[ "$(post_status "$A/events/list:fan" '{"event":"add","payload":{"name":"fan-out"}}')" = 200 ] ||
	{ echo "pg_hosts: the first POST failed"; exit 1; }

fanout() { # SUB-BASE
	node "$ROOT/bench/fcgi_fanout.mjs" --sub "$1/stream/list:fan" --n "$N" \
		--pub-url "$A/events/list:fan" --rounds "$ROUNDS" \
		--pub-body '{"event":"rename","payload":{"id":"i1","name":"MARKXXXXXXXX"}}' \
		--ready "event: state" 2>"$RUN/fanout.err"
}
same=$(fanout "$A")
echo "fan-out $N, POST on A, streams on A: $same"
cross=$(fanout "$BH")
echo "fan-out $N, POST on A, streams on B: $cross"
if [ -n "$same" ] && [ -n "$cross" ]; then
	ps=$(jget "$same" p99_ms)
	pc=$(jget "$cross" p99_ms)
	echo "fan-out p99: streams on B ${pc} ms / on A ${ps} ms = $(awk -v a="$pc" -v b="$ps" 'BEGIN { printf "%.2f", a / b }')"
else
	echo "fan-out: MISSING ($(tail -3 "$RUN/fanout.err"))"
fi

for i in $(seq "$RECOVERIES"); do
	"$PGT" stop "$RUN/pg" immediate >/dev/null
	refused=$(post_status "$A/events/list:fan" '{"event":"add","payload":{"name":"while down"}}')
	sleep 1
	"$PGT" start "$RUN/pg" >/dev/null
	t0=$(now_ms)
	n=0
	while [ "$(post_status "$A/events/list:fan" '{"event":"add","payload":{"name":"back"}}')" != 200 ]; do
		n=$((n + 1))
		[ $n -lt 4000 ] || break
		sleep 0.005
	done
	echo "recovery $i: a POST while PostgreSQL was down got $refused; first POST answered 200 $(($(now_ms) - t0)) ms after PostgreSQL accepted connections ($n refused before)"
done
