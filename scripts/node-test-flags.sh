# Sourced by the test scripts: node_test_flags CONCURRENCY TIMEOUT_MS
# prints node's test-runner flags for them when this node has them
# (--test-concurrency since 20.10, --test-timeout since 20.11); Debian 12's
# own nodejs (18.x) runs without them (no timeout, its default concurrency).
node_test_flags() {
	local v major minor
	v=$(node -p 'process.versions.node' 2>/dev/null || echo 0.0.0)
	major=${v%%.*}
	minor=${v#*.}
	minor=${minor%%.*}
	if [ "$major" -gt 20 ] || { [ "$major" -eq 20 ] && [ "$minor" -ge 11 ]; }; then
		echo "--test-concurrency=$1 --test-timeout=$2"
	fi
}
