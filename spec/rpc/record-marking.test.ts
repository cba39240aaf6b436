// Record marking (RFC 5531 §11): split at every offset, multi-fragment and empty fragments, limits, framing.
import t from 'tap';
import { RecordDecoder, beginRecord, endRecord, frameRecord } from '../../src/rpc/index.js';
import { RecordError } from '../../src/errors.js';
import { XdrWriter } from '../../src/xdr/index.js';
import { Rng, concat, hex, toHex } from '../_helpers/hex.js';

function collect(opts = {}) {
  const out: Array<{ rec: string; frags: number[] }> = [];
  const d = new RecordDecoder((rec, frags) => out.push({ rec: toHex(rec), frags }), opts);
  return { d, out };
}

// Three records: one fragment; three fragments (one of them empty); an empty record.
const STREAM = hex('80000004 01020304' + '00000002 0a0b 00000000 80000003 0c0d0e' + '80000000');
const EXPECT = [
  { rec: '01020304', frags: [4] },
  { rec: '0a0b0c0d0e', frags: [2, 0, 3] },
  { rec: '', frags: [0] },
];

t.test('whole stream in one chunk; single-fragment records are views of it', async (t) => {
  const views: Uint8Array[] = [];
  const d = new RecordDecoder((r) => views.push(r));
  d.push(STREAM);
  t.equal(views.length, 3);
  t.equal(views[0]!.buffer, STREAM.buffer, 'no copy for a record inside one chunk');
  t.ok(d.idle);
});

t.test('split at every offset and byte by byte gives the same records', async (t) => {
  for (let cut = 0; cut <= STREAM.length; cut++) {
    const { d, out } = collect();
    d.push(STREAM.subarray(0, cut));
    d.push(STREAM.subarray(cut));
    t.same(out, EXPECT, `cut at ${cut}`);
  }
  for (let a = 1; a < STREAM.length; a++) {
    for (let b = a; b < STREAM.length; b++) {
      const { d, out } = collect();
      d.push(STREAM.subarray(0, a));
      d.push(STREAM.subarray(a, b));
      d.push(STREAM.subarray(b));
      if (JSON.stringify(out) !== JSON.stringify(EXPECT)) t.fail(`cuts at ${a},${b}`);
    }
  }
  const { d, out } = collect();
  for (const byte of STREAM) d.push(Uint8Array.of(byte));
  t.same(out, EXPECT, 'byte by byte');
});

t.test('limits are checked when the mark arrives, before data', async (t) => {
  const { d } = collect({ maxRecordSize: 100 });
  t.throws(() => d.push(hex('80000065')), { code: 'ERR_RECORD_TOO_LARGE', limit: 100, seen: 101 });
  t.throws(() => d.push(hex('80000001 00')), { code: 'ERR_RECORD_TOO_LARGE' }, 'a failed decoder stays failed');
  const c2 = collect({ maxRecordSize: 100 });
  t.throws(() => c2.d.push(hex('00000032' + '00'.repeat(50) + '00000033')), { code: 'ERR_RECORD_TOO_LARGE', seen: 101 }, 'cumulative over fragments');
  const c3 = collect();
  t.throws(() => c3.d.push(hex('ffffffff')), { code: 'ERR_RECORD_TOO_LARGE' }, 'absurd header, default 16 MiB cap');
  const c4 = collect({ maxFragments: 10 });
  t.throws(() => c4.d.push(hex('00000000'.repeat(11))), { code: 'ERR_RECORD_FRAGMENTS' }, 'endless empty fragments');
  const c5 = collect();
  c5.d.push(hex('80000008 0102'));
  t.throws(() => c5.d.end(), { code: 'ERR_RECORD_TRUNCATED', seen: 2 });
  t.ok(new RecordError('ERR_RECORD_TRUNCATED', 'x', 0, 0) instanceof Error);
});

t.test('frameRecord fragments without copying; decoder reassembles', async (t) => {
  const payload = new Uint8Array(10_000).map((_, i) => i & 0xff);
  const vec = frameRecord([payload.subarray(0, 3000), payload.subarray(3000)], 4096);
  const marks = vec.filter((b) => b.length === 4 && (b !== payload));
  t.ok(marks.length >= 3);
  t.ok(vec.every((b) => b.length === 4 || b.buffer === payload.buffer), 'data segments are views of the input');
  const { d, out } = collect();
  d.push(concat(vec));
  t.equal(out.length, 1);
  t.same(out[0]!.frags, [4096, 4096, 1808]);
  t.equal(out[0]!.rec, toHex(payload));
  t.equal(toHex(concat(frameRecord([]))), '80000000', 'empty record');
});

t.test('beginRecord/endRecord backfill the mark in place', async (t) => {
  const w = new XdrWriter({ initialSize: 64 });
  beginRecord(w);
  w.writeUint(0xdeadbeef);
  const one = endRecord(w);
  t.equal(one.length, 1, 'one buffer, one write');
  t.equal(toHex(one[0]!), '80000004deadbeef');
  beginRecord(w);
  for (let i = 0; i < 5; i++) w.writeUint(i);
  const frags = endRecord(w, 8);
  t.equal(toHex(concat(frags)), '00000008' + '0000000000000001' + '00000008' + '0000000200000003' + '80000004' + '00000004');
});

t.test('random streams of random records survive random chunking', async (t) => {
  const rng = new Rng(3);
  for (let round = 0; round < 300; round++) {
    const recs = Array.from({ length: 1 + rng.int(5) }, () => rng.bytes(rng.int(300)));
    const stream = concat(recs.flatMap((r) => frameRecord([r], 1 + rng.int(200))));
    const got: string[] = [];
    const d = new RecordDecoder((r) => got.push(toHex(r)));
    let i = 0;
    while (i < stream.length) {
      const n = 1 + rng.int(64);
      d.push(stream.subarray(i, i + n));
      i += n;
    }
    if (JSON.stringify(got) !== JSON.stringify(recs.map(toHex))) {
      t.fail(`round ${round}`);
      return;
    }
  }
  t.pass('300 rounds');
});

t.test('garbage streams only raise RecordError', async (t) => {
  const rng = new Rng(8);
  for (let i = 0; i < 20_000; i++) {
    const d = new RecordDecoder(() => {}, { maxRecordSize: 1 << 16, maxFragments: 64 });
    try {
      d.push(rng.bytes(rng.int(100)));
      d.end();
    } catch (e) {
      if (!(e instanceof RecordError)) {
        t.fail(String(e));
        return;
      }
    }
  }
  t.pass('20000 garbage streams');
});

t.test('frameRecord reproduces a given fragmentation, empty fragments included', async (t) => {
  const rec = hex('0a0b0c0d0e');
  t.equal(toHex(concat(frameRecord([rec.subarray(0, 1), rec.subarray(1)], [2, 0, 3]))), '000000020a0b' + '00000000' + '800000030c0d0e');
  t.throws(() => frameRecord([rec], [2, 2]), RangeError);
  t.throws(() => frameRecord([rec], 0), RangeError);
});
