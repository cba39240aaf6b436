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

/** Largest record or block held while waiting for the rest of it (libpcap's snapshot length is at most 256 KiB). */
export const MAX_BLOCK_SIZE = 64 * 1024 * 1024;

/**
 * Iterates over the packets of a whole pcap or pcapng file held in memory.
 *
 * Packet `data` are subarrays of `bytes`. A truncated last record or block is reported through
 * `options.onWarning` and ends the iteration; any other malformation throws.
 * @throws PcapError when the file is not a capture or is malformed.
 */
export function* readPackets(bytes: Uint8Array, options: ReadOptions = {}): Generator<CapturedPacket, void, undefined> {
  const reader = new CaptureReader(options);
  reader.push(bytes);
  reader.end();
  for (let p = reader.next(); p; p = reader.next()) yield p;
}

/** A captured frame; `timestampNs` is computed when asked for (BigInt arithmetic is slow, most readers never ask). */
class Packet implements CapturedPacket {
  constructor(
    readonly index: number,
    readonly timestamp: number,
    /** Whole seconds and nanoseconds, or the exact nanoseconds when they came as a bigint. */
    readonly sec: number,
    readonly ns: number,
    readonly exactNs: bigint | undefined,
    readonly linkType: number,
    readonly data: Uint8Array,
    readonly capLen: number,
    readonly origLen: number,
    readonly interfaceId: number,
    readonly fileOffset: number,
  ) {}
  get timestampNs(): bigint {
    return this.exactNs ?? BigInt(this.sec) * NS_PER_S + BigInt(this.ns);
  }
}

function packetAt(index: number, ns: bigint, linkType: number, data: Uint8Array, origLen: number, interfaceId: number, fileOffset: number): Packet {
  return new Packet(index, secondsOf(ns), 0, 0, ns, linkType, data, data.length, origLen, interfaceId, fileOffset);
}

/**
 * Reads a pcap or pcapng capture incrementally: {@link push} bytes as they arrive (any boundaries), take
 * the packets that are complete with {@link next}, and call {@link end} when the input is over (then
 * {@link next} returns the rest, and a truncated last record or block is reported as a warning).
 *
 * Packet `data` are views of the pushed chunks when a packet lies within one chunk (no copy), else of a
 * buffer holding just that record; the reader keeps nothing once a packet is returned, so whoever keeps
 * a packet's bytes past the next {@link push} must copy them (or keep the chunk alive). What the reader
 * holds is the unread input, at most one record or block beyond what was pushed and not yet read: a
 * record larger than {@link MAX_BLOCK_SIZE} is not held; the rest of the input is passed over and
 * reported as a warning at the end.
 *
 * @example
 * ```ts
 * const reader = new CaptureReader({ onWarning: (w) => console.warn(w.message) });
 * for await (const chunk of stream) {
 *   reader.push(chunk);
 *   for (let p = reader.next(); p; p = reader.next()) handle(p);
 * }
 * reader.end();
 * for (let p = reader.next(); p; p = reader.next()) handle(p);
 * ```
 */
export class CaptureReader {
  readonly #onWarning: ((w: CaptureWarning) => void) | undefined;
  /** The chunk being read, from `#off`, and the chunks pushed after it. */
  #cur: Uint8Array = new Uint8Array(0);
  #dv = new DataView(this.#cur.buffer);
  #off = 0;
  #queue: Uint8Array[] = [];
  #queued = 0;
  /** File offset of `#cur[#off]`. */
  #fileOff = 0;
  #ended = false;
  /** Set once the input is known to hold nothing more to read (after a truncation or an oversized record). */
  #done = false;
  /** Bytes passed over after an oversized record, and its declared size and what it was. */
  #discard: { at: number; need: number; have: number; text: (have: number) => string } | undefined;
  #format: CaptureFormat | undefined;
  #index = 0;
  // classic pcap
  #le = true;
  #hdrLen = 16;
  #fracNs = 1000;
  #linkType = 0;
  // pcapng
  #section: NgSection | undefined;

  constructor(options: ReadOptions = {}) {
    this.#onWarning = options.onWarning;
  }

  /** The container format, once its first bytes were read. */
  get format(): CaptureFormat | undefined {
    return this.#format;
  }

  /** Bytes pushed and not yet read (a partial record or block, and chunks not yet reached). */
  get buffered(): number {
    return this.#cur.length - this.#off + this.#queued;
  }

  /** Adds input. Chunks are kept by reference until read (not copied): do not modify them. */
  push(chunk: Uint8Array): void {
    if (this.#ended) throw new Error('CaptureReader: push() after end()');
    if (chunk.length === 0) return;
    if (this.#discard) {
      this.#discard.have += chunk.length;
      return;
    }
    if (this.#off >= this.#cur.length && this.#queue.length === 0) this.#setCur(chunk, 0);
    else {
      this.#queue.push(chunk);
      this.#queued += chunk.length;
    }
  }

  /**
   * Copies the bytes pushed and not yet read (usually the start of one record), so that the reader no
   * longer refers to any chunk pushed so far: the caller may then reuse their buffers.
   */
  compact(): void {
    if (this.#off >= this.#cur.length && this.#queue.length === 0) {
      this.#setCur(EMPTY, 0);
      return;
    }
    // Each byte is copied once however many chunks a large record spans: copies are not copied again.
    if (!this.#owned.has(this.#cur)) this.#setCur(this.#own(this.#cur.slice(this.#off)), 0);
    this.#queue = this.#queue.map((c) => (this.#owned.has(c) ? c : this.#own(c.slice())));
  }

  /** Buffers this reader made (copies), which no caller will reuse. */
  readonly #owned = new WeakSet<Uint8Array>();
  #own(b: Uint8Array): Uint8Array {
    this.#owned.add(b);
    return b;
  }

  /** Declares the end of the input; {@link next} then returns what is left and reports a truncation. */
  end(): void {
    this.#ended = true;
  }

  /**
   * The next complete packet, or undefined when more input is needed (or, after {@link end}, when there
   * are no more packets).
   * @throws PcapError when the input is not a capture or is malformed.
   */
  next(): CapturedPacket | undefined {
    if (this.#done) return undefined;
    if (this.#discard) {
      if (this.#ended) {
        const d = this.#discard;
        this.#done = true;
        this.#onWarning?.({ message: d.text(d.have), offset: d.at });
      }
      return undefined;
    }
    if (this.#format === undefined && !this.#start()) return undefined;
    return this.#format === 'pcap' ? this.#nextClassic() : this.#nextNg();
  }

  #setCur(b: Uint8Array, off: number): void {
    this.#cur = b;
    this.#off = off;
    this.#dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  /** Makes `n` bytes from the read position contiguous in `#cur`; false when fewer have been pushed. */
  #contig(n: number): boolean {
    while (this.#off >= this.#cur.length && this.#queue.length > 0) {
      const c = this.#queue.shift()!;
      this.#queued -= c.length;
      this.#setCur(c, 0);
    }
    const have = this.#cur.length - this.#off;
    if (have >= n) return true;
    if (have + this.#queued < n) return false;
    // A record straddles chunks: copy it (only it) into a buffer of its own.
    const buf = this.#own(new Uint8Array(n));
    buf.set(this.#cur.subarray(this.#off), 0);
    let o = have;
    while (o < n) {
      const c = this.#queue[0]!;
      const take = Math.min(c.length, n - o);
      buf.set(take === c.length ? c : c.subarray(0, take), o);
      o += take;
      if (take === c.length) this.#queue.shift();
      else this.#queue[0] = this.#owned.has(c) ? this.#own(c.subarray(take)) : c.subarray(take);
      this.#queued -= take;
    }
    this.#setCur(buf, 0);
    return true;
  }

  #advance(n: number): void {
    this.#off += n;
    this.#fileOff += n;
    if (this.#off >= this.#cur.length && this.#queue.length === 0) this.#setCur(EMPTY, 0); // let the chunk go
  }

  /** Input ended inside a record: report it, drop the rest. */
  #truncated(message: string): undefined {
    this.#done = true;
    this.#onWarning?.({ message, offset: this.#fileOff });
    return undefined;
  }

  /**
   * A record of `need` bytes (header included) beyond what this reader holds: pass over the rest of the
   * input; at its end, report it as a truncation if the input was shorter than the record, else as too large.
   */
  #tooLarge(need: number, truncatedText: (have: number) => string): CapturedPacket | undefined {
    const have = this.buffered;
    this.#queue = [];
    this.#queued = 0;
    this.#setCur(EMPTY, 0);
    this.#discard = {
      at: this.#fileOff,
      need,
      have,
      text: (h) => (h < need ? truncatedText(h) : `record of ${need} bytes at file offset ${this.#discard!.at} is larger than the ${MAX_BLOCK_SIZE} bytes a record may have here; the rest of the file is passed over`),
    };
    return this.next();
  }

  /** Reads the file header; false when more input is needed. */
  #start(): boolean {
    if (!this.#contig(4)) {
      if (this.#ended) throw new PcapError('not a pcap or pcapng file (unknown magic number)', 0);
      return false;
    }
    const first = this.#cur.subarray(this.#off, this.#off + 4);
    const format = detectFormat(first);
    if (format === 'pcapng') {
      this.#format = format;
      return true;
    }
    if (!this.#contig(24)) {
      if (this.#ended) throw new PcapError('pcap file header truncated', 0);
      return false;
    }
    const magic = classicMagic(first)!;
    const dv = this.#dv;
    const at = this.#off;
    const le = magic.le;
    const major = dv.getUint16(at + 4, le);
    if (major !== 2) throw new PcapError(`unsupported pcap version ${major}.${dv.getUint16(at + 6, le)}`, 4);
    // The upper bits of the link-type field carry FCS information (LT_LINKTYPE in libpcap).
    this.#linkType = dv.getUint32(at + 20, le) & 0x03ffffff;
    this.#le = le;
    this.#hdrLen = magic.modified ? 24 : 16;
    this.#fracNs = magic.nano ? 1 : 1000;
    this.#format = format;
    this.#advance(24);
    return true;
  }

  #nextClassic(): CapturedPacket | undefined {
    const hdrLen = this.#hdrLen;
    if (!this.#contig(hdrLen)) {
      const left = this.buffered;
      if (this.#ended && left > 0) return this.#truncated(`truncated record header (${left} of ${hdrLen} bytes)`);
      if (this.#ended) this.#done = true;
      return undefined;
    }
    const le = this.#le;
    let at = this.#off;
    const capLen = this.#dv.getUint32(at + 8, le);
    if (hdrLen + capLen > MAX_BLOCK_SIZE) {
      return this.#tooLarge(hdrLen + capLen, (h) => `truncated packet: record says ${capLen} bytes, file has ${h - hdrLen}`);
    }
    if (!this.#contig(hdrLen + capLen)) {
      if (this.#ended) return this.#truncated(`truncated packet: record says ${capLen} bytes, file has ${this.buffered - hdrLen}`);
      return undefined;
    }
    const dv = this.#dv;
    at = this.#off;
    let sec = dv.getUint32(at, le);
    let ns = dv.getUint32(at + 4, le) * this.#fracNs;
    if (ns >= 1e9) {
      // An out-of-range fraction carries into the seconds, as the exact sum does.
      sec += Math.floor(ns / 1e9);
      ns %= 1e9;
    }
    const origLen = dv.getUint32(at + 12, le);
    const start = at + hdrLen;
    const p = new Packet(this.#index++, sec + ns / 1e9, sec, ns, undefined, this.#linkType, this.#cur.subarray(start, start + capLen), capLen, origLen, 0, this.#fileOff);
    this.#advance(hdrLen + capLen);
    return p;
  }

  #nextNg(): CapturedPacket | undefined {
    for (;;) {
      if (!this.#contig(12)) {
        const left = this.buffered;
        if (this.#ended && left > 0) return this.#truncated(`truncated block header (${left} bytes left)`);
        if (this.#ended) this.#done = true;
        return undefined;
      }
      let dv = this.#dv;
      let off = this.#off;
      let le: boolean;
      let type: number;
      if (dv.getUint32(off, true) === PCAPNG_SHB) {
        type = PCAPNG_SHB;
        const bom = dv.getUint32(off + 8, true);
        if (bom === PCAPNG_BOM) le = true;
        else if (bom === 0x4d3c2b1a) le = false;
        else throw new PcapError('bad byte-order magic in pcapng section header', this.#fileOff);
      } else {
        if (!this.#section) throw new PcapError('pcapng block before any section header', this.#fileOff);
        le = this.#section.le;
        type = dv.getUint32(off, le);
      }
      const total = dv.getUint32(off + 4, le);
      if (total < 12 || total % 4 !== 0) throw new PcapError(`bad pcapng block length ${total}`, this.#fileOff);
      if (total > MAX_BLOCK_SIZE) return this.#tooLarge(total, (h) => `truncated block: length ${total}, file has ${h} bytes left`);
      if (!this.#contig(total)) {
        if (this.#ended) return this.#truncated(`truncated block: length ${total}, file has ${this.buffered} bytes left`);
        return undefined;
      }
      dv = this.#dv;
      off = this.#off;
      const fileOff = this.#fileOff;
      if (dv.getUint32(off + total - 4, le) !== total) throw new PcapError('pcapng block trailing length does not match', fileOff);
      const body = off + 8;
      const end = off + total - 4;
      const need = (n: number, what: string): void => {
        if (end - body < n) throw new PcapError(`${what} too short (${end - body} bytes of body)`, fileOff);
      };
      let packet: Packet | undefined;
      switch (type) {
        case PCAPNG_SHB: {
          need(16, 'section header block');
          const major = dv.getUint16(body + 4, le);
          if (major !== 1) throw new PcapError(`unsupported pcapng version ${major}.${dv.getUint16(body + 6, le)}`, fileOff);
          this.#section = { le, interfaces: [] };
          break;
        }
        case 1: {
          need(8, 'interface description block');
          this.#section!.interfaces.push(readInterface(dv, body, end, le, fileOff));
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
          const iface = this.#section!.interfaces[ifId];
          if (!iface) throw new PcapError(`packet for undefined interface ${ifId}`, fileOff);
          if (capLen > end - body - 20) throw new PcapError(`captured length ${capLen} exceeds block`, fileOff);
          const hi = dv.getUint32(body + 4, le);
          const lo = dv.getUint32(body + 8, le);
          const start = body + 20;
          const data = this.#cur.subarray(start, start + capLen);
          if (iface.micro !== undefined && hi < 0x100000) {
            // Microseconds since the epoch (+ a whole-second offset) fit in a double exactly: no BigInt.
            const units = hi * 4294967296 + lo;
            const sec = Math.floor(units / 1e6) + iface.micro;
            const ns = (units % 1e6) * 1000;
            packet = new Packet(this.#index++, sec + ns / 1e9, sec, ns, undefined, iface.linkType, data, capLen, origLen, ifId, fileOff);
          } else {
            packet = packetAt(this.#index++, iface.toNs((BigInt(hi) << 32n) | BigInt(lo)), iface.linkType, data, origLen, ifId, fileOff);
          }
          break;
        }
        case 3: {
          need(4, 'simple packet block');
          const iface = this.#section!.interfaces[0];
          if (!iface) throw new PcapError('simple packet block without interface 0', fileOff);
          const origLen = dv.getUint32(body, le);
          let capLen = Math.min(origLen, end - body - 4);
          if (iface.snapLen > 0) capLen = Math.min(capLen, iface.snapLen);
          const start = body + 4;
          packet = packetAt(this.#index++, 0n, iface.linkType, this.#cur.subarray(start, start + capLen), origLen, 0, fileOff);
          break;
        }
        default:
          break; // Name resolution, statistics, custom and unknown blocks carry no packets.
      }
      this.#advance(total);
      if (packet) return packet;
    }
  }
}

const EMPTY = new Uint8Array(0);

interface NgInterface {
  linkType: number;
  snapLen: number;
  /** Converts a timestamp in interface units to nanoseconds. */
  toNs: (units: bigint) => bigint;
  /** For microsecond resolution with a whole-second offset of 0 or more: the offset in seconds (the fast path). */
  micro: number | undefined;
}

interface NgSection {
  le: boolean;
  interfaces: NgInterface[];
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
  const micro = resol === 6 && offsetS >= 0n && offsetS <= 2n ** 40n ? Number(offsetS) : undefined;
  return { linkType, snapLen, toNs, micro };
}
