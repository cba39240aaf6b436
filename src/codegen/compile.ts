// The .x compiler front end in one call: preprocess → lex → parse → resolve (STYLE §7.8).

import type { Definition, Diagnostic, Schema } from './ast.js';
import { CompileError } from '../errors.js';
import { lex } from './lexer.js';
import { parse } from './parser.js';
import { preprocess, type PreprocessOptions } from './preprocess.js';
import { resolve } from './resolve.js';
import { readFileFromDisk } from './source.js';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';

export type CompileOptions = PreprocessOptions;

/** What {@link check} found: every diagnostic, and the schema when there is no error. */
export interface CheckResult {
  schema?: Schema;
  diagnostics: Diagnostic[];
}

/**
 * Compiles the text of a .x file without throwing: `file` names it in diagnostics and is the base
 * for `#include "…"`. Stops after parsing when preprocessing or parsing found errors (resolving a
 * broken tree would only add noise).
 */
export function check(text: string, file: string, options: CompileOptions = {}): CheckResult {
  return checkWith(text, file, options, []);
}

function checkWith(text: string, file: string, options: CompileOptions, stack: string[]): CheckResult {
  const pre = preprocess(text, file, options);
  const lexed = lex(pre.segments, file);
  const parsed = parse(lexed.tokens, file);
  const diagnostics = [...pre.diagnostics, ...lexed.diagnostics, ...parsed.diagnostics];
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  addCHeaderTypes(parsed.spec.definitions, lexed.tokens);
  const imports: Schema[] = [];
  for (const def of parsed.spec.definitions) {
    if (def.kind !== 'passthrough') continue;
    const imported = headerImport(def.text, file, options, [...stack, resolvePath(file)]);
    if (!imported) continue;
    if (imported.schema) imports.push(imported.schema);
    else {
      diagnostics.push({ severity: 'error', message: `errors in ${imported.path}, which this file uses through '%${def.text.trim()}'`, pos: def.pos });
      diagnostics.push(...imported.diagnostics);
    }
  }
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  const resolved = resolve(parsed.spec, { imports });
  diagnostics.push(...resolved.diagnostics);
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  return { schema: resolved.schema, diagnostics };
}

/**
 * Types that .x files take from libtirpc's C headers rather than from another .x (rpcgen passes them
 * through to C, where <rpc/types.h> defines them): `rpcprog_t` and friends
 * are u_int32_t; `struct netbuf` travels as xdr_netbuf writes it, its maxlen then its bytes. A .x that
 * uses one without defining it gets this definition, as if it had written it (rpcb_prot.x does).
 */
const C_HEADER_TYPES: Readonly<Record<string, string>> = {
  rpcprog_t: 'typedef unsigned int rpcprog_t;',
  rpcvers_t: 'typedef unsigned int rpcvers_t;',
  rpcproc_t: 'typedef unsigned int rpcproc_t;',
  rpcprot_t: 'typedef unsigned int rpcprot_t;',
  rpcport_t: 'typedef unsigned int rpcport_t;',
  netbuf: 'struct netbuf { unsigned int maxlen; opaque buf<>; };',
};

function addCHeaderTypes(definitions: Definition[], tokens: readonly { kind: string; text: string }[]): void {
  const used = new Set<string>();
  for (const t of tokens) if (t.kind === 'ident' && Object.hasOwn(C_HEADER_TYPES, t.text)) used.add(t.text);
  if (used.size === 0) return;
  const defined = new Set(definitions.map((d) => ('name' in d ? d.name : d.kind === 'typedef' && d.decl.kind !== 'void' ? d.decl.name : undefined)));
  const missing = [...used].filter((n) => !defined.has(n));
  if (missing.length === 0) return;
  const text = missing.map((n) => C_HEADER_TYPES[n]).join('\n');
  const pre = preprocess(text, '<libtirpc>', {});
  definitions.unshift(...parse(lex(pre.segments, '<libtirpc>').tokens, '<libtirpc>').spec.definitions);
}

/** {@link check} on a file read with `options.readFile` (default: from disk); an unreadable file is a diagnostic. */
export function checkFile(path: string, options: CompileOptions = {}): CheckResult {
  let text: string;
  try {
    text = (options.readFile ?? readFileFromDisk)(path);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { diagnostics: [{ severity: 'error', message: `cannot read ${path}: ${why}`, pos: { file: path, line: 1, col: 1 } }] };
  }
  return check(text, path, options);
}

/**
 * Compiles the text of a .x file to a checked `Schema`.
 * @throws CompileError ERR_XDR_COMPILE with every diagnostic (warnings included) when there is an error.
 */
export function compileSource(text: string, file: string, options?: CompileOptions): Schema {
  return unwrap(check(text, file, options));
}

/**
 * Reads and compiles a .x file; `#include "…"` is resolved relative to it.
 * @throws CompileError ERR_XDR_COMPILE with every diagnostic when the file is unreadable or has errors.
 */
export function compileFile(path: string, options?: CompileOptions): Schema {
  return unwrap(checkFile(path, options));
}

/**
 * rpcgen files reach the types of another .x through the C header generated from it
 * (`%#include <rpcsvc/nis.h>` in nis_callback.x). When NAME.x sits next to the file (or in
 * `includePaths`), it is compiled and its names become visible (`Schema.imports`).
 */
function headerImport(
  text: string,
  file: string,
  options: CompileOptions,
  stack: string[],
): (CheckResult & { path: string }) | null {
  const m = /^\s*#\s*include\s*[<"]([^>"]*?)\.h[>"]/.exec(text);
  if (!m) return null;
  const name = basename(m[1]!) + '.x';
  const read = options.readFile ?? readFileFromDisk;
  for (const dir of [dirname(file), ...(options.includePaths ?? [])]) {
    const path = join(dir, name);
    if (stack.includes(resolvePath(path))) return null;
    let source: string;
    try {
      source = read(path);
    } catch {
      continue;
    }
    return { ...checkWith(source, path, options, stack), path };
  }
  return null;
}

function unwrap(r: CheckResult): Schema {
  if (!r.schema) throw new CompileError(r.diagnostics);
  return r.schema;
}
