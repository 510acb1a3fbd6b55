#!/usr/bin/env bash
# JSON diff/apply benchmark (prints figures, asserts nothing): our sc_diff,
# sc_diff_text, sc_patch_apply and sc_patch_apply_take against
# fast-json-patch's compare and applyPatch on the js-framework-benchmark
# operations as state transitions.
#   bench/json.sh BUILD_DIR          (ROUNDS=3 by default)
# Then `json_bench text`: our compact serializer beside json-c's, and
# `json_floor`: what any diff taking json-c documents pays, beside
# prototypes of two other designs (the fjp column above divided by these
# says how far each design could go).
# BUILD_DIR/bench/json_bench generates the state pairs, times our side and
# writes the pairs to a temporary directory; bench/json_fjp.mjs times
# fast-json-patch on the same pairs.  The two sides take turns for ROUNDS
# rounds, and one table prints the best figure of each side.  The npm
# packages (bench/package-lock.json) are installed with `npm ci` when
# bench/node_modules is missing.
set -euo pipefail
B=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH="$B/bench/json_bench"
if [ ! -x "$BENCH" ]; then
	echo "json.sh: $BENCH is missing: build it first (make B=$B)" >&2
	exit 1
fi
if ! command -v node >/dev/null; then
	echo "json.sh: node is not installed; our side only:"
	"$BENCH"
	exit 0
fi
if [ ! -d "$HERE/node_modules/fast-json-patch" ]; then
	echo "json.sh: installing fast-json-patch (npm ci in bench/)"
	(cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
fi
DIR=$(mktemp -d "${TMPDIR:-/tmp}/sc-json-bench.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
ROUNDS=${ROUNDS:-3}
for r in $(seq 1 "$ROUNDS"); do
	if [ "$r" = 1 ]; then
		echo "our side alone, round 1 (BUILD/bench/json_bench):"
		"$BENCH" "$DIR"
	else
		"$BENCH" "$DIR" >/dev/null
	fi
	mv "$DIR/results.tsv" "$DIR/ours.$r.tsv"
	node "$HERE/json_fjp.mjs" "$DIR" measure "$r"
done
echo
echo "beside fast-json-patch $(node -p 'require("'"$HERE"'/node_modules/fast-json-patch/package.json").version') (node $(node --version)):"
node "$HERE/json_fjp.mjs" "$DIR" report
echo
echo "our serializer (json/text.h) beside json-c's json_object_to_json_string_length:"
"$BENCH" text
echo
echo "what a diff taking the handler's json-c document pays (json_floor):"
"$B/bench/json_floor"
