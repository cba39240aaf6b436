// The runtime when things go wrong, on loopback (no C programs): a lossy network (at-least-once with
// retransmissions, at-most-once with the reply cache), a server killed in the middle of a call, and
// hostile peers on raw TCP sockets while a well-behaved client keeps calling.
import t, { type Test } from 'tap';
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { loadX } from '../../src/codegen/interpret.js';
import { RpcClient } from '../../src/client/rpc-client.js';
import { RpcServer, type ServerOptions } from '../../src/server/rpc-server.js';
import type { CallContext } from '../../src/rpc/program.js';
import type { Endpoint } from '../../src/transport/uaddr.js';
import { handlers } from '../../fixtures/js/alltypes-handlers.mjs';
import { Proc, ROOT, nodeTsArgs, nodeTsEnv } from '../_helpers/lab.js';
import { callMessage, recordOf, u32 } from '../_helpers/raw-rpc.js';
import { XdrWriter } from '../../src/xdr/writer.js';
import { allTypesValue, alltypes } from './alltypes.js';

const AT = (await loadX(join(ROOT, 'fixtures/x/alltypes.x'))).programs[0]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function serve(t: Test, options: ServerOptions = {}, extra: object = {}) {
  const server = new RpcServer(options).addProgram(AT, { ...(handlers as object), ...extra } as never);
  t.teardown(() => server.destroy());
  return server;
}

// ---- a lossy network ------------------------------------------------------------------------------

/**
 * A UDP relay between one client and a server that drops every `every`-th datagram in each direction
 * (deterministic: the 3rd, 6th, … call datagram and the 3rd, 6th, … reply datagram).
 */
class LossyRelay {
  readonly front: UdpSocket = createSocket('udp4');
  readonly back: UdpSocket = createSocket('udp4');
  readonly counts = { up: 0, down: 0, droppedUp: 0, droppedDown: 0 };
  #client: RemoteInfo | undefined;

  constructor(readonly serverPort: number, readonly every = 3) {
    this.front.on('message', (msg, rinfo) => {
      this.#client = rinfo;
      if (++this.counts.up % this.every === 0) return void this.counts.droppedUp++;
      this.back.send(msg, this.serverPort, '127.0.0.1');
    });
    this.back.on('message', (msg) => {
      if (++this.counts.down % this.every === 0) return void this.counts.droppedDown++;
      if (this.#client) this.front.send(msg, this.#client.port, this.#client.address);
    });
  }

  async listen(): Promise<Endpoint> {
    await new Promise<void>((r) => this.front.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => this.back.bind(0, '127.0.0.1', r));
    return { transport: 'udp', host: '127.0.0.1', port: this.front.address().port };
  }

  close(): void {
    this.front.close();
    this.back.close();
  }
}

t.test('a lossy UDP network: every call succeeds; the reply cache makes execution at-most-once', async (t) => {
  for (const replyCache of [false, true]) {
    t.test(replyCache ? 'with replyCache: exactly one execution per xid' : 'without the cache: some call runs twice', async (t) => {
      const runs = new Map<number, number>();
      const server = await serve(t, { replyCache }, {
        AT_GETCHOICE: (kind: number, ctx: CallContext) => {
          runs.set(ctx.xid, (runs.get(ctx.xid) ?? 0) + 1);
          return { kind, text: `kind ${kind}` };
        },
      });
      const ep = await server.listen({ transport: 'udp', host: '127.0.0.1' });
      const relay = new LossyRelay((ep as { port: number }).port);
      t.teardown(() => relay.close());
      const client = new RpcClient(await relay.listen(), { retransmitMs: 30, maxRetransmitMs: 120, timeoutMs: 10_000 });
      t.teardown(() => client.destroy());
      const at = client.bind(AT);
      const started = Date.now();
      // One at a time, then 20 at once.
      for (let k = 10; k < 40; k++) t.same(await at.AT_GETCHOICE(k), { kind: k, text: `kind ${k}` }, `call ${k - 9}`);
      const batch = await Promise.all(Array.from({ length: 20 }, (_, i) => at.AT_GETCHOICE(100 + i)));
      t.same(batch.map((r) => (r as { kind: number }).kind), Array.from({ length: 20 }, (_, i) => 100 + i));
      t.ok(Date.now() - started < 15_000, 'bounded in time');
      t.ok(relay.counts.droppedUp > 0 && relay.counts.droppedDown > 0, `the relay dropped ${relay.counts.droppedUp} calls and ${relay.counts.droppedDown} replies`);
      t.ok(client.stats.retransmits > 0, `every call succeeded (at-least-once), after ${client.stats.retransmits} retransmissions`);
      t.equal(runs.size, 50, 'every xid reached the handler');
      const twice = [...runs.values()].filter((n) => n > 1).length;
      if (replyCache) {
        t.equal(twice, 0, 'no xid ran twice (at-most-once)');
        t.ok(server.cache!.stats.replayed > 0, `the cache replayed ${server.cache!.stats.replayed} replies`);
      } else {
        t.ok(twice > 0, `${twice} xids ran more than once (a lost reply makes the retransmission run again)`);
      }
    });
  }
});

// ---- a server killed mid-call ---------------------------------------------------------------------

t.test('a server killed in the middle of a call: ERR_RPC_CONNECTION_LOST, not a hang', async (t) => {
  const child = new Proc(process.execPath, [...nodeTsArgs(), join(ROOT, 'spec/_helpers/alltypes-server-child.ts')], { env: nodeTsEnv() });
  t.teardown(() => child.stop());
  const port = Number((await child.waitFor(/PORT (\d+)/, 25_000))[1]);
  const client = new RpcClient({ transport: 'tcp', host: '127.0.0.1', port }, { timeoutMs: 20_000 });
  t.teardown(() => client.destroy());
  const at = client.bind(AT);
  t.equal(await at.AT_NEGATE(true), false, 'the server serves');
  const pending = [at.AT_ECHONAME('never answered'), at.AT_ECHONAME('nor this one')];
  const outcomes = pending.map((p) => p.then(() => 'resolved', (e: { code?: string }) => e.code));
  await child.waitFor(/CALL 6 \d+\nCALL 6 \d+/);
  const killedAt = Date.now();
  await child.stop('SIGKILL');
  t.strictSame(await Promise.all(outcomes), ['ERR_RPC_CONNECTION_LOST', 'ERR_RPC_CONNECTION_LOST'], 'both calls in flight fail with ERR_RPC_CONNECTION_LOST');
  t.ok(Date.now() - killedAt < 2000, `within ${Date.now() - killedAt} ms of the kill (the call deadline was 20 s)`);
  t.equal(client.inFlight, 0);
  await t.rejects(at.AT_NULL(undefined), { code: 'ERR_RPC_CANT_CONNECT' }, 'the next call: the server is gone');
});

// ---- hostile peers --------------------------------------------------------------------------------

/** A client calling over its own connection until stopped; reports how many calls succeeded and the failures. */
function wellBehaved(ep: Endpoint) {
  const client = new RpcClient(ep, { timeoutMs: 5000 });
  const at = client.bind(AT);
  let ok = 0;
  const failures: string[] = [];
  let stopped = false;
  const loop = (async () => {
    for (let k = 0; !stopped; k++) {
      try {
        const r = (await at.AT_GETCHOICE(k)) as { kind: number };
        if (r.kind === k) ok++;
        else failures.push(`AT_GETCHOICE(${k}) gave kind ${r.kind}`);
      } catch (e) {
        failures.push(String((e as Error).message ?? e));
      }
      await sleep(2);
    }
  })();
  return {
    get ok() {
      return ok;
    },
    async stop() {
      stopped = true;
      await loop;
      client.destroy();
      return { ok, failures };
    },
  };
}

interface RawSession {
  socket: Socket;
  /** Bytes received. */
  data: Buffer;
  /** Resolves when the server closed the connection (ms after connecting). */
  closed: Promise<number>;
  isClosed: boolean;
}

function rawConnect(port: number): Promise<RawSession> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const s: RawSession = { socket, data: Buffer.alloc(0), closed: undefined as never, isClosed: false };
    const t0 = Date.now();
    s.closed = new Promise((r) =>
      socket.on('close', () => {
        s.isClosed = true;
        r(Date.now() - t0);
      }),
    );
    socket.on('data', (d: Buffer) => (s.data = Buffer.concat([s.data, d])));
    socket.on('error', () => {});
    socket.once('connect', () => resolve(s));
    socket.once('error', reject);
  });
}

/** Resolves with the value of `p`, or `fallback` after `ms`. */
function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  return Promise.race([p, sleep(ms).then(() => fallback)]);
}

/** Reply records in `data` (complete ones): xid and reply words. */
function replyRecords(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  let frags: Buffer[] = [];
  while (at + 4 <= data.length) {
    const mark = data.readUInt32BE(at);
    const n = mark & 0x7fffffff;
    if (at + 4 + n > data.length) break;
    frags.push(data.subarray(at + 4, at + 4 + n));
    at += 4 + n;
    if (mark & 0x80000000) {
      out.push(Buffer.concat(frags));
      frags = [];
    }
  }
  return out;
}

t.test('hostile peers on raw TCP, while a well-behaved client keeps calling', async (t) => {
  t.test('garbage bytes: the connection is closed without a reply', async (t) => {
    const server = await serve(t);
    const ep = await server.listen({ transport: 'tcp', host: '127.0.0.1' });
    const port = (ep as { port: number }).port;
    const good = wellBehaved(ep);
    const garbage: [string, Buffer][] = [
      ['an HTTP request', Buffer.from('GET / HTTP/1.1\r\nHost: oncrpc\r\n\r\n')],
      ['a record of 32 bytes of 0xab', Buffer.concat([u32(0x80000020), Buffer.alloc(32, 0xab)])],
      ['a record of 8 zero bytes', Buffer.concat([u32(0x80000008), Buffer.alloc(8)])],
      ['4 KiB of 0xff', Buffer.alloc(4096, 0xff)],
    ];
    for (const [what, bytes] of garbage) {
      const s = await rawConnect(port);
      s.socket.write(bytes);
      const ms = await within(s.closed, 3000, -1);
      t.ok(ms >= 0, `${what}: closed (after ${ms} ms)`);
      t.equal(s.data.length, 0, `${what}: no reply`);
    }
    const { ok, failures } = await good.stop();
    t.strictSame(failures, [], `the well-behaved client was served throughout (${ok} calls)`);
    t.ok(ok > 0);
    t.ok(server.stats.garbage >= 2, 'records that are not calls counted as garbage');
  });

  t.test('an absurd record mark (2^31-1 bytes): closed at once, nothing buffered', async (t) => {
    const server = await serve(t);
    const ep = await server.listen({ transport: 'tcp', host: '127.0.0.1' });
    const port = (ep as { port: number }).port;
    const good = wellBehaved(ep);
    for (const mark of [0xffffffff, 0x7fffffff, 0x80000000 | (4 * 1024 * 1024 + 1)]) {
      const s = await rawConnect(port);
      s.socket.write(u32(mark));
      const ms = await within(s.closed, 3000, -1);
      t.ok(ms >= 0, `mark 0x${mark.toString(16)}: closed after ${ms} ms, before any data`);
      t.equal(s.data.length, 0);
    }
    const { ok, failures } = await good.stop();
    t.strictSame(failures, [], `the well-behaved client was served throughout (${ok} calls)`);
    t.ok(ok > 0);
  });

  t.test('slow-loris: partial records that never complete', async (t) => {
    for (const idleTimeoutMs of [0, 400]) {
      t.test(idleTimeoutMs ? `idleTimeoutMs ${idleTimeoutMs}: the lorises are closed` : 'default (no idle timeout, as libtirpc): the lorises stay, the others are served', async (t) => {
        const server = await serve(t, { idleTimeoutMs });
        const ep = await server.listen({ transport: 'tcp', host: '127.0.0.1' });
        const port = (ep as { port: number }).port;
        const good = wellBehaved(ep);
        // 50 connections, each announcing a 1 KiB record and then dribbling a byte every 100 ms.
        const lorises = await Promise.all(Array.from({ length: 50 }, () => rawConnect(port)));
        for (const s of lorises) s.socket.write(Buffer.concat([u32(0x80000400), callMessage(1).subarray(0, 8)]));
        const dribble = setInterval(() => {
          for (const s of lorises) if (!s.isClosed) s.socket.write(Buffer.from([0]));
        }, 100);
        t.teardown(() => clearInterval(dribble));
        await sleep(1500);
        clearInterval(dribble);
        const closed = lorises.filter((s) => s.isClosed).length;
        if (idleTimeoutMs) t.equal(closed, 50, 'every loris closed by the idle timeout, although it kept sending');
        else t.equal(closed, 0, 'the lorises are still connected (no reply: the record is not complete)');
        t.ok(lorises.every((s) => s.data.length === 0), 'no loris got a reply');
        const { ok, failures } = await good.stop();
        t.strictSame(failures, [], `the well-behaved client was served throughout (${ok} calls)`);
        t.ok(ok > 0);
        for (const s of lorises) s.socket.destroy();
      });
    }
  });

  t.test('10 000 pipelined calls on one connection: 10 000 replies, others still served', async (t) => {
    for (const slow of [false, true]) {
      t.test(slow ? 'a handler that takes 1 ms (the per-connection cap of 64 holds the rest back)' : 'immediate handlers', async (t) => {
        const server = await serve(t, {}, slow ? { AT_NEGATE: async (b: boolean) => (await sleep(1), !b) } : {});
        const ep = await server.listen({ transport: 'tcp', host: '127.0.0.1' });
        const port = (ep as { port: number }).port;
        const good = wellBehaved(ep);
        const N = 10_000;
        const calls = Array.from({ length: N }, (_, i) => recordOf(callMessage(0x50000000 + i, { proc: 8, args: u32(i & 1) })));
        const s = await rawConnect(port);
        const started = Date.now();
        s.socket.write(Buffer.concat(calls));
        while (replyRecords(s.data).length < N && !s.isClosed && Date.now() - started < 20_000) await sleep(20);
        const replies = replyRecords(s.data);
        t.equal(replies.length, N, `${replies.length} replies in ${Date.now() - started} ms`);
        const xids = new Set(replies.map((r) => r.readUInt32BE(0)));
        t.equal(xids.size, N, 'one reply per xid');
        t.ok(
          replies.every((r) => r.length === 28 && r.readUInt32BE(20) === 0 && r.readUInt32BE(24) === 1 - ((r.readUInt32BE(0) - 0x50000000) & 1)),
          'each a SUCCESS with the negation of its argument',
        );
        t.notOk(s.isClosed, 'the connection stays open');
        s.socket.destroy();
        const { ok, failures } = await good.stop();
        t.strictSame(failures, [], `the well-behaved client was served throughout (${ok} calls)`);
        t.ok(ok > 0);
      });
    }
  });

  // A peer that reads nothing must not make the server queue replies (and memory) without bound: the
  // server stops reading a connection whose replies do not drain.
  t.test('a peer that pipelines calls and never reads the replies: the server stops reading it', async (t) => {
    // The server side of the attacker's connection, to see what it keeps queued in memory.
    const accepted: Socket[] = [];
    const onSocket = (m: unknown) => accepted.push((m as { socket: Socket }).socket);
    subscribe('net.server.socket', onSocket);
    t.teardown(() => unsubscribe('net.server.socket', onSocket));
    let echoes = 0;
    const server = await serve(t, {}, { AT_ECHO: (v: unknown) => (echoes++, v) });
    const ep = await server.listen({ transport: 'tcp', host: '127.0.0.1' });
    const port = (ep as { port: number }).port;
    const good = wellBehaved(ep);
    // AT_ECHO of V (each reply as large as its call): 16 MiB of calls, more than the kernel's socket
    // buffers on both sides hold, and the replies never read.
    const w = new XdrWriter();
    alltypes.write(w, allTypesValue());
    const one = recordOf(callMessage(0x60000000, { proc: 1, args: w.finish() }));
    const block = Buffer.concat(Array.from({ length: 1000 }, () => one));
    const N = 1000 * Math.ceil((16 << 20) / block.length);
    const s = await rawConnect(port);
    s.socket.pause();
    const memory0 = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < N; i += 1000) s.socket.write(block);
    // Until the server stops answering (or 4 s).
    let last = -1;
    for (const t0 = Date.now(); echoes !== last && Date.now() - t0 < 4000; ) {
      last = echoes;
      await sleep(400);
    }
    const mine = accepted.find((a) => a.remotePort === s.socket.localPort)!;
    const queued = mine.writableLength;
    const grown = process.memoryUsage().arrayBuffers - memory0;
    t.comment(`the server answered ${echoes} of ${N} calls; ${queued} reply bytes queued in its memory; array buffers grew by ${(grown / 2 ** 20).toFixed(0)} MiB`);
    t.ok(echoes < N, `the server stopped answering (after ${echoes} of ${N})`);
    t.ok(queued <= 1 << 20, `at most 1 MiB of replies queued for the peer (${queued} bytes)`);
    t.ok(grown <= 64 << 20, `memory grew by at most 64 MiB (${(grown / 2 ** 20).toFixed(0)} MiB)`);
    s.socket.destroy();
    const { ok, failures } = await good.stop();
    t.strictSame(failures, [], `the well-behaved client was served throughout (${ok} calls)`);
    t.ok(ok > 0);
  });
});
