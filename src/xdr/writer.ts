// XdrWriter: a growable, reusable XDR output buffer (RFC 4506 §4), the primitive every encoder calls.

import { XdrEncodeError } from '../errors.js';
import { notBool, notEnum, notHyper, notInt, notNumber, notUhyper, notUint } from './value-errors.js';
import type { Quadruple } from './quadruple.js';
import { encodeTextInto, maxEncodedLength } from './text.js';

// 64-bit values are written through a one-element BigUint64Array and its two 32-bit halves: the element
// store is inlined by the optimising compiler, where DataView.setBigUint64 is a runtime call (2-3x
// slower per hyper; bench/xdr/micro.js "unsigned hyper").
const U64 = new BigUint64Array(1);
const W32 = new Uint32Array(U64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;

/** Options of an XdrWriter. */
export interface XdrWriterOptions {
  /** Initial buffer size in bytes (it grows by doubling). Default 4096. */
  initialSize?: number;
  /**
   * Opaque data at least this long is not copied: `chunks()` returns it as its own segment, to be written
   * with the rest in one writev. 0 disables it (always copy). Default 0; transports set it (e.g. 8192).
   */
  spliceThreshold?: number;
}

/**
 * Writes XDR items into one growing buffer that is reused across messages (`reset()`), so encoding a
 * message allocates nothing once the buffer is large enough. Values that do not fit their XDR type throw
 * `XdrEncodeError` before anything is written for that item.
 */
export class XdrWriter {
  buf: Uint8Array;
  view: DataView;
  /** Next byte to write. */
  pos = 0;
  readonly spliceThreshold: number;
  /** Current nesting depth of recursive types (see `enter`). */
  depth = 0;
  /** Deepest nesting `enter` allows before throwing, so cyclic values fail instead of overflowing the stack. */
  maxDepth = 1000;
  /** The last view `finish()` returned, of `#finishedOf`, handed out again while it covers exactly the bytes written. */
  #finished: Uint8Array = new Uint8Array(0);
  #finishedOf: Uint8Array | null = null;
  /** Finished segments before `segStart` when large opaques were spliced in; null when contiguous. */
  #segments: Uint8Array[] | null = null;
  #segStart = 0;
  /** Bytes in spliced segments (not counting the current one). */
  #splicedBytes = 0;

  constructor(options: XdrWriterOptions = {}) {
    this.buf = new Uint8Array(options.initialSize ?? 4096);
    this.view = new DataView(this.buf.buffer);
    this.spliceThreshold = options.spliceThreshold ?? 0;
  }

  /** Forgets everything written; the buffer is kept for the next message. */
  reset(): this {
    this.pos = 0;
    this.#segments = null;
    this.#segStart = 0;
    this.#splicedBytes = 0;
    this.depth = 0;
    return this;
  }

  /** Enters one level of a recursive type; throws `XdrEncodeError` beyond `maxDepth`. Pair with `leave()`. */
  enter(): void {
    if (++this.depth > this.maxDepth) {
      this.depth = 0;
      throw new XdrEncodeError(`value nested deeper than ${this.maxDepth} (cyclic?)`);
    }
  }

  leave(): void {
    this.depth--;
  }

  /** Total bytes written since `reset()`, spliced segments included. */
  get length(): number {
    return this.#splicedBytes + this.pos - this.#segStart;
  }

  /** Makes room for `n` more bytes. Generated code calls this once per fixed-size run of fields. */
  reserve(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    // Spliced segments keep pointing into the old buffer, so only the current segment must move,
    // but keeping offsets stable (backfills use them) is worth copying the few bytes before it.
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /**
   * The bytes written, as one contiguous view of the internal buffer (copied only if opaques were spliced).
   * Valid until the next write or `reset()`. A message of the same length as the previous one gets the same
   * view object back (it covers the same bytes), so a run of equal-sized messages allocates nothing.
   */
  finish(): Uint8Array {
    if (this.#segments === null) {
      // Compared by the buffer it was cut from and its length, not by reading the view's own
      // `buffer`/`length` accessors (those cost more than the rest of a small message).
      if (this.#finishedOf === this.buf && this.#finished.length === this.pos) return this.#finished;
      this.#finishedOf = this.buf;
      return (this.#finished = this.buf.subarray(0, this.pos));
    }
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const s of this.chunks()) {
      out.set(s, o);
      o += s.length;
    }
    return out;
  }

  /** The bytes written as a list of segments, for a vectored write. Views: valid until the next write or `reset()`. */
  chunks(): Uint8Array[] {
    const cur = this.buf.subarray(this.#segStart, this.pos);
    if (this.#segments === null) return [cur];
    return cur.length > 0 ? [...this.#segments, cur] : this.#segments.slice();
  }

  /** A copy of the bytes written, independent of the writer. */
  toBytes(): Uint8Array {
    return this.#segments === null ? this.buf.slice(0, this.pos) : this.finish();
  }

  writeInt(v: number): void {
    if ((v | 0) !== v) throw notInt(v);
    if (this.pos + 4 > this.buf.length) this.grow(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
  }

  writeUint(v: number): void {
    if (v >>> 0 !== v) throw notUint(v);
    if (this.pos + 4 > this.buf.length) this.grow(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }

  writeBool(v: boolean): void {
    if (typeof v !== 'boolean') throw notBool(v);
    if (this.pos + 4 > this.buf.length) this.grow(4);
    this.view.setUint32(this.pos, v ? 1 : 0);
    this.pos += 4;
  }

  /** The "present" flag of optional-data. */
  writeOptional(present: boolean): void {
    this.writeBool(present);
  }

  /** enum: `v` must be one of `values`. */
  writeEnum(v: number, values: ReadonlySet<number>, name: string): void {
    if (!values.has(v)) throw notEnum(v, name);
    this.writeInt(v);
  }

  writeHyper(v: bigint): void {
    // The range check is asIntN(64, v) === v: optimised code does it on 64-bit registers, where `<`/`>` on
    // bigints call into the runtime (bench/xdr/micro.js "unsigned hyper").
    if (typeof v !== 'bigint' || BigInt.asIntN(64, v) !== v) throw notHyper(v);
    if (this.pos + 8 > this.buf.length) this.grow(8);
    this.putHyper(this.pos, v);
    this.pos += 8;
  }

  writeUhyper(v: bigint): void {
    if (typeof v !== 'bigint' || BigInt.asUintN(64, v) !== v) throw notUhyper(v);
    if (this.pos + 8 > this.buf.length) this.grow(8);
    this.putUhyper(this.pos, v);
    this.pos += 8;
  }

  /**
   * Stores a hyper at byte `p` of the buffer, with no check of the value or of the room: for generated
   * code, which has checked both (`BigInt.asIntN(64, v) === v`, one `reserve` per run of fields).
   */
  putHyper(p: number, v: bigint): void {
    U64[0] = v; // a BigUint64Array stores v modulo 2^64: the two's complement bytes of a negative hyper
    const d = this.view;
    d.setUint32(p, W32[HI]!);
    d.setUint32(p + 4, W32[LO]!);
  }

  /** Stores an unsigned hyper at byte `p`, unchecked (see putHyper). */
  putUhyper(p: number, v: bigint): void {
    U64[0] = v;
    const d = this.view;
    d.setUint32(p, W32[HI]!);
    d.setUint32(p + 4, W32[LO]!);
  }

  /** float: rounded to binary32 as a C cast from double would. */
  writeFloat(v: number): void {
    if (typeof v !== 'number') throw notNumber(v);
    if (this.pos + 4 > this.buf.length) this.grow(4);
    this.view.setFloat32(this.pos, v);
    this.pos += 4;
  }

  writeDouble(v: number): void {
    if (typeof v !== 'number') throw notNumber(v);
    if (this.pos + 8 > this.buf.length) this.grow(8);
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }

  writeQuadruple(v: Quadruple): void {
    if (v === null || typeof v !== 'object' || !(v.bytes instanceof Uint8Array) || v.bytes.length !== 16) {
      throw new XdrEncodeError('not a Quadruple');
    }
    this.writeRaw(v.bytes);
  }

  /** opaque[n]: exactly `n` bytes, padded. */
  writeFixedOpaque(v: Uint8Array, n: number): void {
    if (!(v instanceof Uint8Array)) throw new XdrEncodeError('opaque data must be a Uint8Array');
    if (v.length !== n) throw new XdrEncodeError(`fixed opaque needs ${n} bytes, got ${v.length}`);
    this.writePadded(v);
  }

  /** opaque<max>: length, bytes, padding. */
  writeOpaque(v: Uint8Array, max = 0xffffffff): void {
    if (!(v instanceof Uint8Array)) throw new XdrEncodeError('opaque data must be a Uint8Array');
    if (v.length > max) throw new XdrEncodeError(`opaque length ${v.length} exceeds maximum ${max}`);
    this.writeUint(v.length);
    this.writePadded(v);
  }

  /** string<max>: the bound is in bytes (see text.ts for how JS strings map to bytes). */
  writeString(s: string, max = 0xffffffff): void {
    if (typeof s !== 'string') throw new XdrEncodeError(`${String(s)} is not a string`);
    const worst = maxEncodedLength(s);
    if (this.pos + 4 + worst + 3 > this.buf.length) this.grow(4 + worst + 3);
    const start = this.pos;
    const b = this.buf;
    // ASCII in place (the common case: no call); anything else through the UTF-8 encoder (text.ts).
    let n = s.length;
    for (let i = 0, q = start + 4; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        n = encodeTextInto(s, b, start + 4);
        break;
      }
      b[q + i] = c;
    }
    if (n < 0) throw new XdrEncodeError('string holds a lone surrogate that maps to no byte');
    if (n > max) throw new XdrEncodeError(`string length ${n} bytes exceeds maximum ${max}`);
    this.view.setUint32(start, n);
    let p = start + 4 + n;
    for (let pad = (4 - (n & 3)) & 3; pad > 0; pad--) b[p++] = 0;
    this.pos = p;
  }

  /** The count of a variable-length array `T<max>`. */
  writeArrayLength(n: number, max = 0xffffffff): void {
    if (n > max) throw new XdrEncodeError(`array length ${n} exceeds maximum ${max}`);
    this.writeUint(n);
  }

  /** Raw bytes with no length and no padding (already XDR). */
  writeRaw(v: Uint8Array): void {
    const n = v.length;
    if (this.pos + n > this.buf.length) this.grow(n);
    if (n <= 16) {
      const b = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) b[p++] = v[i]!;
    } else this.buf.set(v, this.pos);
    this.pos += n;
  }

  private writePadded(v: Uint8Array): void {
    const n = v.length;
    const pad = (4 - (n & 3)) & 3;
    if (this.spliceThreshold > 0 && n >= this.spliceThreshold) {
      this.splice(v);
    } else {
      this.writeRaw(v);
    }
    if (pad) {
      if (this.pos + pad > this.buf.length) this.grow(pad);
      // A byte loop: buf.set(subarray) for 1-3 bytes costs a view allocation (2.2x slower per opaque).
      const b = this.buf;
      let p = this.pos;
      for (let i = 0; i < pad; i++) b[p++] = 0;
      this.pos = p;
    }
  }

  /** Ends the current segment and adds `v` as a segment of its own, uncopied. */
  private splice(v: Uint8Array): void {
    const segs = (this.#segments ??= []);
    const cur = this.buf.subarray(this.#segStart, this.pos);
    if (cur.length) segs.push(cur);
    segs.push(v);
    this.#splicedBytes += cur.length + v.length;
    this.#segStart = this.pos;
  }
}
