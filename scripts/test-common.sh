# Sourced by tests/integration/run.sh and tests/browser/run.sh (after
# set -euo pipefail), with node_test_flags (scripts/node-test-flags.sh).
#   sc_build_dir LABEL [BUILD_DIR]
# sets B to BUILD_DIR (default build) as an absolute path and exits when
# it holds no shopping.fcgi.
. "$(dirname "${BASH_SOURCE[0]}")/node-test-flags.sh"
sc_build_dir() {
	B=$(cd "${2:-build}" && pwd)
	if [ ! -x "$B/shopping.fcgi" ]; then
		echo "$1: no $B/shopping.fcgi (build it first: make B=$B)" >&2
		exit 1
	fi
}
