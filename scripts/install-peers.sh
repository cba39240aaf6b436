#!/usr/bin/env bash
# Installs the real C programs the interop tests run against (rpcbind, rpcinfo, rpcgen, libtirpc, a C
# compiler, tcpdump, tshark, strace) when any is missing. Runs before `npm test`. Needs root to install;
# without root it only reports what is missing (tests then fail under CI=true and skip those checks otherwise).
set -euo pipefail
pkgs=(rpcbind libtirpc-dev rpcsvc-proto gcc libc6-dev tcpdump tshark strace iproute2 python3)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-peers: missing Debian packages: ${missing[*]} (run as root to install them)" >&2
  exit 0
fi
echo "install-peers: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
