// Reads classic pcap and pcapng capture files into packets (zero-copy views of the input bytes).
import { PcapError } from '../errors.js';

/** Container format of a capture file. */
export type CaptureFormat = 'pcap' | 'pcapng';

/** One captured frame, as stored in the file. */
export interface CapturedPacket {
  /** Position in the file, counting from 0 (Wireshark's frame number is `index + 1`). */
  index: number;
  /** Seconds since 1970-01-01T00:00:00Z (fractional; about microsecond precision). 0 for pcapng Simple Packet Blocks, which carry no time. */
  timestamp: number;
  /** The same instant in nanoseconds, exact for resolutions of 1 ns or coarser. */
  timestampNs: bigint;
  /** LINKTYPE_ value of the interface the frame was captured on (see {@link LinkTypes}). */
  linkType: number;
  /** The captured bytes: a subarray of the input, not a copy. */
  data: Uint8Array;
  /** Number of bytes captured (`data.length`). */
  capLen: number;
  /** Length of the frame on the wire; larger than `capLen` when the capture was cut at the snapshot length. */
  origLen: number;
  /** pcapng interface number within its section; 0 for classic pcap. */
  interfaceId: number;
  /** File offset of the record (classic pcap) or block (pcapng) that holds the frame. */
  fileOffset: number;
}

/** Something odd but survivable in a capture file, such as a truncated last record. */
export interface CaptureWarning {
  message: string;
  /** File offset where the problem was found. */
  offset: number;
}

/** Options for {@link readPackets}. */
export interface ReadOptions {
  /** Called for survivable problems; reading stops after a truncated record or block. */
  onWarning?: (warning: CaptureWarning) => void;
}

const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;
const NS_PER_S = 1_000_000_000n;

interface ClassicMagic {
  le: boolean;
  nano: boolean;
  /** Kuznetzov's patched format: 8 more bytes in each record header. */
  modified: boolean;
}

function classicMagic(bytes: Uint8Array): ClassicMagic | undefined {
  if (bytes.length < 4) return undefined;
  const m = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  switch (m) {
    case 0xa1b2c3d4: return { le: true, nano: false, modified: false };
    case 0xd4c3b2a1: return { le: false, nano: false, modified: false };
    case 0xa1b23c4d: return { le: true, nano: true, modified: false };
    case 0x4d3cb2a1: return { le: false, nano: true, modified: false };
    case 0xa1b2cd34: return { le: true, nano: false, modified: true };
    case 0x34cdb2a1: return { le: false, nano: false, modified: true };
    default: return undefined;
  }
}

/**
 * Tells which container format `bytes` is in, from its first four bytes.
 * @throws PcapError when it is neither pcap nor pcapng.
 */
export function detectFormat(bytes: Uint8Array): CaptureFormat {
  if (classicMagic(bytes)) return 'pcap';
  if (bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === PCAPNG_SHB) return 'pcapng';
  throw new PcapError('not a pcap or pcapng file (unknown magic number)', 0);
}

/** Converts seconds and nanoseconds to the `timestamp` number without losing the integer part. */
function secondsOf(ns: bigint): number {
  return Number(ns / NS_PER_S) + Number(ns % NS_PER_S) / 1e9;
}

/**
 * Iterates over the packets of a whole pcap or pcapng file held in memory.
 *
 * Packet `data` are subarrays of `bytes`. A truncated last record or block is reported through
 * `options.onWarning` and ends the iteration; any other malformation throws.
 * @throws PcapError when the file is not a capture or is malformed.
 */
export function* readPackets(bytes: Uint8Array, options: ReadOptions = {}): Generator<CapturedPacket, void, undefined> {
  if (detectFormat(bytes) === 'pcap') yield* readClassic(bytes, options);
  else yield* readPcapng(bytes, options);
}

function* readClassic(bytes: Uint8Array, options: ReadOptions): Generator<CapturedPacket, void, undefined> {
  const magic = classicMagic(bytes)!;
  if (bytes.length < 24) throw new PcapError('pcap file header truncated', 0);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = magic.le;
  const major = dv.getUint16(4, le);
  if (major !== 2) throw new PcapError(`unsupported pcap version ${major}.${dv.getUint16(6, le)}`, 4);
  // The upper bits of the link-type field carry FCS information (LT_LINKTYPE in libpcap).
  const linkType = dv.getUint32(20, le) & 0x03ffffff;
  const hdrLen = magic.modified ? 24 : 16;
  const fracToNs = magic.nano ? 1n : 1000n;
  let off = 24;
  let index = 0;
  while (off < bytes.length) {
    if (bytes.length - off < hdrLen) {
      options.onWarning?.({ message: `truncated record header (${bytes.length - off} of ${hdrLen} bytes)`, offset: off });
      return;
    }
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const capLen = dv.getUint32(off + 8, le);
    const origLen = dv.getUint32(off + 12, le);
    const avail = bytes.length - off - hdrLen;
    if (capLen > avail) {
      options.onWarning?.({ message: `truncated packet: record says ${capLen} bytes, file has ${avail}`, offset: off });
      return;
    }
    const ns = BigInt(sec) * NS_PER_S + BigInt(frac) * fracToNs;
    const start = off + hdrLen;
    yield {
      index: index++,
      timestamp: secondsOf(ns),
      timestampNs: ns,
      linkType,
      data: bytes.subarray(start, start + capLen),
      capLen,
      origLen,
      interfaceId: 0,
      fileOffset: off,
    };
    off = start + capLen;
  }
}

interface NgInterface {
  linkType: number;
  snapLen: number;
  /** Converts a timestamp in interface units to nanoseconds. */
  toNs: (units: bigint) => bigint;
}

interface NgSection {
  le: boolean;
  interfaces: NgInterface[];
}

function* readPcapng(bytes: Uint8Array, options: ReadOptions): Generator<CapturedPacket, void, undefined> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let section: NgSection | undefined;
  let off = 0;
  let index = 0;
  while (off < bytes.length) {
    const remaining = bytes.length - off;
    if (remaining < 12) {
      options.onWarning?.({ message: `truncated block header (${remaining} bytes left)`, offset: off });
      return;
    }
    let le: boolean;
    let type: number;
    if (dv.getUint32(off, true) === PCAPNG_SHB) {
      type = PCAPNG_SHB;
      const bom = dv.getUint32(off + 8, true);
      if (bom === PCAPNG_BOM) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else throw new PcapError('bad byte-order magic in pcapng section header', off);
    } else {
      if (!section) throw new PcapError('pcapng block before any section header', off);
      le = section.le;
      type = dv.getUint32(off, le);
    }
    const total = dv.getUint32(off + 4, le);
    if (total < 12 || total % 4 !== 0) throw new PcapError(`bad pcapng block length ${total}`, off);
    if (total > remaining) {
      options.onWarning?.({ message: `truncated block: length ${total}, file has ${remaining} bytes left`, offset: off });
      return;
    }
    if (dv.getUint32(off + total - 4, le) !== total) throw new PcapError('pcapng block trailing length does not match', off);
    const body = off + 8;
    const end = off + total - 4;
    const need = (n: number, what: string): void => {
      if (end - body < n) throw new PcapError(`${what} too short (${end - body} bytes of body)`, off);
    };
    switch (type) {
      case PCAPNG_SHB: {
        need(16, 'section header block');
        const major = dv.getUint16(body + 4, le);
        if (major !== 1) throw new PcapError(`unsupported pcapng version ${major}.${dv.getUint16(body + 6, le)}`, off);
        section = { le, interfaces: [] };
        break;
      }
      case 1: {
        need(8, 'interface description block');
        section!.interfaces.push(readInterface(dv, body, end, le, off));
        break;
      }
      case 6:
      case 2: {
        // Enhanced Packet Block, or the obsolete Packet Block: the same layout but a 16-bit interface id
        // (followed by a 16-bit drop count).
        need(20, type === 6 ? 'enhanced packet block' : 'packet block');
        const ifId = type === 6 ? dv.getUint32(body, le) : dv.getUint16(body, le);
        const capLen = dv.getUint32(body + 12, le);
        const origLen = dv.getUint32(body + 16, le);
        const iface = section!.interfaces[ifId];
        if (!iface) throw new PcapError(`packet for undefined interface ${ifId}`, off);
        if (capLen > end - body - 20) throw new PcapError(`captured length ${capLen} exceeds block`, off);
        const ns = iface.toNs((BigInt(dv.getUint32(body + 4, le)) << 32n) | BigInt(dv.getUint32(body + 8, le)));
        const start = body + 20;
        yield {
          index: index++, timestamp: secondsOf(ns), timestampNs: ns, linkType: iface.linkType,
          data: bytes.subarray(start, start + capLen), capLen, origLen, interfaceId: ifId, fileOffset: off,
        };
        break;
      }
      case 3: {
        need(4, 'simple packet block');
        const iface = section!.interfaces[0];
        if (!iface) throw new PcapError('simple packet block without interface 0', off);
        const origLen = dv.getUint32(body, le);
        let capLen = Math.min(origLen, end - body - 4);
        if (iface.snapLen > 0) capLen = Math.min(capLen, iface.snapLen);
        const start = body + 4;
        yield {
          index: index++, timestamp: 0, timestampNs: 0n, linkType: iface.linkType,
          data: bytes.subarray(start, start + capLen), capLen, origLen, interfaceId: 0, fileOffset: off,
        };
        break;
      }
      default:
        break; // Name resolution, statistics, custom and unknown blocks carry no packets.
    }
    off += total;
  }
}

function readInterface(dv: DataView, body: number, end: number, le: boolean, blockOff: number): NgInterface {
  const linkType = dv.getUint16(body, le);
  const snapLen = dv.getUint32(body + 4, le);
  let resol = 6;
  let offsetS = 0n;
  let p = body + 8;
  while (end - p >= 4) {
    const code = dv.getUint16(p, le);
    const len = dv.getUint16(p + 2, le);
    if (code === 0) break; // opt_endofopt
    const v = p + 4;
    if (len > end - v) throw new PcapError(`interface option ${code} overruns its block`, blockOff);
    if (code === 9 && len >= 1) resol = dv.getUint8(v);
    else if (code === 14 && len >= 8) offsetS = dv.getBigInt64(v, le);
    p = v + ((len + 3) & ~3);
  }
  const offNs = offsetS * NS_PER_S;
  let toNs: (u: bigint) => bigint;
  if (resol & 0x80) {
    const shift = BigInt(resol & 0x7f);
    toNs = (u) => ((u * NS_PER_S) >> shift) + offNs;
  } else if (resol <= 9) {
    const mul = 10n ** BigInt(9 - resol);
    toNs = (u) => u * mul + offNs;
  } else {
    const div = 10n ** BigInt(resol - 9);
    toNs = (u) => u / div + offNs;
  }
  return { linkType, snapLen, toNs };
}
