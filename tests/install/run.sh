#!/usr/bin/env bash
# make install-check: installs StateChannel into a temporary DESTDIR with
# a PREFIX of its own, then, as a user would, outside the source tree:
#   - builds README's example app with `pkg-config --cflags --libs
#     statechannel` (shared library) and statically, from the installed
#     headers alone;
#   - runs it behind the installed lighttpd template (its header names the
#     installed paths) and speaks HTTP to it; the installed `statechannel`
#     command sees its change;
#   - checks --version, the man pages, the systemd unit's paths;
# then `make uninstall` must leave no file behind.
#   tests/install/run.sh BUILD_DIR
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/scripts/test-common.sh"
sc_build_dir install "${1:-}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sc-install.XXXXXX")
lpid=
cleanup() {
	[ -z "$lpid" ] || kill -TERM -- "-$lpid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "install-check: FAILED: $*" >&2
	[ ! -f "$tmp/run/lighttpd-error.log" ] || tail -20 "$tmp/run/lighttpd-error.log" >&2
	exit 1
}

PREFIX=/opt/statechannel-test
DEST="$tmp/dest"
P="$DEST$PREFIX"
make -s -C "$ROOT" B="$B" PREFIX="$PREFIX" DESTDIR="$DEST" install >/dev/null
version=$(sed -n 's/^#define SC_VERSION "\(.*\)"/\1/p' "$P/include/statechannel/version.h")
[ -n "$version" ] || fail "no SC_VERSION in the installed version.h"
echo "install-check: installed $version under DESTDIR=$DEST PREFIX=$PREFIX"

for f in bin/statechannel lib/libstatechannel.a "lib/libstatechannel.so.$version" \
	lib/libstatechannel.so lib/pkgconfig/statechannel.pc \
	include/statechannel/statechannel.h include/statechannel/error.h \
	lib/statechannel/shopping.fcgi share/man/man1/statechannel.1 \
	share/man/man3/statechannel.3 share/statechannel/deploy/render.sh \
	share/statechannel/deploy/lighttpd/statechannel.conf.in \
	share/statechannel/client/src/index.js share/doc/statechannel/protocol.md \
	share/statechannel/examples/shopping/www/index.html \
	lib/systemd/system/statechannel.service; do
	[ -e "$P/$f" ] || fail "$f is not installed"
done
# The headers need nothing from the source tree.
for h in $(grep -ho '#include "[^"]*"' "$P"/include/statechannel/*.h | sed 's/.*"\(.*\)"/\1/' | sort -u); do
	[ -e "$P/include/statechannel/$h" ] || { echo "include \"$h\""; bad_include=1; }
done
if [ -n "${bad_include:-}" ]; then
	fail "an installed header includes a file that is not installed"
fi
# The unit and the templates name the installed paths, not the default.
grep -q "^ExecStart=$PREFIX/lib/statechannel/shopping.fcgi" "$P/lib/systemd/system/statechannel.service" ||
	fail "the systemd unit does not run $PREFIX/lib/statechannel/shopping.fcgi"
! grep -rq /usr/local "$P/lib/systemd" "$P/share/statechannel/deploy" "$P/share/man" ||
	fail "an installed file still names /usr/local"
for page in "$P/share/man/man1/statechannel.1" "$P/share/man/man3/statechannel.3"; do
	warn=$(groff -man -ww -z "$page" 2>&1) || fail "groff $page"
	[ -z "$warn" ] || fail "groff warns on $page: $warn"
done

# README's example, built in a directory of its own.
mkdir -p "$tmp/hello" "$tmp/run/www" "$tmp/run/db"
awk '/^```c$/ { f = 1; next } /^```$/ { if (f) exit } f' "$ROOT/README.md" >"$tmp/hello/app.c"
grep -q '#include <statechannel/statechannel.h>' "$tmp/hello/app.c" || fail "README's example does not include <statechannel/statechannel.h>"
export PKG_CONFIG_PATH="$P/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$DEST"
[ "$(pkg-config --modversion statechannel)" = "$version" ] || fail "pkg-config --modversion"
cd "$tmp/hello"
# shellcheck disable=SC2046
cc -std=c17 -Wall -Wextra -Werror -o hello.fcgi app.c $(pkg-config --cflags --libs statechannel) ||
	fail "README's example does not build with pkg-config"
# shellcheck disable=SC2046
cc -std=c17 -Wall -Wextra -Werror -o hello-static.fcgi app.c \
	$(pkg-config --cflags statechannel) \
	$(pkg-config --static --libs statechannel | sed 's/-lstatechannel/-l:libstatechannel.a/') ||
	fail "README's example does not build statically"
# Outputs are read whole before grep -q looks at them: under pipefail, a
# grep -q that stops at its match can fail the pipe (SIGPIPE upstream).
grep -q libstatechannel.so.0 <<<"$(ldd hello.fcgi)" ||
	fail "hello.fcgi does not use the shared library"
! grep -q libstatechannel <<<"$(ldd hello-static.fcgi)" || fail "hello-static.fcgi uses the shared library"
export LD_LIBRARY_PATH="$P/lib"
grep -qx "./hello.fcgi (StateChannel) $version" <<<"$(./hello.fcgi --version)" || fail "hello.fcgi --version"
grep -q "$version" <<<"$(./hello-static.fcgi --version)" || fail "hello-static.fcgi --version"
grep -qx "statechannel $version" <<<"$("$P/bin/statechannel" --version)" || fail "statechannel --version"
grep -q "$version" <<<"$("$P/lib/statechannel/shopping.fcgi" --version)" || fail "shopping.fcgi --version"
nm -D --defined-only "$P/lib/libstatechannel.so" | grep ' T ' | grep -v ' sc_' &&
	fail "the shared library exports more than the API"

# Behind lighttpd, with the installed template and render.sh.
user=$(id -un) group=$(id -gn)
if [ "$(id -u)" -eq 0 ]; then
	user=www-data group=www-data
fi
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
"$P/share/statechannel/deploy/render.sh" "$P/share/statechannel/deploy/lighttpd/statechannel.conf.in" \
	PORT="$port" HOST=127.0.0.1 RUNDIR="$tmp/run" APP="$tmp/hello/hello-static.fcgi" \
	DB="$tmp/run/db/hello.db" PREFIX=/ PROCS=1 DOCROOT="$tmp/run/www" \
	CLIENT_DIR="$P/share/statechannel/client" HEARTBEAT=15 STREAM_LIFE=0 \
	BODY_LIMIT=65536 USER="$user" GROUP="$group" APP_ARGS="--health" \
	MAX_STREAMS=100 ERRORS="$P/share/statechannel/deploy/errors" >"$tmp/run/lighttpd.conf"
echo '<!doctype html><title>hello</title>' >"$tmp/run/www/index.html"
chmod 755 "$tmp" "$tmp/hello" "$tmp/hello/hello-static.fcgi"
[ "$user" = "$(id -un)" ] || chown -R "$user:$group" "$tmp/run"
setsid /usr/sbin/lighttpd -D -f "$tmp/run/lighttpd.conf" >"$tmp/run/lighttpd.out" 2>&1 &
lpid=$!
for _ in $(seq 100); do
	curl -s -o /dev/null "http://127.0.0.1:$port/" && break
	sleep 0.1
done
u="http://127.0.0.1:$port"
check() { # WHAT WANT GOT
	[ "$2" = "$3" ] || fail "$1: want $2, got $3"
}
got=$(curl -s "$u/state/app:state")
case "$got" in
'{"topic":"app:state","version":0,"cursor":"'*'","state":{"greeting":"Hi"}}') ;;
*) fail "GET /state/app:state: $got" ;;
esac
check "GET /state/other (init_state NULL)" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$u/state/other")"
check "POST change_state" 200 "$(curl -s -o "$tmp/post.json" -w '%{http_code}' \
	-H 'Content-Type: application/json' -d '{"event":"change_state"}' "$u/events/app:state")"
grep -qF '"patch":[{"op":"replace","path":"/greeting","value":"Hello, C!"}]' "$tmp/post.json" ||
	fail "POST answer: $(cat "$tmp/post.json")"
check "POST an unknown event" 422 "$(curl -s -o /dev/null -w '%{http_code}' \
	-H 'Content-Type: application/json' -d '{"event":"nope"}' "$u/events/app:state")"
check "GET /health" '{"status":"ok"}' "$(curl -s "$u/health")"
check "GET /client/src/index.js" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$u/client/src/index.js")"
got=$("$P/bin/statechannel" --db "$tmp/run/db/hello.db" get app:state)
case "$got" in
*'"state":{"greeting":"Hello, C!"}'*) ;;
*) fail "statechannel get: $got" ;;
esac
kill -TERM -- "-$lpid"
wait "$lpid" 2>/dev/null || true
lpid=

cd "$ROOT"
make -s -C "$ROOT" B="$B" PREFIX="$PREFIX" DESTDIR="$DEST" uninstall >/dev/null
left=$(find "$DEST" -type f -o -type l)
[ -z "$left" ] || fail "make uninstall left: $left"
echo "install-check: ok (shared and static builds of README's example, served by the installed lighttpd template; uninstall leaves nothing)"
