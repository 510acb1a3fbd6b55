#!/usr/bin/env bash
# PostgreSQL's side of the store's figures (bench/store_pg_bench.c): the
# bare libpq single-row INSERT commit rate, the store-shaped transactions
# of schema_pg.sql beside it, and the NOTIFY wake latency, each on a
# server of its own (scripts/pg-test.sh): first durable (fsync on, as in
# production), then with fsync off (round trips and CPU, not the disk).
# $1 is the build directory; STORE_PG_BENCH_SECONDS per figure (default 2).
set -euo pipefail
B=${1:-build}
for mode in "" --fast; do
	scripts/pg-test.sh run $mode "$B/bench/store_pg_bench" \
		"${STORE_PG_BENCH_SECONDS:-2}"
done
