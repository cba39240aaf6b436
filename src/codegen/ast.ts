// The .x language as data (RFC 4506 §6, RFC 5531 §12, rpcgen's extensions): what the parser produces
// and every later stage (resolve, emit, interpret) consumes.

import type { SourcePos } from '../errors.js';

/** A place in a source file, 1-based (src/errors.ts SourcePos, the one position type). */
export type Pos = SourcePos;

/** A constant: a literal (decimal, hex, octal, negative) or the name of a `const` / enum member. */
export type Value = { kind: 'literal'; value: bigint; pos: Pos } | { kind: 'name'; name: string; pos: Pos };

/** Type specifiers (RFC 4506 §6.3 type-specifier). */
export type TypeSpec =
  | { kind: 'int'; unsigned: boolean; pos: Pos } // int, unsigned int, unsigned
  | { kind: 'hyper'; unsigned: boolean; pos: Pos }
  | { kind: 'float'; pos: Pos }
  | { kind: 'double'; pos: Pos }
  | { kind: 'quadruple'; pos: Pos }
  | { kind: 'bool'; pos: Pos }
  | { kind: 'void'; pos: Pos } // only as a procedure argument/result
  | { kind: 'ref'; name: string; pos: Pos } // a typedef, struct, union or enum by name (`struct foo` too)
  | { kind: 'enum'; body: EnumBody; pos: Pos } // inline anonymous
  | { kind: 'struct'; body: StructBody; pos: Pos }
  | { kind: 'union'; body: UnionBody; pos: Pos };

/**
 * A declaration (RFC 4506 §6.3 declaration): a name with its type and shape. `name` is '' where the
 * grammar has none (procedure arguments and results).
 */
export type Declaration =
  | { kind: 'plain'; name: string; type: TypeSpec; pos: Pos } // T x
  | { kind: 'fixedArray'; name: string; type: TypeSpec; size: Value; pos: Pos } // T x[n]
  | { kind: 'varArray'; name: string; type: TypeSpec; max: Value | null; pos: Pos } // T x<n>, T x<>
  | { kind: 'fixedOpaque'; name: string; size: Value; pos: Pos } // opaque x[n]
  | { kind: 'varOpaque'; name: string; max: Value | null; pos: Pos } // opaque x<n>
  | { kind: 'string'; name: string; max: Value | null; pos: Pos } // string x<n>; also rpcgen's bare `string`
  | { kind: 'optional'; name: string; type: TypeSpec; pos: Pos } // T *x
  | { kind: 'void'; pos: Pos };

export interface EnumBody {
  members: Array<{ name: string; value: Value; pos: Pos }>;
}

export interface StructBody {
  fields: Declaration[];
}

export interface UnionCase {
  /** One or more `case` labels sharing this arm. */
  values: Value[];
  arm: Declaration;
  pos: Pos;
}

export interface UnionBody {
  /** The discriminant: a plain declaration of int, unsigned int, an enum or bool. */
  discriminant: Declaration;
  cases: UnionCase[];
  /** `default:` arm; undefined when the union has none. */
  default?: Declaration;
}

export interface Procedure {
  name: string;
  number: Value;
  /** Result: a declaration with name ''; `{ kind: 'void' }` for void. */
  result: Declaration;
  /** Arguments (rpcgen -N style: several allowed); empty for `(void)`. */
  args: Declaration[];
  pos: Pos;
}

export interface Version {
  name: string;
  number: Value;
  procedures: Procedure[];
  pos: Pos;
}

/** Top-level definitions, in file order. */
export type Definition =
  | { kind: 'const'; name: string; value: Value; pos: Pos }
  /** rpcgen's `const NAME = "text";` (key_prot.x): becomes a C string macro; never a size or case value. */
  | { kind: 'stringConst'; name: string; value: string; pos: Pos }
  | { kind: 'typedef'; decl: Declaration; pos: Pos }
  | { kind: 'enum'; name: string; body: EnumBody; pos: Pos }
  | { kind: 'struct'; name: string; body: StructBody; pos: Pos }
  | { kind: 'union'; name: string; body: UnionBody; pos: Pos }
  | { kind: 'program'; name: string; number: Value; versions: Version[]; pos: Pos }
  /** A `%` line, passed through (emitters keep it as a comment). */
  | { kind: 'passthrough'; text: string; pos: Pos };

/** One parsed .x file (after preprocessing; #included files are merged in place). */
export interface Specification {
  file: string;
  definitions: Definition[];
}

// The diagnostic type and its formatter live in src/errors.ts (CompileError carries them); re-exported
// here for the front end and oncrpc/codegen.
export { formatDiagnostic, type Diagnostic } from '../errors.js';

/** A named type: what `ref` names can point to. */
export type TypeDefinition = Extract<Definition, { kind: 'typedef' | 'enum' | 'struct' | 'union' }>;
export type ProgramDefinition = Extract<Definition, { kind: 'program' }>;

/**
 * A checked specification (what `resolve` returns when there are no errors): names resolved,
 * constants folded. Emitters and the run-time loader read the AST through it.
 */
export interface Schema {
  readonly spec: Specification;
  /** Every `const` and enum member, by name. */
  readonly constants: ReadonlyMap<string, bigint>;
  /** Every named type (typedef, enum, struct, union), by name, in definition order. */
  readonly types: ReadonlyMap<string, TypeDefinition>;
  readonly programs: readonly ProgramDefinition[];
  /**
   * Schemas of other .x files whose names this one uses without defining them: rpcgen files reach
   * them through a `%#include <…/NAME.h>` line, and `compile` loads `NAME.x` from the same
   * directory (nis_callback.x uses nis.x's `nis_object`). Their definitions belong to their own
   * module; `value` and `definition` look into them after this file's own names.
   */
  readonly imports: readonly Schema[];
  /** The number a Value stands for (a literal, a const, an enum member). */
  value(v: Value): bigint;
  /** The named type's own definition, here or in an imported schema; undefined if none. */
  lookup(name: string): TypeDefinition | undefined;
  /** Follows a `ref` through typedefs of plain declarations to the definition that gives its shape. */
  definition(name: string): TypeDefinition;
}
