#!/usr/bin/env bash
# The "stay up" figures through lighttpd (bench/stayup.mjs says which):
# slow readers of a big state, streams held at the cap, GETs of unknown
# topics, a lighttpd crash and restart.  Prints figures, asserts nothing.
#   bench/stayup.sh BUILD_DIR
set -euo pipefail
B=${1:-build}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec node "$(dirname "$0")/stayup.mjs" "$B"
