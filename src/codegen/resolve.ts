// Name resolution, constant folding and the semantic checks of a parsed .x file: builds the
// `Schema` every emitter reads. All problems are collected as diagnostics; nothing here throws on
// bad input.

import type {
  Declaration,
  Definition,
  Diagnostic,
  EnumBody,
  Pos,
  ProgramDefinition,
  Schema,
  Specification,
  StructBody,
  TypeDefinition,
  TypeSpec,
  UnionBody,
  Value,
} from './ast.js';
import { implicitEnumValues } from './parser.js';
import { evalIntegerExpression } from './preprocess.js';
import { Diagnostics, formatPos } from './source.js';

/**
 * C types that .x files use without declaring them (rpcgen passes the names through to C, where
 * <rpc/types.h> and <rpc/xdr.h> define them and their xdr_ routines), as the .x typedef with the
 * same bytes on the wire. When a file uses one of these names without defining it, `resolve`
 * inserts the typedef at the start of `spec.definitions` (its `pos` is the first use).
 */
export const BUILTIN_TYPES: ReadonlyMap<string, (pos: Pos) => Declaration> = new Map<string, (pos: Pos) => Declaration>([
  ...(['u_int', 'u_long', 'u_short', 'u_char', 'uint32_t', 'u_int32_t'] as const).map(
    (n) => [n, (pos: Pos): Declaration => ({ kind: 'plain', name: n, type: { kind: 'int', unsigned: true, pos }, pos })] as const,
  ),
  ...(['int32_t'] as const).map((n) => [n, (pos: Pos): Declaration => ({ kind: 'plain', name: n, type: { kind: 'int', unsigned: false, pos }, pos })] as const),
  ...(['int64_t', 'quad_t'] as const).map(
    (n) => [n, (pos: Pos): Declaration => ({ kind: 'plain', name: n, type: { kind: 'hyper', unsigned: false, pos }, pos })] as const,
  ),
  ...(['uint64_t', 'u_int64_t', 'u_quad_t'] as const).map(
    (n) => [n, (pos: Pos): Declaration => ({ kind: 'plain', name: n, type: { kind: 'hyper', unsigned: true, pos }, pos })] as const,
  ),
  ['bool_t', (pos: Pos): Declaration => ({ kind: 'plain', name: 'bool_t', type: { kind: 'bool', pos }, pos })],
  // <rpc/auth.h>: union des_block (8 bytes), xdr_des_block = xdr_opaque(…, 8)
  ['des_block', (pos: Pos): Declaration => ({ kind: 'fixedOpaque', name: 'des_block', size: { kind: 'literal', value: 8n, pos }, pos })],
  // <rpc/xdr.h>: struct netobj { u_int n_len; char *n_bytes; }, xdr_netobj = xdr_bytes(…, MAX_NETOBJ_SZ 1024)
  ['netobj', (pos: Pos): Declaration => ({ kind: 'varOpaque', name: 'netobj', max: { kind: 'literal', value: 1024n, pos }, pos })],
]);

/** Constants .x files use without declaring them (<rpc/types.h>, <rpc/auth.h>), defined like BUILTIN_TYPES. */
export const BUILTIN_CONSTANTS: ReadonlyMap<string, bigint> = new Map([
  ['TRUE', 1n],
  ['FALSE', 0n],
  ['MAXNETNAMELEN', 255n], // <rpc/auth.h>
]);

const INT_MIN = -(2n ** 31n);
const INT_MAX = 2n ** 31n - 1n;
const UINT_MAX = 2n ** 32n - 1n;
const CONST_MIN = -(2n ** 63n);
const CONST_MAX = 2n ** 64n - 1n;

type SymbolKind = 'constant' | 'string constant' | 'enum member' | 'type' | 'program' | 'version' | 'procedure';
interface Sym {
  kind: SymbolKind;
  pos: Pos;
  /** Program, version and procedure numbers (rpcgen #defines them; equal redefinitions are fine). */
  number?: bigint | null;
  /** The number as written, for program, version and procedure names used as constants. */
  expr?: Value;
}

type DeclContext = 'field' | 'typedef' | 'arm' | 'discriminant' | 'procedure';

class ResolvedSchema implements Schema {
  constructor(
    readonly spec: Specification,
    readonly constants: ReadonlyMap<string, bigint>,
    readonly types: ReadonlyMap<string, TypeDefinition>,
    readonly programs: readonly ProgramDefinition[],
    readonly imports: readonly Schema[],
  ) {}

  value(v: Value): bigint {
    if (v.kind === 'literal') return v.value;
    const c = this.constants.get(v.name) ?? findImported(this.imports, (s) => s.constants.get(v.name));
    if (c === undefined) throw new Error(`'${v.name}' is not a constant of ${this.spec.file}`);
    return c;
  }

  lookup(name: string): TypeDefinition | undefined {
    return this.types.get(name) ?? findImported(this.imports, (s) => s.types.get(name));
  }

  definition(name: string): TypeDefinition {
    let def = this.lookup(name);
    for (let hops = 0; def; hops++) {
      if (def.kind !== 'typedef' || def.decl.kind !== 'plain' || def.decl.type.kind !== 'ref' || hops > 1000) return def;
      def = this.lookup(def.decl.type.name);
    }
    throw new Error(`'${name}' is not a type of ${this.spec.file}`);
  }
}

/**
 * Checks a parsed specification and builds its `Schema`. The schema is returned even when there
 * are errors (for tools that want partial results); only an error-free one is safe to emit from.
 * Mutates the AST, in these documented ways only: `typedef struct x x;` (C noise) is removed;
 * definitions for outside names the file uses without defining are inserted — typedefs and
 * consts for {@link BUILTIN_TYPES} / {@link BUILTIN_CONSTANTS} at the start of
 * `spec.definitions`, and a `const` right after a `%#define NAME expr` line whose NAME is used
 * as a value (nlm_prot.x's LM_MAXSTRLEN) — so emitters see ordinary definitions; enum members
 * numbered implicitly after a named value get their literal.
 */
export function resolve(spec: Specification, options: ResolveOptions = {}): { schema: Schema; diagnostics: Diagnostic[] } {
  const imports = options.imports ?? [];
  const r = new Resolver(spec, imports);
  r.run();
  return { schema: new ResolvedSchema(spec, r.constants, r.types, r.programs, imports), diagnostics: r.diags.list };
}

export interface ResolveOptions {
  /** Checked schemas whose types and constants this file may use (see `Schema.imports`). */
  imports?: readonly Schema[];
}

function findImported<T>(imports: readonly Schema[], get: (s: Schema) => T | undefined, seen = new Set<Schema>()): T | undefined {
  for (const s of imports) {
    if (seen.has(s)) continue;
    seen.add(s);
    const v = get(s) ?? findImported(s.imports, get, seen);
    if (v !== undefined) return v;
  }
  return undefined;
}

class Resolver {
  readonly diags = new Diagnostics();
  readonly constants = new Map<string, bigint>();
  readonly types = new Map<string, TypeDefinition>();
  readonly programs: ProgramDefinition[] = [];
  readonly #symbols = new Map<string, Sym>();
  /** Constants whose value could not be determined (errors already reported). */
  readonly #bad = new Set<string>();
  /** `const` definitions and enum members, for folding on demand (forward references are fine). */
  readonly #constDefs = new Map<string, { value: Value; enumMember: boolean }>();
  readonly #folding = new Set<string>();

  constructor(
    readonly spec: Specification,
    readonly imports: readonly Schema[],
  ) {}

  run(): void {
    this.#prepare();
    for (const def of this.spec.definitions) this.#declare(def);
    // Fold every constant once, in file order, so errors appear where the constant is defined.
    for (const def of this.spec.definitions) {
      if (def.kind === 'const') this.#constant(def.name);
      else this.#forEachEnum(def, (body) => this.#foldEnum(body));
    }
    for (const def of this.spec.definitions) this.#check(def);
    const infinite = this.#checkTermination();
    this.#checkTypedefCycles(infinite);
    this.#checkCodecNames();
  }

  // ---- names ----

  /**
   * Adapts rpcgen-isms before checking: drops `typedef struct x x;` (C noise, x is already a
   * type), and defines the outside names the file uses without defining — built-in C types and
   * constants, and `%#define NAME expr` constants — as real definitions (see {@link resolve}).
   */
  #prepare(): void {
    const defs = this.spec.definitions;
    const tagged = new Set<string>();
    for (const d of defs) if (d.kind === 'enum' || d.kind === 'struct' || d.kind === 'union') tagged.add(d.name);
    for (let i = defs.length - 1; i >= 0; i--) {
      const d = defs[i]!;
      if (d.kind === 'typedef' && d.decl.kind === 'plain' && d.decl.type.kind === 'ref' && d.decl.type.name === d.decl.name && tagged.has(d.decl.name))
        defs.splice(i, 1);
    }
    const declared = new Set<string>();
    const literalConsts = new Map<string, bigint>();
    const macros = new Map<string, { body: string; def: Definition }>();
    for (const d of defs) {
      switch (d.kind) {
        case 'const':
          if (d.value.kind === 'literal') literalConsts.set(d.name, d.value.value);
          declared.add(d.name);
          break;
        case 'stringConst':
        case 'enum':
        case 'struct':
        case 'union':
          declared.add(d.name);
          break;
        case 'typedef':
          if (d.decl.kind !== 'void') declared.add(d.decl.name);
          break;
        case 'program':
          declared.add(d.name);
          for (const v of d.versions) {
            declared.add(v.name);
            for (const p of v.procedures) declared.add(p.name);
          }
          break;
        case 'passthrough': {
          const m = /^\s*#\s*define\s+([A-Za-z_]\w*)\s+(\S.*)$/.exec(d.text);
          if (m && !macros.has(m[1]!)) macros.set(m[1]!, { body: m[2]!, def: d });
          break;
        }
      }
      if (d.kind === 'enum') for (const m of d.body.members) declared.add(m.name);
      visitDefinition(d, { type: (t) => t.kind === 'enum' && t.body.members.forEach((m) => declared.add(m.name)) });
    }
    const usedTypes = new Map<string, Pos>();
    const usedValues = new Map<string, Pos>();
    for (const d of defs)
      visitDefinition(d, {
        type: (t) => {
          if (t.kind === 'ref' && !declared.has(t.name) && !usedTypes.has(t.name)) usedTypes.set(t.name, t.pos);
        },
        value: (v) => {
          if (v.kind === 'name' && !declared.has(v.name) && !usedValues.has(v.name)) usedValues.set(v.name, v.pos);
        },
      });
    const front: Definition[] = [];
    for (const [name, pos] of usedTypes) {
      const make = BUILTIN_TYPES.get(name);
      if (make && !this.#importedType(name)) front.push({ kind: 'typedef', decl: make(pos), pos });
    }
    const after = new Map<Definition, Definition[]>();
    const lookup = (name: string, depth: number): bigint | null => {
      const b = BUILTIN_CONSTANTS.get(name) ?? literalConsts.get(name);
      if (b !== undefined) return b;
      const m = macros.get(name);
      if (!m || depth > 32) return null;
      return evalIntegerExpression(m.body, (n) => lookup(n, depth + 1));
    };
    for (const [name, pos] of usedValues) {
      if (this.#importedConstant(name) !== undefined) continue;
      const b = BUILTIN_CONSTANTS.get(name);
      if (b !== undefined) {
        front.push({ kind: 'const', name, value: { kind: 'literal', value: b, pos }, pos });
        continue;
      }
      const m = macros.get(name);
      const v = m ? lookup(name, 0) : null;
      if (m && v !== null) {
        const list = after.get(m.def) ?? [];
        list.push({ kind: 'const', name, value: { kind: 'literal', value: v, pos: m.def.pos }, pos: m.def.pos });
        after.set(m.def, list);
      }
    }
    if (front.length === 0 && after.size === 0) return;
    const out = [...front];
    for (const d of defs) out.push(d, ...(after.get(d) ?? []));
    defs.length = 0;
    defs.push(...out);
  }

  /** A type of an imported schema (searched depth-first, in import order). */
  #importedType(name: string): TypeDefinition | undefined {
    return findImported(this.imports, (s) => s.types.get(name));
  }

  #importedConstant(name: string): bigint | undefined {
    return findImported(this.imports, (s) => s.constants.get(name));
  }

  #define(name: string, kind: SymbolKind, pos: Pos, number?: bigint | null, expr?: Value): boolean {
    const old = this.#symbols.get(name);
    if (old) {
      const numbered = (k: SymbolKind): boolean => k === 'program' || k === 'version' || k === 'procedure';
      if (numbered(old.kind) && numbered(kind) && (old.number === number || old.number == null || number == null)) return false;
      const article = /^[aeiou]/.test(old.kind) ? 'an' : 'a';
      this.diags.error(pos, `'${name}' is already defined (as ${article} ${old.kind} at ${formatPos(old.pos)})`);
      return false;
    }
    this.#symbols.set(name, { kind, pos, number, ...(expr ? { expr } : {}) });
    return true;
  }

  #declare(def: Definition): void {
    switch (def.kind) {
      case 'const':
        if (this.#define(def.name, 'constant', def.pos)) this.#constDefs.set(def.name, { value: def.value, enumMember: false });
        return;
      case 'stringConst':
        this.#define(def.name, 'string constant', def.pos);
        return;
      case 'typedef':
        if (def.decl.kind === 'void') {
          this.diags.error(def.decl.pos, "'void' cannot be given a type name");
          return;
        }
        if (this.#define(def.decl.name, 'type', def.decl.pos)) this.types.set(def.decl.name, def);
        this.#declareInlineEnums(def.decl);
        return;
      case 'enum':
        if (this.#define(def.name, 'type', def.pos)) this.types.set(def.name, def);
        this.#declareEnumMembers(def.body);
        return;
      case 'struct':
        if (this.#define(def.name, 'type', def.pos)) this.types.set(def.name, def);
        for (const f of def.body.fields) this.#declareInlineEnums(f);
        return;
      case 'union':
        if (this.#define(def.name, 'type', def.pos)) this.types.set(def.name, def);
        this.#declareUnionEnums(def.body);
        return;
      case 'program':
        this.programs.push(def);
        this.#define(def.name, 'program', def.pos, this.#quietValue(def.number), def.number);
        // Repeats within one program or version are reported by #program, once.
        const versions = new Set<string>();
        for (const v of def.versions) {
          if (!versions.has(v.name)) this.#define(v.name, 'version', v.pos, this.#quietValue(v.number), v.number);
          versions.add(v.name);
          const procs = new Set<string>();
          for (const p of v.procedures) {
            if (!procs.has(p.name)) this.#define(p.name, 'procedure', p.pos, this.#quietValue(p.number), p.number);
            procs.add(p.name);
            for (const a of [p.result, ...p.args]) this.#declareInlineEnums(a);
          }
        }
        return;
      case 'passthrough':
        return;
    }
  }

  /** A literal's value for the "same number redefined" rule (names are compared after folding: skip). */
  #quietValue(v: Value): bigint | null {
    return v.kind === 'literal' ? v.value : null;
  }

  #declareEnumMembers(body: EnumBody): void {
    for (const m of body.members)
      if (this.#define(m.name, 'enum member', m.pos)) this.#constDefs.set(m.name, { value: m.value, enumMember: true });
  }

  #declareUnionEnums(body: UnionBody): void {
    this.#declareInlineEnums(body.discriminant);
    for (const c of body.cases) this.#declareInlineEnums(c.arm);
    if (body.default) this.#declareInlineEnums(body.default);
  }

  /** rpcgen makes the members of anonymous enums global C constants too. */
  #declareInlineEnums(d: Declaration): void {
    const t = declType(d);
    if (!t) return;
    if (t.kind === 'enum') this.#declareEnumMembers(t.body);
    else if (t.kind === 'struct') for (const f of t.body.fields) this.#declareInlineEnums(f);
    else if (t.kind === 'union') this.#declareUnionEnums(t.body);
  }

  #forEachEnum(def: Definition, f: (body: EnumBody) => void): void {
    const visitDecl = (d: Declaration): void => {
      const t = declType(d);
      if (!t) return;
      if (t.kind === 'enum') f(t.body);
      else if (t.kind === 'struct') t.body.fields.forEach(visitDecl);
      else if (t.kind === 'union') visitUnion(t.body);
    };
    const visitUnion = (u: UnionBody): void => {
      visitDecl(u.discriminant);
      for (const c of u.cases) visitDecl(c.arm);
      if (u.default) visitDecl(u.default);
    };
    switch (def.kind) {
      case 'enum':
        f(def.body);
        return;
      case 'typedef':
        visitDecl(def.decl);
        return;
      case 'struct':
        def.body.fields.forEach(visitDecl);
        return;
      case 'union':
        visitUnion(def.body);
        return;
      case 'program':
        for (const v of def.versions) for (const p of v.procedures) [p.result, ...p.args].forEach(visitDecl);
        return;
      default:
        return;
    }
  }

  // ---- constants ----

  /** The value of constant `name` (folding it on first use); null when unknown or bad (reported). */
  #constant(name: string): bigint | null {
    const known = this.constants.get(name);
    if (known !== undefined) return known;
    if (this.#bad.has(name)) return null;
    const def = this.#constDefs.get(name);
    if (!def) return null;
    if (this.#folding.has(name)) {
      this.diags.error(def.value.pos, `constant '${name}' is defined in terms of itself`);
      this.#bad.add(name);
      return null;
    }
    this.#folding.add(name);
    let v: bigint | null;
    if (def.value.kind === 'literal') {
      const prev = implicitEnumValues.get(def.value);
      if (prev) {
        const p = this.#value(prev, 'constant');
        v = p === null ? null : p + 1n;
        if (v !== null) def.value.value = v;
      } else v = def.value.value;
    } else v = this.#value(def.value, 'constant');
    this.#folding.delete(name);
    if (v !== null) {
      if (def.enumMember && (v < INT_MIN || v > INT_MAX)) {
        this.diags.error(def.value.pos, `value ${v} of enum member '${name}' is out of range for int (${INT_MIN}..${INT_MAX})`);
        v = null;
      } else if (!def.enumMember && (v < CONST_MIN || v > CONST_MAX)) {
        this.diags.error(def.value.pos, `value ${v} of constant '${name}' is out of range (${CONST_MIN}..${CONST_MAX})`);
        v = null;
      }
    }
    if (v === null) this.#bad.add(name);
    else this.constants.set(name, v);
    return v;
  }

  /** Folds a value; reports names that are not constants. `what` names the use in messages. */
  #value(v: Value, what: string): bigint | null {
    if (v.kind === 'literal') return v.value;
    if (this.#constDefs.has(v.name)) return this.#constant(v.name);
    const sym = this.#symbols.get(v.name);
    if (sym?.expr) {
      // rpcgen #defines program, version and procedure names, so they stand as constants
      // (rpcb_prot.x: `const rpcb_highproc_2 = RPCBPROC_CALLIT;`, `RPCBPROC_BCAST(…) = RPCBPROC_CALLIT;`).
      if (this.constants.has(v.name)) return this.constants.get(v.name)!;
      if (this.#folding.has(v.name)) {
        this.diags.error(v.pos, `'${v.name}' is defined in terms of itself`);
        return null;
      }
      this.#folding.add(v.name);
      const n = this.#value(sym.expr, what);
      this.#folding.delete(v.name);
      if (n !== null) this.constants.set(v.name, n);
      return n;
    }
    if (sym) {
      this.diags.error(v.pos, `'${v.name}' is a ${sym.kind}, not a constant (in ${what})`);
      return null;
    }
    const imported = this.#importedConstant(v.name);
    if (imported !== undefined) return imported;
    this.diags.error(v.pos, `unknown constant '${v.name}'`);
    return null;
  }

  #foldEnum(body: EnumBody): void {
    for (const m of body.members) if (this.#constDefs.get(m.name)?.value === m.value) this.#constant(m.name);
  }

  /** A size or bound: a constant in 0..2^32-1. */
  #size(v: Value, what: string): bigint | null {
    const n = this.#value(v, what);
    if (n === null) return null;
    if (n < 0n) {
      this.diags.error(v.pos, `${what} must not be negative (it is ${n})`);
      return null;
    }
    if (n > UINT_MAX) {
      this.diags.error(v.pos, `${what} ${n} is too large (the maximum is ${UINT_MAX})`);
      return null;
    }
    return n;
  }

  // ---- types ----

  #check(def: Definition): void {
    switch (def.kind) {
      case 'typedef':
        if (def.decl.kind !== 'void') this.#decl(def.decl, 'typedef');
        return;
      case 'enum':
        return;
      case 'struct':
        this.#struct(def.body);
        return;
      case 'union':
        this.#union(def.body);
        return;
      case 'program':
        this.#program(def);
        return;
      default:
        return;
    }
  }

  #decl(d: Declaration, ctx: DeclContext): void {
    switch (d.kind) {
      case 'void':
        if (ctx !== 'arm' && ctx !== 'procedure') this.diags.error(d.pos, `'void' is only allowed as a union arm or a procedure argument or result`);
        return;
      case 'plain':
        this.#type(d.type, ctx);
        return;
      case 'optional':
        this.#type(d.type, null);
        return;
      case 'fixedArray':
        this.#type(d.type, null);
        this.#size(d.size, 'array size');
        return;
      case 'varArray':
        this.#type(d.type, null);
        if (d.max) this.#size(d.max, 'array bound');
        return;
      case 'fixedOpaque':
        this.#size(d.size, 'opaque size');
        return;
      case 'varOpaque':
        if (d.max) this.#size(d.max, 'opaque bound');
        return;
      case 'string':
        if (d.max) this.#size(d.max, 'string bound');
        return;
    }
  }

  /** `ctx` is where a plain declaration of this type sits (void is allowed only in some); null: inside an array or optional. */
  #type(t: TypeSpec, ctx: DeclContext | null): void {
    switch (t.kind) {
      case 'void':
        if (ctx === null || ctx === 'procedure' || ctx === 'arm') this.diags.error(t.pos, `'void' cannot be named, made optional or put in an array`);
        else this.diags.error(t.pos, `'void' is only allowed as a union arm or a procedure argument or result`);
        return;
      case 'ref': {
        if (this.types.has(t.name) || this.#importedType(t.name)) return;
        const sym = this.#symbols.get(t.name);
        if (sym) this.diags.error(t.pos, `'${t.name}' is a ${sym.kind}, not a type`);
        else this.diags.error(t.pos, `unknown type '${t.name}'`);
        return;
      }
      case 'struct':
        this.#struct(t.body);
        return;
      case 'union':
        this.#union(t.body);
        return;
      default:
        return;
    }
  }

  #struct(body: StructBody): void {
    const seen = new Map<string, Pos>();
    for (const f of body.fields) {
      this.#decl(f, 'field');
      if (f.kind !== 'void') this.#unique(seen, f.name, f.pos, 'field');
    }
  }

  #unique(seen: Map<string, Pos>, name: string, pos: Pos, what: string, where = ''): void {
    if (name === '') return;
    const old = seen.get(name);
    if (old) this.diags.error(pos, `duplicate ${what} '${name}'${where} (first at ${formatPos(old)})`);
    else seen.set(name, pos);
  }

  #union(body: UnionBody): void {
    const d = body.discriminant;
    const kind = this.#discriminantKind(d);
    const seen = new Map<string, Pos>();
    if (d.kind !== 'void') this.#unique(seen, d.name, d.pos, 'field');
    const values = new Map<bigint, Pos>();
    for (const c of body.cases) {
      for (const v of c.values) {
        const n = this.#value(v, 'case label');
        if (n === null) continue;
        if (kind !== null) {
          const [lo, hi] = kind.kind === 'unsigned' ? [0n, UINT_MAX] : kind.kind === 'bool' ? [0n, 1n] : [INT_MIN, INT_MAX];
          if (n < lo || n > hi) {
            this.diags.error(v.pos, `case value ${n} is out of range for ${DISCRIMINANT_WORDS[kind.kind]} discriminant`);
            continue;
          }
          if (kind.kind === 'enum' && kind.values && !kind.values.has(n))
            this.diags.warning(v.pos, `case value ${n} is not a member of the discriminant's enum`);
        }
        const old = values.get(n);
        if (old) this.diags.error(v.pos, `duplicate case value ${n} (first at ${formatPos(old)})`);
        else values.set(n, v.pos);
      }
      this.#decl(c.arm, 'arm');
      if (c.arm.kind !== 'void') this.#unique(seen, c.arm.name, c.arm.pos, 'union arm');
    }
    if (body.default) {
      this.#decl(body.default, 'arm');
      if (body.default.kind !== 'void') this.#unique(seen, body.default.name, body.default.pos, 'union arm');
    }
  }

  /** Checks the discriminant; returns what it is (null after an error). */
  #discriminantKind(d: Declaration): { kind: 'int' | 'unsigned' | 'bool' | 'enum'; values?: Set<bigint> } | null {
    const bad = (what: string): null => {
      this.diags.error(d.pos, `a union discriminant must be int, unsigned int, an enum or bool, not ${what}`);
      return null;
    };
    if (d.kind === 'void') return bad('void');
    if (d.kind !== 'plain') return bad(DECL_WORDS[d.kind]);
    this.#type(d.type, 'discriminant');
    let t: TypeSpec = d.type;
    for (let hops = 0; hops <= this.types.size; hops++) {
      switch (t.kind) {
        case 'int':
          return { kind: t.unsigned ? 'unsigned' : 'int' };
        case 'bool':
          return { kind: 'bool' };
        case 'enum':
          return { kind: 'enum', values: this.#enumValues(t.body) };
        case 'ref': {
          const def = this.types.get(t.name) ?? this.#importedType(t.name);
          if (!def) return null; // unknown: reported already
          if (def.kind === 'enum') return { kind: 'enum', values: this.#enumValues(def.body) };
          if (def.kind === 'typedef' && def.decl.kind === 'plain') {
            t = def.decl.type;
            continue;
          }
          return bad(def.kind === 'typedef' ? `'${t.name}' (${DECL_WORDS[def.decl.kind]})` : `${def.kind} '${t.name}'`);
        }
        default:
          return bad(t.kind === 'hyper' ? (t.unsigned ? 'unsigned hyper' : 'hyper') : t.kind);
      }
    }
    return null;
  }

  #enumValues(body: EnumBody): Set<bigint> | undefined {
    const s = new Set<bigint>();
    for (const m of body.members) {
      const v = this.constants.get(m.name);
      if (v === undefined) return undefined;
      s.add(v);
    }
    return s;
  }

  #program(def: ProgramDefinition): void {
    const progNo = this.#number(def.number, 'program number');
    if (progNo !== null) {
      for (const other of this.programs) {
        if (other === def) break;
        if (this.#quietFold(other.number) === progNo) {
          this.diags.error(def.number.pos, `program number ${progNo} is already used by '${other.name}' (at ${formatPos(other.pos)})`);
          break;
        }
      }
    }
    const vNames = new Map<string, Pos>();
    const vNums = new Map<bigint, { name: string; pos: Pos }>();
    for (const v of def.versions) {
      this.#unique(vNames, v.name, v.pos, 'version');
      const n = this.#number(v.number, 'version number');
      if (n !== null) {
        const old = vNums.get(n);
        if (old) this.diags.error(v.number.pos, `version number ${n} is already used by '${old.name}' (at ${formatPos(old.pos)})`);
        else vNums.set(n, { name: v.name, pos: v.pos });
      }
      const pNames = new Map<string, Pos>();
      const pNums = new Map<bigint, { name: string; pos: Pos }>();
      for (const p of v.procedures) {
        this.#unique(pNames, p.name, p.pos, 'procedure', ` in version '${v.name}'`);
        const pn = this.#number(p.number, 'procedure number');
        if (pn !== null) {
          const old = pNums.get(pn);
          if (old) this.diags.error(p.number.pos, `procedure number ${pn} is already used by '${old.name}' (at ${formatPos(old.pos)})`);
          else pNums.set(pn, { name: p.name, pos: p.pos });
        }
        this.#decl(p.result, 'procedure');
        for (const a of p.args) this.#decl(a, 'procedure');
      }
    }
  }

  #number(v: Value, what: string): bigint | null {
    const n = this.#value(v, what);
    if (n === null) return null;
    if (n < 0n || n > UINT_MAX) {
      this.diags.error(v.pos, `${what} ${n} is out of range (0..${UINT_MAX})`);
      return null;
    }
    return n;
  }

  #quietFold(v: Value): bigint | null {
    if (v.kind === 'literal') return v.value;
    return this.constants.get(v.name) ?? null;
  }

  // ---- termination (a value of the type must be finite) ----

  /** Reports types no finite value has; returns their names. */
  #checkTermination(): ReadonlySet<string> {
    const finite = new Set<string>();
    const finiteType = (t: TypeSpec): boolean => {
      switch (t.kind) {
        case 'ref':
          return finite.has(t.name) || !this.types.has(t.name);
        case 'struct':
          return t.body.fields.every(finiteDecl);
        case 'union':
          return finiteUnion(t.body);
        default:
          return true;
      }
    };
    const finiteUnion = (u: UnionBody): boolean =>
      (u.cases.length === 0 && !u.default) || u.cases.some((c) => finiteDecl(c.arm)) || (u.default !== undefined && finiteDecl(u.default));
    const finiteDecl = (d: Declaration): boolean => {
      if (d.kind === 'plain') return finiteType(d.type);
      if (d.kind === 'fixedArray') return this.#quietFold(d.size) === 0n || finiteType(d.type);
      return true;
    };
    const finiteDef = (def: TypeDefinition): boolean => {
      switch (def.kind) {
        case 'typedef':
          return finiteDecl(def.decl);
        case 'enum':
          return true;
        case 'struct':
          return def.body.fields.every(finiteDecl);
        case 'union':
          return finiteUnion(def.body);
      }
    };
    let pending = [...this.types.values()];
    for (let changed = true; changed; ) {
      changed = false;
      const next: TypeDefinition[] = [];
      for (const def of pending) {
        if (finiteDef(def)) {
          finite.add(defName(def));
          changed = true;
        } else next.push(def);
      }
      pending = next;
    }
    if (pending.length === 0) return new Set();
    // Report only the types on a by-value cycle; the others are infinite because they contain one.
    const infinite = new Set(pending.map(defName));
    const edges = new Map<string, string[]>();
    for (const def of pending) {
      const out: string[] = [];
      const walkType = (t: TypeSpec): void => {
        if (t.kind === 'ref' && infinite.has(t.name)) out.push(t.name);
        else if (t.kind === 'struct') t.body.fields.forEach(walkDecl);
        else if (t.kind === 'union') {
          t.body.cases.forEach((c) => walkDecl(c.arm));
          if (t.body.default) walkDecl(t.body.default);
        }
      };
      const walkDecl = (d: Declaration): void => {
        if (d.kind === 'plain' || d.kind === 'fixedArray') walkType(d.type);
      };
      if (def.kind === 'typedef') walkDecl(def.decl);
      else if (def.kind === 'struct') def.body.fields.forEach(walkDecl);
      else if (def.kind === 'union') {
        def.body.cases.forEach((c) => walkDecl(c.arm));
        if (def.body.default) walkDecl(def.body.default);
      }
      edges.set(defName(def), out);
    }
    for (const def of pending) {
      const name = defName(def);
      const seen = new Set<string>();
      const stack = [...(edges.get(name) ?? [])];
      let cyclic = false;
      while (stack.length) {
        const n = stack.pop()!;
        if (n === name) {
          cyclic = true;
          break;
        }
        if (seen.has(n)) continue;
        seen.add(n);
        stack.push(...(edges.get(n) ?? []));
      }
      if (cyclic)
        this.diags.error(
          def.pos,
          `${def.kind === 'typedef' ? 'type' : def.kind} '${name}' contains itself by value, so no value of it is finite (use '*' optional data or a variable-length array to end the recursion)`,
        );
    }
    return infinite;
  }

  /**
   * A cycle of references through typedefs alone (`typedef a *b; typedef b a;`, `typedef a b<>;
   * typedef b a;`) has finite values but no C declaration (C refers ahead only to a struct tag), so
   * rpcgen's output does not compile; the run-time loader and the emitter also break cycles only at a
   * struct or union. `typedef struct { … } t;` counts as a struct. Cycles already reported as
   * infinite (`typedef a b; typedef b a;`) are not reported again.
   */
  #checkTypedefCycles(infinite: ReadonlySet<string>): void {
    const edges = new Map<string, string[]>();
    for (const [name, def] of this.types) {
      if (def.kind !== 'typedef' || def.decl.kind === 'void' || infinite.has(name)) continue;
      if (def.decl.kind === 'plain' && (def.decl.type.kind === 'struct' || def.decl.type.kind === 'union')) continue;
      const out: string[] = [];
      const walkType = (t: TypeSpec): void => {
        if (t.kind === 'ref') out.push(t.name);
        else if (t.kind === 'struct') t.body.fields.forEach(walkDecl);
        else if (t.kind === 'union') {
          walkDecl(t.body.discriminant);
          t.body.cases.forEach((c) => walkDecl(c.arm));
          if (t.body.default) walkDecl(t.body.default);
        }
      };
      // An inline struct or union inside another declaration (`typedef struct { … } t[2];`) is anonymous:
      // it does not break a cycle, so what it refers to counts as this typedef's references.
      const walkDecl = (d: Declaration): void => {
        if ('type' in d) walkType(d.type);
      };
      walkDecl(def.decl);
      edges.set(name, out);
    }
    for (const [name, def] of this.types) {
      if (!edges.has(name)) continue;
      // The shortest way back to `name` through typedefs (breadth first), for the message.
      const from = new Map<string, string>();
      const queue = [name];
      let found = false;
      while (queue.length && !found) {
        const n = queue.shift()!;
        for (const m of edges.get(n) ?? []) {
          if (!edges.has(m) || from.has(m)) continue;
          from.set(m, n);
          if (m === name) {
            found = true;
            break;
          }
          queue.push(m);
        }
      }
      if (!found) continue;
      const path = [name];
      for (let n = from.get(name)!; n !== name; n = from.get(n)!) path.unshift(n);
      path.unshift(name);
      this.diags.error(
        def.pos,
        `type '${name}' refers to itself through typedefs alone (${path.join(' -> ')}); put a struct or union on the cycle (C cannot declare such a type, so neither rpcgen's output nor oncrpc accept it)`,
      );
    }
  }

  /** Generated codecs are named read<Name>/write<Name> with the first letter capitalised (STYLE §7.7). */
  #checkCodecNames(): void {
    const seen = new Map<string, { name: string; pos: Pos }>();
    for (const [name, def] of this.types) {
      const key = name.charAt(0).toUpperCase() + name.slice(1);
      const old = seen.get(key);
      if (old) this.diags.error(def.pos, `types '${old.name}' (at ${formatPos(old.pos)}) and '${name}' would both have codecs named read${key}/write${key}`);
      else seen.set(key, { name, pos: def.pos });
    }
  }
}

const DISCRIMINANT_WORDS = { int: 'an int', unsigned: 'an unsigned int', bool: 'a bool', enum: 'an enum' } as const;

const DECL_WORDS: Record<Declaration['kind'], string> = {
  plain: 'a plain type',
  fixedArray: 'a fixed-length array',
  varArray: 'a variable-length array',
  fixedOpaque: 'fixed-length opaque data',
  varOpaque: 'variable-length opaque data',
  string: 'a string',
  optional: 'optional data',
  void: 'void',
};

/** Callbacks of {@link visitDefinition}. */
export interface Visitor {
  type?(t: TypeSpec): void;
  decl?(d: Declaration): void;
  value?(v: Value): void;
}

/** Calls the visitor on every type specifier, declaration and value in a definition, nested ones included. */
export function visitDefinition(def: Definition, visitor: Visitor): void {
  const value = (v: Value | null): void => {
    if (v && visitor.value) visitor.value(v);
  };
  const enumBody = (b: EnumBody): void => {
    for (const m of b.members) value(m.value);
  };
  const type = (t: TypeSpec): void => {
    visitor.type?.(t);
    if (t.kind === 'struct') t.body.fields.forEach(decl);
    else if (t.kind === 'union') union(t.body);
    else if (t.kind === 'enum') enumBody(t.body);
  };
  const decl = (d: Declaration): void => {
    visitor.decl?.(d);
    switch (d.kind) {
      case 'fixedArray':
        value(d.size);
        break;
      case 'varArray':
        value(d.max);
        break;
      case 'fixedOpaque':
        value(d.size);
        return;
      case 'varOpaque':
      case 'string':
        value(d.max);
        return;
      default:
        break;
    }
    const t = declType(d);
    if (t) type(t);
  };
  const union = (u: UnionBody): void => {
    decl(u.discriminant);
    for (const c of u.cases) {
      c.values.forEach(value);
      decl(c.arm);
    }
    if (u.default) decl(u.default);
  };
  switch (def.kind) {
    case 'const':
      value(def.value);
      return;
    case 'enum':
      enumBody(def.body);
      return;
    case 'typedef':
      decl(def.decl);
      return;
    case 'struct':
      def.body.fields.forEach(decl);
      return;
    case 'union':
      union(def.body);
      return;
    case 'program':
      value(def.number);
      for (const v of def.versions) {
        value(v.number);
        for (const p of v.procedures) {
          value(p.number);
          [p.result, ...p.args].forEach(decl);
        }
      }
      return;
    default:
      return;
  }
}

function declType(d: Declaration): TypeSpec | null {
  return d.kind === 'plain' || d.kind === 'fixedArray' || d.kind === 'varArray' || d.kind === 'optional' ? d.type : null;
}

function defName(def: TypeDefinition): string {
  return def.kind === 'typedef' ? (def.decl.kind === 'void' ? '' : def.decl.name) : def.name;
}
