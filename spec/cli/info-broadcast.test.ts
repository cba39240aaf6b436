// rpcBroadcast (src/client/broadcast.ts), the clnt_broadcast of `oncrpc info -b`, against a fake
// rpcbind on loopback: both remote-call packets go out (rpcbind v3 CALLIT, portmap v2 CALLIT with
// xid+1), every reply is reported with its responder and decoded result, errors and strangers are
// passed over, the packets are sent again after each silent wait, the deadline and the abort signal
// end it, the callback can stop it, and no interface means libtirpc's RPC_UNKNOWNPROTO.
import t from 'tap';
import { createSocket, type Socket } from 'node:dgram';
import { broadcastTargets, rpcBroadcast, type BroadcastReply, type BroadcastTarget } from '../../src/client/broadcast.js';
import { readRpcMessage, writeReplyHeader } from '../../src/rpc/header.js';
import { AUTH_NONE } from '../../src/rpc/messages.js';
import { XdrReader } from '../../src/xdr/reader.js';
import { XdrWriter } from '../../src/xdr/writer.js';

interface Seen {
  prog: number;
  vers: number;
  proc: number;
  cred: number;
  args: { prog: number; vers: number; proc: number; body: number };
}

/** A UDP "rpcbind" on 127.0.0.1 that answers CALLIT (v2 and v3) with `answer`, or not at all. */
async function fakeRpcbind(t: { teardown(f: () => void): void }, answer: 'ok' | 'silent' | 'errors'): Promise<{ port: number; seen: Seen[] }> {
  const sock: Socket = createSocket('udp4');
  const seen: Seen[] = [];
  sock.on('message', (msg, rinfo) => {
    const m = readRpcMessage(new XdrReader(msg));
    if (m.mtype !== 0) return;
    const r = new XdrReader(m.body);
    const [prog, vers, proc, inner] = [r.readUint(), r.readUint(), r.readUint(), r.readOpaque()];
    const args = { prog, vers, proc, body: inner.length >= 4 ? new XdrReader(inner).readUint() : 0 };
    seen.push({ prog: m.prog, vers: m.vers, proc: m.proc, cred: m.cred.flavor, args });
    if (answer === 'silent') return;
    const send = (w: XdrWriter): void => void sock.send(w.toBytes(), rinfo.port, rinfo.address);
    if (answer === 'errors') {
      // A PROG_UNAVAIL reply and a reply to a stranger's xid: both passed over.
      const e = new XdrWriter();
      writeReplyHeader(e, { xid: m.xid, mtype: 1, stat: 0, verf: AUTH_NONE, acceptStat: 1 });
      send(e);
      const s = new XdrWriter();
      writeReplyHeader(s, { xid: (m.xid + 7) >>> 0, mtype: 1, stat: 0, verf: AUTH_NONE, acceptStat: 0 });
      s.writeString('127.0.0.1.0.1');
      s.writeOpaque(new Uint8Array(0));
      send(s);
      return;
    }
    const w = new XdrWriter();
    writeReplyHeader(w, { xid: m.xid, mtype: 1, stat: 0, verf: AUTH_NONE, acceptStat: 0 });
    const res = new XdrWriter();
    res.writeUint(args.body * 2);
    if (m.vers === 2) w.writeUint(2049); // call_result: the port, then the results
    else w.writeString('127.0.0.1.8.1'); // rmtcallres: the universal address, then the results
    w.writeOpaque(res.toBytes());
    send(w);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  t.teardown(() => sock.close());
  return { port: sock.address().port, seen };
}

const TARGET: BroadcastTarget[] = [{ netid: 'udp', address: '127.0.0.1', interface: 'lo' }];
const args21 = (w: XdrWriter): void => w.writeUint(21);
const readInt = (r: XdrReader): number => r.readUint();

t.test('every reply is reported: rpcbind v3 and portmap v2, responder and results', async (t) => {
  const { port, seen } = await fakeRpcbind(t, 'ok');
  const replies: BroadcastReply<number>[] = [];
  const res = await rpcBroadcast({ prog: 541089920, vers: 1, proc: 3, writeArgs: args21, readResult: readInt, onReply: (r) => void replies.push(r), targets: TARGET, port, initialWaitMs: 150, maxWaitMs: 300 });
  t.equal(res.status, 'timedout', 'the normal end: the waits ran out');
  t.same(seen.slice(0, 2).map((s) => [s.prog, s.vers, s.proc]), [[100000, 3, 5], [100000, 2, 5]], 'CALLIT v3, then CALLIT v2');
  t.same(seen[0]!.args, { prog: 541089920, vers: 1, proc: 3, body: 21 }, 'the call inside');
  t.equal(seen[0]!.cred, 1, 'AUTH_SYS, as libtirpc');
  t.equal(seen.length, 4, 'sent again after the first silent wait (150 ms, then 300 ms)');
  t.equal(res.replies, 4);
  const byVia = replies.filter((r) => r.via === 'rpcbind');
  t.same(byVia.map((r) => [r.uaddr, r.address, r.port, r.result, r.netid]), [['127.0.0.1.8.1', '127.0.0.1', 2049, 42, 'udp'], ['127.0.0.1.8.1', '127.0.0.1', 2049, 42, 'udp']]);
  const pm = replies.filter((r) => r.via === 'portmap');
  t.same(pm.map((r) => [r.uaddr, r.port, r.from.port]), [['127.0.0.1.8.1', 2049, port], ['127.0.0.1.8.1', 2049, port]], 'portmap: the sender, with the port it reported');
  t.ok(replies.every((r) => r.elapsedMs >= 0 && r.elapsedMs < 2000));
});

t.test('the callback stops it; the deadline and the signal end it', async (t) => {
  const { port } = await fakeRpcbind(t, 'ok');
  const stop = await rpcBroadcast({ prog: 1, vers: 1, proc: 0, onReply: () => true, targets: TARGET, port });
  t.same(stop, { status: 'success', replies: 1 });
  const silent = await fakeRpcbind(t, 'silent');
  const t0 = Date.now();
  const dl = await rpcBroadcast({ prog: 1, vers: 1, proc: 0, onReply: () => false, targets: TARGET, port: silent.port, deadlineMs: 200 });
  t.same(dl, { status: 'timedout', replies: 0 });
  t.ok(Date.now() - t0 < 1500, 'the deadline (200 ms) ends it, not the 4 s wait');
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  const ab = await rpcBroadcast({ prog: 1, vers: 1, proc: 0, onReply: () => false, targets: TARGET, port: silent.port, signal: ac.signal });
  t.equal(ab.status, 'timedout');
});

t.test('error replies and strangers are passed over; no interface is RPC_UNKNOWNPROTO', async (t) => {
  const { port } = await fakeRpcbind(t, 'errors');
  const got: unknown[] = [];
  const r = await rpcBroadcast({ prog: 1, vers: 1, proc: 0, onReply: (x) => void got.push(x), targets: TARGET, port, initialWaitMs: 100, maxWaitMs: 100 });
  t.same(r, { status: 'timedout', replies: 0 });
  t.same(await rpcBroadcast({ prog: 1, vers: 1, proc: 0, onReply: () => true, targets: [] }), { status: 'unknownproto', replies: 0 });
  for (const target of broadcastTargets()) {
    t.not(target.interface, 'lo', 'loopback has neither IFF_BROADCAST nor IFF_MULTICAST');
    t.match(target.address, target.netid === 'udp' ? /^\d+\.\d+\.\d+\.\d+$/ : /^ff02::202%/);
  }
});
