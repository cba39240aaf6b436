// Tests of flow decoding: UDP datagrams, IPv4/IPv6 fragment reassembly, skipped packets, file warnings.
import t from 'tap';
import { FlowDecoder, IpReassembler, decodeFlows, type FlowEvent } from '../../src/pcap/index.js';
import { concat, ethernet, frag6, ipv4, ipv6, pattern, pcapFile, tcp, udp, F } from './_helpers/build.js';

const P = pattern(3000, 3);

function push(frames: Uint8Array[], linkType = 101, opts = {}): FlowEvent[] {
  const dec = new FlowDecoder(opts);
  const out = frames.flatMap((data, index) => dec.push({ index, timestamp: index, linkType, data }));
  return [...out, ...dec.finish()];
}

t.test('UDP datagrams over IPv4 and IPv6', async (t) => {
  const ev = push([
    ipv4({ src: '1.2.3.4', dst: '5.6.7.8', protocol: 17, payload: udp(700, 111, P.subarray(0, 40)) }),
    ipv6({ src: '::1', dst: '::1', next: 17, payload: udp(111, 700, P.subarray(0, 8)) }),
  ]);
  t.equal(ev.length, 2);
  const [a, b] = ev;
  t.ok(a!.kind === 'udp' && a!.src.addr === '1.2.3.4' && a!.src.port === 700 && a!.dst.addr === '5.6.7.8' && a!.dst.port === 111);
  t.ok(a!.kind === 'udp' && a!.payload.length === 40 && !a!.truncated && a!.packetIndex === 0);
  t.ok(b!.kind === 'udp' && b!.src.addr === '::1' && b!.payload.length === 8 && b!.timestamp === 1);
  const cut = push([ipv4({ protocol: 17, payload: udp(1, 2, P.subarray(0, 40)) }).subarray(0, 50)]);
  t.ok(cut[0]!.kind === 'udp' && cut[0]!.truncated && cut[0]!.payload.length === 22, 'snap-length cut datagram');
});

function v4Fragments(id: number, payload: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let off = 0; off < payload.length; off += size) {
    const part = payload.subarray(off, off + size);
    out.push(ipv4({ protocol: 17, id, fragOffset: off, more: off + size < payload.length, payload: part }));
  }
  return out;
}

t.test('IPv4 fragments are reassembled in any order', async (t) => {
  const dgram = udp(5000, 2049, P.subarray(0, 2000));
  const frags = v4Fragments(9, dgram, 800);
  for (const order of [[0, 1, 2], [2, 0, 1], [1, 2, 0], [0, 0, 2, 1]]) {
    const ev = push(order.map((i) => frags[i]!));
    t.equal(ev.length, 1, `order ${order}`);
    const e = ev[0]!;
    t.ok(e.kind === 'udp' && e.payload.length === 2000 && e.packetIndex === order.length - 1);
    if (e.kind === 'udp') t.same([...e.payload], [...P.subarray(0, 2000)]);
  }
  // Interleaved datagrams with different ids.
  const other = v4Fragments(10, udp(5001, 2049, P.subarray(100, 1500)), 800);
  const ev = push([frags[0]!, other[0]!, frags[1]!, other[1]!, frags[2]!]);
  t.same(ev.map((e) => e.kind === 'udp' && e.src.port), [5001, 5000]);
  // Missing piece: nothing; disabled: skips.
  t.same(push([frags[0]!, frags[2]!]), []);
  const off = push(frags, 101, { reassembleFragments: false });
  t.same(off.map((e) => e.kind === 'skip' && e.reason), ['IP fragment (reassembly disabled)', 'IP fragment (reassembly disabled)', 'IP fragment (reassembly disabled)']);
});

t.test('IPv4 fragments of a TCP segment feed the stream', async (t) => {
  const seg = tcp({ sp: 40000, dp: 2049, seq: 1, flags: F.ACK, ack: 1, payload: P.subarray(0, 1500) });
  const frags: Uint8Array[] = [];
  for (let off = 0; off < seg.length; off += 1024) {
    frags.push(ipv4({ protocol: 6, id: 3, fragOffset: off, more: off + 1024 < seg.length, payload: seg.subarray(off, off + 1024) }));
  }
  const ev = push(frags);
  const data = ev.filter((e) => e.kind === 'data');
  t.equal(data.length, 1);
  t.ok(data[0]!.kind === 'data' && data[0]!.bytes.length === 1500);
});

t.test('IPv6 fragments are reassembled, with headers after the fragment header', async (t) => {
  const dgram = udp(5000, 2049, P.subarray(0, 2000));
  const dst = new Uint8Array(8);
  dst[0] = 17; // destination options, then UDP: part of the fragmentable part
  const body = concat(dst, dgram);
  const a = ipv6({ next: 44, ext: [frag6(60, 0, true, 77)], payload: body.subarray(0, 1232) });
  const b = ipv6({ next: 44, ext: [frag6(60, 1232, false, 77)], payload: body.subarray(1232) });
  const ev = push([b, a]);
  t.equal(ev.length, 1);
  t.ok(ev[0]!.kind === 'udp' && ev[0]!.payload.length === 2000);
  if (ev[0]!.kind === 'udp') t.same([...ev[0]!.payload], [...P.subarray(0, 2000)]);
});

t.test('IpReassembler limits', async (t) => {
  const r = new IpReassembler({ maxPending: 2, maxFragments: 3 });
  r.add('a', { id: 1, offset: 8, more: false }, new Uint8Array(8));
  r.add('b', { id: 2, offset: 8, more: true }, new Uint8Array(8));
  r.add('c', { id: 3, offset: 8, more: true }, new Uint8Array(8));
  t.equal(r.pending, 2, 'oldest dropped');
  t.equal(r.add('a', { id: 1, offset: 0, more: true }, new Uint8Array(8)), undefined, 'a was dropped: its last half is gone');
  t.ok(r.add('c', { id: 3, offset: 0, more: true }, new Uint8Array(8)) === undefined && r.add('c', { id: 3, offset: 16, more: false }, new Uint8Array(1)) instanceof Uint8Array, 'c completes');
  for (let i = 0; i < 3; i++) r.add('d', { id: 4, offset: 16 + 8 * i, more: true }, new Uint8Array(8));
  t.equal(r.add('d', { id: 4, offset: 0, more: false }, new Uint8Array(16)), undefined, 'too many fragments');
  t.equal(r.add('e', { id: 5, offset: 65528, more: false }, new Uint8Array(16)), undefined, 'beyond 64 KiB');
  const whole = r.add('f', { id: 6, offset: 0, more: false }, Uint8Array.of(1, 2));
  t.same(whole && [...whole], [1, 2]);
});

t.test('packets without TCP/UDP data give skip events', async (t) => {
  const ev = push(
    [
      ethernet(0x0806, new Uint8Array(28)),
      ethernet(0x0800, ipv4({ protocol: 1, payload: new Uint8Array(8) })),
      ethernet(0x0800, ipv4({ protocol: 6, payload: new Uint8Array(10) })),
      ethernet(0x0800, ipv4({ protocol: 17, payload: new Uint8Array(3) })),
      ethernet(0x86dd, Uint8Array.of(0x60, 0, 0, 0)),
    ],
    1,
  );
  t.same(
    ev.map((e) => e.kind === 'skip' && [e.packetIndex, e.reason]),
    [
      [0, 'EtherType 0x0806 is not IP'],
      [1, 'IP protocol 1 not supported'],
      [2, 'TCP header truncated'],
      [3, 'UDP header truncated'],
      [4, 'IPv6 header truncated'],
    ],
  );
});

t.test('decodeFlows over a file, with a truncated last packet', async (t) => {
  const f = pcapFile({
    linkType: 1,
    packets: [
      { sec: 10, data: ethernet(0x0800, ipv4({ protocol: 6, payload: tcp({ sp: 1000, dp: 111, seq: 5, flags: F.SYN }) })) },
      { sec: 11, data: ethernet(0x0800, ipv4({ protocol: 6, payload: tcp({ sp: 1000, dp: 111, seq: 6, ack: 1, flags: F.ACK, payload: P.subarray(0, 9) }) })) },
      { sec: 12, data: ethernet(0x0800, ipv4({ protocol: 17, payload: udp(1, 2, P) })) },
    ],
  });
  const ev = [...decodeFlows(f.subarray(0, f.length - 100))];
  t.same(ev.map((e) => e.kind), ['open', 'data', 'warning', 'close']);
  const w = ev[2]!;
  t.ok(w.kind === 'warning' && /truncated packet/.test(w.message) && w.fileOffset > 24);
  const close = ev[3]!;
  t.ok(close.kind === 'close' && close.reason === 'eof' && close.packetIndex === 1 && close.timestamp === 11);
});
