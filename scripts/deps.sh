#!/usr/bin/env bash
# Installs the Debian packages StateChannel needs to build, test and run,
# when they are missing.  Safe to run again: it only installs what is not
# there.  Needs root (or sudo) for apt-get; without it, it prints the
# command to run and fails.
set -euo pipefail

PKGS=(
	build-essential pkg-config clang libclang-rt-14-dev
	libfcgi-dev libjson-c-dev libsqlite3-dev sqlite3 libcmocka-dev
	libpq-dev postgresql
	lighttpd lighttpd-mod-openssl nginx-light libnginx-mod-nchan apache2 libapache2-mod-fcgid openssl
	nodejs npm curl procps psmisc wrk groff-base
)

missing=()
for p in "${PKGS[@]}"; do
	# A nodejs from NodeSource ships npm itself (and conflicts with
	# Debian's npm package): an npm on the PATH is enough.
	if [ "$p" = npm ] && command -v npm >/dev/null; then
		continue
	fi
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "deps: installing missing Debian packages: ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null; then
		SUDO=sudo
	else
		echo "deps: not root; run as root: apt-get install ${missing[*]}" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# Installing web servers or PostgreSQL must not start them system-wide:
# the tests and `make run` start their own (on 127.0.0.1; PostgreSQL on a
# Unix socket in a temp dir, scripts/pg-test.sh).
policy_created=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod +x /usr/sbin/policy-rc.d
	policy_created=1
fi
status=0
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" || status=$?
if [ $policy_created -eq 1 ]; then
	$SUDO rm -f /usr/sbin/policy-rc.d
fi
exit $status
