// Client and server against each other on loopback: every transport (TCP over IPv4 and IPv6, UDP, unix
// path and abstract socket), typed methods from a .x loaded at run time, pipelining, every error outcome.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadX } from '../../src/codegen/interpret.js';
import { RpcClient } from '../../src/client/rpc-client.js';
import { RpcServer } from '../../src/server/rpc-server.js';
import { RpcReject } from '../../src/errors.js';
import { authSys } from '../../src/rpc/auth-sys.js';
import type { Endpoint } from '../../src/transport/uaddr.js';
import { handlers } from '../../fixtures/js/alltypes-handlers.mjs';
import { allTypesValue } from '../interop/alltypes.js';

const root = new URL('../../', import.meta.url).pathname;
const schema = await loadX(root + 'fixtures/x/alltypes.x');
const AT = schema.programs[0]!;
const dir = mkdtempSync(join(tmpdir(), 'oncrpc-loop-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

async function withServer(t: { teardown(f: () => void): void }, opts: ConstructorParameters<typeof RpcServer>[0] = {}) {
  const server = new RpcServer(opts).addProgram(AT, handlers as never);
  t.teardown(() => server.destroy());
  return server;
}

const where: [string, (s: RpcServer) => Promise<Endpoint>][] = [
  ['tcp 127.0.0.1', (s) => s.listen({ transport: 'tcp', host: '127.0.0.1' })],
  ['tcp ::1', (s) => s.listen({ transport: 'tcp', host: '::1' })],
  ['tcp dual-stack, reached over IPv4', async (s) => ({ ...(await s.listen({ transport: 'tcp' })), host: '127.0.0.1' }) as Endpoint],
  ['udp 127.0.0.1', (s) => s.listen({ transport: 'udp', host: '127.0.0.1' })],
  ['udp ::1', (s) => s.listen({ transport: 'udp', host: '::1' })],
  ['unix path', (s) => s.listen({ transport: 'unix', path: join(dir, 's.sock') })],
  ['unix abstract', (s) => s.listen({ transport: 'unix', path: `@oncrpc-test-${process.pid}` })],
];

for (const [label, listen] of where) {
  t.test(`every procedure over ${label}`, async (t) => {
    const server = await withServer(t);
    const ep = await listen(server);
    const client = new RpcClient(ep, { timeoutMs: 5000 });
    t.teardown(() => client.destroy());
    const at = client.bind(AT);
    const v = allTypesValue();
    t.same(await at.AT_ECHO(v), v, 'AT_ECHO gives the value back');
    t.equal(await at.AT_NULL(undefined), undefined);
    t.same(await at.AT_GETCHOICE(2), { kind: 2, number: 200 });
    t.same(await at.AT_GETCHOICE(4), { kind: 4, where: { x: 4, y: -4 } });
    t.same(await at.AT_GETCHOICE(5), { kind: 5 });
    t.same(await at.AT_GETCHOICE(9), { kind: 9, text: 'kind 9' });
    t.same(await at.AT_MKLIST(3), { value: 1, tag: 'n1', next: { value: 2, tag: 'n2', next: { value: 3, tag: 'n3', next: null } } });
    t.equal(await at.AT_MKLIST(0), null);
    t.equal(await at.AT_ECHONAME('hello'), 'hello');
    t.same(await at.AT_GETCOLOR(2), { c: 2, ratio: 0.75 });
    t.equal(await at.AT_NEGATE(true), false);
    t.equal(await at.AT_SUM([1, 2, -10, 0x7fffffff]), 2147483640n);
    const who = await at.AT_WHOAMI(undefined, { cred: authSys({ stamp: 7, machinename: 'lab', uid: 1000, gid: 100, gids: [1, 2] }) });
    t.same(who, { flavor: 1, stamp_seen: 1, uid: 1000, gid: 100, machine: 'lab', gids: [1, 2] }, 'per-call AUTH_SYS credential seen by the handler');
    t.same(await at.AT_WHOAMI(undefined), { flavor: 0, stamp_seen: 0, uid: 0, gid: 0, machine: '', gids: [] }, 'AUTH_NONE by default');
    if (ep.transport !== 'udp') {
      const big = new Uint8Array(1 << 20).map((_, i) => i & 0xff);
      t.same(await at.AT_BIGARG(big), { len: big.length, sum: big.reduce((a, b) => (a + b) >>> 0, 0) }, '1 MiB argument');
    }
    t.equal(server.stats.garbage, 0);
  });
}

t.test('pipelining: 2000 calls in flight on one connection, answered out of order, matched by xid', async (t) => {
  let n = 0;
  const server = new RpcServer().addProgram(AT, {
    ...(handlers as object),
    // Later calls finish first: replies come back in a different order than the calls went out.
    AT_GETCHOICE: async (k: number) => {
      n++;
      await new Promise((r) => setTimeout(r, (2000 - k) % 7));
      return { kind: k, text: `kind ${k}` };
    },
  } as never);
  t.teardown(() => server.destroy());
  const ep = await server.listen({ transport: 'tcp', host: '127.0.0.1' });
  const client = new RpcClient(ep);
  t.teardown(() => client.destroy());
  const at = client.bind(AT);
  const ks = Array.from({ length: 2000 }, (_, i) => i + 6);
  const res = await Promise.all(ks.map((k) => at.AT_GETCHOICE(k)));
  t.same(res.map((r) => (r as { kind: number }).kind), ks);
  t.equal(n, 2000);
  t.equal(client.stats.connects, 1, 'one connection');
});

t.test('error outcomes, each a typed error with libtirpc text', async (t) => {
  const server = await withServer(t);
  const other = { ...AT, vers: 3, version: 'V3', procs: {} };
  server.addProgram(other, {});
  const ep = await server.listen({ transport: 'tcp', host: '127.0.0.1' });
  const client = new RpcClient(ep, { timeoutMs: 3000 });
  t.teardown(() => client.destroy());
  const p = AT.procs['AT_NULL']!;
  await t.rejects(client.call(AT.prog + 1, 1, 0, undefined, p), { code: 'ERR_RPC_PROG_UNAVAIL', clntStat: 8, text: 'RPC: Program unavailable' });
  await t.rejects(client.call(AT.prog, 2, 0, undefined, p), { code: 'ERR_RPC_PROG_MISMATCH', low: 1, high: 3, text: 'RPC: Program/version mismatch; low version = 1, high version = 3' });
  await t.rejects(client.call(AT.prog, 1, 99, undefined, p), { code: 'ERR_RPC_PROC_UNAVAIL', text: 'RPC: Procedure unavailable' });
  await t.rejects(client.call(AT.prog, 3, 1, undefined, p), { code: 'ERR_RPC_PROC_UNAVAIL' }, 'a version without that procedure');
  t.equal(await client.call(AT.prog, 3, 0, undefined, p), undefined, 'NULL answered even when the .x has no procedure 0 (rpcgen does)');
  // AT_ECHO with a truncated argument: GARBAGE_ARGS.
  await t.rejects(client.callRaw(AT.prog, 1, 1, (w) => w.writeUint(1), () => 0), { code: 'ERR_RPC_GARBAGE_ARGS', text: "RPC: Server can't decode arguments" });
  // Unknown credential flavor: AUTH_REJECTEDCRED; AUTH_DH: AUTH_FAILED; bad AUTH_SYS: AUTH_BADCRED.
  const pr = (cred: { flavor: number; body: Uint8Array }) => client.call(AT.prog, 1, 0, undefined, p, { cred });
  await t.rejects(pr({ flavor: 99, body: new Uint8Array(0) }), { code: 'ERR_RPC_AUTH', authStat: 2, text: 'RPC: Authentication error; why = Server rejected credential' });
  await t.rejects(pr({ flavor: 3, body: new Uint8Array(8) }), { code: 'ERR_RPC_AUTH', authStat: 7 });
  await t.rejects(pr({ flavor: 1, body: new Uint8Array(3) }), { code: 'ERR_RPC_AUTH', authStat: 1 });
  t.equal(client.stats.connects, 1, 'error replies keep the connection');
});

t.test('handlers: RpcReject chooses the reply, a throw is SYSTEM_ERR, the auth hook sees AUTH_SYS', async (t) => {
  const server = new RpcServer({
    authenticate: (ctx) => (ctx.authSys?.uid === 666 ? 5 : undefined),
  }).addProgram(AT, {
    AT_NULL: () => undefined,
    AT_NEGATE: (b: boolean) => {
      if (b) throw new RpcReject({ acceptStat: 4 });
      throw new Error('boom');
    },
    AT_ECHONAME: () => {
      throw new RpcReject({ authStat: 5 });
    },
    AT_GETCHOICE: () => ({ kind: 1, number: 2 ** 40 }), // does not fit an int: SYSTEM_ERR
  } as never);
  t.teardown(() => server.destroy());
  const client = new RpcClient(await server.listen({ transport: 'tcp', host: '127.0.0.1' }));
  t.teardown(() => client.destroy());
  const at = client.bind(AT);
  await t.rejects(at.AT_NEGATE(true), { code: 'ERR_RPC_GARBAGE_ARGS' });
  await t.rejects(at.AT_NEGATE(false), { code: 'ERR_RPC_SYSTEM_ERR' });
  await t.rejects(at.AT_ECHONAME('x'), { code: 'ERR_RPC_AUTH', authStat: 5 });
  await t.rejects(at.AT_GETCHOICE(1), { code: 'ERR_RPC_SYSTEM_ERR' }, 'an unencodable result');
  await t.rejects(at.AT_NULL(undefined, { cred: authSys({ stamp: 1, machinename: 'm', uid: 666, gid: 0, gids: [] }) }), { code: 'ERR_RPC_AUTH', authStat: 5, text: /too weak/ });
  t.equal(await at.AT_NULL(undefined), undefined);
  t.equal(server.stats.handlerErrors, 2);
});

t.test('timeouts, AbortSignal, connection lost, reconnect, connect refused', async (t) => {
  const gate: (() => void)[] = [];
  const server = new RpcServer().addProgram(AT, {
    AT_NULL: () => undefined,
    AT_ECHONAME: (s: string) => new Promise((r) => gate.push(() => r(s))),
    AT_NEGATE: (_b: boolean, ctx: { signal: AbortSignal }) =>
      new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))),
  } as never);
  t.teardown(() => server.destroy());
  const ep = await server.listen({ transport: 'tcp', host: '127.0.0.1' });
  const client = new RpcClient(ep);
  t.teardown(() => client.destroy());
  const at = client.bind(AT);
  const t0 = Date.now();
  await t.rejects(at.AT_ECHONAME('x', { timeoutMs: 100 }), { code: 'ERR_RPC_TIMEOUT', text: 'RPC: Timed out' });
  t.ok(Date.now() - t0 >= 90, 'the timeout fired after its time');
  const ac = new AbortController();
  const p = at.AT_ECHONAME('y', { signal: ac.signal });
  setTimeout(() => ac.abort(new Error('user gave up')), 20);
  await t.rejects(p, { code: 'ERR_RPC_ABORTED', cause: { message: 'user gave up' } });
  await t.rejects(at.AT_NULL(undefined, { signal: AbortSignal.abort() }), { code: 'ERR_RPC_ABORTED' }, 'already aborted');
  // Three calls in flight, then the server drops the connection: all three fail at once.
  const inflight = [at.AT_ECHONAME('a'), at.AT_ECHONAME('b'), at.AT_NEGATE(true)];
  await new Promise((r) => setTimeout(r, 50));
  const connsBefore = client.stats.connects;
  server.destroy();
  const results = await Promise.allSettled(inflight);
  t.same(results.map((r) => r.status === 'rejected' && (r.reason as { code: string }).code), ['ERR_RPC_CONNECTION_LOST', 'ERR_RPC_CONNECTION_LOST', 'ERR_RPC_CONNECTION_LOST']);
  await t.rejects(at.AT_NULL(undefined), { code: 'ERR_RPC_CANT_CONNECT' }, 'nothing listens any more');
  // A new server on the same port: the next call reconnects.
  const again = new RpcServer().addProgram(AT, handlers as never);
  t.teardown(() => again.destroy());
  await again.listen({ transport: 'tcp', host: '127.0.0.1', port: (ep as { port: number }).port });
  t.equal(await at.AT_NEGATE(false), true, 'reconnected');
  t.ok(client.stats.connects > connsBefore);
  void gate;
});

t.test('a client disconnecting aborts its handler (orphan by extermination); a deadline aborts it too', async (t) => {
  let seen: AbortSignal | undefined;
  const aborted = new Promise<unknown>((resolve) => {
    const server = new RpcServer({ callTimeoutMs: 0 }).addProgram(AT, {
      AT_ECHONAME: (_s: string, ctx: { signal: AbortSignal }) => {
        seen = ctx.signal;
        ctx.signal.addEventListener('abort', () => resolve(ctx.signal.reason));
        return new Promise(() => {});
      },
    } as never);
    t.teardown(() => server.destroy());
    void server.listen({ transport: 'tcp', host: '127.0.0.1' }).then((ep) => {
      const client = new RpcClient(ep);
      client.bind(AT).AT_ECHONAME('x').catch(() => {});
      setTimeout(() => client.destroy(), 50);
    });
  });
  t.match(await aborted, { message: /connection closed/ });
  t.ok(seen?.aborted);

  const server = new RpcServer({ callTimeoutMs: 50 }).addProgram(AT, {
    AT_ECHONAME: (_s: string, ctx: { signal: AbortSignal }) => new Promise((r) => ctx.signal.addEventListener('abort', () => r('late'))),
  } as never);
  t.teardown(() => server.destroy());
  const client = new RpcClient(await server.listen({ transport: 'tcp', host: '127.0.0.1' }));
  t.teardown(() => client.destroy());
  await t.rejects(client.bind(AT).AT_ECHONAME('x', { timeoutMs: 300 }), { code: 'ERR_RPC_TIMEOUT' }, 'an expired call is not answered');
  t.equal(server.stats.orphans, 1);
});

t.test('close() is graceful: calls in progress finish and are answered', async (t) => {
  const server = new RpcServer().addProgram(AT, {
    AT_ECHONAME: (s: string) => new Promise((r) => setTimeout(() => r(s), 100)),
  } as never);
  const ep = await server.listen({ transport: 'tcp', host: '127.0.0.1' });
  const client = new RpcClient(ep);
  t.teardown(() => client.destroy());
  const p = client.bind(AT).AT_ECHONAME('done');
  await new Promise((r) => setTimeout(r, 20));
  const closed = server.close();
  t.equal(await p, 'done');
  await closed;
  await t.rejects(new RpcClient(ep, { timeoutMs: 1000 }).bind(AT).AT_ECHONAME('x'), { code: 'ERR_RPC_CANT_CONNECT' }, 'no longer listening');
  // client.close() waits for its calls too
  const c2 = new RpcClient(ep);
  await c2.close();
  await t.rejects(c2.bind(AT).AT_NULL(undefined), { code: 'ERR_RPC_CLOSED' });
});
