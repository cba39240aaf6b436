// The remote-call sockets of `oncrpc rpcbind -r`, on loopback: a forwarded call and its reply matched by
// xid, the answer to the caller sent from the port the call was forwarded from, a bound on calls forwarded
// at once (the oldest given up), timeouts, garbage on the socket, close().
import t, { type Test } from 'tap';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { AUTH_NONE } from '../../src/rpc/messages.js';
import { MAX_FORWARDS, RmtcallSockets } from '../../src/rpcbind/rmtcall.js';

/** A UDP service on 127.0.0.1: answers every call (SUCCESS, results = the arguments) unless `silent`. */
async function service(t: Test, silent = false): Promise<{ port: number; seen: RemoteInfo[]; sock: Socket }> {
  const sock = createSocket('udp4');
  const seen: RemoteInfo[] = [];
  sock.on('message', (m, rinfo) => {
    seen.push(rinfo);
    if (silent) return;
    const credLen = m.readUInt32BE(28);
    const verfAt = 32 + ((credLen + 3) & ~3);
    const argsAt = verfAt + 8 + ((m.readUInt32BE(verfAt + 4) + 3) & ~3);
    const head = Buffer.alloc(24);
    m.copy(head, 0, 0, 4);
    head.writeUInt32BE(1, 4); // REPLY; MSG_ACCEPTED, AUTH_NONE verifier, SUCCESS: zeros
    sock.send(Buffer.concat([head, m.subarray(argsAt)]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => sock.close());
  return { port: sock.address().port, seen, sock };
}

const call = (port: number, args = Buffer.from('hello!!!')) => ({ host: '127.0.0.1', port, prog: 0x20000099, vers: 1, proc: 7, cred: AUTH_NONE, args });

t.test('a forwarded call, its reply, and the answer from the same socket', async (t) => {
  const svc = await service(t);
  const r = new RmtcallSockets();
  t.teardown(() => r.close());
  const reply = await r.forward(call(svc.port), 5000);
  t.ok(reply, 'the reply came');
  t.equal(reply!.mtype, 1);
  t.equal(Buffer.from(reply!.body).toString(), 'hello!!!', 'its results: the arguments echoed');
  const from = svc.seen[0]!.port;
  t.not(from, 111);
  // The answer to the caller leaves from the port the call was forwarded from.
  const caller = createSocket('udp4');
  t.teardown(() => caller.close());
  await new Promise<void>((res) => caller.bind(0, '127.0.0.1', () => res()));
  const got = new Promise<RemoteInfo>((res) => caller.once('message', (_m, rinfo) => res(rinfo)));
  await r.answer('127.0.0.1', caller.address().port, Buffer.from('00000001', 'hex'));
  t.equal((await got).port, from, 'the caller sees the remote-call socket\'s port');
  t.equal(r.forwarding, 0, 'nothing left awaiting a reply');
});

t.test('no reply within the timeout: undefined; garbage on the socket is ignored', async (t) => {
  const svc = await service(t, true);
  const r = new RmtcallSockets();
  t.teardown(() => r.close());
  const p = r.forward(call(svc.port), 300);
  await new Promise((res) => setTimeout(res, 50));
  const from = svc.seen[0]!;
  svc.sock.send(Buffer.from('not an rpc message'), from.port, from.address);
  svc.sock.send(Buffer.alloc(3), from.port, from.address);
  t.equal(await p, undefined, 'given up after the timeout, no exception from the garbage');
  t.equal(r.forwarding, 0);
});

t.test(`at most ${MAX_FORWARDS} calls forwarded at once: the oldest are given up for new ones`, async (t) => {
  const svc = await service(t, true);
  const r = new RmtcallSockets();
  const extra = 6;
  const settled: (number | undefined)[] = [];
  const all = Array.from({ length: MAX_FORWARDS + extra }, (_, i) => r.forward(call(svc.port), 60_000).then((v) => void settled.push(v === undefined ? i : -1)));
  await new Promise((res) => setTimeout(res, 300));
  t.equal(r.forwarding, MAX_FORWARDS, 'the table is full, not larger');
  t.same(settled.sort((a, b) => a! - b!), Array.from({ length: extra }, (_, i) => i), `the ${extra} oldest resolved with no reply`);
  r.close();
  await Promise.all(all);
  t.equal(settled.length, MAX_FORWARDS + extra, 'close(): every call still forwarded ends');
  t.equal(r.forwarding, 0);
});
