// Parses UDP and TCP headers from an IP payload (layer 4 of the captured packet; "transport" in this
// project means the RPC runtime's connections, src/transport/).
import type { Parsed } from './ip.js';

/** IP protocol numbers handled by this library. */
export const IpProtocols = { TCP: 6, UDP: 17 } as const;

/** A UDP datagram header and payload. */
export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  /** The UDP length field (header + data). */
  length: number;
  /** The data, trimmed to `length - 8`. A subarray of the input. */
  payload: Uint8Array;
  /** Fewer bytes were captured than `length` declares. */
  truncated: boolean;
}

/** TCP header flag bits, as in the 9 low bits of bytes 12–13 of the header. */
export const TcpFlags = {
  FIN: 0x001,
  SYN: 0x002,
  RST: 0x004,
  PSH: 0x008,
  ACK: 0x010,
  URG: 0x020,
  ECE: 0x040,
  CWR: 0x080,
  NS: 0x100,
} as const;

/** A TCP segment header and payload. */
export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  /** Sequence number (unsigned 32-bit). */
  seq: number;
  /** Acknowledgement number (unsigned 32-bit); meaningful only with the ACK flag. */
  ack: number;
  /** Flag bits, see {@link TcpFlags}. */
  flags: number;
  /** Header length in bytes, options included. */
  headerLength: number;
  window: number;
  /** Segment data after the header. A subarray of the input. */
  payload: Uint8Array;
}

/** Parses a UDP header. Never throws. A length field of 0 (jumbogram) means "the rest of the packet". */
export function parseUdp(bytes: Uint8Array): Parsed<UdpDatagram> {
  if (bytes.length < 8) return { ok: false, reason: 'UDP header truncated' };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = dv.getUint16(4);
  if (length !== 0 && length < 8) return { ok: false, reason: `UDP length ${length} smaller than header` };
  const declaredEnd = length === 0 ? bytes.length : length;
  return {
    ok: true,
    value: {
      srcPort: dv.getUint16(0),
      dstPort: dv.getUint16(2),
      length,
      payload: bytes.subarray(8, Math.min(declaredEnd, bytes.length)),
      truncated: declaredEnd > bytes.length,
    },
  };
}

/** Parses a TCP header (options skipped). Never throws. */
export function parseTcp(bytes: Uint8Array): Parsed<TcpSegment> {
  if (bytes.length < 20) return { ok: false, reason: 'TCP header truncated' };
  const headerLength = (bytes[12]! >> 4) * 4;
  if (headerLength < 20) return { ok: false, reason: `TCP header length ${headerLength} too small` };
  if (headerLength > bytes.length) return { ok: false, reason: 'TCP options truncated' };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    ok: true,
    value: {
      srcPort: dv.getUint16(0),
      dstPort: dv.getUint16(2),
      seq: dv.getUint32(4),
      ack: dv.getUint32(8),
      flags: dv.getUint16(12) & 0x1ff,
      headerLength,
      window: dv.getUint16(14),
      payload: bytes.subarray(headerLength),
    },
  };
}
