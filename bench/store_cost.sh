#!/usr/bin/env bash
# Counters of the store's work that do not move with the machine's load
# (BUILD/bench/store_cost, one-op changes of a small state through
# sc_store_change, group commit when several threads):
#   * instructions per event on SQLite (valgrind --tool=callgrind), 1 and
#     8 threads, the part of it inside the batches (run by one thread
#     at a time), and per commit of store_bench's bare SQLite loop;
#   * the PostgreSQL client's sendto calls per event (strace -f -c) on a
#     private server (scripts/pg-test.sh, fsync off): its round trips.
# Each figure is a run of EVENTS events minus a run of 0 (the setup), on
# a new database each.  Prints figures; asserts nothing.
#   bench/store_cost.sh BUILD_DIR
# EVENTS=2000.  Needs valgrind and strace (a figure is skipped, with a
# note, without them).
set -euo pipefail
B=${1:-build}
N=${EVENTS:-2000}
prog="$(cd "$(dirname "$B/bench/store_cost")" && pwd)/store_cost"
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/sc-store-cost-XXXXXX")
trap 'rm -rf "$dir"' EXIT

if command -v valgrind >/dev/null; then
	ir() { # THREADS EVENTS [FUNCTION [TOPICS]] -> instructions of the
		# whole run (or of the calls of FUNCTION alone)
		rm -f "$dir/c.db"*
		valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" \
			${3:+--toggle-collect="$3"} \
			"$prog" "$dir/c.db" "$1" "$2" ${4:-} >/dev/null 2>"$dir/vg.err"
		sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$dir/vg.err"
	}
	for t in 1 8; do
		z=$(ir "$t" 0)
		n=$(ir "$t" "$N")
		echo "SQLite, $t thread(s): $(( (n - z) / N )) instructions per event (callgrind, $N events)"
	done
	echo "SQLite, 8 threads, inside the batches (the serial part): $(( $(ir 8 "$N" sc_store_run_batch) / N )) instructions per event"
	echo "SQLite, 8 threads on 8 topics, inside the batches (a batch's changes take turns between topics): $(( $(ir 8 "$N" sc_store_run_batch 8) / N )) instructions per event"
	z=$(ir bare 0)
	n=$(ir bare "$N")
	echo "SQLite, bare BEGIN IMMEDIATE/INSERT/COMMIT loop of store_bench: $(( (n - z) / N )) instructions per commit"
else
	echo "SQLite instructions per event: skipped (no valgrind)"
fi

if command -v strace >/dev/null; then
	cat >"$dir/pg.sh" <<'EOS'
#!/usr/bin/env bash
set -euo pipefail
k=0
sends() { # THREADS EVENTS -> sendto calls of the whole run
	k=$((k + 1))
	uri=$("$SC_PG_SCRIPT" newdb "$SC_TEST_PG" "cost$k")
	strace -f -c -o "$DIR/st.out" "$PROG" "$uri" "$1" "$2" >/dev/null
	awk '$NF == "sendto" { print $4 }' "$DIR/st.out"
}
for t in 1 8; do
	z=$(sends "$t" 0)
	n=$(sends "$t" "$N")
	echo "PostgreSQL, $t thread(s): $(awk -v n="$n" -v z="$z" -v e="$N" 'BEGIN { printf "%.2f", (n - z) / e }') round trips (sendto) per event ($N events)"
done
EOS
	DIR="$dir" PROG="$prog" N="$N" "$here/scripts/pg-test.sh" run --fast \
		bash "$dir/pg.sh" 2>&1 | grep -v '^NOTICE'
else
	echo "PostgreSQL round trips per event: skipped (no strace)"
fi
