#!/usr/bin/env bash
# Open streams held per web server (default limits vs deploy/'s) and the
# memory per stream, web server included; the mod_fcgid POST stall with
# one process class vs the template's two (bench/fcgi_capacity.mjs).
#   bench/capacity.sh BUILD_DIR
set -euo pipefail
B=$(cd "${1:-build}" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ -d "$ROOT/tests/integration/node_modules" ] ||
	(cd "$ROOT/tests/integration" && npm ci --no-audit --no-fund --loglevel=error)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sc-capacity.XXXXXX")
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
SC_BUILD="$B" SC_IT_TMP="$tmp" node "$ROOT/bench/fcgi_capacity.mjs"
