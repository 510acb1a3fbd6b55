#!/usr/bin/env bash
# Counters of one POST /events through the FastCGI app (prints figures,
# asserts nothing), that the machine's load does not move: the app
# (BUILD/shopping.fcgi, --listen on a local port, its own SQLite file)
# answers N small POSTs (toggle one item, as bench/fcgi.sh sends) from
# bench/post_cost.mjs, one after the other on one connection:
#   * instructions per POST in the app's process (valgrind --tool=callgrind),
#   * system calls per POST, by name (strace -f -c).
# Each figure is a run of N POSTs minus a run of 0 (start and stop).
#   bench/post_cost.sh BUILD_DIR          (POSTS=2000)
set -euo pipefail
B=${1:-build}
N=${POSTS:-2000}
here=$(cd "$(dirname "$0")" && pwd)
app="$(cd "$B" && pwd)/shopping.fcgi"
[ -x "$app" ] || { echo "post_cost.sh: $app is missing: build first" >&2; exit 1; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/sc-post-cost-XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT

port() { python3 - 2>/dev/null <<'PY' || echo $((20000 + RANDOM % 20000))
import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])
PY
}
# run WRAPPER... : the app under WRAPPER for N POSTs, then stopped (TERM).
run() { # COUNT WRAPPER...
	local count=$1 p pid i
	shift
	p=$(port)
	rm -f "$dir"/db*
	"$@" "$app" --listen "127.0.0.1:$p" --db "$dir/db" --workers 4 \
		>"$dir/app.out" 2>"$dir/app.err" &
	pid=$!
	for i in $(seq 300); do
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break
		sleep 0.1
	done
	node "$here/post_cost.mjs" 127.0.0.1 "$p" "$count" list:bench >/dev/null
	# The app itself (not its wrapper) stops on TERM; the wrapper ends
	# with it and writes its counts.
	pkill -TERM -f -- "shopping.fcgi --listen 127.0.0.1:$p " || true
	wait "$pid" || true
}
if command -v valgrind >/dev/null; then
	ir() { run "$1" valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out"; sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$dir/app.err"; }
	z=$(ir 0)
	n=$(ir "$N")
	echo "app instructions per POST: $(( (n - z) / N )) (callgrind, $N POSTs)"
else
	echo "instructions per POST: skipped (no valgrind)"
fi
if command -v strace >/dev/null; then
	calls() { run "$1" strace -f -c -o "$dir/st.$1"; }
	calls 0
	calls "$N"
	echo "app system calls per POST (strace -f -c, $N POSTs):"
	awk -v n="$N" 'FNR > 2 && $NF != "total" && $4 ~ /^[0-9]+$/ {
		if (FILENAME ~ /st\.0$/) z[$NF] = $4; else c[$NF] = $4 }
		END { for (k in c) { v = (c[k] - z[k]) / n; if (v >= 0.05) printf "  %-16s %.2f\n", k, v } }' \
		"$dir/st.0" "$dir/st.$N" | sort -k2 -rn
else
	echo "system calls per POST: skipped (no strace)"
fi
