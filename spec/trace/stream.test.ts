// The tracer packet by packet: the same messages and notices as traceRpc whatever the chunking, no view
// of a chunk kept past it, and bounded state: calls awaiting replies pruned when answered, after the reply
// window (with a notice) and beyond the cap; TCP connections closed when idle or too many; IP fragments capped.
import t from 'tap';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureReader, FlowDecoder, IpReassembler, type CaptureWarning, type FlowEvent } from '../../src/pcap/index.js';
import { RpcTracer, traceRpc, type CallInfo, type TraceNotice, type TraceOptions, type TracedMessage, type TracerState, type UnansweredReason } from '../../src/trace/index.js';
import { Rng } from '../_helpers/hex.js';
import { F, ethernet, ipv4, pcapFile, tcp, udp } from '../pcap/_helpers/build.js';
import { writeRpcCapture } from '../pcap/_helpers/rpc-capture.js';

const fixtures = new URL('../../fixtures/pcap/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'oncrpc-trace-stream-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** What a test compares of a message: everything printed, and the bytes (read while they are valid). */
function sig(m: TracedMessage): string {
  return JSON.stringify([m.n, m.packetIndex, m.timestamp, m.transport, m.src, m.dst, Buffer.from(m.record).toString('hex'), m.fragments, m.connection, m.message?.xid, m.message?.mtype, m.error, m.callN, m.duplicate ?? false, m.retransmits]);
}

interface Run {
  messages: string[];
  notices: TraceNotice[];
  unanswered: Array<[number, UnansweredReason]>;
  states: TracerState[];
}

/** The capture through CaptureReader + RpcTracer in chunks of `size`, each chunk scribbled over once read. */
function stream(bytes: Uint8Array, size: number, options: TraceOptions = {}): Run {
  const run: Run = { messages: [], notices: [], unanswered: [], states: [] };
  const tracer = new RpcTracer({
    ...options,
    onMessage: (m) => run.messages.push(sig(m)),
    onNotice: (n) => run.notices.push(n),
    onUnanswered: (c: CallInfo, why) => run.unanswered.push([c.n, why]),
  });
  const warnings: CaptureWarning[] = [];
  const reader = new CaptureReader({ onWarning: (w) => warnings.push(w) });
  for (let o = 0; o < bytes.length; o += size) {
    const chunk = bytes.slice(o, o + size);
    reader.push(chunk);
    for (let p = reader.next(); p; p = reader.next()) tracer.push(p);
    reader.compact();
    chunk.fill(0x5a); // whatever the tracer kept of this chunk must have been copied
    run.states.push(tracer.state);
  }
  reader.end();
  for (let p = reader.next(); p; p = reader.next()) tracer.push(p);
  for (const w of warnings) tracer.warning(w);
  tracer.finish();
  return run;
}

t.test('fixtures: chunked with scribbled chunks, the same messages and notices as traceRpc', async (t) => {
  for (const f of readdirSync(fixtures).filter((x) => x.endsWith('.pcap'))) {
    const bytes = new Uint8Array(readFileSync(fixtures + f));
    for (const maxRecordSize of [undefined, 1000]) {
      const opts = maxRecordSize ? { maxRecordSize } : {};
      const messages: string[] = [];
      const whole = traceRpc(bytes, { ...opts, onMessage: (m) => messages.push(sig(m)) });
      for (const size of [1, 97, 1500, 65536]) {
        if (size === 1 && bytes.length > 30000) continue;
        const r = stream(bytes, size, opts);
        t.same(r.messages, messages, `${f} max ${maxRecordSize} chunks of ${size}: messages`);
        t.same(r.notices, whole.notices, `${f}: notices`);
      }
    }
  }
});

t.test('a generated capture: chunked equals whole; calls that never got a reply are counted once', async (t) => {
  const file = join(dir, 'gen.pcap');
  const s = writeRpcCapture(file, { messages: 30000, seed: 5 });
  const bytes = new Uint8Array(readFileSync(file));
  const messages: string[] = [];
  const unanswered: number[] = [];
  traceRpc(bytes, { onMessage: (m) => messages.push(sig(m)), onUnanswered: (c) => unanswered.push(c.n) });
  t.equal(messages.length, s.calls + s.replies, 'every message written is found');
  t.equal(unanswered.length, s.calls - s.replies, 'unanswered: the calls written without a reply');
  const r = stream(bytes, 65536 + 13);
  t.same(r.messages, messages);
  t.same(r.unanswered.map(([n]) => n).sort((a, b) => a - b), [...unanswered].sort((a, b) => a - b));
  t.ok(r.unanswered.every(([, why]) => why === 'end'), 'the capture is shorter than the window: all at the end');
  const maxPending = Math.max(...r.states.map((x) => x.pendingCalls));
  t.ok(maxPending < 2000, `at most ${maxPending} calls awaiting replies at once`);
  t.ok(Math.max(...r.states.map((x) => x.streamBytes)) < 200_000, 'partial records held: a few');
  t.ok(Math.max(...r.states.map((x) => x.connections)) <= 8, 'open connections: those of the capture');
});

t.test('the reply window: a call unanswered that long is reported and forgotten; later replies have no call', async (t) => {
  const file = join(dir, 'window.pcap');
  // Most replies within 2 ms, a few after 30 ms; a window of 10 ms.
  writeRpcCapture(file, { messages: 20000, seed: 9, unanswered: 0.01, rtt: (u) => (u < 0.02 ? 30_000 + u * 1e5 : 20 + u * 2000) });
  const bytes = new Uint8Array(readFileSync(file));
  const r = stream(bytes, 100_000, { replyWindow: 0.01 });
  const windowNotices = r.notices.filter((n) => / got no reply within 0\.01 s$/.test(n.message));
  t.ok(windowNotices.length > 100, `${windowNotices.length} calls reported`);
  t.ok(windowNotices.every((n) => n.call && n.code === undefined && /^(UDP|TCP) \S+ -> \S+: call #\d+ \(xid 0x[0-9a-f]{8}\)/.test(n.message)));
  t.same(r.unanswered.filter(([, w]) => w === 'window').map(([n]) => n), windowNotices.map((n) => n.call!.n), 'each reported once, as it is given up on');
  const late = r.messages.map((m) => JSON.parse(m)).filter((m) => m[10] === 1 && m[12] === null);
  t.ok(late.length > 50, `${late.length} late replies shown without their call`);
  t.ok(Math.max(...r.states.map((x) => x.pendingCalls)) < 300, 'few calls held');
  // The unanswered and the late ones add up: every call is either answered in time, or counted unanswered once.
  const calls = r.messages.filter((m) => JSON.parse(m)[10] === 0).length;
  const answered = r.messages.filter((m) => { const x = JSON.parse(m); return x[10] === 1 && x[12] !== null && !x[13]; }).length;
  t.equal(answered + r.unanswered.length, calls);
});

t.test('maxPendingCalls: beyond it the oldest call is given up on', async (t) => {
  const file = join(dir, 'many.pcap');
  writeRpcCapture(file, { messages: 6000, seed: 3, rtt: () => 500_000 }); // every reply half a second late
  const bytes = new Uint8Array(readFileSync(file));
  const r = stream(bytes, 65536, { maxPendingCalls: 100 });
  t.ok(Math.max(...r.states.map((x) => x.pendingCalls)) <= 100);
  const limit = r.notices.filter((n) => /given up on: more than 100 calls were awaiting replies$/.test(n.message));
  t.ok(limit.length > 1000, `${limit.length} given up on`);
  t.equal(r.unanswered.filter(([, w]) => w === 'limit').length, limit.length);
});

/** A classic pcap of UDP datagrams between a client and a server, one a second. */
function udpCapture(payloads: Array<[toServer: boolean, bytes: Uint8Array]>): Uint8Array {
  return pcapFile({
    linkType: 1,
    packets: payloads.map(([toServer, p], i) => ({
      sec: 1000 + i,
      data: ethernet(0x0800, ipv4({ src: toServer ? '10.0.0.9' : '10.0.0.1', dst: toServer ? '10.0.0.1' : '10.0.0.9', protocol: 17, payload: toServer ? udp(800, 2049, p) : udp(2049, 800, p) })),
    })),
  });
}
const words = (...w: number[]): Uint8Array => {
  const b = new Uint8Array(w.length * 4);
  w.forEach((x, i) => new DataView(b.buffer).setUint32(i * 4, x >>> 0));
  return b;
};
const call = (xid: number): Uint8Array => words(xid, 0, 2, 100003, 3, 1, 0, 0, 0, 0);
const reply = (xid: number): Uint8Array => words(xid, 1, 0, 0, 0, 0);

t.test('retransmitted calls and duplicate replies', async (t) => {
  const cap = udpCapture([[true, call(7)], [true, call(7)], [false, reply(7)], [false, reply(7)], [true, call(8)], [false, reply(8)]]);
  const got: TracedMessage[] = [];
  const unanswered: CallInfo[] = [];
  traceRpc(cap, { onMessage: (m) => got.push({ ...m }), onUnanswered: (c) => unanswered.push(c) });
  t.same(got.map((m) => [m.n, m.retransmits, m.callN, m.duplicate ?? false]), [
    [1, undefined, undefined, false],
    [2, 1, undefined, false],
    [3, undefined, 2, false],
    [4, undefined, 2, true],
    [5, undefined, undefined, false],
    [6, undefined, 5, false],
  ]);
  t.match(got[2]!.call, { n: 2, xid: 7, prog: 100003, vers: 3, proc: 1, timestamp: 1001 });
  t.same(unanswered, [], 'a superseded call is not counted unanswered');
  const all = traceRpc(cap).messages;
  t.same(all.map((m) => m.replyN), [undefined, 3, undefined, undefined, 6, undefined], 'traceRpc links calls to their first reply');
});

t.test('TCP connections: closed when idle or too many; closed ones remembered a while', async (t) => {
  const seg = (i: number, port: number, flags: number, seq: number, payload = new Uint8Array(0)) => ({
    index: i, timestamp: i, linkType: 101,
    data: ipv4({ src: '10.0.0.9', dst: '10.0.0.1', protocol: 6, payload: tcp({ sp: port, dp: 2049, seq, flags, payload }) }),
  });
  const port = (c: { client: { port: number }; server: { port: number } }) => (c.client.port === 2049 ? c.server.port : c.client.port);
  const kinds = (evs: FlowEvent[]) => evs.map((e) => (e.kind === 'close' ? `close:${e.reason}:${port(e.conn)}` : e.kind === 'open' ? `open:${port(e.conn)}` : e.kind));
  const dec = new FlowDecoder({ maxConnections: 3, idleTimeout: 100 });
  const evs: FlowEvent[] = [];
  for (let i = 0; i < 4; i++) evs.push(...dec.push(seg(i, 1000 + i, F.SYN, 1)));
  t.same(kinds(evs), ['open:1000', 'open:1001', 'open:1002', 'close:evicted:1000', 'open:1003']);
  t.equal(dec.state.connections, 3);
  t.same(kinds(dec.push(seg(500, 1001, F.ACK, 2))), ['close:idle:1001', 'close:idle:1002', 'close:idle:1003', 'open:1001'], 'quiet for more than 100 s: closed; the packet starts a new connection');

  const d2 = new FlowDecoder({ maxClosedConnections: 2 });
  for (let i = 0; i < 3; i++) {
    d2.push(seg(10 * i, 2000 + i, F.SYN, 1));
    d2.push(seg(10 * i + 1, 2000 + i, F.RST, 2));
  }
  t.same(kinds(d2.push(seg(100, 2002, F.ACK, 2))), [], 'a late packet of a connection remembered as closed is ignored');
  t.same(kinds(d2.push(seg(101, 2000, F.ACK, 2))), ['open:2000'], 'the oldest closed one is forgotten: a new connection');
});

t.test('IP fragments: bytes held are capped', async (t) => {
  const r = new IpReassembler({ maxPendingBytes: 1000 });
  for (let i = 0; i < 10; i++) r.add(`d${i}`, { id: i, offset: 0, more: true }, new Uint8Array(300));
  t.ok(r.pendingBytes <= 1000, `${r.pendingBytes} bytes held`);
  t.equal(r.pending, 3);
  const kept = new Uint8Array(8).fill(1);
  r.add('x', { id: 99, offset: 0, more: true }, kept);
  kept.fill(9);
  const whole = r.add('x', { id: 99, offset: 8, more: false }, Uint8Array.of(2));
  t.same(whole && [...whole], [1, 1, 1, 1, 1, 1, 1, 1, 2], 'fragments are copied when held');
});

t.test('mutated captures in chunks never crash the tracer, and agree with traceRpc', async (t) => {
  const rng = new Rng(99);
  const seeds = readdirSync(fixtures).filter((f) => f.endsWith('.pcap') && !f.includes('bigarg')).map((f) => new Uint8Array(readFileSync(fixtures + f)));
  let compared = 0;
  for (let i = 0; i < 300; i++) {
    const b = rng.pick(seeds).slice();
    for (let k = 1 + rng.int(6); k > 0; k--) b[24 + rng.int(b.length - 24)] = rng.u32() & 0xff;
    const messages: string[] = [];
    let whole: ReturnType<typeof traceRpc>;
    try {
      whole = traceRpc(b, { onMessage: (m) => messages.push(sig(m)) });
    } catch {
      continue; // a malformed file: tested in spec/pcap
    }
    const r = stream(b, 1 + rng.int(2000));
    if (JSON.stringify(r.messages) !== JSON.stringify(messages) || JSON.stringify(r.notices) !== JSON.stringify(whole.notices)) {
      t.fail(`case ${i} differs`);
      return;
    }
    compared++;
  }
  t.ok(compared > 200, `${compared} mutated captures alike in chunks and whole`);
});
