// Run-time codecs: structs, unions (several labels, default, void arms), arrays, optional, linked lists, paths in errors.
import t from 'tap';
import * as x from '../../src/xdr/index.js';
import { hex, toHex } from '../_helpers/hex.js';

const color = x.enumeration('color', { RED: 0, GREEN: 1, BLUE: 2 });
const point = x.struct('point', [
  ['x', x.int],
  ['y', x.int],
]);
const shape = x.union('shape', {
  discriminant: ['kind', color],
  arms: [
    [[0], ['p', point]],
    [[1, 2], ['name', x.string(8)]],
  ],
});
const withDefault = x.union('u2', {
  discriminant: ['d', x.int],
  arms: [
    [[1], ['i', x.int]],
    [[2], null],
  ],
  default: ['raw', x.opaque(4)],
});
const boolUnion = x.union('maybe', { discriminant: ['present', x.bool], arms: [[[true], ['v', x.uhyper]], [[false], null]] });

type Node = { v: number; next: Node | null };
const node: x.StructType<Node> = x.struct<Node>('node', [
  ['v', x.int],
  ['next', x.optional(x.lazy('node', () => node))],
]);

t.test('struct and union layouts', async (t) => {
  t.equal(toHex(x.encode(point, { x: 1, y: -1 })), '00000001ffffffff');
  t.equal(toHex(x.encode(shape, { kind: 0, p: { x: 1, y: 2 } })), '000000000000000100000002');
  t.equal(toHex(x.encode(shape, { kind: 2, name: 'ab' })), '00000002000000026162' + '0000');
  t.same(x.decode(shape, hex('00000001 00000001 41000000')), { kind: 1, name: 'A' });
  t.same(x.decode(withDefault, hex('00000002')), { d: 2 }, 'void arm');
  t.same(x.decode(withDefault, hex('00000009 00000001 ff000000')), { d: 9, raw: hex('ff') }, 'default arm');
  t.same(x.decode(boolUnion, hex('00000001 0000000000000005')), { present: true, v: 5n });
  t.same(x.decode(boolUnion, hex('00000000')), { present: false });
  t.throws(() => x.decode(shape, hex('00000003')), { code: 'ERR_XDR_ENUM', path: 'kind' });
  const noDefault = x.union('nd', { discriminant: ['d', x.int], arms: [[[1], null]] });
  t.throws(() => x.decode(noDefault, hex('00000005')), { code: 'ERR_XDR_DISCRIMINANT', offset: 0 });
  t.throws(() => x.encode(noDefault, { d: 5 }), { code: 'ERR_XDR_VALUE', path: 'd' });
  t.throws(() => x.decode(point, hex('00000001 00000002 00000003')), { code: 'ERR_XDR_TRAILING' });
});

t.test('errors carry the field path', async (t) => {
  const entry = x.struct('entry', [
    ['id', x.uint],
    ['name', x.string(4)],
  ]);
  const dir = x.struct('dir', [['entries', x.array(entry, 10)]]);
  const bytes = x.encode(dir, { entries: [{ id: 1, name: 'a' }, { id: 2, name: 'b' }, { id: 3, name: 'c' }, { id: 4, name: 'd' }] });
  // Make entries[3].name too long.
  const bad = bytes.slice();
  bad[bad.length - 8 + 3] = 9;
  t.throws(() => x.decode(dir, bad), { code: 'ERR_XDR_BOUND', path: 'entries[3].name', message: /entries\[3\]\.name: string length 9/ });
  t.throws(() => x.encode(dir, { entries: [{ id: 1, name: 'toolong' }] }), { code: 'ERR_XDR_VALUE', path: 'entries[0].name' });
  t.throws(() => x.encode(dir, { entries: [{ id: -1, name: '' }] }), { code: 'ERR_XDR_VALUE', path: 'entries[0].id' });
});

t.test('arrays: fixed and variable, bounds', async (t) => {
  const fa = x.fixedArray(x.int, 3);
  t.equal(toHex(x.encode(fa, [1, 2, 3])), '000000010000000200000003');
  t.throws(() => x.encode(fa, [1, 2]), { code: 'ERR_XDR_VALUE' });
  const va = x.array(x.hyper, 2);
  t.same(x.decode(va, hex('00000002 0000000000000001 ffffffffffffffff')), [1n, -1n]);
  t.throws(() => x.decode(va, hex('00000003')), { code: 'ERR_XDR_BOUND' });
  t.throws(() => x.decode(x.array(x.hyper), hex('10000000 00000000')), { code: 'ERR_XDR_SHORT' }, 'count checked against bytes left before allocating');
  t.throws(() => x.decode(x.array(x.int), hex('00000002'), { maxArrayLength: 1 }), { code: 'ERR_XDR_BOUND' }, 'configured limit');
});

t.test('a linked list of 100k nodes decodes and encodes without recursion', async (t) => {
  const n = 100_000;
  const w = new x.XdrWriter();
  for (let i = 0; i < n; i++) {
    w.writeInt(i);
    w.writeBool(i < n - 1);
  }
  const bytes = w.toBytes();
  const list = x.decode(node, bytes);
  let count = 0;
  let sum = 0;
  for (let p: Node | null = list; p; p = p.next) {
    count++;
    sum += p.v;
  }
  t.equal(count, n);
  t.equal(sum, (n * (n - 1)) / 2);
  t.same(x.encode(node, list), bytes, 'encodes back to the same bytes');
  const bad = bytes.slice();
  bad[8 * 500 + 7] = 7; // the 500th "next" flag
  t.throws(() => x.decode(node, bad), { code: 'ERR_XDR_BOOL', path: 'next#500' });
});

t.test('non-tail recursion is bounded by maxDepth, not the stack', async (t) => {
  type Tree = { left: Tree | null; v: number };
  const tree: x.StructType<Tree> = x.struct<Tree>('tree', [
    ['left', x.optional(x.lazy('tree', () => tree))],
    ['v', x.int],
  ]);
  const depth = 50_000;
  const w = new x.XdrWriter();
  for (let i = 0; i < depth; i++) w.writeBool(true);
  w.writeBool(false);
  for (let i = 0; i <= depth; i++) w.writeInt(i);
  t.throws(() => x.decode(tree, w.toBytes()), { code: 'ERR_XDR_DEPTH' });
  t.same(x.decode(tree, hex('00000001 00000000 00000001 00000002')), { left: { left: null, v: 1 }, v: 2 });
  const cyclic: Tree = { left: null, v: 1 };
  cyclic.left = cyclic;
  t.throws(() => x.encode(tree, cyclic), { code: 'ERR_XDR_VALUE' }, 'cyclic value is an encode error');
});

t.test('void and optional', async (t) => {
  t.equal(x.encode(x.voidType, undefined).length, 0);
  const o = x.optional(x.string());
  t.equal(toHex(x.encode(o, null)), '00000000');
  t.equal(toHex(x.encode(o, 'a')), '000000010000000161000000');
  t.equal(x.decode(o, hex('00000000')), null);
});
