#!/usr/bin/env bash
# Runs every benchmark script bench/*.sh with the build directory as its
# argument (the programs built from bench/*.c are in BUILD/bench/; each
# script runs the ones it needs, with whatever else it compares against).
# Benchmarks print figures; they assert nothing.
set -euo pipefail
B=${1:-build}
for s in bench/*.sh; do
	[ -e "$s" ] || continue
	echo "== $s"
	bash "$s" "$B"
done
