#!/usr/bin/env bash
# Builds oncrpc's native addon (native/oncrpc_native.c -> build/Release/oncrpc_native.node) with node-gyp,
# against the headers installed with the running Node (<prefix>/include/node): nothing is downloaded.
# Run by `npm ci` / `npm install` (the package's "install" script). It never fails the install: without
# a compiler (or on a system other than Linux) it prints a notice and exits 0, and the runtime falls back
# (src/transport/native.ts: nativeAvailable() is false). Under CI=true the tests then fail.
#   ONCRPC_SKIP_NATIVE=1   do not build (the same fallback).
set -u
cd "$(dirname "$0")/.." || exit 0
out=build/Release/oncrpc_native.node

notice() {
  echo "oncrpc: NOTICE: the native addon was not built: $*" >&2
  echo "oncrpc: NOTICE: peer credentials of unix-socket callers and UDP replies from the address a request" >&2
  echo "oncrpc: NOTICE: was sent to are unavailable; oncrpc works without them. To build it later: install" >&2
  echo "oncrpc: NOTICE: a C compiler, make and python3, then run 'bash scripts/build-native.sh' here." >&2
  exit 0
}

[ "${ONCRPC_SKIP_NATIVE:-}" = 1 ] && notice "ONCRPC_SKIP_NATIVE=1"
[ "$(uname -s)" = Linux ] || notice "it is Linux-only (this is $(uname -s))"
node=$(command -v node) || notice "node is not on PATH"

# node-gyp: the one npm runs scripts with, else the one npm ships.
gyp=${npm_config_node_gyp:-}
if [ -z "$gyp" ] || [ ! -f "$gyp" ]; then
  gyp=""
  npm_dir=$(dirname "$(readlink -f "$node")")/../lib/node_modules/npm
  for c in "$npm_dir/node_modules/node-gyp/bin/node-gyp.js" /usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js \
    /usr/share/nodejs/node-gyp/bin/node-gyp.js; do
    [ -f "$c" ] && gyp=$c && break
  done
fi
[ -n "$gyp" ] || notice "node-gyp was not found (it ships with npm)"

# Headers: an explicit nodedir (npm config or environment) wins; else those installed with this Node.
args=(rebuild)
if [ -z "${npm_config_nodedir:-}" ]; then
  prefix=$(cd "$(dirname "$(readlink -f "$node")")/.." && pwd)
  if [ -f "$prefix/include/node/node_api.h" ] && [ -f "$prefix/include/node/common.gypi" ]; then
    args+=("--nodedir=$prefix")
  else
    notice "Node's headers are not in $prefix/include/node (node-gyp would have to download them)"
  fi
fi

for tool in "${CC:-cc}" make; do
  command -v "$tool" >/dev/null 2>&1 || notice "'$tool' is not installed (apt-get install gcc make)"
done
command -v python3 >/dev/null 2>&1 || notice "python3 is not installed (node-gyp needs it)"

mkdir -p build
log=$(mktemp)
if ! "$node" "$gyp" "${args[@]}" >"$log" 2>&1; then
  tail -n 25 "$log" >&2
  rm -f "$log"
  notice "node-gyp failed (output above)"
fi
rm -f "$log"
if ! "$node" -e 'require(process.argv[1])' "$PWD/$out" 2>/dev/null; then
  notice "$out was built but does not load"
fi
echo "oncrpc: native addon built: $out" >&2
