// XDR quadruple-precision floating point (RFC 4506 §4.8): IEEE 754 binary128, big-endian.
//
// JS has no 128-bit float, so a quadruple is carried as its 16 bytes, exactly as on the wire: decoding
// then encoding gives the same bytes for every value (NaN payloads and -0 included). Conversions to and
// from `number` are provided: from a double is exact (binary64 ⊂ binary128), to a double rounds to nearest,
// ties to even, like a C cast from long double.

const FRACTION_BITS = 112n;
const FRACTION_MASK = (1n << FRACTION_BITS) - 1n;
const scratch = new DataView(new ArrayBuffer(8));

/** An XDR quadruple: an immutable IEEE 754 binary128 value held as its 16 big-endian bytes. */
export class Quadruple {
  /** The 16 bytes in XDR (big-endian) order. Treat as read-only. */
  readonly bytes: Uint8Array;

  /** Wraps 16 big-endian bytes (copied). */
  constructor(bytes: Uint8Array) {
    if (bytes.length !== 16) throw new RangeError('a quadruple is exactly 16 bytes');
    this.bytes = Uint8Array.from(bytes);
  }

  /** The exact binary128 value of a double. */
  static fromNumber(n: number): Quadruple {
    scratch.setFloat64(0, n);
    const hi = scratch.getUint32(0);
    const lo = scratch.getUint32(4);
    const sign = hi >>> 31;
    const e = (hi >>> 20) & 0x7ff;
    let f = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
    let qe: number;
    if (e === 0x7ff) {
      qe = 0x7fff;
      f <<= 60n; // keeps NaN payloads and the quiet bit in the same place
    } else if (e === 0) {
      if (f === 0n) qe = 0;
      else {
        const p = f.toString(2).length - 1; // value = f * 2^-1074 = 1.x * 2^(p - 1074)
        qe = p - 1074 + 16383;
        f = (f - (1n << BigInt(p))) << (FRACTION_BITS - BigInt(p));
      }
    } else {
      qe = e - 1023 + 16383;
      f <<= 60n;
    }
    return Quadruple.fromParts(sign, qe, f);
  }

  /** Builds a value from sign (0/1), biased 15-bit exponent and 112-bit fraction. */
  static fromParts(sign: number, biasedExponent: number, fraction: bigint): Quadruple {
    const out = new Uint8Array(16);
    const v = new DataView(out.buffer);
    v.setUint16(0, (sign << 15) | (biasedExponent & 0x7fff));
    const f = fraction & FRACTION_MASK;
    v.setUint16(2, Number(f >> 96n));
    v.setBigUint64(4, (f >> 32n) & 0xffffffffffffffffn);
    v.setUint32(12, Number(f & 0xffffffffn));
    return new Quadruple(out);
  }

  get sign(): number {
    return this.bytes[0]! >>> 7;
  }
  get biasedExponent(): number {
    return ((this.bytes[0]! & 0x7f) << 8) | this.bytes[1]!;
  }
  get fraction(): bigint {
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset, 16);
    return (BigInt(v.getUint16(2)) << 96n) | (v.getBigUint64(4) << 32n) | BigInt(v.getUint32(12));
  }

  /** The nearest double (round half to even); NaN keeps the top 52 payload bits. */
  toNumber(): number {
    const sign = this.sign ? -1 : 1;
    const e = this.biasedExponent;
    const f = this.fraction;
    if (e === 0x7fff) {
      if (f === 0n) return sign * Infinity;
      return NaN;
    }
    if (e === 0 && f === 0n) return sign * 0;
    // value = m * 2^k with m an integer of up to 113 bits
    const m = e === 0 ? f : f | (1n << FRACTION_BITS);
    const k = (e === 0 ? 1 : e) - 16383 - 112;
    const bits = m.toString(2).length;
    const shift = Math.max(bits - 53, -1074 - k);
    if (shift <= 0) return sign * Number(m) * pow2(k);
    const rounded = roundShift(m, shift);
    return sign * Number(rounded) * pow2(k + shift);
  }

  /** True when both hold the same 16 bytes. */
  equals(other: Quadruple): boolean {
    for (let i = 0; i < 16; i++) if (this.bytes[i] !== other.bytes[i]) return false;
    return true;
  }

  /** JSON form: the 16 bytes as 32 hex digits. */
  toJSON(): string {
    return Buffer.from(this.bytes).toString('hex');
  }

  toString(): string {
    return String(this.toNumber());
  }
}

/** m >> shift, rounded half to even. */
function roundShift(m: bigint, shift: number): bigint {
  const s = BigInt(shift);
  const q = m >> s;
  const rem = m - (q << s);
  const half = 1n << (s - 1n);
  if (rem > half || (rem === half && (q & 1n) === 1n)) return q + 1n;
  return q;
}

/** Exactly 2^k for any k (0 below the smallest subnormal, Infinity above the largest double). */
function pow2(k: number): number {
  if (k > 1023) return Infinity;
  if (k >= -1022) {
    scratch.setUint32(0, (k + 1023) << 20);
    scratch.setUint32(4, 0);
    return scratch.getFloat64(0);
  }
  if (k < -1074) return 0;
  return pow2(k + 600) * pow2(-600);
}
