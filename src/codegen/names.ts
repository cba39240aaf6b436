// Naming rules of `oncrpc gen`: how .x names become TypeScript identifiers, and how clashes are resolved.
//
// 1. Types, fields, constants, enum members, programs, versions and procedures keep their .x names
//    verbatim (the JSON mapping and the wire documentation use the .x names).
// 2. Codec functions are `read<Name>` / `write<Name>` with the first letter of the TS type name
//    capitalised (goxdr's rule): `readFattr3`, `writeEntryplus3`.
// 3. Inline anonymous types are named `<Parent>_<field>`: `struct s { struct { … } a; }` declares
//    `s_a`; a union arm's type is `<union>_<arm field>`, an inline discriminant enum `<union>_<name>`; an
//    anonymous element of a typedef'd array `<typedef>_elem`; a procedure's inline argument/result
//    `<PROC>_arg<n>` / `<PROC>_res`. `typedef struct { … } t;` declares the struct `t` itself.
// 4. A name that is a JS/TS reserved word, a TS built-in type, a global or an import the generated module
//    uses, or one of the module's internal helpers gets a `_` appended (`delete` → `delete_`,
//    `XdrReader` → `XdrReader_`). Constants and enums (values) also avoid the generator's short local
//    names (`r`, `w`, `v`, `d`, `p`, …).
// 5. If two names still map to one identifier (`foo` and `Foo` both give `readFoo`; `readFoo` the
//    type's codec vs a .x constant `readFoo`), the one defined later gets `_2`, `_3`, … (definition order).
// 6. Program descriptors are `<VERSION>_<number>`, with `<VERSION>_<number>_Client` / `_Handlers`.

const RESERVED_WORDS = [
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'enum',
  'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'null',
  'return', 'super', 'switch', 'this', 'throw', 'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'yield',
  'let', 'static', 'implements', 'interface', 'package', 'private', 'protected', 'public', 'await', 'arguments',
  'eval', 'as', 'async', 'type', 'declare', 'namespace', 'module', 'abstract', 'readonly', 'keyof', 'infer',
  'is', 'satisfies', 'asserts', 'from', 'of', 'get', 'set', 'constructor',
];
const TS_TYPES = ['any', 'unknown', 'never', 'number', 'bigint', 'boolean', 'string', 'symbol', 'object', 'undefined', 'null', 'void', 'intrinsic'];
const GLOBALS = [
  'Array', 'Set', 'Map', 'Object', 'Uint8Array', 'DataView', 'Promise', 'PromiseLike', 'AbortSignal', 'Error', 'String', 'Number',
  'BigInt', 'Boolean', 'Math', 'Exclude', 'Extract', 'Record', 'ReadonlySet', 'Readonly', 'ReadonlyArray', 'globalThis',
  'NaN', 'Infinity', 'Symbol', 'JSON',
];
/**
 * Everything a generated module may import, in import order: the whole surface of `oncrpc/runtime`
 * (src/runtime.ts). The one list: generate.ts orders and marks imports by it, and a test checks that
 * src/runtime.ts exports exactly these names. `type: true` names are imported with `import type`.
 */
export const RUNTIME_IMPORTS: readonly { readonly name: string; readonly type?: true }[] = [
  { name: 'ErrorCodes' }, { name: 'XdrDecodeError' }, { name: 'XdrEncodeError' }, { name: 'XdrError' },
  { name: 'readVoid' }, { name: 'writeVoid' },
  // Error helpers (src/xdr/value-errors.ts), so every generated module says the same thing.
  { name: 'atPath' }, { name: 'notInt' }, { name: 'notUint' }, { name: 'notHyper' }, { name: 'notUhyper' },
  { name: 'notBool' }, { name: 'notNumber' }, { name: 'notEnum' }, { name: 'noArm' }, { name: 'notBoxed' }, { name: 'badLength' },
  { name: 'badEnum' }, { name: 'badBool' }, { name: 'notObject' }, { name: 'notArray' }, { name: 'notTuple' },
  { name: 'CallContext', type: true }, { name: 'CallOptions', type: true }, { name: 'ProgramDescriptor', type: true },
  { name: 'Quadruple', type: true }, { name: 'XdrReader', type: true }, { name: 'XdrWriter', type: true },
];
/** The module generated code imports from. */
export const RUNTIME_MODULE = 'oncrpc/runtime';

/** Short locals generated functions use: module-level values must not be shadowed by them. */
const LOCALS = ['r', 'w', 'v', 'd', 'p', 'x', 'h', 'b', 'i', 'j', 'k', 'n', 'a', 'o', 'e', 'at', 'start', 'head', 'last', 'next'];
const NUMBERED_LOCAL = /^(?:[dpniaoxhbjk]|at|start|head|last|next)\d+$/;

const RESERVED = new Set([...RESERVED_WORDS, ...TS_TYPES, ...GLOBALS, ...RUNTIME_IMPORTS.map((i) => i.name)]);
const LOCAL_SET = new Set(LOCALS);

/** True for a name a generated local variable could not take as is. */
export function isReservedLocal(name: string): boolean {
  return RESERVED.has(name) || LOCAL_SET.has(name) || NUMBERED_LOCAL.test(name);
}

/**
 * The module's identifier namespace. Types and values are claimed alike (an enum is both), so a name is
 * handed out once. `claim` applies rules 4 and 5 above.
 */
export class NameTable {
  readonly #taken = new Set<string>();
  /** Module-level value names (what a local must not shadow). */
  readonly values = new Set<string>();

  claim(preferred: string, isValue: boolean): string {
    let base = preferred;
    while (RESERVED.has(base) || (isValue && (LOCAL_SET.has(base) || NUMBERED_LOCAL.test(base)))) base += '_';
    let name = base;
    for (let n = 2; this.#taken.has(name); n++) name = `${base}_${n}`;
    this.#taken.add(name);
    if (isValue) this.values.add(name);
    return name;
  }

  has(name: string): boolean {
    return this.#taken.has(name);
  }
}

/** `fattr3` → `Fattr3`, `nfs_fh3` → `Nfs_fh3` (goxdr's rule: only the first letter changes). */
export function capitalize(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** A JS single-quoted string literal. */
export function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;
}

/** True if `s` can be written as a property name without quotes. */
export function isIdentifier(s: string): boolean {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s);
}

/** A property key as written in an object literal or interface. */
export function propKey(s: string): string {
  return isIdentifier(s) ? s : quote(s);
}

/** `v.name`, or `v['na-me']` for a name that is not an identifier. */
export function member(obj: string, prop: string): string {
  return isIdentifier(prop) ? `${obj}.${prop}` : `${obj}[${quote(prop)}]`;
}
