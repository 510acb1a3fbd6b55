#!/usr/bin/env bash
# The browser tests: Debian's chromium (playwright-core) against the real
# FastCGI apps behind lighttpd on free ports with temp databases.
#   tests/browser/run.sh BUILD_DIR [TEST_FILE...]
# Installs chromium (apt-get) and the npm packages when missing.
# SKIP_NEXT=1 skips the Next.js test (it builds the example: ~1 min).
# SC_BROWSER_KEEP=1 keeps each server's temp dir (config, logs, database).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/test-common.sh"
sc_build_dir browser "${1:-}"
shift || true
if [ ! -x /usr/bin/chromium ]; then
	echo "browser: installing Debian's chromium" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y chromium >/dev/null 2>&1 ||
		{ apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }
fi
cd "$here"
if [ ! -d node_modules/playwright-core ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
# The adapters' pages load Solid and Vue from client/node_modules.
if [ ! -d ../../client/node_modules/solid-js ]; then
	(cd ../../client && npm ci --no-audit --no-fund --loglevel=error)
fi
root=$(mktemp -d "${TMPDIR:-/tmp}/sc-browser.XXXXXX")
chmod 755 "$root"
cleanup() {
	local pids
	pids=$(grep -l -s -a -F "$root" /proc/[0-9]*/cmdline 2>/dev/null |
		sed 's|/proc/\([0-9]*\)/cmdline|\1|' | grep -vx "$$" || true)
	[ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
	rm -rf "$root"
}
trap cleanup EXIT
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(*.test.mjs)
# shellcheck disable=SC2046
SC_BUILD="$B" SC_BROWSER_TMP="$root" node --test \
	$(node_test_flags 1 300000) "${files[@]}"
