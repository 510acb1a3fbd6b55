#!/usr/bin/env bash
# The state-size curve through lighttpd (prints figures, asserts nothing):
# the js-framework-benchmark app (BUILD/jsbench.fcgi) behind lighttpd, one
# topic each of 10, 1,000, 10,000 and 100,000 rows (~4 MB), and for each
#   * events/s of the one-op event `select` (`replace /selected`, the id of
#     one of the first ten rows, so the app's own search for the row costs
#     the same on every size), POSTed by wrk -t$THREADS -c$CONNS, counted
#     as versions committed;
#   * GET /state requests/s of the same topic, unchanged;
# in ROUNDS rounds (each round runs every size once, so that the load of a
# shared machine weighs on all sizes alike); the ratios to 10 rows are
# taken within each round and printed as median [min-max].  Then the
# first GET /state of the 100,000-row topic after the app starts, against
# one parse of its snapshot (BUILD/bench/store_first parse), with the
# snapshot alone (after `statechannel compact`) and with 1,000 one-op
# events logged after it.
#   bench/fcgi_size.sh BUILD_DIR
# Tunables (environment): DURATION=5 (seconds per wrk run), CONNS=16,
# THREADS=2, ROUNDS=3, PROCS=2 (lighttpd max-procs), WORKERS= (the app's
# --workers; empty: its default), SIZES="10 1000 10000 100000",
# FIRST_ROUNDS=3 (restarts per first-GET figure).
set -uo pipefail
B=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "$B" && pwd)
APP="$B/jsbench.fcgi"
CLI="$B/statechannel"
FIRST_BIN="$B/bench/store_first"
DURATION=${DURATION:-5}
CONNS=${CONNS:-16}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
PROCS=${PROCS:-2}
WORKERS=${WORKERS:-}
SIZES=${SIZES:-10 1000 10000 100000}
FIRST_ROUNDS=${FIRST_ROUNDS:-3}
. "$ROOT/bench/lib/serve.sh"

note "bench/fcgi_size.sh: lighttpd $($LIGHTTPD -v 2>&1 | sed -n 's/^lighttpd\/\([^ ]*\).*/\1/p'), $(nproc) cores," \
	"max-procs $PROCS${WORKERS:+ --workers $WORKERS}, wrk -t$THREADS -c$CONNS -d${DURATION}s, $ROUNDS rounds"
command -v wrk >/dev/null || { note "wrk is not installed (scripts/deps.sh installs it)"; exit 0; }
[ -x "$APP" ] || { note "no $APP: build first (make)"; exit 0; }
APP_OPTS=${WORKERS:+--workers $WORKERS}
start_lighttpd size "$APP" "$PROCS" "$APP_OPTS" || { note "lighttpd did not start"; exit 0; }
U="http://127.0.0.1:$PORT"

ev() { # TOPIC EVENT [PAYLOAD]
	post "$U/events/$1" "{\"event\":\"$2\",\"payload\":${3:-null}}" >/dev/null
}
# Makes topic size:N with N rows (the app's events make 1,000 or 10,000
# rows at once, or any count up to 10,000 at the top).
make_topic() {
	local n=$1 t="size:$1" left
	case $n in
	1000) ev "$t" create ;;
	*)
		left=$n
		if [ "$n" -ge 10000 ]; then
			ev "$t" create_10000
			left=$((n - 10000))
		fi
		while [ "$left" -gt 0 ]; do
			local c=$((left > 10000 ? 10000 : left))
			ev "$t" insert_top "{\"count\":$c}"
			left=$((left - c))
		done
		;;
	esac
}

# A wrk script POSTing `select` with the ids of the topic's first rows in
# turn; prints the state's row count and size.
select_lua() { # TOPIC LUA
	curl -s --max-time 120 "$U/state/$1" | node -e '
let t = ""; process.stdin.on("data", d => t += d).on("end", () => {
	const st = JSON.parse(t).state;
	const ids = st.rows.slice(0, 10).map(r => r.id);
	require("fs").writeFileSync(process.argv[1],
		"local ids = {" + ids.join(",") + "}\nlocal i = 0\n" +
		"request = function()\n\ti = i % #ids + 1\n" +
		"\treturn wrk.format(\"POST\", nil, {[\"Content-Type\"] = \"application/json\"},\n" +
		"\t\t\"{\\\"event\\\":\\\"select\\\",\\\"payload\\\":{\\\"id\\\":\" .. ids[i] .. \"}}\")\nend\n");
	console.log(st.rows.length + " " + Buffer.byteLength(JSON.stringify(st)));
});' "$2"
}

declare -A ROWS BYTES EVR GETR
for n in $SIZES; do
	make_topic "$n"
	read -r ROWS[$n] BYTES[$n] < <(select_lua "size:$n" "$RUN/select-$n.lua")
	note "topic size:$n: ${ROWS[$n]:-?} rows, state ${BYTES[$n]:-?} bytes"
	# Warm-up: every process of the app loads the topic.
	DURATION=1 wrk_rate "$U/events/size:$n" "$RUN/select-$n.lua" >/dev/null
	DURATION=1 wrk_rate "$U/state/size:$n" >/dev/null
done

# The app's CPU time per request (its processes, every thread): steadier
# than the rates on a shared machine.
APIDS=$(app_pids "$PGID" "$APP")
declare -A EVU GETU GETL
for r in $(seq "$ROUNDS"); do
	line="round $r:"
	for n in $SIZES; do
		c0=$(cpu_ms "$APIDS")
		events_rate "$U/state/size:$n" "$U/events/size:$n" "$RUN/select-$n.lua"
		c1=$(cpu_ms "$APIDS") h1=$(cpu_ms "$PGID")
		g=$(wrk_rate "$U/state/size:$n")
		c2=$(cpu_ms "$APIDS") h2=$(cpu_ms "$PGID")
		EVR[$n]="${EVR[$n]:-} ${EVENTS:-0}"
		GETR[$n]="${GETR[$n]:-} ${g:-0}"
		EVU[$n]="${EVU[$n]:-} $(per_req "$c0" "$c1" "$EV_N")"
		GETU[$n]="${GETU[$n]:-} $(per_req "$c1" "$c2" "$(wrk_total)")"
		GETL[$n]="${GETL[$n]:-} $(per_req "$h1" "$h2" "$(wrk_total)")"
		line="$line  $n rows: ${EVENTS:-?} ev/s ${g:-?} GET/s;"
	done
	note "$line"
done

# median [min-max] of the per-round ratios of KIND at size N to KIND at
# size D (default: the first size).
ratios() { # N KIND [D]
	local n=$1 d=${3:-${SIZES%% *}} vals=() i a b
	local -a xs ys
	eval "xs=(\${$2[$n]})"
	eval "ys=(\${$2[$d]})"
	for i in "${!xs[@]}"; do
		vals+=("$(ratio "${xs[$i]}" "${ys[$i]}" 3)")
	done
	a=$(printf '%s\n' "${vals[@]}" | sort -n | head -1)
	b=$(printf '%s\n' "${vals[@]}" | sort -n | tail -1)
	printf '%s [%s-%s]' "$(median "${vals[@]}")" "$a" "$b"
}
goal() { case $1 in 10000) echo ">= 0.5" ;; 100000) echo ">= 0.25" ;; *) echo "" ;; esac; }

note ""
note "== the state-size curve (medians of $ROUNDS rounds; ratio to ${SIZES%% *} rows: median [min-max] of the rounds)"
note "$(printf '%8s %10s %10s %-22s %10s %-22s %s' rows bytes 'events/s' 'ratio' 'GET/s' 'ratio' 'goal (events, issue 8)')"
for n in $SIZES; do
	# shellcheck disable=SC2086
	note "$(printf '%8s %10s %10s %-22s %10s %-22s %s' "${ROWS[$n]}" "${BYTES[$n]}" \
		"$(median ${EVR[$n]})" "$(ratios "$n" EVR)" "$(median ${GETR[$n]})" "$(ratios "$n" GETR)" "$(goal "$n")")"
done
note ""
note "the app's CPU time per request (median of the rounds; ratio: ${SIZES%% *} rows' ÷ this size's, the rate ratio it allows when the CPU is the limit)"
note "$(printf '%8s %14s %-22s %14s %-22s %s' rows 'us per event' 'ratio' 'us per GET' 'ratio' 'lighttpd us per GET')"
for n in $SIZES; do
	# shellcheck disable=SC2086
	note "$(printf '%8s %14s %-22s %14s %-22s %s' "${ROWS[$n]}" "$(median ${EVU[$n]})" "$(ratios "${SIZES%% *}" EVU "$n")" \
		"$(median ${GETU[$n]})" "$(ratios "${SIZES%% *}" GETU "$n")" "$(median ${GETL[$n]})")"
done

# ---- the first GET /state of the largest topic after a start -------------
BIG=${SIZES##* }
# The first GET after a start of lighttpd and the app, FIRST_ROUNDS
# times, each beside one parse of the snapshot (store_first parse, right
# after it): sets FIRST to "median-GET-ms median-parse-ms median-ratio
# [min-max]"; U, PORT and PGID are then those of the last start.
first_get() {
	local i g p gs=() ps=() rs=()
	FIRST=
	for i in $(seq "$FIRST_ROUNDS"); do
		stop_lighttpd "$PGID"
		start_lighttpd size "$APP" "$PROCS" "$APP_OPTS" || return 1
		U="http://127.0.0.1:$PORT"
		g=$(curl -s -o /dev/null -w '%{time_total}' --max-time 120 "$U/state/size:$BIG" |
			awk '{ printf "%.1f", $1 * 1000 }')
		p=$("$FIRST_BIN" parse "$DB" "size:$BIG" 1)
		gs+=("$g") ps+=("$p") rs+=("$(ratio "$g" "$p")")
	done
	FIRST="$(median "${gs[@]}") ms, parse $(median "${ps[@]}") ms: first GET ÷ parse $(median "${rs[@]}") [$(printf '%s\n' "${rs[@]}" | sort -n | head -1)-$(printf '%s\n' "${rs[@]}" | sort -n | tail -1)]"
}
if [ -x "$FIRST_BIN" ] && [ -x "$CLI" ]; then
	note ""
	note "== the first GET /state of size:$BIG (${BYTES[$BIG]} bytes) after the app starts, ÷ one parse of its snapshot"
	note "   (sc_json_parse, store_first parse, run right after each GET; medians [min-max] of $FIRST_ROUNDS starts; goal <= 2)"
	stop_lighttpd "$PGID"
	"$CLI" --db "$DB" compact >/dev/null || note "  compact failed"
	start_lighttpd size "$APP" "$PROCS" "$APP_OPTS"
	first_get
	note "snapshot alone (after compact):  first GET $FIRST"
	IDS=$(grep -o '{[0-9,]*}' "$RUN/select-$BIG.lua" | tr -d '{}')
	node -e '
const [url, ids] = process.argv.slice(1);
const id = ids.split(",").map(Number);
let left = 1000, n = 0;
async function one() {
	while (left-- > 0) {
		const body = JSON.stringify({event: "select", payload: {id: id[n++ % id.length]}});
		const r = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"}, body});
		await r.text();
	}
}
Promise.all(Array.from({length: 8}, one));' "$U/events/size:$BIG" "$IDS"
	note "  $(sqlite3 "$DB" "SELECT 'after 1,000 events: version ' || version || ', snapshot at version ' || snap_version FROM topics WHERE name = 'size:$BIG'" 2>/dev/null)"
	first_get
	note "snapshot + 1,000 one-op patches: first GET $FIRST"
else
	note "first GET: no $FIRST_BIN or $CLI"
fi
exit 0
