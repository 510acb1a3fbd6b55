#!/usr/bin/env bash
# PostgreSQL's own CPU per event (prints figures, asserts nothing): what
# the server spends on one event of the store, against one autocommit
# INSERT of a log-shaped row.  On a private server (scripts/pg-test.sh,
# fsync off), each figure on a new database:
#   * through the store: BUILD/bench/store_cost (sc_store_change, a
#     one-op patch), 1 thread and 8 threads (group commit);
#   * the store's SQL replayed by pgbench (bench/pg_cost/*.sql): bare,
#     the log row alone, one event as store/pg.c writes it, a batch of 8
#     with the counter and topic rows written by every event (as before
#     the deferred rows), with them written once at its end and a
#     SAVEPOINT per event (deferred8), and as store/pg.c writes it now,
#     without the SAVEPOINTs (nosave8).
# The server's CPU is the postmaster's cutime + cstime: a backend's CPU
# is added there when its connection ends.  Counters of CPU time, so
# less moved by other load than rates are (not immune: a busy machine
# still slows the caches).
#   bench/pg_cost.sh BUILD_DIR        (EVENTS=3000)
set -euo pipefail
B=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
prog="$(cd "$B/bench" && pwd)/store_cost"
[ -x "$prog" ] || { echo "pg_cost.sh: $prog is missing: build first" >&2; exit 1; }
pgbench=$(ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -1)
[ -n "$pgbench" ] || { echo "pg_cost.sh: pgbench is not installed" >&2; exit 1; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/sc-pg-cost-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cat >"$dir/run.sh" <<'EOS'
#!/usr/bin/env bash
set -euo pipefail
# This run's postmaster (the socket directory holds its data directory).
sock=$(printf '%s' "$SC_TEST_PG" | sed -n 's/.*[?&]host=\([^&]*\).*/\1/p')
pm=$(head -n 1 "$sock/data/postmaster.pid")
# The postmaster's children's CPU, in clock ticks, once they are reaped.
ticks() { sleep 0.3; awk '{ print $16 + $17 }' "/proc/$pm/stat"; }
hz=$(getconf CLK_TCK)
k=0
fresh() {
	k=$((k + 1))
	uri=$("$SC_PG_SCRIPT" newdb "$SC_TEST_PG" "cost$k")
	"$PROG" "$uri" 1 1 >/dev/null	# the schema and the topic 'cost'
	psql -q -X "$uri" -c "CREATE SEQUENCE bench_seq START 2000000000" >/dev/null
}
per() { awk -v a="$1" -v b="$2" -v n="$3" -v hz="$hz" 'BEGIN { printf "%.0f", (b - a) * 1e6 / hz / n }'; }
bare=
for f in bare logrow store1 store8 deferred8 nosave8; do
	ev=1; case $f in *8) ev=8 ;; esac
	n=$((N / ev))
	# A batch's file holds the line "-- @EVENT x8": its event, 8 times.
	awk -v ev="$SQL/$f.event.sql" '
		/^-- @EVENT x8/ { for (i = 0; i < 8; i++) { while ((getline l < ev) > 0) if (l !~ /^--/) print l; close(ev) } next }
		{ print }' "$SQL/$f.sql" >"$DIR/$f.sql"
	fresh
	a=$(ticks)
	"$PGBENCH" -n -M prepared -t "$n" -f "$DIR/$f.sql" "$uri" >"$DIR/pgbench.out" 2>&1 || { cat "$DIR/pgbench.out"; exit 1; }
	b=$(ticks)
	us=$(per "$a" "$b" $((n * ev)))
	[ -n "$bare" ] || bare=$us
	printf '  pgbench %-10s %4s us of server CPU per event (x%s of bare)\n' "$f" "$us" "$(awk -v a="$us" -v b="$bare" 'BEGIN { printf "%.1f", a / b }')"
done
for t in 1 8; do
	fresh
	a=$(ticks)
	/usr/bin/time -f "%U %S" -o "$DIR/time.out" "$PROG" "$uri" "$t" "$N" >/dev/null
	b=$(ticks)
	us=$(per "$a" "$b" "$N")
	printf '  store   %d thread%s  %4s us of server CPU per event (x%s of bare); the client process: %s us\n' "$t" "$([ "$t" = 1 ] && echo ' ' || echo s)" "$us" \
		"$(awk -v a="$us" -v b="$bare" 'BEGIN { printf "%.1f", a / b }')" \
		"$(awk -v n="$N" '{ printf "%.0f", ($1 + $2) * 1e6 / n }' "$DIR/time.out")"
done
EOS
echo "PostgreSQL server CPU per event (fsync off, ${EVENTS:-3000} events a figure, a new database each):"
DIR="$dir" PROG="$prog" N="${EVENTS:-3000}" PGBENCH="$pgbench" SQL="$here/bench/pg_cost" \
	"$here/scripts/pg-test.sh" run --fast bash "$dir/run.sh" 2>&1 | grep -v '^NOTICE'
