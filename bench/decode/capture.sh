#!/bin/bash
# capture.sh OUT.pcap MEGABYTES -- a capture of real libtirpc traffic for the decode bench.
#
# Builds fixtures/x/alltypes.x with rpcgen (the C server of fixtures/c/alltypes_server.c and
# bench/decode/loadgen.c) in a mktemp dir, then, as PID 1 of private net/mount/uts/ipc/pid
# namespaces (only lo, a private /run: ../shared/LAB.md), starts rpcbind and the server, and captures
# lo with tcpdump while rounds of loadgen clients (2 over TCP, 2 over UDP, in parallel) call the
# server, until the capture holds MEGABYTES. Prints the server's ports as JSON on the last line:
#   {"tcp": PORT, "udp": PORT, "packets": N, "dropped": N}
# Needs root, rpcgen, cc, libtirpc-dev, rpcbind, rpcinfo, tcpdump, unshare, ip.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PROG=541089920

if [ "${1:-}" != "--inside" ]; then
    [ $# = 2 ] || { echo "usage: $0 OUT.pcap MEGABYTES" >&2; exit 2; }
    [ "$(id -u)" = 0 ] || { echo "capture.sh: must run as root (namespaces, tcpdump, rpcbind)" >&2; exit 1; }
    OUT=$(readlink -f "$1")
    BUILD=$(mktemp -d /tmp/oncrpc-bench-decode.XXXXXX)
    trap 'rm -rf "$BUILD"' EXIT
    cp "$ROOT/fixtures/x/alltypes.x" "$ROOT/fixtures/c/alltypes_server.c" "$HERE/loadgen.c" "$BUILD/"
    (
        cd "$BUILD"
        rpcgen alltypes.x
        CFLAGS="-O2 -I/usr/include/tirpc"
        cc $CFLAGS -w -c alltypes_xdr.c alltypes_clnt.c alltypes_svc.c
        cc $CFLAGS -Wall -Wno-format-truncation -c alltypes_server.c loadgen.c
        cc -o alltypes_server alltypes_svc.o alltypes_server.o alltypes_xdr.o -ltirpc
        cc -o loadgen loadgen.o alltypes_clnt.o alltypes_xdr.o -ltirpc
    ) >&2
    exec unshare --net --mount --uts --ipc --pid --fork --kill-child --mount-proc \
        bash "$HERE/capture.sh" --inside "$BUILD" "$OUT" "$2"
fi

BUILD=$2
OUT=$3
MB=$4
[ "$$" = 1 ] || { echo "capture.sh --inside must be PID 1 of a new pid namespace" >&2; exit 1; }
trap 'kill -TERM -1 2>/dev/null || true' EXIT
mount --make-rprivate /
mount -t tmpfs -o mode=0755 tmpfs /run
ip link set lo up
hostname oncrpc-bench

RPCBIND=$(command -v rpcbind || echo /sbin/rpcbind)
"$RPCBIND" -w -f &
for _ in $(seq 200); do [ -S /run/rpcbind.sock ] && break; sleep 0.025; done
"$BUILD/alltypes_server" &
for _ in $(seq 200); do
    [ "$(rpcinfo -p 2>/dev/null | grep -c "^ *$PROG ")" = 2 ] && break
    sleep 0.025
done
TCP=$(rpcinfo -p | awk -v p=$PROG '$1 == p && $3 == "tcp" { print $4 }')
UDP=$(rpcinfo -p | awk -v p=$PROG '$1 == p && $3 == "udp" { print $4 }')

ERR="$BUILD/tcpdump.err"
tcpdump -i lo -s 0 -B 262144 -w "$OUT" -Z root 2>"$ERR" &
TPID=$!
for _ in $(seq 200); do grep -q 'listening on' "$ERR" && break; sleep 0.02; done
round=0
while [ $(( $(stat -c %s "$OUT") / 1048576 )) -lt "$MB" ]; do
    round=$((round + 1))
    pids=()
    for i in 1 2 3 4; do
        proto=tcp; [ $i -gt 2 ] && proto=udp
        "$BUILD/loadgen" 127.0.0.1 $proto 20000 $((round * 4 + i)) >/dev/null &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
done
sleep 0.5
kill -INT "$TPID"
wait "$TPID" || true
PACKETS=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$ERR")
DROPPED=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$ERR")
printf '{"tcp": %s, "udp": %s, "packets": %s, "dropped": %s}\n' "$TCP" "$UDP" "${PACKETS:-0}" "${DROPPED:-0}"
