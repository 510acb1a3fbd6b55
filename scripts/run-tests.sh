#!/usr/bin/env bash
# Runs every test program of one build directory (tests/*/test_*.c built
# into BUILD/tests/...), each with its own log, and prints a closing line
# "N passed, N failed".  Exit status 0 only when all passed.
#   scripts/run-tests.sh BUILD [DIR...]   only the tests of tests/DIR/...
# The tests that need PostgreSQL find the server in $SC_TEST_PG: when it
# is not set, the run starts one of its own (scripts/pg-test.sh, fsync
# off) and removes it at the end.  SC_TEST_DB=postgresql gives each test
# program a fresh database of that server in SC_TEST_DB (its URI): the
# store's suite on PostgreSQL (make check-pg).
set -uo pipefail
if [ -z "${SC_TEST_PG:-}" ]; then
	exec "$(dirname "$0")/pg-test.sh" run --fast "$0" "$@"
fi
B=${1:-build}
shift || true
dirs=()
for d in "$@"; do
	dirs+=("$B/tests/$d")
done
[ ${#dirs[@]} -gt 0 ] || dirs=("$B/tests")
pg_script=${SC_PG_SCRIPT:-$(dirname "$0")/pg-test.sh}
per_db=
[ "${SC_TEST_DB:-}" = postgresql ] && per_db=1
passed=0
failed=0
failures=()
mkdir -p "$B/test-logs"
for t in $(find "${dirs[@]}" -type f -name 'test_*' -perm -u+x | sort); do
	name=${t#"$B"/tests/}
	log="$B/test-logs/${name//\//_}${per_db:+_pg}.log"
	start=$EPOCHREALTIME
	db=
	if [ -n "$per_db" ]; then
		db=run_$(basename "$t")_$$
		if ! SC_TEST_DB=$("$pg_script" newdb "$SC_TEST_PG" "$db"); then
			echo "run-tests: no database for $name" >&2
			exit 1
		fi
		export SC_TEST_DB
	fi
	if SC_BUILD="$B" "$t" >"$log" 2>&1; then
		passed=$((passed + 1))
		result=ok
	else
		failed=$((failed + 1))
		failures+=("$name")
		result=FAILED
	fi
	[ -z "$db" ] || "$pg_script" dropdb "$SC_TEST_PG" "$db"
	printf '%-40s %-6s %6.2fs\n' "$name" "$result" \
		"$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN{print b-a}')"
	if [ "$result" = FAILED ]; then
		tail -n 40 "$log"
	fi
done
echo "tests ($B${per_db:+, on PostgreSQL}): $passed passed, $failed failed"
[ "$failed" -eq 0 ]
