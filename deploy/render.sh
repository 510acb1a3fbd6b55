#!/usr/bin/env bash
# Renders a config template of deploy/: every @NAME@ becomes the value of
# a NAME=VALUE argument.  Fails when a placeholder is left without a value.
#   deploy/render.sh TEMPLATE NAME=VALUE... > CONFIG
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 TEMPLATE NAME=VALUE..." >&2; exit 2; }
tmpl=$1
shift
text=$(cat "$tmpl")
for kv in "$@"; do
	name=${kv%%=*}
	value=${kv#*=}
	text=${text//@"$name"@/"$value"}
done
if left=$(grep -o '@[A-Z_][A-Z0-9_]*@' <<<"$text" | sort -u | tr '\n' ' ') &&
	[ -n "$left" ]; then
	echo "render: no value for $left" >&2
	exit 2
fi
printf '%s\n' "$text"
