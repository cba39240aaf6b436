// Tests of the pcap / pcapng file reader: byte orders, timestamp resolutions, block types, truncation, errors.
import t from 'tap';
import { detectFormat, readPackets, type CaptureWarning } from '../../src/pcap/index.js';
import { block, concat, epb, idb, option, pb, pcapFile, shb, spb, throwsPcap } from './_helpers/build.js';

const d1 = Uint8Array.of(1, 2, 3, 4, 5);
const d2 = Uint8Array.of(9, 8, 7);

t.test('classic pcap, both byte orders, micro and nano', async (t) => {
  for (const le of [true, false]) {
    for (const nano of [false, true]) {
      const f = pcapFile({ le, nano, linkType: 1, packets: [{ sec: 1700000000, frac: 123456, data: d1, origLen: 60 }, { sec: 1700000001, frac: 0, data: d2 }] });
      t.equal(detectFormat(f), 'pcap');
      const ps = [...readPackets(f)];
      t.equal(ps.length, 2, `le=${le} nano=${nano}`);
      t.same([...ps[0]!.data], [...d1]);
      t.equal(ps[0]!.linkType, 1);
      t.equal(ps[0]!.capLen, 5);
      t.equal(ps[0]!.origLen, 60);
      t.equal(ps[0]!.index, 0);
      t.equal(ps[1]!.index, 1);
      t.equal(ps[0]!.fileOffset, 24);
      t.equal(ps[1]!.fileOffset, 24 + 16 + 5);
      t.equal(ps[0]!.timestampNs, 1700000000n * 1_000_000_000n + (nano ? 123456n : 123456000n));
      t.ok(Math.abs(ps[0]!.timestamp - (1700000000 + (nano ? 0.000123456 : 0.123456))) < 1e-6);
      t.equal(ps[0]!.data.buffer, f.buffer, 'zero-copy');
    }
  }
});

t.test('classic pcap: link type ignores FCS bits, modified format', async (t) => {
  const f = pcapFile({ linkType: 0x10000000 | 113, packets: [{ data: d1 }] });
  t.equal([...readPackets(f)][0]!.linkType, 113);
  // Kuznetzov's modified format: 8 more bytes per record header.
  const hdr = pcapFile({ linkType: 1, packets: [], magic: 0xa1b2cd34 });
  const rec = new Uint8Array(24 + 3);
  const dv = new DataView(rec.buffer);
  dv.setUint32(8, 3, true);
  dv.setUint32(12, 3, true);
  rec.set([7, 7, 7], 24);
  const ps = [...readPackets(concat(hdr, rec))];
  t.equal(ps.length, 1);
  t.same([...ps[0]!.data], [7, 7, 7]);
});

t.test('classic pcap: truncated last packet is a warning', async (t) => {
  const f = pcapFile({ linkType: 1, packets: [{ data: d1 }, { data: d2 }] });
  for (const cut of [1, 3, 10, 17]) {
    const warnings: CaptureWarning[] = [];
    const ps = [...readPackets(f.subarray(0, f.length - cut), { onWarning: (w) => warnings.push(w) })];
    t.equal(ps.length, 1, `cut ${cut}`);
    t.equal(warnings.length, 1);
    t.equal(warnings[0]!.offset, 24 + 16 + 5);
    t.match(warnings[0]!.message, /truncated/);
  }
  t.equal([...readPackets(f.subarray(0, 24))].length, 0, 'header only: no packets');
});

t.test('classic pcap: errors', async (t) => {
  throwsPcap(t, () => detectFormat(Uint8Array.of(1, 2, 3, 4)), /not a pcap/);
  throwsPcap(t, () => [...readPackets(new Uint8Array(0))], /not a pcap/);
  throwsPcap(t, () => [...readPackets(Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1, 2, 0))], /header truncated/);
  const f = pcapFile({ linkType: 1, packets: [] });
  f[4] = 3;
  throwsPcap(t, () => [...readPackets(f)], /unsupported pcap version 3/);
});

for (const le of [true, false]) {
  t.test(`pcapng ${le ? 'little' : 'big'}-endian: sections, interfaces, resolutions, block kinds`, async (t) => {
    const file = concat(
      shb(le),
      idb(le, 1), // default microseconds
      idb(le, 113, { tsresol: 9 }), // nanoseconds
      idb(le, 101, { tsresol: 0x80 | 10, tsoffset: 100n }), // 2^-10 s, +100 s
      block(le, 0x0bad, Uint8Array.of(1, 2, 3)), // unknown block, skipped
      epb(le, 0, 1_500_000n, d1, 99),
      epb(le, 1, 2_000_000_007n, d2),
      epb(le, 2, 1024n * 5n + 512n, d1),
      block(le, 5, new Uint8Array(8)), // interface statistics, skipped
      shb(le), // new section: interfaces reset
      idb(le, 276, { snapLen: 4 }),
      spb(le, d1, 5),
      pb(le, 0, 42n, d2),
    );
    t.equal(detectFormat(file), 'pcapng');
    const ps = [...readPackets(file)];
    t.equal(ps.length, 5);
    t.same(ps.map((p) => p.index), [0, 1, 2, 3, 4]);
    t.same(ps.map((p) => p.linkType), [1, 113, 101, 276, 276]);
    t.same(ps.map((p) => p.interfaceId), [0, 1, 2, 0, 0]);
    t.same([...ps[0]!.data], [...d1]);
    t.equal(ps[0]!.origLen, 99);
    t.equal(ps[0]!.timestampNs, 1_500_000_000n);
    t.equal(ps[0]!.timestamp, 1.5);
    t.equal(ps[1]!.timestampNs, 2_000_000_007n);
    t.equal(ps[2]!.timestampNs, 105_500_000_000n);
    t.equal(ps[2]!.timestamp, 105.5);
    t.same([...ps[3]!.data], [1, 2, 3, 4], 'SPB cut to the snap length');
    t.equal(ps[3]!.origLen, 5);
    t.equal(ps[3]!.timestampNs, 0n);
    t.same([...ps[4]!.data], [...d2]);
    t.equal(ps[4]!.timestampNs, 42_000n);
  });
}

t.test('pcapng: truncated last block is a warning', async (t) => {
  const file = concat(shb(true), idb(true, 1), epb(true, 0, 0n, d1), epb(true, 0, 0n, d2));
  for (const cut of [1, 4, 11, 20]) {
    const warnings: CaptureWarning[] = [];
    const ps = [...readPackets(file.subarray(0, file.length - cut), { onWarning: (w) => warnings.push(w) })];
    t.equal(ps.length, 1, `cut ${cut}`);
    t.equal(warnings.length, 1);
  }
});

t.test('pcapng: errors', async (t) => {
  const le = true;
  throwsPcap(t, () => [...readPackets(concat(shb(le), epb(le, 0, 0n, d1)))], /undefined interface 0/);
  throwsPcap(t, () => [...readPackets(concat(shb(le), spb(le, d1)))], /without interface 0/);
  const badBom = shb(le);
  badBom[8] = 0;
  throwsPcap(t, () => [...readPackets(badBom)], /byte-order magic/);
  const badTrailer = concat(shb(le), idb(le, 1));
  badTrailer[badTrailer.length - 1] = 1;
  throwsPcap(t, () => [...readPackets(badTrailer)], /trailing length/);
  const badLen = concat(shb(le), idb(le, 1));
  new DataView(badLen.buffer).setUint32(28 + 4, 13, true);
  throwsPcap(t, () => [...readPackets(badLen)], /bad pcapng block length 13/);
  const e = epb(le, 0, 0n, d1);
  const tooBig = concat(shb(le), idb(le, 1), e);
  new DataView(tooBig.buffer).setUint32(tooBig.length - e.length + 20, 9, true); // EPB captured length
  throwsPcap(t, () => [...readPackets(tooBig)], /exceeds block/);
  const v2 = shb(le);
  v2[12] = 2;
  throwsPcap(t, () => [...readPackets(v2)], /unsupported pcapng version 2/);
  const overrun = concat(shb(le), block(le, 1, concat(Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0), option(le, 9, Uint8Array.of(6)).subarray(0, 4).map((x, i) => (i === 2 ? 40 : x)))));
  throwsPcap(t, () => [...readPackets(overrun)], /overruns/);
  throwsPcap(t, () => [...readPackets(concat(shb(le), block(le, 1, new Uint8Array(4))))], /interface description block too short/);
});
