#!/usr/bin/env bash
# Regenerates the real captures in this folder (needs root, unshare, iproute2, tcpdump, editcap, python3).
# Each capture runs exchange.py inside a fresh network namespace whose only interface is lo (MTU 1280,
# so the 1500-byte UDP datagram is fragmented and TCP data spans several segments).
set -euo pipefail
cd "$(dirname "$0")"

capture() { # capture OUT FAMILY TCPDUMP-ARGS...
  local out=$1 fam=$2
  shift 2
  unshare -n bash -c '
    set -e
    ip link set lo up
    ip link set lo mtu 1280
    tcpdump -U -s 262144 "$@" -w "$0.tmp" 2>/dev/null &
    pid=$!
    sleep 2
    python3 exchange.py '"$fam"'
    sleep 2.5  # > the 1 s packet-buffer timeout, or tcpdump exits before writing them
    kill -INT $pid
    wait $pid || true
  ' "$out" "$@"
  # Usually 17 packets: handshake, 2+1 data segments, FINs and ACKs, 4 UDP datagrams (one in 2 fragments).
  [ "$(tshark -r "$out.tmp" 2>/dev/null | wc -l)" -ge 15 ] || { echo "too few packets in $out: rerun" >&2; exit 1; }
  mv "$out.tmp" "$out"
}

capture lo-ipv4.pcap 4 -i lo                                       # DLT_EN10MB, microseconds
capture lo-ipv6.pcap 6 -i lo --time-stamp-precision=nano             # DLT_EN10MB, nanosecond magic
capture any-ipv6.pcap 6 -i any -y LINUX_SLL                       # LINUX_SLL (cooked v1; tcpdump 4.99 defaults to v2)
capture any-sll2-ipv4.pcap 4 -i any -y LINUX_SLL2                 # LINUX_SLL2 (cooked v2)
editcap -F pcapng lo-ipv6.pcap lo-ipv6.pcapng                      # pcapng, if_tsresol 9
editcap -F pcapng any-sll2-ipv4.pcap any-sll2-ipv4.pcapng          # pcapng, microseconds
