#!/usr/bin/env bash
# Runs every benchmark: each program built from bench/*.c (BUILD/bench/*),
# then each bench/*.sh script (given BUILD as its argument).  Benchmarks
# print figures; they assert nothing.
set -euo pipefail
B=${1:-build}
for b in $(find "$B/bench" -maxdepth 1 -type f -perm -u+x 2>/dev/null | sort); do
	echo "== $(basename "$b")"
	"$b"
done
for s in bench/*.sh; do
	[ -e "$s" ] || continue
	echo "== $s"
	bash "$s" "$B"
done
