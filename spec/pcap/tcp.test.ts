// Tests of TCP reassembly: ordering, retransmission, overlap, gaps, FIN/SYN accounting, wraparound, connection reuse.
import t from 'tap';
import { FlowDecoder, TcpHalfStream, type FlowEvent, type FlowOptions } from '../../src/pcap/index.js';
import { collect, ipv4, ipv6, pattern, tcp, F } from './_helpers/build.js';

const C = { addr: '10.0.0.1', port: 40000 };
const S = { addr: '10.0.0.2', port: 2049 };

interface Seg {
  from: 'c' | 's';
  seq: number;
  ack?: number;
  flags: number;
  data?: Uint8Array;
}

/** Runs segments through a FlowDecoder as raw IPv4 (or IPv6) packets; returns all events. */
function run(segs: Seg[], opts: FlowOptions & { v6?: boolean; c?: typeof C; s?: typeof S } = {}): FlowEvent[] {
  const dec = new FlowDecoder(opts);
  const c = opts.c ?? C;
  const s = opts.s ?? S;
  const events: FlowEvent[] = [];
  segs.forEach((g, i) => {
    const [a, b] = g.from === 'c' ? [c, s] : [s, c];
    const body = tcp({ sp: a.port, dp: b.port, seq: g.seq, ack: g.ack ?? 0, flags: g.flags | (g.ack !== undefined ? F.ACK : 0), payload: g.data ?? new Uint8Array(0) });
    const data = opts.v6
      ? ipv6({ src: a.addr, dst: b.addr, next: 6, payload: body })
      : ipv4({ src: a.addr, dst: b.addr, protocol: 6, payload: body });
    events.push(...dec.push({ index: i, timestamp: 1000 + i, linkType: 101, data }));
  });
  events.push(...dec.finish());
  return events;
}

const X = pattern(3000, 11);
const Y = pattern(1000, 12);
const ISN_C = 1000;
const ISN_S = 50000;

function handshake(isnC = ISN_C, isnS = ISN_S): Seg[] {
  return [
    { from: 'c', seq: isnC, flags: F.SYN },
    { from: 's', seq: isnS, ack: isnC + 1, flags: F.SYN },
    { from: 'c', seq: isnC + 1, ack: isnS + 1, flags: 0 },
  ];
}

/** Client data segment covering X[a, b). */
function cd(a: number, b: number, ack = ISN_S + 1, isn = ISN_C): Seg {
  return { from: 'c', seq: (isn + 1 + a) >>> 0, ack, flags: F.PSH, data: X.subarray(a, b) };
}

t.test('in-order exchange with FIN on both sides', async (t) => {
  const ev = run([
    ...handshake(),
    cd(0, 1000),
    cd(1000, 3000),
    { from: 's', seq: ISN_S + 1, ack: ISN_C + 3001, flags: 0, data: Y },
    { from: 'c', seq: ISN_C + 3001, ack: ISN_S + 1001, flags: F.FIN },
    { from: 's', seq: ISN_S + 1001, ack: ISN_C + 3002, flags: F.FIN },
    { from: 'c', seq: ISN_C + 3002, ack: ISN_S + 1002, flags: 0 }, // final ACK after close: ignored
  ]);
  const open = ev.filter((e) => e.kind === 'open');
  t.equal(open.length, 1);
  const conn = open[0]!.kind === 'open' ? open[0]!.conn : undefined;
  t.same(conn?.client, C);
  t.same(conn?.server, S);
  t.equal(conn?.handshakeSeen, true);
  const streams = collect(ev);
  t.same([...streams.get(0)!.toServer], [...X]);
  t.same([...streams.get(0)!.toClient], [...Y]);
  t.same(streams.get(0)!.gaps, []);
  t.same(streams.get(0)!.ends, ['toServer', 'toClient']);
  t.equal(streams.get(0)!.closed, 'fin');
  const close = ev.find((e) => e.kind === 'close');
  t.equal(close?.packetIndex, 7);
  t.equal(ev.at(-1)?.kind, 'close', 'nothing after close');
  const data = ev.filter((e) => e.kind === 'data');
  t.same(data.map((e) => (e.kind === 'data' ? [e.dir, e.offset, e.bytes.length, e.packetIndex, e.timestamp] : [])), [
    ['toServer', 0, 1000, 3, 1003],
    ['toServer', 1000, 2000, 4, 1004],
    ['toClient', 0, 1000, 5, 1005],
  ]);
});

t.test('out-of-order segments are delivered in order without gaps', async (t) => {
  const ev = run([...handshake(), cd(2000, 3000), cd(0, 1000), cd(1000, 2000)]);
  const s = collect(ev).get(0)!;
  t.same([...s.toServer], [...X]);
  t.same(s.gaps, []);
  t.equal(s.closed, 'eof');
  const data = ev.filter((e) => e.kind === 'data');
  t.same(data.map((e) => e.packetIndex), [4, 5, 3], 'held bytes keep the packet that carried them');
});

t.test('retransmissions and overlapping partial retransmits are delivered once', async (t) => {
  const ev = run([
    ...handshake(),
    cd(0, 1000),
    cd(0, 1000),
    cd(500, 1500),
    cd(2500, 3000),
    cd(1400, 2600),
    cd(1200, 1300),
    cd(2000, 2800),
  ]);
  const s = collect(ev).get(0)!;
  t.same([...s.toServer], [...X]);
  t.same(s.gaps, []);
});

t.test('first copy wins when a retransmission carries different bytes', async (t) => {
  const other = new Uint8Array(100).fill(0xee);
  const ev = run([
    ...handshake(),
    cd(0, 100),
    { from: 'c', seq: ISN_C + 1 + 50, ack: ISN_S + 1, flags: 0, data: other },
  ]);
  const s = collect(ev).get(0)!;
  t.same([...s.toServer], [...X.subarray(0, 100), ...other.subarray(50)]);
});

t.test('a hole the peer acknowledged is a gap; the stream continues', async (t) => {
  const ev = run([
    ...handshake(),
    cd(0, 1000),
    cd(2000, 3000), // 1000..2000 never captured
    { from: 's', seq: ISN_S + 1, ack: ISN_C + 3001, flags: 0 },
    cd(1000, 2000), // late copy after the gap was declared: ignored
  ]);
  const s = collect(ev).get(0)!;
  t.same(s.gaps, ['toServer@1000+1000']);
  t.same([...s.toServer], [...X.subarray(0, 1000), ...X.subarray(2000)]);
  const gap = ev.find((e) => e.kind === 'gap');
  t.equal(gap?.packetIndex, 5, 'reported when the ACK arrives');
  const kinds = ev.filter((e) => e.kind === 'data' || e.kind === 'gap').map((e) => e.kind);
  t.same(kinds, ['data', 'gap', 'data']);
});

t.test('a partly acknowledged hole is a gap up to the ACK only', async (t) => {
  const ev = run([
    ...handshake(),
    cd(0, 1000),
    cd(2000, 3000),
    { from: 's', seq: ISN_S + 1, ack: ISN_C + 1501, flags: 0 },
    cd(1500, 2000),
  ]);
  const s = collect(ev).get(0)!;
  t.same(s.gaps, ['toServer@1000+500']);
  t.same([...s.toServer], [...X.subarray(0, 1000), ...X.subarray(1500)]);
});

t.test('an unacknowledged hole is reported at the end of the capture', async (t) => {
  const ev = run([...handshake(), cd(0, 1000), cd(2000, 3000)]);
  const s = collect(ev).get(0)!;
  t.same(s.gaps, ['toServer@1000+1000']);
  t.equal(s.toServer.length, 2000);
  t.equal(s.closed, 'eof');
  const kinds = ev.map((e) => e.kind);
  t.same(kinds.slice(-3), ['gap', 'data', 'close']);
});

t.test('buffer limits force a gap', async (t) => {
  const ev = run([...handshake(), cd(0, 100), cd(200, 300), cd(400, 500), cd(600, 700)], { maxBufferedSegments: 2 });
  const gaps = ev.filter((e) => e.kind === 'gap');
  t.equal(gaps[0]?.packetIndex, 6, 'third held segment forces the first gap');
  t.same(collect(ev).get(0)!.gaps, ['toServer@100+100', 'toServer@300+100', 'toServer@500+100']);
  const ev2 = run([...handshake(), cd(0, 100), cd(200, 300), cd(400, 500)], { maxBufferedBytes: 150 });
  t.equal(ev2.find((e) => e.kind === 'gap')?.packetIndex, 5);
});

t.test('sequence numbers wrap around 2^32', async (t) => {
  const isn = 0xffffffff - 1500;
  const ack = ISN_S + 1;
  const ev = run([
    ...handshake(isn),
    cd(0, 1000, ack, isn),
    cd(2000, 3000, ack, isn), // seq past 2^32, held
    cd(1000, 2000, ack, isn), // crosses 2^32
    cd(1400, 1600, ack, isn), // retransmit across the wrap
    { from: 'c', seq: (isn + 3001) >>> 0, ack, flags: F.FIN },
  ]);
  const s = collect(ev).get(0)!;
  t.same([...s.toServer], [...X]);
  t.same(s.gaps, []);
  t.same(s.ends, ['toServer']);
  const offsets = ev.filter((e) => e.kind === 'data').map((e) => (e.kind === 'data' ? e.offset : -1));
  t.same(offsets, [0, 1000, 2000]);
});

t.test('capture starting mid-connection starts at the first sequence number seen', async (t) => {
  const ev = run([
    { from: 'c', seq: 777777, ack: 5, flags: 0, data: X.subarray(0, 100) },
    { from: 's', seq: 5, ack: 777877, flags: 0, data: Y.subarray(0, 10) },
    { from: 'c', seq: 777877, ack: 15, flags: 0, data: X.subarray(100, 200) },
  ]);
  const s = collect(ev).get(0)!;
  t.same([...s.toServer], [...X.subarray(0, 200)]);
  t.same([...s.toClient], [...Y.subarray(0, 10)]);
  const open = ev[0]!;
  t.ok(open.kind === 'open' && !open.conn.handshakeSeen && open.conn.client.port === 40000);
  // Roles guessed from a well-known port even when the server speaks first.
  const ev2 = run([{ from: 's', seq: 5, ack: 9, flags: 0, data: Y.subarray(0, 10) }], { s: { addr: '10.0.0.2', port: 111 } });
  t.ok(ev2[0]!.kind === 'open' && ev2[0]!.conn.server.port === 111);
  t.ok(ev2[1]!.kind === 'data' && ev2[1]!.dir === 'toClient');
  // A SYN-ACK seen first names the server.
  const ev3 = run([{ from: 's', seq: 5, ack: 9, flags: F.SYN }]);
  t.ok(ev3[0]!.kind === 'open' && ev3[0]!.conn.server.port === 2049 && ev3[0]!.conn.handshakeSeen);
});

t.test('the peer ACK starts a stream whose own segments were not seen yet', async (t) => {
  const ev = run([
    { from: 's', seq: 5, ack: 777777, flags: 0 },
    { from: 'c', seq: 777877, ack: 5, flags: 0, data: X.subarray(100, 200) },
    { from: 's', seq: 5, ack: 777977, flags: 0 },
  ]);
  t.same(collect(ev).get(0)!.gaps, ['toServer@0+100']);
});

t.test('FIN before the last data: end comes after the data', async (t) => {
  const ev = run([
    ...handshake(),
    cd(0, 1000),
    { from: 'c', seq: ISN_C + 2001, ack: ISN_S + 1, flags: F.FIN },
    cd(1000, 2000),
  ]);
  const kinds = ev.filter((e) => e.kind === 'data' || e.kind === 'end').map((e) => e.kind);
  t.same(kinds.slice(0, 3), ['data', 'data', 'end']);
  t.same(collect(ev).get(0)!.toServer.length, 2000);
});

t.test('FIN after an unfilled hole: gap once acknowledged, then end', async (t) => {
  const ev = run([
    ...handshake(),
    cd(0, 1000),
    { from: 'c', seq: ISN_C + 2001, ack: ISN_S + 1, flags: F.FIN },
    { from: 's', seq: ISN_S + 1, ack: ISN_C + 2002, flags: F.FIN },
  ]);
  const s = collect(ev).get(0)!;
  t.same(s.gaps, ['toServer@1000+1000']);
  t.same(s.ends, ['toServer', 'toClient']);
  t.equal(s.closed, 'fin');
});

t.test('data carried on the SYN (TCP Fast Open) is delivered', async (t) => {
  const ev = run([
    { from: 'c', seq: ISN_C, flags: F.SYN, data: X.subarray(0, 100) },
    { from: 's', seq: ISN_S, ack: ISN_C + 101, flags: F.SYN },
    cd(100, 200),
  ]);
  t.same([...collect(ev).get(0)!.toServer], [...X.subarray(0, 200)]);
});

t.test('a new SYN after FIN or RST starts a new connection on the same 4-tuple', async (t) => {
  const first = [
    ...handshake(),
    cd(0, 10),
    { from: 'c', seq: ISN_C + 11, ack: ISN_S + 1, flags: F.FIN },
    { from: 's', seq: ISN_S + 1, ack: ISN_C + 12, flags: F.FIN },
  ] as Seg[];
  const ev = run([
    ...first,
    { from: 'c', seq: ISN_C + 12, ack: ISN_S + 2, flags: 0 }, // straggler: ignored
    ...handshake(9000, 9100),
    { from: 'c', seq: 9001, ack: 9101, flags: 0, data: Y.subarray(0, 5) },
    { from: 's', seq: 9101, ack: 9006, flags: F.RST },
    { from: 'c', seq: 9006, ack: 9101, flags: 0, data: Y.subarray(5, 9) }, // after RST: ignored
    ...handshake(20000, 20100),
    { from: 'c', seq: 20001, ack: 20101, flags: 0, data: Y.subarray(0, 3) },
  ]);
  const streams = collect(ev);
  t.same([...streams.keys()], [0, 1, 2]);
  t.same([...streams.get(0)!.toServer], [...X.subarray(0, 10)]);
  t.equal(streams.get(0)!.closed, 'fin');
  t.same([...streams.get(1)!.toServer], [...Y.subarray(0, 5)]);
  t.equal(streams.get(1)!.closed, 'rst');
  t.same([...streams.get(2)!.toServer], [...Y.subarray(0, 3)]);
  t.equal(streams.get(2)!.closed, 'eof');
  t.equal(ev.filter((e) => e.kind === 'open').length, 3);
});

t.test('a SYN with a new ISN on an open connection closes it as reused', async (t) => {
  const ev = run([...handshake(), cd(0, 10), cd(20, 30), ...handshake(7000, 7100), { from: 'c', seq: 7001, ack: 7101, flags: 0, data: Y.subarray(0, 4) }]);
  const streams = collect(ev);
  t.equal(streams.get(0)!.closed, 'reuse');
  t.same(streams.get(0)!.gaps, ['toServer@10+10'], 'held data flushed with a gap on close');
  t.same([...streams.get(1)!.toServer], [...Y.subarray(0, 4)]);
  // A retransmitted SYN (same ISN) is not a new connection.
  const ev2 = run([handshake()[0]!, handshake()[0]!, ...handshake().slice(1), cd(0, 10)]);
  t.equal(ev2.filter((e) => e.kind === 'open').length, 1);
  t.same([...collect(ev2).get(0)!.toServer], [...X.subarray(0, 10)]);
});

t.test('RST flushes held data and closes; a lone RST opens nothing', async (t) => {
  const ev = run([...handshake(), cd(0, 10), cd(20, 30), { from: 's', seq: ISN_S + 1, flags: F.RST }]);
  const s = collect(ev).get(0)!;
  t.same(s.gaps, ['toServer@10+10']);
  t.equal(s.toServer.length, 20);
  t.equal(s.closed, 'rst');
  t.same(run([{ from: 's', seq: 1, flags: F.RST }]), []);
});

t.test('IPv6 connections', async (t) => {
  const c = { addr: '2001:db8::c', port: 1023 };
  const s = { addr: '2001:db8::5', port: 2049 };
  const ev = run([...handshake(), cd(0, 3000)], { v6: true, c, s });
  const open = ev[0]!;
  t.ok(open.kind === 'open' && open.conn.client.addr === '2001:db8::c' && open.conn.server.addr === '2001:db8::5');
  t.same([...collect(ev).get(0)!.toServer], [...X]);
});

t.test('TcpHalfStream on its own', async (t) => {
  const h = new TcpHalfStream();
  const m = (i: number) => ({ packetIndex: i, timestamp: i });
  t.equal(h.started, false);
  t.same(h.segment(100, true, false, new Uint8Array(0), m(0)), []);
  t.equal(h.synSeq, 100);
  const a = h.segment(111, false, false, Uint8Array.of(1, 2), m(1));
  t.same(a, []);
  t.equal(h.heldSegments, 1);
  const b = h.segment(101, false, false, new Uint8Array(10), m(2));
  t.same(b.map((o) => [o.kind, o.offset]), [['data', 0], ['data', 10]]);
  t.equal(h.offset, 12);
  const c = h.segment(113, false, true, new Uint8Array(0), m(3));
  t.same(c.map((o) => o.kind), ['fin']);
  t.equal(h.finished, true);
  t.same(h.flush(m(4)), []);
  const g = new TcpHalfStream();
  g.segment(0, false, false, Uint8Array.of(1), m(0));
  g.segment(10, false, false, Uint8Array.of(2), m(1));
  t.same(g.acknowledge(5, m(2)).map((o) => o.kind === 'gap' && [o.offset, o.length]), [[1, 4]]);
  t.same(g.acknowledge(0x7fffffff, m(3)), [], 'absurd ACK ignored');
  t.same(g.flush(m(4)).map((o) => o.kind), ['gap', 'data']);
});
