// The daemon in this process, unprivileged (a high port, a socket and state dir in a temp dir): the
// extensions beyond rpcbind and the hardening — persist-on-change and kill -9, corrupt state files,
// a registrations file, the reaper, --spread, the UDP amplification limit, idle-connection eviction.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRpcbind, type LogEntry } from '../../src/rpcbind/daemon.js';
import { register, rpcbGetaddr } from '../../src/rpcbind/rpcb-client.js';
import { RpcClient } from '../../src/client/rpc-client.js';
import { RpcServer } from '../../src/server/rpc-server.js';
import { loadX } from '../../src/codegen/interpret.js';
import { PMAP_VERS_2 } from '../../src/rpcbind/pmap-prot.gen.js';
import { RPCBVERS_3, RPCBVERS4_4 } from '../../src/rpcbind/rpcb-prot.gen.js';
import { handlers } from '../../fixtures/js/alltypes-handlers.mjs';

const root = new URL('../../', import.meta.url).pathname;
const AT = (await loadX(root + 'fixtures/x/alltypes.x')).programs[0]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let nextPort = 20000 + (process.pid % 5000) * 2;
function lab(t: Tap) {
  const dir = mkdtempSync(join(tmpdir(), 'oncrpc-rpcbind-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, port: nextPort++, socket: join(dir, 'rpcbind.sock'), stateDir: join(dir, 'state') };
}
type Tap = { teardown(f: () => unknown): void };

t.test('servers register through the unix socket; lookups answer the merged address; DUMP lists them', async (t) => {
  const l = lab(t);
  const logs: LogEntry[] = [];
  const rb = await startRpcbind({ port: l.port, socket: l.socket, abstractSocket: false, log: (e) => logs.push(e) });
  t.teardown(() => rb.close());
  const server = new RpcServer().addProgram(AT, handlers as never);
  t.teardown(() => server.destroy());
  await server.listen({ transport: 'tcp' });
  await server.listen({ transport: 'udp', host: '127.0.0.1' });
  await register(server, { rpcbindSocket: l.socket, rpcbindPort: l.port });
  const tcp = (server.endpoints[0] as { port: number }).port;
  const ep = await rpcbGetaddr('127.0.0.1', AT.prog, 1, 'tcp', { rpcbindPort: l.port });
  t.same(ep, { transport: 'tcp', host: '127.0.0.1', port: tcp }, 'the wildcard registration merged to 127.0.0.1');
  const ep6 = await rpcbGetaddr('::1', AT.prog, 1, 'tcp', { rpcbindPort: l.port });
  t.same(ep6, { transport: 'tcp', host: '::1', port: tcp }, 'tcp6: ::1');
  const c = new RpcClient(ep);
  t.teardown(() => c.destroy());
  t.equal(await c.bind(AT).AT_NEGATE(true), false, 'reached through the daemon');
  const dump = new RpcClient({ transport: 'tcp', host: '127.0.0.1', port: l.port });
  t.teardown(() => dump.destroy());
  const list: string[] = [];
  for (let p = await dump.bind(RPCBVERS_3).RPCBPROC_DUMP(undefined); p; p = p.rpcb_next) list.push(`${p.rpcb_map.r_prog} ${p.rpcb_map.r_vers} ${p.rpcb_map.r_netid} ${p.rpcb_map.r_owner}`);
  t.ok(list.includes(`${AT.prog} 1 tcp6 superuser`) || list.includes(`${AT.prog} 1 tcp6 unknown`), 'registered for tcp6 too');
  t.equal(list.filter((x) => x.startsWith('100000 ')).length, 12, "the daemon's own 12 entries");
  const v2: string[] = [];
  for (let p = await dump.bind(PMAP_VERS_2).PMAPPROC_DUMP(undefined); p; p = p.next) v2.push(`${p.map.prog} ${p.map.vers} ${p.map.prot}`);
  t.ok(v2.includes(`${AT.prog} 1 6`) && v2.includes(`${AT.prog} 1 17`), 'the v2 view has tcp and udp');
  t.notOk(v2.some((x) => x.startsWith(`${AT.prog} 1 `) && !/ (6|17)$/.test(x)));
  await server.close();
  t.equal(await dump.bind(RPCBVERS4_4).RPCBPROC_GETADDR({ r_prog: AT.prog, r_vers: 1, r_netid: 'tcp', r_addr: '', r_owner: '' }), '', 'unregistered on close');
  t.ok(logs.some((e) => e.message === 'listening'), 'a startup line says where it listens');
});

t.test('-w: every change is persisted at once; kill -9 and a restart keep every registration', async (t) => {
  const l = lab(t);
  const script = `
    import { startRpcbind } from ${JSON.stringify(root + 'src/rpcbind/daemon.ts')};
    const rb = await startRpcbind({ port: ${l.port}, socket: ${JSON.stringify(l.socket)}, abstractSocket: false, warmStart: true, stateDir: ${JSON.stringify(l.stateDir)} });
    console.log('ready');`;
  const file = join(l.dir, 'daemon.mts');
  writeFileSync(file, script);
  const loader = process.execArgv.filter((a) => a.includes('@tapjs/typescript'));
  const child = spawn(process.execPath, [...loader, file], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' } });
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise<void>((r) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && r()));
  const c = new RpcClient({ transport: 'unix', path: l.socket });
  t.teardown(() => c.destroy());
  t.ok(await c.bind(RPCBVERS_3).RPCBPROC_SET({ r_prog: 400001, r_vers: 2, r_netid: 'udp', r_addr: '0.0.0.0.4.1', r_owner: '' }));
  t.ok(await c.bind(RPCBVERS_3).RPCBPROC_SET({ r_prog: 400001, r_vers: 2, r_netid: 'tcp6', r_addr: '::.4.2', r_owner: '' }));
  t.equal(statSync(join(l.stateDir, 'rpcbind.xdr')).mode & 0o777, 0o600, 'state written at once, mode 0600');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const rb = await startRpcbind({ port: l.port, socket: l.socket, abstractSocket: false, warmStart: true, stateDir: l.stateDir });
  t.teardown(() => rb.close());
  t.same(rb.registry.rbl.filter((e) => e.prog === 400001).map((e) => `${e.netid} ${e.addr}`), ['udp 0.0.0.0.4.1', 'tcp6 ::.4.2'], 'both registrations survived kill -9');
  t.same(rb.registry.pml.filter((e) => e.prog === 400001).map((e) => e.port), [0x401], 'and the v2 view');
  t.equal(rb.registry.rbl.filter((e) => e.prog === 100000).length, 12, 'its own entries once, first');
  t.equal(rb.registry.rbl[0]!.prog, 100000);
});

t.test('a corrupt or truncated state file is reported and ignored', async (t) => {
  const l = lab(t);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(l.stateDir, { recursive: true });
  writeFileSync(join(l.stateDir, 'rpcbind.xdr'), Buffer.from('00000001000000ff', 'hex'));
  writeFileSync(join(l.stateDir, 'portmap.xdr'), Buffer.from('garbage!'));
  const logs: LogEntry[] = [];
  const rb = await startRpcbind({ port: l.port, socket: l.socket, abstractSocket: false, warmStart: true, stateDir: l.stateDir, log: (e) => logs.push(e) });
  t.teardown(() => rb.close());
  t.equal(rb.registry.rbl.length, 12, 'started with its own entries only');
  t.equal(logs.filter((e) => e.level === 'warn' && /corrupt/.test(e.message)).length, 2, 'both files reported');
});

t.test('--registrations, --spread (rotation), --reap (dead servers removed)', async (t) => {
  const l = lab(t);
  const live = new RpcServer().addProgram(AT, handlers as never);
  t.teardown(() => live.destroy());
  const ep = (await live.listen({ transport: 'tcp', host: '127.0.0.1' })) as { port: number };
  const deadPort = 9; // nothing listens there
  const logs: LogEntry[] = [];
  const rb = await startRpcbind({
    port: l.port, socket: l.socket, abstractSocket: false, spread: true, reapSeconds: 1, log: (e) => logs.push(e),
    registrations: [
      { prog: AT.prog, vers: 1, netid: 'tcp', addr: `127.0.0.1.${ep.port >> 8}.${ep.port & 255}` },
      { prog: AT.prog, vers: 1, netid: 'tcp', addr: `127.0.0.1.0.${deadPort}` },
    ],
  });
  t.teardown(() => rb.close());
  const ask = () => rpcbGetaddr('127.0.0.1', AT.prog, 1, 'tcp', { rpcbindPort: l.port }).then((e) => (e as { port: number }).port);
  const before = [await ask(), await ask(), await ask(), await ask()];
  t.same(new Set(before), new Set([ep.port, deadPort]), 'both replicas answered in rotation');
  await sleep(2500);
  const after = [await ask(), await ask(), await ask()];
  t.same(after, [ep.port, ep.port, ep.port], 'the replica that does not answer NULL is skipped once the reaper saw it');
});

t.test('3000 idle connections: the daemon keeps answering (the longest-idle are closed at the cap)', async (t) => {
  const l = lab(t);
  const rb = await startRpcbind({ port: l.port, socket: l.socket, abstractSocket: false, maxConnections: 500 });
  t.teardown(() => rb.close());
  const socks: import("node:net").Socket[] = [];
  for (let i = 0; i < 3000; i++) {
    const s = connect(l.port, '127.0.0.1');
    s.on('error', () => {});
    socks.push(s);
    if (i % 200 === 0) await sleep(5);
  }
  t.teardown(() => socks.forEach((s) => s.destroy()));
  // The kernel's accept queue holds some connects back (SYN retries): wait for most to arrive.
  for (let i = 0; i < 100 && rb.server.stats.evictedConnections < 1000; i++) await sleep(50);
  const t0 = Date.now();
  const c = new RpcClient({ transport: 'tcp', host: '127.0.0.1', port: l.port }, { timeoutMs: 3000 });
  t.teardown(() => c.destroy());
  t.equal(await c.bind(PMAP_VERS_2).PMAPPROC_GETPORT({ prog: 100000, vers: 2, prot: 6, port: 0 }), l.port);
  t.ok(Date.now() - t0 < 1500, `answered in ${Date.now() - t0} ms`);
  t.ok(rb.server.stats.evictedConnections >= 1000, `${rb.server.stats.evictedConnections} idle connections evicted`);
  t.ok(existsSync(l.socket));
});
