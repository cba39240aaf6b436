// Random values of the named types of a Schema (seeded), for differential tests. Driven by the AST, not
// by the codecs under test: respects declared bounds, enum members, union arms (default arms get values
// no case names), keeps lists short and recursion bounded. Values use oncrpc's run-time value model:
// structs as objects, unions as { discriminant, arm }, enums as numbers, hypers as bigint, opaque as
// Uint8Array, optional as null or the value (`{ value }` when the value itself can be null).
//
// Strings never hold a NUL byte: C strings cannot (xdr_string encodes strlen() bytes).
import type { Declaration, Schema, TypeSpec, UnionBody, Value } from '../../../src/codegen/ast.js';
import { Quadruple } from '../../../src/xdr/quadruple.js';
import { decodeText } from '../../../src/xdr/text.js';
import type { Rng } from '../../_helpers/hex.js';

export interface RandomOptions {
  /** Optional-data / array nesting beyond which optionals are null and variable arrays empty (default 5). */
  maxDepth?: number;
  /** Longest variable array / opaque / string generated when the bound allows (default 6 / 24 / 24). */
  maxArray?: number;
  maxBytes?: number;
  /**
   * The range of an `int` type spec that is really rpcgen's char/short (the AST maps them to int; C
   * narrows them on decode, so only values in range survive a trip through C).
   */
  intRange?: (t: Extract<TypeSpec, { kind: 'int' }>) => readonly [min: number, max: number] | undefined;
}

/**
 * Ranges of rpcgen's char/short/u_char/u_short, found by reading the source at a type's position
 * (for use as RandomOptions.intRange).
 */
export function narrowIntRanges(read: (file: string) => string): NonNullable<RandomOptions['intRange']> {
  const lines = new Map<string, string[]>();
  return (t) => {
    let l = lines.get(t.pos.file);
    if (!l) lines.set(t.pos.file, (l = read(t.pos.file).split('\n')));
    const m = /^(unsigned\s+char|unsigned\s+short|u_char|u_short|char|short)\b/.exec((l[t.pos.line - 1] ?? '').slice(t.pos.col - 1));
    if (!m) return undefined;
    const w = m[1]!.replace(/\s+/, ' ');
    if (w === 'char') return [-128, 127];
    if (w === 'short') return [-32768, 32767];
    if (w === 'u_char' || w === 'unsigned char') return [0, 255];
    return [0, 65535];
  };
}

const f32 = new DataView(new ArrayBuffer(8));

export function randomValues(schema: Schema, options: RandomOptions = {}): (rng: Rng, typeName: string) => unknown {
  const maxDepth = options.maxDepth ?? 5;
  const maxArray = options.maxArray ?? 6;
  const maxBytes = options.maxBytes ?? 24;
  const num = (v: Value): bigint => {
    if (v.kind === 'name' && !schema.constants.has(v.name)) {
      if (v.name === 'TRUE') return 1n;
      if (v.name === 'FALSE') return 0n;
    }
    return schema.value(v);
  };
  const u32 = (v: bigint) => Number(BigInt.asUintN(32, v));
  const i32 = (v: bigint) => Number(BigInt.asIntN(32, v));

  /** A length in [0, max], biased to short, sometimes exactly the bound when it is small. */
  function length(rng: Rng, max: number | undefined, cap: number, depth: number): number {
    if (depth > maxDepth) return 0;
    const m = max === undefined ? cap : Math.min(max, cap);
    if (max !== undefined && max <= cap && rng.int(8) === 0) return max;
    return rng.int(m + 1);
  }

  function bytes(rng: Rng, n: number): Uint8Array {
    return rng.bytes(n);
  }

  function text(rng: Rng, n: number): string {
    const b = new Uint8Array(n);
    const mode = rng.int(4);
    for (let i = 0; i < n; i++) {
      if (mode === 0) b[i] = 1 + rng.int(255); // any byte but NUL: invalid UTF-8 too
      else b[i] = 0x20 + rng.int(0x5f); // printable ASCII
    }
    if (mode === 3 && n >= 3) b.set([0xe2, 0x82, 0xac], rng.int(n - 2)); // a euro sign
    return decodeText(b, 0, n);
  }

  function float(rng: Rng): number {
    f32.setUint32(0, rng.u32());
    const v = f32.getFloat32(0);
    return Number.isNaN(v) ? NaN : rng.int(3) ? v : [0, -0, 1.5, -2, Infinity, -Infinity, NaN][rng.int(7)]!;
  }
  function double(rng: Rng): number {
    f32.setUint32(0, rng.u32());
    f32.setUint32(4, rng.u32());
    const v = f32.getFloat64(0);
    return Number.isNaN(v) ? NaN : rng.int(3) ? v : [0, -0, 0.1, -1e300, 5e-324, Infinity, NaN][rng.int(7)]!;
  }

  function spec(rng: Rng, t: TypeSpec, depth: number): unknown {
    switch (t.kind) {
      case 'int': {
        const r = options.intRange?.(t);
        if (r) return r[0] + rng.int(r[1] - r[0] + 1);
        return t.unsigned ? rng.u32() : rng.u32() | 0;
      }
      case 'hyper': {
        const v = (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
        return t.unsigned ? v : BigInt.asIntN(64, v);
      }
      case 'float':
        return float(rng);
      case 'double':
        return double(rng);
      case 'quadruple':
        return Quadruple.fromNumber(double(rng));
      case 'bool':
        return rng.int(2) === 1;
      case 'void':
        return undefined;
      case 'ref':
        return named(rng, t.name, depth);
      case 'enum':
        return i32(num(rng.pick(t.body.members).value));
      case 'struct':
        return Object.fromEntries(t.body.fields.map((f) => [f.kind === 'void' ? '' : f.name, decl(rng, f, depth)]));
      case 'union':
        return union(rng, t.body, depth);
    }
  }

  function decl(rng: Rng, d: Declaration, depth: number): unknown {
    switch (d.kind) {
      case 'plain':
        return spec(rng, d.type, depth);
      case 'fixedArray':
        return Array.from({ length: u32(num(d.size)) }, () => spec(rng, d.type, depth + 1));
      case 'varArray': {
        const n = length(rng, d.max === null ? undefined : u32(num(d.max)), maxArray, depth);
        return Array.from({ length: n }, () => spec(rng, d.type, depth + 1));
      }
      case 'fixedOpaque':
        return bytes(rng, u32(num(d.size)));
      case 'varOpaque':
        return bytes(rng, length(rng, d.max === null ? undefined : u32(num(d.max)), maxBytes, 0));
      case 'string':
        return text(rng, length(rng, d.max === null ? undefined : u32(num(d.max)), maxBytes, 0));
      case 'optional': {
        if (depth >= maxDepth || rng.int(3) === 0) return null;
        const v = spec(rng, d.type, depth + 1);
        return nullable(d.type) ? { value: v } : v; // an optional of optional-data boxes present values
      }
      case 'void':
        return undefined;
    }
  }

  /** Whether values of `t` can be null: it is optional-data through typedefs (src/xdr/types.ts Optional). */
  function nullable(t: TypeSpec): boolean {
    for (let hops = 0; t.kind === 'ref' && hops < 100; hops++) {
      const def = schema.lookup(t.name);
      if (def?.kind !== 'typedef') return false;
      if (def.decl.kind === 'optional') return true;
      if (def.decl.kind !== 'plain') return false;
      t = def.decl.type;
    }
    return false;
  }

  /** An arm whose value holds no struct or union by value (void, scalars, optionals, arrays left empty). */
  function endsRecursion(d: Declaration): boolean {
    if (d.kind === 'void' || d.kind === 'optional' || d.kind === 'varArray') return true;
    if (d.kind !== 'plain' && d.kind !== 'fixedArray') return true;
    let t = d.type;
    for (let hops = 0; t.kind === 'ref' && hops < 100; hops++) {
      const def = schema.lookup(t.name);
      if (!def || def.kind === 'enum') return true;
      if (def.kind !== 'typedef') return false;
      if (def.decl.kind !== 'plain') return endsRecursion(def.decl);
      t = def.decl.type;
    }
    return t.kind !== 'struct' && t.kind !== 'union' && t.kind !== 'ref';
  }

  /** Whether `d` holds the union `body` itself by value (through typedefs). */
  function holds(d: Declaration, body: UnionBody): boolean {
    if (d.kind !== 'plain' && d.kind !== 'fixedArray') return false;
    let t = d.type;
    for (let hops = 0; t.kind === 'ref' && hops < 100; hops++) {
      const def = schema.lookup(t.name);
      if (!def) return false;
      if (def.kind === 'union') return def.body === body;
      if (def.kind !== 'typedef' || (def.decl.kind !== 'plain' && def.decl.kind !== 'fixedArray')) return false;
      t = def.decl.type;
    }
    return t.kind === 'union' && t.body === body;
  }

  function discriminantKind(t: TypeSpec): { kind: 'bool' | 'unsigned' | 'int' } | { kind: 'enum'; values: number[] } {
    if (t.kind === 'bool') return { kind: 'bool' };
    if (t.kind === 'int') return { kind: t.unsigned ? 'unsigned' : 'int' };
    if (t.kind === 'enum') return { kind: 'enum', values: t.body.members.map((m) => i32(num(m.value))) };
    if (t.kind === 'ref') {
      const def = schema.definition(t.name);
      if (def.kind === 'enum') return { kind: 'enum', values: def.body.members.map((m) => i32(num(m.value))) };
      if (def.kind === 'typedef' && def.decl.kind === 'plain') return discriminantKind(def.decl.type);
    }
    throw new Error(`bad discriminant type ${t.kind}`);
  }

  function union(rng: Rng, body: UnionBody, depth: number): unknown {
    const d = body.discriminant as Extract<Declaration, { kind: 'plain' }>;
    const dk = discriminantKind(d.type);
    const conv = (v: bigint): number | boolean => (dk.kind === 'bool' ? v !== 0n : dk.kind === 'unsigned' ? u32(v) : i32(v));
    const labels = body.cases.flatMap((c) => c.values.map((v) => ({ value: conv(num(v)), arm: c.arm })));
    let value: number | boolean | undefined;
    let arm: Declaration | undefined;
    // Deep inside a value, prefer arms that end the recursion: a union may contain itself by value in one
    // arm (`case 1: u a[2];`) as long as another arm is finite. Score 2: no struct or union by value;
    // 1: not this union; 0: this union again.
    const deep = depth > maxDepth;
    const score = (a: Declaration): number => (endsRecursion(a) ? 2 : holds(a, body) ? 0 : 1);
    const best = deep ? Math.max(-1, ...labels.map((l) => score(l.arm))) : -1;
    const preferDefault = deep && body.default !== undefined && score(body.default) > best;
    if (body.default !== undefined && (labels.length === 0 || rng.int(4) === 0 || preferDefault)) {
      const used = new Set(labels.map((l) => l.value));
      let candidates: Array<number | boolean>;
      if (dk.kind === 'bool') candidates = [false, true].filter((b) => !used.has(b));
      else if (dk.kind === 'enum') candidates = dk.values.filter((v) => !used.has(v));
      else {
        candidates = [];
        for (let i = 0; i < 4; i++) {
          const v = dk.kind === 'unsigned' ? rng.u32() : rng.u32() | 0;
          if (!used.has(v)) candidates.push(v);
        }
      }
      if (candidates.length) {
        value = rng.pick(candidates);
        arm = body.default;
      }
    }
    if (arm === undefined) {
      const l = rng.pick(deep ? labels.filter((l) => score(l.arm) === best) : labels);
      value = l.value;
      arm = l.arm;
    }
    const o: Record<string, unknown> = { [d.name]: value };
    if (arm!.kind !== 'void') o[arm!.name] = decl(rng, arm!, depth + 1);
    return o;
  }

  function named(rng: Rng, name: string, depth: number): unknown {
    const def = schema.lookup(name);
    if (!def) throw new Error(`unknown type ${name}`);
    switch (def.kind) {
      case 'typedef':
        return decl(rng, def.decl, depth);
      case 'enum':
        return i32(num(rng.pick(def.body.members).value));
      case 'struct':
        return spec(rng, { kind: 'struct', body: def.body, pos: def.pos }, depth);
      case 'union':
        return union(rng, def.body, depth);
    }
  }

  return (rng, name) => named(rng, name, 0);
}

/** Deep equality over the value model (Object.is for numbers, so NaN equals NaN and -0 differs from 0). */
export function sameValue(a0: unknown, b0: unknown): boolean {
  // An explicit stack, not recursion: values include linked lists thousands of nodes long.
  const stack: Array<[unknown, unknown]> = [[a0, b0]];
  while (stack.length) {
    const [a, b] = stack.pop()!;
    if (typeof a === 'number' && typeof b === 'number') {
      if (!Object.is(a, b)) return false;
      continue;
    }
    if (a === b) continue;
    if (a instanceof Uint8Array && b instanceof Uint8Array) {
      if (a.length !== b.length || !a.every((v, i) => v === b[i])) return false;
      continue;
    }
    if (a instanceof Quadruple && b instanceof Quadruple) {
      stack.push([a.bytes, b.bytes]);
      continue;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      if (a.length !== b.length) return false;
      a.forEach((v, i) => stack.push([v, b[i]]));
      continue;
    }
    if (a && b && typeof a === 'object' && typeof b === 'object') {
      const ra = a as Record<string, unknown>;
      const rb = b as Record<string, unknown>;
      const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
      const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
      if (ka.length !== kb.length) return false;
      for (const k of ka) stack.push([ra[k], rb[k]]);
      continue;
    }
    return false;
  }
  return true;
}
