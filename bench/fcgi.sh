#!/usr/bin/env bash
# End-to-end benchmarks through lighttpd on this machine (prints figures,
# asserts nothing):
#   * the bare lighttpd -> FastCGI request rate (BUILD/bench/fcgi_bare, a
#     trivial responder): the baseline of the next two;
#   * POST /events per second (a small patch: toggle one item);
#   * GET /state per second of an unchanged topic of ~10 KB;
#   * fan-out: 1,000 and 5,000 SSE subscribers on one topic, one event ->
#     time until every subscriber has it (p50, p99), and the app's memory
#     per open stream; beside it nginx + nchan fanning out the same bytes
#     as pure pub/sub, and our figures as ratios to nchan's.
#   bench/fcgi.sh BUILD_DIR
# Tunables (environment): DURATION=8 (seconds per wrk run), CONNS=32,
# THREADS=2, FANOUT="1000 5000", ROUNDS=3 (events per fan-out size, after
# one warm-up; the median round is reported), BARE_PROCS=8.
set -uo pipefail
B=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "$B" && pwd)
APP="$B/shopping.fcgi"
BARE="$B/bench/fcgi_bare"
DURATION=${DURATION:-8}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
FANOUT=${FANOUT:-1000 5000}
ROUNDS=${ROUNDS:-3}
# The bare responder is single-threaded: as many processes as the app has
# request handlers (2 processes x 4 worker threads), so that the baseline
# is lighttpd -> FastCGI, not one responder's turn-taking.
BARE_PROCS=${BARE_PROCS:-8}
LIGHTTPD=$(command -v lighttpd || echo /usr/sbin/lighttpd)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
RUN=$(mktemp -d "${TMPDIR:-/tmp}/sc-bench.XXXXXX")
chmod 755 "$RUN"
groups=()
cleanup() {
	local g
	for g in "${groups[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
	sleep 0.5
	for g in "${groups[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
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

# lighttpd never runs as root (server.username): as root, www-data.
if [ "$(id -u)" -eq 0 ]; then
	RUNUSER=www-data RUNGROUP=www-data
else
	RUNUSER=$(id -un) RUNGROUP=$(id -gn)
fi

# start_lighttpd NAME APP PROCS -> sets PORT, PGID; the app's processes
# are the children of lighttpd whose binary is APP.
start_lighttpd() {
	local name=$1 app=$2 procs=$3 dir="$RUN/$1"
	mkdir -p "$dir/www" "$dir/db"
	PORT=$(free_port)
	"$ROOT/deploy/render.sh" "$ROOT/deploy/lighttpd/statechannel.conf.in" \
		PORT="$PORT" HOST=127.0.0.1 RUNDIR="$dir" APP="$app" \
		DB="$dir/db/statechannel.db" PREFIX=/ PROCS="$procs" \
		DOCROOT="$dir/www" CLIENT_DIR="$ROOT/client" HEARTBEAT=15 \
		STREAM_LIFE=0 BODY_LIMIT=1048576 MAX_STREAMS=2500 \
		ERRORS="$ROOT/deploy/errors" USER="$RUNUSER" \
		GROUP="$RUNGROUP" APP_ARGS= >"$dir/lighttpd.conf" || return 1
	[ "$RUNUSER" = "$(id -un)" ] || chown -R "$RUNUSER:$RUNGROUP" "$dir"
	setsid "$LIGHTTPD" -D -f "$dir/lighttpd.conf" >"$dir/stdout.log" 2>&1 &
	PGID=$!
	groups+=("$PGID")
	wait_port "$PORT" || { cat "$dir/lighttpd-error.log" 2>/dev/null; return 1; }
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
	curl -s --max-time 10 -H 'Content-Type: application/json' --data-binary "$2" "$1"
}
jget() { # JSON-TEXT FIELD
	node -e 'let t="";process.stdin.on("data",d=>t+=d).on("end",()=>{const v=JSON.parse(t)[process.argv[1]];console.log(typeof v==="object"?JSON.stringify(v):v)})' "$2" <<<"$1"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "") printf "%.2f", a / b; else print "n/a" }'; }

note "bench/fcgi.sh: lighttpd $($LIGHTTPD -v 2>&1 | sed -n 's/^lighttpd\/\([^ ]*\).*/\1/p'), $(nproc) cores," \
	"wrk -t$THREADS -c$CONNS -d${DURATION}s, build $B"
command -v wrk >/dev/null || miss "wrk is not installed (scripts/deps.sh installs it)"

# ---- the bare rate, events/s, GET /state/s --------------------------------
# The machine may be shared: the bare rate is measured before and after the
# app's runs, and the ratios use the higher of the two.
BARE_RATE= BARE1= BARE2= BPG= BU=
if [ -x "$BARE" ] && command -v wrk >/dev/null && start_lighttpd bare "$BARE" "$BARE_PROCS"; then
	BPG=$PGID
	BU="http://127.0.0.1:$PORT/state/x"
	curl -sf --max-time 10 "$BU" >/dev/null || note "  the bare responder does not answer"
	BARE1=$(wrk_rate "$BU")
	note "bare lighttpd->FastCGI ($BARE_PROCS procs)    ${BARE1:-?} req/s"
else
	miss "bare rate: no $BARE, no wrk, or lighttpd did not start"
fi

EV_RATE= GET_RATE=
if [ -x "$APP" ] && command -v wrk >/dev/null && start_lighttpd app "$APP" 2; then
	U="http://127.0.0.1:$PORT"
	r=$(post "$U/events/list:bench" '{"event":"add","payload":{"name":"toggle me"}}')
	if [ "$(jget "$r" version 2>/dev/null)" = "1" ]; then
		cat >"$RUN/toggle.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"event":"toggle","payload":{"id":"i1"}}'
wrk.headers["Content-Type"] = "application/json"
LUA
		v0=$(jget "$(curl -s --max-time 10 "$U/state/list:bench")" version)
		t0=$EPOCHREALTIME
		req=$(wrk_rate "$U/events/list:bench" "$RUN/toggle.lua")
		t1=$EPOCHREALTIME
		v1=$(jget "$(curl -s --max-time 10 "$U/state/list:bench")" version)
		EV_RATE=$(awk -v a="$v0" -v b="$v1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%d", (b - a) / (e - s) }')
		note "POST /events (toggle, small patch)  ${EV_RATE} events/s committed ($((v1 - v0)) in ${DURATION}s; wrk: ${req} req/s)"
	else
		miss "events/s: POST /events answered: ${r:0:200}"
	fi
	# A ~10 KB state: items until the JSON is past 10,240 bytes.
	for i in $(seq 1 120); do
		post "$U/events/list:big" "{\"event\":\"add\",\"payload\":{\"name\":\"item $i of the ten kilobyte list\",\"quantity\":$i}}" >/dev/null
	done
	size=$(curl -s --max-time 10 "$U/state/list:big" | wc -c)
	if [ "$size" -gt 10000 ]; then
		GET_RATE=$(wrk_rate "$U/state/list:big")
		note "GET /state ($size bytes)           ${GET_RATE:-?} req/s"
	else
		miss "GET /state/s: the 10 KB state could not be built ($size bytes)"
	fi
	kill -TERM -- "-$PGID" 2>/dev/null
else
	miss "events/s and GET /state/s: no $APP, no wrk, or lighttpd did not start"
fi
if [ -n "$BPG" ]; then
	BARE2=$(wrk_rate "$BU")
	note "bare lighttpd->FastCGI, again       ${BARE2:-?} req/s"
	kill -TERM -- "-$BPG" 2>/dev/null
	BARE_RATE=$(printf '%s\n' "$BARE1" "$BARE2" | sort -n | tail -1)
fi

# ---- fan-out: the app (one process holds every stream) vs nchan -----------
declare -A OUR NCH
FRAME=
if [ -x "$APP" ] && start_lighttpd fanout "$APP" 1; then
	U="http://127.0.0.1:$PORT"
	post "$U/events/list:fanout" '{"event":"add","payload":{"name":"fan-out"}}' >/dev/null
	curl -s --max-time 10 "$U/state/list:fanout" >/dev/null
	pids=$(app_pids "$PGID" "$APP")
	for n in $FANOUT; do
		out=$(node "$ROOT/bench/fcgi_fanout.mjs" --sub "$U/stream/list:fanout" --n "$n" \
			--pub-url "$U/events/list:fanout" --rounds "$ROUNDS" \
			--pub-body '{"event":"rename","payload":{"id":"i1","name":"MARKXXXXXXXX"}}' \
			--ready "event: state" --pids "$pids" 2>"$RUN/fanout.err")
		if [ -z "$out" ]; then
			miss "app fan-out $n: $(tail -3 "$RUN/fanout.err")"
			continue
		fi
		OUR[$n]=$out
		note "app fan-out $n: $out"
		sleep 1
	done
	# The bytes the app sent per subscriber, for nchan to send the same.
	r=$(post "$U/events/list:fanout" '{"event":"rename","payload":{"id":"i1","name":"MARKXXXXXXXX"}}')
	FRAME="{\"topic\":\"list:fanout\",\"version\":$(jget "$r" version),\"patch\":$(jget "$r" patch)}"
	kill -TERM -- "-$PGID" 2>/dev/null
else
	miss "app fan-out: no $APP or lighttpd did not start"
fi

if [ -e /usr/lib/nginx/modules/ngx_nchan_module.so ]; then
	[ -n "$FRAME" ] || FRAME='{"topic":"list:fanout","version":9,"patch":[{"op":"replace","path":"/items/0/name","value":"MARKXXXXXXXX"}]}'
	mkdir -p "$RUN/nchan"
	NPORT=$(free_port)
	"$ROOT/deploy/render.sh" "$ROOT/bench/fcgi_nchan.conf.in" RUNDIR="$RUN/nchan" PORT="$NPORT" \
		>"$RUN/nchan/nginx.conf"
	setsid "$NGINX" -p "$RUN/nchan" -c "$RUN/nchan/nginx.conf" >"$RUN/nchan/stdout.log" 2>&1 &
	NPG=$!
	groups+=("$NPG")
	if wait_port "$NPORT"; then
		for _ in $(seq 50); do
			wpids=$(pgrep -P "$NPG" | paste -sd,)
			[ -n "$wpids" ] && break
			sleep 0.1
		done
		for n in $FANOUT; do
			out=$(node "$ROOT/bench/fcgi_fanout.mjs" --sub "http://127.0.0.1:$NPORT/sub/c$n" --n "$n" \
				--pub-url "http://127.0.0.1:$NPORT/pub/c$n" --pub-body "$FRAME" --rounds "$ROUNDS" \
				--pids "$wpids" 2>"$RUN/fanout.err")
			[ -n "$out" ] || { miss "nchan fan-out $n: $(tail -3 "$RUN/fanout.err")"; continue; }
			NCH[$n]=$out
			note "nchan fan-out $n: $out"
			sleep 1
		done
	else
		miss "nchan: nginx did not start: $(tail -3 "$RUN/nchan/nginx-error.log")"
	fi
	kill -TERM -- "-$NPG" 2>/dev/null
else
	miss "nchan: libnginx-mod-nchan is not installed"
fi

# ---- summary -----------------------------------------------------------
f() { [ -n "${1:-}" ] && jget "$1" "$2" || echo ""; }
note ""
note "== summary (goals from issue 4)"
if [ -n "$BARE_RATE" ]; then
	note "$(printf '%-34s %8s req/s (the higher of %s and %s)' 'bare lighttpd->FastCGI' "$BARE_RATE" "$BARE1" "$BARE2")"
	note "$(printf '%-34s %8s /s   %s of bare (goal >= 0.33)' 'POST /events' "${EV_RATE:-n/a}" "$(ratio "$EV_RATE" "$BARE_RATE")")"
	note "$(printf '%-34s %8s /s   %s of bare (goal >= 0.50)' 'GET /state (10 KB)' "${GET_RATE:-n/a}" "$(ratio "$GET_RATE" "$BARE_RATE")")"
fi
for n in $FANOUT; do
	o=${OUR[$n]:-} c=${NCH[$n]:-}
	op50=$(f "$o" p50_ms) op99=$(f "$o" p99_ms) cp50=$(f "$c" p50_ms) cp99=$(f "$c" p99_ms)
	note "$(printf 'fan-out %5s (median of %s): app p50 %6s ms p99 %6s ms | nchan p50 %6s ms p99 %6s ms | ratio p50 %s p99 %s (goal p99 <= 2)' \
		"$n" "$ROUNDS" "${op50:-n/a}" "${op99:-n/a}" "${cp50:-n/a}" "${cp99:-n/a}" "$(ratio "$op50" "$cp50")" "$(ratio "$op99" "$cp99")")"
	note "$(printf '               app memory per open stream %s bytes (goal < 4096); nchan (nginx worker) %s bytes' \
		"$(f "$o" per_stream_bytes)" "$(f "$c" per_stream_bytes)")"
done
if [ ${#missing[@]} -gt 0 ]; then
	note "missing figures:"
	for m in "${missing[@]}"; do note "  - $m"; done
fi
exit 0
