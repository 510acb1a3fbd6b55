#!/usr/bin/env bash
# Runs every test program of one build directory (tests/*/test_*.c built
# into BUILD/tests/...), each with its own log, and prints a closing line
# "N passed, N failed".  Then the store's tests (tests/store) again on
# PostgreSQL: scripts/pg-test.sh starts a throwaway server and this script
# runs them with SC_TEST_DB set to its URI (run-tests.sh --pg BUILD, under
# pg-test.sh run).  Exit status 0 only when all passed.
set -uo pipefail
pg=0
if [ "${1:-}" = "--pg" ]; then
	pg=1
	shift
fi
B=${1:-build}
passed=0
failed=0
failures=()
label=$B
dirs=("$B/tests")
if [ "$pg" -eq 1 ]; then
	# The same store tests, on the server of pg-test.sh run.
	export SC_TEST_DB=${SC_TEST_PG:?run under scripts/pg-test.sh run}
	label="$B, store on PostgreSQL"
	dirs=("$B/tests/store")
fi
mkdir -p "$B/test-logs"
for t in $(find "${dirs[@]}" -type f -name 'test_*' -perm -u+x | sort); do
	name=${t#"$B"/tests/}
	log="$B/test-logs/${name//\//_}$([ "$pg" -eq 1 ] && echo .pg).log"
	start=$EPOCHREALTIME
	if SC_BUILD="$B" "$t" >"$log" 2>&1; then
		passed=$((passed + 1))
		result=ok
	else
		failed=$((failed + 1))
		failures+=("$name")
		result=FAILED
	fi
	printf '%-40s %-6s %6.2fs\n' "$name$([ "$pg" -eq 1 ] && echo ' (pg)')" \
		"$result" "$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN{print b-a}')"
	if [ "$result" = FAILED ]; then
		tail -n 40 "$log"
	fi
done
echo "tests ($label): $passed passed, $failed failed"
status=0
[ "$failed" -eq 0 ] || status=1
if [ "$pg" -eq 0 ]; then
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	"$here/pg-test.sh" run --fast "$here/run-tests.sh" --pg "$B" || status=1
fi
exit $status
