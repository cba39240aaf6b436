// Reading captures incrementally: CaptureReader fed in chunks of any size gives exactly what readPackets
// gives for the whole file (packets, warnings, errors), holds no more than the unread bytes, and lets the
// caller reuse chunk buffers after compact(); openCaptureFile and captureStream read files, streams and
// gzip-compressed captures.
import t from 'tap';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { CaptureReader, MAX_BLOCK_SIZE, captureStream, openCaptureFile, readPackets, type CaptureWarning, type CapturedPacket } from '../../src/pcap/index.js';
import { PcapError } from '../../src/errors.js';
import { Rng } from '../_helpers/hex.js';
import { concat, epb, idb, pcapFile, shb } from './_helpers/build.js';

const fixtures = new URL('../../fixtures/pcap/', import.meta.url).pathname;
const data = new URL('./data/', import.meta.url).pathname;
const FILES = [
  ...readdirSync(fixtures).filter((f) => f.endsWith('.pcap')).map((f) => fixtures + f),
  ...readdirSync(data).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => data + f),
];

interface Outcome {
  packets: Array<[number, string, number, number, string, number, number]>;
  warnings: CaptureWarning[];
  error: string | undefined;
}

const sig = (p: CapturedPacket): [number, string, number, number, string, number, number] =>
  [p.index, p.timestampNs.toString(), p.timestamp, p.linkType, Buffer.from(p.data).toString('hex'), p.origLen, p.fileOffset];

function whole(bytes: Uint8Array): Outcome {
  const warnings: CaptureWarning[] = [];
  const packets: Outcome['packets'] = [];
  try {
    for (const p of readPackets(bytes, { onWarning: (w) => warnings.push(w) })) packets.push(sig(p));
    return { packets, warnings, error: undefined };
  } catch (e) {
    return { packets, warnings, error: (e as Error).message };
  }
}

/**
 * The same bytes pushed in chunks of the sizes `sizes` gives (cycled), each chunk a fresh copy that is
 * overwritten with garbage as soon as the reader has been compacted: what the reader returns must not
 * depend on a chunk after it is done with it.
 */
function chunked(bytes: Uint8Array, sizes: number[], scribble = true): Outcome {
  const warnings: CaptureWarning[] = [];
  const packets: Outcome['packets'] = [];
  const r = new CaptureReader({ onWarning: (w) => warnings.push(w) });
  try {
    let i = 0;
    for (let o = 0; o < bytes.length; i++) {
      const n = Math.max(1, sizes[i % sizes.length]!);
      const chunk = bytes.slice(o, o + n);
      o += n;
      r.push(chunk);
      for (let p = r.next(); p; p = r.next()) packets.push(sig(p));
      if (scribble) {
        r.compact();
        chunk.fill(0xee);
      }
    }
    r.end();
    for (let p = r.next(); p; p = r.next()) packets.push(sig(p));
    t.equal(r.next(), undefined, 'nothing after the end');
    return { packets, warnings, error: undefined };
  } catch (e) {
    return { packets, warnings, error: (e as Error).message };
  }
}

t.test('every capture: the same packets in chunks of 1 byte, of random sizes, and whole', async (t) => {
  const rng = new Rng(7);
  for (const f of FILES) {
    const bytes = new Uint8Array(readFileSync(f));
    const expected = whole(bytes);
    t.ok(expected.packets.length > 0 && expected.error === undefined, `${f}: ${expected.packets.length} packets`);
    t.same(chunked(bytes, [bytes.length]), expected, `${f}: one chunk`);
    t.same(chunked(bytes, Array.from({ length: 17 }, () => 1 + rng.int(300))), expected, `${f}: random chunks`);
    if (bytes.length < 20000) t.same(chunked(bytes, [1]), expected, `${f}: byte by byte`);
  }
});

t.test('truncated and damaged captures: the same warnings and errors as whole', async (t) => {
  const rng = new Rng(11);
  const seeds = FILES.map((f) => new Uint8Array(readFileSync(f)));
  const ng = concat(shb(true), idb(true, 1), epb(true, 0, 5n, Uint8Array.of(1, 2, 3)), epb(true, 0, 6n, Uint8Array.of(4, 5, 6, 7)));
  seeds.push(ng as Uint8Array<ArrayBuffer>);
  for (let i = 0; i < 400; i++) {
    const src = rng.pick(seeds);
    let b: Uint8Array = src.slice(0, rng.int(3) === 0 ? rng.int(src.length + 1) : src.length);
    if (rng.int(2) === 0) for (let k = 1 + rng.int(4); k > 0 && b.length; k--) b[rng.int(b.length)] = rng.u32() & 0xff;
    if (b.length > 60000) b = b.subarray(0, 60000);
    const expected = whole(b);
    const got = chunked(b, [1 + rng.int(64), 1 + rng.int(4096), 1]);
    if (JSON.stringify(got) !== JSON.stringify(expected)) {
      t.same(got, expected, `case ${i}`);
      return;
    }
  }
  t.pass('400 damaged captures read alike whole and in chunks');
});

t.test('a packet straddling chunks is copied; one within a chunk is a view of it', async (t) => {
  const f = pcapFile({ linkType: 1, packets: [{ data: Uint8Array.of(1, 2, 3, 4, 5) }, { data: Uint8Array.of(6, 7, 8) }] });
  const a = f.slice(0, 30);
  const b = f.slice(30);
  const r = new CaptureReader();
  r.push(a);
  t.equal(r.next(), undefined, 'the first packet is not complete yet');
  t.equal(r.buffered, 30 - 24);
  r.push(b);
  const p1 = r.next()!;
  const p2 = r.next()!;
  t.same([...p1.data], [1, 2, 3, 4, 5]);
  t.not(p1.data.buffer, a.buffer, 'straddling: a copy');
  t.equal(p2.data.buffer, b.buffer, 'within a chunk: a view');
  t.equal(r.buffered, 0);
  t.equal(r.format, 'pcap');
});

t.test('end(): the file header missing or cut short is an error, as for a whole file', async (t) => {
  for (const [bytes, re] of [
    [new Uint8Array(0), /not a pcap or pcapng file/],
    [Uint8Array.of(0xd4, 0xc3), /not a pcap or pcapng file/],
    [Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1, 2, 0), /pcap file header truncated/],
    [Uint8Array.of(1, 2, 3, 4, 5), /not a pcap or pcapng file/],
  ] as const) {
    const r = new CaptureReader();
    r.push(bytes);
    if (bytes.length < 4 || bytes[0] === 0xd4) t.equal(r.next(), undefined, 'waits for more');
    r.end();
    t.throws(() => r.next(), re);
  }
  const r = new CaptureReader();
  r.push(Uint8Array.of(9, 9, 9, 9));
  t.throws(() => r.next(), PcapError, 'a bad magic number is an error at once, before the end');
  const ended = new CaptureReader();
  ended.end();
  t.throws(() => ended.push(Uint8Array.of(1)), /after end/);
});

t.test('a record larger than MAX_BLOCK_SIZE is not held: the rest of the input is passed over', async (t) => {
  const head = pcapFile({ linkType: 1, packets: [{ data: Uint8Array.of(1, 2, 3) }] });
  const rec = new Uint8Array(16);
  const dv = new DataView(rec.buffer);
  dv.setUint32(8, MAX_BLOCK_SIZE, true); // captured length
  for (const [mib, message] of [
    [63, /^truncated packet: record says 67108864 bytes, file has 66060288$/],
    [64, /^record of 67108880 bytes at file offset 43 is larger than the 67108864 bytes a record may have here; the rest of the file is passed over$/],
  ] as const) {
    const warnings: CaptureWarning[] = [];
    const r = new CaptureReader({ onWarning: (w) => warnings.push(w) });
    r.push(concat(head, rec));
    t.ok(r.next(), 'the packet before it');
    t.equal(r.next(), undefined);
    const mb = new Uint8Array(1 << 20);
    for (let i = 0; i < mib; i++) r.push(mb);
    t.equal(r.buffered, 0, 'nothing held while passing over');
    r.end();
    t.equal(r.next(), undefined);
    t.match(warnings, [{ message, offset: head.length }]);
  }
});

t.test('openCaptureFile: a file in chunks, gzip-compressed or not; errors at once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'oncrpc-stream-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bytes = new Uint8Array(readFileSync(fixtures + 'c-tcp.pcap'));
  writeFileSync(join(dir, 'c.pcap'), bytes);
  writeFileSync(join(dir, 'c.pcap.gz'), gzipSync(bytes));
  writeFileSync(join(dir, 'twice.gz'), Buffer.concat([gzipSync(bytes.subarray(0, 1000)), gzipSync(bytes.subarray(1000))]));
  const read = async (it: AsyncIterable<Uint8Array>): Promise<Buffer> => {
    const parts: Buffer[] = [];
    for await (const c of it) {
      t.notOk(Buffer.isBuffer(c), 'plain Uint8Array chunks');
      parts.push(Buffer.from(c));
    }
    return Buffer.concat(parts);
  };
  t.same(await read(await openCaptureFile(join(dir, 'c.pcap'), { chunkSize: 1000 })), Buffer.from(bytes));
  t.same(await read(await openCaptureFile(join(dir, 'c.pcap.gz'))), Buffer.from(bytes), 'gunzipped');
  t.same(await read(await openCaptureFile(join(dir, 'twice.gz'))), Buffer.from(bytes), 'two gzip members');
  await t.rejects(openCaptureFile(join(dir, 'missing.pcap')), { code: 'ENOENT' });
  await t.rejects(openCaptureFile(dir), { code: 'EISDIR' });
  writeFileSync(join(dir, 'cut.gz'), gzipSync(bytes).subarray(0, 500));
  await t.rejects(read(await openCaptureFile(join(dir, 'cut.gz'))), /unexpected end of file/);
  // Reused buffers: each chunk is overwritten by the one after the next.
  const ring = await openCaptureFile(join(dir, 'c.pcap'), { chunkSize: 4096, reuseBuffers: true });
  const seen = new Set<ArrayBufferLike>();
  for await (const c of ring) seen.add(c.buffer);
  t.ok(seen.size <= 3, `${seen.size} buffers for ${Math.ceil(bytes.length / 4096)} chunks`);
});

t.test('captureStream: a stream (stdin, a pipe), gzip-compressed or not', async (t) => {
  const bytes = new Uint8Array(readFileSync(fixtures + 'rpcinfo-p.pcap'));
  const pieces = (b: Uint8Array): Readable => Readable.from([Buffer.from(b.subarray(0, 7)), Buffer.from(b.subarray(7, 100)), Buffer.from(b.subarray(100))]);
  const collect = async (it: AsyncIterable<Uint8Array>): Promise<number[]> => {
    const out: number[] = [];
    for await (const c of it) out.push(...c);
    return out;
  };
  t.same(await collect(await captureStream(pieces(bytes))), [...bytes]);
  t.same(await collect(await captureStream(pieces(new Uint8Array(gzipSync(bytes))))), [...bytes]);
  t.same(await collect(await captureStream(Readable.from([]))), []);
});
