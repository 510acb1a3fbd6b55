#!/usr/bin/env bash
# The store benchmark: commit rates (ours and bare SQLite, synchronous
# NORMAL and FULL, 1 and 2 processes) and cross-process wake latency.
# $1 is the build directory; the databases go to a temporary directory
# on the disk that holds /tmp (STORE_BENCH_DIR= to choose another).
set -euo pipefail
B=${1:-build}
base=${STORE_BENCH_DIR:-${TMPDIR:-/tmp}}
dir=$(mktemp -d "$base/sc-store-bench-XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$B/bench/store_bench" "$dir" "${STORE_BENCH_SECONDS:-2}"
