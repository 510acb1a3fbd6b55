#!/usr/bin/env bash
# End-to-end benchmarks through lighttpd on this machine (prints figures,
# asserts nothing):
#   * the bare lighttpd -> FastCGI request rate (BUILD/bench/fcgi_bare, a
#     trivial responder): the baseline of the next two;
#   * POST /events per second (a small patch: toggle one item);
#   * GET /state per second of an unchanged topic of ~10 KB;
#   * POST /events ÷ the bare rate over lighttpd max-procs x the app's
#     --workers (SWEEP_PROCS, SWEEP_WORKERS), each ratio of two adjacent
#     runs;
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
# The POST /events sweep over lighttpd max-procs x the app's --workers
# (SWEEP_PROCS= to skip it), SWEEP_DURATION seconds per run.
SWEEP_PROCS=${SWEEP_PROCS-1 2 4}
SWEEP_WORKERS=${SWEEP_WORKERS:-4 8 16}
SWEEP_DURATION=${SWEEP_DURATION:-4}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
. "$ROOT/bench/lib/serve.sh"

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

cat >"$RUN/toggle.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"event":"toggle","payload":{"id":"i1"}}'
wrk.headers["Content-Type"] = "application/json"
LUA
EV_RATE= GET_RATE=
if [ -x "$APP" ] && command -v wrk >/dev/null && start_lighttpd app "$APP" 2; then
	U="http://127.0.0.1:$PORT"
	r=$(post "$U/events/list:bench" '{"event":"add","payload":{"name":"toggle me"}}')
	if [ "$(jget "$r" version 2>/dev/null)" = "1" ]; then
		events_rate "$U/state/list:bench" "$U/events/list:bench" "$RUN/toggle.lua"
		EV_RATE=$EVENTS
		note "POST /events (toggle, small patch)  ${EV_RATE} events/s committed (wrk: ${WRK_REQ} req/s)"
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
# ---- POST /events over the app's processes x worker threads ---------------
# Each point: the bare rate, then the app's events/s right after it (the
# ratio of the two adjacent runs), SWEEP_DURATION seconds each.
SWEEP_BEST= SWEEP_LINES=() SWEEP_R=() SWEEP_CR=()
if [ -n "$BPG" ] && [ -x "$APP" ] && [ -n "$SWEEP_PROCS" ]; then
	note "POST /events ÷ bare over lighttpd max-procs x --workers (${SWEEP_DURATION}s runs):"
	for p in $SWEEP_PROCS; do
		for w in $SWEEP_WORKERS; do
			start_lighttpd "sweep-$p-$w" "$APP" "$p" "--workers $w" || {
				miss "sweep $p x $w: lighttpd did not start"
				continue
			}
			SU="http://127.0.0.1:$PORT"
			post "$SU/events/list:bench" '{"event":"add","payload":{"name":"toggle me"}}' >/dev/null
			apids=$(app_pids "$PGID" "$APP")
			bpids=$(app_pids "$BPG" "$BARE")
			b0=$(cpu_ms "$bpids") l0=$(cpu_ms "$BPG")
			b=$(DURATION=$SWEEP_DURATION wrk_rate "$BU")
			bn=$(wrk_total)
			b1=$(cpu_ms "$bpids") l1=$(cpu_ms "$BPG")
			a0=$(cpu_ms "$apids") m0=$(cpu_ms "$PGID")
			DURATION=$SWEEP_DURATION events_rate "$SU/state/list:bench" "$SU/events/list:bench" "$RUN/toggle.lua"
			e=$EVENTS
			a1=$(cpu_ms "$apids") m1=$(cpu_ms "$PGID")
			stop_lighttpd "$PGID"
			r=$(ratio "$e" "$b")
			# CPU per request, the responder's plus lighttpd's: what
			# bounds the rate when the cores are busy.
			bu=$(per_req $((b0 + l0)) $((b1 + l1)) "$bn")
			au=$(per_req $((a0 + m0)) $((a1 + m1)) "$EV_N")
			cr=$(ratio "$bu" "$au")
			line=$(printf '  max-procs %2s --workers %3s: events %6s/s  bare %6s/s  ratio %s | CPU per request: app %4s us (lighttpd %3s), bare %4s us (lighttpd %3s): bare ÷ app %s' \
				"$p" "$w" "${e:-?}" "${b:-?}" "$r" "$au" "$(per_req "$m0" "$m1" "$EV_N")" "$bu" "$(per_req "$l0" "$l1" "$bn")" "$cr")
			note "$line"
			SWEEP_LINES+=("$line")
			SWEEP_R+=("$r") SWEEP_CR+=("$cr")
			if [ "$r" != "n/a" ] && { [ -z "$SWEEP_BEST" ] || awk -v a="$r" -v b="${SWEEP_BEST%% *}" 'BEGIN { exit !(a > b) }'; }; then
				SWEEP_BEST="$r (max-procs $p, --workers $w)"
			fi
		done
	done
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
	[ -z "$SWEEP_BEST" ] || note "$(printf '%-34s best ratio %s; median over the sweep %s; CPU per request bare ÷ app: median %s (goal >= 0.66, issue 8)' 'POST /events ÷ bare, sweep' "$SWEEP_BEST" "$(median "${SWEEP_R[@]}")" "$(median "${SWEEP_CR[@]}")")"
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
