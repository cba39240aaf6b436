// What the TypeScript emitter knows about a checked .x: every named type (anonymous ones named, see
// names.ts), the TS name of every .x name, the wire shape of every declaration with typedefs of
// scalars/strings/opaques folded in, fixed sizes (for one-capacity-check runs), and recursion.

import type {
  Declaration,
  Definition,
  EnumBody,
  Pos,
  ProgramDefinition,
  Schema,
  TypeSpec,
  UnionBody,
  Value,
} from './ast.js';
import { capitalize, NameTable } from './names.js';

/** A named type of the output module. */
export interface TypeInfo {
  /** The .x name (or the generated name of an anonymous type). */
  readonly xName: string;
  /** Its TypeScript name. */
  ts: string;
  /** Codec function names. */
  read: string;
  write: string;
  readonly def: TypeDef;
  readonly pos: Pos;
  /** Part of a cycle of references other than a linked list's tail (reads/writes count depth). */
  recursive: boolean;
  /** Strongly connected component id in the reference graph. */
  scc: number;
  /** True for an anonymous type given a generated name. */
  readonly anonymous: boolean;
  /** The module that defines it: this one, or another .x's (Schema.imports). */
  readonly owner: Model;
}

export type TypeDef =
  | { kind: 'struct'; fields: Declaration[]; /** The tail `self *next` field of a linked list. */ link: Declaration | null }
  | { kind: 'union'; body: UnionBody }
  | { kind: 'enum'; body: EnumBody }
  | { kind: 'typedef'; decl: Declaration };

/** A bound or size: its value and how to write it (the const's name when the .x used one). */
export interface Bound {
  value: number;
  expr: string;
}

/** The wire shape of a declaration, as the codec emitter needs it. */
export type Shape =
  | { k: 'int' | 'uint' | 'hyper' | 'uhyper' | 'float' | 'double' | 'bool' | 'quadruple' }
  | { k: 'enum'; t: TypeInfo }
  | { k: 'string' | 'opaque'; max: Bound | null }
  | { k: 'fixedOpaque'; size: Bound }
  | { k: 'array'; of: Shape; max: Bound | null; ts: string }
  | { k: 'fixedArray'; of: Shape; size: Bound; ts: string }
  /** `boxed`: the element's own values can be null (optional of optional-data), so present is `{ value }`. */
  | { k: 'optional'; of: Shape; boxed: boolean }
  | { k: 'struct'; t: TypeInfo }
  | { k: 'call'; t: TypeInfo }
  | { k: 'void' };

export class Model {
  readonly names = new NameTable();
  /** Named types in emission order (anonymous types right before their parent). */
  readonly types: TypeInfo[] = [];
  /** .x constant name → TS name (constants only; enum members are written `enum.MEMBER`). */
  readonly constNames = new Map<string, string>();
  /** Enum member name → [enum type, member]. */
  readonly enumMembers = new Map<string, { t: TypeInfo; member: string }>();
  readonly #byName = new Map<string, TypeInfo>();
  readonly #bySpec = new Map<TypeSpec, TypeInfo>();
  readonly #fixed = new Map<TypeInfo, number | null>();
  readonly #min = new Map<TypeInfo, number>();
  /** Models of the .x files this one uses types from (Schema.imports). */
  readonly imported: Model[];

  /**
   * `literals`: bounds and sizes are written as numbers, never as the .x constant's name (for code that is
   * evaluated without the module's constants: the run-time loader's JavaScript).
   */
  constructor(
    readonly schema: Schema,
    readonly options: { literals?: boolean } = {},
  ) {
    this.imported = (schema.imports ?? []).map((s) => new Model(s, options));
    const defs = schema.spec.definitions;
    // Constants first: their names are the most visible (bounds refer to them).
    for (const d of defs) if (d.kind === 'const' || d.kind === 'stringConst') this.constNames.set(d.name, this.names.claim(d.name, true));
    for (const d of defs) this.#collect(d);
    for (const t of this.types) {
      t.ts = this.names.claim(t.xName, t.def.kind === 'enum');
    }
    for (const t of this.types) {
      if (t.def.kind === 'enum') for (const m of t.def.body.members) this.enumMembers.set(m.name, { t, member: m.name });
    }
    for (const t of this.types) {
      t.read = this.names.claim('read' + capitalize(t.ts), true);
      t.write = this.names.claim('write' + capitalize(t.ts), true);
    }
    this.#findRecursion();
  }

  get programs(): readonly ProgramDefinition[] {
    return this.schema.programs;
  }

  /** The named type a `ref` points to (a typedef of an inline type points to that type). */
  byName(name: string): TypeInfo {
    const t = this.lookup(name);
    if (!t) throw new Error(`internal: unknown type ${name}`); // resolve reports unknown names
    return t;
  }

  /** This module's type `name`, else an imported module's. */
  lookup(name: string): TypeInfo | undefined {
    const t = this.#byName.get(name);
    if (t) return t;
    for (const m of this.imported) {
      const u = m.lookup(name);
      if (u) return u;
    }
    return undefined;
  }

  /** Every imported module, transitively. */
  allImported(out = new Set<Model>()): Set<Model> {
    for (const m of this.imported) {
      if (out.has(m)) continue;
      out.add(m);
      m.allImported(out);
    }
    return out;
  }

  /** The generated type of an inline enum/struct/union specifier. */
  bySpec(spec: TypeSpec): TypeInfo {
    const t = this.#bySpec.get(spec);
    if (!t) throw new Error(`internal: inline ${spec.kind} was not collected`);
    return t;
  }

  value(v: Value): bigint {
    return this.schema.value(v);
  }

  bound(v: Value): Bound {
    const n = Number(this.schema.value(v));
    const c = v.kind === 'name' && !this.options.literals ? this.constNames.get(v.name) : undefined;
    return { value: n, expr: c ?? String(n) };
  }

  #add(xName: string, def: TypeDef, pos: Pos, anonymous: boolean, spec?: TypeSpec): TypeInfo {
    const t: TypeInfo = { xName, ts: '', read: '', write: '', def, pos, recursive: false, scc: -1, anonymous, owner: this };
    this.types.push(t);
    if (!anonymous || spec === undefined) this.#byName.set(xName, t);
    if (spec) this.#bySpec.set(spec, t);
    return t;
  }

  #collect(d: Definition): void {
    switch (d.kind) {
      case 'typedef': {
        const decl = d.decl;
        const name = declName(decl);
        if (decl.kind === 'plain' && isInline(decl.type)) {
          // typedef struct { … } t;  declares t itself.
          this.#inline(decl.type, name, false);
          this.#byName.set(name, this.bySpec(decl.type));
          return;
        }
        this.#inlineIn(decl, name, 'elem');
        this.#add(name, { kind: 'typedef', decl }, d.pos, false);
        return;
      }
      case 'struct':
        for (const f of d.body.fields) this.#inlineIn(f, d.name, declName(f));
        this.#add(d.name, { kind: 'struct', fields: d.body.fields, link: null }, d.pos, false);
        return;
      case 'union':
        this.#unionInlines(d.body, d.name);
        this.#add(d.name, { kind: 'union', body: d.body }, d.pos, false);
        return;
      case 'enum':
        this.#add(d.name, { kind: 'enum', body: d.body }, d.pos, false);
        return;
      case 'program':
        for (const v of d.versions) {
          for (const p of v.procedures) {
            p.args.forEach((a, i) => this.#inlineIn(a, p.name, `arg${i + 1}`));
            this.#inlineIn(p.result, p.name, 'res');
          }
        }
        return;
      default:
        return;
    }
  }

  #unionInlines(body: UnionBody, parent: string): void {
    this.#inlineIn(body.discriminant, parent, declName(body.discriminant));
    for (const c of body.cases) this.#inlineIn(c.arm, parent, declName(c.arm));
    if (body.default) this.#inlineIn(body.default, parent, declName(body.default));
  }

  /** Names the inline type a declaration carries, if any: `<parent>_<field>`. */
  #inlineIn(decl: Declaration, parent: string, field: string): void {
    if (decl.kind === 'void' || !('type' in decl)) return;
    if (isInline(decl.type)) this.#inline(decl.type, `${parent}_${field || 'elem'}`, true);
  }

  #inline(spec: TypeSpec, name: string, anonymous: boolean): void {
    switch (spec.kind) {
      case 'struct':
        for (const f of spec.body.fields) this.#inlineIn(f, name, declName(f));
        this.#add(name, { kind: 'struct', fields: spec.body.fields, link: null }, spec.pos, anonymous, spec);
        return;
      case 'union':
        this.#unionInlines(spec.body, name);
        this.#add(name, { kind: 'union', body: spec.body }, spec.pos, anonymous, spec);
        return;
      case 'enum':
        this.#add(name, { kind: 'enum', body: spec.body }, spec.pos, anonymous, spec);
        return;
      default:
        return;
    }
  }

  /** The TypeInfo a type specifier names, or null for a built-in type. */
  infoOf(spec: TypeSpec): TypeInfo | null {
    if (spec.kind === 'ref') return this.byName(spec.name);
    if (isInline(spec)) return this.bySpec(spec);
    return null;
  }

  // ---- shapes ---------------------------------------------------------------------------------------

  shapeOfSpec(spec: TypeSpec, depth = 0): Shape {
    switch (spec.kind) {
      case 'int':
        return { k: spec.unsigned ? 'uint' : 'int' };
      case 'hyper':
        return { k: spec.unsigned ? 'uhyper' : 'hyper' };
      case 'float':
      case 'double':
      case 'bool':
      case 'quadruple':
      case 'void':
        return { k: spec.kind };
      default: {
        const t = this.infoOf(spec)!;
        return this.shapeOfInfo(t, depth);
      }
    }
  }

  /** The shape of a value of named type `t`, with typedefs of scalars, strings and opaques folded in. */
  shapeOfInfo(t: TypeInfo, depth = 0): Shape {
    if (t.owner !== this) return t.owner.shapeOfInfo(t, depth);
    switch (t.def.kind) {
      case 'enum':
        return { k: 'enum', t };
      case 'struct':
        return { k: 'struct', t };
      case 'union':
        return { k: 'call', t };
      case 'typedef': {
        const decl = t.def.decl;
        if (depth > 64) return { k: 'call', t };
        if (decl.kind === 'plain') return this.shapeOfSpec(decl.type, depth + 1);
        if (decl.kind === 'string' || decl.kind === 'varOpaque' || decl.kind === 'fixedOpaque') return this.shapeOfDecl(decl, depth + 1);
        if (decl.kind === 'fixedArray') {
          const s = this.shapeOfDecl(decl, depth + 1);
          if (this.fixedSize(s) !== null) return s;
        }
        return { k: 'call', t };
      }
    }
  }

  shapeOfDecl(decl: Declaration, depth = 0): Shape {
    switch (decl.kind) {
      case 'plain':
        return this.shapeOfSpec(decl.type, depth);
      case 'fixedArray':
        return { k: 'fixedArray', of: this.shapeOfSpec(decl.type, depth), size: this.bound(decl.size), ts: this.tsOfSpec(decl.type) };
      case 'varArray':
        return { k: 'array', of: this.shapeOfSpec(decl.type, depth), max: decl.max ? this.bound(decl.max) : null, ts: this.tsOfSpec(decl.type) };
      case 'fixedOpaque':
        return { k: 'fixedOpaque', size: this.bound(decl.size) };
      case 'varOpaque':
        return { k: 'opaque', max: decl.max ? this.bound(decl.max) : null };
      case 'string':
        return { k: 'string', max: decl.max ? this.bound(decl.max) : null };
      case 'optional': {
        const of = this.shapeOfSpec(decl.type, depth);
        return { k: 'optional', of, boxed: this.nullable(of) };
      }
      case 'void':
        return { k: 'void' };
    }
  }

  /** Bytes every value of `s` takes, or null if it varies (or is not worth a fixed run: quadruple, opaque). */
  fixedSize(s: Shape): number | null {
    switch (s.k) {
      case 'int':
      case 'uint':
      case 'float':
      case 'bool':
      case 'enum':
        return 4;
      case 'hyper':
      case 'uhyper':
      case 'double':
        return 8;
      case 'fixedArray': {
        const e = this.fixedSize(s.of);
        return e === null ? null : e * s.size.value;
      }
      case 'struct':
        return this.structFixedSize(s.t);
      default:
        return null;
    }
  }

  structFixedSize(t: TypeInfo): number | null {
    if (t.owner !== this) return t.owner.structFixedSize(t);
    if (this.#fixed.has(t)) return this.#fixed.get(t)!;
    this.#fixed.set(t, null); // a cycle is never fixed-size
    if (t.def.kind !== 'struct' || t.def.link) return null;
    let n = 0;
    for (const f of t.def.fields) {
      const s = this.fixedSize(this.shapeOfDecl(f));
      if (s === null) return null;
      n += s;
    }
    this.#fixed.set(t, n);
    return n;
  }

  /** Fewest bytes a value of `s` can take (a lower bound; array counts are checked against it). */
  minSize(s: Shape): number {
    switch (s.k) {
      case 'hyper':
      case 'uhyper':
      case 'double':
        return 8;
      case 'quadruple':
        return 16;
      case 'void':
        return 0;
      case 'fixedOpaque':
        return s.size.value + ((4 - (s.size.value & 3)) & 3);
      case 'fixedArray':
        return this.minSize(s.of) * s.size.value;
      case 'struct':
      case 'call':
        return this.#minOfInfo(s.t);
      default:
        return 4;
    }
  }

  #minOfInfo(t: TypeInfo): number {
    if (t.owner !== this) return t.owner.minSize({ k: 'call', t });
    const known = this.#min.get(t);
    if (known !== undefined) return known;
    this.#min.set(t, 0); // cycles: 0 is always a safe lower bound
    let n = 4;
    if (t.def.kind === 'struct') {
      n = 0;
      for (const f of t.def.fields) n += this.minSize(this.shapeOfDecl(f));
    } else if (t.def.kind === 'typedef') n = this.minSize(this.shapeOfDecl(t.def.decl));
    this.#min.set(t, n);
    return n;
  }

  // ---- TypeScript types ---------------------------------------------------------------------------

  tsOfSpec(spec: TypeSpec): string {
    switch (spec.kind) {
      case 'int':
      case 'float':
      case 'double':
        return 'number';
      case 'hyper':
        return 'bigint';
      case 'bool':
        return 'boolean';
      case 'quadruple':
        return 'Quadruple';
      case 'void':
        return 'void';
      default:
        return this.infoOf(spec)!.ts;
    }
  }

  /** The TS type of a declaration's value (not for void). */
  tsOfDecl(decl: Declaration): string {
    switch (decl.kind) {
      case 'plain':
        return this.tsOfSpec(decl.type);
      case 'fixedArray':
      case 'varArray':
        return `${this.tsOfSpec(decl.type)}[]`;
      case 'fixedOpaque':
      case 'varOpaque':
        return 'Uint8Array';
      case 'string':
        return 'string';
      case 'optional': {
        const ts = this.tsOfSpec(decl.type);
        return this.nullable(this.shapeOfSpec(decl.type)) ? `{ value: ${ts} } | null` : `${ts} | null`;
      }
      case 'void':
        return 'void';
    }
  }

  /** The TS type of a value of shape `s` (for the annotation of a local). */
  tsOfShape(s: Shape): string {
    switch (s.k) {
      case 'int':
      case 'uint':
      case 'float':
      case 'double':
        return 'number';
      case 'hyper':
      case 'uhyper':
        return 'bigint';
      case 'bool':
        return 'boolean';
      case 'quadruple':
        return 'Quadruple';
      case 'string':
        return 'string';
      case 'opaque':
      case 'fixedOpaque':
        return 'Uint8Array';
      case 'array':
      case 'fixedArray':
        return `${s.ts}[]`;
      case 'optional':
        return s.boxed ? `{ value: ${this.tsOfShape(s.of)} } | null` : `${this.tsOfShape(s.of)} | null`;
      case 'enum':
      case 'struct':
      case 'call':
        return s.t.ts;
      case 'void':
        return 'undefined';
    }
  }

  /**
   * Whether a value of shape `s` can be null: it is optional-data, directly or through typedefs. An
   * optional of such a shape boxes its present values (src/xdr/types.ts Optional).
   */
  nullable(s: Shape, depth = 0): boolean {
    if (s.k === 'optional') return true;
    if (s.k !== 'call' || s.t.def.kind !== 'typedef' || depth > 64) return false;
    return this.nullable(s.t.owner.shapeOfDecl(s.t.def.decl), depth + 1);
  }

  // ---- recursion --------------------------------------------------------------------------------------

  /** Named types a shape refers to directly (not through another named type). */
  refsOfShape(s: Shape, out: TypeInfo[] = []): TypeInfo[] {
    switch (s.k) {
      case 'struct':
      case 'call':
        out.push(s.t);
        break;
      case 'array':
      case 'fixedArray':
      case 'optional':
        this.refsOfShape(s.of, out);
        break;
      default:
        break;
    }
    return out;
  }

  #edges(t: TypeInfo): TypeInfo[] {
    const out: TypeInfo[] = [];
    const def = t.def;
    if (t.owner !== this) return out;
    if (def.kind === 'struct') {
      for (const f of def.fields) if (f !== def.link) this.refsOfShape(this.shapeOfDecl(f), out);
    } else if (def.kind === 'union') {
      for (const c of def.body.cases) this.refsOfShape(this.shapeOfDecl(c.arm), out);
      if (def.body.default) this.refsOfShape(this.shapeOfDecl(def.body.default), out);
    } else if (def.kind === 'typedef') {
      const s = this.shapeOfInfo(t);
      // A typedef the shape folds away still calls its own body.
      this.refsOfShape(s.k === 'call' && s.t === t ? this.shapeOfDecl(def.decl) : s, out);
    }
    return out;
  }

  #findRecursion(): void {
    // Linked lists first: a struct whose last field is optional-data of the struct itself.
    for (const t of this.types) {
      if (t.def.kind !== 'struct') continue;
      const last = t.def.fields[t.def.fields.length - 1];
      if (last === undefined) continue;
      const s = this.shapeOfDecl(last);
      const opt = s.k === 'call' && s.t.def.kind === 'typedef' ? this.shapeOfDecl(s.t.def.decl) : s;
      if (opt.k === 'optional' && opt.of.k === 'struct' && opt.of.t === t) t.def.link = last;
    }
    // Tarjan's strongly connected components.
    let index = 0;
    const idx = new Map<TypeInfo, number>();
    const low = new Map<TypeInfo, number>();
    const stack: TypeInfo[] = [];
    const on = new Set<TypeInfo>();
    let scc = 0;
    const visit = (t: TypeInfo): void => {
      idx.set(t, index);
      low.set(t, index++);
      stack.push(t);
      on.add(t);
      const edges = this.#edges(t);
      for (const u of edges) {
        if (u.owner !== this) continue;
        if (!idx.has(u)) {
          visit(u);
          low.set(t, Math.min(low.get(t)!, low.get(u)!));
        } else if (on.has(u)) low.set(t, Math.min(low.get(t)!, idx.get(u)!));
      }
      if (low.get(t) === idx.get(t)) {
        const members: TypeInfo[] = [];
        let u: TypeInfo;
        do {
          u = stack.pop()!;
          on.delete(u);
          u.scc = scc;
          members.push(u);
        } while (u !== t);
        const cyclic = members.length > 1 || edges.includes(t);
        for (const m of members) m.recursive = cyclic;
        scc++;
      }
    };
    for (const t of this.types) if (!idx.has(t)) visit(t);
  }

  /** True if reading `s` inside type `from` re-enters `from`'s cycle (so it must count depth). */
  reenters(s: Shape, from: TypeInfo | null): boolean {
    if (from === null || !from.recursive) return false;
    return this.refsOfShape(s).some((u) => u.owner === from.owner && u.scc === from.scc);
  }
}

export function declName(d: Declaration): string {
  return d.kind === 'void' ? '' : d.name;
}

function isInline(spec: TypeSpec): spec is Extract<TypeSpec, { kind: 'enum' | 'struct' | 'union' }> {
  return spec.kind === 'enum' || spec.kind === 'struct' || spec.kind === 'union';
}

/** The .x text of a declaration, for doc comments: `string name<MAXNAME>`, `node *next`, `int fa[3]`. */
export function declText(d: Declaration, valueText: (v: Value) => string): string {
  const t = (s: TypeSpec): string => specText(s);
  switch (d.kind) {
    case 'plain':
      return `${t(d.type)} ${d.name}`.trimEnd();
    case 'fixedArray':
      return `${t(d.type)} ${d.name}[${valueText(d.size)}]`;
    case 'varArray':
      return `${t(d.type)} ${d.name}<${d.max ? valueText(d.max) : ''}>`;
    case 'fixedOpaque':
      return `opaque ${d.name}[${valueText(d.size)}]`;
    case 'varOpaque':
      return `opaque ${d.name}<${d.max ? valueText(d.max) : ''}>`;
    case 'string':
      return `string ${d.name}<${d.max ? valueText(d.max) : ''}>`;
    case 'optional':
      return `${t(d.type)} *${d.name}`;
    case 'void':
      return 'void';
  }
}

export function specText(s: TypeSpec): string {
  switch (s.kind) {
    case 'int':
      return s.unsigned ? 'unsigned int' : 'int';
    case 'hyper':
      return s.unsigned ? 'unsigned hyper' : 'hyper';
    case 'ref':
      return s.name;
    case 'enum':
    case 'struct':
    case 'union':
      return `${s.kind} { … }`;
    default:
      return s.kind;
  }
}
