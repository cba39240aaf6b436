#!/usr/bin/env bash
# Regenerates the protocol modules oncrpc itself uses (src/rpcbind/*.gen.ts) from their .x files with
# `oncrpc gen`; spec/rpcbind/protocols.test.ts checks the committed files are what this produces.
set -euo pipefail
cd "$(dirname "$0")/.."
node bin/oncrpc.js gen --runtime ../runtime.js src/rpcbind/pmap-prot.x src/rpcbind/rpcb-prot.x
