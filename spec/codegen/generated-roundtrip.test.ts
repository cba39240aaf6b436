// Generated codecs against libtirpc: fixtures/x/alltypes.x generated, imported, and run on the value of
// fixtures/c/values.json — bytes equal to libtirpc's (fixtures/c/alltypes-value.xdr.hex), decoded back
// equal; then the error paths: typed errors with the field path.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileFile } from '../../src/codegen/compile.js';
import { generateTypeScript, outputPath } from '../../src/codegen/generate.js';
import { hex, toHex } from '../_helpers/hex.js';
import { allTypesValue } from '../interop/alltypes.js';

const root = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(root, '.gen-test-rt-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const input = join(root, 'fixtures/x/alltypes.x');
const file = outputPath(input, dir);
writeFileSync(file, generateTypeScript(compileFile(input)));
const g = (await import(pathToFileURL(file).href)) as Record<string, any>;
// The generated module imports 'oncrpc' (dist/), so the reader/writer come from there too; errors are
// matched on `code` and class name (src/ and dist/ are two copies of the classes).

const want = readFileSync(join(root, 'fixtures/c/alltypes-value.xdr.hex'), 'utf8').replace(/\s+/g, '');

t.test('encode: byte-identical to libtirpc', async (t) => {
  const { XdrWriter: W } = await import('oncrpc');
  const w = new W();
  g.writeAlltypes(w, allTypesValue());
  t.equal(toHex(w.finish()), want);
});

t.test('decode: libtirpc bytes back to the value', async (t) => {
  const { XdrReader: R } = await import('oncrpc');
  const r = new R(hex(want));
  const v = g.readAlltypes(r);
  r.expectEnd();
  t.same(v, allTypesValue());
  t.strictSame(v, allTypesValue());
});

t.test('the descriptor and every procedure codec', async (t) => {
  const d = g.ALLTYPES_VERS_1;
  t.equal(d.prog, 0x20406080);
  t.equal(d.vers, 1);
  t.equal(d.procs.AT_ECHO.proc, 1);
  const { XdrReader: R, XdrWriter: W } = await import('oncrpc');
  const cases: Array<[string, 'args' | 'res', unknown]> = [
    ['AT_NULL', 'args', undefined],
    ['AT_ECHO', 'res', allTypesValue()],
    ['AT_GETCHOICE', 'args', -5],
    ['AT_MKLIST', 'res', { value: 1, tag: 'a', next: { value: 2, tag: 'b', next: null } }],
    ['AT_MKLIST', 'res', null],
    ['AT_NEGATE', 'res', true],
    ['AT_SUM', 'res', -(2n ** 63n)],
    ['AT_GETCOLOR', 'res', { c: 0, level: 7 }],
  ];
  for (const [proc, which, v] of cases) {
    const [read, write] = d.procs[proc][which];
    const w = new W();
    write(w, v);
    const r = new R(w.toBytes());
    t.same(read(r), v, `${proc} ${which}`);
    r.expectEnd();
  }
});

/** Runs `f`, returns what it threw. */
function thrown(f: () => unknown): any {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}

t.test('encode errors: XdrEncodeError ERR_XDR_VALUE with the field path', async (t) => {
  const { XdrWriter: W } = await import('oncrpc');
  const enc = (mut: (v: any) => void): any => {
    const v = allTypesValue();
    mut(v);
    return thrown(() => g.writeAlltypes(new W(), v));
  };
  const cases: Array<[string, (v: any) => void, string, RegExp]> = [
    ['bad enum', (v) => (v.e = 3), 'e', /3 is not a value of enum color/],
    ['bad enum in nested struct', (v) => (v.nested.shade = 7), 'nested.shade', /enum color/],
    ['int out of range', (v) => (v.i = 2 ** 31), 'i', /not an int/],
    ['uint negative', (v) => (v.u = -1), 'u', /not an unsigned int/],
    ['hyper as number', (v) => (v.h = 1), 'h', /not a hyper/],
    ['uhyper too big', (v) => (v.uh = 2n ** 64n), 'uh', /not an unsigned hyper/],
    ['bool not boolean', (v) => (v.b = 1), 'b', /not a bool/],
    ['string bound', (v) => (v.bs = 'x'.repeat(33)), 'bs', /exceeds maximum 32/],
    ['opaque bound', (v) => (v.vo = new Uint8Array(9)), 'vo', /exceeds maximum 8/],
    ['fixed opaque size', (v) => (v.fo = new Uint8Array(4)), 'fo', /needs 5 bytes/],
    ['array bound', (v) => (v.va = [1, 2, 3, 4, 5, 6, 7, 8, 9]), 'va', /exceeds maximum 8/],
    ['fixed array length', (v) => (v.fa = [1, 2]), 'fa', /needs 3 elements/],
    ['element of array', (v) => (v.vpa[2].y = 0.5), 'vpa[2].y', /not an int/],
    ['element of fixed array in a run', (v) => (v.nested.corners[1].x = 'no'), 'nested.corners[1].x', /not an int/],
    ['union arm', (v) => (v.c1 = { kind: 2, number: 1.5 }), 'c1.number', /not an int/],
    ['union default arm discriminant', (v) => (v.c4 = { kind: 1.5, text: 'x' }), 'c4.kind', /not an int/],
    ['enum union: no arm', (v) => (v.ci = { c: 16 }), 'ci.c', /16 selects no arm of union colorinfo/],
    ['linked list node', (v) => (v.list.next.next.tag = 'x'.repeat(17)), 'list.next#2.tag', /exceeds maximum 16/],
    ['optional int', (v) => (v.absent = 2 ** 40), 'absent', /not an int/],
  ];
  for (const [what, mut, path, msg] of cases) {
    const e = enc(mut);
    t.equal(e?.name, 'XdrEncodeError', `${what}: class`);
    t.equal(e?.code, 'ERR_XDR_VALUE', `${what}: code`);
    t.equal(e?.path, path, `${what}: path`);
    t.match(e?.message, msg, `${what}: message`);
  }
});

t.test('decode errors: XdrDecodeError with code, path and offset', async (t) => {
  const { XdrReader: R, XdrWriter: W } = await import('oncrpc');
  const bytes = hex(want);
  const dec = (b: Uint8Array, read = g.readAlltypes): any => thrown(() => read(new R(b)));
  // Byte offsets of fields in the reference value: i u e b … (e at 8, b at 12).
  const patched = (at: number, word: number): Uint8Array => {
    const b = bytes.slice();
    new DataView(b.buffer).setInt32(at, word);
    return b;
  };
  let e = dec(patched(8, 3));
  t.match(e, { name: 'XdrDecodeError', code: 'ERR_XDR_ENUM', path: 'e', offset: 8 }, 'bad enum in a run');
  e = dec(patched(12, 2));
  t.match(e, { code: 'ERR_XDR_BOOL', path: 'b', offset: 12 }, 'bad bool in a run');
  e = dec(bytes.subarray(0, bytes.length - 3));
  t.match(e, { code: 'ERR_XDR_SHORT' }, 'truncated');
  for (let cut = 0; cut < bytes.length; cut += 7) {
    e = dec(bytes.subarray(0, cut));
    if (e?.code !== 'ERR_XDR_SHORT') t.fail(`cut at ${cut}: ${e?.code} ${e?.message}`);
  }
  // Field paths through unions, arrays and lists, built with the generated writer.
  const w = new W();
  g.writeNode(w, { value: 1, tag: 'a', next: { value: 2, tag: 'b', next: { value: 3, tag: 'c', next: null } } });
  const list = w.toBytes();
  e = dec(list.subarray(0, list.length - 6), g.readNode);
  t.match(e, { code: 'ERR_XDR_SHORT', path: 'next#2.tag' }, 'linked list node path');
  // colorinfo: WHITE (16) is an enum value with no arm; 7 is not an enum value.
  e = dec(hex('00000010'), g.readColorinfo);
  t.match(e, { code: 'ERR_XDR_DISCRIMINANT', path: 'c', offset: 0 }, 'no arm');
  e = dec(hex('00000007'), g.readColorinfo);
  t.match(e, { code: 'ERR_XDR_ENUM', path: 'c', offset: 0 }, 'not an enum value');
  // string bound on decode: label of nested (name<32>) given 33 bytes.
  const w2 = new W();
  w2.writeString('x'.repeat(33));
  e = dec(w2.toBytes(), g.readName);
  t.match(e, { code: 'ERR_XDR_BOUND' }, 'typedef string bound');
  // array element path: vpa is point<>; a short second element.
  const w3 = new W();
  w3.writeUint(2);
  w3.writeInt(1);
  w3.writeInt(2);
  w3.writeInt(3);
  e = dec(w3.toBytes(), (r: any) => g.readInner(r));
  t.match(e, { code: 'ERR_XDR_SHORT' }, 'inner truncated');
  // bool discriminant with value 2.
  e = dec(hex('00000002'), g.readMaybe);
  t.match(e, { code: 'ERR_XDR_BOOL', path: 'present' }, 'bool discriminant');
});

t.test('depth: a recursive type fails with ERR_XDR_DEPTH, not a stack overflow', async (t) => {
  const src = 'struct tree { tree *l; int v; };';
  const { compileSource } = await import('../../src/codegen/compile.js');
  const f = join(dir, 'tree.gen.ts');
  writeFileSync(f, generateTypeScript(compileSource(src, 'tree.x')));
  const m = (await import(pathToFileURL(f).href)) as Record<string, any>;
  const { XdrReader: R, XdrWriter: W } = await import('oncrpc');
  const b = new Uint8Array(4 * 5000);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < 5000; i++) dv.setUint32(i * 4, 1);
  const e = thrown(() => m.readTree(new R(b)));
  t.equal(e?.code, 'ERR_XDR_DEPTH');
  const cyclic: any = { l: null, v: 1 };
  cyclic.l = cyclic;
  const e2 = thrown(() => m.writeTree(new W(), cyclic));
  t.equal(e2?.code, 'ERR_XDR_VALUE');
  t.match(e2?.message, /deeper than/);
  const ok: any = { l: { l: null, v: 2 }, v: 1 };
  const w = new W();
  m.writeTree(w, ok);
  t.same(m.readTree(new R(w.toBytes())), ok);
});
