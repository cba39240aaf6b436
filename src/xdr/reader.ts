// XdrReader: a bounds-checked cursor over XDR bytes (RFC 4506 §4), the primitive every decoder calls.

import { ErrorCodes, XdrDecodeError } from '../errors.js';
import { type DecodeLimits, type ResolvedLimits, resolveLimits } from './limits.js';
import { Quadruple } from './quadruple.js';
import { decodeText } from './text.js';

const EMPTY = new Uint8Array(0);

/**
 * Reads XDR items from `buf[pos, end)`. Every read checks the bytes remaining first and throws
 * `XdrDecodeError` (never `RangeError`); every length is checked against its declared bound and the bytes
 * remaining before anything is allocated. Opaque data is returned as a view into `buf` (zero copy): it
 * aliases the input, so copy it if the input buffer will be reused.
 *
 * One reader can be re-pointed at new input with `reset()`, so a connection needs only one.
 */
export class XdrReader {
  buf: Uint8Array = EMPTY;
  view: DataView = new DataView(EMPTY.buffer);
  /** Next byte to read. */
  pos = 0;
  /** One past the last readable byte. */
  end = 0;
  /** Current nesting depth of recursive types (see `enter`). */
  depth = 0;
  readonly limits: ResolvedLimits;

  constructor(buf?: Uint8Array, start = 0, end?: number, limits?: DecodeLimits) {
    this.limits = resolveLimits(limits);
    if (buf) this.reset(buf, start, end);
  }

  /** Points the reader at `buf[start, end)`. */
  reset(buf: Uint8Array, start = 0, end = buf.length): this {
    if (buf !== this.buf) {
      this.buf = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    this.pos = start;
    this.end = end;
    this.depth = 0;
    return this;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws unless `n` more bytes are present. */
  need(n: number): void {
    if (this.pos + n > this.end) throw this.shortError(n);
  }

  /** Throws `ERR_XDR_TRAILING` unless every byte has been read. */
  expectEnd(): void {
    if (this.pos !== this.end) {
      throw new XdrDecodeError(ErrorCodes.ERR_XDR_TRAILING, `${this.end - this.pos} bytes left over`, this.pos);
    }
  }

  shortError(n: number, at = this.pos): XdrDecodeError {
    return new XdrDecodeError(ErrorCodes.ERR_XDR_SHORT, `need ${n} bytes, ${Math.max(0, this.end - at)} left`, at);
  }

  /** int: 32-bit two's complement. */
  readInt(): number {
    const p = this.pos;
    if (p + 4 > this.end) throw this.shortError(4);
    this.pos = p + 4;
    return this.view.getInt32(p);
  }

  /** unsigned int. */
  readUint(): number {
    const p = this.pos;
    if (p + 4 > this.end) throw this.shortError(4);
    this.pos = p + 4;
    return this.view.getUint32(p);
  }

  /** bool: exactly 0 or 1 (RFC 4506 §4.4). */
  readBool(): boolean {
    const p = this.pos;
    if (p + 4 > this.end) throw this.shortError(4);
    this.pos = p + 4;
    const v = this.view.getUint32(p);
    if (v > 1) throw new XdrDecodeError(ErrorCodes.ERR_XDR_BOOL, `bool is ${v}, not 0 or 1`, p);
    return v === 1;
  }

  /** The "present" flag of optional-data (`T *`): a bool. */
  readOptional(): boolean {
    return this.readBool();
  }

  /** enum: an int that must be one of `values`; `name` is used in the error. */
  readEnum(values: ReadonlySet<number>, name: string): number {
    const p = this.pos;
    const v = this.readInt();
    if (!values.has(v)) throw new XdrDecodeError(ErrorCodes.ERR_XDR_ENUM, `${v} is not a value of enum ${name}`, p);
    return v;
  }

  /** hyper: 64-bit two's complement, as a bigint. */
  readHyper(): bigint {
    const p = this.pos;
    if (p + 8 > this.end) throw this.shortError(8);
    this.pos = p + 8;
    return this.view.getBigInt64(p);
  }

  /** unsigned hyper, as a bigint. */
  readUhyper(): bigint {
    const p = this.pos;
    if (p + 8 > this.end) throw this.shortError(8);
    this.pos = p + 8;
    return this.view.getBigUint64(p);
  }

  /** float: IEEE 754 binary32, widened exactly to a double. */
  readFloat(): number {
    const p = this.pos;
    if (p + 4 > this.end) throw this.shortError(4);
    this.pos = p + 4;
    return this.view.getFloat32(p);
  }

  /** double: IEEE 754 binary64. */
  readDouble(): number {
    const p = this.pos;
    if (p + 8 > this.end) throw this.shortError(8);
    this.pos = p + 8;
    return this.view.getFloat64(p);
  }

  /** quadruple: IEEE 754 binary128, carried as its bytes (see Quadruple). */
  readQuadruple(): Quadruple {
    const p = this.pos;
    if (p + 16 > this.end) throw this.shortError(16);
    this.pos = p + 16;
    return new Quadruple(this.buf.subarray(p, p + 16));
  }

  /** opaque[n]: `n` bytes plus padding to a multiple of 4; a view into the input. */
  readFixedOpaque(n: number): Uint8Array {
    const p = this.pos;
    const padded = n + ((4 - (n & 3)) & 3);
    if (p + padded > this.end) throw this.shortError(padded);
    this.pos = p + padded;
    if (padded !== n) this.checkPadding(p + n, p + padded);
    return this.buf.subarray(p, p + n);
  }

  /** opaque<max>: length then bytes; a view into the input. */
  readOpaque(max = this.limits.maxOpaqueBytes): Uint8Array {
    const start = this.pos;
    const n = this.readUint();
    if (n > max) {
      throw new XdrDecodeError(ErrorCodes.ERR_XDR_BOUND, `opaque length ${n} exceeds maximum ${max}`, start);
    }
    return this.readFixedOpaque(n);
  }

  /** string<max>: length then bytes, decoded as described in text.ts (lossless for any bytes). */
  readString(max = this.limits.maxStringBytes): string {
    const start = this.pos;
    const n = this.readUint();
    if (n > max) {
      throw new XdrDecodeError(ErrorCodes.ERR_XDR_BOUND, `string length ${n} exceeds maximum ${max}`, start);
    }
    const p = this.pos;
    const padded = n + ((4 - (n & 3)) & 3);
    if (p + padded > this.end) throw this.shortError(padded);
    this.pos = p + padded;
    if (padded !== n) this.checkPadding(p + n, p + padded);
    return decodeText(this.buf, p, p + n);
  }

  /**
   * The element count of a variable-length array `T<max>`. Checks the bound, then that `count` elements of
   * at least `minElementBytes` each can still be present, so a hostile count cannot make the caller
   * allocate more than the input holds.
   */
  readArrayLength(max = this.limits.maxArrayLength, minElementBytes = 4): number {
    const start = this.pos;
    const n = this.readUint();
    if (n > max) {
      throw new XdrDecodeError(ErrorCodes.ERR_XDR_BOUND, `array length ${n} exceeds maximum ${max}`, start);
    }
    const need = n * minElementBytes;
    if (need > this.end - this.pos) throw this.shortError(need);
    return n;
  }

  /** Enters one level of a recursive type; throws `ERR_XDR_DEPTH` beyond `limits.maxDepth`. Pair with `leave()`. */
  enter(): void {
    if (++this.depth > this.limits.maxDepth) {
      this.depth = 0;
      throw new XdrDecodeError(ErrorCodes.ERR_XDR_DEPTH, `nesting deeper than ${this.limits.maxDepth}`, this.pos);
    }
  }

  leave(): void {
    this.depth--;
  }

  /** The `ERR_XDR_DISCRIMINANT` error for a union discriminant at `at` that selects no arm. */
  badDiscriminant(value: number | boolean, union: string, at: number): XdrDecodeError {
    return new XdrDecodeError(ErrorCodes.ERR_XDR_DISCRIMINANT, `${value} selects no arm of union ${union}`, at);
  }

  private checkPadding(from: number, to: number): void {
    if (!this.limits.strictPadding) return;
    const b = this.buf;
    for (let i = from; i < to; i++) {
      if (b[i] !== 0) throw new XdrDecodeError(ErrorCodes.ERR_XDR_PADDING, `padding byte is 0x${b[i]!.toString(16)}`, i);
    }
  }
}
