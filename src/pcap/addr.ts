// Formats IPv4 addresses as dotted quads and IPv6 addresses in RFC 5952 canonical text form.

/** Formats the 4 bytes at `off` as `a.b.c.d`. The caller guarantees they exist. */
export function formatIPv4(bytes: Uint8Array, off = 0): string {
  return `${bytes[off]}.${bytes[off + 1]}.${bytes[off + 2]}.${bytes[off + 3]}`;
}

/**
 * Formats the 16 bytes at `off` per RFC 5952: lowercase hex, no leading zeros, the longest run
 * (first if tied) of two or more zero groups shortened to `::`, IPv4-mapped addresses as `::ffff:a.b.c.d`.
 * The caller guarantees the bytes exist.
 */
export function formatIPv6(bytes: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((bytes[off + 2 * i]! << 8) | bytes[off + 2 * i + 1]!);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIPv4(bytes, off + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string => g.slice(from, to).map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/** An address and port as text: `a.b.c.d:port`, or `[v6]:port` for IPv6 (RFC 5952 §6). */
export function formatEndpoint(e: { readonly addr: string; readonly port: number }): string {
  return e.addr.includes(':') ? `[${e.addr}]:${e.port}` : `${e.addr}:${e.port}`;
}
