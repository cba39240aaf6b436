// Resolution: the Schema contract, constant folding, rpcgen adaptations, and every semantic check.
import t from 'tap';
import { check, compileSource } from '../../src/codegen/compile.js';
import { formatDiagnostic, type Definition } from '../../src/codegen/ast.js';

function errors(src: string): string[] {
  return check(src, 'r.x').diagnostics.map(formatDiagnostic);
}

t.test('Schema: constants, types in order, programs, value(), definition()', async (t) => {
  const s = compileSource(
    `const MAX = 0x10;
     const ALIAS = MAX;
     enum color { RED, GREEN = ALIAS, BLUE };
     typedef color shade;
     typedef shade tint;
     struct point { int x; int y; };
     typedef point pt;
     typedef point *ptp;
     union u switch (tint c) { case RED: pt p; case GREEN: case BLUE: void; };
     program P { version V { u GET(pt) = 1; } = 1; } = 400000;`,
    'r.x',
  );
  t.same([...s.constants], [['MAX', 16n], ['ALIAS', 16n], ['RED', 0n], ['GREEN', 16n], ['BLUE', 17n]]);
  t.same([...s.types.keys()], ['color', 'shade', 'tint', 'point', 'pt', 'ptp', 'u']);
  t.same(s.programs.map((p) => p.name), ['P']);
  t.equal(s.value({ kind: 'name', name: 'BLUE', pos: { file: '', line: 0, col: 0 } }), 17n);
  t.equal(s.value({ kind: 'literal', value: -3n, pos: { file: '', line: 0, col: 0 } }), -3n);
  t.equal(s.definition('tint').kind, 'enum');
  t.equal(s.definition('pt').kind, 'struct');
  t.equal(s.definition('ptp').kind, 'typedef'); // optional: the typedef itself gives the shape
  t.throws(() => s.definition('nope'));
  t.throws(() => s.value({ kind: 'name', name: 'nope', pos: { file: '', line: 0, col: 0 } }));
  t.same(s.imports, []);
});

t.test('forward references to types and constants', async (t) => {
  const s = compileSource('struct a { b x; opaque d[N]; }; const N = M; const M = 4; struct b { int y; };', 'r.x');
  t.equal(s.constants.get('N'), 4n);
});

t.test('enum members numbered after a named value', async (t) => {
  const s = compileSource('const BASE = 10; enum e { A = BASE, B, C };', 'r.x');
  t.same([s.constants.get('B'), s.constants.get('C')], [11n, 12n]);
  const e = s.spec.definitions.find((d) => d.kind === 'enum') as Extract<Definition, { kind: 'enum' }>;
  t.match(e.body.members[2]!.value, { kind: 'literal', value: 12n });
});

t.test('members of inline enums are global constants', async (t) => {
  const s = compileSource('struct s { enum { X = 3, Y } k; }; const Z = Y;', 'r.x');
  t.equal(s.constants.get('Z'), 4n);
});

t.test('rpcgen-isms: C type names, TRUE/FALSE, netobj, des_block, typedef struct x x, %#define sizes', async (t) => {
  const s = compileSource(
    `%#define LM_MAXSTRLEN 1024
%#define MAXNAMELEN LM_MAXSTRLEN+1
%#define bep_len BEP.BEP_len
struct s { u_int a; uint32_t b; int64_t c; u_quad_t d; bool_t e; netobj f; des_block g; string h<MAXNAMELEN>; string n<MAXNETNAMELEN>; };
typedef struct s s;
union u switch (bool b) { case TRUE: int x; case FALSE: void; };`,
    'r.x',
  );
  const kinds = s.spec.definitions.map((d) =>
    d.kind === 'typedef' && d.decl.kind !== 'void' ? `typedef ${d.decl.name}` : d.kind === 'const' || d.kind === 'struct' || d.kind === 'union' ? `${d.kind} ${d.name}` : d.kind,
  );
  t.same(kinds, [
    'typedef u_int', 'typedef uint32_t', 'typedef int64_t', 'typedef u_quad_t', 'typedef bool_t', 'typedef netobj', 'typedef des_block',
    'const MAXNETNAMELEN', 'const TRUE', 'const FALSE',
    'passthrough', 'passthrough', 'const MAXNAMELEN', 'passthrough', 'struct s', 'union u',
  ]);
  t.same(s.constants.get('MAXNAMELEN'), 1025n);
  t.same(s.constants.get('MAXNETNAMELEN'), 255n);
  t.match(s.types.get('netobj'), { kind: 'typedef', decl: { kind: 'varOpaque', max: { kind: 'literal', value: 1024n } } });
  t.match(s.types.get('des_block'), { kind: 'typedef', decl: { kind: 'fixedOpaque', size: { kind: 'literal', value: 8n } } });
  t.match(s.types.get('u_int'), { kind: 'typedef', decl: { kind: 'plain', type: { kind: 'int', unsigned: true } } });
  t.equal(s.types.get('s')!.kind, 'struct');
  // a file's own definition wins over the built-in one
  const own = compileSource('typedef hyper u_int; const TRUE = 7; struct t { u_int a; int b[TRUE]; };', 'r.x');
  t.match(own.types.get('u_int'), { decl: { type: { kind: 'hyper' } } });
  t.equal(own.constants.get('TRUE'), 7n);
});

t.test('imports: names from another schema', async (t) => {
  const base = compileSource('typedef int thing; const K = 5; enum kind { KA, KB };', 'base.x');
  const { lex } = await import('../../src/codegen/lexer.js');
  const { parse } = await import('../../src/codegen/parser.js');
  const { preprocess } = await import('../../src/codegen/preprocess.js');
  const { resolve } = await import('../../src/codegen/resolve.js');
  const spec = parse(lex(preprocess('struct user { thing t<K>; }; union w switch (kind k) { case KA: int x; };', 'user.x').segments, 'user.x').tokens, 'user.x').spec;
  const r = resolve(spec, { imports: [base] });
  t.same(r.diagnostics, []);
  t.equal(r.schema.value({ kind: 'name', name: 'K', pos: { file: '', line: 0, col: 0 } }), 5n);
  t.equal(r.schema.definition('thing').kind, 'typedef');
  t.equal(r.schema.types.has('thing'), false);
});

t.test('recursion through optional data and variable arrays is fine; by value it is not', async (t) => {
  t.same(errors('struct node { int v; node *next; }; struct tree { tree kids<>; };'), []);
  t.same(errors('union list switch (bool more) { case TRUE: list_item item; case FALSE: void; }; struct list_item { int v; list next; };'), []);
  t.same(errors('struct z { z none[0]; };'), []);
  t.same(errors('struct a { int x; a self; };'), [
    "r.x:1:8: error: struct 'a' contains itself by value, so no value of it is finite (use '*' optional data or a variable-length array to end the recursion)",
  ]);
  t.same(errors('struct a { b x; }; struct b { a y[2]; }; struct c { a z; };'), [
    "r.x:1:8: error: struct 'a' contains itself by value, so no value of it is finite (use '*' optional data or a variable-length array to end the recursion)",
    "r.x:1:27: error: struct 'b' contains itself by value, so no value of it is finite (use '*' optional data or a variable-length array to end the recursion)",
  ]);
  t.same(errors('union u switch (int d) { case 1: u a; default: struct { u b; } c; };'), [
    "r.x:1:7: error: union 'u' contains itself by value, so no value of it is finite (use '*' optional data or a variable-length array to end the recursion)",
  ]);
  t.same(errors('typedef t2 t1; typedef t1 t2;'), [
    "r.x:1:12: error: type 't1' contains itself by value, so no value of it is finite (use '*' optional data or a variable-length array to end the recursion)",
    "r.x:1:27: error: type 't2' contains itself by value, so no value of it is finite (use '*' optional data or a variable-length array to end the recursion)",
  ]);
});
