// Parses IPv4 and IPv6 headers (IPv6 extension headers skipped), reporting fragments and truncation.
import { formatIPv4, formatIPv6 } from './addr.js';

/** A parse outcome: the value, or why the bytes could not be parsed. Parsers here never throw. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Where a fragment sits in its original datagram. */
export interface IpFragment {
  /** IPv4 identification (16 bits) or IPv6 fragment identification (32 bits). */
  id: number;
  /** Byte offset of this fragment's payload in the reassembled payload. */
  offset: number;
  /** More fragments follow (MF / M flag). */
  more: boolean;
}

/** An IPv4 or IPv6 packet header. */
export interface IpPacket {
  version: 4 | 6;
  /** Source address: dotted quad, or RFC 5952 text for IPv6. */
  src: string;
  /** Destination address, formatted like `src`. */
  dst: string;
  /** Upper-layer protocol (6 TCP, 17 UDP, …), found after any IPv6 extension headers. */
  protocol: number;
  /** IPv4 TTL or IPv6 hop limit. */
  ttl: number;
  /** Bytes after the IP header (and extension headers), trimmed to the declared length (drops Ethernet padding). */
  payload: Uint8Array;
  /** The capture holds fewer bytes than the header declares; `payload` is what there is. */
  truncated: boolean;
  /** Present when the packet is a fragment (IPv6 atomic fragments, offset 0 without M, are not). */
  fragment: IpFragment | undefined;
}

function fail<T>(reason: string): Parsed<T> {
  return { ok: false, reason };
}

/**
 * Parses an IP packet of either version, chosen by the version nibble.
 * Never throws.
 */
export function parseIp(bytes: Uint8Array): Parsed<IpPacket> {
  if (bytes.length < 1) return fail('empty IP packet');
  const v = bytes[0]! >> 4;
  if (v === 4) return parseIPv4(bytes);
  if (v === 6) return parseIPv6(bytes);
  return fail(`IP version ${v} not supported`);
}

/** Parses an IPv4 header. A total length of 0 (TCP segmentation offload) means "the rest of the frame". */
export function parseIPv4(bytes: Uint8Array): Parsed<IpPacket> {
  if (bytes.length < 20) return fail('IPv4 header truncated');
  if (bytes[0]! >> 4 !== 4) return fail('not an IPv4 header');
  const ihl = (bytes[0]! & 0x0f) * 4;
  if (ihl < 20) return fail(`IPv4 header length ${ihl} too small`);
  if (ihl > bytes.length) return fail('IPv4 options truncated');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const totalLen = dv.getUint16(2);
  if (totalLen !== 0 && totalLen < ihl) return fail(`IPv4 total length ${totalLen} smaller than header`);
  const declaredEnd = totalLen === 0 ? bytes.length : totalLen;
  const end = Math.min(declaredEnd, bytes.length);
  const flagsOff = dv.getUint16(6);
  const more = (flagsOff & 0x2000) !== 0;
  const offset = (flagsOff & 0x1fff) * 8;
  const id = dv.getUint16(4);
  return {
    ok: true,
    value: {
      version: 4,
      src: formatIPv4(bytes, 12),
      dst: formatIPv4(bytes, 16),
      protocol: bytes[9]!,
      ttl: bytes[8]!,
      payload: bytes.subarray(ihl, end),
      truncated: declaredEnd > bytes.length,
      fragment: more || offset > 0 ? { id, offset, more } : undefined,
    },
  };
}

/** Result of walking IPv6 extension headers. */
export interface Ipv6Upper {
  /** Upper-layer protocol, or the fragmented protocol when `fragment` is set. */
  protocol: number;
  /** Offset in the walked bytes where the upper-layer data (or fragment data) begins. */
  offset: number;
  fragment: IpFragment | undefined;
}

/**
 * Skips IPv6 extension headers (hop-by-hop 0, routing 43, fragment 44, destination options 60,
 * authentication 51) starting with header type `next` at `start`, up to `end`.
 * Stops at a non-atomic fragment header, whose following bytes are fragment data.
 */
export function skipIPv6ExtensionHeaders(bytes: Uint8Array, next: number, start: number, end = bytes.length): Parsed<Ipv6Upper> {
  let nh = next;
  let p = start;
  let fragment: IpFragment | undefined;
  for (;;) {
    switch (nh) {
      case 0:
      case 43:
      case 60:
      case 51: {
        if (end - p < 2) return fail('IPv6 extension header truncated');
        const len = nh === 51 ? (bytes[p + 1]! + 2) * 4 : (bytes[p + 1]! + 1) * 8;
        if (end - p < len) return fail('IPv6 extension header truncated');
        nh = bytes[p]!;
        p += len;
        break;
      }
      case 44: {
        if (end - p < 8) return fail('IPv6 fragment header truncated');
        const dv = new DataView(bytes.buffer, bytes.byteOffset + p, 8);
        const fo = dv.getUint16(2);
        const id = dv.getUint32(4);
        const offset = fo & 0xfff8;
        const more = (fo & 1) !== 0;
        nh = bytes[p]!;
        p += 8;
        if (offset > 0 || more) {
          fragment = { id, offset, more };
          return { ok: true, value: { protocol: nh, offset: p, fragment } };
        }
        break; // atomic fragment: a whole datagram
      }
      default:
        return { ok: true, value: { protocol: nh, offset: p, fragment } };
    }
  }
}

/** Parses an IPv6 header and its extension headers. Payload length 0 (jumbogram) means "the rest of the frame". */
export function parseIPv6(bytes: Uint8Array): Parsed<IpPacket> {
  if (bytes.length < 40) return fail('IPv6 header truncated');
  if (bytes[0]! >> 4 !== 6) return fail('not an IPv6 header');
  const payloadLen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint16(4);
  const declaredEnd = payloadLen === 0 ? bytes.length : 40 + payloadLen;
  const end = Math.min(declaredEnd, bytes.length);
  const upper = skipIPv6ExtensionHeaders(bytes, bytes[6]!, 40, end);
  if (!upper.ok) return upper;
  return {
    ok: true,
    value: {
      version: 6,
      src: formatIPv6(bytes, 8),
      dst: formatIPv6(bytes, 24),
      protocol: upper.value.protocol,
      ttl: bytes[7]!,
      payload: bytes.subarray(upper.value.offset, end),
      truncated: declaredEnd > bytes.length,
      fragment: upper.value.fragment,
    },
  };
}
