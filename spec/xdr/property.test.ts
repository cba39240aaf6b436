// Property tests: random values of random types round-trip; random and mutated bytes only raise XdrError.
import t from 'tap';
import { isDeepStrictEqual } from 'node:util';
import * as x from '../../src/xdr/index.js';
import { XdrError } from '../../src/errors.js';
import { Rng } from '../_helpers/hex.js';
import { footprint, randomType } from '../_helpers/random-xdr.js';

const CASES = Number(process.env.FUZZ_CASES ?? 100_000);

t.test('random values of every type round-trip exactly', async (t) => {
  const rng = new Rng(1234);
  let n = 0;
  for (let s = 0; s < 400; s++) {
    const g = randomType(rng, 3);
    for (let i = 0; i < 25; i++) {
      const v = g.value(rng);
      const bytes = x.encode(g.type, v);
      const back = x.decode(g.type, bytes);
      if (!isDeepStrictEqual(back, v)) {
        t.fail(`type ${g.type.name}: decoded value differs from the encoded one`);
        return;
      }
      const again = x.encode(g.type, back);
      if (Buffer.compare(Buffer.from(bytes), Buffer.from(again)) !== 0) {
        t.fail(`type ${g.type.name}: re-encoding changed the bytes`);
        return;
      }
      n++;
    }
  }
  t.equal(n, 10000, 'values checked');
});

t.test(`${CASES} random and mutated inputs only ever raise XdrError`, async (t) => {
  const rng = new Rng(99);
  const gens = Array.from({ length: 200 }, () => randomType(rng, 3));
  const kinds = { ok: 0, xdrError: 0 };
  const started = Date.now();
  for (let i = 0; i < CASES; i++) {
    const g = gens[i % gens.length]!;
    let bytes: Uint8Array;
    const mode = rng.int(5);
    if (mode === 0) bytes = rng.bytes(rng.int(64));
    else {
      bytes = x.encode(g.type, g.value(rng)).slice();
      if (mode === 1 && bytes.length) bytes = bytes.subarray(0, rng.int(bytes.length)); // truncate
      else if (mode === 2) for (let k = 1 + rng.int(3); k > 0 && bytes.length; k--) bytes[rng.int(bytes.length)] = rng.u32() & 0xff;
      else if (mode === 3 && bytes.length >= 4) {
        // Plant a huge or boundary length/count word at a 4-aligned offset.
        const at = rng.int(bytes.length >> 2) << 2;
        new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, rng.pick([0xffffffff, 0x7fffffff, 0x80000000, 0x10000, 65, 2]));
      } else if (mode === 4) {
        const extra = rng.bytes(1 + rng.int(8));
        const c = new Uint8Array(bytes.length + extra.length);
        c.set(bytes);
        c.set(extra, bytes.length);
        bytes = c;
      }
    }
    try {
      const v = x.decode(g.type, bytes);
      if (footprint(v) > bytes.length * 2) {
        t.fail(`decoded value larger than its input (${footprint(v)} units from ${bytes.length} bytes)`);
        return;
      }
      kinds.ok++;
    } catch (e) {
      if (!(e instanceof XdrError)) {
        t.fail(`case ${i} (${g.type.name}) threw ${String(e)}`);
        return;
      }
      kinds.xdrError++;
    }
  }
  t.equal(kinds.ok + kinds.xdrError, CASES);
  t.ok(kinds.ok > 0 && kinds.xdrError > 0, `both outcomes seen: ${JSON.stringify(kinds)} in ${Date.now() - started} ms`);
});
