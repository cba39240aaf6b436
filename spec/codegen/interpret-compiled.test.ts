// The run-time loader's compiled codecs (loadSchema compiles a .x to specialised JavaScript with the
// emitter of `oncrpc gen`, evaluated by `new Function`) against its interpretive combinators, which the
// differential test holds to rpcgen's C byte for byte. For alltypes.x, the optionals golden and every
// corpus file, every named type: random values give the same bytes both ways and decode back; every
// mutant of those bytes is accepted by the compiled reader exactly when the combinators accept it (only
// XdrErrors thrown, equal values when both accept). Also: the interpretive path where code generation
// from strings is not allowed, the descriptors' pairs, and typed errors for values of the wrong shape.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compileFile, compileSource } from '../../src/codegen/compile.js';
import { loadSchema } from '../../src/codegen/interpret.js';
import { XdrError } from '../../src/errors.js';
import * as x from '../../src/xdr/index.js';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import { Rng, toHex } from '../_helpers/hex.js';
import { randomValues, sameValue } from './_helpers/random-values.js';

const root = new URL('../../', import.meta.url).pathname;
const corpusDir = join(root, 'fixtures/x/rpcsvc');
const files = [
  join(root, 'fixtures/x/alltypes.x'),
  join(root, 'spec/codegen/golden/optionals/input.x'),
  join(root, 'fixtures/x/quadruple.x'),
  ...readdirSync(corpusDir).filter((f) => f.endsWith('.x')).sort().map((f) => join(corpusDir, f)),
];
const VALUES = 40;

function encodeWith(write: (w: XdrWriter, v: unknown) => void, v: unknown): Uint8Array {
  const w = new XdrWriter();
  write(w, v);
  return w.toBytes();
}

function decodeWith(read: (r: XdrReader) => unknown, b: Uint8Array): { ok: true; value: unknown } | { ok: false; error: unknown } {
  try {
    const r = new XdrReader(b);
    const value = read(r);
    r.expectEnd();
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error };
  }
}

function mutate(rng: Rng, b: Uint8Array): Uint8Array {
  const out = b.slice();
  switch (rng.int(4)) {
    case 0:
      return b.slice(0, rng.int(b.length));
    case 1:
      if (out.length) out[rng.int(out.length)]! ^= 1 << rng.int(8);
      return out;
    case 2:
      if (out.length >= 4) new DataView(out.buffer).setUint32(rng.int(out.length >> 2) * 4, rng.pick([0, 1, 2, 0xffffffff, 0x80000000, rng.u32()]));
      return out;
    default: {
      const more = new Uint8Array(out.length + 4);
      more.set(out);
      return more;
    }
  }
}

t.test('compiled codecs agree with the combinators on every type of every .x (bytes, values, accept/reject)', async (t) => {
  for (const file of files) {
    const schema = compileFile(file);
    const fast = loadSchema(schema);
    const slow = loadSchema(schema, { compile: false });
    t.equal(fast.compiled, true, `${file}: compiled`);
    t.equal(slow.compiled, false);
    const gen = randomValues(schema);
    const rng = new Rng(2024);
    let values = 0;
    let mutants = 0;
    const bad: string[] = [];
    for (const name of schema.types.keys()) {
      const c = fast.codec(name);
      const i = slow.type(name);
      for (let k = 0; k < VALUES; k++) {
        const v = gen(rng, name);
        const bytes = encodeWith(i.write.bind(i), v);
        values++;
        if (toHex(encodeWith(c.write, v)) !== toHex(bytes)) bad.push(`${name}: compiled encode differs`);
        const back = decodeWith(c.read, bytes);
        if (!back.ok || !sameValue(back.value, v)) bad.push(`${name}: compiled decode differs`);
        const m = mutate(rng, bytes);
        const a = decodeWith(c.read, m);
        const b = decodeWith(i.read.bind(i), m);
        mutants++;
        if (a.ok !== b.ok) bad.push(`${name}: mutant ${toHex(m)} ${a.ok ? 'accepted' : 'rejected'} by the compiled codec, not by the combinators`);
        else if (!a.ok && !(a.error instanceof XdrError)) bad.push(`${name}: compiled reader threw ${String(a.error)}`);
        else if (a.ok && b.ok && !sameValue(a.value, b.value)) bad.push(`${name}: mutant decodes to different values`);
      }
    }
    t.same(bad, [], `${file.split('/').pop()}: ${schema.types.size} types, ${values} values, ${mutants} mutants`);
  }
});

t.test('descriptors: compiled [read, write] pairs, the combinators in `types`', async (t) => {
  const s = loadSchema(compileFile(join(root, 'fixtures/x/alltypes.x')));
  const echo = s.procedure(0x20406080, 1, 1)!.procedure;
  t.ok(echo.types!.args instanceof x.StructType, 'types: the combinator');
  t.not(echo.args[1], echo.types!.args.write, 'args: not the combinator');
  t.equal(echo.args, echo.args, 'compiled once (on first use), the same pair afterwards');
  t.ok(Object.isFrozen(echo.args) && Object.isFrozen(echo), 'frozen');
  const v = randomValues(s.schema)(new Rng(5), 'alltypes');
  const bytes = x.encode(echo.types!.args, v);
  t.equal(toHex(encodeWith(echo.args[1], v)), toHex(bytes), 'compiled write gives the same bytes');
  t.ok(sameValue(echo.args[0](new XdrReader(bytes)), v), 'compiled read gives the value');
  t.equal(s.codec('alltypes'), s.codec('alltypes'), 'codec(name) is made once');
  t.throws(() => s.codec('nope'), { code: 'ERR_SCHEMA' });
  const slow = loadSchema(s.schema, { compile: false });
  const bound = slow.codec('alltypes');
  t.equal(toHex(encodeWith(bound.write, v)), toHex(bytes), 'not compiled: the combinator, as a pair of functions');
});

t.test('values of the wrong shape: XdrEncodeError (ERR_XDR_VALUE) with a path, compiled or not', async (t) => {
  const s = loadSchema(
    compileSource(
      `struct p { int x; int y; };
       struct q { p at; p list<>; hyper big; };
       union u switch (int k) { case 1: p one; default: void; };
       program P { version V { int ADD(int, int) = 1; } = 1; } = 0x40000001;`,
      't.x',
    ),
  );
  for (const [name, v, path] of [
    ['p', null, ''],
    ['q', { at: 5, list: [], big: 1n }, 'at'],
    ['q', { at: { x: 1, y: 2 }, list: 'no', big: 1n }, 'list'],
    ['q', { at: { x: 1, y: 2 }, list: [null], big: 1n }, 'list[0]'],
    ['q', { at: { x: 1, y: 2 }, list: [], big: 1 }, 'big'],
    ['u', 'x', ''],
    ['u', { k: 1, one: undefined }, 'one'],
  ] as const) {
    for (const compile of [true, false]) {
      const c = loadSchema(s.schema, { compile }).codec(name);
      t.throws(() => encodeWith(c.write, v), { code: 'ERR_XDR_VALUE', path }, `${name} ${JSON.stringify(v, (_, w) => (typeof w === 'bigint' ? `${w}n` : w))} (${compile ? 'compiled' : 'combinators'})`);
    }
  }
  const add = s.procedure(0x40000001, 1, 1)!.procedure;
  t.throws(() => encodeWith(add.args[1], [1]), { code: 'ERR_XDR_VALUE', message: /a tuple of 2 values/ });
  t.throws(() => encodeWith(add.types!.args.write.bind(add.types!.args), [1]), { code: 'ERR_XDR_VALUE', message: /a tuple of 2 values/ });
});

t.test('where code generation from strings is not allowed, the loader uses the combinators', async (t) => {
  const script = `
    import { compileSource } from ${JSON.stringify(join(root, 'dist/codegen/compile.js'))};
    import { loadSchema } from ${JSON.stringify(join(root, 'dist/codegen/interpret.js'))};
    import { encode } from ${JSON.stringify(join(root, 'dist/xdr/index.js'))};
    const schema = compileSource('struct p { int x; string s<8>; };', 't.x');
    const s = loadSchema(schema);
    let forced = 'no error';
    try { loadSchema(schema, { compile: true }); } catch (e) { forced = e.code; }
    console.log(JSON.stringify({ compiled: s.compiled, bytes: Buffer.from(encode(s.codec('p'), { x: 1, s: 'ab' })).toString('hex'), forced }));
  `;
  const r = spawnSync(process.execPath, ['--disallow-code-generation-from-strings', '--input-type=module', '-e', script], { encoding: 'utf8' });
  t.equal(r.stderr, '');
  t.same(JSON.parse(r.stdout), { compiled: false, bytes: '00000001000000026162' + '0000', forced: 'ERR_SCHEMA' });
});
