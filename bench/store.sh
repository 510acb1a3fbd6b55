#!/usr/bin/env bash
# The store benchmarks: commit rates (ours and bare SQLite, synchronous
# NORMAL and FULL, 1 and 2 processes, 8 and 32 threads with and without
# group commit), cross-process wake latency (BUILD/bench/store_bench), and
# the first read of a 4 MB topic in a new process against one parse of its
# snapshot (BUILD/bench/store_first).  $1 is the build directory; the
# databases go to a temporary directory on the disk that holds /tmp
# (STORE_BENCH_DIR= to choose another).  STORE_BENCH_SECONDS=2 per commit
# figure, STORE_FIRST_ROUNDS=5.
set -euo pipefail
B=${1:-build}
base=${STORE_BENCH_DIR:-${TMPDIR:-/tmp}}
dir=$(mktemp -d "$base/sc-store-bench-XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$B/bench/store_bench" "$dir" "${STORE_BENCH_SECONDS:-2}"
"$B/bench/store_first" "$dir" "${STORE_FIRST_ROUNDS:-5}"
