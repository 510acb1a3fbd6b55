#!/usr/bin/env bash
# The integration tests: real lighttpd, Apache (mod_fcgid and
# mod_proxy_fcgi) and nginx on 127.0.0.1, started and stopped by the tests
# themselves, in front of BUILD_DIR/shopping.fcgi.
#   tests/integration/run.sh BUILD_DIR [TEST_FILE...]
# SC_IT_KEEP=1 keeps each server's temp dir (config, logs, database).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/test-common.sh"
sc_build_dir integration "${1:-}"
shift || true
cd "$here"
if [ ! -d node_modules ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
# Every server's temp dir lives under one root: whatever is left there
# when the run ends (a crashed test) is killed and removed.
root=$(mktemp -d "${TMPDIR:-/tmp}/sc-integration.XXXXXX")
chmod 755 "$root"
cleanup() {
	local f p pids=() a
	for f in /proc/[0-9]*/cmdline; do
		p=${f#/proc/}
		p=${p%/cmdline}
		[ "$p" = $$ ] && continue
		mapfile -d '' a <"$f" 2>/dev/null || continue
		[[ "${a[*]}" == *"$root"* ]] && pids+=("$p")
	done
	if [ ${#pids[@]} -gt 0 ]; then
		echo "integration: killing leftover processes: ${pids[*]}" >&2
		kill -9 "${pids[@]}" 2>/dev/null || true
	fi
	if [ -n "${SC_IT_KEEP:-}" ]; then
		echo "integration: the servers' dirs are kept in $root" >&2
	else
		rm -rf "$root"
	fi
}
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(*.test.js)
# shellcheck disable=SC2046
SC_BUILD="$B" SC_IT_TMP="$root" node --test \
	$(node_test_flags "${SC_IT_JOBS:-2}" 180000) "${files[@]}"
