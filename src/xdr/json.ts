// The JSON mapping of XDR values (docs/json-mapping.md): what every CLI command reads and prints.
//
// toJson(type, value) turns a value of a run-time codec (src/xdr/types.ts, or loadSchema's) into plain
// JSON; fromJson(type, json) does the reverse and checks the JSON's shape, throwing XdrEncodeError with
// the path of the bad field. Linked lists (a struct whose last field points to the struct itself) are
// walked with a loop, so long lists need no stack.

import { SchemaError, XdrEncodeError, XdrError } from '../errors.js';
import { Quadruple } from './quadruple.js';
import { encodeText } from './text.js';
import { notBoxed } from './value-errors.js';
import * as x from './types.js';

/** JSON values. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyType = x.XdrType<any>;

type Kind =
  | { k: 'int' | 'uint' | 'hyper' | 'uhyper' | 'bool' | 'float' | 'double' | 'quadruple' | 'void' | 'string' }
  | { k: 'enum'; members: Record<string, number> }
  | { k: 'opaque'; fixed: number | undefined }
  | { k: 'array'; of: AnyType; fixed: number | undefined }
  | { k: 'tuple'; of: readonly AnyType[] }
  | { k: 'optional'; of: AnyType; boxed: boolean }
  | { k: 'struct'; t: x.StructType<object> }
  | { k: 'union'; t: x.UnionType<object> };

function unwrap(t: AnyType): AnyType {
  while (t instanceof x.LazyType) t = t.target;
  return t;
}

const kinds = new WeakMap<object, Kind>();

function kindOf(type: AnyType): Kind {
  const t = unwrap(type);
  let k = kinds.get(t);
  if (k) return k;
  k = classify(t);
  kinds.set(t, k);
  return k;
}

function classify(t: AnyType): Kind {
  if (t === x.int) return { k: 'int' };
  if (t === x.uint) return { k: 'uint' };
  if (t === x.hyper) return { k: 'hyper' };
  if (t === x.uhyper) return { k: 'uhyper' };
  if (t === x.bool) return { k: 'bool' };
  if (t === x.float) return { k: 'float' };
  if (t === x.double) return { k: 'double' };
  if (t === x.quadruple) return { k: 'quadruple' };
  if (t === x.voidType) return { k: 'void' };
  if (t instanceof x.StructType) return { k: 'struct', t };
  if (t instanceof x.UnionType) return { k: 'union', t };
  if (t instanceof x.OptionalType) return { k: 'optional', of: t.of, boxed: t.boxed };
  if ('members' in t && typeof (t as { members: unknown }).members === 'object') return { k: 'enum', members: (t as unknown as { members: Record<string, number> }).members };
  // Structural combinators describe themselves (src/xdr/types.ts: OpaqueCodec, StringCodec, ArrayCodec, TupleCodec).
  const c = t as Partial<x.OpaqueCodec | x.StringCodec | x.ArrayCodec<unknown> | x.TupleCodec>;
  switch (c.kind) {
    case 'array':
      return { k: 'array', of: (c as x.ArrayCodec<unknown>).of, fixed: (c as x.ArrayCodec<unknown>).fixed };
    case 'opaque':
      return { k: 'opaque', fixed: (c as x.OpaqueCodec).fixed };
    case 'string':
      return { k: 'string' };
    case 'tuple':
      return { k: 'tuple', of: (c as x.TupleCodec).parts };
  }
  throw new SchemaError(`no JSON mapping for XDR type ${t.name}`);
}

/** The struct's link field if it is a linked list (last field: optional-data of the struct itself). */
function linkField(s: x.StructType<object>): string | undefined {
  const last = s.fields[s.fields.length - 1];
  if (last && last[1] instanceof x.OptionalType && unwrap(last[1].of) === s) return last[0];
  return undefined;
}

function at<T>(segment: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof XdrError) e.prependPath(segment);
    throw e;
  }
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

function bytesToHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function hexToBytes(s: unknown, what: string): Uint8Array {
  if (typeof s !== 'string' || !HEX.test(s)) throw new XdrEncodeError(`${what} must be a string of hex digit pairs, got ${show(s)}`);
  return new Uint8Array(Buffer.from(s, 'hex'));
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})`;
  try {
    const s = JSON.stringify(v);
    if (s === undefined) return String(v);
    return s.length > 60 ? s.slice(0, 57) + '...' : s;
  } catch {
    return String(v);
  }
}

function floatToJson(v: unknown): Json {
  if (typeof v !== 'number') throw new XdrEncodeError(`${show(v)} is not a number`);
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (Object.is(v, -0)) return '-0';
  return v;
}

function floatFromJson(j: unknown): number {
  if (typeof j === 'number') return j;
  switch (j) {
    case 'NaN':
      return NaN;
    case 'Infinity':
      return Infinity;
    case '-Infinity':
      return -Infinity;
    case '-0':
      return -0;
  }
  throw new XdrEncodeError(`${show(j)} is not a number (or "NaN", "Infinity", "-Infinity", "-0")`);
}

function enumName(members: Record<string, number>, v: unknown): string {
  for (const name in members) if (members[name] === v) return name;
  throw new XdrEncodeError(`${show(v)} is not a value of the enum (${Object.keys(members).join(', ')})`);
}

function enumFromJson(members: Record<string, number>, j: unknown): number {
  if (typeof j === 'string' && Object.hasOwn(members, j)) return members[j]!;
  if (typeof j === 'number' && Object.values(members).includes(j)) return j;
  throw new XdrEncodeError(`${show(j)} is not a member of the enum (${Object.keys(members).join(', ')})`);
}

const INT_RE = /^-?(?:0|[1-9]\d*)$/;

function hyperFromJson(j: unknown, unsigned: boolean): bigint {
  let v: bigint;
  if (typeof j === 'string' && INT_RE.test(j)) v = BigInt(j);
  else if (typeof j === 'number' && Number.isSafeInteger(j)) v = BigInt(j);
  else throw new XdrEncodeError(`${show(j)} is not ${unsigned ? 'an unsigned hyper' : 'a hyper'} (a decimal string)`);
  const ok = unsigned ? v >= 0n && v < 1n << 64n : v >= -(1n << 63n) && v < 1n << 63n;
  if (!ok) throw new XdrEncodeError(`${j} is out of range for ${unsigned ? 'unsigned hyper' : 'hyper'}`);
  return v;
}

function isObject(j: unknown): j is Record<string, unknown> {
  return j !== null && typeof j === 'object' && !Array.isArray(j);
}

/** The arm a discriminant selects: [field, type], null for void, undefined for none. */
function armOf(u: x.UnionType<object>, d: number | boolean): x.UnionArm | undefined {
  for (const [values, arm] of u.spec.arms) if (values.includes(d)) return arm;
  return u.spec.default;
}

/** A value of `type` as JSON (see docs/json-mapping.md). Throws XdrEncodeError (with path) on a value that does not fit. */
export function toJson(type: AnyType, value: unknown): Json {
  const k = kindOf(type);
  const v = value;
  switch (k.k) {
    case 'int':
      if (typeof v !== 'number' || (v | 0) !== v) throw new XdrEncodeError(`${show(v)} is not an int`);
      return v;
    case 'uint':
      if (typeof v !== 'number' || v >>> 0 !== v) throw new XdrEncodeError(`${show(v)} is not an unsigned int`);
      return v;
    case 'hyper':
    case 'uhyper':
      if (typeof v !== 'bigint') throw new XdrEncodeError(`${show(v)} is not a bigint`);
      return v.toString();
    case 'bool':
      if (typeof v !== 'boolean') throw new XdrEncodeError(`${show(v)} is not a bool`);
      return v;
    case 'float':
    case 'double':
      return floatToJson(v);
    case 'quadruple':
      if (!(v instanceof Quadruple)) throw new XdrEncodeError(`${show(v)} is not a Quadruple`);
      return bytesToHex(v.bytes);
    case 'void':
      return null;
    case 'string':
      if (typeof v !== 'string') throw new XdrEncodeError(`${show(v)} is not a string`);
      return v;
    case 'opaque':
      if (!(v instanceof Uint8Array)) throw new XdrEncodeError(`${show(v)} is not a Uint8Array`);
      return bytesToHex(v);
    case 'enum':
      return enumName(k.members, v);
    case 'array':
    case 'tuple': {
      if (!Array.isArray(v)) throw new XdrEncodeError(`${show(v)} is not an array`);
      const out: Json[] = new Array(v.length);
      for (let i = 0; i < v.length; i++) {
        const of = k.k === 'array' ? k.of : k.of[i];
        if (!of) throw new XdrEncodeError(`${v.length} values for ${(k.of as readonly AnyType[]).length} arguments`);
        out[i] = at(`[${i}]`, () => toJson(of, v[i]));
      }
      return out;
    }
    case 'optional':
      if (v === null || v === undefined) return null;
      if (!k.boxed) return toJson(k.of, v);
      // An optional of optional-data: present is { value: … } (src/xdr/types.ts Optional).
      if (!isObject(v) || !('value' in v)) throw notBoxed(v);
      return { value: at('value', () => toJson(k.of, v.value)) };
    case 'struct':
      return structToJson(k.t, v);
    case 'union': {
      if (!isObject(v)) throw new XdrEncodeError(`${show(v)} is not an object (union ${k.t.name})`);
      const [dname, dtype] = k.t.spec.discriminant;
      const d = v[dname] as number | boolean;
      const arm = armOf(k.t, d);
      if (arm === undefined) throw new XdrEncodeError(`${show(d)} selects no arm of union ${k.t.name}`).prependPath(dname);
      const o: Record<string, Json> = { [dname]: at(dname, () => toJson(dtype, d)) };
      if (arm !== null) o[arm[0]] = at(arm[0], () => toJson(arm[1], v[arm[0]]));
      return o;
    }
  }
}

function structToJson(s: x.StructType<object>, value: unknown): Json {
  const link = linkField(s);
  const n = link === undefined ? s.fields.length : s.fields.length - 1;
  const one = (v: unknown): Record<string, Json> => {
    if (!isObject(v)) throw new XdrEncodeError(`${show(v)} is not an object (struct ${s.name})`);
    const o: Record<string, Json> = {};
    for (let i = 0; i < n; i++) {
      const [f, t] = s.fields[i]!;
      o[f] = at(f, () => toJson(t, v[f]));
    }
    return o;
  };
  const head = one(value);
  if (link === undefined) return head;
  let node = head;
  let v = (value as Record<string, unknown>)[link];
  let i = 0;
  try {
    while (v !== null && v !== undefined) {
      i++;
      const next = one(v);
      node[link] = next;
      node = next;
      v = (v as Record<string, unknown>)[link];
    }
  } catch (e) {
    if (e instanceof XdrError) e.prependPath(`${link}#${i}`);
    throw e;
  }
  node[link] = null;
  return head;
}

/** The value of `type` that `json` stands for (see docs/json-mapping.md). Throws XdrEncodeError with the path of the bad field. */
export function fromJson(type: AnyType, json: unknown): unknown {
  const k = kindOf(type);
  const j = json;
  switch (k.k) {
    case 'int':
      if (typeof j !== 'number' || (j | 0) !== j) throw new XdrEncodeError(`${show(j)} is not an int (-2147483648..2147483647)`);
      return j;
    case 'uint':
      if (typeof j !== 'number' || j >>> 0 !== j) throw new XdrEncodeError(`${show(j)} is not an unsigned int (0..4294967295)`);
      return j;
    case 'hyper':
      return hyperFromJson(j, false);
    case 'uhyper':
      return hyperFromJson(j, true);
    case 'bool':
      if (typeof j !== 'boolean') throw new XdrEncodeError(`${show(j)} is not a bool (true or false)`);
      return j;
    case 'float':
    case 'double':
      return floatFromJson(j);
    case 'quadruple':
      if (typeof j === 'number') return Quadruple.fromNumber(j);
      if (typeof j === 'string' && j.length === 32 && HEX.test(j)) return new Quadruple(hexToBytes(j, 'quadruple'));
      throw new XdrEncodeError(`${show(j)} is not a quadruple (32 hex digits, or a number)`);
    case 'void':
      if (j !== null && j !== undefined) throw new XdrEncodeError(`${show(j)} given for void (use null)`);
      return undefined;
    case 'string':
      if (typeof j !== 'string') throw new XdrEncodeError(`${show(j)} is not a string`);
      if (!j.isWellFormed()) {
        try {
          encodeText(j);
        } catch {
          throw new XdrEncodeError('string holds a lone surrogate outside U+DC80..U+DCFF (which stand for raw bytes)');
        }
      }
      return j;
    case 'opaque': {
      const b = hexToBytes(j, 'opaque');
      if (k.fixed !== undefined && b.length !== k.fixed) throw new XdrEncodeError(`fixed opaque needs ${k.fixed} bytes, got ${b.length}`);
      return b;
    }
    case 'enum':
      return enumFromJson(k.members, j);
    case 'array':
    case 'tuple': {
      if (!Array.isArray(j)) throw new XdrEncodeError(`${show(j)} is not an array`);
      const want = k.k === 'array' ? k.fixed : k.of.length;
      if (want !== undefined && j.length !== want) throw new XdrEncodeError(`needs exactly ${want} elements, got ${j.length}`);
      const out = new Array<unknown>(j.length);
      for (let i = 0; i < j.length; i++) {
        const of = k.k === 'array' ? k.of : k.of[i]!;
        out[i] = at(`[${i}]`, () => fromJson(of, j[i]));
      }
      return out;
    }
    case 'optional': {
      if (j === null) return null;
      if (!k.boxed) return fromJson(k.of, j);
      if (!isObject(j) || !('value' in j)) throw notBoxed(j);
      for (const key of Object.keys(j)) if (key !== 'value') throw new XdrEncodeError(`unexpected field "${key}" (a present optional of optional-data is {"value": …})`);
      return { value: at('value', () => fromJson(k.of, j.value)) };
    }
    case 'struct':
      return structFromJson(k.t, j);
    case 'union': {
      const u = k.t;
      if (!isObject(j)) throw new XdrEncodeError(`${show(j)} is not an object (union ${u.name})`);
      const [dname, dtype] = u.spec.discriminant;
      if (!(dname in j)) throw new XdrEncodeError(`missing discriminant field "${dname}" (union ${u.name})`);
      const d = at(dname, () => fromJson(dtype, j[dname])) as number | boolean;
      const arm = armOf(u, d);
      if (arm === undefined) throw new XdrEncodeError(`${show(j[dname])} selects no arm of union ${u.name}`).prependPath(dname);
      for (const key of Object.keys(j)) {
        if (key !== dname && (arm === null || key !== arm[0])) throw new XdrEncodeError(`unexpected field "${key}" (${show(j[dname])} selects ${arm === null ? 'a void arm' : `arm "${arm[0]}"`} of union ${u.name})`);
      }
      const o: Record<string, unknown> = { [dname]: d };
      if (arm !== null) {
        if (!(arm[0] in j)) throw new XdrEncodeError(`missing field "${arm[0]}" (selected by ${show(j[dname])} in union ${u.name})`);
        o[arm[0]] = at(arm[0], () => fromJson(arm[1], j[arm[0]]));
      }
      return o;
    }
  }
}

function structFromJson(s: x.StructType<object>, json: unknown): unknown {
  const link = linkField(s);
  const n = link === undefined ? s.fields.length : s.fields.length - 1;
  const one = (j: unknown): Record<string, unknown> => {
    if (!isObject(j)) throw new XdrEncodeError(`${show(j)} is not an object (struct ${s.name})`);
    const o: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const [f, t] = s.fields[i]!;
      if (!(f in j)) throw new XdrEncodeError(`missing field "${f}" (struct ${s.name})`);
      o[f] = at(f, () => fromJson(t, j[f]));
    }
    for (const key of Object.keys(j)) {
      if (!s.fields.some(([f]) => f === key)) throw new XdrEncodeError(`unexpected field "${key}" (struct ${s.name} has ${s.fields.map(([f]) => f).join(', ')})`);
    }
    if (link !== undefined && !(link in j)) throw new XdrEncodeError(`missing field "${link}" (struct ${s.name}; null ends the list)`);
    return o;
  };
  const head = one(json);
  if (link === undefined) return head;
  let node = head;
  let j = (json as Record<string, unknown>)[link];
  let i = 0;
  try {
    while (j !== null) {
      i++;
      const next = one(j);
      node[link] = next;
      node = next;
      j = (j as Record<string, unknown>)[link];
    }
  } catch (e) {
    if (e instanceof XdrError) e.prependPath(`${link}#${i}`);
    throw e;
  }
  node[link] = null;
  return head;
}
