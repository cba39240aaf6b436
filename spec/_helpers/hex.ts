// Test helpers: hex <-> bytes, a seeded PRNG.

/** Bytes from hex, ignoring spaces and newlines. */
export function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Concatenates byte arrays (tests only). */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
}

/** xorshift128+-style seeded PRNG: deterministic test data. */
export class Rng {
  #s0: number;
  #s1: number;
  constructor(seed: number) {
    this.#s0 = seed | 0 || 1;
    this.#s1 = (seed * 2654435761) | 0 || 2;
  }
  /** Uniform uint32. */
  u32(): number {
    let a = this.#s0;
    const b = this.#s1;
    this.#s0 = b;
    a ^= a << 23;
    a ^= a >>> 17;
    a ^= b ^ (b >>> 26);
    this.#s1 = a;
    return (this.#s1 + b) >>> 0;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 0x100000000) * n);
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}
