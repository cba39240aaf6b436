// Run-time XDR codecs built from combinators (RFC 4506 §4): describe a type in code, get read/write.
// Generated code (oncrpc gen) calls XdrReader/XdrWriter directly instead; this is for dynamic use.

import { XdrEncodeError, XdrError } from '../errors.js';
import { badLength, notArray, notBoxed, notObject, notTuple } from './value-errors.js';
import type { Quadruple } from './quadruple.js';
import type { XdrReader } from './reader.js';
import type { XdrWriter } from './writer.js';

/** A codec for one XDR type. */
export interface XdrType<T> {
  /** The type's name as an .x file would write it (`unsigned int`, `string<255>`, `mapping`). */
  readonly name: string;
  /** Fewest bytes any value of the type encodes to (used to sanity-check array counts before allocating). */
  readonly minSize: number;
  read(r: XdrReader): T;
  write(w: XdrWriter, v: T): void;
}

/** The JS type a codec reads and writes. */
export type Infer<C> = C extends XdrType<infer T> ? T : never;

function prim<T>(name: string, minSize: number, read: (r: XdrReader) => T, write: (w: XdrWriter, v: T) => void): XdrType<T> {
  return Object.freeze({ name, minSize, read, write });
}

export const int = prim<number>('int', 4, (r) => r.readInt(), (w, v) => w.writeInt(v));
export const uint = prim<number>('unsigned int', 4, (r) => r.readUint(), (w, v) => w.writeUint(v));
export const hyper = prim<bigint>('hyper', 8, (r) => r.readHyper(), (w, v) => w.writeHyper(v));
export const uhyper = prim<bigint>('unsigned hyper', 8, (r) => r.readUhyper(), (w, v) => w.writeUhyper(v));
export const bool = prim<boolean>('bool', 4, (r) => r.readBool(), (w, v) => w.writeBool(v));
export const float = prim<number>('float', 4, (r) => r.readFloat(), (w, v) => w.writeFloat(v));
export const double = prim<number>('double', 8, (r) => r.readDouble(), (w, v) => w.writeDouble(v));
export const quadruple = prim<Quadruple>('quadruple', 16, (r) => r.readQuadruple(), (w, v) => w.writeQuadruple(v));
/** void: no bytes; its value is `undefined`. */
export const voidType = prim<undefined>('void', 0, () => undefined, () => {});

/** enum NAME { A = 1, … }: values are the numbers; decoding and encoding reject any other. */
export function enumeration<const E extends Record<string, number>>(name: string, members: E): XdrType<E[keyof E]> & { members: E } {
  const values = new Set<number>(Object.values(members));
  return Object.freeze({
    name,
    minSize: 4,
    members,
    read: (r: XdrReader) => r.readEnum(values, name) as E[keyof E],
    write: (w: XdrWriter, v: E[keyof E]) => w.writeEnum(v, values, name),
  });
}

/** A codec of opaque data; `fixed` is the length of `opaque[n]`, `max` the bound of `opaque<max>`. */
export interface OpaqueCodec extends XdrType<Uint8Array> {
  readonly kind: 'opaque';
  readonly fixed: number | undefined;
  readonly max: number | undefined;
}

/** A codec of `string<max>`. */
export interface StringCodec extends XdrType<string> {
  readonly kind: 'string';
  readonly max: number | undefined;
}

/** A codec of `T[n]` (`fixed` set) or `T<max>`. */
export interface ArrayCodec<T> extends XdrType<T[]> {
  readonly kind: 'array';
  readonly of: XdrType<T>;
  readonly fixed: number | undefined;
  readonly max: number | undefined;
}

/** Several values back to back (the arguments of an rpcgen -N procedure): an array, one per part. */
export interface TupleCodec extends XdrType<unknown[]> {
  readonly kind: 'tuple';
  readonly parts: readonly XdrType<any>[];
}

export function fixedOpaque(n: number): OpaqueCodec {
  return Object.freeze({
    kind: 'opaque',
    name: `opaque[${n}]`,
    minSize: n + ((4 - (n & 3)) & 3),
    fixed: n,
    max: undefined,
    read: (r: XdrReader) => r.readFixedOpaque(n),
    write: (w: XdrWriter, v: Uint8Array) => w.writeFixedOpaque(v, n),
  });
}

/** opaque<max>; without `max`, the reader's `maxOpaqueBytes` limit applies. */
export function opaque(max?: number): OpaqueCodec {
  return Object.freeze({
    kind: 'opaque',
    name: max === undefined ? 'opaque<>' : `opaque<${max}>`,
    minSize: 4,
    fixed: undefined,
    max,
    read: (r: XdrReader) => r.readOpaque(max),
    write: (w: XdrWriter, v: Uint8Array) => w.writeOpaque(v, max),
  });
}

/** string<max>; without `max`, the reader's `maxStringBytes` limit applies. */
export function string(max?: number): StringCodec {
  return Object.freeze({
    kind: 'string',
    name: max === undefined ? 'string<>' : `string<${max}>`,
    minSize: 4,
    max,
    read: (r: XdrReader) => r.readString(max),
    write: (w: XdrWriter, v: string) => w.writeString(v, max),
  });
}

/** Reads `n` elements; an error inside element i gets `[i]` on its path. */
function readElements<T>(r: XdrReader, of: XdrType<T>, n: number): T[] {
  const out = new Array<T>(n);
  let i = 0;
  try {
    for (; i < n; i++) out[i] = of.read(r);
  } catch (e) {
    if (e instanceof XdrError) e.prependPath(`[${i}]`);
    throw e;
  }
  return out;
}

function writeElements<T>(w: XdrWriter, of: XdrType<T>, v: readonly T[]): void {
  let i = 0;
  try {
    for (; i < v.length; i++) of.write(w, v[i]!);
  } catch (e) {
    if (e instanceof XdrError) e.prependPath(`[${i}]`);
    throw e;
  }
}

/** T[n]. */
export function fixedArray<T>(of: XdrType<T>, n: number): ArrayCodec<T> {
  return Object.freeze({
    kind: 'array',
    of,
    fixed: n,
    max: undefined,
    name: `${of.name}[${n}]`,
    minSize: of.minSize * n,
    read(r: XdrReader): T[] {
      r.need(of.minSize * n);
      return readElements(r, of, n);
    },
    write(w: XdrWriter, v: T[]): void {
      if (!Array.isArray(v) || v.length !== n) throw badLength(n);
      writeElements(w, of, v);
    },
  });
}

/** T<max>; without `max`, the reader's `maxArrayLength` limit applies. */
export function array<T>(of: XdrType<T>, max?: number): ArrayCodec<T> {
  return Object.freeze({
    kind: 'array',
    of,
    fixed: undefined,
    max,
    name: `${of.name}<${max ?? ''}>`,
    minSize: 4,
    read(r: XdrReader): T[] {
      return readElements(r, of, r.readArrayLength(max, Math.max(1, of.minSize)));
    },
    write(w: XdrWriter, v: T[]): void {
      if (!Array.isArray(v)) throw notArray(v);
      w.writeArrayLength(v.length, max);
      writeElements(w, of, v);
    },
  });
}

/** Several values back to back, read and written as an array with one element per part. */
export function tuple(parts: readonly XdrType<any>[]): TupleCodec {
  return Object.freeze({
    kind: 'tuple',
    parts,
    name: `(${parts.map((p) => p.name).join(', ')})`,
    minSize: parts.reduce((n, p) => n + p.minSize, 0),
    read(r: XdrReader): unknown[] {
      const out = new Array<unknown>(parts.length);
      let i = 0;
      try {
        for (; i < parts.length; i++) out[i] = parts[i]!.read(r);
      } catch (e) {
        if (e instanceof XdrError) e.prependPath(`[${i}]`);
        throw e;
      }
      return out;
    },
    write(w: XdrWriter, v: unknown[]): void {
      if (!Array.isArray(v) || v.length !== parts.length) throw notTuple(parts.length);
      let i = 0;
      try {
        for (; i < parts.length; i++) parts[i]!.write(w, v[i]);
      } catch (e) {
        if (e instanceof XdrError) e.prependPath(`[${i}]`);
        throw e;
      }
    },
  });
}

/**
 * The JS value of optional-data `T *` (RFC 4506 §4.19): `null` when absent, else the value — unless `T`'s
 * own values can be `null` (T is itself optional-data: `typedef node *nodeptr; nodeptr *p;`). Then a
 * present value is boxed, `{ value: T }`, so "present, holding an absent nodeptr" (`{ value: null }`,
 * bytes `00000001 00000000`) stays apart from "absent" (`null`, bytes `00000000`). Each further level of
 * nesting boxes again. The plain single optional is never boxed.
 */
export type Optional<T> = null extends T ? { value: T } | null : T | null;

/**
 * Optional-data `T *`: see {@link Optional}. Whether present values are boxed is decided by `of`: boxed
 * exactly when `of` (through `lazy`) is itself an OptionalType.
 */
export class OptionalType<T> implements XdrType<Optional<T>> {
  readonly name: string;
  readonly minSize = 4;
  #boxed: boolean | undefined;
  constructor(readonly of: XdrType<T>) {
    this.name = `${of.name} *`;
  }
  /** True when present values are `{ value: … }` (the element type is itself optional-data). */
  get boxed(): boolean {
    // Computed on first use: `of` may be a lazy reference to a type still being built.
    return (this.#boxed ??= unwrap(this.of) instanceof OptionalType);
  }
  read(r: XdrReader): Optional<T> {
    if (!r.readOptional()) return null as Optional<T>;
    const v = this.of.read(r);
    return (this.boxed ? { value: v } : v) as Optional<T>;
  }
  write(w: XdrWriter, v: Optional<T>): void {
    if (v === null || v === undefined) {
      w.writeOptional(false);
      return;
    }
    let inner = v as T;
    if (this.boxed) {
      if (typeof v !== 'object' || !('value' in v)) throw notBoxed(v);
      inner = (v as { value: T }).value;
    }
    w.writeOptional(true);
    this.of.write(w, inner);
  }
}

export function optional<T>(of: XdrType<T>): OptionalType<T> {
  return new OptionalType(of);
}
/**
 * A reference to a type defined later (recursive types). Each level counts against the reader's
 * `maxDepth` and the writer's, so hostile or cyclic input fails with a typed error, not a stack overflow.
 */
export class LazyType<T> implements XdrType<T> {
  #target: XdrType<T> | undefined;
  constructor(
    readonly name: string,
    private readonly resolve: () => XdrType<T>,
  ) {}
  get target(): XdrType<T> {
    return (this.#target ??= this.resolve());
  }
  get minSize(): number {
    return 0; // unknown without resolving a possibly cyclic definition; 0 is always safe
  }
  read(r: XdrReader): T {
    r.enter();
    const v = this.target.read(r);
    r.leave();
    return v;
  }
  write(w: XdrWriter, v: T): void {
    w.enter();
    this.target.write(w, v);
    w.leave();
  }
}

export function lazy<T>(name: string, resolve: () => XdrType<T>): LazyType<T> {
  return new LazyType(name, resolve);
}

function unwrap(t: XdrType<unknown>): XdrType<unknown> {
  while (t instanceof LazyType) t = t.target;
  return t;
}

type Field = readonly [name: string, type: XdrType<any>];

/**
 * struct NAME { … }: a plain object with the fields in declaration order.
 *
 * A struct whose last field is optional-data pointing to the struct itself (`struct entry { …; entry
 * *next; }`) is a linked list: it is read and written with a loop, as libtirpc's hand-written
 * xdr_rpcblist_ptr does, so lists of any length need no stack. Errors inside the nth node after the
 * first name it `next#n`.
 */
export class StructType<T extends object> implements XdrType<T> {
  readonly minSize: number;
  #tailSelf: boolean | undefined;
  constructor(
    readonly name: string,
    readonly fields: readonly Field[],
  ) {
    let m = 0;
    for (const [, t] of fields) m += t.minSize;
    this.minSize = m;
  }

  private isLinkedList(): boolean {
    if (this.#tailSelf === undefined) {
      const last = this.fields[this.fields.length - 1];
      this.#tailSelf = last !== undefined && last[1] instanceof OptionalType && unwrap(last[1].of) === this;
    }
    return this.#tailSelf;
  }

  read(r: XdrReader): T {
    if (!this.isLinkedList()) return this.readFields(r, this.fields.length);
    const n = this.fields.length - 1;
    const link = this.fields[n]![0];
    const head = this.readFields(r, n);
    let node = head as Record<string, unknown>;
    let i = 0;
    try {
      while (r.readOptional()) {
        i++;
        const next = this.readFields(r, n) as Record<string, unknown>;
        node[link] = next;
        node = next;
      }
    } catch (e) {
      if (e instanceof XdrError && i > 0) e.prependPath(`${link}#${i}`);
      throw e;
    }
    node[link] = null;
    return head;
  }

  private readFields(r: XdrReader, count: number): T {
    const o: Record<string, unknown> = {};
    const f = this.fields;
    let i = 0;
    try {
      for (; i < count; i++) o[f[i]![0]] = f[i]![1].read(r);
    } catch (e) {
      if (e instanceof XdrError) e.prependPath(f[i]![0]);
      throw e;
    }
    if (count < f.length) o[f[count]![0]] = null;
    return o as T;
  }

  write(w: XdrWriter, v: T): void {
    if (!this.isLinkedList()) return this.writeFields(w, v, this.fields.length);
    const n = this.fields.length - 1;
    const link = this.fields[n]![0];
    this.writeFields(w, v, n);
    let node = (v as Record<string, unknown>)[link];
    let i = 0;
    try {
      while (node !== null && node !== undefined) {
        i++;
        w.writeOptional(true);
        this.writeFields(w, node as T, n);
        node = (node as Record<string, unknown>)[link];
      }
    } catch (e) {
      if (e instanceof XdrError) e.prependPath(`${link}#${i}`);
      throw e;
    }
    w.writeOptional(false);
  }

  private writeFields(w: XdrWriter, v: T, count: number): void {
    if (v === null || typeof v !== 'object') throw notObject(v, `struct ${this.name}`);
    const f = this.fields;
    let i = 0;
    try {
      for (; i < count; i++) f[i]![1].write(w, (v as Record<string, unknown>)[f[i]![0]]);
    } catch (e) {
      if (e instanceof XdrError) e.prependPath(f[i]![0]);
      throw e;
    }
  }
}

export function struct<T extends object = Record<string, unknown>>(name: string, fields: readonly Field[]): StructType<T> {
  return new StructType<T>(name, fields);
}

/** One arm of a union: the field it fills and its type, or null for a void arm. */
export type UnionArm = readonly [field: string, type: XdrType<any>] | null;

/** Description of a discriminated union (RFC 4506 §4.15). */
export interface UnionSpec {
  /** The discriminant's field name and type (int, unsigned int, an enum, or bool). */
  discriminant: readonly [field: string, type: XdrType<number> | XdrType<boolean>];
  /** Case values and the arm they select; several values may share an arm. */
  arms: ReadonlyArray<readonly [values: ReadonlyArray<number | boolean>, arm: UnionArm]>;
  /** The default arm: omitted (undefined) when the union has none, null for `default: void`. */
  default?: UnionArm;
}

/**
 * union NAME switch (D d) { … }: `{ d: value, arm: armValue }`, or just `{ d: value }` for a void arm.
 * A discriminant that selects no arm and no default is `ERR_XDR_DISCRIMINANT`.
 */
export class UnionType<T extends object> implements XdrType<T> {
  readonly minSize: number;
  readonly #arms = new Map<number | boolean, UnionArm>();
  readonly #hasDefault: boolean;
  readonly #default: UnionArm;
  constructor(
    readonly name: string,
    readonly spec: UnionSpec,
  ) {
    for (const [values, arm] of spec.arms) for (const v of values) this.#arms.set(v, arm);
    this.#hasDefault = spec.default !== undefined;
    this.#default = spec.default ?? null;
    this.minSize = spec.discriminant[1].minSize;
  }

  private armFor(d: number | boolean): UnionArm | undefined {
    const arm = this.#arms.get(d);
    if (arm !== undefined) return arm;
    return this.#hasDefault ? this.#default : undefined;
  }

  read(r: XdrReader): T {
    const [dname, dtype] = this.spec.discriminant;
    const at = r.pos;
    let d: number | boolean;
    try {
      d = dtype.read(r);
    } catch (e) {
      if (e instanceof XdrError) e.prependPath(dname);
      throw e;
    }
    const arm = this.armFor(d);
    if (arm === undefined) throw r.badDiscriminant(d, this.name, at);
    if (arm === null) return { [dname]: d } as T;
    try {
      return { [dname]: d, [arm[0]]: arm[1].read(r) } as T;
    } catch (e) {
      if (e instanceof XdrError) e.prependPath(arm[0]);
      throw e;
    }
  }

  write(w: XdrWriter, v: T): void {
    if (v === null || typeof v !== 'object') throw notObject(v, `union ${this.name}`);
    const [dname, dtype] = this.spec.discriminant;
    const d = (v as Record<string, unknown>)[dname] as number & boolean;
    const arm = this.armFor(d);
    if (arm === undefined) throw new XdrEncodeError(`${String(d)} selects no arm of union ${this.name}`).prependPath(dname);
    try {
      dtype.write(w, d);
    } catch (e) {
      if (e instanceof XdrError) e.prependPath(dname);
      throw e;
    }
    if (arm === null) return;
    try {
      arm[1].write(w, (v as Record<string, unknown>)[arm[0]]);
    } catch (e) {
      if (e instanceof XdrError) e.prependPath(arm[0]);
      throw e;
    }
  }
}

export function union<T extends object = Record<string, unknown>>(name: string, spec: UnionSpec): UnionType<T> {
  return new UnionType<T>(name, spec);
}
