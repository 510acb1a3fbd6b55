# bench/lib/serve.sh — what the benchmarks through a web server share
# (sourced by bench/fcgi.sh and bench/fcgi_size.sh; not a benchmark of its
# own): a temporary run directory cleaned up on exit, free ports, lighttpd
# in front of a FastCGI binary, wrk runs, and small JSON helpers.
# The caller sets ROOT (the repository) and THREADS, CONNS, DURATION for
# wrk_rate, then sources this file.

LIGHTTPD=$(command -v lighttpd || echo /usr/sbin/lighttpd)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
RUN=$(mktemp -d "${TMPDIR:-/tmp}/sc-bench.XXXXXX")
chmod 755 "$RUN"
groups=()
cleanup() {
	local g
	for g in "${groups[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
	sleep 0.5
	for g in "${groups[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
	# a caller's own cleanup, defined before sourcing this file
	[ "$(type -t bench_cleanup)" != function ] || bench_cleanup
	rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

missing=()
note() { printf '%s\n' "$*"; }
miss() { missing+=("$*"); note "  MISSING: $*"; }

free_port() {
	node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
wait_port() {
	local i
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# start_lighttpd NAME APP PROCS [APP-OPTIONS] -> sets PORT, PGID, DB; the
# app's processes are the children of lighttpd whose binary is APP.  The
# database of NAME stays between starts (a restart serves the same data);
# START_DB names another (a postgresql:// URI shared by several hosts).
# lighttpd never runs as root (server.username): as root, www-data.
if [ "$(id -u)" -eq 0 ]; then
	RUNUSER=www-data RUNGROUP=www-data
else
	RUNUSER=$(id -un) RUNGROUP=$(id -gn)
fi

start_lighttpd() {
	local name=$1 app=$2 procs=$3 opts=${4:-} dir="$RUN/$1"
	mkdir -p "$dir/www" "$dir/db"
	PORT=$(free_port)
	DB=${START_DB:-$dir/db/statechannel.db}
	"$ROOT/deploy/render.sh" "$ROOT/deploy/lighttpd/statechannel.conf.in" \
		PORT="$PORT" HOST=127.0.0.1 RUNDIR="$dir" APP="$app${opts:+ $opts}" \
		DB="$DB" PREFIX=/ PROCS="$procs" \
		DOCROOT="$dir/www" CLIENT_DIR="$ROOT/client" HEARTBEAT=15 \
		STREAM_LIFE=0 BODY_LIMIT=1048576 MAX_STREAMS=2500 \
		ERRORS="$ROOT/deploy/errors" USER="$RUNUSER" GROUP="$RUNGROUP" \
		APP_ARGS= >"$dir/lighttpd.conf" || return 1
	[ "$RUNUSER" = "$(id -un)" ] || chown -R "$RUNUSER:$RUNGROUP" "$dir"
	setsid "$LIGHTTPD" -D -f "$dir/lighttpd.conf" >"$dir/stdout.log" 2>&1 &
	PGID=$!
	groups+=("$PGID")
	wait_port "$PORT" || { cat "$dir/lighttpd-error.log" 2>/dev/null; return 1; }
}

# stop_lighttpd PGID: stops lighttpd and its app, and waits until they
# are gone (so the next start sees the database closed).
stop_lighttpd() {
	local i
	kill -TERM -- "-$1" 2>/dev/null || return 0
	for i in $(seq 100); do
		pgrep -g "$1" >/dev/null || return 0
		sleep 0.1
	done
	kill -KILL -- "-$1" 2>/dev/null || true
}

app_pids() { # PGID BINARY
	local p out=()
	for p in $(pgrep -g "$1"); do
		[ "$(readlink "/proc/$p/exe")" = "$2" ] && out+=("$p")
	done
	local IFS=,
	echo "${out[*]}"
}

# wrk_rate URL [LUA] -> requests/s (and the wrk output in $RUN/wrk.log)
wrk_rate() {
	local url=$1 lua=${2:-}
	wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" ${lua:+-s "$lua"} "$url" \
		>"$RUN/wrk.log" 2>&1
	if grep -q 'Non-2xx' "$RUN/wrk.log"; then
		note "  (wrk: $(grep 'Non-2xx' "$RUN/wrk.log" | xargs))"
	fi
	awk '/Requests\/sec/ { print int($2) }' "$RUN/wrk.log"
}

post() { # URL JSON
	curl -s --max-time 120 -H 'Content-Type: application/json' --data-binary "$2" "$1"
}
jget() { # JSON-TEXT FIELD
	node -e 'let t="";process.stdin.on("data",d=>t+=d).on("end",()=>{const v=JSON.parse(t)[process.argv[1]];console.log(typeof v==="object"?JSON.stringify(v):v)})' "$2" <<<"$1"
}
# The version of a topic (GET /state).
version_of() { # URL-OF-STATE
	curl -s --max-time 120 "$1" | node -e 'let t="";process.stdin.on("data",d=>t+=d).on("end",()=>console.log(JSON.parse(t).version))'
}
ratio() { # A B [DECIMALS=2] -> A / B
	awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (b > 0 && a != "") printf "%.*f", d, a / b; else print "n/a" }'
}
# The median of numbers (one an argument).
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
# events_rate STATE-URL EVENTS-URL LUA -> sets EVENTS to the events/s
# committed while wrk POSTs (the topic's versions gained over the wall
# time: wrk's own rate also counts refusals), EV_N to their count and
# WRK_REQ to wrk's req/s.
events_rate() {
	local v0 v1 t0 t1
	v0=$(version_of "$1")
	t0=$EPOCHREALTIME
	WRK_REQ=$(wrk_rate "$2" "$3")
	t1=$EPOCHREALTIME
	v1=$(version_of "$1")
	EV_N=$((${v1:-0} - ${v0:-0}))
	EVENTS=$(awk -v a="$v0" -v b="$v1" -v s="$t0" -v e="$t1" 'BEGIN { if (a != "" && b != "") printf "%d", (b - a) / (e - s) }')
}

# The requests the last wrk_rate made in all.
wrk_total() { awk '/requests in/ { print $1 }' "$RUN/wrk.log"; }

# cpu_ms PID[,PID...] -> the CPU time (user + system, every thread) those
# processes have used so far, in ms.  On a shared machine the CPU time per
# request is a steadier figure than requests/s.
CLK_TCK=$(getconf CLK_TCK)
cpu_ms() {
	local p t=0 v
	for p in ${1//,/ }; do
		v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) || continue
		t=$((t + ${v:-0}))
	done
	echo $((t * 1000 / CLK_TCK))
}
# per_req CPU-MS-BEFORE CPU-MS-AFTER COUNT -> us per request
per_req() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { if (n > 0) printf "%.0f", (b - a) * 1000 / n; else print "n/a" }'; }
