// Optional-data of typedef'd types and optionals of optionals (spec/codegen/golden/optionals/input.x):
// the byte strings that used to be lost or crash the compiler round-trip byte-exact through the run-time
// loader, the JSON mapping, the generated codecs and (when rpcgen and cc are installed) rpcgen's C; the
// boxed representation `{ value: … }` is the same in all of them; a present value that is not boxed is
// an error everywhere, never a silent guess.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileFile } from '../../src/codegen/compile.js';
import { Model } from '../../src/codegen/emit-model.js';
import { generateTypeScript } from '../../src/codegen/generate.js';
import { loadSchema } from '../../src/codegen/interpret.js';
import { fromJson, toJson } from '../../src/xdr/json.js';
import * as x from '../../src/xdr/index.js';
import { requirePeer } from '../_helpers/peers.js';
import { hex, Rng, toHex } from '../_helpers/hex.js';
import { buildHarness, runHarness } from './_helpers/c-harness.js';
import { randomValues, sameValue } from './_helpers/random-values.js';

const root = new URL('../../', import.meta.url).pathname;
const input = join(root, 'spec/codegen/golden/optionals/input.x');
const schema = compileFile(input);
const loaded = loadSchema(schema);

// The generated module, inside the repository so `from 'oncrpc/runtime'` resolves to this package (dist/).
const genDir = mkdtempSync(join(root, '.gen-test-opt-'));
t.teardown(() => rmSync(genDir, { recursive: true, force: true }));
const genFile = join(genDir, 'optionals.gen.ts');
writeFileSync(genFile, generateTypeScript(schema));
const g = (await import(pathToFileURL(genFile).href)) as Record<string, any>;
const rt = await import('oncrpc');

const w32 = (...words: number[]): string => words.map((n) => (n >>> 0).toString(16).padStart(8, '0')).join('');
const node = (v: number, next: unknown = null) => ({ v, next });

/** [type, bytes, JS value, JSON text]: the JS value is what the loader and generated code decode to. */
const CASES: Array<[string, string, unknown, string]> = [
  // The reported optional of an optional: absent, present holding absent, present holding a node.
  ['S2', w32(0), { p: null }, '{"p":null}'],
  ['S2', w32(1, 0), { p: { value: null } }, '{"p":{"value":null}}'],
  ['S2', w32(1, 1, 7, 0), { p: { value: node(7) } }, '{"p":{"value":{"v":7,"next":null}}}'],
  ['S2', w32(1, 1, 7, 1, 8, 0), { p: { value: node(7, node(8)) } }, '{"p":{"value":{"v":7,"next":{"v":8,"next":null}}}}'],
  // The reported optional of a typedef'd fixed array.
  ['S', w32(0), { head: null }, '{"head":null}'],
  ['S', w32(1, 1, 2, 0xffffffff), { head: [1, 2, -1] }, '{"head":[1,2,-1]}'],
  // Typedefs of optionals, one to three levels.
  ['nodeptr', w32(0), null, 'null'],
  ['nodeptr', w32(1, 5, 0), node(5), '{"v":5,"next":null}'],
  ['nodeptr2', w32(0), null, 'null'],
  ['nodeptr2', w32(1, 0), { value: null }, '{"value":null}'],
  ['nodeptr2', w32(1, 1, 5, 0), { value: node(5) }, '{"value":{"v":5,"next":null}}'],
  ['nodeptr3', w32(1, 0), { value: null }, '{"value":null}'],
  ['nodeptr3', w32(1, 1, 0), { value: { value: null } }, '{"value":{"value":null}}'],
  ['nodeptr3', w32(1, 1, 1, 9, 0), { value: { value: node(9) } }, '{"value":{"value":{"v":9,"next":null}}}'],
  ['ints3ptr', w32(1, 4, 5, 6), [4, 5, 6], '[4,5,6]'],
  // Union arms.
  ['optu', w32(1, 0), { k: 1, a: null }, '{"k":1,"a":null}'],
  ['optu', w32(1, 1, 1, 2, 3), { k: 1, a: [1, 2, 3] }, '{"k":1,"a":[1,2,3]}'],
  ['optu', w32(2, 1, 0), { k: 2, p: { value: null } }, '{"k":2,"p":{"value":null}}'],
  ['optu', w32(3, 1, 1, 0), { k: 3, pp: { value: { value: null } } }, '{"k":3,"pp":{"value":{"value":null}}}'],
  ['optu', w32(9), { k: 9 }, '{"k":9}'],
];

/** Every field of `opts` present, so each kind of optional is exercised at once. */
const OPTS_ALL = {
  a: [1, 2, 3],
  b: [7],
  c: 'hi',
  d: Uint8Array.from([0xde, 0xad]),
  e: Uint8Array.from([1, 2, 3, 4]),
  f: [-1n, 2n ** 63n - 1n],
  g: ['x', ''],
  h: 2,
  i: 0,
  j: { kind: 1, at: { x: 1, y: -1 } },
  k: { kind: 2 },
  l: [{ x: 1, y: 2 }, { x: 3, y: 4 }],
  p: { value: null },
  pp: { value: { value: node(1) } },
  q: { value: [7, 8, 9] },
  last: [0, 0, 0],
};
const OPTS_ALL_HEX =
  w32(1, 1, 2, 3) + // a
  w32(1, 1, 7) + // b
  w32(1, 2) + '68690000' + // c
  w32(1, 2) + 'dead0000' + // d
  w32(1) + '01020304' + // e
  w32(1, 0xffffffff, 0xffffffff, 0x7fffffff, 0xffffffff) + // f
  w32(1, 1) + '78000000' + w32(0) + // g
  w32(1, 2) + // h
  w32(1, 0) + // i
  w32(1, 1, 1, 0xffffffff) + // j
  w32(1, 2) + // k
  w32(1, 1, 2, 3, 4) + // l
  w32(1, 0) + // p
  w32(1, 1, 1, 1, 0) + // pp
  w32(1, 1, 7, 8, 9) + // q
  w32(1, 0, 0, 0); // last
CASES.push(['opts', OPTS_ALL_HEX, OPTS_ALL, JSON.stringify(toJson(loaded.type('opts'), OPTS_ALL))]);
const OPTS_NONE = Object.fromEntries(Object.keys(OPTS_ALL).map((k) => [k, null]));
CASES.push(['opts', w32(...Object.keys(OPTS_ALL).map(() => 0)), OPTS_NONE, JSON.stringify(OPTS_NONE)]);

const model = new Model(schema);
/** The generated read<Name>/write<Name> of a type (names as Model gives them). */
const gen = (type: string): { read: (r: unknown) => unknown; write: (w: unknown, v: unknown) => void } => {
  const info = model.lookup(type)!;
  return { read: g[info.read], write: g[info.write] };
};

t.test('every byte string round-trips byte-exact through the loader, JSON and generated code', async (t) => {
  for (const [name, h, value, json] of CASES) {
    const type = loaded.type(name);
    const bytes = hex(h);
    const what = `${name} ${h}`;
    // loader
    const v = x.decode(type, bytes);
    t.strictSame(v, value, `${what}: the loader decodes to the documented value`);
    t.equal(toHex(x.encode(type, v)), h, `${what}: the loader re-encodes the same bytes`);
    // JSON (through the text, as the CLI does)
    const j = toJson(type, v);
    t.equal(JSON.stringify(j), json, `${what}: JSON`);
    t.equal(toHex(x.encode(type, fromJson(type, JSON.parse(json)))), h, `${what}: JSON back to the same bytes`);
    // generated code
    const c = gen(name);
    const r = new rt.XdrReader(bytes);
    const gv = c.read(r);
    r.expectEnd();
    t.strictSame(gv, value, `${what}: the generated reader decodes to the same value`);
    const w = new rt.XdrWriter();
    c.write(w, gv);
    t.equal(toHex(w.toBytes()), h, `${what}: the generated writer gives the same bytes`);
  }
});

t.test('rpcgen C decodes and re-encodes the same byte strings', async (t) => {
  if (!requirePeer(t, 'rpcgen') || !requirePeer(t, 'cc')) return;
  const dir = mkdtempSync(join(tmpdir(), 'oncrpc-opt-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'optionals.x'), readFileSync(input, 'utf8'));
  const names = [...new Set(CASES.map(([n]) => n))];
  const { bin, types } = buildHarness(dir, 'optionals', (routines) => names.filter((n) => routines.has(n)));
  t.same(types, names, 'rpcgen emits an xdr_ routine for every type');
  for (const name of names) {
    const hexes = CASES.filter(([n]) => n === name).map(([, h]) => h);
    t.same(runHarness(bin, name, hexes), hexes, `${name}: C gives back every byte string unchanged`);
  }
});

t.test('generated types: boxed only where the pointed-to type is itself optional-data', async (t) => {
  const text = readFileSync(genFile, 'utf8');
  t.match(text, 'export type nodeptr = node | null;', 'a single optional is T | null');
  t.match(text, 'export type nodeptr2 = { value: nodeptr } | null;', 'an optional of an optional is boxed');
  t.match(text, 'export type nodeptr3 = { value: nodeptr2 } | null;');
  t.match(text, 'export type ints3ptr = ints3 | null;');
  t.match(text, /p: \{ value: nodeptr \} \| null;/);
  t.match(text, /head: ints3 \| null;/);
  t.match(text, /a: ints3 \| null;/);
});

t.test('a present value that is not { value: … } is an error in the loader, JSON and generated code', async (t) => {
  const type = loaded.type('S2');
  const unboxed = { p: node(7) }; // the node itself, forgotten box
  t.throws(() => x.encode(type, unboxed as never), { code: 'ERR_XDR_VALUE', path: 'p', message: /is not \{ value: … \}/ }, 'loader');
  t.throws(() => toJson(type, unboxed), { code: 'ERR_XDR_VALUE', path: 'p' }, 'toJson');
  t.throws(() => fromJson(type, { p: { v: 7, next: null } }), { code: 'ERR_XDR_VALUE', path: 'p', message: /is not \{ value: … \}/ }, 'fromJson');
  t.throws(() => fromJson(type, { p: { value: null, v: 7 } }), { code: 'ERR_XDR_VALUE', path: 'p', message: /unexpected field "v"/ }, 'fromJson: only "value"');
  t.throws(() => fromJson(type, { p: { value: { v: 'x', next: null } } }), { code: 'ERR_XDR_VALUE', path: 'p.value.v' }, 'fromJson: path into the box');
  t.throws(() => x.encode(type, { p: 5 } as never), { code: 'ERR_XDR_VALUE', path: 'p' }, 'loader: not an object');
  let e: any;
  try {
    g.writeS2(new rt.XdrWriter(), unboxed);
  } catch (err) {
    e = err;
  }
  t.match(e, { name: 'XdrEncodeError', code: 'ERR_XDR_VALUE', path: 'p', message: /is not \{ value: … \}/ }, 'generated writer');
  // a single optional is never boxed: { value } there is just a (wrong) node
  t.throws(() => x.encode(loaded.type('nodeptr'), { value: node(1) } as never), { code: 'ERR_XDR_VALUE' });
});

t.test('combinators: optional(optional(T)) boxes, optional(T) does not, lazy is looked through', async (t) => {
  const single = x.optional(x.int);
  const double = x.optional(x.optional(x.int));
  t.equal(single.boxed, false);
  t.equal(double.boxed, true);
  t.same(x.decode(single, hex(w32(1, 5))), 5);
  t.same(x.decode(double, hex(w32(1, 0))), { value: null });
  t.same(x.decode(double, hex(w32(1, 1, 5))), { value: 5 });
  t.equal(x.decode(double, hex(w32(0))), null);
  const v: { value: number | null } | null = x.decode(double, hex(w32(1, 1, 5))); // Optional<T> types it so
  t.same(v, { value: 5 });
  // A lazy reference to an optional (built later) is looked through when first used, not at construction.
  let target: x.XdrType<number | null> | undefined;
  const viaLazy = x.optional(x.lazy('later', () => target!));
  target = x.optional(x.int);
  t.equal(viaLazy.boxed, true);
  t.equal(toHex(x.encode(viaLazy, { value: null })), w32(1, 0));
  t.same(toJson(double, { value: null }), { value: null });
  t.same(fromJson(double, { value: 3 }), { value: 3 });
});

t.test('random values of every type: loader, JSON text and generated code agree byte for byte', async (t) => {
  const values = randomValues(schema);
  const rng = new Rng(0x0b7);
  for (const name of loaded.types.keys()) {
    const type = loaded.type(name);
    const c = gen(name);
    const bad: string[] = [];
    for (let i = 0; i < 100; i++) {
      const v = values(rng, name);
      const h = toHex(x.encode(type, v));
      const back = fromJson(type, JSON.parse(JSON.stringify(toJson(type, v))));
      if (toHex(x.encode(type, back)) !== h) bad.push(`value ${i}: JSON changes the bytes`);
      const w = new rt.XdrWriter();
      c.write(w, v);
      if (toHex(w.toBytes()) !== h) bad.push(`value ${i}: generated writer differs`);
      const r = new rt.XdrReader(hex(h));
      if (!sameValue(c.read(r), x.decode(type, hex(h)))) bad.push(`value ${i}: generated reader differs from the loader`);
    }
    t.same(bad.slice(0, 3), [], `${name}: 100 values`);
  }
});
