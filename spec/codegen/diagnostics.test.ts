// Negative .x cases (spec/codegen/bad/*.x, expected diagnostics in `// expect:` lines at their end),
// CompileError, and seeded fuzzes: nothing but CompileError ever escapes, and nothing hangs. What compiles
// must also generate TypeScript (`oncrpc gen`) and load (`loadSchema`) without an internal error: the
// `throw new Error('internal: …')` invariants of src/codegen are unreachable from any .x. The second fuzz
// builds well-formed type definitions (typedefs, optionals, arrays, inline types, forward references and
// cycles) and checks every type that compiles end to end: generated, loaded, random values encoded,
// decoded and sent through the JSON mapping byte-exact, and a sample of the generated modules type-checked.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { check, checkFile, compileFile, compileSource } from '../../src/codegen/compile.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Model } from '../../src/codegen/emit-model.js';
import { formatDiagnostic } from '../../src/codegen/ast.js';
import { generateTypeScript } from '../../src/codegen/generate.js';
import { loadSchema } from '../../src/codegen/interpret.js';
import { CompileError } from '../../src/errors.js';
import { fromJson, toJson } from '../../src/xdr/json.js';
import * as x from '../../src/xdr/index.js';
import { Rng, toHex } from '../_helpers/hex.js';
import { randomValues, sameValue } from './_helpers/random-values.js';

const BAD = 'spec/codegen/bad';
const CORPUS = 'fixtures/x/rpcsvc';

t.test('bad/*.x: exact diagnostics', async (t) => {
  const files = readdirSync(BAD).filter((f) => f.endsWith('.x')).sort();
  t.ok(files.length >= 10);
  for (const f of files) {
    const path = `${BAD}/${f}`;
    const want = [...readFileSync(path, 'utf8').matchAll(/^\/\/ expect: (.*)$/gm)].map((m) => `${path}:${m[1]}`);
    t.ok(want.length > 0, `${f} lists its expected diagnostics`);
    t.same(checkFile(path).diagnostics.map(formatDiagnostic), want, f);
    t.throws(() => compileFile(path), { code: 'ERR_XDR_COMPILE' }, `${f} throws`);
  }
});

t.test('one diagnostic type and one formatter: src/errors.ts, re-exported by oncrpc/codegen and the front end', async (t) => {
  const errors = await import('../../src/errors.js');
  const codegen = await import('../../src/codegen/index.js');
  const source = await import('../../src/codegen/source.js');
  t.equal(codegen.formatDiagnostic, errors.formatDiagnostic, 'oncrpc/codegen formatDiagnostic is the one in errors.ts');
  t.equal(formatDiagnostic, errors.formatDiagnostic, 'codegen/ast.ts re-exports it');
  t.equal(source.formatPos, errors.formatSourcePos, "the front end's 'first at file:line:col' uses the same formatter");
  const d: import('../../src/codegen/index.js').Diagnostic = { severity: 'warning', message: 'm', pos: { file: 'f.x', line: 2, col: 3 } };
  const same: import('../../src/errors.js').CompileDiagnostic = d; // the old name is the same type
  t.equal(errors.formatDiagnostic(same), 'f.x:2:3: warning: m');
  t.equal(errors.formatSourcePos(d.pos), 'f.x:2:3');
});

t.test('CompileError carries every diagnostic, warnings included', async (t) => {
  const src = 'union u switch (color c) { case 9: void; case RED: int a; case RED: int b; };\nenum color { RED = 1 };\nstruct s { nope x; };';
  try {
    compileSource(src, 'm.x');
    t.fail('should throw');
  } catch (e) {
    t.ok(e instanceof CompileError);
    const err = e as CompileError;
    t.equal(err.code, 'ERR_XDR_COMPILE');
    t.same(err.diagnostics.map(formatDiagnostic), [
      "m.x:1:33: warning: case value 9 is not a member of the discriminant's enum",
      'm.x:1:64: error: duplicate case value 1 (first at m.x:1:47)',
      "m.x:3:12: error: unknown type 'nope'",
    ]);
    t.equal(err.message.split('\n')[0], '2 errors');
    t.equal(err.message, ['2 errors', ...err.diagnostics.map(formatDiagnostic)].join('\n'), 'the message is formatDiagnostic of each');
  }
  // warnings alone do not fail the compile; check() returns them with the schema
  const r = check('enum c { A = 1 }; union u switch (c d) { case 2: void; };', 'w.x');
  t.ok(r.schema);
  t.same(r.diagnostics.map(formatDiagnostic), ["w.x:1:47: warning: case value 2 is not a member of the discriminant's enum"]);
  // an unreadable file is a diagnostic too
  t.throws(() => compileFile('no/such/file.x'), { code: 'ERR_XDR_COMPILE' });
  t.match(checkFile('no/such/file.x').diagnostics[0], { pos: { file: 'no/such/file.x', line: 1, col: 1 }, message: /^cannot read no\/such\/file\.x: ENOENT/ });
});

// ---- fuzz ----

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

const VOCAB = [
  'const', 'typedef', 'enum', 'struct', 'union', 'switch', 'case', 'default', 'program', 'version', 'void', 'unsigned',
  'int', 'hyper', 'float', 'double', 'quadruple', 'bool', 'opaque', 'string', 'char', 'long', 'TRUE', 'u_int', 'netobj',
  'a', 'b', 'x', 'T', 'N', '0', '1', '-1', '0x10', '017', '4294967296', '08', '{', '}', '(', ')', '[', ']', '<', '>', ';',
  ',', ':', '=', '*', '-', '"s"', '"', '/*', '*/', '//', '\n', '\n#define N 3\n', '\n#if 1\n', '\n#if\n', '\n#else\n',
  '\n#endif\n', '\n#ifdef N\n', '\n#include "x.x"\n', '\n%pass\n', '\\\n', '@', '.', '#', '%',
];

function soup(rand: () => number): string {
  const n = Math.floor(rand() * 60);
  let s = '';
  for (let i = 0; i < n; i++) s += VOCAB[Math.floor(rand() * VOCAB.length)] + (rand() < 0.8 ? ' ' : '');
  return s;
}

function mutate(src: string, rand: () => number): string {
  let s = src;
  const k = 1 + Math.floor(rand() * 5);
  for (let i = 0; i < k; i++) {
    const at = Math.floor(rand() * (s.length + 1));
    const len = Math.floor(rand() * 40);
    switch (Math.floor(rand() * 4)) {
      case 0:
        s = s.slice(0, at) + s.slice(at + len);
        break;
      case 1:
        s = s.slice(0, at) + s.slice(at, at + len) + s.slice(at);
        break;
      case 2:
        s = s.slice(0, at) + VOCAB[Math.floor(rand() * VOCAB.length)] + s.slice(at);
        break;
      default: {
        const from = Math.floor(rand() * s.length);
        s = s.slice(0, at) + s.slice(from, from + len) + s.slice(at + len);
      }
    }
  }
  return s;
}

t.test('fuzz: token soup and mutated corpus files only ever give CompileError; what compiles generates and loads', async (t) => {
  const corpus = readdirSync(CORPUS).filter((f) => f.endsWith('.x')).sort().map((f) => readFileSync(`${CORPUS}/${f}`, 'utf8'));
  const rand = mulberry32(0x5eed);
  const readFile = (p: string): string => {
    if (p.endsWith('x.x')) return 'const INCLUDED = 1;\n#include "x.x"';
    throw new Error(`ENOENT: ${p}`);
  };
  const CASES = 3000;
  let failures = 0;
  let errors = 0;
  const started = Date.now();
  for (let i = 0; i < CASES; i++) {
    const src = i % 2 === 0 ? soup(rand) : mutate(corpus[Math.floor(rand() * corpus.length)]!, rand);
    try {
      const schema = compileSource(src, 'fuzz.x', { readFile });
      generateTypeScript(schema, { version: 'fuzz' });
      loadSchema(schema);
    } catch (e) {
      if (!(e instanceof CompileError)) {
        failures++;
        if (failures <= 3) t.fail(`case ${i} threw ${String(e)}\n${src.slice(0, 2000)}`);
        continue;
      }
      errors++;
      for (const d of e.diagnostics)
        if (!(d.pos.line >= 1 && d.pos.col >= 1 && d.message.length > 0)) {
          failures++;
          t.fail(`case ${i}: bad diagnostic ${formatDiagnostic(d)}`);
        }
    }
  }
  t.equal(failures, 0, `${CASES} cases, ${errors} rejected, in ${Date.now() - started} ms`);
  t.ok(errors > CASES / 4, 'most mutations are rejected (the fuzz reaches the checks)');
});

// ---- structured fuzz: well-formed type definitions ----

/** The .x files of the defects this fuzz now covers, compiled first: they must compile, generate and load. */
const SEEDS = [
  'typedef int e[3]; struct S { e *head; };',
  'struct node { int v; node *next; }; typedef struct node *nodeptr; struct S { nodeptr *p; };',
  'typedef int e[3]; typedef e *ep; typedef ep *epp; struct S { epp *x; e *y; ep z[2]; }; union u switch (int k) { case 1: e *a; default: epp *b; };',
  'typedef int v<3>; typedef string str<4>; typedef opaque o[5]; enum c { A = 1 }; union u switch (c k) { case A: int a; }; typedef u uu; typedef c cc; struct S { v *a; str *b; o *c; uu *d; cc *e; };',
  'typedef struct { t *next; } t;',
  'typedef union switch (int k) { case 1: t *next; default: void; } t;',
  // Bodies that read and write nothing (generated parameters unused): link-only lists, zero-size arrays.
  'struct l { l *next; }; typedef int z[0]; typedef opaque zo[0]; struct zs { z a; zo b; }; union zu switch (int k) { case 1: z a; };',
];

function structured(rand: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const n = 2 + Math.floor(rand() * 5);
  const names = Array.from({ length: n }, (_, i) => `t${i}`);
  let inlineDepth = 0;
  const type = (): string => {
    const r = rand();
    if (r < 0.45) return pick(names);
    if (r < 0.55 && inlineDepth < 2) {
      inlineDepth++;
      const body = rand() < 0.5 ? `struct { ${fields(1 + Math.floor(rand() * 2))} }` : `union switch (int k) { case 1: ${decl('a')} case 2: void; }`;
      inlineDepth--;
      return body;
    }
    return pick(['int', 'unsigned int', 'hyper', 'bool', 'double', 'float', 'unsigned hyper']);
  };
  const decl = (name: string): string => {
    switch (Math.floor(rand() * 9)) {
      case 0:
      case 1:
        return `${type()} ${name};`;
      case 2:
        return `${type()} ${name}[${pick([1, 2, 3])}];`; // not [0]: see the note on zero-size elements below
      case 3:
        return `${type()} ${name}<${pick(['', '2', '4'])}>;`;
      case 4:
      case 5:
        return `${type()} *${name};`;
      case 6:
        return `opaque ${name}${pick(['[3]', '<5>', '<>', '[1]'])};`;
      case 7:
        return `string ${name}<${pick(['', '6'])}>;`;
      default:
        return `${pick(names)} *${name};`;
    }
  };
  const fields = (k: number): string => Array.from({ length: k }, (_, i) => decl(`f${i}`)).join(' ');
  const defs = names.map((name) => {
    switch (Math.floor(rand() * 5)) {
      case 0:
      case 1:
        return `typedef ${decl(name)}`;
      case 2:
        return `struct ${name} { ${fields(1 + Math.floor(rand() * 3))} };`;
      case 3:
        return `union ${name} switch (${pick(['int', 'unsigned int', 'bool'])} k) { case ${pick(['1', 'TRUE'])}: ${decl('a')} ${rand() < 0.5 ? `default: ${decl('b')}` : 'case 0: void;'} };`;
      default:
        return `enum ${name} { ${name}_A = 1, ${name}_B = ${pick([2, -1, 7])} };`;
    }
  });
  return defs.join('\n');
}

t.test('structured fuzz: every type that compiles generates, loads and round-trips (loader and JSON)', async (t) => {
  const rand = mulberry32(0x0b7c);
  const CASES = 1500;
  const TSC_SAMPLE = Number(process.env.TSC_SAMPLE ?? 20);
  const root = new URL('../../', import.meta.url).pathname;
  const dir = mkdtempSync(join(root, '.gen-test-fuzz-'));
  if (!process.env.KEEP_FUZZ) t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rt = await import('oncrpc'); // what generated modules use (dist/)
  let compiled = 0;
  let written = 0;
  let genChecked = 0;
  let failures = 0;
  const fail = (i: number, what: string, src: string): void => {
    failures++;
    if (failures <= 5) t.fail(`case ${i}: ${what}\n${src}`);
  };
  for (let i = 0; i < CASES + SEEDS.length; i++) {
    const src = i < SEEDS.length ? SEEDS[i]! : structured(rand);
    let schema;
    try {
      schema = compileSource(src, `fuzz${i}.x`);
    } catch (e) {
      if (i < SEEDS.length) fail(i, `a seed does not compile: ${String(e)}`, src);
      else if (!(e instanceof CompileError)) fail(i, `threw ${String(e)}`, src);
      continue;
    }
    compiled++;
    let text: string;
    let loaded;
    try {
      text = generateTypeScript(schema, { version: 'fuzz' });
      loaded = loadSchema(schema);
    } catch (e) {
      fail(i, `generate/load threw ${e instanceof Error ? e.stack : String(e)}`, src);
      continue;
    }
    // Sampled modules are also imported, and their codecs compared with the loader's.
    let mod: Record<string, any> | undefined;
    if (written < TSC_SAMPLE && (i < SEEDS.length || i % 7 === 0)) {
      const file = join(dir, `fuzz${i}.gen.ts`);
      writeFileSync(file, text);
      written++;
      mod = (await import(pathToFileURL(file).href)) as Record<string, any>;
    }
    const model = mod && new Model(schema);
    const values = randomValues(schema);
    const rng = new Rng(i);
    for (const [name, type] of loaded.types) {
      try {
        const info = model?.lookup(name);
        for (let k = 0; k < 5; k++) {
          const v = values(rng, name);
          const h = toHex(x.encode(type, v));
          const back = x.decode(type, Buffer.from(h, 'hex'));
          if (toHex(x.encode(type, back)) !== h) throw new Error(`${name}: decode/encode changes the bytes`);
          const viaJson = fromJson(type, JSON.parse(JSON.stringify(toJson(type, back))));
          if (toHex(x.encode(type, viaJson)) !== h) throw new Error(`${name}: the JSON mapping changes the bytes`);
          if (mod && info) {
            const w = new rt.XdrWriter();
            mod[info.write](w, v);
            if (toHex(w.toBytes()) !== h) throw new Error(`${name}: generated ${info.write} gives other bytes than the loader`);
            const r = new rt.XdrReader(Buffer.from(h, 'hex'));
            if (!sameValue(mod[info.read](r), back)) throw new Error(`${name}: generated ${info.read} decodes to another value than the loader`);
            r.expectEnd();
            genChecked++;
          }
        }
      } catch (e) {
        fail(i, `type ${name}: ${e instanceof Error ? e.stack : String(e)}`, src);
        break;
      }
    }
  }
  t.equal(failures, 0, `${CASES} structured cases and ${SEEDS.length} seeds, ${compiled} compiled`);
  t.ok(compiled > CASES / 5, 'a good share compiles (the fuzz reaches the back ends)');
  // A sample of the generated modules type-checks (strict, as emit.test.ts checks the corpus).
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../tsconfig.json', compilerOptions: { noEmit: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, noImplicitReturns: true }, include: ['*.ts'] }));
  const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
  t.equal(r.stdout + r.stderr, '', `${written} generated modules type-check (and their codecs agree with the loader on ${genChecked} values)`);
});
