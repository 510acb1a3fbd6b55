#!/usr/bin/env bash
# GET /state and POST /events while another program holds the database's
# write lock for LOCK_SECONDS (default 10): the shopping app behind
# lighttpd (2 processes, --workers 4), WRITERS (default 8) clients POSTing
# in a loop, one client timing GETs one after another.  Prints the GETs'
# p50 / p99 / max during the lock and whether every POST committed after
# it.  (Issue 13, item 5: reads never wait behind writes.)
#   bash bench/writelock.sh [BUILD]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build}
LOCK_SECONDS=${LOCK_SECONDS:-10}
WRITERS=${WRITERS:-8}
. "$ROOT/bench/lib/serve.sh"

start_lighttpd writelock "$ROOT/$B/shopping.fcgi" 2
BASE="http://127.0.0.1:$PORT"
T=list:writelock
post "$BASE/events/$T" '{"event":"add","payload":{"name":"seed"}}' >/dev/null

# The lock: an sqlite3 shell that begins an immediate transaction and
# holds it.
( echo "BEGIN IMMEDIATE;"; sleep "$LOCK_SECONDS"; echo "COMMIT;" ) |
	sqlite3 "$DB" &
LOCKER=$!
sleep 0.3

# The writers: each POSTs until the lock is gone (their answers wait).
end=$(( $(date +%s) + LOCK_SECONDS ))
writers=()
for w in $(seq "$WRITERS"); do
	( n=0; while [ "$(date +%s)" -lt "$end" ]; do
		n=$((n + 1))
		curl -s -o /dev/null -m 30 -w '%{http_code}\n' \
			-H 'Content-Type: application/json' \
			-d "{\"event\":\"add\",\"payload\":{\"name\":\"w$w-$n\"},\"id\":\"w$w-$n\"}" \
			"$BASE/events/$T" >>"$RUN/codes" || true
	done ) &
	writers+=("$!")
done

# The reader: GETs one after another during the lock.
times=()
while kill -0 "$LOCKER" 2>/dev/null; do
	t=$(curl -s -o /dev/null -m 30 -w '%{time_total}' "$BASE/state/$T" || echo 30)
	times+=("$t")
done
n=${#times[@]}
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
p() { printf '%s\n' "$sorted" | awk -v q="$1" -v n="$n" 'NR == (int(n * q) > 0 ? int(n * q) : 1) { printf "%.1f ms", $1 * 1000 }'; }
echo "GET /state during a ${LOCK_SECONDS} s write lock held by sqlite3, ${WRITERS} writers waiting:"
echo "  $n GETs: p50 $(p 0.5), p99 $(p 0.99), max $(printf '%s\n' "$sorted" | tail -1 | awk '{ printf "%.1f ms", $1 * 1000 }')"
for w in "${writers[@]}"; do wait "$w" 2>/dev/null || true; done
v=$(version_of "$BASE/state/$T")
echo "  POST answers: $(sort "$RUN/codes" | uniq -c | awk '{ print $2 " x " $1 }' | paste -sd, -)" \
	"(503: waited past the store's 5 s busy timeout, with Retry-After)"
echo "  version after the lock: $v (the seed + one per 200)"
