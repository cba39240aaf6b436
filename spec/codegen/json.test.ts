// The JSON mapping (docs/json-mapping.md): libtirpc's bytes of V print as fixtures/c/values.json's V,
// every row of the table round-trips, errors name the bad field.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { compileSource } from '../../src/codegen/compile.js';
import { loadSchema, loadX } from '../../src/codegen/interpret.js';
import { fromJson, toJson } from '../../src/xdr/json.js';
import { XdrEncodeError } from '../../src/errors.js';
import * as x from '../../src/xdr/index.js';
import { Rng, toHex } from '../_helpers/hex.js';
import { VALUES } from '../interop/alltypes.js';
import { randomValues } from './_helpers/random-values.js';

const root = new URL('../../', import.meta.url).pathname;
const load = (src: string) => loadSchema(compileSource(src, 'test.x'));

/** values.json's V without the documentation-only keys (*_bits, *_hex). */
function plain(v: any): any {
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !/_(bits|hex)$/.test(k)).map(([k, w]) => [k, plain(w)]));
  return v;
}

t.test('libtirpc bytes of V print as values.json V; V parses back to the same bytes', async (t) => {
  const s = await loadX(root + 'fixtures/x/alltypes.x');
  const type = s.type('alltypes');
  const hex = readFileSync(root + 'fixtures/c/alltypes-value.xdr.hex', 'utf8').replace(/\s+/g, '');
  const json = toJson(type, x.decode(type, Buffer.from(hex, 'hex')));
  t.same(json, plain(VALUES.V));
  t.equal(JSON.stringify(json), JSON.stringify(plain(VALUES.V)), 'same key order too');
  t.equal(toHex(x.encode(type, fromJson(type, plain(VALUES.V)))), hex);
});

t.test('random values of every alltypes type survive toJson -> JSON text -> fromJson', async (t) => {
  const s = await loadX(root + 'fixtures/x/alltypes.x');
  const gen = randomValues(s.schema);
  const rng = new Rng(11);
  for (const [name, type] of s.types) {
    let bad = 0;
    for (let i = 0; i < 200; i++) {
      const v = gen(rng, name);
      const text = JSON.stringify(toJson(type, v));
      if (toHex(x.encode(type, fromJson(type, JSON.parse(text)))) !== toHex(x.encode(type, v))) bad++;
    }
    t.equal(bad, 0, name);
  }
});

t.test('each row of the mapping', async (t) => {
  const s = load(`
    enum e { A = 1, B = -1, A2 = 1 };
    struct all {
      int i; unsigned u; hyper h; unsigned hyper uh; float f; double d; quadruple q; bool b; e en;
      opaque fo[3]; opaque vo<>; string s<>; int fa[2]; int va<>; int *opt;
    };
    union un switch (e d) { case A: int a; case B: void; };
    union ub switch (bool ok) { case TRUE: string msg<>; default: void; };
    program P { version V { void TWO(int, string) = 1; } = 1; } = 0x40000001;
  `);
  const all = s.type('all');
  const v = {
    i: -5, u: 4294967295, h: -(2n ** 63n), uh: 2n ** 64n - 1n, f: Math.fround(0.1), d: -0, q: x.Quadruple.fromNumber(1),
    b: true, en: 1, fo: new Uint8Array([0xde, 0xad, 0xbe]), vo: new Uint8Array(), s: 'a\udcffb€', fa: [1, 2], va: [], opt: null,
  };
  const j = toJson(all, v);
  t.same(j, {
    i: -5, u: 4294967295, h: '-9223372036854775808', uh: '18446744073709551615', f: 0.10000000149011612, d: '-0',
    q: '3fff0000000000000000000000000000', b: true, en: 'A', fo: 'deadbe', vo: '', s: 'a\udcffb€', fa: [1, 2], va: [], opt: null,
  });
  t.match(JSON.stringify(j), /"s":"a\\udcffb€"/, 'a raw byte prints as a \\udcXX escape');
  t.equal(toHex(x.encode(all, fromJson(all, j))), toHex(x.encode(all, v)));
  t.equal(toHex(x.encode(s.type('all'), fromJson(all, { ...(j as object), s: 'a\udcffb€' }))).includes('61ff62e282ac'), true, 'the escape stands for byte ff');
  for (const [f, want] of [[NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity'], [-0, '-0'], [1.5, 1.5]] as const) {
    t.equal(toJson(x.double, f), want);
    t.ok(Object.is(fromJson(x.double, want), f));
  }
  t.equal(fromJson(x.hyper, 42), 42n, 'safe-integer numbers accepted for hypers');
  t.equal(fromJson(s.type('e'), -1), -1, 'enum by number');
  t.equal(toJson(s.type('e'), 1), 'A', 'aliases print as the first name');
  t.equal((fromJson(x.quadruple, 1) as x.Quadruple).bytes[0], 0x3f, 'quadruple from a number');
  t.same(toJson(s.type('un'), { d: 1, a: 3 }), { d: 'A', a: 3 });
  t.same(toJson(s.type('un'), { d: -1 }), { d: 'B' });
  t.same(toJson(s.type('ub'), { ok: false }), { ok: false });
  t.same(fromJson(s.type('ub'), { ok: true, msg: 'hi' }), { ok: true, msg: 'hi' });
  const two = s.procedure(0x40000001, 1, 1)!.procedure.types!.args;
  t.same(toJson(two, [1, 'x']), [1, 'x'], 'several arguments as an array');
  t.equal(toJson(x.voidType, undefined), null);
});

t.test('bad JSON: XdrEncodeError with the path of the field', async (t) => {
  const s = await loadX(root + 'fixtures/x/alltypes.x');
  const type = s.type('alltypes');
  const V = plain(VALUES.V);
  const bad = (patch: (v: any) => void, message: RegExp, path?: string) => {
    const v = structuredClone(V);
    patch(v);
    try {
      x.encode(type, fromJson(type, v));
      t.fail(`accepted: ${message}`);
    } catch (e) {
      t.ok(e instanceof XdrEncodeError, 'XdrEncodeError');
      t.match((e as Error).message, message);
      if (path !== undefined) t.equal((e as XdrEncodeError).path, path);
    }
  };
  bad((v) => (v.list.next.next.tag = 42), /42 is not a string/, 'list.next#2.tag');
  bad((v) => (v.e = 'PURPLE'), /"PURPLE" is not a member of the enum \(RED, GREEN, BLUE, WHITE, BLACK\)/, 'e');
  bad((v) => (v.h = '12.5'), /is not a hyper/, 'h');
  bad((v) => (v.uh = '-1'), /out of range/, 'uh');
  bad((v) => (v.i = 2 ** 31), /is not an int/, 'i');
  bad((v) => (v.fo = 'abc'), /hex digit pairs/, 'fo');
  bad((v) => (v.fo = 'abcd'), /fixed opaque needs 5 bytes, got 2/, 'fo');
  bad((v) => (v.vpa[1].z = 1), /unexpected field "z"/, 'vpa[1]');
  bad((v) => delete v.nested.label, /missing field "label"/, 'nested');
  bad((v) => (v.c2 = { kind: 5, where: { x: 1, y: 2 } }), /unexpected field "where"/, 'c2');
  bad((v) => (v.ci = { c: 'WHITE' }), /selects no arm of union colorinfo/, 'ci.c');
  bad((v) => (v.m = { present: 1 }), /is not a bool/, 'm.present');
  bad((v) => (v.bs = 'x'.repeat(33)), /exceeds maximum 32/, 'bs');
  bad((v) => (v.fa = [1, 2]), /needs exactly 3 elements/, 'fa');
  bad((v) => (v.us = '\ud800'), /lone surrogate/, 'us');
  bad((v) => (v.f = 'fast'), /not a number/, 'f');
});

t.test('a linked list of 200000 nodes: toJson and fromJson need no stack', async (t) => {
  const s = await loadX(root + 'fixtures/x/alltypes.x');
  const type = s.type('nodeptr');
  let head: any = null;
  for (let i = 200000; i > 0; i--) head = { value: i, tag: 't', next: head };
  const j = toJson(type, head) as any;
  t.equal(j.next.next.value, 3);
  const back = fromJson(type, j);
  t.equal(toHex(x.encode(type, back)), toHex(x.encode(type, head)));
});

t.test('hand-made combinators describe themselves: arrays, opaque, strings, tuples map without loadSchema', async (t) => {
  const xdr = x;
  const to = toJson;
  const from = fromJson;
  const arr = xdr.array(xdr.uhyper, 4);
  t.same(to(arr, [1n, 2n]), ['1', '2']);
  t.same(from(arr, ['3']), [3n]);
  t.same(to(xdr.fixedArray(xdr.opaque(), 2), [Uint8Array.of(1), Uint8Array.of()]), ['01', '']);
  t.same(to(xdr.tuple([xdr.string(8), xdr.bool]), ['a', true]), ['a', true]);
  t.same(from(xdr.fixedOpaque(2), 'abcd'), Uint8Array.of(0xab, 0xcd));
});
