#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests and benchmarks: initdb into
# a directory of its own, Unix socket only (listen_addresses = ''), no
# system service, no TCP port.  Debian's PostgreSQL 15 (scripts/deps.sh
# installs it); SC_PG_BIN names another bin directory.
#
#   pg-test.sh start [--fast] [SERVER]  init DIR (a new temp dir when none) if
#                                    it holds no cluster, start the server,
#                                    wait until it accepts connections and
#                                    print the URI of its database
#                                    "statechannel" (made on init)
#   pg-test.sh stop SERVER [MODE]    stop it (pg_ctl -m MODE, default fast);
#                                    the cluster stays: start brings it back
#   pg-test.sh restart SERVER [MODE] pg_ctl restart -m MODE (fast, immediate)
#   pg-test.sh clean SERVER          stop it (kill it if it will not stop)
#                                    and remove DIR
#   pg-test.sh uri SERVER            print the URI again
#   pg-test.sh newdb SERVER NAME     (re)create database NAME, print its URI
#   pg-test.sh dropdb SERVER NAME    drop database NAME (its sessions too)
#   pg-test.sh psql SERVER [ARG...]  psql on the database "statechannel"
#   pg-test.sh run [--fast] CMD...   start a server in a new temp dir, run
#                                    CMD with SC_TEST_PG set to its URI
#                                    (and SC_PG_SCRIPT to this script),
#                                    then clean, also when CMD fails or the
#                                    run is interrupted; exits with CMD's
#                                    status
#
# SERVER is the DIR or the URI start printed: the URI's host parameter is
# the DIR (the socket lives there), e.g.
#   postgresql:///statechannel?host=/tmp/sc-pg.Ab12Cd&port=5432&user=sc
# newdb and dropdb also take the URI of any server of yours (a role with
# CREATEDB), whose database part they replace.
#
# --fast turns fsync and full_page_writes off: nothing committed is lost
# when a server process is killed (pg_ctl -m immediate, kill -9), only
# when the machine itself goes down; the tests use it, the benchmarks do
# not.  synchronous_commit stays on, so a commit that returned is in the
# WAL and a crash test can count on it.
#
# Run as root, the server runs as the user "postgres" that Debian's
# postgresql-common package makes (else "nobody"; SC_PG_USER to choose):
# initdb and postgres refuse root.  DIR is made theirs and world-readable
# (mode 0755), so app processes running as another user (www-data) can
# reach the socket; the roles authenticate by "trust": a test server.
set -euo pipefail

SC_PG_SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
PG_PORT=5432
PG_ROLE=sc
PG_DB=statechannel

die() {
	echo "pg-test: $*" >&2
	exit 1
}

pg_bin() {
	local d
	for d in "${SC_PG_BIN:-}" /usr/lib/postgresql/15/bin \
		"$(pg_config --bindir 2>/dev/null || true)" \
		$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
		if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
			return
		fi
	done
	die "no PostgreSQL server binaries (initdb, pg_ctl): run scripts/deps.sh"
}

pg_user() {
	[ "$(id -u)" -eq 0 ] || return 0
	if [ -n "${SC_PG_USER:-}" ]; then
		echo "$SC_PG_USER"
	elif id postgres >/dev/null 2>&1; then
		echo postgres
	else
		echo nobody
	fi
}

# Runs a command as the server's user (unchanged when not root), from /
# (the caller's directory may be out of that user's reach).
as_pg() {
	local u
	u=$(pg_user)
	if [ -n "$u" ]; then
		(cd / && setpriv --reuid="$u" --regid="$u" --clear-groups -- "$@")
	else
		(cd / && "$@")
	fi
}

# The DIR of a SERVER argument (a DIR, or a URI whose host= is the DIR).
dir_of() {
	local s=$1 h
	case $s in
	postgres://* | postgresql://*)
		h=$(sed -n 's/.*[?&]host=\([^&]*\).*/\1/p' <<<"$s")
		[ -n "$h" ] || die "$s: not a URI of pg-test.sh (no host=DIR)"
		echo "$h"
		;;
	*) echo "$s" ;;
	esac
}

# The URI of database db on the server whose URI or DIR is base.
uri_for() {
	local base=$1 db=$2 scheme rest auth query=
	case $base in
	postgres://* | postgresql://*) ;;
	*) base=$(cat "$base/uri") ;;
	esac
	scheme=${base%%://*}
	rest=${base#*://}
	case $rest in
	*\?*)
		query="?${rest#*\?}"
		rest=${rest%%\?*}
		;;
	esac
	auth=${rest%%/*}
	echo "$scheme://$auth/$db$query"
}

check_name() {
	[[ $1 =~ ^[a-z_][a-z0-9_]{0,62}$ ]] ||
		die "database name '$1': use [a-z_][a-z0-9_]*, at most 63"
}

# psql on database db of server; the rest are psql's arguments.
psql_on() {
	local server=$1 db=$2
	shift 2
	PGOPTIONS='-c client_min_messages=warning' "$(pg_bin)/psql" -X -q \
		-v ON_ERROR_STOP=1 -d "$(uri_for "$server" "$db")" "$@"
}

running() {
	local pid
	[ -f "$1/data/postmaster.pid" ] || return 1
	pid=$(head -n 1 "$1/data/postmaster.pid")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

init_cluster() {
	local dir=$1 fast=$2 u bin
	bin=$(pg_bin)
	u=$(pg_user)
	[ ${#dir} -le 80 ] || die "$dir: too long for a Unix socket path"
	mkdir -p "$dir"
	chmod 0755 "$dir"
	[ -z "$u" ] || chown "$u:" "$dir"
	as_pg "$bin/initdb" -D "$dir/data" -U "$PG_ROLE" -A trust -E UTF8 \
		--locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; die "initdb failed in $dir"; }
	{
		echo "# pg-test.sh: a test server, Unix socket only"
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$dir'"
		echo "port = $PG_PORT"
		echo "max_connections = 200"
		echo "shared_buffers = 64MB"
		echo "log_min_messages = warning"
		echo "log_line_prefix = '%m [%p] '"
		if [ "$fast" = 1 ]; then
			echo "fsync = off"
			echo "full_page_writes = off"
		fi
	} | as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
	echo "postgresql:///$PG_DB?host=$dir&port=$PG_PORT&user=$PG_ROLE" |
		as_pg tee "$dir/uri" >/dev/null
}

cmd_start() {
	local fast=0 dir new=0
	if [ "${1:-}" = --fast ]; then
		fast=1
		shift
	fi
	if [ $# -ge 1 ]; then
		dir=$(dir_of "$1")
	else
		dir=$(mktemp -d "${TMPDIR:-/tmp}/sc-pg.XXXXXX")
	fi
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		init_cluster "$dir" "$fast"
		new=1
	fi
	if ! running "$dir"; then
		as_pg "$(pg_bin)/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" \
			-w -t 60 start >/dev/null ||
			{ tail -n 30 "$dir/postgres.log" >&2; die "the server in $dir did not start"; }
	fi
	if [ $new -eq 1 ]; then
		psql_on "$dir" postgres -c "CREATE DATABASE $PG_DB"
	fi
	cat "$dir/uri"
}

cmd_stop() {
	local dir
	dir=$(dir_of "$1")
	running "$dir" || return 0
	as_pg "$(pg_bin)/pg_ctl" -D "$dir/data" -m "${2:-fast}" -w -t 60 stop >/dev/null
}

cmd_restart() {
	local dir
	dir=$(dir_of "$1")
	as_pg "$(pg_bin)/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" \
		-m "${2:-fast}" -w -t 60 restart >/dev/null
}

cmd_clean() {
	local dir pid
	dir=$(dir_of "$1")
	[ -d "$dir" ] || return 0
	[ -f "$dir/uri" ] || [ -d "$dir/data" ] ||
		die "$dir does not look like a pg-test.sh server: not removing it"
	if running "$dir"; then
		cmd_stop "$dir" immediate 2>/dev/null || true
	fi
	if running "$dir"; then
		pid=$(head -n 1 "$dir/data/postmaster.pid")
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -rf "$dir"
}

cmd_newdb() {
	check_name "$2"
	psql_on "$1" postgres -c "DROP DATABASE IF EXISTS $2 WITH (FORCE)" \
		-c "CREATE DATABASE $2"
	uri_for "$1" "$2"
}

cmd_dropdb() {
	check_name "$2"
	psql_on "$1" postgres -c "DROP DATABASE IF EXISTS $2 WITH (FORCE)"
}

cmd_run() {
	local fast=() uri status=0
	if [ "${1:-}" = --fast ]; then
		fast=(--fast)
		shift
	fi
	[ $# -ge 1 ] || die "run: no command"
	RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sc-pg.XXXXXX")
	trap 'cmd_clean "$RUN_DIR"' EXIT
	trap 'exit 130' INT TERM HUP
	uri=$(cmd_start "${fast[@]}" "$RUN_DIR")
	SC_TEST_PG=$uri SC_PG_SCRIPT=$SC_PG_SELF "$@" || status=$?
	return $status
}

[ $# -ge 1 ] || die "usage: pg-test.sh start|stop|restart|clean|uri|newdb|dropdb|psql|run ..."
cmd=$1
shift
case $cmd in
start) cmd_start "$@" ;;
stop | restart | clean | uri | psql)
	[ $# -ge 1 ] || die "$cmd: which server (DIR or URI)?"
	case $cmd in
	stop) cmd_stop "$@" ;;
	restart) cmd_restart "$@" ;;
	clean) cmd_clean "$1" ;;
	uri) cat "$(dir_of "$1")/uri" ;;
	psql)
		s=$1
		shift
		psql_on "$s" "$PG_DB" "$@"
		;;
	esac
	;;
newdb | dropdb)
	[ $# -eq 2 ] || die "$cmd SERVER NAME"
	"cmd_$cmd" "$1" "$2"
	;;
run) cmd_run "$@" ;;
*) die "unknown command $cmd" ;;
esac
