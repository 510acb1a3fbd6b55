#!/usr/bin/env bash
# The browser benchmark: the js-framework-benchmark operations as events
# against the jsbench app behind lighttpd, rendered with the React hook in
# Debian's headless chromium (playwright-core); prints push→DOM times and
# bytes received per operation.  Then the optimistic updates: the rebase
# cost in node (client/bench/rebase.mjs) and click → DOM in Chromium with
# and without mutators, with and without 300 ms added latency
# (bench/browser_optimistic.mjs, page bench/browser_optimistic.jsx).  Then
# ten tabs of the demo: live tabs and stream connections with and without
# the shared stream (bench/browser_tabs.mjs).
# Then Solid against React on one page
# (bench/adapters_bench.mjs: frame arrival → DOM, Solid ÷ React, the
# median and the lower quartile, in wall time and in the main thread's
# CPU time).
#   bench/browser.sh [BUILD_DIR]      (REPS=5 by default)
#   ONLY=react or ONLY=solid runs one of the two.
# Installs chromium (apt-get) and the npm packages of tests/browser when
# missing; the page (examples/jsbench/www/main.jsx) is bundled with React by
# esbuild into a temp dir.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-build}" && pwd)
if [ ! -x "$B/jsbench.fcgi" ]; then
	echo "bench/browser: no $B/jsbench.fcgi (make B=$B)" >&2
	exit 1
fi
if [ ! -x /usr/bin/chromium ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null 2>&1 ||
		{ apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null; }
fi
if [ ! -d "$ROOT/tests/browser/node_modules/esbuild" ]; then
	(cd "$ROOT/tests/browser" && npm ci --no-audit --no-fund --loglevel=error)
fi
if [ ! -d "$ROOT/client/node_modules/solid-js" ]; then
	(cd "$ROOT/client" && npm ci --no-audit --no-fund --loglevel=error)
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sc-bench-browser.XXXXXX")
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
node "$ROOT/bench/browser_build.mjs" "$tmp/www"
if [ "${ONLY:-}" != solid ]; then
	SC_BROWSER_TMP="$tmp" node "$ROOT/bench/browser_bench.mjs" "$B" "$tmp/www"
fi
if [ "${ONLY:-}" != react ]; then
	SC_BROWSER_TMP="$tmp" REPS="${SOLID_REPS:-15}" node "$ROOT/bench/adapters_bench.mjs" "$B" "$tmp/www"
fi
if [ -z "${ONLY:-}" ]; then
	echo
	node "$ROOT/client/bench/rebase.mjs"
	node "$ROOT/bench/browser_build.mjs" "$tmp/optimistic" "$ROOT/bench/browser_optimistic.jsx"
	SC_BROWSER_TMP="$tmp" node "$ROOT/bench/browser_optimistic.mjs" "$B" "$tmp/optimistic"
	SC_BROWSER_TMP="$tmp" node "$ROOT/bench/browser_tabs.mjs" "$B"
fi
