// Negative .x cases (spec/codegen/bad/*.x, expected diagnostics in `// expect:` lines at their end),
// CompileError, and a seeded fuzz: nothing but CompileError ever escapes, and nothing hangs.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { check, checkFile, compileFile, compileSource } from '../../src/codegen/compile.js';
import { formatDiagnostic } from '../../src/codegen/ast.js';
import { CompileError } from '../../src/errors.js';

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

t.test('fuzz: token soup and mutated corpus files only ever give CompileError', async (t) => {
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
      compileSource(src, 'fuzz.x', { readFile });
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
