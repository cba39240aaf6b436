// Run-time loading of a .x specification (no codegen step): every named type becomes an XdrType codec
// built from the combinators of src/xdr/types.ts, every program a descriptor with procedure numbers and
// argument/result codecs. The bytes are those of rpcgen's C routines (RFC 4506 encoding; rpcgen adds
// nothing of its own on the wire).
//
// Compiled or interpreted. By default the loader also compiles the schema to specialised code, as
// protobuf.js does: `oncrpc gen`'s own emitter writes the codecs as JavaScript (generateJavaScript: the
// statements `oncrpc gen` would write, without types) and `new Function` evaluates that text, and nothing
// else. The descriptors' [read, write] pairs and `codec(name)` are then those compiled functions, as fast
// as a generated module (compiled on first use, so a command that only converts JSON does not pay for it). The XdrType codecs (`types`, `type(name)`, each procedure's `types`) stay the
// combinators: the JSON mapping reads their structure, and their errors name the field that failed
// (the compiled code checks a run of fixed-size fields with one bounds check, so a short buffer is
// reported at the run). Where code generation from strings is not allowed (node
// --disallow-code-generation-from-strings, a Content-Security-Policy without 'unsafe-eval'), the loader
// detects it and uses the combinators everywhere; `loadSchema(schema, { compile: false })` asks for them.
//
// Recursive types: a reference to a struct or union (or `typedef struct { … } t`) that is still being
// built becomes a `lazy` codec, so cycles are broken only at struct/union names (the front end rejects a
// cycle through typedefs alone). References to typedefs are expanded in place; that
// keeps `struct x { …; x_ptr next; }` with `typedef x *x_ptr` a tail self-reference, which StructType
// reads and writes with a loop (linked lists of any length, no stack growth).

import { SchemaError } from '../errors.js';
import * as runtime from '../runtime.js';
import { findProcedure, type ProcedureDescriptor, type ProgramDescriptor } from '../rpc/program.js';
import type { XdrReader } from '../xdr/reader.js';
import * as x from '../xdr/types.js';
import type { XdrWriter } from '../xdr/writer.js';
import type { Declaration, EnumBody, ProgramDefinition, Schema, StructBody, TypeSpec, UnionBody, Value } from './ast.js';
import { generateJavaScript } from './generate.js';

/** A codec for any value (the type of a schema's values is known only at run time). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyXdrType = x.XdrType<any>;

/** A read/write pair of functions, as generated modules export them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CodecPair = { readonly read: (r: XdrReader) => any; readonly write: (w: XdrWriter, v: any) => void };

/** Options of `loadSchema`. */
export interface LoadOptions {
  /**
   * Compile the codecs to specialised JavaScript (`new Function` of the emitter's output). Default: when
   * the platform allows code generation from strings. `false`: the interpretive combinators only. `true`:
   * compile, or throw SchemaError if code generation is not allowed.
   */
  compile?: boolean;
}

/** What `loadSchema` returns. */
export interface LoadedSchema {
  readonly schema: Schema;
  /** True when the codecs were compiled to specialised code; false when they are the combinators. */
  readonly compiled: boolean;
  /** Every named type (typedef, enum, struct, union) as a codec, in definition order. */
  readonly types: ReadonlyMap<string, AnyXdrType>;
  /** Every `const` and enum member. */
  readonly constants: ReadonlyMap<string, bigint>;
  /**
   * One descriptor per program version, in .x order: the same shape as a generated module's
   * (`PROG_VERS_1`), so the client and server take either. Each procedure also carries its run-time
   * codecs (`types`), which the JSON mapping uses.
   */
  readonly programs: readonly ProgramDescriptor[];
  /** The codec of a named type; throws SchemaError (ERR_X_UNKNOWN) naming the known types if there is none. */
  type(name: string): AnyXdrType;
  /**
   * The fastest read/write pair of a named type: the compiled functions, or the combinator's when not
   * compiled. Throws like `type(name)`.
   */
  codec(name: string): CodecPair;
  /** The procedure `proc` of program `prog` version `vers`, if the schema defines it. */
  procedure(prog: number, vers: number, proc: number): { program: ProgramDescriptor; procedure: ProcedureDescriptor } | undefined;
}

const toInt32 = (v: bigint): number => Number(BigInt.asIntN(32, v));
const toUint32 = (v: bigint): number => Number(BigInt.asUintN(32, v));

/** Whether this platform lets code be made from strings (`new Function`); checked once. */
let codeGeneration: boolean | undefined;
export function codeGenerationAllowed(): boolean {
  if (codeGeneration === undefined) {
    try {
      codeGeneration = new Function('return 1')() === 1;
    } catch {
      codeGeneration = false; // EvalError under --disallow-code-generation-from-strings or a CSP
    }
  }
  return codeGeneration;
}

/** The compiled codecs of a schema: every function by name, the procedures' pairs in .x order. */
interface Compiled {
  // eslint-disable-next-line @typescript-eslint/ban-types
  readonly fns: Readonly<Record<string, Function>>;
  readonly procs: ReadonlyArray<readonly [ProcedureDescriptor['args'], ProcedureDescriptor['res']]>;
  readonly types: ReadonlyMap<string, { readonly read: string; readonly write: string }>;
}

/** Compiles `schema` (and the .x modules it imports, once each) with the emitter's JavaScript. */
function compileSchema(schema: Schema, done = new Map<Schema, Compiled>()): Compiled {
  const seen = done.get(schema);
  if (seen) return seen;
  const js = generateJavaScript(schema);
  const imports = js.importSchemas.map((s) => compileSchema(s, done).fns);
  // The text is generateJavaScript's output, made from the checked schema by the emitter; it sees only
  // the runtime module and the imported modules' functions.
  const made = new Function('rt', 'imports', js.body)(runtime, imports) as { fns: Compiled['fns']; procs: Compiled['procs'] };
  const c: Compiled = { fns: made.fns, procs: made.procs, types: js.types };
  done.set(schema, c);
  return c;
}

/** Builds codecs for every named type and descriptors for every program of a checked schema (see the top of this file for `compile`). */
export function loadSchema(schema: Schema, options: LoadOptions = {}): LoadedSchema {
  const compile = options.compile ?? codeGenerationAllowed();
  if (compile && !codeGenerationAllowed()) throw new SchemaError('code generation from strings is not allowed here: load with { compile: false }');
  // Compiled on first use (a descriptor's codec read, `codec(name)`): `oncrpc xdr` and `decode --x` use only
  // the combinators and do not pay for it.
  let compiledOnce: Compiled | null | undefined;
  const compiled = (): Compiled | null => (compiledOnce === undefined ? (compiledOnce = compile ? compileSchema(schema) : null) : compiledOnce);
  const built = new Map<string, AnyXdrType>();
  const building = new Set<string>();

  /** A number from a Value; TRUE/FALSE are accepted even if the schema does not define them. */
  const num = (v: Value): bigint => {
    if (v.kind === 'name' && !schema.constants.has(v.name)) {
      if (v.name === 'TRUE') return 1n;
      if (v.name === 'FALSE') return 0n;
    }
    return schema.value(v);
  };
  const size = (v: Value | null): number | undefined => (v === null ? undefined : toUint32(num(v)));

  function named(name: string): AnyXdrType {
    const done = built.get(name);
    if (done) return done;
    const def = schema.lookup(name);
    if (!def) throw new SchemaError(`unknown type ${name}`);
    // `typedef struct { … } t;` defines a struct like `struct t { … };` (and may refer to itself).
    const inline = def.kind === 'typedef' && def.decl.kind === 'plain' && (def.decl.type.kind === 'struct' || def.decl.type.kind === 'union');
    if (def.kind === 'typedef' && !inline) {
      // Expanded at each use while a cycle is being built: cycles always pass through a struct or union
      // (the front end rejects a cycle of typedefs alone).
      const t = declaration(def.decl, name);
      if (building.size === 0) built.set(name, t);
      return t;
    }
    if (building.has(name)) return x.lazy(name, () => built.get(name)!);
    building.add(name);
    let t: AnyXdrType;
    if (def.kind === 'enum') t = enumeration(name, def.body);
    else if (def.kind === 'struct') t = struct(name, def.body);
    else if (def.kind === 'union') t = union(name, def.body);
    else t = declaration(def.decl, name);
    building.delete(name);
    built.set(name, t);
    return t;
  }

  function enumeration(name: string, body: EnumBody): AnyXdrType {
    const members: Record<string, number> = {};
    for (const m of body.members) members[m.name] = toInt32(num(m.value));
    return x.enumeration(name, members);
  }

  function struct(name: string, body: StructBody): AnyXdrType {
    return x.struct(
      name,
      body.fields.map((f) => {
        const t = declaration(f, `${name}.${fieldName(f)}`);
        return [fieldName(f), t] as const;
      }),
    );
  }

  function union(name: string, body: UnionBody): AnyXdrType {
    const d = body.discriminant;
    if (d.kind !== 'plain') throw new SchemaError(`union ${name}: the discriminant must be a plain declaration`);
    const dtype = spec(d.type, `${name}.${d.name}`);
    const kind = discriminantKind(d.type);
    const label = (v: Value): number | boolean => {
      const n = num(v);
      if (kind === 'bool') return n !== 0n;
      return kind === 'unsigned' ? toUint32(n) : toInt32(n);
    };
    const arm = (a: Declaration): x.UnionArm => (a.kind === 'void' ? null : [a.name, declaration(a, `${name}.${a.name}`)]);
    return x.union(name, {
      discriminant: [d.name, dtype as x.XdrType<number>],
      arms: body.cases.map((c) => [c.values.map(label), arm(c.arm)] as const),
      ...(body.default !== undefined ? { default: arm(body.default) } : {}),
    });
  }

  function discriminantKind(t: TypeSpec): 'bool' | 'unsigned' | 'int' {
    if (t.kind === 'bool') return 'bool';
    if (t.kind === 'int') return t.unsigned ? 'unsigned' : 'int';
    if (t.kind === 'ref') {
      const def = schema.definition(t.name);
      if (def.kind === 'typedef' && def.decl.kind === 'plain') return discriminantKind(def.decl.type);
    }
    return 'int'; // enums
  }

  function spec(t: TypeSpec, context: string): AnyXdrType {
    switch (t.kind) {
      case 'int':
        return t.unsigned ? x.uint : x.int;
      case 'hyper':
        return t.unsigned ? x.uhyper : x.hyper;
      case 'float':
        return x.float;
      case 'double':
        return x.double;
      case 'quadruple':
        return x.quadruple;
      case 'bool':
        return x.bool;
      case 'void':
        return x.voidType;
      case 'ref':
        return named(t.name);
      case 'enum':
        return enumeration(context, t.body);
      case 'struct':
        return struct(context, t.body);
      case 'union':
        return union(context, t.body);
    }
  }

  function declaration(d: Declaration, context: string): AnyXdrType {
    switch (d.kind) {
      case 'plain':
        return spec(d.type, context);
      case 'fixedArray':
        return x.fixedArray(spec(d.type, context), size(d.size)!);
      case 'varArray':
        return x.array(spec(d.type, context), size(d.max));
      case 'fixedOpaque':
        return x.fixedOpaque(size(d.size)!);
      case 'varOpaque':
        return x.opaque(size(d.max));
      case 'string':
        return x.string(size(d.max));
      case 'optional':
        return x.optional(spec(d.type, context));
      case 'void':
        return x.voidType;
    }
  }

  for (const name of schema.types.keys()) named(name);
  // Typedefs met only inside cycles were not cached; every name is now built outside any cycle.
  for (const name of schema.types.keys()) if (!built.has(name)) named(name);

  let procIndex = 0;
  const programs = schema.programs.flatMap((p) => program(p));

  function program(p: ProgramDefinition): ProgramDescriptor[] {
    return p.versions.map((v) => {
      const procs: Record<string, ProcedureDescriptor> = {};
      for (const pr of v.procedures) {
        const args = pr.args.filter((a) => a.kind !== 'void' && !(a.kind === 'plain' && a.type.kind === 'void')).map((a, i) => declaration(a, `${pr.name}.arg${i + 1}`));
        const res = declaration(pr.result, `${pr.name}.result`);
        const arg = args.length === 0 ? x.voidType : args.length === 1 ? args[0]! : x.tuple(args);
        const k = procIndex++;
        const slowArgs = codec(arg);
        const slowRes = codec(res);
        const d = { name: pr.name, proc: toUint32(num(pr.number)) } as ProcedureDescriptor;
        Object.defineProperties(d, {
          args: { enumerable: true, get: () => compiled()?.procs[k]![0] ?? slowArgs },
          res: { enumerable: true, get: () => compiled()?.procs[k]![1] ?? slowRes },
          types: { enumerable: true, value: Object.freeze({ args: arg, res }) },
        });
        procs[pr.name] = Object.freeze(d);
      }
      return Object.freeze({ name: p.name, prog: toUint32(num(p.number)), version: v.name, vers: toUint32(num(v.number)), procs: Object.freeze(procs) });
    });
  }

  const types = new Map<string, AnyXdrType>();
  for (const name of schema.types.keys()) types.set(name, built.get(name)!);
  const pairs = new Map<string, CodecPair>();

  return Object.freeze({
    schema,
    compiled: compile,
    types,
    constants: schema.constants,
    programs,
    type(name: string): AnyXdrType {
      const t = types.get(name);
      if (t) return t;
      const known = [...types.keys()];
      throw new SchemaError(`no type named ${name}${known.length ? ` (known: ${known.join(', ')})` : ' (the specification defines no types)'}`);
    },
    codec(name: string): CodecPair {
      const t = this.type(name);
      let pair = pairs.get(name);
      if (!pair) {
        const c = compiled();
        const f = c?.types.get(name);
        pair = Object.freeze(
          f
            ? ({ read: c!.fns[f.read], write: c!.fns[f.write] } as CodecPair)
            : { read: (r: XdrReader) => t.read(r), write: (w: XdrWriter, v: unknown) => t.write(w, v) },
        );
        pairs.set(name, pair);
      }
      return pair;
    },
    procedure(prog: number, vers: number, proc: number) {
      for (const program of programs) {
        if (program.prog !== prog || program.vers !== vers) continue;
        const procedure = findProcedure(program, proc);
        if (procedure) return { program, procedure };
      }
      return undefined;
    },
  });
}

/** A run-time codec as a descriptor's [read, write] pair. */
function codec(t: AnyXdrType): readonly [(r: XdrReader) => unknown, (w: XdrWriter, v: unknown) => void] {
  return Object.freeze([(r: XdrReader) => t.read(r), (w: XdrWriter, v: unknown) => t.write(w, v)] as const);
}

function fieldName(d: Declaration): string {
  return d.kind === 'void' ? '' : d.name;
}

/** Compiles a .x file with oncrpc's front end and loads it (see `loadSchema`). Throws CompileError on bad input. */
export async function loadX(path: string, options?: LoadOptions): Promise<LoadedSchema> {
  const { compileFile } = await import('./compile.js');
  return loadSchema(await compileFile(path), options);
}

/** Loads several .x files, one LoadedSchema each, in order. */
export async function loadXFiles(paths: readonly string[], options?: LoadOptions): Promise<LoadedSchema[]> {
  const out: LoadedSchema[] = [];
  for (const p of paths) out.push(await loadX(p, options));
  return out;
}
