#!/usr/bin/env bash
# Runs every test program of one build directory (tests/*/test_*.c built
# into BUILD/tests/...), each with its own log, and prints a closing line
# "N passed, N failed".  Exit status 0 only when all passed.
set -uo pipefail
B=${1:-build}
passed=0
failed=0
failures=()
mkdir -p "$B/test-logs"
for t in $(find "$B/tests" -type f -name 'test_*' -perm -u+x | sort); do
	name=${t#"$B"/tests/}
	log="$B/test-logs/${name//\//_}.log"
	start=$EPOCHREALTIME
	if SC_BUILD="$B" "$t" >"$log" 2>&1; then
		passed=$((passed + 1))
		result=ok
	else
		failed=$((failed + 1))
		failures+=("$name")
		result=FAILED
	fi
	printf '%-40s %-6s %6.2fs\n' "$name" "$result" \
		"$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN{print b-a}')"
	if [ "$result" = FAILED ]; then
		tail -n 40 "$log"
	fi
done
echo "tests ($B): $passed passed, $failed failed"
[ "$failed" -eq 0 ]
