// Emits straight-line read/write functions over XdrReader/XdrWriter for every type of a .x module, in
// the shape bench/xdr/codec-oncrpc-runs.js measured fastest: each run of fixed-size fields makes one
// capacity check (`r.need(n)` / `w.reserve(n)`) and then reads or writes the DataView through a local
// cursor, range-checking every value on encode; objects are built in one literal in .x field order;
// linked lists are loops; recursion counts depth with enter()/leave(). Errors carry the field path
// (`entries[3].name`, `next#2`): values checked inside a run throw with their full path, everything else
// is annotated by one try/catch per function that tracks the field being handled in `at`.

import type { Declaration, UnionCase, Value } from './ast.js';
import { caseLiteral, defaultDiscriminantType, enumOf } from './emit-types.js';
import { type Model, type Shape, type TypeInfo, declName } from './emit-model.js';
import { capitalize, isIdentifier, isReservedLocal, member, propKey, quote } from './names.js';
import { Printer } from './printer.js';

/** One part of an error path: a field name, or a loop index variable. */
type PathPart = { s: string } | { i: string };

/** A field to read or write: its path segment, shape, and (encode) how to reach its value. */
interface Item {
  name: string;
  shape: Shape;
  /** JS expression of the value (encode). */
  acc: string;
  /** A discriminant value already known to be valid (encode): written without a check. */
  checked?: boolean;
  /** Preferred local name (decode); defaults to `name`. */
  local?: string;
}

/** Byte offset `base + k` inside a run. */
interface Off {
  base: string;
  k: number;
}

const offText = (o: Off): string => (o.k === 0 ? o.base : `${o.base} + ${o.k}`);
const addOff = (o: Off, k: number): Off => ({ base: o.base, k: o.k + k });

function pathText(parts: readonly PathPart[]): string {
  let s = '';
  let dynamic = false;
  for (const p of parts) {
    if ('s' in p) {
      if (p.s === '') continue;
      s += s === '' || p.s.startsWith('[') ? p.s : '.' + p.s;
    } else {
      s += `[\${${p.i}}]`;
      dynamic = true;
    }
  }
  return dynamic ? '`' + s + '`' : quote(s);
}

const READ_PRIM = {
  int: 'readInt',
  uint: 'readUint',
  hyper: 'readHyper',
  uhyper: 'readUhyper',
  float: 'readFloat',
  double: 'readDouble',
  bool: 'readBool',
  quadruple: 'readQuadruple',
} as const;
const WRITE_PRIM = {
  int: 'writeInt',
  uint: 'writeUint',
  hyper: 'writeHyper',
  uhyper: 'writeUhyper',
  float: 'writeFloat',
  double: 'writeDouble',
  bool: 'writeBool',
  quadruple: 'writeQuadruple',
} as const;
const VIEW = {
  int: ['getInt32', 'setInt32'],
  uint: ['getUint32', 'setUint32'],
  enum: ['getInt32', 'setInt32'],
  float: ['getFloat32', 'setFloat32'],
  double: ['getFloat64', 'setFloat64'],
  hyper: ['getBigInt64', 'setBigInt64'],
  uhyper: ['getBigUint64', 'setBigUint64'],
  bool: ['getUint32', 'setUint32'],
} as const;

/** The body of one generated function, with its locals. */
class Fn {
  readonly p = new Printer();
  #locals = new Set<string>();
  readonly scratch = new Set<'x' | 'h' | 'b'>();
  /** Static value of `at` at this point of the code. */
  at: string;
  usesAt = false;
  usesView = false;

  constructor(
    readonly m: Model,
    readonly self: TypeInfo | null,
    readonly initialAt: string,
    params: string[],
  ) {
    this.at = initialAt;
    for (const x of params) this.#locals.add(x);
    for (const x of ['x', 'h', 'b', 'at', 'e']) this.#locals.add(x);
  }

  line(s: string): void {
    this.p.line(s);
  }

  /** A generator local: `base`, then `base2`, `base3`, … */
  fresh(base: string): string {
    let name = base;
    for (let n = 2; this.#locals.has(name); n++) name = base + n;
    this.#locals.add(name);
    return name;
  }

  /** A local named after a field (or path): the name itself unless it would shadow something. */
  fieldLocal(name: string): string {
    let base = name.replace(/[^A-Za-z0-9_$]/g, '_');
    if (base === '' || /^[0-9]/.test(base)) base = 'f_' + base;
    while (isReservedLocal(base) || this.m.names.values.has(base)) base += '_';
    let n = base;
    for (let k = 2; this.#locals.has(n); k++) n = `${base}_${k}`;
    this.#locals.add(n);
    return n;
  }

  /** Runs `body` in a nested block scope: names declared inside are free again afterwards. */
  scope<T>(body: () => T): T {
    const saved = new Set(this.#locals);
    try {
      return body();
    } finally {
      this.#locals = saved;
    }
  }

  setAt(name: string): void {
    if (this.at === name) return;
    this.at = name;
    this.usesAt = true;
    this.line(`at = ${quote(name)};`);
  }

  /** Lines `body` emits one level deeper, taken out again (to decide on braces); see `rawBlock`. */
  capture<T>(body: () => T): { lines: string[]; value: T } {
    const saved = this.p.lines.length;
    this.p.indent();
    const value = body();
    this.p.dedent();
    const lines = this.p.lines.splice(saved);
    return { lines, value };
  }

  /**
   * Drops the declaration at `lines[at]` of local `name` if no later line uses it (a run of hypers writes
   * through `w.putHyper`, not through the view).
   */
  dropIfUnused(at: number, name: string): void {
    const used = new RegExp(`(?<![\\w$.'\`])${name.replace(/\$/g, '\\$')}\\.set`);
    if (!this.p.lines.slice(at + 1).some((l) => used.test(l))) this.p.lines.splice(at, 1);
  }

  /** `open`, captured lines, `close`. */
  rawBlock(open: string, lines: readonly string[], close = '}'): void {
    this.p.line(open);
    this.p.lines.push(...lines);
    this.p.line(close);
  }
}

/** Options of the codec emitter. */
export interface CodecEmitterOptions {
  /**
   * Plain JavaScript instead of TypeScript: no type annotations, casts or `export`, case labels and bounds
   * as numbers (the module's constants are not emitted). The run-time loader evaluates this text
   * (interpret.ts); `oncrpc gen` writes the TypeScript. The statements are the same.
   */
  js?: boolean;
}

export class CodecEmitter {
  readonly helpers = new Set<string>();
  readonly imports = new Set<string>();
  /** Enum value sets, by enum. */
  readonly #values = new Map<TypeInfo, string>();
  readonly #linkFns = new Map<TypeInfo, { read: string; write: string }>();
  readonly js: boolean;

  constructor(
    readonly m: Model,
    options: CodecEmitterOptions = {},
  ) {
    this.js = options.js ?? false;
  }

  /** A type annotation (`: number`), or nothing in JavaScript. */
  #t(annotation: string): string {
    return this.js ? '' : annotation;
  }

  /** `expr as type`, or `expr` in JavaScript. */
  #as(expr: string, type: string): string {
    return this.js ? expr : `${expr} as ${type}`;
  }

  /** `expr!` (non-null assertion), or `expr` in JavaScript. */
  #nn(expr: string): string {
    return this.js ? expr : `${expr}!`;
  }

  /** A union case label: the enum member (`nfsstat3.NFS3_OK`) in TypeScript, the number in JavaScript. */
  #label(t: TypeInfo, v: Value): string {
    const lit = caseLiteral(this.m, t, v);
    return this.js && lit.expr !== 'true' && lit.expr !== 'false' ? String(lit.value) : lit.expr;
  }

  emit(out: Printer): void {
    for (const t of this.m.types) {
      switch (t.def.kind) {
        case 'enum':
          this.#enum(t, out);
          break;
        case 'struct':
          this.#struct(t, out);
          break;
        case 'union':
          this.#union(t, out);
          break;
        case 'typedef':
          this.#typedef(t, out);
          break;
      }
    }
  }

  /** The module-level helpers used, as source text. */
  helperSource(out: Printer): void {
    for (const [t, name] of this.#values) {
      // Value sets of enums defined in another .x module (their own set is private to it).
      if (t.owner === this.m || t.def.kind !== 'enum') continue;
      const vals = t.def.body.members.map((mm) => String(t.owner.value(mm.value)));
      out.line(`const ${name}${this.#t(': ReadonlySet<number>')} = new Set([${vals.join(', ')}]);`);
    }
    // The error helpers (atPath, notUint, badEnum, …) are imported from 'oncrpc/runtime' (src/xdr/value-errors.ts),
    // not repeated in every generated module.
  }

  #use(helper: string): string {
    this.helpers.add(helper);
    this.imports.add(helper);
    return helper;
  }

  // ---- whole functions --------------------------------------------------------------------------------

  #function(out: Printer, doc: string, head: string, fn: Fn, kind: 'read' | 'write'): void {
    // A body that reads or writes nothing (a linked-list node whose only field is the link, an `int x[0]`)
    // leaves a parameter unused: `_r` keeps noUnusedParameters quiet.
    const body = fn.p.lines.join('\n') + (kind === 'read' && fn.usesView ? '\nr.view' : '');
    for (const param of ['r', 'w', 'v']) {
      if (!new RegExp(`\\b${param}\\b`).test(body)) head = head.replace(`(${param}: `, `(_${param}: `).replace(`, ${param}: `, `, _${param}: `);
    }
    out.line(doc);
    out.block(`${head} {`, () => {
      if (kind === 'read' && fn.usesView) out.line('const d = r.view;');
      if (fn.scratch.has('x')) out.line(`let x${this.#t(': number')};`);
      if (fn.scratch.has('h')) out.line(`let h${this.#t(': bigint')};`);
      if (fn.scratch.has('b')) out.line(`let b${this.#t(': boolean')};`);
      if (!fn.usesAt) {
        out.append(fn.p.lines);
        return;
      }
      out.line(`let at = ${quote(fn.initialAt)};`);
      out.block('try {', () => out.append(fn.p.lines), '} catch (e) {');
      out.indent().line(`throw ${this.#use('atPath')}(e, at);`).dedent();
      out.line('}');
    });
    out.line('');
  }

  #readHead(name: string, ts: string, exported = true): string {
    this.imports.add('XdrReader');
    if (this.js) return `function ${name}(r)`;
    return `${exported ? 'export ' : ''}function ${name}(r: XdrReader): ${ts}`;
  }

  #writeHead(name: string, ts: string, exported = true): string {
    this.imports.add('XdrWriter');
    if (this.js) return `function ${name}(w, v)`;
    return `${exported ? 'export ' : ''}function ${name}(w: XdrWriter, v: ${ts}): void`;
  }

  #enum(t: TypeInfo, out: Printer): void {
    if (t.def.kind !== 'enum') return;
    const set = this.#valuesOf(t);
    const vals = t.def.body.members.map((mm) => String(this.m.value(mm.value)));
    out.line(`const ${set}${this.#t(': ReadonlySet<number>')} = new Set([${vals.join(', ')}]);`);
    out.line('');
    out.line(`/** Reads enum ${t.xName}: one of its values, else XdrDecodeError ERR_XDR_ENUM. */`);
    out.block(`${this.#readHead(t.read, t.ts)} {`, () => out.line(`return ${this.#as(`r.readEnum(${set}, ${quote(t.xName)})`, t.ts)};`));
    out.line('');
    out.line(`/** Writes enum ${t.xName}; XdrEncodeError for a value it does not have. */`);
    out.block(`${this.#writeHead(t.write, t.ts)} {`, () => out.line(`w.writeEnum(v, ${set}, ${quote(t.xName)});`));
    out.line('');
  }

  #valuesOf(t: TypeInfo): string {
    let s = this.#values.get(t);
    if (!s) {
      s = this.m.names.claim(`${t.ts}Values`, true);
      this.#values.set(t, s);
    }
    return s;
  }

  #typedef(t: TypeInfo, out: Printer): void {
    if (t.def.kind !== 'typedef') return;
    const shape = this.m.shapeOfDecl(t.def.decl);
    const item: Item = { name: '', shape, acc: 'v', local: 'value' };
    const rf = new Fn(this.m, t, '', ['r', 'd']);
    const [expr] = this.#readItems(rf, [item]);
    rf.line(`return ${expr};`);
    this.#function(out, `/** Reads typedef ${t.xName}. */`, this.#readHead(t.read, t.ts), rf, 'read');
    const wf = new Fn(this.m, t, '', ['w', 'v']);
    this.#writeItems(wf, [item]);
    this.#function(out, `/** Writes typedef ${t.xName}. */`, this.#writeHead(t.write, t.ts), wf, 'write');
  }

  #struct(t: TypeInfo, out: Printer): void {
    if (t.def.kind !== 'struct') return;
    const link = t.def.link;
    const fields = t.def.fields.filter((f) => f !== link && f.kind !== 'void');
    const items = fields.map((f): Item => ({ name: declName(f), shape: this.m.shapeOfDecl(f), acc: member('v', declName(f)) }));
    const size = this.m.structFixedSize(t);
    const what = `struct ${t.xName}${size !== null ? ` (fixed size: ${size} bytes)` : ''}`;
    let readName = t.read;
    let writeName = t.write;
    if (link) {
      readName = this.m.names.claim(`${t.read}Fields`, true);
      writeName = this.m.names.claim(`${t.write}Fields`, true);
      this.#linkFns.set(t, { read: readName, write: writeName });
    }
    // read
    const rf = new Fn(this.m, t, '', ['r', 'd']);
    const exprs = this.#readItems(rf, items);
    const props = items.map((it, i) => prop(it.name, exprs[i]!));
    if (link) props.push(`${propKey(declName(link))}: null`);
    rf.line(`return ${objectLiteral(props)};`);
    const rdoc = link ? `/** Reads one node of ${what}, its \`${declName(link)}\` left null. */` : `/** Reads ${what}. */`;
    this.#function(out, rdoc, this.#readHead(readName, t.ts, !link), rf, 'read');
    // write
    const wf = new Fn(this.m, t, '', ['w', 'v']);
    wf.line(`if (v === null || typeof v !== 'object') throw ${this.#use('notObject')}(v, ${quote(`struct ${t.xName}`)});`);
    this.#writeItems(wf, items);
    const wdoc = link ? `/** Writes one node of ${what}, without its \`${declName(link)}\`. */` : `/** Writes ${what}. */`;
    this.#function(out, wdoc, this.#writeHead(writeName, t.ts, !link), wf, 'write');
    if (link) this.#linkedList(t, declName(link), readName, writeName, out);
  }

  /** A linked list read and written with a loop, as libtirpc's xdr_rpcblist_ptr does. */
  #linkedList(t: TypeInfo, link: string, readFields: string, writeFields: string, out: Printer): void {
    const at = this.#use('atPath');
    out.line(`/** Reads a list of ${t.xName} (a loop: any length, no recursion). Errors in node n are at \`${link}#n\`. */`);
    out.block(`${this.#readHead(t.read, t.ts)} {`, () => {
      out.line(`const head = ${readFields}(r);`);
      out.line('let last = head;');
      out.line('let i = 0;');
      out.block('try {', () => {
        out.block('while (r.readOptional()) {', () => {
          out.line('i++;');
          out.line(`const next = ${readFields}(r);`);
          out.line(`${member('last', link)} = next;`);
          out.line('last = next;');
        });
      }, '} catch (e) {');
      out.indent().line(`throw i > 0 ? ${at}(e, \`${link}#\${i}\`) : e;`).dedent();
      out.line('}');
      out.line('return head;');
    });
    out.line('');
    out.line(`/** Writes a list of ${t.xName} (a loop: any length, no recursion). */`);
    out.block(`${this.#writeHead(t.write, t.ts)} {`, () => {
      out.line(`${writeFields}(w, v);`);
      out.line('let i = 0;');
      out.block('try {', () => {
        out.block(`for (let n = ${member('v', link)}; n !== null && n !== undefined; n = ${member('n', link)}) {`, () => {
          out.line('i++;');
          out.line('w.writeOptional(true);');
          out.line(`${writeFields}(w, n);`);
        });
      }, '} catch (e) {');
      out.indent().line(`throw ${at}(e, \`${link}#\${i}\`);`).dedent();
      out.line('}');
      out.line('w.writeOptional(false);');
    });
    out.line('');
  }

  #union(t: TypeInfo, out: Printer): void {
    if (t.def.kind !== 'union') return;
    const body = t.def.body;
    const m = this.m;
    const disc = body.discriminant;
    const dn = declName(disc);
    const dshape = m.shapeOfDecl(disc);
    const enumT = dshape.k === 'enum' ? dshape.t : null;
    const hasDefault = body.default !== undefined;
    const listed = body.cases.flatMap((c) => c.values.map((v) => caseLiteral(m, t, v).type));
    const defaultType = hasDefault ? defaultDiscriminantType(m, t, listed) : null;
    // An int default arm types its discriminant `number`, so TS cannot narrow the arms: cast to the arm.
    const intDefault = hasDefault && dshape.k !== 'enum' && dshape.k !== 'bool';
    const armAcc = (arm: Declaration): string =>
      intDefault && !this.js ? `(v as { ${propKey(declName(arm))}: ${m.tsOfDecl(arm)} })${accessor(declName(arm))}` : member('v', declName(arm));

    // Frozen singletons for single-label void arms.
    const singletons = new Map<number, string>();
    body.cases.forEach((c, i) => {
      if (c.arm.kind !== 'void' || c.values.length !== 1) return;
      const lit = caseLiteral(m, t, c.values[0]!);
      const label = lit.expr.includes('.') ? lit.expr.slice(lit.expr.lastIndexOf('.') + 1) : lit.expr === 'true' ? 'TRUE' : lit.expr === 'false' ? 'FALSE' : lit.expr.replace('-', 'm');
      const name = m.names.claim(`${t.ts}_${label}`, true);
      singletons.set(i, name);
      if (this.js) out.line(`const ${name} = Object.freeze({ ${propKey(dn)}: ${this.#label(t, c.values[0]!)} });`);
      else out.line(`const ${name}: ${t.ts} = Object.freeze({ ${propKey(dn)}: ${lit.expr} } as const);`);
    });
    if (singletons.size) out.line('');

    // read
    const needStart = enumT !== null || !hasDefault || defaultType === null;
    const rf = new Fn(m, t, dn, ['r', 'd', 'start']);
    rf.usesAt = true;
    const dl = rf.fieldLocal(dn);
    const readDisc = dshape.k === 'bool' ? 'r.readBool()' : dshape.k === 'uint' ? 'r.readUint()' : 'r.readInt()';
    rf.line(`const ${dl} = ${readDisc};`);
    const dprop = dl === dn ? propKey(dn) : `${propKey(dn)}: ${dl}`;
    const emitArm = (arm: Declaration | undefined, discExpr: string, singleton?: string): void => {
      if (singleton) {
        rf.line(`return ${singleton};`);
        return;
      }
      const dp = discExpr === dl ? dprop : `${propKey(dn)}: ${discExpr}`;
      if (!arm || arm.kind === 'void') {
        rf.line(`return { ${dp} };`);
        return;
      }
      const [expr] = this.#readItems(rf, [{ name: declName(arm), shape: m.shapeOfDecl(arm), acc: '' }]);
      rf.line(`return ${objectLiteral([dp, prop(declName(arm), expr!)])};`);
    };
    rf.p.block(`switch (${dl}) {`, () => {
      body.cases.forEach((c, i) => {
        for (const v of c.values) rf.line(`case ${this.#label(t, v)}:`);
        this.#caseBody(rf, () => emitArm(c.arm, dl, singletons.get(i)));
      });
      rf.line('default:');
      this.#caseBody(rf, () => {
        const bad = `r.badDiscriminant(${dl}, ${quote(t.xName)}, start)`;
        if (hasDefault && defaultType !== null) {
          if (enumT) rf.line(`if (!${this.#valuesOf(enumT)}.has(${dl})) throw ${this.#use('badEnum')}(${dl}, ${quote(enumT.xName)}, start, '');`);
          const cast = enumT ? this.#as(dl, defaultType) : dl;
          emitArm(body.default, cast);
        } else if (enumT) {
          rf.line(`throw ${this.#valuesOf(enumT)}.has(${dl}) ? ${bad} : ${this.#use('badEnum')}(${dl}, ${quote(enumT.xName)}, start, '');`);
        } else rf.line(`throw ${bad};`);
      });
    });
    const rfOut = new Printer();
    this.#function(rfOut, `/** Reads union ${t.xName} (switch on \`${dn}\`). */`, this.#readHead(t.read, t.ts), rf, 'read');
    if (needStart) {
      // `start` (the discriminant's offset) goes before everything else in the body.
      const i = rfOut.lines.findIndex((l) => /^(export )?function /.test(l));
      rfOut.lines.splice(i + 1, 0, '  const start = r.pos;');
    }
    out.append(rfOut.lines);

    // write
    const wf = new Fn(m, t, '', ['w', 'v']);
    const dacc = member('v', dn);
    const discItem = (c: UnionCase | null): Item => {
      if (c && c.values.length === 1) {
        const lit = caseLiteral(m, t, c.values[0]!);
        const expr = dshape.k === 'bool' ? lit.expr : String(lit.value);
        return { name: dn, shape: dshape, acc: expr, checked: true };
      }
      return { name: dn, shape: dshape, acc: dacc, checked: c !== null };
    };
    wf.line(`if (v === null || typeof v !== 'object') throw ${this.#use('notObject')}(v, ${quote(`union ${t.xName}`)});`);
    wf.p.block(`switch (${dacc}) {`, () => {
      for (const c of body.cases) {
        for (const v of c.values) wf.line(`case ${this.#label(t, v)}:`);
        this.#caseBody(wf, () => {
          const items = [discItem(c)];
          if (c.arm.kind !== 'void') items.push({ name: declName(c.arm), shape: m.shapeOfDecl(c.arm), acc: armAcc(c.arm) });
          this.#writeItems(wf, items);
          wf.line('return;');
        });
      }
      wf.line('default:');
      this.#caseBody(wf, () => {
        if (hasDefault && defaultType !== null) {
          const items = [discItem(null)];
          const arm = body.default!;
          if (arm.kind !== 'void') items.push({ name: declName(arm), shape: m.shapeOfDecl(arm), acc: armAcc(arm) });
          this.#writeItems(wf, items);
          wf.line('return;');
        } else {
          wf.line(`throw ${this.#use('noArm')}(${this.js ? member('v', dn) : `(v as { ${propKey(dn)}: unknown })${accessor(dn)}`}, ${quote(t.xName)}, ${quote(dn)});`);
        }
      });
    });
    this.#function(out, `/** Writes union ${t.xName} (switch on \`${dn}\`). */`, this.#writeHead(t.write, t.ts), wf, 'write');
  }

  /** A `case` body in braces, with its own locals and `at` starting from the switch's. */
  #caseBody(fn: Fn, body: () => void): void {
    const at = fn.at;
    fn.scope(() => {
      const { lines } = fn.capture(body);
      const indent = (l: string): number => l.length - l.trimStart().length;
      const top = lines.length ? indent(lines[0]!) : 0;
      const declares = lines.some((l) => indent(l) === top && /^(const|let) /.test(l.trimStart()));
      if (declares) fn.p.lines[fn.p.lines.length - 1] += ' {';
      fn.p.lines.push(...lines);
      if (declares) fn.line('}');
    });
    fn.at = at;
  }

  // ---- sequences of fields ------------------------------------------------------------------------------

  /** Groups consecutive fixed-size items into runs. */
  #groups(items: readonly Item[]): Array<{ run: true; items: Item[]; size: number } | { run: false; item: Item }> {
    const out: Array<{ run: true; items: Item[]; size: number } | { run: false; item: Item }> = [];
    for (const it of items) {
      if (it.shape.k === 'void') continue;
      const s = this.m.fixedSize(it.shape);
      const last = out[out.length - 1];
      if (s !== null) {
        if (last && last.run) {
          last.items.push(it);
          last.size += s;
        } else out.push({ run: true, items: [it], size: s });
      } else out.push({ run: false, item: it });
    }
    // A lone scalar is a plain reader/writer call: same speed, less code.
    return out.map((g) => (g.run && g.items.length === 1 && !g.items[0]!.checked && isScalar(g.items[0]!.shape) ? { run: false, item: g.items[0]! } : g));
  }

  /** Reads `items` in order; returns the expression of each item's value for the final literal. */
  #readItems(fn: Fn, items: readonly Item[]): string[] {
    const exprs: string[] = [];
    const groups = this.#groups(items);
    const live = items.filter((i) => i.shape.k !== 'void');
    groups.forEach((g, gi) => {
      if (g.run) {
        if (g.size === 0) {
          // Zero-size values (`int x[0]`): their element loops never run, but they name the view.
          fn.usesView = true;
          for (const it of g.items) exprs.push(this.#readLeaf(fn, it.shape, { base: '0', k: 0 }, [{ s: it.name }], it.local ?? it.name));
          return;
        }
        fn.setAt('');
        fn.usesView = true;
        const p = fn.fresh('p');
        fn.line(`r.need(${g.size});`);
        fn.line(`const ${p} = r.pos;`);
        fn.line(`r.pos = ${p} + ${g.size};`);
        let off: Off = { base: p, k: 0 };
        for (const it of g.items) {
          exprs.push(this.#readLeaf(fn, it.shape, off, [{ s: it.name }], it.local ?? it.name));
          off = addOff(off, this.m.fixedSize(it.shape)!);
        }
        return;
      }
      const it = g.item;
      fn.setAt(it.name);
      const reenter = this.m.reenters(it.shape, fn.self);
      const lastItem = gi === groups.length - 1 && live[live.length - 1] === it;
      const expr = this.#readExpr(fn, it.shape);
      if (lastItem && !reenter && expr !== null) {
        exprs.push(expr);
        return;
      }
      if (reenter) fn.line('r.enter();');
      exprs.push(this.#readInto(fn, it.shape, it.local ?? it.name));
      if (reenter) fn.line('r.leave();');
    });
    return exprs;
  }

  /** An expression reading `s` through reader calls, or null for arrays (they need statements). */
  #readExpr(fn: Fn, s: Shape): string | null {
    switch (s.k) {
      case 'int':
      case 'uint':
      case 'hyper':
      case 'uhyper':
      case 'float':
      case 'double':
      case 'bool':
      case 'quadruple':
        return `r.${READ_PRIM[s.k]}()`;
      case 'enum':
      case 'struct':
      case 'call':
        return `${s.t.read}(r)`;
      case 'string':
        return `r.readString(${s.max ? s.max.expr : ''})`;
      case 'opaque':
        return `r.readOpaque(${s.max ? s.max.expr : ''})`;
      case 'fixedOpaque':
        return `r.readFixedOpaque(${s.size.expr})`;
      case 'optional': {
        const inner = this.#readExpr(fn, s.of);
        if (inner === null) return null;
        return `r.readOptional() ? ${s.boxed ? `{ value: ${inner} }` : inner} : null`;
      }
      case 'void':
        return 'undefined';
      case 'array':
      case 'fixedArray':
        return null;
    }
  }

  /** Statements reading `s` into a new local; returns the local. */
  #readInto(fn: Fn, s: Shape, name: string): string {
    const expr = this.#readExpr(fn, s);
    if (expr !== null) {
      const l = fn.fieldLocal(name);
      fn.line(`const ${l} = ${expr};`);
      return l;
    }
    if (s.k === 'optional') {
      // Optional data of a type read by statements (a typedef'd fixed-size array folded into the shape).
      const l = fn.fieldLocal(name);
      fn.line(`let ${l}${this.#t(`: ${this.m.tsOfShape(s)}`)} = null;`);
      fn.p.block('if (r.readOptional()) {', () =>
        fn.scope(() => {
          const inner = this.#readInto(fn, s.of, `${name}_value`);
          fn.line(`${l} = ${s.boxed ? `{ value: ${inner} }` : inner};`);
        }),
      );
      return l;
    }
    // #readExpr gives an expression for every other shape.
    if (s.k !== 'array' && s.k !== 'fixedArray') throw new Error(`internal: no reader for shape ${s.k}`);
    const elemSize = this.m.fixedSize(s.of);
    let n: string;
    if (s.k === 'array') {
      n = fn.fresh('n');
      const min = Math.max(1, elemSize ?? this.m.minSize(s.of));
      fn.line(`const ${n} = r.readArrayLength(${s.max ? s.max.expr : 'undefined'}, ${min});`);
    } else n = s.size.expr;
    const l = fn.fieldLocal(name);
    fn.line(`const ${l} = new Array${this.#t(`<${s.ts}>`)}(${n});`);
    if (elemSize !== null) {
      // The count was checked against the bytes left (fixed arrays: checked here), so one check covers all.
      fn.usesView = true;
      const p = fn.fresh('p');
      if (s.k === 'fixedArray') fn.line(`r.need(${s.size.value * elemSize});`);
      fn.line(`const ${p} = r.pos;`);
      fn.line(`r.pos = ${p} + ${s.k === 'array' ? `${n} * ${elemSize}` : s.size.value * elemSize};`);
      this.#readLoop(fn, l, n, s.of, elemSize, { base: p, k: 0 }, []);
      return l;
    }
    const i = fn.fresh('i');
    const elem = this.#readExpr(fn, s.of) ?? 'undefined';
    fn.line(`let ${i} = 0;`);
    fn.p.block('try {', () => fn.line(`for (; ${i} < ${n}; ${i}++) ${l}[${i}] = ${elem};`), '} catch (e) {');
    fn.p.indent().line(`throw ${this.#use('atPath')}(e, \`[\${${i}}]\`);`).dedent();
    fn.line('}');
    return l;
  }

  /** `for (i…) a[i] = <fixed-size element at off + i * size>`. */
  #readLoop(fn: Fn, arr: string, n: string, of: Shape, size: number, off: Off, path: PathPart[]): void {
    fn.scope(() => {
      const i = fn.fresh('i');
      const base: Off = { base: `${offText(off)} + ${i} * ${size}`, k: 0 };
      const { lines, value } = fn.capture(() => {
        let b = base;
        if (of.k === 'struct' || of.k === 'fixedArray') {
          const o = fn.fresh('o');
          fn.line(`const ${o} = ${offText(base)};`);
          b = { base: o, k: 0 };
        }
        return this.#readLeaf(fn, of, b, [...path, { i }], arr + '_elem');
      });
      if (lines.length === 0) fn.line(`for (let ${i} = 0; ${i} < ${n}; ${i}++) ${arr}[${i}] = ${value};`);
      else fn.rawBlock(`for (let ${i} = 0; ${i} < ${n}; ${i}++) {`, [...lines, lines[0]!.replace(/\S.*$/, '') + `${arr}[${i}] = ${value};`]);
    });
  }

  /** The expression of a fixed-size value at `off` in a checked run; checks go before it as statements. */
  #readLeaf(fn: Fn, s: Shape, off: Off, path: PathPart[], local: string): string {
    switch (s.k) {
      case 'int':
      case 'uint':
      case 'float':
      case 'double':
      case 'hyper':
      case 'uhyper':
        return `d.${VIEW[s.k][0]}(${offText(off)})`;
      case 'bool': {
        const l = fn.fieldLocal(local);
        fn.line(`const ${l} = d.getUint32(${offText(off)});`);
        fn.line(`if (${l} > 1) throw ${this.#use('badBool')}(${l}, ${offText(off)}, ${pathText(path)});`);
        return `${l} === 1`;
      }
      case 'enum': {
        const l = fn.fieldLocal(local);
        fn.line(`const ${l} = d.getInt32(${offText(off)});`);
        fn.line(`if (!${this.#valuesOf(s.t)}.has(${l})) throw ${this.#use('badEnum')}(${l}, ${quote(s.t.xName)}, ${offText(off)}, ${pathText(path)});`);
        return this.#as(l, s.t.ts);
      }
      case 'struct': {
        if (s.t.def.kind !== 'struct') throw new Error(`internal: shape 'struct' of ${s.t.def.kind} ${s.t.xName}`);
        const props: string[] = [];
        let o = off;
        for (const f of s.t.def.fields) {
          if (f.kind === 'void') continue;
          const fs = s.t.owner.shapeOfDecl(f);
          props.push(prop(f.name, this.#readLeaf(fn, fs, o, [...path, { s: f.name }], `${local}_${f.name}`)));
          o = addOff(o, this.m.fixedSize(fs)!);
        }
        return objectLiteral(props);
      }
      case 'fixedArray': {
        const size = this.m.fixedSize(s.of)!;
        const l = fn.fieldLocal(local);
        fn.line(`const ${l} = new Array${this.#t(`<${s.ts}>`)}(${s.size.expr});`);
        this.#readLoop(fn, l, s.size.expr, s.of, size, off, path);
        return l;
      }
      default:
        throw new Error(`internal: ${s.k} is not fixed-size`); // runs hold only shapes with a fixedSize
    }
  }

  /** Writes `items` in order: one reserve() per run of fixed-size items. */
  #writeItems(fn: Fn, items: readonly Item[]): void {
    for (const g of this.#groups(items)) {
      if (g.run) {
        if (g.size === 0) continue;
        const only = g.items[0]!;
        if (g.items.length === 1 && only.checked) {
          // A lone discriminant already known valid.
          const method = only.shape.k === 'uint' ? 'writeUint' : only.shape.k === 'bool' ? 'writeBool' : 'writeInt';
          fn.line(`w.${method}(${only.acc});`);
          continue;
        }
        fn.setAt('');
        const d = fn.fresh('d');
        const p = fn.fresh('p');
        fn.line(`w.reserve(${g.size});`);
        const decl = fn.p.lines.length;
        fn.line(`const ${d} = w.view;`);
        fn.line(`const ${p} = w.pos;`);
        let off: Off = { base: p, k: 0 };
        for (const it of g.items) {
          if (it.checked) {
            const [, set] = VIEW[it.shape.k === 'uint' ? 'uint' : it.shape.k === 'bool' ? 'bool' : 'int'];
            const value = it.shape.k === 'bool' ? (it.acc === 'true' ? '1' : it.acc === 'false' ? '0' : `${it.acc} ? 1 : 0`) : it.acc;
            fn.line(`${d}.${set}(${offText(off)}, ${value});`);
          } else this.#writeLeaf(fn, d, it.shape, it.acc, off, [{ s: it.name }]);
          off = addOff(off, this.m.fixedSize(it.shape)!);
        }
        fn.line(`w.pos = ${p} + ${g.size};`);
        fn.dropIfUnused(decl, d);
        continue;
      }
      const it = g.item;
      fn.setAt(it.name);
      const reenter = this.m.reenters(it.shape, fn.self);
      if (reenter) fn.line('w.enter();');
      this.#writeStmt(fn, it.shape, it.acc, it.local ?? it.name);
      if (reenter) fn.line('w.leave();');
    }
  }

  /** Statements writing `acc` (not in a run): writer calls, or loops for arrays. */
  #writeStmt(fn: Fn, s: Shape, acc: string, name: string): void {
    switch (s.k) {
      case 'int':
      case 'uint':
      case 'hyper':
      case 'uhyper':
      case 'float':
      case 'double':
      case 'bool':
      case 'quadruple':
        fn.line(`w.${WRITE_PRIM[s.k]}(${acc});`);
        return;
      case 'enum':
      case 'struct':
      case 'call':
        fn.line(`${s.t.write}(w, ${acc});`);
        return;
      case 'string':
        fn.line(`w.writeString(${acc}${s.max ? ', ' + s.max.expr : ''});`);
        return;
      case 'opaque':
        fn.line(`w.writeOpaque(${acc}${s.max ? ', ' + s.max.expr : ''});`);
        return;
      case 'fixedOpaque':
        fn.line(`w.writeFixedOpaque(${acc}, ${s.size.expr});`);
        return;
      case 'void':
        return;
      case 'optional': {
        const o = fn.fieldLocal(name);
        fn.line(`const ${o} = ${acc};`);
        fn.line(`if (${o} === null || ${o} === undefined) w.writeOptional(false);`);
        fn.p.block('else {', () => {
          if (s.boxed) {
            // An optional of optional-data: present is { value: … } (src/xdr/types.ts Optional).
            fn.line(`if (typeof ${o} !== 'object' || !('value' in ${o})) throw ${this.#use('notBoxed')}(${o});`);
            fn.line('w.writeOptional(true);');
            fn.scope(() => this.#writeStmt(fn, s.of, `${o}.value`, `${name}_value`));
            return;
          }
          fn.line('w.writeOptional(true);');
          fn.scope(() => this.#writeStmt(fn, s.of, o, name));
        });
        return;
      }
      case 'array':
      case 'fixedArray': {
        const a = fn.fieldLocal(name);
        fn.line(`const ${a} = ${acc};`);
        let n: string;
        if (s.k === 'array') {
          n = fn.fresh('n');
          fn.line(`if (!Array.isArray(${a})) throw ${this.#use('notArray')}(${a}, '');`);
          fn.line(`const ${n} = ${a}.length;`);
          fn.line(`w.writeArrayLength(${n}${s.max ? ', ' + s.max.expr : ''});`);
        } else {
          n = s.size.expr;
          fn.line(`if (!Array.isArray(${a}) || ${a}.length !== ${n}) throw ${this.#use('badLength')}(${n}, '');`);
        }
        const size = this.m.fixedSize(s.of);
        if (size !== null) {
          const d = fn.fresh('d');
          const p = fn.fresh('p');
          fn.line(`w.reserve(${n} * ${size});`);
          const decl = fn.p.lines.length;
          fn.line(`const ${d} = w.view;`);
          fn.line(`const ${p} = w.pos;`);
          this.#writeLoop(fn, d, a, n, s.of, size, { base: p, k: 0 }, []);
          fn.line(`w.pos = ${p} + ${n} * ${size};`);
          fn.dropIfUnused(decl, d);
          return;
        }
        const i = fn.fresh('i');
        fn.line(`let ${i} = 0;`);
        fn.p.block('try {', () => {
          const { lines } = fn.capture(() => fn.scope(() => this.#writeStmt(fn, s.of, this.#nn(`${a}[${i}]`), `${name}_elem`)));
          if (lines.length === 1) fn.line(`for (; ${i} < ${n}; ${i}++) ${lines[0]!.trimStart()}`);
          else fn.rawBlock(`for (; ${i} < ${n}; ${i}++) {`, lines);
        }, '} catch (e) {');
        fn.p.indent().line(`throw ${this.#use('atPath')}(e, \`[\${${i}}]\`);`).dedent();
        fn.line('}');
        return;
      }
    }
  }

  #writeLoop(fn: Fn, d: string, arr: string, n: string, of: Shape, size: number, off: Off, path: PathPart[]): void {
    fn.scope(() => {
      const i = fn.fresh('i');
      fn.p.block(`for (let ${i} = 0; ${i} < ${n}; ${i}++) {`, () => {
        let b: Off = { base: `${offText(off)} + ${i} * ${size}`, k: 0 };
        if (of.k === 'struct' || of.k === 'fixedArray') {
          const o = fn.fresh('o');
          fn.line(`const ${o} = ${offText(b)};`);
          b = { base: o, k: 0 };
        }
        let elem = this.#nn(`${arr}[${i}]`);
        if (of.k === 'struct') {
          const e = fn.fresh('a');
          fn.line(`const ${e} = ${elem};`);
          elem = e;
        }
        this.#writeLeaf(fn, d, of, elem, b, [...path, { i }]);
      });
    });
  }

  /** Checks and writes a fixed-size value at `off` in a reserved run. */
  #writeLeaf(fn: Fn, d: string, s: Shape, acc: string, off: Off, path: PathPart[]): void {
    const at = offText(off);
    const pt = pathText(path);
    switch (s.k) {
      case 'int':
        fn.scratch.add('x');
        fn.line(`x = ${acc};`);
        fn.line(`if ((x | 0) !== x) throw ${this.#use('notInt')}(x, ${pt});`);
        fn.line(`${d}.setInt32(${at}, x);`);
        return;
      case 'uint':
        fn.scratch.add('x');
        fn.line(`x = ${acc};`);
        fn.line(`if (x >>> 0 !== x) throw ${this.#use('notUint')}(x, ${pt});`);
        fn.line(`${d}.setUint32(${at}, x);`);
        return;
      case 'enum':
        fn.scratch.add('x');
        fn.line(`x = ${acc};`);
        fn.line(`if (!${this.#valuesOf(s.t)}.has(x)) throw ${this.#use('notEnum')}(x, ${quote(s.t.xName)}, ${pt});`);
        fn.line(`${d}.setInt32(${at}, x);`);
        return;
      case 'float':
      case 'double':
        fn.scratch.add('x');
        fn.line(`x = ${acc};`);
        fn.line(`if (typeof x !== 'number') throw ${this.#use('notNumber')}(x, ${pt});`);
        fn.line(`${d}.${VIEW[s.k][1]}(${at}, x);`);
        return;
      case 'hyper':
        // asIntN(64, h) === h is the range check optimised code does in registers; putHyper stores through
        // a BigUint64Array (both: bench/xdr/micro.js "unsigned hyper").
        fn.scratch.add('h');
        fn.line(`h = ${acc};`);
        fn.line(`if (typeof h !== 'bigint' || BigInt.asIntN(64, h) !== h) throw ${this.#use('notHyper')}(h, ${pt});`);
        fn.line(`w.putHyper(${at}, h);`);
        return;
      case 'uhyper':
        fn.scratch.add('h');
        fn.line(`h = ${acc};`);
        fn.line(`if (typeof h !== 'bigint' || BigInt.asUintN(64, h) !== h) throw ${this.#use('notUhyper')}(h, ${pt});`);
        fn.line(`w.putUhyper(${at}, h);`);
        return;
      case 'bool':
        fn.scratch.add('b');
        fn.line(`b = ${acc};`);
        fn.line(`if (typeof b !== 'boolean') throw ${this.#use('notBool')}(b, ${pt});`);
        fn.line(`${d}.setUint32(${at}, b ? 1 : 0);`);
        return;
      case 'struct': {
        if (s.t.def.kind !== 'struct') throw new Error(`internal: shape 'struct' of ${s.t.def.kind} ${s.t.xName}`);
        let o = off;
        let obj = acc;
        if (!isIdentifier(acc)) {
          obj = fn.fresh('a');
          fn.line(`const ${obj} = ${acc};`);
        }
        fn.line(`if (${obj} === null || typeof ${obj} !== 'object') throw ${this.#use('notObject')}(${obj}, ${quote(`struct ${s.t.xName}`)}, ${pt});`);
        for (const f of s.t.def.fields) {
          if (f.kind === 'void') continue;
          const fs = s.t.owner.shapeOfDecl(f);
          this.#writeLeaf(fn, d, fs, member(obj, f.name), o, [...path, { s: f.name }]);
          o = addOff(o, this.m.fixedSize(fs)!);
        }
        return;
      }
      case 'fixedArray': {
        const size = this.m.fixedSize(s.of)!;
        fn.line(`if (!Array.isArray(${acc}) || ${acc}.length !== ${s.size.expr}) throw ${this.#use('badLength')}(${s.size.expr}, ${pt});`);
        this.#writeLoop(fn, d, acc, s.size.expr, s.of, size, off, path);
        return;
      }
      default:
        throw new Error(`internal: ${s.k} is not fixed-size`); // runs hold only shapes with a fixedSize
    }
  }

  // ---- procedure codecs -------------------------------------------------------------------------------

  /**
   * `[read, write]` for a procedure's argument(s) or result: the named type's functions, readVoid/
   * writeVoid, arrow functions for built-in types, or generated functions for tuples (several arguments)
   * and array declarations.
   */
  procCodec(decls: readonly Declaration[], fnBase: string, out: Printer): string {
    const m = this.m;
    const live = decls.filter((d) => d.kind !== 'void');
    if (live.length === 0) {
      this.imports.add('readVoid');
      this.imports.add('writeVoid');
      return '[readVoid, writeVoid]';
    }
    if (live.length === 1) {
      const d = live[0]!;
      if (d.kind === 'plain') {
        const t = m.infoOf(d.type);
        if (t) return `[${t.read}, ${t.write}]`;
      }
      const shape = m.shapeOfDecl(d);
      const fn = new Fn(m, null, '', ['r', 'd', 'w', 'v']);
      const expr = this.#readExpr(fn, shape);
      if (expr !== null) {
        const wf = new Fn(m, null, '', ['w', 'v']);
        this.#writeStmt(wf, shape, 'v', 'value');
        if (wf.p.lines.length === 1) {
          this.imports.add('XdrReader');
          this.imports.add('XdrWriter');
          const ts = m.tsOfDecl(d);
          if (this.js) return `[(r) => ${expr}, (w, v) => ${wf.p.lines[0]!.replace(/;$/, '')}]`;
          return `[(r: XdrReader): ${ts} => ${expr}, (w: XdrWriter, v: ${ts}): void => ${wf.p.lines[0]!.replace(/;$/, '')}]`;
        }
      }
    }
    // Generated functions: a tuple of arguments, or a declaration that needs statements.
    const ts = live.length === 1 ? m.tsOfDecl(live[0]!) : `[${live.map((d) => m.tsOfDecl(d)).join(', ')}]`;
    const items: Item[] =
      live.length === 1
        ? [{ name: '', shape: m.shapeOfDecl(live[0]!), acc: 'v', local: 'value' }]
        : live.map((d, i) => ({ name: `[${i}]`, shape: m.shapeOfDecl(d), acc: `v[${i}]`, local: `arg${i + 1}` }));
    const read = m.names.claim(`read${capitalize(fnBase)}`, true);
    const write = m.names.claim(`write${capitalize(fnBase)}`, true);
    const rf = new Fn(m, null, '', ['r', 'd']);
    const exprs = this.#readItems(rf, items);
    rf.line(`return ${live.length === 1 ? exprs[0] : `[${exprs.join(', ')}]`};`);
    this.#function(out, `/** Reads ${fnBase}. */`, this.js ? `function ${read}(r)` : `function ${read}(r: XdrReader): ${ts}`, rf, 'read');
    this.imports.add('XdrReader');
    const wf = new Fn(m, null, '', ['w', 'v']);
    if (live.length > 1) wf.line(`if (!Array.isArray(v) || v.length !== ${live.length}) throw ${this.#use('notTuple')}(${live.length});`);
    this.#writeItems(wf, items);
    this.#function(out, `/** Writes ${fnBase}. */`, this.js ? `function ${write}(w, v)` : `function ${write}(w: XdrWriter, v: ${ts}): void`, wf, 'write');
    this.imports.add('XdrWriter');
    return `[${read}, ${write}]`;
  }
}

function isScalar(s: Shape): boolean {
  return s.k !== 'struct' && s.k !== 'fixedArray';
}

function accessor(name: string): string {
  return member('', name);
}

function prop(name: string, expr: string): string {
  return name === expr ? propKey(name) : `${propKey(name)}: ${expr}`;
}

/** `{ a, b: x }`; one property per line when long (the printer indents the continuation lines). */
function objectLiteral(props: readonly string[]): string {
  if (props.length === 0) return '{}';
  const flat = `{ ${props.join(', ')} }`;
  if (flat.length <= 80 && !flat.includes('\n')) return flat;
  return `{\n${props.map((p) => '  ' + p.replace(/\n/g, '\n  ') + ',').join('\n')}\n}`;
}

export { enumOf };
