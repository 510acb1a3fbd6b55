#!/usr/bin/env bash
# The client adapters' benchmarks:
#  1. statechannel-client/solid: objects allocated per one-row patch on
#     1,000 / 10,000 / 100,000 rows (node, V8's sampling heap profiler);
#  2. Solid against React in headless Chromium on one page and topic:
#     js-framework-benchmark operations, frame arrival → DOM, Solid ÷ React.
#   bench/adapters.sh [BUILD_DIR]      (REPS=15 ROUNDS=3 by default)
# Installs the client's and tests/browser's npm packages and chromium
# (apt-get) when missing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-build}" && pwd)
if [ ! -x "$B/jsbench.fcgi" ]; then
	echo "bench/adapters: no $B/jsbench.fcgi (make B=$B)" >&2
	exit 1
fi
if [ ! -d "$ROOT/client/node_modules/solid-js" ]; then
	(cd "$ROOT/client" && npm ci --no-audit --no-fund --loglevel=error)
fi
(cd "$ROOT/client" && node --conditions=browser bench/solid-alloc.mjs)
if [ ! -x /usr/bin/chromium ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null 2>&1 ||
		{ apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null; }
fi
if [ ! -d "$ROOT/tests/browser/node_modules/esbuild" ]; then
	(cd "$ROOT/tests/browser" && npm ci --no-audit --no-fund --loglevel=error)
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sc-bench-adapters.XXXXXX")
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
node "$ROOT/bench/browser_build.mjs" "$tmp/www"
SC_BROWSER_TMP="$tmp" node "$ROOT/bench/adapters_bench.mjs" "$B" "$tmp/www"
