// Random XDR types and values for property tests.
import * as x from '../../src/xdr/index.js';
import type { Rng } from './hex.js';

export type Gen = { type: x.XdrType<any>; value: (rng: Rng) => unknown };

const MAX_INT = 2 ** 31;

/** A random type of at most `depth` levels of nesting, with a generator of its values. */
export function randomType(rng: Rng, depth: number): Gen {
  const k = depth <= 0 ? rng.int(12) : rng.int(19);
  switch (k) {
    case 0:
      return { type: x.int, value: (r) => (r.u32() | 0) };
    case 1:
      return { type: x.uint, value: (r) => r.u32() };
    case 2:
      return { type: x.hyper, value: (r) => BigInt.asIntN(64, (BigInt(r.u32()) << 32n) | BigInt(r.u32())) };
    case 3:
      return { type: x.uhyper, value: (r) => (BigInt(r.u32()) << 32n) | BigInt(r.u32()) };
    case 4:
      return { type: x.bool, value: (r) => r.int(2) === 1 };
    case 5:
      return { type: x.float, value: (r) => Math.fround((r.u32() - MAX_INT) / 1024) };
    case 6:
      return { type: x.double, value: (r) => (r.u32() - MAX_INT) * 1.000001 };
    case 7:
      return { type: x.quadruple, value: (r) => new x.Quadruple(r.bytes(16)) };
    case 8: {
      const n = rng.int(9);
      return { type: x.fixedOpaque(n), value: (r) => r.bytes(n) };
    }
    case 9: {
      const max = rng.int(2) ? 40 : undefined;
      return { type: x.opaque(max), value: (r) => r.bytes(r.int(41)) };
    }
    case 10: {
      const max = rng.int(2) ? 60 : undefined;
      return { type: x.string(max), value: (r) => x.decodeText(r.bytes(20), 0, r.int(21)) };
    }
    case 11: {
      const e = x.enumeration('e', { A: -1, B: 0, C: 7 });
      return { type: e, value: (r) => r.pick([-1, 0, 7]) };
    }
    case 12: {
      const el = randomType(rng, depth - 1);
      const n = 1 + rng.int(3);
      return { type: x.fixedArray(el.type, n), value: (r) => Array.from({ length: n }, () => el.value(r)) };
    }
    case 13: {
      const el = randomType(rng, depth - 1);
      return { type: x.array(el.type, 5), value: (r) => Array.from({ length: r.int(6) }, () => el.value(r)) };
    }
    case 14: {
      const el = randomType(rng, depth - 1);
      const type = x.optional(el.type);
      // An optional of an optional boxes present values: { value } (src/xdr/types.ts Optional).
      return { type, value: (r) => (r.int(2) ? (type.boxed ? { value: el.value(r) } : el.value(r)) : null) };
    }
    case 15:
    case 16: {
      const n = 1 + rng.int(4);
      const fields = Array.from({ length: n }, (_, i) => [`f${i}`, randomType(rng, depth - 1)] as const);
      return {
        type: x.struct('s', fields.map(([n, g]) => [n, g.type] as const)),
        value: (r) => Object.fromEntries(fields.map(([n, g]) => [n, g.value(r)])),
      };
    }
    case 17: {
      const a = randomType(rng, depth - 1);
      const b = randomType(rng, depth - 1);
      const def = rng.int(3);
      const type = x.union('u', {
        discriminant: ['d', x.int],
        arms: [
          [[1, 2], ['a', a.type]],
          [[3], ['b', b.type]],
          [[4], null],
        ],
        ...(def === 0 ? {} : def === 1 ? { default: null } : { default: ['z', x.uint] as const }),
      });
      return {
        type,
        value: (r) => {
          const d = r.pick(def === 0 ? [1, 2, 3, 4] : [1, 2, 3, 4, 99]);
          if (d === 1 || d === 2) return { d, a: a.value(r) };
          if (d === 3) return { d, b: b.value(r) };
          if (d === 4 || def === 1) return { d };
          return { d, z: r.u32() };
        },
      };
    }
    default: {
      type L = { v: unknown; next: L | null };
      const el = randomType(rng, depth - 1);
      const list: x.StructType<L> = x.struct<L>('l', [
        ['v', el.type],
        ['next', x.optional(x.lazy('l', () => list))],
      ]);
      return {
        type: list,
        value: (r) => {
          const head: L = { v: el.value(r), next: null };
          let p = head;
          for (let i = r.int(5); i > 0; i--) p = p.next = { v: el.value(r), next: null };
          return head;
        },
      };
    }
  }
}

/** Total number of elements, characters and bytes a decoded value holds (allocation proxy). */
export function footprint(v: unknown): number {
  if (v instanceof Uint8Array) return v.length;
  if (typeof v === 'string') return v.length;
  if (Array.isArray(v)) return v.reduce((n: number, e) => n + 1 + footprint(e), 0);
  if (v && typeof v === 'object') {
    let n = 0;
    let p: any = v;
    // Linked lists are walked iteratively.
    while (p && typeof p === 'object' && !(p instanceof x.Quadruple)) {
      for (const [k, e] of Object.entries(p)) if (k !== 'next') n += 1 + footprint(e);
      p = (p as any).next;
    }
    return n;
  }
  return 0;
}
