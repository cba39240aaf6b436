// loadSchema / loadX: codecs from a .x at run time, byte-identical to rpcgen's C (libtirpc bytes of
// fixtures/c) and to the hand-written codecs of spec/interop/alltypes.ts.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { compileSource } from '../../src/codegen/compile.js';
import { loadSchema, loadX } from '../../src/codegen/interpret.js';
import * as x from '../../src/xdr/index.js';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import { findProcedure } from '../../src/rpc/program.js';
import { Rng, toHex } from '../_helpers/hex.js';
import * as at from '../interop/alltypes.js';
import { randomValues, sameValue } from './_helpers/random-values.js';

const root = new URL('../../', import.meta.url).pathname;
const ALLTYPES = root + 'fixtures/x/alltypes.x';
const load = (src: string) => loadSchema(compileSource(src, 'test.x'));

t.test('alltypes.x: the value V encodes to libtirpc xdr_alltypes bytes and decodes back', async (t) => {
  const s = await loadX(ALLTYPES);
  const cBytes = readFileSync(root + 'fixtures/c/alltypes-value.xdr.hex', 'utf8').replace(/\s+/g, '');
  const type = s.type('alltypes');
  t.equal(toHex(x.encode(type, at.allTypesValue())), cBytes);
  const back = x.decode(type, Buffer.from(cBytes, 'hex'));
  t.ok(sameValue(back, at.allTypesValue()), 'decoded value equals V');
});

t.test('alltypes.x: every named type matches the hand-written codecs on random values', async (t) => {
  const s = await loadX(ALLTYPES);
  const hand: Record<string, x.XdrType<any>> = {
    color: at.color, name: at.name, blob: at.blob, fixbytes: at.fixbytes, intvec: at.intvec, point: at.point, inner: at.inner,
    node: at.node, nodeptr: at.nodeptr, choice: at.choice, colorinfo: at.colorinfo, maybe: at.maybe, alltypes: at.alltypes,
    bigresult: at.bigresult, credinfo: at.credinfo,
  };
  t.same([...s.types.keys()].sort(), Object.keys(hand).sort(), 'every type of the .x is loaded');
  const gen = randomValues(s.schema);
  const rng = new Rng(7);
  for (const [name, h] of Object.entries(hand)) {
    let bad = 0;
    for (let i = 0; i < 200; i++) {
      const v = gen(rng, name);
      const a = toHex(x.encode(s.type(name), v));
      if (a !== toHex(x.encode(h, v)) || !sameValue(x.decode(s.type(name), Buffer.from(a, 'hex')), v)) bad++;
    }
    t.equal(bad, 0, `${name}: 200 random values, same bytes, decode gives the value back`);
  }
});

t.test('alltypes.x: program descriptor', async (t) => {
  const s = await loadX(ALLTYPES);
  t.equal(s.programs.length, 1, 'one descriptor per program version');
  const p = s.programs[0]!;
  t.equal(p.name, 'ALLTYPES_PROG');
  t.equal(p.prog, 0x20406080);
  t.equal(p.version, 'ALLTYPES_VERS');
  t.equal(p.vers, 1);
  t.same(
    Object.values(p.procs).map((q) => [q.name, q.proc]),
    Object.entries(at.PROCS).map(([n, q]) => [q.name, Number(n)]),
  );
  t.equal(findProcedure(p, 'AT_ECHO'), p.procs['AT_ECHO']);
  t.equal(findProcedure(p, 1), p.procs['AT_ECHO']);
  t.equal(findProcedure(p, 'toString'), undefined, 'no inherited names');
  const echo = s.procedure(0x20406080, 1, 1)!;
  t.equal(echo.procedure.name, 'AT_ECHO');
  t.equal(toHex(x.encode(echo.procedure.types!.args, at.allTypesValue())), toHex(x.encode(at.alltypes, at.allTypesValue())));
  const w = new XdrWriter();
  echo.procedure.args[1](w, at.allTypesValue());
  t.equal(toHex(w.toBytes()), toHex(x.encode(at.alltypes, at.allTypesValue())), 'the [read, write] pair writes the same bytes');
  t.same(echo.procedure.args[0](new XdrReader(w.toBytes())), x.decode(at.alltypes, w.toBytes()), 'and reads them back');
  t.equal(s.procedure(0x20406080, 1, 0)!.procedure.types!.args, x.voidType);
  t.equal(s.procedure(0x20406080, 1, 4)!.procedure.types!.res.name, 'node *');
  t.equal(s.procedure(0x20406080, 2, 1), undefined);
  t.equal(s.procedure(0x20406080, 1, 11), undefined);
  t.equal(s.constants.get('MAXNAME'), 32n);
  t.throws(() => s.type('nope'), { code: 'ERR_SCHEMA', message: /no type named nope \(known: color, name/ });
});

t.test('linked lists: a tail self-reference, directly or through a typedef, is a loop (no depth limit)', async (t) => {
  const s = load(`
    typedef struct mountbody *mountlist;
    struct mountbody { int id; string host<>; mountlist next; };
    struct node { int v; node *next; };
    typedef node *nodeptr;
  `);
  for (const name of ['mountlist', 'nodeptr']) {
    const isMount = name === 'mountlist';
    let head: any = null;
    for (let i = 100000; i > 0; i--) head = isMount ? { id: i, host: 'h', next: head } : { v: i, next: head };
    const bytes = x.encode(s.type(name), head);
    t.equal(bytes.length, 100000 * (isMount ? 16 : 8) + 4, `${name}: 100000 nodes encoded`);
    const back = x.decode(s.type(name), bytes) as any;
    let n = 0;
    for (let p = back; p; p = p.next) n++;
    t.equal(n, 100000, `${name}: decoded without hitting maxDepth`);
  }
  // A struct type reached first through the typedef is the same struct codec.
  t.ok(s.type('mountbody') instanceof x.StructType);
});

t.test('language features: consts, numbers, inline types, unions on bool/unsigned/enum, -N arguments, quadruple', async (t) => {
  const s = load(`
    const N = 0x3;
    const M = 010;
    const NEG = -2;
    enum e { A = NEG, B = N, C };
    struct outer {
      struct { int a; } in1;
      enum { X = 1, Y = 2 } in2;
      union switch (bool b) { case TRUE: int yes; case FALSE: void; } in3;
      opaque fo[N];
      int fa[M];
    };
    union u switch (unsigned k) { case 0xffffffff: hyper big; case 0: void; default: e other; };
    union ue switch (e d) { case A: int a; case B: case C: void; };
    struct q { quadruple x; };
    program P { version V1 { int ADD(int, int) = 1; void PING(void) = 0; } = 2; } = 0x40000000;
  `);
  const outer = s.type('outer');
  const v = { in1: { a: 5 }, in2: 2, in3: { b: true, yes: 9 }, fo: new Uint8Array([1, 2, 3]), fa: [1, 2, 3, 4, 5, 6, 7, 8] };
  t.equal(toHex(x.encode(outer, v)), '00000005' + '00000002' + '00000001' + '00000009' + '01020300' + [1, 2, 3, 4, 5, 6, 7, 8].map((n) => n.toString(16).padStart(8, '0')).join(''));
  t.ok(sameValue(x.decode(outer, x.encode(outer, v)), v));
  const u = s.type('u');
  t.equal(toHex(x.encode(u, { k: 0xffffffff, big: -1n })), 'ffffffff' + 'ffffffffffffffff');
  t.equal(toHex(x.encode(u, { k: 7, other: 4 })), '0000000700000004', 'default arm; enum C = B + 1');
  t.equal(toHex(x.encode(s.type('ue'), { d: -2, a: 1 })), 'fffffffe00000001');
  t.throws(() => x.decode(s.type('ue'), Buffer.from('0000000500000001', 'hex')), { code: 'ERR_XDR_ENUM' });
  t.equal(x.encode(s.type('q'), { x: x.Quadruple.fromNumber(1) }).length, 16);
  const add = s.procedure(0x40000000, 2, 1)!.procedure.types!.args;
  t.equal(toHex(x.encode(add, [1, -1])), '00000001ffffffff', 'several arguments are written back to back');
  t.same(x.decode(add, Buffer.from('00000001ffffffff', 'hex')), [1, -1]);
  t.equal(s.procedure(0x40000000, 2, 0)!.procedure.types!.args, x.voidType);
});

t.test('fixtures/x/quadruple.x loads (rpcgen cannot build it; oncrpc can)', async (t) => {
  const s = await loadX(root + 'fixtures/x/quadruple.x');
  const q = x.Quadruple.fromNumber(-2.5);
  const b = x.encode(s.type('quadholder'), { q, qs: [q, q] });
  t.equal(b.length, 48);
});
