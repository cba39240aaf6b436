// The parser: every construct of the rpcgen language, and error recovery.
import t from 'tap';
import { lex } from '../../src/codegen/lexer.js';
import { parse } from '../../src/codegen/parser.js';
import { preprocess } from '../../src/codegen/preprocess.js';
import { formatDiagnostic, type Definition } from '../../src/codegen/ast.js';

function parseText(src: string) {
  const pre = preprocess(src, 'p.x');
  const lexed = lex(pre.segments, 'p.x');
  const r = parse(lexed.tokens, 'p.x');
  return { defs: r.spec.definitions, diagnostics: [...pre.diagnostics, ...lexed.diagnostics, ...r.diagnostics].map(formatDiagnostic) };
}

function ok(src: string): Definition[] {
  const r = parseText(src);
  t.same(r.diagnostics, [], 'parses cleanly');
  return r.defs;
}

const lit = (value: bigint) => ({ kind: 'literal', value });
const name = (n: string) => ({ kind: 'name', name: n });

t.test('const: decimal, hex, octal, negative, by name; rpcgen string constants', async (t) => {
  const defs = ok('const A = 10; const B = 0x10; const C = 010; const D = -5; const E = -0x7fffffff; const F = A; const S = "hex";');
  t.match(defs, [
    { kind: 'const', name: 'A', value: lit(10n), pos: { line: 1, col: 7 } },
    { kind: 'const', name: 'B', value: lit(16n) },
    { kind: 'const', name: 'C', value: lit(8n) },
    { kind: 'const', name: 'D', value: lit(-5n) },
    { kind: 'const', name: 'E', value: lit(-0x7fffffffn) },
    { kind: 'const', name: 'F', value: name('A') },
    { kind: 'stringConst', name: 'S', value: 'hex' },
  ]);
});

t.test('enum: explicit, implicit (C numbering), trailing comma', async (t) => {
  const defs = ok('enum e { A = 1, B, C = -2, D, E = X, F, };');
  t.match(defs, [
    {
      kind: 'enum',
      name: 'e',
      body: { members: [{ name: 'A', value: lit(1n) }, { name: 'B', value: lit(2n) }, { name: 'C', value: lit(-2n) }, { name: 'D', value: lit(-1n) }, { name: 'E', value: name('X') }, { name: 'F' }] },
    },
  ]);
});

t.test('typedef: every declaration shape and base type', async (t) => {
  const src = `
    typedef int a; typedef unsigned int b; typedef unsigned c; typedef hyper d; typedef unsigned hyper e;
    typedef float f; typedef double g; typedef quadruple h; typedef bool i;
    typedef char j; typedef unsigned char k; typedef short l; typedef unsigned short m; typedef long n; typedef unsigned long o; typedef long int p;
    typedef foo q[3]; typedef foo r<5>; typedef foo s<>; typedef foo *t;
    typedef opaque u[N]; typedef opaque v<16>; typedef opaque w<>;
    typedef string x<255>; typedef string y<>;
    typedef struct foo *z;`;
  const defs = ok(src);
  const decls = defs.map((d) => (d.kind === 'typedef' ? d.decl : null));
  t.match(decls, [
    { kind: 'plain', name: 'a', type: { kind: 'int', unsigned: false } },
    { kind: 'plain', name: 'b', type: { kind: 'int', unsigned: true } },
    { kind: 'plain', name: 'c', type: { kind: 'int', unsigned: true } },
    { kind: 'plain', name: 'd', type: { kind: 'hyper', unsigned: false } },
    { kind: 'plain', name: 'e', type: { kind: 'hyper', unsigned: true } },
    { kind: 'plain', name: 'f', type: { kind: 'float' } },
    { kind: 'plain', name: 'g', type: { kind: 'double' } },
    { kind: 'plain', name: 'h', type: { kind: 'quadruple' } },
    { kind: 'plain', name: 'i', type: { kind: 'bool' } },
    { kind: 'plain', name: 'j', type: { kind: 'int', unsigned: false } },
    { kind: 'plain', name: 'k', type: { kind: 'int', unsigned: true } },
    { kind: 'plain', name: 'l', type: { kind: 'int', unsigned: false } },
    { kind: 'plain', name: 'm', type: { kind: 'int', unsigned: true } },
    { kind: 'plain', name: 'n', type: { kind: 'int', unsigned: false } },
    { kind: 'plain', name: 'o', type: { kind: 'int', unsigned: true } },
    { kind: 'plain', name: 'p', type: { kind: 'int', unsigned: false } },
    { kind: 'fixedArray', name: 'q', type: { kind: 'ref', name: 'foo' }, size: lit(3n) },
    { kind: 'varArray', name: 'r', type: { kind: 'ref', name: 'foo' }, max: lit(5n) },
    { kind: 'varArray', name: 's', max: null },
    { kind: 'optional', name: 't', type: { kind: 'ref', name: 'foo' } },
    { kind: 'fixedOpaque', name: 'u', size: name('N') },
    { kind: 'varOpaque', name: 'v', max: lit(16n) },
    { kind: 'varOpaque', name: 'w', max: null },
    { kind: 'string', name: 'x', max: lit(255n) },
    { kind: 'string', name: 'y', max: null },
    { kind: 'optional', name: 'z', type: { kind: 'ref', name: 'foo' } },
  ]);
  // positions: a typedef points at the declared name
  t.match(defs[0], { pos: { line: 2, col: 17 } });
});

t.test('struct with inline anonymous struct, union and enum types; struct refs', async (t) => {
  const defs = ok(`
    struct s {
      struct { int x; int y; } pt;
      union switch (int k) { case 1: int i; default: void; } u;
      enum { RED, GREEN = 5 } color;
      struct other o;
      union other2 *next;
      enum e3 ev;
    };`);
  t.match(defs, [
    {
      kind: 'struct',
      name: 's',
      pos: { line: 2, col: 12 },
      body: {
        fields: [
          { kind: 'plain', name: 'pt', type: { kind: 'struct', body: { fields: [{ name: 'x' }, { name: 'y' }] } } },
          { kind: 'plain', name: 'u', type: { kind: 'union', body: { discriminant: { name: 'k' }, cases: [{ values: [lit(1n)] }], default: { kind: 'void' } } } },
          { kind: 'plain', name: 'color', type: { kind: 'enum', body: { members: [{ name: 'RED', value: lit(0n) }, { name: 'GREEN', value: lit(5n) }] } } },
          { kind: 'plain', name: 'o', type: { kind: 'ref', name: 'other' } },
          { kind: 'optional', name: 'next', type: { kind: 'ref', name: 'other2' } },
          { kind: 'plain', name: 'ev', type: { kind: 'ref', name: 'e3' } },
        ],
      },
    },
  ]);
});

t.test('union: several labels per arm, void arms, default, enum discriminant', async (t) => {
  const defs = ok(`
    union u switch (nfsstat status) {
    case NFS_OK:
    case 7:
      fattr attributes;
    case -1:
      void;
    default:
      opaque junk<>;
    };`);
  t.match(defs, [
    {
      kind: 'union',
      name: 'u',
      body: {
        discriminant: { kind: 'plain', name: 'status', type: { kind: 'ref', name: 'nfsstat' } },
        cases: [
          { values: [name('NFS_OK'), lit(7n)], arm: { kind: 'plain', name: 'attributes' }, pos: { line: 3 } },
          { values: [lit(-1n)], arm: { kind: 'void' } },
        ],
        default: { kind: 'varOpaque', name: 'junk' },
      },
    },
  ]);
  const noDefault = ok('union v switch (bool b) { case TRUE: int x; };');
  t.equal((noDefault[0] as Extract<Definition, { kind: 'union' }>).body.default, undefined);
});

t.test('program: versions, procedures, void, several arguments, bare string, optional, arrays', async (t) => {
  const defs = ok(`
    program P {
      version V1 {
        void NULLPROC(void) = 0;
        string ECHO(string) = 1;
        int ADD(int, int a, hyper) = 2;
        foo *GET(struct key *) = 3;
        opaque<> RAW(opaque<16>, opaque[4]) = 4;
        bar<> LIST(unsigned) = 5;
      } = 1;
      version V2 { void NULLPROC(void) = 0; } = 2;
    } = 0x20000001;`);
  t.match(defs, [
    {
      kind: 'program',
      name: 'P',
      number: lit(0x20000001n),
      versions: [
        {
          name: 'V1',
          number: lit(1n),
          procedures: [
            { name: 'NULLPROC', number: lit(0n), result: { kind: 'void' }, args: [] },
            { name: 'ECHO', result: { kind: 'string', name: '', max: null }, args: [{ kind: 'string', name: '', max: null }] },
            {
              name: 'ADD',
              result: { kind: 'plain', name: '', type: { kind: 'int' } },
              args: [
                { kind: 'plain', name: '', type: { kind: 'int' } },
                { kind: 'plain', name: 'a', type: { kind: 'int' } },
                { kind: 'plain', name: '', type: { kind: 'hyper' } },
              ],
            },
            { name: 'GET', result: { kind: 'optional', type: { kind: 'ref', name: 'foo' } }, args: [{ kind: 'optional', type: { kind: 'ref', name: 'key' } }] },
            { name: 'RAW', result: { kind: 'varOpaque', max: null }, args: [{ kind: 'varOpaque', max: lit(16n) }, { kind: 'fixedOpaque', size: lit(4n) }] },
            { name: 'LIST', result: { kind: 'varArray', type: { kind: 'ref', name: 'bar' } }, args: [{ kind: 'plain', type: { kind: 'int', unsigned: true } }] },
          ],
        },
        { name: 'V2', number: lit(2n) },
      ],
    },
  ]);
});

t.test('% lines become passthrough definitions, in order (also from inside a definition)', async (t) => {
  const defs = ok('%#include <x.h>\nconst A = 1;\nstruct s {\n%inside\n int a;\n};\n%after');
  t.same(
    defs.map((d) => (d.kind === 'passthrough' ? `%${d.text}@${d.pos.line}` : d.kind)),
    ['%#include <x.h>@1', 'const', 'struct', '%inside@4', '%after@7'],
  );
});

t.test('forward references parse (checked later)', async () => {
  ok('struct a { b x; }; struct b { int y; };');
});

t.test('syntax errors: position, message, recovery to the next definition', async (t) => {
  const r = parseText(`
const A = ;
struct s { int a; int; };
typedef int ok1;
union u switch (int d) { case 1 int x; };
const B = 5
typedef int ok2;
program P { version V { void F() = 1; } = 1; } = 1;
enum e { };
struct s2 { };
foo bar;
struct inner { struct named { int a; } x; };
typedef opaque o;
typedef string s;
const int = 3;
union u2 switch (int d) { case 1: int a; default: int b; default: int c; };
union u3 switch (int d) { };
program Q { version W { void F(void, int) = 1; } = 1; } = 2;
typedef void;
const C = -x;
typedef int ok3;`);
  t.same(r.diagnostics, [
    "p.x:2:11: error: expected a constant (a number or a name) but found ';'",
    "p.x:3:22: error: expected a field name but found ';'",
    "p.x:5:33: error: expected ':' but found 'int'",
    "p.x:6:12: error: expected ';' after '5'",
    "p.x:8:32: error: expected an argument type or 'void' but found ')'",
    "p.x:9:10: error: expected an enum member name but found '}'",
    'p.x:10:11: error: a struct needs at least one field',
    'p.x:11:1: error: expected a definition (const, typedef, enum, struct, union or program) but found \'foo\'',
    "p.x:12:23: error: a named struct cannot be defined inside another definition; define 'named' at top level or leave it anonymous",
    "p.x:13:17: error: expected '[' or '<' after 'opaque o' but found ';'",
    "p.x:14:17: error: expected '<' after 'string s' (write string s<> or string s<N>) but found ';'",
    "p.x:15:7: error: expected a constant name but found keyword 'int'",
    'p.x:16:58: error: a union can have only one default arm',
    'p.x:17:25: error: a union needs at least one arm',
    "p.x:18:32: error: 'void' must be the only argument",
    "p.x:20:12: error: expected a number after '-' but found 'x'",
  ]);
  // definitions after each error were still parsed
  const names = r.defs.flatMap((d) => (d.kind === 'typedef' && d.decl.kind !== 'void' ? [d.decl.name] : []));
  t.same(names, ['ok1', 'ok2', 'ok3']);
});

t.test('end of file inside a definition', async (t) => {
  t.same(parseText('struct s { int a;').diagnostics, ["p.x:1:18: error: expected '}' but found end of file"]);
  t.same(parseText('program P {').diagnostics, ["p.x:1:12: error: expected 'version' but found end of file"]);
  t.same(parseText('').diagnostics, []);
});

t.test('deep nesting is refused, not a stack overflow', async (t) => {
  const src = 'struct s { ' + 'struct { '.repeat(200) + 'int x; ' + '} f; '.repeat(200) + '};';
  t.same(parseText(src).diagnostics, ['p.x:1:912: error: types nested more than 100 deep']);
});
