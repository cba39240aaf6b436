// The tracer on damaged captures: only PcapError escapes; everything else is reported, never thrown.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { traceRpc } from '../../src/trace/index.js';
import { decodeFlows } from '../../src/pcap/index.js';
import { PcapError } from '../../src/errors.js';
import { Rng } from '../_helpers/hex.js';

const dir = new URL('../../fixtures/pcap/', import.meta.url).pathname;
const seeds = readdirSync(dir)
  .filter((f) => f.endsWith('.pcap') && !f.includes('bigarg'))
  .map((f) => new Uint8Array(readFileSync(dir + f)));

t.test('mutated captures never crash the tracer', async (t) => {
  const rng = new Rng(2024);
  let thrown = 0;
  let traced = 0;
  for (let i = 0; i < 3000; i++) {
    const b = rng.pick(seeds).slice();
    const mode = rng.int(3);
    if (mode === 0) for (let k = 1 + rng.int(8); k > 0; k--) b[rng.int(b.length)] = rng.u32() & 0xff;
    else if (mode === 1) for (let k = 1 + rng.int(4); k > 0; k--) b[24 + rng.int(b.length - 24)] = rng.u32() & 0xff; // packet data only
    try {
      traceRpc(mode === 2 ? b.subarray(0, rng.int(b.length)) : b);
      traced++;
    } catch (e) {
      if (!(e instanceof PcapError)) {
        t.fail(`case ${i}: ${String((e as Error).stack ?? e)}`);
        return;
      }
      thrown++;
    }
  }
  t.ok(traced > 0, `${traced} traced, ${thrown} rejected as malformed files`);
});

t.test('a reply is matched to its call only on the same endpoints', async (t) => {
  const { messages } = traceRpc(new Uint8Array(readFileSync(dir + 'rpcinfo-p.pcap')));
  for (const m of messages) {
    if (m.message?.mtype !== 1) continue;
    const call = messages[m.callN! - 1]!;
    t.equal(call.message?.xid, m.message.xid);
    t.same([call.src, call.dst], [m.dst, m.src]);
    t.equal(call.replyN, m.n);
  }
});

/** A classic little-endian pcap with only the packets `keep` accepts (by index). */
function filterPcap(file: Uint8Array, keep: (index: number) => boolean): Uint8Array {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (v.getUint32(0, true) !== 0xa1b2c3d4) throw new Error('test expects a little-endian microsecond pcap');
  const parts: Uint8Array[] = [file.subarray(0, 24)];
  for (let off = 24, i = 0; off < file.length; i++) {
    const len = v.getUint32(off + 8, true);
    if (keep(i)) parts.push(file.subarray(off, off + 16 + len));
    off += 16 + len;
  }
  return new Uint8Array(Buffer.concat(parts));
}

const sig = (m: { message?: { xid: number; mtype: number } | undefined }): string => `${m.message?.xid}/${m.message?.mtype}`;

t.test('a capture that starts mid-connection is resynchronised at a record boundary', async (t) => {
  const full = new Uint8Array(readFileSync(dir + 'c-tcp.pcap'));
  const all = traceRpc(full).messages.filter((m) => m.transport === 'tcp' && m.message?.mtype === 0 && m.message.prog === 0x20406080);
  t.ok(all.length >= 10);
  // Cut in the middle of the C client's connection: its SYN and first calls are gone.
  const cut = all[5]!.packetIndex;
  const { messages, notices } = traceRpc(filterPcap(full, (i) => i >= cut));
  const fullTcp = traceRpc(full).messages.filter((m) => m.transport === 'tcp' && m.packetIndex >= cut).map(sig);
  const got = messages.filter((m) => m.transport === 'tcp').map(sig);
  t.ok(got.length >= fullTcp.length - 2, `${got.length} of the ${fullTcp.length} messages after the cut found`);
  t.same(got, fullTcp.slice(fullTcp.length - got.length), 'they are the same messages, in order');
  t.same(messages.filter((m) => !m.message), [], 'no garbage reported as messages');
  t.ok(notices.every((n) => /record boundary/.test(n.message)), 'only resynchronisation notices');
});

t.test('after a packet lost from the capture, decoding resumes at the next record', async (t) => {
  const full = new Uint8Array(readFileSync(dir + 'c-tcp.pcap'));
  const before = traceRpc(full).messages;
  const calls = before.filter((m) => m.transport === 'tcp' && m.message?.mtype === 0 && m.message.prog === 0x20406080);
  const lost = calls[8]!;
  const { messages, notices } = traceRpc(filterPcap(full, (i) => i !== lost.packetIndex));
  t.match(notices.map((n) => n.message).join('\n'), /bytes missing from the capture/, 'the gap is reported');
  const after = before.filter((m) => m.packetIndex > lost.packetIndex).map(sig);
  const got = messages.map(sig);
  t.notOk(got.includes(sig(lost)), 'the lost call is not invented');
  const missing = after.filter((s) => !got.includes(s));
  t.ok(missing.length <= 1, `messages after the gap decoded (${after.length - missing.length} of ${after.length})`);
  t.same(messages.filter((m) => !m.message), [], 'no garbage reported as messages');
});

t.test('a capture that starts inside a 140 KB record skips to the next record boundary', async (t) => {
  const full = new Uint8Array(readFileSync(dir + 'c-bigarg-tcp.pcap'));
  const before = traceRpc(full).messages;
  const big = before.find((m) => m.message?.mtype === 0 && m.message.proc === 2)!;
  t.ok(big.fragments!.length > 1, 'the big call is a multi-fragment record');
  // The packets that carry the big call's bytes; start the capture at the second of them.
  const carrying = [...decodeFlows(full)]
    .flatMap((e) => (e.kind === 'data' && e.conn.id === big.connection && e.dir === 'toServer' ? [e.packetIndex] : []));
  t.ok(carrying.length >= 2);
  const cut = carrying[1]!;
  const { messages, notices } = traceRpc(filterPcap(full, (i) => i >= cut));
  t.match(notices.map((n) => n.message).join('\n'), /skipped \d+ bytes to find a record boundary/);
  const after = before.filter((m) => m.connection === big.connection && m.packetIndex >= cut && m !== big).map(sig);
  const got = messages.filter((m) => m.transport === 'tcp').map(sig);
  t.same(got, after, 'every later record of that connection is found, nothing invented');
});

const tcpSig = (r: { messages: Array<{ transport: string; message?: { xid: number; mtype: number } | undefined }> }): string[] =>
  r.messages.filter((m) => m.transport === 'tcp').map(sig);

t.test('a record over maxRecordSize is reported and passed over; the stream goes on after it', async (t) => {
  // The first record of a connection (multi-fragment, 140 KB): before, the whole direction was dropped silently.
  const big = new Uint8Array(readFileSync(dir + 'c-bigarg-tcp.pcap'));
  const full = traceRpc(big);
  const bigCall = full.messages.find((m) => m.message?.mtype === 0 && m.message.proc === 2)!;
  const capped = traceRpc(big, { maxRecordSize: 1000 });
  // The notice is dated by the packet where the record crossed the cap: its first one.
  const first = [...decodeFlows(big)].flatMap((e) => (e.kind === 'data' && e.conn.id === bigCall.connection && e.dir === 'toServer' ? [e] : []))[0]!;
  t.same(capped.notices.map((n) => [n.packetIndex, n.code, n.message]), [
    [first.packetIndex, 'ERR_RECORD_TOO_LARGE', `TCP ${bigCall.src.addr}:${bigCall.src.port} -> ${bigCall.dst.addr}:${bigCall.dst.port}: record of ${bigCall.record.length} bytes in 3 fragments exceeds the maximum of 1000; passed over`],
  ]);
  t.same(tcpSig(capped), tcpSig(full).filter((s) => s !== sig(bigCall)), 'every other message is still found');

  // Over the cap in the middle of a chunk that also carries records under it (3 calls in one segment).
  const frags = new Uint8Array(readFileSync(dir + 'c-frags-tcp.pcap'));
  const f = traceRpc(frags, { maxRecordSize: 42 });
  const over = traceRpc(frags).messages.filter((m) => m.transport === 'tcp' && m.record.length > 42);
  t.ok(over.length >= 3);
  t.same(f.notices.map((n) => n.message.replace(/^.*: record/, 'record')), over.map((m) => `record of ${m.record.length} bytes${m.fragments!.length > 1 ? ` in ${m.fragments!.length} fragments` : ''} exceeds the maximum of 42; passed over`));
  t.same(tcpSig(f), tcpSig(traceRpc(frags)).filter((s) => !over.map(sig).includes(s)));
  t.same(f.messages.filter((m) => !m.message), [], 'nothing reported as malformed');

  // Found while resynchronising (the capture starts at the oversized record).
  const ctcp = new Uint8Array(readFileSync(dir + 'c-tcp.pcap'));
  const large = traceRpc(ctcp).messages.find((m) => m.transport === 'tcp' && m.record.length > 1000)!;
  const cut = filterPcap(ctcp, (i) => i >= large.packetIndex);
  const r = traceRpc(cut, { maxRecordSize: 1000 });
  t.match(r.notices, [{ code: 'ERR_RECORD_TOO_LARGE', message: new RegExp(`: record of ${large.record.length} bytes exceeds the maximum of 1000; passed over$`) }]);
  t.same(tcpSig(r), tcpSig(traceRpc(cut)).filter((s) => s !== sig(large)));
});

t.test('a record over maxRecordSize cut short by the end of the capture is reported', async (t) => {
  const big = new Uint8Array(readFileSync(dir + 'c-bigarg-tcp.pcap'));
  const bigCall = traceRpc(big).messages.find((m) => m.message?.mtype === 0 && m.message.proc === 2)!;
  const r = traceRpc(filterPcap(big, (i) => i <= bigCall.packetIndex - 1), { maxRecordSize: 1000 });
  t.match(r.notices.map((n) => n.message).join('\n'), /record of at least \d+ bytes in 2 fragments exceeds the maximum of 1000; its end is not in the capture/);
});
