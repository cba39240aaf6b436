// Emits the constants and TypeScript types of a .x module (plain types, erased at compile time, so values
// are ordinary objects a caller builds and reads without the schema): interfaces for structs,
// discriminated unions keyed by the discriminant's field name, enums as a const object plus a literal
// union type, typedefs as type aliases. Doc comments carry the .x declaration and its place.

import { basename } from 'node:path';
import type { Declaration, Pos, Value } from './ast.js';
import { declText, type Model, type TypeInfo } from './emit-model.js';
import { propKey, quote } from './names.js';
import type { Printer } from './printer.js';

export function where(pos: Pos): string {
  return `${basename(pos.file)}:${pos.line}`;
}

/** A JS literal for a constant: a number when exact, else a bigint literal. */
export function numberLiteral(v: bigint): string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? String(v) : `${v}n`;
}

export function valueText(_m: Model): (v: Value) => string {
  return (v) => (v.kind === 'name' ? v.name : String(v.value));
}

export function emitConstants(m: Model, out: Printer): void {
  for (const d of m.schema.spec.definitions) {
    if (d.kind === 'stringConst') {
      out.line(`/** const ${d.name} (${where(d.pos)}) */`);
      out.line(`export const ${m.constNames.get(d.name)} = ${quote(d.value)};`);
      continue;
    }
    if (d.kind !== 'const') continue;
    out.line(`/** const ${d.name} (${where(d.pos)}) */`);
    out.line(`export const ${m.constNames.get(d.name)} = ${numberLiteral(m.value(d.value))};`);
  }
}

/** Types in .x order; `%` lines become comments where they stood. */
export function emitTypes(m: Model, out: Printer): void {
  // Emit each definition's anonymous types just before it: m.types is already in that order, so walk
  // the definitions and drain m.types up to the definition's own entry.
  let next = 0;
  const emitUpTo = (t: TypeInfo | undefined): void => {
    while (next < m.types.length) {
      const u = m.types[next++]!;
      emitType(m, u, out);
      if (u === t) return;
    }
  };
  for (const d of m.schema.spec.definitions) {
    if (d.kind === 'passthrough') {
      out.line(`// %${d.text}`);
      out.line('');
    } else if (d.kind === 'typedef' || d.kind === 'struct' || d.kind === 'union' || d.kind === 'enum') {
      const name = d.kind === 'typedef' ? (d.decl.kind === 'void' ? '' : d.decl.name) : d.name;
      emitUpTo(m.byName(name));
    }
  }
  emitUpTo(undefined); // anonymous types of procedure arguments
}

function emitType(m: Model, t: TypeInfo, out: Printer): void {
  const def = t.def;
  const vt = valueText(m);
  const renamed = t.ts !== t.xName && !t.anonymous ? `; TS name ${t.ts} (${t.xName} is reserved or taken)` : '';
  switch (def.kind) {
    case 'enum': {
      out.line(`/** enum ${t.xName} (${where(t.pos)})${renamed} */`);
      out.block(`export const ${t.ts} = {`, () => {
        for (const mem of def.body.members) out.line(`${propKey(mem.name)}: ${numberLiteral(m.value(mem.value))},`);
      }, '} as const;');
      out.line(`export type ${t.ts} = (typeof ${t.ts})[keyof typeof ${t.ts}];`);
      break;
    }
    case 'struct': {
      out.line(`/** struct ${t.xName} (${where(t.pos)})${renamed}${def.link ? `: a linked list through \`${declNameOf(def.link)}\`` : ''} */`);
      out.block(`export interface ${t.ts} {`, () => {
        for (const f of def.fields) emitField(m, f, out, vt);
      });
      break;
    }
    case 'union': {
      const body = def.body;
      const dn = declNameOf(body.discriminant);
      const dspec = body.discriminant.kind === 'plain' ? body.discriminant.type : null;
      const selects: string[] = [];
      const label = (v: Value): string => vt(v);
      for (const c of body.cases) selects.push(`${c.values.map(label).join(', ')} → ${armText(c.arm)}`);
      if (body.default) selects.push(`default → ${armText(body.default)}`);
      out.line('/**');
      out.line(` * union ${t.xName} switch (${declText(body.discriminant, vt)}) (${where(t.pos)})${renamed}`);
      out.line(` * ${dn} selects: ${selects.join('; ')}`);
      if (body.default && dspec && dspec.kind === 'int') {
        out.line(` * The default arm's \`${dn}\` is typed \`number\` (TypeScript cannot exclude the listed values from`);
        out.line(' * `number`); the codecs dispatch on the value, so a listed value always selects its own arm.');
      }
      out.line(' */');
      out.line(`export type ${t.ts} =`);
      out.indent();
      const members = unionMembers(m, t);
      if (members.length === 0) out.line('never;');
      members.forEach((mem, i) => out.line(`| ${mem.text}${i === members.length - 1 ? ';' : ''}${mem.comment ? ` // ${mem.comment}` : ''}`));
      out.dedent();
      break;
    }
    case 'typedef': {
      out.line(`/** typedef ${declText(def.decl, vt)} (${where(t.pos)})${renamed} */`);
      out.line(`export type ${t.ts} = ${m.tsOfDecl(def.decl)};`);
      break;
    }
  }
  out.line('');
}

function declNameOf(d: Declaration): string {
  return d.kind === 'void' ? '' : d.name;
}

function armText(d: Declaration): string {
  return d.kind === 'void' ? 'void' : d.name;
}

function emitField(m: Model, f: Declaration, out: Printer, vt: (v: Value) => string): void {
  if (f.kind === 'void') return;
  out.line(`/** ${declText(f, vt)} */`);
  out.line(`${propKey(f.name)}: ${m.tsOfDecl(f)};`);
}

/** The discriminant's TS literal for a case value: `1`, `true`, `typeof color.RED`. */
export function caseLiteral(m: Model, t: TypeInfo, v: Value): { type: string; expr: string; value: bigint } {
  if (t.def.kind !== 'union') throw new Error(`internal: ${t.xName} is not a union`);
  const d = t.def.body.discriminant;
  const n = m.value(v);
  if (d.kind === 'plain') {
    if (d.type.kind === 'bool') return { type: n ? 'true' : 'false', expr: n ? 'true' : 'false', value: n };
    if (d.type.kind === 'ref' || d.type.kind === 'enum') {
      const e = m.infoOf(d.type)!;
      const et = enumOf(m, e);
      if (et && et.def.kind === 'enum') {
        const mem = et.def.body.members.find((x) => m.value(x.value) === n);
        if (mem) {
          const expr = `${et.ts}${/^[A-Za-z_$][\w$]*$/.test(mem.name) ? `.${mem.name}` : `[${JSON.stringify(mem.name)}]`}`;
          return { type: `typeof ${expr}`, expr, value: n };
        }
      }
    }
  }
  return { type: String(n), expr: String(n), value: n };
}

/** The enum type behind a discriminant type (through typedefs), if any. */
export function enumOf(m: Model, t: TypeInfo): TypeInfo | null {
  const s = m.shapeOfInfo(t);
  return s.k === 'enum' ? s.t : null;
}

export interface UnionMember {
  text: string;
  comment: string;
}

/** One TS object type per arm, in .x order, the default arm last. */
export function unionMembers(m: Model, t: TypeInfo): UnionMember[] {
  if (t.def.kind !== 'union') return [];
  const body = t.def.body;
  const dn = propKey(declNameOf(body.discriminant));
  const vt = valueText(m);
  const out: UnionMember[] = [];
  const armField = (arm: Declaration): string => (arm.kind === 'void' ? '' : `; ${propKey(arm.name)}: ${m.tsOfDecl(arm)}`);
  const listed: string[] = [];
  for (const c of body.cases) {
    const lits = c.values.map((v) => caseLiteral(m, t, v).type);
    listed.push(...lits);
    out.push({ text: `{ ${dn}: ${lits.join(' | ')}${armField(c.arm)} }`, comment: declText(c.arm, vt) });
  }
  if (body.default) {
    const dtype = defaultDiscriminantType(m, t, listed);
    if (dtype !== null) out.push({ text: `{ ${dn}: ${dtype}${armField(body.default)} }`, comment: `default: ${declText(body.default, vt)}` });
  }
  return out;
}

/** The discriminant type of the default arm, or null when no value is left for it. */
export function defaultDiscriminantType(m: Model, t: TypeInfo, listed: string[]): string | null {
  if (t.def.kind !== 'union') return null;
  const d = t.def.body.discriminant;
  if (d.kind !== 'plain') return 'number';
  if (d.type.kind === 'bool') {
    const rest = ['true', 'false'].filter((x) => !listed.includes(x));
    return rest.length ? rest.join(' | ') : null;
  }
  const info = d.type.kind === 'int' ? null : m.infoOf(d.type);
  const e = info ? enumOf(m, info) : null;
  if (e && e.def.kind === 'enum') {
    const used = new Set(t.def.body.cases.flatMap((c) => c.values.map((v) => m.value(v))));
    if (e.def.body.members.every((mem) => used.has(m.value(mem.value)))) return null;
    return listed.length ? `Exclude<${e.ts}, ${listed.join(' | ')}>` : e.ts;
  }
  return 'number';
}
