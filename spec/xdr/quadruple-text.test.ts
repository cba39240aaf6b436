// Quadruple (binary128) conversions and the lossless string mapping.
import t from 'tap';
import { Quadruple, XdrReader, XdrWriter, decodeText, encodeText } from '../../src/xdr/index.js';
import { Rng, hex, toHex } from '../_helpers/hex.js';

t.test('quadruple known encodings (IEEE 754 binary128)', async (t) => {
  const cases: Array<[number, string]> = [
    [1, '3fff0000000000000000000000000000'],
    [-2, 'c0000000000000000000000000000000'],
    [0.5, '3ffe0000000000000000000000000000'],
    [0, '00000000000000000000000000000000'],
    [-0, '80000000000000000000000000000000'],
    [Infinity, '7fff0000000000000000000000000000'],
    [1 / 3, '3ffd5555555555555000000000000000'],
    [5e-324, '3bcd0000000000000000000000000000'], // smallest subnormal double = 2^-1074
    [Number.MAX_VALUE, '43feffffffffffff f000000000000000'.replace(' ', '')],
  ];
  for (const [n, h] of cases) {
    const q = Quadruple.fromNumber(n);
    t.equal(toHex(q.bytes), h, `fromNumber(${n})`);
    t.ok(Object.is(new Quadruple(hex(h)).toNumber(), n), `toNumber(${h})`);
  }
  t.ok(Number.isNaN(Quadruple.fromNumber(NaN).toNumber()));
  t.equal(new Quadruple(hex('7ffe0000000000000000000000000000')).toNumber(), Infinity, 'too large for a double');
  t.equal(new Quadruple(hex('00010000000000000000000000000000')).toNumber(), 0, 'too small for a double');
  // 1 + 2^-60: rounds to 1 (half-even at 53 bits); 1 + 2^-52 + 2^-53 rounds up to 1 + 2^-51.
  t.equal(Quadruple.fromParts(0, 16383, 1n << 52n).toNumber(), 1);
  t.equal(Quadruple.fromParts(0, 16383, (1n << 60n) | (1n << 59n)).toNumber(), 1 + 2 ** -51);
  t.equal(Quadruple.fromParts(0, 16383, 1n << 59n).toNumber(), 1, 'tie rounds to even');
});

t.test('every double survives a trip through a quadruple; every 16 bytes survive the codec', async (t) => {
  const rng = new Rng(7);
  const dv = new DataView(new ArrayBuffer(8));
  for (let i = 0; i < 20000; i++) {
    dv.setUint32(0, rng.u32());
    dv.setUint32(4, rng.u32());
    const d = dv.getFloat64(0);
    const back = Quadruple.fromNumber(d).toNumber();
    if (!(Object.is(back, d) || (Number.isNaN(d) && Number.isNaN(back)))) t.fail(`double ${d} came back as ${back}`);
    const bytes = rng.bytes(16);
    const w = new XdrWriter();
    w.writeQuadruple(new XdrReader(bytes).readQuadruple());
    if (toHex(w.finish()) !== toHex(bytes)) t.fail('quadruple bytes changed');
  }
  t.pass('20000 doubles and byte patterns');
});

t.test('strings: UTF-8, and bytes that are not UTF-8 round-trip exactly', async (t) => {
  t.equal(decodeText(hex('68c3a96c6c6f'), 0, 6), 'héllo');
  t.equal(decodeText(hex('efbbbf41'), 0, 4), '\ufeffA', 'a BOM is kept, not stripped');
  t.equal(decodeText(hex('41ff42'), 0, 3), 'A\udcffB', 'invalid byte escaped to U+DCxx');
  t.equal(toHex(encodeText('A\udcffB')), '41ff42');
  t.equal(toHex(encodeText('😀')), 'f09f9880');
  const rng = new Rng(11);
  for (let i = 0; i < 20000; i++) {
    const b = rng.bytes(rng.int(80));
    // Bias towards bytes that form or break multi-byte sequences.
    for (let k = 0; k < b.length; k++) if (rng.int(3) === 0) b[k] = rng.pick([0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0xed, 0xa0, 0x80, 0xef, 0xbb, 0xbf, 0x41]);
    const s = decodeText(b, 0, b.length);
    if (toHex(encodeText(s)) !== toHex(b)) t.fail(`bytes ${toHex(b)} did not round-trip`);
    const w = new XdrWriter({ initialSize: 8 });
    w.writeString(s);
    const r = new XdrReader(w.finish());
    if (r.readString() !== s) t.fail('string codec changed a string');
  }
  t.pass('20000 random byte strings');
});
