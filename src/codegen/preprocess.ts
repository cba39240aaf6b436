// The C preprocessor subset rpcgen users rely on (rpcgen pipes .x files through cpp): comments,
// object-like #define / #undef, #if / #ifdef / #ifndef / #elif / #else / #endif, #include "…",
// `%` passthrough lines. Output is a list of one-line text segments that keep their original
// file:line:col, so every later diagnostic points into the file the user wrote.

import { dirname, isAbsolute, join, resolve as resolvePath } from 'node:path';
import type { Diagnostic, Pos } from './ast.js';
import { Diagnostics, readFileFromDisk, type ReadFile } from './source.js';

/** The symbol rpcgen predefines for each of its output passes (exactly one per run). */
export type RpcgenMode = 'RPC_HDR' | 'RPC_XDR' | 'RPC_SVC' | 'RPC_CLNT' | 'RPC_TBL';

/**
 * The symbol predefined when no `mode` is given. rpcgen compiles a .x once per output file and
 * defines RPC_HDR for the header, the pass that sees every type, constant and program number;
 * a generated TypeScript module plays the header's role (plus the codecs, which are
 * unconditional in practice), so `#ifdef RPC_HDR` sections are what its `%` comments should carry.
 */
export const DEFAULT_MODE: RpcgenMode = 'RPC_HDR';

export interface PreprocessOptions {
  /** rpcgen output symbol to predefine as 1; `null` predefines none. Default {@link DEFAULT_MODE}. */
  mode?: RpcgenMode | null;
  /** Macros as on a cpp command line (`-DNAME=value`): `true` or '' define as 1, `false` undefines. */
  defines?: Readonly<Record<string, string | number | boolean>>;
  /** Reads included files (default: from disk). Throws when a file cannot be read. */
  readFile?: ReadFile;
  /** Directories for `#include <…>`, and for `#include "…"` after the including file's directory. */
  includePaths?: readonly string[];
}

/**
 * Preprocessed text: a piece of one source line (`expanded` false: character i is at `pos.col + i`)
 * or the expansion of a macro (`expanded` true: everything in it is reported at the macro's name).
 */
export type Segment =
  | { kind: 'text'; text: string; pos: Pos; expanded: boolean }
  /** A `%` line: `text` is what follows the `%`; `pos` is the `%`. */
  | { kind: 'passthrough'; text: string; pos: Pos };

export interface Preprocessed {
  file: string;
  segments: Segment[];
  diagnostics: Diagnostic[];
  /** Every file read, the top-level one first (for watch modes and build tools). */
  files: string[];
}

const MAX_INCLUDE_DEPTH = 64;
/** Bound on #if parentheses/unary operators and on macro-in-macro expansion (keeps recursion shallow). */
const MAX_NESTING = 200;
/** Bound on the text one line's macro expansion may produce (`#define A B B`, `#define B C C`, …). */
const MAX_EXPANSION = 1 << 20;

/**
 * Runs the preprocessor over `text` (the contents of `file`). Never throws on bad input: problems
 * are returned as diagnostics.
 */
export function preprocess(text: string, file: string, options: PreprocessOptions = {}): Preprocessed {
  const pp = new Preprocessor(options);
  pp.files.push(file);
  pp.run(text, file);
  return { file, segments: pp.segments, diagnostics: pp.diags.list, files: pp.files };
}

interface Macro {
  body: string;
  pos: Pos | null;
}

interface Cond {
  pos: Pos;
  /** The enclosing group is active. */
  parentActive: boolean;
  /** The current branch is active (implies parentActive). */
  active: boolean;
  /** Some branch of this #if chain has been taken already. */
  taken: boolean;
  sawElse: boolean;
}

interface Line {
  text: string;
  passthrough: boolean;
}

type IfToken = { t: 'num'; v: bigint; col: number } | { t: 'id'; v: string; col: number } | { t: 'op'; v: string; col: number };

class Preprocessor {
  readonly macros = new Map<string, Macro>();
  readonly segments: Segment[] = [];
  readonly diags = new Diagnostics();
  readonly files: string[] = [];
  readonly #stack: string[] = [];
  readonly #readFile: ReadFile;
  readonly #includePaths: readonly string[];
  #budget = 0;

  constructor(options: PreprocessOptions) {
    this.#readFile = options.readFile ?? readFileFromDisk;
    this.#includePaths = options.includePaths ?? [];
    const mode = options.mode === undefined ? DEFAULT_MODE : options.mode;
    if (mode) this.macros.set(mode, { body: '1', pos: null });
    for (const [name, v] of Object.entries(options.defines ?? {})) {
      if (v === false) this.macros.delete(name);
      else this.macros.set(name, { body: v === true || v === '' ? '1' : String(v), pos: null });
    }
  }

  run(text: string, file: string): void {
    const key = resolvePath(file);
    this.#stack.push(key);
    const lines = splitLines(text, file, this.diags);
    const conds: Cond[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const active = conds.length === 0 || conds[conds.length - 1]!.active;
      if (line.passthrough) {
        if (active) {
          const col = line.text.indexOf('%') + 1;
          this.segments.push({ kind: 'passthrough', text: line.text.slice(col), pos: { file, line: i + 1, col } });
        }
        continue;
      }
      const m = /^[ \t\f\v]*#/.exec(line.text);
      if (m) {
        this.#directive(line.text, m[0].length, file, i + 1, conds, active);
        continue;
      }
      if (active) this.#textLine(line.text, file, i + 1);
    }
    for (const c of conds) this.diags.error(c.pos, 'unterminated conditional directive (missing #endif)');
    this.#stack.pop();
  }

  /** `hash` is the index just after '#'. */
  #directive(full: string, hash: number, file: string, line: number, conds: Cond[], active: boolean): void {
    const at = (index: number): Pos => ({ file, line, col: index + 1 });
    const nm = /^[ \t\f\v]*([A-Za-z_]\w*)?/.exec(full.slice(hash))!;
    const name = nm[1] ?? '';
    const restIndex = hash + nm[0].length;
    const rest = full.slice(restIndex);
    const namePos = at(hash + nm[0].length - name.length);
    const hashPos = at(hash - 1);
    const top = conds[conds.length - 1];
    switch (name) {
      case 'if':
      case 'ifdef':
      case 'ifndef': {
        let taken = false;
        if (active) {
          if (name === 'if') taken = this.#evalIf(rest, restIndex, file, line, hashPos);
          else {
            const id = this.#macroName(rest, restIndex, file, line, `#${name}`);
            taken = id !== null && this.macros.has(id) === (name === 'ifdef');
          }
        }
        conds.push({ pos: hashPos, parentActive: active, active: active && taken, taken: !active || taken, sawElse: false });
        return;
      }
      case 'elif':
      case 'else': {
        if (!top) {
          this.diags.error(hashPos, `#${name} without #if`);
          return;
        }
        if (top.sawElse) {
          this.diags.error(hashPos, `#${name} after #else`);
          top.active = false;
          return;
        }
        if (name === 'else') {
          top.sawElse = true;
          top.active = top.parentActive && !top.taken;
          top.taken = true;
        } else if (top.parentActive && !top.taken) {
          top.active = this.#evalIf(rest, restIndex, file, line, hashPos);
          top.taken = top.active;
        } else top.active = false;
        return;
      }
      case 'endif':
        if (!top) this.diags.error(hashPos, '#endif without #if');
        else conds.pop();
        return;
    }
    if (!active) return; // other directives in skipped groups are not even looked at (cpp)
    switch (name) {
      case '':
        // `#` alone is the null directive; `# 12 "file"` is a cpp line marker: both ignored.
        if (rest.trim() !== '' && !/^\s*\d/.test(rest)) this.diags.error(namePos, 'invalid preprocessor directive');
        return;
      case 'define': {
        const m = /^([ \t\f\v]*)([A-Za-z_]\w*)?(\(?)/.exec(rest)!;
        const id = m[2];
        const idPos = at(restIndex + m[1]!.length);
        if (!id) {
          this.diags.error(idPos, '#define needs a macro name');
          return;
        }
        if (id === 'defined') {
          this.diags.error(idPos, "'defined' cannot be used as a macro name");
          return;
        }
        if (m[3]) {
          this.diags.error(idPos, `function-like macro '${id}' is not supported (only object-like #define)`);
          return;
        }
        const body = rest.slice(m[0].length).trim();
        const old = this.macros.get(id);
        if (old && old.body !== body) this.diags.warning(idPos, `'${id}' redefined`);
        this.macros.set(id, { body, pos: idPos });
        return;
      }
      case 'undef': {
        const id = this.#macroName(rest, restIndex, file, line, '#undef');
        if (id !== null) this.macros.delete(id);
        return;
      }
      case 'include':
        this.#include(rest, restIndex, file, line);
        return;
      case 'error':
        this.diags.error(hashPos, `#error ${rest.trim()}`.trimEnd());
        return;
      case 'warning':
        this.diags.warning(hashPos, `#warning ${rest.trim()}`.trimEnd());
        return;
      case 'pragma':
      case 'ident':
      case 'sccs':
      case 'line':
        return;
      default:
        this.diags.error(namePos, `unknown preprocessor directive '#${name}'`);
    }
  }

  #macroName(rest: string, restIndex: number, file: string, line: number, what: string): string | null {
    const m = /^([ \t\f\v]*)([A-Za-z_]\w*)?/.exec(rest)!;
    if (!m[2]) {
      this.diags.error({ file, line, col: restIndex + m[1]!.length + 1 }, `${what} needs a macro name`);
      return null;
    }
    return m[2];
  }

  #include(rest: string, restIndex: number, file: string, line: number): void {
    const m = /^([ \t\f\v]*)(?:"([^"]*)"|<([^>]*)>)/.exec(rest);
    const argPos: Pos = { file, line, col: restIndex + (m ? m[1]!.length : rest.length - rest.trimStart().length) + 1 };
    if (!m) {
      this.diags.error(argPos, '#include expects "FILE" or <FILE>');
      return;
    }
    const quoted = m[2] !== undefined;
    const name = (quoted ? m[2] : m[3])!;
    if (name === '') {
      this.diags.error(argPos, 'empty file name in #include');
      return;
    }
    if (this.#stack.length >= MAX_INCLUDE_DEPTH) {
      this.diags.error(argPos, `#include nested too deeply (more than ${MAX_INCLUDE_DEPTH} levels)`);
      return;
    }
    const candidates = isAbsolute(name)
      ? [name]
      : [...(quoted ? [join(dirname(file), name)] : []), ...this.#includePaths.map((d) => join(d, name))];
    let firstError: unknown = null;
    for (const path of candidates) {
      if (this.#stack.includes(resolvePath(path))) {
        this.diags.error(argPos, `#include cycle: "${path}" is already being included`);
        return;
      }
      let text: string;
      try {
        text = this.#readFile(path);
      } catch (err) {
        firstError ??= err;
        continue;
      }
      this.files.push(path);
      this.run(text, path);
      return;
    }
    const why = firstError instanceof Error ? `: ${firstError.message}` : '';
    this.diags.error(argPos, `cannot include ${quoted ? `"${name}"` : `<${name}>`}${why}`);
  }

  #textLine(text: string, file: string, line: number): void {
    if (this.macros.size === 0) {
      if (text.trim() !== '') this.segments.push({ kind: 'text', text, pos: { file, line, col: 1 }, expanded: false });
      return;
    }
    this.#budget = 0;
    let start = 0;
    const re = /[A-Za-z_]\w*|\d\w*/g;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const macro = this.macros.get(m[0]);
      if (!macro || /^\d/.test(m[0])) continue;
      if (m.index > start) this.segments.push({ kind: 'text', text: text.slice(start, m.index), pos: { file, line, col: start + 1 }, expanded: false });
      const pos = { file, line, col: m.index + 1 };
      const body = this.#expand(macro.body, new Set([m[0]]), pos);
      this.segments.push({ kind: 'text', text: ` ${body} `, pos, expanded: true });
      start = m.index + m[0].length;
    }
    if (start < text.length && text.slice(start).trim() !== '')
      this.segments.push({ kind: 'text', text: text.slice(start), pos: { file, line, col: start + 1 }, expanded: false });
  }

  #expand(body: string, hide: Set<string>, pos: Pos): string {
    return body.replace(/[A-Za-z_]\w*|\d\w*/g, (id) => {
      const macro = this.macros.get(id);
      if (!macro || hide.has(id) || /^\d/.test(id)) return id;
      if (hide.size > MAX_NESTING) {
        if (this.#budget <= MAX_EXPANSION) this.diags.error(pos, `macros nested more than ${MAX_NESTING} deep`);
        this.#budget = MAX_EXPANSION + 1;
        return '';
      }
      this.#budget += macro.body.length;
      if (this.#budget > MAX_EXPANSION) {
        if (this.#budget - macro.body.length <= MAX_EXPANSION) this.diags.error(pos, `expansion of macros is too large`);
        return '';
      }
      const inner = new Set(hide).add(id);
      return this.#expand(macro.body, inner, pos);
    });
  }

  // ---- #if expressions (C99 §6.10.1: identifiers left after expansion are 0) ----

  #evalIf(rest: string, restIndex: number, file: string, line: number, hashPos: Pos): boolean {
    const err = (col: number, message: string): void => this.diags.error({ file, line, col }, message);
    const raw = tokenizeIf(rest, restIndex + 1, err);
    if (raw === null) return false;
    this.#budget = 0;
    const toks: IfToken[] = [];
    if (!this.#expandIf(raw, new Set(), toks, err)) return false;
    if (toks.length === 0) {
      this.diags.error(hashPos, '#if with no expression');
      return false;
    }
    const endCol = restIndex + rest.trimEnd().length + 1;
    const r = evalIf(toks, endCol, err);
    return r !== null && r !== 0n;
  }

  #expandIf(tokens: IfToken[], hide: Set<string>, out: IfToken[], err: (col: number, m: string) => void): boolean {
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.t !== 'id') {
        out.push(t);
        continue;
      }
      if (t.v === 'defined') {
        let j = i + 1;
        const paren = tokens[j]?.t === 'op' && tokens[j]!.v === '(';
        if (paren) j++;
        const id = tokens[j];
        if (!id || id.t !== 'id') {
          err(t.col, "'defined' needs a macro name");
          return false;
        }
        if (paren) {
          const close = tokens[j + 1];
          if (!close || close.t !== 'op' || close.v !== ')') {
            err(id.col, "missing ')' after 'defined'");
            return false;
          }
          j++;
        }
        out.push({ t: 'num', v: this.macros.has(id.v) ? 1n : 0n, col: t.col });
        i = j;
        continue;
      }
      const macro = this.macros.get(t.v);
      if (!macro || hide.has(t.v)) {
        out.push({ t: 'num', v: 0n, col: t.col });
        continue;
      }
      if (hide.size > MAX_NESTING) {
        err(t.col, `macros nested more than ${MAX_NESTING} deep`);
        return false;
      }
      this.#budget += macro.body.length;
      if (this.#budget > MAX_EXPANSION) {
        err(t.col, 'expansion of macros is too large');
        return false;
      }
      const body = tokenizeIf(macro.body, 0, () => {}, t.col);
      if (body === null) {
        err(t.col, `macro '${t.v}' does not expand to an integer expression`);
        return false;
      }
      if (!this.#expandIf(body, new Set(hide).add(t.v), out, err)) return false;
    }
    return true;
  }
}

/**
 * Splits a file into lines with comments blanked out (column-preserving; newlines inside block
 * comments are kept so line numbers stay right) and `%` lines marked.
 */
function splitLines(text: string, file: string, diags: Diagnostics): Line[] {
  const raw = text.split(/\r?\n|\r/);
  const out: Line[] = new Array(raw.length);
  let commentStart: Pos | null = null;
  for (let n = 0; n < raw.length; n++) {
    let s = raw[n]!;
    const first = n;
    if (s.endsWith('\\')) {
      if (commentStart === null && /^[ \t\f\v]*[#%]/.test(s)) {
        // Backslash-newline splices lines (C99 5.1.1.2 phase 2): rpcgen users continue long
        // `%#define` and `#define` lines. The spliced lines stay as blank lines, so numbering holds.
        while (s.endsWith('\\') && n + 1 < raw.length) {
          s = s.slice(0, -1) + raw[++n]!;
          out[n] = { text: '', passthrough: false };
        }
      } else s = s.slice(0, -1) + ' ';
    }
    if (commentStart === null && /^[ \t\f\v]*%/.test(s)) {
      out[first] = { text: s, passthrough: true };
      continue;
    }
    if (commentStart === null && s.indexOf('/') < 0) {
      out[first] = { text: s, passthrough: false };
      continue;
    }
    let r = '';
    let i = 0;
    while (i < s.length) {
      if (commentStart !== null) {
        const end = s.indexOf('*/', i);
        if (end < 0) {
          r += ' '.repeat(s.length - i);
          i = s.length;
        } else {
          r += ' '.repeat(end + 2 - i);
          i = end + 2;
          commentStart = null;
        }
        continue;
      }
      const c = s[i]!;
      if (c === '/' && s[i + 1] === '*') {
        commentStart = { file, line: n + 1, col: i + 1 };
        r += '  ';
        i += 2;
      } else if (c === '/' && s[i + 1] === '/') {
        i = s.length;
      } else if (c === '"') {
        const end = s.indexOf('"', i + 1);
        const stop = end < 0 ? s.length : end + 1;
        r += s.slice(i, stop);
        i = stop;
      } else {
        r += c;
        i++;
      }
    }
    out[first] = { text: r, passthrough: false };
  }
  if (commentStart !== null) diags.error(commentStart, 'unterminated comment');
  return out;
}

/**
 * Evaluates a C integer expression as #if does, with `lookup` giving identifiers their values
 * (null: not a constant). Null when the text is not such an expression. Used for rpcgen's
 * `%#define NAME expr` lines, whose names .x files use as sizes.
 */
export function evalIntegerExpression(text: string, lookup: (name: string) => bigint | null): bigint | null {
  let bad = false;
  const err = (): void => {
    bad = true;
  };
  const toks = tokenizeIf(text, 1, err);
  if (!toks || toks.length === 0) return null;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.t !== 'id') continue;
    const v = lookup(t.v);
    if (v === null) return null;
    toks[i] = { t: 'num', v, col: t.col };
  }
  const v = evalIf(toks, text.length + 1, err);
  return bad ? null : v;
}

const IF_OPS = ['<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '+', '-', '*', '/', '%', '<', '>', '&', '|', '^', '~', '!', '?', ':', '(', ')'];

/** Tokens of a #if expression; `base` is the 1-based column of s[0]; `fixedCol` pins every token. */
function tokenizeIf(s: string, base: number, err: (col: number, m: string) => void, fixedCol?: number): IfToken[] | null {
  const out: IfToken[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    const col = fixedCol ?? base + i;
    if (c === ' ' || c === '\t' || c === '\f' || c === '\v' || c === '\r' || c === '\n') {
      i++;
      continue;
    }
    const id = /^[A-Za-z_]\w*/.exec(s.slice(i, i + 256));
    if (id) {
      out.push({ t: 'id', v: id[0], col });
      i += id[0].length;
      continue;
    }
    const num = /^(?:0[xX]([0-9a-fA-F]+)|(\d+))([uUlL]*)(\w*)/.exec(s.slice(i, i + 256));
    if (num) {
      if (num[4]) {
        err(col, `invalid integer constant '${num[0]}' in #if`);
        return null;
      }
      let v: bigint;
      if (num[1] !== undefined) v = BigInt('0x' + num[1]);
      else if (num[2]!.length > 1 && num[2]![0] === '0') {
        if (/[89]/.test(num[2]!)) {
          err(col, `invalid octal constant '${num[0]}' in #if`);
          return null;
        }
        v = BigInt('0o' + num[2]!.slice(1));
      } else v = BigInt(num[2]!);
      out.push({ t: 'num', v: BigInt.asIntN(64, v), col });
      i += num[0].length;
      continue;
    }
    const op = IF_OPS.find((o) => s.startsWith(o, i));
    if (!op) {
      err(col, `unexpected character '${c}' in #if`);
      return null;
    }
    out.push({ t: 'op', v: op, col });
    i += op.length;
  }
  return out;
}

const BINARY: Record<string, number> = {
  '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5, '==': 6, '!=': 6,
  '<': 7, '>': 7, '<=': 7, '>=': 7, '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '%': 10,
};

/** Evaluates a macro-expanded #if expression in 64-bit signed arithmetic; null after an error. */
function evalIf(toks: IfToken[], endCol: number, err: (col: number, m: string) => void): bigint | null {
  let i = 0;
  class Fail extends Error {}
  const fail = (col: number, m: string): never => {
    err(col, m);
    throw new Fail();
  };
  const peek = (): IfToken | undefined => toks[i];
  const describe = (t: IfToken | undefined): string => (t ? `'${String(t.v)}'` : 'end of expression');
  const wrap = (v: bigint): bigint => BigInt.asIntN(64, v);

  let depth = 0;
  const primary = (live: boolean): bigint => {
    if (++depth > MAX_NESTING) fail(toks[i]?.col ?? endCol, `#if expression nested more than ${MAX_NESTING} deep`);
    try {
      return primaryInner(live);
    } finally {
      depth--;
    }
  };
  const primaryInner = (live: boolean): bigint => {
    const t = toks[i++];
    if (!t) return fail(endCol, 'expected a value in #if expression, found end of expression');
    if (t.t === 'num') return t.v;
    if (t.t === 'id') return 0n;
    switch (t.v) {
      case '(': {
        const v = ternary(live);
        const c = toks[i++];
        if (!c || c.t !== 'op' || c.v !== ')') fail(c?.col ?? endCol, `expected ')' in #if expression, found ${describe(c)}`);
        return v;
      }
      case '-':
        return wrap(-primary(live));
      case '+':
        return primary(live);
      case '~':
        return wrap(~primary(live));
      case '!':
        return primary(live) === 0n ? 1n : 0n;
    }
    return fail(t.col, `expected a value in #if expression, found '${t.v}'`);
  };

  const binary = (minPrec: number, live: boolean): bigint => {
    let left = primary(live);
    for (;;) {
      const t = peek();
      if (!t || t.t !== 'op') return left;
      const prec = BINARY[t.v];
      if (prec === undefined || prec < minPrec) return left;
      i++;
      const rightLive = live && !(t.v === '&&' && left === 0n) && !(t.v === '||' && left !== 0n);
      const right = binary(prec + 1, rightLive);
      switch (t.v) {
        case '||': left = left !== 0n || right !== 0n ? 1n : 0n; break;
        case '&&': left = left !== 0n && right !== 0n ? 1n : 0n; break;
        case '|': left = left | right; break;
        case '^': left = left ^ right; break;
        case '&': left = left & right; break;
        case '==': left = left === right ? 1n : 0n; break;
        case '!=': left = left !== right ? 1n : 0n; break;
        case '<': left = left < right ? 1n : 0n; break;
        case '>': left = left > right ? 1n : 0n; break;
        case '<=': left = left <= right ? 1n : 0n; break;
        case '>=': left = left >= right ? 1n : 0n; break;
        case '<<': left = right < 0n || right > 63n ? 0n : wrap(left << right); break;
        case '>>': left = right < 0n || right > 63n ? (left < 0n ? -1n : 0n) : left >> right; break;
        case '+': left = wrap(left + right); break;
        case '-': left = wrap(left - right); break;
        case '*': left = wrap(left * right); break;
        case '/':
        case '%':
          if (right === 0n) {
            if (live) fail(t.col, 'division by zero in #if');
            left = 0n;
          } else left = wrap(t.v === '/' ? left / right : left % right);
          break;
      }
    }
  };

  const ternary = (live: boolean): bigint => {
    const c = binary(1, live);
    const q = peek();
    if (!q || q.t !== 'op' || q.v !== '?') return c;
    i++;
    const a = ternary(live && c !== 0n);
    const colon = toks[i++];
    if (!colon || colon.t !== 'op' || colon.v !== ':') fail(colon?.col ?? endCol, `expected ':' in #if expression, found ${describe(colon)}`);
    const b = ternary(live && c === 0n);
    return c !== 0n ? a : b;
  };

  try {
    const v = ternary(true);
    if (i < toks.length) fail(toks[i]!.col, `unexpected ${describe(toks[i])} in #if expression`);
    return v;
  } catch (e) {
    if (e instanceof Fail) return null;
    throw e;
  }
}
