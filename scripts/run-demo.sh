#!/usr/bin/env bash
# `make run`: the shopping-list demo behind lighttpd on 127.0.0.1:PORT.
#   scripts/run-demo.sh BUILD_DIR PORT
# The app (BUILD_DIR/shopping.fcgi, spawned by lighttpd) serves the routes
# at the site root on ./var/statechannel.db; the page is
# examples/shopping/www/ and the client module is served at /client/.
# Stays in the foreground; Ctrl-C or SIGTERM stops lighttpd and the app
# and removes their sockets.
set -euo pipefail
B=${1:-build}
PORT=${2:-8080}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
B=$(cd "$B" && pwd)
APP="$B/shopping.fcgi"
CLI="$B/statechannel"
DB="$ROOT/var/statechannel.db"
LIGHTTPD=$(command -v lighttpd || echo /usr/sbin/lighttpd)

if [ ! -x "$APP" ]; then
	echo "run: no $APP (make builds it)" >&2
	exit 1
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
	echo "run: 127.0.0.1:$PORT is in use; choose another: make run PORT=8081" >&2
	exit 1
fi

# solid.html and vue.html load Solid and Vue from client/node_modules
# (best effort: the plain page and element.html need nothing).
if [ ! -d "$ROOT/client/node_modules/solid-js" ] && command -v npm >/dev/null; then
	(cd "$ROOT/client" && npm ci --no-audit --no-fund --loglevel=error) ||
		echo "run: npm ci in client/ failed: solid.html and vue.html will not load" >&2
fi
mkdir -p "$ROOT/var"
if [ -x "$CLI" ] && grep -qE '^[[:space:]]+init\b' <<<"$("$CLI" --help 2>&1)"; then
	"$CLI" --db "$DB" init >/dev/null
fi
# lighttpd never runs as root (server.username): started as root, the
# demo runs as www-data, which is given ./var (the database) and the
# temp dir below.
if [ "$(id -u)" -eq 0 ]; then
	RUNUSER=www-data RUNGROUP=www-data
	chown -R www-data:www-data "$ROOT/var"
else
	RUNUSER=$(id -un) RUNGROUP=$(id -gn)
fi

# The rendered config, lighttpd's log and the app's sockets: a temp dir
# removed on the way out (the log is kept as var/lighttpd-error.log).
RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/statechannel-run.XXXXXX")
chmod 755 "$RUNDIR"
[ "$RUNUSER" = "$(id -un)" ] || chown "$RUNUSER:$RUNGROUP" "$RUNDIR"
DOCROOT="$ROOT/examples/shopping/www"
if [ ! -f "$DOCROOT/index.html" ]; then
	DOCROOT="$RUNDIR/www"
	mkdir -p "$DOCROOT"
	cat >"$DOCROOT/index.html" <<'HTML'
<!doctype html><meta charset="utf-8"><title>StateChannel</title>
<p>The demo page (examples/shopping/www/) is not there yet: try the curl
commands that <code>make run</code> printed.</p>
HTML
fi

"$ROOT/deploy/render.sh" "$ROOT/deploy/lighttpd/statechannel.conf.in" \
	PORT="$PORT" HOST=127.0.0.1 RUNDIR="$RUNDIR" APP="$APP" DB="$DB" \
	PREFIX=/ PROCS=2 DOCROOT="$DOCROOT" CLIENT_DIR="$ROOT/client" \
	HEARTBEAT=15 STREAM_LIFE=0 BODY_LIMIT=1048576 MAX_STREAMS=2500 \
		ERRORS="$ROOT/deploy/errors" USER="$RUNUSER" GROUP="$RUNGROUP" \
		APP_ARGS="--health --metrics" >"$RUNDIR/lighttpd.conf"
"$LIGHTTPD" -tt -f "$RUNDIR/lighttpd.conf" >/dev/null

pid=
# Whether a process of group $1 is still running (zombies do not count).
group_alive() {
	ps -eo pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }'
}
stop() {
	trap - INT TERM EXIT
	if [ -n "$pid" ]; then
		# lighttpd and the app processes it spawned share one group.
		kill -TERM -- "-$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			group_alive "$pid" || break
			sleep 0.1
		done
		kill -KILL -- "-$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	cp -f "$RUNDIR/lighttpd-error.log" "$ROOT/var/lighttpd-error.log" 2>/dev/null || true
	rm -rf "$RUNDIR"
	echo "run: stopped"
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

setsid "$LIGHTTPD" -D -f "$RUNDIR/lighttpd.conf" &
pid=$!
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "run: lighttpd did not start:" >&2
		cat "$RUNDIR/lighttpd-error.log" >&2 || true
		exit 1
	fi
	sleep 0.1
done

U="http://127.0.0.1:$PORT"
cat <<EOF2
StateChannel demo: lighttpd on $U, the shopping list on $DB

  the page       $U/
  the state      curl -s $U/state/list:groceries
  the stream     curl -sN $U/stream/list:groceries
  an event       curl -s -H 'Content-Type: application/json' \\
                   -d '{"event":"add","payload":{"name":"Milk","quantity":2}}' \\
                   $U/events/list:groceries
  from outside   echo '[{"op":"add","path":"/items/-","value":{"id":"x1","name":"Tea","quantity":1,"bought":false}}]' \\
                   | $CLI --db $DB patch list:groceries -

lighttpd's log: $RUNDIR/lighttpd-error.log (kept as var/lighttpd-error.log)
Ctrl-C stops it.
EOF2
wait "$pid" || true
