#!/usr/bin/env bash
# statechannel-client/solid: objects allocated per one-row patch on
# 1,000 / 10,000 / 100,000 rows (node, V8's sampling heap profiler; see
# client/bench/solid-alloc.mjs).  Solid against React in Chromium is in
# bench/browser.sh.
#   bench/solid_alloc.sh [BUILD_DIR]   (the build is not needed)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT/client"
if [ ! -d node_modules/solid-js ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
node --conditions=browser bench/solid-alloc.mjs
