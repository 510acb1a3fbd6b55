#!/usr/bin/env bash
# make client-pack: the client as users get it.  `npm pack` of client/,
# then the tarball installed into two empty projects — one with every
# peer dependency (React...), one with none — where:
#   - every subpath of "exports" is imported in node; without its peer a
#     framework subpath fails for that peer only, the others import;
#   - each subpath's .d.ts declares exactly the values the module exports
#     at run time (check.mjs, with the TypeScript compiler API);
#   - `tsc --noEmit` (strict, NodeNext) compiles a file importing every
#     subpath that the project can use;
# and the Next.js example's installed copy is that package (copied, not
# linked; the same files as the tarball).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
here="$ROOT/tests/client-pack"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sc-client-pack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
npmq() { npm --no-audit --no-fund --prefer-offline --loglevel=error "$@"; }

tgz=$(cd "$ROOT/client" && npm pack --silent --pack-destination "$tmp" | tail -n 1)
tgz="$tmp/$tgz"
echo "client-pack: $(basename "$tgz")"
# What the peers are, and TypeScript at the version the client tests use.
peers=$(node -e 'const p=require(process.argv[1]);console.log(Object.entries(p.peerDependencies||{}).map(([n,v])=>`${n}@${v}`).join(" "))' "$ROOT/client/package.json")
ts=$(node -e 'const p=require(process.argv[1]);console.log(`typescript@${p.devDependencies.typescript}`)' "$ROOT/client/package.json")
types=
case " $peers " in *" react@"*) types="@types/react@^19" ;; esac

for kind in with-peers without-peers; do
	dir="$tmp/$kind"
	mkdir -p "$dir"
	(
		cd "$dir"
		echo '{"name":"empty-project","version":"1.0.0","private":true,"type":"module"}' >package.json
		if [ "$kind" = with-peers ]; then
			# shellcheck disable=SC2086
			npmq install "$tgz" $peers $types "$ts"
		else
			npmq install "$tgz" "$ts"
		fi
		[ ! -L node_modules/statechannel-client ] || { echo "client-pack: installed as a link" >&2; exit 1; }
		cp "$here/check.mjs" .
		node check.mjs "$kind"
	)
done

# The Next.js example installs the same package (install-links: a copy
# made the way npm pack makes it).
next="$ROOT/examples/nextjs"
if [ ! -d "$next/node_modules" ]; then
	(cd "$next" && npmq ci)
fi
inst="$next/node_modules/statechannel-client"
[ -d "$inst" ] && [ ! -L "$inst" ] || { echo "client-pack: examples/nextjs has no copied statechannel-client" >&2; exit 1; }
want=$(tar -tzf "$tgz" | sed 's|^package/||' | sort)
got=$(cd "$inst" && find . -type f | sed 's|^\./||' | sort)
if [ "$want" != "$got" ]; then
	echo "client-pack: examples/nextjs's statechannel-client differs from the tarball:" >&2
	diff <(echo "$want") <(echo "$got") >&2 || true
	exit 1
fi
echo "client-pack: ok (both projects; examples/nextjs has the packed files)"
