// The built-in preprocessor: conditionals, #if arithmetic, object-like macros, #include, `%` lines, positions.
import t from 'tap';
import { preprocess, evalIntegerExpression, type PreprocessOptions, type Segment } from '../../src/codegen/preprocess.js';
import { formatDiagnostic } from '../../src/codegen/ast.js';

/** The preprocessed text, one output line per source line that produced something. */
function text(src: string, options: PreprocessOptions = {}): string {
  const r = preprocess(src, 'in.x', options);
  t.same(r.diagnostics.map(formatDiagnostic), [], 'no diagnostics');
  return render(r.segments);
}

function render(segs: Segment[]): string {
  const lines: string[] = [];
  let key = '';
  for (const s of segs) {
    const k = `${s.pos.file}:${s.pos.line}`;
    const piece = s.kind === 'passthrough' ? `%${s.text}` : s.text.trim();
    if (k === key) lines[lines.length - 1] += ' ' + piece;
    else lines.push(piece);
    key = k;
  }
  return lines.join('\n');
}

function diags(src: string, options: PreprocessOptions = {}): string[] {
  return preprocess(src, 'in.x', options).diagnostics.map(formatDiagnostic);
}

t.test('RPC_HDR is predefined by default; mode and defines change that', async (t) => {
  const src = '#ifdef RPC_HDR\nhdr\n#endif\n#ifdef RPC_XDR\nxdr\n#endif\n#if RPC_HDR\nif\n#endif';
  t.equal(text(src), 'hdr\nif');
  t.equal(text(src, { mode: 'RPC_XDR' }), 'xdr');
  t.equal(text(src, { mode: null }), '');
  t.equal(text(src, { defines: { RPC_HDR: false, RPC_XDR: true } }), 'xdr');
  t.equal(text('#if FOO == 3\nyes\n#endif', { defines: { FOO: 3 } }), 'yes');
  t.equal(text('#ifdef FOO\nyes\n#endif', { defines: { FOO: '' } }), 'yes');
});

t.test('#ifdef / #ifndef / #elif / #else nest', async (t) => {
  const src = [
    '#define A',
    '#ifdef A',
    '  #ifndef B',
    'one',
    '  #else',
    'two',
    '  #endif',
    '#elif 1',
    'three',
    '#else',
    'four',
    '#endif',
    '#if 0',
    'x',
    '#elif 0',
    'y',
    '#elif defined(A) && !defined B',
    'z',
    '#elif 1',
    'w',
    '#endif',
    '#if 0',
    '#if 1',
    'inner',
    '#else',
    'inner2',
    '#endif',
    '#bogus directive is ignored when skipped',
    '#else',
    'outer',
    '#endif',
  ].join('\n');
  t.equal(text(src), 'one\nz\nouter');
});

t.test('#if integer expressions', async (t) => {
  const cases: Array<[string, boolean]> = [
    ['1 + 2 * 3 == 7', true],
    ['(1 + 2) * 3 == 9', true],
    ['10 / 3 == 3 && 10 % 3 == 1', true],
    ['1 << 4 == 16 && 256 >> 4 == 0x10', true],
    ['010 == 8', true],
    ['0x1F == 31 && 0X1f == 31', true],
    ['(6 & 3) == 2 && (6 | 3) == 7 && (6 ^ 3) == 5', true],
    ['~0 == -1', true],
    ['!0 && !!5', true],
    ['-3 < 2 && 2 > -3 && 2 <= 2 && 2 >= 3', false],
    ['1 != 2', true],
    ['1 ? 0 : 1', false],
    ['0 ? 0 : 2 ? 3 : 0', true],
    ['UNDEFINED_NAME', false],
    ['UNDEFINED_NAME == 0', true],
    ['defined RPC_HDR && defined(RPC_HDR)', true],
    ['defined(NOPE) || 0', false],
    ['0 && (1 / 0)', false],
    ['1 || (1 / 0)', true],
    ['10UL == 10', true],
    ['TWO * TWO == 4', true],
  ];
  for (const [expr, want] of cases)
    t.equal(text(`#define TWO (1 + 1)\n#if ${expr}\nyes\n#endif`), want ? 'yes' : '', expr);
});

t.test('#if errors', async (t) => {
  t.same(diags('#if 1 +\n#endif'), ['in.x:1:8: error: expected a value in #if expression, found end of expression']);
  t.same(diags('#if (1\n#endif'), ["in.x:1:7: error: expected ')' in #if expression, found end of expression"]);
  t.same(diags('#if 1 / 0\n#endif'), ['in.x:1:7: error: division by zero in #if']);
  t.same(diags('#if 1 2\n#endif'), ["in.x:1:7: error: unexpected '2' in #if expression"]);
  t.same(diags('#if\n#endif'), ['in.x:1:1: error: #if with no expression']);
  t.same(diags('#if 1 @ 2\n#endif'), ["in.x:1:7: error: unexpected character '@' in #if"]);
  t.same(diags('#if defined\n#endif'), ["in.x:1:5: error: 'defined' needs a macro name"]);
  t.same(diags('#if defined(X\n#endif'), ["in.x:1:13: error: missing ')' after 'defined'"]);
  t.same(diags('#if 09\n#endif'), ["in.x:1:5: error: invalid octal constant '09' in #if"]);
  t.same(diags('#if 1 ? 2\n#endif'), ["in.x:1:10: error: expected ':' in #if expression, found end of expression"]);
  t.same(diags('#if 0\n#elif 1 +\n#endif'), ['in.x:2:10: error: expected a value in #if expression, found end of expression']);
  // not evaluated: no error
  t.same(diags('#if 1\n#elif 1 +\n#endif'), []);
  t.same(diags('#if 0\n#if 1 +\n#endif\n#endif'), []);
});

t.test('conditional structure errors', async (t) => {
  t.same(diags('#ifdef A\nx'), ['in.x:1:1: error: unterminated conditional directive (missing #endif)']);
  t.same(diags('#endif'), ['in.x:1:1: error: #endif without #if']);
  t.same(diags('  #else'), ['in.x:1:3: error: #else without #if']);
  t.same(diags('#elif 1'), ['in.x:1:1: error: #elif without #if']);
  t.same(diags('#if 1\n#else\n#else\n#endif'), ['in.x:3:1: error: #else after #else']);
  t.same(diags('#if 1\n#else\n#elif 1\n#endif'), ['in.x:3:1: error: #elif after #else']);
  t.same(diags('#ifdef\n#endif'), ['in.x:1:7: error: #ifdef needs a macro name']);
});

t.test('#define / #undef and substitution', async (t) => {
  t.equal(text('#define N 10\nconst A = N;\n#undef N\nconst B = N;'), 'const A = 10 ;\nconst B = N;');
  // nested, self-referential (stops), not inside other identifiers or numbers
  t.equal(text('#define A B + 1\n#define B C\n#define C A\nx = A; AB = 0xA;'), 'x = A + 1 ; AB = 0xA;');
  t.same(diags('#define F(x) x'), ["in.x:1:9: error: function-like macro 'F' is not supported (only object-like #define)"]);
  t.same(diags('#define'), ['in.x:1:8: error: #define needs a macro name']);
  t.same(diags('#define defined 1'), ["in.x:1:9: error: 'defined' cannot be used as a macro name"]);
  t.same(diags('#define A 1\n#define A 2'), ["in.x:2:9: warning: 'A' redefined"]);
  t.same(diags('#define A 1\n#define A 1'), []);
  t.same(diags('#undef'), ['in.x:1:7: error: #undef needs a macro name']);
  // continuation lines
  t.equal(text('#define LONG 1 + \\\n  2\nx = LONG;'), 'x = 1 +   2 ;');
});

t.test('expansion positions: tokens from a macro point at the macro name', async (t) => {
  const r = preprocess('#define N 10\nconst  A = N;', 'in.x');
  const seg = r.segments.find((s) => s.kind === 'text' && s.expanded)!;
  t.same(seg.pos, { file: 'in.x', line: 2, col: 12 });
  const first = r.segments[0]!;
  t.same(first.pos, { file: 'in.x', line: 2, col: 1 });
});

t.test('macro expansion blow-up is bounded', async (t) => {
  const defs = Array.from({ length: 40 }, (_, i) => `#define M${i} M${i + 1} M${i + 1}`).join('\n');
  const r = preprocess(`${defs}\nx M0`, 'in.x');
  t.same(r.diagnostics.map(formatDiagnostic), ['in.x:41:3: error: expansion of macros is too large']);
});

t.test('comments are blanked keeping lines and columns', async (t) => {
  const r = preprocess('a /* one\ntwo */ b // three\n/* x */ #define Q 1\nQ "/* not a comment */"', 'in.x');
  t.same(r.diagnostics, []);
  t.equal(render(r.segments), 'a\nb\n1 "/* not a comment */"');
  const b = r.segments[1]!;
  t.same(b.pos, { file: 'in.x', line: 2, col: 1 });
  t.equal(b.kind === 'text' && b.text.indexOf('b'), 7);
  t.same(diags('a /* never\nends'), ['in.x:1:3: error: unterminated comment']);
});

t.test('% lines pass through verbatim (not inside comments or skipped groups)', async (t) => {
  const r = preprocess('%#include <rpc/xdr.h>\n  % indented\n/*\n% in comment\n*/\n#if 0\n%skipped\n#endif\n%/* kept */\n%#define X 1 + \\\n\t2', 'in.x');
  t.same(r.diagnostics, []);
  t.same(
    r.segments.map((s) => [s.kind, s.text, s.pos.line, s.pos.col]),
    [
      ['passthrough', '#include <rpc/xdr.h>', 1, 1],
      ['passthrough', ' indented', 2, 3],
      ['passthrough', '/* kept */', 9, 1],
      ['passthrough', '#define X 1 + \t2', 10, 1],
    ],
  );
});

t.test('#include: relative to the including file, positions in the included file, cycles', async (t) => {
  const files: Record<string, string> = {
    'dir/main.x': 'before\n#include "sub/a.x"\nafter',
    'dir/sub/a.x': 'in_a\n#include "b.x"',
    'dir/sub/b.x': '\n  in_b',
    'dir/loop.x': '#include "loop2.x"',
    'dir/loop2.x': '#include "loop.x"',
    'inc/sys.x': 'sys',
    'dir/usesys.x': '#include <sys.x>\n#include "sys.x"',
    'dir/guard.x': '#include "g.x"\n#include "g.x"',
    'dir/g.x': '#ifndef G\n#define G\ng\n#endif',
  };
  const readFile = (p: string): string => {
    const f = files[p];
    if (f === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
    return f;
  };
  const r = preprocess(files['dir/main.x']!, 'dir/main.x', { readFile });
  t.same(r.diagnostics, []);
  t.same(
    r.segments.map((s) => `${s.pos.file}:${s.pos.line}:${s.pos.col} ${s.text.trim()}`),
    ['dir/main.x:1:1 before', 'dir/sub/a.x:1:1 in_a', 'dir/sub/b.x:2:1 in_b', 'dir/main.x:3:1 after'],
  );
  t.same(r.files, ['dir/main.x', 'dir/sub/a.x', 'dir/sub/b.x']);
  const loop = preprocess(files['dir/loop.x']!, 'dir/loop.x', { readFile });
  t.same(loop.diagnostics.map(formatDiagnostic), ['dir/loop2.x:1:10: error: #include cycle: "dir/loop.x" is already being included']);
  const sys = preprocess(files['dir/usesys.x']!, 'dir/usesys.x', { readFile, includePaths: ['inc'] });
  t.equal(render(sys.segments), 'sys sys'); // same file and line twice
  t.same(sys.diagnostics, []);
  const g = preprocess(files['dir/guard.x']!, 'dir/guard.x', { readFile });
  t.equal(render(g.segments), 'g');
  t.same(diags('#include "missing.x"', { readFile }), [
    `in.x:1:10: error: cannot include "missing.x": ENOENT: no such file or directory, open 'missing.x'`,
  ]);
  t.same(diags('#include <missing.x>', { readFile }), ['in.x:1:10: error: cannot include <missing.x>']);
  t.same(diags('#include missing.x', { readFile }), ['in.x:1:10: error: #include expects "FILE" or <FILE>']);
  t.same(diags('#include ""', { readFile }), ['in.x:1:10: error: empty file name in #include']);
});

t.test('other directives', async (t) => {
  t.same(diags('#error stop here'), ['in.x:1:1: error: #error stop here']);
  t.same(diags('#warning careful'), ['in.x:1:1: warning: #warning careful']);
  t.same(diags('#pragma once\n#ident "x"\n#\n# 12 "file.x"'), []);
  t.same(diags('#frobnicate'), ["in.x:1:2: error: unknown preprocessor directive '#frobnicate'"]);
  t.same(diags('# +'), ['in.x:1:3: error: invalid preprocessor directive']);
});

t.test('evalIntegerExpression (used for %#define constants)', async (t) => {
  const lookup = (n: string): bigint | null => (n === 'K' ? 1024n : null);
  t.equal(evalIntegerExpression('K+1', lookup), 1025n);
  t.equal(evalIntegerExpression('(K << 1)', lookup), 2048n);
  t.equal(evalIntegerExpression('BEP.BEP_len', lookup), null);
  t.equal(evalIntegerExpression('"str"', lookup), null);
  t.equal(evalIntegerExpression('', lookup), null);
});

t.test('deep nesting in #if and in macros is refused, not a stack overflow', async (t) => {
  t.same(diags(`#if ${'('.repeat(300)}1${')'.repeat(300)}\n#endif`), ['in.x:1:205: error: #if expression nested more than 200 deep']);
  t.same(diags(`#if ${'-'.repeat(300)}1\n#endif`), ['in.x:1:205: error: #if expression nested more than 200 deep']);
  const chain = Array.from({ length: 300 }, (_, i) => `#define C${i} C${i + 1}`).join('\n');
  t.same(diags(`${chain}\nx C0`), ['in.x:301:3: error: macros nested more than 200 deep']);
  t.same(diags(`${chain}\n#if C0\n#endif`), ['in.x:301:5: error: macros nested more than 200 deep']);
});
