// XdrReader/XdrWriter: byte layout of every primitive (RFC 4506 §4) and every typed error.
import t from 'tap';
import { XdrReader, XdrWriter, Quadruple } from '../../src/xdr/index.js';
import { XdrDecodeError, XdrEncodeError } from '../../src/errors.js';
import { hex, toHex } from '../_helpers/hex.js';

function enc(f: (w: XdrWriter) => void): string {
  const w = new XdrWriter({ initialSize: 4 });
  f(w);
  return toHex(w.finish());
}

t.test('integers, bools, floats have RFC 4506 layouts', async (t) => {
  t.equal(enc((w) => w.writeInt(-2)), 'fffffffe');
  t.equal(enc((w) => w.writeInt(0x7fffffff)), '7fffffff');
  t.equal(enc((w) => w.writeUint(0xfffffffe)), 'fffffffe');
  t.equal(enc((w) => w.writeBool(true)), '00000001');
  t.equal(enc((w) => w.writeHyper(-2n)), 'fffffffffffffffe');
  t.equal(enc((w) => w.writeUhyper(0x0102030405060708n)), '0102030405060708');
  t.equal(enc((w) => w.writeFloat(1.5)), '3fc00000');
  t.equal(enc((w) => w.writeDouble(-2.5)), 'c004000000000000');
  t.equal(enc((w) => w.writeQuadruple(Quadruple.fromNumber(1))), '3fff0000000000000000000000000000');
  const r = new XdrReader(hex('fffffffe fffffffe 00000001 fffffffffffffffe 0102030405060708 3fc00000 c004000000000000'));
  t.equal(r.readInt(), -2);
  t.equal(r.readUint(), 0xfffffffe);
  t.equal(r.readBool(), true);
  t.equal(r.readHyper(), -2n);
  t.equal(r.readUhyper(), 0x0102030405060708n);
  t.equal(r.readFloat(), 1.5);
  t.equal(r.readDouble(), -2.5);
  r.expectEnd();
});

t.test('opaque and string are padded with zeros to 4 bytes', async (t) => {
  t.equal(enc((w) => w.writeOpaque(hex('010203'))), '0000000301020300');
  t.equal(enc((w) => w.writeFixedOpaque(hex('0102030405'), 5)), '0102030405000000');
  t.equal(enc((w) => w.writeString('sillyprog')), '0000000973696c6c7970726f67000000');
  t.equal(enc((w) => w.writeString('')), '00000000');
  t.equal(enc((w) => w.writeString('é')), '00000002c3a90000');
  const r = new XdrReader(hex('0000000973696c6c7970726f67000000 0000000301020300'));
  t.equal(r.readString(9), 'sillyprog');
  const o = r.readOpaque();
  t.equal(toHex(o), '010203');
  t.equal(o.buffer, r.buf.buffer, 'opaque is a view of the input, not a copy');
});

t.test('encoder rejects values that do not fit, with XdrEncodeError', async (t) => {
  const w = new XdrWriter();
  const bad: Array<[string, () => void]> = [
    ['int too big', () => w.writeInt(2 ** 31)],
    ['int fraction', () => w.writeInt(1.5)],
    ['uint negative', () => w.writeUint(-1)],
    ['hyper range', () => w.writeHyper(2n ** 63n)],
    ['uhyper negative', () => w.writeUhyper(-1n)],
    ['hyper as number', () => w.writeHyper(1 as unknown as bigint)],
    ['bool as number', () => w.writeBool(1 as unknown as boolean)],
    ['string bound', () => w.writeString('abcd', 3)],
    ['string bound counts bytes', () => w.writeString('éé', 3)],
    ['opaque bound', () => w.writeOpaque(new Uint8Array(5), 4)],
    ['fixed opaque size', () => w.writeFixedOpaque(new Uint8Array(3), 4)],
    ['lone surrogate', () => w.writeString('\ud800')],
    ['enum value', () => w.writeEnum(3, new Set([1, 2]), 'e')],
  ];
  for (const [name, f] of bad) t.throws(f, { code: 'ERR_XDR_VALUE', name: 'XdrEncodeError' }, name);
  t.ok(new XdrEncodeError('x') instanceof Error);
});

t.test('decoder: short input, bounds, padding, bool, enum all raise XdrDecodeError with offsets', async (t) => {
  const cases: Array<[string, string, (r: XdrReader) => unknown, string, number]> = [
    ['short int', '000000', (r) => r.readInt(), 'ERR_XDR_SHORT', 0],
    ['short hyper', '00000000 000000', (r) => r.readHyper(), 'ERR_XDR_SHORT', 0],
    ['bool 2', '00000002', (r) => r.readBool(), 'ERR_XDR_BOOL', 0],
    ['enum', '00000007', (r) => r.readEnum(new Set([1]), 'E'), 'ERR_XDR_ENUM', 0],
    ['opaque bound', '00000005 0102030405000000', (r) => r.readOpaque(4), 'ERR_XDR_BOUND', 0],
    ['opaque huge length', 'ffffffff 00', (r) => r.readOpaque(), 'ERR_XDR_SHORT', 4],
    ['string padding', '00000001 41000100', (r) => r.readString(), 'ERR_XDR_PADDING', 6],
    ['string truncated', '00000005 414243', (r) => r.readString(), 'ERR_XDR_SHORT', 4],
    ['array count vs bytes', '7fffffff 00000001', (r) => r.readArrayLength(), 'ERR_XDR_SHORT', 4],
    ['array bound', '00000011', (r) => r.readArrayLength(16), 'ERR_XDR_BOUND', 0],
  ];
  for (const [name, h, f, code, offset] of cases) {
    const r = new XdrReader(hex(h));
    t.throws(() => f(r), { code, offset, name: 'XdrDecodeError' }, name);
  }
  const r = new XdrReader(hex('00000001 00000002'));
  r.readInt();
  t.throws(() => r.expectEnd(), { code: 'ERR_XDR_TRAILING', offset: 4 });
  t.ok(new XdrReader(hex('00000001 41000100'), 0, 8, { strictPadding: false }).readString() === 'A', 'padding check can be relaxed');
  const e = new XdrDecodeError('ERR_XDR_SHORT', 'x', 3);
  t.match(e.message, /at byte 3/);
});

t.test('writer grows, resets and keeps its buffer', async (t) => {
  const w = new XdrWriter({ initialSize: 4 });
  for (let i = 0; i < 1000; i++) w.writeUint(i);
  t.equal(w.length, 4000);
  const big = w.buf;
  w.reset();
  w.writeUint(7);
  t.equal(w.buf, big, 'buffer reused after reset');
  t.equal(toHex(w.finish()), '00000007');
});

t.test('writer splices large opaques instead of copying them', async (t) => {
  const payload = new Uint8Array(10001).fill(0xab);
  const w = new XdrWriter({ spliceThreshold: 8192 });
  w.writeUint(1);
  w.writeOpaque(payload);
  w.writeUint(2);
  const chunks = w.chunks();
  t.equal(chunks.length, 3);
  t.equal(chunks[1], payload, 'the payload itself is a segment');
  const flat = w.finish();
  t.equal(flat.length, 4 + 4 + 10001 + 3 + 4);
  const r = new XdrReader(flat);
  t.equal(r.readUint(), 1);
  t.same(r.readOpaque(), payload);
  t.equal(r.readUint(), 2);
  r.expectEnd();
});
